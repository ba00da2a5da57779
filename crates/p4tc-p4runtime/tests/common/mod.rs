//! A P4Runtime server on a free loopback port with the in-memory backend, and controllers
//! that talk to it with the generated tonic client.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use p4runtime_proto::p4::config::v1 as cfg;
use p4runtime_proto::p4::v1 as p4v1;
use p4runtime_proto::p4::v1::p4_runtime_client::P4RuntimeClient;
use p4tc_p4runtime::server::{self, Deployer, ServeOptions, Service};
use tokio::sync::{mpsc, oneshot};
use tonic::transport::Channel;

pub use p4v1::stream_message_response::Update as Out;

/// The program with one table per match kind (shared with the p4runtime-shell test).
pub fn kinds_p4() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../p4tc/tests/p4runtime_shell/kinds.p4")
}

/// The program with `@controller_header` headers (tests/packet_io/packet_io.p4).
pub fn packet_io_p4() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/packet_io/packet_io.p4")
}

/// An example's program.
pub fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../examples/{name}/{name}.p4"))
}

/// A running server.
pub struct Server {
    pub addr: SocketAddr,
    pub service: Service,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Starts a server for device 1 on a free port.
pub async fn start(deployer: impl Deployer) -> Server {
    let service = Service::new(1, deployer);
    let options = ServeOptions {
        addr: "127.0.0.1:0".parse().unwrap(),
        poll_interval: Duration::from_millis(5),
        ..ServeOptions::default()
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let (tx, rx) = oneshot::channel();
    let s = service.clone();
    tokio::spawn(async move {
        server::serve(
            &options,
            s,
            |addr| {
                let _ = tx.send(addr);
            },
            async {
                let _ = stopped.await;
            },
        )
        .await
        .expect("serves");
    });
    let addr = rx.await.expect("server listening");
    Server {
        addr,
        service,
        stop: Some(stop),
    }
}

/// The device config (plain P4 source) and P4Info of a program.
pub fn pipeline(path: &Path) -> p4v1::ForwardingPipelineConfig {
    let source = std::fs::read(path).expect("program readable");
    let prepared = server::pipeline::prepare(&source).expect("program compiles");
    let mut p4info = p4tc_p4runtime::p4info::build(&prepared.model).expect("p4info");
    // The controller headers come from the syntax tree, as `p4tc compile` adds them.
    let parsed = p4tc_front::parse_source(
        &path.display().to_string(),
        &String::from_utf8_lossy(&source),
        &p4tc_front::PreprocessOptions::default(),
    );
    p4tc_p4runtime::p4info::add_controller_packet_metadata(
        &mut p4info,
        &parsed.program,
        &prepared.model.module,
    )
    .expect("controller headers");
    p4v1::ForwardingPipelineConfig {
        p4info: Some(p4info),
        p4_device_config: source,
        cookie: Some(p4v1::forwarding_pipeline_config::Cookie { cookie: 7 }),
    }
}

pub fn uint128(v: u64) -> p4v1::Uint128 {
    p4v1::Uint128 { high: 0, low: v }
}

/// A controller with its stream open.
pub struct Controller {
    pub client: P4RuntimeClient<Channel>,
    pub tx: mpsc::Sender<p4v1::StreamMessageRequest>,
    pub rx: tonic::Streaming<p4v1::StreamMessageResponse>,
    pub election: u64,
}

pub async fn client(addr: SocketAddr) -> P4RuntimeClient<Channel> {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("address")
        .initial_stream_window_size(Some(4 << 20))
        .initial_connection_window_size(Some(8 << 20))
        .connect()
        .await
        .expect("connects");
    P4RuntimeClient::new(channel)
        .max_decoding_message_size(64 << 20)
        .max_encoding_message_size(64 << 20)
}

impl Controller {
    /// Connects and sends arbitration with `election`; returns after the server's first
    /// arbitration answer (its status code is returned too).
    pub async fn connect(addr: SocketAddr, election: u64) -> (Controller, i32) {
        let mut client = client(addr).await;
        let (tx, rx) = mpsc::channel(64);
        let outbound = tokio_stream::wrappers::ReceiverStream::new(rx);
        let rx = client
            .stream_channel(outbound)
            .await
            .expect("stream opens")
            .into_inner();
        let mut c = Controller {
            client,
            tx,
            rx,
            election,
        };
        c.arbitrate(election).await;
        let code = c.next_arbitration().await;
        (c, code)
    }

    pub async fn arbitrate(&mut self, election: u64) {
        self.election = election;
        self.tx
            .send(p4v1::StreamMessageRequest {
                update: Some(p4v1::stream_message_request::Update::Arbitration(
                    p4v1::MasterArbitrationUpdate {
                        device_id: 1,
                        election_id: Some(uint128(election)),
                        ..Default::default()
                    },
                )),
            })
            .await
            .expect("stream open");
    }

    /// The next message on the stream (fails the test after 5 s).
    pub async fn next(&mut self) -> Result<Option<Out>, tonic::Status> {
        let msg = tokio::time::timeout(Duration::from_secs(5), self.rx.message())
            .await
            .expect("a stream message within 5 s")?;
        Ok(msg.and_then(|m| m.update))
    }

    /// The status code of the next arbitration update.
    pub async fn next_arbitration(&mut self) -> i32 {
        loop {
            match self.next().await.expect("stream ok") {
                Some(Out::Arbitration(a)) => return a.status.map_or(-1, |s| s.code),
                Some(_) => continue,
                None => panic!("stream ended"),
            }
        }
    }

    pub async fn set_pipeline(&mut self, config: p4v1::ForwardingPipelineConfig) {
        self.client
            .set_forwarding_pipeline_config(p4v1::SetForwardingPipelineConfigRequest {
                device_id: 1,
                election_id: Some(uint128(self.election)),
                action: p4v1::set_forwarding_pipeline_config_request::Action::VerifyAndCommit
                    as i32,
                config: Some(config),
                ..Default::default()
            })
            .await
            .expect("pipeline set");
    }

    pub async fn write(
        &mut self,
        updates: Vec<p4v1::Update>,
        atomicity: p4v1::write_request::Atomicity,
    ) -> Result<(), tonic::Status> {
        self.client
            .write(p4v1::WriteRequest {
                device_id: 1,
                election_id: Some(uint128(self.election)),
                updates,
                atomicity: atomicity as i32,
                ..Default::default()
            })
            .await
            .map(|_| ())
    }

    pub async fn read(
        &mut self,
        entities: Vec<p4v1::Entity>,
    ) -> Result<Vec<p4v1::Entity>, tonic::Status> {
        let mut stream = self
            .client
            .read(p4v1::ReadRequest {
                device_id: 1,
                entities,
                ..Default::default()
            })
            .await?
            .into_inner();
        let mut out = Vec::new();
        while let Some(r) = stream.message().await? {
            out.extend(r.entities);
        }
        Ok(out)
    }
}

/// Ids by name in a P4Info.
pub struct Ids<'a>(pub &'a cfg::P4Info);

impl Ids<'_> {
    pub fn table(&self, name: &str) -> u32 {
        self.0
            .tables
            .iter()
            .find_map(|t| {
                t.preamble
                    .as_ref()
                    .filter(|p| p.name.ends_with(name))
                    .map(|p| p.id)
            })
            .unwrap_or_else(|| panic!("no table {name}"))
    }
    pub fn action(&self, name: &str) -> u32 {
        self.0
            .actions
            .iter()
            .find_map(|a| {
                a.preamble
                    .as_ref()
                    .filter(|p| p.name.ends_with(name))
                    .map(|p| p.id)
            })
            .unwrap_or_else(|| panic!("no action {name}"))
    }
    pub fn counter(&self, name: &str) -> u32 {
        self.0
            .counters
            .iter()
            .find_map(|a| {
                a.preamble
                    .as_ref()
                    .filter(|p| p.name.ends_with(name))
                    .map(|p| p.id)
            })
            .unwrap_or_else(|| panic!("no counter {name}"))
    }
    pub fn register(&self, name: &str) -> u32 {
        self.0
            .registers
            .iter()
            .find_map(|a| {
                a.preamble
                    .as_ref()
                    .filter(|p| p.name.ends_with(name))
                    .map(|p| p.id)
            })
            .unwrap_or_else(|| panic!("no register {name}"))
    }
    pub fn digest(&self, name: &str) -> u32 {
        self.0
            .digests
            .iter()
            .find_map(|a| {
                a.preamble
                    .as_ref()
                    .filter(|p| p.name.ends_with(name))
                    .map(|p| p.id)
            })
            .unwrap_or_else(|| panic!("no digest {name}"))
    }
}

/// A table entry with one match field.
pub fn entry(
    table: u32,
    m: p4v1::field_match::FieldMatchType,
    action: u32,
    params: &[&[u8]],
    priority: i32,
) -> p4v1::TableEntry {
    p4v1::TableEntry {
        table_id: table,
        r#match: vec![p4v1::FieldMatch {
            field_id: 1,
            field_match_type: Some(m),
        }],
        action: Some(p4v1::TableAction {
            r#type: Some(p4v1::table_action::Type::Action(p4v1::Action {
                action_id: action,
                params: params
                    .iter()
                    .enumerate()
                    .map(|(i, v)| p4v1::action::Param {
                        param_id: i as u32 + 1,
                        value: v.to_vec(),
                    })
                    .collect(),
            })),
        }),
        priority,
        ..Default::default()
    }
}

pub fn exact(v: &[u8]) -> p4v1::field_match::FieldMatchType {
    p4v1::field_match::FieldMatchType::Exact(p4v1::field_match::Exact { value: v.to_vec() })
}

pub fn update(ty: p4v1::update::Type, te: p4v1::TableEntry) -> p4v1::Update {
    p4v1::Update {
        r#type: ty as i32,
        entity: Some(p4v1::Entity {
            entity: Some(p4v1::entity::Entity::TableEntry(te)),
        }),
    }
}

pub fn table_entity(te: p4v1::TableEntry) -> p4v1::Entity {
    p4v1::Entity {
        entity: Some(p4v1::entity::Entity::TableEntry(te)),
    }
}
