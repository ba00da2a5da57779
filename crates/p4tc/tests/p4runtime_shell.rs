//! `p4tc serve` driven by p4runtime-shell (the P4Runtime client from PyPI), with the kernel
//! datapath checked by real frames after each write: the pipeline set from what `p4tc
//! compile` wrote, every match kind inserted, modified, read and deleted, counters read,
//! and entries shared with `p4tc ctl` both ways (`p4runtime_shell/drive.py` does the
//! talking; this file makes the namespaces and the server).
//!
//! Three namespaces (always deleted): A and B are hosts, M the device, joined by veths
//! `va`-`ma` and `mb`-`vb`; the pipeline runs at TC ingress of `ma`.
//!
//! Needs root, `ip`, bpffs, clang, python3 and p4runtime-shell
//! (`python3 -m pip install p4runtime-shell`); skips with the reason otherwise, except that
//! under `CI=true` a missing p4runtime-shell fails the test.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "common/kernel.rs"]
mod kernel;

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kernel::{ip, P4TC};

fn shell_missing() -> Option<String> {
    let ok = Command::new("python3")
        .args(["-c", "import p4runtime_sh.shell"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    (!ok).then(|| {
        "p4runtime-shell is not installed (python3 -m pip install p4runtime-shell)".to_string()
    })
}

struct Lab {
    ns: [String; 3],
    pipeline: String,
    dir: PathBuf,
    server: Option<Child>,
}

impl Lab {
    /// The namespaces and veths; `tag` keeps this test's names apart from the other
    /// test's in the same process.
    fn new(tag: &str) -> Lab {
        let pid = std::process::id();
        let lab = Lab {
            ns: [
                format!("p4rt{tag}{pid}m"),
                format!("p4rt{tag}{pid}a"),
                format!("p4rt{tag}{pid}b"),
            ],
            pipeline: format!("p4rt{tag}{pid}"),
            dir: std::env::temp_dir().join(format!("p4tc-p4rt-shell-{tag}{pid}")),
            server: None,
        };
        for ns in &lab.ns {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
            ip(&["netns", "add", ns]);
            let _ = Command::new("ip")
                .args(["netns", "exec", ns, "sh", "-c"])
                .arg("echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6")
                .output();
        }
        let (m, a, b) = (&lab.ns[0], &lab.ns[1], &lab.ns[2]);
        ip(&[
            "link", "add", "va", "netns", a, "type", "veth", "peer", "name", "ma", "netns", m,
        ]);
        ip(&[
            "link", "add", "vb", "netns", b, "type", "veth", "peer", "name", "mb", "netns", m,
        ]);
        for (ns, dev) in [(a, "va"), (m, "ma"), (m, "mb"), (b, "vb")] {
            ip(&["-n", ns, "link", "set", "dev", dev, "up"]);
        }
        std::fs::create_dir_all(&lab.dir).expect("scratch dir");
        lab
    }

    fn ifindex(&self, ns: &str, dev: &str) -> u32 {
        let out = Command::new("ip")
            .args(["-n", ns, "-o", "link", "show", "dev", dev])
            .output()
            .expect("ip");
        let text = String::from_utf8_lossy(&out.stdout);
        text.split(':')
            .next()
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("no ifindex for {dev} in {ns}: {text}"))
    }
}

impl Lab {
    /// Starts `p4tc serve --dev ma --netns M`; returns its address.
    fn serve(&mut self) -> String {
        let mut server = Command::new(P4TC)
            .args([
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--dev",
                "ma",
                "--netns",
                &self.ns[0],
            ])
            .stderr(Stdio::piped())
            .spawn()
            .expect("p4tc serve starts");
        let stderr = server.stderr.take().expect("stderr");
        self.server = Some(server);
        let mut lines = BufReader::new(stderr).lines();
        let addr = loop {
            let line = lines
                .next()
                .and_then(Result::ok)
                .expect("p4tc serve says where it listens");
            if let Some(rest) = line.split(" on ").nth(1) {
                break rest.split_whitespace().next().expect("address").to_string();
            }
        };
        // Keep reading the server's stderr so it never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                eprintln!("serve: {line}");
            }
        });
        addr
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(mut server) = self.server.take() {
            let _ = server.kill();
            let _ = server.wait();
        }
        let _ = Command::new(P4TC).args(["unload", &self.pipeline]).output();
        let serve_dir = std::env::var_os("P4TC_STATE_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/run/p4tc"))
            .join("serve")
            .join(&self.pipeline);
        let _ = std::fs::remove_dir_all(serve_dir);
        for ns in &self.ns {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn p4runtime_shell_drives_the_kernel_datapath() {
    if let Some(why) = shell_missing() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{why}: CI must run this test");
        }
        println!("skipped: {why}");
        return;
    }
    if let Some(why) = kernel::kernel_unavailable() {
        println!("skipped: {why}");
        return;
    }
    let started = Instant::now();
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/p4runtime_shell");
    let mut lab = Lab::new("S");
    let out_dir = lab.dir.join("out");
    let compiled = Command::new(P4TC)
        .arg("compile")
        .arg(here.join("kinds.p4"))
        .arg("-o")
        .arg(&out_dir)
        .args(["--name", &lab.pipeline])
        .output()
        .expect("p4tc compile runs");
    assert!(
        compiled.status.success(),
        "p4tc compile: {}",
        String::from_utf8_lossy(&compiled.stderr)
    );
    // Named after the pipeline or the file, as `p4tc compile` chooses: found by extension.
    let find = |suffix: &str| {
        std::fs::read_dir(&out_dir)
            .expect("compile output")
            .flatten()
            .map(|e| e.path())
            .find(|p| p.to_string_lossy().ends_with(suffix))
            .unwrap_or_else(|| panic!("no *{suffix} in {out_dir:?}"))
    };
    let p4info = find(".p4info.txtpb");
    let config = find(".p4tc");
    assert!(
        p4info.exists() && config.exists(),
        "compile wrote {out_dir:?}"
    );

    let m = lab.ns[0].clone();
    let addr = lab.serve();

    let out = lab.ifindex(&m, "mb");
    let back = lab.ifindex(&m, "ma");
    let mut drive = Command::new("python3")
        .arg(here.join("drive.py"))
        .args(["--grpc", &addr])
        .arg("--p4info")
        .arg(&p4info)
        .arg("--config")
        .arg(&config)
        .args(["--p4tc", P4TC, "--pipeline", &lab.pipeline])
        .args(["--ns-a", &lab.ns[1], "--ns-b", &lab.ns[2]])
        .args(["--out", &out.to_string(), "--back", &back.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs drive.py");
    let stdout = drive.stdout.take().expect("stdout");
    let mut steps = Vec::new();
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        println!("{line}");
        steps.push(line);
    }
    let status = drive.wait().expect("drive.py ends");
    assert!(
        status.success() && steps.last().map(String::as_str) == Some("done"),
        "drive.py failed: {steps:#?}"
    );
    assert!(
        steps.iter().filter(|s| s.starts_with("ok:")).count() >= 14,
        "every step ran: {steps:#?}"
    );
    println!(
        "p4runtime-shell against the kernel datapath: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(started.elapsed() < Duration::from_secs(120));
}

/// PacketOut and PacketIn with p4runtime-shell on the kernel datapath: a PacketOut to
/// `mb`'s ifindex arrives on `vb`, and a frame sent on `va` that the program sends to the
/// CPU port arrives as a PacketIn with `ma`'s ifindex as its ingress_port.
#[test]
fn p4runtime_shell_packet_out_and_packet_in_on_the_kernel_datapath() {
    if let Some(why) = shell_missing() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{why}: CI must run this test");
        }
        println!("skipped: {why}");
        return;
    }
    if let Some(why) = kernel::kernel_unavailable() {
        println!("skipped: {why}");
        return;
    }
    let started = Instant::now();
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/p4runtime_shell");
    let program = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../p4tc-p4runtime/tests/packet_io/packet_io.p4");
    let mut lab = Lab::new("P");
    let out_dir = lab.dir.join("out");
    let compiled = Command::new(P4TC)
        .arg("compile")
        .arg(&program)
        .arg("-o")
        .arg(&out_dir)
        .args(["--name", &lab.pipeline])
        .output()
        .expect("p4tc compile runs");
    assert!(
        compiled.status.success(),
        "p4tc compile: {}",
        String::from_utf8_lossy(&compiled.stderr)
    );
    // p4tc compile's own P4Info, controller headers included.
    let find = |suffix: &str| {
        std::fs::read_dir(&out_dir)
            .expect("compile output")
            .flatten()
            .map(|e| e.path())
            .find(|p| p.to_string_lossy().ends_with(suffix))
            .unwrap_or_else(|| panic!("p4tc compile wrote no {suffix}"))
    };
    let config = find(".p4tc");
    let p4info = find(".p4info.txtpb");
    let text = std::fs::read_to_string(&p4info).expect("p4info readable");
    assert!(
        text.contains("controller_packet_metadata") && text.contains("\"packet_out\""),
        "p4tc compile's P4Info lacks the controller headers:\n{text}"
    );

    let m = lab.ns[0].clone();
    let addr = lab.serve();
    let out = lab.ifindex(&m, "mb");
    let ingress = lab.ifindex(&m, "ma");
    let run = Command::new("python3")
        .arg(here.join("packet_io.py"))
        .args(["--grpc", &addr])
        .arg("--p4info")
        .arg(&p4info)
        .arg("--config")
        .arg(&config)
        .args(["--ns-a", &lab.ns[1], "--ns-b", &lab.ns[2]])
        .args(["--out", &out.to_string(), "--ingress", &ingress.to_string()])
        .output()
        .expect("python3 runs packet_io.py");
    let stdout = String::from_utf8_lossy(&run.stdout);
    println!("{stdout}");
    assert!(
        run.status.success() && stdout.lines().last() == Some("done"),
        "packet_io.py failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(stdout.lines().filter(|s| s.starts_with("ok:")).count(), 5);
    println!(
        "packet I/O against the kernel datapath: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
