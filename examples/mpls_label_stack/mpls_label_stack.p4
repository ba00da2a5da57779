// MPLS LSR: a label stack is parsed with next/last, the top label is swapped, pushed or popped (PHP).
#include <core.p4>
#include <tc/pna.p4>

const bit<16> ETHERTYPE_MPLS = 0x8847;
const bit<16> ETHERTYPE_IPV4 = 0x0800;
#define MPLS_DEPTH 4

header ethernet_t {
    @tc_type("macaddr") bit<48> dstAddr;
    @tc_type("macaddr") bit<48> srcAddr;
    bit<16> etherType;
}

header mpls_t {
    bit<20> label;
    bit<3>  tc;
    bit<1>  bos;
    bit<8>  ttl;
}

struct headers_t {
    ethernet_t         ethernet;
    mpls_t[MPLS_DEPTH] mpls;
}

struct mpls_meta_t {
    bit<32> labels;
    bit<8>  bottom_ttl;
}

parser MplsParser(packet_in pkt,
                  out headers_t hdr,
                  inout mpls_meta_t meta,
                  in pna_main_parser_input_metadata_t istd) {
    state start {
        meta.labels = 0;
        pkt.extract(hdr.ethernet);
        transition select(hdr.ethernet.etherType) {
            ETHERTYPE_MPLS: parse_mpls;
            default: accept;
        }
    }

    state parse_mpls {
        pkt.extract(hdr.mpls.next);
        transition select(hdr.mpls.last.bos) {
            0: parse_mpls;
            1: bottom_of_stack;
        }
    }

    state bottom_of_stack {
        meta.labels = hdr.mpls.lastIndex + 1;
        meta.bottom_ttl = hdr.mpls.last.ttl;
        transition accept;
    }
}

control MplsControl(inout headers_t hdr,
                    inout mpls_meta_t meta,
                    in pna_main_input_metadata_t istd,
                    inout pna_main_output_metadata_t ostd) {

    action swap(bit<20> out_label, @tc_type("dev") PortId_t port) {
        hdr.mpls[0].label = out_label;
        hdr.mpls[0].ttl = hdr.mpls[0].ttl - 1;
        send_to_port(port);
    }

    action push(bit<20> new_label, @tc_type("dev") PortId_t port) {
        hdr.mpls.push_front(1);
        hdr.mpls[0] = { new_label, hdr.mpls[1].tc, 0, hdr.mpls[1].ttl - 1 };
        send_to_port(port);
    }

    // Penultimate hop popping: the next hop sees the inner label (or IPv4 when it was the last one).
    action pop(@tc_type("dev") PortId_t port) {
        if (hdr.mpls[0].bos == 1) {
            hdr.ethernet.etherType = ETHERTYPE_IPV4;
        }
        hdr.mpls.pop_front(1);
        send_to_port(port);
    }

    action drop() {
        drop_packet();
    }

    @tc_acl("CRUDPS:RX")
    table lfib {
        key = {
            hdr.mpls[0].label : exact @name("label");
        }
        actions = {
            swap;
            push;
            pop;
            drop;
        }
        const default_action = drop;
        size = 4096;
    }

    apply {
        if (!hdr.mpls[0].isValid()) {
            return;
        }
        if (hdr.mpls[0].ttl <= 1 || meta.bottom_ttl == 0) {
            drop();
            return;
        }
        lfib.apply();
    }
}

control MplsDeparser(packet_out pkt,
                     inout headers_t hdr,
                     in mpls_meta_t meta,
                     in pna_main_output_metadata_t ostd) {
    apply {
        pkt.emit(hdr.ethernet);
        pkt.emit(hdr.mpls);
    }
}

PNA_NIC(MplsParser(), MplsControl(), MplsDeparser()) main;
