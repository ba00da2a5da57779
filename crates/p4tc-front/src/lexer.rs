//! The lexer: one file's text to tokens, with spans into that file.
//!
//! Comments and whitespace (including a backslash at the end of a line, which joins lines for
//! the preprocessor) separate tokens and are dropped; each token records whether it starts a
//! line and whether space came before it. Errors (an unterminated comment or string, a
//! malformed number) are reported and lexing goes on, so one run shows them all.

use std::sync::Arc;

use num_bigint::BigUint;
use p4tc_ir::{Diagnostic, FileId, Span};

use crate::token::{Base, IntLit, Keyword, Punct, Token, TokenKind};

/// Lexes `text`, the contents of `file`. The result always ends with an [`TokenKind::Eof`]
/// token.
pub fn lex(file: FileId, text: &str, diagnostics: &mut Vec<Diagnostic>) -> Vec<Token> {
    let mut lexer = Lexer {
        file,
        src: text.as_bytes(),
        text,
        pos: 0,
        diagnostics,
        tokens: Vec::with_capacity(text.len() / 2 + 16),
    };
    lexer.run();
    lexer.tokens
}

struct Lexer<'a> {
    file: FileId,
    src: &'a [u8],
    text: &'a str,
    pos: usize,
    diagnostics: &'a mut Vec<Diagnostic>,
    tokens: Vec<Token>,
}

impl Lexer<'_> {
    fn span(&self, lo: usize, hi: usize) -> Span {
        Span::new(self.file, lo as u32, hi as u32)
    }

    fn peek(&self, ahead: usize) -> u8 {
        self.src.get(self.pos + ahead).copied().unwrap_or(0)
    }

    fn error(&mut self, lo: usize, hi: usize, message: impl Into<String>) {
        let span = self.span(lo, hi);
        self.diagnostics.push(Diagnostic::error(span, message));
    }

    fn run(&mut self) {
        let mut line_start = true;
        let mut space_before = true;
        loop {
            // Whitespace and comments.
            match self.peek(0) {
                b'\n' => {
                    self.pos += 1;
                    line_start = true;
                    space_before = true;
                    continue;
                }
                b' ' | b'\t' | b'\r' | 0x0b | 0x0c => {
                    self.pos += 1;
                    space_before = true;
                    continue;
                }
                b'\\'
                    if self.peek(1) == b'\n'
                        || (self.peek(1) == b'\r' && self.peek(2) == b'\n') =>
                {
                    // A line continuation: the next line belongs to this one.
                    self.pos += if self.peek(1) == b'\n' { 2 } else { 3 };
                    space_before = true;
                    continue;
                }
                b'/' if self.peek(1) == b'/' => {
                    while self.pos < self.src.len() && self.src[self.pos] != b'\n' {
                        self.pos += 1;
                    }
                    space_before = true;
                    continue;
                }
                b'/' if self.peek(1) == b'*' => {
                    let start = self.pos;
                    self.pos += 2;
                    loop {
                        if self.pos >= self.src.len() {
                            self.error(start, start + 2, "unterminated block comment");
                            break;
                        }
                        if self.src[self.pos] == b'*' && self.peek(1) == b'/' {
                            self.pos += 2;
                            break;
                        }
                        if self.src[self.pos] == b'\n' {
                            line_start = true;
                        }
                        self.pos += 1;
                    }
                    space_before = true;
                    continue;
                }
                _ => {}
            }
            let start = self.pos;
            if start >= self.src.len() {
                self.push(TokenKind::Eof, start, start, line_start, space_before);
                return;
            }
            let kind = self.token(start);
            self.push(kind, start, self.pos, line_start, space_before);
            line_start = false;
            space_before = false;
        }
    }

    fn push(
        &mut self,
        kind: TokenKind,
        lo: usize,
        hi: usize,
        line_start: bool,
        space_before: bool,
    ) {
        let span = self.span(lo, hi);
        self.tokens.push(Token {
            kind,
            span,
            line_start,
            space_before,
        });
    }

    /// Lexes the token starting at `start` (not whitespace, not end of input).
    fn token(&mut self, start: usize) -> TokenKind {
        let c = self.src[start];
        if c.is_ascii_alphabetic() || c == b'_' {
            while self.peek(0).is_ascii_alphanumeric() || self.peek(0) == b'_' {
                self.pos += 1;
            }
            let word = &self.text[start..self.pos];
            return if word == "_" {
                TokenKind::DontCare
            } else if let Some(k) = Keyword::from_word(word) {
                TokenKind::Keyword(k)
            } else {
                TokenKind::Ident(word.into())
            };
        }
        if c.is_ascii_digit() {
            return self.number(start);
        }
        if c == b'"' {
            return self.string(start);
        }
        if let Some(p) = punct_at(&self.src[start..]) {
            self.pos += p.as_str().len();
            return TokenKind::Punct(p);
        }
        // Not ASCII we know: take one whole character so spans stay on character boundaries.
        let ch = self.text[start..].chars().next().unwrap_or('\u{fffd}');
        self.pos += ch.len_utf8();
        TokenKind::Unexpected(ch)
    }

    fn string(&mut self, start: usize) -> TokenKind {
        self.pos += 1;
        loop {
            match self.src.get(self.pos) {
                None => {
                    self.error(start, start + 1, "unterminated string literal");
                    return TokenKind::Str(self.text[start + 1..].into());
                }
                Some(b'\\') => self.pos += 2.min(self.src.len() - self.pos),
                Some(b'"') => {
                    self.pos += 1;
                    return TokenKind::Str(self.text[start + 1..self.pos - 1].into());
                }
                Some(_) => self.pos += 1,
            }
        }
    }

    fn number(&mut self, start: usize) -> TokenKind {
        // A width prefix is plain decimal digits followed by `w` or `s`, then the value.
        let mut width_end = start;
        while self.src.get(width_end).is_some_and(u8::is_ascii_digit) {
            width_end += 1;
        }
        let mut width = None;
        let mut negative = false;
        let signedness = self.src.get(width_end).copied();
        if matches!(signedness, Some(b'w' | b's')) {
            let next = self.src.get(width_end + 1).copied().unwrap_or(0);
            let negative_form = signedness == Some(b's')
                && next == b'-'
                && self.src.get(width_end + 2).is_some_and(u8::is_ascii_digit);
            if next.is_ascii_digit() || negative_form {
                let bits: u32 = match self.text[start..width_end].parse() {
                    Ok(bits) => bits,
                    Err(_) => {
                        self.error(start, width_end, "integer width is too large");
                        0
                    }
                };
                width = Some((bits, signedness == Some(b's')));
                negative = negative_form;
                self.pos = width_end + if negative_form { 2 } else { 1 };
            }
        }
        let value_start = self.pos;
        let (base, digits_start) = match (self.peek(0), self.peek(1) | 0x20) {
            (b'0', b'x') => (Base::Hex, value_start + 2),
            (b'0', b'b') => (Base::Binary, value_start + 2),
            (b'0', b'o') => (Base::Octal, value_start + 2),
            (b'0', b'd') => (Base::Decimal, value_start + 2),
            _ => (Base::Decimal, value_start),
        };
        self.pos = digits_start;
        // Most literals fit in 64 bits: accumulate there and go to a big integer only on
        // overflow, so the common case allocates once at most.
        let mut small: u64 = 0;
        let mut big: Option<BigUint> = None;
        let mut any_digit = false;
        let mut bad_digit = None;
        while self.pos < self.src.len()
            && (self.src[self.pos].is_ascii_alphanumeric() || self.src[self.pos] == b'_')
        {
            let ch = self.src[self.pos];
            self.pos += 1;
            // `_` groups digits anywhere after the first character (`8w0b_1010_1010` is valid);
            // a literal cannot start with one, but then it lexes as a name, not a number.
            if ch == b'_' {
                continue;
            }
            match (ch as char).to_digit(base.radix()) {
                Some(d) => {
                    match &mut big {
                        Some(value) => *value = &*value * base.radix() + d,
                        None => match small
                            .checked_mul(u64::from(base.radix()))
                            .and_then(|v| v.checked_add(u64::from(d)))
                        {
                            Some(v) => small = v,
                            None => big = Some(BigUint::from(small) * base.radix() + d),
                        },
                    }
                    any_digit = true;
                }
                None => {
                    bad_digit.get_or_insert((self.pos - 1, ch as char));
                }
            }
        }
        if let Some((at, ch)) = bad_digit {
            let kind = match base {
                Base::Binary => "binary",
                Base::Octal => "octal",
                Base::Decimal => "decimal",
                Base::Hex => "hexadecimal",
            };
            let message = format!(
                "`{ch}` is not a {kind} digit in integer literal `{}`",
                &self.text[start..self.pos]
            );
            self.error(at, at + 1, message);
        } else if !any_digit {
            self.error(
                start,
                self.pos,
                format!(
                    "integer literal `{}` has no digits",
                    &self.text[start..self.pos]
                ),
            );
        }
        if let Some((bits, _)) = width {
            if bits == 0 && self.pos > start {
                // `0w5` would be a zero-width number; P4 has no such literal.
                self.error(start, width_end, "integer literal width must be positive");
            }
        }
        let value = big.unwrap_or_else(|| BigUint::from(small));
        TokenKind::Int(Arc::new(IntLit {
            width,
            value,
            negative,
            base,
        }))
    }
}

/// The longest punctuation token at the start of `s`, if any.
fn punct_at(s: &[u8]) -> Option<Punct> {
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let p = match at(0) {
        b'(' => Punct::LParen,
        b')' => Punct::RParen,
        b'[' => Punct::LBracket,
        b']' => Punct::RBracket,
        b'}' => Punct::RBrace,
        b';' => Punct::Semi,
        b':' => Punct::Colon,
        b',' => Punct::Comma,
        b'@' => Punct::At,
        b'?' => Punct::Question,
        b'~' => Punct::Tilde,
        b'{' if at(1) == b'#' && at(2) == b'}' => Punct::InvalidHeader,
        b'{' => Punct::LBrace,
        b'.' if at(1) == b'.' && at(2) == b'.' => Punct::Ellipsis,
        b'.' if at(1) == b'.' => Punct::DotDot,
        b'.' => Punct::Dot,
        b'<' if at(1) == b'<' && at(2) == b'=' => Punct::ShlAssign,
        b'<' if at(1) == b'<' => Punct::Shl,
        b'<' if at(1) == b'=' => Punct::Le,
        b'<' => Punct::Lt,
        b'>' if at(1) == b'=' => Punct::Ge,
        b'>' => Punct::Gt,
        b'=' if at(1) == b'=' => Punct::EqEq,
        b'=' => Punct::Assign,
        b'!' if at(1) == b'=' => Punct::NotEq,
        b'!' => Punct::Bang,
        b'&' if at(1) == b'&' && at(2) == b'&' => Punct::MaskOp,
        b'&' if at(1) == b'&' => Punct::AndAnd,
        b'&' if at(1) == b'=' => Punct::AndAssign,
        b'&' => Punct::Amp,
        b'|' if at(1) == b'+' && at(2) == b'|' && at(3) == b'=' => Punct::SatAddAssign,
        b'|' if at(1) == b'-' && at(2) == b'|' && at(3) == b'=' => Punct::SatSubAssign,
        b'|' if at(1) == b'+' && at(2) == b'|' => Punct::SatAdd,
        b'|' if at(1) == b'-' && at(2) == b'|' => Punct::SatSub,
        b'|' if at(1) == b'|' => Punct::OrOr,
        b'|' if at(1) == b'=' => Punct::OrAssign,
        b'|' => Punct::Pipe,
        b'+' if at(1) == b'+' => Punct::PlusPlus,
        b'+' if at(1) == b'=' => Punct::AddAssign,
        b'+' => Punct::Plus,
        b'-' if at(1) == b'=' => Punct::SubAssign,
        b'-' => Punct::Minus,
        b'*' if at(1) == b'=' => Punct::MulAssign,
        b'*' => Punct::Star,
        b'/' if at(1) == b'=' => Punct::DivAssign,
        b'/' => Punct::Slash,
        b'%' if at(1) == b'=' => Punct::ModAssign,
        b'%' => Punct::Percent,
        b'^' if at(1) == b'=' => Punct::XorAssign,
        b'^' => Punct::Caret,
        b'#' if at(1) == b'#' => Punct::HashHash,
        b'#' => Punct::Hash,
        _ => return None,
    };
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> (Vec<TokenKind>, Vec<Diagnostic>) {
        let mut diags = Vec::new();
        let tokens = lex(FileId(0), text, &mut diags);
        (tokens.into_iter().map(|t| t.kind).collect(), diags)
    }

    fn int(text: &str) -> IntLit {
        match kinds(text) {
            (k, d) if d.is_empty() => match &k[0] {
                TokenKind::Int(lit) => (**lit).clone(),
                other => panic!("not an integer: {other:?}"),
            },
            (_, d) => panic!("errors: {d:?}"),
        }
    }

    #[test]
    fn integer_literals_of_every_form() {
        assert_eq!(int("8w0b_1010_1010").value, 0xaau32.into());
        let lit = int("8w0b1010_1010");
        assert_eq!(
            (lit.width, lit.value, lit.base),
            (Some((8, false)), 0xaau32.into(), Base::Binary)
        );
        assert_eq!(int("32s0xFF").width, Some((32, true)));
        assert_eq!(int("16w0377").value, 377u32.into());
        assert_eq!(int("16w0o377").value, 255u32.into());
        assert_eq!(int("0D99").value, 99u32.into());
        let neg = int("16s-3");
        assert!(neg.negative && neg.value == 3u32.into());
        let big = int("128w0xffffffffffffffffffffffffffffffff");
        assert_eq!(big.value.bits(), 128);
    }

    #[test]
    fn bad_digits_are_reported_with_their_place() {
        let (_, d) = kinds("x = 0b102;");
        assert_eq!(d.len(), 1);
        assert!(
            d[0].message.contains("`2` is not a binary digit"),
            "{}",
            d[0].message
        );
        assert_eq!(d[0].primary.span.lo, 8);
        assert_eq!(kinds("0x;").1.len(), 1);
    }

    #[test]
    fn punct_table_is_maximal_munch_over_every_spelling() {
        for &p in Punct::ALL {
            assert_eq!(punct_at(p.as_str().as_bytes()), Some(p), "{}", p.as_str());
            // Whatever follows, the longest spelling that is a prefix wins.
            for &q in Punct::ALL {
                let text = format!("{}{}", p.as_str(), q.as_str());
                let longest = Punct::ALL
                    .iter()
                    .copied()
                    .filter(|r| text.starts_with(r.as_str()))
                    .max_by_key(|r| r.as_str().len());
                assert_eq!(punct_at(text.as_bytes()), longest, "{text}");
            }
        }
    }

    #[test]
    fn maximal_munch_and_split_shifts() {
        let (k, _) = kinds("a |+|= b &&& c >> d {#} ...");
        let puncts: Vec<_> = k
            .iter()
            .filter_map(|t| match t {
                TokenKind::Punct(p) => Some(*p),
                _ => None,
            })
            .collect();
        assert_eq!(
            puncts,
            [
                Punct::SatAddAssign,
                Punct::MaskOp,
                Punct::Gt,
                Punct::Gt,
                Punct::InvalidHeader,
                Punct::Ellipsis
            ]
        );
    }

    #[test]
    fn comments_and_line_starts() {
        let mut diags = Vec::new();
        let t = lex(FileId(0), "a /* x\n */ b\n  #c \\\n d", &mut diags);
        assert!(diags.is_empty());
        let flags: Vec<_> = t.iter().map(|t| (t.line_start, t.space_before)).collect();
        // a; b follows a multi-line comment, so it starts a line; # starts a line; c; d is
        // joined to the `#` line by the backslash.
        assert_eq!(
            flags[..5],
            [
                (true, true),
                (true, true),
                (true, true),
                (false, false),
                (false, true)
            ]
        );
    }

    #[test]
    fn unterminated_things_are_errors() {
        assert_eq!(kinds("/* never closed").1.len(), 1);
        assert_eq!(kinds("\"never closed").1.len(), 1);
        let (k, d) = kinds("\"a \\\" b\"");
        assert!(d.is_empty());
        assert_eq!(k[0], TokenKind::Str("a \\\" b".into()));
    }

    #[test]
    fn keywords_identifiers_and_dont_care() {
        let (k, _) = kinds("header_union _ _x apply");
        assert_eq!(
            k[..4],
            [
                TokenKind::Keyword(Keyword::HeaderUnion),
                TokenKind::DontCare,
                TokenKind::Ident("_x".into()),
                TokenKind::Keyword(Keyword::Apply)
            ]
        );
    }
}
