// ICMP echo responder: pings to the NIC's own addresses are answered in place with patched checksums.
#include <core.p4>
#include <tc/pna.p4>

const bit<16> ETHERTYPE_IPV4 = 0x0800;
const bit<8>  IPPROTO_ICMP = 1;
const bit<8>  ICMP_ECHO_REQUEST = 8;
const bit<8>  ICMP_ECHO_REPLY = 0;

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

header icmp_t {
    bit<8>  type;
    bit<8>  code;
    bit<16> checksum;
}

struct headers_t {
    ethernet_t ethernet;
    ipv4_t     ipv4;
    icmp_t     icmp;
}

struct icmp_meta_t {
}

parser IcmpParser(packet_in pkt,
                  out headers_t hdr,
                  inout icmp_meta_t meta,
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
        transition select(hdr.ipv4.protocol, hdr.ipv4.fragOffset) {
            (IPPROTO_ICMP, 0): parse_icmp;
            default: accept;
        }
    }

    state parse_icmp {
        pkt.extract(hdr.icmp);
        transition accept;
    }
}

control IcmpControl(inout headers_t hdr,
                    inout icmp_meta_t meta,
                    in pna_main_input_metadata_t istd,
                    inout pna_main_output_metadata_t ostd) {

    InternetChecksum() icmp_csum;

    action echo_reply() {
        // Swap the addresses at both layers; the IPv4 checksum covers the same words, so it holds.
        bit<48> peer_mac = hdr.ethernet.srcAddr;
        hdr.ethernet.srcAddr = hdr.ethernet.dstAddr;
        hdr.ethernet.dstAddr = peer_mac;

        bit<32> peer_ip = hdr.ipv4.srcAddr;
        hdr.ipv4.srcAddr = hdr.ipv4.dstAddr;
        hdr.ipv4.dstAddr = peer_ip;

        // Only the type byte changes in the ICMP header: patch its checksum (RFC 1624).
        icmp_csum.clear();
        icmp_csum.set_state(~hdr.icmp.checksum);
        icmp_csum.subtract({ hdr.icmp.type, hdr.icmp.code });
        hdr.icmp.type = ICMP_ECHO_REPLY;
        icmp_csum.add({ hdr.icmp.type, hdr.icmp.code });
        hdr.icmp.checksum = icmp_csum.get();

        send_to_port(istd.input_port);
    }

    action not_for_us() {
    }

    @tc_acl("CRUDPS:RX")
    table local_addresses {
        key = {
            hdr.ipv4.dstAddr : exact @tc_type("ipv4") @name("addr");
        }
        actions = {
            @tableonly echo_reply;
            @defaultonly not_for_us;
        }
        const default_action = not_for_us;
        size = 64;
    }

    apply {
        if (hdr.icmp.isValid() && hdr.icmp.type == ICMP_ECHO_REQUEST && hdr.icmp.code == 0) {
            local_addresses.apply();
        }
    }
}

control IcmpDeparser(packet_out pkt,
                     inout headers_t hdr,
                     in icmp_meta_t meta,
                     in pna_main_output_metadata_t ostd) {
    apply {
        pkt.emit(hdr.ethernet);
        pkt.emit(hdr.ipv4);
        pkt.emit(hdr.icmp);
    }
}

PNA_NIC(IcmpParser(), IcmpControl(), IcmpDeparser()) main;
