//! ipv6_forwarding: a 128-bit LPM FIB routes (MACs rewritten, hop limit - 1), sends to a port
//! or drops; link-local destinations and short hop limits are handled before the lookup.

use num_bigint::BigUint;
use p4tc_runtime::{EntrySpec, KeyMatch, ObjectModel, PipelineModel};

use super::{action, call, capacity, create, mac_in, mac_u64, port, table, Bytes};
use super::{IN_PORT, MAX_PACKETS};
use crate::case::{with_table_size, Case, HandProgram, Scale};
use crate::packets;

/// 1,000 and 100,000 prefixes.
pub struct Ipv6Forwarding;

/// fib6's declared size.
const DECLARED: usize = 8192;

/// The hand-written route kinds.
const R_ROUTE: u32 = 1;
const R_TO_HOST: u32 = 2;
const R_DROP: u32 = 3;

/// Prefix `i`: 2400:0:i::/48, except every 4th is 2400:0:i:1::/64.
fn prefix(i: usize) -> (u128, u32) {
    let p48 = (0x2400_0000_0000u128 + i as u128) << 80;
    if i % 4 == 3 {
        (p48 | (1u128 << 64), 64)
    } else {
        (p48, 48)
    }
}

/// The route of entry `i`: mostly route, every 8th to_host, every 16th (of those) drop.
fn kind(i: usize) -> u32 {
    match i % 16 {
        7 => R_TO_HOST,
        15 => R_DROP,
        _ => R_ROUTE,
    }
}

/// A minimum-size Ethernet/IPv6/UDP frame from `src` to `dst` with hop limit 64.
fn ipv6_udp(src: u128, dst: u128) -> Vec<u8> {
    let udp = packets::udp(1234, 5678, &[0u8; 8]);
    let mut ip = vec![0x60, 0, 0, 0];
    ip.extend_from_slice(&(udp.len() as u16).to_be_bytes());
    ip.extend_from_slice(&[17, 64]);
    ip.extend_from_slice(&src.to_be_bytes());
    ip.extend_from_slice(&dst.to_be_bytes());
    ip.extend_from_slice(&udp);
    packets::ethernet([2, 0, 0, 0, 0, 2], [2, 0, 0, 0, 0, 1], 0x86dd, &ip)
}

/// struct lpm6_key { u32 prefixlen; u8 addr[16]; }
fn hand_key(addr: u128, len: u32) -> Vec<u8> {
    Bytes::default().u32(len).raw(&addr.to_be_bytes()).done()
}

impl Case for Ipv6Forwarding {
    fn example(&self) -> &'static str {
        "ipv6_forwarding"
    }

    fn handwritten_c(&self) -> &'static str {
        include_str!("../../../handwritten/ipv6_forwarding.c")
    }

    fn source(&self, original: &str, scale: &Scale) -> String {
        with_table_size(original, "fib6", capacity(scale, DECLARED))
    }

    fn hand_map_sizes(&self, scale: &Scale) -> Vec<(String, u32)> {
        vec![("fib6".into(), capacity(scale, DECLARED) as u32)]
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
        let t = table(model, "fib6")?;
        let route = action(t, "route")?;
        let to_host = action(t, "to_host")?;
        let drop = action(t, "drop")?;
        // The program's own entries (the loader put them in ours): 2001:db8::/32 drop and
        // ff00::/8 to_host(0).
        let mut elements = vec![
            (
                hand_key(0x2001_0db8u128 << 96, 32),
                Bytes::default().u32(R_DROP).zeros(16).done(),
            ),
            (
                hand_key(0xffu128 << 120, 8),
                Bytes::default().u32(R_TO_HOST).zeros(16).done(),
            ),
        ];
        for i in 0..scale.entries {
            let (addr, len) = prefix(i);
            let (src, dst) = (mac_in(0x30, i), mac_in(0x40, i));
            let (c, value) = match kind(i) {
                R_ROUTE => (
                    call(route, &[u64::from(port(i)), mac_u64(src), mac_u64(dst)]),
                    // struct route6 { u32 kind; u32 port; u8 src[6]; u8 dst[6]; }
                    Bytes::default()
                        .u32(R_ROUTE)
                        .u32(port(i))
                        .raw(&src)
                        .raw(&dst)
                        .done(),
                ),
                R_TO_HOST => (
                    call(to_host, &[u64::from(port(i))]),
                    Bytes::default()
                        .u32(R_TO_HOST)
                        .u32(port(i))
                        .zeros(12)
                        .done(),
                ),
                _ => (
                    call(drop, &[]),
                    Bytes::default().u32(R_DROP).zeros(16).done(),
                ),
            };
            let key = vec![KeyMatch::Lpm {
                value: BigUint::from(addr),
                prefix_len: len,
            }];
            create(ours, t, EntrySpec::new(key, Some(c)), i)?;
            elements.push((hand_key(addr, len), value));
        }
        hand.map_update_all("fib6", elements.iter().map(|(k, v)| (&k[..], &v[..])))?;
        let src = 0x2001_0db8_ffff_0000_0000_0000_0000_0001u128;
        Ok(packets::spread(scale.entries, MAX_PACKETS)
            .into_iter()
            .map(|i| (IN_PORT, ipv6_udp(src, prefix(i).0 | 0x5)))
            .collect())
    }
}
