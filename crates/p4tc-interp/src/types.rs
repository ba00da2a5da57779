//! How values of each IR type occupy slots of the state vector.
//!
//! A scalar of at most 128 bits takes one `u128` slot; a wider `bit<W>`/`int<W>` takes
//! `ceil(W / 128)` slots, least significant limb first; a `varbit<W>` takes a length slot
//! followed by its limbs. A header is its validity slot followed by its fields; a struct or
//! tuple is its fields back to back; a header union is its member headers back to back; a
//! stack is its next-index slot followed by its elements. Externs, strings and other
//! compile-time-only types take no slot.

use std::collections::HashMap;

use p4tc_ir::arena::Handle;
use p4tc_ir::ir::{CompositeKind, Module, Type};

/// What a type is, as far as slots go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// At most 128 bits in one slot (bool, bit/int, error, enum).
    Scalar { width: u32, signed: bool },
    /// More than 128 bits, in several slots.
    Wide { width: u32, signed: bool },
    /// A length slot, then limbs.
    Varbit { max: u32 },
    /// A header: validity slot, then fields.
    Header,
    /// A header union: member headers in order.
    Union,
    /// A struct or tuple: fields in order.
    Struct,
    /// A stack or array: next-index slot, then elements.
    Stack { element: Handle<Type>, size: u32 },
    /// No run-time value.
    Opaque,
}

/// Number of 128-bit limbs a `width`-bit value takes.
pub(crate) fn limbs(width: u32) -> usize {
    (width as usize).div_ceil(128).max(1)
}

/// Type queries with memoised slot counts.
pub(crate) struct Types<'m> {
    pub m: &'m Module,
    slots: HashMap<Handle<Type>, usize>,
}

impl<'m> Types<'m> {
    pub fn new(m: &'m Module) -> Self {
        Types {
            m,
            slots: HashMap::new(),
        }
    }

    /// The type behind newtypes (bounded, so a malformed cycle cannot hang).
    pub fn resolve(&self, mut ty: Handle<Type>) -> Handle<Type> {
        for _ in 0..64 {
            match self.m.types.get(ty) {
                Some(Type::NewType { underlying, .. }) => ty = *underlying,
                _ => break,
            }
        }
        ty
    }

    pub fn kind(&self, ty: Handle<Type>) -> Kind {
        let ty = self.resolve(ty);
        match self.m.types.get(ty) {
            Some(Type::Bool) => Kind::Scalar {
                width: 1,
                signed: false,
            },
            Some(Type::Bits { width, signed }) => {
                if *width <= 128 {
                    Kind::Scalar {
                        width: *width,
                        signed: *signed,
                    }
                } else {
                    Kind::Wide {
                        width: *width,
                        signed: *signed,
                    }
                }
            }
            Some(Type::Integer) => Kind::Scalar {
                width: 128,
                signed: true,
            },
            Some(Type::Error) | Some(Type::MatchKind) => Kind::Scalar {
                width: 32,
                signed: false,
            },
            Some(Type::Enum(e)) => match self.m.enums.get(*e).and_then(|d| d.underlying) {
                Some(u) => self.kind(u),
                None => Kind::Scalar {
                    width: 32,
                    signed: false,
                },
            },
            Some(Type::Varbit { max_width }) => Kind::Varbit { max: *max_width },
            Some(Type::Composite(c)) => match self.m.composites.get(*c).map(|c| c.kind) {
                Some(CompositeKind::Header) => Kind::Header,
                Some(CompositeKind::HeaderUnion) => Kind::Union,
                Some(CompositeKind::Struct) => Kind::Struct,
                None => Kind::Opaque,
            },
            Some(Type::Tuple(_)) => Kind::Struct,
            Some(Type::Stack { element, size }) => Kind::Stack {
                element: *element,
                size: *size,
            },
            _ => Kind::Opaque,
        }
    }

    /// Field types of a header, union, struct or tuple.
    pub fn fields(&self, ty: Handle<Type>) -> Vec<Handle<Type>> {
        let ty = self.resolve(ty);
        match self.m.types.get(ty) {
            Some(Type::Composite(c)) => self
                .m
                .composites
                .get(*c)
                .map(|c| c.fields.iter().map(|f| f.ty).collect())
                .unwrap_or_default(),
            Some(Type::Tuple(items)) => items.clone(),
            _ => Vec::new(),
        }
    }

    /// Field names of a composite (empty for tuples).
    pub fn field_names(&self, ty: Handle<Type>) -> Vec<String> {
        let ty = self.resolve(ty);
        match self.m.types.get(ty) {
            Some(Type::Composite(c)) => self
                .m
                .composites
                .get(*c)
                .map(|c| c.fields.iter().map(|f| f.name.clone()).collect())
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    /// Slots a value of `ty` takes.
    pub fn slots(&mut self, ty: Handle<Type>) -> usize {
        self.slots_depth(ty, 0)
    }

    fn slots_depth(&mut self, ty: Handle<Type>, depth: u32) -> usize {
        if let Some(&n) = self.slots.get(&ty) {
            return n;
        }
        if depth > 64 {
            return 0;
        }
        let n = match self.kind(ty) {
            Kind::Scalar { .. } => 1,
            Kind::Wide { width, .. } => limbs(width),
            Kind::Varbit { max } => 1 + limbs(max),
            Kind::Header => {
                1 + self
                    .fields(ty)
                    .into_iter()
                    .map(|f| self.slots_depth(f, depth + 1))
                    .sum::<usize>()
            }
            Kind::Union | Kind::Struct => self
                .fields(ty)
                .into_iter()
                .map(|f| self.slots_depth(f, depth + 1))
                .sum(),
            Kind::Stack { element, size } => {
                1 + size as usize * self.slots_depth(element, depth + 1)
            }
            Kind::Opaque => 0,
        };
        self.slots.insert(ty, n);
        n
    }

    /// Offset of field `index` within a composite value.
    pub fn field_offset(&mut self, ty: Handle<Type>, index: usize) -> usize {
        let start = usize::from(self.kind(ty) == Kind::Header);
        let fields = self.fields(ty);
        start
            + fields
                .into_iter()
                .take(index)
                .map(|f| self.slots(f))
                .sum::<usize>()
    }

    /// Scalar leaves (offset, width, type) of a value, in order, skipping validity and
    /// next-index slots: the bits hashes, checksums, digests and registers see.
    pub fn leaves(&mut self, ty: Handle<Type>, base: usize, out: &mut Vec<Leaf>) {
        match self.kind(ty) {
            Kind::Scalar { width, .. } | Kind::Wide { width, .. } => out.push(Leaf {
                offset: base,
                width,
                varbit: false,
            }),
            Kind::Varbit { max } => out.push(Leaf {
                offset: base,
                width: max,
                varbit: true,
            }),
            Kind::Header | Kind::Union | Kind::Struct => {
                let fields = self.fields(ty);
                for (i, f) in fields.into_iter().enumerate() {
                    let off = self.field_offset(ty, i);
                    self.leaves(f, base + off, out);
                }
            }
            Kind::Stack { element, size } => {
                let es = self.slots(element);
                for i in 0..size as usize {
                    self.leaves(element, base + 1 + i * es, out);
                }
            }
            Kind::Opaque => {}
        }
    }
}

/// A scalar (or wide, or varbit) piece of a value.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Leaf {
    /// Its first slot.
    pub offset: usize,
    /// Its width (maximum width for a varbit).
    pub width: u32,
    /// A varbit: length slot at `offset`, limbs after.
    pub varbit: bool,
}
