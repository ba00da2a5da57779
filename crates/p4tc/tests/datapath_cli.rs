//! `p4tc compile` for the eBPF datapath and the errors of `load`, `show` and `unload` that
//! need no kernel (the kernel runs are in `kernel_e2e.rs`): files written, exit codes, what
//! a missing clang looks like, `--help` examples.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const P4TC: &str = env!("CARGO_BIN_EXE_p4tc");

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/simple_l3/simple_l3.p4")
}

/// A scratch directory removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("p4tc-dp-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn p4tc(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(P4TC);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("p4tc runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn clang_here() -> bool {
    Command::new("clang")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
        && Path::new("/usr/include/bpf/bpf_helpers.h").exists()
}

#[test]
fn compile_writes_c_object_json_and_build_description() {
    let s = Scratch::new("all");
    let out = s.0.to_str().expect("utf-8");
    let run = p4tc(&["compile", example().to_str().unwrap(), "-o", out], &[]);
    let info: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(s.0.join("simple_l3.p4tc.json")).expect("build description"),
    )
    .expect("JSON");
    assert_eq!(info["pipeline"], "simple_l3");
    assert_eq!(info["hook"], "tc");
    for f in ["simple_l3.json", "simple_l3.c", "p4tc_runtime.h"] {
        assert!(s.0.join(f).exists(), "{f}");
    }
    let c = std::fs::read_to_string(s.0.join("simple_l3.c")).expect("C");
    assert!(c.contains("classifier"), "a TC program");
    if clang_here() {
        assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
        assert!(s.0.join("simple_l3.o").exists());
        assert_eq!(info["object"], "simple_l3.o");
    } else {
        assert_eq!(run.status.code(), Some(2), "{}", text(&run.stderr));
    }
}

#[test]
fn compile_without_clang_writes_the_c_and_says_how_to_install_it() {
    let s = Scratch::new("noclang");
    let out = s.0.to_str().expect("utf-8");
    let run = p4tc(
        &["compile", example().to_str().unwrap(), "-o", out],
        &[("P4TC_CLANG", "/nonexistent/clang")],
    );
    assert_eq!(run.status.code(), Some(2));
    let err = text(&run.stderr);
    assert!(
        err.contains("apt-get install clang llvm libbpf-dev"),
        "{err}"
    );
    assert!(err.contains("--no-object"), "{err}");
    assert!(s.0.join("simple_l3.json").exists());
    assert!(s.0.join("simple_l3.c").exists());
    assert!(!s.0.join("simple_l3.o").exists());

    let run = p4tc(
        &[
            "compile",
            example().to_str().unwrap(),
            "-o",
            out,
            "--no-object",
            "--hook",
            "xdp",
        ],
        &[("P4TC_CLANG", "/nonexistent/clang")],
    );
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let c = std::fs::read_to_string(s.0.join("simple_l3.c")).expect("C");
    assert!(c.contains("struct xdp_md"), "an XDP program");
}

#[test]
fn compile_reports_program_errors_with_exit_1() {
    let s = Scratch::new("broken");
    let broken = s.0.join("broken.p4");
    let source = std::fs::read_to_string(example())
        .expect("example")
        .replace("send_to_port(port);", "send_to_port(srcMac);");
    std::fs::write(&broken, source).expect("write");
    let run = p4tc(
        &[
            "compile",
            broken.to_str().unwrap(),
            "-o",
            s.0.join("out").to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(run.status.code(), Some(1));
    assert!(
        text(&run.stderr).contains("broken.p4:"),
        "{}",
        text(&run.stderr)
    );
}

#[test]
fn load_show_unload_have_help_with_examples() {
    for cmd in ["load", "show", "unload", "compile"] {
        let run = p4tc(&[cmd, "--help"], &[]);
        assert_eq!(run.status.code(), Some(0));
        let help = text(&run.stdout);
        assert!(help.contains("Examples:"), "{cmd}: {help}");
        assert!(help.contains(&format!("p4tc {cmd}")), "{cmd}: {help}");
    }
}

#[test]
fn load_refuses_what_it_cannot_do_with_exit_2() {
    let s = Scratch::new("load");
    // A directory that `p4tc compile` did not write.
    let run = p4tc(&["load", s.0.to_str().unwrap(), "--dev", "lo"], &[]);
    assert_eq!(run.status.code(), Some(2), "{}", text(&run.stderr));
    // -D with a directory: its build description has them already.
    let run = p4tc(
        &["load", s.0.to_str().unwrap(), "-D", "X", "--dev", "lo"],
        &[],
    );
    assert_eq!(run.status.code(), Some(2));
    assert!(text(&run.stderr).contains("-I and -D go with a .p4 file"));
    // A bad pipeline name.
    let run = p4tc(
        &[
            "load",
            example().to_str().unwrap(),
            "--name",
            "no/slashes",
            "--dev",
            "lo",
        ],
        &[],
    );
    assert_eq!(run.status.code(), Some(2));
    assert!(text(&run.stderr).contains("cannot name a pipeline"));
    // A namespace that does not exist (or no bpffs, when not root: exit 2 all the same).
    let run = p4tc(
        &[
            "load",
            example().to_str().unwrap(),
            "--dev",
            "eth0",
            "--netns",
            "p4tc-no-such-namespace",
        ],
        &[],
    );
    assert_eq!(run.status.code(), Some(2), "{}", text(&run.stderr));
}

#[test]
fn show_and_unload_of_an_unknown_pipeline_exit_1() {
    let name = format!("p4tc-none-{}", std::process::id());
    let run = p4tc(&["show", &name], &[]);
    assert_eq!(run.status.code(), Some(1));
    assert!(text(&run.stderr).contains("no pipeline"));
    let run = p4tc(&["unload", &name], &[]);
    assert_eq!(run.status.code(), Some(1));
}
