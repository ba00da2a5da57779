//! `p4tc ctl` and `p4tc mon` on a pipeline `p4tc load` left in the kernel: simple_l3 loaded
//! on a veth in a namespace the test creates (and always deletes, with the pipeline), then
//! entries created, read (text and JSON), refused, updated, dumped, deleted and flushed by
//! separate `p4tc ctl` processes; 500 entries from a bulk file; `help`; a bad table name;
//! `p4tc mon --count 1` seeing the aging timer delete a dynamic entry.
//!
//! Needs root, `ip`, bpffs at /sys/fs/bpf and clang; skips with the reason otherwise.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "common/kernel.rs"]
mod kernel;

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use kernel::{ip, P4TC};

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn p4tc(args: &[&str]) -> Output {
    Command::new(P4TC).args(args).output().expect("p4tc runs")
}

fn run(args: &[&str], code: i32) -> (String, String) {
    let out = p4tc(args);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert_eq!(
        out.status.code(),
        Some(code),
        "p4tc {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        args.join(" ")
    );
    (stdout, stderr)
}

/// The namespace and the pipeline, removed on drop.
struct Lab {
    ns: String,
    pipeline: String,
}

impl Lab {
    fn new() -> Lab {
        let tag = format!("{}", std::process::id() % 100_000);
        let lab = Lab {
            ns: format!("p4ctl{tag}"),
            pipeline: format!("ctl{tag}"),
        };
        let _ = Command::new("ip").args(["netns", "del", &lab.ns]).output();
        ip(&["netns", "add", &lab.ns]);
        ip(&[
            "-n", &lab.ns, "link", "add", "c0", "type", "veth", "peer", "name", "c1",
        ]);
        ip(&["-n", &lab.ns, "link", "set", "c0", "up"]);
        ip(&["-n", &lab.ns, "link", "set", "c1", "up"]);
        lab
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = p4tc(&["unload", &self.pipeline]);
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).output();
    }
}

#[test]
fn ctl_and_mon_on_a_loaded_pipeline() {
    if let Some(why) = kernel::kernel_unavailable() {
        println!("skipped: {why}");
        return;
    }
    let started = Instant::now();
    let lab = Lab::new();
    let pipe = lab.pipeline.as_str();
    let source = kernel::simple_l3();
    run(
        &[
            "load",
            source.to_str().unwrap(),
            "--dev",
            "c0",
            "--netns",
            &lab.ns,
            "--name",
            pipe,
        ],
        0,
    );
    let table = format!("{pipe}/table/ingress/nh_table");
    let t = table.as_str();
    let send = [
        "action",
        "send_nh",
        "param",
        "port",
        "c1",
        "param",
        "srcMac",
        "00:01:02:03:04:05",
        "param",
        "dstMac",
        "aa:bb:cc:dd:ee:01",
    ];
    let ctl = |words: &[&str], code: i32| {
        let mut args = vec!["ctl"];
        args.extend_from_slice(words);
        run(&args, code)
    };
    let with = |head: &[&str], tail: &[&str]| -> Vec<String> {
        head.iter().chain(tail).map(|s| s.to_string()).collect()
    };

    // Create, get (text and JSON).
    let create = with(&["create", t, "dstAddr", "10.0.1.2"], &send);
    ctl(&strs(&create), 0);
    let (text, _) = ctl(&["get", t, "dstAddr", "10.0.1.2"], 0);
    assert!(
        text.contains("10.0.1.2") && text.contains("send_nh"),
        "{text}"
    );
    let (json, _) = ctl(&["-j", "get", t, "dstAddr", "10.0.1.2"], 0);
    let v: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(v["entries"][0]["key"][0]["value"], "10.0.1.2", "{json}");
    assert_eq!(v["entries"][0]["action"]["name"], "ingress/send_nh");
    // The port was named: c1's index in the namespace.
    assert_ne!(v["entries"][0]["action"]["params"][0]["value"], "c1");

    // The same key again: refused.
    let (_, err) = ctl(&strs(&create), 1);
    assert!(err.contains("exists"), "{err}");

    // Update, dump.
    ctl(&["update", t, "dstAddr", "10.0.1.2", "action", "drop"], 0);
    let create2 = with(&["create", t, "dstAddr", "10.0.2.2"], &send);
    ctl(&strs(&create2), 0);
    let (json, _) = ctl(&["-j", "get", t], 0);
    let v: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let entries = v["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 2, "{json}");
    assert!(entries
        .iter()
        .any(|e| e["key"][0]["value"] == "10.0.1.2" && e["action"]["name"] == "ingress/drop"));

    // Delete one, flush the rest.
    ctl(&["delete", t, "dstAddr", "10.0.1.2"], 0);
    let (_, err) = ctl(&["get", t, "dstAddr", "10.0.1.2"], 1);
    assert!(!err.is_empty());
    ctl(&["delete", t], 0);
    let (json, _) = ctl(&["-j", "get", t], 0);
    let v: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(v["entries"].as_array().map(Vec::len), Some(0), "{json}");

    // A bulk file of 500 entries.
    let dir = std::env::temp_dir().join(format!("p4tc-ctl-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bulk.txt");
    let mut text = String::new();
    for i in 0..500u32 {
        text.push_str(&format!(
            "create table/ingress/nh_table dstAddr 10.9.{}.{} action send_nh param port 1 param srcMac 00:01:02:03:04:05 param dstMac aa:bb:cc:dd:ee:02\n",
            i / 256,
            i % 256
        ));
    }
    std::fs::write(&file, text).unwrap();
    ctl(&["-b", file.to_str().unwrap(), pipe], 0);
    let _ = std::fs::remove_dir_all(&dir);
    let (json, _) = ctl(&["-j", "get", t], 0);
    let v: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(v["entries"].as_array().map(Vec::len), Some(500));
    ctl(&["delete", t], 0);

    // help, and a bad table name.
    let (help, _) = ctl(&[pipe, "help"], 0);
    assert!(help.contains("ingress/nh_table"), "{help}");
    let bad = format!("{pipe}/table/ingress/no_such_table");
    let (_, err) = ctl(&["get", &bad], 2);
    assert!(err.contains("no_such_table"), "{err}");
    let (_, err) = ctl(&["get", "no_such_pipeline/table/ingress/nh_table"], 2);
    assert!(err.contains("no_such_pipeline"), "{err}");

    // mon sees the aging timer delete a dynamic entry.
    ctl(
        &["update", &format!("{pipe}/timer_profile/0"), "aging", "100"],
        0,
    );
    // Twice: the second reader starts where the first one left the ring.
    for addr in ["10.0.3.3", "10.0.3.4"] {
        mon_sees_aging(pipe, t, addr);
    }
    // Interrupted, it exits 0.
    let mon = Command::new(P4TC)
        .args(["mon", pipe])
        .stdout(Stdio::null())
        .spawn()
        .expect("p4tc mon runs");
    std::thread::sleep(Duration::from_millis(300));
    let _ = Command::new("kill")
        .args(["-INT", &mon.id().to_string()])
        .status();
    let out = mon.wait_with_output().expect("mon exits");
    assert_eq!(out.status.code(), Some(0), "p4tc mon after SIGINT");
    drop(lab);
    println!("ctl_cli: {:?}", started.elapsed());
}

/// `p4tc mon`, a process of its own, sees this process's `p4tc ctl create` of the dynamic entry
/// `addr` (by the control plane), then the kernel's aging timer delete it. Earlier changes wait
/// in the ring until read, so mon prints those first: they are skipped, not counted.
fn mon_sees_aging(pipe: &str, t: &str, addr: &str) {
    let mut mon = Command::new(P4TC)
        .args(["mon", pipe, "-j"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("p4tc mon runs");
    let stdout = mon.stdout.take().expect("piped");
    let (lines_tx, lines) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead as _;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    std::thread::sleep(Duration::from_millis(300));
    run(
        &[
            "ctl", "create", t, "dstAddr", addr, "action", "drop", "dynamic",
        ],
        0,
    );
    let about_addr = |e: &serde_json::Value| e["key"][0]["value"] == addr;
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut seen = Vec::new();
    let (mut created, mut deleted) = (false, false);
    while !deleted {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(line) = lines.recv_timeout(left) else {
            break;
        };
        let event: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("mon printed a line that is not JSON ({e}): {line}"));
        if about_addr(&event) && event["event"] == "create" {
            assert_eq!(event["by"], "control_plane", "{line}");
            created = true;
        } else if about_addr(&event) && event["event"] == "delete" {
            assert!(
                created,
                "the delete of {addr} came before its create: {seen:?}"
            );
            assert_eq!(event["by"], "timer", "{line}");
            deleted = true;
        }
        seen.push(line);
    }
    let _ = Command::new("kill")
        .args(["-INT", &mon.id().to_string()])
        .status();
    let status = mon.wait().expect("mon exits");
    let _ = reader.join();
    assert!(
        created && deleted,
        "in 5 s p4tc mon printed no create by the control plane and delete by the timer of {addr}; it printed:\n{}",
        seen.join("\n")
    );
    assert_eq!(status.code(), Some(0), "p4tc mon after SIGINT");
}
