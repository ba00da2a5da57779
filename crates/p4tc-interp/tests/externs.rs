//! Hash, checksum and other externs through whole programs, against published values.

mod common;

use std::sync::Arc;

use p4tc_interp::{Interpreter, Verdict};

const PROGRAM: &str = r#"#include <core.p4>
#include <tc/pna.p4>
header data_t { bit<72> text; }
header ip_t {
    bit<80> w0; bit<16> csum; bit<64> w1;
}
header out_t { bit<16> crc16; bit<32> crc32; bit<16> ip_csum; bit<16> ones; bit<16> ranged; bit<16> inc; }
struct headers_t { data_t d; ip_t ip; out_t o; }
struct metadata_t { }
parser P(packet_in pkt, out headers_t hdr, inout metadata_t meta, in pna_main_parser_input_metadata_t istd) {
    state start { pkt.extract(hdr.d); pkt.extract(hdr.ip); transition accept; }
}
control C(inout headers_t hdr, inout metadata_t meta, in pna_main_input_metadata_t istd, inout pna_main_output_metadata_t ostd) {
    Hash<bit<16>>(PNA_HashAlgorithm_t.CRC16) h16;
    Hash<bit<32>>(PNA_HashAlgorithm_t.CRC32) h32;
    Hash<bit<16>>(PNA_HashAlgorithm_t.ONES_COMPLEMENT16) hones;
    InternetChecksum() ck;
    apply {
        hdr.o.setValid();
        hdr.o.crc16 = h16.get_hash({ hdr.d.text });
        hdr.o.crc32 = h32.get_hash({ hdr.d.text });
        hdr.o.ranged = h16.get_hash(16w100, { hdr.d.text }, 16w7);
        ck.clear();
        ck.add({ hdr.ip.w0, hdr.ip.w1 });
        hdr.o.ip_csum = ck.get();
        hdr.o.ones = hones.get_hash({ hdr.ip.w0, hdr.ip.csum, hdr.ip.w1 });
        // Incremental update (RFC 1624): take w1 out, put it back: same checksum.
        ck.subtract({ hdr.ip.w1 });
        ck.add({ hdr.ip.w1 });
        hdr.o.inc = ck.get();
        send_to_port((PortId_t)1);
    }
}
control D(packet_out pkt, inout headers_t hdr, in metadata_t meta, in pna_main_output_metadata_t ostd) {
    apply { pkt.emit(hdr.o); }
}
PNA_NIC(P(), C(), D()) main;
"#;

#[test]
fn crc_and_internet_checksum_match_published_values() {
    let m = common::load_source(PROGRAM);
    let mut interp = Interpreter::new(Arc::clone(&m), 0).unwrap();
    let mut dp = common::Double::new(&m);
    let mut pkt = b"123456789".to_vec();
    // The classic IPv4 header, checksum field zero: its checksum is 0xb861.
    pkt.extend_from_slice(&[
        0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00,
        0x01, 0xc0, 0xa8, 0x00, 0xc7,
    ]);
    let out = interp.process(&mut dp, &pkt, 1);
    assert_eq!(out.verdict, Verdict::Send(1));
    let o = out.packet;
    assert_eq!(o.len(), 14, "{o:02x?}");
    let u16_at = |i: usize| u16::from_be_bytes([o[i], o[i + 1]]);
    assert_eq!(u16_at(0), 0xBB3D, "CRC-16/ARC");
    assert_eq!(
        u32::from_be_bytes([o[2], o[3], o[4], o[5]]),
        0xCBF4_3926,
        "CRC-32"
    );
    assert_eq!(u16_at(6), 0xb861, "InternetChecksum");
    assert_eq!(u16_at(8), 0xb861, "ONES_COMPLEMENT16 hash");
    assert_eq!(u16_at(10), 100 + (0xBB3D % 7), "base + hash % max");
    assert_eq!(u16_at(12), 0xb861, "subtract then add");
}

#[test]
fn random_is_in_range_and_reproducible() {
    let src = r#"#include <core.p4>
#include <tc/pna.p4>
header o_t { bit<8> r; }
struct headers_t { o_t o; }
struct metadata_t { }
parser P(packet_in pkt, out headers_t hdr, inout metadata_t meta, in pna_main_parser_input_metadata_t istd) {
    state start { transition accept; }
}
control C(inout headers_t hdr, inout metadata_t meta, in pna_main_input_metadata_t istd, inout pna_main_output_metadata_t ostd) {
    Random<bit<8>>(8w10, 8w17) rng;
    apply { hdr.o.setValid(); hdr.o.r = rng.read(); }
}
control D(packet_out pkt, inout headers_t hdr, in metadata_t meta, in pna_main_output_metadata_t ostd) {
    apply { pkt.emit(hdr.o); }
}
PNA_NIC(P(), C(), D()) main;
"#;
    let m = common::load_source(src);
    let run = |seed| {
        let mut interp = Interpreter::new(Arc::clone(&m), seed).unwrap();
        let mut dp = common::Double::new(&m);
        (0..200)
            .map(|_| {
                let out = interp.process(&mut dp, &[], 1);
                assert_eq!(out.verdict, Verdict::Pass);
                out.packet[0]
            })
            .collect::<Vec<u8>>()
    };
    let a = run(7);
    assert!(a.iter().all(|&r| (10..=17).contains(&r)), "{a:?}");
    assert_eq!(a, run(7));
    assert!((10..=17).all(|v| a.contains(&v)));
}

#[test]
fn hash_input_is_padded_at_its_end_like_bmv2() {
    let src = r#"#include <core.p4>
#include <tc/pna.p4>
header n_t { bit<4> a; bit<8> b; bit<4> c; }
header o_t { bit<24> id; bit<16> crc; }
struct headers_t { n_t n; o_t o; }
struct metadata_t { }
parser P(packet_in pkt, out headers_t hdr, inout metadata_t meta, in pna_main_parser_input_metadata_t istd) {
    state start { pkt.extract(hdr.n); transition accept; }
}
control C(inout headers_t hdr, inout metadata_t meta, in pna_main_input_metadata_t istd, inout pna_main_output_metadata_t ostd) {
    Hash<bit<24>>(PNA_HashAlgorithm_t.IDENTITY) id;
    Hash<bit<16>>(PNA_HashAlgorithm_t.CRC16) crc;
    apply {
        hdr.o.setValid();
        hdr.o.id = id.get_hash({ hdr.n.a, hdr.n.b });
        hdr.o.crc = crc.get_hash({ hdr.n.a, hdr.n.b });
    }
}
control D(packet_out pkt, inout headers_t hdr, in metadata_t meta, in pna_main_output_metadata_t ostd) {
    apply { pkt.emit(hdr.o); }
}
PNA_NIC(P(), C(), D()) main;
"#;
    let m = common::load_source(src);
    let mut interp = Interpreter::new(Arc::clone(&m), 0).unwrap();
    let mut dp = common::Double::new(&m);
    let out = interp.process(&mut dp, &[0xab, 0xcd], 1);
    // a = 0xa, b = 0xbc: 12 bits, padded to 0xabc0.
    assert_eq!(&out.packet[..3], &[0x00, 0xab, 0xc0]);
    let crc = crc::Crc::<u16>::new(&crc::CRC_16_ARC).checksum(&[0xab, 0xc0]);
    assert_eq!(&out.packet[3..5], &crc.to_be_bytes());
}
