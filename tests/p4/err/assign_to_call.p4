// Mistake: assigning to a function call, which is not an lvalue.
extern bit<8> f();

control C() {
    apply {
        f() = 1;
    }
}
