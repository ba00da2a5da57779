/* A hand-written TCP connection tracker with idle aging: the yardstick for p4tc's generated
 * conntrack_aging. TCP frames look their 4-tuple up: a hit refreshes the flow's last-use time
 * and moves it to the closing profile on FIN/RST, to the established one on a plain ACK, and
 * the frame is forwarded; a miss with an opening SYN creates the flow (a fresh flow id, the
 * SYN-sent profile) and forwards; any other miss is dropped. Forwarding is a static pairing of
 * input and output devices whose last use is recorded too (for idle notification). Non-TCP
 * frames are forwarded by the pairing alone. A timer elsewhere (not in the packet path) would
 * delete flows idle for longer than their profile's age. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define PROFILE_SYN_SENT 0
#define PROFILE_CLOSING 1
#define PROFILE_ESTABLISHED 2

/* The 4-tuple as it sits in the packet: addresses, then ports. */
struct flow_key {
    __u32 saddr;
    __u32 daddr;
    __u16 sport;
    __u16 dport;
};

struct flow {
    __u64 last_used_ns;
    __u32 flow_id;
    __u8 profile;
    __u8 pad[3];
};

struct pair {
    __u64 last_used_ns;
    __u32 port;
    __u32 pad;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, struct flow_key);
    __type(value, struct flow);
    __uint(max_entries, 65536);
} flows SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, __u32);     /* input ifindex */
    __type(value, struct pair);
    __uint(max_entries, 1024);
} port_pairs SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, 1);
} flow_ids SEC(".maps");

static __always_inline int forward(struct __sk_buff *skb)
{
    __u32 in = skb->ifindex;
    struct pair *p = bpf_map_lookup_elem(&port_pairs, &in);
    if (!p)
        return TC_ACT_OK;
    p->last_used_ns = bpf_ktime_get_ns();
    return p->port ? bpf_redirect(p->port, 0) : TC_ACT_OK;
}

SEC("classifier")
int conntrack_aging(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    __u8 *eth = data;
    __u8 *ip = eth + 14;
    __u8 *tcp = ip + 20;
    if ((void *)(tcp + 20) > data_end || *(__u16 *)(eth + 12) != bpf_htons(0x0800) ||
        ip[9] != 6)
        return forward(skb);
    __u8 flags = tcp[13];
    int syn = flags & 0x02, ack = flags & 0x10, fin_or_rst = flags & 0x05;
    struct flow_key k;
    __builtin_memcpy(&k, ip + 12, 8);
    __builtin_memcpy(&k.sport, tcp, 4);
    struct flow *f = bpf_map_lookup_elem(&flows, &k);
    if (f) {
        if (fin_or_rst)
            f->profile = PROFILE_CLOSING;
        else if (ack && !syn)
            f->profile = PROFILE_ESTABLISHED;
        f->last_used_ns = bpf_ktime_get_ns();
        return forward(skb);
    }
    if (!syn)
        return TC_ACT_SHOT;
    if (!ack) {
        __u32 zero = 0;
        __u64 *ids = bpf_map_lookup_elem(&flow_ids, &zero);
        struct flow nf = {
            .last_used_ns = bpf_ktime_get_ns(),
            .flow_id = ids ? (__u32)(__sync_fetch_and_add(ids, 1) + 1) : 0,
            .profile = PROFILE_SYN_SENT,
        };
        bpf_map_update_elem(&flows, &k, &nf, BPF_NOEXIST);
    }
    return forward(skb);
}

char _license[] SEC("license") = "GPL";
