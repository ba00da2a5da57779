//! l2_redirect: exact match on (input port, destination MAC) redirects, sends to a host port
//! or drops; broadcast is dropped; a miss from a network port is dropped.

use p4tc_runtime::{EntrySpec, KeyMatch, ObjectModel, PipelineModel};

use super::{action, call, capacity, create, exact_scales, mac, mac_u64, port, table, Bytes};
use super::{IN_PORT, MAX_PACKETS};
use crate::case::{with_table_size, Case, HandProgram, Scale};
use crate::packets;

/// Exact lookups at 1, 1,000 and 1,000,000 entries.
pub struct L2Redirect;

/// The table's declared size.
const DECLARED: usize = 8192;

/// The hand-written value's action codes.
const ACT_REDIRECT: u32 = 1;
const ACT_DROP: u32 = 3;

impl Case for L2Redirect {
    fn example(&self) -> &'static str {
        "l2_redirect"
    }

    fn handwritten_c(&self) -> &'static str {
        include_str!("../../../handwritten/l2_redirect.c")
    }

    fn source(&self, original: &str, scale: &Scale) -> String {
        with_table_size(original, "l2_fwd", capacity(scale, DECLARED))
    }

    fn hand_map_sizes(&self, scale: &Scale) -> Vec<(String, u32)> {
        vec![("l2_fwd".into(), capacity(scale, DECLARED) as u32)]
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
        let t = table(model, "l2_fwd")?;
        let redirect = action(t, "redirect")?;
        let drop = action(t, "drop")?;
        // The program's default, to_host_default(1), for host ports' misses.
        hand.map_update("miss_port", &0u32.to_ne_bytes(), &1u32.to_ne_bytes())?;
        let mut elements = Vec::with_capacity(scale.entries);
        for i in 0..scale.entries {
            let m = mac(i);
            // One entry in 16 drops; the rest redirect.
            let dropped = i % 16 == 15;
            let c = if dropped {
                call(drop, &[])
            } else {
                call(redirect, &[u64::from(port(i))])
            };
            let key = vec![
                KeyMatch::Exact(IN_PORT.into()),
                KeyMatch::Exact(mac_u64(m).into()),
            ];
            create(ours, t, EntrySpec::new(key, Some(c)), i)?;
            // struct l2_key { u32 ifindex; u8 mac[6]; u8 pad[2]; } / struct l2_val { action, port }
            let k = Bytes::default().u32(IN_PORT).raw(&m).zeros(2).done();
            let v = if dropped {
                Bytes::default().u32(ACT_DROP).u32(0).done()
            } else {
                Bytes::default().u32(ACT_REDIRECT).u32(port(i)).done()
            };
            elements.push((k, v));
        }
        hand.map_update_all("l2_fwd", elements.iter().map(|(k, v)| (&k[..], &v[..])))?;
        Ok(packets::spread(scale.entries, MAX_PACKETS)
            .into_iter()
            .map(|i| {
                let ip = packets::ipv4(
                    [10, 0, 0, 1],
                    [10, 0, 0, 2],
                    17,
                    &packets::udp(1, 2, &[0; 18]),
                );
                (
                    IN_PORT,
                    packets::ethernet(mac(i), [2, 0, 0, 0, 0, 1], 0x0800, &ip),
                )
            })
            .collect())
    }
}
