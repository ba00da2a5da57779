//! decap_recirculate: tunnel endpoints (exact) strip the outer IPv4 header and recirculate;
//! the second pass routes on an LPM table.

use p4tc_runtime::{EntrySpec, KeyMatch, ObjectModel, PipelineModel};

use super::MAX_PACKETS;
use super::{action, call, capacity, create_all, mac_u64, port, table, Bytes, IN_PORT};
use crate::case::{with_table_size, Case, HandProgram, Scale};
use crate::packets;

/// 1,000 and 100,000 /24 routes; 16 tunnel endpoints; half the packets tunnelled.
pub struct DecapRecirculate;

/// routes' capacity without a `size`: p4tc's default.
const DECLARED: usize = 1024;

/// Tunnel endpoints: 192.0.2.0 .. 192.0.2.15.
const ENDPOINTS: u32 = 16;

/// The network of route `j` (a /24).
fn network(j: usize) -> u32 {
    0x0b00_0000 + ((j as u32) << 8)
}

/// The next hop's MAC address of route `j`.
fn dmac(j: usize) -> [u8; 6] {
    [0x0a, 0, 0, (j >> 16) as u8, (j >> 8) as u8, j as u8]
}

/// Packet `j`: a UDP frame to a host of route `j`, in an IPv4-in-IPv4 tunnel to an endpoint
/// for even `j`.
fn packet(j: usize) -> Vec<u8> {
    let inner = packets::ipv4(
        [172, 16, 0, 1],
        (network(j) + 1).to_be_bytes(),
        17,
        &packets::udp(1234, 5678, &[0u8; 18]),
    );
    let ip = if j % 2 == 0 {
        let endpoint = 0xc000_0200 + (j as u32 / 2) % ENDPOINTS;
        packets::ipv4([198, 51, 100, 1], endpoint.to_be_bytes(), 4, &inner)
    } else {
        inner
    };
    packets::ethernet([2, 0, 0, 0, 0, 2], [2, 0, 0, 0, 0, 1], 0x0800, &ip)
}

impl Case for DecapRecirculate {
    fn example(&self) -> &'static str {
        "decap_recirculate"
    }

    fn handwritten_c(&self) -> &'static str {
        include_str!("../../../handwritten/decap_recirculate.c")
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
        let endpoints = table(model, "tunnel_endpoints")?;
        let decap = action(endpoints, "decap_and_recirculate")?;
        let mut endpoint_specs = Vec::new();
        for e in 0..ENDPOINTS {
            let addr = 0xc000_0200 + e;
            endpoint_specs.push(EntrySpec::new(
                vec![KeyMatch::Exact(addr.into())],
                Some(call(decap, &[5])),
            ));
            hand.map_update("tunnel_endpoints", &addr.to_be_bytes(), &5u16.to_ne_bytes())?;
        }
        create_all(ours, endpoints, endpoint_specs)?;

        let routes = table(model, "routes")?;
        let route = action(routes, "route")?;
        let mut specs = Vec::with_capacity(scale.entries);
        let mut elements = Vec::with_capacity(scale.entries);
        for j in 0..scale.entries {
            specs.push(EntrySpec::new(
                vec![KeyMatch::Lpm {
                    value: network(j).into(),
                    prefix_len: 24,
                }],
                Some(call(route, &[u64::from(port(j)), mac_u64(dmac(j))])),
            ));
            // struct lpm_key { u32 prefixlen; be32 addr; } -> struct route { u32 port; u8 dmac[6]; pad }
            elements.push((
                Bytes::default()
                    .u32(24)
                    .raw(&network(j).to_be_bytes())
                    .done(),
                Bytes::default().u32(port(j)).raw(&dmac(j)).zeros(2).done(),
            ));
        }
        create_all(ours, routes, specs)?;
        hand.map_update_all("routes", elements.iter().map(|(k, v)| (&k[..], &v[..])))?;
        Ok(packets::spread(scale.entries, MAX_PACKETS)
            .into_iter()
            .map(|j| (IN_PORT, packet(j)))
            .collect())
    }
}
