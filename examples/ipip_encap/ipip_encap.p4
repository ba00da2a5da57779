// IP-in-IP encapsulation: a per-destination table wraps IPv4 packets in a new outer IPv4 header.
#include <core.p4>
#include <tc/pna.p4>

const bit<16> ETHERTYPE_IPV4 = 0x0800;
const bit<8>  IPPROTO_IPIP = 4;
const bit<8>  DEFAULT_TTL = 64;

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

struct encap_meta_t {
    bool encapsulated;
}

parser EncapParser(packet_in pkt,
                   out headers_t hdr,
                   inout encap_meta_t meta,
                   in pna_main_parser_input_metadata_t istd) {
    state start {
        meta.encapsulated = false;
        pkt.extract(hdr.ethernet);
        transition select(hdr.ethernet.etherType) {
            ETHERTYPE_IPV4: parse_ipv4;
            default: accept;
        }
    }

    // The packet as received becomes the inner header once encapsulated.
    state parse_ipv4 {
        pkt.extract(hdr.inner);
        transition accept;
    }
}

control EncapControl(inout headers_t hdr,
                     inout encap_meta_t meta,
                     in pna_main_input_metadata_t istd,
                     inout pna_main_output_metadata_t ostd) {

    action set_ipip(@tc_type("ipv4") bit<32> src,
                    @tc_type("ipv4") bit<32> dst,
                    @tc_type("dev") PortId_t port) {
        // Unnamed fields (identification, flags, ...) take their default value 0.
        hdr.outer = {
            version = 4,
            ihl = 5,
            diffserv = hdr.inner.diffserv,
            totalLen = hdr.inner.totalLen + (bit<16>)ipv4_t.minSizeInBytes(),
            ttl = DEFAULT_TTL,
            protocol = IPPROTO_IPIP,
            srcAddr = src,
            dstAddr = dst,
            ...
        };
        meta.encapsulated = true;
        send_to_port(port);
    }

    action forward_plain(@tc_type("dev") PortId_t port) {
        send_to_port(port);
    }

    action drop() {
        drop_packet();
    }

    @tc_acl("CRUDPS:RX")
    table tunnel_table {
        key = {
            hdr.inner.dstAddr : exact @tc_type("ipv4") @name("dstAddr");
        }
        actions = {
            set_ipip;
            forward_plain;
            drop;
        }
        size = 1024;
        default_action = drop;
    }

    apply {
        if (hdr.inner.isValid()) {
            tunnel_table.apply();
        }
    }
}

control EncapDeparser(packet_out pkt,
                      inout headers_t hdr,
                      in encap_meta_t meta,
                      in pna_main_output_metadata_t ostd) {
    InternetChecksum() outer_csum;

    apply {
        if (meta.encapsulated) {
            outer_csum.clear();
            outer_csum.add({ hdr.outer.version, hdr.outer.ihl, hdr.outer.diffserv,
                             hdr.outer.totalLen, hdr.outer.identification,
                             hdr.outer.flags, hdr.outer.fragOffset,
                             hdr.outer.ttl, hdr.outer.protocol,
                             hdr.outer.srcAddr, hdr.outer.dstAddr });
            hdr.outer.hdrChecksum = outer_csum.get();
        }
        pkt.emit(hdr.ethernet);
        pkt.emit(hdr.outer);
        pkt.emit(hdr.inner);
    }
}

PNA_NIC(EncapParser(), EncapControl(), EncapDeparser()) main;
