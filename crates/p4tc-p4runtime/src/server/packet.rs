//! Packet I/O on the stream. P4TC's PNA programs have no CPU port: nothing in the datapath
//! sends a packet to the controller, and a packet from the controller has no port to be
//! injected at that the program would see as such. PacketOut is answered with a stream
//! error (`UNIMPLEMENTED`) carrying the packet back, and no PacketIn is ever sent; the
//! P4Info's `controller_packet_metadata` is empty accordingly.

use p4runtime_proto::p4::v1 as p4v1;

use super::errors::Failure;
use super::Shared;

/// Handles a PacketOut from the primary.
pub fn packet_out(_shared: &Shared, packet: &p4v1::PacketOut) -> Result<(), Failure> {
    Err(Failure::unimplemented(format!(
        "PacketOut ({} bytes): p4tc pipelines have no CPU port to inject at",
        packet.payload.len()
    )))
}
