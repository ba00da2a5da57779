// Mistake: a `bit` width must be an integer (or an expression in parentheses), not a name.
header h_t {
    bit<x> a;
}
