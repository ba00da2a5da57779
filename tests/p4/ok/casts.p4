// Casts: between widths and signedness, bool and bit<1>, typedef and `type` names, serializable enums, and structured casts.
#include <core.p4>

typedef bit<16> port_num_t;
typedef port_num_t l4_port_t;
type bit<16> TcpPort_t;
type TcpPort_t WellKnownPort_t;
type bool Verdict_t;

enum bit<8> Proto_t {
    ICMP = 1,
    TCP  = 6,
    UDP  = 17
}

header pair_h {
    bit<16> first;
    bit<16> second;
}

struct pair_s {
    bit<16> first;
    bit<16> second;
}

control CastOps(inout bit<32> x, inout int<8> s, inout bool flag);
package CastProgram(CastOps ops);

control Casts(inout bit<32> x, inout int<8> s, inout bool flag) {
    apply {
        // bit<W> <-> bit<X>: truncate or zero-extend.
        bit<16> narrow = (bit<16>)x;
        bit<64> widened = (bit<64>)x;

        // bit<W> <-> int<W>: reinterpret; changing width and sign needs two steps.
        int<32> as_signed = (int<32>)x;
        int<64> sign_extended = (int<64>)as_signed;
        bit<8> from_signed = (bit<8>)s;
        int<16> wider_signed = (int<16>)(int<8>)(bit<8>)x;

        // bool <-> bit<1>, and int -> bool for 0 and 1.
        bit<1> flag_bit = (bit<1>)flag;
        bool back = (bool)flag_bit;
        bool from_int = (bool)1;

        // typedef names are the same type; `type` names need explicit casts both ways.
        l4_port_t port = (l4_port_t)narrow;
        port_num_t same_port = port;
        TcpPort_t tcp = (TcpPort_t)port;
        WellKnownPort_t wk = (WellKnownPort_t)tcp;
        bit<16> raw = (bit<16>)(TcpPort_t)wk;
        Verdict_t verdict = (Verdict_t)flag;

        // Serializable enums convert to their underlying type implicitly and back explicitly.
        Proto_t proto = (Proto_t)from_signed;
        bit<8> proto_bits = Proto_t.TCP;
        bit<8> proto_cast = (bit<8>)proto;

        // Structured casts: key-value and tuple lists to struct and header types, {#} to a header.
        pair_s ps = (pair_s){ first = raw, second = same_port };
        pair_h ph = (pair_h){ ps.first, ps.second };
        pair_h invalid = (pair_h){#};
        pair_h[2] stack = (pair_h[2]){ ph, invalid };

        // Cast of an arithmetic result, and of an integer constant to a `type`.
        x = (bit<32>)(narrow + raw) + (bit<32>)widened[63:32] + (bit<32>)sign_extended[31:0]
          + (bit<32>)wider_signed[15:0] + (bit<32>)proto_bits + (bit<32>)proto_cast
          + (bit<32>)stack[0].first;
        s = (int<8>)(bit<8>)(bit<16>)(TcpPort_t)16w443;
        flag = back && from_int && ((bool)verdict || (bit<1>)back == 1w1);
    }
}

CastProgram(Casts()) main;
