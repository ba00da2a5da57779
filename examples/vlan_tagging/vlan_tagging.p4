// 802.1Q / QinQ: a two-deep VLAN tag stack is parsed, then tags are pushed, popped or rewritten per port.
#include <core.p4>
#include <tc/pna.p4>

const bit<16> ETHERTYPE_VLAN = 0x8100;
const bit<16> ETHERTYPE_QINQ = 0x88A8;
const bit<16> ETHERTYPE_IPV4 = 0x0800;
const int     MAX_TAGS = 2;

header ethernet_t {
    @tc_type("macaddr") bit<48> dstAddr;
    @tc_type("macaddr") bit<48> srcAddr;
    bit<16> etherType;
}

header vlan_tag_t {
    bit<3>  pcp;
    bit     dei;
    bit<12> vid;
    bit<16> etherType;
}

struct headers_t {
    ethernet_t           ethernet;
    vlan_tag_t[MAX_TAGS] vlan;
}

struct vlan_meta_t {
    bit<12> outer_vid;
    bit<32> depth;
}

parser VlanParser(packet_in pkt,
                  out headers_t hdr,
                  inout vlan_meta_t meta,
                  in pna_main_parser_input_metadata_t istd) {
    state start {
        meta.outer_vid = 0;
        meta.depth = 0;
        pkt.extract(hdr.ethernet);
        transition select(hdr.ethernet.etherType) {
            ETHERTYPE_VLAN: parse_vlan;
            ETHERTYPE_QINQ: parse_vlan;
            default: accept;
        }
    }

    state parse_vlan {
        pkt.extract(hdr.vlan.next);
        meta.depth = hdr.vlan.lastIndex + 1;
        transition select(hdr.vlan.last.etherType) {
            ETHERTYPE_VLAN: parse_vlan;
            default: accept;
        }
    }
}

control VlanControl(inout headers_t hdr,
                    inout vlan_meta_t meta,
                    in pna_main_input_metadata_t istd,
                    inout pna_main_output_metadata_t ostd) {

    action push_tag(bit<12> vid, bit<3> pcp, @tc_type("dev") PortId_t port) {
        hdr.vlan.push_front(1);
        hdr.vlan[0].setValid();
        hdr.vlan[0].pcp = pcp;
        hdr.vlan[0].dei = 0;
        hdr.vlan[0].vid = vid;
        hdr.vlan[0].etherType = hdr.ethernet.etherType;
        // A second tag turns the outer one into a service tag.
        hdr.ethernet.etherType = hdr.vlan[1].isValid() ? ETHERTYPE_QINQ : ETHERTYPE_VLAN;
        send_to_port(port);
    }

    action pop_tag(@tc_type("dev") PortId_t port) {
        hdr.ethernet.etherType = hdr.vlan[0].etherType;
        hdr.vlan.pop_front(1);
        send_to_port(port);
    }

    action rewrite_vid(bit<12> vid, @tc_type("dev") PortId_t port) {
        hdr.vlan[0].vid = vid;
        send_to_port(port);
    }

    action drop() {
        drop_packet();
    }

    @tc_acl("CRUDPS:RX")
    table port_vlan {
        key = {
            istd.input_port    : exact @tc_type("dev") @name("port");
            hdr.vlan[0].isValid() : exact @name("tagged");
            hdr.vlan[0].vid    : ternary @name("vid");
        }
        actions = {
            push_tag;
            pop_tag;
            rewrite_vid;
            drop;
        }
        const default_action = drop;
    }

    apply {
        if (hdr.vlan[0].isValid()) {
            meta.outer_vid = hdr.vlan[0].vid;
        }
        // Frames arriving with every tag slot in use are not ours to handle.
        if (meta.depth == hdr.vlan.size) {
            drop();
            return;
        }
        port_vlan.apply();
    }
}

control VlanDeparser(packet_out pkt,
                     inout headers_t hdr,
                     in vlan_meta_t meta,
                     in pna_main_output_metadata_t ostd) {
    apply {
        pkt.emit(hdr.ethernet);
        pkt.emit(hdr.vlan);
    }
}

PNA_NIC(VlanParser(), VlanControl(), VlanDeparser()) main;
