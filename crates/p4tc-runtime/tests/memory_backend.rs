//! MemoryBackend against real programs: each match kind, priorities, P4TC's permissions and
//! const rules, size bounds, datapath entries, aging, externs and events.

mod support;

use std::sync::Arc;
use std::time::Duration;

use p4tc_ir::arena::Handle;
use p4tc_ir::ir;
use p4tc_runtime::{
    ActionCall, Actor, Aging, Color, Datapath, DefaultKind, EntryInfo, EntrySpec, EventKind,
    KeyMatch, MeterConfig, ObjectModel, Permissions, PipelineModel, Priority, RuntimeError,
};
use support::{action, backend, example, instance, key, program, table, u};

fn call(action: Handle<ir::Action>, params: &[u128]) -> Option<ActionCall> {
    Some(ActionCall {
        action,
        params: params.iter().map(|&p| u(p)).collect(),
    })
}

fn exact(v: u128) -> KeyMatch {
    KeyMatch::Exact(u(v))
}

fn lpm(v: u128, prefix_len: u32) -> KeyMatch {
    KeyMatch::Lpm {
        value: u(v),
        prefix_len,
    }
}

fn ternary(v: u128, m: u128) -> KeyMatch {
    KeyMatch::Ternary {
        value: u(v),
        mask: u(m),
    }
}

fn range(lo: u128, hi: u128) -> KeyMatch {
    KeyMatch::Range {
        low: u(lo),
        high: u(hi),
    }
}

fn with_prio(mut spec: EntrySpec, p: u32) -> EntrySpec {
    spec.priority = Some(Priority(p));
    spec
}

/// Everything a control plane can see of the backend's tables (what a failed operation must
/// leave as it was).
fn snapshot<B: ObjectModel>(b: &B, model: &PipelineModel) -> Vec<(Vec<EntryInfo>, String)> {
    model
        .tables
        .iter()
        .map(|t| {
            let defaults = format!(
                "{:?} {:?}",
                b.default_action(t.handle, DefaultKind::Hit).unwrap(),
                b.default_action(t.handle, DefaultKind::Miss).unwrap()
            );
            (b.dump(t.handle).unwrap(), defaults)
        })
        .collect()
}

fn ipv4(a: u8, b: u8, c: u8, d: u8) -> u128 {
    u128::from(u32::from_be_bytes([a, b, c, d]))
}

// ---------------------------------------------------------------------------------------------
// Exact and LPM tables (lpm_routing).

#[test]
fn exact_table_hits_misses_and_is_bounded_by_its_size() {
    let model = example("lpm_routing");
    let (mut b, _clock) = backend(&model);
    let nh = table(&model, "nh_table");
    let send = action(&model, "nh_table", "send_nh");
    let drop = action(&model, "nh_table", "drop");
    let layout = model.table_by_name("nh_table").unwrap().actions.clone();
    let send_layout = &layout.iter().find(|a| a.handle == send).unwrap().layout;

    b.create_entry(
        nh,
        EntrySpec::new(
            vec![exact(1)],
            call(send, &[3, 0x0001_0203_0405, 0xaabb_ccdd_eeff]),
        ),
    )
    .unwrap();
    let hit = b.lookup(nh, &key(&model, "nh_table", &[1]));
    assert!(hit.entry.is_some());
    assert_eq!(hit.action, Some(send));
    let expected = send_layout
        .encode(&[u(3), u(0x0001_0203_0405), u(0xaabb_ccdd_eeff)])
        .unwrap();
    assert_eq!(hit.params, &expected[..]);

    let miss = b.lookup(nh, &key(&model, "nh_table", &[2]));
    assert_eq!(miss.entry, None);
    assert_eq!(
        miss.action,
        Some(drop),
        "the const default action runs on a miss"
    );
    assert!(miss.params.is_empty());

    // A wrong-sized blob is a miss, not a panic.
    assert_eq!(b.lookup(nh, &[1, 2, 3]).entry, None);

    // size = 256: the 257th entry is refused and nothing changes.
    for i in 2..=256u128 {
        b.create_entry(nh, EntrySpec::new(vec![exact(i)], call(send, &[1, 2, 3])))
            .unwrap();
    }
    let before = snapshot(&b, &model);
    let err = b
        .create_entry(nh, EntrySpec::new(vec![exact(999)], call(send, &[1, 2, 3])))
        .unwrap_err();
    assert!(
        matches!(&err, RuntimeError::Full { table, size: 256 } if table.contains("nh_table")),
        "{err:?}"
    );
    assert_eq!(snapshot(&b, &model), before);
    // Deleting one makes room again.
    b.delete_entry(nh, &[exact(7)], None).unwrap();
    b.create_entry(nh, EntrySpec::new(vec![exact(999)], call(send, &[1, 2, 3])))
        .unwrap();
}

#[test]
fn lpm_longest_prefix_wins() {
    let model = example("lpm_routing");
    let (mut b, _clock) = backend(&model);
    let fib = table(&model, "fib_table");
    let set = action(&model, "fib_table", "set_nhid");
    let miss_action = action(&model, "fib_table", "fib_miss");
    let add = |b: &mut p4tc_runtime::MemoryBackend, v: u128, p: u32, nh: u128| {
        b.create_entry(fib, EntrySpec::new(vec![lpm(v, p)], call(set, &[nh])))
            .unwrap()
    };
    // Inserted in an order that is not the prefix order.
    add(&mut b, ipv4(10, 1, 0, 0), 16, 16);
    add(&mut b, ipv4(10, 0, 0, 0), 8, 8);
    add(&mut b, ipv4(10, 1, 2, 0), 24, 24);
    add(&mut b, ipv4(10, 1, 2, 3), 32, 32);
    let layout = &model.table_by_name("fib_table").unwrap().actions;
    let set_layout = &layout.iter().find(|a| a.handle == set).unwrap().layout;
    let nh_of = |b: &mut p4tc_runtime::MemoryBackend, addr: u128| {
        let l = b.lookup(fib, &key(&model, "fib_table", &[addr]));
        match l.entry {
            Some(_) => Some(set_layout.decode(l.params).unwrap()[0].clone()),
            None => {
                assert_eq!(l.action, Some(miss_action));
                None
            }
        }
    };
    assert_eq!(nh_of(&mut b, ipv4(10, 1, 2, 3)), Some(u(32)));
    assert_eq!(nh_of(&mut b, ipv4(10, 1, 2, 4)), Some(u(24)));
    assert_eq!(nh_of(&mut b, ipv4(10, 1, 3, 4)), Some(u(16)));
    assert_eq!(nh_of(&mut b, ipv4(10, 2, 3, 4)), Some(u(8)));
    assert_eq!(nh_of(&mut b, ipv4(11, 0, 0, 0)), None);
    // A default route catches the rest.
    add(&mut b, 0, 0, 0);
    assert_eq!(nh_of(&mut b, ipv4(11, 0, 0, 0)), Some(u(0)));
    // Bits past the prefix are masked off: 10.1.9.9/16 names 10.1.0.0/16.
    let e = b
        .get_entry(fib, &[lpm(ipv4(10, 1, 9, 9), 16)], None)
        .unwrap();
    assert_eq!(e.spec.key, vec![lpm(ipv4(10, 1, 0, 0), 16)]);
    b.delete_entry(fib, &[lpm(ipv4(10, 1, 9, 9), 16)], None)
        .unwrap();
    assert_eq!(nh_of(&mut b, ipv4(10, 1, 3, 4)), Some(u(8)));
    // Dump: longest prefix first.
    let lens: Vec<u32> = b
        .dump(fib)
        .unwrap()
        .iter()
        .map(|e| match &e.spec.key[0] {
            KeyMatch::Lpm { prefix_len, .. } => *prefix_len,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(lens, vec![32, 24, 8, 0]);
    // An @defaultonly action cannot be an entry's.
    let err = b
        .create_entry(
            fib,
            EntrySpec::new(vec![lpm(1, 32)], call(miss_action, &[])),
        )
        .unwrap_err();
    assert!(
        matches!(&err, RuntimeError::Invalid(m) if m.contains("defaultonly")),
        "{err}"
    );
    // Prefix longer than the field.
    let err = b
        .create_entry(fib, EntrySpec::new(vec![lpm(1, 33)], call(set, &[1])))
        .unwrap_err();
    assert!(
        matches!(&err, RuntimeError::Invalid(m) if m.contains("prefix")),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------------
// Tuple space: ternary, range and optional fields with priorities.

fn acl_program() -> Arc<PipelineModel> {
    program(
        r#"
    action permit(bit<8> port) { meta.c = port; }
    action deny() { drop_packet(); }
    @tc_acl("CRUDPS:RX")
    table acl {
        key = {
            hdr.ip.src : ternary @name("src");
            meta.a     : range @name("port");
            hdr.ip.proto : optional @name("proto");
        }
        actions = { permit; deny; }
        default_action = deny;
        size = 64;
    }
"#,
        "        acl.apply();",
    )
}

#[test]
fn ternary_lower_priority_wins_and_ties_go_to_the_earlier_entry() {
    let model = acl_program();
    let (mut b, _clock) = backend(&model);
    let acl = table(&model, "acl");
    let permit = action(&model, "acl", "permit");
    let deny = action(&model, "acl", "deny");
    let port_of = |b: &mut p4tc_runtime::MemoryBackend, src: u128, port: u128, proto: u128| {
        let l = b.lookup(acl, &key(&model, "acl", &[src, port, proto]));
        l.entry.map(|_| {
            if l.action == Some(deny) {
                0
            } else {
                l.params[0]
            }
        })
    };
    // 10/8, any port, any proto: permit 1 at priority 20.
    b.create_entry(
        acl,
        with_prio(
            EntrySpec::new(
                vec![
                    ternary(ipv4(10, 0, 0, 0), 0xff00_0000),
                    KeyMatch::Any,
                    KeyMatch::Any,
                ],
                call(permit, &[1]),
            ),
            20,
        ),
    )
    .unwrap();
    // 10.1/16, ports 1000..2000, TCP: permit 2 at priority 10 (better).
    b.create_entry(
        acl,
        with_prio(
            EntrySpec::new(
                vec![
                    ternary(ipv4(10, 1, 0, 0), 0xffff_0000),
                    range(1000, 2000),
                    exact(6),
                ],
                call(permit, &[2]),
            ),
            10,
        ),
    )
    .unwrap();
    // Same priority 20 as the first, inserted later, more specific: loses the tie.
    b.create_entry(
        acl,
        with_prio(
            EntrySpec::new(
                vec![
                    ternary(ipv4(10, 2, 0, 0), 0xffff_0000),
                    KeyMatch::Any,
                    KeyMatch::Any,
                ],
                call(permit, &[3]),
            ),
            20,
        ),
    )
    .unwrap();
    assert_eq!(port_of(&mut b, ipv4(10, 1, 1, 1), 1500, 6), Some(2));
    assert_eq!(port_of(&mut b, ipv4(10, 1, 1, 1), 2000, 6), Some(2));
    assert_eq!(
        port_of(&mut b, ipv4(10, 1, 1, 1), 2001, 6),
        Some(1),
        "out of range"
    );
    assert_eq!(
        port_of(&mut b, ipv4(10, 1, 1, 1), 1500, 17),
        Some(1),
        "optional"
    );
    assert_eq!(
        port_of(&mut b, ipv4(10, 2, 1, 1), 1500, 6),
        Some(1),
        "tie: earlier"
    );
    assert_eq!(port_of(&mut b, ipv4(11, 2, 1, 1), 1500, 6), None);

    // Without priorities: allocated in order, later loses.
    let model = acl_program();
    let (mut b, _clock) = backend(&model);
    for (port, m) in [(5u128, 0u128), (6, 0xff00_0000)] {
        let mask_key = ternary(ipv4(10, 0, 0, 0) & m, m);
        b.create_entry(
            acl,
            EntrySpec::new(
                vec![mask_key, KeyMatch::Any, KeyMatch::Any],
                call(permit, &[port]),
            ),
        )
        .unwrap();
    }
    assert_eq!(port_of(&mut b, ipv4(10, 1, 1, 1), 1, 1), Some(5));
    let prios: Vec<_> = b
        .dump(acl)
        .unwrap()
        .iter()
        .map(|e| e.spec.priority)
        .collect();
    assert_eq!(prios, vec![Some(Priority(1)), Some(Priority(2))]);
    // The same match again without a priority: it exists.
    let err = b
        .create_entry(
            acl,
            EntrySpec::new(
                vec![ternary(0, 0), KeyMatch::Any, KeyMatch::Any],
                call(permit, &[9]),
            ),
        )
        .unwrap_err();
    assert!(matches!(err, RuntimeError::Exists { .. }), "{err:?}");
    // ... and with a new explicit priority it is another entry, which wins.
    b.create_entry(
        acl,
        with_prio(
            EntrySpec::new(
                vec![ternary(0, 0), KeyMatch::Any, KeyMatch::Any],
                call(permit, &[9]),
            ),
            0,
        ),
    )
    .unwrap();
    assert_eq!(port_of(&mut b, ipv4(10, 1, 1, 1), 1, 1), Some(9));
    // Now two entries have that match: a delete must say which.
    let any3 = [ternary(0, 0), KeyMatch::Any, KeyMatch::Any];
    let err = b.delete_entry(acl, &any3, None).unwrap_err();
    assert!(
        matches!(&err, RuntimeError::Invalid(m) if m.contains("priority")),
        "{err}"
    );
    b.delete_entry(acl, &any3, Some(Priority(0))).unwrap();
    assert_eq!(port_of(&mut b, ipv4(10, 1, 1, 1), 1, 1), Some(5));
}

#[test]
fn keys_are_checked_field_by_field() {
    let model = acl_program();
    let (mut b, _clock) = backend(&model);
    let acl = table(&model, "acl");
    let permit = action(&model, "acl", "permit");
    let before = snapshot(&b, &model);
    let cases: Vec<(Vec<KeyMatch>, &str)> = vec![
        (vec![KeyMatch::Any, KeyMatch::Any], "3 key fields"),
        (
            vec![ternary(1 << 32, 0), KeyMatch::Any, KeyMatch::Any],
            "`src`",
        ),
        (vec![KeyMatch::Any, range(5, 4), KeyMatch::Any], "`port`"),
        (
            vec![KeyMatch::Any, range(0, 1 << 16), KeyMatch::Any],
            "`port`",
        ),
        (
            vec![KeyMatch::Any, KeyMatch::Any, ternary(6, 0x0f)],
            "`proto`",
        ),
        (vec![KeyMatch::Any, lpm(1, 8), KeyMatch::Any], "`port`"),
    ];
    for (k, needle) in cases {
        let err = b
            .create_entry(acl, EntrySpec::new(k.clone(), call(permit, &[1])))
            .unwrap_err();
        assert!(
            matches!(&err, RuntimeError::Invalid(m) if m.contains(needle)),
            "{k:?}: {err}"
        );
    }
    assert_eq!(snapshot(&b, &model), before);
    // Ternary values are masked: 10.1.2.3 &&& ff.00.00.00 is stored as 10.0.0.0.
    b.create_entry(
        acl,
        EntrySpec::new(
            vec![
                ternary(ipv4(10, 1, 2, 3), 0xff00_0000),
                KeyMatch::Any,
                KeyMatch::Any,
            ],
            call(permit, &[1]),
        ),
    )
    .unwrap();
    let dump = b.dump(acl).unwrap();
    assert_eq!(dump[0].spec.key[0], ternary(ipv4(10, 0, 0, 0), 0xff00_0000));
    // Params: count and width, naming the parameter.
    let err = b
        .create_entry(
            acl,
            EntrySpec::new(vec![KeyMatch::Any; 3], call(permit, &[256])),
        )
        .unwrap_err();
    assert!(
        matches!(&err, RuntimeError::Invalid(m) if m.contains("`port`")),
        "{err}"
    );
    let err = b
        .create_entry(
            acl,
            EntrySpec::new(vec![KeyMatch::Any; 3], call(permit, &[])),
        )
        .unwrap_err();
    assert!(
        matches!(&err, RuntimeError::Invalid(m) if m.contains("port")),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------------
// Const entries, default actions and permissions.

#[test]
fn const_program_entries_are_installed_and_immutable() {
    let model = example("ternary_acl");
    let (mut b, _clock) = backend(&model);
    let acl = table(&model, "acl");
    let tm = model.table_by_name("acl").unwrap();
    let dump = b.dump(acl).unwrap();
    assert_eq!(dump.len(), tm.program_entries.len());
    assert!(dump.iter().all(|e| e.created_by == Actor::Program));
    let consts: Vec<&EntryInfo> = dump.iter().filter(|e| e.is_const).collect();
    assert!(!consts.is_empty());
    assert!(consts
        .iter()
        .all(|e| e.spec.permissions == Some(Permissions::CONST)));
    let before = snapshot(&b, &model);
    for c in &consts {
        let err = b
            .delete_entry(acl, &c.spec.key, c.spec.priority)
            .unwrap_err();
        assert!(
            matches!(&err, RuntimeError::Permission { reason } if reason.contains("const")),
            "{err}"
        );
        let err = b.update_entry(acl, c.spec.clone()).unwrap_err();
        assert!(matches!(err, RuntimeError::Permission { .. }), "{err}");
    }
    // The const default action.
    let deny = action(&model, "acl", "deny");
    let err = b
        .set_default_action(
            acl,
            DefaultKind::Miss,
            ActionCall {
                action: deny,
                params: vec![],
            },
        )
        .unwrap_err();
    assert!(
        matches!(&err, RuntimeError::Permission { reason } if reason.contains("default")),
        "{err}"
    );
    assert_eq!(snapshot(&b, &model), before);
    // Flush leaves the const entries.
    let non_const = dump.len() - consts.len();
    assert_eq!(b.flush(acl).unwrap(), non_const);
    assert_eq!(b.dump(acl).unwrap().len(), consts.len());
}

#[test]
fn default_actions_follow_scope_and_constness() {
    let model = example("default_actions");
    let (mut b, _clock) = backend(&model);
    let by_source = table(&model, "by_source");
    let by_destination = table(&model, "by_destination");
    let next_hop = action(&model, "by_source", "next_hop");
    let counted = action(&model, "by_source", "next_hop_counted");
    let before = snapshot(&b, &model);
    // The program's defaults.
    assert_eq!(
        b.default_action(by_source, DefaultKind::Miss).unwrap(),
        call(next_hop, &[8])
    );
    assert_eq!(
        b.default_action(by_source, DefaultKind::Hit).unwrap(),
        call(next_hop, &[0])
    );
    // @tableonly cannot be a default.
    let err = b
        .set_default_action(
            by_source,
            DefaultKind::Miss,
            call(counted, &[1, 2]).unwrap(),
        )
        .unwrap_err();
    assert!(
        matches!(&err, RuntimeError::Invalid(m) if m.contains("tableonly")),
        "{err}"
    );
    // Const hit and miss defaults of by_destination.
    let counted_d = action(&model, "by_destination", "next_hop_counted");
    let drop_d = action(&model, "by_destination", "drop");
    let err = b
        .set_default_action(
            by_destination,
            DefaultKind::Hit,
            call(counted_d, &[1, 1]).unwrap(),
        )
        .unwrap_err();
    assert!(matches!(err, RuntimeError::Permission { .. }), "{err}");
    let err = b
        .set_default_action(
            by_destination,
            DefaultKind::Miss,
            call(drop_d, &[]).unwrap(),
        )
        .unwrap_err();
    assert!(matches!(err, RuntimeError::Permission { .. }), "{err}");
    // Parameter width names the parameter.
    let err = b
        .set_default_action(
            by_source,
            DefaultKind::Miss,
            call(next_hop, &[1 << 40]).unwrap(),
        )
        .unwrap_err();
    assert!(
        matches!(&err, RuntimeError::Invalid(m) if m.contains("vport")),
        "{err}"
    );
    assert_eq!(snapshot(&b, &model), before);
    // Overridable: set, then hits without an action run the default hit action.
    b.set_default_action(by_source, DefaultKind::Hit, call(next_hop, &[5]).unwrap())
        .unwrap();
    b.create_entry(
        by_source,
        EntrySpec::new(vec![exact(0x0a000001), exact(1)], None),
    )
    .unwrap();
    let l = b.lookup(by_source, &key(&model, "by_source", &[0x0a000001, 1]));
    assert!(l.entry.is_some());
    assert_eq!(l.action, Some(next_hop));
    let layout = &model
        .table_by_name("by_source")
        .unwrap()
        .action(next_hop)
        .unwrap()
        .layout;
    assert_eq!(layout.decode(l.params).unwrap(), vec![u(5)]);
}

#[test]
fn permissions_are_p4tc_s() {
    let model = program(
        r#"
    action set(bit<8> v) { meta.c = v; }
    @tc_acl("RUD:RX")
    table read_only { key = { meta.a : exact; } actions = { set; } }
    @tc_acl("CRUDPS:R")
    table no_exec { key = { meta.a : exact; } actions = { set; } }
    table plain { key = { meta.a : exact; } actions = { set; } }
"#,
        "        read_only.apply(); no_exec.apply(); plain.apply();",
    );
    let (mut b, _clock) = backend(&model);
    let ro = table(&model, "read_only");
    let nx = table(&model, "no_exec");
    let plain = table(&model, "plain");
    let set = action(&model, "plain", "set");
    let before = snapshot(&b, &model);
    // No control-plane C bit: EPERM naming the table.
    let err = b
        .create_entry(ro, EntrySpec::new(vec![exact(1)], call(set, &[1])))
        .unwrap_err();
    assert!(
        matches!(&err, RuntimeError::Permission { reason } if reason.contains("read_only") && reason.contains("create")),
        "{err}"
    );
    // Entry permissions above the table's.
    let mut spec = EntrySpec::new(vec![exact(1)], call(set, &[1]));
    spec.permissions = Permissions::from_bits(0x3fff);
    let err = b.create_entry(plain, spec).unwrap_err();
    assert!(matches!(err, RuntimeError::Permission { .. }), "{err}");
    assert_eq!(snapshot(&b, &model), before);
    // Inherited: the table's less both C bits.
    b.create_entry(plain, EntrySpec::new(vec![exact(1)], call(set, &[1])))
        .unwrap();
    let e = b.get_entry(plain, &[exact(1)], None).unwrap();
    assert_eq!(
        e.spec.permissions,
        Some(Permissions::TABLE.without_create())
    );
    assert_eq!(e.created_by, Actor::ControlPlane);
    // No datapath X bit in the table: the entry hits but runs nothing.
    b.create_entry(nx, EntrySpec::new(vec![exact(1)], call(set, &[1])))
        .unwrap();
    let l = b.lookup(nx, &key(&model, "no_exec", &[1]));
    assert!(l.entry.is_some());
    assert_eq!(l.action, None);
    // An entry without the control-plane U and D bits.
    let mut spec = EntrySpec::new(vec![exact(2)], call(set, &[1]));
    spec.permissions = Some(Permissions::parse_acl("R:RX", Permissions::TABLE).unwrap());
    b.create_entry(plain, spec.clone()).unwrap();
    let before = snapshot(&b, &model);
    let err = b.update_entry(plain, spec).unwrap_err();
    assert!(
        matches!(&err, RuntimeError::Permission { reason } if reason.contains("update")),
        "{err}"
    );
    let err = b.delete_entry(plain, &[exact(2)], None).unwrap_err();
    assert!(
        matches!(&err, RuntimeError::Permission { reason } if reason.contains("delete")),
        "{err}"
    );
    assert_eq!(snapshot(&b, &model), before);
    // Flush takes only what the control plane may delete.
    assert_eq!(b.flush(plain).unwrap(), 1);
    assert_eq!(b.dump(plain).unwrap().len(), 1);
    // Not found names the table and the key.
    let err = b.delete_entry(plain, &[exact(77)], None).unwrap_err();
    assert!(
        matches!(&err, RuntimeError::NotFound { what } if what.contains("plain") && what.contains("0x4d")),
        "{err}"
    );
}

#[test]
fn update_replaces_action_permissions_and_aging() {
    let model = example("lpm_routing");
    let (mut b, clock) = backend(&model);
    let nh = table(&model, "nh_table");
    let send = action(&model, "nh_table", "send_nh");
    b.create_entry(nh, EntrySpec::new(vec![exact(1)], call(send, &[1, 2, 3])))
        .unwrap();
    b.take_events();
    clock.advance(Duration::from_secs(1));
    let mut spec = EntrySpec::new(vec![exact(1)], call(send, &[4, 5, 6]));
    spec.dynamic = true;
    spec.aging = Some(Aging::After(Duration::from_secs(2)));
    b.update_entry(nh, spec).unwrap();
    let e = b.get_entry(nh, &[exact(1)], None).unwrap();
    assert_eq!(e.spec.action, call(send, &[4, 5, 6]));
    assert_eq!(e.updated_by, Some(Actor::ControlPlane));
    assert!(e.spec.dynamic);
    assert_eq!(
        e.spec.permissions,
        Some(Permissions::TABLE.without_create())
    );
    let events = b.take_events();
    assert!(matches!(
        &events[..],
        [p4tc_runtime::Event {
            kind: EventKind::EntryUpdated {
                by: Actor::ControlPlane,
                ..
            },
            ..
        }]
    ));
    // Now dynamic: it ages out.
    clock.advance(Duration::from_secs(3));
    b.expire();
    assert!(b.get_entry(nh, &[exact(1)], None).is_err());
    // Update of a missing entry.
    let err = b
        .update_entry(nh, EntrySpec::new(vec![exact(9)], call(send, &[1, 2, 3])))
        .unwrap_err();
    assert!(matches!(err, RuntimeError::NotFound { .. }));
}

// ---------------------------------------------------------------------------------------------
// Datapath entries and aging.

fn learning_program(size: u32) -> Arc<PipelineModel> {
    program(
        &format!(
            r#"
    action hit(bit<16> v) {{ meta.b = v; }}
    action learn() {{ add_entry("hit", (one16_t){{ v = 16w7 }}, (ExpireTimeProfileId_t)0); }}
    @tc_acl("CRUDS:CRXP")
    table flows {{
        key = {{ meta.a : exact; }}
        actions = {{ @tableonly hit; @defaultonly learn; }}
        const default_action = learn;
        add_on_miss = true;
        size = {size};
    }}
    action plain_hit(bit<16> v) {{ meta.b = v; }}
    table fixed {{ key = {{ meta.a : exact; }} actions = {{ plain_hit; }} }}
"#
        ),
        "        flows.apply(); fixed.apply();",
    )
}

#[test]
fn add_entry_is_bounded_and_needs_add_on_miss() {
    let model = learning_program(4);
    let (mut b, _clock) = backend(&model);
    let flows = table(&model, "flows");
    let fixed = table(&model, "fixed");
    let hit = action(&model, "flows", "hit");
    let plain_hit = action(&model, "fixed", "plain_hit");
    let params = [0u8, 7, 0, 0];
    for i in 0..4u128 {
        assert!(b.add_entry(flows, &key(&model, "flows", &[i]), hit, &params, 0));
    }
    assert!(
        !b.add_entry(flows, &key(&model, "flows", &[9]), hit, &params, 0),
        "full"
    );
    assert!(
        !b.add_entry(flows, &key(&model, "flows", &[1]), hit, &params, 0),
        "exists"
    );
    assert!(
        !b.add_entry(fixed, &key(&model, "fixed", &[1]), plain_hit, &params, 0),
        "not add_on_miss"
    );
    let dump = b.dump(flows).unwrap();
    assert_eq!(dump.len(), 4);
    assert!(dump
        .iter()
        .all(|e| e.created_by == Actor::Datapath && e.spec.dynamic));
    let events = b.take_events();
    assert_eq!(events.len(), 4);
    assert!(events.iter().all(|e| matches!(
        e.kind,
        EventKind::EntryCreated {
            by: Actor::Datapath,
            ..
        }
    )));
    let l = b.lookup(flows, &key(&model, "flows", &[2]));
    assert_eq!(l.action, Some(hit));
    assert_eq!(l.params, &params);
    // The control plane cannot read a bad profile into being either.
    let mut spec = EntrySpec::new(vec![exact(5)], call(hit, &[1]));
    spec.dynamic = true;
    spec.aging = Some(Aging::Profile(9));
    let mut b2 = backend(&learning_program(8)).0;
    let err = b2.create_entry(flows, spec).unwrap_err();
    assert!(
        matches!(&err, RuntimeError::Invalid(m) if m.contains("profile")),
        "{err}"
    );
}

#[test]
fn aging_deletes_idle_entries_and_hits_refresh_them() {
    let model = learning_program(16);
    let (mut b, clock) = backend(&model);
    let flows = table(&model, "flows");
    let hit = action(&model, "flows", "hit");
    let params = [0u8, 7, 0, 0];
    let k1 = key(&model, "flows", &[1]);
    let k2 = key(&model, "flows", &[2]);
    assert!(b.add_entry(flows, &k1, hit, &params, 0)); // 30 s
    assert!(b.add_entry(flows, &k2, hit, &params, 1)); // 60 s
    b.take_events();
    clock.advance(Duration::from_secs(29));
    b.expire();
    assert!(
        b.lookup(flows, &k1).entry.is_some(),
        "hit at 29 s refreshes"
    );
    clock.advance(Duration::from_secs(29)); // 58 s
    b.expire();
    assert_eq!(b.dump(flows).unwrap().len(), 2);
    clock.advance(Duration::from_secs(1)); // 59 s: k1 idle for 30 s since its hit
    b.expire();
    let left = b.dump(flows).unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].spec.key, vec![exact(2)]);
    clock.advance(Duration::from_secs(1)); // 60 s: k2's 60 s have passed
    b.expire();
    assert!(b.dump(flows).unwrap().is_empty());
    assert_eq!(b.lookup(flows, &k1).entry, None);
    let events = b.take_events();
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|e| matches!(
        e.kind,
        EventKind::EntryDeleted {
            by: Actor::Timer,
            ..
        }
    )));

    // Profiles can change at run time, and changes apply to existing entries.
    assert!(b.add_entry(flows, &k1, hit, &params, 0));
    b.set_timer_profile(0, Duration::from_secs(5)).unwrap();
    assert_eq!(b.timer_profiles()[0], Duration::from_secs(5));
    clock.advance(Duration::from_secs(5));
    b.expire();
    assert!(b.dump(flows).unwrap().is_empty());
    b.set_timer_profile(4, Duration::from_secs(1)).unwrap();
    assert!(b.set_timer_profile(6, Duration::from_secs(1)).is_err());
    assert!(b.set_timer_profile(1, Duration::ZERO).is_err());

    // set_entry_expire_time needs the entry's datapath U bit, which CRXP entries lack.
    assert!(b.add_entry(flows, &k1, hit, &params, 0));
    let entry = b.lookup(flows, &k1).entry.unwrap();
    b.set_entry_expire_time(flows, entry, 1);
    let e = b.get_entry(flows, &[exact(1)], None).unwrap();
    assert_eq!(e.spec.aging, Some(Aging::Profile(0)));

    // Static entries never age.
    let fixed = table(&model, "fixed");
    let plain_hit = action(&model, "fixed", "plain_hit");
    b.create_entry(fixed, EntrySpec::new(vec![exact(1)], call(plain_hit, &[1])))
        .unwrap();
    clock.advance(Duration::from_secs(3600));
    b.expire();
    assert_eq!(b.dump(fixed).unwrap().len(), 1);
}

#[test]
fn set_entry_expire_time_moves_an_entry_to_another_profile() {
    let model = program(
        r#"
    action hit() { }
    action learn() { add_entry("hit", (empty_t){}, (ExpireTimeProfileId_t)0); }
    @tc_acl("CRUDS:CRUXP")
    table flows {
        key = { meta.a : exact; }
        actions = { @tableonly hit; @defaultonly learn; }
        const default_action = learn;
        add_on_miss = true;
    }
"#,
        "        flows.apply();",
    );
    let (mut b, clock) = backend(&model);
    let flows = table(&model, "flows");
    let hit = action(&model, "flows", "hit");
    let k = key(&model, "flows", &[1]);
    assert!(b.add_entry(flows, &k, hit, &[], 0));
    let entry = b.lookup(flows, &k).entry.unwrap();
    b.set_entry_expire_time(flows, entry, 3); // 120 s
    let events = b.take_events();
    assert!(matches!(
        events.last().unwrap().kind,
        EventKind::EntryUpdated {
            by: Actor::Datapath,
            ..
        }
    ));
    clock.advance(Duration::from_secs(100));
    b.expire();
    assert_eq!(b.dump(flows).unwrap().len(), 1);
    clock.advance(Duration::from_secs(20));
    b.expire();
    assert!(b.dump(flows).unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Externs.

#[test]
fn meters_mark_green_yellow_red_by_rfc_2698() {
    let model = example("meters_policer");
    let (mut b, clock) = backend(&model);
    let m = instance(&model, "subscriber_meter"); // bytes
                                                  // Unconfigured: green.
    assert_eq!(b.meter(m, 3, 1_000_000, None), Color::Green);
    b.set_meter(
        m,
        3,
        MeterConfig {
            cir: 1000,
            cbs: 1500,
            pir: 2000,
            pbs: 3000,
        },
    )
    .unwrap();
    // Buckets start full: C = 1500, P = 3000.
    assert_eq!(b.meter(m, 3, 1000, None), Color::Green); // C 500, P 2000
    assert_eq!(b.meter(m, 3, 1000, None), Color::Yellow); // C 500, P 1000
    assert_eq!(b.meter(m, 3, 1000, None), Color::Yellow); // C 500, P 0
    assert_eq!(b.meter(m, 3, 1000, None), Color::Red);
    assert_eq!(b.meter(m, 3, 1, None), Color::Red);
    clock.advance(Duration::from_millis(500)); // C 1000, P 1000
    assert_eq!(b.meter(m, 3, 1000, None), Color::Green); // C 0, P 0
    clock.advance(Duration::from_secs(10)); // both full again, capped at the bursts
                                            // Colour-aware: a yellow packet stays yellow, a red one red, whatever the tokens.
    assert_eq!(b.meter(m, 3, 100, Some(Color::Yellow)), Color::Yellow);
    assert_eq!(b.meter(m, 3, 100, Some(Color::Red)), Color::Red);
    assert_eq!(b.meter(m, 3, 100, Some(Color::Green)), Color::Green);
    // Other elements are independent; out of range is green and an error to set.
    assert_eq!(b.meter(m, 4, 1_000_000, None), Color::Green);
    assert_eq!(b.meter(m, 5000, 1, None), Color::Green);
    let err = b.set_meter(m, 5000, MeterConfig::default()).unwrap_err();
    assert!(
        matches!(&err, RuntimeError::NotFound { what } if what.contains("subscriber_meter")),
        "{err}"
    );

    // The direct meter counts packets, per entry.
    let uplinks = table(&model, "uplinks");
    let direct = instance(&model, "uplink_meter");
    let err = b.set_meter(direct, 0, MeterConfig::default()).unwrap_err();
    assert!(matches!(err, RuntimeError::Invalid(_)), "{err}");
    let uplink = action(&model, "uplinks", "uplink");
    b.create_entry(uplinks, EntrySpec::new(vec![lpm(0, 0)], call(uplink, &[1])))
        .unwrap();
    b.set_direct_meter(
        uplinks,
        &[lpm(0, 0)],
        None,
        MeterConfig {
            cir: 1,
            cbs: 1,
            pir: 1,
            pbs: 2,
        },
    )
    .unwrap();
    let e = b.lookup(uplinks, &key(&model, "uplinks", &[1])).entry;
    assert!(e.is_some());
    let colours: Vec<Color> = (0..3)
        .map(|_| b.meter_direct(uplinks, e, 9000, None))
        .collect();
    assert_eq!(colours, vec![Color::Green, Color::Yellow, Color::Red]);
}

#[test]
fn registers_read_write_and_initial_values() {
    let model = program(
        r#"
    Register<bit<32>, bit<32>>(8) plain;
    Register<bit<64>, bit<32>>(4, 64w0x1122) seeded;
    Register<pair_t, bit<32>>(2, { 16w0xabcd, 8w0x7f }) pairs;
    Counter<bit<64>, bit<32>>(4, PNA_CounterType_t.PACKETS) c;
"#,
        "        meta.d = plain.read(0); plain.write(1, meta.d); meta.d = (bit<32>)seeded.read(0); pair_t p = pairs.read(0); c.count(0);",
    );
    let (mut b, _clock) = backend(&model);
    let plain = instance(&model, "plain");
    let seeded = instance(&model, "seeded");
    let pairs = instance(&model, "pairs");
    assert_eq!(b.register(plain, 7).unwrap(), vec![u(0)]);
    assert_eq!(b.register(seeded, 3).unwrap(), vec![u(0x1122)]);
    assert_eq!(b.register(pairs, 1).unwrap(), vec![u(0xabcd), u(0x7f)]);
    // Datapath: blobs by the value layout; out of range reads zeros, writes nothing.
    b.register_write(plain, 2, &[0xde, 0xad, 0xbe, 0xef]);
    let mut out = [0xffu8; 4];
    b.register_read(plain, 2, &mut out);
    assert_eq!(out, [0xde, 0xad, 0xbe, 0xef]);
    assert_eq!(b.register(plain, 2).unwrap(), vec![u(0xdead_beef)]);
    b.register_write(plain, 8, &[1, 1, 1, 1]);
    b.register_read(plain, 8, &mut out);
    assert_eq!(out, [0; 4]);
    let mut out8 = [0u8; 8];
    b.register_read(seeded, 0, &mut out8);
    assert_eq!(out8, [0, 0, 0, 0, 0, 0, 0x11, 0x22]);
    // Control plane.
    b.set_register(pairs, 0, &[u(1), u(2)]).unwrap();
    assert_eq!(b.register(pairs, 0).unwrap(), vec![u(1), u(2)]);
    let err = b.set_register(pairs, 0, &[u(1), u(256)]).unwrap_err();
    assert!(
        matches!(&err, RuntimeError::Invalid(m) if m.contains("`second`")),
        "{err}"
    );
    let err = b.set_register(pairs, 0, &[u(1)]).unwrap_err();
    assert!(matches!(err, RuntimeError::Invalid(_)), "{err}");
    assert_eq!(b.register(pairs, 0).unwrap(), vec![u(1), u(2)], "unchanged");
    let err = b.set_register(pairs, 2, &[u(1), u(2)]).unwrap_err();
    assert!(matches!(err, RuntimeError::NotFound { .. }), "{err}");
    let err = b.register(instance(&model, "c"), 0).unwrap_err();
    assert!(
        matches!(&err, RuntimeError::Invalid(m) if m.contains("not a Register")),
        "{err}"
    );
}

#[test]
fn counters_count_what_their_kind_keeps() {
    let model = example("indirect_counters");
    let (mut b, _clock) = backend(&model);
    let rx = instance(&model, "rx_port_stats"); // packets and bytes, 256
    let tx = instance(&model, "tx_port_stats"); // packets
    let class = instance(&model, "class_bytes"); // bytes, 32-bit
    b.count(rx, 3, 100);
    b.count(rx, 3, 50);
    b.count(tx, 3, 100);
    b.count(class, 1, u64::from(u32::MAX));
    b.count(class, 1, 2);
    b.count(rx, 256, 1); // out of range: ignored
    let v = b.counter(rx, 3).unwrap();
    assert_eq!((v.packets, v.bytes), (2, 150));
    let v = b.counter(tx, 3).unwrap();
    assert_eq!((v.packets, v.bytes), (1, 0));
    let v = b.counter(class, 1).unwrap();
    assert_eq!((v.packets, v.bytes), (0, 1), "a 32-bit count wraps");
    b.reset_counter(rx, 3).unwrap();
    assert_eq!(b.counter(rx, 3).unwrap().packets, 0);
    let err = b.counter(rx, 256).unwrap_err();
    assert!(
        matches!(&err, RuntimeError::NotFound { what } if what.contains("rx_port_stats")),
        "{err}"
    );
    assert!(b.reset_counter(rx, 256).is_err());

    // Direct counters live in the entries.
    let model = example("direct_counters");
    let (mut b, _clock) = backend(&model);
    let routes = table(&model, "routes");
    let route = action(&model, "routes", "route");
    b.create_entry(
        routes,
        EntrySpec::new(vec![exact(0x0a000001)], call(route, &[2])),
    )
    .unwrap();
    let e = b
        .lookup(routes, &key(&model, "routes", &[0x0a000001]))
        .entry;
    b.count_direct(routes, e, 64);
    b.count_direct(routes, e, 64);
    b.count_direct(routes, None, 64);
    let info = b.get_entry(routes, &[exact(0x0a000001)], None).unwrap();
    assert_eq!(info.counter, Some((2, 128)));
    let err = b.counter(instance(&model, "route_stats"), 0).unwrap_err();
    assert!(matches!(err, RuntimeError::Invalid(_)), "{err}");
}

#[test]
fn digests_are_events_and_the_queue_is_bounded() {
    let model = example("mac_learning_digest");
    let (mut b, _clock) = backend(&model);
    let d = instance(&model, "mac_learn");
    b.digest(d, &[1, 2, 3, 4]);
    let events = b.take_events();
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].kind,
        EventKind::Digest {
            instance: d,
            payload: vec![1, 2, 3, 4]
        }
    );
    let cap = p4tc_runtime::memory::EVENT_CAPACITY;
    for i in 0..cap + 10 {
        b.digest(d, &(i as u32).to_be_bytes());
    }
    assert_eq!(b.events_dropped(), 10);
    let events = b.take_events();
    assert_eq!(events.len(), cap);
    // The oldest went.
    assert_eq!(
        events[0].kind,
        EventKind::Digest {
            instance: d,
            payload: 10u32.to_be_bytes().to_vec()
        }
    );
}

#[test]
fn every_example_loads() {
    for name in [
        "arp_responder",
        "conntrack_aging",
        "default_actions",
        "direct_counters",
        "indirect_counters",
        "lpm_routing",
        "mac_learning_digest",
        "meters_policer",
        "register_flow_stats",
        "simple_l3",
        "stateful_firewall",
        "ternary_acl",
    ] {
        let model = example(name);
        let (b, _clock) = backend(&model);
        for t in &model.tables {
            assert!(b.dump(t.handle).is_ok(), "{name}");
        }
    }
}

#[test]
fn a_full_queue_keeps_the_newest_events_whole() {
    let model = program(
        r#"
    Digest<pair_t>() d;
    action set(bit<8> v, bit<32> w) { meta.c = v; meta.d = w; }
    action nop() { }
    table ex { key = { meta.a : exact; } actions = { set; nop; } }
    table tern {
        key = { hdr.ip.src : ternary; meta.a : range; hdr.ip.dst : lpm; }
        actions = { set; nop; }
    }
"#,
        "        ex.apply(); tern.apply();",
    );
    let (mut b, _clock) = backend(&model);
    let ex = table(&model, "ex");
    let tern = table(&model, "tern");
    let set_ex = action(&model, "ex", "set");
    let nop_ex = action(&model, "ex", "nop");
    let set_t = action(&model, "tern", "set");
    let d = instance(&model, "d");
    // Old entry events of every shape, then digests up to the cap.
    b.create_entry(ex, EntrySpec::new(vec![exact(1)], call(set_ex, &[1, 2])))
        .unwrap();
    b.create_entry(
        tern,
        EntrySpec::new(
            vec![
                ternary(0x0a00_0000, 0xff00_0000),
                range(1, 9),
                lpm(0x0a00_0000, 8),
            ],
            call(set_t, &[3, 4]),
        ),
    )
    .unwrap();
    b.create_entry(ex, EntrySpec::new(vec![exact(2)], None))
        .unwrap();
    let cap = p4tc_runtime::memory::EVENT_CAPACITY;
    for _ in 0..cap - 3 {
        b.digest(d, &[0; 4]);
    }
    // New events of other shapes take the old ones' places.
    let mut spec = EntrySpec::new(vec![KeyMatch::Any, exact(5), lpm(0x0b00_0000, 16)], None);
    spec.priority = Some(Priority(4));
    b.create_entry(tern, spec).unwrap();
    b.create_entry(ex, EntrySpec::new(vec![exact(3)], call(nop_ex, &[])))
        .unwrap();
    b.create_entry(ex, EntrySpec::new(vec![exact(4)], call(set_ex, &[9, 9])))
        .unwrap();
    assert_eq!(b.events_dropped(), 3);
    let events = b.take_events();
    assert_eq!(events.len(), cap);
    let tail: Vec<EntrySpec> = events[cap - 3..]
        .iter()
        .map(|e| match &e.kind {
            EventKind::EntryCreated { entry, .. } => entry.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    let stored = |t, k: &[KeyMatch], p| b.get_entry(t, k, p).unwrap().spec;
    assert_eq!(
        tail,
        vec![
            stored(
                tern,
                &[KeyMatch::Any, exact(5), lpm(0x0b00_0000, 16)],
                Some(Priority(4))
            ),
            stored(ex, &[exact(3)], None),
            stored(ex, &[exact(4)], None),
        ]
    );
}

#[test]
fn the_backend_can_move_to_another_thread() {
    fn send<T: Send + Sync>() {}
    send::<p4tc_runtime::MemoryBackend>();
}
