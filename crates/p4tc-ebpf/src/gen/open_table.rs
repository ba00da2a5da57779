//! Exact and ternary tables' entries maps, defined once the control's code is generated, and
//! their lookup `{cname}_find` (a ternary table's takes a (mask slot, masked key)).
//!
//! A table the datapath never adds entries to keeps them as open addressing in an mmap-able
//! array ([`crate::open_table`] has the layout and the control plane's side): one cache line
//! per probe and no bucket array, where the kernel's hash map costs a bucket and an element
//! that P4TC's per-entry state makes longer than a line. A table the datapath adds entries to
//! (`add_entry`) stays a kernel hash map: its inserts are atomic, and two packets of one new
//! flow must not create the entry twice. Which one a table is, is known only after the
//! control's code: hence the deferral.

use super::Gen;
use crate::open_table::{
    key_chunks, OpenLayout, DIRECT_PROBES, HASH_FOLD, HASH_MUL, HASH_SEED, SLOT_DELETED,
    SLOT_EMPTY, SLOT_LIVE,
};
use crate::{ExactTables, MapKind, MapRole};
use p4tc_ir::layout::TableKind;

impl Gen<'_> {
    /// Defines every exact and ternary table's entries map and its `{cname}_find`.
    pub(crate) fn define_entries_maps(&mut self) {
        for (h, entries) in std::mem::take(&mut self.pending_entries_maps) {
            let Some(info) = self.tables.get(&h).cloned() else {
                continue;
            };
            let cname = &info.cname;
            // A ternary table's entries are keyed by (mask slot, masked key).
            let (ktype, ksize) = match info.key.kind {
                TableKind::Ternary => (format!("struct {cname}_tkey"), 4 + info.key.size),
                _ => (format!("struct {cname}_key"), info.key.size),
            };
            // Tuple-space tables stay hash maps: a search makes up to 64 lookups inline, and
            // the verifier walks each lookup's probes (and its callback) at every one of them:
            // ternary_acl with test hooks went past the verifier's million instructions even
            // with two inline probes.
            let open = if self.exact_tables == ExactTables::Open
                && info.key.kind == TableKind::Exact
                && !self.datapath_adds.contains(&h)
            {
                OpenLayout::new(ksize, info.value.size, entries)
            } else {
                None
            };
            // A tuple-space search misses in most of the masks it tries, and a miss walks its
            // whole hash bucket; the kernel gives a hash map as many buckets as its
            // max_entries, rounded up to a power of two. So a ternary table's map has twice
            // `tentries` (the control plane counts the table's entries against `tentries`
            // itself, as a range takes several elements): ternary_acl at 64 masks took
            // 1.08-1.11 of its twin with `tentries` elements and 0.94-0.95 with twice as many;
            // the twin itself, sized 2,048 and then 4,096, took 1,400 ns and 1,190.
            let elements = match info.key.kind {
                TableKind::Ternary => entries.saturating_mul(2).next_power_of_two(),
                _ => entries,
            };
            match open {
                None => {
                    self.map_def(
                        cname,
                        "BPF_MAP_TYPE_HASH",
                        MapKind::Hash,
                        MapRole::Entries,
                        (&ktype, ksize),
                        (&format!("struct {cname}_value"), info.value.size),
                        elements,
                        None,
                        Some(h),
                        None,
                    );
                    self.maps_c.text.push_str(&format!(
                        "P4TC_INLINE struct {cname}_value *{cname}_find(const {ktype} *k)\n{{\n    return bpf_map_lookup_elem(&{cname}, k);\n}}\n\n"
                    ));
                }
                Some(layout) => {
                    self.types
                        .text
                        .push_str(&slot_struct(cname, &ktype, &layout));
                    self.map_def(
                        cname,
                        "BPF_MAP_TYPE_ARRAY",
                        MapKind::OpenTable,
                        MapRole::Entries,
                        ("u32", 4),
                        (&format!("struct {cname}_slot"), layout.slot_size),
                        layout.max_entries(),
                        Some("BPF_F_MMAPABLE"),
                        Some(h),
                        None,
                    );
                    self.maps_c
                        .text
                        .push_str(&find_function(cname, &ktype, &layout));
                    if let Some(t) = self.tables.get_mut(&h) {
                        t.open = Some(layout);
                    }
                }
            }
        }
    }
}

/// The slot: state word, key (zero padded to 8 bytes), value, padding to the slot size.
fn slot_struct(cname: &str, ktype: &str, layout: &OpenLayout) -> String {
    let key_pad = layout.value_offset() - layout.key_offset() - layout.key_size;
    let tail = layout.slot_size - layout.value_offset() - layout.value_size;
    let mut s = format!(
        "/* A slot of {cname} (open addressing; element 0 of the array is the header, its\n * first word the number of live entries). state: {SLOT_EMPTY} empty, {SLOT_LIVE} live, {SLOT_DELETED} deleted. */\nstruct {cname}_slot {{\n    u64 state;\n    {ktype} key;\n"
    );
    if key_pad > 0 {
        s.push_str(&format!("    u8 key_pad_[{key_pad}];\n"));
    }
    s.push_str(&format!("    struct {cname}_value value;\n"));
    if tail > 0 {
        s.push_str(&format!("    u8 pad_[{tail}];\n"));
    }
    s.push_str("};\n");
    s.push_str(&format!(
        "_Static_assert(sizeof(struct {cname}_slot) == {}, \"slot layout\");\n_Static_assert(__builtin_offsetof(struct {cname}_slot, value) == {}, \"slot layout\");\n\n",
        layout.slot_size,
        layout.value_offset()
    ));
    s
}

/// The C type loading a key chunk of `width` bytes.
fn chunk_type(width: u32) -> &'static str {
    match width {
        8 => "u64",
        4 => "u32",
        2 => "u16",
        _ => "u8",
    }
}

/// Probes `{cname}_find` makes inline; a longer run goes on in a `bpf_loop` callback. At
/// most half full, most lookups end within the first two or three probes, and the verifier
/// walks every inline probe wherever a lookup is.
const INLINE_PROBES: u32 = 4;

/// `{cname}_find`: the key's hash (or, for a direct layout, the key itself) picks the home
/// slot; probes go on from there, past deleted slots, to a live slot holding the key (a hit)
/// or an empty slot (a miss), at most `probe_limit` of them (the control plane places no
/// entry further).
fn find_function(cname: &str, ktype: &str, layout: &OpenLayout) -> String {
    let chunks = key_chunks(layout.key_size);
    let mut hash = String::new();
    let mut equal = Vec::new();
    for (off, width) in &chunks {
        let ty = chunk_type(*width);
        hash.push_str(&format!(
            "    h = (h ^ (u64)*(const {ty} *)(kb + {off})) * 0x{HASH_MUL:x}ULL;\n"
        ));
        equal.push(format!(
            "*(const {ty} *)(sk + {off}) == *(const {ty} *)(kb + {off})"
        ));
    }
    let equal = if equal.is_empty() {
        "1".to_string()
    } else {
        equal.join(" && ")
    };
    let mask = layout.slots() - 1;
    let inline = INLINE_PROBES.min(layout.probe_limit());
    let rest = layout.probe_limit() - inline;
    // One probe of slot `i`: a miss at an empty slot, a hit at a live one holding the key.
    let probe = |indent: &str, hit: &str, miss: &str| {
        format!(
            "{indent}struct {cname}_slot *s = bpf_map_lookup_elem(&{cname}, &i);\n\
             {indent}if (!s)\n\
             {indent}    {miss}\n\
             {indent}u64 st = P4TC_SLOT_STATE(s);\n\
             {indent}if (st == {SLOT_EMPTY})\n\
             {indent}    {miss}\n\
             {indent}const u8 *sk = (const u8 *)&s->key;\n\
             {indent}if (st == {SLOT_LIVE} && {equal})\n\
             {indent}    {hit}\n"
        )
    };
    let mut out = String::new();
    if rest > 0 {
        out.push_str(&format!(
            "/* {cname}_find's probes past the first {inline} (a bpf_loop callback). */\n\
             struct {cname}_probe {{\n    {ktype} key;\n    u32 home;\n    u32 found;\n}};\n\n\
             static long {cname}_probe_step(u32 p, void *ctx)\n{{\n\
             \x20   struct {cname}_probe *c = ctx;\n\
             \x20   const u8 *kb = (const u8 *)&c->key;\n\
             \x20   u32 i = 1 + ((c->home + p + {inline}) & {mask});\n\
             {}\
             \x20   return 0;\n}}\n\n",
            probe("    ", "{ c->found = i; return 1; }", "return 1;")
        ));
    }
    // A key of one or two bytes with two slots per value is its own index: no hash.
    let home = if layout.is_direct() {
        let ty = chunk_type(layout.key_size);
        format!("    u32 home = (u32)*(const {ty} *)kb * {DIRECT_PROBES}; /* its own index */\n")
    } else {
        format!(
            "    u64 h = 0x{HASH_SEED:x}ULL;\n\
             {hash}\
             \x20   h = (h ^ (h >> {HASH_FOLD})) * 0x{HASH_MUL:x}ULL;\n\
             \x20   u32 home = (u32)(h >> {shift});\n",
            shift = 64 - layout.log2_slots,
        )
    };
    out.push_str(&format!(
        "/* The live slot of {cname} holding *k, or 0. The key is 8-byte aligned (its variable\n\
         \x20* is declared so), so each chunk is one aligned load. */\n\
         P4TC_INLINE struct {cname}_value *{cname}_find(const {ktype} *k)\n{{\n\
         \x20   const u8 *kb = (const u8 *)k;\n\
         {home}\
         #pragma clang loop unroll(full)\n\
         \x20   for (u32 p = 0; p < {inline}; p++) {{\n\
         \x20       u32 i = 1 + ((home + p) & {mask});\n\
         {}\
         \x20   }}\n",
        probe("        ", "return &s->value;", "return 0;"),
    ));
    if rest > 0 {
        out.push_str(&format!(
            "    /* A longer run (rare): on in the callback. */\n\
             \x20   struct {cname}_probe c __attribute__((aligned(8))) = {{}};\n\
             \x20   __builtin_memcpy(&c.key, k, sizeof(c.key));\n\
             \x20   c.home = home;\n\
             \x20   bpf_loop({rest}, {cname}_probe_step, &c, 0);\n\
             \x20   if (!c.found)\n\
             \x20       return 0;\n\
             \x20   u32 f = c.found;\n\
             \x20   struct {cname}_slot *s = bpf_map_lookup_elem(&{cname}, &f);\n\
             \x20   return s ? &s->value : 0;\n}}\n\n"
        ));
    } else {
        out.push_str("    return 0;\n}\n\n");
    }
    out
}
