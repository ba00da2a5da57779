//! P4TC's object model: pipelines, tables, actions, entries and externs, with P4TC's rules
//! (permissions, const entries, default actions, priorities, aging, who created what).
//!
//! Two faces, two traits:
//! - [`ObjectModel`] is what control surfaces use (`p4tc ctl`, STF's `add`, P4Runtime): entries
//!   and externs named by IR handles, values as integers, errors that say what is wrong.
//! - [`Datapath`] is what a software datapath calls per packet (the interpreter): lookups on
//!   encoded key blobs, `add_entry` from the datapath, counters, meters, registers, digests.
//!
//! [`MemoryBackend`] implements both, in memory. The kernel backend (pinned BPF maps)
//! implements [`ObjectModel`] only: its datapath is the generated eBPF program.
//!
//! One priority rule holds inside: P4TC's, the lower value wins ([`Priority`]). Interfaces
//! whose convention differs (STF, P4Runtime: the larger wins) convert at their boundary.

mod clock;
pub mod ctl;
mod datapath;
mod entry;
mod error;
mod event;
pub mod memory;
pub mod model;
mod object_model;

pub use clock::{Clock, ManualClock, SystemClock};
pub use datapath::{Color, Datapath, EntryRef, Lookup};
pub use entry::{ActionCall, Actor, Aging, DefaultKind, EntryInfo, EntrySpec, KeyMatch, Priority};
pub use error::RuntimeError;
pub use event::{Event, EventKind};
pub use memory::MemoryBackend;
pub use model::{ModelError, PipelineModel};
pub use object_model::{CounterValue, MeterConfig, ObjectModel};
pub use p4tc_ir::introspection::Permissions;
