// MAC learning: unknown source MACs are reported to the control plane with a Digest.
#include <core.p4>
#include <tc/pna.p4>

header ethernet_t {
    @tc_type("macaddr") bit<48> dstAddr;
    @tc_type("macaddr") bit<48> srcAddr;
    bit<16> etherType;
}

struct headers_t {
    ethernet_t ethernet;
}

// What the control plane receives for each newly seen source address.
struct mac_learn_digest_t {
    @tc_type("macaddr") bit<48> srcAddr;
    @tc_type("dev") PortId_t ingress_port;
    bit<16> etherType;
}

struct learn_meta_t {
    bool learn;
}

parser LearnParser(packet_in pkt,
                   out headers_t hdr,
                   inout learn_meta_t meta,
                   in pna_main_parser_input_metadata_t istd) {
    state start {
        meta.learn = false;
        pkt.extract(hdr.ethernet);
        transition accept;
    }
}

control LearnControl(inout headers_t hdr,
                     inout learn_meta_t meta,
                     in pna_main_input_metadata_t istd,
                     inout pna_main_output_metadata_t ostd) {

    Digest<mac_learn_digest_t>() mac_learn;

    action known_source() {
    }

    action unknown_source() {
        meta.learn = true;
    }

    // Populated by the control plane from the digests.
    @tc_acl("CRUDPS:RX")
    table source_macs {
        key = {
            hdr.ethernet.srcAddr : exact @tc_type("macaddr") @name("srcAddr");
            istd.input_port      : exact @tc_type("dev") @name("port");
        }
        actions = {
            @tableonly known_source;
            @defaultonly unknown_source;
        }
        const default_action = unknown_source;
        size = 16384;
    }

    action forward(@tc_type("dev") PortId_t port) {
        send_to_port(port);
    }

    action flood_to_cpu() {
        send_to_port((PortId_t)(PortIdUint_t)PNA_PORT_CPU);
    }

    table destination_macs {
        key = {
            hdr.ethernet.dstAddr : exact @tc_type("macaddr") @name("dstAddr");
        }
        actions = {
            forward;
            flood_to_cpu;
        }
        default_action = flood_to_cpu;
        size = 16384;
    }

    apply {
        source_macs.apply();
        if (meta.learn) {
            mac_learn.pack({ srcAddr = hdr.ethernet.srcAddr,
                             ingress_port = istd.input_port,
                             etherType = hdr.ethernet.etherType });
        }
        destination_macs.apply();
    }
}

control LearnDeparser(packet_out pkt,
                      inout headers_t hdr,
                      in learn_meta_t meta,
                      in pna_main_output_metadata_t ostd) {
    apply {
        pkt.emit(hdr.ethernet);
    }
}

PNA_NIC(LearnParser(), LearnControl(), LearnDeparser()) main;
