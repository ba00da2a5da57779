/* A hand-written MPLS label switch: the yardstick for p4tc's generated mpls_label_stack.
 * Up to four labels are read; a stack without a bottom label within four (or cut short), a
 * top TTL <= 1 or a bottom TTL of 0 is dropped; non-MPLS frames go to the host. The top
 * label is looked up in a hash map: swap (label, TTL - 1), push (a new top with the old
 * top's TC and TTL - 1; on a full stack of four the bottom label is pushed off), pop (the
 * EtherType becomes IPv4 when the popped label was the bottom one), or drop; a miss drops.
 *
 * Growing uses bpf_skb_change_head. Shrinking cannot use bpf_skb_adjust_room, which only
 * takes IPv4/IPv6 skbs: the rest of the packet is moved back by hand and the tail cut. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

enum { L_SWAP = 1, L_PUSH = 2, L_POP = 3, L_DROP = 4 };

struct lfib_val {
    __u32 action;
    __u32 label;
    __u32 port;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, __u32);
    __type(value, struct lfib_val);
    __uint(max_entries, 4096);
} lfib SEC(".maps");

struct move_ctx {
    struct __sk_buff *skb;
    __u32 from;
    __u32 len;
    int err;
};

/* One step of pop_label: moves up to 64 bytes from `from` to `from - 4`. */
static long move_chunk(__u32 i, struct move_ctx *c)
{
    __u8 buf[64];
    if (c->from >= c->len)
        return 1;
    __u32 n = c->len - c->from;
    if (n > sizeof(buf))
        n = sizeof(buf);
    n = ((n - 1) & (sizeof(buf) - 1)) + 1;
    if (bpf_skb_load_bytes(c->skb, c->from, buf, n) ||
        bpf_skb_store_bytes(c->skb, c->from - 4, buf, n, 0)) {
        c->err = 1;
        return 1;
    }
    c->from += n;
    return 0;
}

/* Removes the 4 bytes at offset 14 (the top label): moves what follows back and cuts the
 * tail (bpf_loop keeps the verifier's work independent of the packet size). */
static __always_inline int pop_label(struct __sk_buff *skb)
{
    struct move_ctx c = { .skb = skb, .from = 18, .len = skb->len };
    bpf_loop(256, move_chunk, &c, 0);
    if (c.err || c.from < c.len)
        return -1;
    return bpf_skb_change_tail(skb, c.len - 4, 0);
}

SEC("classifier")
int mpls_label_stack(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    __u8 *eth = data;
    if ((void *)(eth + 14) > data_end)
        return TC_ACT_OK;
    if (*(__u16 *)(eth + 12) != bpf_htons(0x8847))
        return TC_ACT_OK;
    __u8 *top = eth + 14;
    if ((void *)(top + 4) > data_end)
        return TC_ACT_OK;
    /* Find the bottom of the stack within four labels. */
    int depth = 0;
#pragma unroll
    for (int i = 0; i < 4; i++) {
        __u8 *l = top + 4 * i;
        if ((void *)(l + 4) > data_end)
            return TC_ACT_SHOT;
        if (l[2] & 1) {
            if (l[3] == 0)
                return TC_ACT_SHOT;
            depth = i + 1;
            break;
        }
    }
    if (depth == 0 || top[3] <= 1)
        return TC_ACT_SHOT;
    __u32 label = ((__u32)top[0] << 12) | ((__u32)top[1] << 4) | (top[2] >> 4);
    struct lfib_val *v = bpf_map_lookup_elem(&lfib, &label);
    if (!v)
        return TC_ACT_SHOT;
    __u32 port = v->port;
    __u32 out = v->label;
    switch (v->action) {
    case L_SWAP:
        top[0] = out >> 12;
        top[1] = out >> 4;
        top[2] = (out << 4) | (top[2] & 0x0f);
        top[3]--;
        break;
    case L_PUSH: {
        __u8 tc = top[2] & 0x0e;
        __u8 ttl = top[3] - 1;
        if (depth == 4) {
            /* Full: the bottom label goes, the others move down one slot in place. */
            if ((void *)(top + 16) > data_end)
                return TC_ACT_SHOT;
            __builtin_memmove(top + 4, top, 12);
        } else {
            __u8 mac[12];
            __builtin_memcpy(mac, eth, 12);
            if (bpf_skb_change_head(skb, 4, 0))
                return TC_ACT_SHOT;
            data = (void *)(long)skb->data;
            data_end = (void *)(long)skb->data_end;
            eth = data;
            if ((void *)(eth + 18) > data_end)
                return TC_ACT_SHOT;
            __builtin_memcpy(eth, mac, 12);
            *(__u16 *)(eth + 12) = bpf_htons(0x8847);
            top = eth + 14;
        }
        top[0] = out >> 12;
        top[1] = out >> 4;
        top[2] = (out << 4) | tc;
        top[3] = ttl;
        break;
    }
    case L_POP: {
        int bottom = top[2] & 1;
        if (pop_label(skb))
            return TC_ACT_SHOT;
        data = (void *)(long)skb->data;
        data_end = (void *)(long)skb->data_end;
        eth = data;
        if ((void *)(eth + 14) > data_end)
            return TC_ACT_SHOT;
        if (bottom)
            *(__u16 *)(eth + 12) = bpf_htons(0x0800);
        break;
    }
    default:
        return TC_ACT_SHOT;
    }
    return port ? bpf_redirect(port, 0) : TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
