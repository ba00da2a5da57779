// Integer literals: every base prefix in both cases, width and signedness forms, underscores, widths above 64.
#include <core.p4>

// Unsized literals have type int and take the width of what they meet.
const bit<8>  PLAIN_DECIMAL     = 5;
const bit<8>  HEX_LOWER         = 0x1f;
const bit<8>  HEX_UPPER         = 0X1F;
const bit<8>  HEX_MIXED_CASE    = 0xaB;
const bit<8>  BINARY_LOWER      = 0b1010;
const bit<8>  BINARY_UPPER      = 0B1010;
const bit<8>  OCTAL_LOWER       = 0o17;
const bit<8>  OCTAL_UPPER       = 0O17;
const bit<8>  DECIMAL_LOWER     = 0d99;
const bit<8>  DECIMAL_UPPER     = 0D99;
const int     GROUPED_DECIMAL   = 1_000;
const int     HUGE_INT          = 123_456_789_012_345_678_901_234_567_890;

// Width-prefixed unsigned literals: bit<W>.
const bit<8>   UNSIGNED_8       = 8w5;
const bit<8>   UNSIGNED_BINARY  = 8w0b1010_1010;
const bit<8>   GROUPED_BINARY   = 8w0b_1010_1010;
const bit<16>  LEADING_ZERO     = 16w0377;          // decimal 377: a leading 0 is not octal
const bit<16>  UNSIGNED_OCTAL   = 16w0o377;         // 255
const bit<32>  UNSIGNED_DECIMAL = 32w0d255;
const bit<32>  ALL_ONES_32      = 32w0xFFFF_FFFF;
const bit<1>   ONE_BIT          = 1w1;

// Width-prefixed signed literals: int<W>, negated with unary minus.
const int<8>   SIGNED_8         = 8s5;
const int<16>  MINUS_THREE      = -16s3;
const int<32>  SIGNED_HEX       = 32s0xFF;
const int<8>   SIGNED_BINARY    = 8s0b0101_0101;
const int<8>   SIGNED_OCTAL     = 8s0o77;
const int<8>   SIGNED_DECIMAL   = 8s0d100;

// Wider than 64 bits.
const bit<128> WIDE_ONE         = 128w1;
const bit<128> WIDE_ALL_ONES    = 128w0xFFFF_FFFF_FFFF_FFFF_FFFF_FFFF_FFFF_FFFF;
const bit<72>  TWO_TO_THE_64    = 72w0x1_0000_0000_0000_0000;
const int<96>  WIDE_MINUS_ONE   = -96s1;
const bit<256> WIDE_DECIMAL     = 256w115792089237316195423570985008687907853269984665640564039457584007913129639935;

control LiteralSink(inout bit<128> acc, inout int<32> sacc);
package LiteralProgram(LiteralSink sink);

control UseLiterals(inout bit<128> acc, inout int<32> sacc) {
    apply {
        bit<8> small = PLAIN_DECIMAL + HEX_LOWER + HEX_UPPER + HEX_MIXED_CASE
                     + BINARY_LOWER + BINARY_UPPER + OCTAL_LOWER + OCTAL_UPPER
                     + DECIMAL_LOWER + DECIMAL_UPPER + UNSIGNED_8 + UNSIGNED_BINARY
                     + GROUPED_BINARY;
        bit<16> medium = LEADING_ZERO ^ UNSIGNED_OCTAL ^ (bit<16>)GROUPED_DECIMAL;
        bit<32> word = UNSIGNED_DECIMAL & ALL_ONES_32;
        acc = WIDE_ONE + (bit<128>)small + (bit<128>)medium + (bit<128>)word
            + (bit<128>)TWO_TO_THE_64 + (bit<128>)ONE_BIT;
        if (HUGE_INT > GROUPED_DECIMAL && WIDE_DECIMAL != 0) {
            acc = acc & WIDE_ALL_ONES;
        }
        int<8> narrow = SIGNED_8 + SIGNED_BINARY - SIGNED_OCTAL + SIGNED_DECIMAL;
        sacc = (int<32>)MINUS_THREE + SIGNED_HEX + (int<32>)narrow + (int<32>)WIDE_MINUS_ONE;
        sacc = sacc + 32s0x7FFF_FFFF - 32s1 + -32s0b1;
    }
}

LiteralProgram(UseLiterals()) main;
