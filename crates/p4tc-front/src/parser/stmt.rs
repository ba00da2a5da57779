//! Statements and blocks.

use super::{name_of, PResult, Parser, Reported};
use crate::ast::{
    Annotation, BinaryOp, Block, ConstDecl, Expr, ExprKind, ForLoop, Stmt, StmtKind, SwitchCase,
    SwitchLabel, VarDecl,
};
use crate::token::{Keyword, Punct, TokenKind};

impl Parser<'_> {
    /// `{ statements }`, with annotations already read.
    pub(super) fn block(&mut self, annotations: Vec<Annotation>) -> PResult<Block> {
        let open = self.expect(Punct::LBrace)?;
        let start = annotations.first().map(|a| a.span).unwrap_or(open);
        let mut stmts = Vec::new();
        while !self.at(Punct::RBrace) {
            if self.at_eof() {
                return Err(self.unclosed_at_eof(open, "block"));
            }
            match self.stmt() {
                Ok(stmt) => stmts.push(stmt),
                Err(Reported) => {
                    if self.too_deep {
                        return Err(Reported);
                    }
                    self.recover_item();
                }
            }
        }
        let close = self.expect(Punct::RBrace)?;
        Ok(Block {
            annotations,
            stmts,
            span: start.to(close),
        })
    }

    /// One statement or local variable/constant declaration.
    pub(super) fn stmt(&mut self) -> PResult<Stmt> {
        self.nested(|p| {
            let start = p.span();
            let annotations = p.annotations()?;
            let token = p.peek().clone();
            let kind = match &token.kind {
                TokenKind::Punct(Punct::LBrace) => StmtKind::Block(p.block(annotations)?),
                TokenKind::Keyword(Keyword::For) => {
                    StmtKind::For(Box::new(p.for_loop(annotations)?))
                }
                TokenKind::Keyword(Keyword::Const) => {
                    StmtKind::Const(Box::new(p.const_decl(annotations)?))
                }
                _ if p.declaration_starts() => {
                    let var = p.var_decl(annotations)?;
                    p.expect(Punct::Semi)?;
                    StmtKind::Var(Box::new(var))
                }
                _ => {
                    p.reject_annotations(&annotations, "this statement")?;
                    p.plain_stmt()?
                }
            };
            Ok(Stmt {
                kind,
                span: start.to(p.prev_span()),
            })
        })
    }

    /// True when a local variable declaration starts here (rather than an assignment, a call
    /// or a direct application `T.apply(...)`).
    fn declaration_starts(&mut self) -> bool {
        if self.type_starts_at(0) {
            // A type followed by `.` is `T.apply(...)`, or `T<A>.apply(...)` for a generic one.
            let applied = self.lookahead(|p| {
                p.ty()?;
                if p.at(Punct::Dot) {
                    Ok(())
                } else {
                    Err(Reported)
                }
            });
            return !applied;
        }
        // `T x` declares even when `T` is not (yet) known as a type: no statement begins with
        // two names, and the resolver will report the unknown type.
        name_of(self.peek()).is_some() && name_of(self.nth(1)).is_some()
    }

    fn plain_stmt(&mut self) -> PResult<StmtKind> {
        let token = self.peek().clone();
        let kind = match token.kind {
            TokenKind::Punct(Punct::Semi) => {
                self.bump();
                return Ok(StmtKind::Empty);
            }
            TokenKind::Keyword(Keyword::If) => {
                self.bump();
                self.expect(Punct::LParen)?;
                let cond = self.expr()?;
                self.expect(Punct::RParen)?;
                let then = Box::new(self.stmt()?);
                let otherwise = if self.eat_kw(Keyword::Else) {
                    Some(Box::new(self.stmt()?))
                } else {
                    None
                };
                return Ok(StmtKind::If {
                    cond,
                    then,
                    otherwise,
                });
            }
            TokenKind::Keyword(Keyword::Switch) => return self.switch(),
            TokenKind::Keyword(Keyword::Return) => {
                self.bump();
                let value = if self.at(Punct::Semi) {
                    None
                } else {
                    Some(self.expr()?)
                };
                StmtKind::Return(value)
            }
            TokenKind::Keyword(Keyword::Exit) => {
                self.bump();
                StmtKind::Exit
            }
            TokenKind::Keyword(Keyword::Break) => {
                self.bump();
                StmtKind::Break
            }
            TokenKind::Keyword(Keyword::Continue) => {
                self.bump();
                StmtKind::Continue
            }
            TokenKind::Keyword(Keyword::Else) => {
                return Err(self.error(token.span, "`else` without a matching `if`"));
            }
            _ if self.type_starts_at(0) => self.direct_apply()?,
            _ => self.assignment_or_call()?,
        };
        self.expect(Punct::Semi)?;
        Ok(kind)
    }

    /// `Type.apply(args)`, without the `;`.
    fn direct_apply(&mut self) -> PResult<StmtKind> {
        let ty = self.ty()?;
        self.expect(Punct::Dot)?;
        self.expect_kw(Keyword::Apply)?;
        let args = self.args()?;
        Ok(StmtKind::DirectApply { ty, args })
    }

    /// `lvalue = e`, `lvalue op= e` or `call(...)`, without the `;`.
    pub(super) fn assignment_or_call(&mut self) -> PResult<StmtKind> {
        let target = self.expr()?;
        if let Some((op, tokens)) = self.peek_assign_op() {
            for _ in 0..tokens {
                self.bump();
            }
            if !is_lvalue(&target) {
                return Err(self.error(target.span, "cannot assign to this expression"));
            }
            let rhs = self.expr()?;
            return Ok(StmtKind::Assign {
                lhs: target,
                op,
                rhs,
            });
        }
        match target.kind {
            ExprKind::Call { .. } | ExprKind::Construct { .. } => Ok(StmtKind::Call(target)),
            _ => Err(self.error_expected("`=` or a call")),
        }
    }

    fn peek_assign_op(&self) -> Option<(Option<BinaryOp>, usize)> {
        let TokenKind::Punct(p) = self.peek().kind else {
            return None;
        };
        let op = match p {
            Punct::Assign => None,
            Punct::MulAssign => Some(BinaryOp::Mul),
            Punct::DivAssign => Some(BinaryOp::Div),
            Punct::ModAssign => Some(BinaryOp::Mod),
            Punct::AddAssign => Some(BinaryOp::Add),
            Punct::SubAssign => Some(BinaryOp::Sub),
            Punct::SatAddAssign => Some(BinaryOp::SatAdd),
            Punct::SatSubAssign => Some(BinaryOp::SatSub),
            Punct::ShlAssign => Some(BinaryOp::Shl),
            // `>>=` arrives as `>` `>=`.
            Punct::Gt if self.nth(1).is(Punct::Ge) && !self.nth(1).space_before => {
                return Some((Some(BinaryOp::Shr), 2));
            }
            Punct::AndAssign => Some(BinaryOp::BitAnd),
            Punct::OrAssign => Some(BinaryOp::BitOr),
            Punct::XorAssign => Some(BinaryOp::BitXor),
            _ => return None,
        };
        Some((op, 1))
    }

    fn switch(&mut self) -> PResult<StmtKind> {
        self.expect_kw(Keyword::Switch)?;
        self.expect(Punct::LParen)?;
        let expr = self.expr()?;
        self.expect(Punct::RParen)?;
        self.expect(Punct::LBrace)?;
        let mut cases = Vec::new();
        while !self.at(Punct::RBrace) && !self.at_eof() {
            let start = self.span();
            let label = if self.at_kw(Keyword::Default) {
                SwitchLabel::Default(self.bump().span)
            } else {
                SwitchLabel::Expr(self.expr()?)
            };
            self.expect(Punct::Colon)?;
            let body = if self.at(Punct::LBrace) || self.at(Punct::At) {
                let annotations = self.annotations()?;
                Some(self.block(annotations)?)
            } else {
                None
            };
            cases.push(SwitchCase {
                label,
                body,
                span: start.to(self.prev_span()),
            });
        }
        self.expect(Punct::RBrace)?;
        Ok(StmtKind::Switch { expr, cases })
    }

    /// `@annotations T name = init` without the `;`.
    pub(super) fn var_decl(&mut self, annotations: Vec<Annotation>) -> PResult<VarDecl> {
        let ty = self.ty()?;
        let name = self.name()?;
        let init = if self.eat(Punct::Assign) {
            Some(self.expr()?)
        } else {
            None
        };
        Ok(VarDecl {
            annotations,
            ty,
            name,
            init,
        })
    }

    /// `@annotations const T name = value;`
    pub(super) fn const_decl(&mut self, annotations: Vec<Annotation>) -> PResult<ConstDecl> {
        self.expect_kw(Keyword::Const)?;
        let ty = self.ty()?;
        let name = self.name()?;
        self.expect(Punct::Assign)?;
        let value = self.expr()?;
        self.expect(Punct::Semi)?;
        Ok(ConstDecl {
            annotations,
            ty,
            name,
            value,
        })
    }

    fn for_loop(&mut self, annotations: Vec<Annotation>) -> PResult<ForLoop> {
        self.expect_kw(Keyword::For)?;
        self.expect(Punct::LParen)?;
        // `for (T x in collection)`: try that form first.
        let header = self.speculate(|p| {
            let var_annotations = p.annotations()?;
            let ty = p.ty()?;
            let name = p.name()?;
            p.expect_kw(Keyword::In)?;
            Ok((var_annotations, ty, name))
        });
        if let Some((var_annotations, ty, name)) = header {
            let collection = self.expr()?;
            let range_end = if self.eat(Punct::DotDot) {
                Some(self.expr()?)
            } else {
                None
            };
            self.expect(Punct::RParen)?;
            let body = self.stmt()?;
            return Ok(ForLoop::In {
                annotations,
                var_annotations,
                ty,
                name,
                collection,
                range_end,
                body,
            });
        }
        let mut init = Vec::new();
        if !self.at(Punct::Semi) {
            loop {
                init.push(self.for_clause(true)?);
                if !self.eat(Punct::Comma) {
                    break;
                }
            }
        }
        self.expect(Punct::Semi)?;
        let cond = self.expr()?;
        self.expect(Punct::Semi)?;
        let mut update = Vec::new();
        if !self.at(Punct::RParen) {
            loop {
                update.push(self.for_clause(false)?);
                if !self.eat(Punct::Comma) {
                    break;
                }
            }
        }
        self.expect(Punct::RParen)?;
        let body = self.stmt()?;
        Ok(ForLoop::Classic {
            annotations,
            init,
            cond,
            update,
            body,
        })
    }

    /// One clause of a `for` header: a declaration (init only), an assignment or a call.
    fn for_clause(&mut self, allow_declaration: bool) -> PResult<Stmt> {
        let start = self.span();
        let kind = if allow_declaration && (self.at(Punct::At) || self.declaration_starts()) {
            let annotations = self.annotations()?;
            StmtKind::Var(Box::new(self.var_decl(annotations)?))
        } else {
            self.assignment_or_call()?
        };
        Ok(Stmt {
            kind,
            span: start.to(self.prev_span()),
        })
    }
}

/// What the grammar's `lvalue` allows: names, `this`, members, indexing and slices of those.
fn is_lvalue(expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::Name(_) | ExprKind::This => true,
        ExprKind::Member { base, .. }
        | ExprKind::Index { base, .. }
        | ExprKind::Slice { base, .. }
        | ExprKind::IndexedSlice { base, .. } => is_lvalue(base),
        _ => false,
    }
}
