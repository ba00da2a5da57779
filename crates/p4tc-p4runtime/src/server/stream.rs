//! `StreamChannel`: arbitration, digest lists and their acks, idle-timeout notifications,
//! packet I/O.
//!
//! One task per stream reads the controller's messages; one poller per server takes the
//! backend's events every few milliseconds and turns them into notifications for the
//! primary:
//! - an entry deleted by the aging timer becomes an `IdleTimeoutNotification`. P4TC ages
//!   entries out (the entry is gone when the notification arrives), where the P4Runtime spec
//!   leaves the entry in place for the controller to delete: a controller's DELETE then
//!   gets `NOT_FOUND`.
//! - digests of a digest the controller configured (`DigestEntry`) become `DigestList`s:
//!   at most `max_list_size` digests a list, sent when full or when the oldest has waited
//!   `max_timeout`. Acks are matched to lists; unacknowledged lists are forgotten after
//!   `ack_timeout`.
//! - packets the datapath sent to the CPU port become `PacketIn`s ([`packet`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use num_bigint::BigUint;
use p4runtime_proto::p4::v1 as p4v1;
use p4tc_ir::layout::ExternLayout;
use p4tc_runtime::{Actor, Event, EventKind};
use tokio::sync::mpsc;
use tonic::Code;

use super::arbitration::StreamItem;
use super::packet;
use super::state::{Installed, Outstanding};
use super::translate;
use super::values::encode;
use super::Shared;

use p4v1::stream_message_request::Update as In;
use p4v1::stream_message_response::Update as Out;

/// Digests waiting to be sent, per digest id.
#[derive(Default)]
pub struct PendingDigests {
    lists: HashMap<u32, (Instant, Vec<p4v1::P4Data>)>,
}

fn stream_error(
    code: Code,
    message: String,
    details: Option<p4v1::stream_error::Details>,
) -> p4v1::StreamMessageResponse {
    p4v1::StreamMessageResponse {
        update: Some(Out::Error(p4v1::StreamError {
            canonical_code: code as i32,
            message,
            space: "p4tc".into(),
            code: 0,
            details,
        })),
    }
}

/// Serves one controller's stream until it ends.
pub async fn run(
    shared: Arc<Shared>,
    mut inbound: tonic::Streaming<p4v1::StreamMessageRequest>,
    tx: mpsc::Sender<StreamItem>,
) {
    let stream = lock(&shared.arbitration).open_stream();
    let mut arbitrated = false;
    loop {
        let msg = match inbound.message().await {
            Ok(Some(msg)) => msg,
            Ok(None) | Err(_) => break,
        };
        match msg.update {
            Some(In::Arbitration(a)) => {
                let result = {
                    let mut arb = lock(&shared.arbitration);
                    let r = arb.arbitrate(stream, shared.device_id, &a, &tx);
                    if r.is_ok() {
                        arb.announce(shared.device_id);
                    }
                    r
                };
                match result {
                    Ok(()) => arbitrated = true,
                    Err(status) => {
                        let _ = tx.send(Err(status)).await;
                        break;
                    }
                }
            }
            Some(_) if !arbitrated => {
                let _ = tx
                    .send(Err(tonic::Status::failed_precondition(
                        "the first message on the stream must be an arbitration update",
                    )))
                    .await;
                break;
            }
            Some(In::Packet(p)) => {
                // Only the primary may send packets (as only it may write).
                let primary = lock(&shared.arbitration).is_primary_stream(stream);
                let result = if primary {
                    packet::packet_out(&shared, &p)
                } else {
                    Err(super::errors::Failure::new(
                        Code::PermissionDenied,
                        "PacketOut from a controller that is not the primary",
                    ))
                };
                if let Err(e) = result {
                    let _ = tx
                        .send(Ok(stream_error(
                            e.code,
                            e.message,
                            Some(p4v1::stream_error::Details::PacketOut(
                                p4v1::PacketOutError {
                                    packet_out: Some(p),
                                },
                            )),
                        )))
                        .await;
                }
            }
            Some(In::DigestAck(ack)) => {
                let known = lock(&shared.device)
                    .installed
                    .as_mut()
                    .and_then(|i| i.outstanding.remove(&(ack.digest_id, ack.list_id)))
                    .is_some();
                if !known {
                    let _ = tx
                        .send(Ok(stream_error(
                            Code::NotFound,
                            format!(
                                "no digest list {} of digest {:#x} waits for an ack",
                                ack.list_id, ack.digest_id
                            ),
                            Some(p4v1::stream_error::Details::DigestListAck(
                                p4v1::DigestListAckError {
                                    digest_list_ack: Some(ack),
                                },
                            )),
                        )))
                        .await;
                }
            }
            Some(In::Other(_)) => {
                let _ = tx
                    .send(Ok(stream_error(
                        Code::Unimplemented,
                        "`other` stream messages are not supported".into(),
                        None,
                    )))
                    .await;
            }
            None => {
                let _ = tx
                    .send(Ok(stream_error(
                        Code::InvalidArgument,
                        "an empty stream message".into(),
                        None,
                    )))
                    .await;
            }
        }
    }
    let mut arb = lock(&shared.arbitration);
    if arb.close(stream) {
        arb.announce(shared.device_id);
    }
}

/// Locks a mutex; a poisoned one (a panic elsewhere) is still usable: the state it guards
/// is only changed through whole operations.
pub fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn digest_data(inst: &Installed, id: u32, payload: &[u8]) -> Option<p4v1::P4Data> {
    use p4v1::p4_data::Data;
    let info = inst.schema.instances.get(&id)?;
    let model = inst.model.instance(info.handle)?;
    let Some(ExternLayout::Digest(layout)) = &model.layout else {
        return None;
    };
    let values: Vec<BigUint> = layout.decode(payload).ok()?;
    Some(if info.is_struct {
        p4v1::P4Data {
            data: Some(Data::Struct(p4v1::P4StructLike {
                members: values
                    .iter()
                    .map(|v| p4v1::P4Data {
                        data: Some(Data::Bitstring(encode(v))),
                    })
                    .collect(),
            })),
        }
    } else {
        p4v1::P4Data {
            data: Some(Data::Bitstring(encode(values.first()?))),
        }
    })
}

fn timestamp() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

/// What the backend's events since the last poll mean to the primary.
pub fn notifications(
    inst: &mut Installed,
    pending: &mut PendingDigests,
    events: Vec<Event>,
) -> Vec<p4v1::StreamMessageResponse> {
    let mut out = Vec::new();
    let mut expired = Vec::new();
    for event in events {
        match event.kind {
            EventKind::EntryDeleted {
                table,
                entry,
                by: Actor::Timer,
            } => {
                let Some(t) = inst
                    .schema
                    .table_id(table)
                    .and_then(|id| inst.schema.tables.get(&id))
                else {
                    continue;
                };
                let mut te = translate::entry_of_spec(t, &entry, false);
                if let Some(p4tc_runtime::Aging::Profile(p)) = entry.aging {
                    if let Some(d) = inst.backend.objects_ref().timer_profiles().get(p as usize) {
                        te.idle_timeout_ns = i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
                    }
                }
                expired.push(te);
            }
            EventKind::Digest { instance, payload } => {
                let Some(&id) = inst.schema.instance_of_handle.get(&instance.index()) else {
                    continue;
                };
                if !inst.digests.contains_key(&id) {
                    // Not configured by the controller: the spec says not to send it.
                    continue;
                }
                if let Some(data) = digest_data(inst, id, &payload) {
                    pending
                        .lists
                        .entry(id)
                        .or_insert_with(|| (Instant::now(), Vec::new()))
                        .1
                        .push(data);
                }
            }
            _ => {}
        }
    }
    if !expired.is_empty() {
        out.push(p4v1::StreamMessageResponse {
            update: Some(Out::IdleTimeoutNotification(
                p4v1::IdleTimeoutNotification {
                    table_entry: expired,
                    timestamp: timestamp(),
                },
            )),
        });
    }
    // Digest lists that are full or have waited long enough.
    let now = Instant::now();
    let ids: Vec<u32> = pending.lists.keys().copied().collect();
    for id in ids {
        let Some(config) = inst.digests.get(&id).cloned() else {
            pending.lists.remove(&id);
            continue;
        };
        while let Some((since, data)) = pending.lists.get_mut(&id) {
            let full = config.max_list_size > 0 && data.len() >= config.max_list_size;
            let due = now.duration_since(*since) >= config.max_timeout;
            if data.is_empty() || !(full || due) {
                break;
            }
            let take = if config.max_list_size > 0 {
                config.max_list_size.min(data.len())
            } else {
                data.len()
            };
            let list: Vec<p4v1::P4Data> = data.drain(..take).collect();
            *since = now;
            let list_id = inst.next_list_id;
            inst.next_list_id += 1;
            inst.outstanding
                .insert((id, list_id), Outstanding { sent: now });
            out.push(p4v1::StreamMessageResponse {
                update: Some(Out::Digest(p4v1::DigestList {
                    digest_id: id,
                    list_id,
                    data: list,
                    timestamp: timestamp(),
                })),
            });
        }
        if pending.lists.get(&id).is_some_and(|(_, d)| d.is_empty()) {
            pending.lists.remove(&id);
        }
    }
    // Lists never acknowledged are forgotten after their ack timeout.
    let digests = &inst.digests;
    inst.outstanding.retain(|(id, _), o| {
        digests
            .get(id)
            .is_some_and(|c| now.duration_since(o.sent) < c.ack_timeout.max(Duration::from_secs(1)))
    });
    out
}

/// Polls the backend every `interval` for as long as the server lives.
pub async fn poll(shared: Arc<Shared>, interval: Duration) {
    let mut pending = PendingDigests::default();
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let messages = {
            let mut device = lock(&shared.device);
            let Some(inst) = device.installed.as_mut() else {
                continue;
            };
            let events = inst.backend.poll();
            let mut messages = notifications(inst, &mut pending, events);
            for p in inst.backend.take_packet_ins() {
                messages.push(p4v1::StreamMessageResponse {
                    update: Some(Out::Packet(packet::packet_in(
                        inst.config.p4info.as_ref(),
                        p,
                    ))),
                });
            }
            messages
        };
        if messages.is_empty() {
            continue;
        }
        let tx = lock(&shared.arbitration).primary_tx();
        if let Some(tx) = tx {
            for m in messages {
                if tx.send(Ok(m)).await.is_err() {
                    break;
                }
            }
        }
    }
}
