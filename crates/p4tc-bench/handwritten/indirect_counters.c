/* Hand-written per-port and per-class statistics: the yardstick for p4tc's generated
 * indirect_counters. Every frame counts (packets and bytes) against its input device; its
 * EtherType picks a traffic class and an output device from a hash map (a miss drops); the
 * output device's packet counter and the class's byte counter are bumped. Counters are
 * per-CPU arrays, as a careful engineer keeps hot statistics. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#define N_PORTS 256
#define N_CLASSES 16

struct pkts_bytes {
    __u64 packets;
    __u64 bytes;
};

struct class_port {
    __u32 traffic_class;
    __u32 port;
};

/* Key: the EtherType in network order. */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, __u16);
    __type(value, struct class_port);
    __uint(max_entries, 1024);
} by_ethertype SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __type(key, __u32);
    __type(value, struct pkts_bytes);
    __uint(max_entries, N_PORTS);
} rx_port_stats SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, N_PORTS);
} tx_port_stats SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __type(key, __u32);
    __type(value, __u32);
    __uint(max_entries, N_CLASSES);
} class_bytes SEC(".maps");

SEC("classifier")
int indirect_counters(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    __u8 *eth = data;
    __u32 len = skb->len;
    __u32 in = skb->ifindex;
    struct pkts_bytes *rx = bpf_map_lookup_elem(&rx_port_stats, &in);
    if (rx) {
        rx->packets++;
        rx->bytes += len;
    }
    __u16 type = 0;
    if ((void *)(eth + 14) <= data_end)
        type = *(__u16 *)(eth + 12);
    struct class_port *cp = bpf_map_lookup_elem(&by_ethertype, &type);
    __u32 cls = 0;
    if (cp) {
        cls = cp->traffic_class;
        __u32 port = cp->port;
        __u64 *tx = bpf_map_lookup_elem(&tx_port_stats, &port);
        if (tx)
            (*tx)++;
    }
    if (cls < N_CLASSES) {
        __u32 *b = bpf_map_lookup_elem(&class_bytes, &cls);
        if (b)
            *b += len;
    }
    if (!cp)
        return TC_ACT_SHOT;
    return cp->port ? bpf_redirect(cp->port, 0) : TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
