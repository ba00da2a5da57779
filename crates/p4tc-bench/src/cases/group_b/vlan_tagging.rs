//! vlan_tagging: exact (input port, tagged) + ternary (outer VID) rules push, pop or rewrite
//! a VLAN tag, with priorities.

use anyhow::Context;
use p4tc_runtime::{EntrySpec, KeyMatch, ObjectModel, PipelineModel, Priority};

use super::IN_PORT;
use super::{action, call, mask_rank, mask_scales, port, table, with_nummask, Bytes};
use crate::case::{Case, HandProgram, Scale};
use crate::packets;

/// 16 and 64 VID masks.
pub struct VlanTagging;

/// Input ports each rule is written for; only `IN_PORT` sees traffic.
const PORTS: u32 = 8;

/// The hand-written rule's action codes.
const V_PUSH: u32 = 1;
const V_POP: u32 = 2;
const V_REWRITE: u32 = 3;

/// VID mask `m`: the low six bits always compared, a distinct pattern of the high six.
fn vid_mask(m: usize) -> u16 {
    0x0fff ^ ((m as u16) << 6)
}

/// A frame with one 0x8100 tag (PCP 1, VID `vid`) over IPv4/UDP.
fn tagged_frame(vid: u16) -> Vec<u8> {
    let inner = packets::ipv4_udp_64([192, 0, 2, 1], [198, 51, 100, 1]);
    let mut payload = ((1u16 << 13) | vid).to_be_bytes().to_vec();
    payload.extend_from_slice(&0x0800u16.to_be_bytes());
    payload.extend_from_slice(&inner[14..]);
    packets::ethernet([2, 0, 0, 0, 0, 2], [2, 0, 0, 0, 0, 1], 0x8100, &payload)
}

impl Case for VlanTagging {
    fn example(&self) -> &'static str {
        "vlan_tagging"
    }

    fn handwritten_c(&self) -> &'static str {
        include_str!("../../../handwritten/vlan_tagging.c")
    }

    fn source(&self, original: &str, scale: &Scale) -> String {
        with_nummask(original, "port_vlan", scale.entries)
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
        let t = table(model, "port_vlan")?;
        let push_tag = action(t, "push_tag")?;
        let pop_tag = action(t, "pop_tag")?;
        let rewrite_vid = action(t, "rewrite_vid")?;
        let mut batch = Vec::new();
        for m in 0..masks {
            let rank = mask_rank(m, masks);
            let base = 1 + 1000 * rank as u32;
            // struct vlan_mask { u32 used; u32 min_priority; u16 vid_mask; u16 pad; } at its rank
            let mut mv = Bytes::default().u32(1).u32(base).done();
            mv.extend_from_slice(&vid_mask(m).to_ne_bytes());
            mv.extend_from_slice(&[0, 0]);
            hand.map_update("port_vlan_masks", &(rank as u32).to_ne_bytes(), &mv)?;
            // VIDs j < 64 with j % masks == m belong to mask m: each packet matches one mask.
            for j in (m..64).step_by(masks) {
                for p in 1..=PORTS {
                    let prio = base + j as u32 * PORTS + (p - 1);
                    let out = port(j);
                    let (kind, c, vid, pcp) = match j % 4 {
                        2 => {
                            let vid = 500 + j as u16;
                            (
                                V_PUSH,
                                call(push_tag, &[u64::from(vid), 5, u64::from(out)]),
                                vid,
                                5u8,
                            )
                        }
                        3 => (V_POP, call(pop_tag, &[u64::from(out)]), 0, 0),
                        _ => {
                            let vid = 100 + j as u16;
                            (
                                V_REWRITE,
                                call(rewrite_vid, &[u64::from(vid), u64::from(out)]),
                                vid,
                                0,
                            )
                        }
                    };
                    let mut spec = EntrySpec::new(
                        vec![
                            KeyMatch::Exact(p.into()),
                            KeyMatch::Exact(1u32.into()),
                            KeyMatch::Ternary {
                                value: (j as u32).into(),
                                mask: u32::from(vid_mask(m)).into(),
                            },
                        ],
                        Some(c),
                    );
                    spec.priority = Some(Priority(prio));
                    batch.push((spec, format!("mask {m} vid {j} port {p}")));
                    // struct vlan_key { u32 mask_index; u32 ifindex; u16 vid; u8 tagged; u8 pad; }
                    let mut k = Bytes::default().u32(rank as u32).u32(p).done();
                    k.extend_from_slice(&(j as u16).to_ne_bytes());
                    k.extend_from_slice(&[1, 0]);
                    // struct vlan_rule { u32 priority, action, port; u16 vid; u8 pcp; u8 pad; }
                    let mut v = Bytes::default().u32(prio).u32(kind).u32(out).done();
                    v.extend_from_slice(&vid.to_ne_bytes());
                    v.extend_from_slice(&[pcp, 0]);
                    hand.map_update("port_vlan", &k, &v)?;
                }
            }
        }
        // One batch: it takes the new mask slots in ascending order of their best priority,
        // the order of the twin's slots (one-by-one creates take them in first-use order).
        let (specs, names): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
        for (r, what) in ours.create_entries(t.handle, specs).into_iter().zip(names) {
            r.with_context(|| format!("{} entry {what} (generated program)", t.name))?;
        }
        Ok((0..64u16).map(|j| (IN_PORT, tagged_frame(j))).collect())
    }
}
