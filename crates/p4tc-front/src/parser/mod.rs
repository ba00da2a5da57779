//! The parser: preprocessed tokens to a [`Program`](crate::ast::Program).
//!
//! Recursive descent over the P4-16 grammar (the specification's appendix), one file per part:
//! [`decl`] (top-level and local declarations, tables, parsers, controls), [`stmt`]
//! (statements), [`expr`] (expressions by precedence climbing, keysets, arguments) and
//! [`types`] (types, parameters, annotations).
//!
//! P4's grammar needs to know which identifiers name types (`T(x)` constructs, `(T) x` casts,
//! `T x;` declares). Like p4c, the parser keeps the set of type names declared so far (and the
//! type parameters in scope); P4 requires types to be declared before use, so one pass
//! suffices.
//!
//! On an error the parser reports it and skips to a point where parsing can resume (the end
//! of the statement, declaration or property), so one run reports every independent error.
//! Nesting deeper than [`MAX_NESTING`] is reported as an error instead of overflowing the stack.

mod decl;
mod expr;
mod stmt;
mod types;

use std::collections::HashSet;

use p4tc_ir::{Diagnostic, Span};

use crate::ast::{Ident, Program};
use crate::token::{Keyword, Punct, Token, TokenKind};

/// How deeply expressions, statements and types may nest. Deeper input is rejected with an
/// error rather than risking the stack.
pub const MAX_NESTING: u32 = 200;

/// When less stack than this is left, nesting continues on a fresh segment of
/// [`STACK_SEGMENT`] bytes.
const STACK_RED_ZONE: usize = 128 * 1024;
const STACK_SEGMENT: usize = 2 * 1024 * 1024;

/// Parses a preprocessed token stream (ending in [`TokenKind::Eof`]). Errors go to
/// `diagnostics`; the returned program holds everything that parsed.
pub fn parse(tokens: &[Token], diagnostics: &mut Vec<Diagnostic>) -> Program {
    let mut parser = Parser::new(tokens, diagnostics);
    parser.program()
}

/// The error has been reported; the caller should recover.
#[derive(Debug)]
pub(crate) struct Reported;

pub(crate) type PResult<T> = Result<T, Reported>;

pub(crate) struct Parser<'t> {
    tokens: &'t [Token],
    pos: usize,
    diagnostics: &'t mut Vec<Diagnostic>,
    /// Type names declared at top level so far.
    types: HashSet<String>,
    /// Type parameters of the generic declarations being parsed, innermost last.
    type_params: Vec<Vec<String>>,
    depth: u32,
    /// Set once nesting went past [`MAX_NESTING`]: parsing stops.
    too_deep: bool,
    /// While speculating, diagnostics are dropped on backtrack.
    eof: Token,
}

impl<'t> Parser<'t> {
    fn new(tokens: &'t [Token], diagnostics: &'t mut Vec<Diagnostic>) -> Parser<'t> {
        let eof_span = tokens.last().map(|t| t.span).unwrap_or_default();
        let eof = Token {
            kind: TokenKind::Eof,
            span: eof_span,
            line_start: true,
            space_before: true,
        };
        Parser {
            tokens,
            pos: 0,
            diagnostics,
            types: HashSet::new(),
            type_params: Vec::new(),
            depth: 0,
            too_deep: false,
            eof,
        }
    }

    // -- Cursor ------------------------------------------------------------------------------

    fn peek(&self) -> &Token {
        self.nth(0)
    }

    fn nth(&self, n: usize) -> &Token {
        self.tokens.get(self.pos + n).unwrap_or(&self.eof)
    }

    fn span(&self) -> Span {
        self.peek().span
    }

    /// The span of the last token consumed.
    fn prev_span(&self) -> Span {
        if self.pos == 0 {
            self.span()
        } else {
            self.tokens[self.pos - 1].span
        }
    }

    fn bump(&mut self) -> Token {
        let token = self.peek().clone();
        if !matches!(token.kind, TokenKind::Eof) {
            self.pos += 1;
        }
        token
    }

    fn at(&self, p: Punct) -> bool {
        self.peek().is(p)
    }

    fn at_kw(&self, k: Keyword) -> bool {
        self.peek().is_keyword(k)
    }

    fn at_eof(&self) -> bool {
        matches!(self.peek().kind, TokenKind::Eof)
    }

    fn eat(&mut self, p: Punct) -> bool {
        if self.at(p) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn eat_kw(&mut self, k: Keyword) -> bool {
        if self.at_kw(k) {
            self.bump();
            true
        } else {
            false
        }
    }

    /// `>` immediately followed by `>`: the shift operator, which the lexer leaves split so
    /// that nested type argument lists close.
    fn at_shr(&self) -> bool {
        self.at(Punct::Gt) && self.nth(1).is(Punct::Gt) && !self.nth(1).space_before
    }

    fn expect(&mut self, p: Punct) -> PResult<Span> {
        if self.at(p) {
            Ok(self.bump().span)
        } else {
            Err(self.error_expected(&format!("`{}`", p.as_str())))
        }
    }

    fn expect_kw(&mut self, k: Keyword) -> PResult<Span> {
        if self.at_kw(k) {
            Ok(self.bump().span)
        } else {
            Err(self.error_expected(&format!("`{}`", k.as_str())))
        }
    }

    // -- Errors ------------------------------------------------------------------------------

    fn error(&mut self, span: Span, message: impl Into<String>) -> Reported {
        if !self.too_deep {
            self.diagnostics.push(Diagnostic::error(span, message));
        }
        Reported
    }

    fn report(&mut self, diagnostic: Diagnostic) -> Reported {
        if !self.too_deep {
            self.diagnostics.push(diagnostic);
        }
        Reported
    }

    /// "expected X, found Y". When Y starts a new line, the thing was probably forgotten at
    /// the end of the previous one, so that is where the caret goes.
    fn error_expected(&mut self, what: &str) -> Reported {
        let found = self.peek().clone();
        if let TokenKind::Unexpected(c) = found.kind {
            return self.error(found.span, unexpected_character(c));
        }
        if matches!(found.kind, TokenKind::Eof) {
            if self.end_of_input_explained() {
                return Reported;
            }
            // Point at the end of the last real token, and at the brace left open, if any.
            let at = if self.pos > 0 {
                self.prev_span().end()
            } else {
                found.span
            };
            let mut diagnostic =
                Diagnostic::error(at, format!("expected {what}, found end of file"));
            if let Some(open) = self.unclosed_brace() {
                diagnostic = diagnostic.with_secondary(open, "this `{` is never closed");
            }
            return self.report(diagnostic);
        }
        // Only a forgotten closing or separating token is looked for at the end of the line
        // before; a missing name or expression is missing where the next token stands.
        if found.line_start && self.pos > 0 && is_punctuation(what) {
            let prev = self.prev_span();
            return self.error(
                prev.end(),
                format!("expected {what} after this, found {}", found.kind),
            );
        }
        self.error(found.span, format!("expected {what}, found {}", found.kind))
    }

    /// True when the input ended early for a reason already reported: a block comment, string
    /// or conditional directive left open swallows the rest of the file, and an "unexpected end
    /// of file" on top of that error would only repeat it.
    fn end_of_input_explained(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.is_error() && d.message.starts_with("unterminated"))
    }

    /// The input ended inside the `what` opened at `open`: one error at the end of the file,
    /// pointing back at the opening brace, unless an earlier error (an unterminated comment
    /// or string) already explains why the input ended.
    fn unclosed_at_eof(&mut self, open: Span, what: &str) -> Reported {
        if self.end_of_input_explained() {
            return Reported;
        }
        let eof = self.span();
        self.report(
            Diagnostic::error(
                eof,
                format!("unexpected end of file: this {what} is never closed"),
            )
            .with_secondary(open, format!("the {what} starts here")),
        )
    }

    /// The innermost `{` before the cursor that has no matching `}`.
    fn unclosed_brace(&self) -> Option<Span> {
        let mut open = Vec::new();
        for token in &self.tokens[..self.pos] {
            if token.is(Punct::LBrace) {
                open.push(token.span);
            } else if token.is(Punct::RBrace) {
                open.pop();
            }
        }
        open.pop()
    }

    /// Enters one level of nesting; fails (once, with a clear error) past [`MAX_NESTING`].
    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            if !self.too_deep {
                let span = self.span();
                self.diagnostics.push(
                    Diagnostic::error(
                        span,
                        format!("nesting is too deep (more than {MAX_NESTING} levels)"),
                    )
                    .with_note("split the expression or statement into smaller parts"),
                );
                self.too_deep = true;
            }
            // Stop here: every loop ends at end of input, so the parse unwinds at once.
            self.pos = self.tokens.len().saturating_sub(1);
            self.depth -= 1;
            return Err(Reported);
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Runs `f` one nesting level deeper.
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        self.enter()?;
        // The depth bound keeps trees small enough for every later pass; this keeps the parse
        // itself safe on small stacks (debug builds use several KiB per level).
        let result = stacker::maybe_grow(STACK_RED_ZONE, STACK_SEGMENT, || f(self));
        self.leave();
        result
    }

    /// Tries `f`; on failure rewinds as if nothing was read and drops its diagnostics.
    fn speculate<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> Option<T> {
        let pos = self.pos;
        let diagnostics = self.diagnostics.len();
        let too_deep = self.too_deep;
        match f(self) {
            Ok(value) => Some(value),
            Err(Reported) => {
                if self.too_deep && !too_deep {
                    return None;
                }
                self.pos = pos;
                self.diagnostics.truncate(diagnostics);
                None
            }
        }
    }

    /// True when `f` would succeed here. Nothing is consumed and nothing reported either way.
    fn lookahead<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> bool {
        let pos = self.pos;
        let diagnostics = self.diagnostics.len();
        let too_deep = self.too_deep;
        let ok = f(self).is_ok();
        if self.too_deep && !too_deep {
            return false;
        }
        self.pos = pos;
        self.diagnostics.truncate(diagnostics);
        ok
    }

    /// The items of a braced list, up to (not past) its closing `}`. An item that fails is
    /// reported and skipped to its end, so the items after it still parse; only nesting too
    /// deep stops the list.
    fn items_until_brace<T>(
        &mut self,
        mut item: impl FnMut(&mut Self) -> PResult<T>,
    ) -> PResult<Vec<T>> {
        let mut items = Vec::new();
        while !self.at(Punct::RBrace) && !self.at_eof() {
            match item(self) {
                Ok(x) => items.push(x),
                Err(Reported) => {
                    if self.too_deep {
                        return Err(Reported);
                    }
                    self.recover_item();
                }
            }
        }
        Ok(items)
    }

    // -- Recovery ----------------------------------------------------------------------------

    /// Skips to the end of the current statement or item: past the next `;` at this nesting
    /// level, or up to (not past) a `}` that closes the enclosing block.
    fn recover_item(&mut self) {
        let mut depth = 0usize;
        loop {
            let token = self.peek();
            match &token.kind {
                TokenKind::Eof => return,
                TokenKind::Punct(Punct::Semi) if depth == 0 => {
                    self.bump();
                    return;
                }
                TokenKind::Punct(Punct::LBrace | Punct::LParen | Punct::LBracket) => depth += 1,
                TokenKind::Punct(Punct::RBrace) if depth == 0 => return,
                TokenKind::Punct(Punct::RBrace) => {
                    depth -= 1;
                    if depth == 0 {
                        self.bump();
                        // A block closed: a statement like `if (...) { ... }` ends here.
                        if !self.at(Punct::Semi) {
                            return;
                        }
                        continue;
                    }
                }
                TokenKind::Punct(Punct::RParen | Punct::RBracket) => {
                    depth = depth.saturating_sub(1)
                }
                _ => {}
            }
            self.bump();
        }
    }

    /// Skips to the next top-level declaration: past a `;` or closing `}` at top level, or up
    /// to a declaration keyword that starts a line.
    fn recover_declaration(&mut self) {
        let start = self.pos;
        let mut depth = 0usize;
        loop {
            let token = self.peek();
            if depth == 0 && self.pos > start && token.line_start && starts_declaration(token) {
                return;
            }
            match &token.kind {
                TokenKind::Eof => return,
                TokenKind::Punct(Punct::Semi) if depth == 0 => {
                    self.bump();
                    return;
                }
                TokenKind::Punct(Punct::LBrace | Punct::LParen | Punct::LBracket) => depth += 1,
                TokenKind::Punct(Punct::RBrace) => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        self.bump();
                        self.eat(Punct::Semi);
                        return;
                    }
                }
                TokenKind::Punct(Punct::RParen | Punct::RBracket) => {
                    depth = depth.saturating_sub(1)
                }
                _ => {}
            }
            self.bump();
        }
    }

    // -- Names ---------------------------------------------------------------------------------

    /// A name: an identifier, or a keyword the grammar lets stand for one (`apply`, `key`,
    /// `actions`, `state`, `entries`, `type`, `priority`, `list`).
    fn name(&mut self) -> PResult<Ident> {
        match self.peek_name().map(str::to_string) {
            Some(name) => {
                let span = self.bump().span;
                Ok(Ident { name, span })
            }
            None => Err(self.error_expected("a name")),
        }
    }

    fn peek_name(&self) -> Option<&str> {
        name_of(self.peek())
    }

    fn is_type_name(&self, name: &str) -> bool {
        self.types.contains(name)
            || self
                .type_params
                .iter()
                .any(|scope| scope.iter().any(|t| t == name))
    }

    fn declare_type(&mut self, name: &Ident) {
        self.types.insert(name.name.clone());
    }

    /// Runs `f` with `params` in scope as type names.
    fn with_type_params<T>(&mut self, params: &[Ident], f: impl FnOnce(&mut Self) -> T) -> T {
        self.type_params
            .push(params.iter().map(|p| p.name.clone()).collect());
        let result = f(self);
        self.type_params.pop();
        result
    }

    fn program(&mut self) -> Program {
        let mut declarations = Vec::new();
        while !self.at_eof() {
            match self.declaration() {
                Ok(decl) => declarations.push(decl),
                Err(Reported) => self.recover_declaration(),
            }
        }
        Program { declarations }
    }
}

/// `what` as [`Parser::error_expected`] gets it names punctuation only, like `` `;` `` or
/// `` `,` or `)` ``.
fn is_punctuation(what: &str) -> bool {
    what.split(" or ").all(|one| {
        one.strip_prefix('`')
            .and_then(|rest| rest.strip_suffix('`'))
            .is_some_and(|inner| {
                !inner.is_empty() && inner.chars().all(|c| c.is_ascii_punctuation())
            })
    })
}

/// The message for a character no token starts with.
fn unexpected_character(c: char) -> String {
    if c.is_control() || c.is_whitespace() || c == '`' {
        format!("unexpected character {}", c.escape_unicode())
    } else {
        format!("unexpected character `{c}`")
    }
}

/// The name a token stands for, if it can be one.
fn name_of(token: &Token) -> Option<&str> {
    match &token.kind {
        TokenKind::Ident(name) => Some(name),
        TokenKind::Keyword(
            k @ (Keyword::Apply
            | Keyword::Key
            | Keyword::Actions
            | Keyword::State
            | Keyword::Entries
            | Keyword::Type
            | Keyword::Priority
            | Keyword::List),
        ) => Some(k.as_str()),
        _ => None,
    }
}

fn starts_declaration(token: &Token) -> bool {
    matches!(
        token.kind,
        TokenKind::Keyword(
            Keyword::Control
                | Keyword::Parser
                | Keyword::Header
                | Keyword::HeaderUnion
                | Keyword::Struct
                | Keyword::Enum
                | Keyword::Extern
                | Keyword::Typedef
                | Keyword::Package
                | Keyword::MatchKind
                | Keyword::Action
        )
    ) || token.is(Punct::At)
}
