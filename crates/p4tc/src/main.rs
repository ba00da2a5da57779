//! The `p4tc` command: one binary for compiling, running and managing P4 pipelines.
#![expect(
    clippy::print_stderr,
    reason = "the binary is where messages meet the terminal"
)]

mod backend;
mod bench;
mod check;
mod compile;
mod ctl;
mod datapath;
mod entries;
mod load;
mod mon;
mod pcap_in;
mod program;
mod run;
mod serve;
mod show;
mod state;
mod stf_test;
mod unload;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

// The compiler allocates many small tree nodes; mimalloc is markedly faster at that than the
// system allocator (see the front-end benchmark).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// P4 programs as Linux TC and XDP datapaths.
///
/// Exit status: 0 on success, 1 when the program has errors, 2 when p4tc could not do its job
/// (bad arguments, a file it cannot read).
#[derive(Parser)]
#[command(
    name = "p4tc",
    version,
    about,
    after_help = "Examples:\n  p4tc check examples/simple_l3/simple_l3.p4\n  p4tc check prog.p4 --dump=source\n  p4tc compile examples/simple_l3/simple_l3.p4 -o out\n  p4tc test examples/simple_l3/simple_l3.p4 examples/simple_l3/simple_l3.stf\n  p4tc run prog.p4 --entries entries.txt --in in.pcap --out-dir out\n  p4tc load examples/simple_l3/simple_l3.p4 --dev eth0\n  p4tc show\n  p4tc ctl get simple_l3/table/ingress/nh_table\n  p4tc mon simple_l3\n  p4tc unload simple_l3\n  p4tc help check"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Check(check::CheckArgs),
    Compile(compile::CompileArgs),
    Test(stf_test::TestArgs),
    Run(run::RunArgs),
    Load(load::LoadArgs),
    Unload(unload::UnloadArgs),
    Show(show::ShowArgs),
    Ctl(ctl::CtlArgs),
    Mon(mon::MonArgs),
    Serve(serve::ServeArgs),
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => check::run(args),
        Command::Compile(args) => compile::run(args),
        Command::Test(args) => stf_test::run(args),
        Command::Run(args) => run::run(args),
        Command::Load(args) => load::run(args),
        Command::Unload(args) => unload::run(args),
        Command::Show(args) => show::run(args),
        Command::Ctl(args) => ctl::run(args),
        Command::Mon(args) => mon::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Bench(args) => bench::run(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
