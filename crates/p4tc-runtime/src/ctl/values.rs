//! Typed values: how a key field's or parameter's P4TC type (`bitN`, `dev`, `macaddr`, `ipv4`,
//! `ipv6`, `be16/32/64`, `rate`) says its text is read, and how key matches (`/prefix`,
//! `&&&mask`, `lo..hi`, `_`) are read for each match kind. Values become the unsigned integers
//! the object model holds; every value is checked against the field's width.

use std::net::{Ipv4Addr, Ipv6Addr};

use num_bigint::BigUint;
use num_traits::{Num, Zero};
use p4tc_ir::introspection::ValueType;
use p4tc_ir::layout::MatchKind;

use super::DevResolver;
use crate::entry::KeyMatch;
use crate::model::{prefix_of_mask, KeyFieldModel};

/// The largest value of `width` bits.
pub(crate) fn all_ones(width: u32) -> BigUint {
    (BigUint::from(1u8) << width) - 1u8
}

/// The mask of the top `prefix` bits of `width`.
pub(crate) fn prefix_mask(prefix: u32, width: u32) -> BigUint {
    let prefix = prefix.min(width);
    all_ones(prefix) << (width - prefix)
}

/// A number: decimal, `0x` hex, `0b` binary or `0o` octal, with `_` allowed between digits
/// (as P4 writes `0x0A00_0000`). No sign.
pub(crate) fn parse_number(text: &str) -> Option<BigUint> {
    let bytes = text.as_bytes();
    let (digits, radix) = match bytes {
        [b'0', b'x' | b'X', ..] => (&text[2..], 16),
        [b'0', b'b' | b'B', ..] => (&text[2..], 2),
        [b'0', b'o' | b'O', ..] => (&text[2..], 8),
        _ => (text, 10),
    };
    if digits.is_empty() || digits.starts_with('_') || digits.ends_with('_') {
        return None;
    }
    // The common case, a number of at most 64 bits without separators, without allocating.
    if let Some(n) = small_number(digits, radix) {
        return Some(BigUint::from(n));
    }
    if !digits.contains('_') {
        if !digits.chars().all(|c| c.is_digit(radix)) {
            return None;
        }
        if let Ok(n) = u64::from_str_radix(digits, radix) {
            return Some(BigUint::from(n));
        }
        return BigUint::from_str_radix(digits, radix).ok();
    }
    let digits: String = digits.chars().filter(|&c| c != '_').collect();
    if !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    BigUint::from_str_radix(&digits, radix).ok()
}

/// `digits` (no prefix, no separators) in `radix` when they fit a `u64`, in one pass; `None`
/// for anything else (the caller then takes the general path, which decides).
fn small_number(digits: &str, radix: u32) -> Option<u64> {
    let bytes = digits.as_bytes();
    // Up to 19 decimal or 16 hex digits cannot overflow: no checks per digit (a bulk file's
    // keys and parameters).
    match radix {
        10 if bytes.len() <= 19 => {
            return bytes.iter().try_fold(0u64, |n, &b| {
                let d = b.wrapping_sub(b'0');
                (d < 10).then(|| n * 10 + u64::from(d))
            })
        }
        16 if bytes.len() <= 16 => {
            return bytes.iter().try_fold(0u64, |n, &b| {
                let d = match b {
                    b'0'..=b'9' => b - b'0',
                    b'a'..=b'f' => b - b'a' + 10,
                    b'A'..=b'F' => b - b'A' + 10,
                    _ => return None,
                };
                Some(n << 4 | u64::from(d))
            })
        }
        _ => {}
    }
    let mut n = 0u64;
    for &b in bytes {
        let d = char::from(b).to_digit(radix)?;
        n = n.checked_mul(u64::from(radix))?.checked_add(u64::from(d))?;
    }
    Some(n)
}

/// A MAC address: six groups of one or two hex digits separated by `:` or `-`.
fn parse_mac(text: &str) -> Option<BigUint> {
    let separator = if text.contains(':') { ':' } else { '-' };
    let mut value = 0u64;
    let mut groups = 0;
    for group in text.split(separator) {
        groups += 1;
        if groups > 6
            || group.is_empty()
            || group.len() > 2
            || !group.chars().all(|c| c.is_ascii_hexdigit())
        {
            return None;
        }
        value = value << 8 | u64::from_str_radix(group, 16).ok()?;
    }
    (groups == 6).then(|| BigUint::from(value))
}

/// tc's rate units, in bits per second.
const RATE_UNITS: [(&str, u64); 18] = [
    ("bit", 1),
    ("kbit", 1_000),
    ("mbit", 1_000_000),
    ("gbit", 1_000_000_000),
    ("tbit", 1_000_000_000_000),
    ("kibit", 1 << 10),
    ("mibit", 1 << 20),
    ("gibit", 1 << 30),
    ("tibit", 1 << 40),
    ("bps", 8),
    ("kbps", 8_000),
    ("mbps", 8_000_000),
    ("gbps", 8_000_000_000),
    ("tbps", 8_000_000_000_000),
    ("kibps", 8 << 10),
    ("mibps", 8 << 20),
    ("gibps", 8 << 30),
    ("tibps", 8 << 40),
];

/// A rate in bytes per second: a number (bytes per second), or a number with one of tc's
/// units (`100mbit`, `1gbps`, `64kibit`, ...).
fn parse_rate(text: &str) -> Option<BigUint> {
    if let Some(n) = parse_number(text) {
        return Some(n);
    }
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let number = parse_number(number)?;
    let unit = unit.to_ascii_lowercase();
    let (_, scale) = RATE_UNITS.iter().find(|(name, _)| *name == unit)?;
    Some(number * BigUint::from(*scale) / 8u8)
}

/// How values of a type are written, for error messages.
fn expected_form(ty: ValueType) -> &'static str {
    match ty {
        ValueType::Bit(_) | ValueType::Be16 | ValueType::Be32 | ValueType::Be64 => {
            "a number (decimal, or hex with 0x)"
        }
        ValueType::Dev => "an interface name or index",
        ValueType::MacAddr => "a MAC address (aa:bb:cc:dd:ee:ff)",
        ValueType::Ipv4 => "an IPv4 address (10.0.0.1)",
        ValueType::Ipv6 => "an IPv6 address (2001:db8::1)",
        ValueType::Rate => "a rate (bytes per second, or with a unit: 100mbit, 1gbps)",
    }
}

/// Parses `text` as a value of type `ty` for a field of `width` bits. `what` names the field
/// in messages (`param \`port\``, `key field \`dstAddr\``). Too wide a value is an error naming
/// the field, its type and the value.
pub fn parse_value(
    text: &str,
    ty: ValueType,
    width: u32,
    what: &str,
    resolver: DevResolver<'_>,
) -> Result<BigUint, String> {
    parse_value_for(text, ty, width, &|| what.to_string(), resolver)
}

/// [`parse_value`] with the field's description made only when there is an error (parsing
/// bulk files should not format a string per value).
pub(crate) fn parse_value_for(
    text: &str,
    ty: ValueType,
    width: u32,
    what: &dyn Fn() -> String,
    resolver: DevResolver<'_>,
) -> Result<BigUint, String> {
    let value = match ty {
        ValueType::Bit(_) | ValueType::Be16 | ValueType::Be32 | ValueType::Be64 => {
            parse_number(text)
        }
        ValueType::Rate => parse_rate(text),
        ValueType::Dev => match parse_number(text) {
            Some(n) => Some(n),
            None => match resolver(text) {
                Some(index) => Some(BigUint::from(index)),
                None => {
                    return Err(format!(
                        "unknown interface `{text}` for {} (give its index, or a name the \
                         pipeline knows)",
                        what()
                    ))
                }
            },
        },
        ValueType::MacAddr => parse_mac(text).or_else(|| parse_number(text)),
        ValueType::Ipv4 => text
            .parse::<Ipv4Addr>()
            .ok()
            .map(|a| BigUint::from(u32::from(a)))
            .or_else(|| parse_number(text)),
        ValueType::Ipv6 => text
            .parse::<Ipv6Addr>()
            .ok()
            .map(|a| BigUint::from(u128::from(a)))
            .or_else(|| parse_number(text)),
    };
    let Some(value) = value else {
        let shown = if text.is_empty() { "(empty)" } else { text };
        return Err(format!(
            "`{shown}` is not a valid {ty} for {}: expected {}",
            what(),
            expected_form(ty)
        ));
    };
    if value.bits() > u64::from(width) {
        return Err(format!(
            "value {text} does not fit {ty} {} ({width} bits, at most {})",
            what(),
            if width <= 64 {
                all_ones(width).to_string()
            } else {
                format!("{:#x}", all_ones(width))
            }
        ));
    }
    Ok(value)
}

/// Whether `text` is a wildcard.
pub(crate) fn is_wildcard(text: &str) -> bool {
    matches!(text, "_" | "*")
}

/// `text.rsplit_once('/')` by a plain byte loop: values are short, and the general
/// character searcher costs more than the search (a bulk file has a value or two per line).
fn split_last_slash(text: &str) -> Option<(&str, &str)> {
    let at = text.bytes().rposition(|b| b == b'/')?;
    // (`/` is ASCII: both sides are character boundaries.)
    Some((text.get(..at)?, text.get(at + 1..)?))
}

/// What follows a `/` or `&&&`.
enum Qualifier {
    None,
    Prefix(u32),
    Mask(BigUint),
}

/// Parses `text` as a match of key field `field` by its match kind:
/// exact `V` (or `V/W` with W its full width); lpm `V[/P]` or `V/MASK`; ternary `V`,
/// `V/P`, `V/MASK` or `V&&&MASK`; range `LO..HI` or `V`; optional `V`; `_` or `*` for a
/// wildcard (not exact fields).
pub fn parse_key_match(
    text: &str,
    field: &KeyFieldModel,
    resolver: DevResolver<'_>,
) -> Result<KeyMatch, String> {
    let what = || format!("key field `{}`", field.name);
    let kind = field.match_kind;
    let width = field.width;
    if is_wildcard(text) {
        return match kind {
            MatchKind::Exact => Err(format!(
                "exact {} cannot be a wildcard: give a value",
                what()
            )),
            _ => Ok(KeyMatch::Any),
        };
    }
    let value = |t: &str| parse_value_for(t, field.ty, width, &what, resolver);
    if kind == MatchKind::Range {
        return match text.split_once("..") {
            Some((lo, hi)) => {
                let (low, high) = (value(lo)?, value(hi)?);
                if low > high {
                    return Err(format!(
                        "range {text} of {} is empty: its low end is above its high end",
                        what()
                    ));
                }
                Ok(KeyMatch::Range { low, high })
            }
            None => {
                let v = value(text)?;
                Ok(KeyMatch::Range {
                    low: v.clone(),
                    high: v,
                })
            }
        };
    }
    // (`&` is rare: the substring search is made only when there is one.)
    let masked = if text.as_bytes().contains(&b'&') {
        text.split_once("&&&")
    } else {
        None
    };
    let (value_text, qualifier) = if let Some((v, m)) = masked {
        (v, Qualifier::Mask(value(m)?))
    } else if let Some((v, q)) = split_last_slash(text) {
        if !q.is_empty() && q.chars().all(|c| c.is_ascii_digit()) {
            let prefix = q
                .parse::<u32>()
                .ok()
                .filter(|p| *p <= width)
                .ok_or_else(|| {
                    format!("prefix /{q} of {} is longer than its {width} bits", what())
                })?;
            (v, Qualifier::Prefix(prefix))
        } else {
            (v, Qualifier::Mask(value(q)?))
        }
    } else {
        (text, Qualifier::None)
    };
    let v = value(value_text)?;
    match kind {
        MatchKind::Exact => match qualifier {
            Qualifier::None => Ok(KeyMatch::Exact(v)),
            Qualifier::Prefix(p) if p == width => Ok(KeyMatch::Exact(v)),
            Qualifier::Mask(m) if m == all_ones(width) => Ok(KeyMatch::Exact(v)),
            _ => Err(format!(
                "exact {} takes a whole value, not a prefix or mask (/{width} at most)",
                what()
            )),
        },
        MatchKind::Lpm => {
            let prefix_len = match qualifier {
                Qualifier::None => width,
                Qualifier::Prefix(p) => p,
                Qualifier::Mask(m) => prefix_of_mask(&m, width).ok_or_else(|| {
                    format!(
                        "mask {m:#x} of lpm {} is not a prefix (leading ones only)",
                        what()
                    )
                })?,
            };
            Ok(KeyMatch::Lpm {
                value: v & prefix_mask(prefix_len, width),
                prefix_len,
            })
        }
        MatchKind::Ternary => {
            let mask = match qualifier {
                Qualifier::None => all_ones(width),
                Qualifier::Prefix(p) => prefix_mask(p, width),
                Qualifier::Mask(m) => m,
            };
            Ok(KeyMatch::Ternary {
                value: v & &mask,
                mask,
            })
        }
        MatchKind::Optional => match qualifier {
            Qualifier::None => Ok(KeyMatch::Ternary {
                value: v,
                mask: all_ones(width),
            }),
            Qualifier::Mask(m) if m.is_zero() => Ok(KeyMatch::Any),
            Qualifier::Mask(m) if m == all_ones(width) => {
                Ok(KeyMatch::Ternary { value: v, mask: m })
            }
            _ => Err(format!(
                "optional {} takes a whole value or `_`, not a prefix or mask",
                what()
            )),
        },
        MatchKind::Range => Err(format!("range {}: internal error", what())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str) -> Option<u32> {
        None
    }

    /// Numbers past 64 bits, separators and bad digits take the general path; the result is
    /// the same either way.
    #[test]
    fn numbers_small_and_large() {
        let n = |t: &str| parse_number(t).map(|v| v.to_string());
        assert_eq!(n("4294967295").as_deref(), Some("4294967295"));
        assert_eq!(
            n("18446744073709551615").as_deref(),
            Some("18446744073709551615")
        );
        assert_eq!(
            n("18446744073709551616").as_deref(),
            Some("18446744073709551616")
        );
        assert_eq!(
            n("0x1_0000_0000_0000_0000").as_deref(),
            Some("18446744073709551616")
        );
        assert_eq!(n("0xFF_ff").as_deref(), Some("65535"));
        assert_eq!(n("0b101").as_deref(), Some("5"));
        assert_eq!(n("1__2").as_deref(), Some("12"));
        assert_eq!(n("0o17").as_deref(), Some("15"));
        assert_eq!(
            n("9999999999999999999").as_deref(),
            Some("9999999999999999999")
        );
        assert_eq!(
            n("0xFFFFffffFFFFffff").as_deref(),
            Some("18446744073709551615")
        );
        assert_eq!(
            n("0x10000000000000000").as_deref(),
            Some("18446744073709551616")
        );
        assert_eq!(n("0xaBcD09").as_deref(), Some("11259145"));
        for bad in [
            "12a", "0b102", "0x", "_1", "1_", "１", "+1", "0xag", "9:", "1/",
        ] {
            assert_eq!(n(bad), None, "{bad}");
        }
    }

    fn ports(name: &str) -> Option<u32> {
        name.strip_prefix("port").and_then(|n| n.parse().ok())
    }

    fn field(name: &str, ty: ValueType, kind: MatchKind, width: u32) -> KeyFieldModel {
        KeyFieldModel {
            name: name.into(),
            ty,
            match_kind: kind,
            width,
        }
    }

    fn big(n: u128) -> BigUint {
        BigUint::from(n)
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_number("0x0A00_0000"), Some(big(0x0a00_0000)));
        assert_eq!(parse_number("0b101"), Some(big(5)));
        assert_eq!(parse_number("0o17"), Some(big(15)));
        assert_eq!(parse_number("42"), Some(big(42)));
        for bad in ["", "0x", "-1", "1_", "_1", "12a", "0xg", "+3"] {
            assert_eq!(parse_number(bad), None, "{bad}");
        }
    }

    #[test]
    fn each_value_type() {
        let v = |t, ty, w| parse_value(t, ty, w, "param `p`", &ports);
        assert_eq!(v("300", ValueType::Bit(9), 9), Ok(big(300)));
        assert_eq!(v("0xff", ValueType::Bit(8), 8), Ok(big(255)));
        assert_eq!(
            v("300", ValueType::Bit(8), 8),
            Err("value 300 does not fit bit8 param `p` (8 bits, at most 255)".into())
        );
        assert_eq!(v("port7", ValueType::Dev, 32), Ok(big(7)));
        assert_eq!(v("12", ValueType::Dev, 32), Ok(big(12)));
        assert!(v("eth9x", ValueType::Dev, 32)
            .unwrap_err()
            .contains("unknown interface `eth9x`"));
        assert_eq!(
            v("aa:bb:cc:dd:ee:ff", ValueType::MacAddr, 48),
            Ok(big(0xaabb_ccdd_eeff))
        );
        assert_eq!(
            v("0-1-2-3-4-5", ValueType::MacAddr, 48),
            Ok(big(0x0001_0203_0405))
        );
        assert!(v("aa:bb:cc:dd:ee", ValueType::MacAddr, 48)
            .unwrap_err()
            .contains("MAC address"));
        assert_eq!(v("10.0.1.2", ValueType::Ipv4, 32), Ok(big(0x0a00_0102)));
        assert!(v("10.0.1.256", ValueType::Ipv4, 32).is_err());
        assert_eq!(
            v("2001:db8::1", ValueType::Ipv6, 128),
            Ok(big(0x2001_0db8_0000_0000_0000_0000_0000_0001))
        );
        assert_eq!(v("65535", ValueType::Be16, 16), Ok(big(65535)));
        assert!(v("65536", ValueType::Be16, 16).is_err());
        assert_eq!(
            v("0xffffffffffffffff", ValueType::Be64, 64),
            Ok(big(u64::MAX.into()))
        );
        assert_eq!(v("1000", ValueType::Rate, 64), Ok(big(1000)));
        assert_eq!(v("8kbit", ValueType::Rate, 64), Ok(big(1000)));
        assert_eq!(v("1mbps", ValueType::Rate, 64), Ok(big(1_000_000)));
        assert!(v("1parsec", ValueType::Rate, 64).is_err());
        assert!(v("", ValueType::Bit(8), 8).unwrap_err().contains("(empty)"));
    }

    #[test]
    fn key_matches_by_kind() {
        let ipv4 = |kind| field("dst", ValueType::Ipv4, kind, 32);
        let k = |t, f: &KeyFieldModel| parse_key_match(t, f, &none);
        // Exact: a /32 is accepted (P4TC's own examples write it).
        assert_eq!(
            k("10.0.1.2/32", &ipv4(MatchKind::Exact)),
            Ok(KeyMatch::Exact(big(0x0a00_0102)))
        );
        assert!(k("10.0.1.2/24", &ipv4(MatchKind::Exact))
            .unwrap_err()
            .contains("exact key field `dst`"));
        assert!(k("_", &ipv4(MatchKind::Exact)).is_err());
        // LPM: prefix, default full width, prefix masks, value masked.
        assert_eq!(
            k("10.1.2.3/8", &ipv4(MatchKind::Lpm)),
            Ok(KeyMatch::Lpm {
                value: big(0x0a00_0000),
                prefix_len: 8
            })
        );
        assert_eq!(
            k("10.1.2.3", &ipv4(MatchKind::Lpm)),
            Ok(KeyMatch::Lpm {
                value: big(0x0a01_0203),
                prefix_len: 32
            })
        );
        assert_eq!(
            k("10.1.0.0/255.255.0.0", &ipv4(MatchKind::Lpm)),
            Ok(KeyMatch::Lpm {
                value: big(0x0a01_0000),
                prefix_len: 16
            })
        );
        assert!(k("10.1.0.0/255.0.255.0", &ipv4(MatchKind::Lpm))
            .unwrap_err()
            .contains("not a prefix"));
        assert!(k("10.0.0.0/33", &ipv4(MatchKind::Lpm))
            .unwrap_err()
            .contains("longer than its 32 bits"));
        // Ternary: prefix, mask, &&&, wildcard.
        assert_eq!(
            k("192.168.1.1/16", &ipv4(MatchKind::Ternary)),
            Ok(KeyMatch::Ternary {
                value: big(0xc0a8_0000),
                mask: big(0xffff_0000)
            })
        );
        assert_eq!(
            k("10.0.0.1&&&0.0.0.255", &ipv4(MatchKind::Ternary)),
            Ok(KeyMatch::Ternary {
                value: big(1),
                mask: big(0xff)
            })
        );
        let proto = field("proto", ValueType::Bit(8), MatchKind::Ternary, 8);
        assert_eq!(
            k("6", &proto),
            Ok(KeyMatch::Ternary {
                value: big(6),
                mask: big(0xff)
            })
        );
        assert_eq!(
            k("0x6/0xf", &proto),
            Ok(KeyMatch::Ternary {
                value: big(6),
                mask: big(0xf)
            })
        );
        assert_eq!(k("*", &proto), Ok(KeyMatch::Any));
        assert!(k("6&&&0x1ff", &proto).unwrap_err().contains("does not fit"));
        // Range.
        let port = field("dport", ValueType::Bit(16), MatchKind::Range, 16);
        assert_eq!(
            k("80..443", &port),
            Ok(KeyMatch::Range {
                low: big(80),
                high: big(443)
            })
        );
        assert_eq!(
            k("22", &port),
            Ok(KeyMatch::Range {
                low: big(22),
                high: big(22)
            })
        );
        assert!(k("443..80", &port).unwrap_err().contains("empty"));
        assert!(k("1..70000", &port).unwrap_err().contains("does not fit"));
        assert_eq!(k("_", &port), Ok(KeyMatch::Any));
        // Optional.
        let opt = field("vlan", ValueType::Bit(12), MatchKind::Optional, 12);
        assert_eq!(
            k("5", &opt),
            Ok(KeyMatch::Ternary {
                value: big(5),
                mask: big(0xfff)
            })
        );
        assert!(k("5/4", &opt).is_err());
        // IPv6 LPM.
        let v6 = field("dst6", ValueType::Ipv6, MatchKind::Lpm, 128);
        assert_eq!(
            k("2001:db8::/32", &v6),
            Ok(KeyMatch::Lpm {
                value: big(0x2001_0db8) << 96,
                prefix_len: 32
            })
        );
    }
}
