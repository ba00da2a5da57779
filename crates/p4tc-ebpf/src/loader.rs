//! Loading a compiled object into the kernel (aya): the verifier, the program's entries and
//! default actions, pinning the maps, attaching to TC (tcx, or clsact before 6.6) or XDP.

use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use aya::maps::Map;
use aya::programs::tc::{self, TcAttachType};
use aya::programs::xdp::XdpFlags;
use aya::programs::{ProgramError, SchedClassifier, Xdp};
use aya::Ebpf;

use crate::{sys, Generated, Hook};

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
        sys::map_update(fd.as_fd(), &init.key, &init.value, sys::BPF_ANY).map_err(|error| {
            LoadError::Install {
                map: init.map.clone(),
                error,
            }
        })?;
    }
    Ok(loaded)
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
}
