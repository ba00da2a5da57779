/* A hand-written L2 redirector: the yardstick for p4tc's generated l2_redirect.
 * Broadcast frames are dropped; (ingress ifindex, destination MAC) is looked up in a hash
 * map whose value says redirect / send to a host port / drop. On a miss, frames from a
 * network port are dropped and frames from a host port go to the configured default port.
 * Whether the ingress port is a host port is only asked on a miss, where it matters. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#define PORT_CPU 0xfffffffdu

enum { ACT_REDIRECT = 1, ACT_TO_HOST = 2, ACT_DROP = 3 };

struct l2_key {
    __u32 ifindex;
    __u8 mac[6];
    __u8 pad[2];
};

struct l2_val {
    __u32 action;
    __u32 port;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, struct l2_key);
    __type(value, struct l2_val);
    __uint(max_entries, 8192);
} l2_fwd SEC(".maps");

/* Element 0: the port a host port's miss goes to (the overridable default). */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, __u32);
    __uint(max_entries, 1);
} miss_port SEC(".maps");

/* ifindexes of host ports (besides PORT_CPU). */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, __u32);
    __type(value, __u32);
    __uint(max_entries, 256);
} host_ports SEC(".maps");

static __always_inline int out(__u32 port)
{
    return port ? bpf_redirect(port, 0) : TC_ACT_OK;
}

SEC("classifier")
int l2_redirect(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    __u8 *eth = data;
    if ((void *)(eth + 14) > data_end)
        return TC_ACT_OK;
    if (*(__u32 *)eth == 0xffffffff && *(__u16 *)(eth + 4) == 0xffff)
        return TC_ACT_SHOT;
    struct l2_key k = { .ifindex = skb->ifindex };
    __builtin_memcpy(k.mac, eth, 6);
    struct l2_val *v = bpf_map_lookup_elem(&l2_fwd, &k);
    if (v) {
        if (v->action == ACT_DROP)
            return TC_ACT_SHOT;
        return out(v->port);
    }
    __u32 in = k.ifindex;
    if (in != PORT_CPU && !bpf_map_lookup_elem(&host_ports, &in))
        return TC_ACT_SHOT;
    __u32 zero = 0;
    __u32 *p = bpf_map_lookup_elem(&miss_port, &zero);
    return out(p ? *p : 0);
}

char _license[] SEC("license") = "GPL";
