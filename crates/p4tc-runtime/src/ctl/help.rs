//! `p4tc ctl PIPE help`: what a pipeline holds, in the words commands use: each table with
//! its keys (type, match kind, width), actions with their parameters, default actions and an
//! example command; each extern instance with its fields; the command forms.

use std::fmt::Write as _;

use p4tc_ir::introspection::ValueType;
use p4tc_ir::ir::ActionScope;
use p4tc_ir::layout::MatchKind;

use super::format::action_view;
use crate::model::{KeyFieldModel, PipelineModel, TableModel};

/// An example value of a type.
fn example_value(ty: ValueType) -> &'static str {
    match ty {
        ValueType::MacAddr => "00:01:02:03:04:05",
        ValueType::Ipv4 => "10.0.0.1",
        ValueType::Ipv6 => "2001:db8::1",
        ValueType::Dev => "1",
        _ => "1",
    }
}

/// An example match of a key field.
fn example_key(field: &KeyFieldModel) -> String {
    let v = example_value(field.ty);
    match field.match_kind {
        MatchKind::Exact | MatchKind::Optional => v.to_string(),
        MatchKind::Lpm => match field.ty {
            ValueType::Ipv4 => "10.0.0.0/8".into(),
            ValueType::Ipv6 => "2001:db8::/32".into(),
            _ => format!("{v}/{}", field.width),
        },
        MatchKind::Ternary => match field.ty {
            ValueType::Ipv4 => "10.0.0.0/8".into(),
            ValueType::Ipv6 => "2001:db8::/32".into(),
            _ => format!("{v}&&&0x1"),
        },
        MatchKind::Range => "1..10".into(),
    }
}

fn example_command(model: &PipelineModel, table: &TableModel) -> Option<String> {
    let action = table
        .actions
        .iter()
        .find(|a| a.scope != ActionScope::DefaultOnly && a.name != "NoAction")?;
    let mut text = format!("create {}/table/{}", model.name, table.name);
    for k in &table.keys {
        let _ = write!(text, " {} {}", k.name, example_key(k));
    }
    if table.has_priorities() {
        text.push_str(" prio 10");
    }
    let short = action.name.rsplit('/').next().unwrap_or(&action.name);
    let _ = write!(text, " action {short}");
    for p in &action.params {
        let _ = write!(text, " param {} {}", p.name, example_value(p.ty));
    }
    Some(text)
}

/// The description of `model` that `p4tc ctl PIPE help` prints.
pub fn describe(model: &PipelineModel) -> String {
    let mut out = String::new();
    let p = &model.name;
    let tables = model.tables.len();
    let _ = writeln!(
        out,
        "pipeline {p}: {tables} table{}",
        if tables == 1 { "" } else { "s" }
    );
    for table in &model.tables {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "table {} (id {}): at most {} entries, permissions {} ({}){}",
            table.name,
            table.id,
            table.size,
            table.permissions.to_hex(),
            table.permissions,
            if table.has_priorities() {
                ", entries take a prio (lower wins)"
            } else {
                ""
            }
        );
        if table.keys.is_empty() {
            let _ = writeln!(out, "  no key");
        } else {
            let _ = writeln!(out, "  keys:");
            for k in &table.keys {
                let _ = writeln!(
                    out,
                    "    {:<16} {:<8} {:<8} {} bits",
                    k.name,
                    k.ty.to_string(),
                    k.match_kind.name(),
                    k.width
                );
            }
        }
        let _ = writeln!(out, "  actions:");
        for a in &table.actions {
            let scope = match a.scope {
                ActionScope::TableAndDefault => "",
                ActionScope::TableOnly => "  (entries only)",
                ActionScope::DefaultOnly => "  (default only)",
            };
            let params: Vec<String> = a
                .params
                .iter()
                .map(|p| format!("param {} {}", p.name, p.ty))
                .collect();
            let _ = writeln!(
                out,
                "    {}{}{}{scope}",
                a.name,
                if params.is_empty() { "" } else { " " },
                params.join(" ")
            );
        }
        let miss = match &table.default_miss {
            Some(call) => format!(
                "{}{}",
                action_view(table, call).name,
                if table.default_miss_const {
                    " (const)"
                } else {
                    ""
                }
            ),
            None => "none".into(),
        };
        let _ = writeln!(out, "  default_miss_action: {miss}");
        if let Some((call, is_const)) = table.default_hit() {
            let _ = writeln!(
                out,
                "  default_hit_action: {}{}",
                action_view(table, &call).name,
                if is_const { " (const)" } else { "" }
            );
        }
        if !table.program_entries.is_empty() {
            let consts = table.program_entries.iter().filter(|e| e.is_const).count();
            let _ = writeln!(
                out,
                "  {} entries from the program ({consts} const)",
                table.program_entries.len()
            );
        }
        if let Some(example) = example_command(model, table) {
            let _ = writeln!(out, "  example: {example}");
        }
    }
    let externs = &model.introspection.externs;
    if !externs.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "externs:");
        for ext in externs {
            for (inst, im) in ext
                .instances
                .iter()
                .zip(model.instances.iter().filter(|i| i.extern_name == ext.name))
            {
                let size = im
                    .size
                    .map(|s| format!(", {s} elements"))
                    .unwrap_or_default();
                let kind = inst
                    .inst_type
                    .as_ref()
                    .map(|t| format!(", type {t}"))
                    .unwrap_or_default();
                let fields: Vec<String> = inst
                    .params
                    .iter()
                    .map(|f| format!("{} {} {}", f.attr, f.name, f.ty))
                    .collect();
                let _ = writeln!(
                    out,
                    "  {p}/extern/{}/{}{size}{kind}: {}",
                    ext.name,
                    inst.inst_name,
                    fields.join(", ")
                );
            }
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "commands:");
    for line in [
        "create|update|delete|get PIPE/table/CONTROL/TABLE KEYFIELD VALUE... [prio N] [action A [param NAME VALUE]...] [permissions 0xHHHH] [dynamic] [aging MS | profile_id N]",
        "create|update|delete PIPE/table/CONTROL/TABLE entry KEY... [action ...] entry KEY... ...",
        "get|delete PIPE/table/CONTROL/TABLE [filter EXPR]   (no key: dump, flush)",
        "  EXPR: key.FIELD, param.NAME, prio, msecs_since with == != < > <= >=, and, or, not, ( )",
        "get|update PIPE/table/CONTROL/TABLE default_miss_action|default_hit_action [action A [param NAME VALUE]...]",
        "get|update PIPE/timer_profile[/N] [aging MS]",
        "get|update|reset PIPE/extern/KIND/INSTANCE [tc_key index N] [param NAME VALUE]...",
        "values: bitN/be16/be32/be64 decimal or 0x hex; dev name or index; macaddr aa:bb:cc:dd:ee:ff; ipv4, ipv6; keys VALUE/PREFIX, VALUE&&&MASK, LO..HI, _",
    ] {
        let _ = writeln!(out, "  {}", line.replace("PIPE", p));
    }
    out
}
