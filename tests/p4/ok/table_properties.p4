// Tables: annotated keys and actions, bound action arguments, defaults, prioritised entries, every keyset form, custom properties.
#include <core.p4>

match_kind {
    range,
    optional
}

// The table implementation object this target offers: a shared pool of action entries.
extern ActionProfile {
    ActionProfile(bit<32> size);
}

header pkt_h {
    bit<8>  kind;
    bit<16> port;
    bit<32> addr;
    bit<8>  flags;
}

struct meta_t {
    bit<8>  cls;
    bit<16> hits;
}

// A top-level action, referred to with a leading dot from inside the control.
action global_drop(inout meta_t m) {
    m.cls = 0xFF;
}

control TableOps(inout pkt_h p, inout meta_t m);
package TableProgram(TableOps ops);

control Tables(inout pkt_h p, inout meta_t m) {
    action set_class(bit<8> cls) {
        m.cls = cls;
    }

    action count_into(inout bit<16> counter, bit<16> amount) {
        counter = counter + amount;
    }

    action annotate(in bit<8> hint, bit<8> cls) {
        m.cls = cls ^ hint;
    }

    action nop() {
    }

    @name("classifier")
    @Labels[short = "cls", hover = "Classifies packets by kind, address, port and flags"]
    table classify {
        key = {
            p.kind  : exact @name("kind");
            p.addr  : ternary @name("addr") @display_as("ipv4");
            p.port  : range;
            p.flags : optional;
        }
        actions = {
            set_class;
            @tableonly count_into(m.hits);
            @defaultonly annotate(p.flags);
            .global_drop(m);
            nop;
        }
        const default_action = annotate(p.flags, 8w1);
        size = 512;
        largest_priority_wins = true;
        priority_delta = 5;
        @noWarn("entries_out_of_priority_order")
        entries = {
            priority = 100: (1, 0x0A00_0000 &&& 0xFF00_0000, 0 .. 1023, 0x01) : set_class(1) @note("10/8, well-known ports");
            const priority = (40 + 50): (1, _, default, _) : set_class(2);
            (2, 0xC0A8_0000 &&& 0xFFFF_0000, 1024 .. 65535, _) : count_into(m.hits, 16w1);
            const (3, default, _, 0x80) : .global_drop(m);
            priority = 1: (_, _, _, _) : nop();
        }
        @hint("fast path") implementation = ActionProfile(64);
        const cache_results = true;
        table_tag = "classifier-v2";
    }

    // Single-key entries: plain values, masks and the parenthesised forms.
    table by_kind {
        key = {
            p.kind : ternary;
        }
        actions = {
            set_class;
            nop;
        }
        const entries = {
            0x00 &&& 0xF0 : set_class(10);
            (0x10 &&& 0xF0) : set_class(11);
            0x20 : set_class(12);
            (_) : nop();
        }
    }

    table by_port {
        key = {
            p.port : range @name("port");
        }
        actions = {
            set_class;
            nop;
        }
        default_action = nop();
        entries = {
            (0 .. 1023) : set_class(20);
            const 1024 .. 49151 : set_class(21);
            (default) : nop;
        }
    }

    // No key at all: only the default action runs.
    table always {
        actions = {
            set_class;
        }
        default_action = set_class(7);
    }

    // An explicitly empty key.
    table empty_key {
        key = {
        }
        actions = {
            nop;
        }
    }

    apply {
        if (classify.apply().hit) {
            m.hits = m.hits + 1;
        }
        switch (by_kind.apply().action_run) {
            set_class: {
                by_port.apply();
            }
            nop: {
                always.apply();
            }
        }
        m.hits = empty_key.apply().miss ? m.hits : m.hits + 1;
    }
}

TableProgram(Tables()) main;
