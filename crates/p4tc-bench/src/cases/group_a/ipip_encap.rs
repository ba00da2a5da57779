//! ipip_encap: an exact lookup on the IPv4 destination pushes an outer IPv4 header, forwards
//! as is, or drops.

use p4tc_runtime::{EntrySpec, KeyMatch, ObjectModel, PipelineModel};

use super::{
    action, call, capacity, create_all, exact_scales, port, table, Bytes, IN_PORT, MAX_PACKETS,
};
use crate::case::{with_table_size, Case, HandProgram, Scale};
use crate::packets;

/// Exact lookups at 1, 1,000 and 1,000,000 destinations.
pub struct IpipEncap;

/// tunnel_table's declared size.
const DECLARED: usize = 1024;

/// The local tunnel end, the same for every tunnel.
const LOCAL: u32 = 0xc000_0201;

/// Destination `i`.
fn destination(i: usize) -> u32 {
    0x0a00_0000 + i as u32
}

/// The remote tunnel end of destination `i`.
fn remote(i: usize) -> u32 {
    0x6400_0000 + (i as u32 % 4096)
}

/// What entry `i` does: 0 encapsulates (14 in 16), 1 forwards plain, 2 drops.
fn kind(i: usize) -> u8 {
    match i % 16 {
        14 => 1,
        15 => 2,
        _ => 0,
    }
}

/// One's complement sum of the outer header's words that do not depend on the packet:
/// 0x4500 (version, IHL; the DSCP byte is added per packet), TTL 64 / protocol 4, addresses.
fn partial(src: u32, dst: u32) -> u32 {
    let mut sum = 0x4500u32 + 0x4004 + (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum
}

impl Case for IpipEncap {
    fn example(&self) -> &'static str {
        "ipip_encap"
    }

    fn handwritten_c(&self) -> &'static str {
        include_str!("../../../handwritten/ipip_encap.c")
    }

    fn source(&self, original: &str, scale: &Scale) -> String {
        with_table_size(original, "tunnel_table", capacity(scale, DECLARED))
    }

    fn hand_map_sizes(&self, scale: &Scale) -> Vec<(String, u32)> {
        vec![("tunnel_table".into(), capacity(scale, DECLARED) as u32)]
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
        let t = table(model, "tunnel_table")?;
        let set_ipip = action(t, "set_ipip")?;
        let plain = action(t, "forward_plain")?;
        let drop = action(t, "drop")?;
        let mut specs = Vec::with_capacity(scale.entries);
        let mut elements = Vec::with_capacity(scale.entries);
        for i in 0..scale.entries {
            let p = port(i);
            let a = match kind(i) {
                0 => call(
                    set_ipip,
                    &[u64::from(LOCAL), u64::from(remote(i)), u64::from(p)],
                ),
                1 => call(plain, &[u64::from(p)]),
                _ => call(drop, &[]),
            };
            specs.push(EntrySpec::new(
                vec![KeyMatch::Exact(destination(i).into())],
                Some(a),
            ));
            // struct tunnel { u32 port, encap; be32 src, dst; u32 partial; }; a drop entry
            // behaves as the miss (drop): the hand-written map leaves it out.
            let value = match kind(i) {
                0 => Bytes::default()
                    .u32(p)
                    .u32(1)
                    .raw(&LOCAL.to_be_bytes())
                    .raw(&remote(i).to_be_bytes())
                    .u32(partial(LOCAL, remote(i))),
                1 => Bytes::default().u32(p).u32(0).zeros(12),
                _ => continue,
            };
            elements.push((destination(i).to_be_bytes(), value.done()));
        }
        create_all(ours, t, specs)?;
        hand.map_update_all(
            "tunnel_table",
            elements.iter().map(|(k, v)| (&k[..], &v[..])),
        )?;
        Ok(packets::spread(scale.entries, MAX_PACKETS)
            .into_iter()
            .map(|i| {
                let mut p = packets::ipv4_udp_64([10, 9, 9, 9], destination(i).to_be_bytes());
                p[15] = (i % 64) as u8 * 4; // a DSCP the outer header copies
                let sum = packets::checksum(&{
                    let mut h = p[14..34].to_vec();
                    h[10] = 0;
                    h[11] = 0;
                    h
                });
                p[24..26].copy_from_slice(&sum.to_be_bytes());
                (IN_PORT, p)
            })
            .collect())
    }
}
