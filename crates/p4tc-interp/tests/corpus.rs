//! Every example and every tests/p4/ok program compiles, and no packet makes it panic.

mod common;

use std::sync::Arc;

use p4tc_interp::Interpreter;

#[test]
fn every_program_compiles() {
    let mut paths = common::examples();
    let ok = common::root().join("tests/p4/ok");
    let mut more: Vec<_> = std::fs::read_dir(ok)
        .expect("tests/p4/ok")
        .filter_map(|d| d.ok().map(|d| d.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "p4"))
        .collect();
    more.sort();
    paths.extend(more);
    let mut failures = Vec::new();
    for p in &paths {
        let m = match common::load(p) {
            Ok(m) => m,
            Err(e) => {
                failures.push(format!("{}: does not check: {e}", p.display()));
                continue;
            }
        };
        if m.pipeline.is_none() {
            continue;
        }
        match Interpreter::new(Arc::clone(&m), 1) {
            Ok(mut interp) => {
                let mut dp = common::Double::new(&m);
                // A few packets of different shapes must not panic.
                let pkt = common::ipv4_packet(
                    [1; 6],
                    [2; 6],
                    [10, 0, 0, 1],
                    [10, 0, 0, 2],
                    6,
                    &[0u8; 40],
                );
                for len in 0..pkt.len() {
                    let _ = interp.process(&mut dp, &pkt[..len], 1);
                }
                let _ = interp.process(&mut dp, &vec![0xffu8; 2000], 1);
            }
            // Programs of other architectures have no pipeline roles to run.
            Err(p4tc_interp::InterpError::Pipeline(e)) if e.contains("has no") => {}
            Err(e) => failures.push(format!("{}: {e}", p.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Random and mutated packets through every example: no panic, and the output is never
/// absurdly large.
#[test]
fn random_packets_never_panic() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    let programs: Vec<_> = common::examples()
        .iter()
        .map(|p| common::load(p).expect("example checks"))
        .collect();
    let mut interps: Vec<_> = programs
        .iter()
        .map(|m| {
            (
                Interpreter::new(Arc::clone(m), 3).expect("compiles"),
                common::Double::new(m),
            )
        })
        .collect();
    let base = common::ipv4_packet([1; 6], [2; 6], [10, 0, 0, 1], [10, 0, 0, 2], 6, &[0u8; 60]);
    let mut runner = TestRunner::new(Config {
        cases: 300,
        ..Config::default()
    });
    let strategy = (
        proptest::collection::vec(any::<u8>(), 0..200),
        proptest::collection::vec((0usize..80, any::<u8>()), 0..6),
        any::<bool>(),
        any::<u32>(),
    );
    let interps = std::cell::RefCell::new(&mut interps);
    runner
        .run(&strategy, |(random, flips, mutate, port)| {
            let pkt = if mutate {
                let mut p = base.clone();
                for (at, v) in &flips {
                    if let Some(b) = p.get_mut(*at) {
                        *b = *v;
                    }
                }
                p
            } else {
                random
            };
            for (interp, dp) in interps.borrow_mut().iter_mut() {
                let out = interp.process(dp, &pkt, port);
                prop_assert!(out.packet.len() <= pkt.len() * 4 + 4096);
            }
            Ok(())
        })
        .unwrap();
}

/// Every example extracts an Ethernet header first: a packet cut inside it raises
/// PacketTooShort, whatever the program does next. Those that go on to IPv4 for ethertype
/// 0x0800 raise it too for a packet cut inside the IPv4 header.
#[test]
fn truncated_headers_raise_packet_too_short_in_every_example() {
    let pkt = common::ipv4_packet([2; 6], [4; 6], [10, 0, 0, 1], [10, 0, 0, 2], 17, &[0u8; 16]);
    let mut inside_ipv4 = Vec::new();
    for p in common::examples() {
        let m = common::load(&p).expect("checks");
        let too_short = m
            .errors
            .iter()
            .position(|e| e == "PacketTooShort")
            .map(|i| i as u32);
        let mut interp = Interpreter::new(Arc::clone(&m), 0).expect("compiles");
        let mut dp = common::Double::new(&m);
        for len in 0..14 {
            let out = interp.process(&mut dp, &pkt[..len], 1);
            assert_eq!(
                out.parser_error,
                too_short,
                "{} cut to {len} bytes",
                p.display()
            );
        }
        if (14..34).all(|len| interp.process(&mut dp, &pkt[..len], 1).parser_error == too_short) {
            inside_ipv4.push(p.clone());
        }
        // A whole packet and a huge one run too.
        let _ = interp.process(&mut dp, &pkt, 1);
        let mut huge = pkt.clone();
        huge.resize(65_535, 0xa5);
        let out = interp.process(&mut dp, &huge, 1);
        assert!(out.packet.len() <= 65_535 + 1024);
    }
    // Most examples parse IPv4.
    assert!(inside_ipv4.len() >= 15, "{inside_ipv4:?}");
}

/// The interpreter runs what the IR says; if a control's apply block is empty here, the
/// front-end lost it (p4tc-front's `block_decl` must keep the body's block), and every test
/// that expects a control to act will fail with it.
#[test]
fn the_front_end_keeps_control_apply_blocks() {
    let m = common::example("simple_l3");
    let ingress = m
        .block_types
        .iter()
        .find(|(_, b)| b.name == "ingress")
        .map(|(_, b)| b)
        .expect("control ingress");
    assert!(
        !ingress.body.block.stmts.is_empty(),
        "the checked IR of simple_l3 has an empty apply block for `ingress`: front-end bug \
         (p4tc-front/src/lower/decl.rs block_decl replaces the body's block with an empty one)"
    );
}
