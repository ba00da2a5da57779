//! `p4tc serve`: a P4Runtime v1 server (issue #7; being built).

use std::process::ExitCode;

use clap::Args;

/// Serve P4Runtime v1 over gRPC (not built yet).
#[derive(Args)]
pub struct ServeArgs {}

pub fn run(_args: ServeArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("p4tc serve is not built yet (issue #7)")
}
