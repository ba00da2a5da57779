/* A hand-written IPv6 router: the yardstick for p4tc's generated ipv6_forwarding.
 * Non-IPv6 frames and truncated IPv6 headers go to the host; a version other than 6 is
 * dropped; link-local destinations (fe80::/10) go to the host; hop limit <= 1 is dropped;
 * otherwise the destination's longest prefix (an LPM trie) routes (both MACs rewritten,
 * hop limit - 1), sends out of a port unchanged, or drops; a miss drops. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct lpm6_key {
    __u32 prefixlen;
    __u8 addr[16];
};

enum { R_ROUTE = 1, R_TO_HOST = 2, R_DROP = 3 };

struct route6 {
    __u32 kind;
    __u32 port;
    __u8 src[6];
    __u8 dst[6];
};

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __type(key, struct lpm6_key);
    __type(value, struct route6);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __uint(max_entries, 8192);
} fib6 SEC(".maps");

SEC("classifier")
int ipv6_forwarding(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    __u8 *eth = data;
    if ((void *)(eth + 14) > data_end)
        return TC_ACT_OK;
    if (*(__u16 *)(eth + 12) != bpf_htons(0x86DD))
        return TC_ACT_OK;
    __u8 *ip6 = eth + 14;
    if ((void *)(ip6 + 40) > data_end)
        return TC_ACT_OK;
    if ((ip6[0] >> 4) != 6)
        return TC_ACT_SHOT;
    __u8 *dst = ip6 + 24;
    if (dst[0] == 0xfe && (dst[1] & 0xc0) == 0x80)
        return TC_ACT_OK;
    if (ip6[7] <= 1)
        return TC_ACT_SHOT;
    struct lpm6_key k = { .prefixlen = 128 };
    __builtin_memcpy(k.addr, dst, 16);
    struct route6 *r = bpf_map_lookup_elem(&fib6, &k);
    if (!r || r->kind == R_DROP)
        return TC_ACT_SHOT;
    if (r->kind == R_ROUTE) {
        __builtin_memcpy(eth, r->dst, 6);
        __builtin_memcpy(eth + 6, r->src, 6);
        ip6[7]--;
    }
    return r->port ? bpf_redirect(r->port, 0) : TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
