//! The C generator: types, maps and the program function.

pub(crate) mod aging;
mod const_entries;
mod expr;
mod open_table;
mod out;
mod packet;
mod raw_checksum;
mod stmt;
mod table;

use std::collections::{BTreeSet, HashMap};

use p4tc_ir::arena::Handle;
use p4tc_ir::introspection::{self, Introspection};
use p4tc_ir::ir::{
    Action, BlockType, Body, Composite, CompositeKind, Function, Instance, Local, Module, Role,
    Table, Type, Value,
};
use p4tc_ir::layout::{self, CounterLayout, ExternLayout};
use p4tc_ir::Span;

use crate::{CodegenError, Generated, Hook, MapInit, MapKind, MapRole, MapSpec, RUNTIME_HEADER};
use out::{ident, uint_for, Out};

pub(crate) type R<T> = Result<T, CodegenError>;

pub(crate) fn unsupported<T>(what: impl Into<String>, span: Span) -> R<T> {
    Err(CodegenError::Unsupported {
        what: what.into(),
        span,
    })
}

/// How a value of an IR type is held in C.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Repr {
    /// An unsigned integer of `width` bits (at most 64), in host order; `signed` values are
    /// their two's complement pattern.
    Int { width: u32, signed: bool },
    /// A bit string wider than 64 bits: big-endian bytes (`p4tc_wN_t`).
    Wide { width: u32 },
    /// A struct, header, stack or tuple (by C type name).
    Aggregate,
    /// `void`, externs, packets: no C value.
    None,
}

/// Where a body's `return` goes.
#[derive(Clone, Debug)]
pub(crate) enum Ret {
    /// A C `return` (functions).
    C,
    /// A `goto` to this label.
    Goto(String),
}

/// The table being applied (for `add_entry`, direct counters and expire times in its actions).
#[derive(Clone, Debug)]
pub(crate) struct TableCtx {
    pub(crate) table: Handle<Table>,
    /// The C variable holding the key.
    pub(crate) key: String,
    /// The C variable pointing at the entry hit (NULL on a miss).
    pub(crate) entry: String,
}

/// What names a body's locals have in C, and where control flow goes.
#[derive(Clone)]
pub(crate) struct Scope<'b> {
    pub(crate) body: &'b Body,
    /// C lvalue per local index.
    pub(crate) names: Vec<String>,
    pub(crate) ret: Ret,
    /// Where `exit` goes.
    pub(crate) exit: String,
    /// Innermost loop's continue label.
    pub(crate) cont: Option<String>,
    pub(crate) table: Option<TableCtx>,
    /// In the deparser: emits become length sums, and may not be nested.
    pub(crate) deparser: bool,
    /// Nesting depth of blocks (for the deparser's rule).
    pub(crate) depth: u32,
    /// A parser body (extract, verify and select are allowed).
    pub(crate) parser: bool,
}

/// One header the deparser emits, in order.
#[derive(Clone, Debug)]
pub(crate) struct Emit {
    pub(crate) lvalue: String,
    pub(crate) composite: Handle<Composite>,
}

/// Per-table facts, computed up front.
#[derive(Clone, Debug)]
pub(crate) struct TableInfo {
    pub(crate) cname: String,
    pub(crate) key: layout::KeyLayout,
    pub(crate) value: crate::entry::ValueLayout,
    pub(crate) nummask: u32,
    pub(crate) permissions: u16,
    pub(crate) direct_counter: Option<(Handle<Instance>, CounterLayout)>,
    pub(crate) direct_meter: Option<Handle<Instance>>,
    /// The slots of an exact table kept as open addressing (decided once the control's
    /// code is generated: a table the datapath adds entries to stays a hash map).
    pub(crate) open: Option<crate::open_table::OpenLayout>,
}

pub(crate) struct Gen<'m> {
    pub(crate) m: &'m Module,
    pub(crate) hook: Hook,
    pub(crate) intro: Introspection,
    pub(crate) action_ids: HashMap<Handle<Action>, u32>,
    /// Struct declarations, in dependency order.
    pub(crate) types: Out,
    pub(crate) type_names: HashMap<Handle<Type>, String>,
    pub(crate) used_type_names: BTreeSet<String>,
    pub(crate) wide: BTreeSet<u32>,
    /// Varbit sizes in bytes (`p4tc_vbN_t`: the bytes and the length in bits).
    pub(crate) varbits: BTreeSet<u32>,
    /// Map definitions.
    pub(crate) maps_c: Out,
    pub(crate) maps: Vec<MapSpec>,
    pub(crate) inits: Vec<MapInit>,
    /// Static functions (P4 functions).
    pub(crate) funcs: Out,
    pub(crate) func_names: HashMap<Handle<Function>, String>,
    pub(crate) tables: HashMap<Handle<Table>, TableInfo>,
    pub(crate) action_structs: HashMap<Handle<Action>, Option<String>>,
    pub(crate) instance_names: HashMap<Handle<Instance>, String>,
    /// Locals of the main function (declarations), e.g. checksum states.
    pub(crate) extra_locals: Vec<String>,
    pub(crate) next_label: u32,
    /// Headers the program may change (their C lvalues).
    pub(crate) modified: BTreeSet<String>,
    /// Something changed that the analysis cannot pin to a header: write every header.
    pub(crate) modified_all: bool,
    pub(crate) emits: Vec<Emit>,
    pub(crate) error_ids: HashMap<String, u32>,
    pub(crate) uses_host_ports: bool,
    /// `send_to_port` may name `PNA_PORT_CPU` (a constant that is it, or a value known at
    /// run time only): the verdict copies such packets into [`PACKET_IN_MAP`].
    pub(crate) uses_cpu_port: bool,
    pub(crate) uses_flow_ids: bool,
    pub(crate) test_hooks: bool,
    /// Something may change a header's validity at run time (`dirty` may be set).
    pub(crate) validity_changes: bool,
    /// The headers the parser extracts (C lvalues; `s.e[*]` for stacks), in textual order.
    pub(crate) extracted: Vec<String>,
    /// The parser skips bytes (`advance`).
    pub(crate) parser_advances: bool,
    /// The program calls `recirculate()`.
    pub(crate) uses_recirculate: bool,
    pub(crate) placement: crate::Placement,
    /// Metadata fields the parser's start state sets to `is_net_port` / `is_host_port` of a
    /// parser input field and nothing else writes: read where used instead (the per-packet
    /// host-port answer), so a packet whose path never reads them asks no map. By
    /// (metadata type, field index): the C expression of the port and whether it is
    /// `is_net_port`.
    pub(crate) lazy_fields: HashMap<(Handle<Type>, u32), LazyField>,
    /// The parser's assignments of [`Self::lazy_fields`] (their left-hand sides), which
    /// generate nothing.
    pub(crate) lazy_assigns: BTreeSet<Handle<p4tc_ir::ir::Expr>>,
    /// The control's `istd.timestamp` (input metadata type, field index) when the control
    /// reads it only field by field: each read is then the per-packet clock read on first use
    /// ([`Self::packet_now`]), so a packet whose path never reads it calls no helper.
    pub(crate) lazy_timestamp: Option<(Handle<Type>, u32)>,
    /// The sizes of the stacks the parser extracts into with `.next` (by the stack's C
    /// lvalue; [`Self::extracted`] has them as `stack.e[*]`).
    pub(crate) stack_sizes: HashMap<String, u32>,
    /// Extracts (by their target expression in the parser's body) read at the same packet
    /// offset on every path, with that offset.
    pub(crate) static_po: HashMap<Handle<p4tc_ir::ir::Expr>, u32>,
    /// Headers (by C lvalue) the current parser state extracted at a constant packet offset
    /// and nothing has written since: their fields are still the packet's bytes there, so a
    /// checksum over them can sum the packet's words ([`Self::raw_checksum_add`]).
    pub(crate) fresh_headers: HashMap<String, u32>,
    /// The same by extraction number (the index in [`Self::extracted`]): these have no
    /// `po_K_` variable.
    pub(crate) po_const: HashMap<usize, u32>,
    /// Headers with a varbit whose bytes nothing reads but the deparser's emit (and that
    /// one extract fills): the parser does not copy them; the deparser loads them from the
    /// packet only when it has to write them elsewhere. By composite, with the extraction
    /// number once the parser is generated.
    pub(crate) lazy_varbits: HashMap<Handle<Composite>, Option<usize>>,
    /// The headers struct's members are separate C variables (`hdr_NAME`), not one
    /// struct: a stack indexed at run time then keeps only itself in memory, and clang
    /// holds the other headers' fields in registers (or drops them). Only with the
    /// headers on the stack and the struct never used whole (but by emit).
    pub(crate) split_hdr: bool,
    /// In the parser state being generated, the stacks extracted into with `.next` since
    /// the state began (nothing else in between), with the C pointer to the element just
    /// filled: `stack.last` reads it instead of indexing by `next_index - 1` again.
    pub(crate) last_ptrs: HashMap<String, String>,
    /// In the copy of a parser state being generated (`Gen::parser_states` unrolls the
    /// parser over its stacks' fill levels), each followed stack's `next_index`, known at
    /// compile time: `stack.last` and `stack.lastIndex` are then constants.
    pub(crate) known_next: HashMap<String, u32>,
    /// How exact tables keep their entries.
    pub(crate) exact_tables: crate::ExactTables,
    /// Exact and ternary tables whose entries map is defined after the control's code (with
    /// their `size`): for an exact table, `add_entry` decides between open addressing and a
    /// hash map.
    pub(crate) pending_entries_maps: Vec<(Handle<Table>, u32)>,
    /// Tables the datapath adds entries to (`add_entry`).
    pub(crate) datapath_adds: BTreeSet<Handle<Table>>,
}

fn m_align(n: u32, a: u32) -> u32 {
    n.div_ceil(a.max(1)) * a.max(1)
}

/// Passes through the pipeline a packet may make (the first and its recirculations), as in
/// the interpreter.
pub const MAX_PASSES: u32 = 4;

/// The ring buffer of packets sent to the CPU port (`struct p4tc_packet_in` records, see
/// p4tc_runtime.h), present when the program may send there: what PacketIn reads.
pub const PACKET_IN_MAP: &str = "p4tc_packet_in";

/// The roles' blocks.
struct Blocks {
    parser: Handle<BlockType>,
    control: Handle<BlockType>,
    deparser: Handle<BlockType>,
}

/// Generates the C program of `module` for `hook`.
pub fn generate(
    module: &Module,
    pipeline_name: &str,
    hook: Hook,
) -> Result<Generated, CodegenError> {
    generate_with(module, pipeline_name, hook, &crate::Options::default())
}

/// [`generate`] with options.
pub fn generate_with(
    module: &Module,
    pipeline_name: &str,
    hook: Hook,
    options: &crate::Options,
) -> Result<Generated, CodegenError> {
    let intro = introspection::introspection(module, pipeline_name)?;
    let mut action_ids = HashMap::new();
    let mut next = 1u32;
    for (h, a) in module.actions.iter() {
        if a.control.is_none() && a.name == "NoAction" {
            action_ids.insert(h, 0);
        } else {
            action_ids.insert(h, next);
            next += 1;
        }
    }
    let error_ids = module
        .errors
        .iter()
        .enumerate()
        .map(|(i, e)| (e.clone(), i as u32))
        .collect();
    let mut g = Gen {
        m: module,
        hook,
        intro,
        action_ids,
        types: Out::new(0),
        type_names: HashMap::new(),
        used_type_names: BTreeSet::new(),
        wide: BTreeSet::new(),
        varbits: BTreeSet::new(),
        maps_c: Out::new(0),
        maps: Vec::new(),
        inits: Vec::new(),
        funcs: Out::new(0),
        func_names: HashMap::new(),
        tables: HashMap::new(),
        action_structs: HashMap::new(),
        instance_names: HashMap::new(),
        extra_locals: Vec::new(),
        next_label: 0,
        modified: BTreeSet::new(),
        modified_all: false,
        emits: Vec::new(),
        error_ids,
        uses_host_ports: false,
        uses_cpu_port: false,
        uses_flow_ids: false,
        test_hooks: options.test_hooks,
        validity_changes: false,
        extracted: Vec::new(),
        parser_advances: false,
        uses_recirculate: false,
        placement: options.placement,
        lazy_fields: HashMap::new(),
        lazy_timestamp: None,
        lazy_assigns: BTreeSet::new(),
        stack_sizes: HashMap::new(),
        static_po: HashMap::new(),
        fresh_headers: HashMap::new(),
        po_const: HashMap::new(),
        lazy_varbits: HashMap::new(),
        split_hdr: false,
        last_ptrs: HashMap::new(),
        known_next: HashMap::new(),
        exact_tables: options.exact_tables,
        pending_entries_maps: Vec::new(),
        datapath_adds: BTreeSet::new(),
    };
    let blocks = g.blocks()?;
    g.declare_tables()?;
    g.declare_externs()?;
    let main = g.main_function(&blocks, pipeline_name)?;
    g.define_entries_maps();
    let aging_arm = g.declare_aging();
    if g.uses_cpu_port {
        // A ring buffer the control plane reads, as a digest's is: the Digest role keeps
        // the object model and state restores away from it (no instance: no digest).
        g.map_def(
            PACKET_IN_MAP,
            "BPF_MAP_TYPE_RINGBUF",
            MapKind::RingBuf,
            MapRole::Digest,
            ("", 0),
            ("", 0),
            512 * 1024,
            None,
            None,
            None,
        );
    }
    if g.uses_host_ports {
        g.map_def(
            "p4tc_host_ports",
            "BPF_MAP_TYPE_HASH",
            MapKind::Hash,
            MapRole::HostPorts,
            ("u32", 4),
            ("u32", 4),
            256,
            None,
            None,
            None,
        );
    }

    if g.test_hooks {
        g.types.text.push_str(
            "/* Test hooks: the input port to use, and the last packet's fate. */\nstruct p4tc_test_io {\n    u32 input_port;\n    u32 egress_port;\n    u32 drop;\n    u32 parser_error;\n};\n\n",
        );
        g.map_def(
            "p4tc_test_io",
            "BPF_MAP_TYPE_ARRAY",
            MapKind::Array,
            MapRole::TestIo,
            ("u32", 4),
            ("struct p4tc_test_io", 16),
            1,
            None,
            None,
            None,
        );
    }
    if g.uses_flow_ids {
        g.map_def(
            "p4tc_flow_ids",
            "BPF_MAP_TYPE_ARRAY",
            MapKind::Array,
            MapRole::FlowIds,
            ("u32", 4),
            ("u64", 8),
            1,
            None,
            None,
            None,
        );
    }
    let mut c = String::new();
    c.push_str(&format!(
        "/* Generated by p4tc from pipeline `{pipeline_name}` ({}). Do not edit. */\n",
        match hook {
            Hook::Tc => "TC",
            Hook::Xdp => "XDP",
        }
    ));
    c.push_str("#include \"p4tc_runtime.h\"\n\n");
    for bytes in &g.varbits {
        c.push_str(&format!(
            "typedef struct {{ u8 b[{bytes}]; u32 len; }} p4tc_vb{bytes}_t; /* len in bits */\n"
        ));
    }
    for bytes in &g.wide {
        c.push_str(&format!(
            "typedef struct {{ u8 b[{bytes}]; }} p4tc_w{bytes}_t;\n"
        ));
        c.push_str(&format!(
            "P4TC_INLINE int p4tc_w{bytes}_eq(p4tc_w{bytes}_t a, p4tc_w{bytes}_t b)\n{{\n    u8 d = 0;\n    for (int i = 0; i < {bytes}; i++)\n        d |= a.b[i] ^ b.b[i];\n    return d == 0;\n}}\n"
        ));
        for (f, op) in [("and", "&"), ("or", "|"), ("xor", "^")] {
            c.push_str(&format!(
                "P4TC_INLINE p4tc_w{bytes}_t p4tc_w{bytes}_{f}(p4tc_w{bytes}_t a, p4tc_w{bytes}_t b)\n{{\n    for (int i = 0; i < {bytes}; i++)\n        a.b[i] {op}= b.b[i];\n    return a;\n}}\n"
            ));
        }
        c.push_str(&format!(
            "P4TC_INLINE p4tc_w{bytes}_t p4tc_w{bytes}_not(p4tc_w{bytes}_t a)\n{{\n    for (int i = 0; i < {bytes}; i++)\n        a.b[i] = ~a.b[i];\n    return a;\n}}\n"
        ));
    }
    c.push_str("\n/* ---- Types ---- */\n\n");
    c.push_str(&g.types.text);
    c.push_str("\n/* ---- Maps ---- */\n\n");
    c.push_str(&g.maps_c.text);
    c.push_str("\n/* ---- Functions ---- */\n\n");
    c.push_str(&g.funcs.text);
    c.push_str("\n/* ---- The pipeline ---- */\n\n");
    c.push_str(&main);
    if let Some(arm) = &aging_arm {
        c.push_str("\n/* ---- Aging ---- */\n\n");
        c.push_str(arm);
    }
    c.push_str("\nchar _license[] SEC(\"license\") = \"GPL\";\n");
    Ok(Generated {
        c,
        header: RUNTIME_HEADER.to_string(),
        program: "p4tc_main".into(),
        hook,
        tables: g.table_specs(),
        maps: g.maps,
        const_entries: g.inits,
    })
}

impl<'m> Gen<'m> {
    pub(crate) fn label(&mut self, what: &str) -> String {
        self.next_label += 1;
        format!("{what}_{}", self.next_label)
    }

    fn blocks(&self) -> R<Blocks> {
        let Some(p) = &self.m.pipeline else {
            return unsupported("a program without a `main` package", Span::default());
        };
        if p.package != "PNA_NIC" {
            return unsupported(
                format!("the package `{}` (only PNA_NIC)", p.package),
                Span::default(),
            );
        }
        let find = |role: Role| p.blocks.iter().find(|(r, _)| *r == role).map(|(_, b)| *b);
        match (
            find(Role::MainParser),
            find(Role::MainControl),
            find(Role::MainDeparser),
        ) {
            (Some(parser), Some(control), Some(deparser)) => {
                if find(Role::PreControl).is_some() {
                    return unsupported("PNA's pre-control", Span::default());
                }
                Ok(Blocks {
                    parser,
                    control,
                    deparser,
                })
            }
            _ => Err(CodegenError::Malformed(
                "the pipeline lacks a parser, control or deparser".into(),
            )),
        }
    }

    pub(crate) fn ty(&self, ty: Handle<Type>) -> &'m Type {
        &self.m.types[ty]
    }

    /// Follows newtypes and serializable enums to the representation type.
    pub(crate) fn resolve(&self, mut ty: Handle<Type>) -> Handle<Type> {
        for _ in 0..32 {
            match self.ty(ty) {
                Type::NewType { underlying, .. } => ty = *underlying,
                Type::Enum(e) => match self.m.enums[*e].underlying {
                    Some(u) => ty = u,
                    None => return ty,
                },
                _ => return ty,
            }
        }
        ty
    }

    pub(crate) fn repr(&self, ty: Handle<Type>) -> Repr {
        let ty = self.resolve(ty);
        match self.ty(ty) {
            Type::Bool => Repr::Int {
                width: 1,
                signed: false,
            },
            Type::Bits { width, signed } if *width <= 64 => Repr::Int {
                width: *width,
                signed: *signed,
            },
            Type::Bits { width, .. } => Repr::Wide { width: *width },
            // A compile-time `int` that reached run time (the checker folds most): 64 bits.
            Type::Integer => Repr::Int {
                width: 64,
                signed: true,
            },
            Type::Error | Type::Enum(_) | Type::MatchKind => Repr::Int {
                width: 32,
                signed: false,
            },
            Type::Composite(_) | Type::Stack { .. } | Type::Tuple(_) | Type::Varbit { .. } => {
                Repr::Aggregate
            }
            _ => Repr::None,
        }
    }

    /// The header composite of a type, if it is a header.
    pub(crate) fn header_of(&self, ty: Handle<Type>) -> Option<Handle<Composite>> {
        match self.ty(ty) {
            Type::Composite(c) if self.m.composites[*c].kind == CompositeKind::Header => Some(*c),
            _ => None,
        }
    }

    /// The C type of an IR type, declaring structs as needed.
    pub(crate) fn ctype(&mut self, ty: Handle<Type>, span: Span) -> R<String> {
        let ty = self.resolve(ty);
        if let Some(n) = self.type_names.get(&ty) {
            return Ok(n.clone());
        }
        let name = match self.ty(ty).clone() {
            Type::Bool => "u8".to_string(),
            Type::Bits { width, .. } if width <= 64 => uint_for(width).to_string(),
            Type::Bits { width, .. } => {
                let bytes = width.div_ceil(8);
                self.wide.insert(bytes);
                format!("p4tc_w{bytes}_t")
            }
            Type::Error | Type::Enum(_) | Type::MatchKind => "u32".to_string(),
            Type::Integer => "s64".to_string(),
            Type::Varbit { max_width } => {
                let bytes = max_width.div_ceil(8);
                self.varbits.insert(bytes);
                format!("p4tc_vb{bytes}_t")
            }
            Type::Composite(c) => {
                let comp = self.m.composites[c].clone();
                if comp.kind == CompositeKind::HeaderUnion {
                    return unsupported(format!("header unions (`{}`)", comp.name), span);
                }
                let mut fields = Vec::new();
                for f in &comp.fields {
                    fields.push((self.ctype(f.ty, span)?, ident(&f.name)));
                }
                let cname = self.fresh_type_name(&comp.name);
                let mut o = Out::new(0);
                o.open(format!("struct {cname}"));
                for (t, n) in fields {
                    o.line(format!("{t} {n};"));
                }
                if comp.kind == CompositeKind::Header {
                    o.line("u8 __valid;");
                }
                o.close();
                let mut t = o.text;
                t.insert(t.len() - 1, ';');
                self.types.text.push_str(&t);
                self.types.text.push('\n');
                format!("struct {cname}")
            }
            Type::Stack { element, size } => {
                let et = self.ctype(element, span)?;
                let cname = self.fresh_type_name(&format!(
                    "stack_{}_{size}",
                    et.trim_start_matches("struct ")
                ));
                self.types.text.push_str(&format!(
                    "struct {cname} {{\n    {et} e[{size}];\n    u32 next_index;\n}};\n\n"
                ));
                format!("struct {cname}")
            }
            Type::Tuple(items) => {
                let mut fields = Vec::new();
                for t in &items {
                    fields.push(self.ctype(*t, span)?);
                }
                let cname = self.fresh_type_name("tuple");
                let mut s = format!("struct {cname} {{\n");
                for (i, t) in fields.iter().enumerate() {
                    s.push_str(&format!("    {t} f{i};\n"));
                }
                s.push_str("};\n\n");
                self.types.text.push_str(&s);
                format!("struct {cname}")
            }
            _ => return unsupported(format!("values of type {}", self.m.type_name(ty)), span),
        };
        self.type_names.insert(ty, name.clone());
        Ok(name)
    }

    fn fresh_type_name(&mut self, base: &str) -> String {
        let base = ident(base);
        let mut name = base.clone();
        let mut i = 2;
        while !self.used_type_names.insert(name.clone()) {
            name = format!("{base}_{i}");
            i += 1;
        }
        name
    }

    /// A zero initialiser for a C type.
    pub(crate) fn zero(&self, ty: Handle<Type>) -> &'static str {
        match self.repr(ty) {
            Repr::Int { .. } => "0",
            _ => "{}",
        }
    }

    /// Declares one map.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn map_def(
        &mut self,
        name: &str,
        ctype: &str,
        kind: MapKind,
        role: MapRole,
        key: (&str, u32),
        value: (&str, u32),
        max_entries: u32,
        flags: Option<&str>,
        table: Option<Handle<Table>>,
        instance: Option<Handle<Instance>>,
    ) {
        let o = &mut self.maps_c;
        o.open("struct");
        o.line(format!("__uint(type, {ctype});"));
        if kind != MapKind::RingBuf {
            o.line(format!("__type(key, {});", key.0));
            o.line(format!("__type(value, {});", value.0));
        }
        o.line(format!("__uint(max_entries, {max_entries});"));
        if let Some(f) = flags {
            o.line(format!("__uint(map_flags, {f});"));
        }
        o.indent -= 1;
        o.line(format!("}} {name} SEC(\".maps\");"));
        o.line("");
        self.maps.push(MapSpec {
            name: name.into(),
            kind,
            role,
            key_size: if kind == MapKind::RingBuf { 0 } else { key.1 },
            value_size: if kind == MapKind::RingBuf { 0 } else { value.1 },
            max_entries,
            table,
            instance,
        });
    }

    /// The C name of an extern instance (its maps and state are named after it).
    pub(crate) fn instance_name(&mut self, inst: Handle<Instance>) -> String {
        if let Some(n) = self.instance_names.get(&inst) {
            return n.clone();
        }
        let i = &self.m.instances[inst];
        let owner = i
            .owner
            .map(|o| format!("{}_", self.m.block_types[o].name))
            .unwrap_or_default();
        let n = ident(&format!("{owner}{}", i.name));
        self.instance_names.insert(inst, n.clone());
        n
    }

    /// The extern's declaration name of an instance (`Counter`, ...).
    pub(crate) fn extern_name(&self, inst: Handle<Instance>) -> Option<&'m str> {
        match self.ty(self.m.instances[inst].ty) {
            Type::Extern { def, .. } => Some(self.m.externs[*def].name.as_str()),
            _ => None,
        }
    }

    fn declare_externs(&mut self) -> R<()> {
        for (h, inst) in self.m.instances.iter() {
            let span = self.m.instances.span(h);
            let Some(ext) = self.extern_name(h) else {
                continue;
            };
            let name = self.instance_name(h);
            match layout::extern_layout(self.m, h)? {
                Some(ExternLayout::Counter(c)) if !c.direct => {
                    let n = u32::try_from(c.count.unwrap_or(1))
                        .unwrap_or(u32::MAX)
                        .max(1);
                    let vt = counter_struct(&mut self.types, &c);
                    self.map_def(
                        &format!("ctr_{name}"),
                        "BPF_MAP_TYPE_PERCPU_ARRAY",
                        MapKind::PerCpuArray,
                        MapRole::Counter,
                        ("u32", 4),
                        (&vt, c.size),
                        n,
                        None,
                        None,
                        Some(h),
                    );
                }
                Some(ExternLayout::Register(r)) => {
                    let n = u32::try_from(r.count.unwrap_or(1))
                        .unwrap_or(u32::MAX)
                        .max(1);
                    let vt = format!("struct reg_{name}_value");
                    self.types
                        .text
                        .push_str(&format!("{vt} {{\n    u8 v[{}];\n}};\n\n", r.element.size));
                    self.map_def(
                        &format!("reg_{name}"),
                        "BPF_MAP_TYPE_ARRAY",
                        MapKind::Array,
                        MapRole::Register,
                        ("u32", 4),
                        (&vt, r.element.size),
                        n,
                        None,
                        None,
                        Some(h),
                    );
                    // An initial value: every element, written at load time.
                    if let Some(init) = inst.args.get(1).and_then(|a| a.value()) {
                        let values = flatten_value(init);
                        let blob = r.element.encode(&values).map_err(|e| {
                            CodegenError::Malformed(format!("register `{name}` initial value: {e}"))
                        })?;
                        for i in 0..n {
                            self.inits.push(MapInit {
                                map: format!("reg_{name}"),
                                key: i.to_ne_bytes().to_vec(),
                                value: blob.clone(),
                                what: crate::InitKind::RegisterInit,
                            });
                        }
                    }
                }
                Some(ExternLayout::Digest(_)) => {
                    self.map_def(
                        &format!("digest_{name}"),
                        "BPF_MAP_TYPE_RINGBUF",
                        MapKind::RingBuf,
                        MapRole::Digest,
                        ("", 0),
                        ("", 0),
                        256 * 1024,
                        None,
                        None,
                        Some(h),
                    );
                }
                _ if ext == "Meter" => {
                    let n = inst
                        .args
                        .first()
                        .and_then(|a| a.value())
                        .map(value_uint)
                        .and_then(|v| u32::try_from(&v).ok())
                        .unwrap_or(1)
                        .max(1);
                    self.map_def(
                        &format!("meter_{name}"),
                        "BPF_MAP_TYPE_ARRAY",
                        MapKind::Array,
                        MapRole::Meter,
                        ("u32", 4),
                        ("struct p4tc_meter", crate::entry::METER_SIZE),
                        n,
                        None,
                        None,
                        Some(h),
                    );
                }
                _ => {
                    let _ = span;
                }
            }
        }
        Ok(())
    }

    /// The program function.
    fn main_function(&mut self, b: &Blocks, pipeline: &str) -> R<String> {
        let m = self.m;
        let parser = &m.block_types[b.parser];
        let control = &m.block_types[b.control];
        let deparser = &m.block_types[b.deparser];
        let pspan = m.block_types.span(b.parser);
        if parser.apply_params < 4 || control.apply_params < 4 || deparser.apply_params < 4 {
            return Err(CodegenError::Malformed(
                "PNA blocks take four parameters".into(),
            ));
        }
        let local =
            |body: &'m Body, i: usize| -> R<&'m Local> {
                body.locals.iter().nth(i).map(|(_, l)| l).ok_or_else(|| {
                    CodegenError::Malformed("a block body lacks its parameters".into())
                })
            };
        let hdr_ty = local(&parser.body, 1)?.ty;
        let meta_ty = local(&parser.body, 2)?.ty;
        let pistd_ty = local(&parser.body, 3)?.ty;
        let istd_ty = local(&control.body, 2)?.ty;
        let ostd_ty = local(&control.body, 3)?.ty;
        let hdr_c = self.ctype(hdr_ty, pspan)?;
        let meta_c = self.ctype(meta_ty, pspan)?;
        let pistd_c = self.ctype(pistd_ty, pspan)?;
        let istd_c = self.ctype(istd_ty, pspan)?;
        let ostd_c = self.ctype(ostd_ty, pspan)?;

        let names_for = |g: &mut Gen<'m>,
                         block: &'m BlockType,
                         prefix: &str,
                         params: [&str; 4]|
         -> R<(Vec<String>, Vec<String>)> {
            let mut names = Vec::new();
            let mut decls = Vec::new();
            for (i, (h, l)) in block.body.locals.iter().enumerate() {
                if i < 4 {
                    names.push(params[i].to_string());
                    continue;
                }
                let n = format!("{prefix}{i}_{}", ident(&l.name));
                match g.repr(l.ty) {
                    Repr::None => {}
                    _ => {
                        let span = block.body.locals.span(h);
                        let t = g.ctype(l.ty, span)?;
                        decls.push(format!("{t} {n} = {};", g.zero(l.ty)));
                    }
                }
                names.push(n);
            }
            Ok((names, decls))
        };
        let (pnames, pdecls) = names_for(self, parser, "p", ["pkt", "(*hdr)", "(*meta)", "pistd"])?;
        let (cnames, cdecls) =
            names_for(self, control, "c", ["(*hdr)", "(*meta)", "istd", "ostd"])?;
        let (dnames, ddecls) =
            names_for(self, deparser, "d", ["pkt", "(*hdr)", "(*meta)", "ostd"])?;

        let bytes = self.c_layout(hdr_ty).0 + self.c_layout(meta_ty).0;
        let in_map = match self.placement {
            crate::Placement::Stack => false,
            crate::Placement::Map => true,
            crate::Placement::Auto => bytes > crate::STACK_HEADERS_MAX,
        };
        self.split_hdr = !in_map && self.only_members_used(hdr_ty);
        self.find_lazy_fields(parser, meta_ty, pistd_ty);
        self.find_static_offsets(parser);
        self.find_lazy_varbits(parser);
        self.lazy_timestamp = self
            .field_index(istd_ty, "timestamp")
            .filter(|_| self.used_field_by_field(&control.body, istd_ty))
            .map(|i| (self.resolve(istd_ty), i as u32));

        // The three bodies.
        let mut po = Out::new(1);
        let pscope = Scope {
            body: &parser.body,
            names: pnames,
            ret: Ret::Goto("parser_accept".into()),
            exit: "parser_accept".into(),
            cont: None,
            table: None,
            deparser: false,
            depth: 0,
            parser: true,
        };
        self.parser_states(&pscope, parser, &mut po)?;

        let mut co = Out::new(1);
        let mut cscope = Scope {
            body: &control.body,
            names: cnames,
            ret: Ret::Goto("control_end".into()),
            exit: "control_end".into(),
            cont: None,
            table: None,
            deparser: false,
            depth: 0,
            parser: false,
        };
        self.block(&mut cscope, &control.body.block, &mut co)?;

        let mut dout = Out::new(1);
        let mut dscope = Scope {
            body: &deparser.body,
            names: dnames,
            ret: Ret::Goto("deparser_end".into()),
            exit: "deparser_end".into(),
            cont: None,
            table: None,
            deparser: true,
            depth: 0,
            parser: false,
        };
        self.block(&mut dscope, &deparser.body.block, &mut dout)?;
        let mut wo = Out::new(1);
        self.deparser_writes(&mut wo)?;

        // Assemble.
        let mut o = Out::new(0);
        let (sec, ctx) = match self.hook {
            Hook::Tc => ("classifier", "struct __sk_buff *skb"),
            Hook::Xdp => ("xdp", "struct xdp_md *ctx"),
        };
        o.line(format!(
            "/* Pipeline `{pipeline}`: parser `{}`, control `{}`, deparser `{}`. */",
            parser.name, control.name, deparser.name
        ));
        o.line(format!("SEC(\"{sec}\")"));
        o.line(format!("int p4tc_main({ctx})"));
        o.open("");
        if self.uses_recirculate {
            o.line(format!(
                "u32 pass_ = 0; /* recirculate(): at most {MAX_PASSES} passes */"
            ));
            o.label("pass_start");
        }
        match self.hook {
            Hook::Tc => {
                o.line("void *data = (void *)(long)skb->data;");
                o.line("void *data_end = (void *)(long)skb->data_end;");
                o.line("u32 pkt_len = skb->len;");
            }
            Hook::Xdp => {
                o.line("void *data = (void *)(long)ctx->data;");
                o.line("void *data_end = (void *)(long)ctx->data_end;");
                o.line("u32 pkt_len = (u32)(data_end - data);");
            }
        }
        o.line("u8 *cursor = data;");
        o.line("u32 parsed_len = 0;");
        o.line("u32 out_len = 0;");
        o.line(format!(
            "u32 parser_error = {}; /* NoError */",
            self.error_id("NoError")
        ));
        o.line("u8 drop = 0;");
        o.line("u32 egress_port = 0;");
        o.line("u8 dirty = 0; /* a header's validity changed: rewrite every header */");
        if self.uses_recirculate {
            o.line("u8 recirc_ = 0;");
        }
        if in_map {
            o.line(format!(
                "/* Headers and metadata ({bytes} bytes) live in a per-CPU scratch map. */"
            ));
            o.line("u32 scratch_key_ = 0;");
            o.line("struct p4tc_scratch *scratch_ = bpf_map_lookup_elem(&p4tc_scratch, &scratch_key_);");
            o.line("if (!scratch_)");
            o.line(format!("    return {};", self.verdict_drop()));
            o.line("__builtin_memset(scratch_, 0, sizeof(*scratch_));");
            o.line(format!("{hdr_c} *hdr = &scratch_->hdr;"));
            o.line(format!("{meta_c} *meta = &scratch_->meta;"));
            self.types.text.push_str(&format!(
                "/* Per-packet scratch space (Placement::Map). */\nstruct p4tc_scratch {{\n    {hdr_c} hdr;\n    {meta_c} meta;\n}};\n\n"
            ));
            let (size, _) = {
                let (h, ha) = self.c_layout(hdr_ty);
                let (m, ma) = self.c_layout(meta_ty);
                let al = ha.max(ma).max(1);
                let off = m_align(h, ma.max(1)) + m;
                (m_align(off, al), al)
            };
            self.types.text.push_str(&format!(
                "_Static_assert(sizeof(struct p4tc_scratch) == {size}, \"scratch layout\");\n\n"
            ));
            self.map_def(
                "p4tc_scratch",
                "BPF_MAP_TYPE_PERCPU_ARRAY",
                MapKind::PerCpuArray,
                MapRole::Scratch,
                ("u32", 4),
                ("struct p4tc_scratch", size),
                1,
                None,
                None,
                None,
            );
        } else if self.split_hdr {
            // One variable per member of the headers struct (see `Gen::split_hdr`).
            if let Type::Composite(c) = self.ty(self.resolve(hdr_ty)) {
                for f in &m.composites[*c].fields {
                    let t = self.ctype(f.ty, pspan)?;
                    o.line(format!("{t} hdr_{} = {};", ident(&f.name), self.zero(f.ty)));
                }
            }
            o.line(format!("{meta_c} meta_v = {{}};"));
            o.line(format!("{meta_c} *meta = &meta_v;"));
        } else {
            o.line(format!("{hdr_c} hdr_v = {{}};"));
            o.line(format!("{meta_c} meta_v = {{}};"));
            o.line(format!("{hdr_c} *hdr = &hdr_v;"));
            o.line(format!("{meta_c} *meta = &meta_v;"));
        }
        o.line(format!("{pistd_c} pistd = {{}};"));
        o.line(format!("{istd_c} istd = {{}};"));
        o.line(format!("{ostd_c} ostd = {{}};"));
        let ifindex = match self.hook {
            Hook::Tc => "skb->ifindex",
            Hook::Xdp => "ctx->ingress_ifindex",
        };
        if let Some(i) = self.field_index(pistd_ty, "input_port") {
            o.line(format!(
                "pistd.{} = {ifindex};",
                ident(&self.field_name(pistd_ty, i))
            ));
        }
        if let Some(i) = self.field_index(istd_ty, "input_port") {
            o.line(format!(
                "istd.{} = {ifindex};",
                ident(&self.field_name(istd_ty, i))
            ));
        }
        if self.uses_recirculate {
            for (ty, var) in [(pistd_ty, "pistd"), (istd_ty, "istd")] {
                if let Some(i) = self.field_index(ty, "recirculated") {
                    o.line(format!(
                        "{var}.{} = pass_ > 0;",
                        ident(&self.field_name(ty, i))
                    ));
                }
            }
        }
        if self.test_hooks {
            o.line("u32 tio_key_ = 0;");
            o.line("struct p4tc_test_io *tio_ = bpf_map_lookup_elem(&p4tc_test_io, &tio_key_);");
            o.line("if (tio_) {");
            if let Some(i) = self.field_index(pistd_ty, "input_port") {
                o.line(format!(
                    "    pistd.{} = tio_->input_port;",
                    ident(&self.field_name(pistd_ty, i))
                ));
            }
            if let Some(i) = self.field_index(istd_ty, "input_port") {
                o.line(format!(
                    "    istd.{} = tio_->input_port;",
                    ident(&self.field_name(istd_ty, i))
                ));
            }
            o.line("    tio_->egress_port = 0;");
            o.line("    tio_->drop = 1;");
            o.line("    tio_->parser_error = 0;");
            o.line("}");
        }
        for d in pdecls
            .iter()
            .chain(&cdecls)
            .chain(&ddecls)
            .chain(&self.extra_locals)
        {
            o.line(d);
        }
        o.line("");
        o.line("/* ---- Parser ---- */");
        o.text.push_str(&po.text);
        o.label("parser_reject");
        o.line(format!("if (parser_error == {})", self.error_id("NoError")));
        o.line(format!("    return {};", self.verdict_drop()));
        o.label("parser_accept");
        o.line("parsed_len = (u32)((void *)cursor - data);");
        if let Some(i) = self.field_index(istd_ty, "parser_error") {
            o.line(format!(
                "istd.{} = parser_error;",
                ident(&self.field_name(istd_ty, i))
            ));
        }
        if let Some(i) = self.field_index(istd_ty, "timestamp") {
            if self.lazy_timestamp.is_none() && self.reads_field(&control.body, istd_ty, i) {
                o.line(format!(
                    "istd.{} = bpf_ktime_get_ns();",
                    ident(&self.field_name(istd_ty, i))
                ));
            }
        }
        o.line("");
        o.line("/* ---- Control ---- */");
        o.text.push_str(&co.text);
        o.label("control_end");
        o.line("/* A dropped packet needs no deparsing. */");
        o.line("if (drop)");
        o.line(format!("    return {};", self.verdict_drop()));
        o.line("");
        o.line("/* ---- Deparser ---- */");
        o.text.push_str(&dout.text);
        o.label("deparser_end");
        o.text.push_str(&wo.text);
        o.label("verdict");
        if self.uses_recirculate {
            o.line(format!(
                "if (recirc_ && !drop && pass_ + 1 < {MAX_PASSES}) {{"
            ));
            o.line("    pass_++;");
            o.line("    goto pass_start;");
            o.line("}");
        }
        if self.test_hooks {
            o.line("if (tio_) { tio_->egress_port = egress_port; tio_->drop = drop; tio_->parser_error = parser_error; }");
        }
        o.line("if (drop)");
        o.line(format!("    return {};", self.verdict_drop()));
        if self.uses_cpu_port {
            // PacketIn: a copy for the controller. The verdict stays what it was (the
            // reference interpreter's too: sent out of port PNA_PORT_CPU), a redirect to an
            // ifindex no device has, which the kernel ends: the packet goes to the
            // controller only.
            let (kind, ctx, ifindex) = match self.hook {
                Hook::Tc => ("tc", "skb", "skb->ifindex"),
                Hook::Xdp => ("xdp", "ctx", "ctx->ingress_ifindex"),
            };
            o.line("if (egress_port == P4TC_PORT_CPU)");
            o.line(format!(
                "    p4tc_packet_in_{kind}(&p4tc_packet_in, {ctx}, {ifindex});"
            ));
        }
        o.line("if (egress_port == 0)");
        o.line(format!(
            "    return {};",
            match self.hook {
                Hook::Tc => "TC_ACT_OK",
                Hook::Xdp => "XDP_PASS",
            }
        ));
        o.line("return bpf_redirect(egress_port, 0);");
        o.close();
        Ok(o.text)
    }

    /// Fills [`Self::lazy_fields`]: in the parser's start state, before anything that can
    /// leave it, `meta.f = is_net_port(istd.p)` (or `is_host_port`), where no other
    /// statement anywhere writes `meta.f`, no call takes it (or the whole metadata) as an
    /// argument, the metadata is only ever used field by field, and no P4 function sees it.
    /// The parser's input metadata is fixed for the packet, so reading the answer where the
    /// field is read gives the same value; the host-port answer is kept per packet.
    fn find_lazy_fields(
        &mut self,
        parser: &'m BlockType,
        meta_ty: Handle<Type>,
        pistd_ty: Handle<Type>,
    ) {
        use p4tc_ir::ir::{Callee, ExprKind, Stmt};
        let m = self.m;
        let meta_ty = self.resolve(meta_ty);
        let Some(start) = parser.states.first() else {
            return;
        };
        let body = &parser.body;
        let is_local = |e: Handle<p4tc_ir::ir::Expr>, idx: usize| matches!(body.exprs[e].kind, ExprKind::Local(l) if l.index() == idx);
        // `is_net_port(pistd.f)` / `is_host_port(pistd.f)`: the field's index and whether it
        // is `is_net_port`.
        let port_question = |e: Handle<p4tc_ir::ir::Expr>| -> Option<(u32, bool)> {
            let ExprKind::Call {
                callee: Callee::ExternFunction { name, .. },
                args,
            } = &body.exprs[e].kind
            else {
                return None;
            };
            if !(name == "is_net_port" || name == "is_host_port") || args.len() != 1 {
                return None;
            }
            let ExprKind::Field { base, index } = &body.exprs[args[0]].kind else {
                return None;
            };
            is_local(*base, 3).then_some((*index, name == "is_net_port"))
        };
        // Candidates: the leading assignments of the start state, `meta.f = question` or
        // `meta.f = question ? constant : constant`.
        let mut cands: Vec<(u32, LazyField, Handle<p4tc_ir::ir::Expr>)> = Vec::new();
        for st in &start.block.stmts {
            let Stmt::Assign { lhs, rhs } = st else { break };
            if matches!(body.exprs[*rhs].kind, ExprKind::Literal(_)) {
                continue;
            }
            let ExprKind::Field { base, index } = &body.exprs[*lhs].kind else {
                break;
            };
            if !is_local(*base, 2) {
                break;
            }
            let lazy = match &body.exprs[*rhs].kind {
                ExprKind::Select {
                    cond,
                    then,
                    otherwise,
                } => {
                    let (Some((pi, net)), ExprKind::Literal(a), ExprKind::Literal(b)) = (
                        port_question(*cond),
                        &body.exprs[*then].kind,
                        &body.exprs[*otherwise].kind,
                    ) else {
                        break;
                    };
                    let (ta, tb) = (body.exprs[*then].ty, body.exprs[*otherwise].ty);
                    let (sa, sb) = (body.exprs.span(*then), body.exprs.span(*otherwise));
                    let (Ok(a), Ok(b)) = (self.literal(a, ta, sa), self.literal(b, tb, sb)) else {
                        break;
                    };
                    LazyField {
                        port: self.port_field(pistd_ty, pi),
                        net,
                        arms: Some((a, b)),
                    }
                }
                _ => match port_question(*rhs) {
                    Some((pi, net)) => LazyField {
                        port: self.port_field(pistd_ty, pi),
                        net,
                        arms: None,
                    },
                    None => break,
                },
            };
            cands.push((*index, lazy, *lhs));
        }
        if cands.is_empty() {
            return;
        }
        // Every body the metadata may appear in, with the arena its statements index.
        let mut bodies: Vec<(&'m Body, Vec<&'m p4tc_ir::ir::Block>)> = Vec::new();
        for (_, bt) in m.block_types.iter() {
            let mut blocks = vec![&bt.body.block];
            blocks.extend(bt.states.iter().map(|st| &st.block));
            bodies.push((&bt.body, blocks));
        }
        for (_, a) in m.actions.iter() {
            let arena = match a.control {
                Some(c) => &m.block_types[c].body,
                None => &a.body,
            };
            bodies.push((arena, vec![&a.body.block]));
        }
        // A P4 function that sees the metadata at all: no lazy fields (its own C function
        // has no per-packet answer in scope).
        for (_, f) in m.functions.iter() {
            if f.body
                .exprs
                .iter()
                .any(|(_, e)| self.resolve(e.ty) == meta_ty)
            {
                return;
            }
        }
        // The metadata is the blocks' parameter and nothing else: no variable or action
        // parameter of its type (reads of `meta.f` are recognised by type).
        for (_, bt) in m.block_types.iter() {
            if bt
                .body
                .locals
                .iter()
                .skip(4)
                .any(|(_, l)| self.resolve(l.ty) == meta_ty)
            {
                return;
            }
        }
        for (_, a) in m.actions.iter() {
            if a.body
                .locals
                .iter()
                .any(|(_, l)| self.resolve(l.ty) == meta_ty)
            {
                return;
            }
        }
        let mut bad: BTreeSet<u32> = BTreeSet::new();
        for (arena, blocks) in &bodies {
            let meta_field = |e: Handle<p4tc_ir::ir::Expr>| -> Option<u32> {
                match &arena.exprs[e].kind {
                    ExprKind::Field { base, index }
                        if self.resolve(arena.exprs[*base].ty) == meta_ty =>
                    {
                        Some(*index)
                    }
                    _ => None,
                }
            };
            // The fields an expression writes through (its chain of fields and slices); the
            // whole metadata when the expression is the metadata itself (the base of a field
            // chain is the metadata too, but writing `meta.f` writes `f` only).
            let roots = |mut e: Handle<p4tc_ir::ir::Expr>, bad: &mut BTreeSet<u32>| {
                if self.resolve(arena.exprs[e].ty) == meta_ty {
                    bad.extend(cands.iter().map(|c| c.0));
                }
                loop {
                    if let Some(i) = meta_field(e) {
                        bad.insert(i);
                    }
                    match &arena.exprs[e].kind {
                        ExprKind::Field { base, .. }
                        | ExprKind::Slice { base, .. }
                        | ExprKind::Element { base, .. }
                        | ExprKind::StackMember { base, .. } => e = *base,
                        _ => break,
                    }
                }
            };
            // Metadata used whole (not as a field's base): every candidate is off.
            if !self.used_field_by_field(arena, meta_ty) {
                bad.extend(cands.iter().map(|c| c.0));
            }
            for (_, e) in arena.exprs.iter() {
                if let ExprKind::Call { args, .. } = &e.kind {
                    for a in args {
                        roots(*a, &mut bad);
                    }
                }
            }
            let mut stack: Vec<&p4tc_ir::ir::Block> = blocks.clone();
            while let Some(b) = stack.pop() {
                for st in &b.stmts {
                    if let Stmt::Assign { lhs, .. } = st {
                        let own = std::ptr::eq(*arena, body) && cands.iter().any(|c| c.2 == *lhs);
                        if !own {
                            roots(*lhs, &mut bad);
                        }
                    }
                    stack.extend(st.blocks());
                }
            }
        }
        // A field assigned twice in the start state is not lazy either.
        let mut seen = BTreeSet::new();
        for c in &cands {
            if !seen.insert(c.0) {
                bad.insert(c.0);
            }
        }
        for (i, lazy, lhs) in cands {
            if !bad.contains(&i) {
                self.lazy_fields.insert((meta_ty, i), lazy);
                self.lazy_assigns.insert(lhs);
            }
        }
    }

    /// Fills [`Self::lazy_varbits`]: headers with a varbit that one parser statement
    /// extracts (not into a stack) and that every body uses only through their other fields,
    /// validity builtins, extract and emit; a value holding such a header whole (the
    /// header struct passed on, a header copied, assigned or looked ahead) rules it out.
    fn find_lazy_varbits(&mut self, parser: &'m BlockType) {
        use p4tc_ir::ir::{Callee, ExprKind};
        let m = self.m;
        let mut cands: Vec<Handle<Composite>> = Vec::new();
        for (h, c) in m.composites.iter() {
            if c.kind == CompositeKind::Header && self.varbit_of(h).is_some() {
                cands.push(h);
            }
        }
        if cands.is_empty() {
            return;
        }
        // Exactly one extract fills each, not through a stack.
        let mut extracts: HashMap<Handle<Composite>, u32> = HashMap::new();
        for (_, e) in parser.body.exprs.iter() {
            if let ExprKind::Call {
                callee: Callee::ExternMethod { def, method, .. },
                args,
            } = &e.kind
            {
                if m.externs[*def].name == "packet_in" && method == "extract" {
                    if let Some(t) = args.get(1) {
                        let te = &parser.body.exprs[*t];
                        if let Some(c) = self.header_of(self.resolve(te.ty)) {
                            let n = extracts.entry(c).or_default();
                            *n += if matches!(
                                te.kind,
                                ExprKind::StackMember { .. } | ExprKind::Element { .. }
                            ) {
                                2
                            } else {
                                1
                            };
                        }
                    }
                }
            }
        }
        cands.retain(|c| extracts.get(c) == Some(&1));
        let mut bodies: Vec<&'m Body> = m.block_types.iter().map(|(_, b)| &b.body).collect();
        bodies.extend(m.actions.iter().map(|(_, a)| &a.body));
        bodies.extend(m.functions.iter().map(|(_, f)| &f.body));
        for body in bodies {
            // Expressions something uses (another expression, a statement): the front-end
            // leaves some unused ones behind (the receiver of `maxSizeInBits()`).
            let mut used = BTreeSet::new();
            for (_, e) in body.exprs.iter() {
                used.extend(operands(&e.kind));
            }
            used.extend(stmt_exprs(&body.block));
            for bt in m.block_types.iter().map(|(_, b)| b) {
                if std::ptr::eq(&bt.body, body) {
                    for st in &bt.states {
                        used.extend(stmt_exprs(&st.block));
                        if let p4tc_ir::ir::Transition::Select { keys, .. } = &st.transition {
                            used.extend(keys.iter().copied());
                        }
                    }
                }
            }
            for a in m.actions.iter().map(|(_, a)| a) {
                used.extend(stmt_exprs(&a.body.block));
            }
            for t in m.tables.iter().map(|(_, t)| t) {
                used.extend(t.keys.iter().map(|k| k.expr));
            }
            let mut ok_uses = BTreeSet::new();
            for (_, e) in body.exprs.iter() {
                match &e.kind {
                    ExprKind::Field { base, .. } => {
                        ok_uses.insert(*base);
                    }
                    ExprKind::Call { callee, args } => {
                        let allowed = match callee {
                            Callee::Builtin(_) => true,
                            Callee::ExternMethod { def, method, .. } => {
                                let ext = m.externs[*def].name.as_str();
                                (ext == "packet_in" && method == "extract")
                                    || (ext == "packet_out" && method == "emit")
                            }
                            _ => false,
                        };
                        if allowed {
                            ok_uses.extend(args.iter().copied());
                        }
                    }
                    _ => {}
                }
            }
            for (h, e) in body.exprs.iter() {
                if !used.contains(&h) {
                    continue;
                }
                if let ExprKind::Field { base, index } = &e.kind {
                    if let Some(c) = self.header_of(self.resolve(body.exprs[*base].ty)) {
                        let last = m.composites[c].fields.len().saturating_sub(1);
                        if *index as usize == last {
                            cands.retain(|x| *x != c);
                        }
                    }
                }
                if !ok_uses.contains(&h) {
                    cands.retain(|c| !self.type_holds(e.ty, *c));
                }
            }
        }
        self.lazy_varbits = cands.into_iter().map(|c| (c, None)).collect();
    }

    /// True when a value of type `ty` holds a header `c` (is one, or a struct or stack with
    /// one inside).
    fn type_holds(&self, ty: Handle<Type>, c: Handle<Composite>) -> bool {
        match self.ty(self.resolve(ty)) {
            Type::Composite(x) => {
                *x == c
                    || self.m.composites[*x]
                        .fields
                        .iter()
                        .any(|f| self.type_holds(f.ty, c))
            }
            Type::Stack { element, .. } => self.type_holds(*element, c),
            Type::Tuple(items) => items.iter().any(|t| self.type_holds(*t, c)),
            _ => false,
        }
    }

    /// True when the headers struct (type `hdr_ty`) is a struct that every body uses only
    /// member by member (or whole in `emit`): its members may then be separate variables.
    fn only_members_used(&self, hdr_ty: Handle<Type>) -> bool {
        use p4tc_ir::ir::{Callee, ExprKind};
        let hdr_ty = self.resolve(hdr_ty);
        let Type::Composite(c) = self.ty(hdr_ty) else {
            return false;
        };
        if self.m.composites[*c].kind != CompositeKind::Struct {
            return false;
        }
        let m = self.m;
        let mut bodies: Vec<&'m Body> = m.block_types.iter().map(|(_, b)| &b.body).collect();
        bodies.extend(m.actions.iter().map(|(_, a)| &a.body));
        bodies.extend(m.functions.iter().map(|(_, f)| &f.body));
        for body in bodies {
            let mut ok = BTreeSet::new();
            for (_, e) in body.exprs.iter() {
                match &e.kind {
                    ExprKind::Field { base, .. } => {
                        ok.insert(*base);
                    }
                    ExprKind::Call {
                        callee: Callee::ExternMethod { def, method, .. },
                        args,
                    } if m.externs[*def].name == "packet_out" && method == "emit" => {
                        ok.extend(args.iter().copied());
                    }
                    _ => {}
                }
            }
            for (h, e) in body.exprs.iter() {
                if self.resolve(e.ty) == hdr_ty && !ok.contains(&h) {
                    return false;
                }
            }
        }
        true
    }

    /// `base.f` as C: a member of the headers struct is its own variable when
    /// [`Self::split_hdr`] holds.
    pub(crate) fn member(&self, base: &str, f: &str) -> String {
        if self.split_hdr && base == "(*hdr)" {
            return format!("hdr_{f}");
        }
        expr::field_access(base, f)
    }

    /// The C size and alignment of a value of type `ty` (as clang lays out our structs).
    pub(crate) fn c_layout(&self, ty: Handle<Type>) -> (u32, u32) {
        let ty = self.resolve(ty);
        match self.ty(ty) {
            Type::Bool => (1, 1),
            Type::Bits { width, .. } if *width <= 64 => {
                let b = out::cbits(*width) / 8;
                (b, b)
            }
            Type::Bits { width, .. } => (width.div_ceil(8), 1),
            Type::Varbit { max_width } => (m_align(max_width.div_ceil(8), 4) + 4, 4),
            Type::Error | Type::Enum(_) | Type::MatchKind => (4, 4),
            Type::Integer => (8, 8),
            Type::Composite(c) => {
                let comp = &self.m.composites[*c];
                let (mut off, mut al) = (0u32, 1u32);
                for f in &comp.fields {
                    let (s, a) = self.c_layout(f.ty);
                    off = m_align(off, a) + s;
                    al = al.max(a);
                }
                if comp.kind == CompositeKind::Header {
                    off += 1;
                }
                (m_align(off, al), al)
            }
            Type::Stack { element, size } => {
                let (s, a) = self.c_layout(*element);
                let off = m_align(s * size, 4) + 4;
                (m_align(off, a.max(4)), a.max(4))
            }
            Type::Tuple(items) => {
                let (mut off, mut al) = (0u32, 1u32);
                for t in items {
                    let (s, a) = self.c_layout(*t);
                    off = m_align(off, a) + s;
                    al = al.max(a);
                }
                (m_align(off, al), al)
            }
            _ => (0, 1),
        }
    }

    pub(crate) fn verdict_drop(&self) -> &'static str {
        match self.hook {
            Hook::Tc => "TC_ACT_SHOT",
            Hook::Xdp => "XDP_DROP",
        }
    }

    pub(crate) fn error_id(&self, name: &str) -> u32 {
        self.error_ids.get(name).copied().unwrap_or(0)
    }

    pub(crate) fn field_index(&self, ty: Handle<Type>, name: &str) -> Option<usize> {
        match self.ty(ty) {
            Type::Composite(c) => self.m.composites[*c]
                .fields
                .iter()
                .position(|f| f.name == name),
            _ => None,
        }
    }

    pub(crate) fn field_name(&self, ty: Handle<Type>, index: usize) -> String {
        match self.ty(ty) {
            Type::Composite(c) => self.m.composites[*c]
                .fields
                .get(index)
                .map(|f| f.name.clone())
                .unwrap_or_default(),
            Type::Tuple(_) => format!("f{index}"),
            _ => String::new(),
        }
    }

    /// True when some expression of `body` reads field `index` of a value of type `ty`.
    /// `pistd.f`, the parser input metadata's field `index`, as C.
    fn port_field(&self, pistd_ty: Handle<Type>, index: u32) -> String {
        format!(
            "pistd.{}",
            ident(&self.field_name(pistd_ty, index as usize))
        )
    }

    /// Every expression of type `ty` in `body` is the base of a field access: nothing copies
    /// it whole or passes it to a call, so a field may be computed where it is read.
    fn used_field_by_field(&self, body: &Body, ty: Handle<Type>) -> bool {
        use p4tc_ir::ir::ExprKind;
        let ty = self.resolve(ty);
        let as_base: BTreeSet<_> = body
            .exprs
            .iter()
            .filter_map(|(_, e)| match &e.kind {
                ExprKind::Field { base, .. } => Some(*base),
                _ => None,
            })
            .collect();
        body.exprs
            .iter()
            .all(|(h, e)| self.resolve(e.ty) != ty || as_base.contains(&h))
    }

    fn reads_field(&self, body: &Body, ty: Handle<Type>, index: usize) -> bool {
        body.exprs.iter().any(|(_, e)| match &e.kind {
            p4tc_ir::ir::ExprKind::Field { base, index: i } => {
                *i as usize == index && body.exprs[*base].ty == ty
            }
            _ => false,
        })
    }

    /// The C struct of an action's parameter blob (None when it has no action data).
    pub(crate) fn action_struct(&mut self, action: Handle<Action>) -> R<Option<String>> {
        if let Some(s) = self.action_structs.get(&action) {
            return Ok(s.clone());
        }
        let pl = layout::action_param_layout(self.m, action)?;
        let s = if pl.size == 0 {
            None
        } else {
            let name = format!("struct {}_params", self.action_cname(action));
            let mut t = format!("{name} {{\n");
            let mut used = BTreeSet::new();
            for p in &pl.params {
                let mut n = ident(&p.field.name);
                while !used.insert(n.clone()) {
                    n.push('_');
                }
                t.push_str(&format!("    u8 {n}[{}];\n", p.field.size));
            }
            if pl.size > pl.data_size {
                t.push_str(&format!("    u8 _pad[{}];\n", pl.size - pl.data_size));
            }
            t.push_str("};\n");
            t.push_str(&format!(
                "_Static_assert(sizeof({name}) == {}, \"parameter layout\");\n\n",
                pl.size
            ));
            self.types.text.push_str(&t);
            Some(name)
        };
        self.action_structs.insert(action, s.clone());
        Ok(s)
    }

    /// The C field names of an action's parameter struct, by parameter index.
    pub(crate) fn action_param_fields(
        &self,
        action: Handle<Action>,
    ) -> R<Vec<(usize, String, u32, u32)>> {
        let pl = layout::action_param_layout(self.m, action)?;
        let mut used = BTreeSet::new();
        let mut v = Vec::new();
        for p in &pl.params {
            let mut n = ident(&p.field.name);
            while !used.insert(n.clone()) {
                n.push('_');
            }
            v.push((p.index, n, p.field.width, p.field.size));
        }
        Ok(v)
    }

    pub(crate) fn action_cname(&self, action: Handle<Action>) -> String {
        let a = &self.m.actions[action];
        let owner = a
            .control
            .map(|c| format!("{}_", self.m.block_types[c].name))
            .unwrap_or_default();
        ident(&format!("{owner}{}", a.name))
    }
}

/// The expressions an expression uses directly.
fn operands(k: &p4tc_ir::ir::ExprKind) -> Vec<Handle<p4tc_ir::ir::Expr>> {
    use p4tc_ir::ir::ExprKind as K;
    match k {
        K::Field { base, .. } | K::Slice { base, .. } | K::StackMember { base, .. } => {
            vec![*base]
        }
        K::Element { base, index } => vec![*base, *index],
        K::DynamicSlice { base, lo, .. } => vec![*base, *lo],
        K::Unary { operand, .. } => vec![*operand],
        K::Binary { lhs, rhs, .. } => vec![*lhs, *rhs],
        K::Select {
            cond,
            then,
            otherwise,
        } => vec![*cond, *then, *otherwise],
        K::Cast(e) => vec![*e],
        K::Compose(items) => items.clone(),
        K::Call { args, .. } => args.clone(),
        _ => Vec::new(),
    }
}

/// The expressions a block's statements use directly (nested blocks included).
fn stmt_exprs(b: &p4tc_ir::ir::Block) -> Vec<Handle<p4tc_ir::ir::Expr>> {
    use p4tc_ir::ir::Stmt;
    let mut out = Vec::new();
    let mut stack = vec![b];
    while let Some(b) = stack.pop() {
        for st in &b.stmts {
            match st {
                Stmt::Assign { lhs, rhs } => out.extend([*lhs, *rhs]),
                Stmt::Call(e) => out.push(*e),
                Stmt::Declare { init, .. } => out.extend(init.iter().copied()),
                Stmt::If { cond, .. } | Stmt::Loop { cond, .. } => out.push(*cond),
                Stmt::Switch { selector, .. } => out.push(*selector),
                Stmt::Return(e) => out.extend(e.iter().copied()),
                _ => {}
            }
            stack.extend(st.blocks());
        }
    }
    out
}

/// The C struct of a counter's value (declared once per shape).
pub(crate) fn counter_struct(types: &mut Out, c: &CounterLayout) -> String {
    let (name, fields): (&str, &[&str]) =
        match (c.packets_offset.is_some(), c.bytes_offset.is_some()) {
            (true, true) => ("p4tc_counter_pb", &["packets", "bytes"]),
            (true, false) => ("p4tc_counter_p", &["packets"]),
            _ => ("p4tc_counter_b", &["bytes"]),
        };
    let decl = format!("struct {name} {{\n");
    if !types.text.contains(&decl) {
        let mut t = decl;
        for f in fields {
            t.push_str(&format!("    u64 {f};\n"));
        }
        t.push_str("};\n\n");
        types.text.push_str(&t);
    }
    format!("struct {name}")
}

/// A compile-time value as a list of unsigned field values (scalars and flat structs).
pub(crate) fn flatten_value(v: &Value) -> Vec<num_bigint::BigUint> {
    match v {
        Value::Tuple(items) => items.iter().flat_map(flatten_value).collect(),
        other => vec![value_uint(other)],
    }
}

/// The unsigned bits of a scalar value (negative integers are not expected here: they are
/// reduced to their type's range).
pub(crate) fn value_uint(v: &Value) -> num_bigint::BigUint {
    use num_bigint::BigUint;
    match v {
        Value::Int(i) => i.to_biguint().unwrap_or_default(),
        Value::Bool(b) => BigUint::from(u8::from(*b)),
        Value::Error(e) | Value::Enum(e) | Value::MatchKind(e) => BigUint::from(*e),
        _ => BigUint::default(),
    }
}

/// A metadata field the parser sets from a host-port question and nothing else writes
/// ([`Gen::lazy_fields`]): asked where it is read.
#[derive(Clone, Debug)]
pub(crate) struct LazyField {
    /// The C expression of the port asked about.
    pub(crate) port: String,
    /// `is_net_port` (else `is_host_port`).
    pub(crate) net: bool,
    /// `question ? a : b`: the two constants, as C.
    pub(crate) arms: Option<(String, String)>,
}
