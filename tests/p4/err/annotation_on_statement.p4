// Mistake: an annotation on an assignment, where the grammar allows none.
header h_t {
    bit<8> a;
}

control C(inout h_t h) {
    apply {
        @name("x") h.a = 1;
    }
}
