//! Building a P4 program for the eBPF datapath, shared by `p4tc compile` and `p4tc load`:
//! the front-end, the introspection JSON, the generated C and clang's object, and the small
//! description (`PROG.p4tc.json`) that lets `p4tc load DIR` find the program again.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use p4tc_ebpf::{Generated, Hook};
use p4tc_ir::{Diagnostic, Span};
use serde::{Deserialize, Serialize};

use crate::check::{preprocess_options, run_front_end, SourceArgs};

/// What the front-end and the generator made of a program. Either may be missing when the
/// program has errors (already printed).
pub struct Front {
    /// The introspection JSON (P4TC's schema), when the program checks.
    pub json: Option<String>,
    /// The eBPF datapath, when the back end could generate it.
    pub generated: Option<Generated>,
    /// The checked program (for the object model of `--entries`).
    pub module: Option<p4tc_ir::ir::Module>,
}

/// Checks `source` and generates its datapath for `hook`, printing diagnostics (warnings
/// too) to stderr.
pub fn front(source: &SourceArgs, name: &str, hook: Hook) -> anyhow::Result<Front> {
    let options = preprocess_options(source)?;
    let name = name.to_string();
    let result = run_front_end(source.file.clone(), options, move |parsed| {
        let module = p4tc_front::check(parsed)?;
        let json = match p4tc_ir::introspection::introspection(&module, &name) {
            Ok(json) => match json.to_json_pretty() {
                Ok(text) => Some(text),
                Err(e) => {
                    parsed.diagnostics.push(Diagnostic::error(
                        Span::default(),
                        format!("cannot write the introspection JSON: {e}"),
                    ));
                    None
                }
            },
            Err(e) => {
                parsed
                    .diagnostics
                    .push(Diagnostic::error(e.span(), e.to_string()));
                None
            }
        };
        // Generation runs here too: the IR is deep, and this thread has the big stack.
        let generated = match p4tc_ebpf::generate(&module, &name, hook) {
            Ok(g) => Some(g),
            Err(e) => {
                parsed.diagnostics.push(Diagnostic::error(
                    e.span(),
                    format!("{e} (hook {})", hook_name(hook)),
                ));
                None
            }
        };
        Some(Front {
            json,
            generated,
            module: Some(module),
        })
    })?;
    eprint!("{}", result.diagnostics);
    Ok(result.output.unwrap_or(Front {
        json: None,
        generated: None,
        module: None,
    }))
}

/// `tc` or `xdp`.
pub fn hook_name(hook: Hook) -> &'static str {
    match hook {
        Hook::Tc => "tc",
        Hook::Xdp => "xdp",
    }
}

/// What `p4tc compile` records next to its output so that `p4tc load DIR` can rebuild the
/// datapath's description (map names and layouts, the program's own entries) from the same
/// source: `DIR/PIPELINE.p4tc.json`.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct BuildInfo {
    /// The pipeline's name.
    pub pipeline: String,
    /// The P4 source, absolute.
    pub source: PathBuf,
    /// `-I` directories.
    pub include: Vec<PathBuf>,
    /// `-D` definitions.
    pub define: Vec<String>,
    /// `tc` or `xdp`.
    pub hook: String,
    /// The C file's name in DIR.
    pub c: String,
    /// The object's name in DIR, when clang built it.
    pub object: Option<String>,
}

impl BuildInfo {
    /// The file it lives in.
    pub fn path(dir: &Path, pipeline: &str) -> PathBuf {
        dir.join(format!("{pipeline}.p4tc.json"))
    }

    /// The one `*.p4tc.json` of `dir`.
    pub fn find(dir: &Path) -> anyhow::Result<BuildInfo> {
        let mut found = Vec::new();
        for entry in
            std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?
        {
            let path = entry?.path();
            if path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(".p4tc.json"))
            {
                found.push(path);
            }
        }
        let path = match found.as_slice() {
            [one] => one.clone(),
            [] => anyhow::bail!(
                "{} holds no *.p4tc.json: give the .p4 file, or compile into it first (p4tc compile PROG.p4 -o {})",
                dir.display(),
                dir.display()
            ),
            _ => anyhow::bail!(
                "{} holds several *.p4tc.json ({} of them): give the .p4 file",
                dir.display(),
                found.len()
            ),
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_str(&text)
            .with_context(|| format!("{} is not a p4tc build description", path.display()))
    }
}

/// Why an object could not be built.
pub enum ObjectError {
    /// clang is missing: p4tc cannot do the job (exit 2).
    Missing(String),
    /// clang failed on the generated C (exit 1); its stderr is in the message.
    Failed(String),
}

/// Writes `generated`'s C into `dir` and compiles it into `dir/NAME.o`.
pub fn build_object(
    dir: &Path,
    name: &str,
    generated: &Generated,
) -> anyhow::Result<Result<PathBuf, ObjectError>> {
    generated
        .write_to(dir, name)
        .with_context(|| format!("cannot write the C into {}", dir.display()))?;
    Ok(match p4tc_ebpf::clang::compile(dir, name) {
        Ok(obj) => Ok(obj),
        Err(e @ p4tc_ebpf::clang::ClangError::Missing(_)) => {
            Err(ObjectError::Missing(e.to_string()))
        }
        Err(e @ p4tc_ebpf::clang::ClangError::Failed { .. }) => {
            Err(ObjectError::Failed(e.to_string()))
        }
        Err(e) => Err(ObjectError::Missing(e.to_string())),
    })
}
