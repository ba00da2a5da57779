//! `Write`: every update is translated first (nothing is applied while any can still be
//! refused for its form), then applied in order through the object model with the
//! request's atomicity:
//! - `CONTINUE_ON_ERROR`: each update on its own; the failed ones are reported.
//! - `ROLLBACK_ON_ERROR`: at the first refusal, the updates applied so far are undone in
//!   reverse order (an insert by a delete, a modify or delete by writing the old entry back,
//!   a default action, register or meter by its old value); the others are reported
//!   `ABORTED`.
//! - `DATAPLANE_ATOMIC`: the same, on a backend whose datapath cannot run while the server
//!   holds it (the in-memory one); on the kernel's, where packets keep flowing between two
//!   map writes, it is refused with `UNIMPLEMENTED` rather than promised falsely.
//!
//! Counter resets are not undone (the old counts cannot be written back).

use std::time::Duration;

use num_bigint::BigUint;
use p4runtime_proto::p4::v1 as p4v1;
use p4tc_ir::arena::Handle;
use p4tc_ir::ir;
use p4tc_runtime::{
    ActionCall, Aging, DefaultKind, EntrySpec, KeyMatch, MeterConfig, ObjectModel, Priority,
};
use tonic::Code;

use super::errors::{write_status, Failure};
use super::schema::{InstanceInfo, InstanceKind, Schema};
use super::state::{DigestConfig, Installed};
use super::translate;
use super::values::decode;

use p4v1::entity::Entity;
use p4v1::update::Type as UpdateType;
use p4v1::write_request::Atomicity;

/// One translated update.
#[derive(Clone, Debug)]
pub enum Op {
    /// Create an entry.
    Insert {
        /// The table.
        table: Handle<ir::Table>,
        /// The entry.
        spec: EntrySpec,
        /// Its idle timeout.
        idle: Option<Duration>,
    },
    /// Replace an entry's action (and idle timeout).
    Modify {
        /// The table.
        table: Handle<ir::Table>,
        /// The entry.
        spec: EntrySpec,
        /// Its idle timeout.
        idle: Option<Duration>,
    },
    /// Delete an entry.
    Delete {
        /// The table.
        table: Handle<ir::Table>,
        /// Its key.
        key: Vec<KeyMatch>,
        /// Its priority.
        priority: Option<Priority>,
    },
    /// Set a table's default (miss) action.
    SetDefault {
        /// The table.
        table: Handle<ir::Table>,
        /// The action.
        call: ActionCall,
    },
    /// Reset counter elements to zero.
    ResetCounter {
        /// The counter.
        counter: Handle<ir::Instance>,
        /// Its elements.
        indices: Vec<u64>,
    },
    /// Configure meter elements.
    Meter {
        /// P4Info id.
        id: u32,
        /// The meter.
        meter: Handle<ir::Instance>,
        /// Its elements.
        indices: Vec<u64>,
        /// The configuration.
        config: MeterConfig,
    },
    /// Configure an entry's direct meter.
    DirectMeter {
        /// The table.
        table: Handle<ir::Table>,
        /// The entry's key.
        key: Vec<KeyMatch>,
        /// Its priority.
        priority: Option<Priority>,
        /// The configuration.
        config: MeterConfig,
    },
    /// Write register elements.
    Register {
        /// The register.
        register: Handle<ir::Instance>,
        /// Its elements.
        indices: Vec<u64>,
        /// The value, per field.
        value: Vec<BigUint>,
    },
    /// Configure (or stop) a digest's lists.
    Digest {
        /// P4Info id.
        id: u32,
        /// The configuration; `None` stops it.
        config: Option<DigestConfig>,
    },
}

/// How to undo an applied op.
enum Undo {
    Delete(Handle<ir::Table>, Vec<KeyMatch>, Option<Priority>),
    Restore(Handle<ir::Table>, EntrySpec),
    Create(Handle<ir::Table>, EntrySpec),
    Default(Handle<ir::Table>, ActionCall),
    Register(Handle<ir::Instance>, Vec<(u64, Vec<BigUint>)>),
    Meters(u32, Handle<ir::Instance>, Vec<(u64, Option<MeterConfig>)>),
    Digest(u32, Option<DigestConfig>),
    Nothing,
}

fn indices(inst: &InstanceInfo, index: Option<&p4v1::Index>) -> Result<Vec<u64>, Failure> {
    let size = inst.size.unwrap_or(0);
    match index {
        Some(i) => {
            let n = u64::try_from(i.index)
                .ok()
                .filter(|n| *n < size)
                .ok_or_else(|| {
                    Failure::new(
                        Code::OutOfRange,
                        format!("{}: index {} is outside 0..{size}", inst.name, i.index),
                    )
                })?;
            Ok(vec![n])
        }
        None => Ok((0..size).collect()),
    }
}

fn instance<'s>(
    schema: &'s Schema,
    id: u32,
    kind: InstanceKind,
    what: &str,
) -> Result<&'s InstanceInfo, Failure> {
    match schema.instances.get(&id) {
        Some(i) if i.kind == kind => Ok(i),
        Some(i) => Err(Failure::invalid(format!(
            "id {id:#x} is {} `{}`, not a {what}",
            kind_name(i.kind),
            i.name
        ))),
        None => Err(Failure::not_found(format!("no {what} with id {id:#x}"))),
    }
}

fn kind_name(kind: InstanceKind) -> &'static str {
    match kind {
        InstanceKind::Counter => "counter",
        InstanceKind::Meter => "meter",
        InstanceKind::Register => "register",
        InstanceKind::Digest => "digest",
        InstanceKind::DirectCounter => "direct counter",
        InstanceKind::DirectMeter => "direct meter",
    }
}

fn meter_config(c: Option<&p4v1::MeterConfig>) -> Result<MeterConfig, Failure> {
    let Some(c) = c else {
        return Ok(MeterConfig::default());
    };
    let get = |v: i64, name: &str| {
        u64::try_from(v)
            .map_err(|_| Failure::invalid(format!("meter config: {name} {v} is negative")))
    };
    Ok(MeterConfig {
        cir: get(c.cir, "cir")?,
        cbs: get(c.cburst, "cburst")?,
        pir: get(c.pir, "pir")?,
        pbs: get(c.pburst, "pburst")?,
    })
}

/// The values of a register element given as `P4Data`: a bitstring for a scalar element, a
/// struct of bitstrings for a struct.
pub fn register_value(inst: &InstanceInfo, data: &p4v1::P4Data) -> Result<Vec<BigUint>, Failure> {
    use p4v1::p4_data::Data;
    let what = |i: usize| move || format!("register {} field {i}", inst.name);
    match (&data.data, inst.is_struct) {
        (Some(Data::Bitstring(b)), false) if inst.widths.len() == 1 => {
            Ok(vec![decode(b, inst.widths[0], &what(0))?])
        }
        (Some(Data::Struct(s)), true) | (Some(Data::Tuple(s)), true) => {
            if s.members.len() != inst.widths.len() {
                return Err(Failure::invalid(format!(
                    "register {}: {} members given, the element has {}",
                    inst.name,
                    s.members.len(),
                    inst.widths.len()
                )));
            }
            s.members
                .iter()
                .zip(&inst.widths)
                .enumerate()
                .map(|(i, (m, w))| match &m.data {
                    Some(Data::Bitstring(b)) => decode(b, *w, &what(i)),
                    _ => Err(Failure::invalid(format!(
                        "register {} field {i}: not a bitstring",
                        inst.name
                    ))),
                })
                .collect()
        }
        _ => Err(Failure::invalid(format!(
            "register {}: the data is not a {}",
            inst.name,
            if inst.is_struct {
                "struct of bitstrings"
            } else {
                "bitstring"
            }
        ))),
    }
}

fn idle_timeout(ns: i64) -> Result<Option<Duration>, Failure> {
    match ns {
        0 => Ok(None),
        n if n > 0 => Ok(Some(Duration::from_nanos(n as u64))),
        n => Err(Failure::invalid(format!("idle_timeout_ns {n} is negative"))),
    }
}

/// Translates one update; nothing is applied.
pub fn translate(inst: &Installed, update: &p4v1::Update) -> Result<Op, Failure> {
    let schema = &inst.schema;
    let ty = UpdateType::try_from(update.r#type).unwrap_or(UpdateType::Unspecified);
    if ty == UpdateType::Unspecified {
        return Err(Failure::invalid("the update's type is unspecified"));
    }
    let entity = update
        .entity
        .as_ref()
        .and_then(|e| e.entity.as_ref())
        .ok_or_else(|| Failure::invalid("the update has no entity"))?;
    match entity {
        Entity::TableEntry(te) => {
            let t = translate::table(schema, te.table_id)?;
            if !te.metadata.is_empty() {
                return Err(Failure::unimplemented(format!(
                    "table {}: controller metadata is not stored by this server",
                    t.name
                )));
            }
            if te.is_default_action {
                if ty != UpdateType::Modify {
                    return Err(Failure::invalid(format!(
                        "table {}: the default entry can only be modified, not {}",
                        t.name,
                        ty.as_str_name()
                    )));
                }
                if !te.r#match.is_empty() || te.priority != 0 {
                    return Err(Failure::invalid(format!(
                        "table {}: the default entry has no match fields and no priority",
                        t.name
                    )));
                }
                let call = match &te.action {
                    Some(a) => translate::action(t, a)?,
                    // No action: back to the program's default.
                    None => inst
                        .model
                        .table(t.handle)
                        .and_then(|tm| tm.default_miss.clone())
                        .ok_or_else(|| {
                            Failure::invalid(format!(
                                "table {}: the program gives no default action to go back to",
                                t.name
                            ))
                        })?,
                };
                return Ok(Op::SetDefault {
                    table: t.handle,
                    call,
                });
            }
            let key = translate::key(t, &te.r#match)?;
            let priority = translate::priority(t, te.priority)?;
            match ty {
                UpdateType::Delete => Ok(Op::Delete {
                    table: t.handle,
                    key,
                    priority,
                }),
                UpdateType::Insert | UpdateType::Modify => {
                    let action = te.action.as_ref().ok_or_else(|| {
                        Failure::invalid(format!(
                            "table {}: an {} needs an action",
                            t.name,
                            ty.as_str_name()
                        ))
                    })?;
                    let call = translate::action(t, action)?;
                    let idle = idle_timeout(te.idle_timeout_ns)?;
                    let spec = EntrySpec {
                        key,
                        priority,
                        action: Some(call),
                        permissions: None,
                        dynamic: idle.is_some(),
                        aging: None,
                    };
                    Ok(if ty == UpdateType::Insert {
                        Op::Insert {
                            table: t.handle,
                            spec,
                            idle,
                        }
                    } else {
                        Op::Modify {
                            table: t.handle,
                            spec,
                            idle,
                        }
                    })
                }
                UpdateType::Unspecified => Err(Failure::invalid("unspecified update type")),
            }
        }
        Entity::CounterEntry(c) => {
            let i = instance(schema, c.counter_id, InstanceKind::Counter, "counter")?;
            if ty != UpdateType::Modify {
                return Err(Failure::invalid(format!(
                    "counter {}: counters are only modified, not {}",
                    i.name,
                    ty.as_str_name()
                )));
            }
            if c.data
                .as_ref()
                .is_some_and(|d| d.byte_count != 0 || d.packet_count != 0)
            {
                return Err(Failure::invalid(format!(
                    "counter {}: P4TC counters can only be reset to zero",
                    i.name
                )));
            }
            Ok(Op::ResetCounter {
                counter: i.handle,
                indices: indices(i, c.index.as_ref())?,
            })
        }
        Entity::MeterEntry(m) => {
            let i = instance(schema, m.meter_id, InstanceKind::Meter, "meter")?;
            if ty != UpdateType::Modify {
                return Err(Failure::invalid(format!(
                    "meter {}: meters are only modified, not {}",
                    i.name,
                    ty.as_str_name()
                )));
            }
            Ok(Op::Meter {
                id: i.id,
                meter: i.handle,
                indices: indices(i, m.index.as_ref())?,
                config: meter_config(m.config.as_ref())?,
            })
        }
        Entity::DirectMeterEntry(m) => {
            let te = m
                .table_entry
                .as_ref()
                .ok_or_else(|| Failure::invalid("direct meter entry without a table entry"))?;
            let t = translate::table(schema, te.table_id)?;
            if t.direct_meter.is_none() {
                return Err(Failure::invalid(format!(
                    "table {} has no direct meter",
                    t.name
                )));
            }
            if ty != UpdateType::Modify {
                return Err(Failure::invalid(format!(
                    "direct meters are only modified, not {}",
                    ty.as_str_name()
                )));
            }
            Ok(Op::DirectMeter {
                table: t.handle,
                key: translate::key(t, &te.r#match)?,
                priority: translate::priority(t, te.priority)?,
                config: meter_config(m.config.as_ref())?,
            })
        }
        Entity::RegisterEntry(r) => {
            let i = instance(schema, r.register_id, InstanceKind::Register, "register")?;
            if ty != UpdateType::Modify {
                return Err(Failure::invalid(format!(
                    "register {}: registers are only modified, not {}",
                    i.name,
                    ty.as_str_name()
                )));
            }
            let data = r
                .data
                .as_ref()
                .ok_or_else(|| Failure::invalid(format!("register {}: no data", i.name)))?;
            Ok(Op::Register {
                register: i.handle,
                indices: indices(i, r.index.as_ref())?,
                value: register_value(i, data)?,
            })
        }
        Entity::DigestEntry(d) => {
            let i = instance(schema, d.digest_id, InstanceKind::Digest, "digest")?;
            let exists = inst.digests.contains_key(&i.id);
            match ty {
                UpdateType::Insert if exists => Err(Failure::new(
                    Code::AlreadyExists,
                    format!("digest {} is configured already (MODIFY it)", i.name),
                )),
                UpdateType::Modify | UpdateType::Delete if !exists => Err(Failure::not_found(
                    format!("digest {} is not configured", i.name),
                )),
                UpdateType::Delete => Ok(Op::Digest {
                    id: i.id,
                    config: None,
                }),
                _ => {
                    let c = d.config.unwrap_or_default();
                    if c.max_timeout_ns < 0 || c.ack_timeout_ns < 0 || c.max_list_size < 0 {
                        return Err(Failure::invalid(format!(
                            "digest {}: negative config values",
                            i.name
                        )));
                    }
                    Ok(Op::Digest {
                        id: i.id,
                        config: Some(DigestConfig {
                            max_timeout: Duration::from_nanos(c.max_timeout_ns as u64),
                            max_list_size: c.max_list_size as usize,
                            ack_timeout: Duration::from_nanos(c.ack_timeout_ns as u64),
                        }),
                    })
                }
            }
        }
        Entity::DirectCounterEntry(_) => Err(Failure::unimplemented(
            "direct counters cannot be written (P4TC's object model only reads them)",
        )),
        Entity::ExternEntry(_) => Err(Failure::unimplemented("extern entries are not supported")),
        Entity::ActionProfileMember(_) | Entity::ActionProfileGroup(_) => Err(
            Failure::unimplemented("action profiles are not supported (P4TC has none)"),
        ),
        Entity::PacketReplicationEngineEntry(_) => Err(Failure::unimplemented(
            "multicast groups and clone sessions are not supported",
        )),
        Entity::ValueSetEntry(_) => Err(Failure::unimplemented("value sets are not supported")),
    }
}

/// The timer profile whose age is `after`: an existing one, else a new one (P4TC has up to
/// 16). Idle timeouts become P4TC aging: the entry is dynamic with that profile.
fn profile_for(objects: &mut dyn ObjectModel, after: Duration) -> Result<u32, Failure> {
    let profiles = objects.timer_profiles();
    if let Some(i) = profiles.iter().position(|d| *d == after) {
        return Ok(i as u32);
    }
    let next = profiles.len() as u32;
    objects.set_timer_profile(next, after).map_err(|e| {
        Failure::new(
            Code::ResourceExhausted,
            format!("idle timeout {after:?}: no timer profile has it and none can be added ({e})"),
        )
    })?;
    Ok(next)
}

fn with_aging(
    objects: &mut dyn ObjectModel,
    mut spec: EntrySpec,
    idle: Option<Duration>,
) -> Result<EntrySpec, Failure> {
    if let Some(after) = idle {
        spec.aging = Some(Aging::Profile(profile_for(objects, after)?));
    }
    Ok(spec)
}

/// Applies one op; returns how to undo it (what undoing needs is only gathered when
/// `undoable`: `CONTINUE_ON_ERROR` does not pay for it).
fn apply(inst: &mut Installed, op: Op, undoable: bool) -> Result<Undo, Failure> {
    let rt = |e: p4tc_runtime::RuntimeError| Failure::runtime(&e);
    match op {
        Op::Insert { table, spec, idle } => {
            let objects = inst.backend.objects();
            let spec = with_aging(objects, spec, idle)?;
            let undo = undoable.then(|| (spec.key.clone(), spec.priority));
            objects.create_entry(table, spec).map_err(rt)?;
            Ok(undo.map_or(Undo::Nothing, |(key, priority)| {
                Undo::Delete(table, key, priority)
            }))
        }
        Op::Modify { table, spec, idle } => {
            let objects = inst.backend.objects();
            let old = if undoable {
                Some(
                    objects
                        .get_entry(table, &spec.key, spec.priority)
                        .map_err(rt)?,
                )
            } else {
                None
            };
            let spec = with_aging(objects, spec, idle)?;
            objects.update_entry(table, spec).map_err(rt)?;
            Ok(old.map_or(Undo::Nothing, |old| Undo::Restore(table, old.spec)))
        }
        Op::Delete {
            table,
            key,
            priority,
        } => {
            let objects = inst.backend.objects();
            let old = if undoable {
                Some(objects.get_entry(table, &key, priority).map_err(rt)?)
            } else {
                None
            };
            objects.delete_entry(table, &key, priority).map_err(rt)?;
            Ok(old.map_or(Undo::Nothing, |old| Undo::Create(table, old.spec)))
        }
        Op::SetDefault { table, call } => {
            let objects = inst.backend.objects();
            let old = objects
                .default_action(table, DefaultKind::Miss)
                .map_err(rt)?;
            objects
                .set_default_action(table, DefaultKind::Miss, call)
                .map_err(rt)?;
            Ok(old.map_or(Undo::Nothing, |old| Undo::Default(table, old)))
        }
        Op::ResetCounter { counter, indices } => {
            let objects = inst.backend.objects();
            for i in indices {
                objects.reset_counter(counter, i).map_err(rt)?;
            }
            Ok(Undo::Nothing)
        }
        Op::Meter {
            id,
            meter,
            indices,
            config,
        } => {
            let mut old = Vec::with_capacity(indices.len());
            for i in indices {
                inst.backend
                    .objects()
                    .set_meter(meter, i, config)
                    .map_err(rt)?;
                old.push((i, inst.meters.insert((id, i), config)));
            }
            Ok(Undo::Meters(id, meter, old))
        }
        Op::DirectMeter {
            table,
            key,
            priority,
            config,
        } => {
            inst.backend
                .set_direct_meter(table, &key, priority, config)
                .map_err(rt)?;
            Ok(Undo::Nothing)
        }
        Op::Register {
            register,
            indices,
            value,
        } => {
            let objects = inst.backend.objects();
            let mut old = Vec::with_capacity(indices.len());
            for i in indices {
                let before = objects.register(register, i).map_err(rt)?;
                objects.set_register(register, i, &value).map_err(rt)?;
                old.push((i, before));
            }
            Ok(Undo::Register(register, old))
        }
        Op::Digest { id, config } => {
            let old = match config {
                Some(c) => inst.digests.insert(id, c),
                None => inst.digests.remove(&id),
            };
            Ok(Undo::Digest(id, old))
        }
    }
}

/// Undoes an applied op (best effort: what the object model refuses now stays).
fn undo(inst: &mut Installed, undo: Undo) {
    match undo {
        Undo::Delete(t, key, prio) => {
            let _ = inst.backend.objects().delete_entry(t, &key, prio);
        }
        Undo::Restore(t, spec) => {
            let _ = inst.backend.objects().update_entry(t, spec);
        }
        Undo::Create(t, spec) => {
            let _ = inst.backend.objects().create_entry(t, spec);
        }
        Undo::Default(t, call) => {
            let _ = inst
                .backend
                .objects()
                .set_default_action(t, DefaultKind::Miss, call);
        }
        Undo::Register(r, old) => {
            for (i, v) in old.into_iter().rev() {
                let _ = inst.backend.objects().set_register(r, i, &v);
            }
        }
        Undo::Meters(id, m, old) => {
            for (i, c) in old.into_iter().rev() {
                let _ = inst
                    .backend
                    .objects()
                    .set_meter(m, i, c.unwrap_or_default());
                match c {
                    Some(c) => inst.meters.insert((id, i), c),
                    None => inst.meters.remove(&(id, i)),
                };
            }
        }
        Undo::Digest(id, old) => {
            match old {
                Some(c) => inst.digests.insert(id, c),
                None => inst.digests.remove(&id),
            };
        }
        Undo::Nothing => {}
    }
}

/// Applies `updates` with `atomicity`; `Err` carries the status to answer with.
pub fn write(
    inst: &mut Installed,
    updates: &[p4v1::Update],
    atomicity: i32,
) -> Result<(), tonic::Status> {
    let atomicity = Atomicity::try_from(atomicity)
        .map_err(|_| tonic::Status::invalid_argument(format!("unknown atomicity {atomicity}")))?;
    if atomicity == Atomicity::DataplaneAtomic && !inst.backend.dataplane_atomic() {
        return Err(tonic::Status::unimplemented(format!(
            "DATAPLANE_ATOMIC: packets keep flowing between two writes of {}; use ROLLBACK_ON_ERROR",
            inst.backend.describe()
        )));
    }
    let ops: Vec<Result<Op, Failure>> = updates.iter().map(|u| translate(inst, u)).collect();
    match atomicity {
        Atomicity::ContinueOnError => {
            let mut results: Vec<Option<Failure>> = Vec::with_capacity(ops.len());
            // Runs of INSERTs into one table go to the object model as one batch
            // (`create_entries`: the kernel's writes many entries per system call); each
            // entry still succeeds or fails on its own, as CONTINUE_ON_ERROR asks.
            let mut run: Option<(Handle<ir::Table>, Vec<EntrySpec>)> = None;
            let flush = |inst: &mut Installed,
                         run: &mut Option<(Handle<ir::Table>, Vec<EntrySpec>)>,
                         results: &mut Vec<Option<Failure>>| {
                if let Some((table, specs)) = run.take() {
                    let outcomes = inst.backend.objects().create_entries(table, specs);
                    results.extend(
                        outcomes
                            .into_iter()
                            .map(|r| r.err().map(|e| Failure::runtime(&e))),
                    );
                }
            };
            for op in ops {
                match op {
                    Ok(Op::Insert {
                        table,
                        spec,
                        idle: None,
                    }) => {
                        if run.as_ref().is_some_and(|(t, _)| *t != table) {
                            flush(inst, &mut run, &mut results);
                        }
                        run.get_or_insert_with(|| (table, Vec::new())).1.push(spec);
                    }
                    op => {
                        flush(inst, &mut run, &mut results);
                        let r = op.and_then(|op| apply(inst, op, false).map(|_| ()));
                        results.push(r.err());
                    }
                }
            }
            flush(inst, &mut run, &mut results);
            if results.iter().any(Option::is_some) {
                return Err(write_status(&results));
            }
            Ok(())
        }
        Atomicity::RollbackOnError | Atomicity::DataplaneAtomic => {
            let aborted = |n: usize| {
                Failure::new(
                    Code::Aborted,
                    format!("not applied: update {n} of the batch failed"),
                )
            };
            if let Some(bad) = ops.iter().position(Result::is_err) {
                let results: Vec<Option<Failure>> = ops
                    .into_iter()
                    .map(|r| Some(r.err().unwrap_or_else(|| aborted(bad))))
                    .collect();
                return Err(write_status(&results));
            }
            let total = ops.len();
            let mut undos = Vec::with_capacity(total);
            for (n, op) in ops.into_iter().enumerate() {
                let Ok(op) = op else { continue };
                match apply(inst, op, true) {
                    Ok(u) => undos.push(u),
                    Err(f) => {
                        for u in undos.into_iter().rev() {
                            undo(inst, u);
                        }
                        let results: Vec<Option<Failure>> = (0..total)
                            .map(|i| Some(if i == n { f.clone() } else { aborted(n) }))
                            .collect();
                        return Err(write_status(&results));
                    }
                }
            }
            Ok(())
        }
    }
}
