//! `cargo bench -p p4tc-bench --bench compare [-- [--quick] [--no-extra] [EXAMPLE...]]`:
//! every case against its hand-written twin, in one run, with ratios; then compile times,
//! the control plane's insert rate and the interpreter's rate. Results as JSON in
//! `$CARGO_TARGET_DIR/p4tc-bench/results.json` (method: docs/benchmarks.md).
#![allow(missing_docs, clippy::print_stdout, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use p4tc_bench::extra;
use p4tc_bench::harness::{self, Options, Outcome};
use p4tc_ebpf::Hook;

// The allocator the p4tc command runs with, so the control plane's insert rate (a million
// entries checked, encoded and freed) is the command's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str =
    "usage: cargo bench -p p4tc-bench --bench compare -- [--quick] [--no-extra] [EXAMPLE...]
  --quick     scales up to 1,000 entries, one load of 3 runs, 4,096 packets (a minute, not ten)
  --no-extra  only the side-by-side datapath figures (no compile time, insert rate, interpreter)
  EXAMPLE     only these examples (default: every case)
example: cargo bench -p p4tc-bench --bench compare -- --quick simple_l3";

fn main() -> ExitCode {
    let mut quick = false;
    let mut extra_figures = true;
    let mut only = Vec::new();
    for a in std::env::args().skip(1) {
        match a.as_str() {
            "--quick" => quick = true,
            "--no-extra" => extra_figures = false,
            // What cargo passes to every bench target.
            "--bench" => {}
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            s if s.starts_with('-') => {
                eprintln!("unknown option {s}\n{USAGE}");
                return ExitCode::from(2);
            }
            s => only.push(s.to_string()),
        }
    }
    if let Some(why) = harness::kernel_unavailable() {
        eprintln!("cannot measure here: {why}");
        return ExitCode::FAILURE;
    }
    match run(quick, extra_figures, &only) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn fmt_ratio(r: Option<f64>) -> String {
    r.map_or_else(|| "-".into(), |r| format!("{r:.2}"))
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

fn run(quick: bool, extra_figures: bool, only: &[String]) -> anyhow::Result<bool> {
    let out = target_dir().join("p4tc-bench");
    let work = out.join("work");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let options = if quick {
        Options::quick(work.clone(), examples.clone())
    } else {
        Options::full(work.clone(), examples.clone())
    };
    let cases: Vec<_> = p4tc_bench::cases::all()
        .into_iter()
        .filter(|c| only.is_empty() || only.iter().any(|o| o == c.example()))
        .collect();
    if cases.is_empty() {
        anyhow::bail!("no case matches {only:?}");
    }
    let machine = extra::machine();
    println!(
        "machine: {} ({} CPUs), kernel {}{}",
        machine.cpu,
        machine.cpus,
        machine.kernel,
        if quick { "; --quick" } else { "" }
    );
    let mut floors = serde_json::Map::new();
    let mut floor_of = std::collections::HashMap::new();
    for hook in [Hook::Tc, Hook::Xdp] {
        if cases.iter().any(|c| c.hook() == hook) {
            let (cycle, hot) = harness::floor(hook, &options)?;
            println!("harness floor ({hook:?}, an empty program): {cycle:.1} ns uniform cycle, {hot:.1} ns hot");
            floor_of.insert(format!("{hook:?}"), (cycle, hot));
            floors.insert(
                format!("{hook:?}"),
                serde_json::json!({ "cycle_ns": cycle, "hot_ns": hot }),
            );
        }
    }
    println!(
        "\nns per packet, BPF_PROG_TEST_RUN, median of {} runs on each of {} loads (each pair built, \
         loaded and filled afresh), alternating ours / hand-written.\n\
         uniform: {} runs per pass, each packet (spread over the entries) run once; hot: one packet x {}.\n\
         net: the ratio less the floor (an empty program's cost measured the same way) on both sides.\n\
         n/a*: the program resizes the packet, so repeated runs on one buffer time another path; use uniform.",
        options.runs, options.loads, options.max_packets, options.hot_repeat
    );
    println!(
        "{:<22} {:<4} {:<10} {:>7} {:>7} {:>7} {:>5} {:>5} {:>8} {:>8} {:>5} {:>5} {:>6}  verdicts",
        "example",
        "hook",
        "scale",
        "packets",
        "ours",
        "hand",
        "ratio",
        "net",
        "hot ours",
        "hot hand",
        "hot r",
        "net",
        "spread"
    );
    let mut outcomes = Vec::new();
    let mut all_ok = true;
    for case in &cases {
        for scale in case.scales() {
            if scale.entries > options.max_entries {
                continue;
            }
            let mut o = harness::run_scale(case.as_ref(), &scale, &options);
            if let Outcome::Measured(m) = &mut o {
                if let Some(&(cycle, hot)) = floor_of.get(&m.hook) {
                    m.net_ratio = harness::net_ratio(m.ours_ns, m.hand_ns, cycle);
                    m.hot_net_ratio = harness::net_ratio(m.hot_ours_ns, m.hot_hand_ns, hot);
                }
            }
            match &o {
                Outcome::Measured(m) => println!(
                    "{:<22} {:<4} {:<10} {:>7} {:>7.1} {:>7.1} {:>5.2} {:>5} {:>8.1} {:>8.1} {:>5.2} {:>5} {:>5.0}%  {:?}",
                    m.example,
                    m.hook,
                    m.scale,
                    m.packets,
                    m.ours_ns,
                    m.hand_ns,
                    m.ratio,
                    fmt_ratio(m.net_ratio),
                    m.hot_ours_ns,
                    m.hot_hand_ns,
                    m.hot_ratio,
                    if m.hot_valid {
                        fmt_ratio(m.hot_net_ratio)
                    } else {
                        "n/a*".into()
                    },
                    100.0 * m.ours_spread.max(m.hand_spread),
                    m.verdicts
                ),
                Outcome::Mismatch {
                    example,
                    scale,
                    detail,
                } => {
                    all_ok = false;
                    println!("{example:<22} {scale:<12} MISMATCH (not measured): {detail}");
                }
                Outcome::Failed {
                    example,
                    scale,
                    error,
                } => {
                    all_ok = false;
                    println!("{example:<22} {scale:<12} FAILED: {error}");
                }
            }
            outcomes.push(o);
        }
    }

    let mut compile = Vec::new();
    let mut inserts = Vec::new();
    let mut interp = Vec::new();
    if extra_figures {
        let (runs, clang_runs) = if quick { (5, 3) } else { (21, 5) };
        println!("\ncompile time, ms (median of {runs}; with clang: median of {clang_runs}). Goals for simple_l3: front-end + codegen < 10 ms, end to end < 500 ms");
        println!(
            "{:<22} {:>9} {:>16} {:>12}",
            "example", "front-end", "front+codegen", "with clang"
        );
        let mut names: Vec<&str> = cases.iter().map(|c| c.example()).collect();
        names.dedup();
        for name in names {
            match extra::compile_time(&examples, name, &work, runs, clang_runs) {
                Ok(c) => {
                    println!(
                        "{:<22} {:>9.2} {:>16.2} {:>12.1}",
                        c.example, c.front_ms, c.front_codegen_ms, c.end_to_end_ms
                    );
                    compile.push(c);
                }
                Err(e) => println!("{name:<22} FAILED: {e:#}"),
            }
        }
        let n = if quick { 100_000 } else { 1_000_000 };
        match extra::insert_rates(&examples, &work, n, 65_536, if quick { 1 } else { 3 }) {
            Ok(rates) => {
                println!();
                for r in &rates {
                    println!(
                        "control plane: {} entries in {:.2} s = {:.0} entries/s (median of {}, spread {:.0}%; {}); goal 2,000,000/s",
                        r.entries, r.seconds, r.per_second, r.runs, r.spread * 100.0, r.what
                    );
                }
                inserts = rates;
            }
            Err(e) => println!("\ncontrol plane: FAILED: {e:#}"),
        }
        println!("\ninterpreter (p4tc-interp, simple_l3, MemoryBackend, packets in memory, no I/O); goal 5 Mpps");
        for entries in [1usize, 1_000, 100_000] {
            match extra::interp_rate(&examples, entries, 4096, if quick { 5 } else { 21 }) {
                Ok(r) => {
                    println!(
                        "  {:>7} entries: {:.0} ns/packet = {:.2} Mpps (spread {:.0}%)",
                        r.entries,
                        r.ns_per_packet,
                        r.packets_per_second / 1e6,
                        r.spread * 100.0
                    );
                    interp.push(r);
                }
                Err(e) => println!("  {entries} entries: FAILED: {e:#}"),
            }
        }
    }

    let results = serde_json::json!({
        "machine": machine,
        "quick": quick,
        "runs": options.runs,
        "hot_repeat": options.hot_repeat,
        "floor": floors,
        "datapath": outcomes,
        "compile": compile,
        "control_plane": inserts,
        "interpreter": interp,
        "goals": {
            "ratio_max": 1.10,
            "front_codegen_ms_simple_l3": 10.0,
            "end_to_end_ms_simple_l3": 500.0,
            "control_plane_per_second": 2_000_000,
            "interpreter_pps": 5_000_000,
        },
    });
    std::fs::create_dir_all(&out)?;
    let path = out.join("results.json");
    std::fs::write(&path, serde_json::to_string_pretty(&results)? + "\n")?;
    println!("\nresults: {}", path.display());
    Ok(all_ok)
}
