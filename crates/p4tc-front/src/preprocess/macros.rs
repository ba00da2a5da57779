//! Macro definitions (`#define`) and their expansion.
//!
//! Expansion follows the C rules that programs rely on:
//! - while a macro's replacement is being rescanned the macro is *disabled*, and a name of a
//!   disabled macro read in that time is painted (`no_expand`) so it is never expanded later
//!   either, which is what makes `#define foo foo + 1` terminate;
//! - arguments are collected with nested parentheses, then fully expanded on their own (except
//!   where they stand next to `#` or `##`) before they are substituted;
//! - the substituted replacement is rescanned together with the rest of the input, so a
//!   function-like macro name at the end of a replacement can take its arguments from the file.
//!
//! Rescanning uses a stack of contexts (one per macro being expanded) rather than recursion; the
//! only recursion is the expansion of an argument, and its depth is bounded. Every token a
//! substitution creates is charged to a [`Budget`], so no input can make expansion run away.

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::rc::Rc;

use p4tc_ir::{Diagnostic, SourceMap, Span};

use super::ident_name;
use crate::lexer::lex;
use crate::token::{Base, Punct, Token, TokenKind};

/// Every macro defined at some point, by name.
pub(super) type MacroTable = HashMap<String, Rc<Macro>>;

/// A token on its way through macro expansion.
#[derive(Clone, Debug)]
pub(super) struct PTok {
    /// The token as it will be output.
    pub tok: Token,
    /// "Painted blue": it named a macro that was being expanded when it was read, so it must
    /// never be expanded, even after being passed on as an argument.
    pub no_expand: bool,
    /// Where the token's own text is written, when it has one (its span may instead be the
    /// macro invocation it came out of). `#` and `##` use the text as written.
    pub spelling: Option<Span>,
}

impl PTok {
    /// A token read straight from a file: its span is its spelling.
    pub fn new(tok: Token) -> PTok {
        let spelling = Some(tok.span);
        PTok {
            tok,
            no_expand: false,
            spelling,
        }
    }
}

/// One `#define`.
#[derive(Debug)]
pub(super) struct Macro {
    /// The macro's name.
    pub name: String,
    /// Parameter names of a function-like macro (the variadic one last, `__VA_ARGS__` unless
    /// named); `None` for an object-like macro.
    pub params: Option<Vec<String>>,
    /// The last parameter takes all remaining arguments.
    pub variadic: bool,
    /// The replacement list.
    pub body: Vec<Item>,
    /// The name in the `#define`, for "previous definition" notes.
    pub span: Span,
    /// True while the macro's replacement is being rescanned.
    pub disabled: Cell<bool>,
}

/// One element of a replacement list.
#[derive(Clone, Debug)]
pub(super) enum Item {
    /// A plain token; its span is where it is written in the `#define`.
    Tok(Token),
    /// A parameter, replaced by its argument: fully expanded, or as written (`raw`) next to
    /// `##`.
    Param {
        index: usize,
        raw: bool,
        space_before: bool,
    },
    /// `#param`: the argument's spelling as a string literal.
    Stringify { index: usize, space_before: bool },
    /// `##`, joining the last token before it with the first one after it. The span is the
    /// operator in the `#define`.
    Paste(Span),
}

/// Caps on the work macro expansion may do, shared by a whole preprocessor run.
#[derive(Debug)]
pub(super) struct Budget {
    /// Tokens substitution may still create (or copy, for argument expansion).
    pub remaining: usize,
    /// The cap `remaining` started from, for the message.
    pub limit: usize,
    /// Set once the cap was hit: from then on no macro is expanded, so the run ends quickly.
    pub exhausted: bool,
    /// How deeply arguments may nest inside arguments that are being expanded.
    pub max_depth: usize,
    /// The "nested too deeply" error was already reported.
    pub depth_reported: bool,
}

impl Budget {
    /// A fresh budget.
    pub fn new(tokens: usize, max_depth: usize) -> Budget {
        Budget {
            remaining: tokens,
            limit: tokens,
            exhausted: false,
            max_depth,
            depth_reported: false,
        }
    }
}

/// Parses the part of a `#define` line after the word `define`. `directive` is the word itself,
/// pointed at when the name is missing.
pub(super) fn parse_define(
    rest: &[Token],
    directive: Span,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Macro> {
    let Some(name_tok) = rest.first() else {
        diagnostics.push(Diagnostic::error(
            directive,
            "missing macro name after `#define`",
        ));
        return None;
    };
    let Some(name) = ident_name(&name_tok.kind) else {
        diagnostics.push(Diagnostic::error(
            name_tok.span,
            format!("macro name must be an identifier, found {}", name_tok.kind),
        ));
        return None;
    };
    if name == "defined" {
        diagnostics.push(Diagnostic::error(
            name_tok.span,
            "`defined` cannot be used as a macro name",
        ));
        return None;
    }
    let mut i = 1;
    let mut params = None;
    let mut variadic = false;
    // Only a `(` touching the name makes a function-like macro: `#define F (x)` is object-like.
    if rest
        .get(1)
        .is_some_and(|t| t.is(Punct::LParen) && !t.space_before)
    {
        let (list, is_variadic, next) = parse_params(rest, name_tok.span, diagnostics)?;
        params = Some(list);
        variadic = is_variadic;
        i = next;
    }
    let body = parse_body(&rest[i..], params.as_deref(), diagnostics)?;
    Some(Macro {
        name: name.to_string(),
        params,
        variadic,
        body,
        span: name_tok.span,
        disabled: Cell::new(false),
    })
}

/// Parses `( params )` starting at `rest[1]`; returns the names, whether the last is variadic,
/// and the index just past the `)`.
fn parse_params(
    rest: &[Token],
    name: Span,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<(Vec<String>, bool, usize)> {
    let mut list: Vec<String> = Vec::new();
    let mut i = 2;
    let missing = |at: Span, diagnostics: &mut Vec<Diagnostic>| {
        diagnostics.push(
            Diagnostic::error(at, "missing `)` in macro parameter list")
                .with_secondary(name, "in this macro"),
        );
    };
    let last_end = rest.last().map_or(name, |t| t.span.end());
    if rest.get(i).is_some_and(|t| t.is(Punct::RParen)) {
        return Some((list, false, i + 1));
    }
    loop {
        let Some(t) = rest.get(i) else {
            missing(last_end, diagnostics);
            return None;
        };
        let mut variadic = false;
        if t.is(Punct::Ellipsis) {
            list.push("__VA_ARGS__".to_string());
            variadic = true;
            i += 1;
        } else if let Some(param) = ident_name(&t.kind) {
            if list.iter().any(|p| p == param) {
                diagnostics.push(Diagnostic::error(
                    t.span,
                    format!("duplicate macro parameter `{param}`"),
                ));
                return None;
            }
            list.push(param.to_string());
            i += 1;
            // GNU named variadic parameter: `args...`.
            if rest.get(i).is_some_and(|t| t.is(Punct::Ellipsis)) {
                variadic = true;
                i += 1;
            }
        } else {
            diagnostics.push(Diagnostic::error(
                t.span,
                format!("expected a macro parameter name, found {}", t.kind),
            ));
            return None;
        }
        match rest.get(i) {
            Some(t) if t.is(Punct::RParen) => return Some((list, variadic, i + 1)),
            Some(t) if t.is(Punct::Comma) && !variadic => i += 1,
            Some(t) => {
                let expected = if variadic {
                    "`)` after `...`"
                } else {
                    "`,` or `)` in macro parameter list"
                };
                diagnostics.push(Diagnostic::error(
                    t.span,
                    format!("expected {expected}, found {}", t.kind),
                ));
                return None;
            }
            None => {
                missing(last_end, diagnostics);
                return None;
            }
        }
    }
}

/// Turns the replacement tokens into [`Item`]s, checking where `#` and `##` may stand.
fn parse_body(
    tokens: &[Token],
    params: Option<&[String]>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Vec<Item>> {
    let param_index = |t: &Token| -> Option<usize> {
        let name = ident_name(&t.kind)?;
        params?.iter().position(|p| p == name)
    };
    let mut body = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        if t.is(Punct::HashHash) {
            if i == 0 || i + 1 == tokens.len() {
                diagnostics.push(Diagnostic::error(
                    t.span,
                    "`##` cannot appear at either end of a macro body",
                ));
                return None;
            }
            body.push(Item::Paste(t.span));
        } else if params.is_some() && t.is(Punct::Hash) {
            // In a function-like macro `#` is the stringizing operator and needs a parameter.
            match tokens.get(i + 1).and_then(param_index) {
                Some(index) => {
                    body.push(Item::Stringify {
                        index,
                        space_before: t.space_before,
                    });
                    i += 1;
                }
                None => {
                    diagnostics.push(Diagnostic::error(
                        t.span,
                        "`#` is not followed by a macro parameter",
                    ));
                    return None;
                }
            }
        } else if let Some(index) = param_index(t) {
            body.push(Item::Param {
                index,
                raw: false,
                space_before: t.space_before,
            });
        } else {
            let mut tok = t.clone();
            tok.line_start = false;
            body.push(Item::Tok(tok));
        }
        i += 1;
    }
    // A parameter next to `##` is substituted as written, not expanded.
    for j in 0..body.len() {
        let next_to_paste = (j > 0 && matches!(body[j - 1], Item::Paste(_)))
            || matches!(body.get(j + 1), Some(Item::Paste(_)));
        if let Item::Param { raw, .. } = &mut body[j] {
            *raw |= next_to_paste;
        }
    }
    Some(body)
}

/// True when two definitions are the same (same parameters, same replacement with the same
/// whitespace between tokens), so redefining one as the other is harmless.
pub(super) fn same_definition(a: &Macro, b: &Macro) -> bool {
    if a.params != b.params || a.variadic != b.variadic || a.body.len() != b.body.len() {
        return false;
    }
    a.body
        .iter()
        .zip(&b.body)
        .enumerate()
        .all(|(i, pair)| match pair {
            (Item::Tok(x), Item::Tok(y)) => {
                x.kind == y.kind && (i == 0 || x.space_before == y.space_before)
            }
            (
                Item::Param {
                    index: x,
                    space_before: sx,
                    ..
                },
                Item::Param {
                    index: y,
                    space_before: sy,
                    ..
                },
            )
            | (
                Item::Stringify {
                    index: x,
                    space_before: sx,
                },
                Item::Stringify {
                    index: y,
                    space_before: sy,
                },
            ) => x == y && (i == 0 || sx == sy),
            (Item::Paste(_), Item::Paste(_)) => true,
            _ => false,
        })
}

/// How a token is written, rebuilt from its kind (for tokens made by `#` or `##`, which have no
/// text of their own in any file).
pub(super) fn spell_kind(kind: &TokenKind) -> Cow<'_, str> {
    match kind {
        TokenKind::Ident(name) => Cow::Borrowed(name),
        TokenKind::Keyword(k) => Cow::Borrowed(k.as_str()),
        TokenKind::DontCare => Cow::Borrowed("_"),
        TokenKind::Int(lit) => {
            let mut s = String::new();
            if let Some((width, signed)) = lit.width {
                let _ = write!(s, "{width}{}", if signed { 's' } else { 'w' });
            }
            if lit.negative {
                s.push('-');
            }
            s.push_str(match lit.base {
                Base::Binary => "0b",
                Base::Octal => "0o",
                Base::Decimal => "",
                Base::Hex => "0x",
            });
            s.push_str(&lit.value.to_str_radix(lit.base.radix()));
            Cow::Owned(s)
        }
        TokenKind::Str(text) => Cow::Owned(format!("\"{text}\"")),
        TokenKind::Punct(p) => Cow::Borrowed(p.as_str()),
        TokenKind::Unexpected(c) => Cow::Owned(c.to_string()),
        TokenKind::Eof => Cow::Borrowed(""),
    }
}

/// The not-yet-read rest of a file, which a macro invocation may read its arguments from.
pub(super) struct FileCursor<'f> {
    /// The file's tokens not read yet.
    pub tokens: &'f mut std::vec::IntoIter<Token>,
}

impl FileCursor<'_> {
    /// The next token, unless the file ends or a directive line starts there (a directive can
    /// never be part of a macro invocation).
    fn peek(&self) -> Option<&Token> {
        let t = self.tokens.as_slice().first()?;
        if matches!(t.kind, TokenKind::Eof) || (t.line_start && t.is(Punct::Hash)) {
            return None;
        }
        Some(t)
    }

    fn at_directive(&self) -> bool {
        self.tokens
            .as_slice()
            .first()
            .is_some_and(|t| t.line_start && t.is(Punct::Hash))
    }
}

/// The replacement of one macro being rescanned. Dropping it ends the expansion and enables
/// the macro again.
struct Context {
    tokens: std::vec::IntoIter<PTok>,
    owner: Option<Rc<Macro>>,
}

impl Drop for Context {
    fn drop(&mut self) {
        if let Some(m) = &self.owner {
            m.disabled.set(false);
        }
    }
}

/// Where expansion reads from: the contexts, innermost last, then (at the top level) the file.
struct Reader<'f> {
    contexts: Vec<Context>,
    file: Option<FileCursor<'f>>,
}

impl Reader<'_> {
    /// The next token of the contexts, dropping those that are used up.
    fn next_in_contexts(&mut self) -> Option<PTok> {
        loop {
            let top = self.contexts.last_mut()?;
            if let Some(t) = top.tokens.next() {
                // The context stays on the stack even when this was its last token, so that
                // the token is still read while its macro is disabled.
                return Some(t);
            }
            self.contexts.pop();
        }
    }

    /// True when the next token, wherever it comes from, is `(`. Used-up contexts are dropped
    /// on the way, as reading the `(` would.
    fn next_is_lparen(&mut self) -> bool {
        while let Some(top) = self.contexts.last() {
            match top.tokens.as_slice().first() {
                Some(t) => return t.tok.is(Punct::LParen),
                None => {
                    self.contexts.pop();
                }
            }
        }
        self.file
            .as_ref()
            .and_then(|f| f.peek())
            .is_some_and(|t| t.is(Punct::LParen))
    }
}

/// Expands macros. One is made per top-level invocation or directive line; it borrows the
/// state of the run.
pub(super) struct Expander<'a> {
    macros: &'a MacroTable,
    sources: &'a SourceMap,
    diagnostics: &'a mut Vec<Diagnostic>,
    budget: &'a mut Budget,
    depth: usize,
}

impl<'a> Expander<'a> {
    /// An expander over the current macro definitions.
    pub fn new(
        macros: &'a MacroTable,
        sources: &'a SourceMap,
        diagnostics: &'a mut Vec<Diagnostic>,
        budget: &'a mut Budget,
    ) -> Expander<'a> {
        Expander {
            macros,
            sources,
            diagnostics,
            budget,
            depth: 0,
        }
    }

    /// Expands every macro in `tokens` (a directive line, or an argument), reading nothing
    /// beyond them.
    pub fn expand_list(&mut self, tokens: Vec<PTok>) -> Vec<PTok> {
        let mut reader = Reader {
            contexts: vec![Context {
                tokens: tokens.into_iter(),
                owner: None,
            }],
            file: None,
        };
        let mut out = Vec::new();
        self.scan(&mut reader, &mut out);
        out
    }

    /// Expands the macro invocation that starts with `first`, just taken from a file whose
    /// remaining tokens are `file`, appending the result to `out`. Arguments, and whatever the
    /// rescan of the replacement needs, are read from the file.
    pub fn expand_from_file(&mut self, first: Token, file: FileCursor<'_>, out: &mut Vec<Token>) {
        let mut reader = Reader {
            contexts: Vec::new(),
            file: Some(file),
        };
        let mut produced = Vec::new();
        self.consider(&mut reader, PTok::new(first), &mut produced);
        self.scan(&mut reader, &mut produced);
        out.extend(produced.into_iter().map(|p| {
            let mut tok = p.tok;
            tok.line_start = false;
            tok
        }));
    }

    /// Reads the contexts to their end, expanding what can be expanded.
    fn scan(&mut self, reader: &mut Reader<'_>, out: &mut Vec<PTok>) {
        while let Some(t) = reader.next_in_contexts() {
            let t = self.paint(t);
            self.consider(reader, t, out);
        }
    }

    /// Marks a token naming a disabled macro so that it is never expanded.
    fn paint(&self, mut t: PTok) -> PTok {
        if !t.no_expand {
            if let Some(m) = ident_name(&t.tok.kind).and_then(|n| self.macros.get(n)) {
                t.no_expand = m.disabled.get();
            }
        }
        t
    }

    /// The next token from the contexts or else the file, painted.
    fn next_any(&self, reader: &mut Reader<'_>) -> Option<PTok> {
        if let Some(t) = reader.next_in_contexts() {
            return Some(self.paint(t));
        }
        let file = reader.file.as_mut()?;
        file.peek()?;
        let t = file.tokens.next()?;
        Some(self.paint(PTok::new(t)))
    }

    /// Expands `t` if it is an invocation of an enabled macro, else passes it on.
    fn consider(&mut self, reader: &mut Reader<'_>, t: PTok, out: &mut Vec<PTok>) {
        if t.no_expand || self.budget.exhausted {
            out.push(t);
            return;
        }
        let Some(m) = ident_name(&t.tok.kind).and_then(|n| self.macros.get(n)) else {
            out.push(t);
            return;
        };
        if m.disabled.get() {
            out.push(PTok {
                no_expand: true,
                ..t
            });
            return;
        }
        let m = Rc::clone(m);
        self.enter(reader, t, m, out);
    }

    /// Expands one invocation of `m` whose name `name` was just read: collects the arguments,
    /// substitutes, and pushes the result as a new context to be rescanned.
    fn enter(&mut self, reader: &mut Reader<'_>, name: PTok, m: Rc<Macro>, out: &mut Vec<PTok>) {
        let mut span = name.tok.span;
        let mut args = Vec::new();
        if let Some(params) = &m.params {
            if !reader.next_is_lparen() {
                // A function-like macro's name alone is just a name.
                out.push(name);
                return;
            }
            let _lparen = self.next_any(reader);
            let Some((collected, close)) = self.collect_args(reader, &m, &name) else {
                return;
            };
            span = span.to(close);
            args = collected;
            let n = params.len();
            if n == 0 && args.len() == 1 && args[0].is_empty() {
                args.clear();
            }
            if m.variadic && args.len() + 1 == n {
                args.push(Vec::new());
            }
            if args.len() != n {
                self.wrong_arity(&m, args.len(), span);
                return;
            }
        }
        let mut tokens = self.substitute(&m, args, span);
        if self.budget.exhausted {
            return;
        }
        if tokens.len() > self.budget.remaining {
            self.exhaust(span);
            return;
        }
        self.budget.remaining -= tokens.len();
        let Some(first) = tokens.first_mut() else {
            return;
        };
        first.tok.space_before = name.tok.space_before;
        m.disabled.set(true);
        reader.contexts.push(Context {
            tokens: tokens.into_iter(),
            owner: Some(m),
        });
    }

    /// Reports an argument list that never ends.
    #[cold]
    #[inline(never)]
    fn unterminated(&mut self, m: &Macro, name: Span, at_directive: bool) {
        let mut d = Diagnostic::error(
            name,
            format!("unterminated argument list invoking macro `{}`", m.name),
        );
        if at_directive {
            d = d.with_note("a preprocessor directive cannot appear inside macro arguments");
        }
        self.diagnostics.push(d);
    }

    /// Reports an invocation with the wrong number of arguments. Out of line to keep the
    /// frames of the (bounded) expansion recursion small.
    #[cold]
    #[inline(never)]
    fn wrong_arity(&mut self, m: &Macro, given: usize, span: Span) {
        let n = m.params.as_ref().map_or(0, Vec::len);
        let message = if m.variadic {
            let at_least = plural(n.saturating_sub(1), "argument");
            format!(
                "macro `{}` takes at least {at_least} but {} given",
                m.name,
                were(given)
            )
        } else {
            format!(
                "macro `{}` takes {} but {} given",
                m.name,
                plural(n, "argument"),
                were(given)
            )
        };
        self.diagnostics
            .push(Diagnostic::error(span, message).with_secondary(m.span, "macro defined here"));
    }

    /// Reports that the budget is used up and stops all further expansion.
    #[cold]
    #[inline(never)]
    fn exhaust(&mut self, span: Span) {
        if !self.budget.exhausted {
            self.budget.exhausted = true;
            self.diagnostics.push(
                Diagnostic::error(
                    span,
                    format!(
                        "macro expansion is too large (more than {} tokens)",
                        self.budget.limit
                    ),
                )
                .with_note("no further macros are expanded"),
            );
        }
    }

    /// Reads the arguments of an invocation whose `(` was just read, up to the matching `)`.
    /// Returns them and the span of the `)`, or `None` (reported) if the list never ends.
    fn collect_args(
        &mut self,
        reader: &mut Reader<'_>,
        m: &Macro,
        name: &PTok,
    ) -> Option<(Vec<Vec<PTok>>, Span)> {
        let n = m.params.as_ref().map_or(0, Vec::len);
        let mut args = Vec::new();
        let mut current = Vec::new();
        let mut depth = 0usize;
        loop {
            let Some(t) = self.next_any(reader) else {
                let at_directive = reader.file.as_ref().is_some_and(FileCursor::at_directive);
                self.unterminated(m, name.tok.span, at_directive);
                return None;
            };
            if t.tok.is(Punct::LParen) {
                depth += 1;
            } else if t.tok.is(Punct::RParen) {
                if depth == 0 {
                    args.push(current);
                    return Some((args, t.tok.span));
                }
                depth -= 1;
            } else if depth == 0 && t.tok.is(Punct::Comma) && !(m.variadic && args.len() + 1 >= n) {
                args.push(std::mem::take(&mut current));
                continue;
            }
            current.push(t);
        }
    }

    /// Builds the replacement of `m` for `args`; every token it creates gets span `span`.
    fn substitute(&mut self, m: &Macro, args: Vec<Vec<PTok>>, span: Span) -> Vec<PTok> {
        let mut expanded: Vec<Option<Vec<PTok>>> = vec![None; args.len()];
        let mut out: Vec<PTok> = Vec::with_capacity(m.body.len());
        let mut pending_paste: Option<Span> = None;
        // The left operand of a `##` is a placemarker (an empty argument) rather than the last
        // token of `out`.
        let mut left_empty = true;
        for item in &m.body {
            let start = out.len();
            let mut variadic_arg = false;
            match item {
                Item::Paste(at) => {
                    pending_paste = Some(*at);
                    continue;
                }
                Item::Tok(t) => out.push(PTok {
                    tok: Token {
                        kind: t.kind.clone(),
                        span,
                        line_start: false,
                        space_before: t.space_before,
                    },
                    no_expand: false,
                    spelling: Some(t.span),
                }),
                Item::Param {
                    index,
                    raw,
                    space_before,
                } => {
                    let Some(arg) = args.get(*index) else {
                        continue;
                    };
                    if *raw {
                        out.extend(arg.iter().cloned());
                    } else {
                        if expanded[*index].is_none() {
                            expanded[*index] = Some(self.pre_expand(arg, span));
                        }
                        out.extend(expanded[*index].iter().flatten().cloned());
                    }
                    if let Some(first) = out.get_mut(start) {
                        first.tok.space_before = *space_before;
                    }
                    variadic_arg = m.variadic && *index + 1 == args.len();
                }
                Item::Stringify {
                    index,
                    space_before,
                } => {
                    let text = args
                        .get(*index)
                        .map(|a| self.stringify(a))
                        .unwrap_or_default();
                    out.push(PTok {
                        tok: Token {
                            kind: TokenKind::Str(text.into()),
                            span,
                            line_start: false,
                            space_before: *space_before,
                        },
                        no_expand: false,
                        spelling: None,
                    });
                }
            }
            let right_empty = out.len() == start;
            match pending_paste.take() {
                Some(_) if variadic_arg && !left_empty && out[start - 1].tok.is(Punct::Comma) => {
                    // GNU `, ## __VA_ARGS__`: the comma goes when there are no variable
                    // arguments, and nothing is pasted when there are.
                    if right_empty {
                        out.remove(start - 1);
                    }
                    left_empty = right_empty;
                }
                Some(at) => {
                    if !left_empty && !right_empty {
                        self.paste(&mut out, start, span, at);
                    }
                    left_empty &= right_empty;
                }
                None => left_empty = right_empty,
            }
        }
        out
    }

    /// Fully expands one argument on its own (arguments are expanded before substitution).
    fn pre_expand(&mut self, arg: &[PTok], span: Span) -> Vec<PTok> {
        let expandable = arg.iter().any(|t| {
            !t.no_expand && ident_name(&t.tok.kind).is_some_and(|n| self.macros.contains_key(n))
        });
        if !expandable || self.budget.exhausted {
            return arg.to_vec();
        }
        if self.depth >= self.budget.max_depth {
            if !self.budget.depth_reported {
                self.budget.depth_reported = true;
                self.diagnostics.push(Diagnostic::error(
                    span,
                    format!(
                        "macro arguments nested too deeply (more than {} levels)",
                        self.budget.max_depth
                    ),
                ));
            }
            return arg.to_vec();
        }
        // The copy is charged: arguments nested in arguments are copied once per level.
        if arg.len() > self.budget.remaining {
            self.exhaust(span);
            return arg.to_vec();
        }
        self.budget.remaining -= arg.len();
        self.depth += 1;
        let out = self.expand_list(arg.to_vec());
        self.depth -= 1;
        out
    }

    /// The text of a token as written, for `#` and `##`.
    fn spelling<'t>(&'t self, t: &'t PTok) -> Cow<'t, str> {
        if let Some(at) = t.spelling {
            let text = self.sources.snippet(at);
            if !text.is_empty() {
                return Cow::Borrowed(text);
            }
        }
        spell_kind(&t.tok.kind)
    }

    /// The contents of the string literal `#arg` makes: the argument's tokens as written, one
    /// space where there was any space, with `"` and `\` escaped inside string literals.
    fn stringify(&self, arg: &[PTok]) -> String {
        let mut text = String::new();
        for (i, t) in arg.iter().enumerate() {
            if i > 0 && t.tok.space_before {
                text.push(' ');
            }
            let spelled = self.spelling(t);
            // A lone backslash is escaped too, so the literal always stays well formed.
            if matches!(t.tok.kind, TokenKind::Str(_) | TokenKind::Unexpected('\\')) {
                for c in spelled.chars() {
                    if c == '"' || c == '\\' {
                        text.push('\\');
                    }
                    text.push(c);
                }
            } else {
                text.push_str(&spelled);
            }
        }
        text
    }

    /// Joins `out[right - 1]` and `out[right]` into one token (the `##` operator at `op`).
    fn paste(&mut self, out: &mut Vec<PTok>, right: usize, span: Span, op: Span) {
        if right == 0 || right >= out.len() {
            return;
        }
        let left_text = self.spelling(&out[right - 1]).into_owned();
        let right_text = self.spelling(&out[right]).into_owned();
        let joined = format!("{left_text}{right_text}");
        let mut scratch = Vec::new();
        let mut lexed = lex(span.file, &joined, &mut scratch);
        if scratch.is_empty() && lexed.len() == 2 && !matches!(lexed[0].kind, TokenKind::Eof) {
            let kind = lexed.swap_remove(0).kind;
            let space_before = out[right - 1].tok.space_before;
            out[right - 1] = PTok {
                tok: Token {
                    kind,
                    span,
                    line_start: false,
                    space_before,
                },
                no_expand: false,
                spelling: None,
            };
            out.remove(right);
        } else {
            self.diagnostics.push(
                Diagnostic::error(
                    span,
                    format!("pasting `{left_text}` and `{right_text}` does not give a valid token"),
                )
                .with_secondary(op, "`##` used here"),
            );
        }
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn were(n: usize) -> String {
    if n == 1 {
        "1 was".to_string()
    } else {
        format!("{n} were")
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{norm, pp, pp_with};
    use super::super::{PreprocessOptions, LIMITS};
    use super::*;

    #[test]
    fn object_like_macros_take_the_span_of_their_use() {
        let text = "#define N 8\nbit<N> x; y =N;";
        let r = pp(text);
        assert!(r.diags.is_empty());
        assert_eq!(r.text(), norm("bit<8> x; y = 8;"));
        let eights: Vec<&Token> = r
            .tokens
            .iter()
            .filter(|t| spell_kind(&t.kind) == "8")
            .collect();
        assert_eq!(eights.len(), 2);
        for t in &eights {
            assert_eq!(r.snippet(t.span), "N");
            assert!(!t.line_start);
        }
        assert_eq!(r.at(eights[0].span), ("main.p4".to_string(), 2, 5));
        // Spacing follows the use: `<N` touches, `=N` touches, `x; y` does not.
        assert!(!eights[0].space_before && !eights[1].space_before);
        let r = pp("#define PAIR a   b\nPAIR");
        assert!(!r.tokens[1].line_start && r.tokens[1].space_before);
    }

    #[test]
    fn function_like_arguments_keep_their_own_spans() {
        let text = "#define MAX(a, b) ((a) > (b) ? (a) : (b))\nx = MAX(y, 1 + z);";
        let r = pp(text);
        assert!(r.diags.is_empty());
        assert_eq!(r.text(), norm("x = ((y) > (1 + z) ? (y) : (1 + z));"));
        assert_eq!(r.snippet(r.token("y").span), "y");
        assert_eq!(r.snippet(r.token("z").span), "z");
        assert_eq!(r.snippet(r.token("?").span), "MAX(y, 1 + z)");
        assert!(r.tokens.iter().all(|t| !t.line_start || t.span.lo == 42));
    }

    #[test]
    fn arguments_nest_parentheses_and_may_span_lines() {
        assert_eq!(
            pp("#define F(x, y) x | y\nF((a, b), c)").text(),
            norm("(a, b) | c")
        );
        assert_eq!(pp("#define F(x) <x>\nF(\n  1\n)").text(), norm("<1>"));
        assert_eq!(pp("#define F(x) <x>\nF (1) F\n(2)").text(), norm("<1> <2>"));
    }

    #[test]
    fn a_function_like_name_without_arguments_is_left_alone() {
        assert_eq!(pp("#define F(x) [x]\nF + F(1) F").text(), norm("F + [1] F"));
        // A space before `(` in the definition makes an object-like macro.
        assert_eq!(pp("#define F (x)\nF(1)").text(), norm("(x)(1)"));
    }

    #[test]
    fn self_referential_macros_stop() {
        assert_eq!(pp("#define foo foo + 1\nfoo").text(), norm("foo + 1"));
        assert_eq!(pp("#define a b\n#define b a\na b").text(), "a b");
        assert_eq!(pp("#define f(x) x f\nf(1)(2)").text(), norm("1 f(2)"));
        assert_eq!(
            pp("#define f(x) g(x)\n#define g(x) f(x)\nf(1)").text(),
            norm("f(1)")
        );
        // Painted names stay unexpanded after passing through another macro's argument.
        assert_eq!(
            pp("#define ID(x) x\n#define foo ID(foo)\nfoo").text(),
            "foo"
        );
    }

    #[test]
    fn the_c_standard_rescanning_example() {
        let text = "#define x 3\n#define f(a) f(x * (a))\n#undef x\n#define x 2\n#define g f\n\
            #define z z[0]\n#define h g(~\n#define m(a) a(w)\n#define w 0,1\n#define t(a) a\n\
            #define p() int\n#define q(x) x\n#define r(x,y) x ## y\n#define str(x) # x\n\
            f(y+1) + f(f(z)) % t(t(g)(0) + t)(1);\n\
            g(x+(3,4)-w) | h 5) & m\n(f)^m(m);\n\
            p() i[q()] = { q(1), r(2,3), r(4,), r(,5), r(,) };\n";
        let r = pp(text);
        assert!(r.diags.is_empty(), "{:#?}", r.diags);
        let expected = "f(2 * (y+1)) + f(2 * (f(2 * (z[0])))) % f(2 * (0)) + t(1);\n\
            f(2 * (2+(3,4)-0,1)) | f(2 * (~ 5)) & f(2 * (0,1))^m(0,1);\n\
            int i[] = { 1, 23, 4, 5, };";
        assert_eq!(r.text(), norm(expected));
    }

    #[test]
    fn the_c_standard_stringify_and_paste_example() {
        let text = "#define str(s) # s\n#define xstr(s) str(s)\n\
            #define debug(s, t) printf(\"x\" # s \"= %d, x\" # t \"= %s\", \\\n x ## s, x ## t)\n\
            #define glue(a, b) a ## b\n#define xglue(a, b) glue(a, b)\n\
            #define HIGHLOW \"hello\"\n#define LOW LOW \", world\"\n\
            debug(1, 2);\nglue(HIGH, LOW);\nxglue(HIGH, LOW)\n";
        let r = pp(text);
        assert!(r.diags.is_empty(), "{:#?}", r.diags);
        let expected = "printf(\"x\" \"1\" \"= %d, x\" \"2\" \"= %s\", x1, x2);\n\"hello\";\n\"hello\" \", world\"";
        assert_eq!(r.text(), norm(expected));
    }

    #[test]
    fn arguments_are_expanded_first_except_next_to_hash() {
        let r = pp("#define TWO 2\n#define S(x) #x\n#define XS(x) S(x)\n#define ID(x) x\nS(TWO) XS(TWO) ID(TWO)");
        assert_eq!(r.text(), norm("\"TWO\" \"2\" 2"));
    }

    #[test]
    fn stringify_spells_the_argument_as_written() {
        let r = pp("#define S(x) #x\nS(  a   +b  \"q\\\"\"  0xFF_FF) S()");
        let strings: Vec<&TokenKind> = r
            .tokens
            .iter()
            .map(|t| &t.kind)
            .filter(|k| matches!(k, TokenKind::Str(_)))
            .collect();
        assert_eq!(
            *strings[0],
            TokenKind::Str(r#"a +b \"q\\\"\" 0xFF_FF"#.into())
        );
        assert_eq!(*strings[1], TokenKind::Str("".into()));
        assert_eq!(
            r.snippet(r.tokens[0].span),
            "S(  a   +b  \"q\\\"\"  0xFF_FF)"
        );
    }

    #[test]
    fn pasting_joins_tokens_and_placemarkers_vanish() {
        let r = pp("#define CAT(a, b) a ## b\nCAT(x, 1) CAT(, y) CAT(x, ) CAT(,) CAT(1, 2) CAT(con, trol) CAT(<, <)");
        assert!(r.diags.is_empty(), "{:#?}", r.diags);
        assert_eq!(r.text(), "x1 y x 12 control <<");
        assert_eq!(r.tokens[0].kind, TokenKind::Ident("x1".into()));
        assert!(matches!(r.tokens[3].kind, TokenKind::Int(_)));
        assert!(matches!(
            r.tokens[4].kind,
            TokenKind::Keyword(crate::token::Keyword::Control)
        ));
        // The pasted token is rescanned and may be a macro.
        assert_eq!(
            pp("#define CAT(a,b) a##b\n#define xy 42\nCAT(x,y)").text(),
            "42"
        );
        // Object-like macros may paste too.
        assert_eq!(pp("#define AB a ## b\nAB").text(), "ab");
        assert_eq!(
            pp("#define C3(a, b, c) a ## b ## c\nC3(x, , z) C3(, , z)").text(),
            "xz z"
        );
    }

    #[test]
    fn a_paste_that_makes_no_token_is_an_error() {
        let r = pp("#define CAT(a, b) a ## b\nq CAT(+, -)");
        let d = r.diag("pasting `+` and `-` does not give a valid token");
        assert_eq!(r.snippet(d.primary.span), "CAT(+, -)");
        assert_eq!(r.at(d.secondary[0].span).1, 1);
        assert_eq!(r.text(), "q + -");
    }

    #[test]
    fn variadic_macros() {
        let r = pp("#define V(f, ...) f(__VA_ARGS__)\nV(g, 1, (2, 3)) V(g) V(g,)");
        assert!(r.diags.is_empty(), "{:#?}", r.diags);
        assert_eq!(r.text(), norm("g(1, (2, 3)) g() g()"));
        assert_eq!(
            pp("#define N(args...) [args]\nN(1,2) N()").text(),
            norm("[1,2] []")
        );
        assert_eq!(
            pp("#define E(f, ...) f(0, ## __VA_ARGS__)\nE(g) E(g, 1, 2)").text(),
            norm("g(0) g(0, 1, 2)")
        );
        assert_eq!(
            pp("#define S(...) #__VA_ARGS__\nS(a, b)").text(),
            norm("\"a, b\"")
        );
    }

    #[test]
    fn wrong_argument_counts_are_reported_at_the_use() {
        let r = pp("#define F(a, b) a\n#define G() 1\n#define H(x) [x]\n#define V(a, b, ...) a\nx F(1) G(2) H() H(,) V(1)");
        assert_eq!(
            r.errors(),
            [
                "macro `F` takes 2 arguments but 1 was given",
                "macro `G` takes 0 arguments but 1 was given",
                "macro `H` takes 1 argument but 2 were given",
                "macro `V` takes at least 2 arguments but 1 was given",
            ]
        );
        let d = r.diag("macro `F`");
        assert_eq!(r.snippet(d.primary.span), "F(1)");
        assert_eq!(r.at(d.primary.span), ("main.p4".to_string(), 5, 3));
        assert_eq!(r.at(d.secondary[0].span).1, 1);
        // `H()` has one empty argument.
        assert_eq!(r.text(), norm("x [ ]"));
    }

    #[test]
    fn unterminated_argument_lists() {
        let r = pp("#define F(x) x\na F(1, (2)\n");
        let d = r.diag("unterminated argument list invoking macro `F`");
        assert_eq!(r.at(d.primary.span), ("main.p4".to_string(), 2, 3));
        assert_eq!(r.text(), "a");
        // A directive ends the argument list; it still runs.
        let r = pp("#define F(x) x\nF(1\n#define Y 5\n) Y");
        let d = r.diag("unterminated argument list");
        assert!(d.notes[0].contains("directive"));
        assert_eq!(r.text(), norm(") 5"));
    }

    #[test]
    fn undef_and_redefinition() {
        assert_eq!(pp("#define X 1\n#undef X\nX").text(), "X");
        assert!(pp("#undef NEVER_DEFINED\n").diags.is_empty());
        let r = pp("#define X 1\n#define X  1 /* same */\n#define X 2\nX");
        assert_eq!(r.warnings(), ["macro `X` redefined"]);
        let d = r.diag("redefined");
        assert_eq!(r.at(d.primary.span).1, 3);
        // The previous definition is the latest one, the identical repeat on line 2.
        assert_eq!(r.at(d.secondary[0].span).1, 2);
        assert_eq!(r.text(), "2");
        assert_eq!(
            pp("#define F(a) a\n#define F(b) b\n").warnings(),
            ["macro `F` redefined"]
        );
    }

    #[test]
    fn malformed_definitions() {
        let r = pp("#define F(a, a) a\n#define G(a\n#define H(x) #y\n#define I ## x\n#define J(a b) a\n#define K(..., a) a");
        assert_eq!(
            r.errors(),
            [
                "duplicate macro parameter `a`",
                "missing `)` in macro parameter list",
                "`#` is not followed by a macro parameter",
                "`##` cannot appear at either end of a macro body",
                "expected `,` or `)` in macro parameter list, found `b`",
                "expected `)` after `...`, found `,`",
            ]
        );
        // In an object-like macro `#` is an ordinary token.
        assert_eq!(pp("#define HASH # x\nHASH").text(), "# x");
    }

    #[test]
    fn keywords_can_be_macro_names() {
        assert_eq!(
            pp("#define bit int\n#define error oops\nbit error").text(),
            "int oops"
        );
    }

    #[test]
    fn expansion_runaway_is_stopped() {
        let mut text = String::from("#define a0 x\n");
        for i in 1..=40 {
            text.push_str(&format!("#define a{i} a{0} a{0}\n", i - 1));
        }
        text.push_str("a40 after");
        let limits = super::super::Limits {
            expansion_tokens: 10_000,
            ..LIMITS
        };
        let r = pp_with(&text, &PreprocessOptions::default(), limits);
        assert_eq!(
            r.errors(),
            ["macro expansion is too large (more than 10000 tokens)"]
        );
        assert!(r.tokens.len() < 20_000);
        assert!(r.text().ends_with("after"));
        // The same through arguments.
        let text = format!(
            "#define f(x) x x x x\n{}y{}",
            "f(".repeat(30),
            ")".repeat(30)
        );
        let r = pp_with(&text, &PreprocessOptions::default(), limits);
        assert_eq!(
            r.errors(),
            ["macro expansion is too large (more than 10000 tokens)"]
        );
    }

    #[test]
    fn deeply_nested_arguments_are_bounded() {
        let text = format!("#define f(x) x\n{}1{}", "f(".repeat(5000), ")".repeat(5000));
        let r = pp(&text);
        assert_eq!(
            r.errors(),
            ["macro arguments nested too deeply (more than 100 levels)"]
        );
        let text = format!("#define f(x) x\n{}1{}", "f(".repeat(90), ")".repeat(90));
        let r = pp(&text);
        assert!(r.diags.is_empty());
        assert_eq!(r.text(), "1");
    }

    #[test]
    fn definitions_compare_by_tokens_and_spacing() {
        let define = |text: &str| {
            let tokens = lex(p4tc_ir::FileId(0), text, &mut Vec::new());
            parse_define(
                &tokens[..tokens.len() - 1],
                Span::default(),
                &mut Vec::new(),
            )
            .unwrap()
        };
        assert!(same_definition(&define("F(a) a+1"), &define("F(a)   a+1")));
        assert!(!same_definition(&define("F(a) a+1"), &define("F(a) a + 1")));
        assert!(!same_definition(&define("F(a) a"), &define("F(b) b")));
        assert!(!same_definition(&define("F(a) a"), &define("F a")));
        let m = define("F(a, ...) #a x ## __VA_ARGS__");
        assert!(m.variadic);
        assert_eq!(m.params.as_deref().unwrap(), ["a", "__VA_ARGS__"]);
        assert!(matches!(m.body[0], Item::Stringify { index: 0, .. }));
        assert!(matches!(
            m.body[3],
            Item::Param {
                index: 1,
                raw: true,
                ..
            }
        ));
    }

    #[test]
    fn spelling_rebuilds_literals() {
        let spell = |text: &str| {
            spell_kind(&lex(p4tc_ir::FileId(0), text, &mut Vec::new())[0].kind).into_owned()
        };
        assert_eq!(spell("8w0b101"), "8w0b101");
        assert_eq!(spell("16s-3"), "16s-3");
        assert_eq!(spell("0xFF"), "0xff");
        assert_eq!(spell("\"a\\\"b\""), "\"a\\\"b\"");
        assert_eq!(spell("header_union"), "header_union");
    }
}
