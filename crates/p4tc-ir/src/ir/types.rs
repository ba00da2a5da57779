//! Types of the IR. Every type is concrete: typedefs are resolved, generics specialised.

use crate::arena::Handle;

/// A type, interned in [`Module::types`](super::Module::types): equal types have equal handles.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    /// `bool`
    Bool,
    /// `bit<W>` (unsigned) or `int<W>` (signed, two's complement).
    Bits {
        /// Width in bits, at least 1 for `int<W>`; `bit<0>` is allowed by P4.
        width: u32,
        /// `int<W>` rather than `bit<W>`.
        signed: bool,
    },
    /// `varbit<W>`: up to `max_width` bits, length known at run time.
    Varbit {
        /// Maximum width in bits.
        max_width: u32,
    },
    /// `int`: arbitrary precision, compile time only.
    Integer,
    /// `string`: compile time only (annotations, extern arguments).
    String,
    /// `error`
    Error,
    /// `match_kind`
    MatchKind,
    /// `void`
    Void,
    /// A header, header union or struct.
    Composite(Handle<Composite>),
    /// An enum, serializable or not.
    Enum(Handle<EnumDef>),
    /// `type T Name`: a new type with `underlying`'s representation.
    NewType {
        /// The new type's name.
        name: String,
        /// What it is made of.
        underlying: Handle<Type>,
    },
    /// `T[N]`: a header stack or an array.
    Stack {
        /// Element type.
        element: Handle<Type>,
        /// Number of elements.
        size: u32,
    },
    /// `tuple<...>`, and the type of a list expression.
    Tuple(Vec<Handle<Type>>),
    /// `list<T>`: a compile-time list of any length (constructor arguments, `for` loops).
    List(Handle<Type>),
    /// An instance of an extern object type with its type arguments.
    Extern {
        /// The extern declaration.
        def: Handle<ExternDef>,
        /// Its type arguments, in order.
        args: Vec<Handle<Type>>,
    },
    /// A parser, control or package type (of instances and of constructor arguments).
    Block(Handle<super::BlockType>),
    /// The set of values a select case or entry matches, of the given element type.
    Set(Handle<Type>),
}

/// What kind of composite type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CompositeKind {
    /// `header`: has a validity bit, fields are bit strings, varbits or serializable enums.
    Header,
    /// `header_union`: at most one member header valid.
    HeaderUnion,
    /// `struct`
    Struct,
}

/// A header, header union or struct, with its fields in declaration order.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Composite {
    /// Which kind.
    pub kind: CompositeKind,
    /// The declared name (with type arguments for a specialised generic, e.g. `pair<bit<8>>`).
    pub name: String,
    /// Fields in order.
    pub fields: Vec<Field>,
}

/// One field of a composite type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Field {
    /// Name.
    pub name: String,
    /// Type.
    pub ty: Handle<Type>,
    /// `@tc_type(...)` and similar annotations that later stages read.
    pub annotations: Vec<super::Annotation>,
}

/// An enum declaration.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EnumDef {
    /// Name.
    pub name: String,
    /// For a serializable enum, its `bit<W>` or `int<W>` type.
    pub underlying: Option<Handle<Type>>,
    /// Members, with their values for a serializable enum.
    pub members: Vec<(String, Option<num_bigint::BigInt>)>,
}

/// An extern object type: its methods and constructors, as declared.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ExternDef {
    /// Name (`Counter`, `Register`, ...).
    pub name: String,
    /// Names of its type parameters.
    pub type_params: Vec<String>,
    /// Annotations on the declaration (P4TC's `@tc_acl` etc.).
    pub annotations: Vec<super::Annotation>,
}
