/* A hand-written ICMP echo responder: the yardstick for p4tc's generated icmp_echo_responder.
 * An unfragmented IPv4 echo request (type 8, code 0) to an address in a hash map is turned
 * into the echo reply in place (MAC and IPv4 addresses swapped, type 0, the ICMP checksum
 * patched as RFC 1624 says) and sent back out of the input device; the rest goes to the host. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* Key: the local IPv4 address in network order; the value only marks it present. */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, __u32);
    __type(value, __u8);
    __uint(max_entries, 64);
} local_addresses SEC(".maps");

SEC("classifier")
int icmp_echo_responder(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    __u8 *eth = data;
    if ((void *)(eth + 38) > data_end)
        return TC_ACT_OK;
    if (*(__u16 *)(eth + 12) != bpf_htons(0x0800))
        return TC_ACT_OK;
    __u8 *ip = eth + 14;
    /* protocol ICMP, fragment offset 0, echo request with code 0 */
    if (ip[9] != 1 || (*(__u16 *)(ip + 6) & bpf_htons(0x1fff)) != 0)
        return TC_ACT_OK;
    __u8 *icmp = ip + 20;
    if (icmp[0] != 8 || icmp[1] != 0)
        return TC_ACT_OK;
    __u32 dst = *(__u32 *)(ip + 16);
    if (!bpf_map_lookup_elem(&local_addresses, &dst))
        return TC_ACT_OK;
    __u8 mac[6];
    __builtin_memcpy(mac, eth + 6, 6);
    __builtin_memcpy(eth + 6, eth, 6);
    __builtin_memcpy(eth, mac, 6);
    *(__u32 *)(ip + 16) = *(__u32 *)(ip + 12);
    *(__u32 *)(ip + 12) = dst;
    /* type 8 -> 0: HC' = ~(~HC + ~0x0800) (the code word is unchanged) */
    __u32 s = (__u16)~bpf_ntohs(*(__u16 *)(icmp + 2)) + 0xf7ffu;
    s = (s & 0xffff) + (s >> 16);
    icmp[0] = 0;
    *(__u16 *)(icmp + 2) = bpf_htons((__u16)~s);
    return bpf_redirect(skb->ifindex, 0);
}

char _license[] SEC("license") = "GPL";
