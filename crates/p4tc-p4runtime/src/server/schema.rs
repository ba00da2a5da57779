//! The ids a controller uses, resolved once per pipeline: the P4Info it sent with
//! `SetForwardingPipelineConfig` names tables, fields, actions, parameters and extern
//! instances by id; [`IdMap`] matches each by name to the pipeline model's handles, and this
//! module adds what a Write needs beside (widths, match kinds, direct resources, element
//! shapes), so a Write costs hash lookups and no string work.
//!
//! The server works from the P4Info the controller sent (not one it builds itself) because
//! that is the contract P4Runtime gives: ids are the controller's P4Info's. A P4Info that
//! names something the program does not have is refused at `SetForwardingPipelineConfig`.

use std::collections::HashMap;

use p4runtime_proto::p4::config::v1 as p4info;
use p4tc_ir::arena::Handle;
use p4tc_ir::ir;
use p4tc_ir::layout::{ExternLayout, MatchKind, ValueShape};
use p4tc_runtime::PipelineModel;

use crate::ids::{ExternKind, IdMap};

/// A match field of a table.
#[derive(Clone, Debug)]
pub struct FieldInfo {
    /// P4Info id.
    pub id: u32,
    /// Position in the model's key.
    pub index: usize,
    /// Width in bits.
    pub width: u32,
    /// How it matches.
    pub kind: MatchKind,
}

/// An action as one table may use it.
#[derive(Clone, Debug)]
pub struct ActionInfo {
    /// P4Info id.
    pub id: u32,
    /// The IR action.
    pub handle: Handle<ir::Action>,
    /// Its name (P4Info's).
    pub name: String,
    /// Parameters: (P4Info id, width), in the model's order.
    pub params: Vec<(u32, u32)>,
}

/// A table.
#[derive(Clone, Debug)]
pub struct TableInfo {
    /// P4Info id.
    pub id: u32,
    /// The IR table.
    pub handle: Handle<ir::Table>,
    /// Its name (P4Info's).
    pub name: String,
    /// Match fields in key order.
    pub fields: Vec<FieldInfo>,
    /// P4Info field id -> position in `fields`.
    pub field_at: HashMap<u32, usize>,
    /// P4Info action id -> the action.
    pub actions: HashMap<u32, ActionInfo>,
    /// Entries carry a priority (a ternary, range or optional field).
    pub has_priority: bool,
    /// Its direct counter's P4Info id, if it has one.
    pub direct_counter: Option<u32>,
    /// Its direct meter's P4Info id, if it has one.
    pub direct_meter: Option<u32>,
}

impl TableInfo {
    /// The action with this IR handle.
    pub fn action_by_handle(&self, handle: Handle<ir::Action>) -> Option<&ActionInfo> {
        self.actions.values().find(|a| a.handle == handle)
    }
}

/// What kind of extern instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InstanceKind {
    /// `Counter`.
    Counter,
    /// `Meter`.
    Meter,
    /// `Register`.
    Register,
    /// `Digest`.
    Digest,
    /// `DirectCounter`.
    DirectCounter,
    /// `DirectMeter`.
    DirectMeter,
}

/// An extern instance.
#[derive(Clone, Debug)]
pub struct InstanceInfo {
    /// P4Info id.
    pub id: u32,
    /// The IR instance.
    pub handle: Handle<ir::Instance>,
    /// Its name (P4Info's).
    pub name: String,
    /// Which kind.
    pub kind: InstanceKind,
    /// Elements, for arrays.
    pub size: Option<u64>,
    /// Field widths of a register element or a digest's payload.
    pub widths: Vec<u32>,
    /// Whether a register element or digest is a struct (else a scalar).
    pub is_struct: bool,
    /// The table, for direct resources.
    pub table: Option<u32>,
}

/// Every id of a pipeline's P4Info, resolved.
#[derive(Clone, Debug, Default)]
pub struct Schema {
    /// Tables by P4Info id.
    pub tables: HashMap<u32, TableInfo>,
    /// Tables' ids in P4Info order (for wildcard reads).
    pub table_order: Vec<u32>,
    /// Extern instances by P4Info id.
    pub instances: HashMap<u32, InstanceInfo>,
    /// Instances' ids in P4Info order.
    pub instance_order: Vec<u32>,
    /// IR table -> P4Info id.
    pub table_of_handle: HashMap<usize, u32>,
    /// IR instance -> P4Info id.
    pub instance_of_handle: HashMap<usize, u32>,
}

impl Schema {
    /// Resolves `info` against `model` (by name, through [`IdMap`]); the error names the
    /// first object that does not fit.
    pub fn new(info: &p4info::P4Info, model: &PipelineModel) -> Result<Schema, String> {
        let ids = IdMap::new(model, info).map_err(|e| e.to_string())?;
        let mut schema = Schema::default();
        for t in &info.tables {
            let id = t.preamble.as_ref().map_or(0, |p| p.id);
            let Some(tids) = ids.table(id) else {
                return Err(format!("table id {id:#x} is not resolved"));
            };
            let tm = model
                .tables
                .get(tids.index)
                .ok_or_else(|| format!("table `{}` is not in the program", tids.name))?;
            let fields: Vec<FieldInfo> = tm
                .keys
                .iter()
                .zip(&tids.field_ids)
                .enumerate()
                .map(|(index, (k, &fid))| FieldInfo {
                    id: fid,
                    index,
                    width: k.width,
                    kind: k.match_kind,
                })
                .collect();
            let field_at = fields.iter().map(|f| (f.id, f.index)).collect();
            let mut actions = HashMap::new();
            for aid in &tids.action_ids {
                let Some(a) = ids.action(*aid) else {
                    return Err(format!("action id {aid:#x} is not resolved"));
                };
                let am = tm.action(a.handle).ok_or_else(|| {
                    format!(
                        "table `{}`: action `{}` is not one of its actions in the program",
                        tids.name, a.name
                    )
                })?;
                let params = a
                    .param_ids
                    .iter()
                    .zip(&am.params)
                    .map(|(pid, p)| (*pid, p.width))
                    .collect();
                actions.insert(
                    *aid,
                    ActionInfo {
                        id: *aid,
                        handle: a.handle,
                        name: a.name.clone(),
                        params,
                    },
                );
            }
            schema.table_of_handle.insert(tm.handle.index(), id);
            schema.table_order.push(id);
            schema.tables.insert(
                id,
                TableInfo {
                    id,
                    handle: tm.handle,
                    name: tids.name.clone(),
                    has_priority: tm.has_priorities(),
                    fields,
                    field_at,
                    actions,
                    direct_counter: None,
                    direct_meter: None,
                },
            );
        }
        let groups = [
            (ExternKind::Counter, InstanceKind::Counter),
            (ExternKind::Meter, InstanceKind::Meter),
            (ExternKind::Register, InstanceKind::Register),
            (ExternKind::Digest, InstanceKind::Digest),
            (ExternKind::DirectCounter, InstanceKind::DirectCounter),
            (ExternKind::DirectMeter, InstanceKind::DirectMeter),
        ];
        for (ekind, kind) in groups {
            let mut list: Vec<_> = ids.externs_of(ekind).collect();
            list.sort_by_key(|e| e.id);
            for e in list {
                let im = model
                    .instance(e.handle)
                    .ok_or_else(|| format!("extern instance `{}` is not in the program", e.name))?;
                let (widths, is_struct) = match &im.layout {
                    Some(ExternLayout::Register(r)) => (
                        r.element.fields.iter().map(|f| f.width).collect(),
                        matches!(r.element.shape, ValueShape::Struct(_)),
                    ),
                    Some(ExternLayout::Digest(d)) => (
                        d.fields.iter().map(|f| f.width).collect(),
                        matches!(d.shape, ValueShape::Struct(_)),
                    ),
                    _ => (Vec::new(), false),
                };
                let table = e.direct_table.and_then(|h| ids.table_id(h));
                if let Some(t) = table.and_then(|t| schema.tables.get_mut(&t)) {
                    match kind {
                        InstanceKind::DirectCounter => t.direct_counter = Some(e.id),
                        InstanceKind::DirectMeter => t.direct_meter = Some(e.id),
                        _ => {}
                    }
                }
                schema.instance_of_handle.insert(e.handle.index(), e.id);
                schema.instance_order.push(e.id);
                schema.instances.insert(
                    e.id,
                    InstanceInfo {
                        id: e.id,
                        handle: e.handle,
                        name: e.name.clone(),
                        kind,
                        size: im.size,
                        widths,
                        is_struct,
                        table,
                    },
                );
            }
        }
        Ok(schema)
    }

    /// The P4Info id of an IR table.
    pub fn table_id(&self, handle: Handle<ir::Table>) -> Option<u32> {
        self.table_of_handle.get(&handle.index()).copied()
    }
}
