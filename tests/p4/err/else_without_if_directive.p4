// Mistake: an `#else` with no `#if` before it.
const bit<8> A = 1;
#else
const bit<8> B = 2;
#endif
