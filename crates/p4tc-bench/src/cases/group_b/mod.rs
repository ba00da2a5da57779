//! Cases of group B (owned by helper F2): one module per example, each with its hand-written
//! twin in `handwritten/<example>.c`.

use anyhow::{anyhow, Context};
use num_bigint::BigUint;
use p4tc_ir::arena::Handle;
use p4tc_ir::ir;
use p4tc_runtime::model::TableModel;
use p4tc_runtime::{ActionCall, EntrySpec, ObjectModel, PipelineModel};

use crate::case::{Case, Scale};

pub mod ipv6_forwarding;
pub mod l2_redirect;
pub mod lpm_routing;
pub mod mac_learning_digest;
pub mod mpls_label_stack;
pub mod vxlan_decap;

/// Every case of this group.
pub fn all() -> Vec<Box<dyn Case>> {
    vec![
        Box::new(ipv6_forwarding::Ipv6Forwarding),
        Box::new(l2_redirect::L2Redirect),
        Box::new(lpm_routing::LpmRouting),
        Box::new(mac_learning_digest::MacLearningDigest),
        Box::new(mpls_label_stack::MplsLabelStack),
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

/// A table's capacity at `scale`: its declared `declared` entries, or the population when
/// larger (with room for the program's own entries).
fn capacity(scale: &Scale, declared: usize) -> usize {
    if scale.entries < declared {
        declared
    } else {
        scale.entries + 16
    }
}

/// The table named `name`.
fn table<'m>(model: &'m PipelineModel, name: &str) -> anyhow::Result<&'m TableModel> {
    model
        .table_by_name(name)
        .ok_or_else(|| anyhow!("{} has no table {name}", model.name))
}

/// The action named `name` of `table`.
fn action(table: &TableModel, name: &str) -> anyhow::Result<Handle<ir::Action>> {
    Ok(table
        .action_by_name(name)
        .ok_or_else(|| anyhow!("table {} has no action {name}", table.name))?
        .handle)
}

/// `action(params...)`.
fn call(action: Handle<ir::Action>, params: &[u64]) -> ActionCall {
    ActionCall {
        action,
        params: params.iter().map(|&p| BigUint::from(p)).collect(),
    }
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
