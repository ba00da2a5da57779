//! Events the object model publishes (`p4tc mon`): entry changes and digests.

use std::time::Duration;

use p4tc_ir::arena::Handle;
use p4tc_ir::ir;

use crate::entry::{Actor, EntrySpec};

/// Something that happened, with when (on the backend's clock).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// When.
    pub at: Duration,
    /// What.
    pub kind: EventKind,
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// An entry was created.
    EntryCreated {
        /// The table.
        table: Handle<ir::Table>,
        /// The entry.
        entry: EntrySpec,
        /// By whom.
        by: Actor,
    },
    /// An entry was updated.
    EntryUpdated {
        /// The table.
        table: Handle<ir::Table>,
        /// The entry as it is now.
        entry: EntrySpec,
        /// By whom.
        by: Actor,
    },
    /// An entry was deleted (by the timer when it aged out).
    EntryDeleted {
        /// The table.
        table: Handle<ir::Table>,
        /// The entry as it was.
        entry: EntrySpec,
        /// By whom.
        by: Actor,
    },
    /// The datapath sent a digest.
    Digest {
        /// The Digest instance.
        instance: Handle<ir::Instance>,
        /// The payload, laid out by `p4tc_ir::layout::ValueLayout`.
        payload: Vec<u8>,
    },
}
