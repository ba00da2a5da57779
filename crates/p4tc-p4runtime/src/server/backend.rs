//! What the server needs of a device: an object model to write to (the same one `p4tc ctl`
//! uses), and a way to install a pipeline. The binary gives the kernel's (pinned BPF maps,
//! loaded the way `p4tc load` loads); [`MemoryDeployer`] is the in-memory one (tests, and
//! `p4tc serve` without `--dev`).

use std::sync::Arc;
use std::time::Duration;

use p4tc_ir::arena::Handle;
use p4tc_ir::ir;
use p4tc_runtime::{
    Clock, Datapath as _, Event, KeyMatch, MemoryBackend, MeterConfig, ObjectModel, PipelineModel,
    Priority, RuntimeError, SystemClock,
};

use super::errors::Failure;

/// A pipeline's object model as the server drives it.
pub trait Backend: Send {
    /// The object model.
    fn objects(&mut self) -> &mut dyn ObjectModel;

    /// The object model, to read.
    fn objects_ref(&self) -> &dyn ObjectModel;

    /// Now, on the clock entries' `last_used` times are read on.
    fn now(&self) -> Duration;

    /// Lets time pass (aging, for a backend that ages entries itself) and takes the events
    /// since the last call: entry changes and digests.
    fn poll(&mut self) -> Vec<Event>;

    /// Configures the direct meter of an entry.
    fn set_direct_meter(
        &mut self,
        table: Handle<ir::Table>,
        key: &[KeyMatch],
        priority: Option<Priority>,
        config: MeterConfig,
    ) -> Result<(), RuntimeError>;

    /// Whether no packet can see part of a Write: true when the datapath cannot run while
    /// the server holds the backend (the in-memory one), so `DATAPLANE_ATOMIC` is honoured.
    fn dataplane_atomic(&self) -> bool;

    /// One line for logs and `--help`: what the backend is.
    fn describe(&self) -> String;

    /// The in-memory backend, when this is one (tests drive its datapath side: digests,
    /// hits).
    fn memory(&mut self) -> Option<&mut MemoryBackend> {
        None
    }

    /// The in-memory device, when this is one (tests look at its packets).
    fn memory_device(&mut self) -> Option<&mut MemoryDevice> {
        None
    }

    /// Sends `frame` (a whole Ethernet frame) out of port `port` (an ifindex): a
    /// controller's PacketOut.
    fn transmit(&mut self, port: u32, frame: &[u8]) -> Result<(), Failure> {
        let _ = frame;
        Err(Failure::unimplemented(format!(
            "{} cannot send packets (PacketOut to port {port})",
            self.describe()
        )))
    }

    /// Takes the packets the datapath sent to the CPU port since the last call, for
    /// PacketIn; none by default.
    fn take_packet_ins(&mut self) -> Vec<CpuPacket> {
        Vec::new()
    }
}

/// A packet the datapath sent to the CPU port (`PNA_PORT_CPU`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CpuPacket {
    /// The port (ifindex) it came in on.
    pub ingress_port: u32,
    /// The frame as the datapath passed it on (truncated where the device truncates).
    pub frame: Vec<u8>,
}

/// A pipeline checked and ready to install.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// The pipeline's name.
    pub name: String,
    /// The device config it came from (sources, options, hook).
    pub config: crate::device_config::DeviceConfig,
    /// Its model.
    pub model: Arc<PipelineModel>,
}

/// Installs pipelines on the device.
pub trait Deployer: Send + Sync + 'static {
    /// Checks a `p4_device_config` (compiles it): nothing on the device changes.
    fn verify(&self, device_config: &[u8]) -> Result<Prepared, Failure>;

    /// Installs `prepared`, replacing the running pipeline. With `keep_state`
    /// (`RECONCILE_AND_COMMIT`) the running pipeline's entries are kept where the device can;
    /// otherwise the new pipeline starts with the program's own entries only.
    fn commit(&self, prepared: &Prepared, keep_state: bool) -> Result<Box<dyn Backend>, Failure>;
}

/// The in-memory object model ([`MemoryBackend`]) with the machine's clock; entries age as
/// the server polls it.
pub struct MemoryDevice {
    backend: MemoryBackend,
    clock: Arc<dyn Clock>,
    /// Frames PacketOut sent, by port, for tests to look at (no ports in memory).
    sent: Vec<(u32, Vec<u8>)>,
    /// Frames tests put in as sent to the CPU port, for PacketIn.
    to_cpu: Vec<CpuPacket>,
}

impl MemoryDevice {
    /// A fresh backend for `model`.
    pub fn new(model: Arc<PipelineModel>, clock: Arc<dyn Clock>) -> Result<MemoryDevice, Failure> {
        let backend = MemoryBackend::new(model, Arc::clone(&clock))
            .map_err(|e| Failure::invalid(format!("cannot set up the pipeline in memory: {e}")))?;
        Ok(MemoryDevice {
            backend,
            clock,
            sent: Vec::new(),
            to_cpu: Vec::new(),
        })
    }
}

impl Backend for MemoryDevice {
    fn objects(&mut self) -> &mut dyn ObjectModel {
        &mut self.backend
    }

    fn objects_ref(&self) -> &dyn ObjectModel {
        &self.backend
    }

    fn now(&self) -> Duration {
        self.clock.now()
    }

    fn poll(&mut self) -> Vec<Event> {
        self.backend.expire();
        self.backend.take_events()
    }

    fn set_direct_meter(
        &mut self,
        table: Handle<ir::Table>,
        key: &[KeyMatch],
        priority: Option<Priority>,
        config: MeterConfig,
    ) -> Result<(), RuntimeError> {
        self.backend.set_direct_meter(table, key, priority, config)
    }

    fn dataplane_atomic(&self) -> bool {
        true
    }

    fn describe(&self) -> String {
        format!("in memory (pipeline {})", self.backend.model().name)
    }

    fn memory(&mut self) -> Option<&mut MemoryBackend> {
        Some(&mut self.backend)
    }

    fn transmit(&mut self, port: u32, frame: &[u8]) -> Result<(), Failure> {
        self.sent.push((port, frame.to_vec()));
        Ok(())
    }

    fn take_packet_ins(&mut self) -> Vec<CpuPacket> {
        std::mem::take(&mut self.to_cpu)
    }

    fn memory_device(&mut self) -> Option<&mut MemoryDevice> {
        Some(self)
    }
}

impl MemoryDevice {
    /// Takes the frames PacketOut sent since the last call, with their ports.
    pub fn take_sent(&mut self) -> Vec<(u32, Vec<u8>)> {
        std::mem::take(&mut self.sent)
    }

    /// Queues `packet` as if the datapath had sent it to the CPU port: the server sends it
    /// to the primary as a PacketIn on its next poll.
    pub fn to_cpu(&mut self, packet: CpuPacket) {
        self.to_cpu.push(packet);
    }
}

/// Installs pipelines in memory: the device config is compiled by the front-end and the
/// pipeline gets a fresh [`MemoryBackend`].
pub struct MemoryDeployer {
    clock: Arc<dyn Clock>,
}

impl MemoryDeployer {
    /// A deployer on the machine's clock.
    pub fn new() -> MemoryDeployer {
        MemoryDeployer {
            clock: Arc::new(SystemClock::new()),
        }
    }

    /// A deployer on `clock` (tests move time by hand).
    pub fn with_clock(clock: Arc<dyn Clock>) -> MemoryDeployer {
        MemoryDeployer { clock }
    }
}

impl Default for MemoryDeployer {
    fn default() -> Self {
        MemoryDeployer::new()
    }
}

impl Deployer for MemoryDeployer {
    fn verify(&self, device_config: &[u8]) -> Result<Prepared, Failure> {
        super::pipeline::prepare(device_config)
    }

    fn commit(&self, prepared: &Prepared, keep_state: bool) -> Result<Box<dyn Backend>, Failure> {
        if keep_state {
            return Err(Failure::unimplemented(
                "RECONCILE_AND_COMMIT of a changed program: the in-memory device cannot carry entries over (use VERIFY_AND_COMMIT)",
            ));
        }
        Ok(Box::new(MemoryDevice::new(
            Arc::clone(&prepared.model),
            Arc::clone(&self.clock),
        )?))
    }
}
