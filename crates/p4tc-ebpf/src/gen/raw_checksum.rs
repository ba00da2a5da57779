//! `InternetChecksum.add` over a header the parser has just extracted, summed from the
//! packet's own bytes.
//!
//! A parser that verifies a checksum adds the fields of the header it just read
//! (`csum.add({hdr.ipv4.version, ..., hdr.ipv4.dstAddr})`). Rebuilding 16-bit words from the
//! fields costs shifts and masks per field; the packet still holds the very same bytes. So
//! when the fields are consecutive, start and end on 16-bit boundaries, and the header is
//! fresh ([`Gen::fresh_headers`]: extracted at a constant offset in this parser state, nothing
//! written since), the words are loaded from the packet, 32 bits at a time where they can be.
//!
//! Why loading little-endian words is right: modulo 65535 (the one's complement sum), 2^16 is
//! 1, so a 32-bit word sums as its two 16-bit halves; and a byte-swapped word is 256 times
//! the word, so the folded sum of the words as loaded, byte-swapped once, is the folded sum of
//! the big-endian words. Both folds give 0 only when every word is 0.

use p4tc_ir::arena::Handle;
use p4tc_ir::ir::{Composite, Expr, ExprKind};

use super::packet::WireField;
use super::{Gen, Scope, R};

impl Gen<'_> {
    /// The C value to add to a checksum's state for `data`, summed from the packet, or `None`
    /// when `data` is not a fresh header's whole 16-bit words (see the module).
    pub(crate) fn raw_checksum_add(
        &mut self,
        s: &Scope<'_>,
        data: Handle<Expr>,
    ) -> R<Option<String>> {
        if self.fresh_headers.is_empty() {
            return Ok(None);
        }
        let items: Vec<Handle<Expr>> = match &s.body.exprs[data].kind {
            ExprKind::Compose(items) => items.clone(),
            ExprKind::Field { .. } => vec![data],
            _ => return Ok(None),
        };
        // Every item a field of one fresh header, in wire order without gaps. The header (its
        // C name, packet offset and wire layout) comes from the first item; each field names
        // it through its own expression, so the others compare C names.
        let mut header: Option<(String, u32, Handle<Composite>, Vec<WireField>)> = None;
        let mut bits: Option<(u32, u32)> = None;
        for item in items {
            let ExprKind::Field { base, index } = &s.body.exprs[item].kind else {
                return Ok(None);
            };
            let Some(lv) = self.named_header(s, *base)? else {
                return Ok(None);
            };
            let (hlv, _, comp, wire) = match &header {
                Some(h) => h,
                None => {
                    let Some(&at) = self.fresh_headers.get(&lv) else {
                        return Ok(None);
                    };
                    let Some(comp) = self.header_of(self.resolve(s.body.exprs[*base].ty)) else {
                        return Ok(None);
                    };
                    let (wire, _) = self.wire(comp, s.body.exprs.span(item))?;
                    header.insert((lv.clone(), at, comp, wire))
                }
            };
            if *hlv != lv {
                return Ok(None);
            }
            let Some(field) = self.m.composites[*comp].fields.get(*index as usize) else {
                return Ok(None);
            };
            let name = super::out::ident(&field.name);
            let Some(w) = wire.iter().find(|w| w.name == name) else {
                return Ok(None);
            };
            bits = match bits {
                None => Some((w.offset, w.offset + w.width)),
                Some((lo, hi)) if hi == w.offset => Some((lo, hi + w.width)),
                Some(_) => return Ok(None),
            };
        }
        let (Some((lv, at, _, _)), Some((lo, hi))) = (header, bits) else {
            return Ok(None);
        };
        if lo % 16 != 0 || hi % 16 != 0 {
            return Ok(None);
        }
        let (first, len) = (at + lo / 8, (hi - lo) / 8);
        let mut loads = Vec::new();
        let mut k = 0;
        while k + 4 <= len {
            loads.push(format!(
                "(u64)*(const u32 *)((const u8 *)data + {})",
                first + k
            ));
            k += 4;
        }
        if k < len {
            loads.push(format!(
                "(u64)*(const u16 *)((const u8 *)data + {})",
                first + k
            ));
        }
        Ok(Some(format!(
            "(u16)bpf_ntohs(p4tc_csum_fold64({})) /* {lv}'s words, from the packet */",
            loads.join(" + ")
        )))
    }
}
