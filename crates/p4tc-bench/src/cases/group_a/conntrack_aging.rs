//! conntrack_aging: an exact 4-tuple lookup that refreshes (or creates, on SYN) aging flow
//! entries, then a static port pairing.

use p4tc_runtime::{EntrySpec, KeyMatch, ObjectModel, PipelineModel};

use super::MAX_PACKETS;
use super::{action, call, capacity, create_all, exact_scales, table, Bytes, IN_PORT};
use crate::case::{with_table_size, Case, HandProgram, Scale};
use crate::packets;

/// Established flows at 1, 1,000 and 1,000,000 entries.
pub struct ConntrackAging;

/// flows' declared size.
const DECLARED: usize = 1 << 16;

/// The port pairing of the STF: 1 <-> 2.
const PAIRS: [(u32, u32); 2] = [(1, 2), (2, 1)];

/// Flow `i`'s 4-tuple.
fn flow(i: usize) -> (u32, u32, u16, u16) {
    (
        0x0a00_0000 + (i as u32 >> 4),
        0xc000_0201,
        1024 + (i % 16) as u16,
        443,
    )
}

/// A 64-byte TCP segment of `(src, dst, sport, dport)` with `flags`.
fn segment(t: (u32, u32, u16, u16), flags: u8) -> Vec<u8> {
    let (src, dst, sport, dport) = t;
    let mut tcp = Vec::with_capacity(26);
    tcp.extend_from_slice(&sport.to_be_bytes());
    tcp.extend_from_slice(&dport.to_be_bytes());
    tcp.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 1, 0x50, flags, 0x72, 0x10, 0, 0, 0, 0]);
    tcp.extend_from_slice(&[0; 6]);
    let ip = packets::ipv4(src.to_be_bytes(), dst.to_be_bytes(), 6, &tcp);
    packets::ethernet([2, 0, 0, 0, 0, 2], [2, 0, 0, 0, 0, 1], 0x0800, &ip)
}

impl Case for ConntrackAging {
    fn example(&self) -> &'static str {
        "conntrack_aging"
    }

    fn handwritten_c(&self) -> &'static str {
        include_str!("../../../handwritten/conntrack_aging.c")
    }

    fn source(&self, original: &str, scale: &Scale) -> String {
        with_table_size(original, "flows", capacity(scale, DECLARED))
    }

    fn hand_map_sizes(&self, scale: &Scale) -> Vec<(String, u32)> {
        vec![("flows".into(), capacity(scale, DECLARED) as u32)]
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
        let pairs = table(model, "port_pairs")?;
        let forward = action(pairs, "forward")?;
        let mut pair_specs = Vec::new();
        for (input, output) in PAIRS {
            pair_specs.push(EntrySpec::new(
                vec![KeyMatch::Exact(input.into())],
                Some(call(forward, &[u64::from(output)])),
            ));
            // u32 ifindex -> struct pair { u64 last_used_ns; u32 port; pad }
            hand.map_update(
                "port_pairs",
                &input.to_ne_bytes(),
                &Bytes::default().zeros(8).u32(output).zeros(4).done(),
            )?;
        }
        create_all(ours, pairs, pair_specs)?;

        let flows = table(model, "flows")?;
        let tcp_flow = action(flows, "tcp_flow")?;
        let mut specs = Vec::with_capacity(scale.entries);
        let mut elements = Vec::with_capacity(scale.entries);
        for i in 0..scale.entries {
            let (src, dst, sport, dport) = flow(i);
            let id = i as u32 + 1;
            specs.push(EntrySpec::new(
                vec![
                    KeyMatch::Exact(src.into()),
                    KeyMatch::Exact(dst.into()),
                    KeyMatch::Exact(sport.into()),
                    KeyMatch::Exact(dport.into()),
                ],
                Some(call(tcp_flow, &[u64::from(id)])),
            ));
            // struct flow_key { be32 saddr, daddr; be16 sport, dport; } ->
            // struct flow { u64 last_used_ns; u32 flow_id; u8 profile; pad[3] }
            let key = Bytes::default()
                .raw(&src.to_be_bytes())
                .raw(&dst.to_be_bytes())
                .raw(&sport.to_be_bytes())
                .raw(&dport.to_be_bytes())
                .done();
            let value = Bytes::default().zeros(8).u32(id).u8(2).zeros(3).done();
            elements.push((key, value));
        }
        create_all(ours, flows, specs)?;
        hand.map_update_all("flows", elements.iter().map(|(k, v)| (&k[..], &v[..])))?;
        // ACKs of established flows; every 16th is of an unknown flow (dropped: no SYN).
        Ok(packets::spread(scale.entries, MAX_PACKETS)
            .into_iter()
            .map(|i| {
                let mut t = flow(i);
                if i % 16 == 15 {
                    t.3 = 8443;
                }
                (IN_PORT, segment(t, 0x10))
            })
            .collect())
    }
}
