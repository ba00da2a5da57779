//! One table's entries map, element by element, through a descriptor, whichever way the
//! table keeps its entries (a kernel map, or open addressing in an array,
//! [`crate::open_table`]): for tools and tests that write or read elements by hand. The
//! object model ([`crate::backend::KernelBackend`]) is the way to manage entries; this is
//! the map level under it. An open table's inserts here are not bounded by the table's size.

use std::io;
use std::os::fd::BorrowedFd;

use crate::open_table::{OpenError, OpenLayout, OpenSlots, Writer, SLOT_LIVE};
use crate::{sys, TableSpec};

/// Runs `f` on the slots of open table `map`.
fn with_slots<T>(
    map: BorrowedFd<'_>,
    layout: OpenLayout,
    f: impl FnOnce(OpenSlots<'_>) -> io::Result<T>,
) -> io::Result<T> {
    let words = sys::SharedWords::map(map)?;
    f(OpenSlots::new(words.words(), layout).map_err(io::Error::other)?)
}

/// Runs `f` as the one writer of open table `map` ([`OpenSlots::writer`]).
fn with_writer<T>(
    map: BorrowedFd<'_>,
    layout: OpenLayout,
    f: impl FnOnce(&Writer<'_, '_>) -> io::Result<T>,
) -> io::Result<T> {
    with_slots(map, layout, |slots| f(&slots.writer().map_err(errno)?))
}

/// An open table's refusal as the kernel's errno where it has one.
fn errno(e: OpenError) -> io::Error {
    match e {
        OpenError::Exists => io::Error::from_raw_os_error(libc::EEXIST),
        OpenError::NotLive { .. } => io::Error::from_raw_os_error(libc::ENOENT),
        e => io::Error::other(e),
    }
}

/// Writes a new element (`EEXIST` if the key is there).
pub fn insert(map: BorrowedFd<'_>, table: &TableSpec, key: &[u8], value: &[u8]) -> io::Result<()> {
    match table.open {
        None => sys::map_update(map, key, value, sys::BPF_NOEXIST),
        Some(layout) => with_writer(map, layout, |slots| {
            slots
                .insert(key, value, u32::MAX)
                .map(|_| ())
                .map_err(errno)
        }),
    }
}

/// Writes an element, new or in place of the key's (`BPF_ANY`).
pub fn write(map: BorrowedFd<'_>, table: &TableSpec, key: &[u8], value: &[u8]) -> io::Result<()> {
    match table.open {
        None => sys::map_update(map, key, value, sys::BPF_ANY),
        Some(layout) => with_writer(map, layout, |slots| {
            match slots.find(key) {
                Some(slot) => slots.replace(slot, value),
                None => slots.insert(key, value, u32::MAX),
            }
            .map(|_| ())
            .map_err(errno)
        }),
    }
}

/// Deletes the element of `key` (`ENOENT` if it is not there).
pub fn delete(map: BorrowedFd<'_>, table: &TableSpec, key: &[u8]) -> io::Result<()> {
    match table.open {
        None => sys::map_delete(map, key),
        Some(layout) => with_writer(map, layout, |slots| match slots.find(key) {
            Some(slot) if slots.remove(slot) => Ok(()),
            _ => Err(io::Error::from_raw_os_error(libc::ENOENT)),
        }),
    }
}

/// The value of `key` (`ENOENT` if it is not there).
pub fn lookup(map: BorrowedFd<'_>, table: &TableSpec, key: &[u8]) -> io::Result<Vec<u8>> {
    match table.open {
        None => sys::map_lookup(map, key),
        Some(layout) => with_slots(map, layout, |slots| {
            slots
                .find(key)
                .map(|slot| slots.value(slot))
                .ok_or_else(|| io::Error::from_raw_os_error(libc::ENOENT))
        }),
    }
}

/// Every element of `table`'s entries map `map`: key and value (an element deleted while a
/// kernel map is listed is left out).
pub fn elements(map: BorrowedFd<'_>, table: &TableSpec) -> io::Result<Vec<(Vec<u8>, Vec<u8>)>> {
    match table.open {
        None => sys::SizedMap::new(map.try_clone_to_owned()?)?.elements(),
        Some(layout) => with_slots(map, layout, |slots| Ok(slots.elements())),
    }
}

/// How many entries the entries map `map` holds: its elements, or an open table's live slots
/// (the map alone says which: an mmap-able array is an open table). Any other map: its
/// elements.
pub fn count(map: BorrowedFd<'_>) -> io::Result<usize> {
    if sys::map_type(map)? != sys::MAP_TYPE_ARRAY {
        return sys::map_count(map);
    }
    let Ok(words) = sys::SharedWords::map(map) else {
        // Not mmap-able: a plain array (default actions, masks), counted as any map.
        return sys::map_count(map);
    };
    let (_, slot_size) = sys::map_sizes(map)?;
    let stride = slot_size as usize / 8;
    // Element 0 is the header; each slot's first word is its state.
    Ok(words
        .words()
        .chunks(stride)
        .skip(1)
        .filter(|slot| slot[0].load(std::sync::atomic::Ordering::Acquire) == SLOT_LIVE)
        .count())
}
