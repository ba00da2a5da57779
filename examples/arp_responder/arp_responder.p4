// ARP responder: requests for addresses in a table are answered in the datapath and sent back out.
#include <core.p4>
#include <tc/pna.p4>

const bit<16> ETHERTYPE_ARP = 0x0806;
const bit<16> ETHERTYPE_IPV4 = 0x0800;
const bit<16> ARP_HTYPE_ETHERNET = 1;
const bit<16> ARP_OPER_REQUEST = 1;
const bit<16> ARP_OPER_REPLY = 2;

header ethernet_t {
    @tc_type("macaddr") bit<48> dstAddr;
    @tc_type("macaddr") bit<48> srcAddr;
    bit<16> etherType;
}

header arp_t {
    bit<16> htype;
    bit<16> ptype;
    bit<8>  hlen;
    bit<8>  plen;
    bit<16> oper;
    @tc_type("macaddr") bit<48> sha;
    @tc_type("ipv4")    bit<32> spa;
    @tc_type("macaddr") bit<48> tha;
    @tc_type("ipv4")    bit<32> tpa;
}

struct headers_t {
    ethernet_t ethernet;
    arp_t      arp;
}

struct arp_meta_t {
    bool is_request;
}

parser ArpParser(packet_in pkt,
                 out headers_t hdr,
                 inout arp_meta_t meta,
                 in pna_main_parser_input_metadata_t istd) {
    state start {
        meta.is_request = false;
        pkt.extract(hdr.ethernet);
        transition select(hdr.ethernet.etherType) {
            ETHERTYPE_ARP: parse_arp;
            default: accept;
        }
    }

    state parse_arp {
        pkt.extract(hdr.arp);
        transition select(hdr.arp.htype, hdr.arp.ptype, hdr.arp.hlen, hdr.arp.plen, hdr.arp.oper) {
            (ARP_HTYPE_ETHERNET, ETHERTYPE_IPV4, 6, 4, ARP_OPER_REQUEST): arp_request;
            default: accept;
        }
    }

    state arp_request {
        meta.is_request = true;
        transition accept;
    }
}

control ArpControl(inout headers_t hdr,
                   inout arp_meta_t meta,
                   in pna_main_input_metadata_t istd,
                   inout pna_main_output_metadata_t ostd) {

    action arp_reply(@tc_type("macaddr") bit<48> owner_mac) {
        bit<32> asked_for = hdr.arp.tpa;

        hdr.ethernet.dstAddr = hdr.arp.sha;
        hdr.ethernet.srcAddr = owner_mac;

        hdr.arp.oper = ARP_OPER_REPLY;
        hdr.arp.tha = hdr.arp.sha;
        hdr.arp.tpa = hdr.arp.spa;
        hdr.arp.sha = owner_mac;
        hdr.arp.spa = asked_for;

        send_to_port(istd.input_port);
    }

    action ignore() {
    }

    @tc_acl("CRUDPS:RX")
    table arp_proxy {
        key = {
            hdr.arp.tpa : exact @tc_type("ipv4") @name("target");
        }
        actions = {
            arp_reply;
            @defaultonly ignore;
        }
        const default_action = ignore;
        size = 512;
    }

    apply {
        if (hdr.arp.isValid() && meta.is_request) {
            arp_proxy.apply();
        }
    }
}

control ArpDeparser(packet_out pkt,
                    inout headers_t hdr,
                    in arp_meta_t meta,
                    in pna_main_output_metadata_t ostd) {
    apply {
        pkt.emit(hdr.ethernet);
        pkt.emit(hdr.arp);
    }
}

PNA_NIC(ArpParser(), ArpControl(), ArpDeparser()) main;
