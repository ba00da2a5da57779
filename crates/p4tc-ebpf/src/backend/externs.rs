//! Counters (per-CPU arrays, summed), registers (arrays of the element's big-endian blob) and
//! meters (arrays of `struct p4tc_meter`), with `MemoryBackend`'s checks and messages.

use num_bigint::BigUint;
use p4tc_ir::arena::Handle;
use p4tc_ir::ir;
use p4tc_ir::layout::ExternLayout;
use p4tc_runtime::model::InstanceModel;
use p4tc_runtime::{CounterValue, MeterConfig, RuntimeError};

use super::KernelBackend;
use crate::entry::MeterState;
use crate::{sys, MapRole};

/// A count as a W-bit counter shows it (the stored count modulo 2^W).
pub(super) fn wrap(count: u64, width: u32) -> u64 {
    if width >= 64 {
        count
    } else {
        count & ((1u64 << width) - 1)
    }
}

fn invalid(message: String) -> RuntimeError {
    RuntimeError::Invalid(message)
}

/// The instance, checked to be a `kind` (the error says what it is instead).
fn instance<'b>(
    b: &'b KernelBackend,
    h: Handle<ir::Instance>,
    kind: &str,
    direct_note: &str,
) -> Result<&'b InstanceModel, RuntimeError> {
    let inst = b.model.instance(h).ok_or_else(|| RuntimeError::NotFound {
        what: format!("extern instance #{}", h.index()),
    })?;
    if inst.extern_name != kind {
        let direct = inst.extern_name == format!("Direct{kind}");
        return Err(invalid(format!(
            "{} is a {}, not a {kind}{}",
            inst.name,
            inst.extern_name,
            if direct { direct_note } else { "" }
        )));
    }
    Ok(inst)
}

/// The instance's map and the index checked against its size.
fn element<'b>(
    b: &'b KernelBackend,
    inst: &InstanceModel,
    role: MapRole,
    what: &str,
    index: u64,
) -> Result<(&'b sys::SizedMap, [u8; 4]), RuntimeError> {
    let spec = b
        .generated
        .maps
        .iter()
        .find(|m| m.instance == Some(inst.handle) && m.role == role)
        .ok_or_else(|| RuntimeError::NotFound {
            what: format!("the map of {what} {}", inst.name),
        })?;
    let len = inst.size.unwrap_or(u64::from(spec.max_entries));
    if index >= len || index >= u64::from(spec.max_entries) {
        return Err(RuntimeError::NotFound {
            what: format!("element {index} of {what} {} ({len} elements)", inst.name),
        });
    }
    Ok((b.map(&spec.name)?, (index as u32).to_ne_bytes()))
}

fn kernel(inst: &InstanceModel, e: std::io::Error) -> RuntimeError {
    invalid(format!("{}: the kernel said: {e}", inst.name))
}

pub(super) fn counter(
    b: &KernelBackend,
    h: Handle<ir::Instance>,
    index: u64,
) -> Result<CounterValue, RuntimeError> {
    let inst = instance(b, h, "Counter", " (direct counts are read with the entry)")?;
    let Some(ExternLayout::Counter(layout)) = &inst.layout else {
        return Err(invalid(format!("counter {} has no layout", inst.name)));
    };
    let (map, key) = element(b, inst, MapRole::Counter, "counter", index)?;
    let per_cpu = sys::map_lookup_percpu(map.fd(), &key).map_err(|e| kernel(inst, e))?;
    let (mut packets, mut bytes) = (0u64, 0u64);
    for v in per_cpu {
        let c = layout
            .decode(&v[..layout.size as usize])
            .map_err(|e| invalid(format!("counter {}: {e}", inst.name)))?;
        packets = packets.wrapping_add(c.packets.unwrap_or(0));
        bytes = bytes.wrapping_add(c.bytes.unwrap_or(0));
    }
    Ok(CounterValue {
        packets: if layout.kind.counts_packets() {
            wrap(packets, layout.width)
        } else {
            0
        },
        bytes: if layout.kind.counts_bytes() {
            wrap(bytes, layout.width)
        } else {
            0
        },
    })
}

pub(super) fn reset_counter(
    b: &mut KernelBackend,
    h: Handle<ir::Instance>,
    index: u64,
) -> Result<(), RuntimeError> {
    counter(b, h, index)?;
    let inst = instance(b, h, "Counter", "")?;
    let (map, key) = element(b, inst, MapRole::Counter, "counter", index)?;
    let size = map.value_size();
    sys::map_update_percpu_all(map.fd(), &key, &vec![0u8; size]).map_err(|e| kernel(inst, e))
}

fn register_layout(inst: &InstanceModel) -> Result<&p4tc_ir::layout::ValueLayout, RuntimeError> {
    match &inst.layout {
        Some(ExternLayout::Register(r)) => Ok(&r.element),
        _ => Err(invalid(format!("register {} has no layout", inst.name))),
    }
}

pub(super) fn register(
    b: &KernelBackend,
    h: Handle<ir::Instance>,
    index: u64,
) -> Result<Vec<BigUint>, RuntimeError> {
    let inst = instance(b, h, "Register", "")?;
    let layout = register_layout(inst)?;
    let (map, key) = element(b, inst, MapRole::Register, "register", index)?;
    let v = sys::SizedMap::lookup(map, &key).map_err(|e| kernel(inst, e))?;
    layout
        .decode(&v[..layout.size as usize])
        .map_err(|e| invalid(format!("register {}: {e}", inst.name)))
}

pub(super) fn set_register(
    b: &mut KernelBackend,
    h: Handle<ir::Instance>,
    index: u64,
    value: &[BigUint],
) -> Result<(), RuntimeError> {
    register(b, h, index)?;
    let inst = instance(b, h, "Register", "")?;
    let layout = register_layout(inst)?;
    let name = &inst.name;
    if value.len() != layout.fields.len() {
        return Err(invalid(format!(
            "register {name} holds {} values per element ({}); {} given",
            layout.fields.len(),
            layout
                .fields
                .iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            value.len()
        )));
    }
    for (f, v) in layout.fields.iter().zip(value) {
        if v.bits() > u64::from(f.width) {
            return Err(invalid(format!(
                "register {name}: field `{}`: value {v:#x} does not fit in {} bits",
                f.name, f.width
            )));
        }
    }
    let mut blob = layout
        .encode(value)
        .map_err(|e| invalid(format!("register {name}: {e}")))?;
    let (map, key) = element(b, inst, MapRole::Register, "register", index)?;
    let size = map.value_size();
    blob.resize(size, 0);
    sys::SizedMap::update(map, &key, &blob, sys::BPF_ANY).map_err(|e| kernel(inst, e))
}

pub(super) fn set_meter(
    b: &mut KernelBackend,
    h: Handle<ir::Instance>,
    index: u64,
    config: MeterConfig,
) -> Result<(), RuntimeError> {
    let inst = instance(
        b,
        h,
        "Meter",
        " (direct meters are set per entry: KernelBackend::set_direct_meter)",
    )?;
    let (map, key) = element(b, inst, MapRole::Meter, "meter", index)?;
    let state = MeterState::configured(
        config.cir,
        config.cbs,
        config.pir,
        config.pbs,
        sys::monotonic_ns(),
    );
    sys::SizedMap::update(map, &key, &state.encode(), sys::BPF_ANY).map_err(|e| kernel(inst, e))
}
