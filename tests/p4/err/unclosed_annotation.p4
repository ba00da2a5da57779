// Mistake: an annotation's `(` is never closed.
header h_t {
    @name("a" bit<8> a;
    bit<8> b;
}
