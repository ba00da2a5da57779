//! What the kernel tests of the `p4tc` binary share: whether this machine can run them, and
//! `ip` for the namespaces and veths they make.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The binary under test.
pub const P4TC: &str = env!("CARGO_BIN_EXE_p4tc");

/// examples/simple_l3/simple_l3.p4.
pub fn simple_l3() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/simple_l3/simple_l3.p4")
}

/// `cmd arg` runs and succeeds.
pub fn runs(cmd: &str, arg: &str) -> bool {
    Command::new(cmd)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Why a kernel test cannot run here (not root, no `ip`, no clang, no bpffs), if it cannot.
pub fn kernel_unavailable() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let root = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(2))
        == Some("0");
    if !root {
        return Some("not running as root (namespaces and BPF need it)".into());
    }
    if !runs("ip", "-V") {
        return Some("`ip` (iproute2) is missing".into());
    }
    if !p4tc_ebpf::clang::available() {
        return Some("clang is missing (apt-get install clang llvm libbpf-dev)".into());
    }
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    if !mounts.lines().any(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        f.get(1) == Some(&"/sys/fs/bpf") && f.get(2) == Some(&"bpf")
    }) {
        return Some("no bpffs at /sys/fs/bpf (mount -t bpf bpf /sys/fs/bpf)".into());
    }
    None
}

/// Runs `ip ARGS`, failing the test with its stderr when it fails.
pub fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("ip");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}
