// Header unions: IPv4-or-IPv6 parsed into one union, a stack of unions, and union validity rules.
#include <core.p4>

header ethernet_h {
    bit<48> dst;
    bit<48> src;
    bit<16> etherType;
}

header ipv4_h {
    bit<4>  version;
    bit<4>  ihl;
    bit<8>  tos;
    bit<16> totalLen;
    bit<32> idFlagsFrag;
    bit<8>  ttl;
    bit<8>  protocol;
    bit<16> checksum;
    bit<32> src;
    bit<32> dst;
}

header ipv6_h {
    bit<4>   version;
    bit<8>   trafficClass;
    bit<20>  flowLabel;
    bit<16>  payloadLen;
    bit<8>   nextHdr;
    bit<8>   hopLimit;
    bit<128> src;
    bit<128> dst;
}

header_union ip_h {
    ipv4_h v4;
    ipv6_h v6;
}

// Options in a TLV-ish format: either a one-byte pad or a two-byte sized option.
header opt_pad_h {
    bit<8> kind;
}

header opt_sized_h {
    bit<8> kind;
    bit<8> length;
}

header_union opt_h {
    opt_pad_h   pad;
    opt_sized_h sized;
}

header_union empty_u {
}

struct headers {
    ethernet_h ethernet;
    ip_h       ip;
    opt_h[3]   options;
    empty_u    nothing;
}

parser UnionParser(packet_in pkt, out headers hdr) {
    state start {
        pkt.extract(hdr.ethernet);
        transition select(hdr.ethernet.etherType, pkt.lookahead<bit<4>>()) {
            (0x0800, 4): parse_v4;
            (0x86DD, 6): parse_v6;
            default: accept;
        }
    }

    state parse_v4 {
        pkt.extract(hdr.ip.v4);
        transition select(hdr.ip.v4.ihl) {
            5: accept;
            default: parse_option;
        }
    }

    state parse_v6 {
        pkt.extract(hdr.ip.v6);
        transition accept;
    }

    state parse_option {
        transition select(pkt.lookahead<bit<8>>()) {
            0 .. 1: parse_pad;
            default: parse_sized;
        }
    }

    state parse_pad {
        pkt.extract(hdr.options.next.pad);
        transition select(hdr.options.lastIndex) {
            2: accept;
            default: parse_option;
        }
    }

    state parse_sized {
        pkt.extract(hdr.options.next.sized);
        transition select(hdr.options.lastIndex) {
            2: accept;
            default: parse_option;
        }
    }
}

control UnionControl(inout headers hdr, out bit<8> ttl) {
    apply {
        if (hdr.ip.isValid()) {
            if (hdr.ip.v4.isValid()) {
                ttl = hdr.ip.v4.ttl;
                // Writing one member validates it and invalidates the others.
                hdr.ip.v6 = { 6, hdr.ip.v4.tos, 0, hdr.ip.v4.totalLen - 20, hdr.ip.v4.protocol,
                              hdr.ip.v4.ttl, (bit<128>)hdr.ip.v4.src, (bit<128>)hdr.ip.v4.dst };
            } else {
                ttl = hdr.ip.v6.hopLimit;
            }
        } else {
            ttl = 0;
        }
        if (hdr.options[0].sized.isValid() && hdr.options[0].sized.length > 2) {
            hdr.options[0].pad.setValid();
            hdr.options[0].pad.kind = 1;
        }
        hdr.options[2] = (opt_h){#};
        hdr.nothing = {#};
    }
}

control UnionDeparser(packet_out pkt, in headers hdr) {
    apply {
        pkt.emit(hdr);
    }
}

parser UnionParserT(packet_in pkt, out headers hdr);
control UnionControlT(inout headers hdr, out bit<8> ttl);
control UnionDeparserT(packet_out pkt, in headers hdr);
package UnionPipeline(UnionParserT p, UnionControlT c, UnionDeparserT d);

UnionPipeline(UnionParser(), UnionControl(), UnionDeparser()) main;
