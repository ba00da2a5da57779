//! What the server holds for its device: the pipeline in force (its config as the
//! controller sent it, the resolved ids, the backend) and one saved by `VERIFY_AND_SAVE`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use p4runtime_proto::p4::v1 as p4v1;
use p4tc_runtime::{MeterConfig, PipelineModel};

use super::backend::{Backend, Prepared};
use super::schema::Schema;

/// A digest's list settings (`DigestEntry.Config`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DigestConfig {
    /// Longest a digest waits before its list is sent (0: at once).
    pub max_timeout: Duration,
    /// Most digests in one list (0: no bound).
    pub max_list_size: usize,
    /// How long a list waits for its ack before its data may be sent again.
    pub ack_timeout: Duration,
}

/// A digest list sent and not yet acknowledged.
#[derive(Clone, Debug)]
pub struct Outstanding {
    /// When it was sent.
    pub sent: Instant,
}

/// The pipeline in force.
pub struct Installed {
    /// The config as the controller sent it.
    pub config: p4v1::ForwardingPipelineConfig,
    /// Its ids, resolved.
    pub schema: Arc<Schema>,
    /// The pipeline.
    pub model: Arc<PipelineModel>,
    /// The device's object model.
    pub backend: Box<dyn Backend>,
    /// Meter configs written through this server, by (meter id, index): the object model
    /// keeps meters' state but gives no read of their config.
    pub meters: HashMap<(u32, u64), MeterConfig>,
    /// Digests the controller configured, by id.
    pub digests: HashMap<u32, DigestConfig>,
    /// Digest lists waiting for their ack, by (digest id, list id).
    pub outstanding: HashMap<(u32, u64), Outstanding>,
    /// The next digest list id.
    pub next_list_id: u64,
}

/// A config `VERIFY_AND_SAVE` kept for a later `COMMIT`.
pub struct Saved {
    /// The config.
    pub config: p4v1::ForwardingPipelineConfig,
    /// Its ids.
    pub schema: Arc<Schema>,
    /// The checked pipeline.
    pub prepared: Prepared,
}

/// The device.
#[derive(Default)]
pub struct Device {
    /// The pipeline in force.
    pub installed: Option<Installed>,
    /// A saved config.
    pub saved: Option<Saved>,
}
