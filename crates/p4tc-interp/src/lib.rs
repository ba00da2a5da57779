//! The reference interpreter: runs a validated P4 program (its IR) on packets, in userspace,
//! with the PNA semantics P4TC gives them. Every other datapath is compared with it.
//!
//! Table and extern state is not kept here: the interpreter asks a
//! [`p4tc_runtime::Datapath`] (in practice the in-memory backend of the object model), so the
//! control plane sees and changes the same state whichever datapath runs.

use std::sync::Arc;

use p4tc_ir::ir::Module;
use p4tc_runtime::Datapath;

/// Why a program cannot be run.
#[derive(Debug, thiserror::Error)]
pub enum InterpError {
    /// The module has no pipeline, or not the roles the architecture needs.
    #[error("{0}")]
    Pipeline(String),
    /// Something the interpreter does not support, named.
    #[error("not supported by the interpreter: {0}")]
    Unsupported(String),
}

/// What happens to a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Sent out of this port (`send_to_port`).
    Send(u32),
    /// Neither sent nor dropped: P4TC passes it on to the kernel's stack (TC_ACT_OK).
    Pass,
    /// Dropped (`drop_packet`, or a parser `reject` without an error).
    Drop,
}

/// The result of one packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome<'a> {
    /// Where it goes.
    pub verdict: Verdict,
    /// The parser error the control saw, by index into `Module::errors` (`None` for NoError).
    pub parser_error: Option<u32>,
    /// The packet as the deparser left it (emitted headers, then the unparsed payload).
    pub packet: &'a [u8],
}

/// A compiled program, ready to run packets.
pub struct Interpreter {
    module: Arc<Module>,
}

impl Interpreter {
    /// Prepares `module` (validated, with a PNA pipeline) to run. `seed` seeds `Random`.
    pub fn new(module: Arc<Module>, seed: u64) -> Result<Interpreter, InterpError> {
        let _ = seed;
        if module.pipeline.is_none() {
            return Err(InterpError::Pipeline(
                "the program has no `main` package".into(),
            ));
        }
        Ok(Interpreter { module })
    }

    /// The program.
    pub fn module(&self) -> &Arc<Module> {
        &self.module
    }

    /// Runs one packet that arrived on `input_port`.
    pub fn process(
        &mut self,
        datapath: &mut dyn Datapath,
        packet: &[u8],
        input_port: u32,
    ) -> Outcome<'_> {
        let _ = (datapath, packet, input_port);
        Outcome {
            verdict: Verdict::Drop,
            parser_error: None,
            packet: &[],
        }
    }
}
