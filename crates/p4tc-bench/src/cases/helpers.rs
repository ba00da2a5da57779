//! What every case's `install` needs: tables and actions by name, action calls, capacities.

use anyhow::anyhow;
use num_bigint::BigUint;
use p4tc_ir::arena::Handle;
use p4tc_ir::ir;
use p4tc_runtime::model::TableModel;
use p4tc_runtime::{ActionCall, PipelineModel};

use crate::case::Scale;

/// A table's capacity at `scale`: its declared `declared` entries, or the population when
/// larger (with room for the few fixed entries a case or the program adds beside it).
pub(crate) fn capacity(scale: &Scale, declared: usize) -> usize {
    if scale.entries < declared {
        declared
    } else {
        scale.entries + 16
    }
}

/// The table named `name`.
pub(crate) fn table<'m>(model: &'m PipelineModel, name: &str) -> anyhow::Result<&'m TableModel> {
    model
        .table_by_name(name)
        .ok_or_else(|| anyhow!("{} has no table {name}", model.name))
}

/// The action named `name` of `table`.
pub(crate) fn action(table: &TableModel, name: &str) -> anyhow::Result<Handle<ir::Action>> {
    Ok(table
        .action_by_name(name)
        .ok_or_else(|| anyhow!("table {} has no action {name}", table.name))?
        .handle)
}

/// `action(params...)`.
pub(crate) fn call(action: Handle<ir::Action>, params: &[u64]) -> ActionCall {
    ActionCall {
        action,
        params: params.iter().map(|&p| BigUint::from(p)).collect(),
    }
}
