//! Events as `p4tc mon` prints them (P4TC's `tc mon p4 events`): entry changes written in the
//! command language's words, digests with their fields decoded and typed by the
//! introspection.

use std::fmt;
use std::time::Duration;

use p4tc_ir::layout::ExternLayout;
use serde::Serialize;

use super::externs::{param_type, view_of};
use super::format::{action_view, format_key_match, format_value, ActionView, KeyView, ParamView};
use crate::entry::{Actor, EntrySpec};
use crate::event::{Event, EventKind};
use crate::model::PipelineModel;

/// An event, ready to print.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EventView {
    /// When, in milliseconds on the backend's clock.
    pub at_ms: u64,
    /// `create`, `update`, `delete` or `digest`.
    pub event: String,
    /// Who did it (`control_plane`, `datapath`, `timer`, `program`), for entry events.
    pub by: Option<String>,
    /// The table's path, for entry events.
    pub table: Option<String>,
    /// The entry's key, for entry events.
    pub key: Vec<KeyView>,
    /// The entry's priority.
    pub prio: Option<u32>,
    /// The entry's action.
    pub action: Option<ActionView>,
    /// The digest instance's name, for digests.
    pub instance: Option<String>,
    /// The digest's fields, decoded (empty when the payload does not match the layout).
    pub fields: Vec<ParamView>,
    /// The digest's payload in hex.
    pub payload: Option<String>,
}

fn actor(a: Actor) -> &'static str {
    match a {
        Actor::ControlPlane => "control_plane",
        Actor::Datapath => "datapath",
        Actor::Timer => "timer",
        Actor::Program => "program",
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The view of `event` of a backend running `model`.
pub fn event_view(model: &PipelineModel, event: &Event) -> EventView {
    let mut view = EventView {
        at_ms: millis(event.at),
        event: String::new(),
        by: None,
        table: None,
        key: Vec::new(),
        prio: None,
        action: None,
        instance: None,
        fields: Vec::new(),
        payload: None,
    };
    let mut entry = |name: &str, table, spec: &EntrySpec, by: Actor| {
        view.event = name.into();
        view.by = Some(actor(by).into());
        match model.table(table) {
            Some(t) => {
                view.table = Some(format!("{}/table/{}", model.name, t.name));
                view.key = spec
                    .key
                    .iter()
                    .zip(&t.keys)
                    .map(|(m, f)| KeyView {
                        name: f.name.clone(),
                        match_kind: f.match_kind.name().into(),
                        ty: f.ty.to_string(),
                        value: format_key_match(m, f),
                    })
                    .collect();
                view.action = spec.action.as_ref().map(|c| action_view(t, c));
            }
            None => view.table = Some(format!("{}/table/#{}", model.name, table.index())),
        }
        view.prio = spec.priority.map(|p| p.0);
    };
    match &event.kind {
        EventKind::EntryCreated {
            table,
            entry: e,
            by,
        } => entry("create", *table, e, *by),
        EventKind::EntryUpdated {
            table,
            entry: e,
            by,
        } => entry("update", *table, e, *by),
        EventKind::EntryDeleted {
            table,
            entry: e,
            by,
        } => entry("delete", *table, e, *by),
        EventKind::Digest { instance, payload } => {
            view.event = "digest".into();
            view.payload = Some(payload.iter().map(|b| format!("{b:02x}")).collect());
            let layout = model.instance(*instance).and_then(|i| i.layout.as_ref());
            match view_of(model, *instance) {
                Some((_, inst)) => {
                    view.instance = Some(inst.inst_name.clone());
                    if let Some(ExternLayout::Digest(layout)) = layout {
                        if let Ok(values) = layout.decode(payload) {
                            let data = inst.params.iter().filter(|p| p.attr == "param");
                            view.fields = data
                                .zip(values)
                                .map(|(p, v)| ParamView {
                                    name: p.name.clone(),
                                    ty: p.ty.clone(),
                                    value: format_value(&v, param_type(p)),
                                })
                                .collect();
                        }
                    }
                }
                None => view.instance = Some(format!("#{}", instance.index())),
            }
        }
    }
    view
}

impl EventView {
    /// The JSON form.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self)
            .unwrap_or_else(|e| serde_json::json!({ "event": "error", "message": e.to_string() }))
    }
}

/// One line: `[12.345] create by control plane: simple_l3/table/ingress/nh_table dstAddr
/// 10.0.1.2 action ingress/drop`, `[12.345] digest ingress.learn: srcAddr 00:01:.. port 1`.
impl fmt::Display for EventView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{}.{:03}] {}",
            self.at_ms / 1000,
            self.at_ms % 1000,
            self.event
        )?;
        if let Some(by) = &self.by {
            write!(f, " by {}", by.replace('_', " "))?;
        }
        if let Some(table) = &self.table {
            write!(f, ": {table}")?;
            for k in &self.key {
                write!(f, " {} {}", k.name, k.value)?;
            }
            if let Some(p) = self.prio {
                write!(f, " prio {p}")?;
            }
            if let Some(a) = &self.action {
                write!(f, " action {}", a.name)?;
                for p in &a.params {
                    write!(f, " param {} {}", p.name, p.value)?;
                }
            }
        }
        if let Some(instance) = &self.instance {
            write!(f, " {instance}:")?;
            if self.fields.is_empty() {
                write!(f, " 0x{}", self.payload.as_deref().unwrap_or(""))?;
            }
            for p in &self.fields {
                write!(f, " {} {}", p.name, p.value)?;
            }
        }
        Ok(())
    }
}
