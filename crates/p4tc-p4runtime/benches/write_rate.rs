//! Write throughput of the P4Runtime server: Write requests of 1,000 INSERTs each into an
//! exact table (kinds.p4's `exact_t`), over gRPC on loopback, through the in-memory object
//! model and (as root with clang and bpffs) the kernel's BPF maps, one request at a time and
//! four in flight (as a controller pipelines them). Prints entries per second for inserts
//! and deletes, each beside the 500K/s goal.
//!
//! `cargo bench -p p4tc-p4runtime --bench write_rate` (set `P4TC_BENCH_BATCHES` for more
//! than the default 50 requests a round).
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use p4runtime_proto::p4::v1 as p4v1;
use p4tc_ebpf::backend::KernelBackend;
use p4tc_ir::arena::Handle;
use p4tc_ir::ir;
use p4tc_p4runtime::server::{self, Backend, Code, Deployer, Failure, MemoryDeployer, Prepared};
use p4tc_runtime::{Event, KeyMatch, MeterConfig, ObjectModel, Priority, RuntimeError};
use p4v1::update::Type::{Delete, Insert};
use p4v1::write_request::Atomicity;

// The allocator `p4tc serve` runs with (the p4tc binary's), so the rate is the server's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const GOAL: f64 = 500_000.0;
const BATCH: usize = 1000;
const ROUNDS: usize = 3;

/// A program loaded in this process (not attached), its maps as the object model.
struct KernelBench {
    backend: KernelBackend,
    _loaded: p4tc_ebpf::loader::Loaded,
}

impl Backend for KernelBench {
    fn objects(&mut self) -> &mut dyn ObjectModel {
        &mut self.backend
    }
    fn objects_ref(&self) -> &dyn ObjectModel {
        &self.backend
    }
    fn now(&self) -> Duration {
        Duration::from_nanos(p4tc_ebpf::sys::monotonic_ns())
    }
    fn poll(&mut self) -> Vec<Event> {
        self.backend.take_events()
    }
    fn set_direct_meter(
        &mut self,
        table: Handle<ir::Table>,
        key: &[KeyMatch],
        priority: Option<Priority>,
        config: MeterConfig,
    ) -> Result<(), RuntimeError> {
        self.backend.set_direct_meter(table, key, priority, config)
    }
    fn dataplane_atomic(&self) -> bool {
        false
    }
    fn describe(&self) -> String {
        "kernel maps (bench)".into()
    }
}

struct KernelDeployer;

impl Deployer for KernelDeployer {
    fn verify(&self, device_config: &[u8]) -> Result<Prepared, Failure> {
        server::pipeline::prepare(device_config)
    }
    fn commit(&self, prepared: &Prepared, _keep: bool) -> Result<Box<dyn Backend>, Failure> {
        let internal = |e: String| Failure::new(Code::Internal, e);
        let g = p4tc_ebpf::generate(&prepared.model.module, &prepared.name, p4tc_ebpf::Hook::Tc)
            .map_err(|e| internal(format!("{e:?}")))?;
        let dir = std::env::temp_dir().join(format!("p4tc-bench-write-{}", std::process::id()));
        g.write_to(&dir, &prepared.name)
            .map_err(|e| internal(e.to_string()))?;
        let obj =
            p4tc_ebpf::clang::compile(&dir, &prepared.name).map_err(|e| internal(e.to_string()))?;
        let bytes = std::fs::read(obj).map_err(|e| internal(e.to_string()))?;
        let _ = std::fs::remove_dir_all(&dir);
        let loaded = p4tc_ebpf::loader::load(&bytes, &g).map_err(|e| internal(e.to_string()))?;
        let backend = KernelBackend::from_loaded(Arc::clone(&prepared.model), &loaded)
            .map_err(|e| internal(e.to_string()))?;
        Ok(Box::new(KernelBench {
            backend,
            _loaded: loaded,
        }))
    }
}

fn kernel_unavailable() -> Option<&'static str> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let root = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(2))
        == Some("0");
    if !root {
        return Some("not root");
    }
    if !p4tc_ebpf::clang::available() {
        return Some("no clang");
    }
    None
}

/// Sends `requests` with up to `in_flight` of them outstanding; entries per second.
async fn timed(c: &Controller, requests: Vec<Vec<p4v1::Update>>, in_flight: usize) -> f64 {
    let entries: usize = requests.iter().map(Vec::len).sum();
    let started = Instant::now();
    let mut running = tokio::task::JoinSet::new();
    for updates in requests {
        if running.len() >= in_flight {
            running.join_next().await.expect("a write").expect("joins");
        }
        let mut client = c.client.clone();
        let election = c.election;
        running.spawn(async move {
            client
                .write(p4v1::WriteRequest {
                    device_id: 1,
                    election_id: Some(uint128(election)),
                    updates,
                    atomicity: Atomicity::ContinueOnError as i32,
                    ..Default::default()
                })
                .await
                .expect("write succeeds");
        });
    }
    while let Some(r) = running.join_next().await {
        r.expect("joins");
    }
    entries as f64 / started.elapsed().as_secs_f64()
}

/// Median insert and delete rates (entries/s) of `ROUNDS` rounds of `batches` requests,
/// `in_flight` at a time.
async fn measure(deployer: impl Deployer, batches: usize, in_flight: usize) -> (f64, f64) {
    let server = start(deployer).await;
    let (mut c, _) = Controller::connect(server.addr, 1).await;
    let config = pipeline(&kinds_p4());
    let info = config.p4info.clone().expect("p4info");
    c.set_pipeline(config).await;
    let ids = Ids(&info);
    let t = ids.table("exact_t");
    let a = ids.action("fwd_counted");
    let requests = |ty: p4v1::update::Type| -> Vec<Vec<p4v1::Update>> {
        (0..batches)
            .map(|b| {
                (0..BATCH)
                    .map(|i| {
                        let key = ((b * BATCH + i) as u32 + 1).to_be_bytes();
                        update(ty, entry(t, exact(&key), a, &[&[1]], 0))
                    })
                    .collect()
            })
            .collect()
    };
    let mut insert_rates = Vec::new();
    let mut delete_rates = Vec::new();
    for _ in 0..ROUNDS {
        // Built before the clock starts: the client's own work is not the server's rate.
        let (inserts, deletes) = (requests(Insert), requests(Delete));
        insert_rates.push(timed(&c, inserts, in_flight).await);
        delete_rates.push(timed(&c, deletes, in_flight).await);
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (median(insert_rates), median(delete_rates))
}

/// The same Writes without gRPC: `write::write` called directly on the device, for the
/// share of the time that is the server's own (translation and object model).
fn direct(deployer: &dyn Deployer, batches: usize) -> (f64, f64) {
    let config = pipeline(&kinds_p4());
    let info = config.p4info.clone().expect("p4info");
    let mut device = server::state::Device::default();
    server::pipeline::set(
        &mut device,
        deployer,
        &p4v1::SetForwardingPipelineConfigRequest {
            device_id: 1,
            action: p4v1::set_forwarding_pipeline_config_request::Action::VerifyAndCommit as i32,
            config: Some(config),
            ..Default::default()
        },
    )
    .expect("pipeline set");
    let inst = device.installed.as_mut().expect("installed");
    let ids = Ids(&info);
    let (t, a) = (ids.table("exact_t"), ids.action("fwd_counted"));
    let requests = |ty: p4v1::update::Type| -> Vec<Vec<p4v1::Update>> {
        (0..batches)
            .map(|b| {
                (0..BATCH)
                    .map(|i| {
                        let key = ((b * BATCH + i) as u32 + 1).to_be_bytes();
                        update(ty, entry(t, exact(&key), a, &[&[1]], 0))
                    })
                    .collect()
            })
            .collect()
    };
    let mut rates = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        for (ty, out) in [(Insert, &mut rates.0), (Delete, &mut rates.1)] {
            let reqs = requests(ty);
            let started = Instant::now();
            for r in &reqs {
                server::write::write(inst, r, Atomicity::ContinueOnError as i32).expect("writes");
                // The poller's share: the events each write publishes.
                inst.backend.poll();
            }
            out.push((batches * BATCH) as f64 / started.elapsed().as_secs_f64());
        }
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (median(rates.0), median(rates.1))
}

fn main() {
    // `cargo test --benches` runs this too: a short run there.
    let quick = std::env::args().any(|a| a == "--test" || a == "--list");
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let batches = std::env::var("P4TC_BENCH_BATCHES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 2 } else { 50 });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "P4Runtime Write, {BATCH} INSERTs (then DELETEs) per request into an exact table, {batches} requests a round, median of {ROUNDS} rounds, over gRPC on loopback:"
    );
    let row = |name: &str, i: f64, d: f64| {
        println!(
            "  {name:<22} insert {:>9.0} entries/s ({:.2}x the 500K/s goal)   delete {:>9.0} entries/s",
            i,
            i / GOAL,
            d
        );
    };
    let kernel = kernel_unavailable();
    let (mi, md) = direct(&MemoryDeployer::new(), batches);
    row("memory, no gRPC", mi, md);
    if kernel.is_none() {
        let (ki, kd) = direct(&KernelDeployer, batches);
        row("kernel, no gRPC", ki, kd);
    }
    for in_flight in [1, 4] {
        let label = |backend: &str| format!("{backend}, {in_flight} in flight");
        let (mi, md) = runtime.block_on(measure(MemoryDeployer::new(), batches, in_flight));
        row(&label("memory"), mi, md);
        match kernel {
            Some(why) => println!("  kernel skipped: {why}"),
            None => {
                let (ki, kd) = runtime.block_on(measure(KernelDeployer, batches, in_flight));
                row(&label("kernel"), ki, kd);
                println!(
                    "  {:<22} insert {:.2}x, delete {:.2}x",
                    "kernel/memory",
                    ki / mi,
                    kd / md
                );
            }
        }
    }
}
