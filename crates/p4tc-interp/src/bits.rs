//! Reading bit fields out of a packet and appending them to one, big-endian, on any bit
//! boundary. Callers check lengths first; these functions read missing bytes as zero rather
//! than panic.

/// Reads `width` (at most 56) bits starting at bit `pos`, through one 64-bit window.
#[inline]
fn read_small(data: &[u8], pos: usize, width: u32) -> u64 {
    if width == 0 {
        return 0;
    }
    let byte = pos / 8;
    let skip = (pos % 8) as u32;
    let window = match data.get(byte..byte + 8) {
        Some(w) => {
            let mut b = [0u8; 8];
            b.copy_from_slice(w);
            u64::from_be_bytes(b)
        }
        // Near the end of the packet: missing bytes read as zero.
        None => {
            let mut b = [0u8; 8];
            for (k, slot) in b.iter_mut().enumerate() {
                *slot = data.get(byte + k).copied().unwrap_or(0);
            }
            u64::from_be_bytes(b)
        }
    };
    (window << skip) >> (64 - width)
}

/// Reads `width` (at most 128) bits starting at bit `pos` of `data`.
#[inline]
pub(crate) fn read(data: &[u8], pos: usize, width: u32) -> u128 {
    if width <= 56 {
        return u128::from(read_small(data, pos, width));
    }
    let mut value = 0u128;
    let mut pos = pos;
    let mut left = width;
    while left > 0 {
        let take = left.min(56);
        value = (value << take) | u128::from(read_small(data, pos, take));
        pos += take as usize;
        left -= take;
    }
    value
}

/// An output packet being built bit by bit.
#[derive(Debug, Default)]
pub(crate) struct BitWriter {
    /// The bytes so far (the last one may be partial).
    pub bytes: Vec<u8>,
    /// Bits written.
    pub bits: usize,
}

impl BitWriter {
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.bits = 0;
    }

    /// Appends the `width` (at most 128) low bits of `value`.
    #[inline]
    pub fn put(&mut self, value: u128, width: u32) {
        if self.bits % 8 == 0 && width % 8 == 0 {
            let n = (width / 8) as usize;
            let be = value.to_be_bytes();
            self.bytes.extend_from_slice(&be[16 - n..]);
            self.bits += width as usize;
            return;
        }
        // Most significant chunks first, at most 56 bits each so that a chunk and the bits
        // already in the last byte fit one 64-bit word.
        let mut left = width;
        while left > 0 {
            let take = left.min(56);
            left -= take;
            let chunk = ((value >> left) as u64) & ((1u64 << take) - 1);
            self.put_small(chunk, take);
        }
    }

    #[inline]
    fn put_small(&mut self, chunk: u64, width: u32) {
        let off = (self.bits % 8) as u32;
        let start = self.bits / 8;
        self.bits += width as usize;
        let need = self.bits.div_ceil(8);
        self.bytes.resize(need, 0);
        let word = (chunk << (64 - width - off)).to_be_bytes();
        for (b, w) in self.bytes[start..need].iter_mut().zip(word) {
            *b |= w;
        }
    }

    /// Appends a value of any width held in limbs (least significant first).
    pub fn put_limbs(&mut self, limbs: &[u128], width: u32) {
        let n = limbs.len();
        for i in (0..n).rev() {
            let lo = i as u32 * 128;
            if lo >= width {
                continue;
            }
            let w = (width - lo).min(128);
            self.put(limbs[i], w);
        }
    }
}

/// Reads a `width`-bit value of any width into limbs (least significant first).
pub(crate) fn read_limbs(data: &[u8], pos: usize, width: u32, out: &mut [u128]) {
    let n = out.len();
    let mut at = pos;
    for i in (0..n).rev() {
        let lo = i as u32 * 128;
        if lo >= width {
            out[i] = 0;
            continue;
        }
        let w = (width - lo).min(128);
        out[i] = read(data, at, w);
        at += w as usize;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes_any_alignment() {
        let data: Vec<u8> = (0..40u8).map(|i| i.wrapping_mul(37) ^ 0x5a).collect();
        for pos in 0..64 {
            for width in [1u32, 3, 7, 8, 13, 31, 56, 57, 64, 100, 128] {
                let v = read(&data, pos, width);
                // Reference: bit by bit.
                let mut r = 0u128;
                for i in 0..width as usize {
                    let p = pos + i;
                    let bit = (data[p / 8] >> (7 - p % 8)) & 1;
                    r = (r << 1) | u128::from(bit);
                }
                assert_eq!(v, r, "pos {pos} width {width}");
                // Writing it back after `pos` bits of the same data gives the same bits.
                let mut w = BitWriter::default();
                w.put(read(&data, 0, pos as u32), pos as u32);
                w.put(v, width);
                assert_eq!(
                    read(&w.bytes, 0, (pos as u32 + width).min(128)),
                    read(&data, 0, (pos as u32 + width).min(128))
                );
                assert_eq!(w.bits, pos + width as usize);
            }
        }
        // Past the end reads zeros, never panics.
        assert_eq!(read(&[0xff], 4, 16), 0xf000);
    }
}
