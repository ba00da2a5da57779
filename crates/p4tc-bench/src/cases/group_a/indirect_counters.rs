//! indirect_counters: per-port and per-class counters around an exact EtherType lookup.

use p4tc_runtime::{EntrySpec, KeyMatch, ObjectModel, PipelineModel};

use super::{action, call, create_all, stf_packets, stf_scale, table, Bytes};
use crate::case::{Case, HandProgram, Scale};

/// The STF's entries and packets (its key is a 16-bit EtherType: no large population).
pub struct IndirectCounters;

/// The STF's entries: EtherType, traffic class and output port, or `None` for
/// unknown_ethertype (drop).
const ENTRIES: [(u16, Option<(u32, u32)>); 4] = [
    (0x0800, Some((1, 2))),
    (0x86dd, Some((2, 3))),
    (0x0806, Some((20, 4))),
    (0x88cc, None),
];

impl Case for IndirectCounters {
    fn example(&self) -> &'static str {
        "indirect_counters"
    }

    fn handwritten_c(&self) -> &'static str {
        include_str!("../../../handwritten/indirect_counters.c")
    }

    fn scales(&self) -> Vec<Scale> {
        stf_scale()
    }

    fn install(
        &self,
        _scale: &Scale,
        ours: &mut dyn ObjectModel,
        model: &PipelineModel,
        hand: &HandProgram,
    ) -> anyhow::Result<Vec<(u32, Vec<u8>)>> {
        let t = table(model, "by_ethertype")?;
        let classify = action(t, "classify")?;
        let unknown = action(t, "unknown_ethertype")?;
        let mut specs = Vec::new();
        for (ethertype, what) in ENTRIES {
            let a = match what {
                Some((class, port)) => call(classify, &[u64::from(class), u64::from(port)]),
                None => call(unknown, &[]),
            };
            specs.push(EntrySpec::new(
                vec![KeyMatch::Exact(ethertype.into())],
                Some(a),
            ));
            // A drop entry behaves as a miss in the hand-written program: it has none.
            if let Some((class, port)) = what {
                hand.map_update(
                    "by_ethertype",
                    &ethertype.to_be_bytes(),
                    &Bytes::default().u32(class).u32(port).done(),
                )?;
            }
        }
        create_all(ours, t, specs)?;
        stf_packets(include_str!(
            "../../../../../examples/indirect_counters/indirect_counters.stf"
        ))
    }
}
