//! The corpus of valid programs under `tests/p4/ok/`: each one parses cleanly, prints back to
//! source that parses to the same tree, and together they use every grammar production.

use std::collections::BTreeSet;
use std::path::PathBuf;

use p4tc_front::coverage::{productions, Production};
use p4tc_front::{parse_file, parse_source, printer, PreprocessOptions};
use p4tc_ir::FileId;

/// The valid programs: the language-feature corpus under `tests/p4/ok/` and the P4TC
/// examples under `examples/<name>/<name>.p4`.
fn corpus() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = p4_files(&root.join("tests/p4/ok"));
    let examples = root.join("examples");
    for entry in std::fs::read_dir(&examples)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", examples.display()))
    {
        let dir = entry.expect("directory entry").path();
        if dir.is_dir() {
            files.extend(p4_files(&dir));
        }
    }
    files.sort();
    files
}

fn p4_files(dir: &std::path::Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "p4"))
        .collect()
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

/// Corpus programs that use what the checker does not support yet. Each must fail, and only
/// with errors that say "not supported yet"; when one starts to pass, take it off the list.
const NOT_SUPPORTED_YET: &[&str] = &[];

#[test]
fn every_corpus_program_type_checks() {
    let mut failures = String::new();
    for path in corpus() {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let mut parsed = parse_file(&path, &PreprocessOptions::default()).expect("readable");
        let module = p4tc_front::check(&mut parsed);
        let errors: Vec<_> = parsed.diagnostics.iter().filter(|d| d.is_error()).collect();
        if NOT_SUPPORTED_YET.contains(&name.as_str()) {
            assert!(
                module.is_none(),
                "{name} now checks: take it off NOT_SUPPORTED_YET"
            );
            for e in &errors {
                assert!(
                    e.message.contains("not supported yet"),
                    "{name}: an error other than a known gap:\n{}",
                    parsed.render_diagnostics()
                );
            }
            continue;
        }
        if module.is_none() || !errors.is_empty() {
            failures.push_str(&parsed.render_diagnostics());
        }
    }
    assert!(
        failures.is_empty(),
        "corpus programs that do not check:\n{failures}"
    );
}

#[test]
fn checked_programs_bind_the_pna_pipeline() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/simple_l3/simple_l3.p4");
    let mut parsed = parse_file(&path, &PreprocessOptions::default()).expect("readable");
    let module =
        p4tc_front::check(&mut parsed).unwrap_or_else(|| panic!("{}", parsed.render_diagnostics()));
    let pipeline = module
        .pipeline
        .as_ref()
        .expect("simple_l3 instantiates PNA_NIC as main");
    assert_eq!(pipeline.package, "PNA_NIC");
    let roles: Vec<_> = pipeline.blocks.iter().map(|(role, _)| *role).collect();
    use p4tc_ir::ir::Role;
    assert_eq!(
        roles,
        [Role::MainParser, Role::MainControl, Role::MainDeparser]
    );
    let table = module
        .tables
        .iter()
        .map(|(_, t)| t)
        .find(|t| t.name == "nh_table")
        .expect("nh_table");
    assert_eq!(table.keys.len(), 1);
    assert_eq!(table.keys[0].name, "dstAddr");
    assert_eq!(
        module.match_kinds[table.keys[0].match_kind as usize],
        "exact"
    );
}
