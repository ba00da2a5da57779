// Two-pass tunnel handling: decapsulate IP-in-IP, recirculate the inner packet for routing, mirror tunnel traffic.
#include <core.p4>
#include <tc/pna.p4>

const bit<16> ETHERTYPE_IPV4 = 0x0800;
const bit<8>  IPPROTO_IPIP = 4;
const MirrorSlotId_t TUNNEL_MIRROR_SLOT = (MirrorSlotId_t)0;

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

struct pass_meta_t {
    bool second_pass;
}

parser TwoPassParser(packet_in pkt,
                     out headers_t hdr,
                     inout pass_meta_t meta,
                     in pna_main_parser_input_metadata_t istd) {
    state start {
        meta.second_pass = istd.recirculated;
        pkt.extract(hdr.ethernet);
        transition select(hdr.ethernet.etherType) {
            ETHERTYPE_IPV4: parse_outer;
            default: accept;
        }
    }

    state parse_outer {
        pkt.extract(hdr.outer);
        // On the second pass the packet is no longer a tunnel packet.
        transition select(meta.second_pass, hdr.outer.protocol) {
            (false, IPPROTO_IPIP): parse_inner;
            default: accept;
        }
    }

    state parse_inner {
        pkt.extract(hdr.inner);
        transition accept;
    }
}

control TwoPassControl(inout headers_t hdr,
                       inout pass_meta_t meta,
                       in pna_main_input_metadata_t istd,
                       inout pna_main_output_metadata_t ostd) {

    // First pass: strip the outer header, copy the tunnel packet to the monitor, go round again.
    action decap_and_recirculate(MirrorSessionIdUint_t monitor_session) {
        mirror_packet(TUNNEL_MIRROR_SLOT, (MirrorSessionId_t)monitor_session);
        hdr.outer = hdr.inner;
        hdr.inner.setInvalid();
        recirculate();
    }

    action not_a_tunnel_endpoint() {
    }

    @tc_acl("CRUDPS:RX")
    table tunnel_endpoints {
        key = {
            hdr.outer.dstAddr : exact @tc_type("ipv4") @name("endpoint");
        }
        actions = {
            decap_and_recirculate;
            @defaultonly not_a_tunnel_endpoint;
        }
        const default_action = not_a_tunnel_endpoint;
    }

    // Second pass (or plain IPv4): ordinary routing on what is now the only IPv4 header.
    action route(@tc_type("dev") PortId_t port, @tc_type("macaddr") bit<48> dstMac) {
        hdr.ethernet.dstAddr = dstMac;
        hdr.outer.ttl = hdr.outer.ttl - 1;
        send_to_port(port);
    }

    action no_route() {
        drop_packet();
    }

    @tc_acl("CRUDPS:RX")
    table routes {
        key = {
            hdr.outer.dstAddr : lpm @tc_type("ipv4") @name("dst");
        }
        actions = {
            route;
            no_route;
        }
        const default_action = no_route;
    }

    apply {
        if (!hdr.outer.isValid()) {
            drop_packet();
            return;
        }
        if (hdr.inner.isValid() && tunnel_endpoints.apply().hit) {
            return;
        }
        routes.apply();
    }
}

control TwoPassDeparser(packet_out pkt,
                        inout headers_t hdr,
                        in pass_meta_t meta,
                        in pna_main_output_metadata_t ostd) {
    InternetChecksum() csum;

    apply {
        if (hdr.outer.isValid()) {
            csum.clear();
            csum.add({ hdr.outer.version, hdr.outer.ihl, hdr.outer.diffserv,
                       hdr.outer.totalLen, hdr.outer.identification,
                       hdr.outer.flags, hdr.outer.fragOffset,
                       hdr.outer.ttl, hdr.outer.protocol,
                       hdr.outer.srcAddr, hdr.outer.dstAddr });
            hdr.outer.hdrChecksum = csum.get();
        }
        pkt.emit(hdr.ethernet);
        pkt.emit(hdr.outer);
        pkt.emit(hdr.inner);
    }
}

PNA_NIC(TwoPassParser(), TwoPassControl(), TwoPassDeparser()) main;
