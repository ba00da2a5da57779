// For loops: three-clause with several init/update clauses or none, for-in over ranges, break, continue.
#include <core.p4>

const bit<8> LIMIT = 16;

header bitmap_h {
    bit<32> bits;
    bit<8>  popcount;
    bit<8>  first_set;
}

// A loop in a function: counts set bits, stopping early once `cap` is reached.
bit<8> count_bits(in bit<32> value, in bit<8> cap) {
    bit<8> n = 0;
    for (bit<8> i = 0, bit<32> v = value; i < 32; i = i + 1, v = v >> 1) {
        if (v == 0) {
            break;
        }
        if (v[0:0] == 0) {
            continue;
        }
        n = n + 1;
        if (n == cap) {
            return n;
        }
    }
    return n;
}

control LoopOps(inout bitmap_h bm, inout bit<16> acc);
package LoopProgram(LoopOps ops);

control Loops(inout bitmap_h bm, inout bit<16> acc) {
    action reverse_bytes(inout bit<32> word) {
        bit<32> out_word = 0;
        for (bit<8> b in 0 .. 3) {
            out_word = (out_word << 8) | (word & 0xFF);
            word = word >> 8;
        }
        word = out_word;
    }

    apply {
        bm.popcount = count_bits(bm.bits, 32);

        // First set bit: an assignment as the init clause, no update clause, the index moved in the body.
        bit<8> idx;
        for (idx = 0; idx < 32; ) {
            if (bm.bits[idx +: 1] == 1) {
                break;
            }
            idx += 1;
        }
        bm.first_set = idx;

        // No init clause, a compound update, and an annotated loop.
        bit<16> sum = 0;
        @unroll
        for (; sum < 1000; sum += 100) {
            acc = acc |+| 1;
        }

        // for-in over a range with bounds from expressions; an annotated loop variable.
        for (@name("k") bit<8> k in 1 .. LIMIT - 1) {
            if (k % 2 == 0) {
                continue;
            }
            acc = acc + (bit<16>)k;
        }

        // Nested loops; break leaves only the inner one.
        for (bit<4> row = 0; row < 4; row = row + 1) {
            for (bit<4> col in 0..3) {
                if (col > row) {
                    break;
                }
                acc = acc ^ ((bit<16>)row ++ (bit<16>)col)[15:0];
            }
        }

        // A loop that calls a method each time round.
        for (bit<8> n = 0; n < 2; n = n + 1)
            reverse_bytes(bm.bits);
    }
}

LoopProgram(Loops()) main;
