//! Calls: actions, functions (generic ones specialised), extern functions and methods with
//! overloads and type inference, built-in methods, table and block application, and the
//! argument rules they share (named, default, `@optional`, `_` for `out`, directions).

use std::collections::HashMap;

use num_bigint::BigInt;
use p4tc_ir::arena::Handle;
use p4tc_ir::ir::{self, Builtin, Callee, ExprKind, Type, Value};
use p4tc_ir::{Diagnostic, Span};

use super::expr::ExprHandle;
use super::{Lowerer, Symbol};
use crate::ast;

impl<'a> Lowerer<'a, '_> {
    /// A call expression: actions, functions, extern functions and methods, built-in methods,
    /// table and block application.
    pub(super) fn call(
        &mut self,
        callee: &'a ast::Expr,
        type_args: &'a [ast::Type],
        args: &'a [ast::Argument],
        span: Span,
    ) -> Option<ExprHandle> {
        let mut explicit = Vec::new();
        for t in type_args {
            // `_` leaves that type argument to inference.
            explicit.push(match t.kind {
                ast::TypeKind::DontCare => None,
                _ => Some(self.resolve_type(t)?),
            });
        }
        match &callee.kind {
            ast::ExprKind::Name(path) => {
                let name = &path.name.name;
                match self.lookup(name, path.top_level).cloned() {
                    Some(Symbol::Poisoned) => None,
                    Some(Symbol::Action(action)) => {
                        let param_list = self.action_params(action);
                        let lowered = self.args(&param_list, args, span, name)?;
                        let void = self.void_type();
                        Some(self.push(
                            ExprKind::Call {
                                callee: Callee::Action(action),
                                args: lowered,
                            },
                            void,
                            span,
                        ))
                    }
                    Some(Symbol::Function(function, prototype)) => {
                        self.function_call(function, prototype, args, span, name)
                    }
                    Some(Symbol::GenericFunction(decl)) => {
                        let function = self.specialize_function(decl, explicit, args, span)?;
                        self.function_call(function, &decl.prototype, args, span, name)
                    }
                    Some(Symbol::ExternFunction(prototypes)) => self.extern_call(
                        &prototypes,
                        &HashMap::new(),
                        explicit,
                        None,
                        args,
                        span,
                        name,
                        |name, type_args| Callee::ExternFunction {
                            name: name.to_string(),
                            type_args,
                        },
                    ),
                    Some(other) => {
                        let what = match other {
                            Symbol::Const(ty, _) => {
                                format!("a constant of type `{}`", self.type_name(ty))
                            }
                            Symbol::Local(l) => {
                                let ty = self.body.locals[l].ty;
                                format!("a variable of type `{}`", self.type_name(ty))
                            }
                            Symbol::Table(_) => format!("a table: apply it with `{name}.apply()`"),
                            Symbol::Instance(_) => {
                                "an instance: call one of its methods".to_string()
                            }
                            _ => "a type".to_string(),
                        };
                        self.error(
                            callee.span,
                            format!("`{name}` is {what}, not something that can be called"),
                        );
                        None
                    }
                    None => {
                        self.error(path.name.span, format!("unknown name `{name}`"));
                        None
                    }
                }
            }
            ast::ExprKind::Member { base, member } => {
                self.method_call(base, member, explicit, args, span)
            }
            _ => {
                self.error(callee.span, "this expression cannot be called");
                None
            }
        }
    }

    fn method_call(
        &mut self,
        base: &'a ast::Expr,
        member: &'a ast::Ident,
        explicit: Vec<Option<Handle<Type>>>,
        args: &'a [ast::Argument],
        span: Span,
    ) -> Option<ExprHandle> {
        // `t.apply()`
        if let ast::ExprKind::Name(path) = &base.kind {
            match self.lookup(&path.name.name, path.top_level).cloned() {
                Some(Symbol::Table(table)) => {
                    if member.name != "apply" {
                        self.error(
                            member.span,
                            format!(
                                "a table has no method `{}`; it can only be applied",
                                member.name
                            ),
                        );
                        return None;
                    }
                    if !args.is_empty() {
                        self.error(span, "a table's `apply` takes no arguments");
                        return None;
                    }
                    let void = self.void_type();
                    return Some(self.push(
                        ExprKind::Call {
                            callee: Callee::TableApply(table),
                            args: Vec::new(),
                        },
                        void,
                        span,
                    ));
                }
                Some(Symbol::Type(ty)) => return self.type_method(ty, member, args, span),
                Some(Symbol::GenericStruct(..)) => {
                    self.error(
                        base.span,
                        "give the generic type's arguments to ask for its size",
                    );
                    return None;
                }
                _ => {}
            }
        }
        let receiver = self.infer(base, None)?;
        let receiver_ty = self.ty_of(receiver);
        match self.module.types[receiver_ty].clone() {
            Type::Extern {
                def,
                args: type_args,
            } => {
                let decl = self.extern_decl(def)?;
                let vars: HashMap<String, Handle<Type>> = decl
                    .type_params
                    .iter()
                    .map(|p| p.name.clone())
                    .zip(type_args)
                    .collect();
                let methods: Vec<&'a ast::FunctionPrototype> = decl
                    .methods
                    .iter()
                    .filter_map(|m| match &m.kind {
                        ast::MethodKind::Method { prototype, .. }
                            if prototype.name.name == member.name =>
                        {
                            Some(prototype)
                        }
                        _ => None,
                    })
                    .collect();
                if methods.is_empty() {
                    let name = self.type_name(receiver_ty);
                    self.error(
                        member.span,
                        format!("extern `{name}` has no method `{}`", member.name),
                    );
                    return None;
                }
                let method = member.name.clone();
                self.extern_call(
                    &methods,
                    &vars,
                    explicit,
                    Some(receiver),
                    args,
                    span,
                    &member.name,
                    move |_, type_args| Callee::ExternMethod {
                        def,
                        method: method.clone(),
                        type_args,
                    },
                )
            }
            Type::Composite(_)
                if self.is_header(receiver_ty)
                    || self
                        .composite(receiver_ty)
                        .is_some_and(|c| c.kind == ir::CompositeKind::HeaderUnion) =>
            {
                let (builtin, ret) = match member.name.as_str() {
                    "isValid" => (Builtin::IsValid, self.bool_type()),
                    "setValid" if self.is_header(receiver_ty) => {
                        (Builtin::SetValid, self.void_type())
                    }
                    "setInvalid" if self.is_header(receiver_ty) => {
                        (Builtin::SetInvalid, self.void_type())
                    }
                    "minSizeInBits" | "minSizeInBytes" | "maxSizeInBits" | "maxSizeInBytes" => {
                        return self.size_method(receiver_ty, member, span);
                    }
                    _ => {
                        let name = self.type_name(receiver_ty);
                        if let Some(field) = self
                            .composite(receiver_ty)
                            .and_then(|c| c.fields.iter().find(|f| f.name == member.name))
                        {
                            let field_ty = self.type_name(field.ty);
                            self.error(
                                member.span,
                                format!(
                                    "`{}` is a `{field_ty}` field of `{name}`, not a method",
                                    member.name
                                ),
                            );
                            return None;
                        }
                        self.error(
                            member.span,
                            format!("`{name}` has no method `{}`", member.name),
                        );
                        return None;
                    }
                };
                if !args.is_empty() {
                    self.error(span, format!("`{}` takes no arguments", member.name));
                    return None;
                }
                Some(self.push(
                    ExprKind::Call {
                        callee: Callee::Builtin(builtin),
                        args: vec![receiver],
                    },
                    ret,
                    span,
                ))
            }
            Type::Stack { .. } if matches!(member.name.as_str(), "push_front" | "pop_front") => {
                let builtin = if member.name == "push_front" {
                    Builtin::PushFront
                } else {
                    Builtin::PopFront
                };
                let [count] = args else {
                    self.error(
                        span,
                        format!("`{}` takes one argument: how many elements", member.name),
                    );
                    return None;
                };
                let integer = self.integer_type();
                let n = self.check(&count.value, integer)?;
                if self.value_of(n).is_none() {
                    self.error(count.value.span, "the count must be known at compile time");
                    return None;
                }
                let void = self.void_type();
                Some(self.push(
                    ExprKind::Call {
                        callee: Callee::Builtin(builtin),
                        args: vec![receiver, n],
                    },
                    void,
                    span,
                ))
            }
            Type::Block(block) if member.name == "apply" => {
                let void = self.void_type();
                let lowered = self.block_apply_args(block, args, span)?;
                let mut all = vec![receiver];
                all.extend(lowered);
                Some(self.push(
                    ExprKind::Call {
                        callee: Callee::BlockApply(block),
                        args: all,
                    },
                    void,
                    span,
                ))
            }
            _ if matches!(
                member.name.as_str(),
                "minSizeInBits" | "minSizeInBytes" | "maxSizeInBits" | "maxSizeInBytes"
            ) =>
            {
                self.size_method(receiver_ty, member, span)
            }
            _ => {
                let name = self.type_name(receiver_ty);
                self.error(
                    member.span,
                    format!("`{name}` has no method `{}`", member.name),
                );
                None
            }
        }
    }

    /// `T.minSizeInBits()` and the like on a type name.
    fn type_method(
        &mut self,
        ty: Handle<Type>,
        member: &'a ast::Ident,
        args: &'a [ast::Argument],
        span: Span,
    ) -> Option<ExprHandle> {
        if !args.is_empty() {
            self.error(span, format!("`{}` takes no arguments", member.name));
            return None;
        }
        match member.name.as_str() {
            "minSizeInBits" | "minSizeInBytes" | "maxSizeInBits" | "maxSizeInBytes" => {
                self.size_method(ty, member, span)
            }
            _ => {
                let name = self.type_name(ty);
                self.error(
                    member.span,
                    format!("type `{name}` has no method `{}`", member.name),
                );
                None
            }
        }
    }

    fn size_method(
        &mut self,
        ty: Handle<Type>,
        member: &'a ast::Ident,
        span: Span,
    ) -> Option<ExprHandle> {
        let (min, max) = self.size_in_bits(ty).or_else(|| {
            let name = self.type_name(ty);
            self.error(member.span, format!("`{name}` has no size in bits"));
            None
        })?;
        let bits = if member.name.starts_with("min") {
            min
        } else {
            max
        };
        let value = if member.name.ends_with("Bytes") {
            bits.div_ceil(8)
        } else {
            bits
        };
        let integer = self.integer_type();
        Some(self.literal(Value::Int(BigInt::from(value)), integer, span))
    }

    /// The smallest and largest size of a type's values in bits (they differ with varbits).
    fn size_in_bits(&self, ty: Handle<Type>) -> Option<(u64, u64)> {
        match &self.module.types[ty] {
            Type::Bits { width, .. } => Some((u64::from(*width), u64::from(*width))),
            Type::Bool => Some((1, 1)),
            Type::Varbit { max_width } => Some((0, u64::from(*max_width))),
            Type::NewType { underlying, .. } => self.size_in_bits(*underlying),
            Type::Enum(def) => self.module.enums[*def]
                .underlying
                .and_then(|u| self.size_in_bits(u)),
            Type::Composite(c) => {
                let composite = &self.module.composites[*c];
                let sizes: Option<Vec<_>> = composite
                    .fields
                    .iter()
                    .map(|f| self.size_in_bits(f.ty))
                    .collect();
                let sizes = sizes?;
                if composite.kind == ir::CompositeKind::HeaderUnion {
                    Some((
                        sizes.iter().map(|s| s.0).min().unwrap_or(0),
                        sizes.iter().map(|s| s.1).max().unwrap_or(0),
                    ))
                } else {
                    Some((
                        sizes.iter().map(|s| s.0).sum(),
                        sizes.iter().map(|s| s.1).sum(),
                    ))
                }
            }
            Type::Stack { element, size } => self
                .size_in_bits(*element)
                .map(|(a, b)| (a * u64::from(*size), b * u64::from(*size))),
            _ => None,
        }
    }

    fn extern_decl(&mut self, def: Handle<ir::ExternDef>) -> Option<&'a ast::ExternObject> {
        let name = self.module.externs[def].name.clone();
        match self.lookup(&name, true) {
            Some(Symbol::Extern(_, decl)) => Some(decl),
            _ => None,
        }
    }

    /// Resolves an overloaded extern function or method by argument count, infers its type
    /// parameters from the arguments, and checks each argument.
    #[allow(clippy::too_many_arguments)]
    fn extern_call(
        &mut self,
        prototypes: &[&'a ast::FunctionPrototype],
        vars: &HashMap<String, Handle<Type>>,
        explicit: Vec<Option<Handle<Type>>>,
        receiver: Option<ExprHandle>,
        args: &'a [ast::Argument],
        span: Span,
        name: &str,
        make_callee: impl Fn(&str, Vec<Handle<Type>>) -> Callee,
    ) -> Option<ExprHandle> {
        let candidates: Vec<_> = prototypes
            .iter()
            .filter(|p| {
                let required = p
                    .params
                    .iter()
                    .filter(|q| {
                        q.default.is_none()
                            && !q.annotations.iter().any(|a| a.name.name == "optional")
                    })
                    .count();
                args.len() >= required && args.len() <= p.params.len()
            })
            .collect();
        let Some(prototype) = candidates.first().copied().copied() else {
            let counts: Vec<String> = prototypes
                .iter()
                .map(|p| p.params.len().to_string())
                .collect();
            self.error(
                span,
                format!(
                    "`{name}` takes {} argument(s), found {}",
                    counts.join(" or "),
                    args.len()
                ),
            );
            return None;
        };
        // Type variables: the extern's, then the method's (explicit or inferred).
        let mut bound = vars.clone();
        if !explicit.is_empty() {
            if explicit.len() != prototype.type_params.len() {
                self.error(
                    span,
                    format!(
                        "`{name}` takes {} type argument(s), found {}",
                        prototype.type_params.len(),
                        explicit.len()
                    ),
                );
                return None;
            }
            for (p, t) in prototype.type_params.iter().zip(&explicit) {
                if let Some(t) = t {
                    bound.insert(p.name.clone(), *t);
                }
            }
        }
        let mut lowered: Vec<Option<ExprHandle>> = vec![None; prototype.params.len()];
        for (i, arg) in args.iter().enumerate() {
            let index = match &arg.name {
                Some(n) => match prototype.params.iter().position(|p| p.name.name == n.name) {
                    Some(i) => i,
                    None => {
                        self.error(n.span, format!("`{name}` has no parameter `{}`", n.name));
                        return None;
                    }
                },
                None => i,
            };
            let param = &prototype.params[index];
            let e = if Self::mentions_unbound(&param.ty, &prototype.type_params, &bound) {
                // Infer the method's type parameters from this argument.
                let e = self.infer(&arg.value, None)?;
                let ty = self.ty_of(e);
                if self.is_integer(ty) && param.direction != ast::Direction::None {
                    self.error(
                        arg.value.span,
                        "the width of this value cannot be inferred: cast it, e.g. `(bit<32>) x`",
                    );
                    return None;
                }
                self.unify(&param.ty, ty, &prototype.type_params, &mut bound);
                e
            } else {
                self.type_vars.push(bound.clone());
                let param_ty = self.resolve_type(&param.ty);
                self.type_vars.pop();
                let param_ty = param_ty?;
                if matches!(arg.value.kind, ast::ExprKind::DontCare)
                    && param.direction == ast::Direction::Out
                {
                    self.scratch(param_ty, arg.value.span)
                } else {
                    self.check(&arg.value, param_ty)?
                }
            };
            self.check_direction(param.direction, e, &arg.value, &param.name.name)?;
            lowered[index] = Some(e);
        }
        // Defaults for parameters not given.
        let mut final_args = Vec::new();
        if let Some(r) = receiver {
            final_args.push(r);
        }
        for (i, slot) in lowered.into_iter().enumerate() {
            match slot {
                Some(e) => final_args.push(e),
                None => {
                    let param = &prototype.params[i];
                    let Some(default) = &param.default else {
                        if param.annotations.iter().any(|a| a.name.name == "optional") {
                            // An `@optional` argument left out: the target sees its zero value.
                            self.type_vars.push(bound.clone());
                            let ty = self.resolve_type(&param.ty);
                            self.type_vars.pop();
                            let ty = ty?;
                            match self.zero_value(ty, span) {
                                Some(zero) => {
                                    final_args.push(zero);
                                    continue;
                                }
                                None => {
                                    let t = self.type_name(ty);
                                    self.error(span, format!("optional argument `{}` of type `{t}` must be given here", param.name.name));
                                    return None;
                                }
                            }
                        }
                        self.error(
                            span,
                            format!("argument `{}` of `{name}` is missing", param.name.name),
                        );
                        return None;
                    };
                    self.type_vars.push(bound.clone());
                    let ty = self.resolve_type(&param.ty);
                    self.type_vars.pop();
                    final_args.push(self.check(default, ty?)?);
                }
            }
        }
        self.type_vars.push(bound.clone());
        let ret = self.resolve_type(&prototype.return_type);
        self.type_vars.pop();
        let ret = ret?;
        let type_args: Vec<Handle<Type>> = prototype
            .type_params
            .iter()
            .filter_map(|p| bound.get(&p.name).copied())
            .collect();
        if type_args.len() != prototype.type_params.len() {
            self.error(span, format!("the type arguments of `{name}` cannot be inferred here: give them, e.g. `{name}<bit<32>>(...)`"));
            return None;
        }
        // `extract` fills headers: anything else has no validity bit to set.
        if receiver.is_some() && name == "extract" {
            if let Some(&t) = type_args_of(prototype, &bound).first() {
                let fillable = self
                    .composite(t)
                    .is_some_and(|c| c.kind != ir::CompositeKind::Struct)
                    || matches!(self.module.types[t], Type::Stack { element, .. } if self.is_header(element));
                if !fillable {
                    let name = self.type_name(t);
                    self.error(span, format!("`extract` fills a header, not a `{name}`"));
                    return None;
                }
            }
        }
        // `static_assert` is decided here and now.
        if receiver.is_none() && name == "static_assert" {
            if let Some(Value::Bool(holds)) =
                final_args.first().and_then(|a| self.value_of(*a)).cloned()
            {
                if !holds {
                    let message = match final_args.get(1).and_then(|a| self.value_of(*a)) {
                        Some(Value::String(m)) => format!("static assertion failed: {m}"),
                        _ => "static assertion failed".to_string(),
                    };
                    self.error(span, message);
                    return None;
                }
                return Some(self.literal(Value::Bool(true), ret, span));
            }
            self.error(
                span,
                "the condition of `static_assert` must be known at compile time",
            );
            return None;
        }
        let callee = make_callee(name, type_args);
        Some(self.push(
            ExprKind::Call {
                callee,
                args: final_args,
            },
            ret,
            span,
        ))
    }

    /// Arguments for declared parameters `(name, type, direction, span)`: positional or named,
    /// each checked against its parameter's type and direction. `defaults` holds the default
    /// value of each parameter that has one (empty when none do). `_` for an `out` parameter
    /// discards the value.
    pub(super) fn args(
        &mut self,
        params: &[(String, Handle<Type>, ir::LocalKind, Span)],
        args: &'a [ast::Argument],
        span: Span,
        callee: &str,
    ) -> Option<Vec<ExprHandle>> {
        self.args_with_defaults(params, &[], args, span, callee)
    }

    /// [`Lowerer::args`] with default values for trailing or named-over parameters.
    pub(super) fn args_with_defaults(
        &mut self,
        params: &[(String, Handle<Type>, ir::LocalKind, Span)],
        defaults: &[Option<&'a ast::Expr>],
        args: &'a [ast::Argument],
        span: Span,
        callee: &str,
    ) -> Option<Vec<ExprHandle>> {
        let required = (0..params.len())
            .filter(|i| defaults.get(*i).copied().flatten().is_none())
            .count();
        if args.len() > params.len() || args.len() < required {
            let count = if required == params.len() {
                params.len().to_string()
            } else {
                format!("{required} to {}", params.len())
            };
            self.error(
                span,
                format!("`{callee}` takes {count} argument(s), found {}", args.len()),
            );
            return None;
        }
        let mut lowered: Vec<Option<ExprHandle>> = vec![None; params.len()];
        for (i, arg) in args.iter().enumerate() {
            let index = match &arg.name {
                Some(n) => match params.iter().position(|p| p.0 == n.name) {
                    Some(i) => i,
                    None => {
                        self.error(n.span, format!("`{callee}` has no parameter `{}`", n.name));
                        return None;
                    }
                },
                None => i,
            };
            if lowered[index].is_some() {
                self.error(
                    arg.value.span,
                    format!("parameter `{}` is given twice", params[index].0),
                );
                return None;
            }
            let (ref name, ty, kind, _) = params[index];
            if matches!(arg.value.kind, ast::ExprKind::DontCare) {
                if kind != ir::LocalKind::Out {
                    self.error(
                        arg.value.span,
                        format!("`_` can only stand for an `out` argument; `{name}` is not one"),
                    );
                    return None;
                }
                lowered[index] = Some(self.scratch(ty, arg.value.span));
                continue;
            }
            let e = self.check(&arg.value, ty)?;
            let direction = match kind {
                ir::LocalKind::Out => ast::Direction::Out,
                ir::LocalKind::InOut => ast::Direction::InOut,
                ir::LocalKind::In => ast::Direction::In,
                _ => ast::Direction::None,
            };
            self.check_direction(direction, e, &arg.value, name)?;
            lowered[index] = Some(e);
        }
        let mut out = Vec::new();
        for (i, slot) in lowered.into_iter().enumerate() {
            match slot {
                Some(e) => out.push(e),
                None => match defaults.get(i).copied().flatten() {
                    Some(default) => out.push(self.check(default, params[i].1)?),
                    None => {
                        self.error(
                            span,
                            format!("argument `{}` of `{callee}` is missing", params[i].0),
                        );
                        return None;
                    }
                },
            }
        }
        Some(out)
    }

    /// A fresh variable whose value nobody reads: where an `out` argument is `_`.
    pub(super) fn scratch(&mut self, ty: Handle<Type>, span: Span) -> ExprHandle {
        let local = self.body.locals.append(
            ir::Local {
                name: "_".into(),
                ty,
                kind: ir::LocalKind::Var,
                annotations: Vec::new(),
            },
            span,
        );
        self.push(ExprKind::Local(local), ty, span)
    }

    fn function_call(
        &mut self,
        function: Handle<ir::Function>,
        prototype: &'a ast::FunctionPrototype,
        args: &'a [ast::Argument],
        span: Span,
        name: &str,
    ) -> Option<ExprHandle> {
        let f = &self.module.functions[function];
        let ret = f.return_type;
        let params: Vec<_> = f
            .body
            .locals
            .iter()
            .take(f.params)
            .map(|(h, local)| {
                (
                    local.name.clone(),
                    local.ty,
                    local.kind,
                    f.body.locals.span(h),
                )
            })
            .collect();
        let defaults: Vec<Option<&'a ast::Expr>> = prototype
            .params
            .iter()
            .map(|p| p.default.as_ref())
            .collect();
        let lowered = self.args_with_defaults(&params, &defaults, args, span, name)?;
        Some(self.push(
            ExprKind::Call {
                callee: Callee::Function(function),
                args: lowered,
            },
            ret,
            span,
        ))
    }

    /// The specialisation of a generic function for the type arguments given or inferred
    /// from `args` (a parameter whose type is a bare type variable binds it).
    fn specialize_function(
        &mut self,
        decl: &'a ast::FunctionDecl,
        explicit: Vec<Option<Handle<Type>>>,
        args: &'a [ast::Argument],
        span: Span,
    ) -> Option<Handle<ir::Function>> {
        let proto = &decl.prototype;
        let mut bound: HashMap<String, Handle<Type>> = HashMap::new();
        if !explicit.is_empty() {
            if explicit.len() != proto.type_params.len() {
                let message = format!(
                    "`{}` takes {} type argument(s), found {}",
                    proto.name.name,
                    proto.type_params.len(),
                    explicit.len()
                );
                self.error(span, message);
                return None;
            }
            for (p, t) in proto.type_params.iter().zip(explicit) {
                if let Some(t) = t {
                    bound.insert(p.name.clone(), t);
                }
            }
        }
        for (i, arg) in args.iter().enumerate() {
            let param = match &arg.name {
                Some(n) => proto.params.iter().find(|p| p.name.name == n.name),
                None => proto.params.get(i),
            };
            let Some(param) = param else { continue };
            if Self::mentions_unbound(&param.ty, &proto.type_params, &bound) {
                let e = self.infer(&arg.value, None)?;
                let ty = self.ty_of(e);
                if self.is_integer(ty) {
                    self.error(
                        arg.value.span,
                        "the width of this value cannot be inferred: cast it, e.g. `(bit<32>) x`",
                    );
                    return None;
                }
                self.unify(&param.ty, ty, &proto.type_params, &mut bound);
            }
        }
        let mut type_args = Vec::new();
        for p in &proto.type_params {
            match bound.get(&p.name) {
                Some(t) => type_args.push(*t),
                None => {
                    let f = &proto.name.name;
                    self.error(
                        span,
                        format!(
                            "cannot infer type `{}` of `{f}`: give it, e.g. `{f}<bit<8>>(...)`",
                            p.name
                        ),
                    );
                    return None;
                }
            }
        }
        let key = (decl as *const ast::FunctionDecl as usize, type_args.clone());
        if let Some(f) = self.specializations.get(&key) {
            return Some(*f);
        }
        let names: Vec<String> = type_args.iter().map(|t| self.type_name(*t)).collect();
        let name = format!("{}<{}>", proto.name.name, names.join(", "));
        self.type_vars.push(bound);
        let function = self.at_top_level(|this| this.function_body(decl, name));
        self.type_vars.pop();
        let function = function?;
        self.specializations.insert(key, function);
        Some(function)
    }

    /// `out` and `inout` arguments must be writable places.
    fn check_direction(
        &mut self,
        direction: ast::Direction,
        e: ExprHandle,
        arg: &'a ast::Expr,
        param: &str,
    ) -> Option<()> {
        if matches!(direction, ast::Direction::Out | ast::Direction::InOut) {
            if let Err(why) = self.writable(e) {
                self.report(
                    Diagnostic::error(
                        arg.span,
                        format!(
                            "argument for `{}` parameter `{param}` must be writable",
                            direction_name(direction)
                        ),
                    )
                    .with_label(why),
                );
                return None;
            }
        }
        Some(())
    }

    /// Whether an expression denotes a place that may be written; `Err` says why not.
    pub(super) fn writable(&self, e: ExprHandle) -> Result<(), String> {
        match &self.body.exprs[e].kind {
            ExprKind::Local(local) => match self.body.locals[*local].kind {
                ir::LocalKind::In => Err(format!(
                    "`{}` is an `in` parameter, which is read-only",
                    self.body.locals[*local].name
                )),
                ir::LocalKind::Directionless => Err(format!(
                    "`{}` is a directionless parameter, which is read-only",
                    self.body.locals[*local].name
                )),
                _ => Ok(()),
            },
            ExprKind::Field { base, .. }
            | ExprKind::DynamicSlice { base, .. }
            | ExprKind::StackMember {
                base,
                member: ir::StackMember::Next | ir::StackMember::Last,
            }
            | ExprKind::Element { base, .. }
            | ExprKind::Slice { base, .. } => self.writable(*base),
            ExprKind::Literal(_) => Err("a constant cannot be written".into()),
            ExprKind::Instance(_) => Err("an instance cannot be assigned".into()),
            _ => Err("this is a computed value, not a variable".into()),
        }
    }

    /// Arguments of a parser or control's `apply`.
    fn block_apply_args(
        &mut self,
        block: Handle<ir::BlockType>,
        args: &'a [ast::Argument],
        span: Span,
    ) -> Option<Vec<ExprHandle>> {
        let b = &self.module.block_types[block];
        let name = b.name.clone();
        let params: Vec<_> = b
            .body
            .locals
            .iter()
            .take(b.apply_params)
            .map(|(h, l)| (l.name.clone(), l.ty, l.kind, b.body.locals.span(h)))
            .collect();
        self.args(&params, args, span, &name)
    }
}

impl Lowerer<'_, '_> {
    /// The parameters of an action as `(name, type, kind, span)`. A control-local action's
    /// live in the body being lowered (the control's), a top-level one's in its own body.
    pub(super) fn action_params(
        &self,
        action: Handle<ir::Action>,
    ) -> Vec<(String, Handle<Type>, ir::LocalKind, Span)> {
        let a = &self.module.actions[action];
        let locals = if a.control.is_some() {
            &self.body.locals
        } else {
            &a.body.locals
        };
        a.params
            .iter()
            .map(|&h| {
                let local = &locals[h];
                (local.name.clone(), local.ty, local.kind, locals.span(h))
            })
            .collect()
    }
}

/// The type arguments bound for a prototype's type parameters, in order.
fn type_args_of(
    prototype: &ast::FunctionPrototype,
    bound: &HashMap<String, Handle<Type>>,
) -> Vec<Handle<Type>> {
    prototype
        .type_params
        .iter()
        .filter_map(|p| bound.get(&p.name).copied())
        .collect()
}

fn direction_name(direction: ast::Direction) -> &'static str {
    match direction {
        ast::Direction::In => "in",
        ast::Direction::Out => "out",
        ast::Direction::InOut => "inout",
        ast::Direction::None => "directionless",
    }
}
