//! Tables: the key is built into a reusable blob laid out by `p4tc_ir::layout`, looked up in
//! the datapath, and the action it returns runs with its data decoded from the entry's blob.

use p4tc_ir::arena::Handle;
use p4tc_ir::ir::{ActionArg, LocalKind, Table};
use p4tc_ir::layout::{action_param_layout, table_key_layout};

use crate::blob;
use crate::call::Binding;
use crate::compile::{Compiler, R};
use crate::ctx::{Ctx, Flow};
use crate::expr::BigFn;
use crate::program::{run_action, ActionCode, DataParam, FunctionCode};
use crate::types::limbs;
use crate::InterpError;

enum KeyValue {
    Narrow(crate::ctx::SFn),
    Wide(BigFn),
}

struct KeyPart {
    value: KeyValue,
    offset: usize,
    size: usize,
    width: u32,
}

/// How a table runs one of its actions: bindings of its directional parameters.
struct TableAction {
    action: usize,
    binding: Binding,
}

/// A compiled table.
pub(crate) struct TableCode {
    handle: Handle<Table>,
    keys: Vec<KeyPart>,
    size: usize,
    prefix: Option<u32>,
    actions: Vec<TableAction>,
}

impl<'m> Compiler<'m> {
    /// Compiles a table's key and the bindings of its actions.
    pub fn compile_table(&mut self, h: Handle<Table>) -> R<TableCode> {
        let t = self
            .m
            .tables
            .get(h)
            .ok_or_else(|| InterpError::Pipeline(format!("table {h:?} is missing")))?;
        let layout = table_key_layout(self.m, h)
            .map_err(|e| InterpError::Unsupported(format!("table `{}`: {e}", t.name)))?;
        let sc = self.block_scope(t.control).ok_or_else(|| {
            InterpError::Pipeline(format!("control of table `{}` is missing", t.name))
        })?;
        let mut keys = Vec::with_capacity(t.keys.len());
        for (k, kf) in t.keys.iter().zip(&layout.fields) {
            let width = kf.field.width;
            let value = if width <= 128 {
                KeyValue::Narrow(self.scalar(sc, k.expr)?)
            } else {
                KeyValue::Wide(self.bigval(sc, k.expr)?)
            };
            keys.push(KeyPart {
                value,
                offset: kf.field.offset as usize,
                size: kf.field.size as usize,
                width,
            });
        }
        // Every action the table may run, with the arguments of its directional parameters
        // (from the default action or an entry that names it).
        let mut handles: Vec<_> = t.actions.iter().map(|a| a.action).collect();
        if let Some(d) = &t.default_action {
            if !handles.contains(&d.action) {
                handles.push(d.action);
            }
        }
        let mut actions = Vec::with_capacity(handles.len());
        for a in handles {
            let idx = self.request_action(a);
            let (Some(act), Some(asc)) = (self.m.actions.get(a), self.action_scope(a)) else {
                continue;
            };
            let call = t
                .default_action
                .iter()
                .chain(t.entries.iter().map(|e| &e.action))
                .find(|call| call.action == a);
            let mut params = Vec::new();
            let mut args = Vec::new();
            for (i, &p) in act.params.iter().enumerate() {
                let directional = asc
                    .body
                    .locals
                    .get(p)
                    .is_some_and(|l| l.kind != LocalKind::Directionless);
                if !directional {
                    continue;
                }
                if let Some(ActionArg::Expr(e)) = call.and_then(|c| c.args.get(i)) {
                    params.push(p);
                    args.push(*e);
                }
            }
            let binding = self.bind(sc, asc, &params, &args)?;
            actions.push(TableAction {
                action: idx,
                binding,
            });
        }
        Ok(TableCode {
            handle: h,
            keys,
            size: layout.size as usize,
            prefix: layout.max_prefix_len(),
            actions,
        })
    }

    /// Compiles an action: its statements and where its action data goes.
    pub fn compile_action(&mut self, h: Handle<p4tc_ir::ir::Action>) -> R<ActionCode> {
        let (Some(act), Some(sc)) = (self.m.actions.get(h), self.action_scope(h)) else {
            return Err(InterpError::Pipeline(format!("action {h:?} is missing")));
        };
        let mut data = Vec::new();
        // An action whose data has no layout cannot be run by a table; direct calls still work.
        if let Ok(layout) = action_param_layout(self.m, h) {
            for p in &layout.params {
                let Some(&local) = act.params.get(p.index) else {
                    continue;
                };
                data.push(DataParam {
                    slot: self.local(&sc, local),
                    offset: p.field.offset as usize,
                    size: p.field.size as usize,
                    width: p.field.width,
                });
            }
        }
        let body = self.block(sc, &act.body.block)?;
        Ok(ActionCode { data, body })
    }

    /// Compiles a function.
    pub fn compile_function(&mut self, h: Handle<p4tc_ir::ir::Function>) -> R<FunctionCode> {
        let Some(f) = self.m.functions.get(h) else {
            return Err(InterpError::Pipeline(format!("function {h:?} is missing")));
        };
        let ret = self.ret_slot(h);
        let sc = crate::compile::Scope {
            key: crate::compile::BodyKey::Function(h),
            body: &f.body,
            ret: Some((ret, f.return_type)),
            parser: false,
        };
        Ok(FunctionCode {
            body: self.block(sc, &f.body.block)?,
        })
    }
}

/// Applies table `index`: (hit, the action run, how it finished).
pub(crate) fn apply(c: &mut Ctx<'_>, index: usize) -> (bool, Option<usize>, Flow) {
    let prog = c.prog;
    let Some(code) = prog.tables.get(index).and_then(Option::as_ref) else {
        return (false, None, Flow::Next);
    };
    let mut key = match c.run.lookups.get_mut(index) {
        Some(l) => std::mem::take(&mut l.key),
        None => Vec::new(),
    };
    key.clear();
    key.resize(code.size, 0);
    for part in &code.keys {
        match &part.value {
            KeyValue::Narrow(f) => {
                let v = f(c);
                blob::put_u128(&mut key, part.offset, part.size, v);
            }
            KeyValue::Wide(f) => {
                let v = f(c);
                blob::put_big(&mut key, part.offset, part.size, &v);
            }
        }
        let _ = part.width;
    }
    if let (Some(p), Some(word)) = (code.prefix, key.get_mut(..4)) {
        word.copy_from_slice(&p.to_ne_bytes());
    }
    let (entry, action) = {
        let found = c.dp.lookup(code.handle, &key);
        let action = found.action.map(|a| a.index());
        if let Some(ac) = action
            .and_then(|a| prog.actions.get(a))
            .and_then(Option::as_ref)
        {
            for d in &ac.data {
                let n = limbs(d.width);
                if let Some(out) = c.s.get_mut(d.slot..d.slot + n) {
                    blob::get_field(found.params, d.offset, d.size, d.width, out);
                }
            }
        }
        (found.entry, action)
    };
    if let Some(l) = c.run.lookups.get_mut(index) {
        l.key = key;
        l.entry = entry;
    }
    let hit = entry.is_some();
    let Some(a) = action else {
        return (hit, None, Flow::Next);
    };
    let outer = c.run.table.replace(index);
    let binding = code
        .actions
        .iter()
        .find(|t| t.action == a)
        .map(|t| &t.binding);
    if let Some(b) = binding {
        b.before(c);
    }
    let flow = run_action(c, a);
    if let Some(b) = binding {
        b.after(c);
    }
    c.run.table = outer;
    (hit, Some(a), flow)
}
