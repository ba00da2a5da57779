//! PacketOut and PacketIn through a real gRPC client on the in-memory device: metadata
//! checked against the P4Info's packet_out header, only the primary may send, and packets
//! the datapath gives the CPU port reach the primary with their ingress port.

mod common;

use common::*;
use p4runtime_proto::p4::v1 as p4v1;
use p4tc_p4runtime::server::{CpuPacket, MemoryDeployer};
use tonic::Code;

use p4v1::stream_message_request::Update as In;

fn frame() -> Vec<u8> {
    let mut f = vec![0xff; 6];
    f.extend([0x02, 0, 0, 0, 0, 1]);
    f.extend([0x88, 0xb5]);
    f.extend(b"hello from the controller");
    f
}

fn metadata(id: u32, value: &[u8]) -> p4v1::PacketMetadata {
    p4v1::PacketMetadata {
        metadata_id: id,
        value: value.to_vec(),
    }
}

async fn send(c: &Controller, payload: Vec<u8>, metadata: Vec<p4v1::PacketMetadata>) {
    c.tx.send(p4v1::StreamMessageRequest {
        update: Some(In::Packet(p4v1::PacketOut { payload, metadata })),
    })
    .await
    .expect("stream open");
}

/// The next stream error (code, message), skipping other messages.
async fn next_error(c: &mut Controller) -> (i32, String, Option<p4v1::PacketOut>) {
    loop {
        match c.next().await.expect("stream ok") {
            Some(Out::Error(e)) => {
                let packet = match e.details {
                    Some(p4v1::stream_error::Details::PacketOut(p)) => p.packet_out,
                    _ => None,
                };
                return (e.canonical_code, e.message, packet);
            }
            Some(_) => continue,
            None => panic!("stream ended"),
        }
    }
}

fn ids(config: &p4v1::ForwardingPipelineConfig, header: &str) -> Vec<(String, u32)> {
    config
        .p4info
        .as_ref()
        .unwrap()
        .controller_packet_metadata
        .iter()
        .find(|c| c.preamble.as_ref().unwrap().name == header)
        .unwrap()
        .metadata
        .iter()
        .map(|m| (m.name.clone(), m.id))
        .collect()
}

#[tokio::test]
async fn packet_out_is_checked_and_sent_by_the_primary_only() {
    let server = start(MemoryDeployer::new()).await;
    let (mut c, code) = Controller::connect(server.addr, 1).await;
    assert_eq!(code, Code::Ok as i32);

    // Before a pipeline: refused, with the packet handed back.
    send(&c, frame(), vec![metadata(1, &[7])]).await;
    let (code, message, back) = next_error(&mut c).await;
    assert_eq!(code, Code::FailedPrecondition as i32, "{message}");
    assert_eq!(back.expect("the packet comes back").payload, frame());

    let config = pipeline(&packet_io_p4());
    assert_eq!(
        ids(&config, "packet_out"),
        vec![("egress_port".into(), 1), ("reserved".into(), 2)]
    );
    c.set_pipeline(config).await;

    // Good: out of port 7 as it is.
    send(&c, frame(), vec![metadata(1, &[7]), metadata(2, &[0])]).await;
    // Bad ones, each with its reason.
    let bad: Vec<(Vec<u8>, Vec<p4v1::PacketMetadata>, &str)> = vec![
        (frame(), vec![], "without metadata `egress_port` (id 1)"),
        (
            frame(),
            vec![metadata(9, &[1])],
            "metadata id 9 is not a field of packet_out",
        ),
        (
            frame(),
            vec![metadata(1, &[1, 0, 0, 0, 0])],
            "does not fit in 32 bits",
        ),
        (
            frame(),
            vec![metadata(2, &[1, 0])],
            "`reserved` (id 2): value 0x0100 does not fit in 8 bits",
        ),
        (
            frame(),
            vec![metadata(1, &[7]), metadata(1, &[8])],
            "is given twice",
        ),
        (
            frame(),
            vec![metadata(1, &[0])],
            "egress_port 0 is not an interface",
        ),
        (
            frame()[..10].to_vec(),
            vec![metadata(1, &[7])],
            "shorter than an Ethernet header",
        ),
    ];
    for (payload, md, why) in &bad {
        send(&c, payload.clone(), md.clone()).await;
        let (code, message, back) = next_error(&mut c).await;
        assert_eq!(code, Code::InvalidArgument as i32, "{message}");
        assert!(message.contains(why), "{message:?} should say {why:?}");
        assert_eq!(back.expect("the packet comes back").metadata, *md);
    }

    // A backup may not send.
    let (mut backup, code) = Controller::connect(server.addr, 0).await;
    assert_ne!(code, Code::Ok as i32, "election 0 is not primary");
    send(&backup, frame(), vec![metadata(1, &[9])]).await;
    let (code, message, _) = next_error(&mut backup).await;
    assert_eq!(code, Code::PermissionDenied as i32, "{message}");

    // Only the good packet went out, once, and from the primary.
    let sent = server
        .service
        .with_backend(|b| b.memory_device().unwrap().take_sent())
        .unwrap();
    assert_eq!(sent, vec![(7, frame())]);
}

#[tokio::test]
async fn packets_to_the_cpu_port_reach_the_primary_as_packet_in() {
    let server = start(MemoryDeployer::new()).await;
    let (mut c, _) = Controller::connect(server.addr, 1).await;
    let config = pipeline(&packet_io_p4());
    let ingress_port_id = ids(&config, "packet_in")[0].1;
    c.set_pipeline(config).await;
    server
        .service
        .with_backend(|b| {
            b.memory_device().unwrap().to_cpu(CpuPacket {
                ingress_port: 0x1234,
                frame: frame(),
            })
        })
        .unwrap();
    let packet = loop {
        match c.next().await.expect("stream ok") {
            Some(Out::Packet(p)) => break p,
            Some(_) => continue,
            None => panic!("stream ended"),
        }
    };
    assert_eq!(packet.payload, frame());
    assert_eq!(
        packet.metadata,
        vec![metadata(ingress_port_id, &[0x12, 0x34])]
    );
}
