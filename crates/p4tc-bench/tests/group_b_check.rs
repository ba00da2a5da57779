//! Group B's cases against their hand-written twins in the kernel, more thoroughly than the
//! crate's equivalence test: besides the case's own packets (smallest scale; every scale up to
//! 1,000 entries with `P4TC_GROUP_B_SCALES=1`), every packet of the example's STF file (non-IP frames, truncated headers, bad
//! versions, TTL 0/1, ... with the case's entries installed): verdicts and output bytes must
//! agree. A case whose packets are all dropped fails too (it would compare nothing of
//! interest). Needs root, BTF and clang; skipped (with a message) without them.
//!
//! `P4TC_GROUP_B=name,name` limits the run to some examples. Ratios come from the crate's
//! bench: `cargo bench -p p4tc-bench --bench compare -- --quick EXAMPLE`.
#![allow(clippy::print_stdout)]

use std::os::fd::AsFd;
use std::path::Path;

use anyhow::Context;
use p4tc_bench::harness::{self, Options};
use p4tc_bench::Case;
use p4tc_ebpf::sys;
use p4tc_testkit::stf::{self, StatementKind};

/// TC_ACT_SHOT.
const TC_ACT_SHOT: u32 = 2;

fn selected() -> Vec<Box<dyn Case>> {
    let only = std::env::var("P4TC_GROUP_B").unwrap_or_default();
    let names: Vec<&str> = only.split(',').filter(|s| !s.is_empty()).collect();
    p4tc_bench::cases::group_b::all()
        .into_iter()
        .filter(|c| names.is_empty() || names.contains(&c.example()))
        .collect()
}

/// The packets of `example`'s STF file.
fn stf_packets(examples: &Path, example: &str) -> anyhow::Result<Vec<Vec<u8>>> {
    let path = examples.join(example).join(format!("{example}.stf"));
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let statements = stf::parse(&text)
        .map_err(|e| anyhow::anyhow!("{}: {} parse errors", path.display(), e.len()))?;
    Ok(statements
        .into_iter()
        .filter_map(|s| match s.kind {
            StatementKind::Packet { data, .. } => Some(data),
            _ => None,
        })
        .collect())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Checks one case at one scale; the verdicts of its own packets.
fn check(
    case: &dyn Case,
    scale: &p4tc_bench::Scale,
    options: &Options,
) -> anyhow::Result<std::collections::BTreeMap<u32, usize>> {
    let p = harness::prepare(case, scale, options)?;
    let (ours, hand) = (p.ours.program.as_fd(), p.hand.program_fd());
    let verdicts = harness::check_equivalence(ours, hand, &p.packets, 400)?
        .map_err(|d| anyhow::anyhow!("the case's packets: {d}"))?;
    if verdicts.keys().all(|&v| v == TC_ACT_SHOT) {
        anyhow::bail!("every packet of the case was dropped by both");
    }
    for (n, data) in stf_packets(&options.examples_dir, case.example())?
        .iter()
        .enumerate()
    {
        // The kernel refuses some frames (shorter than Ethernet): then it refuses both.
        let (a, b) = match (sys::test_run(ours, data, 1), sys::test_run(hand, data, 1)) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(_), Err(_)) => continue,
            (a, b) => anyhow::bail!(
                "STF packet {n} {}: the kernel ran one program only: {a:?} / {b:?}",
                hex(data)
            ),
        };
        if a.retval != b.retval || a.data != b.data {
            anyhow::bail!(
                "STF packet {n}\n  {}\ngenerated: verdict {}, {}\nhand-written: verdict {}, {}",
                hex(data),
                a.retval,
                hex(&a.data),
                b.retval,
                hex(&b.data)
            );
        }
    }
    Ok(verdicts)
}

#[test]
fn group_b_twins_agree_on_their_packets_and_the_stf_packets() {
    if let Some(why) = harness::kernel_unavailable() {
        println!("skipped: {why}");
        return;
    }
    let work = std::env::var_os("CARGO_TARGET_TMPDIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join("p4tc-bench-group-b");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let options = Options::quick(work, examples);
    let all_scales = std::env::var_os("P4TC_GROUP_B_SCALES").is_some();
    let mut failures = Vec::new();
    for case in selected() {
        let mut scales = case.scales();
        scales.sort_by_key(|s| s.entries);
        let keep = if all_scales { scales.len() } else { 1 };
        for scale in scales.iter().filter(|s| s.entries <= 1_000).take(keep) {
            match check(case.as_ref(), scale, &options) {
                Ok(v) => println!("{} at {}: verdicts {v:?}", case.example(), scale.label),
                Err(e) => failures.push(format!("{} at {}: {e:#}", case.example(), scale.label)),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
