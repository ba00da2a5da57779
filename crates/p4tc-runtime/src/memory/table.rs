//! One table's entries and the index a lookup searches, by table kind:
//! - exact: one hash map on the key blob;
//! - LPM: path-compressed binary tries under a first-byte table (see [`super::lpm`]);
//! - tuple space (ternary, range, optional, several LPM fields): one hash map per distinct
//!   mask on the masked key, each key holding its candidates best priority first; range fields
//!   are masked out of the hash and checked on each candidate. Groups are visited best first,
//!   and the search stops at a group whose best entry cannot beat the best found.
//!
//! Entries live in a slab; a slot number is the [`EntryRef`](crate::EntryRef) the datapath
//! gets back from a lookup.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use p4tc_ir::arena::Handle;
use p4tc_ir::ir;
use p4tc_ir::layout::{MatchKind, TableKind};
use rustc_hash::FxHashMap;

use super::externs::MeterState;
use super::keys::EncodedKey;
use super::lpm::LpmIndex;
use crate::entry::{Actor, Aging, EntryInfo, EntrySpec};
use crate::model::TableModel;

/// The widest key blob: 512 bits of fields, the LPM header, padding.
pub(crate) const MAX_KEY_BYTES: usize = 72;

/// An entry as the backend keeps it.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    /// The entry as written, priority and permissions filled in, key normalised. Shared with
    /// the events about it until they are taken (an event costs no copy).
    pub spec: Arc<EntrySpec>,
    pub is_const: bool,
    pub created_by: Actor,
    pub updated_by: Option<Actor>,
    pub created_at: Duration,
    /// Direct counter: packets, bytes.
    pub counter: (u64, u64),
    /// Direct meter.
    /// Direct meter, once configured (an unconfigured meter marks green; most tables have
    /// none, so entries do not carry the state inline).
    pub meter: Option<Box<MeterState>>,
    pub key: EncodedKey,
    /// The priority in effect (0 in tables without priorities).
    pub prio: u32,
    /// Insertion order, unique across the backend: breaks priority ties (earlier wins) and
    /// tells an aging-heap item from a later entry in the same slot.
    pub seq: u64,
    /// How it ages, when dynamic.
    pub age: Option<Aging>,
    /// The deadline of this entry's live item in the aging heap (`None`: no item).
    pub heap_deadline: Option<Duration>,
}

impl Entry {
    pub fn info(&self, hot: &Hot, direct_counter: bool) -> EntryInfo {
        EntryInfo {
            spec: EntrySpec::clone(&self.spec),
            is_const: self.is_const,
            created_by: self.created_by,
            updated_by: self.updated_by,
            created_at: self.created_at,
            last_used: hot.last_used,
            counter: direct_counter.then_some(self.counter),
        }
    }
}

/// Action data up to this many bytes live inside the entry's [`Hot`] record.
const INLINE_PARAMS: usize = 30;

/// An entry's action data: inline when small (most are), else on the heap.
#[derive(Clone, Debug)]
pub(crate) enum Params {
    Inline { len: u8, bytes: [u8; INLINE_PARAMS] },
    Heap(Box<[u8]>),
}

impl Params {
    pub fn new(blob: &[u8]) -> Params {
        if blob.len() <= INLINE_PARAMS {
            let mut bytes = [0u8; INLINE_PARAMS];
            bytes[..blob.len()].copy_from_slice(blob);
            Params::Inline {
                len: blob.len() as u8,
                bytes,
            }
        } else {
            Params::Heap(blob.into())
        }
    }

    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        match self {
            Params::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Params::Heap(b) => b,
        }
    }
}

/// What a lookup reads and writes of an entry, kept apart from the rest (one cache line, in
/// a vector parallel to the slab) so a hit touches as little memory as possible.
#[derive(Clone, Debug)]
pub(crate) struct Hot {
    pub last_used: Duration,
    pub action: Option<Handle<ir::Action>>,
    /// The entry's datapath execute bit.
    pub exec: bool,
    /// The action data, laid out once at insert time.
    pub params: Params,
}

impl Hot {
    fn empty() -> Hot {
        Hot {
            last_used: Duration::ZERO,
            action: None,
            exec: false,
            params: Params::Inline {
                len: 0,
                bytes: [0; INLINE_PARAMS],
            },
        }
    }
}

/// A hash map on key blobs of one length, the key held inline for short blobs (no pointer to
/// follow on a probe): up to 8 bytes in a `u64`, up to 16 in a `u128`, up to 32 in an array.
#[derive(Debug)]
enum KeyMap<V> {
    W8(FxHashMap<u64, V>),
    W16(FxHashMap<u128, V>),
    W32(FxHashMap<[u8; 32], V>),
    Big(FxHashMap<Box<[u8]>, V>),
}

/// A key of up to 16 bytes as an integer, byte `j` at bits `8j..8j + 8`. Read 4 bytes at a
/// time straight from the slice (blobs are padded to 4 bytes): no copy into a buffer, whose
/// byte stores a wide load would then wait for.
#[inline]
pub(crate) fn to_u128(key: &[u8]) -> u128 {
    let mut v = 0u128;
    let mut chunks = key.chunks_exact(4);
    for (i, c) in (&mut chunks).take(4).enumerate() {
        let mut w = [0u8; 4];
        w.copy_from_slice(c);
        v |= u128::from(u32::from_le_bytes(w)) << (32 * i);
    }
    let start = key.len() / 4 * 4;
    for (j, &b) in chunks.remainder().iter().enumerate() {
        if start + j < 16 {
            v |= u128::from(b) << (8 * (start + j));
        }
    }
    v
}

#[inline]
fn pad<const N: usize>(key: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    let n = key.len().min(N);
    out[..n].copy_from_slice(&key[..n]);
    out
}

impl<V> KeyMap<V> {
    fn new(len: usize) -> KeyMap<V> {
        match len {
            0..=8 => KeyMap::W8(FxHashMap::default()),
            9..=16 => KeyMap::W16(FxHashMap::default()),
            17..=32 => KeyMap::W32(FxHashMap::default()),
            _ => KeyMap::Big(FxHashMap::default()),
        }
    }

    /// A map keyed by `u128`s whatever the key length (up to 16 bytes), for
    /// [`KeyMap::get_u128`].
    fn new_u128() -> KeyMap<V> {
        KeyMap::W16(FxHashMap::default())
    }

    /// The value of a key already made a `u128` (as [`KeyMap::get`] makes it); only maps
    /// made by [`KeyMap::new_u128`] (or for 9 to 16 bytes) have them.
    #[inline]
    fn get_u128(&self, key: u128) -> Option<&V> {
        match self {
            KeyMap::W16(m) => m.get(&key),
            _ => None,
        }
    }

    #[inline]
    fn get(&self, key: &[u8]) -> Option<&V> {
        match self {
            KeyMap::W8(m) => m.get(&(to_u128(key) as u64)),
            KeyMap::W16(m) => m.get(&to_u128(key)),
            KeyMap::W32(m) => m.get(&pad::<32>(key)),
            KeyMap::Big(m) => m.get(key),
        }
    }

    #[inline]
    fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        match self {
            KeyMap::W8(m) => m.get_mut(&(to_u128(key) as u64)),
            KeyMap::W16(m) => m.get_mut(&to_u128(key)),
            KeyMap::W32(m) => m.get_mut(&pad::<32>(key)),
            KeyMap::Big(m) => m.get_mut(key),
        }
    }

    fn entry_or_default(&mut self, key: &[u8]) -> &mut V
    where
        V: Default,
    {
        match self {
            KeyMap::W8(m) => m.entry(to_u128(key) as u64).or_default(),
            KeyMap::W16(m) => m.entry(to_u128(key)).or_default(),
            KeyMap::W32(m) => m.entry(pad::<32>(key)).or_default(),
            KeyMap::Big(m) => m.entry(key.into()).or_default(),
        }
    }

    fn insert(&mut self, key: &[u8], value: V) {
        match self {
            KeyMap::W8(m) => {
                m.insert(to_u128(key) as u64, value);
            }
            KeyMap::W16(m) => {
                m.insert(to_u128(key), value);
            }
            KeyMap::W32(m) => {
                m.insert(pad::<32>(key), value);
            }
            KeyMap::Big(m) => {
                m.insert(key.into(), value);
            }
        }
    }

    fn remove(&mut self, key: &[u8]) {
        match self {
            KeyMap::W8(m) => {
                m.remove(&(to_u128(key) as u64));
            }
            KeyMap::W16(m) => {
                m.remove(&to_u128(key));
            }
            KeyMap::W32(m) => {
                m.remove(&pad::<32>(key));
            }
            KeyMap::Big(m) => {
                m.remove(key);
            }
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            KeyMap::W8(m) => m.is_empty(),
            KeyMap::W16(m) => m.is_empty(),
            KeyMap::W32(m) => m.is_empty(),
            KeyMap::Big(m) => m.is_empty(),
        }
    }
}

/// A tuple-space candidate: enough to rank it without touching the slab.
#[derive(Clone, Copy, Debug)]
struct Cand {
    prio: u32,
    seq: u64,
    slot: u32,
}

impl Cand {
    fn rank(self) -> (u32, u64) {
        (self.prio, self.seq)
    }
}

#[derive(Debug)]
struct TernaryGroup {
    mask: Box<[u8]>,
    /// The mask as [`KeyMap`] makes a key of up to 16 bytes a `u128` (narrow tables).
    mask128: u128,
    /// Masked key -> candidates, best first.
    map: KeyMap<Vec<Cand>>,
    /// Ranks of every entry in the group: the first is the best the group can offer.
    ranks: BTreeSet<(u32, u64)>,
}

/// An exact table's map value: the entry's slot, and its hot record right there in the
/// bucket, so a hit touches the bucket and nothing else of the table.
#[derive(Debug)]
struct ExactVal {
    slot: u32,
    hot: Hot,
}

#[derive(Debug)]
enum Index {
    Exact(KeyMap<ExactVal>),
    Lpm(LpmIndex),
    Ternary {
        groups: Vec<TernaryGroup>,
        by_mask: FxHashMap<Box<[u8]>, usize>,
        /// Group numbers, best first (by each group's best rank).
        order: Vec<usize>,
        /// `order` needs sorting.
        dirty: bool,
        /// Byte ranges of the range fields.
        ranges: Vec<std::ops::Range<usize>>,
        /// Keys of up to 16 bytes: masked and hashed as `u128`s.
        narrow: bool,
    },
}

/// Why [`TableState::find`] found nothing.
pub(crate) enum FindError {
    /// No entry with that key (and priority).
    NotFound,
    /// Several entries with that key and no priority given to choose.
    Ambiguous,
}

/// A table's entries and index.
#[derive(Debug)]
pub(crate) struct TableState {
    slots: Vec<Option<Entry>>,
    /// Parallel to `slots` in LPM and tuple-space tables: what lookups touch. (Exact tables
    /// keep it in their map.)
    hot: Vec<Hot>,
    free: Vec<u32>,
    len: usize,
    index: Index,
    /// Size of a key blob.
    key_size: usize,
    /// Bytes before the key's data (LPM's prefix word).
    header: usize,
}

impl TableState {
    pub fn new(model: &TableModel) -> TableState {
        let layout = &model.key_layout;
        let size = layout.size as usize;
        let index = match layout.kind {
            TableKind::Exact => Index::Exact(KeyMap::new(size)),
            TableKind::Lpm => Index::Lpm(LpmIndex::new(size - layout.header_size as usize)),
            TableKind::Ternary => Index::Ternary {
                groups: Vec::new(),
                by_mask: FxHashMap::default(),
                order: Vec::new(),
                dirty: false,
                ranges: layout
                    .fields
                    .iter()
                    .filter(|f| f.match_kind == MatchKind::Range)
                    .map(|f| f.field.range())
                    .collect(),
                narrow: size <= 16,
            },
        };
        TableState {
            slots: Vec::new(),
            hot: Vec::new(),
            free: Vec::new(),
            len: 0,
            index,
            key_size: size,
            header: layout.header_size as usize,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn get(&self, slot: u32) -> Option<&Entry> {
        self.slots.get(slot as usize).and_then(Option::as_ref)
    }

    pub fn get_mut(&mut self, slot: u32) -> Option<&mut Entry> {
        self.slots.get_mut(slot as usize).and_then(Option::as_mut)
    }

    /// The entry in `slot` with its hot part.
    pub fn get_full(&self, slot: u32) -> Option<(&Entry, &Hot)> {
        let e = self.get(slot)?;
        let hot = match (&self.index, &e.key) {
            (Index::Exact(map), EncodedKey::Exact(k)) => &map.get(k)?.hot,
            _ => self.hot.get(slot as usize)?,
        };
        Some((e, hot))
    }

    /// The entry in `slot` with its hot part, to change.
    pub fn get_full_mut(&mut self, slot: u32) -> Option<(&mut Entry, &mut Hot)> {
        let key = &self.slots.get(slot as usize)?.as_ref()?.key;
        let hot = match (&mut self.index, key) {
            (Index::Exact(map), EncodedKey::Exact(k)) => &mut map.get_mut(k)?.hot,
            _ => self.hot.get_mut(slot as usize)?,
        };
        let e = self.slots.get_mut(slot as usize)?.as_mut()?;
        Some((e, hot))
    }

    /// Every live slot with its entry.
    pub fn entries(&self) -> impl Iterator<Item = (u32, &Entry)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.as_ref().map(|e| (i as u32, e)))
    }

    /// Live slots in dump order: longest prefix, then best priority, then insertion.
    pub fn sorted_slots(&self) -> Vec<u32> {
        let mut v: Vec<(u32, u32, u64, u32)> = self
            .entries()
            .map(|(slot, e)| {
                let len = match &e.key {
                    EncodedKey::Lpm { len, .. } => u32::MAX - len,
                    _ => 0,
                };
                (len, e.prio, e.seq, slot)
            })
            .collect();
        v.sort_unstable();
        v.into_iter().map(|t| t.3).collect()
    }

    /// The slot of the entry stored under `key` with priority `prio` (any priority when
    /// `None`, if only one entry has that key).
    pub fn find(&self, key: &EncodedKey, prio: Option<u32>) -> Result<u32, FindError> {
        match (&self.index, key) {
            (Index::Exact(map), EncodedKey::Exact(k)) => {
                map.get(k).map(|v| v.slot).ok_or(FindError::NotFound)
            }
            (Index::Lpm(trie), EncodedKey::Lpm { len, data }) => {
                trie.get(data, *len).ok_or(FindError::NotFound)
            }
            (
                Index::Ternary {
                    groups, by_mask, ..
                },
                EncodedKey::Ternary { key: k, mask, .. },
            ) => {
                let cands = by_mask
                    .get(&**mask)
                    .and_then(|&g| groups[g].map.get(k))
                    .ok_or(FindError::NotFound)?;
                let mut found = None;
                for c in cands {
                    let same = self.get(c.slot).is_some_and(|e| e.key == *key);
                    if !same || prio.is_some_and(|p| p != c.prio) {
                        continue;
                    }
                    if found.is_some() {
                        return Err(FindError::Ambiguous);
                    }
                    found = Some(c.slot);
                }
                found.ok_or(FindError::NotFound)
            }
            _ => Err(FindError::NotFound),
        }
    }

    /// Stores `entry` (the caller has checked it is not there and the table has room).
    pub fn insert(&mut self, entry: Entry, hot: Hot) -> u32 {
        let exact = matches!(self.index, Index::Exact(_));
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(None);
                if !exact {
                    self.hot.push(Hot::empty());
                }
                (self.slots.len() - 1) as u32
            }
        };
        // Exact tables keep the hot record in their map; the others in `hot`.
        let mut hot = Some(hot);
        let cand = Cand {
            prio: entry.prio,
            seq: entry.seq,
            slot,
        };
        match (&mut self.index, &entry.key) {
            (Index::Exact(map), EncodedKey::Exact(k)) => {
                if let Some(hot) = hot.take() {
                    map.insert(k, ExactVal { slot, hot });
                }
            }
            (Index::Lpm(trie), EncodedKey::Lpm { len, data }) => {
                trie.insert(data, *len, slot);
            }
            (
                Index::Ternary {
                    groups,
                    by_mask,
                    order,
                    dirty,
                    narrow,
                    ..
                },
                EncodedKey::Ternary { key, mask, .. },
            ) => {
                let g = match by_mask.get(&**mask) {
                    Some(&g) => g,
                    None => {
                        groups.push(TernaryGroup {
                            mask: mask.clone(),
                            mask128: to_u128(mask),
                            map: if *narrow {
                                KeyMap::new_u128()
                            } else {
                                KeyMap::new(mask.len())
                            },
                            ranks: BTreeSet::new(),
                        });
                        by_mask.insert(mask.clone(), groups.len() - 1);
                        order.push(groups.len() - 1);
                        groups.len() - 1
                    }
                };
                let group = &mut groups[g];
                let old_best = group.ranks.first().copied();
                group.ranks.insert(cand.rank());
                if group.ranks.first().copied() != old_best {
                    *dirty = true;
                }
                let cands = group.map.entry_or_default(key);
                let at = cands.partition_point(|c| c.rank() < cand.rank());
                cands.insert(at, cand);
            }
            _ => {}
        }
        self.slots[slot as usize] = Some(entry);
        if let (Some(hot), Some(h)) = (hot, self.hot.get_mut(slot as usize)) {
            *h = hot;
        }
        self.len += 1;
        slot
    }

    /// Takes the entry out of `slot`.
    pub fn remove(&mut self, slot: u32) -> Option<Entry> {
        let entry = self.slots.get_mut(slot as usize)?.take()?;
        if let Some(h) = self.hot.get_mut(slot as usize) {
            *h = Hot::empty();
        }
        self.free.push(slot);
        self.len -= 1;
        match (&mut self.index, &entry.key) {
            (Index::Exact(map), EncodedKey::Exact(k)) => {
                map.remove(k);
            }
            (Index::Lpm(trie), EncodedKey::Lpm { len, data }) => {
                trie.remove(data, *len);
            }
            (
                Index::Ternary {
                    groups,
                    by_mask,
                    order,
                    dirty,
                    ..
                },
                EncodedKey::Ternary { key, mask, .. },
            ) => {
                if let Some(&g) = by_mask.get(&**mask) {
                    let group = &mut groups[g];
                    let old_best = group.ranks.first().copied();
                    group.ranks.remove(&(entry.prio, entry.seq));
                    if group.ranks.first().copied() != old_best {
                        *dirty = true;
                    }
                    let now_empty = match group.map.get_mut(key) {
                        Some(cands) => {
                            cands.retain(|c| c.slot != slot);
                            cands.is_empty()
                        }
                        None => false,
                    };
                    if now_empty {
                        group.map.remove(key);
                    }
                    if group.map.is_empty() {
                        // Drop the empty group; the last one takes its number.
                        by_mask.remove(&**mask);
                        groups.swap_remove(g);
                        if g < groups.len() {
                            let moved = groups[g].mask.clone();
                            by_mask.insert(moved, g);
                        }
                        order.clear();
                        order.extend(0..groups.len());
                        *dirty = true;
                    }
                }
            }
            _ => {}
        }
        Some(entry)
    }

    /// The entry `key` (a lookup blob) hits, if any: its slot and hot record.
    #[inline]
    pub fn search(&mut self, key: &[u8]) -> Option<(u32, &mut Hot)> {
        if matches!(self.index, Index::Exact(_)) {
            let Index::Exact(map) = &mut self.index else {
                return None;
            };
            if key.len() != self.key_size {
                return None;
            }
            return map.get_mut(key).map(|v| (v.slot, &mut v.hot));
        }
        let slot = self.search_slot(key)?;
        Some((slot, self.hot.get_mut(slot as usize)?))
    }

    /// The slot of the entry `key` hits in an LPM or tuple-space table.
    #[inline]
    fn search_slot(&mut self, key: &[u8]) -> Option<u32> {
        if key.len() != self.key_size {
            return None;
        }
        match &mut self.index {
            Index::Exact(_) => None,
            Index::Lpm(trie) => trie.lookup(&key[self.header..]),
            Index::Ternary {
                groups,
                order,
                dirty,
                ranges,
                narrow,
                ..
            } => {
                if *dirty {
                    order.sort_by_key(|&g| groups[g].ranks.first().copied());
                    *dirty = false;
                }
                let n = key.len();
                let mut buf = [0u8; MAX_KEY_BYTES];
                let buf = &mut buf[..n];
                let key128 = to_u128(key);
                let mut best: Option<Cand> = None;
                for &g in order.iter() {
                    let group = &groups[g];
                    if let (Some(b), Some(first)) = (best, group.ranks.first()) {
                        if *first > b.rank() {
                            break;
                        }
                    }
                    let found = if *narrow {
                        group.map.get_u128(key128 & group.mask128)
                    } else {
                        for ((b, k), m) in buf.iter_mut().zip(key).zip(group.mask.iter()) {
                            *b = k & m;
                        }
                        group.map.get(buf)
                    };
                    let Some(cands) = found else {
                        continue;
                    };
                    for c in cands {
                        if best.is_some_and(|b| b.rank() < c.rank()) {
                            break;
                        }
                        let in_range = ranges.is_empty()
                            || self.slots[c.slot as usize]
                                .as_ref()
                                .is_some_and(|e| in_bounds(&e.key, key, ranges));
                        if in_range {
                            best = Some(*c);
                            break;
                        }
                    }
                }
                best.map(|c| c.slot)
            }
        }
    }
}

/// Whether every range field of `key` lies within the entry's bounds (big-endian bytes of
/// equal length compare as the numbers they hold).
#[inline]
fn in_bounds(entry: &EncodedKey, key: &[u8], ranges: &[std::ops::Range<usize>]) -> bool {
    let EncodedKey::Ternary {
        bounds: Some(bounds),
        ..
    } = entry
    else {
        return true;
    };
    let (lo, hi) = &**bounds;
    ranges
        .iter()
        .all(|r| key[r.clone()] >= lo[r.clone()] && key[r.clone()] <= hi[r.clone()])
}
