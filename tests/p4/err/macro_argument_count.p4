// Mistake: a macro taking two arguments is given one.
#define MAX(a, b) ((a) > (b) ? (a) : (b))

const bit<8> LIMIT = MAX(8w10);
