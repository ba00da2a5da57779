// Mistake: a variable declared between parser states (locals go before the first state).
parser P() {
    state start {
        transition next;
    }
    bit<8> tmp;
    state next {
        transition accept;
    }
}
