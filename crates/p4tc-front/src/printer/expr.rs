//! Expressions, types, literals and annotation tokens, each on one line.

use std::fmt::Write as _;

use super::{print_annotation, print_expr, print_type};
use super::{LEVEL_CONDITIONAL, LEVEL_NO_CONDITIONAL, LEVEL_POSTFIX, LEVEL_PREFIX, LEVEL_PRIMARY};
use crate::ast::{
    Annotation, AnnotationToken, Argument, BinaryOp, Expr, ExprKind, Ident, IntLit, KeyValue,
    Keyset, Path, Type, UnaryOp,
};
use crate::token::{Base, Punct, TokenKind};

/// The source form of one token, as the lexer would read it back.
pub(super) fn token_source(kind: &TokenKind) -> String {
    match kind {
        TokenKind::Ident(name) => name.to_string(),
        TokenKind::Keyword(keyword) => keyword.as_str().to_string(),
        TokenKind::DontCare => "_".to_string(),
        TokenKind::Int(lit) => int_literal(lit),
        TokenKind::Str(contents) => format!("\"{contents}\""),
        TokenKind::Punct(punct) => punct.as_str().to_string(),
        TokenKind::Unexpected(c) => c.to_string(),
        TokenKind::Eof => String::new(),
    }
}

/// Tokens that lex as one word: two of them in a row must be separated.
pub(super) fn is_word(kind: &TokenKind) -> bool {
    match kind {
        TokenKind::Ident(_) | TokenKind::Keyword(_) | TokenKind::DontCare | TokenKind::Int(_) => {
            true
        }
        TokenKind::Str(_) | TokenKind::Punct(_) | TokenKind::Unexpected(_) | TokenKind::Eof => {
            false
        }
    }
}

/// Whether a space must (or, for readability, should) separate `prev` from `next` so they
/// lex back as the same two tokens. Spaces are left out only where gluing is known safe:
/// after an opening bracket, before a closing bracket, comma or semicolon, around a `.`
/// next to a word, between a word and `(`, and after `@`.
pub(super) fn space_between(prev: &TokenKind, next: &TokenKind) -> bool {
    let punct = |kind: &TokenKind| match kind {
        TokenKind::Punct(p) => Some(*p),
        _ => None,
    };
    if matches!(punct(prev), Some(Punct::LParen | Punct::LBracket)) {
        return false;
    }
    if matches!(
        punct(next),
        Some(Punct::RParen | Punct::RBracket | Punct::Comma | Punct::Semi)
    ) {
        return false;
    }
    if (punct(prev) == Some(Punct::Dot) && is_word(next))
        || (is_word(prev) && matches!(punct(next), Some(Punct::Dot | Punct::LParen)))
        || (punct(prev) == Some(Punct::At) && is_word(next))
    {
        return false;
    }
    true
}

/// The tokens of an unstructured annotation body, spaced so they lex back the same.
pub(super) fn annotation_tokens(tokens: &[AnnotationToken]) -> String {
    let mut out = String::new();
    let mut prev: Option<&TokenKind> = None;
    for token in tokens {
        let source = token_source(&token.kind);
        if source.is_empty() {
            continue;
        }
        if prev.is_some_and(|prev| space_between(prev, &token.kind)) {
            out.push(' ');
        }
        out.push_str(&source);
        prev = Some(&token.kind);
    }
    out
}

/// An integer literal as written: width prefix, `-` of the `16s-3` form, base prefix, digits.
pub(super) fn int_literal(lit: &IntLit) -> String {
    let mut out = String::new();
    if let Some((bits, signed)) = lit.width {
        let _ = write!(out, "{bits}{}", if signed { 's' } else { 'w' });
    }
    if lit.negative {
        out.push('-');
    }
    out.push_str(match lit.base {
        Base::Binary => "0b",
        Base::Octal => "0o",
        Base::Decimal => "",
        Base::Hex => "0x",
    });
    out.push_str(&lit.value.to_str_radix(lit.base.radix()));
    out
}

/// `x` or `.x`.
pub(super) fn print_path(path: &Path) -> String {
    if path.top_level {
        format!(".{}", path.name.name)
    } else {
        path.name.name.clone()
    }
}

/// The width of `bit<W>`, `int<W>`, `varbit<W>`: a plain integer, or a parenthesised
/// expression (anything else, including a literal with a width prefix).
pub(super) fn type_width(width: &Expr) -> String {
    match &width.kind {
        ExprKind::Int(lit) if lit.width.is_none() && !lit.negative => int_literal(lit),
        _ => format!("({})", print_expr(width)),
    }
}

pub(super) fn type_list(types: &[Type]) -> String {
    let parts: Vec<String> = types.iter().map(print_type).collect();
    parts.join(", ")
}

/// `<T, U>`, or nothing.
pub(super) fn type_params(params: &[Ident]) -> String {
    if params.is_empty() {
        String::new()
    } else {
        let names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
        format!("<{}>", names.join(", "))
    }
}

pub(super) fn ident_list(names: &[Ident]) -> String {
    let names: Vec<&str> = names.iter().map(|n| n.name.as_str()).collect();
    names.join(", ")
}

/// Annotations on one line, each followed by a space (nothing when there are none).
pub(super) fn annotations_inline(annotations: &[Annotation]) -> String {
    let mut out = String::new();
    for annotation in annotations {
        out.push_str(&print_annotation(annotation));
        out.push(' ');
    }
    out
}

/// Annotations after something, each preceded by a space.
pub(super) fn annotations_after(annotations: &[Annotation]) -> String {
    let mut out = String::new();
    for annotation in annotations {
        out.push(' ');
        out.push_str(&print_annotation(annotation));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Expressions

/// How tightly an expression binds; an operand printed where a higher level is needed gets
/// parentheses.
pub(super) fn level(expr: &Expr) -> u8 {
    match &expr.kind {
        ExprKind::Conditional { .. } => LEVEL_CONDITIONAL,
        ExprKind::Binary { op, .. } => op.precedence(),
        ExprKind::Unary { .. } | ExprKind::Cast { .. } => LEVEL_PREFIX,
        ExprKind::Member { .. }
        | ExprKind::Index { .. }
        | ExprKind::Slice { .. }
        | ExprKind::IndexedSlice { .. }
        | ExprKind::Call { .. }
        | ExprKind::Construct { .. } => LEVEL_POSTFIX,
        ExprKind::Int(_)
        | ExprKind::Bool(_)
        | ExprKind::String(_)
        | ExprKind::Name(_)
        | ExprKind::This
        | ExprKind::DontCare
        | ExprKind::Dots
        | ExprKind::ErrorMember(_)
        | ExprKind::List(_)
        | ExprKind::StructInit { .. }
        | ExprKind::InvalidHeader => LEVEL_PRIMARY,
    }
}

/// Prints `expr` where an expression binding at least as tightly as `min` is needed.
pub(super) fn expr_at(expr: &Expr, min: u8) -> String {
    let text = expr_text(expr);
    if level(expr) < min {
        format!("({text})")
    } else {
        text
    }
}

pub(super) fn is_relational(op: BinaryOp) -> bool {
    op.precedence() == BinaryOp::Lt.precedence()
}

/// An expression without surrounding parentheses (its operands get theirs).
pub(super) fn expr_text(expr: &Expr) -> String {
    match &expr.kind {
        ExprKind::Int(lit) => int_literal(lit),
        ExprKind::Bool(value) => value.to_string(),
        ExprKind::String(contents) => format!("\"{contents}\""),
        ExprKind::Name(path) => print_path(path),
        ExprKind::This => "this".to_string(),
        ExprKind::DontCare => "_".to_string(),
        ExprKind::Dots => "...".to_string(),
        ExprKind::ErrorMember(member) => format!("error.{}", member.name),
        ExprKind::Member { base, member } => {
            format!("{}.{}", expr_at(base, LEVEL_POSTFIX), member.name)
        }
        ExprKind::Index { base, index } => {
            format!("{}[{}]", expr_at(base, LEVEL_POSTFIX), print_expr(index))
        }
        ExprKind::Slice { base, hi, lo } => format!(
            "{}[{}:{}]",
            expr_at(base, LEVEL_POSTFIX),
            expr_at(hi, LEVEL_NO_CONDITIONAL),
            expr_at(lo, LEVEL_NO_CONDITIONAL)
        ),
        // A binary `lo` would put its last operand right before `+:`; parentheses keep the
        // `+` of `+:` from looking like one more addition.
        ExprKind::IndexedSlice { base, lo, width } => format!(
            "{}[{} +: {}]",
            expr_at(base, LEVEL_POSTFIX),
            expr_at(lo, LEVEL_PREFIX),
            expr_at(width, LEVEL_NO_CONDITIONAL)
        ),
        ExprKind::List(elements) => format!("{{{}}}", expr_list(elements)),
        ExprKind::StructInit { fields, dots } => {
            let mut parts: Vec<String> = fields
                .iter()
                .map(|kv| format!("{} = {}", kv.key.name, print_expr(&kv.value)))
                .collect();
            if *dots {
                parts.push("...".to_string());
            }
            format!("{{{}}}", parts.join(", "))
        }
        ExprKind::InvalidHeader => "{#}".to_string(),
        ExprKind::Unary { op, operand } => {
            let inner = expr_at(operand, LEVEL_PREFIX);
            // `- -x` must not be glued into `--x`, nor `+ +x` into the `++` token; a
            // negative literal gets parentheses too: `-(16s-3)`.
            let glued = match op {
                UnaryOp::Neg | UnaryOp::Plus => {
                    inner.starts_with(['-', '+']) || negative_literal(operand)
                }
                UnaryOp::Not | UnaryOp::BitNot => false,
            };
            if glued {
                format!("{}({inner})", op.as_str())
            } else {
                format!("{}{inner}", op.as_str())
            }
        }
        ExprKind::Binary { op, lhs, rhs } => {
            let mut left = expr_at(lhs, op.precedence());
            // `a < b > c` is legal but reads like type arguments: parenthesise.
            if is_relational(*op)
                && matches!(&lhs.kind, ExprKind::Binary { op: inner, .. } if is_relational(*inner))
            {
                left = format!("({left})");
            }
            let right = expr_at(rhs, op.precedence() + 1);
            format!("{left} {} {right}", op.as_str())
        }
        ExprKind::Conditional {
            cond,
            then,
            otherwise,
        } => format!(
            "{} ? {} : {}",
            expr_at(cond, LEVEL_NO_CONDITIONAL),
            expr_at(then, LEVEL_NO_CONDITIONAL),
            expr_at(otherwise, LEVEL_CONDITIONAL)
        ),
        ExprKind::Cast { ty, expr } => {
            format!("({}) {}", print_type(ty), expr_at(expr, LEVEL_PREFIX))
        }
        ExprKind::Call {
            callee,
            type_args,
            args,
        } => {
            let targs = if type_args.is_empty() {
                String::new()
            } else {
                format!("<{}>", type_list(type_args))
            };
            format!(
                "{}{targs}({})",
                expr_at(callee, LEVEL_POSTFIX),
                arguments(args)
            )
        }
        ExprKind::Construct { ty, args } => format!("{}({})", print_type(ty), arguments(args)),
    }
}

pub(super) fn negative_literal(expr: &Expr) -> bool {
    matches!(&expr.kind, ExprKind::Int(lit) if lit.negative)
}

pub(super) fn expr_list(exprs: &[Expr]) -> String {
    let last = exprs.len().saturating_sub(1);
    let parts: Vec<String> = exprs
        .iter()
        .enumerate()
        .map(|(i, e)| list_item(e, i == last))
        .collect();
    parts.join(", ")
}

/// True when `expr` prints with a `<` outside any brackets of its own.
pub(super) fn has_open_lt(expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::Binary { op, lhs, rhs } => {
            *op == BinaryOp::Lt || has_open_lt(lhs) || has_open_lt(rhs)
        }
        ExprKind::Conditional {
            cond,
            then,
            otherwise,
        } => has_open_lt(cond) || has_open_lt(then) || has_open_lt(otherwise),
        ExprKind::Unary { operand, .. } => has_open_lt(operand),
        ExprKind::Cast { expr, .. } => has_open_lt(expr),
        ExprKind::Int(_)
        | ExprKind::Bool(_)
        | ExprKind::String(_)
        | ExprKind::Name(_)
        | ExprKind::This
        | ExprKind::DontCare
        | ExprKind::Dots
        | ExprKind::ErrorMember(_)
        | ExprKind::Member { .. }
        | ExprKind::Index { .. }
        | ExprKind::Slice { .. }
        | ExprKind::IndexedSlice { .. }
        | ExprKind::List(_)
        | ExprKind::StructInit { .. }
        | ExprKind::InvalidHeader
        | ExprKind::Call { .. }
        | ExprKind::Construct { .. } => false,
    }
}

/// One element of a comma-separated list. In `f(a < b, c > (d))` the part `a<b, c>(d)`
/// reads as a call with type arguments, so an element with a `<` in the open gets
/// parentheses unless it is the last.
pub(super) fn list_item(expr: &Expr, is_last: bool) -> String {
    if !is_last && has_open_lt(expr) {
        format!("({})", expr_text(expr))
    } else {
        print_expr(expr)
    }
}

pub(super) fn key_values(pairs: &[KeyValue]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .map(|kv| format!("{} = {}", kv.key.name, print_expr(&kv.value)))
        .collect();
    parts.join(", ")
}

pub(super) fn arguments(args: &[Argument]) -> String {
    let last = args.len().saturating_sub(1);
    let parts: Vec<String> = args
        .iter()
        .enumerate()
        .map(|(i, arg)| {
            let value = list_item(&arg.value, i == last);
            match &arg.name {
                Some(name) => format!("{} = {value}", name.name),
                None => value,
            }
        })
        .collect();
    parts.join(", ")
}

/// An expression at the start of a statement or in a `nonBraceExpression` place: it must
/// not start with `{`, which would open a block (or, for a list, not be allowed).
pub(super) fn no_leading_brace(text: String) -> String {
    if text.starts_with('{') {
        format!("({text})")
    } else {
        text
    }
}

/// A keyset; `guard_lt` when more elements of a tuple follow (see [`list_item`]).
pub(super) fn keyset_text(keyset: &Keyset, guard_lt: bool) -> String {
    let part = |e: &Expr| {
        if guard_lt && has_open_lt(e) {
            format!("({})", expr_text(e))
        } else {
            expr_at(e, LEVEL_NO_CONDITIONAL)
        }
    };
    match keyset {
        Keyset::Expr(expr) => part(expr),
        Keyset::Mask(value, mask) => format!("{} &&& {}", part(value), part(mask)),
        Keyset::Range(lo, hi) => format!("{} .. {}", part(lo), part(hi)),
        Keyset::Default(_) => "default".to_string(),
        Keyset::DontCare(_) => "_".to_string(),
        Keyset::Tuple(keysets, _) => {
            let last = keysets.len().saturating_sub(1);
            let parts: Vec<String> = keysets
                .iter()
                .enumerate()
                .map(|(i, k)| keyset_text(k, i != last))
                .collect();
            format!("({})", parts.join(", "))
        }
    }
}
