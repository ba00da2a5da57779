//! Entry keys: checking each [`KeyMatch`] against its field and encoding it with the table's
//! [`KeyLayout`] (the same functions the datapath's lookup keys come from), so a stored key and
//! a lookup key can never disagree about bytes.
//!
//! Normalisation, decided once here: bits of a ternary value outside its mask, and bits of an
//! LPM value past its prefix, are **masked off** rather than rejected (P4TC's kernel stores
//! `value & mask` too). The entry is then stored, dumped and found under the masked value, so
//! `10.0.0.1/8` and `10.0.0.0/8` name the same entry.

use num_bigint::BigUint;
use num_traits::{ToPrimitive, Zero};
use p4tc_ir::layout::{EncodeError, MatchKind, TableKind};

use crate::entry::KeyMatch;
use crate::error::RuntimeError;
use crate::model::{prefix_of_mask, KeyFieldModel, TableModel};

/// A range entry's low and high bound blobs.
pub(crate) type Bounds = (Box<[u8]>, Box<[u8]>);

/// A key as a table stores it, by table kind.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum EncodedKey {
    /// An exact table: the whole key blob.
    Exact(Box<[u8]>),
    /// An LPM table: the trie prefix length (bits counted from the first data byte: every
    /// exact bit, the LPM field's pad bits and its prefix) and the data bytes (the key blob
    /// after its prefix-length word) with the bits past the prefix cleared.
    Lpm {
        /// Significant bits of `data`.
        len: u32,
        /// The key blob without its header.
        data: Box<[u8]>,
    },
    /// A tuple-space table: the key ANDed with the mask, the mask, and for tables with range
    /// fields the bounds (key blobs holding the range fields' low and high values, zero
    /// elsewhere). Range fields are zero in the mask: they are checked per candidate.
    Ternary {
        /// `value & mask`.
        key: Box<[u8]>,
        /// The mask blob.
        mask: Box<[u8]>,
        /// Range bounds, when the table has range fields.
        bounds: Option<Box<Bounds>>,
    },
}

/// How one field matches after checking, in a form every table kind can encode.
enum FieldMatch {
    /// Every bit of the value.
    Full(BigUint),
    /// Value and mask (any: zero).
    Masked(BigUint, BigUint),
    /// A prefix of the field.
    Prefix(BigUint, u32),
    /// Inclusive bounds.
    Range(BigUint, BigUint),
}

fn ones(width: u32) -> BigUint {
    (BigUint::from(1u8) << width) - 1u8
}

fn prefix_mask(width: u32, prefix_len: u32) -> BigUint {
    ones(prefix_len) << (width - prefix_len)
}

/// `key field `f` of table t`: how errors name a field.
fn field_error(table: &TableModel, field: &KeyFieldModel, what: String) -> RuntimeError {
    RuntimeError::Invalid(format!(
        "table {}: key field `{}` ({} {} bits): {what}",
        table.dotted,
        field.name,
        field.match_kind.name(),
        field.width
    ))
}

fn describe(m: &KeyMatch) -> String {
    match m {
        KeyMatch::Exact(v) => format!("value {v:#x}"),
        KeyMatch::Lpm { value, prefix_len } => format!("prefix {value:#x}/{prefix_len}"),
        KeyMatch::Ternary { value, mask } => format!("ternary {value:#x} &&& {mask:#x}"),
        KeyMatch::Range { low, high } => format!("range {low:#x}..{high:#x}"),
        KeyMatch::Any => "wildcard `_`".into(),
    }
}

/// A key written for messages: `dstAddr=0xa000002/32, port=0x1`.
pub(crate) fn format_key(table: &TableModel, key: &[KeyMatch]) -> String {
    let parts: Vec<String> = table
        .keys
        .iter()
        .zip(key)
        .map(|(f, m)| {
            let v = match m {
                KeyMatch::Exact(v) => format!("{v:#x}"),
                KeyMatch::Lpm { value, prefix_len } => format!("{value:#x}/{prefix_len}"),
                KeyMatch::Ternary { value, mask } => format!("{value:#x}&&&{mask:#x}"),
                KeyMatch::Range { low, high } => format!("{low:#x}..{high:#x}"),
                KeyMatch::Any => "_".into(),
            };
            format!("{}={v}", f.name)
        })
        .collect();
    if parts.is_empty() {
        "(no key)".into()
    } else {
        parts.join(", ")
    }
}

/// Checks one field's match and brings it to a [`FieldMatch`] and its normalised
/// [`KeyMatch`].
fn check_field(
    table: &TableModel,
    field: &KeyFieldModel,
    m: &KeyMatch,
) -> Result<(FieldMatch, KeyMatch), RuntimeError> {
    let width = field.width;
    let fits = |v: &BigUint, what: &str| {
        if v.bits() > u64::from(width) {
            Err(field_error(
                table,
                field,
                format!("{what} {v:#x} does not fit in {width} bits"),
            ))
        } else {
            Ok(())
        }
    };
    let refuse = || {
        field_error(
            table,
            field,
            format!(
                "a {} field cannot take a {}",
                field.match_kind.name(),
                describe(m)
            ),
        )
    };
    let all = || ones(width);
    match field.match_kind {
        MatchKind::Exact => {
            let v = match m {
                KeyMatch::Exact(v) => v,
                KeyMatch::Ternary { value, mask } if *mask == all() => value,
                KeyMatch::Lpm { value, prefix_len } if *prefix_len == width => value,
                KeyMatch::Range { low, high } if low == high => low,
                _ => return Err(refuse()),
            };
            fits(v, "value")?;
            Ok((FieldMatch::Full(v.clone()), KeyMatch::Exact(v.clone())))
        }
        MatchKind::Lpm => {
            let (value, prefix_len) = match m {
                KeyMatch::Exact(v) => (v.clone(), width),
                KeyMatch::Lpm { value, prefix_len } => (value.clone(), *prefix_len),
                KeyMatch::Any => (BigUint::zero(), 0),
                KeyMatch::Ternary { value, mask } => {
                    fits(mask, "mask")?;
                    let p = prefix_of_mask(mask, width).ok_or_else(|| {
                        field_error(
                            table,
                            field,
                            format!("mask {mask:#x} is not a prefix (lpm fields take prefixes)"),
                        )
                    })?;
                    (value.clone(), p)
                }
                KeyMatch::Range { .. } => return Err(refuse()),
            };
            fits(&value, "value")?;
            if prefix_len > width {
                return Err(field_error(
                    table,
                    field,
                    format!("prefix length {prefix_len} is longer than the field"),
                ));
            }
            let value = value & prefix_mask(width, prefix_len);
            let normal = match m {
                KeyMatch::Exact(_) => KeyMatch::Exact(value.clone()),
                KeyMatch::Any => KeyMatch::Any,
                _ => KeyMatch::Lpm {
                    value: value.clone(),
                    prefix_len,
                },
            };
            Ok((FieldMatch::Prefix(value, prefix_len), normal))
        }
        MatchKind::Ternary | MatchKind::Optional => {
            let (value, mask) = match m {
                KeyMatch::Exact(v) => (v.clone(), all()),
                KeyMatch::Any => (BigUint::zero(), BigUint::zero()),
                KeyMatch::Ternary { value, mask } => (value.clone(), mask.clone()),
                KeyMatch::Lpm { value, prefix_len } if field.match_kind == MatchKind::Ternary => {
                    if *prefix_len > width {
                        return Err(field_error(
                            table,
                            field,
                            format!("prefix length {prefix_len} is longer than the field"),
                        ));
                    }
                    (value.clone(), prefix_mask(width, *prefix_len))
                }
                KeyMatch::Range { low, high } if low == high => (low.clone(), all()),
                _ => return Err(refuse()),
            };
            fits(&value, "value")?;
            fits(&mask, "mask")?;
            if field.match_kind == MatchKind::Optional && !(mask.is_zero() || mask == all()) {
                return Err(field_error(
                    table,
                    field,
                    format!("an optional field matches all bits or none, not mask {mask:#x}"),
                ));
            }
            let value = value & &mask;
            let normal = match m {
                KeyMatch::Exact(_) => KeyMatch::Exact(value.clone()),
                KeyMatch::Any => KeyMatch::Any,
                _ => KeyMatch::Ternary {
                    value: value.clone(),
                    mask: mask.clone(),
                },
            };
            Ok((FieldMatch::Masked(value, mask), normal))
        }
        MatchKind::Range => {
            let (low, high) = match m {
                KeyMatch::Exact(v) => (v.clone(), v.clone()),
                KeyMatch::Any => (BigUint::zero(), all()),
                KeyMatch::Range { low, high } => (low.clone(), high.clone()),
                KeyMatch::Ternary { value, mask } if *mask == all() => {
                    (value.clone(), value.clone())
                }
                _ => return Err(refuse()),
            };
            fits(&low, "low bound")?;
            fits(&high, "high bound")?;
            if low > high {
                return Err(field_error(
                    table,
                    field,
                    format!("empty range {low:#x}..{high:#x} (low above high)"),
                ));
            }
            Ok((FieldMatch::Range(low, high), m.clone()))
        }
    }
}

fn encode_error(table: &TableModel, e: EncodeError) -> RuntimeError {
    RuntimeError::Invalid(format!("table {}: {e}", table.dotted))
}

/// The width checks of [`encode_entry_key`] alone, for the common case it encodes without a
/// copy (an exact table given exact values, as many as it has fields): `None` for any other
/// key. With the checks passed, the key is its own normal form and encodes.
pub(crate) fn check_exact_key(
    table: &TableModel,
    key: &[KeyMatch],
) -> Option<Result<(), RuntimeError>> {
    if key.len() != table.keys.len() || table.key_layout.kind != TableKind::Exact {
        return None;
    }
    if !key.iter().all(|m| matches!(m, KeyMatch::Exact(_))) {
        return None;
    }
    for (field, m) in table.keys.iter().zip(key) {
        if let KeyMatch::Exact(v) = m {
            if v.bits() > u64::from(field.width) {
                return Some(Err(field_error(
                    table,
                    field,
                    format!("value {v:#x} does not fit in {} bits", field.width),
                )));
            }
        }
    }
    Some(Ok(()))
}

/// Checks `key` against `table`'s fields and encodes it; returns the stored key and the key
/// as the entry keeps it (normalised, see the module doc), `None` when that is `key` itself.
pub(crate) fn encode_entry_key(
    table: &TableModel,
    key: &[KeyMatch],
) -> Result<(EncodedKey, Option<Vec<KeyMatch>>), RuntimeError> {
    if key.len() != table.keys.len() {
        return Err(RuntimeError::Invalid(format!(
            "table {} has {} key fields ({}); {} given",
            table.dotted,
            table.keys.len(),
            table
                .keys
                .iter()
                .map(|k| k.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            key.len()
        )));
    }
    let layout = &table.key_layout;
    // The common case, kept free of copies: an exact table given exact values.
    if layout.kind == TableKind::Exact && key.iter().all(|m| matches!(m, KeyMatch::Exact(_))) {
        let mut values = Vec::with_capacity(key.len());
        for (field, m) in table.keys.iter().zip(key) {
            if let KeyMatch::Exact(v) = m {
                if v.bits() > u64::from(field.width) {
                    return Err(field_error(
                        table,
                        field,
                        format!("value {v:#x} does not fit in {} bits", field.width),
                    ));
                }
                values.push(v);
            }
        }
        // Values that fit a u128 (all, in most tables) are written without a byte vector each.
        let small: Option<Vec<u128>> = values.iter().map(|v| v.to_u128()).collect();
        let blob = match small {
            Some(small) => layout.encode_key(&small),
            None => layout.encode_key(&values),
        }
        .map_err(|e| encode_error(table, e))?;
        return Ok((EncodedKey::Exact(blob.into_boxed_slice()), None));
    }
    let mut matches = Vec::with_capacity(key.len());
    let mut normal = Vec::with_capacity(key.len());
    for (field, m) in table.keys.iter().zip(key) {
        let (fm, n) = check_field(table, field, m)?;
        matches.push(fm);
        normal.push(n);
    }
    let encoded = match layout.kind {
        TableKind::Exact => {
            let values: Vec<&BigUint> = matches
                .iter()
                .map(|m| match m {
                    FieldMatch::Full(v)
                    | FieldMatch::Masked(v, _)
                    | FieldMatch::Prefix(v, _)
                    | FieldMatch::Range(v, _) => v,
                })
                .collect();
            let blob = layout
                .encode_key(&values)
                .map_err(|e| encode_error(table, e))?;
            EncodedKey::Exact(blob.into_boxed_slice())
        }
        TableKind::Lpm => {
            let mut prefix = 0;
            let values: Vec<&BigUint> = matches
                .iter()
                .map(|m| match m {
                    FieldMatch::Prefix(v, p) => {
                        prefix = *p;
                        v
                    }
                    FieldMatch::Full(v) | FieldMatch::Masked(v, _) | FieldMatch::Range(v, _) => v,
                })
                .collect();
            let blob = layout
                .encode_lpm_entry(&values, prefix)
                .map_err(|e| encode_error(table, e))?;
            let base = layout.lpm_prefix_base().unwrap_or(0);
            EncodedKey::Lpm {
                len: base + prefix,
                data: blob[layout.header_size as usize..].into(),
            }
        }
        TableKind::Ternary => {
            let zero = BigUint::zero();
            let mut values = Vec::with_capacity(matches.len());
            let mut masks = Vec::with_capacity(matches.len());
            let mut lows = Vec::with_capacity(matches.len());
            let mut highs = Vec::with_capacity(matches.len());
            let mut has_range = false;
            for (m, field) in matches.iter().zip(&table.keys) {
                match m {
                    FieldMatch::Full(v) => {
                        values.push(v.clone());
                        masks.push(ones(field.width));
                        lows.push(zero.clone());
                        highs.push(zero.clone());
                    }
                    FieldMatch::Masked(v, k) => {
                        values.push(v.clone());
                        masks.push(k.clone());
                        lows.push(zero.clone());
                        highs.push(zero.clone());
                    }
                    FieldMatch::Prefix(v, p) => {
                        values.push(v.clone());
                        masks.push(prefix_mask(field.width, *p));
                        lows.push(zero.clone());
                        highs.push(zero.clone());
                    }
                    FieldMatch::Range(lo, hi) => {
                        has_range = true;
                        values.push(zero.clone());
                        masks.push(zero.clone());
                        lows.push(lo.clone());
                        highs.push(hi.clone());
                    }
                }
            }
            let (key, mask) = layout
                .encode_ternary_entry(&values, &masks)
                .map_err(|e| encode_error(table, e))?;
            let bounds = if has_range {
                let lo = layout
                    .encode_key(&lows)
                    .map_err(|e| encode_error(table, e))?;
                let hi = layout
                    .encode_key(&highs)
                    .map_err(|e| encode_error(table, e))?;
                Some(Box::new((lo.into_boxed_slice(), hi.into_boxed_slice())))
            } else {
                None
            };
            EncodedKey::Ternary {
                key: key.into_boxed_slice(),
                mask: mask.into_boxed_slice(),
                bounds,
            }
        }
    };
    Ok((encoded, Some(normal)))
}

/// The key of an entry the datapath adds after a miss on lookup key `blob`: every field
/// matched in full.
pub(crate) fn key_of_lookup_blob(
    table: &TableModel,
    blob: &[u8],
) -> Result<Vec<KeyMatch>, RuntimeError> {
    let values = table
        .key_layout
        .decode_key(blob)
        .map_err(|e| encode_error(table, e))?;
    Ok(table
        .keys
        .iter()
        .zip(values)
        .map(|(f, v)| match f.match_kind {
            MatchKind::Exact => KeyMatch::Exact(v),
            MatchKind::Lpm => KeyMatch::Lpm {
                value: v,
                prefix_len: f.width,
            },
            MatchKind::Ternary | MatchKind::Optional => KeyMatch::Ternary {
                value: v,
                mask: ones(f.width),
            },
            MatchKind::Range => KeyMatch::Range {
                low: v.clone(),
                high: v,
            },
        })
        .collect())
}
