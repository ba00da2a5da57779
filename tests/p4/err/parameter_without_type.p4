// Mistake: an action parameter with a name but no type.
header h_t {
    bit<8> a;
}

control C(inout h_t h) {
    action set(value) {
        h.a = value;
    }
    apply {
        set(1);
    }
}
