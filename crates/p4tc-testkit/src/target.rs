//! The seam between the STF runner and a datapath: a [`Target`] takes control statements through
//! the object model and packets through [`Target::send`], so the same STF file runs on the
//! interpreter today and on the kernel datapath (`BPF_PROG_TEST_RUN`) later.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use p4tc_runtime::{ObjectModel, PipelineModel};

/// What came out of one input packet.
///
/// P4TC has three fates for a packet: sent out of a port, passed on to the host's network stack
/// (`TC_ACT_OK`, PNA's "neither sent nor dropped"), or dropped. Only the first produces an
/// output port, so an STF `expect` can only be met by [`Delivery::outputs`]; a packet passed to
/// the host is reported in the runner's trace but never matches nor fails an expectation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Delivery {
    /// The packets sent out, with their ports, in the order the datapath sent them.
    pub outputs: Vec<(u32, Vec<u8>)>,
    /// The packet as passed to the host's stack, when the datapath passed it there.
    pub to_host: Option<Vec<u8>>,
    /// The parser error the pipeline saw, by name (`None` for `NoError`).
    pub parser_error: Option<String>,
}

impl Delivery {
    /// Neither sent anywhere nor passed to the host.
    pub fn is_drop(&self) -> bool {
        self.outputs.is_empty() && self.to_host.is_none()
    }
}

/// A datapath could not take a packet at all (not: it dropped the packet).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetError(pub String);

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TargetError {}

/// A datapath the STF runner (and `p4tc run`) can drive.
pub trait Target {
    /// The pipeline, for resolving table, action, key and counter names.
    fn pipeline(&self) -> Arc<PipelineModel>;

    /// The object model that control statements (`add`, `setdefault`, `check_counter`) go
    /// through: the same state the datapath uses.
    fn control(&mut self) -> &mut dyn ObjectModel;

    /// Runs one packet that arrives on `port` and returns what came out of it.
    fn send(&mut self, port: u32, packet: &[u8]) -> Result<Delivery, TargetError>;

    /// Moves the target's clock forward (STF `wait`, pcap timestamps), running whatever the
    /// passing of time triggers (entry aging).
    fn advance_clock(&mut self, by: Duration);

    /// Why this target's clock cannot be moved, when it cannot (the kernel's: the datapath
    /// reads `bpf_ktime_get_ns`). The STF runner then stops at the first `wait` and says so
    /// ([`crate::stf_run::Report::stopped`]) rather than run what follows on a clock that
    /// did not move.
    fn fixed_clock(&self) -> Option<String> {
        None
    }
}
