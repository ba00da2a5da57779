//! The kernel accepts every generated program (the verifier), and simple_l3 forwards and drops
//! as it should under BPF_PROG_TEST_RUN.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::os::fd::AsFd;

use num_bigint::BigUint;
use p4tc_ebpf::entry::{EntryHead, FLAG_HAS_ACTION};
use p4tc_ebpf::{sys, CodegenError, Hook};

#[test]
fn the_verifier_accepts_every_example() {
    if let Some(why) = common::kernel_unavailable() {
        println!("skipped: {why}");
        return;
    }
    let mut failures = Vec::new();
    let mut loaded = Vec::new();
    for (name, path) in common::examples() {
        let module = common::module_of(&path);
        for hook in [Hook::Tc, Hook::Xdp] {
            match p4tc_ebpf::generate(&module, &name, hook) {
                Err(CodegenError::Unsupported { what, .. }) => {
                    println!("unsupported: {name} ({hook:?}): {what}");
                    continue;
                }
                Err(e) => {
                    failures.push(format!("{name} ({hook:?}): {e}"));
                    continue;
                }
                Ok(_) => {}
            }
            let (g, bytes) = match common::build(&name, &module, hook, "verifier") {
                Ok(x) => x,
                Err(e) => {
                    failures.push(format!("{name} ({hook:?}): {e}"));
                    continue;
                }
            };
            match common::load(&g, &bytes) {
                Ok(_) => loaded.push(format!("{name} ({hook:?})")),
                Err(e) => failures.push(format!("{name} ({hook:?}): {e}")),
            }
        }
    }
    println!(
        "the verifier accepted {} programs: {}",
        loaded.len(),
        loaded.join(", ")
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

fn ipv4_packet(dst: [u8; 4]) -> Vec<u8> {
    let mut p = vec![
        0x00, 0x00, 0x00, 0x00, 0x00, 0x01, // dst MAC
        0x00, 0x00, 0x00, 0x00, 0x00, 0x02, // src MAC
        0x08, 0x00, // IPv4
        0x45, 0x00, 0x00, 0x2e, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00,
        0x00, // ... checksum
        10, 0, 0, 1,
    ];
    p.extend_from_slice(&dst);
    p.extend_from_slice(&[0u8; 26]);
    p
}

#[test]
fn simple_l3_forwards_hits_and_drops_misses() {
    if let Some(why) = common::kernel_unavailable() {
        println!("skipped: {why}");
        return;
    }
    let path = common::examples_dir().join("simple_l3/simple_l3.p4");
    let module = common::module_of(&path);
    if common::control_is_empty(&module) {
        println!("skipped: the front-end produced an empty main control for simple_l3, so there is nothing to run");
        return;
    }
    let (g, bytes) = common::build("simple_l3", &module, Hook::Tc, "test_run").expect("build");
    let ebpf = common::load(&g, &bytes).expect("load");
    let prog = common::prog_fd(&ebpf, &g);

    // The entry: 10.0.1.2 -> send_nh(port 5, srcMac 00:01:02:03:04:05, dstMac aa:bb:cc:dd:ee:ff),
    // encoded by the IR's layouts.
    let table = g.table("ingress/nh_table").expect("nh_table");
    let key = table
        .key
        .encode_key(&[BigUint::from(0x0a00_0102u32)])
        .expect("key");
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
    let head = EntryHead {
        action: send_nh_id,
        permissions: 0x1da4,
        flags: FLAG_HAS_ACTION,
        ..EntryHead::default()
    };
    let value = table.value.encode(&head, &params).expect("value");
    // A 4-byte exact key is padded to 8 (the layout's rule 5).
    assert_eq!(key.len(), 8);
    assert_eq!(value.len(), 40);
    let map = common::map_fd(&ebpf, &table.map);
    p4tc_ebpf::table_map::insert(map.as_fd(), table, &key, &value).expect("insert");
    drop(map);

    // A hit: redirected to port 5 with both MACs rewritten, the rest untouched.
    let packet = ipv4_packet([10, 0, 1, 2]);
    let run = sys::test_run(prog.as_fd(), &packet, 1).expect("test run");
    assert_eq!(run.retval, common::TC_ACT_REDIRECT, "a hit redirects");
    assert_eq!(run.data.len(), packet.len());
    assert_eq!(&run.data[0..6], &[0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]);
    assert_eq!(&run.data[6..12], &[0x00, 0x01, 0x02, 0x03, 0x04, 0x05]);
    assert_eq!(&run.data[12..], &packet[12..]);

    // A miss runs the const default action, drop.
    let miss = ipv4_packet([10, 0, 1, 3]);
    let run = sys::test_run(prog.as_fd(), &miss, 1).expect("test run");
    assert_eq!(run.retval, common::TC_ACT_SHOT, "a miss drops");

    // Not IPv4: dropped by the control.
    let mut arp = packet.clone();
    arp[12] = 0x08;
    arp[13] = 0x06;
    let run = sys::test_run(prog.as_fd(), &arp, 1).expect("test run");
    assert_eq!(run.retval, common::TC_ACT_SHOT);

    // Too short for IPv4: the XDP test (TC's test run refuses IPv4 packets shorter than an
    // IPv4 header).

    // Time per packet, hit and miss paths (kernel-measured mean over many runs).
    let repeat = 200_000;
    let mut hits = Vec::new();
    let mut misses = Vec::new();
    for _ in 0..5 {
        let h = sys::test_run(prog.as_fd(), &packet, repeat).expect("test run");
        assert_eq!(h.retval, common::TC_ACT_REDIRECT);
        hits.push(h.duration_ns);
        let m = sys::test_run(prog.as_fd(), &miss, repeat).expect("test run");
        assert_eq!(m.retval, common::TC_ACT_SHOT);
        misses.push(m.duration_ns);
    }
    hits.sort_unstable();
    misses.sort_unstable();
    println!(
        "simple_l3 under BPF_PROG_TEST_RUN: hit path median {} ns/packet (runs {:?}), miss path median {} ns/packet (runs {:?})",
        hits[2], hits, misses[2], misses
    );
}

const XDP_DROP: u32 = 1;
const XDP_REDIRECT: u32 = 4;

#[test]
fn simple_l3_at_xdp_redirects_and_drops_short_packets() {
    if let Some(why) = common::kernel_unavailable() {
        println!("skipped: {why}");
        return;
    }
    let path = common::examples_dir().join("simple_l3/simple_l3.p4");
    let module = common::module_of(&path);
    if common::control_is_empty(&module) {
        println!("skipped: the front-end produced an empty main control for simple_l3");
        return;
    }
    let (g, bytes) = common::build("simple_l3", &module, Hook::Xdp, "test_run").expect("build");
    let ebpf = common::load(&g, &bytes).expect("load");
    let prog = common::prog_fd(&ebpf, &g);
    let table = g.table("nh_table").expect("nh_table");
    let key = table
        .key
        .encode_key(&[BigUint::from(0x0a00_0102u32)])
        .expect("key");
    let (send_nh, id) = table
        .actions
        .iter()
        .copied()
        .find(|(a, _)| module.actions[*a].name == "send_nh")
        .expect("send_nh");
    let params = p4tc_ir::layout::action_param_layout(&module, send_nh)
        .expect("layout")
        .encode(&[
            BigUint::from(3u32),
            BigUint::from(0x0203_0405_0607u64),
            BigUint::from(0x0a0b_0c0d_0e0fu64),
        ])
        .expect("params");
    let value = table
        .value
        .encode(
            &EntryHead {
                action: id,
                permissions: 0x1da4,
                flags: FLAG_HAS_ACTION,
                ..EntryHead::default()
            },
            &params,
        )
        .expect("value");
    let map = common::map_fd(&ebpf, &table.map);
    p4tc_ebpf::table_map::insert(map.as_fd(), table, &key, &value).expect("insert");
    // Written back, read back.
    assert_eq!(
        p4tc_ebpf::table_map::lookup(map.as_fd(), table, &key).expect("lookup"),
        value
    );

    let packet = ipv4_packet([10, 0, 1, 2]);
    let run = sys::test_run(prog.as_fd(), &packet, 1).expect("test run");
    assert_eq!(run.retval, XDP_REDIRECT);
    assert_eq!(
        &run.data[0..12],
        &[0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07]
    );
    assert_eq!(&run.data[12..], &packet[12..]);
    // Too short for its IPv4 header: PacketTooShort goes on into the control, which drops.
    for len in [20usize, 33] {
        let run = sys::test_run(prog.as_fd(), &packet[..len], 1).expect("test run");
        assert_eq!(run.retval, XDP_DROP, "{len} bytes");
    }
}

/// simple_l3 as generated against a hand-written equivalent, side by side in one run.
#[test]
fn simple_l3_against_a_hand_written_program() {
    if let Some(why) = common::kernel_unavailable() {
        println!("skipped: {why}");
        return;
    }
    let path = common::examples_dir().join("simple_l3/simple_l3.p4");
    let module = common::module_of(&path);
    if common::control_is_empty(&module) {
        println!("skipped: the front-end produced an empty main control for simple_l3");
        return;
    }
    // Ours.
    let (g, bytes) = common::build("simple_l3", &module, Hook::Tc, "bench").expect("build");
    let ebpf = common::load(&g, &bytes).expect("load");
    let ours = common::prog_fd(&ebpf, &g);
    let table = g.table("nh_table").expect("nh_table");
    let key = table
        .key
        .encode_key(&[BigUint::from(0x0a00_0102u32)])
        .expect("key");
    let (send_nh, id) = table
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
    let head = EntryHead {
        action: id,
        permissions: 0x1da4,
        flags: FLAG_HAS_ACTION,
        ..EntryHead::default()
    };
    let value = table.value.encode(&head, &params).expect("value");
    let map = common::map_fd(&ebpf, &table.map);
    p4tc_ebpf::table_map::insert(map.as_fd(), table, &key, &value).expect("insert");

    // The hand-written program.
    let dir = common::out_dir("bench", "handwritten");
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/handwritten/simple_l3.c"),
        dir.join("simple_l3.c"),
    )
    .expect("copy");
    std::fs::write(dir.join("p4tc_runtime.h"), p4tc_ebpf::RUNTIME_HEADER).expect("header");
    let obj = p4tc_ebpf::clang::compile(&dir, "simple_l3").expect("clang");
    let mut hand = aya::Ebpf::load(&std::fs::read(obj).expect("read")).expect("load");
    {
        let p: &mut aya::programs::SchedClassifier = hand
            .program_mut("simple_l3")
            .expect("program")
            .try_into()
            .expect("tc");
        p.load().expect("verifier");
    }
    let hand_fd = {
        let p: &aya::programs::SchedClassifier = hand
            .program("simple_l3")
            .expect("program")
            .try_into()
            .expect("tc");
        p.fd()
            .expect("fd")
            .as_fd()
            .try_clone_to_owned()
            .expect("dup")
    };
    let hand_map = match hand.map("nh_table").expect("map") {
        aya::maps::Map::HashMap(d) => d.fd().as_fd().try_clone_to_owned().expect("fd"),
        _ => panic!("a hash map"),
    };
    let mut nh = 5u32.to_ne_bytes().to_vec();
    nh.extend_from_slice(&[
        0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
    ]);
    sys::map_update(hand_map.as_fd(), &[10, 0, 1, 2], &nh, sys::BPF_ANY).expect("insert");

    let packet = ipv4_packet([10, 0, 1, 2]);
    let a = sys::test_run(ours.as_fd(), &packet, 1).expect("run");
    let b = sys::test_run(hand_fd.as_fd(), &packet, 1).expect("run");
    assert_eq!(a.retval, common::TC_ACT_REDIRECT);
    assert_eq!(b.retval, common::TC_ACT_REDIRECT);
    assert_eq!(a.data, b.data, "both rewrite the packet the same way");

    let repeat = 500_000;
    let (mut ours_ns, mut hand_ns) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        ours_ns.push(
            sys::test_run(ours.as_fd(), &packet, repeat)
                .expect("run")
                .duration_ns,
        );
        hand_ns.push(
            sys::test_run(hand_fd.as_fd(), &packet, repeat)
                .expect("run")
                .duration_ns,
        );
    }
    ours_ns.sort_unstable();
    hand_ns.sort_unstable();
    let (o, h) = (ours_ns[3], hand_ns[3]);
    println!(
        "simple_l3 hit path, BPF_PROG_TEST_RUN, median of 7 x {repeat}: generated {o} ns/packet {ours_ns:?}, hand-written {h} ns/packet {hand_ns:?}, ratio {:.2}",
        f64::from(o) / f64::from(h.max(1))
    );
}
