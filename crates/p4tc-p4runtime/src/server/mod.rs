//! A P4Runtime v1 server over P4TC's object model (`p4tc serve`).
//!
//! One device, one pipeline at a time. The pieces, one idea each:
//! - [`backend`]: what the server needs of a device ([`Backend`], [`Deployer`]) and the
//!   in-memory one; the binary gives the kernel's (the pinned maps `p4tc ctl` uses too).
//! - [`arbitration`]: election ids, the primary, who may write.
//! - [`pipeline`]: `SetForwardingPipelineConfig` (every action) and
//!   `GetForwardingPipelineConfig`.
//! - [`schema`]: the controller's P4Info ids resolved to the model's handles.
//! - [`translate`], [`values`]: entries, keys, actions and bytestrings both ways.
//! - [`write`]: `Write` with its three atomicity modes; [`read`]: `Read` with wildcards.
//! - [`stream`]: `StreamChannel`, digests and idle-timeout notifications; [`packet`]:
//!   packet I/O.
//! - [`errors`]: gRPC codes, and the per-update details of a failed `Write`.
//!
//! ```no_run
//! use p4tc_p4runtime::server::{self, MemoryDeployer, ServeOptions};
//! let options = ServeOptions::default(); // 127.0.0.1:9559, device 1, no TLS
//! server::run_blocking(options, MemoryDeployer::new(), |addr| eprintln!("listening on {addr}")).unwrap();
//! ```

pub mod arbitration;
pub mod backend;
pub mod errors;
pub mod packet;
pub mod pipeline;
pub mod read;
pub mod schema;
pub mod state;
pub mod stream;
pub mod translate;
pub mod values;
pub mod write;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use p4runtime_proto::p4::v1 as p4v1;
use p4v1::p4_runtime_server::{P4Runtime, P4RuntimeServer};
use tokio::sync::mpsc;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

pub use backend::{Backend, CpuPacket, Deployer, MemoryDeployer, MemoryDevice, Prepared};
pub use errors::Failure;
/// gRPC status codes, for [`Failure`]s made outside this crate.
pub use tonic::Code;

use arbitration::{Arbitration, StreamItem};
use state::Device;
use stream::lock;

/// The P4Runtime version this server speaks.
pub const API_VERSION: &str = "1.4.0";

/// Largest message accepted or sent: a Write of many thousand updates, a P4Info, a
/// device config with its source.
const MAX_MESSAGE: usize = 64 * 1024 * 1024;

/// Entities per `ReadResponse`.
const READ_CHUNK: usize = 1000;

/// State shared by the RPC handlers, the streams and the poller.
pub struct Shared {
    device_id: u64,
    deployer: Box<dyn Deployer>,
    device: Mutex<Device>,
    arbitration: Mutex<Arbitration>,
}

/// The P4Runtime service.
#[derive(Clone)]
pub struct Service {
    shared: Arc<Shared>,
}

impl Service {
    /// A service for device `device_id`, installing pipelines with `deployer`.
    pub fn new(device_id: u64, deployer: impl Deployer) -> Service {
        Service {
            shared: Arc::new(Shared {
                device_id,
                deployer: Box::new(deployer),
                device: Mutex::new(Device::default()),
                arbitration: Mutex::new(Arbitration::default()),
            }),
        }
    }

    /// The tonic server of this service (message sizes raised for big batches).
    pub fn into_server(self) -> P4RuntimeServer<Service> {
        P4RuntimeServer::new(self)
            .max_decoding_message_size(MAX_MESSAGE)
            .max_encoding_message_size(MAX_MESSAGE)
    }

    /// Starts the poller (aging, events, digests) on the current tokio runtime.
    pub fn spawn_poller(&self, interval: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(stream::poll(Arc::clone(&self.shared), interval))
    }

    /// Runs `f` on the installed pipeline's backend (`None` when no pipeline is set).
    pub fn with_backend<R>(&self, f: impl FnOnce(&mut dyn Backend) -> R) -> Option<R> {
        let mut device = lock(&self.shared.device);
        device.installed.as_mut().map(|i| f(i.backend.as_mut()))
    }

    fn check_device(&self, device_id: u64) -> Result<(), Status> {
        if device_id != self.shared.device_id {
            return Err(Status::not_found(format!(
                "no device {device_id} here (this server is device {})",
                self.shared.device_id
            )));
        }
        Ok(())
    }
}

fn check_role(role: &str) -> Result<(), Status> {
    if role.is_empty() {
        Ok(())
    } else {
        Err(Status::unimplemented(format!(
            "role `{role}`: roles are not supported (leave it empty)"
        )))
    }
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

#[tonic::async_trait]
impl P4Runtime for Service {
    async fn write(
        &self,
        request: Request<p4v1::WriteRequest>,
    ) -> Result<Response<p4v1::WriteResponse>, Status> {
        let req = request.into_inner();
        self.check_device(req.device_id)?;
        check_role(&req.role)?;
        lock(&self.shared.arbitration).check_primary(req.election_id.as_ref())?;
        // Off the async threads: a Write holds the device for as long as its updates take,
        // and other requests keep being decoded meanwhile.
        let shared = Arc::clone(&self.shared);
        tokio::task::spawn_blocking(move || {
            let mut device = lock(&shared.device);
            let inst = device.installed.as_mut().ok_or_else(|| {
                Status::failed_precondition(
                    "no pipeline is set (SetForwardingPipelineConfig first)",
                )
            })?;
            write::write(inst, &req.updates, req.atomicity)
        })
        .await
        .map_err(|e| Status::internal(format!("the write task failed: {e}")))??;
        Ok(Response::new(p4v1::WriteResponse {}))
    }

    type ReadStream = BoxStream<p4v1::ReadResponse>;

    async fn read(
        &self,
        request: Request<p4v1::ReadRequest>,
    ) -> Result<Response<Self::ReadStream>, Status> {
        let req = request.into_inner();
        self.check_device(req.device_id)?;
        check_role(&req.role)?;
        let mut entities = Vec::new();
        {
            let device = lock(&self.shared.device);
            let inst = device.installed.as_ref().ok_or_else(|| {
                Status::failed_precondition(
                    "no pipeline is set (SetForwardingPipelineConfig first)",
                )
            })?;
            for e in &req.entities {
                read::read_entity(inst, e, &mut entities)?;
            }
        }
        let mut responses = Vec::with_capacity(entities.len() / READ_CHUNK + 1);
        let mut it = entities.into_iter().peekable();
        loop {
            let chunk: Vec<p4v1::Entity> = it.by_ref().take(READ_CHUNK).collect();
            let last = it.peek().is_none();
            if !chunk.is_empty() || responses.is_empty() {
                responses.push(Ok(p4v1::ReadResponse { entities: chunk }));
            }
            if last {
                break;
            }
        }
        Ok(Response::new(Box::pin(tokio_stream::iter(responses))))
    }

    async fn set_forwarding_pipeline_config(
        &self,
        request: Request<p4v1::SetForwardingPipelineConfigRequest>,
    ) -> Result<Response<p4v1::SetForwardingPipelineConfigResponse>, Status> {
        let req = request.into_inner();
        self.check_device(req.device_id)?;
        check_role(&req.role)?;
        lock(&self.shared.arbitration).check_primary(req.election_id.as_ref())?;
        // Compiling and loading take a while: off the async threads.
        let shared = Arc::clone(&self.shared);
        tokio::task::spawn_blocking(move || {
            let mut device = lock(&shared.device);
            pipeline::set(&mut device, shared.deployer.as_ref(), &req)
        })
        .await
        .map_err(|e| Status::internal(format!("the pipeline task failed: {e}")))??;
        Ok(Response::new(p4v1::SetForwardingPipelineConfigResponse {}))
    }

    async fn get_forwarding_pipeline_config(
        &self,
        request: Request<p4v1::GetForwardingPipelineConfigRequest>,
    ) -> Result<Response<p4v1::GetForwardingPipelineConfigResponse>, Status> {
        let req = request.into_inner();
        self.check_device(req.device_id)?;
        let device = lock(&self.shared.device);
        Ok(Response::new(pipeline::get(&device, &req)?))
    }

    type StreamChannelStream = BoxStream<p4v1::StreamMessageResponse>;

    async fn stream_channel(
        &self,
        request: Request<tonic::Streaming<p4v1::StreamMessageRequest>>,
    ) -> Result<Response<Self::StreamChannelStream>, Status> {
        let inbound = request.into_inner();
        let (tx, rx) = mpsc::channel::<StreamItem>(1024);
        tokio::spawn(stream::run(Arc::clone(&self.shared), inbound, tx));
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }

    async fn capabilities(
        &self,
        _request: Request<p4v1::CapabilitiesRequest>,
    ) -> Result<Response<p4v1::CapabilitiesResponse>, Status> {
        Ok(Response::new(p4v1::CapabilitiesResponse {
            p4runtime_api_version: API_VERSION.into(),
            experimental: None,
        }))
    }
}

/// How to serve.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Where to listen.
    pub addr: SocketAddr,
    /// The device id controllers address.
    pub device_id: u64,
    /// TLS: the certificate chain and private key (PEM files).
    pub tls: Option<(PathBuf, PathBuf)>,
    /// How often the backend is polled for aging, events and digests.
    pub poll_interval: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            addr: SocketAddr::from(([127, 0, 0, 1], 9559)),
            device_id: 1,
            tls: None,
            poll_interval: Duration::from_millis(10),
        }
    }
}

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A TLS file could not be read.
    #[error("cannot read {path}: {error}")]
    Tls {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The transport failed (cannot listen, bad certificate).
    #[error("{0}")]
    Transport(#[from] tonic::transport::Error),
    /// The address cannot be listened on.
    #[error("cannot listen on {addr}: {error}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        error: std::io::Error,
    },
    /// The runtime could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}

/// Serves `service` on `options.addr` until `shutdown` completes; `listening` is told the
/// address once the socket is bound (port 0 picks a free one).
pub async fn serve(
    options: &ServeOptions,
    service: Service,
    listening: impl FnOnce(SocketAddr),
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    // Big Writes (thousands of updates, tens of KB) would otherwise wait on HTTP/2's 64 KB
    // default windows.
    let mut builder = tonic::transport::Server::builder()
        .initial_stream_window_size(Some(4 << 20))
        .initial_connection_window_size(Some(8 << 20));
    if let Some((cert, key)) = &options.tls {
        let read = |path: &PathBuf| {
            std::fs::read(path).map_err(|error| ServeError::Tls {
                path: path.clone(),
                error,
            })
        };
        let identity = tonic::transport::Identity::from_pem(read(cert)?, read(key)?);
        builder =
            builder.tls_config(tonic::transport::ServerTlsConfig::new().identity(identity))?;
    }
    let incoming = tonic::transport::server::TcpIncoming::bind(options.addr).map_err(|error| {
        ServeError::Bind {
            addr: options.addr,
            error,
        }
    })?;
    listening(incoming.local_addr().unwrap_or(options.addr));
    let poller = service.spawn_poller(options.poll_interval);
    let result = builder
        .add_service(service.into_server())
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await;
    poller.abort();
    Ok(result?)
}

/// Serves until SIGINT or SIGTERM, on a runtime of its own (for the `p4tc` binary).
pub fn run_blocking(
    options: ServeOptions,
    deployer: impl Deployer,
    listening: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    let service = Service::new(options.device_id, deployer);
    runtime.block_on(async move {
        let shutdown = async {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            let term = async {
                match term.as_mut() {
                    Some(t) => {
                        t.recv().await;
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term => {}
            }
        };
        serve(&options, service, listening, shutdown).await
    })
}
