// Mistake: a block comment that is never closed.
const bit<8> A = 1;

/* This comment explains B,
   but its author forgot to close it.

const bit<8> B = 2;
