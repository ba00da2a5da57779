//! Tests of the command language against the example programs: parsing every value type and
//! match kind, the errors' words and positions, files, filters, help, and execution through a
//! small in-test [`ObjectModel`].

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use num_bigint::BigUint;
use p4tc_ir::arena::Handle;
use p4tc_ir::introspection::Permissions;
use p4tc_ir::ir;

use super::*;
use crate::entry::{
    ActionCall, Actor, Aging, DefaultKind, EntryInfo, EntrySpec, KeyMatch, Priority,
};
use crate::error::RuntimeError;
use crate::event::Event;
use crate::model::PipelineModel;
use crate::object_model::{CounterValue, MeterConfig, ObjectModel};

/// The model of `examples/NAME/NAME.p4` as pipeline NAME, compiled once per test run.
pub(super) fn model(name: &str) -> Arc<PipelineModel> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<PipelineModel>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(m) = cache.lock().unwrap().get(name) {
        return m.clone();
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
        .join(format!("{name}.p4"));
    let pipeline = name.to_string();
    // The front-end recurses deeply; give it the stack the CLI gives it.
    let built = std::thread::Builder::new()
        .stack_size(256 * 1024 * 1024)
        .spawn(move || {
            let mut parsed = p4tc_front::parse_file(&path, &Default::default()).unwrap();
            let module = p4tc_front::check(&mut parsed)
                .unwrap_or_else(|| panic!("{}", parsed.render_diagnostics()));
            PipelineModel::new(Arc::new(module), &pipeline).unwrap()
        })
        .unwrap()
        .join()
        .unwrap();
    let built = Arc::new(built);
    cache
        .lock()
        .unwrap()
        .insert(name.to_string(), built.clone());
    built
}

fn ports(name: &str) -> Option<u32> {
    name.strip_prefix("port").and_then(|n| n.parse().ok())
}

fn parse(m: &PipelineModel, line: &str) -> Result<Command, CtlError> {
    parse_line(line, m, &ports)
}

fn err(m: &PipelineModel, line: &str) -> CtlError {
    match parse(m, line) {
        Ok(c) => panic!("`{line}` parsed: {c:?}"),
        Err(e) => e,
    }
}

fn big(n: u128) -> BigUint {
    BigUint::from(n)
}

// ---------------------------------------------------------------------------------------
// A small object model: enough of P4TC's rules to run commands against.

#[derive(Default)]
struct Fake {
    entries: HashMap<Handle<ir::Table>, Vec<EntryInfo>>,
    defaults: HashMap<(Handle<ir::Table>, DefaultKind), ActionCall>,
    counters: HashMap<(Handle<ir::Instance>, u64), CounterValue>,
    registers: HashMap<(Handle<ir::Instance>, u64), Vec<BigUint>>,
    meters: HashMap<(Handle<ir::Instance>, u64), MeterConfig>,
    profiles: Vec<Duration>,
    now: Duration,
}

impl Fake {
    fn position(
        &self,
        table: Handle<ir::Table>,
        key: &[KeyMatch],
        priority: Option<Priority>,
    ) -> Option<usize> {
        self.entries
            .get(&table)?
            .iter()
            .position(|e| e.spec.key == key && (priority.is_none() || e.spec.priority == priority))
    }
}

impl ObjectModel for Fake {
    fn create_entry(
        &mut self,
        table: Handle<ir::Table>,
        entry: EntrySpec,
    ) -> Result<(), RuntimeError> {
        if self.position(table, &entry.key, entry.priority).is_some() {
            return Err(RuntimeError::Exists {
                table: format!("#{}", table.index()),
            });
        }
        let mut spec = entry;
        spec.permissions = Some(
            spec.permissions
                .unwrap_or(Permissions::TABLE.without_create()),
        );
        let now = self.now;
        self.entries.entry(table).or_default().push(EntryInfo {
            spec,
            is_const: false,
            created_by: Actor::ControlPlane,
            updated_by: None,
            created_at: now,
            last_used: now,
            counter: None,
        });
        Ok(())
    }

    fn update_entry(
        &mut self,
        table: Handle<ir::Table>,
        entry: EntrySpec,
    ) -> Result<(), RuntimeError> {
        let i = self
            .position(table, &entry.key, entry.priority)
            .ok_or_else(|| RuntimeError::NotFound {
                what: "entry".into(),
            })?;
        let e = &mut self.entries.get_mut(&table).unwrap()[i];
        e.spec.action = entry.action;
        e.updated_by = Some(Actor::ControlPlane);
        Ok(())
    }

    fn delete_entry(
        &mut self,
        table: Handle<ir::Table>,
        key: &[KeyMatch],
        priority: Option<Priority>,
    ) -> Result<(), RuntimeError> {
        let i = self
            .position(table, key, priority)
            .ok_or_else(|| RuntimeError::NotFound {
                what: "entry".into(),
            })?;
        self.entries.get_mut(&table).unwrap().remove(i);
        Ok(())
    }

    fn get_entry(
        &self,
        table: Handle<ir::Table>,
        key: &[KeyMatch],
        priority: Option<Priority>,
    ) -> Result<EntryInfo, RuntimeError> {
        let i = self
            .position(table, key, priority)
            .ok_or_else(|| RuntimeError::NotFound {
                what: "entry".into(),
            })?;
        Ok(self.entries[&table][i].clone())
    }

    fn dump(&self, table: Handle<ir::Table>) -> Result<Vec<EntryInfo>, RuntimeError> {
        Ok(self.entries.get(&table).cloned().unwrap_or_default())
    }

    fn flush(&mut self, table: Handle<ir::Table>) -> Result<usize, RuntimeError> {
        let list = self.entries.entry(table).or_default();
        let before = list.len();
        list.retain(|e| e.is_const);
        Ok(before - list.len())
    }

    fn default_action(
        &self,
        table: Handle<ir::Table>,
        which: DefaultKind,
    ) -> Result<Option<ActionCall>, RuntimeError> {
        Ok(self.defaults.get(&(table, which)).cloned())
    }

    fn set_default_action(
        &mut self,
        table: Handle<ir::Table>,
        which: DefaultKind,
        call: ActionCall,
    ) -> Result<(), RuntimeError> {
        self.defaults.insert((table, which), call);
        Ok(())
    }

    fn counter(
        &self,
        counter: Handle<ir::Instance>,
        index: u64,
    ) -> Result<CounterValue, RuntimeError> {
        Ok(self
            .counters
            .get(&(counter, index))
            .copied()
            .unwrap_or_default())
    }

    fn reset_counter(
        &mut self,
        counter: Handle<ir::Instance>,
        index: u64,
    ) -> Result<(), RuntimeError> {
        self.counters.remove(&(counter, index));
        Ok(())
    }

    fn register(
        &self,
        register: Handle<ir::Instance>,
        index: u64,
    ) -> Result<Vec<BigUint>, RuntimeError> {
        Ok(self
            .registers
            .get(&(register, index))
            .cloned()
            .unwrap_or_else(|| vec![BigUint::default()]))
    }

    fn set_register(
        &mut self,
        register: Handle<ir::Instance>,
        index: u64,
        value: &[BigUint],
    ) -> Result<(), RuntimeError> {
        self.registers.insert((register, index), value.to_vec());
        Ok(())
    }

    fn set_meter(
        &mut self,
        meter: Handle<ir::Instance>,
        index: u64,
        config: MeterConfig,
    ) -> Result<(), RuntimeError> {
        self.meters.insert((meter, index), config);
        Ok(())
    }

    fn timer_profiles(&self) -> Vec<Duration> {
        self.profiles.clone()
    }

    fn set_timer_profile(&mut self, profile: u32, after: Duration) -> Result<(), RuntimeError> {
        let i = profile as usize;
        if i > 15 {
            return Err(RuntimeError::Invalid("at most 16 profiles".into()));
        }
        if self.profiles.len() <= i {
            self.profiles.resize(i + 1, Duration::from_secs(30));
        }
        self.profiles[i] = after;
        Ok(())
    }

    fn take_events(&mut self) -> Vec<Event> {
        Vec::new()
    }
}

fn run(om: &mut Fake, m: &PipelineModel, line: &str) -> Output {
    let now = om.now;
    run_line(om, m, line, &ports, now).unwrap_or_else(|e| panic!("`{line}`: {e}"))
}

// ---------------------------------------------------------------------------------------
// Parsing.

#[test]
fn simple_l3_create_with_every_value_type_of_the_example() {
    let m = model("simple_l3");
    let line = "create simple_l3/table/ingress/nh_table dstAddr 10.0.1.2/32 action send_nh \
                param port port1 param srcMac 00:01:02:03:04:05 param dstMac aa:bb:cc:dd:ee:ff";
    let c = parse(&m, line).unwrap();
    let table = m.table_by_name("ingress/nh_table").unwrap();
    let send_nh = table.action_by_name("send_nh").unwrap();
    assert_eq!(
        c.kind,
        CommandKind::WriteEntries {
            table: table.handle,
            update: false,
            entries: vec![EntrySpec::new(
                vec![KeyMatch::Exact(big(0x0a00_0102))],
                Some(ActionCall {
                    action: send_nh.handle,
                    params: vec![big(1), big(0x0001_0203_0405), big(0xaabb_ccdd_eeff)],
                })
            )],
            batch: false,
        }
    );
    // The same as command-line arguments, and in the C/T and short-name forms.
    let args: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(parse_args(&args, &m, &ports).unwrap().kind, c.kind);
    for path in [
        "simple_l3/ingress/nh_table",
        "simple_l3/table/nh_table",
        "table/ingress/nh_table",
    ] {
        let other = line.replace("simple_l3/table/ingress/nh_table", path);
        assert_eq!(parse(&m, &other).unwrap().kind, c.kind, "{path}");
    }
    // Pasted with its command name.
    assert_eq!(
        parse(&m, &format!("tc p4ctrl {line}")).unwrap().kind,
        c.kind
    );
    assert_eq!(parse(&m, &format!("p4tc ctl {line}")).unwrap().kind, c.kind);
}

#[test]
fn options_prio_permissions_dynamic_aging() {
    let m = model("ternary_acl");
    let c = parse(
        &m,
        "create ternary_acl/table/AclControl/acl src 10.0.0.0/8 proto 6 dport 22 prio 5 \
         action permit param port 3 permissions 0x1da4 aging 5000",
    )
    .unwrap();
    let CommandKind::WriteEntries { entries, .. } = c.kind else {
        panic!()
    };
    let e = &entries[0];
    assert_eq!(
        e.key,
        vec![
            KeyMatch::Ternary {
                value: big(0x0a00_0000),
                mask: big(0xff00_0000)
            },
            KeyMatch::Any,
            KeyMatch::Ternary {
                value: big(6),
                mask: big(0xff)
            },
            KeyMatch::Any,
            KeyMatch::Range {
                low: big(22),
                high: big(22)
            },
        ]
    );
    assert_eq!(e.priority, Some(Priority(5)));
    assert_eq!(e.permissions, Permissions::from_hex("0x1da4"));
    assert!(e.dynamic);
    assert_eq!(e.aging, Some(Aging::After(Duration::from_millis(5000))));

    let c = parse(
        &m,
        "create table/AclControl/acl dst 192.168.0.0&&&255.255.0.0 sport 1024..65535 prio 1 \
         action deny dynamic profile_id 2 permissions -RUD-PS-R--X--",
    )
    .unwrap();
    let CommandKind::WriteEntries { entries, .. } = c.kind else {
        panic!()
    };
    assert_eq!(entries[0].aging, Some(Aging::Profile(2)));
    assert_eq!(entries[0].permissions, Permissions::from_hex("0x1da4"));
    assert_eq!(
        entries[0].key[3],
        KeyMatch::Range {
            low: big(1024),
            high: big(65535)
        }
    );
}

#[test]
fn lpm_and_ipv6() {
    let m = model("lpm_routing");
    let c = parse(
        &m,
        "create lpm_routing/table/Main/fib_table prefix 10.1.0.0/16 action set_nhid param index 7",
    )
    .unwrap();
    let CommandKind::WriteEntries { entries, .. } = c.kind else {
        panic!()
    };
    assert_eq!(
        entries[0].key,
        vec![KeyMatch::Lpm {
            value: big(0x0a01_0000),
            prefix_len: 16
        }]
    );
    let e = err(
        &m,
        "create lpm_routing/table/Main/fib_table prefix 10.1.0.0/16 action fib_miss",
    );
    assert!(e.message.contains("@defaultonly"), "{e}");

    let m = model("ipv6_forwarding");
    let c = parse(
        &m,
        "create ipv6_forwarding/table/V6Control/fib6 dst 2001:db8:1::/48 action to_host param port 2",
    )
    .unwrap();
    let CommandKind::WriteEntries { entries, .. } = c.kind else {
        panic!()
    };
    assert_eq!(
        entries[0].key,
        vec![KeyMatch::Lpm {
            value: big(0x2001_0db8_0001) << 80,
            prefix_len: 48
        }]
    );
}

#[test]
fn errors_name_the_problem_and_where_it_is() {
    let m = model("simple_l3");
    let e = err(
        &m,
        "create simple_l3/table/ingress/nh_table dstAdr 10.0.0.1 action drop",
    );
    assert_eq!(
        e.message,
        "table ingress/nh_table has no key field `dstAdr`; its keys are: dstAddr"
    );
    assert_eq!((e.at.line, e.at.column, e.at.word), (Some(1), 41, 2));

    let e = err(
        &m,
        "create simple_l3/table/ingress/nh_table dstAddr 10.0.0.1 action fwd",
    );
    assert_eq!(
        e.message,
        "unknown action `fwd`; table ingress/nh_table has: send_nh, drop"
    );
    assert_eq!(e.at.word, 5);

    let e = err(&m, "create simple_l3/table/ingress/nh_table dstAddr 10.0.0.1 action send_nh param port 1 param srcMac 1 param dstMac 1 param prot 2");
    assert!(
        e.message
            .contains("has no param `prot`; its params are: port, srcMac, dstMac"),
        "{e}"
    );

    let e = err(
        &m,
        "create simple_l3/table/ingress/nh_table dstAddr 10.0.0.1 action send_nh param port 1",
    );
    assert!(
        e.message
            .contains("needs params `srcMac` (macaddr), `dstMac` (macaddr)"),
        "{e}"
    );

    let e = err(&m, "create simple_l3/table/ingress/nh_table dstAddr 10.0.0.1 action send_nh param port 1 param srcMac 1:2:3 param dstMac 1");
    assert!(
        e.message.contains("not a valid macaddr for param `srcMac`"),
        "{e}"
    );

    let e = err(
        &m,
        "create simple_l3/table/ingress/nh_table dstAddr 10.0.0.1 prio 3 action drop",
    );
    assert!(e.message.contains("takes no prio"), "{e}");

    let e = err(&m, "create simple_l3/table/ingress/nh_table action drop");
    assert!(
        e.message
            .contains("missing key field `dstAddr` (exact ipv4)"),
        "{e}"
    );

    let e = err(
        &m,
        "create other/table/ingress/nh_table dstAddr 1 action drop",
    );
    assert!(e.message.contains("unknown pipeline `other`"), "{e}");

    let e = err(
        &m,
        "create simple_l3/table/ingress/nh dstAddr 1 action drop",
    );
    assert!(
        e.message
            .contains("has no table `ingress/nh`; its tables are: ingress/nh_table"),
        "{e}"
    );

    let e = err(&m, "create simple_l3/table/ingress/nh_table dstAddr 10.0.0.1 action send_nh param port eth7 param srcMac 1 param dstMac 2");
    assert!(e.message.contains("unknown interface `eth7`"), "{e}");

    let e = err(&m, "frobnicate simple_l3/table/ingress/nh_table");
    assert!(e.message.contains("unknown command `frobnicate`"), "{e}");

    let e = err(
        &m,
        "create simple_l3/table/ingress/nh_table dstAddr 10.0.0.1 dstAddr 10.0.0.2",
    );
    assert!(e.message.contains("given twice"), "{e}");

    let e = err(&m, "create simple_l3/table/ingress/nh_table dstAddr");
    assert!(e.message.contains("`dstAddr` needs a value"), "{e}");

    // Widths: a value too wide names the field, its type and width, and the value.
    let m = model("ternary_acl");
    let e = err(
        &m,
        "create ternary_acl/table/AclControl/acl proto 300 prio 1 action deny",
    );
    assert_eq!(
        e.message,
        "value 300 does not fit bit8 key field `proto` (8 bits, at most 255)"
    );
    let e = err(&m, "create ternary_acl/table/AclControl/acl prio 1 action permit_remark param port 1 param dscp 64");
    assert_eq!(
        e.message,
        "value 64 does not fit bit6 param `dscp` (6 bits, at most 63)"
    );
    // Command-line arguments report the word.
    let e = parse_args(
        &[
            "create",
            "ternary_acl/table/AclControl/acl",
            "proto",
            "300",
            "prio",
            "1",
            "action",
            "deny",
        ],
        &m,
        &ports,
    )
    .unwrap_err();
    assert_eq!(e.at.line, None);
    assert_eq!(e.at.word, 3);
    assert!(e.to_string().starts_with("word 4: value 300"), "{e}");
}

#[test]
fn get_delete_dump_flush_and_batches() {
    let m = model("ternary_acl");
    let t = m.table_by_name("acl").unwrap().handle;
    assert_eq!(
        parse(&m, "get ternary_acl/table/AclControl/acl")
            .unwrap()
            .kind,
        CommandKind::Dump {
            table: t,
            filter: None
        }
    );
    assert_eq!(
        parse(&m, "delete ternary_acl/table/AclControl/acl")
            .unwrap()
            .kind,
        CommandKind::Flush {
            table: t,
            filter: None
        }
    );
    let c = parse(&m, "delete ternary_acl/table/AclControl/acl proto 6 prio 3").unwrap();
    assert!(
        matches!(c.kind, CommandKind::DeleteEntries { ref entries, batch: false, .. } if entries.len() == 1 && entries[0].1 == Some(Priority(3)))
    );
    let e = err(
        &m,
        "delete ternary_acl/table/AclControl/acl proto 6 prio 3 action deny",
    );
    assert!(e.message.contains("has no meaning in `delete`"), "{e}");

    let c = parse(
        &m,
        "create ternary_acl/table/AclControl/acl entry proto 6 prio 1 action deny \
         entry proto 17 prio 2 action permit param port 1 entry prio 3 action deny",
    )
    .unwrap();
    let CommandKind::WriteEntries { entries, batch, .. } = c.kind else {
        panic!()
    };
    assert!(batch);
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[2].key, vec![KeyMatch::Any; 5]);
    let e = err(
        &m,
        "create ternary_acl/table/AclControl/acl entry proto 6 prio 1 action deny entry",
    );
    assert!(e.message.contains("`entry` needs a key"), "{e}");
    let e = err(
        &m,
        "create ternary_acl/table/AclControl/acl proto 6 prio 1 action deny entry proto 7",
    );
    assert!(e.message.contains("starts a batch"), "{e}");
}

#[test]
fn default_actions_and_timer_profiles() {
    let m = model("lpm_routing");
    let fib = m.table_by_name("fib_table").unwrap();
    let c = parse(
        &m,
        "update lpm_routing/table/Main/fib_table default_miss_action action fib_miss",
    )
    .unwrap();
    assert_eq!(
        c.kind,
        CommandKind::SetDefault {
            table: fib.handle,
            which: DefaultKind::Miss,
            call: ActionCall {
                action: fib.action_by_name("fib_miss").unwrap().handle,
                params: vec![]
            }
        }
    );
    assert_eq!(
        parse(
            &m,
            "get lpm_routing/table/Main/fib_table default_hit_action"
        )
        .unwrap()
        .kind,
        CommandKind::GetDefault {
            table: fib.handle,
            which: DefaultKind::Hit
        }
    );
    for line in [
        "update lpm_routing/timer_profile/2 aging 60000",
        "update lpm_routing/timer_profile 2 aging 60000",
        "update timer_profile profile_id 2 aging 60000",
    ] {
        assert_eq!(
            parse(&m, line).unwrap().kind,
            CommandKind::SetTimerProfile {
                profile: 2,
                after: Duration::from_secs(60)
            },
            "{line}"
        );
    }
    assert!(err(&m, "update lpm_routing/timer_profile/2")
        .message
        .contains("aging MS"));
    assert_eq!(
        parse(&m, "get lpm_routing/timer_profile").unwrap().kind,
        CommandKind::TimerProfiles
    );
}

#[test]
fn extern_commands() {
    let m = model("indirect_counters");
    let c = parse(
        &m,
        "get indirect_counters/extern/Counter/rx_port_stats tc_key index 5",
    )
    .unwrap();
    assert!(matches!(
        c.kind,
        CommandKind::Extern {
            op: ExternOp::ReadCounter { index: Some(5) },
            ..
        }
    ));
    let c = parse(&m, "update indirect_counters/extern/Counter/rx_port_stats tc_key index 5 param pkts 0 param bytes 0").unwrap();
    assert!(matches!(
        c.kind,
        CommandKind::Extern {
            op: ExternOp::ResetCounter { index: Some(5) },
            ..
        }
    ));
    let e = err(
        &m,
        "update indirect_counters/extern/Counter/rx_port_stats tc_key index 5 param pkts 3",
    );
    assert!(e.message.contains("can only be reset"), "{e}");
    let e = err(
        &m,
        "get indirect_counters/extern/Counter/rx_port_stats tc_key index 256",
    );
    assert!(e.message.contains("out of range"), "{e}");
    let e = err(&m, "get indirect_counters/extern/Counter/nope");
    assert!(e.message.contains("has no instance `nope`"), "{e}");
    let e = err(&m, "get indirect_counters/extern/Gadget/x");
    assert!(
        e.message
            .contains("no extern `Gadget`; its externs are: Counter"),
        "{e}"
    );

    let m = model("register_flow_stats");
    let c = parse(
        &m,
        "update register_flow_stats/extern/Register/packet_count tc_key index 3 param a_value 42",
    )
    .unwrap();
    assert!(
        matches!(c.kind, CommandKind::Extern { op: ExternOp::WriteRegister { index: Some(3), ref fields }, .. } if fields == &vec![(0, big(42))])
    );

    let m = model("meters_policer");
    let c = parse(&m, "update meters_policer/extern/Meter/subscriber_meter tc_key index 1 param cir 1mbit param cbs 1500").unwrap();
    assert!(
        matches!(c.kind, CommandKind::Extern { op: ExternOp::SetMeter { index: Some(1), config }, .. }
        if config == MeterConfig { cir: 125_000, cbs: 1500, pir: 125_000, pbs: 1500 })
    );
    let e = err(&m, "get meters_policer/extern/DirectMeter/uplink_meter");
    assert!(e.message.contains("direct meter"), "{e}");
}

#[test]
fn filters() {
    let m = model("ternary_acl");
    let t = m.table_by_name("acl").unwrap();
    let c = parse(
        &m,
        "get ternary_acl/table/AclControl/acl filter \"key.proto == 6 and (prio < 10 or not param.port != 2)\" ",
    )
    .unwrap();
    let CommandKind::Dump {
        filter: Some(f), ..
    } = c.kind
    else {
        panic!()
    };
    let permit = t.action_by_name("permit").unwrap().handle;
    let entry = |proto: u128, prio: u32, port: u128| EntryInfo {
        spec: EntrySpec {
            key: vec![
                KeyMatch::Any,
                KeyMatch::Any,
                KeyMatch::Ternary {
                    value: big(proto),
                    mask: big(0xff),
                },
                KeyMatch::Any,
                KeyMatch::Any,
            ],
            priority: Some(Priority(prio)),
            action: Some(ActionCall {
                action: permit,
                params: vec![big(port)],
            }),
            permissions: None,
            dynamic: false,
            aging: None,
        },
        is_const: false,
        created_by: Actor::ControlPlane,
        updated_by: None,
        created_at: Duration::ZERO,
        last_used: Duration::from_secs(1),
        counter: None,
    };
    let now = Duration::from_secs(3);
    assert!(f.matches(&entry(6, 5, 9), now));
    assert!(f.matches(&entry(6, 50, 2), now));
    assert!(!f.matches(&entry(6, 50, 3), now));
    assert!(!f.matches(&entry(17, 5, 2), now));
    // Ordered key comparisons compare the value; msecs_since the idle time.
    let c = parse(
        &m,
        "delete ternary_acl/table/AclControl/acl filter key.proto>=10 and msecs_since > 1500",
    )
    .unwrap();
    let CommandKind::Flush {
        filter: Some(f), ..
    } = c.kind
    else {
        panic!()
    };
    assert!(f.matches(&entry(17, 1, 1), now));
    assert!(!f.matches(&entry(6, 1, 1), now));
    assert!(!f.matches(&entry(17, 1, 1), Duration::from_secs(2)));

    for (line, words) in [
        (
            "get ternary_acl/table/AclControl/acl filter key.nope == 1",
            "has no key field `nope`",
        ),
        (
            "get ternary_acl/table/AclControl/acl filter param.nope == 1",
            "no action of table",
        ),
        (
            "get ternary_acl/table/AclControl/acl filter prio = 1",
            "comparison operator",
        ),
        (
            "get ternary_acl/table/AclControl/acl filter (prio == 1",
            "never closed",
        ),
        (
            "get ternary_acl/table/AclControl/acl filter prio == 1 prio",
            "unexpected `prio`",
        ),
        (
            "get ternary_acl/table/AclControl/acl filter bogus == 1",
            "unknown filter field",
        ),
        (
            "get ternary_acl/table/AclControl/acl filter key.proto == 300",
            "does not fit",
        ),
        (
            "get ternary_acl/table/AclControl/acl filter",
            "needs an expression",
        ),
        (
            "get ternary_acl/table/AclControl/acl filter prio ==",
            "ends where a value",
        ),
    ] {
        let e = err(&m, line);
        assert!(e.message.contains(words), "{line}: {e}");
    }
    let deep = format!(
        "get ternary_acl/table/AclControl/acl filter {}prio == 1{}",
        "(".repeat(500),
        ")".repeat(500)
    );
    assert!(err(&m, &deep).message.contains("more than 64 deep"));
}

#[test]
fn files_report_every_error_with_its_line() {
    let m = model("simple_l3");
    let text = "# next hops\n\
                \n\
                create table/ingress/nh_table dstAddr 10.0.1.2 \\\n\
                \x20   action send_nh param port port1 \\\n\
                \x20   param srcMac 00:01:02:03:04:05 param dstMac aa:bb:cc:dd:ee:ff  # first\n\
                tc p4ctrl create simple_l3/table/ingress/nh_table dstAddr 10.0.1.3 action drop\n\
                create table/ingress/nh_table dstAdr 10.0.1.4 action drop\n\
                create table/ingress/nh_table dstAddr 10.0.1.5 action fwd\n\
                get table/ingress/nh_table filter 'prio\n\
                get table/ingress/nh_table\n";
    let errors = parse_file(text, &m, &ports).unwrap_err();
    let lines: Vec<Option<usize>> = errors.iter().map(|e| e.at.line).collect();
    assert_eq!(lines, [Some(7), Some(8), Some(9)], "{errors:?}");
    assert_eq!(errors[0].at.column, 31);
    let good: String = text.lines().take(6).collect::<Vec<_>>().join("\n");
    let commands = parse_file(&good, &m, &ports).unwrap();
    assert_eq!(commands.len(), 2);
    assert_eq!(commands[0].at.line, Some(3));
    assert_eq!(commands[1].at.line, Some(6));
}

#[test]
fn help_describes_tables_actions_and_externs() {
    let text = describe(&model("simple_l3"));
    for needed in [
        "table ingress/nh_table",
        "dstAddr",
        "ipv4",
        "exact",
        "ingress/send_nh param port dev param srcMac macaddr param dstMac macaddr",
        "default_miss_action: ingress/drop (const)",
        "example: create simple_l3/table/ingress/nh_table dstAddr 10.0.0.1 action send_nh",
    ] {
        assert!(text.contains(needed), "missing {needed:?} in\n{text}");
    }
    let m = model("indirect_counters");
    let text = describe(&m);
    assert!(text.contains("indirect_counters/extern/Counter/"), "{text}");
    // In every example program, the example command the help gives for each table parses.
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut names: Vec<String> = std::fs::read_dir(examples)
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
    assert!(names.len() > 20, "{names:?}");
    for m in &names {
        let m = model(m);
        for line in describe(&m).lines() {
            if let Some(example) = line.trim().strip_prefix("example: ") {
                parse(&m, example).unwrap_or_else(|e| panic!("{example}: {e}"));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Execution.

#[test]
fn execute_create_get_dump_update_delete() {
    let m = model("simple_l3");
    let mut om = Fake::default();
    let out = run(
        &mut om,
        &m,
        "create simple_l3/table/ingress/nh_table dstAddr 10.0.1.2 action send_nh param port port1 \
         param srcMac 00:01:02:03:04:05 param dstMac aa:bb:cc:dd:ee:ff",
    );
    assert_eq!(
        out.to_string(),
        "created entry dstAddr 10.0.1.2 in table simple_l3/table/ingress/nh_table\n"
    );
    run(
        &mut om,
        &m,
        "create simple_l3/table/ingress/nh_table dstAddr 10.0.1.3 action drop",
    );
    om.now = Duration::from_millis(250);
    let out = run(&mut om, &m, "get simple_l3/table/ingress/nh_table");
    assert_eq!(
        out.to_string(),
        "table simple_l3/table/ingress/nh_table: 2 entries\n\
         \x20 dstAddr 10.0.1.2 action ingress/send_nh param port 1 param srcMac 00:01:02:03:04:05 param dstMac aa:bb:cc:dd:ee:ff\n\
         \x20     permissions 0x1da4 (-RUD-PS-R--X--), static, created by control plane, last used 250 ms ago\n\
         \x20 dstAddr 10.0.1.3 action ingress/drop\n\
         \x20     permissions 0x1da4 (-RUD-PS-R--X--), static, created by control plane, last used 250 ms ago\n"
    );
    let json = out.to_json();
    assert_eq!(json["result"], "entries");
    assert_eq!(json["entries"][0]["key"][0]["value"], "10.0.1.2");
    assert_eq!(
        json["entries"][0]["action"]["params"][2]["value"],
        "aa:bb:cc:dd:ee:ff"
    );
    assert_eq!(json["entries"][0]["action"]["params"][0]["type"], "dev");
    assert_eq!(json["entries"][0]["msecs_since"], 250);

    // The dumped entry reads back as the command that made it.
    let printed = out.to_string();
    let first = printed.lines().nth(1).unwrap().trim();
    let again = parse(
        &m,
        &format!("create simple_l3/table/ingress/nh_table {first}"),
    )
    .unwrap();
    let dumped = om.dump(m.tables[0].handle).unwrap();
    let CommandKind::WriteEntries { entries, .. } = again.kind else {
        panic!()
    };
    assert_eq!(entries[0].action, dumped[0].spec.action);

    let out = run(
        &mut om,
        &m,
        "get simple_l3/table/ingress/nh_table dstAddr 10.0.1.3",
    );
    assert!(matches!(&out, Output::Entries { entries, .. } if entries.len() == 1));
    run(&mut om, &m, "update simple_l3/table/ingress/nh_table dstAddr 10.0.1.3 action send_nh param port 2 param srcMac 0:0:0:0:0:1 param dstMac 0:0:0:0:0:2");
    let out = run(
        &mut om,
        &m,
        "get simple_l3/table/ingress/nh_table dstAddr 10.0.1.3",
    );
    assert!(
        out.to_string().contains("updated by control plane"),
        "{out}"
    );
    run(
        &mut om,
        &m,
        "delete simple_l3/table/ingress/nh_table dstAddr 10.0.1.3",
    );
    let e = run_line(
        &mut om,
        &m,
        "delete simple_l3/table/ingress/nh_table dstAddr 10.0.1.3",
        &ports,
        Duration::ZERO,
    )
    .unwrap_err();
    assert!(matches!(
        e,
        ExecError::Runtime(RuntimeError::NotFound { .. })
    ));
    let out = run(&mut om, &m, "delete simple_l3/table/ingress/nh_table");
    assert_eq!(
        out.to_string(),
        "flushed table simple_l3/table/ingress/nh_table: 1 entry deleted\n"
    );
}

#[test]
fn execute_batches_apply_each_entry_on_its_own() {
    let m = model("ternary_acl");
    let mut om = Fake::default();
    run(
        &mut om,
        &m,
        "create ternary_acl/table/AclControl/acl proto 17 prio 2 action deny",
    );
    let out = run(
        &mut om,
        &m,
        "create ternary_acl/table/AclControl/acl entry proto 6 prio 1 action deny \
         entry proto 17 prio 2 action deny entry proto 1 prio 3 action permit param port 4",
    );
    assert!(out.has_failures());
    assert_eq!(
        out.to_string(),
        "create on table ternary_acl/table/AclControl/acl: 2 applied, 1 failed\n\
         \x20 entry 1 (src _ dst _ proto 17 sport _ dport _ prio 2): entry already exists in table #0\n"
    );
    let json = out.to_json();
    assert_eq!(json["failures"][0]["index"], 1);
    assert_eq!(om.dump(m.tables[0].handle).unwrap().len(), 3);

    // A filtered flush deletes what matches.
    let out = run(
        &mut om,
        &m,
        "delete ternary_acl/table/AclControl/acl filter prio <= 2",
    );
    assert_eq!(
        out.to_string(),
        "flush on table ternary_acl/table/AclControl/acl: 2 applied, 0 failed\n"
    );
    let out = run(
        &mut om,
        &m,
        "get ternary_acl/table/AclControl/acl filter param.port == 4",
    );
    assert!(
        matches!(&out, Output::Entries { entries, .. } if entries.len() == 1),
        "{out}"
    );
    assert!(
        out.to_string()
            .contains("proto 1 sport _ dport _ prio 3 action AclControl/permit param port 4"),
        "{out}"
    );
}

#[test]
fn execute_defaults_profiles_and_externs() {
    let m = model("lpm_routing");
    let mut om = Fake::default();
    run(
        &mut om,
        &m,
        "update lpm_routing/table/Main/fib_table default_miss_action action fib_miss",
    );
    let out = run(
        &mut om,
        &m,
        "get lpm_routing/table/Main/fib_table default_miss_action",
    );
    assert_eq!(
        out.to_string(),
        "table lpm_routing/table/Main/fib_table default_miss_action: action Main/fib_miss\n"
    );
    run(&mut om, &m, "update lpm_routing/timer_profile/1 aging 1500");
    let out = run(&mut om, &m, "get lpm_routing/timer_profile");
    assert_eq!(
        out.to_string(),
        "timer profiles:\n  profile_id 0 aging 30000\n  profile_id 1 aging 1500\n"
    );

    let m = model("indirect_counters");
    let c = m
        .instances
        .iter()
        .find(|i| i.name == "rx_port_stats")
        .unwrap()
        .handle;
    om.counters.insert(
        (c, 3),
        CounterValue {
            packets: 2,
            bytes: 128,
        },
    );
    let out = run(
        &mut om,
        &m,
        "get indirect_counters/extern/Counter/rx_port_stats",
    );
    assert!(
        out.to_string().contains("index 3 packets 2 bytes 128"),
        "{out}"
    );
    run(
        &mut om,
        &m,
        "reset indirect_counters/extern/Counter/rx_port_stats tc_key index 3",
    );
    assert!(om.counters.is_empty());

    let m = model("register_flow_stats");
    run(
        &mut om,
        &m,
        "update register_flow_stats/extern/Register/packet_count tc_key index 3 param a_value 42",
    );
    let out = run(
        &mut om,
        &m,
        "get register_flow_stats/extern/Register/packet_count tc_key index 3",
    );
    assert!(
        out.to_string().contains("index 3 param a_value 42"),
        "{out}"
    );

    let m = model("meters_policer");
    run(&mut om, &m, "update meters_policer/extern/Meter/subscriber_meter tc_key index 1 param cir 1000 param cbs 100 param pir 2000 param pbs 200");
    assert_eq!(
        om.meters.values().next(),
        Some(&MeterConfig {
            cir: 1000,
            cbs: 100,
            pir: 2000,
            pbs: 200
        })
    );
    let out = run(&mut om, &m, "help");
    assert!(matches!(out, Output::Help { .. }));
}

// ---------------------------------------------------------------------------------------
// Robustness: no input panics.

mod robustness {
    use super::*;
    use proptest::prelude::*;

    const VALID: [&str; 6] = [
        "create simple_l3/table/ingress/nh_table dstAddr 10.0.1.2/32 action send_nh param port port1 param srcMac 00:01:02:03:04:05 param dstMac aa:bb:cc:dd:ee:ff",
        "get simple_l3/table/ingress/nh_table filter key.dstAddr == 10.0.0.1 and (prio < 3 or not msecs_since >= 5)",
        "update simple_l3/table/ingress/nh_table default_miss_action action drop",
        "create simple_l3/table/ingress/nh_table entry dstAddr 1.2.3.4 action drop entry dstAddr 0x5 action drop",
        "update simple_l3/timer_profile/3 aging 100",
        "delete simple_l3/table/ingress/nh_table filter param.port != port2",
    ];

    fn check(m: &PipelineModel, text: &str) {
        let _ = parse_line(text, m, &ports);
        let words: Vec<&str> = text.split(' ').collect();
        let _ = parse_args(&words, m, &ports);
        let _ = parse_file(text, m, &ports);
        if let Ok(c) = parse_line(text, m, &ports) {
            let mut om = Fake::default();
            if let Ok(out) = execute(&mut om, m, &c, Duration::ZERO) {
                let _ = out.to_string();
                let _ = out.to_json();
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
            check(&model("simple_l3"), &text);
        }

        #[test]
        fn arbitrary_words_never_panic(words in proptest::collection::vec(
            prop_oneof![
                Just("create".to_string()), Just("get".to_string()), Just("delete".to_string()),
                Just("update".to_string()), Just("reset".to_string()),
                Just("ternary_acl/table/AclControl/acl".to_string()),
                Just("ternary_acl/extern/Counter/x".to_string()),
                Just("entry".to_string()), Just("prio".to_string()), Just("action".to_string()),
                Just("param".to_string()), Just("filter".to_string()), Just("(".to_string()),
                Just(")".to_string()), Just("not".to_string()), Just("and".to_string()),
                Just("==".to_string()), Just("key.proto".to_string()), Just("proto".to_string()),
                Just("src".to_string()), Just("permit".to_string()), Just("port".to_string()),
                Just("_".to_string()), Just("1..2".to_string()), Just("10.0.0.0/8".to_string()),
                Just("0xff&&&0x0f".to_string()), Just("aging".to_string()), Just("dynamic".to_string()),
                Just("profile_id".to_string()), Just("permissions".to_string()),
                "[a-z0-9./:&_*-]{0,12}",
            ],
            0..24,
        )) {
            check(&model("ternary_acl"), &words.join(" "));
        }

        #[test]
        fn mutated_valid_commands_never_panic(
            which in 0..VALID.len(),
            cut in 0usize..200,
            insert in "\\PC{0,6}",
        ) {
            let valid = VALID[which];
            let mut chars: Vec<char> = valid.chars().collect();
            let at = cut.min(chars.len());
            chars.splice(at..at, insert.chars());
            let text: String = chars.into_iter().collect();
            check(&model("simple_l3"), &text);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Events.

#[test]
fn events_print_entries_and_decoded_digests() {
    use crate::event::EventKind;
    let m = model("simple_l3");
    let t = m.table_by_name("nh_table").unwrap();
    let drop = t.action_by_name("drop").unwrap().handle;
    let event = Event {
        at: Duration::from_millis(12_345),
        kind: EventKind::EntryCreated {
            table: t.handle,
            entry: EntrySpec::new(
                vec![KeyMatch::Exact(big(0x0a00_0102))],
                Some(ActionCall {
                    action: drop,
                    params: vec![],
                }),
            ),
            by: Actor::Datapath,
        },
    };
    let view = event_view(&m, &event);
    assert_eq!(
        view.to_string(),
        "[12.345] create by datapath: simple_l3/table/ingress/nh_table dstAddr 10.0.1.2 action ingress/drop"
    );
    assert_eq!(view.to_json()["key"][0]["value"], "10.0.1.2");

    let m = model("mac_learning_digest");
    let digest = m
        .instances
        .iter()
        .find(|i| i.extern_name == "Digest")
        .unwrap();
    let Some(p4tc_ir::layout::ExternLayout::Digest(layout)) = &digest.layout else {
        panic!("no digest layout")
    };
    let values = vec![big(0x0001_0203_0405), big(7), big(0x0800)];
    let payload = layout.encode(&values).unwrap();
    let view = event_view(
        &m,
        &Event {
            at: Duration::ZERO,
            kind: EventKind::Digest {
                instance: digest.handle,
                payload,
            },
        },
    );
    let text = view.to_string();
    assert!(text.starts_with("[0.000] digest "), "{text}");
    assert!(
        text.ends_with("mac_learn: srcAddr 00:01:02:03:04:05 ingress_port 7 etherType 2048"),
        "{text}"
    );
    assert_eq!(view.fields[1].ty, "dev");
}

/// How fast an entries file parses (a measurement, not a check):
/// `cargo test --release -p p4tc-runtime --lib bulk_parse_speed -- --ignored --nocapture`.
#[test]
#[ignore]
#[allow(clippy::print_stderr)] // a measurement prints its result
fn bulk_parse_speed() {
    let m = model("simple_l3");
    let mut text = String::new();
    for i in 0..200_000u32 {
        text.push_str(&format!("create table/ingress/nh_table dstAddr {} action send_nh param port {} param srcMac 00:01:02:03:04:05 param dstMac aa:bb:cc:dd:ee:ff\n", std::net::Ipv4Addr::from(i), i % 8));
    }
    let start = std::time::Instant::now();
    let commands = parse_file(&text, &m, &ports).unwrap();
    let t = start.elapsed();
    let rate = commands.len() as f64 / t.as_secs_f64();
    eprintln!("{} commands in {t:?}: {rate:.0}/s", commands.len());
}
