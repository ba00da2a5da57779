//! The front-end never panics or hangs, whatever it is given: arbitrary bytes, mutated corpus
//! programs, and pathologically deep nesting. Case counts come from `PROPTEST_CASES` (the test
//! script sets 10,000).

use std::path::PathBuf;

use p4tc_front::{parse_source, PreprocessOptions};
use proptest::prelude::*;

/// The stack a default test thread gets, which is less than the command line's: passing here
/// means the nesting bound holds with room to spare.
const TEST_STACK: usize = 2 * 1024 * 1024;

fn parse_on_small_stack(text: String) -> p4tc_front::Parsed {
    std::thread::Builder::new()
        .stack_size(TEST_STACK)
        .spawn(move || parse_source("deep.p4", &text, &PreprocessOptions::default()))
        .expect("spawn")
        .join()
        .expect("the front-end crashed")
}

/// `x` in `depth` pairs of parentheses, as a constant's value.
fn parenthesised(depth: usize) -> String {
    format!(
        "const bit<8> x = {}1{};",
        "(".repeat(depth),
        ")".repeat(depth)
    )
}

fn assert_parses_cleanly(text: String) {
    let parsed = parse_on_small_stack(text);
    assert!(
        parsed.diagnostics.is_empty(),
        "{}",
        parsed.render_diagnostics()
    );
}

fn assert_too_deep(text: String) {
    let parsed = parse_on_small_stack(text);
    let messages: Vec<_> = parsed
        .diagnostics
        .iter()
        .map(|d| d.message.as_str())
        .collect();
    assert!(
        messages.iter().any(|m| m.contains("nesting is too deep")),
        "expected a nesting error, got {messages:?}"
    );
    assert_eq!(
        messages.iter().filter(|m| m.contains("too deep")).count(),
        1,
        "reported once: {messages:?}"
    );
}

#[test]
fn deep_parentheses_are_an_error_not_a_crash() {
    assert_too_deep(parenthesised(100_000));
}

#[test]
fn deep_unary_operators_are_an_error_not_a_crash() {
    assert_too_deep(format!("const bool x = {}true;", "!".repeat(100_000)));
}

#[test]
fn deep_blocks_are_an_error_not_a_crash() {
    let depth = 50_000;
    let text = format!(
        "control c() {{ apply {{ {} }} }}",
        "{".repeat(depth) + &"}".repeat(depth)
    );
    assert_too_deep(text);
}

#[test]
fn deep_if_chains_are_an_error_not_a_crash() {
    let body = "if (true) ".repeat(50_000) + "exit;";
    assert_too_deep(format!("control c() {{ apply {{ {body} }} }}"));
}

#[test]
fn deep_types_are_an_error_not_a_crash() {
    let depth = 50_000;
    let text = format!(
        "typedef {}bit<8>{} t;",
        "tuple<".repeat(depth),
        ">".repeat(depth)
    );
    assert_too_deep(text);
}

#[test]
fn nesting_within_the_bound_is_fine() {
    assert_parses_cleanly(parenthesised(60));
}

#[test]
fn a_long_flat_program_is_fine() {
    // Long is not deep: 20,000 statements and a 150-term sum parse without complaint.
    let stmts = "x = x + 1;\n".repeat(20_000);
    let sum = vec!["1"; 150].join(" + ");
    assert_parses_cleanly(format!(
        "control c() {{ apply {{ bit<8> x = {sum}; {stmts} }} }}"
    ));
}

#[test]
fn a_very_long_operator_chain_is_an_error_not_a_crash() {
    // `1 + 1 + ...` is a tree as deep as it is long; past the bound it is refused.
    assert_too_deep(format!("const int x = {};", vec!["1"; 100_000].join(" + ")));
}

fn corpus_texts() -> Vec<String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut dirs = vec![root.join("tests/p4/ok")];
    for entry in std::fs::read_dir(root.join("examples")).expect("examples directory") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            dirs.push(path);
        }
    }
    let mut paths: Vec<_> = dirs
        .iter()
        .flat_map(|dir| std::fs::read_dir(dir).expect("corpus directory"))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "p4"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| std::fs::read_to_string(p).expect("readable"))
        .collect()
}

/// One edit to a program: delete, duplicate or replace a span of bytes, or insert a token.
#[derive(Debug, Clone)]
enum Mutation {
    Delete { at: usize, len: usize },
    Duplicate { at: usize, len: usize },
    Insert { at: usize, text: &'static str },
    Swap { a: usize, b: usize },
}

const FRAGMENTS: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "<",
    ">",
    ";",
    ",",
    "#",
    "#include <core.p4>\n",
    "#define X(a) a a\n",
    "#if 1\n",
    "#endif\n",
    "@",
    "@name(",
    "8w",
    "0x",
    "\"",
    "/*",
    "//",
    "..",
    "&&&",
    "{#}",
    "...",
    "_",
    "apply",
    "state",
    "transition select(",
    "table t {",
    "bit<",
    "control",
    "\\\n",
    "\n#",
    "X(X(",
    "16s-",
    "\u{fffd}",
];

fn mutation(len: usize) -> impl Strategy<Value = Mutation> {
    let at = 0..=len;
    prop_oneof![
        (at.clone(), 1..16usize).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (at.clone(), 1..64usize).prop_map(|(at, len)| Mutation::Duplicate { at, len }),
        (at.clone(), prop::sample::select(FRAGMENTS))
            .prop_map(|(at, text)| Mutation::Insert { at, text }),
        (at.clone(), at).prop_map(|(a, b)| Mutation::Swap { a, b }),
    ]
}

fn apply(text: &str, mutations: &[Mutation]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for m in mutations {
        let n = bytes.len();
        match *m {
            Mutation::Delete { at, len } => {
                let at = at.min(n);
                bytes.drain(at..(at + len).min(n));
            }
            Mutation::Duplicate { at, len } => {
                let at = at.min(n);
                let piece = bytes[at..(at + len).min(n)].to_vec();
                bytes.splice(at..at, piece);
            }
            Mutation::Insert { at, text } => {
                let at = at.min(n);
                bytes.splice(at..at, text.bytes());
            }
            Mutation::Swap { a, b } => {
                if n > 0 {
                    bytes.swap(a.min(n - 1), b.min(n - 1));
                }
            }
        }
    }
    // Source files are text: the reader rejects invalid UTF-8 before the front-end sees it.
    String::from_utf8_lossy(&bytes).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let parsed = parse_source("fuzz.p4", &text, &PreprocessOptions::default());
        // Rendering must not panic either (spans on character boundaries, lines in range).
        let _ = parsed.render_diagnostics();
    }

    #[test]
    fn arbitrary_token_soup_never_panics(words in prop::collection::vec(prop::sample::select(FRAGMENTS), 0..64)) {
        let text = words.join(" ");
        let parsed = parse_source("soup.p4", &text, &PreprocessOptions::default());
        let _ = parsed.render_diagnostics();
    }

    #[test]
    fn mutated_corpus_programs_never_panic(
        index in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(4096), 1..6),
    ) {
        let corpus = corpus_texts();
        prop_assume!(!corpus.is_empty());
        let original = index.get(&corpus);
        let text = apply(original, &mutations);
        let mut parsed = parse_source("mutant.p4", &text, &PreprocessOptions::default());
        // Mutants that still parse go through the checker too, whose output must validate:
        // an "internal error" means the checker let an invalid IR through.
        let _ = p4tc_front::check(&mut parsed);
        let internal: Vec<_> = parsed.diagnostics.iter().filter(|d| d.message.contains("internal error")).collect();
        prop_assert!(internal.is_empty(), "{}\n--- mutant ---\n{text}", parsed.render_diagnostics());
        let rendered = parsed.render_diagnostics();
        // Every error names a place: `name:line:col: error: ...`.
        for line in rendered.lines().filter(|l| l.contains(": error: ")) {
            prop_assert!(line.starts_with("mutant.p4:") || line.starts_with('<'), "{line}");
        }
    }
}

#[test]
fn long_postfix_chains_are_an_error_not_a_crash() {
    assert_too_deep(format!("const int x = a{};", ".b".repeat(100_000)));
    assert_too_deep(format!("const int x = f{};", "()".repeat(100_000)));
}

#[test]
fn each_parenthesis_is_one_level() {
    // The bound is on levels of the tree: 150 parentheses are 150 levels, within the bound.
    assert_parses_cleanly(parenthesised(150));
}
