//! The run-time context every compiled closure receives: the state vector, the packet being
//! parsed, the packet being deparsed, the datapath, and the per-packet architecture state.

use p4tc_runtime::{Datapath, EntryRef};

use crate::bits::BitWriter;
use crate::program::Program;

/// How a statement finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    /// Go on with the next statement.
    Next,
    /// `exit`: leave every block up to the top-level control.
    Exit,
    /// `return`: leave the current action or function.
    Return,
    /// `break` out of the innermost loop.
    Break,
    /// `continue` with the innermost loop's next iteration.
    Continue,
}

/// A compiled scalar expression (at most 128 bits): its value.
pub(crate) type SFn = Box<dyn Fn(&mut Ctx<'_>) -> u128 + Send + Sync>;
/// A compiled composite or wide expression: the address of the slots that hold its value.
pub(crate) type AFn = Box<dyn Fn(&mut Ctx<'_>) -> usize + Send + Sync>;
/// A compiled statement.
pub(crate) type XFn = Box<dyn Fn(&mut Ctx<'_>) -> Flow + Send + Sync>;

/// TC's packet metadata as `skb_get_*` / `skb_set_*` see it.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Skb {
    pub mark: u32,
    pub tstamp: u64,
    pub tc_classid: u16,
    pub tc_index: u16,
    pub queue_mapping: u16,
    pub protocol: u16,
}

/// The last lookup of a table in this packet (for `add_entry` and per-entry externs).
#[derive(Clone, Debug, Default)]
pub(crate) struct LastLookup {
    /// The key blob of the last lookup.
    pub key: Vec<u8>,
    /// The entry it hit.
    pub entry: Option<EntryRef>,
}

/// Architecture state kept across the closures of one packet (and, for a few fields, across
/// packets).
#[derive(Debug, Default)]
pub(crate) struct Run {
    /// `drop_packet()` was called last.
    pub drop: bool,
    /// The port `send_to_port` chose (0: none).
    pub egress: u32,
    /// `recirculate()` was called.
    pub recirculate: bool,
    /// A parser error raised and not yet handled (the error's index).
    pub trap: Option<u32>,
    /// TC metadata.
    pub skb: Skb,
    /// Length of the packet as it arrived at this pass, in bytes.
    pub packet_len: u64,
    /// Per table (by handle index): the last lookup.
    pub lookups: Vec<LastLookup>,
    /// `exit` ran in a called action, function or control.
    pub exit: bool,
    /// The table whose action is running, if any (by handle index).
    pub table: Option<usize>,
    /// Checksum units' accumulated data, by unit number.
    pub checksums: Vec<BitWriter>,
    /// Scratch bytes for blobs.
    pub scratch: Vec<u8>,
    /// Scratch bits for hash and checksum input.
    pub bits: BitWriter,
    /// `allocate_flow_id`'s counter (kept across packets).
    pub flow_id: u32,
    /// Parser value sets' members (value, mask), by instance index (kept across packets).
    pub value_sets: Vec<Vec<(u128, u128)>>,
    /// The PRNG's state (kept across packets).
    pub rng: u64,
}

/// What a closure sees.
pub(crate) struct Ctx<'a> {
    /// The state vector.
    pub s: &'a mut [u128],
    /// The packet being parsed.
    pub pkt: &'a [u8],
    /// The parser's position in `pkt`, in bits.
    pub pos: usize,
    /// The packet being deparsed.
    pub out: &'a mut BitWriter,
    /// The object model.
    pub dp: &'a mut dyn Datapath,
    /// Architecture state.
    pub run: &'a mut Run,
    /// The compiled program (for calls by index).
    pub prog: &'a Program,
}

impl Ctx<'_> {
    /// Raises parser error `error` (the first one raised wins).
    #[inline]
    pub fn trap(&mut self, error: u32) {
        if self.run.trap.is_none() {
            self.run.trap = Some(error);
        }
    }

    /// The next pseudo-random number (splitmix64).
    pub fn random(&mut self) -> u64 {
        self.run.rng = self.run.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.run.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}
