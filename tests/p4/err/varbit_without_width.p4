// Mistake: `varbit` needs its maximum width in angle brackets.
header options_t {
    varbit options;
}
