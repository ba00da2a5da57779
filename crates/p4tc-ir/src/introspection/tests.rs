use std::path::PathBuf;

use super::*;
use crate::ir::{ActionScope as Scope, LocalKind, Value};
use crate::layout::test_support::{ann, ann_int, ann_str, ModuleBuilder};
use crate::layout::{action_param_layout, table_key_layout};

/// P4TC's simple_l3: one exact table routing on the IPv4 destination.
fn simple_l3() -> Module {
    let mut b = ModuleBuilder::new();
    let (b32, b48) = (b.bits(32), b.bits(48));
    let port = b.newtype("PortId_t", b32);
    // core.p4's NoAction comes first in every program; it takes no id.
    let no_action = b.action(None, "NoAction", &[]);
    let ingress = b.control("ingress");
    let send_nh = b.action(
        Some(ingress),
        "send_nh",
        &[("port_id", port), ("dmac", b48), ("smac", b48)],
    );
    let drop = b.action(Some(ingress), "drop", &[]);
    b.table(ingress, "nh_table")
        .key_with(
            "dstAddr",
            b32,
            "exact",
            vec![ann_str("tc_type", "ipv4"), ann_str("name", "dstAddr")],
        )
        .action(send_nh)
        .action(drop)
        .action_with(no_action, Scope::DefaultOnly, vec![ann("defaultonly")])
        .size(262_144)
        .default_action(drop)
        .build();
    b.module
}

/// A routing pipeline with every feature the JSON shows: LPM, ternary and range keys, scopes,
/// default hit actions, ACLs, `@nummask`, `add_on_miss`, a global action, and every extern
/// with a control-plane view.
fn routing() -> Module {
    let mut b = ModuleBuilder::new();
    let (b8, b9, b16, b32, b48, b64) = (
        b.bits(8),
        b.bits(9),
        b.bits(16),
        b.bits(32),
        b.bits(48),
        b.bits(64),
    );
    let no_action = b.action(None, "NoAction", &[]);
    let set_nhid = b.action(None, "set_nhid", &[("index", b16)]);
    let main = b.control("Main");
    let set_nh = b.action(Some(main), "set_nh", &[("dmac", b48), ("port", b9)]);
    let drop = b.action(Some(main), "drop", &[]);
    let count_it = b.action_with(
        Some(main),
        "count_it",
        &[
            ("total", b32, LocalKind::InOut),
            ("step", b8, LocalKind::Directionless),
        ],
        vec![ann_str("name", ".global_count")],
    );

    let counter = b.extern_def("Counter", vec![ann_str("tc_acl", "RP:RUXP")]);
    let direct_counter = b.extern_def("DirectCounter", vec![ann_str("tc_acl", "RP:RUXP")]);
    let register = b.extern_def("Register", Vec::new());
    let meter = b.extern_def("Meter", vec![ann_str("tc_acl", "RUP:RUXP")]);
    let digest = b.extern_def("Digest", Vec::new());
    let hash = b.extern_def("Hash", Vec::new());
    let reg_t = b.structure(
        "reg_t",
        &[
            ("protocol", b8, Vec::new()),
            ("addr", b32, vec![ann_str("tc_type", "ipv4")]),
        ],
    );
    let learn_t = b.structure(
        "learn_t",
        &[
            ("mac", b48, vec![ann_str("tc_type", "macaddr")]),
            ("ingress_port", b32, vec![ann_str("tc_type", "dev")]),
        ],
    );
    b.instance(
        Some(main),
        "bytes_in",
        counter,
        vec![b64, b32],
        vec![Value::Int(1024.into()), Value::Enum(2)],
    );
    b.instance(
        Some(main),
        "last_seen",
        register,
        vec![reg_t, b32],
        vec![Value::Int(16.into())],
    );
    b.instance(Some(main), "h", hash, vec![b32], vec![Value::Enum(0)]);
    b.instance(
        Some(main),
        "policer",
        meter,
        vec![b32],
        vec![Value::Int(64.into()), Value::Enum(1)],
    );
    b.instance(
        Some(main),
        "hits",
        direct_counter,
        vec![b64],
        vec![Value::Enum(0)],
    );
    b.instance(Some(main), "learn", digest, vec![learn_t], Vec::new());
    b.instance(
        Some(main),
        "drops",
        counter,
        vec![b32, b16],
        vec![Value::Int(8.into()), Value::Enum(0)],
    );
    b.instance(
        Some(main),
        "flags",
        register,
        vec![b16, b32],
        vec![Value::Int(4.into())],
    );

    b.table(main, "fib")
        .key("vrf", b16, "exact")
        .key_with("prefix", b32, "lpm", vec![ann_str("tc_type", "ipv4")])
        .action_with(set_nhid, Scope::TableOnly, vec![ann("tableonly")])
        .action_with(drop, Scope::DefaultOnly, Vec::new())
        .action(no_action)
        .default_action(drop)
        .annotation(ann_str("tc_acl", "CRUDPS:RXP"))
        .size(65_536)
        .build();
    b.table(main, "nh")
        .key("nhid", b16, "exact")
        .action(set_nh)
        .action(drop)
        .default_action(drop)
        .build();
    b.table(main, "acl")
        .key("flags", b8, "ternary")
        .key("sport", b16, "range")
        .action_with(
            count_it,
            Scope::TableAndDefault,
            vec![ann("tc_may_override"), ann("default_hit_const")],
        )
        .action(drop)
        .default_action(drop)
        .annotation(ann_int("nummask", 64))
        .property("add_on_miss", Value::Bool(true))
        .size(4096)
        .build();
    b.module
}

/// Compares `json` with `tests/snapshots/NAME.json`; `UPDATE_SNAPSHOTS=1` rewrites the file.
fn check_snapshot(name: &str, json: &str) {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests",
        "snapshots",
        &format!("{name}.json"),
    ]
    .iter()
    .collect();
    let text = format!("{json}\n");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap_or(&path)).unwrap();
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with UPDATE_SNAPSHOTS=1 to write it)",
            path.display()
        )
    });
    assert!(
        expected == text,
        "{} differs (run with UPDATE_SNAPSHOTS=1 to accept):\n{text}",
        path.display()
    );
}

#[test]
fn simple_l3_snapshot() {
    let json = introspection(&simple_l3(), "simple_l3")
        .unwrap()
        .to_json_pretty()
        .unwrap();
    check_snapshot("simple_l3", &json);
}

#[test]
fn routing_snapshot() {
    let json = introspection(&routing(), "routing")
        .unwrap()
        .to_json_pretty()
        .unwrap();
    check_snapshot("routing", &json);
}

#[test]
fn json_widths_are_the_layout_widths() {
    for module in [simple_l3(), routing()] {
        let json = introspection(&module, "p").unwrap();
        assert_eq!(json.tables.len(), module.tables.len());
        for ((handle, t), table) in module.tables.iter().zip(&json.tables) {
            let key = table_key_layout(&module, handle).unwrap();
            assert_eq!(table.keysize, key.width, "{}", table.name);
            let widths: Vec<u32> = key.fields.iter().map(|f| f.field.width).collect();
            let json_widths: Vec<u32> = table.keyfields.iter().map(|k| k.bitwidth).collect();
            assert_eq!(json_widths, widths, "{}", table.name);
            let listed = t
                .actions
                .iter()
                .filter(|a| module.actions[a.action].name != "NoAction");
            for (reference, action) in listed.zip(&table.actions) {
                let params = action_param_layout(&module, reference.action).unwrap();
                let widths: Vec<u32> = params.params.iter().map(|p| p.field.width).collect();
                let json_widths: Vec<u32> = action.params.iter().map(|p| p.bitwidth).collect();
                assert_eq!(json_widths, widths, "{}", action.name);
            }
        }
    }
}

#[test]
fn json_round_trips_through_serde() {
    for module in [simple_l3(), routing()] {
        let json = introspection(&module, "p").unwrap();
        let text = json.to_json_pretty().unwrap();
        assert_eq!(Introspection::from_json(&text).unwrap(), json);
        assert_eq!(to_json_pretty(&json).unwrap(), text);
    }
}

/// An extern's name, id and (id, name) of each instance.
type ExternSummary<'a> = (&'a str, &'a str, Vec<(u32, &'a str)>);

#[test]
fn ids_follow_p4tc() {
    let json = introspection(&routing(), "routing").unwrap();
    let ids: Vec<(u32, &str)> = json
        .tables
        .iter()
        .map(|t| (t.id, t.name.as_str()))
        .collect();
    assert_eq!(ids, [(1, "Main/fib"), (2, "Main/nh"), (3, "Main/acl")]);
    // Actions are numbered program-wide, NoAction skipped, and keep their id in every table.
    let actions: Vec<Vec<(u32, &str)>> = json
        .tables
        .iter()
        .map(|t| t.actions.iter().map(|a| (a.id, a.name.as_str())).collect())
        .collect();
    assert_eq!(
        actions,
        [
            vec![(1, "set_nhid"), (3, "Main/drop")],
            vec![(2, "Main/set_nh"), (3, "Main/drop")],
            vec![(4, "global_count"), (3, "Main/drop")],
        ]
    );
    let externs: Vec<ExternSummary<'_>> = json
        .externs
        .iter()
        .map(|e| {
            let instances = e
                .instances
                .iter()
                .map(|i| (i.inst_id, i.inst_name.as_str()))
                .collect();
            (e.name.as_str(), e.id.as_str(), instances)
        })
        .collect();
    assert_eq!(
        externs,
        [
            (
                "Counter",
                "0x19000000",
                vec![(1, "Main.bytes_in"), (2, "Main.drops")]
            ),
            (
                "Register",
                "0x1",
                vec![(1, "Main.last_seen"), (2, "Main.flags")]
            ),
            ("Meter", "0x1B000000", vec![(1, "Main.policer")]),
            ("DirectCounter", "0x1A000000", vec![(1, "Main.hits")]),
            ("Digest", "0x05000000", vec![(1, "Main.learn")]),
        ]
    );
}

#[test]
fn table_attributes_follow_p4tc() {
    let json = introspection(&routing(), "routing").unwrap();
    let attrs: Vec<(&str, u32, &str, u32)> = json
        .tables
        .iter()
        .map(|t| {
            (
                t.name.as_str(),
                t.tentries,
                t.permissions.as_str(),
                t.nummask,
            )
        })
        .collect();
    assert_eq!(
        attrs,
        [
            ("Main/fib", 65_536, "0x3da6", 8),
            ("Main/nh", 1024, "0x3da4", 8),
            ("Main/acl", 4096, "0x3de6", 64),
        ]
    );
    let fib = &json.tables[0];
    assert_eq!(
        (fib.keyfields[0].ty.as_str(), fib.keyfields[1].ty.as_str()),
        ("bit16", "ipv4")
    );
    assert_eq!(fib.keyfields[1].match_type, "lpm");
    let acl = &json.tables[2];
    assert_eq!(acl.keyfields[1].match_type, "range");
    let count_it = &acl.actions[0];
    assert!(count_it.default_hit_action && !count_it.default_miss_action);
    assert_eq!(
        count_it.annotations,
        ["tc_may_override", "default_hit_const"]
    );
    // Only the directionless parameter is action data.
    assert_eq!(count_it.params.len(), 1);
    assert_eq!(
        (
            count_it.params[0].name.as_str(),
            count_it.params[0].bitwidth
        ),
        ("step", 8)
    );
    // The scope annotation is listed even when the IR kept only the scope.
    assert_eq!(fib.actions[1].annotations, ["defaultonly"]);
    assert_eq!(fib.actions[1].action_scope, ActionScope::DefaultOnly);
    assert!(fib.actions[1].default_miss_action);
}

#[test]
fn bad_annotations_are_errors_naming_their_owner() {
    let mut b = ModuleBuilder::new();
    let b32 = b.bits(32);
    let c = b.control("ingress");
    b.table(c, "t")
        .key("k", b32, "exact")
        .annotation(ann_str("tc_acl", "CRUDPS:RZ"))
        .build();
    let err = introspection(&b.module, "p").unwrap_err();
    assert_eq!(
        err.to_string(),
        "table `ingress.t`: @tc_acl(\"CRUDPS:RZ\"): `Z` is not a permission letter in the datapath part (letters: C R U D X P S)"
    );

    let mut b = ModuleBuilder::new();
    let b32 = b.bits(32);
    let c = b.control("ingress");
    b.table(c, "t")
        .key("k", b32, "exact")
        .annotation(ann_str("nummask", "8"))
        .build();
    assert_eq!(
        introspection(&b.module, "p").unwrap_err().to_string(),
        "table `ingress.t`: @nummask takes one positive integer"
    );

    let mut b = ModuleBuilder::new();
    let b32 = b.bits(32);
    let c = b.control("ingress");
    b.table(c, "t")
        .key_with("k", b32, "exact", vec![ann_str("tc_type", "ipv5")])
        .build();
    assert_eq!(
        introspection(&b.module, "p").unwrap_err(),
        IntrospectionError::TcType {
            owner: "table `ingress.t`, key field `k`".into(),
            tc_type: "ipv5".into(),
            span: Span::default()
        }
    );

    let mut b = ModuleBuilder::new();
    let b16 = b.bits(16);
    let c = b.control("ingress");
    b.table(c, "t")
        .key_with("k", b16, "exact", vec![ann_str("tc_type", "macaddr")])
        .build();
    assert_eq!(
        introspection(&b.module, "p").unwrap_err().to_string(),
        "table `ingress.t`, key field `k`: @tc_type(\"macaddr\") is for 48-bit values, but the field is 16 bits wide"
    );

    let mut b = ModuleBuilder::new();
    let b8 = b.bits(8);
    let reg = b.extern_def("Register", vec![ann_str("tc_acl", "RW:RX")]);
    let c = b.control("ingress");
    b.instance(Some(c), "r", reg, vec![b8, b8], vec![Value::Int(4.into())]);
    assert!(introspection(&b.module, "p")
        .unwrap_err()
        .to_string()
        .starts_with("extern `Register`: @tc_acl(\"RW:RX\"): `W` is not"));
}

#[test]
fn default_hit_conflicts_are_errors() {
    let build = |marks: [(Scope, Vec<crate::ir::Annotation>); 2]| {
        let mut b = ModuleBuilder::new();
        let c = b.control("ingress");
        let a1 = b.action(Some(c), "a1", &[]);
        let a2 = b.action(Some(c), "a2", &[]);
        let [(s1, m1), (s2, m2)] = marks;
        b.table(c, "t")
            .action_with(a1, s1, m1)
            .action_with(a2, s2, m2)
            .build();
        introspection(&b.module, "p")
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    assert_eq!(
        build([
            (Scope::TableAndDefault, vec![ann("default_hit")]),
            (Scope::TableAndDefault, vec![ann("default_hit_const")])
        ]),
        Err(
            "table `ingress.t`: more than one action is marked @default_hit or @default_hit_const"
                .into()
        )
    );
    assert_eq!(
        build([(Scope::TableAndDefault, vec![ann("default_hit"), ann("default_hit_const")]), (Scope::TableAndDefault, Vec::new())]),
        Err("table `ingress.t`: action `ingress/a1` is marked both @default_hit and @default_hit_const".into())
    );
    assert_eq!(
        build([(Scope::TableOnly, vec![ann("tableonly"), ann("default_hit")]), (Scope::TableAndDefault, Vec::new())]),
        Err("table `ingress.t`: action `ingress/a1` is @tableonly, so it cannot be the default hit action (@default_hit)".into())
    );
    assert_eq!(
        build([
            (Scope::TableAndDefault, vec![ann("default_hit")]),
            (Scope::TableAndDefault, Vec::new())
        ]),
        Ok(())
    );
}

#[test]
fn layout_errors_pass_through() {
    let mut b = ModuleBuilder::new();
    let b8 = b.bits(8);
    let names: Vec<String> = (0..17).map(|i| format!("p{i}")).collect();
    let params: Vec<(&str, _)> = names.iter().map(|n| (n.as_str(), b8)).collect();
    let c = b.control("ingress");
    let a = b.action(Some(c), "many", &params);
    b.table(c, "t").action(a).build();
    let err = introspection(&b.module, "p").unwrap_err();
    assert!(matches!(
        err,
        IntrospectionError::Layout(LayoutError::TooManyParams { .. })
    ));
    assert_eq!(
        err.to_string(),
        "action `ingress.many` has 17 action-data parameters; actions take at most 16"
    );
}

#[test]
fn pipeline_names_are_checked() {
    let module = simple_l3();
    for (name, ok) in [
        ("simple_l3", true),
        ("", false),
        ("a/b", false),
        ("a b", false),
        (&"x".repeat(33), false),
        (&"x".repeat(32), true),
    ] {
        assert_eq!(introspection(&module, name).is_ok(), ok, "{name:?}");
    }
}

#[test]
fn value_types_parse_and_print() {
    for name in [
        "bit1", "bit48", "bit128", "dev", "macaddr", "ipv4", "ipv6", "be16", "be32", "be64", "rate",
    ] {
        assert_eq!(
            ValueType::parse(name).map(|t| t.to_string()).as_deref(),
            Some(name)
        );
    }
    for name in ["bit", "bitx", "bit-1", "bit+1", "u32", "IPV4"] {
        assert_eq!(ValueType::parse(name), None, "{name}");
    }
    assert_eq!(
        ValueType::parse("macaddr").and_then(ValueType::width),
        Some(48)
    );
}

#[test]
fn an_empty_module_has_no_tables_or_externs() {
    let json = introspection(&Module::default(), "empty").unwrap();
    assert_eq!(
        json.to_json_pretty().unwrap(),
        "{\n  \"schema_version\": \"1.0.0\",\n  \"pipeline_name\": \"empty\",\n  \"externs\": [],\n  \"tables\": []\n}"
    );
}
