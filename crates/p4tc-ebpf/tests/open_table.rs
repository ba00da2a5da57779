//! Exact tables kept as open addressing: the datapath's probe (generated C) and the control
//! plane's (Rust) agree on every key through creates, updates, deletes and refusals in a table
//! crowded enough for keys to share home slots, and in a table of one-byte keys, which index
//! their slots directly; a table the datapath adds entries to stays a hash map; and a reload
//! moves the entries of a table an earlier p4tc kept in a hash map into the slots.
//!
//! The kernel tests need root, BTF and clang; they skip with the reason otherwise.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::collections::BTreeMap;
use std::os::fd::AsFd;
use std::sync::Arc;

use num_bigint::BigUint;
use p4tc_ebpf::backend::KernelBackend;
use p4tc_ebpf::{ExactTables, Hook, Options};
use p4tc_ir::arena::Handle;
use p4tc_ir::ir;
use p4tc_runtime::{ActionCall, EntrySpec, KeyMatch, ObjectModel, PipelineModel, RuntimeError};
use p4tc_testkit::kernel_target::KernelTarget;
use p4tc_testkit::target::Target;

/// `t`: exact on the 6-byte destination (hashed as a 4-byte and a 2-byte chunk), `size`
/// entries; a hit sends to the entry's port, a miss drops.
fn program(size: u32) -> String {
    common::forward_control("exact", size)
}

/// The destination's last byte: a one-byte key, its own index in the slots.
const LAST_BYTE: &str = "hdr.ethernet.dstAddr[7:0]";

fn n(v: u64) -> BigUint {
    BigUint::from(v)
}

fn model(name: &str) -> Arc<PipelineModel> {
    common::ethernet_model("open_table", name, &program(16))
}

/// The key of destination `dst` in a table keyed on `key` (all of it, or [`LAST_BYTE`]).
fn key_of(key: &str, dst: u64) -> u64 {
    if key == LAST_BYTE {
        dst & 0xff
    } else {
        dst
    }
}

fn entry(fwd: Handle<ir::Action>, dst: u64, port: u64) -> EntrySpec {
    EntrySpec::new(
        vec![KeyMatch::Exact(n(dst))],
        Some(ActionCall {
            action: fwd,
            params: vec![n(port)],
        }),
    )
}

/// xorshift64: repeatable pseudo-random steps without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn the_datapath_finds_what_the_control_plane_wrote_in_the_slots() {
    // 40 destinations for 16 entries in 32 slots: keys share home slots and runs, creates
    // meet full tables, deletes leave deleted slots in the middle of runs.
    let keys: Vec<u64> = (0..40u64)
        .map(|i| 0x0200_0000_0000 | i.wrapping_mul(0x9e37_79b9) & 0xffff_ffff)
        .collect();
    probes_agree("probes", "hdr.ethernet.dstAddr", &keys);
}

/// One-byte keys index their slots: creates, updates (each moves the entry to the key's
/// other slot), deletes and refusals, all found by the datapath at the key's own slots.
#[test]
fn one_byte_keys_are_found_at_their_own_index() {
    let control = common::forward_control_on(LAST_BYTE, "exact", 16);
    let p = common::ethernet_model("open_table", "direct-layout", &control);
    let g = p4tc_ebpf::generate(&p.module, "direct", Hook::Tc).expect("generate");
    let layout = g.tables[0].open.expect("an open table");
    assert!(
        layout.is_direct() && layout.probe_limit() == 2,
        "{layout:?}"
    );
    assert!(g.c.contains("/* its own index */"), "the lookup hashes");
    // Distinct last bytes (37 is odd).
    let keys: Vec<u64> = (0..40u64)
        .map(|i| 0x0200_0000_0000 | (i * 37 % 256))
        .collect();
    probes_agree("direct", LAST_BYTE, &keys);
}

/// 300 random creates, updates and deletes of the destinations `keys` in table `t` of 16
/// entries keyed on `key_expr`: after each, every destination's packet goes where a model of
/// the table says.
fn probes_agree(name: &str, key_expr: &str, keys: &[u64]) {
    if let Some(why) = common::kernel_unavailable() {
        println!("skipped: {why}");
        return;
    }
    let p = common::ethernet_model(
        "open_table",
        name,
        &common::forward_control_on(key_expr, "exact", 16),
    );
    let (table, fwd) = common::forward_handles(&p);
    let mut target = KernelTarget::new(p.clone(), Hook::Tc).expect("kernel target");
    let mut model: BTreeMap<u64, u64> = BTreeMap::new();
    let mut rng = Rng(0x005e_ed0f_0a11);
    let (mut creates, mut fulls, mut updates, mut deletes) = (0, 0, 0, 0);
    for step in 0..300 {
        let key = keys[rng.below(keys.len() as u64) as usize];
        let port = 1 + rng.below(200);
        let what = rng.below(3);
        let c = target.control();
        match (what, model.contains_key(&key)) {
            (0, false) => match c.create_entry(table, entry(fwd, key_of(key_expr, key), port)) {
                Ok(()) => {
                    assert!(model.len() < 16, "step {step}: a create past the size");
                    model.insert(key, port);
                    creates += 1;
                }
                Err(RuntimeError::Full { .. }) => {
                    assert_eq!(model.len(), 16, "step {step}: Full with room");
                    fulls += 1;
                }
                Err(e) => panic!("step {step}: create {key:x}: {e}"),
            },
            (0, true) => assert!(
                matches!(
                    c.create_entry(table, entry(fwd, key_of(key_expr, key), port)),
                    Err(RuntimeError::Exists { .. })
                ),
                "step {step}: a second create of {key:x}"
            ),
            (1, true) => {
                c.update_entry(table, entry(fwd, key_of(key_expr, key), port))
                    .unwrap_or_else(|e| panic!("step {step}: update {key:x}: {e}"));
                model.insert(key, port);
                updates += 1;
            }
            (_, true) => {
                c.delete_entry(table, &[KeyMatch::Exact(n(key_of(key_expr, key)))], None)
                    .unwrap_or_else(|e| panic!("step {step}: delete {key:x}: {e}"));
                model.remove(&key);
                deletes += 1;
            }
            (_, false) => assert!(
                matches!(
                    c.delete_entry(table, &[KeyMatch::Exact(n(key_of(key_expr, key)))], None),
                    Err(RuntimeError::NotFound { .. })
                ),
                "step {step}: delete of absent {key:x}"
            ),
        }
        // Every destination, present or not, goes where the model says.
        for &k in keys {
            let d = target.send(0, &common::frame_to(k)).expect("send");
            match model.get(&k) {
                Some(&port) => assert_eq!(
                    d.outputs.iter().map(|o| o.0).collect::<Vec<_>>(),
                    [port as u32],
                    "step {step}: {k:x} should go to {port}"
                ),
                None => assert!(d.is_drop(), "step {step}: {k:x} is absent: {d:?}"),
            }
        }
        assert_eq!(
            target.control().dump(table).expect("dump").len(),
            model.len(),
            "step {step}: the dump"
        );
    }
    println!("{creates} creates, {fulls} refused as full, {updates} updates, {deletes} deletes");
    assert!(creates > 30 && fulls > 0 && updates > 10 && deletes > 10);
}

#[test]
fn tables_the_datapath_adds_entries_to_stay_hash_maps() {
    let path = common::examples_dir().join("stateful_firewall/stateful_firewall.p4");
    let module = common::module_of(&path);
    let g = p4tc_ebpf::generate(&module, "stateful_firewall", Hook::Tc).expect("generates");
    let kinds: Vec<(String, bool)> = g
        .tables
        .iter()
        .map(|t| (t.name.clone(), t.open.is_some()))
        .collect();
    // conntrack learns flows with add_entry; zone_of_port only the control plane writes
    // (routes is an LPM table).
    assert_eq!(
        kinds,
        [
            ("FwControl/zone_of_port".to_string(), true),
            ("FwControl/conntrack".to_string(), false),
            ("FwControl/routes".to_string(), false),
        ]
    );
    let hashed = p4tc_ebpf::generate_with(
        &module,
        "stateful_firewall",
        Hook::Tc,
        &Options {
            exact_tables: ExactTables::Hash,
            ..Options::default()
        },
    )
    .expect("generates");
    assert!(hashed.tables.iter().all(|t| t.open.is_none()));
}

#[test]
fn a_reload_moves_an_earlier_hash_table_into_the_slots() {
    reload_keeps_the_entries("upgrade", (16, ExactTables::Hash), (16, ExactTables::Open));
}

#[test]
fn a_reload_with_another_size_moves_the_entries_to_their_new_homes() {
    reload_keeps_the_entries("resize", (16, ExactTables::Open), (64, ExactTables::Open));
}

/// A direct table's reload puts each entry in its key's own slots again, entry by entry (a
/// table an earlier p4tc pinned had them where the key's hash said).
#[test]
fn a_reload_of_one_byte_keys_keeps_them_at_their_own_index() {
    reload_keeps_the_entries_of(
        "direct-reload",
        LAST_BYTE,
        (16, ExactTables::Open),
        (16, ExactTables::Open),
    );
}

/// Loads `t` of size and layout `old`, pins it with twelve entries, loads it again as `new`
/// and restores from the pins: the entries are all there, found by the datapath, and count
/// against the new size.
fn reload_keeps_the_entries(name: &str, old: (u32, ExactTables), new: (u32, ExactTables)) {
    reload_keeps_the_entries_of(name, "hdr.ethernet.dstAddr", old, new);
}

/// [`reload_keeps_the_entries`] for `t` keyed on `key_expr`.
fn reload_keeps_the_entries_of(
    name: &str,
    key_expr: &str,
    old: (u32, ExactTables),
    new: (u32, ExactTables),
) {
    if let Some(why) = common::pinning_unavailable() {
        println!("skipped: {why}");
        return;
    }
    let bpffs = std::path::Path::new(common::BPFFS);
    let build = |(size, layout): (u32, ExactTables)| {
        let control = common::forward_control_on(key_expr, "exact", size);
        let p = common::ethernet_model("open_table", name, &control);
        let (g, bytes) = common::build_with(
            name,
            &p.module,
            Hook::Tc,
            &format!("open_table_{name}_{size}"),
            &Options {
                exact_tables: layout,
                ..Options::default()
            },
        )
        .expect("builds");
        (p, g, bytes)
    };
    let (old_p, old_g, old_bytes) = build(old);
    let (new_p, new_g, new_bytes) = build(new);
    let (table, fwd) = common::forward_handles(&old_p);
    assert_eq!(old_g.tables[0].open.is_some(), old.1 == ExactTables::Open);
    assert_eq!(new_g.tables[0].open.is_some(), new.1 == ExactTables::Open);

    let dir = bpffs.join(format!("p4tc-open-table-{name}-{}", std::process::id()));
    let loaded = p4tc_ebpf::loader::load(&old_bytes, &old_g).expect("load");
    let mut k = KernelBackend::from_loaded(old_p.clone(), &loaded).expect("backend");
    let want: Vec<(u64, u64)> = (0..12u64).map(|i| (0x0a00_0000_0000 + i, 10 + i)).collect();
    for &(dst, port) in &want {
        k.create_entry(table, entry(fwd, key_of(key_expr, dst), port))
            .expect("create");
    }
    drop(k);
    loaded.pin_maps(&dir).expect("pin");
    drop(loaded);

    let (loaded, copied) = common::load_and_restore(&new_bytes, &new_g, &dir);
    assert!(
        copied
            .iter()
            .any(|(map, n)| *map == new_g.tables[0].map && *n == want.len()),
        "{copied:?}"
    );
    let (table, fwd) = common::forward_handles(&new_p);
    let mut k = KernelBackend::from_loaded(new_p.clone(), &loaded).expect("backend");
    let mut got: Vec<(u64, u64)> = k
        .dump(table)
        .expect("dump")
        .into_iter()
        .map(|e| {
            let dst = match &e.spec.key[0] {
                KeyMatch::Exact(v) => u64::try_from(v).expect("48 bits"),
                other => panic!("{other:?}"),
            };
            let port = u64::try_from(&e.spec.action.expect("action").params[0]).expect("port");
            (dst, port)
        })
        .collect();
    got.sort_unstable();
    let keyed: Vec<(u64, u64)> = want
        .iter()
        .map(|&(dst, port)| (key_of(key_expr, dst), port))
        .collect();
    assert_eq!(got, keyed);
    // And the datapath finds them: a hit redirects, a miss drops.
    let prog = loaded.program_fd().expect("program");
    for &(dst, _) in &want {
        let run = p4tc_ebpf::sys::test_run(prog.as_fd(), &common::frame_to(dst), 1).expect("run");
        assert_eq!(run.retval, common::TC_ACT_REDIRECT, "{dst:x}");
    }
    let run = p4tc_ebpf::sys::test_run(prog.as_fd(), &common::frame_to(0x0a00_0000_00ff), 1)
        .expect("run");
    assert_eq!(run.retval, common::TC_ACT_SHOT, "absent");
    // The moved entries count against the new size: it fills up after size - 12 more.
    let room = new.0 as u64 - want.len() as u64;
    // (Last bytes apart from the first twelve, for a table keyed on them.)
    for i in 0..room {
        k.create_entry(table, entry(fwd, key_of(key_expr, 0x0b00_0000_0040 + i), 1))
            .expect("room for more");
    }
    assert!(matches!(
        k.create_entry(table, entry(fwd, key_of(key_expr, 0x0c00_0000_00f0), 1)),
        Err(RuntimeError::Full { .. })
    ));
}

/// Two writers (two backends, as two processes would have) creating overlapping keys at the
/// same time: each key goes in once, and the table counts what it holds.
#[test]
fn concurrent_writers_take_turns() {
    if let Some(why) = common::kernel_unavailable() {
        println!("skipped: {why}");
        return;
    }
    let control = program(8192);
    let p = common::ethernet_model("open_table", "concurrent", &control);
    let (table, fwd) = common::forward_handles(&p);
    let (g, bytes) =
        common::build("concurrent", &p.module, Hook::Tc, "open_table_concurrent").expect("builds");
    let loaded = p4tc_ebpf::loader::load(&bytes, &g).expect("load");
    // Both writers create the same 3,000 keys in the same order, from the same moment: the
    // first 1,000 one by one (each create races the other's for the same key and the same
    // free slot), the rest in batches; then writer 1 alone 3,000..4,500.
    let start = std::sync::Barrier::new(2);
    let outcomes: Vec<(usize, usize)> = std::thread::scope(|s| {
        let runs: Vec<_> = (0..2u64)
            .map(|w| {
                let mut k = KernelBackend::from_loaded(p.clone(), &loaded).expect("backend");
                let start = &start;
                s.spawn(move || {
                    let mut keys: Vec<u64> = (0..3000).collect();
                    if w == 1 {
                        keys.extend(3000..4500);
                    }
                    start.wait();
                    let (mut made, mut there) = (0, 0);
                    let mut count = |r: Result<(), RuntimeError>| match r {
                        Ok(()) => made += 1,
                        Err(RuntimeError::Exists { .. }) => there += 1,
                        Err(e) => panic!("writer {w}: {e}"),
                    };
                    for &key in &keys[..1000] {
                        count(k.create_entry(table, entry(fwd, 0x0a00_0000_0000 + key, 1 + w)));
                    }
                    let batch = keys[1000..]
                        .iter()
                        .map(|&key| entry(fwd, 0x0a00_0000_0000 + key, 1 + w))
                        .collect();
                    for r in k.create_entries(table, batch) {
                        count(r);
                    }
                    (made, there)
                })
            })
            .collect();
        runs.into_iter()
            .map(|r| r.join().expect("writer"))
            .collect()
    });
    let made: usize = outcomes.iter().map(|o| o.0).sum();
    let there: usize = outcomes.iter().map(|o| o.1).sum();
    assert_eq!((made, there), (4500, 3000), "{outcomes:?}");
    let k = KernelBackend::from_loaded(p.clone(), &loaded).expect("backend");
    let dump = k.dump(table).expect("dump");
    let mut keys: Vec<u64> = dump
        .iter()
        .map(|e| match &e.spec.key[0] {
            KeyMatch::Exact(v) => u64::try_from(v).expect("48 bits") - 0x0a00_0000_0000,
            other => panic!("{other:?}"),
        })
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, (0..4500).collect::<Vec<u64>>(), "each key once");
    let table_spec = g.tables.iter().find(|t| t.open.is_some()).expect("open");
    let fd = loaded.map_fd(&table_spec.map).expect("map");
    assert_eq!(
        p4tc_ebpf::table_map::count(fd.as_fd()).expect("count"),
        4500
    );
    // And the datapath finds every one.
    let prog = loaded.program_fd().expect("program");
    for key in (0..4500u64).step_by(7) {
        let run =
            p4tc_ebpf::sys::test_run(prog.as_fd(), &common::frame_to(0x0a00_0000_0000 + key), 1)
                .expect("run");
        assert_eq!(run.retval, common::TC_ACT_REDIRECT, "{key}");
    }
}

/// Ten keys with one home slot: the datapath finds the ones past its inline probes (in the
/// bpf_loop callback) and walks past deleted slots to them; a key of that home that is not
/// there misses.
#[test]
fn a_long_run_is_probed_past_the_inline_probes() {
    if let Some(why) = common::kernel_unavailable() {
        println!("skipped: {why}");
        return;
    }
    let p = model("long_run");
    let (table, fwd) = common::forward_handles(&p);
    let g = p4tc_ebpf::generate(&p.module, "long_run", Hook::Tc).expect("generates");
    let spec = g.tables.iter().find(|t| t.name.ends_with("/t")).expect("t");
    let layout = spec.open.expect("an open table");
    let home = |dst: u64| {
        let key = spec.key.encode_key(&[n(dst)]).expect("key");
        layout.home(&key)
    };
    let target_home = home(0x0300_0000_0000);
    let same: Vec<u64> = (0x0300_0000_0000u64..)
        .filter(|&d| home(d) == target_home)
        .take(11)
        .collect();
    let (present, absent) = (&same[..10], same[10]);
    let mut target = KernelTarget::new(p.clone(), Hook::Tc).expect("kernel target");
    for (i, &dst) in present.iter().enumerate() {
        target
            .control()
            .create_entry(table, entry(fwd, dst, 10 + i as u64))
            .expect("create");
    }
    let check = |target: &mut KernelTarget, live: &[(usize, u64)]| {
        for &(i, dst) in live {
            let d = target.send(0, &common::frame_to(dst)).expect("send");
            assert_eq!(
                d.outputs.iter().map(|o| o.0).collect::<Vec<_>>(),
                [10 + i as u32],
                "entry {i} of the run"
            );
        }
        assert!(target
            .send(0, &common::frame_to(absent))
            .expect("send")
            .is_drop());
    };
    let all: Vec<(usize, u64)> = present.iter().copied().enumerate().collect();
    check(&mut target, &all);
    // The run's first three retired: the rest lie behind deleted slots.
    for &dst in &present[..3] {
        target
            .control()
            .delete_entry(table, &[KeyMatch::Exact(n(dst))], None)
            .expect("delete");
    }
    check(&mut target, &all[3..]);
    for &(_, dst) in &all[..3] {
        assert!(target
            .send(0, &common::frame_to(dst))
            .expect("send")
            .is_drop());
    }
}

/// 65 keys with one home slot in a table of 256 slots: 64 fit in the probe window, the 65th
/// is refused with an error naming the table, the key and what to do, and the table is as it
/// was (the 64 there, found by the datapath).
#[test]
fn a_create_with_no_free_slot_near_its_home_is_refused_clearly() {
    if let Some(why) = common::kernel_unavailable() {
        println!("skipped: {why}");
        return;
    }
    let control = program(128);
    let p = common::ethernet_model("open_table", "no_slot", &control);
    let (table, fwd) = common::forward_handles(&p);
    let g = p4tc_ebpf::generate(&p.module, "no_slot", Hook::Tc).expect("generates");
    let spec = g.tables.iter().find(|t| t.name.ends_with("/t")).expect("t");
    let layout = spec.open.expect("an open table");
    assert_eq!((layout.slots(), layout.probe_limit()), (256, 64));
    let home = |dst: u64| layout.home(&spec.key.encode_key(&[n(dst)]).expect("key"));
    let target_home = home(0x0400_0000_0000);
    let same: Vec<u64> = (0x0400_0000_0000u64..)
        .filter(|&d| home(d) == target_home)
        .take(65)
        .collect();
    let mut target = KernelTarget::new(p.clone(), Hook::Tc).expect("kernel target");
    for &dst in &same[..64] {
        target
            .control()
            .create_entry(table, entry(fwd, dst, 7))
            .expect("fits the window");
    }
    let err = target
        .control()
        .create_entry(table, entry(fwd, same[64], 7))
        .expect_err("no free slot");
    let text = err.to_string();
    println!("{text}");
    assert!(
        text.contains("no free slot within 64 slots") && text.contains("larger size"),
        "{text}"
    );
    assert_eq!(target.control().dump(table).expect("dump").len(), 64);
    for &dst in &same[..64] {
        let d = target.send(0, &common::frame_to(dst)).expect("send");
        assert_eq!(d.outputs.iter().map(|o| o.0).collect::<Vec<_>>(), [7]);
    }
    assert!(target
        .send(0, &common::frame_to(same[64]))
        .expect("send")
        .is_drop());
    // A batch meets the same refusal for that entry alone.
    let results = target.control().create_entries(
        table,
        vec![entry(fwd, same[64], 7), entry(fwd, 0x0500_0000_0000, 8)],
    );
    assert!(
        matches!(&results[0], Err(e) if e.to_string().contains("no free slot")),
        "{results:?}"
    );
    assert!(results[1].is_ok(), "{results:?}");
}
