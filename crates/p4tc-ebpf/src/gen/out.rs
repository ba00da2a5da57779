//! An indented text buffer and C naming helpers.

/// Lines of C with an indentation level.
#[derive(Default)]
pub(crate) struct Out {
    pub(crate) text: String,
    pub(crate) indent: usize,
}

impl Out {
    pub(crate) fn new(indent: usize) -> Out {
        Out {
            text: String::new(),
            indent,
        }
    }

    /// One line at the current indentation.
    pub(crate) fn line(&mut self, s: impl AsRef<str>) {
        for _ in 0..self.indent {
            self.text.push_str("    ");
        }
        self.text.push_str(s.as_ref());
        self.text.push('\n');
    }

    /// A label, one level out.
    pub(crate) fn label(&mut self, name: &str) {
        for _ in 0..self.indent.saturating_sub(1) {
            self.text.push_str("    ");
        }
        self.text.push_str(name);
        self.text.push_str(":;\n");
    }

    /// `head {` and one level in.
    pub(crate) fn open(&mut self, head: impl AsRef<str>) {
        let h = head.as_ref();
        if h.is_empty() {
            self.line("{");
        } else {
            self.line(format!("{h} {{"));
        }
        self.indent += 1;
    }

    /// `}` one level out.
    pub(crate) fn close(&mut self) {
        self.indent = self.indent.saturating_sub(1);
        self.line("}");
    }

    /// `} tail {` at the same level.
    pub(crate) fn reopen(&mut self, tail: impl AsRef<str>) {
        self.indent = self.indent.saturating_sub(1);
        self.line(format!("}} {} {{", tail.as_ref()));
        self.indent += 1;
    }
}

const C_KEYWORDS: &[&str] = &[
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
    "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register",
    "restrict", "return", "short", "signed", "sizeof", "static", "struct", "switch", "typedef",
    "union", "unsigned", "void", "volatile", "while", "u8", "u16", "u32", "u64", "s64", "data",
    "data_end", "skb", "ctx", "hdr", "meta", "istd", "ostd", "pistd", "bool", "true", "false",
];

/// A C identifier for a P4 name: characters outside `[A-Za-z0-9_]` become `_`, a leading
/// digit or a C keyword gets a `_` appended.
pub(crate) fn ident(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    if C_KEYWORDS.contains(&s.as_str()) {
        s.push('_');
    }
    s
}

/// The C unsigned type holding `width` bits (at most 64).
pub(crate) fn uint_for(width: u32) -> &'static str {
    match width {
        0..=8 => "u8",
        9..=16 => "u16",
        17..=32 => "u32",
        _ => "u64",
    }
}

/// Bits of the C type holding `width` bits.
pub(crate) fn cbits(width: u32) -> u32 {
    match width {
        0..=8 => 8,
        9..=16 => 16,
        17..=32 => 32,
        _ => 64,
    }
}

/// The all-ones mask of `width` bits as a C literal.
pub(crate) fn mask_lit(width: u32) -> String {
    if width >= 64 {
        "0xffffffffffffffffULL".into()
    } else {
        format!("0x{:x}ULL", (1u64 << width) - 1)
    }
}

/// An unsigned C literal.
pub(crate) fn u64_lit(v: u64) -> String {
    if v <= 0xffff_ffff {
        if v < 10 {
            format!("{v}u")
        } else {
            format!("0x{v:x}u")
        }
    } else {
        format!("0x{v:x}ULL")
    }
}
