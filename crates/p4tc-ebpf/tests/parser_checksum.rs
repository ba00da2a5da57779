//! A parser's `InternetChecksum.add` over the header it just extracted sums the packet's own
//! words (gen/raw_checksum.rs), and only then: a header written between the extract and the
//! add, or fields that do not cover whole 16-bit words, are summed field by field. The
//! kernel STF suite (`stf.rs`, checksum_update: good and bad IPv4 checksums) checks the
//! values; this checks which way each shape is generated, and that both ways agree on the
//! kernel for good and bad checksums.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::sync::Arc;

use p4tc_runtime::PipelineModel;
use p4tc_testkit::kernel_target::KernelTarget;
use p4tc_testkit::target::Target;

/// The parser verifies the IPv4 header checksum; `BETWEEN` goes between the extract and the
/// add, `FIELDS` is what is added. A bad checksum drops.
const TEMPLATE: &str = r#"
#include <core.p4>
#include <tc/pna.p4>

header ethernet_t {
    bit<48> dstAddr;
    bit<48> srcAddr;
    bit<16> etherType;
}

header ipv4_t {
    bit<4>  version;
    bit<4>  ihl;
    bit<8>  diffserv;
    bit<16> totalLen;
    bit<16> identification;
    bit<3>  flags;
    bit<13> fragOffset;
    bit<8>  ttl;
    bit<8>  protocol;
    bit<16> hdrChecksum;
    bit<32> srcAddr;
    bit<32> dstAddr;
}

struct headers_t {
    ethernet_t ethernet;
    ipv4_t ipv4;
}

struct meta_t {
}

parser P(packet_in pkt, out headers_t hdr, inout meta_t meta,
         in pna_main_parser_input_metadata_t istd) {
    InternetChecksum() ck;
    state start {
        pkt.extract(hdr.ethernet);
        transition select(hdr.ethernet.etherType) {
            0x0800: parse_ipv4;
            default: accept;
        }
    }
    state parse_ipv4 {
        pkt.extract(hdr.ipv4);
        BETWEEN
        ck.clear();
        ck.add({ FIELDS });
        verify(ck.get() == 0, error.ParserInvalidArgument);
        transition accept;
    }
}

control C(inout headers_t hdr, inout meta_t meta, in pna_main_input_metadata_t istd,
          inout pna_main_output_metadata_t ostd) {
    apply {
        if (istd.parser_error != error.NoError) {
            drop_packet();
        }
    }
}

control D(packet_out pkt, in headers_t hdr, in meta_t meta,
          in pna_main_output_metadata_t ostd) {
    apply {
        pkt.emit(hdr.ethernet);
        pkt.emit(hdr.ipv4);
    }
}

PNA_NIC(P(), C(), D()) main;
"#;

const ALL_FIELDS: &str = "hdr.ipv4.version, hdr.ipv4.ihl, hdr.ipv4.diffserv, hdr.ipv4.totalLen, \
    hdr.ipv4.identification, hdr.ipv4.flags, hdr.ipv4.fragOffset, hdr.ipv4.ttl, \
    hdr.ipv4.protocol, hdr.ipv4.hdrChecksum, hdr.ipv4.srcAddr, hdr.ipv4.dstAddr";

fn model(name: &str, between: &str, fields: &str) -> Arc<PipelineModel> {
    let text = TEMPLATE
        .replace("BETWEEN", between)
        .replace("FIELDS", fields);
    let module = Arc::new(common::module_of_source(name, &text));
    Arc::new(PipelineModel::new(module, name).expect("model"))
}

/// A 20-byte IPv4 header (10.0.0.1 -> 10.0.0.2, TTL 64, UDP) in an Ethernet frame, with a
/// correct checksum, or one off by one.
fn packet(good: bool) -> Vec<u8> {
    let mut p = vec![0u8; 60];
    p[12..14].copy_from_slice(&[0x08, 0x00]);
    let ip = [
        0x45, 0, 0, 46, 0x12, 0x34, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    ];
    p[14..34].copy_from_slice(&ip);
    let mut sum: u32 = (0..10)
        .map(|i| u32::from(u16::from_be_bytes([p[14 + 2 * i], p[15 + 2 * i]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let ck = !(sum as u16) ^ u16::from(!good);
    p[24..26].copy_from_slice(&ck.to_be_bytes());
    p
}

#[test]
fn a_fresh_headers_checksum_is_summed_from_the_packet_and_agrees() {
    let cases = [
        // (name, between, fields, summed from the packet)
        ("fresh", "", ALL_FIELDS, true),
        // A write between the extract and the add: the fields are no longer the bytes.
        ("written", "hdr.ipv4.ttl = hdr.ipv4.ttl;", ALL_FIELDS, false),
        // Not whole 16-bit words (the first field alone is 4 bits).
        ("partial", "", "hdr.ipv4.version", false),
    ];
    for (name, between, fields, raw) in cases {
        let p = model(name, between, fields);
        let g = p4tc_ebpf::generate(&p.module, name, p4tc_ebpf::Hook::Tc).expect("generate");
        assert_eq!(
            g.c.contains("words, from the packet"),
            raw,
            "{name}: summed from the packet?\n{}",
            g.c
        );
        if name == "partial" {
            continue; // its verdicts say nothing about the header's checksum
        }
        if let Some(why) = common::kernel_unavailable() {
            println!("skipped the kernel runs: {why}");
            continue;
        }
        let mut target = KernelTarget::new(p.clone(), p4tc_ebpf::Hook::Tc).expect("kernel");
        let good = target.send(0, &packet(true)).expect("send");
        assert!(!good.is_drop(), "{name}: a good checksum passes: {good:?}");
        let bad = target.send(0, &packet(false)).expect("send");
        assert!(bad.is_drop(), "{name}: a bad checksum drops: {bad:?}");
    }
}
