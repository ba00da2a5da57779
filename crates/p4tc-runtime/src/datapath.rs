//! What a software datapath asks of the object model for each packet.
//!
//! Keys and action data cross this boundary as blobs laid out by `p4tc_ir::layout` (the one
//! source of truth), so a lookup costs one key encoding and no conversions.

use p4tc_ir::arena::Handle;
use p4tc_ir::ir;

/// An entry found by a lookup, valid until the table next changes; the datapath passes it back
/// for per-entry operations (direct counters and meters, expire times) during the same packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EntryRef(pub u32);

/// The result of a table lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lookup<'a> {
    /// The entry hit, or `None` on a miss.
    pub entry: Option<EntryRef>,
    /// The action to run: the entry's, else the table's default hit action on a hit, the
    /// default miss action on a miss; `None` when there is none (or the entry's permissions
    /// deny the datapath's execute bit).
    pub action: Option<Handle<ir::Action>>,
    /// The action's data, laid out by `p4tc_ir::layout::ParamLayout` (empty for none).
    pub params: &'a [u8],
}

/// A meter's colour (PNA's `PNA_MeterColor_t` order: RED, GREEN, YELLOW).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Color {
    /// Over the peak rate.
    Red,
    /// Within the committed rate.
    Green,
    /// Over the committed rate, within the peak rate.
    Yellow,
}

/// The object model as a software datapath sees it.
///
/// Instances and tables are named by IR handles of the module the backend was built from.
/// Methods that take an instance of the wrong kind, or an index out of range, do nothing and
/// return a neutral value (a packet never fails because of the object model): a read of a
/// missing register element gives zeros, a meter gives green.
pub trait Datapath {
    /// Looks up `key` (laid out by `KeyLayout::encode_key`, LPM prefix word included) in
    /// `table`; a hit refreshes the entry's last-used time.
    fn lookup(&mut self, table: Handle<ir::Table>, key: &[u8]) -> Lookup<'_>;

    /// PNA's `add_entry` in `table`'s default action after a miss on `key`: creates a dynamic
    /// entry with `action` and `params` (a `ParamLayout` blob) aging by timer profile
    /// `profile`. False when it was not added (table full, no datapath create permission,
    /// already there).
    fn add_entry(
        &mut self,
        table: Handle<ir::Table>,
        key: &[u8],
        action: Handle<ir::Action>,
        params: &[u8],
        profile: u32,
    ) -> bool;

    /// PNA's `set_entry_expire_time`: the entry just hit ages by timer profile `profile`.
    fn set_entry_expire_time(&mut self, table: Handle<ir::Table>, entry: EntryRef, profile: u32);

    /// `Counter.count(index)` for a packet of `bytes` bytes.
    fn count(&mut self, counter: Handle<ir::Instance>, index: u64, bytes: u64);

    /// `DirectCounter.count()` on the entry hit (`None`: the miss's default action, not counted).
    fn count_direct(&mut self, table: Handle<ir::Table>, entry: Option<EntryRef>, bytes: u64);

    /// `Meter.execute(index[, color])` for a packet of `bytes` bytes.
    fn meter(
        &mut self,
        meter: Handle<ir::Instance>,
        index: u64,
        bytes: u64,
        color: Option<Color>,
    ) -> Color;

    /// `DirectMeter.execute([color])` on the entry hit.
    fn meter_direct(
        &mut self,
        table: Handle<ir::Table>,
        entry: Option<EntryRef>,
        bytes: u64,
        color: Option<Color>,
    ) -> Color;

    /// `Register.read(index)` into `out` (a `ValueLayout` blob of the element type).
    fn register_read(&mut self, register: Handle<ir::Instance>, index: u64, out: &mut [u8]);

    /// `Register.write(index, value)` (a `ValueLayout` blob).
    fn register_write(&mut self, register: Handle<ir::Instance>, index: u64, value: &[u8]);

    /// `Digest.pack(data)` (a `ValueLayout` blob): published as an event.
    fn digest(&mut self, digest: Handle<ir::Instance>, payload: &[u8]);

    /// Runs the aging timer: deletes dynamic entries whose time has passed. The interpreter
    /// calls it before each packet; a backend with a real timer may do nothing.
    fn expire(&mut self);

    /// The time on the backend's clock (PNA's `timestamp`).
    fn now(&self) -> std::time::Duration;
}
