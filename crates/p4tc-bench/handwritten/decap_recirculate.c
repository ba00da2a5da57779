/* A hand-written tunnel terminator and router: the yardstick for p4tc's generated
 * decap_recirculate. The P4 program strips an IPv4-in-IPv4 packet's outer header when its
 * destination is a tunnel endpoint and recirculates the rest for a second, ordinary routing
 * pass; by hand that is one pass: strip (bpf_skb_adjust_room) and route the inner packet.
 * Routing: longest prefix of the destination (an LPM trie) gives the output device and the
 * next hop's MAC; the TTL is decremented and the header checksum recomputed; no route drops.
 * Non-IPv4 frames are dropped. (The P4 action's mirror copy is not done by either.) */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct lpm_key {
    __u32 prefixlen;
    __u32 addr;    /* network order */
};

struct route {
    __u32 port;
    __u8 dmac[6];
    __u8 pad[2];
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, __u32);     /* endpoint address, network order */
    __type(value, __u16);   /* monitor session (for the mirror copy) */
    __uint(max_entries, 1024);
} tunnel_endpoints SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __type(key, struct lpm_key);
    __type(value, struct route);
    __uint(max_entries, 1024);
    __uint(map_flags, BPF_F_NO_PREALLOC);
} routes SEC(".maps");

SEC("classifier")
int decap_recirculate(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    __u8 *eth = data;
    if ((void *)(eth + 34) > data_end || *(__u16 *)(eth + 12) != bpf_htons(0x0800))
        return TC_ACT_SHOT;
    __u8 *ip = eth + 14;
    if (ip[9] == 4 && (void *)(ip + 40) <= data_end) {
        __u32 endpoint = *(__u32 *)(ip + 16);
        if (bpf_map_lookup_elem(&tunnel_endpoints, &endpoint)) {
            if (bpf_skb_adjust_room(skb, -20, BPF_ADJ_ROOM_MAC, 0))
                return TC_ACT_SHOT;
            data = (void *)(long)skb->data;
            data_end = (void *)(long)skb->data_end;
            eth = data;
            if ((void *)(eth + 34) > data_end)
                return TC_ACT_SHOT;
            ip = eth + 14;
        }
    }
    struct lpm_key k = { .prefixlen = 32, .addr = *(__u32 *)(ip + 16) };
    struct route *r = bpf_map_lookup_elem(&routes, &k);
    if (!r)
        return TC_ACT_SHOT;
    __builtin_memcpy(eth, r->dmac, 6);
    ip[8]--;
    *(__u16 *)(ip + 10) = 0;
    __u32 sum = 0;
#pragma unroll
    for (int i = 0; i < 20; i += 2)
        sum += *(__u16 *)(ip + i);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    *(__u16 *)(ip + 10) = (__u16)~sum;
    return r->port ? bpf_redirect(r->port, 0) : TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
