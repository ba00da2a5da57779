//! tc_metadata: a ternary (skb mark) + exact (DSCP, input port) classifier that sets the tc
//! classid and queue, plus skb mark, tc_index and tstamp handling.

use anyhow::Context;
use p4tc_runtime::{EntrySpec, KeyMatch, ObjectModel, PipelineModel, Priority};

use super::IN_PORT;
use super::{action, call, mask_rank, mask_scales, port, table, with_nummask, Bytes};
use crate::case::{Case, HandProgram, Scale};
use crate::packets;

/// 16 and 64 mark masks.
pub struct TcMetadata;

/// Input ports each (mask, DSCP) rule is written for; only `IN_PORT` sees traffic.
const PORTS: u32 = 8;

/// The hand-written rule's action codes.
const C_SET_CLASS: u32 = 1;
const C_KEEP_CLASS: u32 = 2;

/// Mark mask `m` (64 distinct ones: left-aligned, then right-aligned runs of ones).
fn mark_mask(m: usize) -> u32 {
    if m < 32 {
        u32::MAX << m
    } else {
        (u64::from(u32::MAX) >> (m - 31)) as u32
    }
}

/// An IPv4/UDP frame with DSCP `dscp`.
fn frame(dscp: u8) -> Vec<u8> {
    let mut p = packets::ipv4_udp_64([192, 0, 2, 1], [198, 51, 100, 1]);
    p[15] = dscp << 2;
    p[24] = 0;
    p[25] = 0;
    let sum = packets::checksum(&p[14..34]);
    p[24..26].copy_from_slice(&sum.to_be_bytes());
    p
}

impl Case for TcMetadata {
    fn example(&self) -> &'static str {
        "tc_metadata"
    }

    fn handwritten_c(&self) -> &'static str {
        include_str!("../../../handwritten/tc_metadata.c")
    }

    fn source(&self, original: &str, scale: &Scale) -> String {
        with_nummask(original, "classify", scale.entries)
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
        let t = table(model, "classify")?;
        let set_class = action(t, "set_class")?;
        let keep_class = action(t, "keep_class")?;
        // The program's default, keep_class(0): to the host.
        hand.map_update(
            "classify_default",
            &0u32.to_ne_bytes(),
            &Bytes::default()
                .u32(0)
                .u32(C_KEEP_CLASS)
                .u32(0)
                .u32(0)
                .done(),
        )?;
        let mut batch = Vec::new();
        for m in 0..masks {
            let rank = mask_rank(m, masks);
            let base = 1 + 1000 * rank as u32;
            // struct cls_mask { u32 used; u32 min_priority; u32 mark_mask; } at its rank
            hand.map_update(
                "classify_masks",
                &(rank as u32).to_ne_bytes(),
                &Bytes::default().u32(1).u32(base).u32(mark_mask(m)).done(),
            )?;
            // DSCPs d with d % masks == m belong to mask m: each packet matches one mask.
            for d in (m..64).step_by(masks) {
                for p in 1..=PORTS {
                    let prio = base + d as u32 * PORTS + (p - 1);
                    let (classid, queue) = (0x10 + d as u16, (d % 4) as u16);
                    let out = port(d);
                    let keep = d % 4 == 3;
                    let c = if keep {
                        call(keep_class, &[u64::from(out)])
                    } else {
                        call(
                            set_class,
                            &[u64::from(classid), u64::from(queue), u64::from(out)],
                        )
                    };
                    let mut spec = EntrySpec::new(
                        vec![
                            KeyMatch::Ternary {
                                value: 0u32.into(),
                                mask: mark_mask(m).into(),
                            },
                            KeyMatch::Exact((d as u32).into()),
                            KeyMatch::Exact(p.into()),
                        ],
                        Some(c),
                    );
                    spec.priority = Some(Priority(prio));
                    batch.push((spec, format!("mask {m} dscp {d} port {p}")));
                    // struct cls_key { u32 mask_index; u32 mark; u32 ifindex; u8 dscp; u8 pad[3]; }
                    let k = Bytes::default()
                        .u32(rank as u32)
                        .u32(0)
                        .u32(p)
                        .raw(&[d as u8, 0, 0, 0])
                        .done();
                    // struct cls_val { u32 priority, action, port; u16 classid, queue; }
                    let mut v = Bytes::default()
                        .u32(prio)
                        .u32(if keep { C_KEEP_CLASS } else { C_SET_CLASS })
                        .u32(out)
                        .done();
                    v.extend_from_slice(&classid.to_ne_bytes());
                    v.extend_from_slice(&queue.to_ne_bytes());
                    hand.map_update("classify", &k, &v)?;
                }
            }
        }
        // One batch: it takes the new mask slots in ascending order of their best priority,
        // the order of the twin's slots (one-by-one creates take them in first-use order).
        let (specs, names): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
        for (r, what) in ours.create_entries(t.handle, specs).into_iter().zip(names) {
            r.with_context(|| format!("{} entry {what} (generated program)", t.name))?;
        }
        Ok((0..64u8).map(|d| (IN_PORT, frame(d))).collect())
    }
}
