/* A hand-written calculator responder: the yardstick for p4tc's generated calculator.
 * Frames of EtherType 0x88B5 whose header starts with magic 0x4341, version 1 carry a signed
 * 32-bit operation; the program computes it, sets the status, swaps the MAC addresses and
 * sends the frame back out of the input device. Anything else is dropped. The operations
 * are fixed (the P4 table is const), so a switch is what one would write. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct calc {
    __u8 magic[2];
    __u8 version;
    __u8 op;
    __s32 a;      /* network order */
    __s32 b;
    __s32 result;
    __u8 status;
    __u8 reserved;
} __attribute__((packed));

static __always_inline __s32 saturate(__s64 r)
{
    if (r > 2147483647LL)
        return 2147483647;
    if (r < -2147483648LL)
        return (__s32)0x80000000u;
    return (__s32)r;
}

SEC("classifier")
int calculator(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    __u8 *eth = data;
    struct calc *c = (void *)(eth + 14);
    if ((void *)(c + 1) > data_end)
        return TC_ACT_SHOT;
    if (*(__u16 *)(eth + 12) != bpf_htons(0x88B5) || c->magic[0] != 0x43 ||
        c->magic[1] != 0x41 || c->version != 1)
        return TC_ACT_SHOT;
    __s32 a = (__s32)bpf_ntohl(c->a);
    __s32 b = (__s32)bpf_ntohl(c->b);
    __s32 r;
    __u8 status = 0;
    switch (c->op) {
    case '+': r = (__s32)((__u32)a + (__u32)b); break;
    case '-': r = (__s32)((__u32)a - (__u32)b); break;
    case '&': r = a & b; break;
    case '|': r = a | b; break;
    case '^': r = a ^ b; break;
    case 'p': r = saturate((__s64)a + b); break;
    case 'm': r = saturate((__s64)a - b); break;
    case '<': r = (__s32)((__u32)a << (b & 31)); break;
    case '>': r = a >> (b & 31); break;
    default: r = 0; status = 1; break;
    }
    c->result = (__s32)bpf_htonl((__u32)r);
    c->status = status;
    __u8 tmp[6];
    __builtin_memcpy(tmp, eth, 6);
    __builtin_memcpy(eth, eth + 6, 6);
    __builtin_memcpy(eth + 6, tmp, 6);
    return bpf_redirect(skb->ifindex, 0);
}

char _license[] SEC("license") = "GPL";
