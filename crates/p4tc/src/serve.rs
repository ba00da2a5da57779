//! `p4tc serve`: a P4Runtime v1 server (issue #7).
//!
//! The server itself is `p4tc_p4runtime::server`; this file gives it the kernel: a pipeline
//! that a controller commits is loaded by `p4tc load` (this binary, run as a child, so pins,
//! state file and attachments are exactly what `p4tc load` makes), then opened like `p4tc
//! ctl` opens it ([`crate::ctl::open`]): entries written over P4Runtime are in the pinned
//! maps that `p4tc ctl` reads, and the other way round.

use std::net::SocketAddr;
use std::os::fd::{AsFd as _, OwnedFd};
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::Duration;

use clap::Args;
use p4tc_ebpf::backend::KernelBackend;
use p4tc_ebpf::{loader, MapRole};
use p4tc_ir::arena::Handle;
use p4tc_ir::ir;
use p4tc_p4runtime::server::{
    self, Backend, Code, CpuPacket, Deployer, Failure, MemoryDeployer, Prepared, ServeOptions,
};
use p4tc_runtime::{Event, EventKind, KeyMatch, MeterConfig, ObjectModel, Priority, RuntimeError};

use crate::state;

/// Serve P4Runtime v1 (gRPC) for one device.
///
/// Controllers (p4runtime-shell, ONOS, any P4Runtime client) set the pipeline with
/// SetForwardingPipelineConfig: the P4Info `p4tc compile` writes (PROG.p4info.txtpb) and,
/// as the device config, PROG.p4tc (or plain P4 source). Then Write, Read and StreamChannel
/// work on its tables, counters, meters, registers and digests.
///
/// With `--dev`, a committed pipeline is loaded into the kernel as `p4tc load --dev IFACE`
/// loads it (pinned under /sys/fs/bpf/p4tc/PIPELINE, recorded in /run/p4tc/PIPELINE.json)
/// and every write goes to its pinned maps: `p4tc ctl` sees entries written over P4Runtime
/// and P4Runtime reads entries written by `p4tc ctl`. The pipeline stays loaded when the
/// server exits (`p4tc unload PIPELINE` removes it); a program of another name committed
/// later replaces it (the old one is unloaded). Without `--dev` the pipeline lives in memory
/// (P4TC's object model with no datapath), for trying a controller out.
///
/// Only the primary controller (highest election id on an open stream) may write; the
/// others get PERMISSION_DENIED. Listens on loopback unless `--addr` says otherwise; TLS
/// with `--cert` and `--key`. Idle timeouts are P4TC aging: the entry is deleted when the
/// notification is sent. PacketOut sends the payload out of the port in its `egress_port`
/// metadata (an ifindex; the P4Info needs a @controller_header("packet_out") header);
/// packets the program sends to PNA_PORT_CPU reach the primary as PacketIn.
#[derive(Args)]
#[command(
    after_help = "Examples:\n  p4tc compile examples/simple_l3/simple_l3.p4 -o out\n  p4tc serve --dev eth0 --dev eth1             # kernel datapath on two ports\n  p4tc serve                                     # in memory, 127.0.0.1:9559\n  p4tc serve --addr 0.0.0.0:9559 --cert server.pem --key server.key --dev eth0\n  p4tc serve --dev veth0 --netns lab --device-id 3\nThen, from Python (pip install p4runtime-shell):\n  import p4runtime_sh.shell as sh\n  sh.setup(device_id=1, grpc_addr='127.0.0.1:9559', election_id=(0, 1),\n           config=sh.FwdPipeConfig('out/simple_l3.p4info.txtpb', 'out/simple_l3.p4tc'))"
)]
pub struct ServeArgs {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:9559", value_name = "IP:PORT")]
    addr: SocketAddr,
    /// The device id controllers must address.
    #[arg(long, default_value_t = 1, value_name = "N")]
    device_id: u64,
    /// Load committed pipelines into the kernel, attached to IFACE; may repeat. Without it
    /// the pipeline lives in memory.
    #[arg(long, value_name = "IFACE")]
    dev: Vec<String>,
    /// The network namespace the `--dev` interfaces are in (`ip netns` name).
    #[arg(long, value_name = "NAME", requires = "dev")]
    netns: Option<String>,
    /// TLS certificate chain (PEM); needs `--key`.
    #[arg(long, value_name = "FILE", requires = "key")]
    cert: Option<PathBuf>,
    /// TLS private key (PEM); needs `--cert`.
    #[arg(long, value_name = "FILE", requires = "cert")]
    key: Option<PathBuf>,
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let options = ServeOptions {
        addr: args.addr,
        device_id: args.device_id,
        tls: args.cert.clone().zip(args.key.clone()),
        poll_interval: Duration::from_millis(10),
    };
    let scheme = if options.tls.is_some() {
        "TLS"
    } else {
        "plaintext"
    };
    let listening = |addr: SocketAddr| {
        eprintln!(
            "p4tc serve: P4Runtime device {} on {addr} ({scheme})",
            args.device_id
        );
    };
    if args.dev.is_empty() {
        eprintln!("p4tc serve: pipelines live in memory (give --dev IFACE for the kernel)");
        server::run_blocking(options, MemoryDeployer::new(), listening)?;
    } else {
        if let Some(missing) = state::missing_capabilities() {
            anyhow::bail!("loading pipelines into the kernel needs {missing}: run p4tc serve as root (or without --dev, in memory)");
        }
        let deployer = KernelDeployer {
            devs: args.dev.clone(),
            netns: args.netns.clone(),
            loaded: std::sync::Mutex::new(None),
        };
        server::run_blocking(options, deployer, listening)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Loads committed pipelines with `p4tc load`.
struct KernelDeployer {
    devs: Vec<String>,
    netns: Option<String>,
    /// The pipeline this server loaded last: replaced (unloaded) when a controller commits
    /// a program of another name, so two programs never run on the same interfaces.
    loaded: std::sync::Mutex<Option<String>>,
}

impl Deployer for KernelDeployer {
    fn verify(&self, device_config: &[u8]) -> Result<Prepared, Failure> {
        let prepared = server::pipeline::prepare(device_config)?;
        state::check_name(&prepared.name).map_err(|e| Failure::invalid(e.to_string()))?;
        Ok(prepared)
    }

    fn commit(&self, prepared: &Prepared, keep_state: bool) -> Result<Box<dyn Backend>, Failure> {
        let name = &prepared.name;
        let mut loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(old) = loaded.as_ref().filter(|old| *old != name) {
            let out = Command::new(std::env::current_exe().map_err(|e| {
                Failure::new(Code::Internal, format!("cannot find p4tc itself: {e}"))
            })?)
            .args(["unload", old])
            .output()
            .map_err(|e| Failure::new(Code::Internal, format!("cannot run p4tc unload: {e}")))?;
            if !out.status.success() {
                return Err(Failure::new(
                    Code::Internal,
                    format!(
                        "unloading the previous pipeline {old} failed: {}",
                        String::from_utf8_lossy(&out.stderr).trim()
                    ),
                ));
            }
            let _ = std::fs::remove_dir_all(state::state_root().join("serve").join(old));
            *loaded = None;
        }
        // The sources stay where the state file points, for `p4tc ctl` to rebuild from.
        let dir = state::state_root().join("serve").join(name);
        let _ = std::fs::remove_dir_all(&dir);
        let (main, includes) = prepared
            .config
            .write_sources(&dir)
            .map_err(|e| Failure::new(Code::Internal, format!("pipeline {name}: {e}")))?;
        let exe = std::env::current_exe()
            .map_err(|e| Failure::new(Code::Internal, format!("cannot find p4tc itself: {e}")))?;
        let mut load = Command::new(exe);
        load.arg("load").arg(&main).args(["--name", name]);
        for dir in &includes {
            load.arg("-I").arg(dir);
        }
        for d in &prepared.config.defines {
            load.args(["-D", d]);
        }
        for dev in &self.devs {
            load.args(["--dev", dev]);
        }
        if let Some(ns) = &self.netns {
            load.args(["--netns", ns]);
        }
        if prepared.config.hook == "xdp" {
            load.arg("--xdp");
        }
        if !keep_state {
            load.arg("--fresh");
        }
        let out = load
            .output()
            .map_err(|e| Failure::new(Code::Internal, format!("cannot run p4tc load: {e}")))?;
        if !out.status.success() {
            return Err(Failure::new(
                Code::Internal,
                format!(
                    "p4tc load {name} failed: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ),
            ));
        }
        *loaded = Some(name.clone());
        let opened = crate::ctl::open(name).map_err(|e| {
            Failure::new(
                Code::Internal,
                format!("pipeline {name} loaded but not opened: {e:#}"),
            )
        })?;
        let mut digests = Vec::new();
        let pin_dir = state::pin_dir(name);
        for spec in &opened.generated.maps {
            if spec.role != MapRole::Digest {
                continue;
            }
            let Some(instance) = spec.instance else {
                continue;
            };
            let path = pin_dir.join(&spec.name);
            let ring = loader::open_pinned_map(&path)
                .map_err(|e| e.to_string())
                .and_then(|fd| p4tc_ebpf::sys::RingReader::new(fd).map_err(|e| e.to_string()))
                .map_err(|e| Failure::new(Code::Internal, format!("{}: {e}", path.display())))?;
            digests.push((instance, ring));
        }
        // Packets the program sends to the CPU port (PacketIn), when it may send there.
        let packet_in = match opened
            .generated
            .maps
            .iter()
            .find(|m| m.name == PACKET_IN_MAP)
        {
            Some(spec) => {
                let path = pin_dir.join(&spec.name);
                Some(
                    loader::open_pinned_map(&path)
                        .map_err(|e| e.to_string())
                        .and_then(|fd| {
                            p4tc_ebpf::sys::RingReader::new(fd).map_err(|e| e.to_string())
                        })
                        .map_err(|e| {
                            Failure::new(Code::Internal, format!("{}: {e}", path.display()))
                        })?,
                )
            }
            None => None,
        };
        Ok(Box::new(KernelDevice {
            packet_in,
            name: name.clone(),
            backend: opened.backend,
            digests,
            netns: self.netns.clone(),
            senders: std::collections::HashMap::new(),
        }))
    }
}

/// A pipeline loaded into the kernel: the object model over its pinned maps, and its digest
/// rings.
struct KernelDevice {
    name: String,
    backend: KernelBackend,
    digests: Vec<(Handle<ir::Instance>, p4tc_ebpf::sys::RingReader)>,
    /// The namespace of the `--dev` interfaces, where PacketOut sends.
    netns: Option<String>,
    /// The ring of packets sent to the CPU port (`struct p4tc_packet_in` records).
    packet_in: Option<p4tc_ebpf::sys::RingReader>,
    /// PacketOut's sender program of each port sent to so far.
    senders: std::collections::HashMap<u32, OwnedFd>,
}

/// The generated program's ring of packets sent to the CPU port (p4tc_runtime.h).
const PACKET_IN_MAP: &str = "p4tc_packet_in";
/// A `struct p4tc_packet_in` record's head: ingress port, length kept, wire length, pad.
const PACKET_IN_HEAD: usize = 16;

/// A `struct p4tc_packet_in` record as a packet for PacketIn (None when malformed).
fn cpu_packet(record: &[u8]) -> Option<CpuPacket> {
    let word = |i: usize| -> Option<u32> {
        Some(u32::from_ne_bytes(record.get(i..i + 4)?.try_into().ok()?))
    };
    let len = usize::try_from(word(4)?).ok()?;
    Some(CpuPacket {
        ingress_port: word(0)?,
        frame: record.get(PACKET_IN_HEAD..PACKET_IN_HEAD + len)?.to_vec(),
    })
}

/// `BPF_PROG_TYPE_SCHED_CLS`.
const SCHED_CLS: u32 = 3;
/// The `bpf_clone_redirect` helper's number.
const CLONE_REDIRECT: i32 = 13;

/// A four-instruction TC program: `return bpf_clone_redirect(skb, ifindex, 0);`.
///
/// PacketOut sends a frame by running this program on it with `BPF_PROG_TEST_RUN`: the
/// kernel builds an skb of the frame (on the namespace's loopback), and
/// `bpf_clone_redirect` transmits a copy on `ifindex` at once, as a TC program's egress
/// redirect would (the verdict of a test run is not acted on, the helper's clone is). This
/// sends on any interface of the namespace with no raw socket, so no `unsafe` outside
/// p4tc-ebpf's sys module; the ifindex is an immediate, hence one program per port.
fn sender_program(ifindex: u32) -> Result<OwnedFd, Failure> {
    let imm = i32::try_from(ifindex)
        .map_err(|_| Failure::invalid(format!("port {ifindex} is not an ifindex")))?;
    let insn = |code: u8, regs: u8, imm: i32| {
        let mut b = [0u8; 8];
        b[0] = code;
        b[1] = regs;
        b[4..].copy_from_slice(&imm.to_ne_bytes());
        b
    };
    let mut insns = Vec::with_capacity(32);
    insns.extend(insn(0xb7, 0x02, imm)); // r2 = ifindex (r1 is the skb)
    insns.extend(insn(0xb7, 0x03, 0)); // r3 = 0: egress
    insns.extend(insn(0x85, 0, CLONE_REDIRECT)); // r0 = bpf_clone_redirect(r1, r2, r3)
    insns.extend(insn(0x95, 0, 0)); // return r0
    p4tc_ebpf::sys::prog_load("p4tc_pkt_out", SCHED_CLS, 0, &insns, None).map_err(|e| {
        Failure::new(
            Code::Internal,
            format!("cannot load PacketOut's sender for port {ifindex}: {e}"),
        )
    })
}

impl Backend for KernelDevice {
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
        let mut events = self.backend.take_events();
        let at = Duration::from_nanos(p4tc_ebpf::sys::monotonic_ns());
        for (instance, ring) in &mut self.digests {
            for payload in ring.drain() {
                events.push(Event {
                    at,
                    kind: EventKind::Digest {
                        instance: *instance,
                        payload,
                    },
                });
            }
        }
        events
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
        format!("the kernel datapath of pipeline {}", self.name)
    }

    fn take_packet_ins(&mut self) -> Vec<CpuPacket> {
        match &mut self.packet_in {
            Some(ring) => ring.drain().iter().filter_map(|r| cpu_packet(r)).collect(),
            None => Vec::new(),
        }
    }

    fn transmit(&mut self, port: u32, frame: &[u8]) -> Result<(), Failure> {
        let prog = match self.senders.entry(port) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => v.insert(sender_program(port)?),
        };
        let prog = prog.as_fd();
        let run = || p4tc_ebpf::sys::test_run(prog, frame, 1);
        let where_ = match &self.netns {
            Some(ns) => format!(" in netns {ns}"),
            None => String::new(),
        };
        let result = match &self.netns {
            None => run(),
            // setns acts per thread: a thread of its own enters the namespace and ends.
            Some(ns) => {
                let file = std::fs::File::open(state::netns_path(ns)).map_err(|e| {
                    Failure::new(Code::Internal, format!("cannot open netns {ns}: {e}"))
                })?;
                std::thread::scope(|s| {
                    s.spawn(|| {
                        p4tc_ebpf::sys::enter_netns(file.as_fd())?;
                        run()
                    })
                    .join()
                    .unwrap_or_else(|_| Err(std::io::Error::other("the sender thread panicked")))
                })
            }
        }
        .map_err(|e| Failure::new(Code::Internal, format!("PacketOut to port {port}: {e}")))?;
        match run_errno(result.retval) {
            0 => Ok(()),
            // EINVAL: bpf_clone_redirect's answer when no device has the ifindex.
            22 => Err(Failure::not_found(format!(
                "PacketOut: no interface has ifindex {port}{where_}"
            ))),
            errno => Err(Failure::new(
                Code::Unavailable,
                format!(
                    "PacketOut to port {port}{where_}: {}",
                    std::io::Error::from_raw_os_error(errno)
                ),
            )),
        }
    }
}

/// The errno of a helper's negative return value (0 when it succeeded).
fn run_errno(retval: u32) -> i32 {
    (retval as i32).saturating_neg().max(0)
}
