/* A hand-written VLAN tagger: the yardstick for p4tc's generated vlan_tagging.
 * At most one tag is accepted (0x8100 or 0x88A8 outside; a second 0x8100 tag, i.e. QinQ or
 * deeper, is dropped). (ingress ifindex, tagged, VID ternary) is looked up by tuple-space
 * search: one hash map of rules keyed by mask slot, the VID masks in an array sorted by
 * their best priority so the search stops when no later mask can win. Rules push a tag
 * (0x8100, or 0x88A8 when it becomes the outer of two), pop it, rewrite the VID (PCP and
 * DEI kept) or drop; a miss drops.
 *
 * Growing uses bpf_skb_adjust_room (IPv4/IPv6 skbs) or else bpf_skb_change_head; shrinking
 * uses bpf_skb_adjust_room or else moves the rest of the packet back by hand. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define MAX_MASKS 64

struct vlan_key {
    __u32 mask_index;
    __u32 ifindex;
    __u16 vid;
    __u8 tagged;
    __u8 pad;
};

enum { V_PUSH = 1, V_POP = 2, V_REWRITE = 3, V_DROP = 4 };

struct vlan_rule {
    __u32 priority; /* the lowest wins */
    __u32 action;
    __u32 port;
    __u16 vid;
    __u8 pcp;
    __u8 pad;
};

struct vlan_mask {
    __u32 used;
    __u32 min_priority;
    __u16 vid_mask;
    __u16 pad;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, struct vlan_key);
    __type(value, struct vlan_rule);
    __uint(max_entries, 1024);
} port_vlan SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, struct vlan_mask);
    __uint(max_entries, MAX_MASKS);
} port_vlan_masks SEC(".maps");

struct move_ctx {
    struct __sk_buff *skb;
    __u32 from;
    __u32 len;
    int err;
};

/* One step of the fallback shrink: moves up to 64 bytes from `from` to `from - 4`. */
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

SEC("classifier")
int vlan_tagging(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    __u8 *eth = data;
    if ((void *)(eth + 14) > data_end)
        return TC_ACT_SHOT;
    __u16 et = *(__u16 *)(eth + 12);
    int tagged = 0;
    __u16 tci = 0;
    if (et == bpf_htons(0x8100) || et == bpf_htons(0x88a8)) {
        if ((void *)(eth + 18) <= data_end) {
            tagged = 1;
            tci = bpf_ntohs(*(__u16 *)(eth + 14));
            /* a complete second tag fills the two-slot stack: dropped */
            if (*(__u16 *)(eth + 16) == bpf_htons(0x8100) && (void *)(eth + 22) <= data_end)
                return TC_ACT_SHOT;
        }
    }
    struct vlan_key k = { .ifindex = skb->ifindex, .tagged = tagged };
    __u16 vid = tci & 0x0fff;
    struct vlan_rule *best = 0;
    for (__u32 i = 0; i < MAX_MASKS; i++) {
        __u32 mi = i;
        struct vlan_mask *m = bpf_map_lookup_elem(&port_vlan_masks, &mi);
        if (!m || !m->used || (best && best->priority <= m->min_priority))
            break;
        k.mask_index = i;
        k.vid = vid & m->vid_mask;
        struct vlan_rule *r = bpf_map_lookup_elem(&port_vlan, &k);
        if (r && (!best || r->priority < best->priority))
            best = r;
    }
    if (!best)
        return TC_ACT_SHOT;
    __u32 port = best->port;
    switch (best->action) {
    case V_PUSH: {
        __u8 front[12];
        __u16 new_tci = bpf_htons(((__u16)best->pcp << 13) | best->vid);
        __u16 new_et = tagged ? bpf_htons(0x88a8) : bpf_htons(0x8100);
        __builtin_memcpy(front, eth, 12);
        if (bpf_skb_adjust_room(skb, 4, BPF_ADJ_ROOM_MAC, 0)) {
            if (bpf_skb_change_head(skb, 4, 0))
                return TC_ACT_SHOT;
        }
        data = (void *)(long)skb->data;
        data_end = (void *)(long)skb->data_end;
        eth = data;
        if ((void *)(eth + 18) > data_end)
            return TC_ACT_SHOT;
        __builtin_memcpy(eth, front, 12);
        *(__u16 *)(eth + 12) = new_et;
        *(__u16 *)(eth + 14) = new_tci;
        *(__u16 *)(eth + 16) = et;
        break;
    }
    case V_POP: {
        if (!tagged) {
            /* nothing to pop: the EtherType becomes the absent tag's, zero */
            *(__u16 *)(eth + 12) = 0;
            break;
        }
        if ((void *)(eth + 18) > data_end)
            return TC_ACT_SHOT;
        __u16 inner = *(__u16 *)(eth + 16);
        if (bpf_skb_adjust_room(skb, -4, BPF_ADJ_ROOM_MAC, 0)) {
            struct move_ctx c = { .skb = skb, .from = 18, .len = skb->len };
            bpf_loop(256, move_chunk, &c, 0);
            if (c.err || c.from < c.len || bpf_skb_change_tail(skb, c.len - 4, 0))
                return TC_ACT_SHOT;
        }
        data = (void *)(long)skb->data;
        data_end = (void *)(long)skb->data_end;
        eth = data;
        if ((void *)(eth + 14) > data_end)
            return TC_ACT_SHOT;
        *(__u16 *)(eth + 12) = inner;
        break;
    }
    case V_REWRITE:
        if (tagged && (void *)(eth + 18) <= data_end)
            *(__u16 *)(eth + 14) = bpf_htons((tci & 0xf000) | best->vid);
        break;
    default:
        return TC_ACT_SHOT;
    }
    return port ? bpf_redirect(port, 0) : TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
