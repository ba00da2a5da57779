//! An exact table's `const` program entries found by a `switch` on the key, without a map
//! lookup.
//!
//! A const entry is immutable: the control plane may only read it (permissions `0x1024`), the
//! datapath may not delete it, it never ages, and a create with its key fails as a duplicate.
//! So for as long as the program runs, a key equal to a const entry's finds exactly that entry
//! in the map, with that action and those arguments: the switch gives the same answer as the
//! lookup, at the cost of a few compares. Other keys are still looked up, because the control
//! plane may add entries to the table. The map keeps the entries all the same (dumps, reads).
//!
//! The shortcut is taken only where it is exact and small: an exact table of at most
//! [`MAX_SWITCH_ENTRIES`] entries, all const, a key of at most 8 bytes, no direct counter or
//! meter (those live in the map value), actions whose parameters are all action data, and
//! action bodies that do not refer to the entry (`set_entry_expire_time` and the like).

use p4tc_ir::arena::Handle;
use p4tc_ir::ir::{ActionArg, KeysetValue, LocalKind, Table};
use p4tc_ir::layout::TableKind;
use p4tc_ir::Span;

use super::out::Out;
use super::{Gen, Scope, TableInfo, R};

/// More entries than this make a switch larger than the lookup it saves.
pub(crate) const MAX_SWITCH_ENTRIES: usize = 32;

/// The C names of one `apply`.
pub(crate) struct ApplyNames<'a> {
    /// The key struct.
    pub(crate) key: &'a str,
    /// The entry pointer (NULL in the switch: no map element is involved).
    pub(crate) entry: &'a str,
    /// The hit flag.
    pub(crate) hit: &'a str,
    /// The action id that ran.
    pub(crate) run: &'a str,
    /// The label after the apply's dispatch.
    pub(crate) done: &'a str,
}

impl Gen<'_> {
    /// The `switch` over `table`'s const entries, to put before its lookup, or `None` when the
    /// table does not qualify (see the module's documentation).
    pub(crate) fn const_entry_switch(
        &mut self,
        s: &Scope<'_>,
        table: Handle<Table>,
        info: &TableInfo,
        names: &ApplyNames<'_>,
        indent: usize,
        span: Span,
    ) -> R<Option<String>> {
        let t = &self.m.tables[table];
        let all_const = t.entries.iter().all(|e| e.is_const || t.entries_const);
        if info.key.kind != TableKind::Exact
            || t.entries.is_empty()
            || t.entries.len() > MAX_SWITCH_ENTRIES
            || !all_const
            || info.key.data_size == 0
            || info.key.data_size > 8
            || info.direct_counter.is_some()
            || info.direct_meter.is_some()
        {
            return Ok(None);
        }
        let body = &self.m.block_types[t.control].body;
        let mut cases = Vec::with_capacity(t.entries.len());
        for e in &t.entries {
            let mut values = Vec::with_capacity(e.keys.len());
            for ((ks, kf), tk) in e.keys.iter().zip(&info.key.fields).zip(&t.keys) {
                let KeysetValue::Exact(v) = ks else {
                    return Ok(None);
                };
                values.push(self.value_bits(v, body.exprs[tk.expr].ty, kf.field.width));
            }
            let Ok(blob) = info.key.encode_key(&values) else {
                return Ok(None);
            };
            // The key's bytes as one big-endian number, as `p4tc_ld_be` reads them.
            let word = blob[..info.key.data_size as usize]
                .iter()
                .fold(0u64, |w, b| (w << 8) | u64::from(*b));
            // Two entries with one key (the loader writes both, the last stays): no switch,
            // whose cases must differ.
            if cases.iter().any(|(w, _)| *w == word) {
                return Ok(None);
            }
            cases.push((word, e.action.clone()));
        }

        let sc = super::table::table_scope(s, table, names.key, names.entry);
        let mut o = Out::new(indent);
        o.line("/* A const entry's key runs its action directly (see gen/const_entries.rs). */");
        o.open(format!(
            "switch (p4tc_ld_be(&{}, {}))",
            names.key, info.key.data_size
        ));
        for (word, call) in &cases {
            let a = &self.m.actions[call.action];
            let abody = match a.control {
                Some(c) => &self.m.block_types[c].body,
                None => &a.body,
            };
            // Every parameter action data, every argument a value.
            let all_data = call.args.len() == a.params.len()
                && call.args.iter().zip(&a.params).all(|(arg, p)| {
                    matches!(arg, ActionArg::Value(_))
                        && abody.locals[*p].kind == LocalKind::Directionless
                });
            if !all_data {
                return Ok(None);
            }
            let args = self.call_args(call, span)?;
            let id = self.action_ids.get(&call.action).copied().unwrap_or(0);
            o.line(format!("case {word:#x}ULL: /* {} */", a.name));
            o.open("");
            o.line(format!("{} = 1;", names.hit));
            o.line(format!("{} = {id};", names.run));
            let mut body_out = Out::new(o.indent);
            self.inline_action(&sc, call.action, &args, None, &mut body_out)?;
            // An action that reaches for the entry (its expiry, its counters) needs the map
            // element: no shortcut then.
            if body_out.text.contains(names.entry) {
                return Ok(None);
            }
            o.text.push_str(&body_out.text);
            o.close();
            o.line(format!("goto {};", names.done));
        }
        o.line("default:");
        o.line("    break;");
        o.close();
        Ok(Some(o.text))
    }
}
