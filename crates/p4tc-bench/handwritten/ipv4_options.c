/* A hand-written IPv4 options policy: the yardstick for p4tc's generated ipv4_options.
 * IPv4 frames without options (IHL 5, or a bad IHL below 5) are forwarded by the longest
 * prefix of their destination (no route: to the host). Frames with options are judged by the
 * first option's number (an array of 32 policies): allow out of a device, strip the options
 * (the header shrinks to 20 bytes, total length and checksum follow) and forward, or drop,
 * which is also what an unlisted option gets. Other frames go to the host untouched. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

enum { POLICY_REJECT = 0, POLICY_ALLOW = 1, POLICY_STRIP = 2 };

struct policy {
    __u32 kind;
    __u32 port;
};

struct lpm_key {
    __u32 prefixlen;
    __u32 addr;    /* network order */
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);     /* option number, 0..31 */
    __type(value, struct policy);
    __uint(max_entries, 32);
} option_policy SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __type(key, struct lpm_key);
    __type(value, __u32);
    __uint(max_entries, 1024);
    __uint(map_flags, BPF_F_NO_PREALLOC);
} plain_forward SEC(".maps");

static __always_inline int to(__u32 port)
{
    return port ? bpf_redirect(port, 0) : TC_ACT_OK;
}

SEC("classifier")
int ipv4_options(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    __u8 *eth = data;
    __u8 *ip = eth + 14;
    if ((void *)(ip + 20) > data_end || *(__u16 *)(eth + 12) != bpf_htons(0x0800))
        return TC_ACT_OK;
    __u32 ihl = ip[0] & 0xf;
    __u8 *opts = ip + 20;
    if (ihl <= 5 || (void *)(opts + 1) > data_end) {
        struct lpm_key k = { .prefixlen = 32, .addr = *(__u32 *)(ip + 16) };
        __u32 *port = bpf_map_lookup_elem(&plain_forward, &k);
        return port ? to(*port) : TC_ACT_OK;
    }
    __u32 number = opts[0] & 0x1f;
    struct policy *p = bpf_map_lookup_elem(&option_policy, &number);
    if (!p || p->kind == POLICY_REJECT)
        return TC_ACT_SHOT;
    __u32 port = p->port;
    if (p->kind == POLICY_ALLOW)
        return to(port);

    /* Strip: a 20-byte header with the new length and checksum, the options cut out. */
    __u32 option_bytes = (ihl - 5) * 4;
    __u32 hdr[5];
    __builtin_memcpy(hdr, ip, 20);
    __u8 *h = (__u8 *)hdr;
    h[0] = (h[0] & 0xf0) | 5;
    *(__u16 *)(h + 2) = bpf_htons(bpf_ntohs(*(__u16 *)(h + 2)) - option_bytes);
    *(__u16 *)(h + 10) = 0;
    __u32 sum = 0;
#pragma unroll
    for (int i = 0; i < 10; i++)
        sum += ((__u16 *)hdr)[i];
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    *(__u16 *)(h + 10) = (__u16)~sum;
    /* Options cut short by the frame's end were not parsed: nothing to remove then. */
    if ((void *)(opts + option_bytes) <= data_end) {
        if (bpf_skb_adjust_room(skb, -(int)option_bytes, BPF_ADJ_ROOM_MAC, 0))
            return TC_ACT_SHOT;
        data = (void *)(long)skb->data;
        data_end = (void *)(long)skb->data_end;
    }
    if (data + 34 > data_end)
        return TC_ACT_SHOT;
    __builtin_memcpy(data + 14, hdr, 20);
    return to(port);
}

char _license[] SEC("license") = "GPL";
