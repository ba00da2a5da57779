//! The LPM and tuple-space lookups against a naive linear scan over random entries (with
//! deletes in between, so groups come and go).

mod support;

use std::sync::{Arc, OnceLock};

use num_bigint::BigUint;
use p4tc_runtime::{
    ActionCall, Datapath, EntrySpec, KeyMatch, MemoryBackend, ObjectModel, PipelineModel, Priority,
};
use proptest::prelude::*;
use support::{action, backend, key, program, table, u};

fn lpm_model() -> Arc<PipelineModel> {
    static MODEL: OnceLock<Arc<PipelineModel>> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            program(
                r#"
    action set(bit<16> v) { meta.b = v; }
    table routes {
        key = { meta.c : exact; hdr.ip.dst : lpm; }
        actions = { set; }
        size = 4096;
    }
"#,
                "        routes.apply();",
            )
        })
        .clone()
}

fn acl_model() -> Arc<PipelineModel> {
    static MODEL: OnceLock<Arc<PipelineModel>> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            program(
                r#"
    action set(bit<16> v) { meta.b = v; }
    table acl {
        key = { hdr.ip.src : ternary; meta.a : range; meta.c : exact; }
        actions = { set; }
        size = 4096;
    }
    // The same with two more (always zero) fields: a 20-byte key, past the u128 path.
    table acl_wide {
        key = {
            hdr.ip.src : ternary; meta.a : range; meta.c : exact;
            hdr.eth.dst : exact; hdr.eth.src : ternary;
        }
        actions = { set; }
        size = 4096;
    }
"#,
                "        acl.apply(); acl_wide.apply();",
            )
        })
        .clone()
}

/// The entry a lookup found, by its action datum (each entry has its own).
fn hit_id(
    b: &mut MemoryBackend,
    t: p4tc_ir::arena::Handle<p4tc_ir::ir::Table>,
    blob: &[u8],
) -> Option<u16> {
    let l = b.lookup(t, blob);
    l.entry
        .map(|_| u16::from_be_bytes([l.params[0], l.params[1]]))
}

fn set_call(model: &PipelineModel, t: &str, v: u16) -> Option<ActionCall> {
    Some(ActionCall {
        action: action(model, t, "set"),
        params: vec![BigUint::from(v)],
    })
}

const SRC_BASES: [u32; 4] = [0x0a00_0000, 0x0a01_0000, 0x0a01_0200, 0xc0a8_0000];
const MASKS: [u32; 6] = [
    0,
    0xff00_0000,
    0xffff_0000,
    0xffff_ff00,
    0xffff_ffff,
    0x00ff_00ff,
];

fn prefix_mask(len: u32) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - len)
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn lpm_matches_a_linear_scan(
        entries in prop::collection::vec((0u8..2, 0usize..4, 0u32..=32, any::<u32>()), 1..60),
        deletes in prop::collection::vec(any::<prop::sample::Index>(), 0..10),
        probes in prop::collection::vec((0u8..2, 0usize..4, any::<u32>(), 0u32..33), 1..60),
    ) {
        let model = lpm_model();
        let (mut b, _clock) = backend(&model);
        let t = table(&model, "routes");
        // (c, value masked, prefix, id)
        let mut naive: Vec<(u8, u32, u32, u16)> = Vec::new();
        for (i, (c, base, len, noise)) in entries.into_iter().enumerate() {
            let value = (SRC_BASES[base] | (noise & 0xff)) & prefix_mask(len);
            let id = i as u16;
            let spec = EntrySpec::new(
                vec![KeyMatch::Exact(u(c.into())), KeyMatch::Lpm { value: u(value.into()), prefix_len: len }],
                set_call(&model, "routes", id),
            );
            let exists = naive.iter().any(|e| e.0 == c && e.1 == value && e.2 == len);
            let result = b.create_entry(t, spec);
            prop_assert_eq!(result.is_ok(), !exists, "{:?}", result);
            if !exists {
                naive.push((c, value, len, id));
            }
        }
        for d in deletes {
            if naive.is_empty() {
                break;
            }
            let (c, value, len, _) = naive.remove(d.index(naive.len()));
            b.delete_entry(
                t,
                &[KeyMatch::Exact(u(c.into())), KeyMatch::Lpm { value: u(value.into()), prefix_len: len }],
                None,
            ).unwrap();
        }
        for (c, base, noise, flip) in probes {
            // Near an entry's base, with one bit flipped sometimes.
            let addr = (SRC_BASES[base] | (noise & 0xff)) ^ if flip < 32 { 1 << flip } else { 0 };
            let expected = naive
                .iter()
                .filter(|e| e.0 == c && addr & prefix_mask(e.2) == e.1)
                .max_by_key(|e| e.2)
                .map(|e| e.3);
            let blob = key(&model, "routes", &[c.into(), addr.into()]);
            prop_assert_eq!(hit_id(&mut b, t, &blob), expected);
        }
    }

    #[test]
    fn tuple_space_matches_a_linear_scan(
        entries in prop::collection::vec(
            (0usize..4, 0usize..6, 0u16..64, 0u16..64, 0u8..2, prop::option::of(0u32..6)),
            1..60,
        ),
        deletes in prop::collection::vec(any::<prop::sample::Index>(), 0..10),
        probes in prop::collection::vec((0usize..4, any::<u32>(), 0u16..70, 0u8..2), 1..60),
        wide in any::<bool>(),
    ) {
        let model = acl_model();
        let (mut b, _clock) = backend(&model);
        let name = if wide { "acl_wide" } else { "acl" };
        let t = table(&model, name);
        let extra: Vec<KeyMatch> = if wide {
            vec![KeyMatch::Exact(u(0)), KeyMatch::Ternary { value: u(0), mask: u(0xffff) }]
        } else {
            Vec::new()
        };
        // (value, mask, lo, hi, c, prio, seq, id)
        type Naive = (u32, u32, u16, u16, u8, u32, usize, u16);
        let mut naive: Vec<Naive> = Vec::new();
        let mut next_prio = 1u32;
        for (i, (base, m, x, y, c, prio)) in entries.into_iter().enumerate() {
            let mask = MASKS[m];
            let value = SRC_BASES[base] & mask;
            let (lo, hi) = (x.min(y), x.max(y));
            let id = i as u16;
            let mut k = vec![
                KeyMatch::Ternary { value: u(value.into()), mask: u(mask.into()) },
                KeyMatch::Range { low: u(lo.into()), high: u(hi.into()) },
                KeyMatch::Exact(u(c.into())),
            ];
            k.extend(extra.iter().cloned());
            let mut spec = EntrySpec::new(k, set_call(&model, name, id));
            spec.priority = prio.map(Priority);
            let same = |e: &&Naive| e.0 == value && e.1 == mask && e.2 == lo && e.3 == hi && e.4 == c;
            let exists = match prio {
                Some(p) => naive.iter().filter(same).any(|e| e.5 == p),
                None => naive.iter().any(|e| same(&e)),
            };
            let result = b.create_entry(t, spec);
            prop_assert_eq!(result.is_ok(), !exists, "{:?}", result);
            if !exists {
                let p = prio.unwrap_or_else(|| {
                    next_prio += 1;
                    next_prio - 1
                });
                naive.push((value, mask, lo, hi, c, p, i, id));
            }
        }
        for d in deletes {
            if naive.is_empty() {
                break;
            }
            let (value, mask, lo, hi, c, p, _, _) = naive.remove(d.index(naive.len()));
            let mut k = vec![
                KeyMatch::Ternary { value: u(value.into()), mask: u(mask.into()) },
                KeyMatch::Range { low: u(lo.into()), high: u(hi.into()) },
                KeyMatch::Exact(u(c.into())),
            ];
            k.extend(extra.iter().cloned());
            b.delete_entry(t, &k, Some(Priority(p))).unwrap();
        }
        for (base, noise, port, c) in probes {
            let addr = SRC_BASES[base] | (noise & 0x0000_03ff);
            let expected = naive
                .iter()
                .filter(|e| addr & e.1 == e.0 && e.2 <= port && port <= e.3 && e.4 == c)
                .min_by_key(|e| (e.5, e.6))
                .map(|e| e.7);
            let mut values = vec![addr.into(), port.into(), c.into()];
            if wide {
                values.extend([0, 0x1234_0000]);
            }
            let blob = key(&model, name, &values);
            prop_assert_eq!(hit_id(&mut b, t, &blob), expected);
        }
    }
}
