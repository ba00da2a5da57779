// Top-level declarations: empty `;`, typedefs of inline type declarations, `type`, bit<(expr)> widths, dot-prefixed types.
#include <core.p4>
;

const int ADDR_BITS = 32;
const int PREFIX_BYTES = 3;
;;

// Widths written as parenthesised compile-time expressions.
typedef bit<(ADDR_BITS)> addr_t;
typedef int<(ADDR_BITS / 2)> half_signed_t;
typedef bit<(PREFIX_BYTES * 8)> prefix_t;
typedef bit vlan_flag_t;

// Typedefs whose type is declared in place; the program uses the alias names.
typedef struct Endpoint {
    addr_t  addr;
    bit<16> port;
} endpoint_t;

typedef header Marker_h {
    bit<8> value;
} marker_alias_t;

enum Zone {
    Inside,
    Outside
}
typedef Zone zone_t;

enum bit<2> Tier_t {
    Gold = 2,
    Silver = 1,
    Bronze = 0
}
typedef Tier_t tier_alias_t;

// New types, including one over another new type and one over bool.
type addr_t Ipv4Addr_t;
type half_signed_t Offset_t;
type bool Enabled_t;

header holder_h {
    prefix_t             prefix;
    varbit<(PREFIX_BYTES * 8)> extra;
}

struct flow_s {
    endpoint_t src;
    .endpoint_t dst;
    zone_t     zone;
    Tier_t     tier;
    Ipv4Addr_t gateway;
    Offset_t   offset;
    Enabled_t  enabled;
    vlan_flag_t tagged;
}

// A top-level extern instance with its own type; top-level functions and actions.
extern Sequence {
    Sequence(bit<32> start);
    bit<32> next();
}

Sequence(32w1000) flow_ids;

.addr_t mask_prefix(in .addr_t a, in bit<8> prefix_len) {
    return a & ~((32w1 << ((bit<8>)ADDR_BITS - prefix_len)) - 1);
}

action zone_swap(inout flow_s f) {
    f.zone = f.zone == Zone.Inside ? Zone.Outside : Zone.Inside;
}

;

control FlowOps(inout flow_s f, inout marker_alias_t mark, out bit<32> id);
package FlowProgram(FlowOps ops);
;

control Flows(inout flow_s f, inout marker_alias_t mark, out bit<32> id) {
    apply {
        id = flow_ids.next();
        f.src.addr = mask_prefix(f.src.addr, 24);
        f.gateway = (Ipv4Addr_t)mask_prefix((addr_t)f.gateway, 16);
        f.offset = (Offset_t)(half_signed_t)-16s1;
        f.enabled = (Enabled_t)(f.tier == Tier_t.Gold);
        tier_alias_t t = f.tier;
        if (t != Tier_t.Bronze && (bool)f.enabled) {
            zone_swap(f);
        }
        mark = { value = (bit<8>)f.tagged };
    }
}

FlowProgram(Flows()) main;
;
