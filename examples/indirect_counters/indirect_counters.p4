// Indirect counters: per-port and per-class Counter arrays indexed from metadata and table results.
#include <core.p4>
#include <tc/pna.p4>

const bit<32> N_PORTS = 256;
const bit<32> N_CLASSES = 16;

header ethernet_t {
    @tc_type("macaddr") bit<48> dstAddr;
    @tc_type("macaddr") bit<48> srcAddr;
    bit<16> etherType;
}

struct headers_t {
    ethernet_t ethernet;
}

struct stats_meta_t {
    bit<32> traffic_class;
}

parser StatsParser(packet_in pkt,
                   out headers_t hdr,
                   inout stats_meta_t meta,
                   in pna_main_parser_input_metadata_t istd) {
    state start {
        meta.traffic_class = 0;
        pkt.extract(hdr.ethernet);
        transition accept;
    }
}

control StatsControl(inout headers_t hdr,
                     inout stats_meta_t meta,
                     in pna_main_input_metadata_t istd,
                     inout pna_main_output_metadata_t ostd) {

    Counter<bit<64>, bit<32>>(N_PORTS, PNA_CounterType_t.PACKETS_AND_BYTES) rx_port_stats;
    Counter<bit<64>, bit<32>>(N_PORTS, PNA_CounterType_t.PACKETS) tx_port_stats;
    Counter<bit<32>, bit<32>>(N_CLASSES, PNA_CounterType_t.BYTES) class_bytes;

    action classify(bit<32> traffic_class, @tc_type("dev") PortId_t port) {
        meta.traffic_class = traffic_class;
        tx_port_stats.count((bit<32>)port);
        send_to_port(port);
    }

    action unknown_ethertype() {
        drop_packet();
    }

    table by_ethertype {
        key = {
            hdr.ethernet.etherType : exact @name("ethertype");
        }
        actions = {
            classify;
            unknown_ethertype;
        }
        default_action = unknown_ethertype();
    }

    apply {
        rx_port_stats.count((bit<32>)istd.input_port);
        by_ethertype.apply();
        if (meta.traffic_class < N_CLASSES) {
            class_bytes.count(meta.traffic_class);
        }
    }
}

control StatsDeparser(packet_out pkt,
                      inout headers_t hdr,
                      in stats_meta_t meta,
                      in pna_main_output_metadata_t ostd) {
    apply {
        pkt.emit(hdr.ethernet);
    }
}

PNA_NIC(StatsParser(), StatsControl(), StatsDeparser()) main;
