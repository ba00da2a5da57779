// An architecture of our own: generic parser/control/package types, `_` type arguments, nested packages, optional and default package parameters.
#include <core.p4>

struct in_ctrl_t {
    bit<4> port;
}

struct out_ctrl_t {
    bit<4> port;
    bool   drop;
}

// The architecture: programmable block types, then packages built from them.
parser IngressParser<H>(packet_in b, out H hdrs);
control IngressPipe<T, H>(inout H hdrs, in in_ctrl_t ic, out T to_egress, out out_ctrl_t oc);
control EgressPipe<T, H>(inout H hdrs, in T from_ingress, inout out_ctrl_t oc);
control Emitter<H>(packet_out b, in H hdrs);
control Watchdog(inout out_ctrl_t oc);

control NoWatchdog(inout out_ctrl_t oc) {
    apply {
    }
}

package Ingress<T, H>(IngressParser<H> p, IngressPipe<T, H> pipe, Emitter<H> emit);
package Egress<T, H>(EgressPipe<T, H> pipe, @optional Emitter<H> emit);
// Ingress and egress may use different header types: only the bridged type T is shared.
package Switch<T>(Ingress<T, _> ingress, Egress<T, _> egress, Watchdog watchdog = NoWatchdog());

// The program.
header eth_h {
    bit<48> dst;
    bit<48> src;
    bit<16> etherType;
}

struct hdrs_t {
    eth_h eth;
}

struct bridge_t {
    bit<8> cls;
}

parser MyParser(packet_in b, out hdrs_t h) {
    state start {
        b.extract(h.eth);
        transition accept;
    }
}

control MyIngress(inout hdrs_t h, in in_ctrl_t ic, out bridge_t br, out out_ctrl_t oc) {
    apply {
        br.cls = h.eth.etherType == 0x0800 ? 8w1 : 8w0;
        oc.port = ic.port ^ 4w1;
        oc.drop = false;
    }
}

control MyEgress(inout hdrs_t h, in bridge_t br, inout out_ctrl_t oc) {
    apply {
        if (br.cls == 0) {
            oc.drop = true;
        }
    }
}

control MyEmitter(packet_out b, in hdrs_t h) {
    apply {
        b.emit(h.eth);
    }
}

Ingress(MyParser(), MyIngress(), MyEmitter()) ingress_pkg;
Switch<bridge_t>(ingress_pkg, Egress<bridge_t, hdrs_t>(MyEgress())) main;
