//! simple_l3: IPv4 exact match on the destination picks a port and both MAC addresses.

use anyhow::{anyhow, Context};
use num_bigint::BigUint;
use p4tc_ir::arena::Handle;
use p4tc_ir::ir::Table;
use p4tc_runtime::{ActionCall, EntrySpec, KeyMatch, ObjectModel, PipelineModel};

use crate::case::{with_table_size, Case, HandProgram, Scale};
use crate::packets;

/// The reference case: exact lookups at 1, 1,000 and 1,000,000 entries.
pub struct SimpleL3;

/// Packets of one measurement at most: enough to spread over a million entries' buckets
/// without holding a million frames.
const MAX_PACKETS: usize = 65_536;

/// The table's capacity at `scale`: the example's 1,024, or the population when larger.
pub fn capacity(scale: &Scale) -> usize {
    scale.entries.max(1024)
}

/// The destination address of entry `i`.
fn address(i: usize) -> u32 {
    0x0a00_0000 + i as u32
}

impl Case for SimpleL3 {
    fn example(&self) -> &'static str {
        "simple_l3"
    }

    fn handwritten_c(&self) -> &'static str {
        include_str!("../../handwritten/simple_l3.c")
    }

    fn source(&self, original: &str, scale: &Scale) -> String {
        with_table_size(original, "nh_table", capacity(scale))
    }

    fn hand_map_sizes(&self, scale: &Scale) -> Vec<(String, u32)> {
        vec![("nh_table".into(), capacity(scale) as u32)]
    }

    fn scales(&self) -> Vec<Scale> {
        vec![
            Scale::new("1 exact", 1),
            Scale::new("1k exact", 1_000),
            Scale::new("1M exact", 1_000_000),
        ]
    }

    fn install(
        &self,
        scale: &Scale,
        ours: &mut dyn ObjectModel,
        model: &PipelineModel,
        hand: &HandProgram,
    ) -> anyhow::Result<Vec<(u32, Vec<u8>)>> {
        let (table, specs) = entries(model, scale.entries)?;
        let mut hand_elements = Vec::with_capacity(scale.entries);
        for (i, r) in ours.create_entries(table, specs).into_iter().enumerate() {
            r.with_context(|| format!("simple_l3 entry {i} (generated program)"))?;
        }
        for i in 0..scale.entries {
            let (port, src, dst) = next_hop(i);
            // struct nh { __u32 port; __u8 src[6]; __u8 dst[6]; }, key in network order.
            let mut value = port.to_ne_bytes().to_vec();
            value.extend_from_slice(&src);
            value.extend_from_slice(&dst);
            hand_elements.push((address(i).to_be_bytes(), value));
        }
        hand.map_update_all(
            "nh_table",
            hand_elements.iter().map(|(k, v)| (&k[..], &v[..])),
        )?;
        Ok(packets::spread(scale.entries, MAX_PACKETS)
            .into_iter()
            .map(|i| (1, packet(i)))
            .collect())
    }
}

/// Entry `i`'s next hop: port, source MAC, destination MAC.
fn next_hop(i: usize) -> (u32, [u8; 6], [u8; 6]) {
    let port = 1 + (i % 8) as u32;
    let src = [2, 0, 0, 0, (i >> 8) as u8, i as u8];
    let dst = [
        4,
        (i >> 24) as u8,
        (i >> 16) as u8,
        (i >> 8) as u8,
        i as u8,
        1,
    ];
    (port, src, dst)
}

/// `n` entries of simple_l3's `nh_table` (entry `i` matches 10.0.0.0 + i and sends to a
/// next hop of its own), for the object model.
pub fn entries(model: &PipelineModel, n: usize) -> anyhow::Result<(Handle<Table>, Vec<EntrySpec>)> {
    let table = model
        .table_by_name("nh_table")
        .ok_or_else(|| anyhow!("simple_l3 has no table nh_table"))?;
    let send_nh = table
        .action_by_name("send_nh")
        .ok_or_else(|| anyhow!("nh_table has no action send_nh"))?
        .handle;
    let specs = (0..n)
        .map(|i| {
            let (port, src, dst) = next_hop(i);
            let call = ActionCall {
                action: send_nh,
                params: vec![
                    BigUint::from(port),
                    BigUint::from_bytes_be(&src),
                    BigUint::from_bytes_be(&dst),
                ],
            };
            EntrySpec::new(vec![KeyMatch::Exact(address(i).into())], Some(call))
        })
        .collect();
    Ok((table.handle, specs))
}

/// A packet to entry `i`'s address.
pub fn packet(i: usize) -> Vec<u8> {
    packets::ipv4_udp_64([10, 9, 9, 9], address(i).to_be_bytes())
}
