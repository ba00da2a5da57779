//! Control-flow and call semantics through one program: functions with copy-in/copy-out,
//! actions with out parameters, loops with break and continue, switch, exit from an action,
//! a sub-control, slices as l-values, stack push/pop, header unions.

mod common;

use std::sync::Arc;

use p4tc_interp::{Interpreter, Verdict};

const PROGRAM: &str = r#"#include <core.p4>
#include <tc/pna.p4>
header in_t { bit<8> x; bit<8> y; bit<8> mode; }
header out_t {
    bit<8> f; bit<8> g; bit<8> loop_sum; bit<8> sw; bit<8> sliced; bit<8> sub; bit<8> stack_n;
    bit<8> first; bit<8> u; bit<200> wide;
}
header b_t { bit<8> v; }
header c_t { bit<16> v; }
header_union u_t { b_t b; c_t c; }
struct headers_t { in_t i; out_t o; b_t[3] s; u_t un; }
struct metadata_t { bit<8> m; }

bit<8> twice_and_bump(inout bit<8> v, in bit<8> by) {
    v = v + by;
    return v + v;
}

control Sub(inout bit<8> acc, in bit<8> k) {
    apply { acc = acc * k; }
}

parser P(packet_in pkt, out headers_t hdr, inout metadata_t meta, in pna_main_parser_input_metadata_t istd) {
    state start { pkt.extract(hdr.i); transition accept; }
}

control C(inout headers_t hdr, inout metadata_t meta, in pna_main_input_metadata_t istd, inout pna_main_output_metadata_t ostd) {
    Sub() sub;
    action split(in bit<8> v, out bit<8> hi, out bit<8> lo) {
        hi = v >> 4;
        lo = v & 0xf;
    }
    action leave() {
        send_to_port((PortId_t)9);
        exit;
    }
    apply {
        hdr.o.setValid();
        bit<8> v = hdr.i.x;
        hdr.o.f = twice_and_bump(v, hdr.i.y);
        hdr.o.g = v;
        bit<8> hi;
        bit<8> lo;
        split(hdr.i.x, hi, lo);
        bit<8> sum = 0;
        for (bit<8> k = 0; k < 10; k = k + 1) {
            if (k == 2) { continue; }
            if (k == 6) { break; }
            sum = sum + k;
        }
        hdr.o.loop_sum = sum;
        switch (hdr.i.mode) {
            1: { hdr.o.sw = 10; }
            2:
            3: { hdr.o.sw = 20; }
            default: { hdr.o.sw = 30; }
        }
        bit<8> z = 0;
        z[7:4] = hi[3:0];
        z[3:0] = lo[3:0];
        hdr.o.sliced = z;
        bit<8> acc = 3;
        sub.apply(acc, hdr.i.y);
        hdr.o.sub = acc;
        hdr.s[0].setValid();
        hdr.s[0].v = 7;
        hdr.s.push_front(1);
        hdr.s[0].setValid();
        hdr.s[0].v = 5;
        hdr.o.first = hdr.s[1].v;
        hdr.s.pop_front(1);
        hdr.o.stack_n = (bit<8>)(hdr.s[0].v);
        hdr.un.b.setValid();
        hdr.un.c.setValid();
        hdr.o.u = (hdr.un.b.isValid() ? 8w1 : 8w0) + (hdr.un.c.isValid() ? 8w2 : 8w0);
        hdr.o.wide = ((bit<200>)hdr.i.x << 192) + 200w1 - 200w2;
        send_to_port((PortId_t)1);
        if (hdr.i.mode == 7) {
            leave();
            send_to_port((PortId_t)2);
        }
    }
}
control D(packet_out pkt, inout headers_t hdr, in metadata_t meta, in pna_main_output_metadata_t ostd) {
    apply { pkt.emit(hdr.o); }
}
PNA_NIC(P(), C(), D()) main;
"#;

#[test]
fn calls_loops_switch_exit_and_stacks() {
    let m = common::load_source(PROGRAM);
    let mut interp = Interpreter::new(Arc::clone(&m), 0).unwrap();
    let mut dp = common::Double::new(&m);
    let out = interp.process(&mut dp, &[0x5a, 3, 2], 1);
    assert_eq!(out.verdict, Verdict::Send(1));
    let o = out.packet;
    assert_eq!(o.len(), 9 + 25, "{o:02x?}");
    // v = 0x5a + 3 = 0x5d; f = 2v = 0xba; g = v (copied out).
    assert_eq!(o[0], 0xba);
    assert_eq!(o[1], 0x5d);
    // 0 + 1 + 3 + 4 + 5 (2 skipped, stops at 6).
    assert_eq!(o[2], 13);
    assert_eq!(o[3], 20);
    // hi = 5, lo = 0xa, put back together.
    assert_eq!(o[4], 0x5a);
    assert_eq!(o[5], 9);
    // push_front moved 7 to s[1]; pop_front brought it back to s[0].
    assert_eq!(o[7], 7);
    assert_eq!(o[6], 7);
    // Only the union member made valid last is valid.
    assert_eq!(o[8], 2);
    // (0x5a << 192) - 1, 200 bits.
    let mut wide = vec![0u8; 25];
    wide[0] = 0x59;
    for b in &mut wide[1..] {
        *b = 0xff;
    }
    assert_eq!(&o[9..], wide.as_slice());

    // Other switch labels.
    let out = interp.process(&mut dp, &[0, 0, 1], 1);
    assert_eq!(out.packet[3], 10);
    let out = interp.process(&mut dp, &[0, 0, 9], 1);
    assert_eq!(out.packet[3], 30);

    // exit in an action ends the control: the later send_to_port does not run.
    let out = interp.process(&mut dp, &[0, 0, 7], 1);
    assert_eq!(out.verdict, Verdict::Send(9));
}

/// A control's own variable initialisers run before its apply block, on every packet (the
/// front-end once dropped either the one or the other).
#[test]
fn control_level_initialisers_run_before_apply() {
    let m = common::load_source(
        r#"#include <core.p4>
#include <tc/pna.p4>
header h_t { bit<8> a; }
struct hs { h_t h; }
struct m_t { }
parser P(packet_in pkt, out hs hdr, inout m_t meta, in pna_main_parser_input_metadata_t istd) {
    state start { pkt.extract(hdr.h); transition accept; }
}
control C(inout hs hdr, inout m_t meta, in pna_main_input_metadata_t istd,
          inout pna_main_output_metadata_t ostd) {
    bit<8> k = 8w7;
    apply { hdr.h.a = hdr.h.a + k; k = 8w100; send_to_port((PortId_t)32w1); }
}
control D(packet_out pkt, inout hs hdr, in m_t meta, in pna_main_output_metadata_t ostd) {
    apply { pkt.emit(hdr.h); }
}
PNA_NIC(P(), C(), D()) main;
"#,
    );
    let mut interp = Interpreter::new(Arc::clone(&m), 0).unwrap();
    let mut dp = common::Double::new(&m);
    for _ in 0..2 {
        let out = interp.process(&mut dp, &[1], 0);
        assert_eq!(out.verdict, Verdict::Send(1));
        assert_eq!(out.packet, &[8]);
    }
}
