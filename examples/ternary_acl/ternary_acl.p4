// Ternary 5-tuple ACL with range-matched L4 ports, explicit entry priorities and DSCP re-marking.
#include <core.p4>
#include <tc/pna.p4>

const bit<16> ETHERTYPE_IPV4 = 0x0800;
const bit<8>  IPPROTO_TCP = 6;
const bit<8>  IPPROTO_UDP = 17;
const bit<8>  IPPROTO_ICMP = 1;

header ethernet_t {
    @tc_type("macaddr") bit<48> dstAddr;
    @tc_type("macaddr") bit<48> srcAddr;
    bit<16> etherType;
}

header ipv4_t {
    bit<4>  version;
    bit<4>  ihl;
    bit<6>  dscp;
    bit<2>  ecn;
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

header l4_ports_t {
    bit<16> srcPort;
    bit<16> dstPort;
}

struct headers_t {
    ethernet_t ethernet;
    ipv4_t     ipv4;
    l4_ports_t ports;
}

struct acl_meta_t {
    bit<16> sport;
    bit<16> dport;
}

parser AclParser(packet_in pkt,
                 out headers_t hdr,
                 inout acl_meta_t meta,
                 in pna_main_parser_input_metadata_t istd) {
    state start {
        meta.sport = 0;
        meta.dport = 0;
        pkt.extract(hdr.ethernet);
        transition select(hdr.ethernet.etherType) {
            ETHERTYPE_IPV4: parse_ipv4;
            default: accept;
        }
    }

    state parse_ipv4 {
        pkt.extract(hdr.ipv4);
        transition select(hdr.ipv4.fragOffset, hdr.ipv4.protocol) {
            (0, IPPROTO_TCP): parse_ports;
            (0, IPPROTO_UDP): parse_ports;
            default: accept;
        }
    }

    state parse_ports {
        pkt.extract(hdr.ports);
        meta.sport = hdr.ports.srcPort;
        meta.dport = hdr.ports.dstPort;
        transition accept;
    }
}

control AclControl(inout headers_t hdr,
                   inout acl_meta_t meta,
                   in pna_main_input_metadata_t istd,
                   inout pna_main_output_metadata_t ostd) {

    action permit(@tc_type("dev") PortId_t port) {
        send_to_port(port);
    }

    action permit_remark(@tc_type("dev") PortId_t port, bit<6> dscp) {
        hdr.ipv4.dscp = dscp;
        send_to_port(port);
    }

    action deny() {
        drop_packet();
    }

    @tc_acl("CRUDPS:RX")
    @nummask(16)
    table acl {
        key = {
            hdr.ipv4.srcAddr  : ternary @tc_type("ipv4") @name("src");
            hdr.ipv4.dstAddr  : ternary @tc_type("ipv4") @name("dst");
            hdr.ipv4.protocol : ternary @name("proto");
            meta.sport        : range @name("sport");
            meta.dport        : range @name("dport");
        }
        actions = {
            permit;
            permit_remark;
            deny;
        }
        const default_action = deny();
        size = 2048;
        largest_priority_wins = false;
        priority_delta = 10;
        @noWarn("duplicate_priorities")
        entries = {
            // SSH from the management prefix only.
            const priority = 10: (32w0x0A00_0000 &&& 32w0xFF00_0000, _, IPPROTO_TCP, _, 22)
                : permit((PortId_t)1);
            (_, _, IPPROTO_TCP, _, 22) : deny();
            // Web traffic gets re-marked as AF21.
            priority = (10 + 20): (_, 0xC0A8_0000 &&& 0xFFFF_0000, IPPROTO_TCP, 1024..65535, 80..443)
                : permit_remark((PortId_t)2, 18);
            const (_, _, IPPROTO_UDP, 0..1023, 53) : permit((PortId_t)2);
            priority = 100: (default, default, IPPROTO_ICMP &&& 0xFF, default, default) : permit((PortId_t)2);
        }
    }

    apply {
        if (hdr.ipv4.isValid()) {
            acl.apply();
        } else {
            deny();
        }
    }
}

control AclDeparser(packet_out pkt,
                    inout headers_t hdr,
                    in acl_meta_t meta,
                    in pna_main_output_metadata_t ostd) {
    InternetChecksum() csum;

    apply {
        if (hdr.ipv4.isValid()) {
            csum.clear();
            csum.add({ hdr.ipv4.version, hdr.ipv4.ihl, hdr.ipv4.dscp, hdr.ipv4.ecn,
                       hdr.ipv4.totalLen, hdr.ipv4.identification,
                       hdr.ipv4.flags, hdr.ipv4.fragOffset,
                       hdr.ipv4.ttl, hdr.ipv4.protocol,
                       hdr.ipv4.srcAddr, hdr.ipv4.dstAddr });
            hdr.ipv4.hdrChecksum = csum.get();
        }
        pkt.emit(hdr);
    }
}

PNA_NIC(AclParser(), AclControl(), AclDeparser()) main;
