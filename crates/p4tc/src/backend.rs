//! The object model the interpreter runs on: `p4tc_runtime::MemoryBackend`.
//!
//! One function, so the day the backend's constructor changes only this file does.

use std::sync::Arc;

use p4tc_runtime::{ManualClock, MemoryBackend, PipelineModel};

/// A fresh in-memory backend for `pipeline`, reading time from `clock`.
pub fn memory_backend(
    pipeline: &Arc<PipelineModel>,
    clock: &ManualClock,
) -> anyhow::Result<MemoryBackend> {
    MemoryBackend::new(Arc::clone(pipeline), Arc::new(clock.clone()))
        .map_err(|e| anyhow::anyhow!("cannot set up pipeline {}: {e}", pipeline.name))
}
