//! Every case at its smallest scale: our generated program and the hand-written one give the
//! same verdicts and the same bytes on the case's packets (no timing). Skips without root,
//! BTF or clang, as the other kernel tests do.
#![allow(clippy::print_stdout)]

use std::path::Path;

use p4tc_bench::harness::{self, Options};

#[test]
fn every_case_matches_its_hand_written_twin_at_its_smallest_scale() {
    if let Some(why) = harness::kernel_unavailable() {
        println!("skipped: {why}");
        return;
    }
    let work = std::env::var_os("CARGO_TARGET_TMPDIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join("p4tc-bench-equivalence");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let options = Options::quick(work, examples);
    let mut failures = Vec::new();
    let cases = p4tc_bench::cases::all();
    assert!(!cases.is_empty());
    for case in &cases {
        let scales = case.scales();
        let Some(scale) = scales.iter().min_by_key(|s| s.entries) else {
            failures.push(format!("{}: no scales", case.example()));
            continue;
        };
        match harness::check_scale(case.as_ref(), scale, &options) {
            Ok(Ok(verdicts)) => {
                println!(
                    "{} at {}: same on every packet {verdicts:?}",
                    case.example(),
                    scale.label
                );
                assert!(!verdicts.is_empty());
            }
            Ok(Err(detail)) => {
                failures.push(format!("{} at {}: {detail}", case.example(), scale.label))
            }
            Err(e) => failures.push(format!("{} at {}: {e:#}", case.example(), scale.label)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
