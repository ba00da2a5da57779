// Compound assignments: += -= *= /= %= |+|= |-|= <<= >>= &= |= ^= on variables, fields, slices and indexes.
#include <core.p4>

header counters_h {
    bit<16> hits;
    bit<16> misses;
    int<16> balance;
}

struct state_t {
    counters_h     counters;
    bit<32>[4]     buckets;
}

control Accumulate(inout state_t st, in bit<8> step);
package AccumulateProgram(Accumulate a);

control Compound(inout state_t st, in bit<8> step) {
    action bump(inout bit<16> field, bit<16> by) {
        field += by;
    }

    apply {
        bit<16> x = st.counters.hits;
        x += 16w7;
        x -= 2;
        x *= 3;
        x /= 2;
        x %= 1000;
        x |+|= 16w0xFFF0;
        x |-|= 16w0x000F;
        x <<= 1;
        x >>= (bit<4>)step;
        x &= 0x0FF0;
        x |= 0x8001;
        x ^= 0xAAAA;
        (st.counters).hits = x;
        (x) = 0;

        int<16> y = st.counters.balance;
        y += -3;
        y -= 16s4;
        y *= 2;
        y |+|= 16s32767;
        y |-|= 16s1;
        y <<= 2;
        y >>= 1;                 // arithmetic shift
        y &= ~16s0;
        y |= 16s1;
        y ^= 16s0x0F0F;
        st.counters.balance = y;

        // Compound assignment to slices, header fields and array elements.
        st.counters.misses[7:0] += 8w1;
        st.counters.misses[8+:4] |= 4w0b1001;
        st.buckets[step[1:0]] += (bit<32>)step;
        st.buckets[3] ^= st.buckets[0];
        bump(st.counters.misses, 16w0x10);
    }
}

AccumulateProgram(Compound()) main;
