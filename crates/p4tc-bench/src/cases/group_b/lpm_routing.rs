//! lpm_routing: an LPM FIB on the IPv4 destination picks a next-hop index, an exact next-hop
//! table rewrites the MACs, decrements the TTL and picks the port; the checksum is recomputed.

use p4tc_runtime::{EntrySpec, KeyMatch, ObjectModel, PipelineModel};

use super::{action, call, capacity, create, mac_in, mac_u64, port, table, Bytes};
use super::{IN_PORT, MAX_PACKETS};
use crate::case::{with_table_size, Case, HandProgram, Scale};
use crate::packets;

/// 1,000 and 100,000 prefixes over 64 next hops.
pub struct LpmRouting;

/// fib_table's declared size.
const DECLARED: usize = 4096;

/// Next hops installed (nh_table holds 256); the last one drops.
const NEXT_HOPS: usize = 64;

/// The hand-written next hop's kinds.
const NH_SEND: u32 = 1;
const NH_DROP: u32 = 2;

/// Prefix `i`: 20.0.0.0 + i * 256, a /24, except every 4th is a /32 host route (`.1`).
fn prefix(i: usize) -> (u32, u32) {
    let base = 0x1400_0000 + ((i as u32) << 8);
    if i % 4 == 3 {
        (base + 1, 32)
    } else {
        (base, 24)
    }
}

impl Case for LpmRouting {
    fn example(&self) -> &'static str {
        "lpm_routing"
    }

    fn handwritten_c(&self) -> &'static str {
        include_str!("../../../handwritten/lpm_routing.c")
    }

    fn source(&self, original: &str, scale: &Scale) -> String {
        with_table_size(original, "fib_table", capacity(scale, DECLARED))
    }

    fn hand_map_sizes(&self, scale: &Scale) -> Vec<(String, u32)> {
        vec![("fib".into(), capacity(scale, DECLARED) as u32)]
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
        let fib = table(model, "fib_table")?;
        let set_nhid = action(fib, "set_nhid")?;
        let nh = table(model, "nh_table")?;
        let send_nh = action(nh, "send_nh")?;
        let drop = action(nh, "drop")?;
        for j in 0..NEXT_HOPS {
            let (src, dst) = (mac_in(0x30, j), mac_in(0x40, j));
            let key = vec![KeyMatch::Exact((j as u32).into())];
            let value = if j == NEXT_HOPS - 1 {
                create(ours, nh, EntrySpec::new(key, Some(call(drop, &[]))), j)?;
                Bytes::default().u32(NH_DROP).zeros(16).done()
            } else {
                let c = call(send_nh, &[u64::from(port(j)), mac_u64(src), mac_u64(dst)]);
                create(ours, nh, EntrySpec::new(key, Some(c)), j)?;
                // struct nexthop { u32 kind; u32 port; u8 src[6]; u8 dst[6]; }
                Bytes::default()
                    .u32(NH_SEND)
                    .u32(port(j))
                    .raw(&src)
                    .raw(&dst)
                    .done()
            };
            hand.map_update("nexthops", &(j as u32).to_ne_bytes(), &value)?;
        }
        let mut elements = Vec::with_capacity(scale.entries);
        for i in 0..scale.entries {
            let (addr, len) = prefix(i);
            let nh_index = (i % NEXT_HOPS) as u32;
            let key = vec![KeyMatch::Lpm {
                value: addr.into(),
                prefix_len: len,
            }];
            let c = call(set_nhid, &[u64::from(nh_index)]);
            create(ours, fib, EntrySpec::new(key, Some(c)), i)?;
            // struct lpm_key { u32 prefixlen; u8 addr[4]; } -> u32 next-hop index
            let k = Bytes::default().u32(len).raw(&addr.to_be_bytes()).done();
            elements.push((k, nh_index.to_ne_bytes()));
        }
        hand.map_update_all("fib", elements.iter().map(|(k, v)| (&k[..], &v[..])))?;
        Ok(packets::spread(scale.entries, MAX_PACKETS)
            .into_iter()
            .map(|i| {
                let dst = (prefix(i).0 | 1).to_be_bytes();
                (IN_PORT, packets::ipv4_udp_64([192, 0, 2, 1], dst))
            })
            .collect())
    }
}
