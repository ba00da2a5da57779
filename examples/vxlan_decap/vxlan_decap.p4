// VXLAN termination: UDP ports from a parser value_set mark tunnels; a VNI table strips the outer headers.
#include <core.p4>
#include <tc/pna.p4>

const bit<16> ETHERTYPE_IPV4 = 0x0800;
const bit<8>  IPPROTO_UDP = 17;
const bit<16> VXLAN_IANA_PORT = 4789;

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

header udp_t {
    bit<16> srcPort;
    bit<16> dstPort;
    bit<16> length;
    bit<16> checksum;
}

header vxlan_t {
    bit<8>  flags;
    bit<24> reserved;
    bit<24> vni;
    bit<8>  reserved2;
}

struct headers_t {
    ethernet_t outer_ethernet;
    ipv4_t     outer_ipv4;
    udp_t      outer_udp;
    vxlan_t    vxlan;
    ethernet_t inner_ethernet;
}

struct vxlan_meta_t {
    bit<24> vni;
}

parser VxlanParser(packet_in pkt,
                   out headers_t hdr,
                   inout vxlan_meta_t meta,
                   in pna_main_parser_input_metadata_t istd) {
    // Extra UDP ports the operator treats as VXLAN besides 4789.
    @name("vxlan_ports")
    value_set<bit<16>>(4) extra_vxlan_ports;

    state start {
        meta.vni = 0;
        pkt.extract(hdr.outer_ethernet);
        transition select(hdr.outer_ethernet.etherType) {
            ETHERTYPE_IPV4: parse_ipv4;
            default: accept;
        }
    }

    state parse_ipv4 {
        pkt.extract(hdr.outer_ipv4);
        transition select(hdr.outer_ipv4.ihl, hdr.outer_ipv4.protocol) {
            (5, IPPROTO_UDP): parse_udp;
            default: accept;
        }
    }

    state parse_udp {
        pkt.extract(hdr.outer_udp);
        transition select(hdr.outer_udp.dstPort) {
            VXLAN_IANA_PORT: parse_vxlan;
            extra_vxlan_ports: parse_vxlan;
            default: accept;
        }
    }

    state parse_vxlan {
        pkt.extract(hdr.vxlan);
        meta.vni = hdr.vxlan.vni;
        // The I flag (0x08) says the VNI is valid.
        transition select(hdr.vxlan.flags & 0x08) {
            0x08: parse_inner;
            default: reject;
        }
    }

    state parse_inner {
        pkt.extract(hdr.inner_ethernet);
        transition accept;
    }
}

control VxlanControl(inout headers_t hdr,
                     inout vxlan_meta_t meta,
                     in pna_main_input_metadata_t istd,
                     inout pna_main_output_metadata_t ostd) {

    action decap_to(@tc_type("dev") PortId_t port) {
        hdr.outer_ethernet.setInvalid();
        hdr.outer_ipv4.setInvalid();
        hdr.outer_udp.setInvalid();
        hdr.vxlan.setInvalid();
        send_to_port(port);
    }

    action unknown_vni() {
        drop_packet();
    }

    @tc_acl("CRUDPS:RX")
    table vni_to_port {
        key = {
            meta.vni                 : exact @name("vni");
            hdr.outer_ipv4.dstAddr   : exact @tc_type("ipv4") @name("vtep");
        }
        actions = {
            decap_to;
            unknown_vni;
        }
        const default_action = unknown_vni;
    }

    apply {
        if (hdr.vxlan.isValid()) {
            vni_to_port.apply();
        }
    }
}

control VxlanDeparser(packet_out pkt,
                      inout headers_t hdr,
                      in vxlan_meta_t meta,
                      in pna_main_output_metadata_t ostd) {
    apply {
        pkt.emit(hdr.outer_ethernet);
        pkt.emit(hdr.outer_ipv4);
        pkt.emit(hdr.outer_udp);
        pkt.emit(hdr.vxlan);
        pkt.emit(hdr.inner_ethernet);
    }
}

PNA_NIC(VxlanParser(), VxlanControl(), VxlanDeparser()) main;
