//! Declarations: top level, parser and control locals, tables, externs.

use p4tc_ir::Span;

use super::{name_of, PResult, Parser, Reported};
use crate::ast::{
    ActionDecl, ActionRef, Annotation, ControlDecl, DeclKind, Declaration, Entry, EnumDecl,
    EnumMember, ExternObject, FunctionDecl, FunctionPrototype, Ident, Instantiation, KeyElement,
    LocalDecl, Method, MethodKind, ObjectMember, ParserDecl, ParserState, SelectCase, Stmt,
    StmtKind, StructDecl, StructField, TableDecl, TableProperty, TablePropertyKind, Transition,
    Type, TypeSignature, TypedefDecl, TypedefTarget, ValueSetDecl,
};
use crate::token::{Keyword, Punct, TokenKind};

impl Parser<'_> {
    /// One top-level declaration.
    pub(super) fn declaration(&mut self) -> PResult<Declaration> {
        let start = self.span();
        let annotations = self.annotations()?;
        let token = self.peek().clone();
        let kind = match &token.kind {
            TokenKind::Punct(Punct::Semi) => {
                self.reject_annotations(&annotations, "an empty declaration")?;
                self.bump();
                DeclKind::Empty
            }
            TokenKind::Keyword(Keyword::Const) => DeclKind::Const(self.const_decl(annotations)?),
            TokenKind::Keyword(Keyword::Extern) => self.extern_decl(annotations)?,
            TokenKind::Keyword(Keyword::Action) => DeclKind::Action(self.action(annotations)?),
            TokenKind::Keyword(Keyword::Parser) => self.parser_decl(annotations)?,
            TokenKind::Keyword(Keyword::Control) => self.control_decl(annotations)?,
            TokenKind::Keyword(Keyword::Package) => {
                self.bump();
                let signature = self.signature(annotations)?;
                self.expect(Punct::Semi)?;
                DeclKind::Package(signature)
            }
            TokenKind::Keyword(
                Keyword::Header | Keyword::HeaderUnion | Keyword::Struct | Keyword::Enum,
            ) => self.derived_type(annotations)?,
            TokenKind::Keyword(Keyword::Typedef | Keyword::Type) => self.typedef(annotations)?,
            TokenKind::Keyword(Keyword::Error) if self.nth(1).is(Punct::LBrace) => {
                self.reject_annotations(&annotations, "an `error` declaration")?;
                self.bump();
                DeclKind::Error(self.name_list()?)
            }
            TokenKind::Keyword(Keyword::MatchKind) if self.nth(1).is(Punct::LBrace) => {
                self.reject_annotations(&annotations, "a `match_kind` declaration")?;
                self.bump();
                DeclKind::MatchKind(self.name_list()?)
            }
            TokenKind::Keyword(Keyword::Table) => {
                return Err(self.error(token.span, "a table must be declared inside a control"));
            }
            TokenKind::Keyword(Keyword::State) => {
                return Err(self.error(
                    token.span,
                    "a parser state must be declared inside a parser",
                ));
            }
            TokenKind::Punct(Punct::Hash) => {
                return Err(self.error(
                    token.span,
                    "unexpected `#`: a preprocessor directive must start a line",
                ));
            }
            TokenKind::Punct(Punct::RBrace) => {
                return Err(self.error(
                    token.span,
                    "unexpected `}`: there is no open `{` for it to close",
                ));
            }
            _ if self.at_kw(Keyword::Void)
                || self.at(Punct::Dot)
                || self.type_starts_at(0)
                || name_of(&token).is_some() =>
            {
                self.function_or_instantiation(annotations)?
            }
            _ => return Err(self.error_expected("a declaration")),
        };
        Ok(Declaration {
            kind,
            span: start.to(self.prev_span()),
        })
    }

    /// `{ a, b, c }` (with an optional trailing comma), for `error` and `match_kind`.
    fn name_list(&mut self) -> PResult<Vec<Ident>> {
        self.expect(Punct::LBrace)?;
        let mut names = Vec::new();
        while !self.at(Punct::RBrace) {
            names.push(self.name()?);
            if !self.eat(Punct::Comma) {
                if !self.at(Punct::RBrace) {
                    return Err(self.error_expected("`,` or `}`"));
                }
                break;
            }
        }
        self.expect(Punct::RBrace)?;
        Ok(names)
    }

    /// A function definition `R f<T>(params) { ... }` or an instantiation `T(args) name;`:
    /// both start with a type.
    fn function_or_instantiation(&mut self, annotations: Vec<Annotation>) -> PResult<DeclKind> {
        let ty = self.type_or_void()?;
        if self.at(Punct::LParen) {
            return Ok(DeclKind::Instantiation(
                self.instantiation_rest(annotations, ty)?,
            ));
        }
        let prototype = self.prototype_rest(ty)?;
        let body =
            self.with_type_params(&prototype.type_params.clone(), |p| p.block(Vec::new()))?;
        Ok(DeclKind::Function(FunctionDecl {
            annotations,
            prototype,
            body,
        }))
    }

    /// After the return type: `name<T>(params)`.
    fn prototype_rest(&mut self, return_type: Type) -> PResult<FunctionPrototype> {
        let name = self.name()?;
        let type_params = self.opt_type_params()?;
        let params = self.with_type_params(&type_params, |p| p.params())?;
        Ok(FunctionPrototype {
            return_type,
            name,
            type_params,
            params,
        })
    }

    /// After the type: `(args) name;` or `(args) name = { ... };`.
    fn instantiation_rest(
        &mut self,
        annotations: Vec<Annotation>,
        ty: Type,
    ) -> PResult<Instantiation> {
        let args = self.args()?;
        let name = self.name()?;
        let initializer = if self.eat(Punct::Assign) {
            self.expect(Punct::LBrace)?;
            let members = self.items_until_brace(|p| p.object_member())?;
            self.expect(Punct::RBrace)?;
            Some(members)
        } else {
            None
        };
        self.expect(Punct::Semi)?;
        Ok(Instantiation {
            annotations,
            ty,
            args,
            name,
            initializer,
        })
    }

    fn object_member(&mut self) -> PResult<ObjectMember> {
        let annotations = self.annotations()?;
        let ty = self.type_or_void()?;
        if self.at(Punct::LParen) {
            return Ok(ObjectMember::Instantiation(
                self.instantiation_rest(annotations, ty)?,
            ));
        }
        let prototype = self.prototype_rest(ty)?;
        let body =
            self.with_type_params(&prototype.type_params.clone(), |p| p.block(Vec::new()))?;
        Ok(ObjectMember::Function(FunctionDecl {
            annotations,
            prototype,
            body,
        }))
    }

    fn extern_decl(&mut self, annotations: Vec<Annotation>) -> PResult<DeclKind> {
        self.expect_kw(Keyword::Extern)?;
        if !self.extern_object_follows() {
            let return_type = self.type_or_void()?;
            let prototype = self.prototype_rest(return_type)?;
            self.expect(Punct::Semi)?;
            return Ok(DeclKind::ExternFunction {
                annotations,
                prototype,
            });
        }
        let name = self.name()?;
        self.declare_type(&name);
        let type_params = self.opt_type_params()?;
        let methods = self.with_type_params(&type_params, |p| p.extern_methods(&name))?;
        Ok(DeclKind::ExternObject(ExternObject {
            annotations,
            name,
            type_params,
            methods,
        }))
    }

    /// After `extern`: `Name {` or `Name<...> {` is an object; anything else a function.
    fn extern_object_follows(&self) -> bool {
        if name_of(self.peek()).is_none() {
            return false;
        }
        if self.nth(1).is(Punct::LBrace) {
            return true;
        }
        if !self.nth(1).is(Punct::Lt) {
            return false;
        }
        let mut depth = 0usize;
        let mut n = 1;
        loop {
            let token = self.nth(n);
            match token.kind {
                TokenKind::Punct(Punct::Lt) => depth += 1,
                TokenKind::Punct(Punct::Gt) => {
                    depth -= 1;
                    if depth == 0 {
                        return self.nth(n + 1).is(Punct::LBrace);
                    }
                }
                TokenKind::Eof | TokenKind::Punct(Punct::Semi | Punct::LBrace | Punct::LParen) => {
                    return false
                }
                _ => {}
            }
            n += 1;
        }
    }

    fn extern_methods(&mut self, extern_name: &Ident) -> PResult<Vec<Method>> {
        self.expect(Punct::LBrace)?;
        let methods = self.items_until_brace(|p| p.extern_method(extern_name))?;
        self.expect(Punct::RBrace)?;
        Ok(methods)
    }

    fn extern_method(&mut self, extern_name: &Ident) -> PResult<Method> {
        let start = self.span();
        let annotations = self.annotations()?;
        let constructor = name_of(self.peek()) == Some(extern_name.name.as_str())
            && self.nth(1).is(Punct::LParen);
        let kind = if constructor {
            let name = self.name()?;
            let params = self.params()?;
            MethodKind::Constructor { name, params }
        } else {
            let is_abstract = self.eat_kw(Keyword::Abstract);
            let return_type = self.type_or_void()?;
            let prototype = self.prototype_rest(return_type)?;
            MethodKind::Method {
                is_abstract,
                prototype,
            }
        };
        self.expect(Punct::Semi)?;
        Ok(Method {
            annotations,
            kind,
            span: start.to(self.prev_span()),
        })
    }

    fn action(&mut self, annotations: Vec<Annotation>) -> PResult<ActionDecl> {
        self.expect_kw(Keyword::Action)?;
        let name = self.name()?;
        let params = self.params()?;
        let body = self.block(Vec::new())?;
        Ok(ActionDecl {
            annotations,
            name,
            params,
            body,
        })
    }

    /// `name<T>(params)` after `parser`, `control` or `package`; declares `name` as a type.
    fn signature(&mut self, annotations: Vec<Annotation>) -> PResult<TypeSignature> {
        let name = self.name()?;
        self.declare_type(&name);
        let type_params = self.opt_type_params()?;
        let params = self.with_type_params(&type_params, |p| p.params())?;
        Ok(TypeSignature {
            annotations,
            name,
            type_params,
            params,
        })
    }

    /// Optional `(constructor parameters)` after a parser or control signature.
    fn ctor_params(&mut self) -> PResult<Option<Vec<crate::ast::Param>>> {
        if self.at(Punct::LParen) {
            Ok(Some(self.params()?))
        } else {
            Ok(None)
        }
    }

    /// Reports type parameters on a parser or control with a body. The body still parses, so
    /// that errors in it are reported too.
    fn no_type_params(&mut self, signature: &TypeSignature, what: &str) {
        if let Some(first) = signature.type_params.first() {
            let span = first
                .span
                .to(signature.type_params[signature.type_params.len() - 1].span);
            self.error(
                span,
                format!(
                    "a {what} declaration cannot have type parameters (only a {what} type can)"
                ),
            );
        }
    }

    fn parser_decl(&mut self, annotations: Vec<Annotation>) -> PResult<DeclKind> {
        self.expect_kw(Keyword::Parser)?;
        let signature = self.signature(annotations)?;
        if self.eat(Punct::Semi) {
            return Ok(DeclKind::ParserType(signature));
        }
        self.no_type_params(&signature, "parser");
        let ctor_params = self.ctor_params()?;
        let open = self.expect(Punct::LBrace)?;
        let mut locals = Vec::new();
        let mut states = Vec::new();
        // A state that failed to parse still counts: "no states" would only repeat its error.
        let mut tried_state = false;
        while !self.at(Punct::RBrace) {
            if self.at_eof() {
                return Err(self.unclosed_at_eof(open, "parser"));
            }
            tried_state |= self.state_follows();
            let result = self.parser_element(&mut locals, &mut states);
            if result.is_err() {
                if self.too_deep {
                    return Err(Reported);
                }
                self.recover_item();
            }
        }
        self.expect(Punct::RBrace)?;
        if states.is_empty() && !tried_state {
            // Reported, but the parser itself is whole: parsing goes on after it.
            self.error(
                signature.name.span,
                format!("parser `{}` has no states", signature.name.name),
            );
        }
        Ok(DeclKind::Parser(ParserDecl {
            signature,
            ctor_params,
            locals,
            states,
        }))
    }

    /// True when `state`, possibly after annotations, is next.
    fn state_follows(&self) -> bool {
        let mut n = 0;
        while self.nth(n).is(Punct::At) {
            // Skip `@name` and a parenthesised or bracketed body; enough to find `state`.
            n += 2;
            if self.nth(n).is(Punct::LParen) || self.nth(n).is(Punct::LBracket) {
                let mut depth = 0usize;
                loop {
                    match self.nth(n).kind {
                        TokenKind::Punct(Punct::LParen | Punct::LBracket) => depth += 1,
                        TokenKind::Punct(Punct::RParen | Punct::RBracket) => {
                            depth = depth.saturating_sub(1)
                        }
                        TokenKind::Eof => return false,
                        _ => {}
                    }
                    n += 1;
                    if depth == 0 {
                        break;
                    }
                }
            }
        }
        self.nth(n).is_keyword(Keyword::State)
    }

    fn parser_element(
        &mut self,
        locals: &mut Vec<LocalDecl>,
        states: &mut Vec<ParserState>,
    ) -> PResult<()> {
        let start = self.span();
        let annotations = self.annotations()?;
        if self.at_kw(Keyword::State) {
            states.push(self.parser_state(annotations, start)?);
            return Ok(());
        }
        if !states.is_empty() {
            if self.at_kw(Keyword::Const)
                || self.type_starts_at(0)
                || name_of(self.peek()).is_some()
            {
                let span = self.span();
                return Err(self.error(span, "declarations in a parser go before its first state"));
            }
            return Err(self.error_expected("`state`"));
        }
        if self.at_kw(Keyword::ValueSet) {
            let decl = self.value_set(annotations)?;
            locals.push(LocalDecl::ValueSet(decl, start.to(self.prev_span())));
            return Ok(());
        }
        let local = self.local_decl(annotations, start, "parser")?;
        locals.push(local);
        Ok(())
    }

    fn value_set(&mut self, annotations: Vec<Annotation>) -> PResult<ValueSetDecl> {
        self.expect_kw(Keyword::ValueSet)?;
        self.expect(Punct::Lt)?;
        let element = self.ty()?;
        self.expect(Punct::Gt)?;
        self.expect(Punct::LParen)?;
        let size = self.expr()?;
        self.expect(Punct::RParen)?;
        let name = self.name()?;
        self.expect(Punct::Semi)?;
        Ok(ValueSetDecl {
            annotations,
            element,
            size,
            name,
        })
    }

    fn parser_state(&mut self, annotations: Vec<Annotation>, start: Span) -> PResult<ParserState> {
        self.expect_kw(Keyword::State)?;
        let name = self.name()?;
        self.expect(Punct::LBrace)?;
        let mut stmts = Vec::new();
        while !self.at(Punct::RBrace) && !self.at_kw(Keyword::Transition) && !self.at_eof() {
            match self.stmt() {
                Ok(stmt) => {
                    // A statement a state cannot hold is reported and left out; the state goes on.
                    if self.check_parser_stmt(&stmt).is_ok() {
                        stmts.push(stmt);
                    }
                }
                Err(Reported) => {
                    if self.too_deep {
                        return Err(Reported);
                    }
                    self.recover_item();
                }
            }
        }
        let transition = if self.at_kw(Keyword::Transition) {
            self.state_transition()
        } else {
            None
        };
        if self.too_deep {
            return Err(Reported);
        }
        self.expect(Punct::RBrace)?;
        Ok(ParserState {
            annotations,
            name,
            stmts,
            transition,
            span: start.to(self.prev_span()),
        })
    }

    /// Parser states allow only some statements: no `return`, `exit`, `switch` or loops.
    fn check_parser_stmt(&mut self, stmt: &Stmt) -> PResult<()> {
        let what = match &stmt.kind {
            StmtKind::Assign { .. }
            | StmtKind::Call(_)
            | StmtKind::DirectApply { .. }
            | StmtKind::Empty
            | StmtKind::Var(_)
            | StmtKind::Const(_) => return Ok(()),
            StmtKind::Block(block) => {
                for inner in &block.stmts {
                    self.check_parser_stmt(inner)?;
                }
                return Ok(());
            }
            StmtKind::If {
                then, otherwise, ..
            } => {
                self.check_parser_stmt(then)?;
                if let Some(otherwise) = otherwise {
                    self.check_parser_stmt(otherwise)?;
                }
                return Ok(());
            }
            StmtKind::Return(_) => "return",
            StmtKind::Exit => "exit",
            StmtKind::Break => "break",
            StmtKind::Continue => "continue",
            StmtKind::Switch { .. } => "switch",
            StmtKind::For(_) => "for",
        };
        // Point at the keyword, which the statement starts with, not at all of it.
        let keyword = Span::new(
            stmt.span.file,
            stmt.span.lo,
            (stmt.span.lo + what.len() as u32).min(stmt.span.hi),
        );
        Err(self.error(
            keyword,
            format!("`{what}` is not allowed in a parser state"),
        ))
    }

    /// `transition ...` and the end of the state after it. An error in the transition is
    /// reported and skipped, as is anything between the transition and the state's `}`, so
    /// that the state still ends where its `}` is.
    fn state_transition(&mut self) -> Option<Transition> {
        self.bump();
        let transition = match self.transition() {
            Ok(transition) => Some(transition),
            Err(Reported) => {
                if self.too_deep {
                    return None;
                }
                self.recover_item();
                None
            }
        };
        if !self.at(Punct::RBrace) && !self.at_eof() {
            let span = self.span();
            self.error(
                span,
                "a `transition` must be the last statement of its state",
            );
            while !self.at(Punct::RBrace) && !self.at_eof() {
                self.recover_item();
            }
        }
        transition
    }

    fn transition(&mut self) -> PResult<Transition> {
        if !self.at_kw(Keyword::Select) {
            if self.peek_name().is_none() {
                return Err(self.error_expected(
                    "the name of the next state, or `select`, after `transition`",
                ));
            }
            let state = self.name()?;
            self.expect(Punct::Semi)?;
            return Ok(Transition::Direct(state));
        }
        let start = self.bump().span;
        self.expect(Punct::LParen)?;
        let mut exprs = Vec::new();
        if !self.at(Punct::RParen) {
            loop {
                exprs.push(self.expr()?);
                if !self.eat(Punct::Comma) {
                    break;
                }
            }
        }
        self.expect(Punct::RParen)?;
        self.expect(Punct::LBrace)?;
        let cases = self.items_until_brace(|p| {
            let case_start = p.span();
            let keyset = p.keyset()?;
            p.expect(Punct::Colon)?;
            let state = p.name()?;
            p.expect(Punct::Semi)?;
            Ok(SelectCase {
                keyset,
                state,
                span: case_start.to(p.prev_span()),
            })
        })?;
        self.expect(Punct::RBrace)?;
        // A `select` ends the state; a `;` after its `}` is an empty statement nobody needs.
        Ok(Transition::Select {
            exprs,
            cases,
            span: start.to(self.prev_span()),
        })
    }

    fn control_decl(&mut self, annotations: Vec<Annotation>) -> PResult<DeclKind> {
        self.expect_kw(Keyword::Control)?;
        let signature = self.signature(annotations)?;
        if self.eat(Punct::Semi) {
            return Ok(DeclKind::ControlType(signature));
        }
        self.no_type_params(&signature, "control");
        let ctor_params = self.ctor_params()?;
        let open = self.expect(Punct::LBrace)?;
        let mut locals = Vec::new();
        loop {
            if self.at_kw(Keyword::Apply)
                && (self.nth(1).is(Punct::LBrace) || self.nth(1).is(Punct::At))
            {
                break;
            }
            if self.at_eof() && self.end_of_input_explained() {
                return Err(Reported);
            }
            if self.at(Punct::RBrace) || self.at_eof() {
                let span = self.span();
                return Err(self.report(
                    p4tc_ir::Diagnostic::error(
                        span,
                        format!("control `{}` has no `apply` block", signature.name.name),
                    )
                    .with_secondary(open, "the control starts here"),
                ));
            }
            let start = self.span();
            let local = self
                .annotations()
                .and_then(|annotations| self.control_local(annotations, start));
            match local {
                Ok(local) => locals.push(local),
                Err(Reported) => {
                    if self.too_deep {
                        return Err(Reported);
                    }
                    self.recover_item();
                }
            }
        }
        self.expect_kw(Keyword::Apply)?;
        let apply_annotations = self.annotations()?;
        let apply = self.block(apply_annotations)?;
        self.expect(Punct::RBrace)?;
        Ok(DeclKind::Control(ControlDecl {
            signature,
            ctor_params,
            locals,
            apply,
        }))
    }

    fn control_local(&mut self, annotations: Vec<Annotation>, start: Span) -> PResult<LocalDecl> {
        if self.at_kw(Keyword::Action) {
            let action = self.action(annotations)?;
            return Ok(LocalDecl::Action(action, start.to(self.prev_span())));
        }
        if self.at_kw(Keyword::Table) {
            let table = self.table(annotations)?;
            return Ok(LocalDecl::Table(table, start.to(self.prev_span())));
        }
        self.local_decl(annotations, start, "control")
    }

    /// A constant, variable or instantiation inside a parser or control.
    fn local_decl(
        &mut self,
        annotations: Vec<Annotation>,
        start: Span,
        inside: &str,
    ) -> PResult<LocalDecl> {
        if self.at_kw(Keyword::Const) {
            let decl = self.const_decl(annotations)?;
            return Ok(LocalDecl::Const(decl, start.to(self.prev_span())));
        }
        match self.peek().kind {
            TokenKind::Keyword(Keyword::Table) => {
                return Err(self.error(self.span(), "a table can only be declared in a control"))
            }
            TokenKind::Keyword(Keyword::Action) => {
                return Err(self.error(self.span(), "an action cannot be declared in a parser"))
            }
            TokenKind::Keyword(Keyword::ValueSet) => {
                return Err(self.error(
                    self.span(),
                    "a `value_set` can only be declared in a parser",
                ))
            }
            TokenKind::Keyword(Keyword::Apply) if inside == "parser" => {
                return Err(self.error(self.span(), "a parser has states, not an `apply` block"))
            }
            _ => {}
        }
        if !self.type_starts_at(0) && name_of(self.peek()).is_none() {
            return Err(self.error_expected(&format!("a declaration in this {inside}")));
        }
        let ty = self.ty()?;
        if self.at(Punct::LParen) {
            let inst = self.instantiation_rest(annotations, ty)?;
            return Ok(LocalDecl::Instantiation(inst, start.to(self.prev_span())));
        }
        let name = self.name()?;
        let init = if self.eat(Punct::Assign) {
            Some(self.expr()?)
        } else {
            None
        };
        self.expect(Punct::Semi)?;
        let var = crate::ast::VarDecl {
            annotations,
            ty,
            name,
            init,
        };
        Ok(LocalDecl::Var(var, start.to(self.prev_span())))
    }

    fn table(&mut self, annotations: Vec<Annotation>) -> PResult<TableDecl> {
        self.expect_kw(Keyword::Table)?;
        let name = self.name()?;
        self.expect(Punct::LBrace)?;
        let properties = self.items_until_brace(|p| p.table_property())?;
        self.expect(Punct::RBrace)?;
        if properties.is_empty() {
            // Reported, but the table is whole: the control around it parses on.
            self.error(
                name.span,
                format!("table `{}` has no properties", name.name),
            );
        }
        Ok(TableDecl {
            annotations,
            name,
            properties,
        })
    }

    fn table_property(&mut self) -> PResult<TableProperty> {
        let start = self.span();
        let annotations = self.annotations()?;
        let is_const = self.eat_kw(Keyword::Const);
        let kind = if self.at_kw(Keyword::Key) && self.nth(1).is(Punct::Assign) {
            self.reject_annotations(&annotations, "the `key` property")?;
            self.no_const(is_const, start, "key")?;
            self.bump();
            self.bump();
            TablePropertyKind::Key(self.key_elements()?)
        } else if self.at_kw(Keyword::Actions) && self.nth(1).is(Punct::Assign) {
            self.reject_annotations(&annotations, "the `actions` property")?;
            self.no_const(is_const, start, "actions")?;
            self.bump();
            self.bump();
            TablePropertyKind::Actions(self.action_list()?)
        } else if self.at_kw(Keyword::Entries) && self.nth(1).is(Punct::Assign) {
            self.bump();
            self.bump();
            TablePropertyKind::Entries {
                annotations,
                is_const,
                entries: self.entries()?,
            }
        } else {
            let name = self.name()?;
            self.expect(Punct::Assign)?;
            let value = self.expr()?;
            self.expect(Punct::Semi)?;
            TablePropertyKind::Other {
                annotations,
                is_const,
                name,
                value,
            }
        };
        Ok(TableProperty {
            kind,
            span: start.to(self.prev_span()),
        })
    }

    fn no_const(&mut self, is_const: bool, span: Span, property: &str) -> PResult<()> {
        if is_const {
            return Err(self.error(span, format!("the `{property}` property cannot be `const`")));
        }
        Ok(())
    }

    fn key_elements(&mut self) -> PResult<Vec<KeyElement>> {
        self.expect(Punct::LBrace)?;
        let elements = self.items_until_brace(|p| {
            let start = p.span();
            let expr = p.expr()?;
            p.expect(Punct::Colon)?;
            let match_kind = p.name()?;
            let annotations = p.annotations()?;
            p.expect(Punct::Semi)?;
            Ok(KeyElement {
                expr,
                match_kind,
                annotations,
                span: start.to(p.prev_span()),
            })
        })?;
        self.expect(Punct::RBrace)?;
        Ok(elements)
    }

    fn action_list(&mut self) -> PResult<Vec<ActionRef>> {
        self.expect(Punct::LBrace)?;
        let actions = self.items_until_brace(|p| {
            let annotations = p.annotations()?;
            let action = p.action_ref(annotations)?;
            p.expect(Punct::Semi)?;
            Ok(action)
        })?;
        self.expect(Punct::RBrace)?;
        Ok(actions)
    }

    fn action_ref(&mut self, annotations: Vec<Annotation>) -> PResult<ActionRef> {
        let start = annotations
            .first()
            .map(|a| a.span)
            .unwrap_or_else(|| self.span());
        let name = self.path()?;
        let args = if self.at(Punct::LParen) {
            Some(self.args()?)
        } else {
            None
        };
        Ok(ActionRef {
            annotations,
            name,
            args,
            span: start.to(self.prev_span()),
        })
    }

    fn entries(&mut self) -> PResult<Vec<Entry>> {
        self.expect(Punct::LBrace)?;
        let entries = self.items_until_brace(|p| p.entry())?;
        self.expect(Punct::RBrace)?;
        Ok(entries)
    }

    fn entry(&mut self) -> PResult<Entry> {
        let start = self.span();
        let is_const = self.eat_kw(Keyword::Const);
        let priority = if self.at_kw(Keyword::Priority) && self.nth(1).is(Punct::Assign) {
            self.bump();
            self.bump();
            let priority = if self.at(Punct::LParen) {
                self.bump();
                let e = self.expr()?;
                self.expect(Punct::RParen)?;
                e
            } else if let TokenKind::Int(lit) = &self.peek().kind {
                let kind = crate::ast::ExprKind::Int((**lit).clone());
                crate::ast::Expr {
                    kind,
                    span: self.bump().span,
                }
            } else {
                return Err(self.error_expected(
                    "an integer or a parenthesised expression after `priority =`",
                ));
            };
            self.expect(Punct::Colon)?;
            Some(priority)
        } else {
            None
        };
        let keyset = self.keyset()?;
        self.expect(Punct::Colon)?;
        let action = self.action_ref(Vec::new())?;
        let annotations = self.annotations()?;
        self.expect(Punct::Semi)?;
        Ok(Entry {
            is_const,
            priority,
            keyset,
            action,
            annotations,
            span: start.to(self.prev_span()),
        })
    }

    /// `header`, `header_union`, `struct` or `enum`.
    fn derived_type(&mut self, annotations: Vec<Annotation>) -> PResult<DeclKind> {
        let keyword = self.bump();
        if keyword.is_keyword(Keyword::Enum) {
            return Ok(DeclKind::Enum(self.enum_rest(annotations)?));
        }
        let name = self.name()?;
        self.declare_type(&name);
        let type_params = self.opt_type_params()?;
        let fields = self.with_type_params(&type_params, |p| p.struct_fields())?;
        let decl = StructDecl {
            annotations,
            name,
            type_params,
            fields,
        };
        Ok(match keyword.kind {
            TokenKind::Keyword(Keyword::Header) => DeclKind::Header(decl),
            TokenKind::Keyword(Keyword::HeaderUnion) => DeclKind::HeaderUnion(decl),
            _ => DeclKind::Struct(decl),
        })
    }

    fn struct_fields(&mut self) -> PResult<Vec<StructField>> {
        self.expect(Punct::LBrace)?;
        let fields = self.items_until_brace(|p| {
            let start = p.span();
            let annotations = p.annotations()?;
            let ty = p.ty()?;
            let name = p.name()?;
            p.expect(Punct::Semi)?;
            Ok(StructField {
                annotations,
                ty,
                name,
                span: start.to(p.prev_span()),
            })
        })?;
        self.expect(Punct::RBrace)?;
        Ok(fields)
    }

    /// After `enum`: `Name { A, B }` or `bit<8> Name { A = 1, B = 2 }`.
    fn enum_rest(&mut self, annotations: Vec<Annotation>) -> PResult<EnumDecl> {
        let serializable = !(name_of(self.peek()).is_some() && self.nth(1).is(Punct::LBrace));
        let underlying = if serializable { Some(self.ty()?) } else { None };
        let name = self.name()?;
        self.declare_type(&name);
        self.expect(Punct::LBrace)?;
        let mut members = Vec::new();
        while !self.at(Punct::RBrace) {
            let member = self.name()?;
            let value = if serializable {
                self.expect(Punct::Assign)?;
                Some(self.expr()?)
            } else {
                None
            };
            members.push(EnumMember {
                name: member,
                value,
            });
            if !self.eat(Punct::Comma) {
                if !self.at(Punct::RBrace) {
                    return Err(self.error_expected("`,` or `}`"));
                }
                break;
            }
        }
        self.expect(Punct::RBrace)?;
        Ok(EnumDecl {
            annotations,
            underlying,
            name,
            members,
        })
    }

    fn typedef(&mut self, annotations: Vec<Annotation>) -> PResult<DeclKind> {
        let is_new_type = self.bump().is_keyword(Keyword::Type);
        let derived = matches!(
            self.peek().kind,
            TokenKind::Keyword(
                Keyword::Header | Keyword::HeaderUnion | Keyword::Struct | Keyword::Enum
            )
        ) || (self.at(Punct::At) && !is_new_type);
        let target = if derived && !is_new_type {
            let start = self.span();
            let inner_annotations = self.annotations()?;
            let kind = self.derived_type(inner_annotations)?;
            TypedefTarget::Declaration(Box::new(Declaration {
                kind,
                span: start.to(self.prev_span()),
            }))
        } else {
            TypedefTarget::Type(self.ty()?)
        };
        let name = self.name()?;
        self.declare_type(&name);
        self.expect(Punct::Semi)?;
        Ok(DeclKind::Typedef(TypedefDecl {
            annotations,
            is_new_type,
            target,
            name,
        }))
    }
}
