//! The packet: the parser's state machine and extraction, the deparser's emits and writes.

use p4tc_ir::arena::Handle;
use p4tc_ir::ir::{BlockType, Composite, Expr, ExprKind, KeysetValue, Transition, Type};
use p4tc_ir::Span;

use super::out::{ident, mask_lit, Out};
use super::{unsupported, Emit, Gen, Repr, Scope, R};
use crate::Hook;

/// One field of a header as laid out on the wire.
#[derive(Clone, Debug)]
pub(crate) struct WireField {
    pub(crate) name: String,
    /// Bit offset from the header's first bit (most significant first).
    pub(crate) offset: u32,
    pub(crate) width: u32,
}

impl<'m> Gen<'m> {
    /// The wire layout of a header and its size in bytes.
    pub(crate) fn wire(&self, c: Handle<Composite>, span: Span) -> R<(Vec<WireField>, u32)> {
        let comp = &self.m.composites[c];
        let mut fields = Vec::new();
        let mut off = 0u32;
        let last = comp.fields.len().saturating_sub(1);
        for (i, f) in comp.fields.iter().enumerate() {
            if let Type::Varbit { max_width } = self.ty(self.resolve(f.ty)) {
                if i != last || off % 8 != 0 || max_width % 8 != 0 {
                    return unsupported(
                        format!("the varbit `{}.{}` anywhere but at the end of its header, on whole bytes", comp.name, f.name),
                        span,
                    );
                }
                continue;
            }
            let w = match self.repr(f.ty) {
                Repr::Int { width, .. } => width,
                Repr::Wide { width } => {
                    if off % 8 != 0 || width % 8 != 0 {
                        return unsupported(
                            format!(
                                "the wide field `{}.{}` off byte boundaries",
                                comp.name, f.name
                            ),
                            span,
                        );
                    }
                    width
                }
                _ => {
                    return unsupported(
                        format!("the field `{}.{}` in a header", comp.name, f.name),
                        span,
                    )
                }
            };
            if matches!(self.ty(self.resolve(f.ty)), Type::Bool) {
                // bool takes one bit on the wire
            }
            fields.push(WireField {
                name: ident(&f.name),
                offset: off,
                width: w,
            });
            off += w;
        }
        if off % 8 != 0 {
            return unsupported(
                format!(
                    "header `{}`, whose size ({off} bits) is not whole bytes",
                    comp.name
                ),
                span,
            );
        }
        Ok((fields, off / 8))
    }

    /// A header's trailing varbit field: its C name and its most bytes.
    pub(crate) fn varbit_of(&self, c: Handle<Composite>) -> Option<(String, u32)> {
        let f = self.m.composites[c].fields.last()?;
        match self.ty(self.resolve(f.ty)) {
            Type::Varbit { max_width } => Some((ident(&f.name), max_width / 8)),
            _ => None,
        }
    }

    /// Statements writing a header's varbit bytes after its fixed part at `w_ + size`, and
    /// moving `w_` past the header. The bytes are the header's own, or those of `scratch`
    /// where [`Self::load_lazy_varbit`] put them.
    pub(crate) fn store_varbit(
        &self,
        lv: &str,
        c: Handle<Composite>,
        size: u32,
        scratch: Option<&str>,
        o: &mut Out,
    ) {
        match self.varbit_of(c) {
            None => o.line(format!("w_ += {size};")),
            Some((f, max)) => {
                let v = super::expr::field_access(lv, &f);
                let bytes = scratch.map_or_else(|| format!("{v}.b"), str::to_string);
                // One helper call for the bytes, not a store with a bounds check per byte.
                // The helper may move the packet: the pointers are taken again, `w_` from
                // its offset (bounded for the verifier).
                let (store, ctx) = match self.hook {
                    Hook::Tc => ("bpf_skb_store_bytes", "skb"),
                    Hook::Xdp => ("bpf_xdp_store_bytes", "ctx"),
                };
                let flags = match self.hook {
                    Hook::Tc => ", 0",
                    Hook::Xdp => "",
                };
                o.open("");
                // 64 bits wide and opaque: the test against zero and the helper's size
                // argument are one register to the verifier.
                o.line(format!("u64 vn_ = p4tc_varbit_bytes({v}.len, {max});"));
                o.line(format!("u32 wo_ = (u32)((void *)w_ - data) + {size};"));
                o.line("if (wo_ > 0x3fff) { drop = 1; goto verdict; }");
                o.open("if (vn_ > 0)");
                o.line(format!(
                    "if ({store}({ctx}, wo_, {bytes}, vn_{flags})) {{ drop = 1; goto verdict; }}"
                ));
                match self.hook {
                    Hook::Tc => {
                        o.line("data = (void *)(long)skb->data;");
                        o.line("data_end = (void *)(long)skb->data_end;");
                    }
                    Hook::Xdp => {
                        o.line("data = (void *)(long)ctx->data;");
                        o.line("data_end = (void *)(long)ctx->data_end;");
                    }
                }
                o.close();
                o.line("w_ = (u8 *)data + (wo_ & 0x3fff) + vn_;");
                o.close();
            }
        }
    }

    /// True when the program may assign the varbit field (C name `vf`) of emitted header `e`
    /// (asked by both its P4 and its C name, as assignments record the P4 one).
    fn varbit_may_change(&self, e: &super::Emit, vf: &str) -> bool {
        let raw = self.m.composites[e.composite]
            .fields
            .last()
            .map(|f| f.name.clone())
            .unwrap_or_default();
        self.field_may_change(&e.lvalue, vf) || self.field_may_change(&e.lvalue, &raw)
    }

    /// Statements reading a header at pointer `p` (checked) into lvalue `lv`.
    pub(crate) fn load_header(&self, lv: &str, p: &str, fields: &[WireField], o: &mut Out) {
        let bits = fields.iter().map(|f| f.offset + f.width).max().unwrap_or(0);
        let sub_byte = fields.iter().any(|f| f.offset % 8 != 0 || f.width % 8 != 0);
        if sub_byte && bits <= 64 {
            // A short header with fields inside bytes (an MPLS label, a VLAN tag): one
            // word load, every field shifted out of it, not a load per byte per field
            // (the stores into the header between them may alias the packet, so clang
            // would load the bytes again).
            let size = bits.div_ceil(8);
            o.open("");
            o.line(format!("u64 hw_ = p4tc_ld_be({p}, {size});"));
            for f in fields {
                let dst = super::expr::field_access(lv, &f.name);
                let v = shifted("hw_", 8 * size - f.offset - f.width, f.width, 0);
                o.line(format!(
                    "{dst} = (({})({v}));",
                    super::out::uint_for(f.width)
                ));
            }
            o.close();
            o.line(format!("{} = 1;", super::expr::field_access(lv, "__valid")));
            return;
        }
        for f in fields {
            let dst = super::expr::field_access(lv, &f.name);
            if f.width > 64 {
                o.line(format!(
                    "p4tc_copy({dst}.b, {p} + {}, {});",
                    f.offset / 8,
                    f.width / 8
                ));
                continue;
            }
            o.line(format!("{dst} = {};", load_bits(p, f.offset, f.width)));
        }
        o.line(format!("{} = 1;", super::expr::field_access(lv, "__valid")));
    }

    /// Statements writing header `lv` at pointer `p` (checked).
    pub(crate) fn store_header(
        &self,
        lv: &str,
        p: &str,
        fields: &[WireField],
        size: u32,
        o: &mut Out,
    ) {
        self.store_header_fields(lv, p, fields, size, None, false, o);
    }

    /// [`Self::store_header`], storing only the bytes of fields with `dirty[i]` set (all of
    /// them without `dirty`). With `stack`, `p` is an 8-aligned stack buffer, which the
    /// verifier lets the program access aligned only: a field whose word stores would be
    /// misaligned there is stored byte by byte.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn store_header_fields(
        &self,
        lv: &str,
        p: &str,
        fields: &[WireField],
        size: u32,
        dirty: Option<&[bool]>,
        stack: bool,
        o: &mut Out,
    ) {
        let is_dirty = |i: usize| dirty.is_none_or(|d| d.get(i).copied().unwrap_or(true));
        let sub_byte = fields.iter().any(|f| f.offset % 8 != 0 || f.width % 8 != 0);
        if sub_byte && size <= 8 && (0..fields.len()).all(is_dirty) {
            // A short header with fields inside bytes, stored whole: its bits assembled in
            // one word and stored with one (or, for 3, 5, 6 or 7 bytes, two or three
            // naturally aligned) stores, not byte by byte from each field again (as the
            // parser reads it: `load_header`).
            let parts: Vec<String> = fields
                .iter()
                .map(|f| {
                    let src = super::expr::field_access(lv, &f.name);
                    shifted(
                        &format!("(u64){src}"),
                        0,
                        f.width,
                        8 * size - f.offset - f.width,
                    )
                })
                .collect();
            o.line(format!("p4tc_st_be({p}, {}, {size});", parts.join(" | ")));
            return;
        }
        let mut covered = vec![false; size as usize];
        // Bytes of clean fields only are left as the packet has them.
        for (i, f) in fields.iter().enumerate() {
            if !is_dirty(i) {
                for b in f.offset / 8..(f.offset + f.width).div_ceil(8) {
                    covered[b as usize] = true;
                }
            }
        }
        for (i, f) in fields.iter().enumerate() {
            if is_dirty(i) {
                for b in f.offset / 8..(f.offset + f.width).div_ceil(8) {
                    covered[b as usize] = false;
                }
            }
        }
        // Whole-byte fields on byte boundaries: one store each.
        for (i, f) in fields.iter().enumerate() {
            if !is_dirty(i) {
                continue;
            }
            if f.offset % 8 == 0 && f.width % 8 == 0 {
                let src = super::expr::field_access(lv, &f.name);
                let at = f.offset / 8;
                let n = f.width / 8;
                // The widest store p4tc_st_be makes for n bytes.
                let word = match n {
                    1 => 1,
                    2 | 3 => 2,
                    4..=7 => 4,
                    _ => 8,
                };
                if f.width > 64 {
                    o.line(format!("p4tc_copy({p} + {at}, {src}.b, {n});"));
                } else if stack && at % word != 0 {
                    o.line(format!("p4tc_st_be_b({p} + {at}, {src}, {n});"));
                } else {
                    o.line(format!("p4tc_st_be({p} + {at}, {src}, {n});"));
                }
                for b in at..at + n {
                    covered[b as usize] = true;
                }
            }
        }
        // The remaining bytes, each assembled from the fields that share it.
        for b in 0..size {
            if covered[b as usize] {
                continue;
            }
            let lo = 8 * b;
            let hi = lo + 8;
            let mut parts = Vec::new();
            for f in fields {
                let a = f.offset.max(lo);
                let z = (f.offset + f.width).min(hi);
                if a >= z {
                    continue;
                }
                let n = z - a;
                let src = super::expr::field_access(lv, &f.name);
                let shift_f = f.offset + f.width - z;
                let shift_b = hi - z;
                parts.push(shifted(&format!("(u64){src}"), shift_f, n, shift_b));
            }
            if parts.is_empty() {
                parts.push("0".into());
            }
            o.line(format!("{p}[{b}] = (u8)({});", parts.join(" | ")));
        }
    }

    /// Fills [`Gen::static_po`]: the extracts whose offset in the packet is the same on
    /// every path (each state reached at one offset, and the statements before the extract
    /// in its state move the cursor by a constant), so the deparser needs no run-time
    /// record of where they were read.
    pub(crate) fn find_static_offsets(&mut self, parser: &'m BlockType) {
        use p4tc_ir::ir::{Callee, Stmt};
        #[derive(Clone, Copy, PartialEq)]
        enum At {
            Unreached,
            Const(u32),
            Dynamic,
        }
        let body = &parser.body;
        // A packet_in method call: (method, its arguments).
        let packet_call = |e: Handle<Expr>| -> Option<(&str, &Vec<Handle<Expr>>)> {
            match &body.exprs[e].kind {
                ExprKind::Call {
                    callee: Callee::ExternMethod { def, method, .. },
                    args,
                } if self.m.externs[*def].name == "packet_in" => Some((method.as_str(), args)),
                _ => None,
            }
        };
        // True when a nested block may move the cursor (an extract or advance in it).
        fn moves(b: &p4tc_ir::ir::Block, f: &dyn Fn(Handle<Expr>) -> bool) -> bool {
            b.stmts.iter().any(|st| match st {
                Stmt::Call(e) => f(*e),
                _ => st.blocks().into_iter().any(|b| moves(b, f)),
            })
        }
        let is_move =
            |e: Handle<Expr>| packet_call(e).is_some_and(|(m, _)| m == "extract" || m == "advance");
        let n = parser.states.len();
        let mut entry = vec![At::Unreached; n];
        if n == 0 {
            return;
        }
        entry[0] = At::Const(0);
        let mut found: std::collections::HashMap<Handle<Expr>, u32> = Default::default();
        // Offsets only grow along a path and a state seen at two offsets goes Dynamic for
        // good, so this settles; the bound is a safeguard.
        let mut settled = false;
        for _ in 0..(2 * n + 2) {
            let mut changed = false;
            found.clear();
            for (i, st) in parser.states.iter().enumerate() {
                let mut at = entry[i];
                if at == At::Unreached {
                    continue;
                }
                for stmt in &st.block.stmts {
                    let At::Const(c) = at else { break };
                    match stmt {
                        Stmt::Call(e) => match packet_call(*e) {
                            Some(("extract", args)) if args.len() == 2 => {
                                let ty = self.resolve(body.exprs[args[1]].ty);
                                let fixed = matches!(
                                    body.exprs[args[1]].kind,
                                    ExprKind::StackMember { .. }
                                );
                                match self.header_of(ty).map(|h| self.wire(h, Span::default())) {
                                    Some(Ok((_, size))) if !fixed => {
                                        found.insert(args[1], c);
                                        at = At::Const(c + size);
                                    }
                                    Some(Ok((_, size))) => at = At::Const(c + size),
                                    _ => at = At::Dynamic,
                                }
                            }
                            Some(("advance", args)) => {
                                let bits = args.get(1).and_then(|a| match &body.exprs[*a].kind {
                                    ExprKind::Literal(v) => {
                                        u32::try_from(&super::value_uint(v)).ok()
                                    }
                                    _ => None,
                                });
                                at = match bits {
                                    Some(b) if b % 8 == 0 => At::Const(c + b / 8),
                                    _ => At::Dynamic,
                                };
                            }
                            Some(("extract", args)) => {
                                // A varbit's header starts here; what follows depends on
                                // its length.
                                if let Some(t) = args.get(1) {
                                    found.insert(*t, c);
                                }
                                at = At::Dynamic;
                            }
                            _ => {}
                        },
                        Stmt::If {
                            then, otherwise, ..
                        } if moves(then, &is_move) || moves(otherwise, &is_move) => {
                            at = At::Dynamic;
                        }
                        Stmt::Block(b) if moves(b, &is_move) => at = At::Dynamic,
                        Stmt::Loop { .. } | Stmt::Switch { .. } | Stmt::SwitchAction { .. } => {
                            at = At::Dynamic;
                        }
                        _ => {}
                    }
                }
                let mut targets = Vec::new();
                let mut stack = vec![&st.transition];
                while let Some(t) = stack.pop() {
                    match t {
                        Transition::State(j) => targets.push(*j as usize),
                        Transition::Select { cases, .. } => {
                            stack.extend(cases.iter().map(|c| c.target.as_ref()))
                        }
                        _ => {}
                    }
                }
                for j in targets {
                    let Some(cur) = entry.get(j).copied() else {
                        continue;
                    };
                    let next = match (cur, at) {
                        (At::Unreached, a) => a,
                        (At::Const(x), At::Const(y)) if x == y => cur,
                        (At::Dynamic, _) => At::Dynamic,
                        _ => At::Dynamic,
                    };
                    if next != cur {
                        entry[j] = next;
                        changed = true;
                    }
                }
            }
            if !changed {
                settled = true;
                break;
            }
        }
        // The facts of the last pass, over settled entries (a state's entry changes at most
        // twice, so the bound is never reached; if it were, nothing is assumed).
        if settled {
            self.static_po = found;
        }
    }

    /// Records where extraction `k` (into `lv`, by the expression `target`) reads: a
    /// constant when every path gets there at one offset, else `po_K_` set from the cursor.
    fn record_offset(&mut self, k: usize, target: Handle<Expr>, lv: &str, o: &mut Out) {
        if let Some(off) = self.static_po.get(&target).copied() {
            self.po_const.insert(k, off);
        } else {
            let decl = format!("u32 po_{k}_ = 0; /* where the parser read {lv} */");
            if !self.extra_locals.contains(&decl) {
                self.extra_locals.push(decl);
            }
            o.line(format!("po_{k}_ = (u32)((void *)cursor - data);"));
        }
    }

    /// The scratch buffer that holds the bytes of the `i`th emit's varbit between
    /// [`Self::load_lazy_varbit`] and [`Self::store_varbit`], when the parser left them in
    /// the packet ([`Gen::lazy_varbits`]), declared (zeroed, for the verifier) into `o`.
    ///
    /// Not the header's own bytes: a buffer whose address a helper takes lives in memory,
    /// and so would the header's validity and length beside it. Loaded from memory, they
    /// kept clang from taking the parser's early exits (a frame too short, no IPv4)
    /// straight to their verdict, and ipv4_options paid for it on every packet (about 5 %;
    /// docs/benchmarks.md, round 10).
    fn lazy_varbit_scratch(&self, i: usize, e: &Emit, o: &mut Out) -> Option<String> {
        let Some(Some(_)) = self.lazy_varbits.get(&e.composite) else {
            return None;
        };
        let (_, max) = self.varbit_of(e.composite)?;
        let name = format!("vb_{i}_");
        o.line(format!("u8 {name}[{max}] = {{}};"));
        Some(name)
    }

    /// For each emit, the scratch buffer its varbit's bytes were loaded into by
    /// [`Self::load_lazy_varbit`] (none when the parser did not leave them in the packet).
    fn load_lazy_varbits(
        &self,
        emits: &[Emit],
        layouts: &[(Vec<WireField>, u32)],
        o: &mut Out,
    ) -> Vec<Option<String>> {
        let mut scratch = Vec::with_capacity(emits.len());
        for (i, (e, (_, size))) in emits.iter().zip(layouts).enumerate() {
            let buf = self.lazy_varbit_scratch(i, e, o);
            if let Some(buf) = &buf {
                self.load_lazy_varbit(e, *size, buf, o);
            }
            scratch.push(buf);
        }
        scratch
    }

    /// For an emitted header whose varbit the parser left in the packet
    /// ([`Gen::lazy_varbits`]): statements loading those bytes into `scratch` from where
    /// the header was parsed, when valid (before anything moves the packet's bytes).
    fn load_lazy_varbit(&self, e: &Emit, size: u32, scratch: &str, o: &mut Out) {
        let Some(Some(k)) = self.lazy_varbits.get(&e.composite).copied() else {
            return;
        };
        let Some((f, max)) = self.varbit_of(e.composite) else {
            return;
        };
        let valid = super::expr::field_access(&e.lvalue, "__valid");
        let v = super::expr::field_access(&e.lvalue, &f);
        let at = match self.po_const.get(&k) {
            Some(off) => format!("{}", off + size),
            None => format!("(po_{k}_ & 0x3fff) + {size}"),
        };
        let (load, ctx) = match self.hook {
            Hook::Tc => ("bpf_skb_load_bytes", "skb"),
            Hook::Xdp => ("bpf_xdp_load_bytes", "ctx"),
        };
        o.open(format!("if ({valid})"));
        o.line("/* The varbit's bytes, left in the packet by the parser. */");
        o.line(format!("u64 vl_ = p4tc_varbit_bytes({v}.len, {max});"));
        o.line(format!(
            "if (vl_ > 0 && {load}({ctx}, {at}, {scratch}, vl_)) {{ drop = 1; goto verdict; }}"
        ));
        o.close();
    }

    /// The parser: one label per state; or, when [`Self::unroll_plan`] finds one, a label
    /// per copy of a state at each fill level of the stacks it extracts into.
    pub(crate) fn parser_states(
        &mut self,
        s: &Scope<'_>,
        parser: &'m BlockType,
        o: &mut Out,
    ) -> R<()> {
        if let Some(plan) = self.unroll_plan(s, parser)? {
            return self.unrolled_states(s, parser, &plan, o);
        }
        let names: Vec<String> = parser
            .states
            .iter()
            .enumerate()
            .map(|(i, st)| format!("state_{i}_{}", ident(&st.name)))
            .collect();
        for (i, st) in parser.states.iter().enumerate() {
            o.label(&names[i]);
            // A state is entered from several places: no element is known to be last.
            self.last_ptrs.clear();
            let mut sc = s.clone();
            self.block(&mut sc, &st.block, o)?;
            self.transition(s, &st.transition, &names, o)?;
        }
        // Past the parser no element is known to be last.
        self.last_ptrs.clear();
        Ok(())
    }

    /// Whether (and how) to unroll the parser over its header stacks' fill levels: a stack
    /// whose `next_index` only extracts into `stack.next` change, each at a state's top level,
    /// has a fill level known at compile time in every copy of a state made per level. There
    /// `stack.next`, `stack.last` and `stack.lastIndex` are constants: no run-time index, no
    /// bounds check, no pointer to the last element, and clang keeps the stack's fields in
    /// registers (an array indexed at run time lives in memory). A loop over a stack becomes
    /// straight code, as a hand-written parser unrolls it.
    ///
    /// `None` (the plain parser) when anything else may change a stack's fill level (a
    /// push or pop, an assignment or a call taking a stack or what holds one, an extract
    /// into `stack.next` under a condition, a read of `stack.next`), when no state needs a
    /// fill level, or when the copies would be too many.
    fn unroll_plan(&mut self, s: &Scope<'_>, parser: &'m BlockType) -> R<Option<Unroll>> {
        use p4tc_ir::ir::{Builtin, Callee, Stmt};
        let body = &parser.body;
        let n = parser.states.len();
        if n == 0 {
            return Ok(None);
        }
        // The target of an extract into `stack.next` (its stack expression), if `e` is one.
        let next_extract = |e: Handle<Expr>| -> Option<Handle<Expr>> {
            let ExprKind::Call {
                callee: Callee::ExternMethod { def, method, .. },
                args,
            } = &body.exprs[e].kind
            else {
                return None;
            };
            if method != "extract" || args.len() != 2 || self.m.externs[*def].name != "packet_in" {
                return None;
            }
            match &body.exprs[args[1]].kind {
                ExprKind::StackMember {
                    base,
                    member: p4tc_ir::ir::StackMember::Next,
                } => Some(*base),
                _ => None,
            }
        };
        // Extracts into `.next` at states' top level, by state: (the call, the stack, the
        // statement's position).
        type Site = (Handle<Expr>, Handle<Expr>, usize);
        let mut top: Vec<Vec<Site>> = vec![Vec::new(); n];
        for (i, st) in parser.states.iter().enumerate() {
            for (at, stmt) in st.block.stmts.iter().enumerate() {
                if let Stmt::Call(e) = stmt {
                    if let Some(b) = next_extract(*e) {
                        top[i].push((*e, b, at));
                    }
                }
            }
        }
        let allowed: std::collections::HashSet<Handle<Expr>> =
            top.iter().flatten().map(|(e, _, _)| *e).collect();
        // Nothing else may change a fill level.
        for (h, e) in body.exprs.iter() {
            match &e.kind {
                ExprKind::Call {
                    callee: Callee::Builtin(Builtin::PushFront | Builtin::PopFront),
                    ..
                } => return Ok(None),
                ExprKind::Call { args, .. } => {
                    if next_extract(h).is_some() && !allowed.contains(&h) {
                        return Ok(None);
                    }
                    if args.iter().any(|a| self.has_stack(body.exprs[*a].ty)) {
                        return Ok(None);
                    }
                }
                ExprKind::StackMember {
                    member: p4tc_ir::ir::StackMember::Next,
                    ..
                } => {
                    // Only as an extract's target (an argument of one of `allowed`).
                    let is_target = allowed.iter().any(|c| match &body.exprs[*c].kind {
                        ExprKind::Call { args, .. } => args.get(1) == Some(&h),
                        _ => false,
                    });
                    if !is_target {
                        return Ok(None);
                    }
                }
                _ => {}
            }
        }
        let mut blocks: Vec<&p4tc_ir::ir::Block> =
            parser.states.iter().map(|st| &st.block).collect();
        while let Some(b) = blocks.pop() {
            for stmt in &b.stmts {
                match stmt {
                    Stmt::Assign { lhs, .. } if self.has_stack(body.exprs[*lhs].ty) => {
                        return Ok(None)
                    }
                    Stmt::Declare { local, .. } if self.has_stack(body.locals[*local].ty) => {
                        return Ok(None)
                    }
                    _ => blocks.extend(stmt.blocks()),
                }
            }
        }
        // The stacks each state uses (by C lvalue), and each state's successors.
        let mut stacks: Vec<(String, u32)> = Vec::new();
        let mut uses: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut succs: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, st) in parser.states.iter().enumerate() {
            let mut roots = super::stmt_exprs(&st.block);
            let mut ts = vec![&st.transition];
            while let Some(t) = ts.pop() {
                match t {
                    Transition::State(j) if (*j as usize) < n => succs[i].push(*j as usize),
                    Transition::Select { keys, cases } => {
                        roots.extend(keys.iter().copied());
                        ts.extend(cases.iter().map(|c| c.target.as_ref()));
                    }
                    _ => {}
                }
            }
            while let Some(e) = roots.pop() {
                if let ExprKind::StackMember { base, .. } = &body.exprs[e].kind {
                    let Some(b) = self.plain_place(s, *base)? else {
                        return Ok(None);
                    };
                    let j = match stacks.iter().position(|(x, _)| *x == b) {
                        Some(j) => j,
                        None => {
                            stacks.push((b, self.stack_size(body.exprs[*base].ty)));
                            stacks.len() - 1
                        }
                    };
                    if !uses[i].contains(&j) {
                        uses[i].push(j);
                    }
                }
                roots.extend(super::operands(&body.exprs[e].kind));
            }
        }
        if stacks.is_empty() {
            return Ok(None);
        }
        let mut extracts: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
        for (i, t) in top.iter().enumerate() {
            for (_, b, at) in t {
                let Some(name) = self.plain_place(s, *b)? else {
                    return Ok(None);
                };
                match stacks.iter().position(|(x, _)| *x == name) {
                    Some(j) => extracts[i].push((*at, j)),
                    None => return Ok(None),
                }
            }
        }
        // A fill level is followed where this state or one after it uses it.
        let mut live: Vec<Vec<bool>> = (0..n)
            .map(|i| (0..stacks.len()).map(|j| uses[i].contains(&j)).collect())
            .collect();
        let mut changed = true;
        while changed {
            changed = false;
            for i in 0..n {
                for &k in &succs[i] {
                    let after = live[k].clone();
                    for (here, there) in live[i].iter_mut().zip(after) {
                        if there && !*here {
                            *here = true;
                            changed = true;
                        }
                    }
                }
            }
        }
        let plan = Unroll {
            stacks,
            live,
            extracts,
            copies: Vec::new(),
        };
        let mut copies = Vec::new();
        let first = plan.entry(0, &vec![Some(0); plan.stacks.len()]);
        let mut seen = std::collections::HashSet::new();
        seen.insert((0usize, first.clone()));
        let mut queue = std::collections::VecDeque::from([(0usize, first)]);
        while let Some((i, v)) = queue.pop_front() {
            if let Some(x) = plan.exit(i, &v) {
                for &k in &succs[i] {
                    let e = plan.entry(k, &x);
                    if seen.insert((k, e.clone())) {
                        queue.push_back((k, e));
                    }
                }
            }
            copies.push((i, v));
            if copies.len() > MAX_STATE_COPIES {
                return Ok(None);
            }
        }
        // In state order: a state's copies together, the code laid out as the states are.
        copies.sort();
        Ok(Some(Unroll { copies, ..plan }))
    }

    /// The C place of `e` when it is a parameter or variable or a field of one (no index,
    /// nothing generated), else `None`.
    fn plain_place(&mut self, s: &Scope<'_>, e: Handle<Expr>) -> R<Option<String>> {
        let mut x = e;
        loop {
            match &s.body.exprs[x].kind {
                ExprKind::Local(_) => break,
                ExprKind::Field { base, .. } => x = *base,
                _ => return Ok(None),
            }
        }
        self.place(s, e, false).map(Some)
    }

    /// True when a value of type `ty` holds a stack (or is one).
    fn has_stack(&self, ty: Handle<Type>) -> bool {
        match self.ty(self.resolve(ty)) {
            Type::Stack { .. } => true,
            Type::Composite(c) => self.m.composites[*c]
                .fields
                .iter()
                .any(|f| self.has_stack(f.ty)),
            Type::Tuple(ts) => ts.iter().any(|t| self.has_stack(*t)),
            _ => false,
        }
    }

    /// The parser as the copies of [`Unroll`]: each with the fill levels it knows set in
    /// [`Gen::known_next`], its transitions to the copies at the levels it leaves.
    fn unrolled_states(
        &mut self,
        s: &Scope<'_>,
        parser: &'m BlockType,
        plan: &Unroll,
        o: &mut Out,
    ) -> R<()> {
        let n = parser.states.len();
        let mut per_state = vec![0usize; n];
        for (i, _) in &plan.copies {
            per_state[*i] += 1;
        }
        let labels: std::collections::HashMap<(usize, Vec<Option<u32>>), String> = plan
            .copies
            .iter()
            .map(|(i, v)| {
                let base = format!("state_{i}_{}", ident(&parser.states[*i].name));
                let label = if per_state[*i] == 1 {
                    base
                } else {
                    let levels: Vec<String> = v
                        .iter()
                        .map(|k| k.map_or("x".to_string(), |k| k.to_string()))
                        .collect();
                    format!("{base}_at{}", levels.join("_"))
                };
                ((*i, v.clone()), label)
            })
            .collect();
        // The stacks stay in memory, at constant offsets now: an empty asm taking their
        // address keeps clang from splitting them into scalars, whose values every path
        // to the parser's end would then carry (and spill around the table's helper call).
        for (b, _) in &plan.stacks {
            o.line(format!("asm volatile(\"\" : : \"r\"(&{b}));"));
        }
        // Where the first copy of each state put its extracts in `extracted`: the other
        // copies make the same ones, which keep their numbers (one `po_K_` per extract).
        let mut first: Vec<Option<usize>> = vec![None; n];
        for (i, v) in &plan.copies {
            let st = &parser.states[*i];
            o.label(&labels[&(*i, v.clone())]);
            self.last_ptrs.clear();
            self.known_next = plan
                .stacks
                .iter()
                .zip(v)
                .filter_map(|((b, _), k)| k.map(|k| (b.clone(), k)))
                .collect();
            let at = *first[*i].get_or_insert(self.extracted.len());
            let before = self.extracted.split_off(at);
            let mut sc = s.clone();
            // A copy whose extract overflows a stack ends there (the extract rejects).
            match plan.overflow(*i, v) {
                Some(end) => {
                    let cut = p4tc_ir::ir::Block {
                        stmts: st.block.stmts[..=end].to_vec(),
                    };
                    self.block(&mut sc, &cut, o)?;
                }
                None => self.block(&mut sc, &st.block, o)?,
            }
            // The copies make the same extracts (a cut one fewer): one number each.
            let now = self.extracted.split_off(at);
            let (short, long) = if now.len() <= before.len() {
                (now, before)
            } else {
                (before, now)
            };
            if long[..short.len()] != short[..] {
                return Err(crate::CodegenError::Malformed(format!(
                    "parser state `{}`: its copies extract differently",
                    st.name
                )));
            }
            self.extracted.extend(long);
            // Without an exit an extract of this copy overflowed: it has jumped to reject.
            let Some(exit) = plan.exit(*i, v) else {
                continue;
            };
            let names: Vec<String> = (0..n)
                .map(|k| {
                    labels
                        .get(&(k, plan.entry(k, &exit)))
                        .cloned()
                        .unwrap_or_else(|| "parser_reject".into())
                })
                .collect();
            self.transition(s, &st.transition, &names, o)?;
        }
        // Past the parser the fill levels are the run-time `next_index` again.
        self.known_next.clear();
        self.last_ptrs.clear();
        Ok(())
    }

    /// The index of `stack.last` of stack `b` (C lvalue, of type `stack_ty`) while the
    /// parser copy being generated knows it (and it is inside the stack).
    pub(crate) fn known_last(&self, b: &str, stack_ty: Handle<Type>) -> Option<u32> {
        let k = *self.known_next.get(b)?;
        (k >= 1 && k <= self.stack_size(stack_ty)).then(|| k - 1)
    }

    fn transition(
        &mut self,
        s: &Scope<'_>,
        t: &Transition,
        names: &[String],
        o: &mut Out,
    ) -> R<()> {
        match t {
            Transition::Accept => o.line("goto parser_accept;"),
            Transition::Reject => o.line("goto parser_reject;"),
            Transition::State(i) => o.line(format!(
                "goto {};",
                names
                    .get(*i as usize)
                    .cloned()
                    .unwrap_or_else(|| "parser_reject".into())
            )),
            Transition::Select { keys, cases } => {
                o.open("");
                let mut kv = Vec::new();
                for (i, k) in keys.iter().enumerate() {
                    let ty = s.body.exprs[*k].ty;
                    let span = s.body.exprs.span(*k);
                    let v = self.expr(s, *k)?;
                    let t = self.ctype(ty, span)?;
                    o.line(format!("{t} sel{i}_ = {v};"));
                    kv.push((format!("sel{i}_"), ty, span));
                }
                let mut fell_through = false;
                for case in cases {
                    let mut conds = Vec::new();
                    for ((k, ty, span), ks) in kv.iter().zip(&case.keysets) {
                        match ks {
                            KeysetValue::Any => {}
                            KeysetValue::Exact(v) => {
                                let v = self.literal(v, *ty, *span)?;
                                match self.repr(*ty) {
                                    Repr::Int { .. } => conds.push(format!("{k} == {v}")),
                                    Repr::Wide { width } => conds
                                        .push(format!("p4tc_w{}_eq({k}, {v})", width.div_ceil(8))),
                                    _ => return unsupported("select on aggregate keys", *span),
                                }
                            }
                            KeysetValue::Mask(v, m) => {
                                let v = self.literal(v, *ty, *span)?;
                                let m = self.literal(m, *ty, *span)?;
                                conds.push(format!("({k} & {m}) == ({v} & {m})"));
                            }
                            KeysetValue::Range(lo, hi) => {
                                let lo = self.literal(lo, *ty, *span)?;
                                let hi = self.literal(hi, *ty, *span)?;
                                conds.push(format!("{k} >= {lo} && {k} <= {hi}"));
                            }
                            KeysetValue::ValueSet(vs) => {
                                if kv.len() != 1 {
                                    return unsupported(
                                        "value sets in a select of several keys",
                                        *span,
                                    );
                                }
                                let map = self.value_set_map(*vs, *span)?;
                                let Repr::Int { width, .. } = self.repr(*ty) else {
                                    return unsupported("value sets of wide values", *span);
                                };
                                conds.push(format!(
                                    "({{ struct {map}_key k_ __attribute__((aligned(8))) = {{}}; p4tc_st_be_b(k_.v, {k}, {}); p4tc_found(bpf_map_lookup_elem(&{map}, &k_)); }})",
                                    width.div_ceil(8)
                                ));
                            }
                        }
                    }
                    if conds.is_empty() {
                        self.transition(s, &case.target, names, o)?;
                        fell_through = true;
                        break;
                    }
                    o.open(format!("if ({})", conds.join(" && ")));
                    self.transition(s, &case.target, names, o)?;
                    o.close();
                }
                if !fell_through {
                    // No case matched: reject with NoMatch.
                    o.line(format!(
                        "parser_error = {}; /* NoMatch */",
                        self.error_id("NoMatch")
                    ));
                    o.line("goto parser_reject;");
                }
                o.close();
            }
        }
        Ok(())
    }

    /// The map of a parser value set (a hash map the control plane fills: key the value's
    /// big-endian bytes, padded to 4; value a `u32` 1).
    fn value_set_map(&mut self, vs: Handle<p4tc_ir::ir::Instance>, span: Span) -> R<String> {
        let name = format!("vs_{}", self.instance_name(vs));
        if self.maps.iter().any(|m| m.name == name) {
            return Ok(name);
        }
        let inst = &self.m.instances[vs];
        let Type::Set(elem) = self.ty(inst.ty) else {
            return unsupported("this value set", span);
        };
        let width = match self.repr(*elem) {
            Repr::Int { width, .. } => width,
            _ => {
                return unsupported(
                    format!("value set `{}` of a struct or wide type", inst.name),
                    span,
                )
            }
        };
        let size = inst
            .args
            .first()
            .and_then(|a| a.value())
            .map(super::value_uint)
            .and_then(|v| u32::try_from(&v).ok())
            .unwrap_or(8)
            .max(1);
        let key_size = width.div_ceil(8).div_ceil(4) * 4;
        self.types.text.push_str(&format!(
            "struct {name}_key {{\n    u8 v[{key_size}];\n}};\n\n"
        ));
        self.map_def(
            &name,
            "BPF_MAP_TYPE_HASH",
            crate::MapKind::Hash,
            crate::MapRole::ValueSet,
            (&format!("struct {name}_key"), key_size),
            ("u32", 4),
            size,
            None,
            None,
            Some(vs),
        );
        Ok(name)
    }

    /// `packet_in` methods.
    pub(crate) fn packet_in(
        &mut self,
        s: &Scope<'_>,
        method: &str,
        args: &[Handle<Expr>],
        ty: Handle<Type>,
        span: Span,
        o: &mut Out,
    ) -> R<Option<String>> {
        if !s.parser {
            return unsupported(format!("packet_in.{method} outside the parser"), span);
        }
        let too_short = self.error_id("PacketTooShort");
        match method {
            "extract" if args.len() == 2 => {
                let target = args[1];
                let tty = s.body.exprs[target].ty;
                let Some(c) = self.header_of(self.resolve(tty)) else {
                    return unsupported("extracting into something that is not a header", span);
                };
                let (fields, size) = self.wire(c, span)?;
                // Extracting into `stack.next` checks the stack's room first.
                if let ExprKind::StackMember {
                    base,
                    member: p4tc_ir::ir::StackMember::Next,
                } = &s.body.exprs[target].kind
                {
                    let b = self.lvalue(s, *base)?;
                    let n = self.stack_size(s.body.exprs[*base].ty);
                    if let Some(k) = self.known_next.get(&b).copied() {
                        // The parser copy knows the fill level: a constant element.
                        if k >= n {
                            o.line(format!(
                                "parser_error = {}; goto parser_reject; /* StackOutOfBounds */",
                                self.error_id("StackOutOfBounds")
                            ));
                        } else {
                            o.line(format!("if ((void *)(cursor + {size}) > data_end) {{ parser_error = {too_short}; goto parser_reject; }}"));
                            self.load_header(&format!("{b}.e[{k}]"), "cursor", &fields, o);
                            o.line(format!("cursor += {size};"));
                            o.line(format!("{b}.next_index = {};", k + 1));
                        }
                        self.known_next.insert(b.clone(), k + 1);
                        self.extracted.push(format!("{b}.e[*]"));
                        self.stack_sizes.insert(b, n);
                        return Ok(None);
                    }
                    o.line(format!(
                        "if ({b}.next_index >= {n}) {{ parser_error = {}; goto parser_reject; }} /* StackOutOfBounds */",
                        self.error_id("StackOutOfBounds")
                    ));
                    // The element's address once (index checked above, kept in range for
                    // the verifier), not a bounds-checked index per field.
                    o.open("");
                    o.line(format!(
                        "__typeof__({b}.e[0]) *nx_ = &{b}.e[p4tc_index((u64)(u32)({b}.next_index), {n})];"
                    ));
                    o.line(format!("if ((void *)(cursor + {size}) > data_end) {{ parser_error = {too_short}; goto parser_reject; }}"));
                    self.load_header("(*nx_)", "cursor", &fields, o);
                    // The element just filled is the stack's `last` until the state
                    // does anything else.
                    let lx = format!("lx_{}_", self.extracted.len());
                    let et = self.ctype(tty, span)?;
                    let decl = format!("{et} *{lx} = 0; /* the element {b}.next filled */");
                    if !self.extra_locals.contains(&decl) {
                        self.extra_locals.push(decl);
                    }
                    o.line(format!("{lx} = nx_;"));
                    o.close();
                    o.line(format!("cursor += {size};"));
                    o.line(format!("{b}.next_index++;"));
                    self.last_ptrs.insert(b.clone(), lx);
                    self.extracted.push(format!("{b}.e[*]"));
                    self.stack_sizes.insert(b.clone(), n);
                    return Ok(None);
                }
                let lv = self.lvalue(s, target)?;
                o.line(format!("if ((void *)(cursor + {size}) > data_end) {{ parser_error = {too_short}; goto parser_reject; }}"));
                self.load_header(&lv, "cursor", &fields, o);
                // Where the header was read: after a resize the deparser may copy its bytes
                // instead of rebuilding them from its fields. Known at compile time when
                // every path reaches this extract at the same offset.
                let k = self.extracted.len();
                self.record_offset(k, target, &lv, o);
                o.line(format!("cursor += {size};"));
                self.extracted.push(lv);
                Ok(None)
            }
            "extract" if args.len() == 3 => {
                let target = args[1];
                let tty = s.body.exprs[target].ty;
                let Some(c) = self.header_of(self.resolve(tty)) else {
                    return unsupported("extracting into something that is not a header", span);
                };
                let Some((f, max)) = self.varbit_of(c) else {
                    return unsupported(
                        "a two-argument extract into a header without a varbit",
                        span,
                    );
                };
                let (fields, size) = self.wire(c, span)?;
                let lv = self.lvalue(s, target)?;
                let bits = self.expr(s, args[2])?;
                let v = super::expr::field_access(&lv, &f);
                o.open("");
                o.line(format!("u32 vb_ = (u32)({bits});"));
                o.line(format!(
                    "if (vb_ > {} || (vb_ & 7)) {{ parser_error = {}; goto parser_reject; }} /* HeaderTooShort */",
                    max * 8,
                    self.error_id("HeaderTooShort")
                ));
                o.line("u32 vn_ = vb_ >> 3;");
                o.line(format!("if ((void *)(cursor + {size} + vn_) > data_end) {{ parser_error = {too_short}; goto parser_reject; }}"));
                o.line(format!("if ((void *)(cursor + {size}) > data_end) {{ parser_error = {too_short}; goto parser_reject; }}"));
                let k = self.extracted.len();
                let lazy = self.lazy_varbits.contains_key(&c);
                if lazy {
                    // Nothing reads the bytes but the emit: the deparser loads them from
                    // the packet if it has to write them elsewhere.
                    self.lazy_varbits.insert(c, Some(k));
                    self.record_offset(k, target, &lv, o);
                } else {
                    // One helper call for the varbit's bytes, not a copy with a bounds
                    // check per byte (the verifier knows 1 <= vn_ <= {max} from the checks
                    // above).
                    let (load, ctx) = match self.hook {
                        Hook::Tc => ("bpf_skb_load_bytes", "skb"),
                        Hook::Xdp => ("bpf_xdp_load_bytes", "ctx"),
                    };
                    // (64 bits wide, as in the deparser's store.)
                    o.line(format!("u64 vl_ = vn_ <= {max} ? vn_ : {max};"));
                    o.line(format!(
                        "if (vl_ > 0 && {load}({ctx}, (u32)((void *)cursor - data) + {size}, {v}.b, vl_)) {{ parser_error = {too_short}; goto parser_reject; }}"
                    ));
                }
                o.line(format!("{v}.len = vb_;"));
                self.load_header(&lv, "cursor", &fields, o);
                o.line(format!("cursor += {size} + vn_;"));
                o.close();
                // The header keeps its place: the deparser's in-place path may leave its
                // bytes (the deparser's own varbit check keeps the fixed-layout path away).
                self.extracted.push(lv);
                Ok(None)
            }
            "extract" => unsupported("this extract", span),
            "lookahead" => match self.repr(ty) {
                Repr::Int { width, .. } => {
                    let bytes = width.div_ceil(8);
                    Ok(Some(format!(
                        "({{ if ((void *)(cursor + {bytes}) > data_end) {{ parser_error = {too_short}; goto parser_reject; }} {}; }})",
                        load_bits("cursor", 0, width)
                    )))
                }
                Repr::Aggregate => {
                    let Some(c) = self.header_of(self.resolve(ty)) else {
                        return unsupported("lookahead of a struct", span);
                    };
                    let (fields, size) = self.wire(c, span)?;
                    let t = self.ctype(ty, span)?;
                    let mut inner = Out::new(1);
                    inner.line(format!("{t} la_ = {{}};"));
                    inner.line(format!("if ((void *)(cursor + {size}) > data_end) {{ parser_error = {too_short}; goto parser_reject; }}"));
                    self.load_header("la_", "cursor", &fields, &mut inner);
                    inner.line("la_;");
                    Ok(Some(format!("({{\n{}}})", inner.text)))
                }
                _ => unsupported("lookahead of this type", span),
            },
            "advance" => {
                self.parser_advances = true;
                let Some(&n) = args.get(1) else {
                    return Err(crate::CodegenError::Malformed(
                        "advance without a count".into(),
                    ));
                };
                if let ExprKind::Literal(v) = &s.body.exprs[n].kind {
                    let bits = u64::try_from(&super::value_uint(v)).unwrap_or(0);
                    if bits % 8 != 0 {
                        return unsupported(
                            "advancing by a number of bits that is not whole bytes",
                            span,
                        );
                    }
                    let bytes = bits / 8;
                    o.line(format!("if ((void *)(cursor + {bytes}) > data_end) {{ parser_error = {too_short}; goto parser_reject; }}"));
                    o.line(format!("cursor += {bytes};"));
                } else {
                    let v = self.expr(s, n)?;
                    o.open("");
                    o.line(format!("u32 adv_ = (u32)({v}) >> 3;"));
                    o.line(format!("if (adv_ > 1500 || (void *)(cursor + adv_) > data_end) {{ parser_error = {too_short}; goto parser_reject; }}"));
                    o.line("cursor += adv_;");
                    o.close();
                }
                Ok(None)
            }
            "length" => Ok(Some("pkt_len".into())),
            _ => unsupported(format!("packet_in.{method}"), span),
        }
    }

    /// `pkt.emit(h)` in the deparser: counts the header's bytes; the writes come after.
    pub(crate) fn emit(
        &mut self,
        s: &Scope<'_>,
        h: Handle<Expr>,
        span: Span,
        o: &mut Out,
    ) -> R<()> {
        if !s.deparser {
            return unsupported("emit outside the deparser", span);
        }
        if s.depth > 0 {
            return unsupported("emit inside a conditional or loop of the deparser", span);
        }
        let lv = self.lvalue(s, h)?;
        let ty = s.body.exprs[h].ty;
        self.emit_value(&lv, ty, span, o)
    }

    fn emit_value(&mut self, lv: &str, ty: Handle<Type>, span: Span, o: &mut Out) -> R<()> {
        let ty = self.resolve(ty);
        if let Some(c) = self.header_of(ty) {
            let (_, size) = self.wire(c, span)?;
            let extra = match self.varbit_of(c) {
                Some((f, max)) => {
                    let v = super::expr::field_access(lv, &f);
                    format!(" + (({v}.len >> 3) > {max} ? {max} : ({v}.len >> 3))")
                }
                None => String::new(),
            };
            o.line(format!(
                "if ({}) out_len += {size}{extra};",
                super::expr::field_access(lv, "__valid")
            ));
            self.emits.push(Emit {
                lvalue: lv.to_string(),
                composite: c,
            });
            return Ok(());
        }
        match self.ty(ty).clone() {
            Type::Composite(c) => {
                let comp = self.m.composites[c].clone();
                if comp.kind != p4tc_ir::ir::CompositeKind::Struct {
                    return unsupported(format!("emitting `{}`", comp.name), span);
                }
                for f in &comp.fields {
                    let fl = self.member(lv, &ident(&f.name));
                    self.emit_value(&fl, f.ty, span, o)?;
                }
                Ok(())
            }
            Type::Stack { element, size } => {
                for i in 0..size {
                    self.emit_value(&format!("{lv}.e[{i}]"), element, span, o)?;
                }
                Ok(())
            }
            _ => unsupported("emitting a value that is not a header", span),
        }
    }

    /// After the deparser: resize the packet if the headers' size changed, and write back the
    /// headers (all of them after a resize or a validity change; else only those the program
    /// may have changed, in place).
    pub(crate) fn deparser_writes(&mut self, o: &mut Out) -> R<()> {
        let emits = self.emits.clone();
        let mut layouts = Vec::new();
        for e in &emits {
            let (f, size) = self.wire(e.composite, Span::default())?;
            layouts.push((f, size));
        }
        let any_modified =
            self.modified_all || emits.iter().any(|e| self.modified.contains(&e.lvalue));
        // When nothing changes a header's validity, every extracted header is emitted once in
        // extraction order and the parser skips nothing, the headers keep their size and
        // place: only the in-place writes are needed.
        let emitted = self.emits_as_extracted(&emits);
        let mut extracted_in_emit_order: Vec<&str> = emitted
            .iter()
            .map(|e| e.as_str())
            .filter(|e| self.extracted.iter().any(|x| x == e))
            .collect();
        let mut seen = std::collections::BTreeSet::new();
        let unique = self.extracted.iter().all(|x| seen.insert(x.clone()));
        let all_emitted = self.extracted.iter().all(|x| emitted.contains(x));
        let same_order = {
            let ex: Vec<&str> = self.extracted.iter().map(|x| x.as_str()).collect();
            extracted_in_emit_order.dedup();
            ex == extracted_in_emit_order
        };
        let no_varbit = emits.iter().all(|e| self.varbit_of(e.composite).is_none());
        let fixed_layout = !self.validity_changes
            && !self.parser_advances
            && unique
            && all_emitted
            && same_order
            && no_varbit;
        o.line("/* ---- Deparser writes ---- */");
        o.open("");
        if fixed_layout {
            o.line(
                "/* The headers keep their size and place: write back what may have changed. */",
            );
            o.line("u8 *w_ = data;");
            for (e, (fields, size)) in emits.iter().zip(&layouts) {
                let valid = super::expr::field_access(&e.lvalue, "__valid");
                let changed = self.modified_all || self.modified.contains(&e.lvalue);
                if changed {
                    o.open(format!("if ({valid})"));
                    o.line(format!(
                        "if ((void *)(w_ + {size}) > data_end) {{ drop = 1; goto verdict; }}"
                    ));
                    // In place, a field nothing assigns still holds the packet's bytes:
                    // only the fields that may have changed are stored (the bytes they
                    // share with others are rebuilt whole).
                    let lv = e.lvalue.clone();
                    let dirty: Vec<bool> = fields
                        .iter()
                        .map(|f| self.field_may_change(&lv, &f.name))
                        .collect();
                    self.store_header_fields(&lv, "w_", fields, *size, Some(&dirty), false, o);
                    o.line(format!("w_ += {size};"));
                    o.close();
                } else {
                    o.line(format!("if ({valid}) w_ += {size};"));
                }
            }
            o.close();
            return Ok(());
        }
        // Headers nothing changes, read once by the parser and never made valid by the
        // program: their bytes are copied aside before the resize and written back as they
        // were, so their parsed fields need not stay live until the deparser.
        // (A varbit among the emits no longer prevents this: its bytes move with one
        // helper call each way, where its per-byte loops once took ipv4_options over the
        // verifier's instruction limit together with these copies.)
        let mut raw: Vec<Option<usize>> = vec![None; emits.len()];
        let mut raw_bytes = 0u32;
        for (i, (e, (_, size))) in emits.iter().zip(&layouts).enumerate() {
            let positions: Vec<usize> = self
                .extracted
                .iter()
                .enumerate()
                .filter(|(_, x)| **x == e.lvalue)
                .map(|(k, _)| k)
                .collect();
            // Fields assigned one by one are fine: they are stored over the copy before
            // the resize, so only they (not the whole header) stay live to the deparser.
            let clean = !self.modified_all
                && !self
                    .modified
                    .contains(&super::expr::set_valid_key(&e.lvalue))
                && self.varbit_of(e.composite).is_none();
            // A bound on the stack the copies take (the program has 512 bytes in all).
            if let ([k], true) = (positions.as_slice(), clean) {
                if raw_bytes + size <= RAW_COPY_MAX {
                    raw_bytes += size;
                    raw[i] = Some(*k);
                }
            }
        }
        // With the headers emitted as parsed (each once, in order, nothing skipped, and no
        // varbit that the program assigns: one only extracted keeps its parsed length), only
        // a change of validity (`dirty`) changes the size: without one the sizes need not
        // be compared (clang then sums them on that path only). ipv4_options' options took
        // 1 ns less per packet once they stopped keeping the sums on every path.
        let varbits_keep_length = emits.iter().all(|e| match self.varbit_of(e.composite) {
            Some((vf, _)) => !self.varbit_may_change(e, &vf),
            None => true,
        });
        let same_layout =
            !self.parser_advances && unique && all_emitted && same_order && varbits_keep_length;
        if same_layout {
            o.open("if (dirty)");
            o.line("int delta_ = (int)out_len - (int)parsed_len;");
        } else {
            o.line("int delta_ = (int)out_len - (int)parsed_len;");
            o.open("if (dirty || delta_ != 0)");
        }
        for (i, (e, (_, size))) in emits.iter().zip(&layouts).enumerate() {
            let Some(k) = raw[i] else { continue };
            let valid = super::expr::field_access(&e.lvalue, "__valid");
            // Aligned, so the copies below are word loads and stores (the stack must be
            // accessed aligned; the packet need not be).
            o.line(format!(
                "u8 raw_{i}_[{}] __attribute__((aligned(8)));",
                size.div_ceil(8) * 8
            ));
            o.open(format!("if ({valid})"));
            if let Some(off) = self.po_const.get(&k) {
                o.line(format!("u8 *src_ = (u8 *)data + {off};"));
            } else {
                // Bounded for the verifier (a packet offset plus a scalar it can bound).
                o.line(format!(
                    "if (po_{k}_ > 0x3fff) {{ drop = 1; goto verdict; }}"
                ));
                o.line(format!("u8 *src_ = (u8 *)data + (po_{k}_ & 0x3fff);"));
            }
            o.line(format!(
                "if ((void *)(src_ + {size}) > data_end) {{ drop = 1; goto verdict; }}"
            ));
            copy_words(&format!("raw_{i}_"), "src_", *size, o);
            if self.modified.contains(&e.lvalue) {
                let lv = e.lvalue.clone();
                let dirty: Vec<bool> = layouts[i]
                    .0
                    .iter()
                    .map(|f| self.field_may_change(&lv, &f.name))
                    .collect();
                let buf = format!("raw_{i}_");
                self.store_header_fields(&lv, &buf, &layouts[i].0, *size, Some(&dirty), true, o);
            }
            o.close();
        }
        let scratch = self.load_lazy_varbits(&emits, &layouts, o);
        o.open("if (delta_ != 0)");
        match self.hook {
            Hook::Tc => {
                o.line("if (bpf_skb_adjust_room(skb, delta_, BPF_ADJ_ROOM_MAC, 0) &&");
                o.line("    p4tc_skb_resize(skb, delta_, parsed_len)) { drop = 1; goto verdict; }");
                o.line("data = (void *)(long)skb->data;");
                o.line("data_end = (void *)(long)skb->data_end;");
            }
            Hook::Xdp => {
                o.line("if (bpf_xdp_adjust_head(ctx, -delta_)) { drop = 1; goto verdict; }");
                o.line("data = (void *)(long)ctx->data;");
                o.line("data_end = (void *)(long)ctx->data_end;");
            }
        }
        o.close();
        o.line("u8 *w_ = data;");
        for (i, (e, (fields, size))) in emits.iter().zip(&layouts).enumerate() {
            let valid = super::expr::field_access(&e.lvalue, "__valid");
            o.open(format!("if ({valid})"));
            o.line(format!(
                "if ((void *)(w_ + {size}) > data_end) {{ drop = 1; goto verdict; }}"
            ));
            if raw[i].is_some() {
                copy_words("w_", &format!("raw_{i}_"), *size, o);
                o.line(format!("w_ += {size};"));
            } else {
                self.store_header(&e.lvalue, "w_", fields, *size, o);
                self.store_varbit(&e.lvalue, e.composite, *size, scratch[i].as_deref(), o);
            }
            o.close();
        }
        if any_modified {
            // No resize and no validity change: when the parser reads every emitted header
            // once, in emit order, skipping nothing, each header is where it was parsed, so
            // (as in the fixed-layout path) only the fields that may have changed are
            // stored, and a varbit nothing assigns is left as the packet has it.
            let in_place = !self.parser_advances && unique && all_emitted && same_order;
            o.reopen("else");
            // Before any write: the varbits the parser left in the packet.
            let scratch = if in_place {
                vec![None; emits.len()]
            } else {
                self.load_lazy_varbits(&emits, &layouts, o)
            };
            o.line("u8 *w_ = data;");
            for (i, (e, (fields, size))) in emits.iter().zip(&layouts).enumerate() {
                let valid = super::expr::field_access(&e.lvalue, "__valid");
                let changed = self.modified_all || self.modified.contains(&e.lvalue);
                o.open(format!("if ({valid})"));
                if changed {
                    o.line(format!(
                        "if ((void *)(w_ + {size}) > data_end) {{ drop = 1; goto verdict; }}"
                    ));
                    if in_place {
                        let lv = e.lvalue.clone();
                        let dirty: Vec<bool> = fields
                            .iter()
                            .map(|f| self.field_may_change(&lv, &f.name))
                            .collect();
                        self.store_header_fields(&lv, "w_", fields, *size, Some(&dirty), false, o);
                    } else {
                        self.store_header(&e.lvalue, "w_", fields, *size, o);
                    }
                }
                match self.varbit_of(e.composite) {
                    Some((vf, max)) if in_place && !self.varbit_may_change(e, &vf) => {
                        let v = super::expr::field_access(&e.lvalue, &vf);
                        o.line(format!(
                            "w_ += {size} + ((({v}.len >> 3) > {max}) ? {max} : ({v}.len >> 3));"
                        ));
                    }
                    Some(_) => {
                        self.store_varbit(&e.lvalue, e.composite, *size, scratch[i].as_deref(), o)
                    }
                    None => o.line(format!("w_ += {size};")),
                }
                o.close();
            }
        }
        o.close();
        o.close();
        Ok(())
    }
}

/// Statements copying `n` bytes from `src` to `dst` (byte pointers or arrays, the stack side
/// 8-aligned) in words of 8, 4, 2 and 1 bytes: clang's `__builtin_memcpy` knows no alignment
/// of a packet pointer and copies it byte by byte (a load, a shift and an or per byte).
fn copy_words(dst: &str, src: &str, n: u32, o: &mut Out) {
    let mut at = 0;
    for w in [8u32, 4, 2, 1] {
        while n - at >= w {
            let t = match w {
                8 => "u64",
                4 => "u32",
                2 => "u16",
                _ => "u8",
            };
            o.line(format!(
                "*({t} *)((u8 *){dst} + {at}) = *(const {t} *)((const u8 *){src} + {at});"
            ));
            at += w;
        }
    }
}

impl Gen<'_> {
    /// The emitted headers as the parser's extractions name them: a stack the parser fills
    /// with `.next` (`s.e[*]`) stands for the emit of all its elements `s.e[0] ..
    /// s.e[n-1]` in order, which puts each element where it was parsed while no validity
    /// changes (the valid ones are the first `next_index`). Elements emitted any other way
    /// keep their own names, which match no extraction, so the layout is not taken as
    /// fixed.
    fn emits_as_extracted(&self, emits: &[Emit]) -> Vec<String> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < emits.len() {
            let lv = &emits[i].lvalue;
            let stack = lv
                .strip_suffix("[0]")
                .and_then(|b| b.strip_suffix(".e"))
                .filter(|b| self.extracted.iter().any(|x| *x == format!("{b}.e[*]")))
                .and_then(|b| self.stack_sizes.get(b).map(|n| (b, *n)));
            if let Some((base, n)) = stack {
                let whole = (0..n as usize).all(|k| {
                    emits
                        .get(i + k)
                        .is_some_and(|e| e.lvalue == format!("{base}.e[{k}]"))
                });
                if whole {
                    out.push(format!("{base}.e[*]"));
                    i += n as usize;
                    continue;
                }
            }
            out.push(lv.clone());
            i += 1;
        }
        out
    }
}

/// The most bytes of headers the deparser copies aside before a resize.
const RAW_COPY_MAX: u32 = 64;

/// The most copies of parser states [`Gen::unroll_plan`] makes (beyond, the plain parser).
const MAX_STATE_COPIES: usize = 64;

/// The parser unrolled over its stacks' fill levels ([`Gen::unroll_plan`]).
struct Unroll {
    /// The stacks followed: C lvalue and size.
    stacks: Vec<(String, u32)>,
    /// By state and stack: this state or one after it uses the stack's fill level.
    live: Vec<Vec<bool>>,
    /// By state: its extracts into `stack.next` at its top level, as (the statement's
    /// position, the stack).
    extracts: Vec<Vec<(usize, usize)>>,
    /// The copies, in state order: the state and the fill levels on entry (`None` where
    /// nothing from there on needs it).
    copies: Vec<(usize, Vec<Option<u32>>)>,
}

impl Unroll {
    /// The levels a copy of state `i` is entered with, from the levels `v` known before.
    fn entry(&self, i: usize, v: &[Option<u32>]) -> Vec<Option<u32>> {
        v.iter()
            .zip(&self.live[i])
            .map(|(k, live)| if *live { *k } else { None })
            .collect()
    }

    /// The levels a copy of state `i` entered at `v` leaves with; `None` when an extract
    /// overflows a stack (the copy always rejects).
    fn exit(&self, i: usize, v: &[Option<u32>]) -> Option<Vec<Option<u32>>> {
        if self.overflow(i, v).is_some() {
            return None;
        }
        let mut x = v.to_vec();
        for (_, j) in &self.extracts[i] {
            x[*j] = x[*j].map(|k| k + 1);
        }
        Some(x)
    }

    /// The position of the statement of state `i` (entered at `v`) whose extract finds its
    /// stack full, if one does.
    fn overflow(&self, i: usize, v: &[Option<u32>]) -> Option<usize> {
        let mut x = v.to_vec();
        for (at, j) in &self.extracts[i] {
            let Some(k) = x[*j] else { continue };
            if k >= self.stacks[*j].1 {
                return Some(*at);
            }
            x[*j] = Some(k + 1);
        }
        None
    }
}

/// A C expression reading `width` bits (at most 64) at bit `offset` from pointer `p`.
pub(crate) fn load_bits(p: &str, offset: u32, width: u32) -> String {
    if offset % 8 == 0 && width % 8 == 0 {
        let v = format!("p4tc_ld_be({p} + {}, {})", offset / 8, width / 8);
        return format!("(({})({v}))", super::out::uint_for(width));
    }
    let first = offset / 8;
    let last = (offset + width - 1) / 8;
    let mut parts = Vec::new();
    for b in first..=last {
        let lo = 8 * b;
        let hi = lo + 8;
        let a = offset.max(lo);
        let z = (offset + width).min(hi);
        let n = z - a;
        let shift_b = hi - z;
        let shift_f = offset + width - z;
        parts.push(shifted(&format!("(u64){p}[{b}]"), shift_b, n, shift_f));
    }
    format!("(({})({}))", super::out::uint_for(width), parts.join(" | "))
}

/// Splits the concatenation of `parts` (C expression, width) into `chunk`-bit pieces, most
/// significant first, as C expressions. The end is padded with zero bits to a whole chunk
/// (hash input, as BMv2 and the interpreter pad it; checksum input: an odd last byte). With
/// `right_align`, the zero bits go first instead.
pub(crate) fn concat_chunks(
    parts: &[(String, u32)],
    chunk: u32,
    right_align: bool,
    span: Span,
) -> R<Vec<String>> {
    let data: u32 = parts.iter().map(|p| p.1).sum();
    let lead = if right_align { (8 - data % 8) % 8 } else { 0 };
    let total = (lead + data).div_ceil(chunk) * chunk;
    let mut out = Vec::new();
    let mut start = lead;
    let mut offsets = Vec::new();
    for (c, w) in parts {
        offsets.push((c.clone(), start, *w));
        start += w;
    }
    for k in 0..total / chunk {
        let lo = k * chunk;
        let hi = lo + chunk;
        let mut pieces = Vec::new();
        for (c, off, w) in &offsets {
            let a = (*off).max(lo);
            let z = (off + w).min(hi);
            if a >= z {
                continue;
            }
            let n = z - a;
            let shift_f = off + w - z;
            let shift_c = hi - z;
            if *w > 64 {
                // A wide value: its bytes are big-endian; whole bytes only.
                if (a - off) % 8 != 0 || n % 8 != 0 {
                    return unsupported(
                        "wide values in data that do not fall on byte boundaries",
                        span,
                    );
                }
                let mut sub = Vec::new();
                for i in 0..n / 8 {
                    let byte = (a - off) / 8 + i;
                    sub.push(format!(
                        "((u64)({c}).b[{byte}] << {})",
                        shift_c + n - 8 * (i + 1)
                    ));
                }
                pieces.push(sub.join(" | "));
            } else {
                pieces.push(format!(
                    "((((u64)({c}) >> {shift_f}) & {}) << {shift_c})",
                    mask_lit(n)
                ));
            }
        }
        if pieces.is_empty() {
            pieces.push("0".into());
        }
        out.push(format!("({})", pieces.join(" | ")));
    }
    Ok(out)
}

/// `((v >> right) & mask(n)) << left`, without the shifts by zero.
fn shifted(v: &str, right: u32, n: u32, left: u32) -> String {
    let mut e = if right == 0 {
        v.to_string()
    } else {
        format!("({v} >> {right})")
    };
    e = format!("({e} & {})", mask_lit(n));
    if left != 0 {
        e = format!("({e} << {left})");
    }
    e
}
