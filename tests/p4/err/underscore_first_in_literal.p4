// Mistake: the digits of an integer literal start with `_`.
const bit<16> ETHERTYPE_IPV6 = 16w0x_86DD;
