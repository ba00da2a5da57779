//! LPM tables' values start with the 8-byte prefix head (`Head::Prefix`) and end with compact
//! times: a reload over the pinned maps of an earlier p4tc, whose LPM values had the 32-byte
//! full head or the prefix head with 16 bytes of times, rewrites the entries and the default
//! actions in today's layout, and the datapath and the control plane both read them back.
//!
//! The kernel test needs root, BTF and clang; it skips with the reason otherwise.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::os::fd::AsFd;

use num_bigint::BigUint;
use p4tc_ebpf::backend::KernelBackend;
use p4tc_ebpf::entry::{EntryHead, Head, Times, ValueLayout, FLAG_HAS_ACTION};
use p4tc_ebpf::{Hook, Options};
use p4tc_runtime::{KeyMatch, ObjectModel};

#[test]
fn a_reload_rewrites_earlier_lpm_values_in_todays_layout() {
    if let Some(why) = common::pinning_unavailable() {
        println!("skipped: {why}");
        return;
    }
    // `t`: LPM on the destination MAC; a hit sends to the entry's port, a miss drops.
    let p = common::ethernet_model("lpm_head", "upgrade", &common::forward_control("lpm", 64));
    let (g, bytes) = common::build_with(
        "upgrade",
        &p.module,
        Hook::Tc,
        "lpm_head_upgrade",
        &Options::default(),
    )
    .expect("builds");
    let spec = &g.tables[0];
    assert_eq!(spec.value.head, Head::Prefix);
    // 8-byte head, 4 bytes of port, 8 of times: 20 bytes, where the full head made it 40 and
    // wide times 28.
    assert_eq!(spec.value.size, 20);
    let earlier = spec.value.earlier();
    assert_eq!(
        earlier
            .iter()
            .map(|l| (l.head, l.times, l.size))
            .collect::<Vec<_>>(),
        vec![
            (Head::Full, Times::Wide, 40),
            (Head::Prefix, Times::Wide, 28)
        ]
    );
    for old in &earlier {
        upgrade_from(&p, &g, &bytes, old);
    }
}

/// Pins `spec`'s maps with `old`'s values, reloads over them and reads the entries back.
fn upgrade_from(
    p: &std::sync::Arc<p4tc_runtime::PipelineModel>,
    g: &p4tc_ebpf::Generated,
    bytes: &[u8],
    full: &ValueLayout,
) {
    let bpffs = std::path::Path::new(common::BPFFS);
    let spec = &g.tables[0];
    let id = |name: &str| {
        spec.actions
            .iter()
            .find(|(a, _)| p.module.actions[*a].name == name)
            .map(|(_, id)| *id)
            .expect("action id")
    };
    let (fwd, drop) = (id("fwd"), id("drop"));

    // The maps as an earlier p4tc pinned them: values in `full`'s layout, the control
    // plane's entries tagged with their prefix length + 1.
    let created = |i: usize| (100 + i as u64) << p4tc_ebpf::entry::COMPACT_TIME_SHIFT;
    let dir = bpffs.join(format!(
        "p4tc-lpm-head-{}-{}",
        std::process::id(),
        full.size
    ));
    std::fs::create_dir_all(&dir).expect("pin dir");
    let key_size = spec.key.size;
    let key = |dst: u64, len: u32| {
        let mut k = len.to_ne_bytes().to_vec();
        k.extend_from_slice(&dst.to_be_bytes()[2..]);
        k.resize(key_size as usize, 0);
        k
    };
    let routes: [(u64, u32, u32); 3] = [
        (0x0a00_0000_0000, 8, 11),
        (0x0a0b_0000_0000, 16, 12),
        (0x0a0b_0c0d_0e0f, 48, 13),
    ];
    let trie = p4tc_ebpf::sys::map_create(
        "old_t",
        p4tc_ebpf::sys::MAP_TYPE_LPM_TRIE,
        key_size,
        full.size,
        64,
        p4tc_ebpf::sys::BPF_F_NO_PREALLOC,
    )
    .expect("old trie");
    for (i, &(dst, len, port)) in routes.iter().enumerate() {
        let head = EntryHead {
            action: fwd,
            permissions: spec.permissions,
            flags: FLAG_HAS_ACTION,
            tag: len + 1,
            // Whole units of today's compact times, so that they come over exactly.
            created_ns: created(i),
            ..EntryHead::default()
        };
        let v = full.encode(&head, &port.to_be_bytes()).expect("encodes");
        p4tc_ebpf::sys::map_update(trie.as_fd(), &key(dst, len), &v, 0).expect("old entry");
    }
    let defaults = p4tc_ebpf::sys::map_create(
        "old_t_def",
        p4tc_ebpf::sys::MAP_TYPE_ARRAY,
        4,
        full.size,
        2,
        0,
    )
    .expect("old defaults");
    let miss = EntryHead {
        action: drop,
        flags: FLAG_HAS_ACTION,
        permissions: spec.permissions,
        ..EntryHead::default()
    };
    let v = full.encode(&miss, &[]).expect("encodes");
    p4tc_ebpf::sys::map_update(defaults.as_fd(), &1u32.to_ne_bytes(), &v, 0).expect("old miss");
    for (fd, name) in [(trie, &spec.map), (defaults, &spec.defaults_map)] {
        aya::maps::MapData::from_fd(fd)
            .expect("map")
            .pin(dir.join(name))
            .expect("pin");
    }

    let (loaded, copied) = common::load_and_restore(bytes, g, &dir);
    assert!(
        copied
            .iter()
            .any(|(m, n)| *m == spec.map && *n == routes.len()),
        "{copied:?}"
    );
    assert!(
        copied.iter().any(|(m, _)| *m == spec.defaults_map),
        "{copied:?}"
    );

    // The datapath: the longest prefix wins; outside them all, the default drops.
    let prog = loaded.program_fd().expect("program");
    for (dst, want) in [
        (0x0a0b_0c0d_0e0f, common::TC_ACT_REDIRECT),
        (0x0a0b_ffff_0000, common::TC_ACT_REDIRECT),
        (0x0aff_0000_0000, common::TC_ACT_REDIRECT),
        (0x0b00_0000_0000, common::TC_ACT_SHOT),
    ] {
        let run = p4tc_ebpf::sys::test_run(prog.as_fd(), &common::frame_to(dst), 1).expect("run");
        assert_eq!(run.retval, want, "{dst:x}");
    }

    // The control plane: each entry with its own prefix, port and creation time.
    let (table, _) = common::forward_handles(p);
    let k = KernelBackend::from_loaded(p.clone(), &loaded).expect("backend");
    let mut got: Vec<(u64, u32, u64, std::time::Duration)> = k
        .dump(table)
        .expect("dump")
        .into_iter()
        .map(|e| {
            let (dst, len) = match &e.spec.key[0] {
                KeyMatch::Lpm { value, prefix_len } => {
                    (u64::try_from(value).expect("48 bits"), *prefix_len)
                }
                other => panic!("{other:?}"),
            };
            let port = u64::try_from(&e.spec.action.expect("action").params[0]).expect("port");
            (dst, len, port, e.created_at)
        })
        .collect();
    got.sort_unstable();
    let want: Vec<(u64, u32, u64, std::time::Duration)> = routes
        .iter()
        .enumerate()
        .map(|(i, &(d, l, p))| {
            let at = std::time::Duration::from_nanos(created(i));
            (d, l, u64::from(p), at)
        })
        .collect();
    assert_eq!(got, want);
    let read = k
        .get_entry(
            table,
            &[KeyMatch::Lpm {
                value: BigUint::from(0x0a0b_0000_0000u64),
                prefix_len: 16,
            }],
            None,
        )
        .expect("the /16 reads back");
    assert_eq!(
        u64::try_from(&read.spec.action.expect("action").params[0]).expect("port"),
        12
    );
    // The default miss action came over too.
    let miss_action = k
        .default_action(table, p4tc_runtime::DefaultKind::Miss)
        .expect("default")
        .expect("an action");
    assert_eq!(p.module.actions[miss_action.action].name, "drop");
    // A key the trie covers but does not hold is not an entry.
    assert!(k
        .get_entry(
            table,
            &[KeyMatch::Lpm {
                value: BigUint::from(0x0a0b_0c00_0000u64),
                prefix_len: 24,
            }],
            None,
        )
        .is_err());
}
