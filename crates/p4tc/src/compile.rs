//! `p4tc compile`: check a P4 program and write what the rest of the system needs from it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use p4tc_ir::Diagnostic;

use crate::check::{preprocess_options, run_front_end, SourceArgs};

/// Compile a P4 program for P4TC. Today this writes the introspection JSON (`DIR/NAME.json`,
/// P4TC's schema) that control tools use to manage tables by name; the eBPF datapath and
/// P4Info come with later work.
///
/// The pipeline is named after the file (`simple_l3.p4` makes `simple_l3`), as in P4TC.
#[derive(Args)]
#[command(
    after_help = "Examples:\n  p4tc compile examples/simple_l3/simple_l3.p4 -o out\n  p4tc compile prog.p4 -o out --name my_pipeline"
)]
pub struct CompileArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// Directory to write into (created if missing).
    #[arg(short = 'o', long = "out-dir", value_name = "DIR")]
    out_dir: PathBuf,
    /// Pipeline name (default: the file's name without `.p4`).
    #[arg(long)]
    name: Option<String>,
}

pub fn run(args: CompileArgs) -> anyhow::Result<ExitCode> {
    let options = preprocess_options(&args.source)?;
    let name = match &args.name {
        Some(name) => name.clone(),
        None => pipeline_name(&args.source.file)?,
    };
    let file = args.source.file.clone();
    let result = run_front_end(file, options, move |parsed| {
        let module = p4tc_front::check(parsed)?;
        match p4tc_ir::introspection::introspection(&module, &name) {
            Ok(json) => Some((name, json)),
            Err(e) => {
                parsed
                    .diagnostics
                    .push(Diagnostic::error(e.span(), e.to_string()));
                None
            }
        }
    })?;
    eprint!("{}", result.diagnostics);
    let Some((name, json)) = result.output else {
        return Ok(ExitCode::FAILURE);
    };
    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("cannot create {}", args.out_dir.display()))?;
    let path = args.out_dir.join(format!("{name}.json"));
    let text = json
        .to_json_pretty()
        .context("cannot write the introspection JSON")?;
    std::fs::write(&path, text + "\n")
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(ExitCode::SUCCESS)
}

/// P4TC names a pipeline after its program file.
pub fn pipeline_name(file: &Path) -> anyhow::Result<String> {
    file.file_stem()
        .and_then(|s| s.to_str())
        .map(str::to_string)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "cannot name a pipeline after {}: give --name",
                file.display()
            )
        })
}
