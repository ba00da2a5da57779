// Mistake: an instance with an initializer block leaves an abstract method unimplemented.
#include <core.p4>

extern Watchdog {
    Watchdog(bit<32> limit);
    abstract void on_timeout(in bit<32> elapsed);
    abstract bool should_reset();
}

control Guard(inout bit<32> counter);
package Top(Guard g);

control GuardImpl(inout bit<32> counter) {
    Watchdog(1000) dog = {
        void on_timeout(in bit<32> elapsed) {
        }
    };
    apply {
        counter = counter + 1;
    }
}

Top(GuardImpl()) main;
