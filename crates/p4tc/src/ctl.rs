//! `p4tc ctl`: P4TC's command language on a pipeline `p4tc load` left in the kernel.
//!
//! The pipeline is found by name: its state file says what it was built from, the
//! description of its datapath (map names and layouts) is generated again from that (the
//! generation is deterministic), and the object model works on the pinned maps
//! ([`KernelBackend::open_pinned`]).

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use p4tc_ebpf::backend::KernelBackend;
use p4tc_ebpf::{Generated, Hook};
use p4tc_runtime::ctl::{self, Output};
use p4tc_runtime::PipelineModel;

use crate::check::SourceArgs;
use crate::datapath;
use crate::state::{self, State};

/// Read and change a loaded pipeline's tables, default actions, timer profiles and externs
/// with P4TC's command language (`tc p4ctrl`).
///
/// COMMAND is `create|update|delete|get PIPE/table/CONTROL/TABLE [KEY VALUE]... [prio N]
/// [action A [param NAME VALUE]...] [permissions 0xHHHH] [dynamic] [aging MS|profile_id N]`;
/// several entries in one command with `entry ... entry ...`; `get` without a key dumps the
/// table, `delete` without a key flushes it, `filter EXPR` selects entries; `update ...
/// default_miss_action action A`; `get|update PIPE/timer_profile[/N] [aging MS]`;
/// `get|update|reset PIPE/extern/KIND/INSTANCE [tc_key index N] [param NAME VALUE]...`.
/// `p4tc ctl PIPE help` describes the pipeline's tables, actions and externs.
///
/// `dev` values may name interfaces: they are looked up in the network namespace the
/// pipeline is attached in.
///
/// Exit status: 0 on success; 1 when the pipeline refuses (the entry exists, the table is
/// full, permission denied; in a batch or a file, when any entry is refused: the others are
/// applied); 2 for a command that does not parse or an unknown pipeline.
#[derive(Args)]
#[command(
    after_help = "Examples:\n  p4tc ctl simple_l3 help\n  p4tc ctl create simple_l3/table/ingress/nh_table dstAddr 10.0.2.2 action send_nh param port eth1 param srcMac 00:01:02:03:04:05 param dstMac aa:bb:cc:dd:ee:02\n  p4tc ctl get simple_l3/table/ingress/nh_table dstAddr 10.0.2.2\n  p4tc ctl -j get simple_l3/table/ingress/nh_table              # dump, as JSON\n  p4tc ctl get simple_l3/table/ingress/nh_table filter 'param.port == 2'\n  p4tc ctl delete simple_l3/table/ingress/nh_table              # flush\n  p4tc ctl update simple_l3/table/ingress/nh_table default_miss_action action drop\n  p4tc ctl update simple_l3/timer_profile/0 aging 5000\n  p4tc ctl -b entries.txt simple_l3                          # one command a line"
)]
pub struct CtlArgs {
    /// Print JSON.
    #[arg(short = 'j', long)]
    json: bool,
    /// Apply the commands of FILE (one a line; `PIPE/` may be left out of paths when PIPE is
    /// given as the only word). Consecutive creates on one table are written in batches,
    /// many entries per system call; each entry still succeeds or fails on its own, and
    /// failures are reported with their line.
    #[arg(short = 'b', long = "batch", value_name = "FILE")]
    file: Option<PathBuf>,
    /// The command (or, with -b, the pipeline).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    words: Vec<String>,
}

/// A loaded pipeline, opened for the control plane.
pub struct Opened {
    /// What `p4tc load` recorded.
    pub state: State,
    /// The pipeline's model.
    pub model: Arc<PipelineModel>,
    /// Its datapath's description.
    pub generated: Generated,
    /// The object model over its pinned maps.
    pub backend: KernelBackend,
}

impl Opened {
    /// The network namespace the pipeline is attached in (the first attachment's).
    pub fn netns(&self) -> Option<String> {
        self.state.attachments.iter().find_map(|a| a.netns.clone())
    }
}

/// Opens the loaded pipeline `name`: errors are p4tc's (exit 2).
pub fn open(name: &str) -> anyhow::Result<Opened> {
    state::check_name(name)?;
    let Some(state) = State::read(name)? else {
        anyhow::bail!(
            "no pipeline `{name}` is loaded (no {}; `p4tc show` lists the loaded ones)",
            state::state_file(name).display()
        );
    };
    let pin_dir = state::pin_dir(name);
    if !pin_dir.is_dir() {
        anyhow::bail!(
            "pipeline `{name}` has a state file but no pins at {} (load it again)",
            pin_dir.display()
        );
    }
    let hook = if state.hook == "xdp" {
        Hook::Xdp
    } else {
        Hook::Tc
    };
    let source = SourceArgs {
        file: state.source.clone(),
        include: state.include.clone(),
        define: state.define.clone(),
    };
    let front = datapath::front(&source, name, hook).with_context(|| {
        format!(
            "rebuilding pipeline `{name}` from {}",
            source.file.display()
        )
    })?;
    let (Some(generated), Some(module)) = (front.generated, front.module) else {
        anyhow::bail!(
            "pipeline `{name}`: {} no longer compiles (it changed since `p4tc load`)",
            source.file.display()
        );
    };
    let model = Arc::new(
        PipelineModel::new(Arc::new(module), name)
            .map_err(|e| anyhow::anyhow!("cannot model pipeline {name}: {e}"))?,
    );
    let backend = KernelBackend::open_pinned(Arc::clone(&model), generated.clone(), &pin_dir)
        .map_err(|e| anyhow::anyhow!("pipeline `{name}`: opening its pinned maps: {e}"))?;
    Ok(Opened {
        state,
        model,
        generated,
        backend,
    })
}

fn now() -> Duration {
    Duration::from_nanos(p4tc_ebpf::sys::monotonic_ns())
}

fn print_output(out: &mut impl std::io::Write, output: &Output) -> std::io::Result<()> {
    let text = output.to_string();
    if text.ends_with('\n') || text.is_empty() {
        write!(out, "{text}")
    } else {
        writeln!(out, "{text}")
    }
}

pub fn run(args: CtlArgs) -> anyhow::Result<ExitCode> {
    let mut json = args.json;
    let words: Vec<String> = args
        .words
        .into_iter()
        .filter(|w| {
            let flag = w == "-j" || w == "--json";
            json |= flag;
            !flag
        })
        .collect();
    if let Some(path) = &args.file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let name = match words.as_slice() {
            [name] => name.clone(),
            [] => text
                .split_whitespace()
                .filter_map(ctl::pipeline_of)
                .find(|p| p.contains(|c: char| c.is_ascii_alphanumeric()) && !p.contains('.'))
                .map(str::to_string)
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "{} names no pipeline: give it (p4tc ctl -b {} PIPE)",
                        path.display(),
                        path.display()
                    )
                })?,
            _ => {
                anyhow::bail!("with -b FILE, give only the pipeline's name (p4tc ctl -b FILE PIPE)")
            }
        };
        return run_file(&name, path, &text, json);
    }
    let (name, help) = match words.as_slice() {
        [] => anyhow::bail!("give a command (p4tc ctl --help shows them)"),
        [pipe, help] if help == "help" => (pipe.clone(), true),
        [help, pipe] if help == "help" => (pipe.clone(), true),
        [verb] => anyhow::bail!("`{verb}` needs a path (PIPE/table/CONTROL/TABLE, PIPE/extern/KIND/INSTANCE or PIPE/timer_profile)"),
        [_, path, ..] => match ctl::pipeline_of(path) {
            Some(name) => (name.to_string(), false),
            None => anyhow::bail!(
                "`{path}` names no pipeline: write PIPE/{path}"
            ),
        },
    };
    let mut opened = open(&name)?;
    let mut out = std::io::stdout().lock();
    if help {
        if json {
            let output = Output::Help {
                text: ctl::describe(&opened.model),
            };
            writeln!(out, "{}", serde_json::to_string_pretty(&output.to_json())?)?;
        } else {
            write!(out, "{}", ctl::describe(&opened.model))?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let netns = opened.netns();
    let resolve = move |dev: &str| crate::load::ifindex(netns.as_deref(), dev);
    let command = match ctl::parse_args(&words, &opened.model, &resolve) {
        Ok(command) => command,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let model = Arc::clone(&opened.model);
    match ctl::execute(&mut opened.backend, &model, &command, now()) {
        Ok(output) => {
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&output.to_json())?)?;
            } else {
                print_output(&mut out, &output)?;
            }
            Ok(if output.has_failures() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn run_file(
    name: &str,
    path: &std::path::Path,
    text: &str,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let mut opened = open(name)?;
    let netns = opened.netns();
    let resolve = move |dev: &str| crate::load::ifindex(netns.as_deref(), dev);
    let model = Arc::clone(&opened.model);
    let commands = match ctl::parse_file(text, &model, &resolve) {
        Ok(commands) => commands,
        Err(errors) => {
            for e in errors {
                eprintln!("error: {}: {e}", path.display());
            }
            return Ok(ExitCode::from(2));
        }
    };
    let progress = std::io::stderr().is_terminal() && commands.len() > 1;
    let total = commands.len();
    let mut last_shown = std::time::Instant::now();
    // Runs of creates on one table go to the kernel in batches (many entries per system
    // call); the bar moves after each run (at most a million entries) or other command.
    let mut show = |done: usize| {
        if progress && (last_shown.elapsed() >= Duration::from_millis(100) || done == total) {
            last_shown = std::time::Instant::now();
            let width = 40;
            let filled = done * width / total;
            eprint!(
                "\r[{}{}] {done}/{total}",
                "#".repeat(filled),
                " ".repeat(width - filled)
            );
            if done == total {
                eprintln!();
            }
        }
    };
    // Text output prints no `Done` messages: quiet, the bulk path gives none for the single
    // creates that succeed (a million results would only fill memory).
    let results = ctl::execute_all_owned(
        &mut opened.backend,
        &model,
        commands,
        now(),
        !json,
        &mut show,
    );
    let mut outputs = Vec::with_capacity(total);
    let mut errors = 0usize;
    for (at, result) in results {
        match result {
            Ok(output) => {
                if let Output::Batch { failures, .. } = &output {
                    for f in failures {
                        errors += 1;
                        eprintln!(
                            "error: {}: {}: entry {} ({}): {}",
                            path.display(),
                            at,
                            f.index,
                            f.key,
                            f.error
                        );
                    }
                }
                outputs.push(output);
            }
            Err(e) => {
                errors += 1;
                eprintln!("error: {}: {}: {e}", path.display(), at);
            }
        }
    }
    let lost = opened.backend.lost_events();
    if lost > 0 {
        eprintln!(
            "note: {lost} events of these changes were lost: the pipeline's events ring was full (nobody read it fast enough)"
        );
    }
    let mut out = std::io::stdout().lock();
    if json {
        let all: Vec<_> = outputs.iter().map(Output::to_json).collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&all)?)?;
    } else {
        for output in &outputs {
            if !matches!(output, Output::Done { .. }) {
                print_output(&mut out, output)?;
            }
        }
        writeln!(
            out,
            "{name}: ran {total} commands of {} ({errors} refused)",
            path.display()
        )?;
    }
    Ok(if errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
