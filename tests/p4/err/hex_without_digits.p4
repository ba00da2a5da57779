// Mistake: a hexadecimal literal `0x` with no digits after it.
const bit<16> ETHERTYPE_IPV4 = 0x;
