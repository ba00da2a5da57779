// Mistake: `2` is not a binary digit.
const bit<8> MASK = 8w0b1021_0000;
