//! P4TC's introspection JSON, computed from the IR.
//!
//! The control plane names every object through this file: `tc p4ctrl create
//! P/table/ingress/nh_table dstAddr 10.0.1.2/32 action send_nh param port port1 ...` is resolved
//! by looking up the table, its key fields, the action and its parameters here, with the types
//! telling how to parse each value. The types of this module are the file's schema (version
//! [`SCHEMA_VERSION`]): they are the only serde types of the crate, a versioned boundary, and
//! they read P4TC's own compiler's files as well as write ours.
//!
//! What goes in, following P4TC's compiler (`p4c-pna-p4tc`) where our model doc is silent:
//! - Tables in declaration order, numbered from 1. A table is named `control/table`, by the
//!   names as written (not `@name`). `tentries` is the `size` (default 1024), `nummask` the
//!   `@nummask` (default 8), `permissions` the `@tc_acl` or the default (`0x3da4`, or `0x3de6`
//!   for `add_on_miss = true` tables), `keysize` the sum of the key widths.
//! - Key fields in key order, numbered from 1, named by the key's control-plane name; their
//!   `type` is the key's `@tc_type` (`dev`, `macaddr`, `ipv4`, `ipv6`, `be16`, `be32`, `be64`)
//!   or `bitN`.
//! - Actions are numbered from 1 in declaration order over the whole program, `NoAction`
//!   excepted (it is never listed). A table lists its actions in its `actions` order with
//!   their scope, the names of the annotations on the action reference, their action-data
//!   (directionless) parameters numbered from 1, and whether each is the default hit action
//!   (`@default_hit` / `@default_hit_const`) or the default miss action (`default_action`).
//!   An action is named by its hierarchical name with `/` for `.`: `ingress/send_nh` for one
//!   local to control `ingress`, `send_nh` for a top-level one, `@name` applied as P4 does.
//! - Externs that have a control-plane view (`Counter`, `DirectCounter`, `Meter`,
//!   `DirectMeter`, `Register`, `Digest`), in order of their first instance. Each has P4TC's
//!   fixed id where it has one (`0x19000000` Counter, `0x1A000000` DirectCounter, `0x1B000000`
//!   Meter, `0x1C000000` DirectMeter, `0x05000000` Digest) and otherwise `0x1`, `0x2`, ... in
//!   order; its permissions come from `@tc_acl` on the extern's declaration (default
//!   `RUPS:RUXP`, `0x19b6`). Instances are numbered from 1 per extern and named
//!   `control.instance`; their params are the extern's `tc_ControlPath_*` view from `tc/pna.p4`:
//!   the `index` key, then the data (counts, meter rates and bursts, the register's value or the
//!   digest's fields).
//!
//! Every key and parameter width comes from [`crate::layout`]; this module never computes one.

mod externs;
mod permissions;
#[cfg(test)]
mod tests;

pub use permissions::{AclError, Permissions, Side};

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::arena::Handle;
use crate::ir::{self, AnnotationArg, Module, PropertyValue, Value};
use crate::layout::{self, LayoutError};
use crate::Span;

/// The schema version this module writes.
pub const SCHEMA_VERSION: &str = "1.0.0";
/// A table's `tentries` when it has no `size`.
pub const DEFAULT_TENTRIES: u32 = 1024;
/// A table's `nummask` when it has no `@nummask`.
pub const DEFAULT_NUMMASK: u32 = 8;
/// The longest pipeline name.
pub const MAX_PIPELINE_NAME: usize = 32;

/// The whole introspection file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Introspection {
    /// [`SCHEMA_VERSION`].
    pub schema_version: String,
    /// The pipeline's name.
    pub pipeline_name: String,
    /// Externs with a control-plane view.
    pub externs: Vec<Extern>,
    /// Every table.
    pub tables: Vec<Table>,
}

/// A table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    /// `control/table`.
    pub name: String,
    /// From 1, in declaration order.
    pub id: u32,
    /// Maximum number of entries.
    pub tentries: u32,
    /// CRUDXPS bits as `0xHHHH`.
    pub permissions: String,
    /// Number of masks (ternary and LPM tables).
    pub nummask: u32,
    /// Sum of the key fields' widths, in bits.
    pub keysize: u32,
    /// Key fields in key order.
    pub keyfields: Vec<KeyField>,
    /// The actions the table may run, `NoAction` left out.
    pub actions: Vec<Action>,
}

/// A key field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyField {
    /// From 1, in key order.
    pub id: u32,
    /// The control-plane name.
    pub name: String,
    /// How values are written: `bitN` or a P4TC type (see [`ValueType`]).
    #[serde(rename = "type")]
    pub ty: String,
    /// `exact`, `lpm`, `ternary`, `range` or `optional`.
    pub match_type: String,
    /// Width in bits.
    pub bitwidth: u32,
}

/// Where an action may be used in a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ActionScope {
    /// In entries and as the default action.
    TableAndDefault,
    /// Only in entries.
    TableOnly,
    /// Only as the default action.
    DefaultOnly,
}

/// An action as a table lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    /// From 1, program-wide.
    pub id: u32,
    /// Hierarchical name with `/` separators.
    pub name: String,
    /// Where it may be used.
    pub action_scope: ActionScope,
    /// Names of the annotations on the table's reference to it.
    pub annotations: Vec<String>,
    /// Its action-data parameters.
    pub params: Vec<ActionParam>,
    /// It is the table's default hit action.
    pub default_hit_action: bool,
    /// It is the table's default miss action.
    pub default_miss_action: bool,
}

/// An action-data parameter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionParam {
    /// From 1, in parameter order.
    pub id: u32,
    /// Name as written.
    pub name: String,
    /// `bitN` or a P4TC type.
    #[serde(rename = "type")]
    pub ty: String,
    /// Width in bits.
    pub bitwidth: u32,
}

/// An extern type with its instances.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extern {
    /// The extern's name (`Counter`, `Register`, ...).
    pub name: String,
    /// P4TC's id for it, as hex text.
    pub id: String,
    /// CRUDXPS bits as `0xHHHH`.
    pub permissions: String,
    /// Its instances.
    pub instances: Vec<ExternInstance>,
}

/// An extern instance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternInstance {
    /// `control.instance`.
    pub inst_name: String,
    /// From 1 within its extern.
    pub inst_id: u32,
    /// What a counter or meter counts (`PACKETS`, `BYTES`, `PACKETS_AND_BYTES`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inst_type: Option<String>,
    /// Its control-plane fields: the key, then the data.
    pub params: Vec<ExternParam>,
}

/// A field of an extern instance's control-plane view.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternParam {
    /// From 1.
    pub id: u32,
    /// Name.
    pub name: String,
    /// `bitN`, a P4TC type, or `rate` (byte-based meter rates).
    #[serde(rename = "type")]
    pub ty: String,
    /// `tc_key` for the index, `param` for data.
    pub attr: String,
    /// Width in bits.
    pub bitwidth: u32,
}

impl Introspection {
    /// The file's text: pretty-printed JSON, fields in schema order, no trailing newline.
    pub fn to_json_pretty(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }

    /// Reads a file written by this module or by P4TC's compiler.
    pub fn from_json(text: &str) -> Result<Introspection, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// The introspection JSON of `introspection`, pretty-printed.
pub fn to_json_pretty(introspection: &Introspection) -> Result<String, serde_json::Error> {
    introspection.to_json_pretty()
}

/// How the control plane writes a value: P4TC's types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueType {
    /// `bitN`: an unsigned number of N bits.
    Bit(u32),
    /// `dev`: an interface, by name (its 32-bit index).
    Dev,
    /// `macaddr`: `aa:bb:cc:dd:ee:ff`.
    MacAddr,
    /// `ipv4`: dotted quad, with `/prefix` for LPM keys.
    Ipv4,
    /// `ipv6`
    Ipv6,
    /// `be16`: a 16-bit number kept in network order.
    Be16,
    /// `be32`
    Be32,
    /// `be64`
    Be64,
    /// `rate`: a byte rate (meters counting bytes).
    Rate,
}

impl ValueType {
    /// The types `@tc_type` may name.
    pub const TC_TYPES: [ValueType; 7] = [
        ValueType::Dev,
        ValueType::MacAddr,
        ValueType::Ipv4,
        ValueType::Ipv6,
        ValueType::Be16,
        ValueType::Be32,
        ValueType::Be64,
    ];

    /// The type of a JSON `type` string.
    pub fn parse(name: &str) -> Option<ValueType> {
        if let Some(width) = name.strip_prefix("bit") {
            // `bit` followed by decimal digits only: no sign, no leading `+`.
            if !width.is_empty() && width.bytes().all(|b| b.is_ascii_digit()) {
                return width.parse().ok().map(ValueType::Bit);
            }
            return None;
        }
        match name {
            "rate" => Some(ValueType::Rate),
            _ => ValueType::TC_TYPES
                .into_iter()
                .find(|t| t.to_string() == name),
        }
    }

    /// The width a value of this type has, when fixed.
    pub fn width(self) -> Option<u32> {
        match self {
            ValueType::Bit(width) => Some(width),
            ValueType::Dev | ValueType::Ipv4 | ValueType::Be32 => Some(32),
            ValueType::MacAddr => Some(48),
            ValueType::Ipv6 => Some(128),
            ValueType::Be16 => Some(16),
            ValueType::Be64 | ValueType::Rate => Some(64),
        }
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueType::Bit(width) => write!(f, "bit{width}"),
            ValueType::Dev => f.write_str("dev"),
            ValueType::MacAddr => f.write_str("macaddr"),
            ValueType::Ipv4 => f.write_str("ipv4"),
            ValueType::Ipv6 => f.write_str("ipv6"),
            ValueType::Be16 => f.write_str("be16"),
            ValueType::Be32 => f.write_str("be32"),
            ValueType::Be64 => f.write_str("be64"),
            ValueType::Rate => f.write_str("rate"),
        }
    }
}

/// Why the introspection JSON cannot be produced. Each variant names what is at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IntrospectionError {
    /// A layout could not be computed.
    #[error(transparent)]
    Layout(#[from] LayoutError),
    /// A `@tc_acl` string is malformed.
    #[error("{owner}: @tc_acl(\"{acl}\"): {source}")]
    Acl {
        /// `table `...`` or `extern `...``.
        owner: String,
        /// The string.
        acl: String,
        /// What is wrong with it.
        #[source]
        source: AclError,
        /// Where the owner was written.
        span: Span,
    },
    /// A `@tc_type` names no P4TC type.
    #[error("{owner}: @tc_type(\"{tc_type}\") is not a P4TC type (dev, macaddr, ipv4, ipv6, be16, be32, be64)")]
    TcType {
        /// The key field or struct field.
        owner: String,
        /// The name given.
        tc_type: String,
        /// Where the owner was written.
        span: Span,
    },
    /// A `@tc_type` on a field of the wrong width.
    #[error("{owner}: @tc_type(\"{tc_type}\") is for {expected}-bit values, but the field is {width} bits wide")]
    TcTypeWidth {
        /// The key field or struct field.
        owner: String,
        /// The type.
        tc_type: String,
        /// Its width.
        expected: u32,
        /// The field's.
        width: u32,
        /// Where the owner was written.
        span: Span,
    },
    /// An annotation with the wrong arguments.
    #[error("{owner}: @{annotation} takes {expected}")]
    AnnotationArgument {
        /// What it annotates.
        owner: String,
        /// The annotation's name.
        annotation: String,
        /// What it takes.
        expected: &'static str,
        /// Where the owner was written.
        span: Span,
    },
    /// A table larger than P4TC's 32-bit entry count.
    #[error("table `{table}`: size {size} is larger than the {max} entries a table can have")]
    TableSize {
        /// The table.
        table: String,
        /// Its size.
        size: u64,
        /// The limit.
        max: u32,
        /// Where it was written.
        span: Span,
    },
    /// Conflicting default-hit annotations.
    #[error("table `{table}`: {reason}")]
    DefaultHit {
        /// The table.
        table: String,
        /// The conflict.
        reason: String,
        /// Where it was written.
        span: Span,
    },
    /// An extern instance whose control-plane view cannot be described.
    #[error("extern instance `{instance}`: {reason}")]
    Extern {
        /// The instance.
        instance: String,
        /// What is wrong.
        reason: String,
        /// Where it was written.
        span: Span,
    },
    /// A pipeline name P4TC cannot use.
    #[error("pipeline name `{name}`: {reason}")]
    PipelineName {
        /// The name.
        name: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A handle names nothing in the module.
    #[error("{what} is missing from the module (dangling handle)")]
    Dangling {
        /// What was looked up.
        what: String,
    },
}

impl IntrospectionError {
    /// Where the item at fault was written (the default span when there is none).
    pub fn span(&self) -> Span {
        match self {
            IntrospectionError::Layout(e) => e.span(),
            IntrospectionError::Acl { span, .. }
            | IntrospectionError::TcType { span, .. }
            | IntrospectionError::TcTypeWidth { span, .. }
            | IntrospectionError::AnnotationArgument { span, .. }
            | IntrospectionError::TableSize { span, .. }
            | IntrospectionError::DefaultHit { span, .. }
            | IntrospectionError::Extern { span, .. } => *span,
            IntrospectionError::PipelineName { .. } | IntrospectionError::Dangling { .. } => {
                Span::default()
            }
        }
    }
}

/// The first annotation named `name`.
fn annotation<'a>(annotations: &'a [ir::Annotation], name: &str) -> Option<&'a ir::Annotation> {
    annotations.iter().find(|a| a.name == name)
}

/// The single string argument of an annotation.
fn string_arg(annotation: &ir::Annotation) -> Option<&str> {
    match annotation.args.as_slice() {
        [AnnotationArg::String(s)] => Some(s),
        _ => None,
    }
}

/// The value type of a field from its `@tc_type` (checked against its width), else `bitN`.
fn value_type(
    annotations: &[ir::Annotation],
    width: u32,
    owner: impl Fn() -> String,
    span: Span,
) -> Result<String, IntrospectionError> {
    let Some(tc_type) = annotation(annotations, "tc_type") else {
        return Ok(ValueType::Bit(width).to_string());
    };
    let name = string_arg(tc_type).ok_or_else(|| IntrospectionError::AnnotationArgument {
        owner: owner(),
        annotation: "tc_type".into(),
        expected: "one string, such as \"ipv4\"",
        span,
    })?;
    let ty = ValueType::parse(name)
        .filter(|t| ValueType::TC_TYPES.contains(t))
        .ok_or_else(|| IntrospectionError::TcType {
            owner: owner(),
            tc_type: name.into(),
            span,
        })?;
    match ty.width() {
        Some(expected) if expected != width => Err(IntrospectionError::TcTypeWidth {
            owner: owner(),
            tc_type: name.into(),
            expected,
            width,
            span,
        }),
        _ => Ok(ty.to_string()),
    }
}

/// Permissions from an optional `@tc_acl`, with `defaults` for what it leaves out.
fn acl_permissions(
    annotations: &[ir::Annotation],
    defaults: Permissions,
    owner: impl Fn() -> String,
    span: Span,
) -> Result<Permissions, IntrospectionError> {
    let Some(acl) = annotation(annotations, "tc_acl") else {
        return Ok(defaults);
    };
    let text = string_arg(acl).ok_or_else(|| IntrospectionError::AnnotationArgument {
        owner: owner(),
        annotation: "tc_acl".into(),
        expected: "one string, such as \"CRUDPS:RX\"",
        span,
    })?;
    Permissions::parse_acl(text, defaults).map_err(|source| IntrospectionError::Acl {
        owner: owner(),
        acl: text.into(),
        source,
        span,
    })
}

/// True for core.p4's `NoAction`, which P4TC never lists.
fn is_no_action(action: &ir::Action) -> bool {
    action.control.is_none() && action.name == "NoAction"
}

/// The hierarchical name of an item declared in `control` (or at the top level), `@name`
/// applied as P4 does: a name starting with `.` is absolute, any other is local to the control.
fn hierarchical_name(
    module: &Module,
    control: Option<Handle<ir::BlockType>>,
    name: &str,
    annotations: &[ir::Annotation],
) -> String {
    let local = annotation(annotations, "name")
        .and_then(string_arg)
        .unwrap_or(name);
    if let Some(absolute) = local.strip_prefix('.') {
        return absolute.to_string();
    }
    match control.and_then(|c| module.block_types.get(c)) {
        Some(block) => format!("{}.{local}", block.name),
        None => local.to_string(),
    }
}

/// The action's name as P4TC writes it: its hierarchical name with `/` for `.`.
fn action_name(module: &Module, action: &ir::Action) -> String {
    hierarchical_name(module, action.control, &action.name, &action.annotations).replace('.', "/")
}

/// Program-wide action ids: 1, 2, ... in declaration order, `NoAction` skipped.
fn action_ids(module: &Module) -> HashMap<Handle<ir::Action>, u32> {
    let mut ids = HashMap::new();
    let mut next = 1u32;
    for (handle, action) in module.actions.iter() {
        if !is_no_action(action) {
            ids.insert(handle, next);
            next += 1;
        }
    }
    ids
}

/// P4TC's introspection of `module` as pipeline `pipeline_name`.
pub fn introspection(
    module: &Module,
    pipeline_name: &str,
) -> Result<Introspection, IntrospectionError> {
    check_pipeline_name(pipeline_name)?;
    let ids = action_ids(module);
    let mut tables = Vec::with_capacity(module.tables.len());
    for (index, (handle, _)) in module.tables.iter().enumerate() {
        let id = u32::try_from(index + 1).unwrap_or(u32::MAX);
        tables.push(table(module, handle, id, &ids)?);
    }
    Ok(Introspection {
        schema_version: SCHEMA_VERSION.into(),
        pipeline_name: pipeline_name.into(),
        externs: externs::externs(module)?,
        tables,
    })
}

fn check_pipeline_name(name: &str) -> Result<(), IntrospectionError> {
    let reason = if name.is_empty() {
        "it is empty"
    } else if name.len() > MAX_PIPELINE_NAME {
        "it is longer than 32 characters"
    } else if name.contains(['/', ' ', '\t', '\n']) {
        // `/` separates the parts of object paths such as `P/table/ingress/t`.
        "it contains `/` or white space"
    } else {
        return Ok(());
    };
    Err(IntrospectionError::PipelineName {
        name: name.into(),
        reason,
    })
}

fn table(
    module: &Module,
    handle: Handle<ir::Table>,
    id: u32,
    action_ids: &HashMap<Handle<ir::Action>, u32>,
) -> Result<Table, IntrospectionError> {
    let t = module
        .tables
        .get(handle)
        .ok_or_else(|| IntrospectionError::Dangling {
            what: format!("table {handle:?}"),
        })?;
    let span = module.tables.span(handle);
    let control =
        module
            .block_types
            .get(t.control)
            .ok_or_else(|| IntrospectionError::Dangling {
                what: format!("control of table `{}`", t.name),
            })?;
    let dotted = format!("{}.{}", control.name, t.name);
    let owner = || format!("table `{dotted}`");

    let key = layout::table_key_layout(module, handle)?;

    let tentries = match t.size {
        None => DEFAULT_TENTRIES,
        Some(size) => u32::try_from(size).map_err(|_| IntrospectionError::TableSize {
            table: dotted.clone(),
            size,
            max: u32::MAX,
            span,
        })?,
    };

    let nummask = match annotation(&t.annotations, "nummask") {
        None => DEFAULT_NUMMASK,
        Some(a) => match a.args.as_slice() {
            [AnnotationArg::Int(n)] => u32::try_from(n).ok().filter(|&n| n > 0),
            _ => None,
        }
        .ok_or_else(|| IntrospectionError::AnnotationArgument {
            owner: owner(),
            annotation: "nummask".into(),
            expected: "one positive integer",
            span,
        })?,
    };

    let add_on_miss = t.properties.iter().any(|(name, value)| {
        name == "add_on_miss" && *value == PropertyValue::Value(Value::Bool(true))
    });
    let defaults = if add_on_miss {
        Permissions::TABLE_ADD_ON_MISS
    } else {
        Permissions::TABLE
    };
    let permissions = acl_permissions(&t.annotations, defaults, owner, span)?;

    let body = &control.body;
    let mut keyfields = Vec::with_capacity(t.keys.len());
    for (i, (k, field)) in t.keys.iter().zip(&key.fields).enumerate() {
        let owner = || format!("table `{dotted}`, key field `{}`", k.name);
        let ty = value_type(
            &k.annotations,
            field.field.width,
            owner,
            body.exprs.span(k.expr),
        )?;
        keyfields.push(KeyField {
            id: u32::try_from(i + 1).unwrap_or(u32::MAX),
            name: field.field.name.clone(),
            ty,
            match_type: field.match_kind.name().into(),
            bitwidth: field.field.width,
        });
    }

    let actions = table_actions(module, t, &dotted, span, action_ids)?;

    Ok(Table {
        name: format!("{}/{}", control.name, t.name),
        id,
        tentries,
        permissions: permissions.to_hex(),
        nummask,
        keysize: key.width,
        keyfields,
        actions,
    })
}

/// Names of annotations that mark an action reference as the default hit action.
const DEFAULT_HIT: [&str; 2] = ["default_hit", "default_hit_const"];

fn table_actions(
    module: &Module,
    t: &ir::Table,
    dotted: &str,
    span: Span,
    action_ids: &HashMap<Handle<ir::Action>, u32>,
) -> Result<Vec<Action>, IntrospectionError> {
    let conflict = |reason: String| IntrospectionError::DefaultHit {
        table: dotted.into(),
        reason,
        span,
    };
    let miss = t.default_action.as_ref().map(|call| call.action);
    let mut default_hits = 0;
    let mut actions = Vec::with_capacity(t.actions.len());
    for reference in &t.actions {
        let a =
            module
                .actions
                .get(reference.action)
                .ok_or_else(|| IntrospectionError::Dangling {
                    what: format!("an action of table `{dotted}`"),
                })?;
        if is_no_action(a) {
            continue;
        }
        let Some(&id) = action_ids.get(&reference.action) else {
            continue;
        };
        let mut annotations: Vec<String> = reference
            .annotations
            .iter()
            .map(|a| a.name.clone())
            .collect();
        // The scope may have been resolved from `@tableonly` / `@defaultonly` without keeping
        // the annotation; P4TC lists it, so make sure it is there.
        let scope_annotation = match reference.scope {
            ir::ActionScope::TableAndDefault => None,
            ir::ActionScope::TableOnly => Some("tableonly"),
            ir::ActionScope::DefaultOnly => Some("defaultonly"),
        };
        if let Some(name) = scope_annotation {
            if !annotations.iter().any(|a| a == name) {
                annotations.insert(0, name.into());
            }
        }
        let hit_marks: Vec<&str> = DEFAULT_HIT
            .into_iter()
            .filter(|h| annotations.iter().any(|a| a == h))
            .collect();
        let default_hit = !hit_marks.is_empty();
        let name = action_name(module, a);
        if hit_marks.len() > 1 {
            return Err(conflict(format!(
                "action `{name}` is marked both @default_hit and @default_hit_const"
            )));
        }
        if default_hit && reference.scope == ir::ActionScope::TableOnly {
            return Err(conflict(format!(
                "action `{name}` is @tableonly, so it cannot be the default hit action (@{})",
                hit_marks.join(", @")
            )));
        }
        if default_hit {
            default_hits += 1;
            if default_hits > 1 {
                return Err(conflict(
                    "more than one action is marked @default_hit or @default_hit_const".into(),
                ));
            }
        }
        let params = action_params(module, reference.action)?;
        actions.push(Action {
            id,
            name,
            action_scope: match reference.scope {
                ir::ActionScope::TableAndDefault => ActionScope::TableAndDefault,
                ir::ActionScope::TableOnly => ActionScope::TableOnly,
                ir::ActionScope::DefaultOnly => ActionScope::DefaultOnly,
            },
            annotations,
            params,
            default_hit_action: default_hit,
            default_miss_action: miss == Some(reference.action),
        });
    }
    Ok(actions)
}

fn action_params(
    module: &Module,
    action: Handle<ir::Action>,
) -> Result<Vec<ActionParam>, IntrospectionError> {
    let layout = layout::action_param_layout(module, action)?;
    let a = &module.actions[action];
    // A control-local action's parameters live in its control's body.
    let locals = match a.control {
        Some(control) => &module.block_types[control].body.locals,
        None => &a.body.locals,
    };
    layout
        .params
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let local = a
                .params
                .iter()
                .map(|h| (*h, &locals[*h]))
                .find(|(_, l)| l.name == p.field.name);
            let ty = match local {
                Some((h, l)) => value_type(
                    &l.annotations,
                    p.field.width,
                    || format!("action `{}` parameter `{}`", a.name, l.name),
                    locals.span(h),
                )?,
                None => ValueType::Bit(p.field.width).to_string(),
            };
            Ok(ActionParam {
                id: u32::try_from(i + 1).unwrap_or(u32::MAX),
                name: p.field.name.clone(),
                ty,
                bitwidth: p.field.width,
            })
        })
        .collect()
}
