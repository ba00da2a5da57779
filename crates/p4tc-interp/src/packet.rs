//! `packet_in` (extract, lookahead, advance, length) and `packet_out` (emit).

use p4tc_ir::arena::Handle;
use p4tc_ir::ir::{Expr, ExprKind, StackMember, Type};

use crate::bits;
use crate::compile::{Compiler, Scope, R};
use crate::ctx::Ctx;
use crate::expr::CE;
use crate::types::{limbs, Kind};

/// How one header field is read or written.
#[derive(Clone, Copy, Debug)]
pub(crate) enum FieldOp {
    /// At most 128 bits, in one slot.
    Narrow { off: usize, width: u32 },
    /// More, in limbs.
    Wide { off: usize, width: u32 },
    /// A varbit: length slot, then limbs.
    Varbit { off: usize, max: u32 },
}

/// A header's fields and its fixed size in bits.
#[derive(Clone, Debug, Default)]
pub(crate) struct HeaderPlan {
    pub fields: Vec<FieldOp>,
    pub bits: usize,
    /// Every field is at most 56 bits wide (the deparser's fast path).
    pub narrow: bool,
}

impl<'m> Compiler<'m> {
    /// The extract/emit plan of a header type.
    pub fn header_plan(&mut self, ty: Handle<Type>) -> HeaderPlan {
        let mut plan = HeaderPlan {
            narrow: true,
            ..HeaderPlan::default()
        };
        let fields = self.t.fields(ty);
        for (i, f) in fields.into_iter().enumerate() {
            let off = self.t.field_offset(ty, i);
            match self.t.kind(f) {
                Kind::Scalar { width, .. } => {
                    plan.narrow &= width <= 56;
                    plan.fields.push(FieldOp::Narrow { off, width });
                    plan.bits += width as usize;
                }
                Kind::Wide { width, .. } => {
                    plan.narrow = false;
                    plan.fields.push(FieldOp::Wide { off, width });
                    plan.bits += width as usize;
                }
                Kind::Varbit { max } => {
                    plan.narrow = false;
                    plan.fields.push(FieldOp::Varbit { off, max });
                }
                _ => {}
            }
        }
        plan
    }

    /// Headers (offset, plan) that emitting a value of `ty` writes, in order.
    fn emit_plan(&mut self, ty: Handle<Type>, base: usize, out: &mut Vec<(usize, HeaderPlan)>) {
        match self.t.kind(ty) {
            Kind::Header => {
                let plan = self.header_plan(ty);
                out.push((base, plan));
            }
            Kind::Struct | Kind::Union => {
                let fields = self.t.fields(ty);
                for (i, f) in fields.into_iter().enumerate() {
                    let off = self.t.field_offset(ty, i);
                    self.emit_plan(f, base + off, out);
                }
            }
            Kind::Stack { element, size } => {
                let es = self.t.slots(element);
                for i in 0..size as usize {
                    self.emit_plan(element, base + 1 + i * es, out);
                }
            }
            _ => {}
        }
    }

    /// `pkt.emit(value)`.
    pub fn emit(&mut self, sc: Scope<'m>, arg: Handle<Expr>) -> R<CE> {
        let ty = self.get_expr(sc, arg)?.ty;
        let mut headers = Vec::new();
        self.emit_plan(ty, 0, &mut headers);
        let a = self.addr(sc, arg)?;
        Ok(CE::S(Box::new(move |c| {
            let base = a(c);
            for (off, plan) in &headers {
                let h = base + off;
                if c.s[h] != 0 {
                    write_header(c, h, plan);
                }
            }
            0
        })))
    }

    /// `pkt.extract(hdr)` and `pkt.extract(hdr, bits)`.
    pub fn extract(
        &mut self,
        sc: Scope<'m>,
        target: Handle<Expr>,
        varbits: Option<Handle<Expr>>,
    ) -> R<CE> {
        let tex = self.get_expr(sc, target)?;
        let plan = self.header_plan(tex.ty);
        // Extracting into `stack.next` moves the stack's next index on.
        let stack = match &tex.kind {
            ExprKind::StackMember {
                base,
                member: StackMember::Next,
            } => Some(
                self.place(sc, *base)?
                    .ok_or_else(|| self.unsupported("extract into this stack", &sc, target))?
                    .into_fn(),
            ),
            _ => None,
        };
        let place = self
            .place(sc, target)?
            .ok_or_else(|| self.unsupported("extract into this expression", &sc, target))?
            .into_fn();
        // Extracting into a member of a header union makes the other members invalid.
        let union = self
            .union_siblings(sc, target)?
            .map(|(p, others)| (p.into_fn(), others));
        let varbits = match varbits {
            Some(v) => Some(self.scalar(sc, v)?),
            None => None,
        };
        let errors = self.prog.errors;
        let var_max = plan
            .fields
            .iter()
            .find_map(|f| match f {
                FieldOp::Varbit { max, .. } => Some(*max),
                _ => None,
            })
            .unwrap_or(0);
        Ok(CE::S(Box::new(move |c| {
            let h = place(c);
            if c.run.trap.is_some() {
                return 0;
            }
            let var = varbits.as_ref().map_or(0, |f| f(c));
            if var > u128::from(var_max) {
                c.trap(errors.header_too_short);
                return 0;
            }
            let var = var as usize;
            let total = plan.bits + var;
            if c.pos + total > c.pkt.len() * 8 {
                c.trap(errors.packet_too_short);
                return 0;
            }
            if let Some((u, others)) = &union {
                let base = u(c);
                for o in others {
                    c.s[base + o] = 0;
                }
            }
            c.s[h] = 1;
            let pkt = c.pkt;
            let mut pos = c.pos;
            if plan.narrow && pos % 8 == 0 {
                // Byte-aligned, every field at most 56 bits: feed whole bytes through a 64-bit
                // accumulator (the length was checked above).
                let bytes = pkt.get(pos / 8..).unwrap_or_default();
                let mut at = 0;
                let mut acc: u64 = 0;
                let mut n: u32 = 0;
                for f in &plan.fields {
                    if let FieldOp::Narrow { off, width } = *f {
                        while n < width {
                            // Four bytes at a time while they fit, else one.
                            match bytes.get(at..at + 4) {
                                Some(&[a, b, c4, d]) if n <= 32 => {
                                    acc =
                                        (acc << 32) | u64::from(u32::from_be_bytes([a, b, c4, d]));
                                    at += 4;
                                    n += 32;
                                }
                                _ => {
                                    acc =
                                        (acc << 8) | u64::from(bytes.get(at).copied().unwrap_or(0));
                                    at += 1;
                                    n += 8;
                                }
                            }
                        }
                        n -= width;
                        c.s[h + off] = u128::from((acc >> n) & ((1u64 << width) - 1));
                    }
                }
                c.pos = pos + plan.bits;
                if let Some(stack) = &stack {
                    let b = stack(c);
                    c.s[b] += 1;
                }
                return 0;
            }
            for f in &plan.fields {
                match *f {
                    FieldOp::Narrow { off, width } => {
                        c.s[h + off] = bits::read(pkt, pos, width);
                        pos += width as usize;
                    }
                    FieldOp::Wide { off, width } => {
                        let n = limbs(width);
                        bits::read_limbs(pkt, pos, width, &mut c.s[h + off..h + off + n]);
                        pos += width as usize;
                    }
                    FieldOp::Varbit { off, max } => {
                        let n = limbs(max);
                        c.s[h + off] = var as u128;
                        let data = &mut c.s[h + off + 1..h + off + 1 + n];
                        data.fill(0);
                        bits::read_limbs(pkt, pos, var as u32, data);
                        pos += var;
                    }
                }
            }
            c.pos = pos;
            if let Some(stack) = &stack {
                let b = stack(c);
                c.s[b] += 1;
            }
            0
        })))
    }

    /// `pkt.lookahead<T>()`.
    pub fn lookahead(&mut self, sc: Scope<'m>, e: Handle<Expr>) -> R<CE> {
        let ty = self.get_expr(sc, e)?.ty;
        let too_short = self.prog.errors.packet_too_short;
        match self.t.kind(ty) {
            Kind::Scalar { width, .. } => Ok(CE::S(Box::new(move |c| {
                if c.pos + width as usize > c.pkt.len() * 8 {
                    c.trap(too_short);
                    return 0;
                }
                bits::read(c.pkt, c.pos, width)
            }))),
            Kind::Header => {
                let plan = self.header_plan(ty);
                let n = self.t.slots(ty);
                let tmp = self.alloc(n);
                Ok(CE::A(Box::new(move |c| {
                    if c.pos + plan.bits > c.pkt.len() * 8 {
                        c.trap(too_short);
                        return tmp;
                    }
                    c.s[tmp] = 1;
                    let mut pos = c.pos;
                    for f in &plan.fields {
                        match *f {
                            FieldOp::Narrow { off, width } => {
                                c.s[tmp + off] = bits::read(c.pkt, pos, width);
                                pos += width as usize;
                            }
                            FieldOp::Wide { off, width } => {
                                let n = limbs(width);
                                bits::read_limbs(
                                    c.pkt,
                                    pos,
                                    width,
                                    &mut c.s[tmp + off..tmp + off + n],
                                );
                                pos += width as usize;
                            }
                            FieldOp::Varbit { .. } => {}
                        }
                    }
                    tmp
                })))
            }
            _ => Err(self.unsupported("lookahead of this type", &sc, e)),
        }
    }

    /// `pkt.advance(bits)`.
    pub fn advance(&mut self, sc: Scope<'m>, amount: Handle<Expr>) -> R<CE> {
        let f = self.scalar(sc, amount)?;
        let too_short = self.prog.errors.packet_too_short;
        Ok(CE::S(Box::new(move |c| {
            let n = f(c);
            let end = (c.pos as u128).saturating_add(n);
            if end > (c.pkt.len() as u128) * 8 {
                c.trap(too_short);
            } else {
                c.pos = end as usize;
            }
            0
        })))
    }
}

/// Appends a valid header's fields to the output packet.
fn write_header(c: &mut Ctx<'_>, h: usize, plan: &HeaderPlan) {
    if plan.narrow && c.out.bits % 8 == 0 {
        // Byte-aligned, every field at most 56 bits: gather bits in a 64-bit accumulator and
        // move whole bytes out, instead of placing each field on its own.
        let mut acc: u64 = 0;
        let mut n: u32 = 0;
        for f in &plan.fields {
            if let FieldOp::Narrow { off, width } = *f {
                if n + width > 64 {
                    let k = n / 8;
                    let word = (acc << (64 - n)).to_be_bytes();
                    c.out.bytes.extend_from_slice(&word[..k as usize]);
                    n -= 8 * k;
                }
                acc = (acc << width) | c.s[h + off] as u64;
                n += width;
            }
        }
        if n > 0 {
            let k = n / 8;
            let word = (acc << (64 - n)).to_be_bytes();
            c.out.bytes.extend_from_slice(&word[..k as usize]);
            n -= 8 * k;
        }
        c.out.bits = c.out.bytes.len() * 8;
        if n > 0 {
            c.out.put(u128::from(acc) & ((1u128 << n) - 1), n);
        }
        return;
    }
    for f in &plan.fields {
        match *f {
            FieldOp::Narrow { off, width } => c.out.put(c.s[h + off], width),
            FieldOp::Wide { off, width } => {
                let n = limbs(width);
                c.out.put_limbs(&c.s[h + off..h + off + n], width);
            }
            FieldOp::Varbit { off, max } => {
                let n = limbs(max);
                let len = (c.s[h + off] as u32).min(max);
                c.out.put_limbs(&c.s[h + off + 1..h + off + 1 + n], len);
            }
        }
    }
}
