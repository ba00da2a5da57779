//! The P4 preprocessor (placeholder: passes the root file's tokens through).

use std::path::PathBuf;

use p4tc_ir::{Diagnostic, FileId, SourceMap};

use crate::lexer::lex;
use crate::token::{Token, TokenKind};

/// What the command line says about preprocessing.
#[derive(Clone, Debug, Default)]
pub struct PreprocessOptions {
    /// `-I DIR`, searched in order after the built-in includes.
    pub include_dirs: Vec<PathBuf>,
    /// `-D NAME[=VALUE]`; a bare `-D NAME` defines it as `1`.
    pub defines: Vec<(String, Option<String>)>,
}

/// Preprocesses file `root` of `sources`, adding every included file to `sources`. Returns the
/// token stream the parser reads, ending in one [`TokenKind::Eof`].
pub fn preprocess(
    sources: &mut SourceMap,
    root: FileId,
    _options: &PreprocessOptions,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Token> {
    let text = sources.file(root).text.clone();
    let tokens = lex(root, &text, diagnostics);
    debug_assert!(matches!(tokens.last().map(|t| &t.kind), Some(TokenKind::Eof)));
    tokens
}
