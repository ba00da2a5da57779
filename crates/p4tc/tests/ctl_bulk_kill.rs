//! A `p4tc ctl -b` killed with SIGKILL in the middle of a bulk load leaves every map
//! consistent, and a new process sees all that was written: a pipeline with an exact and a
//! ternary table is loaded (pinned, not attached), a file of 60,000 creates (blocks of both
//! tables, interleaved) is applied by a `p4tc ctl -b` that is killed once entries start to
//! appear; then a new `p4tc ctl` dumps both tables: every entry there is one of the file's,
//! complete and correct, the dumps hold as many entries as the maps hold elements, and the
//! ternary table's mask slots are a contiguous prefix in use whose priority bounds (the
//! slot's own and the rest bounds up to it) hold for every element under them. Applying the whole file again creates what is missing (the rest
//! is refused as existing, nothing else), and the tables then hold exactly the file.
//!
//! Needs root, bpffs at /sys/fs/bpf and clang; skips with the reason otherwise.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "common/kernel.rs"]
mod kernel;

use std::collections::BTreeMap;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kernel::P4TC;

const EXACT: u32 = 50_000;
const TERNARY: u32 = 10_000;
/// Ternary masks: one slot each.
const MASKS: [u32; 3] = [0xffff_ff00, 0xffff_f000, 0xffff_0000];

const PROGRAM: &str = r#"
#include <core.p4>
#include <tc/pna.p4>

header ethernet_t {
    bit<48> dstAddr;
    bit<48> srcAddr;
    bit<16> etherType;
}

struct headers_t {
    ethernet_t ethernet;
}

struct meta_t {
}

parser P(packet_in pkt, out headers_t hdr, inout meta_t meta,
         in pna_main_parser_input_metadata_t istd) {
    state start {
        pkt.extract(hdr.ethernet);
        transition accept;
    }
}

control C(inout headers_t hdr, inout meta_t meta, in pna_main_input_metadata_t istd,
          inout pna_main_output_metadata_t ostd) {
    action send(PortId_t port, bit<48> mac) {
        hdr.ethernet.dstAddr = mac;
        send_to_port(port);
    }

    action drop() {
        drop_packet();
    }

    @tc_acl("CRUDPS:RX")
    table exact_t {
        key = {
            hdr.ethernet.srcAddr : exact @name("dst");
        }
        actions = {
            send;
            drop;
        }
        default_action = drop();
        size = 262144;
    }

    @tc_acl("CRUDPS:RX")
    @nummask(8)
    table tern_t {
        key = {
            hdr.ethernet.dstAddr : ternary @name("dst");
        }
        actions = {
            send;
            drop;
        }
        default_action = drop();
        size = 65536;
    }

    apply {
        exact_t.apply();
        tern_t.apply();
    }
}

control D(packet_out pkt, in headers_t hdr, in meta_t meta,
          in pna_main_output_metadata_t ostd) {
    apply {
        pkt.emit(hdr.ethernet);
    }
}

PNA_NIC(P(), C(), D()) main;
"#;

/// What the file says each table holds: key text (as `p4tc ctl` prints it) -> (prio, port,
/// mac).
type Want = BTreeMap<String, (Option<u64>, String, String)>;

/// The bulk file, and what it creates in each table.
fn bulk_file(pipe: &str) -> (String, Want, Want) {
    let mut text = String::new();
    let mut exact = Want::new();
    let mut tern = Want::new();
    let exact_line = |i: u32, text: &mut String, want: &mut Want| {
        let key = 0x0a00_0000u64 + u64::from(i);
        let (port, mac) = (1 + i % 4, 0x0200_0000_0000u64 + u64::from(i));
        text.push_str(&format!(
            "create {pipe}/table/C/exact_t dst {key} action send param port {port} param mac {mac:#x}\n"
        ));
        want.insert(key.to_string(), (None, port.to_string(), mac.to_string()));
    };
    let tern_line = |i: u32, text: &mut String, want: &mut Want| {
        let mask = MASKS[(i % 3) as usize];
        let value = ((i / 3) << 16) & mask;
        let (port, mac) = (1 + i % 4, 0x0400_0000_0000u64 + u64::from(i));
        let prio = u64::from(i) + 1;
        text.push_str(&format!(
            "create {pipe}/table/C/tern_t dst {value:#x}/{mask:#x} prio {prio} action send param port {port} param mac {mac:#x}\n"
        ));
        want.insert(
            format!("{value}&&&{mask:#x}"),
            (Some(prio), port.to_string(), mac.to_string()),
        );
    };
    // Blocks of both tables, so a kill lands in one of several batches.
    for part in 0..2 {
        for i in part * EXACT / 2..(part + 1) * EXACT / 2 {
            exact_line(i, &mut text, &mut exact);
        }
        for i in part * TERNARY / 2..(part + 1) * TERNARY / 2 {
            tern_line(i, &mut text, &mut tern);
        }
    }
    (text, exact, tern)
}

fn p4tc(args: &[&str]) -> std::process::Output {
    Command::new(P4TC).args(args).output().expect("p4tc runs")
}

/// The pipeline, unloaded on drop.
struct Pipeline(String);

impl Drop for Pipeline {
    fn drop(&mut self) {
        let _ = p4tc(&["unload", &self.0]);
    }
}

fn pinned(pipe: &str, map: &str) -> OwnedFd {
    let path = Path::new("/sys/fs/bpf/p4tc").join(pipe).join(map);
    p4tc_ebpf::loader::open_pinned_map(&path).expect("pinned map")
}

/// A table's entries as `p4tc ctl get` (a new process) dumps them: key text -> (prio, port,
/// mac). (The text dump: JSON of 50,000 entries takes a debug build several times longer.)
fn dump(pipe: &str, table: &str) -> Want {
    let out = p4tc(&["ctl", "get", &format!("{pipe}/table/C/{table}")]);
    assert!(
        out.status.success(),
        "dump of {table}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut got = Want::new();
    // `  dst KEY [prio N] action C/send param port P param mac M`
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some(rest) = line.strip_prefix("  dst ") else {
            continue;
        };
        let words: Vec<&str> = rest.split_whitespace().collect();
        let key = words[0].to_string();
        let (prio, at) = if words[1] == "prio" {
            (Some(words[2].parse::<u64>().expect("prio")), 3)
        } else {
            (None, 1)
        };
        assert_eq!(
            words[at..at + 2],
            ["action", "C/send"],
            "{table}: entry line {line}"
        );
        assert_eq!(words.len(), at + 8, "{table}: entry line {line}");
        assert_eq!((words[at + 3], words[at + 6]), ("port", "mac"), "{line}");
        let entry = (prio, words[at + 4].to_string(), words[at + 7].to_string());
        assert!(
            got.insert(key.clone(), entry).is_none(),
            "{key} listed twice"
        );
    }
    got
}

/// The generated program's description of table `name` (as `p4tc load` generated it: the
/// layout of its map).
fn table_spec(source: &Path, name: &str) -> p4tc_ebpf::TableSpec {
    let mut parsed = p4tc_front::parse_file(source, &Default::default()).expect("readable");
    let module = p4tc_front::check(&mut parsed).expect("checks");
    let g = p4tc_ebpf::generate(&module, "killtest", p4tc_ebpf::Hook::Tc).expect("generates");
    g.table(name).expect("the table").clone()
}

/// The dump is consistent with the maps and the file: every entry is the file's (key,
/// priority, action data), as many entries as elements, mask slots in order.
fn check_consistent(pipe: &str, source: &Path, exact: &Want, tern: &Want) -> (usize, usize) {
    let got_exact = dump(pipe, "exact_t");
    let got_tern = dump(pipe, "tern_t");
    for (got, want, table) in [(&got_exact, exact, "exact_t"), (&got_tern, tern, "tern_t")] {
        for (key, entry) in got {
            assert_eq!(want.get(key), Some(entry), "{table}: entry {key}");
        }
        let elements = p4tc_ebpf::table_map::count(pinned(pipe, &format!("C_{table}")).as_fd())
            .expect("count");
        assert_eq!(elements, got.len(), "{table}: one map element per entry");
    }
    // Mask slots: used ones from 0, each element under a used slot, its priority no better
    // than the slot's bound (else the datapath would skip it) nor than the rest bound of its
    // slot and every slot before it (else the datapath would stop before it).
    let masks = pinned(pipe, "C_tern_t_masks");
    let mut slots = Vec::new();
    let mut rests = Vec::new();
    for i in 0..8u32 {
        let v = p4tc_ebpf::sys::map_lookup(masks.as_fd(), &i.to_ne_bytes()).expect("slot");
        let Some(slot) = p4tc_ebpf::entry::MaskSlot::decode(&v) else {
            for j in i + 1..8 {
                let w = p4tc_ebpf::sys::map_lookup(masks.as_fd(), &j.to_ne_bytes()).expect("slot");
                assert_ne!(
                    &w[0..4],
                    &1u32.to_ne_bytes(),
                    "slot {j} used after free slot {i}"
                );
            }
            break;
        };
        slots.push(slot.min_prio);
        rests.push(slot.rest_min);
    }
    let entries = pinned(pipe, "C_tern_t");
    let spec = table_spec(source, "C/tern_t");
    for (k, v) in p4tc_ebpf::table_map::elements(entries.as_fd(), &spec).expect("elements") {
        let slot = u32::from_ne_bytes(k[0..4].try_into().unwrap()) as usize;
        assert!(slot < slots.len(), "an element under unused slot {slot}");
        let prio = u32::from_ne_bytes(v[8..12].try_into().unwrap());
        assert!(
            prio >= slots[slot],
            "slot {slot}'s bound {} is above an element's priority {prio}",
            slots[slot]
        );
        for (i, rest) in rests.iter().enumerate().take(slot + 1) {
            assert!(
                prio >= *rest,
                "slot {i}'s rest bound {rest} is above the priority {prio} of an element under slot {slot}"
            );
        }
    }
    (got_exact.len(), got_tern.len())
}

#[test]
fn a_bulk_load_killed_midway_leaves_consistent_maps() {
    if let Some(why) = kernel::kernel_unavailable() {
        println!("skipped: {why}");
        return;
    }
    let started = Instant::now();
    let pipe = format!("kill{}", std::process::id() % 100_000);
    let dir = std::env::var_os("CARGO_TARGET_TMPDIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join(&pipe);
    std::fs::create_dir_all(&dir).expect("dir");
    let source = dir.join("killtest.p4");
    std::fs::write(&source, PROGRAM).expect("program");
    let _ = p4tc(&["unload", &pipe]);
    let out = p4tc(&["load", source.to_str().unwrap(), "--name", &pipe]);
    assert!(
        out.status.success(),
        "load: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _guard = Pipeline(pipe.clone());
    println!("loaded: {:?}", started.elapsed());
    let (text, exact, tern) = bulk_file(&pipe);
    let file = dir.join("bulk.txt");
    std::fs::write(&file, &text).expect("bulk file");

    // Kill the load once the ternary table's first block is in (the second block of exact
    // entries is then on its way): mask slots and both tables are in play.
    let mut child = Command::new(P4TC)
        .args(["ctl", "-b", file.to_str().unwrap(), &pipe])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("p4tc ctl -b runs");
    let tern_map = pinned(&pipe, "C_tern_t");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if p4tc_ebpf::table_map::count(tern_map.as_fd()).expect("map") > 0 {
            break;
        }
        assert!(
            child.try_wait().expect("wait").is_none(),
            "ctl ended before writing"
        );
        assert!(Instant::now() < deadline, "nothing written in 60 s");
        std::thread::sleep(Duration::from_millis(1));
    }
    // SIGKILL: no handler, no cleanup.
    child.kill().expect("SIGKILL");
    let status = child.wait().expect("reaped");
    assert!(!status.success(), "killed, not finished");
    println!("killed: {:?}", started.elapsed());
    let (n_exact, n_tern) = check_consistent(&pipe, &source, &exact, &tern);
    println!(
        "killed after {} of {EXACT} exact and {} of {TERNARY} ternary entries",
        n_exact, n_tern
    );
    assert!(
        n_exact + n_tern < (EXACT + TERNARY) as usize,
        "killed before the end"
    );

    // The rest of the file: what is there is refused as existing, the rest created.
    println!("checked: {:?}", started.elapsed());
    let out = p4tc(&["ctl", "-b", file.to_str().unwrap(), &pipe]);
    println!("applied again: {:?}", started.elapsed());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let refused: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(
        refused.len(),
        n_exact + n_tern,
        "{}",
        &stderr[..stderr.len().min(2000)]
    );
    assert!(
        refused.iter().all(|l| l.contains("already exists")),
        "{}",
        &stderr[..stderr.len().min(2000)]
    );
    assert_eq!(
        out.status.code(),
        Some(if refused.is_empty() { 0 } else { 1 })
    );
    let (n_exact, n_tern) = check_consistent(&pipe, &source, &exact, &tern);
    assert_eq!((n_exact, n_tern), (EXACT as usize, TERNARY as usize));
    println!("ctl_bulk_kill: {:?}", started.elapsed());
}
