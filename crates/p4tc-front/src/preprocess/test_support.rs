//! Helpers shared by the preprocessor's tests.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use p4tc_ir::source::Position;
use p4tc_ir::{Diagnostic, FileId, Severity, SourceMap, Span};

use super::macros::spell_kind;
use super::{run, Limits, PreprocessOptions, LIMITS};
use crate::lexer::lex;
use crate::token::{Token, TokenKind};

/// One preprocessor run and everything it produced.
pub(crate) struct Run {
    pub sources: SourceMap,
    pub root: FileId,
    pub tokens: Vec<Token>,
    pub diags: Vec<Diagnostic>,
}

/// Preprocesses `text` as file `main.p4`, which is not on disk.
pub(crate) fn pp(text: &str) -> Run {
    pp_with(text, &PreprocessOptions::default(), LIMITS)
}

/// Preprocesses `text` (file `main.p4`) with options and limits.
pub(crate) fn pp_with(text: &str, options: &PreprocessOptions, limits: Limits) -> Run {
    let mut sources = SourceMap::new();
    let root = sources.add("main.p4", None, text);
    finish(sources, root, options, limits)
}

/// Preprocesses the file at `path` on disk.
pub(crate) fn pp_file(path: &Path, options: &PreprocessOptions) -> Run {
    let text = std::fs::read_to_string(path).expect("test file is readable");
    let mut sources = SourceMap::new();
    let root = sources.add(path.display().to_string(), Some(path), text);
    finish(sources, root, options, LIMITS)
}

fn finish(
    mut sources: SourceMap,
    root: FileId,
    options: &PreprocessOptions,
    limits: Limits,
) -> Run {
    let mut diags = Vec::new();
    let tokens = run(&mut sources, root, options, &mut diags, limits);
    let eofs = tokens
        .iter()
        .filter(|t| matches!(t.kind, TokenKind::Eof))
        .count();
    assert_eq!(eofs, 1, "exactly one Eof");
    assert!(
        matches!(tokens.last().map(|t| &t.kind), Some(TokenKind::Eof)),
        "Eof comes last"
    );
    Run {
        sources,
        root,
        tokens,
        diags,
    }
}

/// `text` lexed and spelled the way [`Run::text`] spells output, to compare against.
pub(crate) fn norm(text: &str) -> String {
    spell(&lex(FileId(0), text, &mut Vec::new()))
}

/// Tokens spelled and joined by single spaces, without the Eof.
pub(crate) fn spell(tokens: &[Token]) -> String {
    tokens
        .iter()
        .filter(|t| !matches!(t.kind, TokenKind::Eof))
        .map(|t| spell_kind(&t.kind).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

impl Run {
    /// The output spelled (see [`spell`]).
    pub fn text(&self) -> String {
        spell(&self.tokens)
    }

    /// The messages of all errors.
    pub fn errors(&self) -> Vec<&str> {
        self.messages(Severity::Error)
    }

    /// The messages of all warnings.
    pub fn warnings(&self) -> Vec<&str> {
        self.messages(Severity::Warning)
    }

    fn messages(&self, severity: Severity) -> Vec<&str> {
        self.diags
            .iter()
            .filter(|d| d.severity == severity)
            .map(|d| d.message.as_str())
            .collect()
    }

    /// The one diagnostic whose message contains `part`.
    pub fn diag(&self, part: &str) -> &Diagnostic {
        let found: Vec<_> = self
            .diags
            .iter()
            .filter(|d| d.message.contains(part))
            .collect();
        assert_eq!(
            found.len(),
            1,
            "one diagnostic containing {part:?} in {:#?}",
            self.diags
        );
        found[0]
    }

    /// `(file name, line, column)` of a span.
    pub fn at(&self, span: Span) -> (String, u32, u32) {
        let Position {
            name, line, col, ..
        } = self.sources.position(span);
        (name, line, col)
    }

    /// The source text a span covers.
    pub fn snippet(&self, span: Span) -> &str {
        self.sources.snippet(span)
    }

    /// The first output token spelled `word`.
    pub fn token(&self, word: &str) -> &Token {
        self.tokens
            .iter()
            .find(|t| spell_kind(&t.kind) == word)
            .unwrap_or_else(|| panic!("no token {word:?}"))
    }
}

/// A directory under the system temp directory, removed when dropped.
pub(crate) struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("p4tc-pp-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    /// Writes `text` to `name` (which may hold `/`) under the directory; returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("parent dir");
        }
        std::fs::write(&path, text).expect("write test file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
