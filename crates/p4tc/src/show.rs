//! `p4tc show`: what is loaded, read from the pins and the state files alone.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;

use crate::load::count_pinned;
use crate::state::{self, State};

/// Show loaded pipelines: the program, where it is attached (interface, hook, network
/// namespace, how), and each table with its entry count and size.
///
/// Reads only the pins (/sys/fs/bpf/p4tc/) and the state files (/run/p4tc/), so it works in
/// any process after `p4tc load` has exited. Entry counts walk the tables' maps (a ternary
/// table counts its tuple-space elements: a range entry may take several). Exits 1 when the
/// named pipeline is not loaded.
#[derive(Args)]
#[command(
    after_help = "Examples:\n  p4tc show\n  p4tc show simple_l3\n  p4tc show simple_l3 -j | jq '.[0].tables'"
)]
pub struct ShowArgs {
    /// Only this pipeline.
    pipeline: Option<String>,
    /// Print JSON (an array of pipelines).
    #[arg(short = 'j', long)]
    json: bool,
}

#[derive(Serialize)]
struct Shown {
    pipeline: String,
    /// False when only pins were found (the state file is gone).
    has_state: bool,
    source: Option<PathBuf>,
    hook: Option<String>,
    loaded_at: Option<u64>,
    pin_dir: PathBuf,
    program: Option<ShownProgram>,
    attachments: Vec<ShownAttachment>,
    tables: Vec<ShownTable>,
}

#[derive(Serialize)]
struct ShownProgram {
    name: String,
    pin: PathBuf,
    pinned: bool,
}

#[derive(Serialize)]
struct ShownAttachment {
    iface: String,
    point: String,
    mode: String,
    netns: Option<String>,
    link_pin: Option<PathBuf>,
    /// The link's pin is there (a clsact filter has none: `None`).
    link_pinned: Option<bool>,
}

#[derive(Serialize)]
struct ShownTable {
    name: String,
    kind: String,
    map: String,
    entries: Option<usize>,
    size: u32,
    error: Option<String>,
}

fn shown(name: &str, state: Option<State>) -> Shown {
    let pin_dir = state::pin_dir(name);
    let Some(state) = state else {
        return Shown {
            pipeline: name.into(),
            has_state: false,
            source: None,
            hook: None,
            loaded_at: None,
            pin_dir,
            program: None,
            attachments: Vec::new(),
            tables: Vec::new(),
        };
    };
    let tables = state
        .tables
        .iter()
        .map(|t| {
            let counted = count_pinned(&pin_dir.join(&t.map));
            ShownTable {
                name: t.name.clone(),
                kind: t.kind.clone(),
                map: t.map.clone(),
                entries: counted.as_ref().ok().copied(),
                size: t.size,
                error: counted.err(),
            }
        })
        .collect();
    Shown {
        pipeline: name.into(),
        has_state: true,
        source: Some(state.source.clone()),
        hook: Some(state.hook.clone()),
        loaded_at: Some(state.loaded_at),
        program: Some(ShownProgram {
            name: state.program.clone(),
            pinned: state.program_pin.exists(),
            pin: state.program_pin.clone(),
        }),
        attachments: state
            .attachments
            .iter()
            .map(|a| ShownAttachment {
                iface: a.iface.clone(),
                point: a.point.clone(),
                mode: a.mode.clone(),
                netns: a.netns.clone(),
                link_pinned: a.link_pin.as_ref().map(|p| p.exists()),
                link_pin: a.link_pin.clone(),
            })
            .collect(),
        tables,
        pin_dir,
    }
}

pub fn run(args: ShowArgs) -> anyhow::Result<ExitCode> {
    let names = match &args.pipeline {
        Some(name) => {
            state::check_name(name)?;
            if State::read(name)?.is_none() && !state::pin_dir(name).exists() {
                eprintln!("error: no pipeline `{name}` is loaded");
                return Ok(ExitCode::FAILURE);
            }
            vec![name.clone()]
        }
        None => state::pipelines(),
    };
    let mut all = Vec::new();
    for name in &names {
        all.push(shown(name, State::read(name)?));
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&all)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    if all.is_empty() {
        writeln!(out, "no pipelines loaded")?;
    }
    for p in &all {
        write_text(&mut out, p)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn write_text(out: &mut impl std::io::Write, p: &Shown) -> std::io::Result<()> {
    writeln!(out, "pipeline {}", p.pipeline)?;
    if !p.has_state {
        writeln!(
            out,
            "  (no state file in {}: pins only, at {}; `p4tc unload {}` removes them)",
            state::state_root().display(),
            p.pin_dir.display(),
            p.pipeline
        )?;
        return Ok(());
    }
    if let (Some(source), Some(hook)) = (&p.source, &p.hook) {
        writeln!(out, "  source  {} ({hook})", source.display())?;
    }
    writeln!(out, "  pins    {}", p.pin_dir.display())?;
    if let Some(prog) = &p.program {
        let missing = if prog.pinned { "" } else { " (pin missing)" };
        writeln!(out, "  program {}{missing}", prog.name)?;
    }
    if p.attachments.is_empty() {
        writeln!(out, "  not attached")?;
    }
    for a in &p.attachments {
        let ns = a
            .netns
            .as_deref()
            .map(|n| format!(" netns {n}"))
            .unwrap_or_default();
        let link = match a.link_pinned {
            Some(false) => " (link pin missing: detached?)",
            _ => "",
        };
        writeln!(
            out,
            "  attached {} {}{ns} via {}{link}",
            a.iface, a.point, a.mode
        )?;
    }
    for t in &p.tables {
        match (t.entries, &t.error) {
            (Some(n), _) => writeln!(
                out,
                "  table   {} {}: {n} of {} entries",
                t.name, t.kind, t.size
            )?,
            (None, error) => writeln!(
                out,
                "  table   {} {}: cannot count ({})",
                t.name,
                t.kind,
                error.as_deref().unwrap_or("?")
            )?,
        }
    }
    Ok(())
}
