// Functions and actions: returns with and without values, directions, named and don't-care arguments, exit.
#include <core.p4>

header tcp_h {
    bit<16> srcPort;
    bit<16> dstPort;
    bit<8>  flags;
    bit<8>  window_scale;
}

struct conn_meta {
    bit<32> score;
    bool    closing;
    bit<16> low_port;
}

bit<16> min16(in bit<16> a, in bit<16> b) {
    return a < b ? a : b;
}

// Several outputs through out and inout parameters; a bare return ends it early.
void split_ports(in tcp_h tcp, out bit<16> low, out bit<16> high, inout bit<32> calls) {
    calls = calls + 1;
    low = min16(tcp.srcPort, tcp.dstPort);
    if (low == tcp.srcPort) {
        high = tcp.dstPort;
        return;
    }
    high = tcp.srcPort;
}

bool has_flag(in bit<8> flags, in bit<8> mask = 8w0x01) {
    return (flags & mask) != 0;
}

bit<32> weigh(in bit<16> port, in bool privileged) {
    bit<32> w = (bit<32>)port;
    if (privileged) {
        w = w << 4;
    }
    return w |+| 32w1;
}

// A top-level action: usable from any control.
action mark_closing(inout conn_meta meta) {
    meta.closing = true;
}

control ConnOps(inout tcp_h tcp, inout conn_meta meta);
package ConnProgram(ConnOps ops);

control Conn(inout tcp_h tcp, inout conn_meta meta) {
    bit<32> calls = 0;

    action score_by(in bit<16> port, bit<32> weight) {
        meta.score = meta.score + weigh(port, port < 1024) * weight;
    }

    // Action data last; the in/out/inout parameters come first.
    action normalise(out bit<16> low, inout bit<32> counter, bit<8> scale) {
        bit<16> high;
        split_ports(tcp, low, high, counter);
        tcp.window_scale = scale;
    }

    action reset_and_stop() {
        tcp.flags = 0;
        exit;
    }

    action maybe_return(bit<8> limit) {
        if (tcp.window_scale <= limit) {
            return;
        }
        tcp.window_scale = limit;
    }

    apply {
        meta.score = 0;

        // Positional and named arguments; named ones in any order.
        score_by(tcp.dstPort, 3);
        score_by(weight = 32w2, port = tcp.srcPort);
        normalise(meta.low_port, calls, 8w7);

        // Don't-care for out arguments whose values are not wanted, positional and named.
        bit<16> low;
        split_ports(tcp, low, _, calls);
        split_ports(tcp = tcp, low = _, high = _, calls = calls);

        // Default parameter values.
        if (has_flag(tcp.flags) || has_flag(tcp.flags, 8w0x04)) {
            mark_closing(meta);
        }
        if (has_flag(flags = tcp.flags, mask = 8w0x02) && meta.closing) {
            reset_and_stop();
        }
        maybe_return(8w14);
        tcp.srcPort = min16(low, meta.low_port);
    }
}

ConnProgram(Conn()) main;
