//! arp_responder: an exact lookup on the ARP target address answers requests in the datapath.

use p4tc_runtime::{EntrySpec, KeyMatch, ObjectModel, PipelineModel};

use super::{action, call, capacity, create_all, exact_scales, mac_u64, table, MAX_PACKETS};
use crate::case::{with_table_size, Case, HandProgram, Scale};
use crate::packets;

/// Exact lookups at 1, 1,000 and 1,000,000 answered addresses.
pub struct ArpResponder;

/// arp_proxy's declared size.
const DECLARED: usize = 512;

/// The address entry `i` answers for.
fn address(i: usize) -> u32 {
    0x0a00_0000 + i as u32
}

/// The MAC address entry `i` answers with.
fn owner(i: usize) -> [u8; 6] {
    [
        2,
        0,
        (i >> 24) as u8,
        (i >> 16) as u8,
        (i >> 8) as u8,
        i as u8,
    ]
}

/// An Ethernet/IPv4 ARP request from 10.0.0.50 for `target` (padded to 60 bytes).
pub fn request(target: u32) -> Vec<u8> {
    let requester = [0x02, 0xaa, 0, 0, 0, 0x50];
    let mut arp = vec![0, 1, 8, 0, 6, 4, 0, 1];
    arp.extend_from_slice(&requester);
    arp.extend_from_slice(&[10, 0, 0, 50]);
    arp.extend_from_slice(&[0; 6]);
    arp.extend_from_slice(&target.to_be_bytes());
    arp.extend_from_slice(&[0; 18]);
    packets::ethernet([0xff; 6], requester, 0x0806, &arp)
}

impl Case for ArpResponder {
    fn example(&self) -> &'static str {
        "arp_responder"
    }

    fn handwritten_c(&self) -> &'static str {
        include_str!("../../../handwritten/arp_responder.c")
    }

    fn source(&self, original: &str, scale: &Scale) -> String {
        with_table_size(original, "arp_proxy", capacity(scale, DECLARED))
    }

    fn hand_map_sizes(&self, scale: &Scale) -> Vec<(String, u32)> {
        vec![("arp_proxy".into(), capacity(scale, DECLARED) as u32)]
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
        let t = table(model, "arp_proxy")?;
        let reply = action(t, "arp_reply")?;
        let specs = (0..scale.entries)
            .map(|i| {
                EntrySpec::new(
                    vec![KeyMatch::Exact(address(i).into())],
                    Some(call(reply, &[mac_u64(owner(i))])),
                )
            })
            .collect();
        create_all(ours, t, specs)?;
        // Key: the address in network order; value: struct owner { u8 mac[6]; }.
        let elements: Vec<([u8; 4], [u8; 6])> = (0..scale.entries)
            .map(|i| (address(i).to_be_bytes(), owner(i)))
            .collect();
        hand.map_update_all("arp_proxy", elements.iter().map(|(k, v)| (&k[..], &v[..])))?;
        Ok(packets::spread(scale.entries, MAX_PACKETS)
            .into_iter()
            .map(|i| (super::IN_PORT, request(address(i))))
            .collect())
    }
}
