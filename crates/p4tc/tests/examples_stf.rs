//! Every example with an STF test (`examples/NAME/NAME.stf` beside `NAME.p4`) passes it on
//! the interpreter, through `p4tc test` as a user runs it. All failures are reported at once.

use std::path::Path;
use std::process::Command;

#[test]
fn every_example_stf_passes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .expect("examples/ is readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    dirs.sort();
    let mut ran = 0;
    let mut failed = Vec::new();
    for dir in dirs {
        let Some(name) = dir.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let (p4, stf) = (
            dir.join(format!("{name}.p4")),
            dir.join(format!("{name}.stf")),
        );
        if !p4.exists() || !stf.exists() {
            continue;
        }
        ran += 1;
        let output = Command::new(env!("CARGO_BIN_EXE_p4tc"))
            .arg("test")
            .arg(&p4)
            .arg(&stf)
            .output()
            .expect("the p4tc binary runs");
        if !output.status.success() {
            failed.push(format!(
                "== {name} (exit {:?})\n{}{}",
                output.status.code(),
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    assert!(ran > 0, "no example has an STF test");
    assert!(
        failed.is_empty(),
        "{} of {ran} example STF tests fail:\n{}",
        failed.len(),
        failed.join("\n")
    );
}
