//! The files a program was read from, and how byte offsets map to lines and columns.

use std::path::{Path, PathBuf};

use crate::span::Span;

/// Index of a file in a [`SourceMap`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// One file: its name as shown in diagnostics, where it lives (if on disk), and its text.
#[derive(Debug)]
pub struct SourceFile {
    /// Name shown in diagnostics: the path as the user gave it, or `<core.p4>` for a built-in.
    pub name: String,
    /// The file on disk, if any; `#include "..."` resolves relative to its directory.
    pub path: Option<PathBuf>,
    /// The whole text.
    pub text: String,
    line_starts: Vec<u32>,
    /// `#line` directives: from byte `offset` on, the line after the directive is numbered
    /// `line`, in file `name` if one was given. Sorted by offset.
    line_directives: Vec<LineDirective>,
}

#[derive(Debug, Clone)]
struct LineDirective {
    offset: u32,
    physical_line: u32,
    line: u32,
    name: Option<String>,
}

/// A resolved position, as printed in `file:line:col`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// File name as shown (after `#line` renaming).
    pub name: String,
    /// 1-based line as shown (after `#line` renumbering).
    pub line: u32,
    /// 1-based column, counted in characters.
    pub col: u32,
    /// 0-based physical line in the real file, for fetching the source text.
    pub physical_line: u32,
}

impl SourceFile {
    fn new(name: String, path: Option<PathBuf>, text: String) -> SourceFile {
        let mut line_starts = vec![0];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(i as u32 + 1);
            }
        }
        SourceFile {
            name,
            path,
            text,
            line_starts,
            line_directives: Vec::new(),
        }
    }

    /// The 0-based physical line holding byte `offset`.
    pub fn physical_line(&self, offset: u32) -> u32 {
        match self.line_starts.binary_search(&offset) {
            Ok(i) => i as u32,
            Err(i) => i as u32 - 1,
        }
    }

    /// The text of 0-based physical line `line`, without its newline.
    pub fn line_text(&self, line: u32) -> &str {
        let start = self.line_starts[line as usize] as usize;
        let end = self
            .line_starts
            .get(line as usize + 1)
            .map(|&e| e as usize)
            .unwrap_or(self.text.len());
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }

    /// Byte offset where 0-based physical line `line` starts.
    pub fn line_start(&self, line: u32) -> u32 {
        self.line_starts[line as usize]
    }

    /// Where byte `offset` is, as a user reads it.
    pub fn position(&self, offset: u32) -> Position {
        let physical_line = self.physical_line(offset);
        let start = self.line_starts[physical_line as usize] as usize;
        let end = (offset as usize).min(self.text.len());
        let col = self
            .text
            .get(start..end)
            .map(|s| s.chars().count())
            .unwrap_or(end - start) as u32
            + 1;
        let directive = self
            .line_directives
            .iter()
            .rev()
            .find(|d| d.offset <= offset);
        let (name, line) = match directive {
            Some(d) => {
                let name = self
                    .line_directives
                    .iter()
                    .rev()
                    .filter(|e| e.offset <= offset)
                    .find_map(|e| e.name.clone())
                    .unwrap_or_else(|| self.name.clone());
                (name, d.line + (physical_line - d.physical_line))
            }
            None => (self.name.clone(), physical_line + 1),
        };
        Position {
            name,
            line,
            col,
            physical_line,
        }
    }
}

/// All files read while compiling one program. Files are never removed, so a [`FileId`] stays
/// valid for the map's life.
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    /// An empty map.
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    /// Adds a file and returns its id.
    pub fn add(
        &mut self,
        name: impl Into<String>,
        path: Option<&Path>,
        text: impl Into<String>,
    ) -> FileId {
        let id = FileId(self.files.len() as u32);
        self.files.push(SourceFile::new(
            name.into(),
            path.map(Path::to_path_buf),
            text.into(),
        ));
        id
    }

    /// The file with id `id`.
    pub fn file(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    /// All files, in the order they were added.
    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }

    /// The text a span covers.
    pub fn snippet(&self, span: Span) -> &str {
        let text = &self.file(span.file).text;
        text.get(span.lo as usize..span.hi as usize).unwrap_or("")
    }

    /// Records a `#line LINE ["NAME"]` directive whose own line ends at byte `after`: the next
    /// physical line is then shown as line `line`.
    pub fn add_line_directive(
        &mut self,
        file: FileId,
        after: u32,
        line: u32,
        name: Option<String>,
    ) {
        let f = &mut self.files[file.0 as usize];
        let physical_line = f.physical_line(after) + 1;
        let offset = f
            .line_starts
            .get(physical_line as usize)
            .copied()
            .unwrap_or(f.text.len() as u32);
        f.line_directives.push(LineDirective {
            offset,
            physical_line,
            line,
            name,
        });
        f.line_directives.sort_by_key(|d| d.offset);
    }

    /// Where a span starts, as a user reads it.
    pub fn position(&self, span: Span) -> Position {
        self.file(span.file).position(span.lo)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_columns_from_one() {
        let mut map = SourceMap::new();
        let f = map.add("a.p4", None, "ab\ncd\n\tx");
        assert_eq!(map.position(Span::new(f, 0, 1)).line, 1);
        let p = map.position(Span::new(f, 4, 5));
        assert_eq!((p.line, p.col), (2, 2));
        let p = map.position(Span::new(f, 7, 8));
        assert_eq!((p.line, p.col), (3, 2));
        assert_eq!(map.file(f).line_text(1), "cd");
    }

    #[test]
    fn line_directive_renumbers_and_renames() {
        let mut map = SourceMap::new();
        let text = "a\n#line 100 \"gen.p4\"\nb\nc\n";
        let f = map.add("a.p4", None, text);
        let directive_end = text.find("\"gen.p4\"").unwrap() as u32;
        map.add_line_directive(f, directive_end, 100, Some("gen.p4".into()));
        let b = text.find('b').unwrap() as u32;
        let p = map.position(Span::new(f, b, b + 1));
        assert_eq!((p.name.as_str(), p.line), ("gen.p4", 100));
        let c = text.find('c').unwrap() as u32;
        assert_eq!(map.position(Span::new(f, c, c + 1)).line, 101);
        assert_eq!(map.position(Span::new(f, 0, 1)).line, 1);
    }
}
