//! The figures beside the datapath's: compile time, the control plane's insert rate and the
//! interpreter's packet rate.

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{anyhow, Context};
use p4tc_ebpf::Hook;
use p4tc_runtime::{ManualClock, MemoryBackend, ObjectModel, PipelineModel};
use serde::Serialize;

use crate::cases::simple_l3;
use crate::harness::{self, median, on_big_stack, spread};

/// One program's compile times.
#[derive(Clone, Debug, Serialize)]
pub struct CompileTime {
    /// The example.
    pub example: String,
    /// Front-end (preprocess, parse, check) alone, median ms.
    pub front_ms: f64,
    /// Front-end and C generation, median ms (the goal for simple_l3: under 10 ms).
    pub front_codegen_ms: f64,
    /// Front-end, C generation and clang -O2, median ms (the goal for simple_l3: under 500 ms).
    pub end_to_end_ms: f64,
    /// Runs behind the in-process medians.
    pub runs: usize,
    /// Runs behind the end-to-end median.
    pub clang_runs: usize,
}

/// Compile times of `example` (TC): medians of `runs` in-process runs and `clang_runs` with
/// clang.
pub fn compile_time(
    examples_dir: &Path,
    example: &str,
    work_dir: &Path,
    runs: usize,
    clang_runs: usize,
) -> anyhow::Result<CompileTime> {
    let dir = examples_dir.join(example);
    let path = dir.join(format!("{example}.p4"));
    let source =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let name = example.to_string();
    let out = work_dir.join(format!("compile-{example}"));
    on_big_stack(move || -> anyhow::Result<CompileTime> {
        let pp = harness::preprocess_options(&dir);
        let file = format!("{name}.p4");
        let (mut front, mut both, mut e2e) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..runs {
            let t = Instant::now();
            let m = harness::front_end(&file, &source, &pp)?;
            front.push(ms(t));
            black_box(&m);
            let t = Instant::now();
            let m = harness::front_end(&file, &source, &pp)?;
            let g = p4tc_ebpf::generate(&m, &name, Hook::Tc).map_err(|e| anyhow!("{e}"))?;
            both.push(ms(t));
            black_box(&g);
        }
        for _ in 0..clang_runs {
            let t = Instant::now();
            let m = harness::front_end(&file, &source, &pp)?;
            harness::generate_and_compile(&m, &name, Hook::Tc, &out)?;
            e2e.push(ms(t));
        }
        Ok(CompileTime {
            example: name.clone(),
            front_ms: median(&mut front),
            front_codegen_ms: median(&mut both),
            end_to_end_ms: median(&mut e2e),
            runs,
            clang_runs,
        })
    })?
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// The control plane's insert rate.
#[derive(Clone, Debug, Serialize)]
pub struct InsertRate {
    /// What was measured, in words.
    pub what: String,
    /// Entries inserted.
    pub entries: usize,
    /// Seconds it took (the median of the runs).
    pub seconds: f64,
    /// Entries per second (at the median time).
    pub per_second: f64,
    /// Runs, each on a fresh program.
    pub runs: usize,
    /// (slowest - fastest) / median of the runs' times.
    pub spread: f64,
}

/// Inserts `n` entries into simple_l3's `nh_table` (of size `n`: open addressing in an
/// mmap-able array, `p4tc_ebpf::open_table`) through the kernel object model, on a fresh program each time: one `create_entry`
/// per entry, then `create_entries` in calls of `batch` entries; `runs` times each, the
/// median reported.
pub fn insert_rates(
    examples_dir: &Path,
    work_dir: &Path,
    n: usize,
    batch: usize,
    runs: usize,
) -> anyhow::Result<Vec<InsertRate>> {
    let dir = examples_dir.join("simple_l3");
    let original = std::fs::read_to_string(dir.join("simple_l3.p4"))?;
    let scale = crate::case::Scale::new("insert", n);
    let source = crate::case::with_table_size(&original, "nh_table", simple_l3::capacity(&scale));
    let pp = harness::preprocess_options(&dir);
    let module = on_big_stack(move || harness::front_end("simple_l3.p4", &source, &pp))??;
    let mut rates = Vec::new();
    for batched in [false, true] {
        let mut times = Vec::with_capacity(runs.max(1));
        for _ in 0..runs.max(1) {
            let mut ours = harness::build_ours(
                module.clone(),
                "simple_l3",
                Hook::Tc,
                &work_dir.join("insert-simple_l3"),
            )?;
            let (table, specs) = simple_l3::entries(&ours.model, n)?;
            let t = Instant::now();
            if batched {
                let mut specs = specs.into_iter();
                let mut done = 0;
                loop {
                    let chunk: Vec<_> = specs.by_ref().take(batch.max(1)).collect();
                    if chunk.is_empty() {
                        break;
                    }
                    for (i, r) in ours
                        .backend
                        .create_entries(table, chunk)
                        .into_iter()
                        .enumerate()
                    {
                        r.with_context(|| format!("entry {}", done + i))?;
                    }
                    done += batch.max(1);
                }
            } else {
                for (i, spec) in specs.into_iter().enumerate() {
                    ours.backend
                        .create_entry(table, spec)
                        .with_context(|| format!("entry {i}"))?;
                }
            }
            times.push(t.elapsed().as_secs_f64());
        }
        let spread = spread(&times);
        let seconds = median(&mut times);
        rates.push(InsertRate {
            what: if batched {
                format!("KernelBackend::create_entries, {batch} per call, simple_l3 nh_table (exact, open addressing, slots written in mapped memory)")
            } else {
                "KernelBackend::create_entry, one at a time, simple_l3 nh_table (exact, open addressing, slots written in mapped memory)".into()
            },
            entries: n,
            seconds,
            per_second: n as f64 / seconds,
            runs: times.len(),
            spread,
        });
    }
    Ok(rates)
}

/// The interpreter's packet rate.
#[derive(Clone, Debug, Serialize)]
pub struct InterpRate {
    /// Entries in simple_l3's table.
    pub entries: usize,
    /// Packets per pass (spread uniformly over the entries, repeated in order when fewer
    /// entries), in memory.
    pub packets: usize,
    /// Median ns per packet.
    pub ns_per_packet: f64,
    /// 1e9 / ns_per_packet.
    pub packets_per_second: f64,
    /// (max - min) / median of the rounds.
    pub spread: f64,
}

/// The interpreter on simple_l3 with `entries` entries (MemoryBackend), packets in memory
/// spread over the entries, every one a hit; median of `rounds` passes.
pub fn interp_rate(
    examples_dir: &Path,
    entries: usize,
    packets: usize,
    rounds: usize,
) -> anyhow::Result<InterpRate> {
    let dir = examples_dir.join("simple_l3");
    let original = std::fs::read_to_string(dir.join("simple_l3.p4"))?;
    let scale = crate::case::Scale::new("interp", entries);
    let source = crate::case::with_table_size(&original, "nh_table", simple_l3::capacity(&scale));
    let pp = harness::preprocess_options(&dir);
    let module = Arc::new(on_big_stack(move || {
        harness::front_end("simple_l3.p4", &source, &pp)
    })??);
    let model =
        Arc::new(PipelineModel::new(Arc::clone(&module), "simple_l3").map_err(|e| anyhow!("{e}"))?);
    let mut backend = MemoryBackend::new(Arc::clone(&model), Arc::new(ManualClock::new()))
        .map_err(|e| anyhow!("{e}"))?;
    let (table, specs) = simple_l3::entries(&model, entries)?;
    for spec in specs {
        backend.create_entry(table, spec)?;
    }
    let mut interp = p4tc_interp::Interpreter::new(module, 0).map_err(|e| anyhow!("{e}"))?;
    let distinct = crate::packets::spread(entries, packets);
    // A pass is always `packets` long: fewer entries repeat in order.
    let frames: Vec<Vec<u8>> = (0..packets)
        .map(|i| simple_l3::packet(distinct[i % distinct.len()]))
        .collect();
    for f in &frames {
        let v = interp.process(&mut backend, f, 1).verdict;
        if !matches!(v, p4tc_interp::Verdict::Send(_)) {
            anyhow::bail!("the interpreter did not forward a packet of simple_l3 ({v:?})");
        }
    }
    let mut runs = Vec::new();
    for _ in 0..rounds {
        let t = Instant::now();
        for f in &frames {
            black_box(interp.process(&mut backend, f, 1).verdict);
        }
        runs.push(t.elapsed().as_secs_f64() * 1e9 / frames.len() as f64);
    }
    let s = spread(&runs);
    let ns = median(&mut runs);
    Ok(InterpRate {
        entries,
        packets: frames.len(),
        ns_per_packet: ns,
        packets_per_second: 1e9 / ns,
        spread: s,
    })
}

/// The machine the figures come from.
#[derive(Clone, Debug, Serialize)]
pub struct Machine {
    /// CPU model (`/proc/cpuinfo`).
    pub cpu: String,
    /// Logical CPUs.
    pub cpus: usize,
    /// `uname -r`.
    pub kernel: String,
}

/// This machine.
pub fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into());
    Machine {
        cpu,
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        kernel,
    }
}
