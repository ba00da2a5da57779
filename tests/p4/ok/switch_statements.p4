// Switch statements: on bit/int values, enums and errors, fall-through labels, default, on action_run.
#include <core.p4>

const bit<8> BASE = 0x10;

enum bit<4> Mode_t {
    OFF = 0,
    ON = 1,
    AUTO = 2
}

enum Phase {
    Init,
    Run,
    Stop
}

error {
    TooBig
}

header msg_h {
    bit<8>  opcode;
    int<8>  delta;
    Mode_t  mode;
    bit<4>  pad;
    bit<16> payload;
}

// Switch in a function body.
bit<8> classify(in bit<8> opcode) {
    switch (opcode) {
        0:
        1: { return 1; }
        BASE: { return 2; }
        BASE + 1:
        .BASE + 2: { return 3; }
        (BASE << 1): { return 4; }
        8w0xFF: { return 5; }
        ~8w1: { return 6; }
        default: { }
    }
    return 0;
}

// Switch labels may be any compile-time known expression that does not start with `{`.
const bool STRICT = true;
const bit<16> WIDE_CODE = 0x4321;

struct range_cfg_t {
    bit<8> low;
    bit<8> high;
}

const range_cfg_t CFG = { low = 0x20, high = 0x2F };
const tuple<bit<8>, bit<8>> CODES = { 0x30, 0x31 };

header sized_h {
    bit<16> a;
    bit<8>  b;
}

bit<8> label_forms(in bit<8> v) {
    bit<8> r = 0;
    switch (v) {
        CODES[1]:                            { r = 1; }
        WIDE_CODE[7:0]:                      { r = 2; }
        WIDE_CODE[8 +: 8]:                   { r = 3; }
        !STRICT ? 8w0x50 : 8w0x51:           { r = 4; }
        +8w0x52:                             { r = 5; }
        CFG.high:                            { r = 6; }
        BASE * 3:                            { r = 7; }
        BASE / 2:                            { r = 8; }
        BASE % 7:                            { r = 9; }
        BASE - 1:                            { r = 10; }
        BASE |+| 0xF0:                       { r = 11; }
        BASE |-| 0x20:                       { r = 12; }
        BASE << 2:                           { r = 13; }
        BASE >> 2:                           { r = 14; }
        BASE <= 3 ? 8w0x60 : 8w0x61:         { r = 15; }
        BASE >= 3 ? 8w0x62 : 8w0x63:         { r = 16; }
        BASE < 3 ? 8w0x64 : 8w0x65:          { r = 17; }
        BASE > 3 ? 8w0x66 : 8w0x67:          { r = 18; }
        BASE != 3 ? 8w0x68 : 8w0x69:         { r = 19; }
        BASE == 3 ? 8w0x6A : 8w0x6B:         { r = 20; }
        BASE & 0x1C:                         { r = 21; }
        BASE ^ 0x01:                         { r = 22; }
        BASE | 0x80:                         { r = 23; }
        BASE[3:0] ++ 4w0x7:                  { r = 24; }
        STRICT && BASE > 1 ? 8w0x70 : 8w0x71: { r = 25; }
        BASE == 0 || STRICT ? 8w0x72 : 8w0x73:  { r = 26; }
        true ? 8w0x7A : 8w0x7B:              { r = 27; }
        false ? 8w0x7C : 8w0x7D:             { r = 28; }
        sized_h.minSizeInBits():             { r = 29; }
        (bit<8>)(WIDE_CODE >> 4):            { r = 30; }
        8w0b1001_0001:                       { r = 31; }
    }
    return r;
}

control SwitchOps(inout msg_h msg, inout Phase phase, in error parse_status);
package SwitchProgram(SwitchOps ops);

control Switches(inout msg_h msg, inout Phase phase, in error parse_status) {
    action set_payload(bit<16> value) {
        // Switch in an action body, on a signed value.
        switch (msg.delta) {
            -1: { msg.payload = value - 1; }
            0: { }
            1: { msg.payload = value + 1; }
            default: { msg.payload = value; }
        }
    }

    action clear() {
        msg.payload = 0;
    }

    action keep() {
    }

    table by_opcode {
        key = {
            msg.opcode : exact;
        }
        actions = {
            set_payload;
            clear;
            keep;
        }
        default_action = keep;
    }

    apply {
        bit<8> kind = classify(msg.opcode) + label_forms(msg.opcode);

        // Labels that fall through, and a default label.
        switch (kind) {
            1:
            2: @likely {
                msg.pad = 1;
            }
            3: {
                msg.pad = 2;
            }
            4:
            default: @unlikely {
                msg.pad = 0;
            }
        }

        // Serializable and plain enums; the last label may omit its block.
        switch (msg.mode) {
            Mode_t.OFF: { phase = Phase.Stop; }
            Mode_t.ON:
            Mode_t.AUTO: { phase = Phase.Run; }
        }
        switch (phase) {
            Phase.Init: { msg.mode = Mode_t.AUTO; }
            Phase.Stop:
        }

        // Errors.
        switch (parse_status) {
            error.NoError: { }
            error.TooBig: { msg.payload = 16w0xFFFF; }
            default: { msg.payload = 0; }
        }

        // Which action the table ran, with fall-through and default.
        switch (by_opcode.apply().action_run) {
            set_payload:
            clear: {
                msg.opcode = msg.opcode | 0x80;
            }
            default: {
                msg.opcode = 0;
            }
        }

        // No cases at all is allowed.
        switch (msg.pad) {
        }
    }
}

SwitchProgram(Switches()) main;
