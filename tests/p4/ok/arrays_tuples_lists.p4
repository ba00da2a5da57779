// Arrays of non-header types, tuple<...> values, list<T> arguments and for-in over arrays and list expressions.
#include <core.p4>

const int LANES = 4;

struct lane_s {
    bit<16> load;
    bool    up;
}

header stats_h {
    bit<8>[LANES] per_lane;     // an array inside a header
    bit<8>        total;
}

struct state_s {
    lane_s[LANES]          lanes;
    bool[LANES]            seen;
    int<8>[2]              deltas;
    tuple<bit<8>, bool>    last;
}

// The target is handed a fixed list of weights when it is built.
extern Weights {
    Weights(list<bit<8>> weights);
    // Weight and enable bit per lane, all scaled by `scale`.
    Weights(list<tuple<bit<8>, bool>> pairs, bit<8> scale);
    bit<8> weight(in bit<2> lane);
}

control ArrayOps(inout state_s st, inout stats_h stats);
package ArrayProgram(ArrayOps ops);

control Arrays(inout state_s st, inout stats_h stats) {
    Weights((list<bit<8>>){ 8w1, 8w2, 8w4, 8w8 }) weights;
    Weights((list<tuple<bit<8>, bool>>){ { 1, true }, { 2, false } }, 8w2) flagged_weights;

    apply {
        // Indexing with constants and with run-time values.
        st.lanes[0].load = 16w100;
        st.lanes[LANES - 1].up = true;
        st.seen[stats.total[1:0]] = true;
        st.deltas[1] = st.deltas[0] + 8s1;

        // Whole-array assignment and comparison.
        bit<8>[LANES] copy = stats.per_lane;
        copy[2] = copy[2] + weights.weight(2w2) + flagged_weights.weight(2w0);
        if (copy != stats.per_lane) {
            stats.per_lane = copy;
        }

        // Arrays from tuple expressions, with `...` for the rest.
        int<8>[2] deltas = { -1, 1 };
        bool[LANES] none_seen = { false, ... };
        st.deltas = deltas;

        // Iterating over an array, a header's array field, a list expression and a range.
        bit<8> total = 0;
        for (bit<8> v in stats.per_lane) {
            total = total + v;
        }
        for (lane_s lane in st.lanes) {
            if (lane.up) {
                total = total |+| 1;
            }
        }
        for (bit<8> w in (list<bit<8>>){ 8w3, 8w5, 8w7 }) {
            total = total ^ w;
        }
        for (bool s in none_seen) {
            if (s) {
                total = 0;
            }
        }
        stats.total = total;

        // Tuples: built from an expression list and read by constant index.
        tuple<bit<8>, bool> result = { total, total > 8w100 };
        st.last = result;
        if (st.last[1]) {
            stats.total = st.last[0] >> 1;
        }
    }
}

ArrayProgram(Arrays()) main;
