// Mistake: an action with 17 action-data parameters (P4TC allows at most 16).
#include <core.p4>
#include <tc/pna.p4>

header ethernet_t {
    @tc_type("macaddr") bit<48> dstAddr;
    @tc_type("macaddr") bit<48> srcAddr;
    bit<16> etherType;
}

header ipv4_t {
    bit<8>  ttl;
    bit<8>  protocol;
    bit<16> hdrChecksum;
    @tc_type("ipv4") bit<32> srcAddr;
    @tc_type("ipv4") bit<32> dstAddr;
}

struct headers_t {
    ethernet_t ethernet;
    ipv4_t     ipv4;
}

struct metadata_t {
}

parser MainParserImpl(packet_in pkt,
                      out headers_t hdr,
                      inout metadata_t meta,
                      in pna_main_parser_input_metadata_t istd) {
    state start {
        pkt.extract(hdr.ethernet);
        transition select(hdr.ethernet.etherType) {
            0x0800: parse_ipv4;
            default: accept;
        }
    }

    state parse_ipv4 {
        pkt.extract(hdr.ipv4);
        transition accept;
    }
}

control MainControlImpl(inout headers_t hdr,
                        inout metadata_t meta,
                        in pna_main_input_metadata_t istd,
                        inout pna_main_output_metadata_t ostd) {
    action rewrite(bit<8> b0, bit<8> b1, bit<8> b2, bit<8> b3, bit<8> b4, bit<8> b5,
                   bit<8> b6, bit<8> b7, bit<8> b8, bit<8> b9, bit<8> b10, bit<8> b11,
                   bit<8> b12, bit<8> b13, bit<8> b14, bit<8> b15, bit<8> b16) {
        hdr.ipv4.ttl = b0 ^ b1 ^ b2 ^ b3 ^ b4 ^ b5 ^ b6 ^ b7 ^ b8 ^ b9 ^ b10 ^ b11 ^ b12 ^ b13 ^ b14 ^ b15 ^ b16;
    }

    action drop() {
        drop_packet();
    }

    table fwd {
        key = {
            hdr.ipv4.dstAddr : exact @tc_type("ipv4");
        }
        actions = {
            rewrite;
            drop;
        }
        const default_action = drop;
    }

    apply {
        fwd.apply();
    }
}

control MainDeparserImpl(packet_out pkt,
                         inout headers_t hdr,
                         in metadata_t meta,
                         in pna_main_output_metadata_t ostd) {
    apply {
        pkt.emit(hdr.ethernet);
        pkt.emit(hdr.ipv4);
    }
}

PNA_NIC(MainParserImpl(), MainControlImpl(), MainDeparserImpl()) main;
