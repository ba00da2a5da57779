//! The P4-16 front-end of p4tc.
//!
//! Passes, each in its own module: [`preprocess`] (C-style directives, includes and macros, on
//! tokens so spans keep pointing into the original files), [`lexer`], [`parser`] (recursive
//! descent over the whole P4-16 grammar, recovering after errors so that one run reports them
//! all), producing the syntax tree in [`ast`]; [`printer`] writes a tree back as P4 source.
//! Architecture include files (`core.p4`, `pna.p4`, `tc/pna.p4`) ship inside the crate
//! ([`builtin`]).

pub mod builtin;
pub mod lexer;
pub mod preprocess;
pub mod token;
pub mod ast;
