// One table per match kind, for the P4Runtime tests: each table picks the output port of
// IPv4 packets by one header field (exact on dstAddr, lpm on srcAddr, ternary on diffserv,
// range on identification, optional on ttl). Tables apply in that order and the last hit
// wins, so a packet built to hit one table's entry shows that entry's port. Also a direct
// counter on the exact table, a per-port Counter, a Register and a Digest.
#include <core.p4>
#include <tc/pna.p4>

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
    ipv4_t     ipv4;
}

struct seen_t {
    bit<48> srcAddr;
    bit<32> ipv4Src;
}

struct metadata_t {
    bit<32> port;
    bit<1>  chosen;
}

parser MainParserImpl(packet_in pkt,
                      out headers_t hdr,
                      inout metadata_t meta,
                      in pna_main_parser_input_metadata_t istd) {
    state start {
        pkt.extract(hdr.ethernet);
        transition select(hdr.ethernet.etherType) {
            0x0800: parse_ipv4;
            default: accept;
        }
    }
    state parse_ipv4 {
        pkt.extract(hdr.ipv4);
        transition accept;
    }
}

control ingress(inout headers_t hdr,
                inout metadata_t meta,
                in pna_main_input_metadata_t istd,
                inout pna_main_output_metadata_t ostd) {
    DirectCounter<bit<64>>(PNA_CounterType_t.PACKETS_AND_BYTES) exact_hits;
    Counter<bit<64>, bit<32>>(64, PNA_CounterType_t.PACKETS_AND_BYTES) port_stats;
    Register<bit<32>, bit<32>>(16) last_port;
    Digest<seen_t>() seen;

    action fwd(@tc_type("dev") PortId_t port) {
        meta.port = (bit<32>)port;
        meta.chosen = 1;
    }
    action fwd_counted(@tc_type("dev") PortId_t port) {
        meta.port = (bit<32>)port;
        meta.chosen = 1;
        exact_hits.count();
    }
    action report() {
        seen.pack({hdr.ethernet.srcAddr, hdr.ipv4.srcAddr});
    }
    action drop() {
        meta.chosen = 0;
    }

    table exact_t {
        key = { hdr.ipv4.dstAddr : exact @name("dstAddr"); }
        actions = { fwd_counted; report; drop; }
        size = 65536;
        pna_direct_counter = exact_hits;
        default_action = drop;
    }
    table lpm_t {
        key = { hdr.ipv4.srcAddr : lpm @name("srcAddr"); }
        actions = { fwd; NoAction; }
        size = 1024;
        default_action = NoAction;
    }
    table ternary_t {
        key = { hdr.ipv4.diffserv : ternary @name("diffserv"); }
        actions = { fwd; NoAction; }
        size = 256;
        default_action = NoAction;
    }
    table range_t {
        key = { hdr.ipv4.identification : range @name("identification"); }
        actions = { fwd; NoAction; }
        size = 256;
        default_action = NoAction;
    }
    table optional_t {
        key = { hdr.ipv4.ttl : optional @name("ttl"); }
        actions = { fwd; NoAction; }
        size = 256;
        default_action = NoAction;
    }

    apply {
        meta.chosen = 0;
        if (hdr.ipv4.isValid()) {
            exact_t.apply();
            lpm_t.apply();
            ternary_t.apply();
            range_t.apply();
            optional_t.apply();
        }
        if (meta.chosen == 1) {
            port_stats.count(meta.port & 63);
            last_port.write(0, meta.port);
            send_to_port((PortId_t)meta.port);
        } else {
            drop_packet();
        }
    }
}

control MainDeparserImpl(packet_out pkt,
                         inout headers_t hdr,
                         in metadata_t meta,
                         in pna_main_output_metadata_t ostd) {
    apply {
        pkt.emit(hdr.ethernet);
        pkt.emit(hdr.ipv4);
    }
}

PNA_NIC(MainParserImpl(), ingress(), MainDeparserImpl()) main;
