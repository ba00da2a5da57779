// Direct counters: per-entry packet and byte counts on a forwarding table via pna_direct_counter.
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

struct counter_meta_t {
}

parser CntParser(packet_in pkt,
                 out headers_t hdr,
                 inout counter_meta_t meta,
                 in pna_main_parser_input_metadata_t istd) {
    state start {
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

control CntControl(inout headers_t hdr,
                   inout counter_meta_t meta,
                   in pna_main_input_metadata_t istd,
                   inout pna_main_output_metadata_t ostd) {

    DirectCounter<bit<64>>(PNA_CounterType_t.PACKETS_AND_BYTES) route_stats;
    DirectCounter<bit<32>>(PNA_CounterType_t.PACKETS) src_hits;

    action route(@tc_type("dev") PortId_t port) {
        route_stats.count();
        send_to_port(port);
    }

    action route_drop() {
        route_stats.count();
        drop_packet();
    }

    @tc_acl("CRUDPS:RX")
    table routes {
        key = {
            hdr.ipv4.dstAddr : exact @tc_type("ipv4") @name("dstAddr");
        }
        actions = {
            route;
            route_drop;
        }
        const default_action = route_drop;
        pna_direct_counter = route_stats;
        size = 1024;
    }

    action src_seen() {
        src_hits.count();
    }

    table sources {
        key = {
            hdr.ipv4.srcAddr : exact @tc_type("ipv4") @name("srcAddr");
        }
        actions = {
            src_seen;
            NoAction;
        }
        default_action = NoAction;
        pna_direct_counter = src_hits;
    }

    apply {
        if (hdr.ipv4.isValid()) {
            sources.apply();
            routes.apply();
        }
    }
}

control CntDeparser(packet_out pkt,
                    inout headers_t hdr,
                    in counter_meta_t meta,
                    in pna_main_output_metadata_t ostd) {
    apply {
        pkt.emit(hdr.ethernet);
        pkt.emit(hdr.ipv4);
    }
}

PNA_NIC(CntParser(), CntControl(), CntDeparser()) main;
