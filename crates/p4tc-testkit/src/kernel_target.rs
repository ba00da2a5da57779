//! The eBPF datapath in the kernel as a [`Target`]: the program is generated with its test
//! hooks, compiled by clang and loaded (verifier included); control statements go through
//! [`KernelBackend`] into the program's maps, packets through `BPF_PROG_TEST_RUN`, and the
//! test hooks' map says which port a redirected packet would leave by.
//!
//! The kernel's clock (`bpf_ktime_get_ns`) cannot be moved: [`Target::fixed_clock`] says so,
//! and the STF runner stops at the first `wait`.

use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use p4tc_ebpf::backend::KernelBackend;
use p4tc_ebpf::loader::Loaded;
use p4tc_ebpf::{sys, Hook, MapRole, Options, Placement};
use p4tc_runtime::{ObjectModel, PipelineModel};

use crate::target::{Delivery, Target, TargetError};

const TC_ACT_OK: u32 = 0;
const TC_ACT_REDIRECT: u32 = 7;
const XDP_PASS: u32 = 2;
const XDP_REDIRECT: u32 = 4;

/// `EINVAL`, without a libc dependency for one constant.
fn libc_einval() -> i32 {
    22
}

/// What [`KernelTarget::fixed_clock`] reports.
pub const FIXED_CLOCK: &str =
    "wait is not supported on the kernel target (the datapath reads the kernel's clock, which a test cannot move): the rest of the test was not run";

/// A loaded program run under `BPF_PROG_TEST_RUN`.
pub struct KernelTarget {
    pipeline: Arc<PipelineModel>,
    backend: KernelBackend,
    prog: OwnedFd,
    io: sys::SizedMap,
    hook: Hook,
    /// Keeps the program and its maps loaded.
    _loaded: Loaded,
    /// The generated C and the object, removed with the target.
    dir: PathBuf,
}

/// Why a kernel target could not be set up.
#[derive(Debug)]
pub struct SetupError(pub String);

impl std::fmt::Display for SetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SetupError {}

static SERIAL: AtomicU32 = AtomicU32::new(0);

impl KernelTarget {
    /// Generates `pipeline`'s program for `hook` with test hooks, compiles it with clang,
    /// loads it (the verifier runs, the program's entries go in) and opens its maps. Needs
    /// root (or CAP_BPF and CAP_NET_ADMIN) and clang with `libbpf-dev`'s headers.
    pub fn new(pipeline: Arc<PipelineModel>, hook: Hook) -> Result<KernelTarget, SetupError> {
        KernelTarget::with_placement(pipeline, hook, Placement::Auto)
    }

    /// [`KernelTarget::new`] with the headers placed as `placement` says.
    pub fn with_placement(
        pipeline: Arc<PipelineModel>,
        hook: Hook,
        placement: Placement,
    ) -> Result<KernelTarget, SetupError> {
        let name = pipeline.name.clone();
        let options = Options {
            test_hooks: true,
            placement,
            ..Options::default()
        };
        let g = p4tc_ebpf::generate_with(&pipeline.module, &name, hook, &options)
            .map_err(|e| SetupError(format!("generating the eBPF program: {e}")))?;
        let dir = std::env::temp_dir().join(format!(
            "p4tc-kernel-target-{}-{}",
            std::process::id(),
            SERIAL.fetch_add(1, Ordering::Relaxed)
        ));
        let built = (|| {
            g.write_to(&dir, &name)
                .map_err(|e| SetupError(format!("writing the C into {}: {e}", dir.display())))?;
            let obj = p4tc_ebpf::clang::compile(&dir, &name)
                .map_err(|e| SetupError(format!("compiling the C: {e}")))?;
            std::fs::read(&obj).map_err(|e| SetupError(format!("reading {}: {e}", obj.display())))
        })();
        let bytes = match built {
            Ok(b) => b,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(e);
            }
        };
        let setup = || -> Result<KernelTarget, SetupError> {
            let loaded = p4tc_ebpf::loader::load(&bytes, &g)
                .map_err(|e| SetupError(format!("loading the program: {e}")))?;
            let backend = KernelBackend::from_loaded(Arc::clone(&pipeline), &loaded)
                .map_err(|e| SetupError(format!("opening the maps: {e}")))?;
            let prog = loaded
                .program_fd()
                .map_err(|e| SetupError(format!("the program: {e}")))?;
            let io_name = g
                .maps
                .iter()
                .find(|m| m.role == MapRole::TestIo)
                .map(|m| m.name.clone())
                .ok_or_else(|| SetupError("the program has no test hooks map".into()))?;
            let io = loaded
                .map_fd(&io_name)
                .and_then(|fd| {
                    sys::SizedMap::new(fd)
                        .map_err(|e| p4tc_ebpf::loader::LoadError::Missing(e.to_string()))
                })
                .map_err(|e| SetupError(format!("the test hooks map: {e}")))?;
            Ok(KernelTarget {
                pipeline: Arc::clone(&pipeline),
                backend,
                prog,
                io,
                hook,
                _loaded: loaded,
                dir: dir.clone(),
            })
        };
        let target = setup();
        if target.is_err() {
            let _ = std::fs::remove_dir_all(&dir);
        }
        target
    }

    /// The hook the program runs at.
    pub fn hook(&self) -> Hook {
        self.hook
    }

    /// The backend, for what the [`Target`] trait does not cover.
    pub fn backend_mut(&mut self) -> &mut KernelBackend {
        &mut self.backend
    }
}

impl Drop for KernelTarget {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Target for KernelTarget {
    fn pipeline(&self) -> Arc<PipelineModel> {
        Arc::clone(&self.pipeline)
    }

    fn control(&mut self) -> &mut dyn ObjectModel {
        &mut self.backend
    }

    fn send(&mut self, port: u32, packet: &[u8]) -> Result<Delivery, TargetError> {
        let io = &self.io;
        let key = 0u32.to_ne_bytes();
        // struct { u32 input_port, egress_port, drop, parser_error; }
        let mut v = [0u8; 16];
        v[0..4].copy_from_slice(&port.to_ne_bytes());
        io.update(&key, &v, sys::BPF_ANY)
            .map_err(|e| TargetError(format!("writing the test hooks' input port: {e}")))?;
        let hook = self.hook;
        let run = sys::test_run(self.prog.as_fd(), packet, 1).map_err(|e| {
            // The kernel's test run, not the program, refuses such packets: shorter than an
            // Ethernet header anywhere, and at TC malformed ones it cannot make an skb of.
            let hint = if packet.len() < 14 {
                " (shorter than an Ethernet header: the kernel's test run refuses it)"
            } else if hook == Hook::Tc && e.raw_os_error() == Some(libc_einval()) {
                " (TC's test run refuses packets it cannot make an skb of; --hook xdp takes them)"
            } else {
                ""
            };
            TargetError(format!(
                "BPF_PROG_TEST_RUN refused the {}-byte packet: {e}{hint}",
                packet.len()
            ))
        })?;
        let got = io
            .lookup(&key)
            .map_err(|e| TargetError(format!("reading the test hooks: {e}")))?;
        let word = |i: usize| u32::from_ne_bytes([got[i], got[i + 1], got[i + 2], got[i + 3]]);
        let (egress, error) = (word(4), word(12));
        let parser_error = (error != 0).then(|| {
            self.pipeline
                .module
                .errors
                .get(error as usize)
                .cloned()
                .unwrap_or_else(|| format!("error #{error}"))
        });
        let (redirect, pass) = match self.hook {
            Hook::Tc => (TC_ACT_REDIRECT, TC_ACT_OK),
            Hook::Xdp => (XDP_REDIRECT, XDP_PASS),
        };
        let mut delivery = Delivery {
            parser_error,
            ..Delivery::default()
        };
        if run.retval == redirect {
            delivery.outputs.push((egress, run.data));
        } else if run.retval == pass {
            delivery.to_host = Some(run.data);
        }
        Ok(delivery)
    }

    fn advance_clock(&mut self, _by: Duration) {
        // The kernel's clock cannot be moved; `fixed_clock` tells the runner, which stops.
    }

    fn fixed_clock(&self) -> Option<String> {
        Some(FIXED_CLOCK.into())
    }
}
