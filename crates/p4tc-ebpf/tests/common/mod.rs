//! Shared helpers of the integration tests.
#![allow(dead_code, clippy::print_stdout, clippy::print_stderr)]

use std::path::{Path, PathBuf};

use p4tc_ir::ir::Module;

/// What an Ethernet-only test program has around its control `C`: the headers, a parser that
/// extracts Ethernet, and (in [`ETHERNET_TAIL`]) a deparser that emits it and the main.
const ETHERNET_HEAD: &str = r#"
#include <core.p4>
#include <tc/pna.p4>

header ethernet_t {
    bit<48> dstAddr;
    bit<48> srcAddr;
    bit<16> etherType;
}

struct headers_t {
    ethernet_t ethernet;
}

struct meta_t {
}

parser P(packet_in pkt, out headers_t hdr, inout meta_t meta,
         in pna_main_parser_input_metadata_t istd) {
    state start {
        pkt.extract(hdr.ethernet);
        transition accept;
    }
}
"#;

const ETHERNET_TAIL: &str = r#"
control D(packet_out pkt, in headers_t hdr, in meta_t meta,
          in pna_main_output_metadata_t ostd) {
    apply {
        pkt.emit(hdr.ethernet);
    }
}

PNA_NIC(P(), C(), D()) main;
"#;

/// An Ethernet-only program whose control `C` is `control` (P4 text): what tests about
/// tables and externs need besides their control.
pub fn ethernet_program(control: &str) -> String {
    format!("{ETHERNET_HEAD}\n{control}\n{ETHERNET_TAIL}")
}

/// TC verdicts a test program returns.
pub const TC_ACT_OK: u32 = 0;
pub const TC_ACT_SHOT: u32 = 2;
pub const TC_ACT_REDIRECT: u32 = 7;

/// A control `C` with one table `t`, keyed on the destination MAC (`match_kind`, named
/// `dst`) and `size` entries big: a hit's `fwd(port)` sends the packet to the entry's port,
/// and the default `drop()` drops it.
pub fn forward_control(match_kind: &str, size: u32) -> String {
    forward_control_on("hdr.ethernet.dstAddr", match_kind, size)
}

/// [`forward_control`] keyed on `key` (an expression of `hdr`, still named `dst`).
pub fn forward_control_on(key: &str, match_kind: &str, size: u32) -> String {
    format!(
        r#"
control C(inout headers_t hdr, inout meta_t meta, in pna_main_input_metadata_t istd,
          inout pna_main_output_metadata_t ostd) {{
    action fwd(PortId_t port) {{
        send_to_port(port);
    }}

    action drop() {{
        drop_packet();
    }}

    @tc_acl("CRUDPS:RX")
    table t {{
        key = {{
            {key} : {match_kind} @name("dst");
        }}
        actions = {{
            fwd;
            drop;
        }}
        default_action = drop();
        size = {size};
    }}

    apply {{
        t.apply();
    }}
}}
"#
    )
}

/// Loads `bytes` (described by `g`) and restores into it the maps pinned under `dir`, which is
/// removed whatever the outcome, so that a failing test leaves no pins behind. Returns the
/// program and, per map restored, the elements copied.
pub fn load_and_restore(
    bytes: &[u8],
    g: &p4tc_ebpf::Generated,
    dir: &Path,
) -> (p4tc_ebpf::loader::Loaded, Vec<(String, usize)>) {
    let loaded = p4tc_ebpf::loader::load(bytes, g).expect("load");
    let copied = loaded.restore(dir);
    let _ = std::fs::remove_dir_all(dir);
    (loaded, copied.expect("restore"))
}

/// Table `t` and action `fwd` of a [`forward_control`] program.
pub fn forward_handles(
    p: &p4tc_runtime::PipelineModel,
) -> (
    p4tc_ir::arena::Handle<p4tc_ir::ir::Table>,
    p4tc_ir::arena::Handle<p4tc_ir::ir::Action>,
) {
    let table = p
        .module
        .tables
        .iter()
        .find(|(_, t)| t.name == "t")
        .map(|(h, _)| h)
        .expect("table t");
    let fwd = p
        .module
        .actions
        .iter()
        .find(|(_, a)| a.name == "fwd")
        .map(|(h, _)| h)
        .expect("fwd");
    (table, fwd)
}

/// The pipeline model (named `name`) of [`ethernet_program`]`(control)`, its file written
/// under the test's output directory.
pub fn ethernet_model(
    test: &str,
    name: &str,
    control: &str,
) -> std::sync::Arc<p4tc_runtime::PipelineModel> {
    // A file per call: tests run in parallel, and one must not read another's half-written
    // file.
    static SERIAL: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = out_dir(test, &format!("{name}-{}-{n}", std::process::id()));
    let path = dir.join(format!("{name}.p4"));
    std::fs::write(&path, ethernet_program(control)).expect("write the program");
    let module = std::sync::Arc::new(module_of(&path));
    std::sync::Arc::new(p4tc_runtime::PipelineModel::new(module, name).expect("model"))
}

/// The checked module of the P4 source `src` (called `name.p4` in messages); panics with the
/// diagnostics when it does not check.
pub fn module_of_source(name: &str, src: &str) -> Module {
    let mut parsed = p4tc_front::parse_source(
        &format!("{name}.p4"),
        src,
        &p4tc_front::PreprocessOptions::default(),
    );
    match p4tc_front::check(&mut parsed) {
        Some(m) => m,
        None => panic!("{name} does not check:\n{}", parsed.render_diagnostics()),
    }
}

/// Runs the STF test `stf_text` on `target`: the failures, if any (a test that expects
/// nothing fails too).
pub fn run_stf(
    target: &mut dyn p4tc_testkit::target::Target,
    stf_text: &str,
) -> Result<(), String> {
    let statements = p4tc_testkit::stf::parse(stf_text).map_err(|e| format!("{e:?}"))?;
    let report = p4tc_testkit::stf_run::run(&statements, target);
    if report.passed() && report.expectations > 0 {
        Ok(())
    } else {
        Err(format!("{:#?}", report.failures))
    }
}

/// Runs the STF test `stf_text` on `m` (pipeline `name`) loaded in the kernel at `hook`: the
/// failures, if any.
pub fn run_stf_in_kernel(
    name: &str,
    m: &Module,
    stf_text: &str,
    hook: p4tc_ebpf::Hook,
) -> Result<(), String> {
    let pipeline = std::sync::Arc::new(
        p4tc_runtime::PipelineModel::new(std::sync::Arc::new(m.clone()), name)
            .map_err(|e| e.to_string())?,
    );
    let mut target = p4tc_testkit::kernel_target::KernelTarget::new(pipeline, hook)
        .map_err(|e| e.to_string())?;
    run_stf(&mut target, stf_text)
}

/// [`run_stf_in_kernel`] at TC and at XDP; panics with both hooks' failures.
#[track_caller]
pub fn assert_stf_in_kernel_at_both_hooks(name: &str, m: &Module, stf_text: &str) {
    let failures: Vec<String> = [p4tc_ebpf::Hook::Tc, p4tc_ebpf::Hook::Xdp]
        .into_iter()
        .filter_map(|hook| {
            run_stf_in_kernel(name, m, stf_text, hook)
                .err()
                .map(|e| format!("{hook:?}: {e}"))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The workspace's examples directory.
pub fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

/// Every example program, sorted.
pub fn examples() -> Vec<(String, PathBuf)> {
    let mut v = Vec::new();
    for entry in std::fs::read_dir(examples_dir()).expect("examples/") {
        let dir = entry.expect("entry").path();
        if !dir.is_dir() {
            continue;
        }
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let p4 = dir.join(format!("{name}.p4"));
        if p4.exists() {
            v.push((name, p4));
        }
    }
    v.sort();
    v
}

/// The checked IR of a P4 file.
pub fn module_of(path: &Path) -> Module {
    let mut parsed =
        p4tc_front::parse_file(path, &p4tc_front::PreprocessOptions::default()).expect("readable");
    match p4tc_front::check(&mut parsed) {
        Some(m) => m,
        None => panic!(
            "{} does not check:\n{}",
            path.display(),
            parsed.render_diagnostics()
        ),
    }
}

/// A scratch directory for one example's C and object.
pub fn out_dir(test: &str, name: &str) -> PathBuf {
    let base = std::env::var_os("CARGO_TARGET_TMPDIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let d = base.join("p4tc-ebpf").join(test).join(name);
    std::fs::create_dir_all(&d).expect("out dir");
    d
}

/// Why kernel tests cannot run here, if they cannot: they need root and BTF.
pub fn kernel_unavailable() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let root = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(2))
        == Some("0");
    if !root {
        return Some("not running as root (loading BPF programs needs it)".into());
    }
    if !Path::new("/sys/kernel/btf/vmlinux").exists() {
        return Some("the kernel has no BTF (/sys/kernel/btf/vmlinux)".into());
    }
    if !p4tc_ebpf::clang::available() {
        return Some("clang is missing (apt-get install clang llvm libbpf-dev)".into());
    }
    None
}

/// Why tests that pin maps cannot run here, if they cannot: those of
/// [`kernel_unavailable`], and no bpffs at `/sys/fs/bpf`.
pub fn pinning_unavailable() -> Option<String> {
    kernel_unavailable()
        .or_else(|| (!Path::new(BPFFS).exists()).then(|| format!("no bpffs at {BPFFS}")))
}

/// Where the tests that pin maps pin them (under a directory of their own).
pub const BPFFS: &str = "/sys/fs/bpf";

/// Generates, writes and compiles one example; the object's bytes.
pub fn build(
    name: &str,
    module: &Module,
    hook: p4tc_ebpf::Hook,
    test: &str,
) -> Result<(p4tc_ebpf::Generated, Vec<u8>), String> {
    build_with(name, module, hook, test, &p4tc_ebpf::Options::default())
}

/// [`build`] with generator options.
pub fn build_with(
    name: &str,
    module: &Module,
    hook: p4tc_ebpf::Hook,
    test: &str,
    options: &p4tc_ebpf::Options,
) -> Result<(p4tc_ebpf::Generated, Vec<u8>), String> {
    let g = p4tc_ebpf::generate_with(module, name, hook, options).map_err(|e| e.to_string())?;
    let dir = out_dir(test, &format!("{name}-{hook:?}-{:?}", options.exact_tables));
    g.write_to(&dir, name).map_err(|e| e.to_string())?;
    let obj = p4tc_ebpf::clang::compile(&dir, name).map_err(|e| e.to_string())?;
    let bytes = std::fs::read(obj).map_err(|e| e.to_string())?;
    Ok((g, bytes))
}

/// Loads the object's program (verifier included) and installs the program's entries and
/// default actions; the verifier's log on failure.
pub fn load(g: &p4tc_ebpf::Generated, bytes: &[u8]) -> Result<aya::Ebpf, String> {
    use std::os::fd::AsFd;
    let mut ebpf = aya::Ebpf::load(bytes).map_err(|e| format!("loading the object: {e}"))?;
    {
        let prog = ebpf
            .program_mut(&g.program)
            .ok_or_else(|| "no program p4tc_main".to_string())?;
        let result = match g.hook {
            p4tc_ebpf::Hook::Tc => {
                let p: &mut aya::programs::SchedClassifier =
                    prog.try_into().map_err(|e| format!("{e}"))?;
                p.load()
            }
            p4tc_ebpf::Hook::Xdp => {
                let p: &mut aya::programs::Xdp = prog.try_into().map_err(|e| format!("{e}"))?;
                p.load()
            }
        };
        if let Err(e) = result {
            return Err(match e {
                aya::programs::ProgramError::LoadError {
                    io_error,
                    verifier_log,
                } => {
                    let log = verifier_log.to_string();
                    let lines: Vec<&str> = log.lines().collect();
                    let tail = lines[lines.len().saturating_sub(60)..].join("\n");
                    format!("the verifier refused the program ({io_error}):\n{tail}")
                }
                other => format!("load: {other}"),
            });
        }
    }
    for init in &g.const_entries {
        let map = ebpf
            .map(&init.map)
            .ok_or_else(|| format!("no map {}", init.map))?;
        let fd = match map {
            aya::maps::Map::HashMap(d) | aya::maps::Map::LpmTrie(d) | aya::maps::Map::Array(d) => d
                .fd()
                .as_fd()
                .try_clone_to_owned()
                .map_err(|e| e.to_string())?,
            _ => return Err(format!("map {} is not a hash, trie or array", init.map)),
        };
        // An exact table kept as open addressing is written in its slots.
        match g
            .tables
            .iter()
            .find(|t| t.map == init.map && t.open.is_some())
        {
            Some(t) => p4tc_ebpf::table_map::insert(fd.as_fd(), t, &init.key, &init.value),
            None => p4tc_ebpf::sys::map_update(
                fd.as_fd(),
                &init.key,
                &init.value,
                p4tc_ebpf::sys::BPF_ANY,
            ),
        }
        .map_err(|e| format!("installing {:?} in {}: {e}", init.what, init.map))?;
    }
    Ok(ebpf)
}

/// A descriptor of the loaded object's map `name` (a hash map, trie or array).
pub fn map_fd(ebpf: &aya::Ebpf, name: &str) -> std::os::fd::OwnedFd {
    use std::os::fd::AsFd;
    match ebpf.map(name).expect("map") {
        aya::maps::Map::HashMap(d) | aya::maps::Map::LpmTrie(d) | aya::maps::Map::Array(d) => {
            d.fd().as_fd().try_clone_to_owned().expect("fd")
        }
        _ => panic!("map {name} is not a hash map, trie or array"),
    }
}

/// The loaded program's descriptor.
pub fn prog_fd(ebpf: &aya::Ebpf, g: &p4tc_ebpf::Generated) -> std::os::fd::OwnedFd {
    use std::os::fd::AsFd;
    let prog = ebpf.program(&g.program).expect("program");
    let fd = match g.hook {
        p4tc_ebpf::Hook::Tc => {
            let p: &aya::programs::SchedClassifier = prog.try_into().expect("tc");
            p.fd().expect("loaded").as_fd().try_clone_to_owned()
        }
        p4tc_ebpf::Hook::Xdp => {
            let p: &aya::programs::Xdp = prog.try_into().expect("xdp");
            p.fd().expect("loaded").as_fd().try_clone_to_owned()
        }
    };
    fd.expect("dup")
}

/// True when the main control has no statements (older front-ends lost the apply block), so
/// behaviour cannot be tested, only loading.
pub fn control_is_empty(module: &Module) -> bool {
    let Some(p) = &module.pipeline else {
        return true;
    };
    p.blocks
        .iter()
        .find(|(r, _)| *r == p4tc_ir::ir::Role::MainControl)
        .is_none_or(|(_, b)| module.block_types[*b].body.block.stmts.is_empty())
}

/// A 60-byte frame to `dst` (the low 48 bits) with an EtherType nobody parses: what the
/// Ethernet-only test programs key their tables on.
pub fn frame_to(dst: u64) -> Vec<u8> {
    let mut f = vec![0u8; 60];
    f[..6].copy_from_slice(&dst.to_be_bytes()[2..]);
    f[12] = 0x88;
    f[13] = 0xb5;
    f
}
