/* A hand-written 5-tuple ACL: the yardstick for p4tc's generated ternary_acl.
 * Non-IPv4 (or a truncated IPv4 header) is denied. The rules match source, destination and
 * protocol with masks and the L4 ports with ranges; the control plane expands ranges into
 * prefixes, so a rule is one or more (mask, value) pairs. Tuple-space search: one hash map
 * of pairs keyed by mask slot, the masks in an array sorted by their best priority, so the
 * search stops when no later mask can beat what was found. A rule permits (to a port),
 * permits with a new DSCP (ECN kept), or denies; a miss denies. Ports are 0 for fragments,
 * other protocols and truncated L4 headers. The IPv4 checksum is recomputed on output. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define MAX_MASKS 1024

/* Addresses and ports in network order; masked as four words. */
struct acl_tuple {
    union {
        struct {
            __u32 src;
            __u32 dst;
            __u16 sport;
            __u16 dport;
            __u8 proto;
            __u8 pad[3];
        };
        __u32 w[4];
    };
};

struct acl_key {
    __u32 mask_index;
    struct acl_tuple t;
};

enum { A_PERMIT = 1, A_REMARK = 2, A_DENY = 3 };

struct acl_rule {
    __u32 priority; /* the lowest wins */
    __u32 action;
    __u32 port;
    __u32 dscp;
};

struct acl_mask {
    __u32 used;
    __u32 min_priority;
    struct acl_tuple mask;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, struct acl_key);
    __type(value, struct acl_rule);
    /* The table's 2,048 rules, with room for their ranges' expansion. */
    __uint(max_entries, 4096);
} acl SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, struct acl_mask);
    __uint(max_entries, MAX_MASKS);
} acl_masks SEC(".maps");

/* The search's state: the packet's tuple and a copy of the best rule so far. */
struct search {
    struct acl_tuple t;
    struct acl_rule best;
    __u32 found;
};

/* One mask of the search (a bpf_loop callback): masks come in ascending best priority, so
 * the search ends at the first that cannot beat what was found (or at the first unused). */
static long search_mask(__u32 i, struct search *x)
{
    struct acl_mask *m = bpf_map_lookup_elem(&acl_masks, &i);
    if (!m || !m->used || (x->found && x->best.priority <= m->min_priority))
        return 1;
    struct acl_key k;
    k.mask_index = i;
    k.t.w[0] = x->t.w[0] & m->mask.w[0];
    k.t.w[1] = x->t.w[1] & m->mask.w[1];
    k.t.w[2] = x->t.w[2] & m->mask.w[2];
    k.t.w[3] = x->t.w[3] & m->mask.w[3];
    struct acl_rule *r = bpf_map_lookup_elem(&acl, &k);
    if (r && (!x->found || r->priority < x->best.priority)) {
        x->best = *r;
        x->found = 1;
    }
    return 0;
}

static __always_inline __u16 ipv4_csum(__u8 *ip)
{
    __u32 sum = 0;
#pragma unroll
    for (int i = 0; i < 20; i += 2)
        if (i != 10)
            sum += *(__u16 *)(ip + i);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return ~sum;
}

SEC("classifier")
int ternary_acl(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    __u8 *eth = data;
    if ((void *)(eth + 34) > data_end || *(__u16 *)(eth + 12) != bpf_htons(0x0800))
        return TC_ACT_SHOT;
    __u8 *ip = eth + 14;
    struct acl_tuple t = {
        .src = *(__u32 *)(ip + 12),
        .dst = *(__u32 *)(ip + 16),
        .proto = ip[9],
    };
    __u8 *l4 = ip + 20;
    if ((*(__u16 *)(ip + 6) & bpf_htons(0x1fff)) == 0 && (t.proto == 6 || t.proto == 17) &&
        (void *)(l4 + 4) <= data_end) {
        t.sport = *(__u16 *)l4;
        t.dport = *(__u16 *)(l4 + 2);
    }
    struct search x = { .t = t };
    bpf_loop(MAX_MASKS, search_mask, &x, 0);
    struct acl_rule *best = x.found ? &x.best : 0;
    if (!best || best->action == A_DENY)
        return TC_ACT_SHOT;
    if (best->action == A_REMARK)
        ip[1] = (best->dscp << 2) | (ip[1] & 0x03);
    *(__u16 *)(ip + 10) = ipv4_csum(ip);
    return best->port ? bpf_redirect(best->port, 0) : TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
