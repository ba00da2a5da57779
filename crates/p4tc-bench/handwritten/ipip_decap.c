/* A hand-written IP-in-IP terminator: the yardstick for p4tc's generated ipip_decap.
 * IPv4 frames carrying IPv4 (protocol 4) whose outer (source, destination) pair is in a hash
 * map lose their outer header (bpf_skb_adjust_room) and leave by the map's device; the rest
 * goes to the host untouched. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* The outer header's source and destination as they sit in the packet. */
struct tunnel {
    __u32 src;
    __u32 dst;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, struct tunnel);
    __type(value, __u32);   /* output ifindex */
    __uint(max_entries, 1024);
} tunnel_term SEC(".maps");

SEC("classifier")
int ipip_decap(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    __u8 *eth = data;
    if ((void *)(eth + 14 + 20 + 20) > data_end)
        return TC_ACT_OK;
    if (*(__u16 *)(eth + 12) != bpf_htons(0x0800) || eth[14 + 9] != 4)
        return TC_ACT_OK;
    struct tunnel t;
    __builtin_memcpy(&t, eth + 14 + 12, 8);
    __u32 *port = bpf_map_lookup_elem(&tunnel_term, &t);
    if (!port)
        return TC_ACT_OK;
    __u32 out = *port;
    if (bpf_skb_adjust_room(skb, -20, BPF_ADJ_ROOM_MAC, 0))
        return TC_ACT_SHOT;
    return out ? bpf_redirect(out, 0) : TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
