//! P4Info of the examples: names, ids and prefixes as P4Runtime and p4c give them, the id map
//! back to the model, and the text and binary forms.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

use p4runtime_proto::p4::config::v1 as cfg;
use p4tc_front::PreprocessOptions;
use p4tc_ir::ir;
use p4tc_p4runtime::ids::{jenkins_one_at_a_time, prefix_of, ExternKind, IdError, IdMap, Prefix};
use p4tc_p4runtime::p4info::{self, P4InfoError};
use p4tc_runtime::PipelineModel;

/// The front end recurses deeply on deep programs; it gets the stack `p4tc check` gives it.
const STACK_SIZE: usize = 256 * 1024 * 1024;

fn module(name: String, text: Option<String>) -> ir::Module {
    std::thread::Builder::new()
        .stack_size(STACK_SIZE)
        .spawn(move || {
            let options = PreprocessOptions::default();
            let mut parsed = match text {
                Some(text) => p4tc_front::parse_source(&name, &text, &options),
                None => p4tc_front::parse_file(std::path::Path::new(&name), &options)
                    .unwrap_or_else(|e| panic!("cannot read {name}: {e}")),
            };
            match p4tc_front::check(&mut parsed) {
                Some(m) if !parsed.has_errors() => m,
                _ => panic!("{name} does not check:\n{}", parsed.render_diagnostics()),
            }
        })
        .expect("spawn the front end")
        .join()
        .expect("the front end panicked")
}

fn examples_dir() -> PathBuf {
    [env!("CARGO_MANIFEST_DIR"), "..", "..", "examples"]
        .iter()
        .collect()
}

fn example(name: &str) -> PipelineModel {
    let path = examples_dir().join(name).join(format!("{name}.p4"));
    let m = module(path.display().to_string(), None);
    PipelineModel::new(Arc::new(m), name).expect("model")
}

fn program(text: &str) -> PipelineModel {
    let m = module("test.p4".into(), Some(text.into()));
    PipelineModel::new(Arc::new(m), "test").expect("model")
}

fn hashed(prefix: u32, name: &str) -> u32 {
    (prefix << 24) | (jenkins_one_at_a_time(name.as_bytes()) & 0x00ff_ffff)
}

fn table<'a>(info: &'a cfg::P4Info, name: &str) -> &'a cfg::Table {
    info.tables
        .iter()
        .find(|t| t.preamble.as_ref().unwrap().name == name)
        .unwrap_or_else(|| panic!("no table {name}: {:?}", p4info::sorted_names(info)))
}

fn action<'a>(info: &'a cfg::P4Info, name: &str) -> &'a cfg::Action {
    info.actions
        .iter()
        .find(|a| a.preamble.as_ref().unwrap().name == name)
        .unwrap_or_else(|| panic!("no action {name}: {:?}", p4info::sorted_names(info)))
}

fn id(p: &Option<cfg::Preamble>) -> u32 {
    p.as_ref().unwrap().id
}

#[test]
fn simple_l3_names_ids_and_table_properties() {
    let model = example("simple_l3");
    let info = p4info::build(&model).unwrap();
    let pkg = info.pkg_info.as_ref().unwrap();
    assert_eq!((pkg.arch.as_str(), pkg.name.as_str()), ("pna", "simple_l3"));

    let t = table(&info, "ingress.nh_table");
    let pre = t.preamble.as_ref().unwrap();
    assert_eq!(pre.alias, "nh_table");
    assert_eq!(pre.id, hashed(0x02, "ingress.nh_table"));
    assert!(
        pre.annotations
            .contains(&"@tc_acl(\"CRUDPS:RX\")".to_string()),
        "{:?}",
        pre.annotations
    );
    assert_eq!(t.size, 1024);
    assert_eq!(t.match_fields.len(), 1);
    let key = &t.match_fields[0];
    assert_eq!(
        (key.id, key.name.as_str(), key.bitwidth),
        (1, "dstAddr", 32)
    );
    assert_eq!(
        key.r#match,
        Some(cfg::match_field::Match::MatchType(
            cfg::match_field::MatchType::Exact as i32
        ))
    );
    assert!(key.annotations.contains(&"@tc_type(\"ipv4\")".to_string()));

    let send = action(&info, "ingress.send_nh");
    assert_eq!(id(&send.preamble), hashed(0x01, "ingress.send_nh"));
    let params: Vec<(u32, &str, i32)> = send
        .params
        .iter()
        .map(|p| (p.id, p.name.as_str(), p.bitwidth))
        .collect();
    assert_eq!(
        params,
        [(1, "port", 32), (2, "srcMac", 48), (3, "dstMac", 48)]
    );
    let drop = action(&info, "ingress.drop");
    // `const default_action = drop;`
    assert_eq!(t.const_default_action_id, id(&drop.preamble));
    assert_eq!(
        t.initial_default_action.as_ref().unwrap().action_id,
        id(&drop.preamble)
    );
    let refs: HashSet<u32> = t.action_refs.iter().map(|r| r.id).collect();
    assert_eq!(
        refs,
        HashSet::from([id(&send.preamble), id(&drop.preamble)])
    );
    assert_eq!(
        t.idle_timeout_behavior,
        cfg::table::IdleTimeoutBehavior::NoTimeout as i32
    );
}

/// Every id of a P4Info, checked against the kind of object it names.
fn check_ids(name: &str, info: &cfg::P4Info) {
    let mut seen = HashSet::new();
    let mut check = |p: &Option<cfg::Preamble>, prefix: Prefix| {
        let p = p.as_ref().unwrap();
        assert_eq!(
            prefix_of(p.id),
            Some(prefix),
            "{name}: {} has id {:#010x}",
            p.name,
            p.id
        );
        assert!(seen.insert(p.id), "{name}: id {:#010x} twice", p.id);
        assert!(!p.name.is_empty() && !p.alias.is_empty());
    };
    info.tables
        .iter()
        .for_each(|x| check(&x.preamble, Prefix::Table));
    info.actions
        .iter()
        .for_each(|x| check(&x.preamble, Prefix::Action));
    info.counters
        .iter()
        .for_each(|x| check(&x.preamble, Prefix::Counter));
    info.direct_counters
        .iter()
        .for_each(|x| check(&x.preamble, Prefix::DirectCounter));
    info.meters
        .iter()
        .for_each(|x| check(&x.preamble, Prefix::Meter));
    info.direct_meters
        .iter()
        .for_each(|x| check(&x.preamble, Prefix::DirectMeter));
    info.registers
        .iter()
        .for_each(|x| check(&x.preamble, Prefix::Register));
    info.digests
        .iter()
        .for_each(|x| check(&x.preamble, Prefix::Digest));
    info.value_sets
        .iter()
        .for_each(|x| check(&x.preamble, Prefix::ValueSet));
    let actions: HashSet<u32> = info.actions.iter().map(|a| id(&a.preamble)).collect();
    for t in &info.tables {
        for r in &t.action_refs {
            assert!(
                actions.contains(&r.id),
                "{name}: table refers to unlisted action {:#x}",
                r.id
            );
        }
        let fields: HashSet<u32> = t.match_fields.iter().map(|f| f.id).collect();
        assert_eq!(
            fields.len(),
            t.match_fields.len(),
            "{name}: match field ids repeat"
        );
    }
}

#[test]
fn every_example_has_unique_well_prefixed_ids_and_round_trips() {
    let mut names: Vec<String> = std::fs::read_dir(examples_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.path()
                .join(format!("{}.p4", e.file_name().to_string_lossy()))
                .exists()
        })
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 20, "examples not found: {names:?}");
    for name in &names {
        let model = example(name);
        let info = p4info::build(&model).unwrap_or_else(|e| panic!("{name}: {e}"));
        check_ids(name, &info);
        assert_eq!(info.tables.len(), model.tables.len(), "{name}");

        // The id map finds every table and action of the P4Info in the model.
        let ids = IdMap::new(&model, &info).unwrap_or_else(|e| panic!("{name}: {e}"));
        for (t, tm) in info.tables.iter().zip(&model.tables) {
            let ti = ids.table(id(&t.preamble)).expect("table id maps");
            assert_eq!(ti.handle, tm.handle, "{name}");
            for (i, f) in t.match_fields.iter().enumerate() {
                assert_eq!(ti.field_index(f.id), Some(i), "{name}");
            }
            for a in &tm.actions {
                let aid = ids
                    .action_id(a.handle)
                    .expect("every table action has an id");
                assert_eq!(
                    ids.action(aid).unwrap().param_ids.len(),
                    a.params.len(),
                    "{name}"
                );
            }
        }

        // Text and binary forms give the same message back.
        let text = p4info::to_text(&info).unwrap();
        assert_eq!(
            p4info::from_text(&text).unwrap(),
            info,
            "{name}: text round trip"
        );
        assert_eq!(
            p4info::from_binary(&p4info::to_binary(&info)).unwrap(),
            info
        );
    }
}

#[test]
fn externs_get_their_kinds_prefixes_and_tables() {
    let model = example("direct_counters");
    let info = p4info::build(&model).unwrap();
    assert_eq!(info.direct_counters.len(), 2);
    let dc = info
        .direct_counters
        .iter()
        .find(|c| c.preamble.as_ref().unwrap().name == "CntControl.route_stats")
        .expect("route_stats");
    assert_eq!(id(&dc.preamble) >> 24, 0x13);
    assert_eq!(
        dc.spec.as_ref().unwrap().unit,
        cfg::counter_spec::Unit::Both as i32
    );
    let routes = table(&info, "CntControl.routes");
    assert_eq!(dc.direct_table_id, id(&routes.preamble));
    assert!(routes.direct_resource_ids.contains(&id(&dc.preamble)));
    let ids = IdMap::new(&model, &info).unwrap();
    let e = ids.extern_instance(id(&dc.preamble)).unwrap();
    assert_eq!(e.kind, ExternKind::DirectCounter);
    assert_eq!(
        e.direct_table,
        Some(model.tables[ids.table(id(&routes.preamble)).unwrap().index].handle)
    );

    let info = p4info::build(&example("indirect_counters")).unwrap();
    let units: Vec<(String, i64, i32)> = info
        .counters
        .iter()
        .map(|c| {
            (
                c.preamble.as_ref().unwrap().alias.clone(),
                c.size,
                c.spec.as_ref().unwrap().unit,
            )
        })
        .collect();
    assert!(
        units
            .iter()
            .any(|(a, _, u)| a == "tx_port_stats" && *u == cfg::counter_spec::Unit::Packets as i32),
        "{units:?}"
    );
    assert!(
        units
            .iter()
            .any(|(a, _, u)| a == "class_bytes" && *u == cfg::counter_spec::Unit::Bytes as i32),
        "{units:?}"
    );
    assert!(info
        .counters
        .iter()
        .all(|c| id(&c.preamble) >> 24 == 0x12 && c.size > 0));

    let info = p4info::build(&example("meters_policer")).unwrap();
    let m = &info.meters[0];
    assert_eq!((id(&m.preamble) >> 24, m.size), (0x14, 1024));
    assert_eq!(
        m.spec.as_ref().unwrap().unit,
        cfg::meter_spec::Unit::Bytes as i32
    );
    let dm = &info.direct_meters[0];
    assert_eq!(id(&dm.preamble) >> 24, 0x15);
    assert_eq!(
        dm.spec.as_ref().unwrap().unit,
        cfg::meter_spec::Unit::Packets as i32
    );
    assert_ne!(dm.direct_table_id, 0);

    let info = p4info::build(&example("register_flow_stats")).unwrap();
    assert_eq!(info.registers.len(), 2);
    let r = info
        .registers
        .iter()
        .find(|r| r.preamble.as_ref().unwrap().alias == "last_seen")
        .unwrap();
    assert_eq!(id(&r.preamble) >> 24, 0x16);
    use cfg::p4_bitstring_like_type_spec::TypeSpec as B;
    use cfg::p4_data_type_spec::TypeSpec as S;
    match &r.type_spec.as_ref().unwrap().type_spec {
        Some(S::Bitstring(b)) => assert_eq!(
            b.type_spec,
            Some(B::Bit(cfg::P4BitTypeSpec { bitwidth: 64 }))
        ),
        other => panic!("register type {other:?}"),
    }

    let info = p4info::build(&example("mac_learning_digest")).unwrap();
    let d = &info.digests[0];
    assert_eq!(d.preamble.as_ref().unwrap().name, "LearnControl.mac_learn");
    assert_eq!(id(&d.preamble) >> 24, 0x17);
    let Some(S::Struct(named)) = &d.type_spec.as_ref().unwrap().type_spec else {
        panic!("digest type {:?}", d.type_spec)
    };
    assert_eq!(named.name, "mac_learn_digest_t");
    let st = &info.type_info.as_ref().unwrap().structs["mac_learn_digest_t"];
    let members: Vec<&str> = st.members.iter().map(|m| m.name.as_str()).collect();
    assert!(members.contains(&"ingress_port"), "{members:?}");
    // `@tableonly known_source;`
    let src = table(&info, "LearnControl.source_macs");
    assert!(src
        .action_refs
        .iter()
        .any(|r| r.scope == cfg::action_ref::Scope::TableOnly as i32));

    let info = p4info::build(&example("vxlan_decap")).unwrap();
    let vs = &info.value_sets[0];
    // `@name("vxlan_ports")` renames it within its parser.
    assert_eq!(
        vs.preamble.as_ref().unwrap().name,
        "VxlanParser.vxlan_ports"
    );
    assert_eq!(id(&vs.preamble) >> 24, 0x03);
    assert_eq!(vs.size, 4);
    assert_eq!((vs.r#match[0].id, vs.r#match[0].bitwidth), (1, 16));
}

#[test]
fn aging_tables_notify_the_controller() {
    let info = p4info::build(&example("conntrack_aging")).unwrap();
    assert!(
        info.tables
            .iter()
            .any(|t| t.idle_timeout_behavior
                == cfg::table::IdleTimeoutBehavior::NotifyControl as i32),
        "no aging table in conntrack_aging"
    );
}

const ID_PROGRAM: &str = r#"#include <core.p4>
#include <tc/pna.p4>
header eth_t { bit<48> dst; bit<48> src; bit<16> etype; }
struct headers_t { eth_t eth; }
struct meta_t { }
parser P(packet_in pkt, out headers_t hdr, inout meta_t meta,
         in pna_main_parser_input_metadata_t istd) {
    state start { pkt.extract(hdr.eth); transition accept; }
}
control C(inout headers_t hdr, inout meta_t meta,
          in pna_main_input_metadata_t istd, inout pna_main_output_metadata_t ostd) {
    @id(0x01000042) action set_dst(@id(7) bit<48> mac, bit<16> etype) { hdr.eth.dst = mac; hdr.eth.etype = etype; }
    @id(5) action other() { }
    @id(0x02000099) table t {
        key = { hdr.eth.dst : exact; hdr.eth.etype : ternary @id(3) @name("type"); }
        actions = { set_dst; other; }
    }
    TABLE_ANNOTATION table u {
        key = { hdr.eth.src : lpm; }
        actions = { other; }
    }
    apply { t.apply(); u.apply(); }
}
control D(packet_out pkt, inout headers_t hdr, in meta_t meta, in pna_main_output_metadata_t ostd) {
    apply { pkt.emit(hdr.eth); }
}
PNA_NIC(P(), C(), D()) main;
"#;

#[test]
fn at_id_is_honoured_for_objects_fields_and_parameters() {
    let model = program(&ID_PROGRAM.replace("TABLE_ANNOTATION", ""));
    let info = p4info::build(&model).unwrap();
    let t = table(&info, "C.t");
    assert_eq!(id(&t.preamble), 0x0200_0099);
    // Key fields: `@id(3)` on the second; the first counts from 1; `@name` names it.
    let fields: Vec<(u32, &str)> = t
        .match_fields
        .iter()
        .map(|f| (f.id, f.name.as_str()))
        .collect();
    assert_eq!(fields, [(1, "hdr.eth.dst"), (3, "type")]);
    let a = action(&info, "C.set_dst");
    assert_eq!(id(&a.preamble), 0x0100_0042);
    let params: Vec<(u32, &str)> = a.params.iter().map(|p| (p.id, p.name.as_str())).collect();
    // As p4c: a field with an @id still uses up its position's number.
    assert_eq!(params, [(7, "mac"), (2, "etype")]);
    // An @id without a prefix byte gets the action prefix.
    assert_eq!(id(&action(&info, "C.other").preamble), 0x0100_0005);
    // No default_action: NoAction is the initial default, listed as @defaultonly.
    let no_action = action(&info, "NoAction");
    let u = table(&info, "C.u");
    assert_eq!(
        u.initial_default_action.as_ref().unwrap().action_id,
        id(&no_action.preamble)
    );
    assert!(u.action_refs.iter().any(|r| r.id == id(&no_action.preamble)
        && r.scope == cfg::action_ref::Scope::DefaultOnly as i32));
    assert_eq!(u.const_default_action_id, 0);

    let ids = IdMap::new(&model, &info).unwrap();
    let ti = ids.table(0x0200_0099).unwrap();
    assert_eq!(ti.field_index(3), Some(1));
    assert_eq!(ids.action(0x0100_0042).unwrap().param_index(7), Some(0));
}

#[test]
fn wrong_and_duplicate_ids_are_refused() {
    let model = program(&ID_PROGRAM.replace("TABLE_ANNOTATION", "@id(0x01000001)"));
    let e = p4info::build(&model).unwrap_err();
    assert!(
        matches!(e, P4InfoError::Ids(IdError::WrongPrefix { .. })),
        "{e}"
    );
    assert!(e.to_string().contains("C.u"), "{e}");

    let model = program(&ID_PROGRAM.replace("TABLE_ANNOTATION", "@id(0x99)"));
    let e = p4info::build(&model).unwrap_err();
    assert!(
        matches!(
            e,
            P4InfoError::Ids(IdError::Duplicate {
                id: 0x0200_0099,
                ..
            })
        ),
        "{e}"
    );
}

#[test]
fn a_p4info_for_another_program_is_refused() {
    let simple = p4info::build(&example("simple_l3")).unwrap();
    let other = example("lpm_routing");
    let e = IdMap::new(&other, &simple).unwrap_err();
    assert!(matches!(e, IdError::UnknownObject { .. }), "{e}");

    // Same program, a width changed: the map says which field.
    let model = example("simple_l3");
    let mut info = p4info::build(&model).unwrap();
    let t = info
        .tables
        .iter_mut()
        .find(|t| t.preamble.as_ref().unwrap().name == "ingress.nh_table")
        .unwrap();
    t.match_fields[0].bitwidth = 16;
    let e = IdMap::new(&model, &info).unwrap_err();
    assert!(
        e.to_string().contains("`dstAddr` is 32 bits wide, not 16"),
        "{e}"
    );
}

#[test]
fn bad_text_says_where() {
    let e = p4info::from_text("pkg_info {\n  arch: \"pna\"\n}\ntables { preamble { id: oops } }\n")
        .unwrap_err();
    assert!(e.to_string().contains("line 4"), "{e}");
    let e = p4info::from_binary(&[0x0a, 0xff]).unwrap_err();
    assert!(matches!(e, P4InfoError::Binary(_)), "{e}");
}

#[test]
fn controller_headers_give_controller_packet_metadata() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/packet_io/packet_io.p4");
    let (program, m) = std::thread::Builder::new()
        .stack_size(STACK_SIZE)
        .spawn(move || {
            let mut parsed =
                p4tc_front::parse_file(&path, &PreprocessOptions::default()).expect("read");
            let m = p4tc_front::check(&mut parsed).expect("checks");
            (parsed.program, m)
        })
        .unwrap()
        .join()
        .unwrap();
    let model = PipelineModel::new(Arc::new(m), "packet_io").unwrap();
    let mut info = p4info::build(&model).unwrap();
    assert!(info.controller_packet_metadata.is_empty());
    p4info::add_controller_packet_metadata(&mut info, &program, &model.module).unwrap();
    type Header = (u32, String, Vec<(u32, String, i32)>);
    let got: Vec<Header> = info
        .controller_packet_metadata
        .iter()
        .map(|c| {
            let p = c.preamble.as_ref().unwrap();
            (
                p.id,
                p.name.clone(),
                c.metadata
                    .iter()
                    .map(|m| (m.id, m.name.clone(), m.bitwidth))
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                hashed(Prefix::ControllerHeader as u32, "packet_in"),
                "packet_in".to_string(),
                vec![(1, "ingress_port".to_string(), 32)]
            ),
            (
                hashed(Prefix::ControllerHeader as u32, "packet_out"),
                "packet_out".to_string(),
                vec![
                    (1, "egress_port".to_string(), 32),
                    (2, "reserved".to_string(), 8)
                ]
            ),
        ]
    );
    // The text form carries them (what `p4tc compile` writes).
    let text = p4info::to_text(&info).unwrap();
    assert!(text.contains("controller_packet_metadata"), "{text}");
}
