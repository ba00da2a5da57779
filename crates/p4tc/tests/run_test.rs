//! `p4tc test` and `p4tc run` as a user runs them, on examples/simple_l3: the STF runner must
//! fail (exit 1, naming the line) on a wrong, a missing and an unexpected packet, and pass on
//! a correct test; `p4tc run` must write one capture per output port and a summary.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use pcap_file::pcap::{PcapPacket, PcapReader, PcapWriter};
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionBlock;
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::DataLink;

/// A directory of its own for one test, removed when the test ends.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("p4tc-run-{}-{n}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        TempDir(dir)
    }

    fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, bytes)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        path
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn p4tc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_p4tc"))
        .args(args)
        .output()
        .expect("the p4tc binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn example(file: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/simple_l3")
        .join(file)
        .display()
        .to_string()
}

fn program() -> String {
    example("simple_l3.p4")
}

/// Runs `p4tc test simple_l3.p4 STF` on an STF written into `dir` as `name`.
fn stf_test(dir: &TempDir, name: &str, stf: &str) -> Output {
    let path = dir.write(name, stf);
    p4tc(&["test", &program(), path.to_str().expect("utf-8 path")])
}

fn show(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        output.status.code(),
        stdout(output),
        stderr(output)
    )
}

const ADD: &str = "add ingress.nh_table dstAddr:0x0a000002 \
                   ingress.send_nh(port:1, srcMac:0x000102030405, dstMac:0xaabbccddeeff)\n";
/// 10.0.0.1 -> 10.0.0.2, with a 4-byte payload.
const PACKET: &str = "packet 0 000000000001 00000000000a 0800 45000018 00000000 40060000 \
                      0a000001 0a000002 deadbeef\n";
/// PACKET after send_nh: both MACs rewritten.
const OUT: &str =
    "aabbccddeeff 000102030405 0800 45000018 00000000 40060000 0a000001 0a000002 deadbeef";

#[test]
fn the_simple_l3_stf_passes() {
    let output = p4tc(&["test", &program(), &example("simple_l3.stf")]);
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    assert_eq!(stdout(&output), "PASS (6 packets, 3 expectations)\n");
}

#[test]
fn a_correct_stf_passes() {
    let dir = TempDir::new("correct");
    let output = stf_test(&dir, "ok.stf", &format!("{ADD}{PACKET}expect 1 {OUT} $\n"));
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    assert!(stdout(&output).starts_with("PASS (1 packets, 1 expectations)"));
}

#[test]
fn a_wrong_expectation_fails_naming_its_line() {
    let dir = TempDir::new("wrong");
    let wrong = OUT.replace("deadbeef", "deadbe00");
    let output = stf_test(
        &dir,
        "wrong.stf",
        &format!("{ADD}{PACKET}expect 1 {wrong}\n"),
    );
    assert_eq!(output.status.code(), Some(1), "{}", show(&output));
    let out = stdout(&output);
    assert!(
        out.contains("wrong.stf:3: expect 1: wrong packet (sent by the packet on line 2)"),
        "{out}"
    );
    // The diff shows both versions and marks the difference.
    assert!(out.contains("expected") && out.contains("received") && out.contains('^'));
    assert!(
        out.lines().last().is_some_and(|l| l.starts_with("FAIL")),
        "{out}"
    );
}

#[test]
fn a_missing_packet_fails_naming_its_line() {
    let dir = TempDir::new("missing");
    // No entry: the packet misses and the const default action drops it.
    let output = stf_test(&dir, "missing.stf", &format!("{PACKET}expect 1 {OUT}\n"));
    assert_eq!(output.status.code(), Some(1), "{}", show(&output));
    let out = stdout(&output);
    assert!(
        out.contains("missing.stf:2: expect 1: missing packet"),
        "{out}"
    );
    assert!(
        out.lines().last().is_some_and(|l| l.starts_with("FAIL")),
        "{out}"
    );
}

#[test]
fn an_unexpected_packet_fails_naming_its_line() {
    let dir = TempDir::new("unexpected");
    let output = stf_test(&dir, "extra.stf", &format!("{ADD}{PACKET}"));
    assert_eq!(output.status.code(), Some(1), "{}", show(&output));
    let out = stdout(&output);
    assert!(
        out.contains("extra.stf:2: unexpected packet on port 1"),
        "{out}"
    );
    // A second packet with one expect: the extra one is reported at its own packet line.
    let output = stf_test(
        &dir,
        "extra2.stf",
        &format!("{ADD}{PACKET}expect 1 {OUT}\n{PACKET}"),
    );
    assert_eq!(output.status.code(), Some(1), "{}", show(&output));
    assert!(
        stdout(&output).contains("extra2.stf:4: unexpected packet on port 1"),
        "{}",
        show(&output)
    );
}

#[test]
fn verbose_prints_a_packet_trace() {
    let dir = TempDir::new("verbose");
    let path = dir.write(
        "trace.stf",
        format!(
            "{ADD}{PACKET}expect 1 {OUT}\n{}",
            PACKET.replace("0a000002 ", "0a000009 ")
        ),
    );
    let output = p4tc(&["test", &program(), path.to_str().expect("utf-8"), "-v"]);
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    let out = stdout(&output);
    assert!(out.contains("line 2: packet in port 0 (38 bytes)"), "{out}");
    assert!(out.contains("-> out port 1 (38 bytes)"), "{out}");
    assert!(out.contains("line 4: packet in port 0"), "{out}");
    assert!(out.contains("-> dropped"), "{out}");
}

/// Why the kernel target cannot run here, if it cannot: root, BTF and clang.
fn kernel_unavailable() -> Option<&'static str> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let root = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(2))
        == Some("0");
    if !root {
        return Some("not running as root (loading BPF programs needs it)");
    }
    if !Path::new("/sys/kernel/btf/vmlinux").exists() {
        return Some("the kernel has no BTF (/sys/kernel/btf/vmlinux)");
    }
    let clang = std::env::var("P4TC_CLANG").unwrap_or_else(|_| "clang".into());
    if Command::new(clang).arg("--version").output().is_err() {
        return Some("clang is missing (apt-get install clang llvm libbpf-dev)");
    }
    None
}

#[test]
#[allow(clippy::print_stdout)]
fn the_kernel_target_runs_simple_l3_at_tc_and_xdp_and_stops_at_a_wait() {
    if let Some(why) = kernel_unavailable() {
        println!("skipped: {why}");
        return;
    }
    for hook in ["tc", "xdp"] {
        let output = p4tc(&[
            "test",
            &program(),
            &example("simple_l3.stf"),
            "--target",
            "kernel",
            "--hook",
            hook,
        ]);
        assert_eq!(output.status.code(), Some(0), "{hook}: {}", show(&output));
        assert!(
            stdout(&output).starts_with("PASS (6 packets, 3 expectations)"),
            "{hook}: {}",
            show(&output)
        );
    }
    // A wrong expectation fails on the kernel too, naming its line.
    let dir = TempDir::new("kernelwrong");
    let stf = std::fs::read_to_string(example("simple_l3.stf")).expect("stf");
    let wrong = stf.replacen("expect 1 ", "expect 2 ", 1);
    assert_ne!(wrong, stf);
    let path = dir.write("wrong.stf", &wrong);
    let output = p4tc(&[
        "test",
        &program(),
        &path.display().to_string(),
        "--target",
        "kernel",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", show(&output));
    assert!(stdout(&output).contains("FAIL"), "{}", show(&output));
    // The kernel's clock cannot move: the run stops at `wait` and says so.
    let waits = format!("{stf}\nwait\npacket 0 00\n");
    let path = dir.write("wait.stf", &waits);
    let output = p4tc(&[
        "test",
        &program(),
        &path.display().to_string(),
        "--target",
        "kernel",
    ]);
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    assert!(
        out.contains("stopped: wait is not supported on the kernel target"),
        "{out}"
    );
    assert!(out.contains("not run"), "{out}");
}

#[test]
fn a_bad_stf_line_is_reported_with_its_position() {
    let dir = TempDir::new("badstf");
    let output = stf_test(&dir, "bad.stf", "packet 0 0011\nexpekt 1 00\n");
    assert_eq!(output.status.code(), Some(1), "{}", show(&output));
    assert!(
        stderr(&output).contains("bad.stf:2:1: error: unknown statement `expekt`"),
        "{}",
        show(&output)
    );
}

#[test]
fn unreadable_files_exit_2() {
    let output = p4tc(&["test", &program(), "/nonexistent/x.stf"]);
    assert_eq!(output.status.code(), Some(2), "{}", show(&output));
    assert!(stderr(&output).contains("cannot read /nonexistent/x.stf"));
}

#[test]
fn a_program_with_errors_prints_its_diagnostics_and_exits_1() {
    let dir = TempDir::new("badp4");
    let p4 = dir.write("bad.p4", "control c() { apply { x = 1; } }\n");
    let stf = dir.write("t.stf", "packet 0 00\n");
    let output = p4tc(&[
        "test",
        p4.to_str().expect("utf-8"),
        stf.to_str().expect("utf-8"),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", show(&output));
    assert!(stderr(&output).contains("bad.p4:1:"), "{}", show(&output));
}

// ---- p4tc run

/// An IPv4 frame from 10.0.0.1 to `dst` with a 4-byte payload.
fn frame(dst: [u8; 4]) -> Vec<u8> {
    let mut f = vec![0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0x0a, 0x08, 0x00];
    f.extend([0x45, 0, 0, 0x18, 0, 0, 0, 0, 0x40, 0x06, 0, 0, 10, 0, 0, 1]);
    f.extend(dst);
    f.extend([0xde, 0xad, 0xbe, 0xef]);
    f
}

fn write_pcap(path: &Path, frames: &[Vec<u8>]) {
    let file = std::fs::File::create(path).expect("create pcap");
    let mut writer = PcapWriter::new(file).expect("pcap header");
    for (i, f) in frames.iter().enumerate() {
        let ts = Duration::from_millis(100 * i as u64);
        writer
            .write_packet(&PcapPacket::new(ts, f.len() as u32, f))
            .expect("pcap packet");
    }
}

fn read_pcap(path: &Path) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = PcapReader::new(bytes.as_slice()).expect("a pcap");
    let mut frames = Vec::new();
    while let Some(p) = reader.next_packet() {
        frames.push(p.expect("a packet").data.into_owned());
    }
    frames
}

const ENTRIES: &str = "# two next hops\n\
    create table/ingress/nh_table dstAddr 10.0.0.2 action send_nh \
    param port 1 param srcMac 00:01:02:03:04:05 param dstMac aa:bb:cc:dd:ee:ff\n\
    create table/ingress/nh_table dstAddr 10.0.0.3 action send_nh \
    param port 2 param srcMac 00:01:02:03:04:0a param dstMac 11:22:33:44:55:66\n";

fn summary(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("summary.json")).expect("summary.json");
    serde_json::from_str(&text).expect("summary.json is JSON")
}

#[test]
fn run_writes_one_capture_per_port_and_a_summary() {
    let dir = TempDir::new("run");
    let input = dir.path().join("in.pcap");
    write_pcap(
        &input,
        &[
            frame([10, 0, 0, 2]),
            frame([10, 0, 0, 3]),
            frame([10, 0, 0, 9]),
            frame([10, 0, 0, 2]),
        ],
    );
    let entries = dir.write("entries.txt", ENTRIES);
    let out = dir.path().join("out");
    let output = p4tc(&[
        "run",
        &program(),
        "--entries",
        entries.to_str().expect("utf-8"),
        "--in",
        input.to_str().expect("utf-8"),
        "--out-dir",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    let text = stdout(&output);
    assert!(text.contains("packets in: 4"), "{text}");
    assert!(text.contains("out port 1: 2"), "{text}");
    assert!(text.contains("dropped: 1"), "{text}");

    let port1 = read_pcap(&out.join("port1.pcap"));
    let mut expected = frame([10, 0, 0, 2]);
    expected[..12].copy_from_slice(&[0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0, 1, 2, 3, 4, 5]);
    assert_eq!(port1, [expected.clone(), expected]);
    let port2 = read_pcap(&out.join("port2.pcap"));
    assert_eq!(port2.len(), 1);
    assert_eq!(port2[0][..6], [0x11, 0x22, 0x33, 0x44, 0x55, 0x66]);
    assert!(!out.join("port0.pcap").exists());
    assert!(!out.join("host.pcap").exists());

    let s = summary(&out);
    assert_eq!(s["packets_in"], 4);
    assert_eq!(s["out"]["1"], 2);
    assert_eq!(s["out"]["2"], 1);
    assert_eq!(s["dropped"], 1);
    assert_eq!(s["passed_to_host"], 0);
    assert_eq!(s["digests"], 0);
}

#[test]
fn run_without_entries_drops_everything() {
    let dir = TempDir::new("run-empty");
    let input = dir.path().join("in.pcap");
    write_pcap(&input, &[frame([10, 0, 0, 2]), frame([10, 0, 0, 3])]);
    let out = dir.path().join("out");
    let output = p4tc(&[
        "run",
        &program(),
        "--in",
        input.to_str().expect("utf-8"),
        "--out-dir",
        out.to_str().expect("utf-8"),
        "-j",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    let printed: serde_json::Value =
        serde_json::from_str(&stdout(&output)).expect("-j prints JSON");
    assert_eq!(printed, summary(&out));
    assert_eq!(printed["packets_in"], 2);
    assert_eq!(printed["dropped"], 2);
    assert_eq!(printed["out"], serde_json::json!({}));
}

#[test]
fn run_reads_pcapng_ports_from_interfaces() {
    let dir = TempDir::new("run-ng");
    let input = dir.path().join("in.pcapng");
    let file = std::fs::File::create(&input).expect("create pcapng");
    let mut writer = PcapNgWriter::new(file).expect("pcapng header");
    for _ in 0..2 {
        writer
            .write_pcapng_block(InterfaceDescriptionBlock::new(DataLink::ETHERNET, 0xffff))
            .expect("interface");
    }
    for (interface, dst) in [(0, [10, 0, 0, 2]), (1, [10, 0, 0, 9]), (1, [10, 0, 0, 2])] {
        let data = frame(dst);
        writer
            .write_pcapng_block(EnhancedPacketBlock {
                interface_id: interface,
                timestamp: Duration::from_micros(5),
                original_len: data.len() as u32,
                data: Cow::Owned(data),
                options: vec![],
            })
            .expect("packet");
    }
    drop(writer);
    let out = dir.path().join("out");
    let output = p4tc(&[
        "run",
        &program(),
        "--in",
        input.to_str().expect("utf-8"),
        "--out-dir",
        out.to_str().expect("utf-8"),
        "-j",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    assert_eq!(summary(&out)["packets_in"], 3);
}

#[test]
fn a_malformed_capture_is_named_with_its_problem() {
    let dir = TempDir::new("run-bad");
    let out = dir.path().join("out");
    let garbage = dir.write("garbage.pcap", b"this is not a capture");
    let output = p4tc(&[
        "run",
        &program(),
        "--in",
        garbage.to_str().expect("utf-8"),
        "--out-dir",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", show(&output));
    let err = stderr(&output);
    assert!(
        err.contains("garbage.pcap: not a pcap or pcapng file"),
        "{err}"
    );

    // A capture cut in the middle of its second packet.
    let input = dir.path().join("cut.pcap");
    write_pcap(&input, &[frame([10, 0, 0, 2]), frame([10, 0, 0, 3])]);
    let bytes = std::fs::read(&input).expect("read back");
    std::fs::write(&input, &bytes[..bytes.len() - 10]).expect("cut");
    let output = p4tc(&[
        "run",
        &program(),
        "--in",
        input.to_str().expect("utf-8"),
        "--out-dir",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", show(&output));
    let err = stderr(&output);
    assert!(err.contains("cut.pcap: bad pcap file"), "{err}");
    assert!(err.contains("packet 2"), "{err}");
}

#[test]
fn run_replaces_the_outputs_of_an_earlier_run_only() {
    let dir = TempDir::new("run-again");
    let input = dir.path().join("in.pcap");
    write_pcap(&input, &[frame([10, 0, 0, 9])]);
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).expect("out dir");
    std::fs::write(out.join("port9.pcap"), b"stale").expect("stale capture");
    std::fs::write(out.join("port9.pcap.txt"), b"mine").expect("a user's file");
    let output = p4tc(&[
        "run",
        &program(),
        "--in",
        input.to_str().expect("utf-8"),
        "--out-dir",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    assert!(!out.join("port9.pcap").exists());
    assert!(out.join("port9.pcap.txt").exists());
    assert_eq!(summary(&out)["packets_in"], 1);
}

fn example_program(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
        .join(format!("{name}.p4"))
        .display()
        .to_string()
}

/// Writes `frames` at the given seconds since the capture's start.
fn write_timed_pcap(path: &Path, frames: &[(u64, Vec<u8>)]) {
    let file = std::fs::File::create(path).expect("create pcap");
    let mut writer = PcapWriter::new(file).expect("pcap header");
    for (secs, f) in frames {
        let ts = Duration::from_secs(1_000 + secs);
        writer
            .write_packet(&PcapPacket::new(ts, f.len() as u32, f))
            .expect("pcap packet");
    }
}

fn hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).expect("ascii"), 16).expect("hex"))
        .collect()
}

#[test]
fn run_ages_entries_by_the_capture_timestamps() {
    // conntrack_aging learns a flow from its SYN; entries age 30 s after their last hit, and
    // an ACK of an unknown flow is dropped.
    let syn = hex(
        "020000000002 020000000001 0800 4500002800000000400666ce0a0000010a000002 \
                   04d2005000000064000000005002ffff965a0000",
    );
    let ack = hex(
        "020000000002 020000000001 0800 4500002800000000400666ce0a0000010a000002 \
                   04d2005000000064000003855010ffff92c70000",
    );
    let dir = TempDir::new("run-aging");
    let entries = dir.write(
        "entries.txt",
        "create table/CtControl/port_pairs istd.input_port 1 action forward param port 2\n",
    );
    let mut forwarded = Vec::new();
    for gap in [10, 40] {
        let input = dir.path().join(format!("in{gap}.pcap"));
        write_timed_pcap(&input, &[(0, syn.clone()), (gap, ack.clone())]);
        let out = dir.path().join(format!("out{gap}"));
        let output = p4tc(&[
            "run",
            &example_program("conntrack_aging"),
            "--entries",
            entries.to_str().expect("utf-8"),
            "--in",
            input.to_str().expect("utf-8"),
            "--port",
            "1",
            "--out-dir",
            out.to_str().expect("utf-8"),
        ]);
        assert_eq!(output.status.code(), Some(0), "{}", show(&output));
        forwarded.push(summary(&out)["out"]["2"].clone());
    }
    // 10 s later the flow is still there; 40 s later it has aged out.
    assert_eq!(forwarded, [2, 1]);
}

#[test]
fn run_counts_digests() {
    // mac_learning_digest reports every unknown source MAC with a digest.
    let frame = hex("020000000002 020000000009 0800 4500000000000000000000000000000000000000");
    let dir = TempDir::new("run-digests");
    let input = dir.path().join("in.pcap");
    write_pcap(&input, &[frame.clone(), frame.clone(), frame]);
    let out = dir.path().join("out");
    let output = p4tc(&[
        "run",
        &example_program("mac_learning_digest"),
        "--in",
        input.to_str().expect("utf-8"),
        "--out-dir",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    assert!(stdout(&output).contains("digests: 3"), "{}", show(&output));
    assert_eq!(summary(&out)["digests"], 3);
}
