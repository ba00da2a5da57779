//! direct_counters: exact lookups on the IPv4 source and destination, each entry counting
//! its own hits.

use p4tc_runtime::{EntrySpec, KeyMatch, ObjectModel, PipelineModel};

use super::{
    action, call, capacity, create_all, exact_scales, port, table, Bytes, IN_PORT, MAX_PACKETS,
};
use crate::case::{with_table_size, Case, HandProgram, Scale};
use crate::packets;

/// Both tables at 1, 1,000 and 1,000,000 entries.
pub struct DirectCounters;

/// Both tables' declared size (sources has none: the default).
const DECLARED: usize = 1024;

/// The destination of route `i` (and source `i`'s address less 0x0a000000 + 0xc0000000).
fn destination(i: usize) -> u32 {
    0x0a00_0000 + i as u32
}

fn source(i: usize) -> u32 {
    0xc000_0000 + i as u32
}

/// Every 16th route drops.
fn drops(i: usize) -> bool {
    i % 16 == 15
}

impl Case for DirectCounters {
    fn example(&self) -> &'static str {
        "direct_counters"
    }

    fn handwritten_c(&self) -> &'static str {
        include_str!("../../../handwritten/direct_counters.c")
    }

    fn source(&self, original: &str, scale: &Scale) -> String {
        let n = capacity(scale, DECLARED);
        with_table_size(&with_table_size(original, "routes", n), "sources", n)
    }

    fn hand_map_sizes(&self, scale: &Scale) -> Vec<(String, u32)> {
        let n = capacity(scale, DECLARED) as u32;
        vec![("routes".into(), n), ("sources".into(), n)]
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
        let routes = table(model, "routes")?;
        let route = action(routes, "route")?;
        let route_drop = action(routes, "route_drop")?;
        let sources = table(model, "sources")?;
        let src_seen = action(sources, "src_seen")?;
        let n = scale.entries;
        let mut route_specs = Vec::with_capacity(n);
        let mut source_specs = Vec::with_capacity(n);
        let mut route_el = Vec::with_capacity(n);
        let mut source_el = Vec::with_capacity(n);
        for i in 0..n {
            let a = if drops(i) {
                call(route_drop, &[])
            } else {
                call(route, &[u64::from(port(i))])
            };
            route_specs.push(EntrySpec::new(
                vec![KeyMatch::Exact(destination(i).into())],
                Some(a),
            ));
            source_specs.push(EntrySpec::new(
                vec![KeyMatch::Exact(source(i).into())],
                Some(call(src_seen, &[])),
            ));
            // struct route { u64 packets, bytes; u32 port, drop; }
            let value = if drops(i) {
                Bytes::default().zeros(16).u32(0).u32(1)
            } else {
                Bytes::default().zeros(16).u32(port(i)).u32(0)
            };
            route_el.push((destination(i).to_be_bytes(), value.done()));
            source_el.push((source(i).to_be_bytes(), [0u8; 4]));
        }
        create_all(ours, routes, route_specs)?;
        create_all(ours, sources, source_specs)?;
        hand.map_update_all("routes", route_el.iter().map(|(k, v)| (&k[..], &v[..])))?;
        hand.map_update_all("sources", source_el.iter().map(|(k, v)| (&k[..], &v[..])))?;
        Ok(packets::spread(n, MAX_PACKETS)
            .into_iter()
            .map(|i| {
                (
                    IN_PORT,
                    packets::ipv4_udp_64(source(i).to_be_bytes(), destination(i).to_be_bytes()),
                )
            })
            .collect())
    }
}
