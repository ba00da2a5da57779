// Mistake: a parser with no states (every parser needs at least `start`).
header h_t {
    bit<8> a;
}

parser P(inout h_t h) {
    bit<8> tmp;
}
