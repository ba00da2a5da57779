//! P4TC's eBPF datapath: a P4 program (as a validated [`Module`]) becomes readable C, which
//! clang compiles into one BPF object holding one program (TC or XDP) and its maps.
//!
//! [`generate`] writes `PROG.c` and our runtime header `p4tc_runtime.h` (the static inline
//! helpers that stand in for P4TC's kfuncs), and describes every map ([`MapSpec`]) and the
//! entries the loader must install before the program runs ([`MapInit`]: const and program
//! entries, default actions). [`clang::compile`] turns the C into an object file;
//! [`loader`] loads it (aya), installs those elements, pins the maps and attaches the program;
//! [`sys`] runs a loaded program on a packet (`BPF_PROG_TEST_RUN`).
//!
//! # How the program is shaped
//! - One function, `p4tc_main`, in section `classifier` (TC: tcx or clsact; the name aya 0.13 and libbpf both accept) or `xdp`: the parser as a
//!   state machine (labels and `goto`), the main control inlined (actions are expanded where
//!   they run, so the control's variables stay in registers), then the deparser.
//! - Headers and metadata are C structs whose fields are host-order integers (`u8` .. `u64`,
//!   the smallest that holds the width) with a `__valid` byte per header; fields wider than 64
//!   bits are big-endian byte arrays (`p4tc_wN_t`) that support copies, comparisons and keys.
//!   Small pipelines keep them on the stack, larger ones in a per-CPU scratch map.
//! - The parser reads through a cursor checked against `data_end` before every header; an
//!   error (`PacketTooShort`, `verify`) sets `parser_error` and goes on into the control; a
//!   plain `reject` drops the packet.
//! - The deparser writes back only headers the program may have changed, in place, unless the
//!   headers' total size or validity changed; then it resizes the packet
//!   (`bpf_skb_adjust_room` after the MAC header / `bpf_xdp_adjust_head`) and writes every
//!   valid header.
//! - At the end: dropped gives `TC_ACT_SHOT` (`XDP_DROP`), no port chosen (port 0) gives
//!   `TC_ACT_OK` (`XDP_PASS`), otherwise `bpf_redirect(port, 0)`.
//!
//! # Tables in maps
//! See [`entry`] for the value layout. Exact tables are open addressing in an mmap-able array
//! ([`open_table`]), or hash maps keyed by the layout's key blob when the datapath adds
//! entries to them; LPM tables are LPM tries (`BPF_F_NO_PREALLOC`) keyed by the LPM key
//! blob; ternary and optional tables a tuple-space search: an array of masks and a hash map
//! keyed by (mask index, masked key). Each table has a two-slot array of default actions
//! (hit, miss).
//!
//! # Aging
//! Dynamic entries age out in the kernel: a BPF timer (one per pipeline, in a map that bpffs
//! pins keep alive) sweeps the exact and ternary tables and deletes entries unused for their
//! timer profile's time, publishing delete events by the timer. See [`aging`].

#![warn(missing_docs)]

pub mod aging;
pub mod backend;
pub mod bulk;
pub mod clang;
pub mod entry;
mod gen;
pub mod loader;
pub mod open_table;
pub mod sys;
pub mod table_map;

use p4tc_ir::arena::Handle;
use p4tc_ir::ir::{Instance, Module, Table};
use p4tc_ir::Span;

pub use gen::{generate, generate_with};

/// Options of [`generate_with`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Add the `p4tc_test_io` map (role [`MapRole::TestIo`]): the program takes its input port
    /// from it and records there each packet's egress port, drop flag and parser error, so
    /// tests under `BPF_PROG_TEST_RUN` can see where a redirected packet would go. Costs a map
    /// lookup per packet: for tests only.
    pub test_hooks: bool,
    /// Where the headers and metadata live during a packet.
    pub placement: Placement,
    /// How exact tables keep their entries.
    pub exact_tables: ExactTables,
}

/// How exact tables keep their entries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ExactTables {
    /// Open addressing ([`open_table`]) for every exact table the datapath does not add
    /// entries to and whose slot fits in 128 bytes; the kernel's hash map for the others.
    #[default]
    Open,
    /// The kernel's hash map for every exact table (what p4tc did before open addressing;
    /// kept to measure one against the other).
    Hash,
}

/// Where a packet's headers and user metadata live.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Placement {
    /// On the stack when they are small (at most [`STACK_HEADERS_MAX`] bytes), else in a
    /// one-element per-CPU array (the BPF stack is 512 bytes in all).
    #[default]
    Auto,
    /// Always on the stack.
    Stack,
    /// Always in the per-CPU scratch map (role [`MapRole::Scratch`]). The verifier cannot
    /// see validity bits in map memory, so programs with header stacks may exceed its
    /// complexity limit this way (mpls_label_stack and vlan_tagging do).
    Map,
}

/// The most bytes of headers and metadata [`Placement::Auto`] keeps on the stack.
pub const STACK_HEADERS_MAX: u32 = 192;

/// The text of our runtime header, written next to `PROG.c` as `p4tc_runtime.h`.
pub const RUNTIME_HEADER: &str = include_str!("p4tc_runtime.h");

/// Where the program runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Hook {
    /// TC (tcx or clsact), a `sched_cls` program in section `classifier`.
    Tc,
    /// XDP, in section `xdp`.
    Xdp,
}

/// What kind of BPF map.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MapKind {
    /// `BPF_MAP_TYPE_HASH`: exact tables the datapath adds to, tuple-space entries.
    Hash,
    /// `BPF_MAP_TYPE_LPM_TRIE` (with `BPF_F_NO_PREALLOC`).
    LpmTrie,
    /// `BPF_MAP_TYPE_ARRAY`: default actions, masks, registers, scratch.
    Array,
    /// `BPF_MAP_TYPE_PERCPU_ARRAY`: counters, per-packet scratch.
    PerCpuArray,
    /// `BPF_MAP_TYPE_RINGBUF`: digests.
    RingBuf,
    /// `BPF_MAP_TYPE_ARRAY` with `BPF_F_MMAPABLE`: an exact table kept as open addressing
    /// (element 0 a header, then the slots; [`open_table`]).
    OpenTable,
}

/// What a map holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MapRole {
    /// The entries of a table (exact and LPM tables; a ternary table's (mask, key) entries).
    Entries,
    /// A table's default actions: slot 0 the default hit action, slot 1 the default miss.
    Defaults,
    /// A ternary table's masks (`nummask` slots; a used one starts with the word 1).
    Masks,
    /// An indexed `Counter`'s counts.
    Counter,
    /// A `Register`'s elements.
    Register,
    /// An indexed `Meter`'s states ([`entry::MeterState`]).
    Meter,
    /// A `Digest`'s ring buffer.
    Digest,
    /// The ports `is_host_port` says are host ports (key: ifindex `u32`, value: `u32` 1).
    HostPorts,
    /// Per-packet scratch space of the program (headers and metadata of large pipelines).
    Scratch,
    /// The last flow id `allocate_flow_id` gave (one `u64`, key 0).
    FlowIds,
    /// Test hooks ([`Options::test_hooks`]): `struct { u32 input_port, egress_port, drop,
    /// parser_error; }` at key 0.
    TestIo,
    /// A parser value set: key the member's big-endian bytes (padded to 4), value `u32` 1.
    ValueSet,
    /// Timer profiles ([`aging`]): 16 `u64` ages in ns, key the profile number; 0 = none.
    TimerProfiles,
    /// The aging sweep's timer ([`aging`]): one `struct p4tc_aging_timer`.
    AgingTimer,
    /// Events of entries the aging timer deleted ([`aging::AgingEvent`]).
    AgingEvents,
    /// Per swept table (key its id), a `u64` non-zero while it may hold a dynamic entry
    /// ([`aging::mark_dynamic`]).
    AgingDynamic,
}

/// One map of the generated object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapSpec {
    /// The map's symbol name in the object (what aya's `Ebpf::map` takes).
    pub name: String,
    /// Its kind.
    pub kind: MapKind,
    /// What it holds.
    pub role: MapRole,
    /// Key size in bytes (0 for a ring buffer).
    pub key_size: u32,
    /// Value size in bytes (0 for a ring buffer).
    pub value_size: u32,
    /// Maximum entries (bytes for a ring buffer).
    pub max_entries: u32,
    /// The table it belongs to.
    pub table: Option<Handle<Table>>,
    /// The extern instance it belongs to.
    pub instance: Option<Handle<Instance>>,
}

/// One map element the loader writes before the program runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapInit {
    /// The map's symbol name.
    pub map: String,
    /// The key bytes.
    pub key: Vec<u8>,
    /// The value bytes.
    pub value: Vec<u8>,
    /// Why it is there.
    pub what: InitKind,
}

/// Why an element is written at load time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InitKind {
    /// A table entry given in the program (`entries` / `const entries`).
    Entry {
        /// It is const (immutable).
        is_const: bool,
    },
    /// A default action (hit or miss) given in the program.
    DefaultAction,
    /// A used mask slot of a ternary table (for the program's entries).
    Mask,
    /// A register's initial value.
    RegisterInit,
    /// A timer profile's default age ([`aging`]).
    TimerProfile,
    /// A swept table's "may hold dynamic entries" word, set at load ([`aging::mark_dynamic`]).
    AgingDynamic,
}

/// What [`generate`] produces.
#[derive(Clone, Debug)]
pub struct Generated {
    /// `PROG.c`.
    pub c: String,
    /// `p4tc_runtime.h` (the same as [`RUNTIME_HEADER`]).
    pub header: String,
    /// The program's symbol name (`p4tc_main`).
    pub program: String,
    /// The hook it was generated for.
    pub hook: Hook,
    /// Every table: its maps and layouts.
    pub tables: Vec<TableSpec>,
    /// Every map of the object.
    pub maps: Vec<MapSpec>,
    /// Elements to write at load time, in order: masks before the entries that use them.
    pub const_entries: Vec<MapInit>,
}

impl Generated {
    /// The map spec named `name`.
    pub fn map(&self, name: &str) -> Option<&MapSpec> {
        self.maps.iter().find(|m| m.name == name)
    }

    /// The entries map of `table`.
    pub fn table_map(&self, table: Handle<Table>) -> Option<&MapSpec> {
        self.maps
            .iter()
            .find(|m| m.table == Some(table) && m.role == MapRole::Entries)
    }

    /// The table named `name` (P4TC's `ingress/nh_table`, or `ingress.nh_table`, or just
    /// `nh_table` when that is unambiguous).
    pub fn table(&self, name: &str) -> Option<&TableSpec> {
        let slashed = name.replace('.', "/");
        self.tables.iter().find(|t| t.name == slashed).or_else(|| {
            let mut it = self
                .tables
                .iter()
                .filter(|t| t.name.rsplit('/').next() == Some(name));
            let first = it.next();
            if it.next().is_some() {
                None
            } else {
                first
            }
        })
    }

    /// Writes `PROG.c` and `p4tc_runtime.h` into `dir` (created if missing); returns the path
    /// of the C file.
    pub fn write_to(
        &self,
        dir: &std::path::Path,
        name: &str,
    ) -> std::io::Result<std::path::PathBuf> {
        std::fs::create_dir_all(dir)?;
        let c = dir.join(format!("{name}.c"));
        std::fs::write(&c, &self.c)?;
        std::fs::write(dir.join("p4tc_runtime.h"), &self.header)?;
        Ok(c)
    }
}

/// A table as the generated program keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableSpec {
    /// The IR table.
    pub table: Handle<Table>,
    /// P4TC's name (`ingress/nh_table`).
    pub name: String,
    /// The entries map.
    pub map: String,
    /// The two-slot default actions map ([`entry::DEFAULT_HIT`], [`entry::DEFAULT_MISS`]).
    pub defaults_map: String,
    /// The masks map of a ternary (tuple-space) table.
    pub masks_map: Option<String>,
    /// The key blob's layout (the map key; a ternary table's map key prefixes the mask index).
    pub key: p4tc_ir::layout::KeyLayout,
    /// The map value's layout.
    pub value: entry::ValueLayout,
    /// The table's permissions (CRUDXPS).
    pub permissions: u16,
    /// Mask slots (ternary tables).
    pub nummask: u32,
    /// The actions it may run with their program-wide ids (0: `NoAction`).
    pub actions: Vec<(Handle<p4tc_ir::ir::Action>, u32)>,
    /// The most entries it holds (P4's `size`, P4TC's `tentries`).
    pub size: u32,
    /// The slots' layout of an exact table kept as open addressing (its entries map is then
    /// of kind [`MapKind::OpenTable`]); None for a kernel hash map, trie or tuple space.
    pub open: Option<open_table::OpenLayout>,
}

/// Why C cannot be generated.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CodegenError {
    /// The program uses something this back end does not do (yet).
    #[error("the eBPF back end does not support {what}")]
    Unsupported {
        /// What, in words (naming the table, extern or construct).
        what: String,
        /// Where it was written.
        span: Span,
    },
    /// A byte layout could not be computed.
    #[error(transparent)]
    Layout(#[from] p4tc_ir::layout::LayoutError),
    /// The introspection could not be computed (ids, sizes and permissions come from it).
    #[error(transparent)]
    Introspection(#[from] p4tc_ir::introspection::IntrospectionError),
    /// An entry given in the program could not be encoded.
    #[error("table `{table}`: entry {index}: {reason}")]
    Entry {
        /// The table.
        table: String,
        /// The entry's position, from 0.
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// The module is not what a validated module must be.
    #[error("malformed module: {0}")]
    Malformed(String),
}

impl CodegenError {
    /// Where the problem was written (the default span when unknown).
    pub fn span(&self) -> Span {
        match self {
            CodegenError::Unsupported { span, .. } => *span,
            CodegenError::Layout(e) => e.span(),
            CodegenError::Introspection(e) => e.span(),
            CodegenError::Entry { .. } | CodegenError::Malformed(_) => Span::default(),
        }
    }
}

/// Checks that `module` could be generated for `hook`, without keeping the C.
pub fn check(module: &Module, pipeline_name: &str, hook: Hook) -> Result<(), CodegenError> {
    generate(module, pipeline_name, hook).map(|_| ())
}
