//! `p4tc unload`: detach a pipeline and remove its pins and state.

use std::io::Write as _;
use std::process::ExitCode;

use clap::Args;

use crate::load::teardown;
use crate::state::{self, State};

/// Unload a pipeline: detach it from every interface it is attached to, remove its pins
/// (/sys/fs/bpf/p4tc/PIPELINE/: its tables go with them) and its state (/run/p4tc/).
///
/// Exits 1 when no such pipeline is loaded.
#[derive(Args)]
#[command(after_help = "Examples:\n  p4tc unload simple_l3\n  p4tc show   # what is loaded")]
pub struct UnloadArgs {
    /// The pipeline's name (as `p4tc show` lists it).
    pipeline: String,
}

pub fn run(args: UnloadArgs) -> anyhow::Result<ExitCode> {
    let name = &args.pipeline;
    state::check_name(name)?;
    let state = State::read(name)?;
    if state.is_none() && !state::pin_dir(name).exists() {
        eprintln!("error: no pipeline `{name}` is loaded (`p4tc show` lists them)");
        return Ok(ExitCode::FAILURE);
    }
    let warnings = teardown(name, state.as_ref());
    let _ = std::fs::remove_dir_all(state::build_dir(name));
    for warning in &warnings {
        eprintln!("warning: {warning}");
    }
    writeln!(std::io::stdout(), "{name}: unloaded")?;
    Ok(if warnings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
