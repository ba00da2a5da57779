//! The parser unrolled over its header stacks' fill levels (`Gen::parser_states`): every
//! copy of a state knows how full each stack is, so `.next`, `.last` and `.lastIndex` are
//! constants. Two stacks, a state that extracts twice into one, a state copied per level
//! that also extracts an ordinary header, a full stack pushed onto, a stack popped empty, an
//! extract past a stack's end in either stack (StackOutOfBounds) and a packet cut short run
//! through the kernel (TC and XDP) and the reference interpreter with one STF; and the C of
//! this program and of mpls_label_stack is checked for a parser without run-time indices;
//! a stack extracted into under a condition keeps the plain parser, run in the kernel too.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::sync::Arc;

use p4tc_ebpf::Hook;
use p4tc_ir::ir::Module;
use p4tc_runtime::{ManualClock, MemoryBackend, PipelineModel};
use p4tc_testkit::interp_target::InterpTarget;
use p4tc_testkit::target::Target;

const STACKS: &str = r#"
#include <core.p4>
#include <tc/pna.p4>

header eth_t { bit<48> dst; bit<48> src; bit<16> type; }
header tag_t { bit<15> id; bit<1> more; bit<16> next; }
header opt_t { bit<7> kind; bit<1> more; }
header pay_t { bit<16> v; }
struct headers_t { eth_t eth; tag_t[3] tags; opt_t[2] opts; pay_t pay; }
struct meta_t { bit<32> depth; bit<16> last_id; bit<32> nopts; }

parser P(packet_in pkt, out headers_t hdr, inout meta_t meta,
         in pna_main_parser_input_metadata_t istd) {
    state start {
        pkt.extract(hdr.eth);
        transition select(hdr.eth.type) {
            0x9999: tags;
            0x7777: two_tags;
            0x8888: opts;
            default: accept;
        }
    }
    state tags {
        pkt.extract(hdr.tags.next);
        transition select(hdr.tags.last.more) {
            1: tags;
            0: after_tags;
        }
    }
    state two_tags {
        pkt.extract(hdr.tags.next);
        pkt.extract(hdr.tags.next);
        transition select(hdr.tags.last.more) {
            1: tags;
            0: after_tags;
        }
    }
    state after_tags {
        pkt.extract(hdr.pay);
        meta.depth = hdr.tags.lastIndex + 1;
        meta.last_id = (bit<16>)hdr.tags.last.id;
        transition select(hdr.tags.last.next) {
            0x8888: opts;
            default: accept;
        }
    }
    state opts {
        pkt.extract(hdr.opts.next);
        meta.nopts = hdr.opts.lastIndex + 1;
        transition select(hdr.opts.last.more) {
            1: opts;
            0: accept;
        }
    }
}

control C(inout headers_t hdr, inout meta_t meta, in pna_main_input_metadata_t istd,
          inout pna_main_output_metadata_t ostd) {
    apply {
        if (istd.parser_error == error.StackOutOfBounds) {
            send_to_port((PortId_t)7);
            return;
        }
        if (istd.parser_error != error.NoError) {
            drop_packet();
            return;
        }
        hdr.eth.src = meta.last_id ++ meta.depth;
        hdr.eth.dst[31:0] = meta.nopts;
        if (hdr.eth.dst[47:40] == 1) {
            hdr.tags.push_front(1);
            hdr.tags[0].setValid();
            hdr.tags[0].id = 0x55;
            hdr.tags[0].more = 1;
            hdr.tags[0].next = 0x9999;
        } else if (hdr.eth.dst[47:40] == 2) {
            hdr.tags.pop_front(1);
        }
        send_to_port((PortId_t)3);
    }
}

control D(packet_out pkt, inout headers_t hdr, in meta_t meta,
          in pna_main_output_metadata_t ostd) {
    apply {
        pkt.emit(hdr.eth);
        pkt.emit(hdr.tags);
        pkt.emit(hdr.pay);
        pkt.emit(hdr.opts);
    }
}
PNA_NIC(P(), C(), D()) main;
"#;

/// eth.src becomes last_id ++ depth, the low 32 bits of eth.dst the options' count; the
/// first byte of eth.dst picks a push (1) or a pop (2).
const STACKS_STF: &str = "
# two tags, then pay: depth 2, last id 2
packet 1 000000000001 000000000002 9999 00039999 00040000 abcd 1122334455667788
expect 3 000000000000 000200000002 9999 00039999 00040000 abcd 1122334455667788 $

# three tags (full), pushed onto: the third goes, a new first (id 0x55, more) comes
packet 1 010000000000 000000000002 9999 00039999 00059999 00060000 1234 5566
expect 3 010000000000 000300000003 9999 00ab9999 00039999 00059999 1234 5566 $

# one tag, popped: the stack is empty, pay follows eth
packet 1 020000000000 000000000002 9999 00080000 beef 0102030405060708
expect 3 020000000000 000400000001 9999 beef 0102030405060708 $

# two tags in one state, pay, then two options: depth 2, last id 2, two options
packet 1 000000000000 000000000002 7777 00031111 00048888 cafe 0304 aabb
expect 3 000000000002 000200000002 7777 00031111 00048888 cafe 0304 aabb $

# one option only, straight from eth
packet 1 000000000000 000000000002 8888 04 aabbccdd
expect 3 000000000001 000000000000 8888 04 aabbccdd $

# a fourth tag: StackOutOfBounds, sent to 7 unchanged
packet 1 000000000009 000000000002 9999 00039999 00039999 00039999 00039999 00
expect 7 000000000009 000000000002 9999 00039999 00039999 00039999 00039999 00 $

# a third option: StackOutOfBounds
packet 1 000000000000 000000000002 8888 03 03 03 05 00
expect 7 000000000000 000000000002 8888 03 03 03 05 00 $

# a tag that says more, then the packet ends: PacketTooShort, dropped
packet 1 000000000000 000000000002 9999 00039999
";

fn module(name: &str, src: &str) -> Module {
    common::module_of_source(name, src)
}

fn run(target: &mut dyn Target, stf_text: &str) -> Result<(), String> {
    common::run_stf(target, stf_text)
}

/// The parser's part of the generated C.
fn parser_c(c: &str) -> &str {
    let start = c.find("---- Parser ----").expect("a parser section");
    let end = c.find("---- Control ----").expect("a control section");
    &c[start..end]
}

#[test]
fn unrolled_parser_has_constant_stack_indices() {
    let m = module("stacks", STACKS);
    let c = p4tc_ebpf::generate(&m, "stacks", Hook::Tc)
        .expect("generates")
        .c;
    let p = parser_c(&c);
    assert!(
        !p.contains("p4tc_index") && !p.contains("next_index - 1"),
        "no run-time stack index in the parser:\n{p}"
    );
    // tags at 0, 1, 2 (and 3, which overflows), after_tags at 1, 2 and 3; the options'
    // level (0) is followed there too, as opts comes after.
    for label in [
        "state_1_tags_at0_0:",
        "state_1_tags_at3_0:",
        "state_3_after_tags_at3_0:",
    ] {
        assert!(p.contains(label), "{label} in:\n{p}");
    }
    // The options' level is followed alone once the tags' is needed no more.
    assert!(
        p.contains("state_4_opts_atx_1:"),
        "opts by its own level:\n{p}"
    );
    assert!(p.contains(".e[2].id = "), "constant elements:\n{p}");

    let path = common::examples_dir().join("mpls_label_stack/mpls_label_stack.p4");
    let mpls = common::module_of(&path);
    let c = p4tc_ebpf::generate(&mpls, "mpls_label_stack", Hook::Tc)
        .expect("generates")
        .c;
    let p = parser_c(&c);
    assert!(
        !p.contains("p4tc_index") && p.contains("meta->bottom_ttl = hdr_mpls.e[3].ttl;"),
        "mpls_label_stack's parser unrolled:\n{p}"
    );
}

#[test]
fn unrolled_parser_passes_its_stf_in_the_interpreter() {
    let m = Arc::new(module("stacks", STACKS));
    let pipeline = Arc::new(PipelineModel::new(m.clone(), "stacks").expect("model"));
    let clock = ManualClock::new();
    let backend = MemoryBackend::new(pipeline.clone(), Arc::new(clock.clone())).expect("memory");
    let interpreter = p4tc_interp::Interpreter::new(m, 0).expect("interpreter");
    let mut target = InterpTarget::new(interpreter, backend, clock, pipeline);
    if let Err(e) = run(&mut target, STACKS_STF) {
        panic!("interpreter: {e}");
    }
}

#[test]
fn unrolled_parser_passes_its_stf_in_the_kernel() {
    if let Some(why) = common::kernel_unavailable() {
        println!("skipped: {why}");
        return;
    }
    let m = module("stacks", STACKS);
    common::assert_stf_in_kernel_at_both_hooks("stacks", &m, STACKS_STF);
}

/// A stack whose fill level is not known at compile time (an extract into `.next` under a
/// condition): the plain parser, with the fill level in `next_index`.
const DEEP: &str = r#"
#include <core.p4>
#include <tc/pna.p4>

header eth_t { bit<48> dst; bit<48> src; bit<16> type; }
header tag_t { bit<15> id; bit<1> more; bit<16> next; }
struct headers_t { eth_t eth; tag_t[3] tags; }
struct meta_t { bit<32> depth; bit<16> last; }

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
        if (hdr.eth.type == 0x9999) {
            pkt.extract(hdr.tags.next);
        }
        transition select(hdr.tags.last.more) {
            1: tags;
            0: done;
        }
    }
    state done {
        meta.depth = hdr.tags.lastIndex + 1;
        transition again;
    }
    state again {
        meta.last = (bit<16>)hdr.tags.last.id;
        transition accept;
    }
}

control C(inout headers_t hdr, inout meta_t meta, in pna_main_input_metadata_t istd,
          inout pna_main_output_metadata_t ostd) {
    apply {
        hdr.eth.src = meta.last ++ meta.depth;
        hdr.tags[1].next = 0x7777;
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

const DEEP_STF: &str = "
# three tags: the last id and the depth in eth.src, the second tag's next rewritten
packet 1 000000000001 000000000002 9999 00039999 00059999 00060000 1234
expect 3 000000000001 000300000003 9999 00039999 00057777 00060000 1234 $
";

#[test]
fn a_conditional_extract_keeps_the_plain_parser() {
    let m = module("deep", DEEP);
    let c = p4tc_ebpf::generate(&m, "deep", Hook::Tc)
        .expect("generates")
        .c;
    let p = parser_c(&c);
    assert!(
        p.contains("p4tc_index") && !p.contains("_at0:"),
        "the plain parser:\n{p}"
    );
    if let Some(why) = common::kernel_unavailable() {
        println!("skipped in the kernel: {why}");
        return;
    }
    common::assert_stf_in_kernel_at_both_hooks("deep", &m, DEEP_STF);
}

#[test]
fn a_stack_with_too_many_levels_keeps_the_plain_parser() {
    // DEEP with its extract unconditional: unrolled at 3 tags; at 24, three states using
    // the level would take 25 + 24 + 24 copies, more than the generator makes.
    let unconditional = DEEP.replace(
        "if (hdr.eth.type == 0x9999) {\n            pkt.extract(hdr.tags.next);\n        }",
        "pkt.extract(hdr.tags.next);",
    );
    assert_ne!(unconditional, DEEP);
    for (depth, unrolled) in [(3, true), (24, false)] {
        let src = unconditional.replace("tag_t[3] tags", &format!("tag_t[{depth}] tags"));
        let m = module("deep", &src);
        let c = p4tc_ebpf::generate(&m, "deep", Hook::Tc)
            .expect("generates")
            .c;
        let p = parser_c(&c);
        assert_eq!(
            !p.contains("p4tc_index") && p.contains("_at0:"),
            unrolled,
            "{depth} tags, unrolled: {unrolled}:\n{p}"
        );
    }
}
