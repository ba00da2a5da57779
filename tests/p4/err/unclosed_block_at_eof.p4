// Mistake: the `if` block's `{` is never closed, so the file ends inside the control.
header h_t {
    bit<8> a;
}

control C(inout h_t h) {
    apply {
        if (h.a == 0) {
            h.a = 1;
    }
}
