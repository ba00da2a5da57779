//! The runner's semantics on a fake target: a few lines that play simple_l3's forwarding on a
//! hand-written object model, so pairing, failures and name resolution are tested without the
//! interpreter.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use num_bigint::BigUint;
use p4tc_ir::arena::Handle;
use p4tc_ir::ir;
use p4tc_runtime::{
    ActionCall, Actor, CounterValue, DefaultKind, EntryInfo, EntrySpec, Event, KeyMatch,
    MeterConfig, ObjectModel, PipelineModel, Priority, RuntimeError,
};

use super::{run, FailureKind, Report, WAIT_STEP};
use crate::stf;
use crate::target::{Delivery, Target, TargetError};

fn pipeline(example: &str) -> Arc<PipelineModel> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(example)
        .join(format!("{example}.p4"));
    let mut parsed = p4tc_front::parse_file(&path, &p4tc_front::PreprocessOptions::default())
        .expect("the example is readable");
    let module = p4tc_front::check(&mut parsed)
        .unwrap_or_else(|| panic!("{example} checks:\n{}", parsed.render_diagnostics()));
    Arc::new(PipelineModel::new(Arc::new(module), example).expect("the example is modelled"))
}

/// An object model that keeps entries in a list, and a datapath that forwards like simple_l3:
/// the IPv4 destination (bytes 30..34) looked up exactly in the first table, `send_nh(port,
/// srcMac, dstMac)` rewriting the MACs; anything else is dropped.
struct Fake {
    pipeline: Arc<PipelineModel>,
    entries: Vec<(Handle<ir::Table>, EntrySpec)>,
    defaults: Vec<(Handle<ir::Table>, ActionCall)>,
    counter: CounterValue,
    clock: Duration,
    /// Also send every forwarded packet out of this port (to test unexpected packets).
    mirror: Option<u32>,
    /// The clock cannot move (as the kernel's): why.
    fixed: Option<String>,
}

impl Fake {
    fn new(example: &str) -> Fake {
        Fake {
            pipeline: pipeline(example),
            entries: Vec::new(),
            defaults: Vec::new(),
            counter: CounterValue::default(),
            clock: Duration::ZERO,
            mirror: None,
            fixed: None,
        }
    }

    fn info(spec: &EntrySpec) -> EntryInfo {
        EntryInfo {
            spec: spec.clone(),
            is_const: false,
            created_by: Actor::ControlPlane,
            updated_by: None,
            created_at: Duration::ZERO,
            last_used: Duration::ZERO,
            counter: Some((3, 300)),
        }
    }
}

fn not_here() -> RuntimeError {
    RuntimeError::Invalid("not in the fake".into())
}

impl ObjectModel for Fake {
    fn create_entry(
        &mut self,
        table: Handle<ir::Table>,
        entry: EntrySpec,
    ) -> Result<(), RuntimeError> {
        if self
            .entries
            .iter()
            .any(|(t, e)| *t == table && e.key == entry.key && e.priority == entry.priority)
        {
            return Err(RuntimeError::Exists {
                table: "fake".into(),
            });
        }
        self.entries.push((table, entry));
        Ok(())
    }

    fn update_entry(&mut self, _: Handle<ir::Table>, _: EntrySpec) -> Result<(), RuntimeError> {
        Err(not_here())
    }

    fn delete_entry(
        &mut self,
        table: Handle<ir::Table>,
        key: &[KeyMatch],
        priority: Option<Priority>,
    ) -> Result<(), RuntimeError> {
        let before = self.entries.len();
        self.entries
            .retain(|(t, e)| !(*t == table && e.key == key && e.priority == priority));
        if self.entries.len() == before {
            return Err(RuntimeError::NotFound {
                what: "entry".into(),
            });
        }
        Ok(())
    }

    fn get_entry(
        &self,
        table: Handle<ir::Table>,
        key: &[KeyMatch],
        priority: Option<Priority>,
    ) -> Result<EntryInfo, RuntimeError> {
        self.entries
            .iter()
            .find(|(t, e)| *t == table && e.key == key && e.priority == priority)
            .map(|(_, e)| Fake::info(e))
            .ok_or(RuntimeError::NotFound {
                what: "entry".into(),
            })
    }

    fn dump(&self, table: Handle<ir::Table>) -> Result<Vec<EntryInfo>, RuntimeError> {
        Ok(self
            .entries
            .iter()
            .filter(|(t, _)| *t == table)
            .map(|(_, e)| Fake::info(e))
            .collect())
    }

    fn flush(&mut self, table: Handle<ir::Table>) -> Result<usize, RuntimeError> {
        let before = self.entries.len();
        self.entries.retain(|(t, _)| *t != table);
        Ok(before - self.entries.len())
    }

    fn default_action(
        &self,
        _: Handle<ir::Table>,
        _: DefaultKind,
    ) -> Result<Option<ActionCall>, RuntimeError> {
        Err(not_here())
    }

    fn set_default_action(
        &mut self,
        table: Handle<ir::Table>,
        _: DefaultKind,
        call: ActionCall,
    ) -> Result<(), RuntimeError> {
        self.defaults.push((table, call));
        Ok(())
    }

    fn counter(&self, _: Handle<ir::Instance>, _: u64) -> Result<CounterValue, RuntimeError> {
        Ok(self.counter)
    }

    fn reset_counter(&mut self, _: Handle<ir::Instance>, _: u64) -> Result<(), RuntimeError> {
        Err(not_here())
    }

    fn register(&self, _: Handle<ir::Instance>, _: u64) -> Result<Vec<BigUint>, RuntimeError> {
        Err(not_here())
    }

    fn set_register(
        &mut self,
        _: Handle<ir::Instance>,
        _: u64,
        _: &[BigUint],
    ) -> Result<(), RuntimeError> {
        Err(not_here())
    }

    fn set_meter(
        &mut self,
        _: Handle<ir::Instance>,
        _: u64,
        _: MeterConfig,
    ) -> Result<(), RuntimeError> {
        Err(not_here())
    }

    fn timer_profiles(&self) -> Vec<Duration> {
        Vec::new()
    }

    fn set_timer_profile(&mut self, _: u32, _: Duration) -> Result<(), RuntimeError> {
        Err(not_here())
    }

    fn take_events(&mut self) -> Vec<Event> {
        Vec::new()
    }
}

impl Target for Fake {
    fn pipeline(&self) -> Arc<PipelineModel> {
        Arc::clone(&self.pipeline)
    }

    fn control(&mut self) -> &mut dyn ObjectModel {
        self
    }

    fn send(&mut self, _port: u32, packet: &[u8]) -> Result<Delivery, TargetError> {
        if packet.len() < 34 || packet[12..14] != [0x08, 0x00] {
            return Ok(Delivery::default());
        }
        let dst = BigUint::from_bytes_be(&packet[30..34]);
        let table = self.pipeline.tables[0].handle;
        let hit = self
            .entries
            .iter()
            .find(|(t, e)| *t == table && e.key == [KeyMatch::Exact(dst.clone())]);
        let Some((
            _,
            EntrySpec {
                action: Some(call), ..
            },
        )) = hit
        else {
            return Ok(Delivery::default());
        };
        let [port, src, dst] = call.params.as_slice() else {
            return Ok(Delivery::default());
        };
        let mut out = packet.to_vec();
        let mac = |v: &BigUint| {
            let b = v.to_bytes_be();
            let mut m = vec![0u8; 6 - b.len()];
            m.extend(b);
            m
        };
        out[0..6].copy_from_slice(&mac(dst));
        out[6..12].copy_from_slice(&mac(src));
        let port = u32::try_from(port).map_err(|_| TargetError("port".into()))?;
        let mut outputs = vec![(port, out.clone())];
        if let Some(m) = self.mirror {
            outputs.push((m, out));
        }
        Ok(Delivery {
            outputs,
            ..Delivery::default()
        })
    }

    fn advance_clock(&mut self, by: Duration) {
        self.clock += by;
    }

    fn fixed_clock(&self) -> Option<String> {
        self.fixed.clone()
    }
}

fn run_on(fake: &mut Fake, text: &str) -> Report {
    let statements = stf::parse(text).unwrap_or_else(|e| panic!("the STF parses: {e:?}"));
    run(&statements, fake)
}

const ADD: &str = "add ingress.nh_table dstAddr:0x0a000002 \
                   ingress.send_nh(port:1, srcMac:0x000102030405, dstMac:0xaabbccddeeff)\n";
const PACKET: &str = "packet 0 000000000001 00000000000a 0800 45000014 00000000 40060000 \
                      0a000001 0a000002\n";
const OUT: &str = "aabbccddeeff 000102030405 0800 45000014 00000000 40060000 0a000001 0a000002";

#[test]
fn a_matching_packet_passes() {
    let mut fake = Fake::new("simple_l3");
    let report = run_on(&mut fake, &format!("{ADD}{PACKET}expect 1 {OUT} $\n"));
    assert!(report.passed(), "{:?}", report.failures);
    assert_eq!(
        (report.packets, report.expectations, report.expectations_met),
        (1, 1, 1)
    );
    assert_eq!(report.trace.len(), 1);
    assert_eq!(report.trace[0].outputs[0].0, 1);
}

#[test]
fn an_expect_written_before_its_packet_is_met() {
    let mut fake = Fake::new("simple_l3");
    let report = run_on(&mut fake, &format!("{ADD}expect 1 {OUT}\n{PACKET}"));
    assert!(report.passed(), "{:?}", report.failures);
}

#[test]
fn per_port_expectations_pair_up_in_order() {
    let mut fake = Fake::new("simple_l3");
    let second = PACKET.replace("0a000002\n", "0a000002 ff\n");
    let text = format!("{ADD}{PACKET}{second}expect 1 {OUT} $\nexpect 1 {OUT} ff $\n");
    let report = run_on(&mut fake, &text);
    assert!(report.passed(), "{:?}", report.failures);
    // The same expectations the other way round: both pairs fail.
    let text = format!("{ADD}{PACKET}{second}expect 1 {OUT} ff $\nexpect 1 {OUT} $\n");
    let report = run_on(&mut Fake::new("simple_l3"), &text);
    let lines: Vec<usize> = report.failures.iter().map(|f| f.line).collect();
    assert_eq!(lines, [4, 5], "{:?}", report.failures);
}

#[test]
fn a_wrong_packet_fails_at_its_expect_with_a_diff() {
    let mut fake = Fake::new("simple_l3");
    let wrong = OUT.replace("aabbccddeeff", "aabbccddee00");
    let report = run_on(&mut fake, &format!("{ADD}{PACKET}expect 1 {wrong}\n"));
    assert_eq!(report.failures.len(), 1);
    let failure = &report.failures[0];
    assert_eq!(failure.line, 3);
    let FailureKind::WrongPacket {
        port, packet_line, ..
    } = &failure.kind
    else {
        panic!("{failure:?}");
    };
    assert_eq!((*port, *packet_line), (1, 2));
    let text = failure.to_string();
    assert!(text.starts_with("line 3: expect 1: wrong packet"), "{text}");
    assert!(text.contains('^'), "{text}");
}

#[test]
fn a_missing_packet_fails_at_its_expect() {
    let mut fake = Fake::new("simple_l3");
    // No entry: the packet is dropped.
    let report = run_on(&mut fake, &format!("{PACKET}expect 1 {OUT}\n"));
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.failures[0].line, 2);
    assert!(matches!(
        report.failures[0].kind,
        FailureKind::MissingPacket { port: 1, .. }
    ));
    let text = report.failures[0].to_string();
    assert!(
        text.starts_with("line 2: expect 1: missing packet: nothing came out of port 1")
            && text.ends_with("; the packet on line 1 was dropped"),
        "{text}"
    );
}

#[test]
fn an_unexpected_packet_fails_at_its_packet() {
    let mut fake = Fake::new("simple_l3");
    fake.mirror = Some(7);
    let report = run_on(&mut fake, &format!("{ADD}{PACKET}expect 1 {OUT}\n"));
    assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
    assert_eq!(report.failures[0].line, 2);
    assert!(matches!(
        report.failures[0].kind,
        FailureKind::UnexpectedPacket {
            port: 7,
            packet_line: 2,
            ..
        }
    ));
}

#[test]
fn no_packet_reports_unclaimed_outputs_at_its_line() {
    let mut fake = Fake::new("simple_l3");
    let report = run_on(&mut fake, &format!("{ADD}{PACKET}no_packet\n"));
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.failures[0].line, 3);
    // A dropped packet is fine.
    let report = run_on(&mut Fake::new("simple_l3"), &format!("{PACKET}no_packet\n"));
    assert!(report.passed(), "{:?}", report.failures);
}

#[test]
fn keys_are_found_by_control_plane_or_expression_name() {
    let mut fake = Fake::new("simple_l3");
    let add = ADD.replace("dstAddr:", "hdr.ipv4.dstAddr:");
    let report = run_on(&mut fake, &format!("{add}{PACKET}expect 1 {OUT}\n"));
    assert!(report.passed(), "{:?}", report.failures);
    let report = run_on(
        &mut Fake::new("simple_l3"),
        &ADD.replace("dstAddr:", "srcAddr:"),
    );
    assert_eq!(report.failures.len(), 1);
    let text = report.failures[0].to_string();
    assert!(
        text.contains("no key field `srcAddr`") && text.contains("dstAddr"),
        "{text}"
    );
}

#[test]
fn bad_statements_are_reported_with_their_line_and_the_run_goes_on() {
    let mut fake = Fake::new("simple_l3");
    let text = format!(
        "add nope k:1 a()\n{}{}{ADD}{PACKET}expect 1 {OUT}\n",
        ADD.replace("send_nh", "forward"),
        ADD.replace("port:1, ", "")
    );
    let report = run_on(&mut fake, &text);
    let lines: Vec<usize> = report.failures.iter().map(|f| f.line).collect();
    assert_eq!(lines, [1, 2, 3], "{:?}", report.failures);
    let texts: Vec<String> = report.failures.iter().map(|f| f.describe()).collect();
    assert!(texts[0].contains("no table `nope`"), "{}", texts[0]);
    assert!(
        texts[1].contains("no action `ingress.forward`"),
        "{}",
        texts[1]
    );
    assert!(texts[2].contains("needs parameter `port`"), "{}", texts[2]);
    assert_eq!(report.expectations_met, 1);
}

#[test]
fn remove_deletes_the_entry_by_key() {
    let mut fake = Fake::new("simple_l3");
    let text = format!(
        "{ADD}remove ingress.nh_table dstAddr:0x0a000002\n{PACKET}no_packet\n\
         remove ingress.nh_table dstAddr:0x0a000002\n"
    );
    let report = run_on(&mut fake, &text);
    let lines: Vec<usize> = report.failures.iter().map(|f| f.line).collect();
    assert_eq!(lines, [5], "{:?}", report.failures);
}

#[test]
fn ternary_keys_priorities_and_wildcards() {
    let mut fake = Fake::new("ternary_acl");
    let text = "add AclControl.acl 20 src:0xac100500&&&0xffffff00 proto:0x06 dport:8080..8080 \
                AclControl.deny()\n\
                add AclControl.acl 10 src:0xac1***** dst:0x0a0a0000/16 AclControl.permit(port:3)\n";
    let report = run_on(&mut fake, text);
    assert!(report.passed(), "{:?}", report.failures);
    let (_, first) = &fake.entries[0];
    assert_eq!(first.priority, Some(Priority::from_larger_wins(20)));
    assert_eq!(
        first.key,
        [
            KeyMatch::Ternary {
                value: BigUint::from(0xac10_0500u32),
                mask: BigUint::from(0xffff_ff00u32)
            },
            KeyMatch::Any,
            KeyMatch::Ternary {
                value: BigUint::from(6u32),
                mask: BigUint::from(0xffu32)
            },
            KeyMatch::Any,
            KeyMatch::Range {
                low: BigUint::from(8080u32),
                high: BigUint::from(8080u32)
            },
        ]
    );
    let (_, second) = &fake.entries[1];
    assert_eq!(
        second.key[..2],
        [
            KeyMatch::Ternary {
                value: BigUint::from(0xac10_0000u32),
                mask: BigUint::from(0xfff0_0000u32)
            },
            KeyMatch::Ternary {
                value: BigUint::from(0x0a0a_0000u32),
                mask: BigUint::from(0xffff_0000u32)
            },
        ]
    );
}

#[test]
fn lpm_keys_from_prefixes_and_wildcards() {
    let mut fake = Fake::new("lpm_routing");
    let text = "add Main.fib_table prefix:0x0a01**** Main.set_nhid(index:2)\n\
                add Main.fib_table prefix:0x0a010200/24 Main.set_nhid(index:3)\n\
                add Main.fib_table prefix:0x0a010203 Main.set_nhid(index:4)\n";
    let report = run_on(&mut fake, text);
    assert!(report.passed(), "{:?}", report.failures);
    let keys: Vec<&KeyMatch> = fake.entries.iter().map(|(_, e)| &e.key[0]).collect();
    let lpm = |value: u32, prefix_len| KeyMatch::Lpm {
        value: BigUint::from(value),
        prefix_len,
    };
    assert_eq!(
        keys,
        [
            &lpm(0x0a01_0000, 16),
            &lpm(0x0a01_0200, 24),
            &lpm(0x0a01_0203, 32)
        ]
    );
}

#[test]
fn values_wider_than_the_field_are_refused() {
    let mut fake = Fake::new("simple_l3");
    let report = run_on(&mut fake, &ADD.replace("0x0a000002", "0x1ffffffff"));
    assert_eq!(report.failures.len(), 1);
    assert!(
        report.failures[0]
            .describe()
            .contains("does not fit key field `dstAddr` (32 bits)"),
        "{}",
        report.failures[0]
    );
}

#[test]
fn check_counter_reads_indirect_and_direct_counters() {
    let mut fake = Fake::new("direct_counters");
    let text = "add CntControl.routes dstAddr:0x0a000002 CntControl.route(port:1) = A\n\
                check_counter route_stats($A) packets == 3\n\
                check_counter route_stats($A) bytes == 301\n\
                check_counter route_stats($B)\n\
                check_counter src_hits($A)\n";
    let report = run_on(&mut fake, text);
    let lines: Vec<usize> = report.failures.iter().map(|f| f.line).collect();
    assert_eq!(lines, [3, 4, 5], "{:?}", report.failures);
    assert_eq!(report.counter_checks, 1);
    assert_eq!(
        report.failures[0].describe(),
        "check_counter route_stats($A): expected bytes == 301, found 300"
    );

    let mut fake = Fake::new("indirect_counters");
    fake.counter = CounterValue {
        packets: 2,
        bytes: 128,
    };
    let report = run_on(
        &mut fake,
        "check_counter rx_port_stats(1) packets == 2\ncheck_counter rx_port_stats(1) bytes > 128\n",
    );
    let lines: Vec<usize> = report.failures.iter().map(|f| f.line).collect();
    assert_eq!(lines, [2], "{:?}", report.failures);
}

#[test]
fn wait_advances_the_clock() {
    let mut fake = Fake::new("simple_l3");
    run_on(&mut fake, "wait\nwait\n");
    assert_eq!(fake.clock, WAIT_STEP * 2);
}

#[test]
fn a_wait_on_a_fixed_clock_stops_the_run_and_says_where() {
    let mut fake = Fake::new("simple_l3");
    fake.fixed = Some("the clock cannot move".into());
    // The packet before the wait is checked; its expect comes after the wait, so its output
    // is not reported as unexpected; nothing after the wait runs.
    let report = run_on(
        &mut fake,
        &format!("{ADD}{PACKET}wait\nexpect 1 {OUT}\n{PACKET}expect 9 00\n"),
    );
    assert!(report.passed(), "{:?}", report.failures);
    assert_eq!(report.stopped, Some((3, "the clock cannot move".into())));
    assert_eq!((report.packets, report.expectations), (1, 0));
    assert_eq!(fake.clock, Duration::ZERO);
    // A target whose clock moves runs on: the wait advances it.
    let mut moving = Fake::new("simple_l3");
    let report = run_on(&mut moving, &format!("{ADD}wait\n{PACKET}expect 1 {OUT}\n"));
    assert!(report.passed(), "{:?}", report.failures);
    assert_eq!(report.stopped, None);
    assert_eq!(moving.clock, WAIT_STEP);
}
