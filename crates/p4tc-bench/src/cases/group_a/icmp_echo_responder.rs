//! icmp_echo_responder: an exact lookup on the destination answers echo requests in place.

use p4tc_runtime::{EntrySpec, KeyMatch, ObjectModel, PipelineModel};

use super::{action, call, capacity, create_all, exact_scales, table, IN_PORT, MAX_PACKETS};
use crate::case::{with_table_size, Case, HandProgram, Scale};
use crate::packets;

/// Exact lookups at 1, 1,000 and 1,000,000 local addresses.
pub struct IcmpEchoResponder;

/// local_addresses' declared size.
const DECLARED: usize = 64;

/// Local address `i`.
fn address(i: usize) -> u32 {
    0x0a00_0000 + i as u32
}

/// An echo request (id 0x1234, sequence `i`, 18 bytes of data) from 192.0.2.9 to `dst`.
pub fn echo_request(dst: u32, i: usize) -> Vec<u8> {
    let mut icmp = vec![8, 0, 0, 0, 0x12, 0x34, (i >> 8) as u8, i as u8];
    icmp.extend((0..18u8).map(|b| b.wrapping_mul(7)));
    let sum = packets::checksum(&icmp);
    icmp[2..4].copy_from_slice(&sum.to_be_bytes());
    let ip = packets::ipv4([192, 0, 2, 9], dst.to_be_bytes(), 1, &icmp);
    packets::ethernet([2, 0, 0, 0, 0, 2], [2, 0, 0, 0, 0, 1], 0x0800, &ip)
}

impl Case for IcmpEchoResponder {
    fn example(&self) -> &'static str {
        "icmp_echo_responder"
    }

    fn handwritten_c(&self) -> &'static str {
        include_str!("../../../handwritten/icmp_echo_responder.c")
    }

    fn source(&self, original: &str, scale: &Scale) -> String {
        with_table_size(original, "local_addresses", capacity(scale, DECLARED))
    }

    fn hand_map_sizes(&self, scale: &Scale) -> Vec<(String, u32)> {
        vec![("local_addresses".into(), capacity(scale, DECLARED) as u32)]
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
        let t = table(model, "local_addresses")?;
        let reply = action(t, "echo_reply")?;
        let specs = (0..scale.entries)
            .map(|i| {
                EntrySpec::new(
                    vec![KeyMatch::Exact(address(i).into())],
                    Some(call(reply, &[])),
                )
            })
            .collect();
        create_all(ours, t, specs)?;
        let keys: Vec<[u8; 4]> = (0..scale.entries)
            .map(|i| address(i).to_be_bytes())
            .collect();
        hand.map_update_all("local_addresses", keys.iter().map(|k| (&k[..], &[1u8][..])))?;
        Ok(packets::spread(scale.entries, MAX_PACKETS)
            .into_iter()
            .map(|i| (IN_PORT, echo_request(address(i), i)))
            .collect())
    }
}
