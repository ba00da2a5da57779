//! The object model as control surfaces see it.

use std::time::Duration;

use num_bigint::BigUint;
use p4tc_ir::arena::Handle;
use p4tc_ir::ir;

use crate::entry::{ActionCall, DefaultKind, EntryInfo, EntrySpec, KeyMatch, Priority};
use crate::error::RuntimeError;
use crate::event::Event;

/// A counter element's totals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct CounterValue {
    /// Packets counted.
    pub packets: u64,
    /// Bytes counted.
    pub bytes: u64,
}

/// A two-rate three-colour meter's configuration (RFC 2698): rates in units (packets or bytes)
/// per second, burst sizes in units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MeterConfig {
    /// Committed information rate.
    pub cir: u64,
    /// Committed burst size.
    pub cbs: u64,
    /// Peak information rate.
    pub pir: u64,
    /// Peak burst size.
    pub pbs: u64,
}

/// Pipelines' tables, entries and externs, with P4TC's rules, as every control surface uses
/// them. Every method either does all it says or nothing (and says why).
pub trait ObjectModel {
    /// Creates an entry (control plane).
    fn create_entry(
        &mut self,
        table: Handle<ir::Table>,
        entry: EntrySpec,
    ) -> Result<(), RuntimeError>;

    /// Creates many entries in one table (control plane): one result per entry, in order. Each
    /// entry is all-or-nothing and is refused for the same reasons, with the same error, as
    /// [`ObjectModel::create_entry`] would refuse it at that point of the sequence (a key
    /// given twice: the second is `Exists`); the others are created. Backends override it to
    /// write many entries per call (the kernel's); this one creates them one by one.
    fn create_entries(
        &mut self,
        table: Handle<ir::Table>,
        entries: Vec<EntrySpec>,
    ) -> Vec<Result<(), RuntimeError>> {
        entries
            .into_iter()
            .map(|entry| self.create_entry(table, entry))
            .collect()
    }

    /// Replaces the action, permissions or aging of the entry with `entry`'s key and priority.
    fn update_entry(
        &mut self,
        table: Handle<ir::Table>,
        entry: EntrySpec,
    ) -> Result<(), RuntimeError>;

    /// Deletes the entry with this key (and priority, for tables that have them).
    fn delete_entry(
        &mut self,
        table: Handle<ir::Table>,
        key: &[KeyMatch],
        priority: Option<Priority>,
    ) -> Result<(), RuntimeError>;

    /// The entry with this key (and priority).
    fn get_entry(
        &self,
        table: Handle<ir::Table>,
        key: &[KeyMatch],
        priority: Option<Priority>,
    ) -> Result<EntryInfo, RuntimeError>;

    /// Every entry of the table, const entries included, best priority first.
    fn dump(&self, table: Handle<ir::Table>) -> Result<Vec<EntryInfo>, RuntimeError>;

    /// Deletes every entry the control plane may delete; returns how many went.
    fn flush(&mut self, table: Handle<ir::Table>) -> Result<usize, RuntimeError>;

    /// The table's default hit or miss action.
    fn default_action(
        &self,
        table: Handle<ir::Table>,
        which: DefaultKind,
    ) -> Result<Option<ActionCall>, RuntimeError>;

    /// Sets the table's default hit or miss action (refused when it is const).
    fn set_default_action(
        &mut self,
        table: Handle<ir::Table>,
        which: DefaultKind,
        call: ActionCall,
    ) -> Result<(), RuntimeError>;

    /// A `Counter` element's totals.
    fn counter(
        &self,
        counter: Handle<ir::Instance>,
        index: u64,
    ) -> Result<CounterValue, RuntimeError>;

    /// Resets a `Counter` element to zero.
    fn reset_counter(
        &mut self,
        counter: Handle<ir::Instance>,
        index: u64,
    ) -> Result<(), RuntimeError>;

    /// A `Register` element's value: one integer per field of the element type (one for a
    /// scalar).
    fn register(
        &self,
        register: Handle<ir::Instance>,
        index: u64,
    ) -> Result<Vec<BigUint>, RuntimeError>;

    /// Writes a `Register` element.
    fn set_register(
        &mut self,
        register: Handle<ir::Instance>,
        index: u64,
        value: &[BigUint],
    ) -> Result<(), RuntimeError>;

    /// Configures a `Meter` element.
    fn set_meter(
        &mut self,
        meter: Handle<ir::Instance>,
        index: u64,
        config: MeterConfig,
    ) -> Result<(), RuntimeError>;

    /// The timer profiles' aging times, profile 0 first.
    fn timer_profiles(&self) -> Vec<Duration>;

    /// Changes (or adds, up to 16) a timer profile.
    fn set_timer_profile(&mut self, profile: u32, after: Duration) -> Result<(), RuntimeError>;

    /// Takes the events published since the last call, oldest first.
    fn take_events(&mut self) -> Vec<Event>;
}
