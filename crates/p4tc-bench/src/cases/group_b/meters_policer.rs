//! meters_policer: an LPM subscriber table, an indexed byte meter per subscriber, an LPM
//! uplink table with a direct packet meter, DSCP re-marking by colour and the checksum.

use anyhow::anyhow;
use p4tc_runtime::{EntrySpec, KeyMatch, MeterConfig, ObjectModel, PipelineModel};

use super::{action, call, capacity, create, table, Bytes};
use super::{IN_PORT, MAX_PACKETS};
use crate::case::{with_table_size, Case, HandProgram, Scale};
use crate::packets;

/// 1,000 and 100,000 subscriber prefixes.
pub struct MetersPolicer;

/// subscribers declares no size: P4TC's default.
const DECLARED: usize = 1024;

/// Meters of subscriber_meter.
const METERS: u32 = 1024;

/// The subscriber meters' configuration: far above what a benchmark sends, so every packet
/// stays green in both programs (whatever their timing) while both do the token arithmetic.
const CONFIG: MeterConfig = MeterConfig {
    cir: 10_000_000_000,
    cbs: 10_000_000,
    pir: 20_000_000_000,
    pbs: 20_000_000,
};

/// The hand-written kinds.
const S_SET: u32 = 1;
const S_DROP: u32 = 2;
const U_UPLINK: u32 = 1;
const U_BLIND: u32 = 2;
const U_NONE: u32 = 3;

/// Subscriber prefix `i`: 20.0.0.0 + i * 256, a /24, except every 4th is a /32 (`.1`).
fn prefix(i: usize) -> (u32, u32) {
    let base = 0x1400_0000 + ((i as u32) << 8);
    if i % 4 == 3 {
        (base + 1, 32)
    } else {
        (base, 24)
    }
}

/// The uplinks: (prefix, length, hand-written kind, port).
const UPLINKS: [(u32, u32, u32, u32); 3] = [
    (0xc633_6400, 24, U_UPLINK, 2),
    (0xcb00_7100, 24, U_BLIND, 3),
    (0xc000_0200, 24, U_NONE, 0),
];

/// struct meter { cir, cbs, pir, pbs, tc, tp, last_ns, configured } (all u64).
fn hand_meter(c: &MeterConfig, now: u64) -> Vec<u8> {
    [
        c.cir,
        c.cbs,
        c.pir,
        c.pbs,
        c.cbs * 1_000_000_000,
        c.pbs * 1_000_000_000,
        now,
        1,
    ]
    .iter()
    .flat_map(|v| v.to_ne_bytes())
    .collect()
}

impl Case for MetersPolicer {
    fn example(&self) -> &'static str {
        "meters_policer"
    }

    fn handwritten_c(&self) -> &'static str {
        include_str!("../../../handwritten/meters_policer.c")
    }

    fn source(&self, original: &str, scale: &Scale) -> String {
        with_table_size(original, "subscribers", capacity(scale, DECLARED))
    }

    fn hand_map_sizes(&self, scale: &Scale) -> Vec<(String, u32)> {
        vec![("subscribers".into(), capacity(scale, DECLARED) as u32)]
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
        let meter = model
            .instance_by_name("subscriber_meter")
            .ok_or_else(|| anyhow!("meters_policer has no subscriber_meter"))?
            .handle;
        let now = p4tc_ebpf::sys::monotonic_ns();
        for i in 0..METERS {
            ours.set_meter(meter, u64::from(i), CONFIG)?;
            hand.map_update(
                "subscriber_meter",
                &i.to_ne_bytes(),
                &hand_meter(&CONFIG, now),
            )?;
        }
        let up = table(model, "uplinks")?;
        let uplink = action(up, "uplink")?;
        let uplink_blind = action(up, "uplink_blind")?;
        let no_action = action(up, "NoAction")?;
        for (n, (addr, len, kind, port)) in UPLINKS.into_iter().enumerate() {
            let c = match kind {
                U_UPLINK => call(uplink, &[u64::from(port)]),
                U_BLIND => call(uplink_blind, &[u64::from(port)]),
                _ => call(no_action, &[]),
            };
            let key = vec![KeyMatch::Lpm {
                value: addr.into(),
                prefix_len: len,
            }];
            create(ours, up, EntrySpec::new(key, Some(c)), n)?;
            // struct uplink { struct meter m (unconfigured); u32 kind; u32 port; }
            hand.map_update(
                "uplinks",
                &Bytes::default().u32(len).raw(&addr.to_be_bytes()).done(),
                &Bytes::default().zeros(64).u32(kind).u32(port).done(),
            )?;
        }
        let subs = table(model, "subscribers")?;
        let set_subscriber = action(subs, "set_subscriber")?;
        let unknown = action(subs, "unknown_subscriber")?;
        let mut elements = Vec::with_capacity(scale.entries);
        for i in 0..scale.entries {
            let (addr, len) = prefix(i);
            let id = (i % METERS as usize) as u32;
            // One prefix in 16 runs unknown_subscriber (drop, undone by a later send).
            let known = i % 16 != 15;
            let c = if known {
                call(set_subscriber, &[u64::from(id)])
            } else {
                call(unknown, &[])
            };
            let key = vec![KeyMatch::Lpm {
                value: addr.into(),
                prefix_len: len,
            }];
            create(ours, subs, EntrySpec::new(key, Some(c)), i)?;
            // struct subscriber { u32 kind; u32 id; }
            let v = if known {
                Bytes::default().u32(S_SET).u32(id).done()
            } else {
                Bytes::default().u32(S_DROP).u32(0).done()
            };
            elements.push((Bytes::default().u32(len).raw(&addr.to_be_bytes()).done(), v));
        }
        hand.map_update_all(
            "subscribers",
            elements.iter().map(|(k, v)| (&k[..], &v[..])),
        )?;
        Ok(packets::spread(scale.entries, MAX_PACKETS)
            .into_iter()
            .map(|i| {
                // Most go out of the colour-aware uplink; one in 8 the blind one, one in 16
                // hits the NoAction route (to the host).
                let up = match i % 16 {
                    7 => UPLINKS[1].0,
                    11 => UPLINKS[2].0,
                    _ => UPLINKS[0].0,
                };
                let src = (prefix(i).0 | 1).to_be_bytes();
                (IN_PORT, packets::ipv4_udp_64(src, (up | 5).to_be_bytes()))
            })
            .collect())
    }
}
