// Packet I/O with a P4Runtime controller: the headers a controller's PacketIn / PacketOut
// metadata are described by, and a table that sends packets to a port or to the CPU port.
#include <core.p4>
#include <tc/pna.p4>

header ethernet_t {
    @tc_type("macaddr") bit<48> dstAddr;
    @tc_type("macaddr") bit<48> srcAddr;
    bit<16> etherType;
}

// Metadata of a PacketIn: the port the packet came in on.
@controller_header("packet_in")
header packet_in_t {
    bit<32> ingress_port;
}

// Metadata of a PacketOut: the port to send the payload out of.
@controller_header("packet_out")
header packet_out_t {
    bit<32> egress_port;
    bit<8> reserved;
}

struct headers_t {
    packet_in_t packet_in;
    packet_out_t packet_out;
    ethernet_t ethernet;
}

struct meta_t {
}

parser IoParser(packet_in pkt,
                out headers_t hdr,
                inout meta_t meta,
                in pna_main_parser_input_metadata_t istd) {
    state start {
        pkt.extract(hdr.ethernet);
        transition accept;
    }
}

control IoControl(inout headers_t hdr,
                  inout meta_t meta,
                  in pna_main_input_metadata_t istd,
                  inout pna_main_output_metadata_t ostd) {
    action forward(@tc_type("dev") PortId_t port) {
        send_to_port(port);
    }

    action to_cpu() {
        send_to_port((PortId_t)(PortIdUint_t)PNA_PORT_CPU);
    }

    table by_type {
        key = {
            hdr.ethernet.etherType : exact;
        }
        actions = {
            forward;
            to_cpu;
        }
        default_action = to_cpu;
        size = 64;
    }

    apply {
        by_type.apply();
    }
}

control IoDeparser(packet_out pkt,
                   inout headers_t hdr,
                   in meta_t meta,
                   in pna_main_output_metadata_t ostd) {
    apply {
        pkt.emit(hdr.ethernet);
    }
}

PNA_NIC(IoParser(), IoControl(), IoDeparser()) main;
