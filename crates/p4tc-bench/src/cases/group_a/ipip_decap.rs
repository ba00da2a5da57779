//! ipip_decap: an exact lookup on the outer (destination, source) pair strips the outer
//! IPv4 header.

use p4tc_runtime::{EntrySpec, KeyMatch, ObjectModel, PipelineModel};

use super::{
    action, call, capacity, create_all, exact_scales, port, table, Bytes, IN_PORT, MAX_PACKETS,
};
use crate::case::{with_table_size, Case, HandProgram, Scale};
use crate::packets;

/// Exact lookups at 1, 1,000 and 1,000,000 tunnels.
pub struct IpipDecap;

/// tunnel_term's capacity without a `size`: p4tc's default.
const DECLARED: usize = 1024;

/// The local end, the same for every tunnel.
const LOCAL: u32 = 0xc000_0201;

/// The remote end of tunnel `i`.
fn remote(i: usize) -> u32 {
    0x6400_0000 + i as u32
}

/// Every 16th tunnel is pass_up (to the host, not decapsulated).
fn passes_up(i: usize) -> bool {
    i % 16 == 15
}

/// An IPv4-in-IPv4 frame from `src` to `dst` carrying a 64-byte UDP frame's IPv4 packet.
pub fn ipip(src: u32, dst: u32, i: usize) -> Vec<u8> {
    let inner = packets::ipv4(
        [10, 1, (i >> 8) as u8, i as u8],
        [10, 2, 0, 1],
        17,
        &packets::udp(1234, 5678, &[0u8; 18]),
    );
    let outer = packets::ipv4(src.to_be_bytes(), dst.to_be_bytes(), 4, &inner);
    packets::ethernet([2, 0, 0, 0, 0, 2], [2, 0, 0, 0, 0, 1], 0x0800, &outer)
}

impl Case for IpipDecap {
    fn example(&self) -> &'static str {
        "ipip_decap"
    }

    fn handwritten_c(&self) -> &'static str {
        include_str!("../../../handwritten/ipip_decap.c")
    }

    fn source(&self, original: &str, scale: &Scale) -> String {
        with_table_size(original, "tunnel_term", capacity(scale, DECLARED))
    }

    fn hand_map_sizes(&self, scale: &Scale) -> Vec<(String, u32)> {
        vec![("tunnel_term".into(), capacity(scale, DECLARED) as u32)]
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
        let t = table(model, "tunnel_term")?;
        let decap = action(t, "decap")?;
        let pass_up = action(t, "pass_up")?;
        let mut specs = Vec::with_capacity(scale.entries);
        let mut elements = Vec::with_capacity(scale.entries);
        for i in 0..scale.entries {
            let a = if passes_up(i) {
                call(pass_up, &[])
            } else {
                call(decap, &[u64::from(port(i))])
            };
            specs.push(EntrySpec::new(
                vec![
                    KeyMatch::Exact(LOCAL.into()),
                    KeyMatch::Exact(remote(i).into()),
                ],
                Some(a),
            ));
            // pass_up behaves as a miss: the hand-written map leaves it out.
            if !passes_up(i) {
                // struct tunnel { u32 src, dst; } in network order -> u32 ifindex
                let key = Bytes::default()
                    .raw(&remote(i).to_be_bytes())
                    .raw(&LOCAL.to_be_bytes())
                    .done();
                elements.push((key, port(i).to_ne_bytes()));
            }
        }
        create_all(ours, t, specs)?;
        hand.map_update_all(
            "tunnel_term",
            elements.iter().map(|(k, v)| (&k[..], &v[..])),
        )?;
        Ok(packets::spread(scale.entries, MAX_PACKETS)
            .into_iter()
            .map(|i| (IN_PORT, ipip(remote(i), LOCAL, i)))
            .collect())
    }
}
