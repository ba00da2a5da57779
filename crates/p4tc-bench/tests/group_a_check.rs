//! Group A's cases against their hand-written twins in the kernel: each case at its scales of
//! up to 1,000 entries is built, filled and given every packet it returns (up to the harness's
//! check limit); both programs must give the same verdicts and the same bytes. Skips (with a
//! message) without root, BTF or clang.
//!
//! `P4TC_GROUP_A=name,name` limits the run to some examples. Ratios come from
//! `cargo bench -p p4tc-bench --bench compare -- --quick NAME`.
#![allow(clippy::print_stdout)]

use std::path::Path;

use p4tc_bench::harness::{self, Options};

#[test]
fn group_a_cases_match_their_hand_written_twins() {
    if let Some(why) = harness::kernel_unavailable() {
        println!("skipped: {why}");
        return;
    }
    let only: Option<Vec<String>> = std::env::var("P4TC_GROUP_A")
        .ok()
        .map(|s| s.split(',').map(str::to_string).collect());
    let work = std::env::var_os("CARGO_TARGET_TMPDIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join(format!("p4tc-group-a-{}", std::process::id()));
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let options = Options::quick(work.clone(), examples);
    let cases = p4tc_bench::cases::group_a::all();
    assert!(!cases.is_empty());
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in &cases {
        if only
            .as_ref()
            .is_some_and(|o| !o.iter().any(|n| n == case.example()))
        {
            continue;
        }
        for scale in case
            .scales()
            .iter()
            .filter(|s| s.entries <= options.max_entries)
        {
            match harness::check_scale(case.as_ref(), scale, &options) {
                Ok(Ok(verdicts)) => {
                    println!(
                        "{} at {}: same on every packet, verdicts {verdicts:?}",
                        case.example(),
                        scale.label
                    );
                    assert!(!verdicts.is_empty());
                    checked += 1;
                }
                Ok(Err(detail)) => {
                    failures.push(format!("{} at {}: {detail}", case.example(), scale.label))
                }
                Err(e) => failures.push(format!("{} at {}: {e:#}", case.example(), scale.label)),
            }
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked > 0 || only.is_some(), "no scale was checked");
}
