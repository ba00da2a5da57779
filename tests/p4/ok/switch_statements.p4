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
        bit<8> kind = classify(msg.opcode);

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
