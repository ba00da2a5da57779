//! Side-by-side benchmarks of p4tc's generated eBPF against hand-written C programs of the
//! same behaviour (issue #8).
//!
//! A [`Case`] names an example, holds the hand-written C twin (in `handwritten/`), the table
//! populations ([`Scale`]s) to measure at, and fills both programs' tables alike. The harness
//! checks that both give the same verdicts and bytes before it times anything, then measures
//! ns per packet with `BPF_PROG_TEST_RUN` and reports the ratio generated / hand-written.
//! Method: `docs/benchmarks.md`.

pub mod case;
pub mod cases;
pub mod extra;
pub mod harness;
pub mod packets;

pub use case::{try_with_table_size, with_table_size, Case, HandProgram, NoSuchTable, Scale};
