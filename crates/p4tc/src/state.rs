//! Where loaded pipelines live, and what `p4tc load` remembers about them.
//!
//! bpffs holds only BPF objects, so a pipeline is two things:
//! - its pins, `/sys/fs/bpf/p4tc/PIPELINE/`: every map under its symbol name (the tables, for
//!   control-plane processes), the program as `prog-p4tc_main`, and each attachment's link as
//!   `link-NETNS-IFACE-POINT` (tcx and XDP links; a clsact filter needs no pin);
//! - its state file, `/run/p4tc/PIPELINE.json` (a [`State`]): the source, the hook, the
//!   attachments and the tables' maps, so that `p4tc show` and `p4tc unload` need nothing but
//!   the pins and this file. The generated C and the object are kept beside it, in
//!   `/run/p4tc/PIPELINE/`.
//!
//! `$P4TC_BPFFS_DIR` and `$P4TC_STATE_DIR` move the two roots (tests, several users).

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

/// The root of the pins: `$P4TC_BPFFS_DIR`, else `/sys/fs/bpf/p4tc`.
pub fn pin_root() -> PathBuf {
    std::env::var_os("P4TC_BPFFS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/sys/fs/bpf/p4tc"))
}

/// The root of the state files: `$P4TC_STATE_DIR`, else `/run/p4tc`.
pub fn state_root() -> PathBuf {
    std::env::var_os("P4TC_STATE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/run/p4tc"))
}

/// The pipeline's pin directory.
pub fn pin_dir(pipeline: &str) -> PathBuf {
    pin_root().join(pipeline)
}

/// The pipeline's state file.
pub fn state_file(pipeline: &str) -> PathBuf {
    state_root().join(format!("{pipeline}.json"))
}

/// Where the pipeline's C and object are kept.
pub fn build_dir(pipeline: &str) -> PathBuf {
    state_root().join(pipeline)
}

/// The file of the network namespace `name` (as `ip netns` makes them).
pub fn netns_path(name: &str) -> PathBuf {
    Path::new("/var/run/netns").join(name)
}

/// Checks that `name` can name a pipeline: P4TC allows 32 characters; we also keep it to
/// letters, digits, `_` and `-` because it becomes a path.
pub fn check_name(name: &str) -> anyhow::Result<()> {
    if name.is_empty()
        || name.len() > 32
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        anyhow::bail!(
            "`{name}` cannot name a pipeline: 1 to 32 letters, digits, `_` or `-` (give --name)"
        );
    }
    Ok(())
}

/// What `p4tc load` records about a loaded pipeline.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct State {
    /// The pipeline's name.
    pub pipeline: String,
    /// The P4 source it was built from.
    pub source: PathBuf,
    /// The `-I` directories it was built with (`p4tc ctl` and `p4tc mon` rebuild the
    /// pipeline's description from them).
    #[serde(default)]
    pub include: Vec<PathBuf>,
    /// The `-D` definitions it was built with.
    #[serde(default)]
    pub define: Vec<String>,
    /// `tc` or `xdp`.
    pub hook: String,
    /// The object that was loaded.
    pub object: PathBuf,
    /// When (seconds since the epoch).
    pub loaded_at: u64,
    /// The program's symbol (and kernel) name.
    pub program: String,
    /// Where the program is pinned.
    pub program_pin: PathBuf,
    /// Where it is attached.
    pub attachments: Vec<Attachment>,
    /// The tables and their maps.
    pub tables: Vec<TableState>,
}

/// One attachment.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Attachment {
    /// The interface.
    pub iface: String,
    /// `tc-ingress`, `tc-egress` or `xdp`.
    pub point: String,
    /// `tcx`, `clsact`, `xdp-native` or `xdp-generic`.
    pub mode: String,
    /// The network namespace (`ip netns` name), if not the host's.
    pub netns: Option<String>,
    /// The pinned link (none for clsact).
    pub link_pin: Option<PathBuf>,
}

/// One table.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct TableState {
    /// P4TC's name (`ingress/nh_table`).
    pub name: String,
    /// `exact`, `lpm` or `ternary` (tuple space: ternary, range and optional keys).
    pub kind: String,
    /// The entries map's name (pinned under the pin directory).
    pub map: String,
    /// The most entries (`tentries`).
    pub size: u32,
}

impl State {
    /// The state of `pipeline`, if it is loaded.
    pub fn read(pipeline: &str) -> anyhow::Result<Option<State>> {
        let path = state_file(pipeline);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .with_context(|| format!("{} is not a p4tc state file", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// Writes it to its state file.
    pub fn write(&self) -> anyhow::Result<()> {
        let path = state_file(&self.pipeline);
        std::fs::create_dir_all(state_root())
            .with_context(|| format!("cannot create {}", state_root().display()))?;
        std::fs::write(&path, serde_json::to_string_pretty(self)? + "\n")
            .with_context(|| format!("cannot write {}", path.display()))
    }
}

/// The pipelines that have a state file or a pin directory, sorted.
pub fn pipelines() -> Vec<String> {
    let mut names = Vec::new();
    if let Ok(dir) = std::fs::read_dir(state_root()) {
        for entry in dir.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(stem) = name.strip_suffix(".json") {
                names.push(stem.to_string());
            }
        }
    }
    if let Ok(dir) = std::fs::read_dir(pin_root()) {
        for entry in dir.flatten() {
            if entry.path().is_dir() {
                names.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

/// Whether `path` is on a bpffs mount (so pins there outlive us).
pub fn on_bpffs(path: &Path) -> bool {
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    let mut best: Option<(usize, bool)> = None;
    for line in mounts.lines() {
        let mut fields = line.split_whitespace();
        let (Some(_), Some(point), Some(fstype)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if path.starts_with(point) && best.is_none_or(|(len, _)| point.len() >= len) {
            best = Some((point.len(), fstype == "bpf"));
        }
    }
    best.is_some_and(|(_, bpf)| bpf)
}

/// The capabilities `p4tc load` needs that this process lacks, in words (`None`: it has them):
/// CAP_BPF (or CAP_SYS_ADMIN before 5.8) to load, CAP_NET_ADMIN to attach. Read from
/// `/proc/self/status`, so the message comes before any work rather than as an EPERM later.
pub fn missing_capabilities() -> Option<String> {
    const CAP_NET_ADMIN: u32 = 12;
    const CAP_SYS_ADMIN: u32 = 21;
    const CAP_BPF: u32 = 39;
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let effective = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())?;
    let has = |cap: u32| effective & (1u64 << cap) != 0;
    let mut missing = Vec::new();
    if !has(CAP_BPF) && !has(CAP_SYS_ADMIN) {
        missing.push("CAP_BPF");
    }
    if !has(CAP_NET_ADMIN) {
        missing.push("CAP_NET_ADMIN");
    }
    (!missing.is_empty()).then(|| missing.join(" and "))
}
