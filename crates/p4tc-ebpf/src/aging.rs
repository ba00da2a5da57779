//! Aging of dynamic entries in the kernel: a BPF timer deletes them, so no userspace process
//! has to run for entries to expire.
//!
//! A generated program whose tables keep entries in hash maps (exact and ternary tables) has
//! three more maps and one more program:
//! - `p4tc_timer_profiles` ([`MapRole::TimerProfiles`]): `ARRAY` of [`MAX_TIMER_PROFILES`]
//!   `u64`s, profile i's age in nanoseconds; 0 means the profile does not exist (entries that
//!   name it never age). The loader writes P4TC's defaults (profile i = (i + 1) x 30 s, i < 4);
//!   [`profiles`] and [`set_profile`] read and change them at run time (the next sweep uses
//!   them).
//! - `p4tc_aging` ([`MapRole::AgingTimer`]): one `struct bpf_timer`. Its callback walks every
//!   swept table with `bpf_for_each_map_elem`, deletes each `DYNAMIC` entry whose
//!   `last_used_ns + age <= now` (both `bpf_ktime_get_ns`), and re-arms itself for a quarter
//!   of the shortest profile, between 10 ms and 1 s and at least 20 times what the sweep took;
//!   counters follow the timer in the element ([`stats`]). The kernel cancels a map's timers when
//!   its last user reference goes: a bpffs pin is one, so pinned maps keep aging after the
//!   loading process exits; an unpinned program's timer stops with the process.
//! - `p4tc_aging_events` ([`MapRole::AgingEvents`]): `RINGBUF` of entry events
//!   ([`AgingEvent`]: head, key, and the whole value from the kernel side, so the action's
//!   data too): the sweep's deletes (`who` = timer) of entries with a publish bit
//!   (control plane or datapath P); the datapath's creates (`add_entry`) and profile changes
//!   (`set_entry_expire_time`, exact tables) of entries with the datapath's P bit (`who` =
//!   datapath), published only when the change happened (a full table publishes nothing).
//!   A full ring drops events, counted in [`SweepStats::lost_events`] (by the sweep and the
//!   datapath). 256 KiB hold 2,184 events of stateful_firewall's conntrack (120 bytes each).
//! - `p4tc_aging_arm`: a TC program that initialises and starts the timer (only BPF can start
//!   a timer). [`arm`] runs it once with `BPF_PROG_TEST_RUN`; the loader calls it after
//!   writing the program's elements.
//!
//! LPM tables are not swept: the kernel cannot walk an LPM trie from BPF
//! (`bpf_for_each_map_elem` does not support it). A ternary entry stored as several elements
//! (a range's prefixes) ages element by element: each is refreshed by its own hits.
//! A hit between the sweep's check and its delete still loses the entry (one sweep's window).

use std::os::fd::{AsFd, BorrowedFd};
use std::time::Duration;

use aya::programs::{ProgramError, SchedClassifier};

use crate::entry::{EntryHead, Head, ValueLayout, ENTRY_HDR_SIZE};
use crate::loader::{LoadError, Loaded};
use crate::{sys, MapRole};

pub use crate::gen::aging::{default_profile, DEFAULT_TIMER_PROFILES, MAX_TIMER_PROFILES};

/// The name of the program that starts the timer.
pub const ARM_PROGRAM: &str = "p4tc_aging_arm";
/// The timer profiles map's name.
pub const PROFILES_MAP: &str = "p4tc_timer_profiles";
/// The name of the map of the tables' "may hold dynamic entries" words (key the table's id).
pub const DYNAMIC_MAP: &str = "p4tc_aging_dynamic";
/// The entry events' ring buffer's name.
pub const EVENTS_MAP: &str = "p4tc_aging_events";
/// Size of an event's head (`struct p4tc_event_hdr`); the map key follows.
pub const EVENT_HDR_SIZE: usize = 24 + ENTRY_HDR_SIZE as usize;
/// `kind` of a create event (`P4TC_EVENT_CREATED`).
pub const EVENT_CREATED: u32 = 1;
/// `kind` of an update event (`P4TC_EVENT_UPDATED`).
pub const EVENT_UPDATED: u32 = 2;
/// `kind` of a delete event (`P4TC_EVENT_DELETED`).
pub const EVENT_DELETED: u32 = 3;
/// `who` of an event by a control-plane client (`P4TC_WHO_CONTROL`).
pub const WHO_CONTROL: u32 = 1;
/// `who` of an event by the datapath (`P4TC_WHO_DATAPATH`).
pub const WHO_DATAPATH: u32 = 2;
/// `who` of an event by the aging timer (`P4TC_WHO_TIMER`).
pub const WHO_TIMER: u32 = 3;

/// Starts the aging timer of a loaded program: loads `p4tc_aging_arm` and runs it once.
/// Returns false when the program has no aging (no table kept in a hash map). Running it on a
/// program whose timer already runs re-arms it.
pub fn arm(loaded: &mut Loaded) -> Result<bool, LoadError> {
    if !has_aging(&loaded.generated) {
        return Ok(false);
    }
    let object = |e: String| LoadError::Object(format!("{ARM_PROGRAM}: {e}"));
    let prog = loaded
        .ebpf
        .program_mut(ARM_PROGRAM)
        .ok_or_else(|| LoadError::Missing(format!("no program `{ARM_PROGRAM}`")))?;
    let p: &mut SchedClassifier = prog
        .try_into()
        .map_err(|e: ProgramError| object(e.to_string()))?;
    if p.fd().is_err() {
        p.load().map_err(|e| match e {
            ProgramError::LoadError {
                io_error,
                verifier_log,
            } => LoadError::Verifier {
                error: format!("{ARM_PROGRAM}: {io_error}"),
                log: tail(&verifier_log.to_string(), 60),
            },
            other => object(other.to_string()),
        })?;
    }
    let fd = p
        .fd()
        .map_err(|e| object(e.to_string()))?
        .as_fd()
        .try_clone_to_owned()
        .map_err(|e| object(e.to_string()))?;
    // Any packet will do: the program only looks at its maps. 64 bytes pass every size check.
    let run = sys::test_run(fd.as_fd(), &[0u8; 64], 1).map_err(|e| object(e.to_string()))?;
    if run.retval != 0 {
        return Err(object(format!(
            "arming the timer failed (step {}: 1 no timer element, 2 bpf_timer_init, 3 set_callback, 4 start)",
            run.retval
        )));
    }
    Ok(true)
}

fn tail(log: &str, n: usize) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Whether the generated program ages entries in the kernel.
pub fn has_aging(g: &crate::Generated) -> bool {
    g.maps.iter().any(|m| m.role == MapRole::AgingTimer)
}

/// The timer profiles in `map` (`p4tc_timer_profiles`): the profiles from 0 up to the first
/// that does not exist.
pub fn profiles(map: BorrowedFd<'_>) -> std::io::Result<Vec<Duration>> {
    let mut v = Vec::new();
    for i in 0..MAX_TIMER_PROFILES {
        let raw = sys::map_lookup(map, &i.to_ne_bytes())?;
        let ns = u64::from_ne_bytes(raw[..8].try_into().unwrap_or([0; 8]));
        if ns == 0 {
            break;
        }
        v.push(Duration::from_nanos(ns));
    }
    Ok(v)
}

/// Sets profile `profile`'s age in `map` (`p4tc_timer_profiles`). The caller checks the
/// object model's rules (an existing profile, or the next new one; more than zero).
pub fn set_profile(map: BorrowedFd<'_>, profile: u32, after: Duration) -> std::io::Result<()> {
    if profile >= MAX_TIMER_PROFILES || after.is_zero() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("timer profile {profile} of {after:?}"),
        ));
    }
    let ns = u64::try_from(after.as_nanos()).unwrap_or(u64::MAX);
    sys::map_update(map, &profile.to_ne_bytes(), &ns.to_ne_bytes(), sys::BPF_ANY)
}

/// Tells the sweep that table `table_id` may hold a dynamic entry, in `map`
/// (`p4tc_aging_dynamic`): the sweep walks only tables so marked. Call it after writing an
/// element with [`crate::entry::FLAG_DYNAMIC`] by other means than `KernelBackend` (which
/// marks its own); before the write, a sweep between the two could clear the mark and miss
/// the entry, which would then never age.
pub fn mark_dynamic(map: BorrowedFd<'_>, table_id: u32) -> std::io::Result<()> {
    sys::map_update(
        map,
        &table_id.to_ne_bytes(),
        &1u64.to_ne_bytes(),
        sys::BPF_ANY,
    )
}

/// Whether table `table_id` is marked in `map` (`p4tc_aging_dynamic`) as maybe holding a
/// dynamic entry (the sweep clears the mark once a walk meets none).
pub fn marked_dynamic(map: BorrowedFd<'_>, table_id: u32) -> std::io::Result<bool> {
    let raw = sys::map_lookup(map, &table_id.to_ne_bytes())?;
    Ok(raw.iter().any(|b| *b != 0))
}

/// The aging timer's map's name.
pub const TIMER_MAP: &str = "p4tc_aging";

/// What the sweeps have done (the counters after the timer in `p4tc_aging`'s element).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SweepStats {
    /// Sweeps so far.
    pub sweeps: u64,
    /// How long the last sweep took (ns).
    pub last_sweep_ns: u64,
    /// Entries the sweeps deleted.
    pub deleted: u64,
    /// Events the full ring buffer refused (the sweep's deletes, the datapath's creates and
    /// updates).
    pub lost_events: u64,
}

/// The sweeps' counters in `map` (`p4tc_aging`). The kernel reads a timer's own bytes back as
/// zeros; the counters follow it.
pub fn stats(map: BorrowedFd<'_>) -> std::io::Result<SweepStats> {
    let raw = sys::map_lookup(map, &0u32.to_ne_bytes())?;
    let word = |i: usize| {
        raw.get(16 + 8 * i..24 + 8 * i)
            .and_then(|w| w.try_into().ok())
            .map_or(0, u64::from_ne_bytes)
    };
    Ok(SweepStats {
        sweeps: word(0),
        last_sweep_ns: word(1),
        deleted: word(2),
        lost_events: word(3),
    })
}

/// One event of `p4tc_aging_events`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgingEvent {
    /// [`EVENT_CREATED`], [`EVENT_UPDATED`] or [`EVENT_DELETED`].
    pub kind: u32,
    /// [`WHO_CONTROL`], [`WHO_DATAPATH`] or [`WHO_TIMER`].
    pub who: u32,
    /// The table's introspection id.
    pub table: u32,
    /// When (`bpf_ktime_get_ns`).
    pub at_ns: u64,
    /// The entry's head as it was.
    pub head: EntryHead,
    /// The entry's map key (a ternary table's: the mask index, then the masked key).
    pub key: Vec<u8>,
    /// The entry's whole map value (head, then the action's data), when the record carries
    /// it (the datapath's and the timer's do); else empty.
    pub value: Vec<u8>,
}

impl AgingEvent {
    /// Decodes one ring buffer record (None when it is malformed).
    pub fn decode(b: &[u8]) -> Option<AgingEvent> {
        if b.len() < EVENT_HDR_SIZE {
            return None;
        }
        let u32_at = |i: usize| u32::from_ne_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let key_size = u32_at(12) as usize;
        let key = b.get(EVENT_HDR_SIZE..EVENT_HDR_SIZE + key_size)?.to_vec();
        // The value, when there is one, follows the key at the next 8-byte boundary (the map
        // value's alignment in the C struct the generated code fills).
        let value = b
            .get(EVENT_HDR_SIZE + key_size.next_multiple_of(8)..)
            .unwrap_or_default()
            .to_vec();
        // The head decodes as a map value's head does.
        let head =
            ValueLayout::new(Head::Full, None, false, 0).decode_head(&b[24..EVENT_HDR_SIZE])?;
        Some(AgingEvent {
            kind: u32_at(0),
            who: u32_at(4),
            table: u32_at(8),
            at_ns: u64::from_ne_bytes(b[16..24].try_into().ok()?),
            head,
            key,
            value,
        })
    }
}

/// A reader of `p4tc_aging_events`.
pub struct EventReader {
    ring: sys::RingReader,
}

impl EventReader {
    /// A reader of a loaded program's events.
    pub fn from_loaded(loaded: &Loaded) -> Result<EventReader, LoadError> {
        EventReader::from_fd(loaded.map_fd(EVENTS_MAP)?)
    }

    /// A reader of the events map pinned at `path`.
    pub fn from_pin(path: &std::path::Path) -> Result<EventReader, LoadError> {
        EventReader::from_fd(crate::loader::open_pinned_map(path)?)
    }

    fn from_fd(fd: std::os::fd::OwnedFd) -> Result<EventReader, LoadError> {
        let err = |e: String| LoadError::Missing(format!("map `{EVENTS_MAP}`: {e}"));
        let ring = sys::RingReader::new(fd).map_err(|e| err(e.to_string()))?;
        Ok(EventReader { ring })
    }

    /// Every event waiting, oldest first.
    pub fn drain(&mut self) -> Vec<AgingEvent> {
        self.ring
            .drain()
            .iter()
            .filter_map(|item| AgingEvent::decode(item))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_decode() {
        let mut b = Vec::new();
        for w in [EVENT_DELETED, WHO_TIMER, 7, 4] {
            b.extend_from_slice(&w.to_ne_bytes());
        }
        b.extend_from_slice(&99u64.to_ne_bytes());
        let head = EntryHead {
            action: 2,
            permissions: 0x1da6,
            flags: 0xb,
            profile: 1,
            ..EntryHead::default()
        };
        b.extend_from_slice(
            &ValueLayout::new(Head::Full, None, false, 0)
                .encode(&head, &[])
                .unwrap(),
        );
        b.extend_from_slice(&[1, 2, 3, 4]);
        let e = AgingEvent::decode(&b).expect("decodes");
        assert_eq!((e.kind, e.who, e.table, e.at_ns), (3, 3, 7, 99));
        assert_eq!(e.head, head);
        assert_eq!(e.key, vec![1, 2, 3, 4]);
        assert!(e.value.is_empty(), "a record of head and key only");
        assert!(AgingEvent::decode(&b[..b.len() - 1]).is_none());
        // With the value after the key, 8-aligned.
        let mut with = b.clone();
        with.extend_from_slice(&[0; 4]);
        with.extend_from_slice(&[9; 40]);
        let e = AgingEvent::decode(&with).expect("decodes");
        assert_eq!((e.key.len(), e.value), (4, vec![9; 40]));
        assert_eq!(default_profile(3), Some(Duration::from_secs(120)));
        assert_eq!(default_profile(4), None);
    }
}
