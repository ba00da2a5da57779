//! Entries as control surfaces see them: keys per field, an action with its data, priority,
//! permissions and aging.

use std::time::Duration;

use num_bigint::BigUint;
use p4tc_ir::arena::Handle;
use p4tc_ir::introspection::Permissions;
use p4tc_ir::ir;

/// How one key field of an entry matches, in the key's declaration order.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KeyMatch {
    /// Exactly this value (`exact` fields; also a full-width `lpm` or all-ones `ternary`).
    Exact(BigUint),
    /// The top `prefix_len` bits of `value` (`lpm` fields).
    Lpm {
        /// The value; bits past the prefix are ignored.
        value: BigUint,
        /// How many leading bits must match.
        prefix_len: u32,
    },
    /// `value &&& mask` (`ternary` fields).
    Ternary {
        /// The value; bits outside the mask are ignored.
        value: BigUint,
        /// Which bits must match.
        mask: BigUint,
    },
    /// `low .. high`, inclusive (`range` fields).
    Range {
        /// Smallest value matched.
        low: BigUint,
        /// Largest value matched.
        high: BigUint,
    },
    /// Any value (`_`: a wildcard ternary, range, optional or zero-length prefix).
    Any,
}

/// A priority in P4TC's convention: **the lower value wins**. P4TC's CLI uses this directly;
/// STF and P4Runtime (the larger wins) convert with [`Priority::from_larger_wins`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Priority(pub u32);

impl Priority {
    /// The priority of an interface where the larger value wins (STF, P4Runtime). Values past
    /// `u32::MAX` are clamped to the highest priority.
    pub fn from_larger_wins(value: u64) -> Priority {
        let value = u32::try_from(value).unwrap_or(u32::MAX);
        Priority(u32::MAX - value)
    }

    /// The value in a larger-wins interface's convention.
    pub fn to_larger_wins(self) -> u64 {
        u64::from(u32::MAX - self.0)
    }
}

/// An action with its action data.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ActionCall {
    /// The action.
    pub action: Handle<ir::Action>,
    /// One value per action-data (directionless) parameter, in declaration order.
    pub params: Vec<BigUint>,
}

/// How a dynamic entry ages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Aging {
    /// By a timer profile of the pipeline.
    Profile(u32),
    /// After this long without a hit.
    After(Duration),
}

/// Which default action of a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DefaultKind {
    /// Runs on a hit of an entry without an action of its own.
    Hit,
    /// Runs on a miss.
    Miss,
}

/// Who did something to an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Actor {
    /// A control-plane client (`p4tc ctl`, P4Runtime, an entries file, STF).
    ControlPlane,
    /// The datapath (`add_entry`, `set_entry_expire_time`).
    Datapath,
    /// The aging timer.
    Timer,
    /// The program itself (const entries and entries declared in P4).
    Program,
}

/// An entry to create or update.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntrySpec {
    /// One match per key field, in declaration order.
    pub key: Vec<KeyMatch>,
    /// Priority; `None` lets the table allocate one (later entries lose to earlier ones).
    /// Exact tables take none.
    pub priority: Option<Priority>,
    /// The action to run on a hit; `None` runs the table's default hit action.
    pub action: Option<ActionCall>,
    /// Permissions; `None` inherits the table's, less both create bits.
    pub permissions: Option<Permissions>,
    /// The entry ages (dynamic) rather than staying until deleted (static).
    pub dynamic: bool,
    /// How it ages, when dynamic; `None` takes profile 0.
    pub aging: Option<Aging>,
}

impl EntrySpec {
    /// A static entry with the table's permissions.
    pub fn new(key: Vec<KeyMatch>, action: Option<ActionCall>) -> EntrySpec {
        EntrySpec {
            key,
            priority: None,
            action,
            permissions: None,
            dynamic: false,
            aging: None,
        }
    }
}

/// An entry as the object model holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryInfo {
    /// What was written, with the priority and permissions in effect filled in.
    pub spec: EntrySpec,
    /// It came from the program and cannot be changed.
    pub is_const: bool,
    /// Who created it.
    pub created_by: Actor,
    /// Who last updated it, if anyone.
    pub updated_by: Option<Actor>,
    /// When it was created, on the backend's clock.
    pub created_at: Duration,
    /// When it was last hit (or created), on the backend's clock.
    pub last_used: Duration,
    /// Its direct counter, when the table has one: packets and bytes.
    pub counter: Option<(u64, u64)>,
}
