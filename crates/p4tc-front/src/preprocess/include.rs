//! Finding `#include` files, telling files apart, and spotting include guards.

use std::path::{Path, PathBuf};

use p4tc_ir::FileId;

use super::directive_name;
use crate::builtin;
use crate::token::{Punct, Token, TokenKind};

/// Prefix of the names built-in includes are shown under (`<builtin>/core.p4`).
pub(super) const BUILTIN_PREFIX: &str = "<builtin>/";

/// What makes two includes the same file: the canonical path on disk, or the built-in's name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) enum FileKey {
    /// A file on disk, by canonical path.
    Disk(PathBuf),
    /// A built-in include, by the name `#include <...>` uses.
    Builtin(&'static str),
    /// A file that is not on disk and not built in (the root given as text, the command
    /// line).
    Other(FileId),
}

impl FileKey {
    /// The key of a file with `path` (if on disk) and id `id`.
    pub fn of(path: Option<&Path>, id: FileId) -> FileKey {
        match path {
            Some(p) => FileKey::Disk(p.canonicalize().unwrap_or_else(|_| p.to_path_buf())),
            None => FileKey::Other(id),
        }
    }
}

/// Where an include was found.
pub(super) enum Found {
    /// A built-in include: its name and text.
    Builtin(&'static str, &'static str),
    /// A file on disk, as the search built its path.
    Disk(PathBuf),
}

/// What is known about the file that contains the `#include`.
pub(super) struct Includer<'a> {
    /// Its path on disk, if any: quoted includes look in its directory first.
    pub path: Option<&'a Path>,
    /// Its name if it is a built-in include: quoted includes look beside it among the
    /// built-ins first.
    pub builtin: Option<&'static str>,
}

fn builtin_named(name: &str) -> Option<Found> {
    builtin::INCLUDES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, text)| Found::Builtin(n, text))
}

/// Looks for include `name`. `<name>` searches the built-ins, then each `-I` directory;
/// `"name"` searches beside the including file, then each `-I` directory, then the built-ins.
/// On failure returns the places searched, for the message.
pub(super) fn resolve(
    name: &str,
    angled: bool,
    includer: &Includer<'_>,
    include_dirs: &[PathBuf],
) -> Result<Found, Vec<String>> {
    let mut searched = Vec::new();
    if angled {
        if let Some(found) = builtin_named(name) {
            return Ok(found);
        }
        searched.push("the built-in includes".to_string());
    } else {
        if let Some(own) = includer.builtin {
            let dir = own.rsplit_once('/').map_or("", |(dir, _)| dir);
            let beside = if dir.is_empty() {
                name.to_string()
            } else {
                format!("{dir}/{name}")
            };
            if let Some(found) = builtin_named(&beside) {
                return Ok(found);
            }
        }
        if let Some(path) = includer.path {
            let dir = path.parent().unwrap_or(Path::new(""));
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Ok(Found::Disk(candidate));
            }
            searched.push(if dir.as_os_str().is_empty() {
                "the current directory".to_string()
            } else {
                dir.display().to_string()
            });
        }
    }
    for dir in include_dirs {
        let candidate = dir.join(name);
        if candidate.is_file() {
            return Ok(Found::Disk(candidate));
        }
        searched.push(dir.display().to_string());
    }
    if !angled {
        if let Some(found) = builtin_named(name) {
            return Ok(found);
        }
        searched.push("the built-in includes".to_string());
    }
    Err(searched)
}

/// The guard macro of a file wrapped whole in `#ifndef GUARD ... #endif`: once `GUARD` is
/// defined, including the file again yields nothing, so it need not even be read (and is no
/// include cycle).
pub(super) fn include_guard(tokens: &[Token]) -> Option<String> {
    let starts_line = |i: usize| {
        tokens
            .get(i)
            .is_none_or(|t| t.line_start || matches!(t.kind, TokenKind::Eof))
    };
    let first = tokens.first()?;
    if !(first.line_start && first.is(Punct::Hash)) || directive_name(tokens, 0) != Some("ifndef") {
        return None;
    }
    let guard = super::ident_name(&tokens.get(2)?.kind)?.to_string();
    if !starts_line(3) {
        return None;
    }
    let mut depth = 1usize;
    let mut i = 3;
    while let Some(t) = tokens.get(i) {
        if matches!(t.kind, TokenKind::Eof) {
            return None;
        }
        if t.line_start && t.is(Punct::Hash) {
            match directive_name(tokens, i) {
                Some("if" | "ifdef" | "ifndef") => depth += 1,
                Some("else" | "elif" | "elifdef" | "elifndef") if depth == 1 => return None,
                Some("endif") => {
                    depth -= 1;
                    if depth == 0 {
                        // Only the rest of the `#endif` line may follow.
                        let mut j = i + 1;
                        while !starts_line(j) {
                            j += 1;
                        }
                        let at_end = tokens
                            .get(j)
                            .is_none_or(|t| matches!(t.kind, TokenKind::Eof));
                        return at_end.then_some(guard);
                    }
                }
                _ => {}
            }
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexer::lex;

    fn guard(text: &str) -> Option<String> {
        include_guard(&lex(FileId(0), text, &mut Vec::new()))
    }

    #[test]
    fn include_guards_are_recognised() {
        assert_eq!(
            guard("#ifndef G\n#define G\nx\n#endif\n").as_deref(),
            Some("G")
        );
        assert_eq!(
            guard("// c\n#ifndef G\n#if 1\n#else\n#endif\n#endif // end\n").as_deref(),
            Some("G")
        );
        assert_eq!(guard("#ifndef G\n#define G\n#else\n#endif"), None);
        assert_eq!(guard("#ifndef G\n#endif\nx"), None);
        assert_eq!(guard("x\n#ifndef G\n#endif"), None);
        assert_eq!(guard("#ifndef G\nx"), None);
        assert_eq!(guard("#ifdef G\n#endif"), None);
        assert_eq!(guard(""), None);
    }

    #[test]
    fn resolution_order() {
        let none = Includer {
            path: None,
            builtin: None,
        };
        assert!(matches!(
            resolve("core.p4", true, &none, &[]),
            Ok(Found::Builtin("core.p4", _))
        ));
        assert!(matches!(
            resolve("core.p4", false, &none, &[]),
            Ok(Found::Builtin("core.p4", _))
        ));
        // Beside a built-in include, among the built-ins.
        let tc = Includer {
            path: None,
            builtin: Some("tc/pna.p4"),
        };
        assert!(matches!(
            resolve("pna.p4", false, &tc, &[]),
            Ok(Found::Builtin("tc/pna.p4", _))
        ));
        let dirs = [
            PathBuf::from("/nonexistent/a"),
            PathBuf::from("/nonexistent/b"),
        ];
        let Err(searched) = resolve("x.p4", true, &none, &dirs) else {
            panic!("found x.p4")
        };
        assert_eq!(
            searched,
            ["the built-in includes", "/nonexistent/a", "/nonexistent/b"]
        );
        let file = Includer {
            path: Some(Path::new("/nonexistent/src/main.p4")),
            builtin: None,
        };
        let Err(searched) = resolve("x.p4", false, &file, &dirs) else {
            panic!("found x.p4")
        };
        assert_eq!(
            searched,
            [
                "/nonexistent/src",
                "/nonexistent/a",
                "/nonexistent/b",
                "the built-in includes"
            ]
        );
    }
}
