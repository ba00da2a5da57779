//! The typed IR: one validated description of a P4 program that every back-end consumes.
//!
//! The front-end lowers a checked syntax tree into a [`Module`]. Invariants (the validator
//! checks them; back-ends and the interpreter trust them):
//! - every [`Handle`] names an item of the arena it is used with;
//! - every expression has a concrete type (no type variables, no typedef names); widths of
//!   `bit<W>`, `int<W>` and `varbit<W>` are known;
//! - every compile-time-known value is folded into [`ExprKind::Literal`];
//! - every call has one argument per parameter, in parameter order;
//! - the [`Pipeline`] names the parser, controls and deparser that the architecture's package
//!   binds, and what each may read and write.
//!
//! See `docs/ir.md` for the full description.

mod body;
mod types;
mod validate;

pub use body::{
    BinaryOp, Block, Body, Builtin, Callee, Expr, ExprKind, Local, LocalKind, StackMember, Stmt,
    UnaryOp, Value,
};
pub use types::{Composite, CompositeKind, EnumDef, ExternDef, Field, Type};
pub use validate::{validate, ValidationError, ValidationErrorKind, ValidationItem};

use num_bigint::BigInt;

use crate::arena::{Arena, Handle, UniqueArena};

/// A whole program.
#[derive(Clone, Debug, Default)]
pub struct Module {
    /// Every type, interned.
    pub types: UniqueArena<Type>,
    /// Header, header union and struct declarations (specialised generics included).
    pub composites: UniqueArena<Composite>,
    /// Enum declarations.
    pub enums: UniqueArena<EnumDef>,
    /// Extern object declarations.
    pub externs: UniqueArena<ExternDef>,
    /// `error` members, in declaration order (the built-in ones first).
    pub errors: Vec<String>,
    /// `match_kind` members, in declaration order.
    pub match_kinds: Vec<String>,
    /// Parser and control types and their instances' bodies.
    pub block_types: Arena<BlockType>,
    /// Every action, top-level or local to a control.
    pub actions: Arena<Action>,
    /// Every function.
    pub functions: Arena<Function>,
    /// Every table.
    pub tables: Arena<Table>,
    /// Every extern instance.
    pub instances: Arena<Instance>,
    /// The package the program instantiates as `main`.
    pub pipeline: Option<Pipeline>,
}

impl Module {
    /// How a type is written in P4 (`bit<8>`, `ipv4_t`, `Counter<bit<32>>`), for messages.
    /// Never panics, even on a module that has not been validated (a cyclic type is cut off).
    pub fn type_name(&self, ty: Handle<Type>) -> String {
        self.type_name_within(ty, 16)
    }

    fn type_name_within(&self, ty: Handle<Type>, depth: u32) -> String {
        let Some(t) = self.types.get(ty) else {
            return format!("{ty:?} (missing)");
        };
        if depth == 0 {
            return "...".into();
        }
        let inner = |t: Handle<Type>| self.type_name_within(t, depth - 1);
        let list = |items: &[Handle<Type>]| {
            items
                .iter()
                .map(|t| inner(*t))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match t {
            Type::Bool => "bool".into(),
            Type::Bits {
                width,
                signed: false,
            } => format!("bit<{width}>"),
            Type::Bits {
                width,
                signed: true,
            } => format!("int<{width}>"),
            Type::Varbit { max_width } => format!("varbit<{max_width}>"),
            Type::Integer => "int".into(),
            Type::String => "string".into(),
            Type::Error => "error".into(),
            Type::MatchKind => "match_kind".into(),
            Type::Void => "void".into(),
            Type::Composite(c) => self
                .composites
                .get(*c)
                .map_or_else(|| "a missing composite".into(), |c| c.name.clone()),
            Type::Enum(e) => self
                .enums
                .get(*e)
                .map_or_else(|| "a missing enum".into(), |e| e.name.clone()),
            Type::NewType { name, .. } => name.clone(),
            Type::Stack { element, size } => format!("{}[{size}]", inner(*element)),
            Type::Tuple(items) => format!("tuple<{}>", list(items)),
            Type::List(element) => format!("list<{}>", inner(*element)),
            Type::Extern { def, args } => {
                let name = self
                    .externs
                    .get(*def)
                    .map_or("a missing extern", |e| e.name.as_str());
                if args.is_empty() {
                    name.to_string()
                } else {
                    format!("{name}<{}>", list(args))
                }
            }
            Type::Block(b) => self
                .block_types
                .get(*b)
                .map_or_else(|| "a missing block".into(), |b| b.name.clone()),
            Type::Set(element) => format!("set<{}>", inner(*element)),
        }
    }
}

/// An annotation the back-ends read, with its arguments evaluated.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Annotation {
    /// Name without `@`.
    pub name: String,
    /// Arguments: the expressions of `@x(e1, e2)` or `@x[e1, e2]`, or the values of
    /// `@x[k = v]` as [`AnnotationArg::KeyValue`].
    pub args: Vec<AnnotationArg>,
}

/// One annotation argument.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AnnotationArg {
    /// A string literal.
    String(String),
    /// An integer literal.
    Int(BigInt),
    /// `true` / `false`
    Bool(bool),
    /// A bare name.
    Name(String),
    /// `key = value`
    KeyValue(String, Box<AnnotationArg>),
}

/// A parser or control type with, when declared with a body, its implementation.
#[derive(Clone, Debug)]
pub struct BlockType {
    /// Name.
    pub name: String,
    /// Parser or control.
    pub kind: BlockKind,
    /// The apply body's locals start with the apply parameters.
    pub apply_params: usize,
    /// Constructor parameters, bound at instantiation.
    pub ctor_params: usize,
    /// The implementation: locals, states or apply block.
    pub body: Body,
    /// Parser states (parsers only), the start state first.
    pub states: Vec<ParserState>,
    /// Annotations.
    pub annotations: Vec<Annotation>,
}

/// Parser or control.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BlockKind {
    /// A parser: states and transitions.
    Parser,
    /// A control: tables, actions and an apply block.
    Control,
}

/// One parser state.
#[derive(Clone, Debug)]
pub struct ParserState {
    /// Name.
    pub name: String,
    /// Statements before the transition.
    pub block: Block,
    /// Where to go next.
    pub transition: Transition,
}

/// A state's transition.
#[derive(Clone, Debug)]
pub enum Transition {
    /// To `accept`.
    Accept,
    /// To `reject`.
    Reject,
    /// To another state, by index into [`BlockType::states`].
    State(u32),
    /// A select: the first case whose keysets match every key wins.
    Select {
        /// Key expressions.
        keys: Vec<Handle<Expr>>,
        /// Cases in order.
        cases: Vec<SelectCase>,
    },
}

/// One case of a select.
#[derive(Clone, Debug)]
pub struct SelectCase {
    /// One keyset per key.
    pub keysets: Vec<KeysetValue>,
    /// Where it goes.
    pub target: Box<Transition>,
}

/// A compile-time set of values for one key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KeysetValue {
    /// Exactly this value.
    Exact(Value),
    /// `value &&& mask`
    Mask(Value, Value),
    /// `lo .. hi`, inclusive.
    Range(Value, Value),
    /// `_` or `default`.
    Any,
    /// Membership in a value set, by instance.
    ValueSet(Handle<Instance>),
}

/// An action.
///
/// An action declared inside a control sees the control's parameters and variables, so its
/// parameters, locals and expressions live in the control's [`Body`] and its `body` holds only
/// the statements; a top-level action has a body of its own. `params` and every handle in the
/// statements point into whichever body that is.
#[derive(Clone, Debug)]
pub struct Action {
    /// Name as written (for control-local actions, without the control's name).
    pub name: String,
    /// The control it is declared in, if local.
    pub control: Option<Handle<BlockType>>,
    /// Its own body (top-level actions), or only its statements (control-local actions).
    pub body: Body,
    /// The parameters, in order.
    pub params: Vec<Handle<Local>>,
    /// Annotations (`@tableonly`, `@defaultonly`, `@name`, ...).
    pub annotations: Vec<Annotation>,
}

/// A function.
#[derive(Clone, Debug)]
pub struct Function {
    /// Name.
    pub name: String,
    /// Return type.
    pub return_type: Handle<Type>,
    /// The body; its first `params` locals are the parameters.
    pub body: Body,
    /// Number of parameters.
    pub params: usize,
}

/// A table.
#[derive(Clone, Debug)]
pub struct Table {
    /// Name as written.
    pub name: String,
    /// The control it belongs to.
    pub control: Handle<BlockType>,
    /// Key fields, in order; their expressions live in the control's body.
    pub keys: Vec<TableKey>,
    /// Actions the table may run.
    pub actions: Vec<TableAction>,
    /// Action run on a miss, with its arguments (compile-time values).
    pub default_action: Option<ActionCall>,
    /// The default action cannot be changed at run time (`const default_action`).
    pub default_action_const: bool,
    /// `size`, if given.
    pub size: Option<u64>,
    /// Entries given in the program.
    pub entries: Vec<TableEntry>,
    /// The entries are `const` (the whole list is immutable).
    pub entries_const: bool,
    /// Other properties (`add_on_miss`, `idle_timeout_with_auto_delete`, `pna_direct_counter`,
    /// ...), by name, with their values.
    pub properties: Vec<(String, PropertyValue)>,
    /// Annotations (`@tc_acl`, `@nummask`, `@name`, ...).
    pub annotations: Vec<Annotation>,
}

/// A table property's value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PropertyValue {
    /// A compile-time value.
    Value(Value),
    /// An extern instance (direct counters and meters).
    Instance(Handle<Instance>),
    /// A list of instances.
    Instances(Vec<Handle<Instance>>),
}

/// A table key field.
#[derive(Clone, Debug)]
pub struct TableKey {
    /// The control-plane name (from `@name`, else the expression as written).
    pub name: String,
    /// The key expression, in the control's body.
    pub expr: Handle<Expr>,
    /// Match kind, by index into [`Module::match_kinds`].
    pub match_kind: u32,
    /// Annotations (`@tc_type`, `@name`).
    pub annotations: Vec<Annotation>,
}

/// An action a table may run.
#[derive(Clone, Debug)]
pub struct TableAction {
    /// The action.
    pub action: Handle<Action>,
    /// Where it may be used.
    pub scope: ActionScope,
    /// Arguments bound in the action list, for a prefix of the parameters.
    pub bound_args: Vec<Value>,
    /// Annotations on the action reference.
    pub annotations: Vec<Annotation>,
}

/// Where a table's action may be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ActionScope {
    /// In entries and as the default action.
    TableAndDefault,
    /// Only in entries (`@tableonly`).
    TableOnly,
    /// Only as the default action (`@defaultonly`).
    DefaultOnly,
}

/// An action with its arguments, as an entry or default action runs it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ActionCall {
    /// The action.
    pub action: Handle<Action>,
    /// One argument per parameter.
    pub args: Vec<ActionArg>,
}

/// An argument of an action run by a table.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ActionArg {
    /// For a directionless parameter (action data): a compile-time value.
    Value(Value),
    /// For a parameter with a direction: an expression in the control's body, evaluated when
    /// the action runs.
    Expr(Handle<Expr>),
}

/// An entry given in the program.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TableEntry {
    /// One keyset per key field.
    pub keys: Vec<KeysetValue>,
    /// What runs on a match.
    pub action: ActionCall,
    /// Priority, if given (larger wins, as in P4Runtime).
    pub priority: Option<u64>,
    /// This entry is `const`.
    pub is_const: bool,
}

/// An extern instance (counters, registers, ...), a value set, or a parser/control instance.
#[derive(Clone, Debug)]
pub struct Instance {
    /// Name as written.
    pub name: String,
    /// Its type (`Type::Extern` or `Type::Block`).
    pub ty: Handle<Type>,
    /// The block it is declared in, if any.
    pub owner: Option<Handle<BlockType>>,
    /// Constructor arguments.
    pub args: Vec<InstanceArg>,
    /// Annotations.
    pub annotations: Vec<Annotation>,
    /// The instance's own implementations of its extern's abstract methods (from an
    /// initializer block `T(args) name = { ... };`), by method name.
    pub methods: Vec<(String, Handle<Function>)>,
}

/// A constructor argument of an instance.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum InstanceArg {
    /// Known at compile time.
    Value(Value),
    /// Computed from the owner block's constructor parameters: an expression in the owner's
    /// body, evaluated for each instance of the owner.
    Expr(Handle<Expr>),
}

impl InstanceArg {
    /// The value, when it is known at compile time.
    pub fn value(&self) -> Option<&Value> {
        match self {
            InstanceArg::Value(v) => Some(v),
            InstanceArg::Expr(_) => None,
        }
    }
}

/// Which blocks the architecture's package binds, and in what roles.
#[derive(Clone, Debug)]
pub struct Pipeline {
    /// The architecture (`PNA_NIC` of `tc/pna.p4`, ...).
    pub package: String,
    /// The package instance's name (`main`).
    pub name: String,
    /// Each role with the block that plays it.
    pub blocks: Vec<(Role, Handle<BlockType>)>,
}

/// A role in an architecture's pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// The main parser.
    MainParser,
    /// PNA's pre-control (four-block PNA only).
    PreControl,
    /// The main control.
    MainControl,
    /// The deparser.
    MainDeparser,
}
