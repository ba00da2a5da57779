//! Extern commands: `get|update|reset PIPE/extern/KIND/INSTANCE [tc_key index N]
//! [param NAME VALUE]...`, resolved through the introspection's view of each instance (its
//! `tc_key` index and `param` fields, with their types and widths).

use num_bigint::BigUint;
use num_traits::Zero;
use p4tc_ir::introspection::{Extern, ExternInstance, ExternParam, ValueType};

use super::command::{CommandKind, ExternOp, Parser, Verb};
use super::lexer::Word;
use super::values::parse_value;
use super::CtlError;
use crate::model::InstanceModel;
use crate::object_model::MeterConfig;

/// An instance as a command names it: the introspection's view and the model's instance.
pub(crate) struct Resolved<'m> {
    pub(crate) kind: &'m Extern,
    pub(crate) view: &'m ExternInstance,
    pub(crate) instance: &'m InstanceModel,
}

/// The extern instance named `instance` of extern `kind` (`Counter`, any case), by its full
/// name (`ingress.counter1`, `ingress/counter1`) or its own name when that is unique.
pub(crate) fn resolve<'m>(
    model: &'m crate::model::PipelineModel,
    kind: &str,
    instance: &str,
) -> Result<Resolved<'m>, String> {
    let Some(ext) = model
        .introspection
        .externs
        .iter()
        .find(|e| e.name.eq_ignore_ascii_case(kind))
    else {
        return Err(format!(
            "pipeline {} has no extern `{kind}`; its externs are: {}",
            model.name,
            extern_names(model)
        ));
    };
    let dotted = instance.replace('/', ".");
    let position = match ext.instances.iter().position(|i| i.inst_name == dotted) {
        Some(p) => Some(p),
        None => {
            let mut found = ext
                .instances
                .iter()
                .enumerate()
                .filter(|(_, i)| i.inst_name.rsplit('.').next() == Some(dotted.as_str()));
            match (found.next(), found.next()) {
                (Some((p, _)), None) => Some(p),
                (Some(_), Some(_)) => {
                    return Err(format!(
                        "`{instance}` names more than one {} instance: write CONTROL.{instance}",
                        ext.name
                    ))
                }
                _ => None,
            }
        }
    };
    let names: Vec<&str> = ext.instances.iter().map(|i| i.inst_name.as_str()).collect();
    let Some(position) = position else {
        return Err(format!(
            "{} has no instance `{instance}`; its instances are: {}",
            ext.name,
            names.join(", ")
        ));
    };
    // The introspection lists an extern's instances in the module's order, as the model does.
    let instance_model = model
        .instances
        .iter()
        .filter(|i| i.extern_name == ext.name)
        .nth(position)
        .ok_or_else(|| format!("internal error: instance `{instance}` is not in the model"))?;
    Ok(Resolved {
        kind: ext,
        view: &ext.instances[position],
        instance: instance_model,
    })
}

/// `Counter (ingress.c1, ingress.c2), Register (...)`.
pub(crate) fn extern_names(model: &crate::model::PipelineModel) -> String {
    if model.introspection.externs.is_empty() {
        return "(none)".into();
    }
    model
        .introspection
        .externs
        .iter()
        .map(|e| {
            let names: Vec<&str> = e.instances.iter().map(|i| i.inst_name.as_str()).collect();
            format!("{} ({})", e.name, names.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn value_type(param: &ExternParam) -> ValueType {
    ValueType::parse(&param.ty).unwrap_or(ValueType::Bit(param.bitwidth))
}

impl Parser<'_> {
    pub(crate) fn extern_list(&self) -> String {
        extern_names(self.model)
    }

    pub(crate) fn extern_command(
        &mut self,
        verb: Verb,
        path: &Word,
        kind: &str,
        instance: &str,
    ) -> Result<CommandKind, CtlError> {
        let resolved =
            resolve(self.model, kind, instance).map_err(|m| CtlError::new(path.at, m))?;
        let ext = resolved.kind;
        let view = resolved.view;
        let handle = resolved.instance.handle;
        let size = resolved.instance.size;
        let name = view.inst_name.as_str();

        // tc_key index N
        let mut index = None;
        if self.peek_is("tc_key") || self.peek_is("index") {
            let mut word = self.advance().unwrap_or(path);
            if word.text == "tc_key" {
                let next = self.value_after(word, "`index N`")?;
                if next.text != "index" {
                    return Err(CtlError::new(
                        next.at,
                        format!(
                            "{} {name} is keyed by `index` (got `{}`)",
                            ext.name, next.text
                        ),
                    ));
                }
                word = next;
            }
            let n = self.value_after(word, "an index")?;
            let value = self.u64_of(n, "index")?;
            if let Some(size) = size {
                if value >= size {
                    return Err(CtlError::new(
                        n.at,
                        format!(
                            "index {value} is out of range: {} {name} has {size} elements \
                             (0..{})",
                            ext.name,
                            size.saturating_sub(1)
                        ),
                    ));
                }
            }
            index = Some(value);
        }

        // param NAME VALUE ...
        let data: Vec<&ExternParam> = view.params.iter().filter(|p| p.attr == "param").collect();
        let mut values: Vec<Option<BigUint>> = vec![None; data.len()];
        while let Some(word) = self.advance() {
            if word.text != "param" {
                return Err(CtlError::new(
                    word.at,
                    format!(
                        "unexpected `{}`: expected `tc_key index N` first, then `param NAME \
                         VALUE`",
                        word.text
                    ),
                ));
            }
            let pname = self.value_after(word, "a field name and value")?;
            let Some(slot) = data.iter().position(|p| p.name == pname.text) else {
                let list: Vec<&str> = data.iter().map(|p| p.name.as_str()).collect();
                return Err(CtlError::new(
                    pname.at,
                    format!(
                        "{} {name} has no param `{}`; its params are: {}",
                        ext.name,
                        pname.text,
                        list.join(", ")
                    ),
                ));
            };
            let value = self.value_after(pname, "a value")?;
            if values[slot].is_some() {
                return Err(CtlError::new(
                    pname.at,
                    format!("param `{}` is given twice", pname.text),
                ));
            }
            let p = data[slot];
            values[slot] = Some(
                parse_value(
                    &value.text,
                    value_type(p),
                    p.bitwidth,
                    &format!("param `{}`", p.name),
                    self.resolver,
                )
                .map_err(|m| CtlError::new(value.at, m))?,
            );
        }
        let given = values.iter().any(Option::is_some);
        let refuse = |what: &str| -> Result<CommandKind, CtlError> {
            Err(CtlError::new(
                path.at,
                format!("{} {name}: {what}", ext.name),
            ))
        };
        let op = match (ext.name.as_str(), verb) {
            ("Counter", Verb::Get) if !given => ExternOp::ReadCounter { index },
            ("Counter", Verb::Reset) if !given => ExternOp::ResetCounter { index },
            ("Counter", Verb::Update) => {
                if values.iter().flatten().any(|v| !v.is_zero()) {
                    return refuse(
                        "a counter can only be reset: `reset`, or `update` with every param 0",
                    );
                }
                ExternOp::ResetCounter { index }
            }
            ("Counter", _) => {
                return refuse("counters are read with `get` and zeroed with `reset`");
            }
            ("Register", Verb::Get) if !given => ExternOp::ReadRegister { index },
            ("Register", Verb::Update | Verb::Create) => {
                if !given {
                    return refuse("`update` needs `param NAME VALUE` for the fields to write");
                }
                ExternOp::WriteRegister {
                    index,
                    fields: values
                        .into_iter()
                        .enumerate()
                        .filter_map(|(i, v)| v.map(|v| (i, v)))
                        .collect(),
                }
            }
            ("Register", Verb::Reset) if !given => ExternOp::WriteRegister {
                index,
                fields: (0..data.len()).map(|i| (i, BigUint::default())).collect(),
            },
            ("Register", _) => {
                return refuse("registers are read with `get` and written with `update`");
            }
            ("Meter", Verb::Update | Verb::Create) => {
                let field = |n: &str| -> Option<u64> {
                    data.iter()
                        .position(|p| p.name == n)
                        .and_then(|i| values[i].as_ref())
                        .and_then(|v| u64::try_from(v).ok())
                };
                let (Some(cir), Some(cbs)) = (field("cir"), field("cbs")) else {
                    return refuse("a meter update needs `param cir RATE param cbs BURST` (pir and pbs default to them)");
                };
                ExternOp::SetMeter {
                    index,
                    config: MeterConfig {
                        cir,
                        cbs,
                        pir: field("pir").unwrap_or(cir),
                        pbs: field("pbs").unwrap_or(cbs),
                    },
                }
            }
            ("Meter", _) => {
                return refuse(
                    "meters are configured with `update ... param cir R param cbs B [param pir \
                     R] [param pbs B]`; their state cannot be read back",
                );
            }
            ("DirectCounter", _) => {
                return refuse(
                    "a direct counter counts per entry: its counts are shown with the table's \
                     entries (`get PIPE/table/CONTROL/TABLE`)",
                );
            }
            ("DirectMeter", _) => {
                return refuse(
                    "a direct meter is configured per entry, which this command language does \
                     not cover yet",
                );
            }
            ("Digest", _) => {
                return refuse("digests are events: watch them with `p4tc mon`");
            }
            (_, Verb::Get | Verb::Reset) if given => {
                return refuse("`param` has no meaning here");
            }
            _ => return refuse("this extern has no control-plane operations"),
        };
        Ok(CommandKind::Extern {
            instance: handle,
            op,
        })
    }
}

/// The introspection's view of the instance with this handle.
pub(crate) fn view_of(
    model: &crate::model::PipelineModel,
    handle: p4tc_ir::arena::Handle<p4tc_ir::ir::Instance>,
) -> Option<(&Extern, &ExternInstance)> {
    let instance = model.instance(handle)?;
    let position = model
        .instances
        .iter()
        .filter(|i| i.extern_name == instance.extern_name)
        .position(|i| i.handle == handle)?;
    let ext = model
        .introspection
        .externs
        .iter()
        .find(|e| e.name == instance.extern_name)?;
    Some((ext, ext.instances.get(position)?))
}

/// The type of an extern's field as its view gives it.
pub(crate) fn param_type(param: &ExternParam) -> ValueType {
    value_type(param)
}
