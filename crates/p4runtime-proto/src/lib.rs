//! P4Runtime v1 protobuf messages and gRPC stubs.
//!
//! The `.proto` files under `proto/` were written for p4tc from the P4Runtime
//! specification: packages, message and field names, field numbers, enum
//! values and the service's RPC names are those of the specification (v1.4,
//! with the v1.5 additions), so standard P4Runtime clients interoperate. They
//! are compiled at build time (protox + prost + tonic), so no `protoc` is
//! needed.
//!
//! Modules follow the protobuf packages:
//! - [`p4::v1`]: the `P4Runtime` service (client in
//!   [`p4::v1::p4_runtime_client`], server trait in
//!   [`p4::v1::p4_runtime_server`]) and its messages, plus `P4Data`.
//! - [`p4::config::v1`]: `P4Info` and the P4 type descriptions.
//! - [`google::rpc`]: `Status` and `Code`.
//!
//! `google.protobuf.Any` is [`prost_types::Any`]. [`FILE_DESCRIPTOR_SET`] is
//! the encoded descriptor set of all the files (for text format via
//! prost-reflect, or gRPC reflection).
//!
//! ```
//! use p4runtime_proto::p4::v1::{Uint128, WriteRequest};
//! use prost::Message;
//!
//! let req = WriteRequest { device_id: 1, election_id: Some(Uint128 { high: 0, low: 1 }), ..Default::default() };
//! let back = WriteRequest::decode(req.encode_to_vec().as_slice()).unwrap();
//! assert_eq!(back, req);
//! ```

/// Generated code: its docs come from the .proto comments, and clippy's
/// style lints do not apply to it.
#[allow(missing_docs, clippy::all, clippy::pedantic)]
mod generated {
    pub mod p4 {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/p4.v1.rs"));
        }
        pub mod config {
            pub mod v1 {
                include!(concat!(env!("OUT_DIR"), "/p4.config.v1.rs"));
            }
        }
    }
    pub mod google {
        pub mod rpc {
            include!(concat!(env!("OUT_DIR"), "/google.rpc.rs"));
        }
    }
}

pub use generated::{google, p4};
pub use prost;
pub use prost_types;
pub use tonic;

/// The encoded `google.protobuf.FileDescriptorSet` of every P4Runtime file
/// (and of `google/protobuf/any.proto`, which they import).
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/p4runtime_descriptor.bin"));

/// Full name of the gRPC service, as clients address it (`/p4.v1.P4Runtime/Write`).
pub const SERVICE_NAME: &str = "p4.v1.P4Runtime";
