//! The P4Runtime server through a real gRPC client, on the in-memory backend: pipeline
//! config, every match kind, arbitration, atomicity, malformed requests, wildcard reads,
//! idle-timeout notifications.

mod common;

use std::time::Duration;

use common::*;
use p4runtime_proto::p4::v1 as p4v1;
use p4tc_p4runtime::server::errors::update_errors;
use p4tc_p4runtime::server::MemoryDeployer;
use p4v1::field_match::{self as fm, FieldMatchType as M};
use p4v1::update::Type::{Delete, Insert, Modify};
use p4v1::write_request::Atomicity;
use tonic::Code;

async fn kinds() -> (Server, Controller, p4v1::ForwardingPipelineConfig) {
    let server = start(MemoryDeployer::new()).await;
    let (mut c, code) = Controller::connect(server.addr, 1).await;
    assert_eq!(code, Code::Ok as i32, "the only controller is primary");
    let config = pipeline(&kinds_p4());
    c.set_pipeline(config.clone()).await;
    (server, c, config)
}

fn codes(status: &tonic::Status) -> Vec<i32> {
    update_errors(status)
        .expect("per-update errors in the details")
        .iter()
        .map(|e| e.canonical_code)
        .collect()
}

async fn count(c: &mut Controller, table: u32) -> usize {
    c.read(vec![table_entity(p4v1::TableEntry {
        table_id: table,
        ..Default::default()
    })])
    .await
    .expect("read")
    .len()
}

#[tokio::test]
async fn pipeline_config_round_trips_and_capabilities_answer() {
    let (server, mut c, config) = kinds().await;
    let caps = c
        .client
        .capabilities(p4v1::CapabilitiesRequest { device_id: 1 })
        .await
        .unwrap()
        .into_inner();
    assert!(caps.p4runtime_api_version.starts_with("1."));
    let got = c
        .client
        .get_forwarding_pipeline_config(p4v1::GetForwardingPipelineConfigRequest {
            device_id: 1,
            response_type: 0,
        })
        .await
        .unwrap()
        .into_inner()
        .config
        .unwrap();
    assert_eq!(got.p4info, config.p4info);
    assert_eq!(got.p4_device_config, config.p4_device_config);
    assert_eq!(got.cookie.unwrap().cookie, 7);
    // VERIFY of a broken program fails and leaves the pipeline as it was.
    let mut broken = config.clone();
    broken.p4_device_config = b"control nope(".to_vec();
    let err = c
        .client
        .set_forwarding_pipeline_config(p4v1::SetForwardingPipelineConfigRequest {
            device_id: 1,
            election_id: Some(uint128(1)),
            action: p4v1::set_forwarding_pipeline_config_request::Action::VerifyAndCommit as i32,
            config: Some(broken),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert!(
        err.message().contains("does not compile"),
        "{}",
        err.message()
    );
    // VERIFY_AND_SAVE then COMMIT.
    for action in [
        p4v1::set_forwarding_pipeline_config_request::Action::VerifyAndSave,
        p4v1::set_forwarding_pipeline_config_request::Action::Commit,
    ] {
        c.client
            .set_forwarding_pipeline_config(p4v1::SetForwardingPipelineConfigRequest {
                device_id: 1,
                election_id: Some(uint128(1)),
                action: action as i32,
                config: (action
                    == p4v1::set_forwarding_pipeline_config_request::Action::VerifyAndSave)
                    .then(|| config.clone()),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    assert!(server.service.with_backend(|_| ()).is_some());
}

#[tokio::test]
async fn every_match_kind_inserts_modifies_reads_and_deletes() {
    let (_server, mut c, config) = kinds().await;
    let info = config.p4info.unwrap();
    let ids = Ids(&info);
    let fwd = ids.action("ingress.fwd");
    let cases: Vec<(&str, M, i32)> = vec![
        ("exact_t", exact(&[10, 0, 0, 2]), 0),
        (
            "lpm_t",
            M::Lpm(fm::Lpm {
                value: vec![10, 1, 0, 0],
                prefix_len: 16,
            }),
            0,
        ),
        (
            "ternary_t",
            M::Ternary(fm::Ternary {
                value: vec![0x20],
                mask: vec![0xf0],
            }),
            10,
        ),
        (
            "range_t",
            M::Range(fm::Range {
                low: vec![0x10, 0],
                high: vec![0x20, 0],
            }),
            5,
        ),
        (
            "optional_t",
            M::Optional(fm::Optional { value: vec![33] }),
            3,
        ),
    ];
    for (table, m, prio) in cases {
        let t = ids.table(table);
        let action = if table == "exact_t" {
            ids.action("fwd_counted")
        } else {
            fwd
        };
        let e = entry(t, m.clone(), action, &[&[2]], prio);
        c.write(vec![update(Insert, e.clone())], Atomicity::ContinueOnError)
            .await
            .unwrap_or_else(|s| panic!("{table}: insert: {s:?}"));
        let again = c
            .write(vec![update(Insert, e.clone())], Atomicity::ContinueOnError)
            .await
            .unwrap_err();
        assert_eq!(codes(&again), vec![Code::AlreadyExists as i32], "{table}");
        let read = c
            .read(vec![table_entity(p4v1::TableEntry {
                table_id: t,
                ..Default::default()
            })])
            .await
            .unwrap();
        assert_eq!(read.len(), 1, "{table}: {read:?}");
        let Some(p4v1::entity::Entity::TableEntry(got)) = &read[0].entity else {
            panic!("not a table entry")
        };
        assert_eq!(got.r#match, e.r#match, "{table}: key reads back as written");
        assert_eq!(got.priority, prio);
        assert_eq!(got.action, e.action);
        // Modify to port 3, read that one entry back by its key.
        let e3 = entry(t, m.clone(), action, &[&[3]], prio);
        c.write(vec![update(Modify, e3.clone())], Atomicity::ContinueOnError)
            .await
            .unwrap();
        let one = c
            .read(vec![table_entity(p4v1::TableEntry {
                action: None,
                ..e3.clone()
            })])
            .await
            .unwrap();
        let Some(p4v1::entity::Entity::TableEntry(got)) = &one[0].entity else {
            panic!()
        };
        assert_eq!(got.action, e3.action, "{table}: modified");
        c.write(vec![update(Delete, e3.clone())], Atomicity::ContinueOnError)
            .await
            .unwrap();
        assert_eq!(count(&mut c, t).await, 0, "{table}: deleted");
        let gone = c
            .write(vec![update(Delete, e3)], Atomicity::ContinueOnError)
            .await
            .unwrap_err();
        assert_eq!(codes(&gone), vec![Code::NotFound as i32], "{table}");
    }
}

#[tokio::test]
async fn only_the_primary_writes_and_a_backup_takes_over_when_it_leaves() {
    let (server, mut one, config) = kinds().await;
    let ids_info = config.p4info.unwrap();
    let ids = Ids(&ids_info);
    let t = ids.table("exact_t");
    let a = ids.action("fwd_counted");
    let (mut two, code) = Controller::connect(server.addr, 2).await;
    assert_eq!(code, Code::Ok as i32, "the higher election id is primary");
    assert_eq!(
        one.next_arbitration().await,
        Code::AlreadyExists as i32,
        "the old primary hears it is a backup"
    );
    let e = entry(t, exact(&[1, 1, 1, 1]), a, &[&[1]], 0);
    let denied = one
        .write(vec![update(Insert, e.clone())], Atomicity::ContinueOnError)
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
    two.write(vec![update(Insert, e.clone())], Atomicity::ContinueOnError)
        .await
        .unwrap();
    // A backup may read.
    assert_eq!(count(&mut one, t).await, 1);
    // Without an election id, nobody writes.
    let anonymous = two
        .client
        .write(p4v1::WriteRequest {
            device_id: 1,
            updates: vec![update(Delete, e.clone())],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::PermissionDenied);
    // A third controller with a taken election id is refused on its stream.
    let mut three = client(server.addr).await;
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let mut stream = three
        .stream_channel(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    tx.send(p4v1::StreamMessageRequest {
        update: Some(p4v1::stream_message_request::Update::Arbitration(
            p4v1::MasterArbitrationUpdate {
                device_id: 1,
                election_id: Some(uint128(2)),
                ..Default::default()
            },
        )),
    })
    .await
    .unwrap();
    let err = tokio::time::timeout(Duration::from_secs(5), stream.message())
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    // The primary leaves: the backup becomes primary and may write.
    drop(two);
    assert_eq!(one.next_arbitration().await, Code::Ok as i32);
    one.write(vec![update(Delete, e)], Atomicity::ContinueOnError)
        .await
        .unwrap();
}

#[tokio::test]
async fn atomicity_modes_apply_all_some_or_nothing() {
    let (_server, mut c, config) = kinds().await;
    let info = config.p4info.unwrap();
    let ids = Ids(&info);
    let t = ids.table("exact_t");
    let a = ids.action("fwd_counted");
    let e = |last: u8| entry(t, exact(&[10, 0, 0, last]), a, &[&[1]], 0);
    c.write(vec![update(Insert, e(2))], Atomicity::ContinueOnError)
        .await
        .unwrap();
    let batch = vec![
        update(Insert, e(1)),
        update(Insert, e(2)),
        update(Insert, e(3)),
    ];

    for mode in [Atomicity::RollbackOnError, Atomicity::DataplaneAtomic] {
        let err = c.write(batch.clone(), mode).await.unwrap_err();
        assert_eq!(err.code(), Code::Unknown);
        assert_eq!(
            codes(&err),
            vec![
                Code::Aborted as i32,
                Code::AlreadyExists as i32,
                Code::Aborted as i32
            ],
            "{mode:?}"
        );
        assert_eq!(count(&mut c, t).await, 1, "{mode:?}: rolled back");
    }
    // A modify and a delete that are rolled back come back as they were.
    let batch2 = vec![
        update(Modify, entry(t, exact(&[10, 0, 0, 2]), a, &[&[9]], 0)),
        update(Delete, e(2)),
        update(Delete, e(7)),
    ];
    let err = c
        .write(batch2, Atomicity::RollbackOnError)
        .await
        .unwrap_err();
    assert_eq!(
        codes(&err),
        vec![
            Code::Aborted as i32,
            Code::Aborted as i32,
            Code::NotFound as i32
        ]
    );
    let back = c
        .read(vec![table_entity(p4v1::TableEntry {
            table_id: t,
            ..Default::default()
        })])
        .await
        .unwrap();
    let Some(p4v1::entity::Entity::TableEntry(got)) = &back[0].entity else {
        panic!()
    };
    assert_eq!(got.action, e(2).action, "the modify was undone");

    let err = c
        .write(batch, Atomicity::ContinueOnError)
        .await
        .unwrap_err();
    assert_eq!(
        codes(&err),
        vec![Code::Ok as i32, Code::AlreadyExists as i32, Code::Ok as i32]
    );
    assert_eq!(count(&mut c, t).await, 3, "the others were applied");
}

#[tokio::test]
async fn malformed_requests_get_clear_codes_and_change_nothing() {
    let server = start(MemoryDeployer::new()).await;
    let (mut c, _) = Controller::connect(server.addr, 1).await;
    let config = pipeline(&kinds_p4());
    let info = config.p4info.clone().unwrap();
    let ids = Ids(&info);
    let t = ids.table("exact_t");
    let tt = ids.table("ternary_t");
    let a = ids.action("fwd_counted");
    let fwd = ids.action("ingress.fwd");
    // Before any pipeline.
    let err = c
        .write(
            vec![update(
                Insert,
                entry(t, exact(&[1, 2, 3, 4]), a, &[&[1]], 0),
            )],
            Atomicity::ContinueOnError,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    c.set_pipeline(config).await;

    let bad: Vec<(&str, p4v1::TableEntry, Code)> = vec![
        (
            "unknown table",
            entry(0x0200_0001, exact(&[1]), a, &[&[1]], 0),
            Code::NotFound,
        ),
        (
            "value wider than the field",
            entry(t, exact(&[1, 2, 3, 4, 5]), a, &[&[1]], 0),
            Code::InvalidArgument,
        ),
        (
            "action not in the table",
            entry(t, exact(&[1, 2, 3, 4]), fwd, &[&[1]], 0),
            Code::InvalidArgument,
        ),
        (
            "missing parameter",
            entry(t, exact(&[1, 2, 3, 4]), a, &[], 0),
            Code::InvalidArgument,
        ),
        (
            "priority on an exact table",
            entry(t, exact(&[1, 2, 3, 4]), a, &[&[1]], 4),
            Code::InvalidArgument,
        ),
        (
            "no priority on a ternary table",
            entry(
                tt,
                M::Ternary(fm::Ternary {
                    value: vec![1],
                    mask: vec![0xff],
                }),
                fwd,
                &[&[1]],
                0,
            ),
            Code::InvalidArgument,
        ),
        (
            "value bits outside the mask",
            entry(
                tt,
                M::Ternary(fm::Ternary {
                    value: vec![0x0f],
                    mask: vec![0xf0],
                }),
                fwd,
                &[&[1]],
                1,
            ),
            Code::InvalidArgument,
        ),
        (
            "wrong match kind",
            entry(tt, exact(&[1]), fwd, &[&[1]], 1),
            Code::InvalidArgument,
        ),
        (
            "exact field left out",
            p4v1::TableEntry {
                r#match: vec![],
                ..entry(t, exact(&[1]), a, &[&[1]], 0)
            },
            Code::InvalidArgument,
        ),
    ];
    let good = entry(t, exact(&[9, 9, 9, 9]), a, &[&[1]], 0);
    for (what, e, code) in bad {
        // Each malformed update beside a good one, all or nothing: nothing is applied.
        let err = c
            .write(
                vec![update(Insert, good.clone()), update(Insert, e)],
                Atomicity::RollbackOnError,
            )
            .await
            .unwrap_err();
        assert_eq!(
            codes(&err),
            vec![Code::Aborted as i32, code as i32],
            "{what}: {}",
            err.message()
        );
        assert_eq!(count(&mut c, t).await, 0, "{what}: nothing applied");
        assert_eq!(count(&mut c, tt).await, 0, "{what}: nothing applied");
    }
    // Request-level errors.
    let wrong_device = c
        .client
        .write(p4v1::WriteRequest {
            device_id: 9,
            election_id: Some(uint128(1)),
            updates: vec![update(Insert, good.clone())],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(wrong_device.code(), Code::NotFound);
    let empty_update = c
        .write(
            vec![p4v1::Update {
                r#type: Insert as i32,
                entity: None,
            }],
            Atomicity::ContinueOnError,
        )
        .await
        .unwrap_err();
    assert_eq!(codes(&empty_update), vec![Code::InvalidArgument as i32]);
    let bad_atomicity = c
        .client
        .write(p4v1::WriteRequest {
            device_id: 1,
            election_id: Some(uint128(1)),
            updates: vec![update(Insert, good)],
            atomicity: 42,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(bad_atomicity.code(), Code::InvalidArgument);
    assert_eq!(count(&mut c, t).await, 0);
}

#[tokio::test]
async fn wildcard_reads_cover_tables_counters_and_registers() {
    let (_server, mut c, config) = kinds().await;
    let info = config.p4info.unwrap();
    let ids = Ids(&info);
    let a = ids.action("fwd_counted");
    let fwd = ids.action("ingress.fwd");
    c.write(
        vec![
            update(
                Insert,
                entry(ids.table("exact_t"), exact(&[10, 0, 0, 1]), a, &[&[1]], 0),
            ),
            update(
                Insert,
                entry(ids.table("exact_t"), exact(&[10, 0, 0, 2]), a, &[&[2]], 0),
            ),
            update(
                Insert,
                entry(
                    ids.table("lpm_t"),
                    M::Lpm(fm::Lpm {
                        value: vec![10, 0, 0, 0],
                        prefix_len: 8,
                    }),
                    fwd,
                    &[&[3]],
                    0,
                ),
            ),
        ],
        Atomicity::ContinueOnError,
    )
    .await
    .unwrap();
    let all = c
        .read(vec![table_entity(p4v1::TableEntry::default())])
        .await
        .unwrap();
    assert_eq!(all.len(), 3, "table_id 0 reads every table");
    let counters = c
        .read(vec![p4v1::Entity {
            entity: Some(p4v1::entity::Entity::CounterEntry(p4v1::CounterEntry {
                counter_id: 0,
                ..Default::default()
            })),
        }])
        .await
        .unwrap();
    assert_eq!(counters.len(), 64, "every element of port_stats");
    // The default entry reads back, and can be changed.
    let exact_t = ids.table("exact_t");
    let def = c
        .read(vec![table_entity(p4v1::TableEntry {
            table_id: exact_t,
            is_default_action: true,
            ..Default::default()
        })])
        .await
        .unwrap();
    let Some(p4v1::entity::Entity::TableEntry(d)) = &def[0].entity else {
        panic!()
    };
    assert!(d.is_default_action);
    let report = ids.action("report");
    c.write(
        vec![update(
            Modify,
            p4v1::TableEntry {
                table_id: exact_t,
                is_default_action: true,
                action: Some(p4v1::TableAction {
                    r#type: Some(p4v1::table_action::Type::Action(p4v1::Action {
                        action_id: report,
                        params: vec![],
                    })),
                }),
                ..Default::default()
            },
        )],
        Atomicity::ContinueOnError,
    )
    .await
    .unwrap();
    // Registers: write one element, read all.
    let reg = ids.register("last_port");
    c.write(
        vec![p4v1::Update {
            r#type: Modify as i32,
            entity: Some(p4v1::Entity {
                entity: Some(p4v1::entity::Entity::RegisterEntry(p4v1::RegisterEntry {
                    register_id: reg,
                    index: Some(p4v1::Index { index: 3 }),
                    data: Some(p4v1::P4Data {
                        data: Some(p4v1::p4_data::Data::Bitstring(vec![0x12, 0x34])),
                    }),
                })),
            }),
        }],
        Atomicity::ContinueOnError,
    )
    .await
    .unwrap();
    let regs = c
        .read(vec![p4v1::Entity {
            entity: Some(p4v1::entity::Entity::RegisterEntry(p4v1::RegisterEntry {
                register_id: reg,
                ..Default::default()
            })),
        }])
        .await
        .unwrap();
    assert_eq!(regs.len(), 16);
    let Some(p4v1::entity::Entity::RegisterEntry(r3)) = &regs[3].entity else {
        panic!()
    };
    assert_eq!(
        r3.data.as_ref().unwrap().data,
        Some(p4v1::p4_data::Data::Bitstring(vec![0x12, 0x34]))
    );
}

#[tokio::test]
async fn idle_timeouts_arrive_on_the_primarys_stream() {
    let (_server, mut c, config) = kinds().await;
    let info = config.p4info.unwrap();
    let ids = Ids(&info);
    let t = ids.table("exact_t");
    let mut e = entry(
        t,
        exact(&[10, 0, 0, 5]),
        ids.action("fwd_counted"),
        &[&[1]],
        0,
    );
    e.idle_timeout_ns = 150_000_000;
    c.write(vec![update(Insert, e.clone())], Atomicity::ContinueOnError)
        .await
        .unwrap();
    let read = c
        .read(vec![table_entity(p4v1::TableEntry {
            table_id: t,
            time_since_last_hit: Some(p4v1::table_entry::IdleTimeout { elapsed_ns: 0 }),
            ..Default::default()
        })])
        .await
        .unwrap();
    let Some(p4v1::entity::Entity::TableEntry(got)) = &read[0].entity else {
        panic!()
    };
    assert_eq!(got.idle_timeout_ns, 150_000_000);
    assert!(got.time_since_last_hit.is_some());
    let started = std::time::Instant::now();
    let notification = loop {
        match c.next().await.unwrap() {
            Some(Out::IdleTimeoutNotification(n)) => break n,
            Some(_) => continue,
            None => panic!("stream ended"),
        }
    };
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert_eq!(notification.table_entry.len(), 1);
    assert_eq!(notification.table_entry[0].r#match, e.r#match);
    assert_eq!(notification.table_entry[0].idle_timeout_ns, 150_000_000);
}

#[tokio::test]
async fn digests_arrive_as_lists_once_configured_and_acks_are_matched() {
    use p4tc_runtime::Datapath as _;
    let (server, mut c, config) = kinds().await;
    let info = config.p4info.unwrap();
    let ids = Ids(&info);
    let digest = ids.digest("seen");
    let handle = server
        .service
        .with_backend(|b| {
            let m = b.memory().expect("in memory");
            m.model()
                .instance_by_name("seen")
                .expect("digest instance")
                .handle
        })
        .unwrap();
    // seen_t { bit<48> srcAddr; bit<32> ipv4Src; }, laid out by the digest's ValueLayout.
    let payload = |n: u8| {
        server
            .service
            .with_backend(|b| {
                let m = b.memory().unwrap();
                let layout = match &m.model().instance(handle).unwrap().layout {
                    Some(p4tc_ir::layout::ExternLayout::Digest(l)) => l.clone(),
                    other => panic!("{other:?}"),
                };
                layout
                    .encode(&[
                        num_bigint::BigUint::from(0x0200_0000_0000u64 + u64::from(n)),
                        num_bigint::BigUint::from(0x0a00_0000u32 + u32::from(n)),
                    ])
                    .unwrap()
            })
            .unwrap()
    };
    let send = |n: u8| {
        let p = payload(n);
        server
            .service
            .with_backend(|b| b.memory().unwrap().digest(handle, &p))
            .unwrap();
    };
    // Not configured: nothing is sent.
    send(1);
    let digest_update = |ty: p4v1::update::Type, max_list_size: i32| p4v1::Update {
        r#type: ty as i32,
        entity: Some(p4v1::Entity {
            entity: Some(p4v1::entity::Entity::DigestEntry(p4v1::DigestEntry {
                digest_id: digest,
                config: Some(p4v1::digest_entry::Config {
                    max_timeout_ns: 0,
                    max_list_size,
                    ack_timeout_ns: 1_000_000_000,
                }),
            })),
        }),
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    c.write(vec![digest_update(Insert, 2)], Atomicity::ContinueOnError)
        .await
        .unwrap();
    for n in 2..=4 {
        send(n);
    }
    let mut lists = Vec::new();
    while lists
        .iter()
        .map(|l: &p4v1::DigestList| l.data.len())
        .sum::<usize>()
        < 3
    {
        match c.next().await.unwrap() {
            Some(Out::Digest(l)) => lists.push(l),
            Some(_) => {}
            None => panic!("stream ended"),
        }
    }
    assert!(lists
        .iter()
        .all(|l| l.digest_id == digest && l.data.len() <= 2));
    let first = &lists[0].data[0];
    let Some(p4v1::p4_data::Data::Struct(s)) = &first.data else {
        panic!("{first:?}")
    };
    assert_eq!(
        s.members[1].data,
        Some(p4v1::p4_data::Data::Bitstring(vec![10, 0, 0, 2])),
        "the first digest sent after the config, not the one before"
    );
    // Acks: a known list is taken silently, an unknown one is a stream error.
    for (list, expect_error) in [(lists[0].list_id, false), (9999, true)] {
        c.tx.send(p4v1::StreamMessageRequest {
            update: Some(p4v1::stream_message_request::Update::DigestAck(
                p4v1::DigestListAck {
                    digest_id: digest,
                    list_id: list,
                },
            )),
        })
        .await
        .unwrap();
        if expect_error {
            match c.next().await.unwrap() {
                Some(Out::Error(e)) => assert_eq!(e.canonical_code, Code::NotFound as i32),
                other => panic!("{other:?}"),
            }
        }
    }
    // PacketOut is refused on the stream (this program has no packet_out controller
    // header to name a port with), with the packet given back.
    c.tx.send(p4v1::StreamMessageRequest {
        update: Some(p4v1::stream_message_request::Update::Packet(
            p4v1::PacketOut {
                payload: vec![1, 2, 3],
                metadata: vec![],
            },
        )),
    })
    .await
    .unwrap();
    match c.next().await.unwrap() {
        Some(Out::Error(e)) => {
            assert_eq!(e.canonical_code, Code::InvalidArgument as i32, "{e:?}");
            assert!(e
                .message
                .contains("no controller_packet_metadata `packet_out`"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn meters_and_direct_meters_are_configured_and_const_defaults_refused() {
    let server = start(MemoryDeployer::new()).await;
    let (mut c, _) = Controller::connect(server.addr, 1).await;
    let config = pipeline(&example("meters_policer"));
    let info = config.p4info.clone().unwrap();
    c.set_pipeline(config).await;
    let meter = info.meters[0].preamble.as_ref().unwrap().id;
    let conf = p4v1::MeterConfig {
        cir: 1000,
        cburst: 100,
        pir: 2000,
        pburst: 200,
        eburst: 0,
    };
    let meter_entity = |index: Option<i64>, config: Option<p4v1::MeterConfig>| p4v1::Entity {
        entity: Some(p4v1::entity::Entity::MeterEntry(p4v1::MeterEntry {
            meter_id: meter,
            index: index.map(|index| p4v1::Index { index }),
            config,
            counter_data: None,
        })),
    };
    c.write(
        vec![p4v1::Update {
            r#type: Modify as i32,
            entity: Some(meter_entity(Some(5), Some(conf))),
        }],
        Atomicity::ContinueOnError,
    )
    .await
    .unwrap();
    let read = c.read(vec![meter_entity(Some(5), None)]).await.unwrap();
    let Some(p4v1::entity::Entity::MeterEntry(m)) = &read[0].entity else {
        panic!()
    };
    assert_eq!(m.config, Some(conf));
    assert_eq!(
        c.read(vec![meter_entity(None, None)]).await.unwrap().len(),
        1024
    );
    let out_of_range = c
        .write(
            vec![p4v1::Update {
                r#type: Modify as i32,
                entity: Some(meter_entity(Some(1024), Some(conf))),
            }],
            Atomicity::ContinueOnError,
        )
        .await
        .unwrap_err();
    assert_eq!(codes(&out_of_range), vec![Code::OutOfRange as i32]);

    // A direct meter on an entry of `uplinks`.
    let ids = Ids(&info);
    let uplinks = ids.table("uplinks");
    let e = entry(
        uplinks,
        M::Lpm(fm::Lpm {
            value: vec![10, 0, 0, 0],
            prefix_len: 8,
        }),
        ids.action("uplink_blind"),
        &[&[2]],
        0,
    );
    c.write(vec![update(Insert, e.clone())], Atomicity::ContinueOnError)
        .await
        .unwrap();
    let direct = |te: p4v1::TableEntry| p4v1::Update {
        r#type: Modify as i32,
        entity: Some(p4v1::Entity {
            entity: Some(p4v1::entity::Entity::DirectMeterEntry(
                p4v1::DirectMeterEntry {
                    table_entry: Some(te),
                    config: Some(conf),
                    counter_data: None,
                },
            )),
        }),
    };
    c.write(vec![direct(e.clone())], Atomicity::ContinueOnError)
        .await
        .unwrap();
    let missing = p4v1::TableEntry {
        r#match: vec![p4v1::FieldMatch {
            field_id: 1,
            field_match_type: Some(M::Lpm(fm::Lpm {
                value: vec![11, 0, 0, 0],
                prefix_len: 8,
            })),
        }],
        ..e
    };
    let err = c
        .write(vec![direct(missing)], Atomicity::ContinueOnError)
        .await
        .unwrap_err();
    assert_eq!(codes(&err), vec![Code::NotFound as i32]);
    // `subscribers` has a const default action: changing it is refused.
    let subscribers = ids.table("subscribers");
    let err = c
        .write(
            vec![update(
                Modify,
                p4v1::TableEntry {
                    table_id: subscribers,
                    is_default_action: true,
                    action: Some(p4v1::TableAction {
                        r#type: Some(p4v1::table_action::Type::Action(p4v1::Action {
                            action_id: ids.action("unknown_subscriber"),
                            params: vec![],
                        })),
                    }),
                    ..Default::default()
                },
            )],
            Atomicity::ContinueOnError,
        )
        .await
        .unwrap_err();
    assert_eq!(codes(&err), vec![Code::PermissionDenied as i32], "{err:?}");
}
