//! `p4tc compile`: check a P4 program and write what the rest of the system needs from it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use p4tc_ebpf::Hook;

use crate::check::SourceArgs;
use crate::datapath::{self, BuildInfo, ObjectError};

/// Compile a P4 program for P4TC's eBPF datapath.
///
/// Writes into DIR: `NAME.json` (the introspection JSON, P4TC's schema, that control tools
/// use to manage tables by name), `NAME.c` and `p4tc_runtime.h` (the datapath as readable C),
/// `NAME.o` (clang's BPF object, `-O2 -g -target bpf`, with BTF) and `NAME.p4tc.json` (what
/// `p4tc load DIR` needs to load it).
///
/// For P4Runtime controllers it also writes `NAME.p4info.txtpb` and `NAME.p4info.bin` (the
/// P4Info in text and binary protobuf, ids and names as p4c gives them) and `NAME.p4tc`, the
/// device config a controller sends with `SetForwardingPipelineConfig` (the P4 sources, the
/// options, and the BPF object when clang built it).
///
/// The pipeline is named after the file (`simple_l3.p4` makes `simple_l3`), as in P4TC.
///
/// Exits 1 when the program has errors or clang rejects the C (clang's messages are shown),
/// 2 when clang is missing: the JSON and the C are written all the same, and the message says
/// how to install clang (`apt-get install clang llvm libbpf-dev`); `--no-object` skips clang.
#[derive(Args)]
#[command(
    after_help = "Examples:\n  p4tc compile examples/simple_l3/simple_l3.p4 -o out\n  p4tc compile prog.p4 -o out --hook xdp\n  p4tc compile prog.p4 -o out --name my_pipeline --no-object\n  p4tc load out --dev eth0"
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
    /// Where the datapath will run: TC (ingress or egress) or XDP.
    #[arg(long, value_enum, default_value = "tc")]
    hook: HookArg,
    /// Write the JSON and the C but do not run clang.
    #[arg(long)]
    no_object: bool,
}

/// `--hook`.
#[derive(Clone, Copy, ValueEnum)]
pub enum HookArg {
    /// TC (tcx or clsact), ingress or egress.
    Tc,
    /// XDP (native or generic).
    Xdp,
}

impl HookArg {
    fn hook(self) -> Hook {
        match self {
            HookArg::Tc => Hook::Tc,
            HookArg::Xdp => Hook::Xdp,
        }
    }
}

pub fn run(args: CompileArgs) -> anyhow::Result<ExitCode> {
    let name = match &args.name {
        Some(name) => name.clone(),
        None => pipeline_name(&args.source.file)?,
    };
    let hook = args.hook.hook();
    let front = datapath::front(&args.source, &name, hook)?;
    let dir = &args.out_dir;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    if let Some(json) = &front.json {
        let path = dir.join(format!("{name}.json"));
        std::fs::write(&path, format!("{json}\n"))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    // The P4Info depends only on the checked program, so it is written even when the
    // datapath cannot be generated; a failure is reported and fails the run at the end.
    let p4info_ok = match front.module {
        Some(module) => write_p4info(dir, &name, &args.source, module),
        None => false,
    };
    let Some(generated) = front.generated else {
        return Ok(ExitCode::FAILURE);
    };
    let mut info = BuildInfo {
        pipeline: name.clone(),
        source: std::path::absolute(&args.source.file)
            .with_context(|| format!("cannot resolve {}", args.source.file.display()))?,
        include: args
            .source
            .include
            .iter()
            .map(std::path::absolute)
            .collect::<Result<_, _>>()?,
        define: args.source.define.clone(),
        hook: datapath::hook_name(hook).into(),
        c: format!("{name}.c"),
        object: None,
    };
    let code = if args.no_object {
        generated
            .write_to(dir, &name)
            .with_context(|| format!("cannot write the C into {}", dir.display()))?;
        ExitCode::SUCCESS
    } else {
        match datapath::build_object(dir, &name, &generated)? {
            Ok(_) => {
                info.object = Some(format!("{name}.o"));
                ExitCode::SUCCESS
            }
            Err(ObjectError::Missing(message)) => {
                eprintln!(
                    "error: {message}\nnote: {} and {} were written; --no-object skips clang",
                    dir.join(format!("{name}.json")).display(),
                    dir.join(format!("{name}.c")).display()
                );
                ExitCode::from(2)
            }
            Err(ObjectError::Failed(message)) => {
                eprintln!("error: {message}");
                ExitCode::FAILURE
            }
        }
    };
    let path = BuildInfo::path(dir, &name);
    std::fs::write(&path, serde_json::to_string_pretty(&info)? + "\n")
        .with_context(|| format!("cannot write {}", path.display()))?;
    write_device_config(dir, &args.source, &info)?;
    if !p4info_ok {
        return Ok(ExitCode::FAILURE);
    }
    Ok(code)
}

/// Writes `NAME.p4info.txtpb` and `NAME.p4info.bin`; false (with the reason on stderr) when
/// P4Runtime cannot describe the program.
fn write_p4info(dir: &Path, name: &str, source: &SourceArgs, module: p4tc_ir::ir::Module) -> bool {
    let result = (|| -> anyhow::Result<()> {
        let model = p4tc_runtime::PipelineModel::new(std::sync::Arc::new(module), name)?;
        let p4info = p4tc_p4runtime::p4info::build(&model)?;
        // PacketIn/PacketOut headers (`@controller_header`) are known by annotations on header
        // types, which only the syntax tree keeps: parse once more (on the front-end's big
        // stack, where the tree is also dropped) to add them.
        let module = std::sync::Arc::clone(&model.module);
        let options = crate::check::preprocess_options(source)?;
        let added = crate::check::run_front_end(source.file.clone(), options, move |parsed| {
            let mut p4info = p4info;
            Some(
                p4tc_p4runtime::p4info::add_controller_packet_metadata(
                    &mut p4info,
                    &parsed.program,
                    &module,
                )
                .map(|()| p4info),
            )
        })?;
        let p4info = added
            .output
            .context("the program did not parse a second time")??;
        let text = p4tc_p4runtime::p4info::to_text(&p4info)?;
        for (file, bytes) in [
            (format!("{name}.p4info.txtpb"), text.into_bytes()),
            (
                format!("{name}.p4info.bin"),
                p4tc_p4runtime::p4info::to_binary(&p4info),
            ),
        ] {
            let path = dir.join(file);
            std::fs::write(&path, bytes)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => true,
        Err(e) => {
            eprintln!("error: P4Info: {e:#}");
            false
        }
    }
}

/// Writes `NAME.p4tc`: the sources the front-end read (parsed again here only to list the
/// included files; built-in architecture files are left out), the options, and the object.
fn write_device_config(dir: &Path, source: &SourceArgs, info: &BuildInfo) -> anyhow::Result<()> {
    let options = crate::check::preprocess_options(source)?;
    let listed = crate::check::run_front_end(source.file.clone(), options, |parsed| {
        Some(
            parsed
                .sources
                .files()
                .filter_map(|(_, f)| f.path.clone())
                .collect::<Vec<PathBuf>>(),
        )
    })?;
    let files = listed.output.unwrap_or_default();
    let mut config = p4tc_p4runtime::DeviceConfig::from_files(
        &info.pipeline,
        &info.hook,
        &source.file,
        &files,
        &source.include,
        &source.define,
    )?;
    if let Some(object) = &info.object {
        let path = dir.join(object);
        config.object =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    }
    let path = dir.join(format!("{}.p4tc", info.pipeline));
    std::fs::write(&path, config.encode())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
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
