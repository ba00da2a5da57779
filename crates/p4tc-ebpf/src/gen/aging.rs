//! Aging in the kernel: a BPF timer that deletes dynamic entries whose profile's time has
//! passed since their last hit, so that no userspace process has to run for entries to expire.
//!
//! What is generated (only when some table keeps its entries in a hash map: exact and
//! ternary tables; LPM tries cannot be walked by `bpf_for_each_map_elem`):
//! - `p4tc_timer_profiles`: `ARRAY` of 16 `u64` ages in ns, written by the loader with P4TC's
//!   defaults (profile i = (i + 1) x 30 s for i < 4; 0 = no such profile) and by the control
//!   plane at run time. The sweep reads it every period, so a change takes effect at once.
//! - `p4tc_aging`: `ARRAY` of one `struct p4tc_aging_timer`. Its timer lives as long as the
//!   map has user references (a process's descriptors or a bpffs pin), whatever runs.
//! - `p4tc_aging_events`: `RINGBUF` of entry events (`struct p4tc_event_hdr`, then the map
//!   key): the sweep's deletes (who = timer) here, and the datapath's creates (`add_entry`)
//!   and profile changes (`set_entry_expire_time`) from `gen/stmt.rs`. `add_entry` works on
//!   exact tables only, which are swept, so a program that can create entries has the ring.
//! - Per swept table a `bpf_for_each_map_elem` callback; the timer's callback calls each one
//!   and re-arms the timer for a quarter of the shortest profile (10 ms ..= 1 s), or for 20
//!   times what the sweep took if longer (a sweep walks whole tables: at most 5% of a CPU).
//! - `p4tc_aging_dynamic`: `ARRAY` of `u64`, key the table's id: non-zero while the table may
//!   hold a dynamic entry. The sweep walks only such tables, so a big table of static entries
//!   (the usual case) costs no sweeps at all. The sweep clears the word (an atomic exchange,
//!   a full barrier) before its walk and sets it again when the walk met a dynamic entry;
//!   whoever makes an entry dynamic sets it afterwards: the datapath's `add_entry` and
//!   `set_entry_expire_time` (`p4tc_mark_dynamic`), the control plane (`KernelBackend`), and
//!   anyone writing elements by hand ([`crate::aging::mark_dynamic`]). Either the sweep's walk
//!   sees the entry, or the word it left is set again. The loader sets every table's word, so
//!   entries a reload kept are walked once.
//! - `p4tc_aging_arm`: a TC program the loader runs once (`BPF_PROG_TEST_RUN`) to initialise
//!   and start the timer: a timer can only be started from BPF. The hit path is unchanged (it
//!   already stamps `last_used_ns` on dynamic entries), so the sweep costs packets nothing.

use std::time::Duration;

use p4tc_ir::layout::TableKind;

use super::Gen;
use crate::aging::DYNAMIC_MAP;
use crate::{InitKind, MapInit, MapKind, MapRole};

/// The most timer profiles a pipeline has (slots of `p4tc_timer_profiles`).
pub const MAX_TIMER_PROFILES: u32 = 16;
/// Profiles set at load time (P4TC's default): profile i ages after (i + 1) x 30 s.
pub const DEFAULT_TIMER_PROFILES: u32 = 4;

/// The default age of profile `i` (None past the default ones).
pub fn default_profile(i: u32) -> Option<Duration> {
    (i < DEFAULT_TIMER_PROFILES).then(|| Duration::from_secs(30 * u64::from(i + 1)))
}

impl<'m> Gen<'m> {
    /// Whether the program ages entries in the kernel: some table keeps its entries in a hash
    /// map (call after `declare_tables`).
    pub(crate) fn ages_in_kernel(&self) -> bool {
        self.tables.values().any(|t| t.key.kind != TableKind::Lpm)
    }

    /// Declares the aging maps and functions; returns the arm program's text (it goes after
    /// `p4tc_main`), or None when no table can be swept.
    pub(crate) fn declare_aging(&mut self) -> Option<String> {
        // (C name, map key type, introspection id) of each table kept in a hash map.
        let mut swept = Vec::new();
        for (i, (h, _)) in self.m.tables.iter().enumerate() {
            let Some(info) = self.tables.get(&h) else {
                continue;
            };
            let key_type = match info.key.kind {
                TableKind::Exact => format!("struct {}_key", info.cname),
                TableKind::Ternary => format!("struct {}_tkey", info.cname),
                TableKind::Lpm => continue,
            };
            let id = self.intro.tables.get(i).map_or(0, |t| t.id);
            swept.push((info.cname.clone(), key_type, id, h));
        }
        if swept.is_empty() {
            return None;
        }
        self.map_def(
            "p4tc_timer_profiles",
            "BPF_MAP_TYPE_ARRAY",
            MapKind::Array,
            MapRole::TimerProfiles,
            ("u32", 4),
            ("u64", 8),
            MAX_TIMER_PROFILES,
            None,
            None,
            None,
        );
        self.map_def(
            "p4tc_aging",
            "BPF_MAP_TYPE_ARRAY",
            MapKind::Array,
            MapRole::AgingTimer,
            ("u32", 4),
            ("struct p4tc_aging_timer", 48),
            1,
            None,
            None,
            None,
        );
        self.map_def(
            "p4tc_aging_events",
            "BPF_MAP_TYPE_RINGBUF",
            MapKind::RingBuf,
            MapRole::AgingEvents,
            ("", 0),
            ("", 0),
            256 * 1024,
            None,
            None,
            None,
        );
        let max_id = swept.iter().map(|(_, _, id, _)| *id).max().unwrap_or(0);
        self.map_def(
            DYNAMIC_MAP,
            "BPF_MAP_TYPE_ARRAY",
            MapKind::Array,
            MapRole::AgingDynamic,
            ("u32", 4),
            ("u64", 8),
            max_id + 1,
            None,
            None,
            None,
        );
        for (_, _, id, _) in &swept {
            self.inits.push(MapInit {
                map: DYNAMIC_MAP.into(),
                key: id.to_ne_bytes().to_vec(),
                value: 1u64.to_ne_bytes().to_vec(),
                what: InitKind::AgingDynamic,
            });
        }
        for i in 0..DEFAULT_TIMER_PROFILES {
            let ns = default_profile(i).map_or(0, |d| d.as_nanos() as u64);
            self.inits.push(MapInit {
                map: "p4tc_timer_profiles".into(),
                key: i.to_ne_bytes().to_vec(),
                value: ns.to_ne_bytes().to_vec(),
                what: InitKind::TimerProfile,
            });
        }

        // Where each swept table's values keep their times, how their heads go into events,
        // and whether the table is kept as open addressing.
        let heads: Vec<(&'static str, String, bool)> = swept
            .iter()
            .map(|(_, _, _, h)| {
                let info = &self.tables[h];
                let vl = &info.value;
                (
                    vl.times_member(),
                    vl.c_event_entry("&e->h.entry", "e->value"),
                    info.open.is_some(),
                )
            })
            .collect();
        let f = &mut self.funcs.text;
        f.push_str(
            "/* The age of timer profile p in ns (0: no such profile: the entry never ages). */\n\
             P4TC_INLINE u64 p4tc_profile_age(u32 p)\n{\n\
             \x20   u64 *age = bpf_map_lookup_elem(&p4tc_timer_profiles, &p);\n\
             \x20   return age ? *age : 0;\n}\n\n\
             /* Table `id` may hold a dynamic entry now: the sweep walks it again. Called right\n\
             \x20* after an entry becomes dynamic; the atomic is a full barrier, so a sweep that\n\
             \x20* cleared the word before this either meets the entry in its walk or leaves the\n\
             \x20* word set. */\n\
             P4TC_INLINE void p4tc_mark_dynamic(u32 id)\n{\n\
             \x20   u64 *d = bpf_map_lookup_elem(&p4tc_aging_dynamic, &id);\n\
             \x20   if (d)\n\
             \x20       __sync_fetch_and_or(d, 1);\n}\n\n",
        );
        for ((cname, key_type, id, _), (tm, event_entry, open)) in swept.iter().zip(&heads) {
            f.push_str(&sweep_callback(
                cname,
                key_type,
                *id,
                tm,
                event_entry,
                *open,
            ));
        }
        f.push_str(
            "/* Reads the profiles' ages into c->age; returns the shortest (0 when none exists). */\n\
             P4TC_INLINE u64 p4tc_read_profiles(struct p4tc_sweep_ctx *c)\n{\n\
             \x20   u64 best = 0;\n\
             \x20   for (u32 p = 0; p < P4TC_MAX_TIMER_PROFILES; p++) {\n\
             \x20       u32 k = p;\n\
             \x20       u64 *age = bpf_map_lookup_elem(&p4tc_timer_profiles, &k);\n\
             \x20       u64 a = age ? *age : 0;\n\
             \x20       c->age[p] = a;\n\
             \x20       if (a && (best == 0 || a < best))\n\
             \x20           best = a;\n\
             \x20   }\n\
             \x20   return best;\n}\n\n\
             /* The sweep period: a quarter of the shortest profile, within 10 ms ..= 1 s, and at\n\
             \x20* least P4TC_SWEEP_DUTY times what the last sweep took. */\n\
             P4TC_INLINE u64 p4tc_sweep_period(u64 shortest, u64 cost)\n{\n\
             \x20   u64 p = shortest ? shortest / 4 : P4TC_SWEEP_MAX_NS;\n\
             \x20   if (p < P4TC_SWEEP_MIN_NS)\n\
             \x20       p = P4TC_SWEEP_MIN_NS;\n\
             \x20   if (p > P4TC_SWEEP_MAX_NS)\n\
             \x20       p = P4TC_SWEEP_MAX_NS;\n\
             \x20   if (p < cost * P4TC_SWEEP_DUTY)\n\
             \x20       p = cost * P4TC_SWEEP_DUTY;\n\
             \x20   return p;\n}\n\n",
        );
        f.push_str(
            "/* The aging timer's callback: sweep every table that may hold dynamic entries, then\n\
             \x20* re-arm. Runs in softirq context, whether or not any process holds the program. */\n\
             static int p4tc_aging_sweep(void *map, u32 *key, struct p4tc_aging_timer *t)\n{\n\
             \x20   struct p4tc_sweep_ctx c = {};\n\
             \x20   u64 start = bpf_ktime_get_ns();\n\
             \x20   c.now = start;\n\
             \x20   u64 shortest = p4tc_read_profiles(&c);\n",
        );
        for (cname, _, id, _) in &swept {
            f.push_str(&format!(
                "    {{\n\
                 \x20       u32 k_ = {id};\n\
                 \x20       u64 *d_ = bpf_map_lookup_elem(&p4tc_aging_dynamic, &k_);\n\
                 \x20       /* A table with no dynamic entry is not walked (see p4tc_mark_dynamic). */\n\
                 \x20       if (!d_ || __sync_lock_test_and_set(d_, 0)) {{\n\
                 \x20           c.dynamic = 0;\n\
                 \x20           bpf_for_each_map_elem(&{cname}, {cname}_sweep, &c, 0);\n\
                 \x20           if (c.dynamic && d_)\n\
                 \x20               __sync_fetch_and_or(d_, 1);\n\
                 \x20       }}\n\
                 \x20   }}\n"
            ));
        }
        f.push_str(
            "    t->sweeps++;\n\
             \x20   t->last_sweep_ns = bpf_ktime_get_ns() - start;\n\
             \x20   t->deleted += c.deleted;\n\
             \x20   if (c.lost_events) /* atomic: the datapath counts its own losses here too */\n\
             \x20       __sync_fetch_and_add(&t->lost_events, c.lost_events);\n\
             \x20   bpf_timer_start(&t->timer, p4tc_sweep_period(shortest, t->last_sweep_ns), 0);\n\
             \x20   return 0;\n}\n\n",
        );
        Some(
            "/* Initialises and starts the aging timer: the loader runs it once with\n\
             \x20* BPF_PROG_TEST_RUN (a timer can only be started from BPF). Returns 0 when armed;\n\
             \x20* running it again (a reload that kept the maps) just re-arms the timer. */\n\
             SEC(\"classifier\")\n\
             int p4tc_aging_arm(struct __sk_buff *skb)\n{\n\
             \x20   u32 k = 0;\n\
             \x20   struct p4tc_aging_timer *t = bpf_map_lookup_elem(&p4tc_aging, &k);\n\
             \x20   if (!t)\n\
             \x20       return 1;\n\
             \x20   long r = bpf_timer_init(&t->timer, &p4tc_aging, P4TC_CLOCK_MONOTONIC);\n\
             \x20   if (r != 0 && r != -P4TC_EBUSY)\n\
             \x20       return 2;\n\
             \x20   if (bpf_timer_set_callback(&t->timer, p4tc_aging_sweep) != 0)\n\
             \x20       return 3;\n\
             \x20   struct p4tc_sweep_ctx c = {};\n\
             \x20   if (bpf_timer_start(&t->timer, p4tc_sweep_period(p4tc_read_profiles(&c), 0), 0) != 0)\n\
             \x20       return 4;\n\
             \x20   return 0;\n}\n"
                .to_string(),
        )
    }
}

/// One table's aging-sweep callback (`bpf_for_each_map_elem`): a dynamic entry unused for its
/// profile's time is deleted, with an event when it has a publish bit. The event is reserved
/// and the entry copied into it before the delete, which may let the memory be reused. A hash
/// map's element is deleted with `bpf_map_delete_elem`; an open table's slot (`open`: the
/// walk is over the array, element 0 its header) is retired by a compare-and-swap of its state,
/// which the control plane may win, and the header's count goes down.
fn sweep_callback(
    cname: &str,
    key_type: &str,
    id: u32,
    times: &str,
    event_entry: &str,
    open: bool,
) -> String {
    use crate::open_table::{SLOT_DELETED, SLOT_LIVE};
    let (what, params, entry, key, retire, counted) = if open {
        (
            "slot",
            format!("u32 *idx, struct {cname}_slot *s"),
            format!(
                "    if (*idx == 0 || P4TC_SLOT_STATE(s) != {SLOT_LIVE})\n        return 0;\n    struct {cname}_value *v = &s->value;\n"
            ),
            "&s->key",
            format!("__sync_val_compare_and_swap(&s->state, {SLOT_LIVE}, {SLOT_DELETED}) != {SLOT_LIVE}"),
            format!(
                "    u32 z = 0;\n    struct {cname}_slot *hd = bpf_map_lookup_elem(&{cname}, &z);\n    if (hd)\n        __sync_fetch_and_sub(&hd->state, 1);\n"
            ),
        )
    } else {
        (
            "element",
            format!("{key_type} *key, struct {cname}_value *v"),
            String::new(),
            "key",
            format!("bpf_map_delete_elem(&{cname}, key) != 0"),
            String::new(),
        )
    };
    format!(
        "/* One {what} of {cname} in the aging sweep (a bpf_for_each_map_elem callback): a\n\
         \x20* dynamic entry unused for its profile's time goes, with an event when it has a\n\
         \x20* publish bit (reserved and filled before the entry goes: its memory may be reused). */\n\
         struct {cname}_aged {{\n    struct p4tc_event_hdr h;\n    {key_type} key;\n    struct {cname}_value value;\n}};\n\n\
         static long {cname}_sweep(void *map, {params}, struct p4tc_sweep_ctx *c)\n{{\n\
         {entry}\
         \x20   if (!(v->hdr.flags & P4TC_F_DYNAMIC))\n\
         \x20       return 0;\n\
         \x20   c->dynamic = 1;\n\
         \x20   u32 p = v->hdr.profile;\n\
         \x20   if (p >= P4TC_MAX_TIMER_PROFILES)\n\
         \x20       return 0;\n\
         \x20   u64 age = c->age[p & (P4TC_MAX_TIMER_PROFILES - 1)];\n\
         \x20   if (age == 0 || v->{times}.last_used_ns + age > c->now)\n\
         \x20       return 0;\n\
         \x20   int publish = (v->hdr.permissions & P4TC_PERM_PUBLISH) != 0;\n\
         \x20   struct {cname}_aged *e = 0;\n\
         \x20   if (publish) {{\n\
         \x20       e = bpf_ringbuf_reserve(&p4tc_aging_events, sizeof(*e), 0);\n\
         \x20       if (e) {{\n\
         \x20           __builtin_memcpy(&e->value, v, sizeof(e->value));\n\
         \x20           __builtin_memcpy(&e->key, {key}, sizeof(e->key));\n\
         \x20       }}\n\
         \x20   }}\n\
         \x20   if ({retire}) {{\n\
         \x20       if (e)\n\
         \x20           bpf_ringbuf_discard(e, 0);\n\
         \x20       return 0; /* gone meanwhile (the control plane, another sweep) */\n\
         \x20   }}\n\
         {counted}\
         \x20   c->deleted++;\n\
         \x20   if (!publish)\n\
         \x20       return 0;\n\
         \x20   if (!e) {{\n\
         \x20       c->lost_events++;\n\
         \x20       return 0;\n\
         \x20   }}\n\
         \x20   e->h.kind = P4TC_EVENT_DELETED;\n\
         \x20   e->h.who = P4TC_WHO_TIMER;\n\
         \x20   e->h.table = {id};\n\
         \x20   e->h.key_size = sizeof(e->key);\n\
         \x20   e->h.at_ns = c->now;\n\
         \x20   {event_entry};\n\
         \x20   bpf_ringbuf_submit(e, 0);\n\
         \x20   return 0;\n}}\n\n"
    )
}
