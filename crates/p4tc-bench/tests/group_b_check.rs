//! Group B's cases against their hand-written twins in the kernel: for each case at its
//! smallest scale (and the next one up to 1,000 entries), both programs are loaded, filled by
//! the case and given every packet the case returns; verdicts and output bytes must agree.
//! Needs root, clang and BPF; skipped (with a message) without them.
//!
//! `P4TC_GROUP_B=name,name` limits the run to some examples; `cargo test -p p4tc-bench --test
//! group_b_check -- --ignored --nocapture` prints ns per packet and the ratio generated /
//! hand-written for every scale (slow: 1,000,000-entry tables; `P4TC_GROUP_B_MAX=N` skips
//! scales of more than N entries).
#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, bail, Context};
use p4tc_bench::{Case, HandProgram, Scale};
use p4tc_ebpf::backend::KernelBackend;
use p4tc_ebpf::loader::Loaded;
use p4tc_ebpf::{sys, Options, Placement};
use p4tc_runtime::PipelineModel;

/// Why the kernel checks cannot run here, if they cannot.
fn unavailable() -> Option<String> {
    // SAFETY-free check: only root may load BPF programs and maps here.
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
        })
        .unwrap_or_default();
    if uid != "0" {
        return Some("not root".into());
    }
    if !p4tc_ebpf::clang::available() {
        return Some("clang is missing".into());
    }
    None
}

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

fn work_dir(example: &str, scale: &Scale, which: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "p4tc-group-b-{}-{example}-{}-{which}",
        std::process::id(),
        scale.entries
    ))
}

/// The generated program of `case` at `scale`, loaded, with its object model.
struct Ours {
    _loaded: Loaded,
    prog: std::os::fd::OwnedFd,
    backend: KernelBackend,
    model: Arc<PipelineModel>,
}

fn build_ours(case: &dyn Case, scale: &Scale) -> anyhow::Result<Ours> {
    let example = case.example();
    let path = examples_dir().join(example).join(format!("{example}.p4"));
    let original =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let source = case.source(&original, scale);
    let mut parsed = p4tc_front::parse_source(
        &path.display().to_string(),
        &source,
        &p4tc_front::PreprocessOptions::default(),
    );
    let module = p4tc_front::check(&mut parsed)
        .ok_or_else(|| anyhow!("{example}: {}", parsed.render_diagnostics()))?;
    let model = Arc::new(PipelineModel::new(Arc::new(module), example)?);
    let options = Options {
        test_hooks: false,
        placement: Placement::Auto,
    };
    let g = p4tc_ebpf::generate_with(&model.module, example, case.hook(), &options)?;
    let dir = work_dir(example, scale, "ours");
    g.write_to(&dir, example)?;
    let obj = p4tc_ebpf::clang::compile(&dir, example)?;
    let bytes = std::fs::read(&obj)?;
    let _ = std::fs::remove_dir_all(&dir);
    let loaded = p4tc_ebpf::loader::load(&bytes, &g)?;
    let backend = KernelBackend::from_loaded(Arc::clone(&model), &loaded)?;
    let prog = loaded.program_fd()?;
    Ok(Ours {
        _loaded: loaded,
        prog,
        backend,
        model,
    })
}

/// What a case sends: `(ingress ifindex, frame)`.
type Packets = Vec<(u32, Vec<u8>)>;

/// Both programs of `case` at `scale`, filled, and the packets to send.
fn setup(case: &dyn Case, scale: &Scale) -> anyhow::Result<(Ours, HandProgram, Packets)> {
    let mut ours = build_ours(case, scale).context("the generated program")?;
    let dir = work_dir(case.example(), scale, "hand");
    let hand = HandProgram::build(
        case.handwritten_c(),
        case.example(),
        case.hook(),
        &dir,
        &case.hand_map_sizes(scale),
    );
    let _ = std::fs::remove_dir_all(&dir);
    let hand = hand?;
    let model = Arc::clone(&ours.model);
    let packets = case.install(scale, &mut ours.backend, &model, &hand)?;
    if packets.is_empty() {
        bail!("the case sends no packets");
    }
    Ok((ours, hand, packets))
}

/// Sends every packet (at most `limit`) through both programs; the first difference, else
/// how many packets got each verdict.
fn compare(
    ours: &Ours,
    hand: &HandProgram,
    packets: &[(u32, Vec<u8>)],
    limit: usize,
) -> anyhow::Result<BTreeMap<u32, usize>> {
    let step = (packets.len() / limit).max(1);
    let mut verdicts = BTreeMap::new();
    for (n, (_, p)) in packets.iter().enumerate().step_by(step) {
        let a = sys::test_run(ours.prog.as_fd(), p, 1).context("running the generated program")?;
        let b =
            sys::test_run(hand.program_fd(), p, 1).context("running the hand-written program")?;
        if a.retval != b.retval || a.data != b.data {
            bail!(
                "packet {n} ({} bytes): generated gives verdict {} and\n  {}\nhand-written gives verdict {} and\n  {}\ninput\n  {}",
                p.len(),
                a.retval,
                hex(&a.data),
                b.retval,
                hex(&b.data),
                hex(p)
            );
        }
        *verdicts.entry(a.retval).or_insert(0) += 1;
    }
    Ok(verdicts)
}

/// TC_ACT_SHOT: a case whose every packet is dropped would compare nothing of interest.
const TC_ACT_SHOT: u32 = 2;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn selected() -> Vec<Box<dyn Case>> {
    let only = std::env::var("P4TC_GROUP_B").unwrap_or_default();
    let names: Vec<&str> = only.split(',').filter(|s| !s.is_empty()).collect();
    p4tc_bench::cases::group_b::all()
        .into_iter()
        .filter(|c| names.is_empty() || names.contains(&c.example()))
        .collect()
}

#[test]
fn hand_written_twins_agree_with_the_generated_programs() {
    if let Some(why) = unavailable() {
        println!("skipped: {why}");
        return;
    }
    let mut failures = Vec::new();
    for case in selected() {
        let scales: Vec<Scale> = case
            .scales()
            .into_iter()
            .filter(|s| s.entries <= 1_000)
            .collect();
        for scale in scales {
            let r = setup(case.as_ref(), &scale)
                .and_then(|(ours, hand, packets)| compare(&ours, &hand, &packets, 300));
            match r {
                Err(e) => failures.push(format!("{} at {}: {e:#}", case.example(), scale.label)),
                Ok(v) if v.keys().all(|&r| r == TC_ACT_SHOT) => failures.push(format!(
                    "{} at {}: every packet was dropped by both",
                    case.example(),
                    scale.label
                )),
                Ok(v) => println!("{} at {}: verdicts {v:?}", case.example(), scale.label),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Median of `runs` timings of `repeat` passes over the packets (ns per packet).
fn time(prog: std::os::fd::BorrowedFd<'_>, packets: &[(u32, Vec<u8>)], repeat: u32) -> f64 {
    let sample: Vec<&Vec<u8>> = packets.iter().map(|(_, p)| p).take(256).collect();
    let mut runs = Vec::new();
    for _ in 0..5 {
        let mut total = 0f64;
        for p in &sample {
            total += f64::from(
                sys::test_run(prog, p, repeat)
                    .expect("test run")
                    .duration_ns,
            );
        }
        runs.push(total / sample.len() as f64);
    }
    runs.sort_by(|a, b| a.total_cmp(b));
    runs[runs.len() / 2]
}

#[test]
#[ignore = "a measurement: run with --ignored --nocapture"]
fn ratios() {
    if let Some(why) = unavailable() {
        println!("skipped: {why}");
        return;
    }
    let max: usize = std::env::var("P4TC_GROUP_B_MAX")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(usize::MAX);
    for case in selected() {
        for scale in case.scales().into_iter().filter(|s| s.entries <= max) {
            match setup(case.as_ref(), &scale) {
                Ok((ours, hand, packets)) => {
                    if let Err(e) = compare(&ours, &hand, &packets, 1_000) {
                        println!(
                            "{:<22} {:<12} DIFFERENT: {e:#}",
                            case.example(),
                            scale.label
                        );
                        continue;
                    }
                    let o = time(ours.prog.as_fd(), &packets, 2_000);
                    let h = time(hand.program_fd(), &packets, 2_000);
                    println!(
                        "{:<22} {:<12} generated {o:7.1} ns  hand-written {h:7.1} ns  ratio {:.2}",
                        case.example(),
                        scale.label,
                        o / h
                    );
                }
                Err(e) => println!("{:<22} {:<12} FAILED: {e:#}", case.example(), scale.label),
            }
        }
    }
}
