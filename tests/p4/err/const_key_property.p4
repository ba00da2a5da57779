// Mistake: the `key` property of a table cannot be `const`.
header h_t {
    bit<8> a;
}

control C(inout h_t h) {
    action nop() {}
    table t {
        const key = {
            h.a : exact;
        }
        actions = { nop; }
    }
    apply {
        t.apply();
    }
}
