//! Compiling a program for the commands that run it (`p4tc test`, `p4tc run`): the front-end
//! on its big-stack thread, diagnostics to stderr, and the interpreter set up on the result.

use std::sync::Arc;

use p4tc_interp::Interpreter;
use p4tc_ir::ir::Module;
use p4tc_runtime::{ManualClock, PipelineModel};
use p4tc_testkit::interp_target::InterpTarget;
use p4tc_testkit::target::Target;

use crate::check::{preprocess_options, run_front_end, SourceArgs};

/// Checks the program, printing its diagnostics (warnings too) to stderr; `None` when it has
/// errors.
pub fn compile(source: &SourceArgs) -> anyhow::Result<Option<Module>> {
    let options = preprocess_options(source)?;
    let result = run_front_end(source.file.clone(), options, p4tc_front::check)?;
    eprint!("{}", result.diagnostics);
    Ok(if result.failed { None } else { result.output })
}

/// The reference interpreter on the in-memory object model, with a clock that starts at zero
/// and moves only when the target is told to (STF `wait`, pcap timestamps).
pub fn interp_target(module: Module, name: &str, seed: u64) -> anyhow::Result<Box<dyn Target>> {
    let module = Arc::new(module);
    let pipeline = Arc::new(
        PipelineModel::new(Arc::clone(&module), name)
            .map_err(|e| anyhow::anyhow!("cannot model pipeline {name}: {e}"))?,
    );
    let clock = ManualClock::new();
    let interpreter = Interpreter::new(module, seed)
        .map_err(|e| anyhow::anyhow!("cannot run the program: {e}"))?;
    let backend = crate::backend::memory_backend(&pipeline, &clock)?;
    Ok(Box::new(InterpTarget::new(
        interpreter,
        backend,
        clock,
        pipeline,
    )))
}
