// Helper for include_cycle.p4: includes b.p4, which includes this file again.
#include "b.p4"
const bit<8> FROM_A = 1;
