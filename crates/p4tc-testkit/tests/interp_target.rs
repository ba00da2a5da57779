//! STF control statements on the real object model: the runner's entries (keys by match kind,
//! priorities, `= ID` names) must be what `MemoryBackend` accepts, finds and counts, through
//! the interpreter's target.

use std::path::Path;
use std::sync::Arc;

use num_bigint::BigUint;
use p4tc_interp::Interpreter;
use p4tc_runtime::{KeyMatch, ManualClock, MemoryBackend, PipelineModel, Priority};
use p4tc_testkit::interp_target::InterpTarget;
use p4tc_testkit::stf;
use p4tc_testkit::stf_run::{self, Report};
use p4tc_testkit::target::Target;

fn target(example: &str) -> InterpTarget<MemoryBackend> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(example)
        .join(format!("{example}.p4"));
    let mut parsed = p4tc_front::parse_file(&path, &p4tc_front::PreprocessOptions::default())
        .expect("the example is readable");
    let module = Arc::new(
        p4tc_front::check(&mut parsed)
            .unwrap_or_else(|| panic!("{example} checks:\n{}", parsed.render_diagnostics())),
    );
    let pipeline = Arc::new(PipelineModel::new(Arc::clone(&module), example).expect("modelled"));
    let clock = ManualClock::new();
    let backend =
        MemoryBackend::new(Arc::clone(&pipeline), Arc::new(clock.clone())).expect("a backend");
    let interpreter = Interpreter::new(module, 0).expect("an interpreter");
    InterpTarget::new(interpreter, backend, clock, pipeline)
}

fn run(target: &mut InterpTarget<MemoryBackend>, text: &str) -> Report {
    let statements = stf::parse(text).unwrap_or_else(|e| panic!("the STF parses: {e:?}"));
    stf_run::run(&statements, target)
}

fn assert_passed(report: &Report) {
    let failures: Vec<String> = report.failures.iter().map(ToString::to_string).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn ternary_entries_keep_their_priorities_and_can_be_removed() {
    let mut t = target("ternary_acl");
    let report = run(
        &mut t,
        "add AclControl.acl 20 src:0xac100500&&&0xffffff00 proto:0x06 dport:8080..8080 \
         AclControl.deny()\n\
         add AclControl.acl 30 src:0xac100507 proto:6 dport:8000..8999 \
         AclControl.permit_remark(port:4, dscp:46)\n\
         add AclControl.acl 10 src:0xac1***** proto:0x06 dport:8000..8999 AclControl.permit(port:3)\n\
         remove AclControl.acl src:0xac100507 proto:6 dport:8000..8999\n",
    );
    assert_passed(&report);
    let pipeline = t.pipeline();
    let acl = pipeline.table_by_name("AclControl.acl").expect("the table");
    let entries: Vec<(Option<Priority>, KeyMatch)> = t
        .control()
        .dump(acl.handle)
        .expect("a dump")
        .into_iter()
        .map(|e| (e.spec.priority, e.spec.key[0].clone()))
        .collect();
    let src = |value: u32, mask: u32| KeyMatch::Ternary {
        value: BigUint::from(value),
        mask: BigUint::from(mask),
    };
    // STF's larger-wins priorities arrive as P4TC's lower-wins ones.
    assert!(
        entries.contains(&(
            Some(Priority::from_larger_wins(20)),
            src(0xac10_0500, 0xffff_ff00)
        )) && entries.contains(&(
            Some(Priority::from_larger_wins(10)),
            src(0xac10_0000, 0xfff0_0000)
        )),
        "{entries:?}"
    );
    // The removed one is gone.
    assert!(
        !entries
            .iter()
            .any(|(_, k)| *k == src(0xac10_0507, 0xffff_ffff)),
        "{entries:?}"
    );
}

#[test]
fn lpm_entries_from_prefixes_and_wildcards() {
    let mut t = target("lpm_routing");
    let report = run(
        &mut t,
        "add Main.fib_table prefix:0x0a01**** Main.set_nhid(index:2)\n\
         add Main.fib_table prefix:0x0a010200/24 Main.set_nhid(index:3)\n\
         remove Main.fib_table prefix:0x0a010200/24\n\
         add Main.fib_table prefix:0x0a010200/24 Main.set_nhid(index:4)\n",
    );
    assert_passed(&report);
    let pipeline = t.pipeline();
    let fib = pipeline.table_by_name("fib_table").expect("the table");
    let keys: Vec<KeyMatch> = t
        .control()
        .dump(fib.handle)
        .expect("a dump")
        .into_iter()
        .map(|e| e.spec.key[0].clone())
        .collect();
    assert!(
        keys.contains(&KeyMatch::Lpm {
            value: BigUint::from(0x0a01_0000u32),
            prefix_len: 16
        }),
        "{keys:?}"
    );
}

#[test]
fn named_entries_have_direct_counters() {
    let mut t = target("direct_counters");
    let report = run(
        &mut t,
        "add CntControl.routes dstAddr:0x0a000002 CntControl.route(port:1) = R1\n\
         check_counter route_stats($R1) packets == 0\n\
         check_counter route_stats($R1) bytes == 0\n\
         check_counter route_stats(R1)\n",
    );
    assert_passed(&report);
    assert_eq!(report.counter_checks, 3);
}

#[test]
fn a_refused_entry_is_a_failure_with_the_object_models_reason() {
    let mut t = target("simple_l3");
    let add = "add ingress.nh_table dstAddr:0x0a000002 \
               ingress.send_nh(port:1, srcMac:0x000102030405, dstMac:0xaabbccddeeff)\n";
    let report = run(
        &mut t,
        &format!("{add}{add}setdefault ingress.nh_table ingress.drop()\n"),
    );
    let lines: Vec<usize> = report.failures.iter().map(|f| f.line).collect();
    // The second add is a duplicate; the default action is const.
    assert_eq!(lines, [2, 3], "{:?}", report.failures);
    assert!(
        report.failures[0].describe().contains("already exists"),
        "{}",
        report.failures[0]
    );
}
