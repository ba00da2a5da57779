//! [`KernelBackend`]: P4TC's object model over a loaded (or pinned) program's BPF maps.
//!
//! The same rules and errors as `p4tc_runtime::MemoryBackend`: keys and action calls are
//! checked by the runtime's own functions (`check_entry_key`, `check_action_call`), entries
//! are encoded with `p4tc_ir::layout` and [`crate::entry`], and every operation checks all it
//! can before it writes anything. State lives in the maps only, so a process that opens the
//! pinned maps later (`p4tc ctl`) sees what an earlier one wrote.
//!
//! Where the kernel differs, by what the maps can hold:
//! - **Keys read back** (get, dump) are decoded from the map elements, in one canonical form
//!   per match kind: exact fields `Exact`, LPM fields `Lpm` (`Any` for prefix 0), ternary
//!   fields `Ternary` (`Any` for mask 0), optional fields `Exact` or `Any`, range fields
//!   `Range`. `MemoryBackend` returns the key as it was written after normalisation; the two
//!   agree whenever the key was written in that form.
//! - **One entry per key in tuple-space tables.** A (mask, masked key) map key holds one value,
//!   so a second entry with the same key at another priority is refused as `Exists`
//!   (`MemoryBackend` accepts it).
//! - **Mask slots.** A ternary table has `@nummask` slots (a range field's prefixes take one
//!   each); a create that needs one more is refused (`Invalid`, naming the table). Slots stay
//!   allocated while the table has entries (the datapath needs them contiguous from 0), and
//!   are freed when a delete or flush leaves it empty; a slot's priority bounds (its own, and
//!   the rest bound over it and every later slot, where the datapath's search stops) stay
//!   true, as they only ever go down and are lowered before an entry under them is written.
//!   A single create takes a new slot after the used ones; a batch takes its new slots in
//!   ascending order of the best priority value needing each, so a rule set loaded in one
//!   batch is searched best slot first and the search stops at the first that cannot win. A create the kernel refuses half-way (the map full of a wide
//!   range's prefixes) takes its elements back but may leave a slot it took (no entry shows).
//! - **Range entries** take one map element per prefix, and the entries map holds `size`
//!   elements: wide ranges fill a table before `size` entries (`Full`).
//! - **Aging**: entries store a timer profile number (`Aging::After(d)` is stored as the
//!   profile whose age is `d`, refused when there is none, and read back as that profile).
//!   Timer profiles are the program's `p4tc_timer_profiles` map when it has one (aging in the
//!   kernel: shared with the sweep and with later processes); else they live in this
//!   process, starting at P4TC's defaults. Nothing here deletes aged entries.
//! - **Events** go through the program's `p4tc_aging_events` ring when it has one (programs
//!   with a hash-map table): this process's creates, updates and deletes (entries with a
//!   publish bit) are written into it by a runtime-built syscall program ([`crate::bulk`]), as
//!   the kernel's aging sweep writes its deletes, so every process reading the ring (`p4tc
//!   mon`) sees them. The ring is then the one source: `take_events` returns what it reads
//!   there (this process's changes included, once; none are queued here too), with the
//!   action named without its data and one event per map element. Whoever reads the ring
//!   first consumes a record: two readers share the events, they do not each get all. A full
//!   ring refuses events; they are counted ([`KernelBackend::lost_events`]). Without a ring
//!   (LPM-only programs), or when the kernel refuses the emit program (the reason is in
//!   [`KernelBackend::notes`]), this process's changes are queued here and only it sees
//!   them. The datapath's `add_entry` creates are not seen.
//! - **Batches** ([`ObjectModel::create_entries`]): see `batch.rs` and [`crate::bulk`]; each
//!   entry is all or nothing with `create_entry`'s outcome; a process killed in the middle
//!   leaves whole entries only (elements are written whole by the kernel; a range's pieces
//!   may be partly there, as for a single create killed half-way).
//! - **LPM lookups by key** (get, update, delete): the kernel's lookup is a longest-prefix
//!   match, so entries the control plane writes carry their prefix length in their tag and
//!   the answer says whether it is the key asked for; an untagged answer (the program's
//!   entries) is checked by listing the trie's keys.
//!   Tuple-space creates count the table's entries (a range is several elements). Both cost a
//!   walk of the map; exact tables cost a few `bpf(2)` calls per operation.
//! - **Ordering**: a dump lists the longest prefix first (LPM), then the best priority, then
//!   the oldest entry (by creation time, where `MemoryBackend` keeps insertion order).
//! - **Size**: exact and LPM maps are `tentries` big and the kernel refuses the next element
//!   (`E2BIG`/`ENOSPC` become `Full`); tuple-space tables count their entries first.

mod batch;

pub use batch::BatchStats;
mod events;
mod externs;
mod keys;
mod store;

use std::collections::{HashMap, VecDeque};
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use num_bigint::BigUint;
use p4tc_ir::arena::Handle;
use p4tc_ir::introspection::Permissions;
use p4tc_ir::ir;
use p4tc_ir::layout::TableKind;
use p4tc_runtime::memory::{
    check_action_call, check_entry_key, describe_key, entry_permissions, table_permission, TableOp,
};
use p4tc_runtime::model::TableModel;
use p4tc_runtime::{
    ActionCall, Actor, Aging, CounterValue, DefaultKind, EntryInfo, EntrySpec, Event, EventKind,
    KeyMatch, MeterConfig, ObjectModel, PipelineModel, Priority, RuntimeError,
};

use crate::bulk::{self, Record, Stager, WritePath};
use crate::entry::{
    EntryHead, MaskSlot, FLAG_CONST, FLAG_DATAPATH, FLAG_DYNAMIC, FLAG_HAS_ACTION,
    FLAG_PRIO_ALLOCATED,
};
use crate::loader::Loaded;
use crate::open_table::{OpenLayout, OpenSlots};
use crate::{sys, Generated, MapRole, TableSpec};

use keys::MapKey;
use store::Store;

/// Timer profiles a pipeline starts with (P4TC's default): profile i ages after (i + 1) x 30 s.
const DEFAULT_TIMER_PROFILES: u64 = 4;
/// The most timer profiles a pipeline has.
const MAX_TIMER_PROFILES: usize = 16;
/// The timer profiles map of a program that ages its entries in the kernel.
const PROFILES_MAP: &str = "p4tc_timer_profiles";

// CRUDXPS bits: the control plane's in 13..7, the datapath's in 6..0.
const CTRL_R: u16 = 1 << 12;
const CTRL_U: u16 = 1 << 11;
const CTRL_D: u16 = 1 << 10;
const CTRL_P: u16 = 1 << 8;
const DATA_P: u16 = 1 << 1;

/// Why a kernel backend could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// A map the generated program has is missing or unreadable.
    #[error("map `{map}`: {error}")]
    Map {
        /// The map's name.
        map: String,
        /// What went wrong.
        error: String,
    },
    /// The pipeline model and the generated program disagree.
    #[error("{0}")]
    Mismatch(String),
}

/// One table: its generated spec and its model's position.
#[derive(Debug)]
struct KTable {
    spec: TableSpec,
    model: usize,
    has_prio: bool,
    /// The next priority this process allocates (as `MemoryBackend`, allocations never go
    /// back after a delete); raised past the maps' allocated ones before each use, so it also
    /// continues what another process allocated.
    next_prio: u32,
    /// The slots of an exact table kept as open addressing, mapped.
    open: Option<sys::SharedWords>,
}

/// The object model on a program's BPF maps.
pub struct KernelBackend {
    model: Arc<PipelineModel>,
    generated: Generated,
    maps: HashMap<String, sys::SizedMap>,
    tables: Vec<KTable>,
    /// `Handle<ir::Table>::index()` -> position in `tables`.
    table_at: HashMap<usize, usize>,
    /// The timer profiles when the program has no map for them (kept in this process).
    profiles: Vec<Duration>,
    /// The program's timer profiles map (`p4tc_timer_profiles`, aging in the kernel): one
    /// `u64` age in ns per profile, 0 past the last. When present it is the truth, shared
    /// with the datapath's aging sweep and with every process that opens the maps.
    profiles_map: Option<String>,
    events: VecDeque<Event>,
    /// The kernel's aging sweep's delete events (`p4tc_aging_events`), when the program ages
    /// entries in the kernel.
    aging_events: Option<crate::aging::EventReader>,
    /// Per table (position in `tables`): its staging array and programs ([`crate::bulk`]).
    stagers: HashMap<usize, Stager>,
    /// The write path batches must take (benchmarks); `None`: the fastest the kernel allows.
    forced_path: Option<WritePath>,
    /// Why a faster path was not taken (the kernel refused a program, an operation).
    notes: Vec<String>,
    /// Why this process's changes cannot go to the events ring (then they are queued here).
    ring_refused: Option<String>,
    /// Events of this process's changes that the full ring refused.
    lost_events: u64,
    /// Where the last batch's time went.
    last_batch: BatchStats,
    /// The last batch's key and value bytes, emptied, for the next batch to reuse.
    batch_blobs: Vec<u8>,
}

impl std::fmt::Debug for KernelBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KernelBackend")
            .field("pipeline", &self.model.name)
            .field("maps", &self.maps.len())
            .finish_non_exhaustive()
    }
}

fn perm(reason: String) -> RuntimeError {
    RuntimeError::Permission { reason }
}

fn invalid(message: String) -> RuntimeError {
    RuntimeError::Invalid(message)
}

/// A kernel error on a map (or an open table's, which is no kernel's), in words naming the
/// table.
fn kernel(what: &str, table: &str, e: std::io::Error) -> RuntimeError {
    if e.get_ref()
        .is_some_and(|inner| inner.is::<crate::open_table::OpenError>())
    {
        return invalid(format!("table {table}: {what}: {e}"));
    }
    invalid(format!("table {table}: {what}: the kernel said: {e}"))
}

/// An open table's insert that found no free slot near the key's home.
fn no_slot(tm: &TableModel, key: &[KeyMatch]) -> RuntimeError {
    invalid(format!(
        "table {}: no free slot within {} slots of the home slot of key {} (the table keeps its entries by open addressing, at most half full; its slots near this key are all taken): delete an entry there or give the table a larger size",
        tm.dotted,
        crate::open_table::MAX_PROBE,
        describe_key(tm, key)
    ))
}

/// Maps the slots of open table `name` (an entry of `maps`), checking that they are exactly
/// as many as `layout` says (the datapath probes by the number of slots it was built with).
fn map_open_table(
    maps: &HashMap<String, sys::SizedMap>,
    name: &str,
    layout: &OpenLayout,
) -> Result<sys::SharedWords, OpenError> {
    let map_error = |error: String| OpenError::Map {
        map: name.to_string(),
        error,
    };
    let map = maps.get(name).ok_or_else(|| map_error("missing".into()))?;
    let words = sys::SharedWords::map(map.fd()).map_err(|e| map_error(e.to_string()))?;
    if words.words().len() != layout.words() {
        return Err(map_error(format!(
            "{} words of slots where the program's layout has {}",
            words.words().len(),
            layout.words()
        )));
    }
    Ok(words)
}

fn is_full(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::E2BIG) | Some(libc::ENOSPC))
}

/// An entry a change is published for, with its map elements (key, and value or at least its
/// head).
type Published = (EntrySpec, Vec<(Vec<u8>, Vec<u8>)>);

/// One map element of an entry.
#[derive(Clone, Debug)]
struct Element {
    key: Vec<u8>,
    value: Vec<u8>,
    head: EntryHead,
}

impl KernelBackend {
    /// The backend of a program loaded in this process.
    pub fn from_loaded(
        model: Arc<PipelineModel>,
        loaded: &Loaded,
    ) -> Result<KernelBackend, OpenError> {
        let mut maps = HashMap::new();
        for spec in &loaded.generated.maps {
            if spec.role == MapRole::Digest {
                continue;
            }
            let fd = loaded.map_fd(&spec.name).map_err(|e| OpenError::Map {
                map: spec.name.clone(),
                error: e.to_string(),
            })?;
            maps.insert(spec.name.clone(), fd);
        }
        let aging_events = if has_aging_events(&loaded.generated) {
            Some(
                crate::aging::EventReader::from_loaded(loaded).map_err(|e| OpenError::Map {
                    map: crate::aging::EVENTS_MAP.into(),
                    error: e.to_string(),
                })?,
            )
        } else {
            None
        };
        KernelBackend::new(model, loaded.generated.clone(), maps, aging_events)
    }

    /// The backend of a program whose maps are pinned under `dir`
    /// (`/sys/fs/bpf/p4tc/<pipeline>`, as `Loaded::pin_maps` leaves them). `generated` is
    /// the program's description: generate it again from the same program with the same
    /// hook and options (generation is deterministic). A pinned map whose key or value size
    /// differs from the description's is refused (another program, or another version).
    pub fn open_pinned(
        model: Arc<PipelineModel>,
        generated: Generated,
        dir: &Path,
    ) -> Result<KernelBackend, OpenError> {
        let mut maps = HashMap::new();
        for spec in &generated.maps {
            if spec.role == MapRole::Digest {
                continue;
            }
            let path = dir.join(&spec.name);
            // A pipeline loaded by an earlier p4tc has no dynamic marks: its sweep walks
            // every table, so there is nothing to mark.
            if spec.role == MapRole::AgingDynamic && !path.exists() {
                continue;
            }
            let data = aya::maps::MapData::from_pin(&path).map_err(|e| OpenError::Map {
                map: spec.name.clone(),
                error: format!("{}: {e}", path.display()),
            })?;
            let fd = data
                .fd()
                .as_fd()
                .try_clone_to_owned()
                .map_err(|e| OpenError::Map {
                    map: spec.name.clone(),
                    error: e.to_string(),
                })?;
            if spec.kind != crate::MapKind::RingBuf {
                let sizes = sys::map_sizes(fd.as_fd()).map_err(|e| OpenError::Map {
                    map: spec.name.clone(),
                    error: e.to_string(),
                })?;
                if sizes != (spec.key_size, spec.value_size) {
                    return Err(OpenError::Mismatch(format!(
                        "the map pinned at {} has {}-byte keys and {}-byte values where this program's `{}` has {} and {}: it belongs to another program (or another version of it)",
                        path.display(),
                        sizes.0,
                        sizes.1,
                        spec.name,
                        spec.key_size,
                        spec.value_size
                    )));
                }
            }
            maps.insert(spec.name.clone(), fd);
        }
        let aging_events = if has_aging_events(&generated) {
            let path = dir.join(crate::aging::EVENTS_MAP);
            Some(
                crate::aging::EventReader::from_pin(&path).map_err(|e| OpenError::Map {
                    map: crate::aging::EVENTS_MAP.into(),
                    error: format!("{}: {e}", path.display()),
                })?,
            )
        } else {
            None
        };
        KernelBackend::new(model, generated, maps, aging_events)
    }

    fn new(
        model: Arc<PipelineModel>,
        generated: Generated,
        fds: HashMap<String, OwnedFd>,
        aging_events: Option<crate::aging::EventReader>,
    ) -> Result<KernelBackend, OpenError> {
        let mut maps = HashMap::with_capacity(fds.len());
        for (name, fd) in fds {
            let map = sys::SizedMap::new(fd).map_err(|e| OpenError::Map {
                map: name.clone(),
                error: e.to_string(),
            })?;
            maps.insert(name, map);
        }
        let mut tables = Vec::new();
        let mut table_at = HashMap::new();
        for (i, tm) in model.tables.iter().enumerate() {
            let spec = generated
                .tables
                .iter()
                .find(|t| t.table == tm.handle)
                .cloned()
                .ok_or_else(|| {
                    OpenError::Mismatch(format!(
                        "table {} is not in the generated program",
                        tm.dotted
                    ))
                })?;
            let open = match spec.open {
                Some(layout) => Some(map_open_table(&maps, &spec.map, &layout)?),
                None => None,
            };
            table_at.insert(tm.handle.index(), tables.len());
            tables.push(KTable {
                spec,
                model: i,
                has_prio: tm.has_priorities(),
                next_prio: 1,
                open,
            });
        }
        let profiles_map = generated
            .maps
            .iter()
            .find(|m| m.name == PROFILES_MAP)
            .map(|m| m.name.clone());
        Ok(KernelBackend {
            aging_events,
            profiles_map,
            model,
            generated,
            maps,
            tables,
            table_at,
            profiles: (1..=DEFAULT_TIMER_PROFILES)
                .map(|i| Duration::from_secs(30 * i))
                .collect(),
            events: VecDeque::new(),
            stagers: HashMap::new(),
            forced_path: None,
            notes: Vec::new(),
            ring_refused: None,
            lost_events: 0,
            last_batch: BatchStats::default(),
            batch_blobs: Vec::new(),
        })
    }

    /// Makes batches ([`ObjectModel::create_entries`]) take `path` (when the map allows it:
    /// an LPM trie never takes [`WritePath::SyscallProgram`]), or the fastest again with `None`.
    /// For benchmarks and tests.
    pub fn force_write_path(&mut self, path: Option<WritePath>) {
        self.forced_path = path;
    }

    /// The path a batch of `entries` elements on `table` takes now.
    pub fn write_path(
        &mut self,
        table: Handle<ir::Table>,
        entries: usize,
    ) -> Result<WritePath, RuntimeError> {
        let t = self.table_index(table)?;
        Ok(self.path_for(t, entries))
    }

    /// Why faster paths were not taken so far (each reason once), e.g. a program the kernel
    /// refused.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// Where the time of the last `create_entries` call went.
    pub fn last_batch(&self) -> BatchStats {
        self.last_batch
    }

    /// Events of this process's changes lost because the events ring was full.
    pub fn lost_events(&self) -> u64 {
        self.lost_events
    }

    fn note(&mut self, what: String) {
        if !self.notes.contains(&what) {
            self.notes.push(what);
        }
    }

    /// The pipeline this backend holds.
    pub fn model(&self) -> &Arc<PipelineModel> {
        &self.model
    }

    /// The generated program's description.
    pub fn generated(&self) -> &Generated {
        &self.generated
    }

    fn map(&self, name: &str) -> Result<&sys::SizedMap, RuntimeError> {
        self.maps.get(name).ok_or_else(|| RuntimeError::NotFound {
            what: format!("map {name}"),
        })
    }

    /// Table `t`'s entries, as its entries map keeps them.
    fn store(&self, t: usize) -> Result<Store<'_>, RuntimeError> {
        let kt = &self.tables[t];
        match (&kt.open, kt.spec.open) {
            (Some(words), Some(layout)) => OpenSlots::new(words.words(), layout)
                .map(|slots| Store::Open(slots, self.table_model(t).size))
                .map_err(|e| invalid(format!("table {}: {e}", self.table_model(t).dotted))),
            _ => self.map(&kt.spec.map).map(Store::Kernel),
        }
    }

    fn table_index(&self, table: Handle<ir::Table>) -> Result<usize, RuntimeError> {
        self.table_at
            .get(&table.index())
            .copied()
            .ok_or_else(|| RuntimeError::NotFound {
                what: format!("table #{}", table.index()),
            })
    }

    fn table_model(&self, t: usize) -> &TableModel {
        &self.model.tables[self.tables[t].model]
    }

    fn action_id(&self, t: usize, action: Handle<ir::Action>) -> u32 {
        self.tables[t]
            .spec
            .actions
            .iter()
            .find(|(a, _)| *a == action)
            .map_or(0, |(_, id)| *id)
    }

    fn action_of_id(&self, t: usize, id: u32) -> Option<Handle<ir::Action>> {
        self.tables[t]
            .spec
            .actions
            .iter()
            .find(|(_, i)| *i == id)
            .map(|(a, _)| *a)
    }

    /// The action call a value holds, decoded by the action's parameter layout.
    fn call_of(&self, t: usize, head: &EntryHead, value: &[u8]) -> Option<ActionCall> {
        if head.flags & FLAG_HAS_ACTION == 0 {
            return None;
        }
        let action = self.action_of_id(t, head.action)?;
        let am = self.table_model(t).action(action)?;
        let at = self.tables[t].spec.value.params_offset as usize;
        let blob = value.get(at..at + am.layout.size as usize)?;
        let params = am.layout.decode(blob).ok()?;
        Some(ActionCall { action, params })
    }

    /// The timer profiles in force: the program's map when it has one, else this process's.
    fn current_profiles(&self) -> Result<Vec<Duration>, RuntimeError> {
        let Some(name) = &self.profiles_map else {
            return Ok(self.profiles.clone());
        };
        let map = self.map(name)?;
        let mut out = Vec::new();
        for i in 0..MAX_TIMER_PROFILES as u32 {
            let v = sys::SizedMap::lookup(map, &i.to_ne_bytes())
                .map_err(|e| invalid(format!("reading timer profile {i}: the kernel said: {e}")))?;
            let ns = v
                .get(..8)
                .and_then(|w| w.try_into().ok())
                .map_or(0, u64::from_ne_bytes);
            if ns == 0 {
                break;
            }
            out.push(Duration::from_nanos(ns));
        }
        Ok(out)
    }

    fn age_ok(&self, t: usize, spec: &EntrySpec) -> Result<u8, RuntimeError> {
        if !spec.dynamic {
            return Ok(0);
        }
        self.age_in(t, spec, &self.current_profiles()?)
    }

    /// [`Self::age_ok`] with the profiles read once (a batch reads them once for all).
    fn age_in(
        &self,
        t: usize,
        spec: &EntrySpec,
        profiles: &[Duration],
    ) -> Result<u8, RuntimeError> {
        if !spec.dynamic {
            return Ok(0);
        }
        match spec.aging.unwrap_or(Aging::Profile(0)) {
            Aging::Profile(i) if (i as usize) < profiles.len() => Ok(i as u8),
            Aging::Profile(i) => Err(invalid(format!(
                "table {}: timer profile {i} does not exist ({} profiles)",
                self.table_model(t).dotted,
                profiles.len()
            ))),
            // The map value names a profile: an age that one has is stored as that profile.
            Aging::After(d) => match profiles.iter().position(|p| *p == d) {
                Some(i) => Ok(i as u8),
                None => Err(invalid(format!(
                    "table {}: entries in the kernel age by timer profile, and no profile is {d:?} (profiles: {:?}); set a profile to it first",
                    self.table_model(t).dotted,
                    profiles
                ))),
            },
        }
    }

    /// Publishes this process's changes (`change`: 0 created, 1 updated, 2 deleted) of
    /// entries with a publish bit: into the pipeline's events ring when it has one (so every
    /// process reading it, `p4tc mon`, sees them, and this one's `take_events` too, once);
    /// else, or when the kernel refused the emit program, into this process's queue. Each
    /// entry comes with its map elements (key, and value or at least its 32-byte head).
    fn publish(&mut self, t: usize, change: u8, items: Vec<Published>) {
        let items: Vec<_> = items
            .into_iter()
            .filter(|(spec, _)| {
                spec.permissions.map_or(0, Permissions::bits) & (CTRL_P | DATA_P) != 0
            })
            .collect();
        if items.is_empty() {
            return;
        }
        if self.ring_open() {
            match self.emit(t, change, &items) {
                Ok(()) => return,
                Err(reason) => {
                    self.note(format!(
                        "events of this process's changes stay in it (not in {}): {reason}",
                        crate::aging::EVENTS_MAP
                    ));
                    self.ring_refused = Some(reason);
                }
            }
        }
        for (spec, _) in items {
            self.queue(t, spec, change);
        }
    }

    fn queue(&mut self, t: usize, entry: EntrySpec, change: u8) {
        let table = self.table_model(t).handle;
        let by = Actor::ControlPlane;
        let kind = match change {
            0 => EventKind::EntryCreated { table, entry, by },
            1 => EventKind::EntryUpdated { table, entry, by },
            _ => EventKind::EntryDeleted { table, entry, by },
        };
        if self.events.len() >= p4tc_runtime::memory::EVENT_CAPACITY {
            self.events.pop_front();
        }
        self.events.push_back(Event {
            at: Duration::from_nanos(sys::monotonic_ns()),
            kind,
        });
    }

    /// This process's changes go to the events ring (it has one, and the kernel took the
    /// emit program so far).
    fn ring_open(&self) -> bool {
        self.ring_refused.is_none()
            && has_aging_events(&self.generated)
            && self.maps.contains_key(crate::aging::EVENTS_MAP)
    }

    /// A table's stager, holding at least `need` records (up to [`bulk::MAX_RECORDS`]), made
    /// or grown on demand.
    fn stager(&mut self, t: usize, need: usize) -> Result<&mut Stager, String> {
        let map = self
            .maps
            .get(&self.tables[t].spec.map)
            .ok_or_else(|| "no entries map".to_string())?;
        // Records carry an entry's key and value (an open table's map holds slots).
        let (ks, vs) = match self.tables[t].spec.open {
            Some(layout) => (layout.key_size as usize, layout.value_size as usize),
            None => (map.key_size(), map.value_size()),
        };
        let want = (need.clamp(64, bulk::MAX_RECORDS as usize) as u32).next_power_of_two();
        let fits = self
            .stagers
            .get(&t)
            .is_some_and(|s| s.fits(ks, vs) && s.capacity() >= want);
        if !fits {
            let stager = Stager::new(ks, vs, want).map_err(|e| format!("staging array: {e}"))?;
            self.stagers.insert(t, stager);
        }
        self.stagers
            .get_mut(&t)
            .ok_or_else(|| "no staging array".to_string())
    }

    /// Sends events to the ring with the table's emit program.
    fn emit(&mut self, t: usize, change: u8, items: &[Published]) -> Result<(), String> {
        let id = self.table_model(t).id;
        let kind = u32::from(change) + 1;
        let now = sys::monotonic_ns();
        let value_size = self.tables[t].spec.value.size as usize;
        let zero = vec![0u8; value_size];
        let layout = &self.tables[t].spec.value;
        let mut staged: Vec<(&[u8], &[u8], [u8; crate::aging::EVENT_HDR_SIZE])> = Vec::new();
        for (_, elements) in items {
            for (k, v) in elements {
                let head = layout.event_head(v).unwrap_or_default();
                let head = &head[..];
                // The whole value goes with the event (its action data); a short one is
                // sent as zeros after its head.
                let value: &[u8] = if v.len() == value_size { v } else { &zero };
                staged.push((
                    k,
                    value,
                    bulk::event_head(kind, crate::aging::WHO_CONTROL, id, k.len(), now, head),
                ));
            }
        }
        let records: Vec<Record<'_>> = staged
            .iter()
            .map(|(k, v, e)| Record {
                key: k,
                value: v,
                event: Some(*e),
            })
            .collect();
        self.emit_records(t, &records)
    }

    /// Sends records' events (each has its head) to the ring with the table's emit program.
    fn emit_records(&mut self, t: usize, records: &[Record<'_>]) -> Result<(), String> {
        for chunk in records.chunks(bulk::MAX_RECORDS as usize) {
            self.stager(t, chunk.len())?;
            let ring = self
                .maps
                .get(crate::aging::EVENTS_MAP)
                .ok_or_else(|| "no events ring".to_string())?;
            let stager = self
                .stagers
                .get_mut(&t)
                .ok_or_else(|| "no staging array".to_string())?;
            stager.emit_ready(ring)?;
            let sent = stager.emit(chunk).map_err(|e| e.to_string())?;
            self.lost_events += sent.lost;
        }
        Ok(())
    }

    /// The map keys of a (normalised) key, with the masks map's slots of a tuple-space table:
    /// `None` when a mask has no slot (no entry can have the key).
    fn find_keys(
        &self,
        t: usize,
        normal: &[KeyMatch],
    ) -> Result<Option<Vec<Vec<u8>>>, RuntimeError> {
        let tm = self.table_model(t);
        let spec = &self.tables[t].spec;
        let pieces = keys::map_keys(tm, spec, normal)?;
        match pieces {
            MapKey::Plain(k) => Ok(Some(vec![k])),
            MapKey::Tuple(list) => {
                let slots = self.read_masks(t)?;
                let mut out = Vec::with_capacity(list.len());
                for (key, mask) in list {
                    match slots.iter().position(|(m, _)| *m == mask) {
                        Some(i) => out.push(crate::entry::tuple_key(i as u32, &key)),
                        None => return Ok(None),
                    }
                }
                Ok(Some(out))
            }
        }
    }

    /// A tuple-space table's used mask slots: mask blob and priority bound, slot 0 first.
    fn read_masks(&self, t: usize) -> Result<Vec<(Vec<u8>, u32)>, RuntimeError> {
        Ok(self
            .read_slots(t)?
            .into_iter()
            .map(|s| (s.mask, s.min_prio))
            .collect())
    }

    /// A tuple-space table's used mask slots, slot 0 first.
    fn read_slots(&self, t: usize) -> Result<Vec<MaskSlot>, RuntimeError> {
        let spec = &self.tables[t].spec;
        let Some(name) = &spec.masks_map else {
            return Ok(Vec::new());
        };
        let map = self.map(name)?;
        let dotted = &self.table_model(t).dotted;
        let mut out = Vec::new();
        for i in 0..spec.nummask {
            let v = sys::SizedMap::lookup(map, &i.to_ne_bytes())
                .map_err(|e| kernel("reading its masks", dotted, e))?;
            match MaskSlot::decode(&v) {
                Some(slot) => out.push(slot),
                None => break,
            }
        }
        Ok(out)
    }

    /// Brings a tuple-space table's mask slots from `old` (what the kernel holds, its used
    /// slots) to the masks and bounds `want` (the same slots, maybe more after them, bounds no
    /// higher), each slot's rest bound recomputed: writes only the slots that change, new ones
    /// in ascending order (the datapath reads a contiguous prefix of used slots). Callers write
    /// the entries under these slots afterwards, so the datapath never skips a visible entry;
    /// lowering a bound early only costs a lookup.
    fn write_mask_slots(
        &self,
        t: usize,
        old: &[MaskSlot],
        want: &[(Vec<u8>, u32)],
    ) -> Result<Vec<MaskSlot>, RuntimeError> {
        let spec = &self.tables[t].spec;
        let Some(masks_map) = &spec.masks_map else {
            return Ok(old.to_vec());
        };
        let dotted = &self.table_model(t).dotted;
        let masks = self.map(masks_map)?;
        let bounds: Vec<u32> = want.iter().map(|w| w.1).collect();
        let rests = crate::entry::rest_mins(&bounds);
        let mut now = old.to_vec();
        for (i, ((mask, min_prio), rest_min)) in want.iter().zip(rests).enumerate() {
            // Never raise a bound the datapath may rely on.
            let (min_prio, rest_min) = match old.get(i) {
                Some(o) if o.min_prio <= *min_prio && o.rest_min <= rest_min => continue,
                Some(o) => (o.min_prio.min(*min_prio), o.rest_min.min(rest_min)),
                None => (*min_prio, rest_min),
            };
            let slot = MaskSlot {
                mask: mask.clone(),
                min_prio,
                rest_min,
            };
            masks
                .update(&(i as u32).to_ne_bytes(), &slot.encode(), sys::BPF_ANY)
                .map_err(|e| kernel("writing a mask slot", dotted, e))?;
            match now.get_mut(i) {
                Some(n) => *n = slot,
                None => now.push(slot),
            }
        }
        Ok(now)
    }

    /// The map elements of the entry with this key (and priority), and the normalised key.
    fn find(
        &self,
        t: usize,
        key: &[KeyMatch],
        priority: Option<Priority>,
    ) -> Result<Vec<Element>, RuntimeError> {
        let tm = self.table_model(t);
        let normal = check_entry_key(tm, key)?;
        let prio = if self.tables[t].has_prio {
            priority.map(|p| p.0)
        } else {
            None
        };
        let not_found = || RuntimeError::NotFound {
            what: format!(
                "entry {}{} in table {}",
                describe_key(tm, &normal),
                prio.map(|p| format!(" prio {p}")).unwrap_or_default(),
                tm.dotted
            ),
        };
        let Some(map_keys) = self.find_keys(t, &normal)? else {
            return Err(not_found());
        };
        let spec = &self.tables[t].spec;
        let store = self.store(t)?;
        let lpm = spec.key.kind == TableKind::Lpm;
        let mut out = Vec::with_capacity(map_keys.len());
        for k in map_keys {
            let value = match store.lookup(&k) {
                Ok(v) => v,
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Err(not_found()),
                Err(e) => return Err(kernel("reading an entry", &tm.dotted, e)),
            };
            let head = spec
                .value
                .decode_head(&value)
                .ok_or_else(|| invalid(format!("table {}: a short value", tm.dotted)))?;
            // An LPM trie's lookup is a longest-prefix match: it answers with this very key
            // when the trie has it. Entries the control plane wrote carry their prefix in
            // their tag, so the answer says whether it is this key; an untagged answer (the
            // program's or the datapath's entry) is checked against the trie's keys.
            if lpm && head.tag != lpm_tag(&k) {
                let listed = head.tag == 0
                    && sys::map_keys(self.map(&spec.map)?.fd())
                        .map_err(|e| kernel("listing entries", &tm.dotted, e))?
                        .contains(&k);
                if !listed {
                    return Err(not_found());
                }
            }
            if let Some(p) = prio {
                if head.priority != p {
                    return Err(not_found());
                }
            }
            out.push(Element {
                key: k,
                value,
                head,
            });
        }
        if out.is_empty() {
            return Err(not_found());
        }
        Ok(out)
    }

    /// Every element of a table's entries map.
    fn elements(&self, t: usize) -> Result<Vec<Element>, RuntimeError> {
        let spec = &self.tables[t].spec;
        let dotted = &self.table_model(t).dotted;
        let mut out = Vec::new();
        // (An element deleted meanwhile, by the datapath or another process, is left out.)
        let elements = self
            .store(t)?
            .elements()
            .map_err(|e| kernel("listing entries", dotted, e))?;
        for (k, value) in elements {
            if let Some(head) = spec.value.decode_head(&value) {
                out.push(Element {
                    key: k,
                    value,
                    head,
                });
            }
        }
        Ok(out)
    }

    /// The entries of a table, each as its elements (a range stored as prefixes has several).
    fn entries(&self, t: usize) -> Result<Vec<Vec<Element>>, RuntimeError> {
        let elements = self.elements(t)?;
        if self.tables[t].spec.key.kind != TableKind::Ternary {
            return Ok(elements.into_iter().map(|e| vec![e]).collect());
        }
        let slots = self.read_masks(t)?;
        let tm = self.table_model(t);
        let mut groups: Vec<(Vec<u8>, Vec<Element>)> = Vec::new();
        let mut at: HashMap<Vec<u8>, usize> = HashMap::new();
        for e in elements {
            let id = keys::group_id(tm, &self.tables[t].spec, &slots, &e);
            match at.get(&id) {
                Some(&g) => groups[g].1.push(e),
                None => {
                    at.insert(id.clone(), groups.len());
                    groups.push((id, vec![e]));
                }
            }
        }
        Ok(groups.into_iter().map(|(_, g)| g).collect())
    }

    /// What an entry (its elements) is, as the object model shows it.
    fn info(&self, t: usize, elements: &[Element]) -> Result<EntryInfo, RuntimeError> {
        let tm = self.table_model(t);
        let spec = &self.tables[t].spec;
        let slots = if spec.key.kind == TableKind::Ternary {
            self.read_masks(t)?
        } else {
            Vec::new()
        };
        let key = keys::decode_key(tm, spec, &slots, elements)?;
        let first = &elements[0];
        let head = first.head;
        let is_const = head.flags & FLAG_CONST != 0;
        let counter = spec.value.counter.map(|(off, size)| {
            let mut total = (0u64, 0u64);
            for e in elements {
                let word = |i: usize| {
                    let at = off as usize + i * 8;
                    e.value
                        .get(at..at + 8)
                        .map(|w| u64::from_ne_bytes(w.try_into().unwrap_or([0; 8])))
                        .unwrap_or(0)
                };
                total.0 = total.0.wrapping_add(word(0));
                if size >= 16 {
                    total.1 = total.1.wrapping_add(word(1));
                }
            }
            total
        });
        let counter = counter.map(|(a, b)| direct_counts(tm, &self.model, a, b));
        // The datapath marks its entries; the control plane tags its own; the rest the
        // loader wrote from the program.
        let created_by = if head.flags & FLAG_DATAPATH != 0 {
            Actor::Datapath
        } else if head.tag != 0 {
            Actor::ControlPlane
        } else {
            Actor::Program
        };
        Ok(EntryInfo {
            spec: EntrySpec {
                key,
                priority: self.tables[t].has_prio.then_some(Priority(head.priority)),
                action: self.call_of(t, &head, &first.value),
                permissions: Permissions::from_bits(head.permissions),
                dynamic: head.flags & FLAG_DYNAMIC != 0,
                aging: (head.flags & FLAG_DYNAMIC != 0)
                    .then_some(Aging::Profile(u32::from(head.profile))),
            },
            is_const,
            created_by,
            updated_by: None,
            created_at: Duration::from_nanos(head.created_ns),
            last_used: Duration::from_nanos(head.last_used_ns),
            counter,
        })
    }

    /// Checks and writes a control-plane entry.
    fn insert(&mut self, t: usize, mut spec: EntrySpec) -> Result<(), RuntimeError> {
        let tm = self.table_model(t);
        let normal = check_entry_key(tm, &spec.key)?;
        let permissions = entry_permissions(tm, spec.permissions, tm.permissions.without_create())?;
        let (action_id, params) = match &spec.action {
            Some(call) => (
                self.action_id(t, call.action),
                check_action_call(tm, call, false)?,
            ),
            None => (0, Box::default()),
        };
        let profile = self.age_ok(t, &spec)?;
        let has_prio = self.tables[t].has_prio;
        let given = if has_prio {
            spec.priority.map(|p| p.0)
        } else {
            None
        };
        let dotted = tm.dotted.clone();
        let size = tm.size;
        let exists = || RuntimeError::Exists {
            table: format!("{dotted} (key {})", describe_key(tm, &normal)),
        };
        // Tuple-space tables: the pieces and their masks, checked against the slots, the
        // entries there and the table's size before anything is written.
        let pieces = keys::map_keys(tm, &self.tables[t].spec, &normal)?;
        // Plain tables need no grouping: any non-zero tag says "the control plane's".
        let mut tag = 1;
        // Past every priority the control plane allocated (tables with priorities are
        // tuple-space tables, which the branch below walks).
        let mut next_prio = 1u32;
        let mut tuple_writes: Vec<(u32, Vec<u8>)> = Vec::new();
        let mut new_slots: Vec<(u32, Vec<u8>)> = Vec::new();
        let plain_key = match &pieces {
            MapKey::Plain(k) => {
                if self.tables[t].spec.key.kind == TableKind::Lpm {
                    tag = lpm_tag(k);
                }
                Some(k.clone())
            }
            MapKey::Tuple(list) => {
                let mut slots = self.read_masks(t)?;
                let nummask = self.tables[t].spec.nummask;
                let store = self.store(t)?;
                for (key, mask) in list {
                    let i = match slots.iter().position(|(m, _)| m == mask) {
                        Some(i) => i,
                        None => {
                            if slots.len() as u32 >= nummask {
                                return Err(invalid(format!(
                                    "table {dotted}: all {nummask} mask slots are in use (@nummask); this entry needs another"
                                )));
                            }
                            slots.push((mask.clone(), u32::MAX));
                            new_slots.push((slots.len() as u32 - 1, mask.clone()));
                            slots.len() - 1
                        }
                    };
                    let k = crate::entry::tuple_key(i as u32, key);
                    match store.lookup(&k) {
                        Ok(_) => return Err(exists()),
                        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
                        Err(e) => return Err(kernel("reading an entry", &dotted, e)),
                    }
                    tuple_writes.push((i as u32, k));
                }
                // One walk of the map: the entries there, a free tag, the next priority.
                let entries = self.entries(t)?;
                if entries.len() >= size as usize {
                    return Err(RuntimeError::Full {
                        table: dotted.clone(),
                        size,
                    });
                }
                for e in entries.iter().flatten() {
                    tag = tag.max(e.head.tag.saturating_add(1));
                    if e.head.flags & FLAG_PRIO_ALLOCATED != 0 {
                        next_prio = next_prio.max(e.head.priority.saturating_add(1));
                    }
                }
                None
            }
        };
        let (priority, allocated) = match (has_prio, given) {
            (false, _) => (0, false),
            (true, Some(p)) => (p, false),
            (true, None) => {
                let p = next_prio.max(self.tables[t].next_prio);
                (p, true)
            }
        };
        let now = sys::monotonic_ns();
        let head = EntryHead {
            action: action_id,
            permissions: permissions.bits(),
            flags: if spec.action.is_some() {
                FLAG_HAS_ACTION
            } else {
                0
            } | if spec.dynamic { FLAG_DYNAMIC } else { 0 }
                | if allocated { FLAG_PRIO_ALLOCATED } else { 0 },
            profile,
            priority,
            tag,
            created_ns: now,
            last_used_ns: now,
        };
        let value = self.tables[t]
            .spec
            .value
            .encode(&head, &params)
            .map_err(|e| invalid(format!("table {dotted}: {e}")))?;
        if spec.dynamic {
            // Marked before the write, so that a map refusing the mark refuses the entry with
            // nothing changed; marked again after it (below), which is what the sweep needs.
            self.mark_dynamic(t)?;
        }
        let store = self.store(t)?;
        match &plain_key {
            Some(k) => {
                store.insert(k, &value).map_err(|e| {
                    if e.raw_os_error() == Some(libc::EEXIST) {
                        exists()
                    } else if e.raw_os_error() == Some(store::NO_SLOT) {
                        no_slot(tm, &normal)
                    } else if is_full(&e) {
                        RuntimeError::Full {
                            table: dotted.clone(),
                            size,
                        }
                    } else {
                        kernel("writing an entry", &dotted, e)
                    }
                })?;
            }
            None => {
                // Masks first, their bounds lowered before an entry under them is visible, so
                // the datapath's skip and stop tests stay true.
                let old = self.read_slots(t)?;
                let mut want: Vec<(Vec<u8>, u32)> =
                    old.iter().map(|s| (s.mask.clone(), s.min_prio)).collect();
                for (i, mask) in &new_slots {
                    if *i as usize == want.len() {
                        want.push((mask.clone(), u32::MAX));
                    }
                }
                for (i, _) in &tuple_writes {
                    if let Some(w) = want.get_mut(*i as usize) {
                        w.1 = w.1.min(priority);
                    }
                }
                self.write_mask_slots(t, &old, &want)?;
                let mut written: Vec<&Vec<u8>> = Vec::new();
                for (_, k) in &tuple_writes {
                    if let Err(e) = store.insert(k, &value) {
                        // Undo the pieces written: the operation does all or nothing.
                        for w in &written {
                            let _ = store.delete(w);
                        }
                        return Err(if e.raw_os_error() == Some(libc::EEXIST) {
                            exists()
                        } else if is_full(&e) {
                            RuntimeError::Full {
                                table: dotted.clone(),
                                size,
                            }
                        } else {
                            kernel("writing an entry", &dotted, e)
                        });
                    }
                    written.push(k);
                }
            }
        }
        if allocated {
            self.tables[t].next_prio = priority.saturating_add(1);
        }
        if spec.dynamic {
            // (It worked a moment ago.)
            let _ = self.mark_dynamic(t);
        }
        spec.key = normal;
        spec.priority = has_prio.then_some(Priority(priority));
        spec.permissions = Some(permissions);
        let elements = match plain_key {
            Some(k) => vec![(k, value)],
            None => tuple_writes
                .into_iter()
                .map(|(_, k)| (k, value.clone()))
                .collect(),
        };
        self.publish(t, 0, vec![(spec, elements)]);
        Ok(())
    }

    /// Tells the kernel's aging sweep that table `t` may hold a dynamic entry (it walks only
    /// tables so marked; `aging::mark_dynamic`). What the sweep needs is the mark after the
    /// entry is written; writers also mark before it, to refuse the write if the mark fails.
    /// Programs that do not age in the kernel have no such map.
    pub(super) fn mark_dynamic(&self, t: usize) -> Result<(), RuntimeError> {
        let Some(map) = self.maps.get(crate::aging::DYNAMIC_MAP) else {
            return Ok(());
        };
        let tm = self.table_model(t);
        crate::aging::mark_dynamic(map.fd(), tm.id)
            .map_err(|e| kernel("marking the table for the aging sweep", &tm.dotted, e))
    }

    fn check_entry_perm(
        &self,
        t: usize,
        elements: &[Element],
        bit: u16,
        what: &str,
    ) -> Result<(), RuntimeError> {
        let tm = self.table_model(t);
        let head = elements[0].head;
        let key = || {
            let slots = self.read_masks(t).unwrap_or_default();
            keys::decode_key(tm, &self.tables[t].spec, &slots, elements)
                .map(|k| describe_key(tm, &k))
                .unwrap_or_else(|_| "(undecodable key)".into())
        };
        if head.flags & FLAG_CONST != 0 && bit != CTRL_R {
            return Err(perm(format!(
                "entry {} of table {} is const",
                key(),
                tm.dotted
            )));
        }
        if head.permissions & bit == 0 {
            let p = Permissions::from_bits(head.permissions).unwrap_or(Permissions::CONST);
            return Err(perm(format!(
                "entry {} of table {} has no control-plane {what} permission ({p})",
                key(),
                tm.dotted
            )));
        }
        Ok(())
    }

    fn default_slot(&self, which: DefaultKind) -> u32 {
        match which {
            DefaultKind::Hit => crate::entry::DEFAULT_HIT,
            DefaultKind::Miss => crate::entry::DEFAULT_MISS,
        }
    }

    /// Frees a tuple-space table's mask slots once it holds no element: slots stay taken while
    /// entries use them (the datapath needs them contiguous from 0), so without this a table
    /// that saw `@nummask` different masks would refuse new ones for good. (A create by
    /// another process between the check and the reset would lose its mask: the control
    /// plane is not meant to write one table from two processes at once.)
    fn free_masks_if_empty(&self, t: usize) -> Result<(), RuntimeError> {
        let spec = &self.tables[t].spec;
        let Some(masks_map) = &spec.masks_map else {
            return Ok(());
        };
        let dotted = &self.table_model(t).dotted;
        if !self
            .store(t)?
            .is_empty()
            .map_err(|e| kernel("listing entries", dotted, e))?
        {
            return Ok(());
        }
        let masks = self.map(masks_map)?;
        let used = self.read_masks(t)?.len() as u32;
        let free = vec![0u8; masks.value_size()];
        // Last slot first: the datapath stops at the first free slot, so every state on the
        // way is a contiguous prefix.
        for i in (0..used).rev() {
            masks
                .update(&i.to_ne_bytes(), &free, sys::BPF_ANY)
                .map_err(|e| kernel("freeing a mask slot", dotted, e))?;
        }
        Ok(())
    }

    /// The used mask slots of tuple-space table `table`, slot 0 first, as the datapath reads
    /// them (empty for other tables).
    pub fn mask_slots(&self, table: Handle<ir::Table>) -> Result<Vec<MaskSlot>, RuntimeError> {
        let t = self.table_index(table)?;
        self.read_slots(t)
    }

    /// Configures the direct meter of the entry with this key (and priority) in `table`.
    pub fn set_direct_meter(
        &mut self,
        table: Handle<ir::Table>,
        key: &[KeyMatch],
        priority: Option<Priority>,
        config: MeterConfig,
    ) -> Result<(), RuntimeError> {
        let t = self.table_index(table)?;
        let Some(off) = self.tables[t].spec.value.meter else {
            return Err(invalid(format!(
                "table {} has no direct meter",
                self.table_model(t).dotted
            )));
        };
        let elements = self.find(t, key, priority)?;
        let state = crate::entry::MeterState::configured(
            config.cir,
            config.cbs,
            config.pir,
            config.pbs,
            sys::monotonic_ns(),
        )
        .encode();
        let dotted = self.table_model(t).dotted.clone();
        let store = self.store(t)?;
        for mut e in elements {
            let at = off as usize;
            e.value[at..at + state.len()].copy_from_slice(&state);
            store
                .replace(&e.key, &e.value)
                .map_err(|err| kernel("writing an entry", &dotted, err))?;
        }
        Ok(())
    }
}

/// The tag of an LPM entry the control plane writes: its trie prefix length (the key's first,
/// host-order word) plus one, so an exact-key lookup can tell its own key from a shorter
/// prefix that answered it.
fn lpm_tag(key: &[u8]) -> u32 {
    key.get(..4)
        .and_then(|w| w.try_into().ok())
        .map_or(0, u32::from_ne_bytes)
        .saturating_add(1)
}

/// The program ages entries in the kernel and publishes their deletes.
fn has_aging_events(g: &Generated) -> bool {
    g.maps.iter().any(|m| m.role == MapRole::AgingEvents)
}

/// A direct counter's counts as its kind and width show them.
fn direct_counts(tm: &TableModel, model: &PipelineModel, packets: u64, bytes: u64) -> (u64, u64) {
    let layout = tm
        .direct_counter
        .and_then(|h| model.instance(h))
        .and_then(|i| match &i.layout {
            Some(p4tc_ir::layout::ExternLayout::Counter(c)) => Some(c.clone()),
            _ => None,
        });
    match layout {
        Some(c) => {
            // A single-count counter keeps its count in the first word.
            let (p, b) = if c.kind.counts_packets() {
                (packets, bytes)
            } else {
                (0, packets)
            };
            (
                if c.kind.counts_packets() {
                    externs::wrap(p, c.width)
                } else {
                    0
                },
                if c.kind.counts_bytes() {
                    externs::wrap(b, c.width)
                } else {
                    0
                },
            )
        }
        None => (packets, bytes),
    }
}

impl ObjectModel for KernelBackend {
    fn create_entry(
        &mut self,
        table: Handle<ir::Table>,
        entry: EntrySpec,
    ) -> Result<(), RuntimeError> {
        let t = self.table_index(table)?;
        table_permission(self.table_model(t), TableOp::Create)?;
        self.insert(t, entry)
    }

    /// Checks and encodes every entry first (the table's mask slots and priorities read
    /// once), then writes them with the fastest path the kernel allows (see
    /// [`crate::bulk`]): a syscall program inserting up to 65,536 staged elements per run for
    /// hash maps, `BPF_MAP_UPDATE_BATCH` for LPM tries.
    fn create_entries(
        &mut self,
        table: Handle<ir::Table>,
        entries: Vec<EntrySpec>,
    ) -> Vec<Result<(), RuntimeError>> {
        match self.table_index(table) {
            Ok(t) => self.create_batch(t, entries),
            Err(e) => vec![Err(e); entries.len()],
        }
    }

    fn update_entry(
        &mut self,
        table: Handle<ir::Table>,
        entry: EntrySpec,
    ) -> Result<(), RuntimeError> {
        let t = self.table_index(table)?;
        let elements = self.find(t, &entry.key, entry.priority)?;
        self.check_entry_perm(t, &elements, CTRL_U, "update")?;
        let tm = self.table_model(t);
        let old_perms =
            Permissions::from_bits(elements[0].head.permissions).unwrap_or(Permissions::CONST);
        let permissions = entry_permissions(tm, entry.permissions, old_perms)?;
        let (action_id, params) = match &entry.action {
            Some(call) => (
                self.action_id(t, call.action),
                check_action_call(tm, call, false)?,
            ),
            None => (0, Box::default()),
        };
        let profile = self.age_ok(t, &entry)?;
        let dotted = tm.dotted.clone();
        let vl = self.tables[t].spec.value.clone();
        let now = sys::monotonic_ns();
        if entry.dynamic {
            // (Before and after the write: see `mark_dynamic`.)
            self.mark_dynamic(t)?;
        }
        let store = self.store(t)?;
        let mut written = Vec::with_capacity(elements.len());
        for e in &elements {
            let old = e.head;
            let head = EntryHead {
                action: action_id,
                permissions: permissions.bits(),
                flags: (old.flags & (FLAG_DATAPATH | FLAG_PRIO_ALLOCATED))
                    | if entry.action.is_some() {
                        FLAG_HAS_ACTION
                    } else {
                        0
                    }
                    | if entry.dynamic { FLAG_DYNAMIC } else { 0 },
                profile,
                last_used_ns: now,
                ..old
            };
            let mut value = vl
                .encode(&head, &params)
                .map_err(|err| invalid(format!("table {dotted}: {err}")))?;
            // The direct counter and meter carry over.
            let keep = vl.externs.start as usize..vl.externs.end as usize;
            value[keep.clone()].copy_from_slice(&e.value[keep]);
            store.replace(&e.key, &value).map_err(|err| {
                if err.raw_os_error() == Some(store::NO_SLOT) {
                    no_slot(tm, &entry.key)
                } else {
                    kernel("writing an entry", &dotted, err)
                }
            })?;
            written.push((e.key.clone(), value));
        }
        if entry.dynamic {
            let _ = self.mark_dynamic(t);
        }
        let mut spec = self
            .info(t, &self.find(t, &entry.key, entry.priority)?)?
            .spec;
        spec.permissions = Some(permissions);
        self.publish(t, 1, vec![(spec, written)]);
        Ok(())
    }

    fn delete_entry(
        &mut self,
        table: Handle<ir::Table>,
        key: &[KeyMatch],
        priority: Option<Priority>,
    ) -> Result<(), RuntimeError> {
        let t = self.table_index(table)?;
        let elements = self.find(t, key, priority)?;
        self.check_entry_perm(t, &elements, CTRL_D, "delete")?;
        let spec = self.info(t, &elements)?.spec;
        let dotted = self.table_model(t).dotted.clone();
        let store = self.store(t)?;
        for e in &elements {
            match store.delete(&e.key) {
                Ok(()) => {}
                Err(err) if err.raw_os_error() == Some(libc::ENOENT) => {}
                Err(err) => return Err(kernel("deleting an entry", &dotted, err)),
            }
        }
        self.free_masks_if_empty(t)?;
        let gone = elements.into_iter().map(|e| (e.key, e.value)).collect();
        self.publish(t, 2, vec![(spec, gone)]);
        Ok(())
    }

    fn get_entry(
        &self,
        table: Handle<ir::Table>,
        key: &[KeyMatch],
        priority: Option<Priority>,
    ) -> Result<EntryInfo, RuntimeError> {
        let t = self.table_index(table)?;
        let elements = self.find(t, key, priority)?;
        self.check_entry_perm(t, &elements, CTRL_R, "read")?;
        self.info(t, &elements)
    }

    fn dump(&self, table: Handle<ir::Table>) -> Result<Vec<EntryInfo>, RuntimeError> {
        let t = self.table_index(table)?;
        let lpm = self.tables[t].spec.key.kind == TableKind::Lpm;
        let mut out = Vec::new();
        for group in self.entries(t)? {
            if group[0].head.permissions & CTRL_R == 0 {
                continue;
            }
            // As MemoryBackend orders them: the longer prefix first (LPM), then the better
            // priority, then the older entry.
            let prefix = if lpm { lpm_tag(&group[0].key) } else { 0 };
            // The program's entries share creation time 0; their priority values (the
            // generator writes them in every table; in an exact head, which has none, their
            // creation times count nanoseconds from 0 instead) keep the program's order.
            let program_order = group[0].head.priority;
            out.push((
                std::cmp::Reverse(prefix),
                program_order,
                self.info(t, &group)?,
            ));
        }
        out.sort_by_key(|(prefix, order, e)| (*prefix, e.spec.priority, e.created_at, *order));
        Ok(out.into_iter().map(|(_, _, e)| e).collect())
    }

    fn flush(&mut self, table: Handle<ir::Table>) -> Result<usize, RuntimeError> {
        let t = self.table_index(table)?;
        table_permission(self.table_model(t), TableOp::Delete)?;
        let dotted = self.table_model(t).dotted.clone();
        let doomed: Vec<Vec<Element>> = self
            .entries(t)?
            .into_iter()
            .filter(|g| g[0].head.flags & FLAG_CONST == 0 && g[0].head.permissions & CTRL_D != 0)
            .collect();
        let mut specs = Vec::new();
        for g in &doomed {
            specs.push(self.info(t, g)?.spec);
        }
        let store = self.store(t)?;
        for g in &doomed {
            for e in g {
                match store.delete(&e.key) {
                    Ok(()) => {}
                    Err(err) if err.raw_os_error() == Some(libc::ENOENT) => {}
                    Err(err) => return Err(kernel("deleting an entry", &dotted, err)),
                }
            }
        }
        self.free_masks_if_empty(t)?;
        let count = doomed.len();
        let items = specs
            .into_iter()
            .zip(doomed)
            .map(|(spec, g)| (spec, g.into_iter().map(|e| (e.key, e.value)).collect()))
            .collect();
        self.publish(t, 2, items);
        Ok(count)
    }

    fn default_action(
        &self,
        table: Handle<ir::Table>,
        which: DefaultKind,
    ) -> Result<Option<ActionCall>, RuntimeError> {
        let t = self.table_index(table)?;
        let tm = self.table_model(t);
        let spec = &self.tables[t].spec;
        let value = sys::SizedMap::lookup(
            self.map(&spec.defaults_map)?,
            &self.default_slot(which).to_ne_bytes(),
        )
        .map_err(|e| kernel("reading its default action", &tm.dotted, e))?;
        let head = spec
            .value
            .decode_head(&value)
            .ok_or_else(|| invalid(format!("table {}: a short value", tm.dotted)))?;
        if head.tag == 0 {
            // As the loader wrote it: the program's default (a miss without one runs
            // NoAction, which the model shows as none).
            return Ok(match which {
                DefaultKind::Hit => tm.default_hit().map(|(c, _)| c),
                DefaultKind::Miss => tm.default_miss.clone(),
            });
        }
        Ok(self.call_of(t, &head, &value))
    }

    fn set_default_action(
        &mut self,
        table: Handle<ir::Table>,
        which: DefaultKind,
        call: ActionCall,
    ) -> Result<(), RuntimeError> {
        let t = self.table_index(table)?;
        let tm = self.table_model(t);
        let is_const = match which {
            DefaultKind::Hit => tm.default_hit().is_some_and(|(_, c)| c),
            DefaultKind::Miss => tm.default_miss_const,
        };
        if is_const {
            return Err(perm(format!(
                "the default {} action of table {} is const",
                match which {
                    DefaultKind::Hit => "hit",
                    DefaultKind::Miss => "miss",
                },
                tm.dotted
            )));
        }
        let params = check_action_call(tm, &call, true)?;
        let head = EntryHead {
            action: self.action_id(t, call.action),
            permissions: tm.permissions.bits(),
            flags: FLAG_HAS_ACTION,
            // Set by the control plane (the loader's are 0).
            tag: 1,
            ..EntryHead::default()
        };
        let dotted = tm.dotted.clone();
        let spec = &self.tables[t].spec;
        let value = spec
            .value
            .encode(&head, &params)
            .map_err(|e| invalid(format!("table {dotted}: {e}")))?;
        sys::SizedMap::update(
            self.map(&spec.defaults_map)?,
            &self.default_slot(which).to_ne_bytes(),
            &value,
            sys::BPF_ANY,
        )
        .map_err(|e| kernel("writing its default action", &dotted, e))
    }

    fn counter(
        &self,
        counter: Handle<ir::Instance>,
        index: u64,
    ) -> Result<CounterValue, RuntimeError> {
        externs::counter(self, counter, index)
    }

    fn reset_counter(
        &mut self,
        counter: Handle<ir::Instance>,
        index: u64,
    ) -> Result<(), RuntimeError> {
        externs::reset_counter(self, counter, index)
    }

    fn register(
        &self,
        register: Handle<ir::Instance>,
        index: u64,
    ) -> Result<Vec<BigUint>, RuntimeError> {
        externs::register(self, register, index)
    }

    fn set_register(
        &mut self,
        register: Handle<ir::Instance>,
        index: u64,
        value: &[BigUint],
    ) -> Result<(), RuntimeError> {
        externs::set_register(self, register, index, value)
    }

    fn set_meter(
        &mut self,
        meter: Handle<ir::Instance>,
        index: u64,
        config: MeterConfig,
    ) -> Result<(), RuntimeError> {
        externs::set_meter(self, meter, index, config)
    }

    fn timer_profiles(&self) -> Vec<Duration> {
        // The trait cannot fail here: an unreadable map shows this process's copy.
        self.current_profiles()
            .unwrap_or_else(|_| self.profiles.clone())
    }

    fn set_timer_profile(&mut self, profile: u32, after: Duration) -> Result<(), RuntimeError> {
        let p = profile as usize;
        if after.is_zero() {
            return Err(invalid(format!(
                "timer profile {profile}: an aging time must be more than zero"
            )));
        }
        let mut profiles = self.current_profiles()?;
        if p < profiles.len() {
            profiles[p] = after;
        } else if p == profiles.len() && p < MAX_TIMER_PROFILES {
            profiles.push(after);
        } else {
            return Err(invalid(format!(
                "timer profile {profile}: profiles are numbered 0..{} (the next new one is {}, at most {MAX_TIMER_PROFILES})",
                profiles.len(),
                profiles.len()
            )));
        }
        if let Some(name) = &self.profiles_map {
            let ns = u64::try_from(after.as_nanos()).unwrap_or(u64::MAX);
            sys::SizedMap::update(
                self.map(name)?,
                &profile.to_ne_bytes(),
                &ns.to_ne_bytes(),
                sys::BPF_ANY,
            )
            .map_err(|e| invalid(format!("timer profile {profile}: the kernel said: {e}")))?;
        }
        self.profiles = profiles;
        Ok(())
    }

    fn take_events(&mut self) -> Vec<Event> {
        let mut out: Vec<Event> = self.events.drain(..).collect();
        let aged = match self.aging_events.as_mut() {
            Some(reader) => reader.drain(),
            None => Vec::new(),
        };
        for e in aged {
            if let Some(event) = self.aging_event(&e) {
                out.push(event);
            }
        }
        // Both on the kernel's monotonic clock: one order.
        out.sort_by_key(|e| e.at);
        out
    }
}
