/* A hand-written IP-in-IP encapsulator: the yardstick for p4tc's generated ipip_encap.
 * The IPv4 destination picks, from a hash map, either a tunnel (a 20-byte outer header is
 * pushed with bpf_skb_adjust_room: version 4, IHL 5, the inner DSCP, TTL 64, protocol 4,
 * the tunnel's addresses, its checksum from a partial sum kept with the tunnel) or a plain
 * output device; an unknown destination is dropped; other frames go to the host. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct tunnel {
    __u32 port;    /* output ifindex */
    __u32 encap;   /* 1: push the outer header; 0: forward as is */
    __u32 src;     /* network order */
    __u32 dst;
    __u32 partial; /* one's complement sum of the outer header's fixed words, host order */
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, __u32);     /* inner destination, network order */
    __type(value, struct tunnel);
    __uint(max_entries, 1024);
} tunnel_table SEC(".maps");

SEC("classifier")
int ipip_encap(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    __u8 *eth = data;
    if ((void *)(eth + 34) > data_end)
        return TC_ACT_OK;
    if (*(__u16 *)(eth + 12) != bpf_htons(0x0800))
        return TC_ACT_OK;
    __u32 dst = *(__u32 *)(eth + 30);
    struct tunnel *t = bpf_map_lookup_elem(&tunnel_table, &dst);
    if (!t)
        return TC_ACT_SHOT;
    __u32 port = t->port;
    if (!t->encap)
        return port ? bpf_redirect(port, 0) : TC_ACT_OK;
    __u8 tos = eth[15];
    __u16 total = bpf_ntohs(*(__u16 *)(eth + 16)) + 20;
    __u32 src = t->src, odst = t->dst;
    __u32 sum = t->partial + tos + total;
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    if (bpf_skb_adjust_room(skb, 20, BPF_ADJ_ROOM_MAC, 0))
        return TC_ACT_SHOT;
    data = (void *)(long)skb->data;
    data_end = (void *)(long)skb->data_end;
    eth = data;
    if ((void *)(eth + 34) > data_end)
        return TC_ACT_SHOT;
    __u8 *ip = eth + 14;
    ip[0] = 0x45;
    ip[1] = tos;
    *(__u16 *)(ip + 2) = bpf_htons(total);
    *(__u32 *)(ip + 4) = 0;
    ip[8] = 64;
    ip[9] = 4;
    *(__u16 *)(ip + 10) = bpf_htons((__u16)~sum);
    *(__u32 *)(ip + 12) = src;
    *(__u32 *)(ip + 16) = odst;
    return port ? bpf_redirect(port, 0) : TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
