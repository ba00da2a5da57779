//! What examples ask of the datapath: add_entry's key and parameters, digests, direct
//! counters (on a `Datapath` double that records the calls).

mod common;

use std::sync::Arc;

use p4tc_interp::Interpreter;

fn tcp_packet(flags: u8) -> Vec<u8> {
    let mut tcp = vec![
        0x04, 0xd2, 0x00, 0x50, 0, 0, 0, 0x64, 0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0,
    ];
    tcp.truncate(20);
    common::ipv4_packet(
        [2, 0, 0, 0, 0, 2],
        [2, 0, 0, 0, 0, 1],
        [10, 0, 0, 1],
        [10, 0, 0, 2],
        6,
        &tcp,
    )
}

#[test]
fn add_entry_uses_the_key_that_missed() {
    let m = common::example("conntrack_aging");
    let flows = common::table(&m, "flows");
    let tcp_flow = common::action(&m, "tcp_flow");
    let mut interp = Interpreter::new(Arc::clone(&m), 0).unwrap();
    let mut dp = common::Double::new(&m);
    // An ACK does not create an entry; a SYN does, with flow id 1 and profile 0.
    interp.process(&mut dp, &tcp_packet(0x10), 1);
    assert!(dp.added.is_empty());
    interp.process(&mut dp, &tcp_packet(0x02), 1);
    assert_eq!(dp.added.len(), 1);
    let (table, key, action, params, profile) = dp.added[0].clone();
    assert_eq!(table, flows);
    assert_eq!(action, tcp_flow);
    assert_eq!(profile, 0);
    // src, dst, sport, dport, as the lookup laid them out.
    assert_eq!(key, vec![10, 0, 0, 1, 10, 0, 0, 2, 0x04, 0xd2, 0x00, 0x50]);
    let lookup = dp.lookups.iter().rev().find(|(t, _)| *t == flows).unwrap();
    assert_eq!(lookup.1, key);
    assert_eq!(params, vec![0, 0, 0, 1]);
    // The next SYN allocates the next flow id.
    interp.process(&mut dp, &tcp_packet(0x02), 1);
    assert_eq!(dp.added.len(), 1, "the entry exists now: a hit, no add");
    let mut other = tcp_packet(0x02);
    other[34] = 0x05; // another source port
    interp.process(&mut dp, &other, 1);
    assert_eq!(dp.added.len(), 2);
    assert_eq!(dp.added[1].3, vec![0, 0, 0, 2]);
}

#[test]
fn digests_carry_the_packed_struct() {
    let m = common::example("mac_learning_digest");
    let mut interp = Interpreter::new(Arc::clone(&m), 0).unwrap();
    let mut dp = common::Double::new(&m);
    let pkt = common::ipv4_packet(
        [2, 0, 0, 0, 0, 2],
        [2, 0, 0, 0, 0, 0x77],
        [1; 4],
        [2; 4],
        17,
        &[0; 8],
    );
    interp.process(&mut dp, &pkt, 5);
    assert_eq!(dp.digests.len(), 1, "an unknown source is reported");
    // srcAddr (6 bytes), ingress_port (4), etherType (2), padded to 12.
    assert_eq!(
        dp.digests[0].1,
        vec![2, 0, 0, 0, 0, 0x77, 0, 0, 0, 5, 0x08, 0x00]
    );
}

#[test]
fn direct_counters_count_the_entry_hit() {
    let m = common::example("direct_counters");
    let mut interp = Interpreter::new(Arc::clone(&m), 0).unwrap();
    let mut dp = common::Double::new(&m);
    let pkt = common::ipv4_packet([2; 6], [4; 6], [10, 0, 0, 1], [10, 0, 0, 2], 17, &[0; 10]);
    interp.process(&mut dp, &pkt, 1);
    // No entries: any direct count is for a miss (no entry), with the packet's length.
    assert!(dp
        .direct_counts
        .iter()
        .all(|(_, e, b)| e.is_none() && *b == pkt.len() as u64));
}
