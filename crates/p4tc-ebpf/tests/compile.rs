//! Every example generates C, and the C compiles with clang.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod common;

use p4tc_ebpf::{clang, generate, CodegenError, Hook};

#[test]
fn every_example_generates_and_compiles() {
    let have_clang = clang::available();
    if !have_clang {
        println!("note: clang is missing, so C is generated but not compiled (apt-get install clang llvm libbpf-dev)");
    }
    let mut failures = Vec::new();
    let mut unsupported = Vec::new();
    let mut compiled = 0;
    let examples = common::examples();
    for (name, path) in &examples {
        let module = common::module_of(path);
        for hook in [Hook::Tc, Hook::Xdp] {
            let g = match generate(&module, name, hook) {
                Ok(g) => g,
                Err(CodegenError::Unsupported { what, .. }) => {
                    unsupported.push(format!("{name} ({hook:?}): {what}"));
                    continue;
                }
                Err(e) => {
                    failures.push(format!("{name} ({hook:?}): {e}"));
                    continue;
                }
            };
            if !have_clang {
                continue;
            }
            let dir = common::out_dir("compile", &format!("{name}-{hook:?}"));
            g.write_to(&dir, name).expect("write C");
            match clang::compile(&dir, name) {
                Ok(_) => compiled += 1,
                Err(e) => failures.push(format!("{name} ({hook:?}): {e}")),
            }
        }
    }
    println!(
        "compiled {compiled} objects from {} examples",
        examples.len()
    );
    for u in &unsupported {
        println!("unsupported: {u}");
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    // simple_l3 is the reference program: it must always get through.
    assert!(!unsupported.iter().any(|u| u.starts_with("simple_l3 ")));
}
