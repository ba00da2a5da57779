// Mistake: an action declared inside a parser (actions belong in controls or at top level).
header h_t {
    bit<8> a;
}

parser P(inout h_t h) {
    action set() {
        h.a = 1;
    }
    state start {
        transition accept;
    }
}
