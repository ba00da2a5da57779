//! The reference interpreter as a [`Target`]: the interpreter runs packets against a backend
//! that is both the datapath's state and the control plane's object model (in practice
//! `p4tc_runtime::MemoryBackend`), on a [`ManualClock`] that only moves when told.

use std::sync::Arc;
use std::time::Duration;

use p4tc_interp::{Interpreter, Verdict};
use p4tc_runtime::{Datapath, ManualClock, ObjectModel, PipelineModel};

use crate::target::{Delivery, Target, TargetError};

/// The interpreter on an in-memory backend.
pub struct InterpTarget<B> {
    interpreter: Interpreter,
    backend: B,
    clock: ManualClock,
    pipeline: Arc<PipelineModel>,
}

impl<B: ObjectModel + Datapath> InterpTarget<B> {
    /// Runs `interpreter` on `backend`, which must have been built for `pipeline` and must
    /// read its time from `clock` (so [`Target::advance_clock`] reaches it).
    pub fn new(
        interpreter: Interpreter,
        backend: B,
        clock: ManualClock,
        pipeline: Arc<PipelineModel>,
    ) -> InterpTarget<B> {
        InterpTarget {
            interpreter,
            backend,
            clock,
            pipeline,
        }
    }

    /// The clock the backend reads.
    pub fn clock(&self) -> &ManualClock {
        &self.clock
    }

    /// The backend, for what the [`Target`] trait does not cover.
    pub fn backend_mut(&mut self) -> &mut B {
        &mut self.backend
    }
}

impl<B: ObjectModel + Datapath> Target for InterpTarget<B> {
    fn pipeline(&self) -> Arc<PipelineModel> {
        Arc::clone(&self.pipeline)
    }

    fn control(&mut self) -> &mut dyn ObjectModel {
        &mut self.backend
    }

    fn send(&mut self, port: u32, packet: &[u8]) -> Result<Delivery, TargetError> {
        let outcome = self.interpreter.process(&mut self.backend, packet, port);
        let parser_error = outcome.parser_error.map(|index| {
            self.pipeline
                .module
                .errors
                .get(index as usize)
                .cloned()
                .unwrap_or_else(|| format!("error #{index}"))
        });
        let bytes = outcome.packet.to_vec();
        let mut delivery = Delivery {
            parser_error,
            ..Delivery::default()
        };
        match outcome.verdict {
            Verdict::Send(out) => delivery.outputs.push((out, bytes)),
            Verdict::Pass => delivery.to_host = Some(bytes),
            Verdict::Drop => {}
        }
        Ok(delivery)
    }

    fn advance_clock(&mut self, by: Duration) {
        self.clock.advance(by);
        // The interpreter expires entries before each packet; doing it now too makes aged-out
        // entries disappear from the control plane's view (`check_counter`, dumps) at the
        // time they age, not at the next packet.
        self.backend.expire();
    }
}
