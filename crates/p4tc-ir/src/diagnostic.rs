//! One diagnostic type for every stage, and its one renderer.
//!
//! A [`Diagnostic`] is data: a severity, a message, labelled spans and notes. Stages collect
//! them (reporting every error they can, not just the first) and the binary renders them with
//! [`Diagnostic::render`] in the form compilers have used for decades:
//!
//! ```text
//! prog.p4:3:14: error: expected `;`, found `}`
//!     x = y + 1 }
//!               ^ expected `;`
//! ```

use std::fmt::Write as _;

use crate::source::SourceMap;
use crate::span::Span;

/// How bad it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Extra information attached to another diagnostic.
    Note,
    /// Accepted, but probably not what the author meant.
    Warning,
    /// The program is rejected.
    Error,
}

impl Severity {
    fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A span with an optional short message shown beside its caret.
#[derive(Clone, Debug)]
pub struct Label {
    /// What is pointed at.
    pub span: Span,
    /// Shown after the carets; may be empty.
    pub message: String,
}

/// A message about the program, pointing into its source.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    /// Error, warning or note.
    pub severity: Severity,
    /// One line saying what is wrong, starting in lower case, without a final period.
    pub message: String,
    /// The offending place. Its position starts the rendered line.
    pub primary: Label,
    /// Other places worth showing (the earlier definition, the opening brace, ...).
    pub secondary: Vec<Label>,
    /// Free-form lines printed after the snippets (`help: ...`, `note: ...`).
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// An error at `span`.
    pub fn error(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            primary: Label {
                span,
                message: String::new(),
            },
            secondary: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// A warning at `span`.
    pub fn warning(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(span, message)
        }
    }

    /// Sets the message shown beside the primary caret.
    pub fn with_label(mut self, message: impl Into<String>) -> Diagnostic {
        self.primary.message = message.into();
        self
    }

    /// Adds another labelled place.
    pub fn with_secondary(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.secondary.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    /// Adds a note line (printed as `note: ...`).
    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Renders as `file:line:col: severity: message`, the source line, and carets under the
    /// offending text; then each secondary label the same way as a note, then the notes.
    pub fn render(&self, sources: &SourceMap) -> String {
        let mut out = String::new();
        render_label(
            &mut out,
            sources,
            &self.primary,
            self.severity.as_str(),
            &self.message,
        );
        for label in &self.secondary {
            render_label(&mut out, sources, label, "note", &label.message);
        }
        for note in &self.notes {
            let _ = writeln!(out, "note: {note}");
        }
        out
    }
}

fn render_label(
    out: &mut String,
    sources: &SourceMap,
    label: &Label,
    severity: &str,
    message: &str,
) {
    let file = sources.file(label.span.file);
    let pos = file.position(label.span.lo);
    let _ = writeln!(
        out,
        "{}:{}:{}: {}: {}",
        pos.name, pos.line, pos.col, severity, message
    );
    let line = file.line_text(pos.physical_line);
    let _ = writeln!(out, "{line}");
    // Keep tabs from the source line so the carets line up however wide a tab is shown.
    let col = pos.col as usize - 1;
    let mut caret_line: String = line
        .chars()
        .take(col)
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    let line_end = file.line_start(pos.physical_line) + line.len() as u32;
    let covered = label.span.hi.min(line_end).saturating_sub(label.span.lo) as usize;
    let width = file
        .text
        .get(label.span.lo as usize..label.span.lo as usize + covered)
        .map(|s| s.chars().count())
        .unwrap_or(covered)
        .max(1);
    caret_line.extend(std::iter::repeat_n('^', width));
    if !label.message.is_empty() && !std::ptr::eq(message, label.message.as_str()) {
        caret_line.push(' ');
        caret_line.push_str(&label.message);
    }
    let _ = writeln!(out, "{}", caret_line.trim_end());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_position_line_and_caret() {
        let mut map = SourceMap::new();
        let f = map.add("p.p4", None, "const bit<8> x = 1\n}\n");
        let d =
            Diagnostic::error(Span::new(f, 19, 20), "expected `;`, found `}`").with_label("here");
        assert_eq!(
            d.render(&map),
            "p.p4:2:1: error: expected `;`, found `}`\n}\n^ here\n"
        );
    }

    #[test]
    fn caret_keeps_tabs_and_covers_the_span() {
        let mut map = SourceMap::new();
        let f = map.add("t.p4", None, "\tfoo bar;\n");
        let d = Diagnostic::error(Span::new(f, 5, 8), "unknown name `bar`");
        assert_eq!(
            d.render(&map),
            "t.p4:1:6: error: unknown name `bar`\n\tfoo bar;\n\t    ^^^\n"
        );
    }

    #[test]
    fn empty_span_at_end_of_file_still_gets_a_caret() {
        let mut map = SourceMap::new();
        let f = map.add("e.p4", None, "control c() {");
        let d = Diagnostic::error(Span::new(f, 13, 13), "unexpected end of file");
        assert_eq!(
            d.render(&map),
            "e.p4:1:14: error: unexpected end of file\ncontrol c() {\n             ^\n"
        );
    }
}
