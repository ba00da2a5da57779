// Mistake: an initializer block defines a function the extern does not declare abstract.
#include <core.p4>

extern Watchdog {
    Watchdog(bit<32> limit);
    abstract void on_timeout(in bit<32> elapsed);
    void kick();
}

control Guard(inout bit<32> counter);
package Top(Guard g);

control GuardImpl(inout bit<32> counter) {
    Watchdog(1000) dog = {
        void on_timeout(in bit<32> elapsed) {
            this.kick();
        }
        void kick() {
        }
    };
    apply {
        counter = counter + 1;
    }
}

Top(GuardImpl()) main;
