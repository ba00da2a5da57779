// Mistake: `#include "..."` of a file that does not exist next to this one.
#include "missing_headers.p4"

const bit<8> A = 1;
