//! Many creates on one table at once ([`ObjectModel::create_entries`] of `KernelBackend`).
//!
//! Every entry is checked and encoded in user space by the rules `create_entry` applies (key,
//! action and parameters, permissions, aging profile; priorities, tags and mask slots of
//! tuple-space tables, read from the maps once for the whole batch instead of once per entry),
//! then the elements are written with the fastest path the kernel allows
//! ([`crate::bulk`]: a syscall program for hash maps, `BPF_MAP_UPDATE_BATCH` for LPM tries,
//! one update per element as the last resort), always with `BPF_NOEXIST`. The kernel's answer
//! per element decides each entry: `EEXIST` is `Exists`, `E2BIG`/`ENOSPC` is `Full`, as for a
//! single create. An entry stored as several elements (a range's prefixes) whose pieces did
//! not all go in has the pieces that did taken back.
//!
//! Tuple-space tables: mask slots an entry needs are taken (and their priority bounds lowered)
//! before its elements are written, so the datapath never sees an entry under a slot it skips
//! or past a slot where it stops. The slots a batch takes are numbered in ascending order of
//! the best priority value needing each (not in first-use order), so that the search meets
//! the best slots first.
//! The table's size counts entries: a batch is written in rounds of at most the room left, so
//! an entry is `Full` only when the table really is.
//!
//! Events: the entries written with a publish bit are published as `create_entry` publishes
//! them (the ring, else this process's queue). With the syscall program, the events of a
//! round go to the ring in one more program run; a full ring loses them, counted in
//! [`KernelBackend::lost_events`] (a 1M-entry load overflows any ring nobody drains).

use std::time::Duration;

use p4tc_ir::layout::TableKind;
use p4tc_runtime::memory::{
    check_action_call, describe_key, entry_permissions, normalize_entry_key,
};
use p4tc_runtime::{EntrySpec, Priority, RuntimeError};

use super::keys::{self, MapKey};
use p4tc_runtime::memory::{table_permission, TableOp};

use super::{invalid, kernel, lpm_tag, KernelBackend};
use crate::bulk::{self, Record, WritePath};
use crate::entry::{EntryHead, MaskSlot, FLAG_DYNAMIC, FLAG_HAS_ACTION, FLAG_PRIO_ALLOCATED};
use crate::sys;

/// Where the time of the last [`ObjectModel::create_entries`] call on a `KernelBackend` went
/// (for benchmarks: checking and encoding in user space, against the kernel's writes).
///
/// [`ObjectModel::create_entries`]: p4tc_runtime::ObjectModel::create_entries
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchStats {
    /// Entries in the batch.
    pub entries: usize,
    /// Checking and encoding them (keys, actions, permissions, slots, values).
    pub prepare: Duration,
    /// The system calls writing their elements (and their events, inline).
    pub write: Duration,
    /// The whole call.
    pub total: Duration,
}

/// Entries of a batch prepared and written at a time (but for tuple-space tables).
const PASS: usize = 4096;

/// The most bytes of blobs a backend keeps between batches (a pass takes a few hundred KB; a
/// tuple-space table's whole batch may take far more, once).
const KEPT_BLOBS: usize = 16 << 20;

/// Below this many elements, a batch on an LPM trie is written one element at a time.
const SMALL_TRIE_BATCH: usize = 4096;

/// One entry checked and encoded, waiting to be written.
struct Pending {
    /// Its position in the batch.
    index: usize,
    /// As it will be published (normalised key, priority, permissions).
    spec: EntrySpec,
    /// Its map keys (several for a range) in the pass's blobs, with their mask slots
    /// (tuple-space tables).
    keys: Pieces,
    /// Its map value in the pass's blobs.
    value: Span,
    priority: u32,
}

/// Bytes in the blobs of a pass: the keys and values of its entries, one after the other in
/// one vector (rather than two or three vectors per entry, allocated and freed by the
/// million).
#[derive(Clone, Copy, Debug)]
struct Span {
    at: usize,
    len: usize,
}

impl Span {
    /// Appends `bytes` to `blobs`: where they are.
    fn push(blobs: &mut Vec<u8>, bytes: &[u8]) -> Span {
        let at = blobs.len();
        blobs.extend_from_slice(bytes);
        Span {
            at,
            len: bytes.len(),
        }
    }

    fn of(self, blobs: &[u8]) -> &[u8] {
        &blobs[self.at..self.at + self.len]
    }

    fn of_mut(self, blobs: &mut [u8]) -> &mut [u8] {
        &mut blobs[self.at..self.at + self.len]
    }
}

/// An entry's map keys with their mask slots: one without a vector (every entry but a
/// range's).
enum Pieces {
    One([(Span, u32); 1]),
    Many(Vec<(Span, u32)>),
}

impl Pieces {
    fn as_slice(&self) -> &[(Span, u32)] {
        match self {
            Pieces::One(one) => one,
            Pieces::Many(many) => many,
        }
    }

    fn as_mut_slice(&mut self) -> &mut [(Span, u32)] {
        match self {
            Pieces::One(one) => one,
            Pieces::Many(many) => many,
        }
    }

    fn len(&self) -> usize {
        self.as_slice().len()
    }
}

/// An entry's map keys as `prepare` makes them.
enum Keys {
    One(Vec<u8>),
    Many(Vec<(Vec<u8>, u32)>),
}

/// What a batch knows about a tuple-space table, read once.
struct TupleState {
    /// The used slots as the kernel holds them (as this batch has written them so far).
    kernel: Vec<MaskSlot>,
    /// Mask blobs of the used slots, then of those this batch takes (not all written yet).
    slots: Vec<Vec<u8>>,
    /// Entries in the table.
    count: usize,
    /// The map keys there and those this batch takes: a key given again is refused before
    /// it takes a priority, as `create_entry` refuses it.
    keys: std::collections::HashSet<Vec<u8>>,
    next_tag: u32,
    next_prio: u32,
}

impl KernelBackend {
    /// The path batches on table `t` take: the forced one if the map allows it, else the
    /// fastest the kernel accepts.
    pub(super) fn path_for(&mut self, t: usize, need: usize) -> WritePath {
        if self.tables[t].open.is_some() {
            return WritePath::Slots;
        }
        let hash = self.tables[t].spec.key.kind != TableKind::Lpm;
        let wanted = match self.forced_path {
            Some(WritePath::SyscallProgram) if !hash => WritePath::BatchOp,
            Some(p) => p,
            None if hash => WritePath::SyscallProgram,
            // The batch op lists the trie's keys first: worth it for big batches only (a few
            // entries into a big trie would cost a walk of it).
            None if need < SMALL_TRIE_BATCH => WritePath::PerEntry,
            None => WritePath::BatchOp,
        };
        if wanted != WritePath::SyscallProgram {
            return wanted;
        }
        let made = self.stager(t, need).map(|_| ());
        let ready = made.and_then(|()| {
            let map = self
                .maps
                .get(&self.tables[t].spec.map)
                .ok_or_else(|| "no entries map".to_string())?;
            self.stagers
                .get_mut(&t)
                .ok_or_else(|| "no staging array".to_string())?
                .insert_ready(map)
        });
        match ready {
            Ok(()) => WritePath::SyscallProgram,
            Err(reason) => {
                let dotted = self.table_model(t).dotted.clone();
                self.note(format!(
                    "table {dotted}: batches use BPF_MAP_UPDATE_BATCH: the kernel refused the insert program: {reason}"
                ));
                WritePath::BatchOp
            }
        }
    }

    /// [`ObjectModel::create_entries`](p4tc_runtime::ObjectModel::create_entries) on table `t`.
    pub(super) fn create_batch(
        &mut self,
        t: usize,
        specs: Vec<EntrySpec>,
    ) -> Vec<Result<(), RuntimeError>> {
        let n = specs.len();
        let all = |e: RuntimeError| vec![Err(e); n];
        if let Err(e) = table_permission(self.table_model(t), TableOp::Create) {
            return all(e);
        }
        let profiles = match self.current_profiles() {
            Ok(p) => p,
            Err(e) => return all(e),
        };
        // (The kernel's aging sweep walks only tables marked as holding dynamic entries:
        // before the writes, so that a refused mark refuses the batch with nothing changed,
        // and after them, which is what the sweep needs; see `mark_dynamic`.)
        let any_dynamic = specs.iter().any(|s| s.dynamic);
        if any_dynamic {
            if let Err(e) = self.mark_dynamic(t) {
                return all(e);
            }
        }
        let tuple = self.tables[t].spec.key.kind == TableKind::Ternary;
        let mut state = if tuple {
            match self.tuple_state(t) {
                Ok(s) => Some(s),
                Err(e) => return all(e),
            }
        } else {
            None
        };
        let started = std::time::Instant::now();
        let mut results: Vec<Result<(), RuntimeError>> = vec![Ok(()); n];
        let round_max = bulk::MAX_RECORDS as usize;
        // A tuple-space table's batch is prepared whole (its new slots are numbered by the
        // priorities of the whole batch); any other table's a few thousand entries at a
        // time, so the prepared entries' memory is reused from pass to pass and stays in
        // the cache (a million entries' worth of keys and values is otherwise fresh memory,
        // page faults and cache misses, for nothing: their preparing reads nothing that an
        // earlier pass writes). Measured on a million entries: 1.63-1.74M entries/s with
        // passes of 65,536, 1.82-1.90M/s with passes of 1,024 to 4,096.
        let per_pass = if tuple { n } else { n.min(PASS) };
        let mut pending = Vec::with_capacity(per_pass);
        // The blobs of the last batch, kept: one buffer for the backend's batches rather
        // than one grown afresh per call.
        let mut blobs = std::mem::take(&mut self.batch_blobs);
        let spec = &self.tables[t].spec;
        blobs.reserve(per_pass * (spec.key.size as usize + spec.value.size as usize));
        let now = sys::monotonic_ns();
        let mut specs = specs.into_iter().enumerate().peekable();
        let mut prepared = Duration::ZERO;
        let mut written = Duration::ZERO;
        let tm = self.table_model(t);
        let dotted = tm.dotted.clone();
        let size = tm.size;
        let mut room = match &state {
            Some(s) => (size as usize).saturating_sub(s.count),
            None => usize::MAX,
        };
        // The batch op's view of the keys there (listed at its first round).
        let mut existing = None;
        while specs.peek().is_some() {
            let pass = std::time::Instant::now();
            pending.clear();
            blobs.clear();
            while pending.len() < per_pass {
                let Some((index, spec)) = specs.next() else {
                    break;
                };
                // One nanosecond apart, in batch order: dumps list entries oldest first, as
                // created one by one (a batch takes far longer than a nanosecond per entry).
                let created = now.saturating_add(index as u64);
                match self.prepare(
                    t,
                    index,
                    spec,
                    &profiles,
                    state.as_mut(),
                    created,
                    &mut blobs,
                ) {
                    Ok(p) => pending.push(p),
                    Err(e) => results[index] = Err(e),
                }
            }
            if let Some(state) = state.as_mut() {
                order_new_slots(state, &mut pending, &mut blobs);
            }
            prepared += pass.elapsed();
            let mut at = 0;
            while at < pending.len() {
                let take = room.min(round_max).min(pending.len() - at);
                if take == 0 {
                    for p in &pending[at..] {
                        results[p.index] = Err(RuntimeError::Full {
                            table: dotted.clone(),
                            size,
                        });
                    }
                    break;
                }
                let round = &pending[at..at + take];
                at += take;
                if let Some(state) = state.as_mut() {
                    if let Err(e) = self.write_slots(t, state, round) {
                        for p in round {
                            results[p.index] = Err(e.clone());
                        }
                        continue;
                    }
                }
                let (done, took) = self.write_round(t, round, &blobs, &mut results, &mut existing);
                written += took;
                room = room.saturating_sub(done);
            }
        }
        if any_dynamic {
            let _ = self.mark_dynamic(t);
        }
        blobs.clear();
        if blobs.capacity() <= KEPT_BLOBS {
            self.batch_blobs = blobs;
        }
        self.last_batch = BatchStats {
            entries: n,
            prepare: prepared,
            write: written,
            total: started.elapsed(),
        };
        results
    }

    fn tuple_state(&self, t: usize) -> Result<TupleState, RuntimeError> {
        let kernel = self.read_slots(t)?;
        let slots = kernel.iter().map(|s| s.mask.clone()).collect();
        let entries = self.entries(t)?;
        let mut next_tag = 1u32;
        let mut next_prio = self.tables[t].next_prio;
        for e in entries.iter().flatten() {
            next_tag = next_tag.max(e.head.tag.saturating_add(1));
            if e.head.flags & FLAG_PRIO_ALLOCATED != 0 {
                next_prio = next_prio.max(e.head.priority.saturating_add(1));
            }
        }
        Ok(TupleState {
            kernel,
            slots,
            keys: entries.iter().flatten().map(|e| e.key.clone()).collect(),
            count: entries.len(),
            next_tag,
            next_prio,
        })
    }

    /// Checks and encodes one entry as `insert` does; takes its mask slots in `state`; puts
    /// its keys and value in `blobs`.
    // (The entry, the batch's state, and the pass's blobs: a struct of them would only
    // rename the arguments.)
    #[allow(clippy::too_many_arguments)]
    fn prepare(
        &self,
        t: usize,
        index: usize,
        mut spec: EntrySpec,
        profiles: &[Duration],
        state: Option<&mut TupleState>,
        now: u64,
        blobs: &mut Vec<u8>,
    ) -> Result<Pending, RuntimeError> {
        let tm = self.table_model(t);
        let normal = normalize_entry_key(tm, std::mem::take(&mut spec.key))?;
        let permissions = entry_permissions(tm, spec.permissions, tm.permissions.without_create())?;
        let (action_id, params) = match &spec.action {
            Some(call) => (
                self.action_id(t, call.action),
                check_action_call(tm, call, false)?,
            ),
            None => (0, Box::default()),
        };
        let profile = self.age_in(t, &spec, profiles)?;
        let has_prio = self.tables[t].has_prio;
        let given = if has_prio {
            spec.priority.map(|p| p.0)
        } else {
            None
        };
        let dotted = &tm.dotted;
        let (keys, tag, priority, allocated) = match keys::map_keys(
            tm,
            &self.tables[t].spec,
            &normal,
        )? {
            MapKey::Plain(k) => {
                let tag = if self.tables[t].spec.key.kind == TableKind::Lpm {
                    lpm_tag(&k)
                } else {
                    1
                };
                (Keys::One(k), tag, 0, false)
            }
            MapKey::Tuple(list) => {
                let Some(state) = state else {
                    return Err(invalid(format!("table {dotted}: no mask slots")));
                };
                let nummask = self.tables[t].spec.nummask as usize;
                let mut taken: Vec<Vec<u8>> = Vec::new();
                let mut keys = Vec::with_capacity(list.len());
                for (key, mask) in list {
                    let i = match state.slots.iter().position(|m| *m == mask) {
                        Some(i) => i,
                        None => match taken.iter().position(|m| *m == mask) {
                            Some(j) => state.slots.len() + j,
                            None => {
                                if state.slots.len() + taken.len() >= nummask {
                                    return Err(invalid(format!(
                                        "table {dotted}: all {nummask} mask slots are in use (@nummask); this entry needs another"
                                    )));
                                }
                                taken.push(mask.clone());
                                state.slots.len() + taken.len() - 1
                            }
                        },
                    };
                    let k = crate::entry::tuple_key(i as u32, &key);
                    if state.keys.contains(&k) {
                        return Err(RuntimeError::Exists {
                            table: format!("{dotted} (key {})", describe_key(tm, &normal)),
                        });
                    }
                    keys.push((k, i as u32));
                }
                state.slots.extend(taken);
                state.keys.extend(keys.iter().map(|(k, _)| k.clone()));
                let (priority, allocated) = match given {
                    Some(p) => (p, false),
                    None if has_prio => {
                        let p = state.next_prio;
                        state.next_prio = p.saturating_add(1);
                        (p, true)
                    }
                    None => (0, false),
                };
                let tag = state.next_tag;
                state.next_tag = tag.saturating_add(1);
                (Keys::Many(keys), tag, priority, allocated)
            }
        };
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
        // Into the blobs only now: an entry refused above leaves nothing there (nor does
        // a value that does not fit).
        let value_at = blobs.len();
        self.tables[t]
            .spec
            .value
            .encode_onto(&head, &params, blobs)
            .map_err(|e| invalid(format!("table {dotted}: {e}")))?;
        let value = Span {
            at: value_at,
            len: blobs.len() - value_at,
        };
        spec.key = normal;
        spec.priority = has_prio.then_some(Priority(priority));
        spec.permissions = Some(permissions);
        let keys = match keys {
            Keys::One(k) => Pieces::One([(Span::push(blobs, &k), 0)]),
            Keys::Many(list) => Pieces::Many(
                list.into_iter()
                    .map(|(k, slot)| (Span::push(blobs, &k), slot))
                    .collect(),
            ),
        };
        Ok(Pending {
            index,
            spec,
            keys,
            value,
            priority,
        })
    }

    /// Takes the slots a round's entries need and lowers their bounds, in the kernel, before
    /// any of its elements is written. New slots are taken in order (the datapath reads a
    /// contiguous prefix of slots): one the round does not need but that lies before one it
    /// needs is taken with no bound yet (no entry under it is visible; a later round lowers
    /// it before writing its entries).
    fn write_slots(
        &mut self,
        t: usize,
        state: &mut TupleState,
        round: &[Pending],
    ) -> Result<(), RuntimeError> {
        let mut want: Vec<(Vec<u8>, u32)> = state
            .kernel
            .iter()
            .map(|s| (s.mask.clone(), s.min_prio))
            .collect();
        let needed = round
            .iter()
            .flat_map(|p| p.keys.as_slice().iter().map(|(_, slot)| *slot as usize))
            .max();
        if let Some(hi) = needed {
            for mask in state.slots.iter().take(hi + 1).skip(want.len()) {
                want.push((mask.clone(), u32::MAX));
            }
        }
        for p in round {
            for (_, slot) in p.keys.as_slice() {
                if let Some(w) = want.get_mut(*slot as usize) {
                    w.1 = w.1.min(p.priority);
                }
            }
        }
        state.kernel = self.write_mask_slots(t, &state.kernel, &want)?;
        Ok(())
    }

    /// Writes a round's elements and decides each entry; returns how many went in.
    fn write_round(
        &mut self,
        t: usize,
        round: &[Pending],
        blobs: &[u8],
        results: &mut [Result<(), RuntimeError>],
        existing: &mut Option<std::collections::HashSet<Vec<u8>>>,
    ) -> (usize, Duration) {
        let path = self.path_for(t, round.iter().map(|p| p.keys.len()).sum());
        let ring = self.ring_open();
        let table_id = self.table_model(t).id;
        let layout = self.tables[t].spec.value.clone();
        let now = sys::monotonic_ns();
        let publishes = |p: &Pending| {
            p.spec
                .permissions
                .map_or(0, p4tc_ir::introspection::Permissions::bits)
                & (super::CTRL_P | super::DATA_P)
                != 0
        };
        // Events go out with the insert when an entry is one element (a range's pieces could
        // still be taken back).
        let mut records: Vec<Record<'_>> =
            Vec::with_capacity(round.iter().map(|p| p.keys.len()).sum());
        for p in round {
            let inline = matches!(path, WritePath::SyscallProgram | WritePath::Slots)
                && ring
                && p.keys.len() == 1
                && publishes(p);
            let value = p.value.of(blobs);
            for (k, _) in p.keys.as_slice() {
                let k = k.of(blobs);
                records.push(Record {
                    key: k,
                    value,
                    event: inline.then(|| {
                        bulk::event_head(
                            crate::aging::EVENT_CREATED,
                            crate::aging::WHO_CONTROL,
                            table_id,
                            k.len(),
                            now,
                            &layout.event_head(value).unwrap_or_default(),
                        )
                    }),
                });
            }
        }
        let started = std::time::Instant::now();
        let status = self.write_records(t, path, ring, &records, existing);
        let took = started.elapsed();
        drop(records);
        // Events the program could not send (the kernel refused the emit program) go by
        // `publish` with the others.
        let ring = ring && self.ring_open();
        let tm = self.table_model(t);
        let dotted = tm.dotted.clone();
        let size = tm.size;
        let mut done = 0;
        let mut at = 0;
        let mut later = Vec::new();
        for p in round {
            let mine = &status[at..at + p.keys.len()];
            at += p.keys.len();
            match mine.iter().find(|&&s| s != 0) {
                None => {
                    // (Its result is `Ok` already: `create_batch` starts them so.)
                    done += 1;
                    let inline = matches!(path, WritePath::SyscallProgram | WritePath::Slots)
                        && ring
                        && p.keys.len() == 1;
                    if !inline {
                        let elements = p
                            .keys
                            .as_slice()
                            .iter()
                            .map(|(k, _)| (k.of(blobs).to_vec(), p.value.of(blobs).to_vec()))
                            .collect();
                        later.push((p.spec.clone(), elements));
                    }
                }
                Some(&errno) => {
                    // All or nothing: the pieces that went in come out again.
                    if let Ok(store) = self.store(t) {
                        for ((k, _), s) in p.keys.as_slice().iter().zip(mine) {
                            if *s == 0 {
                                let k = k.of(blobs);
                                let _ = store.delete(k);
                                if let Some(there) = existing.as_mut() {
                                    there.remove(k);
                                }
                            }
                        }
                    }
                    results[p.index] = Err(match -errno {
                        libc::EEXIST => {
                            let tm = self.table_model(t);
                            RuntimeError::Exists {
                                table: format!("{dotted} (key {})", describe_key(tm, &p.spec.key)),
                            }
                        }
                        libc::E2BIG | libc::ENOSPC => RuntimeError::Full {
                            table: dotted.clone(),
                            size,
                        },
                        super::store::NO_SLOT if path == WritePath::Slots => {
                            super::no_slot(self.table_model(t), &p.spec.key)
                        }
                        libc::EBUSY if path == WritePath::Slots => RuntimeError::Invalid(format!(
                            "table {dotted}: another process kept writing the table for {} s; nothing was written",
                            crate::open_table::LOCK_WAIT.as_secs()
                        )),
                        e => kernel(
                            "writing an entry",
                            &dotted,
                            std::io::Error::from_raw_os_error(e),
                        ),
                    });
                }
            }
        }
        // (Entries carry a priority only in tables that have them.)
        let has_prio = self.tables[t].has_prio;
        let best = round
            .iter()
            .take(if has_prio { round.len() } else { 0 })
            .filter(|p| p.spec.priority.is_some() && results[p.index].is_ok())
            .map(|p| p.priority)
            .max();
        if let Some(max) = best {
            let next = &mut self.tables[t].next_prio;
            *next = (*next).max(max.saturating_add(1));
        }
        self.publish(t, 0, later);
        (done, took)
    }

    /// Writes records by `path`: each one's result (0 or a negative errno). Inline events
    /// go to the ring when `ring` (the syscall program path only).
    fn write_records(
        &mut self,
        t: usize,
        path: WritePath,
        ring: bool,
        records: &[Record<'_>],
        existing: &mut Option<std::collections::HashSet<Vec<u8>>>,
    ) -> Vec<i32> {
        let name = self.tables[t].spec.map.clone();
        if path == WritePath::Slots {
            let Ok(store) = self.store(t) else {
                return vec![-libc::EIO; records.len()];
            };
            let status = store.insert_all(records.iter().map(|r| (r.key, r.value)));
            // The events of the creates that went in, by the emit program, in one go (a
            // refusal closes the ring: `write_round` then publishes them another way).
            if ring {
                let sent: Vec<Record<'_>> = records
                    .iter()
                    .zip(&status)
                    .filter(|(r, s)| **s == 0 && r.event.is_some())
                    .map(|(r, _)| Record {
                        key: r.key,
                        value: r.value,
                        event: r.event,
                    })
                    .collect();
                if let Err(reason) = self.emit_records(t, &sent) {
                    self.ring_refused = Some(reason);
                }
            }
            return status;
        }
        if path == WritePath::SyscallProgram {
            let mut out = Vec::with_capacity(records.len());
            for chunk in records.chunks(bulk::MAX_RECORDS as usize) {
                if let Err(reason) = self.stager(t, chunk.len()) {
                    self.note(format!("staging array refused: {reason}"));
                    break;
                }
                let (Some(map), Some(stager)) = (self.maps.get(&name), self.stagers.get_mut(&t))
                else {
                    break;
                };
                if stager.insert_ready(map).is_err() {
                    break;
                }
                if ring {
                    if let Some(r) = self.maps.get(crate::aging::EVENTS_MAP) {
                        if let Err(reason) = stager.emit_ready(r) {
                            self.ring_refused = Some(reason);
                        }
                    }
                }
                match stager.insert(chunk) {
                    Ok((status, emitted)) => {
                        self.lost_events += emitted.lost;
                        out.extend(status);
                    }
                    Err(e) => {
                        self.note(format!("the insert program failed to run: {e}"));
                        break;
                    }
                }
            }
            if out.len() == records.len() {
                return out;
            }
            // What the program did not write goes by the batch op.
            let rest = &records[out.len()..];
            let elements: Vec<(&[u8], &[u8])> = rest.iter().map(|r| (r.key, r.value)).collect();
            if let Ok(map) = self.map(&name) {
                out.extend(bulk::update_each(map, &elements, sys::BPF_NOEXIST));
            }
            out.resize(records.len(), -libc::EIO);
            return out;
        }
        let Ok(map) = self.map(&name) else {
            return vec![-libc::ENOENT; records.len()];
        };
        match path {
            WritePath::BatchOp => {
                // The batch op cannot refuse existing keys (it writes as BPF_ANY): the keys
                // there are listed once per batch, and a key there, or given twice, is
                // refused here as the kernel would refuse it.
                if existing.is_none() {
                    match sys::map_keys(map.fd()) {
                        Ok(keys) => *existing = Some(keys.into_iter().collect()),
                        Err(_) => return vec![-libc::EIO; records.len()],
                    }
                }
                let Some(there) = existing.as_mut() else {
                    return vec![-libc::EIO; records.len()];
                };
                let mut out = vec![0; records.len()];
                let mut fresh = Vec::with_capacity(records.len());
                let mut fresh_at = Vec::with_capacity(records.len());
                for (i, r) in records.iter().enumerate() {
                    if there.insert(r.key.to_vec()) {
                        fresh.push((r.key, r.value));
                        fresh_at.push(i);
                    } else {
                        out[i] = -libc::EEXIST;
                    }
                }
                let written = bulk::update_batch(map, &fresh);
                for ((i, s), (k, _)) in fresh_at.into_iter().zip(written).zip(&fresh) {
                    if s != 0 {
                        there.remove(*k);
                    }
                    out[i] = s;
                }
                // A kernel without the batch op for this map refuses the first element with
                // EINVAL or EOPNOTSUPP whatever it is: then one by one.
                let unsupported = out
                    .iter()
                    .all(|&s| s == -libc::EOPNOTSUPP || s == -libc::EINVAL || s == -libc::EEXIST)
                    && out.iter().any(|&s| s != -libc::EEXIST);
                if unsupported {
                    self.note(format!(
                        "map {name}: BPF_MAP_UPDATE_BATCH refused ({}): one update per entry",
                        std::io::Error::from_raw_os_error(-out[0])
                    ));
                    let map = match self.map(&name) {
                        Ok(m) => m,
                        Err(_) => return out,
                    };
                    let elements: Vec<(&[u8], &[u8])> =
                        records.iter().map(|r| (r.key, r.value)).collect();
                    return bulk::update_each(map, &elements, sys::BPF_NOEXIST);
                }
                out
            }
            _ => {
                let elements: Vec<(&[u8], &[u8])> =
                    records.iter().map(|r| (r.key, r.value)).collect();
                bulk::update_each(map, &elements, sys::BPF_NOEXIST)
            }
        }
    }
}

/// Renumbers the slots a batch takes (first-use order in `prepare`) in ascending order of the
/// best priority value needing each, so that, when priorities grow with the masks as in a
/// usual rule set, the datapath's search stops at the first slot that cannot win.
fn order_new_slots(state: &mut TupleState, pending: &mut [Pending], blobs: &mut [u8]) {
    let base = state.kernel.len();
    let fresh = state.slots.len().saturating_sub(base);
    if fresh < 2 {
        return;
    }
    let mut best = vec![u32::MAX; fresh];
    for p in pending.iter() {
        for (_, slot) in p.keys.as_slice() {
            if let Some(j) = (*slot as usize).checked_sub(base) {
                best[j] = best[j].min(p.priority);
            }
        }
    }
    let rank = crate::entry::slot_ranks(&best);
    let mut masks = vec![Vec::new(); fresh];
    for (j, m) in state.slots.drain(base..).enumerate() {
        masks[rank[j]] = m;
    }
    state.slots.extend(masks);
    for p in pending.iter_mut() {
        for (k, slot) in p.keys.as_mut_slice() {
            if let Some(j) = (*slot as usize).checked_sub(base) {
                *slot = (base + rank[j]) as u32;
                k.of_mut(blobs)[..4].copy_from_slice(&slot.to_ne_bytes());
            }
        }
    }
}
