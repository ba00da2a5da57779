//! Compiling generated C with clang: `clang -O2 -g -target bpf -c PROG.c -o PROG.o`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Why an object could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClangError {
    /// clang is not installed (or not on `PATH`).
    #[error("clang was not found ({0}); install it with `apt-get install clang llvm libbpf-dev`")]
    Missing(String),
    /// clang ran and failed.
    #[error("clang failed on {file}:\n{stderr}")]
    Failed {
        /// The C file.
        file: PathBuf,
        /// What clang said.
        stderr: String,
    },
    /// Something else went wrong running it.
    #[error("running clang: {0}")]
    Io(#[from] std::io::Error),
}

/// The clang to run: `$P4TC_CLANG`, else `clang`.
fn clang_program() -> String {
    std::env::var("P4TC_CLANG").unwrap_or_else(|_| "clang".into())
}

/// True when clang can be run.
pub fn available() -> bool {
    Command::new(clang_program())
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Compiles `dir/name.c` (with `p4tc_runtime.h` beside it) into `dir/name.o` and returns its
/// path.
pub fn compile(dir: &Path, name: &str) -> Result<PathBuf, ClangError> {
    let src = dir.join(format!("{name}.c"));
    let obj = dir.join(format!("{name}.o"));
    let mut cmd = Command::new(clang_program());
    cmd.args([
        "-O2",
        "-g",
        "-target",
        "bpf",
        "-Wall",
        "-Wno-unused-variable",
        "-Wno-unused-label",
        "-Wno-unused-function",
    ])
    .arg("-I")
    .arg(dir);
    // With `-target bpf`, <linux/types.h> finds <asm/types.h> only in the host's multiarch
    // include directory.
    for multiarch in [
        "/usr/include/x86_64-linux-gnu",
        "/usr/include/aarch64-linux-gnu",
    ] {
        if Path::new(multiarch).join("asm").is_dir() {
            cmd.arg("-I").arg(multiarch);
            break;
        }
    }
    cmd.arg("-c").arg(&src).arg("-o").arg(&obj);
    let output = match cmd.output() {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ClangError::Missing(e.to_string()))
        }
        Err(e) => return Err(ClangError::Io(e)),
    };
    if !output.status.success() {
        return Err(ClangError::Failed {
            file: src,
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    Ok(obj)
}
