// Mistake: a control instantiated with more constructor arguments than it declares.
#include <core.p4>

control Step(inout bit<32> total);
package Top(Step s);

control Add(inout bit<32> total)(bit<32> amount) {
    apply {
        total = total + amount;
    }
}

control StepImpl(inout bit<32> total) {
    Add(32w1, 32w2) add_one;
    apply {
        add_one.apply(total);
    }
}

Top(StepImpl()) main;
