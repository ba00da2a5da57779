// Mistake: a string literal that is never closed.
header h_t {
    @name("field_a) bit<8> a;
    bit<8> b;
}
