// Mistake: a `?:` chosen at run time between two integers of no width, with nothing to give them one.
#include <core.p4>

control Pick(in bit<8> a, out bit<8> b);
package Top(Pick p);

control PickImpl(in bit<8> a, out bit<8> b) {
    apply {
        if ((a > 3 ? 1 : 2) == (a > 7 ? 1 : 2)) {
            b = 1;
        }
    }
}

Top(PickImpl()) main;
