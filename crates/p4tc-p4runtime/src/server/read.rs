//! `Read`: each requested entity is a filter; unset ids are wildcards (P4Runtime spec,
//! "Wildcard Reads"): a table entry with table id 0 reads every table, one without match
//! fields every entry of its table; a counter, meter or register entry without an index
//! reads every element, with id 0 every instance.

use num_bigint::BigUint;
use p4runtime_proto::p4::v1 as p4v1;
use p4tc_runtime::{Aging, DefaultKind, EntryInfo};

use super::errors::Failure;
use super::schema::{InstanceInfo, InstanceKind, TableInfo};
use super::state::Installed;
use super::translate;
use super::values::encode;

use p4v1::entity::Entity;

fn runtime(e: p4tc_runtime::RuntimeError) -> Failure {
    Failure::runtime(&e)
}

/// Fills the read-back extras a request asks for: counter data, idle time.
fn decorate(
    inst: &Installed,
    t: &TableInfo,
    e: &EntryInfo,
    te: &mut p4v1::TableEntry,
    want: &p4v1::TableEntry,
) {
    if want.counter_data.is_some() || t.direct_counter.is_some() {
        if let Some((packets, bytes)) = e.counter {
            te.counter_data = Some(p4v1::CounterData {
                byte_count: bytes as i64,
                packet_count: packets as i64,
            });
        }
    }
    if let (true, Some(Aging::Profile(p))) = (e.spec.dynamic, e.spec.aging) {
        let profiles = inst.backend.objects_ref().timer_profiles();
        if let Some(d) = profiles.get(p as usize) {
            te.idle_timeout_ns = i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
        }
    } else if let (true, Some(Aging::After(d))) = (e.spec.dynamic, e.spec.aging) {
        te.idle_timeout_ns = i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
    }
    if want.time_since_last_hit.is_some() {
        let elapsed = inst.backend.now().saturating_sub(e.last_used);
        te.time_since_last_hit = Some(p4v1::table_entry::IdleTimeout {
            elapsed_ns: i64::try_from(elapsed.as_nanos()).unwrap_or(i64::MAX),
        });
    }
}

fn read_table(
    inst: &Installed,
    t: &TableInfo,
    want: &p4v1::TableEntry,
    out: &mut Vec<p4v1::Entity>,
) -> Result<(), Failure> {
    let objects = inst.backend.objects_ref();
    if want.is_default_action {
        let call = objects
            .default_action(t.handle, DefaultKind::Miss)
            .map_err(runtime)?;
        out.push(table_entity(p4v1::TableEntry {
            table_id: t.id,
            action: call.as_ref().and_then(|c| translate::table_action(t, c)),
            is_default_action: true,
            ..Default::default()
        }));
        return Ok(());
    }
    if !want.r#match.is_empty() {
        let key = translate::key(t, &want.r#match)?;
        let priority = translate::priority(t, want.priority)?;
        let e = objects
            .get_entry(t.handle, &key, priority)
            .map_err(runtime)?;
        let mut te = translate::table_entry(t, &e);
        decorate(inst, t, &e, &mut te, want);
        out.push(table_entity(te));
        return Ok(());
    }
    for e in objects.dump(t.handle).map_err(runtime)? {
        let mut te = translate::table_entry(t, &e);
        if want.priority != 0 && te.priority != want.priority {
            continue;
        }
        decorate(inst, t, &e, &mut te, want);
        out.push(table_entity(te));
    }
    Ok(())
}

fn table_entity(te: p4v1::TableEntry) -> p4v1::Entity {
    p4v1::Entity {
        entity: Some(Entity::TableEntry(te)),
    }
}

fn instances<'i>(
    inst: &'i Installed,
    id: u32,
    kind: InstanceKind,
    what: &str,
) -> Result<Vec<&'i InstanceInfo>, Failure> {
    let schema = &inst.schema;
    if id == 0 {
        return Ok(schema
            .instance_order
            .iter()
            .filter_map(|i| schema.instances.get(i))
            .filter(|i| i.kind == kind)
            .collect());
    }
    match schema.instances.get(&id) {
        Some(i) if i.kind == kind => Ok(vec![i]),
        _ => Err(Failure::not_found(format!("no {what} with id {id:#x}"))),
    }
}

fn element_indices(i: &InstanceInfo, index: Option<&p4v1::Index>) -> Result<Vec<u64>, Failure> {
    let size = i.size.unwrap_or(0);
    match index {
        Some(ix) => match u64::try_from(ix.index) {
            Ok(n) if n < size => Ok(vec![n]),
            _ => Err(Failure::new(
                tonic::Code::OutOfRange,
                format!("{}: index {} is outside 0..{size}", i.name, ix.index),
            )),
        },
        None => Ok((0..size).collect()),
    }
}

fn register_data(i: &InstanceInfo, values: &[BigUint]) -> p4v1::P4Data {
    use p4v1::p4_data::Data;
    if i.is_struct {
        p4v1::P4Data {
            data: Some(Data::Struct(p4v1::P4StructLike {
                members: values
                    .iter()
                    .map(|v| p4v1::P4Data {
                        data: Some(Data::Bitstring(encode(v))),
                    })
                    .collect(),
            })),
        }
    } else {
        p4v1::P4Data {
            data: Some(Data::Bitstring(encode(
                values.first().unwrap_or(&BigUint::default()),
            ))),
        }
    }
}

/// The entities matching one requested entity.
pub fn read_entity(
    inst: &Installed,
    entity: &p4v1::Entity,
    out: &mut Vec<p4v1::Entity>,
) -> Result<(), Failure> {
    let schema = &inst.schema;
    let objects = inst.backend.objects_ref();
    match entity.entity.as_ref() {
        None => Err(Failure::invalid("an empty entity in the read request")),
        Some(Entity::TableEntry(want)) => {
            if want.table_id == 0 {
                if !want.r#match.is_empty() {
                    return Err(Failure::invalid(
                        "match fields need a table id (table_id 0 reads every table)",
                    ));
                }
                for id in &schema.table_order {
                    if let Some(t) = schema.tables.get(id) {
                        read_table(inst, t, want, out)?;
                    }
                }
                Ok(())
            } else {
                let t = translate::table(schema, want.table_id)?;
                read_table(inst, t, want, out)
            }
        }
        Some(Entity::CounterEntry(c)) => {
            for i in instances(inst, c.counter_id, InstanceKind::Counter, "counter")? {
                for n in element_indices(i, c.index.as_ref())? {
                    let v = objects.counter(i.handle, n).map_err(runtime)?;
                    out.push(p4v1::Entity {
                        entity: Some(Entity::CounterEntry(p4v1::CounterEntry {
                            counter_id: i.id,
                            index: Some(p4v1::Index { index: n as i64 }),
                            data: Some(p4v1::CounterData {
                                byte_count: v.bytes as i64,
                                packet_count: v.packets as i64,
                            }),
                        })),
                    });
                }
            }
            Ok(())
        }
        Some(Entity::DirectCounterEntry(d)) => {
            let want = d.table_entry.clone().unwrap_or_default();
            let mut entries = Vec::new();
            if want.table_id == 0 {
                for id in &schema.table_order {
                    if let Some(t) = schema.tables.get(id).filter(|t| t.direct_counter.is_some()) {
                        read_table(inst, t, &want, &mut entries)?;
                    }
                }
            } else {
                let t = translate::table(schema, want.table_id)?;
                if t.direct_counter.is_none() {
                    return Err(Failure::invalid(format!(
                        "table {} has no direct counter",
                        t.name
                    )));
                }
                read_table(inst, t, &want, &mut entries)?;
            }
            for e in entries {
                if let Some(Entity::TableEntry(mut te)) = e.entity {
                    let data = te.counter_data.take().unwrap_or_default();
                    out.push(p4v1::Entity {
                        entity: Some(Entity::DirectCounterEntry(p4v1::DirectCounterEntry {
                            table_entry: Some(te),
                            data: Some(data),
                        })),
                    });
                }
            }
            Ok(())
        }
        Some(Entity::MeterEntry(m)) => {
            for i in instances(inst, m.meter_id, InstanceKind::Meter, "meter")? {
                for n in element_indices(i, m.index.as_ref())? {
                    let config = inst.meters.get(&(i.id, n)).map(|c| p4v1::MeterConfig {
                        cir: c.cir as i64,
                        cburst: c.cbs as i64,
                        pir: c.pir as i64,
                        pburst: c.pbs as i64,
                        eburst: 0,
                    });
                    out.push(p4v1::Entity {
                        entity: Some(Entity::MeterEntry(p4v1::MeterEntry {
                            meter_id: i.id,
                            index: Some(p4v1::Index { index: n as i64 }),
                            config,
                            counter_data: None,
                        })),
                    });
                }
            }
            Ok(())
        }
        Some(Entity::RegisterEntry(r)) => {
            for i in instances(inst, r.register_id, InstanceKind::Register, "register")? {
                for n in element_indices(i, r.index.as_ref())? {
                    let values = objects.register(i.handle, n).map_err(runtime)?;
                    out.push(p4v1::Entity {
                        entity: Some(Entity::RegisterEntry(p4v1::RegisterEntry {
                            register_id: i.id,
                            index: Some(p4v1::Index { index: n as i64 }),
                            data: Some(register_data(i, &values)),
                        })),
                    });
                }
            }
            Ok(())
        }
        Some(Entity::DigestEntry(d)) => {
            let ids: Vec<u32> = if d.digest_id == 0 {
                schema
                    .instance_order
                    .iter()
                    .copied()
                    .filter(|id| inst.digests.contains_key(id))
                    .collect()
            } else {
                vec![d.digest_id]
            };
            for id in ids {
                let Some(c) = inst.digests.get(&id) else {
                    return Err(Failure::not_found(format!(
                        "digest {id:#x} is not configured"
                    )));
                };
                out.push(p4v1::Entity {
                    entity: Some(Entity::DigestEntry(p4v1::DigestEntry {
                        digest_id: id,
                        config: Some(p4v1::digest_entry::Config {
                            max_timeout_ns: c.max_timeout.as_nanos() as i64,
                            max_list_size: c.max_list_size as i32,
                            ack_timeout_ns: c.ack_timeout.as_nanos() as i64,
                        }),
                    })),
                });
            }
            Ok(())
        }
        Some(Entity::DirectMeterEntry(_)) => Err(Failure::unimplemented(
            "reading direct meter configs is not supported",
        )),
        Some(_) => Err(Failure::unimplemented(
            "this entity kind is not supported (no action profiles, PRE or value sets)",
        )),
    }
}
