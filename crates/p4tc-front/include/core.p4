/*
 * core.p4 -- the P4-16 core library, as shipped inside p4tc.
 *
 * This file is p4tc's own. It was written from the declarations listed in
 * the P4-16 language specification (v1.2.x, appendix "P4 core library"
 * and the sections on parsers, tables and static assertions). Every P4-16
 * program includes it, directly or through an architecture file; the
 * include guard makes a second inclusion a no-op.
 */

#ifndef _P4TC_CORE_P4_
#define _P4TC_CORE_P4_

/*
 * Parser errors.
 *
 * The built-in members of the `error` type. Programs may add their own
 * with further `error { ... }` declarations; all of them are merged.
 *   NoError               -- the default value; nothing went wrong.
 *   PacketTooShort        -- extract or lookahead ran past the end of the
 *                            packet.
 *   NoMatch               -- a select expression matched no case.
 *   StackOutOfBounds      -- an index into a header stack (or array) was
 *                            out of range.
 *   HeaderTooShort        -- a varbit extract asked for more bits than the
 *                            field can hold.
 *   ParserTimeout         -- the parser ran longer than the target allows.
 *   ParserInvalidArgument -- a parser operation got an argument value the
 *                            target does not support.
 */
error {
    NoError,
    PacketTooShort,
    NoMatch,
    StackOutOfBounds,
    HeaderTooShort,
    ParserTimeout,
    ParserInvalidArgument
}

/*
 * Table key match kinds every architecture starts from: `exact` compares
 * all bits, `ternary` compares the bits selected by a mask, `lpm` is a
 * longest-prefix match. Architectures may declare more (PNA adds range,
 * selector and optional) and need not support all of these.
 */
match_kind {
    exact,
    ternary,
    lpm
}

/*
 * Packet access.
 *
 * The architecture hands each parser a `packet_in` and each deparser a
 * `packet_out`; programs never construct them.
 */

// The packet being parsed, read through a cursor that starts at bit 0.
extern packet_in {
    // Copy the next bits of the packet into a fixed-size header, mark it
    // valid and move the cursor past it. Can fail with PacketTooShort, or
    // StackOutOfBounds when the target is the next element of a full stack.
    void extract<T>(out T hdr);

    // As above for a header with exactly one varbit field, whose length
    // in bits is given by the second argument. Can also fail with
    // HeaderTooShort.
    void extract<T>(out T variableSizeHeader,
                    in bit<32> variableFieldSizeInBits);

    // The next sizeof(T) bits of the packet, without moving the cursor.
    T lookahead<T>();

    // Move the cursor forward by the given number of bits.
    void advance(in bit<32> sizeInBits);

    // Length of the whole packet in bytes; not every target offers it.
    bit<32> length();
}

// The packet being built by a deparser.
extern packet_out {
    // Append `data` to the packet: a header (only if valid), a header
    // stack or union, or a struct of those, in field order.
    void emit<T>(in T data);
}

/*
 * Parser-side check: when `condition` is false the parser stops, sets its
 * error to `err` and goes to the reject state. Only callable in parsers.
 */
extern void verify(in bool condition, in error err);

/*
 * The action that does nothing; the usual default action of a table.
 */
@noWarn("unused")
action NoAction() {}

/*
 * Compile-time assertions. The arguments are directionless, so they must
 * be compile-time known. A false `check` stops compilation with `message`
 * (or a generic message). They return bool so that a program can use them
 * at top level, e.g. `const bool ok = static_assert(W > 8, "W too small");`.
 */
extern bool static_assert(bool check, string message);
extern bool static_assert(bool check);

#endif /* _P4TC_CORE_P4_ */
