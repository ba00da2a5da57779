// Mistake: `transition` with no state to go to.
parser P() {
    state start {
        transition;
    }
}
