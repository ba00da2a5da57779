// Mistake: include_cycle/a.p4 and include_cycle/b.p4 include each other.
#include "include_cycle/a.p4"

const bit<8> A = 1;
