//! P4TC's CRUDXPS permissions: 14 bits, the control plane's in bits 13..7 and the datapath's
//! in bits 6..0, each side's seven bits being Create, Read, Update, Delete, eXecute, Publish,
//! Subscribe from the most significant down.

use std::fmt;

/// The letters of one side, most significant bit first.
const LETTERS: [char; 7] = ['C', 'R', 'U', 'D', 'X', 'P', 'S'];

/// Which side of a permission a letter belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// The control plane (bits 13..7, before the `:`).
    Control,
    /// The datapath (bits 6..0, after the `:`).
    Data,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Control => "control plane",
            Side::Data => "datapath",
        })
    }
}

/// Why an `@tc_acl` string is not a permission.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AclError {
    /// No `:` between the two sides.
    #[error("expected `CONTROL:DATA`, such as \"CRUDPS:RX\" (no `:` found)")]
    MissingColon,
    /// A letter other than C R U D X P S.
    #[error("`{letter}` is not a permission letter in the {side} part (letters: C R U D X P S)")]
    BadLetter {
        /// The letter.
        letter: char,
        /// Where.
        side: Side,
    },
    /// A letter given twice on one side.
    #[error("`{letter}` is given twice in the {side} part")]
    Duplicate {
        /// The letter.
        letter: char,
        /// Where.
        side: Side,
    },
}

/// A 14-bit CRUDXPS permission set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Permissions(u16);

impl Permissions {
    /// A table's default: control plane CRUDPS, datapath RX (`0x3da4`).
    pub const TABLE: Permissions = Permissions(0x3da4);
    /// An `add_on_miss` table's default: control plane CRUDPS, datapath CRXP (`0x3de6`).
    pub const TABLE_ADD_ON_MISS: Permissions = Permissions(0x3de6);
    /// An extern's default: control plane RUPS, datapath RUXP (`0x19b6`).
    pub const EXTERN: Permissions = Permissions(0x19b6);
    /// Const entries and const default actions: control plane R, datapath RX (`0x1024`).
    pub const CONST: Permissions = Permissions(0x1024);

    /// The permissions of these 14 bits; `None` when a higher bit is set.
    pub fn from_bits(bits: u16) -> Option<Permissions> {
        (bits < 1 << 14).then_some(Permissions(bits))
    }

    /// The 14 bits.
    pub fn bits(self) -> u16 {
        self.0
    }

    /// The control plane's seven bits.
    pub fn control(self) -> u8 {
        (self.0 >> 7) as u8
    }

    /// The datapath's seven bits.
    pub fn data(self) -> u8 {
        (self.0 & 0x7f) as u8
    }

    /// Both sides less their Create bits: what an entry created without explicit permissions
    /// gets from its table.
    pub fn without_create(self) -> Permissions {
        Permissions(self.0 & !((1 << 13) | (1 << 6)))
    }

    /// True when every bit of `other` is set here.
    pub fn contains(self, other: Permissions) -> bool {
        self.0 & other.0 == other.0
    }

    /// Parses `@tc_acl`'s `CONTROL:DATA` string, each side a set of the letters C R U D X P S
    /// in any order. An empty side takes that side of `defaults` (as P4TC's compiler does).
    pub fn parse_acl(acl: &str, defaults: Permissions) -> Result<Permissions, AclError> {
        let (control, data) = acl.split_once(':').ok_or(AclError::MissingColon)?;
        let side = |text: &str, side: Side, default: u8| -> Result<u8, AclError> {
            if text.is_empty() {
                return Ok(default);
            }
            let mut bits = 0u8;
            for letter in text.chars() {
                let position = LETTERS
                    .iter()
                    .position(|&l| l == letter)
                    .ok_or(AclError::BadLetter { letter, side })?;
                let bit = 1u8 << (6 - position);
                if bits & bit != 0 {
                    return Err(AclError::Duplicate { letter, side });
                }
                bits |= bit;
            }
            Ok(bits)
        };
        let control = side(control, Side::Control, defaults.control())?;
        let data = side(data, Side::Data, defaults.data())?;
        Ok(Permissions(u16::from(control) << 7 | u16::from(data)))
    }

    /// Parses the `0xHHHH` form of [`Permissions::to_hex`].
    pub fn from_hex(text: &str) -> Option<Permissions> {
        let digits = text
            .strip_prefix("0x")
            .or_else(|| text.strip_prefix("0X"))?;
        u16::from_str_radix(digits, 16)
            .ok()
            .and_then(Permissions::from_bits)
    }

    /// `0x` and lower-case hex digits without leading zeros, as P4TC prints them (`0x3da4`).
    pub fn to_hex(self) -> String {
        format!("{:#x}", self.0)
    }
}

/// Fourteen characters, a letter where the bit is set and `-` where not: `CRUD-PS-R--X--`.
impl fmt::Display for Permissions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, letter) in LETTERS.iter().chain(LETTERS.iter()).enumerate() {
            let bit = 13 - i;
            let c = if self.0 & (1 << bit) != 0 {
                *letter
            } else {
                '-'
            };
            fmt::Write::write_char(f, c)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_p4tc() {
        let table = Permissions::parse_acl("CRUDPS:RX", Permissions::TABLE).unwrap();
        assert_eq!(table, Permissions::TABLE);
        assert_eq!(table.to_hex(), "0x3da4");
        assert_eq!(table.to_string(), "CRUD-PS-R--X--");
        assert_eq!(
            Permissions::parse_acl("CRUDPS:CRXP", Permissions::TABLE)
                .unwrap()
                .to_hex(),
            "0x3de6"
        );
        assert_eq!(
            Permissions::parse_acl("RUPS:RUXP", Permissions::TABLE),
            Ok(Permissions::EXTERN)
        );
        assert_eq!(
            Permissions::parse_acl("R:RX", Permissions::TABLE),
            Ok(Permissions::CONST)
        );
        // Counter and Meter externs in P4TC's pna.p4.
        assert_eq!(
            Permissions::parse_acl("RP:RUXP", Permissions::EXTERN)
                .unwrap()
                .to_hex(),
            "0x1136"
        );
        assert_eq!(
            Permissions::parse_acl("RUP:RUXP", Permissions::EXTERN)
                .unwrap()
                .to_hex(),
            "0x1936"
        );
    }

    #[test]
    fn entries_inherit_the_table_less_create() {
        let entry = Permissions::TABLE.without_create();
        assert_eq!(entry.to_hex(), "0x1da4");
        assert_eq!(entry.to_string(), "-RUD-PS-R--X--");
        assert!(Permissions::TABLE.contains(entry));
        assert!(!entry.contains(Permissions::TABLE));
    }

    #[test]
    fn letters_in_any_order_and_empty_sides_take_defaults() {
        assert_eq!(
            Permissions::parse_acl("SPDURC:XR", Permissions::EXTERN),
            Ok(Permissions::TABLE)
        );
        let p = Permissions::parse_acl(":X", Permissions::TABLE).unwrap();
        assert_eq!(
            (p.control(), p.data()),
            (Permissions::TABLE.control(), 0b000_0100)
        );
        let p = Permissions::parse_acl("R:", Permissions::TABLE).unwrap();
        assert_eq!(
            (p.control(), p.data()),
            (0b010_0000, Permissions::TABLE.data())
        );
        assert_eq!(
            Permissions::parse_acl("CRUDXPS:CRUDXPS", Permissions::TABLE)
                .unwrap()
                .bits(),
            0x3fff
        );
    }

    #[test]
    fn bad_strings_are_clear_errors() {
        assert_eq!(
            Permissions::parse_acl("CRUDPS", Permissions::TABLE),
            Err(AclError::MissingColon)
        );
        let err = Permissions::parse_acl("CRUDQ:RX", Permissions::TABLE).unwrap_err();
        assert_eq!(
            err,
            AclError::BadLetter {
                letter: 'Q',
                side: Side::Control
            }
        );
        assert_eq!(
            err.to_string(),
            "`Q` is not a permission letter in the control plane part (letters: C R U D X P S)"
        );
        assert_eq!(
            Permissions::parse_acl("CR:rx", Permissions::TABLE),
            Err(AclError::BadLetter {
                letter: 'r',
                side: Side::Data
            })
        );
        assert_eq!(
            Permissions::parse_acl("CR:RXR", Permissions::TABLE),
            Err(AclError::Duplicate {
                letter: 'R',
                side: Side::Data
            })
        );
        assert!(Permissions::parse_acl("CR:R:X", Permissions::TABLE).is_err());
    }

    #[test]
    fn hex_round_trips() {
        for bits in [0u16, 0x24, 0x1024, 0x3da4, 0x3fff] {
            let p = Permissions::from_bits(bits).unwrap();
            assert_eq!(Permissions::from_hex(&p.to_hex()), Some(p));
        }
        assert_eq!(Permissions::from_bits(0x4000), None);
        assert_eq!(Permissions::from_hex("0x4000"), None);
        assert_eq!(Permissions::from_hex("3da4"), None);
    }
}
