//! The corpus of valid programs under `tests/p4/ok/`: each one parses cleanly, prints back to
//! source that parses to the same tree, and together they use every grammar production.

use std::collections::BTreeSet;
use std::path::PathBuf;

use p4tc_front::coverage::{productions, Production};
use p4tc_front::{parse_file, parse_source, printer, PreprocessOptions};
use p4tc_ir::FileId;

fn corpus() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/p4/ok");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "p4"))
        .collect();
    files.sort();
    files
}

#[test]
fn corpus_is_large_enough() {
    let n = corpus().len();
    assert!(
        n >= 40,
        "the corpus has {n} programs; it should have at least 40"
    );
}

#[test]
fn every_corpus_program_parses_without_diagnostics() {
    let mut failures = String::new();
    for path in corpus() {
        let parsed = parse_file(&path, &PreprocessOptions::default()).expect("readable");
        if !parsed.diagnostics.is_empty() {
            failures.push_str(&parsed.render_diagnostics());
        }
        assert!(
            !parsed.program.declarations.is_empty(),
            "{} parsed to nothing",
            path.display()
        );
    }
    assert!(
        failures.is_empty(),
        "diagnostics on the corpus:\n{failures}"
    );
}

#[test]
fn parse_print_parse_gives_the_same_tree() {
    for path in corpus() {
        let first = parse_file(&path, &PreprocessOptions::default()).expect("readable");
        assert!(
            !first.has_errors(),
            "{}:\n{}",
            path.display(),
            first.render_diagnostics()
        );
        let printed = printer::print_program(&first.program);
        let second = parse_source("printed.p4", &printed, &PreprocessOptions::default());
        assert!(
            !second.has_errors(),
            "{} printed to source that does not parse:\n{}\n--- printed ---\n{printed}",
            path.display(),
            second.render_diagnostics()
        );
        if first.program != second.program {
            // Find the first declaration that differs, to keep the failure readable.
            let pairs = first
                .program
                .declarations
                .iter()
                .zip(&second.program.declarations);
            for (a, b) in pairs {
                assert_eq!(
                    a,
                    b,
                    "{}: a declaration changed through print and parse",
                    path.display()
                );
            }
            panic!(
                "{}: the number of declarations changed through print and parse",
                path.display()
            );
        }
        // Printing is a fixed point after one round.
        assert_eq!(
            printed,
            printer::print_program(&second.program),
            "{}: printing is not stable",
            path.display()
        );
    }
}

#[test]
fn corpus_uses_every_production() {
    let mut used = BTreeSet::new();
    for path in corpus() {
        let parsed = parse_file(&path, &PreprocessOptions::default()).expect("readable");
        // Count only what the program itself writes, not the architecture files it includes.
        let own = p4tc_front::ast::Program {
            declarations: parsed
                .program
                .declarations
                .into_iter()
                .filter(|d| d.span.file == FileId(0))
                .collect(),
        };
        used.extend(productions(&own));
    }
    let missing: Vec<Production> = Production::ALL
        .iter()
        .copied()
        .filter(|p| !used.contains(p))
        .collect();
    assert!(
        missing.is_empty(),
        "no corpus program uses these productions: {missing:?}"
    );
}
