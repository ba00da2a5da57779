//! What the generated deparser and parser leave out, run in the kernel: after a resize,
//! headers are moved as the bytes they were parsed from (with the fields the program
//! assigned stored over them), `h = {#}` only drops `h`, and a metadata field the parser
//! sets to a host-port answer is asked where it is read, unless something else writes it;
//! a stack filled with `.next` is written in place, including an element picked at run time;
//! a checksum folded once gives what folding per word gives.
//! Each program runs its STF on TC and XDP, and the C is checked for the shape that makes
//! it cheap.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod common;

use p4tc_ebpf::Hook;
use p4tc_ir::ir::Module;

fn module(name: &str, src: &str) -> Module {
    common::module_of_source(name, src)
}

fn run_kernel(name: &str, m: &Module, stf_text: &str, hook: Hook) -> Result<(), String> {
    common::run_stf_in_kernel(name, m, stf_text, hook)
}

const HEADERS: &str = r#"
#include <core.p4>
#include <tc/pna.p4>

header eth_t { bit<48> dst; bit<48> src; bit<16> type; }
header tag_t { bit<16> id; bit<16> next; }
header pay_t { bit<16> hi; bit<16> lo; }
struct headers_t { eth_t eth; tag_t tag; pay_t pay; }
struct meta_t { bool from_host; }

parser P(packet_in pkt, out headers_t hdr, inout meta_t meta,
         in pna_main_parser_input_metadata_t istd) {
    state start {
        meta.from_host = is_host_port(istd.input_port);
        pkt.extract(hdr.eth);
        transition select(hdr.eth.type) {
            0x9999: tagged;
            0x88b6: payload;
            default: accept;
        }
    }
    state tagged {
        pkt.extract(hdr.tag);
        transition payload;
    }
    // Reached at offset 18 or 14: where `pay` was read is recorded at run time.
    state payload {
        pkt.extract(hdr.pay);
        transition accept;
    }
}

control D(packet_out pkt, inout headers_t hdr, in meta_t meta,
          in pna_main_output_metadata_t ostd) {
    apply {
        pkt.emit(hdr.eth);
        pkt.emit(hdr.tag);
        pkt.emit(hdr.pay);
    }
}
"#;

/// Untags: the tag goes (`{#}`), the Ethernet type and half of the word after it change, so both
/// are copied as bytes with those fields stored over them; `from_host` is only read.
const UNTAG: &str = r#"
control C(inout headers_t hdr, inout meta_t meta, in pna_main_input_metadata_t istd,
          inout pna_main_output_metadata_t ostd) {
    apply {
        if (hdr.tag.isValid()) {
            hdr.eth.type = hdr.tag.next;
            hdr.tag = {#};
            hdr.pay.lo = hdr.pay.lo + 1;
        }
        if (meta.from_host) {
            drop_packet();
        } else {
            send_to_port((PortId_t)3);
        }
    }
}
PNA_NIC(P(), C(), D()) main;
"#;

const UNTAG_STF: &str = "
# tagged: the 4-byte tag goes, the type is the tag's next, pay's low half is one more
packet 2 000000000001 000000000002 9999 0001 88b5 12340005 00112233445566778899aabbccddeeff0011223344556677
expect 3 000000000001 000000000002 88b5 12340006 00112233445566778899aabbccddeeff0011223344556677 $
# untagged: out as it came
packet 2 000000000001 000000000002 88b5 00112233445566778899aabbccddeeff0011223344556677
expect 3 000000000001 000000000002 88b5 00112233445566778899aabbccddeeff0011223344556677 $
# no tag, a word read at offset 14: out as it came
packet 2 000000000001 000000000002 88b6 00000009 00112233445566778899aabbccddeeff0011223344556677
expect 3 000000000001 000000000002 88b6 00000009 00112233445566778899aabbccddeeff0011223344556677 $
";

/// The control overwrites `from_host` for broadcasts: the parser's answer must be kept
/// as a value, not asked where it is read.
const OVERWRITE: &str = r#"
control C(inout headers_t hdr, inout meta_t meta, in pna_main_input_metadata_t istd,
          inout pna_main_output_metadata_t ostd) {
    apply {
        if (hdr.eth.dst == 0xffffffffffff) {
            meta.from_host = true;
        }
        if (meta.from_host) {
            drop_packet();
        } else {
            send_to_port((PortId_t)3);
        }
    }
}
PNA_NIC(P(), C(), D()) main;
"#;

const OVERWRITE_STF: &str = "
# broadcast: the control says from the host: dropped (nothing expected)
packet 2 ffffffffffff 000000000002 88b5 00112233445566778899aabbccddeeff0011223344556677
# unicast from a network port: out of port 3
packet 2 000000000001 000000000002 88b5 00112233445566778899aabbccddeeff0011223344556677
expect 3 000000000001 000000000002 88b5 00112233445566778899aabbccddeeff0011223344556677 $
";

/// A stack the parser fills with `.next`, written in place: the first tag's id by a
/// constant index, another by an index known at run time only.
const STACK: &str = r#"
#include <core.p4>
#include <tc/pna.p4>

header eth_t { bit<48> dst; bit<48> src; bit<16> type; }
header tag_t { bit<15> id; bit<1> more; bit<16> next; }
struct headers_t { eth_t eth; tag_t[3] tags; }
struct meta_t { bit<32> pick; }

parser P(packet_in pkt, out headers_t hdr, inout meta_t meta,
         in pna_main_parser_input_metadata_t istd) {
    state start {
        pkt.extract(hdr.eth);
        transition select(hdr.eth.type) {
            0x9999: tags;
            default: accept;
        }
    }
    state tags {
        pkt.extract(hdr.tags.next);
        transition select(hdr.tags.last.more) {
            1: tags;
            0: accept;
        }
    }
}

control C(inout headers_t hdr, inout meta_t meta, in pna_main_input_metadata_t istd,
          inout pna_main_output_metadata_t ostd) {
    apply {
        if (istd.parser_error != error.NoError) {
            drop_packet();
            return;
        }
        hdr.tags[0].id = hdr.tags[0].id + 1;
        meta.pick = (bit<32>)hdr.eth.dst[1:0];
        hdr.tags[meta.pick].next = 0x7777;
        send_to_port((PortId_t)3);
    }
}

control D(packet_out pkt, inout headers_t hdr, in meta_t meta,
          in pna_main_output_metadata_t ostd) {
    apply {
        pkt.emit(hdr.eth);
        pkt.emit(hdr.tags);
    }
}
PNA_NIC(P(), C(), D()) main;
"#;

const STACK_STF: &str = "
# two tags (id 1 with more set, then id 2); the run-time index picks the second
packet 2 000000000001 000000000002 9999 0003 9999 0004 88b5 00112233445566778899aabbccddeeff00112233
expect 3 000000000001 000000000002 9999 0005 9999 0004 7777 00112233445566778899aabbccddeeff00112233 $
# one tag (id 8); the run-time index picks the first
packet 2 000000000000 000000000002 9999 0010 88b5 00112233445566778899aabbccddeeff0011223344556677
expect 3 000000000000 000000000002 9999 0012 7777 00112233445566778899aabbccddeeff0011223344556677 $
";

/// A varbit nothing reads but the emit, behind a tag that goes: the parser leaves its
/// bytes in the packet and the deparser loads them before the move.
const VARBIT: &str = r#"
#include <core.p4>
#include <tc/pna.p4>

header eth_t { bit<48> dst; bit<48> src; bit<16> type; }
header tag_t { bit<16> id; bit<16> next; }
header opt_t { bit<8> len; varbit<64> data; }
struct headers_t { eth_t eth; tag_t tag; opt_t opt; }
struct meta_t { bit<8> first; }

parser P(packet_in pkt, out headers_t hdr, inout meta_t meta,
         in pna_main_parser_input_metadata_t istd) {
    state start {
        pkt.extract(hdr.eth);
        transition select(hdr.eth.type) {
            0x9999: tagged;
            default: accept;
        }
    }
    state tagged {
        pkt.extract(hdr.tag);
        meta.first = pkt.lookahead<bit<8>>();
        verify(meta.first <= 8, error.HeaderTooShort);
        pkt.extract(hdr.opt, (bit<32>)meta.first << 3);
        transition accept;
    }
}

control C(inout headers_t hdr, inout meta_t meta, in pna_main_input_metadata_t istd,
          inout pna_main_output_metadata_t ostd) {
    apply {
        if (hdr.tag.id == 1) {
            hdr.eth.type = hdr.tag.next;
            hdr.tag = {#};
        }
        send_to_port((PortId_t)3);
    }
}

control D(packet_out pkt, inout headers_t hdr, in meta_t meta,
          in pna_main_output_metadata_t ostd) {
    apply {
        pkt.emit(hdr.eth);
        pkt.emit(hdr.tag);
        pkt.emit(hdr.opt);
    }
}
PNA_NIC(P(), C(), D()) main;
"#;

const VARBIT_STF: &str = "
# tag 1 goes: the option (3 bytes after its length) moves up with the rest
packet 2 000000000001 000000000002 9999 0001 88b5 03 a1a2a3 00112233445566778899aabbccddeeff00112233
expect 3 000000000001 000000000002 88b5 03 a1a2a3 00112233445566778899aabbccddeeff00112233 $
# tag 2 stays: out as it came
packet 2 000000000001 000000000002 9999 0002 88b5 02 b1b2 00112233445566778899aabbccddeeff0011223344
expect 3 000000000001 000000000002 9999 0002 88b5 02 b1b2 00112233445566778899aabbccddeeff0011223344 $
";

/// An InternetChecksum summed without a fold per word (folded once, at `get` and
/// `get_state`), on the sums where one's complement has two zeros.
const CHECKSUM: &str = r#"
#include <core.p4>
#include <tc/pna.p4>

header eth_t { bit<48> dst; bit<48> src; bit<16> type; }
header w_t { bit<16> a; bit<16> b; bit<16> c; bit<16> get; bit<16> state; }
struct headers_t { eth_t eth; w_t w; }
struct meta_t { }

parser P(packet_in pkt, out headers_t hdr, inout meta_t meta,
         in pna_main_parser_input_metadata_t istd) {
    state start {
        pkt.extract(hdr.eth);
        pkt.extract(hdr.w);
        transition accept;
    }
}

control C(inout headers_t hdr, inout meta_t meta, in pna_main_input_metadata_t istd,
          inout pna_main_output_metadata_t ostd) {
    InternetChecksum() ck;
    apply {
        ck.clear();
        ck.add({ hdr.w.a, hdr.w.b });
        ck.subtract({ hdr.w.c });
        hdr.w.get = ck.get();
        hdr.w.state = ck.get_state();
        send_to_port((PortId_t)3);
    }
}

control D(packet_out pkt, inout headers_t hdr, in meta_t meta,
          in pna_main_output_metadata_t ostd) {
    apply {
        pkt.emit(hdr.eth);
        pkt.emit(hdr.w);
    }
}
PNA_NIC(P(), C(), D()) main;
"#;

/// a + b - c: `get`, then `get_state`; worked by hand (the interpreter agrees).
const CHECKSUM_STF: &str = "
packet 2 000000000001 000000000002 88b5 0000 0000 0000 0000 0000 00112233445566778899aabbccddeeff0011223344556677
expect 3 000000000001 000000000002 88b5 0000 0000 0000 0000 ffff 00112233445566778899aabbccddeeff0011223344556677 $
packet 2 000000000001 000000000002 88b5 0000 0000 ffff 0000 0000 00112233445566778899aabbccddeeff0011223344556677
expect 3 000000000001 000000000002 88b5 0000 0000 ffff ffff 0000 00112233445566778899aabbccddeeff0011223344556677 $
packet 2 000000000001 000000000002 88b5 ffff ffff 0000 0000 0000 00112233445566778899aabbccddeeff0011223344556677
expect 3 000000000001 000000000002 88b5 ffff ffff 0000 0000 ffff 00112233445566778899aabbccddeeff0011223344556677 $
packet 2 000000000001 000000000002 88b5 ffff 0001 0000 0000 0000 00112233445566778899aabbccddeeff0011223344556677
expect 3 000000000001 000000000002 88b5 ffff 0001 0000 fffe 0001 00112233445566778899aabbccddeeff0011223344556677 $
packet 2 000000000001 000000000002 88b5 1234 edcb 0000 0000 0000 00112233445566778899aabbccddeeff0011223344556677
expect 3 000000000001 000000000002 88b5 1234 edcb 0000 0000 ffff 00112233445566778899aabbccddeeff0011223344556677 $
packet 2 000000000001 000000000002 88b5 0001 0000 0001 0000 0000 00112233445566778899aabbccddeeff0011223344556677
expect 3 000000000001 000000000002 88b5 0001 0000 0001 0000 ffff 00112233445566778899aabbccddeeff0011223344556677 $
packet 2 000000000001 000000000002 88b5 ffff ffff ffff 0000 0000 00112233445566778899aabbccddeeff0011223344556677
expect 3 000000000001 000000000002 88b5 ffff ffff ffff 0000 ffff 00112233445566778899aabbccddeeff0011223344556677 $
packet 2 000000000001 000000000002 88b5 8000 8000 0001 0000 0000 00112233445566778899aabbccddeeff0011223344556677
expect 3 000000000001 000000000002 88b5 8000 8000 0001 0000 ffff 00112233445566778899aabbccddeeff0011223344556677 $
";

/// `meta.origin = is_host_port(..) ? 7 : 9`, read by the control, while a call takes another
/// metadata field: the answer is still asked where `origin` is read.
const LAZY_SELECT: &str = r#"
#include <core.p4>
#include <tc/pna.p4>

header eth_t { bit<48> dst; bit<48> src; bit<16> type; }
struct headers_t { eth_t eth; }
struct meta_t { bit<8> origin; bit<16> type; }

parser P(packet_in pkt, out headers_t hdr, inout meta_t meta,
         in pna_main_parser_input_metadata_t istd) {
    state start {
        meta.origin = is_host_port(istd.input_port) ? 8w7 : 8w9;
        pkt.extract(hdr.eth);
        transition accept;
    }
}

control C(inout headers_t hdr, inout meta_t meta, in pna_main_input_metadata_t istd,
          inout pna_main_output_metadata_t ostd) {
    apply {
        meta.type = hdr.eth.type;
        hdr.eth.type = (bit<16>)meta.origin;
        send_to_port((PortId_t)(bit<32>)meta.type);
    }
}

control D(packet_out pkt, inout headers_t hdr, in meta_t meta,
          in pna_main_output_metadata_t ostd) {
    apply { pkt.emit(hdr.eth); }
}
PNA_NIC(P(), C(), D()) main;
"#;

const LAZY_SELECT_STF: &str = "
# port 2 is no host port: origin 9 goes in the type, the old type (3) picks the port
packet 2 000000000001 000000000002 0003
expect 3 000000000001 000000000002 0009 $
";

#[test]
fn a_host_port_question_under_a_condition_is_asked_where_read() {
    let m = module("lazy_select", LAZY_SELECT);
    let c = p4tc_ebpf::generate(&m, "lazy_select", Hook::Tc)
        .expect("generates")
        .c;
    assert!(
        c.contains("asked where it is read") && c.contains("? 7u : 9u"),
        "origin is read lazily:\n{c}"
    );
    if let Some(why) = common::kernel_unavailable() {
        println!("skipped the kernel half: {why}");
        return;
    }
    for hook in [Hook::Tc, Hook::Xdp] {
        run_kernel("lazy_select", &m, LAZY_SELECT_STF, hook)
            .unwrap_or_else(|e| panic!("lazy_select ({hook:?}): {e}"));
    }
}

#[test]
fn the_generated_c_moves_only_what_changed() {
    let untag = module("untag", &format!("{HEADERS}{UNTAG}"));
    let c = p4tc_ebpf::generate(&untag, "untag", Hook::Tc)
        .expect("generates")
        .c;
    // The headers are separate variables (the struct is only used member by member).
    assert!(c.contains("hdr_eth = {};"), "headers split:\n{c}");
    // The tag is dropped without rewriting it, and the fields of the headers around it
    // that nothing assigns are never stored from their parsed values.
    assert!(
        c.contains("if (hdr_tag.__valid) { hdr_tag ="),
        "h = {{#}} is a validity change:\n{c}"
    );
    assert!(
        c.contains("raw_0_") && c.contains("raw_2_"),
        "eth and pay copied:\n{c}"
    );
    // eth is always at 0: no run-time record of it; pay's place depends on the path.
    assert!(
        c.contains("(u8 *)data + 0;") && !c.contains("po_0_"),
        "eth's offset is a constant:\n{c}"
    );
    assert!(c.contains("po_2_"), "pay's offset is recorded:\n{c}");

    assert!(
        !c.contains("hdr_eth.dst, 6") && !c.contains("hdr_eth.src, 6"),
        "eth's unassigned addresses are not rebuilt:\n{c}"
    );
    assert!(
        c.contains("asked where it is read"),
        "from_host is read lazily:\n{c}"
    );
    let overwrite = module("overwrite", &format!("{HEADERS}{OVERWRITE}"));
    let c = p4tc_ebpf::generate(&overwrite, "overwrite", Hook::Tc)
        .expect("generates")
        .c;
    assert!(
        !c.contains("asked where it is read"),
        "a field the control writes is not lazy:\n{c}"
    );
    let varbit = module("varbit", VARBIT);
    let cv = p4tc_ebpf::generate(&varbit, "varbit", Hook::Tc)
        .expect("generates")
        .c;
    assert!(
        cv.contains("left in the packet by the parser")
            && cv.matches("bpf_skb_load_bytes").count() == 1,
        "the varbit is loaded by the deparser only:\n{cv}"
    );
    // The option is only extracted, so it keeps its parsed length: the headers' sizes are
    // compared only after a change of validity, not on every packet.
    assert!(
        cv.contains("if (dirty) {") && !cv.contains("if (dirty || delta_ != 0)"),
        "the sizes are compared on every packet:\n{cv}"
    );
    // Its bytes pass through a scratch buffer: no helper takes the header's address, so
    // its validity and length stay out of memory.
    assert!(
        cv.contains("bpf_skb_load_bytes(skb, 19, vb_2_,")
            && cv.contains("bpf_skb_store_bytes(skb, wo_, vb_2_,")
            && !cv.contains(".b,"),
        "the varbit's bytes go through the header:\n{cv}"
    );
}

#[test]
fn moved_and_lazy_programs_pass_their_stf_in_the_kernel() {
    if let Some(why) = common::kernel_unavailable() {
        println!("skipped: {why}");
        return;
    }
    let mut failures = Vec::new();
    for (name, control, stf_text) in [
        ("untag", UNTAG, UNTAG_STF),
        ("overwrite", OVERWRITE, OVERWRITE_STF),
        ("stack", "", STACK_STF),
        ("varbit", "", VARBIT_STF),
        ("checksum", "", CHECKSUM_STF),
    ] {
        let src = match name {
            "stack" => STACK.to_string(),
            "varbit" => VARBIT.to_string(),
            "checksum" => CHECKSUM.to_string(),
            _ => format!("{HEADERS}{control}"),
        };
        let m = module(name, &src);
        for hook in [Hook::Tc, Hook::Xdp] {
            if let Err(e) = run_kernel(name, &m, stf_text, hook) {
                failures.push(format!("{name} ({hook:?}): {e}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
