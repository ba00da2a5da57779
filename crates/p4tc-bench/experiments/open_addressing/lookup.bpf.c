/* An experiment, not part of p4tc: an exact table kept as open addressing in a BPF array
 * (64-byte slots: state, key, and a value of P4TC's exact size) against the kernel's hash
 * map with an 8-byte value (a 64-byte element, what a hand-written twin stores) and with a
 * 32-byte value (an 88-byte element, what p4tc stores today). One lookup per packet, the
 * value's 6 bytes written into the packet. See README.md. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
typedef unsigned int u32; typedef unsigned char u8; typedef unsigned long long u64;
#define LOG2CAP 21
struct v8 { u8 mac[6]; u8 pad[2]; };
struct v32 { u8 head[8]; u8 mac[8]; u8 tm[16]; };
struct slot { u32 key; u32 state; u8 head[8]; u8 mac[8]; u8 tm[16]; u8 pad[24]; }; /* 64 bytes */
struct { __uint(type, BPF_MAP_TYPE_HASH); __type(key, u32); __type(value, struct v8); __uint(max_entries, 1<<20); } h8 SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_HASH); __type(key, u64); __type(value, struct v32); __uint(max_entries, 1<<20); } h32 SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, u32); __type(value, struct slot); __uint(max_entries, 1<<LOG2CAP); __uint(map_flags, BPF_F_MMAPABLE);} oa SEC(".maps");
static __always_inline int key_of(struct __sk_buff *skb, u32 *k) {
  void *d = (void*)(long)skb->data, *e = (void*)(long)skb->data_end;
  if (d + 40 > e) return -1; *k = *(u32*)(d+30); return 0; }
static __always_inline int out(struct __sk_buff *skb, const u8 *mac) {
  void *d = (void*)(long)skb->data, *e = (void*)(long)skb->data_end;
  if (d + 40 > e) return TC_ACT_SHOT; __builtin_memcpy(d, mac, 6); return TC_ACT_REDIRECT; }
SEC("classifier") int p_h8(struct __sk_buff *skb) { u32 k; if (key_of(skb,&k)) return 0;
  struct v8 *v = bpf_map_lookup_elem(&h8, &k); return v ? out(skb, v->mac) : TC_ACT_SHOT; }
SEC("classifier") int p_h32(struct __sk_buff *skb) { u32 k; if (key_of(skb,&k)) return 0; u64 kk = k;
  struct v32 *v = bpf_map_lookup_elem(&h32, &kk); return v ? out(skb, v->mac) : TC_ACT_SHOT; }
SEC("classifier") int p_oa(struct __sk_buff *skb) { u32 k; if (key_of(skb,&k)) return 0;
  u32 i = (k * 0x9E3779B1u) >> (32 - LOG2CAP);
  for (int p = 0; p < 64; p++) { u32 idx = (i + p) & ((1u<<LOG2CAP)-1);
    struct slot *s = bpf_map_lookup_elem(&oa, &idx); if (!s) return TC_ACT_SHOT;
    if (s->state == 0) return TC_ACT_SHOT;
    if (s->state == 1 && s->key == k) return out(skb, s->mac); }
  return TC_ACT_SHOT; }
char _license[] SEC("license") = "GPL";
