//! Tables: their maps, the entries the program gives, and the lookup at `apply`.

use std::collections::BTreeSet;

use num_bigint::BigUint;
use p4tc_ir::arena::Handle;
use p4tc_ir::introspection::Permissions;
use p4tc_ir::ir::{ActionArg, ActionCall, KeysetValue, PropertyValue, Table, Value};
use p4tc_ir::layout::{self, ExternLayout, MatchKind, TableKind};
use p4tc_ir::Span;

use super::expr::ArgSrc;
use super::out::{ident, Out};
use super::{unsupported, value_uint, Gen, Repr, Scope, TableCtx, TableInfo, R};
use crate::entry::{self, EntryHead, Head, ValueLayout, FLAG_CONST, FLAG_HAS_ACTION};
use crate::{CodegenError, InitKind, MapInit, MapKind, MapRole};

impl<'m> Gen<'m> {
    /// Declares every table's structs and maps, and the elements written at load time.
    pub(crate) fn declare_tables(&mut self) -> R<()> {
        let mut used = BTreeSet::new();
        let handles: Vec<Handle<Table>> = self.m.tables.iter().map(|(h, _)| h).collect();
        for (i, h) in handles.into_iter().enumerate() {
            let t = &self.m.tables[h];
            let span = self.m.tables.span(h);
            let intro = self.intro.tables.get(i).cloned().ok_or_else(|| {
                CodegenError::Malformed(format!("table `{}` has no introspection", t.name))
            })?;
            let key = layout::table_key_layout(self.m, h)?;
            let control = &self.m.block_types[t.control];
            let mut cname = ident(&format!("{}_{}", control.name, t.name));
            while !used.insert(cname.clone()) {
                cname.push('_');
            }
            let has_range = key.fields.iter().any(|f| f.match_kind == MatchKind::Range);
            let direct_counter = t
                .properties
                .iter()
                .find_map(|(n, v)| match (n.as_str(), v) {
                    ("pna_direct_counter", PropertyValue::Instance(i)) => Some(*i),
                    _ => None,
                });
            let direct_meter = t
                .properties
                .iter()
                .find_map(|(n, v)| match (n.as_str(), v) {
                    ("pna_direct_meter", PropertyValue::Instance(i)) => Some(*i),
                    _ => None,
                });
            let direct_counter = match direct_counter {
                Some(inst) => match layout::extern_layout(self.m, inst)? {
                    Some(ExternLayout::Counter(c)) => Some((inst, c)),
                    _ => return unsupported("a direct counter that is not a DirectCounter", span),
                },
                None => None,
            };

            // Parameter structs and the largest blob.
            let mut max_params = 0;
            let mut members = Vec::new();
            for ta in &t.actions {
                if let Some(st) = self.action_struct(ta.action)? {
                    let pl = layout::action_param_layout(self.m, ta.action)?;
                    max_params = max_params.max(pl.size);
                    let mn = self.action_cname(ta.action);
                    if !members.iter().any(|(n, _): &(String, String)| *n == mn) {
                        members.push((mn, st));
                    }
                }
            }
            let value = ValueLayout::new(
                Head::for_table(key.kind, self.m.actions.len() as u32),
                direct_counter.as_ref().map(|(_, c)| c.size),
                direct_meter.is_some(),
                max_params,
            );
            let permissions = Permissions::from_hex(&intro.permissions)
                .map(|p| p.bits())
                .unwrap_or(Permissions::TABLE.bits());

            // Key struct.
            let mut kt = format!("struct {cname}_key {{\n");
            if key.header_size > 0 {
                kt.push_str("    u32 prefixlen;\n");
            }
            let mut kused = BTreeSet::new();
            let mut knames = Vec::new();
            for f in key.placement() {
                let mut n = ident(&f.field.name);
                while !kused.insert(n.clone()) {
                    n.push('_');
                }
                knames.push((f.field.name.clone(), n.clone()));
                kt.push_str(&format!("    u8 {n}[{}];\n", f.field.size));
            }
            let used_bytes = key.header_size + key.data_size;
            if key.size > used_bytes {
                kt.push_str(&format!("    u8 _pad[{}];\n", key.size - used_bytes));
            }
            kt.push_str("};\n");
            kt.push_str(&format!(
                "_Static_assert(sizeof(struct {cname}_key) == {}, \"key layout\");\n\n",
                key.size
            ));
            // Value struct.
            kt.push_str(&format!(
                "struct {cname}_value {{\n    {} hdr;\n",
                value.head.c_type()
            ));
            // The members in the layout's order (entry.rs): the direct extern state before
            // the parameters after a full head, after them in an exact value, whose times
            // come last.
            let mut externs = String::new();
            if let Some((_, c)) = &direct_counter {
                let ct = super::counter_struct(&mut self.types, c);
                externs.push_str(&format!("    {ct} counter;\n"));
            }
            if direct_meter.is_some() {
                externs.push_str("    struct p4tc_meter meter;\n");
            }
            let mut params = String::new();
            if max_params > 0 {
                params.push_str("    union {\n");
                params.push_str(&format!("        u8 raw[{max_params}];\n"));
                for (n, st) in &members {
                    params.push_str(&format!("        {st} {n};\n"));
                }
                params.push_str("    } params;\n");
            }
            match value.head {
                Head::Full => {
                    kt.push_str(&externs);
                    kt.push_str(&params);
                }
                Head::Exact | Head::Prefix => {
                    kt.push_str(&params);
                    // The externs' u64s 8-aligned after the parameters, as the layout has
                    // them (the C compiler aligns them so).
                    kt.push_str(&externs);
                    kt.push_str(if value.head == Head::Prefix {
                        "    struct p4tc_entry_times_prefix tm;\n"
                    } else {
                        "    struct p4tc_entry_times tm;\n"
                    });
                }
            }
            kt.push_str("};\n");
            kt.push_str(&format!(
                "_Static_assert(sizeof(struct {cname}_value) == {}, \"value layout\");\n",
                value.size
            ));
            if value.head.times_last() {
                kt.push_str(&format!(
                    "_Static_assert(__builtin_offsetof(struct {cname}_value, tm) == {}, \"value layout\");\n",
                    value.times_offset
                ));
            }
            if let Some((at, _)) = value.counter {
                kt.push_str(&format!(
                    "_Static_assert(__builtin_offsetof(struct {cname}_value, counter) == {at}, \"value layout\");\n"
                ));
            }
            if let Some(at) = value.meter {
                kt.push_str(&format!(
                    "_Static_assert(__builtin_offsetof(struct {cname}_value, meter) == {at}, \"value layout\");\n"
                ));
            }
            kt.push('\n');
            if key.kind == TableKind::Ternary {
                kt.push_str(&format!(
                    "struct {cname}_tkey {{\n    u32 mask_index;\n    struct {cname}_key key;\n}};\n\n"
                ));
                kt.push_str(&format!(
                    "struct {cname}_mask {{\n    u32 used;\n    u32 min_prio; /* no entry with this mask has a lower priority value */\n    u32 rest_min; /* nor any entry under this slot or a later one */\n    struct {cname}_key mask;\n}};\n\n"
                ));
            }
            self.types.text.push_str(&kt);

            let kstruct = format!("struct {cname}_key");
            let vstruct = format!("struct {cname}_value");
            let tentries = intro.tentries.max(1);
            match key.kind {
                // Defined once the control's code is (`gen/open_table.rs`).
                TableKind::Exact => self.pending_entries_maps.push((h, tentries)),
                TableKind::Lpm => self.map_def(
                    &cname,
                    "BPF_MAP_TYPE_LPM_TRIE",
                    MapKind::LpmTrie,
                    MapRole::Entries,
                    (&kstruct, key.size),
                    (&vstruct, value.size),
                    tentries,
                    Some("BPF_F_NO_PREALLOC"),
                    Some(h),
                    None,
                ),
                TableKind::Ternary => {
                    // The (mask, masked key) entries: defined with the exact tables'.
                    self.pending_entries_maps.push((h, tentries));
                    self.map_def(
                        &format!("{cname}_masks"),
                        "BPF_MAP_TYPE_ARRAY",
                        MapKind::Array,
                        MapRole::Masks,
                        ("u32", 4),
                        (
                            &format!("struct {cname}_mask"),
                            entry::MASK_HEAD as u32 + key.size,
                        ),
                        nummask_for(intro.nummask, has_range),
                        None,
                        Some(h),
                        None,
                    );
                }
            }
            self.map_def(
                &format!("{cname}_defaults"),
                "BPF_MAP_TYPE_ARRAY",
                MapKind::Array,
                MapRole::Defaults,
                ("u32", 4),
                (&vstruct, value.size),
                2,
                None,
                Some(h),
                None,
            );
            let info = TableInfo {
                cname: cname.clone(),
                key,
                value,
                nummask: nummask_for(intro.nummask, has_range),
                permissions,
                direct_counter,
                direct_meter,
                open: None,
            };
            self.tables.insert(h, info.clone());
            self.table_inits(h, &info)?;
        }
        Ok(())
    }

    /// The default actions and entries the program gives, as map elements.
    fn table_inits(&mut self, h: Handle<Table>, info: &TableInfo) -> R<()> {
        let t = &self.m.tables[h];
        let table_name = format!("{}.{}", self.m.block_types[t.control].name, t.name);
        let defaults = format!("{}_defaults", info.cname);
        // Default miss: the program's, or NoAction.
        let miss = match &t.default_action {
            Some(call) => Some(self.encode_call(call, &table_name, 0)?),
            None => None,
        };
        let (miss_action, miss_params) = miss.unwrap_or((0, Vec::new()));
        let const_perm = Permissions::CONST.bits();
        let head = EntryHead {
            action: miss_action,
            permissions: if t.default_action_const {
                const_perm
            } else {
                info.permissions
            },
            flags: FLAG_HAS_ACTION
                | if t.default_action_const {
                    FLAG_CONST
                } else {
                    0
                },
            ..EntryHead::default()
        };
        let v = info
            .value
            .encode(&head, &miss_params)
            .map_err(|reason| CodegenError::Entry {
                table: table_name.clone(),
                index: 0,
                reason,
            })?;
        self.inits.push(MapInit {
            map: defaults.clone(),
            key: entry::DEFAULT_MISS.to_ne_bytes().to_vec(),
            value: v,
            what: InitKind::DefaultAction,
        });
        // Default hit: the action marked @default_hit / @default_hit_const, with zero data.
        for ta in &t.actions {
            let is_const = ta.annotations.iter().any(|a| a.name == "default_hit_const");
            if is_const || ta.annotations.iter().any(|a| a.name == "default_hit") {
                let pl = layout::action_param_layout(self.m, ta.action)?;
                let head = EntryHead {
                    action: self.action_ids.get(&ta.action).copied().unwrap_or(0),
                    permissions: if is_const {
                        const_perm
                    } else {
                        info.permissions
                    },
                    flags: FLAG_HAS_ACTION | if is_const { FLAG_CONST } else { 0 },
                    ..EntryHead::default()
                };
                let v = info
                    .value
                    .encode(&head, &vec![0u8; pl.size as usize])
                    .map_err(|reason| CodegenError::Entry {
                        table: table_name.clone(),
                        index: 0,
                        reason,
                    })?;
                self.inits.push(MapInit {
                    map: defaults.clone(),
                    key: entry::DEFAULT_HIT.to_ne_bytes().to_vec(),
                    value: v,
                    what: InitKind::DefaultAction,
                });
            }
        }
        // Entries.
        // The object model's rule, so the kernel and the interpreter rank program entries alike.
        let priorities: Vec<u32> = p4tc_runtime::model::program_priorities(t)
            .into_iter()
            .map(|p| p.0)
            .collect();
        // Tuple-space tables: the masks (blob, best priority value) in first-use order, and
        // the elements under them; slots are given once all are known (below).
        let mut masks: Vec<(Vec<u8>, u32)> = Vec::new();
        let mut tuple_elements: Vec<(usize, Vec<u8>, Vec<u8>, bool)> = Vec::new();
        for (index, e) in t.entries.iter().enumerate() {
            let err = |reason: String| CodegenError::Entry {
                table: table_name.clone(),
                index,
                reason,
            };
            let is_const = e.is_const || t.entries_const;
            let (action, params) = self.encode_call(&e.action, &table_name, index)?;
            let priority = priorities.get(index).copied().unwrap_or(index as u32);
            let head = EntryHead {
                action,
                permissions: if is_const {
                    const_perm
                } else {
                    Permissions::from_bits(info.permissions)
                        .map(|p| p.without_create().bits())
                        .unwrap_or(info.permissions)
                },
                flags: FLAG_HAS_ACTION | if is_const { FLAG_CONST } else { 0 },
                priority,
                // An exact or prefix head has no priority: the program's order goes in the creation
                // time instead (nanoseconds after 0, all the program's entries' time), which
                // dumps order by.
                created_ns: match info.value.head {
                    Head::Exact | Head::Prefix => u64::from(priority),
                    Head::Full => 0,
                },
                ..EntryHead::default()
            };
            let value = info.value.encode(&head, &params).map_err(err)?;
            let key = &info.key;
            // Per field, the (value, mask) pairs it matches: one, or a range's prefixes.
            let mut alternatives: Vec<Vec<(BigUint, BigUint)>> = Vec::new();
            let mut prefix = None;
            let body = &self.m.block_types[t.control].body;
            for ((ks, kf), tk) in e.keys.iter().zip(&key.fields).zip(&t.keys) {
                let full = (BigUint::from(1u8) << kf.field.width) - 1u8;
                let kty = body.exprs[tk.expr].ty;
                let w = kf.field.width;
                match ks {
                    KeysetValue::Exact(v) => {
                        alternatives.push(vec![(self.value_bits(v, kty, w), full.clone())]);
                    }
                    KeysetValue::Mask(v, m) => {
                        let m = self.value_bits(m, kty, w) & &full;
                        if kf.match_kind == MatchKind::Lpm {
                            let ones = m.count_ones() as u32;
                            if m != kf.field.prefix_mask(ones).map_err(|e| err(e.to_string()))? {
                                return Err(err("an LPM mask that is not a prefix".into()));
                            }
                            prefix = Some(ones);
                        }
                        alternatives.push(vec![(self.value_bits(v, kty, w) & &m, m)]);
                    }
                    KeysetValue::Any => {
                        alternatives.push(vec![(BigUint::default(), BigUint::default())]);
                        if kf.match_kind == MatchKind::Lpm {
                            prefix = Some(0);
                        }
                    }
                    KeysetValue::Range(lo, hi) => {
                        let lo = self.value_bits(lo, kty, w);
                        let hi = self.value_bits(hi, kty, w);
                        let pieces = entry::range_to_prefixes(&lo, &hi, w);
                        if pieces.is_empty() {
                            // An empty range matches nothing: no entry at all.
                            alternatives.push(Vec::new());
                        } else {
                            alternatives.push(pieces);
                        }
                    }
                    KeysetValue::ValueSet(_) => return Err(err("value-set keys".into())),
                }
            }
            for (values, field_masks) in cartesian(&alternatives) {
                match key.kind {
                    TableKind::Exact => {
                        let k = key.encode_key(&values).map_err(|e| err(e.to_string()))?;
                        self.inits.push(MapInit {
                            map: info.cname.clone(),
                            key: k,
                            value: value.clone(),
                            what: InitKind::Entry { is_const },
                        });
                    }
                    TableKind::Lpm => {
                        let lpm = key.lpm_field().map(|f| f.field.width).unwrap_or(0);
                        let k = key
                            .encode_lpm_entry(&values, prefix.unwrap_or(lpm))
                            .map_err(|e| err(e.to_string()))?;
                        self.inits.push(MapInit {
                            map: info.cname.clone(),
                            key: k,
                            value: value.clone(),
                            what: InitKind::Entry { is_const },
                        });
                    }
                    TableKind::Ternary => {
                        let (k, m) = key
                            .encode_ternary_entry(&values, &field_masks)
                            .map_err(|e| err(e.to_string()))?;
                        let mi = match masks.iter().position(|x| x.0 == m) {
                            Some(i) => {
                                masks[i].1 = masks[i].1.min(priority);
                                i
                            }
                            None => {
                                if masks.len() as u32 >= info.nummask {
                                    return Err(err(format!("more than {} masks", info.nummask)));
                                }
                                masks.push((m, priority));
                                masks.len() - 1
                            }
                        };
                        tuple_elements.push((mi, k, value.clone(), is_const));
                    }
                }
            }
        }
        // Slots in ascending order of their best priority value: the search then stops at the
        // first slot that cannot win (each slot's rest bound is its own).
        let bests: Vec<u32> = masks.iter().map(|m| m.1).collect();
        let ranks = entry::slot_ranks(&bests);
        let mut by_slot: Vec<(Vec<u8>, u32)> = vec![(Vec::new(), 0); masks.len()];
        for (j, m) in masks.into_iter().enumerate() {
            by_slot[ranks[j]] = m;
        }
        let rests = entry::rest_mins(&by_slot.iter().map(|m| m.1).collect::<Vec<_>>());
        for (i, ((mask, min_prio), rest_min)) in by_slot.into_iter().zip(rests).enumerate() {
            self.inits.push(MapInit {
                map: format!("{}_masks", info.cname),
                key: (i as u32).to_ne_bytes().to_vec(),
                value: entry::MaskSlot {
                    mask,
                    min_prio,
                    rest_min,
                }
                .encode(),
                what: InitKind::Mask,
            });
        }
        for (mi, k, value, is_const) in tuple_elements {
            self.inits.push(MapInit {
                map: info.cname.clone(),
                key: entry::tuple_key(ranks[mi] as u32, &k),
                value,
                what: InitKind::Entry { is_const },
            });
        }
        Ok(())
    }

    /// A compile-time value's bits in a field of type `ty` and `width` bits: serializable
    /// enum members by their values, negative integers as two's complement.
    pub(crate) fn value_bits(
        &self,
        v: &Value,
        ty: Handle<p4tc_ir::ir::Type>,
        width: u32,
    ) -> BigUint {
        let mut ty = ty;
        for _ in 0..16 {
            match self.ty(ty) {
                p4tc_ir::ir::Type::NewType { underlying, .. } => ty = *underlying,
                _ => break,
            }
        }
        match (v, self.ty(ty)) {
            (Value::Enum(i), p4tc_ir::ir::Type::Enum(e)) => {
                match self.m.enums[*e].members.get(*i as usize) {
                    Some((_, Some(val))) => BigUint::from(super::expr::twos(val, width.min(64))),
                    _ => BigUint::from(*i),
                }
            }
            (Value::Int(i), _) if i.sign() == num_bigint::Sign::Minus => {
                let m = num_bigint::BigInt::from(1u8) << width;
                ((i % &m + &m) % &m).to_biguint().unwrap_or_default()
            }
            _ => value_uint(v),
        }
    }

    /// An action call's id and parameter blob.
    fn encode_call(&self, call: &ActionCall, table: &str, index: usize) -> R<(u32, Vec<u8>)> {
        let pl = layout::action_param_layout(self.m, call.action)?;
        let a = &self.m.actions[call.action];
        let mut values = Vec::new();
        let body = match a.control {
            Some(c) => &self.m.block_types[c].body,
            None => &a.body,
        };
        for p in &pl.params {
            let pty = a.params.get(p.index).map(|l| body.locals[*l].ty);
            match (call.args.get(p.index), pty) {
                (Some(ActionArg::Value(v)), Some(pty)) => {
                    values.push(self.value_bits(v, pty, p.field.width))
                }
                _ => {
                    return Err(CodegenError::Entry {
                        table: table.into(),
                        index,
                        reason: format!("action `{}` lacks a value for `{}`", a.name, p.field.name),
                    })
                }
            }
        }
        let blob = pl.encode(&values).map_err(|e| CodegenError::Entry {
            table: table.into(),
            index,
            reason: e.to_string(),
        })?;
        Ok((
            self.action_ids.get(&call.action).copied().unwrap_or(0),
            blob,
        ))
    }

    /// Applies a table: builds the key, looks it up, runs the action. Returns the C names of
    /// the hit flag and of the action id that ran.
    pub(crate) fn apply_table(
        &mut self,
        s: &Scope<'_>,
        table: Handle<Table>,
        o: &mut Out,
        span: Span,
    ) -> R<(String, String)> {
        let Some(info) = self.tables.get(&table).cloned() else {
            return unsupported("this table", span);
        };
        let t = &self.m.tables[table];
        let n = self.label(&format!("t_{}", ident(&t.name)));
        let hit = format!("{n}_hit");
        let run = format!("{n}_run");
        let key = format!("{n}_key");
        let entry = format!("{n}_entry");
        let done = format!("{n}_done");
        let mut const_switch = false;
        let cname = info.cname.clone();
        o.line(format!("/* apply table {} */", t.name));
        o.line(format!("u8 {hit} = 0;"));
        o.line(format!("u32 {run} = P4TC_NO_ACTION_RUN;"));
        o.line(format!(
            "struct {cname}_key {key} __attribute__((aligned(8))) = {{}};"
        ));
        o.line(format!("struct {cname}_value *{entry} = 0;"));
        o.line(format!("struct {cname}_value *{n}_act = 0;"));
        // Key: each field where the key struct places it (contiguous, after the LPM prefix
        // length), so its alignment there is known.
        let mut c_offset = std::collections::HashMap::new();
        let mut at = info.key.header_size;
        for f in info.key.placement() {
            c_offset.insert(f.field.name.clone(), at);
            at += f.field.size;
        }
        for (k, kf) in t.keys.iter().zip(&info.key.fields) {
            let v = self.expr(s, k.expr)?;
            let f = self.key_field_name(&info, &kf.field.name);
            match self.repr(s.body.exprs[k.expr].ty) {
                Repr::Int { .. } => {
                    let n = kf.field.size;
                    let off = c_offset.get(&kf.field.name).copied().unwrap_or(1);
                    // Word stores where the stack slot is aligned for them (the verifier
                    // refuses misaligned stack access); byte by byte elsewhere.
                    let aligned = match n {
                        1 => true,
                        2 | 3 => off % 2 == 0,
                        4..=7 => off % 4 == 0,
                        8 => off % 8 == 0,
                        _ => false,
                    };
                    let store = if aligned {
                        "p4tc_st_be"
                    } else {
                        "p4tc_st_be_b"
                    };
                    o.line(format!("{store}({key}.{f}, {v}, {n});"))
                }
                Repr::Wide { .. } => o.line(format!(
                    "{{ {} kw_ = {v}; p4tc_copy({key}.{f}, kw_.b, {}); }}",
                    self.ctype(s.body.exprs[k.expr].ty, span)?,
                    kf.field.size
                )),
                _ => return unsupported("a key field of this type", span),
            }
        }
        // Lookup.
        match info.key.kind {
            layout::TableKind::Exact => {
                let names = super::const_entries::ApplyNames {
                    key: &key,
                    entry: &entry,
                    hit: &hit,
                    run: &run,
                    done: &done,
                };
                if let Some(switch) =
                    self.const_entry_switch(s, table, &info, &names, o.indent, span)?
                {
                    o.text.push_str(&switch);
                    const_switch = true;
                }
                o.line(format!("{entry} = {cname}_find(&{key});"));
            }
            layout::TableKind::Lpm => {
                o.line(format!(
                    "{key}.prefixlen = {};",
                    info.key.max_prefix_len().unwrap_or(0)
                ));
                o.line(format!("{entry} = bpf_map_lookup_elem(&{cname}, &{key});"));
            }
            layout::TableKind::Ternary => {
                // Tuple-space search: the first INLINE_TSS_MAX slots in a bounded loop here
                // (one hash lookup per used slot, keeping the best entry's pointer: no
                // callback per slot, no lookup again of the winner); slots past those, when
                // the table has them and the loop did not stop, in a bpf_loop callback, which
                // the verifier checks once whatever their number.
                let inline = info.nummask.min(INLINE_TSS_MAX);
                let rest = info.nummask - inline;
                o.open("");
                o.line(format!(
                    "struct {cname}_tkey tk_ __attribute__((aligned(8))) = {{}};"
                ));
                o.line("u32 best_prio_ = 0;");
                if rest > 0 {
                    o.line("u8 more_ = 1; /* the loop saw every slot it covers in use */");
                }
                let stop = if rest > 0 {
                    "{ more_ = 0; break; }"
                } else {
                    "break;"
                };
                o.line("#pragma clang loop unroll(disable)");
                o.open(format!("for (u32 i_ = 0; i_ < {inline}; i_++)"));
                o.line("u32 mi_ = i_;");
                o.line(format!(
                    "struct {cname}_mask *m_ = bpf_map_lookup_elem(&{cname}_masks, &mi_);"
                ));
                o.line("if (!m_ || m_->used != P4TC_MASK_USED)");
                o.line(format!(
                    "    {stop} /* the first unused slot ends the list */"
                ));
                o.open(format!("if ({entry})"));
                o.line("if (best_prio_ <= m_->rest_min)");
                o.line(format!(
                    "    {stop} /* nothing under this slot or a later one can win */"
                ));
                o.line("if (best_prio_ <= m_->min_prio)");
                o.line("    continue; /* nothing under this slot can win */");
                o.close();
                o.line("tk_.mask_index = i_;");
                o.line(format!(
                    "for (u32 b_ = 0; b_ < sizeof(struct {cname}_key) / 4; b_++)"
                ));
                o.line(format!(
                    "    ((u32 *)&tk_.key)[b_] = ((u32 *)&{key})[b_] & ((u32 *)&m_->mask)[b_];"
                ));
                o.line(format!("struct {cname}_value *c_ = {cname}_find(&tk_);"));
                o.open(format!(
                    "if (c_ && (!{entry} || c_->hdr.priority < best_prio_))"
                ));
                o.line(format!("{entry} = c_;"));
                o.line("best_prio_ = c_->hdr.priority;");
                o.close();
                o.close();
                if rest > 0 {
                    self.tss_step(&info);
                    o.open("if (more_)");
                    // The slot after the loop's, looked at here first: with exactly
                    // `inline` masks in use (or none after them that can win) the callback's
                    // setup and call are not paid for.
                    o.line(format!("u32 mn_i_ = {inline};"));
                    o.line(format!(
                        "struct {cname}_mask *mn_ = bpf_map_lookup_elem(&{cname}_masks, &mn_i_);"
                    ));
                    o.line(format!(
                        "if (!mn_ || mn_->used != P4TC_MASK_USED || ({entry} && best_prio_ <= mn_->rest_min)) more_ = 0;"
                    ));
                    o.close();
                    o.open("if (more_)");
                    o.line(format!(
                        "struct {cname}_tss tss_ __attribute__((aligned(8))) = {{}};"
                    ));
                    o.line(format!("tss_.key = {key};"));
                    o.line(format!("tss_.base = {inline};"));
                    o.line(format!("tss_.found = {entry} != 0;"));
                    o.line("tss_.best_prio = best_prio_;");
                    o.line(format!("bpf_loop({rest}, {cname}_tss_step, &tss_, 0);"));
                    o.open("if (tss_.better)");
                    // (Copied out: the lookup reads the key by aligned words.)
                    o.line(format!(
                        "struct {cname}_tkey best_ __attribute__((aligned(8))) = tss_.best;"
                    ));
                    o.line(format!("{entry} = {cname}_find(&best_);"));
                    o.close();
                    o.close();
                }
                o.close();
            }
        }
        // Which action runs, with which data.
        o.open(format!("if ({entry})"));
        o.line(format!("{hit} = 1;"));
        let now = self.packet_now();
        // The usual hit first, in one compare; then every other case in full.
        o.open(format!("if (P4TC_PLAIN_HIT(&{entry}->hdr))"));
        o.line(format!("{n}_act = {entry};"));
        o.line(format!("{run} = {entry}->hdr.action;"));
        o.reopen("else");
        o.line(format!("if ({entry}->hdr.flags & P4TC_F_DYNAMIC)"));
        o.line(format!("    {}", info.value.c_set_last_used(&entry, &now)));
        o.open(format!("if ({entry}->hdr.permissions & P4TC_PERM_DP_X)"));
        // The usual hit (the entry's own action) decides the action right here, without
        // testing the entry's flags a second time below.
        o.open(format!("if ({entry}->hdr.flags & P4TC_F_HAS_ACTION)"));
        o.line(format!("{n}_act = {entry};"));
        o.line(format!("{run} = {entry}->hdr.action;"));
        o.reopen("else");
        o.line("u32 d_ = P4TC_DEFAULT_HIT;");
        o.line(format!(
            "{n}_act = bpf_map_lookup_elem(&{cname}_defaults, &d_);"
        ));
        o.line(format!(
            "if ({n}_act && ({n}_act->hdr.flags & P4TC_F_HAS_ACTION))"
        ));
        o.line(format!("    {run} = {n}_act->hdr.action;"));
        o.close();
        o.close();
        o.close();
        o.reopen("else");
        let const_miss = t.default_action_const && t.default_action.is_some();
        if !const_miss {
            o.line("u32 d_ = P4TC_DEFAULT_MISS;");
            o.line(format!(
                "{n}_act = bpf_map_lookup_elem(&{cname}_defaults, &d_);"
            ));
            o.line(format!(
                "if ({n}_act && ({n}_act->hdr.flags & P4TC_F_HAS_ACTION))"
            ));
            o.line(format!("    {run} = {n}_act->hdr.action;"));
        }
        o.close();
        let sc = table_scope(s, table, &key, &entry);
        // The const default miss action, with the program's arguments.
        if const_miss {
            if let Some(call) = &t.default_action {
                let id = self.action_ids.get(&call.action).copied().unwrap_or(0);
                o.open(format!("if (!{entry})"));
                o.line(format!("{run} = {id};"));
                let args = self.call_args(call, span)?;
                self.inline_action(&sc, call.action, &args, None, o)?;
                o.close();
                o.open("else");
            }
        } else {
            o.open("");
        }
        // Dispatch on the action id.
        o.open(format!("switch ({run})"));
        let mut seen = BTreeSet::new();
        for ta in &t.actions {
            let id = self.action_ids.get(&ta.action).copied().unwrap_or(0);
            if !seen.insert(id) {
                continue;
            }
            let a = &self.m.actions[ta.action];
            o.line(format!("case {id}: /* {} */", a.name));
            o.open("");
            // Directional parameters bound in the action list.
            let mut args = Vec::new();
            let body = match a.control {
                Some(c) => &self.m.block_types[c].body,
                None => &a.body,
            };
            let mut bound = ta.bound_args.iter();
            for p in &a.params {
                let local = &body.locals[*p];
                if local.kind == p4tc_ir::ir::LocalKind::Directionless {
                    break;
                }
                match bound.next() {
                    Some(v) => args.push(ArgSrc::C(self.literal(v, local.ty, span)?)),
                    None => {
                        return unsupported(
                            format!(
                                "action `{}` with unbound directional parameters in table `{}`",
                                a.name, t.name
                            ),
                            span,
                        )
                    }
                }
            }
            let ptr = match self.action_struct(ta.action)? {
                Some(st) => {
                    let p = format!("{n}_p");
                    o.line(format!("{st} *{p} = ({st} *)&{n}_act->params;"));
                    Some(p)
                }
                None => None,
            };
            if ptr.is_some() {
                o.open(format!("if ({n}_act)"));
            }
            self.inline_action(&sc, ta.action, &args, ptr.as_deref(), o)?;
            if ptr.is_some() {
                o.close();
            }
            o.close();
            o.line("break;");
        }
        o.close();
        o.close();
        if const_switch {
            o.line(format!("{done}:;"));
        }
        Ok((hit, run))
    }

    /// Where each argument of `call` comes from when the action is expanded in place: its
    /// literal as C, or the expression given.
    pub(crate) fn call_args(&mut self, call: &ActionCall, span: Span) -> R<Vec<ArgSrc>> {
        let m = self.m;
        let a = &m.actions[call.action];
        let body = match a.control {
            Some(c) => &m.block_types[c].body,
            None => &a.body,
        };
        let mut args = Vec::with_capacity(call.args.len());
        for (arg, p) in call.args.iter().zip(&a.params) {
            args.push(match arg {
                ActionArg::Value(v) => ArgSrc::C(self.literal(v, body.locals[*p].ty, span)?),
                ActionArg::Expr(e) => ArgSrc::Expr(*e),
            });
        }
        Ok(args)
    }

    /// What the loader needs to know about every table.
    pub(crate) fn table_specs(&self) -> Vec<crate::TableSpec> {
        let mut v = Vec::new();
        for (i, (h, t)) in self.m.tables.iter().enumerate() {
            let Some(info) = self.tables.get(&h) else {
                continue;
            };
            let actions = t
                .actions
                .iter()
                .map(|a| {
                    (
                        a.action,
                        self.action_ids.get(&a.action).copied().unwrap_or(0),
                    )
                })
                .collect();
            v.push(crate::TableSpec {
                table: h,
                name: self
                    .intro
                    .tables
                    .get(i)
                    .map(|t| t.name.clone())
                    .unwrap_or_default(),
                map: info.cname.clone(),
                defaults_map: format!("{}_defaults", info.cname),
                masks_map: (info.key.kind == TableKind::Ternary)
                    .then(|| format!("{}_masks", info.cname)),
                key: info.key.clone(),
                value: info.value.clone(),
                permissions: info.permissions,
                nummask: info.nummask,
                actions,
                size: self.intro.tables.get(i).map_or(1, |t| t.tentries.max(1)),
                open: info.open,
            });
        }
        v
    }

    /// The tuple-space search's state and step function of a ternary table (once).
    fn tss_step(&mut self, info: &TableInfo) {
        let cname = &info.cname;
        let marker = format!("{cname}_tss_step(");
        if self.funcs.text.contains(&marker) {
            return;
        }
        self.types.text.push_str(&format!(
            "/* Tuple-space search state of {cname}: the key, and the best (mask, masked key) so far. */\n\
             struct {cname}_tss {{\n    struct {cname}_key key;\n    struct {cname}_tkey best;\n    u32 best_prio;\n    u32 found; /* an entry was found (here or before the loop) */\n    u32 better; /* `best` holds one better than any found before the loop */\n    u32 base; /* the slot of step 0 */\n}};\n\n"
        ));
        self.funcs.text.push_str(&format!(
            "/* One mask of {cname}'s tuple-space search (a bpf_loop callback): stop at the first\n * unused slot or once no later slot can win; keep the entry with the lowest priority value. */\n\
             static long {cname}_tss_step(u32 i, void *ctx)\n{{\n\
             \x20   struct {cname}_tss *x = ctx;\n\
             \x20   u32 mi = i + x->base;\n\
             \x20   struct {cname}_mask *m = bpf_map_lookup_elem(&{cname}_masks, &mi);\n\
             \x20   if (!m || m->used != P4TC_MASK_USED)\n\
             \x20       return 1;\n\
             \x20   if (x->found && x->best_prio <= m->rest_min)\n\
             \x20       return 1; /* nothing under this slot or a later one can win */\n\
             \x20   if (x->found && x->best_prio <= m->min_prio)\n\
             \x20       return 0; /* nothing under this slot can win */\n\
             \x20   struct {cname}_tkey tk __attribute__((aligned(8))) = {{}};\n\
             \x20   tk.mask_index = mi;\n\
             \x20   for (u32 b = 0; b < sizeof(struct {cname}_key) / 4; b++)\n\
             \x20       ((u32 *)&tk.key)[b] = ((u32 *)&x->key)[b] & ((u32 *)&m->mask)[b];\n\
             \x20   struct {cname}_value *c = {cname}_find(&tk);\n\
             \x20   if (c && (!x->found || c->hdr.priority < x->best_prio)) {{\n\
             \x20       x->best = tk;\n\
             \x20       x->best_prio = c->hdr.priority;\n\
             \x20       x->found = 1;\n\
             \x20       x->better = 1;\n\
             \x20   }}\n\
             \x20   return 0;\n}}\n\n"
        ));
    }

    fn key_field_name(&self, info: &TableInfo, name: &str) -> String {
        // The same uniquing as the struct declaration, in placement order.
        let mut used = BTreeSet::new();
        for f in info.key.placement() {
            let mut n = ident(&f.field.name);
            while !used.insert(n.clone()) {
                n.push('_');
            }
            if f.field.name == name {
                return n;
            }
        }
        ident(name)
    }
}

/// Mask slots a tuple-space search looks at in an inline bounded loop; slots past these are
/// searched by a bpf_loop callback. The verifier walks every iteration of an inline loop, and
/// its work grows faster than the slots: ternary_acl's program verified in 34k instructions
/// with 64 inline slots, 139k with 128, and over the million limit with 512; 64 leaves room
/// for wider keys and programs with more branches around the table.
const INLINE_TSS_MAX: u32 = 64;

/// Mask slots of a ternary table: `@nummask`, or more when range fields are expanded into
/// prefixes (each range becomes up to 2W - 2 of them).
fn nummask_for(nummask: u32, has_range: bool) -> u32 {
    if has_range {
        (nummask.max(1) * 16).min(1024)
    } else {
        nummask.max(1)
    }
}

/// Every combination of one alternative per field.
fn cartesian(fields: &[Vec<(BigUint, BigUint)>]) -> Vec<(Vec<BigUint>, Vec<BigUint>)> {
    let mut out: Vec<(Vec<BigUint>, Vec<BigUint>)> = vec![(Vec::new(), Vec::new())];
    for alts in fields {
        let mut next = Vec::with_capacity(out.len() * alts.len());
        for (vs, ms) in &out {
            for (v, m) in alts {
                let mut vs = vs.clone();
                let mut ms = ms.clone();
                vs.push(v.clone());
                ms.push(m.clone());
                next.push((vs, ms));
            }
        }
        out = next;
    }
    out
}

/// The scope an applied table's actions run in: `s`, one level deeper, knowing the table and
/// the C names of its key and of the entry hit.
pub(crate) fn table_scope<'s>(
    s: &Scope<'s>,
    table: Handle<Table>,
    key: &str,
    entry: &str,
) -> Scope<'s> {
    let mut sc = s.clone();
    sc.table = Some(TableCtx {
        table,
        key: key.to_string(),
        entry: entry.to_string(),
    });
    sc.depth += 1;
    sc
}
