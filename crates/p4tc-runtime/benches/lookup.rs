//! MemoryBackend's datapath lookups and control-plane inserts.
//!
//! - exact lookups with 1 and 100,000 entries (uniform random keys, a 12-byte key);
//! - LPM lookups with 10,000 prefixes of lengths 8 to 32;
//! - tuple-space lookups over 16 masks;
//! - 1,000,000 exact entries created through `ObjectModel::create_entry`.

#![allow(missing_docs)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use p4tc_runtime::{
    ActionCall, Datapath, EntrySpec, KeyMatch, MemoryBackend, ObjectModel, PipelineModel,
    SystemClock,
};
use support::{action, key, program, table, u};

/// Iterations timed together by [`fastest`].
const CHUNK: u64 = 2000;

/// Times `iters` calls of `f` in chunks of [`CHUNK`] and charges every iteration the fastest
/// chunk's rate. The machines this runs on are shared (others compile on the same cores), and
/// a wall-clock sample then measures the scheduler; the fastest chunk is the code's own cost.
fn fastest(iters: u64, mut f: impl FnMut()) -> Duration {
    let mut best = f64::MAX;
    let mut done = 0;
    while done < iters {
        let n = CHUNK.min(iters - done);
        let start = Instant::now();
        for _ in 0..n {
            f();
        }
        best = best.min(start.elapsed().as_secs_f64() / n as f64);
        done += n;
    }
    Duration::from_secs_f64(best * iters as f64)
}

/// The CPU time this thread has used (user and system), from `/proc/thread-self/stat` in
/// USER_HZ (100 Hz) ticks: for runs of seconds, a measure that other processes on a shared
/// machine do not inflate. `None` where there is no such file.
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the name.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

/// Probes per lookup benchmark (a power of two).
const PROBES: usize = 4096;

/// A small deterministic generator (xorshift64*), so runs compare.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn model() -> Arc<PipelineModel> {
    program(
        r#"
    action set(bit<16> port, bit<48> mac) { meta.b = port; hdr.eth.dst = mac; }
    table flows {
        key = { hdr.ip.src : exact; hdr.ip.dst : exact; meta.a : exact; meta.b : exact; }
        actions = { set; }
        size = 2000000;
    }
    table routes {
        key = { hdr.ip.dst : lpm; }
        actions = { set; }
        size = 20000;
    }
    table acl {
        key = { hdr.ip.src : ternary; hdr.ip.dst : ternary; meta.a : ternary; }
        actions = { set; }
        size = 20000;
    }
"#,
        "        flows.apply(); routes.apply(); acl.apply();",
    )
}

fn backend(model: &Arc<PipelineModel>) -> MemoryBackend {
    MemoryBackend::new(Arc::clone(model), Arc::new(SystemClock::new())).expect("backend")
}

fn set(model: &PipelineModel, t: &str, port: u128) -> Option<ActionCall> {
    Some(ActionCall {
        action: action(model, t, "set"),
        params: vec![u(port & 0xffff), u(0x0200_0000_0000 | port)],
    })
}

fn exact_spec(model: &PipelineModel, f: [u64; 4]) -> EntrySpec {
    EntrySpec::new(
        f.iter().map(|&v| KeyMatch::Exact(u(v.into()))).collect(),
        set(model, "flows", f[0].into()),
    )
}

fn flow_fields(rng: &mut Rng) -> [u64; 4] {
    let r = rng.next();
    let s = rng.next();
    [r >> 32, r & 0xffff_ffff, s >> 48, (s >> 32) & 0xffff]
}

fn bench_exact(c: &mut Criterion) {
    let model = model();
    let flows = table(&model, "flows");
    let mut group = c.benchmark_group("exact");
    group.throughput(Throughput::Elements(1));
    for n in [1usize, 100_000] {
        let mut b = backend(&model);
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut keys = Vec::with_capacity(n);
        while keys.len() < n {
            let f = flow_fields(&mut rng);
            if b.create_entry(flows, exact_spec(&model, f)).is_ok() {
                keys.push(key(&model, "flows", &f.map(u128::from)));
            }
        }
        // Probe the entries in a random order (4096 probes, one flat buffer, as a datapath
        // builds its key in one place), so caches see what a busy table gives them.
        let size = keys[0].len();
        let probes: Vec<u8> = (0..PROBES)
            .flat_map(|_| keys[rng.next() as usize % n].clone())
            .collect();
        let mut i = 0;
        group.bench_function(format!("hit_{n}"), |bench| {
            bench.iter_custom(|iters| {
                fastest(iters, || {
                    i = (i + 1) & (PROBES - 1);
                    let l = b.lookup(flows, black_box(&probes[i * size..(i + 1) * size]));
                    black_box(l.params.len());
                })
            })
        });
        // What a packet pays: the aging check, then the lookup (with its clock read).
        group.bench_function(format!("expire_and_hit_{n}"), |bench| {
            bench.iter_custom(|iters| {
                fastest(iters, || {
                    i = (i + 1) & (PROBES - 1);
                    b.expire();
                    let l = b.lookup(flows, black_box(&probes[i * size..(i + 1) * size]));
                    black_box(l.params.len());
                })
            })
        });
        let miss = key(&model, "flows", &[1, 2, 3, 4]);
        group.bench_function(format!("miss_{n}"), |bench| {
            bench.iter_custom(|iters| {
                fastest(iters, || {
                    black_box(b.lookup(flows, black_box(&miss)).params.len());
                })
            })
        });
    }
    group.finish();
}

fn bench_lpm(c: &mut Criterion) {
    let model = model();
    let routes = table(&model, "routes");
    let mut b = backend(&model);
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut addrs = Vec::new();
    let mut made = 0;
    while made < 10_000 {
        let len = 8 + (rng.next() % 25) as u32;
        let addr = rng.next() as u32;
        let value = addr & (u32::MAX << (32 - len));
        let spec = EntrySpec::new(
            vec![KeyMatch::Lpm {
                value: u(value.into()),
                prefix_len: len,
            }],
            set(&model, "routes", made),
        );
        if b.create_entry(routes, spec).is_ok() {
            made += 1;
            addrs.push(addr);
        }
    }
    let keys: Vec<Vec<u8>> = (0..4096)
        .map(|i| {
            // Half the lookups inside a prefix, half anywhere.
            let a = if i % 2 == 0 {
                addrs[rng.next() as usize % addrs.len()]
            } else {
                rng.next() as u32
            };
            key(&model, "routes", &[a.into()])
        })
        .collect();
    let mut group = c.benchmark_group("lpm");
    group.throughput(Throughput::Elements(1));
    let mut i = 0;
    group.bench_function("10000_prefixes", |bench| {
        bench.iter_custom(|iters| {
            fastest(iters, || {
                i = (i + 1) & 4095;
                black_box(b.lookup(routes, black_box(&keys[i])).params.len());
            })
        })
    });
    group.finish();
}

fn bench_ternary(c: &mut Criterion) {
    let model = model();
    let acl = table(&model, "acl");
    let mut b = backend(&model);
    let mut rng = Rng(0x0fed_cba9_8765_4321);
    // 16 masks: 4 source prefix lengths x 4 destination ones, 64 entries each.
    let lens = [8u32, 16, 24, 32];
    let mut made = 0u128;
    let mut samples = Vec::new();
    for &ls in &lens {
        for &ld in &lens {
            for _ in 0..64 {
                let (s, d) = (rng.next() as u32, rng.next() as u32);
                let (ms, md) = (u32::MAX << (32 - ls), u32::MAX << (32 - ld));
                let spec = EntrySpec::new(
                    vec![
                        KeyMatch::Ternary {
                            value: u((s & ms).into()),
                            mask: u(ms.into()),
                        },
                        KeyMatch::Ternary {
                            value: u((d & md).into()),
                            mask: u(md.into()),
                        },
                        KeyMatch::Any,
                    ],
                    set(&model, "acl", made),
                );
                if b.create_entry(acl, spec).is_ok() {
                    made += 1;
                    samples.push((s, d));
                }
            }
        }
    }
    let keys: Vec<Vec<u8>> = (0..4096)
        .map(|i| {
            let (s, d) = if i % 2 == 0 {
                samples[rng.next() as usize % samples.len()]
            } else {
                (rng.next() as u32, rng.next() as u32)
            };
            key(&model, "acl", &[s.into(), d.into(), 80])
        })
        .collect();
    let mut group = c.benchmark_group("ternary");
    group.throughput(Throughput::Elements(1));
    let mut i = 0;
    group.bench_function("16_masks", |bench| {
        bench.iter_custom(|iters| {
            fastest(iters, || {
                i = (i + 1) & 4095;
                black_box(b.lookup(acl, black_box(&keys[i])).params.len());
            })
        })
    });
    group.finish();
}

fn bench_insert(c: &mut Criterion) {
    let model = model();
    let flows = table(&model, "flows");
    const N: usize = 1_000_000;
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    let specs: Vec<EntrySpec> = (0..N)
        .map(|_| exact_spec(&model, flow_fields(&mut rng)))
        .collect();
    let mut group = c.benchmark_group("insert");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(N as u64));
    group.bench_function("exact_1000000", |bench| {
        bench.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let mut b = backend(&model);
                let batch = specs.clone();
                let (start, cpu) = (Instant::now(), thread_cpu());
                for spec in batch {
                    let _ = b.create_entry(flows, spec);
                }
                // CPU time where the system gives it (see `thread_cpu`), else wall time.
                total += match (cpu, thread_cpu()) {
                    (Some(a), Some(b)) => b.saturating_sub(a),
                    _ => start.elapsed(),
                };
                drop(black_box(b));
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, bench_exact, bench_lpm, bench_ternary, bench_insert);
criterion_main!(benches);
