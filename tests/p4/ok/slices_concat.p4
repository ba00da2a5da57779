// Bit slices [hi:lo] and [lo+:width] as values and l-values, on bit<W> and int<W>, and concatenation ++.
#include <core.p4>

const int NIBBLE = 4;

header word_h {
    bit<32> value;
    int<16> signed_value;
}

control SliceOps(inout word_h w, in bit<5> lo, out bit<64> joined);
package SliceProgram(SliceOps ops);

control Slices(inout word_h w, in bit<5> lo, out bit<64> joined) {
    apply {
        // Fixed slices.
        bit<8>  top_byte = w.value[31:24];
        bit<16> middle   = w.value[23:8];
        bit<1>  lsb      = w.value[0:0];
        bit<4>  nib      = w.value[NIBBLE + 3 : NIBBLE];

        // Base-plus-width slices: the base may be a run-time bit<W>, the width is constant.
        bit<8>  window   = w.value[lo +: 8];
        bit<4>  low_nib  = w.value[0 +: NIBBLE];

        // Slices of a signed value are unsigned.
        bit<8>  sbyte    = w.signed_value[15:8];

        // Slices as l-values.
        w.value[7:0] = top_byte;
        w.value[lo +: 4] = nib;
        w.signed_value[3:0] = 4w0xF;

        // Concatenation: widths add up, the left operand is the most significant part.
        bit<12> twelve = nib ++ top_byte;
        bit<17> seventeen = lsb ++ middle;
        int<24> signed_cat = w.signed_value ++ sbyte;
        joined = (top_byte ++ middle ++ window) ++ (low_nib ++ twelve ++ seventeen[15:0]);

        // A slice of a concatenation, and of a shifted value.
        bit<8>  inner = (top_byte ++ window)[11:4];
        bit<8>  shifted_slice = (w.value >> lo)[7:0];
        w.value = w.value ^ (bit<32>)(inner ++ shifted_slice) ^ (bit<32>)(bit<24>)signed_cat;
    }
}

SliceProgram(Slices()) main;
