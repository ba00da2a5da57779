//! Expressions: name resolution, typing, implicit casts and constant folding. Calls are in
//! [`super::call`].

use num_bigint::BigInt;
use num_traits::{One, Signed, ToPrimitive, Zero};
use p4tc_ir::arena::Handle;
use p4tc_ir::ir::{self, BinaryOp, ExprKind, Type, UnaryOp, Value};
use p4tc_ir::{Diagnostic, Span};

use super::{Lowerer, Symbol};
use crate::ast;

pub(super) type ExprHandle = Handle<ir::Expr>;

/// Reduces `v` to the range of a `width`-bit unsigned or two's complement signed integer.
pub(super) fn wrap(v: &BigInt, width: u32, signed: bool) -> BigInt {
    if width == 0 {
        return BigInt::zero();
    }
    let modulus = BigInt::one() << width;
    let mut r = ((v % &modulus) + &modulus) % &modulus;
    if signed && r >= (BigInt::one() << (width - 1)) {
        r -= modulus;
    }
    r
}

impl<'a> Lowerer<'a, '_> {
    pub(super) fn push(&mut self, kind: ExprKind, ty: Handle<Type>, span: Span) -> ExprHandle {
        self.body.exprs.append(ir::Expr { kind, ty }, span)
    }

    pub(super) fn literal(&mut self, value: Value, ty: Handle<Type>, span: Span) -> ExprHandle {
        self.push(ExprKind::Literal(value), ty, span)
    }

    pub(super) fn ty_of(&self, e: ExprHandle) -> Handle<Type> {
        self.body.exprs[e].ty
    }

    pub(super) fn value_of(&self, e: ExprHandle) -> Option<&Value> {
        match &self.body.exprs[e].kind {
            ExprKind::Literal(v) => Some(v),
            _ => None,
        }
    }

    /// The value of an expression that must be known at compile time, with its type.
    pub(super) fn const_value(&mut self, expr: &'a ast::Expr) -> Option<(Handle<Type>, Value)> {
        let e = self.infer(expr, None)?;
        match self.value_of(e) {
            Some(v) => Some((self.ty_of(e), v.clone())),
            None => {
                self.error(expr.span, "this value must be known at compile time");
                None
            }
        }
    }

    /// A compile-time value of type `expected`.
    pub(super) fn const_of_type(
        &mut self,
        expr: &'a ast::Expr,
        expected: Handle<Type>,
    ) -> Option<Value> {
        let e = self.check(expr, expected)?;
        match self.value_of(e) {
            Some(v) => Some(v.clone()),
            None => {
                self.error(expr.span, "this value must be known at compile time");
                None
            }
        }
    }

    /// Lowers `expr`, which must have type `expected` (after implicit casts).
    pub(super) fn check(
        &mut self,
        expr: &'a ast::Expr,
        expected: Handle<Type>,
    ) -> Option<ExprHandle> {
        let e = self.infer(expr, Some(expected))?;
        self.coerce(e, expected, expr.span)
    }

    /// Converts `e` to `expected` where P4 converts implicitly; reports a mismatch otherwise.
    pub(super) fn coerce(
        &mut self,
        e: ExprHandle,
        expected: Handle<Type>,
        span: Span,
    ) -> Option<ExprHandle> {
        let actual = self.ty_of(e);
        if actual == expected {
            return Some(e);
        }
        let target = self.module.types[expected].clone();
        let source = self.module.types[actual].clone();
        match (&source, &target) {
            // An arbitrary-precision integer becomes any fixed-width integer (or a new type
            // or serializable enum over one), wrapped to its width.
            (Type::Integer, _)
                if self.bit_width(expected).is_some()
                    && !matches!(target, Type::Bool | Type::Enum(_)) =>
            {
                let (width, signed) = self.bit_width(expected)?;
                match self.value_of(e).cloned() {
                    Some(Value::Int(v)) => {
                        let wrapped = wrap(&v, width, signed);
                        if wrapped != v {
                            self.report(Diagnostic::warning(
                                span,
                                format!(
                                    "{v} does not fit in {}: it becomes {wrapped}",
                                    self.type_name(expected)
                                ),
                            ));
                        }
                        Some(self.literal(Value::Int(wrapped), expected, span))
                    }
                    _ => Some(self.push(ExprKind::Cast(e), expected, span)),
                }
            }
            // A serializable enum value converts to its underlying type.
            (Type::Enum(def), _) if self.module.enums[*def].underlying == Some(expected) => {
                Some(self.cast_value(e, expected, span))
            }
            _ => {
                let message = format!(
                    "expected a value of type `{}`, found `{}`",
                    self.type_name(expected),
                    self.type_name(actual)
                );
                self.error(span, message);
                None
            }
        }
    }

    /// Lowers `expr` and computes its type; `hint` is the type the context expects, used to
    /// type list expressions, struct expressions and `{#}`.
    pub(super) fn infer(
        &mut self,
        expr: &'a ast::Expr,
        hint: Option<Handle<Type>>,
    ) -> Option<ExprHandle> {
        // Trees are at most `parser::MAX_NESTING` deep, but each level takes several frames
        // here; grow the stack rather than depend on the caller's.
        stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || self.infer_expr(expr, hint))
    }

    fn infer_expr(
        &mut self,
        expr: &'a ast::Expr,
        hint: Option<Handle<Type>>,
    ) -> Option<ExprHandle> {
        let span = expr.span;
        match &expr.kind {
            ast::ExprKind::Int(lit) => {
                let value = BigInt::from(lit.value.clone()) * if lit.negative { -1 } else { 1 };
                let ty = match lit.width {
                    None => self.integer_type(),
                    Some((width, signed)) => self.bits_type(width, signed),
                };
                let value = match lit.width {
                    Some((width, signed)) => {
                        let wrapped = wrap(&value, width, signed);
                        if wrapped != value {
                            self.report(Diagnostic::warning(
                                span,
                                format!(
                                    "{value} does not fit in {}: it becomes {wrapped}",
                                    self.type_name(ty)
                                ),
                            ));
                        }
                        wrapped
                    }
                    None => value,
                };
                Some(self.literal(Value::Int(value), ty, span))
            }
            ast::ExprKind::Bool(b) => {
                let ty = self.bool_type();
                Some(self.literal(Value::Bool(*b), ty, span))
            }
            ast::ExprKind::String(s) => {
                let ty = self.intern(Type::String);
                Some(self.literal(Value::String(s.clone()), ty, span))
            }
            ast::ExprKind::Name(path) => self.name_expr(path, span),
            ast::ExprKind::This => match self.lookup("this", false).cloned() {
                Some(Symbol::Instance(instance)) => {
                    let ty = self.module.instances[instance].ty;
                    Some(self.push(ExprKind::Instance(instance), ty, span))
                }
                _ => {
                    self.error(
                        span,
                        "`this` is only allowed in an instance's initializer block",
                    );
                    None
                }
            },
            ast::ExprKind::DontCare => {
                self.error(span, "`_` is not a value here");
                None
            }
            ast::ExprKind::Dots => {
                self.error(
                    span,
                    "`...` is only allowed at the end of a struct expression",
                );
                None
            }
            ast::ExprKind::ErrorMember(member) => {
                let ty = self.intern(Type::Error);
                match self.module.errors.iter().position(|e| *e == member.name) {
                    Some(i) => Some(self.literal(Value::Error(i as u32), ty, span)),
                    None => {
                        self.error(
                            member.span,
                            format!("`error.{}` is not declared", member.name),
                        );
                        None
                    }
                }
            }
            ast::ExprKind::Member { base, member } => self.member(base, member, span),
            ast::ExprKind::Index { base, index } => {
                let b = self.infer(base, None)?;
                // A tuple is indexed by a constant: it is a field access.
                if let Type::Tuple(items) = self.module.types[self.ty_of(b)].clone() {
                    let i = self.const_u32(index, "a tuple index")?;
                    let Some(&ty) = items.get(i as usize) else {
                        self.error(
                            index.span,
                            format!("index {i} is out of bounds for a tuple of {}", items.len()),
                        );
                        return None;
                    };
                    return Some(self.field(b, i, ty, span));
                }
                let Type::Stack { element, size } = self.module.types[self.ty_of(b)].clone() else {
                    let name = self.type_name(self.ty_of(b));
                    self.error(
                        base.span,
                        format!("only stacks and arrays can be indexed, not `{name}`"),
                    );
                    return None;
                };
                let i = self.infer(index, None)?;
                let i = if self.is_integer(self.ty_of(i)) {
                    let bit32 = self.bits_type(32, false);
                    self.coerce(i, bit32, index.span)?
                } else if self.is_bits(self.ty_of(i)) {
                    i
                } else {
                    let name = self.type_name(self.ty_of(i));
                    self.error(
                        index.span,
                        format!("an index must be an integer, not `{name}`"),
                    );
                    return None;
                };
                if let Some(Value::Int(v)) = self.value_of(i) {
                    if v.is_negative() || *v >= BigInt::from(size) {
                        self.error(
                            index.span,
                            format!("index {v} is out of bounds for a stack of {size}"),
                        );
                        return None;
                    }
                }
                Some(self.push(ExprKind::Element { base: b, index: i }, element, span))
            }
            ast::ExprKind::Slice { base, hi, lo } => {
                let b = self.infer(base, None)?;
                let hi_v = self.const_u32(hi, "a slice bound")?;
                let lo_v = self.const_u32(lo, "a slice bound")?;
                self.slice(b, hi_v, lo_v, base.span, span)
            }
            ast::ExprKind::IndexedSlice { base, lo, width } => {
                let b = self.infer(base, None)?;
                let w = self.const_u32(width, "a slice width")?;
                if w == 0 {
                    self.error(width.span, "a slice must be at least one bit wide");
                    return None;
                }
                let l = self.infer(lo, None)?;
                if let Some(Value::Int(v)) = self.value_of(l).cloned() {
                    let Some(lo_v) = v.to_u32() else {
                        self.error(lo.span, format!("slice start {v} is out of range"));
                        return None;
                    };
                    return self.slice(b, lo_v + w - 1, lo_v, base.span, span);
                }
                let Some((total, _)) = self
                    .bit_width(self.ty_of(b))
                    .filter(|_| self.is_bits(self.ty_of(b)))
                else {
                    let name = self.type_name(self.ty_of(b));
                    self.error(
                        base.span,
                        format!("only `bit<W>` and `int<W>` values can be sliced, not `{name}`"),
                    );
                    return None;
                };
                if w > total {
                    self.error(
                        width.span,
                        format!("a {w}-bit slice cannot fit in a {total}-bit value"),
                    );
                    return None;
                }
                if !matches!(
                    self.module.types[self.ty_of(l)],
                    Type::Bits { signed: false, .. }
                ) {
                    self.error(
                        lo.span,
                        "the start of a slice must be an unsigned `bit<W>` value",
                    );
                    return None;
                }
                let ty = self.bits_type(w, false);
                Some(self.push(
                    ExprKind::DynamicSlice {
                        base: b,
                        lo: l,
                        width: w,
                    },
                    ty,
                    span,
                ))
            }
            ast::ExprKind::List(items) => self.list(items, hint, span),
            ast::ExprKind::StructInit { fields, dots } => {
                self.struct_init(fields, *dots, hint, span)
            }
            ast::ExprKind::InvalidHeader => match hint {
                Some(ty)
                    if self
                        .composite(ty)
                        .is_some_and(|c| c.kind != ir::CompositeKind::Struct) =>
                {
                    Some(self.literal(Value::InvalidHeader, ty, span))
                }
                _ => {
                    self.error(
                        span,
                        "`{#}` needs a header or header union type from its context",
                    );
                    None
                }
            },
            ast::ExprKind::Unary { op, operand } => self.unary(*op, operand, hint, span),
            ast::ExprKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs, hint, span),
            ast::ExprKind::Conditional {
                cond,
                then,
                otherwise,
            } => {
                let bool_ty = self.bool_type();
                let c = self.check(cond, bool_ty)?;
                let t = self.infer(then, hint)?;
                let o = self.infer(otherwise, hint)?;
                let (mut t, mut o) = self.unify_operands(t, o, then.span, otherwise.span)?;
                if let Some(Value::Bool(b)) = self.value_of(c) {
                    return Some(if *b { t } else { o });
                }
                // Chosen at run time, the value needs a width: the context's, or an error.
                if self.is_integer(self.ty_of(t)) {
                    match hint.filter(|h| self.bit_width(*h).is_some() && !self.is_integer(*h)) {
                        Some(h) => {
                            t = self.coerce(t, h, then.span)?;
                            o = self.coerce(o, h, otherwise.span)?;
                        }
                        None => {
                            self.error(span, "the branches of this `?:` have no width and the condition is not constant: cast one, e.g. `(bit<8>) 1`");
                            return None;
                        }
                    }
                }
                let ty = self.ty_of(t);
                Some(self.push(
                    ExprKind::Select {
                        cond: c,
                        then: t,
                        otherwise: o,
                    },
                    ty,
                    span,
                ))
            }
            ast::ExprKind::Cast { ty, expr: inner } => {
                let target = self.resolve_type(ty)?;
                let e = self.infer(inner, Some(target))?;
                self.cast(e, target, inner.span, span)
            }
            ast::ExprKind::Call {
                callee,
                type_args,
                args,
            } => self.call(callee, type_args, args, span),
            ast::ExprKind::Construct { ty, .. } => {
                self.error(
                    ty.span,
                    "an instance can only be created in a declaration (`T(args) name;`) or as a constructor argument",
                );
                None
            }
        }
    }

    /// Field `index` of a composite or tuple value; folded when the value is known.
    fn field(&mut self, base: ExprHandle, index: u32, ty: Handle<Type>, span: Span) -> ExprHandle {
        if let Some(Value::Tuple(values)) = self.value_of(base) {
            if let Some(v) = values.get(index as usize).cloned() {
                return self.literal(v, ty, span);
            }
        }
        self.push(ExprKind::Field { base, index }, ty, span)
    }

    fn slice(
        &mut self,
        b: ExprHandle,
        hi: u32,
        lo: u32,
        base_span: Span,
        span: Span,
    ) -> Option<ExprHandle> {
        let Some((width, _)) = self
            .bit_width(self.ty_of(b))
            .filter(|_| self.is_bits(self.ty_of(b)))
        else {
            let name = self.type_name(self.ty_of(b));
            self.error(
                base_span,
                format!("only `bit<W>` and `int<W>` values can be sliced, not `{name}`"),
            );
            return None;
        };
        if hi < lo {
            self.error(
                span,
                format!("slice [{hi}:{lo}] is reversed: the high bit comes first"),
            );
            return None;
        }
        if hi >= width {
            self.error(
                span,
                format!("slice [{hi}:{lo}] goes past the {width} bits of the value"),
            );
            return None;
        }
        let ty = self.bits_type(hi - lo + 1, false);
        if let Some(Value::Int(v)) = self.value_of(b) {
            let v = wrap(&(v >> lo), hi - lo + 1, false);
            return Some(self.literal(Value::Int(v), ty, span));
        }
        Some(self.push(ExprKind::Slice { base: b, hi, lo }, ty, span))
    }

    fn list(
        &mut self,
        items: &'a [ast::Expr],
        hint: Option<Handle<Type>>,
        span: Span,
    ) -> Option<ExprHandle> {
        // A list whose context expects a struct, header, array or tuple initialises its
        // fields or elements in order; a final `...` leaves the rest at zero.
        if let Some(ty) = hint {
            let dots = matches!(items.last().map(|e| &e.kind), Some(ast::ExprKind::Dots));
            let given = &items[..items.len() - usize::from(dots)];
            let slots: Option<(String, Vec<Handle<Type>>)> = match self.module.types[ty].clone() {
                Type::Composite(c) => {
                    let composite = &self.module.composites[c];
                    Some((
                        format!("`{}` has", composite.name),
                        composite.fields.iter().map(|f| f.ty).collect(),
                    ))
                }
                Type::Stack { element, size } => Some((
                    format!("`{}` has", self.type_name(ty)),
                    vec![element; size as usize],
                )),
                Type::Tuple(types) if types.len() == items.len() || dots => {
                    Some(("the tuple has".to_string(), types))
                }
                _ => None,
            };
            if let Some((what, slots)) = slots {
                if given.len() > slots.len() || (!dots && given.len() != slots.len()) {
                    self.error(
                        span,
                        format!(
                            "{what} {} value(s), but the list has {}",
                            slots.len(),
                            given.len()
                        ),
                    );
                    return None;
                }
                let mut fields = Vec::new();
                for (item, slot) in given.iter().zip(&slots) {
                    fields.push(self.check(item, *slot)?);
                }
                for slot in &slots[given.len()..] {
                    fields.push(self.zero_value(*slot, span)?);
                }
                return Some(self.compose(fields, ty, span));
            }
            if let Type::List(element) = self.module.types[ty].clone() {
                let mut fields = Vec::new();
                for item in items {
                    fields.push(self.check(item, element)?);
                }
                return Some(self.compose(fields, ty, span));
            }
            if let Type::Tuple(types) = self.module.types[ty].clone() {
                if types.len() == items.len() {
                    let mut fields = Vec::new();
                    for (item, t) in items.iter().zip(types) {
                        fields.push(self.check(item, t)?);
                    }
                    return Some(self.compose(fields, ty, span));
                }
            }
        }
        let mut fields = Vec::new();
        let mut types = Vec::new();
        for item in items {
            let e = self.infer(item, None)?;
            types.push(self.ty_of(e));
            fields.push(e);
        }
        let ty = self.intern(Type::Tuple(types));
        Some(self.compose(fields, ty, span))
    }

    /// Builds a composite value; folds to a literal when every field is known.
    fn compose(&mut self, fields: Vec<ExprHandle>, ty: Handle<Type>, span: Span) -> ExprHandle {
        let values: Option<Vec<Value>> =
            fields.iter().map(|f| self.value_of(*f).cloned()).collect();
        match values {
            Some(values) => self.literal(Value::Tuple(values), ty, span),
            None => self.push(ExprKind::Compose(fields), ty, span),
        }
    }

    fn struct_init(
        &mut self,
        fields: &'a [ast::KeyValue],
        dots: bool,
        hint: Option<Handle<Type>>,
        span: Span,
    ) -> Option<ExprHandle> {
        let Some(ty) = hint.filter(|t| self.composite(*t).is_some()) else {
            self.error(
                span,
                "a struct expression needs a struct or header type from its context (or a cast)",
            );
            return None;
        };
        let composite = self.composite(ty).cloned()?;
        let mut values: Vec<Option<ExprHandle>> = vec![None; composite.fields.len()];
        for kv in fields {
            let Some(i) = composite.fields.iter().position(|f| f.name == kv.key.name) else {
                self.error(
                    kv.key.span,
                    format!("`{}` has no field `{}`", composite.name, kv.key.name),
                );
                return None;
            };
            if values[i].is_some() {
                self.error(
                    kv.key.span,
                    format!("field `{}` is given twice", kv.key.name),
                );
                return None;
            }
            values[i] = Some(self.check(&kv.value, composite.fields[i].ty)?);
        }
        let mut out = Vec::new();
        for (value, field) in values.into_iter().zip(&composite.fields) {
            match value {
                Some(v) => out.push(v),
                None if dots => {
                    // `...`: the fields not named are left as don't-care: zero here.
                    let zero = self.zero_value(field.ty, span)?;
                    out.push(zero);
                }
                None => {
                    self.error(
                        span,
                        format!("field `{}` of `{}` is missing", field.name, composite.name),
                    );
                    return None;
                }
            }
        }
        Some(self.compose(out, ty, span))
    }

    /// The all-zero (or false, or invalid) value of a type, as a literal.
    pub(super) fn zero_value(&mut self, ty: Handle<Type>, span: Span) -> Option<ExprHandle> {
        let value = self.zero(ty)?;
        Some(self.literal(value, ty, span))
    }

    fn zero(&self, ty: Handle<Type>) -> Option<Value> {
        Some(match &self.module.types[ty] {
            Type::Bool => Value::Bool(false),
            Type::Bits { .. } | Type::Integer | Type::NewType { .. } => Value::Int(BigInt::zero()),
            Type::Enum(_) => Value::Enum(0),
            Type::Error => Value::Error(0),
            Type::Composite(c) => {
                let composite = &self.module.composites[*c];
                if composite.kind != ir::CompositeKind::Struct {
                    Value::InvalidHeader
                } else {
                    Value::Tuple(
                        composite
                            .fields
                            .iter()
                            .map(|f| self.zero(f.ty))
                            .collect::<Option<_>>()?,
                    )
                }
            }
            Type::Tuple(items) => {
                Value::Tuple(items.iter().map(|t| self.zero(*t)).collect::<Option<_>>()?)
            }
            _ => return None,
        })
    }

    fn name_expr(&mut self, path: &'a ast::Path, span: Span) -> Option<ExprHandle> {
        let name = &path.name.name;
        let Some(symbol) = self.lookup(name, path.top_level).cloned() else {
            self.error(path.name.span, format!("unknown name `{name}`"));
            return None;
        };
        match symbol {
            Symbol::Poisoned => None,
            Symbol::Local(local) => {
                let ty = self.body.locals[local].ty;
                Some(self.push(ExprKind::Local(local), ty, span))
            }
            Symbol::Const(ty, value) => Some(self.literal(value, ty, span)),
            Symbol::Instance(instance) => {
                let ty = self.module.instances[instance].ty;
                Some(self.push(ExprKind::Instance(instance), ty, span))
            }
            Symbol::Action(_) => {
                self.error(
                    span,
                    format!("action `{name}` can only be called, or named in a table"),
                );
                None
            }
            Symbol::Table(_) => {
                self.error(
                    span,
                    format!("table `{name}` can only be applied: `{name}.apply()`"),
                );
                None
            }
            Symbol::Function(..) | Symbol::GenericFunction(_) | Symbol::ExternFunction(_) => {
                self.error(span, format!("function `{name}` can only be called"));
                None
            }
            _ => {
                self.error(span, format!("`{name}` is a type, not a value"));
                None
            }
        }
    }

    /// `base.member`: a field, an enum member, a stack property, or a size of a type.
    fn member(
        &mut self,
        base: &'a ast::Expr,
        member: &'a ast::Ident,
        span: Span,
    ) -> Option<ExprHandle> {
        // `E.A` for an enum `E`, or `error.X` written as a type member.
        if let ast::ExprKind::Name(path) = &base.kind {
            if let Some(Symbol::Type(ty)) = self.lookup(&path.name.name, path.top_level).cloned() {
                if let Type::Enum(def) = self.module.types[ty].clone() {
                    let members = &self.module.enums[def].members;
                    return match members.iter().position(|(m, _)| *m == member.name) {
                        Some(i) => Some(self.literal(Value::Enum(i as u32), ty, span)),
                        None => {
                            let enum_name = self.module.enums[def].name.clone();
                            self.error(
                                member.span,
                                format!("enum `{enum_name}` has no member `{}`", member.name),
                            );
                            None
                        }
                    };
                }
            }
        }
        // `t.apply().hit` and `.miss`.
        if member.name == "hit" || member.name == "miss" {
            if let Some(table) = self.applied_table(base) {
                let ty = self.bool_type();
                return Some(self.push(
                    ExprKind::TableHit {
                        table,
                        hit: member.name == "hit",
                    },
                    ty,
                    span,
                ));
            }
        }
        if matches!(member.name.as_str(), "hit" | "miss" | "action_run")
            && matches!(base.kind, ast::ExprKind::Call { .. })
            && self.applied_table(base).is_none()
        {
            self.error(
                member.span,
                format!(
                    "`.{}` belongs to a table's `apply()`: `t.apply().{}`",
                    member.name, member.name
                ),
            );
            return None;
        }
        if member.name == "action_run" && self.applied_table(base).is_some() {
            self.error(
                span,
                "`action_run` can only be used as the value of a `switch`",
            );
            return None;
        }
        let b = self.infer(base, None)?;
        let base_ty = self.ty_of(b);
        match self.module.types[base_ty].clone() {
            Type::Composite(c) => {
                let composite = &self.module.composites[c];
                match composite.fields.iter().position(|f| f.name == member.name) {
                    Some(i) => {
                        let ty = composite.fields[i].ty;
                        Some(self.field(b, i as u32, ty, span))
                    }
                    None => {
                        let message =
                            format!("`{}` has no field `{}`", composite.name, member.name);
                        self.error(member.span, message);
                        None
                    }
                }
            }
            Type::Stack { size, .. } if member.name == "size" => {
                let ty = self.bits_type(32, false);
                Some(self.literal(Value::Int(BigInt::from(size)), ty, span))
            }
            Type::Stack { element, .. }
                if matches!(member.name.as_str(), "next" | "last" | "lastIndex") =>
            {
                let (which, ty) = match member.name.as_str() {
                    "next" => (ir::StackMember::Next, element),
                    "last" => (ir::StackMember::Last, element),
                    _ => (ir::StackMember::LastIndex, self.bits_type(32, false)),
                };
                if which != ir::StackMember::LastIndex
                    && self
                        .module
                        .block_types
                        .get(self.block?)
                        .is_some_and(|b| b.kind != ir::BlockKind::Parser)
                {
                    self.error(
                        member.span,
                        format!(
                            "`{}` of a header stack can only be used in a parser",
                            member.name
                        ),
                    );
                    return None;
                }
                Some(self.push(
                    ExprKind::StackMember {
                        base: b,
                        member: which,
                    },
                    ty,
                    span,
                ))
            }
            _ => {
                let message = format!(
                    "`{}` has no member `{}`",
                    self.type_name(base_ty),
                    member.name
                );
                self.error(member.span, message);
                None
            }
        }
    }

    /// The table `expr` applies, when it is `t.apply()`.
    pub(super) fn applied_table(&self, expr: &'a ast::Expr) -> Option<Handle<ir::Table>> {
        let ast::ExprKind::Call { callee, args, .. } = &expr.kind else {
            return None;
        };
        let ast::ExprKind::Member { base, member } = &callee.kind else {
            return None;
        };
        if member.name != "apply" || !args.is_empty() {
            return None;
        }
        let ast::ExprKind::Name(path) = &base.kind else {
            return None;
        };
        match self.lookup(&path.name.name, path.top_level) {
            Some(Symbol::Table(t)) => Some(*t),
            _ => None,
        }
    }

    fn unary(
        &mut self,
        op: ast::UnaryOp,
        operand: &'a ast::Expr,
        hint: Option<Handle<Type>>,
        span: Span,
    ) -> Option<ExprHandle> {
        match op {
            ast::UnaryOp::Not => {
                let bool_ty = self.bool_type();
                let e = self.check(operand, bool_ty)?;
                if let Some(Value::Bool(b)) = self.value_of(e) {
                    return Some(self.literal(Value::Bool(!b), bool_ty, span));
                }
                Some(self.push(
                    ExprKind::Unary {
                        op: UnaryOp::Not,
                        operand: e,
                    },
                    bool_ty,
                    span,
                ))
            }
            ast::UnaryOp::Plus => self.infer(operand, hint),
            ast::UnaryOp::BitNot | ast::UnaryOp::Neg => {
                let e = self.infer(operand, hint)?;
                let ty = self.ty_of(e);
                let numeric = self.is_bits(ty) || self.is_integer(ty);
                if !numeric || (op == ast::UnaryOp::BitNot && self.is_integer(ty)) {
                    let what = if op == ast::UnaryOp::Neg {
                        "negated"
                    } else {
                        "complemented"
                    };
                    let message =
                        format!("a value of type `{}` cannot be {what}", self.type_name(ty));
                    self.error(span, message);
                    return None;
                }
                let ir_op = if op == ast::UnaryOp::Neg {
                    UnaryOp::Neg
                } else {
                    UnaryOp::BitNot
                };
                if let Some(Value::Int(v)) = self.value_of(e).cloned() {
                    let r = if ir_op == UnaryOp::Neg { -v } else { -v - 1 };
                    let r = match self.bit_width(ty) {
                        Some((w, s)) if self.is_bits(ty) => wrap(&r, w, s),
                        _ => r,
                    };
                    return Some(self.literal(Value::Int(r), ty, span));
                }
                Some(self.push(
                    ExprKind::Unary {
                        op: ir_op,
                        operand: e,
                    },
                    ty,
                    span,
                ))
            }
        }
    }

    /// Brings two operands to one type: an `int` operand takes the other's fixed width.
    fn unify_operands(
        &mut self,
        l: ExprHandle,
        r: ExprHandle,
        l_span: Span,
        r_span: Span,
    ) -> Option<(ExprHandle, ExprHandle)> {
        let (lt, rt) = (self.ty_of(l), self.ty_of(r));
        if lt == rt {
            return Some((l, r));
        }
        // A serializable enum meets an `int` constant as its underlying type.
        for (e, other, e_span, is_left) in [(l, r, l_span, true), (r, l, r_span, false)] {
            if let Type::Enum(def) = self.module.types[self.ty_of(e)] {
                if let (Some(underlying), true) = (
                    self.module.enums[def].underlying,
                    self.is_integer(self.ty_of(other)),
                ) {
                    let e = self.cast_value(e, underlying, e_span);
                    let other_span = if is_left { r_span } else { l_span };
                    let other = self.coerce(other, underlying, other_span)?;
                    return Some(if is_left { (e, other) } else { (other, e) });
                }
            }
        }
        if self.is_integer(lt) {
            return Some((self.coerce(l, rt, l_span)?, r));
        }
        if self.is_integer(rt) {
            return Some((l, self.coerce(r, lt, r_span)?));
        }
        // A serializable enum compares with its underlying type.
        if let Type::Enum(def) = self.module.types[lt] {
            if self.module.enums[def].underlying == Some(rt) {
                return Some((self.coerce(l, rt, l_span)?, r));
            }
        }
        if let Type::Enum(def) = self.module.types[rt] {
            if self.module.enums[def].underlying == Some(lt) {
                return Some((l, self.coerce(r, lt, r_span)?));
            }
        }
        let message = format!(
            "operands have different types: `{}` and `{}`",
            self.type_name(lt),
            self.type_name(rt)
        );
        let mut diagnostic = Diagnostic::error(l_span.to(r_span), message);
        if self.is_bits(lt) && self.is_bits(rt) {
            diagnostic = diagnostic.with_note("cast one of them, e.g. `(bit<16>) x`");
        }
        self.report(diagnostic);
        None
    }

    fn binary(
        &mut self,
        op: ast::BinaryOp,
        lhs: &'a ast::Expr,
        rhs: &'a ast::Expr,
        hint: Option<Handle<Type>>,
        span: Span,
    ) -> Option<ExprHandle> {
        use ast::BinaryOp as A;
        let (l, r) = match op {
            A::And | A::Or => {
                let bool_ty = self.bool_type();
                (self.check(lhs, bool_ty)?, self.check(rhs, bool_ty)?)
            }
            A::Shl | A::Shr | A::Concat => (self.infer(lhs, hint)?, self.infer(rhs, None)?),
            _ => {
                // A comparison's result type says nothing about its operands' type.
                let comparison = matches!(op, A::Eq | A::Ne | A::Lt | A::Gt | A::Le | A::Ge);
                let l = self.infer(lhs, if comparison { None } else { hint })?;
                let r_hint = Some(self.ty_of(l)).filter(|t| !self.is_integer(*t));
                (l, self.infer(rhs, r_hint)?)
            }
        };
        self.combine(op, l, r, lhs.span, rhs.span, span)
    }

    /// `l op r` on lowered operands: checks the operand types and computes the result type.
    pub(super) fn combine(
        &mut self,
        op: ast::BinaryOp,
        l: ExprHandle,
        r: ExprHandle,
        l_span: Span,
        r_span: Span,
        span: Span,
    ) -> Option<ExprHandle> {
        use ast::BinaryOp as A;
        let bool_ty = self.bool_type();
        match op {
            A::And | A::Or => {
                let l = self.coerce(l, bool_ty, l_span)?;
                let r = self.coerce(r, bool_ty, r_span)?;
                let ir_op = if op == A::And {
                    BinaryOp::And
                } else {
                    BinaryOp::Or
                };
                if let (Some(Value::Bool(a)), Some(Value::Bool(b))) =
                    (self.value_of(l), self.value_of(r))
                {
                    let v = if op == A::And { *a && *b } else { *a || *b };
                    return Some(self.literal(Value::Bool(v), bool_ty, span));
                }
                Some(self.push(
                    ExprKind::Binary {
                        op: ir_op,
                        lhs: l,
                        rhs: r,
                    },
                    bool_ty,
                    span,
                ))
            }
            A::Shl | A::Shr => {
                let (lt, rt) = (self.ty_of(l), self.ty_of(r));
                if !(self.is_bits(lt) || self.is_integer(lt)) {
                    let message =
                        format!("a value of type `{}` cannot be shifted", self.type_name(lt));
                    self.error(l_span, message);
                    return None;
                }
                let unsigned_amount =
                    matches!(self.module.types[rt], Type::Bits { signed: false, .. })
                        || matches!(self.value_of(r), Some(Value::Int(v)) if !v.is_negative());
                if !unsigned_amount {
                    self.error(
                        r_span,
                        "a shift amount must be unsigned (`bit<W>`) or a non-negative constant",
                    );
                    return None;
                }
                if self.is_integer(lt) && self.value_of(r).is_none() {
                    self.error(r_span, "shifting an `int` needs a constant amount");
                    return None;
                }
                let ir_op = if op == A::Shl {
                    BinaryOp::Shl
                } else {
                    BinaryOp::Shr
                };
                self.fold_or_push(ir_op, l, r, lt, span)
            }
            A::Concat => {
                let (lt, rt) = (self.ty_of(l), self.ty_of(r));
                // Strings concatenate at compile time.
                if let (Some(Value::String(a)), Some(Value::String(b))) =
                    (self.value_of(l), self.value_of(r))
                {
                    let joined = format!("{a}{b}");
                    return Some(self.literal(Value::String(joined), lt, span));
                }
                let (Some((lw, ls)), Some((rw, _))) = (
                    self.bit_width(lt).filter(|_| self.is_bits(lt)),
                    self.bit_width(rt).filter(|_| self.is_bits(rt)),
                ) else {
                    let message = format!(
                        "`++` joins fixed-width bit strings, not `{}` and `{}`",
                        self.type_name(lt),
                        self.type_name(rt)
                    );
                    self.error(span, message);
                    return None;
                };
                let ty = self.bits_type(lw + rw, ls);
                self.fold_or_push(BinaryOp::Concat, l, r, ty, span)
            }
            _ => {
                let (l, r) = self.unify_operands(l, r, l_span, r_span)?;
                let ty = self.ty_of(l);
                let (ir_op, comparison) = match op {
                    A::Mul => (BinaryOp::Mul, false),
                    A::Div => (BinaryOp::Div, false),
                    A::Mod => (BinaryOp::Mod, false),
                    A::Add => (BinaryOp::Add, false),
                    A::Sub => (BinaryOp::Sub, false),
                    A::SatAdd => (BinaryOp::SatAdd, false),
                    A::SatSub => (BinaryOp::SatSub, false),
                    A::BitAnd => (BinaryOp::BitAnd, false),
                    A::BitXor => (BinaryOp::BitXor, false),
                    A::BitOr => (BinaryOp::BitOr, false),
                    A::Lt => (BinaryOp::Lt, true),
                    A::Gt => (BinaryOp::Gt, true),
                    A::Le => (BinaryOp::Le, true),
                    A::Ge => (BinaryOp::Ge, true),
                    A::Eq => (BinaryOp::Eq, true),
                    A::Ne | A::And | A::Or | A::Shl | A::Shr | A::Concat => (BinaryOp::Ne, true),
                };
                let equality = matches!(ir_op, BinaryOp::Eq | BinaryOp::Ne);
                // Relational operators also order serializable enums, by their values.
                let numeric = self.is_bits(ty)
                    || self.is_integer(ty)
                    || matches!(self.module.types[ty], Type::NewType { .. })
                        && self.bit_width(ty).is_some()
                    || comparison
                        && matches!(self.module.types[ty], Type::Enum(d) if self.module.enums[d].underlying.is_some());
                if !equality && !numeric {
                    let message = format!(
                        "`{}` is not defined on values of type `{}`",
                        op.as_str(),
                        self.type_name(ty)
                    );
                    self.error(span, message);
                    return None;
                }
                if matches!(ir_op, BinaryOp::SatAdd | BinaryOp::SatSub) && self.is_integer(ty) {
                    self.error(
                        span,
                        format!("`{}` needs a fixed width: cast an operand", op.as_str()),
                    );
                    return None;
                }
                let result = if comparison { bool_ty } else { ty };
                self.fold_or_push(ir_op, l, r, result, span)
            }
        }
    }

    /// A binary operation, folded when both operands are known.
    fn fold_or_push(
        &mut self,
        op: BinaryOp,
        l: ExprHandle,
        r: ExprHandle,
        ty: Handle<Type>,
        span: Span,
    ) -> Option<ExprHandle> {
        if let (Some(a), Some(b)) = (self.value_of(l).cloned(), self.value_of(r).cloned()) {
            let operand_ty = self.ty_of(l);
            match fold(
                op,
                &a,
                &b,
                self.bit_width(operand_ty)
                    .filter(|_| self.is_bits(operand_ty)),
                self.bit_width(self.ty_of(r)),
            ) {
                Ok(Some(v)) => return Some(self.literal(v, ty, span)),
                Ok(None) => {}
                Err(message) => {
                    self.error(span, message);
                    return None;
                }
            }
        }
        Some(self.push(ExprKind::Binary { op, lhs: l, rhs: r }, ty, span))
    }

    /// `(T) e`, with the casts P4 allows.
    fn cast(
        &mut self,
        e: ExprHandle,
        target: Handle<Type>,
        inner_span: Span,
        span: Span,
    ) -> Option<ExprHandle> {
        let source = self.ty_of(e);
        if source == target {
            return Some(e);
        }
        let (s, t) = (
            self.module.types[source].clone(),
            self.module.types[target].clone(),
        );
        let allowed = match (&s, &t) {
            (Type::Integer, _) => self.bit_width(target).is_some() || matches!(t, Type::Bool),
            (Type::Bits { .. }, Type::Bits { .. }) => true,
            (
                Type::Bits {
                    width: 1,
                    signed: false,
                },
                Type::Bool,
            )
            | (
                Type::Bool,
                Type::Bits {
                    width: 1,
                    signed: false,
                },
            ) => true,
            (Type::NewType { underlying: a, .. }, Type::NewType { underlying: b, .. })
                if self.bit_width(*a).is_some() && self.bit_width(*a) == self.bit_width(*b) =>
            {
                true
            }
            (Type::NewType { underlying, .. }, _) => {
                *underlying == target
                    || self.bit_width(*underlying).is_some() && self.is_bits(target)
            }
            (_, Type::NewType { underlying, .. }) => {
                *underlying == source
                    || self.is_bits(source) && self.bit_width(*underlying).is_some()
                    || self.is_integer(source)
            }
            (Type::Enum(def), _) => {
                self.module.enums[*def].underlying.is_some() && self.is_bits(target)
            }
            (_, Type::Enum(def)) => {
                self.module.enums[*def].underlying.is_some()
                    && (self.is_bits(source) || self.is_integer(source))
            }
            (Type::Tuple(_), Type::Composite(_)) => true,
            (Type::Composite(_), Type::Composite(_)) => false,
            _ => false,
        };
        if !allowed {
            let message = format!(
                "cannot cast `{}` to `{}`",
                self.type_name(source),
                self.type_name(target)
            );
            self.error(span, message);
            return None;
        }
        if matches!(s, Type::Integer) && matches!(t, Type::Bool) {
            return match self.value_of(e) {
                Some(Value::Int(v)) if v.is_zero() || v.is_one() => {
                    let b = v.is_one();
                    Some(self.literal(Value::Bool(b), target, span))
                }
                _ => {
                    self.error(inner_span, "only 0 and 1 can be cast to `bool`");
                    None
                }
            };
        }
        if matches!(s, Type::Tuple(_)) {
            // `(S) {a, b}`: the list was typed against S already when it could be.
            return self.coerce(e, target, span);
        }
        Some(self.cast_value(e, target, span))
    }

    /// The conversion itself, folded when the value is known.
    pub(super) fn cast_value(
        &mut self,
        e: ExprHandle,
        target: Handle<Type>,
        span: Span,
    ) -> ExprHandle {
        let value = self.value_of(e).cloned();
        let source = self.ty_of(e);
        let folded = match (value, self.bit_width(target)) {
            (Some(Value::Int(v)), Some((w, s)))
                if !matches!(self.module.types[target], Type::Bool | Type::Enum(_)) =>
            {
                Some(Value::Int(wrap(&v, w, s)))
            }
            (Some(Value::Bool(b)), Some(_)) if self.is_bits(target) => {
                Some(Value::Int(BigInt::from(u8::from(b))))
            }
            (Some(Value::Int(v)), _) if matches!(self.module.types[target], Type::Bool) => {
                Some(Value::Bool(!v.is_zero()))
            }
            (Some(Value::Enum(i)), Some((w, s))) => match self.module.types[source].clone() {
                Type::Enum(def) => self.module.enums[def]
                    .members
                    .get(i as usize)
                    .and_then(|(_, v)| v.clone())
                    .map(|v| Value::Int(wrap(&v, w, s))),
                _ => None,
            },
            (Some(Value::Int(v)), None) => match self.module.types[target].clone() {
                Type::Enum(def) => self.module.enums[def]
                    .members
                    .iter()
                    .position(|(_, m)| m.as_ref() == Some(&v))
                    .map(|i| Value::Enum(i as u32)),
                _ => None,
            },
            _ => None,
        };
        match folded {
            Some(v) => self.literal(v, target, span),
            None => self.push(ExprKind::Cast(e), target, span),
        }
    }
}

/// Folds a binary operation on known values. `Ok(None)` leaves it to run time.
fn fold(
    op: BinaryOp,
    a: &Value,
    b: &Value,
    width: Option<(u32, bool)>,
    rhs_width: Option<(u32, bool)>,
) -> Result<Option<Value>, String> {
    let (Value::Int(x), Value::Int(y)) = (a, b) else {
        return Ok(match op {
            BinaryOp::Eq => Some(Value::Bool(a == b)),
            BinaryOp::Ne => Some(Value::Bool(a != b)),
            _ => None,
        });
    };
    let wrapped = |v: BigInt| match width {
        Some((w, s)) => Value::Int(wrap(&v, w, s)),
        None => Value::Int(v),
    };
    let saturate = |v: BigInt| match width {
        Some((w, s)) => {
            let (lo, hi) = if s {
                (-(BigInt::one() << (w - 1)), (BigInt::one() << (w - 1)) - 1)
            } else {
                (BigInt::zero(), (BigInt::one() << w) - 1)
            };
            Value::Int(v.clamp(lo, hi))
        }
        None => Value::Int(v),
    };
    Ok(Some(match op {
        BinaryOp::Add => wrapped(x + y),
        BinaryOp::Sub => wrapped(x - y),
        BinaryOp::Mul => wrapped(x * y),
        BinaryOp::Div | BinaryOp::Mod => {
            if y.is_zero() {
                return Err("division by zero".into());
            }
            if x.is_negative() || y.is_negative() {
                return Err("`/` and `%` are only defined on non-negative values".into());
            }
            wrapped(if op == BinaryOp::Div { x / y } else { x % y })
        }
        BinaryOp::SatAdd => saturate(x + y),
        BinaryOp::SatSub => saturate(x - y),
        BinaryOp::BitAnd => wrapped(x & y),
        BinaryOp::BitOr => wrapped(x | y),
        BinaryOp::BitXor => wrapped(x ^ y),
        BinaryOp::Shl | BinaryOp::Shr => {
            let Some(amount) = y.to_u32().filter(|a| *a <= 1 << 16) else {
                return Err(format!("shift amount {y} is too large"));
            };
            let _ = rhs_width;
            if op == BinaryOp::Shl {
                wrapped(x << amount)
            } else {
                wrapped(x >> amount)
            }
        }
        BinaryOp::Concat => {
            let Some((rw, _)) = rhs_width else {
                return Ok(None);
            };
            let y = wrap(y, rw, false);
            let (x, result) = match width {
                Some((w, signed)) => (wrap(x, w, false), Some((w + rw, signed))),
                None => (x.clone(), None),
            };
            let joined = (x << rw) | y;
            // The result takes the left operand's signedness: reduce it to that range.
            match result {
                Some((w, signed)) => Value::Int(wrap(&joined, w, signed)),
                None => Value::Int(joined),
            }
        }
        BinaryOp::Eq => Value::Bool(x == y),
        BinaryOp::Ne => Value::Bool(x != y),
        BinaryOp::Lt => Value::Bool(x < y),
        BinaryOp::Gt => Value::Bool(x > y),
        BinaryOp::Le => Value::Bool(x <= y),
        BinaryOp::Ge => Value::Bool(x >= y),
        BinaryOp::And | BinaryOp::Or => return Ok(None),
    }))
}
