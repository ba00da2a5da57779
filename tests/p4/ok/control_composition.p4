// Control composition: constructor parameters with defaults, instances applied by name, direct application.
#include <core.p4>

header ip_h {
    bit<8>  ttl;
    bit<8>  tos;
    bit<32> src;
    bit<32> dst;
}

struct meta_t {
    bit<32> score;
    bool    drop;
}

// Decrements the TTL and flags expired packets; the floor is fixed per instance.
control TtlGuard(inout ip_h ip, inout meta_t meta)(bit<8> floor, bool strict = false) {
    apply {
        if (ip.ttl <= floor) {
            meta.drop = true;
            if (strict) {
                return;
            }
        }
        ip.ttl = ip.ttl - 1;
    }
}

// Adds a weighted tos to the score; no constructor parameters, so it can be applied directly.
control Score(in ip_h ip, inout meta_t meta) {
    apply {
        meta.score = meta.score + (bit<32>)ip.tos;
    }
}

// Holds its own instances of other controls.
control Stage(inout ip_h ip, inout meta_t meta)(bit<8> ttl_floor) {
    const bit<8> STRICT_MARGIN = 1;
    TtlGuard(ttl_floor) guard;
    TtlGuard(floor = ttl_floor + STRICT_MARGIN, strict = true) strict_guard;

    apply {
        guard.apply(ip, meta);
        if (!meta.drop) {
            strict_guard.apply(ip, meta);
        }
        Score.apply(ip, meta);
    }
}

control Pipeline(inout ip_h ip, inout meta_t meta) {
    const bit<32> RESCORE_THRESHOLD = 32w0x80;
    Stage(8w1) first_stage;
    Stage(ttl_floor = 8w16) second_stage;

    apply {
        meta.score = 0;
        meta.drop = false;
        first_stage.apply(ip, meta);
        if (meta.score > RESCORE_THRESHOLD) {
            second_stage.apply(ip, meta);
        }
        Score.apply(ip = ip, meta = meta);
    }
}

control PipelineT(inout ip_h ip, inout meta_t meta);
package CompositionProgram(PipelineT pipe);

CompositionProgram(Pipeline()) main;
