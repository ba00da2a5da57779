//! The P4Runtime side of p4tc.
//!
//! - [`p4info`]: the P4Info of a pipeline (names, ids and annotations as p4c gives them for a
//!   PNA program), in binary and text format.
//! - [`ids`]: how P4Runtime ids are made, and [`ids::IdMap`], the id-to-handle map a server
//!   translates requests with.
//! - [`device_config`]: the `PROG.p4tc` artifact that `SetForwardingPipelineConfig` carries.
//!
//! The P4Runtime server lives in `src/server/` (its owner adds `pub mod server;` here).
//!
//! ```no_run
//! # fn demo(model: &p4tc_runtime::PipelineModel) -> Result<(), Box<dyn std::error::Error>> {
//! let info = p4tc_p4runtime::p4info::build(model)?;
//! let ids = p4tc_p4runtime::ids::IdMap::new(model, &info)?;
//! let table = &info.tables[0];
//! let handle = ids.table(table.preamble.as_ref().unwrap().id).unwrap().handle;
//! # let _ = handle; Ok(()) }
//! ```

pub mod device_config;
pub mod ids;
pub mod p4info;
pub mod server;

pub use device_config::{DeviceConfig, DeviceConfigError};
pub use ids::{IdError, IdMap};
pub use p4info::P4InfoError;
