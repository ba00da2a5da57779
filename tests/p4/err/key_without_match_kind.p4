// Mistake: a key element without `: match_kind`.
header h_t {
    bit<8> a;
}

control C(inout h_t h) {
    action nop() {}
    table t {
        key = {
            h.a;
        }
        actions = { nop; }
    }
    apply {
        t.apply();
    }
}
