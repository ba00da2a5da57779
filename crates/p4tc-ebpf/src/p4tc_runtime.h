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
 *  - A table's map value is `struct p4tc_entry_hdr`, then (for a table with a direct counter)
 *    the counter's u64s, then the union of its actions' parameter blobs.
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

/* One used slot of a ternary table's mask array starts with this word set to 1. */
#define P4TC_MASK_USED 1u

/* ---- Byte order ------------------------------------------------------------------------- */

/* The n-byte (1..8) big-endian value at p. n is a constant after inlining. */
P4TC_INLINE u64 p4tc_ld_be(const void *p, int n)
{
    const u8 *b = p;
    switch (n) {
    case 1:
        return b[0];
    case 2:
        return bpf_ntohs(*(const u16 *)b);
    case 4:
        return bpf_ntohl(*(const u32 *)b);
    case 8:
        return bpf_be64_to_cpu(*(const u64 *)b);
    default: {
        u64 v = 0;
#pragma clang loop unroll(full)
        for (int i = 0; i < 8; i++)
            if (i < n)
                v = (v << 8) | b[i];
        return v;
    }
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
    case 4:
        *(u32 *)b = bpf_htonl((u32)v);
        return;
    case 8:
        *(u64 *)b = bpf_cpu_to_be64(v);
        return;
    default:
#pragma clang loop unroll(full)
        for (int i = 0; i < 8; i++)
            if (i < n)
                b[i] = (u8)(v >> (8 * (n - 1 - i)));
        return;
    }
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

/* One's complement sum of 16-bit words, kept unfolded in a u32. */
P4TC_INLINE u32 p4tc_csum_add(u32 sum, u16 word)
{
    sum += word;
    return (sum & 0xffff) + (sum >> 16);
}

P4TC_INLINE u32 p4tc_csum_sub(u32 sum, u16 word)
{
    /* Subtracting x is adding its one's complement. */
    return p4tc_csum_add(sum, (u16)~word);
}

P4TC_INLINE u16 p4tc_csum_fold(u32 sum)
{
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return (u16)sum;
}

/* CRC-32 (IEEE 802.3, reflected, init and xor-out all ones) of n bytes, bit by bit. */
P4TC_INLINE u32 p4tc_crc32(const u8 *b, int n)
{
    u32 crc = 0xffffffffu;
    for (int i = 0; i < n; i++) {
        crc ^= b[i];
#pragma clang loop unroll(full)
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
    }
    return ~crc;
}

/* CRC-16 (ARC: polynomial 0x8005 reflected, init 0, no xor-out) of n bytes. */
P4TC_INLINE u16 p4tc_crc16(const u8 *b, int n)
{
    u16 crc = 0;
    for (int i = 0; i < n; i++) {
        crc ^= b[i];
#pragma clang loop unroll(full)
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xa001 & (0u - (crc & 1)));
    }
    return crc;
}

/* The 16-bit one's complement of the one's complement sum of n bytes (n even). */
P4TC_INLINE u16 p4tc_ones_complement16(const u8 *b, int n)
{
    u32 sum = 0;
    for (int i = 0; i + 1 < n; i += 2)
        sum = p4tc_csum_add(sum, ((u16)b[i] << 8) | b[i + 1]);
    return (u16)~p4tc_csum_fold(sum);
}

#endif /* P4TC_RUNTIME_H */
