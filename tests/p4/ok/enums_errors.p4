// Enumerations, serializable enums over bit, int and typedef'd types, error and match_kind declarations.
#include <core.p4>

match_kind {
    range,
    optional,
}

error {
    BadColor,
    BadDelta
}

error { NoSuchLevel }

enum Color {
    Red,
    Green,
    Blue,
}

enum bit<8> Level_t {
    LOW    = 8w1,
    MEDIUM = 8w5,
    HIGH   = 8w9,
    MAX    = 0xFF
}

enum int<8> Delta_t {
    DOWN = -1,
    SAME = 0,
    UP   = 1
}

typedef bit<4> nibble_t;
enum nibble_t Quadrant_t {
    NE = 0,
    NW = 1,
    SW = 2,
    SE = 3,
}

// Two names for one value are allowed.
enum bit<2> Alias_t {
    FIRST = 0,
    PRIMARY = 0,
    SECOND = 1
}

header level_h {
    Level_t    level;
    Quadrant_t quadrant;
    bit<4>     pad;
}

struct enum_meta_t {
    Color   color;
    Delta_t delta;
    error   last_error;
}

control EnumOps(inout level_h h, inout enum_meta_t m);
package EnumProgram(EnumOps ops);

control Enums(inout level_h h, inout enum_meta_t m) {
    apply {
        // Plain enums compare for equality only.
        if (m.color == Color.Red) {
            m.color = Color.Green;
        } else if (m.color != Color.Blue) {
            m.color = Color.Blue;
        }

        // Serializable enums convert to their underlying type implicitly.
        bit<8> raw = h.level;
        bit<8> next = h.level + 1;
        bool high = h.level >= Level_t.HIGH;
        int<8> step = Delta_t.UP;
        nibble_t q = Quadrant_t.SW;

        // And back only with a cast, possibly to an unnamed value.
        h.level = (Level_t)(raw + 8w4);
        m.delta = (Delta_t)(step - 2);
        h.quadrant = (Quadrant_t)(q + 1);

        switch (h.level) {
            Level_t.LOW: {
                m.delta = Delta_t.DOWN;
            }
            Level_t.MEDIUM:
            Level_t.HIGH: {
                m.delta = Delta_t.SAME;
            }
            default: {
                m.delta = Delta_t.UP;
            }
        }

        switch (m.color) {
            Color.Red: { m.last_error = error.BadColor; }
            Color.Green: { m.last_error = error.NoError; }
            Color.Blue: { m.last_error = error.NoSuchLevel; }
        }

        switch (m.last_error) {
            error.NoError: { }
            error.BadColor:
            error.BadDelta: { h.pad = 4w0xF; }
            default: { h.pad = 0; }
        }

        if (high && next != Level_t.MAX && Alias_t.FIRST == Alias_t.PRIMARY) {
            h.level = Level_t.MAX;
        }
    }
}

EnumProgram(Enums()) main;
