//! Cases of group B (owned by helper F2): one module per example, each with its hand-written
//! twin in `handwritten/<example>.c`.
//!
//! Conventions: every packet enters on ifindex 1 (`BPF_PROG_TEST_RUN` runs TC programs on
//! the loopback device), so tables keyed on the input port are filled for port 1 (and, for
//! size, a few other ports); egress ports are 2..=9 (`bpf_redirect` does not check them
//! under a test run). Exact tables are measured at 1, 1,000 and 1,000,000 entries, LPM tables
//! at 1,000 and 100,000 prefixes, ternary tables at 16 and 64 masks (`@nummask` raised to
//! fit), with each packet matching one mask and the masks' priorities in a scrambled order.
//! The twins keep the program's behaviour for every packet the example's STF file sends too
//! (tests/group_b_check.rs), and do the work the harness cannot see (registers, meters,
//! digests, events) as the program does.

use anyhow::Context;
use p4tc_runtime::model::TableModel;
use p4tc_runtime::{EntrySpec, ObjectModel};

use crate::case::{Case, Scale};
use crate::cases::helpers::{action, call, capacity, table};

pub mod ipv6_forwarding;
pub mod l2_redirect;
pub mod lpm_routing;
pub mod mac_learning_digest;
pub mod meters_policer;
pub mod mpls_label_stack;
pub mod register_flow_stats;
pub mod stateful_firewall;
pub mod tc_metadata;
pub mod ternary_acl;
pub mod vlan_tagging;
pub mod vxlan_decap;

/// Every case of this group.
pub fn all() -> Vec<Box<dyn Case>> {
    vec![
        Box::new(ipv6_forwarding::Ipv6Forwarding),
        Box::new(l2_redirect::L2Redirect),
        Box::new(lpm_routing::LpmRouting),
        Box::new(mac_learning_digest::MacLearningDigest),
        Box::new(meters_policer::MetersPolicer),
        Box::new(mpls_label_stack::MplsLabelStack),
        Box::new(register_flow_stats::RegisterFlowStats),
        Box::new(stateful_firewall::StatefulFirewall),
        Box::new(tc_metadata::TcMetadata),
        Box::new(ternary_acl::TernaryAcl),
        Box::new(vlan_tagging::VlanTagging),
        Box::new(vxlan_decap::VxlanDecap),
    ]
}

/// Packets of one measurement at most: enough to spread over a million entries' buckets
/// without holding a million frames.
const MAX_PACKETS: usize = 65_536;

/// The ingress ifindex of every packet: `BPF_PROG_TEST_RUN` runs TC programs on the
/// loopback device (ifindex 1), so tables keyed on the input port are filled for port 1.
const IN_PORT: u32 = 1;

/// The three exact-match populations of issue #8.
fn exact_scales() -> Vec<Scale> {
    vec![
        Scale::new("1 exact", 1),
        Scale::new("1k exact", 1_000),
        Scale::new("1M exact", 1_000_000),
    ]
}

/// Creates `spec` in `table` of the generated program, naming the entry in the error.
fn create(
    ours: &mut dyn ObjectModel,
    table: &TableModel,
    spec: EntrySpec,
    what: impl std::fmt::Display,
) -> anyhow::Result<()> {
    ours.create_entry(table.handle, spec)
        .with_context(|| format!("{} entry {what} (generated program)", table.name))
}

/// The MAC address of host `i` (locally administered, unicast).
fn mac(i: usize) -> [u8; 6] {
    mac_in(0x10, i)
}

/// The MAC address of host `i` of group `group` (locally administered, unicast).
fn mac_in(group: u8, i: usize) -> [u8; 6] {
    [
        0x02,
        group,
        (i >> 24) as u8,
        (i >> 16) as u8,
        (i >> 8) as u8,
        i as u8,
    ]
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

/// Bytes of a hand-written map element: concatenated native-endian/raw parts.
#[derive(Default)]
struct Bytes(Vec<u8>);

impl Bytes {
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

/// `src` with table `table` annotated `@nummask(n)` (replacing its own `@nummask`, if any):
/// the ternary populations need more masks than the examples provision.
fn with_nummask(src: &str, table: &str, n: usize) -> String {
    let is_ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let bytes = src.as_bytes();
    let mut from = 0;
    while let Some(at) = src[from..].find("table") {
        let at = from + at;
        from = at + 5;
        if at > 0 && is_ident(bytes[at - 1]) {
            continue;
        }
        let rest = src[at + 5..].trim_start();
        let Some(after) = rest.strip_prefix(table) else {
            continue;
        };
        if after.bytes().next().is_some_and(is_ident) || !after.trim_start().starts_with('{') {
            continue;
        }
        // The table's annotations: back to the end of the previous declaration.
        let start = src[..at].rfind([';', '}', '{']).map_or(0, |p| p + 1);
        let head = &src[start..at];
        if let Some(a) = head.find("@nummask(") {
            let close = head[a..].find(')').map_or(head.len(), |c| a + c + 1);
            return format!(
                "{}@nummask({n}){}",
                &src[..start + a],
                &src[start + close..]
            );
        }
        return format!("{}@nummask({n}) {}", &src[..at], &src[at..]);
    }
    src.to_string()
}

/// The two ternary populations of issue #8.
fn mask_scales() -> Vec<Scale> {
    vec![Scale::new("16 masks", 16), Scale::new("64 masks", 64)]
}

/// The rank of mask `m` of `masks` in priority order: a permutation, so the winning mask is
/// not always the first one searched (37 is prime to 16 and 64).
fn mask_rank(m: usize, masks: usize) -> usize {
    (m * 37) % masks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nummask_is_added_or_replaced_on_the_named_table_only() {
        let src = "control c() {\n  @tc_acl(\"x\")\n  @nummask(16)\n  table acl { key = {} }\n  table other { key = {} }\n}\n";
        let out = with_nummask(src, "acl", 64);
        assert!(out.contains("@nummask(64)\n  table acl"), "{out}");
        assert!(!out.contains("@nummask(16)"), "{out}");
        let out = with_nummask(src, "other", 64);
        assert!(out.contains("@nummask(64) table other"), "{out}");
        assert!(out.contains("@nummask(16)\n  table acl"), "{out}");
        assert_eq!(with_nummask(src, "nope", 64), src);
    }
}
