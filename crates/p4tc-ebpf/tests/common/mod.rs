//! Shared helpers of the integration tests.
#![allow(dead_code, clippy::print_stdout, clippy::print_stderr)]

use std::path::{Path, PathBuf};

use p4tc_ir::ir::Module;

/// The workspace's examples directory.
pub fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

/// Every example program, sorted.
pub fn examples() -> Vec<(String, PathBuf)> {
    let mut v = Vec::new();
    for entry in std::fs::read_dir(examples_dir()).expect("examples/") {
        let dir = entry.expect("entry").path();
        if !dir.is_dir() {
            continue;
        }
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let p4 = dir.join(format!("{name}.p4"));
        if p4.exists() {
            v.push((name, p4));
        }
    }
    v.sort();
    v
}

/// The checked IR of a P4 file.
pub fn module_of(path: &Path) -> Module {
    let mut parsed =
        p4tc_front::parse_file(path, &p4tc_front::PreprocessOptions::default()).expect("readable");
    match p4tc_front::check(&mut parsed) {
        Some(m) => m,
        None => panic!(
            "{} does not check:\n{}",
            path.display(),
            parsed.render_diagnostics()
        ),
    }
}

/// A scratch directory for one example's C and object.
pub fn out_dir(test: &str, name: &str) -> PathBuf {
    let base = std::env::var_os("CARGO_TARGET_TMPDIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let d = base.join("p4tc-ebpf").join(test).join(name);
    std::fs::create_dir_all(&d).expect("out dir");
    d
}
