//! `p4tc bench`: a datapath's cost per packet, on the kernel (BPF_PROG_TEST_RUN) or on the
//! interpreter (a timed loop).

use std::io::Write as _;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _};
use clap::{Args, ValueEnum};
use p4tc_bench::harness::{median, spread};
use p4tc_ebpf::Hook;
use p4tc_runtime::{ManualClock, ObjectModel, PipelineModel};
use p4tc_testkit::stf::{self, StatementKind};
use p4tc_testkit::stf_run::entries as stf_entries;
use serde::Serialize;

use crate::check::SourceArgs;
use crate::compile::pipeline_name;
use crate::datapath;

/// Where to run the program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BenchTarget {
    /// The eBPF datapath in the kernel, timed by BPF_PROG_TEST_RUN (needs root and clang).
    Kernel,
    /// The reference interpreter, timed in a loop in this process.
    Interp,
}

/// Where the eBPF program attaches (kernel target).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BenchHook {
    /// TC (sched_cls).
    Tc,
    /// XDP.
    Xdp,
}

/// Measure a P4 program's datapath cost per packet.
///
/// Builds the program, installs the entries file, then runs the packets: on the kernel each
/// packet goes through BPF_PROG_TEST_RUN `--repeat` times per run (the kernel's own timing,
/// no NIC or interrupt costs); on the interpreter the packets are run `--repeat` times each
/// in a timed loop (packets in memory, no I/O). Each figure is the median of `--runs` runs;
/// the spread is (max - min) / median. With several packets the cost is their mean (every
/// packet weighs the same). Each packet's verdict is shown: a program that drops early is
/// fast and wrong. On the kernel the repetitions of a packet run on the same buffer, so a
/// program that resizes the packet (encap, decap) meets its own output from the second run
/// on: for those, give many packets with `--repeat 1`.
///
/// The entries file holds `p4tc ctl` commands (`create table/...`) or STF `add` /
/// `setdefault` lines (recognised by its first command; an STF test can serve: the
/// statements before its first `packet` are applied). `dev` values must be numbers.
/// On the kernel the packets arrive on BPF_PROG_TEST_RUN's device (loopback); `--port`
/// applies to the interpreter only.
#[derive(Args)]
#[command(
    after_help = "Examples:\n  p4tc bench examples/simple_l3/simple_l3.p4 --entries routes.txt --packet 0200000000020200000000010800450000...\n  p4tc bench prog.p4 --entries prog.stf --pcap traffic.pcap --target interp -j\n  sudo p4tc bench prog.p4 --pcap traffic.pcap --hook xdp --repeat 100000 --runs 9"
)]
pub struct BenchArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// Table entries to install first: `p4tc ctl` commands or STF `add` lines.
    #[arg(long, value_name = "FILE")]
    entries: Option<PathBuf>,
    /// A packet to send, as hex (spaces, colons and a 0x prefix are ignored); may repeat.
    #[arg(long, value_name = "HEX")]
    packet: Vec<String>,
    /// Packets to send from a pcap or pcapng file (Ethernet).
    #[arg(long, value_name = "FILE")]
    pcap: Option<PathBuf>,
    /// Where to run it.
    #[arg(long, value_enum, default_value = "kernel")]
    target: BenchTarget,
    /// TC or XDP (kernel target).
    #[arg(long, value_enum, default_value = "tc")]
    hook: BenchHook,
    /// Runs of each packet per measurement (default: about 1,000,000 packet runs in all on
    /// the kernel, 100,000 on the interpreter).
    #[arg(long, value_name = "N")]
    repeat: Option<u32>,
    /// Measurements; the median is reported.
    #[arg(long, value_name = "N", default_value_t = 7)]
    runs: usize,
    /// Input port of every packet (interpreter).
    #[arg(long, value_name = "N", default_value_t = 0)]
    port: u32,
    /// Print one JSON object instead of text.
    #[arg(short = 'j', long = "json")]
    json: bool,
}

/// One packet's figures.
#[derive(Serialize)]
struct PacketResult {
    /// Its position among the packets, from 0.
    index: usize,
    /// Its length in bytes.
    bytes: usize,
    /// The verdict: `TC_ACT_*` / `XDP_*` as a number on the kernel, `send N` / `pass` / `drop`
    /// on the interpreter.
    verdict: String,
    /// Median ns per run of this packet (kernel; the interpreter times all packets together).
    #[serde(skip_serializing_if = "Option::is_none")]
    ns_per_packet: Option<f64>,
}

/// What `p4tc bench -j` prints.
#[derive(Serialize)]
struct BenchReport {
    /// The program.
    program: String,
    /// `kernel` or `interp`.
    target: &'static str,
    /// `tc` or `xdp` (kernel).
    hook: &'static str,
    /// Distinct packets.
    packets: usize,
    /// Runs of each packet per measurement.
    repeat: u32,
    /// Measurements.
    runs: usize,
    /// Median ns per packet (mean over the packets).
    ns_per_packet: f64,
    /// 1e9 / ns_per_packet.
    packets_per_second: f64,
    /// (max - min) / median of the measurements.
    spread: f64,
    /// Every measurement, ns per packet.
    measurements: Vec<f64>,
    /// Entries the entries file installed (created or updated).
    entries: usize,
    /// Each packet.
    per_packet: Vec<PacketResult>,
}

pub fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    if args.runs == 0 {
        bail!("--runs must be at least 1");
    }
    if args.repeat == Some(0) {
        bail!("--repeat must be at least 1");
    }
    let packets = read_packets(&args)?;
    let name = pipeline_name(&args.source.file)?;
    let hook = match args.hook {
        BenchHook::Tc => Hook::Tc,
        BenchHook::Xdp => Hook::Xdp,
    };
    if args.target == BenchTarget::Kernel {
        if let Some(why) = p4tc_bench::harness::kernel_unavailable() {
            bail!("cannot run on the kernel here: {why} (try --target interp)");
        }
    }
    let front = datapath::front(&args.source, &name, hook)?;
    let Some(module) = front.module else {
        return Ok(ExitCode::from(1));
    };
    let module = Arc::new(module);
    let model = Arc::new(
        PipelineModel::new(Arc::clone(&module), &name)
            .map_err(|e| anyhow!("cannot model pipeline {name}: {e}"))?,
    );
    let entries_text = match &args.entries {
        Some(path) => Some((
            path.clone(),
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?,
        )),
        None => None,
    };
    let report = match args.target {
        BenchTarget::Kernel => {
            let Some(generated) = front.generated else {
                return Ok(ExitCode::from(1));
            };
            kernel(&args, &name, &model, generated, entries_text, &packets)?
        }
        BenchTarget::Interp => interp(&args, &name, &model, entries_text, &packets)?,
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        print_text(&mut out, &report)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_text(out: &mut impl std::io::Write, r: &BenchReport) -> std::io::Result<()> {
    writeln!(
        out,
        "{}: {:.1} ns/packet, {:.0} packets/s ({} on {}, {} packet(s) x {} repeat, median of {} runs, spread {:.1}%, {} entries)",
        r.program,
        r.ns_per_packet,
        r.packets_per_second,
        r.target,
        r.hook,
        r.packets,
        r.repeat,
        r.runs,
        r.spread * 100.0,
        r.entries
    )?;
    for p in r.per_packet.iter().take(20) {
        match p.ns_per_packet {
            Some(ns) => writeln!(
                out,
                "  packet {} ({} bytes): verdict {}, {ns:.1} ns",
                p.index, p.bytes, p.verdict
            )?,
            None => writeln!(
                out,
                "  packet {} ({} bytes): verdict {}",
                p.index, p.bytes, p.verdict
            )?,
        }
    }
    if r.per_packet.len() > 20 {
        writeln!(out, "  ... {} more (-j lists all)", r.per_packet.len() - 20)?;
    }
    Ok(())
}

/// The packets of `--packet` and `--pcap`, in that order.
fn read_packets(args: &BenchArgs) -> anyhow::Result<Vec<Vec<u8>>> {
    let mut packets = Vec::new();
    for (i, hex) in args.packet.iter().enumerate() {
        packets.push(parse_hex(hex).with_context(|| format!("--packet #{}", i + 1))?);
    }
    if let Some(path) = &args.pcap {
        let read = crate::pcap_in::read(path, None)?;
        if read.is_empty() {
            bail!("{} holds no packets", path.display());
        }
        packets.extend(read.into_iter().map(|p| p.data));
    }
    if packets.is_empty() {
        bail!("no packets to send: give --packet HEX or --pcap FILE");
    }
    for (i, p) in packets.iter().enumerate() {
        if p.len() < 14 {
            bail!(
                "packet {i} has {} bytes: shorter than an Ethernet header (14)",
                p.len()
            );
        }
    }
    Ok(packets)
}

/// Bytes of a hex string; spaces, `:` and a `0x` prefix are ignored.
fn parse_hex(text: &str) -> anyhow::Result<Vec<u8>> {
    let t = text.trim();
    let t = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    let digits: Vec<(usize, char)> = t
        .char_indices()
        .filter(|(_, c)| !c.is_whitespace() && *c != ':')
        .collect();
    if let Some((at, c)) = digits.iter().find(|(_, c)| !c.is_ascii_hexdigit()) {
        bail!("not a hex digit: {c:?} at position {at}");
    }
    if digits.len() % 2 != 0 {
        bail!(
            "an odd number of hex digits ({}): each byte takes two",
            digits.len()
        );
    }
    Ok(digits
        .chunks(2)
        .map(|p| {
            let hi = p[0].1.to_digit(16).unwrap_or(0);
            let lo = p[1].1.to_digit(16).unwrap_or(0);
            (hi * 16 + lo) as u8
        })
        .collect())
}

/// True when the first command of `text` is an STF statement (`add`, `setdefault`, ...).
fn is_stf(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .is_some_and(|l| {
            let word = l.split_whitespace().next().unwrap_or("");
            matches!(
                word,
                "add"
                    | "setdefault"
                    | "packet"
                    | "expect"
                    | "remove"
                    | "wait"
                    | "no_packet"
                    | "check_counter"
            )
        })
}

/// Installs the entries file into `om`; how many entries it wrote.
fn install(
    om: &mut dyn ObjectModel,
    model: &PipelineModel,
    entries: Option<(PathBuf, String)>,
) -> anyhow::Result<usize> {
    let Some((path, text)) = entries else {
        return Ok(0);
    };
    let name = path.display();
    if is_stf(&text) {
        return install_stf(om, model, &path, &text);
    }
    use p4tc_runtime::ctl::{self, CommandKind, Output};
    let commands =
        ctl::parse_file(&text, model, &ctl::numbers_only).map_err(|errors| join(&name, &errors))?;
    let mut created = 0;
    for command in &commands {
        let at = command.at;
        let output = ctl::execute(om, model, command, Duration::ZERO)
            .map_err(|e| anyhow!("{name}: {at}: {e}"))?;
        if let Output::Batch { failures, .. } = &output {
            if !failures.is_empty() {
                let list: Vec<String> = failures
                    .iter()
                    .map(|f| format!("{name}: {at}: entry {} ({}): {}", f.index, f.key, f.error))
                    .collect();
                bail!("{}", list.join("\n"));
            }
        }
        if let CommandKind::WriteEntries {
            update: false,
            entries,
            ..
        } = &command.kind
        {
            created += entries.len();
        }
    }
    Ok(created)
}

/// Every error of a file, one a line, each after the file's name.
fn join(name: &impl std::fmt::Display, errors: &[impl std::fmt::Display]) -> anyhow::Error {
    anyhow!(
        "{}",
        errors
            .iter()
            .map(|e| format!("{name}: {e}"))
            .collect::<Vec<_>>()
            .join("\n")
    )
}

/// STF `add` and `setdefault` lines, up to the first `packet` statement (so an STF test can
/// serve: its entries as its traffic first meets them).
fn install_stf(
    om: &mut dyn ObjectModel,
    model: &PipelineModel,
    path: &Path,
    text: &str,
) -> anyhow::Result<usize> {
    let name = path.display();
    let statements = stf::parse(text).map_err(|errors| join(&name, &errors))?;
    let mut n = 0;
    for s in &statements {
        let at = |e: String| anyhow!("{name}:{}: {e}", s.line);
        match &s.kind {
            StatementKind::Add {
                table,
                priority,
                keys,
                action,
                ..
            } => {
                let t = stf_entries::table(model, table).map_err(at)?;
                let spec = p4tc_runtime::EntrySpec {
                    key: stf_entries::key(t, keys).map_err(at)?,
                    priority: stf_entries::priority(t, *priority),
                    action: Some(stf_entries::action(t, action).map_err(at)?),
                    permissions: None,
                    dynamic: false,
                    aging: None,
                };
                om.create_entry(t.handle, spec)
                    .map_err(|e| at(e.to_string()))?;
                n += 1;
            }
            StatementKind::SetDefault { table, action } => {
                let t = stf_entries::table(model, table).map_err(at)?;
                let call = stf_entries::action(t, action).map_err(at)?;
                om.set_default_action(t.handle, p4tc_runtime::DefaultKind::Miss, call)
                    .map_err(|e| at(e.to_string()))?;
            }
            // A whole STF test may serve as the entries file: the state its traffic starts
            // from is what the statements before its first packet make.
            StatementKind::Packet { .. } => break,
            StatementKind::Expect { .. }
            | StatementKind::NoPacket
            | StatementKind::CheckCounter { .. }
            | StatementKind::Wait => {}
            StatementKind::Remove(_) => {
                return Err(at(
                    "`remove` before the first packet: an entries file only adds entries and sets defaults".into(),
                ))
            }
        }
    }
    Ok(n)
}

/// What a target measured, before the medians.
struct Runs {
    repeat: u32,
    measurements: Vec<f64>,
    entries: usize,
    per_packet: Vec<PacketResult>,
}

fn report(args: &BenchArgs, name: &str, target: &'static str, runs: Runs) -> BenchReport {
    let Runs {
        repeat,
        mut measurements,
        entries,
        per_packet,
    } = runs;
    let s = spread(&measurements);
    let ns = median(&mut measurements);
    BenchReport {
        program: name.to_string(),
        target,
        hook: match (args.target, args.hook) {
            (BenchTarget::Interp, _) => "-",
            (_, BenchHook::Tc) => "tc",
            (_, BenchHook::Xdp) => "xdp",
        },
        packets: per_packet.len(),
        repeat,
        runs: args.runs,
        ns_per_packet: ns,
        packets_per_second: if ns > 0.0 { 1e9 / ns } else { 0.0 },
        spread: s,
        measurements,
        entries,
        per_packet,
    }
}

/// Why BPF_PROG_TEST_RUN at TC refuses `p`, when the frame shows it: the kernel sets the skb
/// up as if received, which needs the whole Ethernet header, and for an IPv4 or IPv6
/// EtherType the whole fixed IP header after it (measured: a 21-byte frame with EtherType
/// 0x0800 is refused, the same with 0x88b5 runs). XDP takes any frame.
fn tc_refusal(p: &[u8]) -> Option<&'static str> {
    if p.len() < 14 {
        return Some("it is shorter than an Ethernet header (14 bytes)");
    }
    match (u16::from_be_bytes([p[12], p[13]]), p.len() - 14) {
        (0x0800, l) if l < 20 => {
            Some("its EtherType is IPv4 but a whole IPv4 header (20 bytes) does not follow")
        }
        (0x86dd, l) if l < 40 => {
            Some("its EtherType is IPv6 but a whole IPv6 header (40 bytes) does not follow")
        }
        _ => None,
    }
}

fn kernel(
    args: &BenchArgs,
    name: &str,
    model: &Arc<PipelineModel>,
    generated: p4tc_ebpf::Generated,
    entries: Option<(PathBuf, String)>,
    packets: &[Vec<u8>],
) -> anyhow::Result<BenchReport> {
    let dir = std::env::temp_dir().join(format!("p4tc-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let result = (|| {
        let obj = match datapath::build_object(&dir, name, &generated)? {
            Ok(obj) => obj,
            Err(datapath::ObjectError::Missing(e) | datapath::ObjectError::Failed(e)) => {
                bail!("{e}")
            }
        };
        let bytes =
            std::fs::read(&obj).with_context(|| format!("cannot read {}", obj.display()))?;
        let loaded = p4tc_ebpf::loader::load(&bytes, &generated)?;
        let mut backend =
            p4tc_ebpf::backend::KernelBackend::from_loaded(Arc::clone(model), &loaded)?;
        let n = install(&mut backend, model, entries)?;
        let prog = loaded.program_fd()?;
        let repeat = args
            .repeat
            .unwrap_or_else(|| (1_000_000 / packets.len()).clamp(1, 1_000_000) as u32);
        let mut per_packet = Vec::with_capacity(packets.len());
        let mut runs_of: Vec<Vec<f64>> = vec![Vec::new(); packets.len()];
        for (i, p) in packets.iter().enumerate() {
            let r = p4tc_ebpf::sys::test_run(prog.as_fd(), p, 1).map_err(|e| {
                let why = match (generated.hook, e.kind()) {
                    (Hook::Tc, std::io::ErrorKind::InvalidInput) => tc_refusal(p),
                    _ => None,
                };
                match why {
                    Some(why) => anyhow!(
                        "the kernel's BPF_PROG_TEST_RUN at TC refuses packet {i} ({} bytes): \
                         {why}; --hook xdp runs it, or leave it out",
                        p.len()
                    ),
                    None => anyhow!(e).context(format!("BPF_PROG_TEST_RUN on packet {i}")),
                }
            })?;
            per_packet.push(PacketResult {
                index: i,
                bytes: p.len(),
                verdict: r.retval.to_string(),
                ns_per_packet: None,
            });
        }
        let mut measurements = Vec::with_capacity(args.runs);
        for _ in 0..args.runs {
            let mut total = 0.0;
            for (i, p) in packets.iter().enumerate() {
                let ns = f64::from(p4tc_ebpf::sys::test_run(prog.as_fd(), p, repeat)?.duration_ns);
                runs_of[i].push(ns);
                total += ns;
            }
            measurements.push(total / packets.len() as f64);
        }
        for (p, mut runs) in per_packet.iter_mut().zip(runs_of) {
            p.ns_per_packet = Some(median(&mut runs));
        }
        Ok(report(
            args,
            name,
            "kernel",
            Runs {
                repeat,
                measurements,
                entries: n,
                per_packet,
            },
        ))
    })();
    // The scratch C and object only; the program and maps go when `loaded` drops.
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn interp(
    args: &BenchArgs,
    name: &str,
    model: &Arc<PipelineModel>,
    entries: Option<(PathBuf, String)>,
    packets: &[Vec<u8>],
) -> anyhow::Result<BenchReport> {
    let clock = ManualClock::new();
    let mut backend = crate::backend::memory_backend(model, &clock)?;
    let n = install(&mut backend, model, entries)?;
    let mut interp = p4tc_interp::Interpreter::new(Arc::clone(&model.module), 0)
        .map_err(|e| anyhow!("cannot run the program: {e}"))?;
    let per_packet: Vec<PacketResult> = packets
        .iter()
        .enumerate()
        .map(|(i, p)| PacketResult {
            index: i,
            bytes: p.len(),
            verdict: match interp.process(&mut backend, p, args.port).verdict {
                p4tc_interp::Verdict::Send(port) => format!("send {port}"),
                p4tc_interp::Verdict::Pass => "pass".into(),
                p4tc_interp::Verdict::Drop => "drop".into(),
            },
            ns_per_packet: None,
        })
        .collect();
    let repeat = args
        .repeat
        .unwrap_or_else(|| (100_000 / packets.len()).clamp(1, 100_000) as u32);
    let mut measurements = Vec::with_capacity(args.runs);
    for _ in 0..args.runs {
        let t = Instant::now();
        for _ in 0..repeat {
            for p in packets {
                std::hint::black_box(interp.process(&mut backend, p, args.port).verdict);
            }
        }
        let runs = f64::from(repeat) * packets.len() as f64;
        measurements.push(t.elapsed().as_secs_f64() * 1e9 / runs);
    }
    Ok(report(
        args,
        name,
        "interp",
        Runs {
            repeat,
            measurements,
            entries: n,
            per_packet,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_with_separators_parses() {
        assert_eq!(parse_hex("0x0a:0B ff").unwrap(), vec![0x0a, 0x0b, 0xff]);
    }

    #[test]
    fn bad_hex_says_where() {
        let e = parse_hex("0a0g").unwrap_err().to_string();
        assert!(e.contains("'g'") && e.contains("position 3"), "{e}");
        let e = parse_hex("abc").unwrap_err().to_string();
        assert!(e.contains("odd number"), "{e}");
    }

    #[test]
    fn stf_files_are_recognised_by_their_first_command() {
        assert!(is_stf(
            "# routes\n\nadd ingress.nh_table dstAddr:1 send_nh(port:1)\n"
        ));
        assert!(!is_stf(
            "create table/simple_l3/ingress/nh_table dstAddr 10.0.0.1\n"
        ));
    }
}
