// TC skb metadata: read the mark and timestamp, tag host traffic, then set mark, tc classid, tc index and queue.
#include <core.p4>
#include <tc/pna.p4>

const bit<16> ETHERTYPE_IPV4 = 0x0800;
const bit<32> MARK_FROM_HOST = 0x0000_00F0;
const bit<32> MARK_MASK = 32w0xFFFF_FF00;

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

struct headers_t {
    ethernet_t ethernet;
    ipv4_t     ipv4;
}

struct skb_meta_t {
    PNA_Source_t source;
    bit<32>      mark;
    bit<64>      tstamp;
}

parser SkbParser(packet_in pkt,
                 out headers_t hdr,
                 inout skb_meta_t meta,
                 in pna_main_parser_input_metadata_t istd) {
    state start {
        meta.source = is_host_port(istd.input_port) ? PNA_Source_t.FROM_HOST : PNA_Source_t.FROM_NET;
        pkt.extract(hdr.ethernet);
        transition select(hdr.ethernet.etherType) {
            ETHERTYPE_IPV4: parse_ipv4;
            default: accept;
        }
    }

    state parse_ipv4 {
        pkt.extract(hdr.ipv4);
        transition accept;
    }
}

control SkbControl(inout headers_t hdr,
                   inout skb_meta_t meta,
                   in pna_main_input_metadata_t istd,
                   inout pna_main_output_metadata_t ostd) {

    // Puts the packet in a tc class and a transmit queue.
    action set_class(bit<16> classid, bit<16> queue, @tc_type("dev") PortId_t port) {
        skb_set_tc_classid(classid);
        skb_set_queue_mapping(queue);
        send_to_port(port);
    }

    action keep_class(@tc_type("dev") PortId_t port) {
        send_to_port(port);
    }

    @tc_acl("CRUDPS:RX")
    table classify {
        key = {
            meta.mark        : ternary @name("mark");
            hdr.ipv4.dscp    : exact @name("dscp");
            istd.input_port  : exact @tc_type("dev") @name("port");
        }
        actions = {
            set_class;
            keep_class;
        }
        default_action = keep_class((PortId_t)0);
    }

    apply {
        skb_get_meta();
        meta.mark = skb_get_mark();
        meta.tstamp = skb_get_tstamp();
        if (skb_get_tc_at_ingress() == 1 && meta.source == PNA_Source_t.FROM_HOST) {
            // Tag host traffic in the low byte, keeping whatever else the mark holds.
            meta.mark = (meta.mark & MARK_MASK) | MARK_FROM_HOST;
            skb_set_mark(meta.mark);
        }
        if (hdr.ipv4.isValid()) {
            classify.apply();
            skb_set_tc_index((bit<16>)hdr.ipv4.dscp);
        }
        if (meta.tstamp == 0) {
            skb_set_tstamp((bit<64>)istd.timestamp);
        }
        skb_set_meta();
    }
}

control SkbDeparser(packet_out pkt,
                    inout headers_t hdr,
                    in skb_meta_t meta,
                    in pna_main_output_metadata_t ostd) {
    apply {
        pkt.emit(hdr.ethernet);
        pkt.emit(hdr.ipv4);
    }
}

PNA_NIC(SkbParser(), SkbControl(), SkbDeparser()) main;
