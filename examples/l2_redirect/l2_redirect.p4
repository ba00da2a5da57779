// L2 redirect: exact match on (ingress port, destination MAC) redirects frames to another port.
#include <core.p4>
#include <tc/pna.p4>

typedef bit<48> mac_addr_t;

header ethernet_t {
    @tc_type("macaddr") mac_addr_t dstAddr;
    @tc_type("macaddr") mac_addr_t srcAddr;
    bit<16> etherType;
}

struct headers_t {
    ethernet_t ethernet;
}

struct l2_meta_t {
    bool from_net;
}

const mac_addr_t BROADCAST_MAC = 48w0xFFFF_FFFF_FFFF;

parser L2Parser(packet_in pkt,
                out headers_t hdr,
                inout l2_meta_t meta,
                in pna_main_parser_input_metadata_t istd) {
    state start {
        meta.from_net = is_net_port(istd.input_port);
        pkt.extract(hdr.ethernet);
        transition accept;
    }
}

control L2Control(inout headers_t hdr,
                  inout l2_meta_t meta,
                  in pna_main_input_metadata_t istd,
                  inout pna_main_output_metadata_t ostd) {

    action redirect(@tc_type("dev") PortId_t egress_port) {
        send_to_port(egress_port);
    }

    action to_host_default(@tc_type("dev") PortId_t host_port) {
        send_to_port(host_port);
    }

    action drop() {
        drop_packet();
    }

    @tc_acl("CRUDPS:RX")
    table l2_fwd {
        key = {
            istd.input_port      : exact @tc_type("dev") @name("port");
            hdr.ethernet.dstAddr : exact @tc_type("macaddr") @name("dstAddr");
        }
        actions = {
            redirect;
            to_host_default;
            drop;
        }
        size = 8192;
        @tc_may_override default_action = to_host_default((PortId_t)1);
    }

    apply {
        if (hdr.ethernet.dstAddr == BROADCAST_MAC) {
            drop();
        } else if (l2_fwd.apply().miss && meta.from_net) {
            drop();
        }
    }
}

control L2Deparser(packet_out pkt,
                   inout headers_t hdr,
                   in l2_meta_t meta,
                   in pna_main_output_metadata_t ostd) {
    apply {
        pkt.emit(hdr.ethernet);
    }
}

PNA_NIC(L2Parser(), L2Control(), L2Deparser()) main;
