// Mistake: an `else` that follows no `if` (the `if` body ended with `;`).
header h_t {
    bit<8> a;
}

control C(inout h_t h) {
    apply {
        h.a = 1;
        else {
            h.a = 2;
        }
    }
}
