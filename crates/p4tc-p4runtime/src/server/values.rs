//! P4Runtime's bytestrings: big-endian, of any length that holds the value (the spec lets
//! clients send the canonical form, without leading zero bytes, or the full width); the
//! server answers in the canonical form.

use num_bigint::BigUint;

use super::errors::Failure;

/// The value of `bytes` for a field of `width` bits; `what` names the field in the error.
pub fn decode(bytes: &[u8], width: u32, what: &dyn Fn() -> String) -> Result<BigUint, Failure> {
    if bytes.is_empty() {
        return Err(Failure::invalid(format!("{}: empty bytestring", what())));
    }
    // Fast path for the common widths: no allocation beyond the BigUint.
    let value = BigUint::from_bytes_be(bytes);
    if value.bits() > u64::from(width) {
        return Err(Failure::invalid(format!(
            "{}: value 0x{} does not fit in {width} bits",
            what(),
            hex(bytes)
        )));
    }
    Ok(value)
}

/// The canonical bytestring of `value` (at least one byte).
pub fn encode(value: &BigUint) -> Vec<u8> {
    value.to_bytes_be()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// All ones in `width` bits.
pub fn all_ones(width: u32) -> BigUint {
    (BigUint::from(1u8) << width) - 1u8
}

/// The mask of the top `prefix_len` of `width` bits.
pub fn prefix_mask(width: u32, prefix_len: u32) -> BigUint {
    if prefix_len == 0 {
        return BigUint::default();
    }
    all_ones(prefix_len) << (width - prefix_len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytestrings_of_any_length_decode_and_too_wide_ones_are_refused() {
        let what = || "field x".to_string();
        assert_eq!(
            decode(&[0, 0, 1, 2], 32, &what).unwrap(),
            BigUint::from(0x102u32)
        );
        assert_eq!(decode(&[1, 2], 9, &what).unwrap(), BigUint::from(0x102u32));
        let e = decode(&[2, 0], 9, &what).unwrap_err();
        assert!(
            e.message.contains("field x") && e.message.contains("9 bits"),
            "{e:?}"
        );
        assert!(decode(&[], 8, &what).is_err());
        assert_eq!(encode(&BigUint::from(0u8)), vec![0]);
        assert_eq!(encode(&BigUint::from(0x0a000001u32)), vec![10, 0, 0, 1]);
        assert_eq!(prefix_mask(8, 3), BigUint::from(0xe0u8));
    }
}
