// IPv4 routing: an LPM FIB picks a next-hop index, an exact next-hop table rewrites MACs and picks the port.
#include <core.p4>
#include <tc/pna.p4>

typedef bit<48> mac_addr_t;
typedef bit<32> nh_index_t;

const bit<16> ETHERTYPE_IPV4 = 16w0x0800;

error {
    BadIPv4Version
}

header ethernet_t {
    @tc_type("macaddr") mac_addr_t dstAddr;
    @tc_type("macaddr") mac_addr_t srcAddr;
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
    ipv4_t     ipv4;
}

struct route_meta_t {
    nh_index_t nh_index;
}

parser RouterParser(packet_in pkt,
                    out headers_t hdr,
                    inout route_meta_t meta,
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
        verify(hdr.ipv4.version == 4, error.BadIPv4Version);
        transition accept;
    }
}

control Main(inout headers_t hdr,
             inout route_meta_t meta,
             in pna_main_input_metadata_t istd,
             inout pna_main_output_metadata_t ostd) {

    action set_nhid(nh_index_t index) {
        meta.nh_index = index;
    }

    action fib_miss() {
        drop_packet();
    }

    action send_nh(@tc_type("dev") PortId_t port,
                   @tc_type("macaddr") mac_addr_t srcMac,
                   @tc_type("macaddr") mac_addr_t dstMac) {
        hdr.ethernet.srcAddr = srcMac;
        hdr.ethernet.dstAddr = dstMac;
        hdr.ipv4.ttl = hdr.ipv4.ttl - 1;
        send_to_port(port);
    }

    action drop() {
        drop_packet();
    }

    @nummask(32)
    @tc_acl("CRUDPS:RX")
    table fib_table {
        key = {
            hdr.ipv4.dstAddr : lpm @tc_type("ipv4") @name("prefix");
        }
        actions = {
            set_nhid;
            @defaultonly fib_miss;
        }
        default_action = fib_miss;
        size = 4096;
    }

    table nh_table {
        key = {
            meta.nh_index : exact @name("nh_index");
        }
        actions = {
            send_nh;
            drop;
        }
        const default_action = drop;
        size = 256;
    }

    apply {
        if (!hdr.ipv4.isValid()) {
            return;
        }
        if (hdr.ipv4.ttl <= 1) {
            drop();
            return;
        }
        if (fib_table.apply().hit) {
            nh_table.apply();
        }
    }
}

control RouterDeparser(packet_out pkt,
                       inout headers_t hdr,
                       in route_meta_t meta,
                       in pna_main_output_metadata_t ostd) {
    InternetChecksum() ipv4_csum;

    apply {
        if (hdr.ipv4.isValid()) {
            ipv4_csum.clear();
            ipv4_csum.add({
                hdr.ipv4.version, hdr.ipv4.ihl, hdr.ipv4.diffserv,
                hdr.ipv4.totalLen,
                hdr.ipv4.identification,
                hdr.ipv4.flags, hdr.ipv4.fragOffset,
                hdr.ipv4.ttl, hdr.ipv4.protocol,
                hdr.ipv4.srcAddr,
                hdr.ipv4.dstAddr
            });
            hdr.ipv4.hdrChecksum = ipv4_csum.get();
        }
        pkt.emit(hdr.ethernet);
        pkt.emit(hdr.ipv4);
    }
}

PNA_NIC(RouterParser(), Main(), RouterDeparser()) main;
