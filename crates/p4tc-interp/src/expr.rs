//! Compiling expressions into closures: scalars (at most 128 bits) return their value; wide
//! and composite values return the address of the slots holding them (an l-value's own slots
//! when the expression is one, else temporaries of their own).

use num_bigint::BigUint;
use num_traits::Zero;
use p4tc_ir::arena::Handle;
use p4tc_ir::ir::{BinaryOp, Expr, ExprKind, StackMember, Type, UnaryOp};

use crate::arith::{self, mask, mask_limbs, read_big, sext, to_bigint, to_pattern, write_big};
use crate::compile::{Compiler, Place, Scope, R};
use crate::ctx::{AFn, Ctx, SFn};
use crate::types::{limbs, Kind};

/// A compiled expression.
pub(crate) enum CE {
    /// A scalar: its value.
    S(SFn),
    /// Anything else: where its value is.
    A(AFn),
}

/// An expression's value as a BigUint (the slow path for wide values).
pub(crate) type BigFn = Box<dyn Fn(&mut Ctx<'_>) -> BigUint + Send + Sync>;

/// The low 128 bits of a BigUint.
pub(crate) fn low_u128(v: &BigUint) -> u128 {
    let d = v.to_u64_digits();
    u128::from(d.first().copied().unwrap_or(0)) | (u128::from(d.get(1).copied().unwrap_or(0)) << 64)
}

impl<'m> Compiler<'m> {
    pub fn get_expr(&self, sc: Scope<'m>, e: Handle<Expr>) -> R<&'m Expr> {
        sc.body
            .exprs
            .get(e)
            .ok_or_else(|| self.unsupported("a dangling expression handle", &sc, e))
    }

    /// A scalar expression's value.
    pub fn scalar(&mut self, sc: Scope<'m>, e: Handle<Expr>) -> R<SFn> {
        match self.expr(sc, e)? {
            CE::S(f) => Ok(f),
            CE::A(_) => {
                Err(self.unsupported("a value wider than 128 bits used as a scalar", &sc, e))
            }
        }
    }

    /// Where any expression's value is (scalars are stored in a temporary).
    pub fn addr(&mut self, sc: Scope<'m>, e: Handle<Expr>) -> R<AFn> {
        Ok(match self.expr(sc, e)? {
            CE::A(f) => f,
            CE::S(f) => {
                let tmp = self.alloc(1);
                Box::new(move |c| {
                    let v = f(c);
                    c.s[tmp] = v;
                    tmp
                })
            }
        })
    }

    /// A bit-string expression's value as a BigUint pattern.
    pub fn bigval(&mut self, sc: Scope<'m>, e: Handle<Expr>) -> R<BigFn> {
        let ty = self.get_expr(sc, e)?.ty;
        Ok(match self.expr(sc, e)? {
            CE::S(f) => Box::new(move |c| BigUint::from(f(c))),
            CE::A(f) => {
                let n = self.t.slots(ty);
                Box::new(move |c| {
                    let a = f(c);
                    c.s.get(a..a + n).map(read_big).unwrap_or_default()
                })
            }
        })
    }

    /// A BigUint-valued closure as an expression of `width` bits.
    fn big_result(&mut self, width: u32, f: BigFn) -> CE {
        if width <= 128 {
            CE::S(Box::new(move |c| low_u128(&f(c)) & mask(width)))
        } else {
            let n = limbs(width);
            let tmp = self.alloc(n);
            CE::A(Box::new(move |c| {
                let v = f(c);
                if let Some(out) = c.s.get_mut(tmp..tmp + n) {
                    write_big(&v, out);
                    mask_limbs(out, width);
                }
                tmp
            }))
        }
    }

    /// Where an l-value expression lives, if it is one.
    pub fn place(&mut self, sc: Scope<'m>, e: Handle<Expr>) -> R<Option<Place>> {
        let ex = self.get_expr(sc, e)?;
        Ok(match &ex.kind {
            ExprKind::Local(l) => Some(Place::At(self.local(&sc, *l))),
            ExprKind::Field { base, index } => {
                let bty = self.get_expr(sc, *base)?.ty;
                let off = self.t.field_offset(bty, *index as usize);
                match self.place(sc, *base)? {
                    Some(Place::At(a)) => Some(Place::At(a + off)),
                    Some(Place::Dyn(f)) => Some(Place::Dyn(Box::new(move |c| f(c) + off))),
                    None => None,
                }
            }
            ExprKind::Element { base, index } => {
                let bty = self.get_expr(sc, *base)?.ty;
                let Kind::Stack { element, size } = self.t.kind(bty) else {
                    return Ok(None);
                };
                let es = self.t.slots(element);
                let Some(bp) = self.place(sc, *base)? else {
                    return Ok(None);
                };
                let junk = self.alloc(es.max(1));
                let size = size as u128;
                let idx_ex = self.get_expr(sc, *index)?;
                if let (ExprKind::Literal(v), Place::At(b)) = (&idx_ex.kind, &bp) {
                    let i = self.value_scalar(v, idx_ex.ty);
                    return Ok(Some(Place::At(if i < size {
                        b + 1 + i as usize * es
                    } else {
                        junk
                    })));
                }
                let idx = self.scalar(sc, *index)?;
                let base = bp.into_fn();
                Some(Place::Dyn(Box::new(move |c| {
                    let b = base(c);
                    let i = idx(c);
                    if i < size {
                        b + 1 + i as usize * es
                    } else {
                        // Out of range: a zeroed scratch element (reads give zero, writes
                        // are lost).
                        c.s[junk..junk + es].fill(0);
                        junk
                    }
                })))
            }
            ExprKind::StackMember { base, member } if *member != StackMember::LastIndex => {
                let bty = self.get_expr(sc, *base)?.ty;
                let Kind::Stack { element, size } = self.t.kind(bty) else {
                    return Ok(None);
                };
                let es = self.t.slots(element);
                let Some(bp) = self.place(sc, *base)? else {
                    return Ok(None);
                };
                let junk = self.alloc(es.max(1));
                let base = bp.into_fn();
                let last = *member == StackMember::Last;
                let oob = self.prog.errors.stack_out_of_bounds;
                let size = size as u128;
                Some(Place::Dyn(Box::new(move |c| {
                    let b = base(c);
                    let next = c.s[b];
                    let i = if last { next.wrapping_sub(1) } else { next };
                    if i < size {
                        b + 1 + i as usize * es
                    } else {
                        c.trap(oob);
                        c.s[junk..junk + es].fill(0);
                        junk
                    }
                })))
            }
            _ => None,
        })
    }

    /// Compiles an expression.
    pub fn expr(&mut self, sc: Scope<'m>, e: Handle<Expr>) -> R<CE> {
        let ex = self.get_expr(sc, e)?;
        let ty = ex.ty;
        let kind = self.t.kind(ty);
        let is_scalar = matches!(kind, Kind::Scalar { .. });
        match &ex.kind {
            ExprKind::Literal(v) => {
                if is_scalar {
                    let x = self.value_scalar(v, ty);
                    Ok(CE::S(Box::new(move |_| x)))
                } else {
                    let n = self.t.slots(ty);
                    let at = self.alloc(n.max(1));
                    self.write_value(v, ty, at);
                    Ok(CE::A(Box::new(move |_| at)))
                }
            }
            ExprKind::Local(_)
            | ExprKind::Field { .. }
            | ExprKind::Element { .. }
            | ExprKind::StackMember {
                member: StackMember::Next | StackMember::Last,
                ..
            } => {
                if let Some(p) = self.place(sc, e)? {
                    return Ok(match (p, is_scalar) {
                        (Place::At(a), true) => CE::S(Box::new(move |c| c.s[a])),
                        (Place::At(a), false) => CE::A(Box::new(move |_| a)),
                        (Place::Dyn(f), true) => CE::S(Box::new(move |c| {
                            let a = f(c);
                            c.s[a]
                        })),
                        (Place::Dyn(f), false) => CE::A(f),
                    });
                }
                // A field of a computed value (a call's result, ...).
                if let ExprKind::Field { base, index } = &ex.kind {
                    let bty = self.get_expr(sc, *base)?.ty;
                    let off = self.t.field_offset(bty, *index as usize);
                    let b = self.addr(sc, *base)?;
                    return Ok(if is_scalar {
                        CE::S(Box::new(move |c| {
                            let a = b(c) + off;
                            c.s[a]
                        }))
                    } else {
                        CE::A(Box::new(move |c| b(c) + off))
                    });
                }
                Err(self.unsupported("an element of a computed stack", &sc, e))
            }
            ExprKind::StackMember { base, .. } => {
                let b = self.addr(sc, *base)?;
                Ok(CE::S(Box::new(move |c| {
                    let a = b(c);
                    c.s[a].wrapping_sub(1) & mask(32)
                })))
            }
            ExprKind::Instance(_) => Ok(CE::A(Box::new(|_| 0))),
            ExprKind::Slice { base, hi, lo } => {
                let (hi, lo) = (*hi, *lo);
                let width = hi.saturating_sub(lo) + 1;
                let bty = self.get_expr(sc, *base)?.ty;
                if self.scalar_info(bty).is_some() {
                    let b = self.scalar(sc, *base)?;
                    let m = mask(width);
                    if lo >= 128 {
                        return Ok(CE::S(Box::new(|_| 0)));
                    }
                    return Ok(CE::S(Box::new(move |c| (b(c) >> lo) & m)));
                }
                let b = self.bigval(sc, *base)?;
                let m = (BigUint::from(1u8) << width) - 1u8;
                Ok(self.big_result(width, Box::new(move |c| (b(c) >> lo) & &m)))
            }
            ExprKind::DynamicSlice { base, lo, width } => {
                let width = *width;
                let bty = self.get_expr(sc, *base)?.ty;
                let bw = self.bits_info(bty).map_or(0, |(w, _)| w);
                let l = self.scalar(sc, *lo)?;
                if bw <= 128 {
                    let b = self.scalar(sc, *base)?;
                    let m = mask(width);
                    return Ok(CE::S(Box::new(move |c| {
                        let lo = l(c);
                        if lo >= 128 {
                            0
                        } else {
                            (b(c) >> lo) & m
                        }
                    })));
                }
                let b = self.bigval(sc, *base)?;
                let m = (BigUint::from(1u8) << width) - 1u8;
                Ok(self.big_result(
                    width,
                    Box::new(move |c| {
                        let lo = l(c).min(u128::from(u32::MAX)) as usize;
                        (b(c) >> lo) & &m
                    }),
                ))
            }
            ExprKind::Unary { op, operand } => self.unary(sc, e, *op, *operand, ty),
            ExprKind::Binary { op, lhs, rhs } => self.binary(sc, e, *op, *lhs, *rhs, ty),
            ExprKind::Select {
                cond,
                then,
                otherwise,
            } => {
                let c0 = self.scalar(sc, *cond)?;
                if is_scalar {
                    let t = self.scalar(sc, *then)?;
                    let o = self.scalar(sc, *otherwise)?;
                    Ok(CE::S(Box::new(
                        move |c| if c0(c) != 0 { t(c) } else { o(c) },
                    )))
                } else {
                    let t = self.addr(sc, *then)?;
                    let o = self.addr(sc, *otherwise)?;
                    Ok(CE::A(Box::new(
                        move |c| if c0(c) != 0 { t(c) } else { o(c) },
                    )))
                }
            }
            ExprKind::Cast(x) => self.cast(sc, e, *x, ty),
            ExprKind::Compose(items) => {
                let n = self.t.slots(ty);
                let tmp = self.alloc(n.max(1));
                let header = kind == Kind::Header;
                let mut writes: Vec<crate::call::Step> = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let off = if matches!(kind, Kind::Stack { .. }) {
                        let Kind::Stack { element, .. } = kind else {
                            unreachable!()
                        };
                        1 + i * self.t.slots(element)
                    } else {
                        self.t.field_offset(ty, i)
                    };
                    let ity = self.get_expr(sc, *item)?.ty;
                    let at = tmp + off;
                    match self.expr(sc, *item)? {
                        CE::S(f) => writes.push(Box::new(move |c| {
                            let v = f(c);
                            c.s[at] = v;
                        })),
                        CE::A(f) => {
                            let len = self.t.slots(ity);
                            writes.push(Box::new(move |c| {
                                let from = f(c);
                                c.s.copy_within(from..from + len, at);
                            }))
                        }
                    }
                }
                Ok(CE::A(Box::new(move |c| {
                    if header {
                        c.s[tmp] = 1;
                    }
                    for w in &writes {
                        w(c);
                    }
                    tmp
                })))
            }
            ExprKind::Call { callee, args } => self.call(sc, e, callee, args),
            ExprKind::TableHit { table, hit } => {
                let t = self.request_table(*table);
                let want = *hit;
                Ok(CE::S(Box::new(move |c| {
                    let (hit, _, _) = crate::table::apply(c, t);
                    u128::from(hit == want)
                })))
            }
        }
    }

    fn unary(
        &mut self,
        sc: Scope<'m>,
        _e: Handle<Expr>,
        op: UnaryOp,
        operand: Handle<Expr>,
        ty: Handle<Type>,
    ) -> R<CE> {
        if let Some((width, _)) = self.scalar_info(ty) {
            let x = self.scalar(sc, operand)?;
            let m = mask(width);
            return Ok(CE::S(match op {
                UnaryOp::Not => Box::new(move |c| x(c) ^ 1),
                UnaryOp::BitNot => Box::new(move |c| !x(c) & m),
                UnaryOp::Neg => Box::new(move |c| x(c).wrapping_neg() & m),
            }));
        }
        let (width, _) = self.bits_info(ty).unwrap_or((0, false));
        let x = self.bigval(sc, operand)?;
        let all = (BigUint::from(1u8) << width) - 1u8;
        Ok(self.big_result(
            width,
            match op {
                UnaryOp::BitNot => Box::new(move |c| x(c) ^ &all),
                _ => Box::new(move |c| {
                    let v = x(c);
                    if v.is_zero() {
                        v
                    } else {
                        (&all - v) + 1u8
                    }
                }),
            },
        ))
    }

    fn binary(
        &mut self,
        sc: Scope<'m>,
        e: Handle<Expr>,
        op: BinaryOp,
        lhs: Handle<Expr>,
        rhs: Handle<Expr>,
        ty: Handle<Type>,
    ) -> R<CE> {
        let lty = self.get_expr(sc, lhs)?.ty;
        let rty = self.get_expr(sc, rhs)?.ty;
        match op {
            BinaryOp::And | BinaryOp::Or => {
                let a = self.scalar(sc, lhs)?;
                let b = self.scalar(sc, rhs)?;
                return Ok(CE::S(if op == BinaryOp::And {
                    Box::new(move |c| u128::from(a(c) != 0 && b(c) != 0))
                } else {
                    Box::new(move |c| u128::from(a(c) != 0 || b(c) != 0))
                }));
            }
            BinaryOp::Concat => {
                let (wa, _) = self.bits_info(lty).unwrap_or((0, false));
                let (wb, _) = self.bits_info(rty).unwrap_or((0, false));
                if wa + wb <= 128 {
                    let a = self.scalar(sc, lhs)?;
                    let b = self.scalar(sc, rhs)?;
                    return Ok(CE::S(Box::new(move |c| {
                        let x = a(c);
                        let y = b(c);
                        x.checked_shl(wb).unwrap_or(0) | y
                    })));
                }
                let a = self.bigval(sc, lhs)?;
                let b = self.bigval(sc, rhs)?;
                return Ok(self.big_result(wa + wb, Box::new(move |c| (a(c) << wb) | b(c))));
            }
            _ => {}
        }
        let operand_kind = self.t.kind(lty);
        // Equality of composite values: slot by slot.
        if matches!(op, BinaryOp::Eq | BinaryOp::Ne)
            && !matches!(operand_kind, Kind::Scalar { .. } | Kind::Wide { .. })
        {
            let n = self.t.slots(lty);
            let a = self.addr(sc, lhs)?;
            let b = self.addr(sc, rhs)?;
            let eq = op == BinaryOp::Eq;
            return Ok(CE::S(Box::new(move |c| {
                let x = a(c);
                let y = b(c);
                u128::from((c.s[x..x + n] == c.s[y..y + n]) == eq)
            })));
        }
        let (width, signed) = self.bits_info(lty).ok_or_else(|| {
            self.unsupported("an operator on a value that is not a bit string", &sc, e)
        })?;
        let narrow = self.scalar_info(lty).is_some() && self.scalar_info(rty).is_some();
        let result_width = self.bits_info(ty).map_or(1, |(w, _)| w);
        if narrow {
            let a = self.scalar(sc, lhs)?;
            // Specialise a constant right operand: the commonest shape (x + 1, x == 0x800).
            let rex = self.get_expr(sc, rhs)?;
            if let p4tc_ir::ir::ExprKind::Literal(v) = &rex.kind {
                let k = self.value_scalar(v, rty);
                return Ok(CE::S(match op {
                    BinaryOp::Eq => Box::new(move |c| u128::from(a(c) == k)),
                    BinaryOp::Ne => Box::new(move |c| u128::from(a(c) != k)),
                    BinaryOp::BitAnd => Box::new(move |c| a(c) & k),
                    _ => Box::new(move |c| arith::binary(op, width, signed, a(c), k)),
                }));
            }
            let b = self.scalar(sc, rhs)?;
            return Ok(CE::S(match op {
                BinaryOp::Eq => Box::new(move |c| u128::from(a(c) == b(c))),
                BinaryOp::Ne => Box::new(move |c| u128::from(a(c) != b(c))),
                _ => Box::new(move |c| {
                    let x = a(c);
                    let y = b(c);
                    arith::binary(op, width, signed, x, y)
                }),
            }));
        }
        let a = self.bigval(sc, lhs)?;
        let b = self.bigval(sc, rhs)?;
        Ok(self.big_result(
            result_width,
            Box::new(move |c| {
                let x = a(c);
                let y = b(c);
                arith::binary_big(op, width, signed, &x, &y)
            }),
        ))
    }

    fn cast(&mut self, sc: Scope<'m>, e: Handle<Expr>, x: Handle<Expr>, to: Handle<Type>) -> R<CE> {
        let from = self.get_expr(sc, x)?.ty;
        let to_bool = matches!(self.m.types.get(self.t.resolve(to)), Some(Type::Bool));
        match (self.bits_info(from), self.bits_info(to)) {
            (Some((wf, sf)), Some((wt, _))) => {
                if wf <= 128 && wt <= 128 {
                    let v = self.scalar(sc, x)?;
                    let m = mask(wt);
                    return Ok(CE::S(if to_bool {
                        Box::new(move |c| u128::from(v(c) != 0))
                    } else if sf && wt > wf {
                        Box::new(move |c| sext(v(c), wf) as u128 & m)
                    } else {
                        Box::new(move |c| v(c) & m)
                    }));
                }
                let v = self.bigval(sc, x)?;
                Ok(self.big_result(
                    wt,
                    Box::new(move |c| to_pattern(&to_bigint(&v(c), wf, sf), wt)),
                ))
            }
            _ => {
                // Composite to composite of the same shape (a list to a struct, a struct to
                // an equivalent one): the slots are the value.
                let (nf, nt) = (self.t.slots(from), self.t.slots(to));
                if nf == nt {
                    return self.expr(sc, x);
                }
                Err(self.unsupported("a cast between these types", &sc, e))
            }
        }
    }
}
