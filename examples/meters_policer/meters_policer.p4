// Policing: an indexed Meter per subscriber class and a colour-aware DirectMeter on a table.
#include <core.p4>
#include <tc/pna.p4>

const bit<16> ETHERTYPE_IPV4 = 0x0800;
const bit<6>  DSCP_BEST_EFFORT = 0;
const bit<6>  DSCP_AF11 = 10;

header ethernet_t {
    @tc_type("macaddr") bit<48> dstAddr;
    @tc_type("macaddr") bit<48> srcAddr;
    bit<16> etherType;
}

header ipv4_t {
    bit<4>  version;
    bit<4>  ihl;
    bit<6>  dscp;
    bit<2>  ecn;
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

struct policer_meta_t {
    bit<32>          subscriber;
    PNA_MeterColor_t color;
}

parser PolicerParser(packet_in pkt,
                     out headers_t hdr,
                     inout policer_meta_t meta,
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

control PolicerControl(inout headers_t hdr,
                       inout policer_meta_t meta,
                       in pna_main_input_metadata_t istd,
                       inout pna_main_output_metadata_t ostd) {

    Meter<bit<32>>(1024, PNA_MeterType_t.BYTES) subscriber_meter;
    DirectMeter(PNA_MeterType_t.PACKETS) uplink_meter;

    action set_subscriber(bit<32> id) {
        meta.subscriber = id;
    }

    action unknown_subscriber() {
        drop_packet();
    }

    @tc_acl("CRUDPS:RX")
    table subscribers {
        key = {
            hdr.ipv4.srcAddr : lpm @tc_type("ipv4") @name("src");
        }
        actions = {
            set_subscriber;
            unknown_subscriber;
        }
        const default_action = unknown_subscriber;
    }

    // Colour-aware: the colour from the subscriber meter is the pre-colour here.
    action uplink(@tc_type("dev") PortId_t port) {
        meta.color = uplink_meter.execute(meta.color);
        send_to_port(port);
    }

    action uplink_blind(@tc_type("dev") PortId_t port) {
        meta.color = uplink_meter.execute();
        send_to_port(port);
    }

    table uplinks {
        key = {
            hdr.ipv4.dstAddr : lpm @tc_type("ipv4") @name("dst");
        }
        actions = {
            uplink;
            uplink_blind;
            NoAction;
        }
        pna_direct_meter = uplink_meter;
    }

    apply {
        if (!hdr.ipv4.isValid()) {
            return;
        }
        if (subscribers.apply().miss) {
            return;
        }
        meta.color = subscriber_meter.execute(meta.subscriber, PNA_MeterColor_t.GREEN);
        uplinks.apply();
        if (meta.color == PNA_MeterColor_t.RED) {
            drop_packet();
        } else if (meta.color == PNA_MeterColor_t.YELLOW) {
            hdr.ipv4.dscp = DSCP_BEST_EFFORT;
        } else {
            hdr.ipv4.dscp = DSCP_AF11;
        }
    }
}

control PolicerDeparser(packet_out pkt,
                        inout headers_t hdr,
                        in policer_meta_t meta,
                        in pna_main_output_metadata_t ostd) {
    InternetChecksum() csum;

    apply {
        if (hdr.ipv4.isValid()) {
            csum.clear();
            csum.add({ hdr.ipv4.version, hdr.ipv4.ihl, hdr.ipv4.dscp, hdr.ipv4.ecn,
                       hdr.ipv4.totalLen, hdr.ipv4.identification,
                       hdr.ipv4.flags, hdr.ipv4.fragOffset,
                       hdr.ipv4.ttl, hdr.ipv4.protocol,
                       hdr.ipv4.srcAddr, hdr.ipv4.dstAddr });
            hdr.ipv4.hdrChecksum = csum.get();
        }
        pkt.emit(hdr.ethernet);
        pkt.emit(hdr.ipv4);
    }
}

PNA_NIC(PolicerParser(), PolicerControl(), PolicerDeparser()) main;
