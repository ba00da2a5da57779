// Mistake: a `select` case without the `:` before its state.
header h_t {
    bit<16> ether_type;
}

parser P(inout h_t h) {
    state start {
        transition select(h.ether_type) {
            0x0800 accept;
            default: reject;
        }
    }
}
