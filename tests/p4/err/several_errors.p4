// Mistake: several independent errors; each should be reported once, with no cascade.
header h_t {
    bit<8> a;
    bit<8> b;
}

const bit<8> X = 0b102;

control C(inout h_t h) {
    action set(bit<8> v) {
        h.a = v
        h.b = v;
    }
    table t {
        key = { h.a : exact; }
        actions = { set; }
    }
    apply {
        t.apply();
        h.b = (h.a + 1;
        h.a = 2;
    }
}

parser P(inout h_t h) {
    state start {
        return;
        transition accept;
    }
}

control D() {
    apply {}
}
