// Mistake: `#inclde` is not a preprocessor directive (a typo of `#include`).
#inclde "defs.p4"

const bit<8> A = 1;
