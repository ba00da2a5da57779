// Contextual keywords as names: key, actions, state, entries, type, priority, apply and list, plus dot-prefixed names.
#include <core.p4>

const bit<8> limit = 8;

// Field names that are keywords elsewhere, and a field named after a type.
header record_h {
    bit<8>  key;
    bit<8>  actions;
    bit<8>  state;
    bit<8>  entries;
    bit<8>  type;
    bit<8>  priority;
    bit<8>  apply;
    bit<8>  list;
}

struct Meta_t {
    bit<8>   counter;
    record_h Meta_t;
}

parser RecordParse(packet_in pkt, out record_h rec);
// A parameter named `apply` beside the control's own apply block.
control RecordOps(inout record_h rec, inout Meta_t meta, inout bit<8> apply);
package RecordProgram(RecordParse p, RecordOps ops);

parser RecordParser(packet_in pkt, out record_h rec) {
    bit<8> state = 0;

    state start {
        pkt.extract(rec);
        state = rec.state;
        transition select(state) {
            0: entries;
            default: accept;
        }
    }

    // A state named `entries`.
    state entries {
        rec.entries = rec.entries + 1;
        transition accept;
    }
}

control Records(inout record_h rec, inout Meta_t meta, inout bit<8> apply) {
    bit<8> key = 0;

    action type(bit<8> priority) {
        rec.priority = priority;
    }

    action actions(in bit<8> state) {
        rec.state = state;
    }

    table entries {
        key = {
            key      : exact @name("key");
            rec.type : exact @name("type");
        }
        actions = {
            type;
            actions(rec.key);
        }
        default_action = type(1);
        priority = 3;
        type = "lookup";
        apply = true;
        state = 2;
        // Any name may label a custom property, even a type's.
        Meta_t = 0;
        entries = {
            (1, 2) : type(5);
            (2, 3) : actions(rec.key);
        }
    }

    apply {
        key = rec.key;
        bit<8> priority = rec.priority + .limit;
        bit<8> type = rec.type;
        entries.apply();
        // `list` may name a field but not a variable: expressions cannot start with it.
        apply = apply + priority + type + rec.list;
        meta.Meta_t = rec;
        meta.counter = meta.Meta_t.actions;
        .Meta_t copy = meta;
        meta = copy;
    }
}

RecordProgram(RecordParser(), Records()) main;
