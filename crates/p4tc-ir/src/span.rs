//! Byte ranges into the files of a [`SourceMap`](crate::SourceMap).

use crate::source::FileId;

/// A byte range `lo..hi` in one source file.
///
/// Spans sit beside the syntax they describe, and are ignored by `==` and `Hash` so that trees
/// can be compared for meaning (parse → print → parse must give an equal tree although every
/// span moved). Use [`Span::same_place`] where the position itself matters.
#[derive(Clone, Copy, Default)]
pub struct Span {
    /// The file the range lies in.
    pub file: FileId,
    /// First byte.
    pub lo: u32,
    /// One past the last byte.
    pub hi: u32,
}

impl Span {
    /// A span of `lo..hi` in `file`.
    pub fn new(file: FileId, lo: u32, hi: u32) -> Span {
        debug_assert!(lo <= hi);
        Span { file, lo, hi }
    }

    /// The span covering both `self` and `other`; if they lie in different files (a construct
    /// that starts in one included file and ends in another), `self` is kept.
    pub fn to(self, other: Span) -> Span {
        if self.file != other.file {
            return self;
        }
        Span {
            file: self.file,
            lo: self.lo.min(other.lo),
            hi: self.hi.max(other.hi),
        }
    }

    /// The empty span just past the end of `self`: where a missing token should have been.
    pub fn end(self) -> Span {
        Span {
            file: self.file,
            lo: self.hi,
            hi: self.hi,
        }
    }

    /// Length in bytes.
    pub fn len(self) -> u32 {
        self.hi - self.lo
    }

    /// True when the span covers no byte.
    pub fn is_empty(self) -> bool {
        self.lo == self.hi
    }

    /// Exact comparison, position included.
    pub fn same_place(self, other: Span) -> bool {
        self.file == other.file && self.lo == other.lo && self.hi == other.hi
    }
}

impl PartialEq for Span {
    fn eq(&self, _other: &Span) -> bool {
        true
    }
}

impl Eq for Span {}

impl std::hash::Hash for Span {
    fn hash<H: std::hash::Hasher>(&self, _state: &mut H) {}
}

impl std::fmt::Debug for Span {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "@{}:{}..{}", self.file.0, self.lo, self.hi)
    }
}
