//! mpls_label_stack: exact match on the top MPLS label swaps, pushes or pops a label.

use p4tc_runtime::{EntrySpec, KeyMatch, ObjectModel, PipelineModel};

use super::{action, call, capacity, create, exact_scales, port, table, Bytes};
use super::{IN_PORT, MAX_PACKETS};
use crate::case::{with_table_size, Case, HandProgram, Scale};
use crate::packets;

/// Exact lookups at 1, 1,000 and 1,000,000 labels.
pub struct MplsLabelStack;

/// lfib's declared size.
const DECLARED: usize = 4096;

/// The hand-written value's action codes.
const L_SWAP: u32 = 1;
const L_PUSH: u32 = 2;
const L_POP: u32 = 3;

/// The label of entry `i` (labels 0..15 are reserved).
fn label(i: usize) -> u32 {
    16 + i as u32
}

/// Entry `i`'s action: six in eight swap, one pushes, one pops.
fn kind(i: usize) -> u32 {
    match i % 8 {
        6 => L_PUSH,
        7 => L_POP,
        _ => L_SWAP,
    }
}

/// One label stack entry: label, TC, bottom-of-stack bit, TTL.
fn mpls(label: u32, tc: u8, bos: bool, ttl: u8) -> [u8; 4] {
    let word = (label << 12) | (u32::from(tc & 7) << 9) | (u32::from(bos) << 8) | u32::from(ttl);
    word.to_be_bytes()
}

impl Case for MplsLabelStack {
    fn example(&self) -> &'static str {
        "mpls_label_stack"
    }

    fn handwritten_c(&self) -> &'static str {
        include_str!("../../../handwritten/mpls_label_stack.c")
    }

    fn source(&self, original: &str, scale: &Scale) -> String {
        with_table_size(original, "lfib", capacity(scale, DECLARED))
    }

    fn hand_map_sizes(&self, scale: &Scale) -> Vec<(String, u32)> {
        vec![("lfib".into(), capacity(scale, DECLARED) as u32)]
    }

    fn scales(&self) -> Vec<Scale> {
        exact_scales()
    }

    fn install(
        &self,
        scale: &Scale,
        ours: &mut dyn ObjectModel,
        model: &PipelineModel,
        hand: &HandProgram,
    ) -> anyhow::Result<Vec<(u32, Vec<u8>)>> {
        let t = table(model, "lfib")?;
        let swap = action(t, "swap")?;
        let push = action(t, "push")?;
        let pop = action(t, "pop")?;
        let mut elements = Vec::with_capacity(scale.entries);
        for i in 0..scale.entries {
            let out = 100_000 + (i as u32 % 900_000);
            let p = port(i);
            let c = match kind(i) {
                L_SWAP => call(swap, &[u64::from(out), u64::from(p)]),
                L_PUSH => call(push, &[u64::from(out), u64::from(p)]),
                _ => call(pop, &[u64::from(p)]),
            };
            let key = vec![KeyMatch::Exact(label(i).into())];
            create(ours, t, EntrySpec::new(key, Some(c)), i)?;
            // struct lfib_val { u32 action; u32 label; u32 port; }
            let v = Bytes::default().u32(kind(i)).u32(out).u32(p).done();
            elements.push((label(i).to_ne_bytes(), v));
        }
        hand.map_update_all("lfib", elements.iter().map(|(k, v)| (&k[..], &v[..])))?;
        Ok(packets::spread(scale.entries, MAX_PACKETS)
            .into_iter()
            .map(|i| {
                // Two labels (the looked-up top, a bottom one) over an IPv4/UDP packet.
                let mut payload = mpls(label(i), 5, false, 64).to_vec();
                payload.extend_from_slice(&mpls(16, 0, true, 64));
                let inner = packets::ipv4_udp_64([10, 0, 0, 1], [10, 0, 0, 2]);
                payload.extend_from_slice(&inner[14..]);
                let frame =
                    packets::ethernet([2, 0, 0, 0, 0, 2], [2, 0, 0, 0, 0, 1], 0x8847, &payload);
                (IN_PORT, frame)
            })
            .collect())
    }
}
