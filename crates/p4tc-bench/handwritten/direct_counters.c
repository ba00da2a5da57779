/* Hand-written per-route and per-source counters: the yardstick for p4tc's generated
 * direct_counters. IPv4 frames: the source address, if known, bumps its hit counter; the
 * destination address picks a route (forward out of a device, or drop), whose packet and
 * byte counters live in the route itself; an unknown destination is dropped uncounted.
 * Other frames go to the host. The counters sit in the hash maps' values (atomic adds). */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct route {
    __u64 packets;
    __u64 bytes;
    __u32 port;   /* 0 with drop set: drop */
    __u32 drop;
};

/* Keys: IPv4 addresses in network order. */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, __u32);
    __type(value, struct route);
    __uint(max_entries, 1024);
} routes SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, __u32);
    __type(value, __u32);  /* packets */
    __uint(max_entries, 1024);
} sources SEC(".maps");

SEC("classifier")
int direct_counters(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    __u8 *eth = data;
    if ((void *)(eth + 34) > data_end)
        return TC_ACT_OK;
    if (*(__u16 *)(eth + 12) != bpf_htons(0x0800))
        return TC_ACT_OK;
    __u32 src = *(__u32 *)(eth + 26);
    __u32 dst = *(__u32 *)(eth + 30);
    __u32 *hits = bpf_map_lookup_elem(&sources, &src);
    if (hits)
        __sync_fetch_and_add(hits, 1);
    struct route *r = bpf_map_lookup_elem(&routes, &dst);
    if (!r)
        return TC_ACT_SHOT;
    __sync_fetch_and_add(&r->packets, 1);
    __sync_fetch_and_add(&r->bytes, skb->len);
    if (r->drop)
        return TC_ACT_SHOT;
    return r->port ? bpf_redirect(r->port, 0) : TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
