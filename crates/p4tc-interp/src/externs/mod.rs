//! PNA's extern functions and extern objects (P4TC's `tc/pna.p4`).
//!
//! Choices where P4TC's kernel datapath has no userspace equivalent:
//! - `is_net_port(p)` is true for every port but `PNA_PORT_CPU` (0xfffffffd), and
//!   `is_host_port(p)` only for it;
//! - `mirror_packet` does nothing (no mirroring here);
//! - `skb_get_tc_at_ingress()` is 1 and `skb_get_from_ingress()` 0;
//! - `restart_expire_timer()` does nothing (a hit already refreshes the entry);
//! - `log_msg` does nothing.

pub(crate) mod hash;

use p4tc_ir::arena::Handle;
use p4tc_ir::ir::{Expr, ExprKind, Instance, PropertyValue, Type, Value};
use p4tc_ir::layout::{action_param_layout, extern_layout, ExternLayout, FieldLayout};
use p4tc_runtime::Color;

use crate::arith::mask;
use crate::blob;
use crate::compile::{Compiler, Scope, R};
use crate::ctx::{Ctx, SFn};
use crate::expr::CE;
use crate::types::{limbs, Leaf};
use hash::{ones_subtract, ones_sum, Algorithm};

/// PNA's CPU port.
pub const PNA_PORT_CPU: u32 = 0xffff_fffd;

/// Appends the bits of the leaves of a value at `base` to `Run::bits` (cleared first): the
/// fields back to back, the last byte padded with zero bits at its end (as BMv2 pads hash
/// input on the right, and as RFC 1071 pads an odd byte).
fn serialize(c: &mut Ctx<'_>, leaves: &[Leaf], base: usize) {
    c.run.bits.clear();
    for l in leaves {
        let at = base + l.offset;
        if l.varbit {
            let len = (c.s[at] as u32).min(l.width);
            let n = limbs(l.width);
            c.run.bits.put_limbs(&c.s[at + 1..at + 1 + n], len);
        } else if l.width <= 128 {
            c.run.bits.put(c.s[at], l.width);
        } else {
            let n = limbs(l.width);
            c.run.bits.put_limbs(&c.s[at..at + n], l.width);
        }
    }
}

/// Packs the leaves of a value into `blob` by `fields` (a layout's fields, in order).
fn pack(c: &Ctx<'_>, leaves: &[Leaf], fields: &[FieldLayout], base: usize, out: &mut [u8]) {
    for (l, f) in leaves.iter().zip(fields) {
        let at = base + l.offset;
        let n = limbs(l.width);
        if let Some(v) = c.s.get(at..at + n) {
            blob::put_limbs(out, f.offset as usize, f.size as usize, v);
        }
    }
}

fn color_of(v: u128) -> Color {
    match v {
        0 => Color::Red,
        2 => Color::Yellow,
        _ => Color::Green,
    }
}

fn color_index(c: Color) -> u128 {
    match c {
        Color::Red => 0,
        Color::Green => 1,
        Color::Yellow => 2,
    }
}

impl<'m> Compiler<'m> {
    fn instance_of(&self, sc: Scope<'m>, e: Handle<Expr>) -> R<Handle<Instance>> {
        match &self.get_expr(sc, e)?.kind {
            ExprKind::Instance(i) => Ok(*i),
            _ => Err(self.unsupported(
                "an extern method on an instance passed as a parameter",
                &sc,
                e,
            )),
        }
    }

    fn leaves_of(&mut self, ty: Handle<Type>) -> Vec<Leaf> {
        let mut v = Vec::new();
        self.t.leaves(ty, 0, &mut v);
        v
    }

    /// The string of a literal argument.
    fn string_arg(&self, sc: Scope<'m>, e: Handle<Expr>) -> Option<&'m str> {
        match &sc.body.exprs.get(e)?.kind {
            ExprKind::Literal(Value::String(s)) => Some(s.as_str()),
            _ => None,
        }
    }

    /// The `PNA_HashAlgorithm_t` member named by a constructor argument.
    fn algorithm(&self, inst: &Instance) -> Algorithm {
        let Some(Value::Enum(i)) = inst.args.first().and_then(|a| a.value()) else {
            return Algorithm::Crc32;
        };
        let name = self
            .m
            .enums
            .iter()
            .find(|(_, e)| e.name == "PNA_HashAlgorithm_t")
            .and_then(|(_, e)| e.members.get(*i as usize))
            .map_or("", |(n, _)| n.as_str());
        Algorithm::from_name(name)
    }

    /// The table a direct counter or meter is attached to.
    fn direct_table(&self, inst: Handle<Instance>) -> Option<usize> {
        self.m.tables.iter().find_map(|(h, t)| {
            t.properties
                .iter()
                .any(|(_, v)| match v {
                    PropertyValue::Instance(i) => *i == inst,
                    PropertyValue::Instances(is) => is.contains(&inst),
                    PropertyValue::Value(_) => false,
                })
                .then_some(h.index())
        })
    }

    fn opt_scalar(&mut self, sc: Scope<'m>, e: Option<&Handle<Expr>>) -> R<Option<SFn>> {
        match e {
            Some(&e) => Ok(Some(self.scalar(sc, e)?)),
            None => Ok(None),
        }
    }

    /// Compiles a call of an extern function.
    pub fn extern_function(
        &mut self,
        sc: Scope<'m>,
        e: Handle<Expr>,
        name: &str,
        args: &'m [Handle<Expr>],
    ) -> R<CE> {
        let arg = |i: usize| args.get(i).copied();
        let s = |this: &mut Self, i: usize| -> R<SFn> {
            match arg(i) {
                Some(a) => this.scalar(sc, a),
                None => Err(this.unsupported("a missing argument", &sc, e)),
            }
        };
        let unit = |f: Box<dyn Fn(&mut Ctx<'_>) + Send + Sync>| {
            Ok(CE::S(Box::new(move |c| {
                f(c);
                0
            })))
        };
        match name {
            "send_to_port" => {
                let p = s(self, 0)?;
                unit(Box::new(move |c| {
                    c.run.egress = p(c) as u32;
                    c.run.drop = false;
                }))
            }
            "drop_packet" => unit(Box::new(|c| c.run.drop = true)),
            "recirculate" => unit(Box::new(|c| c.run.recirculate = true)),
            "mirror_packet"
            | "log_msg"
            | "skb_get_meta"
            | "skb_set_meta"
            | "restart_expire_timer" => unit(Box::new(|_| {})),
            "is_net_port" | "is_host_port" => {
                let p = s(self, 0)?;
                let net = name == "is_net_port";
                Ok(CE::S(Box::new(move |c| {
                    u128::from((p(c) as u32 != PNA_PORT_CPU) == net)
                })))
            }
            "verify" => {
                let cond = s(self, 0)?;
                let err = s(self, 1)?;
                unit(Box::new(move |c| {
                    if cond(c) == 0 {
                        let e = err(c) as u32;
                        c.trap(e);
                    }
                }))
            }
            "SelectByDirection" => {
                let (Some(cnd), Some(a), Some(b)) = (arg(0), arg(1), arg(2)) else {
                    return Err(self.unsupported(
                        "SelectByDirection without three arguments",
                        &sc,
                        e,
                    ));
                };
                let cnd = self.scalar(sc, cnd)?;
                match (self.expr(sc, a)?, self.expr(sc, b)?) {
                    (CE::S(x), CE::S(y)) => {
                        Ok(CE::S(Box::new(
                            move |c| {
                                if cnd(c) != 0 {
                                    x(c)
                                } else {
                                    y(c)
                                }
                            },
                        )))
                    }
                    _ => {
                        let x = self.addr(sc, a)?;
                        let y = self.addr(sc, b)?;
                        Ok(CE::A(Box::new(
                            move |c| if cnd(c) != 0 { x(c) } else { y(c) },
                        )))
                    }
                }
            }
            "allocate_flow_id" => Ok(CE::S(Box::new(|c| {
                c.run.flow_id = c.run.flow_id.wrapping_add(1);
                u128::from(c.run.flow_id)
            }))),
            "skb_get_tstamp" => Ok(CE::S(Box::new(|c| u128::from(c.run.skb.tstamp)))),
            "skb_get_mark" => Ok(CE::S(Box::new(|c| u128::from(c.run.skb.mark)))),
            "skb_get_tc_classid" => Ok(CE::S(Box::new(|c| u128::from(c.run.skb.tc_classid)))),
            "skb_get_tc_index" => Ok(CE::S(Box::new(|c| u128::from(c.run.skb.tc_index)))),
            "skb_get_queue_mapping" => Ok(CE::S(Box::new(|c| u128::from(c.run.skb.queue_mapping)))),
            "skb_get_protocol" => Ok(CE::S(Box::new(|c| u128::from(c.run.skb.protocol)))),
            "skb_get_tc_at_ingress" => Ok(CE::S(Box::new(|_| 1))),
            "skb_get_from_ingress" => Ok(CE::S(Box::new(|_| 0))),
            "skb_set_tstamp" => {
                let v = s(self, 0)?;
                unit(Box::new(move |c| c.run.skb.tstamp = v(c) as u64))
            }
            "skb_set_mark" => {
                let v = s(self, 0)?;
                unit(Box::new(move |c| c.run.skb.mark = v(c) as u32))
            }
            "skb_set_tc_classid" => {
                let v = s(self, 0)?;
                unit(Box::new(move |c| c.run.skb.tc_classid = v(c) as u16))
            }
            "skb_set_tc_index" => {
                let v = s(self, 0)?;
                unit(Box::new(move |c| c.run.skb.tc_index = v(c) as u16))
            }
            "skb_set_queue_mapping" => {
                let v = s(self, 0)?;
                unit(Box::new(move |c| c.run.skb.queue_mapping = v(c) as u16))
            }
            "skb_set_protocol" => {
                let v = s(self, 0)?;
                unit(Box::new(move |c| c.run.skb.protocol = v(c) as u16))
            }
            "set_entry_expire_time" | "set_entry_expire_time_if" | "update_expire_info" => {
                // (cond?, profile) / (aging, set, profile): the last argument is the profile.
                let conds: Vec<SFn> = (0..args.len().saturating_sub(1))
                    .map(|i| s(self, i))
                    .collect::<R<_>>()?;
                let profile = s(self, args.len().saturating_sub(1))?;
                unit(Box::new(move |c| {
                    if conds.iter().all(|f| f(c) != 0) {
                        let p = profile(c) as u32;
                        set_expire(c, p);
                    }
                }))
            }
            "add_entry" | "add_entry_if" => self.add_entry(sc, e, name == "add_entry_if", args),
            _ => Err(self.unsupported(&format!("extern function `{name}`"), &sc, e)),
        }
    }

    fn add_entry(
        &mut self,
        sc: Scope<'m>,
        e: Handle<Expr>,
        guarded: bool,
        args: &'m [Handle<Expr>],
    ) -> R<CE> {
        let k = usize::from(guarded);
        let (Some(&name_arg), Some(&params), Some(&profile)) =
            (args.get(k), args.get(k + 1), args.get(k + 2))
        else {
            return Err(self.unsupported("add_entry without its three arguments", &sc, e));
        };
        let cond = if guarded {
            Some(self.scalar(sc, args[0])?)
        } else {
            None
        };
        let name = self.string_arg(sc, name_arg).ok_or_else(|| {
            self.unsupported("add_entry's action name is not a string literal", &sc, e)
        })?;
        let control = match sc.key {
            crate::compile::BodyKey::Block(b) => Some(b),
            _ => None,
        };
        let short = name.rsplit('.').next().unwrap_or(name);
        let mut candidates: Vec<_> = self
            .m
            .actions
            .iter()
            .filter(|(_, a)| a.name == name || a.name == short)
            .map(|(h, a)| (h, a.control))
            .collect();
        candidates.sort_by_key(|(_, c)| *c != control);
        let Some(&(action, _)) = candidates.first() else {
            return Err(self.unsupported(&format!("add_entry of unknown action `{name}`"), &sc, e));
        };
        let layout = action_param_layout(self.m, action)
            .map_err(|err| crate::InterpError::Unsupported(format!("add_entry: {err}")))?;
        let pty = self.get_expr(sc, params)?.ty;
        let leaves = self.leaves_of(pty);
        let fields: Vec<FieldLayout> = layout.params.iter().map(|p| p.field.clone()).collect();
        let size = layout.size as usize;
        let p = self.addr(sc, params)?;
        let prof = self.scalar(sc, profile)?;
        Ok(CE::S(Box::new(move |c| {
            if let Some(cond) = &cond {
                if cond(c) == 0 {
                    return 1;
                }
            }
            let base = p(c);
            let profile = prof(c) as u32;
            let Some(t) = c.run.table else { return 1 };
            let prog = c.prog;
            let Some(handle) = prog.table_handles.get(t).copied().flatten() else {
                return 1;
            };
            let mut blob = std::mem::take(&mut c.run.scratch);
            blob.clear();
            blob.resize(size, 0);
            pack(c, &leaves, &fields, base, &mut blob);
            let key = c
                .run
                .lookups
                .get(t)
                .map(|l| l.key.clone())
                .unwrap_or_default();
            let ok = c.dp.add_entry(handle, &key, action, &blob, profile);
            c.run.scratch = blob;
            u128::from(!ok)
        })))
    }

    /// Compiles a call of an extern object's method.
    pub fn extern_method(
        &mut self,
        sc: Scope<'m>,
        e: Handle<Expr>,
        def: &str,
        method: &str,
        args: &'m [Handle<Expr>],
    ) -> R<CE> {
        let rest = args.get(1..).unwrap_or_default();
        match (def, method) {
            ("packet_in", "extract") => match rest {
                [h] => self.extract(sc, *h, None),
                [h, n] => self.extract(sc, *h, Some(*n)),
                _ => Err(self.unsupported("extract with these arguments", &sc, e)),
            },
            ("packet_in", "lookahead") => self.lookahead(sc, e),
            ("packet_in", "advance") => match rest {
                [n] => self.advance(sc, *n),
                _ => Err(self.unsupported("advance with these arguments", &sc, e)),
            },
            ("packet_in", "length") => Ok(CE::S(Box::new(|c| c.pkt.len() as u128))),
            ("packet_out", "emit") => match rest {
                [v] => self.emit(sc, *v),
                _ => Err(self.unsupported("emit with these arguments", &sc, e)),
            },
            _ => {
                let Some(&recv) = args.first() else {
                    return Err(self.unsupported("an extern method without its instance", &sc, e));
                };
                let inst_h = self.instance_of(sc, recv)?;
                self.instance_method(sc, e, inst_h, def, method, rest)
            }
        }
    }

    fn instance_method(
        &mut self,
        sc: Scope<'m>,
        e: Handle<Expr>,
        inst_h: Handle<Instance>,
        def: &str,
        method: &str,
        rest: &'m [Handle<Expr>],
    ) -> R<CE> {
        let m = self.m;
        let inst = m
            .instances
            .get(inst_h)
            .ok_or_else(|| self.unsupported("a missing extern instance", &sc, e))?;
        let result_ty = self.get_expr(sc, e)?.ty;
        let result_width = self.bits_info(result_ty).map_or(0, |(w, _)| w);
        match (def, method) {
            ("Counter", "count") => {
                let idx = self.opt_scalar(sc, rest.first())?;
                Ok(CE::S(Box::new(move |c| {
                    let i = idx.as_ref().map_or(0, |f| f(c)) as u64;
                    let bytes = c.run.packet_len;
                    c.dp.count(inst_h, i, bytes);
                    0
                })))
            }
            ("DirectCounter", "count") => {
                let table = self.direct_table(inst_h);
                let handle = table.and_then(|t| m.tables.iter().nth(t).map(|(h, _)| h));
                Ok(CE::S(Box::new(move |c| {
                    if let (Some(t), Some(h)) = (table, handle) {
                        let entry = c.run.lookups.get(t).and_then(|l| l.entry);
                        let bytes = c.run.packet_len;
                        c.dp.count_direct(h, entry, bytes);
                    }
                    0
                })))
            }
            ("Meter", "execute") => {
                let idx = self.opt_scalar(sc, rest.first())?;
                let color = self.opt_scalar(sc, rest.get(1))?;
                Ok(CE::S(Box::new(move |c| {
                    let i = idx.as_ref().map_or(0, |f| f(c)) as u64;
                    let col = color.as_ref().map(|f| color_of(f(c)));
                    let bytes = c.run.packet_len;
                    color_index(c.dp.meter(inst_h, i, bytes, col))
                })))
            }
            ("DirectMeter", "execute") => {
                let color = self.opt_scalar(sc, rest.first())?;
                let table = self.direct_table(inst_h);
                let handle = table.and_then(|t| m.tables.iter().nth(t).map(|(h, _)| h));
                Ok(CE::S(Box::new(move |c| {
                    let col = color.as_ref().map(|f| color_of(f(c)));
                    let (Some(t), Some(h)) = (table, handle) else {
                        return 1;
                    };
                    let entry = c.run.lookups.get(t).and_then(|l| l.entry);
                    let bytes = c.run.packet_len;
                    color_index(c.dp.meter_direct(h, entry, bytes, col))
                })))
            }
            ("Register", "read") | ("Register", "write") => {
                let Ok(Some(ExternLayout::Register(layout))) = extern_layout(m, inst_h) else {
                    return Err(self.unsupported("a register whose value has no layout", &sc, e));
                };
                let idx = self.opt_scalar(sc, rest.first())?;
                let fields = layout.element.fields.clone();
                let size = layout.element.size as usize;
                if method == "read" {
                    let n = self.t.slots(result_ty);
                    let tmp = self.alloc(n.max(1));
                    let leaves = self.leaves_of(result_ty);
                    let scalar = self.scalar_info(result_ty).is_some();
                    let read = move |c: &mut Ctx<'_>| {
                        let i = idx.as_ref().map_or(0, |f| f(c)) as u64;
                        let mut buf = std::mem::take(&mut c.run.scratch);
                        buf.clear();
                        buf.resize(size, 0);
                        c.dp.register_read(inst_h, i, &mut buf);
                        for (l, f) in leaves.iter().zip(&fields) {
                            let at = tmp + l.offset;
                            let n = limbs(l.width);
                            blob::get_field(
                                &buf,
                                f.offset as usize,
                                f.size as usize,
                                l.width,
                                &mut c.s[at..at + n],
                            );
                        }
                        c.run.scratch = buf;
                    };
                    Ok(if scalar {
                        CE::S(Box::new(move |c| {
                            read(c);
                            c.s[tmp]
                        }))
                    } else {
                        CE::A(Box::new(move |c| {
                            read(c);
                            tmp
                        }))
                    })
                } else {
                    let Some(&value) = rest.get(1) else {
                        return Err(self.unsupported("Register.write without a value", &sc, e));
                    };
                    let vty = self.get_expr(sc, value)?.ty;
                    let leaves = self.leaves_of(vty);
                    let v = self.addr(sc, value)?;
                    Ok(CE::S(Box::new(move |c| {
                        let i = idx.as_ref().map_or(0, |f| f(c)) as u64;
                        let base = v(c);
                        let mut buf = std::mem::take(&mut c.run.scratch);
                        buf.clear();
                        buf.resize(size, 0);
                        pack(c, &leaves, &fields, base, &mut buf);
                        c.dp.register_write(inst_h, i, &buf);
                        c.run.scratch = buf;
                        0
                    })))
                }
            }
            ("Digest", "pack") => {
                let Ok(Some(ExternLayout::Digest(layout))) = extern_layout(m, inst_h) else {
                    return Err(self.unsupported("a digest whose value has no layout", &sc, e));
                };
                let Some(&value) = rest.first() else {
                    return Err(self.unsupported("Digest.pack without data", &sc, e));
                };
                let vty = self.get_expr(sc, value)?.ty;
                let leaves = self.leaves_of(vty);
                let v = self.addr(sc, value)?;
                let fields = layout.fields.clone();
                let size = layout.size as usize;
                Ok(CE::S(Box::new(move |c| {
                    let base = v(c);
                    let mut buf = std::mem::take(&mut c.run.scratch);
                    buf.clear();
                    buf.resize(size, 0);
                    pack(c, &leaves, &fields, base, &mut buf);
                    c.dp.digest(inst_h, &buf);
                    c.run.scratch = buf;
                    0
                })))
            }
            ("Hash", "get_hash") => {
                let algo = self.algorithm(inst);
                let m_out = mask(result_width.min(128));
                match rest {
                    [data] => {
                        let h = self.hash_input(sc, *data, algo)?;
                        Ok(CE::S(Box::new(move |c| h(c) & m_out)))
                    }
                    [base, data, max] => {
                        let b = self.scalar(sc, *base)?;
                        let h = self.hash_input(sc, *data, algo)?;
                        let mx = self.scalar(sc, *max)?;
                        Ok(CE::S(Box::new(move |c| {
                            let base = b(c);
                            let hash = h(c);
                            let max = mx(c);
                            let r = if max == 0 { 0 } else { hash % max };
                            base.wrapping_add(r) & m_out
                        })))
                    }
                    _ => Err(self.unsupported("get_hash with these arguments", &sc, e)),
                }
            }
            ("Checksum", _) => {
                let algo = self.algorithm(inst);
                let next = self.checksum_units.len();
                let unit = *self.checksum_units.entry(inst_h).or_insert(next);
                match method {
                    "clear" => Ok(CE::S(Box::new(move |c| {
                        if let Some(b) = c.run.checksums.get_mut(unit) {
                            b.clear();
                        }
                        0
                    }))),
                    "update" => {
                        let Some(&data) = rest.first() else {
                            return Err(self.unsupported("Checksum.update without data", &sc, e));
                        };
                        let dty = self.get_expr(sc, data)?.ty;
                        let leaves = self.leaves_of(dty);
                        let d = self.addr(sc, data)?;
                        Ok(CE::S(Box::new(move |c| {
                            let base = d(c);
                            serialize(c, &leaves, base);
                            let bits = std::mem::take(&mut c.run.bits);
                            if c.run.checksums.len() <= unit {
                                c.run.checksums.resize_with(unit + 1, Default::default);
                            }
                            let acc = &mut c.run.checksums[unit];
                            for (i, byte) in bits.bytes.iter().enumerate() {
                                let w = ((bits.bits - i * 8).min(8)) as u32;
                                acc.put(u128::from(*byte >> (8 - w)), w);
                            }
                            c.run.bits = bits;
                            0
                        })))
                    }
                    "get" => Ok(CE::S(Box::new(move |c| {
                        let v = c
                            .run
                            .checksums
                            .get(unit)
                            .map_or_else(|| algo.hash(&[]), |b| algo.hash(&b.bytes));
                        v & m_mask(result_width)
                    }))),
                    _ => Err(self.unsupported(&format!("Checksum.{method}"), &sc, e)),
                }
            }
            ("InternetChecksum", _) => {
                let slot = match self.instance_slots.get(&inst_h) {
                    Some(&s) => s,
                    None => {
                        let s = self.alloc(1);
                        self.instance_slots.insert(inst_h, s);
                        s
                    }
                };
                match method {
                    "clear" => Ok(CE::S(Box::new(move |c| {
                        c.s[slot] = 0;
                        0
                    }))),
                    "add" | "subtract" => {
                        let Some(&data) = rest.first() else {
                            return Err(self.unsupported("InternetChecksum without data", &sc, e));
                        };
                        let dty = self.get_expr(sc, data)?.ty;
                        let leaves = self.leaves_of(dty);
                        let d = self.addr(sc, data)?;
                        let add = method == "add";
                        Ok(CE::S(Box::new(move |c| {
                            let base = d(c);
                            serialize(c, &leaves, base);
                            let state = c.s[slot] as u16;
                            let bytes = &c.run.bits.bytes;
                            let v = if add {
                                ones_sum(state, bytes)
                            } else {
                                ones_subtract(state, bytes)
                            };
                            c.s[slot] = u128::from(v);
                            0
                        })))
                    }
                    "get" => Ok(CE::S(Box::new(move |c| !c.s[slot] & 0xffff))),
                    "get_state" => Ok(CE::S(Box::new(move |c| c.s[slot] & 0xffff))),
                    "set_state" => {
                        let Some(&v) = rest.first() else {
                            return Err(self.unsupported("set_state without a value", &sc, e));
                        };
                        let v = self.scalar(sc, v)?;
                        Ok(CE::S(Box::new(move |c| {
                            c.s[slot] = v(c) & 0xffff;
                            0
                        })))
                    }
                    _ => Err(self.unsupported(&format!("InternetChecksum.{method}"), &sc, e)),
                }
            }
            ("Random", "read") => {
                let min = inst
                    .args
                    .first()
                    .and_then(|a| a.value())
                    .map_or(0, Compiler::value_u128);
                let max = inst
                    .args
                    .get(1)
                    .and_then(|a| a.value())
                    .map_or(0, Compiler::value_u128);
                let m_out = m_mask(result_width);
                let span = max.wrapping_sub(min).wrapping_add(1);
                Ok(CE::S(Box::new(move |c| {
                    let r = u128::from(c.random()) | (u128::from(c.random()) << 64);
                    let v = if span == 0 || max < min {
                        r
                    } else {
                        min + r % span
                    };
                    v & m_out
                })))
            }
            _ => Err(self.unsupported(&format!("extern method {def}.{method}"), &sc, e)),
        }
    }

    /// The hash of a data argument (its fields' bits, zero-padded at the end to whole bytes).
    fn hash_input(&mut self, sc: Scope<'m>, data: Handle<Expr>, algo: Algorithm) -> R<SFn> {
        let dty = self.get_expr(sc, data)?.ty;
        let leaves = self.leaves_of(dty);
        let d = self.addr(sc, data)?;
        Ok(Box::new(move |c| {
            let base = d(c);
            serialize(c, &leaves, base);
            algo.hash(&c.run.bits.bytes)
        }))
    }
}

fn m_mask(width: u32) -> u128 {
    mask(width.min(128))
}

fn set_expire(c: &mut Ctx<'_>, profile: u32) {
    let Some(t) = c.run.table else { return };
    let prog = c.prog;
    let Some(handle) = prog.table_handles.get(t).copied().flatten() else {
        return;
    };
    if let Some(entry) = c.run.lookups.get(t).and_then(|l| l.entry) {
        c.dp.set_entry_expire_time(handle, entry, profile);
    }
}
