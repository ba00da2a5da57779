// Mistake: `#include <...>` of a file that is in no include directory.
#include <no_such_arch.p4>

const bit<8> A = 1;
