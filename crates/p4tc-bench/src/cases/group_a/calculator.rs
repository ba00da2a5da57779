//! calculator: a const table on the operation code computes a signed result and replies.

use p4tc_runtime::{ObjectModel, PipelineModel};

use super::{stf_packets, stf_scale};
use crate::case::{Case, HandProgram, Scale};

/// The STF's packets (every operation, an unsupported one, frames that are not ours); the
/// table is const, so there is nothing to install.
pub struct Calculator;

impl Case for Calculator {
    fn example(&self) -> &'static str {
        "calculator"
    }

    fn handwritten_c(&self) -> &'static str {
        include_str!("../../../handwritten/calculator.c")
    }

    fn scales(&self) -> Vec<Scale> {
        stf_scale()
    }

    fn install(
        &self,
        _scale: &Scale,
        _ours: &mut dyn ObjectModel,
        _model: &PipelineModel,
        _hand: &HandProgram,
    ) -> anyhow::Result<Vec<(u32, Vec<u8>)>> {
        stf_packets(include_str!(
            "../../../../../examples/calculator/calculator.stf"
        ))
    }
}
