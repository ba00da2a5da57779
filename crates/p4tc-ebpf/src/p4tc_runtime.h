/*
 * p4tc_runtime.h -- the runtime of p4tc's generated eBPF programs.
 *
 * Written for p4tc: static inline helpers that stand in for P4TC's kfuncs (table entries in
 * BPF maps, counters, checksums, hashes) plus the byte-order helpers the generated code uses.
 * Every generated PROG.c includes it; nothing in it depends on a particular P4 program.
 *
 * Conventions shared with the Rust side (crates/p4tc-ebpf/src/entry.rs encodes the same bytes):
 *  - Keys and action parameters are the blobs of p4tc_ir::layout: big-endian byte arrays,
 *    packed, padded to 4 bytes; an LPM key starts with a host-order u32 prefix length.
 *  - A ternary table's map value is `struct p4tc_entry_hdr`, then (for a table with a direct
 *    counter) the counter's u64s, then the union of its actions' parameter blobs. Exact and
 *    LPM tables' values (`struct p4tc_entry_hdr_exact`, `struct p4tc_entry_hdr_prefix`) put
 *    the parameters right after the head and the times last (`struct p4tc_entry_times`;
 *    LPM: `struct p4tc_entry_times_prefix`).
 */
#ifndef P4TC_RUNTIME_H
#define P4TC_RUNTIME_H

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s64 s64;

#define P4TC_INLINE static __always_inline

/* Datapath permission bits (the low seven of P4TC's CRUDXPS word). */
#define P4TC_PERM_DP_C (1u << 6)
#define P4TC_PERM_DP_R (1u << 5)
#define P4TC_PERM_DP_U (1u << 4)
#define P4TC_PERM_DP_D (1u << 3)
#define P4TC_PERM_DP_X (1u << 2)
#define P4TC_PERM_DP_P (1u << 1)
#define P4TC_PERM_DP_S (1u << 0)

/* PNA's CPU port (PNA_PORT_CPU): the host. is_host_port() is true for it and for the ports
 * the control plane lists in p4tc_host_ports. */
#define P4TC_PORT_CPU 0xfffffffdu

/* PacketIn: a packet the program sends to the CPU port is copied (its first
 * P4TC_PACKET_IN_MAX bytes) into the ring buffer p4tc_packet_in, which `p4tc serve` reads;
 * the verdict is unchanged (a redirect to PNA_PORT_CPU, which no device has: the packet
 * ends there). The copy is a record of this layout. */
#define P4TC_PACKET_IN_MAX 2048
struct p4tc_packet_in {
    __u32 ingress_port; /* ifindex the packet came in on */
    __u32 len;          /* bytes of data[] that hold the packet */
    __u32 wire_len;     /* the whole packet's length (more than len when cut) */
    __u32 pad_;
    __u8 data[P4TC_PACKET_IN_MAX];
};

/* The bytes of a packet of n bytes that go into a record: n cut to P4TC_PACKET_IN_MAX (a
 * power of two), computed as ((n - 1) & (MAX - 1)) + 1 in asm so the verifier sees
 * [1, MAX] whatever clang would make of plain comparisons. An empty packet asks for MAX
 * bytes, which the load refuses. */
static __always_inline __u64 p4tc_packet_in_len(__u64 n)
{
    if (n > P4TC_PACKET_IN_MAX)
        n = P4TC_PACKET_IN_MAX;
    asm volatile("%0 += -1; %0 &= 0x7ff; %0 += 1" : "+r"(n));
    return n;
}

static __always_inline void p4tc_packet_in_tc(void *ring, struct __sk_buff *skb, __u32 port)
{
    struct p4tc_packet_in *p = bpf_ringbuf_reserve(ring, sizeof(*p), 0);
    if (!p)
        return; /* the controller is behind: this copy is lost */
    __u64 n = p4tc_packet_in_len(skb->len);
    p->ingress_port = port;
    p->wire_len = skb->len;
    p->len = (__u32)n;
    p->pad_ = 0;
    if (bpf_skb_load_bytes(skb, 0, p->data, n)) {
        bpf_ringbuf_discard(p, 0);
        return;
    }
    bpf_ringbuf_submit(p, 0);
}

static __always_inline void p4tc_packet_in_xdp(void *ring, struct xdp_md *ctx, __u32 port)
{
    struct p4tc_packet_in *p = bpf_ringbuf_reserve(ring, sizeof(*p), 0);
    if (!p)
        return;
    __u32 wire = (__u32)(ctx->data_end - ctx->data);
    __u64 n = p4tc_packet_in_len(wire);
    p->ingress_port = port;
    p->wire_len = wire;
    p->len = (__u32)n;
    p->pad_ = 0;
    if (bpf_xdp_load_bytes(ctx, 0, p->data, n)) {
        bpf_ringbuf_discard(p, 0);
        return;
    }
    bpf_ringbuf_submit(p, 0);
}

/* Entry flags. */
#define P4TC_F_HAS_ACTION 0x1 /* the entry names an action; else the default hit action runs */
#define P4TC_F_DYNAMIC 0x2    /* the entry ages: hits refresh last_used_ns */
#define P4TC_F_CONST 0x4      /* the entry came from the program and is immutable */
#define P4TC_F_DATAPATH 0x8   /* the datapath created it (add_entry) */

/* Index of the default hit and default miss actions in a table's defaults map. */
#define P4TC_DEFAULT_HIT 0
#define P4TC_DEFAULT_MISS 1

/* No action ran (a miss without a default action, or an entry the datapath may not execute). */
#define P4TC_NO_ACTION_RUN 0xffffffffu

/* The head of every table map value (32 bytes). */
struct p4tc_entry_hdr {
    __u32 action;       /* program-wide action id (introspection ids; 0 is NoAction) */
    __u16 permissions;  /* CRUDXPS bits */
    __u8 flags;         /* P4TC_F_* */
    __u8 profile;       /* aging timer profile */
    __u32 priority;     /* tuple-space search: the lower value wins */
    __u32 reserved;
    __u64 created_ns;   /* bpf_ktime_get_ns() clock */
    __u64 last_used_ns;
};

/* The head of an exact table's values (8 bytes): exact entries have no priority and are one
 * element each, so they need no tag; P4TC_F_CONTROL says the control plane wrote the entry.
 * The parameters follow it, right after the map key, and the times close the value
 * (struct p4tc_entry_times, member tm): at a million entries a hit touches fewer cache lines. */
#define P4TC_F_CONTROL 0x20
struct p4tc_entry_hdr_exact {
    __u32 action;
    __u16 permissions;
    __u8 flags;
    __u8 profile;
};

/* The head of an LPM table's values (8 bytes): as the exact head, but with a 16-bit action id
 * and a 16-bit tag (the prefix length + 1 of an entry the control plane wrote), so that the
 * trie's nodes, which hold key and value, stay small. */
struct p4tc_entry_hdr_prefix {
    __u16 action;
    __u16 tag;
    __u16 permissions;
    __u8 flags;
    __u8 profile;
};

struct p4tc_entry_times {
    __u64 created_ns;
    __u64 last_used_ns;
};

/* An LPM value's times: two u32s of 2^24 ns (16.8 ms) units of the bpf_ktime_get_ns clock,
 * their low 32 bits (2.28 years); a time reads back as the latest one at or before now with
 * those bits. The trie keeps each value in its node, in allocations of 64, 96, 128 bytes:
 * 8 bytes of times instead of 16 keep a 28-byte value (and its node in 64 bytes) for up to
 * 12 bytes of parameters, where wide times fitted 4. */
#define P4TC_COMPACT_TIME_SHIFT 24
struct p4tc_entry_times_prefix {
    __u32 created;
    __u32 last_used;
};

static __always_inline __u32 p4tc_compact_time(__u64 ns)
{
    return (__u32)(ns >> P4TC_COMPACT_TIME_SHIFT);
}

static __always_inline __u64 p4tc_widen_time(__u32 t, __u64 now_ns)
{
    __u64 now = now_ns >> P4TC_COMPACT_TIME_SHIFT;
    __u64 back = (__u32)((__u32)now - t);
    return back > now ? 0 : (now - back) << P4TC_COMPACT_TIME_SHIFT;
}

/* The usual hit, in one load and one compare instead of three tests: the datapath may run
 * the entry (X), the entry names its own action, and it does not age. Both heads keep
 * permissions and the flags byte side by side at offset 4, read here as one word. */
_Static_assert(__builtin_offsetof(struct p4tc_entry_hdr, flags) == 6 &&
               __builtin_offsetof(struct p4tc_entry_hdr_exact, flags) == 6 &&
               __builtin_offsetof(struct p4tc_entry_hdr, permissions) == 4 &&
               __builtin_offsetof(struct p4tc_entry_hdr_exact, permissions) == 4 &&
               __builtin_offsetof(struct p4tc_entry_hdr_prefix, flags) == 6 &&
               __builtin_offsetof(struct p4tc_entry_hdr_prefix, permissions) == 4,
               "permissions and flags share the word at offset 4");
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define P4TC_WORD_PERMS_SHIFT 0
#define P4TC_WORD_FLAGS_SHIFT 16
#else
#define P4TC_WORD_PERMS_SHIFT 16
#define P4TC_WORD_FLAGS_SHIFT 8
#endif
#define P4TC_PLAIN_MASK ((P4TC_PERM_DP_X << P4TC_WORD_PERMS_SHIFT) | \
                         ((P4TC_F_HAS_ACTION | P4TC_F_DYNAMIC) << P4TC_WORD_FLAGS_SHIFT))
#define P4TC_PLAIN_BITS ((P4TC_PERM_DP_X << P4TC_WORD_PERMS_SHIFT) | \
                         (P4TC_F_HAS_ACTION << P4TC_WORD_FLAGS_SHIFT))
#define P4TC_PLAIN_HIT(h) ((*(const __u32 *)&(h)->permissions & P4TC_PLAIN_MASK) == P4TC_PLAIN_BITS)

/* An entry's head as events carry it (the full head, whatever the table's). */
static __always_inline void p4tc_event_entry_full(struct p4tc_entry_hdr *d, const struct p4tc_entry_hdr *s)
{
    *d = *s;
}

static __always_inline void p4tc_event_entry_exact(struct p4tc_entry_hdr *d, const struct p4tc_entry_hdr_exact *s,
                                                   const struct p4tc_entry_times *t)
{
    d->action = s->action;
    d->permissions = s->permissions;
    d->flags = s->flags & ~P4TC_F_CONTROL;
    d->profile = s->profile;
    d->priority = 0;
    d->reserved = (s->flags & P4TC_F_CONTROL) ? 1 : 0;
    d->created_ns = t->created_ns;
    d->last_used_ns = t->last_used_ns;
}

static __always_inline void p4tc_event_entry_prefix(struct p4tc_entry_hdr *d, const struct p4tc_entry_hdr_prefix *s,
                                                    const struct p4tc_entry_times_prefix *t)
{
    d->action = s->action;
    d->permissions = s->permissions;
    d->flags = s->flags;
    d->profile = s->profile;
    d->priority = 0;
    d->reserved = s->tag;
    __u64 now = bpf_ktime_get_ns();
    d->created_ns = p4tc_widen_time(t->created, now);
    d->last_used_ns = p4tc_widen_time(t->last_used, now);
}

/* ---- Aging (in the kernel) ------------------------------------------------------------------
 * A program with tables that hold dynamic entries also has: p4tc_timer_profiles (ARRAY of
 * P4TC_MAX_TIMER_PROFILES u64 ages in ns; 0 = no such profile, so entries naming it never
 * age), p4tc_aging (ARRAY of one struct p4tc_aging_timer) and p4tc_aging_events (RINGBUF of
 * struct p4tc_event_hdr followed by the entry's map key and value). The timer's callback
 * walks each swept table with bpf_for_each_map_elem, deletes dynamic entries whose
 * last_used_ns + age <= now (both on bpf_ktime_get_ns's clock) and re-arms itself. */
#define P4TC_MAX_TIMER_PROFILES 16
/* The sweep period: a quarter of the shortest profile, within these bounds (ns). */
#define P4TC_SWEEP_MIN_NS 10000000ULL
#define P4TC_SWEEP_MAX_NS 1000000000ULL
#define P4TC_CLOCK_MONOTONIC 1
#define P4TC_EBUSY 16

/* Event kinds and actors (the `kind` and `who` words of struct p4tc_event_hdr). */
#define P4TC_EVENT_CREATED 1
#define P4TC_EVENT_UPDATED 2
#define P4TC_EVENT_DELETED 3
#define P4TC_WHO_CONTROL 1
#define P4TC_WHO_DATAPATH 2
#define P4TC_WHO_TIMER 3

/* Control-plane and datapath publish bits: an entry with neither is deleted silently. The
 * datapath's own creates and profile changes are published on the datapath's bit
 * (P4TC_PERM_DP_P) only, by the generated code, after the change succeeded. */
#define P4TC_PERM_PUBLISH ((1u << 8) | P4TC_PERM_DP_P)

/* The aging map's element: the timer, and what the sweeps did (read by the control plane;
 * only the timer's callback writes them, so plain stores suffice, except lost_events, which
 * the datapath adds to atomically when the ring refuses one of its events). */
struct p4tc_aging_timer {
    struct bpf_timer timer;
    __u64 sweeps;        /* sweeps so far */
    __u64 last_sweep_ns; /* how long the last sweep took */
    __u64 deleted;       /* entries deleted */
    __u64 lost_events;   /* events the full ring buffer refused (the sweep's and the datapath's) */
};

/* The head of an event in p4tc_aging_events (56 bytes); the map key follows, then (from the
 * datapath and the timer) the whole map value at the next 8-byte boundary. Written by the
 * aging sweep (deleted, who = timer), the datapath (created by add_entry, updated by
 * set_entry_expire_time; who = datapath); the control plane may write them too (who = control). */
struct p4tc_event_hdr {
    __u32 kind;     /* P4TC_EVENT_* */
    __u32 who;      /* P4TC_WHO_* */
    __u32 table;    /* introspection table id */
    __u32 key_size; /* bytes of map key after this head */
    __u64 at_ns;    /* bpf_ktime_get_ns() */
    struct p4tc_entry_hdr entry; /* the entry's head as it was */
};

/* An open-addressing slot's state, read before its key and value: the control plane
 * writes those first and the state last, so a live state means they are complete (the
 * barrier keeps the compiler from loading them earlier). */
#define P4TC_SLOT_STATE(s) ({ u64 st_ = *(volatile u64 *)&(s)->state; asm volatile("" ::: "memory"); st_; })

/* A sweep's state: its time, the profiles' ages read once for all entries (a map lookup
 * per entry would cost more than the entry's check), and what it did. */

struct p4tc_sweep_ctx {
    __u64 now;
    __u64 age[P4TC_MAX_TIMER_PROFILES];
    __u32 deleted;
    __u32 lost_events;
    __u32 dynamic; /* the table being walked holds a dynamic entry */
};

/* A sweep may take at most 1/P4TC_SWEEP_DUTY of the time: the next one waits at least this
 * many times as long as the last one took (huge tables age less promptly, the CPU stays
 * free for packets). */
#define P4TC_SWEEP_DUTY 20

/* One used slot of a ternary table's mask array starts with this word set to 1. */
#define P4TC_MASK_USED 1u

/* ---- Byte order ------------------------------------------------------------------------- */

/* The n-byte (1..8) big-endian value at p, with wide loads where n allows: for packet data
 * and map values (x86 and arm64 allow misaligned accesses there). n is a constant after
 * inlining. */
P4TC_INLINE u64 p4tc_ld_be(const void *p, int n)
{
    const u8 *b = p;
    switch (n) {
    case 1:
        return b[0];
    case 2:
        return bpf_ntohs(*(const u16 *)b);
    case 3:
        return ((u64)bpf_ntohs(*(const u16 *)b) << 8) | b[2];
    case 4:
        return bpf_ntohl(*(const u32 *)b);
    case 5:
        return ((u64)bpf_ntohl(*(const u32 *)b) << 8) | b[4];
    case 6:
        return ((u64)bpf_ntohl(*(const u32 *)b) << 16) | bpf_ntohs(*(const u16 *)(b + 4));
    case 7:
        return ((u64)bpf_ntohl(*(const u32 *)b) << 24) | ((u64)bpf_ntohs(*(const u16 *)(b + 4)) << 8) | b[6];
    default:
        return bpf_be64_to_cpu(*(const u64 *)b);
    }
}

/* Stores the low 8n bits of v big-endian at p. */
P4TC_INLINE void p4tc_st_be(void *p, u64 v, int n)
{
    u8 *b = p;
    switch (n) {
    case 1:
        b[0] = (u8)v;
        return;
    case 2:
        *(u16 *)b = bpf_htons((u16)v);
        return;
    case 3:
        *(u16 *)b = bpf_htons((u16)(v >> 8));
        b[2] = (u8)v;
        return;
    case 4:
        *(u32 *)b = bpf_htonl((u32)v);
        return;
    case 5:
        *(u32 *)b = bpf_htonl((u32)(v >> 8));
        b[4] = (u8)v;
        return;
    case 6:
        *(u32 *)b = bpf_htonl((u32)(v >> 16));
        *(u16 *)(b + 4) = bpf_htons((u16)v);
        return;
    case 7:
        *(u32 *)b = bpf_htonl((u32)(v >> 24));
        *(u16 *)(b + 4) = bpf_htons((u16)(v >> 8));
        b[6] = (u8)v;
        return;
    default:
        *(u64 *)b = bpf_cpu_to_be64(v);
        return;
    }
}

/* The same for memory that may be misaligned for wide accesses (the stack): byte by byte. */
P4TC_INLINE u64 p4tc_ld_be_b(const void *p, int n)
{
    const u8 *b = p;
    u64 v = 0;
#pragma clang loop unroll(full)
    for (int i = 0; i < 8; i++)
        if (i < n)
            v = (v << 8) | b[i];
    return v;
}

P4TC_INLINE void p4tc_st_be_b(void *p, u64 v, int n)
{
    u8 *b = p;
#pragma clang loop unroll(full)
    for (int i = 0; i < 8; i++)
        if (i < n)
            b[i] = (u8)(v >> (8 * (n - 1 - i)));
}

/* A map lookup's result as 0 or 1, opaque to the compiler so that it never combines two
 * lookups' pointers arithmetically (the verifier forbids pointer arithmetic like `|`). */
P4TC_INLINE u8 p4tc_found(const void *v)
{
    u64 x = (u64)(long)v;
    asm volatile("" : "+r"(x));
    return x != 0;
}

/* The bytes of a varbit of `bits` bits (at most max), for a helper's size argument: opaque
 * to the compiler, so the program tests the register the helper gets against zero. Clang
 * would rather test the length it came from, and the verifier does not carry that test over
 * to the shifted copy. */
P4TC_INLINE u64 p4tc_varbit_bytes(u64 bits, u64 max)
{
    u64 n = bits >> 3;
    if (n > max)
        n = max;
    asm volatile("" : "+r"(n));
    return n;
}

/* An index kept inside an array of n elements (the last one when out of range), opaque to
 * the compiler so that it never computes an address from the unchecked value. */
P4TC_INLINE u64 p4tc_index(u64 i, u64 n)
{
    /* 64-bit throughout: the register compared is the one used for the address. */
    asm volatile("" : "+r"(i));
    if (i >= n)
        i = n - 1;
    asm volatile("" : "+r"(i));
    return i;
}

/* Copies n bytes (a constant). */
P4TC_INLINE void p4tc_copy(void *dst, const void *src, int n)
{
    u8 *d = dst;
    const u8 *s = src;
#pragma clang loop unroll(full)
    for (int i = 0; i < 64; i++)
        if (i < n)
            d[i] = s[i];
}

/* Sign-extends the low w bits of v. */
P4TC_INLINE s64 p4tc_sext(u64 v, int w)
{
    return (s64)(v << (64 - w)) >> (64 - w);
}

/* ---- Checksums and hashes ----------------------------------------------------------------- */

/* Folds a one's complement sum of 16-bit words, kept unfolded in 64 bits (one add per word:
 * the end-around carries are taken once here, which gives the same value, and 2^48 words
 * would be needed to overflow), to 16 bits. */
P4TC_INLINE u16 p4tc_csum_fold64(u64 s)
{
    s = (s & 0xffffffffULL) + (s >> 32);
    s = (s & 0xffffULL) + (s >> 16);
    s = (s & 0xffffULL) + (s >> 16);
    s = (s & 0xffffULL) + (s >> 16);
    return (u16)s;
}

/* CRC tables, one entry per byte value (reflected polynomials). */
static const u32 p4tc_crc32_tab[256] = {
    0x00000000, 0x77073096, 0xee0e612c, 0x990951ba, 0x076dc419, 0x706af48f, 0xe963a535, 0x9e6495a3,
    0x0edb8832, 0x79dcb8a4, 0xe0d5e91e, 0x97d2d988, 0x09b64c2b, 0x7eb17cbd, 0xe7b82d07, 0x90bf1d91,
    0x1db71064, 0x6ab020f2, 0xf3b97148, 0x84be41de, 0x1adad47d, 0x6ddde4eb, 0xf4d4b551, 0x83d385c7,
    0x136c9856, 0x646ba8c0, 0xfd62f97a, 0x8a65c9ec, 0x14015c4f, 0x63066cd9, 0xfa0f3d63, 0x8d080df5,
    0x3b6e20c8, 0x4c69105e, 0xd56041e4, 0xa2677172, 0x3c03e4d1, 0x4b04d447, 0xd20d85fd, 0xa50ab56b,
    0x35b5a8fa, 0x42b2986c, 0xdbbbc9d6, 0xacbcf940, 0x32d86ce3, 0x45df5c75, 0xdcd60dcf, 0xabd13d59,
    0x26d930ac, 0x51de003a, 0xc8d75180, 0xbfd06116, 0x21b4f4b5, 0x56b3c423, 0xcfba9599, 0xb8bda50f,
    0x2802b89e, 0x5f058808, 0xc60cd9b2, 0xb10be924, 0x2f6f7c87, 0x58684c11, 0xc1611dab, 0xb6662d3d,
    0x76dc4190, 0x01db7106, 0x98d220bc, 0xefd5102a, 0x71b18589, 0x06b6b51f, 0x9fbfe4a5, 0xe8b8d433,
    0x7807c9a2, 0x0f00f934, 0x9609a88e, 0xe10e9818, 0x7f6a0dbb, 0x086d3d2d, 0x91646c97, 0xe6635c01,
    0x6b6b51f4, 0x1c6c6162, 0x856530d8, 0xf262004e, 0x6c0695ed, 0x1b01a57b, 0x8208f4c1, 0xf50fc457,
    0x65b0d9c6, 0x12b7e950, 0x8bbeb8ea, 0xfcb9887c, 0x62dd1ddf, 0x15da2d49, 0x8cd37cf3, 0xfbd44c65,
    0x4db26158, 0x3ab551ce, 0xa3bc0074, 0xd4bb30e2, 0x4adfa541, 0x3dd895d7, 0xa4d1c46d, 0xd3d6f4fb,
    0x4369e96a, 0x346ed9fc, 0xad678846, 0xda60b8d0, 0x44042d73, 0x33031de5, 0xaa0a4c5f, 0xdd0d7cc9,
    0x5005713c, 0x270241aa, 0xbe0b1010, 0xc90c2086, 0x5768b525, 0x206f85b3, 0xb966d409, 0xce61e49f,
    0x5edef90e, 0x29d9c998, 0xb0d09822, 0xc7d7a8b4, 0x59b33d17, 0x2eb40d81, 0xb7bd5c3b, 0xc0ba6cad,
    0xedb88320, 0x9abfb3b6, 0x03b6e20c, 0x74b1d29a, 0xead54739, 0x9dd277af, 0x04db2615, 0x73dc1683,
    0xe3630b12, 0x94643b84, 0x0d6d6a3e, 0x7a6a5aa8, 0xe40ecf0b, 0x9309ff9d, 0x0a00ae27, 0x7d079eb1,
    0xf00f9344, 0x8708a3d2, 0x1e01f268, 0x6906c2fe, 0xf762575d, 0x806567cb, 0x196c3671, 0x6e6b06e7,
    0xfed41b76, 0x89d32be0, 0x10da7a5a, 0x67dd4acc, 0xf9b9df6f, 0x8ebeeff9, 0x17b7be43, 0x60b08ed5,
    0xd6d6a3e8, 0xa1d1937e, 0x38d8c2c4, 0x4fdff252, 0xd1bb67f1, 0xa6bc5767, 0x3fb506dd, 0x48b2364b,
    0xd80d2bda, 0xaf0a1b4c, 0x36034af6, 0x41047a60, 0xdf60efc3, 0xa867df55, 0x316e8eef, 0x4669be79,
    0xcb61b38c, 0xbc66831a, 0x256fd2a0, 0x5268e236, 0xcc0c7795, 0xbb0b4703, 0x220216b9, 0x5505262f,
    0xc5ba3bbe, 0xb2bd0b28, 0x2bb45a92, 0x5cb36a04, 0xc2d7ffa7, 0xb5d0cf31, 0x2cd99e8b, 0x5bdeae1d,
    0x9b64c2b0, 0xec63f226, 0x756aa39c, 0x026d930a, 0x9c0906a9, 0xeb0e363f, 0x72076785, 0x05005713,
    0x95bf4a82, 0xe2b87a14, 0x7bb12bae, 0x0cb61b38, 0x92d28e9b, 0xe5d5be0d, 0x7cdcefb7, 0x0bdbdf21,
    0x86d3d2d4, 0xf1d4e242, 0x68ddb3f8, 0x1fda836e, 0x81be16cd, 0xf6b9265b, 0x6fb077e1, 0x18b74777,
    0x88085ae6, 0xff0f6a70, 0x66063bca, 0x11010b5c, 0x8f659eff, 0xf862ae69, 0x616bffd3, 0x166ccf45,
    0xa00ae278, 0xd70dd2ee, 0x4e048354, 0x3903b3c2, 0xa7672661, 0xd06016f7, 0x4969474d, 0x3e6e77db,
    0xaed16a4a, 0xd9d65adc, 0x40df0b66, 0x37d83bf0, 0xa9bcae53, 0xdebb9ec5, 0x47b2cf7f, 0x30b5ffe9,
    0xbdbdf21c, 0xcabac28a, 0x53b39330, 0x24b4a3a6, 0xbad03605, 0xcdd70693, 0x54de5729, 0x23d967bf,
    0xb3667a2e, 0xc4614ab8, 0x5d681b02, 0x2a6f2b94, 0xb40bbe37, 0xc30c8ea1, 0x5a05df1b, 0x2d02ef8d,
};

static const u16 p4tc_crc16_tab[256] = {
    0x0000, 0xc0c1, 0xc181, 0x0140, 0xc301, 0x03c0, 0x0280, 0xc241,
    0xc601, 0x06c0, 0x0780, 0xc741, 0x0500, 0xc5c1, 0xc481, 0x0440,
    0xcc01, 0x0cc0, 0x0d80, 0xcd41, 0x0f00, 0xcfc1, 0xce81, 0x0e40,
    0x0a00, 0xcac1, 0xcb81, 0x0b40, 0xc901, 0x09c0, 0x0880, 0xc841,
    0xd801, 0x18c0, 0x1980, 0xd941, 0x1b00, 0xdbc1, 0xda81, 0x1a40,
    0x1e00, 0xdec1, 0xdf81, 0x1f40, 0xdd01, 0x1dc0, 0x1c80, 0xdc41,
    0x1400, 0xd4c1, 0xd581, 0x1540, 0xd701, 0x17c0, 0x1680, 0xd641,
    0xd201, 0x12c0, 0x1380, 0xd341, 0x1100, 0xd1c1, 0xd081, 0x1040,
    0xf001, 0x30c0, 0x3180, 0xf141, 0x3300, 0xf3c1, 0xf281, 0x3240,
    0x3600, 0xf6c1, 0xf781, 0x3740, 0xf501, 0x35c0, 0x3480, 0xf441,
    0x3c00, 0xfcc1, 0xfd81, 0x3d40, 0xff01, 0x3fc0, 0x3e80, 0xfe41,
    0xfa01, 0x3ac0, 0x3b80, 0xfb41, 0x3900, 0xf9c1, 0xf881, 0x3840,
    0x2800, 0xe8c1, 0xe981, 0x2940, 0xeb01, 0x2bc0, 0x2a80, 0xea41,
    0xee01, 0x2ec0, 0x2f80, 0xef41, 0x2d00, 0xedc1, 0xec81, 0x2c40,
    0xe401, 0x24c0, 0x2580, 0xe541, 0x2700, 0xe7c1, 0xe681, 0x2640,
    0x2200, 0xe2c1, 0xe381, 0x2340, 0xe101, 0x21c0, 0x2080, 0xe041,
    0xa001, 0x60c0, 0x6180, 0xa141, 0x6300, 0xa3c1, 0xa281, 0x6240,
    0x6600, 0xa6c1, 0xa781, 0x6740, 0xa501, 0x65c0, 0x6480, 0xa441,
    0x6c00, 0xacc1, 0xad81, 0x6d40, 0xaf01, 0x6fc0, 0x6e80, 0xae41,
    0xaa01, 0x6ac0, 0x6b80, 0xab41, 0x6900, 0xa9c1, 0xa881, 0x6840,
    0x7800, 0xb8c1, 0xb981, 0x7940, 0xbb01, 0x7bc0, 0x7a80, 0xba41,
    0xbe01, 0x7ec0, 0x7f80, 0xbf41, 0x7d00, 0xbdc1, 0xbc81, 0x7c40,
    0xb401, 0x74c0, 0x7580, 0xb541, 0x7700, 0xb7c1, 0xb681, 0x7640,
    0x7200, 0xb2c1, 0xb381, 0x7340, 0xb101, 0x71c0, 0x7080, 0xb041,
    0x5000, 0x90c1, 0x9181, 0x5140, 0x9301, 0x53c0, 0x5280, 0x9241,
    0x9601, 0x56c0, 0x5780, 0x9741, 0x5500, 0x95c1, 0x9481, 0x5440,
    0x9c01, 0x5cc0, 0x5d80, 0x9d41, 0x5f00, 0x9fc1, 0x9e81, 0x5e40,
    0x5a00, 0x9ac1, 0x9b81, 0x5b40, 0x9901, 0x59c0, 0x5880, 0x9841,
    0x8801, 0x48c0, 0x4980, 0x8941, 0x4b00, 0x8bc1, 0x8a81, 0x4a40,
    0x4e00, 0x8ec1, 0x8f81, 0x4f40, 0x8d01, 0x4dc0, 0x4c80, 0x8c41,
    0x4400, 0x84c1, 0x8581, 0x4540, 0x8701, 0x47c0, 0x4680, 0x8641,
    0x8201, 0x42c0, 0x4380, 0x8341, 0x4100, 0x81c1, 0x8081, 0x4040,
};

/* CRC-32 (IEEE 802.3: polynomial 0x04c11db7 reflected, init and xor-out all ones) of n bytes. */
P4TC_INLINE u32 p4tc_crc32(const u8 *b, int n)
{
    u32 crc = 0xffffffffu;
    for (int i = 0; i < n; i++)
        crc = p4tc_crc32_tab[(crc ^ b[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* CRC-16 (ARC: polynomial 0x8005 reflected, init 0, no xor-out) of n bytes. */
P4TC_INLINE u16 p4tc_crc16(const u8 *b, int n)
{
    u16 crc = 0;
    for (int i = 0; i < n; i++)
        crc = p4tc_crc16_tab[(crc ^ b[i]) & 0xff] ^ (crc >> 8);
    return crc;
}

/* The 16-bit one's complement of the one's complement sum of n bytes (n even). */
P4TC_INLINE u16 p4tc_ones_complement16(const u8 *b, int n)
{
    u64 sum = 0;
    for (int i = 0; i + 1 < n; i += 2)
        sum += ((u16)b[i] << 8) | b[i + 1];
    return (u16)~p4tc_csum_fold64(sum);
}

/* ---- Resizing at TC ------------------------------------------------------------------------ */

/* Resizes the packet's headers by `delta` bytes when bpf_skb_adjust_room cannot (it only
 * resizes IPv4 and IPv6 packets): growing adds room at the head; shrinking moves the payload,
 * which starts at byte `at`, back by -delta bytes and cuts the tail. The caller then writes
 * every header from byte 0. Returns 0 on success. Payloads past 16 KiB are refused. */
P4TC_INLINE int p4tc_skb_resize(struct __sk_buff *skb, int delta, u32 at)
{
    if (delta > 0)
        return bpf_skb_change_head(skb, (u32)delta, 0);
    u32 len = skb->len;
    u32 from = at;
    u32 to = at - (u32)(-delta);
    u8 buf[64];
    for (int i = 0; i < 256; i++) {
        if (from >= len)
            break;
        u64 n = (u64)len - from;
        if (n > sizeof(buf))
            n = sizeof(buf);
        /* The same value, written so the verifier sees 1 <= n <= 64. */
        n = ((n - 1) & (sizeof(buf) - 1)) + 1;
        if (bpf_skb_load_bytes(skb, from, buf, n))
            return -1;
        if (bpf_skb_store_bytes(skb, to, buf, n, 0))
            return -1;
        from += n;
        to += n;
    }
    if (from < len)
        return -1;
    return bpf_skb_change_tail(skb, len - (u32)(-delta), 0);
}

/* ---- Meters: two-rate three-colour markers (RFC 2698) ------------------------------------ */

/* PNA_MeterColor_t, in declaration order. */
#define P4TC_COLOR_RED 0
#define P4TC_COLOR_GREEN 1
#define P4TC_COLOR_YELLOW 2
/* No pre-colour: colour-blind mode. */
#define P4TC_COLOR_BLIND 0xffffffffu

#define P4TC_NANO 1000000000ULL

/* One meter's configuration and state (64 bytes). Rates are units per second, bursts units;
 * tokens are kept in nano-units (units x 10^9), so rate x elapsed nanoseconds adds exactly.
 * The control plane writes cir..pbs, fills both buckets (tc = cbs x 10^9, tp = pbs x 10^9),
 * sets last_ns to now and configured to 1; an unconfigured meter marks everything green. */
struct p4tc_meter {
    __u64 cir;
    __u64 cbs;
    __u64 pir;
    __u64 pbs;
    __u64 tc;
    __u64 tp;
    __u64 last_ns;
    __u64 configured;
};

P4TC_INLINE u64 p4tc_meter_fill(u64 tokens, u64 rate, u64 burst, u64 dt)
{
    u64 cap = burst > 0xffffffffffffffffULL / P4TC_NANO ? 0xffffffffffffffffULL : burst * P4TC_NANO;
    if (rate && dt >= (cap - (tokens < cap ? tokens : cap)) / rate)
        return cap;
    u64 t = tokens + rate * dt;
    return t > cap ? cap : t;
}

/* Marks a packet of `units` units; `color` is the pre-colour (P4TC_COLOR_BLIND for none). */
P4TC_INLINE u32 p4tc_meter_execute(struct p4tc_meter *m, u64 units, u32 color)
{
    if (!m->configured)
        return P4TC_COLOR_GREEN;
    u64 now = bpf_ktime_get_ns();
    u64 dt = now > m->last_ns ? now - m->last_ns : 0;
    if (now > m->last_ns)
        m->last_ns = now;
    m->tc = p4tc_meter_fill(m->tc, m->cir, m->cbs, dt);
    m->tp = p4tc_meter_fill(m->tp, m->pir, m->pbs, dt);
    u64 b = units * P4TC_NANO;
    if (color == P4TC_COLOR_RED || m->tp < b)
        return P4TC_COLOR_RED;
    if (color == P4TC_COLOR_YELLOW || m->tc < b) {
        m->tp -= b;
        return P4TC_COLOR_YELLOW;
    }
    m->tp -= b;
    m->tc -= b;
    return P4TC_COLOR_GREEN;
}

#endif /* P4TC_RUNTIME_H */
