//! Executable code: expressions, statements and the bodies that own them.
//!
//! Each action, function, parser and control owns a [`Body`]: an arena of typed expressions and
//! the locals (parameters, variables, constants) they refer to. Expressions refer to their
//! operands by handle into the same body. Every expression's type is known and concrete, every
//! width is known, and every compile-time-known value has been folded into a literal.

use num_bigint::BigInt;

use super::{Action, BlockType, ExternDef, Function, Instance, Table, Type};
use crate::arena::{Arena, Handle};

/// Expressions and locals of one executable unit.
#[derive(Clone, Debug, Default)]
pub struct Body {
    /// Every expression, operands before the expressions that use them.
    pub exprs: Arena<Expr>,
    /// Parameters first (in order), then variables.
    pub locals: Arena<Local>,
    /// The statements, in order.
    pub block: Block,
}

/// A parameter or variable.
#[derive(Clone, Debug)]
pub struct Local {
    /// Name as written.
    pub name: String,
    /// Type.
    pub ty: Handle<Type>,
    /// How it was declared.
    pub kind: LocalKind,
    /// Annotations on the parameter or variable (`@tc_type("macaddr")` on action data).
    pub annotations: Vec<super::Annotation>,
}

/// Parameter directions and other kinds of local.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LocalKind {
    /// A parameter with direction `in`.
    In,
    /// A parameter with direction `out`.
    Out,
    /// A parameter with direction `inout`.
    InOut,
    /// A directionless parameter: compile-time known, or action data from the control plane.
    Directionless,
    /// A variable.
    Var,
}

/// A compile-time value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Value {
    /// An integer of the expression's type (`bit<W>`, `int<W>` or `int`), already reduced to
    /// the type's range.
    Int(BigInt),
    /// `true` / `false`
    Bool(bool),
    /// A string.
    String(String),
    /// An `error` member, by index into [`Module::errors`](super::Module::errors).
    Error(u32),
    /// A `match_kind` member, by index into [`Module::match_kinds`](super::Module::match_kinds).
    MatchKind(u32),
    /// An enum member, by index into its [`EnumDef`](super::EnumDef)'s members.
    Enum(u32),
    /// A struct, header or tuple value, fields in order.
    Tuple(Vec<Value>),
    /// An invalid header (`{#}`).
    InvalidHeader,
}

/// A typed expression.
#[derive(Clone, Debug)]
pub struct Expr {
    /// What it computes.
    pub kind: ExprKind,
    /// Its type.
    pub ty: Handle<Type>,
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// Logical not.
    Not,
    /// Bitwise complement.
    BitNot,
    /// Two's complement negation.
    Neg,
}

/// Binary operators on values of one type (shifts excepted: their amount is unsigned).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `*`, wrapping
    Mul,
    /// `/` (compile time only, or by a power of two)
    Div,
    /// `%` (compile time only, or by a power of two)
    Mod,
    /// `+`, wrapping
    Add,
    /// `-`, wrapping
    Sub,
    /// `|+|`
    SatAdd,
    /// `|-|`
    SatSub,
    /// `<<`
    Shl,
    /// `>>` (arithmetic for signed types)
    Shr,
    /// `&`
    BitAnd,
    /// `^`
    BitXor,
    /// `|`
    BitOr,
    /// `++`: the result is as wide as both operands together.
    Concat,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `>`
    Gt,
    /// `<=`
    Le,
    /// `>=`
    Ge,
    /// `&&`, short-circuit
    And,
    /// `||`, short-circuit
    Or,
}

/// The forms of IR expression.
#[derive(Clone, Debug)]
pub enum ExprKind {
    /// A compile-time value of the expression's type.
    Literal(Value),
    /// A parameter or variable of the body.
    Local(Handle<Local>),
    /// An extern, parser or control instance.
    Instance(Handle<Instance>),
    /// Field `index` of a composite value.
    Field {
        /// The composite value.
        base: Handle<Expr>,
        /// Field position.
        index: u32,
    },
    /// An element of a stack or array.
    Element {
        /// The stack.
        base: Handle<Expr>,
        /// Which element (checked at run time when not constant).
        index: Handle<Expr>,
    },
    /// `base[hi:lo]`, bounds known at compile time.
    Slice {
        /// The bit string.
        base: Handle<Expr>,
        /// Highest bit, inclusive.
        hi: u32,
        /// Lowest bit.
        lo: u32,
    },
    /// `base[lo +: width]` with `lo` computed at run time.
    DynamicSlice {
        /// The bit string.
        base: Handle<Expr>,
        /// Lowest bit (checked at run time: the slice must lie inside the value).
        lo: Handle<Expr>,
        /// Number of bits.
        width: u32,
    },
    /// `s.next`, `s.last` or `s.lastIndex` of a header stack (parsers track the next index).
    StackMember {
        /// The stack.
        base: Handle<Expr>,
        /// Which member.
        member: StackMember,
    },
    /// A unary operation.
    Unary {
        /// The operator.
        op: UnaryOp,
        /// Its operand.
        operand: Handle<Expr>,
    },
    /// A binary operation.
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Left operand.
        lhs: Handle<Expr>,
        /// Right operand.
        rhs: Handle<Expr>,
    },
    /// `cond ? then : otherwise`
    Select {
        /// Condition.
        cond: Handle<Expr>,
        /// Value when true.
        then: Handle<Expr>,
        /// Value when false.
        otherwise: Handle<Expr>,
    },
    /// Conversion to the expression's type.
    Cast(Handle<Expr>),
    /// A struct, header or tuple built from its fields in order.
    Compose(Vec<Handle<Expr>>),
    /// A call.
    Call {
        /// What is called.
        callee: Callee,
        /// Arguments, one per parameter, in parameter order (named arguments sorted, defaults
        /// filled in).
        args: Vec<Handle<Expr>>,
    },
    /// `t.apply().hit` / `.miss`: apply the table and report whether it hit.
    TableHit {
        /// The table.
        table: Handle<Table>,
        /// True for `.hit`, false for `.miss`.
        hit: bool,
    },
}

/// What a call calls.
#[derive(Clone, Debug)]
pub enum Callee {
    /// An action (directly, not through a table).
    Action(Handle<Action>),
    /// A function.
    Function(Handle<Function>),
    /// An extern function, by name, with its specialised type arguments.
    ExternFunction {
        /// Its name (`send_to_port`, `verify`, ...).
        name: String,
        /// Type arguments.
        type_args: Vec<Handle<Type>>,
    },
    /// A method of an extern instance; the instance is the first argument.
    ExternMethod {
        /// The extern type.
        def: Handle<ExternDef>,
        /// The method name (`count`, `read`, `extract`, ...).
        method: String,
        /// Type arguments of a generic method.
        type_args: Vec<Handle<Type>>,
    },
    /// A built-in method of a value; the receiver is the first argument.
    Builtin(Builtin),
    /// `apply` of a table; as a statement or in `switch (t.apply().action_run)`.
    TableApply(Handle<Table>),
    /// `apply` of a parser or control instance, or of a type applied directly.
    BlockApply(Handle<BlockType>),
}

/// Members of a header stack that depend on how far it has been filled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StackMember {
    /// The next element to extract into.
    Next,
    /// The last element extracted.
    Last,
    /// The index of the last element extracted.
    LastIndex,
}

/// Methods built into P4's types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Builtin {
    /// `h.isValid()`
    IsValid,
    /// `h.setValid()`
    SetValid,
    /// `h.setInvalid()`
    SetInvalid,
    /// `s.push_front(n)`
    PushFront,
    /// `s.pop_front(n)`
    PopFront,
}

/// A sequence of statements.
#[derive(Clone, Debug, Default)]
pub struct Block {
    /// The statements, in order.
    pub stmts: Vec<Stmt>,
}

/// A statement.
#[derive(Clone, Debug)]
pub enum Stmt {
    /// `lhs = rhs`
    Assign {
        /// The target (an l-value expression).
        lhs: Handle<Expr>,
        /// The value, of the target's type.
        rhs: Handle<Expr>,
    },
    /// A call for its effect.
    Call(Handle<Expr>),
    /// A variable comes into scope, optionally initialised.
    Declare {
        /// The variable.
        local: Handle<Local>,
        /// Its initial value.
        init: Option<Handle<Expr>>,
    },
    /// `if`
    If {
        /// Condition.
        cond: Handle<Expr>,
        /// Run when true.
        then: Block,
        /// Run when false (may be empty).
        otherwise: Block,
    },
    /// `switch` on a value.
    Switch {
        /// The value.
        selector: Handle<Expr>,
        /// Cases in order; labels that fell through share the next body.
        cases: Vec<(Vec<Value>, Block)>,
        /// The `default` case.
        default: Option<Block>,
    },
    /// `switch (t.apply().action_run)`
    SwitchAction {
        /// The table applied.
        table: Handle<Table>,
        /// Cases: the actions that run each body.
        cases: Vec<(Vec<Handle<Action>>, Block)>,
        /// The `default` case.
        default: Option<Block>,
    },
    /// A nested block.
    Block(Block),
    /// `return` with an optional value.
    Return(Option<Handle<Expr>>),
    /// `exit`
    Exit,
    /// `for` loop over bounded iterations (lowered to init; while cond { body; update }).
    Loop {
        /// Checked before each iteration.
        cond: Handle<Expr>,
        /// The body.
        body: Block,
        /// Run after each iteration (also after `continue`).
        update: Block,
    },
    /// `break`
    Break,
    /// `continue`
    Continue,
}

impl Stmt {
    /// The blocks nested directly in this statement (an `if`'s two arms, a switch's cases and
    /// default, a loop's body and update, a nested block), in source order: what a walk over
    /// every statement of a body descends into.
    pub fn blocks(&self) -> Vec<&Block> {
        match self {
            Stmt::If {
                then, otherwise, ..
            } => vec![then, otherwise],
            Stmt::Switch { cases, default, .. } => {
                cases.iter().map(|c| &c.1).chain(default.iter()).collect()
            }
            Stmt::SwitchAction { cases, default, .. } => {
                cases.iter().map(|c| &c.1).chain(default.iter()).collect()
            }
            Stmt::Block(b) => vec![b],
            Stmt::Loop { body, update, .. } => vec![body, update],
            Stmt::Assign { .. }
            | Stmt::Call(_)
            | Stmt::Declare { .. }
            | Stmt::Return(_)
            | Stmt::Exit
            | Stmt::Break
            | Stmt::Continue => Vec::new(),
        }
    }
}
