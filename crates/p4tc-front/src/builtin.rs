//! Architecture include files shipped inside the binary.
//!
//! `#include <NAME>` looks here first, then in the `-I` directories. The files are our own,
//! written from the P4-16 and PNA specifications and P4TC's documented extensions.

/// `(name as written in #include <...>, contents)` for every built-in include file.
pub const INCLUDES: &[(&str, &str)] = &[
    ("core.p4", include_str!("../include/core.p4")),
    ("pna.p4", include_str!("../include/pna.p4")),
    ("tc/pna.p4", include_str!("../include/tc/pna.p4")),
];

/// The contents of built-in include `name`, if there is one.
pub fn include(name: &str) -> Option<&'static str> {
    INCLUDES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}
