/* A hand-written stateful firewall: the yardstick for p4tc's generated stateful_firewall.
 * Non-IPv4 is dropped. The ingress port's zone comes from a hash map (default: element 0 of
 * an array). From the network, a bare TCP SYN is dropped. Connections are keyed
 * direction-independently (host address and port first). A hit refreshes the connection
 * (timeout class 1 after FIN/RST, else 3; an event when the class changes); a miss from the
 * host side learns the connection (class 0; an event), a miss from the network drops, and
 * a failed learn leaves the packet to the host. Then the destination's longest prefix
 * forwards or drops (a miss drops). Whether the ingress port is a host port is asked once. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define PORT_CPU 0xfffffffdu

struct ct_key {
    __u32 host_addr;
    __u32 peer_addr;
    __u16 host_port;
    __u16 peer_port;
    __u8 proto;
    __u8 pad[3];
};

struct ct_val {
    __u64 last_seen;
    __u32 zone;
    __u32 class; /* timeout class: 0 new, 1 closing, 3 established */
};

struct ct_event {
    __u32 kind; /* 1 learned, 2 class changed */
    __u32 class;
    struct ct_key key;
};

struct lpm_key {
    __u32 prefixlen;
    __u8 addr[4];
};

enum { R_FORWARD = 1, R_DROP = 2 };

struct route {
    __u32 action;
    __u32 port;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, struct ct_key);
    __type(value, struct ct_val);
    __uint(max_entries, 65536);
} conntrack SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, __u32);
    __type(value, __u32);
    __uint(max_entries, 256);
} zone_of_port SEC(".maps");

/* Element 0: the zone of ports without an entry. */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, __u32);
    __uint(max_entries, 1);
} default_zone SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __type(key, struct lpm_key);
    __type(value, struct route);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __uint(max_entries, 1024);
} routes SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, __u32);
    __type(value, __u32);
    __uint(max_entries, 256);
} host_ports SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 262144);
} ct_events SEC(".maps");

static __always_inline void ct_event(__u32 kind, __u32 class, struct ct_key *k)
{
    struct ct_event *e = bpf_ringbuf_reserve(&ct_events, sizeof(*e), 0);
    if (!e)
        return;
    e->kind = kind;
    e->class = class;
    e->key = *k;
    bpf_ringbuf_submit(e, 0);
}

SEC("classifier")
int stateful_firewall(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    __u8 *eth = data;
    if ((void *)(eth + 34) > data_end || *(__u16 *)(eth + 12) != bpf_htons(0x0800))
        return TC_ACT_SHOT;
    __u8 *ip = eth + 14;
    __u32 in = skb->ifindex;
    int from_host = in == PORT_CPU || bpf_map_lookup_elem(&host_ports, &in);
    __u8 proto = ip[9];
    __u16 sport = 0, dport = 0;
    int tcp = 0;
    __u8 flags = 0;
    __u8 *l4 = ip + 20;
    if (proto == 6 && (void *)(l4 + 20) <= data_end) {
        tcp = 1;
        flags = l4[13];
    }
    if (tcp || (proto == 17 && (void *)(l4 + 8) <= data_end)) {
        sport = *(__u16 *)l4;
        dport = *(__u16 *)(l4 + 2);
    }
    __u32 *z = bpf_map_lookup_elem(&zone_of_port, &in);
    __u32 zone = 0;
    if (z) {
        zone = *z;
    } else {
        __u32 zero = 0;
        z = bpf_map_lookup_elem(&default_zone, &zero);
        zone = z ? *z : 0;
    }
    if (tcp && !from_host && (flags & 0x12) == 0x02)
        return TC_ACT_SHOT;
    struct ct_key k = { .proto = proto };
    if (from_host) {
        k.host_addr = *(__u32 *)(ip + 12);
        k.peer_addr = *(__u32 *)(ip + 16);
        k.host_port = sport;
        k.peer_port = dport;
    } else {
        k.host_addr = *(__u32 *)(ip + 16);
        k.peer_addr = *(__u32 *)(ip + 12);
        k.host_port = dport;
        k.peer_port = sport;
    }
    struct ct_val *c = bpf_map_lookup_elem(&conntrack, &k);
    if (c) {
        zone = c->zone;
        __u32 class = tcp && (flags & 0x05) ? 1 : 3;
        c->last_seen = bpf_ktime_get_ns();
        if (c->class != class) {
            c->class = class;
            ct_event(2, class, &k);
        }
    } else if (from_host) {
        struct ct_val nv = { .last_seen = bpf_ktime_get_ns(), .zone = zone, .class = 0 };
        if (bpf_map_update_elem(&conntrack, &k, &nv, BPF_NOEXIST))
            return TC_ACT_OK;
        ct_event(1, 0, &k);
    } else {
        return TC_ACT_SHOT;
    }
    struct lpm_key rk = { .prefixlen = 32 };
    __builtin_memcpy(rk.addr, ip + 16, 4);
    struct route *r = bpf_map_lookup_elem(&routes, &rk);
    if (!r || r->action != R_FORWARD)
        return TC_ACT_SHOT;
    return r->port ? bpf_redirect(r->port, 0) : TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
