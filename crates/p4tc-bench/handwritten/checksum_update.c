/* A hand-written source NAT: the yardstick for p4tc's generated checksum_update.
 * IPv4 frames must carry a valid header checksum and, for TCP and UDP, a whole L4 header
 * (else they are dropped). An exact (source, protocol) rule rewrites the source address and,
 * for TCP and for UDP with a checksum, the source port; the checksums are patched as RFC 1624
 * says, with the address part of the difference precomputed per rule (the rule's key is the
 * old address). Then the destination's longest prefix picks the output device; without one
 * the frame goes to the host. Non-IPv4 frames go to the host untouched. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct snat_key {
    __u32 src;    /* network order */
    __u8 proto;
    __u8 pad[3];
};

struct snat {
    __u32 new_src;    /* network order */
    __u16 new_port;   /* network order */
    __u16 pad;
    __u32 addr_delta; /* one's complement sum of ~old address words and the new ones */
};

struct lpm_key {
    __u32 prefixlen;
    __u32 addr;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, struct snat_key);
    __type(value, struct snat);
    __uint(max_entries, 1024);
} snat_rules SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __type(key, struct lpm_key);
    __type(value, __u32);
    __uint(max_entries, 1024);
    __uint(map_flags, BPF_F_NO_PREALLOC);
} egress_ports SEC(".maps");

static __always_inline __u32 fold(__u32 s)
{
    s = (s & 0xffff) + (s >> 16);
    return (s & 0xffff) + (s >> 16);
}

/* The checksum `old` (network order) after adding `delta` to what it covers. */
static __always_inline __u16 patch(__u16 old, __u32 delta)
{
    __u32 s = (__u16)~bpf_ntohs(old) + delta;
    return bpf_htons((__u16)~fold(s));
}

/* Rewrites the source address (and port, when `l4sum` is given) and patches the checksums. */
static __always_inline void nat(__u8 *ip, __u16 *port, __u16 *l4sum, const struct snat *r)
{
    __u32 delta = r->addr_delta;
    *(__u16 *)(ip + 10) = patch(*(__u16 *)(ip + 10), delta);
    if (l4sum) {
        __u32 d = delta + (__u16)~bpf_ntohs(*port) + bpf_ntohs(r->new_port);
        *l4sum = patch(*l4sum, d);
        *port = r->new_port;
    }
    *(__u32 *)(ip + 12) = r->new_src;
}

SEC("classifier")
int checksum_update(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    __u8 *eth = data;
    if ((void *)(eth + 14) > data_end)
        return TC_ACT_SHOT;
    if (*(__u16 *)(eth + 12) != bpf_htons(0x0800))
        return TC_ACT_OK;
    __u8 *ip = eth + 14;
    if ((void *)(ip + 20) > data_end)
        return TC_ACT_SHOT;
    __u32 sum = 0;
#pragma unroll
    for (int i = 0; i < 20; i += 4)
        sum += (*(__u16 *)(ip + i)) + (*(__u16 *)(ip + i + 2));
    if (fold(sum) != 0xffff)   /* byte order does not matter for this test */
        return TC_ACT_SHOT;
    __u8 proto = ip[9];
    __u8 *l4 = ip + 20;
    struct snat_key k = { .src = *(__u32 *)(ip + 12), .proto = proto };
    /* Each protocol's branch checks its own header's bounds right before using it. */
    if (proto == 6) {
        if ((void *)(l4 + 20) > data_end)
            return TC_ACT_SHOT;
        struct snat *r = bpf_map_lookup_elem(&snat_rules, &k);
        if (r)
            nat(ip, (__u16 *)l4, (__u16 *)(l4 + 16), r);
    } else if (proto == 17) {
        if ((void *)(l4 + 8) > data_end)
            return TC_ACT_SHOT;
        struct snat *r = bpf_map_lookup_elem(&snat_rules, &k);
        if (r)
            nat(ip, (__u16 *)l4, *(__u16 *)(l4 + 6) ? (__u16 *)(l4 + 6) : 0, r);
    } else {
        struct snat *r = bpf_map_lookup_elem(&snat_rules, &k);
        if (r)
            nat(ip, 0, 0, r);
    }

    struct lpm_key lk = { .prefixlen = 32, .addr = *(__u32 *)(ip + 16) };
    __u32 *out = bpf_map_lookup_elem(&egress_ports, &lk);
    if (!out || !*out)
        return TC_ACT_OK;
    return bpf_redirect(*out, 0);
}

char _license[] SEC("license") = "GPL";
