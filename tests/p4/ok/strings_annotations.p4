// String literals (escapes, multi-line, 8-bit text, ++) and annotations of every shape on every kind of element.
#include <core.p4>

@noWarn("unused")
extern void log_msg(string message);

@pure
extern bit<32> fingerprint(@doc("any text") string label, in bit<32> seed);

@deprecated("use " ++ "Journal" ++ " instead")
@Origin[vendor = "example", version = 2, stable = false]
extern Journal {
    @doc("capacity in records") Journal(bit<32> records);
    @noSideEffects bit<32> count();
    @doc("appends one record") void append(@optional in bit<32> value);
}

// An unstructured annotation body may hold any tokens, keywords included, with balanced parentheses.
@tokens(abstract action actions apply bool bit break const continue control default else entries enum
        error exit extern false for header header_union if in inout int key list match_kind type out
        parser package return select state string struct switch table this transition true tuple
        typedef varbit value_set void _ some_name note_h "a string" 42 0x2A 8w7
        &&& .. << && || == != >= <= ++ + |+| - |-| * / % | & ^ ~ [ ] { } < > ! : , ? . = ; @
        (nested (deeper ( deepest )) done) $)
@empty_body()
@Empty[]
@Mixed[1, "hello", true, false, 2 + 3]
@Trailing[1, 2,]
@Pairs[label = "text", enabled = true, weight = 2 * 3]
@PairsTrailing[key = 1, type = "kv keys may be contextual keywords",]
@Concat["multi" ++ "part"]
header note_h {
    @description("first field") bit<8> a;
    @hidden bit<8> b;
    @range[low = 0, high = 255] bit<8> c;
}

@doc("a union") header_union note_u {
    @doc("only member") note_h n;
}

@doc("metadata") struct note_meta {
    @doc("counts") bit<32> records;
}

@doc("a constant") const bit<8> MAGIC = 0x4E;
@doc("an alias") typedef bit<8> byte_t;
@doc("a new type") type bit<8> Tag_t;
@doc("an enum") enum Level { Quiet, Loud }
@doc("a serializable enum") enum bit<8> Code_t { ZERO = 0, ONE = 1 }

@doc("a function")
bit<32> weight(@doc("the input") in bit<32> x) {
    return x + 1;
}

@doc("a parser type") parser NoteParserT(packet_in pkt, out note_h h);
@doc("a control type") control NoteControlT(inout note_h h, inout note_meta m);
@doc("a package") package NoteProgram(@doc("the parser") NoteParserT p, NoteControlT c);

@doc("a parser")
parser NoteParser(packet_in pkt, out note_h h) {
    @doc("a value set") value_set<bit<8>>(2) special;
    @doc("a local") bit<8> first;

    @doc("the start state")
    state start {
        @doc("a state-local variable") bit<8> peeked = pkt.lookahead<bit<8>>();
        first = peeked;
        pkt.extract(h);
        transition select(first) {
            special: accept;
            MAGIC: accept;
            default: reject;
        }
    }
}

@doc("a control")
control NoteControl(inout note_h h, inout note_meta m) {
    @doc("an instance") Journal(32w1024) journal;

    @doc("an action")
    action record(@doc("action data") bit<32> tag) {
        @atomic {
            journal.append(tag);
            m.records = journal.count();
        }
    }

    @doc("a table")
    table notes {
        key = {
            h.a : exact @doc("a key") @name("a");
        }
        actions = {
            @doc("an action reference") record;
            @doc("another") NoAction;
        }
        @doc("a default") default_action = NoAction();
        @doc("initial entries") entries = {
            0x01 : record(7) @doc("an entry");
        }
        @doc("a custom property") const note_style = "terse";
    }

    apply {
        log_msg("plain");
        log_msg("with \"escaped\" quotes and a back\\slash");
        log_msg("escapes are passed through: \t \n \\ \"");
        log_msg("a string literal
that spans two lines");
        log_msg("8-bit text: naïve café, 温度");
        log_msg("concatenated " ++ "at " ++ ("compile" ++ " time"));

        @doc("an annotated block") {
            @doc("an annotated variable") bit<32> fp = fingerprint("notes", m.records);
            m.records = weight(fp);
        }

        @unroll
        for (@doc("loop variable") bit<8> i in 0 .. 1) {
            h.c = h.c + i;
        }

        switch (notes.apply().action_run) {
            record: @likely {
                h.b = MAGIC;
            }
            default: @unlikely {
            }
        }
        journal.append();
        Tag_t t = (Tag_t)h.a;
        byte_t raw = (byte_t)(bit<8>)t;
        h.a = raw;
    }
}

@doc("the top-level instance")
NoteProgram(NoteParser(), NoteControl()) main;
