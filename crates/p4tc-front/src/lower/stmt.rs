//! Statements.

use num_bigint::BigInt;
use p4tc_ir::arena::Handle;
use p4tc_ir::ir::{self, ExprKind, LocalKind, Stmt, Type, Value};
use p4tc_ir::{Diagnostic, Span};

use super::{Lowerer, Symbol};
use crate::ast;

impl<'a> Lowerer<'a, '_> {
    /// A block in a scope of its own.
    pub(super) fn block(&mut self, block: &'a ast::Block) -> ir::Block {
        self.scoped(|this| this.stmts(&block.stmts))
    }

    /// Statements in the current scope (declarations in them stay visible after).
    pub(super) fn stmts(&mut self, stmts: &'a [ast::Stmt]) -> ir::Block {
        let mut out = ir::Block::default();
        for stmt in stmts {
            self.stmt(stmt, &mut out);
        }
        out
    }

    /// A statement that is the body of an `if`, `else` or loop: a block of its own.
    fn nested(&mut self, stmt: &'a ast::Stmt) -> ir::Block {
        self.scoped(|this| {
            let mut out = ir::Block::default();
            this.stmt(stmt, &mut out);
            out
        })
    }

    /// Lowers one statement into `out`. Errors are reported and the statement left out.
    pub(super) fn stmt(&mut self, stmt: &'a ast::Stmt, out: &mut ir::Block) {
        stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || self.stmt_inner(stmt, out))
    }

    fn stmt_inner(&mut self, stmt: &'a ast::Stmt, out: &mut ir::Block) {
        let span = stmt.span;
        match &stmt.kind {
            ast::StmtKind::Assign { lhs, op, rhs } => {
                let Some(target) = self.infer(lhs, None) else {
                    return;
                };
                if let Err(why) = self.writable(target) {
                    self.report(
                        Diagnostic::error(lhs.span, "cannot assign to this").with_label(why),
                    );
                    return;
                }
                let ty = self.ty_of(target);
                let value = match op {
                    None => self.check(rhs, ty),
                    Some(op) => {
                        // `x op= e` is `x = x op e`: the target is read as the left operand.
                        let hint = Some(ty).filter(|t| {
                            !matches!(
                                op,
                                ast::BinaryOp::Shl | ast::BinaryOp::Shr | ast::BinaryOp::Concat
                            ) && !self.is_integer(*t)
                        });
                        self.infer(rhs, hint)
                            .and_then(|r| self.combine(*op, target, r, lhs.span, rhs.span, span))
                            .and_then(|v| self.coerce(v, ty, span))
                    }
                };
                if let Some(value) = value {
                    out.stmts.push(Stmt::Assign {
                        lhs: target,
                        rhs: value,
                    });
                }
            }
            ast::StmtKind::Call(call) => {
                if let Some(e) = self.infer(call, None) {
                    // A call folded at compile time (`static_assert(...)`) has done its work.
                    if matches!(self.body.exprs[e].kind, ExprKind::Literal(_))
                        && matches!(call.kind, ast::ExprKind::Call { .. })
                    {
                        return;
                    }
                    if !matches!(self.body.exprs[e].kind, ExprKind::Call { .. }) {
                        self.error(span, "only a call can be used as a statement");
                        return;
                    }
                    out.stmts.push(Stmt::Call(e));
                }
            }
            ast::StmtKind::DirectApply { ty, args } => {
                let Some(resolved) = self.resolve_type(ty) else {
                    return;
                };
                let Type::Block(block) = self.module.types[resolved].clone() else {
                    self.error(ty.span, "only a parser or control can be applied");
                    return;
                };
                // Applying a type directly is applying a fresh instance of it.
                let name = self.module.block_types[block].name.clone();
                let instance = self.module.instances.append(
                    ir::Instance {
                        name: format!("{name}.apply"),
                        ty: resolved,
                        owner: self.block,
                        args: Vec::new(),
                        annotations: Vec::new(),
                        methods: Vec::new(),
                    },
                    ty.span,
                );
                let receiver = self.body.exprs.append(
                    ir::Expr {
                        kind: ExprKind::Instance(instance),
                        ty: resolved,
                    },
                    ty.span,
                );
                let params: Vec<_> = {
                    let b = &self.module.block_types[block];
                    b.body
                        .locals
                        .iter()
                        .take(b.apply_params)
                        .map(|(h, l)| (l.name.clone(), l.ty, l.kind, b.body.locals.span(h)))
                        .collect()
                };
                let Some(lowered) = self.args(&params, args, span, &name) else {
                    return;
                };
                let void = self.void_type();
                let mut all = vec![receiver];
                all.extend(lowered);
                let call = self.body.exprs.append(
                    ir::Expr {
                        kind: ExprKind::Call {
                            callee: ir::Callee::BlockApply(block),
                            args: all,
                        },
                        ty: void,
                    },
                    span,
                );
                out.stmts.push(Stmt::Call(call));
            }
            ast::StmtKind::If {
                cond,
                then,
                otherwise,
            } => {
                let bool_ty = self.bool_type();
                let Some(c) = self.check(cond, bool_ty) else {
                    return;
                };
                let then = self.nested(then);
                let otherwise = otherwise
                    .as_ref()
                    .map(|o| self.nested(o))
                    .unwrap_or_default();
                out.stmts.push(Stmt::If {
                    cond: c,
                    then,
                    otherwise,
                });
            }
            ast::StmtKind::Block(block) => {
                let inner = self.block(block);
                out.stmts.push(Stmt::Block(inner));
            }
            ast::StmtKind::Empty => {}
            ast::StmtKind::Return(value) => match (self.return_type, value) {
                (Some(ret), Some(value)) => {
                    if let Some(e) = self.check(value, ret) {
                        out.stmts.push(Stmt::Return(Some(e)));
                    }
                }
                (Some(ret), None) if matches!(self.module.types[ret], Type::Void) => {
                    out.stmts.push(Stmt::Return(None))
                }
                (Some(ret), None) => {
                    let name = self.type_name(ret);
                    self.error(
                        span,
                        format!("this function returns `{name}`: `return` needs a value"),
                    );
                }
                (None, Some(value)) => self.error(value.span, "only a function can return a value"),
                (None, None) => out.stmts.push(Stmt::Return(None)),
            },
            ast::StmtKind::Exit => {
                // P4-16: `exit` ends the whole block; a function cannot do that.
                if self.return_type.is_some() {
                    self.error(span, "`exit` is not allowed in a function");
                    return;
                }
                out.stmts.push(Stmt::Exit);
            }
            ast::StmtKind::Break | ast::StmtKind::Continue => {
                if self.loop_depth == 0 {
                    let what = if matches!(stmt.kind, ast::StmtKind::Break) {
                        "break"
                    } else {
                        "continue"
                    };
                    self.error(span, format!("`{what}` outside a loop"));
                    return;
                }
                out.stmts
                    .push(if matches!(stmt.kind, ast::StmtKind::Break) {
                        Stmt::Break
                    } else {
                        Stmt::Continue
                    });
            }
            ast::StmtKind::Switch { expr, cases } => self.switch(expr, cases, span, out),
            ast::StmtKind::For(for_loop) => self.for_loop(for_loop, out),
            ast::StmtKind::Var(var) => {
                if let Some(stmt) = self.var_decl(var, LocalKind::Var) {
                    out.stmts.push(stmt);
                }
            }
            ast::StmtKind::Const(decl) => self.const_decl(decl),
        }
    }

    /// `{ var = var + 1; }`: the step of a counted loop.
    fn increment(&mut self, var: Handle<ir::Expr>, ty: Handle<Type>, span: Span) -> ir::Block {
        // `1` in the variable's type (which wraps it for the narrowest types).
        let step = match self.bit_width(ty) {
            Some((w, signed)) => super::expr::wrap(&BigInt::from(1), w, signed),
            None => BigInt::from(1),
        };
        let one = self.body.exprs.append(
            ir::Expr {
                kind: ExprKind::Literal(Value::Int(step)),
                ty,
            },
            span,
        );
        let next = self.body.exprs.append(
            ir::Expr {
                kind: ExprKind::Binary {
                    op: ir::BinaryOp::Add,
                    lhs: var,
                    rhs: one,
                },
                ty,
            },
            span,
        );
        ir::Block {
            stmts: vec![Stmt::Assign {
                lhs: var,
                rhs: next,
            }],
        }
    }

    /// `T x = init;`: a new local, declared after its initialiser is lowered.
    pub(super) fn var_decl(&mut self, var: &'a ast::VarDecl, kind: LocalKind) -> Option<Stmt> {
        let Some(ty) = self.resolve_type(&var.ty) else {
            self.poison(&var.name);
            return None;
        };
        // `int`, `string` and `match_kind` values exist only at compile time.
        if matches!(
            self.module.types[ty],
            Type::Integer | Type::String | Type::MatchKind
        ) {
            let name = self.type_name(ty);
            self.report(
                Diagnostic::error(var.ty.span, format!("a variable cannot have type `{name}`: its values exist only at compile time"))
                    .with_note(format!("declare a constant instead: `const {name} {} = ...;`", var.name.name)),
            );
            self.poison(&var.name);
            return None;
        }
        // A bad initialiser is reported; the variable still exists for what follows.
        let init = var.init.as_ref().and_then(|init| self.check(init, ty));
        let local = self.add_local(&var.name, ty, kind);
        if var.init.is_some() && init.is_none() {
            return None;
        }
        Some(Stmt::Declare { local, init })
    }

    /// `const T x = v;`: a name for a compile-time value.
    pub(super) fn const_decl(&mut self, decl: &'a ast::ConstDecl) {
        let value = self
            .resolve_type(&decl.ty)
            .and_then(|ty| Some((ty, self.const_of_type(&decl.value, ty)?)));
        match value {
            Some((ty, value)) => self.declare(&decl.name, Symbol::Const(ty, value)),
            None => self.poison(&decl.name),
        }
    }

    fn switch(
        &mut self,
        expr: &'a ast::Expr,
        cases: &'a [ast::SwitchCase],
        span: Span,
        out: &mut ir::Block,
    ) {
        // `switch (t.apply().action_run)`: labels are the table's actions.
        if let ast::ExprKind::Member { base, member } = &expr.kind {
            if member.name == "action_run" {
                let Some(table) = self.applied_table(base) else {
                    self.error(expr.span, "`action_run` belongs to a table's `apply()`");
                    return;
                };
                let mut ir_cases = Vec::new();
                let mut default = None;
                let mut pending: Vec<Handle<ir::Action>> = Vec::new();
                for case in cases {
                    match &case.label {
                        ast::SwitchLabel::Default(_) => {
                            if let Some(body) = &case.body {
                                default = Some(self.block(body));
                            }
                        }
                        ast::SwitchLabel::Expr(label) => {
                            let action = match &label.kind {
                                ast::ExprKind::Name(path) => {
                                    match self.lookup(&path.name.name, path.top_level) {
                                        Some(Symbol::Action(a)) => Some(*a),
                                        _ => None,
                                    }
                                }
                                _ => None,
                            };
                            let Some(action) = action else {
                                self.error(
                                    label.span,
                                    "a label of a switch on `action_run` must name an action",
                                );
                                continue;
                            };
                            if !self.module.tables[table]
                                .actions
                                .iter()
                                .any(|a| a.action == action)
                            {
                                let table_name = self.module.tables[table].name.clone();
                                self.error(label.span, format!("table `{table_name}` cannot run this action: it is not in its `actions`"));
                                continue;
                            }
                            if ir_cases.iter().any(
                                |(actions, _): &(Vec<Handle<ir::Action>>, ir::Block)| {
                                    actions.contains(&action)
                                },
                            ) || pending.contains(&action)
                            {
                                self.error(
                                    label.span,
                                    "this action already has a case in this switch",
                                );
                                continue;
                            }
                            pending.push(action);
                            if let Some(body) = &case.body {
                                let block = self.block(body);
                                ir_cases.push((std::mem::take(&mut pending), block));
                            }
                        }
                    }
                }
                out.stmts.push(Stmt::SwitchAction {
                    table,
                    cases: ir_cases,
                    default,
                });
                return;
            }
        }
        let Some(selector) = self.infer(expr, None) else {
            return;
        };
        let ty = self.ty_of(selector);
        let switchable = self.bit_width(ty).is_some()
            || matches!(
                self.module.types[ty],
                Type::Enum(_) | Type::Error | Type::Integer
            );
        if !switchable {
            let name = self.type_name(ty);
            self.error(
                expr.span,
                format!("cannot switch on a value of type `{name}`"),
            );
            return;
        }
        let mut ir_cases = Vec::new();
        let mut default = None;
        let mut pending: Vec<Value> = Vec::new();
        for case in cases {
            match &case.label {
                ast::SwitchLabel::Default(_) => {
                    if let Some(body) = &case.body {
                        default = Some(self.block(body));
                    }
                }
                ast::SwitchLabel::Expr(label) => {
                    let Some(value) = self.const_of_type(label, ty) else {
                        continue;
                    };
                    pending.push(value);
                    if let Some(body) = &case.body {
                        let block = self.block(body);
                        ir_cases.push((std::mem::take(&mut pending), block));
                    }
                }
            }
        }
        let _ = span;
        out.stmts.push(Stmt::Switch {
            selector,
            cases: ir_cases,
            default,
        });
    }

    fn for_loop(&mut self, for_loop: &'a ast::ForLoop, out: &mut ir::Block) {
        match for_loop {
            ast::ForLoop::Classic {
                init,
                cond,
                update,
                body,
                ..
            } => {
                let lowered = self.scoped(|this| {
                    let mut prologue = ir::Block::default();
                    for s in init {
                        this.stmt(s, &mut prologue);
                    }
                    let bool_ty = this.bool_type();
                    let c = this.check(cond, bool_ty)?;
                    this.loop_depth += 1;
                    let body = this.nested(body);
                    this.loop_depth -= 1;
                    let mut step = ir::Block::default();
                    for s in update {
                        this.stmt(s, &mut step);
                    }
                    prologue.stmts.push(Stmt::Loop {
                        cond: c,
                        body,
                        update: step,
                    });
                    Some(prologue)
                });
                if let Some(block) = lowered {
                    out.stmts.push(Stmt::Block(block));
                }
            }
            ast::ForLoop::In {
                ty,
                name,
                collection,
                range_end,
                body,
                ..
            } => {
                let lowered = self.scoped(|this| {
                    let var_ty = this.resolve_type(ty)?;
                    let mut prologue = ir::Block::default();
                    match range_end {
                        Some(end) => {
                            // `for (T x in lo .. hi)`: x runs from lo to hi inclusive.
                            let lo = this.check(collection, var_ty)?;
                            let hi = this.check(end, var_ty)?;
                            let local = this.add_local(name, var_ty, LocalKind::Var);
                            prologue.stmts.push(Stmt::Declare {
                                local,
                                init: Some(lo),
                            });
                            let x = this.body.exprs.append(
                                ir::Expr {
                                    kind: ExprKind::Local(local),
                                    ty: var_ty,
                                },
                                name.span,
                            );
                            let bool_ty = this.bool_type();
                            let cond = this.body.exprs.append(
                                ir::Expr {
                                    kind: ExprKind::Binary {
                                        op: ir::BinaryOp::Le,
                                        lhs: x,
                                        rhs: hi,
                                    },
                                    ty: bool_ty,
                                },
                                end.span,
                            );
                            this.loop_depth += 1;
                            let body = this.nested(body);
                            this.loop_depth -= 1;
                            let update = this.increment(x, var_ty, name.span);
                            prologue.stmts.push(Stmt::Loop { cond, body, update });
                        }
                        None => {
                            // `for (T x in stack)`: each element in order.
                            let stack = this.infer(collection, None)?;
                            // A list (known at compile time) is walked like a stack of its length.
                            let as_stack = match this.module.types[this.ty_of(stack)].clone() {
                                Type::List(element) => match this.body.exprs[stack].kind.clone() {
                                    ExprKind::Literal(Value::Tuple(items)) => Some(Type::Stack {
                                        element,
                                        size: items.len() as u32,
                                    }),
                                    ExprKind::Compose(items) => Some(Type::Stack {
                                        element,
                                        size: items.len() as u32,
                                    }),
                                    _ => None,
                                },
                                other => Some(other),
                            };
                            let Some(Type::Stack { element, size }) = as_stack else {
                                let name = this.type_name(this.ty_of(stack));
                                this.error(
                                    collection.span,
                                    format!("cannot iterate over a value of type `{name}`"),
                                );
                                return None;
                            };
                            if element != var_ty {
                                let (e, v) = (this.type_name(element), this.type_name(var_ty));
                                this.error(
                                    ty.span,
                                    format!(
                                        "the elements are `{e}`, but the loop variable is `{v}`"
                                    ),
                                );
                                return None;
                            }
                            let index_ty = this.bits_type(32, false);
                            let index_name = ast::Ident {
                                name: format!("{}$index", name.name),
                                span: name.span,
                            };
                            let index = this.body.locals.append(
                                ir::Local {
                                    name: index_name.name.clone(),
                                    ty: index_ty,
                                    kind: LocalKind::Var,
                                    annotations: Vec::new(),
                                },
                                name.span,
                            );
                            let zero = this.body.exprs.append(
                                ir::Expr {
                                    kind: ExprKind::Literal(Value::Int(BigInt::from(0))),
                                    ty: index_ty,
                                },
                                name.span,
                            );
                            prologue.stmts.push(Stmt::Declare {
                                local: index,
                                init: Some(zero),
                            });
                            let i = this.body.exprs.append(
                                ir::Expr {
                                    kind: ExprKind::Local(index),
                                    ty: index_ty,
                                },
                                name.span,
                            );
                            let bound = this.body.exprs.append(
                                ir::Expr {
                                    kind: ExprKind::Literal(Value::Int(BigInt::from(size))),
                                    ty: index_ty,
                                },
                                name.span,
                            );
                            let bool_ty = this.bool_type();
                            let cond = this.body.exprs.append(
                                ir::Expr {
                                    kind: ExprKind::Binary {
                                        op: ir::BinaryOp::Lt,
                                        lhs: i,
                                        rhs: bound,
                                    },
                                    ty: bool_ty,
                                },
                                name.span,
                            );
                            let item = this.body.exprs.append(
                                ir::Expr {
                                    kind: ExprKind::Element {
                                        base: stack,
                                        index: i,
                                    },
                                    ty: element,
                                },
                                collection.span,
                            );
                            let local = this.add_local(name, var_ty, LocalKind::Var);
                            this.loop_depth += 1;
                            let mut body_block = ir::Block {
                                stmts: vec![Stmt::Declare {
                                    local,
                                    init: Some(item),
                                }],
                            };
                            let inner = this.nested(body);
                            body_block.stmts.push(Stmt::Block(inner));
                            this.loop_depth -= 1;
                            let update = this.increment(i, index_ty, name.span);
                            prologue.stmts.push(Stmt::Loop {
                                cond,
                                body: body_block,
                                update,
                            });
                        }
                    }
                    Some(prologue)
                });
                if let Some(block) = lowered {
                    out.stmts.push(Stmt::Block(block));
                }
            }
        }
    }
}
