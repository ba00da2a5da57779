//! Cases of group A (owned by helper F1): one module per example, each with its hand-written
//! twin in `handwritten/<example>.c`.

use anyhow::{anyhow, bail, Context};
use p4tc_runtime::model::TableModel;
use p4tc_runtime::{EntrySpec, ObjectModel};

use crate::case::{Case, Scale};
use crate::cases::helpers::{action, call, capacity, table};

pub mod arp_responder;
pub mod calculator;
pub mod checksum_update;
pub mod conntrack_aging;
pub mod decap_recirculate;
pub mod default_actions;
pub mod direct_counters;
pub mod ecmp_hash;
pub mod icmp_echo_responder;
pub mod indirect_counters;
pub mod ipip_decap;
pub mod ipip_encap;
pub mod ipv4_options;

/// Every case of this group.
pub fn all() -> Vec<Box<dyn Case>> {
    vec![
        Box::new(arp_responder::ArpResponder),
        Box::new(calculator::Calculator),
        Box::new(checksum_update::ChecksumUpdate),
        Box::new(conntrack_aging::ConntrackAging),
        Box::new(decap_recirculate::DecapRecirculate),
        Box::new(default_actions::DefaultActions),
        Box::new(direct_counters::DirectCounters),
        Box::new(ecmp_hash::EcmpHash),
        Box::new(icmp_echo_responder::IcmpEchoResponder),
        Box::new(indirect_counters::IndirectCounters),
        Box::new(ipip_decap::IpipDecap),
        Box::new(ipip_encap::IpipEncap),
        Box::new(ipv4_options::Ipv4Options),
    ]
}

/// Packets of one measurement at most: enough to spread over a million entries' buckets
/// without holding a million frames.
const MAX_PACKETS: usize = 65_536;

/// The ingress ifindex `BPF_PROG_TEST_RUN` gives a TC program: it runs on the loopback
/// device, so what a program reads as its input port is 1.
const IN_PORT: u32 = 1;

/// The three exact-match populations of issue #8.
fn exact_scales() -> Vec<Scale> {
    vec![
        Scale::new("1 exact", 1),
        Scale::new("1k exact", 1_000),
        Scale::new("1M exact", 1_000_000),
    ]
}

/// The one population of a case whose tables hold what its STF file installs.
fn stf_scale() -> Vec<Scale> {
    vec![Scale::new("stf", 0)]
}

/// Creates `specs` in `table` of the generated program (many per system call), naming the
/// first entry refused.
fn create_all(
    ours: &mut dyn ObjectModel,
    table: &TableModel,
    specs: Vec<EntrySpec>,
) -> anyhow::Result<()> {
    for (i, r) in ours
        .create_entries(table.handle, specs)
        .into_iter()
        .enumerate()
    {
        r.with_context(|| format!("{} entry {i} (generated program)", table.name))?;
    }
    Ok(())
}

/// The packets of an STF file, in order, each `(port, bytes)`, less those `BPF_PROG_TEST_RUN`
/// refuses for a TC program (see [`test_run_takes`]).
fn stf_packets(stf: &str) -> anyhow::Result<Vec<(u32, Vec<u8>)>> {
    let statements = p4tc_testkit::stf::parse(stf).map_err(|errors| {
        anyhow!(
            "the STF does not parse: {}",
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        )
    })?;
    let packets: Vec<(u32, Vec<u8>)> = statements
        .into_iter()
        .filter_map(|s| match s.kind {
            p4tc_testkit::stf::StatementKind::Packet { port, data } if test_run_takes(&data) => {
                Some((port, data))
            }
            _ => None,
        })
        .collect();
    if packets.is_empty() {
        bail!("the STF sends no packet");
    }
    Ok(packets)
}

/// Whether `BPF_PROG_TEST_RUN` runs a TC program on `frame`: it refuses frames shorter than
/// an Ethernet header, and IPv4 (IPv6) frames too short for a 20-byte (40-byte) header.
fn test_run_takes(frame: &[u8]) -> bool {
    match frame.get(12..14) {
        None => false,
        Some([0x08, 0x00]) => frame.len() >= 14 + 20,
        Some([0x86, 0xdd]) => frame.len() >= 14 + 40,
        Some(_) => true,
    }
}

/// Bytes of a hand-written map element: concatenated native-endian or raw parts.
#[derive(Default)]
struct Bytes(Vec<u8>);

impl Bytes {
    fn u8(mut self, v: u8) -> Self {
        self.0.push(v);
        self
    }
    fn u16(mut self, v: u16) -> Self {
        self.0.extend_from_slice(&v.to_ne_bytes());
        self
    }
    fn u32(mut self, v: u32) -> Self {
        self.0.extend_from_slice(&v.to_ne_bytes());
        self
    }
    fn raw(mut self, v: &[u8]) -> Self {
        self.0.extend_from_slice(v);
        self
    }
    fn zeros(mut self, n: usize) -> Self {
        self.0.extend(std::iter::repeat_n(0, n));
        self
    }
    fn done(self) -> Vec<u8> {
        self.0
    }
}

/// A 48-bit MAC address as an integer (for key matches and action data).
fn mac_u64(m: [u8; 6]) -> u64 {
    m.iter().fold(0, |acc, &b| (acc << 8) | u64::from(b))
}

/// An egress port for entry `i`: ifindexes 2..=9 (any non-zero port redirects, and
/// `BPF_PROG_TEST_RUN` does not check that the device exists).
fn port(i: usize) -> u32 {
    2 + (i % 8) as u32
}
