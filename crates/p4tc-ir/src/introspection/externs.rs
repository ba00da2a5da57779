//! The `externs` part of the introspection: each extern with a control-plane view and its
//! instances, with the fields of that view.
//!
//! The views are those of the `tc_ControlPath_*` structs of P4TC's `tc/pna.p4`: the IR keeps
//! only specialised generic structs, not those declarations, so their shape is written down
//! here (the value widths still come from [`crate::layout`] wherever a layout exists).

use super::{acl_permissions, hierarchical_name, value_type, Permissions, ValueType};
use super::{Extern, ExternInstance, ExternParam, IntrospectionError};
use crate::arena::Handle;
use crate::ir::{self, Module, Type, Value};
use crate::layout::{self, ExternLayout, ValueLayout, ValueShape};

/// The externs with a control-plane view, with P4TC's fixed id where it has one.
const VIEWS: [(&str, Option<&str>); 6] = [
    ("Counter", Some("0x19000000")),
    ("DirectCounter", Some("0x1A000000")),
    ("Meter", Some("0x1B000000")),
    ("DirectMeter", Some("0x1C000000")),
    ("Digest", Some("0x05000000")),
    ("Register", None),
];

/// P4TC's names of `PNA_MeterType_t` members, in declaration order.
const METER_TYPES: [&str; 2] = ["PACKETS", "BYTES"];

fn param(id: usize, name: &str, ty: String, attr: &str, bitwidth: u32) -> ExternParam {
    ExternParam {
        id: u32::try_from(id).unwrap_or(u32::MAX),
        name: name.into(),
        ty,
        attr: attr.into(),
        bitwidth,
    }
}

fn bits(width: u32) -> String {
    ValueType::Bit(width).to_string()
}

/// Every extern with a view, in order of its first instance.
pub(super) fn externs(module: &Module) -> Result<Vec<Extern>, IntrospectionError> {
    let mut externs: Vec<Extern> = Vec::new();
    let mut unnumbered = 0u32;
    for (handle, inst) in module.instances.iter() {
        let Some(Type::Extern { def, .. }) = module.types.get(inst.ty) else {
            continue;
        };
        let def = module
            .externs
            .get(*def)
            .ok_or_else(|| IntrospectionError::Dangling {
                what: format!("extern type of instance `{}`", inst.name),
            })?;
        let Some(&(_, fixed_id)) = VIEWS.iter().find(|(name, _)| *name == def.name) else {
            continue;
        };
        let position = match externs.iter().position(|e| e.name == def.name) {
            Some(position) => position,
            None => {
                let id = match fixed_id {
                    Some(id) => id.to_string(),
                    None => {
                        unnumbered += 1;
                        format!("{unnumbered:#x}")
                    }
                };
                let owner = || format!("extern `{}`", def.name);
                let span = module.instances.span(handle);
                let permissions =
                    acl_permissions(&def.annotations, Permissions::EXTERN, owner, span)?;
                externs.push(Extern {
                    name: def.name.clone(),
                    id,
                    permissions: permissions.to_hex(),
                    instances: Vec::new(),
                });
                externs.len() - 1
            }
        };
        let inst_id = u32::try_from(externs[position].instances.len() + 1).unwrap_or(u32::MAX);
        let instance = instance(module, handle, inst, &def.name, inst_id)?;
        externs[position].instances.push(instance);
    }
    Ok(externs)
}

fn instance(
    module: &Module,
    handle: Handle<ir::Instance>,
    inst: &ir::Instance,
    extern_name: &str,
    inst_id: u32,
) -> Result<ExternInstance, IntrospectionError> {
    let inst_name = hierarchical_name(module, inst.owner, &inst.name, &inst.annotations);
    let span = module.instances.span(handle);
    let fail = |reason: String| IntrospectionError::Extern {
        instance: inst_name.clone(),
        reason,
        span,
    };
    let mut params = Vec::new();
    let mut inst_type = None;
    match layout::extern_layout(module, handle)? {
        Some(ExternLayout::Counter(counter)) => {
            inst_type = Some(counter.kind.name().to_string());
            params.push(param(
                1,
                "index",
                bits(counter.index_width),
                "tc_key",
                counter.index_width,
            ));
            if counter.kind.counts_packets() {
                params.push(param(
                    params.len() + 1,
                    "pkts",
                    bits(counter.width),
                    "param",
                    counter.width,
                ));
            }
            if counter.kind.counts_bytes() {
                params.push(param(
                    params.len() + 1,
                    "bytes",
                    bits(counter.width),
                    "param",
                    counter.width,
                ));
            }
        }
        Some(ExternLayout::Register(register)) => {
            params.push(param(
                1,
                "index",
                bits(register.index_width),
                "tc_key",
                register.index_width,
            ));
            value_params(
                module,
                &register.element,
                "a_value",
                &inst_name,
                span,
                &mut params,
            )?;
        }
        Some(ExternLayout::Digest(payload)) => {
            params.push(param(1, "index", bits(32), "tc_key", 32));
            value_params(module, &payload, "data", &inst_name, span, &mut params)?;
        }
        None => {
            // Meters: configuration only (rates and bursts), no stored value to lay out.
            let direct = extern_name == "DirectMeter";
            let index_width = if direct {
                32
            } else {
                let Some(Type::Extern { args, .. }) = module.types.get(inst.ty) else {
                    return Err(fail("it is not an extern instance".into()));
                };
                let index = args
                    .first()
                    .copied()
                    .ok_or_else(|| fail("its type Meter lacks its index type argument".into()))?;
                layout::type_width(module, index).map_err(|layout::NoWidth(t)| {
                    fail(format!("its index type {t} has no width"))
                })?
            };
            let meter_type = match inst.args.last().and_then(crate::ir::InstanceArg::value) {
                Some(Value::Enum(i)) => METER_TYPES.get(*i as usize).copied(),
                Some(Value::Int(i)) => usize::try_from(i)
                    .ok()
                    .and_then(|i| METER_TYPES.get(i).copied()),
                _ => None,
            }
            .ok_or_else(|| {
                fail("its last constructor argument is not a PNA_MeterType_t member".into())
            })?;
            inst_type = Some(meter_type.to_string());
            // A meter that counts bytes takes its rates in bytes per second.
            let rate = if meter_type == "BYTES" {
                ValueType::Rate.to_string()
            } else {
                bits(64)
            };
            params.push(param(1, "index", bits(index_width), "tc_key", index_width));
            for (name, ty) in [
                ("cir", &rate),
                ("cbs", &bits(64)),
                ("pir", &rate),
                ("pbs", &bits(64)),
            ] {
                params.push(param(params.len() + 1, name, ty.clone(), "param", 64));
            }
        }
    }
    Ok(ExternInstance {
        inst_name,
        inst_id,
        inst_type,
        params,
    })
}

/// The data fields of a register element or digest payload: one named `scalar_name` for a
/// scalar, one per field (typed by its `@tc_type`) for a struct.
fn value_params(
    module: &Module,
    value: &ValueLayout,
    scalar_name: &str,
    inst_name: &str,
    span: crate::Span,
    params: &mut Vec<ExternParam>,
) -> Result<(), IntrospectionError> {
    match value.shape {
        ValueShape::Scalar(_) => {
            for field in &value.fields {
                params.push(param(
                    params.len() + 1,
                    scalar_name,
                    bits(field.width),
                    "param",
                    field.width,
                ));
            }
        }
        ValueShape::Struct(composite) => {
            let def =
                module
                    .composites
                    .get(composite)
                    .ok_or_else(|| IntrospectionError::Dangling {
                        what: format!("value type of instance `{inst_name}`"),
                    })?;
            for (field, declared) in value.fields.iter().zip(&def.fields) {
                let owner = || format!("extern instance `{inst_name}`, field `{}`", field.name);
                let ty = value_type(&declared.annotations, field.width, owner, span)?;
                params.push(param(
                    params.len() + 1,
                    &field.name,
                    ty,
                    "param",
                    field.width,
                ));
            }
        }
    }
    Ok(())
}
