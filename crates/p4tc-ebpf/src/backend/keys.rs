//! Entry keys to map keys and back, by the table's `KeyLayout` (the layout the generated
//! program reads): exact and LPM tables have one map key per entry; tuple-space tables one
//! (masked key, mask) per combination of a range field's prefixes.

use num_bigint::BigUint;
use num_traits::{ToPrimitive, Zero};
use p4tc_ir::layout::{MatchKind, TableKind};
use p4tc_runtime::model::TableModel;
use p4tc_runtime::{KeyMatch, RuntimeError};

use super::Element;
use crate::entry::range_to_prefixes;
use crate::TableSpec;

/// The map keys of one entry.
pub(super) enum MapKey {
    /// Exact and LPM tables: the map key.
    Plain(Vec<u8>),
    /// Tuple-space tables: each piece's masked key blob and mask blob (the mask's slot index
    /// goes in front of the key when it is known).
    Tuple(Vec<(Vec<u8>, Vec<u8>)>),
}

fn ones(width: u32) -> BigUint {
    (BigUint::from(1u8) << width) - 1u8
}

fn prefix_mask(width: u32, prefix_len: u32) -> BigUint {
    ones(prefix_len) << (width - prefix_len.min(width))
}

fn layout_error(tm: &TableModel, e: impl std::fmt::Display) -> RuntimeError {
    RuntimeError::Invalid(format!("table {}: {e}", tm.dotted))
}

/// The map keys of `normal`, a key `check_entry_key` accepted and normalised.
pub(super) fn map_keys(
    tm: &TableModel,
    spec: &TableSpec,
    normal: &[KeyMatch],
) -> Result<MapKey, RuntimeError> {
    let layout = &spec.key;
    // The common case, without the per-field (value, mask) lists: an exact table's key.
    if layout.kind == TableKind::Exact {
        // Up to eight fields that each fit a u128: no vector, no byte vector per value.
        let mut few = [0u128; 8];
        let small = normal.len() <= few.len()
            && normal.iter().zip(few.iter_mut()).all(|(m, slot)| match m {
                KeyMatch::Exact(v) => v.to_u128().map(|n| *slot = n).is_some(),
                _ => false,
            });
        if small {
            return Ok(MapKey::Plain(
                layout
                    .encode_key(&few[..normal.len()])
                    .map_err(|e| layout_error(tm, e))?,
            ));
        }
        let values: Option<Vec<&BigUint>> = normal
            .iter()
            .map(|m| match m {
                KeyMatch::Exact(v) => Some(v),
                _ => None,
            })
            .collect();
        if let Some(values) = values {
            return Ok(MapKey::Plain(
                layout
                    .encode_key(&values)
                    .map_err(|e| layout_error(tm, e))?,
            ));
        }
    }
    // Per field: the (value, mask) pairs it matches (several for a range), and the LPM prefix.
    let mut alternatives: Vec<Vec<(BigUint, BigUint)>> = Vec::with_capacity(normal.len());
    let mut prefix = None;
    for (f, m) in tm.keys.iter().zip(normal) {
        let w = f.width;
        let alts = match (f.match_kind, m) {
            (MatchKind::Range, m) => {
                let (lo, hi) = match m {
                    KeyMatch::Exact(v) => (v.clone(), v.clone()),
                    KeyMatch::Range { low, high } => (low.clone(), high.clone()),
                    KeyMatch::Ternary { value, .. } => (value.clone(), value.clone()),
                    _ => (BigUint::zero(), ones(w)),
                };
                range_to_prefixes(&lo, &hi, w)
            }
            (kind, KeyMatch::Lpm { value, prefix_len }) => {
                if kind == MatchKind::Lpm {
                    prefix = Some(*prefix_len);
                }
                vec![(value.clone(), prefix_mask(w, *prefix_len))]
            }
            (kind, KeyMatch::Any) => {
                if kind == MatchKind::Lpm {
                    prefix = Some(0);
                }
                vec![(BigUint::zero(), BigUint::zero())]
            }
            (kind, KeyMatch::Exact(v)) => {
                if kind == MatchKind::Lpm {
                    prefix = Some(w);
                }
                vec![(v.clone(), ones(w))]
            }
            (_, KeyMatch::Ternary { value, mask }) => vec![(value & mask, mask.clone())],
            (_, KeyMatch::Range { low, .. }) => vec![(low.clone(), ones(w))],
        };
        alternatives.push(alts);
    }
    match layout.kind {
        TableKind::Exact => {
            let values: Vec<&BigUint> = alternatives.iter().map(|a| &a[0].0).collect();
            Ok(MapKey::Plain(
                layout
                    .encode_key(&values)
                    .map_err(|e| layout_error(tm, e))?,
            ))
        }
        TableKind::Lpm => {
            let values: Vec<&BigUint> = alternatives.iter().map(|a| &a[0].0).collect();
            let width = layout.lpm_field().map_or(0, |f| f.field.width);
            Ok(MapKey::Plain(
                layout
                    .encode_lpm_entry(&values, prefix.unwrap_or(width))
                    .map_err(|e| layout_error(tm, e))?,
            ))
        }
        TableKind::Ternary => {
            let mut combos: Vec<(Vec<BigUint>, Vec<BigUint>)> = vec![(Vec::new(), Vec::new())];
            for alts in &alternatives {
                let mut next = Vec::with_capacity(combos.len() * alts.len());
                for (vs, ms) in &combos {
                    for (v, m) in alts {
                        let mut vs = vs.clone();
                        let mut ms = ms.clone();
                        vs.push(v.clone());
                        ms.push(m.clone());
                        next.push((vs, ms));
                    }
                }
                combos = next;
            }
            let mut out = Vec::with_capacity(combos.len());
            for (vs, ms) in combos {
                out.push(
                    layout
                        .encode_ternary_entry(&vs, &ms)
                        .map_err(|e| layout_error(tm, e))?,
                );
            }
            Ok(MapKey::Tuple(out))
        }
    }
}

/// A tuple-space element's field values and masks.
fn tuple_fields(
    tm: &TableModel,
    spec: &TableSpec,
    slots: &[(Vec<u8>, u32)],
    e: &Element,
) -> Result<(Vec<BigUint>, Vec<BigUint>), RuntimeError> {
    let idx = u32::from_ne_bytes([e.key[0], e.key[1], e.key[2], e.key[3]]) as usize;
    let mask = slots.get(idx).ok_or_else(|| {
        RuntimeError::Invalid(format!(
            "table {}: an entry names mask slot {idx}, which is not in use",
            tm.dotted
        ))
    })?;
    let values = spec
        .key
        .decode_key(&e.key[4..])
        .map_err(|err| layout_error(tm, err))?;
    let masks = spec
        .key
        .decode_key(&mask.0)
        .map_err(|err| layout_error(tm, err))?;
    Ok((values, masks))
}

/// Which entry a tuple-space element belongs to: its tag when the control plane wrote it (all
/// pieces of a range share one), else its priority, action and non-range fields.
pub(super) fn group_id(
    tm: &TableModel,
    spec: &TableSpec,
    slots: &[(Vec<u8>, u32)],
    e: &Element,
) -> Vec<u8> {
    let mut id = e.head.priority.to_ne_bytes().to_vec();
    id.extend_from_slice(&e.head.tag.to_ne_bytes());
    if e.head.tag != 0 {
        return id;
    }
    id.extend_from_slice(&e.head.action.to_ne_bytes());
    match tuple_fields(tm, spec, slots, e) {
        Ok((values, masks)) => {
            for ((f, v), m) in tm.keys.iter().zip(values).zip(masks) {
                if f.match_kind != MatchKind::Range {
                    id.extend_from_slice(&v.to_bytes_be());
                    id.push(b'/');
                    id.extend_from_slice(&m.to_bytes_be());
                    id.push(b',');
                }
            }
        }
        // Undecodable: on its own.
        Err(_) => id.extend_from_slice(&e.key),
    }
    id
}

/// The key of an entry from its elements, in the canonical form (see the module doc of
/// `backend`).
pub(super) fn decode_key(
    tm: &TableModel,
    spec: &TableSpec,
    slots: &[(Vec<u8>, u32)],
    elements: &[Element],
) -> Result<Vec<KeyMatch>, RuntimeError> {
    let first = &elements[0];
    match spec.key.kind {
        TableKind::Exact => Ok(spec
            .key
            .decode_key(&first.key)
            .map_err(|e| layout_error(tm, e))?
            .into_iter()
            .map(KeyMatch::Exact)
            .collect()),
        TableKind::Lpm => {
            let (values, prefix) = spec
                .key
                .decode_lpm_entry(&first.key)
                .map_err(|e| layout_error(tm, e))?;
            Ok(tm
                .keys
                .iter()
                .zip(values)
                .map(|(f, v)| match f.match_kind {
                    MatchKind::Lpm if prefix == 0 => KeyMatch::Any,
                    MatchKind::Lpm => KeyMatch::Lpm {
                        value: v,
                        prefix_len: prefix,
                    },
                    _ => KeyMatch::Exact(v),
                })
                .collect())
        }
        TableKind::Ternary => {
            let mut out: Vec<KeyMatch> = Vec::with_capacity(tm.keys.len());
            let mut bounds: Vec<Option<(BigUint, BigUint)>> = vec![None; tm.keys.len()];
            for (n, e) in elements.iter().enumerate() {
                let (values, masks) = tuple_fields(tm, spec, slots, e)?;
                for (i, ((f, v), m)) in tm.keys.iter().zip(values).zip(masks).enumerate() {
                    if f.match_kind == MatchKind::Range {
                        let lo = v.clone();
                        let hi = &v | (ones(f.width) ^ &m);
                        bounds[i] = Some(match bounds[i].take() {
                            None => (lo, hi),
                            Some((a, b)) => (a.min(lo), b.max(hi)),
                        });
                        if n == 0 {
                            out.push(KeyMatch::Any);
                        }
                        continue;
                    }
                    if n > 0 {
                        continue;
                    }
                    out.push(match f.match_kind {
                        _ if m.is_zero() => KeyMatch::Any,
                        MatchKind::Exact | MatchKind::Optional => KeyMatch::Exact(v),
                        MatchKind::Lpm => KeyMatch::Lpm {
                            value: v,
                            prefix_len: m.count_ones() as u32,
                        },
                        _ => KeyMatch::Ternary { value: v, mask: m },
                    });
                }
            }
            for (i, b) in bounds.into_iter().enumerate() {
                if let Some((low, high)) = b {
                    out[i] = KeyMatch::Range { low, high };
                }
            }
            Ok(out)
        }
    }
}
