// Mistake: a `#define` after code on the same line; directives must start a line.
const bit<8> A = 1; #define B 2

const bit<8> C = 3;
