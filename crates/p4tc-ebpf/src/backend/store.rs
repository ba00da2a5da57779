//! A table's entries map as the object model writes it, whichever way the table keeps its
//! entries: a kernel map (hash, LPM trie, tuple space) through `bpf(2)`, or open addressing
//! in the mapped slots of an array ([`crate::open_table`]). Both answer with the kernel's error
//! numbers (`ENOENT`, `EEXIST`, `E2BIG`), so the object model's checks read the same for both.

use std::io;

use crate::open_table::{OpenError, OpenSlots};
use crate::sys;

/// The errno an open table's insert answers when no slot near the key's home is free.
pub(super) const NO_SLOT: i32 = libc::ELOOP;

/// One table's entries.
pub(super) enum Store<'a> {
    /// A kernel map.
    Kernel(&'a sys::SizedMap),
    /// Open addressing, with the table's size (the most entries it may hold).
    Open(OpenSlots<'a>, u32),
}

impl Store<'_> {
    /// The value of `key`.
    pub(super) fn lookup(&self, key: &[u8]) -> io::Result<Vec<u8>> {
        match self {
            Store::Kernel(map) => sys::SizedMap::lookup(map, key),
            Store::Open(slots, _) => match slots.find(key) {
                Some(slot) => Ok(slots.value(slot)),
                None => Err(io::Error::from_raw_os_error(libc::ENOENT)),
            },
        }
    }

    /// Writes a new element (`EEXIST` if the key is there).
    pub(super) fn insert(&self, key: &[u8], value: &[u8]) -> io::Result<()> {
        match self {
            Store::Kernel(map) => map.update(key, value, sys::BPF_NOEXIST),
            Store::Open(slots, size) => slots
                .writer()
                .and_then(|w| w.insert(key, value, *size))
                .map(|_| ())
                .map_err(errno_of),
        }
    }

    /// Writes new elements, each as [`insert`](Self::insert) would: its result as 0 or a
    /// negative errno (`EBUSY`: another process held the open table's lock). An open table
    /// is locked once for them all.
    pub(super) fn insert_all<'k>(
        &self,
        elements: impl Iterator<Item = (&'k [u8], &'k [u8])>,
    ) -> Vec<i32> {
        let errno = |e: io::Error| -e.raw_os_error().unwrap_or(libc::EIO);
        match self {
            Store::Kernel(_) => elements
                .map(|(k, v)| self.insert(k, v).map_or_else(errno, |()| 0))
                .collect(),
            Store::Open(slots, size) => match slots.writer() {
                Ok(w) => elements
                    .map(|(k, v)| {
                        w.insert(k, v, *size)
                            .map_or_else(|e| errno(errno_of(e)), |_| 0)
                    })
                    .collect(),
                Err(_) => elements.map(|_| -libc::EBUSY).collect(),
            },
        }
    }

    /// Replaces the value of an element there (`ENOENT` if it is not). An open table writes
    /// the new value into another slot and then retires the old one, so the datapath reads
    /// the old value or the new one, never half of each.
    pub(super) fn replace(&self, key: &[u8], value: &[u8]) -> io::Result<()> {
        match self {
            Store::Kernel(map) => map.update(key, value, sys::BPF_EXIST),
            Store::Open(slots, _) => {
                let w = slots.writer().map_err(errno_of)?;
                match w.find(key) {
                    Some(slot) => w.replace(slot, value).map(|_| ()).map_err(errno_of),
                    None => Err(io::Error::from_raw_os_error(libc::ENOENT)),
                }
            }
        }
    }

    /// Deletes an element (`ENOENT` if it is not there).
    pub(super) fn delete(&self, key: &[u8]) -> io::Result<()> {
        match self {
            Store::Kernel(map) => sys::SizedMap::delete(map, key),
            Store::Open(slots, _) => {
                let w = slots.writer().map_err(errno_of)?;
                match w.find(key) {
                    Some(slot) if w.remove(slot) => Ok(()),
                    _ => Err(io::Error::from_raw_os_error(libc::ENOENT)),
                }
            }
        }
    }

    /// Whether no element is there.
    pub(super) fn is_empty(&self) -> io::Result<bool> {
        match self {
            Store::Kernel(map) => Ok(sys::map_next_key(map.fd(), None)?.is_none()),
            Store::Open(slots, _) => Ok(slots.live().next().is_none()),
        }
    }

    /// Every element, key and value. An element deleted while the kernel map is listed is
    /// left out.
    pub(super) fn elements(&self) -> io::Result<Vec<(Vec<u8>, Vec<u8>)>> {
        match self {
            Store::Kernel(map) => map.elements(),
            Store::Open(slots, _) => Ok(slots.elements()),
        }
    }
}

/// An open table's error as the kernel's errno, where the object model tells them apart;
/// the others keep their words.
fn errno_of(e: OpenError) -> io::Error {
    io::Error::from_raw_os_error(match e {
        OpenError::Exists => libc::EEXIST,
        OpenError::Full { .. } => libc::E2BIG,
        OpenError::NoSlot { .. } => NO_SLOT,
        // Retired meanwhile (the kernel's aging sweep).
        OpenError::NotLive { .. } => libc::ENOENT,
        // Another process is writing the table; a layout that does not fit the memory.
        e => return io::Error::other(e),
    })
}
