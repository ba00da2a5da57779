//! Snapshot tests of error messages: every top-level `tests/p4/err/NAME.p4` is a program with
//! one mistake (a few have several, to show recovery), and `NAME.stderr` beside it holds the
//! exact text `render_diagnostics()` gives for it.
//!
//! Files are opened through the path `../../tests/p4/err/NAME.p4`, relative to this crate's
//! directory (where Cargo runs integration tests), so the file names in the snapshots are the
//! same on every machine. Helper files (included ones) live in subfolders and are not run.
//!
//! After changing a message on purpose, run `BLESS=1 cargo test -p p4tc-front --test
//! diagnostics` to rewrite the snapshots, and review the change in `git diff`.

use std::path::{Path, PathBuf};

use p4tc_front::{parse_file, PreprocessOptions};

/// The corpus directory, relative to the crate directory (the tests' working directory).
const ERR_DIR: &str = "../../tests/p4/err";

/// Fewer programs than this means the corpus went missing, not that it is small by design.
const MIN_PROGRAMS: usize = 25;

/// The stack each program is parsed on: that of a default test thread, which the parser's
/// nesting bound must fit in.
const PARSE_STACK: usize = 2 * 1024 * 1024;

/// The top-level `.p4` files of the corpus, sorted by name.
fn programs() -> Vec<PathBuf> {
    let dir = Path::new(ERR_DIR);
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| {
        panic!(
            "cannot read {} (from {:?}): {e}",
            dir.display(),
            std::env::current_dir().unwrap_or_default()
        )
    });
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("directory entry").file_name())
        .filter(|name| Path::new(name).extension().is_some_and(|ext| ext == "p4"))
        .map(|name| dir.join(name))
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

fn bless() -> bool {
    std::env::var_os("BLESS").is_some_and(|v| !v.is_empty() && v != "0")
}

/// What parsing one program gave.
struct Outcome {
    has_errors: bool,
    /// Each diagnostic rendered on its own.
    each: Vec<String>,
    /// `render_diagnostics()`.
    all: String,
}

/// Parses and checks `path` on a thread of its own, so that a panic is reported for that
/// program.
fn parse(path: &Path) -> Result<Outcome, String> {
    let owned = path.to_path_buf();
    let worker = std::thread::Builder::new()
        .stack_size(PARSE_STACK)
        .spawn(move || {
            parse_file(&owned, &PreprocessOptions::default())
                .map(|mut parsed| {
                    // Syntax errors stop there; a program that parses is also checked.
                    let _ = p4tc_front::check(&mut parsed);
                    parsed
                })
                .map(|parsed| Outcome {
                    has_errors: parsed.has_errors(),
                    each: parsed
                        .diagnostics
                        .iter()
                        .map(|d| d.render(&parsed.sources))
                        .collect(),
                    all: parsed.render_diagnostics(),
                })
        })
        .map_err(|e| format!("cannot spawn a thread: {e}"))?;
    match worker.join() {
        Ok(Ok(outcome)) => Ok(outcome),
        Ok(Err(e)) => Err(format!("cannot read it: {e}")),
        Err(_) => Err("the front-end panicked".to_string()),
    }
}

/// Checks that `line` reads `file:line:col: error: message` (or `warning`), with a file name,
/// positive line and column numbers and a message.
fn check_first_line(line: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("{why}: {line:?}"));
    let Some((position, rest)) = line.split_once(": ") else {
        return bad("no `: ` after the position");
    };
    let Some(message) = rest
        .strip_prefix("error: ")
        .or_else(|| rest.strip_prefix("warning: "))
    else {
        return bad("no `error: ` after the position");
    };
    if message.trim().is_empty() {
        return bad("empty message");
    }
    let mut parts = position.rsplitn(3, ':');
    let (col, line_no, file) = (parts.next(), parts.next(), parts.next());
    let number = |s: Option<&str>| s.and_then(|s| s.parse::<u32>().ok()).filter(|&n| n > 0);
    if number(col).is_none() || number(line_no).is_none() {
        return bad("the position is not `file:line:col`");
    }
    if file.is_none_or(str::is_empty) {
        return bad("no file name");
    }
    Ok(())
}

/// Checks one program; returns what is wrong with it, if anything.
fn check_program(path: &Path, bless: bool) -> Option<String> {
    let outcome = match parse(path) {
        Ok(outcome) => outcome,
        Err(why) => return Some(why),
    };
    let mut problems = Vec::new();
    if !outcome.has_errors {
        problems.push("it produced no error (each program here must be rejected)".to_string());
    }
    for rendered in &outcome.each {
        if let Err(why) = check_first_line(rendered.lines().next().unwrap_or_default()) {
            problems.push(format!("badly shaped diagnostic, {why}"));
        }
    }
    let actual = outcome.all;
    let snapshot = path.with_extension("stderr");
    if bless {
        if let Err(e) = std::fs::write(&snapshot, &actual) {
            problems.push(format!("cannot write {}: {e}", snapshot.display()));
        }
    } else {
        match std::fs::read_to_string(&snapshot) {
            Ok(expected) if expected == actual => {}
            Ok(expected) => problems.push(format!(
                "the diagnostics differ from {} (- expected, + actual):\n{}",
                snapshot.display(),
                diff(&expected, &actual)
            )),
            Err(e) => problems.push(format!(
                "cannot read {} ({e}); run `BLESS=1 cargo test -p p4tc-front --test diagnostics` to create it",
                snapshot.display()
            )),
        }
    }
    if problems.is_empty() {
        None
    } else {
        Some(problems.join("\n"))
    }
}

/// A line diff of `expected` and `actual`: unchanged lines start with two spaces, lines only
/// in `expected` with `- `, lines only in `actual` with `+ `.
fn diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    // lcs[i][j]: length of the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut out = String::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push_str(&format!("  {}\n", a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push_str(&format!("- {}\n", a[i]));
            i += 1;
        } else {
            out.push_str(&format!("+ {}\n", b[j]));
            j += 1;
        }
    }
    if expected.ends_with('\n') != actual.ends_with('\n') {
        out.push_str("(the two differ in whether they end with a newline)\n");
    }
    out
}

#[test]
fn every_program_gives_its_recorded_diagnostics() {
    let bless = bless();
    let mut failures = Vec::new();
    for path in programs() {
        if let Some(problem) = check_program(&path, bless) {
            failures.push(format!("{}:\n{problem}", path.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} program(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn the_corpus_is_large_enough() {
    let n = programs().len();
    assert!(
        n >= MIN_PROGRAMS,
        "{ERR_DIR} has {n} programs; it should have at least {MIN_PROGRAMS}"
    );
}

#[test]
fn every_program_says_what_its_mistake_is() {
    let mut unexplained = Vec::new();
    for path in programs() {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        if !text.starts_with("//") {
            unexplained.push(path.display().to_string());
        }
    }
    assert!(
        unexplained.is_empty(),
        "these should start with a `//` comment naming the mistake: {unexplained:?}"
    );
}

#[test]
fn every_snapshot_has_its_program() {
    let mut orphans = Vec::new();
    for entry in std::fs::read_dir(ERR_DIR).expect("readable corpus directory") {
        let path = entry.expect("directory entry").path();
        if path.extension().is_some_and(|ext| ext == "stderr")
            && !path.with_extension("p4").is_file()
        {
            orphans.push(path.display().to_string());
        }
    }
    assert!(
        orphans.is_empty(),
        "snapshots without a program (delete them): {orphans:?}"
    );
}

#[test]
fn the_diff_marks_changed_lines() {
    assert_eq!(diff("a\nb\nc\n", "a\nx\nc\n"), "  a\n- b\n+ x\n  c\n");
    assert_eq!(diff("a\n", "a\nb\n"), "  a\n+ b\n");
    assert!(check_first_line("x.p4:3:14: error: expected `;`").is_ok());
    assert!(check_first_line("x.p4:3: error: expected `;`").is_err());
    assert!(check_first_line("x.p4:3:0: error: expected `;`").is_err());
    assert!(check_first_line("x.p4:3:1: note: the block starts here").is_err());
}
