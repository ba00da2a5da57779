/* A hand-written VXLAN terminator: the yardstick for p4tc's generated vxlan_decap.
 * Outer Ethernet / IPv4 without options / UDP to 4789 (or a port of the configurable set)
 * / VXLAN: without the I flag the packet is dropped; otherwise (VNI, outer destination) is
 * looked up: decapsulate (the 50 outer bytes after the MAC header go with
 * bpf_skb_adjust_room, the inner Ethernet header is written over the outer one) and
 * redirect, or drop; a miss drops. Anything else goes to the host. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>


struct vni_key {
    __u32 vni;
    __u32 vtep; /* network order */
};

enum { V_DECAP = 1, V_DROP = 2 };

struct vni_val {
    __u32 action;
    __u32 port;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, struct vni_key);
    __type(value, struct vni_val);
    __uint(max_entries, 1024);
} vni_to_port SEC(".maps");

/* Extra UDP ports (network order) that carry VXLAN. */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, __u16);
    __type(value, __u8);
    __uint(max_entries, 4);
} vxlan_ports SEC(".maps");

struct move_ctx {
    struct __sk_buff *skb;
    __u32 from;
    __u32 len;
    int err;
};

/* One step of the fallback shrink: moves up to 64 bytes from `from` to `from - 50`. */
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
        bpf_skb_store_bytes(c->skb, c->from - 50, buf, n, 0)) {
        c->err = 1;
        return 1;
    }
    c->from += n;
    return 0;
}

SEC("classifier")
int vxlan_decap(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    __u8 *eth = data;
    if ((void *)(eth + 14 + 20 + 8) > data_end)
        return TC_ACT_OK;
    if (*(__u16 *)(eth + 12) != bpf_htons(0x0800))
        return TC_ACT_OK;
    __u8 *ip = eth + 14;
    if ((ip[0] & 0x0f) != 5 || ip[9] != 17)
        return TC_ACT_OK;
    __u8 *udp = ip + 20;
    __u16 dport = *(__u16 *)(udp + 2);
    if (dport != bpf_htons(4789) && !bpf_map_lookup_elem(&vxlan_ports, &dport))
        return TC_ACT_OK;
    __u8 *vx = udp + 8;
    if ((void *)(vx + 8) > data_end)
        return TC_ACT_OK;
    if (!(vx[0] & 0x08))
        return TC_ACT_SHOT;
    struct vni_key k = {
        .vni = ((__u32)vx[4] << 16) | ((__u32)vx[5] << 8) | vx[6],
        .vtep = *(__u32 *)(ip + 16),
    };
    struct vni_val *v = bpf_map_lookup_elem(&vni_to_port, &k);
    if (!v || v->action != V_DECAP)
        return TC_ACT_SHOT;
    __u32 port = v->port;
    /* The inner Ethernet header, when the packet has one. */
    __u8 inner[14];
    int has_inner = (void *)(vx + 8 + 14) <= data_end;
    if (has_inner)
        __builtin_memcpy(inner, vx + 8, 14);
    if (bpf_skb_adjust_room(skb, -50, BPF_ADJ_ROOM_MAC, 0)) {
        struct move_ctx c = { .skb = skb, .from = 50, .len = skb->len };
        bpf_loop(256, move_chunk, &c, 0);
        if (c.err || c.from < c.len || bpf_skb_change_tail(skb, c.len - 50, 0))
            return TC_ACT_SHOT;
    }
    if (has_inner) {
        data = (void *)(long)skb->data;
        data_end = (void *)(long)skb->data_end;
        if (data + 14 > data_end)
            return TC_ACT_SHOT;
        __builtin_memcpy(data, inner, 14);
    }
    return port ? bpf_redirect(port, 0) : TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
