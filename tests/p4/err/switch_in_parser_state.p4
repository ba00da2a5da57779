// Mistake: `switch` is not allowed in a parser state (use `transition select`).
header h_t {
    bit<8> a;
}

parser P(inout h_t h) {
    state start {
        switch (h.a) {
            1: { h.a = 2; }
        }
        transition accept;
    }
}
