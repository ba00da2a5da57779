// Mistake: the value after a width prefix starts with `_` (`16w_1`); digits must come first.
const bit<16> ONE = 16w_1;
