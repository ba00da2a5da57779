//! Calls of actions, functions, parsers and controls (copy-in/copy-out through the callee's
//! fixed parameter slots), tables, and the built-in methods of headers and stacks.

use p4tc_ir::arena::Handle;
use p4tc_ir::ir::{Builtin, Callee, Expr, ExprKind, Local, LocalKind};

use crate::compile::{Compiler, Place, Scope, R};
use crate::ctx::{Ctx, Flow};
use crate::expr::CE;
use crate::program::{run_action, run_function};
use crate::types::Kind;

/// A step run before or after a call.
pub(crate) type Step = Box<dyn Fn(&mut Ctx<'_>) + Send + Sync>;

/// Copy-in and copy-out steps of one call.
pub(crate) struct Binding {
    pub pre: Vec<Step>,
    pub post: Vec<Step>,
}

impl Binding {
    #[inline]
    pub fn before(&self, c: &mut Ctx<'_>) {
        for s in &self.pre {
            s(c);
        }
    }
    #[inline]
    pub fn after(&self, c: &mut Ctx<'_>) {
        for s in &self.post {
            s(c);
        }
    }
}

impl<'m> Compiler<'m> {
    /// Whether an expression contains a call or a table application (bounded walk).
    pub fn has_call(&self, sc: Scope<'m>, e: Handle<Expr>) -> bool {
        let mut stack = vec![e];
        let mut budget = 10_000;
        while let Some(e) = stack.pop() {
            budget -= 1;
            if budget == 0 {
                return true;
            }
            let Some(ex) = sc.body.exprs.get(e) else {
                continue;
            };
            match &ex.kind {
                ExprKind::Call { .. } | ExprKind::TableHit { .. } => return true,
                ExprKind::Field { base, .. }
                | ExprKind::Slice { base, .. }
                | ExprKind::StackMember { base, .. } => stack.push(*base),
                ExprKind::Element { base, index } => stack.extend([*base, *index]),
                ExprKind::DynamicSlice { base, lo, .. } => stack.extend([*base, *lo]),
                ExprKind::Unary { operand, .. } | ExprKind::Cast(operand) => stack.push(*operand),
                ExprKind::Binary { lhs, rhs, .. } => stack.extend([*lhs, *rhs]),
                ExprKind::Select {
                    cond,
                    then,
                    otherwise,
                } => stack.extend([*cond, *then, *otherwise]),
                ExprKind::Compose(items) => stack.extend(items.iter().copied()),
                ExprKind::Literal(_) | ExprKind::Local(_) | ExprKind::Instance(_) => {}
            }
        }
        false
    }

    /// Binds `args` (in the caller's scope) to the parameters `params` (in the callee's).
    pub fn bind(
        &mut self,
        sc: Scope<'m>,
        callee: Scope<'m>,
        params: &[Handle<Local>],
        args: &[Handle<Expr>],
    ) -> R<Binding> {
        let staged = args.iter().any(|&a| self.has_call(sc, a));
        let mut pre: Vec<Step> = Vec::new();
        let mut post: Vec<Step> = Vec::new();
        let mut late: Vec<Step> = Vec::new();
        for (&p, &a) in params.iter().zip(args) {
            let Some(local) = callee.body.locals.get(p) else {
                continue;
            };
            let n = self.t.slots(local.ty);
            if n == 0 {
                continue; // externs, packet_in/out: nothing to pass
            }
            let slot = self.local(&callee, p);
            let scalar = matches!(self.t.kind(local.ty), Kind::Scalar { .. });
            match local.kind {
                LocalKind::In | LocalKind::Directionless => {
                    if staged {
                        // Evaluate into a temporary now, copy to the parameter after every
                        // argument is evaluated (a later argument may call the same callee).
                        let tmp = self.alloc(n);
                        if scalar {
                            let f = self.scalar(sc, a)?;
                            pre.push(Box::new(move |c| {
                                let v = f(c);
                                c.s[tmp] = v;
                            }));
                        } else {
                            let f = self.addr(sc, a)?;
                            pre.push(Box::new(move |c| {
                                let from = f(c);
                                c.s.copy_within(from..from + n, tmp);
                            }));
                        }
                        late.push(Box::new(move |c| c.s.copy_within(tmp..tmp + n, slot)));
                    } else if scalar {
                        let f = self.scalar(sc, a)?;
                        pre.push(Box::new(move |c| {
                            let v = f(c);
                            c.s[slot] = v;
                        }));
                    } else {
                        let f = self.addr(sc, a)?;
                        pre.push(Box::new(move |c| {
                            let from = f(c);
                            if from != slot {
                                c.s.copy_within(from..from + n, slot);
                            }
                        }));
                    }
                }
                LocalKind::Out | LocalKind::InOut | LocalKind::Var => {
                    let Some(place) = self.place(sc, a)? else {
                        return Err(self.unsupported(
                            "an out or inout argument that is not a variable or field",
                            &sc,
                            a,
                        ));
                    };
                    let copy_in = local.kind == LocalKind::InOut;
                    let target: Box<dyn Fn(&mut Ctx<'_>) -> usize + Send + Sync> = match place {
                        Place::At(at) => {
                            if copy_in {
                                pre.push(Box::new(move |c| {
                                    if at != slot {
                                        c.s.copy_within(at..at + n, slot);
                                    }
                                }));
                            }
                            Box::new(move |_| at)
                        }
                        Place::Dyn(f) => {
                            // The argument's address is fixed before the call.
                            let stash = self.alloc(1);
                            pre.push(Box::new(move |c| {
                                let at = f(c);
                                c.s[stash] = at as u128;
                                if copy_in {
                                    c.s.copy_within(at..at + n, slot);
                                }
                            }));
                            Box::new(move |c| c.s[stash] as usize)
                        }
                    };
                    if !copy_in {
                        late.push(Box::new(move |c| c.s[slot..slot + n].fill(0)));
                    }
                    post.push(Box::new(move |c| {
                        let at = target(c);
                        if at != slot {
                            c.s.copy_within(slot..slot + n, at);
                        }
                    }));
                }
            }
        }
        pre.extend(late);
        Ok(Binding { pre, post })
    }

    /// Compiles a call expression.
    pub fn call(
        &mut self,
        sc: Scope<'m>,
        e: Handle<Expr>,
        callee: &'m Callee,
        args: &'m [Handle<Expr>],
    ) -> R<CE> {
        match callee {
            Callee::Action(a) => {
                let idx = self.request_action(*a);
                let (Some(csc), Some(act)) = (self.action_scope(*a), self.m.actions.get(*a)) else {
                    return Err(self.unsupported("a call of a missing action", &sc, e));
                };
                let b = self.bind(sc, csc, &act.params, args)?;
                Ok(CE::S(Box::new(move |c| {
                    b.before(c);
                    if run_action(c, idx) == Flow::Exit {
                        c.run.exit = true;
                    }
                    b.after(c);
                    0
                })))
            }
            Callee::Function(f) => {
                let idx = self.request_function(*f);
                let Some(func) = self.m.functions.get(*f) else {
                    return Err(self.unsupported("a call of a missing function", &sc, e));
                };
                let csc = Scope {
                    key: crate::compile::BodyKey::Function(*f),
                    body: &func.body,
                    ret: None,
                    parser: sc.parser,
                };
                let params: Vec<Handle<Local>> = func
                    .body
                    .locals
                    .iter()
                    .take(func.params)
                    .map(|(h, _)| h)
                    .collect();
                let b = self.bind(sc, csc, &params, args)?;
                let ret = self.ret_slot(*f);
                let scalar = matches!(self.t.kind(func.return_type), Kind::Scalar { .. });
                let run = move |c: &mut Ctx<'_>| {
                    b.before(c);
                    if run_function(c, idx) == Flow::Exit {
                        c.run.exit = true;
                    }
                    b.after(c);
                };
                Ok(if scalar {
                    CE::S(Box::new(move |c| {
                        run(c);
                        c.s[ret]
                    }))
                } else {
                    CE::A(Box::new(move |c| {
                        run(c);
                        ret
                    }))
                })
            }
            Callee::BlockApply(bt) => {
                let idx = self.request_block(*bt);
                let (Some(csc), Some(block)) = (self.block_scope(*bt), self.m.block_types.get(*bt))
                else {
                    return Err(self.unsupported("an apply of a missing block", &sc, e));
                };
                let params: Vec<Handle<Local>> = block
                    .body
                    .locals
                    .iter()
                    .take(block.apply_params)
                    .map(|(h, _)| h)
                    .collect();
                // The instance, when passed, comes first.
                let args = if args.len() == params.len() + 1 {
                    &args[1..]
                } else {
                    args
                };
                let b = self.bind(sc, csc, &params, args)?;
                Ok(CE::S(Box::new(move |c| {
                    b.before(c);
                    crate::parser::run_block_type(c, idx);
                    b.after(c);
                    0
                })))
            }
            Callee::TableApply(t) => {
                let t = self.request_table(*t);
                Ok(CE::S(Box::new(move |c| {
                    let (_, _, flow) = crate::table::apply(c, t);
                    if flow == Flow::Exit {
                        c.run.exit = true;
                    }
                    0
                })))
            }
            Callee::Builtin(b) => self.builtin(sc, e, *b, args),
            Callee::ExternFunction { name, .. } => self.extern_function(sc, e, name, args),
            Callee::ExternMethod { def, method, .. } => {
                let def_name = self.m.externs.get(*def).map_or("", |d| d.name.as_str());
                self.extern_method(sc, e, def_name, method, args)
            }
        }
    }

    fn builtin(
        &mut self,
        sc: Scope<'m>,
        e: Handle<Expr>,
        b: Builtin,
        args: &'m [Handle<Expr>],
    ) -> R<CE> {
        let Some(&recv) = args.first() else {
            return Err(self.unsupported("a built-in method without a receiver", &sc, e));
        };
        let rty = self.get_expr(sc, recv)?.ty;
        let kind = self.t.kind(rty);
        match b {
            Builtin::IsValid => {
                let a = self.addr(sc, recv)?;
                if kind == Kind::Union {
                    // A union is valid when one of its members is.
                    let members: Vec<usize> = (0..self.t.fields(rty).len())
                        .map(|i| self.t.field_offset(rty, i))
                        .collect();
                    return Ok(CE::S(Box::new(move |c| {
                        let base = a(c);
                        u128::from(members.iter().any(|&o| c.s[base + o] != 0))
                    })));
                }
                Ok(CE::S(Box::new(move |c| {
                    let at = a(c);
                    c.s[at]
                })))
            }
            Builtin::SetValid | Builtin::SetInvalid => {
                let Some(p) = self.place(sc, recv)? else {
                    return Err(self.unsupported("setValid/setInvalid on this expression", &sc, e));
                };
                let p = p.into_fn();
                let n = self.t.slots(rty);
                if b == Builtin::SetValid {
                    if let Some((u, others)) = self.union_siblings(sc, recv)? {
                        let u = u.into_fn();
                        return Ok(CE::S(Box::new(move |c| {
                            let base = u(c);
                            for o in &others {
                                c.s[base + o] = 0;
                            }
                            let at = p(c);
                            c.s[at] = 1;
                            0
                        })));
                    }
                    Ok(CE::S(Box::new(move |c| {
                        let at = p(c);
                        c.s[at] = 1;
                        0
                    })))
                } else if kind == Kind::Union {
                    Ok(CE::S(Box::new(move |c| {
                        let at = p(c);
                        c.s[at..at + n].fill(0);
                        0
                    })))
                } else {
                    Ok(CE::S(Box::new(move |c| {
                        let at = p(c);
                        c.s[at] = 0;
                        0
                    })))
                }
            }
            Builtin::PushFront | Builtin::PopFront => {
                let Kind::Stack { element, size } = kind else {
                    return Err(self.unsupported("push_front/pop_front on a non-stack", &sc, e));
                };
                let Some(p) = self.place(sc, recv)? else {
                    return Err(self.unsupported(
                        "push_front/pop_front on this expression",
                        &sc,
                        e,
                    ));
                };
                let p = p.into_fn();
                let count = match args.get(1) {
                    Some(&a) => self.scalar(sc, a)?,
                    None => Box::new(|_: &mut Ctx<'_>| 1),
                };
                let es = self.t.slots(element);
                let size = size as usize;
                let push = b == Builtin::PushFront;
                Ok(CE::S(Box::new(move |c| {
                    let base = p(c);
                    let k = count(c).min(size as u128) as usize;
                    let first = base + 1;
                    let end = first + size * es;
                    let next = c.s[base];
                    if push {
                        // Elements move up by k; the first k become invalid.
                        c.s.copy_within(first..end - k * es, first + k * es);
                        c.s[first..first + k * es].fill(0);
                        c.s[base] = (next + k as u128).min(size as u128);
                    } else {
                        c.s.copy_within(first + k * es..end, first);
                        c.s[end - k * es..end].fill(0);
                        c.s[base] = next.saturating_sub(k as u128);
                    }
                    0
                })))
            }
        }
    }
}
