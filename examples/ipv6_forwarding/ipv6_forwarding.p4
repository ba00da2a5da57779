// IPv6 forwarding: 128-bit LPM with compile-time entries, hop-limit handling and link-local filtering.
#include <core.p4>
#include <tc/pna.p4>

const bit<16> ETHERTYPE_IPV6 = 0x86DD;

typedef bit<128> ipv6_addr_t;

const ipv6_addr_t LINK_LOCAL_PREFIX = 128w0xFE80_0000_0000_0000_0000_0000_0000_0000;
const ipv6_addr_t LINK_LOCAL_MASK   = 128w0xFFC0_0000_0000_0000_0000_0000_0000_0000;

header ethernet_t {
    @tc_type("macaddr") bit<48> dstAddr;
    @tc_type("macaddr") bit<48> srcAddr;
    bit<16> etherType;
}

header ipv6_t {
    bit<4>   version;
    bit<8>   trafficClass;
    bit<20>  flowLabel;
    bit<16>  payloadLen;
    bit<8>   nextHdr;
    bit<8>   hopLimit;
    @tc_type("ipv6") ipv6_addr_t srcAddr;
    @tc_type("ipv6") ipv6_addr_t dstAddr;
}

struct headers_t {
    ethernet_t ethernet;
    ipv6_t     ipv6;
}

struct v6_meta_t {
}

parser V6Parser(packet_in pkt,
                out headers_t hdr,
                inout v6_meta_t meta,
                in pna_main_parser_input_metadata_t istd) {
    state start {
        pkt.extract(hdr.ethernet);
        transition select(hdr.ethernet.etherType) {
            ETHERTYPE_IPV6: parse_ipv6;
            default: accept;
        }
    }

    state parse_ipv6 {
        pkt.extract(hdr.ipv6);
        transition select(hdr.ipv6.version) {
            6: accept;
            default: reject;
        }
    }
}

control V6Control(inout headers_t hdr,
                  inout v6_meta_t meta,
                  in pna_main_input_metadata_t istd,
                  inout pna_main_output_metadata_t ostd) {

    action route(@tc_type("dev") PortId_t port,
                 @tc_type("macaddr") bit<48> srcMac,
                 @tc_type("macaddr") bit<48> dstMac) {
        hdr.ethernet.srcAddr = srcMac;
        hdr.ethernet.dstAddr = dstMac;
        hdr.ipv6.hopLimit = hdr.ipv6.hopLimit - 1;
        send_to_port(port);
    }

    action to_host(@tc_type("dev") PortId_t port) {
        send_to_port(port);
    }

    action drop() {
        drop_packet();
    }

    @tc_acl("CRUDPS:RX")
    @nummask(128)
    table fib6 {
        key = {
            hdr.ipv6.dstAddr : lpm @tc_type("ipv6") @name("dst");
        }
        actions = {
            route;
            to_host;
            drop;
        }
        const default_action = drop;
        size = 8192;
        entries = {
            // 2001:db8::/32 is documentation space: never routed.
            0x2001_0DB8_0000_0000_0000_0000_0000_0000 &&& 0xFFFF_FFFF_0000_0000_0000_0000_0000_0000 : drop();
            // ff00::/8 multicast goes to the host stack.
            128w0xFF00_0000_0000_0000_0000_0000_0000_0000 &&& 128w0xFF00_0000_0000_0000_0000_0000_0000_0000
                : to_host((PortId_t)0);
        }
    }

    apply {
        if (!hdr.ipv6.isValid()) {
            return;
        }
        if ((hdr.ipv6.dstAddr & LINK_LOCAL_MASK) == LINK_LOCAL_PREFIX) {
            to_host((PortId_t)0);
            return;
        }
        if (hdr.ipv6.hopLimit <= 8w1) {
            drop();
            return;
        }
        fib6.apply();
    }
}

control V6Deparser(packet_out pkt,
                   inout headers_t hdr,
                   in v6_meta_t meta,
                   in pna_main_output_metadata_t ostd) {
    apply {
        pkt.emit(hdr.ethernet);
        pkt.emit(hdr.ipv6);
    }
}

PNA_NIC(V6Parser(), V6Control(), V6Deparser()) main;
