//! `p4tc run`: replay a capture through a program on the interpreter, writing what comes out.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use p4tc_runtime::EventKind;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::TsResolution;
use serde::Serialize;

use crate::check::SourceArgs;
use crate::compile::pipeline_name;
use crate::{entries, pcap_in, program};

/// Run a capture through a P4 program on the reference interpreter.
///
/// Reads Ethernet frames from a pcap or pcapng file and runs each through the program, in
/// order, on a clock that follows the packets' timestamps (so entries age as in the capture).
/// Writes the packets sent out of port N to `DIR/portN.pcap`, those passed to the host's stack
/// to `DIR/host.pcap`, and counts to `DIR/summary.json`; prints the counts. Those files from
/// an earlier run in DIR are removed first (nothing else in DIR is touched).
///
/// Input ports: `--port N` for every packet; otherwise 0 for a pcap, and for a pcapng the
/// index of the packet's interface (its order among the interface description blocks, from 0).
/// The entries file holds `p4tc ctl` commands (`create table/ingress/nh_table dstAddr ...`),
/// run before the first packet.
#[derive(Args)]
#[command(
    after_help = "Examples:\n  p4tc run examples/simple_l3/simple_l3.p4 --entries routes.txt --in traffic.pcap --out-dir out\n  p4tc run prog.p4 --in capture.pcapng --out-dir out -j\n  p4tc run prog.p4 --in traffic.pcap --port 3 --out-dir out"
)]
pub struct RunArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// Table entries and extern settings to apply first, in `p4tc ctl` syntax.
    #[arg(long, value_name = "FILE")]
    entries: Option<PathBuf>,
    /// The packets to run: a pcap or pcapng file of Ethernet frames.
    #[arg(long = "in", value_name = "FILE")]
    input: PathBuf,
    /// Input port of every packet (default: 0, or a pcapng packet's interface index).
    #[arg(long, value_name = "N")]
    port: Option<u32>,
    /// Directory to write the output captures and summary.json into (created if missing).
    #[arg(long, value_name = "DIR")]
    out_dir: PathBuf,
    /// Print the summary as JSON (the same as summary.json) instead of text.
    #[arg(short = 'j', long = "json")]
    json: bool,
    /// Seed of the program's `Random` externs.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

/// What a run did; written to `summary.json` (a versioned format: `version` changes when a
/// field changes meaning).
#[derive(Default, Serialize)]
struct Summary {
    version: u32,
    packets_in: u64,
    /// Packets sent out, per output port.
    out: BTreeMap<u32, u64>,
    passed_to_host: u64,
    dropped: u64,
    /// Packets whose parser ended in an error, per error name.
    parser_errors: BTreeMap<String, u64>,
    digests: u64,
    /// The files written, relative to the output directory.
    files: Vec<String>,
}

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let name = pipeline_name(&args.source.file)?;
    // Inputs are read before compiling so a bad capture is reported at once.
    let packets = pcap_in::read(&args.input, args.port)?;
    let entries_text = match &args.entries {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?,
        ),
        None => None,
    };
    let Some(module) = program::compile(&args.source)? else {
        return Ok(ExitCode::FAILURE);
    };
    let mut target = program::interp_target(module, &name, args.seed)?;
    if let (Some(path), Some(text)) = (&args.entries, &entries_text) {
        if let Err(message) = entries::apply(target.as_mut(), path, text) {
            eprintln!("{message}");
            return Ok(ExitCode::FAILURE);
        }
    }

    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("cannot create {}", args.out_dir.display()))?;
    remove_old_outputs(&args.out_dir)?;
    let mut writers = Writers::new(&args.out_dir);
    let mut summary = Summary {
        version: 1,
        ..Summary::default()
    };
    let start = packets.first().map_or(Duration::ZERO, |p| p.timestamp);
    let mut now = Duration::ZERO;
    for packet in &packets {
        // The clock follows the capture from its first packet; a timestamp that goes back
        // (merged captures) leaves it where it is.
        let at = packet.timestamp.saturating_sub(start);
        if at > now {
            target.advance_clock(at - now);
            now = at;
        }
        let delivery = target
            .send(packet.port, &packet.data)
            .map_err(|e| anyhow::anyhow!("packet {}: {e}", summary.packets_in + 1))?;
        summary.packets_in += 1;
        if let Some(error) = &delivery.parser_error {
            *summary.parser_errors.entry(error.clone()).or_default() += 1;
        }
        if delivery.is_drop() {
            summary.dropped += 1;
        }
        for (port, bytes) in &delivery.outputs {
            *summary.out.entry(*port).or_default() += 1;
            writers.write(Some(*port), packet.timestamp, bytes)?;
        }
        if let Some(bytes) = &delivery.to_host {
            summary.passed_to_host += 1;
            writers.write(None, packet.timestamp, bytes)?;
        }
        // Events are taken per packet so they do not pile up over a long capture.
        summary.digests += target
            .control()
            .take_events()
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Digest { .. }))
            .count() as u64;
    }
    summary.files = writers.finish()?;
    summary.files.push("summary.json".into());
    let json = serde_json::to_string_pretty(&summary)?;
    let path = args.out_dir.join("summary.json");
    std::fs::write(&path, format!("{json}\n"))
        .with_context(|| format!("cannot write {}", path.display()))?;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{json}")?;
    } else {
        out.write_all(text_summary(&summary, &args.out_dir).as_bytes())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Removes what an earlier run wrote into `dir` (`portN.pcap`, `host.pcap`, `summary.json`),
/// so a port that sends nothing this time has no stale capture. Nothing else is touched.
fn remove_old_outputs(dir: &Path) -> anyhow::Result<()> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            continue;
        };
        let is_port = name
            .strip_prefix("port")
            .and_then(|rest| rest.strip_suffix(".pcap"))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if is_port || name == "host.pcap" || name == "summary.json" {
            let path = entry.path();
            std::fs::remove_file(&path)
                .with_context(|| format!("cannot remove the old {}", path.display()))?;
        }
    }
    Ok(())
}

fn text_summary(s: &Summary, dir: &Path) -> String {
    let mut t = format!("packets in: {}\n", s.packets_in);
    for (port, n) in &s.out {
        t.push_str(&format!(
            "out port {port}: {n} (written to {})\n",
            dir.join(format!("port{port}.pcap")).display()
        ));
    }
    if s.out.is_empty() {
        t.push_str("out: none\n");
    }
    t.push_str(&format!("passed to host: {}\n", s.passed_to_host));
    t.push_str(&format!("dropped: {}\n", s.dropped));
    if s.parser_errors.is_empty() {
        t.push_str("parser errors: none\n");
    }
    for (name, n) in &s.parser_errors {
        t.push_str(&format!("parser error {name}: {n}\n"));
    }
    t.push_str(&format!("digests: {}\n", s.digests));
    t
}

/// One pcap writer per output port (and one for the host), opened at its first packet.
struct Writers<'d> {
    dir: &'d Path,
    open: BTreeMap<Option<u32>, (String, PcapWriter<BufWriter<File>>)>,
}

impl<'d> Writers<'d> {
    fn new(dir: &'d Path) -> Writers<'d> {
        Writers {
            dir,
            open: BTreeMap::new(),
        }
    }

    /// Writes `bytes` to port `port`'s capture (`None`: the host's).
    fn write(
        &mut self,
        port: Option<u32>,
        timestamp: Duration,
        bytes: &[u8],
    ) -> anyhow::Result<()> {
        if !self.open.contains_key(&port) {
            let name = match port {
                Some(p) => format!("port{p}.pcap"),
                None => "host.pcap".to_string(),
            };
            let path = self.dir.join(&name);
            let file =
                File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
            let header = PcapHeader {
                ts_resolution: TsResolution::NanoSecond,
                // Outputs may grow past the input's length (encapsulation).
                snaplen: 262_144,
                ..PcapHeader::default()
            };
            let writer = PcapWriter::with_header(BufWriter::new(file), header)
                .with_context(|| format!("cannot write {}", path.display()))?;
            self.open.insert(port, (name, writer));
        }
        if let Some((name, writer)) = self.open.get_mut(&port) {
            let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
            writer
                .write_packet(&PcapPacket::new(timestamp, len, bytes))
                .with_context(|| format!("cannot write {}", self.dir.join(&*name).display()))?;
        }
        Ok(())
    }

    /// Flushes every file; returns their names, ports in order then the host's.
    fn finish(self) -> anyhow::Result<Vec<String>> {
        let mut names = Vec::new();
        let mut host = None;
        for (port, (name, writer)) in self.open {
            let mut inner = writer.into_writer();
            inner
                .flush()
                .with_context(|| format!("cannot write {}", self.dir.join(&name).display()))?;
            match port {
                Some(_) => names.push(name),
                None => host = Some(name),
            }
        }
        names.extend(host);
        Ok(names)
    }
}
