//! Running parsed commands through the [`ObjectModel`] trait (never a backend's specifics),
//! into printable [`Output`].
//!
//! Batches: each entry is applied on its own, in order; one failing does not stop the others,
//! and the output lists every failure with its entry index (from 0) and error. A single entry
//! (no `entry` word) that fails is the command's error. A flush with a filter deletes the
//! matching entries one by one the same way (const entries are left alone, as a plain flush
//! leaves them).

use std::time::Duration;

use num_bigint::BigUint;
use num_traits::Zero;

use super::command::{parse_line, Command, CommandKind, ExternOp};
use super::externs::{param_type, view_of};
use super::format::{
    action_view, entry_view, format_value, key_text, BatchFailure, CounterElement, Output,
    ParamView, RegisterElement,
};
use super::help::describe;
use super::{CtlError, DevResolver};
use crate::entry::{DefaultKind, EntrySpec, KeyMatch, Priority};
use crate::error::RuntimeError;
use crate::model::{PipelineModel, TableModel};
use crate::object_model::ObjectModel;

type TableHandle = p4tc_ir::arena::Handle<p4tc_ir::ir::Table>;

/// The most elements a command over a whole extern (`get`/`reset` without an index) visits.
const MAX_ELEMENTS: u64 = 1 << 20;

/// A command that could not be parsed, or that the object model refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    /// The command is wrong.
    #[error(transparent)]
    Parse(#[from] CtlError),
    /// The object model refused it.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
}

/// Parses `text` ([`parse_line`]) and runs it ([`execute`]).
pub fn run_line(
    om: &mut dyn ObjectModel,
    model: &PipelineModel,
    text: &str,
    resolver: DevResolver<'_>,
    now: Duration,
) -> Result<Output, ExecError> {
    let command = parse_line(text, model, resolver)?;
    Ok(execute(om, model, &command, now)?)
}

fn table_of(
    model: &PipelineModel,
    handle: p4tc_ir::arena::Handle<p4tc_ir::ir::Table>,
) -> Result<&TableModel, RuntimeError> {
    model.table(handle).ok_or_else(|| RuntimeError::NotFound {
        what: format!("table #{}", handle.index()),
    })
}

fn table_path(model: &PipelineModel, table: &TableModel) -> String {
    format!("{}/table/{}", model.name, table.name)
}

/// Runs `command` (parsed against `model`) on `om`. `now` is the time on the backend's clock,
/// for `msecs_since` (filters and printed entries).
pub fn execute(
    om: &mut dyn ObjectModel,
    model: &PipelineModel,
    command: &Command,
    now: Duration,
) -> Result<Output, RuntimeError> {
    match &command.kind {
        CommandKind::WriteEntries {
            table,
            update,
            entries,
            batch,
        } => {
            table_of(model, *table)?;
            let results = if *update {
                entries
                    .iter()
                    .map(|entry| om.update_entry(*table, merged_update(&*om, *table, entry)))
                    .collect()
            } else if *batch {
                om.create_entries(*table, entries.clone())
            } else {
                entries
                    .iter()
                    .map(|entry| om.create_entry(*table, entry.clone()))
                    .collect()
            };
            write_output(model, *table, *update, *batch, entries, results)
        }
        CommandKind::DeleteEntries {
            table,
            entries,
            batch,
        } => {
            let t = table_of(model, *table)?;
            let mut applied = 0;
            let mut failures = Vec::new();
            for (index, (key, priority)) in entries.iter().enumerate() {
                match om.delete_entry(*table, key, *priority) {
                    Ok(()) => applied += 1,
                    Err(e) if !*batch => return Err(e),
                    Err(e) => failures.push(BatchFailure {
                        index,
                        key: key_text(t, key, priority.map(|p| p.0)),
                        error: e.to_string(),
                    }),
                }
            }
            Ok(batch_or_done(
                model,
                t,
                "delete",
                *batch,
                applied,
                failures,
                entries.first().map(|(k, p)| (k.as_slice(), *p)),
            ))
        }
        CommandKind::GetEntry {
            table,
            key,
            priority,
        } => {
            let t = table_of(model, *table)?;
            let entry = om.get_entry(*table, key, *priority)?;
            Ok(Output::Entries {
                table: table_path(model, t),
                entries: vec![entry_view(t, &entry, now)],
            })
        }
        CommandKind::Dump { table, filter } => {
            let t = table_of(model, *table)?;
            let entries = om
                .dump(*table)?
                .iter()
                .filter(|e| filter.as_ref().is_none_or(|f| f.matches(e, now)))
                .map(|e| entry_view(t, e, now))
                .collect();
            Ok(Output::Entries {
                table: table_path(model, t),
                entries,
            })
        }
        CommandKind::Flush {
            table,
            filter: None,
        } => {
            let t = table_of(model, *table)?;
            let count = om.flush(*table)?;
            Ok(Output::Done {
                message: format!(
                    "flushed table {}: {count} {} deleted",
                    table_path(model, t),
                    if count == 1 { "entry" } else { "entries" }
                ),
            })
        }
        CommandKind::Flush {
            table,
            filter: Some(filter),
        } => {
            let t = table_of(model, *table)?;
            let selected: Vec<_> = om
                .dump(*table)?
                .into_iter()
                .filter(|e| !e.is_const && filter.matches(e, now))
                .collect();
            let mut applied = 0;
            let mut failures = Vec::new();
            for (index, entry) in selected.iter().enumerate() {
                match om.delete_entry(*table, &entry.spec.key, entry.spec.priority) {
                    Ok(()) => applied += 1,
                    Err(e) => failures.push(BatchFailure {
                        index,
                        key: key_text(t, &entry.spec.key, entry.spec.priority.map(|p| p.0)),
                        error: e.to_string(),
                    }),
                }
            }
            Ok(Output::Batch {
                table: table_path(model, t),
                operation: "flush".into(),
                applied,
                failures,
            })
        }
        CommandKind::GetDefault { table, which } => {
            let t = table_of(model, *table)?;
            let action = om.default_action(*table, *which)?;
            Ok(Output::DefaultAction {
                table: table_path(model, t),
                which: which_name(*which).into(),
                action: action.as_ref().map(|c| action_view(t, c)),
            })
        }
        CommandKind::SetDefault { table, which, call } => {
            let t = table_of(model, *table)?;
            om.set_default_action(*table, *which, call.clone())?;
            Ok(Output::Done {
                message: format!(
                    "table {} {} set to {}",
                    table_path(model, t),
                    which_name(*which),
                    action_view(t, call).name
                ),
            })
        }
        CommandKind::TimerProfiles => Ok(Output::TimerProfiles {
            profiles_ms: om
                .timer_profiles()
                .into_iter()
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
                .collect(),
        }),
        CommandKind::SetTimerProfile { profile, after } => {
            om.set_timer_profile(*profile, *after)?;
            Ok(Output::Done {
                message: format!(
                    "timer profile {profile} ages entries after {} ms",
                    after.as_millis()
                ),
            })
        }
        CommandKind::Extern { instance, op } => extern_op(om, model, *instance, op),
        CommandKind::Help => Ok(Output::Help {
            text: describe(model),
        }),
    }
}

/// What an `update` writes: what the command gives, and for what it leaves out (the action;
/// `dynamic`/`aging`/`profile_id`) the entry's current values, so `update ... aging 5000`
/// changes the aging alone and `update ... action A` keeps a dynamic entry dynamic.
/// (Permissions left out are kept by the object model itself.)
fn merged_update(om: &dyn ObjectModel, table: TableHandle, entry: &EntrySpec) -> EntrySpec {
    let mut merged = entry.clone();
    if let Ok(current) = om.get_entry(table, &entry.key, entry.priority) {
        if merged.action.is_none() {
            merged.action = current.spec.action;
        }
        if !merged.dynamic && merged.aging.is_none() {
            merged.dynamic = current.spec.dynamic;
            merged.aging = current.spec.aging;
        }
    }
    merged
}

fn which_name(which: DefaultKind) -> &'static str {
    match which {
        DefaultKind::Hit => "default_hit_action",
        DefaultKind::Miss => "default_miss_action",
    }
}

/// A write command's output from its entries' results.
fn write_output(
    model: &PipelineModel,
    table: TableHandle,
    update: bool,
    batch: bool,
    entries: &[EntrySpec],
    results: Vec<Result<(), RuntimeError>>,
) -> Result<Output, RuntimeError> {
    let t = table_of(model, table)?;
    let verb = if update { "update" } else { "create" };
    let mut applied = 0;
    let mut failures = Vec::new();
    for (index, (entry, result)) in entries.iter().zip(results).enumerate() {
        match result {
            Ok(()) => applied += 1,
            Err(e) if !batch => return Err(e),
            Err(e) => failures.push(BatchFailure {
                index,
                key: key_text(t, &entry.key, entry.priority.map(|p| p.0)),
                error: e.to_string(),
            }),
        }
    }
    Ok(batch_or_done(
        model,
        t,
        verb,
        batch,
        applied,
        failures,
        entries.first().map(|e| (e.key.as_slice(), e.priority)),
    ))
}

/// The most entries [`execute_all`] hands the object model in one `create_entries` call. Large:
/// a backend may pay a fixed cost per call that grows with the table (the kernel's LPM
/// batches list the trie's keys once per call), and a million entries take about a second.
pub const CREATE_CHUNK: usize = 1 << 20;

/// Runs `commands` in order, as [`execute`] runs each, with one difference in how: runs of
/// consecutive creates on one table (single entries and batches alike) go to the object
/// model together, up to [`CREATE_CHUNK`] entries per
/// [`create_entries`](ObjectModel::create_entries) call, so a backend can write them many
/// per system call (a bulk file of a million `create` lines). Outcomes are the same: each
/// entry all or nothing, refused or not as it would be one by one. `progress` is told how
/// many commands are done after each step. Returns each command's result, in order.
pub fn execute_all(
    om: &mut dyn ObjectModel,
    model: &PipelineModel,
    commands: &[Command],
    now: Duration,
    progress: &mut dyn FnMut(usize),
) -> Vec<Result<Output, RuntimeError>> {
    let mut out = Vec::with_capacity(commands.len());
    let mut i = 0;
    while i < commands.len() {
        let Some((table, first)) = create_on(&commands[i]) else {
            out.push(execute(om, model, &commands[i], now));
            i += 1;
            progress(i);
            continue;
        };
        let (end, total) = create_run(commands, i, table, first);
        let mut specs = Vec::with_capacity(total);
        for c in &commands[i..end] {
            if let CommandKind::WriteEntries { entries, .. } = &c.kind {
                specs.extend(entries.iter().cloned());
            }
        }
        let mut results = if table_of(model, table).is_ok() {
            om.create_entries(table, specs).into_iter()
        } else {
            Vec::new().into_iter()
        };
        for c in &commands[i..end] {
            let CommandKind::WriteEntries { entries, batch, .. } = &c.kind else {
                continue;
            };
            let mine: Vec<_> = results.by_ref().take(entries.len()).collect();
            out.push(if mine.len() == entries.len() {
                write_output(model, table, false, *batch, entries, mine)
            } else {
                short(model, table)
            });
        }
        i = end;
        progress(i);
    }
    out
}

/// [`execute_all`] on commands it may take apart, for bulk files: each command's result with
/// where the command starts, in order.
///
/// The entries of single creates (no `entry` word) move into the object model instead of being
/// copied. With `quiet`, a single create that succeeds gives no result at all (its
/// [`Output::Done`] message, naming the key, would print nothing a bulk file's reader wants,
/// and a million results are a lot of memory to fill); every other output, and every error, is
/// what [`execute_all`] gives, in order.
pub fn execute_all_owned(
    om: &mut dyn ObjectModel,
    model: &PipelineModel,
    mut commands: Vec<Command>,
    now: Duration,
    quiet: bool,
    progress: &mut dyn FnMut(usize),
) -> Vec<(super::Pos, Result<Output, RuntimeError>)> {
    // Whose entries move: a quiet single create needs neither its key (for a message) nor
    // the entry (a failure is the command's error, which names the key itself).
    let moves = |c: &Command| {
        quiet
            && matches!(
                c.kind,
                CommandKind::WriteEntries {
                    update: false,
                    batch: false,
                    ..
                }
            )
    };
    let mut out = Vec::with_capacity(commands.len());
    let mut i = 0;
    while i < commands.len() {
        let Some((table, first)) = create_on(&commands[i]) else {
            out.push((commands[i].at, execute(om, model, &commands[i], now)));
            i += 1;
            progress(i);
            continue;
        };
        let (end, total) = create_run(&commands, i, table, first);
        let mut specs = Vec::with_capacity(total);
        // How many entries each command of the run gave.
        let mut counts = Vec::with_capacity(end - i);
        for c in &mut commands[i..end] {
            let moved = moves(c);
            if let CommandKind::WriteEntries { entries, .. } = &mut c.kind {
                counts.push(entries.len());
                if moved {
                    // Taken, not appended: the command's vector is freed now, while it is
                    // in the cache, instead of with the million others at the end.
                    specs.extend(std::mem::take(entries));
                } else {
                    specs.extend(entries.iter().cloned());
                }
            }
        }
        let mut results = if table_of(model, table).is_ok() {
            om.create_entries(table, specs).into_iter()
        } else {
            Vec::new().into_iter()
        };
        for (c, count) in commands[i..end].iter().zip(counts) {
            let CommandKind::WriteEntries { entries, batch, .. } = &c.kind else {
                continue;
            };
            // A single create's one result, without a vector of it.
            if moves(c) && count == 1 {
                let result = match results.next() {
                    Some(Ok(())) => continue,
                    Some(Err(e)) => Err(e),
                    None => short(model, table),
                };
                out.push((c.at, result));
                continue;
            }
            let mine: Vec<_> = results.by_ref().take(count).collect();
            let result = if mine.len() != count {
                // An unknown table (no call was made), or a backend that answered short.
                table_of(model, table).and_then(|_| {
                    Err(RuntimeError::Invalid(
                        "the object model gave fewer results than entries".into(),
                    ))
                })
            } else if moves(c) {
                match mine.into_iter().find_map(Result::err) {
                    Some(e) => Err(e),
                    None => Ok(Output::Done {
                        message: String::new(),
                    }),
                }
            } else {
                write_output(model, table, false, *batch, entries, mine)
            };
            out.push((c.at, result));
        }
        i = end;
        progress(i);
    }
    out
}

/// The result of a command whose entries got no results: the table is unknown (no call was
/// made), or the object model answered short.
/// A create command's table and how many entries it gives (None: not a create).
fn create_on(c: &Command) -> Option<(TableHandle, usize)> {
    match &c.kind {
        CommandKind::WriteEntries {
            table,
            update: false,
            entries,
            ..
        } => Some((*table, entries.len())),
        _ => None,
    }
}

/// The run of consecutive creates on `table` that starts at `commands[i]` (which gives
/// `first` entries), within [`CREATE_CHUNK`] entries and at least one command: where it
/// ends, and how many entries it gives.
fn create_run(commands: &[Command], i: usize, table: TableHandle, first: usize) -> (usize, usize) {
    let mut end = i + 1;
    let mut total = first;
    while let Some((t, n)) = commands.get(end).and_then(create_on) {
        if t != table || total + n > CREATE_CHUNK {
            break;
        }
        total += n;
        end += 1;
    }
    (end, total)
}

/// An unknown table's error (no call was made), or a backend that answered short.
fn short(model: &PipelineModel, table: TableHandle) -> Result<Output, RuntimeError> {
    table_of(model, table).and_then(|_| {
        Err(RuntimeError::Invalid(
            "the object model gave fewer results than entries".into(),
        ))
    })
}

fn batch_or_done(
    model: &PipelineModel,
    table: &TableModel,
    verb: &str,
    batch: bool,
    applied: usize,
    failures: Vec<BatchFailure>,
    first: Option<(&[KeyMatch], Option<Priority>)>,
) -> Output {
    if batch {
        return Output::Batch {
            table: table_path(model, table),
            operation: verb.into(),
            applied,
            failures,
        };
    }
    let key = first
        .map(|(k, p)| key_text(table, k, p.map(|p| p.0)))
        .unwrap_or_default();
    let past = match verb {
        "create" => "created",
        "update" => "updated",
        _ => "deleted",
    };
    Output::Done {
        message: format!("{past} entry {key} in table {}", table_path(model, table)),
    }
}

/// The indexes an extern operation covers.
fn indexes(
    model: &PipelineModel,
    instance: p4tc_ir::arena::Handle<p4tc_ir::ir::Instance>,
    name: &str,
    index: Option<u64>,
) -> Result<std::ops::Range<u64>, RuntimeError> {
    if let Some(i) = index {
        return Ok(i..i.saturating_add(1));
    }
    match model.instance(instance).and_then(|i| i.size) {
        Some(size) if size <= MAX_ELEMENTS => Ok(0..size),
        Some(size) => Err(RuntimeError::Invalid(format!(
            "{name} has {size} elements, too many to go through: give `tc_key index N`"
        ))),
        None => Err(RuntimeError::Invalid(format!(
            "{name} has no known size: give `tc_key index N`"
        ))),
    }
}

fn extern_op(
    om: &mut dyn ObjectModel,
    model: &PipelineModel,
    instance: p4tc_ir::arena::Handle<p4tc_ir::ir::Instance>,
    op: &ExternOp,
) -> Result<Output, RuntimeError> {
    let (ext, view) = view_of(model, instance).ok_or_else(|| RuntimeError::NotFound {
        what: format!("extern instance #{}", instance.index()),
    })?;
    let name = view.inst_name.clone();
    let label = format!("{} {name}", ext.name);
    let data: Vec<_> = view.params.iter().filter(|p| p.attr == "param").collect();
    match op {
        ExternOp::ReadCounter { index } => {
            let mut elements = Vec::new();
            for i in indexes(model, instance, &label, *index)? {
                let v = om.counter(instance, i)?;
                if index.is_some() || v.packets != 0 || v.bytes != 0 {
                    elements.push(CounterElement {
                        index: i,
                        packets: v.packets,
                        bytes: v.bytes,
                    });
                }
            }
            Ok(Output::Counter {
                instance: name,
                elements,
            })
        }
        ExternOp::ResetCounter { index } => {
            let range = indexes(model, instance, &label, *index)?;
            let count = range.end - range.start;
            for i in range {
                om.reset_counter(instance, i)?;
            }
            Ok(Output::Done {
                message: match index {
                    Some(i) => format!("{label} index {i} reset"),
                    None => format!("{label}: {count} elements reset"),
                },
            })
        }
        ExternOp::ReadRegister { index } => {
            let mut elements = Vec::new();
            for i in indexes(model, instance, &label, *index)? {
                let values = om.register(instance, i)?;
                if index.is_none() && values.iter().all(Zero::is_zero) {
                    continue;
                }
                let fields = values
                    .iter()
                    .enumerate()
                    .map(|(f, v)| match data.get(f) {
                        Some(p) => ParamView {
                            name: p.name.clone(),
                            ty: p.ty.clone(),
                            value: format_value(v, param_type(p)),
                        },
                        None => ParamView {
                            name: format!("field{f}"),
                            ty: "bit".into(),
                            value: v.to_string(),
                        },
                    })
                    .collect();
                elements.push(RegisterElement { index: i, fields });
            }
            Ok(Output::Register {
                instance: name,
                elements,
            })
        }
        ExternOp::WriteRegister { index, fields } => {
            let range = indexes(model, instance, &label, *index)?;
            let count = range.end - range.start;
            for i in range {
                let mut values = om.register(instance, i)?;
                if values.len() < data.len() {
                    values.resize(data.len(), BigUint::default());
                }
                for (f, v) in fields {
                    if let Some(slot) = values.get_mut(*f) {
                        *slot = v.clone();
                    }
                }
                om.set_register(instance, i, &values)?;
            }
            Ok(Output::Done {
                message: match index {
                    Some(i) => format!("{label} index {i} written"),
                    None => format!("{label}: {count} elements written"),
                },
            })
        }
        ExternOp::SetMeter { index, config } => {
            let range = indexes(model, instance, &label, *index)?;
            let count = range.end - range.start;
            for i in range {
                om.set_meter(instance, i, *config)?;
            }
            Ok(Output::Done {
                message: format!(
                    "{label}{}: cir {} cbs {} pir {} pbs {}",
                    match index {
                        Some(i) => format!(" index {i}"),
                        None => format!(" ({count} elements)"),
                    },
                    config.cir,
                    config.cbs,
                    config.pir,
                    config.pbs
                ),
            })
        }
    }
}

#[cfg(test)]
mod batch_tests {
    use std::sync::Arc;
    use std::time::Duration;

    use num_bigint::BigUint;

    use super::super::tests::model;
    use super::*;
    use crate::clock::ManualClock;
    use crate::entry::{ActionCall, EntryInfo};
    use crate::event::Event;
    use crate::memory::MemoryBackend;
    use crate::object_model::{CounterValue, MeterConfig};

    /// `MemoryBackend`, counting the `create_entries` calls and their sizes.
    struct Counting {
        inner: MemoryBackend,
        batches: Vec<usize>,
    }

    impl ObjectModel for Counting {
        fn create_entry(&mut self, t: TableHandle, e: EntrySpec) -> Result<(), RuntimeError> {
            self.inner.create_entry(t, e)
        }
        fn create_entries(
            &mut self,
            t: TableHandle,
            entries: Vec<EntrySpec>,
        ) -> Vec<Result<(), RuntimeError>> {
            self.batches.push(entries.len());
            self.inner.create_entries(t, entries)
        }
        fn update_entry(&mut self, t: TableHandle, e: EntrySpec) -> Result<(), RuntimeError> {
            self.inner.update_entry(t, e)
        }
        fn delete_entry(
            &mut self,
            t: TableHandle,
            key: &[KeyMatch],
            p: Option<Priority>,
        ) -> Result<(), RuntimeError> {
            self.inner.delete_entry(t, key, p)
        }
        fn get_entry(
            &self,
            t: TableHandle,
            key: &[KeyMatch],
            p: Option<Priority>,
        ) -> Result<EntryInfo, RuntimeError> {
            self.inner.get_entry(t, key, p)
        }
        fn dump(&self, t: TableHandle) -> Result<Vec<EntryInfo>, RuntimeError> {
            self.inner.dump(t)
        }
        fn flush(&mut self, t: TableHandle) -> Result<usize, RuntimeError> {
            self.inner.flush(t)
        }
        fn default_action(
            &self,
            t: TableHandle,
            w: DefaultKind,
        ) -> Result<Option<ActionCall>, RuntimeError> {
            self.inner.default_action(t, w)
        }
        fn set_default_action(
            &mut self,
            t: TableHandle,
            w: DefaultKind,
            c: ActionCall,
        ) -> Result<(), RuntimeError> {
            self.inner.set_default_action(t, w, c)
        }
        fn counter(
            &self,
            c: p4tc_ir::arena::Handle<p4tc_ir::ir::Instance>,
            i: u64,
        ) -> Result<CounterValue, RuntimeError> {
            self.inner.counter(c, i)
        }
        fn reset_counter(
            &mut self,
            c: p4tc_ir::arena::Handle<p4tc_ir::ir::Instance>,
            i: u64,
        ) -> Result<(), RuntimeError> {
            self.inner.reset_counter(c, i)
        }
        fn register(
            &self,
            r: p4tc_ir::arena::Handle<p4tc_ir::ir::Instance>,
            i: u64,
        ) -> Result<Vec<BigUint>, RuntimeError> {
            self.inner.register(r, i)
        }
        fn set_register(
            &mut self,
            r: p4tc_ir::arena::Handle<p4tc_ir::ir::Instance>,
            i: u64,
            v: &[BigUint],
        ) -> Result<(), RuntimeError> {
            self.inner.set_register(r, i, v)
        }
        fn set_meter(
            &mut self,
            m: p4tc_ir::arena::Handle<p4tc_ir::ir::Instance>,
            i: u64,
            c: MeterConfig,
        ) -> Result<(), RuntimeError> {
            self.inner.set_meter(m, i, c)
        }
        fn timer_profiles(&self) -> Vec<Duration> {
            self.inner.timer_profiles()
        }
        fn set_timer_profile(&mut self, p: u32, a: Duration) -> Result<(), RuntimeError> {
            self.inner.set_timer_profile(p, a)
        }
        fn take_events(&mut self) -> Vec<Event> {
            self.inner.take_events()
        }
    }

    /// Runs of creates on one table reach the object model as one batch each (broken by any
    /// other command), and every command's output is what `execute` gives it one by one.
    #[test]
    fn runs_of_creates_become_batches_with_the_same_outputs() {
        let m = model("simple_l3");
        let fresh =
            || MemoryBackend::new(Arc::clone(&m), Arc::new(ManualClock::new())).expect("backend");
        let text = "\
create table/ingress/nh_table dstAddr 10.0.0.1 action drop
create table/ingress/nh_table dstAddr 10.0.0.1 action drop
create table/ingress/nh_table entry dstAddr 10.0.0.2 action drop entry dstAddr 10.0.0.1 action drop
create table/ingress/nh_table dstAddr 10.0.0.3 action drop
get table/ingress/nh_table dstAddr 10.0.0.3
create table/ingress/nh_table dstAddr 10.0.0.4 action drop
create table/ingress/nh_table dstAddr 10.0.0.4 action drop
";
        let commands =
            super::super::parse_file(text, &m, &super::super::numbers_only).expect("parses");
        let mut one = fresh();
        let want: Vec<_> = commands
            .iter()
            .map(|c| execute(&mut one, &m, c, Duration::ZERO))
            .collect();
        let mut batched = Counting {
            inner: fresh(),
            batches: Vec::new(),
        };
        let mut seen = Vec::new();
        let got = execute_all(&mut batched, &m, &commands, Duration::ZERO, &mut |n| {
            seen.push(n)
        });
        assert_eq!(got, want);
        assert_eq!(batched.batches, [5, 2], "two runs: lines 1-4, then 6-7");
        assert_eq!(seen, [4, 5, 7], "progress after each run and command");
        assert!(matches!(got[1], Err(RuntimeError::Exists { .. })));
        let table = m.tables[0].handle;
        assert_eq!(
            batched.inner.dump(table).expect("dump").len(),
            one.dump(table).expect("dump").len()
        );
    }

    /// `execute_all_owned` gives what `execute_all` gives, each with its command's place;
    /// quiet, single creates that succeeded give nothing, and nothing else changes (failures,
    /// batches, other commands).
    #[test]
    fn owned_run_gives_the_same_results() {
        let m = model("simple_l3");
        let fresh =
            || MemoryBackend::new(Arc::clone(&m), Arc::new(ManualClock::new())).expect("backend");
        let text = "\
create table/ingress/nh_table dstAddr 10.0.0.1 action drop
create table/ingress/nh_table dstAddr 10.0.0.1 action drop
create table/ingress/nh_table entry dstAddr 10.0.0.2 action drop entry dstAddr 10.0.0.1 action drop
get table/ingress/nh_table dstAddr 10.0.0.2
create table/ingress/nh_table dstAddr 10.0.0.4 action drop
";
        let commands =
            super::super::parse_file(text, &m, &super::super::numbers_only).expect("parses");
        let want = execute_all(&mut fresh(), &m, &commands, Duration::ZERO, &mut |_| {});
        let at: Vec<_> = commands.iter().map(|c| c.at).collect();
        for quiet in [false, true] {
            let mut seen = Vec::new();
            let got = execute_all_owned(
                &mut fresh(),
                &m,
                commands.clone(),
                Duration::ZERO,
                quiet,
                &mut |n| seen.push(n),
            );
            assert_eq!(seen, [3, 4, 5]);
            // Quiet: commands 0 and 4 (single creates that succeed) give nothing.
            let kept: Vec<usize> = if quiet {
                vec![1, 2, 3]
            } else {
                (0..5).collect()
            };
            let places: Vec<_> = got.iter().map(|(p, _)| *p).collect();
            assert_eq!(places, kept.iter().map(|&i| at[i]).collect::<Vec<_>>());
            for ((_, g), &i) in got.into_iter().zip(&kept) {
                assert_eq!(g, want[i], "command {i}, quiet {quiet}");
            }
        }
        assert!(matches!(want[1], Err(RuntimeError::Exists { .. })));
        assert!(matches!(&want[2], Ok(Output::Batch { failures, .. }) if failures.len() == 1));
    }
}
