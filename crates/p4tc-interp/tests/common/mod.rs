//! Shared test helpers: loading programs and a small `Datapath` double.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use num_bigint::BigUint;
use p4tc_ir::arena::Handle;
use p4tc_ir::ir::{self, ActionArg, Module, Value};
use p4tc_ir::layout::action_param_layout;
use p4tc_runtime::{Color, Datapath, EntryRef, Lookup};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Checks a program into a module (in a thread with a big stack, as the front-end needs).
pub fn load(path: &Path) -> Result<Arc<Module>, String> {
    let path = path.to_path_buf();
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || {
            let mut parsed = p4tc_front::parse_file(&path, &Default::default())
                .map_err(|e| format!("{}: {e}", path.display()))?;
            let module = p4tc_front::check(&mut parsed);
            match module {
                Some(m) if !parsed.has_errors() => Ok(Arc::new(m)),
                _ => Err(parsed.render_diagnostics()),
            }
        })
        .expect("thread")
        .join()
        .expect("front-end panicked")
}

/// Checks a program given as text; panics with its diagnostics when it has errors.
pub fn load_source(text: &str) -> Arc<Module> {
    let text = text.to_string();
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || {
            let mut parsed = p4tc_front::parse_source("t.p4", &text, &Default::default());
            let m = p4tc_front::check(&mut parsed);
            assert!(!parsed.has_errors(), "{}", parsed.render_diagnostics());
            Arc::new(m.expect("module"))
        })
        .expect("thread")
        .join()
        .expect("front-end panicked")
}

/// An example by name.
pub fn example(name: &str) -> Arc<Module> {
    load(&root().join(format!("examples/{name}/{name}.p4"))).expect("example checks")
}

/// Every example program's path.
pub fn examples() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("examples"))
        .expect("examples")
        .filter_map(|d| d.ok())
        .map(|d| {
            let name = d.file_name().to_string_lossy().to_string();
            d.path().join(format!("{name}.p4"))
        })
        .filter(|p| p.exists())
        .collect();
    v.sort();
    v
}

/// The table named `name`.
pub fn table(m: &Module, name: &str) -> Handle<ir::Table> {
    m.tables
        .iter()
        .find(|(_, t)| t.name == name)
        .map(|(h, _)| h)
        .expect("table")
}

/// The action named `name`.
pub fn action(m: &Module, name: &str) -> Handle<ir::Action> {
    m.actions
        .iter()
        .find(|(_, a)| a.name == name)
        .map(|(h, _)| h)
        .expect("action")
}

/// Entries by (table index, key blob): the action and its parameter blob.
pub type Entries = HashMap<(usize, Vec<u8>), (Handle<ir::Action>, Vec<u8>)>;
/// An `add_entry` call: table, key, action, parameters, profile.
pub type Added = (Handle<ir::Table>, Vec<u8>, Handle<ir::Action>, Vec<u8>, u32);

/// A `Datapath` double: exact-match tables on key blobs, default actions from the program,
/// and a record of what the program did.
#[derive(Default)]
pub struct Double {
    pub entries: Entries,
    pub defaults: HashMap<usize, (Handle<ir::Action>, Vec<u8>)>,
    pub counts: Vec<(Handle<ir::Instance>, u64, u64)>,
    pub direct_counts: Vec<(Handle<ir::Table>, Option<EntryRef>, u64)>,
    pub digests: Vec<(Handle<ir::Instance>, Vec<u8>)>,
    pub registers: HashMap<(usize, u64), Vec<u8>>,
    pub added: Vec<Added>,
    pub lookups: Vec<(Handle<ir::Table>, Vec<u8>)>,
    ids: HashMap<(usize, Vec<u8>), u32>,
    empty: Vec<u8>,
}

impl Double {
    /// A double with the program's default actions.
    pub fn new(m: &Module) -> Double {
        let mut d = Double::default();
        for (h, t) in m.tables.iter() {
            if let Some(call) = &t.default_action {
                let Ok(layout) = action_param_layout(m, call.action) else {
                    continue;
                };
                let values: Vec<BigUint> = layout
                    .params
                    .iter()
                    .map(|p| match call.args.get(p.index) {
                        Some(ActionArg::Value(Value::Int(i))) => i.to_biguint().unwrap_or_default(),
                        Some(ActionArg::Value(Value::Bool(b))) => BigUint::from(u8::from(*b)),
                        _ => BigUint::default(),
                    })
                    .collect();
                let blob = layout.encode(&values).expect("default params");
                d.defaults.insert(h.index(), (call.action, blob));
            }
        }
        d
    }

    /// Adds an entry: `key` is the lookup blob.
    pub fn add(
        &mut self,
        t: Handle<ir::Table>,
        key: Vec<u8>,
        a: Handle<ir::Action>,
        params: Vec<u8>,
    ) {
        let id = self.ids.len() as u32;
        self.ids.insert((t.index(), key.clone()), id);
        self.entries.insert((t.index(), key), (a, params));
    }
}

impl Datapath for Double {
    fn lookup(&mut self, table: Handle<ir::Table>, key: &[u8]) -> Lookup<'_> {
        self.lookups.push((table, key.to_vec()));
        let k = (table.index(), key.to_vec());
        if let Some((a, p)) = self.entries.get(&k) {
            return Lookup {
                entry: self.ids.get(&k).map(|&i| EntryRef(i)),
                action: Some(*a),
                params: p,
            };
        }
        match self.defaults.get(&table.index()) {
            Some((a, p)) => Lookup {
                entry: None,
                action: Some(*a),
                params: p,
            },
            None => Lookup {
                entry: None,
                action: None,
                params: &self.empty,
            },
        }
    }
    fn add_entry(
        &mut self,
        table: Handle<ir::Table>,
        key: &[u8],
        action: Handle<ir::Action>,
        params: &[u8],
        profile: u32,
    ) -> bool {
        self.added
            .push((table, key.to_vec(), action, params.to_vec(), profile));
        self.add(table, key.to_vec(), action, params.to_vec());
        true
    }
    fn set_entry_expire_time(&mut self, _: Handle<ir::Table>, _: EntryRef, _: u32) {}
    fn count(&mut self, counter: Handle<ir::Instance>, index: u64, bytes: u64) {
        self.counts.push((counter, index, bytes));
    }
    fn count_direct(&mut self, table: Handle<ir::Table>, entry: Option<EntryRef>, bytes: u64) {
        self.direct_counts.push((table, entry, bytes));
    }
    fn meter(&mut self, _: Handle<ir::Instance>, _: u64, _: u64, color: Option<Color>) -> Color {
        color.unwrap_or(Color::Green)
    }
    fn meter_direct(
        &mut self,
        _: Handle<ir::Table>,
        _: Option<EntryRef>,
        _: u64,
        color: Option<Color>,
    ) -> Color {
        color.unwrap_or(Color::Green)
    }
    fn register_read(&mut self, register: Handle<ir::Instance>, index: u64, out: &mut [u8]) {
        if let Some(v) = self.registers.get(&(register.index(), index)) {
            if v.len() == out.len() {
                out.copy_from_slice(v);
            }
        } else {
            out.fill(0);
        }
    }
    fn register_write(&mut self, register: Handle<ir::Instance>, index: u64, value: &[u8]) {
        self.registers
            .insert((register.index(), index), value.to_vec());
    }
    fn digest(&mut self, digest: Handle<ir::Instance>, payload: &[u8]) {
        self.digests.push((digest, payload.to_vec()));
    }
    fn expire(&mut self) {}
    fn now(&self) -> Duration {
        Duration::from_micros(1)
    }
}

/// An Ethernet + IPv4 packet (20-byte header, no options) with `payload`.
pub fn ipv4_packet(
    dst_mac: [u8; 6],
    src_mac: [u8; 6],
    src: [u8; 4],
    dst: [u8; 4],
    proto: u8,
    payload: &[u8],
) -> Vec<u8> {
    let mut p = Vec::new();
    p.extend_from_slice(&dst_mac);
    p.extend_from_slice(&src_mac);
    p.extend_from_slice(&[0x08, 0x00]);
    let total = 20 + payload.len() as u16;
    p.extend_from_slice(&[0x45, 0x00]);
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&[0x00, 0x01, 0x40, 0x00, 64, proto, 0, 0]);
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(payload);
    p
}
