//! The `p4tc check` command as a user runs it: exit codes, what goes to stdout and stderr,
//! and the options (`-I`, `-D`, `--dump`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A directory of its own for one test, removed when the test ends.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("p4tc-cli-{}-{n}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        TempDir(dir)
    }

    /// Writes `text` to `name` (which may contain `/`) under the directory; returns its path.
    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent directory");
        }
        std::fs::write(&path, text)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        path
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn p4tc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_p4tc"))
        .args(args)
        .output()
        .expect("the p4tc binary runs")
}

fn check(args: &[&str]) -> Output {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    p4tc(&all)
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Everything about a run, for assertion messages.
fn describe(output: &Output) -> String {
    format!(
        "status: {}\n--- stdout ---\n{}--- stderr ---\n{}",
        output.status,
        stdout(output),
        stderr(output)
    )
}

fn as_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temporary path")
}

/// A small program that is fine, without includes.
const VALID: &str = "\
// A header, a parser and a control with a table: all correct.
#include <core.p4>

header ethernet_t {
    bit<48> dst;
    bit<48> src;
    bit<16> ether_type;
}

struct headers_t {
    ethernet_t ethernet;
}

parser MyParser(inout headers_t hdr) {
    state start {
        transition select(hdr.ethernet.ether_type) {
            0x0800: accept;
            default: reject;
        }
    }
}

control MyControl(inout headers_t hdr) {
    action set_dst(bit<48> dst) {
        hdr.ethernet.dst = dst;
    }
    action nop() {}
    table forward {
        key = {
            hdr.ethernet.dst : exact;
        }
        actions = {
            set_dst;
            nop;
        }
        default_action = nop();
        size = 1024;
    }
    apply {
        if (hdr.ethernet.ether_type == 16w0x0800) {
            forward.apply();
        }
    }
}
";

#[test]
fn a_valid_program_passes_silently() {
    let dir = TempDir::new("valid");
    let file = dir.write("valid.p4", VALID);
    let output = check(&[as_str(&file)]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    assert!(output.stdout.is_empty(), "{}", describe(&output));
    assert!(output.stderr.is_empty(), "{}", describe(&output));
}

#[test]
fn a_broken_program_fails_with_position_source_line_and_caret() {
    let dir = TempDir::new("broken");
    let file = dir.write(
        "broken.p4",
        "// The assignment lacks its `;`.\ncontrol C(inout bit<8> x) {\n    apply {\n        x = 1 x = 2;\n    }\n}\n",
    );
    let output = check(&[as_str(&file)]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(output.stdout.is_empty(), "{}", describe(&output));
    let err = stderr(&output);
    let lines: Vec<&str> = err.lines().collect();
    assert!(lines.len() >= 3, "{}", describe(&output));
    let expected_start = format!("{}:4:15: error: ", file.display());
    assert!(
        lines[0].starts_with(&expected_start),
        "first line should start with {expected_start:?}:\n{err}"
    );
    assert!(lines[0].contains("expected `;`"), "{err}");
    assert_eq!(
        lines[1], "        x = 1 x = 2;",
        "the second line is the source line:\n{err}"
    );
    assert_eq!(
        lines[2], "              ^",
        "the third line puts a caret under the mistake:\n{err}"
    );
}

#[test]
fn every_error_is_reported_in_one_run() {
    let dir = TempDir::new("several");
    let file = dir.write(
        "several.p4",
        "const bit<8> A = 0b102;\nconst bit<8> B = 1\nconst bit<8> C = 2;\nstate s { transition accept; }\n",
    );
    let output = check(&[as_str(&file)]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let err = stderr(&output);
    let errors: Vec<&str> = err.lines().filter(|l| l.contains(": error: ")).collect();
    assert_eq!(errors.len(), 3, "one error per mistake:\n{err}");
    for (line, at) in errors.iter().zip(["1:", "2:", "4:"]) {
        assert!(
            line.starts_with(&format!("{}:{at}", file.display())),
            "{line:?} should be on line {at}\n{err}"
        );
    }
}

#[test]
fn a_missing_file_is_an_error_naming_it() {
    let dir = TempDir::new("missing");
    let file = dir.path().join("no_such_program.p4");
    let output = check(&[as_str(&file)]);
    // 2, not 1: p4tc could not do its job, which is not the same as a program with errors.
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    assert!(output.stdout.is_empty(), "{}", describe(&output));
    let err = stderr(&output);
    assert!(
        err.contains(as_str(&file)),
        "the message should name the file:\n{err}"
    );
    assert!(err.starts_with("error: "), "{err}");
}

#[test]
fn a_bad_macro_name_is_rejected() {
    let dir = TempDir::new("bad-define");
    let file = dir.write("valid.p4", VALID);
    for bad in ["1ABC", "A-B=1", "=1", ""] {
        let output = check(&[as_str(&file), "-D", bad]);
        assert!(
            !output.status.success(),
            "-D {bad:?} should be rejected:\n{}",
            describe(&output)
        );
        assert!(
            stderr(&output).contains("not a valid macro name"),
            "-D {bad:?}:\n{}",
            describe(&output)
        );
    }
    // A good name with or without a value is accepted.
    for good in ["USE_IPV6", "_X", "TABLE_SIZE=4096", "EMPTY="] {
        let output = check(&[as_str(&file), "-D", good]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "-D {good:?}:\n{}",
            describe(&output)
        );
    }
}

#[test]
fn help_shows_an_example() {
    let output = check(&["--help"]);
    assert!(output.status.success(), "{}", describe(&output));
    let text = stdout(&output);
    assert!(text.contains("Examples:"), "{text}");
    assert!(
        text.contains("p4tc check ") && text.contains(".p4"),
        "an example command line:\n{text}"
    );
    assert!(
        text.contains("-I") && text.contains("-D") && text.contains("--dump"),
        "{text}"
    );
}

#[test]
fn dump_source_prints_a_program_that_checks() {
    let dir = TempDir::new("dump-source");
    let file = dir.write("valid.p4", VALID);
    let output = check(&[as_str(&file), "--dump=source"]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    assert!(output.stderr.is_empty(), "{}", describe(&output));
    let printed = stdout(&output);
    for word in [
        "header ethernet_t",
        "parser MyParser",
        "control MyControl",
        "table forward",
        "apply",
    ] {
        assert!(
            printed.contains(word),
            "the dump should contain {word:?}:\n{printed}"
        );
    }
    // What is printed is P4 that checks, and prints the same way again.
    let again = dir.write("printed.p4", &printed);
    let output = check(&[as_str(&again), "--dump=source"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "the printed program should check:\n{printed}\n{}",
        describe(&output)
    );
    assert_eq!(stdout(&output), printed, "printing is stable");
}

#[test]
fn dump_source_of_a_broken_program_still_fails() {
    let dir = TempDir::new("dump-broken");
    let file = dir.write("broken.p4", "const bit<8> A = ;\n");
    let output = check(&[as_str(&file), "--dump=source"]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(
        stderr(&output).contains(": error: "),
        "{}",
        describe(&output)
    );
}

#[test]
fn include_dirs_and_defines_are_used() {
    let dir = TempDir::new("include-define");
    dir.write(
        "inc/table_defs.p4",
        "// Found only through -I.\n#ifndef TABLE_SIZE\n#error \"define TABLE_SIZE with -D TABLE_SIZE=N\"\n#endif\nconst bit<32> FORWARD_SIZE = TABLE_SIZE;\n",
    );
    let file = dir.write(
        "prog.p4",
        "#include <table_defs.p4>\n\
         #ifdef USE_EXTRA\n\
         const bit<8> EXTRA = 1;\n\
         #else\n\
         this is not P4 and must be skipped\n\
         #endif\n\
         control C(inout bit<32> x) {\n    apply {\n        x = FORWARD_SIZE + (bit<32>)EXTRA;\n    }\n}\n",
    );
    let inc = dir.path().join("inc");
    let (prog, inc) = (as_str(&file), as_str(&inc));

    let output = check(&[prog, "-I", inc, "-D", "TABLE_SIZE=4096", "-D", "USE_EXTRA"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "with -I and both -D:\n{}",
        describe(&output)
    );
    assert!(output.stderr.is_empty(), "{}", describe(&output));

    // The macro's value reaches the program.
    let output = check(&[
        prog,
        "-I",
        inc,
        "-D",
        "TABLE_SIZE=4096",
        "-D",
        "USE_EXTRA",
        "--dump=source",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    assert!(
        stdout(&output).contains("4096"),
        "TABLE_SIZE should be replaced:\n{}",
        describe(&output)
    );

    // Without -I the include is not found.
    let output = check(&[prog, "-D", "TABLE_SIZE=4096", "-D", "USE_EXTRA"]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "without -I:\n{}",
        describe(&output)
    );
    assert!(
        stderr(&output).contains("table_defs.p4"),
        "the message should name the include:\n{}",
        describe(&output)
    );

    // Without -D TABLE_SIZE the included file's #error fires.
    let output = check(&[prog, "-I", inc, "-D", "USE_EXTRA"]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "without -D TABLE_SIZE:\n{}",
        describe(&output)
    );
    assert!(
        stderr(&output).contains("define TABLE_SIZE"),
        "the #error's text is shown:\n{}",
        describe(&output)
    );

    // Without -D USE_EXTRA the #else branch, which is not P4, is parsed and rejected.
    let output = check(&[prog, "-I", inc, "-D", "TABLE_SIZE=4096"]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "without -D USE_EXTRA:\n{}",
        describe(&output)
    );
}

#[test]
fn the_architecture_includes_are_built_in() {
    let dir = TempDir::new("builtin-include");
    let file = dir.write(
        "prog.p4",
        "#include <core.p4>\n\
         header h_t { bit<8> a; }\n\
         parser P(packet_in pkt, out h_t h) {\n    state start {\n        pkt.extract(h);\n        transition accept;\n    }\n}\n",
    );
    let output = check(&[as_str(&file)]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    assert!(output.stderr.is_empty(), "{}", describe(&output));
}

#[test]
fn a_deeply_nested_program_is_an_error_not_a_crash() {
    let dir = TempDir::new("deep");
    let depth = 5000;
    let file = dir.write(
        "deep.p4",
        &format!(
            "const bit<8> X = {}1{};\n",
            "(".repeat(depth),
            ")".repeat(depth)
        ),
    );
    let output = check(&[as_str(&file)]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let err = stderr(&output);
    assert_eq!(err.matches("nesting is too deep").count(), 1, "{err}");
}
