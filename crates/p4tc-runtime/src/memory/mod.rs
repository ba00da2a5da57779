//! [`MemoryBackend`]: the whole object model in memory, for the interpreter and for tests.
//!
//! P4TC's rules as this backend applies them:
//! - **Permissions.** A control-plane create needs the table's control-plane C bit, a
//!   datapath `add_entry` the datapath C bit. Reading, updating and deleting an entry need the
//!   entry's own R, U and D bits of the side asking (as P4TC's kernel checks them); a lookup
//!   runs the entry's action only with the entry's datapath X bit. Explicit entry permissions
//!   may not exceed the table's; omitted ones are the table's less both C bits. A flush needs
//!   the table's control-plane D bit and deletes only the entries that the control plane may
//!   delete. Events are published for entries with either P bit.
//! - **Const.** Program entries marked const (permissions [`Permissions::CONST`]) and const
//!   default actions are refused to update, delete and set.
//! - **Priorities.** The lower value wins; ties go to the earlier entry. An entry given no
//!   priority in a table with priorities gets the table's next allocated one (1, 2, ...), so
//!   later ones lose. Exact and LPM tables keep none (LPM: the longest prefix wins). In a table
//!   with priorities, an entry is named by its key and priority; a get or delete without a
//!   priority finds the only entry with that key, and a create without one is refused when an
//!   entry with that key exists.
//! - **Aging.** Dynamic entries (every datapath entry) are deleted, with an event by
//!   [`Actor::Timer`], once `last_used + age <= now`. Deadlines sit in a heap checked lazily:
//!   [`Datapath::expire`] costs one comparison when nothing is due, and a hit only writes the
//!   entry's last-used time (the heap item is moved when it comes due).
//! - **Time.** A hit is stamped with the packet's time: the clock is read at most once per
//!   packet, by [`Datapath::expire`] (which the datapath calls before each packet) when some
//!   entry ages, else by the packet's first hit. Control-plane changes read it too. Meters read
//!   the clock themselves.
//! - **Keys.** Each field's match is checked against its match kind and width, and errors
//!   name the field. Bits of a ternary value outside its mask, and of an LPM value past its
//!   prefix, are masked off (not refused): the entry is stored, dumped and found under the
//!   masked value. Keys are encoded with `p4tc_ir::layout`'s encoders, as lookups are.
//! - **Datapath updates.** `set_entry_expire_time` needs the entry's datapath U bit, as P4TC's
//!   kernel checks it: entries of a `CRXP` add-on-miss table (no U) keep their profile.
//! - **Events.** At most [`EVENT_CAPACITY`] wait; past that the oldest go (counted by
//!   [`MemoryBackend::events_dropped`]), so an undrained queue cannot grow without bound.
//! - **Atomicity.** Every operation checks everything before it changes anything.
//!
//! Lookups (see `table.rs`): exact tables are one hash map whose buckets hold the key (inline
//! up to 32 bytes) and the entry's hot record (action, action data, execute bit, last use);
//! LPM tables are 256 path-compressed binary tries under a first-byte table; ternary, range
//! and optional fields use tuple-space search, one map per mask, best group first. No lookup
//! allocates.

mod externs;
mod keys;
mod lpm;
mod table;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use num_bigint::BigUint;
use num_traits::ToPrimitive;
use p4tc_ir::arena::Handle;
use p4tc_ir::introspection::Permissions;
use p4tc_ir::ir::{self, ActionScope};

use crate::clock::Clock;
use crate::datapath::{Color, Datapath, EntryRef, Lookup};
use crate::entry::{
    ActionCall, Actor, Aging, DefaultKind, EntryInfo, EntrySpec, KeyMatch, Priority,
};
use crate::error::RuntimeError;
use crate::event::{Event, EventKind};
use crate::model::{ActionModel, PipelineModel, TableModel};
use crate::object_model::{CounterValue, MeterConfig, ObjectModel};

use externs::{wrap, InstanceState, MeterUnit};
use keys::{encode_entry_key, format_key, key_of_lookup_blob};
use table::{Entry, FindError, Hot, Params, TableState};

/// How many events wait for [`ObjectModel::take_events`] before the oldest are dropped.
pub const EVENT_CAPACITY: usize = 65536;
/// The most timer profiles a pipeline has.
pub const MAX_TIMER_PROFILES: usize = 16;
/// Timer profiles a pipeline starts with: profile i ages after (i + 1) x 30 s.
pub const DEFAULT_TIMER_PROFILES: usize = 4;

// CRUDXPS bits: the control plane's in 13..7, the datapath's in 6..0.
const CTRL_C: u16 = 1 << 13;
const CTRL_R: u16 = 1 << 12;
const CTRL_U: u16 = 1 << 11;
const CTRL_D: u16 = 1 << 10;
const CTRL_P: u16 = 1 << 8;
const DATA_C: u16 = 1 << 6;
const DATA_U: u16 = 1 << 4;
const DATA_X: u16 = 1 << 2;
const DATA_P: u16 = 1 << 1;

/// A default action, with its action data laid out once.
#[derive(Clone, Debug)]
struct DefaultAction {
    call: Option<ActionCall>,
    action: Option<Handle<ir::Action>>,
    params: Box<[u8]>,
    is_const: bool,
}

impl DefaultAction {
    fn none() -> DefaultAction {
        DefaultAction {
            call: None,
            action: None,
            params: Box::new([]),
            is_const: false,
        }
    }
}

/// One table: its model's position, entries, defaults.
#[derive(Debug)]
struct Table {
    /// Position in `PipelineModel::tables`.
    model: usize,
    state: TableState,
    default_hit: DefaultAction,
    default_miss: DefaultAction,
    /// Next priority to allocate.
    next_prio: u32,
    has_prio: bool,
    direct_counter: bool,
    direct_meter: Option<MeterUnit>,
}

/// The object model in memory: tables with P4TC's rules, extern state, aging and events. It
/// implements both [`ObjectModel`] (control surfaces) and [`Datapath`] (the interpreter).
pub struct MemoryBackend {
    model: Arc<PipelineModel>,
    clock: Arc<dyn Clock>,
    tables: Vec<Table>,
    /// `Handle<ir::Table>::index()` -> position in `tables`.
    table_at: Vec<Option<usize>>,
    instances: Vec<InstanceState>,
    /// `Handle<ir::Instance>::index()` -> position in `instances`.
    instance_at: Vec<Option<usize>>,
    profiles: Vec<Duration>,
    events: VecDeque<Pending>,
    events_dropped: u64,
    /// Aging deadlines: (deadline, table, slot, entry seq), earliest first.
    aging: BinaryHeap<Reverse<(Duration, u32, u32, u64)>>,
    /// Next entry sequence number.
    seq: u64,
    /// The datapath's time: the clock as the latest `expire()` (called before each packet) or
    /// control-plane change read it. Hits are stamped with it, so a lookup reads no clock.
    now: Duration,
    /// `expire()` found nothing to age and skipped the clock: the first hit of the packet
    /// reads it.
    stale: bool,
}

impl std::fmt::Debug for MemoryBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryBackend")
            .field("pipeline", &self.model.name)
            .field("tables", &self.tables.len())
            .field("instances", &self.instances.len())
            .field("events", &self.events.len())
            .finish_non_exhaustive()
    }
}

/// What happened to an entry, for its event.
#[derive(Clone, Copy, Debug)]
enum Change {
    Created,
    Updated,
    Deleted,
}

fn perm(reason: String) -> RuntimeError {
    RuntimeError::Permission { reason }
}

fn invalid(message: String) -> RuntimeError {
    RuntimeError::Invalid(message)
}

impl MemoryBackend {
    /// A backend for `model`, its clock `clock`, with the program's entries and default
    /// actions installed.
    pub fn new(
        model: Arc<PipelineModel>,
        clock: Arc<dyn Clock>,
    ) -> Result<MemoryBackend, RuntimeError> {
        let module = Arc::clone(&model.module);
        let mut instances = Vec::with_capacity(model.instances.len());
        let mut instance_at = vec![None; module.instances.len()];
        for inst in &model.instances {
            if let Some(slot) = instance_at.get_mut(inst.handle.index()) {
                *slot = Some(instances.len());
            }
            instances.push(InstanceState::new(&module, inst)?);
        }
        let unit_of = |handle: Option<Handle<ir::Instance>>| {
            handle
                .and_then(|h| instance_at.get(h.index()).copied().flatten())
                .and_then(|i| match &instances[i] {
                    InstanceState::DirectMeter { unit } => Some(*unit),
                    _ => None,
                })
        };
        let mut tables = Vec::with_capacity(model.tables.len());
        let mut table_at = vec![None; module.tables.len()];
        for (i, tm) in model.tables.iter().enumerate() {
            if let Some(slot) = table_at.get_mut(tm.handle.index()) {
                *slot = Some(tables.len());
            }
            tables.push(Table {
                model: i,
                state: TableState::new(tm),
                default_hit: DefaultAction::none(),
                default_miss: DefaultAction::none(),
                next_prio: 1,
                has_prio: tm.has_priorities(),
                direct_counter: tm.direct_counter.is_some(),
                direct_meter: unit_of(tm.direct_meter),
            });
        }
        let mut backend = MemoryBackend {
            model: Arc::clone(&model),
            clock,
            tables,
            table_at,
            instances,
            instance_at,
            profiles: (1..=DEFAULT_TIMER_PROFILES as u64)
                .map(|i| Duration::from_secs(30 * i))
                .collect(),
            events: VecDeque::new(),
            events_dropped: 0,
            aging: BinaryHeap::new(),
            seq: 0,
            now: Duration::ZERO,
            stale: false,
        };
        backend.now = backend.clock.now();
        for (t, tm) in model.tables.iter().enumerate() {
            if let Some((call, is_const)) = tm.default_hit() {
                let params = check_call(tm, &call, true)?;
                backend.tables[t].default_hit = DefaultAction {
                    action: Some(call.action),
                    call: Some(call),
                    params,
                    is_const,
                };
            }
            if let Some(call) = &tm.default_miss {
                let params = check_call(tm, call, true)?;
                backend.tables[t].default_miss = DefaultAction {
                    action: Some(call.action),
                    call: Some(call.clone()),
                    params,
                    is_const: tm.default_miss_const,
                };
            }
            for entry in &tm.program_entries {
                let mut spec = entry.spec.clone();
                if entry.is_const {
                    spec.permissions = Some(Permissions::CONST);
                }
                backend.insert_entry(t, spec, Actor::Program, entry.is_const)?;
            }
        }
        // Program entries are the starting state, not news.
        backend.events.clear();
        Ok(backend)
    }

    /// The pipeline this backend holds.
    pub fn model(&self) -> &Arc<PipelineModel> {
        &self.model
    }

    /// Events dropped because nobody took them and the queue held [`EVENT_CAPACITY`].
    pub fn events_dropped(&self) -> u64 {
        self.events_dropped
    }

    /// How many entries `table` holds (every entry, whatever its permissions).
    pub fn entry_count(&self, table: Handle<ir::Table>) -> Result<usize, RuntimeError> {
        let t = self.table_index(table)?;
        Ok(self.tables[t].state.len())
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
        if self.tables[t].direct_meter.is_none() {
            return Err(invalid(format!(
                "table {} has no direct meter",
                self.table_model(t).dotted
            )));
        }
        let slot = self.find_entry(t, key, priority)?;
        let now = self.clock.now();
        if let Some(e) = self.tables[t].state.get_mut(slot) {
            e.meter
                .get_or_insert_with(Box::default)
                .configure(config, now);
        }
        Ok(())
    }

    fn table_model(&self, t: usize) -> &TableModel {
        &self.model.tables[self.tables[t].model]
    }

    fn table_index(&self, table: Handle<ir::Table>) -> Result<usize, RuntimeError> {
        self.table_at
            .get(table.index())
            .copied()
            .flatten()
            .ok_or_else(|| RuntimeError::NotFound {
                what: format!("table #{}", table.index()),
            })
    }

    #[inline]
    fn table_fast(&self, table: Handle<ir::Table>) -> Option<usize> {
        self.table_at.get(table.index()).copied().flatten()
    }

    fn instance_index(&self, instance: Handle<ir::Instance>) -> Result<usize, RuntimeError> {
        self.instance_at
            .get(instance.index())
            .copied()
            .flatten()
            .ok_or_else(|| RuntimeError::NotFound {
                what: format!("extern instance #{}", instance.index()),
            })
    }

    fn instance_name(&self, i: usize) -> &str {
        &self.model.instances[i].name
    }

    fn publish(&mut self, at: Duration, kind: EventKind) {
        if self.events.len() >= EVENT_CAPACITY {
            self.events.pop_front();
            self.events_dropped += 1;
        }
        self.events.push_back(Pending::Other(Event { at, kind }));
    }

    /// Reads the clock, and moves the datapath's time up to it.
    fn tick(&mut self) -> Duration {
        let now = self.clock.now();
        self.now = self.now.max(now);
        now
    }

    fn publish_entry(&mut self, t: usize, spec: &Arc<EntrySpec>, by: Actor, what: Change) {
        let table = self.table_model(t).handle;
        push_entry_event(
            &mut self.events,
            &mut self.events_dropped,
            self.now,
            table,
            spec,
            by,
            what,
        );
    }

    fn age_of(&self, aging: Aging) -> Option<Duration> {
        match aging {
            Aging::Profile(i) => self.profiles.get(i as usize).copied(),
            Aging::After(d) => Some(d),
        }
    }

    fn check_aging(&self, t: usize, spec: &EntrySpec) -> Result<Option<Aging>, RuntimeError> {
        if !spec.dynamic {
            return Ok(None);
        }
        let aging = spec.aging.unwrap_or(Aging::Profile(0));
        if self.age_of(aging).is_none() {
            return Err(invalid(format!(
                "table {}: timer profile {} does not exist ({} profiles)",
                self.table_model(t).dotted,
                match aging {
                    Aging::Profile(i) => i,
                    Aging::After(_) => 0,
                },
                self.profiles.len()
            )));
        }
        Ok(Some(aging))
    }

    /// Puts a heap item for the entry in `slot` when its deadline is earlier than its item's.
    fn schedule(&mut self, t: usize, slot: u32) {
        let Some((e, hot)) = self.tables[t].state.get_full(slot) else {
            return;
        };
        let Some(age) = e.age.and_then(|a| self.age_of(a)) else {
            return;
        };
        let deadline = hot.last_used.saturating_add(age);
        if e.heap_deadline.is_some_and(|d| d <= deadline) {
            return;
        }
        let seq = e.seq;
        if let Some(e) = self.tables[t].state.get_mut(slot) {
            e.heap_deadline = Some(deadline);
        }
        self.aging.push(Reverse((deadline, t as u32, slot, seq)));
    }

    /// Rebuilds the aging heap (after timer profiles change).
    fn reschedule_all(&mut self) {
        self.aging.clear();
        let mut todo = Vec::new();
        for (t, table) in self.tables.iter_mut().enumerate() {
            let slots: Vec<u32> = table.state.entries().map(|(s, _)| s).collect();
            for s in slots {
                if let Some(e) = table.state.get_mut(s) {
                    e.heap_deadline = None;
                    if e.age.is_some() {
                        todo.push((t, s));
                    }
                }
            }
        }
        for (t, s) in todo {
            self.schedule(t, s);
        }
    }

    fn find_entry(
        &self,
        t: usize,
        key: &[KeyMatch],
        priority: Option<Priority>,
    ) -> Result<u32, RuntimeError> {
        let tm = self.table_model(t);
        let (encoded, normal) = encode_entry_key(tm, key)?;
        let normal = normal.as_deref().unwrap_or(key);
        let prio = if self.tables[t].has_prio {
            priority.map(|p| p.0)
        } else {
            None
        };
        self.tables[t]
            .state
            .find(&encoded, prio)
            .map_err(|e| match e {
                FindError::NotFound => RuntimeError::NotFound {
                    what: format!(
                        "entry {}{} in table {}",
                        format_key(tm, normal),
                        prio.map(|p| format!(" prio {p}")).unwrap_or_default(),
                        tm.dotted
                    ),
                },
                FindError::Ambiguous => invalid(format!(
                    "table {}: several entries have key {}; give a priority",
                    tm.dotted,
                    format_key(tm, normal)
                )),
            })
    }

    /// Checks and stores an entry; `spec.permissions` `None` inherits. Everything is checked
    /// before anything changes.
    fn insert_entry(
        &mut self,
        t: usize,
        mut spec: EntrySpec,
        by: Actor,
        is_const: bool,
    ) -> Result<u32, RuntimeError> {
        let tm = self.table_model(t);
        let (encoded, normal) = encode_entry_key(tm, &spec.key)?;
        if let Some(normal) = normal {
            spec.key = normal;
        }
        let inherited = tm.permissions.without_create();
        // Program entries are const with their own fixed permissions, whatever the table's.
        let permissions = match spec.permissions {
            Some(p) if is_const => p,
            requested => entry_permissions(tm, requested, inherited)?,
        };
        let (action, params) = match &spec.action {
            Some(call) => (Some(call.action), check_call(tm, call, false)?),
            None => (None, Box::default()),
        };
        let age = self.check_aging(t, &spec)?;
        let table = &self.tables[t];
        let given_prio = if table.has_prio {
            spec.priority.map(|p| p.0)
        } else {
            None
        };
        match table.state.find(&encoded, given_prio) {
            Err(FindError::NotFound) => {}
            _ => {
                return Err(RuntimeError::Exists {
                    table: format!("{} (key {})", tm.dotted, format_key(tm, &spec.key)),
                })
            }
        }
        if table.state.len() >= tm.size as usize {
            return Err(RuntimeError::Full {
                table: tm.dotted.clone(),
                size: tm.size,
            });
        }
        // Checked: now change things.
        let table = &mut self.tables[t];
        let prio = if table.has_prio {
            match given_prio {
                Some(p) => p,
                None => {
                    let p = table.next_prio;
                    table.next_prio = table.next_prio.saturating_add(1);
                    p
                }
            }
        } else {
            0
        };
        spec.priority = table.has_prio.then_some(Priority(prio));
        spec.permissions = Some(permissions);
        let now = self.tick();
        self.seq += 1;
        let entry = Entry {
            spec: Arc::new(spec),
            is_const,
            created_by: by,
            updated_by: None,
            created_at: now,
            counter: (0, 0),
            meter: None,
            key: encoded,
            prio,
            seq: self.seq,
            age,
            heap_deadline: None,
        };
        let hot = Hot {
            last_used: now,
            action,
            exec: permissions.bits() & DATA_X != 0,
            params: Params::new(&params),
        };
        let ages = age.is_some();
        let slot = self.tables[t].state.insert(entry, hot);
        if ages {
            self.schedule(t, slot);
        }
        let handle = self.table_model(t).handle;
        if let Some(e) = self.tables[t].state.get(slot) {
            push_entry_event(
                &mut self.events,
                &mut self.events_dropped,
                self.now,
                handle,
                &e.spec,
                by,
                Change::Created,
            );
        }
        Ok(slot)
    }

    fn remove_entry(&mut self, t: usize, slot: u32, by: Actor) {
        if let Some(e) = self.tables[t].state.remove(slot) {
            self.publish_entry(t, &e.spec, by, Change::Deleted);
        }
    }
}

/// Queues an entry event if the entry's permissions publish (either P bit). The event shares
/// the entry's spec until it is taken; when the queue is full the oldest event goes.
fn push_entry_event(
    events: &mut VecDeque<Pending>,
    dropped: &mut u64,
    at: Duration,
    table: Handle<ir::Table>,
    spec: &Arc<EntrySpec>,
    by: Actor,
    change: Change,
) {
    let bits = spec.permissions.map_or(0, Permissions::bits);
    if bits & (CTRL_P | DATA_P) == 0 {
        return;
    }
    if events.len() >= EVENT_CAPACITY {
        *dropped += 1;
        events.pop_front();
    }
    events.push_back(Pending::Entry {
        at,
        table,
        spec: Arc::clone(spec),
        by,
        change,
    });
}

/// An event waiting in the queue.
#[derive(Debug)]
enum Pending {
    /// About an entry, whose spec it shares.
    Entry {
        at: Duration,
        table: Handle<ir::Table>,
        spec: Arc<EntrySpec>,
        by: Actor,
        change: Change,
    },
    /// Anything else, ready.
    Other(Event),
}

impl Pending {
    fn into_event(self) -> Event {
        match self {
            Pending::Entry {
                at,
                table,
                spec,
                by,
                change,
            } => {
                let entry = Arc::unwrap_or_clone(spec);
                Event {
                    at,
                    kind: match change {
                        Change::Created => EventKind::EntryCreated { table, entry, by },
                        Change::Updated => EventKind::EntryUpdated { table, entry, by },
                        Change::Deleted => EventKind::EntryDeleted { table, entry, by },
                    },
                }
            }
            Pending::Other(event) => event,
        }
    }
}

/// Checks `key` against `table`'s fields as [`MemoryBackend`] does (same errors) and returns
/// it normalised (ternary values masked, LPM values cut to their prefix): what another backend
/// (the kernel's) encodes, so both refuse and accept the same keys.
pub fn check_entry_key(
    table: &TableModel,
    key: &[KeyMatch],
) -> Result<Vec<KeyMatch>, RuntimeError> {
    let (_, normal) = encode_entry_key(table, key)?;
    Ok(normal.unwrap_or_else(|| key.to_vec()))
}

/// [`check_entry_key`] taking the key: an already normal key (an exact table's, mostly) comes
/// back as it is, not copied.
pub fn normalize_entry_key(
    table: &TableModel,
    key: Vec<KeyMatch>,
) -> Result<Vec<KeyMatch>, RuntimeError> {
    // An exact table's key is checked without being encoded (the caller encodes it for its
    // own store).
    if let Some(checked) = keys::check_exact_key(table, &key) {
        return checked.map(|()| key);
    }
    let (_, normal) = encode_entry_key(table, &key)?;
    Ok(normal.unwrap_or(key))
}

/// Checks an action call for `table` as [`MemoryBackend`] does (the action is the table's, its
/// scope allows an entry's or a default's use, the parameters fit) and returns its parameter
/// blob (`ParamLayout`).
pub fn check_action_call(
    table: &TableModel,
    call: &ActionCall,
    as_default: bool,
) -> Result<Box<[u8]>, RuntimeError> {
    check_call(table, call, as_default)
}

/// A control-plane operation on a whole table, by the permission bit it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableOp {
    /// Creating entries (C).
    Create,
    /// Deleting entries, a flush among them (D).
    Delete,
}

/// Refuses `op` on `table` when the table's permissions do not give the control plane its
/// bit: one rule and one message for every backend and every write path.
pub fn table_permission(table: &TableModel, op: TableOp) -> Result<(), RuntimeError> {
    let (bit, what) = match op {
        TableOp::Create => (CTRL_C, "create"),
        TableOp::Delete => (CTRL_D, "delete"),
    };
    if table.permissions.bits() & bit == 0 {
        return Err(perm(format!(
            "table {} has no control-plane {what} permission ({})",
            table.dotted, table.permissions
        )));
    }
    Ok(())
}

/// The permissions an entry written with `requested` gets in `table`, as [`MemoryBackend`]
/// decides them: explicit ones must not exceed the table's (P4TC's rule); without them the
/// entry keeps `otherwise` (the table's less both create bits on a create, the entry's own on
/// an update).
pub fn entry_permissions(
    table: &TableModel,
    requested: Option<Permissions>,
    otherwise: Permissions,
) -> Result<Permissions, RuntimeError> {
    match requested {
        Some(p) if !table.permissions.contains(p) => Err(perm(format!(
            "entry permissions {} ({p}) exceed table {}'s {} ({})",
            p.to_hex(),
            table.dotted,
            table.permissions.to_hex(),
            table.permissions
        ))),
        Some(p) => Ok(p),
        None => Ok(otherwise),
    }
}

/// A key written for messages as [`MemoryBackend`]'s errors write it (`dstAddr=0xa000002/32`).
pub fn describe_key(table: &TableModel, key: &[KeyMatch]) -> String {
    format_key(table, key)
}

/// Checks an action call against the table (the action is the table's, its scope allows the
/// use, the parameters fit) and lays out its action data.
fn check_call(
    tm: &TableModel,
    call: &ActionCall,
    as_default: bool,
) -> Result<Box<[u8]>, RuntimeError> {
    let Some(am) = tm.action(call.action) else {
        return Err(RuntimeError::NotFound {
            what: format!(
                "action #{} among table {}'s actions ({})",
                call.action.index(),
                tm.dotted,
                tm.actions
                    .iter()
                    .map(|a| a.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    };
    match (am.scope, as_default) {
        (ActionScope::TableOnly, true) => {
            return Err(invalid(format!(
                "action {} is @tableonly in table {}: it cannot be a default action",
                am.name, tm.dotted
            )))
        }
        (ActionScope::DefaultOnly, false) => {
            return Err(invalid(format!(
                "action {} is @defaultonly in table {}: it cannot be an entry's action",
                am.name, tm.dotted
            )))
        }
        _ => {}
    }
    check_params(tm, am, &call.params)
}

fn check_params(
    tm: &TableModel,
    am: &ActionModel,
    params: &[BigUint],
) -> Result<Box<[u8]>, RuntimeError> {
    if params.len() != am.params.len() {
        return Err(invalid(format!(
            "action {} (table {}) takes {} parameters ({}); {} given",
            am.name,
            tm.dotted,
            am.params.len(),
            am.params
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            params.len()
        )));
    }
    for (p, v) in am.params.iter().zip(params) {
        if v.bits() > u64::from(p.width) {
            return Err(invalid(format!(
                "action {}: parameter `{}`: value {v:#x} does not fit in {} bits",
                am.name, p.name, p.width
            )));
        }
    }
    // Values that fit a u128 (nearly all) are written without a byte vector each, and up to
    // eight of them without a vector of them either.
    let mut few = [0u128; 8];
    let small = params.len() <= few.len()
        && params
            .iter()
            .zip(few.iter_mut())
            .all(|(v, slot)| v.to_u128().map(|n| *slot = n).is_some());
    if small {
        am.layout.encode(&few[..params.len()])
    } else {
        let small: Option<Vec<u128>> = params.iter().map(|v| v.to_u128()).collect();
        match small {
            Some(small) => am.layout.encode(&small),
            None => am.layout.encode(params),
        }
    }
    .map(Vec::into_boxed_slice)
    .map_err(|e| invalid(format!("action {}: {e}", am.name)))
}

impl ObjectModel for MemoryBackend {
    fn create_entry(
        &mut self,
        table: Handle<ir::Table>,
        entry: EntrySpec,
    ) -> Result<(), RuntimeError> {
        let t = self.table_index(table)?;
        table_permission(self.table_model(t), TableOp::Create)?;
        self.insert_entry(t, entry, Actor::ControlPlane, false)
            .map(|_| ())
    }

    fn update_entry(
        &mut self,
        table: Handle<ir::Table>,
        entry: EntrySpec,
    ) -> Result<(), RuntimeError> {
        let t = self.table_index(table)?;
        let slot = self.find_entry(t, &entry.key, entry.priority)?;
        let tm = self.table_model(t);
        let old = self.tables[t]
            .state
            .get(slot)
            .ok_or_else(|| invalid("entry vanished".into()))?;
        let key = format_key(tm, &old.spec.key);
        if old.is_const {
            return Err(perm(format!("entry {key} of table {} is const", tm.dotted)));
        }
        let old_perms = old.spec.permissions.unwrap_or(Permissions::CONST);
        if old_perms.bits() & CTRL_U == 0 {
            return Err(perm(format!(
                "entry {key} of table {} has no control-plane update permission ({old_perms})",
                tm.dotted
            )));
        }
        let permissions = entry_permissions(tm, entry.permissions, old_perms)?;
        let (action, params) = match &entry.action {
            Some(call) => (Some(call.action), check_call(tm, call, false)?),
            None => (None, Box::default()),
        };
        let age = self.check_aging(t, &entry)?;
        let now = self.tick();
        let Some((e, hot)) = self.tables[t].state.get_full_mut(slot) else {
            return Ok(());
        };
        let s = Arc::make_mut(&mut e.spec);
        s.action = entry.action;
        s.permissions = Some(permissions);
        s.dynamic = entry.dynamic;
        s.aging = entry.aging;
        e.age = age;
        e.updated_by = Some(Actor::ControlPlane);
        hot.action = action;
        hot.params = Params::new(&params);
        hot.exec = permissions.bits() & DATA_X != 0;
        hot.last_used = now;
        let spec = e.spec.clone();
        self.schedule(t, slot);
        self.publish_entry(t, &spec, Actor::ControlPlane, Change::Updated);
        Ok(())
    }

    fn delete_entry(
        &mut self,
        table: Handle<ir::Table>,
        key: &[KeyMatch],
        priority: Option<Priority>,
    ) -> Result<(), RuntimeError> {
        let t = self.table_index(table)?;
        let slot = self.find_entry(t, key, priority)?;
        let tm = self.table_model(t);
        if let Some(e) = self.tables[t].state.get(slot) {
            let key = format_key(tm, &e.spec.key);
            if e.is_const {
                return Err(perm(format!("entry {key} of table {} is const", tm.dotted)));
            }
            let p = e.spec.permissions.unwrap_or(Permissions::CONST);
            if p.bits() & CTRL_D == 0 {
                return Err(perm(format!(
                    "entry {key} of table {} has no control-plane delete permission ({p})",
                    tm.dotted
                )));
            }
        }
        self.tick();
        self.remove_entry(t, slot, Actor::ControlPlane);
        Ok(())
    }

    fn get_entry(
        &self,
        table: Handle<ir::Table>,
        key: &[KeyMatch],
        priority: Option<Priority>,
    ) -> Result<EntryInfo, RuntimeError> {
        let t = self.table_index(table)?;
        let slot = self.find_entry(t, key, priority)?;
        let table = &self.tables[t];
        let (e, hot) = table
            .state
            .get_full(slot)
            .ok_or_else(|| invalid("entry vanished".into()))?;
        let p = e.spec.permissions.unwrap_or(Permissions::CONST);
        if p.bits() & CTRL_R == 0 {
            let tm = self.table_model(t);
            return Err(perm(format!(
                "entry {} of table {} has no control-plane read permission ({p})",
                format_key(tm, &e.spec.key),
                tm.dotted
            )));
        }
        Ok(e.info(hot, table.direct_counter))
    }

    fn dump(&self, table: Handle<ir::Table>) -> Result<Vec<EntryInfo>, RuntimeError> {
        let t = self.table_index(table)?;
        let table = &self.tables[t];
        Ok(table
            .state
            .sorted_slots()
            .into_iter()
            .filter_map(|s| table.state.get_full(s))
            .filter(|(e, _)| e.spec.permissions.is_some_and(|p| p.bits() & CTRL_R != 0))
            .map(|(e, hot)| e.info(hot, table.direct_counter))
            .collect())
    }

    fn flush(&mut self, table: Handle<ir::Table>) -> Result<usize, RuntimeError> {
        let t = self.table_index(table)?;
        table_permission(self.table_model(t), TableOp::Delete)?;
        let doomed: Vec<u32> = self.tables[t]
            .state
            .sorted_slots()
            .into_iter()
            .filter(|&s| {
                self.tables[t].state.get(s).is_some_and(|e| {
                    !e.is_const && e.spec.permissions.is_some_and(|p| p.bits() & CTRL_D != 0)
                })
            })
            .collect();
        self.tick();
        for &s in &doomed {
            self.remove_entry(t, s, Actor::ControlPlane);
        }
        Ok(doomed.len())
    }

    fn default_action(
        &self,
        table: Handle<ir::Table>,
        which: DefaultKind,
    ) -> Result<Option<ActionCall>, RuntimeError> {
        let t = self.table_index(table)?;
        let table = &self.tables[t];
        Ok(match which {
            DefaultKind::Hit => table.default_hit.call.clone(),
            DefaultKind::Miss => table.default_miss.call.clone(),
        })
    }

    fn set_default_action(
        &mut self,
        table: Handle<ir::Table>,
        which: DefaultKind,
        call: ActionCall,
    ) -> Result<(), RuntimeError> {
        let t = self.table_index(table)?;
        let tm = self.table_model(t);
        let current = match which {
            DefaultKind::Hit => &self.tables[t].default_hit,
            DefaultKind::Miss => &self.tables[t].default_miss,
        };
        if current.is_const {
            return Err(perm(format!(
                "the default {} action of table {} is const",
                match which {
                    DefaultKind::Hit => "hit",
                    DefaultKind::Miss => "miss",
                },
                tm.dotted
            )));
        }
        let params = check_call(tm, &call, true)?;
        let new = DefaultAction {
            action: Some(call.action),
            call: Some(call),
            params,
            is_const: false,
        };
        match which {
            DefaultKind::Hit => self.tables[t].default_hit = new,
            DefaultKind::Miss => self.tables[t].default_miss = new,
        }
        Ok(())
    }

    fn counter(
        &self,
        counter: Handle<ir::Instance>,
        index: u64,
    ) -> Result<CounterValue, RuntimeError> {
        let i = self.instance_index(counter)?;
        match &self.instances[i] {
            InstanceState::Counter { kind, width, cells } => {
                let (p, b) = cells
                    .get(index)
                    .copied()
                    .ok_or_else(|| RuntimeError::NotFound {
                        what: format!(
                            "element {index} of counter {} ({} elements)",
                            self.instance_name(i),
                            cells.len()
                        ),
                    })?;
                Ok(CounterValue {
                    packets: if kind.counts_packets() {
                        wrap(p, *width)
                    } else {
                        0
                    },
                    bytes: if kind.counts_bytes() {
                        wrap(b, *width)
                    } else {
                        0
                    },
                })
            }
            other => Err(invalid(format!(
                "{} is a {}, not a Counter{}",
                self.instance_name(i),
                other.kind_name(),
                if matches!(other, InstanceState::DirectCounter) {
                    " (direct counts are read with the entry)"
                } else {
                    ""
                }
            ))),
        }
    }

    fn reset_counter(
        &mut self,
        counter: Handle<ir::Instance>,
        index: u64,
    ) -> Result<(), RuntimeError> {
        self.counter(counter, index)?;
        let i = self.instance_index(counter)?;
        if let InstanceState::Counter { cells, .. } = &mut self.instances[i] {
            if let Some(c) = cells.get_mut(index) {
                *c = (0, 0);
            }
        }
        Ok(())
    }

    fn register(
        &self,
        register: Handle<ir::Instance>,
        index: u64,
    ) -> Result<Vec<BigUint>, RuntimeError> {
        let i = self.instance_index(register)?;
        match &self.instances[i] {
            InstanceState::Register { element, cells } => {
                let blob = cells.get(index).ok_or_else(|| RuntimeError::NotFound {
                    what: format!(
                        "element {index} of register {} ({} elements)",
                        self.instance_name(i),
                        cells.len()
                    ),
                })?;
                element
                    .decode(blob)
                    .map_err(|e| invalid(format!("register {}: {e}", self.instance_name(i))))
            }
            other => Err(invalid(format!(
                "{} is a {}, not a Register",
                self.instance_name(i),
                other.kind_name()
            ))),
        }
    }

    fn set_register(
        &mut self,
        register: Handle<ir::Instance>,
        index: u64,
        value: &[BigUint],
    ) -> Result<(), RuntimeError> {
        self.register(register, index)?;
        let i = self.instance_index(register)?;
        let name = self.instance_name(i).to_string();
        if let InstanceState::Register { element, cells } = &mut self.instances[i] {
            if value.len() != element.fields.len() {
                return Err(invalid(format!(
                    "register {name} holds {} values per element ({}); {} given",
                    element.fields.len(),
                    element
                        .fields
                        .iter()
                        .map(|f| f.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    value.len()
                )));
            }
            for (f, v) in element.fields.iter().zip(value) {
                if v.bits() > u64::from(f.width) {
                    return Err(invalid(format!(
                        "register {name}: field `{}`: value {v:#x} does not fit in {} bits",
                        f.name, f.width
                    )));
                }
            }
            let blob = element
                .encode(value)
                .map_err(|e| invalid(format!("register {name}: {e}")))?;
            if let Some(cell) = cells.get_mut(index) {
                *cell = blob.into_boxed_slice();
            }
        }
        Ok(())
    }

    fn set_meter(
        &mut self,
        meter: Handle<ir::Instance>,
        index: u64,
        config: MeterConfig,
    ) -> Result<(), RuntimeError> {
        let i = self.instance_index(meter)?;
        let now = self.clock.now();
        let name = self.instance_name(i).to_string();
        match &mut self.instances[i] {
            InstanceState::Meter { cells, .. } => {
                let len = cells.len();
                let cell = cells.get_mut(index).ok_or_else(|| RuntimeError::NotFound {
                    what: format!("element {index} of meter {name} ({len} elements)"),
                })?;
                cell.configure(config, now);
                Ok(())
            }
            other => Err(invalid(format!(
                "{name} is a {}, not a Meter{}",
                other.kind_name(),
                if matches!(other, InstanceState::DirectMeter { .. }) {
                    " (direct meters are set per entry: MemoryBackend::set_direct_meter)"
                } else {
                    ""
                }
            ))),
        }
    }

    fn timer_profiles(&self) -> Vec<Duration> {
        self.profiles.clone()
    }

    fn set_timer_profile(&mut self, profile: u32, after: Duration) -> Result<(), RuntimeError> {
        let p = profile as usize;
        if after.is_zero() {
            return Err(invalid(format!(
                "timer profile {profile}: an aging time must be more than zero"
            )));
        }
        if p < self.profiles.len() {
            self.profiles[p] = after;
        } else if p == self.profiles.len() && p < MAX_TIMER_PROFILES {
            self.profiles.push(after);
        } else {
            return Err(invalid(format!(
                "timer profile {profile}: profiles are numbered 0..{} (the next new one is {}, at most {MAX_TIMER_PROFILES})",
                self.profiles.len(),
                self.profiles.len()
            )));
        }
        self.reschedule_all();
        Ok(())
    }

    fn take_events(&mut self) -> Vec<Event> {
        self.events.drain(..).map(Pending::into_event).collect()
    }
}

impl Datapath for MemoryBackend {
    #[inline]
    fn lookup(&mut self, table: Handle<ir::Table>, key: &[u8]) -> Lookup<'_> {
        let Some(t) = self.table_fast(table) else {
            return Lookup {
                entry: None,
                action: None,
                params: &[],
            };
        };
        let table = &mut self.tables[t];
        match table.state.search(key) {
            None => Lookup {
                entry: None,
                action: table.default_miss.action,
                params: &table.default_miss.params,
            },
            Some((slot, e)) => {
                if self.stale {
                    self.now = self.now.max(self.clock.now());
                    self.stale = false;
                }
                e.last_used = self.now;
                let e = &*e;
                let default_hit = &table.default_hit;
                let (action, params): (_, &[u8]) = if !e.exec {
                    (None, &[])
                } else if e.action.is_some() {
                    (e.action, e.params.as_slice())
                } else {
                    (default_hit.action, &default_hit.params)
                };
                Lookup {
                    entry: Some(EntryRef(slot)),
                    action,
                    params,
                }
            }
        }
    }

    fn add_entry(
        &mut self,
        table: Handle<ir::Table>,
        key: &[u8],
        action: Handle<ir::Action>,
        params: &[u8],
        profile: u32,
    ) -> bool {
        let Some(t) = self.table_fast(table) else {
            return false;
        };
        let tm = self.table_model(t);
        if !tm.add_on_miss || tm.permissions.bits() & DATA_C == 0 {
            return false;
        }
        if self.tables[t].state.len() >= tm.size as usize {
            return false;
        }
        let Some(am) = tm.action(action) else {
            return false;
        };
        let Ok(values) = am.layout.decode(params) else {
            return false;
        };
        let Ok(key) = key_of_lookup_blob(tm, key) else {
            return false;
        };
        let spec = EntrySpec {
            key,
            priority: None,
            action: Some(ActionCall {
                action,
                params: values,
            }),
            permissions: None,
            dynamic: true,
            aging: Some(Aging::Profile(profile)),
        };
        self.insert_entry(t, spec, Actor::Datapath, false).is_ok()
    }

    fn set_entry_expire_time(&mut self, table: Handle<ir::Table>, entry: EntryRef, profile: u32) {
        let Some(t) = self.table_fast(table) else {
            return;
        };
        if self.age_of(Aging::Profile(profile)).is_none() {
            return;
        }
        let Some(e) = self.tables[t].state.get_mut(entry.0) else {
            return;
        };
        let allowed = !e.is_const && e.spec.permissions.is_some_and(|p| p.bits() & DATA_U != 0);
        if !allowed {
            return;
        }
        let s = Arc::make_mut(&mut e.spec);
        s.dynamic = true;
        s.aging = Some(Aging::Profile(profile));
        e.age = Some(Aging::Profile(profile));
        e.updated_by = Some(Actor::Datapath);
        let spec = e.spec.clone();
        self.schedule(t, entry.0);
        self.publish_entry(t, &spec, Actor::Datapath, Change::Updated);
    }

    fn count(&mut self, counter: Handle<ir::Instance>, index: u64, bytes: u64) {
        let Some(i) = self.instance_at.get(counter.index()).copied().flatten() else {
            return;
        };
        if let InstanceState::Counter { cells, .. } = &mut self.instances[i] {
            if let Some(c) = cells.get_mut(index) {
                c.0 = c.0.wrapping_add(1);
                c.1 = c.1.wrapping_add(bytes);
            }
        }
    }

    fn count_direct(&mut self, table: Handle<ir::Table>, entry: Option<EntryRef>, bytes: u64) {
        let (Some(t), Some(entry)) = (self.table_fast(table), entry) else {
            return;
        };
        if !self.tables[t].direct_counter {
            return;
        }
        if let Some(e) = self.tables[t].state.get_mut(entry.0) {
            e.counter.0 = e.counter.0.wrapping_add(1);
            e.counter.1 = e.counter.1.wrapping_add(bytes);
        }
    }

    fn meter(
        &mut self,
        meter: Handle<ir::Instance>,
        index: u64,
        bytes: u64,
        color: Option<Color>,
    ) -> Color {
        let Some(i) = self.instance_at.get(meter.index()).copied().flatten() else {
            return Color::Green;
        };
        let now = self.clock.now();
        match &mut self.instances[i] {
            InstanceState::Meter { unit, cells } => {
                let units = if *unit == MeterUnit::Bytes { bytes } else { 1 };
                match cells.get_mut(index) {
                    Some(m) => m.execute(now, units, color),
                    None => Color::Green,
                }
            }
            _ => Color::Green,
        }
    }

    fn meter_direct(
        &mut self,
        table: Handle<ir::Table>,
        entry: Option<EntryRef>,
        bytes: u64,
        color: Option<Color>,
    ) -> Color {
        let (Some(t), Some(entry)) = (self.table_fast(table), entry) else {
            return Color::Green;
        };
        let Some(unit) = self.tables[t].direct_meter else {
            return Color::Green;
        };
        let units = if unit == MeterUnit::Bytes { bytes } else { 1 };
        let now = self.clock.now();
        match self
            .tables
            .get_mut(t)
            .and_then(|tb| tb.state.get_mut(entry.0))
            .and_then(|e| e.meter.as_deref_mut())
        {
            Some(m) => m.execute(now, units, color),
            None => Color::Green,
        }
    }

    fn register_read(&mut self, register: Handle<ir::Instance>, index: u64, out: &mut [u8]) {
        out.fill(0);
        let Some(i) = self.instance_at.get(register.index()).copied().flatten() else {
            return;
        };
        if let InstanceState::Register { cells, .. } = &self.instances[i] {
            if let Some(cell) = cells.get(index) {
                let n = cell.len().min(out.len());
                out[..n].copy_from_slice(&cell[..n]);
            }
        }
    }

    fn register_write(&mut self, register: Handle<ir::Instance>, index: u64, value: &[u8]) {
        let Some(i) = self.instance_at.get(register.index()).copied().flatten() else {
            return;
        };
        if let InstanceState::Register { element, cells } = &mut self.instances[i] {
            // A blob of another size cannot be this register's element: ignored.
            if value.len() != element.size as usize {
                return;
            }
            if let Some(cell) = cells.get_mut(index) {
                cell.copy_from_slice(value);
            }
        }
    }

    fn digest(&mut self, digest: Handle<ir::Instance>, payload: &[u8]) {
        let Some(i) = self.instance_at.get(digest.index()).copied().flatten() else {
            return;
        };
        if matches!(self.instances[i], InstanceState::Digest) {
            let at = self.now;
            self.publish(
                at,
                EventKind::Digest {
                    instance: digest,
                    payload: payload.to_vec(),
                },
            );
        }
    }

    #[inline]
    fn expire(&mut self) {
        // Nothing ages: the clock is read only if a lookup of this packet hits.
        if self.aging.is_empty() {
            self.stale = true;
            return;
        }
        // The packet's time: one clock read per packet, shared by its lookups.
        let now = self.tick();
        self.stale = false;
        match self.aging.peek() {
            Some(Reverse(next)) if next.0 <= now => self.expire_due(now),
            _ => {}
        }
    }

    fn now(&self) -> Duration {
        self.clock.now()
    }
}

impl MemoryBackend {
    /// Pops every heap item due at `now`: deletes entries whose time has passed, moves the
    /// items of entries hit since (or aging differently now) to their real deadline.
    fn expire_due(&mut self, now: Duration) {
        while let Some(&Reverse((deadline, t, slot, seq))) = self.aging.peek() {
            if deadline > now {
                break;
            }
            self.aging.pop();
            let t = t as usize;
            let Some((e, hot)) = self.tables.get(t).and_then(|tb| tb.state.get_full(slot)) else {
                continue;
            };
            if e.seq != seq || e.heap_deadline != Some(deadline) {
                // A later entry in the slot, or a superseded item.
                continue;
            }
            let real = e
                .age
                .and_then(|a| self.age_of(a))
                .map(|age| hot.last_used.saturating_add(age));
            match real {
                Some(real) if real <= now => self.remove_entry(t, slot, Actor::Timer),
                Some(_) => {
                    if let Some(e) = self.tables[t].state.get_mut(slot) {
                        e.heap_deadline = None;
                    }
                    self.schedule(t, slot);
                }
                None => {
                    if let Some(e) = self.tables[t].state.get_mut(slot) {
                        e.heap_deadline = None;
                    }
                }
            }
        }
    }
}
