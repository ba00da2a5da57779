//! Entries files for `p4tc run --entries`: `p4tc ctl` commands, one per line, applied to the
//! target's object model before the first packet.

use std::path::Path;
use std::time::Duration;

use p4tc_runtime::ctl::{self, Output};
use p4tc_testkit::target::Target;

/// Runs the commands of `text` (read from `path`) on `target`, in order; on failure, the
/// message to print: every parse error, or the first command the object model refused (and
/// every entry of a batch that failed), each naming the file and line.
pub fn apply(target: &mut dyn Target, path: &Path, text: &str) -> Result<(), String> {
    let pipeline = target.pipeline();
    let name = path.display();
    // `dev` values must be numbers: the interpreter's ports have no interface names.
    let commands = ctl::parse_file(text, &pipeline, &ctl::numbers_only).map_err(|errors| {
        errors
            .iter()
            .map(|e| format!("{name}: {e}"))
            .collect::<Vec<_>>()
            .join("\n")
    })?;
    for command in &commands {
        let at = command.at;
        // Entries go in before the first packet, at time zero on the target's clock.
        let output = ctl::execute(target.control(), &pipeline, command, Duration::ZERO)
            .map_err(|e| format!("{name}: {at}: {e}"))?;
        if let Output::Batch { failures, .. } = &output {
            if !failures.is_empty() {
                return Err(failures
                    .iter()
                    .map(|f| format!("{name}: {at}: entry {} ({}): {}", f.index, f.key, f.error))
                    .collect::<Vec<_>>()
                    .join("\n"));
            }
        }
    }
    Ok(())
}
