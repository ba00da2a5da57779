//! What a run of an STF file found: each failure with the line it belongs to, counts of what
//! passed, and a per-packet trace for `-v`.

use std::fmt;

use crate::stf::Expectation;

/// The result of running one STF file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Packets sent (`packet` statements run).
    pub packets: usize,
    /// `expect` statements seen.
    pub expectations: usize,
    /// `expect` statements met by a matching packet.
    pub expectations_met: usize,
    /// `check_counter` statements that held.
    pub counter_checks: usize,
    /// Everything that went wrong, in the order found.
    pub failures: Vec<Failure>,
    /// One entry per packet sent.
    pub trace: Vec<TraceEntry>,
    /// The run stopped before the end: the line of the statement it stopped at and why (a
    /// `wait` on a target whose clock cannot move). Statements from that line on were not run,
    /// and outputs no `expect` had claimed by then are not reported as unexpected.
    pub stopped: Option<(usize, String)>,
}

impl Report {
    /// No failures.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// What one input packet did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceEntry {
    /// The `packet` statement's line.
    pub line: usize,
    /// The input port.
    pub port: u32,
    /// The input bytes.
    pub input: Vec<u8>,
    /// Packets sent out, with ports.
    pub outputs: Vec<(u32, Vec<u8>)>,
    /// The packet passed to the host's stack, if it was.
    pub to_host: Option<Vec<u8>>,
    /// The parser error, by name.
    pub parser_error: Option<String>,
}

/// One failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The STF line at fault: the `expect` for packet failures (the `packet` for an unexpected
    /// one), else the statement that failed.
    pub line: usize,
    /// What went wrong.
    pub kind: FailureKind,
}

/// The kinds of failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// A packet came out of the expected port but does not match the pattern.
    WrongPacket {
        /// The port.
        port: u32,
        /// The line of the `packet` statement whose output this is.
        packet_line: usize,
        /// The pattern.
        expected: Expectation,
        /// The packet that came out.
        actual: Vec<u8>,
    },
    /// A packet came out of a port with no `expect` waiting for it.
    UnexpectedPacket {
        /// The port.
        port: u32,
        /// The line of the `packet` statement whose output this is.
        packet_line: usize,
        /// The packet.
        actual: Vec<u8>,
    },
    /// An `expect` was never met: nothing more came out of its port.
    MissingPacket {
        /// The port.
        port: u32,
        /// The pattern, `None` for "any packet".
        expected: Option<Expectation>,
        /// What became of the packet sent last before the `expect` (or first after it), to
        /// point at the cause: `the packet on line 12 was dropped`.
        hint: Option<String>,
    },
    /// A `check_counter` did not hold.
    Counter {
        /// The counter as written (`name(index)`).
        counter: String,
        /// What was compared, in words (`packets == 2`).
        check: String,
        /// The value read.
        actual: u64,
    },
    /// A statement could not be carried out (unknown table, bad key, the object model refused).
    Statement(String),
    /// The target could not take a packet.
    Target(String),
}

impl Failure {
    /// What went wrong, without the line: one summary line, then for packets a diff or a dump
    /// (each further line indented and ending in a newline).
    pub fn describe(&self) -> String {
        match &self.kind {
            FailureKind::WrongPacket {
                port,
                packet_line,
                expected,
                actual,
            } => format!(
                "expect {port}: wrong packet (sent by the packet on line {packet_line})\n{}",
                indent(&expected.diff(actual))
            ),
            FailureKind::UnexpectedPacket {
                port,
                packet_line,
                actual,
            } => format!(
                "unexpected packet on port {port} ({} bytes, sent by the packet on line \
                 {packet_line}): no expect was waiting for it\n{}",
                actual.len(),
                indent(&hex_rows(actual))
            ),
            FailureKind::MissingPacket {
                port,
                expected,
                hint,
            } => {
                let mut s =
                    format!("expect {port}: missing packet: nothing came out of port {port}");
                if let Some(e) = expected {
                    s.push_str(&format!("; expected {}", pattern(e)));
                }
                if let Some(hint) = hint {
                    s.push_str(&format!("; {hint}"));
                }
                s
            }
            FailureKind::Counter {
                counter,
                check,
                actual,
            } => format!("check_counter {counter}: expected {check}, found {actual}"),
            FailureKind::Statement(message) => message.clone(),
            FailureKind::Target(message) => format!("the target failed: {message}"),
        }
    }
}

impl fmt::Display for Failure {
    /// `line N: ` and [`Failure::describe`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.describe())
    }
}

impl TraceEntry {
    /// What became of the packet, in words: `the packet on line 12 was dropped`.
    pub fn fate(&self) -> String {
        let mut went = Vec::new();
        for (port, bytes) in &self.outputs {
            went.push(format!("went out of port {port} ({} bytes)", bytes.len()));
        }
        if let Some(bytes) = &self.to_host {
            went.push(format!(
                "was passed to the host stack ({} bytes)",
                bytes.len()
            ));
        }
        if went.is_empty() {
            went.push("was dropped".into());
        }
        let mut s = format!("the packet on line {} {}", self.line, went.join(" and "));
        if let Some(error) = &self.parser_error {
            s.push_str(&format!(", parser error {error}"));
        }
        s
    }
}

/// An expectation as written in STF (nibbles, `*`, `$`).
pub fn pattern(e: &Expectation) -> String {
    let mut s = String::with_capacity(e.nibbles.len() + e.nibbles.len() / 8 + 1);
    for (i, n) in e.nibbles.iter().enumerate() {
        if i > 0 && i % 8 == 0 {
            s.push(' ');
        }
        s.push(match n {
            Some(n) => char::from_digit(u32::from(*n & 0xf), 16).unwrap_or('?'),
            None => '*',
        });
    }
    if e.exact_len {
        s.push_str(" $");
    }
    s
}

/// `bytes` as hex rows of 16 bytes with offsets, for dumps in messages and traces.
pub fn hex_rows(bytes: &[u8]) -> String {
    let mut out = String::new();
    for (row, chunk) in bytes.chunks(16).enumerate() {
        out.push_str(&format!("{:04x} ", row * 16));
        for (i, b) in chunk.iter().enumerate() {
            if i % 4 == 0 {
                out.push(' ');
            }
            out.push_str(&format!("{b:02x}"));
        }
        out.push('\n');
    }
    if bytes.is_empty() {
        out.push_str("(empty)\n");
    }
    out
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}
