//! Aging in the kernel: the BPF timer deletes dynamic entries whose timer profile's time has
//! passed without a hit, with nothing in userspace holding the program's maps (only bpffs
//! pins), publishes delete events by the timer, keeps static entries and entries being hit,
//! and ages out entries the datapath created (stateful_firewall's add_entry).
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use num_bigint::BigUint;
use p4tc_ebpf::aging::{self, EventReader};
use p4tc_ebpf::backend::KernelBackend;
use p4tc_ebpf::entry::{EntryHead, FLAG_DATAPATH, FLAG_DYNAMIC, FLAG_HAS_ACTION};
use p4tc_ebpf::loader::{self, open_pinned_map};
use p4tc_ebpf::{sys, Hook, Options};
use p4tc_runtime::ObjectModel;

/// Why these tests cannot run here (root, BTF, clang, bpffs), if they cannot.
fn unavailable() -> Option<String> {
    if let Some(why) = common::kernel_unavailable() {
        return Some(why);
    }
    let bpffs = std::fs::read_to_string("/proc/mounts")
        .unwrap_or_default()
        .lines()
        .any(|l| {
            let mut w = l.split_whitespace();
            w.nth(1) == Some("/sys/fs/bpf") && w.next() == Some("bpf")
        });
    if !bpffs {
        return Some("/sys/fs/bpf is not a bpffs mount (pins keep the timer alive)".into());
    }
    None
}

/// A bpffs directory of this test, removed on drop.
struct PinDir(PathBuf);

impl PinDir {
    fn new(test: &str) -> PinDir {
        let d = Path::new("/sys/fs/bpf").join(format!("p4tc-aging-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        PinDir(d)
    }
}

impl Drop for PinDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn ipv4_packet(dst: [u8; 4]) -> Vec<u8> {
    let mut p = vec![
        0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0x08, 0x00, // Ethernet
        0x45, 0x00, 0x00, 0x2e, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 10, 0, 0, 1,
    ];
    p.extend_from_slice(&dst);
    p.extend_from_slice(&[0u8; 26]);
    p
}

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn present(map: &Path, table: &p4tc_ebpf::TableSpec, key: &[u8]) -> bool {
    let fd = open_pinned_map(map).expect("pinned map");
    p4tc_ebpf::table_map::lookup(fd.as_fd(), table, key).is_ok()
}

/// Waits until `done` holds, checking every 20 ms, for at most `limit`; how long it took.
fn wait_for(limit: Duration, mut done: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done() {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

#[test]
fn dynamic_entries_age_out_with_only_pins_holding_the_maps() {
    if let Some(why) = unavailable() {
        println!("skipped: {why}");
        return;
    }
    let path = common::examples_dir().join("simple_l3/simple_l3.p4");
    let module = common::module_of(&path);
    let (g, bytes) = common::build("simple_l3", &module, Hook::Tc, "aging").expect("build");
    assert!(aging::has_aging(&g), "simple_l3's exact table is swept");
    let mut loaded = loader::load(&bytes, &g).expect("load");
    aging::arm(&mut loaded).expect("arm");
    let pins = PinDir::new("simple_l3");
    loaded.pin_maps(&pins.0).expect("pin");

    // The defaults the loader wrote, then profile 0 made short (the sweep reads the map).
    let profiles_fd = loaded.map_fd(aging::PROFILES_MAP).expect("profiles");
    let defaults = aging::profiles(profiles_fd.as_fd()).expect("profiles");
    assert_eq!(
        defaults,
        (1..=4)
            .map(|i| Duration::from_secs(30 * i))
            .collect::<Vec<_>>()
    );
    aging::set_profile(profiles_fd.as_fd(), 0, Duration::from_millis(200)).expect("set");
    assert_eq!(
        aging::profiles(profiles_fd.as_fd()).expect("profiles")[0],
        Duration::from_millis(200)
    );

    // Three entries of nh_table: A dynamic (profile 0), B static, C dynamic and hit.
    let table = g.table("ingress/nh_table").expect("nh_table").clone();
    let table_id = p4tc_ir::introspection::introspection(&module, "simple_l3")
        .expect("introspection")
        .tables
        .iter()
        .find(|t| t.name == "ingress/nh_table")
        .expect("table")
        .id;
    let (send_nh, send_nh_id) = table
        .actions
        .iter()
        .copied()
        .find(|(a, _)| module.actions[*a].name == "send_nh")
        .expect("send_nh");
    let params = p4tc_ir::layout::action_param_layout(&module, send_nh)
        .expect("layout")
        .encode(&[
            BigUint::from(5u32),
            BigUint::from(0x0001_0203_0405u64),
            BigUint::from(0xaabb_ccdd_eeffu64),
        ])
        .expect("params");
    let key = |last: u8| {
        table
            .key
            .encode_key(&[BigUint::from(0x0a00_0100u32 | u32::from(last))])
            .expect("key")
    };
    let now = sys::monotonic_ns();
    let entries_fd = loaded.map_fd(&table.map).expect("entries");
    for (last, dynamic) in [(2u8, true), (3, false), (4, true)] {
        let head = EntryHead {
            action: send_nh_id,
            permissions: 0x1da4, // -RUD-PS-R--X--: the control plane's P bit publishes
            flags: FLAG_HAS_ACTION | if dynamic { FLAG_DYNAMIC } else { 0 },
            profile: 0,
            created_ns: now,
            last_used_ns: now,
            ..EntryHead::default()
        };
        let value = table.value.encode(&head, &params).expect("value");
        p4tc_ebpf::table_map::insert(entries_fd.as_fd(), &table, &key(last), &value).expect("add");
    }
    drop(entries_fd);
    // Dynamic entries written by hand: the sweep is told (it walks marked tables only).
    let marks = loaded.map_fd(aging::DYNAMIC_MAP).expect("marks");
    aging::mark_dynamic(marks.as_fd(), table_id).expect("mark");
    drop(marks);
    drop(profiles_fd);

    // From here on only the pins hold the maps: this process keeps the program's descriptor
    // alone (to send packets), which holds no user reference on the maps.
    let prog: OwnedFd = loaded.program_fd().expect("prog");
    drop(loaded);
    let map = pins.0.join(&table.map);

    // C is hit every 50 ms for 1.5 s: it stays; A (200 ms, no hits) goes meanwhile. The timer
    // was armed before profile 0 changed, so its first sweep comes up to 1 s after the arm
    // (the period is recomputed at each sweep: 50 ms from then on).
    let start = Instant::now();
    let packet = ipv4_packet([10, 0, 1, 4]);
    let mut a_gone = None;
    while start.elapsed() < Duration::from_millis(1500) {
        let run = sys::test_run(prog.as_fd(), &packet, 1).expect("run");
        assert_eq!(
            run.retval,
            common::TC_ACT_REDIRECT,
            "C forwards while it exists"
        );
        if a_gone.is_none() && !present(&map, &table, &key(2)) {
            a_gone = Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let a_gone = a_gone.expect("A, dynamic and never hit, aged out within 1.5 s");
    assert!(
        a_gone >= Duration::from_millis(150),
        "A went after {a_gone:?}: too early"
    );
    assert!(present(&map, &table, &key(4)), "C, hit every 50 ms, stays");

    // No more hits, and no descriptor of the program either: between the checks below (each
    // opens a pin for a moment) nothing in this process holds the program or its maps. C
    // goes too; B (static) stays.
    drop(prog);
    let c_gone = wait_for(Duration::from_secs(2), || !present(&map, &table, &key(4)))
        .expect("C aged out after its hits stopped");
    assert!(present(&map, &table, &key(3)), "B, static, stays");
    println!("A aged out after {a_gone:?}, C {c_gone:?} after its last hit");

    // Delete events by the timer, one per entry, with their keys and heads.
    let mut reader = EventReader::from_pin(&pins.0.join(aging::EVENTS_MAP)).expect("events");
    let events = reader.drain();
    let keys: Vec<Vec<u8>> = events.iter().map(|e| e.key.clone()).collect();
    assert_eq!(keys, vec![key(2), key(4)], "events: {events:?}");
    for e in &events {
        assert_eq!(e.kind, aging::EVENT_DELETED);
        assert_eq!(e.who, aging::WHO_TIMER);
        assert_eq!(e.table, table_id);
        assert_eq!(e.head.action, send_nh_id);
        assert_ne!(e.head.flags & FLAG_DYNAMIC, 0);
        // The whole value comes along: its head, and the action's data as written.
        assert_eq!(table.value.decode_head(&e.value), Some(e.head));
        let at = table.value.params_offset as usize;
        assert_eq!(e.value.get(at..at + params.len()), Some(&params[..]));
    }
}

#[test]
fn entries_the_datapath_created_age_out() {
    if let Some(why) = unavailable() {
        println!("skipped: {why}");
        return;
    }
    let path = common::examples_dir().join("stateful_firewall/stateful_firewall.p4");
    let module = common::module_of(&path);
    let options = Options {
        test_hooks: true,
        ..Options::default()
    };
    let g = p4tc_ebpf::generate_with(&module, "stateful_firewall", Hook::Tc, &options)
        .expect("generate");
    let dir = common::out_dir("aging", "stateful_firewall");
    g.write_to(&dir, "stateful_firewall").expect("write");
    let obj = p4tc_ebpf::clang::compile(&dir, "stateful_firewall").expect("compile");
    let mut loaded = loader::load(&std::fs::read(obj).expect("object"), &g).expect("load");
    aging::arm(&mut loaded).expect("arm");
    let pins = PinDir::new("firewall");
    loaded.pin_maps(&pins.0).expect("pin");

    // PROFILE_NEW (0), which add_entry gives a new flow, ages after 200 ms.
    let profiles = loaded.map_fd(aging::PROFILES_MAP).expect("profiles");
    aging::set_profile(profiles.as_fd(), 0, Duration::from_millis(200)).expect("set");
    // The packet comes in on the CPU port: a host port, so its flow is learned.
    let tio = loaded.map_fd("p4tc_test_io").expect("test io");
    let mut io = [0u8; 16];
    io[..4].copy_from_slice(&0xffff_fffdu32.to_ne_bytes());
    sys::map_update(tio.as_fd(), &0u32.to_ne_bytes(), &io, sys::BPF_ANY).expect("test io");
    let conntrack = g.table("conntrack").expect("conntrack").clone();
    let conntrack_id = p4tc_ir::introspection::introspection(&module, "stateful_firewall")
        .expect("introspection")
        .tables
        .iter()
        .find(|t| t.name == conntrack.name)
        .expect("table")
        .id;
    let ct = loaded.map_fd(&conntrack.map).expect("conntrack map");
    let prog = loaded.program_fd().expect("prog");
    let mut reader = EventReader::from_loaded(&loaded).expect("events");
    // The sweep walks only tables marked as maybe holding dynamic entries. Once a sweep has
    // cleared conntrack's mark (the first comes up to a second after the arm), only
    // add_entry's own mark makes the sweep age the flow out below.
    let marks = loaded.map_fd(aging::DYNAMIC_MAP).expect("marks");
    wait_for(Duration::from_secs(3), || {
        !aging::marked_dynamic(marks.as_fd(), conntrack_id).expect("mark")
    })
    .expect("the sweep cleared the mark of a table with no entry");

    let syn = hex(
        "0200000000fe0200000000010800 4500002800100000400646810a000005c6336407 \
         9c4001bb000003e8000000005002ffffd9bf0000",
    );
    sys::test_run(prog.as_fd(), &syn, 1).expect("run");
    let keys = sys::map_keys(ct.as_fd()).expect("keys");
    assert_eq!(keys.len(), 1, "the host's SYN was learned");
    assert!(
        aging::marked_dynamic(marks.as_fd(), conntrack_id).expect("mark"),
        "add_entry marked its table"
    );
    let value = sys::map_lookup(ct.as_fd(), &keys[0]).expect("value");
    let head = conntrack.value.decode_head(&value).expect("head");
    assert_eq!(
        head.flags & (FLAG_DYNAMIC | FLAG_DATAPATH),
        FLAG_DYNAMIC | FLAG_DATAPATH
    );
    assert_eq!(head.profile, 0);

    // The SYN-ACK from the network (port 2) hits it: allow_established moves it to
    // PROFILE_ESTABLISHED (3) with set_entry_expire_time (the entry has the datapath's U bit).
    io[..4].copy_from_slice(&2u32.to_ne_bytes());
    sys::map_update(tio.as_fd(), &0u32.to_ne_bytes(), &io, sys::BPF_ANY).expect("test io");
    let syn_ack = hex(
        "0200000000fe0200000000990800 450000280020000040064671c63364070a000005 \
         01bb9c4000001388000003e95012ffffc6260000",
    );
    sys::test_run(prog.as_fd(), &syn_ack, 1).expect("run");
    let value = sys::map_lookup(ct.as_fd(), &keys[0]).expect("still there");
    assert_eq!(
        conntrack.value.decode_head(&value).expect("head").profile,
        3
    );
    // Profile 3 ages after 300 ms now; profile 0's 200 ms no longer applies to the flow. The
    // control plane's object model changes it: KernelBackend keeps its timer profiles in
    // p4tc_timer_profiles, which the sweep reads.
    let model = std::sync::Arc::new(
        p4tc_runtime::PipelineModel::new(std::sync::Arc::new(module.clone()), "stateful_firewall")
            .expect("model"),
    );
    let mut backend = KernelBackend::from_loaded(model, &loaded).expect("backend");
    assert_eq!(backend.timer_profiles()[0], Duration::from_millis(200));
    backend
        .set_timer_profile(3, Duration::from_millis(300))
        .expect("set");
    drop(backend);
    let took = wait_for(Duration::from_secs(2), || {
        sys::map_count(ct.as_fd()).unwrap_or(1) == 0
    })
    .expect("the learned flow aged out within 2 s");
    println!("the datapath's entry aged out after {took:?}");
    // Three events, all with the flow's key: the datapath's create (add_entry, profile 0),
    // the datapath's update (set_entry_expire_time moved it to 3; the later hits that set
    // the same profile publish nothing) and the timer's delete.
    let events = reader.drain();
    let seen: Vec<(u32, u32, u8)> = events
        .iter()
        .map(|e| (e.kind, e.who, e.head.profile))
        .collect();
    assert_eq!(
        seen,
        vec![
            (aging::EVENT_CREATED, aging::WHO_DATAPATH, 0),
            (aging::EVENT_UPDATED, aging::WHO_DATAPATH, 3),
            (aging::EVENT_DELETED, aging::WHO_TIMER, 3),
        ],
        "{events:?}"
    );
    for e in &events {
        assert_eq!(e.key, keys[0]);
        assert_ne!(e.head.flags & FLAG_DATAPATH, 0);
        assert_eq!(e.table, conntrack_id);
    }
    assert!(events[0].at_ns <= events[1].at_ns && events[1].at_ns <= events[2].at_ns);
    assert!(aging::profiles(profiles.as_fd()).expect("profiles")[3] == Duration::from_millis(300));

    let timer = loaded.map_fd(aging::TIMER_MAP).expect("timer map");
    let stats = aging::stats(timer.as_fd()).expect("stats");
    assert!(stats.sweeps > 0 && stats.deleted == 1, "{stats:?}");

    // What a sweep costs: conntrack full (65,536 dynamic entries of profile 1, 60 s: none
    // ages), timed by the sweep itself.
    let now = sys::monotonic_ns();
    let head = EntryHead {
        action: head.action,
        permissions: head.permissions,
        flags: FLAG_HAS_ACTION | FLAG_DYNAMIC,
        profile: 1,
        created_ns: now,
        last_used_ns: now,
        ..EntryHead::default()
    };
    let value = conntrack.value.encode(&head, &[0; 4]).expect("value");
    let mut key = keys[0].clone();
    for i in 0..65_536u32 {
        key[..4].copy_from_slice(&i.to_ne_bytes());
        sys::map_update(ct.as_fd(), &key, &value, sys::BPF_NOEXIST).expect("fill");
    }
    // Dynamic entries written by hand: the sweep is told, as KernelBackend tells it.
    aging::mark_dynamic(marks.as_fd(), conntrack_id).expect("mark");
    let before = aging::stats(timer.as_fd()).expect("stats").sweeps;
    let full = wait_for(Duration::from_secs(2), || {
        aging::stats(timer.as_fd()).expect("stats").sweeps >= before + 2
    });
    let stats = aging::stats(timer.as_fd()).expect("stats");
    assert!(full.is_some(), "sweeps go on: {stats:?}");
    assert_eq!(
        sys::map_count(ct.as_fd()).expect("count"),
        65_536,
        "none aged"
    );
    println!(
        "a sweep of 65,536 entries (none due) took {} us",
        stats.last_sweep_ns / 1000
    );

    // A reload that restores the pinned maps (as `p4tc load` does) keeps the changed profile;
    // copying the timer's element is harmless (the kernel skips a timer's bytes).
    let again = loader::load(
        &std::fs::read(dir.join("stateful_firewall.o")).expect("object"),
        &g,
    )
    .expect("reload");
    again.restore(&pins.0).expect("restore");
    let restored = again.map_fd(aging::PROFILES_MAP).expect("profiles");
    assert_eq!(
        aging::profiles(restored.as_fd()).expect("profiles")[0],
        Duration::from_millis(200)
    );
}

#[test]
fn a_full_ring_counts_the_datapath_events_it_refuses() {
    if let Some(why) = unavailable() {
        println!("skipped: {why}");
        return;
    }
    let path = common::examples_dir().join("stateful_firewall/stateful_firewall.p4");
    let module = common::module_of(&path);
    let options = Options {
        test_hooks: true,
        ..Options::default()
    };
    let g = p4tc_ebpf::generate_with(&module, "stateful_firewall", Hook::Tc, &options)
        .expect("generate");
    let dir = common::out_dir("aging", "stateful_firewall_ring");
    g.write_to(&dir, "stateful_firewall").expect("write");
    let obj = p4tc_ebpf::clang::compile(&dir, "stateful_firewall").expect("compile");
    let loaded = loader::load(&std::fs::read(obj).expect("object"), &g).expect("load");
    let tio = loaded.map_fd("p4tc_test_io").expect("test io");
    let mut io = [0u8; 16];
    io[..4].copy_from_slice(&0xffff_fffdu32.to_ne_bytes());
    sys::map_update(tio.as_fd(), &0u32.to_ne_bytes(), &io, sys::BPF_ANY).expect("test io");
    let ct = loaded
        .map_fd(&g.table("conntrack").expect("conntrack").map)
        .expect("conntrack map");
    let prog = loaded.program_fd().expect("prog");
    let timer = loaded.map_fd(aging::TIMER_MAP).expect("timer map");

    // 5,000 flows from the host (SYNs from source ports 10000..15000): every one is learned,
    // but nobody reads the ring, which holds about 3,000 create events.
    let mut syn = hex(
        "0200000000fe0200000000010800 4500002800100000400646810a000005c6336407 \
         9c4001bb000003e8000000005002ffffd9bf0000",
    );
    let flows = 5_000u32;
    for i in 0..flows {
        let port = u16::try_from(10_000 + i).expect("a port");
        syn[34..36].copy_from_slice(&port.to_be_bytes());
        sys::test_run(prog.as_fd(), &syn, 1).expect("run");
    }
    assert_eq!(sys::map_count(ct.as_fd()).expect("count"), flows as usize);
    let published = EventReader::from_loaded(&loaded)
        .expect("events")
        .drain()
        .len() as u64;
    let lost = aging::stats(timer.as_fd()).expect("stats").lost_events;
    println!("{published} create events published, {lost} refused by the full ring");
    assert!(published > 1_000 && lost > 0, "{published} + {lost}");
    assert_eq!(published + lost, u64::from(flows));
}

#[test]
fn every_example_arms_its_timer() {
    if let Some(why) = unavailable() {
        println!("skipped: {why}");
        return;
    }
    let mut failures = Vec::new();
    let mut armed = 0;
    for (name, path) in common::examples() {
        let module = common::module_of(&path);
        let (g, bytes) = match common::build(&name, &module, Hook::Xdp, "aging-all") {
            Ok(x) => x,
            // Programs that cannot run at XDP (tc_metadata) are covered at TC.
            Err(_) => match common::build(&name, &module, Hook::Tc, "aging-all") {
                Ok(x) => x,
                Err(e) => {
                    failures.push(format!("{name}: {e}"));
                    continue;
                }
            },
        };
        match loader::load(&bytes, &g).and_then(|mut l| aging::arm(&mut l)) {
            Ok(true) => armed += 1,
            Ok(false) => {}
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    println!("{armed} examples armed their aging timer");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
