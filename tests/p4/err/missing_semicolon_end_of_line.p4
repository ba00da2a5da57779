// Mistake: a statement is missing its `;` at the end of a line.
header h_t {
    bit<8> a;
    bit<8> b;
}

control C(inout h_t h) {
    apply {
        h.a = 1
        h.b = 2;
    }
}
