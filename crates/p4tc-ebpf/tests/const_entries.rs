//! An exact table's const entries are found by a switch on the key (gen/const_entries.rs),
//! and the table behaves as one lookup would: const keys run their entry's action with its
//! arguments, other keys are looked up (so entries the control plane adds are found), and the
//! const entries cannot be updated, deleted or created again, so the switch never disagrees
//! with the map.
//!
//! Needs root, BTF and clang; skips with the reason otherwise.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::sync::Arc;

use num_bigint::BigUint;
use p4tc_runtime::{ActionCall, EntrySpec, KeyMatch, PipelineModel, RuntimeError};
use p4tc_testkit::kernel_target::KernelTarget;
use p4tc_testkit::target::Target;

/// The control: `t`, exact on the EtherType, two const entries; a miss drops.
const CONTROL: &str = r#"
control C(inout headers_t hdr, inout meta_t meta, in pna_main_input_metadata_t istd,
          inout pna_main_output_metadata_t ostd) {
    action mark(bit<48> s, PortId_t port) {
        hdr.ethernet.srcAddr = s;
        send_to_port(port);
    }

    action drop() {
        drop_packet();
    }

    table t {
        key = {
            hdr.ethernet.etherType : exact @name("type");
        }
        actions = {
            mark;
            drop;
        }
        default_action = drop();
        const entries = {
            0x0800 : mark(0x0a0000000001, 3);
            0x86dd : mark(0x0a0000000002, 4);
        }
    }

    apply {
        t.apply();
    }
}
"#;

fn model() -> Arc<PipelineModel> {
    common::ethernet_model("const_entries", "consts", CONTROL)
}

/// The port and source address a packet of EtherType `ty` leaves with, or `None` if dropped.
fn send(target: &mut KernelTarget, ty: u16) -> Option<(u32, u64)> {
    let mut packet = vec![0u8; 60];
    packet[..6].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
    packet[12..14].copy_from_slice(&ty.to_be_bytes());
    let d = target.send(0, &packet).expect("send");
    if d.is_drop() {
        return None;
    }
    assert_eq!(d.outputs.len(), 1, "type {ty:#06x}: {d:?}");
    let (port, bytes) = &d.outputs[0];
    let mut src = [0u8; 8];
    src[2..].copy_from_slice(&bytes[6..12]);
    Some((*port, u64::from_be_bytes(src)))
}

#[test]
fn const_entries_switch_agrees_with_the_map() {
    let p = model();
    // The shortcut is there (a change that dropped it would make this test prove nothing).
    let g = p4tc_ebpf::generate(&p.module, "consts", p4tc_ebpf::Hook::Tc).expect("generate");
    assert!(
        g.c.contains("switch (p4tc_ld_be(&t_t_"),
        "the const entries are not switched on:\n{}",
        g.c
    );
    if let Some(why) = common::kernel_unavailable() {
        println!("skipped: {why}");
        return;
    }
    let mut target = KernelTarget::new(p.clone(), p4tc_ebpf::Hook::Tc).expect("kernel target");
    let t = p.table_by_name("t").expect("t");
    let mark = t.action_by_name("mark").expect("mark").handle;
    let n = |v: u64| BigUint::from(v);
    let spec = |ty: u64, s: u64, port: u64| {
        EntrySpec::new(
            vec![KeyMatch::Exact(n(ty))],
            Some(ActionCall {
                action: mark,
                params: vec![n(s), n(port)],
            }),
        )
    };

    // Const keys run their own action and arguments; another key misses (drop).
    assert_eq!(send(&mut target, 0x0800), Some((3, 0x0a00_0000_0001)));
    assert_eq!(send(&mut target, 0x86dd), Some((4, 0x0a00_0000_0002)));
    assert_eq!(send(&mut target, 0x88cc), None);

    // An entry the control plane adds is found by the lookup behind the switch.
    target
        .control()
        .create_entry(t.handle, spec(0x88cc, 0x0a00_0000_0003, 5))
        .expect("create a new key");
    assert_eq!(send(&mut target, 0x88cc), Some((5, 0x0a00_0000_0003)));

    // The const entries stay as the program gave them.
    let update = target
        .control()
        .update_entry(t.handle, spec(0x0800, 0x0bad, 9));
    assert!(
        matches!(update, Err(RuntimeError::Permission { .. })),
        "update of a const entry: {update:?}"
    );
    let delete = target
        .control()
        .delete_entry(t.handle, &[KeyMatch::Exact(n(0x86dd))], None);
    assert!(
        matches!(delete, Err(RuntimeError::Permission { .. })),
        "delete of a const entry: {delete:?}"
    );
    let again = target
        .control()
        .create_entry(t.handle, spec(0x0800, 0x0bad, 9));
    assert!(
        matches!(again, Err(RuntimeError::Exists { .. })),
        "create over a const entry: {again:?}"
    );
    let flushed = target.control().flush(t.handle).expect("flush");
    assert_eq!(flushed, 1, "a flush removes only the control plane's entry");
    assert_eq!(send(&mut target, 0x0800), Some((3, 0x0a00_0000_0001)));
    assert_eq!(send(&mut target, 0x86dd), Some((4, 0x0a00_0000_0002)));
    assert_eq!(send(&mut target, 0x88cc), None);
}
