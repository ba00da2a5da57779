//! The examples' STF tests, run on the eBPF datapath under BPF_PROG_TEST_RUN: the testkit's
//! STF runner on `KernelTarget` (entries through `KernelBackend` into the maps, packets through
//! the program, the port from the test hooks). The differential test and the cost test keep a
//! conversion of their own (below) that writes the maps directly.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::collections::HashMap;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;

use num_bigint::BigUint;
use p4tc_ebpf::entry::{self, EntryHead, FLAG_HAS_ACTION};
use p4tc_ebpf::{sys, Generated, Hook, InitKind, Options, Placement, TableSpec};
use p4tc_ir::layout::{MatchKind, TableKind};
use p4tc_runtime::model::{prefix_of_mask, TableModel};
use p4tc_runtime::{ActionCall, KeyMatch, PipelineModel, Priority};
use p4tc_testkit::stf::{self, KeyValue, Number, StatementKind};

/// STF names, read as the memory backend's runner reads them.
mod entries {
    use super::*;

    pub fn table<'p>(p: &'p PipelineModel, name: &str) -> Result<&'p TableModel, String> {
        p.table_by_name(name)
            .ok_or_else(|| format!("no table `{name}`"))
    }

    fn field(t: &TableModel, name: &str) -> Result<usize, String> {
        if let Some((i, _)) = t.key_by_name(name) {
            return Ok(i);
        }
        let suffix = |long: &str, short: &str| {
            long.len() > short.len()
                && long.ends_with(short)
                && long.as_bytes()[long.len() - short.len() - 1] == b'.'
        };
        let found: Vec<usize> = t
            .keys
            .iter()
            .enumerate()
            .filter(|(_, k)| suffix(name, &k.name) || suffix(&k.name, name))
            .map(|(i, _)| i)
            .collect();
        match found.as_slice() {
            [i] => Ok(*i),
            _ => Err(format!("no single key field `{name}` in {}", t.dotted)),
        }
    }

    fn ones(w: u32) -> BigUint {
        (BigUint::from(1u8) << w) - 1u8
    }

    fn care(n: &Number, w: u32) -> BigUint {
        match (&n.care, n.width) {
            (Some(c), Some(written)) => {
                let above = if written < w {
                    ones(w) ^ ones(written)
                } else {
                    BigUint::default()
                };
                (c | above) & ones(w)
            }
            _ => ones(w),
        }
    }

    pub fn key(t: &TableModel, keys: &[stf::Key]) -> Result<Vec<KeyMatch>, String> {
        let mut out = vec![KeyMatch::Any; t.keys.len()];
        for k in keys {
            let i = field(t, &k.name)?;
            let f = &t.keys[i];
            let w = f.width;
            out[i] = match (&k.value, f.match_kind) {
                (KeyValue::Value(n), MatchKind::Lpm) => {
                    let c = care(n, w);
                    let p = prefix_of_mask(&c, w).ok_or("an LPM wildcard that is not a prefix")?;
                    KeyMatch::Lpm {
                        value: &n.value & &c,
                        prefix_len: p,
                    }
                }
                (KeyValue::Value(n), MatchKind::Ternary | MatchKind::Optional) => {
                    let c = care(n, w);
                    KeyMatch::Ternary {
                        value: &n.value & &c,
                        mask: c,
                    }
                }
                (KeyValue::Value(n), _) => KeyMatch::Exact(n.value.clone()),
                (KeyValue::Prefix { value, prefix_len }, _) => KeyMatch::Lpm {
                    value: value.value.clone(),
                    prefix_len: *prefix_len,
                },
                (KeyValue::Mask { value, mask }, MatchKind::Lpm) => KeyMatch::Lpm {
                    value: &value.value & &mask.value,
                    prefix_len: prefix_of_mask(&mask.value, w)
                        .ok_or("an LPM mask that is not a prefix")?,
                },
                (KeyValue::Mask { value, mask }, _) => KeyMatch::Ternary {
                    value: &value.value & &mask.value,
                    mask: mask.value.clone(),
                },
                (KeyValue::Range { low, high }, _) => KeyMatch::Range {
                    low: low.value.clone(),
                    high: high.value.clone(),
                },
            };
        }
        Ok(out)
    }

    pub fn priority(t: &TableModel, written: Option<u32>) -> Option<Priority> {
        if t.has_priorities() {
            written.map(|p| Priority::from_larger_wins(u64::from(p)))
        } else {
            None
        }
    }

    pub fn action(t: &TableModel, call: &stf::ActionCall) -> Result<ActionCall, String> {
        let a = t
            .action_by_name(&call.name)
            .ok_or_else(|| format!("no action `{}` in {}", call.name, t.dotted))?;
        let mut params = vec![BigUint::default(); a.params.len()];
        for (name, v) in &call.args {
            let i = a
                .params
                .iter()
                .position(|p| &p.name == name)
                .ok_or_else(|| format!("no parameter `{name}`"))?;
            params[i] = v.value.clone();
        }
        Ok(ActionCall {
            action: a.handle,
            params,
        })
    }
}

const XDP_PASS: u32 = 2;
const XDP_REDIRECT: u32 = 4;

struct Kernel {
    g: Generated,
    _ebpf: aya::Ebpf,
    prog: OwnedFd,
    maps: HashMap<String, OwnedFd>,
    /// Per masks map: each slot's mask and lowest priority value.
    masks: HashMap<String, Vec<(Vec<u8>, u32)>>,
    next_priority: u32,
}

impl Kernel {
    fn map(&self, name: &str) -> Result<std::os::fd::BorrowedFd<'_>, String> {
        self.maps
            .get(name)
            .map(|f| f.as_fd())
            .ok_or_else(|| format!("no map {name}"))
    }
}

/// The program loaded at `hook` first, the other hook when the program cannot run there.
fn open_at(
    name: &str,
    module: &p4tc_ir::ir::Module,
    placement: Placement,
    hook: Hook,
) -> Result<Kernel, String> {
    // XDP by default: its test run takes any bytes, where TC's refuses malformed IPv4 packets.
    let options = Options {
        test_hooks: true,
        placement,
        ..Options::default()
    };
    let other = if hook == Hook::Xdp {
        Hook::Tc
    } else {
        Hook::Xdp
    };
    let g = match p4tc_ebpf::generate_with(module, name, hook, &options) {
        Ok(g) => g,
        Err(_) => {
            p4tc_ebpf::generate_with(module, name, other, &options).map_err(|e| e.to_string())?
        }
    };
    let dir = common::out_dir("stf", &format!("{name}-{:?}-{placement:?}", g.hook));
    g.write_to(&dir, name).map_err(|e| e.to_string())?;
    let obj = p4tc_ebpf::clang::compile(&dir, name).map_err(|e| e.to_string())?;
    let bytes = std::fs::read(obj).map_err(|e| e.to_string())?;
    let ebpf = common::load(&g, &bytes)?;
    let prog = common::prog_fd(&ebpf, &g);
    let mut maps = HashMap::new();
    for (name, map) in ebpf.maps() {
        let data = match map {
            aya::maps::Map::HashMap(d)
            | aya::maps::Map::LpmTrie(d)
            | aya::maps::Map::Array(d)
            | aya::maps::Map::PerCpuArray(d) => d,
            _ => continue,
        };
        maps.insert(
            name.to_string(),
            data.fd()
                .as_fd()
                .try_clone_to_owned()
                .map_err(|e| e.to_string())?,
        );
    }
    let mut masks: HashMap<String, Vec<(Vec<u8>, u32)>> = HashMap::new();
    for init in &g.const_entries {
        if init.what == InitKind::Mask {
            let min =
                u32::from_ne_bytes([init.value[4], init.value[5], init.value[6], init.value[7]]);
            masks
                .entry(init.map.clone())
                .or_default()
                .push((init.value[8..].to_vec(), min));
        }
    }
    Ok(Kernel {
        g,
        _ebpf: ebpf,
        prog,
        maps,
        masks,
        next_priority: 1 << 20,
    })
}

/// The map keys of an entry (several when a range is stored as prefixes).
fn entry_keys(
    k: &mut Kernel,
    t: &TableSpec,
    key: &[KeyMatch],
    prio: Option<u32>,
) -> Result<Vec<Vec<u8>>, String> {
    // Expand ranges: every combination of one prefix per range field.
    let mut combos: Vec<Vec<KeyMatch>> = vec![Vec::new()];
    for (m, f) in key.iter().zip(&t.key.fields) {
        let alts: Vec<KeyMatch> = match m {
            KeyMatch::Range { low, high } => entry::range_to_prefixes(low, high, f.field.width)
                .into_iter()
                .map(|(value, mask)| KeyMatch::Ternary { value, mask })
                .collect(),
            other => vec![other.clone()],
        };
        let mut next = Vec::new();
        for c in &combos {
            for a in &alts {
                let mut c = c.clone();
                c.push(a.clone());
                next.push(c);
            }
        }
        combos = next;
    }
    combos.iter().map(|c| entry_key(k, t, c, prio)).collect()
}

/// The map key of an entry without ranges.
/// The map key of an entry without ranges; an entry being added with priority `prio` lowers
/// its mask slot's bound.
fn entry_key(
    k: &mut Kernel,
    t: &TableSpec,
    key: &[KeyMatch],
    prio: Option<u32>,
) -> Result<Vec<u8>, String> {
    let mut values = Vec::new();
    let mut masks = Vec::new();
    let mut prefix = None;
    for (m, f) in key.iter().zip(&t.key.fields) {
        let full = (BigUint::from(1u8) << f.field.width) - 1u8;
        let (v, mask) = match m {
            KeyMatch::Exact(v) => (v.clone(), full.clone()),
            KeyMatch::Lpm { value, prefix_len } => {
                if f.match_kind == MatchKind::Lpm {
                    prefix = Some(*prefix_len);
                }
                let mask = f
                    .field
                    .prefix_mask(*prefix_len)
                    .map_err(|e| e.to_string())?;
                (value & &mask, mask)
            }
            KeyMatch::Ternary { value, mask } => (value & mask, mask.clone()),
            KeyMatch::Any => {
                if f.match_kind == MatchKind::Lpm {
                    prefix = Some(0);
                }
                (BigUint::default(), BigUint::default())
            }
            KeyMatch::Range { .. } => return Err("range keys".into()),
        };
        values.push(v);
        masks.push(mask);
    }
    match t.key.kind {
        TableKind::Exact => t.key.encode_key(&values).map_err(|e| e.to_string()),
        TableKind::Lpm => {
            let width = t.key.lpm_field().map(|f| f.field.width).unwrap_or(0);
            t.key
                .encode_lpm_entry(&values, prefix.unwrap_or(width))
                .map_err(|e| e.to_string())
        }
        TableKind::Ternary => {
            let (key, mask) = t
                .key
                .encode_ternary_entry(&values, &masks)
                .map_err(|e| e.to_string())?;
            let masks_map = t.masks_map.clone().ok_or("no masks map")?;
            let list = k.masks.entry(masks_map.clone()).or_default();
            let index = match list.iter().position(|(m, _)| *m == mask) {
                Some(i) => i,
                None => {
                    list.push((mask.clone(), u32::MAX));
                    list.len() - 1
                }
            };
            if let Some(p) = prio {
                let bound = {
                    let slot = &mut list[index];
                    slot.1 = slot.1.min(p);
                    slot.1
                };
                let value = entry::mask_slot(&mask, bound);
                sys::map_update(
                    k.map(&masks_map)?,
                    &(index as u32).to_ne_bytes(),
                    &value,
                    sys::BPF_ANY,
                )
                .map_err(|e| format!("mask: {e}"))?;
            }
            Ok(entry::tuple_key(index as u32, &key))
        }
    }
}

/// Applies one control statement (`add`, `setdefault`, `remove`) to the kernel's maps;
/// false for statements of other kinds.
fn control(
    k: &mut Kernel,
    pipeline: &PipelineModel,
    module: &p4tc_ir::ir::Module,
    st: &stf::Statement,
) -> Result<bool, String> {
    let line = st.line;
    match &st.kind {
        StatementKind::Add {
            table,
            priority,
            keys,
            action,
            ..
        } => {
            let tm = entries::table(pipeline, table)?;
            let key = entries::key(tm, keys)?;
            let call = entries::action(tm, action)?;
            let spec =
                k.g.tables
                    .iter()
                    .find(|t| t.table == tm.handle)
                    .cloned()
                    .ok_or("table")?;
            let prio = match entries::priority(tm, *priority) {
                Some(p) => p.0,
                None => {
                    k.next_priority += 1;
                    k.next_priority
                }
            };
            let map_keys = entry_keys(k, &spec, &key, Some(prio))?;
            let params = p4tc_ir::layout::action_param_layout(module, call.action)
                .map(|l| l.encode(&call.params))
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
            let id = spec
                .actions
                .iter()
                .find(|(a, _)| *a == call.action)
                .map(|(_, id)| *id)
                .ok_or("action id")?;
            let head = EntryHead {
                action: id,
                permissions: spec.permissions & !((1 << 13) | (1 << 6)),
                flags: FLAG_HAS_ACTION,
                priority: prio,
                ..EntryHead::default()
            };
            let value = spec.value.encode(&head, &params)?;
            for map_key in &map_keys {
                p4tc_ebpf::table_map::write(k.map(&spec.map)?, &spec, map_key, &value)
                    .map_err(|e| format!("line {line}: add: {e}"))?;
            }
        }
        StatementKind::SetDefault { table, action } => {
            let tm = entries::table(pipeline, table)?;
            let call = entries::action(tm, action)?;
            let spec =
                k.g.tables
                    .iter()
                    .find(|t| t.table == tm.handle)
                    .cloned()
                    .ok_or("table")?;
            let params = p4tc_ir::layout::action_param_layout(module, call.action)
                .map_err(|e| e.to_string())?
                .encode(&call.params)
                .map_err(|e| e.to_string())?;
            let id = spec
                .actions
                .iter()
                .find(|(a, _)| *a == call.action)
                .map(|(_, id)| *id)
                .unwrap_or(0);
            let head = EntryHead {
                action: id,
                permissions: spec.permissions,
                flags: FLAG_HAS_ACTION,
                ..EntryHead::default()
            };
            let value = spec.value.encode(&head, &params)?;
            sys::map_update(
                k.map(&spec.defaults_map)?,
                &entry::DEFAULT_MISS.to_ne_bytes(),
                &value,
                sys::BPF_ANY,
            )
            .map_err(|e| format!("line {line}: setdefault: {e}"))?;
        }
        StatementKind::Remove(stf::RemoveTarget::Entry { table, keys }) => {
            let tm = entries::table(pipeline, table)?;
            let key = entries::key(tm, keys)?;
            let spec =
                k.g.tables
                    .iter()
                    .find(|t| t.table == tm.handle)
                    .cloned()
                    .ok_or("table")?;
            for map_key in entry_keys(k, &spec, &key, None)? {
                p4tc_ebpf::table_map::delete(k.map(&spec.map)?, &spec, &map_key)
                    .map_err(|e| format!("line {line}: remove: {e}"))?;
            }
        }
        StatementKind::Remove(stf::RemoveTarget::All) => {
            return Err("`remove all` is not handled by this runner".into());
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// Where a packet went.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Fate {
    Drop,
    ToHost(Vec<u8>),
    Send(u32, Vec<u8>),
}

/// Runs one packet through the kernel's program.
fn send(k: &Kernel, port: u32, data: &[u8]) -> Result<Fate, std::io::Error> {
    let io = k.map("p4tc_test_io").map_err(std::io::Error::other)?;
    let mut v = [0u8; 16];
    v[0..4].copy_from_slice(&port.to_ne_bytes());
    sys::map_update(io, &0u32.to_ne_bytes(), &v, sys::BPF_ANY)?;
    let run = sys::test_run(k.prog.as_fd(), data, 1)?;
    let got = sys::map_lookup(io, &0u32.to_ne_bytes())?;
    let egress = u32::from_ne_bytes([got[4], got[5], got[6], got[7]]);
    let (redirect, pass) = match k.g.hook {
        Hook::Tc => (common::TC_ACT_REDIRECT, common::TC_ACT_OK),
        Hook::Xdp => (XDP_REDIRECT, XDP_PASS),
    };
    Ok(if run.retval == redirect {
        Fate::Send(egress, run.data)
    } else if run.retval == pass {
        Fate::ToHost(run.data)
    } else {
        Fate::Drop
    })
}

/// What one STF file gave: failures, and notes on what could not be checked.
struct Outcome {
    failures: Vec<String>,
    notes: Vec<String>,
}

/// Where the eBPF datapath differs from the STF tests by design (the kernel's limits), by
/// example and line of the `expect`.
const KNOWN: &[(&str, usize, &str)] = &[(
    "vxlan_decap",
    43,
    "bpf_xdp_adjust_head refuses to leave fewer than 14 bytes (an Ethernet header) in the packet",
)];

/// Examples whose programs the verifier refuses as too complex with Placement::Map.
const MAP_PLACEMENT_TOO_COMPLEX: &[&str] = &["mpls_label_stack", "vlan_tagging"];

/// Runs one STF file with the generic runner on a `KernelTarget` (XDP first: its test run
/// takes any bytes, where TC's refuses malformed IPv4 packets; TC when the program cannot run
/// at XDP). Control statements go through `KernelBackend`.
fn run_stf(
    name: &str,
    module: Arc<p4tc_ir::ir::Module>,
    text: &str,
    placement: Placement,
) -> Result<Outcome, String> {
    use p4tc_testkit::kernel_target::KernelTarget;
    use p4tc_testkit::stf_run::{self, FailureKind};
    let statements = stf::parse(text).map_err(|e| format!("{e:?}"))?;
    let pipeline = Arc::new(PipelineModel::new(module, name).map_err(|e| e.to_string())?);
    let mut target = match KernelTarget::with_placement(pipeline.clone(), Hook::Xdp, placement) {
        Ok(t) => t,
        Err(e) if e.0.contains("does not support") => {
            KernelTarget::with_placement(pipeline, Hook::Tc, placement).map_err(|e| e.0)?
        }
        Err(e) => return Err(e.0),
    };
    let report = stf_run::run(&statements, &mut target);
    let mut failures = Vec::new();
    let mut notes = Vec::new();
    if let Some((line, why)) = &report.stopped {
        notes.push(format!("stopped at line {line}: {why}"));
    }
    for f in &report.failures {
        if let Some((_, _, why)) = KNOWN.iter().find(|(n, l, _)| *n == name && *l == f.line) {
            notes.push(format!("line {}: not checked: {why}", f.line));
            continue;
        }
        match &f.kind {
            // The test run itself refuses some packets (XDP: shorter than an Ethernet
            // header): nothing to check.
            FailureKind::Target(message) if message.contains("BPF_PROG_TEST_RUN refused") => {
                notes.push(format!("line {}: {message}", f.line));
            }
            _ => failures.push(format!("line {}: {}", f.line, f.describe())),
        }
    }
    Ok(Outcome { failures, notes })
}

#[test]
fn examples_pass_their_stf_tests_on_the_ebpf_datapath() {
    if let Some(why) = common::kernel_unavailable() {
        println!("skipped: {why}");
        return;
    }
    let mut failed = Vec::new();
    let mut passed = Vec::new();
    let mut skipped = Vec::new();
    for (name, path) in common::examples() {
        let stf_path = path.with_extension("stf");
        let Ok(text) = std::fs::read_to_string(&stf_path) else {
            continue;
        };
        let module = common::module_of(&path);
        if common::control_is_empty(&module) {
            skipped.push(format!(
                "{name}: the front-end produced an empty main control"
            ));
            continue;
        }
        let module = Arc::new(module);
        // Once as generated, once with the headers in the per-CPU scratch map.
        let first = run_stf(&name, module.clone(), &text, Placement::Auto);
        // Header stacks in map memory make the verifier explore too many deparser paths (it
        // cannot see their validity bits): a known limit of Placement::Map.
        let second = if MAP_PLACEMENT_TOO_COMPLEX.contains(&name.as_str()) {
            println!(
                "note: {name}: not run with the headers in a map (the verifier's complexity limit)"
            );
            Ok(Outcome {
                failures: Vec::new(),
                notes: Vec::new(),
            })
        } else {
            run_stf(&name, module, &text, Placement::Map)
        };
        let both = match (first, second) {
            (Ok(mut a), Ok(b)) => {
                a.failures.extend(
                    b.failures
                        .into_iter()
                        .map(|f| format!("(headers in a map) {f}")),
                );
                Ok(a)
            }
            (Err(e), _) | (_, Err(e)) => Err(e),
        };
        match both {
            Ok(o) => {
                for n in &o.notes {
                    println!("note: {name}: {n}");
                }
                if o.failures.is_empty() {
                    passed.push(name);
                } else {
                    failed.push(format!("{name}:\n  {}", o.failures.join("\n  ")));
                }
            }
            Err(e) if e.contains("does not support") => skipped.push(format!("{name}: {e}")),
            Err(e) => failed.push(format!("{name}: {e}")),
        }
    }
    println!(
        "STF on eBPF: {} passed: {}",
        passed.len(),
        passed.join(", ")
    );
    for s in &skipped {
        println!("not run: {s}");
    }
    for f in &failed {
        println!("FAILED {f}");
    }
    assert!(
        failed.is_empty(),
        "{} examples failed their STF tests",
        failed.len()
    );
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// The STF packet and variants of it: cut short at header boundaries and at random, with
/// random bytes changed in its headers.
fn variants(p: &[u8], rng: &mut Rng) -> Vec<(String, Vec<u8>)> {
    let mut v = vec![("as written".to_string(), p.to_vec())];
    for cut in [
        14usize,
        18,
        20,
        22,
        34,
        38,
        42,
        54,
        p.len().saturating_sub(1),
        p.len() / 2,
    ] {
        if cut >= 14 && cut < p.len() {
            v.push((format!("cut to {cut} bytes"), p[..cut].to_vec()));
        }
    }
    for _ in 0..12 {
        let mut q = p.to_vec();
        let span = q.len().min(64);
        let at = rng.below(span);
        let byte = rng.next() as u8;
        q[at] = byte;
        v.push((format!("byte {at} = {byte:#04x}"), q));
    }
    v
}

fn interp_fate(d: p4tc_testkit::target::Delivery) -> Fate {
    if let Some((port, bytes)) = d.outputs.into_iter().next() {
        Fate::Send(port, bytes)
    } else if let Some(bytes) = d.to_host {
        Fate::ToHost(bytes)
    } else {
        Fate::Drop
    }
}

#[test]
fn the_ebpf_datapath_agrees_with_the_interpreter_on_varied_packets() {
    use p4tc_testkit::target::Target;
    if let Some(why) = common::kernel_unavailable() {
        println!("skipped: {why}");
        return;
    }
    let mut compared = 0usize;
    let mut known = 0usize;
    let mut mismatches = Vec::new();
    let mut checked = Vec::new();
    for (name, path) in common::examples() {
        let Ok(text) = std::fs::read_to_string(path.with_extension("stf")) else {
            continue;
        };
        let module = Arc::new(common::module_of(&path));
        if common::control_is_empty(&module) {
            continue;
        }
        let Ok(statements) = stf::parse(&text) else {
            continue;
        };
        let pipeline = match PipelineModel::new(module.clone(), &name) {
            Ok(p) => Arc::new(p),
            Err(e) => panic!("{name}: {e}"),
        };
        for hook in [Hook::Xdp, Hook::Tc] {
            let mut k = match open_at(&name, &module, Placement::Auto, hook) {
                Ok(k) => k,
                Err(e) if e.contains("does not support") => continue,
                Err(e) => panic!("{name}: {e}"),
            };
            if k.g.hook != hook {
                continue;
            }
            let clock = p4tc_runtime::ManualClock::new();
            let backend =
                p4tc_runtime::MemoryBackend::new(pipeline.clone(), Arc::new(clock.clone()))
                    .expect("a memory backend");
            let interpreter =
                p4tc_interp::Interpreter::new(module.clone(), 0).expect("an interpreter");
            let mut interp = p4tc_testkit::interp_target::InterpTarget::new(
                interpreter,
                backend,
                clock,
                pipeline.clone(),
            );
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ name.len() as u64);
            for st in &statements {
                match &st.kind {
                    StatementKind::Wait => break,
                    StatementKind::Packet { port, data } => {
                        for (what, packet) in variants(data, &mut rng) {
                            let Ok(ours) = send(&k, *port, &packet) else {
                                continue;
                            };
                            let theirs =
                                interp_fate(interp.send(*port, &packet).expect("interpreter"));
                            compared += 1;
                            let short = matches!(&theirs, Fate::Send(_, b) | Fate::ToHost(b) if b.len() < 14);
                            if ours == Fate::Drop && short {
                                // The kernel keeps at least an Ethernet header: a packet cut
                                // shorter than 14 bytes cannot leave (known, by design).
                                known += 1;
                                continue;
                            }
                            if ours != theirs {
                                mismatches.push(format!(
                                "{name} at {hook:?}, line {} ({what}): eBPF {ours:02x?}, interpreter {theirs:02x?}",
                                st.line
                            ));
                            }
                        }
                    }
                    _ => {
                        if control(&mut k, &pipeline, &module, st).expect("control statement") {
                            let report =
                                p4tc_testkit::stf_run::run(std::slice::from_ref(st), &mut interp);
                            assert!(
                                report.passed(),
                                "{name} line {}: the interpreter refused it",
                                st.line
                            );
                        }
                    }
                }
            }
            checked.push(format!("{name} ({hook:?})"));
        }
    }
    println!(
        "eBPF vs interpreter: {compared} packets over {} programs, {} differ ({known} more would leave fewer than 14 bytes, which the kernel refuses)",
        checked.len(),
        mismatches.len()
    );
    for m in mismatches.iter().take(400) {
        println!("DIFFERS {m}");
    }
    assert!(mismatches.is_empty(), "{} packets differ", mismatches.len());
}

/// Time per packet of each example's first forwarded STF packet (hit paths of exact, LPM and
/// ternary tables with the entries the STF file installs), at XDP and TC: printed, for the
/// record; the verdict is checked, not the time.
#[test]
fn hit_path_costs() {
    if let Some(why) = common::kernel_unavailable() {
        println!("skipped: {why}");
        return;
    }
    for name in [
        "simple_l3",
        "lpm_routing",
        "ipv6_forwarding",
        "ternary_acl",
        "stateful_firewall",
    ] {
        let path = common::examples_dir().join(name).join(format!("{name}.p4"));
        let Ok(text) = std::fs::read_to_string(path.with_extension("stf")) else {
            continue;
        };
        let module = Arc::new(common::module_of(&path));
        if common::control_is_empty(&module) {
            continue;
        }
        let statements = stf::parse(&text).expect("parses");
        let pipeline = PipelineModel::new(module.clone(), name).expect("model");
        for hook in [Hook::Xdp, Hook::Tc] {
            let mut k = open_at(name, &module, Placement::Auto, hook).expect("open");
            let mut timed = None;
            for st in &statements {
                match &st.kind {
                    StatementKind::Wait => break,
                    StatementKind::Packet { port, data } => {
                        if let Ok(Fate::Send(..)) = send(&k, *port, data) {
                            timed = Some((*port, data.clone()));
                            break;
                        }
                    }
                    _ => {
                        control(&mut k, &pipeline, &module, st).expect("control");
                    }
                }
            }
            let Some((port, data)) = timed else {
                continue;
            };
            let io = k.map("p4tc_test_io").expect("io");
            let mut v = [0u8; 16];
            v[0..4].copy_from_slice(&port.to_ne_bytes());
            sys::map_update(io, &0u32.to_ne_bytes(), &v, sys::BPF_ANY).expect("io");
            let mut ns: Vec<u32> = (0..5)
                .map(|_| {
                    sys::test_run(k.prog.as_fd(), &data, 200_000)
                        .expect("run")
                        .duration_ns
                })
                .collect();
            ns.sort_unstable();
            println!(
                "{name} at {hook:?}: hit path {} ns/packet (median of 5 x 200000, runs {ns:?}; includes the test hooks' map lookup)",
                ns[2]
            );
        }
    }
}
