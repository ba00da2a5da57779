// minSizeInBits/minSizeInBytes/maxSizeInBits/maxSizeInBytes on values and type names, checked with static_assert.
#include <core.p4>

typedef bit<48> mac_t;
type bit<32> Addr_t;

enum bit<16> EtherType_t {
    IPV4 = 0x0800,
    IPV6 = 0x86DD
}

header eth_h {
    mac_t       dst;
    mac_t       src;
    EtherType_t etherType;
}

header opts_h {
    bit<8>      len;
    varbit<120> data;
}

header small_h {
    bit<8> v;
}

header_union either_u {
    eth_h   eth;
    small_h small;
}

struct all_s {
    eth_h       eth;
    small_h[3]  smalls;
    bool        flag;
    int<7>      odd;
}

// On type names, including typedef and `type` names and a serializable enum.
const int ETH_BITS = eth_h.minSizeInBits();
const int ETH_BYTES = eth_h.minSizeInBytes();
const int MAC_BITS = mac_t.maxSizeInBits();
const int ADDR_BYTES = Addr_t.maxSizeInBytes();
const int ETHERTYPE_BITS = EtherType_t.minSizeInBits();
const int ALL_BITS = all_s.minSizeInBits();

const bool eth_is_14_bytes = static_assert(ETH_BYTES == 14, "an Ethernet header is 14 bytes");
const bool sizes_add_up = static_assert(ALL_BITS == ETH_BITS + 3 * 8 + 1 + 7);
const bool addr_is_4_bytes = static_assert(ADDR_BYTES == 4 && MAC_BITS == 48 && ETHERTYPE_BITS == 16);

control SizeOps(inout all_s all, inout opts_h opts, inout either_u u, out bit<32> report);
package SizeProgram(SizeOps ops);

control Sizes(inout all_s all, inout opts_h opts, inout either_u u, out bit<32> report) {
    apply {
        // On expressions: the receiver is not evaluated, so an invalid header is fine.
        const int STACK_BITS = all.smalls.minSizeInBits();
        const int ONE_SMALL = all.smalls[2].minSizeInBytes();
        const int OPT_MIN = opts.minSizeInBits();
        const int OPT_MAX = opts.maxSizeInBits();
        const int OPT_MAX_BYTES = opts.maxSizeInBytes();
        const int UNION_BITS = u.maxSizeInBits();
        const int FLAG_BITS = all.flag.minSizeInBits();

        report = (bit<32>)STACK_BITS + (bit<32>)ONE_SMALL + (bit<32>)(OPT_MAX - OPT_MIN)
               + (bit<32>)OPT_MAX_BYTES + (bit<32>)UNION_BITS + (bit<32>)FLAG_BITS
               + (bit<32>)all.odd.minSizeInBits();
        if (opts.data.maxSizeInBits() > 64) {
            report = report | 32w0x8000_0000;
        }
    }
}

SizeProgram(Sizes()) main;
