//! Value layouts of extern instances, for the externs whose value is simple: counters,
//! registers and digests (rule 8 of the module doc).
//!
//! Externs are recognised by the name of their declaration, as P4TC's PNA (`tc/pna.p4`)
//! declares them: `Counter<W, S>`, `DirectCounter<W>`, `Register<T, S>`, `Digest<T>`. Meters keep
//! token-bucket state the datapath owns, so they have no layout here; hashes, checksums and
//! random generators have no stored value at all.

use num_bigint::BigUint;

use super::encode::{EncodeError, FieldValue};
use super::MAX_DIGEST_BYTES;
use super::{align, dotted, type_width, FieldLayout, LayoutError, NoWidth, BLOB_ALIGN};
use crate::arena::Handle;
use crate::ir::{Composite, CompositeKind, Instance, Module, Type, Value};

/// What a counter counts (PNA's `PNA_CounterType_t`, in its declaration order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CounterKind {
    /// Packets only.
    Packets,
    /// Bytes only.
    Bytes,
    /// Both.
    PacketsAndBytes,
}

impl CounterKind {
    /// The member's name, as P4TC's introspection prints it (`inst_type`).
    pub fn name(self) -> &'static str {
        match self {
            CounterKind::Packets => "PACKETS",
            CounterKind::Bytes => "BYTES",
            CounterKind::PacketsAndBytes => "PACKETS_AND_BYTES",
        }
    }

    /// The kind of the `index`-th member of `PNA_CounterType_t`.
    pub fn from_index(index: u64) -> Option<CounterKind> {
        match index {
            0 => Some(CounterKind::Packets),
            1 => Some(CounterKind::Bytes),
            2 => Some(CounterKind::PacketsAndBytes),
            _ => None,
        }
    }

    /// It keeps a packet count.
    pub fn counts_packets(self) -> bool {
        matches!(self, CounterKind::Packets | CounterKind::PacketsAndBytes)
    }

    /// It keeps a byte count.
    pub fn counts_bytes(self) -> bool {
        matches!(self, CounterKind::Bytes | CounterKind::PacketsAndBytes)
    }
}

/// One counter's value: native-endian `u64`s, packets first, only those its kind keeps.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CounterLayout {
    /// A `DirectCounter` (one per table entry) rather than an indexed `Counter`.
    pub direct: bool,
    /// What it counts.
    pub kind: CounterKind,
    /// The declared width W of a count; stored counts are always 64 bits, and a W-bit count is
    /// the stored one modulo 2^W.
    pub width: u32,
    /// Width of the index the control plane names a counter by: S for a `Counter`, 32 for a
    /// `DirectCounter` (whose index is its entry's).
    pub index_width: u32,
    /// Number of counters of an indexed `Counter`.
    pub count: Option<u64>,
    /// Offset of the packet count.
    pub packets_offset: Option<u32>,
    /// Offset of the byte count.
    pub bytes_offset: Option<u32>,
    /// Size of one counter's value.
    pub size: u32,
}

/// A counter's value; a count its kind does not keep is `None`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct CounterValue {
    /// Packets counted.
    pub packets: Option<u64>,
    /// Bytes counted.
    pub bytes: Option<u64>,
}

impl CounterLayout {
    fn new(direct: bool, kind: CounterKind, width: u32, index_width: u32) -> CounterLayout {
        let packets_offset = kind.counts_packets().then_some(0);
        let bytes_offset = kind
            .counts_bytes()
            .then_some(if kind.counts_packets() { 8 } else { 0 });
        let size = if kind == CounterKind::PacketsAndBytes {
            16
        } else {
            8
        };
        CounterLayout {
            direct,
            kind,
            width,
            index_width,
            count: None,
            packets_offset,
            bytes_offset,
            size,
        }
    }

    /// The value blob of `value`; counts the kind does not keep are left out, missing ones are 0.
    pub fn encode(&self, value: CounterValue) -> Vec<u8> {
        let mut blob = vec![0u8; self.size as usize];
        let mut put = |offset: Option<u32>, count: Option<u64>| {
            if let Some(offset) = offset {
                let at = offset as usize;
                // Offsets come from `new`; a hand-made layout that overruns just loses the count.
                if let Some(word) = blob.get_mut(at..at + 8) {
                    word.copy_from_slice(&count.unwrap_or(0).to_ne_bytes());
                }
            }
        };
        put(self.packets_offset, value.packets);
        put(self.bytes_offset, value.bytes);
        blob
    }

    /// The counts in a value blob.
    pub fn decode(&self, blob: &[u8]) -> Result<CounterValue, EncodeError> {
        if blob.len() != self.size as usize {
            return Err(EncodeError::Size {
                expected: self.size as usize,
                got: blob.len(),
            });
        }
        let get = |offset: Option<u32>| -> Result<Option<u64>, EncodeError> {
            let Some(o) = offset else {
                return Ok(None);
            };
            let at = o as usize;
            let bytes = blob.get(at..at + 8).ok_or(EncodeError::Size {
                expected: at + 8,
                got: blob.len(),
            })?;
            let mut word = [0u8; 8];
            word.copy_from_slice(bytes);
            Ok(Some(u64::from_ne_bytes(word)))
        };
        Ok(CounterValue {
            packets: get(self.packets_offset)?,
            bytes: get(self.bytes_offset)?,
        })
    }
}

/// What a P4 value laid out by [`ValueLayout`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueShape {
    /// One scalar of this type; its one field is named `value`.
    Scalar(Handle<Type>),
    /// A struct of scalars; one field per struct field.
    Struct(Handle<Composite>),
}

/// A P4 value (scalar, or struct of scalars) packed by rules 1 to 4.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ValueLayout {
    /// What it is.
    pub shape: ValueShape,
    /// Its fields in order.
    pub fields: Vec<FieldLayout>,
    /// Bytes the fields take together.
    pub data_size: u32,
    /// The blob's size, padded to [`BLOB_ALIGN`], at least 4.
    pub size: u32,
}

impl ValueLayout {
    /// The blob of `values`, one per field.
    pub fn encode<V: FieldValue>(&self, values: &[V]) -> Result<Vec<u8>, EncodeError> {
        if values.len() != self.fields.len() {
            return Err(EncodeError::Count {
                expected: self.fields.len(),
                got: values.len(),
            });
        }
        let mut blob = vec![0u8; self.size as usize];
        for (field, value) in self.fields.iter().zip(values) {
            field.write(&mut blob, value)?;
        }
        Ok(blob)
    }

    /// The field values of a blob.
    pub fn decode(&self, blob: &[u8]) -> Result<Vec<BigUint>, EncodeError> {
        if blob.len() != self.size as usize {
            return Err(EncodeError::Size {
                expected: self.size as usize,
                got: blob.len(),
            });
        }
        let padding = blob.get(self.data_size as usize..).unwrap_or_default();
        if padding.iter().any(|&b| b != 0) {
            return Err(EncodeError::Padding {
                field: "<padding>".into(),
            });
        }
        self.fields.iter().map(|f| f.read(blob)).collect()
    }
}

/// A register array's element.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RegisterLayout {
    /// One element's value.
    pub element: ValueLayout,
    /// Width of the index the control plane names an element by (P4TC keys registers by a
    /// 32-bit index, whatever S is).
    pub index_width: u32,
    /// Number of elements.
    pub count: Option<u64>,
}

/// The value layout of an extern instance.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ExternLayout {
    /// `Counter` or `DirectCounter`.
    Counter(CounterLayout),
    /// `Register`.
    Register(RegisterLayout),
    /// `Digest`: the payload's layout.
    Digest(ValueLayout),
}

/// The layout of a P4 value of type `ty`: a scalar or a struct of scalars.
fn value_layout(module: &Module, ty: Handle<Type>) -> Result<ValueLayout, String> {
    let (shape, fields) = match type_width(module, ty) {
        Ok(width) => (
            ValueShape::Scalar(ty),
            vec![FieldLayout {
                name: "value".into(),
                width,
                offset: 0,
                size: FieldLayout::bytes_for(width),
            }],
        ),
        Err(NoWidth(described)) => {
            let composite = match module.types.get(ty) {
                Some(Type::Composite(c)) => *c,
                _ => return Err(format!("its value type {described} has no layout")),
            };
            let Some(def) = module.composites.get(composite) else {
                return Err(format!("its value type {described} is missing"));
            };
            if def.kind != CompositeKind::Struct {
                return Err(format!(
                    "its value type {described} is not a struct of bit fields"
                ));
            }
            let mut fields = Vec::with_capacity(def.fields.len());
            let mut offset: u64 = 0;
            for f in &def.fields {
                let width = type_width(module, f.ty).map_err(|NoWidth(t)| {
                    format!(
                        "field `{}` of its value type {described} has type {t}",
                        f.name
                    )
                })?;
                let size = FieldLayout::bytes_for(width);
                let at = u32::try_from(offset)
                    .map_err(|_| format!("its value type {described} is too large"))?;
                fields.push(FieldLayout {
                    name: f.name.clone(),
                    width,
                    offset: at,
                    size,
                });
                offset += u64::from(size);
            }
            (ValueShape::Struct(composite), fields)
        }
    };
    let data: u64 = fields.iter().map(|f| u64::from(f.size)).sum();
    let data_size = u32::try_from(data).map_err(|_| "its value is too large".to_string())?;
    if data_size > u32::MAX - BLOB_ALIGN {
        return Err("its value is too large".into());
    }
    Ok(ValueLayout {
        shape,
        fields,
        data_size,
        size: align(data_size).max(BLOB_ALIGN),
    })
}

/// The integer in a constructor argument (an `int`, or an enum member's index).
fn arg_index(value: &Value) -> Option<u64> {
    match value {
        Value::Int(i) => u64::try_from(i).ok(),
        Value::Enum(i) => Some(u64::from(*i)),
        _ => None,
    }
}

/// The value layout of an extern instance, or `None` when its extern has no simple value
/// (meters, hashes, checksums, ... and parser or control instances).
pub fn extern_layout(
    module: &Module,
    instance: Handle<Instance>,
) -> Result<Option<ExternLayout>, LayoutError> {
    let inst = module
        .instances
        .get(instance)
        .ok_or_else(|| LayoutError::Dangling {
            what: format!("instance {instance:?}"),
        })?;
    let name = dotted(module, inst.owner, &inst.name);
    let span = module.instances.span(instance);
    let fail = |reason: String| LayoutError::Extern {
        instance: name.clone(),
        reason,
        span,
    };
    let Some(Type::Extern { def, args }) = module.types.get(inst.ty) else {
        return Ok(None);
    };
    let def = module
        .externs
        .get(*def)
        .ok_or_else(|| LayoutError::Dangling {
            what: format!("extern type of `{name}`"),
        })?;
    let type_arg = |i: usize| {
        args.get(i).copied().ok_or_else(|| {
            fail(format!(
                "its type {} lacks type argument {}",
                def.name,
                i + 1
            ))
        })
    };
    let width_of = |i: usize, what: &str| {
        let ty = type_arg(i)?;
        type_width(module, ty)
            .map_err(|NoWidth(t)| fail(format!("its {what} type {t} has no width")))
    };
    let counter_kind = || {
        inst.args
            .last()
            .and_then(crate::ir::InstanceArg::value)
            .and_then(arg_index)
            .and_then(CounterKind::from_index)
            .ok_or_else(|| {
                fail("its last constructor argument is not a PNA_CounterType_t member".into())
            })
    };
    let count = inst
        .args
        .first()
        .and_then(crate::ir::InstanceArg::value)
        .and_then(arg_index);
    let check_index = |width: u32| {
        // Indices are 32-bit array-map keys.
        if width > 32 {
            Err(fail(format!(
                "its index is {width} bits wide; indices are at most 32 bits"
            )))
        } else {
            Ok(width)
        }
    };
    let layout = match def.name.as_str() {
        "Counter" => {
            let width = width_of(0, "count")?;
            let index_width = check_index(width_of(1, "index")?)?;
            let mut layout = CounterLayout::new(false, counter_kind()?, width, index_width);
            layout.count = count;
            ExternLayout::Counter(layout)
        }
        "DirectCounter" => {
            let width = width_of(0, "count")?;
            ExternLayout::Counter(CounterLayout::new(true, counter_kind()?, width, 32))
        }
        "Register" => {
            check_index(width_of(1, "index")?)?;
            let element = value_layout(module, type_arg(0)?).map_err(&fail)?;
            ExternLayout::Register(RegisterLayout {
                element,
                index_width: 32,
                count,
            })
        }
        "Digest" => {
            let payload = value_layout(module, type_arg(0)?).map_err(&fail)?;
            if payload.data_size > MAX_DIGEST_BYTES {
                return Err(LayoutError::DigestTooLarge {
                    instance: name,
                    bytes: u64::from(payload.data_size),
                    max: MAX_DIGEST_BYTES,
                    span,
                });
            }
            ExternLayout::Digest(payload)
        }
        _ => return Ok(None),
    };
    Ok(Some(layout))
}
