//! Reading bit fields out of a packet and appending them to one, big-endian, on any bit
//! boundary. Callers check lengths first; these functions read missing bytes as zero rather
//! than panic.

/// Reads `width` (at most 128) bits starting at bit `pos` of `data`.
#[inline]
pub(crate) fn read(data: &[u8], pos: usize, width: u32) -> u128 {
    if pos % 8 == 0 && width % 8 == 0 {
        let start = pos / 8;
        let end = start + (width / 8) as usize;
        if let Some(bytes) = data.get(start..end) {
            return bytes
                .iter()
                .fold(0u128, |acc, &b| (acc << 8) | u128::from(b));
        }
    }
    // General case, at most 56 bits at a time through a 64-bit window.
    let mut value = 0u128;
    let mut pos = pos;
    let mut left = width;
    while left > 0 {
        let take = left.min(56);
        let byte = pos / 8;
        let skip = (pos % 8) as u32;
        let mut window = 0u64;
        for k in 0..8 {
            window = (window << 8) | u64::from(data.get(byte + k).copied().unwrap_or(0));
        }
        let chunk = (window << skip) >> (64 - take);
        value = if take >= 128 { 0 } else { value << take } | u128::from(chunk);
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
        for i in (0..width).rev() {
            let bit = (value >> i) & 1;
            if self.bits % 8 == 0 {
                self.bytes.push(0);
            }
            if bit == 1 {
                if let Some(last) = self.bytes.last_mut() {
                    *last |= 0x80 >> (self.bits % 8);
                }
            }
            self.bits += 1;
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
