//! simple_l3: a hit forwards and rewrites both MACs; a miss drops; non-IPv4 drops.

mod common;

use std::sync::Arc;

use num_bigint::BigUint;
use p4tc_interp::{Interpreter, Verdict};
use p4tc_ir::layout::{action_param_layout, table_key_layout};
use p4tc_runtime::{
    ActionCall, EntrySpec, KeyMatch, ManualClock, MemoryBackend, ObjectModel, PipelineModel,
};

const DST: [u8; 4] = [10, 0, 0, 2];
const NEW_SRC: [u8; 6] = [0x02, 0, 0, 0, 0, 0xaa];
const NEW_DST: [u8; 6] = [0x02, 0, 0, 0, 0, 0xbb];

fn expected_output(pkt: &[u8]) -> Vec<u8> {
    let mut out = pkt.to_vec();
    out[0..6].copy_from_slice(&NEW_DST);
    out[6..12].copy_from_slice(&NEW_SRC);
    out
}

fn mac(m: [u8; 6]) -> BigUint {
    BigUint::from_bytes_be(&m)
}

#[test]
fn hit_forwards_and_rewrites_macs_with_the_double() {
    let m = common::example("simple_l3");
    let t = common::table(&m, "nh_table");
    let a = common::action(&m, "send_nh");
    let key = table_key_layout(&m, t)
        .unwrap()
        .encode_key(&[BigUint::from_bytes_be(&DST)])
        .unwrap();
    let params = action_param_layout(&m, a)
        .unwrap()
        .encode(&[BigUint::from(7u32), mac(NEW_SRC), mac(NEW_DST)])
        .unwrap();
    let mut dp = common::Double::new(&m);
    dp.add(t, key, a, params);
    let mut interp = Interpreter::new(Arc::clone(&m), 0).unwrap();
    let pkt = common::ipv4_packet([1; 6], [2; 6], [10, 0, 0, 1], DST, 17, b"hello, world");
    let out = interp.process(&mut dp, &pkt, 3);
    assert_eq!(out.verdict, Verdict::Send(7));
    assert_eq!(out.parser_error, None);
    assert_eq!(out.packet, expected_output(&pkt).as_slice());

    // A miss runs the default action, drop.
    let other = common::ipv4_packet([1; 6], [2; 6], [10, 0, 0, 1], [10, 9, 9, 9], 17, b"x");
    let out = interp.process(&mut dp, &other, 3);
    assert_eq!(out.verdict, Verdict::Drop);

    // Not IPv4: dropped by the control.
    let mut arp = pkt.clone();
    arp[12] = 0x08;
    arp[13] = 0x06;
    let out = interp.process(&mut dp, &arp, 3);
    assert_eq!(out.verdict, Verdict::Drop);
    assert_eq!(out.parser_error, None);

    // The same packet again gives the same result (state is reset per packet).
    let out = interp.process(&mut dp, &pkt, 3);
    assert_eq!(out.verdict, Verdict::Send(7));
    assert_eq!(out.packet, expected_output(&pkt).as_slice());
}

#[test]
fn hit_forwards_with_the_memory_backend() {
    let m = common::example("simple_l3");
    let t = common::table(&m, "nh_table");
    let a = common::action(&m, "send_nh");
    let model = PipelineModel::new(Arc::clone(&m), "simple_l3").unwrap();
    let mut backend = MemoryBackend::new(Arc::new(model), Arc::new(ManualClock::new())).unwrap();
    backend
        .create_entry(
            t,
            EntrySpec::new(
                vec![KeyMatch::Exact(BigUint::from_bytes_be(&DST))],
                Some(ActionCall {
                    action: a,
                    params: vec![BigUint::from(7u32), mac(NEW_SRC), mac(NEW_DST)],
                }),
            ),
        )
        .unwrap();
    let mut interp = Interpreter::new(Arc::clone(&m), 0).unwrap();
    let pkt = common::ipv4_packet([1; 6], [2; 6], [10, 0, 0, 1], DST, 6, &[0xab; 30]);
    let out = interp.process(&mut backend, &pkt, 1);
    assert_eq!(out.verdict, Verdict::Send(7));
    assert_eq!(out.packet, expected_output(&pkt).as_slice());
    let other = common::ipv4_packet([1; 6], [2; 6], [10, 0, 0, 1], [1, 2, 3, 4], 6, &[]);
    assert_eq!(
        interp.process(&mut backend, &other, 1).verdict,
        Verdict::Drop
    );
}

#[test]
fn truncated_headers_raise_packet_too_short() {
    let m = common::example("simple_l3");
    let too_short = m.errors.iter().position(|e| e == "PacketTooShort").unwrap() as u32;
    let mut dp = common::Double::new(&m);
    let mut interp = Interpreter::new(Arc::clone(&m), 0).unwrap();
    let pkt = common::ipv4_packet([1; 6], [2; 6], [10, 0, 0, 1], DST, 17, &[]);
    for len in 0..pkt.len() {
        let out = interp.process(&mut dp, &pkt[..len], 1);
        assert_eq!(out.parser_error, Some(too_short), "length {len}");
        assert_eq!(out.verdict, Verdict::Drop, "length {len}");
    }
    let out = interp.process(&mut dp, &pkt, 1);
    assert_eq!(out.parser_error, None);
}

#[test]
fn the_interpreter_can_move_between_threads() {
    fn send<T: Send + Sync>() {}
    send::<Interpreter>();
}

#[test]
fn the_state_vector_is_small() {
    let m = common::example("simple_l3");
    let interp = Interpreter::new(Arc::clone(&m), 0).unwrap();
    // Headers (4 + 13 slots + 2 validity), intrinsic metadata, action parameters, temporaries.
    assert!(interp.state_slots() < 64, "{} slots", interp.state_slots());
}
