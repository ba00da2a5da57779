//! checksum_update: source NAT on an exact (source, protocol) rule with incremental checksum
//! updates, then an LPM lookup for the output port.

use p4tc_runtime::{EntrySpec, KeyMatch, ObjectModel, PipelineModel};

use super::MAX_PACKETS;
use super::{action, call, capacity, create_all, exact_scales, table, Bytes, IN_PORT};
use crate::case::{with_table_size, Case, HandProgram, Scale};
use crate::packets;

/// NAT rules at 1, 1,000 and 1,000,000 entries (the routes are the STF's two).
pub struct ChecksumUpdate;

/// snat_rules' capacity without a `size`: p4tc's default.
const DECLARED: usize = 1024;

/// The STF's routes: (network, prefix length, port).
const ROUTES: [(u32, u32, u32); 2] = [(0xc633_6400, 24, 2), (0x0800_0000, 8, 1)];

/// Rule `i`: the inside source, its protocol (TCP for even rules, UDP for odd ones), the
/// outside address and port, or `None` for no_nat (every 16th).
fn rule(i: usize) -> (u32, u8, Option<(u32, u16)>) {
    let src = 0x0a00_0000 + (i as u32 / 2);
    let proto = if i % 2 == 0 { 6 } else { 17 };
    let nat =
        (i % 16 != 15).then(|| (0xcb00_7100 + (i as u32 % 250), 40_000 + (i % 20_000) as u16));
    (src, proto, nat)
}

/// One's complement sum of the address words' difference: ~old + new, per 16-bit word.
fn addr_delta(old: u32, new: u32) -> u32 {
    let mut s = (!old >> 16) + (!old & 0xffff) + (new >> 16) + (new & 0xffff);
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    s
}

/// A frame of rule `i`'s flow: TCP (20-byte header) or UDP with a non-zero checksum, to one
/// of the two routed networks.
fn packet(i: usize) -> Vec<u8> {
    let (src, proto, _) = rule(i);
    let dst: [u8; 4] = if i % 4 < 2 {
        [198, 51, 100, 10]
    } else {
        [8, 8, 4, 4]
    };
    let sport = 1024 + (i % 60_000) as u16;
    let sum = (0x1234 + i as u32 % 0xe000) as u16;
    let l4 = if proto == 6 {
        let mut t = Vec::with_capacity(38);
        t.extend_from_slice(&sport.to_be_bytes());
        t.extend_from_slice(&80u16.to_be_bytes());
        t.extend_from_slice(&[1, 2, 3, 4, 0, 0, 0, 0, 0x50, 0x18, 0x72, 0x10]);
        t.extend_from_slice(&sum.to_be_bytes());
        t.extend_from_slice(&[0, 0]);
        t.extend_from_slice(&[0x61; 6]);
        t
    } else {
        let mut u = packets::udp(sport, 53, &[0x62; 18]);
        u[6..8].copy_from_slice(&sum.to_be_bytes());
        u
    };
    let ip = packets::ipv4(src.to_be_bytes(), dst, proto, &l4);
    packets::ethernet([2, 0, 0, 0, 0, 0x0b], [2, 0, 0, 0, 0, 0x0a], 0x0800, &ip)
}

impl Case for ChecksumUpdate {
    fn example(&self) -> &'static str {
        "checksum_update"
    }

    fn handwritten_c(&self) -> &'static str {
        include_str!("../../../handwritten/checksum_update.c")
    }

    fn source(&self, original: &str, scale: &Scale) -> String {
        with_table_size(original, "snat_rules", capacity(scale, DECLARED))
    }

    fn hand_map_sizes(&self, scale: &Scale) -> Vec<(String, u32)> {
        vec![("snat_rules".into(), capacity(scale, DECLARED) as u32)]
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
        let egress = table(model, "egress_ports")?;
        let forward = action(egress, "forward")?;
        let mut route_specs = Vec::new();
        for (net, len, port) in ROUTES {
            route_specs.push(EntrySpec::new(
                vec![KeyMatch::Lpm {
                    value: net.into(),
                    prefix_len: len,
                }],
                Some(call(forward, &[u64::from(port)])),
            ));
            // struct lpm_key { u32 prefixlen; be32 addr; } -> u32 ifindex
            hand.map_update(
                "egress_ports",
                &Bytes::default().u32(len).raw(&net.to_be_bytes()).done(),
                &port.to_ne_bytes(),
            )?;
        }
        create_all(ours, egress, route_specs)?;

        let rules = table(model, "snat_rules")?;
        let snat = action(rules, "snat")?;
        let no_nat = action(rules, "no_nat")?;
        let mut specs = Vec::with_capacity(scale.entries);
        let mut elements = Vec::with_capacity(scale.entries);
        for i in 0..scale.entries {
            let (src, proto, nat) = rule(i);
            let a = match nat {
                Some((new_src, new_port)) => call(snat, &[u64::from(new_src), u64::from(new_port)]),
                None => call(no_nat, &[]),
            };
            specs.push(EntrySpec::new(
                vec![KeyMatch::Exact(src.into()), KeyMatch::Exact(proto.into())],
                Some(a),
            ));
            // no_nat behaves as a miss: the hand-written map leaves it out.
            if let Some((new_src, new_port)) = nat {
                // struct snat_key { be32 src; u8 proto; pad[3]; } ->
                // struct snat { be32 new_src; be16 new_port; pad; u32 addr_delta; }
                let key = Bytes::default()
                    .raw(&src.to_be_bytes())
                    .u8(proto)
                    .zeros(3)
                    .done();
                let value = Bytes::default()
                    .raw(&new_src.to_be_bytes())
                    .raw(&new_port.to_be_bytes())
                    .zeros(2)
                    .u32(addr_delta(src, new_src))
                    .done();
                elements.push((key, value));
            }
        }
        create_all(ours, rules, specs)?;
        hand.map_update_all("snat_rules", elements.iter().map(|(k, v)| (&k[..], &v[..])))?;
        Ok(packets::spread(scale.entries, MAX_PACKETS)
            .into_iter()
            .map(|i| (IN_PORT, packet(i)))
            .collect())
    }
}
