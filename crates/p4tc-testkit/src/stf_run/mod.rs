//! Runs STF statements on a [`Target`] and reports what failed, line by line.
//!
//! # Semantics (as p4c's STF runners, with the differences noted)
//!
//! - `add`, `remove`, `setdefault` go through the target's object model. Tables, actions and
//!   key fields are found by name: P4TC's (`ingress/nh_table`), p4c's dotted one
//!   (`ingress.nh_table`), or the short one when unique; a key field by its control-plane name
//!   (`dstAddr`) or its expression (`hdr.ipv4.dstAddr`), either being a dotted suffix of the
//!   other. Key values are read by the field's match kind: `*` digits are a ternary mask or an
//!   LPM prefix, `V/LEN` a prefix, `V&&&M` a mask, `LO..HI` a range; fields left out match
//!   anything (exact ones must be given). STF priorities (the larger wins) become P4TC's
//!   (the lower wins) through [`Priority::from_larger_wins`]; exact and LPM tables ignore them.
//!   `remove TABLE KEYS` finds the entry by key; `remove all` flushes every table.
//! - `packet PORT HEX` runs one packet now; `expect PORT [HEX] [$]` expects a packet out of
//!   PORT. Per port, expectations and output packets pair up in order (the n-th `expect 1`
//!   with the n-th packet out of port 1), whichever is written first, as p4c's runners compare
//!   each port's capture with its expectations in order. A pair that does not match is a
//!   "wrong packet" failure with a diff; an output that no `expect` claims by the end of the
//!   file is an "unexpected packet"; an `expect` left unmet is a "missing packet". Packets
//!   passed to the host's stack are not outputs: they appear in the trace only.
//! - p4c sends every packet first and compares at the end; this runner pairs outputs with
//!   expectations as it goes, so `check_counter` and `no_packet` see the state at their line,
//!   and failures carry the lines of both the `expect` and the `packet`.
//! - `no_packet` (a note in p4c's runners) is a check here: every output so far must have been
//!   claimed by an `expect`; the rest are reported as unexpected at the `no_packet` line.
//! - `check_counter NAME(INDEX) [packets|bytes OP N]` reads an indirect counter's element, or,
//!   for `NAME($ID)`, the direct counter of the entry an `add ... = ID` created.
//! - `wait` (p4c: let the datapath finish) advances the target's clock by [`WAIT_STEP`], which
//!   also runs entry aging; our targets are synchronous, so nothing else is pending. On a
//!   target whose clock cannot move ([`Target::fixed_clock`]: the kernel), the run stops at
//!   the first `wait` and [`Report::stopped`] says where and why.
//!
//! A statement that fails (unknown table, rejected entry) is reported and the run goes on, so
//! one run shows every problem.

pub mod entries;
mod report;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use num_bigint::BigUint;
use p4tc_ir::arena::Handle;
use p4tc_ir::ir;
use p4tc_runtime::{DefaultKind, EntryInfo, EntrySpec, KeyMatch, ObjectModel, Priority};

pub use report::{hex_rows, pattern, Failure, FailureKind, Report, TraceEntry};

use crate::stf::{
    CountKind, CounterCheck, CounterIndex, Expectation, RemoveTarget, Statement, StatementKind,
};
use crate::target::Target;

/// How far `wait` moves the target's clock.
pub const WAIT_STEP: Duration = Duration::from_secs(1);

/// Runs `statements` (from [`crate::stf::parse`]) on `target`.
pub fn run(statements: &[Statement], target: &mut dyn Target) -> Report {
    let mut runner = Runner {
        target,
        report: Report::default(),
        expects: BTreeMap::new(),
        outputs: BTreeMap::new(),
        entry_ids: HashMap::new(),
    };
    for statement in statements {
        if let (StatementKind::Wait, Some(why)) = (&statement.kind, runner.target.fixed_clock()) {
            runner.report.stopped = Some((statement.line, why));
            break;
        }
        runner.statement(statement);
    }
    runner.finish()
}

/// An `expect` waiting for its packet.
struct PendingExpect {
    line: usize,
    pattern: Option<Expectation>,
}

/// An output packet waiting for its `expect`.
struct PendingOutput {
    packet_line: usize,
    bytes: Vec<u8>,
}

/// An entry an `add ... = ID` named, for `check_counter NAME($ID)`.
#[derive(Clone)]
struct NamedEntry {
    table: Handle<ir::Table>,
    key: Vec<KeyMatch>,
    priority: Option<Priority>,
}

struct Runner<'t> {
    target: &'t mut dyn Target,
    report: Report,
    /// Per port, expectations no output has met yet, oldest first.
    expects: BTreeMap<u32, VecDeque<PendingExpect>>,
    /// Per port, outputs no expectation has claimed yet, oldest first.
    outputs: BTreeMap<u32, VecDeque<PendingOutput>>,
    entry_ids: HashMap<String, NamedEntry>,
}

impl Runner<'_> {
    fn statement(&mut self, statement: &Statement) {
        let line = statement.line;
        let result = match &statement.kind {
            StatementKind::Add {
                table,
                priority,
                keys,
                action,
                id,
            } => self.add(table, *priority, keys, action, id.as_deref()),
            StatementKind::Remove(target) => self.remove(target),
            StatementKind::SetDefault { table, action } => self.set_default(table, action),
            StatementKind::Packet { port, data } => {
                self.packet(line, *port, data);
                Ok(())
            }
            StatementKind::Expect { port, pattern } => {
                self.expect(line, *port, pattern.clone());
                Ok(())
            }
            StatementKind::NoPacket => {
                self.unclaimed_outputs(Some(line));
                Ok(())
            }
            StatementKind::CheckCounter {
                counter,
                index,
                check,
            } => self.check_counter(line, counter, index, check.as_ref()),
            StatementKind::Wait => {
                self.target.advance_clock(WAIT_STEP);
                Ok(())
            }
        };
        if let Err(message) = result {
            self.fail(line, FailureKind::Statement(message));
        }
    }

    fn fail(&mut self, line: usize, kind: FailureKind) {
        self.report.failures.push(Failure { line, kind });
    }

    fn add(
        &mut self,
        table: &str,
        priority: Option<u32>,
        keys: &[crate::stf::Key],
        action: &crate::stf::ActionCall,
        id: Option<&str>,
    ) -> Result<(), String> {
        let pipeline = self.target.pipeline();
        let model = entries::table(&pipeline, table)?;
        let key = entries::key(model, keys).map_err(|e| format!("add to {}: {e}", model.dotted))?;
        let call =
            entries::action(model, action).map_err(|e| format!("add to {}: {e}", model.dotted))?;
        let mut spec = EntrySpec::new(key.clone(), Some(call));
        spec.priority = entries::priority(model, priority);
        let priority = spec.priority;
        self.target
            .control()
            .create_entry(model.handle, spec)
            .map_err(|e| format!("add to {}: {e}", model.dotted))?;
        if let Some(id) = id {
            self.entry_ids.insert(
                id.to_string(),
                NamedEntry {
                    table: model.handle,
                    key,
                    priority,
                },
            );
        }
        Ok(())
    }

    fn remove(&mut self, target: &RemoveTarget) -> Result<(), String> {
        let pipeline = self.target.pipeline();
        match target {
            RemoveTarget::All => {
                for table in &pipeline.tables {
                    self.target
                        .control()
                        .flush(table.handle)
                        .map_err(|e| format!("remove all: {}: {e}", table.dotted))?;
                }
                self.entry_ids.clear();
                Ok(())
            }
            RemoveTarget::Entry { table, keys } => {
                let model = entries::table(&pipeline, table)?;
                let key = entries::key(model, keys)
                    .map_err(|e| format!("remove from {}: {e}", model.dotted))?;
                let info = find_entry(self.target.control(), model.handle, &key, None)
                    .map_err(|e| format!("remove from {}: {e}", model.dotted))?;
                self.target
                    .control()
                    .delete_entry(model.handle, &key, info.spec.priority)
                    .map_err(|e| format!("remove from {}: {e}", model.dotted))?;
                self.entry_ids
                    .retain(|_, e| !(e.table == model.handle && e.key == key));
                Ok(())
            }
        }
    }

    fn set_default(&mut self, table: &str, action: &crate::stf::ActionCall) -> Result<(), String> {
        let pipeline = self.target.pipeline();
        let model = entries::table(&pipeline, table)?;
        let call = entries::action(model, action)
            .map_err(|e| format!("setdefault {}: {e}", model.dotted))?;
        self.target
            .control()
            .set_default_action(model.handle, DefaultKind::Miss, call)
            .map_err(|e| format!("setdefault {}: {e}", model.dotted))
    }

    fn packet(&mut self, line: usize, port: u32, data: &[u8]) {
        self.report.packets += 1;
        let delivery = match self.target.send(port, data) {
            Ok(d) => d,
            Err(e) => {
                self.fail(line, FailureKind::Target(e.0));
                return;
            }
        };
        for (out_port, bytes) in &delivery.outputs {
            let waiting = self.expects.get_mut(out_port).and_then(VecDeque::pop_front);
            match waiting {
                Some(expect) => self.compare(expect, *out_port, line, bytes.clone()),
                None => self
                    .outputs
                    .entry(*out_port)
                    .or_default()
                    .push_back(PendingOutput {
                        packet_line: line,
                        bytes: bytes.clone(),
                    }),
            }
        }
        self.report.trace.push(TraceEntry {
            line,
            port,
            input: data.to_vec(),
            outputs: delivery.outputs,
            to_host: delivery.to_host,
            parser_error: delivery.parser_error,
        });
    }

    fn expect(&mut self, line: usize, port: u32, pattern: Option<Expectation>) {
        self.report.expectations += 1;
        let expect = PendingExpect { line, pattern };
        match self.outputs.get_mut(&port).and_then(VecDeque::pop_front) {
            Some(output) => self.compare(expect, port, output.packet_line, output.bytes),
            None => self.expects.entry(port).or_default().push_back(expect),
        }
    }

    fn compare(&mut self, expect: PendingExpect, port: u32, packet_line: usize, bytes: Vec<u8>) {
        match expect.pattern {
            Some(pattern) if !pattern.matches(&bytes) => self.fail(
                expect.line,
                FailureKind::WrongPacket {
                    port,
                    packet_line,
                    expected: pattern,
                    actual: bytes,
                },
            ),
            _ => self.report.expectations_met += 1,
        }
    }

    /// Reports every output no `expect` claimed, at `at` (a `no_packet` line) or, at the end,
    /// at the line of the packet that sent it.
    fn unclaimed_outputs(&mut self, at: Option<usize>) {
        let outputs = std::mem::take(&mut self.outputs);
        let mut found: Vec<(usize, u32, PendingOutput)> = outputs
            .into_iter()
            .flat_map(|(port, queue)| queue.into_iter().map(move |o| (o.packet_line, port, o)))
            .collect();
        found.sort_by_key(|(line, port, _)| (*line, *port));
        for (packet_line, port, output) in found {
            self.fail(
                at.unwrap_or(packet_line),
                FailureKind::UnexpectedPacket {
                    port,
                    packet_line,
                    actual: output.bytes,
                },
            );
        }
    }

    fn check_counter(
        &mut self,
        line: usize,
        counter: &str,
        index: &CounterIndex,
        check: Option<&CounterCheck>,
    ) -> Result<(), String> {
        let pipeline = self.target.pipeline();
        let instance = pipeline.instance_by_name(counter);
        let (shown, packets, bytes) = match index {
            CounterIndex::Index(i) => {
                let instance =
                    instance.ok_or_else(|| format!("check_counter: no counter `{counter}`"))?;
                let i64_index = u64::try_from(i)
                    .map_err(|_| format!("check_counter {counter}: index {i} is too large"))?;
                let value = self
                    .target
                    .control()
                    .counter(instance.handle, i64_index)
                    .map_err(|e| format!("check_counter {counter}({i}): {e}"))?;
                (format!("{counter}({i})"), value.packets, value.bytes)
            }
            CounterIndex::Entry(written) => {
                let id = written.trim_start_matches('$');
                let shown = format!("{counter}({written})");
                let named = self.entry_ids.get(id).cloned().ok_or_else(|| {
                    format!("check_counter {shown}: no entry was added with `= {id}`")
                })?;
                let table = pipeline
                    .table(named.table)
                    .ok_or_else(|| format!("check_counter {shown}: the entry's table is gone"))?;
                if let Some(instance) = instance {
                    if table.direct_counter != Some(instance.handle) {
                        return Err(format!(
                            "check_counter {shown}: `{counter}` is not the direct counter of \
                             table {}",
                            table.dotted
                        ));
                    }
                }
                let info = find_entry(
                    self.target.control(),
                    named.table,
                    &named.key,
                    named.priority,
                )
                .map_err(|e| format!("check_counter {shown}: {e}"))?;
                let (packets, bytes) = info.counter.ok_or_else(|| {
                    format!(
                        "check_counter {shown}: table {} has no direct counter",
                        table.dotted
                    )
                })?;
                (shown, packets, bytes)
            }
        };
        let Some(check) = check else {
            self.report.counter_checks += 1;
            return Ok(());
        };
        let (what, actual) = match check.kind {
            CountKind::Packets => ("packets", packets),
            CountKind::Bytes => ("bytes", bytes),
        };
        if check.op.holds(&BigUint::from(actual), &check.value) {
            self.report.counter_checks += 1;
        } else {
            self.fail(
                line,
                FailureKind::Counter {
                    counter: shown,
                    check: format!("{what} {} {}", op_text(check), check.value),
                    actual,
                },
            );
        }
        Ok(())
    }

    /// The packet sent last before `line`, else the first one after it.
    fn nearest_packet(&self, line: usize) -> Option<&TraceEntry> {
        let trace = &self.report.trace;
        trace
            .iter()
            .rev()
            .find(|t| t.line < line)
            .or_else(|| trace.iter().find(|t| t.line > line))
    }

    fn finish(mut self) -> Report {
        // Stopped early: an output may belong to an `expect` after the stop; it is not checked.
        if self.report.stopped.is_none() {
            self.unclaimed_outputs(None);
        }
        let expects = std::mem::take(&mut self.expects);
        for (port, queue) in expects {
            for expect in queue {
                let hint = self.nearest_packet(expect.line).map(TraceEntry::fate);
                self.fail(
                    expect.line,
                    FailureKind::MissingPacket {
                        port,
                        expected: expect.pattern,
                        hint,
                    },
                );
            }
        }
        // Reported in file order, whatever order they were found in.
        self.report.failures.sort_by_key(|f| f.line);
        self.report
    }
}

fn op_text(check: &CounterCheck) -> &'static str {
    use crate::stf::CmpOp;
    match check.op {
        CmpOp::Eq => "==",
        CmpOp::Ne => "!=",
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
    }
}

/// The entry of `table` with this key. With a priority, or in a table without priorities, the
/// object model finds it directly; otherwise (STF's `remove` gives no priority, and an entry
/// added without one got whatever the table allocated) it is the one entry with that key.
fn find_entry(
    control: &mut dyn ObjectModel,
    table: Handle<ir::Table>,
    key: &[KeyMatch],
    priority: Option<Priority>,
) -> Result<EntryInfo, String> {
    if priority.is_some() {
        return control
            .get_entry(table, key, priority)
            .map_err(|e| e.to_string());
    }
    if let Ok(info) = control.get_entry(table, key, None) {
        return Ok(info);
    }
    let all = control.dump(table).map_err(|e| e.to_string())?;
    let mut same_key = all.into_iter().filter(|e| e.spec.key == key);
    match (same_key.next(), same_key.next()) {
        (Some(info), None) => Ok(info),
        (None, _) => Err("no entry with this key".into()),
        (Some(_), Some(_)) => Err("several entries have this key (at different priorities)".into()),
    }
}

#[cfg(test)]
mod tests;
