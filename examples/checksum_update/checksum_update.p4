// Source NAT with incremental IPv4 and TCP/UDP checksum updates (InternetChecksum subtract/add/state).
#include <core.p4>
#include <tc/pna.p4>

const bit<16> ETHERTYPE_IPV4 = 0x0800;
const bit<8>  IPPROTO_TCP = 6;
const bit<8>  IPPROTO_UDP = 17;

error {
    BadIPv4HeaderChecksum
}

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

header tcp_t {
    bit<16> srcPort;
    bit<16> dstPort;
    bit<32> seqNo;
    bit<32> ackNo;
    bit<4>  dataOffset;
    bit<4>  res;
    bit<8>  flags;
    bit<16> window;
    bit<16> checksum;
    bit<16> urgentPtr;
}

header udp_t {
    bit<16> srcPort;
    bit<16> dstPort;
    bit<16> length;
    bit<16> checksum;
}

struct headers_t {
    ethernet_t ethernet;
    ipv4_t     ipv4;
    tcp_t      tcp;
    udp_t      udp;
}

struct nat_meta_t {
    bit<16> l4_csum_state;
}

parser NatParser(packet_in pkt,
                 out headers_t hdr,
                 inout nat_meta_t meta,
                 in pna_main_parser_input_metadata_t istd) {
    InternetChecksum() rx_csum;

    state start {
        pkt.extract(hdr.ethernet);
        transition select(hdr.ethernet.etherType) {
            ETHERTYPE_IPV4: parse_ipv4;
            default: accept;
        }
    }

    state parse_ipv4 {
        pkt.extract(hdr.ipv4);
        // Summing a correct header, checksum included, gives zero after complementing.
        rx_csum.clear();
        rx_csum.add({ hdr.ipv4.version, hdr.ipv4.ihl, hdr.ipv4.diffserv,
                      hdr.ipv4.totalLen, hdr.ipv4.identification,
                      hdr.ipv4.flags, hdr.ipv4.fragOffset,
                      hdr.ipv4.ttl, hdr.ipv4.protocol, hdr.ipv4.hdrChecksum,
                      hdr.ipv4.srcAddr, hdr.ipv4.dstAddr });
        verify(rx_csum.get() == 0, error.BadIPv4HeaderChecksum);
        transition select(hdr.ipv4.protocol) {
            IPPROTO_TCP: parse_tcp;
            IPPROTO_UDP: parse_udp;
            default: accept;
        }
    }

    state parse_tcp {
        pkt.extract(hdr.tcp);
        transition accept;
    }

    state parse_udp {
        pkt.extract(hdr.udp);
        transition accept;
    }
}

control NatControl(inout headers_t hdr,
                   inout nat_meta_t meta,
                   in pna_main_input_metadata_t istd,
                   inout pna_main_output_metadata_t ostd) {

    InternetChecksum() ip_csum;
    InternetChecksum() l4_csum;

    // Rewrites the source address and port and patches the checksums that cover them (RFC 1624).
    action snat(@tc_type("ipv4") bit<32> new_src, @tc_type("be16") bit<16> new_port) {
        ip_csum.clear();
        ip_csum.set_state(~hdr.ipv4.hdrChecksum);
        ip_csum.subtract(hdr.ipv4.srcAddr);
        ip_csum.add(new_src);
        hdr.ipv4.hdrChecksum = ip_csum.get();

        l4_csum.clear();
        if (hdr.tcp.isValid()) {
            l4_csum.set_state(~hdr.tcp.checksum);
            l4_csum.subtract({ hdr.ipv4.srcAddr, hdr.tcp.srcPort });
            l4_csum.add({ new_src, new_port });
            hdr.tcp.checksum = l4_csum.get();
            hdr.tcp.srcPort = new_port;
        } else if (hdr.udp.isValid() && hdr.udp.checksum != 0) {
            l4_csum.set_state(~hdr.udp.checksum);
            l4_csum.subtract({ hdr.ipv4.srcAddr, hdr.udp.srcPort });
            l4_csum.add({ new_src, new_port });
            hdr.udp.checksum = l4_csum.get();
            hdr.udp.srcPort = new_port;
        }
        meta.l4_csum_state = l4_csum.get_state();
        hdr.ipv4.srcAddr = new_src;
    }

    action no_nat() {
    }

    @tc_acl("CRUDPS:RX")
    table snat_rules {
        key = {
            hdr.ipv4.srcAddr  : exact @tc_type("ipv4") @name("src");
            hdr.ipv4.protocol : exact @name("proto");
        }
        actions = {
            snat;
            no_nat;
        }
        default_action = no_nat;
    }

    action forward(@tc_type("dev") PortId_t port) {
        send_to_port(port);
    }

    table egress_ports {
        key = {
            hdr.ipv4.dstAddr : lpm @tc_type("ipv4");
        }
        actions = {
            forward;
            NoAction;
        }
        const default_action = NoAction();
    }

    apply {
        if (istd.parser_error != error.NoError) {
            drop_packet();
            return;
        }
        if (hdr.ipv4.isValid()) {
            snat_rules.apply();
            egress_ports.apply();
        }
    }
}

control NatDeparser(packet_out pkt,
                    inout headers_t hdr,
                    in nat_meta_t meta,
                    in pna_main_output_metadata_t ostd) {
    apply {
        pkt.emit(hdr.ethernet);
        pkt.emit(hdr.ipv4);
        pkt.emit(hdr.tcp);
        pkt.emit(hdr.udp);
    }
}

PNA_NIC(NatParser(), NatControl(), NatDeparser()) main;
