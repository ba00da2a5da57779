//! What a case is: one example program, the hand-written C program of the same behaviour,
//! the table populations to measure at, and how to fill both programs' tables alike.

use std::collections::HashMap;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use anyhow::{anyhow, bail, Context};
use p4tc_ebpf::{sys, Hook};

/// One table population to measure at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scale {
    /// How it is printed (`"1"`, `"1k exact"`, `"16 masks"`, ...).
    pub label: String,
    /// How many entries the case installs at this scale.
    pub entries: usize,
}

impl Scale {
    /// A scale of `entries` entries printed as `label`.
    pub fn new(label: impl Into<String>, entries: usize) -> Scale {
        Scale {
            label: label.into(),
            entries,
        }
    }
}

/// The hand-written program, loaded (TC `classifier` section, or XDP when the case says so).
///
/// The C file holds exactly one program; its maps are reached by their C names.
pub struct HandProgram {
    /// aya's handle: keeps the maps and the program alive.
    _ebpf: aya::Ebpf,
    program: OwnedFd,
    maps: HashMap<String, sys::SizedMap>,
    hook: Hook,
}

impl std::fmt::Debug for HandProgram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandProgram")
            .field("hook", &self.hook)
            .field("maps", &self.maps.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl HandProgram {
    /// Compiles `c_source` with clang in `dir` (as `name.c`, beside p4tc's runtime header so
    /// the same helpers can be included) and loads its one program at `hook`. `max_entries`
    /// resizes maps before they are created, so a table of 1,000,000 entries need not be
    /// declared that large for the small scales.
    pub fn build(
        c_source: &str,
        name: &str,
        hook: Hook,
        dir: &Path,
        max_entries: &[(String, u32)],
    ) -> anyhow::Result<HandProgram> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        std::fs::write(dir.join(format!("{name}.c")), c_source)
            .with_context(|| format!("writing {name}.c in {}", dir.display()))?;
        std::fs::write(dir.join("p4tc_runtime.h"), p4tc_ebpf::RUNTIME_HEADER)
            .context("writing p4tc_runtime.h")?;
        let obj = p4tc_ebpf::clang::compile(dir, name)
            .with_context(|| format!("compiling the hand-written {name}.c"))?;
        let bytes = std::fs::read(&obj).with_context(|| format!("reading {}", obj.display()))?;
        HandProgram::load(&bytes, name, hook, max_entries)
    }

    /// Loads an object holding one program (the verifier runs) at `hook`.
    pub fn load(
        object: &[u8],
        name: &str,
        hook: Hook,
        max_entries: &[(String, u32)],
    ) -> anyhow::Result<HandProgram> {
        let mut loader = aya::EbpfLoader::new();
        for (map, n) in max_entries {
            loader.set_max_entries(map, *n);
        }
        let mut ebpf = loader
            .load(object)
            .map_err(|e| anyhow!("loading the hand-written {name}: {e}"))?;
        let prog_names: Vec<String> = ebpf.programs().map(|(n, _)| n.to_string()).collect();
        let [prog_name] = prog_names.as_slice() else {
            bail!(
                "the hand-written {name} must hold exactly one program, it has {:?}",
                prog_names
            );
        };
        let prog = ebpf
            .program_mut(prog_name)
            .ok_or_else(|| anyhow!("no program {prog_name}"))?;
        let verifier = |e: aya::programs::ProgramError| match e {
            aya::programs::ProgramError::LoadError {
                io_error,
                verifier_log,
            } => anyhow!(
                "the verifier refused the hand-written {name} ({io_error}):\n{verifier_log}"
            ),
            other => anyhow!("loading the hand-written {name}: {other}"),
        };
        let program = match hook {
            Hook::Tc => {
                let p: &mut aya::programs::SchedClassifier = prog
                    .try_into()
                    .map_err(|e| anyhow!("{name}: not a TC classifier: {e}"))?;
                p.load().map_err(verifier)?;
                p.fd()?.as_fd().try_clone_to_owned()?
            }
            Hook::Xdp => {
                let p: &mut aya::programs::Xdp = prog
                    .try_into()
                    .map_err(|e| anyhow!("{name}: not an XDP program: {e}"))?;
                p.load().map_err(verifier)?;
                p.fd()?.as_fd().try_clone_to_owned()?
            }
        };
        let mut maps = HashMap::new();
        for (map_name, map) in ebpf.maps() {
            let data = match map {
                aya::maps::Map::HashMap(d)
                | aya::maps::Map::LpmTrie(d)
                | aya::maps::Map::Array(d)
                | aya::maps::Map::PerCpuArray(d)
                | aya::maps::Map::PerCpuHashMap(d) => d,
                // Other kinds (ring buffers, .rodata, ...) take no entries from a case.
                _ => continue,
            };
            let fd = data.fd().as_fd().try_clone_to_owned()?;
            maps.insert(map_name.to_string(), sys::SizedMap::new(fd)?);
        }
        Ok(HandProgram {
            _ebpf: ebpf,
            program,
            maps,
            hook,
        })
    }

    /// The loaded program, for `sys::test_run`.
    pub fn program_fd(&self) -> BorrowedFd<'_> {
        self.program.as_fd()
    }

    /// Where the program runs.
    pub fn hook(&self) -> Hook {
        self.hook
    }

    /// The map named `map` (its name in the C source).
    pub fn map(&self, map: &str) -> anyhow::Result<&sys::SizedMap> {
        self.maps.get(map).ok_or_else(|| {
            let mut names: Vec<&String> = self.maps.keys().collect();
            names.sort();
            anyhow!("the hand-written program has no map `{map}` (it has {names:?})")
        })
    }

    /// Writes one element of `map` (`BPF_ANY`); key and value must have the map's sizes.
    pub fn map_update(&self, map: &str, key: &[u8], value: &[u8]) -> anyhow::Result<()> {
        let m = self.map(map)?;
        check_sizes(map, m, key, value)?;
        m.update(key, value, sys::BPF_ANY)
            .with_context(|| format!("writing an element of the hand-written map `{map}`"))
    }

    /// Writes many elements of `map` (for the large populations): every key/value pair, in
    /// order, stopping at the first the kernel refuses.
    pub fn map_update_all<'a>(
        &self,
        map: &str,
        elements: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
    ) -> anyhow::Result<usize> {
        let m = self.map(map)?;
        let mut n = 0;
        for (key, value) in elements {
            check_sizes(map, m, key, value)?;
            m.update(key, value, sys::BPF_ANY)
                .with_context(|| format!("writing element {n} of the hand-written map `{map}`"))?;
            n += 1;
        }
        Ok(n)
    }
}

fn check_sizes(map: &str, m: &sys::SizedMap, key: &[u8], value: &[u8]) -> anyhow::Result<()> {
    if key.len() != m.key_size() || value.len() != m.value_size() {
        bail!(
            "the hand-written map `{map}` takes {}-byte keys and {}-byte values, given {} and {}",
            m.key_size(),
            m.value_size(),
            key.len(),
            value.len()
        );
    }
    Ok(())
}

/// One example measured against its hand-written twin.
pub trait Case: Send + Sync {
    /// Directory name under examples/ (the P4 program is examples/X/X.p4).
    fn example(&self) -> &'static str;

    /// The hand-written program's C source (include_str! of crates/p4tc-bench/handwritten/X.c).
    fn handwritten_c(&self) -> &'static str;

    /// TC (default) or XDP.
    fn hook(&self) -> Hook {
        Hook::Tc
    }

    /// The P4 source to compile at `scale` (default: the example unchanged; use
    /// [`with_table_size`] to grow a table's `size`).
    fn source(&self, original: &str, scale: &Scale) -> String {
        let _ = scale;
        original.to_string()
    }

    /// The hand-written program's map sizes at `scale`, `(C map name, max_entries)`, set
    /// before its maps are created (default: as declared in the C source). Use it to give
    /// both programs tables of the same capacity.
    fn hand_map_sizes(&self, scale: &Scale) -> Vec<(String, u32)> {
        let _ = scale;
        Vec::new()
    }

    /// The populations to measure at (at least one).
    fn scales(&self) -> Vec<Scale>;

    /// Installs the same entries into both programs for `scale` and returns the packets to
    /// send (spread over the entries: a uniform cycle), each `(ingress_ifindex, bytes)`.
    fn install(
        &self,
        scale: &Scale,
        ours: &mut dyn p4tc_runtime::ObjectModel,
        model: &p4tc_runtime::PipelineModel,
        hand: &HandProgram,
    ) -> anyhow::Result<Vec<(u32, Vec<u8>)>>;
}

/// Why [`try_with_table_size`] could not resize a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoSuchTable(pub String);

impl std::fmt::Display for NoSuchTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no `table {} {{ ... }}` in the P4 source", self.0)
    }
}

impl std::error::Error for NoSuchTable {}

/// `src` with table `table`'s `size` property set to `size` (added when the table has none).
///
/// # Panics
/// When `src` declares no such table: the case naming it is wrong, which every run would
/// show, so it is a bug to fix rather than an input to report.
pub fn with_table_size(src: &str, table: &str, size: usize) -> String {
    match try_with_table_size(src, table, size) {
        Ok(s) => s,
        Err(e) => panic!("with_table_size: {e}"),
    }
}

/// `src` with table `table`'s `size` property set to `size`, or why not.
pub fn try_with_table_size(src: &str, table: &str, size: usize) -> Result<String, NoSuchTable> {
    let missing = || NoSuchTable(table.to_string());
    let (open, close) = table_body(src, table).ok_or_else(missing)?;
    let body = &src[open + 1..close];
    // A `size = ...;` directly in the table body (depth 0 relative to it): not one inside a
    // nested `key = { ... }` or `entries = { ... }`.
    let mut depth = 0usize;
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' => depth += 1,
            b'}' => depth = depth.saturating_sub(1),
            b's' if depth == 0
                && body[i..].starts_with("size")
                && (i == 0 || !is_ident(bytes[i - 1]))
                && body[i + 4..].trim_start().starts_with('=') =>
            {
                if let Some(semi) = body[i..].find(';') {
                    let start = open + 1 + i;
                    let end = start + semi + 1;
                    return Ok(format!("{}size = {size};{}", &src[..start], &src[end..]));
                }
            }
            _ => {}
        }
        i += 1;
    }
    Ok(format!(
        "{}    size = {size};\n{}",
        &src[..close],
        &src[close..]
    ))
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Byte offsets of the `{` and `}` of `table NAME { ... }`.
fn table_body(src: &str, table: &str) -> Option<(usize, usize)> {
    let bytes = src.as_bytes();
    let mut from = 0;
    while let Some(at) = src[from..].find("table") {
        let at = from + at;
        from = at + 5;
        if at > 0 && is_ident(bytes[at - 1]) {
            continue;
        }
        let rest = &src[at + 5..];
        let trimmed = rest.trim_start();
        if trimmed.len() == rest.len() || !trimmed.starts_with(table) {
            continue;
        }
        let after = &trimmed[table.len()..];
        if after.bytes().next().is_some_and(is_ident) {
            continue;
        }
        let after_trim = after.trim_start();
        if !after_trim.starts_with('{') {
            continue;
        }
        let open = src.len() - after_trim.len();
        let mut depth = 0usize;
        for (j, b) in src.as_bytes()[open..].iter().enumerate() {
            match b {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some((open, open + j));
                    }
                }
                _ => {}
            }
        }
        return None;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "control c() {\n  table t_small { key = { a : exact; } size = 8; }\n  table t {\n    key = { x : exact; }\n    actions = { a; }\n    size = NH_TABLE_SIZE;\n  }\n  table u { key = { x : exact; } }\n}\n";

    #[test]
    fn replaces_the_named_tables_size_only() {
        let out = with_table_size(SRC, "t", 1_000_000);
        assert!(out.contains("size = 1000000;"), "{out}");
        assert!(!out.contains("NH_TABLE_SIZE"), "{out}");
        assert!(out.contains("size = 8;"), "t_small is untouched: {out}");
    }

    #[test]
    fn adds_a_size_when_the_table_has_none() {
        let out = with_table_size(SRC, "u", 100);
        let u = &out[out.find("table u").unwrap()..];
        assert!(u.contains("size = 100;"), "{out}");
        assert!(u.find("size").unwrap() > u.find("key").unwrap());
    }

    #[test]
    fn a_missing_table_is_an_error() {
        assert_eq!(
            try_with_table_size(SRC, "nope", 1),
            Err(NoSuchTable("nope".into()))
        );
        assert!(try_with_table_size(SRC, "t_", 1).is_err());
    }
}
