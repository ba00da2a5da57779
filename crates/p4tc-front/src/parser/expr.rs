//! Expressions (precedence climbing), call arguments and keysets.

use std::sync::Arc;

use super::{PResult, Parser};
use crate::ast::{Argument, BinaryOp, Expr, ExprKind, KeyValue, Keyset, Type, TypeKind, UnaryOp};
use crate::token::{Keyword, Punct, TokenKind};

impl Parser<'_> {
    /// `expression`, the conditional operator included.
    pub(super) fn expr(&mut self) -> PResult<Expr> {
        self.nested(|p| {
            let cond = p.binary(1)?;
            if !p.eat(Punct::Question) {
                return Ok(cond);
            }
            let then = p.expr()?;
            p.expect(Punct::Colon)?;
            let otherwise = p.expr()?;
            let span = cond.span.to(otherwise.span);
            Ok(Expr {
                kind: ExprKind::Conditional {
                    cond: Box::new(cond),
                    then: Box::new(then),
                    otherwise: Box::new(otherwise),
                },
                span,
            })
        })
    }

    /// The binary operator at the cursor, with how many tokens spell it.
    fn peek_binary_op(&self) -> Option<(BinaryOp, usize)> {
        let TokenKind::Punct(p) = self.peek().kind else {
            return None;
        };
        let op = match p {
            Punct::Star => BinaryOp::Mul,
            Punct::Slash => BinaryOp::Div,
            Punct::Percent => BinaryOp::Mod,
            // `x[lo +: w]` is an indexed slice, not an addition.
            Punct::Plus if self.nth(1).is(Punct::Colon) => return None,
            Punct::Plus => BinaryOp::Add,
            Punct::Minus => BinaryOp::Sub,
            Punct::SatAdd => BinaryOp::SatAdd,
            Punct::SatSub => BinaryOp::SatSub,
            Punct::PlusPlus => BinaryOp::Concat,
            Punct::Shl => BinaryOp::Shl,
            Punct::Gt if self.at_shr() => return Some((BinaryOp::Shr, 2)),
            // `> >=` is the compound assignment `>>=`, not a comparison.
            Punct::Gt if self.nth(1).is(Punct::Ge) && !self.nth(1).space_before => return None,
            Punct::Gt => BinaryOp::Gt,
            Punct::Lt => BinaryOp::Lt,
            Punct::Le => BinaryOp::Le,
            Punct::Ge => BinaryOp::Ge,
            Punct::EqEq => BinaryOp::Eq,
            Punct::NotEq => BinaryOp::Ne,
            Punct::Amp => BinaryOp::BitAnd,
            Punct::Caret => BinaryOp::BitXor,
            Punct::Pipe => BinaryOp::BitOr,
            Punct::AndAnd => BinaryOp::And,
            Punct::OrOr => BinaryOp::Or,
            _ => return None,
        };
        Some((op, 1))
    }

    /// Binary operators of precedence `min` and tighter, left-associative.
    fn binary(&mut self, min: u8) -> PResult<Expr> {
        let mut lhs = self.prefix()?;
        // Each operator folded in makes the tree one level deeper (`a + b + c` is `(a + b) + c`),
        // so a long chain counts against the nesting bound like parentheses do.
        let mut folds = 0;
        let result = loop {
            let Some((op, tokens)) = self.peek_binary_op() else {
                break Ok(lhs);
            };
            if op.precedence() < min {
                break Ok(lhs);
            }
            if let Err(e) = self.enter() {
                break Err(e);
            }
            folds += 1;
            for _ in 0..tokens {
                self.bump();
            }
            let rhs = match self.binary(op.precedence() + 1) {
                Ok(rhs) => rhs,
                Err(e) => break Err(e),
            };
            let span = lhs.span.to(rhs.span);
            lhs = Expr {
                kind: ExprKind::Binary {
                    op,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                },
                span,
            };
        };
        self.depth -= folds;
        result
    }

    /// Prefix operators and casts, then a postfix expression.
    fn prefix(&mut self) -> PResult<Expr> {
        let start = self.span();
        let op = match self.peek().kind {
            TokenKind::Punct(Punct::Bang) => Some(UnaryOp::Not),
            TokenKind::Punct(Punct::Tilde) => Some(UnaryOp::BitNot),
            TokenKind::Punct(Punct::Minus) => Some(UnaryOp::Neg),
            TokenKind::Punct(Punct::Plus) => Some(UnaryOp::Plus),
            _ => None,
        };
        if let Some(op) = op {
            self.bump();
            let operand = self.nested(|p| p.prefix())?;
            let span = start.to(operand.span);
            return Ok(Expr {
                kind: ExprKind::Unary {
                    op,
                    operand: Box::new(operand),
                },
                span,
            });
        }
        if self.at(Punct::LParen) && self.type_starts_at(1) {
            if let Some(ty) = self.speculate(|p| {
                p.bump();
                let ty = p.ty()?;
                p.expect(Punct::RParen)?;
                Ok(ty)
            }) {
                let expr = self.nested(|p| p.prefix())?;
                let span = start.to(expr.span);
                return Ok(Expr {
                    kind: ExprKind::Cast {
                        ty: Box::new(ty),
                        expr: Box::new(expr),
                    },
                    span,
                });
            }
        }
        self.postfix()
    }

    /// A primary expression followed by member accesses, indexing, slicing and calls.
    fn postfix(&mut self) -> PResult<Expr> {
        let mut expr = self.primary()?;
        // Like operator chains, each postfix operation makes the tree one level deeper.
        let mut folds = 0;
        let result = loop {
            match self.postfix_op(expr) {
                Ok(Postfix::Applied(next)) => {
                    expr = next;
                    if let Err(e) = self.enter() {
                        break Err(e);
                    }
                    folds += 1;
                }
                Ok(Postfix::Done(done)) => break Ok(done),
                Err(e) => break Err(e),
            }
        };
        self.depth -= folds;
        result
    }

    /// Applies one postfix operation to `expr`, if one follows.
    fn postfix_op(&mut self, expr: Expr) -> PResult<Postfix> {
        if self.at(Punct::Dot) {
            self.bump();
            let member = self.name()?;
            let span = expr.span.to(member.span);
            return Ok(Postfix::Applied(Expr {
                kind: ExprKind::Member {
                    base: Box::new(expr),
                    member,
                },
                span,
            }));
        }
        if self.at(Punct::LBracket) {
            self.bump();
            let first = self.expr()?;
            let kind = if self.eat(Punct::Colon) {
                let lo = self.expr()?;
                ExprKind::Slice {
                    base: Box::new(expr),
                    hi: Box::new(first),
                    lo: Box::new(lo),
                }
            } else if self.at(Punct::Plus) && self.nth(1).is(Punct::Colon) {
                self.bump();
                self.bump();
                let width = self.expr()?;
                ExprKind::IndexedSlice {
                    base: Box::new(expr),
                    lo: Box::new(first),
                    width: Box::new(width),
                }
            } else {
                ExprKind::Index {
                    base: Box::new(expr),
                    index: Box::new(first),
                }
            };
            let close = self.expect(Punct::RBracket)?;
            let span = self.span_of_kind(&kind).to(close);
            return Ok(Postfix::Applied(Expr { kind, span }));
        }
        if self.at(Punct::LParen) {
            let args = self.args()?;
            let span = expr.span.to(self.prev_span());
            return Ok(Postfix::Applied(self.call(expr, Vec::new(), args, span)));
        }
        if self.at(Punct::Lt) && matches!(expr.kind, ExprKind::Name(_) | ExprKind::Member { .. }) {
            // `f<T>(x)` if what follows parses as type arguments and a call; else `<`.
            let type_args = self.speculate(|p| {
                let args = p.type_args()?;
                if p.at(Punct::LParen) {
                    Ok(args)
                } else {
                    Err(super::Reported)
                }
            });
            if let Some(type_args) = type_args {
                let args = self.args()?;
                let span = expr.span.to(self.prev_span());
                return Ok(Postfix::Applied(self.call(expr, type_args, args, span)));
            }
        }
        Ok(Postfix::Done(expr))
    }

    fn span_of_kind(&self, kind: &ExprKind) -> p4tc_ir::Span {
        match kind {
            ExprKind::Slice { base, .. }
            | ExprKind::IndexedSlice { base, .. }
            | ExprKind::Index { base, .. } => base.span,
            _ => self.prev_span(),
        }
    }

    /// A call of `callee`; when the callee names a type, a constructor call.
    fn call(
        &self,
        callee: Expr,
        type_args: Vec<Type>,
        args: Vec<crate::ast::Argument>,
        span: p4tc_ir::Span,
    ) -> Expr {
        if let ExprKind::Name(path) = &callee.kind {
            if self.is_type_name(&path.name.name) {
                let kind = if type_args.is_empty() {
                    TypeKind::Named(path.clone())
                } else {
                    TypeKind::Specialized {
                        base: path.clone(),
                        args: type_args,
                    }
                };
                let ty = Type {
                    kind,
                    span: callee.span,
                };
                return Expr {
                    kind: ExprKind::Construct {
                        ty: Box::new(ty),
                        args,
                    },
                    span,
                };
            }
        }
        Expr {
            kind: ExprKind::Call {
                callee: Box::new(callee),
                type_args,
                args,
            },
            span,
        }
    }

    fn primary(&mut self) -> PResult<Expr> {
        let token = self.peek().clone();
        let span = token.span;
        let kind = match token.kind {
            TokenKind::Int(lit) => {
                self.bump();
                ExprKind::Int(Arc::unwrap_or_clone(lit))
            }
            TokenKind::Str(text) => {
                self.bump();
                ExprKind::String(text.to_string())
            }
            TokenKind::Keyword(Keyword::True) => {
                self.bump();
                ExprKind::Bool(true)
            }
            TokenKind::Keyword(Keyword::False) => {
                self.bump();
                ExprKind::Bool(false)
            }
            TokenKind::Keyword(Keyword::This) => {
                self.bump();
                ExprKind::This
            }
            TokenKind::DontCare => {
                self.bump();
                ExprKind::DontCare
            }
            TokenKind::Punct(Punct::Ellipsis) => {
                self.bump();
                ExprKind::Dots
            }
            TokenKind::Punct(Punct::InvalidHeader) => {
                self.bump();
                ExprKind::InvalidHeader
            }
            TokenKind::Keyword(Keyword::Error) if self.nth(1).is(Punct::Dot) => {
                self.bump();
                self.bump();
                let member = self.name()?;
                return Ok(Expr {
                    span: span.to(member.span),
                    kind: ExprKind::ErrorMember(member),
                });
            }
            TokenKind::Punct(Punct::LParen) => {
                self.bump();
                let inner = self.expr()?;
                self.expect(Punct::RParen)?;
                // Parentheses are not kept: the printer restores the ones precedence needs.
                return Ok(Expr {
                    kind: inner.kind,
                    span: span.to(self.prev_span()),
                });
            }
            TokenKind::Punct(Punct::LBrace) => return self.brace_expr(),
            TokenKind::Punct(Punct::Dot) => ExprKind::Name(self.path()?),
            _ if self.peek_name().is_some() => ExprKind::Name(self.path()?),
            _ => return Err(self.error_expected("an expression")),
        };
        Ok(Expr {
            kind,
            span: span.to(self.prev_span()),
        })
    }

    /// `{ e1, e2 }`, `{ f1 = e1, f2 = e2 }`, or `{ f1 = e1, ... }`.
    fn brace_expr(&mut self) -> PResult<Expr> {
        let open = self.expect(Punct::LBrace)?;
        let kind = if self.peek_name().is_some() && self.nth(1).is(Punct::Assign) {
            let mut fields = Vec::new();
            let mut dots = false;
            while !self.at(Punct::RBrace) {
                if self.eat(Punct::Ellipsis) {
                    dots = true;
                    self.eat(Punct::Comma);
                    break;
                }
                let key = self.name()?;
                self.expect(Punct::Assign)?;
                let value = self.expr()?;
                fields.push(KeyValue { key, value });
                if !self.eat(Punct::Comma) {
                    break;
                }
            }
            ExprKind::StructInit { fields, dots }
        } else {
            let mut items = Vec::new();
            while !self.at(Punct::RBrace) {
                items.push(self.expr()?);
                if !self.eat(Punct::Comma) {
                    break;
                }
            }
            ExprKind::List(items)
        };
        let close = self.expect(Punct::RBrace)?;
        Ok(Expr {
            kind,
            span: open.to(close),
        })
    }

    /// `( argument, ... )`
    pub(super) fn args(&mut self) -> PResult<Vec<Argument>> {
        self.expect(Punct::LParen)?;
        let mut args = Vec::new();
        if !self.at(Punct::RParen) {
            loop {
                args.push(self.arg()?);
                if !self.eat(Punct::Comma) {
                    break;
                }
            }
        }
        self.expect(Punct::RParen)?;
        Ok(args)
    }

    fn arg(&mut self) -> PResult<Argument> {
        let name = if self.peek_name().is_some() && self.nth(1).is(Punct::Assign) {
            let name = self.name()?;
            self.bump();
            Some(name)
        } else {
            None
        };
        let value = self.expr()?;
        Ok(Argument { name, value })
    }

    /// `keysetExpression`: a tuple of simple keysets in parentheses, or one simple keyset.
    pub(super) fn keyset(&mut self) -> PResult<Keyset> {
        self.nested(|p| {
            if p.at(Punct::LParen) {
                let start = p.span();
                let tuple = p.speculate(|p| {
                    p.bump();
                    let first = p.simple_keyset()?;
                    if p.at(Punct::Comma) {
                        let mut items = vec![first];
                        while p.eat(Punct::Comma) {
                            items.push(p.simple_keyset()?);
                        }
                        p.expect(Punct::RParen)?;
                        return Ok(Keyset::Tuple(items, start.to(p.prev_span())));
                    }
                    // `(a &&& b)`; but `(a)` is a parenthesised expression, parsed below.
                    if matches!(first, Keyset::Expr(_)) {
                        return Err(super::Reported);
                    }
                    p.expect(Punct::RParen)?;
                    Ok(Keyset::Tuple(vec![first], start.to(p.prev_span())))
                });
                if let Some(tuple) = tuple {
                    return Ok(tuple);
                }
            }
            p.simple_keyset()
        })
    }

    /// `simpleKeysetExpression`: a value, `value &&& mask`, `lo .. hi`, `default` or `_`.
    fn simple_keyset(&mut self) -> PResult<Keyset> {
        let span = self.span();
        if self.eat_kw(Keyword::Default) {
            return Ok(Keyset::Default(span));
        }
        if matches!(self.peek().kind, TokenKind::DontCare) {
            self.bump();
            return Ok(Keyset::DontCare(span));
        }
        let value = self.expr()?;
        if self.eat(Punct::MaskOp) {
            let mask = self.expr()?;
            return Ok(Keyset::Mask(value, mask));
        }
        if self.eat(Punct::DotDot) {
            let hi = self.expr()?;
            return Ok(Keyset::Range(value, hi));
        }
        Ok(Keyset::Expr(value))
    }
}

/// The result of one step of [`Parser::postfix_op`].
enum Postfix {
    /// An operation was applied; look for another.
    Applied(Expr),
    /// No postfix operation follows.
    Done(Expr),
}
