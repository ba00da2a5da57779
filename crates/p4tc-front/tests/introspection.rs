//! P4TC's introspection JSON for every example, against snapshots in `tests/out/NAME.json`
//! (`BLESS=1` rewrites them), and agreement of its sizes with the layout module: the JSON and
//! the datapath must never disagree on a key or parameter width.

use std::path::{Path, PathBuf};

use p4tc_front::{check, parse_file, PreprocessOptions};
use p4tc_ir::introspection::introspection;
use p4tc_ir::layout::{action_param_layout, table_key_layout};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every example program, with its pipeline name.
fn examples() -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(root().join("examples")).expect("examples directory") {
        let dir = entry.expect("entry").path();
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let program = dir.join(format!("{name}.p4"));
        if program.exists() {
            out.push((name, program));
        }
    }
    out.sort();
    out
}

fn module_of(path: &Path) -> p4tc_ir::ir::Module {
    let mut parsed = parse_file(path, &PreprocessOptions::default()).expect("readable");
    check(&mut parsed).unwrap_or_else(|| {
        panic!(
            "{} does not check:\n{}",
            path.display(),
            parsed.render_diagnostics()
        )
    })
}

#[test]
fn introspection_matches_the_snapshots() {
    let bless = std::env::var_os("BLESS").is_some();
    let mut mismatches = Vec::new();
    for (name, path) in examples() {
        let module = module_of(&path);
        let json = introspection(&module, &name)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .to_json_pretty()
            .expect("serialisable")
            + "\n";
        let snapshot = root().join("tests/out").join(format!("{name}.json"));
        if bless {
            std::fs::write(&snapshot, &json).expect("writable");
            continue;
        }
        match std::fs::read_to_string(&snapshot) {
            Ok(expected) if expected == json => {}
            Ok(_) => mismatches.push(format!("{name}: differs from {}", snapshot.display())),
            Err(_) => mismatches.push(format!(
                "{name}: no snapshot {} (run with BLESS=1)",
                snapshot.display()
            )),
        }
    }
    assert!(
        mismatches.is_empty(),
        "{}\nrun `BLESS=1 cargo test -p p4tc-front --test introspection` and review the diff",
        mismatches.join("\n")
    );
}

#[test]
fn introspection_sizes_are_the_layout_sizes() {
    for (name, path) in examples() {
        let module = module_of(&path);
        let json = introspection(&module, &name).unwrap_or_else(|e| panic!("{name}: {e}"));
        for (handle, table) in module.tables.iter() {
            let layout =
                table_key_layout(&module, handle).unwrap_or_else(|e| panic!("{name}: {e}"));
            let described = json
                .tables
                .iter()
                .find(|t| t.name.ends_with(&format!("/{}", table.name)))
                .unwrap_or_else(|| panic!("{name}: table {} missing from the JSON", table.name));
            assert_eq!(
                described.keysize, layout.width,
                "{name}: keysize of {}",
                table.name
            );
            for (field, key) in layout.fields.iter().zip(&described.keyfields) {
                assert_eq!(
                    key.bitwidth, field.field.width,
                    "{name}: key {} of {}",
                    key.name, table.name
                );
            }
            for action in &described.actions {
                // The JSON names a control's action `control/action`, a top-level one plainly.
                let (handle, _) = module
                    .actions
                    .iter()
                    .find(|(_, a)| {
                        let full = match a.control {
                            Some(c) => format!("{}/{}", module.block_types[c].name, a.name),
                            None => a.name.clone(),
                        };
                        full == action.name
                    })
                    .unwrap_or_else(|| panic!("{name}: action {}", action.name));
                let params =
                    action_param_layout(&module, handle).unwrap_or_else(|e| panic!("{name}: {e}"));
                let widths: Vec<u32> = params.params.iter().map(|p| p.field.width).collect();
                let described: Vec<u32> = action.params.iter().map(|p| p.bitwidth).collect();
                assert_eq!(described, widths, "{name}: parameters of {}", action.name);
            }
        }
    }
}
