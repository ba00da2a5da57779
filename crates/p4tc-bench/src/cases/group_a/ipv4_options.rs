//! ipv4_options: the first IPv4 option's number picks allow, strip or drop; packets without
//! options take an LPM route.

use p4tc_runtime::{EntrySpec, KeyMatch, ObjectModel, PipelineModel};

use super::{action, call, create_all, stf_packets, stf_scale, table, Bytes};
use crate::case::{Case, HandProgram, Scale};

/// The STF's entries and packets (the policy's key is a 5-bit option number).
pub struct Ipv4Options;

/// The STF's policies: option number, kind (1 allow, 2 strip, 0 reject), port.
const POLICIES: [(u8, u32, u32); 4] = [(20, 2, 2), (7, 1, 3), (4, 0, 0), (1, 1, 4)];

/// The STF's route: 10.0.0.0/8 to port 1.
const ROUTE: (u32, u32, u32) = (0x0a00_0000, 8, 1);

impl Case for Ipv4Options {
    fn example(&self) -> &'static str {
        "ipv4_options"
    }

    fn handwritten_c(&self) -> &'static str {
        include_str!("../../../handwritten/ipv4_options.c")
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
        let policy = table(model, "option_policy")?;
        let allow = action(policy, "allow")?;
        let strip = action(policy, "strip_and_allow")?;
        let reject = action(policy, "reject_options")?;
        let mut specs = Vec::new();
        for (number, kind, port) in POLICIES {
            let a = match kind {
                1 => call(allow, &[u64::from(port)]),
                2 => call(strip, &[u64::from(port)]),
                _ => call(reject, &[]),
            };
            specs.push(EntrySpec::new(
                vec![KeyMatch::Exact(number.into())],
                Some(a),
            ));
            // u32 number -> struct policy { u32 kind, port; }
            hand.map_update(
                "option_policy",
                &u32::from(number).to_ne_bytes(),
                &Bytes::default().u32(kind).u32(port).done(),
            )?;
        }
        create_all(ours, policy, specs)?;

        let plain_t = table(model, "plain_forward")?;
        let plain = action(plain_t, "plain")?;
        let (net, len, port) = ROUTE;
        create_all(
            ours,
            plain_t,
            vec![EntrySpec::new(
                vec![KeyMatch::Lpm {
                    value: net.into(),
                    prefix_len: len,
                }],
                Some(call(plain, &[u64::from(port)])),
            )],
        )?;
        // struct lpm_key { u32 prefixlen; be32 addr; } -> u32 ifindex
        hand.map_update(
            "plain_forward",
            &Bytes::default().u32(len).raw(&net.to_be_bytes()).done(),
            &port.to_ne_bytes(),
        )?;
        stf_packets(include_str!(
            "../../../../../examples/ipv4_options/ipv4_options.stf"
        ))
    }
}
