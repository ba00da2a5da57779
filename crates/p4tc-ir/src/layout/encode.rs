//! Packing field values into blobs and reading them back, by the rules of the module doc.
//!
//! Encoders take values in declaration order, as [`BigUint`]s, `u128`s or smaller unsigned
//! integers (anything implementing [`FieldValue`]); decoders return [`BigUint`]s. Decoders are
//! strict: a blob of the wrong size, or with a pad bit set, is an error rather than a value,
//! because such a blob can only come from a writer that disagrees with this layout.

use num_bigint::BigUint;

use super::{FieldLayout, KeyLayout, ParamLayout, TableKind};

/// Why values cannot be packed or a blob cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The wrong number of values.
    #[error("expected {expected} values, got {got}")]
    Count {
        /// Fields in the layout.
        expected: usize,
        /// Values given.
        got: usize,
    },
    /// A value does not fit its field.
    #[error("the value for `{field}` does not fit in {width} bits")]
    TooWide {
        /// The field.
        field: String,
        /// Its width.
        width: u32,
    },
    /// A blob of the wrong size.
    #[error("the blob is {got} bytes; the layout needs {expected}")]
    Size {
        /// Bytes the layout needs.
        expected: usize,
        /// Bytes given.
        got: usize,
    },
    /// A pad bit of a field, or a padding byte of the blob, is set.
    #[error("padding bits are set in `{field}`")]
    Padding {
        /// The field, or `<padding>` for the blob's trailing bytes.
        field: String,
    },
    /// A prefix longer than its field.
    #[error("prefix length {prefix} is longer than `{field}`, which is {width} bits wide")]
    Prefix {
        /// The LPM field.
        field: String,
        /// The prefix length given.
        prefix: u32,
        /// The field's width.
        width: u32,
    },
    /// An LPM key whose prefix length word is outside the table's range.
    #[error("prefix length word {prefixlen} is outside this table's range {min}..={max}")]
    PrefixWord {
        /// The word read.
        prefixlen: u32,
        /// The smallest valid word (every exact bit, no LPM bit).
        min: u32,
        /// The largest (every bit).
        max: u32,
    },
    /// A field too wide to read into a `u128`.
    #[error("`{field}` is {width} bits wide, more than a u128 holds")]
    WiderThanU128 {
        /// The field.
        field: String,
        /// Its width.
        width: u32,
    },
    /// An LPM operation on a table that is not an LPM table.
    #[error("the table is matched {kind}, not lpm")]
    NotLpm {
        /// The table's kind.
        kind: &'static str,
    },
    /// Masks given for an LPM table, whose entries take a prefix length instead.
    #[error("an LPM table's entries take a prefix length, not masks")]
    MaskOnLpm,
}

/// A value that can be written into a field: an unsigned integer of any size.
pub trait FieldValue {
    /// Number of significant bits (0 for zero).
    fn bit_len(&self) -> u64;
    /// Writes the value big-endian and right-aligned into `out`, which is zeroed and at least
    /// `ceil(bit_len / 8)` bytes long.
    fn write_be(&self, out: &mut [u8]);
}

impl FieldValue for BigUint {
    fn bit_len(&self) -> u64 {
        self.bits()
    }
    fn write_be(&self, out: &mut [u8]) {
        if self.bits() == 0 {
            return;
        }
        let bytes = self.to_bytes_be();
        let start = out.len().saturating_sub(bytes.len());
        let skip = bytes.len().saturating_sub(out.len());
        out[start..].copy_from_slice(&bytes[skip..]);
    }
}

macro_rules! impl_field_value_for_uint {
    ($($t:ty),*) => {$(
        impl FieldValue for $t {
            fn bit_len(&self) -> u64 {
                u64::from(<$t>::BITS - self.leading_zeros())
            }
            fn write_be(&self, out: &mut [u8]) {
                let bytes = self.to_be_bytes();
                let n = out.len().min(bytes.len());
                let len = out.len();
                out[len - n..].copy_from_slice(&bytes[bytes.len() - n..]);
            }
        }
    )*};
}
impl_field_value_for_uint!(u8, u16, u32, u64, u128);

impl<T: FieldValue + ?Sized> FieldValue for &T {
    fn bit_len(&self) -> u64 {
        (**self).bit_len()
    }
    fn write_be(&self, out: &mut [u8]) {
        (**self).write_be(out)
    }
}

fn check_size(blob: &[u8], expected: u32) -> Result<(), EncodeError> {
    if blob.len() == expected as usize {
        Ok(())
    } else {
        Err(EncodeError::Size {
            expected: expected as usize,
            got: blob.len(),
        })
    }
}

fn check_count(expected: usize, got: usize) -> Result<(), EncodeError> {
    if expected == got {
        Ok(())
    } else {
        Err(EncodeError::Count { expected, got })
    }
}

/// Fails unless `blob[from..]` is all zero (the blob's trailing padding).
fn check_trailing_zero(blob: &[u8], from: u32) -> Result<(), EncodeError> {
    match blob.get(from as usize..) {
        Some(rest) if rest.iter().any(|&b| b != 0) => Err(EncodeError::Padding {
            field: "<padding>".into(),
        }),
        _ => Ok(()),
    }
}

/// Clears the `n` least significant bits of a big-endian byte string.
fn clear_low_bits(bytes: &mut [u8], mut n: u32) {
    for byte in bytes.iter_mut().rev() {
        if n == 0 {
            break;
        }
        if n >= 8 {
            *byte = 0;
            n -= 8;
        } else {
            *byte &= !((1u8 << n) - 1);
            n = 0;
        }
    }
}

impl FieldLayout {
    fn bytes<'b>(&self, blob: &'b [u8]) -> Result<&'b [u8], EncodeError> {
        let end = self.offset as usize + self.size as usize;
        blob.get(self.range()).ok_or(EncodeError::Size {
            expected: end,
            got: blob.len(),
        })
    }

    /// Writes `value` into this field of `blob`, zeroing the pad bits.
    pub fn write<V: FieldValue + ?Sized>(
        &self,
        blob: &mut [u8],
        value: &V,
    ) -> Result<(), EncodeError> {
        if value.bit_len() > u64::from(self.width) {
            return Err(EncodeError::TooWide {
                field: self.name.clone(),
                width: self.width,
            });
        }
        let end = self.offset as usize + self.size as usize;
        let len = blob.len();
        let out = blob.get_mut(self.range()).ok_or(EncodeError::Size {
            expected: end,
            got: len,
        })?;
        out.fill(0);
        value.write_be(out);
        Ok(())
    }

    /// Reads this field of `blob`.
    pub fn read(&self, blob: &[u8]) -> Result<BigUint, EncodeError> {
        let bytes = self.checked_bytes(blob)?;
        Ok(BigUint::from_bytes_be(bytes))
    }

    /// Reads this field of `blob` into a `u128` (fields up to 128 bits wide).
    pub fn read_u128(&self, blob: &[u8]) -> Result<u128, EncodeError> {
        if self.width > 128 {
            return Err(EncodeError::WiderThanU128 {
                field: self.name.clone(),
                width: self.width,
            });
        }
        let bytes = self.checked_bytes(blob)?;
        Ok(bytes
            .iter()
            .fold(0u128, |acc, &b| (acc << 8) | u128::from(b)))
    }

    /// The field's bytes, after checking that its pad bits are zero.
    fn checked_bytes<'b>(&self, blob: &'b [u8]) -> Result<&'b [u8], EncodeError> {
        let bytes = self.bytes(blob)?;
        // Pad bits lead the field: whole zero bytes (only in a hand-made layout), then the top
        // bits of the first value byte.
        let pad = self.pad_bits() as usize;
        let (whole, bits) = (pad / 8, pad % 8);
        let padding_set = bytes.iter().take(whole).any(|&b| b != 0)
            || (bits > 0 && bytes.get(whole).is_some_and(|&b| b >> (8 - bits) != 0));
        if padding_set {
            return Err(EncodeError::Padding {
                field: self.name.clone(),
            });
        }
        Ok(bytes)
    }

    /// The mask of a `prefix_len`-bit prefix of this field (its top `prefix_len` bits set).
    pub fn prefix_mask(&self, prefix_len: u32) -> Result<BigUint, EncodeError> {
        if prefix_len > self.width {
            return Err(EncodeError::Prefix {
                field: self.name.clone(),
                prefix: prefix_len,
                width: self.width,
            });
        }
        let ones = (BigUint::from(1u8) << prefix_len) - 1u8;
        Ok(ones << (self.width - prefix_len))
    }
}

/// Writes `values` into `fields` of a zeroed blob of `size` bytes.
fn encode_fields<'f, V: FieldValue>(
    fields: impl ExactSizeIterator<Item = &'f FieldLayout>,
    values: &[V],
    size: u32,
) -> Result<Vec<u8>, EncodeError> {
    check_count(fields.len(), values.len())?;
    // Zeroed by hand rather than allocated zeroed: glibc's calloc never takes a chunk from
    // its per-thread cache, and blobs made and dropped by the million (a bulk load's keys
    // and parameters) would pay its slow path each time.
    #[allow(clippy::slow_vector_initialization)]
    let mut blob = {
        let mut blob = Vec::with_capacity(size as usize);
        blob.resize(size as usize, 0u8);
        blob
    };
    for (field, value) in fields.zip(values) {
        field.write(&mut blob, value)?;
    }
    Ok(blob)
}

impl KeyLayout {
    fn field_layouts(&self) -> impl ExactSizeIterator<Item = &FieldLayout> {
        self.fields.iter().map(|f| &f.field)
    }

    fn write_prefixlen(blob: &mut [u8], prefixlen: u32) -> Result<(), EncodeError> {
        // The trie's prefixlen is a host-order u32 (struct bpf_lpm_trie_key).
        let len = blob.len();
        let word = blob.get_mut(..4).ok_or(EncodeError::Size {
            expected: 4,
            got: len,
        })?;
        word.copy_from_slice(&prefixlen.to_ne_bytes());
        Ok(())
    }

    /// The key blob of a lookup (or of an exact entry): every field in full. In an LPM table
    /// the prefix length word is the full length, [`KeyLayout::max_prefix_len`].
    pub fn encode_key<V: FieldValue>(&self, values: &[V]) -> Result<Vec<u8>, EncodeError> {
        let mut blob = encode_fields(self.field_layouts(), values, self.size)?;
        if let Some(max) = self.max_prefix_len() {
            Self::write_prefixlen(&mut blob, max)?;
        }
        Ok(blob)
    }

    /// The key blob of an LPM table's entry whose LPM field matches its top `prefix_len` bits.
    /// The LPM field's bits past the prefix are cleared, so equal prefixes give equal blobs.
    pub fn encode_lpm_entry<V: FieldValue>(
        &self,
        values: &[V],
        prefix_len: u32,
    ) -> Result<Vec<u8>, EncodeError> {
        let (Some(lpm), Some(base)) = (self.lpm_field(), self.lpm_prefix_base()) else {
            return Err(EncodeError::NotLpm {
                kind: self.kind.name(),
            });
        };
        let lpm = &lpm.field;
        if prefix_len > lpm.width {
            return Err(EncodeError::Prefix {
                field: lpm.name.clone(),
                prefix: prefix_len,
                width: lpm.width,
            });
        }
        let mut blob = encode_fields(self.field_layouts(), values, self.size)?;
        if let Some(bytes) = blob.get_mut(lpm.range()) {
            clear_low_bits(bytes, lpm.width - prefix_len);
        }
        Self::write_prefixlen(&mut blob, base.saturating_add(prefix_len))?;
        Ok(blob)
    }

    /// The mask blob of a ternary entry: one mask per field, in the key's layout.
    pub fn encode_mask<V: FieldValue>(&self, masks: &[V]) -> Result<Vec<u8>, EncodeError> {
        if self.kind == TableKind::Lpm {
            return Err(EncodeError::MaskOnLpm);
        }
        encode_fields(self.field_layouts(), masks, self.size)
    }

    /// The stored key and the mask blob of a ternary entry: the key is `values & masks`.
    pub fn encode_ternary_entry<V: FieldValue, M: FieldValue>(
        &self,
        values: &[V],
        masks: &[M],
    ) -> Result<(Vec<u8>, Vec<u8>), EncodeError> {
        let mask = self.encode_mask(masks)?;
        let mut key = self.encode_key(values)?;
        self.apply_mask(&mut key, &mask)?;
        Ok((key, mask))
    }

    /// ANDs `key` with `mask` in place, as a tuple-space lookup does for each mask.
    pub fn apply_mask(&self, key: &mut [u8], mask: &[u8]) -> Result<(), EncodeError> {
        check_size(key, self.size)?;
        check_size(mask, self.size)?;
        for (k, m) in key.iter_mut().zip(mask).skip(self.header_size as usize) {
            *k &= m;
        }
        Ok(())
    }

    /// The field values of a key (or mask) blob, in declaration order. The prefix length word
    /// of an LPM key is not checked; see [`KeyLayout::decode_lpm_entry`].
    pub fn decode_key(&self, blob: &[u8]) -> Result<Vec<BigUint>, EncodeError> {
        check_size(blob, self.size)?;
        check_trailing_zero(blob, self.header_size + self.data_size)?;
        self.fields.iter().map(|f| f.field.read(blob)).collect()
    }

    /// The field values and the LPM field's prefix length of an LPM table's key blob.
    pub fn decode_lpm_entry(&self, blob: &[u8]) -> Result<(Vec<BigUint>, u32), EncodeError> {
        let (Some(base), Some(max)) = (self.lpm_prefix_base(), self.max_prefix_len()) else {
            return Err(EncodeError::NotLpm {
                kind: self.kind.name(),
            });
        };
        let values = self.decode_key(blob)?;
        let mut word = [0u8; 4];
        word.copy_from_slice(blob.get(..4).ok_or(EncodeError::Size {
            expected: 4,
            got: blob.len(),
        })?);
        let prefixlen = u32::from_ne_bytes(word);
        if prefixlen < base || prefixlen > max {
            return Err(EncodeError::PrefixWord {
                prefixlen,
                min: base,
                max,
            });
        }
        Ok((values, prefixlen - base))
    }
}

impl ParamLayout {
    /// The parameter block of `values`, one per action-data parameter in order.
    pub fn encode<V: FieldValue>(&self, values: &[V]) -> Result<Vec<u8>, EncodeError> {
        encode_fields(self.params.iter().map(|p| &p.field), values, self.size)
    }

    /// The parameter values of a block, in order.
    pub fn decode(&self, blob: &[u8]) -> Result<Vec<BigUint>, EncodeError> {
        check_size(blob, self.size)?;
        check_trailing_zero(blob, self.data_size)?;
        self.params.iter().map(|p| p.field.read(blob)).collect()
    }
}
