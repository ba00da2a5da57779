// The control-plane write benchmark's program (benches/bulk.rs): one exact, one LPM and one
// ternary table of 1,048,576 entries each, keyed on the IPv4 destination.
#include <core.p4>
#include <tc/pna.p4>

header ethernet_t {
    bit<48> dstAddr;
    bit<48> srcAddr;
    bit<16> etherType;
}

header ipv4_t {
    bit<8> versionIhl;
    bit<8> diffserv;
    bit<16> totalLen;
    bit<16> identification;
    bit<16> fragOffset;
    bit<8> ttl;
    bit<8> protocol;
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
    state start {
        pkt.extract(hdr.ethernet);
        transition select(hdr.ethernet.etherType) {
            0x0800: ipv4;
            default: accept;
        }
    }
    state ipv4 {
        pkt.extract(hdr.ipv4);
        transition accept;
    }
}

control C(inout headers_t hdr, inout meta_t meta, in pna_main_input_metadata_t istd,
          inout pna_main_output_metadata_t ostd) {
    action send(PortId_t port, bit<48> mac) {
        hdr.ethernet.dstAddr = mac;
        send_to_port(port);
    }

    action drop() {
        drop_packet();
    }

    @tc_acl("CRUDPS:RX")
    table exact_t {
        key = {
            hdr.ipv4.dstAddr : exact @name("dst");
        }
        actions = {
            send;
            drop;
        }
        default_action = drop();
        size = 1048576;
    }

    @tc_acl("CRUDPS:RX")
    table lpm_t {
        key = {
            hdr.ipv4.dstAddr : lpm @name("dst");
        }
        actions = {
            send;
            drop;
        }
        default_action = drop();
        size = 1048576;
    }

    @tc_acl("CRUDPS:RX")
    @nummask(8)
    table tern_t {
        key = {
            hdr.ipv4.dstAddr : ternary @name("dst");
        }
        actions = {
            send;
            drop;
        }
        default_action = drop();
        size = 1048576;
    }

    apply {
        if (hdr.ipv4.isValid()) {
            exact_t.apply();
            lpm_t.apply();
            tern_t.apply();
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
