//! Test formats of p4tc.
//!
//! Today this is the STF format of p4c's test suites ([`stf`]): a parser that turns an STF file
//! into [`stf::Statement`]s and the packet [`stf::Expectation`] type that decides whether an
//! output packet matches an `expect` line. Running the statements is the interpreter's job; this
//! crate only knows the format, so every datapath's test runner can share it.

pub mod stf;
