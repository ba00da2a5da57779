// Mistake: the `>` closing a type's width is missing.
header h_t {
    bit<8 a;
    bit<8> b;
}
