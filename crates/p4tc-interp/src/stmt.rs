//! Compiling statements. `exit` inside a called action, function or control sets
//! `Run::exit`; the statement that made the call sees it and leaves with `Flow::Exit`.

use p4tc_ir::ir::{Block, ExprKind, Stmt};

use crate::arith::mask;
use crate::compile::{Compiler, Scope, R};
use crate::ctx::{Flow, XFn};
use crate::expr::CE;
use crate::program::run_block;
use crate::types::Kind;

/// Loops stop after this many iterations (P4 loops are bounded; this guards malformed ones).
const MAX_LOOP_ITERATIONS: u32 = 1 << 20;

impl<'m> Compiler<'m> {
    /// Compiles a block.
    pub fn block(&mut self, sc: Scope<'m>, b: &'m Block) -> R<Vec<XFn>> {
        b.stmts.iter().map(|s| self.stmt(sc, s)).collect()
    }

    /// An assignment of `rhs` to the l-value `lhs`.
    pub fn assign(
        &mut self,
        sc: Scope<'m>,
        lhs: p4tc_ir::arena::Handle<p4tc_ir::ir::Expr>,
        rhs: p4tc_ir::arena::Handle<p4tc_ir::ir::Expr>,
    ) -> R<XFn> {
        let lex = self.get_expr(sc, lhs)?;
        if let ExprKind::Slice { base, hi, lo } = &lex.kind {
            let (hi, lo) = (*hi, *lo);
            let bty = self.get_expr(sc, *base)?.ty;
            if self.scalar_info(bty).is_none() || lo >= 128 {
                return Err(self.unsupported(
                    "assignment to a slice of a value wider than 128 bits",
                    &sc,
                    lhs,
                ));
            }
            let Some(p) = self.place(sc, *base)? else {
                return Err(self.unsupported("assignment to a slice of this expression", &sc, lhs));
            };
            let p = p.into_fn();
            let v = self.scalar(sc, rhs)?;
            let m = mask(hi - lo + 1) << lo;
            return Ok(Box::new(move |c| {
                let x = v(c);
                let a = p(c);
                c.s[a] = (c.s[a] & !m) | ((x << lo) & m);
                if c.run.exit {
                    return Flow::Exit;
                }
                Flow::Next
            }));
        }
        let Some(p) = self.place(sc, lhs)? else {
            return Err(self.unsupported("assignment to this expression", &sc, lhs));
        };
        let lty = lex.ty;
        if matches!(self.t.kind(lty), Kind::Scalar { .. }) {
            let v = self.scalar(sc, rhs)?;
            return Ok(match p {
                crate::compile::Place::At(a) => Box::new(move |c| {
                    let x = v(c);
                    c.s[a] = x;
                    if c.run.exit {
                        return Flow::Exit;
                    }
                    Flow::Next
                }),
                crate::compile::Place::Dyn(f) => Box::new(move |c| {
                    let x = v(c);
                    let a = f(c);
                    c.s[a] = x;
                    if c.run.exit {
                        return Flow::Exit;
                    }
                    Flow::Next
                }),
            });
        }
        let n = self.t.slots(lty);
        let src = self.addr(sc, rhs)?;
        let dst = p.into_fn();
        Ok(Box::new(move |c| {
            let from = src(c);
            let to = dst(c);
            if from != to {
                c.s.copy_within(from..from + n, to);
            }
            if c.run.exit {
                return Flow::Exit;
            }
            Flow::Next
        }))
    }

    /// Compiles a statement.
    pub fn stmt(&mut self, sc: Scope<'m>, s: &'m Stmt) -> R<XFn> {
        Ok(match s {
            Stmt::Assign { lhs, rhs } => self.assign(sc, *lhs, *rhs)?,
            Stmt::Call(e) => match self.expr(sc, *e)? {
                CE::S(f) => Box::new(move |c| {
                    f(c);
                    if c.run.exit {
                        Flow::Exit
                    } else {
                        Flow::Next
                    }
                }),
                CE::A(f) => Box::new(move |c| {
                    f(c);
                    if c.run.exit {
                        Flow::Exit
                    } else {
                        Flow::Next
                    }
                }),
            },
            Stmt::Declare { local, init } => {
                let at = self.local(&sc, *local);
                match init {
                    Some(init) => {
                        let ty = sc.body.locals.get(*local).map(|l| l.ty);
                        let Some(ty) = ty else {
                            return Ok(Box::new(|_| Flow::Next));
                        };
                        if matches!(self.t.kind(ty), Kind::Scalar { .. }) {
                            let v = self.scalar(sc, *init)?;
                            Box::new(move |c| {
                                let x = v(c);
                                c.s[at] = x;
                                if c.run.exit {
                                    return Flow::Exit;
                                }
                                Flow::Next
                            })
                        } else {
                            let n = self.t.slots(ty);
                            let src = self.addr(sc, *init)?;
                            Box::new(move |c| {
                                let from = src(c);
                                c.s.copy_within(from..from + n, at);
                                if c.run.exit {
                                    return Flow::Exit;
                                }
                                Flow::Next
                            })
                        }
                    }
                    None => {
                        // Uninitialised: zero (headers start invalid).
                        let n = sc.body.locals.get(*local).map_or(0, |l| self.t.slots(l.ty));
                        Box::new(move |c| {
                            c.s[at..at + n].fill(0);
                            Flow::Next
                        })
                    }
                }
            }
            Stmt::If {
                cond,
                then,
                otherwise,
            } => {
                let cnd = self.scalar(sc, *cond)?;
                let t = self.block(sc, then)?;
                let o = self.block(sc, otherwise)?;
                Box::new(move |c| {
                    let v = cnd(c);
                    if c.run.exit {
                        return Flow::Exit;
                    }
                    if v != 0 {
                        run_block(c, &t)
                    } else {
                        run_block(c, &o)
                    }
                })
            }
            Stmt::Switch {
                selector,
                cases,
                default,
            } => {
                let sty = self.get_expr(sc, *selector)?.ty;
                let sel = self.scalar(sc, *selector)?;
                let mut compiled = Vec::with_capacity(cases.len());
                for (labels, body) in cases {
                    let values: Vec<u128> =
                        labels.iter().map(|v| self.value_scalar(v, sty)).collect();
                    compiled.push((values, self.block(sc, body)?));
                }
                let default = match default {
                    Some(b) => self.block(sc, b)?,
                    None => Vec::new(),
                };
                Box::new(move |c| {
                    let v = sel(c);
                    if c.run.exit {
                        return Flow::Exit;
                    }
                    for (values, body) in &compiled {
                        if values.contains(&v) {
                            return run_block(c, body);
                        }
                    }
                    run_block(c, &default)
                })
            }
            Stmt::SwitchAction {
                table,
                cases,
                default,
            } => {
                let t = self.request_table(*table);
                let mut compiled = Vec::with_capacity(cases.len());
                for (actions, body) in cases {
                    let ids: Vec<usize> = actions.iter().map(|a| a.index()).collect();
                    compiled.push((ids, self.block(sc, body)?));
                }
                let default = match default {
                    Some(b) => self.block(sc, b)?,
                    None => Vec::new(),
                };
                Box::new(move |c| {
                    let (_, action, flow) = crate::table::apply(c, t);
                    if flow == Flow::Exit || c.run.exit {
                        return Flow::Exit;
                    }
                    if let Some(a) = action {
                        for (ids, body) in &compiled {
                            if ids.contains(&a) {
                                return run_block(c, body);
                            }
                        }
                    }
                    run_block(c, &default)
                })
            }
            Stmt::Block(b) => {
                let b = self.block(sc, b)?;
                Box::new(move |c| run_block(c, &b))
            }
            Stmt::Return(value) => match (value, sc.ret) {
                (Some(v), Some((slot, ty))) => {
                    if matches!(self.t.kind(ty), Kind::Scalar { .. }) {
                        let f = self.scalar(sc, *v)?;
                        Box::new(move |c| {
                            let x = f(c);
                            c.s[slot] = x;
                            if c.run.exit {
                                return Flow::Exit;
                            }
                            Flow::Return
                        })
                    } else {
                        let n = self.t.slots(ty);
                        let f = self.addr(sc, *v)?;
                        Box::new(move |c| {
                            let from = f(c);
                            c.s.copy_within(from..from + n, slot);
                            if c.run.exit {
                                return Flow::Exit;
                            }
                            Flow::Return
                        })
                    }
                }
                _ => Box::new(|_| Flow::Return),
            },
            Stmt::Exit => Box::new(|_| Flow::Exit),
            Stmt::Loop { cond, body, update } => {
                let cnd = self.scalar(sc, *cond)?;
                let body = self.block(sc, body)?;
                let update = self.block(sc, update)?;
                Box::new(move |c| {
                    for _ in 0..MAX_LOOP_ITERATIONS {
                        if cnd(c) == 0 {
                            break;
                        }
                        if c.run.exit {
                            return Flow::Exit;
                        }
                        match run_block(c, &body) {
                            Flow::Break => break,
                            Flow::Exit => return Flow::Exit,
                            Flow::Return => return Flow::Return,
                            Flow::Next | Flow::Continue => {}
                        }
                        match run_block(c, &update) {
                            Flow::Exit => return Flow::Exit,
                            Flow::Return => return Flow::Return,
                            _ => {}
                        }
                    }
                    Flow::Next
                })
            }
            Stmt::Break => Box::new(|_| Flow::Break),
            Stmt::Continue => Box::new(|_| Flow::Continue),
        })
    }
}
