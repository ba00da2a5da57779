//! Loading a compiled object into the kernel (aya): the verifier, the program's entries and
//! default actions, pinning the maps, attaching to TC (tcx, or clsact before 6.6) or XDP.
//!
//! Two ways to attach: [`Loaded::attach`] lasts while the [`Loaded`] value lives (tests);
//! [`Loaded::attach_persistent`] pins the attachment's link on bpffs (tcx and XDP links), or
//! leaves a clsact filter in place, so that it outlives the process; [`detach_pinned_link`] and
//! [`detach_clsact`] undo it. [`Loaded::restore`] copies the elements of an earlier load's
//! pinned maps into the new maps, so reloading a pipeline keeps its entries.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use aya::maps::{Map, MapData};
use aya::programs::links::{FdLink, PinnedLink};
use aya::programs::tc::{self, SchedClassifierLink, TcAttachType};
use aya::programs::xdp::XdpFlags;
use aya::programs::{ProgramError, SchedClassifier, Xdp};
use aya::Ebpf;

use crate::entry::ValueLayout;
use crate::open_table::{OpenLayout, OpenSlots};
use crate::{sys, Generated, Hook, MapKind, MapRole};

/// Why an object could not be loaded or attached.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// aya could not read the object or create its maps.
    #[error("loading the object: {0}")]
    Object(String),
    /// The verifier refused the program; its log's last lines.
    #[error("the verifier refused the program ({error}):\n{log}")]
    Verifier {
        /// The error the kernel returned.
        error: String,
        /// The end of the verifier's log.
        log: String,
    },
    /// Writing a map element the program needs failed.
    #[error("installing an element of map `{map}`: {error}")]
    Install {
        /// The map.
        map: String,
        /// What the kernel said.
        error: std::io::Error,
    },
    /// Pinning a map failed.
    #[error("pinning map `{map}` at {path}: {error}")]
    Pin {
        /// The map.
        map: String,
        /// Where.
        path: PathBuf,
        /// What went wrong.
        error: String,
    },
    /// Attaching failed.
    #[error("attaching to {iface}: {error}")]
    Attach {
        /// The interface.
        iface: String,
        /// What went wrong.
        error: String,
    },
    /// The object lacks something the generated description names.
    #[error("{0}")]
    Missing(String),
    /// A pinned object (map, program or link) could not be opened or removed.
    #[error("{path}: {error}")]
    Pinned {
        /// Its path on bpffs.
        path: PathBuf,
        /// What went wrong.
        error: String,
    },
    /// A map pinned by an earlier load does not fit the new program's map of that name.
    #[error("map `{map}` pinned at {path} holds {old} (key/value bytes) but the program's map holds {new}: the program changed; load with --fresh to start with empty tables")]
    Incompatible {
        /// The map.
        map: String,
        /// Where the old one is pinned.
        path: PathBuf,
        /// The old key/value sizes.
        old: String,
        /// The new key/value sizes.
        new: String,
    },
    /// Entering a network namespace failed.
    #[error("entering network namespace {path}: {error}")]
    Netns {
        /// The namespace's file (`/var/run/netns/NAME`).
        path: PathBuf,
        /// What the kernel said.
        error: std::io::Error,
    },
}

/// Where on an interface a program runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AttachPoint {
    /// TC ingress.
    TcIngress,
    /// TC egress.
    TcEgress,
    /// XDP.
    Xdp,
}

impl AttachPoint {
    /// Its name in state files and messages: `tc-ingress`, `tc-egress`, `xdp`.
    pub fn name(self) -> &'static str {
        match self {
            AttachPoint::TcIngress => "tc-ingress",
            AttachPoint::TcEgress => "tc-egress",
            AttachPoint::Xdp => "xdp",
        }
    }

    /// The point named `name` (see [`AttachPoint::name`]).
    pub fn from_name(name: &str) -> Option<AttachPoint> {
        [
            AttachPoint::TcIngress,
            AttachPoint::TcEgress,
            AttachPoint::Xdp,
        ]
        .into_iter()
        .find(|p| p.name() == name)
    }

    /// The hook a program must be generated for to run here.
    pub fn hook(self) -> Hook {
        match self {
            AttachPoint::TcIngress | AttachPoint::TcEgress => Hook::Tc,
            AttachPoint::Xdp => Hook::Xdp,
        }
    }
}

/// How an attachment was made (and so how it is undone).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AttachMode {
    /// A tcx link (kernels from 6.6), pinned.
    Tcx,
    /// A filter on a clsact qdisc (older kernels): stays until deleted, nothing to pin.
    Clsact,
    /// XDP in the driver, a pinned link.
    XdpNative,
    /// Generic (SKB) XDP, where the driver has no XDP: a pinned link.
    XdpGeneric,
}

impl AttachMode {
    /// Its name in state files and messages.
    pub fn name(self) -> &'static str {
        match self {
            AttachMode::Tcx => "tcx",
            AttachMode::Clsact => "clsact",
            AttachMode::XdpNative => "xdp-native",
            AttachMode::XdpGeneric => "xdp-generic",
        }
    }

    /// The mode named `name`.
    pub fn from_name(name: &str) -> Option<AttachMode> {
        [
            AttachMode::Tcx,
            AttachMode::Clsact,
            AttachMode::XdpNative,
            AttachMode::XdpGeneric,
        ]
        .into_iter()
        .find(|m| m.name() == name)
    }

    /// Whether the attachment is held by a pinned link.
    pub fn has_link(self) -> bool {
        self != AttachMode::Clsact
    }
}

/// Runs `work` in the network namespace `netns` (a file such as `/var/run/netns/NAME`), on a
/// thread of its own (`setns` changes the calling thread only, and that thread cannot be
/// trusted to come back); in the current namespace when `netns` is `None`.
pub fn in_netns<T: Send>(
    netns: Option<&Path>,
    work: impl FnOnce() -> Result<T, LoadError> + Send,
) -> Result<T, LoadError> {
    let Some(path) = netns else {
        return work();
    };
    let file = std::fs::File::open(path).map_err(|error| LoadError::Netns {
        path: path.to_path_buf(),
        error,
    })?;
    std::thread::scope(|s| {
        s.spawn(|| {
            sys::enter_netns(file.as_fd()).map_err(|error| LoadError::Netns {
                path: path.to_path_buf(),
                error,
            })?;
            work()
        })
        .join()
        .unwrap_or_else(|_| Err(LoadError::Missing("the attaching thread panicked".into())))
    })
}

/// A descriptor of the map pinned at `path`.
pub fn open_pinned_map(path: &Path) -> Result<OwnedFd, LoadError> {
    let pinned = |error: String| LoadError::Pinned {
        path: path.to_path_buf(),
        error,
    };
    let data = MapData::from_pin(path).map_err(|e| pinned(e.to_string()))?;
    data.fd()
        .as_fd()
        .try_clone_to_owned()
        .map_err(|e| pinned(e.to_string()))
}

/// Detaches the attachment whose link is pinned at `path` and removes the pin (the link goes
/// when its last reference does: the pin and our descriptor).
pub fn detach_pinned_link(path: &Path) -> Result<(), LoadError> {
    let pinned = |error: String| LoadError::Pinned {
        path: path.to_path_buf(),
        error,
    };
    let link = PinnedLink::from_pin(path).map_err(|e| pinned(e.to_string()))?;
    let fd_link = link.unpin().map_err(|e| pinned(e.to_string()))?;
    drop(fd_link);
    Ok(())
}

/// Deletes the clsact filters running our program (`p4tc_main`) at `point` of `iface`, in
/// `netns` when given.
pub fn detach_clsact(
    iface: &str,
    point: AttachPoint,
    netns: Option<&Path>,
    program: &str,
) -> Result<(), LoadError> {
    let side = match point {
        AttachPoint::TcEgress => TcAttachType::Egress,
        _ => TcAttachType::Ingress,
    };
    in_netns(netns, || {
        tc::qdisc_detach_program(iface, side, program).map_err(|e| LoadError::Attach {
            iface: iface.into(),
            error: format!("removing the clsact filter: {e}"),
        })
    })
}

/// Copies every element of the per-CPU map `from` into `to`, each CPU's value as it is;
/// returns how many elements.
pub fn copy_percpu_map(from: BorrowedFd<'_>, to: BorrowedFd<'_>) -> std::io::Result<usize> {
    let mut n = 0;
    let mut key: Option<Vec<u8>> = None;
    while let Some(next) = sys::map_next_key(from, key.as_deref())? {
        let values = sys::map_lookup_percpu(from, &next)?;
        sys::map_update_percpu(to, &next, &values)?;
        n += 1;
        key = Some(next);
    }
    Ok(n)
}

/// Copies every element of `from` into `to` (same key and value sizes; not per-CPU maps);
/// returns how many.
pub fn copy_map(from: BorrowedFd<'_>, to: BorrowedFd<'_>) -> std::io::Result<usize> {
    copy_elements(from, |key, value| {
        sys::map_update(to, key, value, sys::BPF_ANY)
    })
}

/// Hands every element of `from` (not per-CPU maps) to `put`, walking its keys; returns how
/// many it took.
fn copy_elements(
    from: BorrowedFd<'_>,
    mut put: impl FnMut(&[u8], &[u8]) -> std::io::Result<()>,
) -> std::io::Result<usize> {
    let mut n = 0;
    let mut key: Option<Vec<u8>> = None;
    while let Some(next) = sys::map_next_key(from, key.as_deref())? {
        match sys::map_lookup(from, &next) {
            Ok(value) => {
                put(&next, &value)?;
                n += 1;
            }
            // Deleted meanwhile (the datapath or a timer): nothing to copy.
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
            Err(e) => return Err(e),
        }
        key = Some(next);
    }
    Ok(n)
}

/// A loaded pipeline: the object with its program verified and its entries installed.
pub struct Loaded {
    /// aya's handle on the object (programs and maps).
    pub ebpf: Ebpf,
    /// What the generator said about it.
    pub generated: Generated,
}

/// Lines of the verifier's log kept in [`LoadError::Verifier`].
const LOG_TAIL: usize = 60;

fn verifier_error(e: ProgramError) -> LoadError {
    match e {
        ProgramError::LoadError {
            io_error,
            verifier_log,
        } => {
            let log = verifier_log.to_string();
            let lines: Vec<&str> = log.lines().collect();
            LoadError::Verifier {
                error: io_error.to_string(),
                log: lines[lines.len().saturating_sub(LOG_TAIL)..].join("\n"),
            }
        }
        other => LoadError::Object(other.to_string()),
    }
}

/// Loads `object` (clang's output for `generated`): creates the maps, runs the verifier on
/// the program, and writes every element of `generated.const_entries`.
pub fn load(object: &[u8], generated: &Generated) -> Result<Loaded, LoadError> {
    let mut ebpf = Ebpf::load(object).map_err(|e| LoadError::Object(e.to_string()))?;
    let prog = ebpf
        .program_mut(&generated.program)
        .ok_or_else(|| LoadError::Missing(format!("no program `{}`", generated.program)))?;
    match generated.hook {
        Hook::Tc => {
            let p: &mut SchedClassifier = prog
                .try_into()
                .map_err(|e: ProgramError| LoadError::Object(e.to_string()))?;
            p.load().map_err(verifier_error)?;
        }
        Hook::Xdp => {
            let p: &mut Xdp = prog
                .try_into()
                .map_err(|e: ProgramError| LoadError::Object(e.to_string()))?;
            p.load().map_err(verifier_error)?;
        }
    }
    let loaded = Loaded {
        ebpf,
        generated: generated.clone(),
    };
    for init in &generated.const_entries {
        let fd = loaded.map_fd(&init.map)?;
        let install = |error| LoadError::Install {
            map: init.map.clone(),
            error,
        };
        // An exact table kept as open addressing is written in its slots.
        match generated
            .tables
            .iter()
            .find(|t| t.map == init.map && t.open.is_some())
        {
            Some(table) => crate::table_map::insert(fd.as_fd(), table, &init.key, &init.value),
            None => sys::map_update(fd.as_fd(), &init.key, &init.value, sys::BPF_ANY),
        }
        .map_err(install)?;
    }
    // Aging in the kernel: start the program's sweep timer once its elements (the timer
    // profiles' defaults among them) are in place. Programs without aging maps skip it.
    let mut loaded = loaded;
    crate::aging::arm(&mut loaded)?;
    Ok(loaded)
}

/// The slots' layout of `map` when it is an exact table kept as open addressing.
fn open_layout(generated: &Generated, map: &str) -> Option<OpenLayout> {
    generated
        .tables
        .iter()
        .find(|t| t.map == map)
        .and_then(|t| t.open)
}

/// For the entries or defaults map `map` of a table whose values an earlier p4tc laid out
/// otherwise ([`ValueLayout::earlier`]), pinned with `pinned_size`-byte values: that layout,
/// and theirs now.
fn head_upgrade(
    generated: &Generated,
    map: &str,
    pinned_size: u32,
) -> Option<(ValueLayout, ValueLayout)> {
    let t = generated
        .tables
        .iter()
        .find(|t| t.map == map || t.defaults_map == map)?;
    let old = t
        .value
        .earlier()
        .into_iter()
        .find(|old| old.size == pinned_size)?;
    Some((old, t.value.clone()))
}

/// Copies open table `from` (slots of `layout`'s size, maybe another number of them) into
/// `to` (`layout`); returns the live entries copied. The same number of slots: every word as
/// it is; another (the table's `size` changed), or a direct layout (whose table an earlier
/// p4tc placed by hash): entry by entry, into the new homes.
fn copy_open_table(
    from: BorrowedFd<'_>,
    to: BorrowedFd<'_>,
    layout: OpenLayout,
) -> std::io::Result<usize> {
    let other = |e: crate::open_table::OpenError| std::io::Error::other(e.to_string());
    let (old, new) = (sys::SharedWords::map(from)?, sys::SharedWords::map(to)?);
    let new = OpenSlots::new(new.words(), layout).map_err(other)?;
    let writer = new.writer().map_err(other)?;
    if old.words().len() == layout.words() && !layout.is_direct() {
        let old = OpenSlots::new(old.words(), layout).map_err(other)?;
        writer.copy_from(&old).map_err(other)?;
        return Ok(writer.len() as usize);
    }
    // Element 0 is the header; the rest are slots, a power of two of them.
    let old_slots = (old.words().len() / (layout.slot_size as usize / 8)).saturating_sub(1);
    let old_layout = OpenLayout {
        log2_slots: old_slots.trailing_zeros(),
        ..layout
    };
    if !old_slots.is_power_of_two() || old_layout.words() != old.words().len() {
        return Err(std::io::Error::other(format!(
            "{} words of slots pinned: not an open table of {}-byte slots",
            old.words().len(),
            layout.slot_size
        )));
    }
    let old = OpenSlots::entries_only(old.words(), old_layout).map_err(other)?;
    for slot in old.live() {
        writer
            .insert(&old.key(slot), &old.value(slot), u32::MAX)
            .map_err(other)?;
    }
    Ok(writer.len() as usize)
}

/// Inserts every element of hash map `from` into open table `to`; returns how many.
fn copy_into_open_table(
    from: BorrowedFd<'_>,
    to: BorrowedFd<'_>,
    layout: OpenLayout,
) -> std::io::Result<usize> {
    let words = sys::SharedWords::map(to)?;
    let slots =
        OpenSlots::new(words.words(), layout).map_err(|e| std::io::Error::other(e.to_string()))?;
    let slots = slots
        .writer()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    copy_elements(from, |key, value| {
        slots
            .insert(key, value, u32::MAX)
            .map(|_| ())
            .map_err(|e| std::io::Error::other(e.to_string()))
    })
}

fn map_data(map: &Map) -> Option<&aya::maps::MapData> {
    match map {
        Map::HashMap(d)
        | Map::LpmTrie(d)
        | Map::Array(d)
        | Map::PerCpuArray(d)
        | Map::PerCpuHashMap(d)
        | Map::RingBuf(d) => Some(d),
        _ => None,
    }
}

impl Loaded {
    /// A descriptor of the map named `name` (for [`sys`]'s element calls).
    pub fn map_fd(&self, name: &str) -> Result<OwnedFd, LoadError> {
        let map = self
            .ebpf
            .map(name)
            .ok_or_else(|| LoadError::Missing(format!("no map `{name}`")))?;
        let data = map_data(map)
            .ok_or_else(|| LoadError::Missing(format!("map `{name}`: unexpected type")))?;
        data.fd()
            .as_fd()
            .try_clone_to_owned()
            .map_err(|e| LoadError::Missing(format!("map `{name}`: {e}")))
    }

    /// A descriptor of the loaded program (for [`sys::test_run`]).
    pub fn program_fd(&self) -> Result<OwnedFd, LoadError> {
        let prog = self
            .ebpf
            .program(&self.generated.program)
            .ok_or_else(|| LoadError::Missing("no program".into()))?;
        let fd = match self.generated.hook {
            Hook::Tc => {
                let p: &SchedClassifier = prog
                    .try_into()
                    .map_err(|e: ProgramError| LoadError::Object(e.to_string()))?;
                p.fd()
                    .map_err(|e| LoadError::Object(e.to_string()))?
                    .as_fd()
                    .try_clone_to_owned()
            }
            Hook::Xdp => {
                let p: &Xdp = prog
                    .try_into()
                    .map_err(|e: ProgramError| LoadError::Object(e.to_string()))?;
                p.fd()
                    .map_err(|e| LoadError::Object(e.to_string()))?
                    .as_fd()
                    .try_clone_to_owned()
            }
        };
        fd.map_err(|e| LoadError::Object(e.to_string()))
    }

    /// Pins every map under `dir` (created if missing; on bpffs, e.g.
    /// `/sys/fs/bpf/p4tc/<pipeline>`), each as its symbol name, so that control-plane
    /// processes find the tables after this one exits.
    pub fn pin_maps(&self, dir: &Path) -> Result<(), LoadError> {
        std::fs::create_dir_all(dir).map_err(|e| LoadError::Pin {
            map: String::new(),
            path: dir.to_path_buf(),
            error: e.to_string(),
        })?;
        for spec in &self.generated.maps {
            let map = self
                .ebpf
                .map(&spec.name)
                .ok_or_else(|| LoadError::Missing(format!("no map `{}`", spec.name)))?;
            let path = dir.join(&spec.name);
            map.pin(&path).map_err(|e| LoadError::Pin {
                map: spec.name.clone(),
                path: path.clone(),
                error: e.to_string(),
            })?;
        }
        Ok(())
    }

    /// Attaches the program to `iface`: TC ingress or egress (tcx on kernels from 6.6, else a
    /// clsact qdisc, added when missing), or XDP (native when the driver has it, else generic).
    /// The attachment lasts as long as this value.
    pub fn attach(&mut self, iface: &str, egress: bool) -> Result<(), LoadError> {
        let err = |e: String| LoadError::Attach {
            iface: iface.into(),
            error: e,
        };
        let program = self.generated.program.clone();
        let prog = self
            .ebpf
            .program_mut(&program)
            .ok_or_else(|| LoadError::Missing("no program".into()))?;
        match self.generated.hook {
            Hook::Tc => {
                let p: &mut SchedClassifier = prog
                    .try_into()
                    .map_err(|e: ProgramError| err(e.to_string()))?;
                let side = if egress {
                    TcAttachType::Egress
                } else {
                    TcAttachType::Ingress
                };
                if p.attach(iface, side).is_err() {
                    // Before tcx: a clsact qdisc, then netlink.
                    let _ = tc::qdisc_add_clsact(iface);
                    p.attach_with_options(
                        iface,
                        side,
                        tc::TcAttachOptions::Netlink(tc::NlOptions::default()),
                    )
                    .map_err(|e| err(e.to_string()))?;
                }
            }
            Hook::Xdp => {
                let p: &mut Xdp = prog
                    .try_into()
                    .map_err(|e: ProgramError| err(e.to_string()))?;
                if p.attach(iface, XdpFlags::default()).is_err() {
                    p.attach(iface, XdpFlags::SKB_MODE)
                        .map_err(|e| err(e.to_string()))?;
                }
            }
        }
        Ok(())
    }

    /// Pins the program at `path` (so `bpftool` and `p4tc show` find it after we exit).
    pub fn pin_program(&mut self, path: &Path) -> Result<(), LoadError> {
        let program = self.generated.program.clone();
        let prog = self
            .ebpf
            .program_mut(&program)
            .ok_or_else(|| LoadError::Missing("no program".into()))?;
        prog.pin(path).map_err(|e| LoadError::Pin {
            map: program.clone(),
            path: path.to_path_buf(),
            error: e.to_string(),
        })
    }

    /// Copies into the new maps the elements of the maps an earlier load pinned under `dir`:
    /// table entries, default actions, masks, registers, meters, value sets, host ports, flow
    /// ids, and counters (each CPU's counts). Ring buffers start afresh. Maps missing under `dir` are
    /// skipped; a pinned map of other sizes is an error ([`LoadError::Incompatible`]). Returns
    /// (map, elements copied) for each map copied.
    pub fn restore(&self, dir: &Path) -> Result<Vec<(String, usize)>, LoadError> {
        let mut copied = Vec::new();
        for spec in &self.generated.maps {
            let per_cpu = spec.kind == MapKind::PerCpuArray && spec.role == MapRole::Counter;
            let copies = per_cpu
                || matches!(
                    spec.kind,
                    MapKind::Hash | MapKind::LpmTrie | MapKind::Array | MapKind::OpenTable
                )
                    // The aging timer is the new program's own (armed by `load`): writing
                    // its element from user space would cancel it. The tables' dynamic
                    // marks stay as `load` set them (every table walked once), whatever
                    // the old program kept.
                    && !matches!(
                        spec.role,
                        MapRole::Scratch
                            | MapRole::TestIo
                            | MapRole::AgingTimer
                            | MapRole::AgingDynamic
                    );
            let path = dir.join(&spec.name);
            if !copies || !path.exists() {
                continue;
            }
            let old = open_pinned_map(&path)?;
            let new = self.map_fd(&spec.name)?;
            let sizes = |fd: BorrowedFd<'_>| {
                sys::map_sizes(fd).map_err(|e| LoadError::Pinned {
                    path: path.clone(),
                    error: e.to_string(),
                })
            };
            let (old_sizes, new_sizes) = (sizes(old.as_fd())?, sizes(new.as_fd())?);
            // A table an earlier p4tc kept in a hash map, now kept as open addressing: its
            // elements go into the slots.
            let upgrade = open_layout(&self.generated, &spec.name).filter(|layout| {
                sys::map_type(old.as_fd()).ok() == Some(sys::MAP_TYPE_HASH)
                    && old_sizes == (layout.key_size, layout.value_size)
            });
            if let Some(layout) = upgrade {
                let n =
                    copy_into_open_table(old.as_fd(), new.as_fd(), layout).map_err(|error| {
                        LoadError::Install {
                            map: spec.name.clone(),
                            error,
                        }
                    })?;
                copied.push((spec.name.clone(), n));
                continue;
            }
            // An LPM table (its entries and its default actions) an earlier p4tc kept with
            // the full head or wide times: each value is rewritten in today's layout.
            if let Some((old_layout, layout)) = (old_sizes.0 == new_sizes.0)
                .then(|| head_upgrade(&self.generated, &spec.name, old_sizes.1))
                .flatten()
            {
                let n = copy_elements(old.as_fd(), |key, value| {
                    let v = layout.convert(&old_layout, value).ok_or_else(|| {
                        std::io::Error::new(
                            std::io::ErrorKind::InvalidData,
                            "a value that does not convert to today's layout",
                        )
                    })?;
                    sys::map_update(new.as_fd(), key, &v, sys::BPF_ANY)
                })
                .map_err(|error| LoadError::Install {
                    map: spec.name.clone(),
                    error,
                })?;
                copied.push((spec.name.clone(), n));
                continue;
            }
            if old_sizes != new_sizes {
                return Err(LoadError::Incompatible {
                    map: spec.name.clone(),
                    path,
                    old: format!("{}/{}", old_sizes.0, old_sizes.1),
                    new: format!("{}/{}", new_sizes.0, new_sizes.1),
                });
            }
            let n = match open_layout(&self.generated, &spec.name) {
                Some(layout) => copy_open_table(old.as_fd(), new.as_fd(), layout),
                None if per_cpu => copy_percpu_map(old.as_fd(), new.as_fd()),
                None => copy_map(old.as_fd(), new.as_fd()),
            }
            .map_err(|error| LoadError::Install {
                map: spec.name.clone(),
                error,
            })?;
            copied.push((spec.name.clone(), n));
        }
        Ok(copied)
    }

    /// Attaches the program at `point` of `iface` (inside `netns` when given) so that the
    /// attachment outlives this process: a tcx or XDP link pinned at `link_pin`, or (before
    /// tcx) a clsact filter. XDP goes native when the driver has it, else generic.
    pub fn attach_persistent(
        &mut self,
        iface: &str,
        point: AttachPoint,
        netns: Option<&Path>,
        link_pin: &Path,
    ) -> Result<AttachMode, LoadError> {
        self.attach_persistent_via(iface, point, netns, link_pin, false)
    }

    /// [`Loaded::attach_persistent`], with TC programs attached as clsact filters even where
    /// the kernel has tcx when `clsact` is set (how kernels before 6.6 get them; tests use it
    /// to cover that path on newer kernels).
    pub fn attach_persistent_via(
        &mut self,
        iface: &str,
        point: AttachPoint,
        netns: Option<&Path>,
        link_pin: &Path,
        clsact: bool,
    ) -> Result<AttachMode, LoadError> {
        let err = |e: String| LoadError::Attach {
            iface: iface.into(),
            error: e,
        };
        if point.hook() != self.generated.hook {
            return Err(err(format!(
                "the program was generated for {:?}, not for {}",
                self.generated.hook,
                point.name()
            )));
        }
        let pin = |link: FdLink| {
            link.pin(link_pin).map(|_| ()).map_err(|e| LoadError::Pin {
                map: "link".into(),
                path: link_pin.to_path_buf(),
                error: e.to_string(),
            })
        };
        let program = self.generated.program.clone();
        let prog = self
            .ebpf
            .program_mut(&program)
            .ok_or_else(|| LoadError::Missing("no program".into()))?;
        in_netns(netns, move || match point {
            AttachPoint::TcIngress | AttachPoint::TcEgress => {
                let p: &mut SchedClassifier = prog
                    .try_into()
                    .map_err(|e: ProgramError| err(e.to_string()))?;
                let side = if point == AttachPoint::TcEgress {
                    TcAttachType::Egress
                } else {
                    TcAttachType::Ingress
                };
                let tcx = if clsact {
                    None
                } else {
                    p.attach(iface, side).ok()
                };
                let id = match tcx {
                    Some(id) => id,
                    None => {
                        // Before tcx: a clsact qdisc, then netlink.
                        let _ = tc::qdisc_add_clsact(iface);
                        p.attach_with_options(
                            iface,
                            side,
                            tc::TcAttachOptions::Netlink(tc::NlOptions::default()),
                        )
                        .map_err(|e| err(e.to_string()))?
                    }
                };
                let link: SchedClassifierLink = p.take_link(id).map_err(|e| err(e.to_string()))?;
                if <&FdLink>::try_from(&link).is_ok() {
                    let fd_link = FdLink::try_from(link).map_err(|e| err(e.to_string()))?;
                    pin(fd_link)?;
                    Ok(AttachMode::Tcx)
                } else {
                    // A netlink filter: dropping the link would delete it; the filter is
                    // meant to stay until `detach_clsact`.
                    std::mem::forget(link);
                    Ok(AttachMode::Clsact)
                }
            }
            AttachPoint::Xdp => {
                let p: &mut Xdp = prog
                    .try_into()
                    .map_err(|e: ProgramError| err(e.to_string()))?;
                let (id, mode) = match p.attach(iface, XdpFlags::DRV_MODE) {
                    Ok(id) => (id, AttachMode::XdpNative),
                    Err(_) => (
                        p.attach(iface, XdpFlags::SKB_MODE)
                            .map_err(|e| err(e.to_string()))?,
                        AttachMode::XdpGeneric,
                    ),
                };
                let link = p.take_link(id).map_err(|e| err(e.to_string()))?;
                let fd_link = FdLink::try_from(link).map_err(|e| {
                    err(format!(
                        "the kernel gave no XDP link to pin (before 5.9?): {e}"
                    ))
                })?;
                pin(fd_link)?;
                Ok(mode)
            }
        })
    }
}
