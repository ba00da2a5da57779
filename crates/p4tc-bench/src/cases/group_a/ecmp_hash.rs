//! ecmp_hash: a CRC-32 flow-bucket counter, an LPM route to a next hop or a group, and a
//! CRC-16 of the 5-tuple picking the group's member.

use p4tc_runtime::{EntrySpec, KeyMatch, ObjectModel, PipelineModel};

use super::MAX_PACKETS;
use super::{action, call, capacity, create_all, mac_u64, port, table, Bytes, IN_PORT};
use crate::case::{with_table_size, Case, HandProgram, Scale};
use crate::packets;

/// 1,000 and 100,000 /24 routes, over 64 groups of 1 to 4 members.
pub struct EcmpHash;

/// routes' capacity without a `size`: p4tc's default.
const DECLARED: usize = 1024;

/// Groups the routes share.
const GROUPS: usize = 64;

/// The network of route `j` (a /24).
fn network(j: usize) -> u32 {
    0x0b00_0000 + ((j as u32) << 8)
}

/// Every 16th route is a direct next hop; the others go to group `j % 64`.
fn direct(j: usize) -> bool {
    j % 16 == 15
}

/// Members of group `g`.
fn group_size(g: usize) -> usize {
    1 + g % 4
}

/// The destination MAC address of next hop `n`.
fn dmac(n: usize) -> [u8; 6] {
    [0x0a, 0, 0, (n >> 16) as u8, (n >> 8) as u8, n as u8]
}

impl Case for EcmpHash {
    fn example(&self) -> &'static str {
        "ecmp_hash"
    }

    fn handwritten_c(&self) -> &'static str {
        include_str!("../../../handwritten/ecmp_hash.c")
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
        let routes = table(model, "routes")?;
        let set_group = action(routes, "set_group")?;
        let set_nh = action(routes, "set_nh")?;
        let members = table(model, "group_members")?;
        let member_nh = action(members, "set_nh")?;

        let mut member_specs = Vec::new();
        for g in 0..GROUPS {
            for m in 0..group_size(g) {
                let n = g * 4 + m;
                member_specs.push(EntrySpec::new(
                    vec![KeyMatch::Exact(g.into()), KeyMatch::Exact(m.into())],
                    Some(call(member_nh, &[u64::from(port(n)), mac_u64(dmac(n))])),
                ));
                // struct member_key { u16 group, member; } -> struct nh { u32 port; u8 dmac[6]; pad }
                hand.map_update(
                    "group_members",
                    &Bytes::default().u16(g as u16).u16(m as u16).done(),
                    &Bytes::default().u32(port(n)).raw(&dmac(n)).zeros(2).done(),
                )?;
            }
        }
        create_all(ours, members, member_specs)?;

        let mut specs = Vec::with_capacity(scale.entries);
        let mut elements = Vec::with_capacity(scale.entries);
        for j in 0..scale.entries {
            let (a, value) = if direct(j) {
                let n = 1000 + j;
                (
                    call(set_nh, &[u64::from(port(n)), mac_u64(dmac(n))]),
                    // struct route { u32 kind; u16 group, size; u32 port; u8 dmac[6]; pad }
                    Bytes::default()
                        .u32(1)
                        .u16(0)
                        .u16(0)
                        .u32(port(n))
                        .raw(&dmac(n))
                        .zeros(2),
                )
            } else {
                let g = j % GROUPS;
                (
                    call(set_group, &[g as u64, group_size(g) as u64]),
                    Bytes::default()
                        .u32(0)
                        .u16(g as u16)
                        .u16(group_size(g) as u16)
                        .u32(0)
                        .zeros(8),
                )
            };
            specs.push(EntrySpec::new(
                vec![KeyMatch::Lpm {
                    value: network(j).into(),
                    prefix_len: 24,
                }],
                Some(a),
            ));
            // struct lpm_key { u32 prefixlen; be32 addr; }
            let key = Bytes::default()
                .u32(24)
                .raw(&network(j).to_be_bytes())
                .done();
            elements.push((key, value.done()));
        }
        create_all(ours, routes, specs)?;
        hand.map_update_all("routes", elements.iter().map(|(k, v)| (&k[..], &v[..])))?;

        Ok(packets::spread(scale.entries, MAX_PACKETS)
            .into_iter()
            .map(|j| {
                let host = network(j) + 1 + (j % 250) as u32;
                let udp = packets::udp(1024 + (j % 50_000) as u16, 53, &[0u8; 18]);
                let ip = packets::ipv4([192, 0, 2, (j % 200) as u8], host.to_be_bytes(), 17, &udp);
                (
                    IN_PORT,
                    packets::ethernet([2, 0, 0, 0, 0, 0xfe], [2, 0, 0, 0, 0, 0x0a], 0x0800, &ip),
                )
            })
            .collect())
    }
}
