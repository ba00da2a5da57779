//! stateful_firewall: direction-independent connection tracking (exact, five fields) with
//! add-on-miss from the host side, per-port zones and an LPM route table. Measured on
//! established connections' traffic from the network side (every packet hits).

use p4tc_runtime::{Aging, EntrySpec, KeyMatch, ObjectModel, PipelineModel};

use super::{action, call, capacity, create, exact_scales, table, Bytes};
use super::{IN_PORT, MAX_PACKETS};
use crate::case::{with_table_size, Case, HandProgram, Scale};
use crate::packets;

/// Exact lookups at 1, 1,000 and 1,000,000 connections.
pub struct StatefulFirewall;

/// conntrack's declared size (CONNTRACK_SIZE's default).
const DECLARED: usize = 65_536;

/// The timer profile of established connections (PROFILE_ESTABLISHED).
const ESTABLISHED: u32 = 3;

/// The remote peer of every connection.
const PEER: u32 = 0xc633_6407; // 198.51.100.7

/// The hand-written route action.
const R_FORWARD: u32 = 1;

/// Connection `i`: host address (in 10.0.0.0/8) and host port; the peer's port is 443.
fn conn(i: usize) -> (u32, u16) {
    (0x0a00_0000 + i as u32, 1024 + (i % 60_000) as u16)
}

/// A TCP ACK from `PEER:443` to the host side of connection `i`.
fn reply(i: usize) -> Vec<u8> {
    let (host, hport) = conn(i);
    let mut tcp = Vec::with_capacity(20);
    tcp.extend_from_slice(&443u16.to_be_bytes());
    tcp.extend_from_slice(&hport.to_be_bytes());
    tcp.extend_from_slice(&[
        0, 0, 0x13, 0x88, 0, 0, 0x03, 0xe9, 0x50, 0x10, 0xff, 0xff, 0, 0, 0, 0,
    ]);
    tcp.extend_from_slice(&[0u8; 6]);
    let ip = packets::ipv4(PEER.to_be_bytes(), host.to_be_bytes(), 6, &tcp);
    packets::ethernet([2, 0, 0, 0, 0, 2], [2, 0, 0, 0, 0, 0x99], 0x0800, &ip)
}

impl Case for StatefulFirewall {
    fn example(&self) -> &'static str {
        "stateful_firewall"
    }

    fn handwritten_c(&self) -> &'static str {
        include_str!("../../../handwritten/stateful_firewall.c")
    }

    fn source(&self, original: &str, scale: &Scale) -> String {
        with_table_size(original, "conntrack", capacity(scale, DECLARED))
    }

    fn hand_map_sizes(&self, scale: &Scale) -> Vec<(String, u32)> {
        vec![("conntrack".into(), capacity(scale, DECLARED) as u32)]
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
        // Routes: the hosts' 10.0.0.0/8 out of port 2, two more prefixes for depth.
        let routes = table(model, "routes")?;
        let forward = action(routes, "forward")?;
        for (i, (addr, len, port)) in [
            (0x0a00_0000u32, 8u32, 2u32),
            (0xc633_6400, 24, 3),
            (0xcb00_7100, 24, 4),
        ]
        .into_iter()
        .enumerate()
        {
            let key = vec![KeyMatch::Lpm {
                value: addr.into(),
                prefix_len: len,
            }];
            create(
                ours,
                routes,
                EntrySpec::new(key, Some(call(forward, &[u64::from(port)]))),
                i,
            )?;
            // struct lpm_key { u32 prefixlen; u8 addr[4]; } -> struct route { action, port }
            hand.map_update(
                "routes",
                &Bytes::default().u32(len).raw(&addr.to_be_bytes()).done(),
                &Bytes::default().u32(R_FORWARD).u32(port).done(),
            )?;
        }
        let ct = table(model, "conntrack")?;
        let allow = action(ct, "allow_established")?;
        let mut elements = Vec::with_capacity(scale.entries);
        for i in 0..scale.entries {
            let (host, hport) = conn(i);
            let zone = (i % 8) as u64;
            let key = vec![
                KeyMatch::Exact(host.into()),
                KeyMatch::Exact(PEER.into()),
                KeyMatch::Exact(6u32.into()),
                KeyMatch::Exact(u32::from(hport).into()),
                KeyMatch::Exact(443u32.into()),
            ];
            // An established connection, as the datapath would have it after the handshake.
            let mut spec = EntrySpec::new(key, Some(call(allow, &[zone])));
            spec.dynamic = true;
            spec.aging = Some(Aging::Profile(ESTABLISHED));
            create(ours, ct, spec, i)?;
            // struct ct_key { u32 host_addr, peer_addr; u16 host_port, peer_port; u8 proto; u8 pad[3]; }
            // (addresses and ports in network order)
            let k = Bytes::default()
                .raw(&host.to_be_bytes())
                .raw(&PEER.to_be_bytes())
                .raw(&hport.to_be_bytes())
                .raw(&443u16.to_be_bytes())
                .raw(&[6, 0, 0, 0])
                .done();
            // struct ct_val { u64 last_seen; u32 zone; u32 class; }
            let mut v = 0u64.to_ne_bytes().to_vec();
            v.extend_from_slice(&(zone as u32).to_ne_bytes());
            v.extend_from_slice(&ESTABLISHED.to_ne_bytes());
            elements.push((k, v));
        }
        hand.map_update_all("conntrack", elements.iter().map(|(k, v)| (&k[..], &v[..])))?;
        Ok(packets::spread(scale.entries, MAX_PACKETS)
            .into_iter()
            .map(|i| (IN_PORT, reply(i)))
            .collect())
    }
}
