//! Commands run end to end against [`MemoryBackend`]: P4TC's rules (const entries and
//! defaults, priorities, permissions, aging) as the command language shows them.

use std::sync::Arc;
use std::time::Duration;

use super::tests::model;
use super::*;
use crate::clock::ManualClock;
use crate::datapath::Datapath;
use crate::error::RuntimeError;
use crate::memory::MemoryBackend;
use crate::model::PipelineModel;
use crate::object_model::{MeterConfig, ObjectModel};

fn ports(name: &str) -> Option<u32> {
    name.strip_prefix("port").and_then(|n| n.parse().ok())
}

fn backend(name: &str) -> (Arc<PipelineModel>, MemoryBackend, ManualClock) {
    let m = model(name);
    let clock = ManualClock::new();
    let om = MemoryBackend::new(Arc::clone(&m), Arc::new(clock.clone())).unwrap();
    (m, om, clock)
}

fn run(om: &mut MemoryBackend, m: &PipelineModel, line: &str) -> Output {
    let now = om.now();
    run_line(om, m, line, &ports, now).unwrap_or_else(|e| panic!("`{line}`: {e}"))
}

fn fail(om: &mut MemoryBackend, m: &PipelineModel, line: &str) -> ExecError {
    let now = om.now();
    match run_line(om, m, line, &ports, now) {
        Ok(out) => panic!("`{line}` succeeded: {out}"),
        Err(e) => e,
    }
}

#[test]
fn simple_l3_round_trip() {
    let (m, mut om, clock) = backend("simple_l3");
    run(
        &mut om,
        &m,
        "create simple_l3/table/ingress/nh_table dstAddr 10.0.1.2/32 action send_nh param port \
         port1 param srcMac 00:01:02:03:04:05 param dstMac aa:bb:cc:dd:ee:ff",
    );
    let e = fail(
        &mut om,
        &m,
        "create simple_l3/table/ingress/nh_table dstAddr 10.0.1.2 action drop",
    );
    assert!(
        matches!(e, ExecError::Runtime(RuntimeError::Exists { .. })),
        "{e}"
    );
    clock.advance(Duration::from_millis(1500));
    om.expire();
    let out = run(
        &mut om,
        &m,
        "get simple_l3/table/ingress/nh_table dstAddr 10.0.1.2",
    );
    let text = out.to_string();
    assert!(
        text.contains(
            "dstAddr 10.0.1.2 action ingress/send_nh param port 1 param srcMac \
             00:01:02:03:04:05 param dstMac aa:bb:cc:dd:ee:ff"
        ),
        "{text}"
    );
    assert!(
        text.contains("permissions 0x1da4 (-RUD-PS-R--X--)"),
        "{text}"
    );
    assert!(text.contains("last used 1500 ms ago"), "{text}");
    run(
        &mut om,
        &m,
        "update simple_l3/table/ingress/nh_table dstAddr 10.0.1.2 action drop",
    );
    let out = run(&mut om, &m, "get simple_l3/table/ingress/nh_table");
    assert!(out.to_string().contains("action ingress/drop"), "{out}");

    // The const default miss action cannot change.
    let out = run(
        &mut om,
        &m,
        "get simple_l3/table/ingress/nh_table default_miss_action",
    );
    assert_eq!(
        out.to_string(),
        "table simple_l3/table/ingress/nh_table default_miss_action: action ingress/drop\n"
    );
    let e = fail(
        &mut om,
        &m,
        "update simple_l3/table/ingress/nh_table default_miss_action action drop",
    );
    assert!(
        matches!(e, ExecError::Runtime(RuntimeError::Permission { .. })),
        "{e}"
    );

    // Events, as `p4tc mon` prints them.
    let events: Vec<String> = om
        .take_events()
        .iter()
        .map(|e| event_view(&m, e).to_string())
        .collect();
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(
        events[0].ends_with("create by control plane: simple_l3/table/ingress/nh_table dstAddr 10.0.1.2 action ingress/send_nh param port 1 param srcMac 00:01:02:03:04:05 param dstMac aa:bb:cc:dd:ee:ff"),
        "{events:?}"
    );
    assert!(events[1].contains("update by control plane"), "{events:?}");

    run(
        &mut om,
        &m,
        "delete simple_l3/table/ingress/nh_table dstAddr 10.0.1.2",
    );
    let e = fail(
        &mut om,
        &m,
        "get simple_l3/table/ingress/nh_table dstAddr 10.0.1.2",
    );
    assert!(
        matches!(e, ExecError::Runtime(RuntimeError::NotFound { .. })),
        "{e}"
    );
}

#[test]
fn ternary_acl_program_entries_priorities_batches_and_filters() {
    let (m, mut om, _clock) = backend("ternary_acl");
    // The program's five entries, const ones marked.
    let out = run(&mut om, &m, "get ternary_acl/table/AclControl/acl");
    let Output::Entries { entries, .. } = &out else {
        panic!("{out}")
    };
    assert_eq!(entries.len(), 5, "{out}");
    assert!(entries.iter().filter(|e| e.is_const).count() >= 2, "{out}");
    let text = out.to_string();
    assert!(
        text.contains("src 10.0.0.0/8 dst _ proto 6 sport _ dport 22 prio "),
        "{text}"
    );
    // The const SSH entry, by its key and the priority the backend gave it.
    let ssh_prio = entries
        .iter()
        .find(|e| e.is_const && e.key[0].value == "10.0.0.0/8")
        .and_then(|e| e.prio)
        .unwrap();

    // A batch: one entry collides with an existing key and priority, the others go in.
    let out = run(
        &mut om,
        &m,
        "create ternary_acl/table/AclControl/acl \
         entry proto 17 dport 5353 prio 50 action permit param port 3 \
         entry proto 6 dport 8080 prio 51 action deny \
         entry proto 17 dport 5353 prio 50 action deny",
    );
    assert!(out.has_failures());
    let Output::Batch {
        applied, failures, ..
    } = &out
    else {
        panic!("{out}")
    };
    assert_eq!(
        (*applied, failures.len(), failures[0].index),
        (2, 1, 2),
        "{out}"
    );

    // Filters over prio, params and keys.
    let out = run(
        &mut om,
        &m,
        "get ternary_acl/table/AclControl/acl filter prio >= 50 and prio <= 51",
    );
    assert!(
        matches!(&out, Output::Entries { entries, .. } if entries.len() == 2),
        "{out}"
    );
    let out = run(
        &mut om,
        &m,
        "get ternary_acl/table/AclControl/acl filter param.port == 3",
    );
    assert!(
        matches!(&out, Output::Entries { entries, .. } if entries.len() == 1),
        "{out}"
    );
    let out = run(
        &mut om,
        &m,
        "get ternary_acl/table/AclControl/acl filter key.dport == 8080 or key.dport == 5353",
    );
    assert!(
        matches!(&out, Output::Entries { entries, .. } if entries.len() == 2),
        "{out}"
    );

    // Get and delete by key and priority.
    run(
        &mut om,
        &m,
        "get ternary_acl/table/AclControl/acl proto 6 dport 8080 prio 51",
    );
    run(
        &mut om,
        &m,
        "delete ternary_acl/table/AclControl/acl proto 6 dport 8080 prio 51",
    );

    // A const entry refuses deletion; a filtered flush leaves const entries alone.
    let e = fail(
        &mut om,
        &m,
        &format!("delete ternary_acl/table/AclControl/acl src 10.0.0.0/8 proto 6 dport 22 prio {ssh_prio}"),
    );
    assert!(
        matches!(e, ExecError::Runtime(RuntimeError::Permission { .. })),
        "{e}"
    );
    let out = run(
        &mut om,
        &m,
        "delete ternary_acl/table/AclControl/acl filter prio > 0",
    );
    assert!(!out.has_failures(), "{out}");
    let left = om.dump(m.tables[0].handle).unwrap();
    assert!(left.iter().all(|e| e.is_const), "{left:?}");
    assert!(!left.is_empty());
}

#[test]
fn lpm_routing_entries_file() {
    let (m, mut om, _clock) = backend("lpm_routing");
    let file = "\
# FIB and next hops for lpm_routing
create table/Main/fib_table prefix 10.0.0.0/8 action set_nhid param index 1
create table/Main/fib_table prefix 10.1.0.0/16 action set_nhid param index 2
create table/Main/nh_table nh_index 1 action send_nh param port port1 \\
    param srcMac 00:00:00:00:00:01 param dstMac 00:00:00:00:01:01
create table/Main/nh_table nh_index 2 action send_nh param port port2 \\
    param srcMac 00:00:00:00:00:02 param dstMac 00:00:00:00:01:02
update table/Main/fib_table default_miss_action action fib_miss
";
    let commands = parse_file(file, &m, &ports).unwrap();
    assert_eq!(commands.len(), 5);
    for c in &commands {
        execute(&mut om, &m, c, Duration::ZERO)
            .unwrap_or_else(|e| panic!("line {:?}: {e}", c.at.line));
    }
    let out = run(&mut om, &m, "get lpm_routing/table/Main/fib_table");
    let text = out.to_string();
    assert!(
        text.contains("prefix 10.0.0.0/8 action Main/set_nhid param index 1"),
        "{text}"
    );
    assert!(
        text.contains("prefix 10.1.0.0/16 action Main/set_nhid param index 2"),
        "{text}"
    );
    let json = run(
        &mut om,
        &m,
        "get lpm_routing/table/Main/nh_table nh_index 2",
    )
    .to_json();
    assert_eq!(
        json["entries"][0]["action"]["params"][2]["value"],
        "00:00:00:00:01:02"
    );
    let out = run(&mut om, &m, "delete lpm_routing/table/Main/fib_table");
    assert_eq!(
        out.to_string(),
        "flushed table lpm_routing/table/Main/fib_table: 2 entries deleted\n"
    );
}

#[test]
fn aging_and_timer_profiles() {
    let (m, mut om, clock) = backend("simple_l3");
    let out = run(&mut om, &m, "get simple_l3/timer_profile");
    assert_eq!(
        out.to_string(),
        "timer profiles:\n  profile_id 0 aging 30000\n  profile_id 1 aging 60000\n  \
         profile_id 2 aging 90000\n  profile_id 3 aging 120000\n"
    );
    run(&mut om, &m, "update simple_l3/timer_profile/1 aging 2000");
    run(
        &mut om,
        &m,
        "create simple_l3/table/ingress/nh_table dstAddr 10.0.0.1 action drop profile_id 1",
    );
    run(
        &mut om,
        &m,
        "create simple_l3/table/ingress/nh_table dstAddr 10.0.0.2 action drop aging 500",
    );
    run(
        &mut om,
        &m,
        "create simple_l3/table/ingress/nh_table dstAddr 10.0.0.3 action drop",
    );
    let out = run(
        &mut om,
        &m,
        "get simple_l3/table/ingress/nh_table dstAddr 10.0.0.1",
    );
    assert!(
        out.to_string().contains("dynamic, timer profile 1"),
        "{out}"
    );
    clock.advance(Duration::from_millis(1000));
    om.expire();
    let out = run(
        &mut om,
        &m,
        "get simple_l3/table/ingress/nh_table filter msecs_since >= 1000",
    );
    assert!(
        matches!(&out, Output::Entries { entries, .. } if entries.len() == 2),
        "{out}"
    );
    clock.advance(Duration::from_millis(1500));
    om.expire();
    let out = run(&mut om, &m, "get simple_l3/table/ingress/nh_table");
    let Output::Entries { entries, .. } = &out else {
        panic!()
    };
    assert_eq!(entries.len(), 1, "{out}");
    assert_eq!(entries[0].key[0].value, "10.0.0.3");
    let deleted: Vec<String> = om
        .take_events()
        .iter()
        .map(|e| event_view(&m, e).to_string())
        .filter(|t| t.contains("delete by timer"))
        .collect();
    assert_eq!(deleted.len(), 2, "{deleted:?}");
}

#[test]
fn externs_through_the_backend() {
    let (m, mut om, _clock) = backend("indirect_counters");
    let counter = m
        .instances
        .iter()
        .find(|i| i.name == "rx_port_stats")
        .unwrap()
        .handle;
    om.count(counter, 7, 100);
    om.count(counter, 7, 60);
    let out = run(
        &mut om,
        &m,
        "get indirect_counters/extern/Counter/rx_port_stats",
    );
    assert!(
        out.to_string().contains("index 7 packets 2 bytes 160"),
        "{out}"
    );
    let out = run(
        &mut om,
        &m,
        "get indirect_counters/extern/Counter/rx_port_stats tc_key index 7",
    );
    assert_eq!(out.to_json()["elements"][0]["bytes"], 160);
    run(
        &mut om,
        &m,
        "reset indirect_counters/extern/Counter/rx_port_stats tc_key index 7",
    );
    let out = run(
        &mut om,
        &m,
        "get indirect_counters/extern/Counter/rx_port_stats",
    );
    assert!(
        matches!(&out, Output::Counter { elements, .. } if elements.is_empty()),
        "{out}"
    );

    let (m, mut om, _clock) = backend("register_flow_stats");
    run(
        &mut om,
        &m,
        "update register_flow_stats/extern/Register/last_seen tc_key index 9 param a_value 0x1234",
    );
    let out = run(
        &mut om,
        &m,
        "get register_flow_stats/extern/Register/last_seen tc_key index 9",
    );
    assert!(
        out.to_string().contains("index 9 param a_value 4660"),
        "{out}"
    );
    let out = run(
        &mut om,
        &m,
        "get register_flow_stats/extern/Register/last_seen",
    );
    assert!(
        matches!(&out, Output::Register { elements, .. } if elements.len() == 1),
        "{out}"
    );

    let (m, mut om, _clock) = backend("meters_policer");
    let out = run(
        &mut om,
        &m,
        "update meters_policer/extern/Meter/subscriber_meter tc_key index 3 param cir 1mbit \
         param cbs 10000 param pir 2mbit param pbs 20000",
    );
    assert_eq!(
        out.to_string(),
        "Meter ingress.subscriber_meter index 3: cir 125000 cbs 10000 pir 250000 pbs 20000\n"
            .replace("ingress.", &format!("{}.", meter_owner(&m))),
    );
    let _ = MeterConfig::default();
}

/// The control that owns `subscriber_meter` in meters_policer.
fn meter_owner(m: &PipelineModel) -> String {
    m.introspection
        .externs
        .iter()
        .flat_map(|e| &e.instances)
        .find(|i| i.inst_name.ends_with(".subscriber_meter"))
        .and_then(|i| i.inst_name.split('.').next())
        .unwrap_or("")
        .to_string()
}

#[test]
fn update_keeps_what_it_does_not_give() {
    let (m, mut om, _clock) = backend("simple_l3");
    run(
        &mut om,
        &m,
        "create simple_l3/table/ingress/nh_table dstAddr 10.0.0.1 action send_nh param port 3 \
         param srcMac 0:0:0:0:0:1 param dstMac 0:0:0:0:0:2 profile_id 2",
    );
    run(
        &mut om,
        &m,
        "update simple_l3/table/ingress/nh_table dstAddr 10.0.0.1 permissions 0x1d24",
    );
    let out = run(
        &mut om,
        &m,
        "get simple_l3/table/ingress/nh_table dstAddr 10.0.0.1",
    );
    let text = out.to_string();
    assert!(
        text.contains("action ingress/send_nh param port 3"),
        "{text}"
    );
    assert!(text.contains("dynamic, timer profile 2"), "{text}");
    assert!(text.contains("permissions 0x1d24"), "{text}");
    run(
        &mut om,
        &m,
        "update simple_l3/table/ingress/nh_table dstAddr 10.0.0.1 action drop",
    );
    let out = run(
        &mut om,
        &m,
        "get simple_l3/table/ingress/nh_table dstAddr 10.0.0.1",
    );
    let text = out.to_string();
    assert!(text.contains("action ingress/drop"), "{text}");
    assert!(text.contains("dynamic, timer profile 2"), "{text}");
}

#[test]
fn apply_file_runs_everything_and_reports_failures_by_line() {
    let (m, mut om, _clock) = backend("simple_l3");
    let file = "\
create table/ingress/nh_table dstAddr 10.0.0.1 action drop
create table/ingress/nh_table dstAddr 10.0.0.1 action drop
create table/ingress/nh_table entry dstAddr 10.0.0.2 action drop entry dstAddr 10.0.0.1 action drop
delete table/ingress/nh_table dstAddr 10.9.9.9
";
    let errors = apply_file(&mut om, &m, file, &ports, Duration::ZERO).unwrap_err();
    let lines: Vec<Option<usize>> = errors.iter().map(|e| e.at.line).collect();
    assert_eq!(lines, [Some(2), Some(3), Some(4)], "{errors:?}");
    assert!(
        errors[1]
            .message
            .starts_with("entry 1 (dstAddr 10.0.0.1): "),
        "{errors:?}"
    );
    assert_eq!(om.dump(m.tables[0].handle).unwrap().len(), 2);
    // A parse error anywhere: nothing runs.
    let errors = apply_file(
        &mut om,
        &m,
        "delete table/ingress/nh_table\ncreate table/ingress/nh_table dstAddr x action drop\n",
        &ports,
        Duration::ZERO,
    )
    .unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(om.dump(m.tables[0].handle).unwrap().len(), 2);
}

mod robustness {
    use super::*;
    use proptest::prelude::*;

    fn word() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("create"),
            Just("update"),
            Just("delete"),
            Just("get"),
            Just("reset"),
            Just("default_miss_action"),
            Just("entry"),
            Just("prio"),
            Just("action"),
            Just("param"),
            Just("filter"),
            Just("not"),
            Just("and"),
            Just("or"),
            Just("=="),
            Just("<"),
            Just("key.proto"),
            Just("param.port"),
            Just("msecs_since"),
            Just("proto"),
            Just("src"),
            Just("sport"),
            Just("permit"),
            Just("deny"),
            Just("port"),
            Just("_"),
            Just("1..2"),
            Just("10.0.0.0/8"),
            Just("0xff&&&0x0f"),
            Just("aging"),
            Just("dynamic"),
            Just("profile_id"),
            Just("permissions"),
            Just("0x1da4"),
            Just("0"),
            Just("1"),
            Just("4294967295"),
        ]
        .prop_map(str::to_string)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// Sequences of random commands against the real backend: every result is Ok or an
        /// error, printing never panics.
        #[test]
        fn random_sessions_never_panic(
            commands in proptest::collection::vec(
                (0..5usize, 0..3usize, proptest::collection::vec(word(), 0..14)),
                1..8,
            )
        ) {
            let (m, mut om, clock) = backend("ternary_acl");
            for (verb, path, tail) in commands {
                let mut words = vec![
                    ["create", "update", "delete", "get", "reset"][verb].to_string(),
                    [
                        "ternary_acl/table/AclControl/acl",
                        "ternary_acl/extern/Counter/x",
                        "ternary_acl/timer_profile/1",
                    ][path]
                        .to_string(),
                ];
                words.extend(tail);
                let now = om.now();
                if let Ok(command) = parse_args(&words, &m, &ports) {
                    if let Ok(out) = execute(&mut om, &m, &command, now) {
                        let _ = out.to_string();
                        let _ = out.to_json();
                    }
                }
                clock.advance(Duration::from_millis(700));
                om.expire();
                for event in om.take_events() {
                    let _ = event_view(&m, &event).to_string();
                }
            }
        }
    }
}

#[test]
fn every_example_program_takes_its_help_examples() {
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut names: Vec<String> = std::fs::read_dir(examples)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    let mut created = 0;
    for name in &names {
        let (m, mut om, _clock) = backend(name);
        for line in describe(&m).lines() {
            let Some(example) = line.trim().strip_prefix("example: ") else {
                continue;
            };
            let now = om.now();
            match run_line(&mut om, &m, example, &ports, now) {
                Ok(_) => created += 1,
                // Tables the control plane may not write, keys a program entry holds already.
                Err(ExecError::Runtime(
                    RuntimeError::Permission { .. } | RuntimeError::Exists { .. },
                )) => continue,
                Err(e) => panic!("{name}: `{example}`: {e}"),
            }
            // The entry reads back with the same words (less the verb and path), and goes.
            let rest = example
                .split_once(" action ")
                .map(|(k, _)| k)
                .unwrap_or(example);
            let get = rest.replacen("create", "get", 1);
            let out = run(&mut om, &m, &get);
            let Output::Entries { entries, .. } = &out else {
                panic!("{out}")
            };
            assert_eq!(entries.len(), 1, "{name}: {out}");
            let _ = out.to_json();
            let delete = get.replacen("get", "delete", 1);
            match run_line(&mut om, &m, &delete, &ports, now) {
                Ok(_) | Err(ExecError::Runtime(RuntimeError::Permission { .. })) => {}
                Err(e) => panic!("{name}: `{delete}`: {e}"),
            }
        }
    }
    assert!(created > 20, "{created}");
}
