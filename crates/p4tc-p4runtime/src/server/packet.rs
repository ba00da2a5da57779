//! Packet I/O on the stream: PacketOut from the primary controller out of a port, and
//! packets the datapath sends to the CPU port (`PNA_PORT_CPU`) to the primary as PacketIn.
//!
//! The metadata are those of the P4Info's `controller_packet_metadata` (the program's
//! `@controller_header("packet_out")` / `("packet_in")` headers):
//! - a PacketOut must carry `egress_port` (the port, an ifindex as everywhere in P4TC) and
//!   may carry the header's other fields, which are checked (known id, value fits, given
//!   once) and otherwise unused: the payload goes out of the port as it is, without passing
//!   through the pipeline (P4TC has no injection point before the parser that a program
//!   could tell apart from the wire).
//! - a PacketIn carries `ingress_port` when the packet_in header has that field; without a
//!   packet_in header it has no metadata.

use num_bigint::BigUint;
use p4runtime_proto::p4::config::v1 as cfg;
use p4runtime_proto::p4::v1 as p4v1;

use super::backend::CpuPacket;
use super::errors::Failure;
use super::stream::lock;
use super::values::{decode, encode};
use super::Shared;

/// An Ethernet header: the least a frame put on a port can be.
const ETHERNET_HEADER: usize = 14;

/// The controller header named `name` (`packet_in` / `packet_out`).
fn controller_header<'a>(
    info: &'a cfg::P4Info,
    name: &str,
) -> Option<&'a cfg::ControllerPacketMetadata> {
    info.controller_packet_metadata
        .iter()
        .find(|c| c.preamble.as_ref().is_some_and(|p| p.name == name))
}

/// The port a PacketOut goes out of, after checking all its metadata against the P4Info.
pub fn egress_port(info: &cfg::P4Info, packet: &p4v1::PacketOut) -> Result<u32, Failure> {
    let Some(header) = controller_header(info, "packet_out") else {
        return Err(Failure::invalid(
            "the P4Info has no controller_packet_metadata `packet_out` (a header annotated @controller_header(\"packet_out\") with an `egress_port` field): a PacketOut cannot name its port",
        ));
    };
    let mut port: Option<BigUint> = None;
    let mut seen = Vec::with_capacity(packet.metadata.len());
    for m in &packet.metadata {
        let Some(field) = header.metadata.iter().find(|f| f.id == m.metadata_id) else {
            let known: Vec<String> = header
                .metadata
                .iter()
                .map(|f| format!("{} `{}`", f.id, f.name))
                .collect();
            return Err(Failure::invalid(format!(
                "PacketOut metadata id {} is not a field of packet_out (its fields: {})",
                m.metadata_id,
                known.join(", ")
            )));
        };
        if seen.contains(&m.metadata_id) {
            return Err(Failure::invalid(format!(
                "PacketOut metadata `{}` (id {}) is given twice",
                field.name, field.id
            )));
        }
        seen.push(m.metadata_id);
        let width = u32::try_from(field.bitwidth).unwrap_or(0);
        let value = decode(&m.value, width, &|| {
            format!("PacketOut metadata `{}` (id {})", field.name, field.id)
        })?;
        if field.name == "egress_port" {
            port = Some(value);
        }
    }
    let Some(field) = header.metadata.iter().find(|f| f.name == "egress_port") else {
        return Err(Failure::invalid(
            "the P4Info's packet_out header has no `egress_port` field: a PacketOut cannot name its port",
        ));
    };
    let port = port.ok_or_else(|| {
        Failure::invalid(format!(
            "PacketOut without metadata `egress_port` (id {}): which port should it go out of?",
            field.id
        ))
    })?;
    match u32::try_from(&port) {
        Ok(0) | Err(_) => Err(Failure::invalid(format!(
            "PacketOut egress_port {port} is not an interface (ports are ifindexes, from 1)"
        ))),
        Ok(p) => Ok(p),
    }
}

/// Handles a PacketOut from the primary: checks it and sends the payload out of its port.
pub fn packet_out(shared: &Shared, packet: &p4v1::PacketOut) -> Result<(), Failure> {
    let mut device = lock(&shared.device);
    let Some(inst) = device.installed.as_mut() else {
        return Err(Failure::new(
            tonic::Code::FailedPrecondition,
            "PacketOut before a pipeline is set (SetForwardingPipelineConfig first)",
        ));
    };
    let info = inst.config.p4info.as_ref();
    let port = egress_port(info.unwrap_or(&cfg::P4Info::default()), packet)?;
    if packet.payload.len() < ETHERNET_HEADER {
        return Err(Failure::invalid(format!(
            "PacketOut payload of {} bytes is shorter than an Ethernet header ({ETHERNET_HEADER} bytes)",
            packet.payload.len()
        )));
    }
    inst.backend.transmit(port, &packet.payload)
}

/// The PacketIn of a packet the datapath sent to the CPU port.
pub fn packet_in(info: Option<&cfg::P4Info>, packet: CpuPacket) -> p4v1::PacketIn {
    let mut metadata = Vec::new();
    if let Some(field) = info
        .and_then(|i| controller_header(i, "packet_in"))
        .and_then(|h| h.metadata.iter().find(|f| f.name == "ingress_port"))
    {
        let value = BigUint::from(packet.ingress_port);
        // A port that does not fit the field's width is left out rather than cut.
        if value.bits() <= u64::try_from(field.bitwidth).unwrap_or(0) {
            metadata.push(p4v1::PacketMetadata {
                metadata_id: field.id,
                value: encode(&value),
            });
        }
    }
    p4v1::PacketIn {
        payload: packet.frame,
        metadata,
    }
}
