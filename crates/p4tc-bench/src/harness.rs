//! The side-by-side harness: builds our program and the hand-written one for a case at a
//! scale, fills both alike, checks that they behave the same, then times both under
//! `BPF_PROG_TEST_RUN`, alternating, and reports medians and their ratio.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{anyhow, bail, Context};
use p4tc_ebpf::backend::KernelBackend;
use p4tc_ebpf::loader::Loaded;
use p4tc_ebpf::{sys, Generated, Hook};
use p4tc_ir::ir::Module;
use p4tc_runtime::PipelineModel;
use serde::Serialize;

use crate::case::{Case, HandProgram, Scale};

/// The front-end recurses deeply on big programs; it runs on a thread with this stack (as
/// the `p4tc` command does).
pub const FRONT_END_STACK: usize = 256 << 20;

/// How a run is configured.
#[derive(Clone, Debug)]
pub struct Options {
    /// Timed runs per program on each load; they alternate ours / hand-written. The median
    /// over every load's runs is reported.
    pub runs: usize,
    /// Times each pair is built, loaded and filled afresh. Where one load's maps and
    /// programs land moves a small pair's ratio by several percent (ipv6_forwarding at
    /// 1,000 prefixes: 1.02 to 1.13 from one load of the same code to the next), more than
    /// the runs within a load do; the ratio should say what the code costs, not where it
    /// landed.
    pub loads: usize,
    /// Packets of the uniform cycle at most (the case's set is sampled evenly down to it).
    pub max_packets: usize,
    /// Repetitions of the one hot packet (`BPF_PROG_TEST_RUN`'s repeat).
    pub hot_repeat: u32,
    /// Packets checked for equal behaviour before anything is timed.
    pub check_packets: usize,
    /// Only scales with at most this many entries.
    pub max_entries: usize,
    /// Where programs are written and compiled.
    pub work_dir: PathBuf,
    /// The examples directory (`examples/`).
    pub examples_dir: PathBuf,
}

impl Options {
    /// The full run: every scale, 3 loads of 7 runs, up to 65,536 packets per cycle.
    pub fn full(work_dir: PathBuf, examples_dir: PathBuf) -> Options {
        Options {
            runs: 7,
            loads: 3,
            max_packets: 65_536,
            hot_repeat: 1_000_000,
            check_packets: 256,
            max_entries: usize::MAX,
            work_dir,
            examples_dir,
        }
    }

    /// A quick run: scales up to 1,000 entries, one load of 3 runs, fewer packets.
    pub fn quick(work_dir: PathBuf, examples_dir: PathBuf) -> Options {
        Options {
            runs: 3,
            loads: 1,
            max_packets: 4_096,
            hot_repeat: 100_000,
            check_packets: 256,
            max_entries: 1_000,
            work_dir,
            examples_dir,
        }
    }
}

/// Both programs' times at one scale of one case.
#[derive(Clone, Debug, Serialize)]
pub struct Measured {
    /// The example.
    pub example: String,
    /// TC or XDP.
    pub hook: String,
    /// The scale's label.
    pub scale: String,
    /// Entries installed.
    pub entries: usize,
    /// Distinct packets in the uniform cycle.
    pub packets: usize,
    /// Runs per pass of the cycle (the distinct packets repeated in order, or sampled).
    pub pass: usize,
    /// Our program, uniform cycle: median ns per packet (each packet run once per pass).
    pub ours_ns: f64,
    /// The hand-written program, the same way.
    pub hand_ns: f64,
    /// `ours_ns / hand_ns`.
    pub ratio: f64,
    /// Spread of our runs: (max - min) / median.
    pub ours_spread: f64,
    /// Spread of the hand-written runs.
    pub hand_spread: f64,
    /// Every run of ours (ns per packet).
    pub ours_runs: Vec<f64>,
    /// Every run of the hand-written program.
    pub hand_runs: Vec<f64>,
    /// Our program, one packet repeated (hot entry, caches warm): median ns per packet.
    pub hot_ours_ns: f64,
    /// The hand-written program, the same way.
    pub hot_hand_ns: f64,
    /// `hot_ours_ns / hot_hand_ns`.
    pub hot_ratio: f64,
    /// Whether the hot figures time the path the packet takes: BPF_PROG_TEST_RUN runs the
    /// repetitions on the same buffer, so a program that resizes the packet (encap, decap,
    /// push, pop) meets its own output from the second run on. False then: use the uniform
    /// figures (each run starts from the packet as sent).
    pub hot_valid: bool,
    /// The ratio of the programs' own work: `(ours - floor) / (hand - floor)`, where the floor
    /// is an empty program's cost measured the same way (see [`floor`]); set by the caller.
    pub net_ratio: Option<f64>,
    /// The same for the hot figures.
    pub hot_net_ratio: Option<f64>,
    /// The verdicts the checked packets got (the same from both), e.g. `{"7": 256}`.
    pub verdicts: std::collections::BTreeMap<u32, usize>,
    /// Seconds the case spent installing its entries into both programs.
    pub install_s: f64,
}

/// A case at one scale: measured, or why not.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// Both programs behaved the same and were timed.
    Measured(Box<Measured>),
    /// The programs disagree: not timed.
    Mismatch {
        /// The example.
        example: String,
        /// The scale's label.
        scale: String,
        /// The first difference.
        detail: String,
    },
    /// Building, loading or filling failed.
    Failed {
        /// The example.
        example: String,
        /// The scale's label.
        scale: String,
        /// What went wrong.
        error: String,
    },
}

/// Runs `work` on a thread with a stack big enough for the front-end.
pub fn on_big_stack<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> anyhow::Result<T> {
    std::thread::Builder::new()
        .stack_size(FRONT_END_STACK)
        .spawn(work)?
        .join()
        .map_err(|_| anyhow!("internal error: the front-end crashed"))
}

/// The preprocessor options for a program of `examples_dir/example` (its directory is on the
/// include path, so `#include "x.p4"` beside it works for edited sources too).
pub fn preprocess_options(dir: &Path) -> p4tc_front::PreprocessOptions {
    p4tc_front::PreprocessOptions {
        include_dirs: vec![dir.to_path_buf()],
        defines: Vec::new(),
    }
}

/// The checked IR of `source` (call on a big stack: see [`on_big_stack`]).
pub fn front_end(
    name: &str,
    source: &str,
    options: &p4tc_front::PreprocessOptions,
) -> anyhow::Result<Module> {
    let mut parsed = p4tc_front::parse_source(name, source, options);
    match p4tc_front::check(&mut parsed) {
        Some(m) if !parsed.has_errors() => Ok(m),
        _ => bail!("{name} does not check:\n{}", parsed.render_diagnostics()),
    }
}

/// Our program, loaded, with the object model on its maps.
pub struct Ours {
    /// The loaded object.
    pub loaded: Loaded,
    /// The pipeline's model.
    pub model: Arc<PipelineModel>,
    /// The object model on its maps.
    pub backend: KernelBackend,
    /// The program, for test runs.
    pub program: OwnedFd,
}

impl std::fmt::Debug for Ours {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ours")
            .field("pipeline", &self.model.name)
            .finish_non_exhaustive()
    }
}

/// Generates C for `module` at `hook`, compiles it in `dir` and returns it with clang's object.
pub fn generate_and_compile(
    module: &Module,
    name: &str,
    hook: Hook,
    dir: &Path,
) -> anyhow::Result<(Generated, Vec<u8>)> {
    let g = p4tc_ebpf::generate(module, name, hook).map_err(|e| anyhow!("{name}: {e}"))?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    g.write_to(dir, name)
        .map_err(|e| anyhow!("writing {name}'s C: {e}"))?;
    let obj = p4tc_ebpf::clang::compile(dir, name)?;
    let bytes = std::fs::read(&obj).with_context(|| format!("reading {}", obj.display()))?;
    Ok((g, bytes))
}

/// Builds, loads and opens our program for `module`.
pub fn build_ours(module: Module, name: &str, hook: Hook, dir: &Path) -> anyhow::Result<Ours> {
    let (g, bytes) = generate_and_compile(&module, name, hook, dir)?;
    let loaded = p4tc_ebpf::loader::load(&bytes, &g).map_err(|e| anyhow!("{name}: {e}"))?;
    let model =
        Arc::new(PipelineModel::new(Arc::new(module), name).map_err(|e| anyhow!("{name}: {e}"))?);
    let backend = KernelBackend::from_loaded(Arc::clone(&model), &loaded)
        .map_err(|e| anyhow!("{name}: {e}"))?;
    let program = loaded.program_fd().map_err(|e| anyhow!("{name}: {e}"))?;
    Ok(Ours {
        loaded,
        model,
        backend,
        program,
    })
}

/// The first packet on which the two programs differ, in words; `Ok` with the verdicts'
/// counts when they agree on every packet (at most `limit`, spread over the set).
pub fn check_equivalence(
    ours: BorrowedFd<'_>,
    hand: BorrowedFd<'_>,
    packets: &[(u32, Vec<u8>)],
    limit: usize,
) -> anyhow::Result<Result<std::collections::BTreeMap<u32, usize>, String>> {
    let mut verdicts = std::collections::BTreeMap::new();
    for i in crate::packets::spread(packets.len(), limit) {
        let p = &packets[i].1;
        let a = sys::test_run(ours, p, 1).context("test run of ours")?;
        let b = sys::test_run(hand, p, 1).context("test run of the hand-written program")?;
        if a.retval != b.retval {
            return Ok(Err(format!(
                "packet {i} ({} bytes): ours returned {}, the hand-written program {}",
                p.len(),
                a.retval,
                b.retval
            )));
        }
        if a.data != b.data {
            let at = a
                .data
                .iter()
                .zip(&b.data)
                .position(|(x, y)| x != y)
                .unwrap_or(a.data.len().min(b.data.len()));
            return Ok(Err(format!(
                "packet {i}: both returned {}, but the bytes differ from offset {at} (ours {} bytes: {}; hand-written {} bytes: {})",
                a.retval,
                a.data.len(),
                hex_window(&a.data, at),
                b.data.len(),
                hex_window(&b.data, at)
            )));
        }
        *verdicts.entry(a.retval).or_insert(0) += 1;
    }
    Ok(Ok(verdicts))
}

fn hex_window(data: &[u8], at: usize) -> String {
    let from = at.saturating_sub(4);
    let to = (at + 12).min(data.len());
    data.get(from..to)
        .unwrap_or(&[])
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Mean ns per packet over one pass of the cycle: each packet run once (repeat 1), so every
/// run meets a different entry, as traffic spread over the table would.
pub fn cycle_pass(prog: BorrowedFd<'_>, packets: &[&[u8]]) -> anyhow::Result<f64> {
    let mut total: u64 = 0;
    for p in packets {
        total += u64::from(sys::test_run(prog, p, 1)?.duration_ns);
    }
    Ok(total as f64 / packets.len().max(1) as f64)
}

/// `max` packets of `packets` for one pass: an even sample of a larger set, or a smaller set
/// repeated in order (so a pass always has `max` runs and one entry's pass is not one run).
pub fn cycle_of(packets: &[(u32, Vec<u8>)], max: usize) -> Vec<&[u8]> {
    let distinct = crate::packets::spread(packets.len(), max);
    if distinct.is_empty() {
        return Vec::new();
    }
    (0..max.max(distinct.len()))
        .map(|i| packets[distinct[i % distinct.len()]].1.as_slice())
        .collect()
}

/// The median of `v` (sorted in place); 0 when empty.
pub fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// (max - min) / median of `v`.
pub fn spread(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    let m = median(&mut s);
    match (s.first(), s.last()) {
        (Some(lo), Some(hi)) if m > 0.0 => (hi - lo) / m,
        _ => 0.0,
    }
}

/// Times `a` and `b` alternately `runs` times with `f`; every run of each.
pub fn alternate(
    runs: usize,
    mut f: impl FnMut(bool) -> anyhow::Result<f64>,
) -> anyhow::Result<(Vec<f64>, Vec<f64>)> {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    // One untimed pass of each first: faults in the maps' pages and warms the JIT images.
    f(true)?;
    f(false)?;
    for i in 0..runs {
        // Alternate which goes first, so neither always runs on the other's warm caches.
        if i % 2 == 0 {
            a.push(f(true)?);
            b.push(f(false)?);
        } else {
            b.push(f(false)?);
            a.push(f(true)?);
        }
    }
    Ok((a, b))
}

/// Measures one case at one scale.
pub fn run_scale(case: &dyn Case, scale: &Scale, options: &Options) -> Outcome {
    let fail = |error: anyhow::Error| Outcome::Failed {
        example: case.example().into(),
        scale: scale.label.clone(),
        error: format!("{error:#}"),
    };
    match measure(case, scale, options) {
        Ok(Ok(m)) => Outcome::Measured(Box::new(m)),
        Ok(Err(detail)) => Outcome::Mismatch {
            example: case.example().into(),
            scale: scale.label.clone(),
            detail,
        },
        Err(e) => fail(e),
    }
}

/// A case at one scale, built, loaded and filled: both programs and the packets to send.
pub struct Prepared {
    /// Our program.
    pub ours: Ours,
    /// The hand-written one.
    pub hand: HandProgram,
    /// The packets the case returned.
    pub packets: Vec<(u32, Vec<u8>)>,
    /// Seconds the case took to install its entries (into both programs).
    pub install_s: f64,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("ours", &self.ours)
            .field("packets", &self.packets.len())
            .finish_non_exhaustive()
    }
}

/// Builds both programs of `case` at `scale` and installs its entries.
pub fn prepare(case: &dyn Case, scale: &Scale, options: &Options) -> anyhow::Result<Prepared> {
    let name = case.example();
    let example_dir = options.examples_dir.join(name);
    let path = example_dir.join(format!("{name}.p4"));
    let original =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let source = case.source(&original, scale);
    let pp = preprocess_options(&example_dir);
    let file = format!("{name}.p4");
    let module = on_big_stack(move || front_end(&file, &source, &pp))??;
    let slug: String = scale
        .label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let dir = options.work_dir.join(format!("{name}-{slug}"));
    let mut ours = build_ours(module, name, case.hook(), &dir.join("ours"))?;
    let hand = HandProgram::build(
        case.handwritten_c(),
        name,
        case.hook(),
        &dir.join("hand"),
        &case.hand_map_sizes(scale),
    )?;
    let start = Instant::now();
    let model = Arc::clone(&ours.model);
    let packets = case
        .install(scale, &mut ours.backend, &model, &hand)
        .with_context(|| format!("installing {name}'s entries at scale {}", scale.label))?;
    let install_ours_s = start.elapsed().as_secs_f64();
    if packets.is_empty() {
        bail!("the case returned no packets to send");
    }
    Ok(Prepared {
        ours,
        hand,
        packets,
        install_s: install_ours_s,
    })
}

/// Builds `case` at `scale` and checks that both programs give the same verdicts and bytes
/// on its packets (at most `options.check_packets`); the verdicts' counts, or the first
/// difference.
pub fn check_scale(
    case: &dyn Case,
    scale: &Scale,
    options: &Options,
) -> anyhow::Result<Result<std::collections::BTreeMap<u32, usize>, String>> {
    let p = prepare(case, scale, options)?;
    check_equivalence(
        p.ours.program.as_fd(),
        p.hand.program_fd(),
        &p.packets,
        options.check_packets,
    )
}

fn measure(
    case: &dyn Case,
    scale: &Scale,
    options: &Options,
) -> anyhow::Result<Result<Measured, String>> {
    let name = case.example();
    let (mut ours_runs, mut hand_runs) = (Vec::new(), Vec::new());
    let mut first_load = None;
    for _ in 0..options.loads.max(1) {
        let Prepared {
            ours,
            hand,
            packets,
            install_s,
        } = prepare(case, scale, options)?;
        let verdicts = match check_equivalence(
            ours.program.as_fd(),
            hand.program_fd(),
            &packets,
            options.check_packets,
        )? {
            Ok(v) => v,
            Err(detail) => return Ok(Err(detail)),
        };
        let cycle = cycle_of(&packets, options.max_packets);
        let (ours_fd, hand_fd) = (ours.program.as_fd(), hand.program_fd());
        let (o, h) = alternate(options.runs, |mine| {
            cycle_pass(if mine { ours_fd } else { hand_fd }, &cycle)
        })?;
        ours_runs.extend(o);
        hand_runs.extend(h);
        if first_load.is_some() {
            continue;
        }
        // Hot (one packet, warm caches) moves little between loads: the first load's.
        let hot = cycle[0];
        let hot_valid = {
            let first = sys::test_run(ours_fd, hot, 1)?;
            let again = sys::test_run(ours_fd, &first.data, 1)?;
            first.data.len() == hot.len() && again.retval == first.retval
        };
        let (mut hot_ours, mut hot_hand) = alternate(options.runs, |mine| {
            let fd = if mine { ours_fd } else { hand_fd };
            Ok(f64::from(
                sys::test_run(fd, hot, options.hot_repeat)?.duration_ns,
            ))
        })?;
        first_load = Some((
            verdicts,
            packets.len().min(options.max_packets),
            cycle.len(),
            install_s,
            hot_valid,
            median(&mut hot_ours),
            median(&mut hot_hand),
        ));
    }
    let Some((verdicts, packets, pass, install_ours_s, hot_valid, hot_ours_ns, hot_hand_ns)) =
        first_load
    else {
        bail!("no load was measured");
    };
    let (ours_spread, hand_spread) = (spread(&ours_runs), spread(&hand_runs));
    let ours_ns = median(&mut ours_runs);
    let hand_ns = median(&mut hand_runs);
    Ok(Ok(Measured {
        example: name.into(),
        hook: format!("{:?}", case.hook()),
        scale: scale.label.clone(),
        entries: scale.entries,
        packets,
        pass,
        ratio: ours_ns / hand_ns.max(f64::MIN_POSITIVE),
        ours_ns,
        hand_ns,
        ours_spread,
        hand_spread,
        ours_runs,
        hand_runs,
        hot_ratio: hot_ours_ns / hot_hand_ns.max(f64::MIN_POSITIVE),
        hot_ours_ns,
        hot_hand_ns,
        hot_valid,
        net_ratio: None,
        hot_net_ratio: None,
        verdicts,
        install_s: install_ours_s,
    }))
}

/// `(a - floor) / (b - floor)`, when both are above the floor.
pub fn net_ratio(a: f64, b: f64, floor: f64) -> Option<f64> {
    (a > floor && b > floor).then(|| (a - floor) / (b - floor))
}

/// A program that does nothing (`TC_ACT_OK` / `XDP_PASS`): what the harness itself costs.
pub const EMPTY_C: &str = "#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\n\
SEC(\"classifier\") int empty_tc(struct __sk_buff *skb) { return 0; }\n\
char _license[] SEC(\"license\") = \"GPL\";\n";

/// The same for XDP.
pub const EMPTY_XDP_C: &str = "#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\n\
SEC(\"xdp\") int empty_xdp(struct xdp_md *ctx) { return XDP_PASS; }\n\
char _license[] SEC(\"license\") = \"GPL\";\n";

/// The harness's own cost per packet at `hook`, measured as the cases are (uniform cycle of
/// `packets` minimum-size frames, repeat 1; and one packet repeated): `(cycle ns, hot ns)`.
pub fn floor(hook: Hook, options: &Options) -> anyhow::Result<(f64, f64)> {
    let (c, name) = match hook {
        Hook::Tc => (EMPTY_C, "empty_tc"),
        Hook::Xdp => (EMPTY_XDP_C, "empty_xdp"),
    };
    let prog = HandProgram::build(c, name, hook, &options.work_dir.join(name), &[])?;
    let frames: Vec<Vec<u8>> = (0..options.max_packets.min(4096))
        .map(|i| crate::packets::ipv4_udp_64([10, 9, 9, 9], (0x0a00_0000 + i as u32).to_be_bytes()))
        .collect();
    let cycle: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
    let (mut c, mut h) = alternate(options.runs, |first| {
        if first {
            cycle_pass(prog.program_fd(), &cycle)
        } else {
            Ok(f64::from(
                sys::test_run(prog.program_fd(), cycle[0], options.hot_repeat)?.duration_ns,
            ))
        }
    })?;
    Ok((median(&mut c), median(&mut h)))
}

/// Why kernel measurements cannot run here, if they cannot (root, BTF, bpffs and clang).
pub fn kernel_unavailable() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let root = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(2))
        == Some("0");
    if !root {
        return Some("not running as root (loading BPF programs needs it)".into());
    }
    if !Path::new("/sys/kernel/btf/vmlinux").exists() {
        return Some("the kernel has no BTF (/sys/kernel/btf/vmlinux)".into());
    }
    if !p4tc_ebpf::clang::available() {
        return Some("clang is missing (apt-get install clang llvm libbpf-dev)".into());
    }
    None
}
