// The `16s-3` signed-literal form (sign after the width) that our lexer accepts, beside the standard -16s3.
// Note: p4c's lexer does not take this form (it reads `16s-3` as `16`, `s`, `-3`); keep it out of files meant for p4c.

const int<16> MINUS_THREE_COMPACT  = 16s-3;
const int<16> MINUS_THREE_STANDARD = -16s3;
const int<8>  MOST_NEGATIVE        = 8s-128;
const int<32> MINUS_HEX            = 32s-0x10;

control NegativeCheck(out bool same);
package NegativeProgram(NegativeCheck check);

control CompareForms(out bool same) {
    apply {
        same = MINUS_THREE_COMPACT == MINUS_THREE_STANDARD
            && MOST_NEGATIVE < 8s0
            && MINUS_HEX == -32s16;
    }
}

NegativeProgram(CompareForms()) main;
