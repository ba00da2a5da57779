// Struct, header, tuple and stack expressions: {a, b}, {f = 1}, {f = 1, ...}, {a, ...}, {#}, and comparisons.
#include <core.p4>

header point_h {
    bit<16> x;
    bit<16> y;
}

struct point_s {
    bit<16> x;
    bit<16> y;
}

struct shape_s {
    point_s origin;
    point_s extent;
    bool    filled;
    bit<8>  color;
}

// Constants initialised from tuple and key-value expressions, with and without trailing commas.
const point_s ORIGIN = { 0, 0 };
const point_s UNIT = { x = 1, y = 1, };
const shape_s DEFAULT_SHAPE = {
    origin = ORIGIN,
    extent = { x = 10, y = 20 },
    filled = false,
    color = 8w7
};

control ShapeOps(inout shape_s shape, inout point_h ph, out bool same);
package ShapeProgram(ShapeOps ops);

control Shapes(inout shape_s shape, inout point_h ph, out bool same) {
    apply {
        // Tuple expressions and tuple types.
        tuple<bit<16>, bool> pair = { shape.origin.x, shape.filled };
        tuple<> nothing = {};
        bit<16> first = pair[0];
        bool second = pair[1];

        // Key-value expressions, in any field order; `...` fills the rest with default values.
        point_s p = { y = first, x = 3 };
        shape_s partial = { color = 8w2, ... };
        shape_s positional = { ORIGIN, UNIT, true, ... };
        shape_s typed = (shape_s){ filled = second, extent = p, ... };

        // Header expressions make the header valid; {#} makes it invalid.
        ph = { x = p.x, y = p.y };
        point_h copy = (point_h){ 1, 2 };
        point_h gone = {#};
        point_h typed_gone = (point_h){#};

        // A stack from a tuple: explicit elements, an invalid one, and the rest by default.
        point_h[4] stack = { copy, (point_h){#}, ... };
        stack[3] = ph;

        // Member access on a struct-valued expression and equality on structs, headers and tuples.
        bit<16> y = ((point_s){ x = 5, y = 6 }).y;
        same = p == (point_s){ x = 3, y = first }
            && pair == { first, second }
            && gone == typed_gone
            && partial != DEFAULT_SHAPE
            && nothing == {}
            && stack[1] == (point_h){#};

        shape = typed.filled ? typed : positional;
        shape.color = shape.color + (bit<8>)y[7:0] + (bit<8>)stack[3].x;
    }
}

ShapeProgram(Shapes()) main;
