//! Shared by the tests and the benchmarks: pipeline models built from real P4 programs.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use num_bigint::BigUint;
use p4tc_front::PreprocessOptions;
use p4tc_ir::arena::Handle;
use p4tc_ir::ir;
use p4tc_runtime::{ManualClock, MemoryBackend, PipelineModel};

/// The front end recurses deeply on deep programs; it gets the stack `p4tc check` gives it.
const STACK_SIZE: usize = 256 * 1024 * 1024;

fn run_front_end(name: String, text: Option<String>) -> ir::Module {
    std::thread::Builder::new()
        .stack_size(STACK_SIZE)
        .spawn(move || {
            let options = PreprocessOptions::default();
            let mut parsed = match text {
                Some(text) => p4tc_front::parse_source(&name, &text, &options),
                None => p4tc_front::parse_file(std::path::Path::new(&name), &options)
                    .unwrap_or_else(|e| panic!("cannot read {name}: {e}")),
            };
            let module = p4tc_front::check(&mut parsed);
            match module {
                Some(m) if !parsed.has_errors() => m,
                _ => panic!("{name} does not check:\n{}", parsed.render_diagnostics()),
            }
        })
        .expect("spawn the front end")
        .join()
        .expect("the front end panicked")
}

/// The model of `examples/NAME/NAME.p4`.
pub fn example(name: &str) -> Arc<PipelineModel> {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", "..", "examples", name]
        .iter()
        .collect::<PathBuf>()
        .join(format!("{name}.p4"));
    let module = run_front_end(path.display().to_string(), None);
    Arc::new(PipelineModel::new(Arc::new(module), name).expect("model"))
}

/// The model of a PNA program whose control is `control` (declarations, tables, actions)
/// applying `apply`. Headers: `hdr.eth` (dst, src: bit<48>, etype: bit<16>), `hdr.ip`
/// (proto: bit<8>, src, dst: bit<32>); metadata `meta.a`, `meta.b` (bit<16>), `meta.c`
/// (bit<8>), `meta.d` (bit<32>).
pub fn program(control: &str, apply: &str) -> Arc<PipelineModel> {
    let text = format!(
        r#"#include <core.p4>
#include <tc/pna.p4>
header eth_t {{ bit<48> dst; bit<48> src; bit<16> etype; }}
header ip_t {{ bit<8> proto; bit<32> src; bit<32> dst; }}
struct headers_t {{ eth_t eth; ip_t ip; }}
struct meta_t {{ bit<16> a; bit<16> b; bit<8> c; bit<32> d; }}
struct pair_t {{ bit<16> first; bit<8> second; }}
struct one16_t {{ bit<16> v; }}
struct empty_t {{ }}
parser P(packet_in pkt, out headers_t hdr, inout meta_t meta,
         in pna_main_parser_input_metadata_t istd) {{
    state start {{ pkt.extract(hdr.eth); pkt.extract(hdr.ip); transition accept; }}
}}
control C(inout headers_t hdr, inout meta_t meta, in pna_main_input_metadata_t istd,
          inout pna_main_output_metadata_t ostd) {{
{control}
    apply {{
{apply}
    }}
}}
control D(packet_out pkt, inout headers_t hdr, in meta_t meta,
          in pna_main_output_metadata_t ostd) {{
    apply {{ pkt.emit(hdr.eth); pkt.emit(hdr.ip); }}
}}
PNA_NIC(P(), C(), D()) main;
"#
    );
    let module = run_front_end("test.p4".into(), Some(text));
    Arc::new(PipelineModel::new(Arc::new(module), "test").expect("model"))
}

/// A backend on a manual clock.
pub fn backend(model: &Arc<PipelineModel>) -> (MemoryBackend, ManualClock) {
    let clock = ManualClock::new();
    let backend = MemoryBackend::new(Arc::clone(model), Arc::new(clock.clone())).expect("backend");
    (backend, clock)
}

/// The table named `name`.
pub fn table(model: &PipelineModel, name: &str) -> Handle<ir::Table> {
    model
        .table_by_name(name)
        .unwrap_or_else(|| panic!("no table {name}"))
        .handle
}

/// The action `action` of table `table`.
pub fn action(model: &PipelineModel, table: &str, action: &str) -> Handle<ir::Action> {
    model
        .table_by_name(table)
        .and_then(|t| t.action_by_name(action))
        .unwrap_or_else(|| panic!("no action {action} in {table}"))
        .handle
}

/// The extern instance named `name`.
pub fn instance(model: &PipelineModel, name: &str) -> Handle<ir::Instance> {
    model
        .instance_by_name(name)
        .unwrap_or_else(|| panic!("no instance {name}"))
        .handle
}

/// A big unsigned integer.
pub fn u(v: u128) -> BigUint {
    BigUint::from(v)
}

/// The lookup blob of `values` in `table`.
pub fn key(model: &PipelineModel, table: &str, values: &[u128]) -> Vec<u8> {
    model
        .table_by_name(table)
        .expect("table")
        .key_layout
        .encode_key(values)
        .expect("key")
}
