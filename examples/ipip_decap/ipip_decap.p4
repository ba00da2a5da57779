// IP-in-IP decapsulation: tunnels terminating on a local address lose their outer IPv4 header.
#include <core.p4>
#include <tc/pna.p4>

const bit<16> ETHERTYPE_IPV4 = 0x0800;
const bit<8>  IPPROTO_IPIP = 4;

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
    ipv4_t     outer;
    ipv4_t     inner;
}

struct decap_meta_t {
}

parser DecapParser(packet_in pkt,
                   out headers_t hdr,
                   inout decap_meta_t meta,
                   in pna_main_parser_input_metadata_t istd) {
    state start {
        pkt.extract(hdr.ethernet);
        transition select(hdr.ethernet.etherType) {
            ETHERTYPE_IPV4: parse_outer;
            default: accept;
        }
    }

    state parse_outer {
        pkt.extract(hdr.outer);
        transition select(hdr.outer.protocol) {
            IPPROTO_IPIP: parse_inner;
            default: accept;
        }
    }

    state parse_inner {
        pkt.extract(hdr.inner);
        transition accept;
    }
}

control DecapControl(inout headers_t hdr,
                     inout decap_meta_t meta,
                     in pna_main_input_metadata_t istd,
                     inout pna_main_output_metadata_t ostd) {

    action decap(@tc_type("dev") PortId_t port) {
        hdr.outer = {#};
        send_to_port(port);
    }

    action pass_up() {
    }

    @tc_acl("CRUDPS:RX")
    table tunnel_term {
        key = {
            hdr.outer.dstAddr : exact @tc_type("ipv4") @name("dstAddr");
            hdr.outer.srcAddr : exact @tc_type("ipv4") @name("srcAddr");
        }
        actions = {
            decap;
            pass_up;
        }
        default_action = pass_up;
    }

    apply {
        if (hdr.inner.isValid()) {
            tunnel_term.apply();
        }
    }
}

control DecapDeparser(packet_out pkt,
                      inout headers_t hdr,
                      in decap_meta_t meta,
                      in pna_main_output_metadata_t ostd) {
    apply {
        pkt.emit(hdr.ethernet);
        pkt.emit(hdr.outer);
        pkt.emit(hdr.inner);
    }
}

PNA_NIC(DecapParser(), DecapControl(), DecapDeparser()) main;
