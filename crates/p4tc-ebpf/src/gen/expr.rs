//! Expressions: every value of width W at most 64 is a host-order C integer already reduced
//! to W bits; wider bit strings are big-endian byte arrays.

use p4tc_ir::arena::Handle;
use p4tc_ir::ir::{
    BinaryOp, Builtin, Callee, Expr, ExprKind, LocalKind, StackMember, Type, UnaryOp, Value,
};

use super::out::{cbits, ident, mask_lit, u64_lit, uint_for, Out};
use super::{unsupported, Gen, Repr, Ret, Scope, R};

impl<'m> Gen<'m> {
    pub(crate) fn span_of(&self, s: &Scope, e: Handle<Expr>) -> p4tc_ir::Span {
        s.body.exprs.span(e)
    }

    /// Reduces a C integer expression to `width` bits, in the C type for that width.
    pub(crate) fn wrap(&self, c: String, width: u32) -> String {
        let t = uint_for(width);
        if width == cbits(width) {
            format!("(({t})({c}))")
        } else {
            format!("(({t})(({c}) & {}))", mask_lit(width))
        }
    }

    /// A literal of type `ty`.
    pub(crate) fn literal(
        &mut self,
        v: &Value,
        ty: Handle<Type>,
        span: p4tc_ir::Span,
    ) -> R<String> {
        let rty = self.resolve(ty);
        match (v, self.repr(ty)) {
            (Value::Bool(b), _) => Ok(if *b { "1".into() } else { "0".into() }),
            (Value::Error(i), _) | (Value::MatchKind(i), _) => Ok(u64_lit(u64::from(*i))),
            (Value::Enum(i), _) => {
                // A serializable enum's member has its own value.
                let ety = match self.ty(ty) {
                    Type::Enum(e) => Some(*e),
                    _ => None,
                };
                if let Some(e) = ety {
                    if let Some((_, Some(val))) = self.m.enums[e].members.get(*i as usize) {
                        let bits = match self.repr(ty) {
                            Repr::Int { width, .. } => width,
                            _ => 32,
                        };
                        let u = twos(val, bits);
                        return Ok(u64_lit(u));
                    }
                }
                Ok(u64_lit(u64::from(*i)))
            }
            (Value::Int(i), Repr::Int { width, .. }) => Ok(u64_lit(twos(i, width))),
            (Value::Int(i), Repr::Wide { width }) => {
                let bytes = width.div_ceil(8) as usize;
                let mut b = vec![0u8; bytes];
                let be = i.to_biguint().unwrap_or_default().to_bytes_be();
                let n = be.len().min(bytes);
                b[bytes - n..].copy_from_slice(&be[be.len() - n..]);
                let t = self.ctype(ty, span)?;
                let items: Vec<String> = b.iter().map(|x| format!("0x{x:02x}")).collect();
                Ok(format!("(({t}){{{{{}}}}})", items.join(", ")))
            }
            (Value::Tuple(items), Repr::Aggregate) => {
                let t = self.ctype(ty, span)?;
                let field_tys: Vec<Handle<Type>> = match self.ty(rty) {
                    Type::Composite(c) => {
                        self.m.composites[*c].fields.iter().map(|f| f.ty).collect()
                    }
                    Type::Tuple(ts) => ts.clone(),
                    Type::Stack { element, size } => vec![*element; *size as usize],
                    _ => return unsupported("this aggregate literal", span),
                };
                let mut parts = Vec::new();
                for (item, fty) in items.iter().zip(field_tys) {
                    parts.push(self.literal(item, fty, span)?);
                }
                if let Type::Stack { .. } = self.ty(rty) {
                    return Ok(format!("(({t}){{{{{}}}}})", parts.join(", ")));
                }
                if self.header_of(rty).is_some() {
                    parts.push("1".into());
                }
                Ok(format!("(({t}){{{}}})", parts.join(", ")))
            }
            (Value::InvalidHeader, _) => {
                let t = self.ctype(ty, span)?;
                Ok(format!("(({t}){{}})"))
            }
            _ => unsupported(
                format!("the literal {v:?} of type {}", self.m.type_name(ty)),
                span,
            ),
        }
    }

    /// An l-value.
    pub(crate) fn lvalue(&mut self, s: &Scope, e: Handle<Expr>) -> R<String> {
        self.place(s, e, true)
    }

    /// A place, for writing (`write`) or reading. Stack elements at run-time indices follow
    /// the interpreter: out of range, a read gives a zeroed element and a write is lost (it
    /// goes to a scratch element).
    pub(crate) fn place(&mut self, s: &Scope, e: Handle<Expr>, write: bool) -> R<String> {
        let ex = &s.body.exprs[e];
        let span = self.span_of(s, e);
        match &ex.kind {
            ExprKind::Local(l) => Ok(s.names.get(l.index()).cloned().unwrap_or_default()),
            ExprKind::Field { base, index } => {
                let bty = s.body.exprs[*base].ty;
                if !write && matches!(s.body.exprs[*base].kind, ExprKind::Local(_)) {
                    // A metadata field the parser set to a host-port answer: asked here.
                    let lazy = self.lazy_fields.get(&(self.resolve(bty), *index)).cloned();
                    if let Some(lazy) = lazy {
                        let test = self.host_port_test(s, &lazy.port);
                        let answer = format!("({}{test})", if lazy.net { "!" } else { "" });
                        return Ok(match lazy.arms {
                            Some((a, b)) => format!("({answer} ? {a} : {b})"),
                            None => answer,
                        });
                    }
                    // The input timestamp: the packet's clock, read on first use.
                    if self.lazy_timestamp == Some((self.resolve(bty), *index))
                        && !matches!(s.ret, super::Ret::C)
                    {
                        return Ok(self.packet_now());
                    }
                }
                let b = self.place(s, *base, write)?;
                Ok(self.member(
                    &b,
                    &ident(&self.field_name(self.resolve(bty), *index as usize)),
                ))
            }
            ExprKind::Element { base, index } => {
                let b = self.place(s, *base, write)?;
                let bty = s.body.exprs[*base].ty;
                let i = self.expr(s, *index)?;
                self.checked_element(s, &b, bty, &i, write, span)
            }
            ExprKind::StackMember { base, member } => {
                let b = self.place(s, *base, write)?;
                let bty = s.body.exprs[*base].ty;
                if let (StackMember::Last, Some(k)) = (member, self.known_last(&b, bty)) {
                    return Ok(element(&b, &k.to_string(), self.stack_size(bty)));
                }
                match member {
                    StackMember::Next => {
                        self.checked_element(s, &b, bty, &format!("{b}.next_index"), write, span)
                    }
                    StackMember::Last if !write && self.last_ptrs.contains_key(&b) => {
                        Ok(format!("(*{})", self.last_ptrs[&b]))
                    }
                    StackMember::Last => self.checked_element(
                        s,
                        &b,
                        bty,
                        &format!("({b}.next_index - 1)"),
                        write,
                        span,
                    ),
                    StackMember::LastIndex => unsupported("assigning to lastIndex", span),
                }
            }
            _ => unsupported("this kind of assignment target", span),
        }
    }

    /// `base.e[i]` with a run-time `i`: in range, the element; out of range, a zeroed value
    /// (reads) or a scratch element (writes, lost).
    fn checked_element(
        &mut self,
        s: &Scope,
        b: &str,
        stack_ty: Handle<Type>,
        i: &str,
        write: bool,
        span: p4tc_ir::Span,
    ) -> R<String> {
        let size = self.stack_size(stack_ty);
        if i.trim_end_matches('u').parse::<u32>().is_ok() {
            return Ok(element(b, i, size));
        }
        let elem_ty = match self.ty(self.resolve(stack_ty)) {
            Type::Stack { element, .. } => *element,
            _ => return unsupported("indexing something that is not a stack", span),
        };
        let t = self.ctype(elem_ty, span)?;
        let inside = element(b, i, size);
        if !write {
            return Ok(format!("((u64)(u32)({i}) < {size} ? {inside} : ({t}){{}})"));
        }
        if matches!(s.ret, Ret::C) {
            // In a function, where the scratch element is not in scope: the last element.
            return Ok(inside);
        }
        let scratch = format!("oob_{}", ident(t.trim_start_matches("struct ")));
        let decl = format!("{t} {scratch} = {{}}; /* writes past a stack's end land here */");
        if !self.extra_locals.contains(&decl) {
            self.extra_locals.push(decl);
        }
        Ok(format!(
            "(*((u64)(u32)({i}) < {size} ? &{inside} : &{scratch}))"
        ))
    }

    /// True when the expression names a place (a local, or a field or element of one).
    pub(crate) fn is_place(&self, s: &Scope, e: Handle<Expr>) -> bool {
        match &s.body.exprs[e].kind {
            ExprKind::Local(_) => true,
            ExprKind::Field { base, .. }
            | ExprKind::Element { base, .. }
            | ExprKind::StackMember { base, .. } => self.is_place(s, *base),
            _ => false,
        }
    }

    pub(crate) fn stack_size(&self, ty: Handle<Type>) -> u32 {
        match self.ty(self.resolve(ty)) {
            Type::Stack { size, .. } => *size,
            _ => 1,
        }
    }

    /// An r-value.
    pub(crate) fn expr(&mut self, s: &Scope, e: Handle<Expr>) -> R<String> {
        let ex = &s.body.exprs[e];
        let ty = ex.ty;
        let span = self.span_of(s, e);
        match &ex.kind {
            ExprKind::Literal(v) => self.literal(v, ty, span),
            ExprKind::Field { base, index } if !self.is_place(s, *base) => {
                // A field of a computed value (a call's result, a literal struct).
                let b = self.expr(s, *base)?;
                let bty = s.body.exprs[*base].ty;
                let f = ident(&self.field_name(self.resolve(bty), *index as usize));
                Ok(format!("({b}).{f}"))
            }
            ExprKind::Local(_) | ExprKind::Field { .. } | ExprKind::Element { .. } => {
                self.place(s, e, false)
            }
            ExprKind::Instance(_) => unsupported("an extern instance used as a value", span),
            ExprKind::Slice { base, hi, lo } => {
                let b = self.expr(s, *base)?;
                let w = hi - lo + 1;
                match self.repr(s.body.exprs[*base].ty) {
                    Repr::Int { .. } => Ok(self.wrap(format!("(u64)({b}) >> {lo}"), w)),
                    Repr::Wide { width } => {
                        if w > 64 {
                            return unsupported("slices wider than 64 bits", span);
                        }
                        let bytes = width.div_ceil(8);
                        Ok(self.wrap(wide_bits(&b, bytes, *lo, w), w))
                    }
                    _ => unsupported("this slice", span),
                }
            }
            ExprKind::DynamicSlice { .. } => unsupported("slices with a run-time bound", span),
            ExprKind::StackMember { base, member } => match member {
                StackMember::LastIndex => {
                    let b = self.place(s, *base, false)?;
                    if let Some(k) = self.known_last(&b, s.body.exprs[*base].ty) {
                        return Ok(format!("{k}u"));
                    }
                    Ok(format!("((u32)({b}.next_index - 1))"))
                }
                _ => self.place(s, e, false),
            },
            ExprKind::Unary { op, operand } => {
                let a = self.expr(s, *operand)?;
                match (op, self.repr(ty)) {
                    (UnaryOp::Not, _) => Ok(format!("(!{a})")),
                    (UnaryOp::BitNot, Repr::Int { width, .. }) => {
                        Ok(self.wrap(format!("~(u64)({a})"), width))
                    }
                    (UnaryOp::BitNot, Repr::Wide { width }) => {
                        Ok(format!("p4tc_w{}_not({a})", width.div_ceil(8)))
                    }
                    (UnaryOp::Neg, Repr::Int { width, .. }) => {
                        Ok(self.wrap(format!("-(u64)({a})"), width))
                    }
                    _ => unsupported("this unary operation on wide values", span),
                }
            }
            ExprKind::Binary { op, lhs, rhs } => self.binary(s, *op, *lhs, *rhs, ty, span),
            ExprKind::Select {
                cond,
                then,
                otherwise,
            } => {
                let c = self.expr(s, *cond)?;
                let a = self.expr(s, *then)?;
                let b = self.expr(s, *otherwise)?;
                Ok(format!("({c} ? {a} : {b})"))
            }
            ExprKind::Cast(inner) => {
                let a = self.expr(s, *inner)?;
                self.cast(a, s.body.exprs[*inner].ty, ty, span)
            }
            ExprKind::Compose(items) => {
                let t = self.ctype(ty, span)?;
                let mut parts = Vec::new();
                for i in items {
                    parts.push(self.expr(s, *i)?);
                }
                if self.header_of(self.resolve(ty)).is_some() {
                    parts.push("1".into());
                }
                Ok(format!("(({t}){{{}}})", parts.join(", ")))
            }
            ExprKind::Call { callee, args } => {
                let mut o = Out::new(1);
                let v = self.call(s, callee, args, ty, span, &mut o)?;
                if o.text.is_empty() {
                    Ok(v.unwrap_or_else(|| "0".into()))
                } else {
                    let mut t = String::from("({\n");
                    t.push_str(&o.text);
                    if let Some(v) = v {
                        t.push_str(&format!("    {v};\n"));
                    }
                    t.push_str("})");
                    Ok(t)
                }
            }
            ExprKind::TableHit { table, hit } => {
                let mut o = Out::new(1);
                let (h, _) = self.apply_table(s, *table, &mut o, span)?;
                Ok(format!(
                    "({{\n{}    {}{h};\n}})",
                    o.text,
                    if *hit { "" } else { "!" }
                ))
            }
        }
    }

    fn binary(
        &mut self,
        s: &Scope,
        op: BinaryOp,
        lhs: Handle<Expr>,
        rhs: Handle<Expr>,
        ty: Handle<Type>,
        span: p4tc_ir::Span,
    ) -> R<String> {
        let lty = s.body.exprs[lhs].ty;
        let a = self.expr(s, lhs)?;
        let b = self.expr(s, rhs)?;
        let lrepr = self.repr(lty);
        use BinaryOp::*;
        match op {
            And => return Ok(format!("({a} && {b})")),
            Or => return Ok(format!("({a} || {b})")),
            Eq | Ne => {
                let neg = if op == Ne { "!" } else { "" };
                return match lrepr {
                    Repr::Int { .. } => {
                        Ok(format!("({a} {} {b})", if op == Eq { "==" } else { "!=" }))
                    }
                    Repr::Wide { width } => {
                        Ok(format!("({neg}p4tc_w{}_eq({a}, {b}))", width.div_ceil(8)))
                    }
                    _ => unsupported("comparing structs or headers", span),
                };
            }
            _ => {}
        }
        if let (Repr::Wide { width }, BitAnd | BitOr | BitXor) = (&lrepr, op) {
            let n = width.div_ceil(8);
            let f = match op {
                BitAnd => "and",
                BitOr => "or",
                _ => "xor",
            };
            return Ok(format!("p4tc_w{n}_{f}({a}, {b})"));
        }
        let Repr::Int { width: lw, signed } = lrepr else {
            return unsupported(format!("{op:?} on values wider than 64 bits"), span);
        };
        let width = match self.repr(ty) {
            Repr::Int { width, .. } => width,
            _ => lw,
        };
        let sx = |x: &str| format!("p4tc_sext({x}, {lw})");
        Ok(match op {
            Lt | Gt | Le | Ge => {
                let o = match op {
                    Lt => "<",
                    Gt => ">",
                    Le => "<=",
                    _ => ">=",
                };
                if signed {
                    format!("({} {o} {})", sx(&a), sx(&b))
                } else {
                    format!("({a} {o} {b})")
                }
            }
            Add => self.wrap(format!("(u64)({a}) + (u64)({b})"), width),
            Sub => self.wrap(format!("(u64)({a}) - (u64)({b})"), width),
            Mul => self.wrap(format!("(u64)({a}) * (u64)({b})"), width),
            Div | Mod => {
                let o = if op == Div { "/" } else { "%" };
                if signed {
                    self.wrap(format!("(u64)({} {o} {})", sx(&a), sx(&b)), width)
                } else {
                    format!(
                        "((u64)({b}) == 0 ? 0 : {})",
                        self.wrap(format!("(u64)({a}) {o} (u64)({b})"), width)
                    )
                }
            }
            BitAnd => format!("({a} & {b})"),
            BitOr => format!("({a} | {b})"),
            BitXor => format!("({a} ^ {b})"),
            Shl | Shr => {
                let shifted = if op == Shl {
                    format!("(u64)({a}) << (t_)")
                } else if signed {
                    format!("(u64)({} >> (t_))", sx(&a))
                } else {
                    format!("(u64)({a}) >> (t_)")
                };
                let fill = if op == Shr && signed {
                    self.wrap(format!("(u64)({} >> 63)", sx(&a)), width)
                } else {
                    "0".into()
                };
                format!(
                    "({{ u64 t_ = (u64)({b}); t_ >= {width} ? {fill} : {}; }})",
                    self.wrap(shifted, width)
                )
            }
            SatAdd | SatSub => {
                if signed {
                    let lo = -(1i128 << (lw - 1));
                    let hi = (1i128 << (lw - 1)) - 1;
                    let o = if op == SatAdd { "+" } else { "-" };
                    format!(
                        "({{ s64 r_ = {} {o} {}; r_ = r_ > {hi}LL ? {hi}LL : r_ < ({lo}LL) ? ({lo}LL) : r_; {}; }})",
                        sx(&a),
                        sx(&b),
                        self.wrap("(u64)r_".into(), width)
                    )
                } else if op == SatAdd {
                    format!(
                        "({{ u64 r_ = (u64)({a}) + (u64)({b}); r_ > {m} ? ({t}){m} : ({t})r_; }})",
                        m = mask_lit(width),
                        t = uint_for(width)
                    )
                } else {
                    format!(
                        "({{ u64 x_ = (u64)({a}), y_ = (u64)({b}); ({})(x_ > y_ ? x_ - y_ : 0); }})",
                        uint_for(width)
                    )
                }
            }
            Concat => {
                let rw = match self.repr(s.body.exprs[rhs].ty) {
                    Repr::Int { width, .. } => width,
                    _ => return unsupported("concatenation with a wide value", span),
                };
                if lw + rw > 64 {
                    return unsupported("concatenations wider than 64 bits", span);
                }
                self.wrap(format!("((u64)({a}) << {rw}) | (u64)({b})"), width)
            }
            And | Or | Eq | Ne => unreachable_op(),
        })
    }

    /// Converts `a` of type `from` to type `to`.
    pub(crate) fn cast(
        &mut self,
        a: String,
        from: Handle<Type>,
        to: Handle<Type>,
        span: p4tc_ir::Span,
    ) -> R<String> {
        match (self.repr(from), self.repr(to)) {
            (Repr::Int { width: w1, signed }, Repr::Int { width: w2, .. }) => {
                if self.resolve(to) == self.resolve(from) {
                    Ok(a)
                } else if matches!(self.ty(self.resolve(to)), Type::Bool) {
                    Ok(format!("(({a}) != 0)"))
                } else if signed && w2 > w1 {
                    Ok(self.wrap(format!("(u64)p4tc_sext({a}, {w1})"), w2))
                } else if w2 >= w1 {
                    Ok(format!("(({})({a}))", uint_for(w2)))
                } else {
                    Ok(self.wrap(a, w2))
                }
            }
            (Repr::Int { .. }, Repr::Wide { width }) => {
                let bytes = width.div_ceil(8);
                let t = self.ctype(to, span)?;
                let n = bytes.min(8);
                Ok(format!(
                    "({{ {t} w_ = {{}}; p4tc_st_be_b(&w_.b[{}], (u64)({a}), {n}); w_; }})",
                    bytes - n
                ))
            }
            (Repr::Wide { width }, Repr::Int { width: w2, .. }) => {
                let bytes = width.div_ceil(8);
                Ok(self.wrap(wide_bits(&a, bytes, 0, w2.min(64)), w2))
            }
            (Repr::Wide { width: a1 }, Repr::Wide { width: a2 }) if a1 == a2 => Ok(a),
            (Repr::Aggregate, Repr::Aggregate) if self.resolve(from) == self.resolve(to) => Ok(a),
            _ => unsupported(
                format!(
                    "casting {} to {}",
                    self.m.type_name(from),
                    self.m.type_name(to)
                ),
                span,
            ),
        }
    }

    /// A call; its statements go to `o`, its value (if any) is returned.
    pub(crate) fn call(
        &mut self,
        s: &Scope,
        callee: &Callee,
        args: &[Handle<Expr>],
        ty: Handle<Type>,
        span: p4tc_ir::Span,
        o: &mut Out,
    ) -> R<Option<String>> {
        match callee {
            Callee::Builtin(b) => {
                let h = args.first().copied();
                let Some(h) = h else {
                    return Err(crate::CodegenError::Malformed(
                        "a builtin without a receiver".into(),
                    ));
                };
                let lv = self.lvalue(s, h)?;
                match b {
                    Builtin::IsValid => Ok(Some(format!("{lv}.__valid"))),
                    Builtin::SetValid | Builtin::SetInvalid => {
                        let (want, cond) = if *b == Builtin::SetValid {
                            (1, "!")
                        } else {
                            (0, "")
                        };
                        // Not marked modified: a change of validity sets `dirty`, and then
                        // the deparser rewrites every header whole; without one (the header
                        // already had that validity) its fields are as parsed.
                        self.validity_changes = true;
                        if *b == Builtin::SetValid {
                            // A header made valid may hold fields no parse filled: the
                            // deparser then writes it from its fields.
                            self.modified.insert(set_valid_key(&lv));
                        }
                        o.line(format!(
                            "if ({cond}{lv}.__valid) {{ {lv}.__valid = {want}; dirty = 1; }}"
                        ));
                        Ok(None)
                    }
                    Builtin::PushFront | Builtin::PopFront => {
                        let count = match args.get(1).map(|a| &s.body.exprs[*a].kind) {
                            Some(ExprKind::Literal(v)) => {
                                u32::try_from(&super::value_uint(v)).unwrap_or(u32::MAX)
                            }
                            _ => {
                                return unsupported(
                                    "push_front / pop_front by a run-time count",
                                    span,
                                )
                            }
                        };
                        let size = self.stack_size(s.body.exprs[h].ty);
                        let n = count.min(size);
                        // Every element may move. With a count above zero `dirty` is set
                        // below, so the deparser rewrites the stack's elements from their
                        // fields (it never copies them as bytes); the other headers are
                        // untouched.
                        o.open(format!(
                            "/* {lv}.{} */",
                            if *b == Builtin::PushFront {
                                "push_front"
                            } else {
                                "pop_front"
                            }
                        ));
                        if *b == Builtin::PushFront {
                            for i in (n..size).rev() {
                                o.line(format!("{lv}.e[{i}] = {lv}.e[{}];", i - n));
                            }
                            for i in 0..n {
                                o.line(format!("{lv}.e[{i}].__valid = 0;"));
                            }
                            o.line(format!("{lv}.next_index = {lv}.next_index + {n} > {size} ? {size} : {lv}.next_index + {n};"));
                        } else {
                            for i in 0..size.saturating_sub(n) {
                                o.line(format!("{lv}.e[{i}] = {lv}.e[{}];", i + n));
                            }
                            for i in size.saturating_sub(n)..size {
                                o.line(format!("{lv}.e[{i}].__valid = 0;"));
                            }
                            o.line(format!("{lv}.next_index = {lv}.next_index >= {n} ? {lv}.next_index - {n} : 0;"));
                        }
                        if n > 0 {
                            self.validity_changes = true;
                            o.line("dirty = 1;");
                        }
                        o.close();
                        Ok(None)
                    }
                }
            }
            Callee::Action(a) => {
                let mut vals = Vec::new();
                for arg in args {
                    vals.push(ArgSrc::Expr(*arg));
                }
                self.inline_action(s, *a, &vals, None, o)?;
                Ok(None)
            }
            Callee::Function(f) => self.call_function(s, *f, args, span).map(Some),
            Callee::ExternFunction { name, .. } => self.extern_function(s, name, args, ty, span, o),
            Callee::ExternMethod { def, method, .. } => {
                let ext = self.m.externs[*def].name.clone();
                self.extern_method(s, &ext, method, args, ty, span, o)
            }
            Callee::TableApply(t) => {
                self.apply_table(s, *t, o, span)?;
                Ok(None)
            }
            Callee::BlockApply(_) => {
                unsupported("applying a parser or control from another block", span)
            }
        }
    }

    /// A P4 function becomes a static inline C function; `out`/`inout` parameters are pointers.
    fn call_function(
        &mut self,
        s: &Scope,
        f: Handle<p4tc_ir::ir::Function>,
        args: &[Handle<Expr>],
        span: p4tc_ir::Span,
    ) -> R<String> {
        let name = self.function(f, span)?;
        let func = &self.m.functions[f];
        let mut cargs = Vec::new();
        for (i, arg) in args.iter().enumerate() {
            let kind = func.body.locals.iter().nth(i).map(|(_, l)| l.kind);
            match kind {
                Some(LocalKind::Out) | Some(LocalKind::InOut) => {
                    let lv = self.lvalue(s, *arg)?;
                    self.mark_lhs(s, *arg, &lv);
                    cargs.push(format!("&{lv}"));
                }
                _ => cargs.push(self.expr(s, *arg)?),
            }
        }
        Ok(format!("{name}({})", cargs.join(", ")))
    }

    fn function(&mut self, f: Handle<p4tc_ir::ir::Function>, span: p4tc_ir::Span) -> R<String> {
        if let Some(n) = self.func_names.get(&f) {
            return Ok(n.clone());
        }
        let func = &self.m.functions[f];
        let name = format!("fn_{}_{}", ident(&func.name), f.index());
        self.func_names.insert(f, name.clone());
        let ret = match self.repr(func.return_type) {
            Repr::None => "void".to_string(),
            _ => self.ctype(func.return_type, span)?,
        };
        let mut params = Vec::new();
        let mut names = Vec::new();
        let mut decls = Vec::new();
        for (i, (h, l)) in func.body.locals.iter().enumerate() {
            let t = match self.repr(l.ty) {
                Repr::None => "void".to_string(),
                _ => self.ctype(l.ty, func.body.locals.span(h))?,
            };
            let n = format!("l{i}_{}", ident(&l.name));
            if i < func.params {
                match l.kind {
                    LocalKind::Out | LocalKind::InOut => {
                        params.push(format!("{t} *{n}"));
                        names.push(format!("(*{n})"));
                    }
                    _ => {
                        params.push(format!("{t} {n}"));
                        names.push(n);
                    }
                }
            } else {
                if t != "void" {
                    decls.push(format!("{t} {n} = {};", self.zero(l.ty)));
                }
                names.push(n);
            }
        }
        let mut scope = Scope {
            body: &func.body,
            names,
            ret: Ret::C,
            exit: "control_end".into(),
            cont: None,
            table: None,
            deparser: false,
            depth: 0,
            parser: false,
        };
        let mut o = Out::new(1);
        for d in decls {
            o.line(d);
        }
        self.block(&mut scope, &func.body.block, &mut o)?;
        let mut text = format!(
            "P4TC_INLINE {ret} {name}({})\n{{\n",
            if params.is_empty() {
                "void".to_string()
            } else {
                params.join(", ")
            }
        );
        text.push_str(&o.text);
        text.push_str("}\n\n");
        self.funcs.text.push_str(&text);
        Ok(name)
    }

    /// Records that the header an assignment target lies in may have changed, and which of
    /// its fields ([`modified_field_key`]), so that the deparser writes back only those.
    pub(crate) fn mark_lhs(&mut self, s: &Scope, lhs: Handle<Expr>, lv: &str) {
        // Walk from the target towards its root; the first header found is the one changed,
        // and the field walked through last is the one of its fields assigned.
        let mut e = lhs;
        let mut field: Option<u32> = None;
        loop {
            let ex = &s.body.exprs[e];
            if let Some(c) = self.header_of(self.resolve(ex.ty)) {
                match self.lvalue(s, e) {
                    Ok(h) => {
                        if !plain_lvalue(&h) {
                            // An element at a run-time index: which one is not known here.
                            self.modified_all = true;
                        }
                        let name = field
                            .filter(|_| e != lhs)
                            .and_then(|i| self.m.composites[c].fields.get(i as usize))
                            // The C name, as the deparser asks by the wire layout's names.
                            .map(|f| ident(&f.name));
                        match name {
                            Some(f) => {
                                self.modified.insert(modified_field_key(&h, &f));
                            }
                            None => {
                                self.modified.insert(modified_field_key(&h, "*"));
                            }
                        }
                        if e == lhs {
                            // A whole header assigned: its validity may change too.
                            self.modified_all = true;
                        }
                        self.modified.insert(h);
                    }
                    Err(_) => self.modified_all = true,
                }
                return;
            }
            match &ex.kind {
                ExprKind::Field { base, index } => {
                    field = Some(*index);
                    e = *base;
                }
                ExprKind::Slice { base, .. } => e = *base,
                ExprKind::Element { .. } | ExprKind::StackMember { .. } => {
                    self.modified_all = true;
                    return;
                }
                _ => {
                    // A struct holding headers (or the whole header struct) assigned.
                    if self.contains_header(ex.ty) {
                        self.modified_all = true;
                    }
                    let _ = lv;
                    return;
                }
            }
        }
    }

    /// A C expression for the time in ns, read with `bpf_ktime_get_ns` at most once per
    /// packet (a local of the main function, filled on first use): a hit's timestamp, an
    /// expire-time change and an entry's creation then cost one helper call between them.
    /// Only for code in the main function (not in a P4 function's C function).
    pub(crate) fn packet_now(&mut self) -> String {
        let decl = "u64 now_pkt_ = 0; /* bpf_ktime_get_ns(), read on first use */".to_string();
        if !self.extra_locals.contains(&decl) {
            self.extra_locals.push(decl);
        }
        "(now_pkt_ ? now_pkt_ : (now_pkt_ = bpf_ktime_get_ns()))".into()
    }

    /// A C expression: is `port` a host port (the CPU port or one in `p4tc_host_ports`)?
    /// In the main function the answer for the last port asked is kept, so a program that
    /// asks about the same port several times (a parser, then `SelectByDirection` in each
    /// key field) does one map lookup per packet; a P4 function's own C function asks the
    /// map each time.
    pub(crate) fn host_port_test(&mut self, s: &Scope, port: &str) -> String {
        self.uses_host_ports = true;
        let lookup =
            "(port_ == P4TC_PORT_CPU || p4tc_found(bpf_map_lookup_elem(&p4tc_host_ports, &port_)))";
        if matches!(s.ret, super::Ret::C) {
            return format!("({{ u32 port_ = {port}; {lookup}; }})");
        }
        let decl = "u32 hp_port_ = 0; u8 hp_known_ = 0, hp_ = 0; /* the last host-port answer */"
            .to_string();
        if !self.extra_locals.contains(&decl) {
            self.extra_locals.push(decl);
        }
        format!(
            "({{ u32 port_ = {port}; if (!hp_known_ || hp_port_ != port_) {{ hp_ = {lookup}; hp_port_ = port_; hp_known_ = 1; }} hp_; }})"
        )
    }

    /// True when field `field` of the header `lv` may have been assigned (or the header as a
    /// whole, or something the generator cannot follow).
    pub(crate) fn field_may_change(&self, lv: &str, field: &str) -> bool {
        self.modified_all
            || self.modified.contains(&modified_field_key(lv, "*"))
            || self.modified.contains(&modified_field_key(lv, field))
    }

    pub(crate) fn contains_header(&self, ty: Handle<Type>) -> bool {
        let ty = self.resolve(ty);
        match self.ty(ty) {
            Type::Composite(c) => {
                let c = &self.m.composites[*c];
                c.kind != p4tc_ir::ir::CompositeKind::Struct
                    || c.fields.iter().any(|f| self.contains_header(f.ty))
            }
            Type::Stack { element, .. } => self.contains_header(*element),
            _ => false,
        }
    }
}

/// True when `lv` names one place the same way wherever it is written: no index, or a
/// stack element by a constant index (`hdr->s.e[2]`), not one picked at run time.
pub(crate) fn plain_lvalue(lv: &str) -> bool {
    match lv.split_once(".e[") {
        None => !lv.contains('['),
        Some((base, rest)) => {
            !base.contains('[')
                && rest
                    .strip_suffix(']')
                    .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
        }
    }
}

/// The key in `Gen::modified` saying that something may `setValid` header `lv`.
pub(crate) fn set_valid_key(lv: &str) -> String {
    format!("{lv}\u{2}setValid")
}

/// The key in `Gen::modified` saying that field `field` of header `lv` may change (`*`: any
/// of its fields). The separator cannot occur in a C lvalue, so these never collide with the
/// headers' own entries.
pub(crate) fn modified_field_key(lv: &str, field: &str) -> String {
    format!("{lv}\u{1}{field}")
}

/// Where an inlined action's argument comes from.
#[derive(Clone, Debug)]
pub(crate) enum ArgSrc {
    /// An expression of the caller's body.
    Expr(Handle<Expr>),
    /// A C expression (already converted).
    C(String),
}

/// `base.f`, or `p->f` when base is `(*p)`.
pub(crate) fn field_access(base: &str, f: &str) -> String {
    if let Some(inner) = base.strip_prefix("(*").and_then(|b| b.strip_suffix(')')) {
        if inner.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return format!("{inner}->{f}");
        }
    }
    format!("{base}.{f}")
}

/// `base.e[i]`, kept inside the array.
pub(crate) fn element(base: &str, i: &str, size: u32) -> String {
    if let Ok(n) = i.trim_end_matches('u').parse::<u32>() {
        return format!("{base}.e[{}]", n.min(size.saturating_sub(1)));
    }
    format!("{base}.e[p4tc_index((u64)(u32)({i}), {size})]")
}

/// Bits `lo .. lo + w` (from the least significant end) of a big-endian byte array value.
fn wide_bits(b: &str, bytes: u32, lo: u32, w: u32) -> String {
    // Byte k (0 = most significant) holds bits 8*(bytes-1-k) .. +8.
    let mut parts = Vec::new();
    for k in 0..bytes {
        let byte_lo = 8 * (bytes - 1 - k);
        let byte_hi = byte_lo + 8;
        let a = lo.max(byte_lo);
        let z = (lo + w).min(byte_hi);
        if a >= z {
            continue;
        }
        let n = z - a;
        let part = format!(
            "(((u64)((({b}).b[{k}]) >> {}) & {}) << {})",
            a - byte_lo,
            mask_lit(n),
            a - lo
        );
        parts.push(part);
    }
    if parts.is_empty() {
        "0".into()
    } else {
        format!("({})", parts.join(" | "))
    }
}

/// The `bits`-bit two's complement pattern of `i`.
pub(crate) fn twos(i: &num_bigint::BigInt, bits: u32) -> u64 {
    use num_bigint::BigInt;
    let modulus = BigInt::from(1u8) << bits.min(64);
    let r = ((i % &modulus) + &modulus) % &modulus;
    u64::try_from(r).unwrap_or(0)
}

fn unreachable_op() -> String {
    String::from("0")
}
