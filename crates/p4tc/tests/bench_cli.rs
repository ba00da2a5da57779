//! `p4tc bench`: the JSON it prints on both targets, and its errors on bad arguments.
#![allow(clippy::print_stdout)]

#[path = "common/kernel.rs"]
mod kernel;

use std::process::{Command, Output};

use kernel::{simple_l3, P4TC};

/// 10.0.0.1 -> 10.0.0.2, which simple_l3.stf's first entry sends out of port 1.
const HIT: &str =
    "000000000001 00000000000a 0800 45000018 00000000 40060000 0a000001 0a000002 deadbeef";
/// 10.0.0.9: no entry, the default action drops it.
const MISS: &str =
    "000000000001 00000000000a 0800 45000018 00000000 40060000 0a000001 0a000009 deadbeef";

fn stf() -> std::path::PathBuf {
    simple_l3().with_extension("stf")
}

fn bench(args: &[&str]) -> Output {
    Command::new(P4TC)
        .arg("bench")
        .arg(simple_l3())
        .args(args)
        .output()
        .expect("run p4tc")
}

fn json_of(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "p4tc bench failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

#[test]
fn the_interpreter_reports_a_rate_and_each_packets_verdict() {
    let stf = stf();
    let out = bench(&[
        "--target",
        "interp",
        "--entries",
        stf.to_str().unwrap(),
        "--packet",
        HIT,
        "--packet",
        MISS,
        "--repeat",
        "200",
        "--runs",
        "3",
        "-j",
    ]);
    let j = json_of(&out);
    assert_eq!(j["target"], "interp");
    assert_eq!(j["packets"], 2);
    assert_eq!(j["entries"], 2, "simple_l3.stf adds two entries");
    let ns = j["ns_per_packet"].as_f64().expect("ns_per_packet");
    let pps = j["packets_per_second"]
        .as_f64()
        .expect("packets_per_second");
    assert!(ns > 0.0 && pps > 0.0);
    assert!((ns * pps / 1e9 - 1.0).abs() < 1e-6, "pps is 1e9 / ns");
    assert_eq!(j["measurements"].as_array().unwrap().len(), 3);
    assert_eq!(j["per_packet"][0]["verdict"], "send 1");
    assert_eq!(j["per_packet"][1]["verdict"], "drop");
}

#[test]
fn the_kernel_reports_test_run_figures_and_the_redirect_verdict() {
    if let Some(why) = kernel::kernel_unavailable() {
        println!("skipped: {why}");
        return;
    }
    // The same entries as a `p4tc ctl` file.
    let dir = std::env::temp_dir().join(format!("p4tc-bench-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let entries = dir.join("routes.txt");
    std::fs::write(
        &entries,
        "create table/ingress/nh_table dstAddr 10.0.0.2 action send_nh param port 5 param srcMac 00:01:02:03:04:05 param dstMac aa:bb:cc:dd:ee:ff\n",
    )
    .unwrap();
    let out = bench(&[
        "--entries",
        entries.to_str().unwrap(),
        "--packet",
        HIT,
        "--packet",
        MISS,
        "--repeat",
        "1000",
        "--runs",
        "3",
        "-j",
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    let j = json_of(&out);
    assert_eq!(j["target"], "kernel");
    assert_eq!(j["hook"], "tc");
    assert_eq!(j["entries"], 1);
    assert!(j["ns_per_packet"].as_f64().unwrap() > 0.0);
    assert!(j["packets_per_second"].as_f64().unwrap() > 0.0);
    // TC_ACT_REDIRECT (7) on the hit, TC_ACT_SHOT (2) on the miss.
    assert_eq!(j["per_packet"][0]["verdict"], "7");
    assert_eq!(j["per_packet"][1]["verdict"], "2");
    assert!(j["per_packet"][0]["ns_per_packet"].as_f64().unwrap() > 0.0);
}

#[test]
fn a_frame_the_kernel_refuses_at_tc_is_named_with_the_reason() {
    if let Some(why) = kernel::kernel_unavailable() {
        println!("skipped: {why}");
        return;
    }
    // An IPv4 EtherType with 7 bytes after the Ethernet header: BPF_PROG_TEST_RUN at TC
    // refuses it, XDP runs it.
    let short = "000000000001 00000000000a 0800 45000018 000000";
    let args = |hook: &'static str| ["--packet", HIT, "--packet", short, "--hook", hook];
    let out = bench(&args("tc"));
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refuses packet 1 (21 bytes)")
            && err.contains("a whole IPv4 header (20 bytes) does not follow")
            && err.contains("--hook xdp"),
        "{err}"
    );
    let mut xdp = args("xdp").to_vec();
    xdp.extend(["--repeat", "10", "--runs", "1", "-j"]);
    let j = json_of(&bench(&xdp));
    assert_eq!(j["hook"], "xdp");
    assert_eq!(j["per_packet"][1]["bytes"], 21);
}

#[test]
fn bad_arguments_are_refused_with_the_reason() {
    let out = bench(&["--target", "interp", "--packet", "00112g"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--packet #1") && err.contains("not a hex digit: 'g'"),
        "{err}"
    );

    let out = bench(&["--target", "interp"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no packets to send"), "{err}");

    let out = bench(&["--target", "interp", "--packet", "0011", "--runs", "0"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--runs must be at least 1"));

    let out = bench(&[
        "--target",
        "interp",
        "--packet",
        HIT,
        "--entries",
        "/nonexistent/routes.txt",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/routes.txt"), "{err}");
}

#[test]
fn a_bad_entries_file_names_its_line() {
    let dir = std::env::temp_dir().join(format!("p4tc-bench-cli-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let entries = dir.join("bad.stf");
    std::fs::write(
        &entries,
        "add ingress.nh_table dstAddr:0x0a000002 ingress.send_nh(port:1, srcMac:1, dstMac:2)\nadd ingress.no_such_table dstAddr:1 send_nh(port:1, srcMac:1, dstMac:2)\n",
    )
    .unwrap();
    let out = bench(&[
        "--target",
        "interp",
        "--packet",
        HIT,
        "--entries",
        entries.to_str().unwrap(),
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.stf:2"), "{err}");
}
