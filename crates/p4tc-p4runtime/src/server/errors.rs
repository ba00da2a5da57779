//! Errors as P4Runtime reports them: one canonical gRPC code and a message naming the
//! object, per request or (for a Write of several updates) per update, in the status
//! details the spec prescribes.

use p4runtime_proto::google::rpc;
use p4runtime_proto::p4::v1 as p4v1;
use p4runtime_proto::prost::Message as _;
use p4tc_runtime::RuntimeError;
use tonic::Code;

/// One update's (or one request's) failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The canonical code.
    pub code: Code,
    /// What is wrong, naming the object.
    pub message: String,
}

impl Failure {
    /// A failure with this code.
    pub fn new(code: Code, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }

    /// `INVALID_ARGUMENT`.
    pub fn invalid(message: impl Into<String>) -> Failure {
        Failure::new(Code::InvalidArgument, message)
    }

    /// `NOT_FOUND`.
    pub fn not_found(message: impl Into<String>) -> Failure {
        Failure::new(Code::NotFound, message)
    }

    /// `UNIMPLEMENTED`.
    pub fn unimplemented(message: impl Into<String>) -> Failure {
        Failure::new(Code::Unimplemented, message)
    }

    /// The object model's refusal, with the code P4Runtime gives it.
    pub fn runtime(e: &RuntimeError) -> Failure {
        let code = match e {
            RuntimeError::NotFound { .. } => Code::NotFound,
            RuntimeError::Exists { .. } => Code::AlreadyExists,
            RuntimeError::Full { .. } => Code::ResourceExhausted,
            RuntimeError::Permission { .. } => Code::PermissionDenied,
            RuntimeError::Invalid(_) => Code::InvalidArgument,
        };
        Failure::new(code, e.to_string())
    }

    /// As a gRPC status.
    pub fn status(&self) -> tonic::Status {
        tonic::Status::new(self.code, self.message.clone())
    }
}

impl From<Failure> for tonic::Status {
    fn from(f: Failure) -> tonic::Status {
        f.status()
    }
}

/// The type URL of `p4.v1.Error` in an `Any`.
const ERROR_TYPE_URL: &str = "type.googleapis.com/p4.v1.Error";

/// The status of a Write some of whose updates failed (P4Runtime spec, "Error reporting"):
/// code `UNKNOWN`, and in the details one `p4.v1.Error` per update, in the request's order,
/// `OK` for those that were applied.
pub fn write_status(results: &[Option<Failure>]) -> tonic::Status {
    let failed = results.iter().flatten().count();
    let first = results.iter().flatten().next();
    let message = match first {
        Some(f) if failed == 1 => format!("1 of {} updates failed: {}", results.len(), f.message),
        Some(f) => format!(
            "{failed} of {} updates failed; the first: {}",
            results.len(),
            f.message
        ),
        None => "ok".to_string(),
    };
    let details = results
        .iter()
        .map(|r| {
            let error = match r {
                None => p4v1::Error {
                    canonical_code: Code::Ok as i32,
                    ..Default::default()
                },
                Some(f) => p4v1::Error {
                    canonical_code: f.code as i32,
                    message: f.message.clone(),
                    space: "p4tc".into(),
                    code: 0,
                    details: None,
                },
            };
            prost_types::Any {
                type_url: ERROR_TYPE_URL.into(),
                value: error.encode_to_vec(),
            }
        })
        .collect();
    let status = rpc::Status {
        code: Code::Unknown as i32,
        message: message.clone(),
        details,
    };
    tonic::Status::with_details(Code::Unknown, message, status.encode_to_vec().into())
}

/// The per-update errors of a Write's status, as `write_status` made them (for clients and
/// tests): `None` when the status carries none.
pub fn update_errors(status: &tonic::Status) -> Option<Vec<p4v1::Error>> {
    let details = rpc::Status::decode(status.details()).ok()?;
    details
        .details
        .iter()
        .map(|any| p4v1::Error::decode(any.value.as_slice()).ok())
        .collect()
}
