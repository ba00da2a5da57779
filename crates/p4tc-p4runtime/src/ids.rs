//! P4Runtime ids: how they are made, and how the server turns them back into the object
//! model's handles.
//!
//! Every P4Runtime object id is 32 bits: the top byte says what kind of object it is (the
//! spec's `P4Ids.Prefix`, see [`Prefix`]), the low 24 bits name the object. Ids are made as
//! p4c makes them, so a P4Info from p4c and one from p4tc agree on ids for the same program:
//! - an `@id(N)` annotation wins (its prefix byte is added when it has none, and refused when
//!   it has another kind's);
//! - every other object gets the low 24 bits of the Jenkins one-at-a-time hash of its fully
//!   qualified name; on a collision the hash is increased by one until the id is free. Names
//!   are taken in byte order, so the result does not depend on declaration order.
//!
//! [`IdMap`] is the other direction: from the ids of a P4Info (ours or a controller's) to
//! table, action and extern handles, match-field and parameter positions, by hash lookups.

use std::collections::{BTreeMap, HashMap, HashSet};

use p4runtime_proto::p4::config::v1 as cfg;
use p4tc_ir::arena::Handle;
use p4tc_ir::ir;
use p4tc_runtime::PipelineModel;

pub use cfg::p4_ids::Prefix;

/// The Jenkins one-at-a-time hash, the one p4c hashes control-plane names with.
pub fn jenkins_one_at_a_time(bytes: &[u8]) -> u32 {
    let mut hash: u32 = 0;
    for &b in bytes {
        hash = hash.wrapping_add(u32::from(b));
        hash = hash.wrapping_add(hash << 10);
        hash ^= hash >> 6;
    }
    hash = hash.wrapping_add(hash << 3);
    hash ^= hash >> 11;
    hash.wrapping_add(hash << 15)
}

/// The kind of object an id names, from its top byte.
pub fn prefix_of(id: u32) -> Option<Prefix> {
    Prefix::try_from(i32::try_from(id >> 24).ok()?).ok()
}

/// Why ids could not be assigned, or a P4Info does not fit the program.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// An `@id` carries another kind's prefix byte.
    #[error("`{name}`: @id {id:#010x} has prefix {found:#04x}, but a {kind} id must have prefix {expected:#04x}")]
    WrongPrefix {
        /// The object.
        name: String,
        /// The id written.
        id: u32,
        /// What kind of object it is.
        kind: &'static str,
        /// The prefix it must have.
        expected: u8,
        /// The prefix it has.
        found: u8,
    },
    /// `@id(0)`: zero means "no id" in P4Runtime.
    #[error("`{name}`: @id 0 is not a valid id")]
    Zero {
        /// The object.
        name: String,
    },
    /// Two objects ask for the same id.
    #[error("@id {id:#010x} is given to both `{first}` and `{second}`")]
    Duplicate {
        /// The id.
        id: u32,
        /// The object that had it first.
        first: String,
        /// The other one.
        second: String,
    },
    /// All 2^24 ids of a kind are taken.
    #[error("no {kind} id is left for `{name}`")]
    Exhausted {
        /// The object.
        name: String,
        /// Its kind.
        kind: &'static str,
    },
    /// A P4Info object has no counterpart in the program (a P4Info for another program).
    #[error("the P4Info's {kind} `{name}` (id {id:#010x}) is not in the program")]
    UnknownObject {
        /// Its kind.
        kind: &'static str,
        /// Its name in the P4Info.
        name: String,
        /// Its id.
        id: u32,
    },
    /// A P4Info object does not describe the program's object of that name.
    #[error("the P4Info's {kind} `{name}` does not fit the program: {reason}")]
    Mismatch {
        /// Its kind.
        kind: &'static str,
        /// Its name.
        name: String,
        /// What differs.
        reason: String,
    },
    /// The same id twice in one P4Info.
    #[error("the P4Info uses id {id:#010x} twice")]
    Reused {
        /// The id.
        id: u32,
    },
}

/// A name for a prefix, for messages.
pub fn kind_name(prefix: Prefix) -> &'static str {
    match prefix {
        Prefix::Action => "action",
        Prefix::Table => "table",
        Prefix::ValueSet => "value set",
        Prefix::ControllerHeader => "controller header",
        Prefix::ActionProfile => "action profile",
        Prefix::Counter => "counter",
        Prefix::DirectCounter => "direct counter",
        Prefix::Meter => "meter",
        Prefix::DirectMeter => "direct meter",
        Prefix::Register => "register",
        Prefix::Digest => "digest",
        _ => "object",
    }
}

/// One object that needs an id.
#[derive(Clone, Debug)]
pub struct Symbol {
    /// Its kind.
    pub prefix: Prefix,
    /// Its fully qualified control-plane name.
    pub name: String,
    /// Its `@id`, if written.
    pub explicit: Option<u32>,
}

/// Assigns ids to `symbols` as p4c does. The same (kind, name) given twice gets one id (p4c
/// serialises duplicated actions once).
pub fn assign_ids(symbols: &[Symbol]) -> Result<HashMap<(Prefix, String), u32>, IdError> {
    let mut ids: HashMap<(Prefix, String), u32> = HashMap::new();
    let mut owner: HashMap<u32, String> = HashMap::new();
    // Explicit ids first, over every kind, so that hashed ids step around them.
    for s in symbols {
        let Some(given) = s.explicit else { continue };
        if ids.contains_key(&(s.prefix, s.name.clone())) {
            continue;
        }
        let prefix = s.prefix as u32;
        let kind = kind_name(s.prefix);
        let found = given >> 24;
        if given & 0x00ff_ffff == 0 && found == 0 {
            return Err(IdError::Zero {
                name: s.name.clone(),
            });
        }
        if found != 0 && found != prefix {
            return Err(IdError::WrongPrefix {
                name: s.name.clone(),
                id: given,
                kind,
                expected: u8::try_from(prefix).unwrap_or(0),
                found: u8::try_from(found).unwrap_or(0),
            });
        }
        let id = given | (prefix << 24);
        if let Some(first) = owner.get(&id) {
            return Err(IdError::Duplicate {
                id,
                first: first.clone(),
                second: s.name.clone(),
            });
        }
        owner.insert(id, s.name.clone());
        ids.insert((s.prefix, s.name.clone()), id);
    }
    // Then hashed ids, kind by kind, names in byte order: probing makes the id depend on the
    // order names are hashed in, and p4c hashes them sorted.
    let mut by_kind: BTreeMap<i32, Vec<&str>> = BTreeMap::new();
    for s in symbols {
        if !ids.contains_key(&(s.prefix, s.name.clone())) {
            by_kind.entry(s.prefix as i32).or_default().push(&s.name);
        }
    }
    for (prefix, mut names) in by_kind {
        names.sort_unstable();
        names.dedup();
        let p = Prefix::try_from(prefix).unwrap_or(Prefix::Unspecified);
        let top = u32::try_from(prefix).unwrap_or(0) << 24;
        for name in names {
            let start = jenkins_one_at_a_time(name.as_bytes());
            let mut value = start;
            let id = loop {
                let candidate = top | (value & 0x00ff_ffff);
                if !owner.contains_key(&candidate) {
                    break candidate;
                }
                value = value.wrapping_add(1);
                if value & 0x00ff_ffff == start & 0x00ff_ffff {
                    return Err(IdError::Exhausted {
                        name: name.to_string(),
                        kind: kind_name(p),
                    });
                }
            };
            owner.insert(id, name.to_string());
            ids.insert((p, name.to_string()), id);
        }
    }
    Ok(ids)
}

/// The shortest dot-separated suffix of each name that no other name ends with (P4Info's
/// `alias`), over all `names` (duplicates count once).
pub fn aliases<'a>(names: impl IntoIterator<Item = &'a str>) -> HashMap<String, String> {
    let unique: HashSet<&str> = names.into_iter().collect();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for name in &unique {
        let parts: Vec<&str> = name.split('.').collect();
        for start in 0..parts.len() {
            *counts.entry(parts[start..].join(".")).or_default() += 1;
        }
    }
    unique
        .iter()
        .map(|name| {
            let parts: Vec<&str> = name.split('.').collect();
            let alias = (1..=parts.len())
                .map(|n| parts[parts.len() - n..].join("."))
                .find(|suffix| counts.get(suffix).copied().unwrap_or(0) < 2)
                .unwrap_or_else(|| name.to_string());
            (name.to_string(), alias)
        })
        .collect()
}

/// A table's ids: its handle and the P4Runtime ids of its key fields.
#[derive(Clone, Debug)]
pub struct TableIds {
    /// The table.
    pub handle: Handle<ir::Table>,
    /// Its position in [`PipelineModel::tables`].
    pub index: usize,
    /// Its P4Runtime id.
    pub id: u32,
    /// Its P4Info name.
    pub name: String,
    /// The P4Runtime id of each key field, in key order.
    pub field_ids: Vec<u32>,
    field_index: HashMap<u32, usize>,
    /// P4Runtime ids of the actions it may run.
    pub action_ids: Vec<u32>,
}

impl TableIds {
    /// The key position of match field `field_id`.
    pub fn field_index(&self, field_id: u32) -> Option<usize> {
        self.field_index.get(&field_id).copied()
    }
}

/// An action's ids: its handle and the P4Runtime ids of its action-data parameters.
#[derive(Clone, Debug)]
pub struct ActionIds {
    /// The action.
    pub handle: Handle<ir::Action>,
    /// Its P4Runtime id.
    pub id: u32,
    /// Its P4Info name.
    pub name: String,
    /// The P4Runtime id of each action-data parameter, in order (directional parameters are
    /// not the control plane's and are left out, as in [`p4tc_runtime::ActionCall`]).
    pub param_ids: Vec<u32>,
    param_index: HashMap<u32, usize>,
}

impl ActionIds {
    /// The position (in [`p4tc_runtime::ActionCall::params`]) of parameter `param_id`.
    pub fn param_index(&self, param_id: u32) -> Option<usize> {
        self.param_index.get(&param_id).copied()
    }
}

/// What kind of extern instance an id names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExternKind {
    /// `Counter`.
    Counter,
    /// `DirectCounter`.
    DirectCounter,
    /// `Meter`.
    Meter,
    /// `DirectMeter`.
    DirectMeter,
    /// `Register`.
    Register,
    /// `Digest`.
    Digest,
    /// A parser `value_set`.
    ValueSet,
}

impl ExternKind {
    /// The id prefix of this kind.
    pub fn prefix(self) -> Prefix {
        match self {
            ExternKind::Counter => Prefix::Counter,
            ExternKind::DirectCounter => Prefix::DirectCounter,
            ExternKind::Meter => Prefix::Meter,
            ExternKind::DirectMeter => Prefix::DirectMeter,
            ExternKind::Register => Prefix::Register,
            ExternKind::Digest => Prefix::Digest,
            ExternKind::ValueSet => Prefix::ValueSet,
        }
    }
}

/// An extern instance's ids.
#[derive(Clone, Debug)]
pub struct ExternIds {
    /// What it is.
    pub kind: ExternKind,
    /// The instance.
    pub handle: Handle<ir::Instance>,
    /// Its P4Runtime id.
    pub id: u32,
    /// Its P4Info name.
    pub name: String,
    /// For direct counters and meters: the table they belong to.
    pub direct_table: Option<Handle<ir::Table>>,
}

/// P4Runtime ids to object-model handles and back, for one pipeline and one P4Info.
#[derive(Clone, Debug, Default)]
pub struct IdMap {
    tables: HashMap<u32, TableIds>,
    table_by_handle: HashMap<Handle<ir::Table>, u32>,
    actions: HashMap<u32, ActionIds>,
    action_by_handle: HashMap<Handle<ir::Action>, u32>,
    externs: HashMap<u32, ExternIds>,
    extern_by_handle: HashMap<Handle<ir::Instance>, u32>,
}

impl IdMap {
    /// The map for `p4info` over `model`: every P4Info object is found in the model by name
    /// (the names [`crate::p4info::build`] gives), match fields and parameters by name, and
    /// their widths must agree. A P4Info for another program is refused with the first object
    /// that does not fit. Objects of the model the P4Info leaves out have no id.
    pub fn new(model: &PipelineModel, p4info: &cfg::P4Info) -> Result<IdMap, IdError> {
        let names = crate::p4info::Names::of(model);
        let mut map = IdMap::default();
        let mut seen: HashSet<u32> = HashSet::new();
        let mut fresh = |id: u32| {
            if seen.insert(id) {
                Ok(())
            } else {
                Err(IdError::Reused { id })
            }
        };

        for action in &p4info.actions {
            let pre = action.preamble.clone().unwrap_or_default();
            fresh(pre.id)?;
            let unknown = || IdError::UnknownObject {
                kind: "action",
                name: pre.name.clone(),
                id: pre.id,
            };
            let handle = *names.actions.get(&pre.name).ok_or_else(unknown)?;
            let params = crate::p4info::action_params(&model.module, handle).map_err(|e| {
                IdError::Mismatch {
                    kind: "action",
                    name: pre.name.clone(),
                    reason: e.to_string(),
                }
            })?;
            let mismatch = |reason: String| IdError::Mismatch {
                kind: "action",
                name: pre.name.clone(),
                reason,
            };
            if action.params.len() != params.len() {
                return Err(mismatch(format!(
                    "it has {} parameters, the program's has {}",
                    action.params.len(),
                    params.len()
                )));
            }
            let mut param_ids = vec![0u32; params.len()];
            let mut param_index = HashMap::new();
            for p in &action.params {
                let (index, found) = params
                    .iter()
                    .enumerate()
                    .find(|(_, q)| q.name == p.name)
                    .ok_or_else(|| {
                        mismatch(format!("the program has no parameter `{}`", p.name))
                    })?;
                if i64::from(found.width) != i64::from(p.bitwidth) {
                    return Err(mismatch(format!(
                        "parameter `{}` is {} bits wide, not {}",
                        p.name, found.width, p.bitwidth
                    )));
                }
                if param_index.insert(p.id, index).is_some() {
                    return Err(mismatch(format!("parameter id {} is used twice", p.id)));
                }
                param_ids[index] = p.id;
            }
            map.action_by_handle.insert(handle, pre.id);
            map.actions.insert(
                pre.id,
                ActionIds {
                    handle,
                    id: pre.id,
                    name: pre.name.clone(),
                    param_ids,
                    param_index,
                },
            );
        }

        for table in &p4info.tables {
            let pre = table.preamble.clone().unwrap_or_default();
            fresh(pre.id)?;
            let index = *names
                .tables
                .get(&pre.name)
                .ok_or_else(|| IdError::UnknownObject {
                    kind: "table",
                    name: pre.name.clone(),
                    id: pre.id,
                })?;
            let tm = &model.tables[index];
            let mismatch = |reason: String| IdError::Mismatch {
                kind: "table",
                name: pre.name.clone(),
                reason,
            };
            let keys = crate::p4info::key_names(&model.module, tm.handle);
            if table.match_fields.len() != keys.len() {
                return Err(mismatch(format!(
                    "it has {} match fields, the program's has {}",
                    table.match_fields.len(),
                    keys.len()
                )));
            }
            let mut field_ids = vec![0u32; keys.len()];
            let mut field_index = HashMap::new();
            for f in &table.match_fields {
                let index = keys
                    .iter()
                    .position(|k| *k == f.name)
                    .ok_or_else(|| mismatch(format!("the program has no key `{}`", f.name)))?;
                let width = tm.keys.get(index).map_or(0, |k| k.width);
                if i64::from(width) != i64::from(f.bitwidth) {
                    return Err(mismatch(format!(
                        "key `{}` is {width} bits wide, not {}",
                        f.name, f.bitwidth
                    )));
                }
                if field_index.insert(f.id, index).is_some() {
                    return Err(mismatch(format!("match field id {} is used twice", f.id)));
                }
                field_ids[index] = f.id;
            }
            let action_ids: Vec<u32> = table.action_refs.iter().map(|r| r.id).collect();
            if let Some(bad) = action_ids.iter().find(|id| !map.actions.contains_key(id)) {
                return Err(mismatch(format!(
                    "it refers to action id {bad:#010x}, which the P4Info does not describe"
                )));
            }
            map.table_by_handle.insert(tm.handle, pre.id);
            map.tables.insert(
                pre.id,
                TableIds {
                    handle: tm.handle,
                    index,
                    id: pre.id,
                    name: pre.name.clone(),
                    field_ids,
                    field_index,
                    action_ids,
                },
            );
        }

        let groups: [(ExternKind, Vec<(cfg::Preamble, u32)>); 7] = [
            (
                ExternKind::Counter,
                pre_list(p4info.counters.iter().map(|c| (&c.preamble, 0))),
            ),
            (
                ExternKind::DirectCounter,
                pre_list(
                    p4info
                        .direct_counters
                        .iter()
                        .map(|c| (&c.preamble, c.direct_table_id)),
                ),
            ),
            (
                ExternKind::Meter,
                pre_list(p4info.meters.iter().map(|c| (&c.preamble, 0))),
            ),
            (
                ExternKind::DirectMeter,
                pre_list(
                    p4info
                        .direct_meters
                        .iter()
                        .map(|c| (&c.preamble, c.direct_table_id)),
                ),
            ),
            (
                ExternKind::Register,
                pre_list(p4info.registers.iter().map(|c| (&c.preamble, 0))),
            ),
            (
                ExternKind::Digest,
                pre_list(p4info.digests.iter().map(|c| (&c.preamble, 0))),
            ),
            (
                ExternKind::ValueSet,
                pre_list(p4info.value_sets.iter().map(|c| (&c.preamble, 0))),
            ),
        ];
        for (kind, list) in groups {
            for (pre, direct_table_id) in list {
                fresh(pre.id)?;
                let what = kind_name(kind.prefix());
                let handle = names
                    .instances
                    .get(&(kind, pre.name.clone()))
                    .copied()
                    .ok_or_else(|| IdError::UnknownObject {
                        kind: what,
                        name: pre.name.clone(),
                        id: pre.id,
                    })?;
                let direct_table = match kind {
                    ExternKind::DirectCounter | ExternKind::DirectMeter => {
                        let t = map.tables.get(&direct_table_id).ok_or_else(|| {
                            IdError::Mismatch {
                                kind: what,
                                name: pre.name.clone(),
                                reason: format!(
                                    "its table id {direct_table_id:#010x} is not a table of the P4Info"
                                ),
                            }
                        })?;
                        Some(t.handle)
                    }
                    _ => None,
                };
                map.extern_by_handle.insert(handle, pre.id);
                map.externs.insert(
                    pre.id,
                    ExternIds {
                        kind,
                        handle,
                        id: pre.id,
                        name: pre.name.clone(),
                        direct_table,
                    },
                );
            }
        }
        Ok(map)
    }

    /// The table with P4Runtime id `id`.
    pub fn table(&self, id: u32) -> Option<&TableIds> {
        self.tables.get(&id)
    }

    /// The P4Runtime id of a table.
    pub fn table_id(&self, handle: Handle<ir::Table>) -> Option<u32> {
        self.table_by_handle.get(&handle).copied()
    }

    /// The ids of a table, by handle.
    pub fn table_by_handle(&self, handle: Handle<ir::Table>) -> Option<&TableIds> {
        self.table_id(handle).and_then(|id| self.tables.get(&id))
    }

    /// Every table, in no particular order.
    pub fn tables(&self) -> impl Iterator<Item = &TableIds> {
        self.tables.values()
    }

    /// The action with P4Runtime id `id`.
    pub fn action(&self, id: u32) -> Option<&ActionIds> {
        self.actions.get(&id)
    }

    /// The P4Runtime id of an action.
    pub fn action_id(&self, handle: Handle<ir::Action>) -> Option<u32> {
        self.action_by_handle.get(&handle).copied()
    }

    /// The ids of an action, by handle.
    pub fn action_by_handle(&self, handle: Handle<ir::Action>) -> Option<&ActionIds> {
        self.action_id(handle).and_then(|id| self.actions.get(&id))
    }

    /// The extern instance (or value set) with P4Runtime id `id`.
    pub fn extern_instance(&self, id: u32) -> Option<&ExternIds> {
        self.externs.get(&id)
    }

    /// The P4Runtime id of an extern instance.
    pub fn extern_id(&self, handle: Handle<ir::Instance>) -> Option<u32> {
        self.extern_by_handle.get(&handle).copied()
    }

    /// Every extern instance of a kind, in no particular order.
    pub fn externs_of(&self, kind: ExternKind) -> impl Iterator<Item = &ExternIds> {
        self.externs.values().filter(move |e| e.kind == kind)
    }
}

fn pre_list<'a>(
    items: impl Iterator<Item = (&'a Option<cfg::Preamble>, u32)>,
) -> Vec<(cfg::Preamble, u32)> {
    items
        .map(|(p, t)| (p.clone().unwrap_or_default(), t))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jenkins_matches_known_values() {
        // Reference values of the one-at-a-time hash (its published test vectors).
        assert_eq!(jenkins_one_at_a_time(b"a"), 0xca2e_9442);
        assert_eq!(
            jenkins_one_at_a_time(b"The quick brown fox jumps over the lazy dog"),
            0x519e_91f5
        );
        assert_eq!(jenkins_one_at_a_time(b""), 0);
    }

    #[test]
    fn ids_agree_with_p4cs_p4info() {
        // Action ids from P4Info files p4c wrote (its test outputs).
        let ids = assign_ids(&[
            sym(Prefix::Action, "FabricIngress.filtering.deny", None),
            sym(Prefix::Action, "ingressImpl.foo2", None),
        ])
        .unwrap();
        assert_eq!(
            ids[&(Prefix::Action, "FabricIngress.filtering.deny".into())],
            17164167
        );
        assert_eq!(ids[&(Prefix::Action, "ingressImpl.foo2".into())], 17174663);
    }

    fn sym(prefix: Prefix, name: &str, explicit: Option<u32>) -> Symbol {
        Symbol {
            prefix,
            name: name.into(),
            explicit,
        }
    }

    #[test]
    fn hashed_ids_carry_the_prefix_and_the_low_hash_bits() {
        let ids = assign_ids(&[sym(Prefix::Table, "ingress.t", None)]).unwrap();
        let expected = 0x0200_0000 | (jenkins_one_at_a_time(b"ingress.t") & 0x00ff_ffff);
        assert_eq!(ids[&(Prefix::Table, "ingress.t".to_string())], expected);
    }

    #[test]
    fn explicit_ids_win_and_hashes_probe_past_them() {
        let h = jenkins_one_at_a_time(b"ingress.a") & 0x00ff_ffff;
        // Another action takes the id "ingress.a" would hash to.
        let ids = assign_ids(&[
            sym(Prefix::Action, "ingress.a", None),
            sym(Prefix::Action, "ingress.b", Some(h)),
        ])
        .unwrap();
        assert_eq!(ids[&(Prefix::Action, "ingress.b".into())], 0x0100_0000 | h);
        assert_eq!(
            ids[&(Prefix::Action, "ingress.a".into())],
            0x0100_0000 | ((h + 1) & 0x00ff_ffff)
        );
    }

    #[test]
    fn bad_explicit_ids_are_refused() {
        let wrong = assign_ids(&[sym(Prefix::Table, "t", Some(0x0100_0005))]).unwrap_err();
        assert!(
            matches!(
                wrong,
                IdError::WrongPrefix {
                    found: 1,
                    expected: 2,
                    ..
                }
            ),
            "{wrong}"
        );
        let dup = assign_ids(&[
            sym(Prefix::Table, "t1", Some(5)),
            sym(Prefix::Table, "t2", Some(0x0200_0005)),
        ])
        .unwrap_err();
        assert!(
            matches!(
                dup,
                IdError::Duplicate {
                    id: 0x0200_0005,
                    ..
                }
            ),
            "{dup}"
        );
        assert!(matches!(
            assign_ids(&[sym(Prefix::Table, "t", Some(0))]),
            Err(IdError::Zero { .. })
        ));
    }

    #[test]
    fn aliases_are_shortest_unique_suffixes() {
        let a = aliases(["ingress.t", "egress.t", "ingress.u", "NoAction"]);
        assert_eq!(a["ingress.t"], "ingress.t");
        assert_eq!(a["egress.t"], "egress.t");
        assert_eq!(a["ingress.u"], "u");
        assert_eq!(a["NoAction"], "NoAction");
    }

    #[test]
    fn prefixes_decode() {
        assert_eq!(prefix_of(0x0200_0001), Some(Prefix::Table));
        assert_eq!(prefix_of(0x1700_0001), Some(Prefix::Digest));
        assert_eq!(prefix_of(0x0500_0001), None);
    }
}
