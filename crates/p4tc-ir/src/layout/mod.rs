//! Byte layouts: the one source of truth for how table keys, action parameters and extern
//! values are laid out in bytes.
//!
//! The eBPF code generator (C structs and map sizes), the control plane (entry encoding) and the
//! interpreter all take their layouts from here; none of them packs bytes by its own rules.
//! Layouts are computed from a validated [`Module`]: a handle that names nothing is reported as
//! [`LayoutError::Dangling`] rather than trusted, so no input makes this module panic.
//!
//! # The rules
//!
//! 1. **Width.** A field's width W in bits comes from its IR type: `bit<W>` and `int<W>` give W,
//!    `bool` gives 1, a serializable enum its underlying type's width, `type T N` the width of T.
//!    Other types (non-serializable enums, `error`, varbits, structs, ...) have no layout here and
//!    are reported as errors naming the table, action or instance at fault. See [`type_width`].
//! 2. **Bytes.** A field takes `ceil(W / 8)` bytes: `bit<9>` two, `bit<48>` six, `bit<128>`
//!    sixteen, `bool` one. No rounding to 2, 4 or 8 bytes: that keeps keys short (hash cost and
//!    LPM trie depth grow with key bytes) and makes the rule one line.
//! 3. **Byte order.** Big-endian (network order), the value right-aligned: the most significant
//!    byte first, and the `8 * size - W` leading pad bits zero. An `int<W>` is stored as its W-bit
//!    two's complement pattern. Big-endian everywhere because BPF LPM tries compare keys from the
//!    first bit of the first byte, so prefixes must be stored most significant first; using the
//!    same order for every blob keeps one rule, and `bpftool map dump` then shows addresses and
//!    MACs as people write them. (The datapath converts when it does arithmetic on a value.)
//! 4. **Packing.** Fields are packed back to back with no gaps, and every blob is padded with zero
//!    bytes to a multiple of 4 bytes (BPF map keys and values are then word sized, and a C struct
//!    of byte arrays mirrors a blob exactly, with no compiler padding).
//! 5. **Keys.** Fields are packed in key declaration order, except in an LPM table (see
//!    [`TableKind`]) where the exact fields come first, in order, and the LPM field last, as
//!    a BPF LPM trie needs. An LPM table's key starts with a 4-byte prefix length (the trie's
//!    `prefixlen`, in host byte order: the one host-order word in any blob), so its first field is
//!    at offset 4. An entry whose LPM field has prefix length P is stored with the prefix length
//!    word set to P plus [`KeyLayout::lpm_prefix_base`], the number of bits before the LPM
//!    field's significant bits: the exact fields then match in full and the zero pad bits never
//!    differ. A lookup sets the word to [`KeyLayout::max_prefix_len`].
//!    The key of a keyless table is 4 zero bytes, so even it can live in a map. A key is at most
//!    [`MAX_KEY_BITS`] bits wide (the sum of the widths, P4TC's `keysize`).
//!    An exact table's key (a BPF hash key) is sized for the kernel's compare instead of rule
//!    4: 1 to 3 bytes stay unpadded and 4 to 8 bytes become 8, because the kernel's `memcmp`
//!    compares 8-byte words and single bytes only, so a 4-byte key costs 4 byte compares where
//!    an 8-byte key costs one (measured: a hash lookup with a 4-byte key costs about 2 ns more
//!    than with 8 bytes or 2). The hash element rounds its key to 8 bytes anyway, so this costs
//!    no memory. See [`exact_key_size`].
//! 6. **Masks.** A ternary table (tuple-space search) uses a mask blob with exactly the key's
//!    layout; a stored key is the entry's value ANDed with its mask.
//! 7. **Action parameters.** Only directionless parameters are action data (directional ones
//!    are bound in the program); they are packed in declaration order. P4TC's limits hold: at
//!    most [`MAX_PARAMS`] parameters and [`MAX_PARAM_BYTES`] bytes before padding. An action
//!    without action data has a 0-byte block.
//! 8. **Extern values.** Counters are native-endian `u64`s (the datapath adds to them
//!    atomically, so they cannot be big-endian): packets then bytes, only those the counter
//!    type keeps. A register element and a digest payload are a P4 value: a scalar, or a struct
//!    of scalars packed by rules 1 to 4. Digests are at most [`MAX_DIGEST_BYTES`] bytes.
//!
//! Values are given to the encoders and returned by the decoders in declaration order (the
//! order of the P4 key and of the parameter list, and of the introspection JSON), whatever the
//! physical placement.
//!
//! # Entry points
//! [`table_key_layout`], [`action_param_layout`] and [`extern_layout`] compute layouts;
//! [`KeyLayout`], [`ParamLayout`], [`ValueLayout`] and [`CounterLayout`] encode and decode
//! blobs; [`type_width`] is the width rule on its own.

mod encode;
mod externs;
#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod tests;

pub use encode::{EncodeError, FieldValue};
pub use externs::{
    extern_layout, CounterKind, CounterLayout, CounterValue, ExternLayout, RegisterLayout,
    ValueLayout, ValueShape,
};

use std::ops::Range;

use crate::arena::Handle;
use crate::ir::{Action, BlockType, LocalKind, Module, Table, Type};
use crate::Span;

/// The widest key P4TC accepts, in bits (the sum of the key fields' widths).
pub const MAX_KEY_BITS: u32 = 512;
/// The most action-data parameters an action may have.
pub const MAX_PARAMS: usize = 16;
/// The most bytes an action's parameters may take, before padding.
pub const MAX_PARAM_BYTES: u32 = 124;
/// The largest digest payload, in bytes.
pub const MAX_DIGEST_BYTES: u32 = 128;
/// Size of the prefix-length word at the start of an LPM table's key.
pub const LPM_HEADER_SIZE: u32 = 4;
/// Every blob is padded to a multiple of this many bytes.
pub const BLOB_ALIGN: u32 = 4;

/// Why a layout cannot be computed. Each variant names the item at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    /// A handle names nothing in the module (the validator should have caught it).
    #[error("{what} is missing from the module (dangling handle)")]
    Dangling {
        /// What was looked up.
        what: String,
    },
    /// A key field's type has no fixed bit width.
    #[error("table `{table}`: key field `{key}` has type {ty}, which has no fixed bit width")]
    KeyType {
        /// The table, as `control.table`.
        table: String,
        /// The key field's name.
        key: String,
        /// The type, described.
        ty: String,
        /// Where it was written.
        span: Span,
    },
    /// A key field's match kind is not one P4TC tables support.
    #[error("table `{table}`: key field `{key}` uses match kind `{match_kind}`, which tables here do not support (exact, lpm, ternary, range, optional)")]
    MatchKind {
        /// The table.
        table: String,
        /// The key field's name.
        key: String,
        /// The match kind's name.
        match_kind: String,
        /// Where it was written.
        span: Span,
    },
    /// The key is wider than P4TC allows.
    #[error("table `{table}`: the key is {bits} bits wide; keys are at most {max} bits")]
    KeyTooWide {
        /// The table.
        table: String,
        /// The key's width.
        bits: u64,
        /// The limit.
        max: u32,
        /// Where it was written.
        span: Span,
    },
    /// An action parameter's type has no fixed bit width.
    #[error("action `{action}`: parameter `{param}` has type {ty}, which has no fixed bit width")]
    ParamType {
        /// The action, as `control.action` or `action`.
        action: String,
        /// The parameter.
        param: String,
        /// The type, described.
        ty: String,
        /// Where it was written.
        span: Span,
    },
    /// Too many action-data parameters.
    #[error("action `{action}` has {count} action-data parameters; actions take at most {max}")]
    TooManyParams {
        /// The action.
        action: String,
        /// How many it has.
        count: usize,
        /// The limit.
        max: usize,
        /// Where it was written.
        span: Span,
    },
    /// The action data is too large.
    #[error("action `{action}`: its parameters take {bytes} bytes; at most {max} are allowed")]
    ParamsTooLarge {
        /// The action.
        action: String,
        /// Bytes they take.
        bytes: u64,
        /// The limit.
        max: u32,
        /// Where it was written.
        span: Span,
    },
    /// An extern instance's value cannot be laid out.
    #[error("extern instance `{instance}`: {reason}")]
    Extern {
        /// The instance, as `control.instance` or `instance`.
        instance: String,
        /// What is wrong.
        reason: String,
        /// Where it was written.
        span: Span,
    },
    /// A digest payload is too large.
    #[error("digest `{instance}`: the payload takes {bytes} bytes; digests carry at most {max}")]
    DigestTooLarge {
        /// The instance.
        instance: String,
        /// Bytes it takes.
        bytes: u64,
        /// The limit.
        max: u32,
        /// Where it was written.
        span: Span,
    },
}

/// One field of a blob: where it lies and how wide it is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FieldLayout {
    /// The field's name (key field name, parameter name, struct field name).
    pub name: String,
    /// Width in bits.
    pub width: u32,
    /// Offset of its first byte in the blob.
    pub offset: u32,
    /// Bytes it takes: `ceil(width / 8)`.
    pub size: u32,
}

impl LayoutError {
    /// Where the item at fault was written (the default span for a dangling handle).
    pub fn span(&self) -> Span {
        match self {
            LayoutError::Dangling { .. } => Span::default(),
            LayoutError::KeyType { span, .. }
            | LayoutError::MatchKind { span, .. }
            | LayoutError::KeyTooWide { span, .. }
            | LayoutError::ParamType { span, .. }
            | LayoutError::TooManyParams { span, .. }
            | LayoutError::ParamsTooLarge { span, .. }
            | LayoutError::Extern { span, .. }
            | LayoutError::DigestTooLarge { span, .. } => *span,
        }
    }
}

impl FieldLayout {
    /// Bytes a field of `width` bits takes (rule 2).
    pub fn bytes_for(width: u32) -> u32 {
        width.div_ceil(8)
    }

    /// The byte range the field occupies.
    pub fn range(&self) -> Range<usize> {
        let start = self.offset as usize;
        start..start + self.size as usize
    }

    /// Leading zero bits in front of the value (rule 3).
    pub fn pad_bits(&self) -> u32 {
        // Saturating: the fields are public, and a hand-made layout must not make this panic.
        self.size.saturating_mul(8).saturating_sub(self.width)
    }
}

/// A P4 match kind, as tables here know them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MatchKind {
    /// `exact`
    Exact,
    /// `lpm`
    Lpm,
    /// `ternary`
    Ternary,
    /// `range` (laid out like the others; it needs its own lookup)
    Range,
    /// `optional` (a ternary whose mask is all ones or all zeros)
    Optional,
}

impl MatchKind {
    /// The match kind of a `match_kind` member's name, if tables support it.
    pub fn from_name(name: &str) -> Option<MatchKind> {
        match name {
            "exact" => Some(MatchKind::Exact),
            "lpm" => Some(MatchKind::Lpm),
            "ternary" => Some(MatchKind::Ternary),
            "range" => Some(MatchKind::Range),
            "optional" => Some(MatchKind::Optional),
            _ => None,
        }
    }

    /// Its P4 name.
    pub fn name(self) -> &'static str {
        match self {
            MatchKind::Exact => "exact",
            MatchKind::Lpm => "lpm",
            MatchKind::Ternary => "ternary",
            MatchKind::Range => "range",
            MatchKind::Optional => "optional",
        }
    }
}

/// How a table is looked up, from its key's match kinds (as P4TC classifies tables).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TableKind {
    /// Every field exact (or no key at all): a hash map.
    Exact,
    /// Exactly one LPM field, every other field exact: an LPM trie, LPM field last.
    Lpm,
    /// Anything else (a ternary, range or optional field, or more than one LPM field): tuple
    /// space search over the table's masks.
    Ternary,
}

impl TableKind {
    /// The name P4TC's templates use (`type exact`, ...).
    pub fn name(self) -> &'static str {
        match self {
            TableKind::Exact => "exact",
            TableKind::Lpm => "lpm",
            TableKind::Ternary => "ternary",
        }
    }
}

/// One key field's layout.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KeyField {
    /// How it matches.
    pub match_kind: MatchKind,
    /// Where it lies in the key blob (and in the mask blob).
    pub field: FieldLayout,
}

/// A table's key layout.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KeyLayout {
    /// How the table is looked up.
    pub kind: TableKind,
    /// The key fields in declaration order (their offsets say where each lies).
    pub fields: Vec<KeyField>,
    /// The sum of the fields' widths in bits: P4TC's `keysize`.
    pub width: u32,
    /// Bytes before the first field: [`LPM_HEADER_SIZE`] for an LPM table, else 0.
    pub header_size: u32,
    /// Bytes the fields take together.
    pub data_size: u32,
    /// The whole blob (map key size): header and fields, padded to [`BLOB_ALIGN`], at least 4;
    /// for an exact table, [`exact_key_size`].
    pub size: u32,
}

/// The map key size of an exact table whose fields take `data_size` bytes (rule 5): unpadded
/// up to 3 bytes, 8 from 4 to 8 bytes, else padded to [`BLOB_ALIGN`]; a keyless table's 4.
pub fn exact_key_size(data_size: u32) -> u32 {
    match data_size {
        0 => BLOB_ALIGN,
        1..=3 => data_size,
        4..=8 => 8,
        _ => align(data_size),
    }
}

impl KeyLayout {
    /// The LPM field of an LPM table.
    pub fn lpm_field(&self) -> Option<&KeyField> {
        if self.kind != TableKind::Lpm {
            return None;
        }
        self.fields.iter().find(|f| f.match_kind == MatchKind::Lpm)
    }

    /// For an LPM table, the trie prefix length of an entry whose LPM field has prefix length
    /// 0: every bit of the exact fields plus the LPM field's pad bits.
    pub fn lpm_prefix_base(&self) -> Option<u32> {
        let lpm = self.lpm_field()?;
        let before = lpm
            .field
            .offset
            .saturating_sub(self.header_size)
            .saturating_mul(8);
        Some(before.saturating_add(lpm.field.pad_bits()))
    }

    /// For an LPM table, the trie prefix length of a full-length match (used for lookups).
    pub fn max_prefix_len(&self) -> Option<u32> {
        let lpm = self.lpm_field()?;
        Some(self.lpm_prefix_base()?.saturating_add(lpm.field.width))
    }

    /// The fields in the order they lie in the blob.
    pub fn placement(&self) -> Vec<&KeyField> {
        let mut fields: Vec<&KeyField> = self.fields.iter().collect();
        fields.sort_by_key(|f| f.field.offset);
        fields
    }
}

/// One action-data parameter's layout.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ParamField {
    /// Its position among the action's parameters, from 0 (an index into `Action::params`).
    pub index: usize,
    /// Where it lies in the parameter block.
    pub field: FieldLayout,
}

/// An action's parameter block: its action-data (directionless) parameters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ParamLayout {
    /// The action-data parameters in declaration order.
    pub params: Vec<ParamField>,
    /// Bytes they take together.
    pub data_size: u32,
    /// The block's size, padded to [`BLOB_ALIGN`] (0 when there are none).
    pub size: u32,
}

/// Rounds `n` up to a multiple of [`BLOB_ALIGN`].
fn align(n: u32) -> u32 {
    n.div_ceil(BLOB_ALIGN) * BLOB_ALIGN
}

/// Why a type has no width: the type, described for a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoWidth(pub String);

/// The width in bits of a value of type `ty` (rule 1), or a description of the type when it
/// has no fixed width.
pub fn type_width(module: &Module, ty: Handle<Type>) -> Result<u32, NoWidth> {
    // Newtypes and enums may chain; the bound stops a malformed cyclic module.
    let mut ty = ty;
    for _ in 0..64 {
        let Some(t) = module.types.get(ty) else {
            return Err(NoWidth(format!("{ty:?} (missing)")));
        };
        match t {
            Type::Bool => return Ok(1),
            Type::Bits { width, .. } => return Ok(*width),
            Type::NewType { underlying, .. } => ty = *underlying,
            Type::Enum(def) => match module.enums.get(*def).and_then(|e| e.underlying) {
                Some(underlying) => ty = underlying,
                None => return Err(NoWidth(describe_type(module, ty))),
            },
            _ => return Err(NoWidth(describe_type(module, ty))),
        }
    }
    Err(NoWidth(describe_type(module, ty)))
}

/// A short description of a type for messages (`bit<8>`, `struct meta_t`, ...): the type as
/// written, with the kind of declaration where that helps.
pub fn describe_type(module: &Module, ty: Handle<Type>) -> String {
    let name = module.type_name(ty);
    match module.types.get(ty) {
        Some(Type::Composite(c)) => match module.composites.get(*c).map(|c| c.kind) {
            Some(crate::ir::CompositeKind::Header) => format!("header {name}"),
            Some(crate::ir::CompositeKind::HeaderUnion) => format!("header_union {name}"),
            Some(crate::ir::CompositeKind::Struct) => format!("struct {name}"),
            None => name,
        },
        Some(Type::Enum(e)) => match module.enums.get(*e) {
            Some(e) if e.underlying.is_none() => format!("enum {name} (not serializable)"),
            _ => format!("enum {name}"),
        },
        Some(Type::NewType { .. }) => format!("type {name}"),
        Some(Type::Extern { .. }) => format!("extern {name}"),
        Some(Type::Block(_)) => format!("block {name}"),
        _ => name,
    }
}

/// `control.name` for items local to a control, `name` otherwise: how messages name things.
pub(crate) fn dotted(module: &Module, control: Option<Handle<BlockType>>, name: &str) -> String {
    match control.and_then(|c| module.block_types.get(c)) {
        Some(block) => format!("{}.{name}", block.name),
        None => name.to_string(),
    }
}

/// The key layout of `table` (rules 1 to 5).
pub fn table_key_layout(module: &Module, table: Handle<Table>) -> Result<KeyLayout, LayoutError> {
    let t = module
        .tables
        .get(table)
        .ok_or_else(|| LayoutError::Dangling {
            what: format!("table {table:?}"),
        })?;
    let table_name = dotted(module, Some(t.control), &t.name);
    let body = &module
        .block_types
        .get(t.control)
        .ok_or_else(|| LayoutError::Dangling {
            what: format!("control {:?} of table `{}`", t.control, t.name),
        })?
        .body;

    // Widths and match kinds, in declaration order.
    let mut widths = Vec::with_capacity(t.keys.len());
    let mut kinds = Vec::with_capacity(t.keys.len());
    for key in &t.keys {
        let expr = body
            .exprs
            .get(key.expr)
            .ok_or_else(|| LayoutError::Dangling {
                what: format!("expression of key `{}` of table `{table_name}`", key.name),
            })?;
        let span = body.exprs.span(key.expr);
        let width = type_width(module, expr.ty).map_err(|NoWidth(ty)| LayoutError::KeyType {
            table: table_name.clone(),
            key: key.name.clone(),
            ty,
            span,
        })?;
        let kind_name = module.match_kinds.get(key.match_kind as usize);
        let kind = kind_name
            .and_then(|n| MatchKind::from_name(n))
            .ok_or_else(|| LayoutError::MatchKind {
                table: table_name.clone(),
                key: key.name.clone(),
                match_kind: kind_name
                    .cloned()
                    .unwrap_or_else(|| format!("#{}", key.match_kind)),
                span,
            })?;
        widths.push(width);
        kinds.push(kind);
    }

    let total_bits: u64 = widths.iter().map(|&w| u64::from(w)).sum();
    if total_bits > u64::from(MAX_KEY_BITS) {
        return Err(LayoutError::KeyTooWide {
            table: table_name,
            bits: total_bits,
            max: MAX_KEY_BITS,
            span: module.tables.span(table),
        });
    }

    let lpm_count = kinds.iter().filter(|&&k| k == MatchKind::Lpm).count();
    let all_exact = kinds.iter().all(|&k| k == MatchKind::Exact);
    let kind = if all_exact {
        TableKind::Exact
    } else if lpm_count == 1
        && kinds
            .iter()
            .all(|&k| matches!(k, MatchKind::Exact | MatchKind::Lpm))
    {
        TableKind::Lpm
    } else {
        TableKind::Ternary
    };

    // Placement order: declaration order, but the LPM field of an LPM table goes last.
    let mut order: Vec<usize> = (0..t.keys.len()).collect();
    if kind == TableKind::Lpm {
        order.sort_by_key(|&i| kinds[i] == MatchKind::Lpm);
    }
    let header_size = if kind == TableKind::Lpm {
        LPM_HEADER_SIZE
    } else {
        0
    };
    let mut offsets = vec![0u32; t.keys.len()];
    let mut offset = header_size;
    for &i in &order {
        offsets[i] = offset;
        offset += FieldLayout::bytes_for(widths[i]);
    }
    // Bounded by MAX_KEY_BITS above, so these cannot overflow.
    let data_size = offset - header_size;
    let fields = t
        .keys
        .iter()
        .enumerate()
        .map(|(i, key)| KeyField {
            match_kind: kinds[i],
            field: FieldLayout {
                name: key.name.clone(),
                width: widths[i],
                offset: offsets[i],
                size: FieldLayout::bytes_for(widths[i]),
            },
        })
        .collect();
    Ok(KeyLayout {
        kind,
        fields,
        width: total_bits as u32,
        header_size,
        data_size,
        size: match kind {
            TableKind::Exact => exact_key_size(data_size),
            _ => align(offset).max(BLOB_ALIGN),
        },
    })
}

/// The parameter block layout of `action` (rules 1 to 4 and 7).
pub fn action_param_layout(
    module: &Module,
    action: Handle<Action>,
) -> Result<ParamLayout, LayoutError> {
    let a = module
        .actions
        .get(action)
        .ok_or_else(|| LayoutError::Dangling {
            what: format!("action {action:?}"),
        })?;
    let action_name = dotted(module, a.control, &a.name);
    // A control-local action's parameters live in its control's body.
    let body = match a.control {
        Some(control) => {
            &module
                .block_types
                .get(control)
                .ok_or_else(|| LayoutError::Dangling {
                    what: format!("control of action `{action_name}`"),
                })?
                .body
        }
        None => &a.body,
    };
    let mut params = Vec::new();
    let mut offset: u64 = 0;
    for (index, &handle) in a.params.iter().enumerate() {
        let local = body
            .locals
            .get(handle)
            .ok_or_else(|| LayoutError::Dangling {
                what: format!("parameter {} of action `{action_name}`", index + 1),
            })?;
        if local.kind != LocalKind::Directionless {
            continue;
        }
        let width = type_width(module, local.ty).map_err(|NoWidth(ty)| LayoutError::ParamType {
            action: action_name.clone(),
            param: local.name.clone(),
            ty,
            span: body.locals.span(handle),
        })?;
        let size = FieldLayout::bytes_for(width);
        params.push(ParamField {
            index,
            field: FieldLayout {
                name: local.name.clone(),
                width,
                // Checked against MAX_PARAM_BYTES below before anything reads it.
                offset: offset.min(u64::from(u32::MAX)) as u32,
                size,
            },
        });
        offset += u64::from(size);
    }
    if params.len() > MAX_PARAMS {
        return Err(LayoutError::TooManyParams {
            action: action_name,
            count: params.len(),
            max: MAX_PARAMS,
            span: module.actions.span(action),
        });
    }
    if offset > u64::from(MAX_PARAM_BYTES) {
        return Err(LayoutError::ParamsTooLarge {
            action: action_name,
            bytes: offset,
            max: MAX_PARAM_BYTES,
            span: module.actions.span(action),
        });
    }
    let data_size = offset as u32;
    Ok(ParamLayout {
        params,
        data_size,
        size: align(data_size),
    })
}
