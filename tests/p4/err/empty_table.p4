// Mistake: a table with no properties at all.
control C() {
    table t {
    }
    apply {
        t.apply();
    }
}
