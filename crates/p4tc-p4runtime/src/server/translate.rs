//! P4Runtime's table entries to the object model's and back: match fields to [`KeyMatch`]es
//! (with the spec's rules on don't-care fields, masks and prefixes), priorities (the larger
//! wins in P4Runtime, the smaller in P4TC), actions and their parameters, idle timeouts.

use num_bigint::BigUint;
use p4runtime_proto::p4::v1 as p4v1;
use p4tc_ir::layout::MatchKind;
use p4tc_runtime::{ActionCall, EntryInfo, EntrySpec, KeyMatch, Priority};

use super::errors::Failure;
use super::schema::{Schema, TableInfo};
use super::values::{all_ones, decode, encode, prefix_mask};

use p4v1::field_match::FieldMatchType;

/// The table of a table entry.
pub fn table(schema: &Schema, table_id: u32) -> Result<&TableInfo, Failure> {
    schema
        .tables
        .get(&table_id)
        .ok_or_else(|| Failure::not_found(format!("no table with id {table_id:#x}")))
}

/// The key of an entry, one match per key field in the model's order (`Any` for fields the
/// entry leaves out).
pub fn key(t: &TableInfo, matches: &[p4v1::FieldMatch]) -> Result<Vec<KeyMatch>, Failure> {
    let mut key = vec![KeyMatch::Any; t.fields.len()];
    let mut seen = vec![false; t.fields.len()];
    for m in matches {
        let &i = t.field_at.get(&m.field_id).ok_or_else(|| {
            Failure::invalid(format!(
                "table {}: no match field with id {}",
                t.name, m.field_id
            ))
        })?;
        if std::mem::replace(&mut seen[i], true) {
            return Err(Failure::invalid(format!(
                "table {}: match field {} given twice",
                t.name, m.field_id
            )));
        }
        let f = &t.fields[i];
        let width = f.width;
        let what = || format!("table {}: match field {}", t.name, f.id);
        let kind_error = |got: &str| {
            Failure::invalid(format!(
                "table {}: match field {} is {}, not {got}",
                t.name,
                f.id,
                f.kind.name()
            ))
        };
        let km = match (&m.field_match_type, f.kind) {
            (Some(FieldMatchType::Exact(e)), MatchKind::Exact) => {
                KeyMatch::Exact(decode(&e.value, width, &what)?)
            }
            (Some(FieldMatchType::Lpm(l)), MatchKind::Lpm) => {
                let value = decode(&l.value, width, &what)?;
                let prefix_len = u32::try_from(l.prefix_len)
                    .ok()
                    .filter(|p| *p <= width)
                    .ok_or_else(|| {
                        Failure::invalid(format!(
                            "{}: prefix length {} is outside 1..={width}",
                            what(),
                            l.prefix_len
                        ))
                    })?;
                if prefix_len == 0 {
                    return Err(Failure::invalid(format!(
                        "{}: a prefix length of 0 is a don't care: leave the field out",
                        what()
                    )));
                }
                if (&value & prefix_mask(width, prefix_len)) != value {
                    return Err(Failure::invalid(format!(
                        "{}: value has bits set past the /{prefix_len} prefix",
                        what()
                    )));
                }
                KeyMatch::Lpm { value, prefix_len }
            }
            (Some(FieldMatchType::Ternary(tm)), MatchKind::Ternary) => {
                let value = decode(&tm.value, width, &what)?;
                let mask = decode(&tm.mask, width, &what)?;
                if mask == BigUint::default() {
                    return Err(Failure::invalid(format!(
                        "{}: an all-zero mask is a don't care: leave the field out",
                        what()
                    )));
                }
                if (&value & &mask) != value {
                    return Err(Failure::invalid(format!(
                        "{}: value has bits set outside the mask",
                        what()
                    )));
                }
                KeyMatch::Ternary { value, mask }
            }
            (Some(FieldMatchType::Range(r)), MatchKind::Range) => {
                let low = decode(&r.low, width, &what)?;
                let high = decode(&r.high, width, &what)?;
                if low > high {
                    return Err(Failure::invalid(format!(
                        "{}: empty range (low above high)",
                        what()
                    )));
                }
                if low == BigUint::default() && high == all_ones(width) {
                    return Err(Failure::invalid(format!(
                        "{}: the full range is a don't care: leave the field out",
                        what()
                    )));
                }
                KeyMatch::Range { low, high }
            }
            (Some(FieldMatchType::Optional(o)), MatchKind::Optional) => {
                KeyMatch::Exact(decode(&o.value, width, &what)?)
            }
            (Some(FieldMatchType::Exact(_)), _) => return Err(kind_error("exact")),
            (Some(FieldMatchType::Lpm(_)), _) => return Err(kind_error("lpm")),
            (Some(FieldMatchType::Ternary(_)), _) => return Err(kind_error("ternary")),
            (Some(FieldMatchType::Range(_)), _) => return Err(kind_error("range")),
            (Some(FieldMatchType::Optional(_)), _) => return Err(kind_error("optional")),
            (Some(FieldMatchType::Other(_)), _) | (None, _) => {
                return Err(Failure::invalid(format!(
                    "{}: no match value of a known kind",
                    what()
                )))
            }
        };
        key[i] = km;
    }
    for (f, seen) in t.fields.iter().zip(&seen) {
        if !seen && f.kind == MatchKind::Exact {
            return Err(Failure::invalid(format!(
                "table {}: exact match field {} is missing (exact fields cannot be left out)",
                t.name, f.id
            )));
        }
    }
    Ok(key)
}

/// The priority of an entry of `t` (P4Runtime's, the larger wins), as the object model's.
pub fn priority(t: &TableInfo, priority: i32) -> Result<Option<Priority>, Failure> {
    match (t.has_priority, priority) {
        (true, p) if p > 0 => Ok(Some(Priority::from_larger_wins(p as u64))),
        (true, p) => Err(Failure::invalid(format!(
            "table {}: entries need a priority above 0 (got {p})",
            t.name
        ))),
        (false, 0) => Ok(None),
        (false, p) => Err(Failure::invalid(format!(
            "table {}: its entries take no priority (only exact and lpm fields), got {p}",
            t.name
        ))),
    }
}

/// An entry's (or default entry's) action.
pub fn action(t: &TableInfo, action: &p4v1::TableAction) -> Result<ActionCall, Failure> {
    use p4v1::table_action::Type;
    let a = match &action.r#type {
        Some(Type::Action(a)) => a,
        Some(_) => {
            return Err(Failure::unimplemented(format!(
                "table {}: action profiles and action sets are not supported",
                t.name
            )))
        }
        None => {
            return Err(Failure::invalid(format!(
                "table {}: the action is empty",
                t.name
            )))
        }
    };
    let info = t.actions.get(&a.action_id).ok_or_else(|| {
        Failure::invalid(format!(
            "table {}: action id {:#x} is not one of its actions",
            t.name, a.action_id
        ))
    })?;
    let mut params: Vec<Option<BigUint>> = vec![None; info.params.len()];
    for p in &a.params {
        let i = info
            .params
            .iter()
            .position(|(id, _)| *id == p.param_id)
            .ok_or_else(|| {
                Failure::invalid(format!(
                    "action {}: no parameter with id {}",
                    info.name, p.param_id
                ))
            })?;
        let width = info.params[i].1;
        let what = || format!("action {}: parameter {}", info.name, p.param_id);
        if params[i].replace(decode(&p.value, width, &what)?).is_some() {
            return Err(Failure::invalid(format!(
                "action {}: parameter {} given twice",
                info.name, p.param_id
            )));
        }
    }
    let params = params
        .into_iter()
        .zip(&info.params)
        .map(|(v, (id, _))| {
            v.ok_or_else(|| {
                Failure::invalid(format!("action {}: parameter {id} is missing", info.name))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ActionCall {
        action: info.handle,
        params,
    })
}

/// The match fields of a key, as P4Runtime writes them (don't-care fields left out).
pub fn field_matches(t: &TableInfo, key: &[KeyMatch]) -> Vec<p4v1::FieldMatch> {
    use p4v1::field_match::{Exact, Lpm, Optional, Range, Ternary};
    let mut out = Vec::with_capacity(key.len());
    for (f, m) in t.fields.iter().zip(key) {
        let full = all_ones(f.width);
        let ty = match (f.kind, m) {
            (_, KeyMatch::Any) => None,
            (MatchKind::Exact, KeyMatch::Exact(v)) => {
                Some(FieldMatchType::Exact(Exact { value: encode(v) }))
            }
            (MatchKind::Lpm, KeyMatch::Exact(v)) => Some(FieldMatchType::Lpm(Lpm {
                value: encode(v),
                prefix_len: f.width as i32,
            })),
            (MatchKind::Lpm, KeyMatch::Lpm { prefix_len: 0, .. }) => None,
            (MatchKind::Lpm, KeyMatch::Lpm { value, prefix_len }) => {
                Some(FieldMatchType::Lpm(Lpm {
                    value: encode(value),
                    prefix_len: *prefix_len as i32,
                }))
            }
            (MatchKind::Ternary, KeyMatch::Exact(v)) => Some(FieldMatchType::Ternary(Ternary {
                value: encode(v),
                mask: encode(&full),
            })),
            (MatchKind::Ternary, KeyMatch::Ternary { mask, .. }) if mask.bits() == 0 => None,
            (MatchKind::Ternary, KeyMatch::Ternary { value, mask }) => {
                Some(FieldMatchType::Ternary(Ternary {
                    value: encode(value),
                    mask: encode(mask),
                }))
            }
            (MatchKind::Optional, KeyMatch::Exact(v)) => {
                Some(FieldMatchType::Optional(Optional { value: encode(v) }))
            }
            (MatchKind::Optional, KeyMatch::Ternary { value, mask }) if *mask == full => {
                Some(FieldMatchType::Optional(Optional {
                    value: encode(value),
                }))
            }
            (MatchKind::Range, KeyMatch::Range { low, high })
                if low.bits() == 0 && *high == full =>
            {
                None
            }
            (MatchKind::Range, KeyMatch::Range { low, high }) => {
                Some(FieldMatchType::Range(Range {
                    low: encode(low),
                    high: encode(high),
                }))
            }
            (MatchKind::Range, KeyMatch::Exact(v)) => Some(FieldMatchType::Range(Range {
                low: encode(v),
                high: encode(v),
            })),
            // Forms the backends do not read back; written as the nearest P4Runtime form.
            (_, KeyMatch::Lpm { value, prefix_len }) => Some(FieldMatchType::Lpm(Lpm {
                value: encode(value),
                prefix_len: *prefix_len as i32,
            })),
            (_, KeyMatch::Ternary { value, mask }) => Some(FieldMatchType::Ternary(Ternary {
                value: encode(value),
                mask: encode(mask),
            })),
            (_, KeyMatch::Range { low, high }) => Some(FieldMatchType::Range(Range {
                low: encode(low),
                high: encode(high),
            })),
        };
        if let Some(ty) = ty {
            out.push(p4v1::FieldMatch {
                field_id: f.id,
                field_match_type: Some(ty),
            });
        }
    }
    out
}

/// An action call as P4Runtime writes it.
pub fn table_action(t: &TableInfo, call: &ActionCall) -> Option<p4v1::TableAction> {
    let info = t.action_by_handle(call.action)?;
    Some(p4v1::TableAction {
        r#type: Some(p4v1::table_action::Type::Action(p4v1::Action {
            action_id: info.id,
            params: info
                .params
                .iter()
                .zip(&call.params)
                .map(|((id, _), v)| p4v1::action::Param {
                    param_id: *id,
                    value: encode(v),
                })
                .collect(),
        })),
    })
}

/// An entry as P4Runtime reads it back.
pub fn table_entry(t: &TableInfo, e: &EntryInfo) -> p4v1::TableEntry {
    entry_of_spec(t, &e.spec, e.is_const)
}

/// An entry spec as P4Runtime writes it.
pub fn entry_of_spec(t: &TableInfo, spec: &EntrySpec, is_const: bool) -> p4v1::TableEntry {
    p4v1::TableEntry {
        table_id: t.id,
        r#match: field_matches(t, &spec.key),
        action: spec.action.as_ref().and_then(|a| table_action(t, a)),
        priority: match spec.priority {
            Some(p) if t.has_priority => i32::try_from(p.to_larger_wins()).unwrap_or(i32::MAX),
            _ => 0,
        },
        is_const,
        ..Default::default()
    }
}
