//! The control plane's write paths side by side: 1,000,000 creates into an exact, an LPM and a
//! ternary table (`bulk.p4`, 1,048,576 entries each), on one core, by each path a batch may
//! take ([`WritePath`]), and by `create_entry` one at a time (what every create cost before
//! batches). Each measurement gets a freshly loaded program (empty maps). Then the same
//! million as a bulk file through `p4tc ctl`'s executor (parse + run).
//!
//! `cargo bench -p p4tc-ebpf --bench bulk` (root, BTF, clang; else it says why and stops).
//! `P4TC_BULK_ENTRIES=N` changes the count.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use num_bigint::BigUint;
use p4tc_ebpf::backend::KernelBackend;
use p4tc_ebpf::bulk::WritePath;
use p4tc_runtime::{ActionCall, EntrySpec, KeyMatch, ObjectModel, PipelineModel};

/// Ternary masks (a tuple-space table costs a map lookup per mask per packet; the write path
/// does not care).
const MASKS: [u64; 4] = [0xffff_ffff, 0xffff_fffc, 0xffff_fff0, 0xffff_ffc0];

fn entries(
    kind: &str,
    n: u32,
    send: p4tc_ir::arena::Handle<p4tc_ir::ir::Action>,
) -> Vec<EntrySpec> {
    (0..n)
        .map(|i| {
            let key = match kind {
                "exact" => vec![KeyMatch::Exact(BigUint::from(0x0a00_0000u32 + i))],
                // Half /24, half /32 prefixes, all distinct.
                "lpm" => vec![KeyMatch::Lpm {
                    value: BigUint::from(((i / 2) << 8) | (i % 2)),
                    prefix_len: if i % 2 == 0 { 24 } else { 32 },
                }],
                _ => vec![KeyMatch::Ternary {
                    value: BigUint::from((i / 4) << 8),
                    mask: BigUint::from(MASKS[(i % 4) as usize]),
                }],
            };
            EntrySpec::new(
                key,
                Some(ActionCall {
                    action: send,
                    params: vec![
                        BigUint::from(1 + i % 4),
                        BigUint::from(0x0200_0000_0000u64 + u64::from(i)),
                    ],
                }),
            )
        })
        .collect()
}

fn rate(n: usize, d: Duration) -> String {
    format!("{:.2}M/s", n as f64 / d.as_secs_f64() / 1e6)
}

fn main() {
    if let Some(why) = common::kernel_unavailable() {
        println!("skipped: {why}");
        return;
    }
    let n: u32 = std::env::var("P4TC_BULK_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/bulk.p4");
    let module = Arc::new(common::module_of(&source));
    let model = Arc::new(PipelineModel::new(module, "bulk").expect("model"));
    let (g, bytes) =
        common::build("bulk", &model.module, p4tc_ebpf::Hook::Tc, "bench_bulk").expect("builds");
    // The same program with its exact table in a kernel hash map, as before open addressing
    // (and as tables the datapath adds entries to still are).
    let (hash_g, hash_bytes) = common::build_with(
        "bulk",
        &model.module,
        p4tc_ebpf::Hook::Tc,
        "bench_bulk",
        &p4tc_ebpf::Options {
            exact_tables: p4tc_ebpf::ExactTables::Hash,
            ..p4tc_ebpf::Options::default()
        },
    )
    .expect("builds");
    let table = |name: &str| model.table_by_name(name).expect(name).handle;
    let send = model
        .table_by_name("exact_t")
        .and_then(|t| t.action_by_name("send"))
        .expect("send")
        .handle;
    println!(
        "{n} creates per run, one core, a fresh program per run; entries/s (higher is better)"
    );
    println!("batch paths: the whole create_entries call (its writing system calls alone)");
    println!(
        "{:<8} {:<23} {:>17} {:>21} {:>21} {:>21} {:>21} {:>9}",
        "table",
        "map",
        "create_entry loop",
        "per-entry syscall",
        "batch op",
        "syscall program",
        "mapped slots",
        "best/loop"
    );
    // `P4TC_BULK_ONLY=file`: the bulk file alone (for profiling it).
    let file_only = std::env::var("P4TC_BULK_ONLY").is_ok_and(|v| v == "file");
    for (kind, name, map, open) in [
        ("exact", "exact_t", "open addressing", true),
        ("exact", "exact_t", "hash, preallocated", false),
        ("lpm", "lpm_t", "LPM trie, not prealloc", false),
        ("ternary", "tern_t", "hash, preallocated", false),
    ] {
        let (g, bytes) = if open {
            (&g, &bytes)
        } else {
            (&hash_g, &hash_bytes)
        };
        if file_only {
            break;
        }
        let h = table(name);
        let specs = entries(kind, n, send);
        let mut cells = Vec::new();
        let mut rates = Vec::new();
        let mut notes = Vec::new();
        // One create_entry per entry: a tuple-space create walks the table, so a million
        // of them is quadratic; not run for ternary.
        let runs: [Option<WritePath>; 5] = [
            None,
            Some(WritePath::PerEntry),
            Some(WritePath::BatchOp),
            Some(WritePath::SyscallProgram),
            Some(WritePath::Slots),
        ];
        for path in runs {
            if path.is_none() && kind == "ternary" {
                cells.push("(quadratic)".to_string());
                continue;
            }
            if path == Some(WritePath::SyscallProgram) && kind == "lpm" {
                cells.push("n/a (trie)".to_string());
                continue;
            }
            // An open table takes its slots whatever the path asked; no other table can.
            if path.is_some() && open != (path == Some(WritePath::Slots)) {
                cells.push("-".to_string());
                continue;
            }
            let loaded = p4tc_ebpf::loader::load(bytes, g).expect("loads");
            let mut k = KernelBackend::from_loaded(model.clone(), &loaded).expect("backend");
            k.force_write_path(path);
            let batch = specs.clone();
            let started = Instant::now();
            let ok = match path {
                None => batch
                    .into_iter()
                    .filter(|s| k.create_entry(h, s.clone()).is_ok())
                    .count(),
                Some(_) => k
                    .create_entries(h, batch)
                    .iter()
                    .filter(|r| r.is_ok())
                    .count(),
            };
            let took = started.elapsed();
            assert_eq!(ok, n as usize, "{kind} {path:?}: every entry is created");
            if let Some(p) = path {
                let taken = k.write_path(h, n as usize).expect("path");
                assert_eq!(
                    taken,
                    p,
                    "{kind}: the path asked for was taken ({:?})",
                    k.notes()
                );
            }
            if k.lost_events() > 0 {
                notes.push(format!(
                    "{}: {} of {n} create events lost (the ring is full: nobody reads it here)",
                    path.map_or("create_entry".into(), |p| p.to_string()),
                    k.lost_events()
                ));
            }
            rates.push(n as f64 / took.as_secs_f64());
            cells.push(match path {
                // The whole call, and (in brackets) its system calls alone.
                Some(_) => format!(
                    "{} ({})",
                    rate(n as usize, took),
                    rate(n as usize, k.last_batch().write)
                ),
                None => rate(n as usize, took),
            });
        }
        let best = rates.iter().cloned().fold(0.0, f64::max);
        let ratio = if kind == "ternary" {
            "-".to_string()
        } else {
            format!("{:.1}x", best / rates[0])
        };
        println!(
            "{:<8} {:<23} {:>17} {:>21} {:>21} {:>21} {:>21} {:>9}",
            kind, map, cells[0], cells[1], cells[2], cells[3], cells[4], ratio
        );
        for note in notes {
            println!("         note: {note}");
        }
    }

    // The same million for the exact table as `p4tc ctl -b` reads it: text lines, parsed and
    // run by the command language's executor (runs of creates become batches).
    let mut text = String::with_capacity(n as usize * 110);
    for i in 0..n {
        let ip = 0x0a00_0000u32 + i;
        text.push_str(&format!(
            "create bulk/table/C/exact_t dst {ip} action send param port {} param mac 0x{:012x}\n",
            1 + i % 4,
            0x0200_0000_0000u64 + u64::from(i)
        ));
    }
    let loaded = p4tc_ebpf::loader::load(&bytes, &g).expect("loads");
    let mut k = KernelBackend::from_loaded(model.clone(), &loaded).expect("backend");
    let started = Instant::now();
    let commands = p4tc_runtime::ctl::parse_file(&text, &model, &p4tc_runtime::ctl::numbers_only)
        .expect("parses");
    let parsed = started.elapsed();
    // As `p4tc ctl -b` runs them (text output: no messages for creates that succeed).
    let results = p4tc_runtime::ctl::execute_all_owned(
        &mut k,
        &model,
        commands,
        Duration::ZERO,
        true,
        &mut |_| {},
    );
    let total = started.elapsed();
    assert!(results.iter().all(|(_, r)| r.is_ok()), "every line applies");
    println!(
        "bulk file, exact table ({} bytes): parse {} ({:?}), parse + apply {} ({:?}) by {}",
        text.len(),
        rate(n as usize, parsed),
        parsed,
        rate(n as usize, total),
        total,
        k.write_path(table("exact_t"), n as usize).expect("path")
    );
    // Issue #6's goal, and P4TC's published figure, beside the end-to-end rate.
    println!(
        "  end to end {} against the goal 2.00M/s ({:.2}x) and P4TC's published 0.64M/s per core ({:.2}x)",
        rate(n as usize, total),
        n as f64 / total.as_secs_f64() / 2e6,
        n as f64 / total.as_secs_f64() / 641e3
    );
    let b = k.last_batch();
    println!(
        "  of which the backend's call: check + encode {:?}, system calls {:?} ({}), whole call {:?}",
        b.prepare,
        b.write,
        rate(n as usize, b.write),
        b.total
    );
    // What is left: the executor's own work (grouping the creates into one batch, results),
    // and freeing what parsing made.
    println!(
        "  and outside it (executor, freeing the parsed commands): {:?}",
        total.saturating_sub(parsed).saturating_sub(b.total)
    );
}
