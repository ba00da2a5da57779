//! P4TC's command language (`tc p4ctrl`, our `p4tc ctl`): parsing commands into typed
//! object-model operations, and running them.
//!
//! # The language
//!
//! ```text
//! create|update|delete|get PIPE/table/CONTROL/TABLE [KEYFIELD VALUE]... [prio N]
//!     [action A [param NAME VALUE]...] [permissions 0xHHHH] [dynamic] [aging MS | profile_id N]
//! create|update|delete PIPE/table/CONTROL/TABLE entry KEY... [action ...] entry KEY... ...
//! get|delete PIPE/table/CONTROL/TABLE [filter EXPR]          (no key: dump / flush)
//! update PIPE/table/CONTROL/TABLE default_miss_action|default_hit_action action A [param ...]
//! get PIPE/table/CONTROL/TABLE default_miss_action|default_hit_action
//! get|update PIPE/timer_profile[/N] [profile_id N] [aging MS]
//! get|update|reset PIPE/extern/KIND/INSTANCE [tc_key index N] [param NAME VALUE]...
//! help
//! ```
//!
//! The pieces: [`parse_args`] (command-line words), [`parse_line`] (one line of text),
//! [`parse_file`] (entries and bulk files) give [`Command`]s resolved against a
//! [`PipelineModel`](crate::PipelineModel); [`execute`] runs one through any
//! [`ObjectModel`](crate::ObjectModel) into an [`Output`] (text by `Display`, JSON by
//! [`Output::to_json`]); [`run_line`] and [`apply_file`] do both; [`describe`] is the help
//! text; [`event_view`] prints the object model's events (`p4tc mon`).
//!
//! Choices made where P4TC leaves room (each one is tested in `tests.rs`):
//! - The table path is `PIPE/table/CONTROL/TABLE` or `PIPE/CONTROL/TABLE`; a table name may be
//!   shortened to `TABLE` when only one control has it. `PIPE` must be the model's name. In
//!   files (and [`parse_line`]) `PIPE/` may be left out when the path starts with `table/`,
//!   `extern/` or `timer_profile`. A leading `p4tc ctl` or `tc p4ctrl` is skipped, so commands
//!   can be pasted.
//! - Key fields are `NAME VALUE` pairs (`key.NAME` too, for a field named like a keyword), in
//!   any order. Exact and LPM fields are required; a ternary, range or optional field left out
//!   is a wildcard (`_` and `*` say so explicitly).
//! - After a `/`, a plain decimal number is a prefix length (for every type, as P4TC does for
//!   `ipv4`); anything else (`0xff00`, `255.255.0.0`) is a mask. `&&&` always takes a mask. An
//!   exact field accepts only the full-width prefix (`10.0.1.2/32`, as P4TC's own examples write).
//!   LPM and ternary values are stored masked, so `10.0.1.2/24` is the entry `10.0.1.0/24`.
//! - `aging MS` and `profile_id N` make an entry dynamic without `dynamic` being written.
//! - `update` of an entry changes what it gives: an action, permissions or aging left out
//!   keep the entry's current ones (read first with `get_entry`).
//! - Timer profiles: `update PIPE/timer_profile/N aging MS` (also `timer_profile N` and
//!   `timer_profile profile_id N`); `get PIPE/timer_profile` lists them.
//! - Externs: `Counter` reads, resets (`reset`, or `update` with every param 0); `Register`
//!   reads and writes (fields not given keep their value); `Meter` is configured with
//!   `update ... param cir R param cbs B [param pir R] [param pbs B]` (pir and pbs default to
//!   cir and cbs: a single-rate meter). `get`/`reset` without `tc_key index N` cover every
//!   element (a `get` lists the non-zero ones).
//! - Batches ([`execute`]): each entry is applied on its own; the others are applied even
//!   when one fails, and the output lists each failure by entry index (from 0) and error.
//! - Filters (`filter EXPR`, the rest of the command): `key.FIELD`, `param.NAME`, `prio`,
//!   `msecs_since` compared with `== != < > <= >=`, joined by `and`, `or`, `not` and
//!   parentheses. On a key, `==` and `!=` compare the whole match (value and prefix, mask or
//!   range, as the field's match kind parses the value); the ordered operators compare the
//!   value alone (the low end of a range). `param.NAME` is false for an entry whose action has
//!   no such parameter.

mod command;
mod events;
mod execute;
mod externs;
mod file;
mod filter;
mod format;
mod help;
mod lexer;
#[cfg(test)]
mod memory_tests;
#[cfg(test)]
mod tests;
mod values;

use std::fmt;

pub use command::{parse_args, parse_line, pipeline_of, Command, CommandKind, ExternOp};
pub use events::{event_view, EventView};
pub use execute::{execute, execute_all, execute_all_owned, run_line, ExecError, CREATE_CHUNK};
pub use file::{apply_file, parse_file};
pub use filter::{CmpOp, Filter, FilterField, FilterValue};
pub use format::{
    format_key_match, format_value, ActionView, BatchFailure, CounterElement, CounterView,
    EntryView, KeyView, Output, ParamView, RegisterElement,
};
pub use help::describe;
pub use values::{parse_key_match, parse_value};

/// Resolves an interface name to its index (`dev` values): the interpreter maps the names
/// of its ports, the kernel backend uses `if_nametoindex`. Numbers never reach it.
pub type DevResolver<'a> = &'a dyn Fn(&str) -> Option<u32>;

/// A resolver that knows no names: `dev` values must be numbers.
pub fn numbers_only(_: &str) -> Option<u32> {
    None
}

/// Where a problem is: a word of the command line (from 0), and for text, its line and column
/// (from 1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Pos {
    /// Line in the file or text (from 1); `None` for command-line arguments.
    pub line: Option<usize>,
    /// Column of the word's first character (from 1), in characters; for command-line
    /// arguments, in the arguments joined by single spaces.
    pub column: usize,
    /// Index of the word in its command (from 0, the verb being word 0).
    pub word: usize,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}, column {}", self.column),
            None => write!(f, "word {}", self.word + 1),
        }
    }
}

/// A command that cannot be parsed or resolved against the pipeline: where, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{at}: {message}")]
pub struct CtlError {
    /// Where.
    pub at: Pos,
    /// What is wrong, naming the object (`table ingress/nh_table has no key field ...`).
    pub message: String,
}

impl CtlError {
    /// An error at `at`.
    pub fn new(at: Pos, message: impl Into<String>) -> CtlError {
        CtlError {
            at,
            message: message.into(),
        }
    }
}
