//! The P4-16 front-end of p4tc.
//!
//! Passes, each in its own module: [`preprocess`] (C-style directives, includes and macros, on
//! tokens so spans keep pointing into the original files), [`lexer`], [`parser`] (recursive
//! descent over the whole P4-16 grammar, recovering after errors so that one run reports them
//! all), producing the syntax tree in [`ast`]; [`printer`] writes a tree back as P4 source.
//! Architecture include files (`core.p4`, `pna.p4`, `tc/pna.p4`) ship inside the crate
//! ([`builtin`]).
//!
//! [`parse_file`] and [`parse_source`] run the passes in order.

pub mod ast;
pub mod builtin;
pub mod coverage;
pub mod lexer;
pub mod lower;
pub mod parser;
pub mod preprocess;
pub mod printer;
pub mod token;

use std::path::Path;

use p4tc_ir::{Diagnostic, SourceMap};

pub use preprocess::PreprocessOptions;

/// A parsed program with the files it came from and everything said about it.
#[derive(Debug)]
pub struct Parsed {
    /// Every file read: the root first, then includes in the order they were read.
    pub sources: SourceMap,
    /// The syntax tree (as much of it as parsed, when there were errors).
    pub program: ast::Program,
    /// Errors and warnings, in the order found.
    pub diagnostics: Vec<Diagnostic>,
}

impl Parsed {
    /// True when any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// Every diagnostic rendered, in order.
    pub fn render_diagnostics(&self) -> String {
        self.diagnostics
            .iter()
            .map(|d| d.render(&self.sources))
            .collect()
    }
}

/// Checks a parsed program and lowers it into the IR. Diagnostics are added to
/// `parsed.diagnostics`; `None` when the program has errors (including syntax errors).
pub fn check(parsed: &mut Parsed) -> Option<p4tc_ir::ir::Module> {
    if parsed.has_errors() {
        return None;
    }
    let module = lower::lower(&parsed.program, &mut parsed.diagnostics);
    // Back-ends trust the IR without re-checking it: validate it first. A violation is a bug
    // in the checker, reported as an internal error rather than passed on.
    let module = module.and_then(|module| match p4tc_ir::ir::validate(&module) {
        Ok(()) => Some(module),
        Err(errors) => {
            for e in errors {
                let span = e.span.unwrap_or_default();
                parsed.diagnostics.push(
                    Diagnostic::error(span, format!("internal error: the IR is invalid: {e}"))
                        .with_note(
                            "this is a bug in p4tc's checker; please report it with this program",
                        ),
                );
            }
            None
        }
    });
    parsed
        .diagnostics
        .sort_by_key(|d| (d.primary.span.file, d.primary.span.lo));
    module
}

/// Reads, preprocesses and parses the file at `path`.
pub fn parse_file(path: &Path, options: &PreprocessOptions) -> std::io::Result<Parsed> {
    let text = std::fs::read_to_string(path)?;
    let mut sources = SourceMap::new();
    let root = sources.add(path.display().to_string(), Some(path), text);
    Ok(parse_root(sources, root, options))
}

/// Preprocesses and parses `text` as if read from a file called `name` (includes in quotes
/// resolve against the current directory).
pub fn parse_source(name: &str, text: &str, options: &PreprocessOptions) -> Parsed {
    let mut sources = SourceMap::new();
    let root = sources.add(name, None, text);
    parse_root(sources, root, options)
}

fn parse_root(
    mut sources: SourceMap,
    root: p4tc_ir::FileId,
    options: &PreprocessOptions,
) -> Parsed {
    let mut diagnostics = Vec::new();
    let tokens = preprocess::preprocess(&mut sources, root, options, &mut diagnostics);
    let program = parser::parse(&tokens, &mut diagnostics);
    // Lexing and preprocessing run ahead of the parser; show everything in source order.
    diagnostics.sort_by_key(|d| (d.primary.span.file, d.primary.span.lo));
    Parsed {
        sources,
        program,
        diagnostics,
    }
}
