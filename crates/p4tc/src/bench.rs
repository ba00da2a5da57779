//! `p4tc bench`: a datapath's cost per packet (issue #8; being built).

use std::process::ExitCode;

use clap::Args;

/// Measure a datapath's cost per packet (not built yet).
#[derive(Args)]
pub struct BenchArgs {}

pub fn run(_args: BenchArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("p4tc bench is not built yet (issue #8)")
}
