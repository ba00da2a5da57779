//! Client arbitration (P4Runtime spec, "Client Arbitration and Controller Replication"):
//! every controller opens a stream and sends its election id; the highest one is the
//! primary, the only one allowed to write. The others are backups; they may read.
//!
//! Only the default role (empty name) is served: a request for a named role is refused
//! with `UNIMPLEMENTED`.

use std::collections::HashMap;

use p4runtime_proto::google::rpc;
use p4runtime_proto::p4::v1 as p4v1;
use tokio::sync::mpsc;
use tonic::Code;

/// What the server sends on a stream.
pub type StreamItem = Result<p4v1::StreamMessageResponse, tonic::Status>;

/// One controller's stream.
struct Controller {
    election_id: u128,
    tx: mpsc::Sender<StreamItem>,
}

/// The controllers connected, and which is primary.
#[derive(Default)]
pub struct Arbitration {
    controllers: HashMap<u64, Controller>,
    next_stream: u64,
    /// The highest election id seen since the server started (the spec's answer to backups
    /// when no primary is connected).
    highest_ever: Option<u128>,
}

/// An election id as a number.
pub fn election(id: Option<&p4v1::Uint128>) -> Option<u128> {
    id.map(|u| (u128::from(u.high) << 64) | u128::from(u.low))
}

fn uint128(v: u128) -> p4v1::Uint128 {
    p4v1::Uint128 {
        high: (v >> 64) as u64,
        low: v as u64,
    }
}

impl Arbitration {
    /// A new stream's id.
    pub fn open_stream(&mut self) -> u64 {
        self.next_stream += 1;
        self.next_stream
    }

    /// The primary's election id, if a controller is connected.
    pub fn primary(&self) -> Option<u128> {
        self.controllers.values().map(|c| c.election_id).max()
    }

    /// The primary's stream, to send notifications on.
    pub fn primary_tx(&self) -> Option<mpsc::Sender<StreamItem>> {
        let max = self.primary()?;
        self.controllers
            .values()
            .find(|c| c.election_id == max)
            .map(|c| c.tx.clone())
    }

    /// Whether `stream` belongs to the primary.
    pub fn is_primary_stream(&self, stream: u64) -> bool {
        match (self.controllers.get(&stream), self.primary()) {
            (Some(c), Some(max)) => c.election_id == max,
            _ => false,
        }
    }

    /// Checks that a write-like request comes from the primary.
    pub fn check_primary(&self, election_id: Option<&p4v1::Uint128>) -> Result<(), tonic::Status> {
        let Some(id) = election(election_id) else {
            return Err(tonic::Status::permission_denied(
                "the request has no election_id: only the primary controller may write",
            ));
        };
        match self.primary() {
            Some(p) if p == id => Ok(()),
            Some(p) => Err(tonic::Status::permission_denied(format!(
                "election_id {id} is not the primary's ({p}): only the primary controller may write"
            ))),
            None => Err(tonic::Status::permission_denied(format!(
                "no controller is connected with election_id {id}: open the StreamChannel and send arbitration first"
            ))),
        }
    }

    /// A controller's arbitration update on `stream`: joins or changes its election id.
    /// Errors close the stream (duplicate election id, wrong device, named role).
    pub fn arbitrate(
        &mut self,
        stream: u64,
        device_id: u64,
        update: &p4v1::MasterArbitrationUpdate,
        tx: &mpsc::Sender<StreamItem>,
    ) -> Result<(), tonic::Status> {
        if update.device_id != device_id {
            return Err(tonic::Status::not_found(format!(
                "no device {} here (this server is device {device_id})",
                update.device_id
            )));
        }
        // The deprecated numeric role id is not looked at: a named role is what selects one.
        if update.role.as_ref().is_some_and(|r| !r.name.is_empty()) {
            return Err(tonic::Status::unimplemented(
                "roles are not supported: leave the role unset (the default role has full access)",
            ));
        }
        let Some(id) = election(update.election_id.as_ref()) else {
            return Err(tonic::Status::invalid_argument(
                "the arbitration update has no election_id",
            ));
        };
        if self
            .controllers
            .iter()
            .any(|(s, c)| *s != stream && c.election_id == id)
        {
            return Err(tonic::Status::invalid_argument(format!(
                "election_id {id} is used by another controller"
            )));
        }
        self.controllers.insert(
            stream,
            Controller {
                election_id: id,
                tx: tx.clone(),
            },
        );
        self.highest_ever = Some(self.highest_ever.map_or(id, |h| h.max(id)));
        Ok(())
    }

    /// The stream went away.
    pub fn close(&mut self, stream: u64) -> bool {
        self.controllers.remove(&stream).is_some()
    }

    /// Tells every controller who is primary: the primary gets `OK`, the others
    /// `ALREADY_EXISTS` (a primary exists) or `NOT_FOUND` (none does), with the primary's
    /// (or highest seen) election id.
    pub fn announce(&self, device_id: u64) {
        let primary = self.primary();
        for c in self.controllers.values() {
            let (code, message) = if Some(c.election_id) == primary {
                (Code::Ok, "you are the primary")
            } else if primary.is_some() {
                (Code::AlreadyExists, "another controller is primary")
            } else {
                (Code::NotFound, "no primary")
            };
            let msg = p4v1::StreamMessageResponse {
                update: Some(p4v1::stream_message_response::Update::Arbitration(
                    p4v1::MasterArbitrationUpdate {
                        device_id,
                        role: None,
                        election_id: primary.or(self.highest_ever).map(uint128),
                        status: Some(rpc::Status {
                            code: code as i32,
                            message: message.into(),
                            details: Vec::new(),
                        }),
                    },
                )),
            };
            // A full or closed stream misses this one; its reader is gone or slow.
            let _ = c.tx.try_send(Ok(msg));
        }
    }
}
