//! Entries files for `p4tc run --entries`: `p4tc ctl` commands, one per line, applied to the
//! target's object model before the first packet.

use std::path::Path;

use p4tc_testkit::target::Target;

/// Runs the commands of `text` (read from `path`) on `target`; on failure, the message to
/// print, naming the file and line.
pub fn apply(target: &mut dyn Target, path: &Path, text: &str) -> Result<(), String> {
    let _ = (target, text);
    Err(format!(
        "{}: entries files are not supported yet: the `p4tc ctl` command language \
         (p4tc_runtime::ctl) is not built yet",
        path.display()
    ))
}
