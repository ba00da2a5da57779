// Mistake: a control with actions but no `apply` block.
header h_t {
    bit<8> a;
}

control C(inout h_t h) {
    action set() {
        h.a = 1;
    }
}
