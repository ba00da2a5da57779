/* A hand-written ARP responder: the yardstick for p4tc's generated arp_responder.
 * Ethernet/IPv4 ARP requests whose target address is in a hash map are answered in place
 * (the owner's MAC from the map) and sent back out of the input device; everything else goes
 * to the host untouched. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct owner {
    __u8 mac[6];
};

/* Key: the target protocol address, in network order. */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, __u32);
    __type(value, struct owner);
    __uint(max_entries, 512);
} arp_proxy SEC(".maps");

SEC("classifier")
int arp_responder(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    __u8 *eth = data;
    if ((void *)(eth + 42) > data_end)
        return TC_ACT_OK;
    if (*(__u16 *)(eth + 12) != bpf_htons(0x0806))
        return TC_ACT_OK;
    /* htype 1, ptype 0x0800, hlen 6, plen 4, oper 1 (request): one 8-byte compare. */
    __u64 fixed;
    __builtin_memcpy(&fixed, eth + 14, 8);
    const __u8 want_b[8] = { 0, 1, 8, 0, 6, 4, 0, 1 };
    __u64 want;
    __builtin_memcpy(&want, want_b, 8);
    if (fixed != want)
        return TC_ACT_OK;
    __u32 tpa = *(__u32 *)(eth + 38);
    struct owner *o = bpf_map_lookup_elem(&arp_proxy, &tpa);
    if (!o)
        return TC_ACT_OK;
    __u32 spa = *(__u32 *)(eth + 28);
    __builtin_memcpy(eth, eth + 22, 6);        /* to the requester */
    __builtin_memcpy(eth + 6, o->mac, 6);      /* from the owner */
    eth[21] = 2;                               /* reply */
    __builtin_memcpy(eth + 32, eth + 22, 6);   /* tha = requester */
    *(__u32 *)(eth + 38) = spa;                /* tpa = requester's address */
    __builtin_memcpy(eth + 22, o->mac, 6);     /* sha = owner */
    *(__u32 *)(eth + 28) = tpa;                /* spa = the address asked for */
    return bpf_redirect(skb->ifindex, 0);
}

char _license[] SEC("license") = "GPL";
