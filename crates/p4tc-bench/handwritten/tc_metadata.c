/* A hand-written skb classifier: the yardstick for p4tc's generated tc_metadata.
 * At ingress, packets from a host port get their mark's low byte set to 0xf0. IPv4 packets
 * are classified on (mark ternary, DSCP, ingress ifindex): the rules live in a hash map per
 * mark mask (tuple-space search), the masks in an array sorted by their best priority, so
 * the search stops as soon as no later mask can beat what was found; a rule sets the tc
 * classid and queue or keeps them, and redirects (port 0: to the host); a miss uses the
 * configured default. tc_index becomes the DSCP; a zero tstamp becomes the current time. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define PORT_CPU 0xfffffffdu
#define MAX_MASKS 64

struct cls_key {
    __u32 mask_index;
    __u32 mark;
    __u32 ifindex;
    __u8 dscp;
    __u8 pad[3];
};

enum { C_SET_CLASS = 1, C_KEEP_CLASS = 2 };

struct cls_val {
    __u32 priority; /* the lowest wins */
    __u32 action;
    __u32 port;
    __u16 classid;
    __u16 queue;
};

struct cls_mask {
    __u32 used;
    __u32 min_priority; /* the best priority among this mask's rules */
    __u32 mark_mask;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, struct cls_key);
    __type(value, struct cls_val);
    __uint(max_entries, 1024);
} classify SEC(".maps");

/* Masks in ascending min_priority; the first unused slot ends the list. */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, struct cls_mask);
    __uint(max_entries, MAX_MASKS);
} classify_masks SEC(".maps");

/* Element 0: the default (miss) rule. */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, struct cls_val);
    __uint(max_entries, 1);
} classify_default SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, __u32);
    __type(value, __u32);
    __uint(max_entries, 256);
} host_ports SEC(".maps");

SEC("classifier")
int tc_metadata(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    __u8 *eth = data;
    __u32 in = skb->ifindex;
    __u32 mark = skb->mark;
    __u64 tstamp = skb->tstamp;
    __u32 port = 0;
    if (skb->ingress_ifindex != 0 &&
        (in == PORT_CPU || bpf_map_lookup_elem(&host_ports, &in))) {
        mark = (mark & 0xffffff00) | 0xf0;
        skb->mark = mark;
    }
    if ((void *)(eth + 34) <= data_end && *(__u16 *)(eth + 12) == bpf_htons(0x0800)) {
        __u8 dscp = eth[15] >> 2;
        struct cls_key k = { .ifindex = in, .dscp = dscp };
        struct cls_val *best = 0;
        for (__u32 i = 0; i < MAX_MASKS; i++) {
            __u32 mi = i;
            struct cls_mask *m = bpf_map_lookup_elem(&classify_masks, &mi);
            if (!m || !m->used || (best && best->priority <= m->min_priority))
                break;
            k.mask_index = i;
            k.mark = mark & m->mark_mask;
            struct cls_val *v = bpf_map_lookup_elem(&classify, &k);
            if (v && (!best || v->priority < best->priority))
                best = v;
        }
        if (!best) {
            __u32 zero = 0;
            best = bpf_map_lookup_elem(&classify_default, &zero);
        }
        if (best) {
            if (best->action == C_SET_CLASS) {
                skb->tc_classid = best->classid;
                skb->queue_mapping = best->queue;
            }
            port = best->port;
        }
        skb->tc_index = dscp;
    }
    if (tstamp == 0)
        skb->tstamp = bpf_ktime_get_ns();
    return port ? bpf_redirect(port, 0) : TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
