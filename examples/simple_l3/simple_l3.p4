// P4TC simple_l3 shape: IPv4 exact match on dstAddr picks a port and rewrites both MAC addresses.
#include <core.p4>
#include <tc/pna.p4>

#define NH_TABLE_SIZE 1024

typedef bit<48> mac_addr_t;
typedef bit<32> ipv4_addr_t;

const bit<16> ETHERTYPE_IPV4 = 0x0800;

header ethernet_t {
    @tc_type("macaddr") mac_addr_t dstAddr;
    @tc_type("macaddr") mac_addr_t srcAddr;
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
    @tc_type("ipv4") ipv4_addr_t srcAddr;
    @tc_type("ipv4") ipv4_addr_t dstAddr;
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
            ETHERTYPE_IPV4: parse_ipv4;
            default: accept;
        }
    }

    state parse_ipv4 {
        pkt.extract(hdr.ipv4);
        transition accept;
    }
}

control ingress(inout headers_t hdr,
                inout metadata_t meta,
                in pna_main_input_metadata_t istd,
                inout pna_main_output_metadata_t ostd) {

    action send_nh(@tc_type("dev") PortId_t port,
                   @tc_type("macaddr") mac_addr_t srcMac,
                   @tc_type("macaddr") mac_addr_t dstMac) {
        hdr.ethernet.srcAddr = srcMac;
        hdr.ethernet.dstAddr = dstMac;
        send_to_port(port);
    }

    action drop() {
        drop_packet();
    }

    @tc_acl("CRUDPS:RX")
    table nh_table {
        key = {
            hdr.ipv4.dstAddr : exact @tc_type("ipv4") @name("dstAddr");
        }
        actions = {
            send_nh;
            drop;
        }
        size = NH_TABLE_SIZE;
        const default_action = drop;
    }

    apply {
        if (hdr.ipv4.isValid()) {
            nh_table.apply();
        } else {
            drop();
        }
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

PNA_NIC(MainParserImpl(), ingress(), MainDeparserImpl()) main;
