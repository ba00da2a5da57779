//! The pipeline as the object model sees it: every table, action and extern instance with its
//! control-plane name, value types and byte layouts, built once from a validated IR module and
//! its introspection (so names and ids are P4TC's, and layouts come from `p4tc_ir::layout`).

use std::sync::Arc;

use num_bigint::{BigInt, BigUint};
use p4tc_ir::arena::Handle;
use p4tc_ir::introspection::{self, Introspection, IntrospectionError, Permissions, ValueType};
use p4tc_ir::ir::{self, ActionArg, KeysetValue, Module, PropertyValue, Type, Value};
use p4tc_ir::layout::{
    self, extern_layout, ExternLayout, KeyLayout, LayoutError, MatchKind, ParamLayout,
};

use crate::entry::{ActionCall, EntrySpec, KeyMatch, Priority};

/// Why a module cannot be modelled (it did not come from a successful `check`, or it breaks a
/// P4TC limit the checker let through).
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The introspection could not be built.
    #[error(transparent)]
    Introspection(#[from] IntrospectionError),
    /// A layout could not be computed.
    #[error(transparent)]
    Layout(#[from] LayoutError),
    /// Anything else, said in words.
    #[error("{0}")]
    Other(String),
}

/// One key field.
#[derive(Clone, Debug)]
pub struct KeyFieldModel {
    /// Control-plane name (`dstAddr`).
    pub name: String,
    /// How values are written (`ipv4`, `bit32`, ...).
    pub ty: ValueType,
    /// How it matches.
    pub match_kind: MatchKind,
    /// Width in bits.
    pub width: u32,
}

/// One action-data parameter.
#[derive(Clone, Debug)]
pub struct ParamModel {
    /// Its name.
    pub name: String,
    /// How values are written.
    pub ty: ValueType,
    /// Width in bits.
    pub width: u32,
}

/// An action as a table may run it.
#[derive(Clone, Debug)]
pub struct ActionModel {
    /// The IR action.
    pub handle: Handle<ir::Action>,
    /// P4TC's name (`ingress/send_nh`).
    pub name: String,
    /// P4TC's program-wide id.
    pub id: u32,
    /// Where the table may use it.
    pub scope: ir::ActionScope,
    /// Its action-data parameters, in order.
    pub params: Vec<ParamModel>,
    /// Their byte layout.
    pub layout: ParamLayout,
    /// Marked as the table's default hit action (`@default_hit`, `@default_hit_const`).
    pub default_hit: bool,
    /// ... and that default hit action is const.
    pub default_hit_const: bool,
}

/// A table.
#[derive(Clone, Debug)]
pub struct TableModel {
    /// The IR table.
    pub handle: Handle<ir::Table>,
    /// P4TC's name (`ingress/nh_table`).
    pub name: String,
    /// The name p4c's STF and P4Runtime use (`ingress.nh_table`).
    pub dotted: String,
    /// P4TC's id.
    pub id: u32,
    /// Key fields in declaration order.
    pub keys: Vec<KeyFieldModel>,
    /// The key's byte layout.
    pub key_layout: KeyLayout,
    /// The actions it may run, in the program's order (`NoAction` included: it has no P4TC
    /// id, and the id is 0).
    pub actions: Vec<ActionModel>,
    /// Most entries it holds (`tentries`).
    pub size: u32,
    /// Its permissions.
    pub permissions: Permissions,
    /// Masks the kernel provisions (`nummask`).
    pub nummask: u32,
    /// `add_on_miss = true`: the datapath may add entries.
    pub add_on_miss: bool,
    /// The default miss action the program gives, with its action data.
    pub default_miss: Option<ActionCall>,
    /// It cannot be changed (`const default_action`).
    pub default_miss_const: bool,
    /// The entries the program gives, in order (const or not).
    pub program_entries: Vec<ProgramEntry>,
    /// Its direct counter (`pna_direct_counter`).
    pub direct_counter: Option<Handle<ir::Instance>>,
    /// Its direct meter (`pna_direct_meter`).
    pub direct_meter: Option<Handle<ir::Instance>>,
}

/// An entry written in the program.
#[derive(Clone, Debug)]
pub struct ProgramEntry {
    /// The entry; without a priority in the program, the table allocates one in order.
    pub spec: EntrySpec,
    /// It is `const` (or in a `const entries` list): nobody may change it.
    pub is_const: bool,
}

/// An extern instance the object model keeps state for.
#[derive(Clone, Debug)]
pub struct InstanceModel {
    /// The IR instance.
    pub handle: Handle<ir::Instance>,
    /// Its name as P4TC prints it (`ingress.counter1`? no: the instance name in the
    /// introspection's `inst_name`).
    pub name: String,
    /// The extern's name (`Counter`, `Register`, `Meter`, `DirectCounter`, `DirectMeter`,
    /// `Digest`, ...).
    pub extern_name: String,
    /// Number of elements, for arrays (`Counter`, `Meter`, `Register`).
    pub size: Option<u64>,
    /// Its value layout, for counters, registers and digests.
    pub layout: Option<ExternLayout>,
}

/// A pipeline: the module with every name, type and layout the object model needs.
#[derive(Clone, Debug)]
pub struct PipelineModel {
    /// The pipeline's name.
    pub name: String,
    /// The program.
    pub module: Arc<Module>,
    /// P4TC's introspection of it.
    pub introspection: Introspection,
    /// Every table, in the module's order (P4TC id `i + 1`).
    pub tables: Vec<TableModel>,
    /// Every extern instance (not parsers and controls).
    pub instances: Vec<InstanceModel>,
}

impl PipelineModel {
    /// The model of `module` as pipeline `name`.
    pub fn new(module: Arc<Module>, name: &str) -> Result<PipelineModel, ModelError> {
        let introspection = introspection::introspection(&module, name)?;
        let mut tables = Vec::with_capacity(module.tables.len());
        for ((handle, table), intro) in module.tables.iter().zip(&introspection.tables) {
            tables.push(table_model(&module, handle, table, intro)?);
        }
        let mut instances = Vec::new();
        for (handle, inst) in module.instances.iter() {
            let Some(Type::Extern { def, .. }) = module.types.get(inst.ty) else {
                continue;
            };
            let extern_name = module
                .externs
                .get(*def)
                .map(|d| d.name.clone())
                .unwrap_or_default();
            let size = inst.args.first().and_then(|a| match a.value() {
                Some(Value::Int(n)) if extern_name != "Random" => u64::try_from(n).ok(),
                _ => None,
            });
            instances.push(InstanceModel {
                handle,
                name: inst.name.clone(),
                extern_name,
                size,
                layout: extern_layout(&module, handle)?,
            });
        }
        Ok(PipelineModel {
            name: name.into(),
            module,
            introspection,
            tables,
            instances,
        })
    }

    /// The table with this handle.
    pub fn table(&self, handle: Handle<ir::Table>) -> Option<&TableModel> {
        self.tables.iter().find(|t| t.handle == handle)
    }

    /// The table named `name`: P4TC's `ingress/nh_table`, p4c's `ingress.nh_table`, or just
    /// `nh_table` when only one table has that name.
    pub fn table_by_name(&self, name: &str) -> Option<&TableModel> {
        let normalized = name.replace('/', ".");
        if let Some(t) = self.tables.iter().find(|t| t.dotted == normalized) {
            return Some(t);
        }
        let mut short = self
            .tables
            .iter()
            .filter(|t| t.dotted.rsplit('.').next() == Some(normalized.as_str()));
        match (short.next(), short.next()) {
            (Some(t), None) => Some(t),
            _ => None,
        }
    }

    /// The extern instance with this handle.
    pub fn instance(&self, handle: Handle<ir::Instance>) -> Option<&InstanceModel> {
        self.instances.iter().find(|i| i.handle == handle)
    }

    /// The extern instance named `name` (its own name, or `control.name`).
    pub fn instance_by_name(&self, name: &str) -> Option<&InstanceModel> {
        let short = name.rsplit(['.', '/']).next().unwrap_or(name);
        let mut found = self.instances.iter().filter(|i| i.name == short);
        match (found.next(), found.next()) {
            (Some(i), None) => Some(i),
            _ => None,
        }
    }
}

impl TableModel {
    /// The action named `name` among the table's (`ingress/send_nh`, `ingress.send_nh` or
    /// `send_nh`).
    pub fn action_by_name(&self, name: &str) -> Option<&ActionModel> {
        let normalized = name.replace('.', "/");
        if let Some(a) = self.actions.iter().find(|a| a.name == normalized) {
            return Some(a);
        }
        let short = normalized.rsplit('/').next().unwrap_or(&normalized);
        let mut found = self
            .actions
            .iter()
            .filter(|a| a.name.rsplit('/').next() == Some(short));
        match (found.next(), found.next()) {
            (Some(a), None) => Some(a),
            _ => None,
        }
    }

    /// The table's action with this handle.
    pub fn action(&self, handle: Handle<ir::Action>) -> Option<&ActionModel> {
        self.actions.iter().find(|a| a.handle == handle)
    }

    /// The key field named `name`.
    pub fn key_by_name(&self, name: &str) -> Option<(usize, &KeyFieldModel)> {
        self.keys.iter().enumerate().find(|(_, k)| k.name == name)
    }

    /// Whether entries carry a priority (any field that is not exact or lpm).
    pub fn has_priorities(&self) -> bool {
        self.keys
            .iter()
            .any(|k| !matches!(k.match_kind, MatchKind::Exact | MatchKind::Lpm))
    }

    /// The default hit action the program marks, if any, and whether it is const.
    pub fn default_hit(&self) -> Option<(ActionCall, bool)> {
        self.actions.iter().find(|a| a.default_hit).map(|a| {
            (
                ActionCall {
                    action: a.handle,
                    params: vec![BigUint::default(); a.params.len()],
                },
                a.default_hit_const,
            )
        })
    }
}

fn other(message: String) -> ModelError {
    ModelError::Other(message)
}

fn table_model(
    module: &Module,
    handle: Handle<ir::Table>,
    table: &ir::Table,
    intro: &introspection::Table,
) -> Result<TableModel, ModelError> {
    let control = module
        .block_types
        .get(table.control)
        .ok_or_else(|| other(format!("table `{}` has no control", table.name)))?;
    let dotted = intro.name.replace('/', ".");
    let key_layout = layout::table_key_layout(module, handle)?;
    let keys = intro
        .keyfields
        .iter()
        .zip(&key_layout.fields)
        .map(|(k, f)| KeyFieldModel {
            name: k.name.clone(),
            ty: ValueType::parse(&k.ty).unwrap_or(ValueType::Bit(k.bitwidth)),
            match_kind: f.match_kind,
            width: k.bitwidth,
        })
        .collect::<Vec<_>>();

    let mut actions = Vec::with_capacity(table.actions.len());
    let mut intro_actions = intro.actions.iter();
    for reference in &table.actions {
        let a = module
            .actions
            .get(reference.action)
            .ok_or_else(|| other(format!("an action of table `{dotted}` is missing")))?;
        let layout = layout::action_param_layout(module, reference.action)?;
        let is_no_action = a.control.is_none() && a.name == "NoAction";
        let (name, id, params, default_hit, default_hit_const) = if is_no_action {
            ("NoAction".to_string(), 0, Vec::new(), false, false)
        } else {
            let ia = intro_actions
                .next()
                .ok_or_else(|| other(format!("table `{dotted}`: actions out of step")))?;
            let params = ia
                .params
                .iter()
                .map(|p| ParamModel {
                    name: p.name.clone(),
                    ty: ValueType::parse(&p.ty).unwrap_or(ValueType::Bit(p.bitwidth)),
                    width: p.bitwidth,
                })
                .collect();
            let const_hit = reference
                .annotations
                .iter()
                .any(|an| an.name == "default_hit_const");
            (
                ia.name.clone(),
                ia.id,
                params,
                ia.default_hit_action,
                const_hit,
            )
        };
        actions.push(ActionModel {
            handle: reference.action,
            name,
            id,
            scope: reference.scope,
            params,
            layout,
            default_hit,
            default_hit_const,
        });
    }

    let default_miss = table
        .default_action
        .as_ref()
        .map(|call| action_call(module, call))
        .transpose()?;

    let body = &control.body;
    let key_types: Vec<Handle<Type>> = table
        .keys
        .iter()
        .map(|k| body.exprs.get(k.expr).map(|e| e.ty))
        .collect::<Option<_>>()
        .ok_or_else(|| other(format!("table `{dotted}`: a key expression is missing")))?;
    let priorities = program_priorities(table);
    let mut program_entries = Vec::with_capacity(table.entries.len());
    for (entry, priority) in table.entries.iter().zip(priorities) {
        let mut key = Vec::with_capacity(entry.keys.len());
        for ((set, field), ty) in entry.keys.iter().zip(&keys).zip(&key_types) {
            key.push(key_match(module, *ty, set, field)?);
        }
        program_entries.push(ProgramEntry {
            spec: EntrySpec {
                key,
                priority: keys
                    .iter()
                    .any(|k| !matches!(k.match_kind, MatchKind::Exact | MatchKind::Lpm))
                    .then_some(priority),
                action: Some(action_call(module, &entry.action)?),
                permissions: None,
                dynamic: false,
                aging: None,
            },
            is_const: entry.is_const || table.entries_const,
        });
    }

    let instance_property = |name: &str| {
        table.properties.iter().find_map(|(n, v)| match v {
            PropertyValue::Instance(i) if n == name => Some(*i),
            PropertyValue::Instances(list) if n == name => list.first().copied(),
            _ => None,
        })
    };

    Ok(TableModel {
        handle,
        name: intro.name.clone(),
        dotted,
        id: intro.id,
        keys,
        key_layout,
        actions,
        size: intro.tentries,
        permissions: Permissions::from_hex(&intro.permissions)
            .ok_or_else(|| other(format!("table `{}`: bad permissions", intro.name)))?,
        nummask: intro.nummask,
        add_on_miss: table
            .properties
            .iter()
            .any(|(n, v)| n == "add_on_miss" && *v == PropertyValue::Value(Value::Bool(true))),
        default_miss,
        default_miss_const: table.default_action_const,
        program_entries,
        direct_counter: instance_property("pna_direct_counter"),
        direct_meter: instance_property("pna_direct_meter"),
    })
}

/// The priorities of a table's program entries, in our convention (the lower wins), as the
/// P4 spec assigns them: explicit ones as written, read by the table's `largest_priority_wins`
/// convention (default true); missing ones counted from the previous entry by
/// `priority_delta` (default 1), so each loses to the one before it; when none is written,
/// the first entry wins.
pub fn program_priorities(table: &ir::Table) -> Vec<Priority> {
    let property = |name: &str| {
        table.properties.iter().find_map(|(n, v)| match v {
            PropertyValue::Value(value) if n == name => Some(value.clone()),
            _ => None,
        })
    };
    let largest_wins = !matches!(property("largest_priority_wins"), Some(Value::Bool(false)));
    let delta = match property("priority_delta") {
        Some(Value::Int(d)) => i128::try_from(d).unwrap_or(1).max(1),
        _ => 1,
    };
    let n = table.entries.len();
    // Written in the table's convention first, as the spec's pseudocode does.
    let mut written: Vec<i128> = Vec::with_capacity(n);
    if table.entries.iter().all(|e| e.priority.is_none()) {
        for j in 0..n {
            let step = i128::try_from(j).unwrap_or(i128::MAX / 2);
            written.push(if largest_wins {
                1 + delta * (i128::try_from(n).unwrap_or(0) - 1 - step)
            } else {
                1 + delta * step
            });
        }
    } else {
        let mut p: i128 = 0;
        for entry in &table.entries {
            p = match entry.priority {
                Some(given) => i128::from(given),
                None if largest_wins => p - delta,
                None => p + delta,
            };
            written.push(p);
        }
    }
    written
        .into_iter()
        .map(|p| {
            let p = u64::try_from(p.clamp(0, i128::from(u32::MAX))).unwrap_or(0);
            if largest_wins {
                Priority::from_larger_wins(p)
            } else {
                Priority(u32::try_from(p).unwrap_or(u32::MAX))
            }
        })
        .collect()
}

/// The action data of a call written in the program (directional arguments are the
/// datapath's business and are left out).
fn action_call(module: &Module, call: &ir::ActionCall) -> Result<ActionCall, ModelError> {
    let action = module
        .actions
        .get(call.action)
        .ok_or_else(|| other("an action call names a missing action".into()))?;
    let body = &action_body(module, action)?;
    let mut params = Vec::new();
    for (param, arg) in action.params.iter().zip(&call.args) {
        let local = body
            .locals
            .get(*param)
            .ok_or_else(|| other(format!("action `{}`: a parameter is missing", action.name)))?;
        if local.kind != ir::LocalKind::Directionless {
            continue;
        }
        let ActionArg::Value(value) = arg else {
            return Err(other(format!(
                "action `{}`: action data must be known at compile time",
                action.name
            )));
        };
        params.push(value_bits(module, local.ty, value)?);
    }
    Ok(ActionCall {
        action: call.action,
        params,
    })
}

/// The body an action's parameters live in: its own, or its control's.
fn action_body<'m>(module: &'m Module, action: &'m ir::Action) -> Result<&'m ir::Body, ModelError> {
    match action.control {
        None => Ok(&action.body),
        Some(c) => module
            .block_types
            .get(c)
            .map(|b| &b.body)
            .ok_or_else(|| other(format!("action `{}`: its control is missing", action.name))),
    }
}

/// A compile-time scalar as the unsigned bit pattern a key or action-data field holds.
pub fn value_bits(module: &Module, ty: Handle<Type>, value: &Value) -> Result<BigUint, ModelError> {
    let width = layout::type_width(module, ty)
        .map_err(|e| other(format!("a value of type {} has no width", e.0)))?;
    let int: BigInt = match value {
        Value::Int(i) => i.clone(),
        Value::Bool(b) => BigInt::from(u8::from(*b)),
        Value::Enum(index) => enum_value(module, ty, *index)
            .ok_or_else(|| other("an enum member without a value".into()))?,
        other_value => {
            return Err(other(format!(
                "{other_value:?} is not a value a table can hold"
            )))
        }
    };
    Ok(to_unsigned(&int, width))
}

/// The two's complement pattern of `value` in `width` bits.
pub fn to_unsigned(value: &BigInt, width: u32) -> BigUint {
    let modulus = BigInt::from(1u8) << width;
    let reduced = ((value % &modulus) + &modulus) % &modulus;
    reduced.to_biguint().unwrap_or_default()
}

fn enum_value(module: &Module, ty: Handle<Type>, index: u32) -> Option<BigInt> {
    let mut ty = ty;
    for _ in 0..16 {
        match module.types.get(ty)? {
            Type::Enum(e) => {
                let def = module.enums.get(*e)?;
                return def.members.get(index as usize)?.1.clone();
            }
            Type::NewType { underlying, .. } => ty = *underlying,
            _ => return None,
        }
    }
    None
}

fn key_match(
    module: &Module,
    ty: Handle<Type>,
    set: &KeysetValue,
    field: &KeyFieldModel,
) -> Result<KeyMatch, ModelError> {
    let bits = |v: &Value| value_bits(module, ty, v);
    let all_ones = (BigUint::from(1u8) << field.width) - 1u8;
    Ok(match set {
        KeysetValue::Any => KeyMatch::Any,
        KeysetValue::Exact(v) => match field.match_kind {
            MatchKind::Exact => KeyMatch::Exact(bits(v)?),
            MatchKind::Lpm => KeyMatch::Lpm {
                value: bits(v)?,
                prefix_len: field.width,
            },
            MatchKind::Ternary | MatchKind::Optional => KeyMatch::Ternary {
                value: bits(v)?,
                mask: all_ones,
            },
            MatchKind::Range => {
                let v = bits(v)?;
                KeyMatch::Range {
                    low: v.clone(),
                    high: v,
                }
            }
        },
        KeysetValue::Mask(v, m) => {
            let (value, mask) = (bits(v)?, bits(m)?);
            if field.match_kind == MatchKind::Lpm {
                let prefix_len = prefix_of_mask(&mask, field.width).ok_or_else(|| {
                    other(format!(
                        "key `{}`: mask {mask:#x} is not a prefix",
                        field.name
                    ))
                })?;
                KeyMatch::Lpm { value, prefix_len }
            } else {
                KeyMatch::Ternary { value, mask }
            }
        }
        KeysetValue::Range(lo, hi) => KeyMatch::Range {
            low: bits(lo)?,
            high: bits(hi)?,
        },
        KeysetValue::ValueSet(_) => {
            return Err(other(format!(
                "key `{}`: a value set cannot be a table key",
                field.name
            )))
        }
    })
}

/// The prefix length of a contiguous mask of `width` bits (`ff.ff.00.00` gives 16).
pub fn prefix_of_mask(mask: &BigUint, width: u32) -> Option<u32> {
    let ones = mask.count_ones();
    let ones = u32::try_from(ones).ok()?;
    if ones > width {
        return None;
    }
    let expected = if ones == 0 {
        BigUint::default()
    } else {
        ((BigUint::from(1u8) << ones) - 1u8) << (width - ones)
    };
    (mask == &expected).then_some(ones)
}
