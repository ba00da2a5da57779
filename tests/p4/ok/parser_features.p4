// Parser constructs: select over tuples with masks, ranges, value sets, default and _; blocks and conditionals in states.
#include <core.p4>

error {
    UnsupportedVersion,
    TruncatedOption
}

header base_h {
    bit<4>  version;
    bit<4>  kind;
    bit<8>  length;
    bit<16> tag;
}

header ext_h {
    bit<8> code;
    bit<8> len;
}

header blob_h {
    varbit<256> data;
}

header trailer_h {
    bit<32> crc;
}

// A ternary value-set element must sit alone in a struct, with @match.
struct tag_key_t {
    @match(ternary) bit<16> tag;
}

struct hdrs {
    base_h    base;
    ext_h     ext;
    blob_h    blob;
    trailer_h trailer;
}

struct parse_meta {
    bit<8>  ext_count;
    bool    tagged;
    bit<16> tag_copy;
}

parser FeatureParser(packet_in pkt, out hdrs h, inout parse_meta m) {
    // Parser-local constant, variable and value sets over a base type, a tuple type and a struct.
    const bit<4> CURRENT_VERSION = 2;
    bit<8> remaining;
    value_set<bit<4>>(4) extra_versions;
    value_set<tuple<bit<4>, bit<4>>>(8) version_kind;
    @name("special") value_set<tag_key_t>(16) special_tags;

    @name("entry")
    state start {
        pkt.extract<base_h>(h.base);
        m.ext_count = 0;
        m.tagged = false;
        remaining = h.base.length;
        transition select(h.base.version, h.base.kind) {
            (CURRENT_VERSION, 0 &&& 0x8): plain;
            (CURRENT_VERSION, 8 .. 15): with_ext;
            version_kind: with_ext;
            (default, 0xF): trailer_only;
            (_, _): reject_version;
        }
    }

    state plain {
        const bit<8> BASE_BYTES = 4;
        // A parser block statement, annotated, with its own declarations.
        @name("plain_body") {
            bit<8> extra = h.base.length - BASE_BYTES;
            remaining = extra;
        }
        ;
        transition select(h.base.tag) {
            special_tags: tagged;
            (0x0000 .. 0x00FF): accept;
            (_): accept;
        }
    }

    state tagged {
        m.tagged = true;
        m.tag_copy = h.base.tag;
        if (h.base.tag[15:8] == 0xFF) {
            m.tag_copy = 0;
        } else if (h.base.tag == 0) {
            ;
        } else {
            m.tag_copy = m.tag_copy + 1;
        }
        transition accept;
    }

    state with_ext {
        pkt.extract(h.ext);
        m.ext_count = m.ext_count + 1;
        verify(h.ext.len <= remaining, error.TruncatedOption);
        remaining = remaining - h.ext.len;
        transition select(h.ext.code) {
            0: accept;
            1: skip_blob;
            2: blob;
            (default): accept;
        }
    }

    state skip_blob {
        pkt.advance((bit<32>)h.ext.len << 3);
        transition accept;
    }

    state blob {
        pkt.extract(h.blob, (bit<32>)h.ext.len * 8);
        transition check_version;
    }

    state check_version {
        transition select(h.base.version) {
            extra_versions: accept;
            (4w0 &&& 4w0): reject_version;
        }
    }

    state trailer_only {
        pkt.extract(h.trailer);
        transition accept;
    }

    // No transition statement: the state ends in reject.
    state reject_version {
        verify(false, error.UnsupportedVersion);
    }
}

control FeatureControl(inout hdrs h, inout parse_meta m) {
    apply {
        if (m.tagged) {
            h.base.tag = m.tag_copy;
        }
    }
}

parser FeatureParserT(packet_in pkt, out hdrs h, inout parse_meta m);
control FeatureControlT(inout hdrs h, inout parse_meta m);
package FeatureProgram(FeatureParserT p, FeatureControlT c);

FeatureProgram(FeatureParser(), FeatureControl()) main;
