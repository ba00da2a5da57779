// Mistake: an `#ifdef` with no `#endif`.
#ifdef USE_IPV6
const bit<16> ETHERTYPE_IPV6 = 0x86DD;

const bit<16> ETHERTYPE_IPV4 = 0x0800;
