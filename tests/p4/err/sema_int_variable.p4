// Mistake: a variable of type `int`, whose values exist only at compile time.
#include <core.p4>

control Count(inout bit<32> total);
package Top(Count c);

control CountImpl(inout bit<32> total) {
    apply {
        int step = 4;
        total = total + (bit<32>) step;
    }
}

Top(CountImpl()) main;
