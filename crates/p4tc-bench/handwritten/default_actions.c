/* Hand-written default actions: the yardstick for p4tc's generated default_actions.
 * IPv4 only (other frames go to the host). A TTL listed in by_ttl marks the frame for
 * dropping; then (source, input device) gives an action: forward, forward with a verdict,
 * drop, or none of its own, which runs the hit default; a miss runs the miss default. Both
 * defaults can be changed at run time, so they live in a two-element array. Only a hit goes
 * on to (destination, protocol), whose hit forwards (clearing a drop) and whose miss drops. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

enum { ACT_DEFAULT = 0, ACT_FORWARD = 1, ACT_FORWARD_COUNTED = 2, ACT_DROP = 3 };

struct act {
    __u8 kind;
    __u8 verdict;
    __u16 pad;
    __u32 vport;
};

struct src_key {
    __u32 src;    /* network order */
    __u32 port;   /* input ifindex */
};

struct dst_key {
    __u32 dst;    /* network order */
    __u8 proto;
    __u8 pad[3];
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, __u8);
    __type(value, __u8);
    __uint(max_entries, 256);
} by_ttl SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, struct src_key);
    __type(value, struct act);
    __uint(max_entries, 1024);
} by_source SEC(".maps");

/* 0: the hit default, 1: the miss default. */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, struct act);
    __uint(max_entries, 2);
} by_source_defaults SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, struct dst_key);
    __type(value, struct act);
    __uint(max_entries, 1024);
} by_destination SEC(".maps");

SEC("classifier")
int default_actions(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    __u8 *eth = data;
    if ((void *)(eth + 34) > data_end)
        return TC_ACT_OK;
    if (*(__u16 *)(eth + 12) != bpf_htons(0x0800))
        return TC_ACT_OK;
    __u8 *ip = eth + 14;
    int drop = 0;
    __u32 port = 0;
    __u8 verdict = 0;
    __u8 ttl = ip[8];
    if (bpf_map_lookup_elem(&by_ttl, &ttl))
        drop = 1;
    struct src_key sk = { .src = *(__u32 *)(ip + 12), .port = skb->ifindex };
    struct act *a = bpf_map_lookup_elem(&by_source, &sk);
    int hit = a != 0;
    if (!a || a->kind == ACT_DEFAULT) {
        __u32 which = hit ? 0 : 1;
        a = bpf_map_lookup_elem(&by_source_defaults, &which);
    }
    if (a) {
        switch (a->kind) {
        case ACT_FORWARD_COUNTED:
            verdict = a->verdict;
            /* fall through */
        case ACT_FORWARD:
            port = a->vport;
            drop = 0;
            break;
        case ACT_DROP:
            drop = 1;
            break;
        }
    }
    if (hit) {
        struct dst_key dk = { .dst = *(__u32 *)(ip + 16), .proto = ip[9] };
        struct act *d = bpf_map_lookup_elem(&by_destination, &dk);
        if (d) {
            verdict = d->verdict;
            port = d->vport;
            drop = 0;
        } else {
            drop = 1;
        }
    }
    (void)verdict;
    if (drop)
        return TC_ACT_SHOT;
    return port ? bpf_redirect(port, 0) : TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
