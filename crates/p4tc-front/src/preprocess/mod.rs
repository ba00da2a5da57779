//! The P4 preprocessor: `#include`, `#define` and conditional compilation, as the C
//! preprocessor does them, but on the lexer's tokens instead of text.
//!
//! Working on tokens means every token that reaches the parser still carries the file and byte
//! range it was written at, including tokens from included files; a token a macro produced
//! carries the span of the macro's use, so a diagnostic about it points at what the user wrote.
//!
//! This module is the driver: it walks a stack of files (`#include` pushes one, the end of a
//! file pops it, both without recursion), keeps the stack of open conditionals, and runs the
//! directives. Macro definitions and expansion are in `macros`, `#if` expressions in
//! `condition`, file lookup in `include`. Every problem is reported as a [`Diagnostic`] and
//! the run goes on, so one run shows all of them; limits on include depth, macro expansion and
//! output size keep any input from hanging the preprocessor or exhausting memory.

mod condition;
mod include;
mod macros;
#[cfg(test)]
mod test_support;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::rc::Rc;

use p4tc_ir::{Diagnostic, FileId, SourceMap, Span};

use crate::lexer::lex;
use crate::token::{Punct, Token, TokenKind};

use include::{FileKey, Found, Includer};
use macros::{Budget, Expander, FileCursor, MacroTable, PTok};

/// What the command line says about preprocessing.
#[derive(Clone, Debug, Default)]
pub struct PreprocessOptions {
    /// `-I DIR`, searched in order after the built-in includes.
    pub include_dirs: Vec<PathBuf>,
    /// `-D NAME[=VALUE]`; a bare `-D NAME` defines it as `1`.
    pub defines: Vec<(String, Option<String>)>,
}

/// Bounds that keep hostile input from hanging the preprocessor or exhausting memory.
#[derive(Clone, Copy, Debug)]
struct Limits {
    /// Files open at once (the root counts).
    include_depth: usize,
    /// Tokens in the result.
    output_tokens: usize,
    /// Tokens macro substitution may create in the whole run.
    expansion_tokens: usize,
    /// Macro invocations nested inside arguments being expanded (each level is a few frames of
    /// recursion).
    argument_depth: usize,
}

const LIMITS: Limits = Limits {
    include_depth: 200,
    output_tokens: 50_000_000,
    expansion_tokens: 1 << 25,
    argument_depth: 100,
};

/// Preprocesses file `root` of `sources`, adding every included file to `sources`. Returns the
/// token stream the parser reads, ending in one [`TokenKind::Eof`] (the root file's).
///
/// `-D` definitions are read from a file named `<command line>` added to `sources`; built-in
/// includes are added under names like `<builtin>/core.p4`.
pub fn preprocess(
    sources: &mut SourceMap,
    root: FileId,
    options: &PreprocessOptions,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Token> {
    run(sources, root, options, diagnostics, LIMITS)
}

fn run(
    sources: &mut SourceMap,
    root: FileId,
    options: &PreprocessOptions,
    diagnostics: &mut Vec<Diagnostic>,
    limits: Limits,
) -> Vec<Token> {
    let tokens = lex(root, &sources.file(root).text, diagnostics);
    let eof = match tokens.last() {
        Some(t) if matches!(t.kind, TokenKind::Eof) => t.clone(),
        _ => {
            let end = sources.file(root).text.len() as u32;
            Token {
                kind: TokenKind::Eof,
                span: Span::new(root, end, end),
                line_start: true,
                space_before: true,
            }
        }
    };
    let key = FileKey::of(sources.file(root).path.as_deref(), root);
    let mut pp = Preprocessor {
        out: Vec::with_capacity(tokens.len()),
        sources,
        options,
        diagnostics,
        limits,
        macros: MacroTable::new(),
        filter: MacroFilter::default(),
        budget: Budget::new(limits.expansion_tokens, limits.argument_depth),
        frames: Vec::new(),
        conds: Vec::new(),
        files: HashMap::new(),
        once: HashSet::new(),
    };
    pp.frames.push(Frame {
        file: root,
        key,
        tokens: tokens.into_iter(),
        cond_base: 0,
    });
    if !options.defines.is_empty() {
        pp.push_command_line();
    }
    pp.run();
    let mut out = std::mem::take(&mut pp.out);
    out.push(eof);
    out
}

/// The name of a token that can name a macro: an identifier, and also a keyword or `_`, since
/// the C preprocessor knows nothing of P4's reserved words.
pub(super) fn ident_name(kind: &TokenKind) -> Option<&str> {
    match kind {
        TokenKind::Ident(name) => Some(name),
        TokenKind::Keyword(k) => Some(k.as_str()),
        TokenKind::DontCare => Some("_"),
        _ => None,
    }
}

/// The name of the directive whose `#` is `tokens[hash]` (`define`, `if`, ...), if a name
/// follows on the same line.
pub(super) fn directive_name(tokens: &[Token], hash: usize) -> Option<&str> {
    let t = tokens.get(hash + 1)?;
    if t.line_start {
        return None;
    }
    match &t.kind {
        TokenKind::Ident(name) => Some(name),
        TokenKind::Keyword(k) => Some(k.as_str()),
        _ => None,
    }
}

/// True for a token the main loop cannot simply copy past: a directive's `#`, or the end.
fn ends_run(t: &Token) -> bool {
    (t.line_start && t.is(Punct::Hash)) || matches!(t.kind, TokenKind::Eof)
}

/// True when `t` names a macro.
fn is_macro(macros: &MacroTable, filter: &MacroFilter, t: &Token) -> bool {
    match ident_name(&t.kind) {
        Some(name) => filter.may_contain(name) && macros.contains_key(name),
        None => false,
    }
}

/// A cheap first test of whether a name may be a macro, by its first byte and its length, so
/// most names never need hashing. Names are only added: after `#undef` it may say yes
/// wrongly, which the table then corrects.
#[derive(Debug, Default)]
struct MacroFilter {
    first: [u64; 4],
    lengths: u64,
}

impl MacroFilter {
    fn add(&mut self, name: &str) {
        if let Some(&b) = name.as_bytes().first() {
            self.first[usize::from(b / 64)] |= 1 << (b % 64);
            self.lengths |= 1 << name.len().min(63);
        }
    }

    fn may_contain(&self, name: &str) -> bool {
        let Some(&b) = name.as_bytes().first() else {
            return false;
        };
        (self.first[usize::from(b / 64)] >> (b % 64)) & 1 == 1
            && (self.lengths >> name.len().min(63)) & 1 == 1
    }
}

/// A file being read.
struct Frame {
    file: FileId,
    key: FileKey,
    /// The tokens not read yet.
    tokens: std::vec::IntoIter<Token>,
    /// How many conditionals were open when the file was entered: those are not its own.
    cond_base: usize,
}

/// An open `#if` group.
struct Cond {
    /// The `#if` (`#ifdef`, ...) that opened it.
    span: Span,
    /// Its directive name, for messages.
    directive: &'static str,
    state: CondState,
    /// The `#else`, once seen.
    else_span: Option<Span>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CondState {
    /// In the branch being taken.
    Taking,
    /// No branch taken yet: a later `#elif` or `#else` may be.
    Waiting,
    /// A branch was taken already, or the whole group sits in a skipped branch.
    Done,
}

/// What is remembered about a file once included.
struct Loaded {
    id: FileId,
    guard: Option<String>,
}

struct Preprocessor<'a> {
    sources: &'a mut SourceMap,
    options: &'a PreprocessOptions,
    diagnostics: &'a mut Vec<Diagnostic>,
    limits: Limits,
    macros: MacroTable,
    filter: MacroFilter,
    budget: Budget,
    frames: Vec<Frame>,
    conds: Vec<Cond>,
    files: HashMap<FileKey, Loaded>,
    /// Files that said `#pragma once`.
    once: HashSet<FileKey>,
    out: Vec<Token>,
}

impl Preprocessor<'_> {
    /// Reads the `-D` definitions as a file of `#define` lines, processed before the root.
    fn push_command_line(&mut self) {
        // A newline in a name or value would start a line of its own, maybe a directive.
        let clean = |s: &str| s.replace(['\n', '\r'], " ");
        let mut text = String::new();
        for (name, value) in &self.options.defines {
            text.push_str("#define ");
            text.push_str(&clean(name));
            text.push(' ');
            text.push_str(&clean(value.as_deref().unwrap_or("1")));
            text.push('\n');
        }
        let id = self.sources.add("<command line>", None, text);
        let tokens = lex(id, &self.sources.file(id).text, self.diagnostics);
        let cond_base = self.conds.len();
        self.frames.push(Frame {
            file: id,
            key: FileKey::Other(id),
            tokens: tokens.into_iter(),
            cond_base,
        });
    }

    fn active(&self) -> bool {
        self.conds
            .last()
            .is_none_or(|c| c.state == CondState::Taking)
    }

    /// The main loop: copies tokens to the output, runs directives, skips what conditionals
    /// exclude, and expands macros.
    fn run(&mut self) {
        loop {
            let active = self.active();
            let in_root = self.frames.len() == 1;
            let Some(frame) = self.frames.last_mut() else {
                break;
            };
            let rest = frame.tokens.as_slice();
            let Some(tok) = rest.first() else {
                self.end_of_file();
                continue;
            };
            if matches!(tok.kind, TokenKind::Eof) {
                self.end_of_file();
                continue;
            }
            if tok.line_start && tok.is(Punct::Hash) {
                self.directive_line();
                continue;
            }
            if !active {
                // Skip to the next directive.
                let n = 1 + rest[1..].iter().take_while(|t| !ends_run(t)).count();
                frame.tokens.nth(n - 1);
                continue;
            }
            // Move every token up to the next directive or macro name in one go: a file
            // without directives is little more than a copy.
            let n = rest
                .iter()
                .take_while(|t| !ends_run(t) && !is_macro(&self.macros, &self.filter, t))
                .count();
            if n > 0 && n + 1 == rest.len() && in_root && n >= self.out.len() {
                // The rest of the root file is plain: rather than copying it into fresh memory
                // (for a big program most of the time goes to page faults), keep it where the
                // lexer put it. Collecting a `vec::IntoIter` reuses its buffer when most of it
                // is left; the output so far goes in front, which is cheap only when it is the
                // smaller part.
                let mut tail: Vec<Token> = std::mem::take(&mut frame.tokens).collect();
                // The root's `Eof` is added by `run`'s caller.
                tail.pop();
                tail.splice(0..0, self.out.drain(..));
                self.out = tail;
            } else if n > 0 {
                self.out.extend(frame.tokens.by_ref().take(n));
            } else {
                self.expand_here();
            }
            if self.out.len() > self.limits.output_tokens {
                let span = self.out.last().map_or_else(Span::default, |t| t.span);
                self.diagnostics.push(Diagnostic::error(
                    span,
                    format!(
                        "preprocessed program is too large (more than {} tokens)",
                        self.limits.output_tokens
                    ),
                ));
                self.out.truncate(self.limits.output_tokens);
                break;
            }
        }
    }

    /// Expands the macro invocation at the cursor of the current file.
    fn expand_here(&mut self) {
        let Some(frame) = self.frames.last_mut() else {
            return;
        };
        let Some(first) = frame.tokens.next() else {
            return;
        };
        let cursor = FileCursor {
            tokens: &mut frame.tokens,
        };
        let mut expander = Expander::new(
            &self.macros,
            &*self.sources,
            &mut *self.diagnostics,
            &mut self.budget,
        );
        expander.expand_from_file(first, cursor, &mut self.out);
    }

    /// Leaves the current file, reporting conditionals it left open.
    fn end_of_file(&mut self) {
        let Some(frame) = self.frames.pop() else {
            return;
        };
        while self.conds.len() > frame.cond_base {
            let Some(cond) = self.conds.pop() else { break };
            self.diagnostics.push(
                Diagnostic::error(cond.span, format!("unterminated `#{}`", cond.directive))
                    .with_label("no matching `#endif` in this file"),
            );
        }
    }

    /// Runs the directive line starting at the cursor (a `#` at the start of a line).
    fn directive_line(&mut self) {
        let Some(frame) = self.frames.last_mut() else {
            return;
        };
        let rest = frame.tokens.as_slice();
        let len = 1 + rest
            .iter()
            .skip(1)
            .take_while(|t| !t.line_start && !matches!(t.kind, TokenKind::Eof))
            .count();
        let line: Vec<Token> = frame.tokens.by_ref().take(len).collect();
        let file = frame.file;
        if let Some(frame) = self.directive(&line, file) {
            self.frames.push(frame);
        }
    }

    fn error(&mut self, span: Span, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic::error(span, message));
    }

    fn warning(&mut self, span: Span, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic::warning(span, message));
    }

    /// Runs one directive; `line` starts with its `#`. Returns the file an `#include` opens.
    fn directive(&mut self, line: &[Token], file: FileId) -> Option<Frame> {
        let hash = line.first()?;
        // `#` alone is the null directive.
        let name_tok = line.get(1)?;
        let rest = &line[2..];
        let span = hash.span.to(name_tok.span);
        let end = line.last().map_or(span, |t| t.span).end();
        let active = self.active();
        let name = match &name_tok.kind {
            TokenKind::Ident(name) => &**name,
            TokenKind::Keyword(k) => k.as_str(),
            // `# 12 "file.p4"`: a line marker, as the C preprocessor writes them.
            TokenKind::Int(_) => {
                if active {
                    self.line_directive(&line[1..], span, file, end, true);
                }
                return None;
            }
            other => {
                if active {
                    self.error(
                        name_tok.span,
                        format!("expected a preprocessor directive name after `#`, found {other}"),
                    );
                }
                return None;
            }
        };
        match name {
            "if" => {
                let state = if active {
                    self.branch_state(rest, end, "if")
                } else {
                    CondState::Done
                };
                self.conds.push(Cond {
                    span,
                    directive: "if",
                    state,
                    else_span: None,
                });
            }
            "ifdef" | "ifndef" => {
                let directive = if name == "ifdef" { "ifdef" } else { "ifndef" };
                let state = if active {
                    self.defined_state(rest, name_tok, directive)
                } else {
                    CondState::Done
                };
                self.conds.push(Cond {
                    span,
                    directive,
                    state,
                    else_span: None,
                });
            }
            "elif" | "elifdef" | "elifndef" => self.elif(name, name_tok, rest, span, end),
            "else" => {
                let Some(cond) = self.own_cond() else {
                    self.error(span, "`#else` without `#if`");
                    return None;
                };
                if let Some(previous) = cond.else_span {
                    // Like an `#elif` after `#else`: nothing more of the group is taken.
                    cond.state = CondState::Done;
                    let d = Diagnostic::error(span, "`#else` after `#else`")
                        .with_secondary(previous, "first `#else` here");
                    self.diagnostics.push(d);
                    return None;
                }
                cond.else_span = Some(span);
                cond.state = if cond.state == CondState::Waiting {
                    CondState::Taking
                } else {
                    CondState::Done
                };
                self.extra_tokens(rest, "#else");
            }
            "endif" => {
                if self.own_cond().is_none() {
                    self.error(span, "`#endif` without `#if`");
                    return None;
                }
                self.conds.pop();
                self.extra_tokens(rest, "#endif");
            }
            // Other directives in a skipped group are not even looked at.
            _ if !active => {}
            "define" => {
                if let Some(m) = macros::parse_define(rest, name_tok.span, self.diagnostics) {
                    if let Some(old) = self.macros.get(&m.name) {
                        if !macros::same_definition(old, &m) {
                            let d = Diagnostic::warning(
                                m.span,
                                format!("macro `{}` redefined", m.name),
                            )
                            .with_secondary(old.span, "previous definition here");
                            self.diagnostics.push(d);
                        }
                    }
                    self.filter.add(&m.name);
                    self.macros.insert(m.name.clone(), Rc::new(m));
                }
            }
            "undef" => {
                if let Some(name) = self.macro_name_operand(rest, name_tok, "undef") {
                    self.macros.remove(&name);
                }
            }
            "include" => return self.include(rest, span, end, file),
            "line" => self.line_directive(rest, span, file, end, false),
            "error" | "warning" => {
                let text = match (rest.first(), rest.last()) {
                    (Some(first), Some(last)) => {
                        let text =
                            self.sources
                                .snippet(Span::new(file, first.span.lo, last.span.hi));
                        // Drop the line continuations the text may still contain.
                        text.replace("\\\r\n", " ").replace("\\\n", " ")
                    }
                    _ => String::new(),
                };
                let message = if text.is_empty() {
                    format!("#{name}")
                } else {
                    format!("#{name} {text}")
                };
                let whole = span.to(line.last().map_or(span, |t| t.span));
                if name == "error" {
                    self.error(whole, message);
                } else {
                    self.warning(whole, message);
                }
            }
            "pragma" => {
                // `#pragma once` is honoured; every other pragma is left to other tools.
                let is_once = rest.len() == 1
                    && matches!(&rest[0].kind, TokenKind::Ident(n) if &**n == "once");
                if is_once {
                    if let Some(frame) = self.frames.last() {
                        self.once.insert(frame.key.clone());
                    }
                }
            }
            other => {
                let message = format!("unknown preprocessor directive `#{other}`");
                self.error(span, message);
            }
        }
        None
    }

    /// The innermost open conditional, if it was opened in the current file.
    fn own_cond(&mut self) -> Option<&mut Cond> {
        let base = self.frames.last().map_or(0, |f| f.cond_base);
        if self.conds.len() > base {
            self.conds.last_mut()
        } else {
            None
        }
    }

    /// Warns about tokens after a directive that takes none (`#endif FOO`).
    fn extra_tokens(&mut self, rest: &[Token], directive: &str) {
        if let Some(t) = rest.first() {
            self.warning(t.span, format!("extra tokens after `{directive}`"));
        }
    }

    /// The macro name a `#ifdef`, `#ifndef` or `#undef` is about.
    fn macro_name_operand(
        &mut self,
        rest: &[Token],
        directive_tok: &Token,
        directive: &str,
    ) -> Option<String> {
        let Some(t) = rest.first() else {
            self.error(
                directive_tok.span,
                format!("missing macro name after `#{directive}`"),
            );
            return None;
        };
        let Some(name) = ident_name(&t.kind) else {
            self.error(
                t.span,
                format!("macro name must be an identifier, found {}", t.kind),
            );
            return None;
        };
        let name = name.to_string();
        if let Some(extra) = rest.get(1) {
            self.warning(
                extra.span,
                format!("extra tokens after `#{directive} {name}`"),
            );
        }
        Some(name)
    }

    /// The state a `#ifdef` / `#ifndef` opens its group in.
    fn defined_state(
        &mut self,
        rest: &[Token],
        directive_tok: &Token,
        directive: &str,
    ) -> CondState {
        let Some(name) = self.macro_name_operand(rest, directive_tok, directive) else {
            // Skip the group: neither branch is known to be meant.
            return CondState::Done;
        };
        let defined = self.macros.contains_key(&name);
        if defined == (directive == "ifdef" || directive == "elifdef") {
            CondState::Taking
        } else {
            CondState::Waiting
        }
    }

    /// Evaluates a `#if` / `#elif` expression to the state its branch starts in.
    fn branch_state(&mut self, rest: &[Token], end: Span, directive: &str) -> CondState {
        let prepared = condition::prepare(rest);
        let expanded = {
            let mut expander = Expander::new(
                &self.macros,
                &*self.sources,
                &mut *self.diagnostics,
                &mut self.budget,
            );
            expander.expand_list(prepared)
        };
        if condition::evaluate(&expanded, &self.macros, end, directive, self.diagnostics) {
            CondState::Taking
        } else {
            CondState::Waiting
        }
    }

    /// `#elif`, `#elifdef`, `#elifndef`.
    fn elif(&mut self, name: &str, name_tok: &Token, rest: &[Token], span: Span, end: Span) {
        let directive = match name {
            "elifdef" => "elifdef",
            "elifndef" => "elifndef",
            _ => "elif",
        };
        let Some(cond) = self.own_cond() else {
            self.error(span, format!("`#{directive}` without `#if`"));
            return;
        };
        if let Some(else_span) = cond.else_span {
            cond.state = CondState::Done;
            let d = Diagnostic::error(span, format!("`#{directive}` after `#else`"))
                .with_secondary(else_span, "`#else` here");
            self.diagnostics.push(d);
            return;
        }
        // Only a group still waiting for its branch evaluates the condition (and then its
        // enclosing group is active, or it would be `Done`).
        let state = match cond.state {
            CondState::Taking | CondState::Done => CondState::Done,
            CondState::Waiting if directive == "elif" => self.branch_state(rest, end, "elif"),
            CondState::Waiting => self.defined_state(rest, name_tok, directive),
        };
        if let Some(cond) = self.own_cond() {
            cond.state = state;
        }
    }

    /// `#line N ["file"]`, or a `# N "file" flags` line marker (`marker`): renumbers the lines
    /// after it. `tokens` starts at the line number.
    fn line_directive(
        &mut self,
        tokens: &[Token],
        span: Span,
        file: FileId,
        end: Span,
        marker: bool,
    ) {
        let directive = if marker { "line marker" } else { "`#line`" };
        let toks: Vec<PTok> = if marker
            || tokens
                .first()
                .is_some_and(|t| matches!(t.kind, TokenKind::Int(_)))
        {
            tokens.iter().cloned().map(PTok::new).collect()
        } else {
            let mut expander = Expander::new(
                &self.macros,
                &*self.sources,
                &mut *self.diagnostics,
                &mut self.budget,
            );
            expander.expand_list(tokens.iter().cloned().map(PTok::new).collect())
        };
        let number = match toks.first().map(|t| &t.tok.kind) {
            Some(TokenKind::Int(lit)) if lit.width.is_none() && !lit.negative => {
                num_traits::ToPrimitive::to_u32(&lit.value)
            }
            _ => None,
        };
        let Some(number) = number else {
            let (at, found) = toks.first().map_or((end, "end of line".to_string()), |t| {
                (t.tok.span, t.tok.kind.to_string())
            });
            let d = Diagnostic::error(
                at,
                format!("{directive} expects a line number, found {found}"),
            );
            self.diagnostics.push(if toks.is_empty() {
                d.with_secondary(span, "in this directive")
            } else {
                d
            });
            return;
        };
        let name = match toks.get(1).map(|t| &t.tok.kind) {
            None => None,
            Some(TokenKind::Str(s)) => Some(unescape(s)),
            Some(other) => {
                let at = toks[1].tok.span;
                self.error(at, format!("{directive} expects a file name string after the line number, found {other}"));
                return;
            }
        };
        // A line marker's flags after the name are fine; `#line` takes nothing more.
        if !marker {
            if let Some(extra) = toks.get(2) {
                self.warning(extra.tok.span, "extra tokens after `#line`");
            }
        }
        self.sources.add_line_directive(file, end.lo, number, name);
    }

    /// `#include "NAME"` / `#include <NAME>` (or a macro expanding to one of those): returns
    /// the file to read next, unless it is not found, is an include cycle, or need not be read.
    fn include(&mut self, rest: &[Token], span: Span, end: Span, file: FileId) -> Option<Frame> {
        let (name, angled, name_span) = self.include_operand(rest, span, end, file)?;
        let includer = {
            let top = self.frames.last();
            Includer {
                path: self.sources.file(file).path.as_deref(),
                builtin: match top.map(|f| &f.key) {
                    Some(FileKey::Builtin(n)) => Some(*n),
                    _ => None,
                },
            }
        };
        let found = match include::resolve(&name, angled, &includer, &self.options.include_dirs) {
            Ok(found) => found,
            Err(searched) => {
                let d = Diagnostic::error(name_span, format!("cannot find include file `{name}`"))
                    .with_note(format!("searched: {}", searched.join(", ")));
                self.diagnostics.push(d);
                return None;
            }
        };
        let (key, display) = match &found {
            Found::Builtin(n, _) => (
                FileKey::Builtin(n),
                format!("{}{n}", include::BUILTIN_PREFIX),
            ),
            Found::Disk(path) => (FileKey::of(Some(path), file), path.display().to_string()),
        };
        if self.once.contains(&key) {
            return None;
        }
        if let Some(Loaded {
            guard: Some(guard), ..
        }) = self.files.get(&key)
        {
            if self.macros.contains_key(guard) {
                return None;
            }
        }
        if let Some(first) = self.frames.iter().position(|f| f.key == key) {
            let mut chain: Vec<String> = self.frames[first..]
                .iter()
                .map(|f| format!("`{}`", self.sources.file(f.file).name))
                .collect();
            chain.push(format!("`{display}`"));
            let d = Diagnostic::error(
                name_span,
                format!("include cycle: {}", chain.join(" includes ")),
            )
            .with_label("this file is already being included");
            self.diagnostics.push(d);
            return None;
        }
        if self.frames.len() >= self.limits.include_depth {
            self.error(
                name_span,
                format!(
                    "`#include` nested too deeply (more than {} levels)",
                    self.limits.include_depth
                ),
            );
            return None;
        }
        let (id, tokens) = match self.files.get(&key) {
            Some(loaded) => {
                // Read before: lex again, but its lexical errors were reported the first time.
                let id = loaded.id;
                (id, lex(id, &self.sources.file(id).text, &mut Vec::new()))
            }
            None => {
                let (path, text) = match &found {
                    Found::Builtin(_, text) => (None, (*text).to_string()),
                    Found::Disk(path) => match std::fs::read(path) {
                        Ok(bytes) => (
                            Some(path.as_path()),
                            String::from_utf8_lossy(&bytes).into_owned(),
                        ),
                        Err(e) => {
                            self.error(
                                name_span,
                                format!("cannot read include file `{display}`: {e}"),
                            );
                            return None;
                        }
                    },
                };
                let id = self.sources.add(display, path, text);
                let tokens = lex(id, &self.sources.file(id).text, self.diagnostics);
                let guard = include::include_guard(&tokens);
                self.files.insert(key.clone(), Loaded { id, guard });
                (id, tokens)
            }
        };
        Some(Frame {
            file: id,
            key,
            tokens: tokens.into_iter(),
            cond_base: self.conds.len(),
        })
    }

    /// The file name of an `#include`: the name, whether it was `<...>`, and its span.
    fn include_operand(
        &mut self,
        rest: &[Token],
        span: Span,
        end: Span,
        file: FileId,
    ) -> Option<(String, bool, Span)> {
        const EXPECTS: &str = "`#include` expects \"FILE\" or <FILE>";
        let Some(first) = rest.first() else {
            self.error(end, format!("{EXPECTS}, found end of line"));
            return None;
        };
        let (name, angled, name_span, used) = match &first.kind {
            TokenKind::Str(s) => (s.to_string(), false, first.span, 1),
            TokenKind::Punct(Punct::Lt) => {
                let Some(close) = rest.iter().position(|t| t.is(Punct::Gt)) else {
                    self.error(first.span, "missing `>` after the `#include <` file name");
                    return None;
                };
                // The name as written between the brackets, whatever tokens it lexed as.
                let inner = Span::new(file, first.span.hi, rest[close].span.lo);
                let name = self.sources.snippet(inner).trim().to_string();
                (name, true, first.span.to(rest[close].span), close + 1)
            }
            _ => {
                // A computed include: expand macros, then look again.
                let expanded = {
                    let mut expander = Expander::new(
                        &self.macros,
                        &*self.sources,
                        &mut *self.diagnostics,
                        &mut self.budget,
                    );
                    expander.expand_list(rest.iter().cloned().map(PTok::new).collect())
                };
                let whole = first.span.to(rest.last().map_or(first.span, |t| t.span));
                match expanded.first().map(|t| &t.tok.kind) {
                    Some(TokenKind::Str(s)) if expanded.len() == 1 => {
                        (s.to_string(), false, whole, rest.len())
                    }
                    Some(TokenKind::Punct(Punct::Lt))
                        if expanded.last().is_some_and(|t| t.tok.is(Punct::Gt)) =>
                    {
                        let mut name = String::new();
                        for (i, t) in expanded[1..expanded.len() - 1].iter().enumerate() {
                            if i > 0 && t.tok.space_before {
                                name.push(' ');
                            }
                            match t.spelling {
                                Some(at) => name.push_str(self.sources.snippet(at)),
                                None => name.push_str(&macros::spell_kind(&t.tok.kind)),
                            }
                        }
                        (name, true, whole, rest.len())
                    }
                    _ => {
                        let found = first.kind.to_string();
                        self.diagnostics.push(
                            Diagnostic::error(first.span, format!("{EXPECTS}, found {found}"))
                                .with_secondary(span, "in this directive"),
                        );
                        return None;
                    }
                }
            }
        };
        if let Some(extra) = rest.get(used) {
            self.warning(extra.span, "extra tokens after the `#include` file name");
        }
        if name.is_empty() {
            self.error(name_span, "empty `#include` file name");
            return None;
        }
        Some((name, angled, name_span))
    }
}

/// The text of a `#line` file name: `\\` and `\"` stand for `\` and `"`.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
                continue;
            }
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::test_support::{norm, pp, pp_file, pp_with, TempDir};
    use super::*;

    #[test]
    fn a_file_without_directives_is_copied_as_is() {
        let text = "control c() {\n  apply { x = 8w1 + y; }\n}\n";
        let r = pp(text);
        assert!(r.diags.is_empty());
        let lexed = lex(r.root, text, &mut Vec::new());
        assert_eq!(r.tokens.len(), lexed.len());
        for (a, b) in r.tokens.iter().zip(&lexed) {
            assert_eq!(a.kind, b.kind);
            assert!(a.span.same_place(b.span));
            assert_eq!(
                (a.line_start, a.space_before),
                (b.line_start, b.space_before)
            );
        }
    }

    #[test]
    fn a_long_plain_tail_after_includes_and_macros_keeps_its_place() {
        // The root's plain tail is taken over in place; what came before must stay in front.
        let dir = TempDir::new("tail");
        let root = dir.write(
            "root.p4",
            "#include \"x.p4\"\n#define M m1 m2\nM\na b c d e f g h\n",
        );
        dir.write("x.p4", "x1 x2");
        let r = pp_file(&root, &PreprocessOptions::default());
        assert!(r.diags.is_empty(), "{:#?}", r.diags);
        assert_eq!(r.text(), "x1 x2 m1 m2 a b c d e f g h");
        assert_eq!(r.snippet(r.token("h").span), "h");
        assert_eq!(r.at(r.token("a").span).1, 4);
        assert!(r
            .sources
            .file(r.token("x2").span.file)
            .name
            .ends_with("x.p4"));
    }

    #[test]
    fn the_result_ends_with_the_root_files_eof() {
        let r = pp("#define X 1\nX\n#if 1\n#endif");
        let eof = r.tokens.last().unwrap();
        assert_eq!(eof.span.file, r.root);
        assert_eq!(eof.span.lo as usize, "#define X 1\nX\n#if 1\n#endif".len());
        assert_eq!(pp("").tokens.len(), 1);
    }

    #[test]
    fn if_elif_else_pick_one_branch_and_skip_the_rest() {
        let text = "#define A 1\n\
                    #if A == 1\nyes1\n#else\nno1\n#endif\n\
                    #ifdef B\nno2\n#elif defined(A) && !defined B\nyes2\n#endif\n\
                    #ifndef B\nyes3\n#endif\n\
                    #if 0\n#bogus directive\n#include <nowhere.p4>\n#error not seen\n#if 1\nno4\n#endif\n#else\nyes4\n#endif\n";
        let r = pp(text);
        assert!(r.diags.is_empty(), "{:#?}", r.diags);
        assert_eq!(r.text(), "yes1 yes2 yes3 yes4");
        assert_eq!(
            pp("#if 0\na\n#elif 1\nb\n#elif 1\nc\n#else\nd\n#endif").text(),
            "b"
        );
        assert_eq!(pp("#if 0\na\n#elif 0\nb\n#else\nd\n#endif").text(), "d");
        assert_eq!(
            pp("#if 0\n#if 1\nx\n#else\ny\n#endif\n#endif\nz").text(),
            "z"
        );
        assert_eq!(
            pp("#define X\n#if 0\n#elifdef X\nx\n#endif\n#if 0\n#elifndef X\ny\n#endif").text(),
            "x"
        );
    }

    #[test]
    fn an_elif_after_a_taken_branch_is_not_evaluated() {
        let r = pp("#if 1\na\n#elif 1/0\nb\n#endif");
        assert!(r.diags.is_empty(), "{:#?}", r.diags);
        assert_eq!(r.text(), "a");
    }

    #[test]
    fn deeply_nested_conditionals_are_fine() {
        let n = 100_000;
        let text = format!("{}x\n{}", "#if 1\n".repeat(n), "#endif\n".repeat(n));
        let r = pp(&text);
        assert!(r.diags.is_empty());
        assert_eq!(r.text(), "x");
        let skipped = format!(
            "#if 0\n{}x\n{}#endif\ny",
            "#ifdef Q\n".repeat(n),
            "#endif\n".repeat(n)
        );
        assert_eq!(pp(&skipped).text(), "y");
    }

    #[test]
    fn unterminated_if_points_at_the_if() {
        let r = pp("a\n  #ifdef X\nb\n");
        let d = r.diag("unterminated `#ifdef`");
        assert!(d.is_error());
        assert_eq!(r.at(d.primary.span), ("main.p4".to_string(), 2, 3));
        assert_eq!(r.snippet(d.primary.span), "#ifdef");
        // Both open groups are reported.
        assert_eq!(
            pp("#if 1\n#if 0\n").errors(),
            ["unterminated `#if`", "unterminated `#if`"]
        );
    }

    #[test]
    fn else_elif_endif_out_of_place() {
        let r = pp("#else\n#endif\n#elif 1\nx");
        assert_eq!(
            r.errors(),
            [
                "`#else` without `#if`",
                "`#endif` without `#if`",
                "`#elif` without `#if`"
            ]
        );
        assert_eq!(r.at(r.diag("`#endif`").primary.span).1, 2);
        assert_eq!(r.text(), "x");
        let r = pp("#if 1\n#else\n#elif 1\n#endif");
        let d = r.diag("`#elif` after `#else`");
        assert_eq!(r.at(d.primary.span).1, 3);
        assert_eq!(r.at(d.secondary[0].span).1, 2);
        let r = pp("#if 0\n#else\nx\n#else\ny\n#endif");
        assert_eq!(r.errors(), ["`#else` after `#else`"]);
        assert_eq!(r.text(), "x");
        let r = pp("#if 1\n#endif FOO\n");
        assert_eq!(r.warnings(), ["extra tokens after `#endif`"]);
    }

    #[test]
    fn error_and_warning_directives() {
        let r = pp("x\n#error this is  bad\n#warning careful now\n#if 0\n#error hidden\n#endif\ny");
        assert_eq!(r.errors(), ["#error this is  bad"]);
        assert_eq!(r.warnings(), ["#warning careful now"]);
        assert_eq!(r.at(r.diag("#error").primary.span).1, 2);
        // The `error` of `#error` is a keyword to the lexer; `warning` is not.
        assert_eq!(r.text(), "x y");
        assert_eq!(pp("#error").errors(), ["#error"]);
    }

    #[test]
    fn line_directives_renumber_what_follows() {
        let r = pp("a\n#line 100 \"gen.p4\"\nb\nc\n");
        assert!(r.diags.is_empty());
        assert_eq!(r.at(r.token("b").span), ("gen.p4".to_string(), 100, 1));
        assert_eq!(r.at(r.token("c").span), ("gen.p4".to_string(), 101, 1));
        assert_eq!(r.at(r.token("a").span), ("main.p4".to_string(), 1, 1));
        let r = pp("#line 7\nx");
        assert_eq!(r.at(r.token("x").span), ("main.p4".to_string(), 7, 1));
        // The C preprocessor's own line markers.
        let r = pp("# 42 \"orig.p4\" 1 3\ny");
        assert!(r.diags.is_empty());
        assert_eq!(r.at(r.token("y").span), ("orig.p4".to_string(), 42, 1));
        // A macro may give the number.
        let r = pp("#define N 9\n#line N\nz");
        assert_eq!(r.at(r.token("z").span).1, 9);
        let r = pp("#line x\n#line\n#line 3 4");
        assert_eq!(
            r.errors(),
            [
                "`#line` expects a line number, found `x`",
                "`#line` expects a line number, found end of line",
                "`#line` expects a file name string after the line number, found integer literal"
            ]
        );
    }

    #[test]
    fn pragmas_and_null_directives_are_accepted() {
        let r = pp("#pragma anything (1, 2)\n#pragma\n#\nx");
        assert!(r.diags.is_empty(), "{:#?}", r.diags);
        assert_eq!(r.text(), "x");
    }

    #[test]
    fn unknown_directives_are_named() {
        let r = pp("x\n#inclde <core.p4>\n# ;\ny");
        let d = r.diag("unknown preprocessor directive `#inclde`");
        assert!(d.is_error());
        assert_eq!(r.at(d.primary.span).1, 2);
        assert_eq!(r.snippet(d.primary.span), "#inclde");
        let d = r.diag("expected a preprocessor directive name after `#`, found `;`");
        assert_eq!(r.at(d.primary.span).2, 3);
        assert_eq!(r.text(), "x y");
    }

    #[test]
    fn missing_macro_names() {
        let r = pp(
            "#define\n#undef\n#ifdef\n#endif\n#ifndef 3\n#endif\n#define 5 x\n#define defined 1",
        );
        assert_eq!(
            r.errors(),
            [
                "missing macro name after `#define`",
                "missing macro name after `#undef`",
                "missing macro name after `#ifdef`",
                "macro name must be an identifier, found integer literal",
                "macro name must be an identifier, found integer literal",
                "`defined` cannot be used as a macro name"
            ]
        );
        let d = &r.diags[0];
        assert_eq!(r.snippet(d.primary.span), "define");
    }

    #[test]
    fn command_line_defines() {
        let options = PreprocessOptions {
            defines: vec![
                ("WIDTH".into(), Some("16".into())),
                ("DEBUG".into(), None),
                ("F(x)".into(), Some("x+1".into())),
                ("EMPTY".into(), Some(String::new())),
            ],
            ..Default::default()
        };
        let r = pp_with("bit<WIDTH> a = DEBUG; F(2) EMPTY", &options, LIMITS);
        assert!(r.diags.is_empty(), "{:#?}", r.diags);
        assert_eq!(r.text(), norm("bit<16> a = 1; 2+1"));
        // The replacement points at the use.
        assert_eq!(r.token("16").span.file, r.root);
        assert!(r.sources.files().any(|(_, f)| f.name == "<command line>"));
        // A bad definition is reported in the `<command line>` file.
        let options = PreprocessOptions {
            defines: vec![("3".into(), None)],
            ..Default::default()
        };
        let r = pp_with("x", &options, LIMITS);
        let d = r.diag("macro name must be an identifier");
        assert_eq!(r.at(d.primary.span).0, "<command line>");
        assert_eq!(r.text(), "x");
    }

    #[test]
    fn includes_resolve_beside_the_including_file_then_in_include_dirs() {
        let dir = TempDir::new("rel");
        let root = dir.write(
            "root.p4",
            "#include \"sub/b.p4\"\n#include <lib.p4>\nroot_tok\n",
        );
        dir.write("sub/b.p4", "#include \"c.p4\"\n\n  b_tok\n");
        dir.write("sub/c.p4", "c_tok");
        // A `c.p4` in the -I directory must lose to the one beside `b.p4`.
        dir.write("inc/c.p4", "wrong_c");
        dir.write("inc/lib.p4", "lib_tok");
        let options = PreprocessOptions {
            include_dirs: vec![dir.0.join("inc")],
            ..Default::default()
        };
        let r = pp_file(&root, &options);
        assert!(r.diags.is_empty(), "{:#?}", r.diags);
        assert_eq!(r.text(), "c_tok b_tok lib_tok root_tok");
        // Spans of included tokens point into the file they were written in.
        let b = r.token("b_tok");
        assert!(r.sources.file(b.span.file).name.ends_with("b.p4"));
        assert_eq!(r.snippet(b.span), "b_tok");
        let (_, line, col) = r.at(b.span);
        assert_eq!((line, col), (3, 3));
        let lib = r.token("lib_tok");
        assert!(r
            .sources
            .file(lib.span.file)
            .path
            .as_ref()
            .unwrap()
            .ends_with("inc/lib.p4"));
        assert_eq!(r.token("root_tok").span.file, r.root);
    }

    #[test]
    fn conditionals_belong_to_their_file() {
        let dir = TempDir::new("cond");
        let root = dir.write("root.p4", "#if 1\n#include \"inner.p4\"\n#endif\nafter\n");
        dir.write("inner.p4", "#endif\n#if 1\ninner\n");
        let r = pp_file(&root, &PreprocessOptions::default());
        assert_eq!(r.errors(), ["`#endif` without `#if`", "unterminated `#if`"]);
        for d in &r.diags {
            assert!(r
                .sources
                .file(d.primary.span.file)
                .name
                .ends_with("inner.p4"));
        }
        assert_eq!(r.text(), "inner after");
    }

    #[test]
    fn include_not_found_names_the_file_and_where_it_looked() {
        let dir = TempDir::new("nf");
        let r = pp_with(
            "x\n#include \"nope.p4\"\n#include <gone.p4>\ny",
            &PreprocessOptions {
                include_dirs: vec![dir.0.clone()],
                ..Default::default()
            },
            LIMITS,
        );
        let d = r.diag("cannot find include file `nope.p4`");
        assert_eq!(r.snippet(d.primary.span), "\"nope.p4\"");
        assert_eq!(r.at(d.primary.span).1, 2);
        assert!(
            d.notes[0].contains(&dir.0.display().to_string()),
            "{:?}",
            d.notes
        );
        assert!(d.notes[0].contains("built-in"), "{:?}", d.notes);
        let d = r.diag("cannot find include file `gone.p4`");
        assert_eq!(r.snippet(d.primary.span), "<gone.p4>");
        assert_eq!(r.text(), "x y");
        assert_eq!(
            pp("#include\n").errors(),
            ["`#include` expects \"FILE\" or <FILE>, found end of line"]
        );
        assert_eq!(
            pp("#include <core.p4\n").errors(),
            ["missing `>` after the `#include <` file name"]
        );
    }

    #[test]
    fn builtin_includes_come_first_for_angle_brackets() {
        let dir = TempDir::new("builtin");
        dir.write("core.p4", "not_the_builtin");
        let options = PreprocessOptions {
            include_dirs: vec![dir.0.clone()],
            ..Default::default()
        };
        let r = pp_with("#include <core.p4>\nx", &options, LIMITS);
        assert!(r.errors().is_empty(), "{:#?}", r.diags);
        let core = r
            .sources
            .files()
            .find(|(_, f)| f.name == "<builtin>/core.p4")
            .map(|(id, _)| id);
        let core = core.expect("built-in core.p4 was read");
        assert!(r.sources.file(core).path.is_none());
        assert_eq!(
            r.sources.file(core).text,
            crate::builtin::include("core.p4").unwrap()
        );
        for t in &r.tokens[..r.tokens.len() - 1] {
            assert!(t.span.file == core || t.span.file == r.root);
        }
        assert!(!r.text().contains("not_the_builtin"));
        // A quoted include falls back to the built-ins.
        let r = pp("#include \"tc/pna.p4\"\n");
        assert!(r.errors().is_empty(), "{:#?}", r.diags);
        assert!(r
            .sources
            .files()
            .any(|(_, f)| f.name == "<builtin>/tc/pna.p4"));
    }

    #[test]
    fn computed_includes() {
        let r = pp("#define H <core.p4>\n#include H\n");
        assert!(r.errors().is_empty(), "{:#?}", r.diags);
        assert!(r
            .sources
            .files()
            .any(|(_, f)| f.name == "<builtin>/core.p4"));
        let r = pp("#define Q \"nope.p4\"\n#include Q\n");
        assert_eq!(r.errors(), ["cannot find include file `nope.p4`"]);
        let r = pp("#include 42\n");
        assert_eq!(
            r.errors(),
            ["`#include` expects \"FILE\" or <FILE>, found integer literal"]
        );
    }

    #[test]
    fn include_cycles_are_reported_with_the_chain() {
        let dir = TempDir::new("cycle");
        let a = dir.write("a.p4", "a1\n#include \"b.p4\"\na2\n");
        dir.write("b.p4", "b1\n#include \"a.p4\"\nb2\n");
        let r = pp_file(&a, &PreprocessOptions::default());
        let d = r.diag("include cycle");
        assert!(d.is_error());
        assert_eq!(d.message.matches(" includes ").count(), 2, "{}", d.message);
        assert!(
            d.message.contains("a.p4`") && d.message.contains("b.p4`"),
            "{}",
            d.message
        );
        assert!(r.sources.file(d.primary.span.file).name.ends_with("b.p4"));
        assert_eq!(r.at(d.primary.span).1, 2);
        assert_eq!(r.text(), "a1 b1 b2 a2");
        // Directly.
        let s = dir.write("self.p4", "#include \"self.p4\"\n");
        let r = pp_file(&s, &PreprocessOptions::default());
        assert_eq!(r.errors().len(), 1);
        assert!(r.errors()[0].starts_with("include cycle"));
    }

    #[test]
    fn guarded_files_may_be_included_again() {
        let dir = TempDir::new("guard");
        let root = dir.write(
            "root.p4",
            "#include \"g.p4\"\n#include \"g.p4\"\n#include \"o.p4\"\n#include \"o.p4\"\nend\n",
        );
        // The guarded file even includes itself, which its guard makes harmless.
        dir.write(
            "g.p4",
            "#ifndef G_P4\n#define G_P4\n#include \"g.p4\"\ng\n#endif // G_P4\n",
        );
        dir.write("o.p4", "#pragma once\no\n");
        let r = pp_file(&root, &PreprocessOptions::default());
        assert!(r.diags.is_empty(), "{:#?}", r.diags);
        assert_eq!(r.text(), "g o end");
        // An unguarded file is simply read twice.
        let dir = TempDir::new("twice");
        let root = dir.write("root.p4", "#include \"t.p4\"\n#include \"t.p4\"\n");
        dir.write("t.p4", "t");
        let r = pp_file(&root, &PreprocessOptions::default());
        assert!(r.diags.is_empty());
        assert_eq!(r.text(), "t t");
        // Read once into the source map.
        assert_eq!(
            r.sources
                .files()
                .filter(|(_, f)| f.name.ends_with("/t.p4"))
                .count(),
            1
        );
    }

    #[test]
    fn include_depth_is_limited() {
        let dir = TempDir::new("depth");
        for i in 0..10 {
            dir.write(
                &format!("f{i}.p4"),
                &format!("#include \"f{}.p4\"\nt{i}\n", i + 1),
            );
        }
        dir.write("f10.p4", "last");
        let text = std::fs::read_to_string(dir.0.join("f0.p4")).unwrap();
        let mut sources = SourceMap::new();
        let path = dir.0.join("f0.p4");
        let root = sources.add("f0.p4", Some(&path), text);
        let mut diags = Vec::new();
        let tokens = run(
            &mut sources,
            root,
            &PreprocessOptions::default(),
            &mut diags,
            Limits {
                include_depth: 5,
                ..LIMITS
            },
        );
        assert_eq!(diags.len(), 1);
        assert_eq!(
            diags[0].message,
            "`#include` nested too deeply (more than 5 levels)"
        );
        assert!(sources
            .file(diags[0].primary.span.file)
            .name
            .ends_with("f4.p4"));
        assert_eq!(super::test_support::spell(&tokens), "t4 t3 t2 t1 t0");
    }

    #[test]
    fn output_size_is_limited() {
        let text = "x ".repeat(100);
        let r = pp_with(
            &text,
            &PreprocessOptions::default(),
            Limits {
                output_tokens: 10,
                ..LIMITS
            },
        );
        assert_eq!(
            r.errors(),
            ["preprocessed program is too large (more than 10 tokens)"]
        );
        assert_eq!(r.tokens.len(), 11);
    }

    #[test]
    fn hostile_input_never_panics() {
        // Random bytes.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..300 {
            let len = (next() % 200) as usize;
            let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            let _ = pp(&String::from_utf8_lossy(&bytes));
        }
        // Random sequences of preprocessor-heavy fragments.
        const PARTS: &[&str] = &[
            "#define ",
            "#undef ",
            "#if ",
            "#ifdef ",
            "#elif ",
            "#else",
            "#endif",
            "#include ",
            "#line ",
            "#",
            "\n",
            " ",
            "f",
            "g",
            "x",
            "(",
            ")",
            ",",
            "##",
            "...",
            "__VA_ARGS__",
            "1",
            "0",
            "defined",
            "/",
            "?",
            ":",
            "\"s\"",
            "<",
            ">",
            "\\\n",
            "&&",
            "-",
            "!",
        ];
        for _ in 0..3000 {
            let len = (next() % 40) as usize;
            let text: String = (0..len)
                .map(|_| PARTS[(next() % PARTS.len() as u64) as usize])
                .collect();
            let _ = pp(&text);
        }
    }
}
