//! vxlan_decap: VXLAN packets (UDP 4789, I flag) are looked up exactly on (VNI, outer
//! destination) and decapsulated to a port.

use p4tc_runtime::{EntrySpec, KeyMatch, ObjectModel, PipelineModel};

use super::{action, call, capacity, create, exact_scales, mac_in, port, table, Bytes};
use super::{IN_PORT, MAX_PACKETS};
use crate::case::{with_table_size, Case, HandProgram, Scale};
use crate::packets;

/// Exact lookups at 1, 1,000 and 1,000,000 VNIs.
pub struct VxlanDecap;

/// vni_to_port declares no size: P4TC's default.
const DECLARED: usize = 1024;

/// The hand-written value's action codes.
const V_DECAP: u32 = 1;
const V_DROP: u32 = 2;

/// The local VTEP address every packet is sent to.
const VTEP: u32 = 0xc000_0201;

/// The VNI of entry `i`.
fn vni(i: usize) -> u32 {
    1 + i as u32
}

/// A VXLAN packet for VNI `vni` to `VTEP` carrying a minimum-size inner frame.
fn vxlan_packet(vni: u32) -> Vec<u8> {
    let inner = packets::ipv4_udp_64([172, 16, 0, 1], [172, 16, 0, 2]);
    let mut inner = inner;
    inner[0..6].copy_from_slice(&mac_in(0x50, vni as usize));
    let mut vx = vec![0x08, 0, 0, 0];
    vx.extend_from_slice(&(vni << 8).to_be_bytes());
    vx.extend_from_slice(&inner);
    let udp = packets::udp(49152, 4789, &vx);
    let ip = packets::ipv4([198, 51, 100, 1], VTEP.to_be_bytes(), 17, &udp);
    packets::ethernet([2, 0, 0, 0, 0, 2], [2, 0, 0, 0, 0, 1], 0x0800, &ip)
}

impl Case for VxlanDecap {
    fn example(&self) -> &'static str {
        "vxlan_decap"
    }

    fn handwritten_c(&self) -> &'static str {
        include_str!("../../../handwritten/vxlan_decap.c")
    }

    fn source(&self, original: &str, scale: &Scale) -> String {
        with_table_size(original, "vni_to_port", capacity(scale, DECLARED))
    }

    fn hand_map_sizes(&self, scale: &Scale) -> Vec<(String, u32)> {
        vec![("vni_to_port".into(), capacity(scale, DECLARED) as u32)]
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
        let t = table(model, "vni_to_port")?;
        let decap_to = action(t, "decap_to")?;
        let unknown_vni = action(t, "unknown_vni")?;
        let mut elements = Vec::with_capacity(scale.entries);
        for i in 0..scale.entries {
            // One VNI in 16 is refused (unknown_vni); the rest are decapsulated.
            let refused = i % 16 == 15;
            let c = if refused {
                call(unknown_vni, &[])
            } else {
                call(decap_to, &[u64::from(port(i))])
            };
            let key = vec![KeyMatch::Exact(vni(i).into()), KeyMatch::Exact(VTEP.into())];
            create(ours, t, EntrySpec::new(key, Some(c)), i)?;
            // struct vni_key { u32 vni; u32 vtep (network order); } / { action, port }
            let k = Bytes::default().u32(vni(i)).raw(&VTEP.to_be_bytes()).done();
            let v = if refused {
                Bytes::default().u32(V_DROP).u32(0).done()
            } else {
                Bytes::default().u32(V_DECAP).u32(port(i)).done()
            };
            elements.push((k, v));
        }
        hand.map_update_all(
            "vni_to_port",
            elements.iter().map(|(k, v)| (&k[..], &v[..])),
        )?;
        Ok(packets::spread(scale.entries, MAX_PACKETS)
            .into_iter()
            .map(|i| (IN_PORT, vxlan_packet(vni(i))))
            .collect())
    }
}
