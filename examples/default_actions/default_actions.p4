// P4TC default hit/miss actions: @default_hit, @default_hit_const, @tc_may_override, @tableonly, @defaultonly.
#include <core.p4>
#include <tc/pna.p4>

const bit<16> ETHERTYPE_IPV4 = 0x0800;

header ethernet_t {
    @tc_type("macaddr") bit<48> dstAddr;
    @tc_type("macaddr") bit<48> srcAddr;
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
    @tc_type("ipv4") bit<32> srcAddr;
    @tc_type("ipv4") bit<32> dstAddr;
}

struct headers_t {
    ethernet_t ethernet;
    ipv4_t     ipv4;
}

struct dflt_meta_t {
    bit<8> verdict;
}

parser DfltParser(packet_in pkt,
                  out headers_t hdr,
                  inout dflt_meta_t meta,
                  in pna_main_parser_input_metadata_t istd) {
    state start {
        meta.verdict = 0;
        pkt.extract(hdr.ethernet);
        transition select(hdr.ethernet.etherType) {
            ETHERTYPE_IPV4: parse_ipv4;
            default: accept;
        }
    }

    state parse_ipv4 {
        pkt.extract(hdr.ipv4);
        transition accept;
    }
}

control DfltControl(inout headers_t hdr,
                    inout dflt_meta_t meta,
                    in pna_main_input_metadata_t istd,
                    inout pna_main_output_metadata_t ostd) {

    action next_hop(@tc_type("dev") PortId_t vport) {
        send_to_port(vport);
    }

    action next_hop_counted(@tc_type("dev") PortId_t vport, bit<8> verdict) {
        meta.verdict = verdict;
        send_to_port(vport);
    }

    action default_route_drop() {
        drop_packet();
    }

    action drop() {
        drop_packet();
    }

    // Hit without an action runs next_hop, whose parameters the control plane may change;
    // the miss action is a runtime-overridable next_hop(8).
    @tc_acl("CRUDPS:RX")
    table by_source {
        key = {
            hdr.ipv4.srcAddr : exact @tc_type("ipv4") @name("src");
            istd.input_port  : exact @tc_type("dev") @name("port");
        }
        actions = {
            @tc_may_override @default_hit next_hop;
            @tableonly next_hop_counted;
            default_route_drop;
        }
        @tc_may_override default_action = next_hop((PortId_t)8);
    }

    // The hit default is fixed; the miss default is const as well.
    table by_destination {
        key = {
            hdr.ipv4.dstAddr  : exact @tc_type("ipv4") @name("dst");
            hdr.ipv4.protocol : exact @name("proto");
        }
        actions = {
            @default_hit_const next_hop_counted;
            @defaultonly drop;
        }
        const default_action = drop;
    }

    // No default_action property: NoAction on a miss, as P4 requires.
    table by_ttl {
        key = {
            hdr.ipv4.ttl : exact;
        }
        actions = {
            drop;
        }
    }

    apply {
        if (!hdr.ipv4.isValid()) {
            return;
        }
        by_ttl.apply();
        if (by_source.apply().hit) {
            by_destination.apply();
        }
    }
}

control DfltDeparser(packet_out pkt,
                     inout headers_t hdr,
                     in dflt_meta_t meta,
                     in pna_main_output_metadata_t ostd) {
    apply {
        pkt.emit(hdr.ethernet);
        pkt.emit(hdr.ipv4);
    }
}

PNA_NIC(DfltParser(), DfltControl(), DfltDeparser()) main;
