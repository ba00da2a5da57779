//! `p4tc test`: run a program's STF test and say whether it passes.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use p4tc_testkit::stf;
use p4tc_testkit::stf_run::{self, hex_rows, Report};

use crate::check::SourceArgs;
use crate::compile::pipeline_name;
use crate::program;

/// Run an STF test (p4c's format) on a P4 program.
///
/// Compiles the program, runs the test's statements in order on the chosen datapath, and
/// prints `PASS (N packets, M expectations)`, or every failure with its STF line (a per-nibble
/// diff for a wrong packet) and then `FAIL`. Exits 0 on pass, 1 on a failure or a program or
/// STF error, 2 when it cannot run (bad arguments, unreadable files).
///
/// Per port, `expect` lines and output packets pair up in order; a packet nobody expects and
/// an expectation nothing meets both fail. Packets passed to the host's stack are not outputs.
/// `wait` advances the clock by one second (entries age).
///
/// `--target kernel` runs the eBPF datapath in the kernel: the program is compiled with clang
/// and loaded (root needed), entries go into its maps, packets through `BPF_PROG_TEST_RUN` at
/// TC (or XDP with `--hook xdp`). The kernel's clock cannot be moved, so such a run stops at
/// the first `wait` and says so; it passes if everything before it did.
#[derive(Args)]
#[command(
    after_help = "Examples:\n  p4tc test examples/simple_l3/simple_l3.p4 examples/simple_l3/simple_l3.stf\n  p4tc test prog.p4 prog.stf -v\n  p4tc test prog.p4 prog.stf --seed 7 -D USE_IPV6\n  p4tc test prog.p4 prog.stf --target kernel --hook xdp"
)]
pub struct TestArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// The STF test file.
    stf: PathBuf,
    /// The datapath to run on.
    #[arg(long, value_enum, default_value = "interp")]
    target: TargetKind,
    /// Where the program runs on the kernel target.
    #[arg(long, value_enum, default_value = "tc")]
    hook: HookKind,
    /// Seed of the program's `Random` externs.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print a trace of every packet: in port and bytes, then where it went.
    #[arg(short, long)]
    verbose: bool,
}

/// The datapaths a test can run on.
#[derive(Clone, Copy, ValueEnum)]
enum TargetKind {
    /// The reference interpreter on the in-memory object model.
    Interp,
    /// The eBPF datapath in the kernel, under BPF_PROG_TEST_RUN (root, clang).
    Kernel,
}

/// The kernel target's hooks.
#[derive(Clone, Copy, ValueEnum)]
enum HookKind {
    /// TC (a `sched_cls` program).
    Tc,
    /// XDP.
    Xdp,
}

/// Why the kernel target cannot run here, if it cannot: loading BPF programs needs root, and
/// the C needs clang with libbpf's headers.
fn kernel_unavailable() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let root = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(2))
        == Some("0");
    if !root {
        return Some(
            "the kernel target loads BPF programs, which needs root: run p4tc test as root (sudo), or use --target interp".into(),
        );
    }
    if !p4tc_ebpf::clang::available() {
        return Some(
            "the kernel target compiles the program with clang, which is missing: apt-get install -y clang llvm libbpf-dev".into(),
        );
    }
    None
}

fn kernel_target(
    module: p4tc_ir::ir::Module,
    name: &str,
    hook: HookKind,
) -> anyhow::Result<Box<dyn p4tc_testkit::target::Target>> {
    let pipeline = std::sync::Arc::new(
        p4tc_runtime::PipelineModel::new(std::sync::Arc::new(module), name)
            .map_err(|e| anyhow::anyhow!("cannot model pipeline {name}: {e}"))?,
    );
    let hook = match hook {
        HookKind::Tc => p4tc_ebpf::Hook::Tc,
        HookKind::Xdp => p4tc_ebpf::Hook::Xdp,
    };
    let target = p4tc_testkit::kernel_target::KernelTarget::new(pipeline, hook)
        .map_err(|e| anyhow::anyhow!("cannot run {name} in the kernel: {e}"))?;
    Ok(Box::new(target))
}

pub fn run(args: TestArgs) -> anyhow::Result<ExitCode> {
    if matches!(args.target, TargetKind::Kernel) {
        if let Some(why) = kernel_unavailable() {
            anyhow::bail!(why);
        }
    }
    let name = pipeline_name(&args.source.file)?;
    let text = std::fs::read_to_string(&args.stf)
        .with_context(|| format!("cannot read {}", args.stf.display()))?;
    // The STF is read before compiling, so a broken test file is reported without waiting.
    let statements = match stf::parse(&text) {
        Ok(statements) => statements,
        Err(errors) => {
            for e in errors {
                eprintln!(
                    "{}:{}:{}: error: {}",
                    args.stf.display(),
                    e.line,
                    e.column,
                    e.message
                );
            }
            return Ok(ExitCode::FAILURE);
        }
    };
    let Some(module) = program::compile(&args.source)? else {
        return Ok(ExitCode::FAILURE);
    };
    let mut target = match args.target {
        TargetKind::Interp => program::interp_target(module, &name, args.seed)?,
        TargetKind::Kernel => kernel_target(module, &name, args.hook)?,
    };
    let report = stf_run::run(&statements, target.as_mut());
    let mut out = std::io::stdout().lock();
    if args.verbose {
        out.write_all(trace(&report).as_bytes())?;
    }
    let stf_name = args.stf.display();
    if let Some((line, why)) = &report.stopped {
        writeln!(out, "{stf_name}:{line}: stopped: {why}")?;
    }
    if report.passed() {
        writeln!(
            out,
            "PASS ({} packets, {} expectations{})",
            report.packets,
            report.expectations,
            match &report.stopped {
                Some((line, _)) => format!("; lines from {line} on not run"),
                None => String::new(),
            }
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    for failure in &report.failures {
        let text = failure.describe();
        write!(out, "{stf_name}:{}: {text}", failure.line)?;
        if !text.ends_with('\n') {
            writeln!(out)?;
        }
    }
    writeln!(
        out,
        "FAIL ({} of {} expectations met, {} failures, {} packets)",
        report.expectations_met,
        report.expectations,
        report.failures.len(),
        report.packets
    )?;
    Ok(ExitCode::FAILURE)
}

/// The `-v` trace: per packet, where it came in and what became of it.
fn trace(report: &Report) -> String {
    let mut s = String::new();
    for t in &report.trace {
        s.push_str(&format!(
            "line {}: packet in port {} ({} bytes)\n",
            t.line,
            t.port,
            t.input.len()
        ));
        s.push_str(&indent(&hex_rows(&t.input)));
        if let Some(error) = &t.parser_error {
            s.push_str(&format!("  parser error: {error}\n"));
        }
        for (port, bytes) in &t.outputs {
            s.push_str(&format!("  -> out port {port} ({} bytes)\n", bytes.len()));
            s.push_str(&indent(&hex_rows(bytes)));
        }
        if let Some(bytes) = &t.to_host {
            s.push_str(&format!(
                "  -> passed to the host stack ({} bytes)\n",
                bytes.len()
            ));
            s.push_str(&indent(&hex_rows(bytes)));
        }
        if t.outputs.is_empty() && t.to_host.is_none() {
            s.push_str("  -> dropped\n");
        }
    }
    s
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("     {l}\n")).collect()
}
