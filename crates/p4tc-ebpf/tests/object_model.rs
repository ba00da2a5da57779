//! One object-model suite, run against both backends: `MemoryBackend` (the interpreter's) and
//! `KernelBackend` (a loaded program's BPF maps; root, BTF and clang, else skipped with the
//! reason). The same calls must give the same answers and the same errors.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::sync::Arc;

use num_bigint::BigUint;
use p4tc_ebpf::backend::KernelBackend;
use p4tc_ebpf::bulk::WritePath;
use p4tc_ebpf::ExactTables;
use p4tc_runtime::{
    ActionCall, Actor, CounterValue, DefaultKind, EntrySpec, KeyMatch, ManualClock, MemoryBackend,
    ObjectModel, Permissions, PipelineModel, Priority, RuntimeError,
};

/// A program made for the suite: an exact table with a program entry, a const one, a size of
/// 4 and an overridable default; an LPM table with a const default; a ternary + range table
/// with priorities; a table the control plane may only read; a counter and a register.
const CONTROL: &str = r#"
control C(inout headers_t hdr, inout meta_t meta, in pna_main_input_metadata_t istd,
          inout pna_main_output_metadata_t ostd) {
    Counter<bit<64>, bit<32>>(8, PNA_CounterType_t.PACKETS_AND_BYTES) hits;
    Register<bit<32>, bit<32>>(4) reg;
    Meter<bit<32>>(2, PNA_MeterType_t.PACKETS) police;

    action fwd(PortId_t port) {
        hits.count(0);
        send_to_port(port);
    }

    action set_type(bit<16> t) {
        hdr.ethernet.etherType = t;
    }

    action drop() {
        drop_packet();
    }

    @tc_acl("CRUDPS:RX")
    table ex {
        key = {
            hdr.ethernet.dstAddr : exact @name("dst");
        }
        actions = {
            fwd;
            drop;
        }
        default_action = drop();
        size = 4;
        entries = {
            const 48w0xAA : drop();
            48w0xBB : fwd((PortId_t)2);
        }
    }

    @tc_acl("CRUDPS:RX")
    table lpm {
        key = {
            hdr.ethernet.srcAddr : lpm @name("src");
        }
        actions = {
            fwd;
            drop;
        }
        const default_action = drop();
        size = 16;
        entries = {
            48w0x0b0000000000 &&& 48w0xff0000000000 : fwd((PortId_t)7);
        }
    }

    @tc_acl("CRUDPS:RX")
    @nummask(8)
    table tern {
        key = {
            hdr.ethernet.dstAddr : ternary @name("dst");
            hdr.ethernet.etherType : range @name("type");
        }
        actions = {
            fwd;
            set_type;
        }
        size = 64;
    }

    @tc_acl("R:RX")
    table ro {
        key = {
            hdr.ethernet.srcAddr : exact @name("src");
        }
        actions = {
            fwd;
            NoAction;
        }
        default_action = NoAction();
    }

    apply {
        ex.apply();
        lpm.apply();
        tern.apply();
        ro.apply();
        reg.write(0, 1);
        if (police.execute(0) == PNA_MeterColor_t.RED) {
            drop_packet();
        }
    }
}
"#;

fn n(v: u64) -> BigUint {
    BigUint::from(v)
}

fn model() -> Arc<PipelineModel> {
    common::ethernet_model("object_model", "suite", CONTROL)
}

struct Names {
    ex: p4tc_ir::arena::Handle<p4tc_ir::ir::Table>,
    lpm: p4tc_ir::arena::Handle<p4tc_ir::ir::Table>,
    tern: p4tc_ir::arena::Handle<p4tc_ir::ir::Table>,
    ro: p4tc_ir::arena::Handle<p4tc_ir::ir::Table>,
    fwd: p4tc_ir::arena::Handle<p4tc_ir::ir::Action>,
    drop: p4tc_ir::arena::Handle<p4tc_ir::ir::Action>,
    set_type: p4tc_ir::arena::Handle<p4tc_ir::ir::Action>,
    hits: p4tc_ir::arena::Handle<p4tc_ir::ir::Instance>,
    reg: p4tc_ir::arena::Handle<p4tc_ir::ir::Instance>,
    police: p4tc_ir::arena::Handle<p4tc_ir::ir::Instance>,
}

fn names(p: &PipelineModel) -> Names {
    let t = |name: &str| p.table_by_name(name).expect(name).handle;
    let a = |name: &str| {
        p.table_by_name("tern")
            .and_then(|t| t.action_by_name(name))
            .or_else(|| p.table_by_name("ex").and_then(|t| t.action_by_name(name)))
            .expect(name)
            .handle
    };
    let i = |name: &str| p.instance_by_name(name).expect(name).handle;
    Names {
        ex: t("ex"),
        lpm: t("lpm"),
        tern: t("tern"),
        ro: t("ro"),
        fwd: a("fwd"),
        drop: a("drop"),
        set_type: a("set_type"),
        hits: i("hits"),
        reg: i("reg"),
        police: i("police"),
    }
}

fn call(action: p4tc_ir::arena::Handle<p4tc_ir::ir::Action>, params: &[u64]) -> ActionCall {
    ActionCall {
        action,
        params: params.iter().map(|&v| n(v)).collect(),
    }
}

fn exact(v: u64) -> Vec<KeyMatch> {
    vec![KeyMatch::Exact(n(v))]
}

#[track_caller]
fn is_perm<T: std::fmt::Debug>(r: Result<T, RuntimeError>) {
    assert!(
        matches!(r, Err(RuntimeError::Permission { .. })),
        "expected a permission error, got {r:?}"
    );
}

/// The suite: every assertion holds on every backend.
fn suite(om: &mut dyn ObjectModel, p: &PipelineModel) {
    let x = names(p);
    let ex_name = p.table(x.ex).expect("ex").dotted.clone();

    // Default actions: the program's, overridable unless const.
    assert_eq!(
        om.default_action(x.ex, DefaultKind::Miss).expect("default"),
        Some(call(x.drop, &[]))
    );
    om.set_default_action(x.ex, DefaultKind::Miss, call(x.fwd, &[3]))
        .expect("set the default");
    assert_eq!(
        om.default_action(x.ex, DefaultKind::Miss).expect("default"),
        Some(call(x.fwd, &[3]))
    );
    is_perm(om.set_default_action(x.lpm, DefaultKind::Miss, call(x.fwd, &[1])));
    assert_eq!(
        om.default_action(x.lpm, DefaultKind::Miss)
            .expect("default"),
        Some(call(x.drop, &[]))
    );
    assert!(matches!(
        om.set_default_action(x.ex, DefaultKind::Miss, call(x.fwd, &[1 << 40])),
        Err(RuntimeError::Invalid(_))
    ));

    // The program's entries: a const one refuses changes.
    let c = om.get_entry(x.ex, &exact(0xAA), None).expect("const entry");
    assert!(c.is_const);
    assert_eq!(c.created_by, Actor::Program);
    assert_eq!(c.spec.action, Some(call(x.drop, &[])));
    is_perm(om.update_entry(x.ex, EntrySpec::new(exact(0xAA), Some(call(x.fwd, &[1])))));
    is_perm(om.delete_entry(x.ex, &exact(0xAA), None));
    let b = om
        .get_entry(x.ex, &exact(0xBB), None)
        .expect("program entry");
    assert!(!b.is_const);
    assert_eq!(b.spec.action, Some(call(x.fwd, &[2])));

    // Create, get, update; a second create of the key exists.
    om.create_entry(x.ex, EntrySpec::new(exact(0xCC), Some(call(x.fwd, &[5]))))
        .expect("create");
    let e = om.get_entry(x.ex, &exact(0xCC), None).expect("get");
    assert_eq!(e.spec.key, exact(0xCC));
    assert_eq!(e.spec.action, Some(call(x.fwd, &[5])));
    assert_eq!(e.spec.permissions, Permissions::from_bits(0x1da4));
    assert_eq!(e.spec.priority, None);
    assert_eq!(e.created_by, Actor::ControlPlane);
    assert!(matches!(
        om.create_entry(x.ex, EntrySpec::new(exact(0xCC), Some(call(x.drop, &[])))),
        Err(RuntimeError::Exists { .. })
    ));
    om.update_entry(x.ex, EntrySpec::new(exact(0xCC), Some(call(x.drop, &[]))))
        .expect("update");
    assert_eq!(
        om.get_entry(x.ex, &exact(0xCC), None)
            .expect("get")
            .spec
            .action,
        Some(call(x.drop, &[]))
    );
    // Wrong keys, actions and parameters are refused, naming what is wrong.
    assert!(matches!(
        om.create_entry(x.ex, EntrySpec::new(exact(1 << 50), None)),
        Err(RuntimeError::Invalid(_))
    ));
    assert!(matches!(
        om.create_entry(
            x.ex,
            EntrySpec::new(exact(0x11), Some(call(x.set_type, &[1])))
        ),
        Err(RuntimeError::NotFound { .. })
    ));
    assert!(matches!(
        om.get_entry(x.ex, &exact(0x12), None),
        Err(RuntimeError::NotFound { .. })
    ));
    assert!(matches!(
        om.delete_entry(x.ex, &exact(0x12), None),
        Err(RuntimeError::NotFound { .. })
    ));

    // Entry permissions: never above the table's; without D, no delete (and flush keeps it).
    let mut too_much = EntrySpec::new(exact(0xDD), None);
    too_much.permissions = Permissions::from_bits(0x3fff);
    is_perm(om.create_entry(x.ex, too_much));
    let mut no_delete = EntrySpec::new(exact(0xDD), Some(call(x.fwd, &[7])));
    no_delete.permissions = Permissions::from_bits(0x1824);
    om.create_entry(x.ex, no_delete).expect("create without D");
    is_perm(om.delete_entry(x.ex, &exact(0xDD), None));

    // Size 4: AA, BB, CC, DD are there.
    assert_eq!(
        om.create_entry(x.ex, EntrySpec::new(exact(0xEE), None)),
        Err(RuntimeError::Full {
            table: ex_name.clone(),
            size: 4
        })
    );
    let mut keys: Vec<Vec<KeyMatch>> = om
        .dump(x.ex)
        .expect("dump")
        .into_iter()
        .map(|e| e.spec.key)
        .collect();
    keys.sort_by_key(|k| format!("{k:?}"));
    let mut want = vec![exact(0xAA), exact(0xBB), exact(0xCC), exact(0xDD)];
    want.sort_by_key(|k| format!("{k:?}"));
    assert_eq!(keys, want);

    // Flush: what the control plane may delete (BB, CC), not the const nor the D-less one.
    assert_eq!(om.flush(x.ex).expect("flush"), 2);
    assert_eq!(om.dump(x.ex).expect("dump").len(), 2);
    om.create_entry(x.ex, EntrySpec::new(exact(0xEE), None))
        .expect("room again");
    let ee = om.get_entry(x.ex, &exact(0xEE), None).expect("get");
    assert_eq!(ee.spec.action, None);

    // A table the control plane may not create in.
    is_perm(om.create_entry(x.ro, EntrySpec::new(exact(1), Some(call(x.fwd, &[1])))));
    is_perm(om.flush(x.ro));

    // LPM: prefixes are entries of their own; the value is cut to the prefix.
    let pfx = |v: u64, len: u32| {
        vec![KeyMatch::Lpm {
            value: n(v),
            prefix_len: len,
        }]
    };
    om.create_entry(
        x.lpm,
        EntrySpec::new(pfx(0x0a00_0000_0000, 8), Some(call(x.fwd, &[1]))),
    )
    .expect("lpm /8");
    om.create_entry(
        x.lpm,
        EntrySpec::new(pfx(0x0a01_0000_0000, 16), Some(call(x.fwd, &[2]))),
    )
    .expect("lpm /16");
    assert!(matches!(
        om.create_entry(x.lpm, EntrySpec::new(pfx(0x0aff_0000_0000, 8), None)),
        Err(RuntimeError::Exists { .. })
    ));
    let got = om
        .get_entry(x.lpm, &pfx(0x0a01_0000_0000, 16), None)
        .expect("get /16");
    assert_eq!(got.spec.action, Some(call(x.fwd, &[2])));
    assert!(matches!(
        om.get_entry(x.lpm, &pfx(0x0a01_0000_0000, 24), None),
        Err(RuntimeError::NotFound { .. })
    ));
    assert_eq!(om.dump(x.lpm).expect("dump").len(), 3);
    om.delete_entry(x.lpm, &pfx(0x0a00_0000_0000, 8), None)
        .expect("delete /8");
    let keys: Vec<Vec<KeyMatch>> = om
        .dump(x.lpm)
        .expect("dump")
        .into_iter()
        .map(|e| e.spec.key)
        .collect();
    assert_eq!(
        keys,
        vec![pfx(0x0a01_0000_0000, 16), pfx(0x0b00_0000_0000, 8)],
        "the longest prefix first"
    );
    // The program's entry is found by its exact prefix, not by a longer one it covers.
    let prog = om
        .get_entry(x.lpm, &pfx(0x0b00_0000_0000, 8), None)
        .expect("the program's /8");
    assert_eq!(prog.created_by, Actor::Program);
    assert_eq!(prog.spec.action, Some(call(x.fwd, &[7])));
    assert!(matches!(
        om.get_entry(x.lpm, &pfx(0x0b01_0000_0000, 16), None),
        Err(RuntimeError::NotFound { .. })
    ));

    // Ternary and range with priorities: the lower value wins and dumps first; an entry is
    // named by key and priority; allocated priorities count up from 1.
    let tk = |v: u64, m: u64, lo: u64, hi: u64| {
        vec![
            KeyMatch::Ternary {
                value: n(v),
                mask: n(m),
            },
            KeyMatch::Range {
                low: n(lo),
                high: n(hi),
            },
        ]
    };
    let mut a = EntrySpec::new(tk(0x0a, 0xff, 0x800, 0x8ff), Some(call(x.fwd, &[1])));
    a.priority = Some(Priority(10));
    om.create_entry(x.tern, a).expect("ternary a");
    let mut b = EntrySpec::new(tk(0x0b, 0xff, 0x10, 0x2f), Some(call(x.set_type, &[9])));
    b.priority = Some(Priority(5));
    om.create_entry(x.tern, b).expect("ternary b");
    om.create_entry(
        x.tern,
        EntrySpec::new(tk(0x0c, 0x0f, 0, 0xffff), Some(call(x.fwd, &[3]))),
    )
    .expect("ternary c, priority allocated");
    let dump = om.dump(x.tern).expect("dump");
    let prios: Vec<Option<Priority>> = dump.iter().map(|e| e.spec.priority).collect();
    assert_eq!(
        prios,
        vec![Some(Priority(1)), Some(Priority(5)), Some(Priority(10))]
    );
    assert_eq!(dump[2].spec.key, tk(0x0a, 0xff, 0x800, 0x8ff));
    assert_eq!(dump[1].spec.action, Some(call(x.set_type, &[9])));
    assert!(om
        .get_entry(x.tern, &tk(0x0a, 0xff, 0x800, 0x8ff), Some(Priority(10)))
        .is_ok());
    assert!(matches!(
        om.get_entry(x.tern, &tk(0x0a, 0xff, 0x800, 0x8ff), Some(Priority(11))),
        Err(RuntimeError::NotFound { .. })
    ));
    assert!(matches!(
        om.create_entry(x.tern, EntrySpec::new(tk(0x0a, 0xff, 0x800, 0x8ff), None)),
        Err(RuntimeError::Exists { .. })
    ));
    // A value outside its mask is masked off: the same entry.
    assert!(om
        .get_entry(x.tern, &tk(0xfc, 0x0f, 0, 0xffff), None)
        .is_ok());
    assert!(matches!(
        om.create_entry(
            x.tern,
            EntrySpec::new(tk(0x0d, 0xff, 0x30, 0x20), Some(call(x.fwd, &[1])))
        ),
        Err(RuntimeError::Invalid(_))
    ));
    om.delete_entry(x.tern, &tk(0x0a, 0xff, 0x800, 0x8ff), Some(Priority(10)))
        .expect("delete a");
    om.create_entry(
        x.tern,
        EntrySpec::new(tk(0x0e, 0xff, 1, 1), Some(call(x.fwd, &[4]))),
    )
    .expect("ternary e");
    let last = om
        .get_entry(x.tern, &tk(0x0e, 0xff, 1, 1), None)
        .expect("get e");
    assert_eq!(last.spec.priority, Some(Priority(2)));
    assert_eq!(om.flush(x.tern).expect("flush"), 3);
    assert!(om.dump(x.tern).expect("dump").is_empty());

    // Counters and registers.
    assert_eq!(
        om.counter(x.hits, 0).expect("counter"),
        CounterValue::default()
    );
    assert!(matches!(
        om.counter(x.hits, 8),
        Err(RuntimeError::NotFound { .. })
    ));
    om.reset_counter(x.hits, 7).expect("reset");
    assert!(matches!(
        om.counter(x.reg, 0),
        Err(RuntimeError::Invalid(_))
    ));
    om.set_register(x.reg, 1, &[n(0x1234)]).expect("register");
    assert_eq!(om.register(x.reg, 1).expect("register"), vec![n(0x1234)]);
    assert_eq!(om.register(x.reg, 2).expect("register"), vec![n(0)]);
    assert!(matches!(
        om.set_register(x.reg, 1, &[n(1 << 33)]),
        Err(RuntimeError::Invalid(_))
    ));
    assert!(matches!(
        om.register(x.reg, 4),
        Err(RuntimeError::NotFound { .. })
    ));

    // Meters: configured per element, within the array, and only meters.
    let config = p4tc_runtime::MeterConfig {
        cir: 10,
        cbs: 5,
        pir: 20,
        pbs: 10,
    };
    om.set_meter(x.police, 1, config).expect("meter");
    assert!(matches!(
        om.set_meter(x.police, 2, config),
        Err(RuntimeError::NotFound { .. })
    ));
    assert!(matches!(
        om.set_meter(x.hits, 0, config),
        Err(RuntimeError::Invalid(_))
    ));

    // Timer profiles: P4TC's four defaults; a fifth may be added, not a seventh.
    assert_eq!(om.timer_profiles().len(), 4);
    om.set_timer_profile(4, std::time::Duration::from_secs(5))
        .expect("profile 4");
    assert!(om
        .set_timer_profile(6, std::time::Duration::from_secs(5))
        .is_err());

    // Events: the control plane's changes were published (the table has the P bit).
    let events = om.take_events();
    assert!(!events.is_empty());
    assert!(om.take_events().is_empty());
}

#[test]
fn the_suite_passes_on_the_memory_backend() {
    let p = model();
    let mut m = MemoryBackend::new(p.clone(), Arc::new(ManualClock::new())).expect("backend");
    suite(&mut m, &p);
}

#[test]
fn the_suite_passes_on_the_kernel_backend_and_pinned_maps_keep_the_state() {
    if let Some(why) = common::kernel_unavailable() {
        println!("skipped: {why}");
        return;
    }
    let p = model();
    let (g, bytes) =
        common::build("suite", &p.module, p4tc_ebpf::Hook::Tc, "object_model").expect("builds");
    let loaded = p4tc_ebpf::loader::load(&bytes, &g).expect("loads");
    let mut k = KernelBackend::from_loaded(p.clone(), &loaded).expect("backend");
    suite(&mut k, &p);

    // The kernel's own limits: a range is stored as its prefixes, each an element of a map
    // of `size` elements, so wide ranges fill the table before `size` entries (Full); each
    // prefix length takes a mask slot. Emptying the table frees the slots.
    let x = names(&p);
    let masked = |bits: u32| {
        vec![
            KeyMatch::Ternary {
                value: n(0),
                mask: n((1u64 << bits) - 1),
            },
            KeyMatch::Range {
                low: n(1),
                high: n(0xfffe),
            },
        ]
    };
    let mut created = 0;
    let refused = (1..=20).find_map(|bits| {
        match k.create_entry(
            x.tern,
            EntrySpec::new(masked(bits), Some(call(x.fwd, &[1]))),
        ) {
            Ok(()) => {
                created += 1;
                None
            }
            Err(e) => Some(e),
        }
    });
    assert!(
        matches!(refused, Some(RuntimeError::Full { size: 64, .. })),
        "{refused:?}"
    );
    assert!(created > 0);
    let masks_map = g
        .tables
        .iter()
        .find(|t| t.table == x.tern)
        .and_then(|t| t.masks_map.clone())
        .expect("masks map");
    let masks = loaded.map_fd(&masks_map).expect("masks fd");
    let slot0 = |fd: &std::os::fd::OwnedFd| {
        use std::os::fd::AsFd;
        p4tc_ebpf::sys::map_lookup(fd.as_fd(), &0u32.to_ne_bytes()).expect("slot 0")[..4]
            == p4tc_ebpf::entry::MASK_USED.to_ne_bytes()
    };
    assert!(slot0(&masks), "slot 0 in use");
    assert_eq!(k.flush(x.tern).expect("flush"), created);
    assert!(!slot0(&masks), "an empty table frees its mask slots");
    k.create_entry(x.tern, EntrySpec::new(masked(20), Some(call(x.fwd, &[1]))))
        .expect("room again");
    assert!(slot0(&masks));
    assert_eq!(k.flush(x.tern).expect("flush"), 1);

    // Another opener of the pinned maps sees the same entries.
    let dir = std::path::PathBuf::from(format!(
        "/sys/fs/bpf/p4tc-test-object-model-{}",
        std::process::id()
    ));
    if !std::path::Path::new("/sys/fs/bpf").exists() {
        println!("skipped the pinned half: no bpffs at /sys/fs/bpf");
        return;
    }
    loaded.pin_maps(&dir).expect("pin");
    k.create_entry(x.ex, EntrySpec::new(exact(0x77), Some(call(x.fwd, &[6]))))
        .expect("create");
    let again = KernelBackend::open_pinned(p.clone(), g.clone(), &dir).expect("open pinned");
    let seen = again.get_entry(x.ex, &exact(0x77), None).expect("seen");
    assert_eq!(seen.spec.action, Some(call(x.fwd, &[6])));
    assert_eq!(
        again.dump(x.ex).expect("dump").len(),
        k.dump(x.ex).expect("dump").len()
    );
    // A description that does not fit the pinned maps is refused, naming the map.
    let mut other = g.clone();
    let ex_map = other
        .tables
        .iter()
        .find(|t| t.table == x.ex)
        .expect("ex")
        .map
        .clone();
    if let Some(m) = other.maps.iter_mut().find(|m| m.name == ex_map) {
        m.value_size += 8;
    }
    match KernelBackend::open_pinned(p.clone(), other, &dir) {
        Err(e) => assert!(e.to_string().contains("another program"), "{e}"),
        Ok(_) => panic!("a mismatched description was accepted"),
    }
    // Maps pinned by an earlier p4tc have no dynamic marks (its sweep walks every table):
    // they open, and dynamic entries go in.
    if p4tc_ebpf::aging::has_aging(&g) {
        std::fs::remove_file(dir.join(p4tc_ebpf::aging::DYNAMIC_MAP)).expect("unpin the marks");
        let mut older = KernelBackend::open_pinned(p.clone(), g.clone(), &dir)
            .expect("open maps pinned without marks");
        // (The table is full: room first.)
        older
            .delete_entry(x.ex, &exact(0x77), None)
            .expect("delete");
        let mut dynamic = EntrySpec::new(exact(0x78), Some(call(x.fwd, &[6])));
        dynamic.dynamic = true;
        older.create_entry(x.ex, dynamic).expect("a dynamic entry");
        assert!(older.get_entry(x.ex, &exact(0x78), None).is_ok());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[(self.next() % items.len() as u64) as usize].clone()
    }
}

/// What a result is, for comparing backends: Ok, or the error's kind.
fn kind<T>(r: &Result<T, RuntimeError>) -> &'static str {
    match r {
        Ok(_) => "ok",
        Err(RuntimeError::NotFound { .. }) => "not found",
        Err(RuntimeError::Exists { .. }) => "exists",
        Err(RuntimeError::Full { .. }) => "full",
        Err(RuntimeError::Permission { .. }) => "permission",
        Err(RuntimeError::Invalid(_)) => "invalid",
    }
}

/// A table's entries as both backends must agree on them.
fn view(om: &dyn ObjectModel, t: p4tc_ir::arena::Handle<p4tc_ir::ir::Table>) -> Vec<String> {
    let v: Vec<String> = om
        .dump(t)
        .expect("dump")
        .into_iter()
        .map(|e| {
            format!(
                "{:?} {:?} {:?} {:?} const={} by={:?}",
                e.spec.key,
                e.spec.priority,
                e.spec.action,
                e.spec.permissions,
                e.is_const,
                e.created_by
            )
        })
        .collect();
    // In the dump's order: both backends list the longest prefix, then the best priority,
    // then the oldest entry first.
    v
}

/// Random create, update, delete, get, flush and default-action calls on both backends: the
/// same outcome (success or the same kind of error) every time, and the same entries after
/// every step. Keys are written in the kernel's canonical form, and tuple-space entries are
/// not created twice with one key (the kernel's map holds one value per key; see the backend's
/// module doc).
#[test]
fn random_operations_agree_on_both_backends() {
    if let Some(why) = common::kernel_unavailable() {
        println!("skipped: {why}");
        return;
    }
    let p = model();
    let x = names(&p);
    let (g, bytes) = common::build(
        "suite",
        &p.module,
        p4tc_ebpf::Hook::Tc,
        "object_model_random",
    )
    .expect("builds");
    let mut compared = 0;
    let mut outcomes: std::collections::BTreeMap<&str, usize> = Default::default();
    // A fresh program and backend per seed: three runs of 300 operations.
    for seed in [
        0x2545_f491_4f6c_dd1d_u64,
        0x9e37_79b9_7f4a_7c15,
        0x0123_4567_89ab_cdef,
    ] {
        let loaded = p4tc_ebpf::loader::load(&bytes, &g).expect("loads");
        let mut k = KernelBackend::from_loaded(p.clone(), &loaded).expect("backend");
        let mut m = MemoryBackend::new(p.clone(), Arc::new(ManualClock::new())).expect("backend");
        let mut rng = Rng(seed);
        let ex_keys = [0x1u64, 0x2, 0x3, 0x4, 0x5, 0xAA, 0xBB];
        let actions = [
            None,
            Some(call(x.fwd, &[1])),
            Some(call(x.fwd, &[9])),
            Some(call(x.drop, &[])),
            Some(call(x.set_type, &[1])),
        ];
        let perms = [
            None,
            Some(0x1da4u16),
            Some(0x1824),
            Some(0x3fff),
            Some(0x1024),
        ];
        let tern_keys: Vec<Vec<KeyMatch>> = [
            (0x0au64, 0xffu64, 0u64, 0xffffu64),
            (0x0a, 0xff, 0x800, 0x8ff),
            (0x0b, 0x0f, 0x10, 0x2f),
            (0x00, 0xf0, 7, 7),
        ]
        .iter()
        .map(|&(v, msk, lo, hi)| {
            vec![
                KeyMatch::Ternary {
                    value: n(v),
                    mask: n(msk),
                },
                KeyMatch::Range {
                    low: n(lo),
                    high: n(hi),
                },
            ]
        })
        .collect();
        let lpm_keys: Vec<Vec<KeyMatch>> = [(0x0a00_0000_0000u64, 8u32), (0x0a01_0000_0000, 16)]
            .iter()
            .map(|&(v, l)| {
                vec![KeyMatch::Lpm {
                    value: n(v),
                    prefix_len: l,
                }]
            })
            .collect();
        for step in 0..300 {
            let op = rng.next() % 10;
            let (what, a, b) = match op {
                0..=2 => {
                    let key = exact(rng.pick(&ex_keys));
                    let mut spec = EntrySpec::new(key, rng.pick(&actions));
                    spec.permissions = rng.pick(&perms).and_then(Permissions::from_bits);
                    let what = format!("create ex {spec:?}");
                    let a = m.create_entry(x.ex, spec.clone());
                    let b = k.create_entry(x.ex, spec);
                    (what, kind(&a), kind(&b))
                }
                3 => {
                    let key = exact(rng.pick(&ex_keys));
                    let mut spec = EntrySpec::new(key, rng.pick(&actions));
                    spec.permissions = rng.pick(&perms).and_then(Permissions::from_bits);
                    let what = format!("update ex {spec:?}");
                    let a = m.update_entry(x.ex, spec.clone());
                    let b = k.update_entry(x.ex, spec);
                    (what, kind(&a), kind(&b))
                }
                4 => {
                    let key = exact(rng.pick(&ex_keys));
                    let what = format!("delete ex {key:?}");
                    let a = m.delete_entry(x.ex, &key, None);
                    let b = k.delete_entry(x.ex, &key, None);
                    (what, kind(&a), kind(&b))
                }
                5 => {
                    let key = rng.pick(&tern_keys);
                    let prio = rng.pick(&[None, Some(Priority(3)), Some(Priority(7))]);
                    let taken = m
                        .dump(x.tern)
                        .expect("dump")
                        .iter()
                        .any(|e| e.spec.key == key);
                    if taken && prio.is_some() {
                        continue;
                    }
                    let mut spec = EntrySpec::new(key, rng.pick(&actions));
                    spec.priority = prio;
                    let what = format!("create tern {spec:?}");
                    let a = m.create_entry(x.tern, spec.clone());
                    let b = k.create_entry(x.tern, spec);
                    (what, kind(&a), kind(&b))
                }
                6 => {
                    let key = rng.pick(&tern_keys);
                    let what = format!("delete tern {key:?}");
                    let a = m.delete_entry(x.tern, &key, None);
                    let b = k.delete_entry(x.tern, &key, None);
                    (what, kind(&a), kind(&b))
                }
                7 => {
                    let key = rng.pick(&lpm_keys);
                    let spec = EntrySpec::new(key, rng.pick(&actions));
                    let what = format!("create or delete lpm {spec:?}");
                    if rng.next() % 2 == 0 {
                        let a = m.create_entry(x.lpm, spec.clone());
                        let b = k.create_entry(x.lpm, spec);
                        (what, kind(&a), kind(&b))
                    } else {
                        let a = m.delete_entry(x.lpm, &spec.key, None);
                        let b = k.delete_entry(x.lpm, &spec.key, None);
                        (what, kind(&a), kind(&b))
                    }
                }
                8 => {
                    let t = rng.pick(&[x.ex, x.tern, x.lpm, x.ro]);
                    let what = format!("flush {t:?}");
                    let a = m.flush(t);
                    let b = k.flush(t);
                    assert_eq!(a.as_ref().ok(), b.as_ref().ok(), "step {step}: {what}");
                    (what, kind(&a), kind(&b))
                }
                _ => {
                    let Some(c) = rng.pick(&actions) else {
                        continue;
                    };
                    let what = format!("set the default of ex to {c:?}");
                    let a = m.set_default_action(x.ex, DefaultKind::Miss, c.clone());
                    let b = k.set_default_action(x.ex, DefaultKind::Miss, c);
                    assert_eq!(
                        m.default_action(x.ex, DefaultKind::Miss),
                        k.default_action(x.ex, DefaultKind::Miss),
                        "step {step}"
                    );
                    (what, kind(&a), kind(&b))
                }
            };
            assert_eq!(a, b, "step {step}: {what}: memory {a}, kernel {b}");
            for t in [x.ex, x.tern, x.lpm] {
                assert_eq!(view(&m, t), view(&k, t), "step {step}: after {what}");
            }
            compared += 1;
            *outcomes.entry(a).or_default() += 1;
        }
    }
    println!("{compared} operations (3 seeds) agreed on both backends: {outcomes:?}");
}

/// What the kernel backend writes is what the datapath runs: an entry forwards, the indirect
/// counter its action counts is read back summed over CPUs, a register the program writes is
/// read back, and a meter configured to have no tokens turns packets red (dropped).
#[test]
fn the_datapath_sees_what_the_kernel_backend_writes() {
    use p4tc_testkit::target::Target;
    if let Some(why) = common::kernel_unavailable() {
        println!("skipped: {why}");
        return;
    }
    let p = model();
    let x = names(&p);
    let mut target = p4tc_testkit::kernel_target::KernelTarget::new(p.clone(), p4tc_ebpf::Hook::Tc)
        .expect("kernel target");
    let mut packet = vec![0u8; 60];
    packet[5] = 0x01; // dstAddr 00:00:00:00:00:01
    packet[12] = 0x88; // an EtherType nobody parses
    packet[13] = 0xb5;
    let d = target.send(0, &packet).expect("send");
    assert!(d.is_drop(), "no entry: the default drops");
    target
        .control()
        .create_entry(x.ex, EntrySpec::new(exact(1), Some(call(x.fwd, &[3]))))
        .expect("create");
    // The LPM table's const default drops: a /0 entry lets everything through (fwd again).
    target
        .control()
        .create_entry(
            x.lpm,
            EntrySpec::new(vec![KeyMatch::Any], Some(call(x.fwd, &[3]))),
        )
        .expect("create /0");
    for _ in 0..3 {
        let d = target.send(0, &packet).expect("send");
        assert_eq!(d.outputs.len(), 1);
        assert_eq!(d.outputs[0].0, 3);
    }
    let c = target.control().counter(x.hits, 0).expect("counter");
    // Two tables run `fwd` per packet: 3 packets of 60 bytes, counted twice each.
    assert_eq!(c.packets, 6);
    assert_eq!(c.bytes, 360);
    assert_eq!(
        target.control().register(x.reg, 0).expect("register"),
        vec![n(1)]
    );
    target
        .control()
        .set_meter(
            x.police,
            0,
            p4tc_runtime::MeterConfig {
                cir: 0,
                cbs: 0,
                pir: 0,
                pbs: 0,
            },
        )
        .expect("meter");
    let d = target.send(0, &packet).expect("send");
    assert!(d.is_drop(), "a meter without tokens marks red: {d:?}");
    target.control().reset_counter(x.hits, 0).expect("reset");
    assert_eq!(
        target.control().counter(x.hits, 0).expect("counter"),
        CounterValue::default()
    );
}

/// Control-plane rates on the kernel backend, printed for the record (simple_l3's exact table,
/// 1,000 entries: creates, gets, one dump, deletes); the counts are checked, not the times.
#[test]
fn kernel_backend_rates() {
    if let Some(why) = common::kernel_unavailable() {
        println!("skipped: {why}");
        return;
    }
    let path = common::examples_dir().join("simple_l3/simple_l3.p4");
    let module = Arc::new(common::module_of(&path));
    let p = Arc::new(PipelineModel::new(module, "simple_l3").expect("model"));
    let (g, bytes) = common::build(
        "simple_l3",
        &p.module,
        p4tc_ebpf::Hook::Tc,
        "object_model_rates",
    )
    .expect("builds");
    let loaded = p4tc_ebpf::loader::load(&bytes, &g).expect("loads");
    let mut k = KernelBackend::from_loaded(p.clone(), &loaded).expect("backend");
    let t = p.table_by_name("nh_table").expect("nh_table");
    let send_nh = t.action_by_name("send_nh").expect("send_nh").handle;
    let n_entries = 1000u64;
    let started = std::time::Instant::now();
    for i in 0..n_entries {
        let spec = EntrySpec::new(
            exact(0x0a00_0000 + i),
            Some(call(send_nh, &[1, 0x0001_0203_0405, 0xaabb_ccdd_eeff])),
        );
        k.create_entry(t.handle, spec).expect("create");
    }
    let create = started.elapsed();
    let started = std::time::Instant::now();
    for i in 0..n_entries {
        k.get_entry(t.handle, &exact(0x0a00_0000 + i), None)
            .expect("get");
    }
    let get = started.elapsed();
    let started = std::time::Instant::now();
    assert_eq!(k.dump(t.handle).expect("dump").len(), n_entries as usize);
    let dump = started.elapsed();
    let started = std::time::Instant::now();
    for i in 0..n_entries {
        k.delete_entry(t.handle, &exact(0x0a00_0000 + i), None)
            .expect("delete");
    }
    let delete = started.elapsed();
    let rate = |d: std::time::Duration| n_entries as f64 / d.as_secs_f64();
    println!(
        "KernelBackend, exact table, {n_entries} entries: create {:.0}/s, get {:.0}/s, dump {:?}, delete {:.0}/s",
        rate(create),
        rate(get),
        dump,
        rate(delete)
    );
}

/// The suite's program built into `dir`, loaded and its aging timer armed: None (said why)
/// where the kernel cannot, or the program has no aging maps.
fn load_with_aging(dir: &str) -> Option<(Arc<PipelineModel>, p4tc_ebpf::loader::Loaded)> {
    if let Some(why) = common::kernel_unavailable() {
        println!("skipped: {why}");
        return None;
    }
    let p = model();
    let (g, bytes) = common::build("suite", &p.module, p4tc_ebpf::Hook::Tc, dir).expect("builds");
    if !p4tc_ebpf::aging::has_aging(&g) {
        println!("skipped: the program has no aging maps");
        return None;
    }
    let mut loaded = p4tc_ebpf::loader::load(&bytes, &g).expect("loads");
    p4tc_ebpf::aging::arm(&mut loaded).expect("arms the aging timer");
    Some((p, loaded))
}

/// With aging in the kernel, the backend's timer profiles are the program's map and the
/// sweep's deletes come out of `take_events` (by the timer), after the entry is gone.
#[test]
fn kernel_aging_deletes_reach_the_backend_events() {
    let Some((p, loaded)) = load_with_aging("object_model_aging") else {
        return;
    };
    let x = names(&p);
    let mut k = KernelBackend::from_loaded(p.clone(), &loaded).expect("backend");
    k.set_timer_profile(1, std::time::Duration::from_millis(60))
        .expect("profile 1");
    assert_eq!(
        k.timer_profiles()[1],
        std::time::Duration::from_millis(60),
        "read back from the map"
    );
    let mut dynamic = EntrySpec::new(exact(0x42), Some(call(x.fwd, &[4])));
    dynamic.dynamic = true;
    dynamic.aging = Some(p4tc_runtime::Aging::Profile(1));
    k.create_entry(x.ex, dynamic).expect("dynamic entry");
    k.create_entry(x.ex, EntrySpec::new(exact(0x43), Some(call(x.fwd, &[5]))))
        .expect("static entry");
    let created = k.take_events();
    assert_eq!(created.len(), 2);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    let mut aged = Vec::new();
    while aged.is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
        aged = k.take_events();
    }
    assert_eq!(aged.len(), 1, "{aged:?}");
    match &aged[0].kind {
        p4tc_runtime::EventKind::EntryDeleted { table, entry, by } => {
            assert_eq!(*table, x.ex);
            assert_eq!(*by, Actor::Timer);
            assert_eq!(entry.key, exact(0x42));
            assert_eq!(entry.action.as_ref().map(|c| c.action), Some(x.fwd));
        }
        other => panic!("not a delete: {other:?}"),
    }
    assert!(matches!(
        k.get_entry(x.ex, &exact(0x42), None),
        Err(RuntimeError::NotFound { .. })
    ));
    assert!(
        k.get_entry(x.ex, &exact(0x43), None).is_ok(),
        "static stays"
    );
}

/// The kernel's sweep walks only tables marked as maybe holding a dynamic entry: it clears
/// the mark of a table of static entries and leaves it so, and the backend's creates of
/// dynamic entries (one by one and in a batch) mark the table again, so they age out.
#[test]
fn the_sweep_walks_only_tables_with_dynamic_entries() {
    use p4tc_ebpf::aging;
    use std::os::fd::AsFd;
    use std::time::{Duration, Instant};
    let Some((p, loaded)) = load_with_aging("object_model_marks") else {
        return;
    };
    let x = names(&p);
    let marks = loaded.map_fd(aging::DYNAMIC_MAP).expect("the marks map");
    let timer = loaded.map_fd(aging::TIMER_MAP).expect("the timer map");
    let id = p.table(x.ex).expect("the exact table").id;
    let marked = || aging::marked_dynamic(marks.as_fd(), id).expect("read the mark");
    let sweeps = || aging::stats(timer.as_fd()).expect("stats").sweeps;
    let wait = |limit: Duration, done: &dyn Fn() -> bool| {
        let end = Instant::now() + limit;
        while !done() {
            assert!(Instant::now() < end, "waited {limit:?}");
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    assert!(marked(), "the loader marks every swept table");

    let mut k = KernelBackend::from_loaded(p.clone(), &loaded).expect("backend");
    k.set_timer_profile(1, Duration::from_millis(60))
        .expect("profile 1");
    k.create_entry(x.ex, EntrySpec::new(exact(0x43), Some(call(x.fwd, &[5]))))
        .expect("static entry");
    // The first sweep (up to a second after the arm) meets only the static entry.
    wait(Duration::from_secs(3), &|| !marked());
    let after = sweeps();
    wait(Duration::from_secs(2), &|| sweeps() >= after + 3);
    assert!(!marked(), "sweeps that walk nothing leave the mark cleared");

    let dynamic = |v: u64| {
        let mut e = EntrySpec::new(exact(v), Some(call(x.fwd, &[4])));
        e.dynamic = true;
        e.aging = Some(p4tc_runtime::Aging::Profile(1));
        e
    };
    k.create_entry(x.ex, dynamic(0x42)).expect("dynamic entry");
    assert!(marked(), "a dynamic entry marks its table");
    // It ages out (the sweep walked the table again), then the mark is cleared again.
    wait(Duration::from_secs(3), &|| {
        k.get_entry(x.ex, &exact(0x42), None).is_err()
    });
    wait(Duration::from_secs(3), &|| !marked());
    // (The table holds 4: its program's two entries, the static one and this one.)
    for r in k.create_entries(x.ex, vec![dynamic(0x44)]) {
        r.expect("batch of a dynamic entry");
    }
    assert!(marked(), "a batch with a dynamic entry marks its table");
    wait(Duration::from_secs(3), &|| {
        k.get_entry(x.ex, &exact(0x44), None).is_err()
    });
    assert!(
        k.get_entry(x.ex, &exact(0x43), None).is_ok(),
        "static stays"
    );
}

/// A batch of creates on each table with every kind of outcome (created, the key twice, a key
/// already there, a bad key, a bad action, too many masks, the table full; ternary ranges
/// taking several elements, priorities given and allocated).
fn batch_of(x: &Names) -> Vec<(p4tc_ir::arena::Handle<p4tc_ir::ir::Table>, Vec<EntrySpec>)> {
    let ex = vec![
        EntrySpec::new(exact(0xC1), Some(call(x.fwd, &[1]))),
        EntrySpec::new(exact(0xC1), Some(call(x.fwd, &[2]))),
        EntrySpec::new(exact(0xBB), None),
        EntrySpec::new(exact(1 << 50), None),
        EntrySpec::new(exact(0xC2), Some(call(x.set_type, &[1]))),
        EntrySpec::new(exact(0xC2), Some(call(x.drop, &[]))),
        EntrySpec::new(exact(0xC3), None),
    ];
    let lpm = |v: u64, l: u32| {
        vec![KeyMatch::Lpm {
            value: n(v),
            prefix_len: l,
        }]
    };
    let lpm_batch = vec![
        EntrySpec::new(lpm(0x0a00_0000_0000, 8), Some(call(x.fwd, &[1]))),
        EntrySpec::new(lpm(0x0a01_0000_0000, 16), Some(call(x.fwd, &[2]))),
        EntrySpec::new(lpm(0x0a00_0000_0000, 8), Some(call(x.drop, &[]))),
        EntrySpec::new(lpm(0x0b00_0000_0000, 8), None),
        EntrySpec::new(lpm(0x0c00_0000_0000, 60), None),
    ];
    let tern = |v: u64, m: u64, lo: u64, hi: u64| {
        vec![
            KeyMatch::Ternary {
                value: n(v),
                mask: n(m),
            },
            KeyMatch::Range {
                low: n(lo),
                high: n(hi),
            },
        ]
    };
    let with_prio = |mut s: EntrySpec, p: Option<u32>| {
        s.priority = p.map(Priority);
        s
    };
    let mut tern_batch = vec![
        with_prio(
            EntrySpec::new(tern(0x0a, 0xff, 0x800, 0x8ff), Some(call(x.fwd, &[1]))),
            Some(5),
        ),
        with_prio(EntrySpec::new(tern(0x0b, 0x0f, 0x10, 0x2f), None), None),
        with_prio(
            EntrySpec::new(tern(0x0a, 0xff, 0x800, 0x8ff), Some(call(x.set_type, &[3]))),
            None,
        ),
        with_prio(EntrySpec::new(tern(0x00, 0xf0, 7, 7), None), Some(2)),
    ];
    // Masks 0xff..: each a new slot; @nummask(8) runs out.
    for i in 0..8u64 {
        tern_batch.push(with_prio(
            EntrySpec::new(tern(i, 0xff00 | (1 << i), 0, 0xffff), None),
            None,
        ));
    }
    vec![(x.ex, ex), (x.lpm, lpm_batch), (x.tern, tern_batch)]
}

/// `create_entries` on the kernel backend, by each write path, gives every entry the outcome
/// `create_entry` one by one gives it, and leaves the same entries; on the exact and LPM
/// tables, the memory backend agrees too.
#[test]
fn batches_agree_with_one_by_one_creates_on_every_write_path() {
    if let Some(why) = common::kernel_unavailable() {
        println!("skipped: {why}");
        return;
    }
    for layout in [ExactTables::Open, ExactTables::Hash] {
        batches_agree_with_one_by_one_creates(layout);
    }
}

fn batches_agree_with_one_by_one_creates(layout: ExactTables) {
    let p = model();
    let x = names(&p);
    let (g, bytes) = common::build_with(
        "suite",
        &p.module,
        p4tc_ebpf::Hook::Tc,
        "object_model_batch",
        &p4tc_ebpf::Options {
            exact_tables: layout,
            ..p4tc_ebpf::Options::default()
        },
    )
    .expect("builds");
    println!("exact tables: {layout:?}");
    let one_by_one = {
        let loaded = p4tc_ebpf::loader::load(&bytes, &g).expect("loads");
        let mut k = KernelBackend::from_loaded(p.clone(), &loaded).expect("backend");
        let mut out = Vec::new();
        for (t, batch) in batch_of(&x) {
            let kinds: Vec<&str> = batch
                .into_iter()
                .map(|s| kind(&k.create_entry(t, s)))
                .collect();
            out.push((kinds, view(&k, t)));
        }
        out
    };
    let mut m = MemoryBackend::new(p.clone(), Arc::new(ManualClock::new())).expect("backend");
    for (i, (t, batch)) in batch_of(&x).into_iter().enumerate().take(2) {
        let kinds: Vec<&str> = m.create_entries(t, batch).iter().map(kind).collect();
        assert_eq!(kinds, one_by_one[i].0, "memory backend, table {i}");
        assert_eq!(view(&m, t), one_by_one[i].1, "memory backend, table {i}");
    }
    for path in [
        WritePath::SyscallProgram,
        WritePath::BatchOp,
        WritePath::PerEntry,
    ] {
        let loaded = p4tc_ebpf::loader::load(&bytes, &g).expect("loads");
        let mut k = KernelBackend::from_loaded(p.clone(), &loaded).expect("backend");
        k.force_write_path(Some(path));
        for (i, (t, batch)) in batch_of(&x).into_iter().enumerate() {
            let results = k.create_entries(t, batch);
            let kinds: Vec<&str> = results.iter().map(kind).collect();
            assert_eq!(kinds, one_by_one[i].0, "{path}, table {i}: {results:?}");
            assert_eq!(view(&k, t), one_by_one[i].1, "{path}, table {i}");
        }
        if path == WritePath::SyscallProgram {
            // The hash tables took the program (else the kernel said why); an open table
            // is written in its slots whatever the path asked.
            assert_eq!(
                k.write_path(x.ex, 1).expect("path"),
                match layout {
                    ExactTables::Open => WritePath::Slots,
                    ExactTables::Hash => WritePath::SyscallProgram,
                },
                "{:?}",
                k.notes()
            );
            assert_eq!(
                k.write_path(x.lpm, 100_000).expect("path"),
                WritePath::BatchOp
            );
            assert_eq!(
                k.write_path(x.lpm, 10).expect("path"),
                WritePath::BatchOp,
                "forced"
            );
        }
        // A later batch continues the allocated priorities (past every one allocated).
        let prios = |k: &KernelBackend| -> Vec<u32> {
            k.dump(x.tern)
                .expect("dump")
                .iter()
                .filter_map(|e| e.spec.priority.map(|p| p.0))
                .collect()
        };
        let before = prios(&k).into_iter().max().unwrap_or(0);
        let more = vec![EntrySpec::new(
            vec![
                KeyMatch::Ternary {
                    value: n(0x0c),
                    mask: n(0xff),
                },
                KeyMatch::Range {
                    low: n(1),
                    high: n(1),
                },
            ],
            None,
        )];
        assert_eq!(kind(&k.create_entries(x.tern, more)[0]), "ok", "{path}");
        assert!(prios(&k).contains(&(before + 1)), "{path}: {:?}", prios(&k));
    }
    // Unforced: the program for hash maps; for a trie, the batch op only for big batches (it
    // lists the trie first).
    let loaded = p4tc_ebpf::loader::load(&bytes, &g).expect("loads");
    let mut k = KernelBackend::from_loaded(p.clone(), &loaded).expect("backend");
    assert_eq!(
        k.write_path(x.tern, 10).expect("path"),
        WritePath::SyscallProgram
    );
    assert_eq!(k.write_path(x.lpm, 10).expect("path"), WritePath::PerEntry);
    assert_eq!(
        k.write_path(x.lpm, 100_000).expect("path"),
        WritePath::BatchOp
    );
}

/// A change made through one backend reaches another process's backend on the same maps
/// (here: a second backend in this process, with its own reader of the events ring): creates
/// one by one and in a batch, and deletes, by the control plane, once each.
#[test]
fn another_backend_sees_this_ones_changes() {
    if let Some(why) = common::kernel_unavailable() {
        println!("skipped: {why}");
        return;
    }
    let p = model();
    let x = names(&p);
    let (g, bytes) = common::build(
        "suite",
        &p.module,
        p4tc_ebpf::Hook::Tc,
        "object_model_events",
    )
    .expect("builds");
    if !p4tc_ebpf::aging::has_aging(&g) {
        println!("skipped: the program has no events ring");
        return;
    }
    let loaded = p4tc_ebpf::loader::load(&bytes, &g).expect("loads");
    let mut writer = KernelBackend::from_loaded(p.clone(), &loaded).expect("backend");
    let mut watcher = KernelBackend::from_loaded(p.clone(), &loaded).expect("backend");
    writer
        .create_entry(x.ex, EntrySpec::new(exact(0xC1), Some(call(x.fwd, &[4]))))
        .expect("create");
    let results = writer.create_entries(
        x.ex,
        vec![
            EntrySpec::new(exact(0xC2), Some(call(x.fwd, &[5]))),
            EntrySpec::new(exact(0xC2), None),
        ],
    );
    assert_eq!(
        results.iter().map(kind).collect::<Vec<_>>(),
        ["ok", "exists"]
    );
    writer
        .delete_entry(x.ex, &exact(0xC1), None)
        .expect("delete");
    let events = watcher.take_events();
    let seen: Vec<String> = events
        .iter()
        .map(|e| match &e.kind {
            p4tc_runtime::EventKind::EntryCreated { entry, by, .. } => {
                format!("created {:?} by {by:?}", entry.key)
            }
            p4tc_runtime::EventKind::EntryDeleted { entry, by, .. } => {
                format!("deleted {:?} by {by:?}", entry.key)
            }
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        seen,
        [
            format!("created {:?} by ControlPlane", exact(0xC1)),
            format!("created {:?} by ControlPlane", exact(0xC2)),
            format!("deleted {:?} by ControlPlane", exact(0xC1)),
        ]
    );
    // With the action's data: the events carry the entry's value.
    for (event, port) in events.iter().zip([4, 5, 4]) {
        match &event.kind {
            p4tc_runtime::EventKind::EntryCreated { table, entry, .. }
            | p4tc_runtime::EventKind::EntryDeleted { table, entry, .. } => {
                assert_eq!(*table, x.ex);
                assert_eq!(entry.action, Some(call(x.fwd, &[port])), "{event:?}");
            }
            other => panic!("{other:?}"),
        }
    }
    // Once: the ring is the one source (the writer queued nothing of its own).
    assert!(watcher.take_events().is_empty());
    assert!(
        writer.take_events().is_empty(),
        "the watcher drained the ring"
    );
    assert_eq!(writer.lost_events(), 0);
}
