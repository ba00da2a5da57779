//! What commands print: values written back in their type's form (MACs as `aa:bb:..`, IPs
//! dotted or in IPv6 form, `dev` as its number), entries in the command language's own
//! words (so a dumped entry reads like the command that made it), and every result both as
//! text and as JSON (`-j`).

use std::fmt::{self, Write as _};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use num_bigint::BigUint;
use p4tc_ir::introspection::ValueType;
use serde::Serialize;

use super::values::all_ones;
use crate::entry::{ActionCall, Actor, Aging, EntryInfo, KeyMatch};
use crate::model::{prefix_of_mask, KeyFieldModel, TableModel};

/// `value` written as a value of type `ty`. A value too wide for its type (which a correct
/// backend never returns) is printed in hex rather than refused.
pub fn format_value(value: &BigUint, ty: ValueType) -> String {
    let hex = || format!("{value:#x}");
    match ty {
        ValueType::Bit(_)
        | ValueType::Dev
        | ValueType::Be16
        | ValueType::Be32
        | ValueType::Be64
        | ValueType::Rate => value.to_string(),
        ValueType::MacAddr => match u64::try_from(value) {
            Ok(v) if v < 1 << 48 => {
                let bytes = v.to_be_bytes();
                bytes[2..]
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<Vec<_>>()
                    .join(":")
            }
            _ => hex(),
        },
        ValueType::Ipv4 => match u32::try_from(value) {
            Ok(v) => Ipv4Addr::from(v).to_string(),
            Err(_) => hex(),
        },
        ValueType::Ipv6 => match u128::try_from(value) {
            Ok(v) => Ipv6Addr::from(v).to_string(),
            Err(_) => hex(),
        },
    }
}

/// A mask: in the address form for address types, in hex for numbers.
fn format_mask(mask: &BigUint, ty: ValueType) -> String {
    match ty {
        ValueType::MacAddr | ValueType::Ipv4 | ValueType::Ipv6 => format_value(mask, ty),
        _ => format!("{mask:#x}"),
    }
}

/// A key match as the command language writes it for this field (`10.0.0.0/8`,
/// `6&&&0xf`, `80..443`, `_`); parsing the text gives the match back.
pub fn format_key_match(m: &KeyMatch, field: &KeyFieldModel) -> String {
    let ty = field.ty;
    match m {
        KeyMatch::Exact(v) => format_value(v, ty),
        KeyMatch::Lpm { value, prefix_len } => {
            format!("{}/{prefix_len}", format_value(value, ty))
        }
        KeyMatch::Ternary { value, mask } => {
            if *mask == all_ones(field.width) {
                format_value(value, ty)
            } else if let (ValueType::Ipv4 | ValueType::Ipv6, Some(p)) =
                (ty, prefix_of_mask(mask, field.width))
            {
                format!("{}/{p}", format_value(value, ty))
            } else {
                format!("{}&&&{}", format_value(value, ty), format_mask(mask, ty))
            }
        }
        KeyMatch::Range { low, high } if low == high => format_value(low, ty),
        KeyMatch::Range { low, high } => {
            format!("{}..{}", format_value(low, ty), format_value(high, ty))
        }
        KeyMatch::Any => "_".into(),
    }
}

/// One key field of an entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyView {
    /// The field's name.
    pub name: String,
    /// Its match kind (`exact`, `lpm`, ...).
    pub match_kind: String,
    /// Its type (`ipv4`, `bit16`, ...).
    #[serde(rename = "type")]
    pub ty: String,
    /// The match, written as the command language does.
    pub value: String,
}

/// One parameter (or register field) with its value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ParamView {
    /// Its name.
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub ty: String,
    /// The value, written in its type's form.
    pub value: String,
}

/// An action with its data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ActionView {
    /// The action's P4TC name (`ingress/send_nh`).
    pub name: String,
    /// Its parameters.
    pub params: Vec<ParamView>,
}

/// A direct counter's totals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct CounterView {
    /// Packets.
    pub packets: u64,
    /// Bytes.
    pub bytes: u64,
}

/// An entry, ready to print.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EntryView {
    /// Key fields, in the table's order.
    pub key: Vec<KeyView>,
    /// Priority (lower wins), for tables that have them.
    pub prio: Option<u32>,
    /// The action; `None` runs the default hit action.
    pub action: Option<ActionView>,
    /// Permissions in effect, `0xHHHH` (`None`: the backend did not say).
    pub permissions: Option<String>,
    /// The same, as letters (`-RUD-PS-R--X--`).
    pub permissions_letters: Option<String>,
    /// It ages.
    pub dynamic: bool,
    /// Its timer profile, when it ages by one.
    pub aging_profile: Option<u32>,
    /// Its own aging time in milliseconds, when it has one.
    pub aging_ms: Option<u64>,
    /// It came from the program and cannot change.
    pub is_const: bool,
    /// Who created it (`control_plane`, `datapath`, `timer`, `program`).
    pub created_by: String,
    /// Who last updated it.
    pub updated_by: Option<String>,
    /// When it was created, in milliseconds on the backend's clock.
    pub created_ms: u64,
    /// Milliseconds since it was last used (hit or created).
    pub msecs_since: u64,
    /// Its direct counter.
    pub counter: Option<CounterView>,
}

/// One batch entry (or flushed entry) that failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BatchFailure {
    /// Its index in the batch (from 0); for a flush, in the dump.
    pub index: usize,
    /// Its key, written as the command language does.
    pub key: String,
    /// Why it failed.
    pub error: String,
}

/// A counter element.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct CounterElement {
    /// Its index.
    pub index: u64,
    /// Packets.
    pub packets: u64,
    /// Bytes.
    pub bytes: u64,
}

/// A register element.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RegisterElement {
    /// Its index.
    pub index: u64,
    /// Its fields (one, `a_value`, for a scalar register).
    pub fields: Vec<ParamView>,
}

/// What a command produced: printed as text ([`fmt::Display`]) or JSON ([`Output::to_json`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Output {
    /// Something was done; nothing to show but a confirmation.
    Done {
        /// What was done, in words.
        message: String,
    },
    /// Entries of a table (`get`: one, or a dump).
    Entries {
        /// The table's path (`simple_l3/table/ingress/nh_table`).
        table: String,
        /// The entries, best priority first.
        entries: Vec<EntryView>,
    },
    /// A batch (or a flush with a filter): how many were applied and which failed.
    Batch {
        /// The table's path.
        table: String,
        /// `create`, `update`, `delete` or `flush`.
        operation: String,
        /// How many were applied.
        applied: usize,
        /// Those that failed, with why.
        failures: Vec<BatchFailure>,
    },
    /// A table's default action.
    DefaultAction {
        /// The table's path.
        table: String,
        /// `default_hit_action` or `default_miss_action`.
        which: String,
        /// The action, if there is one.
        action: Option<ActionView>,
    },
    /// The timer profiles' aging times in milliseconds, profile 0 first.
    TimerProfiles {
        /// Aging times.
        profiles_ms: Vec<u64>,
    },
    /// Counter elements.
    Counter {
        /// The instance's name.
        instance: String,
        /// The elements read (for a whole counter, the non-zero ones).
        elements: Vec<CounterElement>,
    },
    /// Register elements.
    Register {
        /// The instance's name.
        instance: String,
        /// The elements read (for a whole register, the non-zero ones).
        elements: Vec<RegisterElement>,
    },
    /// The pipeline's description ([`super::describe`]).
    Help {
        /// The text.
        text: String,
    },
}

impl Output {
    /// The JSON form (`p4tc ctl -j`): an object whose `result` says which kind it is.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self)
            .unwrap_or_else(|e| serde_json::json!({ "result": "error", "message": e.to_string() }))
    }

    /// Whether part of the command failed (a batch entry, a flushed entry): a CLI exits
    /// non-zero.
    pub fn has_failures(&self) -> bool {
        matches!(self, Output::Batch { failures, .. } if !failures.is_empty())
    }
}

fn actor_name(actor: Actor) -> &'static str {
    match actor {
        Actor::ControlPlane => "control_plane",
        Actor::Datapath => "datapath",
        Actor::Timer => "timer",
        Actor::Program => "program",
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The view of an action call of `table`.
pub(crate) fn action_view(table: &TableModel, call: &ActionCall) -> ActionView {
    match table.action(call.action) {
        Some(action) => ActionView {
            name: action.name.clone(),
            params: action
                .params
                .iter()
                .zip(&call.params)
                .map(|(p, v)| ParamView {
                    name: p.name.clone(),
                    ty: p.ty.to_string(),
                    value: format_value(v, p.ty),
                })
                .collect(),
        },
        // Not one of the table's actions (a backend bug): still show what is there.
        None => ActionView {
            name: format!("action#{}", call.action.index()),
            params: call
                .params
                .iter()
                .enumerate()
                .map(|(i, v)| ParamView {
                    name: format!("param{i}"),
                    ty: "bit".into(),
                    value: format!("{v:#x}"),
                })
                .collect(),
        },
    }
}

/// A key written as the command language does (`dstAddr 10.0.1.2 prio 3`).
pub(crate) fn key_text(table: &TableModel, key: &[KeyMatch], prio: Option<u32>) -> String {
    let mut text = key
        .iter()
        .zip(&table.keys)
        .map(|(m, f)| format!("{} {}", f.name, format_key_match(m, f)))
        .collect::<Vec<_>>()
        .join(" ");
    if let Some(p) = prio {
        if !text.is_empty() {
            text.push(' ');
        }
        let _ = write!(text, "prio {p}");
    }
    text
}

/// The view of an entry of `table`, `now` being the backend clock's time.
pub(crate) fn entry_view(table: &TableModel, entry: &EntryInfo, now: Duration) -> EntryView {
    let spec = &entry.spec;
    EntryView {
        key: spec
            .key
            .iter()
            .zip(&table.keys)
            .map(|(m, f)| KeyView {
                name: f.name.clone(),
                match_kind: f.match_kind.name().into(),
                ty: f.ty.to_string(),
                value: format_key_match(m, f),
            })
            .collect(),
        prio: spec.priority.map(|p| p.0),
        action: spec.action.as_ref().map(|c| action_view(table, c)),
        permissions: spec.permissions.map(|p| p.to_hex()),
        permissions_letters: spec.permissions.map(|p| p.to_string()),
        dynamic: spec.dynamic,
        aging_profile: match spec.aging {
            Some(Aging::Profile(p)) => Some(p),
            None if spec.dynamic => Some(0),
            _ => None,
        },
        aging_ms: match spec.aging {
            Some(Aging::After(d)) => Some(millis(d)),
            _ => None,
        },
        is_const: entry.is_const,
        created_by: actor_name(entry.created_by).into(),
        updated_by: entry.updated_by.map(|a| actor_name(a).into()),
        created_ms: millis(entry.created_at),
        msecs_since: millis(now.saturating_sub(entry.last_used)),
        counter: entry
            .counter
            .map(|(packets, bytes)| CounterView { packets, bytes }),
    }
}

fn write_action(f: &mut fmt::Formatter<'_>, action: &ActionView) -> fmt::Result {
    write!(f, "action {}", action.name)?;
    for p in &action.params {
        write!(f, " param {} {}", p.name, p.value)?;
    }
    Ok(())
}

fn write_entry(f: &mut fmt::Formatter<'_>, e: &EntryView) -> fmt::Result {
    let mut words: Vec<String> = e
        .key
        .iter()
        .map(|k| format!("{} {}", k.name, k.value))
        .collect();
    if let Some(p) = e.prio {
        words.push(format!("prio {p}"));
    }
    write!(f, "  {}", words.join(" "))?;
    if let Some(action) = &e.action {
        if !words.is_empty() {
            f.write_str(" ")?;
        }
        write_action(f, action)?;
    }
    f.write_str("\n      ")?;
    let mut details = Vec::new();
    if e.is_const {
        details.push("const".to_string());
    }
    if let (Some(hex), Some(letters)) = (&e.permissions, &e.permissions_letters) {
        details.push(format!("permissions {hex} ({letters})"));
    }
    details.push(match (e.dynamic, e.aging_profile, e.aging_ms) {
        (false, _, _) => "static".to_string(),
        (true, _, Some(ms)) => format!("dynamic, ages after {ms} ms idle"),
        (true, Some(p), None) => format!("dynamic, timer profile {p}"),
        (true, None, None) => "dynamic".to_string(),
    });
    details.push(format!("created by {}", e.created_by.replace('_', " ")));
    if let Some(u) = &e.updated_by {
        details.push(format!("updated by {}", u.replace('_', " ")));
    }
    details.push(format!("last used {} ms ago", e.msecs_since));
    if let Some(c) = e.counter {
        details.push(format!("{} packets, {} bytes", c.packets, c.bytes));
    }
    writeln!(f, "{}", details.join(", "))
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// The text form, readable and in the command language's words where it can be.
impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Output::Done { message } => writeln!(f, "{message}"),
            Output::Entries { table, entries } => {
                writeln!(
                    f,
                    "table {table}: {}",
                    plural(entries.len(), "entry", "entries")
                )?;
                for e in entries {
                    write_entry(f, e)?;
                }
                Ok(())
            }
            Output::Batch {
                table,
                operation,
                applied,
                failures,
            } => {
                writeln!(
                    f,
                    "{operation} on table {table}: {applied} applied, {} failed",
                    failures.len()
                )?;
                for failure in failures {
                    writeln!(
                        f,
                        "  entry {} ({}): {}",
                        failure.index, failure.key, failure.error
                    )?;
                }
                Ok(())
            }
            Output::DefaultAction {
                table,
                which,
                action,
            } => {
                write!(f, "table {table} {which}: ")?;
                match action {
                    Some(a) => {
                        write_action(f, a)?;
                        writeln!(f)
                    }
                    None => writeln!(f, "none"),
                }
            }
            Output::TimerProfiles { profiles_ms } => {
                writeln!(f, "timer profiles:")?;
                for (i, ms) in profiles_ms.iter().enumerate() {
                    writeln!(f, "  profile_id {i} aging {ms}")?;
                }
                Ok(())
            }
            Output::Counter { instance, elements } => {
                writeln!(
                    f,
                    "counter {instance}: {}",
                    plural(elements.len(), "element", "elements")
                )?;
                for e in elements {
                    writeln!(
                        f,
                        "  index {} packets {} bytes {}",
                        e.index, e.packets, e.bytes
                    )?;
                }
                Ok(())
            }
            Output::Register { instance, elements } => {
                writeln!(
                    f,
                    "register {instance}: {}",
                    plural(elements.len(), "element", "elements")
                )?;
                for e in elements {
                    write!(f, "  index {}", e.index)?;
                    for p in &e.fields {
                        write!(f, " param {} {}", p.name, p.value)?;
                    }
                    writeln!(f)?;
                }
                Ok(())
            }
            Output::Help { text } => f.write_str(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p4tc_ir::layout::MatchKind;

    #[test]
    fn values_in_their_type_form() {
        let v = |n: u128, ty| format_value(&BigUint::from(n), ty);
        assert_eq!(v(0xaabb_ccdd_eeff, ValueType::MacAddr), "aa:bb:cc:dd:ee:ff");
        assert_eq!(v(0x0001_0203_0405, ValueType::MacAddr), "00:01:02:03:04:05");
        assert_eq!(v(1 << 48, ValueType::MacAddr), "0x1000000000000");
        assert_eq!(v(0x0a00_0102, ValueType::Ipv4), "10.0.1.2");
        assert_eq!(v(1, ValueType::Ipv6), "::1");
        assert_eq!(v(7, ValueType::Dev), "7");
        assert_eq!(v(300, ValueType::Bit(9)), "300");
    }

    #[test]
    fn key_matches_round_trip_through_the_parser() {
        let none = |_: &str| None;
        let fields = [
            ("10.0.0.0/8", ValueType::Ipv4, MatchKind::Lpm, 32),
            ("10.0.1.2", ValueType::Ipv4, MatchKind::Exact, 32),
            ("192.168.0.0/16", ValueType::Ipv4, MatchKind::Ternary, 32),
            (
                "0.0.0.1&&&0.0.0.255",
                ValueType::Ipv4,
                MatchKind::Ternary,
                32,
            ),
            ("6&&&0xf", ValueType::Bit(8), MatchKind::Ternary, 8),
            ("6", ValueType::Bit(8), MatchKind::Ternary, 8),
            ("_", ValueType::Bit(8), MatchKind::Ternary, 8),
            ("80..443", ValueType::Bit(16), MatchKind::Range, 16),
            ("2001:db8::/32", ValueType::Ipv6, MatchKind::Lpm, 128),
            (
                "aa:bb:cc:dd:ee:ff",
                ValueType::MacAddr,
                MatchKind::Exact,
                48,
            ),
        ];
        for (text, ty, kind, width) in fields {
            let field = KeyFieldModel {
                name: "f".into(),
                ty,
                match_kind: kind,
                width,
            };
            let m = super::super::values::parse_key_match(text, &field, &none).unwrap();
            assert_eq!(format_key_match(&m, &field), text);
        }
    }
}
