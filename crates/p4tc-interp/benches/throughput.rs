//! Interpreter throughput on examples/simple_l3 with `p4tc_runtime::MemoryBackend`: every
//! packet hits, with 1 entry and with 100,000 entries (packets spread uniformly over them).
//! Besides criterion's report it prints packets per second (the fastest of several rounds: the
//! machines this runs on are shared).

#![allow(missing_docs, clippy::print_stdout)]

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use num_bigint::BigUint;
use p4tc_interp::{Interpreter, Verdict};
use p4tc_ir::ir::Module;
use p4tc_runtime::{
    ActionCall, EntrySpec, KeyMatch, ManualClock, MemoryBackend, ObjectModel, PipelineModel,
};

/// simple_l3 with room for 131,072 entries (the example's table holds 1,024).
fn load() -> Arc<Module> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/simple_l3/simple_l3.p4");
    let text = std::fs::read_to_string(path)
        .expect("read simple_l3")
        .replace("#define NH_TABLE_SIZE 1024", "#define NH_TABLE_SIZE 131072");
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || {
            let mut parsed = p4tc_front::parse_source("simple_l3.p4", &text, &Default::default());
            let m = p4tc_front::check(&mut parsed).expect("simple_l3 checks");
            Arc::new(m)
        })
        .expect("thread")
        .join()
        .expect("front-end")
}

fn packet(dst: u32) -> Vec<u8> {
    let mut p = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00];
    p.extend_from_slice(&[0x45, 0, 0, 46, 0, 1, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1]);
    p.extend_from_slice(&dst.to_be_bytes());
    p.extend_from_slice(&[0u8; 26]);
    p
}

fn setup(m: &Arc<Module>, entries: u32) -> MemoryBackend {
    let t = m
        .tables
        .iter()
        .find(|(_, t)| t.name == "nh_table")
        .map(|(h, _)| h)
        .unwrap();
    let a = m
        .actions
        .iter()
        .find(|(_, a)| a.name == "send_nh")
        .map(|(h, _)| h)
        .unwrap();
    let model = PipelineModel::new(Arc::clone(m), "simple_l3").unwrap();
    let mut backend = MemoryBackend::new(Arc::new(model), Arc::new(ManualClock::new())).unwrap();
    for i in 0..entries {
        let spec = EntrySpec::new(
            vec![KeyMatch::Exact(BigUint::from(0x0b00_0000 + i))],
            Some(ActionCall {
                action: a,
                params: vec![
                    BigUint::from(1 + i % 8),
                    BigUint::from(0x0200_0000_00aa_u64),
                    BigUint::from(0x0200_0000_00bb_u64),
                ],
            }),
        );
        backend.create_entry(t, spec).unwrap();
    }
    backend
}

/// Packets aimed uniformly at the entries (xorshift, fixed seed).
fn packets(entries: u32, n: usize) -> Vec<Vec<u8>> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            packet(0x0b00_0000 + (x % u64::from(entries)) as u32)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let m = load();
    for entries in [1u32, 100_000] {
        let mut backend = setup(&m, entries);
        let mut interp = Interpreter::new(Arc::clone(&m), 0).unwrap();
        let pkts = packets(entries, 4096);
        for p in &pkts {
            assert!(matches!(
                interp.process(&mut backend, p, 1).verdict,
                Verdict::Send(_)
            ));
        }
        // Our own figure: the fastest of 20 rounds over the packet set.
        let mut best = f64::MAX;
        for _ in 0..20 {
            let start = Instant::now();
            for p in &pkts {
                black_box(interp.process(&mut backend, p, 1).verdict);
            }
            best = best.min(start.elapsed().as_secs_f64() / pkts.len() as f64);
        }
        println!(
            "simple_l3, {entries} entries: {:.0} packets/s ({:.0} ns/packet)",
            1.0 / best,
            best * 1e9
        );
        let mut group = c.benchmark_group("simple_l3");
        group.throughput(Throughput::Elements(1));
        let mut i = 0usize;
        group.bench_function(format!("hit_{entries}_entries"), |b| {
            b.iter(|| {
                i = (i + 1) % pkts.len();
                black_box(interp.process(&mut backend, &pkts[i], 1).verdict)
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
