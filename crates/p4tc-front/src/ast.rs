//! The syntax tree of a P4-16 program, as written.
//!
//! This is the parser's output and the pretty-printer's input: it keeps what the author wrote
//! (annotations, literal bases, `const` markers, the order of things) and nothing the later
//! passes derive. Names are not resolved and types are not checked here; that is the job of
//! the lowering into the IR.
//!
//! Every node carries a [`Span`]. Spans are ignored by `==` (see [`Span`]), so trees compare
//! by meaning: the printer's output parses back to an equal tree. Parentheses are not kept: the
//! printer puts them back where precedence needs them.

use p4tc_ir::Span;

pub use crate::token::{Base, IntLit, TokenKind};

/// A whole program: the declarations of the root file and everything it includes, in order.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Program {
    /// Top-level declarations.
    pub declarations: Vec<Declaration>,
}

/// A name as written, with where.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ident {
    /// The name. Contextual keywords used as names (`key`, `apply`, ...) appear spelled out.
    pub name: String,
    /// Where it was written.
    pub span: Span,
}

/// A possibly top-level-qualified name: `x` or `.x` (the `.` looks the name up at top level).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Path {
    /// Written with a leading `.`.
    pub top_level: bool,
    /// The name.
    pub name: Ident,
}

/// `@name`, `@name(tokens...)` or `@name[structured]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Annotation {
    /// The annotation's name, without `@`.
    pub name: Ident,
    /// What follows the name.
    pub body: AnnotationBody,
    /// From `@` to the end of the body.
    pub span: Span,
}

/// The body of an annotation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AnnotationBody {
    /// `@name` alone.
    None,
    /// `@name(...)`: the tokens between the parentheses, unparsed (nested parentheses
    /// balanced). Later passes parse the ones whose meaning they know (`@name("x")`).
    Unstructured(Vec<AnnotationToken>),
    /// `@name[e1, e2]`.
    Expressions(Vec<Expr>),
    /// `@name[k1 = e1, k2 = e2]`.
    KeyValues(Vec<KeyValue>),
}

/// One token of an unstructured annotation body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnnotationToken {
    /// What it is.
    pub kind: TokenKind,
    /// Where it was written.
    pub span: Span,
}

/// `name = expr`, in structured annotations and struct-valued expressions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyValue {
    /// The field or key.
    pub key: Ident,
    /// Its value.
    pub value: Expr,
}

// ---------------------------------------------------------------------------------------------
// Types

/// A type as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Type {
    /// Which type.
    pub kind: TypeKind,
    /// Where it was written.
    pub span: Span,
}

/// The forms a type can be written in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TypeKind {
    /// `bool`
    Bool,
    /// `error`
    Error,
    /// `match_kind`
    MatchKind,
    /// `string`
    String,
    /// `int`, the arbitrary-precision integer type.
    Integer,
    /// `bit` with no width, which means `bit<1>`.
    Bit,
    /// `bit<W>`; the width is a literal or a parenthesised expression.
    Bits(Box<Expr>),
    /// `int<W>`
    SignedBits(Box<Expr>),
    /// `varbit<W>`
    Varbit(Box<Expr>),
    /// `void` (return types and type arguments only).
    Void,
    /// `_` as a type argument: let the compiler infer it.
    DontCare,
    /// A named type (or a type variable).
    Named(Path),
    /// `Name<T1, T2>`
    Specialized {
        /// The generic type.
        base: Path,
        /// Its type arguments.
        args: Vec<Type>,
    },
    /// `T[N]`: a header stack or an array.
    Array {
        /// Element type.
        element: Box<Type>,
        /// Number of elements.
        size: Box<Expr>,
    },
    /// `list<T>`
    List(Box<Type>),
    /// `tuple<T1, T2>`
    Tuple(Vec<Type>),
}

// ---------------------------------------------------------------------------------------------
// Expressions

/// An expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expr {
    /// What it computes.
    pub kind: ExprKind,
    /// Where it was written.
    pub span: Span,
}

/// Prefix operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// `!`
    Not,
    /// `~`
    BitNot,
    /// `-`
    Neg,
    /// `+`
    Plus,
}

impl UnaryOp {
    /// How it is written.
    pub fn as_str(self) -> &'static str {
        match self {
            UnaryOp::Not => "!",
            UnaryOp::BitNot => "~",
            UnaryOp::Neg => "-",
            UnaryOp::Plus => "+",
        }
    }
}

/// Infix operators, with P4-16's precedence (see [`BinaryOp::precedence`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `|+|`, saturating add
    SatAdd,
    /// `|-|`, saturating subtract
    SatSub,
    /// `++`, bit-string concatenation
    Concat,
    /// `<<`
    Shl,
    /// `>>`
    Shr,
    /// `&`
    BitAnd,
    /// `^`
    BitXor,
    /// `|`
    BitOr,
    /// `<`
    Lt,
    /// `>`
    Gt,
    /// `<=`
    Le,
    /// `>=`
    Ge,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `&&`
    And,
    /// `||`
    Or,
}

impl BinaryOp {
    /// Every binary operator.
    pub const ALL: &'static [BinaryOp] = &[
        BinaryOp::Mul,
        BinaryOp::Div,
        BinaryOp::Mod,
        BinaryOp::Add,
        BinaryOp::Sub,
        BinaryOp::SatAdd,
        BinaryOp::SatSub,
        BinaryOp::Concat,
        BinaryOp::Shl,
        BinaryOp::Shr,
        BinaryOp::BitAnd,
        BinaryOp::BitXor,
        BinaryOp::BitOr,
        BinaryOp::Lt,
        BinaryOp::Gt,
        BinaryOp::Le,
        BinaryOp::Ge,
        BinaryOp::Eq,
        BinaryOp::Ne,
        BinaryOp::And,
        BinaryOp::Or,
    ];

    /// How it is written.
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::SatAdd => "|+|",
            BinaryOp::SatSub => "|-|",
            BinaryOp::Concat => "++",
            BinaryOp::Shl => "<<",
            BinaryOp::Shr => ">>",
            BinaryOp::BitAnd => "&",
            BinaryOp::BitXor => "^",
            BinaryOp::BitOr => "|",
            BinaryOp::Lt => "<",
            BinaryOp::Gt => ">",
            BinaryOp::Le => "<=",
            BinaryOp::Ge => ">=",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::And => "&&",
            BinaryOp::Or => "||",
        }
    }

    /// Binding strength; higher binds tighter. All binary operators are left-associative. The
    /// order is the P4-16 grammar's: `||` < `&&` < `== !=` < `< > <= >=` < `|` < `^` < `&` <
    /// `<< >>` < `++ + - |+| |-|` < `* / %`.
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And => 2,
            BinaryOp::Eq | BinaryOp::Ne => 3,
            BinaryOp::Lt | BinaryOp::Gt | BinaryOp::Le | BinaryOp::Ge => 4,
            BinaryOp::BitOr => 5,
            BinaryOp::BitXor => 6,
            BinaryOp::BitAnd => 7,
            BinaryOp::Shl | BinaryOp::Shr => 8,
            BinaryOp::Concat
            | BinaryOp::Add
            | BinaryOp::Sub
            | BinaryOp::SatAdd
            | BinaryOp::SatSub => 9,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => 10,
        }
    }
}

/// The forms of expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExprKind {
    /// An integer literal.
    Int(IntLit),
    /// `true` or `false`.
    Bool(bool),
    /// A string literal (contents, escapes as written).
    String(String),
    /// A name: a variable, constant, action, instance, type, ...
    Name(Path),
    /// `this`, inside an initializer block.
    This,
    /// `_`: a don't-care argument.
    DontCare,
    /// `...`: "and the rest", in list and struct expressions.
    Dots,
    /// `error.Name`
    ErrorMember(Ident),
    /// `base.member` (fields, methods, enum members, `minSizeInBits`, ...).
    Member {
        /// What has the member.
        base: Box<Expr>,
        /// Which member.
        member: Ident,
    },
    /// `base[index]`
    Index {
        /// The stack or array.
        base: Box<Expr>,
        /// Which element.
        index: Box<Expr>,
    },
    /// `base[hi:lo]`
    Slice {
        /// The bit string.
        base: Box<Expr>,
        /// Highest bit, inclusive.
        hi: Box<Expr>,
        /// Lowest bit.
        lo: Box<Expr>,
    },
    /// `base[lo +: width]`
    IndexedSlice {
        /// The bit string.
        base: Box<Expr>,
        /// Lowest bit.
        lo: Box<Expr>,
        /// Number of bits.
        width: Box<Expr>,
    },
    /// `{e1, e2}`: a list or tuple (or struct, by position).
    List(Vec<Expr>),
    /// `{f1 = e1, f2 = e2}`, optionally ending with `...` for "the other fields are don't-care".
    StructInit {
        /// The named fields.
        fields: Vec<KeyValue>,
        /// Ends with `, ...`.
        dots: bool,
    },
    /// `{#}`: an invalid header or header union.
    InvalidHeader,
    /// `op operand`
    Unary {
        /// The operator.
        op: UnaryOp,
        /// Its operand.
        operand: Box<Expr>,
    },
    /// `lhs op rhs`
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// `cond ? then : otherwise`
    Conditional {
        /// The condition.
        cond: Box<Expr>,
        /// Value when true.
        then: Box<Expr>,
        /// Value when false.
        otherwise: Box<Expr>,
    },
    /// `(T) e`
    Cast {
        /// Target type.
        ty: Box<Type>,
        /// The value.
        expr: Box<Expr>,
    },
    /// `callee<T...>(args)`: a function, method or action call.
    Call {
        /// What is called.
        callee: Box<Expr>,
        /// Explicit type arguments.
        type_args: Vec<Type>,
        /// The arguments.
        args: Vec<Argument>,
    },
    /// `Type(args)`: a constructor call, naming a type (possibly specialized).
    Construct {
        /// The type being constructed.
        ty: Box<Type>,
        /// Constructor arguments.
        args: Vec<Argument>,
    },
}

/// A call argument, positional or named (`name = value`). The value may be `_`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Argument {
    /// The parameter name, for named arguments.
    pub name: Option<Ident>,
    /// The value.
    pub value: Expr,
}

/// A set of values to match: select cases and table entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Keyset {
    /// One value.
    Expr(Expr),
    /// `value &&& mask`
    Mask(Expr, Expr),
    /// `lo .. hi`
    Range(Expr, Expr),
    /// `default`
    Default(Span),
    /// `_`
    DontCare(Span),
    /// `(k1, k2)`: one keyset per select expression or table key.
    Tuple(Vec<Keyset>, Span),
}

// ---------------------------------------------------------------------------------------------
// Statements

/// A statement (or a local declaration inside a block).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stmt {
    /// What it does.
    pub kind: StmtKind,
    /// Where it was written.
    pub span: Span,
}

/// The forms of statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StmtKind {
    /// `lhs = rhs;` or, with an operator, a compound assignment `lhs op= rhs;`.
    Assign {
        /// The target.
        lhs: Expr,
        /// `Some(op)` for `op=`.
        op: Option<BinaryOp>,
        /// The value.
        rhs: Expr,
    },
    /// A call used as a statement: `f(x);`, `t.apply();`, `pkt.extract(h);`.
    Call(Expr),
    /// `Type.apply(args);`: apply a parser or control type without instantiating it.
    DirectApply {
        /// The parser or control type.
        ty: Type,
        /// Apply arguments.
        args: Vec<Argument>,
    },
    /// `if (cond) then else otherwise`
    If {
        /// The condition.
        cond: Expr,
        /// Run when true.
        then: Box<Stmt>,
        /// Run when false.
        otherwise: Option<Box<Stmt>>,
    },
    /// `{ ... }`
    Block(Block),
    /// `;`
    Empty,
    /// `return;` or `return e;`
    Return(Option<Expr>),
    /// `exit;`
    Exit,
    /// `break;`
    Break,
    /// `continue;`
    Continue,
    /// `switch (e) { ... }`
    Switch {
        /// The value switched on (often `t.apply().action_run`).
        expr: Expr,
        /// The cases, in order.
        cases: Vec<SwitchCase>,
    },
    /// A `for` loop.
    For(Box<ForLoop>),
    /// A local variable.
    Var(Box<VarDecl>),
    /// A local constant.
    Const(Box<ConstDecl>),
}

/// `@annotations { statements }`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// Annotations before the brace.
    pub annotations: Vec<Annotation>,
    /// The statements and declarations, in order.
    pub stmts: Vec<Stmt>,
    /// From the brace to the closing brace.
    pub span: Span,
}

/// One case of a switch: `label: { ... }` or `label:` falling through to the next case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SwitchCase {
    /// `default` or a value (an action name when switching on `action_run`).
    pub label: SwitchLabel,
    /// `None` for a fall-through label.
    pub body: Option<Block>,
    /// Where the case was written.
    pub span: Span,
}

/// A switch label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SwitchLabel {
    /// `default`
    Default(Span),
    /// Any other label.
    Expr(Expr),
}

/// The two forms of `for`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ForLoop {
    /// `for (init; cond; update) body`
    Classic {
        /// Annotations before `for`.
        annotations: Vec<Annotation>,
        /// Declarations, assignments and calls run once (`Var`, `Assign` or `Call` statements).
        init: Vec<Stmt>,
        /// Loop while true.
        cond: Expr,
        /// Assignments and calls run after each iteration.
        update: Vec<Stmt>,
        /// The body.
        body: Stmt,
    },
    /// `for (T x in collection) body`
    In {
        /// Annotations before `for`.
        annotations: Vec<Annotation>,
        /// Annotations on the loop variable.
        var_annotations: Vec<Annotation>,
        /// Type of the loop variable.
        ty: Type,
        /// The loop variable.
        name: Ident,
        /// What is iterated: an expression, or a range `lo .. hi` (both `Some`).
        collection: Expr,
        /// Upper bound, for `lo .. hi`.
        range_end: Option<Expr>,
        /// The body.
        body: Stmt,
    },
}

/// `@annotations T name = init;`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VarDecl {
    /// Annotations.
    pub annotations: Vec<Annotation>,
    /// The type.
    pub ty: Type,
    /// The variable.
    pub name: Ident,
    /// Initial value, if any.
    pub init: Option<Expr>,
}

/// `@annotations const T name = value;`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConstDecl {
    /// Annotations.
    pub annotations: Vec<Annotation>,
    /// The type.
    pub ty: Type,
    /// The constant.
    pub name: Ident,
    /// Its value.
    pub value: Expr,
}

// ---------------------------------------------------------------------------------------------
// Declarations

/// A top-level declaration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Declaration {
    /// Which declaration.
    pub kind: DeclKind,
    /// Where it was written.
    pub span: Span,
}

/// The forms of top-level declaration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeclKind {
    /// `const T x = v;`
    Const(ConstDecl),
    /// `extern Name<T> { ... }`
    ExternObject(ExternObject),
    /// `extern R f<T>(params);`
    ExternFunction {
        /// Annotations.
        annotations: Vec<Annotation>,
        /// The signature.
        prototype: FunctionPrototype,
    },
    /// `action a(params) { ... }`
    Action(ActionDecl),
    /// `parser P(params)(ctor params) { locals states }`
    Parser(ParserDecl),
    /// `control C(params)(ctor params) { locals apply { ... } }`
    Control(ControlDecl),
    /// `T(args) name;` or `T(args) name = { ... };`
    Instantiation(Instantiation),
    /// `error { A, B }`
    Error(Vec<Ident>),
    /// `match_kind { a, b }`
    MatchKind(Vec<Ident>),
    /// `R f<T>(params) { ... }`
    Function(FunctionDecl),
    /// `header H { ... }`
    Header(StructDecl),
    /// `header_union U { ... }`
    HeaderUnion(StructDecl),
    /// `struct S { ... }`
    Struct(StructDecl),
    /// `enum E { ... }` or `enum bit<8> E { A = 1 }`
    Enum(EnumDecl),
    /// `typedef T Name;` or `type T Name;`
    Typedef(TypedefDecl),
    /// `parser P(params);`
    ParserType(TypeSignature),
    /// `control C(params);`
    ControlType(TypeSignature),
    /// `package P(params);`
    Package(TypeSignature),
    /// A stray `;` at top level.
    Empty,
}

/// `@annotations name<T...>(params)`: the signature shared by parser, control and package
/// types and declarations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeSignature {
    /// Annotations.
    pub annotations: Vec<Annotation>,
    /// The type's name.
    pub name: Ident,
    /// Type parameters.
    pub type_params: Vec<Ident>,
    /// Parameters.
    pub params: Vec<Param>,
}

/// Parameter directions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// None written.
    None,
    /// `in`
    In,
    /// `out`
    Out,
    /// `inout`
    InOut,
}

/// `@annotations direction T name = default`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param {
    /// Annotations.
    pub annotations: Vec<Annotation>,
    /// Direction.
    pub direction: Direction,
    /// Type.
    pub ty: Type,
    /// Name.
    pub name: Ident,
    /// Default value, if any.
    pub default: Option<Expr>,
    /// Where it was written.
    pub span: Span,
}

/// `R name<T...>(params)`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionPrototype {
    /// Return type (`void` included).
    pub return_type: Type,
    /// Name.
    pub name: Ident,
    /// Type parameters.
    pub type_params: Vec<Ident>,
    /// Parameters.
    pub params: Vec<Param>,
}

/// `extern Name<T> { methods }`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternObject {
    /// Annotations.
    pub annotations: Vec<Annotation>,
    /// The extern type's name.
    pub name: Ident,
    /// Type parameters.
    pub type_params: Vec<Ident>,
    /// Constructors and methods.
    pub methods: Vec<Method>,
}

/// A constructor or method of an extern object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Method {
    /// Annotations.
    pub annotations: Vec<Annotation>,
    /// What it is.
    pub kind: MethodKind,
    /// Where it was written.
    pub span: Span,
}

/// Constructor or method.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MethodKind {
    /// `Name(params);`
    Constructor {
        /// Same as the extern's name.
        name: Ident,
        /// Constructor parameters.
        params: Vec<Param>,
    },
    /// `R m<T>(params);`, or `abstract R m(params);` for one the instance's initializer defines.
    Method {
        /// Declared `abstract`.
        is_abstract: bool,
        /// Signature.
        prototype: FunctionPrototype,
    },
}

/// `@annotations action name(params) { body }`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionDecl {
    /// Annotations.
    pub annotations: Vec<Annotation>,
    /// Name.
    pub name: Ident,
    /// Parameters (directionless ones come from the control plane).
    pub params: Vec<Param>,
    /// Body.
    pub body: Block,
}

/// `R name<T>(params) { body }`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionDecl {
    /// Annotations.
    pub annotations: Vec<Annotation>,
    /// Signature.
    pub prototype: FunctionPrototype,
    /// Body.
    pub body: Block,
}

/// `T(args) name;`, optionally with an initializer block that implements abstract methods.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instantiation {
    /// Annotations.
    pub annotations: Vec<Annotation>,
    /// The type instantiated.
    pub ty: Type,
    /// Constructor arguments.
    pub args: Vec<Argument>,
    /// The instance's name.
    pub name: Ident,
    /// `= { ... }`: functions and instantiations inside the instance.
    pub initializer: Option<Vec<ObjectMember>>,
}

/// A declaration inside an instantiation's initializer block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ObjectMember {
    /// A function (usually implementing an abstract method).
    Function(FunctionDecl),
    /// A nested instance.
    Instantiation(Instantiation),
}

/// `parser P(...)(...) { locals states }`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParserDecl {
    /// Name, type parameters and apply parameters.
    pub signature: TypeSignature,
    /// Constructor parameters, if written (`()` included).
    pub ctor_params: Option<Vec<Param>>,
    /// Constants, variables, instances and value sets.
    pub locals: Vec<LocalDecl>,
    /// States, in order.
    pub states: Vec<ParserState>,
}

/// `state name { statements transition }`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParserState {
    /// Annotations.
    pub annotations: Vec<Annotation>,
    /// Name.
    pub name: Ident,
    /// Statements before the transition.
    pub stmts: Vec<Stmt>,
    /// The transition (a state with none rejects).
    pub transition: Option<Transition>,
    /// Where it was written.
    pub span: Span,
}

/// Where a parser state goes next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transition {
    /// `transition name;`
    Direct(Ident),
    /// `transition select(...) { ... }`
    Select {
        /// The values selected on.
        exprs: Vec<Expr>,
        /// Cases, first match wins.
        cases: Vec<SelectCase>,
        /// Where `select` was written.
        span: Span,
    },
}

/// `keyset: state;`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelectCase {
    /// The values matched.
    pub keyset: Keyset,
    /// The next state.
    pub state: Ident,
    /// Where it was written.
    pub span: Span,
}

/// `control C(...)(...) { locals apply { ... } }`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControlDecl {
    /// Name, type parameters and apply parameters.
    pub signature: TypeSignature,
    /// Constructor parameters, if written.
    pub ctor_params: Option<Vec<Param>>,
    /// Constants, variables, instances, actions and tables.
    pub locals: Vec<LocalDecl>,
    /// The `apply` block.
    pub apply: Block,
}

/// A declaration local to a parser or control.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LocalDecl {
    /// A constant.
    Const(ConstDecl, Span),
    /// A variable.
    Var(VarDecl, Span),
    /// An extern, parser or control instance.
    Instantiation(Instantiation, Span),
    /// `value_set<T>(size) name;` (parsers only).
    ValueSet(ValueSetDecl, Span),
    /// An action (controls only).
    Action(ActionDecl, Span),
    /// A table (controls only).
    Table(TableDecl, Span),
}

/// `@annotations value_set<T>(size) name;`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueSetDecl {
    /// Annotations.
    pub annotations: Vec<Annotation>,
    /// Element type.
    pub element: Type,
    /// Maximum number of values.
    pub size: Expr,
    /// Name.
    pub name: Ident,
}

/// `@annotations table name { properties }`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableDecl {
    /// Annotations.
    pub annotations: Vec<Annotation>,
    /// Name.
    pub name: Ident,
    /// Properties, in order.
    pub properties: Vec<TableProperty>,
}

/// One table property.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableProperty {
    /// Which property.
    pub kind: TablePropertyKind,
    /// Where it was written.
    pub span: Span,
}

/// The forms of table property.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TablePropertyKind {
    /// `key = { e: match_kind; ... }`
    Key(Vec<KeyElement>),
    /// `actions = { a; b(1); ... }`
    Actions(Vec<ActionRef>),
    /// `@annotations const entries = { ... }`
    Entries {
        /// Annotations.
        annotations: Vec<Annotation>,
        /// Written `const entries`.
        is_const: bool,
        /// The entries.
        entries: Vec<Entry>,
    },
    /// `@annotations const name = value;`: `default_action`, `size`, `add_on_miss`, and any
    /// architecture-specific property.
    Other {
        /// Annotations.
        annotations: Vec<Annotation>,
        /// Written `const` (e.g. `const default_action`).
        is_const: bool,
        /// Property name.
        name: Ident,
        /// Its value.
        value: Expr,
    },
}

/// `expr: match_kind @annotations;`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyElement {
    /// The value matched.
    pub expr: Expr,
    /// `exact`, `lpm`, `ternary`, ...
    pub match_kind: Ident,
    /// Annotations (after the match kind, as the grammar places them).
    pub annotations: Vec<Annotation>,
    /// Where it was written.
    pub span: Span,
}

/// `@annotations name` or `name(args)` in an action list or entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionRef {
    /// Annotations.
    pub annotations: Vec<Annotation>,
    /// The action.
    pub name: Path,
    /// Arguments, when written with parentheses.
    pub args: Option<Vec<Argument>>,
    /// Where it was written.
    pub span: Span,
}

/// One table entry: `const priority = p: keyset: action @annotations;`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Written `const`.
    pub is_const: bool,
    /// `priority = N:` if written.
    pub priority: Option<Expr>,
    /// The key values.
    pub keyset: Keyset,
    /// The action and its arguments.
    pub action: ActionRef,
    /// Annotations after the action.
    pub annotations: Vec<Annotation>,
    /// Where it was written.
    pub span: Span,
}

/// `header`, `header_union` or `struct` declaration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StructDecl {
    /// Annotations.
    pub annotations: Vec<Annotation>,
    /// Name.
    pub name: Ident,
    /// Type parameters.
    pub type_params: Vec<Ident>,
    /// Fields, in order.
    pub fields: Vec<StructField>,
}

/// `@annotations T name;`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StructField {
    /// Annotations.
    pub annotations: Vec<Annotation>,
    /// Type.
    pub ty: Type,
    /// Name.
    pub name: Ident,
    /// Where it was written.
    pub span: Span,
}

/// `enum E { A, B }` or `enum bit<8> E { A = 1, B = 2 }`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnumDecl {
    /// Annotations.
    pub annotations: Vec<Annotation>,
    /// The underlying type of a serializable enum.
    pub underlying: Option<Type>,
    /// Name.
    pub name: Ident,
    /// Members, with values for a serializable enum.
    pub members: Vec<EnumMember>,
}

/// One enum member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnumMember {
    /// Name.
    pub name: Ident,
    /// Value (serializable enums only).
    pub value: Option<Expr>,
}

/// `typedef T Name;` or `type T Name;`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypedefDecl {
    /// Annotations.
    pub annotations: Vec<Annotation>,
    /// `type` (a new type) rather than `typedef` (an alias).
    pub is_new_type: bool,
    /// What is named.
    pub target: TypedefTarget,
    /// The new name.
    pub name: Ident,
}

/// What a typedef names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TypedefTarget {
    /// A type.
    Type(Type),
    /// A header, union, struct or enum declared in place: `typedef struct S {...} T;`.
    Declaration(Box<Declaration>),
}
