/* A hand-written simple L3 forwarder: the yardstick for p4tc's generated simple_l3.
 * Parse Ethernet and IPv4, look the IPv4 destination up in a hash map, rewrite both MAC
 * addresses and redirect; drop on a miss or when the packet is not IPv4. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct nh {
    __u32 port;
    __u8 src[6];
    __u8 dst[6];
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, __u32);
    __type(value, struct nh);
    __uint(max_entries, 1024);
} nh_table SEC(".maps");

SEC("classifier")
int simple_l3(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    __u8 *eth = data;
    if ((void *)(eth + 34) > data_end)
        return TC_ACT_SHOT;
    if (*(__u16 *)(eth + 12) != bpf_htons(0x0800))
        return TC_ACT_SHOT;
    __u32 dst = *(__u32 *)(eth + 30);
    struct nh *n = bpf_map_lookup_elem(&nh_table, &dst);
    if (!n)
        return TC_ACT_SHOT;
    __builtin_memcpy(eth, n->dst, 6);
    __builtin_memcpy(eth + 6, n->src, 6);
    return bpf_redirect(n->port, 0);
}

char _license[] SEC("license") = "GPL";
