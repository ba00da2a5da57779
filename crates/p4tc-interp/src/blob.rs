//! Fields of byte blobs (keys, action data, register values, digests): big-endian and
//! right-aligned in `size` bytes, as `p4tc_ir::layout` lays them out. Out-of-range fields are
//! skipped (written nowhere, read as zero) rather than panicking.

use num_bigint::BigUint;

use crate::bits;

/// Writes a value of at most 128 bits.
#[inline]
pub(crate) fn put_u128(blob: &mut [u8], offset: usize, size: usize, v: u128) {
    let be = v.to_be_bytes();
    let n = size.min(16);
    if let Some(out) = blob.get_mut(offset + size - n..offset + size) {
        out.copy_from_slice(&be[16 - n..]);
    }
}

/// Writes a value of any width.
pub(crate) fn put_big(blob: &mut [u8], offset: usize, size: usize, v: &BigUint) {
    let be = v.to_bytes_be();
    let n = be.len().min(size);
    if let Some(out) = blob.get_mut(offset + size - n..offset + size) {
        out.copy_from_slice(&be[be.len() - n..]);
    }
}

/// Writes a value held in limbs (least significant first).
pub(crate) fn put_limbs(blob: &mut [u8], offset: usize, size: usize, limbs: &[u128]) {
    if limbs.len() == 1 {
        put_u128(blob, offset, size, limbs[0]);
    } else {
        put_big(blob, offset, size, &crate::arith::read_big(limbs));
    }
}

/// Reads a `width`-bit field into limbs.
#[inline]
pub(crate) fn get_field(blob: &[u8], offset: usize, size: usize, width: u32, out: &mut [u128]) {
    let pad = (size * 8).saturating_sub(width as usize);
    let pos = offset * 8 + pad;
    if out.len() == 1 {
        out[0] = bits::read(blob, pos, width.min(128));
    } else {
        bits::read_limbs(blob, pos, width, out);
    }
}
