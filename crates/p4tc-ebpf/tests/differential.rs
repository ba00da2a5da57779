//! The differential test with generated table contents: for every example, random but valid
//! entries (from the pipeline model, seeded, deterministic) go into both datapaths through
//! the object model (`MemoryBackend` for the interpreter, `KernelBackend` for the eBPF
//! program at XDP, whose test run takes any bytes; at TC for the programs the backend does
//! not support at XDP, where TC's test run refusing a malformed packet is counted), and 400
//! packets per example, derived from the STF file's packets, go through both: the verdict
//! (drop, to the host, sent out of a port) and the bytes must be the same.
//!
//! Entries: per table up to min(size, 16..64) entries, keys per match kind (exact values, LPM
//! value and prefix, ternary value and mask, ranges, optional), values drawn from the STF
//! file's keys and packets (so that packets hit) or at random; one of the actions allowed in
//! entries with random action data (ports from 1..4); distinct priorities where the table
//! has them; sometimes a new default miss action where it is not const. Both backends must
//! accept or refuse each create the same way (Ok, or the same kind of error), except where
//! `KernelBackend`'s documented limits refuse what `MemoryBackend` takes (mask slots, range
//! prefixes filling the map): the memory backend's entry is then deleted again, counted and
//! printed.
//!
//! Packets: the STF packets as written, with key values of generated entries written into
//! their headers (MAC addresses, IPv4 and IPv6 addresses of outer and inner headers, ARP
//! target, L4 ports, protocol, EtherType; `dev` keys set the input port), with random bytes
//! changed, cut short, extended, or replaced by random bytes. Packets the kernel's test run
//! refuses (shorter than 14 bytes) and results the kernel cannot produce (fewer than 14
//! bytes left) are counted and printed, not compared.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use num_bigint::BigUint;
use p4tc_ebpf::Hook;
use p4tc_ir::introspection::ValueType;
use p4tc_ir::ir::ActionScope;
use p4tc_ir::layout::MatchKind;
use p4tc_runtime::model::{KeyFieldModel, TableModel};
use p4tc_runtime::{
    ActionCall, DefaultKind, EntrySpec, KeyMatch, ManualClock, MemoryBackend, PipelineModel,
    Priority, RuntimeError,
};
use p4tc_testkit::interp_target::InterpTarget;
use p4tc_testkit::kernel_target::KernelTarget;
use p4tc_testkit::stf::{self, KeyValue, StatementKind};
use p4tc_testkit::target::{Delivery, Target};

/// Packets per example (at least).
const PACKETS: usize = 400;

/// A small deterministic generator (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn bits(&mut self, width: u32) -> BigUint {
        let mut v = BigUint::default();
        let mut have = 0;
        while have < width {
            v = (v << 64u32) | BigUint::from(self.next());
            have += 64;
        }
        v & ones(width)
    }
}

fn ones(w: u32) -> BigUint {
    (BigUint::from(1u8) << w) - 1u8
}

fn prefix_mask(w: u32, p: u32) -> BigUint {
    ones(w) ^ ones(w - p)
}

/// What a result is, for comparing backends: Ok, or the error's kind.
fn kind<T>(r: &Result<T, RuntimeError>) -> &'static str {
    match r {
        Ok(_) => "ok",
        Err(RuntimeError::NotFound { .. }) => "not found",
        Err(RuntimeError::Exists { .. }) => "exists",
        Err(RuntimeError::Full { .. }) => "full",
        Err(RuntimeError::Permission { .. }) => "permission",
        Err(RuntimeError::Invalid(_)) => "invalid",
    }
}

/// Values worth using for keys of `width` bits: the STF file's key values for a field of
/// that name, and what the STF packets hold where a field of that type would be.
fn candidates(
    f: &KeyFieldModel,
    stf_keys: &[(String, BigUint)],
    templates: &[(u32, Vec<u8>)],
) -> Vec<BigUint> {
    let short = |n: &str| n.rsplit(['.', '/']).next().unwrap_or(n).to_string();
    let mut v: Vec<BigUint> = stf_keys
        .iter()
        .filter(|(n, _)| short(n) == short(&f.name))
        .map(|(_, x)| x & ones(f.width))
        .collect();
    if f.width % 8 == 0 {
        for (port, p) in templates {
            if f.ty == ValueType::Dev {
                v.push(BigUint::from(*port));
                continue;
            }
            for (at, _) in slots(p, f) {
                let n = (f.width / 8) as usize;
                if at + n <= p.len() {
                    v.push(BigUint::from_bytes_be(&p[at..at + n]));
                }
            }
        }
    }
    v
}

/// One key field's match, from a candidate value or at random.
fn key_match(rng: &mut Rng, f: &KeyFieldModel, pool: &[BigUint]) -> KeyMatch {
    let w = f.width;
    let mut value = if !pool.is_empty() && rng.chance(60) {
        pool[rng.below(pool.len())].clone()
    } else if f.ty == ValueType::Dev || rng.chance(if pool.is_empty() { 50 } else { 15 }) {
        // Small values: ports, and indices other tables' actions write into metadata.
        BigUint::from(rng.below(5) as u32) & ones(w)
    } else {
        rng.bits(w)
    };
    if rng.chance(15) {
        // A neighbour of the candidate.
        value ^= BigUint::from(1u8) << rng.below(w as usize);
    }
    match f.match_kind {
        MatchKind::Exact => KeyMatch::Exact(value),
        MatchKind::Lpm => {
            let p = if rng.chance(30) {
                w
            } else {
                rng.below(w as usize + 1) as u32
            };
            KeyMatch::Lpm {
                value: value & prefix_mask(w, p),
                prefix_len: p,
            }
        }
        MatchKind::Ternary => {
            // Masks from a small palette per field: the kernel's tuple space has
            // `@nummask` slots, one per distinct mask.
            let mask = match rng.below(4) {
                0 => ones(w),
                1 => prefix_mask(w, w - w / 4),
                2 => ones(w) ^ (ones(w / 2) << (w / 4)),
                _ => BigUint::default(),
            };
            if mask == BigUint::default() {
                KeyMatch::Any
            } else {
                KeyMatch::Ternary {
                    value: value & &mask,
                    mask,
                }
            }
        }
        MatchKind::Range => {
            if rng.chance(15) {
                return KeyMatch::Any;
            }
            // Mostly single values and aligned blocks (one prefix, one mask slot each);
            // sometimes a span that takes several.
            let (low, high) = match rng.below(5) {
                0 | 1 => (value.clone(), value),
                2 | 3 => {
                    let k = if rng.chance(50) { w.min(4) } else { w.min(8) };
                    let low = value & prefix_mask(w, w - k);
                    let high = &low + ones(k);
                    (low, high)
                }
                _ => {
                    let high = (&value + BigUint::from(rng.below(40))).min(ones(w));
                    (value, high)
                }
            };
            KeyMatch::Range { low, high }
        }
        MatchKind::Optional => {
            if rng.chance(30) {
                KeyMatch::Any
            } else {
                KeyMatch::Exact(value)
            }
        }
    }
}

/// An action call of `t` allowed in entries (or as the default), with random data.
fn action_call(
    rng: &mut Rng,
    t: &TableModel,
    default: bool,
    stf_args: &[(String, BigUint)],
) -> Option<ActionCall> {
    let allowed: Vec<_> = t
        .actions
        .iter()
        .filter(|a| {
            if default {
                a.scope != ActionScope::TableOnly
            } else {
                a.scope != ActionScope::DefaultOnly
            }
        })
        .collect();
    if allowed.is_empty() {
        return None;
    }
    let a = allowed[rng.below(allowed.len())];
    let params = a
        .params
        .iter()
        .map(|p| {
            let lower = p.name.to_ascii_lowercase();
            let written: Vec<&BigUint> = stf_args
                .iter()
                .filter(|(n, _)| *n == p.name)
                .map(|(_, v)| v)
                .collect();
            if !written.is_empty() && rng.chance(40) {
                // What the STF file gives a parameter of this name (indices other tables
                // are keyed by, addresses).
                written[rng.below(written.len())] & ones(p.width)
            } else if p.ty == ValueType::Dev || lower.contains("port") {
                BigUint::from(1 + rng.below(4) as u32) & ones(p.width)
            } else if rng.chance(35) {
                // Small values meet the small keys of tables keyed by metadata.
                BigUint::from(rng.below(5) as u32) & ones(p.width)
            } else {
                rng.bits(p.width)
            }
        })
        .collect();
    Some(ActionCall {
        action: a.handle,
        params,
    })
}

/// The L3 header's offset and EtherType (past VLAN tags).
fn l3(p: &[u8]) -> Option<(usize, u16)> {
    let mut at = 12;
    loop {
        let t = u16::from_be_bytes([*p.get(at)?, *p.get(at + 1)?]);
        if t == 0x8100 || t == 0x88a8 {
            at += 4;
            continue;
        }
        return Some((at + 2, t));
    }
}

/// Where a field like `f` may sit in `p`: (offset, is a source-side field).
fn slots(p: &[u8], f: &KeyFieldModel) -> Vec<(usize, bool)> {
    let name = f.name.to_ascii_lowercase();
    let src = name.contains("src") || name.contains("peer") || name.contains("sport");
    let mut v = Vec::new();
    let Some((l3, ty)) = l3(p) else {
        return v;
    };
    let ihl = p.get(l3).map(|b| usize::from(b & 0xf) * 4).unwrap_or(20);
    let proto = p.get(l3 + 9).copied().unwrap_or(0);
    match f.ty {
        ValueType::MacAddr => v.push((if src { 6 } else { 0 }, src)),
        ValueType::Ipv4 if ty == 0x0800 => {
            v.push((l3 + if src { 12 } else { 16 }, src));
            if proto == 4 {
                v.push((l3 + ihl + if src { 12 } else { 16 }, src));
            }
            if proto == 17 {
                // VXLAN: UDP, VXLAN, Ethernet, then the inner IPv4 header.
                v.push((l3 + ihl + 8 + 8 + 14 + if src { 12 } else { 16 }, src));
            }
        }
        ValueType::Ipv4 if ty == 0x0806 => v.push((l3 + if src { 14 } else { 24 }, src)),
        ValueType::Ipv6 if ty == 0x86dd => v.push((l3 + if src { 8 } else { 24 }, src)),
        ValueType::Be16 if ty == 0x0800 => v.push((l3 + ihl + if src { 0 } else { 2 }, src)),
        _ if name.contains("proto") && ty == 0x0800 => v.push((l3 + 9, src)),
        _ if name.contains("ttl") && ty == 0x0800 => v.push((l3 + 8, src)),
        _ if name.contains("ethertype") => v.push((12, src)),
        _ => {}
    }
    v
}

/// A value the match accepts.
fn matching_value(rng: &mut Rng, m: &KeyMatch, w: u32) -> BigUint {
    match m {
        KeyMatch::Exact(v) => v.clone(),
        KeyMatch::Lpm { value, prefix_len } => {
            (value & prefix_mask(w, *prefix_len)) | (rng.bits(w) & ones(w - prefix_len))
        }
        KeyMatch::Ternary { value, mask } => (value & mask) | (rng.bits(w) & (ones(w) ^ mask)),
        KeyMatch::Range { low, high } => {
            let span = high - low + 1u8;
            low + (rng.bits(64) % span)
        }
        KeyMatch::Any => rng.bits(w),
    }
}

/// Writes an entry's key values into the packet where the fields seem to be; the input port
/// when a `dev` key asks for one.
fn rewrite(rng: &mut Rng, p: &mut [u8], t: &TableModel, key: &[KeyMatch], port: &mut u32) -> usize {
    let mut written = 0;
    for (f, m) in t.keys.iter().zip(key) {
        let v = matching_value(rng, m, f.width);
        if f.ty == ValueType::Dev {
            *port = u32::try_from(&v).unwrap_or(0);
            written += 1;
            continue;
        }
        if f.width % 8 != 0 {
            continue;
        }
        let n = (f.width / 8) as usize;
        let all = slots(p, f);
        if all.is_empty() {
            continue;
        }
        let (at, _) = all[rng.below(all.len())];
        if at + n > p.len() {
            continue;
        }
        let bytes = v.to_bytes_be();
        let bytes = &bytes[bytes.len().saturating_sub(n)..];
        p[at..at + n].fill(0);
        p[at + n - bytes.len()..at + n].copy_from_slice(bytes);
        written += 1;
    }
    written
}

/// Where a packet went.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Fate {
    Drop,
    ToHost(Vec<u8>),
    Send(u32, Vec<u8>),
}

impl std::fmt::Display for Fate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fate::Drop => write!(f, "drop"),
            Fate::ToHost(b) => write!(f, "to host {}", hex(b)),
            Fate::Send(port, b) => write!(f, "port {port} {}", hex(b)),
        }
    }
}

fn fate(d: Delivery) -> Fate {
    if let Some((port, bytes)) = d.outputs.into_iter().next() {
        Fate::Send(port, bytes)
    } else if let Some(bytes) = d.to_host {
        Fate::ToHost(bytes)
    } else {
        Fate::Drop
    }
}

/// A key, values in hex.
fn show_key(key: &[KeyMatch]) -> String {
    let parts: Vec<String> = key
        .iter()
        .map(|m| match m {
            KeyMatch::Exact(v) => format!("{v:#x}"),
            KeyMatch::Lpm { value, prefix_len } => format!("{value:#x}/{prefix_len}"),
            KeyMatch::Ternary { value, mask } => format!("{value:#x}&&&{mask:#x}"),
            KeyMatch::Range { low, high } => format!("{low:#x}..{high:#x}"),
            KeyMatch::Any => "_".into(),
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

/// An action call, by name, data in hex.
fn show_call(t: &TableModel, call: Option<&ActionCall>) -> String {
    let Some(c) = call else {
        return "(default hit action)".into();
    };
    let name = t.action(c.action).map(|a| a.name.as_str()).unwrap_or("?");
    let params: Vec<String> = c.params.iter().map(|p| format!("{p:#x}")).collect();
    format!("{name}({})", params.join(", "))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// One example's counts.
#[derive(Default)]
struct Counts {
    entries: usize,
    refused_both: usize,
    kernel_limits: usize,
    defaults: usize,
    packets: usize,
    rewritten: usize,
    short_input: usize,
    short_output: usize,
    refused_by_tc: usize,
    sent: usize,
    to_host: usize,
    dropped: usize,
}

#[test]
fn generated_entries_and_packets_agree_on_both_datapaths() {
    if let Some(why) = common::kernel_unavailable() {
        println!("skipped: {why}");
        return;
    }
    let started = std::time::Instant::now();
    let mut failures: Vec<String> = Vec::new();
    let mut total_packets = 0;
    let mut total_entries = 0;
    let mut covered = Vec::new();
    for (name, path) in common::examples() {
        let module = common::module_of(&path);
        if common::control_is_empty(&module) {
            println!("skipped {name}: the front-end produced an empty main control");
            continue;
        }
        let text = std::fs::read_to_string(path.with_extension("stf")).unwrap_or_default();
        let statements = match stf::parse(&text) {
            Ok(s) => s,
            Err(e) => panic!("{name}: the STF file does not parse: {e:?}"),
        };
        let module = Arc::new(module);
        let pipeline = Arc::new(PipelineModel::new(module.clone(), &name).expect("model"));
        // XDP: its test run takes any bytes. TC only for programs that cannot run at XDP.
        let kernel = match KernelTarget::new(pipeline.clone(), Hook::Xdp) {
            Err(e) if e.0.contains("does not support") => {
                println!("note: {name}: not supported at XDP ({e}): run at TC");
                KernelTarget::new(pipeline.clone(), Hook::Tc)
            }
            other => other,
        };
        let mut kernel = match kernel {
            Ok(k) => k,
            Err(e) if e.0.contains("does not support") => {
                println!("skipped {name}: the eBPF backend does not support it: {e}");
                continue;
            }
            Err(e) => {
                failures.push(format!("{name}: the kernel target: {e}"));
                continue;
            }
        };
        let clock = ManualClock::new();
        let backend =
            MemoryBackend::new(pipeline.clone(), Arc::new(clock.clone())).expect("memory");
        let interpreter = p4tc_interp::Interpreter::new(module.clone(), 0).expect("interpreter");
        let mut interp = InterpTarget::new(interpreter, backend, clock, pipeline.clone());

        // The STF file's packets and key values.
        let mut templates: Vec<(u32, Vec<u8>)> = Vec::new();
        let mut stf_keys: Vec<(String, BigUint)> = Vec::new();
        let mut stf_args: Vec<(String, BigUint)> = Vec::new();
        for st in &statements {
            match &st.kind {
                StatementKind::Packet { port, data } => templates.push((*port, data.clone())),
                StatementKind::SetDefault { action, .. } => {
                    for (n, v) in &action.args {
                        stf_args.push((n.clone(), v.value.clone()));
                    }
                }
                StatementKind::Add { keys, action, .. } => {
                    for (n, v) in &action.args {
                        stf_args.push((n.clone(), v.value.clone()));
                    }
                    for k in keys {
                        let v = match &k.value {
                            KeyValue::Value(n) => n.value.clone(),
                            KeyValue::Prefix { value, .. } => value.value.clone(),
                            KeyValue::Mask { value, .. } => value.value.clone(),
                            KeyValue::Range { low, .. } => low.value.clone(),
                        };
                        stf_keys.push((k.name.clone(), v));
                    }
                }
                _ => {}
            }
        }
        if templates.is_empty() {
            // An Ethernet + IPv4 + UDP packet.
            let mut p = vec![0u8; 64];
            p[12] = 0x08;
            p[14] = 0x45;
            p[16] = 0;
            p[17] = 50;
            p[22] = 64;
            p[23] = 17;
            templates.push((0, p));
        }

        let seed = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        let mut rng = Rng(seed);
        let mut counts = Counts::default();
        // Generated entries, per table, for rewriting packets and for the report.
        let mut installed: BTreeMap<usize, Vec<EntrySpec>> = BTreeMap::new();
        let mut log: Vec<String> = Vec::new();
        for (ti, t) in pipeline.tables.iter().enumerate() {
            let pools: Vec<Vec<BigUint>> = t
                .keys
                .iter()
                .map(|f| candidates(f, &stf_keys, &templates))
                .collect();
            let want = (16 + rng.below(49)).min(t.size as usize);
            let mut keys_used: HashSet<Vec<KeyMatch>> = HashSet::new();
            let mut prios_used: HashSet<u32> = HashSet::new();
            for _ in 0..want {
                let key: Vec<KeyMatch> = t
                    .keys
                    .iter()
                    .zip(&pools)
                    .map(|(f, pool)| key_match(&mut rng, f, pool))
                    .collect();
                // One entry per key (the kernel's tuple-space maps hold one value per key).
                if !keys_used.insert(key.clone()) {
                    continue;
                }
                let mut spec = EntrySpec::new(key, action_call(&mut rng, t, false, &stf_args));
                if t.has_priorities() {
                    let mut p = 1 + rng.below(1000) as u32;
                    while !prios_used.insert(p) {
                        p += 1;
                    }
                    spec.priority = Some(Priority(p));
                }
                let a = interp.control().create_entry(t.handle, spec.clone());
                let b = kernel.control().create_entry(t.handle, spec.clone());
                let (ka, kb) = (kind(&a), kind(&b));
                if ka == kb {
                    if ka == "ok" {
                        counts.entries += 1;
                        log.push(format!(
                            "{}: {} prio {:?} -> {}",
                            t.dotted,
                            show_key(&spec.key),
                            spec.priority.map(|p| p.0),
                            show_call(t, spec.action.as_ref())
                        ));
                        installed.entry(ti).or_default().push(spec);
                    } else {
                        counts.refused_both += 1;
                    }
                    continue;
                }
                // KernelBackend's documented limits: mask slots (`@nummask`) and ranges'
                // prefixes filling the map, where MemoryBackend has no limit.
                let has_range = spec.key.iter().any(|m| matches!(m, KeyMatch::Range { .. }));
                let documented = ka == "ok"
                    && ((kb == "invalid" && t.has_priorities()) || (kb == "full" && has_range));
                if documented {
                    counts.kernel_limits += 1;
                    if counts.kernel_limits <= 3 {
                        println!(
                        "note: {name}: {}: the kernel refuses {:?} ({}), a documented limit of KernelBackend; deleted from the memory backend",
                        t.dotted,
                        spec.key,
                        b.as_ref().err().map(|e| e.to_string()).unwrap_or_default()
                    );
                    }
                    interp
                        .control()
                        .delete_entry(t.handle, &spec.key, spec.priority)
                        .expect("delete what was just created");
                    continue;
                }
                failures.push(format!(
                    "{name}: {}: creating {spec:?}: memory {a:?}, kernel {b:?}",
                    t.dotted
                ));
            }
            if !t.default_miss_const && rng.chance(40) {
                if let Some(call) = action_call(&mut rng, t, true, &stf_args) {
                    let a = interp.control().set_default_action(
                        t.handle,
                        DefaultKind::Miss,
                        call.clone(),
                    );
                    let b = kernel.control().set_default_action(
                        t.handle,
                        DefaultKind::Miss,
                        call.clone(),
                    );
                    if kind(&a) != kind(&b) {
                        failures.push(format!(
                            "{name}: {}: default {call:?}: memory {a:?}, kernel {b:?}",
                            t.dotted
                        ));
                    } else if a.is_ok() {
                        counts.defaults += 1;
                        log.push(format!(
                            "{}: default miss {}",
                            t.dotted,
                            show_call(t, Some(&call))
                        ));
                    }
                }
            }
        }

        // Packets.
        let with_entries: Vec<usize> = installed.keys().copied().collect();
        let mut mismatches = Vec::new();
        let mut i = 0;
        while counts.packets + counts.short_input + counts.refused_by_tc < PACKETS {
            let (mut port, mut p) = templates[i % templates.len()].clone();
            i += 1;
            let mut what = Vec::new();
            if !with_entries.is_empty() && rng.chance(60) {
                let ti = with_entries[rng.below(with_entries.len())];
                let list = &installed[&ti];
                let e = &list[rng.below(list.len())];
                let t = &pipeline.tables[ti];
                if rewrite(&mut rng, &mut p, t, &e.key, &mut port) > 0 {
                    counts.rewritten += 1;
                    what.push(format!("keys of {} {}", t.dotted, show_key(&e.key)));
                }
            }
            match rng.below(10) {
                0..=3 => {}
                4 | 5 => {
                    for _ in 0..1 + rng.below(3) {
                        let at = rng.below(p.len().min(80));
                        let b = rng.next() as u8;
                        if at < p.len() {
                            p[at] = b;
                            what.push(format!("byte {at} = {b:#04x}"));
                        }
                    }
                }
                6 => {
                    let cut = rng.below(p.len() + 1);
                    p.truncate(cut);
                    what.push(format!("cut to {cut}"));
                }
                7 => {
                    let n = 1 + rng.below(64);
                    for _ in 0..n {
                        p.push(rng.next() as u8);
                    }
                    what.push(format!("{n} bytes added"));
                }
                8 => {
                    port = rng.below(6) as u32;
                    what.push(format!("port {port}"));
                }
                _ => {
                    let n = 14 + rng.below(100);
                    p = (0..n).map(|_| rng.next() as u8).collect();
                    if rng.chance(50) {
                        p[12] = 0x08;
                        p[13] = 0x00;
                    }
                    what = vec![format!("{n} random bytes")];
                }
            }
            if p.len() < 14 {
                // BPF_PROG_TEST_RUN refuses packets shorter than an Ethernet header.
                counts.short_input += 1;
                continue;
            }
            let theirs = fate(interp.send(port, &p).expect("the interpreter"));
            let ours = match kernel.send(port, &p) {
                Ok(d) => fate(d),
                Err(e) if kernel.hook() == Hook::Tc && e.0.contains("TC's test run refuses") => {
                    // A known kernel limit: TC's test run cannot make an skb of some
                    // malformed packets.
                    counts.refused_by_tc += 1;
                    continue;
                }
                Err(e) => {
                    mismatches.push(format!(
                        "packet on port {port} ({}) {}: the kernel refused it: {e}",
                        what.join(", "),
                        hex(&p)
                    ));
                    continue;
                }
            };
            counts.packets += 1;
            match &theirs {
                Fate::Drop => counts.dropped += 1,
                Fate::ToHost(_) => counts.to_host += 1,
                Fate::Send(..) => counts.sent += 1,
            }
            let short = matches!(&theirs, Fate::Send(_, b) | Fate::ToHost(b) if b.len() < 14);
            if ours == Fate::Drop && short {
                // The kernel keeps at least an Ethernet header (bpf_xdp_adjust_head).
                counts.short_output += 1;
                continue;
            }
            if ours != theirs {
                mismatches.push(format!(
                    "packet on port {port} ({}) {}\n    interpreter: {theirs}\n    eBPF:        {ours}",
                    what.join(", "),
                    hex(&p)
                ));
            }
        }
        total_packets += counts.packets;
        total_entries += counts.entries;
        println!(
            "{name} ({:?}): {} entries, {} defaults set, {} refused by both, {} refused by the kernel's limits; {} packets compared ({} with entries' keys written in; {} sent, {} to the host, {} dropped), {} shorter than 14 bytes not run, {} refused by TC's test run, {} would leave fewer than 14 bytes (kernel drops), {} differ",
            kernel.hook(),
            counts.entries,
            counts.defaults,
            counts.refused_both,
            counts.kernel_limits,
            counts.packets,
            counts.rewritten,
            counts.sent,
            counts.to_host,
            counts.dropped,
            counts.short_input,
            counts.refused_by_tc,
            counts.short_output,
            mismatches.len()
        );
        if !mismatches.is_empty() {
            let mut report = format!(
                "{name}: {} packets differ; entries:\n  {}\n",
                mismatches.len(),
                log.join("\n  ")
            );
            for m in mismatches.iter().take(10) {
                report.push_str(&format!("  {m}\n"));
            }
            failures.push(report);
        }
        covered.push(name);
    }
    println!(
        "differential with generated entries: {} examples ({}), {total_entries} entries, {total_packets} packets, {:?}",
        covered.len(),
        covered.join(", "),
        started.elapsed()
    );
    for f in &failures {
        println!("FAILED {f}");
    }
    assert!(failures.is_empty(), "{} failures", failures.len());
}
