//! P4Info for a pipeline: what a P4Runtime controller learns about the program's tables,
//! actions and externs, with names and ids as p4c gives them for a PNA program.
//!
//! Names: objects declared in a control are `control.object` (`ingress.nh_table`), top-level
//! ones keep their own name (`NoAction`); `@name("x")` renames within the control and
//! `@name(".x")` makes the name absolute. Match fields are named by their `@name` or else the
//! key expression as written (`hdr.ipv4.dstAddr`); parameters by their own names. Aliases are
//! the shortest unique suffixes. Ids: see [`crate::ids`]; match fields and parameters count
//! from 1 in order, `@id` honoured.
//!
//! What follows p4c's PNA output, and where p4tc says more:
//! - every action declared in a control is listed (used by a table or not), and top-level
//!   actions a table uses;
//! - action parameters are the action-data (directionless) ones, the ones an entry carries;
//! - a table with no `default_action` gets `NoAction` as its initial default, listed in its
//!   action refs as `@defaultonly` (the P4 default, as p4c writes it);
//! - `idle_timeout_behavior` is `NOTIFY_CONTROL` for tables whose entries age
//!   (`pna_idle_timeout` of `NOTIFY_CONTROL` or `AUTO_DELETE`, `idle_timeout_with_auto_delete`):
//!   the controller sets each entry's `idle_timeout_ns`;
//! - `pkg_info.arch` is `pna` and `pkg_info.name` the pipeline's name.

use std::collections::{BTreeMap, HashMap};

use num_bigint::BigUint;
use p4runtime_proto::p4::config::v1 as cfg;
use p4tc_ir::arena::Handle;
use p4tc_ir::ir::{self, AnnotationArg, CompositeKind, Module, PropertyValue, Type, Value};
use p4tc_ir::layout::{self, ExternLayout, MatchKind};
use p4tc_runtime::PipelineModel;
use prost::Message as _;
use prost_reflect::{DescriptorPool, DynamicMessage};

use crate::ids::{self, ExternKind, IdError, Prefix, Symbol};

/// Why a P4Info could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum P4InfoError {
    /// Ids clash or an `@id` is wrong.
    #[error(transparent)]
    Ids(#[from] IdError),
    /// Something of the program P4Runtime cannot describe.
    #[error("{what}: {reason}")]
    Unsupported {
        /// The object.
        what: String,
        /// Why.
        reason: String,
    },
    /// A layout could not be computed.
    #[error(transparent)]
    Layout(#[from] layout::LayoutError),
    /// P4Info text that does not parse.
    #[error("P4Info text format: {0}")]
    Text(String),
    /// P4Info bytes that do not decode.
    #[error("P4Info binary: {0}")]
    Binary(#[from] prost::DecodeError),
}

fn unsupported(what: impl Into<String>, reason: impl Into<String>) -> P4InfoError {
    P4InfoError::Unsupported {
        what: what.into(),
        reason: reason.into(),
    }
}

/// The first annotation named `name`.
fn annotation<'a>(annotations: &'a [ir::Annotation], name: &str) -> Option<&'a ir::Annotation> {
    annotations.iter().find(|a| a.name == name)
}

fn string_arg(a: &ir::Annotation) -> Option<&str> {
    match a.args.as_slice() {
        [AnnotationArg::String(s)] => Some(s),
        _ => None,
    }
}

/// The `@id(N)` of an object, if any.
fn explicit_id(annotations: &[ir::Annotation]) -> Option<u32> {
    match annotation(annotations, "id")?.args.as_slice() {
        [AnnotationArg::Int(n)] => u32::try_from(n).ok(),
        _ => None,
    }
}

/// The fully qualified name of something declared in `owner` (or at the top level).
fn qualified(
    module: &Module,
    owner: Option<Handle<ir::BlockType>>,
    name: &str,
    annotations: &[ir::Annotation],
) -> String {
    let local = annotation(annotations, "name")
        .and_then(string_arg)
        .unwrap_or(name);
    if let Some(absolute) = local.strip_prefix('.') {
        return absolute.to_string();
    }
    match owner.and_then(|c| module.block_types.get(c)) {
        Some(block) => format!("{}.{local}", block.name),
        None => local.to_string(),
    }
}

fn is_no_action(action: &ir::Action) -> bool {
    action.control.is_none() && action.name == "NoAction"
}

/// The kind of a P4Runtime-visible extern instance.
fn extern_kind(module: &Module, inst: &ir::Instance) -> Option<ExternKind> {
    match module.types.get(inst.ty)? {
        Type::Set(_) => Some(ExternKind::ValueSet),
        Type::Extern { def, .. } => match module.externs.get(*def)?.name.as_str() {
            "Counter" => Some(ExternKind::Counter),
            "DirectCounter" => Some(ExternKind::DirectCounter),
            "Meter" => Some(ExternKind::Meter),
            "DirectMeter" => Some(ExternKind::DirectMeter),
            "Register" => Some(ExternKind::Register),
            "Digest" => Some(ExternKind::Digest),
            _ => None,
        },
        _ => None,
    }
}

/// The P4Info names of a pipeline's objects, for looking them up.
#[derive(Clone, Debug, Default)]
pub struct Names {
    /// Table name to position in [`PipelineModel::tables`].
    pub tables: HashMap<String, usize>,
    /// Action name to action.
    pub actions: HashMap<String, Handle<ir::Action>>,
    /// (kind, name) to extern instance or value set.
    pub instances: HashMap<(ExternKind, String), Handle<ir::Instance>>,
}

impl Names {
    /// The names of every object [`build`] describes.
    pub fn of(model: &PipelineModel) -> Names {
        let module = &model.module;
        let mut names = Names::default();
        for (index, t) in model.tables.iter().enumerate() {
            if let Some(table) = module.tables.get(t.handle) {
                names.tables.insert(table_name(module, table), index);
            }
        }
        for handle in listed_actions(model) {
            if let Some(a) = module.actions.get(handle) {
                names.actions.insert(action_name(module, a), handle);
            }
        }
        for (handle, inst) in module.instances.iter() {
            if let Some(kind) = extern_kind(module, inst) {
                names
                    .instances
                    .insert((kind, instance_name(module, inst)), handle);
            }
        }
        names
    }
}

fn table_name(module: &Module, t: &ir::Table) -> String {
    qualified(module, Some(t.control), &t.name, &t.annotations)
}

fn action_name(module: &Module, a: &ir::Action) -> String {
    qualified(module, a.control, &a.name, &a.annotations)
}

fn instance_name(module: &Module, i: &ir::Instance) -> String {
    qualified(module, i.owner, &i.name, &i.annotations)
}

/// The control-plane names of a table's key fields, in key order.
pub fn key_names(module: &Module, table: Handle<ir::Table>) -> Vec<String> {
    module
        .tables
        .get(table)
        .map(|t| t.keys.iter().map(|k| k.name.clone()).collect())
        .unwrap_or_default()
}

/// An action-data parameter as P4Info lists it.
#[derive(Clone, Debug)]
pub struct ParamInfo {
    /// Its name.
    pub name: String,
    /// Its width in bits.
    pub width: u32,
    /// Its `@id`, if written.
    pub explicit_id: Option<u32>,
    /// Its annotations.
    pub annotations: Vec<ir::Annotation>,
}

/// The action-data (directionless) parameters of an action, in order.
pub fn action_params(
    module: &Module,
    action: Handle<ir::Action>,
) -> Result<Vec<ParamInfo>, P4InfoError> {
    let a = module
        .actions
        .get(action)
        .ok_or_else(|| unsupported(format!("action {action:?}"), "it is missing"))?;
    let body = match a.control {
        None => &a.body,
        Some(c) => {
            &module
                .block_types
                .get(c)
                .ok_or_else(|| {
                    unsupported(format!("action `{}`", a.name), "its control is missing")
                })?
                .body
        }
    };
    let mut params = Vec::new();
    for &p in &a.params {
        let local = body
            .locals
            .get(p)
            .ok_or_else(|| unsupported(format!("action `{}`", a.name), "a parameter is missing"))?;
        if local.kind != ir::LocalKind::Directionless {
            continue;
        }
        let width = layout::type_width(module, local.ty).map_err(|e| {
            unsupported(
                format!("parameter `{}` of action `{}`", local.name, a.name),
                format!("its type {} has no fixed width", e.0),
            )
        })?;
        params.push(ParamInfo {
            name: local.name.clone(),
            width,
            explicit_id: explicit_id(&local.annotations),
            annotations: local.annotations.clone(),
        });
    }
    Ok(params)
}

/// The actions P4Info lists, in module order: every control-local one, and top-level ones
/// a table uses (or `NoAction`, every table's implicit default).
fn listed_actions(model: &PipelineModel) -> Vec<Handle<ir::Action>> {
    let module = &model.module;
    let mut used: std::collections::HashSet<Handle<ir::Action>> = model
        .tables
        .iter()
        .flat_map(|t| t.actions.iter().map(|a| a.handle))
        .collect();
    if model.tables.iter().any(|t| t.default_miss.is_none()) {
        if let Some(no_action) = no_action(module) {
            used.insert(no_action);
        }
    }
    module
        .actions
        .iter()
        .filter(|(h, a)| a.control.is_some() || used.contains(h))
        .map(|(h, _)| h)
        .collect()
}

fn no_action(module: &Module) -> Option<Handle<ir::Action>> {
    module
        .actions
        .iter()
        .find(|(_, a)| is_no_action(a))
        .map(|(h, _)| h)
}

/// Annotations as P4Info writes them (`@tc_type("ipv4")`), `@name` and `@id` left out (they
/// are the name and the id). `key = value` annotations go to structured annotations.
fn annotations_of(annotations: &[ir::Annotation]) -> (Vec<String>, Vec<cfg::StructuredAnnotation>) {
    let mut plain = Vec::new();
    let mut structured = Vec::new();
    for a in annotations {
        if matches!(a.name.as_str(), "name" | "id") {
            continue;
        }
        if !a.args.is_empty()
            && a.args
                .iter()
                .all(|x| matches!(x, AnnotationArg::KeyValue(..)))
        {
            let kv_pairs = a
                .args
                .iter()
                .filter_map(|x| match x {
                    AnnotationArg::KeyValue(k, v) => Some(cfg::KeyValuePair {
                        key: k.clone(),
                        value: Some(expression(v)),
                    }),
                    _ => None,
                })
                .collect();
            structured.push(cfg::StructuredAnnotation {
                name: a.name.clone(),
                body: Some(cfg::structured_annotation::Body::KvPairList(
                    cfg::KeyValuePairList { kv_pairs },
                )),
                source_location: None,
            });
            continue;
        }
        if a.args.is_empty() {
            plain.push(format!("@{}", a.name));
        } else {
            let args: Vec<String> = a.args.iter().map(arg_text).collect();
            plain.push(format!("@{}({})", a.name, args.join(", ")));
        }
    }
    (plain, structured)
}

fn arg_text(arg: &AnnotationArg) -> String {
    match arg {
        AnnotationArg::String(s) => format!("{s:?}"),
        AnnotationArg::Int(n) => n.to_string(),
        AnnotationArg::Bool(b) => b.to_string(),
        AnnotationArg::Name(n) => n.clone(),
        AnnotationArg::KeyValue(k, v) => format!("{k}={}", arg_text(v)),
    }
}

fn expression(arg: &AnnotationArg) -> cfg::Expression {
    use cfg::expression::Value as V;
    let value = match arg {
        AnnotationArg::String(s) => V::StringValue(s.clone()),
        AnnotationArg::Int(n) => match i64::try_from(n) {
            Ok(i) => V::Int64Value(i),
            Err(_) => V::StringValue(n.to_string()),
        },
        AnnotationArg::Bool(b) => V::BoolValue(*b),
        AnnotationArg::Name(n) => V::StringValue(n.clone()),
        AnnotationArg::KeyValue(..) => V::StringValue(arg_text(arg)),
    };
    cfg::Expression { value: Some(value) }
}

/// Ids for fields (match fields, parameters): `@id`s first, the rest from 1 in order,
/// skipping taken ones (as p4c).
fn field_ids(owner: &str, explicit: &[Option<u32>]) -> Result<Vec<u32>, P4InfoError> {
    let mut taken = std::collections::HashSet::new();
    for id in explicit.iter().flatten() {
        if *id == 0 {
            return Err(unsupported(owner, "@id 0 is not a valid field id"));
        }
        if !taken.insert(*id) {
            return Err(unsupported(owner, format!("@id {id} is used twice")));
        }
    }
    let mut next = 1u32;
    let mut out = Vec::with_capacity(explicit.len());
    for e in explicit {
        match e {
            Some(id) => out.push(*id),
            None => {
                while taken.contains(&next) {
                    next += 1;
                }
                taken.insert(next);
                out.push(next);
            }
        }
        next += 1;
    }
    Ok(out)
}

fn width_i32(what: &str, width: u64) -> Result<i32, P4InfoError> {
    i32::try_from(width).map_err(|_| unsupported(what, format!("{width} is too large for P4Info")))
}

/// A value as P4Runtime bytes, padded to the field's whole bytes (as p4c writes initial
/// default arguments).
fn padded_bytes(value: &BigUint, width: u32) -> Vec<u8> {
    let len = width.div_ceil(8).max(1) as usize;
    let raw = value.to_bytes_be();
    let mut out = vec![0u8; len.saturating_sub(raw.len())];
    out.extend_from_slice(&raw[raw.len().saturating_sub(len)..]);
    out
}

fn match_type(kind: MatchKind) -> cfg::match_field::MatchType {
    use cfg::match_field::MatchType as M;
    match kind {
        MatchKind::Exact => M::Exact,
        MatchKind::Lpm => M::Lpm,
        MatchKind::Ternary => M::Ternary,
        MatchKind::Range => M::Range,
        MatchKind::Optional => M::Optional,
    }
}

/// The member name of enum value `index` of the enum named `enum_name`.
fn enum_member<'m>(module: &'m Module, enum_name: &str, index: u32) -> Option<&'m str> {
    module
        .enums
        .iter()
        .find(|(_, e)| e.name == enum_name)
        .and_then(|(_, e)| e.members.get(index as usize))
        .map(|(n, _)| n.as_str())
}

/// Whether a table's entries age (so the controller may give them idle timeouts).
fn ages(module: &Module, table: &ir::Table) -> bool {
    table
        .properties
        .iter()
        .any(|(name, value)| match (name.as_str(), value) {
            ("idle_timeout_with_auto_delete", PropertyValue::Value(Value::Bool(b))) => *b,
            ("pna_idle_timeout", PropertyValue::Value(Value::Enum(i))) => {
                enum_member(module, "PNA_IdleTimeout_t", *i).is_some_and(|m| m != "NO_TIMEOUT")
            }
            _ => false,
        })
}

/// The integer (or enum member index) of constructor argument `index`.
fn int_arg(inst: &ir::Instance, index: usize) -> Option<u64> {
    match inst.args.get(index)?.value()? {
        Value::Int(n) => u64::try_from(n).ok(),
        Value::Enum(i) => Some(u64::from(*i)),
        _ => None,
    }
}

/// The type arguments of an extern instance.
fn type_args<'m>(module: &'m Module, inst: &ir::Instance) -> &'m [Handle<Type>] {
    match module.types.get(inst.ty) {
        Some(Type::Extern { args, .. }) => args,
        _ => &[],
    }
}

/// Converts IR types into P4Info type specs, collecting named types into a `P4TypeInfo`.
struct TypeSpecs<'m> {
    module: &'m Module,
    info: cfg::P4TypeInfo,
}

impl TypeSpecs<'_> {
    fn bitstring(
        &self,
        what: &str,
        ty: Handle<Type>,
    ) -> Result<cfg::P4BitstringLikeTypeSpec, P4InfoError> {
        use cfg::p4_bitstring_like_type_spec::TypeSpec as B;
        let spec = match self.module.types.get(ty) {
            Some(Type::Bits {
                width,
                signed: false,
            }) => B::Bit(cfg::P4BitTypeSpec {
                bitwidth: width_i32(what, u64::from(*width))?,
            }),
            Some(Type::Bits {
                width,
                signed: true,
            }) => B::Int(cfg::P4IntTypeSpec {
                bitwidth: width_i32(what, u64::from(*width))?,
            }),
            Some(Type::Varbit { max_width }) => B::Varbit(cfg::P4VarbitTypeSpec {
                max_bitwidth: width_i32(what, u64::from(*max_width))?,
            }),
            Some(Type::NewType { underlying, .. }) => return self.bitstring(what, *underlying),
            Some(Type::Enum(e)) => {
                let underlying = self
                    .module
                    .enums
                    .get(*e)
                    .and_then(|d| d.underlying)
                    .ok_or_else(|| unsupported(what, "a header field of a plain enum type"))?;
                return self.bitstring(what, underlying);
            }
            _ => {
                return Err(unsupported(
                    what,
                    format!("{} is not a bit string type", self.module.type_name(ty)),
                ))
            }
        };
        Ok(cfg::P4BitstringLikeTypeSpec {
            type_spec: Some(spec),
            ..Default::default()
        })
    }

    fn spec(
        &mut self,
        what: &str,
        ty: Handle<Type>,
        depth: u32,
    ) -> Result<cfg::P4DataTypeSpec, P4InfoError> {
        use cfg::p4_data_type_spec::TypeSpec as S;
        if depth > 32 {
            return Err(unsupported(what, "its type nests too deeply"));
        }
        let named = |name: &str| cfg::P4NamedType { name: name.into() };
        let module = self.module;
        let spec = match module.types.get(ty) {
            Some(Type::Bool) => S::Bool(cfg::P4BoolType {}),
            Some(Type::Bits { .. } | Type::Varbit { .. }) => {
                S::Bitstring(self.bitstring(what, ty)?)
            }
            Some(Type::Error) => {
                self.info.error = Some(cfg::P4ErrorTypeSpec {
                    members: module.errors.clone(),
                });
                S::Error(cfg::P4ErrorType {})
            }
            Some(Type::NewType { name, underlying }) => {
                let original = self.spec(what, *underlying, depth + 1)?;
                self.info.new_types.insert(
                    name.clone(),
                    cfg::P4NewTypeSpec {
                        representation: Some(cfg::p4_new_type_spec::Representation::OriginalType(
                            original,
                        )),
                        ..Default::default()
                    },
                );
                S::NewType(named(name))
            }
            Some(Type::Enum(e)) => {
                let def = module
                    .enums
                    .get(*e)
                    .ok_or_else(|| unsupported(what, "its enum type is missing"))?;
                match def.underlying {
                    Some(under) => {
                        let width = layout::type_width(module, under)
                            .map_err(|e| unsupported(what, e.0))?;
                        let members = def
                            .members
                            .iter()
                            .map(|(n, v)| cfg::p4_serializable_enum_type_spec::Member {
                                name: n.clone(),
                                value: padded_bytes(
                                    &p4tc_runtime::model::to_unsigned(
                                        &v.clone().unwrap_or_default(),
                                        width,
                                    ),
                                    width,
                                ),
                                ..Default::default()
                            })
                            .collect();
                        self.info.serializable_enums.insert(
                            def.name.clone(),
                            cfg::P4SerializableEnumTypeSpec {
                                underlying_type: Some(cfg::P4BitTypeSpec {
                                    bitwidth: width_i32(what, u64::from(width))?,
                                }),
                                members,
                                ..Default::default()
                            },
                        );
                        S::SerializableEnum(named(&def.name))
                    }
                    None => {
                        let members = def
                            .members
                            .iter()
                            .map(|(n, _)| cfg::p4_enum_type_spec::Member {
                                name: n.clone(),
                                ..Default::default()
                            })
                            .collect();
                        self.info.enums.insert(
                            def.name.clone(),
                            cfg::P4EnumTypeSpec {
                                members,
                                ..Default::default()
                            },
                        );
                        S::Enum(named(&def.name))
                    }
                }
            }
            Some(Type::Composite(c)) => {
                let def = module
                    .composites
                    .get(*c)
                    .ok_or_else(|| unsupported(what, "its struct type is missing"))?;
                let name = def.name.clone();
                match def.kind {
                    CompositeKind::Struct => {
                        if !self.info.structs.contains_key(&name) {
                            let mut members = Vec::with_capacity(def.fields.len());
                            for f in &def.fields {
                                members.push(cfg::p4_struct_type_spec::Member {
                                    name: f.name.clone(),
                                    type_spec: Some(self.spec(what, f.ty, depth + 1)?),
                                });
                            }
                            self.info.structs.insert(
                                name.clone(),
                                cfg::P4StructTypeSpec {
                                    members,
                                    ..Default::default()
                                },
                            );
                        }
                        S::Struct(named(&name))
                    }
                    CompositeKind::Header => {
                        if !self.info.headers.contains_key(&name) {
                            let mut members = Vec::with_capacity(def.fields.len());
                            for f in &def.fields {
                                members.push(cfg::p4_header_type_spec::Member {
                                    name: f.name.clone(),
                                    type_spec: Some(self.bitstring(what, f.ty)?),
                                });
                            }
                            self.info.headers.insert(
                                name.clone(),
                                cfg::P4HeaderTypeSpec {
                                    members,
                                    ..Default::default()
                                },
                            );
                        }
                        S::Header(named(&name))
                    }
                    CompositeKind::HeaderUnion => {
                        if !self.info.header_unions.contains_key(&name) {
                            let mut members = Vec::with_capacity(def.fields.len());
                            for f in &def.fields {
                                let header = match self.spec(what, f.ty, depth + 1)?.type_spec {
                                    Some(S::Header(h)) => h,
                                    _ => {
                                        return Err(unsupported(
                                            what,
                                            "a header union member that is not a header",
                                        ))
                                    }
                                };
                                members.push(cfg::p4_header_union_type_spec::Member {
                                    name: f.name.clone(),
                                    header: Some(header),
                                });
                            }
                            self.info.header_unions.insert(
                                name.clone(),
                                cfg::P4HeaderUnionTypeSpec {
                                    members,
                                    ..Default::default()
                                },
                            );
                        }
                        S::HeaderUnion(named(&name))
                    }
                }
            }
            Some(Type::Stack { element, size }) => {
                let size = i32::try_from(*size)
                    .map_err(|_| unsupported(what, "the stack is too large"))?;
                match self.spec(what, *element, depth + 1)?.type_spec {
                    Some(S::Header(h)) => S::HeaderStack(cfg::P4HeaderStackTypeSpec {
                        header: Some(h),
                        size,
                    }),
                    Some(S::HeaderUnion(u)) => {
                        S::HeaderUnionStack(cfg::P4HeaderUnionStackTypeSpec {
                            header_union: Some(u),
                            size,
                        })
                    }
                    _ => {
                        return Err(unsupported(
                            what,
                            "an array of something other than headers",
                        ))
                    }
                }
            }
            Some(Type::Tuple(items)) => {
                let mut members = Vec::with_capacity(items.len());
                for t in items {
                    members.push(self.spec(what, *t, depth + 1)?);
                }
                S::Tuple(cfg::P4TupleTypeSpec { members })
            }
            _ => {
                return Err(unsupported(
                    what,
                    format!("P4Runtime has no data type for {}", module.type_name(ty)),
                ))
            }
        };
        Ok(cfg::P4DataTypeSpec {
            type_spec: Some(spec),
        })
    }
}

fn preamble(
    id: u32,
    name: &str,
    aliases: &HashMap<String, String>,
    annotations: &[ir::Annotation],
) -> cfg::Preamble {
    let (plain, structured) = annotations_of(annotations);
    cfg::Preamble {
        id,
        name: name.into(),
        alias: aliases.get(name).cloned().unwrap_or_else(|| name.into()),
        annotations: plain,
        structured_annotations: structured,
        ..Default::default()
    }
}

/// The P4Info of `model`'s program.
pub fn build(model: &PipelineModel) -> Result<cfg::P4Info, P4InfoError> {
    let module: &Module = &model.module;
    let actions = listed_actions(model);
    let no_action = no_action(module);

    // Every object that needs an id, with its name.
    let mut symbols: Vec<Symbol> = Vec::new();
    let mut table_names = Vec::with_capacity(model.tables.len());
    for t in &model.tables {
        let table = module
            .tables
            .get(t.handle)
            .ok_or_else(|| unsupported(&t.dotted, "the table is missing"))?;
        let name = table_name(module, table);
        symbols.push(Symbol {
            prefix: Prefix::Table,
            name: name.clone(),
            explicit: explicit_id(&table.annotations),
        });
        table_names.push(name);
    }
    let mut action_names = HashMap::new();
    for &h in &actions {
        let Some(a) = module.actions.get(h) else {
            continue;
        };
        let name = action_name(module, a);
        symbols.push(Symbol {
            prefix: Prefix::Action,
            name: name.clone(),
            explicit: explicit_id(&a.annotations),
        });
        action_names.insert(h, name);
    }
    let mut instances = Vec::new();
    for (h, inst) in module.instances.iter() {
        let Some(kind) = extern_kind(module, inst) else {
            continue;
        };
        let name = instance_name(module, inst);
        symbols.push(Symbol {
            prefix: kind.prefix(),
            name: name.clone(),
            explicit: explicit_id(&inst.annotations),
        });
        instances.push((h, inst, kind, name));
    }
    let ids = ids::assign_ids(&symbols)?;
    let aliases = ids::aliases(symbols.iter().map(|s| s.name.as_str()));
    let id_of =
        |prefix: Prefix, name: &str| ids.get(&(prefix, name.to_string())).copied().unwrap_or(0);

    let mut info = cfg::P4Info {
        pkg_info: Some(cfg::PkgInfo {
            name: model.name.clone(),
            arch: "pna".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut types = TypeSpecs {
        module,
        info: cfg::P4TypeInfo::default(),
    };

    // Actions.
    let mut param_cache: HashMap<Handle<ir::Action>, (Vec<ParamInfo>, Vec<u32>)> = HashMap::new();
    for &h in &actions {
        let Some(a) = module.actions.get(h) else {
            continue;
        };
        let name = &action_names[&h];
        let params = action_params(module, h)?;
        let pids = field_ids(
            &format!("action `{name}`"),
            &params.iter().map(|p| p.explicit_id).collect::<Vec<_>>(),
        )?;
        let mut out = Vec::with_capacity(params.len());
        for (p, id) in params.iter().zip(&pids) {
            let (plain, structured) = annotations_of(&p.annotations);
            out.push(cfg::action::Param {
                id: *id,
                name: p.name.clone(),
                annotations: plain,
                structured_annotations: structured,
                bitwidth: width_i32(name, u64::from(p.width))?,
                ..Default::default()
            });
        }
        info.actions.push(cfg::Action {
            preamble: Some(preamble(
                id_of(Prefix::Action, name),
                name,
                &aliases,
                &a.annotations,
            )),
            params: out,
        });
        param_cache.insert(h, (params, pids));
    }

    // Tables.
    for (t, name) in model.tables.iter().zip(&table_names) {
        let table = module
            .tables
            .get(t.handle)
            .ok_or_else(|| unsupported(name, "the table is missing"))?;
        let owner = format!("table `{name}`");
        let fids = field_ids(
            &owner,
            &table
                .keys
                .iter()
                .map(|k| explicit_id(&k.annotations))
                .collect::<Vec<_>>(),
        )?;
        let mut match_fields = Vec::with_capacity(t.keys.len());
        for ((key, km), id) in table.keys.iter().zip(&t.keys).zip(&fids) {
            let (plain, structured) = annotations_of(&key.annotations);
            match_fields.push(cfg::MatchField {
                id: *id,
                name: key.name.clone(),
                annotations: plain,
                structured_annotations: structured,
                bitwidth: width_i32(&owner, u64::from(km.width))?,
                r#match: Some(cfg::match_field::Match::MatchType(
                    match_type(km.match_kind) as i32,
                )),
                ..Default::default()
            });
        }
        let mut action_refs = Vec::with_capacity(table.actions.len() + 1);
        for r in &table.actions {
            let Some(aname) = action_names.get(&r.action) else {
                return Err(unsupported(
                    &owner,
                    "it refers to an action P4Info does not list",
                ));
            };
            let (plain, structured) = annotations_of(&r.annotations);
            let scope = match r.scope {
                ir::ActionScope::TableAndDefault => cfg::action_ref::Scope::TableAndDefault,
                ir::ActionScope::TableOnly => cfg::action_ref::Scope::TableOnly,
                ir::ActionScope::DefaultOnly => cfg::action_ref::Scope::DefaultOnly,
            };
            action_refs.push(cfg::ActionRef {
                id: id_of(Prefix::Action, aname),
                scope: scope as i32,
                annotations: plain,
                structured_annotations: structured,
                ..Default::default()
            });
        }
        let default_call = match (&t.default_miss, no_action) {
            (Some(call), _) => Some(call.clone()),
            (None, Some(na)) => {
                // The P4 default: NoAction, listed as @defaultonly when the program did not
                // list it.
                if !table.actions.iter().any(|r| r.action == na) {
                    action_refs.push(cfg::ActionRef {
                        id: id_of(Prefix::Action, "NoAction"),
                        scope: cfg::action_ref::Scope::DefaultOnly as i32,
                        annotations: vec!["@defaultonly".into()],
                        ..Default::default()
                    });
                }
                Some(p4tc_runtime::ActionCall {
                    action: na,
                    params: Vec::new(),
                })
            }
            (None, None) => None,
        };
        let mut const_default_action_id = 0;
        let initial_default_action = match default_call {
            Some(call) => {
                let aname = action_names
                    .get(&call.action)
                    .ok_or_else(|| unsupported(&owner, "its default action is not listed"))?;
                let aid = id_of(Prefix::Action, aname);
                if t.default_miss_const {
                    const_default_action_id = aid;
                }
                let (params, pids) = param_cache
                    .get(&call.action)
                    .ok_or_else(|| unsupported(&owner, "its default action is not listed"))?;
                let arguments = call
                    .params
                    .iter()
                    .zip(params.iter().zip(pids))
                    .map(|(v, (p, id))| cfg::table_action_call::Argument {
                        param_id: *id,
                        value: padded_bytes(v, p.width),
                    })
                    .collect();
                Some(cfg::TableActionCall {
                    action_id: aid,
                    arguments,
                })
            }
            None => None,
        };
        let mut direct_resource_ids = Vec::new();
        for (inst, kind) in [
            (t.direct_counter, ExternKind::DirectCounter),
            (t.direct_meter, ExternKind::DirectMeter),
        ] {
            if let Some(i) = inst.and_then(|h| module.instances.get(h)) {
                direct_resource_ids.push(id_of(kind.prefix(), &instance_name(module, i)));
            }
        }
        info.tables.push(cfg::Table {
            preamble: Some(preamble(
                id_of(Prefix::Table, name),
                name,
                &aliases,
                &table.annotations,
            )),
            match_fields,
            action_refs,
            const_default_action_id,
            initial_default_action,
            direct_resource_ids,
            size: i64::from(t.size),
            idle_timeout_behavior: if ages(module, table) {
                cfg::table::IdleTimeoutBehavior::NotifyControl as i32
            } else {
                cfg::table::IdleTimeoutBehavior::NoTimeout as i32
            },
            is_const_table: table.entries_const && !table.entries.is_empty(),
            has_initial_entries: !table.entries.is_empty(),
            ..Default::default()
        });
    }

    // Externs and value sets.
    let direct_table = |h: Handle<ir::Instance>| {
        model
            .tables
            .iter()
            .zip(&table_names)
            .find(|(t, _)| t.direct_counter == Some(h) || t.direct_meter == Some(h))
            .map(|(_, n)| id_of(Prefix::Table, n))
    };
    for (h, inst, kind, name) in instances {
        let what = format!("{} `{name}`", ids::kind_name(kind.prefix()));
        let pre = Some(preamble(
            id_of(kind.prefix(), &name),
            &name,
            &aliases,
            &inst.annotations,
        ));
        let counter_unit = || -> cfg::counter_spec::Unit {
            use cfg::counter_spec::Unit as U;
            match layout::extern_layout(module, h) {
                Ok(Some(ExternLayout::Counter(c))) => match c.kind {
                    layout::CounterKind::Packets => U::Packets,
                    layout::CounterKind::Bytes => U::Bytes,
                    layout::CounterKind::PacketsAndBytes => U::Both,
                },
                _ => U::Unspecified,
            }
        };
        let meter_unit = |arg: usize| -> cfg::meter_spec::Unit {
            use cfg::meter_spec::Unit as U;
            match inst.args.get(arg).and_then(|a| a.value()) {
                Some(Value::Enum(i)) => match enum_member(module, "PNA_MeterType_t", *i) {
                    Some("PACKETS") => U::Packets,
                    Some("BYTES") => U::Bytes,
                    _ => U::Unspecified,
                },
                _ => U::Unspecified,
            }
        };
        let size = |what: &str| -> Result<i64, P4InfoError> {
            int_arg(inst, 0)
                .and_then(|n| i64::try_from(n).ok())
                .ok_or_else(|| unsupported(what, "its size is not known at compile time"))
        };
        match kind {
            ExternKind::Counter => info.counters.push(cfg::Counter {
                preamble: pre,
                spec: Some(cfg::CounterSpec {
                    unit: counter_unit() as i32,
                }),
                size: size(&what)?,
                index_type_name: None,
            }),
            ExternKind::DirectCounter => {
                let Some(table) = direct_table(h) else {
                    continue;
                };
                info.direct_counters.push(cfg::DirectCounter {
                    preamble: pre,
                    spec: Some(cfg::CounterSpec {
                        unit: counter_unit() as i32,
                    }),
                    direct_table_id: table,
                });
            }
            ExternKind::Meter => info.meters.push(cfg::Meter {
                preamble: pre,
                spec: Some(cfg::MeterSpec {
                    unit: meter_unit(1) as i32,
                    r#type: cfg::meter_spec::Type::TwoRateThreeColor as i32,
                }),
                size: size(&what)?,
                index_type_name: None,
            }),
            ExternKind::DirectMeter => {
                let Some(table) = direct_table(h) else {
                    continue;
                };
                info.direct_meters.push(cfg::DirectMeter {
                    preamble: pre,
                    spec: Some(cfg::MeterSpec {
                        unit: meter_unit(0) as i32,
                        r#type: cfg::meter_spec::Type::TwoRateThreeColor as i32,
                    }),
                    direct_table_id: table,
                });
            }
            ExternKind::Register => {
                let ty = *type_args(module, inst)
                    .first()
                    .ok_or_else(|| unsupported(&what, "it has no value type"))?;
                let size = i32::try_from(size(&what)?)
                    .map_err(|_| unsupported(&what, "its size is too large for P4Info"))?;
                info.registers.push(cfg::Register {
                    preamble: pre,
                    type_spec: Some(types.spec(&what, ty, 0)?),
                    size,
                    index_type_name: None,
                });
            }
            ExternKind::Digest => {
                let ty = *type_args(module, inst)
                    .first()
                    .ok_or_else(|| unsupported(&what, "it has no message type"))?;
                info.digests.push(cfg::Digest {
                    preamble: pre,
                    type_spec: Some(types.spec(&what, ty, 0)?),
                });
            }
            ExternKind::ValueSet => {
                let Some(Type::Set(element)) = module.types.get(inst.ty) else {
                    continue;
                };
                let size = i32::try_from(size(&what)?)
                    .map_err(|_| unsupported(&what, "its size is too large for P4Info"))?;
                info.value_sets.push(cfg::ValueSet {
                    preamble: pre,
                    r#match: value_set_match(module, &what, *element)?,
                    size,
                });
            }
        }
    }
    info.type_info = Some(types.info);
    Ok(info)
}

/// The match fields of a value set of `element`s (P4Runtime's rules: one EXACT field for a
/// bit string, one per field of a struct with `@match` giving the kind).
fn value_set_match(
    module: &Module,
    what: &str,
    element: Handle<Type>,
) -> Result<Vec<cfg::MatchField>, P4InfoError> {
    use cfg::match_field::{Match, MatchType as M};
    if let Ok(width) = layout::type_width(module, element) {
        if !matches!(module.types.get(element), Some(Type::Composite(_))) {
            return Ok(vec![cfg::MatchField {
                id: 1,
                bitwidth: width_i32(what, u64::from(width))?,
                r#match: Some(Match::MatchType(M::Exact as i32)),
                ..Default::default()
            }]);
        }
    }
    let Some(Type::Composite(c)) = module.types.get(element) else {
        return Err(unsupported(
            what,
            "its element is neither a bit string nor a struct",
        ));
    };
    let def = module
        .composites
        .get(*c)
        .ok_or_else(|| unsupported(what, "its element type is missing"))?;
    let ids = field_ids(
        what,
        &def.fields
            .iter()
            .map(|f| explicit_id(&f.annotations))
            .collect::<Vec<_>>(),
    )?;
    let mut out = Vec::with_capacity(def.fields.len());
    for (f, id) in def.fields.iter().zip(ids) {
        let width = layout::type_width(module, f.ty).map_err(|e| {
            unsupported(
                what,
                format!("field `{}` has type {}, not a bit string", f.name, e.0),
            )
        })?;
        let kind = match annotation(&f.annotations, "match").map(|a| a.args.as_slice()) {
            None => Match::MatchType(M::Exact as i32),
            Some([AnnotationArg::Name(k) | AnnotationArg::String(k)]) => {
                match MatchKind::from_name(k) {
                    Some(m) => Match::MatchType(match_type(m) as i32),
                    None => Match::OtherMatchType(k.clone()),
                }
            }
            Some(_) => {
                return Err(unsupported(
                    what,
                    format!("field `{}`: @match takes one match kind", f.name),
                ))
            }
        };
        let kept: Vec<ir::Annotation> = f
            .annotations
            .iter()
            .filter(|a| a.name != "match")
            .cloned()
            .collect();
        let (plain, structured) = annotations_of(&kept);
        out.push(cfg::MatchField {
            id,
            name: f.name.clone(),
            annotations: plain,
            structured_annotations: structured,
            bitwidth: width_i32(what, u64::from(width))?,
            r#match: Some(kind),
            ..Default::default()
        });
    }
    Ok(out)
}

fn pool() -> Result<DescriptorPool, P4InfoError> {
    DescriptorPool::decode(p4runtime_proto::FILE_DESCRIPTOR_SET)
        .map_err(|e| P4InfoError::Text(format!("the built-in descriptors do not decode: {e}")))
}

fn p4info_descriptor() -> Result<prost_reflect::MessageDescriptor, P4InfoError> {
    pool()?
        .get_message_by_name("p4.config.v1.P4Info")
        .ok_or_else(|| P4InfoError::Text("p4.config.v1.P4Info is not in the descriptors".into()))
}

/// `info` in protobuf text format (what `PROG.p4info.txtpb` holds and p4runtime-shell reads).
pub fn to_text(info: &cfg::P4Info) -> Result<String, P4InfoError> {
    let dynamic = DynamicMessage::decode(p4info_descriptor()?, info.encode_to_vec().as_slice())?;
    let options = prost_reflect::text_format::FormatOptions::new().pretty(true);
    Ok(dynamic.to_text_format_with_options(&options) + "\n")
}

/// A P4Info from protobuf text format; the error says where the text is wrong.
pub fn from_text(text: &str) -> Result<cfg::P4Info, P4InfoError> {
    let dynamic = DynamicMessage::parse_text_format(p4info_descriptor()?, text)
        .map_err(|e| P4InfoError::Text(text_error(text, &e)))?;
    Ok(cfg::P4Info::decode(dynamic.encode_to_vec().as_slice())?)
}

/// The parse error with the line and column it points at. prost-reflect keeps the byte span
/// private unless built with miette; its `Debug` form shows it (`span: 10..12`), so read it
/// from there and fall back to the bare message when the form changes.
fn text_error(text: &str, e: &prost_reflect::text_format::ParseError) -> String {
    let debug = format!("{e:?}");
    let offset = debug.split("span: ").nth(1).and_then(|rest| {
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits.parse::<usize>().ok()
    });
    match offset {
        Some(offset) if offset <= text.len() && text.is_char_boundary(offset) => {
            let before = &text[..offset];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("line {line}, column {column}: {e}")
        }
        _ => e.to_string(),
    }
}

/// `info` in protobuf binary (`PROG.p4info.bin`).
pub fn to_binary(info: &cfg::P4Info) -> Vec<u8> {
    info.encode_to_vec()
}

/// A P4Info from protobuf binary.
pub fn from_binary(bytes: &[u8]) -> Result<cfg::P4Info, P4InfoError> {
    Ok(cfg::P4Info::decode(bytes)?)
}

/// Sorted names, for stable output in messages and tests.
pub fn sorted_names(info: &cfg::P4Info) -> BTreeMap<u32, String> {
    let mut out = BTreeMap::new();
    let mut add = |p: &Option<cfg::Preamble>| {
        if let Some(p) = p {
            out.insert(p.id, p.name.clone());
        }
    };
    info.tables.iter().for_each(|x| add(&x.preamble));
    info.actions.iter().for_each(|x| add(&x.preamble));
    info.counters.iter().for_each(|x| add(&x.preamble));
    info.direct_counters.iter().for_each(|x| add(&x.preamble));
    info.meters.iter().for_each(|x| add(&x.preamble));
    info.direct_meters.iter().for_each(|x| add(&x.preamble));
    info.registers.iter().for_each(|x| add(&x.preamble));
    info.digests.iter().for_each(|x| add(&x.preamble));
    info.value_sets.iter().for_each(|x| add(&x.preamble));
    info.controller_packet_metadata
        .iter()
        .for_each(|x| add(&x.preamble));
    out
}

/// The width of a bit string type (through `type` and serializable enums).
fn bits_width(module: &Module, ty: Handle<Type>) -> Option<u32> {
    match module.types.get(ty)? {
        Type::Bits { width, .. } => Some(*width),
        Type::NewType { underlying, .. } => bits_width(module, *underlying),
        Type::Enum(e) => bits_width(module, module.enums.get(*e)?.underlying?),
        _ => None,
    }
}

/// Adds `controller_packet_metadata` to `info` for the headers of `program` annotated
/// `@controller_header("packet_in")` / `("packet_out")`, as p4c does: the preamble's name
/// is the annotation's argument, its id a hash under the `CONTROLLER_HEADER` prefix (or the
/// header's `@id`), and the metadata are the header's fields in order, ids from 1.
///
/// The IR keeps no annotations on header types, so this reads the syntax tree; the widths
/// come from `module`'s header of the same name (typedefs resolved).
pub fn add_controller_packet_metadata(
    info: &mut cfg::P4Info,
    program: &p4tc_front::ast::Program,
    module: &Module,
) -> Result<(), P4InfoError> {
    use p4tc_front::ast;
    let mut found: Vec<(String, &ast::StructDecl, Option<u32>)> = Vec::new();
    for decl in &program.declarations {
        let ast::DeclKind::Header(h) = &decl.kind else {
            continue;
        };
        let Some(a) = h
            .annotations
            .iter()
            .find(|a| a.name.name == "controller_header")
        else {
            continue;
        };
        let what = format!("header `{}`", h.name.name);
        let name = match &a.body {
            ast::AnnotationBody::Unstructured(t) => match t.as_slice() {
                [tok] => match &tok.kind {
                    p4tc_front::token::TokenKind::Str(s) => Some(s.to_string()),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        }
        .ok_or_else(|| unsupported(&what, "@controller_header takes one string"))?;
        let id = h
            .annotations
            .iter()
            .find(|a| a.name.name == "id")
            .and_then(|a| match &a.body {
                ast::AnnotationBody::Unstructured(t) => match t.as_slice() {
                    [tok] => match &tok.kind {
                        p4tc_front::token::TokenKind::Int(n) => u32::try_from(&n.value).ok(),
                        _ => None,
                    },
                    _ => None,
                },
                _ => None,
            });
        found.push((name, h, id));
    }
    if found.is_empty() {
        return Ok(());
    }
    let symbols: Vec<Symbol> = found
        .iter()
        .map(|(name, _, id)| Symbol {
            prefix: Prefix::ControllerHeader,
            name: name.clone(),
            explicit: *id,
        })
        .collect();
    let ids = ids::assign_ids(&symbols)?;
    for (name, h, _) in &found {
        let what = format!("header `{}`", h.name.name);
        let composite = module
            .composites
            .iter()
            .map(|(_, c)| c)
            .find(|c| c.kind == CompositeKind::Header && c.name == h.name.name)
            .ok_or_else(|| unsupported(&what, "the header is not in the checked program"))?;
        let mut metadata = Vec::with_capacity(composite.fields.len());
        for (i, f) in composite.fields.iter().enumerate() {
            let width = bits_width(module, f.ty).ok_or_else(|| {
                unsupported(format!("{what} field `{}`", f.name), "not a bit string")
            })?;
            metadata.push(cfg::controller_packet_metadata::Metadata {
                id: u32::try_from(i + 1).unwrap_or(u32::MAX),
                name: f.name.clone(),
                bitwidth: width_i32(&f.name, u64::from(width))?,
                ..Default::default()
            });
        }
        info.controller_packet_metadata
            .push(cfg::ControllerPacketMetadata {
                preamble: Some(cfg::Preamble {
                    id: ids[&(Prefix::ControllerHeader, name.clone())],
                    name: name.clone(),
                    alias: name.clone(),
                    annotations: vec![format!("@controller_header(\"{name}\")")],
                    ..Default::default()
                }),
                metadata,
            });
    }
    Ok(())
}
