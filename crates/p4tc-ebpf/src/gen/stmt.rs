//! Statements, inlined actions and extern calls.

use num_bigint::BigInt;
use p4tc_ir::arena::Handle;
use p4tc_ir::ir::{Action, Block, Expr, ExprKind, LocalKind, Stmt, Table, Type, Value};
use p4tc_ir::layout::{self, ExternLayout};

use super::expr::ArgSrc;
use super::out::{ident, mask_lit, uint_for, Out};
use super::{unsupported, Gen, Repr, Ret, Scope, R};
use crate::Hook;

impl<'m> Gen<'m> {
    pub(crate) fn block(&mut self, s: &mut Scope<'_>, b: &Block, o: &mut Out) -> R<()> {
        // A block starts knowing no fresh header (a parser state is entered from several
        // places); the enclosing block's statement that holds this one forgot its own.
        let outer = std::mem::take(&mut self.fresh_headers);
        let mut r = Ok(());
        for st in &b.stmts {
            r = self.stmt_tracking_fresh(s, st, o);
            if r.is_err() {
                break;
            }
        }
        self.fresh_headers = outer;
        r
    }

    /// [`Self::stmt`], keeping [`Gen::fresh_headers`]: an extract at a constant offset in
    /// the parser makes its header fresh; a checksum call keeps what is fresh; any other
    /// statement may write a header, so it forgets them all.
    fn stmt_tracking_fresh(&mut self, s: &mut Scope<'_>, st: &Stmt, o: &mut Out) -> R<()> {
        let extract = if s.parser {
            self.static_extract(s, st)?
        } else {
            None
        };
        if extract.is_none() && !self.is_checksum_call(s, st) {
            self.fresh_headers.clear();
        }
        self.stmt(s, st, o)?;
        if let Some((lv, off)) = extract {
            self.fresh_headers.insert(lv, off);
        }
        Ok(())
    }

    /// The header's C lvalue and packet offset when `st` extracts a fixed-size header at a
    /// constant offset ([`Gen::static_po`]).
    fn static_extract(&mut self, s: &Scope<'_>, st: &Stmt) -> R<Option<(String, u32)>> {
        let target = match self.extern_method_call(s, st) {
            Some(("packet_in", "extract", &[_, target])) => target,
            _ => return Ok(None),
        };
        let Some(&off) = self.static_po.get(&target) else {
            return Ok(None);
        };
        Ok(self.named_header(s, target)?.map(|lv| (lv, off)))
    }

    /// True when `st` calls a method of an `InternetChecksum` instance (which writes no
    /// header field but through an assignment of its result, a separate statement).
    fn is_checksum_call(&self, s: &Scope<'_>, st: &Stmt) -> bool {
        matches!(
            self.extern_method_call(s, st),
            Some(("InternetChecksum", _, _))
        )
    }

    /// The extern's name, the method and the arguments when `st` calls a method of an
    /// extern instance.
    fn extern_method_call<'a>(
        &'a self,
        s: &'a Scope<'_>,
        st: &Stmt,
    ) -> Option<(&'a str, &'a str, &'a [Handle<Expr>])> {
        let Stmt::Call(e) = st else { return None };
        match &s.body.exprs[*e].kind {
            ExprKind::Call {
                callee: p4tc_ir::ir::Callee::ExternMethod { def, method, .. },
                args,
            } => Some((self.m.externs[*def].name.as_str(), method.as_str(), args)),
            _ => None,
        }
    }

    fn nested(&mut self, s: &mut Scope<'_>, b: &Block, o: &mut Out) -> R<()> {
        s.depth += 1;
        let r = self.block(s, b, o);
        s.depth -= 1;
        r
    }

    fn stmt(&mut self, s: &mut Scope<'_>, st: &Stmt, o: &mut Out) -> R<()> {
        // Only extracts may come between an extract into `stack.next` and a read of
        // `stack.last` that uses the element's pointer (`Gen::last_ptrs`).
        if !self.last_ptrs.is_empty() && !self.is_packet_extract(s, st) {
            self.last_ptrs.clear();
        }
        match st {
            Stmt::Assign { lhs, rhs } => {
                if s.parser && self.lazy_assigns.contains(lhs) {
                    // Read where used (`Gen::lazy_fields`).
                    o.line("/* a host-port answer, asked where it is read */");
                    return Ok(());
                }
                let v = self.expr(s, *rhs)?;
                if matches!(
                    s.body.exprs[*rhs].kind,
                    ExprKind::Literal(p4tc_ir::ir::Value::InvalidHeader)
                ) {
                    if let Some(lv) = self.named_header(s, *lhs)? {
                        // `h = {#}` makes `h` invalid, as setInvalid does: the deparser
                        // skips it, so its fields need not be rewritten and the other
                        // headers keep their bytes (the fields are still zeroed, as the
                        // interpreter has them).
                        self.validity_changes = true;
                        o.line(format!(
                            "if ({}) {{ {lv} = {v}; dirty = 1; }}",
                            super::expr::field_access(&lv, "__valid")
                        ));
                        return Ok(());
                    }
                }
                self.assign(s, *lhs, v, o)
            }
            Stmt::Call(e) => {
                let ex = &s.body.exprs[*e];
                let span = self.span_of(s, *e);
                match &ex.kind {
                    ExprKind::Call { callee, args } => {
                        let v = self.call(s, callee, args, ex.ty, span, o)?;
                        if let Some(v) = v {
                            o.line(format!("{v};"));
                        }
                        Ok(())
                    }
                    _ => {
                        let v = self.expr(s, *e)?;
                        o.line(format!("(void){v};"));
                        Ok(())
                    }
                }
            }
            Stmt::Declare { local, init } => {
                let name = s.names.get(local.index()).cloned().unwrap_or_default();
                let lty = s.body.locals[*local].ty;
                match init {
                    Some(i) => {
                        let v = self.expr(s, *i)?;
                        o.line(format!("{name} = {v};"));
                    }
                    None => {
                        if self.repr(lty) != Repr::None {
                            let t = self.ctype(lty, s.body.locals.span(*local))?;
                            let z = if self.repr(lty) == Repr::Aggregate
                                || matches!(self.repr(lty), Repr::Wide { .. })
                            {
                                format!("({t}){{}}")
                            } else {
                                "0".into()
                            };
                            o.line(format!("{name} = {z};"));
                        }
                    }
                }
                Ok(())
            }
            Stmt::If {
                cond,
                then,
                otherwise,
            } => {
                let c = self.expr(s, *cond)?;
                o.open(format!("if ({c})"));
                self.nested(s, then, o)?;
                if !otherwise.stmts.is_empty() {
                    o.reopen("else");
                    self.nested(s, otherwise, o)?;
                }
                o.close();
                Ok(())
            }
            Stmt::Switch {
                selector,
                cases,
                default,
            } => {
                let sel = self.expr(s, *selector)?;
                let sty = s.body.exprs[*selector].ty;
                let span = self.span_of(s, *selector);
                o.open(format!("switch ({sel})"));
                for (labels, body) in cases {
                    for l in labels {
                        let v = self.literal(l, sty, span)?;
                        o.line(format!("case {v}:"));
                    }
                    o.open("");
                    self.nested(s, body, o)?;
                    o.close();
                    o.line("break;");
                }
                if let Some(d) = default {
                    o.line("default:");
                    o.open("");
                    self.nested(s, d, o)?;
                    o.close();
                    o.line("break;");
                }
                o.close();
                Ok(())
            }
            Stmt::SwitchAction {
                table,
                cases,
                default,
            } => {
                let span = self.m.tables.span(*table);
                o.open("");
                let (_, run) = self.apply_table(s, *table, o, span)?;
                o.open(format!("switch ({run})"));
                for (actions, body) in cases {
                    for a in actions {
                        let id = self.action_ids.get(a).copied().unwrap_or(0);
                        o.line(format!("case {id}: /* {} */", self.m.actions[*a].name));
                    }
                    o.open("");
                    self.nested(s, body, o)?;
                    o.close();
                    o.line("break;");
                }
                if let Some(d) = default {
                    o.line("default:");
                    o.open("");
                    self.nested(s, d, o)?;
                    o.close();
                    o.line("break;");
                }
                o.close();
                o.close();
                Ok(())
            }
            Stmt::Block(b) => {
                o.open("");
                self.nested(s, b, o)?;
                o.close();
                Ok(())
            }
            Stmt::Return(v) => {
                match (&s.ret, v) {
                    (Ret::C, Some(e)) => {
                        let v = self.expr(s, *e)?;
                        o.line(format!("return {v};"));
                    }
                    (Ret::C, None) => o.line("return;"),
                    (Ret::Goto(l), _) => o.line(format!("goto {l};")),
                }
                Ok(())
            }
            Stmt::Exit => {
                o.line(format!("goto {};", s.exit));
                Ok(())
            }
            Stmt::Loop { cond, body, update } => {
                let c = self.expr(s, *cond)?;
                let cont = self.label("loop_continue");
                let saved = s.cont.replace(cont.clone());
                o.open(format!("while ({c})"));
                self.nested(s, body, o)?;
                o.label(&cont);
                self.nested(s, update, o)?;
                o.close();
                s.cont = saved;
                Ok(())
            }
            Stmt::Break => {
                o.line("break;");
                Ok(())
            }
            Stmt::Continue => {
                match &s.cont {
                    Some(l) => o.line(format!("goto {l};")),
                    None => o.line("continue;"),
                }
                Ok(())
            }
        }
    }

    /// `lhs = value` (a C expression), slices by read-modify-write.
    pub(crate) fn assign(
        &mut self,
        s: &Scope<'_>,
        lhs: Handle<Expr>,
        value: String,
        o: &mut Out,
    ) -> R<()> {
        let ex = &s.body.exprs[lhs];
        if let ExprKind::Slice { base, hi, lo } = &ex.kind {
            let b = self.lvalue(s, *base)?;
            self.mark_lhs(s, *base, &b);
            let w = hi - lo + 1;
            let bw = match self.repr(s.body.exprs[*base].ty) {
                Repr::Int { width, .. } => width,
                _ => {
                    return unsupported(
                        "assigning to a slice of a wide value",
                        self.span_of(s, lhs),
                    )
                }
            };
            let m = mask_lit(w);
            o.line(format!(
                "{b} = {};",
                self.wrap(
                    format!("((u64){b} & ~({m} << {lo})) | (((u64)({value}) & {m}) << {lo})"),
                    bw
                )
            ));
            return Ok(());
        }
        let lv = self.lvalue(s, lhs)?;
        if self.named_header(s, lhs)?.is_some() {
            // A named header assigned whole (`h = {#}`, `h = other`): its fields and its
            // validity may change. `dirty` is set below, so the deparser takes its
            // rewrite-everything path, where a header that may be made valid is
            // written from its fields; the other headers are untouched and may still be
            // copied as the bytes they were parsed from. Without `dirty` (the assignment
            // did not run) the header is as parsed: the in-place path need not store it.
            self.modified.insert(super::expr::set_valid_key(&lv));
            if lv.contains('[') {
                // A stack element: never copied as bytes; marked written whole as well.
                self.modified
                    .insert(super::expr::modified_field_key(&lv, "*"));
                self.modified.insert(lv.clone());
            }
        } else {
            self.mark_lhs(s, lhs, &lv);
        }
        o.line(format!("{lv} = {value};"));
        if self.contains_header(ex.ty) {
            // A header (or a struct of them) assigned whole: validity may change.
            self.validity_changes = true;
            o.line("dirty = 1;");
        }
        Ok(())
    }

    /// True when `st` is a `packet_in.extract` call.
    fn is_packet_extract(&self, s: &Scope<'_>, st: &Stmt) -> bool {
        matches!(
            self.extern_method_call(s, st),
            Some(("packet_in", "extract", _))
        )
    }

    /// The C lvalue of `e` when it is a header the deparser names the same way (`hdr->h`,
    /// `hdr_h` with `Gen::split_hdr`, or a stack element of one by a constant index), in
    /// the main function, not through a P4 function's pointer parameter: what the
    /// deparser's per-header facts may be keyed by.
    pub(crate) fn named_header(&mut self, s: &Scope<'_>, e: Handle<Expr>) -> R<Option<String>> {
        if matches!(s.ret, super::Ret::C)
            || self.header_of(self.resolve(s.body.exprs[e].ty)).is_none()
        {
            return Ok(None);
        }
        let lv = self.lvalue(s, e)?;
        // A stack element by a constant index (`hdr->s.e[2]`) is named as the deparser
        // names it; one by a run-time index is not.
        let plain = super::expr::plain_lvalue(&lv);
        let top = lv.starts_with("hdr->") || (self.split_hdr && lv.starts_with("hdr_"));
        Ok((top && plain).then_some(lv))
    }

    /// Expands `action` in place. `args` give one source per parameter (for directionless
    /// parameters of table actions, `params` names the C pointer to the parameter struct and
    /// `args` is empty).
    pub(crate) fn inline_action(
        &mut self,
        s: &Scope<'_>,
        action: Handle<Action>,
        args: &[ArgSrc],
        params: Option<&str>,
        o: &mut Out,
    ) -> R<()> {
        let a = &self.m.actions[action];
        let span = self.m.actions.span(action);
        let end = self.label(&format!("{}_end", ident(&a.name)));
        o.open(format!("/* action {} */", a.name));
        // The body the action's locals live in: the control's (control-local actions, whose
        // names are the caller's) or its own.
        let own = a.control.is_none();
        let mut scope = if own {
            let mut names = Vec::new();
            for (i, (h, l)) in a.body.locals.iter().enumerate() {
                let n = format!("{}_{i}_{}", ident(&a.name), ident(&l.name));
                if self.repr(l.ty) != Repr::None {
                    let t = self.ctype(l.ty, a.body.locals.span(h))?;
                    o.line(format!("{t} {n} = {};", self.zero(l.ty)));
                }
                names.push(n);
            }
            super::Scope {
                body: &a.body,
                names,
                ret: Ret::Goto(end.clone()),
                exit: s.exit.clone(),
                cont: None,
                table: s.table.clone(),
                deparser: s.deparser,
                depth: s.depth + 1,
                parser: false,
            }
        } else {
            let mut sc = s.clone();
            sc.ret = Ret::Goto(end.clone());
            sc.cont = None;
            sc.depth += 1;
            sc
        };
        let fields = self.action_param_fields(action)?;
        // Copy in.
        let mut copy_out = Vec::new();
        for (i, &p) in a.params.iter().enumerate() {
            let local = &scope.body.locals[p];
            let name = scope.names[p.index()].clone();
            match (args.get(i), local.kind) {
                (None, LocalKind::Directionless) => {
                    let Some(ptr) = params else {
                        return unsupported(
                            format!("action `{}` without its action data", a.name),
                            span,
                        );
                    };
                    let Some((_, f, _, size)) = fields.iter().find(|(idx, ..)| *idx == i) else {
                        continue;
                    };
                    match self.repr(local.ty) {
                        Repr::Int { width, .. } => o.line(format!(
                            "{name} = {};",
                            self.wrap(format!("p4tc_ld_be({ptr}->{f}, {size})"), width)
                        )),
                        Repr::Wide { .. } => {
                            o.line(format!("p4tc_copy({name}.b, {ptr}->{f}, {size});"))
                        }
                        _ => return unsupported("action data of this type", span),
                    }
                }
                (None, _) => {
                    return unsupported(
                        format!("action `{}` with an unbound directional parameter", a.name),
                        span,
                    )
                }
                (Some(src), kind) => {
                    let c = match src {
                        ArgSrc::C(c) => Some(c.clone()),
                        ArgSrc::Expr(e) if kind != LocalKind::Out => Some(self.expr(s, *e)?),
                        ArgSrc::Expr(_) => None,
                    };
                    if let Some(c) = c {
                        o.line(format!("{name} = {c};"));
                    }
                    if matches!(kind, LocalKind::Out | LocalKind::InOut) {
                        if let ArgSrc::Expr(e) = src {
                            copy_out.push((*e, name.clone()));
                        }
                    }
                }
            }
        }
        self.block(&mut scope, &a.body.block, o)?;
        o.label(&end);
        for (e, name) in copy_out {
            self.assign(s, e, name, o)?;
        }
        o.close();
        Ok(())
    }

    /// Extern functions (`send_to_port`, `verify`, ...).
    pub(crate) fn extern_function(
        &mut self,
        s: &Scope<'_>,
        name: &str,
        args: &[Handle<Expr>],
        _ty: Handle<Type>,
        span: p4tc_ir::Span,
        o: &mut Out,
    ) -> R<Option<String>> {
        let arg = |g: &mut Gen<'m>, i: usize| -> R<String> {
            match args.get(i) {
                Some(a) => g.expr(s, *a),
                None => Err(crate::CodegenError::Malformed(format!(
                    "`{name}` lacks argument {}",
                    i + 1
                ))),
            }
        };
        let skb = |g: &Gen<'m>| -> R<()> {
            if g.hook == Hook::Xdp {
                unsupported(
                    format!("`{name}` at XDP (TC metadata exists only at TC)"),
                    span,
                )
            } else {
                Ok(())
            }
        };
        match name {
            "send_to_port" => {
                // Only a constant port other than the CPU port spares the PacketIn copy.
                let cpu = BigInt::from(0xffff_fffdu32);
                if args
                    .first()
                    .and_then(|a| constant(s, *a))
                    .is_none_or(|v| v == cpu)
                {
                    self.uses_cpu_port = true;
                }
                let p = arg(self, 0)?;
                o.line(format!("egress_port = {p}; drop = 0;"));
                Ok(None)
            }
            "recirculate" => {
                self.uses_recirculate = true;
                o.line("recirc_ = 1;");
                Ok(None)
            }
            "mirror_packet" => {
                // As in the interpreter: no mirroring (P4TC left it out too).
                o.line("/* mirror_packet: not done by this datapath */");
                Ok(None)
            }
            "drop_packet" => {
                o.line("drop = 1;");
                Ok(None)
            }
            "verify" => {
                if !s.parser {
                    return unsupported("`verify` outside a parser", span);
                }
                let c = arg(self, 0)?;
                let e = arg(self, 1)?;
                o.line(format!(
                    "if (!{c}) {{ parser_error = {e}; goto parser_reject; }}"
                ));
                Ok(None)
            }
            "SelectByDirection" => {
                let c = arg(self, 0)?;
                let a = arg(self, 1)?;
                let b = arg(self, 2)?;
                Ok(Some(format!("({c} ? {a} : {b})")))
            }
            "is_host_port" | "is_net_port" => {
                let p = arg(self, 0)?;
                let neg = if name == "is_net_port" { "!" } else { "" };
                let test = self.host_port_test(s, &p);
                Ok(Some(format!("({neg}{test})")))
            }
            "skb_get_meta" | "skb_set_meta" => {
                skb(self)?;
                Ok(None)
            }
            "skb_get_tstamp" => skb(self).map(|_| Some("((u64)skb->tstamp)".into())),
            "skb_get_mark" => skb(self).map(|_| Some("((u32)skb->mark)".into())),
            "skb_get_tc_classid" => skb(self).map(|_| Some("((u16)skb->tc_classid)".into())),
            "skb_get_tc_index" => skb(self).map(|_| Some("((u16)skb->tc_index)".into())),
            "skb_get_queue_mapping" => skb(self).map(|_| Some("((u16)skb->queue_mapping)".into())),
            "skb_get_protocol" => skb(self).map(|_| Some("((u16)bpf_ntohs(skb->protocol))".into())),
            "skb_get_tc_at_ingress" | "skb_get_from_ingress" => {
                skb(self).map(|_| Some("((u8)(skb->ingress_ifindex != 0))".into()))
            }
            "skb_set_tstamp"
            | "skb_set_mark"
            | "skb_set_tc_classid"
            | "skb_set_tc_index"
            | "skb_set_queue_mapping" => {
                skb(self)?;
                let v = arg(self, 0)?;
                let field = &name["skb_set_".len()..];
                o.line(format!("skb->{field} = {v};"));
                Ok(None)
            }
            "allocate_flow_id" => {
                self.uses_flow_ids = true;
                Ok(Some(
                    "({ u32 z_ = 0; u64 *f_ = bpf_map_lookup_elem(&p4tc_flow_ids, &z_); f_ ? (u32)(__sync_fetch_and_add(f_, 1) + 1) : 0; })".into(),
                ))
            }
            "add_entry" => self.add_entry(s, None, args, span, o).map(Some),
            "add_entry_if" => {
                let cond = arg(self, 0)?;
                self.add_entry(s, Some(cond), args.get(1..).unwrap_or_default(), span, o)
                    .map(Some)
            }
            "set_entry_expire_time"
            | "restart_expire_timer"
            | "set_entry_expire_time_if"
            | "update_expire_info" => {
                let Some(t) = &s.table else {
                    return unsupported(format!("`{name}` outside a table's action"), span);
                };
                let entry = t.entry.clone();
                // As MemoryBackend: only with the entry's datapath U bit and to a profile that
                // exists (p4tc_timer_profiles, when the program ages in the kernel); the entry
                // becomes dynamic, so the sweep ages it by the new profile from now.
                let exists = if self.ages_in_kernel() {
                    "p4tc_profile_age(p_) != 0"
                } else {
                    "p_ < P4TC_MAX_TIMER_PROFILES"
                };
                // A change of profile (or a static entry becoming dynamic) is an update by
                // the datapath, published when the entry has the datapath's P bit. Only a
                // change: the firewall's hit action sets the profile on every packet, and
                // an event per packet would flood the ring. Exact tables only: a ternary
                // entry's map key is not at hand here.
                let publish = match self.tables.get(&t.table) {
                    Some(info) if info.key.kind == layout::TableKind::Exact => {
                        let changed = format!(
                            "if ((old_profile_ != (u8)p_ || !(old_flags_ & P4TC_F_DYNAMIC)) && ({entry}->hdr.permissions & P4TC_PERM_DP_P)) "
                        );
                        changed
                            + &Self::event_c(
                                "P4TC_EVENT_UPDATED",
                                self.table_intro_id(t.table),
                                info,
                                &t.key,
                                &entry,
                                "now_",
                            )
                    }
                    _ => String::new(),
                };
                let now = self.packet_now();
                let touch = |now: &str| {
                    self.tables.get(&t.table).map_or_else(
                        || format!("{entry}->hdr.last_used_ns = {now};"),
                        |info| info.value.c_set_last_used(&entry, now),
                    )
                };
                let touch_now = touch("now_");
                // A static entry becoming dynamic tells the sweep to walk its table again
                // (gen/aging.rs); LPM tables are not swept.
                let mark = match self.tables.get(&t.table) {
                    Some(info)
                        if self.ages_in_kernel() && info.key.kind != layout::TableKind::Lpm =>
                    {
                        format!(
                            "if (!(old_flags_ & P4TC_F_DYNAMIC)) p4tc_mark_dynamic({}); ",
                            self.table_intro_id(t.table)
                        )
                    }
                    _ => String::new(),
                };
                let set = |p: &str| {
                    format!(
                        "{{ u32 p_ = (u32)({p}); if (({entry}->hdr.permissions & P4TC_PERM_DP_U) && {exists}) {{ u8 old_profile_ = {entry}->hdr.profile; u8 old_flags_ = {entry}->hdr.flags; u64 now_ = {now}; {entry}->hdr.profile = (u8)p_; {entry}->hdr.flags |= P4TC_F_DYNAMIC; {touch_now} (void)old_profile_; (void)old_flags_; {mark}{publish} }} }}"
                    )
                };
                let restart = touch(&now);
                match name {
                    "set_entry_expire_time" => {
                        let p = arg(self, 0)?;
                        o.line(format!("if ({entry}) {}", set(&p)));
                    }
                    "restart_expire_timer" => o.line(format!("if ({entry}) {restart}")),
                    "set_entry_expire_time_if" => {
                        let c = arg(self, 0)?;
                        let p = arg(self, 1)?;
                        o.line(format!("if ({entry} && {c}) {}", set(&p)));
                    }
                    _ => {
                        let update = arg(self, 0)?;
                        let set_time = arg(self, 1)?;
                        let p = arg(self, 2)?;
                        o.line(format!(
                            "if ({entry} && {update}) {{ if ({set_time}) {} else {restart} }}",
                            set(&p)
                        ));
                    }
                }
                Ok(None)
            }
            _ => unsupported(format!("the extern function `{name}`"), span),
        }
    }

    /// Extern methods (`extract`, `emit`, counters, registers, hashes, checksums, digests).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn extern_method(
        &mut self,
        s: &Scope<'_>,
        ext: &str,
        method: &str,
        args: &[Handle<Expr>],
        ty: Handle<Type>,
        span: p4tc_ir::Span,
        o: &mut Out,
    ) -> R<Option<String>> {
        match (ext, method) {
            ("packet_in", _) => return self.packet_in(s, method, args, ty, span, o),
            ("packet_out", "emit") => {
                let Some(&h) = args.get(1) else {
                    return Err(crate::CodegenError::Malformed(
                        "emit without a header".into(),
                    ));
                };
                self.emit(s, h, span, o)?;
                return Ok(None);
            }
            _ => {}
        }
        let inst = match args.first().map(|a| &s.body.exprs[*a].kind) {
            Some(ExprKind::Instance(i)) => *i,
            _ => {
                return unsupported(
                    format!("`{ext}.{method}` on an instance passed as a parameter"),
                    span,
                )
            }
        };
        let name = self.instance_name(inst);
        let arg = |g: &mut Gen<'m>, i: usize| -> R<String> {
            match args.get(i) {
                Some(a) => g.expr(s, *a),
                None => Err(crate::CodegenError::Malformed(format!(
                    "`{ext}.{method}` lacks argument {i}"
                ))),
            }
        };
        match (ext, method) {
            ("Counter", "count") => {
                let i = arg(self, 1)?;
                let Some(ExternLayout::Counter(c)) = layout::extern_layout(self.m, inst)? else {
                    return unsupported("this counter", span);
                };
                o.open("");
                o.line(format!("u32 idx_ = {i};"));
                let vt = super::counter_struct(&mut self.types, &c);
                o.line(format!(
                    "{vt} *c_ = bpf_map_lookup_elem(&ctr_{name}, &idx_);"
                ));
                o.open("if (c_)");
                if c.packets_offset.is_some() {
                    o.line("c_->packets += 1;");
                }
                if c.bytes_offset.is_some() {
                    o.line("c_->bytes += pkt_len;");
                }
                o.close();
                o.close();
                Ok(None)
            }
            ("DirectCounter", "count") => {
                let Some(t) = &s.table else {
                    return unsupported("`DirectCounter.count` outside a table's action", span);
                };
                let Some(info) = self.tables.get(&t.table) else {
                    return unsupported("this direct counter", span);
                };
                let Some((dc, c)) = info.direct_counter.clone() else {
                    return unsupported(
                        format!("direct counter `{name}` of a table that does not name it"),
                        span,
                    );
                };
                if dc != inst {
                    return unsupported(
                        format!("direct counter `{name}` counted from another table"),
                        span,
                    );
                }
                let entry = t.entry.clone();
                o.open(format!("if ({entry})"));
                if c.packets_offset.is_some() {
                    o.line(format!(
                        "__sync_fetch_and_add(&{entry}->counter.packets, 1);"
                    ));
                }
                if c.bytes_offset.is_some() {
                    o.line(format!(
                        "__sync_fetch_and_add(&{entry}->counter.bytes, pkt_len);"
                    ));
                }
                o.close();
                Ok(None)
            }
            ("Meter", "execute") | ("DirectMeter", "execute") => {
                let direct = ext == "DirectMeter";
                let unit_arg = if direct { 0 } else { 1 };
                let bytes = matches!(
                    self.m.instances[inst]
                        .args
                        .get(unit_arg)
                        .and_then(|a| a.value()),
                    Some(Value::Enum(1))
                );
                let units = if bytes { "pkt_len" } else { "1" };
                let color_at = if direct { 1 } else { 2 };
                let color = match args.get(color_at) {
                    Some(_) => arg(self, color_at)?,
                    None => "P4TC_COLOR_BLIND".into(),
                };
                if direct {
                    let Some(t) = &s.table else {
                        return unsupported("`DirectMeter.execute` outside a table's action", span);
                    };
                    if self.tables.get(&t.table).and_then(|i| i.direct_meter) != Some(inst) {
                        return unsupported(
                            format!(
                                "direct meter `{name}` executed from a table that does not name it"
                            ),
                            span,
                        );
                    }
                    let entry = t.entry.clone();
                    Ok(Some(format!(
                        "({entry} ? p4tc_meter_execute(&{entry}->meter, {units}, {color}) : P4TC_COLOR_GREEN)"
                    )))
                } else {
                    let i = arg(self, 1)?;
                    Ok(Some(format!(
                        "({{ u32 idx_ = {i}; struct p4tc_meter *m_ = bpf_map_lookup_elem(&meter_{name}, &idx_); m_ ? p4tc_meter_execute(m_, {units}, {color}) : P4TC_COLOR_GREEN; }})"
                    )))
                }
            }
            ("Register", "read") | ("Register", "write") => {
                let Some(ExternLayout::Register(r)) = layout::extern_layout(self.m, inst)? else {
                    return unsupported("this register", span);
                };
                let i = arg(self, 1)?;
                let elem_ty = match self.ty(self.m.instances[inst].ty) {
                    Type::Extern { args, .. } => args.first().copied(),
                    _ => None,
                };
                let Some(elem_ty) = elem_ty else {
                    return unsupported("this register", span);
                };
                let size = r.element.fields.first().map(|f| f.size).unwrap_or(0);
                if r.element.fields.len() != 1 {
                    return unsupported(format!("register `{name}` of a struct type"), span);
                }
                let Repr::Int { width, .. } = self.repr(elem_ty) else {
                    return unsupported(format!("register `{name}` of a wide type"), span);
                };
                if method == "read" {
                    Ok(Some(format!(
                        "({{ u32 idx_ = {i}; struct reg_{name}_value *r_ = bpf_map_lookup_elem(&reg_{name}, &idx_); r_ ? {} : 0; }})",
                        self.wrap(format!("p4tc_ld_be(r_->v, {size})"), width)
                    )))
                } else {
                    let v = arg(self, 2)?;
                    o.line(format!(
                        "{{ u32 idx_ = {i}; struct reg_{name}_value *r_ = bpf_map_lookup_elem(&reg_{name}, &idx_); if (r_) p4tc_st_be(r_->v, {v}, {size}); }}"
                    ));
                    Ok(None)
                }
            }
            ("Digest", "pack") => {
                let Some(ExternLayout::Digest(d)) = layout::extern_layout(self.m, inst)? else {
                    return unsupported("this digest", span);
                };
                let Some(&data) = args.get(1) else {
                    return Err(crate::CodegenError::Malformed("pack without data".into()));
                };
                let parts = self.data_fields(s, data, span)?;
                o.open("");
                o.line(format!(
                    "u8 dg_[{}] __attribute__((aligned(8))) = {{}};",
                    d.size
                ));
                for ((c, w), f) in parts.iter().zip(&d.fields) {
                    if *w > 64 {
                        o.line(format!(
                            "p4tc_copy(&dg_[{}], ({c}).b, {});",
                            f.offset, f.size
                        ));
                    } else {
                        o.line(format!(
                            "p4tc_st_be_b(&dg_[{}], {c}, {});",
                            f.offset, f.size
                        ));
                    }
                }
                o.line(format!(
                    "bpf_ringbuf_output(&digest_{name}, dg_, sizeof(dg_), 0);"
                ));
                o.close();
                Ok(None)
            }
            ("Hash", "get_hash") => {
                let algo = self.hash_algo(inst, span)?;
                let (data, base_max) = if args.len() >= 4 {
                    (args[2], Some((args[1], args[3])))
                } else {
                    (args[1], None)
                };
                let parts = self.data_fields(s, data, span)?;
                let Repr::Int { width: ow, .. } = self.repr(ty) else {
                    return unsupported("hashes into wide values", span);
                };
                let bytes = super::packet::concat_chunks(&parts, 8, false, span)?;
                let n = bytes.len();
                let h = match algo.as_str() {
                    "CRC32" => format!("p4tc_crc32(hb_, {n})"),
                    "CRC16" => format!("p4tc_crc16(hb_, {n})"),
                    "ONES_COMPLEMENT16" => format!("p4tc_ones_complement16(hb_, {n})"),
                    "IDENTITY" => {
                        if parts.len() == 1 && parts[0].1 <= 64 {
                            parts[0].0.clone()
                        } else {
                            return unsupported("IDENTITY hashes of several fields", span);
                        }
                    }
                    other => return unsupported(format!("the hash algorithm {other}"), span),
                };
                let mut t = format!(
                    "({{ u8 hb_[{}] = {{ {} }}; u64 h_ = {h}; ",
                    n.max(1),
                    bytes.join(", ")
                );
                if let Some((b, m)) = base_max {
                    let b = self.expr(s, b)?;
                    let m = self.expr(s, m)?;
                    t.push_str(&format!(
                        "u64 m_ = {m}; h_ = (u64)({b}) + (m_ ? h_ % m_ : h_); "
                    ));
                }
                t.push_str(&format!("{}; }})", self.wrap("h_".into(), ow)));
                Ok(Some(t))
            }
            ("InternetChecksum", _) => {
                // The sum is kept unfolded in 64 bits, one add per word; `get` and
                // `get_state` fold once (`p4tc_csum_fold64`).
                let state = format!("ck_{name}");
                if !self
                    .extra_locals
                    .iter()
                    .any(|l| l.contains(&format!(" {state} ")))
                {
                    self.extra_locals.push(format!("u64 {state} = 0;"));
                }
                match method {
                    "clear" => o.line(format!("{state} = 0;")),
                    "add" | "subtract" => {
                        let Some(&data) = args.get(1) else {
                            return Err(crate::CodegenError::Malformed(
                                "checksum without data".into(),
                            ));
                        };
                        if method == "add" {
                            if let Some(sum) = self.raw_checksum_add(s, data)? {
                                o.line(format!("{state} += {sum};"));
                                return Ok(None);
                            }
                        }
                        let parts = self.data_fields(s, data, span)?;
                        let words = super::packet::concat_chunks(&parts, 16, false, span)?;
                        for w in words {
                            if method == "add" {
                                o.line(format!("{state} += (u16)({w});"));
                            } else {
                                // Subtracting a word is adding its one's complement.
                                o.line(format!("{state} += (u16)~(u16)({w});"));
                            }
                        }
                    }
                    "get" => return Ok(Some(format!("((u16)~p4tc_csum_fold64({state}))"))),
                    "get_state" => return Ok(Some(format!("p4tc_csum_fold64({state})"))),
                    "set_state" => {
                        let v = arg(self, 1)?;
                        o.line(format!("{state} = {v};"));
                    }
                    _ => return unsupported(format!("InternetChecksum.{method}"), span),
                }
                Ok(None)
            }
            ("Random", "read") => {
                let inst_args = &self.m.instances[inst].args;
                let lo = inst_args
                    .first()
                    .and_then(|a| a.value())
                    .map(super::value_uint);
                let hi = inst_args
                    .get(1)
                    .and_then(|a| a.value())
                    .map(super::value_uint);
                let (Some(lo), Some(hi)) = (lo, hi) else {
                    return unsupported("Random with run-time bounds", span);
                };
                let lo = u64::try_from(&lo).unwrap_or(0);
                let hi = u64::try_from(&hi).unwrap_or(0);
                let range = hi.wrapping_sub(lo).wrapping_add(1);
                let Repr::Int { width, .. } = self.repr(ty) else {
                    return unsupported("wide random values", span);
                };
                Ok(Some(self.wrap(
                    if range == 0 {
                        format!("{lo}ULL + (u64)bpf_get_prandom_u32()")
                    } else {
                        format!("{lo}ULL + (u64)bpf_get_prandom_u32() % {range}ULL")
                    },
                    width,
                )))
            }
            _ => unsupported(format!("`{ext}.{method}` (extern `{name}`)"), span),
        }
    }

    /// The name of a Hash instance's algorithm.
    fn hash_algo(&self, inst: Handle<p4tc_ir::ir::Instance>, span: p4tc_ir::Span) -> R<String> {
        let i = &self.m.instances[inst];
        let Some(Value::Enum(k)) = i.args.first().and_then(|a| a.value()) else {
            return unsupported("a hash whose algorithm is not a constant", span);
        };
        let e = self
            .m
            .enums
            .iter()
            .find(|(_, e)| e.name == "PNA_HashAlgorithm_t")
            .map(|(_, e)| e);
        Ok(e.and_then(|e| e.members.get(*k as usize))
            .map(|(n, _)| n.clone())
            .unwrap_or_default())
    }

    /// The scalar pieces of an extern's data argument, in order: a list or struct is
    /// flattened, a scalar is itself. Each piece is a C expression and its width.
    pub(crate) fn data_fields(
        &mut self,
        s: &Scope<'_>,
        e: Handle<Expr>,
        span: p4tc_ir::Span,
    ) -> R<Vec<(String, u32)>> {
        let ex = &s.body.exprs[e];
        match &ex.kind {
            ExprKind::Compose(items) => {
                let mut v = Vec::new();
                for i in items {
                    v.extend(self.data_fields(s, *i, span)?);
                }
                Ok(v)
            }
            _ => match self.repr(ex.ty) {
                Repr::Int { width, .. } => Ok(vec![(self.expr(s, e)?, width)]),
                Repr::Wide { width } => Ok(vec![(self.expr(s, e)?, width)]),
                Repr::Aggregate => {
                    let base = self.expr(s, e)?;
                    self.aggregate_fields(&base, ex.ty, span)
                }
                Repr::None => unsupported("this data argument", span),
            },
        }
    }

    fn aggregate_fields(
        &mut self,
        base: &str,
        ty: Handle<Type>,
        span: p4tc_ir::Span,
    ) -> R<Vec<(String, u32)>> {
        let ty = self.resolve(ty);
        let fields: Vec<(String, Handle<Type>)> = match self.ty(ty) {
            Type::Composite(c) => self.m.composites[*c]
                .fields
                .iter()
                .map(|f| (ident(&f.name), f.ty))
                .collect(),
            Type::Tuple(ts) => ts
                .iter()
                .enumerate()
                .map(|(i, t)| (format!("f{i}"), *t))
                .collect(),
            _ => return unsupported("this data argument", span),
        };
        let mut v = Vec::new();
        for (n, t) in fields {
            let c = format!("({base}).{n}");
            match self.repr(t) {
                Repr::Int { width, .. } | Repr::Wide { width } => v.push((c, width)),
                Repr::Aggregate => v.extend(self.aggregate_fields(&c, t, span)?),
                Repr::None => return unsupported("this data argument", span),
            }
        }
        Ok(v)
    }

    /// PNA's `add_entry(action_name, params, profile)` in a table's default action.
    fn add_entry(
        &mut self,
        s: &Scope<'_>,
        cond: Option<String>,
        args: &[Handle<Expr>],
        span: p4tc_ir::Span,
        o: &mut Out,
    ) -> R<String> {
        let Some(t) = s.table.clone() else {
            return unsupported("`add_entry` outside a table's default action", span);
        };
        let Some(info) = self.tables.get(&t.table).cloned() else {
            return unsupported("add_entry on this table", span);
        };
        // Its entries stay in a kernel hash map, whose inserts are atomic (see
        // `define_entries_maps`).
        self.datapath_adds.insert(t.table);
        if info.key.kind != layout::TableKind::Exact {
            return unsupported(
                format!(
                    "add_entry on the {} table `{}`",
                    info.key.kind.name(),
                    info.cname
                ),
                span,
            );
        }
        let action_name = match args.first().map(|a| &s.body.exprs[*a].kind) {
            Some(ExprKind::Literal(Value::String(n))) => n.clone(),
            _ => {
                return unsupported(
                    "add_entry with an action name that is not a string literal",
                    span,
                )
            }
        };
        let table = &self.m.tables[t.table];
        let Some(action) = table.actions.iter().map(|a| a.action).find(|a| {
            let act = &self.m.actions[*a];
            act.name == action_name
                || self.intro_action_name(*a).as_deref() == Some(action_name.as_str())
        }) else {
            return unsupported(
                format!("add_entry of `{action_name}`, which the table does not list"),
                span,
            );
        };
        let id = self.action_ids.get(&action).copied().unwrap_or(0);
        let perms = info.permissions & !((1 << 13) | (1 << 6));
        let can_create = info.permissions & (1 << 6) != 0;
        let fields = self.action_param_fields(action)?;
        let parts = match args.get(1) {
            Some(&p) => self.data_fields(s, p, span)?,
            None => Vec::new(),
        };
        let profile = match args.get(2) {
            Some(&p) => self.expr(s, p)?,
            None => "0".into(),
        };
        let res = self.label("add_entry_status");
        o.line(format!("u8 {res} = 1; /* ADD_ENTRY_NOT_DONE */"));
        if !can_create {
            o.line("/* the table's permissions deny the datapath's create bit */");
            return Ok(res);
        }
        match cond {
            Some(c) => o.open(format!("if ({c})")),
            None => o.open(""),
        }
        let vt = format!("struct {}_value", info.cname);
        o.line(format!("{vt} nv_ = {{}};"));
        let now = self.packet_now();
        o.line(format!("u64 now_ = {now};"));
        o.line(format!("nv_.hdr.action = {id};"));
        o.line(format!("nv_.hdr.permissions = 0x{perms:x};"));
        o.line("nv_.hdr.flags = P4TC_F_HAS_ACTION | P4TC_F_DYNAMIC | P4TC_F_DATAPATH;");
        o.line(format!("nv_.hdr.profile = {profile};"));
        let tm = info.value.times_member();
        o.line(format!("nv_.{tm}.created_ns = now_;"));
        o.line(format!("nv_.{tm}.last_used_ns = now_;"));
        if !fields.is_empty() {
            let cn = self.action_cname(action);
            for ((_, f, w, size), (c, _)) in fields.iter().zip(&parts) {
                if *w > 64 {
                    o.line(format!("p4tc_copy(nv_.params.{cn}.{f}, ({c}).b, {size});"));
                } else {
                    o.line(format!("p4tc_st_be_b(nv_.params.{cn}.{f}, {c}, {size});"));
                }
            }
        }
        // The entry's permissions are known here, so whether its creation is published is
        // decided now: the datapath's P bit (as P4TC publishes the datapath's creates). The
        // ring is only touched after a successful insert: a full table or an existing key
        // costs nothing more and publishes nothing.
        let publish = perms & (1 << 1) != 0;
        let inserted = format!(
            "bpf_map_update_elem(&{}, &{}, &nv_, BPF_NOEXIST) == 0",
            info.cname, t.key
        );
        let id = self.table_intro_id(t.table);
        // The new entry is dynamic: the sweep walks the table again (gen/aging.rs; exact
        // tables, the only ones add_entry writes, are swept).
        let mark = if self.ages_in_kernel() {
            format!(" p4tc_mark_dynamic({id});")
        } else {
            String::new()
        };
        if publish {
            o.open(format!("if ({inserted})"));
            o.line(format!("{res} = 0;{mark}"));
            o.line(Self::event_c(
                "P4TC_EVENT_CREATED",
                id,
                &info,
                &t.key,
                "&nv_",
                "now_",
            ));
            o.close();
        } else {
            o.line(format!("if ({inserted}) {{ {res} = 0;{mark} }}"));
        }
        o.close();
        let _ = uint_for(1);
        Ok(res)
    }

    /// C that publishes one datapath event into `p4tc_aging_events`: `struct p4tc_event_hdr`
    /// (kind, who = datapath, the table's introspection id, the entry's head), the map key
    /// `key` (a `struct {cname}_key` variable), then the whole value `*value` (so the event
    /// carries the action's data; it starts 8-aligned after the key). One line, so it fits in
    /// an `if`. A full ring drops the event (the datapath never waits for the control plane)
    /// and counts it in the aging element's `lost_events`, which only a failure touches.
    pub(crate) fn event_c(
        kind: &str,
        table_id: u32,
        info: &super::TableInfo,
        key: &str,
        value: &str,
        now: &str,
    ) -> String {
        let cname = &info.cname;
        let event_entry = info.value.c_event_entry("&ev_->h.entry", "ev_->value");
        format!(
            "{{ struct {{ struct p4tc_event_hdr h; struct {cname}_key key; struct {cname}_value value; }} *ev_ = \
             bpf_ringbuf_reserve(&p4tc_aging_events, sizeof(*ev_), 0); \
             if (ev_) {{ __builtin_memcpy(&ev_->value, {value}, sizeof(ev_->value)); \
             ev_->h.kind = {kind}; ev_->h.who = P4TC_WHO_DATAPATH; ev_->h.table = {table_id}; \
             ev_->h.key_size = sizeof(ev_->key); ev_->h.at_ns = {now}; {event_entry}; \
             __builtin_memcpy(&ev_->key, &{key}, sizeof(ev_->key)); bpf_ringbuf_submit(ev_, 0); }} \
             else {{ u32 lz_ = 0; struct p4tc_aging_timer *lt_ = bpf_map_lookup_elem(&p4tc_aging, &lz_); \
             if (lt_) __sync_fetch_and_add(&lt_->lost_events, 1); }} }}"
        )
    }

    /// The introspection id of `table` (what events name).
    fn table_intro_id(&self, table: Handle<Table>) -> u32 {
        self.m
            .tables
            .iter()
            .position(|(h, _)| h == table)
            .and_then(|i| self.intro.tables.get(i))
            .map_or(0, |x| x.id)
    }

    fn intro_action_name(&self, a: Handle<Action>) -> Option<String> {
        let id = *self.action_ids.get(&a)?;
        self.intro
            .tables
            .iter()
            .flat_map(|t| &t.actions)
            .find(|x| x.id == id)
            .map(|x| x.name.clone())
    }
}

/// The value of an integer constant expression (a literal, through casts).
fn constant(s: &Scope<'_>, e: Handle<Expr>) -> Option<BigInt> {
    match &s.body.exprs[e].kind {
        ExprKind::Literal(Value::Int(v)) => Some(v.clone()),
        ExprKind::Cast(inner) => constant(s, *inner),
        _ => None,
    }
}
