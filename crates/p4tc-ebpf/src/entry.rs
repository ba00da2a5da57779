//! The value of a table map element, as the generated C declares it (`struct <table>_value`).
//! Tuple-space (ternary) tables start it with the full head ([`Head::Full`],
//! `struct p4tc_entry_hdr`):
//!
//! | offset | bytes | field |
//! |---|---|---|
//! | 0 | 4 | action id (program-wide, the introspection's; 0 is `NoAction`), host order |
//! | 4 | 2 | permissions (CRUDXPS), host order |
//! | 6 | 1 | flags: [`FLAG_HAS_ACTION`], [`FLAG_DYNAMIC`], [`FLAG_CONST`], [`FLAG_DATAPATH`] |
//! | 7 | 1 | aging timer profile |
//! | 8 | 4 | priority (ternary tables: the lower value wins), host order |
//! | 12 | 4 | tag: the control plane's (0 from the program or the datapath); the datapath ignores it |
//! | 16 | 8 | created, `bpf_ktime_get_ns` clock |
//! | 24 | 8 | last used (refreshed by hits of dynamic entries; the aging sweep compares it) |
//!
//! After the head:
//!
//! | offset | bytes | field |
//! |---|---|---|
//! | head | 8 or 16 | the direct counter, when the table has one (`CounterLayout`: native u64s) |
//! | then | 64 | the direct meter, when the table has one ([`MeterState`]) |
//! | then | max | the action's parameter blob (`ParamLayout`), zero padded to the largest |
//!
//! Exact tables' entries have no priority, and one map element each, so no tag to join
//! elements; and at a million entries the datapath pays for every byte of an element it
//! touches in cache misses. Their value ([`Head::Exact`], `struct p4tc_entry_hdr_exact`) keeps
//! what a hit reads together, right after the map key, and the times last:
//!
//! | offset | bytes | field |
//! |---|---|---|
//! | 0 | 8 | action id, permissions, flags, profile, as above; [`FLAG_CONTROL`] for a non-zero tag |
//! | 8 | max | the parameter blob |
//! | then, 8-aligned | 8 or 16, 64 | the direct counter, then the direct meter, when present |
//! | then, 8-aligned | 16 | created, then last used (`struct p4tc_entry_times`, member `tm`) |
//!
//! (Measured at 1M entries against arp_responder's twin holding a 32-byte value like ours:
//! 1.04 with the parameters 24 bytes after the key, 1.03 with them 8 bytes after it, within
//! the noise. What is left at 1M is the size of P4TC's per-entry state, not its order.)
//!
//! LPM tables' values ([`Head::Prefix`], `struct p4tc_entry_hdr_prefix`) are laid out as exact
//! ones, but their first word holds a 16-bit action id and a 16-bit tag: the entry's prefix
//! length + 1 when the control plane wrote it, so that reading a key back (the trie answers
//! with the longest prefix that covers it) can tell whether the answer is that very key. The
//! kernel's trie keeps the key and the value in each node, in fixed-size allocations: with the
//! full head, lpm_routing's 40-byte value put its nodes in 96-byte objects, half of them across
//! two cache lines; with this head its 28-byte value fits in 64 (the twin's fib at 100,000
//! prefixes took 350 ns with a 4-byte value, 356 with 28, 368 with 32 and 376 with 40). So an
//! LPM value's times are compact ([`Times::Compact`], `struct p4tc_entry_times_prefix`): two
//! `u32`s of 2^24 ns (16.8 ms), read back as the latest time at or before now with those 32
//! low bits (2.28 years), 8 bytes where wide times take 16; and the value is not padded to 8
//! bytes unless a direct counter or meter needs it. Up to 12 bytes of parameters make a
//! value of at most 28 bytes and a 64-byte node (decap_recirculate's routes: 36 bytes and a
//! 96-byte node with wide times). A program with more than 65,535 actions keeps the full head
//! in its LPM tables ([`Head::for_table`]). `p4tc load` rewrites the values of earlier
//! layouts ([`ValueLayout::earlier`]).
//! The whole is padded to a multiple of 8 bytes. Events carry the full head whatever the
//! table ([`ValueLayout::event_head`]; the generated C's `p4tc_event_entry`). A tuple-space (ternary) table's map key is a
//! host-order `u32` mask index followed by the masked key blob; its masks map holds, per slot
//! ([`MaskSlot`]), host-order `u32`s: [`MASK_USED`] when the slot is in use, a lower bound of
//! the priority values of the entries under this slot (`min_prio`), a lower bound of those
//! under this slot and every later one (`rest_min`), then the mask blob. Used slots are
//! contiguous from 0. The lookup skips a slot once its best entry so far is at least as good
//! as the slot's `min_prio`, and stops once it is at least as good as `rest_min`; writers
//! lower both before an entry under the slot becomes visible, and never raise them while the
//! slot is in use, so both stay true bounds whatever the order of the slots. Slots are taken
//! in first-use order, except that a batch (and the program's own entries) takes its new
//! slots in ascending order of the best priority value needing each: then `rest_min` is the
//! slot's own bound and the search stops at the first slot that cannot win.

/// Size of the full head of a value (LPM and tuple-space tables, and every event).
pub const ENTRY_HDR_SIZE: u32 = 32;
/// Size of an exact table's head: action, permissions, flags and profile (the times are at
/// the value's end).
pub const EXACT_HDR_SIZE: u32 = 8;
/// Size of an exact table's times (created, last used), the last bytes of its values.
pub const TIMES_SIZE: u32 = 16;
/// Size of an LPM table's times ([`Times::Compact`]): two `u32`s.
pub const COMPACT_TIMES_SIZE: u32 = 8;
/// An LPM value keeps its times in units of 2^24 ns (16.8 ms): 32 bits of them span 2.28
/// years, and a time is read back as the latest one at or before now with those low bits.
pub const COMPACT_TIME_SHIFT: u32 = 24;
/// The entry names an action (else the table's default hit action runs on a hit).
pub const FLAG_HAS_ACTION: u8 = 0x1;
/// The entry ages: hits refresh its last-used time, and the kernel's sweep ([`crate::aging`])
/// deletes it once last used + its profile's age <= now.
pub const FLAG_DYNAMIC: u8 = 0x2;
/// The entry is immutable.
pub const FLAG_CONST: u8 = 0x4;
/// The datapath created the entry.
pub const FLAG_DATAPATH: u8 = 0x8;
/// The control plane allocated the entry's priority (it gave none): `KernelBackend` counts
/// its next allocation on from these, as a later process must. The datapath ignores it.
pub const FLAG_PRIO_ALLOCATED: u8 = 0x10;
/// Only in an exact table's head, which has no tag: the control plane wrote the entry (a
/// full head's non-zero tag says so). [`ValueLayout::decode_head`] turns it back into tag 1.
pub const FLAG_CONTROL: u8 = 0x20;
/// First word of a used mask slot.
pub const MASK_USED: u32 = 1;
/// Slot of the default hit action in a defaults map.
pub const DEFAULT_HIT: u32 = 0;
/// Slot of the default miss action in a defaults map.
pub const DEFAULT_MISS: u32 = 1;

/// Where things lie in one table's map values.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ValueLayout {
    /// Size of a value.
    pub size: u32,
    /// Offset and size of the direct counter, if any.
    pub counter: Option<(u32, u32)>,
    /// Offset of the direct meter's state, if any ([`METER_SIZE`] bytes).
    pub meter: Option<u32>,
    /// Offset of the parameter blob.
    pub params_offset: u32,
    /// Bytes reserved for the largest parameter blob.
    pub params_size: u32,
    /// Which head the value starts with.
    pub head: Head,
    /// Offset of the created and last-used times (in the full head, or at the end).
    pub times_offset: u32,
    /// How the times are kept.
    pub times: Times,
    /// The bytes of the direct counter and meter (empty without them): an update keeps them.
    pub externs: std::ops::Range<u32>,
}

/// The head a table's values start with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Head {
    /// Priority and tag included ([`ENTRY_HDR_SIZE`] bytes): tuple-space tables.
    Full,
    /// No priority or tag ([`EXACT_HDR_SIZE`] bytes): exact tables.
    Exact,
    /// A 16-bit action id and a 16-bit tag, no priority ([`EXACT_HDR_SIZE`] bytes), the
    /// times at the end as in [`Head::Exact`]: LPM tables.
    Prefix,
}

/// How a value keeps its created and last-used times.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Times {
    /// Two `u64`s of nanoseconds (`struct p4tc_entry_times`, or in the full head).
    Wide,
    /// Two `u32`s of [`COMPACT_TIME_SHIFT`] units (`struct p4tc_entry_times_prefix`): LPM
    /// values, which the kernel's trie keeps inside its nodes. An 8-byte saving there decides
    /// a node's allocation size: decap_recirculate's 12 bytes of parameters made a 36-byte
    /// value with wide times, a 96-byte node; with these, 28 bytes and a 64-byte node.
    Compact,
}

impl Times {
    /// How today's values with this head keep their times.
    pub fn of(head: Head) -> Times {
        if head == Head::Prefix {
            Times::Compact
        } else {
            Times::Wide
        }
    }

    /// Its size in bytes.
    pub fn size(self) -> u32 {
        match self {
            Times::Wide => TIMES_SIZE,
            Times::Compact => COMPACT_TIMES_SIZE,
        }
    }
}

/// `ns` in compact units (its low 32 bits).
pub fn compact_time(ns: u64) -> u32 {
    (ns >> COMPACT_TIME_SHIFT) as u32
}

/// The latest time at or before `now_ns` whose compact units are `t` (0 if none is).
pub fn widen_time(t: u32, now_ns: u64) -> u64 {
    let now = now_ns >> COMPACT_TIME_SHIFT;
    let back = u64::from((now as u32).wrapping_sub(t));
    now.checked_sub(back)
        .map_or(0, |units| units << COMPACT_TIME_SHIFT)
}

/// The largest action id a [`Head::Prefix`] holds.
pub const PREFIX_HEAD_MAX_ACTION: u32 = u16::MAX as u32;

impl Head {
    /// The head of a table whose key has this kind, in a program whose action ids go up to
    /// `max_action_id`.
    pub fn for_table(kind: p4tc_ir::layout::TableKind, max_action_id: u32) -> Head {
        match kind {
            p4tc_ir::layout::TableKind::Exact => Head::Exact,
            p4tc_ir::layout::TableKind::Lpm if max_action_id <= PREFIX_HEAD_MAX_ACTION => {
                Head::Prefix
            }
            _ => Head::Full,
        }
    }

    /// Its size in bytes.
    pub fn size(self) -> u32 {
        match self {
            Head::Full => ENTRY_HDR_SIZE,
            Head::Exact | Head::Prefix => EXACT_HDR_SIZE,
        }
    }

    /// The C type the generated code declares it with.
    pub fn c_type(self) -> &'static str {
        match self {
            Head::Full => "struct p4tc_entry_hdr",
            Head::Exact => "struct p4tc_entry_hdr_exact",
            Head::Prefix => "struct p4tc_entry_hdr_prefix",
        }
    }

    /// Whether the times close the value (`tm`) rather than sit in the head.
    pub fn times_last(self) -> bool {
        self != Head::Full
    }
}

impl ValueLayout {
    /// The layout for `head`, a direct counter of `counter_size` bytes (if any) and parameter
    /// blobs of at most `max_params` bytes.
    pub fn new(head: Head, counter_size: Option<u32>, meter: bool, max_params: u32) -> ValueLayout {
        ValueLayout::with_times(head, Times::of(head), counter_size, meter, max_params)
    }

    fn with_times(
        head: Head,
        times: Times,
        counter_size: Option<u32>,
        meter: bool,
        max_params: u32,
    ) -> ValueLayout {
        let align8 = |n: u32| n.div_ceil(8) * 8;
        let meter_size = if meter { METER_SIZE } else { 0 };
        match head {
            Head::Full => {
                let counter = counter_size.map(|s| (head.size(), s));
                let meter_offset = head.size() + counter_size.unwrap_or(0);
                let params_offset = meter_offset + meter_size;
                ValueLayout {
                    size: align8(params_offset + max_params),
                    counter,
                    meter: meter.then_some(meter_offset),
                    params_offset,
                    params_size: max_params,
                    head,
                    times_offset: 16,
                    times: Times::Wide,
                    externs: head.size()..params_offset,
                }
            }
            Head::Exact | Head::Prefix => {
                let params_offset = head.size();
                let counter_offset = align8(params_offset + max_params);
                let meter_offset = counter_offset + counter_size.unwrap_or(0);
                let times_offset = if head == Head::Prefix {
                    // 4-aligned (`struct p4tc_entry_times_prefix`): with 4 bytes of
                    // parameters an LPM value is 28 bytes, not 32, and the trie's node fits in
                    // 64 bytes.
                    let externs = counter_size.is_some() || meter;
                    let end = if externs {
                        meter_offset + meter_size
                    } else {
                        params_offset + max_params
                    };
                    end.div_ceil(4) * 4
                } else {
                    align8(meter_offset + meter_size)
                };
                ValueLayout {
                    size: times_offset + times.size(),
                    counter: counter_size.map(|s| (counter_offset, s)),
                    meter: meter.then_some(meter_offset),
                    params_offset,
                    params_size: max_params,
                    head,
                    times_offset,
                    times,
                    externs: counter_offset..meter_offset + meter_size,
                }
            }
        }
    }

    /// The C statement that copies the head of the value `value` (a C lvalue of `struct
    /// <table>_value`) into the full head `dst` (a C pointer) of an event.
    pub fn c_event_entry(&self, dst: &str, value: &str) -> String {
        match self.head {
            Head::Full => format!("p4tc_event_entry_full({dst}, &{value}.hdr)"),
            Head::Exact => {
                format!("p4tc_event_entry_exact({dst}, &{value}.hdr, &{value}.tm)")
            }
            Head::Prefix => {
                format!("p4tc_event_entry_prefix({dst}, &{value}.hdr, &{value}.tm)")
            }
        }
    }

    /// The C member path of the times in `struct <table>_value` (`hdr` or `tm`).
    pub fn times_member(&self) -> &'static str {
        match self.head {
            Head::Full => "hdr",
            Head::Exact | Head::Prefix => "tm",
        }
    }

    /// The C statement that sets the last-used time of the entry `entry` (a C pointer to
    /// `struct <table>_value`) to `now_ns` (a C expression of `bpf_ktime_get_ns`'s clock).
    pub fn c_set_last_used(&self, entry: &str, now_ns: &str) -> String {
        let tm = self.times_member();
        match self.times {
            Times::Wide => format!("{entry}->{tm}.last_used_ns = {now_ns};"),
            Times::Compact => format!("{entry}->{tm}.last_used = p4tc_compact_time({now_ns});"),
        }
    }

    /// The layouts an earlier p4tc gave this table's values, which `p4tc load` rewrites into
    /// this one: an LPM table's full head (before round 7 of #8) and its prefix head with
    /// wide times (round 7). Their sizes differ from each other and from this layout's.
    pub fn earlier(&self) -> Vec<ValueLayout> {
        if self.head != Head::Prefix {
            return Vec::new();
        }
        vec![
            self.with_head(Head::Full),
            self.relaid(Head::Prefix, Times::Wide),
        ]
    }

    /// The same table's layout with another head.
    pub fn with_head(&self, head: Head) -> ValueLayout {
        self.relaid(head, Times::of(head))
    }

    /// The same table's layout (its counter, meter and parameters) with this head and times.
    fn relaid(&self, head: Head, times: Times) -> ValueLayout {
        ValueLayout::with_times(
            head,
            times,
            self.counter.map(|(_, size)| size),
            self.meter.is_some(),
            self.params_size,
        )
    }

    /// `value`, a value of the layout `old` (the same table's, with another head, as
    /// [`ValueLayout::with_head`] gives), in this layout: the head, the parameters and the
    /// direct counter's and meter's state carried over. None when `value` is short or the
    /// head does not fit this one.
    pub fn convert(&self, old: &ValueLayout, value: &[u8]) -> Option<Vec<u8>> {
        if value.len() < old.size as usize {
            return None;
        }
        let head = old.decode_head(value)?;
        let from = old.params_offset as usize;
        let params = &value[from..from + old.params_size.min(self.params_size) as usize];
        let mut out = self.encode(&head, params).ok()?;
        let mut carry = |from: Option<u32>, to: Option<u32>, size: u32| {
            if let (Some(f), Some(t)) = (from, to) {
                let (f, t, n) = (f as usize, t as usize, size as usize);
                out[t..t + n].copy_from_slice(&value[f..f + n]);
            }
        };
        if let (Some((_, old_size)), Some((_, size))) = (old.counter, self.counter) {
            carry(
                old.counter.map(|c| c.0),
                self.counter.map(|c| c.0),
                old_size.min(size),
            );
        }
        carry(old.meter, self.meter, METER_SIZE);
        Some(out)
    }

    /// `value`'s head as events carry it (the full head, whatever the table's).
    pub fn event_head(&self, value: &[u8]) -> Option<[u8; ENTRY_HDR_SIZE as usize]> {
        let head = self.decode_head(value)?;
        let mut out = [0u8; ENTRY_HDR_SIZE as usize];
        ValueLayout::new(Head::Full, None, false, 0).encode_head(&head, &mut out);
        Some(out)
    }

    /// A value: its head, zero counts, and `params` (a `ParamLayout` blob, at most
    /// `params_size` bytes).
    pub fn encode(&self, head: &EntryHead, params: &[u8]) -> Result<Vec<u8>, String> {
        let mut v = Vec::with_capacity(self.size as usize);
        self.encode_onto(head, params, &mut v)?;
        Ok(v)
    }

    /// [`ValueLayout::encode`] appended to `out` (a batch's buffer of keys and values); `out`
    /// is left as it was when the parameters do not fit.
    pub fn encode_onto(
        &self,
        head: &EntryHead,
        params: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        if self.head == Head::Prefix && head.action > PREFIX_HEAD_MAX_ACTION {
            return Err(format!(
                "action id {} does not fit an LPM entry's 16-bit action id",
                head.action
            ));
        }
        if params.len() > self.params_size as usize {
            return Err(format!(
                "the parameter blob is {} bytes; the table holds at most {}",
                params.len(),
                self.params_size
            ));
        }
        let start = out.len();
        out.resize(start + self.size as usize, 0);
        let v = &mut out[start..];
        self.encode_head(head, v);
        let at = self.params_offset as usize;
        v[at..at + params.len()].copy_from_slice(params);
        Ok(())
    }

    /// The head of a value.
    pub fn decode_head(&self, value: &[u8]) -> Option<EntryHead> {
        let needed = match self.head {
            Head::Full => ENTRY_HDR_SIZE,
            Head::Exact | Head::Prefix => self.times_offset + self.times.size(),
        };
        if value.len() < needed as usize {
            return None;
        }
        let t = self.times_offset as usize;
        let u32_at =
            |i: usize| u32::from_ne_bytes([value[i], value[i + 1], value[i + 2], value[i + 3]]);
        let u64_at = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&value[i..i + 8]);
            u64::from_ne_bytes(w)
        };
        let flags = value[6];
        Some(match self.head {
            Head::Full => EntryHead {
                action: u32_at(0),
                permissions: u16::from_ne_bytes([value[4], value[5]]),
                flags,
                profile: value[7],
                priority: u32_at(8),
                tag: u32_at(12),
                created_ns: u64_at(16),
                last_used_ns: u64_at(24),
            },
            Head::Exact => EntryHead {
                action: u32_at(0),
                permissions: u16::from_ne_bytes([value[4], value[5]]),
                flags: flags & !FLAG_CONTROL,
                profile: value[7],
                priority: 0,
                tag: u32::from(flags & FLAG_CONTROL != 0),
                created_ns: u64_at(t),
                last_used_ns: u64_at(t + 8),
            },
            Head::Prefix => {
                let (created_ns, last_used_ns) = match self.times {
                    Times::Wide => (u64_at(t), u64_at(t + 8)),
                    Times::Compact => {
                        let now = crate::sys::monotonic_ns();
                        (widen_time(u32_at(t), now), widen_time(u32_at(t + 4), now))
                    }
                };
                EntryHead {
                    action: u32::from(u16::from_ne_bytes([value[0], value[1]])),
                    permissions: u16::from_ne_bytes([value[4], value[5]]),
                    flags,
                    profile: value[7],
                    priority: 0,
                    tag: u32::from(u16::from_ne_bytes([value[2], value[3]])),
                    created_ns,
                    last_used_ns,
                }
            }
        })
    }
}

impl ValueLayout {
    /// Writes `head` into `v` (a whole value). An exact head keeps only whether the tag is
    /// non-zero, as [`FLAG_CONTROL`]; a prefix head keeps the low 16 bits of the action id
    /// (checked by [`ValueLayout::encode_onto`]) and of the tag (an LPM tag is a prefix length
    /// + 1, at most 2,049). Neither has a priority, and their times are at the end.
    fn encode_head(&self, head: &EntryHead, v: &mut [u8]) {
        if self.head == Head::Prefix {
            v[0..2].copy_from_slice(&(head.action as u16).to_ne_bytes());
            v[2..4].copy_from_slice(&(head.tag as u16).to_ne_bytes());
        } else {
            v[0..4].copy_from_slice(&head.action.to_ne_bytes());
        }
        v[4..6].copy_from_slice(&head.permissions.to_ne_bytes());
        v[7] = head.profile;
        let t = self.times_offset as usize;
        match self.head {
            Head::Full => {
                v[6] = head.flags;
                v[8..12].copy_from_slice(&head.priority.to_ne_bytes());
                v[12..16].copy_from_slice(&head.tag.to_ne_bytes());
            }
            Head::Exact => {
                v[6] = (head.flags & !FLAG_CONTROL) | if head.tag != 0 { FLAG_CONTROL } else { 0 };
            }
            Head::Prefix => v[6] = head.flags,
        }
        match self.times {
            Times::Wide => {
                v[t..t + 8].copy_from_slice(&head.created_ns.to_ne_bytes());
                v[t + 8..t + 16].copy_from_slice(&head.last_used_ns.to_ne_bytes());
            }
            Times::Compact => {
                v[t..t + 4].copy_from_slice(&compact_time(head.created_ns).to_ne_bytes());
                v[t + 4..t + 8].copy_from_slice(&compact_time(head.last_used_ns).to_ne_bytes());
            }
        }
    }
}

/// The head of a map value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct EntryHead {
    /// Program-wide action id (0: `NoAction`).
    pub action: u32,
    /// CRUDXPS bits.
    pub permissions: u16,
    /// `FLAG_*` bits.
    pub flags: u8,
    /// Aging timer profile.
    pub profile: u8,
    /// Priority, lower wins (ternary tables).
    pub priority: u32,
    /// The control plane's tag: `KernelBackend` gives the map elements of one entry (a range
    /// stored as several prefixes) the same non-zero tag, so a dump joins them up again.
    pub tag: u32,
    /// Creation time (ns, `CLOCK_MONOTONIC` as `bpf_ktime_get_ns` reads it).
    pub created_ns: u64,
    /// Last hit (ns).
    pub last_used_ns: u64,
}

/// Size of a meter's state.
pub const METER_SIZE: u32 = 64;

/// A meter's configuration and state (`struct p4tc_meter`, eight native `u64`s): rates in
/// units per second, bursts in units, tokens in nano-units (units x 10^9).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MeterState {
    /// Committed information rate.
    pub cir: u64,
    /// Committed burst size.
    pub cbs: u64,
    /// Peak information rate.
    pub pir: u64,
    /// Peak burst size.
    pub pbs: u64,
    /// Committed bucket (nano-units).
    pub tc: u64,
    /// Peak bucket (nano-units).
    pub tp: u64,
    /// When the buckets were last filled (`bpf_ktime_get_ns`).
    pub last_ns: u64,
    /// 1 once configured (an unconfigured meter marks everything green).
    pub configured: u64,
}

impl MeterState {
    /// A meter configured now, both buckets full (RFC 2698).
    pub fn configured(cir: u64, cbs: u64, pir: u64, pbs: u64, now_ns: u64) -> MeterState {
        MeterState {
            cir,
            cbs,
            pir,
            pbs,
            tc: cbs.saturating_mul(1_000_000_000),
            tp: pbs.saturating_mul(1_000_000_000),
            last_ns: now_ns,
            configured: 1,
        }
    }

    /// Its bytes.
    pub fn encode(&self) -> Vec<u8> {
        [
            self.cir,
            self.cbs,
            self.pir,
            self.pbs,
            self.tc,
            self.tp,
            self.last_ns,
            self.configured,
        ]
        .iter()
        .flat_map(|w| w.to_ne_bytes())
        .collect()
    }
}

/// The prefixes (value, mask) that together match exactly `lo ..= hi` in a `width`-bit field:
/// how a range field of a ternary table is stored (one tuple-space entry per prefix, all with
/// the entry's priority). Empty when `lo > hi`.
pub fn range_to_prefixes(
    lo: &num_bigint::BigUint,
    hi: &num_bigint::BigUint,
    width: u32,
) -> Vec<(num_bigint::BigUint, num_bigint::BigUint)> {
    use num_bigint::BigUint;
    use num_traits::{One, Zero};
    let full = (BigUint::one() << width) - 1u8;
    let hi = hi.min(&full).clone();
    let mut lo = lo.clone();
    let mut out = Vec::new();
    while lo <= hi {
        // The largest aligned block starting at lo that stays within hi.
        let mut k = 0u32;
        while k < width {
            let size = BigUint::one() << (k + 1);
            let aligned = (&lo % &size).is_zero();
            if !aligned || &lo + &size - 1u8 > hi {
                break;
            }
            k += 1;
        }
        let block = BigUint::one() << k;
        let mask = &full ^ (&block - 1u8);
        out.push((lo.clone(), mask));
        lo += block;
        if lo > full {
            break;
        }
    }
    out
}

/// The key of a tuple-space entry: the mask index, then the masked key blob.
pub fn tuple_key(mask_index: u32, masked_key: &[u8]) -> Vec<u8> {
    let mut k = mask_index.to_ne_bytes().to_vec();
    k.extend_from_slice(masked_key);
    k
}

/// Bytes of a mask slot before its mask blob: `used`, `min_prio`, `rest_min`.
pub const MASK_HEAD: usize = 12;

/// A used mask slot of a tuple-space table, as its masks map holds it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MaskSlot {
    /// The mask blob (the key layout's).
    pub mask: Vec<u8>,
    /// No entry under this slot has a lower priority value (0 never skips the slot).
    pub min_prio: u32,
    /// No entry under this slot or a later one has a lower priority value (0 never stops the
    /// search here).
    pub rest_min: u32,
}

impl MaskSlot {
    /// The slot's bytes (`used` set).
    pub fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(MASK_HEAD + self.mask.len());
        v.extend_from_slice(&MASK_USED.to_ne_bytes());
        v.extend_from_slice(&self.min_prio.to_ne_bytes());
        v.extend_from_slice(&self.rest_min.to_ne_bytes());
        v.extend_from_slice(&self.mask);
        v
    }

    /// The slot in `value`; `None` when it is not in use (or too short to be a slot).
    pub fn decode(value: &[u8]) -> Option<MaskSlot> {
        let word = |i: usize| {
            value
                .get(i..i + 4)
                .map(|w| u32::from_ne_bytes([w[0], w[1], w[2], w[3]]))
        };
        if word(0)? != MASK_USED {
            return None;
        }
        Some(MaskSlot {
            min_prio: word(4)?,
            rest_min: word(8)?,
            mask: value[MASK_HEAD..].to_vec(),
        })
    }
}

/// The value of a used mask slot whose writer keeps only the slot's own bound: `rest_min` 0,
/// so the search never stops early at it (always true; see [`MaskSlot`] for the full form).
pub fn mask_slot(mask: &[u8], min_prio: u32) -> Vec<u8> {
    MaskSlot {
        mask: mask.to_vec(),
        min_prio,
        rest_min: 0,
    }
    .encode()
}

/// Per slot, the lowest of its bound and every later slot's: the `rest_min` of slots whose
/// `min_prio`s are `bounds`, in slot order.
pub fn rest_mins(bounds: &[u32]) -> Vec<u32> {
    let mut out = vec![u32::MAX; bounds.len()];
    let mut low = u32::MAX;
    for (i, b) in bounds.iter().enumerate().rev() {
        low = low.min(*b);
        out[i] = low;
    }
    out
}

/// The order in which new slots are taken: by the best (lowest) priority value needing each,
/// then first use. `best[j]` is new slot `j`'s best value in first-use order; the answer is
/// each one's rank (its position among the new slots).
pub fn slot_ranks(best: &[u32]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..best.len()).collect();
    order.sort_by_key(|&j| (best[j], j));
    let mut rank = vec![0; best.len()];
    for (r, j) in order.into_iter().enumerate() {
        rank[j] = r;
    }
    rank
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_head_keeps_a_16_bit_action_and_tag_and_converts_from_the_full_head() {
        let head = EntryHead {
            action: 0x1234,
            permissions: 0x3ff,
            flags: FLAG_HAS_ACTION | FLAG_DYNAMIC,
            profile: 2,
            priority: 0,
            tag: 25,
            // Whole compact units, before now: they read back exactly.
            created_ns: 7 << COMPACT_TIME_SHIFT,
            last_used_ns: 9 << COMPACT_TIME_SHIFT,
        };
        // lpm_routing's fib: 4 bytes of parameters, 20 in all; decap_recirculate's routes:
        // 12, 28 in all (a 64-byte trie node either way).
        let prefix = ValueLayout::new(Head::Prefix, None, false, 4);
        assert_eq!(
            (prefix.params_offset, prefix.times_offset, prefix.size),
            (8, 12, 20)
        );
        assert_eq!(ValueLayout::new(Head::Prefix, None, false, 12).size, 28);
        // The times are 8-aligned after a direct counter or meter.
        let counted = ValueLayout::new(Head::Prefix, Some(16), false, 4);
        assert_eq!(
            (counted.counter, counted.times_offset, counted.size),
            (Some((16, 16)), 32, 40)
        );
        let v = prefix.encode(&head, &[1, 2, 3, 4]).expect("fits");
        assert_eq!(&v[0..2], &0x1234u16.to_ne_bytes());
        assert_eq!(&v[2..4], &25u16.to_ne_bytes());
        assert_eq!(&v[8..12], &[1, 2, 3, 4]);
        assert_eq!(&v[12..16], &7u32.to_ne_bytes());
        assert_eq!(&v[16..20], &9u32.to_ne_bytes());
        assert_eq!(prefix.decode_head(&v), Some(head));
        // An action id past 16 bits is refused, not cut short.
        let wide = EntryHead {
            action: 0x1_0000,
            ..head
        };
        let err = prefix.encode(&wide, &[]).expect_err("too wide");
        assert!(err.contains("65536"), "{err}");
        // A value an earlier p4tc wrote with the full head, counter and meter included.
        let full = ValueLayout::new(Head::Full, Some(16), true, 4);
        let with_externs = full.with_head(Head::Prefix);
        assert_eq!(
            with_externs,
            ValueLayout::new(Head::Prefix, Some(16), true, 4)
        );
        let mut old = full.encode(&head, &[5, 6, 7, 8]).expect("fits");
        let (c, m) = (
            full.counter.expect("counter").0 as usize,
            full.meter.expect("meter") as usize,
        );
        old[c..c + 16].copy_from_slice(&[0x11; 16]);
        old[m..m + 64].copy_from_slice(&[0x22; 64]);
        let new = with_externs.convert(&full, &old).expect("converts");
        assert_eq!(new.len(), with_externs.size as usize);
        assert_eq!(with_externs.decode_head(&new), Some(head));
        let (c, m) = (
            with_externs.counter.expect("counter").0 as usize,
            with_externs.meter.expect("meter") as usize,
        );
        assert_eq!(&new[8..12], &[5, 6, 7, 8]);
        assert_eq!(&new[c..c + 16], &[0x11; 16]);
        assert_eq!(&new[m..m + 64], &[0x22; 64]);
        assert_eq!(with_externs.convert(&full, &old[..10]), None);
        // The earlier layouts `p4tc load` converts from are told apart by their size: the
        // full head, and the prefix head with wide times (28 bytes for 4 of parameters).
        let earlier = prefix.earlier();
        assert_eq!(
            earlier.iter().map(|l| l.size).collect::<Vec<_>>(),
            vec![40, 28]
        );
        let wide = &earlier[1];
        let mut old = wide.encode(&head, &[9, 8, 7, 6]).expect("fits");
        assert_eq!(&old[12..20], &head.created_ns.to_ne_bytes());
        old[20..28].copy_from_slice(&((9 << COMPACT_TIME_SHIFT) + 12_345u64).to_ne_bytes());
        let new = prefix.convert(wide, &old).expect("converts");
        assert_eq!(&new[8..12], &[9, 8, 7, 6]);
        assert_eq!(prefix.decode_head(&new), Some(head), "cut to whole units");
        assert!(ValueLayout::new(Head::Exact, None, false, 4)
            .earlier()
            .is_empty());
        // Only LPM tables get the prefix head, and only while the action ids fit it.
        use p4tc_ir::layout::TableKind;
        assert_eq!(Head::for_table(TableKind::Lpm, 3), Head::Prefix);
        assert_eq!(Head::for_table(TableKind::Lpm, 70_000), Head::Full);
        assert_eq!(Head::for_table(TableKind::Exact, 3), Head::Exact);
        assert_eq!(Head::for_table(TableKind::Ternary, 3), Head::Full);
    }

    #[test]
    fn compact_times_read_back_as_the_latest_time_with_their_low_bits() {
        let unit = 1u64 << COMPACT_TIME_SHIFT;
        let now = 5_000 * unit + 17;
        assert_eq!(widen_time(compact_time(now), now), 5_000 * unit);
        assert_eq!(widen_time(4_000, now), 4_000 * unit);
        // Ahead of now: read as 2^32 units earlier, which is before the clock began.
        assert_eq!(widen_time(6_000, now), 0);
        // Past the 32 bits: a time 10 units ago whose low bits wrapped.
        let now = (1u64 << 32) * unit + 3 * unit;
        let then = now - 10 * unit;
        assert_eq!(compact_time(then), u32::MAX - 6);
        assert_eq!(widen_time(compact_time(then), now), then);
    }

    use num_bigint::BigUint;

    fn covers(pieces: &[(BigUint, BigUint)], width: u32) -> Vec<u32> {
        (0..1u32 << width)
            .filter(|x| {
                let x = BigUint::from(*x);
                pieces.iter().any(|(v, m)| (&x & m) == *v)
            })
            .collect()
    }

    #[test]
    fn ranges_become_exactly_their_prefixes() {
        for (lo, hi) in [
            (0u32, 255u32),
            (22, 22),
            (1024, 65535 & 255),
            (3, 200),
            (80, 95),
            (1, 254),
        ] {
            if lo > hi {
                continue;
            }
            let pieces = range_to_prefixes(&BigUint::from(lo), &BigUint::from(hi), 8);
            assert_eq!(
                covers(&pieces, 8),
                (lo..=hi).collect::<Vec<_>>(),
                "{lo}..{hi}"
            );
            assert!(pieces.len() <= 14, "{lo}..{hi}: at most 2W - 2 prefixes");
        }
        assert!(range_to_prefixes(&BigUint::from(5u8), &BigUint::from(4u8), 8).is_empty());
        let full = range_to_prefixes(&BigUint::from(0u8), &BigUint::from(u16::MAX), 16);
        assert_eq!(full, vec![(BigUint::from(0u8), BigUint::from(0u8))]);
    }

    #[test]
    fn encode_onto_appends_the_value_or_nothing() {
        let layout = ValueLayout::new(Head::Exact, None, false, 6);
        let head = EntryHead {
            action: 3,
            permissions: 0x1da4,
            flags: FLAG_HAS_ACTION,
            created_ns: 5,
            last_used_ns: 6,
            ..EntryHead::default()
        };
        let mut out = vec![0xee; 3];
        layout
            .encode_onto(&head, &[1, 2, 3, 4, 5, 6], &mut out)
            .expect("fits");
        let alone = layout.encode(&head, &[1, 2, 3, 4, 5, 6]).expect("fits");
        assert_eq!(out[..3], [0xee; 3]);
        assert_eq!(out[3..], alone[..]);
        let err = layout
            .encode_onto(&head, &[0; 7], &mut out)
            .expect_err("7 bytes of parameters do not fit in 6");
        assert!(err.contains("at most 6"), "{err}");
        assert_eq!(
            out.len(),
            3 + alone.len(),
            "a refused value appends nothing"
        );
    }

    #[test]
    fn values_round_trip_and_are_padded_to_8() {
        let layout = ValueLayout::new(Head::Full, Some(16), true, 13);
        assert_eq!(layout.counter, Some((32, 16)));
        assert_eq!(layout.meter, Some(48));
        assert_eq!(layout.params_offset, 112);
        assert_eq!(layout.size, 128);
        let head = EntryHead {
            action: 7,
            permissions: 0x1da4,
            flags: FLAG_HAS_ACTION | FLAG_DYNAMIC,
            profile: 2,
            priority: 40,
            tag: 3,
            created_ns: 1,
            last_used_ns: 2,
        };
        let v = layout.encode(&head, &[0xab; 13]).expect("fits");
        assert_eq!(v.len(), 128);
        assert_eq!(layout.decode_head(&v), Some(head));
        assert_eq!(&v[112..125], &[0xab; 13]);
        assert!(layout.encode(&head, &[0; 14]).is_err());

        // An exact table's head: no priority, and its tag only as "the control plane's".
        // The parameters right after the 8-byte head, the times last.
        let exact = ValueLayout::new(Head::Exact, None, false, 13);
        assert_eq!(
            (exact.params_offset, exact.times_offset, exact.size),
            (8, 24, 40)
        );
        let v = exact.encode(&head, &[0xab; 13]).expect("fits");
        assert_eq!(&v[8..21], &[0xab; 13]);
        assert_eq!(&v[24..32], &1u64.to_ne_bytes());
        assert_eq!(&v[32..40], &2u64.to_ne_bytes());
        // With a direct counter and meter: after the parameters, 8-aligned; an update keeps
        // exactly their bytes.
        let both = ValueLayout::new(Head::Exact, Some(16), true, 13);
        assert_eq!(both.counter, Some((24, 16)));
        assert_eq!(both.meter, Some(40));
        assert_eq!((both.times_offset, both.size), (104, 120));
        assert_eq!(both.externs, 24..104);
        assert_eq!(layout.externs, 32..112);
        let back = exact.decode_head(&v).expect("head");
        assert_eq!(
            back,
            EntryHead {
                priority: 0,
                tag: 1,
                ..head
            }
        );
        assert_eq!(v[6] & FLAG_CONTROL, FLAG_CONTROL);
        let program = EntryHead { tag: 0, ..head };
        let v = exact.encode(&program, &[]).expect("fits");
        assert_eq!(exact.decode_head(&v).expect("head").tag, 0);
        // Events carry the full head.
        let full = ValueLayout::new(Head::Full, None, false, 0);
        let ev = exact
            .event_head(&exact.encode(&head, &[]).expect("fits"))
            .expect("head");
        assert_eq!(
            full.decode_head(&ev),
            Some(EntryHead {
                priority: 0,
                tag: 1,
                ..head
            })
        );
        assert_eq!(
            MeterState::configured(1, 2, 3, 4, 5).encode().len(),
            METER_SIZE as usize
        );
        assert_eq!(tuple_key(3, &[9, 9, 9, 9]).len(), 8);
        assert_eq!(mask_slot(&[1, 2, 3, 4], 9)[..4], MASK_USED.to_ne_bytes());
        assert_eq!(mask_slot(&[1, 2, 3, 4], 9)[4..8], 9u32.to_ne_bytes());
    }

    #[test]
    fn mask_slots_round_trip_and_bounds_cover_later_slots() {
        let slot = MaskSlot {
            mask: vec![0xff, 0, 0xff, 0],
            min_prio: 30,
            rest_min: 7,
        };
        let v = slot.encode();
        assert_eq!(v.len(), MASK_HEAD + 4);
        assert_eq!(MaskSlot::decode(&v), Some(slot));
        assert_eq!(MaskSlot::decode(&[0u8; MASK_HEAD + 4]), None, "unused");
        assert_eq!(MaskSlot::decode(&v[..6]), None, "short");
        // The writer that keeps no rest bound never stops the search.
        let plain = MaskSlot::decode(&mask_slot(&[1, 2, 3, 4], 9)).expect("used");
        assert_eq!((plain.min_prio, plain.rest_min), (9, 0));
        assert_eq!(rest_mins(&[5, 9, 3, 8, 10]), vec![3, 3, 3, 8, 10]);
        assert_eq!(rest_mins(&[]), Vec::<u32>::new());
        // Ascending by best value; ties keep first use.
        assert_eq!(slot_ranks(&[40, 10, 40, 20]), vec![2, 0, 3, 1]);
    }
}
