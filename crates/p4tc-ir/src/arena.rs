//! Arenas and typed handles: how the IR refers to its parts.
//!
//! Items live in an [`Arena`] and are named by a [`Handle`], a 32-bit index that carries its
//! element type, so a handle to an action cannot be used where a table is meant. Spans sit in a
//! side vector beside the items, so passes that do not care about positions never touch them.
//! A [`UniqueArena`] additionally interns its items: equal items get the same handle, which
//! makes type equality a handle comparison.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::marker::PhantomData;

use crate::span::Span;

/// A typed index into an [`Arena`] or [`UniqueArena`].
pub struct Handle<T> {
    index: u32,
    marker: PhantomData<fn() -> T>,
}

impl<T> Handle<T> {
    fn new(index: usize) -> Handle<T> {
        let index = u32::try_from(index).unwrap_or(u32::MAX);
        Handle {
            index,
            marker: PhantomData,
        }
    }

    /// The position in the arena, from 0.
    pub fn index(self) -> usize {
        self.index as usize
    }
}

impl<T> Clone for Handle<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Handle<T> {}
impl<T> PartialEq for Handle<T> {
    fn eq(&self, other: &Self) -> bool {
        self.index == other.index
    }
}
impl<T> Eq for Handle<T> {}
impl<T> PartialOrd for Handle<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Handle<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.index.cmp(&other.index)
    }
}
impl<T> Hash for Handle<T> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.index.hash(state)
    }
}
impl<T> fmt::Debug for Handle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = std::any::type_name::<T>()
            .rsplit("::")
            .next()
            .unwrap_or("?");
        write!(f, "{name}#{}", self.index)
    }
}

/// A growable store of items, each with a span.
pub struct Arena<T> {
    items: Vec<T>,
    spans: Vec<Span>,
}

impl<T> Default for Arena<T> {
    fn default() -> Self {
        Arena {
            items: Vec::new(),
            spans: Vec::new(),
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Arena<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<T: Clone> Clone for Arena<T> {
    fn clone(&self) -> Self {
        Arena {
            items: self.items.clone(),
            spans: self.spans.clone(),
        }
    }
}

impl<T> Arena<T> {
    /// An empty arena.
    pub fn new() -> Arena<T> {
        Arena::default()
    }

    /// Adds an item and returns its handle.
    pub fn append(&mut self, item: T, span: Span) -> Handle<T> {
        self.items.push(item);
        self.spans.push(span);
        Handle::new(self.items.len() - 1)
    }

    /// The item `handle` names. Handles are checked by the validator before any pass trusts them.
    pub fn get(&self, handle: Handle<T>) -> Option<&T> {
        self.items.get(handle.index())
    }

    /// Mutable access to an item.
    pub fn get_mut(&mut self, handle: Handle<T>) -> Option<&mut T> {
        self.items.get_mut(handle.index())
    }

    /// Where the item was written.
    pub fn span(&self, handle: Handle<T>) -> Span {
        self.spans.get(handle.index()).copied().unwrap_or_default()
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// True when `handle` names an item of this arena.
    pub fn contains(&self, handle: Handle<T>) -> bool {
        handle.index() < self.items.len()
    }

    /// Every item with its handle, in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (Handle<T>, &T)> {
        self.items
            .iter()
            .enumerate()
            .map(|(i, item)| (Handle::new(i), item))
    }
}

impl<T> std::ops::Index<Handle<T>> for Arena<T> {
    type Output = T;
    fn index(&self, handle: Handle<T>) -> &T {
        &self.items[handle.index()]
    }
}

impl<T> std::ops::IndexMut<Handle<T>> for Arena<T> {
    fn index_mut(&mut self, handle: Handle<T>) -> &mut T {
        &mut self.items[handle.index()]
    }
}

/// An arena whose items are unique: inserting an equal item returns the existing handle.
pub struct UniqueArena<T> {
    items: Vec<T>,
    lookup: HashMap<T, u32>,
}

impl<T> Default for UniqueArena<T> {
    fn default() -> Self {
        UniqueArena {
            items: Vec::new(),
            lookup: HashMap::new(),
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for UniqueArena<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.items.iter().enumerate())
            .finish()
    }
}

impl<T: Clone + Eq + Hash> Clone for UniqueArena<T> {
    fn clone(&self) -> Self {
        UniqueArena {
            items: self.items.clone(),
            lookup: self.lookup.clone(),
        }
    }
}

impl<T: Eq + Hash + Clone> UniqueArena<T> {
    /// An empty arena.
    pub fn new() -> UniqueArena<T> {
        UniqueArena::default()
    }

    /// The handle of `item`, adding it if it is new.
    pub fn insert(&mut self, item: T) -> Handle<T> {
        if let Some(&index) = self.lookup.get(&item) {
            return Handle::new(index as usize);
        }
        let index = self.items.len();
        self.items.push(item.clone());
        self.lookup.insert(item, index as u32);
        Handle::new(index)
    }

    /// The handle of `item` if it is present.
    pub fn find(&self, item: &T) -> Option<Handle<T>> {
        self.lookup.get(item).map(|&i| Handle::new(i as usize))
    }

    /// The item `handle` names.
    pub fn get(&self, handle: Handle<T>) -> Option<&T> {
        self.items.get(handle.index())
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// True when `handle` names an item of this arena.
    pub fn contains(&self, handle: Handle<T>) -> bool {
        handle.index() < self.items.len()
    }

    /// Every item with its handle.
    pub fn iter(&self) -> impl Iterator<Item = (Handle<T>, &T)> {
        self.items
            .iter()
            .enumerate()
            .map(|(i, item)| (Handle::new(i), item))
    }
}

impl<T> std::ops::Index<Handle<T>> for UniqueArena<T> {
    type Output = T;
    fn index(&self, handle: Handle<T>) -> &T {
        &self.items[handle.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_index_their_items_and_spans() {
        let mut arena = Arena::new();
        let a = arena.append("a", Span::default());
        let b = arena.append("b", Span::new(crate::FileId(0), 3, 4));
        assert_eq!((arena[a], arena[b]), ("a", "b"));
        assert_eq!(arena.span(b).lo, 3);
        assert!(arena.contains(b));
        assert_eq!(arena.iter().count(), 2);
    }

    #[test]
    fn unique_arena_interns() {
        let mut types = UniqueArena::new();
        let x = types.insert(8u32);
        let y = types.insert(16u32);
        assert_eq!(types.insert(8u32), x);
        assert_ne!(x, y);
        assert_eq!(types.len(), 2);
        assert_eq!(types.find(&16), Some(y));
    }
}
