//! The STF ("simple test framework") format of p4c's test suites.
//!
//! An STF file is a list of line-based statements: table entries to install, packets to send and
//! packets expected back. [`parse`] reads a whole file and either returns every statement (with
//! its line) or one [`StfError`] per bad line, so a test author sees all mistakes at once.
//!
//! The grammar follows p4c's `tools/stf/stf_lexer.py` and `tools/stf/stf_parser.py`, with the
//! extensions the p4tc issue asks for: `remove TABLE KEY...` (p4c only has `remove all`), key
//! masks written `VALUE&&&MASK` and ranges written `LOW..HIGH`.
//!
//! ```text
//! add TABLE [PRIORITY] KEY:VALUE... ACTION(ARG:VALUE, ...) [= ID]
//! remove all | remove TABLE KEY:VALUE...
//! setdefault TABLE ACTION(ARG:VALUE, ...)
//! packet PORT HEX...
//! expect PORT [HEX...] [$]
//! no_packet
//! check_counter COUNTER(INDEX_OR_ID) [packets|bytes OP VALUE]
//! wait
//! ```
//!
//! Keywords are case-insensitive, as in p4c. `#` starts a comment that runs to the end of the line.
//! BMv2's pass-through commands (`mc_mgrp_create`, `register_read`, ...) are not STF proper and
//! are reported as unknown statements.

use std::fmt;

use num_bigint::BigUint;

/// One statement of an STF file, with the line it was written on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// The 1-based line of the statement, for the runner's failure messages.
    pub line: usize,
    /// What the statement says.
    pub kind: StatementKind,
}

/// The statements of the STF format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StatementKind {
    /// `add TABLE [PRIORITY] KEY:VALUE... ACTION(ARGS) [= ID]`: installs a table entry.
    Add {
        /// The table's name, possibly dotted (`ingress.nh_table`).
        table: String,
        /// The entry's priority as written. In STF the larger number wins (as in P4Runtime);
        /// runners convert at their own boundary.
        priority: Option<u32>,
        /// The key fields, in the order written.
        keys: Vec<Key>,
        /// The action the entry runs.
        action: ActionCall,
        /// The name after `=`, which `check_counter` may use to refer to this entry.
        id: Option<String>,
    },
    /// `remove all` or `remove TABLE KEY:VALUE...`.
    Remove(RemoveTarget),
    /// `setdefault TABLE ACTION(ARGS)`: sets the table's default (miss) action.
    SetDefault {
        /// The table's name.
        table: String,
        /// The new default action.
        action: ActionCall,
    },
    /// `packet PORT HEX...`: sends a packet into the pipeline on a port.
    Packet {
        /// The input port.
        port: u32,
        /// The packet's bytes.
        data: Vec<u8>,
    },
    /// `expect PORT [HEX...]`: expects, in order, a packet out of a port.
    Expect {
        /// The output port.
        port: u32,
        /// The expected contents; `None` when the line gives no data, meaning any packet.
        pattern: Option<Expectation>,
    },
    /// `no_packet`: no packet is expected (p4c's grammar has it; its runners treat it as a note).
    NoPacket,
    /// `check_counter COUNTER(INDEX) [packets|bytes OP VALUE]`.
    CheckCounter {
        /// The counter's name.
        counter: String,
        /// Which cell: an index, or the `= ID` of an entry (for direct counters).
        index: CounterIndex,
        /// The comparison; `None` when the line only names the counter.
        check: Option<CounterCheck>,
    },
    /// `wait`: lets the datapath finish with the packets sent so far.
    Wait,
}

/// What a `remove` statement removes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RemoveTarget {
    /// `remove all`: every entry of every table.
    All,
    /// `remove TABLE KEY:VALUE...`: the entry of that table with exactly these keys.
    Entry {
        /// The table's name.
        table: String,
        /// The entry's keys.
        keys: Vec<Key>,
    },
}

/// An action call: `NAME(ARG:VALUE, ...)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionCall {
    /// The action's name, possibly dotted.
    pub name: String,
    /// The arguments by name, in the order written.
    pub args: Vec<(String, Number)>,
}

/// One key field of an entry: `NAME:VALUE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    /// The key field's name, possibly dotted (`hdr.ipv4.dstAddr`).
    pub name: String,
    /// What the field must match.
    pub value: KeyValue,
}

/// The match a key field asks for.
///
/// The parser does not know the table's match kinds, so it keeps what was written; the runner,
/// which knows them, converts (a wildcarded [`KeyValue::Value`] on an LPM field is a prefix, see
/// [`Number::prefix_len`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyValue {
    /// A plain number, possibly with `*` wildcard digits (a ternary mask or an LPM prefix).
    Value(Number),
    /// `VALUE/LEN`: an LPM prefix of `LEN` bits.
    Prefix {
        /// The value.
        value: Number,
        /// The prefix length in bits.
        prefix_len: u32,
    },
    /// `VALUE&&&MASK`: a ternary match.
    Mask {
        /// The value.
        value: Number,
        /// The mask; a 1 bit must match.
        mask: Number,
    },
    /// `LOW..HIGH`: a range match, both ends included.
    Range {
        /// The lowest matching value.
        low: Number,
        /// The highest matching value.
        high: Number,
    },
}

/// A number as written in STF: hex (`0x`), binary (`0b`) or decimal, with optional `*` wildcard
/// digits in hex and binary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Number {
    /// The value; wildcard digits count as 0.
    pub value: BigUint,
    /// The bits that matter, when some digits were `*`; `None` when every digit was given.
    pub care: Option<BigUint>,
    /// The width the digits spell (4 bits per hex digit, 1 per binary digit), so `0x00ff` is 16
    /// bits wide; `None` for decimal, whose width only the key field knows.
    pub width: Option<u32>,
}

impl Number {
    /// The prefix length this number's wildcards describe, when its care bits are a run of ones
    /// from the top of its width followed only by zeros (`0x0a******` is a /8 of 32 bits).
    ///
    /// A number without wildcards returns its whole width; a decimal one returns `None`.
    pub fn prefix_len(&self) -> Option<u32> {
        let width = self.width?;
        let Some(care) = &self.care else {
            return Some(width);
        };
        let ones = care.count_ones();
        let ones = u32::try_from(ones).ok()?;
        if ones > width {
            return None;
        }
        // A prefix mask of `ones` bits in `width` bits is all-ones shifted up by the rest.
        let expected = ((BigUint::from(1u8) << ones) - 1u8) << (width - ones);
        (*care == expected).then_some(ones)
    }
}

/// Which counter cell a `check_counter` reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CounterIndex {
    /// An index into an indirect counter.
    Index(BigUint),
    /// A name, for a direct counter: p4c's tests write `$A` for the entry an earlier `add` named
    /// `= A`. Kept as written (with the `$`); the runner resolves it.
    Entry(String),
}

/// The comparison of a `check_counter` statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CounterCheck {
    /// Which count to compare.
    pub kind: CountKind,
    /// How to compare.
    pub op: CmpOp,
    /// The value compared with.
    pub value: BigUint,
}

/// The two counts a counter keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CountKind {
    /// `packets`.
    Packets,
    /// `bytes`.
    Bytes,
}

/// The comparison operators of `check_counter`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CmpOp {
    /// Whether `actual OP expected` holds.
    pub fn holds(self, actual: &BigUint, expected: &BigUint) -> bool {
        match self {
            CmpOp::Eq => actual == expected,
            CmpOp::Ne => actual != expected,
            CmpOp::Lt => actual < expected,
            CmpOp::Le => actual <= expected,
            CmpOp::Gt => actual > expected,
            CmpOp::Ge => actual >= expected,
        }
    }
}

/// The expected contents of an output packet: hex nibbles, some of them don't-cares, and whether
/// the packet must end where the pattern ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expectation {
    /// One entry per nibble, in packet order: `Some(n)` must equal the packet's nibble, `None`
    /// (written `*`) matches anything. The count may be odd: p4c compares hex digits.
    pub nibbles: Vec<Option<u8>>,
    /// Written with a trailing `$`: the packet must be exactly as long as the pattern.
    pub exact_len: bool,
}

impl Expectation {
    /// Whether `packet` matches: it is at least as long as the pattern (exactly as long with `$`)
    /// and every cared-for nibble is equal. Bytes past the pattern are ignored without `$`.
    pub fn matches(&self, packet: &[u8]) -> bool {
        let have = packet.len() * 2;
        if have < self.nibbles.len() || (self.exact_len && have > self.nibbles.len()) {
            return false;
        }
        self.nibbles
            .iter()
            .enumerate()
            .all(|(i, want)| want.is_none_or(|w| w == nibble_at(packet, i)))
    }

    /// A readable difference between the pattern and `packet` for failure messages: a summary
    /// line, then rows of 16 bytes with the expected and received nibbles and a `^` under every
    /// nibble that differs. Missing nibbles show as `_`.
    pub fn diff(&self, packet: &[u8]) -> String {
        let have = packet.len() * 2;
        let want = self.nibbles.len();
        let mut out = String::new();
        let bound = if self.exact_len {
            "exactly"
        } else {
            "at least"
        };
        let want_len = if want % 2 == 0 {
            format!("{} bytes", want / 2)
        } else {
            format!("{want} hex digits")
        };
        let mismatches = (0..want.max(have))
            .filter(|&i| self.nibble_differs(packet, i))
            .count();
        let first = (0..want.max(have)).find(|&i| self.nibble_differs(packet, i));
        out.push_str(&format!(
            "expected {bound} {want_len}, received {} bytes; ",
            packet.len()
        ));
        match first {
            None => out.push_str("the packet matches\n"),
            Some(i) => out.push_str(&format!(
                "{mismatches} hex digit(s) differ, the first in byte {}\n",
                i / 2
            )),
        }
        // Without `$`, bytes past the pattern are not compared, so they are not shown either.
        let shown = if self.exact_len { want.max(have) } else { want };
        const ROW: usize = 32;
        let mut start = 0;
        while start < shown {
            let end = (start + ROW).min(shown);
            let mut exp = String::new();
            let mut got = String::new();
            let mut mark = String::new();
            for i in start..end {
                if i > start && (i - start) % 8 == 0 {
                    exp.push(' ');
                    got.push(' ');
                    mark.push(' ');
                }
                exp.push(match self.nibbles.get(i) {
                    Some(Some(n)) => hex_digit(*n),
                    Some(None) => '*',
                    None => '_',
                });
                got.push(if i < have {
                    hex_digit(nibble_at(packet, i))
                } else {
                    '_'
                });
                mark.push(if self.nibble_differs(packet, i) {
                    '^'
                } else {
                    ' '
                });
            }
            out.push_str(&format!("{:04x}  expected {exp}\n", start / 2));
            out.push_str(&format!("      received {got}\n"));
            let mark = mark.trim_end();
            if !mark.is_empty() {
                out.push_str(&format!("               {mark}\n"));
            }
            start = end;
        }
        out
    }

    /// Whether nibble `i` counts against the match: a cared-for nibble that differs or is
    /// missing, or (with `$`) a received nibble past the pattern.
    fn nibble_differs(&self, packet: &[u8], i: usize) -> bool {
        let have = packet.len() * 2;
        match self.nibbles.get(i) {
            Some(Some(w)) => i >= have || *w != nibble_at(packet, i),
            Some(None) => i >= have,
            None => self.exact_len && i < have,
        }
    }
}

/// Nibble `i` of `packet`, high nibble first; the caller keeps `i` below `2 * packet.len()`.
fn nibble_at(packet: &[u8], i: usize) -> u8 {
    let byte = packet.get(i / 2).copied().unwrap_or(0);
    if i % 2 == 0 {
        byte >> 4
    } else {
        byte & 0xf
    }
}

fn hex_digit(n: u8) -> char {
    char::from_digit(u32::from(n & 0xf), 16).unwrap_or('?')
}

/// A problem with one line of an STF file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StfError {
    /// The 1-based line.
    pub line: usize,
    /// The 1-based column, in characters.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for StfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for StfError {}

/// Parses an STF file: every statement in order, or one error per bad line.
pub fn parse(text: &str) -> Result<Vec<Statement>, Vec<StfError>> {
    let mut statements = Vec::new();
    let mut errors = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        // A `#` outside a quoted name starts a comment.
        let code = strip_comment(raw);
        match parse_line(code) {
            Ok(Some(kind)) => statements.push(Statement { line, kind }),
            Ok(None) => {}
            Err((column, message)) => errors.push(StfError {
                line,
                column,
                message,
            }),
        }
    }
    if errors.is_empty() {
        Ok(statements)
    } else {
        Err(errors)
    }
}

/// An error inside a line: the 1-based character column and the message.
type LineError = (usize, String);

fn strip_comment(line: &str) -> &str {
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '#' if !quoted => return &line[..i],
            _ => {}
        }
    }
    line
}

/// The 1-based character column of byte offset `at` in `line`.
fn column_of(line: &str, at: usize) -> usize {
    line.get(..at).map_or(1, |s| s.chars().count() + 1)
}

fn parse_line(line: &str) -> Result<Option<StatementKind>, LineError> {
    let trimmed = line.trim_start();
    if trimmed.trim_end().is_empty() {
        return Ok(None);
    }
    let start = line.len() - trimmed.len();
    let word_len = trimmed
        .find(|c: char| c.is_whitespace())
        .unwrap_or(trimmed.len());
    let word = &trimmed[..word_len];
    let rest_at = start + word_len;
    let keyword = word.to_ascii_lowercase();
    match keyword.as_str() {
        // Packet data is not tokenized like the rest: it is hex digits with spaces anywhere.
        "packet" => parse_packet(line, rest_at).map(Some),
        "expect" => parse_expect(line, rest_at).map(Some),
        "add" | "remove" | "setdefault" | "check_counter" | "no_packet" | "wait" => {
            let tokens = tokenize(line, rest_at)?;
            let mut p = Parser {
                line,
                tokens,
                pos: 0,
            };
            let kind = match keyword.as_str() {
                "add" => p.add()?,
                "remove" => p.remove()?,
                "setdefault" => p.setdefault()?,
                "check_counter" => p.check_counter()?,
                "no_packet" => StatementKind::NoPacket,
                _ => StatementKind::Wait,
            };
            p.end(word)?;
            Ok(Some(kind))
        }
        _ => Err((
            column_of(line, start),
            format!(
                "unknown statement `{word}`; expected add, remove, setdefault, packet, expect, \
                 no_packet, check_counter or wait"
            ),
        )),
    }
}

/// Reads the port of a `packet` or `expect` line: the first word after the keyword, in decimal.
/// Returns the port and the byte offset where the data starts.
fn parse_port(line: &str, at: usize, keyword: &str) -> Result<(u32, usize), LineError> {
    let rest = &line[at..];
    let trimmed = rest.trim_start();
    let port_at = at + (rest.len() - trimmed.len());
    let len = trimmed
        .find(|c: char| c.is_whitespace())
        .unwrap_or(trimmed.len());
    let word = &trimmed[..len];
    if word.is_empty() {
        return Err((
            column_of(line, port_at),
            format!("`{keyword}` needs a port number"),
        ));
    }
    if !word.bytes().all(|b| b.is_ascii_digit()) {
        return Err((
            column_of(line, port_at),
            format!("invalid port `{word}`: a port is a decimal number"),
        ));
    }
    let port = word.parse::<u32>().map_err(|_| {
        (
            column_of(line, port_at),
            format!("port `{word}` is too large"),
        )
    })?;
    Ok((port, port_at + len))
}

fn parse_packet(line: &str, at: usize) -> Result<StatementKind, LineError> {
    let (port, data_at) = parse_port(line, at, "packet")?;
    let mut nibbles = Vec::new();
    let mut first_digit = None;
    for (i, c) in line[data_at..].char_indices() {
        if c.is_whitespace() {
            continue;
        }
        let Some(d) = c.to_digit(16) else {
            return Err((
                column_of(line, data_at + i),
                format!("invalid packet data `{c}`: expected hex digits"),
            ));
        };
        first_digit.get_or_insert(data_at + i);
        // `to_digit(16)` is below 16, so it fits a nibble.
        nibbles.push(d as u8);
    }
    if nibbles.len() % 2 != 0 {
        return Err((
            column_of(line, first_digit.unwrap_or(data_at)),
            format!(
                "packet data has an odd number of hex digits ({}); a packet is whole bytes",
                nibbles.len()
            ),
        ));
    }
    let data = nibbles.chunks(2).map(|p| (p[0] << 4) | p[1]).collect();
    Ok(StatementKind::Packet { port, data })
}

fn parse_expect(line: &str, at: usize) -> Result<StatementKind, LineError> {
    let (port, data_at) = parse_port(line, at, "expect")?;
    let mut nibbles = Vec::new();
    let mut exact_at = None;
    for (i, c) in line[data_at..].char_indices() {
        if c.is_whitespace() {
            continue;
        }
        let col = column_of(line, data_at + i);
        if let Some(dollar) = exact_at {
            return Err((
                col,
                format!("`$` (at column {dollar}) must end the expected packet data"),
            ));
        }
        match c {
            '*' => nibbles.push(None),
            '$' => exact_at = Some(col),
            _ => match c.to_digit(16) {
                Some(d) => nibbles.push(Some(d as u8)),
                None => {
                    return Err((
                        col,
                        format!(
                            "invalid expected packet data `{c}`: expected hex digits, `*` or a \
                             final `$`"
                        ),
                    ))
                }
            },
        }
    }
    let pattern = if nibbles.is_empty() && exact_at.is_none() {
        None
    } else {
        Some(Expectation {
            nibbles,
            exact_len: exact_at.is_some(),
        })
    };
    Ok(StatementKind::Expect { port, pattern })
}

/// The tokens of the table and counter statements.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    /// A name: letters, digits, `_` and `$`, not starting with a digit; or a quoted name.
    Ident(String),
    /// A number as written, checked when it is parsed.
    Num(String),
    /// Punctuation.
    Punct(&'static str),
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Ident(s) | Tok::Num(s) => write!(f, "`{s}`"),
            Tok::Punct(p) => write!(f, "`{p}`"),
        }
    }
}

/// Longest punctuation first, so `&&&` and `..` win over shorter readings.
const PUNCT: &[&str] = &[
    "&&&", "..", "==", "!=", "<=", ">=", ":", ",", ".", "(", ")", "[", "]", "/", "=", "<", ">",
];

fn tokenize(line: &str, from: usize) -> Result<Vec<(Tok, usize)>, LineError> {
    let mut tokens = Vec::new();
    let bytes = line.as_bytes();
    let mut i = from;
    while i < line.len() {
        let rest = &line[i..];
        let Some(c) = rest.chars().next() else { break };
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        let col = column_of(line, i);
        if c.is_ascii_alphabetic() || c == '_' || c == '$' {
            let len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'))
                .unwrap_or(rest.len());
            tokens.push((Tok::Ident(rest[..len].to_string()), col));
            i += len;
        } else if c.is_ascii_digit() {
            // Numbers take letters and `*` too, so that `0x0a**` or a bad `0xzz` is one token
            // and its error names the whole number.
            let len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '*' || c == '_'))
                .unwrap_or(rest.len());
            tokens.push((Tok::Num(rest[..len].to_string()), col));
            i += len;
        } else if c == '"' {
            let body = &rest[1..];
            match body.find('"') {
                Some(0) => return Err((col, "empty quoted name".to_string())),
                Some(end) => {
                    tokens.push((Tok::Ident(body[..end].to_string()), col));
                    i += end + 2;
                }
                None => return Err((col, "quoted name is not closed with `\"`".to_string())),
            }
        } else if let Some(p) = PUNCT.iter().find(|p| bytes[i..].starts_with(p.as_bytes())) {
            tokens.push((Tok::Punct(p), col));
            i += p.len();
        } else {
            return Err((col, format!("unexpected character `{c}`")));
        }
    }
    Ok(tokens)
}

struct Parser<'a> {
    line: &'a str,
    tokens: Vec<(Tok, usize)>,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos).map(|(t, _)| t)
    }

    fn peek_at(&self, ahead: usize) -> Option<&Tok> {
        self.tokens.get(self.pos + ahead).map(|(t, _)| t)
    }

    /// The column of the current token, or just past the line's end.
    fn col(&self) -> usize {
        self.tokens
            .get(self.pos)
            .map_or_else(|| self.line.chars().count() + 1, |(_, c)| *c)
    }

    /// An error at the current token: "expected WHAT, found ...".
    fn expected(&self, what: &str) -> LineError {
        let found = match self.peek() {
            Some(t) => format!("found {t}"),
            None => "found the end of the line".to_string(),
        };
        (self.col(), format!("expected {what}, {found}"))
    }

    fn eat(&mut self, p: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Punct(q)) if *q == p) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_punct(&mut self, p: &str, what: &str) -> Result<(), LineError> {
        if self.eat(p) {
            Ok(())
        } else {
            Err(self.expected(what))
        }
    }

    fn end(&self, keyword: &str) -> Result<(), LineError> {
        match self.peek() {
            None => Ok(()),
            Some(t) => Err((
                self.col(),
                format!("unexpected {t} after the end of the `{keyword}` statement"),
            )),
        }
    }

    fn ident(&mut self, what: &str) -> Result<String, LineError> {
        match self.peek() {
            Some(Tok::Ident(s)) => {
                let s = s.clone();
                self.pos += 1;
                Ok(s)
            }
            _ => Err(self.expected(what)),
        }
    }

    /// `ID ([N])? (. ID ([N])?)*`, kept as written.
    fn qualified_name(&mut self, what: &str) -> Result<String, LineError> {
        let mut name = self.ident(what)?;
        loop {
            if self.eat("[") {
                let col = self.col();
                let index = match self.peek() {
                    Some(Tok::Num(n)) if n.bytes().all(|b| b.is_ascii_digit()) => n.clone(),
                    _ => return Err(self.expected("a decimal index")),
                };
                self.pos += 1;
                self.expect_punct("]", "`]`").map_err(|(_, m)| (col, m))?;
                name.push('[');
                name.push_str(&index);
                name.push(']');
            } else if self.peek() == Some(&Tok::Punct(".")) {
                self.pos += 1;
                name.push('.');
                name.push_str(&self.ident(&format!("a name after `{name}`"))?);
            } else {
                return Ok(name);
            }
        }
    }

    fn number(&mut self, what: &str) -> Result<(Number, usize), LineError> {
        let col = self.col();
        match self.peek() {
            Some(Tok::Num(text)) => {
                let n = parse_number(text).map_err(|m| (col, m))?;
                self.pos += 1;
                Ok((n, col))
            }
            _ => Err(self.expected(what)),
        }
    }

    /// A number without `*` digits.
    fn plain_number(&mut self, what: &str, role: &str) -> Result<Number, LineError> {
        let (n, col) = self.number(what)?;
        if n.care.is_some() {
            return Err((col, format!("{role} cannot have `*` wildcard digits")));
        }
        Ok(n)
    }

    fn key_value(&mut self) -> Result<KeyValue, LineError> {
        let (value, col) = self.number("a key value")?;
        if self.eat("/") {
            if value.care.is_some() {
                return Err((
                    col,
                    "a key value with a `/` prefix length cannot also have `*` digits".to_string(),
                ));
            }
            let len_col = self.col();
            let len = self.plain_number("a prefix length", "a prefix length")?;
            if len.width.is_some() {
                return Err((len_col, "a prefix length is a decimal number".to_string()));
            }
            let prefix_len = u32::try_from(&len.value)
                .map_err(|_| (len_col, "prefix length is too large".to_string()))?;
            if let Some(width) = value.width {
                if prefix_len > width {
                    return Err((
                        len_col,
                        format!(
                            "prefix length {prefix_len} is longer than the {width} bits written"
                        ),
                    ));
                }
            }
            Ok(KeyValue::Prefix { value, prefix_len })
        } else if self.eat("&&&") {
            if value.care.is_some() {
                return Err((
                    col,
                    "a key value with a `&&&` mask cannot also have `*` digits".to_string(),
                ));
            }
            let mask = self.plain_number("a mask after `&&&`", "a mask")?;
            Ok(KeyValue::Mask { value, mask })
        } else if self.eat("..") {
            if value.care.is_some() {
                return Err((col, "a range bound cannot have `*` digits".to_string()));
            }
            let high =
                self.plain_number("the high end of the range after `..`", "a range bound")?;
            if high.value < value.value {
                return Err((
                    col,
                    "the range is empty: its low end is above its high end".to_string(),
                ));
            }
            Ok(KeyValue::Range { low: value, high })
        } else {
            Ok(KeyValue::Value(value))
        }
    }

    /// `KEY:VALUE` fields up to the action call, which is the first name followed by `(`.
    fn keys_then(
        &mut self,
        want_action: bool,
    ) -> Result<(Vec<Key>, Option<ActionCall>), LineError> {
        let mut keys = Vec::new();
        loop {
            if self.peek().is_none() && !want_action {
                return Ok((keys, None));
            }
            let what = if want_action {
                "a key `NAME:VALUE` or an action call `NAME(...)`"
            } else {
                "a key `NAME:VALUE`"
            };
            let name = self.qualified_name(what)?;
            if self.eat(":") {
                let value = self.key_value()?;
                keys.push(Key { name, value });
            } else if want_action && self.peek() == Some(&Tok::Punct("(")) {
                let action = self.action_args(name)?;
                return Ok((keys, Some(action)));
            } else {
                let msg = if want_action {
                    format!("expected `:` after key `{name}` or `(` after action `{name}`")
                } else {
                    format!("expected `:` after key `{name}`")
                };
                return Err((self.col(), msg));
            }
        }
    }

    fn action(&mut self) -> Result<ActionCall, LineError> {
        let name = self.qualified_name("an action call `NAME(...)`")?;
        if self.peek() != Some(&Tok::Punct("(")) {
            return Err(self.expected(&format!("`(` after action `{name}`")));
        }
        self.action_args(name)
    }

    /// `( [ID:NUMBER (, ID:NUMBER)*] )` after the action's name.
    fn action_args(&mut self, name: String) -> Result<ActionCall, LineError> {
        self.expect_punct("(", "`(`")?;
        let mut args = Vec::new();
        if !self.eat(")") {
            loop {
                let arg = self.ident("an argument name")?;
                self.expect_punct(":", &format!("`:` after argument `{arg}`"))?;
                let value = self.plain_number("an argument value", "an action argument")?;
                args.push((arg, value));
                if self.eat(")") {
                    break;
                }
                self.expect_punct(",", "`,` or `)` in the argument list")?;
            }
        }
        Ok(ActionCall { name, args })
    }

    fn add(&mut self) -> Result<StatementKind, LineError> {
        let table = self.qualified_name("a table name after `add`")?;
        // A priority is a lone decimal number; a key always has a name and `:`.
        let priority = match self.peek() {
            Some(Tok::Num(n)) => {
                let col = self.col();
                if !n.bytes().all(|b| b.is_ascii_digit()) {
                    return Err((
                        col,
                        format!("invalid priority `{n}`: a priority is a decimal number"),
                    ));
                }
                let p = n
                    .parse::<u32>()
                    .map_err(|_| (col, format!("priority `{n}` is too large")))?;
                self.pos += 1;
                Some(p)
            }
            _ => None,
        };
        let (keys, action) = self.keys_then(true)?;
        let Some(action) = action else {
            return Err(self.expected("an action call"));
        };
        if keys.is_empty() {
            // p4c's grammar needs at least one key; a keyless entry is `setdefault`.
            return Err((
                self.col().min(self.line.chars().count() + 1),
                "`add` needs at least one key `NAME:VALUE` before the action".to_string(),
            ));
        }
        let id = if self.eat("=") {
            Some(self.ident("an entry name after `=`")?)
        } else {
            None
        };
        Ok(StatementKind::Add {
            table,
            priority,
            keys,
            action,
            id,
        })
    }

    fn remove(&mut self) -> Result<StatementKind, LineError> {
        if matches!(self.peek(), Some(Tok::Ident(s)) if s.eq_ignore_ascii_case("all"))
            && self.peek_at(1).is_none()
        {
            self.pos += 1;
            return Ok(StatementKind::Remove(RemoveTarget::All));
        }
        let table = self.qualified_name("`all` or a table name after `remove`")?;
        let (keys, _) = self.keys_then(false)?;
        if keys.is_empty() {
            return Err(self.expected(&format!("the keys of the entry to remove from `{table}`")));
        }
        Ok(StatementKind::Remove(RemoveTarget::Entry { table, keys }))
    }

    fn setdefault(&mut self) -> Result<StatementKind, LineError> {
        let table = self.qualified_name("a table name after `setdefault`")?;
        let action = self.action()?;
        Ok(StatementKind::SetDefault { table, action })
    }

    fn check_counter(&mut self) -> Result<StatementKind, LineError> {
        let counter = self.qualified_name("a counter name after `check_counter`")?;
        self.expect_punct("(", &format!("`(` after counter `{counter}`"))?;
        let index = match self.peek() {
            Some(Tok::Ident(s)) => {
                let s = s.clone();
                self.pos += 1;
                CounterIndex::Entry(s)
            }
            Some(Tok::Num(_)) => {
                CounterIndex::Index(self.plain_number("an index", "a counter index")?.value)
            }
            _ => return Err(self.expected("a counter index or entry name")),
        };
        self.expect_punct(")", "`)` after the counter index")?;
        if self.peek().is_none() {
            return Ok(StatementKind::CheckCounter {
                counter,
                index,
                check: None,
            });
        }
        let kind = match self.peek() {
            Some(Tok::Ident(s)) if s.eq_ignore_ascii_case("packets") => CountKind::Packets,
            Some(Tok::Ident(s)) if s.eq_ignore_ascii_case("bytes") => CountKind::Bytes,
            _ => return Err(self.expected("`packets` or `bytes`")),
        };
        self.pos += 1;
        let op = match self.peek() {
            Some(Tok::Punct("==")) => CmpOp::Eq,
            Some(Tok::Punct("!=")) => CmpOp::Ne,
            Some(Tok::Punct("<")) => CmpOp::Lt,
            Some(Tok::Punct("<=")) => CmpOp::Le,
            Some(Tok::Punct(">")) => CmpOp::Gt,
            Some(Tok::Punct(">=")) => CmpOp::Ge,
            _ => return Err(self.expected("a comparison (==, !=, <, <=, >, >=)")),
        };
        self.pos += 1;
        let value = self
            .plain_number("a count to compare with", "a counter value")?
            .value;
        Ok(StatementKind::CheckCounter {
            counter,
            index,
            check: Some(CounterCheck { kind, op, value }),
        })
    }
}

/// Parses one number token: `0x` hex or `0b` binary (both may have `*` digits) or decimal.
fn parse_number(text: &str) -> Result<Number, String> {
    let lower = text.to_ascii_lowercase();
    let (digits, radix_bits) = if let Some(d) = lower.strip_prefix("0x") {
        (d, 4u32)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (d, 1u32)
    } else {
        if let Some(c) = text.chars().find(|c| !c.is_ascii_digit()) {
            return Err(format!(
                "invalid number `{text}`: `{c}` is not a decimal digit (hex needs `0x`, binary \
                 `0b`)"
            ));
        }
        let value = BigUint::parse_bytes(text.as_bytes(), 10)
            .ok_or_else(|| format!("invalid number `{text}`"))?;
        return Ok(Number {
            value,
            care: None,
            width: None,
        });
    };
    let kind = if radix_bits == 4 { "hex" } else { "binary" };
    if digits.is_empty() {
        return Err(format!(
            "invalid number `{text}`: no digits after the prefix"
        ));
    }
    let radix = 1u32 << radix_bits;
    let digit_mask = (1u32 << radix_bits) - 1;
    // Built as a digit string then parsed once, so long keys stay linear in their length.
    let mut value_digits = String::with_capacity(digits.len());
    let mut care_digits = String::with_capacity(digits.len());
    let mut wild = false;
    for c in digits.chars() {
        if c == '*' {
            wild = true;
            value_digits.push('0');
            care_digits.push('0');
        } else if c.is_digit(radix) {
            value_digits.push(c);
            care_digits.push(char::from_digit(digit_mask, radix).unwrap_or('0'));
        } else {
            return Err(format!(
                "invalid {kind} number `{text}`: `{c}` is not a {kind} digit"
            ));
        }
    }
    let value = BigUint::parse_bytes(value_digits.as_bytes(), radix)
        .ok_or_else(|| format!("invalid number `{text}`"))?;
    let care = if wild {
        Some(
            BigUint::parse_bytes(care_digits.as_bytes(), radix)
                .ok_or_else(|| format!("invalid number `{text}`"))?,
        )
    } else {
        None
    };
    let width = u32::try_from(digits.len())
        .ok()
        .and_then(|n| n.checked_mul(radix_bits))
        .ok_or_else(|| format!("number `{text}` is too long"))?;
    Ok(Number {
        value,
        care,
        width: Some(width),
    })
}

#[cfg(test)]
mod tests;
