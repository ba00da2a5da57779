/* A hand-written IPv4 router: the yardstick for p4tc's generated lpm_routing.
 * Non-IPv4 frames and truncated IPv4 headers go to the host; TTL <= 1 is dropped; the
 * destination's longest prefix (an LPM trie) gives a next-hop id, whose next hop (a hash)
 * rewrites both MACs, decrements the TTL and redirects. A FIB miss, a missing next hop or a
 * drop next hop drops. The IPv4 checksum is recomputed over the 20-byte header, as the
 * program does (a wrong incoming checksum comes out right).
 * Until round 4 the next hops were an array indexed by the id, which only agrees with the P4
 * program while the control plane keeps ids below 256; the P4 table takes any 32-bit id, so
 * the twin now does too (docs/benchmarks.md gives the ratio both ways). */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct lpm_key {
    __u32 prefixlen;
    __u8 addr[4];
};

enum { NH_NONE = 0, NH_SEND = 1, NH_DROP = 2 };

struct nexthop {
    __u32 kind;
    __u32 port;
    __u8 src[6];
    __u8 dst[6];
};

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __type(key, struct lpm_key);
    __type(value, __u32);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __uint(max_entries, 4096);
} fib SEC(".maps");

/* A hash, not an array indexed by the id: the P4 program's next-hop ids are any 32-bit value
 * (its nh_table is exact on a bit<32>, 256 entries), and an array of 256 would drop a route
 * to next hop 1000 that the P4 program forwards. */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, __u32);
    __type(value, struct nexthop);
    __uint(max_entries, 256);
} nexthops SEC(".maps");

/* The checksum of a 20-byte IPv4 header, its checksum field taken as zero. */
static __always_inline __u16 ipv4_csum(__u8 *ip)
{
    __u32 sum = 0;
#pragma unroll
    for (int i = 0; i < 20; i += 2)
        if (i != 10)
            sum += *(__u16 *)(ip + i);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return ~sum;
}

SEC("classifier")
int lpm_routing(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    __u8 *eth = data;
    if ((void *)(eth + 14) > data_end)
        return TC_ACT_OK;
    if (*(__u16 *)(eth + 12) != bpf_htons(0x0800))
        return TC_ACT_OK;
    __u8 *ip = eth + 14;
    if ((void *)(ip + 20) > data_end)
        return TC_ACT_OK;
    if (ip[8] <= 1)
        return TC_ACT_SHOT;
    struct lpm_key k = { .prefixlen = 32 };
    __builtin_memcpy(k.addr, ip + 16, 4);
    __u32 *nh_index = bpf_map_lookup_elem(&fib, &k);
    if (!nh_index)
        return TC_ACT_SHOT;
    struct nexthop *nh = bpf_map_lookup_elem(&nexthops, nh_index);
    if (!nh || nh->kind != NH_SEND)
        return TC_ACT_SHOT;
    __builtin_memcpy(eth, nh->dst, 6);
    __builtin_memcpy(eth + 6, nh->src, 6);
    ip[8]--;
    *(__u16 *)(ip + 10) = ipv4_csum(ip);
    return nh->port ? bpf_redirect(nh->port, 0) : TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
