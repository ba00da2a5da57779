//! default_actions: a TTL drop list, an exact (source, input port) lookup with run-time
//! hit and miss defaults, and an exact (destination, protocol) lookup after a hit.

use p4tc_runtime::{DefaultKind, EntrySpec, KeyMatch, ObjectModel, PipelineModel};

use super::MAX_PACKETS;
use super::{action, call, capacity, create_all, exact_scales, port, table, Bytes, IN_PORT};
use crate::case::{with_table_size, Case, HandProgram, Scale};
use crate::packets;

/// by_source at 1, 1,000 and 1,000,000 entries (by_destination: 16, by_ttl: the STF's one).
pub struct DefaultActions;

/// by_source's capacity without a `size`: p4tc's default.
const DECLARED: usize = 1024;

/// The port of the hit default (entries without an action of their own) and the miss
/// default (the program's own, next_hop(8), set again explicitly).
const HIT_DEFAULT_PORT: u32 = 5;
const MISS_DEFAULT_PORT: u32 = 8;

/// The TTL by_ttl drops (the STF's).
const DROP_TTL: u8 = 13;

/// Destinations by_destination knows: 192.0.2.0 .. 192.0.2.15, UDP.
const DESTINATIONS: usize = 16;

/// Source `i`.
fn source(i: usize) -> u32 {
    0x0a00_0000 + i as u32
}

/// What by_source entry `i` does: 0 next_hop, 1 next_hop_counted, 2 default_route_drop,
/// 3 no action of its own (the hit default).
fn kind(i: usize) -> usize {
    i % 4
}

/// Packet `i`: from source `i` (every 16th from an unknown source: the miss default), to one
/// of 20 destinations (4 unknown: by_destination's miss drops), every 32nd with the TTL that
/// by_ttl drops.
fn packet(i: usize) -> Vec<u8> {
    let src = if i % 16 == 15 {
        0x6400_0000 + i as u32
    } else {
        source(i)
    };
    let dst = [192, 0, 2, (i % 20) as u8];
    let mut p = packets::ipv4_udp_64(src.to_be_bytes(), dst);
    if i % 32 == 7 {
        p[22] = DROP_TTL;
        p[24] = 0;
        p[25] = 0;
        let sum = packets::checksum(&p[14..34]);
        p[24..26].copy_from_slice(&sum.to_be_bytes());
    }
    p
}

/// struct act { u8 kind, verdict; u16 pad; u32 vport; } of the hand-written program.
fn act(kind: u8, verdict: u8, vport: u32) -> Vec<u8> {
    Bytes::default()
        .u8(kind)
        .u8(verdict)
        .zeros(2)
        .u32(vport)
        .done()
}

impl Case for DefaultActions {
    fn example(&self) -> &'static str {
        "default_actions"
    }

    fn handwritten_c(&self) -> &'static str {
        include_str!("../../../handwritten/default_actions.c")
    }

    fn source(&self, original: &str, scale: &Scale) -> String {
        with_table_size(original, "by_source", capacity(scale, DECLARED))
    }

    fn hand_map_sizes(&self, scale: &Scale) -> Vec<(String, u32)> {
        vec![("by_source".into(), capacity(scale, DECLARED) as u32)]
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
        let by_ttl = table(model, "by_ttl")?;
        let ttl_drop = action(by_ttl, "drop")?;
        create_all(
            ours,
            by_ttl,
            vec![EntrySpec::new(
                vec![KeyMatch::Exact(DROP_TTL.into())],
                Some(call(ttl_drop, &[])),
            )],
        )?;
        hand.map_update("by_ttl", &[DROP_TTL], &[1])?;

        let by_dst = table(model, "by_destination")?;
        let counted_d = action(by_dst, "next_hop_counted")?;
        let mut dst_specs = Vec::new();
        for d in 0..DESTINATIONS {
            let dst = 0xc000_0200 + d as u32;
            let (vport, verdict) = (port(d), d as u8);
            dst_specs.push(EntrySpec::new(
                vec![KeyMatch::Exact(dst.into()), KeyMatch::Exact(17u8.into())],
                Some(call(counted_d, &[u64::from(vport), u64::from(verdict)])),
            ));
            // struct dst_key { be32 dst; u8 proto; pad[3]; } -> struct act
            hand.map_update(
                "by_destination",
                &Bytes::default()
                    .raw(&dst.to_be_bytes())
                    .u8(17)
                    .zeros(3)
                    .done(),
                &act(2, verdict, vport),
            )?;
        }
        create_all(ours, by_dst, dst_specs)?;

        let by_src = table(model, "by_source")?;
        let next_hop = action(by_src, "next_hop")?;
        let counted = action(by_src, "next_hop_counted")?;
        let route_drop = action(by_src, "default_route_drop")?;
        ours.set_default_action(
            by_src.handle,
            DefaultKind::Hit,
            call(next_hop, &[u64::from(HIT_DEFAULT_PORT)]),
        )?;
        ours.set_default_action(
            by_src.handle,
            DefaultKind::Miss,
            call(next_hop, &[u64::from(MISS_DEFAULT_PORT)]),
        )?;
        hand.map_update(
            "by_source_defaults",
            &0u32.to_ne_bytes(),
            &act(1, 0, HIT_DEFAULT_PORT),
        )?;
        hand.map_update(
            "by_source_defaults",
            &1u32.to_ne_bytes(),
            &act(1, 0, MISS_DEFAULT_PORT),
        )?;

        let mut specs = Vec::with_capacity(scale.entries);
        let mut elements = Vec::with_capacity(scale.entries);
        for i in 0..scale.entries {
            let p = port(i);
            let (a, value) = match kind(i) {
                0 => (Some(call(next_hop, &[u64::from(p)])), act(1, 0, p)),
                1 => (
                    Some(call(counted, &[u64::from(p), (i % 256) as u64])),
                    act(2, i as u8, p),
                ),
                2 => (Some(call(route_drop, &[])), act(3, 0, 0)),
                _ => (None, act(0, 0, 0)),
            };
            specs.push(EntrySpec::new(
                vec![
                    KeyMatch::Exact(source(i).into()),
                    KeyMatch::Exact(IN_PORT.into()),
                ],
                a,
            ));
            // struct src_key { be32 src; u32 port; } -> struct act
            let key = Bytes::default()
                .raw(&source(i).to_be_bytes())
                .u32(IN_PORT)
                .done();
            elements.push((key, value));
        }
        create_all(ours, by_src, specs)?;
        hand.map_update_all("by_source", elements.iter().map(|(k, v)| (&k[..], &v[..])))?;
        Ok(packets::spread(scale.entries, MAX_PACKETS)
            .into_iter()
            .map(|i| (IN_PORT, packet(i)))
            .collect())
    }
}
