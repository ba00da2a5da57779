//! The compiler's state: slot allocation (every local of every body gets a fixed address,
//! which is sound because P4 has no recursion), the state template, and the queue of actions,
//! functions, tables and blocks still to compile.

use std::collections::HashMap;

use p4tc_ir::arena::Handle;
use p4tc_ir::ir::{Action, BlockType, Body, Expr, Function, Module, Table, Type, Value};

use crate::arith::{mask, to_pattern, write_big};
use crate::ctx::AFn;
use crate::program::{Errors, Program};
use crate::types::{Kind, Types};
use crate::InterpError;

/// A result of compilation.
pub(crate) type R<T> = Result<T, InterpError>;

/// Which body a local belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum BodyKey {
    Block(Handle<BlockType>),
    Action(Handle<Action>),
    Function(Handle<Function>),
}

/// Where code is being compiled.
#[derive(Clone, Copy)]
pub(crate) struct Scope<'m> {
    /// The body whose locals and expressions are in use.
    pub key: BodyKey,
    pub body: &'m Body,
    /// The function being compiled: its return slots and type.
    pub ret: Option<(usize, Handle<Type>)>,
    /// Inside a parser (errors trap there).
    pub parser: bool,
}

/// Where an l-value lives.
pub(crate) enum Place {
    /// At a fixed address.
    At(usize),
    /// At an address computed at run time (stack elements).
    Dyn(AFn),
}

impl Place {
    /// The address as a closure.
    pub fn into_fn(self) -> AFn {
        match self {
            Place::At(a) => Box::new(move |_| a),
            Place::Dyn(f) => f,
        }
    }
}

/// The compiler.
pub(crate) struct Compiler<'m> {
    pub m: &'m Module,
    pub t: Types<'m>,
    /// The state vector's initial contents (constants, zeros elsewhere).
    pub template: Vec<u128>,
    locals: HashMap<BodyKey, Vec<usize>>,
    /// Locals pinned to given slots (the pipeline blocks share their headers and metadata).
    pub alias: HashMap<(BodyKey, usize), usize>,
    /// Return slots of functions.
    ret_slots: HashMap<Handle<Function>, usize>,
    pub prog: Program,
    pending_actions: Vec<Handle<Action>>,
    pending_functions: Vec<Handle<Function>>,
    pending_tables: Vec<Handle<Table>>,
    pending_blocks: Vec<Handle<BlockType>>,
    /// Checksum units allocated (their byte buffers live in `Run::checksums`).
    pub checksum_units: HashMap<Handle<p4tc_ir::ir::Instance>, usize>,
    /// Slots holding per-instance state (InternetChecksum sums).
    pub instance_slots: HashMap<Handle<p4tc_ir::ir::Instance>, usize>,
}

impl<'m> Compiler<'m> {
    pub fn new(m: &'m Module) -> Self {
        let find = |name: &str| {
            m.errors
                .iter()
                .position(|e| e == name)
                .map_or(0, |i| i as u32)
        };
        let prog = Program {
            actions: (0..m.actions.len()).map(|_| None).collect(),
            functions: (0..m.functions.len()).map(|_| None).collect(),
            tables: (0..m.tables.len()).map(|_| None).collect(),
            blocks: (0..m.block_types.len()).map(|_| None).collect(),
            table_handles: m.tables.iter().map(|(h, _)| Some(h)).collect(),
            errors: Errors {
                no_error: find("NoError"),
                packet_too_short: find("PacketTooShort"),
                no_match: find("NoMatch"),
                stack_out_of_bounds: find("StackOutOfBounds"),
                header_too_short: find("HeaderTooShort"),
                parser_timeout: find("ParserTimeout"),
            },
        };
        Compiler {
            m,
            t: Types::new(m),
            template: Vec::new(),
            locals: HashMap::new(),
            alias: HashMap::new(),
            ret_slots: HashMap::new(),
            prog,
            pending_actions: Vec::new(),
            pending_functions: Vec::new(),
            pending_tables: Vec::new(),
            pending_blocks: Vec::new(),
            checksum_units: HashMap::new(),
            instance_slots: HashMap::new(),
        }
    }

    /// `n` fresh zeroed slots.
    pub fn alloc(&mut self, n: usize) -> usize {
        let at = self.template.len();
        self.template.resize(at + n, 0);
        at
    }

    /// An "unsupported" error naming the construct and where it is.
    pub fn unsupported(&self, what: &str, sc: &Scope<'_>, e: Handle<Expr>) -> InterpError {
        let span = sc.body.exprs.span(e);
        InterpError::Unsupported(format!(
            "{what} (at bytes {}..{} of file {:?})",
            span.lo, span.hi, span.file
        ))
    }

    /// The slot of a local.
    pub fn local(&mut self, sc: &Scope<'m>, local: Handle<p4tc_ir::ir::Local>) -> usize {
        if !self.locals.contains_key(&sc.key) {
            let mut slots = Vec::with_capacity(sc.body.locals.len());
            for (i, (_, l)) in sc.body.locals.iter().enumerate() {
                let at = match self.alias.get(&(sc.key, i)) {
                    Some(&a) => a,
                    None => {
                        let n = self.t.slots(l.ty);
                        self.alloc(n)
                    }
                };
                slots.push(at);
            }
            self.locals.insert(sc.key, slots);
        }
        let slots = &self.locals[&sc.key];
        match slots.get(local.index()) {
            Some(&a) => a,
            // A dangling handle (the validator rules it out): give it scratch space.
            None => self.alloc(8),
        }
    }

    /// The return slots of a function.
    pub fn ret_slot(&mut self, f: Handle<Function>) -> usize {
        if let Some(&a) = self.ret_slots.get(&f) {
            return a;
        }
        let n = self
            .m
            .functions
            .get(f)
            .map_or(1, |f| self.t.slots(f.return_type).max(1));
        let a = self.alloc(n);
        self.ret_slots.insert(f, a);
        a
    }

    pub fn request_action(&mut self, a: Handle<Action>) -> usize {
        if !self.pending_actions.contains(&a) {
            self.pending_actions.push(a);
        }
        a.index()
    }
    pub fn request_function(&mut self, f: Handle<Function>) -> usize {
        if !self.pending_functions.contains(&f) {
            self.pending_functions.push(f);
        }
        f.index()
    }
    pub fn request_table(&mut self, t: Handle<Table>) -> usize {
        if !self.pending_tables.contains(&t) {
            self.pending_tables.push(t);
        }
        t.index()
    }
    pub fn request_block(&mut self, b: Handle<BlockType>) -> usize {
        if !self.pending_blocks.contains(&b) {
            self.pending_blocks.push(b);
        }
        b.index()
    }

    /// Compiles everything requested, until nothing new is.
    pub fn drain(&mut self) -> R<()> {
        let (mut a, mut f, mut t, mut b) = (0, 0, 0, 0);
        loop {
            if let Some(&h) = self.pending_blocks.get(b) {
                b += 1;
                let code = self.compile_block(h)?;
                self.prog.blocks[h.index()] = Some(code);
            } else if let Some(&h) = self.pending_tables.get(t) {
                t += 1;
                let code = self.compile_table(h)?;
                self.prog.tables[h.index()] = Some(code);
            } else if let Some(&h) = self.pending_actions.get(a) {
                a += 1;
                let code = self.compile_action(h)?;
                self.prog.actions[h.index()] = Some(code);
            } else if let Some(&h) = self.pending_functions.get(f) {
                f += 1;
                let code = self.compile_function(h)?;
                self.prog.functions[h.index()] = Some(code);
            } else {
                return Ok(());
            }
        }
    }

    /// The scope of a block type's body.
    pub fn block_scope(&self, b: Handle<BlockType>) -> Option<Scope<'m>> {
        let bt = self.m.block_types.get(b)?;
        Some(Scope {
            key: BodyKey::Block(b),
            body: &bt.body,
            ret: None,
            parser: bt.kind == p4tc_ir::ir::BlockKind::Parser,
        })
    }

    /// The scope an action's code lives in.
    pub fn action_scope(&self, a: Handle<Action>) -> Option<Scope<'m>> {
        let act = self.m.actions.get(a)?;
        match act.control {
            Some(c) => Some(Scope {
                key: BodyKey::Block(c),
                body: &self.m.block_types.get(c)?.body,
                ret: None,
                parser: false,
            }),
            None => Some(Scope {
                key: BodyKey::Action(a),
                body: &act.body,
                ret: None,
                parser: false,
            }),
        }
    }

    /// When `e` is a member of a header union: the union's place and the offsets of the other
    /// members (which become invalid when this one becomes valid).
    pub fn union_siblings(
        &mut self,
        sc: Scope<'m>,
        e: Handle<Expr>,
    ) -> R<Option<(Place, Vec<usize>)>> {
        let Some(p4tc_ir::ir::ExprKind::Field { base, index }) =
            sc.body.exprs.get(e).map(|x| &x.kind)
        else {
            return Ok(None);
        };
        let Some(bty) = sc.body.exprs.get(*base).map(|x| x.ty) else {
            return Ok(None);
        };
        if self.t.kind(bty) != Kind::Union {
            return Ok(None);
        }
        let n = self.t.fields(bty).len();
        let others = (0..n)
            .filter(|&i| i != *index as usize)
            .map(|i| self.t.field_offset(bty, i))
            .collect();
        Ok(self.place(sc, *base)?.map(|p| (p, others)))
    }

    /// The scalar width and signedness of a type, if it is a scalar.
    pub fn scalar_info(&self, ty: Handle<Type>) -> Option<(u32, bool)> {
        match self.t.kind(ty) {
            Kind::Scalar { width, signed } => Some((width, signed)),
            _ => None,
        }
    }

    /// The width of a scalar or wide type.
    pub fn bits_info(&self, ty: Handle<Type>) -> Option<(u32, bool)> {
        match self.t.kind(ty) {
            Kind::Scalar { width, signed } | Kind::Wide { width, signed } => Some((width, signed)),
            _ => None,
        }
    }

    /// The value of a scalar literal of type `ty`.
    pub fn value_scalar(&self, v: &Value, ty: Handle<Type>) -> u128 {
        match v {
            Value::Int(i) => {
                let width = self.bits_info(ty).map_or(128, |(w, _)| w);
                let p = to_pattern(i, width.min(128));
                let d = p.to_u64_digits();
                let lo = u128::from(d.first().copied().unwrap_or(0));
                let hi = u128::from(d.get(1).copied().unwrap_or(0));
                (lo | (hi << 64)) & mask(width)
            }
            Value::Bool(b) => u128::from(*b),
            Value::Error(i) | Value::MatchKind(i) => u128::from(*i),
            Value::Enum(i) => {
                let ty = self.t.resolve(ty);
                if let Some(Type::Enum(e)) = self.m.types.get(ty) {
                    if let Some(def) = self.m.enums.get(*e) {
                        if let Some(u) = def.underlying {
                            let value = def
                                .members
                                .get(*i as usize)
                                .and_then(|(_, v)| v.clone())
                                .unwrap_or_default();
                            return self.value_scalar(&Value::Int(value), u);
                        }
                    }
                }
                u128::from(*i)
            }
            Value::String(_) | Value::Tuple(_) | Value::InvalidHeader => 0,
        }
    }

    /// Writes the value `v` of type `ty` into the template at `at`.
    pub fn write_value(&mut self, v: &Value, ty: Handle<Type>, at: usize) {
        match self.t.kind(ty) {
            Kind::Scalar { .. } => {
                let x = self.value_scalar(v, ty);
                if let Some(slot) = self.template.get_mut(at) {
                    *slot = x;
                }
            }
            Kind::Wide { width, .. } => {
                if let Value::Int(i) = v {
                    let p = to_pattern(i, width);
                    let n = crate::types::limbs(width);
                    if let Some(out) = self.template.get_mut(at..at + n) {
                        write_big(&p, out);
                    }
                }
            }
            Kind::Header | Kind::Struct | Kind::Union => {
                if let Value::Tuple(items) = v {
                    if self.t.kind(ty) == Kind::Header {
                        if let Some(slot) = self.template.get_mut(at) {
                            *slot = 1;
                        }
                    }
                    let fields = self.t.fields(ty);
                    for (i, (item, fty)) in items.iter().zip(fields).enumerate() {
                        let off = self.t.field_offset(ty, i);
                        self.write_value(item, fty, at + off);
                    }
                }
            }
            Kind::Stack { element, .. } => {
                if let Value::Tuple(items) = v {
                    let es = self.t.slots(element);
                    for (i, item) in items.iter().enumerate() {
                        self.write_value(item, element, at + 1 + i * es);
                    }
                }
            }
            Kind::Varbit { .. } | Kind::Opaque => {}
        }
    }

    /// A compile-time integer from a value (constructor arguments).
    pub fn value_u128(v: &Value) -> u128 {
        match v {
            Value::Int(i) => {
                let p = to_pattern(i, 128);
                let d = p.to_u64_digits();
                u128::from(d.first().copied().unwrap_or(0))
                    | (u128::from(d.get(1).copied().unwrap_or(0)) << 64)
            }
            Value::Bool(b) => u128::from(*b),
            Value::Enum(i) | Value::Error(i) | Value::MatchKind(i) => u128::from(*i),
            _ => 0,
        }
    }
}
