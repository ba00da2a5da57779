//! Extern state: counters, meters (RFC 2698 two-rate three-colour markers) and registers.

use std::time::Duration;

use num_bigint::BigUint;
use p4tc_ir::ir::{self, InstanceArg, Module, Value};
use p4tc_ir::layout::{CounterKind, ExternLayout, ValueLayout, ValueShape};
use rustc_hash::FxHashMap;

use crate::datapath::Color;
use crate::error::RuntimeError;
use crate::model::{value_bits, InstanceModel};
use crate::object_model::MeterConfig;

/// Arrays up to this many elements are dense vectors; larger ones (a 32-bit index, or a size
/// only known at run time) keep only the elements written, so memory follows use.
const DENSE_LIMIT: u64 = 1 << 20;

/// An array of `len` elements, each `init` until written.
#[derive(Clone, Debug)]
pub(crate) enum Cells<T> {
    Dense(Vec<T>),
    Sparse {
        map: FxHashMap<u64, T>,
        len: u64,
        init: T,
    },
}

impl<T: Clone> Cells<T> {
    pub fn new(len: u64, init: T) -> Cells<T> {
        if len <= DENSE_LIMIT {
            Cells::Dense(vec![init; len as usize])
        } else {
            Cells::Sparse {
                map: FxHashMap::default(),
                len,
                init,
            }
        }
    }

    pub fn len(&self) -> u64 {
        match self {
            Cells::Dense(v) => v.len() as u64,
            Cells::Sparse { len, .. } => *len,
        }
    }

    pub fn get(&self, index: u64) -> Option<&T> {
        match self {
            Cells::Dense(v) => usize::try_from(index).ok().and_then(|i| v.get(i)),
            Cells::Sparse { map, len, init } => {
                (index < *len).then(|| map.get(&index).unwrap_or(init))
            }
        }
    }

    pub fn get_mut(&mut self, index: u64) -> Option<&mut T> {
        match self {
            Cells::Dense(v) => usize::try_from(index).ok().and_then(|i| v.get_mut(i)),
            Cells::Sparse { map, len, init } => {
                (index < *len).then(|| map.entry(index).or_insert_with(|| init.clone()))
            }
        }
    }
}

/// PNA's `PNA_MeterType_t`: what one token stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MeterUnit {
    Packets,
    Bytes,
}

impl MeterUnit {
    /// The unit named by a `Meter(n, type)` or `DirectMeter(type)` constructor argument
    /// (packets when it cannot be read).
    pub fn of_arg(arg: Option<&InstanceArg>) -> MeterUnit {
        match arg.and_then(InstanceArg::value) {
            Some(Value::Enum(1)) => MeterUnit::Bytes,
            _ => MeterUnit::Packets,
        }
    }
}

/// Tokens are kept in nano-units (units x 10^9): a rate in units per second times a time in
/// nanoseconds is then exact, with no rounding drift.
const NANO: u128 = 1_000_000_000;

/// One two-rate three-colour marker (RFC 2698).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct MeterState {
    config: Option<MeterConfig>,
    /// Committed bucket, nano-units.
    tc: u128,
    /// Peak bucket, nano-units.
    tp: u128,
    /// When the buckets were last filled.
    last: Duration,
}

impl MeterState {
    /// Configures the meter; both buckets start full (RFC 2698, section 3).
    pub fn configure(&mut self, config: MeterConfig, now: Duration) {
        *self = MeterState {
            config: Some(config),
            tc: u128::from(config.cbs) * NANO,
            tp: u128::from(config.pbs) * NANO,
            last: now,
        };
    }

    /// Marks a packet of `units` units; `color` is the pre-colour of the colour-aware mode.
    /// An unconfigured meter passes everything green.
    pub fn execute(&mut self, now: Duration, units: u64, color: Option<Color>) -> Color {
        let Some(config) = self.config else {
            return Color::Green;
        };
        let dt = now.saturating_sub(self.last).as_nanos();
        self.last = self.last.max(now);
        let fill = |tokens: u128, rate: u64, burst: u64| {
            tokens
                .saturating_add(u128::from(rate).saturating_mul(dt))
                .min(u128::from(burst) * NANO)
        };
        self.tc = fill(self.tc, config.cir, config.cbs);
        self.tp = fill(self.tp, config.pir, config.pbs);
        let b = u128::from(units) * NANO;
        if color == Some(Color::Red) || self.tp < b {
            Color::Red
        } else if color == Some(Color::Yellow) || self.tc < b {
            self.tp -= b;
            Color::Yellow
        } else {
            self.tp -= b;
            self.tc -= b;
            Color::Green
        }
    }
}

/// An extern instance's state.
#[derive(Debug)]
pub(crate) enum InstanceState {
    /// An indexed `Counter`: packets and bytes per element.
    Counter {
        kind: CounterKind,
        width: u32,
        cells: Cells<(u64, u64)>,
    },
    /// A `DirectCounter`: its counts live in the entries.
    DirectCounter,
    /// An indexed `Meter`.
    Meter {
        unit: MeterUnit,
        cells: Cells<MeterState>,
    },
    /// A `DirectMeter`: its state lives in the entries.
    DirectMeter { unit: MeterUnit },
    /// A `Register`.
    Register {
        element: ValueLayout,
        cells: Cells<Box<[u8]>>,
    },
    /// A `Digest`.
    Digest,
    /// Anything without state here (hashes, checksums, random, ...).
    Stateless,
}

/// The element values of a register's initial value (a scalar, or a struct's fields).
fn initial_values(
    module: &Module,
    element: &ValueLayout,
    value: &Value,
) -> Result<Vec<BigUint>, String> {
    match (element.shape, value) {
        (ValueShape::Scalar(ty), v) => value_bits(module, ty, v)
            .map(|b| vec![b])
            .map_err(|e| e.to_string()),
        (ValueShape::Struct(c), Value::Tuple(values)) => {
            let def = module
                .composites
                .get(c)
                .ok_or_else(|| "its element type is missing".to_string())?;
            def.fields
                .iter()
                .zip(values)
                .map(|(f, v)| value_bits(module, f.ty, v).map_err(|e| e.to_string()))
                .collect()
        }
        _ => Err("its initial value is not a struct value".into()),
    }
}

impl InstanceState {
    pub fn new(module: &Module, model: &InstanceModel) -> Result<InstanceState, RuntimeError> {
        let inst: Option<&ir::Instance> = module.instances.get(model.handle);
        let args: &[InstanceArg] = inst.map(|i| i.args.as_slice()).unwrap_or_default();
        let fail = |reason: String| {
            RuntimeError::Invalid(format!("extern instance {}: {reason}", model.name))
        };
        Ok(match (model.extern_name.as_str(), &model.layout) {
            ("Counter", Some(ExternLayout::Counter(layout))) => InstanceState::Counter {
                kind: layout.kind,
                width: layout.width,
                cells: Cells::new(layout.count.or(model.size).unwrap_or(0), (0, 0)),
            },
            ("DirectCounter", _) => InstanceState::DirectCounter,
            ("Meter", _) => InstanceState::Meter {
                unit: MeterUnit::of_arg(args.get(1)),
                cells: Cells::new(model.size.unwrap_or(0), MeterState::default()),
            },
            ("DirectMeter", _) => InstanceState::DirectMeter {
                unit: MeterUnit::of_arg(args.first()),
            },
            ("Register", Some(ExternLayout::Register(layout))) => {
                let element = layout.element.clone();
                let init = match args.get(1).and_then(InstanceArg::value) {
                    Some(value) => {
                        let values = initial_values(module, &element, value).map_err(fail)?;
                        element
                            .encode(&values)
                            .map_err(|e| fail(format!("initial value: {e}")))?
                    }
                    None => vec![0u8; element.size as usize],
                };
                // A size known only at run time: the whole 32-bit index space, sparse.
                let len = layout.count.or(model.size).unwrap_or(1 << 32);
                InstanceState::Register {
                    element,
                    cells: Cells::new(len, init.into_boxed_slice()),
                }
            }
            ("Digest", _) => InstanceState::Digest,
            _ => InstanceState::Stateless,
        })
    }

    /// The extern's kind, for messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            InstanceState::Counter { .. } => "Counter",
            InstanceState::DirectCounter => "DirectCounter",
            InstanceState::Meter { .. } => "Meter",
            InstanceState::DirectMeter { .. } => "DirectMeter",
            InstanceState::Register { .. } => "Register",
            InstanceState::Digest => "Digest",
            InstanceState::Stateless => "stateless extern",
        }
    }
}

/// A count as a W-bit counter shows it (the stored count modulo 2^W).
pub(crate) fn wrap(count: u64, width: u32) -> u64 {
    if width >= 64 {
        count
    } else {
        count & ((1u64 << width) - 1)
    }
}
