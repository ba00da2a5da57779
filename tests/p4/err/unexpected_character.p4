// Mistake: `$` is not a character P4 uses.
header h_t {
    bit<8> a;
}

control C(inout h_t h) {
    apply {
        h.a = $1;
    }
}
