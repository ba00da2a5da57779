//! The stateful firewall in the kernel, with `p4tc mon` watching (issue #6): the datapath
//! learns flows with `add_entry` until conntrack is full, the next flow's `add_entry` fails
//! cleanly while learned flows keep flowing, the entries age out with no process but `mon`
//! (which only reads), and `mon -j` printed each create (by the datapath) and each delete (by
//! the timer).
//!
//! Three namespaces the test creates (and always deletes, with the pipeline): H the host
//! side, M the firewall, N the network, joined by veth pairs `h0`-`m0` and `m1`-`n0`.
//! examples/stateful_firewall is loaded on `m0` and `m1` (TC ingress) with conntrack
//! compiled to hold 4 flows (`-D CONNTRACK_SIZE=4`); `m0` is a host port and its route
//! sends 198.51.100.0/24 out of `m1`. H sends one UDP datagram per flow (bash's
//! `/dev/udp`) to 198.51.100.7 through M; a frame the firewall forwards is counted by `n0`'s
//! receive counter (the frames keep M's MAC, so N's stack drops them after counting).
//!
//! A second test checks that digests still reach `mon` (mac_learning_digest on `m0`).
//!
//! Needs root, `ip`, `bash`, bpffs at /sys/fs/bpf and clang; skips with the reason otherwise.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "common/kernel.rs"]
mod kernel;

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kernel::{ip, P4TC};

/// Flows conntrack holds (the example compiled with `-D CONNTRACK_SIZE=4`).
const SIZE: u16 = 4;
/// The first flow's destination port; flow i goes to `BASE_PORT + i`.
const BASE_PORT: u16 = 7001;
/// The peer every flow goes to.
const PEER: &str = "198.51.100.7";
/// H's address.
const HOST: &str = "10.0.0.5";

fn example() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/stateful_firewall/stateful_firewall.p4")
}

fn p4tc(args: &[&str]) -> Output {
    Command::new(P4TC).args(args).output().expect("p4tc runs")
}

fn ok(args: &[&str]) -> String {
    let out = p4tc(args);
    assert!(
        out.status.success(),
        "p4tc {} exited {:?}\nstdout:\n{}\nstderr:\n{}",
        args.join(" "),
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The namespaces, the pipeline, the scratch directory and `p4tc mon`; all gone on drop,
/// whatever happened.
struct Lab {
    h: String,
    m: String,
    n: String,
    pipeline: String,
    dir: std::path::PathBuf,
    mon: Option<Child>,
}

impl Lab {
    /// The lab of test `kind` (two letters; the tests of this file run at once).
    fn new(kind: &str) -> Lab {
        let tag = std::process::id() % 100_000;
        let lab = Lab {
            h: format!("p4{kind}{tag}h"),
            m: format!("p4{kind}{tag}m"),
            n: format!("p4{kind}{tag}n"),
            pipeline: format!("{kind}{tag}"),
            dir: std::env::temp_dir().join(format!("p4tc-{kind}-{tag}")),
            mon: None,
        };
        for ns in [&lab.h, &lab.m, &lab.n] {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
            ip(&["netns", "add", ns]);
            // No IPv6 chatter (router solicitations): n0 must count only forwarded frames.
            let _ = Command::new("ip")
                .args(["netns", "exec", ns, "sh", "-c"])
                .arg("echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6")
                .output();
        }
        ip(&[
            "link", "add", "h0", "netns", &lab.h, "type", "veth", "peer", "name", "m0", "netns",
            &lab.m,
        ]);
        ip(&[
            "link", "add", "m1", "netns", &lab.m, "type", "veth", "peer", "name", "n0", "netns",
            &lab.n,
        ]);
        for (ns, dev) in [
            (&lab.h, "h0"),
            (&lab.m, "m0"),
            (&lab.m, "m1"),
            (&lab.n, "n0"),
        ] {
            ip(&["-n", ns, "link", "set", "dev", dev, "up"]);
        }
        // H reaches 198.51.100.0/24 through M: a gateway whose MAC is m0's, written down so
        // that no ARP crosses the firewall (which drops it).
        ip(&[
            "-n",
            &lab.h,
            "addr",
            "add",
            &format!("{HOST}/24"),
            "dev",
            "h0",
        ]);
        let m0_mac = lab.mac(&lab.m, "m0");
        ip(&[
            "-n",
            &lab.h,
            "neigh",
            "add",
            "10.0.0.1",
            "lladdr",
            &m0_mac,
            "dev",
            "h0",
            "nud",
            "permanent",
        ]);
        ip(&[
            "-n", &lab.h, "route", "add", "default", "via", "10.0.0.1", "dev", "h0",
        ]);
        std::fs::create_dir_all(&lab.dir).expect("scratch dir");
        lab
    }

    fn link(&self, ns: &str, dev: &str) -> serde_json::Value {
        let out = Command::new("ip")
            .args(["-n", ns, "-j", "-s", "link", "show", "dev", dev])
            .output()
            .expect("ip");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("ip -j link show {dev} in {ns}: {e}"));
        v[0].clone()
    }

    fn mac(&self, ns: &str, dev: &str) -> String {
        self.link(ns, dev)["address"]
            .as_str()
            .expect("a MAC")
            .to_string()
    }

    /// Frames `dev` in `ns` has received (a veth counts a frame when its peer sends it,
    /// before any program or stack sees it).
    fn received(&self, ns: &str, dev: &str) -> u64 {
        self.link(ns, dev)["stats64"]["rx"]["packets"]
            .as_u64()
            .expect("rx packets")
    }

    /// A flow from H to PEER:port: a bash in H holding one UDP socket (so one source port)
    /// that sends a datagram per line it reads.
    fn open_flow(&self, port: u16) -> Flow {
        let child = Command::new("ip")
            .args(["netns", "exec", &self.h, "bash", "-c"])
            .arg(format!(
                "exec 3>/dev/udp/{PEER}/{port} || exit 1; while read -r line; do echo \"$line\" >&3; done"
            ))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("bash");
        Flow { port, child }
    }

    /// Sends one datagram of `flow` and says whether it reached n0 (through the firewall).
    fn crosses(&self, flow: &mut Flow) -> bool {
        let (at_m0, at_n0) = (self.received(&self.m, "m0"), self.received(&self.n, "n0"));
        let stdin = flow.child.stdin.as_mut().expect("the flow's stdin");
        writeln!(stdin, "flow {}", flow.port).expect("the flow's bash reads");
        stdin.flush().expect("flush");
        // First the datagram reaches the firewall (its sender is another process, which may
        // be slow to start on a busy machine); then forwarding takes microseconds, so a
        // frame not at n0 300 ms later was not forwarded.
        let sent = wait_for(Duration::from_secs(10), || {
            self.received(&self.m, "m0") > at_m0
        });
        assert!(
            sent.is_some(),
            "the datagram to port {} never left H",
            flow.port
        );
        wait_for(Duration::from_millis(300), || {
            self.received(&self.n, "n0") > at_n0
        })
        .is_some()
    }

    /// conntrack's entries, as `p4tc ctl -j get` lists them.
    fn conntrack(&self) -> Vec<serde_json::Value> {
        let t = format!("{}/table/FwControl/conntrack", self.pipeline);
        let json = ok(&["ctl", "-j", "get", &t]);
        let v: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        v["entries"].as_array().cloned().unwrap_or_default()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(mut mon) = self.mon.take() {
            let _ = mon.kill();
            let _ = mon.wait();
        }
        let _ = p4tc(&["unload", &self.pipeline]);
        for ns in [&self.h, &self.m, &self.n] {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One flow's sender (see `Lab::open_flow`); ends when dropped.
struct Flow {
    port: u16,
    child: Child,
}

impl Drop for Flow {
    fn drop(&mut self) {
        // Its bash ends at the end of its input.
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// Polls `f` until it holds or `limit` passes; how long it took.
fn wait_for(limit: Duration, mut f: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    loop {
        if f() {
            return Some(start.elapsed());
        }
        if start.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The key field `name` of an entry (or event) as p4tc prints it.
fn key_of(v: &serde_json::Value, name: &str) -> String {
    v["key"]
        .as_array()
        .and_then(|k| k.iter().find(|f| f["name"] == name))
        .map(|f| f["value"].as_str().unwrap_or_default().to_string())
        .unwrap_or_default()
}

#[test]
fn firewall_learns_until_full_and_flows_age_out_with_mon_watching() {
    if let Some(why) = kernel::kernel_unavailable() {
        println!("skipped: {why}");
        return;
    }
    if !kernel::runs("bash", "--version") {
        println!("skipped: bash is missing (it sends the datagrams)");
        return;
    }
    let started = Instant::now();
    let mut lab = Lab::new("fw");
    let pipe = lab.pipeline.clone();

    // Load: conntrack of 4 flows; 198.51.100.0/24 goes out of m1; m0 is zone 7 (which the
    // learned entries keep as their action's data).
    let entries = lab.dir.join("fw.entries");
    std::fs::write(
        &entries,
        "create table/FwControl/routes dst 198.51.100.0/24 action FwControl/forward param port m1\n\
         create table/FwControl/zone_of_port port m0 action FwControl/set_zone param zone 7\n",
    )
    .expect("entries file");
    let source = example();
    ok(&[
        "load",
        source.to_str().expect("path"),
        "-D",
        &format!("CONNTRACK_SIZE={SIZE}"),
        "--dev",
        "m0",
        "--dev",
        "m1",
        "--netns",
        &lab.m,
        "--name",
        &pipe,
        "--entries",
        entries.to_str().expect("path"),
        // m0 is the host side: is_host_port(m0) holds.
        "--host-port",
        "m0",
    ]);

    // mon, from before the first packet; its lines are collected as they come.
    let mut mon = Command::new(P4TC)
        .args(["mon", &pipe, "-j"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("p4tc mon runs");
    let lines = Arc::new(Mutex::new(Vec::<serde_json::Value>::new()));
    let reader = {
        let lines = Arc::clone(&lines);
        let stdout = mon.stdout.take().expect("mon's stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| {
                    panic!("mon printed a line that is not JSON ({e}): {line}")
                });
                lines.lock().expect("lines").push(v);
            }
        })
    };
    lab.mon = Some(mon);
    let count = |event: &str, by: &str| {
        lines
            .lock()
            .expect("lines")
            .iter()
            .filter(|v| v["event"] == event && v["by"] == by)
            .count()
    };

    // Flows 1..=4 from the host side: each is learned and forwarded to the network.
    let learned: Vec<u16> = (0..SIZE).map(|i| BASE_PORT + i).collect();
    let mut flows: Vec<Flow> = learned.iter().map(|&p| lab.open_flow(p)).collect();
    for f in &mut flows {
        assert!(lab.crosses(f), "flow to port {} was not forwarded", f.port);
    }
    let table = lab.conntrack();
    assert_eq!(table.len(), usize::from(SIZE), "{table:?}");
    let mut ports: Vec<String> = table.iter().map(|e| key_of(e, "peer_port")).collect();
    ports.sort();
    let want: Vec<String> = learned.iter().map(u16::to_string).collect();
    assert_eq!(ports, want, "{table:?}");

    // Flow 5: conntrack is full, add_entry fails and the program routes nothing (its packet
    // goes up M's own stack, which does not forward); the table is unchanged.
    let mut extra = lab.open_flow(BASE_PORT + SIZE);
    assert!(
        !lab.crosses(&mut extra),
        "flow to port {} crossed a full firewall",
        extra.port
    );
    assert_eq!(lab.conntrack().len(), usize::from(SIZE));
    // The learned flows keep flowing (a hit moves the entry to PROFILE_ESTABLISHED, 3).
    assert!(lab.crosses(&mut flows[0]), "a learned flow stopped");
    drop(extra);
    drop(flows);
    assert!(
        wait_for(Duration::from_secs(2), || count("create", "datapath")
            == usize::from(SIZE))
        .is_some(),
        "mon printed {} creates",
        count("create", "datapath")
    );

    // Age them: profiles 0 (new flows) and 3 (established) to 300 ms. Nothing but mon runs
    // from here: load and ctl have exited; the kernel's timer deletes.
    for profile in [0, 3] {
        ok(&[
            "ctl",
            "update",
            &format!("{pipe}/timer_profile/{profile}"),
            "aging",
            "300",
        ]);
    }
    let aged = wait_for(Duration::from_secs(5), || {
        count("delete", "timer") >= usize::from(SIZE)
    });
    assert!(
        aged.is_some(),
        "mon printed {} timer deletes in 5 s: {:?}",
        count("delete", "timer"),
        lines.lock().expect("lines")
    );
    assert!(lab.conntrack().is_empty(), "conntrack is empty once aged");

    // mon exits 0 on SIGINT; then its output is checked whole.
    let mut mon = lab.mon.take().expect("mon");
    let _ = Command::new("kill")
        .args(["-INT", &mon.id().to_string()])
        .status();
    let status = mon.wait().expect("mon exits");
    reader.join().expect("reader");
    assert_eq!(status.code(), Some(0), "p4tc mon after SIGINT");
    let events = lines.lock().expect("lines").clone();
    let of = |event: &str, by: &str| -> Vec<&serde_json::Value> {
        events
            .iter()
            .filter(|v| v["event"] == event && v["by"] == by)
            .collect()
    };
    let creates = of("create", "datapath");
    let deletes = of("delete", "timer");
    let ports_of = |evs: &[&serde_json::Value]| {
        let mut p: Vec<String> = evs.iter().map(|e| key_of(e, "peer_port")).collect();
        p.sort();
        p
    };
    // One create per learned flow (none for the flow that did not fit), each with its key,
    // the hit action and profile 0 (PROFILE_NEW).
    assert_eq!(ports_of(&creates), want, "{events:?}");
    for c in &creates {
        assert_eq!(c["pipeline"], pipe.as_str());
        assert_eq!(c["table"], format!("{pipe}/table/FwControl/conntrack"));
        assert_eq!(key_of(c, "host_addr"), HOST);
        assert_eq!(key_of(c, "peer_addr"), PEER);
        assert_eq!(key_of(c, "proto"), "17");
        assert_eq!(c["action"]["name"], "FwControl/allow_established");
        assert_eq!(c["action"]["params"][0]["name"], "zone", "{c}");
        assert_eq!(c["action"]["params"][0]["value"], "7", "{c}");
        assert_eq!(c["aging_profile"], 0);
    }
    // One delete per learned flow, by the timer.
    assert_eq!(ports_of(&deletes), want, "{events:?}");
    // The learned flow hit again was updated by the datapath to profile 3, and so aged by it.
    let updates = of("update", "datapath");
    assert_eq!(updates.len(), 1, "{events:?}");
    assert_eq!(key_of(updates[0], "peer_port"), learned[0].to_string());
    assert_eq!(updates[0]["aging_profile"], 3);
    // Nothing else in conntrack, and no digests. (The entries `p4tc load --entries` created
    // may be there, by the control plane, when the control plane publishes its changes.)
    let others: Vec<&serde_json::Value> = events
        .iter()
        .filter(|v| v["by"] != "datapath" && v["by"] != "timer")
        .collect();
    assert_eq!(
        events.len(),
        creates.len() + deletes.len() + updates.len() + others.len(),
        "{events:?}"
    );
    for o in &others {
        assert_eq!(o["by"], "control_plane", "{o}");
        assert_eq!(o["event"], "create", "{o}");
        assert!(
            [
                format!("{pipe}/table/FwControl/routes"),
                format!("{pipe}/table/FwControl/zone_of_port")
            ]
            .iter()
            .any(|t| o["table"] == t.as_str()),
            "{o}"
        );
    }

    // The table has room again: a new flow is learned, and mon's text line says so.
    let mut mon = Command::new(P4TC)
        .args(["mon", &pipe, "--count", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("p4tc mon runs");
    let mut again = lab.open_flow(BASE_PORT + 100);
    assert!(lab.crosses(&mut again), "a flow after the aging");
    let ended = wait_for(Duration::from_secs(5), || {
        mon.try_wait().expect("wait").is_some()
    });
    if ended.is_none() {
        let _ = mon.kill();
    }
    let out = mon.wait_with_output().expect("mon's output");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        ended.is_some() && out.status.success(),
        "mon --count 1: {text}"
    );
    let want = format!(
        "create by datapath: {pipe}/table/FwControl/conntrack host_addr {HOST} peer_addr {PEER} proto 17 host_port "
    );
    assert!(text.contains(&want), "{text}");
    assert!(
        text.trim_end().ends_with(&format!(
            "peer_port {} action FwControl/allow_established param zone 7 profile_id 0",
            BASE_PORT + 100
        )),
        "{text}"
    );
    drop(again);

    drop(lab);
    println!(
        "firewall_kernel: {SIZE} flows learned, the 5th refused, all aged in {:?}; {:?} in all",
        aged.unwrap_or_default(),
        started.elapsed()
    );
}

/// Digests still reach `p4tc mon` beside the entry events: mac_learning_digest on m0 sends
/// one for a frame from an unknown source, and `mon -j --count 1` prints it with its fields.
#[test]
fn mon_prints_a_digest_with_its_fields() {
    if let Some(why) = kernel::kernel_unavailable() {
        println!("skipped: {why}");
        return;
    }
    if !kernel::runs("bash", "--version") {
        println!("skipped: bash is missing (it sends the datagram)");
        return;
    }
    let lab = Lab::new("dg");
    let pipe = lab.pipeline.clone();
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/mac_learning_digest/mac_learning_digest.p4");
    ok(&[
        "load",
        source.to_str().expect("path"),
        "--dev",
        "m0",
        "--netns",
        &lab.m,
        "--name",
        &pipe,
    ]);
    let mon = Command::new(P4TC)
        .args(["mon", &pipe, "-j", "--count", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("p4tc mon runs");
    let mut flow = lab.open_flow(BASE_PORT);
    let _ = lab.crosses(&mut flow);
    drop(flow);
    let mut mon = mon;
    let ended = wait_for(Duration::from_secs(5), || {
        mon.try_wait().expect("wait").is_some()
    });
    if ended.is_none() {
        let _ = mon.kill();
    }
    let out = mon.wait_with_output().expect("mon's output");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        ended.is_some() && out.status.success(),
        "mon --count 1: {text}"
    );
    let v: serde_json::Value = serde_json::from_str(text.trim()).expect("one JSON line");
    assert_eq!(v["event"], "digest", "{v}");
    assert_eq!(v["pipeline"], pipe.as_str(), "{v}");
    let field = |name: &str| {
        v["fields"]
            .as_array()
            .and_then(|f| f.iter().find(|p| p["name"] == name))
            .map(|p| p["value"].as_str().unwrap_or_default().to_string())
            .unwrap_or_default()
    };
    assert_eq!(field("srcAddr"), lab.mac(&lab.h, "h0"), "{v}");
    assert_eq!(field("etherType"), "2048", "{v}");
}
