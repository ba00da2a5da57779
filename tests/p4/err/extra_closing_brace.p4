// Mistake: one `}` too many after the control.
header h_t {
    bit<8> a;
}

control C(inout h_t h) {
    apply {
        h.a = 1;
    }
}
}

const bit<8> AFTER = 1;
