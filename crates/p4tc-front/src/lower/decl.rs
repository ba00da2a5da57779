//! Declarations: types, constants, externs, actions, functions, parsers, controls, tables,
//! instances and the package that makes the program a pipeline.

use std::collections::HashMap;

use num_bigint::BigInt;
use num_traits::ToPrimitive;
use p4tc_ir::arena::Handle;
use p4tc_ir::ir::{
    self, ActionArg, ActionCall, ActionScope, Annotation, AnnotationArg, BlockKind, BlockType,
    CompositeKind, EnumDef, ExternDef, InstanceArg, KeysetValue, LocalKind, PropertyValue, Role,
    TableAction, TableEntry, TableKey, Transition, Type, Value,
};
use p4tc_ir::{Diagnostic, Span};

use super::{Lowerer, Symbol};
use crate::ast;
use crate::token::TokenKind;

impl<'a> Lowerer<'a, '_> {
    /// One top-level declaration.
    pub(super) fn declaration(&mut self, decl: &'a ast::Declaration) {
        // A type that failed to check is still a name: poison it so uses do not cascade.
        let declared_type = match &decl.kind {
            ast::DeclKind::Header(s) | ast::DeclKind::HeaderUnion(s) | ast::DeclKind::Struct(s) => {
                Some(&s.name)
            }
            ast::DeclKind::Enum(e) => Some(&e.name),
            ast::DeclKind::Typedef(t) => Some(&t.name),
            ast::DeclKind::Const(c) => Some(&c.name),
            _ => None,
        };
        self.declaration_kind(decl);
        if let Some(name) = declared_type {
            if !self.globals.contains_key(&name.name) {
                self.poison(name);
            }
        }
    }

    fn declaration_kind(&mut self, decl: &'a ast::Declaration) {
        match &decl.kind {
            ast::DeclKind::Const(c) => self.const_decl(c),
            ast::DeclKind::ExternObject(e) => {
                let annotations = self.annotations(&e.annotations);
                let def = self.module.externs.insert(ExternDef {
                    name: e.name.name.clone(),
                    type_params: e.type_params.iter().map(|p| p.name.clone()).collect(),
                    annotations,
                });
                self.declare(&e.name, Symbol::Extern(def, e));
            }
            ast::DeclKind::ExternFunction { prototype, .. } => {
                self.declare(&prototype.name, Symbol::ExternFunction(vec![prototype]));
            }
            ast::DeclKind::Action(action) => match self.action(action, None) {
                Some(handle) => self.declare(&action.name, Symbol::Action(handle)),
                None => self.poison(&action.name),
            },
            ast::DeclKind::Parser(parser) => self.parser(parser),
            ast::DeclKind::Control(control) => self.control(control),
            ast::DeclKind::Instantiation(inst) => self.top_level_instance(inst, decl.span),
            ast::DeclKind::Error(members) => {
                for m in members {
                    if self.module.errors.contains(&m.name) {
                        self.error(m.span, format!("`error.{}` is already declared", m.name));
                    } else {
                        self.module.errors.push(m.name.clone());
                    }
                }
            }
            ast::DeclKind::MatchKind(members) => {
                let ty = self.intern(Type::MatchKind);
                for m in members {
                    let index = self.module.match_kinds.len() as u32;
                    self.module.match_kinds.push(m.name.clone());
                    self.declare(m, Symbol::Const(ty, Value::MatchKind(index)));
                }
            }
            ast::DeclKind::Function(function) => self.function(function),
            ast::DeclKind::Header(s) => self.struct_decl(s, CompositeKind::Header),
            ast::DeclKind::HeaderUnion(s) => self.struct_decl(s, CompositeKind::HeaderUnion),
            ast::DeclKind::Struct(s) => self.struct_decl(s, CompositeKind::Struct),
            ast::DeclKind::Enum(e) => self.enum_decl(e),
            ast::DeclKind::Typedef(t) => self.typedef(t),
            ast::DeclKind::ParserType(sig) => {
                self.declare(&sig.name, Symbol::BlockSignature(BlockKind::Parser))
            }
            ast::DeclKind::ControlType(sig) => {
                self.declare(&sig.name, Symbol::BlockSignature(BlockKind::Control))
            }
            ast::DeclKind::Package(sig) => self.declare(&sig.name, Symbol::Package(sig)),
            ast::DeclKind::Empty => {}
        }
    }

    fn struct_decl(&mut self, s: &'a ast::StructDecl, kind: CompositeKind) {
        if !s.type_params.is_empty() {
            self.declare(&s.name, Symbol::GenericStruct(s, kind));
            return;
        }
        let Some(fields) = self.fields(&s.fields) else {
            return;
        };
        if kind == CompositeKind::HeaderUnion {
            for (field, ast_field) in fields.iter().zip(&s.fields) {
                if !self.is_header(field.ty) {
                    self.error(
                        ast_field.ty.span,
                        format!(
                            "every member of a header union must be a header; `{}` is not",
                            field.name
                        ),
                    );
                    return;
                }
            }
        }
        if kind == CompositeKind::Header {
            for (field, ast_field) in fields.iter().zip(&s.fields) {
                let ok = self.bit_width(field.ty).is_some()
                    || matches!(self.module.types[field.ty], Type::Varbit { .. })
                    || matches!(self.module.types[field.ty], Type::Stack { element, .. } if self.bit_width(element).is_some());
                if !ok {
                    let name = self.type_name(field.ty);
                    self.error(
                        ast_field.ty.span,
                        format!("a header field must be `bit<W>`, `int<W>`, `varbit<W>`, a serializable enum or an array of those, not `{name}`"),
                    );
                    return;
                }
            }
        }
        let composite = self.module.composites.insert(ir::Composite {
            kind,
            name: s.name.name.clone(),
            fields,
        });
        let ty = self.intern(Type::Composite(composite));
        self.declare(&s.name, Symbol::Type(ty));
    }

    fn enum_decl(&mut self, e: &'a ast::EnumDecl) {
        let underlying = match &e.underlying {
            Some(ty) => {
                let Some(ty) = self.resolve_type(ty) else {
                    return;
                };
                if !self.is_bits(ty) && self.bit_width(ty).is_none() {
                    let name = self.type_name(ty);
                    self.error(
                        e.name.span,
                        format!(
                            "a serializable enum needs a `bit<W>` or `int<W>` type, not `{name}`"
                        ),
                    );
                    return;
                }
                Some(ty)
            }
            None => None,
        };
        let mut members = Vec::new();
        for m in &e.members {
            if members
                .iter()
                .any(|(name, _): &(String, Option<BigInt>)| *name == m.name.name)
            {
                self.error(
                    m.name.span,
                    format!("enum member `{}` is declared twice", m.name.name),
                );
                continue;
            }
            let value = match (&m.value, underlying) {
                (Some(v), Some(ty)) => match self.const_of_type(v, ty) {
                    Some(Value::Int(v)) => Some(v),
                    _ => continue,
                },
                _ => None,
            };
            members.push((m.name.name.clone(), value));
        }
        let def = self.module.enums.insert(EnumDef {
            name: e.name.name.clone(),
            underlying,
            members,
        });
        let ty = self.intern(Type::Enum(def));
        self.declare(&e.name, Symbol::Type(ty));
    }

    fn typedef(&mut self, t: &'a ast::TypedefDecl) {
        let target = match &t.target {
            ast::TypedefTarget::Type(ty) => self.resolve_type(ty),
            ast::TypedefTarget::Declaration(decl) => {
                self.declaration(decl);
                let name = match &decl.kind {
                    ast::DeclKind::Header(s)
                    | ast::DeclKind::HeaderUnion(s)
                    | ast::DeclKind::Struct(s) => &s.name.name,
                    ast::DeclKind::Enum(e) => &e.name.name,
                    _ => return,
                };
                match self.lookup(name, false) {
                    Some(Symbol::Type(ty)) => Some(*ty),
                    _ => None,
                }
            }
        };
        let Some(target) = target else { return };
        let ty = if t.is_new_type {
            self.intern(Type::NewType {
                name: t.name.name.clone(),
                underlying: target,
            })
        } else {
            target
        };
        self.declare(&t.name, Symbol::Type(ty));
    }

    /// Annotations as the IR keeps them: each argument evaluated where it is a literal.
    pub(super) fn annotations(&mut self, annotations: &'a [ast::Annotation]) -> Vec<Annotation> {
        annotations
            .iter()
            .map(|a| {
                let args = match &a.body {
                    ast::AnnotationBody::None => Vec::new(),
                    ast::AnnotationBody::Unstructured(tokens) => tokens
                        .split(|t| matches!(t.kind, TokenKind::Punct(crate::token::Punct::Comma)))
                        .filter(|group| !group.is_empty())
                        .map(|group| match group {
                            [one] => token_arg(&one.kind),
                            many => AnnotationArg::Name(
                                many.iter()
                                    .map(|t| crate::printer::token_text(&t.kind))
                                    .collect::<Vec<_>>()
                                    .join(" "),
                            ),
                        })
                        .collect(),
                    ast::AnnotationBody::Expressions(exprs) => exprs.iter().map(expr_arg).collect(),
                    ast::AnnotationBody::KeyValues(pairs) => pairs
                        .iter()
                        .map(|kv| {
                            AnnotationArg::KeyValue(
                                kv.key.name.clone(),
                                Box::new(expr_arg(&kv.value)),
                            )
                        })
                        .collect(),
                };
                Annotation {
                    name: a.name.name.clone(),
                    args,
                }
            })
            .collect()
    }

    fn function(&mut self, function: &'a ast::FunctionDecl) {
        let proto = &function.prototype;
        if !proto.type_params.is_empty() {
            self.declare(&proto.name, Symbol::GenericFunction(function));
            return;
        }
        if let Some(handle) = self.function_body(function, proto.name.name.clone()) {
            self.declare(&proto.name, Symbol::Function(handle, proto));
        }
    }

    /// Lowers a function's body (with whatever type variables are bound) into a new function.
    pub(super) fn function_body(
        &mut self,
        function: &'a ast::FunctionDecl,
        name: String,
    ) -> Option<Handle<ir::Function>> {
        let proto = &function.prototype;
        let return_type = self.resolve_type(&proto.return_type)?;
        let saved = self.begin_body();
        let params = self.scoped(|this| {
            let params = this.params(&proto.params)?;
            let saved_return = this.return_type.replace(return_type);
            let block = this.block(&function.body);
            this.return_type = saved_return;
            this.body.block = block;
            Some(params)
        });
        let body = self.end_body(saved);
        let params = params?;
        Some(self.module.functions.append(
            ir::Function {
                name,
                return_type,
                body,
                params: params.len(),
            },
            proto.name.span,
        ))
    }

    /// Parameters as locals of the current body, in order.
    fn params(&mut self, params: &'a [ast::Param]) -> Option<Vec<Handle<ir::Local>>> {
        let mut out = Vec::new();
        let mut ok = true;
        for p in params {
            let Some(ty) = self.resolve_type(&p.ty) else {
                ok = false;
                continue;
            };
            let kind = match p.direction {
                ast::Direction::In => LocalKind::In,
                ast::Direction::Out => LocalKind::Out,
                ast::Direction::InOut => LocalKind::InOut,
                ast::Direction::None => LocalKind::Directionless,
            };
            let local = self.add_local(&p.name, ty, kind);
            self.body.locals[local].annotations = self.annotations(&p.annotations);
            out.push(local);
        }
        ok.then_some(out)
    }

    /// An action; `control` is the control it is declared in.
    fn action(
        &mut self,
        action: &'a ast::ActionDecl,
        control: Option<Handle<BlockType>>,
    ) -> Option<Handle<ir::Action>> {
        let annotations = self.annotations(&action.annotations);
        let saved = if control.is_none() {
            Some(self.begin_body())
        } else {
            None
        };
        let saved_action = std::mem::replace(&mut self.in_action, true);
        let result = self.scoped(|this| {
            let params = this.params(&action.params)?;
            // Directionless parameters (action data) must come after the directed ones.
            let mut seen_directionless = false;
            for (p, ast_p) in params.iter().zip(&action.params) {
                let directionless = this.body.locals[*p].kind == LocalKind::Directionless;
                if seen_directionless && !directionless {
                    this.error(ast_p.span, "parameters with a direction must come before directionless ones (action data)");
                    return None;
                }
                seen_directionless |= directionless;
            }
            let block = this.block(&action.body);
            Some((params, block))
        });
        self.in_action = saved_action;
        let body = match saved {
            Some(saved) => self.end_body(saved),
            None => ir::Body::default(),
        };
        let (params, block) = result?;
        let mut body = body;
        body.block = block;
        Some(self.module.actions.append(
            ir::Action {
                name: action.name.name.clone(),
                control,
                body,
                params,
                annotations,
            },
            action.name.span,
        ))
    }

    /// A parser or control: creates its block type, lowers its parameters and locals, then
    /// runs `inner` for the states or the apply block.
    fn block_decl(
        &mut self,
        signature: &'a ast::TypeSignature,
        ctor_params: &'a Option<Vec<ast::Param>>,
        kind: BlockKind,
        inner: impl FnOnce(&mut Self, Handle<BlockType>),
    ) {
        let annotations = self.annotations(&signature.annotations);
        let handle = self.module.block_types.append(
            BlockType {
                name: signature.name.name.clone(),
                kind,
                apply_params: 0,
                ctor_params: 0,
                body: ir::Body::default(),
                states: Vec::new(),
                annotations,
            },
            signature.name.span,
        );
        self.declare(&signature.name, Symbol::Block(handle));
        if let Some(params) = ctor_params {
            self.block_ctor_params.insert(handle, params);
        }
        let saved = self.begin_body();
        let saved_block = self.block.replace(handle);
        self.scoped(|this| {
            let apply = this.params(&signature.params).map(|p| p.len()).unwrap_or(0);
            let ctor = match ctor_params {
                Some(params) => this.params(params).map(|p| p.len()).unwrap_or(0),
                None => 0,
            };
            this.module.block_types[handle].apply_params = apply;
            this.module.block_types[handle].ctor_params = ctor;
            inner(this, handle);
        });
        self.block = saved_block;
        // The body built in scope holds the block's statements (declarations, then a control's
        // apply block); nothing else writes the block type's own body while it is lowered.
        let body = self.end_body(saved);
        self.module.block_types[handle].body = body;
    }

    fn control(&mut self, control: &'a ast::ControlDecl) {
        self.block_decl(
            &control.signature,
            &control.ctor_params,
            BlockKind::Control,
            |this, handle| {
                for local in &control.locals {
                    this.local(local, handle);
                }
                // Control-level declarations with initialisers are already in the block;
                // they run before the apply statements, on every apply.
                let apply = this.block(&control.apply);
                this.body.block.stmts.extend(apply.stmts);
            },
        );
    }

    fn parser(&mut self, parser: &'a ast::ParserDecl) {
        self.block_decl(
            &parser.signature,
            &parser.ctor_params,
            BlockKind::Parser,
            |this, handle| {
                for local in &parser.locals {
                    this.local(local, handle);
                }
                // State names first: transitions may go forward.
                let mut names: Vec<&'a ast::Ident> = Vec::new();
                for state in &parser.states {
                    if matches!(state.name.name.as_str(), "accept" | "reject") {
                        this.error(
                            state.name.span,
                            format!(
                                "`{}` is a built-in state and cannot be declared",
                                state.name.name
                            ),
                        );
                        continue;
                    }
                    if let Some(previous) = names.iter().find(|n| n.name == state.name.name) {
                        let previous = previous.span;
                        this.report(
                            Diagnostic::error(
                                state.name.span,
                                format!("state `{}` is declared twice", state.name.name),
                            )
                            .with_secondary(previous, "first declared here"),
                        );
                        continue;
                    }
                    names.push(&state.name);
                }
                match names.iter().position(|n| n.name == "start") {
                    Some(0) => {}
                    Some(i) => {
                        // The IR keeps the start state first.
                        let start = names.remove(i);
                        names.insert(0, start);
                    }
                    None => {
                        let sig = &parser.signature.name;
                        this.error(
                            sig.span,
                            format!("parser `{}` has no `start` state", sig.name),
                        );
                        return;
                    }
                }
                let mut states = Vec::new();
                for name in &names {
                    let state = parser
                        .states
                        .iter()
                        .find(|s| s.name.name == name.name)
                        .expect("named above");
                    // The transition sees the state's variables.
                    let (block, transition) = this.scoped(|t| {
                        let block = t.stmts(&state.stmts);
                        let transition = match &state.transition {
                            None => Transition::Reject,
                            Some(tr) => t.transition(tr, &names).unwrap_or(Transition::Reject),
                        };
                        (block, transition)
                    });
                    states.push(ir::ParserState {
                        name: name.name.clone(),
                        block,
                        transition,
                    });
                }
                this.module.block_types[handle].states = states;
            },
        );
    }

    fn state_target(
        &mut self,
        name: &'a ast::Ident,
        names: &[&'a ast::Ident],
    ) -> Option<Transition> {
        match name.name.as_str() {
            "accept" => Some(Transition::Accept),
            "reject" => Some(Transition::Reject),
            _ => match names.iter().position(|n| n.name == name.name) {
                Some(i) => Some(Transition::State(i as u32)),
                None => {
                    self.error(name.span, format!("unknown state `{}`", name.name));
                    None
                }
            },
        }
    }

    fn transition(
        &mut self,
        t: &'a ast::Transition,
        names: &[&'a ast::Ident],
    ) -> Option<Transition> {
        match t {
            ast::Transition::Direct(name) => self.state_target(name, names),
            ast::Transition::Select { exprs, cases, .. } => {
                let mut keys = Vec::new();
                for e in exprs {
                    keys.push(self.infer(e, None)?);
                }
                let key_types: Vec<_> = keys.iter().map(|k| self.ty_of(*k)).collect();
                let mut ir_cases = Vec::new();
                for case in cases {
                    let Some(keysets) = self.keysets(&case.keyset, &key_types) else {
                        continue;
                    };
                    let Some(target) = self.state_target(&case.state, names) else {
                        continue;
                    };
                    ir_cases.push(ir::SelectCase {
                        keysets,
                        target: Box::new(target),
                    });
                }
                Some(Transition::Select {
                    keys,
                    cases: ir_cases,
                })
            }
        }
    }

    /// A keyset for keys of the given types: one per key (a tuple for several keys).
    fn keysets(
        &mut self,
        keyset: &'a ast::Keyset,
        types: &[Handle<Type>],
    ) -> Option<Vec<KeysetValue>> {
        match keyset {
            ast::Keyset::Tuple(items, span) => {
                if items.len() != types.len() {
                    self.error(
                        *span,
                        format!(
                            "there are {} key(s), but this keyset has {} value(s)",
                            types.len(),
                            items.len()
                        ),
                    );
                    return None;
                }
                items
                    .iter()
                    .zip(types)
                    .map(|(k, t)| self.keyset_value(k, *t))
                    .collect()
            }
            ast::Keyset::Default(_) | ast::Keyset::DontCare(_) => {
                Some(vec![KeysetValue::Any; types.len()])
            }
            // A value set of tuples matches all the keys at once; it stands in each position.
            ast::Keyset::Expr(e) if types.len() > 1 && self.value_set(e).is_some() => {
                let set = self.value_set(e)?;
                Some(vec![KeysetValue::ValueSet(set); types.len()])
            }
            single => {
                if types.len() != 1 {
                    let span = keyset_span(single);
                    self.error(
                        span,
                        format!(
                            "there are {} key(s), but this keyset has 1 value: give a tuple `(k1, k2, ...)`",
                            types.len()
                        ),
                    );
                    return None;
                }
                Some(vec![self.keyset_value(single, types[0])?])
            }
        }
    }

    /// The value set an expression names, if it names one.
    fn value_set(&self, e: &'a ast::Expr) -> Option<Handle<ir::Instance>> {
        let ast::ExprKind::Name(path) = &e.kind else {
            return None;
        };
        match self.lookup(&path.name.name, path.top_level) {
            Some(Symbol::Instance(i))
                if matches!(
                    self.module.types[self.module.instances[*i].ty],
                    Type::Set(_)
                ) =>
            {
                Some(*i)
            }
            _ => None,
        }
    }

    fn keyset_value(&mut self, keyset: &'a ast::Keyset, ty: Handle<Type>) -> Option<KeysetValue> {
        match keyset {
            ast::Keyset::Default(_) | ast::Keyset::DontCare(_) => Some(KeysetValue::Any),
            ast::Keyset::Expr(e) => {
                // A value set name matches its members.
                if let ast::ExprKind::Name(path) = &e.kind {
                    if let Some(Symbol::Instance(i)) =
                        self.lookup(&path.name.name, path.top_level).cloned()
                    {
                        if matches!(self.module.types[self.module.instances[i].ty], Type::Set(_)) {
                            return Some(KeysetValue::ValueSet(i));
                        }
                    }
                }
                Some(KeysetValue::Exact(self.const_of_type(e, ty)?))
            }
            ast::Keyset::Mask(v, m) => Some(KeysetValue::Mask(
                self.const_of_type(v, ty)?,
                self.const_of_type(m, ty)?,
            )),
            ast::Keyset::Range(lo, hi) => Some(KeysetValue::Range(
                self.const_of_type(lo, ty)?,
                self.const_of_type(hi, ty)?,
            )),
            ast::Keyset::Tuple(_, span) => {
                self.error(*span, "a tuple keyset cannot be nested");
                None
            }
        }
    }

    /// A declaration inside a parser or control.
    fn local(&mut self, local: &'a ast::LocalDecl, block: Handle<BlockType>) {
        match local {
            ast::LocalDecl::Const(c, _) => self.const_decl(c),
            ast::LocalDecl::Var(v, _) => {
                if let Some(stmt) = self.var_decl(v, LocalKind::Var) {
                    // Block-level variables are initialised when the block starts.
                    self.body.block.stmts.push(stmt);
                }
            }
            ast::LocalDecl::Instantiation(inst, span) => {
                match self.instance(inst, Some(block), *span) {
                    Some(handle) => self.declare(&inst.name, Symbol::Instance(handle)),
                    None => self.poison(&inst.name),
                }
            }
            ast::LocalDecl::ValueSet(vs, span) => {
                let Some(element) = self.resolve_type(&vs.element) else {
                    self.poison(&vs.name);
                    return;
                };
                let Some(size) = self.const_u32(&vs.size, "the size of a value set") else {
                    self.poison(&vs.name);
                    return;
                };
                let ty = self.intern(Type::Set(element));
                let annotations = self.annotations(&vs.annotations);
                let handle = self.module.instances.append(
                    ir::Instance {
                        name: vs.name.name.clone(),
                        ty,
                        owner: Some(block),
                        args: vec![InstanceArg::Value(Value::Int(BigInt::from(size)))],
                        annotations,
                        methods: Vec::new(),
                    },
                    *span,
                );
                self.declare(&vs.name, Symbol::Instance(handle));
            }
            ast::LocalDecl::Action(a, _) => match self.action(a, Some(block)) {
                Some(handle) => self.declare(&a.name, Symbol::Action(handle)),
                None => self.poison(&a.name),
            },
            ast::LocalDecl::Table(t, span) => match self.table(t, block, *span) {
                Some(handle) => self.declare(&t.name, Symbol::Table(handle)),
                None => self.poison(&t.name),
            },
        }
    }

    /// An extern, parser or control instance, with its constructor arguments evaluated.
    fn instance(
        &mut self,
        inst: &'a ast::Instantiation,
        owner: Option<Handle<BlockType>>,
        span: Span,
    ) -> Option<Handle<ir::Instance>> {
        let annotations = self.annotations(&inst.annotations);
        let handle = self.new_instance(
            &inst.ty,
            &inst.args,
            inst.name.name.clone(),
            annotations,
            owner,
            span,
        )?;
        if let Some(members) = &inst.initializer {
            self.initializer(handle, inst, members, owner)?;
        }
        Some(handle)
    }

    /// `T(args) name = { ... };`: the functions implement `T`'s abstract methods (they see
    /// `this`, the block's own instances and top-level names, not the enclosing control's
    /// locals); every abstract method must be implemented.
    fn initializer(
        &mut self,
        instance: Handle<ir::Instance>,
        inst: &'a ast::Instantiation,
        members: &'a [ast::ObjectMember],
        owner: Option<Handle<BlockType>>,
    ) -> Option<()> {
        let ty = self.module.instances[instance].ty;
        let Type::Extern { def, args } = self.module.types[ty].clone() else {
            self.error(
                inst.name.span,
                "only an extern instance can have an initializer block",
            );
            return None;
        };
        let decl = match self.lookup(&self.module.externs[def].name.clone(), true) {
            Some(Symbol::Extern(_, decl)) => *decl,
            _ => return None,
        };
        let vars: HashMap<String, Handle<Type>> = decl
            .type_params
            .iter()
            .map(|p| p.name.clone())
            .zip(args)
            .collect();
        let abstract_methods: Vec<&'a ast::FunctionPrototype> = decl
            .methods
            .iter()
            .filter_map(|m| match &m.kind {
                ast::MethodKind::Method {
                    is_abstract: true,
                    prototype,
                } => Some(prototype),
                _ => None,
            })
            .collect();
        let extern_name = decl.name.name.clone();
        let instance_name = inst.name.name.clone();
        self.type_vars.push(vars);
        let implemented = self.at_top_level(|this| {
            this.scoped(|this| {
                let this_name = ast::Ident {
                    name: "this".into(),
                    span: inst.name.span,
                };
                this.declare(&this_name, Symbol::Instance(instance));
                let mut implemented: Vec<(String, Handle<ir::Function>)> = Vec::new();
                let mut ok = true;
                for member in members {
                    match member {
                        ast::ObjectMember::Instantiation(nested) => {
                            match this.instance(nested, owner, inst.name.span) {
                                Some(h) => this.declare(&nested.name, Symbol::Instance(h)),
                                None => {
                                    ok = false;
                                    this.poison(&nested.name);
                                }
                            }
                        }
                        ast::ObjectMember::Function(f) => {
                            let name = &f.prototype.name;
                            let Some(proto) =
                                abstract_methods.iter().find(|p| p.name.name == name.name)
                            else {
                                this.error(
                                    name.span,
                                    format!(
                                        "`{}` is not an abstract method of `{extern_name}`",
                                        name.name
                                    ),
                                );
                                ok = false;
                                continue;
                            };
                            if proto.params.len() != f.prototype.params.len() {
                                this.error(
                                    name.span,
                                    format!(
                                        "`{}` takes {} parameter(s) in `{extern_name}`, not {}",
                                        name.name,
                                        proto.params.len(),
                                        f.prototype.params.len()
                                    ),
                                );
                                ok = false;
                                continue;
                            }
                            let expected = this.resolve_type(&proto.return_type);
                            match this.function_body(f, format!("{instance_name}.{}", name.name)) {
                                Some(function) => {
                                    let actual = this.module.functions[function].return_type;
                                    if expected.is_some_and(|e| e != actual) {
                                        let (e, a) = (
                                            this.type_name(expected.unwrap_or(actual)),
                                            this.type_name(actual),
                                        );
                                        this.error(
                                            f.prototype.return_type.span,
                                            format!(
                                                "`{}` returns `{e}` in `{extern_name}`, not `{a}`",
                                                name.name
                                            ),
                                        );
                                        ok = false;
                                    }
                                    implemented.push((name.name.clone(), function));
                                }
                                None => ok = false,
                            }
                        }
                    }
                }
                ok.then_some(implemented)
            })
        });
        self.type_vars.pop();
        let implemented = implemented?;
        for proto in &abstract_methods {
            if !implemented.iter().any(|(n, _)| *n == proto.name.name) {
                self.error(
                    inst.name.span,
                    format!("instance `{instance_name}` does not implement abstract method `{}` of `{extern_name}`", proto.name.name),
                );
                return None;
            }
        }
        self.module.instances[instance].methods = implemented;
        Some(())
    }

    /// An instance of `ty` made with `args`: from a declaration, or unnamed in a table
    /// property (`implementation = ActionProfile(64)`).
    fn new_instance(
        &mut self,
        ast_ty: &'a ast::Type,
        ctor_args: &'a [ast::Argument],
        name: String,
        annotations: Vec<Annotation>,
        owner: Option<Handle<BlockType>>,
        span: Span,
    ) -> Option<Handle<ir::Instance>> {
        struct Inst<'x> {
            ty: &'x ast::Type,
            args: &'x [ast::Argument],
        }
        let inst = Inst {
            ty: ast_ty,
            args: ctor_args,
        };
        let ty = self.resolve_type(inst.ty)?;
        let args = match self.module.types[ty].clone() {
            Type::Extern {
                def,
                args: type_args,
            } => {
                let name = self.module.externs[def].name.clone();
                let Some(Symbol::Extern(_, decl)) = self.lookup(&name, true).cloned() else {
                    return None;
                };
                let vars = decl
                    .type_params
                    .iter()
                    .map(|p| p.name.clone())
                    .zip(type_args)
                    .collect();
                let constructors: Vec<&'a [ast::Param]> = decl
                    .methods
                    .iter()
                    .filter_map(|m| match &m.kind {
                        ast::MethodKind::Constructor { params, .. } => Some(params.as_slice()),
                        _ => None,
                    })
                    .collect();
                let Some(params) = constructors.iter().find(|p| {
                    inst.args.len() <= p.len()
                        && inst.args.len() >= p.iter().filter(|q| q.default.is_none()).count()
                }) else {
                    let counts: Vec<String> =
                        constructors.iter().map(|p| p.len().to_string()).collect();
                    self.error(
                        inst.ty.span,
                        format!(
                            "`{name}` is constructed with {} argument(s), found {}",
                            if counts.is_empty() {
                                "0".to_string()
                            } else {
                                counts.join(" or ")
                            },
                            inst.args.len()
                        ),
                    );
                    return None;
                };
                self.type_vars.push(vars);
                let values = self.ctor_args(params, inst.args, &name);
                self.type_vars.pop();
                values?
            }
            Type::Block(block) => {
                // Constructor parameters are the block's own, with their defaults.
                let ast_params: &'a [ast::Param] =
                    self.block_ctor_params.get(&block).copied().unwrap_or(&[]);
                let name = self.module.block_types[block].name.clone();
                self.ctor_args(ast_params, inst.args, &name)?
            }
            _ => {
                let name = self.type_name(ty);
                self.error(inst.ty.span, format!("`{name}` cannot be instantiated"));
                return None;
            }
        };
        Some(self.module.instances.append(
            ir::Instance {
                name,
                ty,
                owner,
                args,
                annotations,
                methods: Vec::new(),
            },
            span,
        ))
    }

    /// Constructor arguments against `params`, positional or named, defaults filled in. An
    /// argument computed from the enclosing block's constructor parameters stays an
    /// expression of that block, evaluated for each of its instances.
    fn ctor_args(
        &mut self,
        params: &'a [ast::Param],
        args: &'a [ast::Argument],
        name: &str,
    ) -> Option<Vec<InstanceArg>> {
        if args.len() > params.len() {
            let span = args[params.len()].value.span;
            self.error(
                span,
                format!(
                    "`{name}` takes {} constructor argument(s), found {}",
                    params.len(),
                    args.len()
                ),
            );
            return None;
        }
        let mut values: Vec<Option<InstanceArg>> = vec![None; params.len()];
        for (i, arg) in args.iter().enumerate() {
            let index = match &arg.name {
                Some(n) => match params.iter().position(|p| p.name.name == n.name) {
                    Some(i) => i,
                    None => {
                        self.error(
                            n.span,
                            format!("`{name}` has no constructor parameter `{}`", n.name),
                        );
                        return None;
                    }
                },
                None => i,
            };
            if values[index].is_some() {
                self.error(
                    arg.value.span,
                    format!(
                        "constructor parameter `{}` is given twice",
                        params[index].name.name
                    ),
                );
                return None;
            }
            let ty = self.resolve_type(&params[index].ty)?;
            values[index] = Some(if self.uses_ctor_param(&arg.value) {
                InstanceArg::Expr(self.check(&arg.value, ty)?)
            } else {
                InstanceArg::Value(self.const_of_type(&arg.value, ty)?)
            });
        }
        let mut out = Vec::new();
        for (value, param) in values.into_iter().zip(params) {
            match value {
                Some(v) => out.push(v),
                None => {
                    let Some(default) = param.default.as_ref() else {
                        self.error(
                            param.name.span,
                            format!(
                                "constructor argument `{}` of `{name}` is missing",
                                param.name.name
                            ),
                        );
                        return None;
                    };
                    let ty = self.resolve_type(&param.ty)?;
                    out.push(InstanceArg::Value(self.const_of_type(default, ty)?));
                }
            }
        }
        Some(out)
    }

    /// A top-level instantiation: the package (`main`) or a global extern instance.
    fn top_level_instance(&mut self, inst: &'a ast::Instantiation, span: Span) {
        let package = match &inst.ty.kind {
            ast::TypeKind::Named(p) | ast::TypeKind::Specialized { base: p, .. } => {
                match self.lookup(&p.name.name, p.top_level) {
                    Some(Symbol::Package(sig)) => Some(*sig),
                    _ => None,
                }
            }
            _ => None,
        };
        let Some(package) = package else {
            match self.instance(inst, None, span) {
                Some(handle) => self.declare(&inst.name, Symbol::Instance(handle)),
                None => self.poison(&inst.name),
            }
            return;
        };
        self.package(package, inst);
    }

    /// `PNA_NIC(MyParser(), MyControl(), MyDeparser()) main;`: binds blocks to roles. `main`
    /// is the pipeline; another package instance is kept by name for a package that takes it.
    fn package(&mut self, package: &'a ast::TypeSignature, inst: &'a ast::Instantiation) {
        let Some(blocks) = self.package_blocks(package, &inst.args, inst.ty.span) else {
            self.poison(&inst.name);
            return;
        };
        // The first package instance stands in for `main` when none is called that.
        if inst.name.name == "main" || self.module.pipeline.is_none() {
            self.module.pipeline = Some(ir::Pipeline {
                package: package.name.name.clone(),
                name: inst.name.name.clone(),
                blocks: blocks.clone(),
            });
        }
        if inst.name.name != "main" {
            self.declare(&inst.name, Symbol::PackageInstance(blocks));
        }
    }

    /// The blocks a package's arguments bind, with their roles; packages given as arguments
    /// contribute theirs.
    fn package_blocks(
        &mut self,
        package: &'a ast::TypeSignature,
        args: &'a [ast::Argument],
        span: Span,
    ) -> Option<Vec<(Role, Handle<BlockType>)>> {
        let required = package
            .params
            .iter()
            .filter(|p| {
                p.default.is_none() && !p.annotations.iter().any(|a| a.name.name == "optional")
            })
            .count();
        if args.len() < required || args.len() > package.params.len() {
            self.error(
                span,
                format!(
                    "package `{}` takes {} argument(s), found {}",
                    package.name.name,
                    package.params.len(),
                    args.len()
                ),
            );
            return None;
        }
        let mut blocks = Vec::new();
        let mut ok = true;
        for (i, arg) in args.iter().enumerate() {
            let param = match &arg.name {
                Some(n) => match package.params.iter().find(|p| p.name.name == n.name) {
                    Some(p) => p,
                    None => {
                        ok = false;
                        self.error(
                            n.span,
                            format!(
                                "package `{}` has no parameter `{}`",
                                package.name.name, n.name
                            ),
                        );
                        continue;
                    }
                },
                None => &package.params[i],
            };
            let block = match &arg.value.kind {
                ast::ExprKind::Construct { ty, args } => {
                    let Some(resolved) = self.resolve_type(ty) else {
                        continue;
                    };
                    match self.module.types[resolved].clone() {
                        Type::Block(b) => {
                            if !args.is_empty() {
                                self.error(arg.value.span, "constructor arguments of pipeline blocks are not supported yet");
                                continue;
                            }
                            Some(b)
                        }
                        _ => None,
                    }
                }
                ast::ExprKind::Name(path) => {
                    match self.lookup(&path.name.name, path.top_level).cloned() {
                        Some(Symbol::Instance(i)) => {
                            match self.module.types[self.module.instances[i].ty] {
                                Type::Block(b) => Some(b),
                                _ => None,
                            }
                        }
                        _ => None,
                    }
                }
                _ => None,
            };
            let Some(block) = block else {
                // A package instance, or a package constructed in place, brings its blocks.
                let nested = match &arg.value.kind {
                    ast::ExprKind::Name(p) => match self.lookup(&p.name.name, p.top_level).cloned()
                    {
                        Some(Symbol::PackageInstance(inner)) => Some(inner),
                        _ => None,
                    },
                    ast::ExprKind::Construct {
                        ty,
                        args: inner_args,
                    } => match &ty.kind {
                        ast::TypeKind::Named(p) | ast::TypeKind::Specialized { base: p, .. } => {
                            match self.lookup(&p.name.name, p.top_level).cloned() {
                                Some(Symbol::Package(sig)) => {
                                    self.package_blocks(sig, inner_args, arg.value.span)
                                }
                                _ => None,
                            }
                        }
                        _ => None,
                    },
                    _ => None,
                };
                if let Some(inner) = nested {
                    blocks.extend(inner);
                    continue;
                }
                ok = false;
                self.error(
                    arg.value.span,
                    format!(
                        "argument `{}` of `{}` must be a parser or control instance, or a package",
                        param.name.name, package.name.name
                    ),
                );
                continue;
            };
            let expected_kind = match &param.ty.kind {
                ast::TypeKind::Named(p) | ast::TypeKind::Specialized { base: p, .. } => {
                    match self.lookup(&p.name.name, p.top_level) {
                        Some(Symbol::BlockSignature(kind)) => Some(*kind),
                        _ => None,
                    }
                }
                _ => None,
            };
            let actual_kind = self.module.block_types[block].kind;
            if expected_kind.is_some_and(|k| k != actual_kind) {
                let what = if actual_kind == BlockKind::Parser {
                    "a parser"
                } else {
                    "a control"
                };
                self.error(
                    arg.value.span,
                    format!(
                        "`{}` is {what}, but `{}` expects {}",
                        self.module.block_types[block].name,
                        param.name.name,
                        if actual_kind == BlockKind::Parser {
                            "a control"
                        } else {
                            "a parser"
                        }
                    ),
                );
                continue;
            }
            let role = role_of(&param.name.name, actual_kind, i, args.len());
            blocks.push((role, block));
        }
        ok.then_some(blocks)
    }

    fn table(
        &mut self,
        t: &'a ast::TableDecl,
        control: Handle<BlockType>,
        span: Span,
    ) -> Option<Handle<ir::Table>> {
        let annotations = self.annotations(&t.annotations);
        let mut table = ir::Table {
            name: t.name.name.clone(),
            control,
            keys: Vec::new(),
            actions: Vec::new(),
            default_action: None,
            default_action_const: false,
            size: None,
            entries: Vec::new(),
            entries_const: false,
            properties: Vec::new(),
            annotations,
        };
        // Keys and actions first: entries and the default action refer to them.
        let mut seen: Vec<&str> = Vec::new();
        for property in &t.properties {
            let name = match &property.kind {
                ast::TablePropertyKind::Key(_) => "key",
                ast::TablePropertyKind::Actions(_) => "actions",
                ast::TablePropertyKind::Entries { .. } => "entries",
                ast::TablePropertyKind::Other { name, .. } => name.name.as_str(),
            };
            if seen.contains(&name) {
                self.error(
                    property.span,
                    format!("table `{}` has two `{name}` properties", t.name.name),
                );
                return None;
            }
            seen.push(name);
        }
        for property in &t.properties {
            match &property.kind {
                ast::TablePropertyKind::Key(elements) => {
                    for element in elements {
                        let Some(e) = self.infer(&element.expr, None) else {
                            continue;
                        };
                        let ty = self.ty_of(e);
                        let matchable = self.bit_width(ty).is_some()
                            || matches!(self.module.types[ty], Type::Error | Type::Enum(_));
                        if !matchable {
                            let name = self.type_name(ty);
                            self.error(element.expr.span, format!("a table key must be a bit string, `bool`, enum or `error`, not `{name}`"));
                            continue;
                        }
                        let Some(match_kind) = self
                            .module
                            .match_kinds
                            .iter()
                            .position(|m| *m == element.match_kind.name)
                        else {
                            self.error(
                                element.match_kind.span,
                                format!("unknown match kind `{}`", element.match_kind.name),
                            );
                            continue;
                        };
                        let key_annotations = self.annotations(&element.annotations);
                        let name = key_annotations
                            .iter()
                            .find(|a| a.name == "name")
                            .and_then(|a| match a.args.first() {
                                Some(AnnotationArg::String(s)) => Some(s.clone()),
                                _ => None,
                            })
                            .unwrap_or_else(|| crate::printer::print_expr(&element.expr));
                        table.keys.push(TableKey {
                            name,
                            expr: e,
                            match_kind: match_kind as u32,
                            annotations: key_annotations,
                        });
                    }
                }
                ast::TablePropertyKind::Actions(actions) => {
                    for action_ref in actions {
                        let Some(action) = self.action_ref_target(&action_ref.name) else {
                            continue;
                        };
                        let mut ref_annotations = self.annotations(&action_ref.annotations);
                        let decl_annotations = self.module.actions[action].annotations.clone();
                        let scope = scope_of(&ref_annotations)
                            .or_else(|| scope_of(&decl_annotations))
                            .unwrap_or(ActionScope::TableAndDefault);
                        if table.actions.iter().any(|a| a.action == action) {
                            self.error(
                                action_ref.span,
                                format!("action `{}` is listed twice", action_ref.name.name.name),
                            );
                            continue;
                        }
                        ref_annotations
                            .retain(|a| a.name != "tableonly" && a.name != "defaultonly");
                        table.actions.push(TableAction {
                            action,
                            scope,
                            bound_args: Vec::new(),
                            annotations: ref_annotations,
                        });
                    }
                }
                _ => {}
            }
        }
        for property in &t.properties {
            match &property.kind {
                ast::TablePropertyKind::Key(_) | ast::TablePropertyKind::Actions(_) => {}
                ast::TablePropertyKind::Entries {
                    is_const, entries, ..
                } => {
                    table.entries_const = *is_const;
                    let key_types: Vec<_> = table.keys.iter().map(|k| self.ty_of(k.expr)).collect();
                    for entry in entries {
                        if *is_const && entry.priority.is_some() {
                            // Allowed by P4-16 1.2.4+: priorities in const entries.
                        }
                        let Some(keys) = self.keysets(&entry.keyset, &key_types) else {
                            continue;
                        };
                        // A keyset must be one its key's match kind can express.
                        let mut fits = true;
                        for (key, keyset) in table.keys.iter().zip(&keys) {
                            let kind = self.module.match_kinds[key.match_kind as usize].clone();
                            let allowed = match keyset {
                                KeysetValue::Mask(..) => {
                                    kind != "exact" && kind != "range" && kind != "optional"
                                }
                                KeysetValue::Range(..) => kind == "range",
                                KeysetValue::Any
                                | KeysetValue::Exact(_)
                                | KeysetValue::ValueSet(_) => true,
                            };
                            if !allowed {
                                let what = match keyset {
                                    KeysetValue::Mask(..) => "a mask (`&&&`)",
                                    _ => "a range (`..`)",
                                };
                                self.error(
                                    keyset_span(&entry.keyset),
                                    format!(
                                        "key `{}` is matched `{kind}`, which cannot take {what}",
                                        key.name
                                    ),
                                );
                                fits = false;
                            }
                        }
                        if !fits {
                            continue;
                        }
                        let Some(action) = self.action_call(
                            &entry.action.name,
                            entry.action.args.as_deref(),
                            entry.action.span,
                            &table,
                            false,
                        ) else {
                            continue;
                        };
                        let priority = match &entry.priority {
                            Some(p) => match self.const_value(p) {
                                Some((_, Value::Int(v))) => v.to_u64(),
                                _ => continue,
                            },
                            None => None,
                        };
                        table.entries.push(TableEntry {
                            keys,
                            action,
                            priority,
                            is_const: *is_const || entry.is_const,
                        });
                    }
                }
                ast::TablePropertyKind::Other {
                    is_const,
                    name,
                    value,
                    ..
                } => match name.name.as_str() {
                    "default_action" => {
                        // `default_action = a(args);` or, without parentheses, `= a;`.
                        let (path, args) = match &value.kind {
                            ast::ExprKind::Call { callee, args, .. } => match &callee.kind {
                                ast::ExprKind::Name(path) => (path, Some(args.as_slice())),
                                _ => {
                                    self.error(value.span, "`default_action` must name an action");
                                    continue;
                                }
                            },
                            ast::ExprKind::Name(path) => (path, None),
                            _ => {
                                self.error(value.span, "`default_action` must name an action");
                                continue;
                            }
                        };
                        table.default_action =
                            self.action_call(path, args, value.span, &table, true);
                        table.default_action_const = *is_const;
                    }
                    "size" => {
                        match self.const_value(value) {
                            Some((_, Value::Int(v))) => match v.to_u64() {
                                Some(n) if n > 0 => table.size = Some(n),
                                _ => self.error(
                                    value.span,
                                    "a table's `size` must be a positive integer",
                                ),
                            },
                            Some((ty, _)) => {
                                let name = self.type_name(ty);
                                self.error(value.span, format!("a table's `size` must be a positive integer, not a `{name}`"));
                            }
                            None => {}
                        }
                    }
                    other => {
                        let property_value = match &value.kind {
                            ast::ExprKind::Construct { ty, args } => {
                                let name = format!("{}.{other}", t.name.name);
                                self.new_instance(ty, args, name, Vec::new(), Some(control), value.span)
                                    .map(PropertyValue::Instance)
                            }
                            ast::ExprKind::Name(path) => match self.lookup(&path.name.name, path.top_level).cloned() {
                                Some(Symbol::Instance(i)) => Some(PropertyValue::Instance(i)),
                                _ => self.const_value(value).map(|(_, v)| PropertyValue::Value(v)),
                            },
                            ast::ExprKind::List(items) if items.iter().all(|i| matches!(&i.kind, ast::ExprKind::Name(p) if matches!(self.lookup(&p.name.name, p.top_level), Some(Symbol::Instance(_))))) && !items.is_empty() => {
                                let instances = items
                                    .iter()
                                    .filter_map(|i| match &i.kind {
                                        ast::ExprKind::Name(p) => match self.lookup(&p.name.name, p.top_level) {
                                            Some(Symbol::Instance(h)) => Some(*h),
                                            _ => None,
                                        },
                                        _ => None,
                                    })
                                    .collect();
                                Some(PropertyValue::Instances(instances))
                            }
                            _ => self.const_value(value).map(|(_, v)| PropertyValue::Value(v)),
                        };
                        if let Some(v) = property_value {
                            table.properties.push((other.to_string(), v));
                        }
                    }
                },
            }
        }
        if t.properties
            .iter()
            .all(|p| !matches!(p.kind, ast::TablePropertyKind::Actions(_)))
        {
            self.error(
                t.name.span,
                format!("table `{}` has no `actions` property", t.name.name),
            );
            return None;
        }
        Some(self.module.tables.append(table, span))
    }

    fn action_ref_target(&mut self, path: &'a ast::Path) -> Option<Handle<ir::Action>> {
        let name = &path.name;
        match self.lookup(&name.name, path.top_level) {
            Some(Symbol::Poisoned) => None,
            Some(Symbol::Action(a)) => Some(*a),
            Some(_) => {
                self.error(name.span, format!("`{}` is not an action", name.name));
                None
            }
            None => {
                self.error(name.span, format!("unknown action `{}`", name.name));
                None
            }
        }
    }

    /// An action with compile-time arguments, for entries and default actions: the action must
    /// be in the table's list, and may be used there (`@tableonly` / `@defaultonly`).
    fn action_call(
        &mut self,
        path: &'a ast::Path,
        args: Option<&'a [ast::Argument]>,
        span: Span,
        table: &ir::Table,
        default: bool,
    ) -> Option<ActionCall> {
        let action = self.action_ref_target(path)?;
        let name = &path.name.name;
        let Some(listed) = table.actions.iter().find(|a| a.action == action) else {
            self.error(
                span,
                format!(
                    "action `{name}` is not in the `actions` of table `{}`",
                    table.name
                ),
            );
            return None;
        };
        match (listed.scope, default) {
            (ActionScope::TableOnly, true) => {
                self.error(
                    span,
                    format!("action `{name}` is `@tableonly`: it cannot be the default action"),
                );
                return None;
            }
            (ActionScope::DefaultOnly, false) => {
                self.error(
                    span,
                    format!("action `{name}` is `@defaultonly`: it cannot be used in entries"),
                );
                return None;
            }
            _ => {}
        }
        let params = self.action_params(action);
        let args = args.unwrap_or(&[]);
        if args.len() != params.len() {
            self.error(
                span,
                format!(
                    "action `{name}` takes {} argument(s), found {}",
                    params.len(),
                    args.len()
                ),
            );
            return None;
        }
        let mut values = Vec::new();
        for (arg, (param, ty, kind, _)) in args.iter().zip(&params) {
            // Action data is fixed when the entry is made; a directed argument is an
            // expression of the control, evaluated each time the action runs.
            let value = if *kind == LocalKind::Directionless {
                ActionArg::Value(self.const_of_type(&arg.value, *ty)?)
            } else {
                let e = self.check(&arg.value, *ty)?;
                if matches!(kind, LocalKind::Out | LocalKind::InOut) {
                    if let Err(why) = self.writable(e) {
                        self.report(
                            Diagnostic::error(
                                arg.value.span,
                                format!("argument for `{param}` must be writable"),
                            )
                            .with_label(why),
                        );
                        return None;
                    }
                }
                ActionArg::Expr(e)
            };
            values.push(value);
        }
        Some(ActionCall {
            action,
            args: values,
        })
    }
}

impl<'a> Lowerer<'a, '_> {
    /// True when `e` reads a constructor parameter of the block being lowered: such values
    /// are only known per instance.
    fn uses_ctor_param(&self, e: &ast::Expr) -> bool {
        match &e.kind {
            ast::ExprKind::Name(path) => matches!(
                self.lookup(&path.name.name, path.top_level),
                Some(Symbol::Local(l)) if self.body.locals[*l].kind == LocalKind::Directionless
            ),
            ast::ExprKind::Unary { operand, .. } => self.uses_ctor_param(operand),
            ast::ExprKind::Binary { lhs, rhs, .. } => {
                self.uses_ctor_param(lhs) || self.uses_ctor_param(rhs)
            }
            ast::ExprKind::Cast { expr, .. } => self.uses_ctor_param(expr),
            ast::ExprKind::Member { base, .. } => self.uses_ctor_param(base),
            ast::ExprKind::Conditional {
                cond,
                then,
                otherwise,
            } => {
                self.uses_ctor_param(cond)
                    || self.uses_ctor_param(then)
                    || self.uses_ctor_param(otherwise)
            }
            _ => false,
        }
    }
}

fn keyset_span(keyset: &ast::Keyset) -> Span {
    match keyset {
        ast::Keyset::Expr(e) | ast::Keyset::Mask(e, _) | ast::Keyset::Range(e, _) => e.span,
        ast::Keyset::Default(s) | ast::Keyset::DontCare(s) | ast::Keyset::Tuple(_, s) => *s,
    }
}

/// `@tableonly` / `@defaultonly` among annotations.
fn scope_of(annotations: &[Annotation]) -> Option<ActionScope> {
    annotations.iter().find_map(|a| match a.name.as_str() {
        "tableonly" => Some(ActionScope::TableOnly),
        "defaultonly" => Some(ActionScope::DefaultOnly),
        _ => None,
    })
}

/// The role a package parameter plays. The parameter names of PNA's packages say it; a
/// package of another architecture falls back to position and kind.
fn role_of(param: &str, kind: BlockKind, index: usize, count: usize) -> Role {
    match param {
        "main_parser" => Role::MainParser,
        "pre_control" => Role::PreControl,
        "main_control" => Role::MainControl,
        "main_deparser" => Role::MainDeparser,
        _ => match (kind, index) {
            (BlockKind::Parser, _) => Role::MainParser,
            (BlockKind::Control, i) if i + 1 == count => Role::MainDeparser,
            _ => Role::MainControl,
        },
    }
}

fn token_arg(kind: &TokenKind) -> AnnotationArg {
    match kind {
        TokenKind::Str(s) => AnnotationArg::String(s.to_string()),
        TokenKind::Int(lit) => {
            let v = BigInt::from(lit.value.clone());
            AnnotationArg::Int(if lit.negative { -v } else { v })
        }
        TokenKind::Keyword(crate::token::Keyword::True) => AnnotationArg::Bool(true),
        TokenKind::Keyword(crate::token::Keyword::False) => AnnotationArg::Bool(false),
        other => AnnotationArg::Name(crate::printer::token_text(other)),
    }
}

fn expr_arg(e: &ast::Expr) -> AnnotationArg {
    match &e.kind {
        ast::ExprKind::String(s) => AnnotationArg::String(s.clone()),
        ast::ExprKind::Int(lit) => {
            let v = BigInt::from(lit.value.clone());
            AnnotationArg::Int(if lit.negative { -v } else { v })
        }
        ast::ExprKind::Bool(b) => AnnotationArg::Bool(*b),
        _ => AnnotationArg::Name(crate::printer::print_expr(e)),
    }
}
