//! register_flow_stats: per-flow packet counts and last-seen times in registers indexed by a
//! CRC-32 of the flow, sampling digests, and an LPM route on the destination.

use p4tc_runtime::{EntrySpec, KeyMatch, ObjectModel, PipelineModel};

use super::{action, call, capacity, create, port, table, Bytes};
use super::{IN_PORT, MAX_PACKETS};
use crate::case::{with_table_size, Case, HandProgram, Scale};
use crate::packets;

/// 1,000 and 100,000 route prefixes.
pub struct RegisterFlowStats;

/// routes declares no size: P4TC's default.
const DECLARED: usize = 1024;

/// Prefix `i`: 20.0.0.0 + i * 256, a /24, except every 4th is a /32 host route (`.1`).
fn prefix(i: usize) -> (u32, u32) {
    let base = 0x1400_0000 + ((i as u32) << 8);
    if i % 4 == 3 {
        (base + 1, 32)
    } else {
        (base, 24)
    }
}

impl Case for RegisterFlowStats {
    fn example(&self) -> &'static str {
        "register_flow_stats"
    }

    fn handwritten_c(&self) -> &'static str {
        include_str!("../../../handwritten/register_flow_stats.c")
    }

    fn source(&self, original: &str, scale: &Scale) -> String {
        with_table_size(original, "routes", capacity(scale, DECLARED))
    }

    fn hand_map_sizes(&self, scale: &Scale) -> Vec<(String, u32)> {
        vec![("routes".into(), capacity(scale, DECLARED) as u32)]
    }

    fn scales(&self) -> Vec<Scale> {
        vec![Scale::new("1k lpm", 1_000), Scale::new("100k lpm", 100_000)]
    }

    fn install(
        &self,
        scale: &Scale,
        ours: &mut dyn ObjectModel,
        model: &PipelineModel,
        hand: &HandProgram,
    ) -> anyhow::Result<Vec<(u32, Vec<u8>)>> {
        let t = table(model, "routes")?;
        let forward = action(t, "forward")?;
        let mut elements = Vec::with_capacity(scale.entries);
        for i in 0..scale.entries {
            let (addr, len) = prefix(i);
            let key = vec![KeyMatch::Lpm {
                value: addr.into(),
                prefix_len: len,
            }];
            let c = call(forward, &[u64::from(port(i))]);
            create(ours, t, EntrySpec::new(key, Some(c)), i)?;
            // struct lpm_key { u32 prefixlen; u8 addr[4]; } -> u32 port
            let k = Bytes::default().u32(len).raw(&addr.to_be_bytes()).done();
            elements.push((k, port(i).to_ne_bytes()));
        }
        hand.map_update_all("routes", elements.iter().map(|(k, v)| (&k[..], &v[..])))?;
        Ok(packets::spread(scale.entries, MAX_PACKETS)
            .into_iter()
            .map(|i| {
                let src = (0xc612_0000u32 + i as u32).to_be_bytes();
                let dst = (prefix(i).0 | 1).to_be_bytes();
                (IN_PORT, packets::ipv4_udp_64(src, dst))
            })
            .collect())
    }
}
