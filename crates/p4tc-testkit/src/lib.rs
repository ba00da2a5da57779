//! Test formats of p4tc and the runner that uses them.
//!
//! - [`stf`]: the STF format of p4c's test suites: a parser that turns an STF file into
//!   [`stf::Statement`]s and the packet [`stf::Expectation`] type that decides whether an output
//!   packet matches an `expect` line.
//! - [`stf_run`]: runs those statements on a [`target::Target`] and reports every failure
//!   with its line.
//! - [`target`]: what a datapath offers the runner (object model, packets in and out, a clock);
//!   [`interp_target`] is the reference interpreter's, [`kernel_target`] the eBPF datapath's.

pub mod interp_target;
pub mod kernel_target;
pub mod stf;
pub mod stf_run;
pub mod target;
