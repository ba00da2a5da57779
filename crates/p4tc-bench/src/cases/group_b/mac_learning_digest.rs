//! mac_learning_digest: an exact (source MAC, input port) lookup whose miss sends a digest,
//! then an exact destination-MAC lookup picks the port (the default floods to the CPU port).

use p4tc_runtime::{EntrySpec, KeyMatch, ObjectModel, PipelineModel};

use super::{action, call, capacity, create, exact_scales, mac_in, mac_u64, port, table, Bytes};
use super::{IN_PORT, MAX_PACKETS};
use crate::case::{with_table_size, Case, HandProgram, Scale};
use crate::packets;

/// Exact lookups at 1, 1,000 and 1,000,000 entries in both tables.
pub struct MacLearningDigest;

/// Both tables' declared size.
const DECLARED: usize = 16384;

/// PNA_PORT_CPU, where flood_to_cpu sends.
const PORT_CPU: u32 = 0xffff_fffd;

/// Every 16th source is left unknown, so one packet in 16 sends a digest.
fn known(i: usize) -> bool {
    i % 16 != 15
}

impl Case for MacLearningDigest {
    fn example(&self) -> &'static str {
        "mac_learning_digest"
    }

    fn handwritten_c(&self) -> &'static str {
        include_str!("../../../handwritten/mac_learning_digest.c")
    }

    fn source(&self, original: &str, scale: &Scale) -> String {
        let n = capacity(scale, DECLARED);
        let s = with_table_size(original, "source_macs", n);
        with_table_size(&s, "destination_macs", n)
    }

    fn hand_map_sizes(&self, scale: &Scale) -> Vec<(String, u32)> {
        let n = capacity(scale, DECLARED) as u32;
        vec![("source_macs".into(), n), ("destination_macs".into(), n)]
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
        let src_t = table(model, "source_macs")?;
        let known_source = action(src_t, "known_source")?;
        let dst_t = table(model, "destination_macs")?;
        let forward = action(dst_t, "forward")?;
        hand.map_update("flood_port", &0u32.to_ne_bytes(), &PORT_CPU.to_ne_bytes())?;
        let (mut src_el, mut dst_el) = (Vec::new(), Vec::new());
        for i in 0..scale.entries {
            let s = mac_in(0x10, i);
            if known(i) {
                let key = vec![
                    KeyMatch::Exact(mac_u64(s).into()),
                    KeyMatch::Exact(IN_PORT.into()),
                ];
                create(
                    ours,
                    src_t,
                    EntrySpec::new(key, Some(call(known_source, &[]))),
                    i,
                )?;
                // struct src_key { u8 mac[6]; u8 pad[2]; u32 ifindex; } -> u8
                src_el.push((
                    Bytes::default().raw(&s).zeros(2).u32(IN_PORT).done(),
                    vec![1u8],
                ));
            }
            let d = mac_in(0x20, i);
            let key = vec![KeyMatch::Exact(mac_u64(d).into())];
            create(
                ours,
                dst_t,
                EntrySpec::new(key, Some(call(forward, &[u64::from(port(i))]))),
                i,
            )?;
            dst_el.push((
                Bytes::default().raw(&d).zeros(2).done(),
                port(i).to_ne_bytes().to_vec(),
            ));
        }
        hand.map_update_all("source_macs", src_el.iter().map(|(k, v)| (&k[..], &v[..])))?;
        hand.map_update_all(
            "destination_macs",
            dst_el.iter().map(|(k, v)| (&k[..], &v[..])),
        )?;
        Ok(packets::spread(scale.entries, MAX_PACKETS)
            .into_iter()
            .map(|i| {
                let ip = packets::ipv4(
                    [10, 0, 0, 1],
                    [10, 0, 0, 2],
                    17,
                    &packets::udp(1, 2, &[0; 18]),
                );
                (
                    IN_PORT,
                    packets::ethernet(mac_in(0x20, i), mac_in(0x10, i), 0x0800, &ip),
                )
            })
            .collect())
    }
}
