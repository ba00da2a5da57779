//! Hash and checksum algorithms of PNA's `PNA_HashAlgorithm_t`.

use crc::{Crc, CRC_16_ARC, CRC_32_ISO_HDLC};

/// CRC-16/ARC, BMv2's `crc16`.
const CRC16: Crc<u16> = Crc::<u16>::new(&CRC_16_ARC);
/// CRC-32/ISO-HDLC, BMv2's `crc32`.
const CRC32: Crc<u32> = Crc::<u32>::new(&CRC_32_ISO_HDLC);

/// An algorithm, by `PNA_HashAlgorithm_t` member name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// The data itself (its low bits).
    Identity,
    /// CRC-32/ISO-HDLC (also used for `CRC32_CUSTOM` and `TARGET_DEFAULT`).
    Crc32,
    /// CRC-16/ARC (also used for `CRC16_CUSTOM`).
    Crc16,
    /// The complemented 16-bit ones' complement sum (RFC 1071).
    OnesComplement16,
}

impl Algorithm {
    /// The algorithm of a member name; unknown names take CRC-32.
    pub fn from_name(name: &str) -> Algorithm {
        match name {
            "IDENTITY" => Algorithm::Identity,
            "CRC16" | "CRC16_CUSTOM" => Algorithm::Crc16,
            "ONES_COMPLEMENT16" | "CSUM16" => Algorithm::OnesComplement16,
            _ => Algorithm::Crc32,
        }
    }

    /// The hash of `data`.
    pub fn hash(self, data: &[u8]) -> u128 {
        match self {
            Algorithm::Identity => data
                .iter()
                .fold(0u128, |acc, &b| (acc << 8) | u128::from(b)),
            Algorithm::Crc16 => u128::from(CRC16.checksum(data)),
            Algorithm::Crc32 => u128::from(CRC32.checksum(data)),
            Algorithm::OnesComplement16 => u128::from(!ones_sum(0, data)),
        }
    }
}

/// Adds `data`'s 16-bit big-endian words (an odd last byte padded with zero) to a ones'
/// complement sum, with end-around carry.
pub fn ones_sum(start: u16, data: &[u8]) -> u16 {
    let mut sum = u32::from(start);
    let mut chunks = data.chunks_exact(2);
    for w in &mut chunks {
        sum += u32::from(u16::from_be_bytes([w[0], w[1]]));
        sum = (sum & 0xffff) + (sum >> 16);
    }
    if let [last] = chunks.remainder() {
        sum += u32::from(*last) << 8;
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// Subtracts `data`'s words from a ones' complement sum (RFC 1624: add the complements).
pub fn ones_subtract(start: u16, data: &[u8]) -> u16 {
    let mut sum = u32::from(start);
    let mut chunks = data.chunks_exact(2);
    for w in &mut chunks {
        sum += u32::from(!u16::from_be_bytes([w[0], w[1]]));
        sum = (sum & 0xffff) + (sum >> 16);
    }
    if let [last] = chunks.remainder() {
        sum += u32::from(!(u16::from(*last) << 8));
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_check_values() {
        assert_eq!(Algorithm::Crc16.hash(b"123456789"), 0xBB3D);
        assert_eq!(Algorithm::Crc32.hash(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn ipv4_header_checksum() {
        // The classic example header (checksum field zeroed): checksum 0xb861.
        let header = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(Algorithm::OnesComplement16.hash(&header), 0xb861);
        // Subtracting what was added gives back the start.
        let s = ones_sum(0x1234, &header);
        assert_eq!(ones_subtract(s, &header), 0x1234);
    }
}
