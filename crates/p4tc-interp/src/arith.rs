//! Exact P4 arithmetic on values of at most 128 bits, stored as their W-bit pattern (signed
//! values in two's complement), and a slow path over `num_bigint` for wider ones.

use num_bigint::{BigInt, BigUint, Sign};
use num_traits::{One, Zero};
use p4tc_ir::ir::BinaryOp;

/// The `width` low bits set.
#[inline]
pub(crate) fn mask(width: u32) -> u128 {
    if width >= 128 {
        u128::MAX
    } else {
        (1u128 << width) - 1
    }
}

/// A `width`-bit pattern sign-extended to `i128`.
#[inline]
pub(crate) fn sext(v: u128, width: u32) -> i128 {
    if width == 0 {
        0
    } else if width >= 128 {
        v as i128
    } else {
        let shift = 128 - width;
        ((v << shift) as i128) >> shift
    }
}

/// `a op b` for `width`-bit operands (not `&&`, `||`, `++`: the compiler handles those).
/// Comparisons return 0 or 1. Shifts take an unsigned amount `b` of any width.
#[inline]
pub(crate) fn binary(op: BinaryOp, width: u32, signed: bool, a: u128, b: u128) -> u128 {
    let m = mask(width);
    match op {
        BinaryOp::Add => a.wrapping_add(b) & m,
        BinaryOp::Sub => a.wrapping_sub(b) & m,
        BinaryOp::Mul => a.wrapping_mul(b) & m,
        BinaryOp::BitAnd => a & b,
        BinaryOp::BitOr => a | b,
        BinaryOp::BitXor => a ^ b,
        BinaryOp::Eq => u128::from(a == b),
        BinaryOp::Ne => u128::from(a != b),
        BinaryOp::Lt | BinaryOp::Gt | BinaryOp::Le | BinaryOp::Ge => {
            let ord = if signed {
                sext(a, width).cmp(&sext(b, width))
            } else {
                a.cmp(&b)
            };
            u128::from(match op {
                BinaryOp::Lt => ord.is_lt(),
                BinaryOp::Gt => ord.is_gt(),
                BinaryOp::Le => ord.is_le(),
                _ => ord.is_ge(),
            })
        }
        BinaryOp::Shl => {
            if b >= u128::from(width) {
                0
            } else {
                (a << b) & m
            }
        }
        BinaryOp::Shr => {
            if signed {
                let amount = b.min(127) as u32;
                (sext(a, width) >> amount) as u128 & m
            } else if b >= u128::from(width) {
                0
            } else {
                a >> b
            }
        }
        BinaryOp::SatAdd | BinaryOp::SatSub => {
            saturate(op == BinaryOp::SatAdd, width, signed, a, b)
        }
        BinaryOp::Div | BinaryOp::Mod => {
            // Division by zero gives 0: P4 leaves it undefined and a packet must never panic.
            if b == 0 || width == 0 {
                return 0;
            }
            if signed {
                let (x, y) = (sext(a, width), sext(b, width));
                let r = if op == BinaryOp::Div {
                    x.wrapping_div(y)
                } else {
                    x.wrapping_rem(y)
                };
                r as u128 & m
            } else if op == BinaryOp::Div {
                a / b
            } else {
                a % b
            }
        }
        // Handled by the compiler; harmless values if ever reached.
        BinaryOp::Concat | BinaryOp::And | BinaryOp::Or => 0,
    }
}

fn saturate(add: bool, width: u32, signed: bool, a: u128, b: u128) -> u128 {
    let m = mask(width);
    if width == 0 {
        return 0;
    }
    if signed {
        let (x, y) = (sext(a, width), sext(b, width));
        let (min, max) = if width >= 128 {
            (i128::MIN, i128::MAX)
        } else {
            (-(1i128 << (width - 1)), (1i128 << (width - 1)) - 1)
        };
        let r = if add {
            x.saturating_add(y)
        } else {
            x.saturating_sub(y)
        };
        (r.clamp(min, max)) as u128 & m
    } else if add {
        match a.checked_add(b) {
            Some(s) if s <= m => s,
            _ => m,
        }
    } else {
        a.saturating_sub(b)
    }
}

/// A `width`-bit pattern as a BigInt (signed: two's complement interpretation).
pub(crate) fn to_bigint(pattern: &BigUint, width: u32, signed: bool) -> BigInt {
    let v = BigInt::from_biguint(Sign::Plus, pattern.clone());
    if signed && width > 0 && pattern.bit(u64::from(width - 1)) {
        v - (BigInt::one() << width)
    } else {
        v
    }
}

/// `v` reduced to its `width`-bit pattern.
pub(crate) fn to_pattern(v: &BigInt, width: u32) -> BigUint {
    let modulus = BigInt::one() << width;
    let mut r = v % &modulus;
    if r.sign() == Sign::Minus {
        r += &modulus;
    }
    r.to_biguint().unwrap_or_default()
}

/// `a op b` on patterns of any width (the slow path). Comparisons give 0 or 1.
pub(crate) fn binary_big(
    op: BinaryOp,
    width: u32,
    signed: bool,
    a: &BigUint,
    b: &BigUint,
) -> BigUint {
    let (x, y) = (to_bigint(a, width, signed), to_bigint(b, width, signed));
    let flag = |c: bool| if c { BigUint::one() } else { BigUint::zero() };
    let wrap = |v: BigInt| to_pattern(&v, width);
    match op {
        BinaryOp::Add => wrap(x + y),
        BinaryOp::Sub => wrap(x - y),
        BinaryOp::Mul => wrap(x * y),
        BinaryOp::BitAnd => a & b,
        BinaryOp::BitOr => a | b,
        BinaryOp::BitXor => a ^ b,
        BinaryOp::Eq => flag(a == b),
        BinaryOp::Ne => flag(a != b),
        BinaryOp::Lt => flag(x < y),
        BinaryOp::Gt => flag(x > y),
        BinaryOp::Le => flag(x <= y),
        BinaryOp::Ge => flag(x >= y),
        BinaryOp::Shl => {
            if *b >= BigUint::from(width) {
                BigUint::zero()
            } else {
                wrap(x << u32::try_from(b).unwrap_or(0))
            }
        }
        BinaryOp::Shr => {
            let amount = u32::try_from(b).unwrap_or(u32::MAX).min(width);
            if signed {
                // BigInt's >> rounds toward negative infinity: an arithmetic shift.
                wrap(x >> amount)
            } else if amount >= width {
                BigUint::zero()
            } else {
                a >> amount
            }
        }
        BinaryOp::SatAdd | BinaryOp::SatSub => {
            let r = if op == BinaryOp::SatAdd { x + y } else { x - y };
            let (min, max) = if signed {
                (
                    -(BigInt::one() << (width.saturating_sub(1))),
                    (BigInt::one() << (width.saturating_sub(1))) - 1,
                )
            } else {
                (BigInt::zero(), (BigInt::one() << width) - 1)
            };
            wrap(r.clamp(min, max))
        }
        BinaryOp::Div | BinaryOp::Mod => {
            if y.is_zero() {
                return BigUint::zero();
            }
            // BigInt's / and % truncate toward zero, like Rust's integer division.
            wrap(if op == BinaryOp::Div { x / y } else { x % y })
        }
        BinaryOp::Concat | BinaryOp::And | BinaryOp::Or => BigUint::zero(),
    }
}

/// Reads `limbs` slots (least significant first) as a BigUint.
pub(crate) fn read_big(slots: &[u128]) -> BigUint {
    let mut digits = Vec::with_capacity(slots.len() * 4);
    for limb in slots {
        for k in 0..4 {
            digits.push((limb >> (32 * k)) as u32);
        }
    }
    BigUint::from_slice(&digits)
}

/// Writes `v` into `out` as limbs (least significant first), truncating.
pub(crate) fn write_big(v: &BigUint, out: &mut [u128]) {
    let digits = v.to_u32_digits();
    for (i, limb) in out.iter_mut().enumerate() {
        let mut x = 0u128;
        for k in 0..4 {
            if let Some(d) = digits.get(i * 4 + k) {
                x |= u128::from(*d) << (32 * k);
            }
        }
        *limb = x;
    }
}

/// Masks the top limb of a `width`-bit value stored in `out`.
pub(crate) fn mask_limbs(out: &mut [u128], width: u32) {
    let full = (width / 128) as usize;
    let rest = width % 128;
    for (i, limb) in out.iter_mut().enumerate() {
        if i > full || (i == full && rest == 0) {
            *limb = 0;
        } else if i == full {
            *limb &= mask(rest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The reference: the operation on mathematical integers, reduced to `width` bits.
    fn reference(op: BinaryOp, width: u32, signed: bool, a: &BigUint, b: &BigUint) -> BigUint {
        let x = to_bigint(a, width, signed);
        let y = to_bigint(b, width, signed);
        let wrap = |v: BigInt| to_pattern(&v, width);
        let flag = |c: bool| BigUint::from(u8::from(c));
        let (min, max) = if signed {
            (
                -(BigInt::one() << (width - 1)),
                (BigInt::one() << (width - 1)) - 1,
            )
        } else {
            (BigInt::zero(), (BigInt::one() << width) - 1)
        };
        match op {
            BinaryOp::Add => wrap(x + y),
            BinaryOp::Sub => wrap(x - y),
            BinaryOp::Mul => wrap(x * y),
            BinaryOp::SatAdd => wrap((x + y).clamp(min, max)),
            BinaryOp::SatSub => wrap((x - y).clamp(min, max)),
            BinaryOp::BitAnd => a & b,
            BinaryOp::BitOr => a | b,
            BinaryOp::BitXor => a ^ b,
            BinaryOp::Eq => flag(x == y),
            BinaryOp::Ne => flag(x != y),
            BinaryOp::Lt => flag(x < y),
            BinaryOp::Gt => flag(x > y),
            BinaryOp::Le => flag(x <= y),
            BinaryOp::Ge => flag(x >= y),
            BinaryOp::Shl => {
                let s = u32::try_from(b).unwrap_or(u32::MAX);
                if s >= width {
                    BigUint::zero()
                } else {
                    wrap(x << s)
                }
            }
            BinaryOp::Shr => {
                let s = u32::try_from(b).unwrap_or(u32::MAX);
                if s >= width {
                    if signed && x.sign() == Sign::Minus {
                        wrap(BigInt::from(-1))
                    } else {
                        BigUint::zero()
                    }
                } else {
                    wrap(x >> s)
                }
            }
            BinaryOp::Div | BinaryOp::Mod => {
                if y.is_zero() {
                    BigUint::zero()
                } else if op == BinaryOp::Div {
                    wrap(x / y)
                } else {
                    wrap(x % y)
                }
            }
            _ => BigUint::zero(),
        }
    }

    const OPS: [BinaryOp; 18] = [
        BinaryOp::Add,
        BinaryOp::Sub,
        BinaryOp::Mul,
        BinaryOp::SatAdd,
        BinaryOp::SatSub,
        BinaryOp::BitAnd,
        BinaryOp::BitOr,
        BinaryOp::BitXor,
        BinaryOp::Eq,
        BinaryOp::Ne,
        BinaryOp::Lt,
        BinaryOp::Gt,
        BinaryOp::Le,
        BinaryOp::Ge,
        BinaryOp::Shl,
        BinaryOp::Shr,
        BinaryOp::Div,
        BinaryOp::Mod,
    ];
    const WIDTHS: [u32; 10] = [1, 7, 8, 63, 64, 65, 127, 128, 129, 200];

    /// A `width`-bit pattern from random words, biased towards edge values.
    fn pattern(words: &[u64], kind: u8, width: u32) -> BigUint {
        let all = (BigUint::one() << width) - 1u8;
        let v = match kind % 6 {
            0 => BigUint::zero(),
            1 => all.clone(),
            2 => BigUint::one() << (width - 1),
            3 => (BigUint::one() << (width - 1)) - 1u8,
            _ => {
                let digits: Vec<u32> = words
                    .iter()
                    .flat_map(|w| [*w as u32, (*w >> 32) as u32])
                    .collect();
                BigUint::from_slice(&digits)
            }
        };
        v & all
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn every_operator_matches_bigint(
            wi in 0usize..WIDTHS.len(),
            oi in 0usize..OPS.len(),
            signed in any::<bool>(),
            a in proptest::collection::vec(any::<u64>(), 4),
            b in proptest::collection::vec(any::<u64>(), 4),
            ka in any::<u8>(),
            kb in any::<u8>(),
            small_shift in 0u32..260,
        ) {
            let width = WIDTHS[wi];
            let op = OPS[oi];
            let x = pattern(&a, ka, width);
            let mut y = pattern(&b, kb, width);
            if matches!(op, BinaryOp::Shl | BinaryOp::Shr) && kb % 2 == 0 {
                y = BigUint::from(small_shift) & ((BigUint::one() << width) - 1u8);
            }
            let want = reference(op, width, signed, &x, &y);
            let slow = binary_big(op, width, signed, &x, &y);
            prop_assert_eq!(&slow, &want, "big {:?} w={} s={} {} {}", op, width, signed, x, y);
            if width <= 128 {
                let fast = binary(op, width, signed, crate::expr::low_u128(&x), crate::expr::low_u128(&y));
                prop_assert_eq!(BigUint::from(fast), want, "fast {:?} w={} s={} {} {}", op, width, signed, x, y);
            }
        }
    }

    #[test]
    fn limbs_round_trip() {
        let v = (BigUint::one() << 199) + 12345u32;
        let mut out = [0u128; 2];
        write_big(&v, &mut out);
        assert_eq!(read_big(&out), v);
        mask_limbs(&mut out, 129);
        assert_eq!(read_big(&out), BigUint::from(12345u32));
    }
}
