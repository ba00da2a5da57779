//! Kernel-side events (the `p4tc_aging_events` ring) as the object model's events.

use std::time::Duration;

use p4tc_ir::introspection::Permissions;
use p4tc_ir::layout::TableKind;
use p4tc_runtime::{ActionCall, Actor, Aging, EntrySpec, Event, EventKind, Priority};

use super::keys;
use super::{Element, KernelBackend};
use crate::aging::{
    EVENT_CREATED, EVENT_DELETED, EVENT_UPDATED, WHO_CONTROL, WHO_DATAPATH, WHO_TIMER,
};
use crate::entry::{FLAG_DYNAMIC, FLAG_HAS_ACTION};

impl KernelBackend {
    /// The object model's event for one record of `p4tc_aging_events` (kind and actor as the
    /// record says). The record holds the entry's head and map key, and, from the kernel side
    /// (the datapath's creates and updates, the timer's deletes), the whole value: then the
    /// action comes with its data; else it is named without it (`params` empty). A range
    /// stored as several elements gives one event per element, each with the part of the
    /// range that element held. Unknown kinds, actors or tables give `None`.
    pub(super) fn aging_event(&self, e: &crate::aging::AgingEvent) -> Option<Event> {
        let t = self
            .tables
            .iter()
            .position(|kt| self.model.tables[kt.model].id == e.table)?;
        let tm = self.table_model(t);
        let spec = &self.tables[t].spec;
        let slots = if spec.key.kind == TableKind::Ternary {
            self.read_masks(t).ok()?
        } else {
            Vec::new()
        };
        let element = Element {
            key: e.key.clone(),
            value: Vec::new(),
            head: e.head,
        };
        let key = keys::decode_key(tm, spec, &slots, std::slice::from_ref(&element)).ok()?;
        let head = e.head;
        // With the value (the datapath's and the timer's records), the action's data too;
        // without it (or if it does not decode), the action alone.
        let action = self.call_of(t, &head, &e.value).or_else(|| {
            (head.flags & FLAG_HAS_ACTION != 0)
                .then(|| self.action_of_id(t, head.action))
                .flatten()
                .map(|action| ActionCall {
                    action,
                    params: Vec::new(),
                })
        });
        let entry = EntrySpec {
            key,
            priority: self.tables[t].has_prio.then_some(Priority(head.priority)),
            action,
            permissions: Permissions::from_bits(head.permissions),
            dynamic: head.flags & FLAG_DYNAMIC != 0,
            aging: (head.flags & FLAG_DYNAMIC != 0)
                .then_some(Aging::Profile(u32::from(head.profile))),
        };
        let by = match e.who {
            WHO_CONTROL => Actor::ControlPlane,
            WHO_DATAPATH => Actor::Datapath,
            WHO_TIMER => Actor::Timer,
            _ => return None,
        };
        let table = tm.handle;
        let kind = match e.kind {
            EVENT_CREATED => EventKind::EntryCreated { table, entry, by },
            EVENT_UPDATED => EventKind::EntryUpdated { table, entry, by },
            EVENT_DELETED => EventKind::EntryDeleted { table, entry, by },
            _ => return None,
        };
        Some(Event {
            at: Duration::from_nanos(e.at_ns),
            kind,
        })
    }
}
