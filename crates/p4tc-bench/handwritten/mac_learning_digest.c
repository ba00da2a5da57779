/* A hand-written learning switch: the yardstick for p4tc's generated mac_learning_digest.
 * (source MAC, ingress ifindex) unknown -> a 12-byte learning record into a ring buffer
 * (the digest); then the destination MAC picks the output port, and unknown destinations
 * go to the configured default (PORT_CPU unless the control plane changed it). */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#define PORT_CPU 0xfffffffdu

struct src_key {
    __u8 mac[6];
    __u8 pad[2];
    __u32 ifindex;
};

struct dst_key {
    __u8 mac[6];
    __u8 pad[2];
};

/* What the control plane reads: srcAddr, ingress port, EtherType, in network order. */
struct learn_rec {
    __u8 mac[6];
    __u8 port[4];
    __u8 ethertype[2];
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, struct src_key);
    __type(value, __u8);
    __uint(max_entries, 16384);
} source_macs SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, struct dst_key);
    __type(value, __u32);
    __uint(max_entries, 16384);
} destination_macs SEC(".maps");

/* Element 0: where unknown destinations go (0 would mean the host stack). */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, __u32);
    __uint(max_entries, 1);
} flood_port SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 262144);
} learn SEC(".maps");

SEC("classifier")
int mac_learning_digest(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    __u8 *eth = data;
    if ((void *)(eth + 14) > data_end)
        return TC_ACT_OK;
    __u32 in = skb->ifindex;
    struct src_key sk = { .ifindex = in };
    __builtin_memcpy(sk.mac, eth + 6, 6);
    if (!bpf_map_lookup_elem(&source_macs, &sk)) {
        struct learn_rec r;
        __builtin_memcpy(r.mac, eth + 6, 6);
        __u32 pbe = __builtin_bswap32(in);
        __builtin_memcpy(r.port, &pbe, 4);
        __builtin_memcpy(r.ethertype, eth + 12, 2);
        bpf_ringbuf_output(&learn, &r, sizeof(r), 0);
    }
    struct dst_key dk = {};
    __builtin_memcpy(dk.mac, eth, 6);
    __u32 *port = bpf_map_lookup_elem(&destination_macs, &dk);
    __u32 out;
    if (port) {
        out = *port;
    } else {
        __u32 zero = 0;
        __u32 *f = bpf_map_lookup_elem(&flood_port, &zero);
        out = f ? *f : PORT_CPU;
    }
    return out ? bpf_redirect(out, 0) : TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
