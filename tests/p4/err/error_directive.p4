// Mistake: TABLE_SIZE is not defined, so the program's own `#error` fires.
#ifndef TABLE_SIZE
#error "TABLE_SIZE must be defined, e.g. -D TABLE_SIZE=1024"
#endif

const bit<32> SIZE = TABLE_SIZE;
