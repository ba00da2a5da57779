//! The tuple-space search's early stop is right whatever the order of the mask slots: masks
//! are created in the worst order (the best priority last, after worse ones, so a search that
//! stopped at the first slot that cannot win by itself would miss it), with deletes, flushes
//! and batches in between, and after every step every packet must hit the entry a reference
//! search over all live entries picks. Two tables: one searched by the inline loop (16
//! slots), one with a range field (256 slots: the first 64 searched inline, the others by
//! the `bpf_loop` callback; wide ranges push the entries that matter past slot 64). A batch
//! and the program's own entries take their slots best first (each slot's rest bound is then
//! its own), which is what makes the usual search stop early.
//!
//! Needs root, BTF and clang; skips with the reason otherwise.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::sync::Arc;

use num_bigint::BigUint;
use p4tc_ir::arena::Handle;
use p4tc_ir::ir;
use p4tc_runtime::{ActionCall, EntrySpec, KeyMatch, PipelineModel, Priority};
use p4tc_testkit::kernel_target::KernelTarget;
use p4tc_testkit::target::Target;

/// `a` (ternary destination, 16 slots: the inline search) writes the winner's parameter into
/// the source address; `b` (ternary destination and a range on the EtherType: 16 x 16 slots,
/// the inline and the bpf_loop search) sends to the winner's port, and drops on a miss.
const PROGRAM: &str = r#"
control C(inout headers_t hdr, inout meta_t meta, in pna_main_input_metadata_t istd,
          inout pna_main_output_metadata_t ostd) {
    action set_src(bit<48> s) {
        hdr.ethernet.srcAddr = s;
    }

    action fwd(PortId_t port) {
        send_to_port(port);
    }

    action drop() {
        drop_packet();
    }

    @tc_acl("CRUDPS:RX")
    @nummask(16)
    table a {
        key = {
            hdr.ethernet.dstAddr : ternary @name("dst");
        }
        actions = {
            set_src;
            NoAction;
        }
        default_action = NoAction();
        size = 256;
    }

    @tc_acl("CRUDPS:RX")
    @nummask(16)
    table b {
        key = {
            hdr.ethernet.dstAddr : ternary @name("dst");
            hdr.ethernet.etherType : range @name("type");
        }
        actions = {
            fwd;
            drop;
        }
        default_action = drop();
        size = 1024;
    }

    apply {
        a.apply();
        b.apply();
    }
}
"#;

/// The destination every packet is a variant of.
const BASE: u64 = 0x0a0b_0c0d_0e0f;
/// Bits a packet's (or an entry's) destination may flip from `BASE`.
const FLIPS: [u64; 4] = [0, 1, 1 << 20, 1 << 44];
/// Destination masks: prefixes of several lengths, and two that are not prefixes.
const MASKS: [u64; 12] = [
    0xff00_0000_0000,
    0xfff0_0000_0000,
    0xffff_0000_0000,
    0xffff_ff00_0000,
    0xffff_ffff_0000,
    0xffff_ffff_ff00,
    0xffff_ffff_ffff,
    0xffff_ffff_fff0,
    0x0000_0000_00ff,
    0xff00_ff00_ff00,
    0x0000_fff0_0000,
    0x0000_0000_0000,
];
/// EtherType ranges of `b`'s entries (the fourth expands into seven prefixes, the last into
/// thirty).
const RANGES: [(u64, u64); 5] = [
    (0x0800, 0x0800),
    (0x0800, 0x08ff),
    (0x0000, 0xffff),
    (0x0806, 0x0900),
    (0x0001, 0xfffe),
];
/// EtherTypes of the packets.
const TYPES: [u16; 5] = [0x0800, 0x0806, 0x08ff, 0x0900, 0x86dd];

/// A live entry, as the reference search sees it.
#[derive(Clone, Debug)]
struct Rule {
    mask: u64,
    value: u64,
    range: (u64, u64),
    prio: u32,
    param: u64,
}

impl Rule {
    fn matches(&self, dst: u64, ty: u16) -> bool {
        dst & self.mask == self.value && (self.range.0..=self.range.1).contains(&u64::from(ty))
    }
}

struct Setup {
    target: KernelTarget,
    a: Handle<ir::Table>,
    b: Handle<ir::Table>,
    set_src: Handle<ir::Action>,
    fwd: Handle<ir::Action>,
    /// Live entries of `a` and `b`.
    live: [Vec<Rule>; 2],
}

fn n(v: u64) -> BigUint {
    BigUint::from(v)
}

fn model() -> Arc<PipelineModel> {
    common::ethernet_model("tss_order", "tss", PROGRAM)
}

impl Setup {
    fn table(&self, which: usize) -> Handle<ir::Table> {
        [self.a, self.b][which]
    }

    fn spec(&self, which: usize, r: &Rule) -> EntrySpec {
        let mut key = vec![KeyMatch::Ternary {
            value: n(r.value),
            mask: n(r.mask),
        }];
        if which == 1 {
            key.push(KeyMatch::Range {
                low: n(r.range.0),
                high: n(r.range.1),
            });
        }
        let action = [self.set_src, self.fwd][which];
        let mut spec = EntrySpec::new(
            key,
            Some(ActionCall {
                action,
                params: vec![n(r.param)],
            }),
        );
        spec.priority = Some(Priority(r.prio));
        spec
    }

    /// Creates `r` one by one; true when created (a key already there is refused).
    fn create(&mut self, which: usize, r: Rule) -> bool {
        let r = for_table(which, r);
        let spec = self.spec(which, &r);
        let t = self.table(which);
        match self.target.control().create_entry(t, spec) {
            Ok(()) => {
                self.live[which].push(r);
                true
            }
            Err(p4tc_runtime::RuntimeError::Exists { .. }) => false,
            Err(e) => panic!("create {r:?}: {e}"),
        }
    }

    /// Creates `rules` in one batch.
    fn create_batch(&mut self, which: usize, rules: Vec<Rule>) {
        let rules: Vec<Rule> = rules.into_iter().map(|r| for_table(which, r)).collect();
        let specs = rules.iter().map(|r| self.spec(which, r)).collect();
        let t = self.table(which);
        let results = self.target.control().create_entries(t, specs);
        for (r, res) in rules.into_iter().zip(results) {
            match res {
                Ok(()) => self.live[which].push(r),
                Err(p4tc_runtime::RuntimeError::Exists { .. }) => {}
                Err(e) => panic!("batch create {r:?}: {e}"),
            }
        }
    }

    fn delete(&mut self, which: usize, at: usize) {
        let r = self.live[which].remove(at);
        let spec = self.spec(which, &r);
        let t = self.table(which);
        self.target
            .control()
            .delete_entry(t, &spec.key, spec.priority)
            .unwrap_or_else(|e| panic!("delete {r:?}: {e}"));
    }

    fn flush(&mut self, which: usize) {
        let t = self.table(which);
        let gone = self.target.control().flush(t).expect("flush");
        assert_eq!(gone, self.live[which].len(), "flush");
        self.live[which].clear();
    }

    /// Every packet hits what the reference search picks, in both tables.
    #[track_caller]
    fn check(&mut self, step: &str) {
        for flip in FLIPS {
            for ty in TYPES {
                let dst = BASE ^ flip;
                let best = |rules: &[Rule]| {
                    rules
                        .iter()
                        .filter(|r| r.matches(dst, ty))
                        .min_by_key(|r| r.prio)
                        .map(|r| r.param)
                };
                let want_src = best(&self.live[0]).unwrap_or(0);
                let want_port = best(&self.live[1]);
                let mut packet = vec![0u8; 60];
                packet[..6].copy_from_slice(&dst.to_be_bytes()[2..]);
                packet[12..14].copy_from_slice(&ty.to_be_bytes());
                let d = self.target.send(0, &packet).expect("send");
                let what = format!("{step}: dst {dst:#014x} type {ty:#06x}");
                match want_port {
                    None => assert!(d.is_drop(), "{what}: b should miss (drop): {d:?}"),
                    Some(port) => {
                        assert_eq!(d.outputs.len(), 1, "{what}: {d:?}");
                        let (got_port, bytes) = &d.outputs[0];
                        assert_eq!(u64::from(*got_port), port, "{what}: b's winner");
                        let mut src = [0u8; 8];
                        src[2..].copy_from_slice(&bytes[6..12]);
                        assert_eq!(u64::from_be_bytes(src), want_src, "{what}: a's winner");
                    }
                }
            }
        }
    }
}

/// `r` as table `which` holds it: `a` has no range field (every EtherType matches).
fn for_table(which: usize, mut r: Rule) -> Rule {
    if which == 0 {
        r.range = (0, 0xffff);
    }
    r
}

/// A rule under `MASKS[m]` matching `BASE ^ FLIPS[f]`, with range `RANGES[r]`.
fn rule(m: usize, f: usize, r: usize, prio: u32) -> Rule {
    Rule {
        mask: MASKS[m],
        value: (BASE ^ FLIPS[f]) & MASKS[m],
        range: RANGES[r],
        prio,
        // a's source address / b's port: tells the winner apart.
        param: u64::from(prio),
    }
}

#[test]
fn the_search_stops_early_only_when_no_later_slot_can_win() {
    if let Some(why) = common::kernel_unavailable() {
        println!("skipped: {why}");
        return;
    }
    let p = model();
    let target = KernelTarget::new(p.clone(), p4tc_ebpf::Hook::Tc).expect("kernel target");
    let t = |name: &str| p.table_by_name(name).expect(name);
    let mut s = Setup {
        a: t("a").handle,
        b: t("b").handle,
        set_src: t("a").action_by_name("set_src").expect("set_src").handle,
        fwd: t("b").action_by_name("fwd").expect("fwd").handle,
        target,
        live: [Vec::new(), Vec::new()],
    };
    s.check("empty");

    // b: wide ranges, worse than all below, take the first 90 slots (3 masks x 30 prefixes),
    // so what follows is searched by the bpf_loop callback.
    for m in 9..12 {
        assert!(s.create(1, rule(m, 0, 4, 900 + m as u32)));
    }
    s.check("wide ranges first");
    // The worst order, one by one: every mask matches the base packet, and the priorities
    // go down with ups in between, so a slot that cannot win comes before one that can.
    let worst = [50, 60, 40, 70, 30, 80, 20, 10];
    for which in 0..2 {
        for (m, prio) in worst.iter().enumerate() {
            assert!(s.create(which, rule(m, 0, m % RANGES.len(), *prio)));
            s.check(&format!("table {which}: worst order, mask {m} at {prio}"));
        }
    }
    // Deletes leave the bounds as they were (still lower bounds): the next best wins.
    for which in 0..2 {
        for prio in [10, 20, 50] {
            let at = s.live[which]
                .iter()
                .position(|r| r.prio == prio)
                .expect("live");
            s.delete(which, at);
            s.check(&format!("table {which}: deleted {prio}"));
        }
        // A new mask, the best of all, in the last slot.
        assert!(s.create(which, rule(8, 0, 2, 5)));
        s.check(&format!("table {which}: a new best mask last"));
        // And a better entry under the first slot's mask.
        assert!(s.create(which, rule(0, 0, 0, 3)));
        s.check(&format!("table {which}: a better entry under slot 0"));
    }
    // Flushed and filled again by a batch, in the worst order: the batch takes its slots in
    // order of priority; then single creates append worse and better masks after them.
    for which in 0..2 {
        s.flush(which);
        s.check(&format!("table {which}: flushed"));
        let batch = worst
            .iter()
            .enumerate()
            .map(|(m, prio)| rule(m, m % 2, m % RANGES.len(), *prio + 100))
            .collect();
        s.create_batch(which, batch);
        s.check(&format!("table {which}: worst-order batch"));
        // The batch took its slots best first: each slot's rest bound is its own.
        let t = s.table(which);
        let slots = s.target.backend_mut().mask_slots(t).expect("slots");
        assert!(!slots.is_empty());
        for (i, w) in slots.windows(2).enumerate() {
            assert!(
                w[0].min_prio <= w[1].min_prio,
                "table {which}: slot {i} ({}) after a batch is worse than slot {} ({})",
                w[0].min_prio,
                i + 1,
                w[1].min_prio
            );
        }
        assert!(slots.iter().all(|m| m.rest_min == m.min_prio), "{slots:?}");
        assert!(s.create(which, rule(9, 0, 1, 300)));
        assert!(s.create(which, rule(10, 0, 3, 101)));
        s.check(&format!(
            "table {which}: worse and better masks after a batch"
        ));
        // A batch mixing existing masks (bounds lowered) and new ones.
        let mixed = vec![
            rule(11, 0, 2, 400),
            rule(2, 1, 0, 99),
            rule(6, 3, 3, 250),
            rule(3, 0, 1, 98),
        ];
        s.create_batch(which, mixed);
        s.check(&format!("table {which}: mixed batch"));
    }

    // Random steps: single and batch creates with any priority, deletes, now and then a
    // flush; the reference checks all packets after each.
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        rng ^= rng >> 12;
        rng ^= rng << 25;
        rng ^= rng >> 27;
        rng.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11
    };
    let mut prio = 1000u32;
    for step in 0..120 {
        let which = (next() % 2) as usize;
        let mut fresh = |next: &mut dyn FnMut() -> u64| {
            // Unique priorities (above the fixed steps'), in a scrambled order.
            prio += 1;
            let p = 1000 + (u64::from(prio) * 7919 % 100_000) as u32;
            rule(
                (next() % MASKS.len() as u64) as usize,
                (next() % FLIPS.len() as u64) as usize,
                (next() % RANGES.len() as u64) as usize,
                p,
            )
        };
        match next() % 20 {
            0 => s.flush(which),
            1..=6 if !s.live[which].is_empty() => {
                let at = (next() % s.live[which].len() as u64) as usize;
                s.delete(which, at);
            }
            7..=9 => {
                let k = 1 + (next() % 6) as usize;
                let batch = (0..k).map(|_| fresh(&mut next)).collect();
                s.create_batch(which, batch);
            }
            _ => {
                let r = fresh(&mut next);
                s.create(which, r);
            }
        }
        s.check(&format!("random step {step} on table {which}"));
    }
}

/// A table whose program entries come in the worst order (the best mask last, one entry
/// lowering the first mask's bound below all): the generator gives the slots in ascending
/// order of their best priority, each entry under its own mask's slot, and the loaded
/// program picks the right entry for every packet.
const CONST_PROGRAM: &str = r#"
control C(inout headers_t hdr, inout meta_t meta, in pna_main_input_metadata_t istd,
          inout pna_main_output_metadata_t ostd) {
    action fwd(PortId_t port) {
        send_to_port(port);
    }

    action drop() {
        drop_packet();
    }

    @tc_acl("CRUDPS:RX")
    @nummask(8)
    table c {
        key = {
            hdr.ethernet.dstAddr : ternary @name("dst");
        }
        actions = {
            fwd;
            drop;
        }
        default_action = drop();
        largest_priority_wins = false;
        entries = {
            priority = 50: 48w0x0a0000000000 &&& 48w0xff0000000000 : fwd((PortId_t)50);
            priority = 60: 48w0x0a0b00000000 &&& 48w0xffff00000000 : fwd((PortId_t)60);
            priority = 40: 48w0x0a0b0c000000 &&& 48w0xffffff000000 : fwd((PortId_t)40);
            priority = 70: 48w0x0a0b0c0d0000 &&& 48w0xffffffff0000 : fwd((PortId_t)70);
            priority = 20: 48w0x0a0b0c0d0e00 &&& 48w0xffffffffff00 : fwd((PortId_t)20);
            priority = 10: 48w0x0a0b0c0d0e0f &&& 48w0xffffffffffff : fwd((PortId_t)10);
            priority = 5: 48w0x0b0000000000 &&& 48w0xff0000000000 : fwd((PortId_t)5);
        }
    }

    apply {
        c.apply();
    }
}
"#;

/// The program's entries of `CONST_PROGRAM`: (value, mask, priority = port).
const CONST_ENTRIES: [(u64, u64, u32); 7] = [
    (0x0a00_0000_0000, 0xff00_0000_0000, 50),
    (0x0a0b_0000_0000, 0xffff_0000_0000, 60),
    (0x0a0b_0c00_0000, 0xffff_ff00_0000, 40),
    (0x0a0b_0c0d_0000, 0xffff_ffff_0000, 70),
    (0x0a0b_0c0d_0e00, 0xffff_ffff_ff00, 20),
    (0x0a0b_0c0d_0e0f, 0xffff_ffff_ffff, 10),
    (0x0b00_0000_0000, 0xff00_0000_0000, 5),
];

#[test]
fn program_entries_take_their_slots_best_first() {
    let p = common::ethernet_model("tss_order", "tss_const", CONST_PROGRAM);
    let g = p4tc_ebpf::generate(&p.module, "tss_const", p4tc_ebpf::Hook::Tc).expect("generates");
    let spec = g
        .tables
        .iter()
        .find(|t| t.name.ends_with("/c"))
        .expect("table c");
    let masks_map = spec.masks_map.clone().expect("a masks map");
    let mut slots = Vec::new();
    for init in g.const_entries.iter().filter(|i| i.map == masks_map) {
        let at = u32::from_ne_bytes(init.key[..4].try_into().unwrap()) as usize;
        assert_eq!(at, slots.len(), "slots in order from 0");
        slots.push(p4tc_ebpf::entry::MaskSlot::decode(&init.value).expect("used"));
    }
    // Six masks (two entries share the first), best first.
    let bounds: Vec<(u32, u32)> = slots.iter().map(|m| (m.min_prio, m.rest_min)).collect();
    assert_eq!(
        bounds,
        vec![(5, 5), (10, 10), (20, 20), (40, 40), (60, 60), (70, 70)]
    );
    // Each program entry lies under the slot of its own mask.
    let mut under = 0;
    for init in g.const_entries.iter().filter(|i| i.map == spec.map) {
        let slot = u32::from_ne_bytes(init.key[..4].try_into().unwrap()) as usize;
        let mask = spec.key.decode_key(&slots[slot].mask).expect("mask");
        let value = spec.key.decode_key(&init.key[4..]).expect("value");
        let prio = u32::from_ne_bytes(init.value[8..12].try_into().unwrap());
        let want = CONST_ENTRIES
            .iter()
            .find(|e| u64::from(prio) == u64::from(e.2))
            .expect("an entry of the program");
        assert_eq!((value[0].clone(), mask[0].clone()), (n(want.0), n(want.1)));
        under += 1;
    }
    assert_eq!(under, CONST_ENTRIES.len());

    if let Some(why) = common::kernel_unavailable() {
        println!("skipped the kernel half: {why}");
        return;
    }
    let mut target = KernelTarget::new(p.clone(), p4tc_ebpf::Hook::Tc).expect("kernel target");
    for dst in [
        0x0a0b_0c0d_0e0fu64,
        0x0a0b_0c0d_0e00,
        0x0a0b_0c0d_0000,
        0x0a0b_0c00_0000,
        0x0a0b_0000_0000,
        0x0a00_0000_0000,
        0x0b0b_0c0d_0e0f,
        0x0c00_0000_0000,
    ] {
        let want = CONST_ENTRIES
            .iter()
            .filter(|e| dst & e.1 == e.0)
            .map(|e| e.2)
            .min();
        let mut packet = vec![0u8; 60];
        packet[..6].copy_from_slice(&dst.to_be_bytes()[2..]);
        packet[12..14].copy_from_slice(&0x88b5u16.to_be_bytes());
        let d = target.send(0, &packet).expect("send");
        match want {
            None => assert!(d.is_drop(), "{dst:#x}: {d:?}"),
            Some(port) => assert_eq!(
                d.outputs.iter().map(|o| o.0).collect::<Vec<_>>(),
                vec![port],
                "{dst:#x}"
            ),
        }
    }
}
