//! ternary_acl: a 5-tuple ACL (ternary source, destination and protocol, ranges on the L4
//! ports) with priorities, besides the program's own five entries. The scales count the
//! distinct masks of the entries added here (16 or 64, 16 entries each); the program's
//! entries, whose port ranges expand into prefixes, add their own masks to both programs.

use std::collections::HashMap;

use anyhow::{anyhow, bail, Context};
use num_bigint::BigUint;
use p4tc_runtime::model::TableModel;
use p4tc_runtime::{EntrySpec, KeyMatch, ObjectModel, PipelineModel, Priority};

use super::IN_PORT;
use super::{action, call, mask_rank, mask_scales, port, table, with_nummask, Bytes};
use crate::case::{Case, HandProgram, Scale};
use crate::packets;

/// 16 and 64 masks of entries added here.
pub struct TernaryAcl;

/// Entries per mask.
const PER_MASK: usize = 16;

/// The hand-written rule's action codes.
const A_PERMIT: u32 = 1;
const A_REMARK: u32 = 2;
const A_DENY: u32 = 3;

/// Mask `m`'s prefix lengths on the source and the destination (64 distinct pairs).
fn lens(m: usize) -> (u32, u32) {
    (16 + 2 * (m % 8) as u32, 16 + (m / 8) as u32)
}

fn prefix_mask(len: u32) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - len)
    }
}

/// The packet of entry (m, j): from 10.m.j.1 to 192.168.j.1, TCP 40000 -> 1000 + j.
fn flow(m: usize, j: usize) -> (u32, u32, u16) {
    (
        0x0a00_0001 | ((m as u32) << 16) | ((j as u32) << 8),
        0xc0a8_0001 | ((j as u32) << 8),
        1000 + j as u16,
    )
}

fn tcp_frame(src: u32, dst: u32, dport: u16) -> Vec<u8> {
    let mut tcp = 40000u16.to_be_bytes().to_vec();
    tcp.extend_from_slice(&dport.to_be_bytes());
    tcp.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x10, 0xff, 0xff, 0, 0, 0, 0]);
    tcp.extend_from_slice(&[0u8; 6]);
    let ip = packets::ipv4(src.to_be_bytes(), dst.to_be_bytes(), 6, &tcp);
    packets::ethernet([2, 0, 0, 0, 0, 2], [2, 0, 0, 0, 0, 1], 0x0800, &ip)
}

/// `(value, mask)` pairs covering one key match of a `width`-bit field (ranges become
/// prefixes).
fn pairs(m: &KeyMatch, width: u32) -> Vec<(u64, u64)> {
    let full = if width == 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    };
    let num = |v: &BigUint| v.iter_u64_digits().next().unwrap_or(0) & full;
    match m {
        KeyMatch::Exact(v) => vec![(num(v), full)],
        KeyMatch::Ternary { value, mask } => vec![(num(value) & num(mask), num(mask))],
        KeyMatch::Lpm { value, prefix_len } => {
            let mask = if *prefix_len == 0 {
                0
            } else {
                full & !((1u64 << (width - prefix_len.min(&width))) - 1)
            };
            vec![(num(value) & mask, mask)]
        }
        KeyMatch::Range { low, high } => {
            let (mut lo, hi) = (num(low), num(high));
            let mut out = Vec::new();
            while lo <= hi {
                // The largest aligned block at `lo` that stays within `hi`.
                let mut size = if lo == 0 {
                    1u64 << width
                } else {
                    lo & lo.wrapping_neg()
                };
                while size > 1 && lo + size - 1 > hi {
                    size >>= 1;
                }
                out.push((lo, full & !(size - 1)));
                match lo.checked_add(size) {
                    Some(n) if n <= full => lo = n,
                    _ => break,
                }
            }
            out
        }
        KeyMatch::Any => vec![(0, 0)],
    }
}

/// The five key fields' values (or masks), in key order.
type Tuple = [u64; 5];

/// struct acl_tuple { u32 src, dst; u16 sport, dport; u8 proto; u8 pad[3]; } in network order.
fn tuple(f: &Tuple) -> Vec<u8> {
    let mut b = Bytes::default()
        .raw(&(f[0] as u32).to_be_bytes())
        .raw(&(f[1] as u32).to_be_bytes())
        .done();
    b.extend_from_slice(&(f[3] as u16).to_be_bytes());
    b.extend_from_slice(&(f[4] as u16).to_be_bytes());
    b.extend_from_slice(&[f[2] as u8, 0, 0, 0]);
    b
}

/// Writes every entry of ours (the program's and the case's, as dumped) into the
/// hand-written maps: ranges expanded, masks in slots sorted by their best priority.
fn mirror(ours: &dyn ObjectModel, t: &TableModel, hand: &HandProgram) -> anyhow::Result<()> {
    const WIDTHS: [u32; 5] = [32, 32, 8, 16, 16];
    // (mask tuple) -> best priority; (mask, value) -> (priority, rule bytes)
    let mut masks: HashMap<Tuple, u32> = HashMap::new();
    let mut rules: HashMap<(Tuple, Tuple), (u32, Vec<u8>)> = HashMap::new();
    for e in ours.dump(t.handle)? {
        let Priority(prio) = e
            .spec
            .priority
            .ok_or_else(|| anyhow!("an acl entry without a priority"))?;
        let c = e
            .spec
            .action
            .ok_or_else(|| anyhow!("an acl entry without an action"))?;
        let name = t
            .action(c.action)
            .map(|a| a.name.rsplit('/').next().unwrap_or(&a.name).to_string())
            .unwrap_or_default();
        let p = |i: usize| {
            c.params
                .get(i)
                .and_then(|v| v.iter_u32_digits().next())
                .unwrap_or(0)
        };
        let (kind, port, dscp) = match name.as_str() {
            "permit" => (A_PERMIT, p(0), 0),
            "permit_remark" => (A_REMARK, p(0), p(1)),
            "deny" => (A_DENY, 0, 0),
            other => bail!("acl action {other} has no hand-written twin"),
        };
        // struct acl_rule { u32 priority, action, port, dscp; }
        let rule = Bytes::default()
            .u32(prio)
            .u32(kind)
            .u32(port)
            .u32(dscp)
            .done();
        let fields: Vec<Vec<(u64, u64)>> = e
            .spec
            .key
            .iter()
            .zip(WIDTHS)
            .map(|(m, w)| pairs(m, w))
            .collect();
        if fields.len() != 5 {
            bail!("an acl entry with {} key fields", fields.len());
        }
        for a in &fields[0] {
            for b in &fields[1] {
                for c in &fields[2] {
                    for d in &fields[3] {
                        for f in &fields[4] {
                            let value = [a.0, b.0, c.0, d.0, f.0];
                            let mask = [a.1, b.1, c.1, d.1, f.1];
                            let best = masks.entry(mask).or_insert(prio);
                            *best = (*best).min(prio);
                            let slot = rules.entry((mask, value)).or_insert((prio, rule.clone()));
                            if prio < slot.0 {
                                *slot = (prio, rule.clone());
                            }
                        }
                    }
                }
            }
        }
    }
    let mut order: Vec<(Tuple, u32)> = masks.into_iter().collect();
    order.sort_by_key(|(m, p)| (*p, *m));
    let slot_of: HashMap<Tuple, u32> = order
        .iter()
        .enumerate()
        .map(|(i, (m, _))| (*m, i as u32))
        .collect();
    for (i, (mask, prio)) in order.iter().enumerate() {
        // struct acl_mask { u32 used; u32 min_priority; struct acl_tuple mask; }
        let mut v = Bytes::default().u32(1).u32(*prio).done();
        v.extend_from_slice(&tuple(mask));
        hand.map_update("acl_masks", &(i as u32).to_ne_bytes(), &v)?;
    }
    for ((mask, value), (_, rule)) in rules {
        // struct acl_key { u32 mask_index; struct acl_tuple t; }
        let mut k = slot_of[&mask].to_ne_bytes().to_vec();
        k.extend_from_slice(&tuple(&value));
        hand.map_update("acl", &k, &rule)?;
    }
    Ok(())
}

impl Case for TernaryAcl {
    fn example(&self) -> &'static str {
        "ternary_acl"
    }

    fn handwritten_c(&self) -> &'static str {
        include_str!("../../../handwritten/ternary_acl.c")
    }

    fn source(&self, original: &str, scale: &Scale) -> String {
        // Room for the program's own entries' masks too.
        with_nummask(original, "acl", scale.entries + 16)
    }

    fn scales(&self) -> Vec<Scale> {
        mask_scales()
    }

    fn install(
        &self,
        scale: &Scale,
        ours: &mut dyn ObjectModel,
        model: &PipelineModel,
        hand: &HandProgram,
    ) -> anyhow::Result<Vec<(u32, Vec<u8>)>> {
        let masks = scale.entries;
        let t = table(model, "acl")?;
        let permit = action(t, "permit")?;
        let permit_remark = action(t, "permit_remark")?;
        let deny = action(t, "deny")?;
        let mut packets = Vec::new();
        let mut batch = Vec::new();
        for m in 0..masks {
            let (slen, dlen) = lens(m);
            let rank = mask_rank(m, masks) as u32;
            for j in 0..PER_MASK {
                let (src, dst, dport) = flow(m, j);
                let c = match j % 8 {
                    3 => call(permit_remark, &[u64::from(port(j)), 18]),
                    7 => call(deny, &[]),
                    _ => call(permit, &[u64::from(port(j))]),
                };
                let mut spec = EntrySpec::new(
                    vec![
                        KeyMatch::Ternary {
                            value: (src & prefix_mask(slen)).into(),
                            mask: prefix_mask(slen).into(),
                        },
                        KeyMatch::Ternary {
                            value: (dst & prefix_mask(dlen)).into(),
                            mask: prefix_mask(dlen).into(),
                        },
                        KeyMatch::Exact(6u32.into()),
                        KeyMatch::Any,
                        KeyMatch::Exact(u32::from(dport).into()),
                    ],
                    Some(c),
                );
                // After the program's entries (10..100), masks in a scrambled order.
                spec.priority = Some(Priority(1000 + 100 * rank + j as u32));
                batch.push((spec, format!("mask {m} entry {j}")));
                packets.push((IN_PORT, tcp_frame(src, dst, dport)));
            }
        }
        // One batch: it takes the new mask slots in ascending order of their best priority,
        // the order of the twin's slots (one-by-one creates take them in first-use order).
        let (specs, names): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
        for (r, what) in ours.create_entries(t.handle, specs).into_iter().zip(names) {
            r.with_context(|| format!("{} entry {what} (generated program)", t.name))?;
        }
        mirror(ours, t, hand)?;
        Ok(packets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_expand_into_covering_prefixes() {
        let r = |lo: u32, hi: u32| KeyMatch::Range {
            low: lo.into(),
            high: hi.into(),
        };
        assert_eq!(pairs(&r(22, 22), 16), vec![(22, 0xffff)]);
        assert_eq!(pairs(&r(0, 65535), 16), vec![(0, 0)]);
        assert_eq!(
            pairs(&r(1024, 65535), 16),
            vec![
                (1024, 0xfc00),
                (2048, 0xf800),
                (4096, 0xf000),
                (8192, 0xe000),
                (16384, 0xc000),
                (32768, 0x8000)
            ]
        );
        // Every value of 80..=443 is covered exactly once, and nothing else.
        let p = pairs(&r(80, 443), 16);
        for v in 0..=u16::MAX as u64 {
            let hits = p.iter().filter(|(val, mask)| v & mask == *val).count();
            assert_eq!(hits, usize::from((80..=443).contains(&v)), "{v}");
        }
    }
}
