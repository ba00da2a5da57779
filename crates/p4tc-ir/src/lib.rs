//! The leaf crate of p4tc.
//!
//! Today it holds what every later stage shares: the [`SourceMap`] of files a program was read
//! from, the [`Span`]s that point into them, and the [`Diagnostic`] type with its one renderer.
//! The typed IR and the byte layouts will live here too, so that back-ends depend on this crate
//! alone.
//!
//! Invariants:
//! - A [`Span`] always names a file of the [`SourceMap`] it was made with, and its byte range lies
//!   on character boundaries of that file's text.
//! - Spans never take part in tree equality (see [`Span`]): two syntax trees are equal when they
//!   say the same thing, wherever it was written.

pub mod arena;
pub mod diagnostic;
pub mod introspection;
pub mod ir;
pub mod layout;
pub mod source;
pub mod span;

pub use diagnostic::{Diagnostic, Label, Severity};
pub use source::{FileId, SourceFile, SourceMap};
pub use span::Span;
