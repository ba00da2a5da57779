// Mistake: the condition of an `if` is missing its `)`.
header h_t {
    bit<8> a;
}

control C(inout h_t h) {
    apply {
        if (h.a == 0 {
            h.a = 1;
        }
    }
}
