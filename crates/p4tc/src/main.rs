//! The `p4tc` command: one binary for compiling, running and managing P4 pipelines.

mod check;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

// The compiler allocates many small tree nodes; mimalloc is markedly faster at that than the
// system allocator (see the front-end benchmark).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// P4 programs as Linux TC and XDP datapaths.
#[derive(Parser)]
#[command(name = "p4tc", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Check(check::CheckArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => check::run(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
