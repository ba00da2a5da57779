// Mistake: `return` is not allowed in a parser state.
header h_t {
    bit<8> a;
}

parser P(inout h_t h) {
    state start {
        h.a = 1;
        return;
    }
}
