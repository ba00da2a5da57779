//! STF's table entries in the object model's terms: key fields and action arguments found by
//! name, values converted by the field's match kind, priorities turned around. Public so that
//! every datapath's STF runner reads entries the same way.

use num_bigint::BigUint;
use p4tc_ir::layout::MatchKind;
use p4tc_runtime::model::{prefix_of_mask, KeyFieldModel, TableModel};
use p4tc_runtime::{ActionCall, KeyMatch, PipelineModel, Priority};

use crate::stf::{self, Key, KeyValue, Number};

/// The key field of `table` that STF's `name` means.
///
/// STF files from p4c name keys by the control-plane name (`dstAddr`, from `@name`) or by the
/// key expression (`hdr.ipv4.dstAddr`); either may be the longer one, so a name matches when
/// it equals the field's name or one is the other's dotted suffix. An ambiguous suffix is an
/// error rather than a guess.
pub fn key_field(table: &TableModel, name: &str) -> Result<usize, String> {
    if let Some((i, _)) = table.key_by_name(name) {
        return Ok(i);
    }
    let suffix_of = |long: &str, short: &str| {
        long.len() > short.len()
            && long.ends_with(short)
            && long.as_bytes()[long.len() - short.len() - 1] == b'.'
    };
    let found: Vec<usize> = table
        .keys
        .iter()
        .enumerate()
        .filter(|(_, k)| suffix_of(name, &k.name) || suffix_of(&k.name, name))
        .map(|(i, _)| i)
        .collect();
    match found.as_slice() {
        [i] => Ok(*i),
        [] => Err(format!(
            "table {} has no key field `{name}` (its keys: {})",
            table.dotted,
            key_names(table)
        )),
        _ => Err(format!(
            "key `{name}` of table {} is ambiguous (its keys: {})",
            table.dotted,
            key_names(table)
        )),
    }
}

fn key_names(table: &TableModel) -> String {
    if table.keys.is_empty() {
        return "none".into();
    }
    table
        .keys
        .iter()
        .map(|k| k.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The table STF's `name` means.
pub fn table<'p>(pipeline: &'p PipelineModel, name: &str) -> Result<&'p TableModel, String> {
    pipeline.table_by_name(name).ok_or_else(|| {
        let names: Vec<&str> = pipeline.tables.iter().map(|t| t.dotted.as_str()).collect();
        format!(
            "no table `{name}` (tables: {})",
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        )
    })
}

/// The key of an entry, one match per field in declaration order.
///
/// Fields the line leaves out match anything when their kind can (ternary, lpm, range,
/// optional), as in p4c's runners; a missing exact field is an error.
pub fn key(table: &TableModel, keys: &[Key]) -> Result<Vec<KeyMatch>, String> {
    let mut matches: Vec<Option<KeyMatch>> = vec![None; table.keys.len()];
    for k in keys {
        let i = key_field(table, &k.name)?;
        let field = &table.keys[i];
        if matches[i].is_some() {
            return Err(format!("key field `{}` is given twice", field.name));
        }
        matches[i] = Some(key_match(field, &k.value)?);
    }
    matches
        .into_iter()
        .zip(&table.keys)
        .map(|(m, field)| match m {
            Some(m) => Ok(m),
            None if field.match_kind == MatchKind::Exact => Err(format!(
                "exact key field `{}` of table {} is missing",
                field.name, table.dotted
            )),
            None => Ok(KeyMatch::Any),
        })
        .collect()
}

/// The priority of an entry: STF's larger-wins number turned into P4TC's lower-wins one, for
/// tables that have priorities; exact and LPM tables take none, so a priority there is ignored
/// (p4c's runners ignore it too).
pub fn priority(table: &TableModel, written: Option<u32>) -> Option<Priority> {
    if table.has_priorities() {
        written.map(|p| Priority::from_larger_wins(u64::from(p)))
    } else {
        None
    }
}

/// The action call of an entry or default action: the action among the table's, its
/// arguments by parameter name, all of them given and each fitting its parameter.
pub fn action(table: &TableModel, call: &stf::ActionCall) -> Result<ActionCall, String> {
    let action = table.action_by_name(&call.name).ok_or_else(|| {
        let names: Vec<&str> = table.actions.iter().map(|a| a.name.as_str()).collect();
        format!(
            "table {} has no action `{}` (its actions: {})",
            table.dotted,
            call.name,
            names.join(", ")
        )
    })?;
    let mut params: Vec<Option<BigUint>> = vec![None; action.params.len()];
    for (name, value) in &call.args {
        let i = action
            .params
            .iter()
            .position(|p| &p.name == name)
            .ok_or_else(|| format!("action {} has no parameter `{name}`", action.name))?;
        if params[i].is_some() {
            return Err(format!("parameter `{name}` is given twice"));
        }
        let width = action.params[i].width;
        if !fits(&value.value, width) {
            return Err(format!(
                "value {:#x} does not fit parameter `{name}` ({width} bits)",
                value.value
            ));
        }
        params[i] = Some(value.value.clone());
    }
    let params = params
        .into_iter()
        .zip(&action.params)
        .map(|(v, p)| {
            v.ok_or_else(|| format!("action {} needs parameter `{}`", action.name, p.name))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ActionCall {
        action: action.handle,
        params,
    })
}

fn fits(value: &BigUint, width: u32) -> bool {
    value.bits() <= u64::from(width)
}

fn all_ones(width: u32) -> BigUint {
    (BigUint::from(1u8) << width) - 1u8
}

/// The care bits of `n` in a field of `width` bits: the bits it writes with `*` digits are
/// don't-cares; every other bit (including those above the digits written, which are zeros)
/// must match.
fn care_mask(n: &Number, width: u32) -> BigUint {
    let ones = all_ones(width);
    match (&n.care, n.width) {
        (Some(care), Some(written)) => {
            // Bits above the written digits are implicit zeros the key must match.
            let above = if written < width {
                ones.clone() ^ all_ones(written)
            } else {
                BigUint::default()
            };
            (care | above) & ones
        }
        _ => ones,
    }
}

/// One field's match: what was written, read by the field's match kind.
pub fn key_match(field: &KeyFieldModel, value: &KeyValue) -> Result<KeyMatch, String> {
    let width = field.width;
    let check = |n: &BigUint, role: &str| {
        if fits(n, width) {
            Ok(())
        } else {
            Err(format!(
                "{role} {n:#x} does not fit key field `{}` ({width} bits)",
                field.name
            ))
        }
    };
    let kind = field.match_kind;
    let wrong = |written: &str| {
        Err(format!(
            "key field `{}` is {} and cannot take {written}",
            field.name,
            kind.name()
        ))
    };
    match value {
        KeyValue::Value(n) => {
            check(&n.value, "value")?;
            let mask = care_mask(n, width);
            let full = n.care.is_none() || mask == all_ones(width);
            match kind {
                MatchKind::Exact | MatchKind::Range if !full => wrong("`*` wildcard digits"),
                MatchKind::Exact => Ok(KeyMatch::Exact(n.value.clone())),
                MatchKind::Range => Ok(KeyMatch::Range {
                    low: n.value.clone(),
                    high: n.value.clone(),
                }),
                MatchKind::Lpm => {
                    let prefix_len = prefix_of_mask(&mask, width).ok_or_else(|| {
                        format!(
                            "key field `{}` is lpm: its `*` digits must all be at the end",
                            field.name
                        )
                    })?;
                    Ok(lpm(n.value.clone(), prefix_len, width))
                }
                MatchKind::Ternary | MatchKind::Optional => Ok(ternary(n.value.clone(), mask)),
            }
        }
        KeyValue::Prefix { value, prefix_len } => {
            check(&value.value, "value")?;
            if *prefix_len > width {
                return Err(format!(
                    "prefix length {prefix_len} is longer than key field `{}` ({width} bits)",
                    field.name
                ));
            }
            let mask = all_ones(width) ^ all_ones(width - prefix_len);
            match kind {
                MatchKind::Lpm => Ok(lpm(value.value.clone(), *prefix_len, width)),
                MatchKind::Ternary => Ok(ternary(value.value.clone(), mask)),
                _ => wrong("a `/` prefix"),
            }
        }
        KeyValue::Mask { value, mask } => {
            check(&value.value, "value")?;
            check(&mask.value, "mask")?;
            match kind {
                MatchKind::Ternary | MatchKind::Optional => {
                    Ok(ternary(value.value.clone(), mask.value.clone()))
                }
                MatchKind::Lpm => {
                    let prefix_len = prefix_of_mask(&mask.value, width).ok_or_else(|| {
                        format!(
                            "key field `{}` is lpm: mask {:#x} is not a prefix",
                            field.name, mask.value
                        )
                    })?;
                    Ok(lpm(value.value.clone(), prefix_len, width))
                }
                _ => wrong("a `&&&` mask"),
            }
        }
        KeyValue::Range { low, high } => {
            check(&low.value, "low end")?;
            check(&high.value, "high end")?;
            match kind {
                MatchKind::Range => {
                    if low.value.bits() == 0 && high.value == all_ones(width) {
                        Ok(KeyMatch::Any)
                    } else {
                        Ok(KeyMatch::Range {
                            low: low.value.clone(),
                            high: high.value.clone(),
                        })
                    }
                }
                _ => wrong("a `..` range"),
            }
        }
    }
}

/// An LPM match with the bits past the prefix cleared (a zero-length prefix matches anything).
fn lpm(value: BigUint, prefix_len: u32, width: u32) -> KeyMatch {
    if prefix_len == 0 {
        return KeyMatch::Any;
    }
    let mask = all_ones(width) ^ all_ones(width - prefix_len);
    KeyMatch::Lpm {
        value: value & mask,
        prefix_len,
    }
}

/// A ternary match with the value's don't-care bits cleared (an all-zero mask matches
/// anything).
fn ternary(value: BigUint, mask: BigUint) -> KeyMatch {
    if mask.bits() == 0 {
        return KeyMatch::Any;
    }
    KeyMatch::Ternary {
        value: value & &mask,
        mask,
    }
}
