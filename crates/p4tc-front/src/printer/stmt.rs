//! Statements and blocks.

use std::fmt::Write as _;

use super::expr::{annotations_inline, arguments, expr_at, no_leading_brace};
use super::{print_expr, print_stmt, print_type, Printer, LEVEL_NO_CONDITIONAL, LEVEL_POSTFIX};
use crate::ast::{
    BinaryOp, Block, ConstDecl, Expr, ExprKind, ForLoop, Stmt, StmtKind, SwitchLabel, VarDecl,
};

pub(super) fn const_text(decl: &ConstDecl) -> String {
    format!(
        "const {} {} = {}",
        print_type(&decl.ty),
        decl.name.name,
        print_expr(&decl.value)
    )
}

pub(super) fn var_text(decl: &VarDecl) -> String {
    let mut out = format!("{} {}", print_type(&decl.ty), decl.name.name);
    if let Some(init) = &decl.init {
        let _ = write!(out, " = {}", print_expr(init));
    }
    out
}

/// The compound assignment operator for `op`, if P4 has one.
pub(super) fn compound_assign(op: BinaryOp) -> Option<&'static str> {
    match op {
        BinaryOp::Mul => Some("*="),
        BinaryOp::Div => Some("/="),
        BinaryOp::Mod => Some("%="),
        BinaryOp::Add => Some("+="),
        BinaryOp::Sub => Some("-="),
        BinaryOp::SatAdd => Some("|+|="),
        BinaryOp::SatSub => Some("|-|="),
        BinaryOp::Shl => Some("<<="),
        BinaryOp::Shr => Some(">>="),
        BinaryOp::BitAnd => Some("&="),
        BinaryOp::BitOr => Some("|="),
        BinaryOp::BitXor => Some("^="),
        BinaryOp::Concat
        | BinaryOp::Lt
        | BinaryOp::Gt
        | BinaryOp::Le
        | BinaryOp::Ge
        | BinaryOp::Eq
        | BinaryOp::Ne
        | BinaryOp::And
        | BinaryOp::Or => None,
    }
}

/// The target of an assignment or a call statement.
pub(super) fn lvalue(expr: &Expr) -> String {
    no_leading_brace(expr_at(expr, LEVEL_POSTFIX))
}

/// `lhs = rhs` or `lhs op= rhs`, without `;`.
pub(super) fn assign_text(lhs: &Expr, op: Option<BinaryOp>, rhs: &Expr) -> String {
    let target = lvalue(lhs);
    match op {
        None => format!("{target} = {}", print_expr(rhs)),
        Some(op) => match compound_assign(op) {
            Some(assign) => format!("{target} {assign} {}", print_expr(rhs)),
            // No `op=` form: write the assignment out.
            None => {
                let value = Expr {
                    kind: ExprKind::Binary {
                        op,
                        lhs: Box::new(lhs.clone()),
                        rhs: Box::new(rhs.clone()),
                    },
                    span: rhs.span,
                };
                format!("{target} = {}", print_expr(&value))
            }
        },
    }
}

/// A statement of a `for` header (init or update), without `;`.
pub(super) fn for_clause(stmt: &Stmt) -> String {
    match &stmt.kind {
        StmtKind::Assign { lhs, op, rhs } => assign_text(lhs, *op, rhs),
        StmtKind::Call(expr) => lvalue(expr),
        StmtKind::Var(decl) => format!(
            "{}{}",
            annotations_inline(&decl.annotations),
            var_text(decl)
        ),
        StmtKind::Const(decl) => format!(
            "{}{}",
            annotations_inline(&decl.annotations),
            const_text(decl)
        ),
        StmtKind::DirectApply { ty, args } => {
            format!("{}.apply({})", print_type(ty), arguments(args))
        }
        // Not allowed in a `for` header (the parser never puts them there): the statement
        // on one line, without its final `;`.
        StmtKind::If { .. }
        | StmtKind::Block(_)
        | StmtKind::Empty
        | StmtKind::Return(_)
        | StmtKind::Exit
        | StmtKind::Break
        | StmtKind::Continue
        | StmtKind::Switch { .. }
        | StmtKind::For(_) => {
            let text = print_stmt(stmt);
            let words: Vec<&str> = text.split_whitespace().collect();
            words.join(" ").trim_end_matches(';').to_string()
        }
    }
}

/// True when `stmt` ends with an `if` that has no `else`: an `else` written after it would
/// attach to that inner `if`.
pub(super) fn ends_with_open_if(stmt: &Stmt) -> bool {
    match &stmt.kind {
        StmtKind::If {
            otherwise: None, ..
        } => true,
        StmtKind::If {
            otherwise: Some(otherwise),
            ..
        } => ends_with_open_if(otherwise),
        StmtKind::For(for_loop) => match &**for_loop {
            ForLoop::Classic { body, .. } | ForLoop::In { body, .. } => ends_with_open_if(body),
        },
        StmtKind::Assign { .. }
        | StmtKind::Call(_)
        | StmtKind::DirectApply { .. }
        | StmtKind::Block(_)
        | StmtKind::Empty
        | StmtKind::Return(_)
        | StmtKind::Exit
        | StmtKind::Break
        | StmtKind::Continue
        | StmtKind::Switch { .. }
        | StmtKind::Var(_)
        | StmtKind::Const(_) => false,
    }
}

impl Printer {
    /// `header {`, the block's statements, `}`. `header` may be empty (a plain block).
    pub(super) fn block(&mut self, header: &str, continues: bool, block: &Block) {
        let mut open = String::from(header);
        if !open.is_empty() {
            open.push(' ');
        }
        open.push_str(&annotations_inline(&block.annotations));
        if block.stmts.is_empty() {
            open.push_str("{}");
            self.open(&open, continues);
            return;
        }
        open.push('{');
        self.open(&open, continues);
        self.indent += 1;
        for stmt in &block.stmts {
            self.stmt(stmt);
        }
        self.indent -= 1;
        self.line("}");
    }

    /// The body of an `if`, `else` or `for`: a block on the header's line, anything else
    /// indented on the next line. Returns whether the body was a block (ends with `}`).
    pub(super) fn body(&mut self, header: &str, continues: bool, body: &Stmt) -> bool {
        match &body.kind {
            StmtKind::Block(block) => {
                self.block(header, continues, block);
                true
            }
            StmtKind::Assign { .. }
            | StmtKind::Call(_)
            | StmtKind::DirectApply { .. }
            | StmtKind::If { .. }
            | StmtKind::Empty
            | StmtKind::Return(_)
            | StmtKind::Exit
            | StmtKind::Break
            | StmtKind::Continue
            | StmtKind::Switch { .. }
            | StmtKind::For(_)
            | StmtKind::Var(_)
            | StmtKind::Const(_) => {
                self.open(header, continues);
                self.indent += 1;
                self.stmt(body);
                self.indent -= 1;
                false
            }
        }
    }

    /// `if (cond) then else otherwise`; `prefix` is `else ` for an `else if`.
    pub(super) fn if_stmt(
        &mut self,
        prefix: &str,
        continues: bool,
        cond: &Expr,
        then: &Stmt,
        otherwise: Option<&Stmt>,
    ) {
        let header = format!("{prefix}if ({})", print_expr(cond));
        let braced;
        let then = if otherwise.is_some() && ends_with_open_if(then) {
            // `if (a) { if (b) x; } else y;`: without the braces the `else` would be b's.
            braced = Stmt {
                kind: StmtKind::Block(Block {
                    annotations: Vec::new(),
                    stmts: vec![then.clone()],
                    span: then.span,
                }),
                span: then.span,
            };
            &braced
        } else {
            then
        };
        let then_was_block = self.body(&header, continues, then);
        let Some(otherwise) = otherwise else { return };
        match &otherwise.kind {
            StmtKind::If {
                cond,
                then,
                otherwise,
            } => {
                self.if_stmt("else ", then_was_block, cond, then, otherwise.as_deref());
            }
            StmtKind::Assign { .. }
            | StmtKind::Call(_)
            | StmtKind::DirectApply { .. }
            | StmtKind::Block(_)
            | StmtKind::Empty
            | StmtKind::Return(_)
            | StmtKind::Exit
            | StmtKind::Break
            | StmtKind::Continue
            | StmtKind::Switch { .. }
            | StmtKind::For(_)
            | StmtKind::Var(_)
            | StmtKind::Const(_) => {
                self.body("else", then_was_block, otherwise);
            }
        }
    }

    pub(super) fn stmt(&mut self, stmt: &Stmt) {
        match &stmt.kind {
            StmtKind::Assign { lhs, op, rhs } => {
                self.line(&format!("{};", assign_text(lhs, *op, rhs)))
            }
            StmtKind::Call(expr) => self.line(&format!("{};", lvalue(expr))),
            StmtKind::DirectApply { ty, args } => {
                self.line(&format!("{}.apply({});", print_type(ty), arguments(args)));
            }
            StmtKind::If {
                cond,
                then,
                otherwise,
            } => {
                self.if_stmt("", false, cond, then, otherwise.as_deref());
            }
            StmtKind::Block(block) => self.block("", false, block),
            StmtKind::Empty => self.line(";"),
            StmtKind::Return(None) => self.line("return;"),
            StmtKind::Return(Some(value)) => self.line(&format!("return {};", print_expr(value))),
            StmtKind::Exit => self.line("exit;"),
            StmtKind::Break => self.line("break;"),
            StmtKind::Continue => self.line("continue;"),
            StmtKind::Switch { expr, cases } => {
                self.line(&format!("switch ({}) {{", print_expr(expr)));
                self.indent += 1;
                for case in cases {
                    let label = match &case.label {
                        SwitchLabel::Default(_) => "default".to_string(),
                        SwitchLabel::Expr(expr) => {
                            no_leading_brace(expr_at(expr, LEVEL_NO_CONDITIONAL))
                        }
                    };
                    match &case.body {
                        Some(block) => self.block(&format!("{label}:"), false, block),
                        None => self.line(&format!("{label}:")),
                    }
                }
                self.indent -= 1;
                self.line("}");
            }
            StmtKind::For(for_loop) => self.for_loop(for_loop),
            StmtKind::Var(decl) => self.var_decl(decl),
            StmtKind::Const(decl) => self.const_decl(decl),
        }
    }

    pub(super) fn for_loop(&mut self, for_loop: &ForLoop) {
        match for_loop {
            ForLoop::Classic {
                annotations,
                init,
                cond,
                update,
                body,
            } => {
                self.annotation_lines(annotations);
                let init: Vec<String> = init.iter().map(for_clause).collect();
                let update: Vec<String> = update.iter().map(for_clause).collect();
                let mut header = format!("for ({}; {};", init.join(", "), print_expr(cond));
                if !update.is_empty() {
                    header.push(' ');
                    header.push_str(&update.join(", "));
                }
                header.push(')');
                self.body(&header, false, body);
            }
            ForLoop::In {
                annotations,
                var_annotations,
                ty,
                name,
                collection,
                range_end,
                body,
            } => {
                self.annotation_lines(annotations);
                let mut header = format!(
                    "for ({}{} {} in ",
                    annotations_inline(var_annotations),
                    print_type(ty),
                    name.name
                );
                match range_end {
                    Some(end) => {
                        let _ = write!(
                            header,
                            "{} .. {})",
                            expr_at(collection, LEVEL_NO_CONDITIONAL),
                            expr_at(end, LEVEL_NO_CONDITIONAL)
                        );
                    }
                    None => {
                        let _ = write!(header, "{})", print_expr(collection));
                    }
                }
                self.body(&header, false, body);
            }
        }
    }

    pub(super) fn var_decl(&mut self, decl: &VarDecl) {
        self.annotation_lines(&decl.annotations);
        self.line(&format!("{};", var_text(decl)));
    }

    pub(super) fn const_decl(&mut self, decl: &ConstDecl) {
        self.annotation_lines(&decl.annotations);
        self.line(&format!("{};", const_text(decl)));
    }
}
