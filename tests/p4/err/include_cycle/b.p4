// Helper for include_cycle.p4: includes a.p4, which included this file.
#include "a.p4"
const bit<8> FROM_B = 2;
