//! The pretty-printer: a syntax tree back to P4-16 source.
//!
//! [`print_program`] writes a whole program; [`print_declaration`], [`print_stmt`],
//! [`print_expr`], [`print_type`], [`print_keyset`] and [`print_annotation`] write one piece
//! (diagnostics quote expressions and types with them).
//!
//! The output is conventional P4 (4-space indentation, `{` on the line that opens it, one
//! declaration, property, entry or case per line) and parses back to a tree equal to the one
//! printed. The tree keeps no parentheses, so the printer puts them back exactly where
//! precedence, associativity or the lexer need them (`(a + b) * c`, `a - (b - c)`, `-(-x)`,
//! `(T) (a + b)`), plus a few where a reader or a parser could hesitate (a conditional
//! inside a slice bound or a keyset, a comparison on the left of a comparison, a comparison
//! in a list that a later `>` could turn into type arguments: `f((a < b), c > (d))`).
//!
//! A few trees cannot be written at all; the parser never builds them. Most print as the
//! closest valid P4: a compound assignment with an operator that has no `op=` form is
//! expanded to `x = x op e;`, and an `if` without `else` as the `then` branch of an `if` with
//! `else` gets braces so the `else` stays with the outer `if`. The others print as written
//! and parse back differently: an empty struct initializer `{}` (a list), a one-element tuple
//! keyset holding a plain value `(5)` (the value), a keyset expression `_` (the don't-care
//! keyset), an empty key-value annotation body `@a[]` (an empty expression list).
//!
//! Layout: `expr.rs` (expressions, types, literals, annotation tokens: all on one line),
//! `stmt.rs` and `decl.rs` (statements and declarations, written line by line).

mod decl;
mod expr;
mod stmt;
#[cfg(test)]
mod tests;

use self::expr::{
    annotation_tokens, expr_at, expr_list, key_values, keyset_text, print_path, type_list,
    type_width,
};
use crate::ast::{
    Annotation, AnnotationBody, Declaration, Expr, Keyset, Program, Stmt, Type, TypeKind,
};

/// One level of indentation.
const INDENT: &str = "    ";
/// Lists that fit in this many columns stay on one line (`error { A, B }`).
const MAX_LINE: usize = 100;

/// Binding strength of a conditional `c ? a : b`, the loosest expression.
const LEVEL_CONDITIONAL: u8 = 0;
/// Binding strength of prefix operators and casts (binary operators are 1 to 10, see
/// [`crate::ast::BinaryOp::precedence`]).
const LEVEL_PREFIX: u8 = 11;
/// Binding strength of postfix forms: member, index, slice, call.
const LEVEL_POSTFIX: u8 = 12;
/// Binding strength of atoms: literals, names, `{...}` lists.
const LEVEL_PRIMARY: u8 = 13;
/// The level that puts parentheses around conditionals only: for expressions followed by a
/// `:` that is not the conditional's (slice bounds, keysets, switch labels, key elements).
const LEVEL_NO_CONDITIONAL: u8 = 1;

/// Prints a whole program: its declarations separated by blank lines.
pub fn print_program(program: &Program) -> String {
    let mut printer = Printer::default();
    for (i, decl) in program.declarations.iter().enumerate() {
        if i > 0 {
            printer.blank();
        }
        printer.declaration(decl);
    }
    printer.out
}

/// Prints one top-level declaration, ending with a newline.
pub fn print_declaration(decl: &Declaration) -> String {
    let mut printer = Printer::default();
    printer.declaration(decl);
    printer.out
}

/// Prints one statement (several lines for compound statements), ending with a newline.
pub fn print_stmt(stmt: &Stmt) -> String {
    let mut printer = Printer::default();
    printer.stmt(stmt);
    printer.out
}

/// Prints an expression on one line, with the parentheses its structure needs.
pub fn print_expr(expr: &Expr) -> String {
    expr_at(expr, LEVEL_CONDITIONAL)
}

/// Prints a type as written in a declaration: `bit<8>`, `bit<(W + 1)>`, `.T`, `H[4]`,
/// `tuple<bit<8>, bool>`.
pub fn print_type(ty: &Type) -> String {
    match &ty.kind {
        TypeKind::Bool => "bool".to_string(),
        TypeKind::Error => "error".to_string(),
        TypeKind::MatchKind => "match_kind".to_string(),
        TypeKind::String => "string".to_string(),
        TypeKind::Integer => "int".to_string(),
        TypeKind::Bit => "bit".to_string(),
        TypeKind::Bits(width) => format!("bit<{}>", type_width(width)),
        TypeKind::SignedBits(width) => format!("int<{}>", type_width(width)),
        TypeKind::Varbit(width) => format!("varbit<{}>", type_width(width)),
        TypeKind::Void => "void".to_string(),
        TypeKind::DontCare => "_".to_string(),
        TypeKind::Named(path) => print_path(path),
        TypeKind::Specialized { base, args } => {
            format!("{}<{}>", print_path(base), type_list(args))
        }
        TypeKind::Array { element, size } => {
            format!("{}[{}]", print_type(element), print_expr(size))
        }
        TypeKind::List(element) => format!("list<{}>", print_type(element)),
        TypeKind::Tuple(elements) => format!("tuple<{}>", type_list(elements)),
    }
}

/// Prints a keyset of a select case or table entry: `5`, `0x800 &&& 0xf00`, `1 .. 9`,
/// `default`, `_`, `(k1, k2)`.
pub fn print_keyset(keyset: &Keyset) -> String {
    keyset_text(keyset, false)
}

/// Prints an annotation: `@name`, `@name(tokens)`, `@name[e1, e2]` or `@name[k = v]`.
pub fn print_annotation(annotation: &Annotation) -> String {
    let name = &annotation.name.name;
    match &annotation.body {
        AnnotationBody::None => format!("@{name}"),
        AnnotationBody::Unstructured(tokens) => format!("@{name}({})", annotation_tokens(tokens)),
        AnnotationBody::Expressions(exprs) => format!("@{name}[{}]", expr_list(exprs)),
        AnnotationBody::KeyValues(pairs) => format!("@{name}[{}]", key_values(pairs)),
    }
}

// ---------------------------------------------------------------------------------------------
// The line printer

/// Writes lines at the current indentation.
#[derive(Default)]
struct Printer {
    out: String,
    indent: usize,
}

impl Printer {
    /// Writes one indented line.
    fn line(&mut self, text: &str) {
        for _ in 0..self.indent {
            self.out.push_str(INDENT);
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    /// Writes `text` as a new line, or appends it (after a space) to the last line when
    /// `continues` is set (`} else {`).
    fn open(&mut self, text: &str, continues: bool) {
        if continues && self.out.ends_with('\n') {
            self.out.pop();
            self.out.push(' ');
            self.out.push_str(text);
            self.out.push('\n');
        } else {
            self.line(text);
        }
    }

    /// Appends `text` to the last line written.
    fn append(&mut self, text: &str) {
        if self.out.ends_with('\n') {
            self.out.pop();
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn blank(&mut self) {
        self.out.push('\n');
    }

    /// Each annotation on a line of its own.
    fn annotation_lines(&mut self, annotations: &[Annotation]) {
        for annotation in annotations {
            self.line(&print_annotation(annotation));
        }
    }

    /// `open`, the lines indented, `close`; `open` and `close` on one line when there are no
    /// lines.
    fn braced_lines(&mut self, open: &str, lines: &[String], close: &str) {
        if lines.is_empty() {
            self.line(&format!("{open}{close}"));
            return;
        }
        self.line(open);
        self.indent += 1;
        for text in lines {
            self.line(text);
        }
        self.indent -= 1;
        self.line(close);
    }
}

/// How a token is written in source (for annotation arguments the IR keeps as text).
pub(crate) fn token_text(kind: &crate::token::TokenKind) -> String {
    expr::token_source(kind)
}
