// Operator precedence and associativity: every unary and binary operator, mixed without parentheses.
#include <core.p4>

control Calc(inout bit<32> a, inout bit<32> b, inout int<16> s, inout bool flag, out bit<64> wide);
package PrecedenceProgram(Calc c);

control Precedence(inout bit<32> a, inout bit<32> b, inout int<16> s, inout bool flag, out bit<64> wide) {
    apply {
        // * / % bind tighter than + -, which bind tighter than shifts.
        bit<32> arith = a + b * 3 - a / 2 % 5;
        bit<32> shifted = a << 2 + 1;              // a << 3
        bit<32> shifted_back = a >> 1 + 1 << 1;    // (a >> 2) << 1

        // & binds tighter than ^, which binds tighter than |.
        bit<32> bits = a & b | a ^ b & ~a;

        // Relational operators bind tighter than equality, which binds tighter than && and ||.
        bool rel = a < b == b > a;
        bool logic = a <= b && b >= a || !flag && a != b;
        bool logic_grouped = (a <= b && (b >= a || !flag)) && a != b;

        // Saturating operators share the precedence of + and -, left to right.
        bit<32> sat = a |+| b |-| 32w1;

        // ++ concatenates; it also sits with + and -.
        wide = a ++ b;
        bit<40> tagged = 8w0xAB ++ a;

        // Unary operators on signed values.
        int<16> neg = -s + +s - -s;
        int<16> ones = ~s;

        // The conditional operator: the else branch nests inside parentheses.
        bit<32> pick = flag ? a : (a > b ? b : 32w0);
        bit<32> pick2 = (flag ? a : b) + 1;

        // Postfix operators bind tightest: slices, members and calls before prefix casts.
        bit<8> low = (bit<8>)a[15:8];
        bit<16> folded = (bit<16>)tagged[39:24] + a[15:0];
        bool valid_mix = !(a == b) || !!flag;

        // Compile-time int arithmetic, including division and modulo.
        const int SCALE = (1 << 4) * 3 / 2 % 7 - -2;

        a = arith + shifted + shifted_back + bits + sat + pick + pick2 + (bit<32>)low + (bit<32>)folded + SCALE;
        b = (bit<32>)(bit<16>)neg ^ (bit<32>)(bit<16>)ones;
        flag = rel && logic || logic_grouped && valid_mix;
    }
}

PrecedenceProgram(Precedence()) main;
