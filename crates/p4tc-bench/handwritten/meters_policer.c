/* A hand-written subscriber policer: the yardstick for p4tc's generated meters_policer.
 * IPv4 only (anything else goes to the host). The source's longest prefix names the
 * subscriber (a miss drops); the subscriber's byte meter (an array of two-rate three-colour
 * markers, RFC 2698) colours the packet, pre-coloured green; the destination's longest
 * prefix picks the uplink, whose packet meter lives in the route itself and re-colours the
 * packet (colour-aware or colour-blind). Red is dropped, yellow gets DSCP 0, green DSCP 10;
 * the IPv4 checksum is recomputed. An unconfigured meter marks everything green. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define RED 0
#define GREEN 1
#define YELLOW 2
#define BLIND 3
#define NS 1000000000ULL

/* Rates in units per second, bursts in units, tokens in units x 10^9. */
struct meter {
    __u64 cir, cbs, pir, pbs;
    __u64 tc, tp;
    __u64 last_ns;
    __u64 configured;
};

struct lpm_key {
    __u32 prefixlen;
    __u8 addr[4];
};

enum { S_SET = 1, S_DROP = 2 };

struct subscriber {
    __u32 kind;
    __u32 id;
};

enum { U_UPLINK = 1, U_BLIND = 2, U_NONE = 3 };

struct uplink {
    struct meter m;
    __u32 kind;
    __u32 port;
};

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __type(key, struct lpm_key);
    __type(value, struct subscriber);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __uint(max_entries, 1024);
} subscribers SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, struct meter);
    __uint(max_entries, 1024);
} subscriber_meter SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __type(key, struct lpm_key);
    __type(value, struct uplink);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __uint(max_entries, 1024);
} uplinks SEC(".maps");

static __always_inline __u64 refill(__u64 tokens, __u64 rate, __u64 burst, __u64 dt)
{
    __u64 cap = burst * NS;
    if (tokens >= cap)
        return cap;
    if (rate && dt >= (cap - tokens) / rate)
        return cap;
    return tokens + rate * dt;
}

static __always_inline __u32 mark(struct meter *m, __u64 units, __u32 color)
{
    if (!m->configured)
        return GREEN;
    __u64 now = bpf_ktime_get_ns();
    __u64 dt = 0;
    if (now > m->last_ns) {
        dt = now - m->last_ns;
        m->last_ns = now;
    }
    m->tc = refill(m->tc, m->cir, m->cbs, dt);
    m->tp = refill(m->tp, m->pir, m->pbs, dt);
    __u64 b = units * NS;
    if (color == RED || m->tp < b)
        return RED;
    m->tp -= b;
    if (color == YELLOW || m->tc < b)
        return YELLOW;
    m->tc -= b;
    return GREEN;
}

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
int meters_policer(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    __u8 *eth = data;
    if ((void *)(eth + 34) > data_end || *(__u16 *)(eth + 12) != bpf_htons(0x0800))
        return TC_ACT_OK;
    __u8 *ip = eth + 14;
    struct lpm_key k = { .prefixlen = 32 };
    __builtin_memcpy(k.addr, ip + 12, 4);
    struct subscriber *s = bpf_map_lookup_elem(&subscribers, &k);
    if (!s)
        return TC_ACT_SHOT;
    int drop = s->kind != S_SET;
    __u32 id = drop ? 0 : s->id;
    __u32 color = GREEN;
    struct meter *m = bpf_map_lookup_elem(&subscriber_meter, &id);
    if (m)
        color = mark(m, skb->len, GREEN);
    __builtin_memcpy(k.addr, ip + 16, 4);
    struct uplink *u = bpf_map_lookup_elem(&uplinks, &k);
    __u32 port = 0;
    if (u && u->kind != U_NONE) {
        color = mark(&u->m, 1, u->kind == U_BLIND ? BLIND : color);
        port = u->port;
        drop = 0;
    }
    if (drop || color == RED)
        return TC_ACT_SHOT;
    ip[1] = (color == YELLOW ? 0 : 10 << 2) | (ip[1] & 0x03);
    *(__u16 *)(ip + 10) = ipv4_csum(ip);
    return port ? bpf_redirect(port, 0) : TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
