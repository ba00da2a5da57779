//! Parser semantics: bounded loops, errors, explicit rejects, stacks, select forms.

mod common;

use std::sync::Arc;

use p4tc_interp::{Interpreter, Verdict};
use p4tc_ir::ir::Module;

/// A program whose parser states are `states`; the control sends to port 1 + the number of
/// valid stack elements, and the deparser emits everything.
fn program(states: &str) -> Arc<Module> {
    common::load_source(&format!(
        r#"#include <core.p4>
#include <tc/pna.p4>
header b_t {{ bit<8> v; }}
struct headers_t {{ b_t first; b_t[3] stack; }}
struct metadata_t {{ bit<8> n; }}
parser P(packet_in pkt, out headers_t hdr, inout metadata_t meta, in pna_main_parser_input_metadata_t istd) {{
{states}
}}
control C(inout headers_t hdr, inout metadata_t meta, in pna_main_input_metadata_t istd, inout pna_main_output_metadata_t ostd) {{
    apply {{
        bit<32> n = 1;
        if (hdr.stack[0].isValid()) {{ n = n + 1; }}
        if (hdr.stack[1].isValid()) {{ n = n + 1; }}
        if (hdr.stack[2].isValid()) {{ n = n + 1; }}
        send_to_port((PortId_t)n);
    }}
}}
control D(packet_out pkt, inout headers_t hdr, in metadata_t meta, in pna_main_output_metadata_t ostd) {{
    apply {{ pkt.emit(hdr); }}
}}
PNA_NIC(P(), C(), D()) main;
"#
    ))
}

fn error(m: &Module, name: &str) -> Option<u32> {
    Some(m.errors.iter().position(|e| e == name).unwrap() as u32)
}

#[test]
fn an_endless_parser_loop_stops_with_parser_timeout() {
    let m = program("state start { transition start; }");
    let mut interp = Interpreter::new(Arc::clone(&m), 0).unwrap();
    let mut dp = common::Double::new(&m);
    let out = interp.process(&mut dp, &[1, 2, 3], 1);
    assert_eq!(out.parser_error, error(&m, "ParserTimeout"));
    // The control still runs; nothing was extracted, so the packet is unchanged.
    assert_eq!(out.verdict, Verdict::Send(1));
    assert_eq!(out.packet, &[1, 2, 3]);
}

#[test]
fn a_stack_overflow_raises_stack_out_of_bounds() {
    let m = program(
        "state start { pkt.extract(hdr.stack.next); transition select(hdr.stack.last.v) { 0: accept; default: start; } }",
    );
    let mut interp = Interpreter::new(Arc::clone(&m), 0).unwrap();
    let mut dp = common::Double::new(&m);
    // Two elements then the terminator: three valid elements, the rest is payload.
    let out = interp.process(&mut dp, &[5, 6, 0, 9], 1);
    assert_eq!(out.parser_error, None);
    assert_eq!(out.verdict, Verdict::Send(4));
    assert_eq!(out.packet, &[5, 6, 0, 9]);
    // No terminator within three: the fourth extract overflows.
    let out = interp.process(&mut dp, &[5, 6, 7, 8, 9], 1);
    assert_eq!(out.parser_error, error(&m, "StackOutOfBounds"));
    assert_eq!(out.verdict, Verdict::Send(4));
    // Too short before the terminator.
    let out = interp.process(&mut dp, &[5, 6], 1);
    assert_eq!(out.parser_error, error(&m, "PacketTooShort"));
    assert_eq!(out.verdict, Verdict::Send(3));
}

#[test]
fn an_explicit_reject_drops_and_an_error_does_not() {
    let m = program(
        "state start { pkt.extract(hdr.first); verify(hdr.first.v != 0xff, error.ParserInvalidArgument); \
         transition select(hdr.first.v) { 1: accept; 2 &&& 0x0f: reject; 0x10 .. 0x1f: accept; }}",
    );
    let mut interp = Interpreter::new(Arc::clone(&m), 0).unwrap();
    let mut dp = common::Double::new(&m);
    let out = interp.process(&mut dp, &[1, 42], 1);
    assert_eq!((out.verdict, out.parser_error), (Verdict::Send(1), None));
    assert_eq!(out.packet, &[1, 42]);
    // 0x32 &&& 0x0f == 2: transition reject without an error: dropped.
    let out = interp.process(&mut dp, &[0x32], 1);
    assert_eq!(out.verdict, Verdict::Drop);
    // In the range: accepted.
    let out = interp.process(&mut dp, &[0x17], 1);
    assert_eq!((out.verdict, out.parser_error), (Verdict::Send(1), None));
    // No case: NoMatch, the control runs.
    let out = interp.process(&mut dp, &[0x40], 1);
    assert_eq!(out.parser_error, error(&m, "NoMatch"));
    assert_eq!(out.verdict, Verdict::Send(1));
    // verify fails.
    let out = interp.process(&mut dp, &[0xff], 1);
    assert_eq!(out.parser_error, error(&m, "ParserInvalidArgument"));
    // Empty packet.
    let out = interp.process(&mut dp, &[], 1);
    assert_eq!(out.parser_error, error(&m, "PacketTooShort"));
}

#[test]
fn lookahead_and_advance() {
    let m = program(
        "state start { transition select(pkt.lookahead<bit<8>>()) { 0xaa: skip; default: accept; } }
         state skip { pkt.advance(16); pkt.extract(hdr.first); transition accept; }",
    );
    let mut interp = Interpreter::new(Arc::clone(&m), 0).unwrap();
    let mut dp = common::Double::new(&m);
    // Skips two bytes, extracts the third; the skipped bytes are gone from the output.
    let out = interp.process(&mut dp, &[0xaa, 1, 7, 8], 1);
    assert_eq!(out.parser_error, None);
    assert_eq!(out.packet, &[7, 8]);
    let out = interp.process(&mut dp, &[0xaa, 1], 1);
    assert_eq!(out.parser_error, error(&m, "PacketTooShort"));
    let out = interp.process(&mut dp, &[], 1);
    assert_eq!(out.parser_error, error(&m, "PacketTooShort"));
}

#[test]
fn value_sets_start_empty_and_can_be_filled() {
    let m = common::load_source(
        r#"#include <core.p4>
#include <tc/pna.p4>
header b_t { bit<8> v; }
struct headers_t { b_t first; b_t second; }
struct metadata_t { }
parser P(packet_in pkt, out headers_t hdr, inout metadata_t meta, in pna_main_parser_input_metadata_t istd) {
    value_set<bit<8>>(4) special;
    state start {
        pkt.extract(hdr.first);
        transition select(hdr.first.v) { special: more; default: accept; }
    }
    state more { pkt.extract(hdr.second); transition accept; }
}
control C(inout headers_t hdr, inout metadata_t meta, in pna_main_input_metadata_t istd, inout pna_main_output_metadata_t ostd) {
    apply { if (hdr.second.isValid()) { send_to_port((PortId_t)2); } }
}
control D(packet_out pkt, inout headers_t hdr, in metadata_t meta, in pna_main_output_metadata_t ostd) {
    apply { pkt.emit(hdr); }
}
PNA_NIC(P(), C(), D()) main;
"#,
    );
    let set = m
        .instances
        .iter()
        .find(|(_, i)| i.name == "special")
        .map(|(h, _)| h)
        .unwrap();
    let mut interp = Interpreter::new(Arc::clone(&m), 0).unwrap();
    let mut dp = common::Double::new(&m);
    assert_eq!(
        interp.process(&mut dp, &[0x42, 1], 1).verdict,
        Verdict::Pass
    );
    interp.set_value_set(set, vec![(0x40, 0xf0)]).unwrap();
    assert_eq!(
        interp.process(&mut dp, &[0x42, 1], 1).verdict,
        Verdict::Send(2)
    );
    assert_eq!(
        interp.process(&mut dp, &[0x52, 1], 1).verdict,
        Verdict::Pass
    );
    let not_a_set = m.instances.iter().map(|(h, _)| h).find(|&h| h != set);
    if let Some(h) = not_a_set {
        assert!(interp.set_value_set(h, vec![]).is_err());
    }
}
