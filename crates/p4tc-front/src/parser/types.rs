//! Types, type parameters and arguments, parameters, and annotations.

use p4tc_ir::Span;

use super::{name_of, PResult, Parser};
use crate::ast::{
    Annotation, AnnotationBody, AnnotationToken, Direction, Expr, ExprKind, Ident, KeyValue, Param,
    Path, Type, TypeKind,
};
use crate::token::{Keyword, Punct, TokenKind};

impl Parser<'_> {
    /// True when the token `n` ahead can start a type in a place where an expression could
    /// also stand (so only names known to be types count).
    pub(super) fn type_starts_at(&self, n: usize) -> bool {
        let token = self.nth(n);
        match &token.kind {
            TokenKind::Keyword(
                Keyword::Bool
                | Keyword::Bit
                | Keyword::Int
                | Keyword::Varbit
                | Keyword::String
                | Keyword::MatchKind
                | Keyword::Tuple,
            ) => true,
            // `error` is a type, and also the start of `error.X`.
            TokenKind::Keyword(Keyword::Error) => !self.nth(n + 1).is(Punct::Dot),
            // `list` is a type only as `list<...>`.
            TokenKind::Keyword(Keyword::List) => self.nth(n + 1).is(Punct::Lt),
            TokenKind::Punct(Punct::Dot) => {
                name_of(self.nth(n + 1)).is_some_and(|name| self.is_type_name(name))
            }
            _ => name_of(token).is_some_and(|name| self.is_type_name(name)),
        }
    }

    /// `typeRef`: any type but `void` and `_`.
    pub(super) fn ty(&mut self) -> PResult<Type> {
        self.nested(|p| {
            let start = p.span();
            let token = p.peek().clone();
            let kind = match &token.kind {
                TokenKind::Keyword(Keyword::Bool) => {
                    p.bump();
                    TypeKind::Bool
                }
                TokenKind::Keyword(Keyword::Error) => {
                    p.bump();
                    TypeKind::Error
                }
                TokenKind::Keyword(Keyword::MatchKind) => {
                    p.bump();
                    TypeKind::MatchKind
                }
                TokenKind::Keyword(Keyword::String) => {
                    p.bump();
                    TypeKind::String
                }
                TokenKind::Keyword(Keyword::Int) => {
                    p.bump();
                    if p.at(Punct::Lt) {
                        TypeKind::SignedBits(Box::new(p.width()?))
                    } else {
                        TypeKind::Integer
                    }
                }
                TokenKind::Keyword(Keyword::Bit) => {
                    p.bump();
                    if p.at(Punct::Lt) {
                        TypeKind::Bits(Box::new(p.width()?))
                    } else {
                        TypeKind::Bit
                    }
                }
                TokenKind::Keyword(Keyword::Varbit) => {
                    p.bump();
                    if !p.at(Punct::Lt) {
                        return Err(p.error_expected("`<` and the maximum width of `varbit`"));
                    }
                    TypeKind::Varbit(Box::new(p.width()?))
                }
                TokenKind::Keyword(Keyword::Tuple) => {
                    p.bump();
                    TypeKind::Tuple(p.type_args()?)
                }
                TokenKind::Keyword(Keyword::List) if p.nth(1).is(Punct::Lt) => {
                    p.bump();
                    let mut args = p.type_args()?;
                    if args.len() != 1 {
                        let span = start.to(p.prev_span());
                        return Err(p.error(span, "`list` takes exactly one type argument"));
                    }
                    TypeKind::List(Box::new(args.remove(0)))
                }
                _ => {
                    let base = p.path()?;
                    if p.at(Punct::Lt) {
                        TypeKind::Specialized {
                            base,
                            args: p.type_args()?,
                        }
                    } else {
                        TypeKind::Named(base)
                    }
                }
            };
            let mut ty = Type {
                kind,
                span: start.to(p.prev_span()),
            };
            // `T[N]`: header stacks and arrays, possibly of arrays.
            while p.at(Punct::LBracket) {
                p.bump();
                let size = p.expr()?;
                p.expect(Punct::RBracket)?;
                let span = ty.span.to(p.prev_span());
                ty = Type {
                    kind: TypeKind::Array {
                        element: Box::new(ty),
                        size: Box::new(size),
                    },
                    span,
                };
            }
            Ok(ty)
        })
    }

    /// `typeOrVoid` and `typeArg`: a type, `void`, or `_`.
    pub(super) fn type_or_void(&mut self) -> PResult<Type> {
        let span = self.span();
        if self.eat_kw(Keyword::Void) {
            return Ok(Type {
                kind: TypeKind::Void,
                span,
            });
        }
        if self.eat(Punct::Hash) {
            return Err(self.error(
                span,
                "unexpected `#` (a preprocessor directive must start a line)",
            ));
        }
        if matches!(self.peek().kind, TokenKind::DontCare) {
            self.bump();
            return Ok(Type {
                kind: TypeKind::DontCare,
                span,
            });
        }
        self.ty()
    }

    /// `.name` or `name`.
    pub(super) fn path(&mut self) -> PResult<Path> {
        let top_level = self.eat(Punct::Dot);
        let name = self.name()?;
        Ok(Path { top_level, name })
    }

    /// `< INTEGER >` or `< ( expression ) >`, the width of `bit`, `int` and `varbit`.
    fn width(&mut self) -> PResult<Expr> {
        self.expect(Punct::Lt)?;
        let width = if self.eat(Punct::LParen) {
            let e = self.expr()?;
            self.expect(Punct::RParen)?;
            e
        } else if let TokenKind::Int(lit) = &self.peek().kind {
            let kind = ExprKind::Int((**lit).clone());
            let span = self.bump().span;
            Expr { kind, span }
        } else {
            return Err(
                self.error_expected("a width (an integer, or an expression in parentheses)")
            );
        };
        self.expect_close_angle()?;
        Ok(width)
    }

    /// `>` closing a type argument list.
    fn expect_close_angle(&mut self) -> PResult<()> {
        if self.eat(Punct::Gt) {
            return Ok(());
        }
        Err(self.error_expected("`>`"))
    }

    /// `< typeArg, ... >`
    pub(super) fn type_args(&mut self) -> PResult<Vec<Type>> {
        self.expect(Punct::Lt)?;
        let mut args = Vec::new();
        if !self.at(Punct::Gt) {
            loop {
                args.push(self.type_or_void()?);
                if !self.eat(Punct::Comma) {
                    break;
                }
            }
        }
        self.expect_close_angle()?;
        Ok(args)
    }

    /// Optional `< T, U >` after a declared name.
    pub(super) fn opt_type_params(&mut self) -> PResult<Vec<Ident>> {
        let mut params = Vec::new();
        if !self.eat(Punct::Lt) {
            return Ok(params);
        }
        loop {
            params.push(self.name()?);
            if !self.eat(Punct::Comma) {
                break;
            }
        }
        self.expect_close_angle()?;
        Ok(params)
    }

    /// `( parameterList )`
    pub(super) fn params(&mut self) -> PResult<Vec<Param>> {
        self.expect(Punct::LParen)?;
        let mut params = Vec::new();
        if !self.at(Punct::RParen) {
            loop {
                params.push(self.param()?);
                if !self.eat(Punct::Comma) {
                    if !self.at(Punct::RParen) {
                        return Err(self.error_expected("`,` or `)`"));
                    }
                    break;
                }
            }
        }
        self.expect(Punct::RParen)?;
        Ok(params)
    }

    fn param(&mut self) -> PResult<Param> {
        let start = self.span();
        let annotations = self.annotations()?;
        let direction = if self.eat_kw(Keyword::In) {
            Direction::In
        } else if self.eat_kw(Keyword::Out) {
            Direction::Out
        } else if self.eat_kw(Keyword::Inout) {
            Direction::InOut
        } else {
            Direction::None
        };
        let ty = self.ty()?;
        if self.at(Punct::Comma) || self.at(Punct::RParen) {
            // `(x)`: one word, not a known type, is a name that lacks its type.
            if let TypeKind::Named(path) = &ty.kind {
                if !self.is_type_name(&path.name.name) {
                    let name = path.name.name.clone();
                    return Err(self.report(
                        p4tc_ir::Diagnostic::error(
                            ty.span,
                            format!("parameter `{name}` has no type"),
                        )
                        .with_note(format!(
                            "a parameter is written with its type first, as in `bit<8> {name}`"
                        )),
                    ));
                }
            }
        }
        let name = self.name()?;
        let default = if self.eat(Punct::Assign) {
            Some(self.expr()?)
        } else {
            None
        };
        Ok(Param {
            annotations,
            direction,
            ty,
            name,
            default,
            span: start.to(self.prev_span()),
        })
    }

    /// Zero or more annotations.
    pub(super) fn annotations(&mut self) -> PResult<Vec<Annotation>> {
        let mut annotations = Vec::new();
        while self.at(Punct::At) {
            annotations.push(self.annotation()?);
        }
        Ok(annotations)
    }

    fn annotation(&mut self) -> PResult<Annotation> {
        let start = self.expect(Punct::At)?;
        // Any word may name an annotation, keywords included (`@priority`, `@optional`).
        let token = self.peek().clone();
        let name = match &token.kind {
            TokenKind::Ident(name) => name.to_string(),
            TokenKind::Keyword(k) => k.as_str().to_string(),
            _ => return Err(self.error_expected("an annotation name after `@`")),
        };
        self.bump();
        let name = Ident {
            name,
            span: token.span,
        };
        let body = if self.at(Punct::LParen) {
            AnnotationBody::Unstructured(self.annotation_tokens()?)
        } else if self.at(Punct::LBracket) {
            self.structured_annotation_body()?
        } else {
            AnnotationBody::None
        };
        Ok(Annotation {
            name,
            body,
            span: start.to(self.prev_span()),
        })
    }

    /// The tokens between balanced parentheses, unparsed.
    fn annotation_tokens(&mut self) -> PResult<Vec<AnnotationToken>> {
        let open = self.expect(Punct::LParen)?;
        let mut tokens = Vec::new();
        let mut depth = 0usize;
        loop {
            let token = self.peek().clone();
            match token.kind {
                TokenKind::Eof if self.end_of_input_explained() => return Err(super::Reported),
                TokenKind::Eof => {
                    return Err(
                        self.error(open, "unterminated annotation: this `(` is never closed")
                    );
                }
                TokenKind::Punct(Punct::RParen) if depth == 0 => {
                    self.bump();
                    return Ok(tokens);
                }
                TokenKind::Punct(Punct::LParen) => depth += 1,
                TokenKind::Punct(Punct::RParen) => depth -= 1,
                _ => {}
            }
            self.bump();
            tokens.push(AnnotationToken {
                kind: token.kind,
                span: token.span,
            });
        }
    }

    /// `[ e1, e2 ]` or `[ k1 = e1, k2 = e2 ]`, either with an optional trailing comma.
    fn structured_annotation_body(&mut self) -> PResult<AnnotationBody> {
        self.expect(Punct::LBracket)?;
        let key_values = self.peek_name().is_some() && self.nth(1).is(Punct::Assign);
        let body = if key_values {
            let mut pairs = Vec::new();
            while !self.at(Punct::RBracket) {
                let key = self.name()?;
                self.expect(Punct::Assign)?;
                let value = self.expr()?;
                pairs.push(KeyValue { key, value });
                if !self.eat(Punct::Comma) {
                    break;
                }
            }
            AnnotationBody::KeyValues(pairs)
        } else {
            let mut exprs = Vec::new();
            while !self.at(Punct::RBracket) {
                exprs.push(self.expr()?);
                if !self.eat(Punct::Comma) {
                    break;
                }
            }
            AnnotationBody::Expressions(exprs)
        };
        self.expect(Punct::RBracket)?;
        Ok(body)
    }

    /// Reports annotations written where the grammar has no place for them.
    pub(super) fn reject_annotations(
        &mut self,
        annotations: &[Annotation],
        what: &str,
    ) -> PResult<()> {
        if let Some(first) = annotations.first() {
            let span: Span = first.span.to(annotations[annotations.len() - 1].span);
            return Err(self.error(span, format!("annotations are not allowed on {what}")));
        }
        Ok(())
    }
}
