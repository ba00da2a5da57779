//! `p4tc load`: compile a program, load it into the kernel, pin it and attach it so that it
//! keeps running after p4tc exits.

use std::io::Write as _;
use std::os::fd::AsFd as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use p4tc_ebpf::backend::KernelBackend;
use p4tc_ebpf::loader::{self, AttachPoint, LoadError};
use p4tc_ebpf::{Generated, MapKind};
use p4tc_runtime::ctl::{self, Output};
use p4tc_runtime::PipelineModel;
use std::time::Duration;

use crate::check::SourceArgs;
use crate::compile::pipeline_name;
use crate::datapath::{self, BuildInfo, ObjectError};
use crate::state::{self, Attachment, State, TableState};

/// Load a P4 program into the kernel as a TC or XDP datapath.
///
/// Compiles PROG.p4 (or takes what `p4tc compile` wrote into DIR), loads it (the verifier's
/// log is shown when it refuses), installs the program's own entries and default actions,
/// pins the program and every map under /sys/fs/bpf/p4tc/PIPELINE/, and attaches it to
/// IFACE: TC ingress (the default) or egress through tcx (clsact before Linux 6.6), or XDP
/// (native, else generic). The attachment is pinned too: it outlives p4tc.
///
/// The pipeline is named after the file (`--name` overrides). Loading a pipeline that is
/// already loaded replaces its program and attachments and keeps its table entries, default
/// actions, registers, meters and counters, unless `--fresh`.
/// Without `--dev` the program is loaded and pinned but not attached. (At XDP, frames
/// redirected into a veth arrive only when the veth's peer runs XDP too: a kernel rule.)
///
/// `--entries FILE` applies `p4tc ctl` commands (one per line, as `p4tc run --entries` takes
/// them; `dev` values may name interfaces, looked up in `--netns`) to the tables before the
/// program is attached.
///
/// What was loaded is recorded in /run/p4tc/PIPELINE.json, for `p4tc show` and `p4tc unload`.
/// Exits 1 when the program has errors or the verifier refuses it, 2 when p4tc cannot do its
/// job (not root, no bpffs, no clang, no such interface).
#[derive(Args)]
#[command(
    after_help = "Examples:\n  p4tc load examples/simple_l3/simple_l3.p4 --dev eth0\n  p4tc load out --dev eth0 --egress        # DIR written by p4tc compile\n  p4tc load prog.p4 --dev veth1 --xdp --netns blue --name edge\n  p4tc load prog.p4 --dev eth0 --fresh      # reload with empty tables\n  p4tc load router.p4 --dev port1 --dev port2   # one pipeline, two ports\n  p4tc load examples/stateful_firewall/stateful_firewall.p4 --dev eth0 --dev eth1 --host-port eth0\n  p4tc load examples/simple_l3/simple_l3.p4 --dev eth0 --entries examples/simple_l3/simple_l3.entries\n  p4tc show\n  p4tc unload simple_l3"
)]
pub struct LoadArgs {
    /// The P4 program, or a directory `p4tc compile` wrote.
    #[arg(value_name = "PROG.p4|DIR")]
    source: PathBuf,
    /// Search DIR for `#include <...>` files (after the built-in ones); may repeat.
    #[arg(short = 'I', value_name = "DIR")]
    include: Vec<PathBuf>,
    /// Define a preprocessor macro (`NAME` means `NAME=1`); may repeat.
    #[arg(short = 'D', value_name = "NAME[=VALUE]")]
    define: Vec<String>,
    /// The interface to attach to; may repeat (one program and one set of tables on every
    /// one, as a router's ports). None: load and pin only.
    #[arg(long, value_name = "IFACE")]
    dev: Vec<String>,
    /// Attach at TC ingress (the default, unless DIR was compiled with `--hook xdp`).
    #[arg(long, conflicts_with_all = ["egress", "xdp"])]
    ingress: bool,
    /// Attach at TC egress.
    #[arg(long, conflicts_with = "xdp")]
    egress: bool,
    /// Attach at XDP (the program is generated for XDP).
    #[arg(long)]
    xdp: bool,
    /// The network namespace IFACE is in (`ip netns` name); the pins stay on the host's bpffs.
    #[arg(long, value_name = "NAME", requires = "dev")]
    netns: Option<String>,
    /// The pipeline's name (default: the program file's name without `.p4`).
    #[arg(long)]
    name: Option<String>,
    /// Start with empty tables even when the pipeline is already loaded.
    #[arg(long)]
    fresh: bool,
    /// An interface whose packets PNA's `is_host_port` calls host-side (the host port of a
    /// firewall, say); may repeat. Looked up in `--netns`.
    #[arg(long = "host-port", value_name = "IFACE")]
    host_port: Vec<String>,
    /// Apply these `p4tc ctl` commands (create entries, set defaults) before attaching.
    #[arg(long, value_name = "FILE")]
    entries: Option<PathBuf>,
}

pub fn run(args: LoadArgs) -> anyhow::Result<ExitCode> {
    // Where the program comes from: a .p4 file, or a directory `p4tc compile` wrote.
    let (source, built, default_name) = if args.source.is_dir() {
        if !args.include.is_empty() || !args.define.is_empty() {
            anyhow::bail!(
                "-I and -D go with a .p4 file: {} holds the ones `p4tc compile` was given",
                args.source.display()
            );
        }
        let info = BuildInfo::find(&args.source)?;
        let source = SourceArgs {
            file: info.source.clone(),
            include: info.include.clone(),
            define: info.define.clone(),
        };
        let name = info.pipeline.clone();
        (source, Some((args.source.clone(), info)), name)
    } else {
        let source = SourceArgs {
            file: args.source.clone(),
            include: args.include.clone(),
            define: args.define.clone(),
        };
        let name = pipeline_name(&args.source)?;
        (source, None, name)
    };
    // Where it runs: as asked; else where DIR's object was compiled for (XDP or TC
    // ingress); else TC ingress.
    let compiled_for_xdp = built.as_ref().is_some_and(|(_, info)| info.hook == "xdp");
    let point = if args.xdp || (compiled_for_xdp && !args.ingress && !args.egress) {
        AttachPoint::Xdp
    } else if args.egress {
        AttachPoint::TcEgress
    } else {
        AttachPoint::TcIngress
    };
    let hook = point.hook();
    let name = args.name.clone().unwrap_or(default_name);
    state::check_name(&name)?;
    if let Some(missing) = state::missing_capabilities() {
        anyhow::bail!("loading and attaching BPF programs needs {missing}: run p4tc load as root");
    }
    if !state::on_bpffs(&state::pin_root()) {
        anyhow::bail!(
            "{} is not on a bpffs mount, so pinned tables would not outlive p4tc: mount it with `mount -t bpf bpf /sys/fs/bpf` (as root)",
            state::pin_root().display()
        );
    }
    let netns = args.netns.as_deref().map(state::netns_path);
    if let Some(path) = &netns {
        if !path.exists() {
            anyhow::bail!(
                "no network namespace `{}` ({} is missing; `ip netns list` shows them)",
                args.netns.as_deref().unwrap_or_default(),
                path.display()
            );
        }
    }

    let front = datapath::front(&source, &name, hook)?;
    let (Some(generated), Some(module)) = (front.generated, front.module) else {
        return Ok(ExitCode::FAILURE);
    };
    let module = std::sync::Arc::new(module);
    let model = std::sync::Arc::new(
        PipelineModel::new(std::sync::Arc::clone(&module), &name)
            .map_err(|e| anyhow::anyhow!("cannot model pipeline {name}: {e}"))?,
    );
    // Host ports are looked up before anything is loaded: a typo costs nothing.
    let mut host_ports = Vec::new();
    for dev in &args.host_port {
        let index = ifindex(args.netns.as_deref(), dev).with_context(|| {
            let ns = args
                .netns
                .as_deref()
                .map(|n| format!(" in netns {n}"))
                .unwrap_or_default();
            format!("--host-port {dev}: no such interface{ns}")
        })?;
        host_ports.push((dev.as_str(), index));
    }
    // The entries file is parsed before anything is loaded: a typo costs nothing.
    let commands = match &args.entries {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let netns = args.netns.clone();
            let resolve = move |dev: &str| ifindex(netns.as_deref(), dev);
            match ctl::parse_file(&text, &model, &resolve) {
                Ok(commands) => commands,
                Err(errors) => {
                    for e in errors {
                        eprintln!("error: {}: {e}", path.display());
                    }
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
        None => Vec::new(),
    };
    let object = match object_for(&name, &generated, built.as_ref())? {
        Ok(path) => path,
        Err(ObjectError::Missing(message)) => anyhow::bail!("{message}"),
        Err(ObjectError::Failed(message)) => {
            eprintln!("error: {message}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let bytes =
        std::fs::read(&object).with_context(|| format!("cannot read {}", object.display()))?;
    let mut loaded = match loader::load(&bytes, &generated) {
        Ok(loaded) => loaded,
        Err(e @ LoadError::Verifier { .. }) => {
            eprintln!("error: {name}: {e}");
            // The log quotes the C (`; ... @ NAME.c:LINE`, from the object's BTF line info).
            eprintln!(
                "note: the C the log quotes is {}",
                object.with_extension("c").display()
            );
            return Ok(ExitCode::FAILURE);
        }
        Err(e) => {
            return Err(e)
                .with_context(|| format!("cannot load {name} (loading BPF programs needs root)"))
        }
    };

    let mut out = std::io::stdout().lock();
    let pin_dir = state::pin_dir(&name);
    let old = State::read(&name)?;
    if !args.fresh && pin_dir.is_dir() {
        // Read the old maps while they are still pinned and in use.
        let copied = loaded
            .restore(&pin_dir)
            .map_err(|e| anyhow::anyhow!("{name}: keeping the loaded pipeline's entries: {e}"))?;
        // Report the tables' entries; default actions and the like come along silently.
        let entries: usize = copied
            .iter()
            .filter(|(map, _)| generated.tables.iter().any(|t| &t.map == map))
            .map(|(_, n)| n)
            .sum();
        writeln!(
            out,
            "{name}: kept {entries} table entries of the loaded pipeline (--fresh starts empty)"
        )?;
    }
    if old.is_some() || pin_dir.exists() {
        for warning in teardown(&name, old.as_ref()) {
            eprintln!("warning: {warning}");
        }
    }

    loaded
        .pin_maps(&pin_dir)
        .with_context(|| format!("cannot pin {name}'s maps"))?;
    let program_pin = pin_dir.join(format!("prog-{}", generated.program));
    loaded
        .pin_program(&program_pin)
        .with_context(|| format!("cannot pin {name}'s program"))?;
    let mut state = State {
        pipeline: name.clone(),
        source: std::path::absolute(&source.file).unwrap_or(source.file.clone()),
        include: source
            .include
            .iter()
            .map(|d| std::path::absolute(d).unwrap_or(d.clone()))
            .collect(),
        define: source.define.clone(),
        hook: datapath::hook_name(hook).into(),
        object: object.clone(),
        loaded_at: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        program: generated.program.clone(),
        program_pin,
        attachments: Vec::new(),
        tables: tables(&generated),
    };
    writeln!(
        out,
        "{name}: loaded ({}), pinned at {}",
        state.hook,
        pin_dir.display()
    )?;
    if !host_ports.is_empty() {
        mark_host_ports(&name, &pin_dir, &host_ports, &mut out)?;
    }
    if let Some(path) = &args.entries {
        // The tables are pinned already: on a refused command the pipeline stays loaded
        // (not attached) with the commands before it applied.
        state.write()?;
        let mut backend = KernelBackend::from_loaded(std::sync::Arc::clone(&model), &loaded)
            .map_err(|e| anyhow::anyhow!("{name}: opening the tables: {e}"))?;
        let now = Duration::from_nanos(p4tc_ebpf::sys::monotonic_ns());
        for command in &commands {
            let at = command.at;
            let failed = match ctl::execute(&mut backend, &model, command, now) {
                Ok(Output::Batch { failures, .. }) if !failures.is_empty() => failures
                    .iter()
                    .map(|f| format!("entry {} ({}): {}", f.index, f.key, f.error))
                    .collect(),
                Ok(_) => Vec::new(),
                Err(e) => vec![e.to_string()],
            };
            if !failed.is_empty() {
                for f in failed {
                    eprintln!("error: {}: {at}: {f}", path.display());
                }
                eprintln!(
                    "note: {name} is loaded with the commands before this one applied, not attached"
                );
                return Ok(ExitCode::FAILURE);
            }
        }
        writeln!(
            out,
            "{name}: applied {} commands of {}",
            commands.len(),
            path.display()
        )?;
    }
    let mut seen = std::collections::HashSet::new();
    let devs: Vec<&String> = args.dev.iter().filter(|d| seen.insert(*d)).collect();
    for dev in devs {
        let link_pin = pin_dir.join(link_pin_name(args.netns.as_deref(), dev, point));
        // Recorded before each attach, so that a failure leaves what `p4tc unload` must
        // undo, and tables that `p4tc load` can keep on the next try.
        state.write()?;
        let mode = loaded
            .attach_persistent(dev, point, netns.as_deref(), &link_pin)
            .with_context(|| format!("cannot attach {name} to {dev}"))?;
        state.attachments.push(Attachment {
            iface: dev.clone(),
            point: point.name().into(),
            mode: mode.name().into(),
            netns: args.netns.clone(),
            link_pin: mode.has_link().then_some(link_pin),
        });
        let ns = args
            .netns
            .as_deref()
            .map(|n| format!(" (netns {n})"))
            .unwrap_or_default();
        writeln!(
            out,
            "{name}: attached at {} of {dev}{ns} via {}",
            point.name(),
            mode.name()
        )?;
    }
    state.write()?;
    Ok(ExitCode::SUCCESS)
}

/// The object to load: DIR's when `p4tc compile` built it from the same C, else one built
/// now in the pipeline's build directory.
fn object_for(
    name: &str,
    generated: &Generated,
    built: Option<&(PathBuf, BuildInfo)>,
) -> anyhow::Result<Result<PathBuf, ObjectError>> {
    if let Some((dir, info)) = built {
        let c = std::fs::read_to_string(dir.join(&info.c)).unwrap_or_default();
        if let Some(object) = &info.object {
            if c == generated.c && dir.join(object).exists() {
                return Ok(Ok(dir.join(object)));
            }
        }
    }
    let dir = state::build_dir(name);
    datapath::build_object(&dir, name, generated)
}

/// The pin of the link attaching at `point` of `iface` in `netns`.
fn link_pin_name(netns: Option<&str>, iface: &str, point: AttachPoint) -> String {
    format!("link-{}-{iface}-{}", netns.unwrap_or("host"), point.name())
}

/// The tables as the state file records them.
fn tables(generated: &Generated) -> Vec<TableState> {
    generated
        .tables
        .iter()
        .map(|t| {
            let spec = generated.map(&t.map);
            let kind = if t.masks_map.is_some() {
                "ternary"
            } else if spec.is_some_and(|m| m.kind == MapKind::LpmTrie) {
                "lpm"
            } else {
                "exact"
            };
            TableState {
                name: t.name.clone(),
                kind: kind.into(),
                map: t.map.clone(),
                size: t.size,
            }
        })
        .collect()
}

/// Detaches everything `state` (and the pin directory) says is attached and removes the
/// pins and the state file. Returns what could not be undone.
pub fn teardown(pipeline: &str, state: Option<&State>) -> Vec<String> {
    let mut warnings = Vec::new();
    let pin_dir = state::pin_dir(pipeline);
    let mut detached = Vec::new();
    for a in state.map(|s| s.attachments.as_slice()).unwrap_or_default() {
        let point = AttachPoint::from_name(&a.point).unwrap_or(AttachPoint::TcIngress);
        let result = match &a.link_pin {
            Some(pin) => {
                detached.push(pin.clone());
                if pin.exists() {
                    loader::detach_pinned_link(pin)
                } else {
                    Ok(())
                }
            }
            None => {
                let netns = a.netns.as_deref().map(state::netns_path);
                let program = state.map_or("p4tc_main", |s| s.program.as_str());
                loader::detach_clsact(&a.iface, point, netns.as_deref(), program)
            }
        };
        if let Err(e) = result {
            warnings.push(format!("{pipeline}: detaching from {}: {e}", a.iface));
        }
    }
    // Links pinned without a state file to name them (the state file was lost).
    if let Ok(dir) = std::fs::read_dir(&pin_dir) {
        for entry in dir.flatten() {
            let path = entry.path();
            let is_link = entry.file_name().to_string_lossy().starts_with("link-");
            if is_link && !detached.contains(&path) {
                if let Err(e) = loader::detach_pinned_link(&path) {
                    warnings.push(format!("{pipeline}: {e}"));
                }
            }
        }
    }
    if pin_dir.exists() {
        if let Err(e) = std::fs::remove_dir_all(&pin_dir) {
            warnings.push(format!("{pipeline}: removing {}: {e}", pin_dir.display()));
        }
    }
    let _ = std::fs::remove_file(state::state_file(pipeline));
    warnings
}

/// Entries of the table map pinned at `path` (by walking its keys, or an open table's slots).
pub fn count_pinned(path: &Path) -> Result<usize, String> {
    let fd = loader::open_pinned_map(path).map_err(|e| e.to_string())?;
    p4tc_ebpf::table_map::count(fd.as_fd()).map_err(|e| format!("{}: {e}", path.display()))
}

/// Writes `--host-port` interfaces into the pinned `p4tc_host_ports` map (ifindex to 1), the
/// set the generated `is_host_port` consults. Entries of an earlier load stay (a reload keeps
/// its maps); a program that never asks `is_host_port` has no such map, and is told so.
fn mark_host_ports(
    name: &str,
    pin_dir: &Path,
    ports: &[(&str, u32)],
    out: &mut impl std::io::Write,
) -> anyhow::Result<()> {
    let path = pin_dir.join("p4tc_host_ports");
    if !path.exists() {
        writeln!(
            out,
            "{name}: note: the program never calls is_host_port; --host-port changes nothing"
        )?;
        return Ok(());
    }
    let map = loader::open_pinned_map(&path)
        .map_err(|e| anyhow::anyhow!("{name}: opening {}: {e}", path.display()))?;
    for (dev, index) in ports {
        p4tc_ebpf::sys::map_update(
            map.as_fd(),
            &index.to_ne_bytes(),
            &1u32.to_ne_bytes(),
            p4tc_ebpf::sys::BPF_ANY,
        )
        .with_context(|| format!("{name}: marking {dev} a host port"))?;
        writeln!(out, "{name}: {dev} (ifindex {index}) is a host port")?;
    }
    Ok(())
}

/// The index of interface `dev` in `netns` (the host's when `None`), for `dev` values of
/// `--entries`: asked of `ip`, which enters the namespace for us.
pub fn ifindex(netns: Option<&str>, dev: &str) -> Option<u32> {
    let mut cmd = std::process::Command::new("ip");
    if let Some(ns) = netns {
        cmd.args(["-n", ns]);
    }
    let out = cmd.args(["-o", "link", "show", "dev", dev]).output().ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8_lossy(&out.stdout)
        .split(':')
        .next()?
        .trim()
        .parse()
        .ok()
}
