// Sub-parsers: instances with constructor arguments (positional and named) and direct application of parser types.
#include <core.p4>

header eth_h {
    bit<48> dst;
    bit<48> src;
    bit<16> etherType;
}

header vlan_h {
    bit<16> tci;
    bit<16> etherType;
}

header l3_h {
    bit<8>  proto;
    bit<8>  hops;
    bit<16> length;
}

struct packet_headers {
    eth_h  eth;
    vlan_h vlan;
    l3_h   l3;
}

// Parses an optional VLAN tag; whether tags are accepted is fixed when it is instantiated.
parser VlanSubParser(packet_in pkt, inout packet_headers h)(bool accept_tags, bit<16> tpid) {
    state start {
        transition select(accept_tags, h.eth.etherType == tpid) {
            (true, true): parse_vlan;
            default: accept;
        }
    }

    state parse_vlan {
        pkt.extract(h.vlan);
        transition accept;
    }
}

// No constructor parameters, so it can be applied directly by its type name.
parser L3SubParser(packet_in pkt, out l3_h l3) {
    state start {
        pkt.extract(l3);
        verify(l3.hops != 0, error.ParserInvalidArgument);
        transition accept;
    }
}

// A parser that looks at the next 32 bits without consuming them. (A parser declaration cannot
// be generic; only a parser type can.)
parser Peek(packet_in pkt, out bit<32> value) {
    state start {
        value = pkt.lookahead<bit<32>>();
        transition accept;
    }
}

parser MainParser(packet_in pkt, out packet_headers h) {
    VlanSubParser(true, 16w0x8100) ctag_parser;
    VlanSubParser(accept_tags = false, tpid = 16w0x88A8) stag_parser;

    state start {
        pkt.extract(h.eth);
        ctag_parser.apply(pkt, h);
        stag_parser.apply(pkt, h);
        transition select(h.vlan.isValid() ? h.vlan.etherType : h.eth.etherType) {
            0x0800: l3;
            0x88B6: skip_then_l3;
            default: accept;
        }
    }

    state l3 {
        L3SubParser.apply(pkt, h.l3);
        transition accept;
    }

    // A 32-bit shim precedes the L3 header; its top byte says whether one follows.
    state skip_then_l3 {
        bit<32> shim;
        Peek.apply(pkt, shim);
        pkt.advance(32);
        transition select(shim[31:24]) {
            0: l3;
            default: accept;
        }
    }
}

control Nothing(inout packet_headers h) {
    apply { }
}

parser Prs(packet_in pkt, out packet_headers h);
control Ctl(inout packet_headers h);
package SubParserProgram(Prs p, Ctl c);

SubParserProgram(MainParser(), Nothing()) main;
