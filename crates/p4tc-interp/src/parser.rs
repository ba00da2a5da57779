//! Parsers: states, selects and the bounded state machine; and running any parser or control
//! by block index (sub-parsers and sub-controls).

use p4tc_ir::arena::Handle;
use p4tc_ir::ir::{BlockKind, BlockType, KeysetValue, Transition};

use crate::arith::sext;
use crate::compile::{Compiler, Scope, R};
use crate::ctx::{Ctx, Flow, SFn, XFn};
use crate::program::{run_block, BlockCode};

/// A parser stops after this many state transitions, with `ParserTimeout`: never hang.
pub const MAX_PARSER_STEPS: usize = 1000;
/// Select keys handled at once.
const MAX_SELECT_KEYS: usize = 16;

enum Target {
    Accept,
    Reject,
    State(usize),
}

enum Keyset {
    Exact(u128),
    Mask(u128, u128),
    /// Bounds sign-adjusted when the key is signed.
    Range(i128, i128),
    RangeU(u128, u128),
    Any,
    /// Membership in a value set, by instance index (`Run::value_sets`).
    ValueSet(usize),
}

enum Trans {
    Go(Target),
    Select {
        keys: Vec<(SFn, u32, bool)>,
        cases: Vec<(Vec<Keyset>, Trans)>,
    },
}

struct StateCode {
    stmts: Vec<XFn>,
    trans: Trans,
}

/// A compiled parser.
pub(crate) struct ParserCode {
    /// The parser's own variable declarations, run once before the start state.
    prelude: Vec<XFn>,
    states: Vec<StateCode>,
}

impl<'m> Compiler<'m> {
    /// Compiles a parser's states or a control's apply block.
    pub fn compile_block(&mut self, h: Handle<BlockType>) -> R<BlockCode> {
        let (Some(bt), Some(sc)) = (self.m.block_types.get(h), self.block_scope(h)) else {
            return Err(crate::InterpError::Pipeline(format!(
                "block {h:?} is missing"
            )));
        };
        // Constructor parameters of a block instantiated once: their values are constants.
        self.bind_ctor_params(h, sc);
        match bt.kind {
            BlockKind::Control => Ok(BlockCode::Control(self.block(sc, &bt.body.block)?)),
            BlockKind::Parser => {
                // Declarations at the parser's top level come first in the body's block.
                let mut states = Vec::with_capacity(bt.states.len());
                let prelude = self.block(sc, &bt.body.block)?;
                for st in &bt.states {
                    let stmts = self.block(sc, &st.block)?;
                    let trans = self.transition(sc, &st.transition)?;
                    states.push(StateCode { stmts, trans });
                }
                Ok(BlockCode::Parser(ParserCode { prelude, states }))
            }
        }
    }

    fn bind_ctor_params(&mut self, h: Handle<BlockType>, sc: Scope<'m>) {
        let Some(bt) = self.m.block_types.get(h) else {
            return;
        };
        if bt.ctor_params == 0 {
            return;
        }
        let instances: Vec<_> = self
            .m
            .instances
            .iter()
            .filter(|(_, i)| matches!(self.m.types.get(i.ty), Some(p4tc_ir::ir::Type::Block(b)) if *b == h))
            .map(|(_, i)| i)
            .collect();
        let [inst] = instances.as_slice() else {
            return;
        };
        let params: Vec<_> = bt
            .body
            .locals
            .iter()
            .skip(bt.apply_params)
            .take(bt.ctor_params)
            .map(|(l, local)| (l, local.ty))
            .collect();
        for ((l, ty), arg) in params.into_iter().zip(&inst.args) {
            if let Some(v) = arg.value() {
                let at = self.local(&sc, l);
                self.write_value(v, ty, at);
            }
        }
    }

    fn transition(&mut self, sc: Scope<'m>, t: &'m Transition) -> R<Trans> {
        Ok(match t {
            Transition::Accept => Trans::Go(Target::Accept),
            Transition::Reject => Trans::Go(Target::Reject),
            Transition::State(i) => Trans::Go(Target::State(*i as usize)),
            Transition::Select { keys, cases } => {
                if keys.len() > MAX_SELECT_KEYS {
                    return Err(crate::InterpError::Unsupported(format!(
                        "a select on more than {MAX_SELECT_KEYS} keys"
                    )));
                }
                let mut ks = Vec::with_capacity(keys.len());
                let mut types = Vec::with_capacity(keys.len());
                for &k in keys {
                    let ty = self.get_expr(sc, k)?.ty;
                    let (w, s) = self.scalar_info(ty).unwrap_or((128, false));
                    ks.push((self.scalar(sc, k)?, w, s));
                    types.push(ty);
                }
                let mut cs = Vec::with_capacity(cases.len());
                for case in cases {
                    let mut sets = Vec::with_capacity(case.keysets.len());
                    for (i, k) in case.keysets.iter().enumerate() {
                        let ty = types.get(i).copied();
                        let (w, signed) = ks.get(i).map_or((128, false), |k| (k.1, k.2));
                        let val = |v| ty.map_or(0, |ty| self.value_scalar(v, ty));
                        sets.push(match k {
                            KeysetValue::Exact(v) => Keyset::Exact(val(v)),
                            KeysetValue::Mask(v, m) => {
                                let m = val(m);
                                Keyset::Mask(val(v) & m, m)
                            }
                            KeysetValue::Range(lo, hi) => {
                                if signed {
                                    Keyset::Range(sext(val(lo), w), sext(val(hi), w))
                                } else {
                                    Keyset::RangeU(val(lo), val(hi))
                                }
                            }
                            KeysetValue::Any => Keyset::Any,
                            // Filled through `Interpreter::set_value_set`; empty at first.
                            KeysetValue::ValueSet(i) => Keyset::ValueSet(i.index()),
                        });
                    }
                    cs.push((sets, self.transition(sc, &case.target)?));
                }
                Trans::Select {
                    keys: ks,
                    cases: cs,
                }
            }
        })
    }
}

fn choose<'a>(c: &mut Ctx<'_>, t: &'a Trans) -> Option<&'a Target> {
    let mut t = t;
    loop {
        match t {
            Trans::Go(target) => return Some(target),
            Trans::Select { keys, cases } => {
                let mut values = [0u128; MAX_SELECT_KEYS];
                for (slot, (f, _, _)) in values.iter_mut().zip(keys) {
                    *slot = f(c);
                }
                if c.run.trap.is_some() {
                    return None;
                }
                let mut next = None;
                'cases: for (sets, target) in cases {
                    for (i, set) in sets.iter().enumerate() {
                        let v = values.get(i).copied().unwrap_or(0);
                        let ok = match set {
                            Keyset::Exact(x) => v == *x,
                            Keyset::Mask(x, m) => v & m == *x,
                            Keyset::Range(lo, hi) => {
                                let w = keys.get(i).map_or(128, |k| k.1);
                                let sv = sext(v, w);
                                *lo <= sv && sv <= *hi
                            }
                            Keyset::RangeU(lo, hi) => *lo <= v && v <= *hi,
                            Keyset::Any => true,
                            Keyset::ValueSet(set) => {
                                c.run.value_sets.get(*set).is_some_and(|members| {
                                    members.iter().any(|&(x, m)| v & m == x & m)
                                })
                            }
                        };
                        if !ok {
                            continue 'cases;
                        }
                    }
                    next = Some(target);
                    break;
                }
                match next {
                    Some(n) => t = n,
                    None => {
                        let e = c.prog.errors.no_match;
                        c.trap(e);
                        return None;
                    }
                }
            }
        }
    }
}

/// Runs a parser; `Err(error)` when it rejects (NoError's index for a plain `reject`).
pub(crate) fn run_parser(c: &mut Ctx<'_>, code: &ParserCode) -> Result<(), u32> {
    for s in &code.prelude {
        s(c);
        if let Some(e) = c.run.trap.take() {
            return Err(e);
        }
    }
    let mut state = 0usize;
    for _ in 0..MAX_PARSER_STEPS {
        let Some(st) = code.states.get(state) else {
            return Ok(());
        };
        for s in &st.stmts {
            s(c);
            if let Some(e) = c.run.trap.take() {
                return Err(e);
            }
        }
        match choose(c, &st.trans) {
            Some(Target::Accept) => return Ok(()),
            Some(Target::Reject) => return Err(c.prog.errors.no_error),
            Some(Target::State(i)) => state = *i,
            None => {
                let e = c.run.trap.take().unwrap_or(c.prog.errors.no_match);
                return Err(e);
            }
        }
    }
    Err(c.prog.errors.parser_timeout)
}

/// Runs block `index` (its parameters bound): a control's apply block or a parser. A parser's
/// reject becomes a trap in the calling parser; an `exit` sets `Run::exit`.
pub(crate) fn run_block_type(c: &mut Ctx<'_>, index: usize) {
    let prog = c.prog;
    match prog.blocks.get(index).and_then(Option::as_ref) {
        Some(BlockCode::Control(stmts)) if run_block(c, stmts) == Flow::Exit => {
            c.run.exit = true;
        }
        Some(BlockCode::Control(_)) => {}
        Some(BlockCode::Parser(code)) => {
            if let Err(e) = run_parser(c, code) {
                c.trap(e);
            }
        }
        None => {}
    }
}
