//! The validator: checks that a [`Module`] keeps the invariants back-ends rely on.
//!
//! The front-end's lowering is meant to produce only valid modules; [`validate`] checks that it
//! did before any back-end indexes an arena or trusts a width (like naga's `valid/handles.rs`).
//! It reads the module only through `get` and checked arithmetic, so it never panics however
//! broken the module is, and it reports every violation it finds, not only the first.
//!
//! What is checked:
//! - **Handles**: every handle names an item of the arena it indexes: types inside types
//!   (and composites, enums, externs and block types named by types), each body's expressions
//!   and locals, and the actions, functions, tables, instances and block types named by
//!   callees, statements, tables, instances' methods and the pipeline. A control-local
//!   action's parameters and the handles in its statements index its control's body; a
//!   top-level action's its own. Table keys and [`ActionArg::Expr`] arguments index the
//!   table's control's body.
//! - **Order**: an expression's operands come before it in its body's arena, so expressions
//!   form no cycles; types refer to no cycle of types either.
//! - **Types**: each expression's type agrees with its operands (operators, slices, fields,
//!   elements, stack members, selections, composed values, calls), conditions are `bool`,
//!   assignments and declarations join values of one type, and every literal and
//!   compile-time value fits its type.
//! - **Calls**: one argument per parameter (with the receiver first for extern methods,
//!   built-in methods and `apply` of a parser or control), of the parameter's type.
//! - **Scopes**: a control-local action is called, and a table applied, only from its own
//!   control; `break`/`continue` only in loops; `exit` and valueless `return` where allowed.
//! - **Tables**: keys have declared match kinds; entries have one keyset per key; every
//!   default action and entry runs a listed action (respecting `@tableonly`/`@defaultonly`)
//!   with one argument per parameter: a fitting value for action data, an expression of the
//!   parameter's type for a parameter with a direction.
//! - **Parsers**: the start state comes first, transitions go to existing states, and every
//!   select case has one keyset per key.
//! - **Pipeline**: every role is played by an existing block of the right kind.

use std::fmt;

use num_bigint::BigInt;
use num_traits::{Signed, Zero};

use super::{
    ActionArg, ActionCall, ActionScope, BinaryOp, Block, BlockKind, BlockType, Body, Builtin,
    Callee, CompositeKind, Expr, ExprKind, KeysetValue, LocalKind, Module, PropertyValue, Role,
    StackMember, Stmt, Table, Transition, Type, UnaryOp, Value,
};
use crate::arena::Handle;
use crate::span::Span;

/// How deep nested types and values are followed before giving up (real programs nest a few
/// levels; a broken module may loop).
const MAX_DEPTH: u32 = 128;

/// The longest type name written into a message.
const MAX_NAME_LEN: usize = 200;

/// The part of a module a violation lies in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValidationItem {
    /// A type, by handle (types have no name or span of their own).
    Type(Handle<Type>),
    /// A header, header union or struct, by name.
    Composite(String),
    /// An enum, by name.
    Enum(String),
    /// A parser or control, by name.
    Block(BlockKind, String),
    /// An action, by name (`Control.action` for a control-local one).
    Action(String),
    /// A function, by name.
    Function(String),
    /// A table, by name.
    Table(String),
    /// An extern, parser or control instance or a value set, by name.
    Instance(String),
    /// The package instantiated as `main`.
    Pipeline,
}

impl fmt::Display for ValidationItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValidationItem::Type(h) => write!(f, "type {h:?}"),
            ValidationItem::Composite(name) => write!(f, "type `{name}`"),
            ValidationItem::Enum(name) => write!(f, "enum `{name}`"),
            ValidationItem::Block(BlockKind::Parser, name) => write!(f, "parser `{name}`"),
            ValidationItem::Block(BlockKind::Control, name) => write!(f, "control `{name}`"),
            ValidationItem::Action(name) => write!(f, "action `{name}`"),
            ValidationItem::Function(name) => write!(f, "function `{name}`"),
            ValidationItem::Table(name) => write!(f, "table `{name}`"),
            ValidationItem::Instance(name) => write!(f, "instance `{name}`"),
            ValidationItem::Pipeline => write!(f, "the pipeline"),
        }
    }
}

/// Which kind of rule a violation breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValidationErrorKind {
    /// A handle names no item of the arena it indexes.
    Handle,
    /// An expression uses an operand that does not come before it in its body, or types form
    /// a cycle.
    Order,
    /// Types that must agree do not, or a construct has the wrong kind of type.
    Type,
    /// A literal or compile-time value does not fit its type (or names an undeclared
    /// `error`, `match_kind` or enum member).
    Value,
    /// A slice's bounds are reversed, empty or past its base's width.
    Slice,
    /// A field index is past the end of the composite or tuple.
    Field,
    /// A call's arguments do not match what it calls.
    Call,
    /// An action or table is used outside the control it belongs to.
    Scope,
    /// A statement is out of place (`break` outside a loop, a call statement that is not a
    /// call, an assignment to a value that is not a variable, ...).
    Statement,
    /// A table's keys, actions, default action or entries are inconsistent.
    Table,
    /// A parser's states or transitions are wrong.
    Parser,
    /// The shape of an item is wrong (parameter counts and kinds, pipeline roles, ...).
    Structure,
}

/// One violated invariant: what is wrong and where.
#[derive(Clone, Debug)]
pub struct ValidationError {
    /// Which kind of rule is broken.
    pub kind: ValidationErrorKind,
    /// The item the violation lies in.
    pub item: ValidationItem,
    /// The expression at fault, when there is one (a handle into the body the item's code
    /// lives in).
    pub expr: Option<Handle<Expr>>,
    /// Where in the source, when the arena recorded it: the expression's span, else the
    /// item's.
    pub span: Option<Span>,
    /// What is wrong, in words.
    pub message: String,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.item)?;
        if let Some(e) = self.expr {
            write!(f, ", expression {e:?}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ValidationError {}

/// Checks every invariant of `module` that back-ends rely on (see the module documentation),
/// returning every violation found.
pub fn validate(module: &Module) -> Result<(), Vec<ValidationError>> {
    let mut v = Validator {
        module,
        errors: Vec::new(),
    };
    v.types();
    v.composites();
    v.enums();
    v.block_types();
    v.actions();
    v.functions();
    v.tables();
    v.instances();
    v.pipeline();
    if v.errors.is_empty() {
        Ok(())
    } else {
        Err(v.errors)
    }
}

/// Where the code being checked lives.
struct Ctx<'m> {
    /// The item reported in errors.
    item: ValidationItem,
    /// The item's span.
    span: Option<Span>,
    /// The body whose expressions and locals the code's handles index.
    body: &'m Body,
    /// The parser or control whose body `body` is (for control-local actions and tables).
    control: Option<Handle<BlockType>>,
    /// Inside a function (where `exit` is not allowed and `return` gives a value).
    in_function: bool,
    /// The function's return type, when in range.
    return_type: Option<Handle<Type>>,
}

struct Validator<'m> {
    module: &'m Module,
    errors: Vec<ValidationError>,
}

/// The type of each item of a composed value, by position.
type SlotType<'a> = Box<dyn Fn(usize) -> Option<Handle<Type>> + 'a>;

/// The operands of an expression, in order.
fn operands(kind: &ExprKind) -> Vec<Handle<Expr>> {
    match kind {
        ExprKind::Literal(_)
        | ExprKind::Local(_)
        | ExprKind::Instance(_)
        | ExprKind::TableHit { .. } => Vec::new(),
        ExprKind::Field { base, .. }
        | ExprKind::Slice { base, .. }
        | ExprKind::StackMember { base, .. } => vec![*base],
        ExprKind::Element { base, index } => vec![*base, *index],
        ExprKind::DynamicSlice { base, lo, .. } => vec![*base, *lo],
        ExprKind::Unary { operand, .. } => vec![*operand],
        ExprKind::Cast(e) => vec![*e],
        ExprKind::Binary { lhs, rhs, .. } => vec![*lhs, *rhs],
        ExprKind::Select {
            cond,
            then,
            otherwise,
        } => vec![*cond, *then, *otherwise],
        ExprKind::Compose(fields) => fields.clone(),
        ExprKind::Call { args, .. } => args.clone(),
    }
}

/// True when `v` is a value of `bit<width>` (unsigned) or `int<width>` (signed).
fn int_fits(v: &BigInt, width: u32, signed: bool) -> bool {
    if !signed {
        return !v.is_negative() && v.bits() <= u64::from(width);
    }
    if width == 0 {
        return v.is_zero();
    }
    // -2^(w-1) <= v < 2^(w-1): the magnitude (minus one for negatives) fits in w-1 bits.
    let magnitude = if v.is_negative() {
        -(v + BigInt::from(1u8))
    } else {
        v.clone()
    };
    magnitude.bits() < u64::from(width)
}

/// A short description of a value for messages.
fn describe(v: &Value) -> String {
    match v {
        Value::Int(i) => format!("the integer {i}"),
        Value::Bool(b) => format!("`{b}`"),
        Value::String(s) => format!("the string {s:?}"),
        Value::Error(i) => format!("error #{i}"),
        Value::MatchKind(i) => format!("match kind #{i}"),
        Value::Enum(i) => format!("enum member #{i}"),
        Value::Tuple(items) => format!("a list of {} value(s)", items.len()),
        Value::InvalidHeader => "an invalid header".to_string(),
    }
}

fn op_str(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::Mul => "*",
        BinaryOp::Div => "/",
        BinaryOp::Mod => "%",
        BinaryOp::Add => "+",
        BinaryOp::Sub => "-",
        BinaryOp::SatAdd => "|+|",
        BinaryOp::SatSub => "|-|",
        BinaryOp::Shl => "<<",
        BinaryOp::Shr => ">>",
        BinaryOp::BitAnd => "&",
        BinaryOp::BitXor => "^",
        BinaryOp::BitOr => "|",
        BinaryOp::Concat => "++",
        BinaryOp::Eq => "==",
        BinaryOp::Ne => "!=",
        BinaryOp::Lt => "<",
        BinaryOp::Gt => ">",
        BinaryOp::Le => "<=",
        BinaryOp::Ge => ">=",
        BinaryOp::And => "&&",
        BinaryOp::Or => "||",
    }
}

fn builtin_name(b: Builtin) -> &'static str {
    match b {
        Builtin::IsValid => "isValid",
        Builtin::SetValid => "setValid",
        Builtin::SetInvalid => "setInvalid",
        Builtin::PushFront => "push_front",
        Builtin::PopFront => "pop_front",
    }
}

// -- Reporting and type helpers ------------------------------------------------------------

impl<'m> Validator<'m> {
    fn report(
        &mut self,
        kind: ValidationErrorKind,
        item: &ValidationItem,
        expr: Option<Handle<Expr>>,
        span: Option<Span>,
        message: String,
    ) {
        self.errors.push(ValidationError {
            kind,
            item: item.clone(),
            expr,
            span,
            message,
        });
    }

    /// A violation at expression `e` of the context's body.
    fn at_expr(
        &mut self,
        ctx: &Ctx<'m>,
        kind: ValidationErrorKind,
        e: Handle<Expr>,
        message: String,
    ) {
        let span = if ctx.body.exprs.contains(e) {
            Some(ctx.body.exprs.span(e))
        } else {
            ctx.span
        };
        self.report(kind, &ctx.item, Some(e), span, message);
    }

    /// A violation of the context's item, not tied to one expression.
    fn at_item(&mut self, ctx: &Ctx<'m>, kind: ValidationErrorKind, message: String) {
        self.report(kind, &ctx.item, None, ctx.span, message);
    }

    /// Reports a type handle that names no type; true when it names one.
    fn type_ref(
        &mut self,
        item: &ValidationItem,
        span: Option<Span>,
        ty: Handle<Type>,
        what: &str,
    ) -> bool {
        if self.module.types.contains(ty) {
            return true;
        }
        let message = format!(
            "{what} has type {ty:?}, which names no type (the module has {})",
            self.module.types.len()
        );
        self.report(ValidationErrorKind::Handle, item, None, span, message);
        false
    }

    fn ty(&self, ty: Handle<Type>) -> Option<&'m Type> {
        self.module.types.get(ty)
    }

    /// `ty` when it names a type.
    fn known(&self, ty: Handle<Type>) -> Option<Handle<Type>> {
        self.module.types.contains(ty).then_some(ty)
    }

    /// The type of expression `e` of `body`, when both are in range.
    fn ety(&self, body: &Body, e: Handle<Expr>) -> Option<Handle<Type>> {
        body.exprs.get(e).and_then(|x| self.known(x.ty))
    }

    /// Width and signedness of a `bit<W>` or `int<W>` type.
    fn bits(&self, ty: Handle<Type>) -> Option<(u32, bool)> {
        match self.ty(ty)? {
            Type::Bits { width, signed } => Some((*width, *signed)),
            _ => None,
        }
    }

    fn is_bool(&self, ty: Handle<Type>) -> bool {
        matches!(self.ty(ty), Some(Type::Bool))
    }

    fn is_void(&self, ty: Handle<Type>) -> bool {
        matches!(self.ty(ty), Some(Type::Void))
    }

    /// The type as P4 writes it, for messages. Unlike [`Module::type_name`], bounded in depth
    /// and length: an unvalidated module may have cyclic or exponentially shared types.
    fn type_name(&self, ty: Handle<Type>) -> String {
        let mut out = String::new();
        self.write_type(ty, 0, &mut out);
        out
    }

    fn write_type(&self, ty: Handle<Type>, depth: u32, out: &mut String) {
        use std::fmt::Write;
        if depth > MAX_DEPTH || out.len() > MAX_NAME_LEN {
            out.push('…');
            return;
        }
        let m = self.module;
        let Some(t) = m.types.get(ty) else {
            let _ = write!(out, "{ty:?}");
            return;
        };
        let list = |this: &Self, items: &[Handle<Type>], out: &mut String| {
            for (i, item) in items.iter().enumerate() {
                if out.len() > MAX_NAME_LEN {
                    out.push('…');
                    break;
                }
                if i > 0 {
                    out.push_str(", ");
                }
                this.write_type(*item, depth + 1, out);
            }
        };
        match t {
            Type::Bool => out.push_str("bool"),
            Type::Bits {
                width,
                signed: false,
            } => {
                let _ = write!(out, "bit<{width}>");
            }
            Type::Bits {
                width,
                signed: true,
            } => {
                let _ = write!(out, "int<{width}>");
            }
            Type::Varbit { max_width } => {
                let _ = write!(out, "varbit<{max_width}>");
            }
            Type::Integer => out.push_str("int"),
            Type::String => out.push_str("string"),
            Type::Error => out.push_str("error"),
            Type::MatchKind => out.push_str("match_kind"),
            Type::Void => out.push_str("void"),
            Type::Composite(c) => match m.composites.get(*c) {
                Some(c) => out.push_str(&c.name),
                None => {
                    let _ = write!(out, "{c:?}");
                }
            },
            Type::Enum(e) => match m.enums.get(*e) {
                Some(e) => out.push_str(&e.name),
                None => {
                    let _ = write!(out, "{e:?}");
                }
            },
            Type::NewType { name, .. } => out.push_str(name),
            Type::Stack { element, size } => {
                self.write_type(*element, depth + 1, out);
                let _ = write!(out, "[{size}]");
            }
            Type::Tuple(items) => {
                out.push_str("tuple<");
                list(self, items, out);
                out.push('>');
            }
            Type::List(element) => {
                out.push_str("list<");
                self.write_type(*element, depth + 1, out);
                out.push('>');
            }
            Type::Set(element) => {
                out.push_str("set<");
                self.write_type(*element, depth + 1, out);
                out.push('>');
            }
            Type::Extern { def, args } => {
                match m.externs.get(*def) {
                    Some(d) => out.push_str(&d.name),
                    None => {
                        let _ = write!(out, "{def:?}");
                    }
                }
                if !args.is_empty() {
                    out.push('<');
                    list(self, args, out);
                    out.push('>');
                }
            }
            Type::Block(b) => match m.block_types.get(*b) {
                Some(b) => out.push_str(&b.name),
                None => {
                    let _ = write!(out, "{b:?}");
                }
            },
        }
    }

    /// Whether `v` is a value of type `ty`; `Err` says why not.
    fn value_fits(&self, v: &Value, ty: Handle<Type>, depth: u32) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err("the value or its type is nested too deeply".to_string());
        }
        let m = self.module;
        let Some(t) = m.types.get(ty) else {
            return Err(format!("its type {ty:?} names no type"));
        };
        let mismatch = || {
            Err(format!(
                "{} is not a value of type `{}`",
                describe(v),
                self.type_name(ty)
            ))
        };
        let all = |items: &[Value], tys: &mut dyn Iterator<Item = Handle<Type>>| {
            for (i, (item, t)) in items.iter().zip(tys).enumerate() {
                self.value_fits(item, t, depth + 1)
                    .map_err(|why| format!("item {i}: {why}"))?;
            }
            Ok(())
        };
        match (t, v) {
            (Type::Bool, Value::Bool(_))
            | (Type::Integer, Value::Int(_))
            | (Type::String, Value::String(_)) => Ok(()),
            (Type::Bits { width, signed }, Value::Int(i)) => {
                if int_fits(i, *width, *signed) {
                    Ok(())
                } else {
                    Err(format!("{i} does not fit in `{}`", self.type_name(ty)))
                }
            }
            (Type::Error, Value::Error(i)) => {
                if (*i as usize) < m.errors.len() {
                    Ok(())
                } else {
                    Err(format!(
                        "error #{i} is not declared (the module declares {})",
                        m.errors.len()
                    ))
                }
            }
            (Type::MatchKind, Value::MatchKind(i)) => {
                if (*i as usize) < m.match_kinds.len() {
                    Ok(())
                } else {
                    Err(format!(
                        "match kind #{i} is not declared (the module declares {})",
                        m.match_kinds.len()
                    ))
                }
            }
            (Type::Enum(e), Value::Enum(i)) => match m.enums.get(*e) {
                Some(def) if (*i as usize) < def.members.len() => Ok(()),
                Some(def) => Err(format!(
                    "enum `{}` has {} member(s), not a member #{i}",
                    def.name,
                    def.members.len()
                )),
                None => Err(format!("its enum {e:?} names no enum")),
            },
            (Type::NewType { underlying, .. }, _) => self.value_fits(v, *underlying, depth + 1),
            (Type::Composite(c), Value::InvalidHeader) => match m.composites.get(*c) {
                Some(c) if c.kind != CompositeKind::Struct => Ok(()),
                Some(c) => Err(format!("struct `{}` cannot be an invalid header", c.name)),
                None => Err(format!("its composite {c:?} names no composite")),
            },
            (Type::Composite(c), Value::Tuple(items)) => match m.composites.get(*c) {
                Some(c) if c.fields.len() == items.len() => {
                    for (item, field) in items.iter().zip(&c.fields) {
                        self.value_fits(item, field.ty, depth + 1)
                            .map_err(|why| format!("field `{}`: {why}", field.name))?;
                    }
                    Ok(())
                }
                Some(c) => Err(format!(
                    "`{}` has {} field(s), but the value has {}",
                    c.name,
                    c.fields.len(),
                    items.len()
                )),
                None => Err(format!("its composite {c:?} names no composite")),
            },
            (Type::Tuple(types), Value::Tuple(items)) => {
                if types.len() != items.len() {
                    return Err(format!(
                        "`{}` has {} item(s), but the value has {}",
                        self.type_name(ty),
                        types.len(),
                        items.len()
                    ));
                }
                all(items, &mut types.iter().copied())
            }
            (Type::Stack { element, size }, Value::Tuple(items)) => {
                if *size as usize != items.len() {
                    return Err(format!(
                        "`{}` has {size} element(s), but the value has {}",
                        self.type_name(ty),
                        items.len()
                    ));
                }
                all(items, &mut std::iter::repeat(*element))
            }
            (Type::List(element), Value::Tuple(items)) => {
                all(items, &mut std::iter::repeat(*element))
            }
            _ => mismatch(),
        }
    }

    /// Checks the `error` and `match_kind` indices of a value whose type is not recorded.
    fn untyped_value(
        &mut self,
        item: &ValidationItem,
        span: Option<Span>,
        value: &Value,
        what: &str,
    ) {
        let m = self.module;
        let mut work = vec![value];
        while let Some(v) = work.pop() {
            match v {
                Value::Error(i) if *i as usize >= m.errors.len() => {
                    let message = format!(
                        "{what} holds error #{i}, but the module declares {}",
                        m.errors.len()
                    );
                    self.report(ValidationErrorKind::Value, item, None, span, message);
                }
                Value::MatchKind(i) if *i as usize >= m.match_kinds.len() => {
                    let message = format!(
                        "{what} holds match kind #{i}, but the module declares {}",
                        m.match_kinds.len()
                    );
                    self.report(ValidationErrorKind::Value, item, None, span, message);
                }
                Value::Tuple(items) => work.extend(items),
                _ => {}
            }
        }
    }

    /// The parameters of an action as (type when in range, kind), from whichever body they
    /// live in; `None` when the action, its control or a parameter is out of range.
    fn action_params(
        &self,
        action: Handle<super::Action>,
    ) -> Option<Vec<(Option<Handle<Type>>, LocalKind)>> {
        let m = self.module;
        let a = m.actions.get(action)?;
        let locals = match a.control {
            Some(c) => &m.block_types.get(c)?.body.locals,
            None => &a.body.locals,
        };
        a.params
            .iter()
            .map(|p| locals.get(*p).map(|l| (self.known(l.ty), l.kind)))
            .collect()
    }

    /// The name reported for an action: `Control.action` for a control-local one.
    fn action_name(&self, action: &super::Action) -> String {
        match action.control.and_then(|c| self.module.block_types.get(c)) {
            Some(b) => format!("{}.{}", b.name, action.name),
            None => action.name.clone(),
        }
    }

    /// Reports `found` when it differs from `expected` (both known).
    fn expect_type(
        &mut self,
        ctx: &Ctx<'m>,
        e: Handle<Expr>,
        found: Option<Handle<Type>>,
        expected: Option<Handle<Type>>,
        what: &str,
    ) {
        if let (Some(found), Some(expected)) = (found, expected) {
            if found != expected {
                let message = format!(
                    "{what} is `{}`, but must be `{}`",
                    self.type_name(found),
                    self.type_name(expected)
                );
                self.at_expr(ctx, ValidationErrorKind::Type, e, message);
            }
        }
    }

    /// Reports an expression whose type `expr_ty` differs from the type `item_ty` of what it
    /// reads (a local, a field, an element, ...).
    fn expect_read_type(
        &mut self,
        ctx: &Ctx<'m>,
        e: Handle<Expr>,
        expr_ty: Option<Handle<Type>>,
        item_ty: Option<Handle<Type>>,
        what: &str,
    ) {
        if let (Some(expr_ty), Some(item_ty)) = (expr_ty, item_ty) {
            if expr_ty != item_ty {
                let message = format!(
                    "{what} is `{}`, but the expression is `{}`",
                    self.type_name(item_ty),
                    self.type_name(expr_ty)
                );
                self.at_expr(ctx, ValidationErrorKind::Type, e, message);
            }
        }
    }

    /// Reports `found` when known and not `bool`.
    fn expect_bool(
        &mut self,
        ctx: &Ctx<'m>,
        e: Handle<Expr>,
        found: Option<Handle<Type>>,
        what: &str,
    ) {
        if let Some(found) = found {
            if !self.is_bool(found) {
                let message = format!("{what} is `{}`, not `bool`", self.type_name(found));
                self.at_expr(ctx, ValidationErrorKind::Type, e, message);
            }
        }
    }
}

// -- Types, composites, enums ---------------------------------------------------------------

impl<'m> Validator<'m> {
    fn types(&mut self) {
        let m = self.module;
        for (h, ty) in m.types.iter() {
            let item = ValidationItem::Type(h);
            match ty {
                Type::Bits {
                    width: 0,
                    signed: true,
                } => {
                    let message = "`int<0>` has no values: a signed type needs a bit".to_string();
                    self.report(ValidationErrorKind::Type, &item, None, None, message);
                }
                Type::Composite(c) if !m.composites.contains(*c) => {
                    let message = format!(
                        "it names composite {c:?}, but the module has {}",
                        m.composites.len()
                    );
                    self.report(ValidationErrorKind::Handle, &item, None, None, message);
                }
                Type::Enum(e) if !m.enums.contains(*e) => {
                    let message =
                        format!("it names enum {e:?}, but the module has {}", m.enums.len());
                    self.report(ValidationErrorKind::Handle, &item, None, None, message);
                }
                Type::NewType { underlying: t, .. } => {
                    self.type_ref(&item, None, *t, "its underlying type");
                }
                Type::Stack { element: t, .. } | Type::List(t) | Type::Set(t) => {
                    self.type_ref(&item, None, *t, "its element");
                }
                Type::Tuple(items) => {
                    for (i, t) in items.iter().enumerate() {
                        self.type_ref(&item, None, *t, &format!("item {i}"));
                    }
                }
                Type::Extern { def, args } => {
                    match m.externs.get(*def) {
                        None => {
                            let message = format!(
                                "it names extern {def:?}, but the module has {}",
                                m.externs.len()
                            );
                            self.report(ValidationErrorKind::Handle, &item, None, None, message);
                        }
                        Some(d) if d.type_params.len() != args.len() => {
                            let message = format!(
                                "extern `{}` takes {} type argument(s), but it has {}",
                                d.name,
                                d.type_params.len(),
                                args.len()
                            );
                            self.report(ValidationErrorKind::Type, &item, None, None, message);
                        }
                        Some(_) => {}
                    }
                    for (i, t) in args.iter().enumerate() {
                        self.type_ref(&item, None, *t, &format!("type argument {i}"));
                    }
                }
                Type::Block(b) if !m.block_types.contains(*b) => {
                    let message = format!(
                        "it names parser or control {b:?}, but the module has {}",
                        m.block_types.len()
                    );
                    self.report(ValidationErrorKind::Handle, &item, None, None, message);
                }
                _ => {}
            }
        }
        self.type_cycles();
    }

    /// The types a type is made of (through composites' fields and enums' underlying types),
    /// those in range only.
    fn type_children(&self, ty: &Type) -> Vec<Handle<Type>> {
        let m = self.module;
        let children: Vec<Handle<Type>> = match ty {
            Type::NewType { underlying: t, .. }
            | Type::Stack { element: t, .. }
            | Type::List(t)
            | Type::Set(t) => vec![*t],
            Type::Tuple(items) => items.clone(),
            Type::Extern { args, .. } => args.clone(),
            Type::Composite(c) => m
                .composites
                .get(*c)
                .map(|c| c.fields.iter().map(|f| f.ty).collect())
                .unwrap_or_default(),
            Type::Enum(e) => m
                .enums
                .get(*e)
                .and_then(|e| e.underlying)
                .into_iter()
                .collect(),
            _ => Vec::new(),
        };
        children
            .into_iter()
            .filter(|t| m.types.contains(*t))
            .collect()
    }

    /// Reports types that contain themselves (a depth-first search without recursion).
    fn type_cycles(&mut self) {
        let m = self.module;
        const NEW: u8 = 0;
        const ACTIVE: u8 = 1;
        const DONE: u8 = 2;
        let mut state = vec![NEW; m.types.len()];
        let mut reported = vec![false; m.types.len()];
        for (root, _) in m.types.iter() {
            if state[root.index()] != NEW {
                continue;
            }
            state[root.index()] = ACTIVE;
            let mut stack: Vec<(Handle<Type>, Vec<Handle<Type>>, usize)> = Vec::new();
            let children = m
                .types
                .get(root)
                .map(|t| self.type_children(t))
                .unwrap_or_default();
            stack.push((root, children, 0));
            while let Some((node, children, next)) = stack.last_mut() {
                let node = *node;
                let Some(&child) = children.get(*next) else {
                    state[node.index()] = DONE;
                    stack.pop();
                    continue;
                };
                *next += 1;
                match state.get(child.index()).copied() {
                    Some(NEW) => {
                        state[child.index()] = ACTIVE;
                        let grand = m
                            .types
                            .get(child)
                            .map(|t| self.type_children(t))
                            .unwrap_or_default();
                        stack.push((child, grand, 0));
                    }
                    Some(ACTIVE) if !reported[child.index()] => {
                        reported[child.index()] = true;
                        let message = format!(
                            "type `{}` contains itself (through {node:?})",
                            self.type_name(child)
                        );
                        self.report(
                            ValidationErrorKind::Order,
                            &ValidationItem::Type(child),
                            None,
                            None,
                            message,
                        );
                    }
                    _ => {}
                }
            }
        }
    }

    fn composites(&mut self) {
        let m = self.module;
        for (_, c) in m.composites.iter() {
            let item = ValidationItem::Composite(c.name.clone());
            for f in &c.fields {
                self.type_ref(&item, None, f.ty, &format!("field `{}`", f.name));
            }
        }
    }

    fn enums(&mut self) {
        let m = self.module;
        for (_, e) in m.enums.iter() {
            let item = ValidationItem::Enum(e.name.clone());
            let underlying = match e.underlying {
                Some(u) if self.type_ref(&item, None, u, "its underlying type") => {
                    if self.bits(u).is_none() {
                        let message = format!(
                            "a serializable enum's type must be `bit<W>` or `int<W>`, not `{}`",
                            self.type_name(u)
                        );
                        self.report(ValidationErrorKind::Type, &item, None, None, message);
                    }
                    Some(u)
                }
                _ => None,
            };
            for (name, value) in &e.members {
                match (value, e.underlying) {
                    (Some(v), Some(_)) => {
                        if let Some(u) = underlying {
                            if let Err(why) = self.value_fits(&Value::Int(v.clone()), u, 0) {
                                let message = format!("member `{name}`: {why}");
                                self.report(ValidationErrorKind::Value, &item, None, None, message);
                            }
                        }
                    }
                    (None, Some(_)) => {
                        let message =
                            format!("member `{name}` of a serializable enum has no value");
                        self.report(ValidationErrorKind::Value, &item, None, None, message);
                    }
                    (Some(_), None) => {
                        let message = format!(
                            "member `{name}` has a value, but the enum is not serializable"
                        );
                        self.report(ValidationErrorKind::Value, &item, None, None, message);
                    }
                    (None, None) => {}
                }
            }
        }
    }
}

// -- Blocks, actions, functions ---------------------------------------------------------------

impl<'m> Validator<'m> {
    /// Checks that the first `count` locals of a body exist and are parameters.
    fn param_locals(&mut self, ctx: &Ctx<'m>, count: Option<usize>, what: &str) {
        let locals = &ctx.body.locals;
        match count {
            Some(n) if n <= locals.len() => {
                for (h, local) in locals.iter().take(n) {
                    if local.kind == LocalKind::Var {
                        let message = format!(
                            "{what} {} (`{}`) is declared as a variable",
                            h.index(),
                            local.name
                        );
                        self.at_item(ctx, ValidationErrorKind::Structure, message);
                    }
                }
            }
            _ => {
                let message = format!(
                    "it declares {} {what}s, but its body has only {} locals",
                    count.map_or_else(|| "too many".to_string(), |n| n.to_string()),
                    locals.len()
                );
                self.at_item(ctx, ValidationErrorKind::Structure, message);
            }
        }
    }

    fn block_types(&mut self) {
        let m = self.module;
        for (h, b) in m.block_types.iter() {
            let ctx = Ctx {
                item: ValidationItem::Block(b.kind, b.name.clone()),
                span: Some(m.block_types.span(h)),
                body: &b.body,
                control: Some(h),
                in_function: false,
                return_type: None,
            };
            self.param_locals(&ctx, b.apply_params.checked_add(b.ctor_params), "parameter");
            self.body(&ctx);
            self.block(&ctx, &b.body.block);
            match b.kind {
                BlockKind::Parser => self.states(&ctx, b),
                BlockKind::Control if !b.states.is_empty() => {
                    let message = format!("a control has {} parser state(s)", b.states.len());
                    self.at_item(&ctx, ValidationErrorKind::Structure, message);
                }
                BlockKind::Control => {}
            }
        }
    }

    fn states(&mut self, ctx: &Ctx<'m>, b: &'m BlockType) {
        match b.states.first() {
            None => self.at_item(
                ctx,
                ValidationErrorKind::Parser,
                "a parser has no states".to_string(),
            ),
            Some(first) if first.name != "start" => {
                let message = format!("the first state is `{}`, not `start`", first.name);
                self.at_item(ctx, ValidationErrorKind::Parser, message);
            }
            Some(_) => {}
        }
        for state in &b.states {
            self.block(ctx, &state.block);
            let mut work = vec![&state.transition];
            while let Some(t) = work.pop() {
                match t {
                    Transition::Accept | Transition::Reject => {}
                    Transition::State(i) => {
                        if *i as usize >= b.states.len() {
                            let message = format!(
                                "state `{}` goes to state #{i}, but the parser has {} state(s)",
                                state.name,
                                b.states.len()
                            );
                            self.at_item(ctx, ValidationErrorKind::Parser, message);
                        }
                    }
                    Transition::Select { keys, cases } => {
                        let what = format!("a select key of state `{}`", state.name);
                        let key_types: Vec<_> = keys
                            .iter()
                            .map(|k| self.stmt_expr(ctx, *k, &what))
                            .collect();
                        for (i, case) in cases.iter().enumerate() {
                            if case.keysets.len() != keys.len() {
                                let message = format!(
                                    "case {i} of the select in state `{}` has {} keyset(s) for {} key(s)",
                                    state.name,
                                    case.keysets.len(),
                                    keys.len()
                                );
                                self.at_item(ctx, ValidationErrorKind::Parser, message);
                            } else {
                                for (k, (ks, kt)) in case.keysets.iter().zip(&key_types).enumerate()
                                {
                                    let what = format!(
                                        "keyset {k} of case {i} of the select in state `{}`",
                                        state.name
                                    );
                                    self.keyset(&ctx.item, ctx.span, ks, *kt, &what);
                                }
                            }
                            work.push(&case.target);
                        }
                    }
                }
            }
        }
    }

    fn actions(&mut self) {
        let m = self.module;
        for (h, a) in m.actions.iter() {
            let item = ValidationItem::Action(self.action_name(a));
            let span = Some(m.actions.span(h));
            let (body, control) = match a.control {
                None => (&a.body, None),
                Some(c) => match m.block_types.get(c) {
                    None => {
                        let message = format!(
                            "it is declared in control {c:?}, but the module has {} parsers and controls",
                            m.block_types.len()
                        );
                        self.report(ValidationErrorKind::Handle, &item, None, span, message);
                        continue;
                    }
                    Some(b) => {
                        if b.kind != BlockKind::Control {
                            let message =
                                format!("it is declared in `{}`, which is not a control", b.name);
                            self.report(ValidationErrorKind::Structure, &item, None, span, message);
                        }
                        if !a.body.exprs.is_empty() || !a.body.locals.is_empty() {
                            let message = format!(
                                "a control-local action's expressions and locals live in its control's body, but it has {} expression(s) and {} local(s) of its own",
                                a.body.exprs.len(),
                                a.body.locals.len()
                            );
                            self.report(ValidationErrorKind::Structure, &item, None, span, message);
                        }
                        (&b.body, Some(c))
                    }
                },
            };
            let ctx = Ctx {
                item,
                span,
                body,
                control,
                in_function: false,
                return_type: None,
            };
            if a.control.is_none() {
                self.body(&ctx);
            }
            let mut seen_directionless = false;
            for (i, p) in a.params.iter().enumerate() {
                match body.locals.get(*p) {
                    None => {
                        let message = format!(
                            "parameter {i} is local {p:?}, but its body has {} local(s)",
                            body.locals.len()
                        );
                        self.at_item(&ctx, ValidationErrorKind::Handle, message);
                    }
                    Some(local) => match local.kind {
                        LocalKind::Var => {
                            let message =
                                format!("parameter `{}` is declared as a variable", local.name);
                            self.at_item(&ctx, ValidationErrorKind::Structure, message);
                        }
                        LocalKind::Directionless => seen_directionless = true,
                        _ if seen_directionless => {
                            let message = format!(
                                "parameter `{}` has a direction but comes after directionless ones",
                                local.name
                            );
                            self.at_item(&ctx, ValidationErrorKind::Structure, message);
                        }
                        _ => {}
                    },
                }
            }
            self.block(&ctx, &a.body.block);
        }
    }

    fn functions(&mut self) {
        let m = self.module;
        for (h, f) in m.functions.iter() {
            let item = ValidationItem::Function(f.name.clone());
            let span = Some(m.functions.span(h));
            let return_known = self.type_ref(&item, span, f.return_type, "its return");
            let ctx = Ctx {
                item,
                span,
                body: &f.body,
                control: None,
                in_function: true,
                return_type: return_known.then_some(f.return_type),
            };
            self.param_locals(&ctx, Some(f.params), "parameter");
            self.body(&ctx);
            self.block(&ctx, &f.body.block);
        }
    }
}

// -- Expressions --------------------------------------------------------------------------------

impl<'m> Validator<'m> {
    /// Checks a body's locals and every expression in it.
    fn body(&mut self, ctx: &Ctx<'m>) {
        let m = self.module;
        for (h, local) in ctx.body.locals.iter() {
            if !m.types.contains(local.ty) {
                let message = format!(
                    "local `{}` has type {:?}, which names no type (the module has {})",
                    local.name,
                    local.ty,
                    m.types.len()
                );
                let span = Some(ctx.body.locals.span(h));
                self.report(ValidationErrorKind::Handle, &ctx.item, None, span, message);
            }
        }
        for (h, expr) in ctx.body.exprs.iter() {
            self.expr(ctx, h, expr);
        }
    }

    fn expr(&mut self, ctx: &Ctx<'m>, h: Handle<Expr>, expr: &'m Expr) {
        let m = self.module;
        let body = ctx.body;
        let ty = self.known(expr.ty);
        if ty.is_none() {
            let message = format!(
                "its type {:?} names no type (the module has {})",
                expr.ty,
                m.types.len()
            );
            self.at_expr(ctx, ValidationErrorKind::Handle, h, message);
        }
        for op in operands(&expr.kind) {
            if !body.exprs.contains(op) {
                let message = format!(
                    "operand {op:?} names no expression (the body has {})",
                    body.exprs.len()
                );
                self.at_expr(ctx, ValidationErrorKind::Handle, h, message);
            } else if op.index() >= h.index() {
                let message = if op == h {
                    "it is its own operand".to_string()
                } else {
                    format!("operand {op:?} comes after the expression that uses it")
                };
                self.at_expr(ctx, ValidationErrorKind::Order, h, message);
            }
        }
        let et = |this: &Self, e: Handle<Expr>| this.ety(body, e);
        // `int` is compile time only: its values are literals, or constructor parameters
        // (directionless, bound per instance).
        if let Some(ty) = ty {
            let compile_time = match &expr.kind {
                ExprKind::Literal(_) => true,
                ExprKind::Local(l) => body
                    .locals
                    .get(*l)
                    .is_none_or(|l| l.kind == LocalKind::Directionless),
                _ => false,
            };
            if !compile_time && matches!(self.ty(ty), Some(Type::Integer)) {
                let message =
                    "a value of type `int` computed at run time (`int` is compile time only)"
                        .to_string();
                self.at_expr(ctx, ValidationErrorKind::Type, h, message);
            }
        }
        match &expr.kind {
            ExprKind::Literal(v) => {
                if let Some(ty) = ty {
                    if let Err(why) = self.value_fits(v, ty, 0) {
                        self.at_expr(
                            ctx,
                            ValidationErrorKind::Value,
                            h,
                            format!("literal: {why}"),
                        );
                    }
                }
            }
            ExprKind::Local(l) => match body.locals.get(*l) {
                None => {
                    let message = format!(
                        "it reads local {l:?}, but the body has {} local(s)",
                        body.locals.len()
                    );
                    self.at_expr(ctx, ValidationErrorKind::Handle, h, message);
                }
                Some(local) => {
                    let what = format!("local `{}`", local.name);
                    self.expect_read_type(ctx, h, ty, self.known(local.ty), &what);
                }
            },
            ExprKind::Instance(i) => match m.instances.get(*i) {
                None => {
                    let message = format!(
                        "it names instance {i:?}, but the module has {}",
                        m.instances.len()
                    );
                    self.at_expr(ctx, ValidationErrorKind::Handle, h, message);
                }
                Some(inst) => {
                    let what = format!("instance `{}`", inst.name);
                    self.expect_read_type(ctx, h, ty, self.known(inst.ty), &what);
                }
            },
            ExprKind::Field { base, index } => {
                let Some(bt) = et(self, *base) else { return };
                let fields: Option<(Vec<Handle<Type>>, String)> = match self.ty(bt) {
                    Some(Type::Composite(c)) => m.composites.get(*c).map(|c| {
                        (
                            c.fields.iter().map(|f| f.ty).collect(),
                            format!("`{}`", c.name),
                        )
                    }),
                    Some(Type::Tuple(items)) => Some((items.clone(), "the tuple".to_string())),
                    _ => {
                        let message = format!(
                            "a field of a `{}`, which is not a struct, header, union or tuple",
                            self.type_name(bt)
                        );
                        self.at_expr(ctx, ValidationErrorKind::Type, h, message);
                        None
                    }
                };
                if let Some((fields, name)) = fields {
                    match fields.get(*index as usize) {
                        None => {
                            let message = format!(
                                "field {index} of {name}, which has {} field(s)",
                                fields.len()
                            );
                            self.at_expr(ctx, ValidationErrorKind::Field, h, message);
                        }
                        Some(ft) => {
                            let what = format!("field {index} of {name}");
                            self.expect_read_type(ctx, h, ty, self.known(*ft), &what);
                        }
                    }
                }
            }
            ExprKind::Element { base, index } => {
                if let Some(bt) = et(self, *base) {
                    match self.ty(bt) {
                        Some(Type::Stack { element, .. }) | Some(Type::List(element)) => {
                            self.expect_read_type(
                                ctx,
                                h,
                                ty,
                                self.known(*element),
                                "the element type",
                            );
                        }
                        _ => {
                            let message = format!(
                                "an element of a `{}`, which is not a stack or list",
                                self.type_name(bt)
                            );
                            self.at_expr(ctx, ValidationErrorKind::Type, h, message);
                        }
                    }
                }
                if let Some(it) = et(self, *index) {
                    if self.bits(it).is_none() {
                        let message =
                            format!("the index is `{}`, not `bit<W>`", self.type_name(it));
                        self.at_expr(ctx, ValidationErrorKind::Type, h, message);
                    }
                }
            }
            ExprKind::Slice { base, hi, lo } => {
                let Some(bt) = et(self, *base) else { return };
                let Some((width, _)) = self.bits(bt) else {
                    let message = format!(
                        "a slice of a `{}`, which is not `bit<W>` or `int<W>`",
                        self.type_name(bt)
                    );
                    self.at_expr(ctx, ValidationErrorKind::Type, h, message);
                    return;
                };
                if hi < lo {
                    let message = format!("slice [{hi}:{lo}] is reversed");
                    self.at_expr(ctx, ValidationErrorKind::Slice, h, message);
                } else if *hi >= width {
                    let message = format!(
                        "slice [{hi}:{lo}] goes past the {width} bits of `{}`",
                        self.type_name(bt)
                    );
                    self.at_expr(ctx, ValidationErrorKind::Slice, h, message);
                } else if let Some(ty) = ty {
                    let expected = hi - lo + 1;
                    if self.bits(ty) != Some((expected, false)) {
                        let message = format!(
                            "slice [{hi}:{lo}] is `bit<{expected}>`, but the expression is `{}`",
                            self.type_name(ty)
                        );
                        self.at_expr(ctx, ValidationErrorKind::Type, h, message);
                    }
                }
            }
            ExprKind::DynamicSlice { base, lo, width } => {
                if let Some(bt) = et(self, *base) {
                    match self.bits(bt) {
                        None => {
                            let message = format!(
                                "a slice of a `{}`, which is not `bit<W>` or `int<W>`",
                                self.type_name(bt)
                            );
                            self.at_expr(ctx, ValidationErrorKind::Type, h, message);
                        }
                        Some((base_width, _)) if *width == 0 || *width > base_width => {
                            let message =
                                format!("a {width}-bit slice of a {base_width}-bit value");
                            self.at_expr(ctx, ValidationErrorKind::Slice, h, message);
                        }
                        Some(_) => {}
                    }
                }
                if let Some(lt) = et(self, *lo) {
                    if !matches!(self.bits(lt), Some((_, false))) {
                        let message = format!(
                            "the start of the slice is `{}`, not `bit<W>`",
                            self.type_name(lt)
                        );
                        self.at_expr(ctx, ValidationErrorKind::Type, h, message);
                    }
                }
                if let Some(ty) = ty {
                    if self.bits(ty) != Some((*width, false)) {
                        let message = format!(
                            "a {width}-bit slice is `bit<{width}>`, but the expression is `{}`",
                            self.type_name(ty)
                        );
                        self.at_expr(ctx, ValidationErrorKind::Type, h, message);
                    }
                }
            }
            ExprKind::StackMember { base, member } => {
                let Some(bt) = et(self, *base) else { return };
                let Some(Type::Stack { element, .. }) = self.ty(bt) else {
                    let message = format!(
                        "a stack member of a `{}`, which is not a stack",
                        self.type_name(bt)
                    );
                    self.at_expr(ctx, ValidationErrorKind::Type, h, message);
                    return;
                };
                match member {
                    StackMember::Next | StackMember::Last => {
                        self.expect_read_type(ctx, h, ty, self.known(*element), "the element type");
                    }
                    StackMember::LastIndex => {
                        if let Some(ty) = ty {
                            if self.bits(ty) != Some((32, false)) {
                                let message = format!(
                                    "`lastIndex` is `bit<32>`, but the expression is `{}`",
                                    self.type_name(ty)
                                );
                                self.at_expr(ctx, ValidationErrorKind::Type, h, message);
                            }
                        }
                    }
                }
            }
            ExprKind::Unary { op, operand } => {
                let ot = et(self, *operand);
                match op {
                    UnaryOp::Not => {
                        self.expect_bool(ctx, h, ot, "the operand of `!`");
                        self.expect_bool(ctx, h, ty, "the result of `!`");
                    }
                    UnaryOp::BitNot | UnaryOp::Neg => {
                        let (name, integer_ok) = if *op == UnaryOp::Neg {
                            ("-", true)
                        } else {
                            ("~", false)
                        };
                        if let Some(ot) = ot {
                            let numeric = self.bits(ot).is_some()
                                || integer_ok && matches!(self.ty(ot), Some(Type::Integer));
                            if !numeric {
                                let message =
                                    format!("`{name}` is not defined on `{}`", self.type_name(ot));
                                self.at_expr(ctx, ValidationErrorKind::Type, h, message);
                            }
                        }
                        let what = format!("the result of `{name}`");
                        self.expect_type(ctx, h, ty, ot, &what);
                    }
                }
            }
            ExprKind::Binary { op, lhs, rhs } => self.binary(ctx, h, ty, *op, *lhs, *rhs),
            ExprKind::Select {
                cond,
                then,
                otherwise,
            } => {
                self.expect_bool(ctx, h, et(self, *cond), "the condition of `?:`");
                self.expect_type(ctx, h, et(self, *then), ty, "the value when true");
                self.expect_type(ctx, h, et(self, *otherwise), ty, "the value when false");
            }
            ExprKind::Cast(_) => {}
            ExprKind::Compose(fields) => self.compose(ctx, h, ty, fields),
            ExprKind::Call { callee, args } => self.call(ctx, h, ty, callee, args),
            ExprKind::TableHit { table, hit } => {
                self.table_use(ctx, h, *table);
                let what = if *hit { "`.hit`" } else { "`.miss`" };
                self.expect_bool(ctx, h, ty, what);
            }
        }
    }

    fn binary(
        &mut self,
        ctx: &Ctx<'m>,
        h: Handle<Expr>,
        ty: Option<Handle<Type>>,
        op: BinaryOp,
        lhs: Handle<Expr>,
        rhs: Handle<Expr>,
    ) {
        let (lt, rt) = (self.ety(ctx.body, lhs), self.ety(ctx.body, rhs));
        let name = op_str(op);
        match op {
            BinaryOp::And | BinaryOp::Or => {
                self.expect_bool(ctx, h, lt, &format!("the left operand of `{name}`"));
                self.expect_bool(ctx, h, rt, &format!("the right operand of `{name}`"));
                self.expect_bool(ctx, h, ty, &format!("the result of `{name}`"));
            }
            BinaryOp::Shl | BinaryOp::Shr => {
                if let Some(lt) = lt {
                    if self.bits(lt).is_none() && !matches!(self.ty(lt), Some(Type::Integer)) {
                        let message =
                            format!("`{name}` shifts a `{}`, not a number", self.type_name(lt));
                        self.at_expr(ctx, ValidationErrorKind::Type, h, message);
                    }
                }
                if let Some(rt) = rt {
                    // An unsigned amount, or a constant that is not negative.
                    let constant = match ctx.body.exprs.get(rhs).map(|e| &e.kind) {
                        Some(ExprKind::Literal(Value::Int(v))) => Some(!v.is_negative()),
                        _ => None,
                    };
                    let ok = match self.ty(rt) {
                        Some(Type::Bits { signed: false, .. }) => true,
                        Some(Type::Bits { signed: true, .. } | Type::Integer) => {
                            constant == Some(true)
                        }
                        _ => false,
                    };
                    if !ok {
                        let message = format!(
                            "the amount of `{name}` is `{}`, neither unsigned nor a non-negative constant",
                            self.type_name(rt)
                        );
                        self.at_expr(ctx, ValidationErrorKind::Type, h, message);
                    }
                }
                self.expect_type(ctx, h, ty, lt, &format!("the result of `{name}`"));
            }
            BinaryOp::Concat => {
                let (Some(lt), Some(rt)) = (lt, rt) else {
                    return;
                };
                let (Some((lw, ls)), Some((rw, _))) = (self.bits(lt), self.bits(rt)) else {
                    let message = format!(
                        "`++` joins `bit<W>` and `int<W>` values, not `{}` and `{}`",
                        self.type_name(lt),
                        self.type_name(rt)
                    );
                    self.at_expr(ctx, ValidationErrorKind::Type, h, message);
                    return;
                };
                let Some(ty) = ty else { return };
                let expected = lw.checked_add(rw);
                let ok = match (expected, self.bits(ty)) {
                    (Some(w), Some((rw_, rs))) => w == rw_ && rs == ls,
                    _ => false,
                };
                if !ok {
                    let message = format!(
                        "`{}` ++ `{}` is {}-bit{}, but the expression is `{}`",
                        self.type_name(lt),
                        self.type_name(rt),
                        expected.map_or_else(|| "over-wide".to_string(), |w| w.to_string()),
                        if ls { " signed" } else { "" },
                        self.type_name(ty)
                    );
                    self.at_expr(ctx, ValidationErrorKind::Type, h, message);
                }
            }
            _ => {
                let comparison = matches!(
                    op,
                    BinaryOp::Eq
                        | BinaryOp::Ne
                        | BinaryOp::Lt
                        | BinaryOp::Gt
                        | BinaryOp::Le
                        | BinaryOp::Ge
                );
                if let (Some(l), Some(r)) = (lt, rt) {
                    if l != r {
                        let message = format!(
                            "the operands of `{name}` have different types: `{}` and `{}`",
                            self.type_name(l),
                            self.type_name(r)
                        );
                        self.at_expr(ctx, ValidationErrorKind::Type, h, message);
                    }
                }
                if comparison {
                    self.expect_bool(ctx, h, ty, &format!("the result of `{name}`"));
                } else {
                    self.expect_type(ctx, h, ty, lt, &format!("the result of `{name}`"));
                }
            }
        }
    }

    fn compose(
        &mut self,
        ctx: &Ctx<'m>,
        h: Handle<Expr>,
        ty: Option<Handle<Type>>,
        fields: &[Handle<Expr>],
    ) {
        let m = self.module;
        let Some(ty) = ty else { return };
        // The slot types, and how many there must be (`None`: any number, as in a list).
        let (count, slot): (Option<usize>, SlotType<'_>) = match self.ty(ty) {
            Some(Type::Composite(c)) => match m.composites.get(*c) {
                Some(c) => (
                    Some(c.fields.len()),
                    Box::new(move |i| c.fields.get(i).map(|f| f.ty)),
                ),
                None => return,
            },
            Some(Type::Tuple(items)) => {
                (Some(items.len()), Box::new(move |i| items.get(i).copied()))
            }
            Some(Type::Stack { element, size }) => {
                let element = *element;
                (Some(*size as usize), Box::new(move |_| Some(element)))
            }
            Some(Type::List(element)) => {
                let element = *element;
                (None, Box::new(move |_| Some(element)))
            }
            _ => {
                let message = format!(
                        "a composed value of type `{}`, which is not a struct, header, tuple, stack or list",
                        self.type_name(ty)
                    );
                self.at_expr(ctx, ValidationErrorKind::Type, h, message);
                return;
            }
        };
        if let Some(n) = count {
            if n != fields.len() {
                let message = format!(
                    "`{}` has {n} field(s) or element(s), but {} are given",
                    self.type_name(ty),
                    fields.len()
                );
                self.at_expr(ctx, ValidationErrorKind::Type, h, message);
                return;
            }
        }
        for (i, f) in fields.iter().enumerate() {
            let found = self.ety(ctx.body, *f);
            let expected = slot(i).and_then(|t| self.known(t));
            self.expect_type(ctx, h, found, expected, &format!("item {i}"));
        }
    }

    /// A table applied (or tested) from the body of `ctx`: it must exist and belong there.
    fn table_use(
        &mut self,
        ctx: &Ctx<'m>,
        h: Handle<Expr>,
        table: Handle<Table>,
    ) -> Option<&'m Table> {
        let m = self.module;
        let Some(t) = m.tables.get(table) else {
            let message = format!(
                "it applies table {table:?}, but the module has {}",
                m.tables.len()
            );
            self.at_expr(ctx, ValidationErrorKind::Handle, h, message);
            return None;
        };
        if ctx.control != Some(t.control) {
            let message = format!(
                "it applies table `{}`, which belongs to another control",
                t.name
            );
            self.at_expr(ctx, ValidationErrorKind::Scope, h, message);
        }
        Some(t)
    }

    /// Checks that the arguments after `skip` have the given parameter types.
    fn arg_types(
        &mut self,
        ctx: &Ctx<'m>,
        h: Handle<Expr>,
        args: &[Handle<Expr>],
        params: &[Option<Handle<Type>>],
        callee: &str,
    ) {
        for (i, (a, p)) in args.iter().zip(params).enumerate() {
            let found = self.ety(ctx.body, *a);
            let what = format!("argument {i} of `{callee}`");
            self.expect_type(ctx, h, found, *p, &what);
        }
    }

    fn arg_count(
        &mut self,
        ctx: &Ctx<'m>,
        h: Handle<Expr>,
        found: usize,
        expected: usize,
        callee: &str,
    ) -> bool {
        if found == expected {
            return true;
        }
        let message = format!("`{callee}` takes {expected} argument(s), but {found} are given");
        self.at_expr(ctx, ValidationErrorKind::Call, h, message);
        false
    }

    fn call(
        &mut self,
        ctx: &Ctx<'m>,
        h: Handle<Expr>,
        ty: Option<Handle<Type>>,
        callee: &Callee,
        args: &[Handle<Expr>],
    ) {
        let m = self.module;
        match callee {
            Callee::Action(a) => {
                let Some(action) = m.actions.get(*a) else {
                    let message = format!(
                        "it calls action {a:?}, but the module has {}",
                        m.actions.len()
                    );
                    self.at_expr(ctx, ValidationErrorKind::Handle, h, message);
                    return;
                };
                let name = self.action_name(action);
                if let Some(c) = action.control {
                    if ctx.control != Some(c) {
                        let message =
                            format!("it calls `{name}`, an action local to another control");
                        self.at_expr(ctx, ValidationErrorKind::Scope, h, message);
                    }
                }
                if let Some(params) = self.action_params(*a) {
                    if self.arg_count(ctx, h, args.len(), params.len(), &name) {
                        let types: Vec<_> = params.iter().map(|p| p.0).collect();
                        self.arg_types(ctx, h, args, &types, &name);
                    }
                }
                if let Some(ty) = ty {
                    if !self.is_void(ty) {
                        let message = format!(
                            "a call of an action is `void`, not `{}`",
                            self.type_name(ty)
                        );
                        self.at_expr(ctx, ValidationErrorKind::Type, h, message);
                    }
                }
            }
            Callee::Function(f) => {
                let Some(function) = m.functions.get(*f) else {
                    let message = format!(
                        "it calls function {f:?}, but the module has {}",
                        m.functions.len()
                    );
                    self.at_expr(ctx, ValidationErrorKind::Handle, h, message);
                    return;
                };
                if self.arg_count(ctx, h, args.len(), function.params, &function.name) {
                    let types: Vec<_> = function
                        .body
                        .locals
                        .iter()
                        .take(function.params)
                        .map(|(_, l)| self.known(l.ty))
                        .collect();
                    self.arg_types(ctx, h, args, &types, &function.name);
                }
                let what = format!("the result of `{}`", function.name);
                self.expect_type(ctx, h, ty, self.known(function.return_type), &what);
            }
            Callee::ExternFunction { name, type_args } => {
                for t in type_args {
                    if !m.types.contains(*t) {
                        let message =
                            format!("a type argument of `{name}` is {t:?}, which names no type");
                        self.at_expr(ctx, ValidationErrorKind::Handle, h, message);
                    }
                }
            }
            Callee::ExternMethod {
                def,
                method,
                type_args,
            } => {
                for t in type_args {
                    if !m.types.contains(*t) {
                        let message =
                            format!("a type argument of `{method}` is {t:?}, which names no type");
                        self.at_expr(ctx, ValidationErrorKind::Handle, h, message);
                    }
                }
                let Some(d) = m.externs.get(*def) else {
                    let message = format!(
                        "it calls a method of extern {def:?}, but the module has {}",
                        m.externs.len()
                    );
                    self.at_expr(ctx, ValidationErrorKind::Handle, h, message);
                    return;
                };
                let Some(receiver) = args.first() else {
                    let message = format!(
                        "method `{}.{method}` is called without its instance",
                        d.name
                    );
                    self.at_expr(ctx, ValidationErrorKind::Call, h, message);
                    return;
                };
                if let Some(rt) = self.ety(ctx.body, *receiver) {
                    if !matches!(self.ty(rt), Some(Type::Extern { def: d2, .. }) if d2 == def) {
                        let message = format!(
                            "method `{}.{method}` is called on a `{}`",
                            d.name,
                            self.type_name(rt)
                        );
                        self.at_expr(ctx, ValidationErrorKind::Type, h, message);
                    }
                }
            }
            Callee::Builtin(b) => {
                let name = builtin_name(*b);
                let arity = match b {
                    Builtin::IsValid | Builtin::SetValid | Builtin::SetInvalid => 1,
                    Builtin::PushFront | Builtin::PopFront => 2,
                };
                self.arg_count(ctx, h, args.len(), arity, name);
                if let Some(rt) = args.first().and_then(|r| self.ety(ctx.body, *r)) {
                    let composite = match self.ty(rt) {
                        Some(Type::Composite(c)) => m.composites.get(*c).map(|c| c.kind),
                        _ => None,
                    };
                    let ok = match b {
                        Builtin::IsValid => {
                            matches!(
                                composite,
                                Some(CompositeKind::Header | CompositeKind::HeaderUnion)
                            )
                        }
                        Builtin::SetValid | Builtin::SetInvalid => {
                            composite == Some(CompositeKind::Header)
                        }
                        Builtin::PushFront | Builtin::PopFront => {
                            matches!(self.ty(rt), Some(Type::Stack { .. }))
                        }
                    };
                    if !ok {
                        let message = format!("`{name}` is called on a `{}`", self.type_name(rt));
                        self.at_expr(ctx, ValidationErrorKind::Type, h, message);
                    }
                }
                if let Some(ty) = ty {
                    let ok = if *b == Builtin::IsValid {
                        self.is_bool(ty)
                    } else {
                        self.is_void(ty)
                    };
                    if !ok {
                        let message =
                            format!("`{name}` does not return a `{}`", self.type_name(ty));
                        self.at_expr(ctx, ValidationErrorKind::Type, h, message);
                    }
                }
            }
            Callee::TableApply(t) => {
                if let Some(table) = self.table_use(ctx, h, *t) {
                    let name = format!("{}.apply", table.name);
                    self.arg_count(ctx, h, args.len(), 0, &name);
                }
            }
            Callee::BlockApply(b) => {
                let Some(block) = m.block_types.get(*b) else {
                    let message = format!(
                        "it applies parser or control {b:?}, but the module has {}",
                        m.block_types.len()
                    );
                    self.at_expr(ctx, ValidationErrorKind::Handle, h, message);
                    return;
                };
                let name = format!("{}.apply", block.name);
                let expected = block.apply_params.saturating_add(1);
                if self.arg_count(ctx, h, args.len(), expected, &name) {
                    if let Some(rt) = args.first().and_then(|r| self.ety(ctx.body, *r)) {
                        if !matches!(self.ty(rt), Some(Type::Block(b2)) if b2 == b) {
                            let message =
                                format!("`{name}` is called on a `{}`", self.type_name(rt));
                            self.at_expr(ctx, ValidationErrorKind::Type, h, message);
                        }
                    }
                    let types: Vec<_> = block
                        .body
                        .locals
                        .iter()
                        .take(block.apply_params)
                        .map(|(_, l)| self.known(l.ty))
                        .collect();
                    self.arg_types(ctx, h, args.get(1..).unwrap_or(&[]), &types, &name);
                }
                if let Some(ty) = ty {
                    if !self.is_void(ty) {
                        let message = format!("`{name}` is `void`, not `{}`", self.type_name(ty));
                        self.at_expr(ctx, ValidationErrorKind::Type, h, message);
                    }
                }
            }
        }
    }
}

// -- Statements --------------------------------------------------------------------------------

impl<'m> Validator<'m> {
    /// The type of an expression a statement, table or transition refers to; reports a handle
    /// out of range.
    fn stmt_expr(&mut self, ctx: &Ctx<'m>, e: Handle<Expr>, what: &str) -> Option<Handle<Type>> {
        if !ctx.body.exprs.contains(e) {
            let message = format!(
                "{what} is expression {e:?}, but the body has {}",
                ctx.body.exprs.len()
            );
            self.at_item(ctx, ValidationErrorKind::Handle, message);
            return None;
        }
        self.ety(ctx.body, e)
    }

    /// True when `e` denotes a variable or a part of one.
    fn is_place(body: &Body, e: Handle<Expr>) -> bool {
        let mut current = e;
        // Each step goes to an earlier expression in a valid body; the bound stops loops in a
        // broken one.
        for _ in 0..=body.exprs.len() {
            match body.exprs.get(current).map(|x| &x.kind) {
                Some(ExprKind::Local(_)) => return true,
                Some(
                    ExprKind::Field { base, .. }
                    | ExprKind::Element { base, .. }
                    | ExprKind::Slice { base, .. }
                    | ExprKind::DynamicSlice { base, .. }
                    | ExprKind::StackMember {
                        base,
                        member: StackMember::Next | StackMember::Last,
                    },
                ) => current = *base,
                _ => return false,
            }
        }
        false
    }

    /// Checks a block of statements (without recursion: blocks may nest deeply).
    fn block(&mut self, ctx: &Ctx<'m>, block: &'m Block) {
        let m = self.module;
        let mut stack: Vec<(std::slice::Iter<'m, Stmt>, bool)> = vec![(block.stmts.iter(), false)];
        while let Some((iter, in_loop)) = stack.last_mut() {
            let in_loop = *in_loop;
            let Some(stmt) = iter.next() else {
                stack.pop();
                continue;
            };
            match stmt {
                Stmt::Assign { lhs, rhs } => {
                    let lt = self.stmt_expr(ctx, *lhs, "the target of an assignment");
                    let rt = self.stmt_expr(ctx, *rhs, "an assigned value");
                    self.expect_type(ctx, *rhs, rt, lt, "an assigned value");
                    if ctx.body.exprs.contains(*lhs) && !Self::is_place(ctx.body, *lhs) {
                        let message =
                            "the target of an assignment is not a variable or part of one"
                                .to_string();
                        self.at_expr(ctx, ValidationErrorKind::Statement, *lhs, message);
                    }
                }
                Stmt::Call(e) => {
                    self.stmt_expr(ctx, *e, "a call statement");
                    if let Some(x) = ctx.body.exprs.get(*e) {
                        if !matches!(x.kind, ExprKind::Call { .. }) {
                            let message = "a call statement's expression is not a call".to_string();
                            self.at_expr(ctx, ValidationErrorKind::Statement, *e, message);
                        }
                    }
                }
                Stmt::Declare { local, init } => {
                    let local_ty = match ctx.body.locals.get(*local) {
                        Some(l) => self.known(l.ty),
                        None => {
                            let message = format!(
                                "a declaration of local {local:?}, but the body has {}",
                                ctx.body.locals.len()
                            );
                            self.at_item(ctx, ValidationErrorKind::Handle, message);
                            None
                        }
                    };
                    if let Some(init) = init {
                        let it = self.stmt_expr(ctx, *init, "an initial value");
                        self.expect_type(ctx, *init, it, local_ty, "an initial value");
                    }
                }
                Stmt::If {
                    cond,
                    then,
                    otherwise,
                } => {
                    let ct = self.stmt_expr(ctx, *cond, "the condition of an `if`");
                    self.expect_bool(ctx, *cond, ct, "the condition of an `if`");
                    stack.push((otherwise.stmts.iter(), in_loop));
                    stack.push((then.stmts.iter(), in_loop));
                }
                Stmt::Switch {
                    selector,
                    cases,
                    default,
                } => {
                    let st = self.stmt_expr(ctx, *selector, "the value of a `switch`");
                    if let Some(st) = st {
                        for (values, _) in cases {
                            for v in values {
                                if let Err(why) = self.value_fits(v, st, 0) {
                                    let message = format!("a `switch` label: {why}");
                                    self.at_expr(
                                        ctx,
                                        ValidationErrorKind::Value,
                                        *selector,
                                        message,
                                    );
                                }
                            }
                        }
                    }
                    if let Some(d) = default {
                        stack.push((d.stmts.iter(), in_loop));
                    }
                    for (_, b) in cases.iter().rev() {
                        stack.push((b.stmts.iter(), in_loop));
                    }
                }
                Stmt::SwitchAction {
                    table,
                    cases,
                    default,
                } => {
                    match m.tables.get(*table) {
                        None => {
                            let message = format!(
                                "a `switch` applies table {table:?}, but the module has {}",
                                m.tables.len()
                            );
                            self.at_item(ctx, ValidationErrorKind::Handle, message);
                        }
                        Some(t) => {
                            if ctx.control != Some(t.control) {
                                let message = format!(
                                    "a `switch` applies table `{}`, which belongs to another control",
                                    t.name
                                );
                                self.at_item(ctx, ValidationErrorKind::Scope, message);
                            }
                            for a in cases.iter().flat_map(|(actions, _)| actions) {
                                match m.actions.get(*a) {
                                    None => {
                                        let message = format!(
                                            "a `switch` case names action {a:?}, but the module has {}",
                                            m.actions.len()
                                        );
                                        self.at_item(ctx, ValidationErrorKind::Handle, message);
                                    }
                                    Some(action) if !t.actions.iter().any(|x| x.action == *a) => {
                                        let message = format!(
                                            "a `switch` case names action `{}`, which table `{}` cannot run",
                                            self.action_name(action),
                                            t.name
                                        );
                                        self.at_item(ctx, ValidationErrorKind::Table, message);
                                    }
                                    Some(_) => {}
                                }
                            }
                        }
                    }
                    if let Some(d) = default {
                        stack.push((d.stmts.iter(), in_loop));
                    }
                    for (_, b) in cases.iter().rev() {
                        stack.push((b.stmts.iter(), in_loop));
                    }
                }
                Stmt::Block(b) => stack.push((b.stmts.iter(), in_loop)),
                Stmt::Return(value) => match (value, ctx.in_function) {
                    (Some(e), true) => {
                        let t = self.stmt_expr(ctx, *e, "a returned value");
                        self.expect_type(ctx, *e, t, ctx.return_type, "the returned value");
                    }
                    (Some(e), false) => {
                        self.stmt_expr(ctx, *e, "a returned value");
                        let message = "only a function can return a value".to_string();
                        self.at_item(ctx, ValidationErrorKind::Statement, message);
                    }
                    (None, true) => {
                        if let Some(rt) = ctx.return_type {
                            if !self.is_void(rt) {
                                let message = format!(
                                    "`return` without a value in a function returning `{}`",
                                    self.type_name(rt)
                                );
                                self.at_item(ctx, ValidationErrorKind::Statement, message);
                            }
                        }
                    }
                    (None, false) => {}
                },
                Stmt::Exit => {
                    if ctx.in_function {
                        let message = "`exit` in a function".to_string();
                        self.at_item(ctx, ValidationErrorKind::Statement, message);
                    }
                }
                Stmt::Loop { cond, body, update } => {
                    let ct = self.stmt_expr(ctx, *cond, "the condition of a loop");
                    self.expect_bool(ctx, *cond, ct, "the condition of a loop");
                    stack.push((update.stmts.iter(), in_loop));
                    stack.push((body.stmts.iter(), true));
                }
                Stmt::Break | Stmt::Continue => {
                    if !in_loop {
                        let what = if matches!(stmt, Stmt::Break) {
                            "break"
                        } else {
                            "continue"
                        };
                        self.at_item(
                            ctx,
                            ValidationErrorKind::Statement,
                            format!("`{what}` outside a loop"),
                        );
                    }
                }
            }
        }
    }
}

// -- Tables, instances, pipeline -----------------------------------------------------------------

impl<'m> Validator<'m> {
    /// Checks a keyset against its key's type.
    fn keyset(
        &mut self,
        item: &ValidationItem,
        span: Option<Span>,
        keyset: &KeysetValue,
        key_ty: Option<Handle<Type>>,
        what: &str,
    ) {
        let m = self.module;
        let values: Vec<&Value> = match keyset {
            KeysetValue::Exact(v) => vec![v],
            KeysetValue::Mask(a, b) | KeysetValue::Range(a, b) => vec![a, b],
            KeysetValue::Any => Vec::new(),
            KeysetValue::ValueSet(i) => {
                match m.instances.get(*i) {
                    None => {
                        let message = format!(
                            "{what} is value set {i:?}, but the module has {} instances",
                            m.instances.len()
                        );
                        self.report(ValidationErrorKind::Handle, item, None, span, message);
                    }
                    Some(inst) => {
                        if !matches!(self.ty(inst.ty), Some(Type::Set(_))) {
                            let message =
                                format!("{what} is `{}`, which is not a value set", inst.name);
                            self.report(ValidationErrorKind::Type, item, None, span, message);
                        }
                    }
                }
                Vec::new()
            }
        };
        if let Some(kt) = key_ty {
            for v in values {
                if let Err(why) = self.value_fits(v, kt, 0) {
                    self.report(
                        ValidationErrorKind::Value,
                        item,
                        None,
                        span,
                        format!("{what}: {why}"),
                    );
                }
            }
        }
    }

    fn tables(&mut self) {
        let m = self.module;
        for (h, t) in m.tables.iter() {
            let item = ValidationItem::Table(t.name.clone());
            let span = Some(m.tables.span(h));
            let ctx = match m.block_types.get(t.control) {
                None => {
                    let message = format!(
                        "it belongs to control {:?}, but the module has {} parsers and controls",
                        t.control,
                        m.block_types.len()
                    );
                    self.report(ValidationErrorKind::Handle, &item, None, span, message);
                    None
                }
                Some(b) => {
                    if b.kind != BlockKind::Control {
                        let message = format!("it belongs to `{}`, which is not a control", b.name);
                        self.report(ValidationErrorKind::Structure, &item, None, span, message);
                    }
                    Some(Ctx {
                        item: item.clone(),
                        span,
                        body: &b.body,
                        control: Some(t.control),
                        in_function: false,
                        return_type: None,
                    })
                }
            };
            let mut key_types = Vec::new();
            for k in &t.keys {
                let what = format!("key `{}`", k.name);
                key_types.push(
                    ctx.as_ref()
                        .and_then(|ctx| self.stmt_expr(ctx, k.expr, &what)),
                );
                if k.match_kind as usize >= m.match_kinds.len() {
                    let message = format!(
                        "key `{}` has match kind #{}, but the module declares {}",
                        k.name,
                        k.match_kind,
                        m.match_kinds.len()
                    );
                    self.report(ValidationErrorKind::Table, &item, None, span, message);
                }
            }
            for ta in &t.actions {
                let Some(action) = m.actions.get(ta.action) else {
                    let message = format!(
                        "it lists action {:?}, but the module has {}",
                        ta.action,
                        m.actions.len()
                    );
                    self.report(ValidationErrorKind::Handle, &item, None, span, message);
                    continue;
                };
                let name = self.action_name(action);
                if action.control.is_some_and(|c| c != t.control) {
                    let message = format!("it lists `{name}`, an action local to another control");
                    self.report(ValidationErrorKind::Scope, &item, None, span, message);
                }
                if let Some(params) = self.action_params(ta.action) {
                    if ta.bound_args.len() > params.len() {
                        let message = format!(
                            "it binds {} argument(s) of `{name}`, which has {} parameter(s)",
                            ta.bound_args.len(),
                            params.len()
                        );
                        self.report(ValidationErrorKind::Table, &item, None, span, message);
                    } else {
                        for (i, (v, (pt, _))) in ta.bound_args.iter().zip(&params).enumerate() {
                            if let Some(pt) = pt {
                                if let Err(why) = self.value_fits(v, *pt, 0) {
                                    let message = format!("bound argument {i} of `{name}`: {why}");
                                    self.report(
                                        ValidationErrorKind::Value,
                                        &item,
                                        None,
                                        span,
                                        message,
                                    );
                                }
                            }
                        }
                    }
                }
            }
            if let Some(call) = &t.default_action {
                self.action_call(
                    &item,
                    span,
                    t,
                    ctx.as_ref(),
                    call,
                    true,
                    "the default action",
                );
            }
            for (i, entry) in t.entries.iter().enumerate() {
                let what = format!("entry {i}");
                if entry.keys.len() != t.keys.len() {
                    let message = format!(
                        "{what} has {} keyset(s) for {} key(s)",
                        entry.keys.len(),
                        t.keys.len()
                    );
                    self.report(ValidationErrorKind::Table, &item, None, span, message);
                } else {
                    for (k, (ks, kt)) in entry.keys.iter().zip(&key_types).enumerate() {
                        let what = format!("keyset {k} of {what}");
                        self.keyset(&item, span, ks, *kt, &what);
                    }
                }
                self.action_call(&item, span, t, ctx.as_ref(), &entry.action, false, &what);
            }
            for (name, p) in &t.properties {
                let what = format!("property `{name}`");
                match p {
                    PropertyValue::Value(v) => self.untyped_value(&item, span, v, &what),
                    PropertyValue::Instance(i) => self.instance_ref(&item, span, *i, &what),
                    PropertyValue::Instances(list) => {
                        for i in list {
                            self.instance_ref(&item, span, *i, &what);
                        }
                    }
                }
            }
        }
    }

    fn instance_ref(
        &mut self,
        item: &ValidationItem,
        span: Option<Span>,
        i: Handle<super::Instance>,
        what: &str,
    ) {
        if !self.module.instances.contains(i) {
            let message = format!(
                "{what} names instance {i:?}, but the module has {}",
                self.module.instances.len()
            );
            self.report(ValidationErrorKind::Handle, item, None, span, message);
        }
    }

    /// An entry's or the default action's call: a listed action, usable there, with one
    /// fitting argument per parameter.
    #[allow(clippy::too_many_arguments)]
    fn action_call(
        &mut self,
        item: &ValidationItem,
        span: Option<Span>,
        t: &'m Table,
        ctx: Option<&Ctx<'m>>,
        call: &ActionCall,
        default: bool,
        what: &str,
    ) {
        let m = self.module;
        let Some(action) = m.actions.get(call.action) else {
            let message = format!(
                "{what} runs action {:?}, but the module has {}",
                call.action,
                m.actions.len()
            );
            self.report(ValidationErrorKind::Handle, item, None, span, message);
            return;
        };
        let name = self.action_name(action);
        match t.actions.iter().find(|a| a.action == call.action) {
            None => {
                let message = format!("{what} runs `{name}`, which is not in the table's actions");
                self.report(ValidationErrorKind::Table, item, None, span, message);
            }
            Some(listed) => {
                let misused = match listed.scope {
                    ActionScope::TableOnly if default => Some("@tableonly"),
                    ActionScope::DefaultOnly if !default => Some("@defaultonly"),
                    _ => None,
                };
                if let Some(scope) = misused {
                    let message = format!("{what} runs `{name}`, which is {scope}");
                    self.report(ValidationErrorKind::Table, item, None, span, message);
                }
            }
        }
        let Some(params) = self.action_params(call.action) else {
            return;
        };
        if call.args.len() != params.len() {
            let message = format!(
                "{what} gives {} argument(s) to `{name}`, which has {} parameter(s)",
                call.args.len(),
                params.len()
            );
            self.report(ValidationErrorKind::Table, item, None, span, message);
            return;
        }
        for (i, (arg, (pt, kind))) in call.args.iter().zip(&params).enumerate() {
            let directionless = *kind == LocalKind::Directionless;
            match arg {
                ActionArg::Value(v) if directionless => {
                    if let Some(pt) = pt {
                        if let Err(why) = self.value_fits(v, *pt, 0) {
                            let message = format!("argument {i} of `{name}` in {what}: {why}");
                            self.report(ValidationErrorKind::Value, item, None, span, message);
                        }
                    }
                }
                ActionArg::Expr(e) if !directionless => {
                    if let Some(ctx) = ctx {
                        let arg_what = format!("argument {i} of `{name}` in {what}");
                        let found = self.stmt_expr(ctx, *e, &arg_what);
                        self.expect_type(ctx, *e, found, *pt, &arg_what);
                    }
                }
                ActionArg::Value(_) => {
                    let message = format!(
                        "argument {i} of `{name}` in {what} is a value, but its parameter has a direction (it must be an expression)"
                    );
                    self.report(ValidationErrorKind::Table, item, None, span, message);
                }
                ActionArg::Expr(_) => {
                    let message = format!(
                        "argument {i} of `{name}` in {what} is an expression, but its parameter is action data (it must be a value)"
                    );
                    self.report(ValidationErrorKind::Table, item, None, span, message);
                }
            }
        }
    }

    fn instances(&mut self) {
        let m = self.module;
        for (h, inst) in m.instances.iter() {
            let item = ValidationItem::Instance(inst.name.clone());
            let span = Some(m.instances.span(h));
            if self.type_ref(&item, span, inst.ty, "it")
                && !matches!(
                    self.ty(inst.ty),
                    Some(Type::Extern { .. } | Type::Block(_) | Type::Set(_))
                )
            {
                let message = format!(
                    "an instance's type must be an extern, parser, control or value set, not `{}`",
                    self.type_name(inst.ty)
                );
                self.report(ValidationErrorKind::Type, &item, None, span, message);
            }
            if let Some(owner) = inst.owner {
                if !m.block_types.contains(owner) {
                    let message = format!(
                        "it is declared in {owner:?}, but the module has {} parsers and controls",
                        m.block_types.len()
                    );
                    self.report(ValidationErrorKind::Handle, &item, None, span, message);
                }
            }
            for (method, f) in &inst.methods {
                if !m.functions.contains(*f) {
                    let message = format!(
                        "its method `{method}` is function {f:?}, but the module has {}",
                        m.functions.len()
                    );
                    self.report(ValidationErrorKind::Handle, &item, None, span, message);
                }
            }
            for (i, arg) in inst.args.iter().enumerate() {
                match arg {
                    crate::ir::InstanceArg::Value(v) => {
                        self.untyped_value(&item, span, v, &format!("constructor argument {i}"));
                    }
                    crate::ir::InstanceArg::Expr(e) => {
                        // Computed per instance of the owner: it must be in the owner's body.
                        let in_owner = inst
                            .owner
                            .and_then(|o| m.block_types.get(o))
                            .is_some_and(|b| b.body.exprs.contains(*e));
                        if !in_owner {
                            let message = format!("constructor argument {i} is expression {e:?}, which is not in its owner's body");
                            self.report(
                                ValidationErrorKind::Handle,
                                &item,
                                Some(*e),
                                span,
                                message,
                            );
                        }
                    }
                }
            }
        }
    }

    fn pipeline(&mut self) {
        let m = self.module;
        let Some(p) = &m.pipeline else { return };
        for (role, b) in &p.blocks {
            match m.block_types.get(*b) {
                None => {
                    let message = format!(
                        "role {role:?} is played by {b:?}, but the module has {} parsers and controls",
                        m.block_types.len()
                    );
                    self.report(
                        ValidationErrorKind::Handle,
                        &ValidationItem::Pipeline,
                        None,
                        None,
                        message,
                    );
                }
                Some(block) => {
                    let expected = if *role == Role::MainParser {
                        BlockKind::Parser
                    } else {
                        BlockKind::Control
                    };
                    if block.kind != expected {
                        let message = format!(
                            "role {role:?} is played by `{}`, which is a {}",
                            block.name,
                            if block.kind == BlockKind::Parser {
                                "parser"
                            } else {
                                "control"
                            }
                        );
                        let span = Some(m.block_types.span(*b));
                        self.report(
                            ValidationErrorKind::Structure,
                            &ValidationItem::Pipeline,
                            None,
                            span,
                            message,
                        );
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arena::Arena;
    use crate::ir::{
        Action, BlockType, Composite, Field, Function, Local, ParserState, Pipeline, SelectCase,
        TableAction, TableEntry, TableKey,
    };

    /// A handle with the given index, made in a throwaway arena: out of range of small ones.
    fn dangling<T>(make: impl Fn() -> T, index: usize) -> Handle<T> {
        let mut arena = Arena::new();
        let mut last = arena.append(make(), Span::default());
        for _ in 0..index {
            last = arena.append(make(), Span::default());
        }
        last
    }

    fn int(v: i64) -> Value {
        Value::Int(BigInt::from(v))
    }

    fn expr(body: &mut Body, kind: ExprKind, ty: Handle<Type>) -> Handle<Expr> {
        body.exprs.append(Expr { kind, ty }, Span::default())
    }

    fn local(body: &mut Body, name: &str, ty: Handle<Type>, kind: LocalKind) -> Handle<Local> {
        body.locals.append(
            Local {
                name: name.into(),
                ty,
                kind,
                annotations: Vec::new(),
            },
            Span::default(),
        )
    }

    fn action(name: &str, control: Option<Handle<BlockType>>, body: Body) -> Action {
        Action {
            name: name.into(),
            control,
            body,
            params: Vec::new(),
            annotations: Vec::new(),
        }
    }

    /// A small valid program, and handles to the parts the tests break.
    struct Fixture {
        module: Module,
        bit4: Handle<Type>,
        bit8: Handle<Type>,
        parser: Handle<BlockType>,
        control: Handle<BlockType>,
        function: Handle<Function>,
        table: Handle<Table>,
        set_a: Handle<Action>,
        noop: Handle<Action>,
        /// `hdr.h` in the control (a header).
        hdr_h: Handle<Expr>,
        /// `hdr.h.a` in the control.
        hdr_h_a: Handle<Expr>,
        /// `4w3`
        literal: Handle<Expr>,
        /// `hdr.h.a ++ 4w3`
        concat: Handle<Expr>,
        /// `(hdr.h.a ++ 4w3)[11:4]`
        slice: Handle<Expr>,
        /// `slice + v`
        sum: Handle<Expr>,
        /// `x`
        x: Handle<Expr>,
    }

    /// ```p4
    /// header h_t { bit<8> a; bit<16> b; }
    /// struct headers_t { h_t h; }
    /// parser P(inout headers_t hdr) {
    ///     state start { transition select(hdr.h.a) { 1: next; default: accept; } }
    ///     state next { transition accept; }
    /// }
    /// action noop() {}
    /// bit<8> f(in bit<8> a) { return a + 1; }
    /// control C(inout headers_t hdr) {
    ///     bit<8> x = hdr.h.a;
    ///     action set_a(bit<8> v) { hdr.h.a = (hdr.h.a ++ 4w3)[11:4] + v; }
    ///     table t { key = { hdr.h.a: exact; } actions = { set_a; noop; }
    ///               default_action = noop(); entries = { 5: set_a(7); } }
    ///     apply { t.apply(); if (t.apply().hit && x == hdr.h.a && hdr.h.isValid()) { x = f(x); } }
    /// }
    /// ```
    fn fixture() -> Fixture {
        let mut m = Module {
            errors: vec!["NoError".into()],
            match_kinds: vec!["exact".into(), "lpm".into()],
            ..Module::default()
        };
        let bool_ty = m.types.insert(Type::Bool);
        let void = m.types.insert(Type::Void);
        let bits = |m: &mut Module, width| {
            m.types.insert(Type::Bits {
                width,
                signed: false,
            })
        };
        let bit4 = bits(&mut m, 4);
        let bit8 = bits(&mut m, 8);
        let bit12 = bits(&mut m, 12);
        let bit16 = bits(&mut m, 16);
        let field = |name: &str, ty| Field {
            name: name.into(),
            ty,
            annotations: Vec::new(),
        };
        let h_t = m.composites.insert(Composite {
            kind: CompositeKind::Header,
            name: "h_t".into(),
            fields: vec![field("a", bit8), field("b", bit16)],
        });
        let h_ty = m.types.insert(Type::Composite(h_t));
        let headers_t = m.composites.insert(Composite {
            kind: CompositeKind::Struct,
            name: "headers_t".into(),
            fields: vec![field("h", h_ty)],
        });
        let headers_ty = m.types.insert(Type::Composite(headers_t));

        // The parser.
        let mut body = Body::default();
        let hdr = local(&mut body, "hdr", headers_ty, LocalKind::InOut);
        let p0 = expr(&mut body, ExprKind::Local(hdr), headers_ty);
        let p1 = expr(&mut body, ExprKind::Field { base: p0, index: 0 }, h_ty);
        let p2 = expr(&mut body, ExprKind::Field { base: p1, index: 0 }, bit8);
        let states = vec![
            ParserState {
                name: "start".into(),
                block: Block::default(),
                transition: Transition::Select {
                    keys: vec![p2],
                    cases: vec![
                        SelectCase {
                            keysets: vec![KeysetValue::Exact(int(1))],
                            target: Box::new(Transition::State(1)),
                        },
                        SelectCase {
                            keysets: vec![KeysetValue::Any],
                            target: Box::new(Transition::Accept),
                        },
                    ],
                },
            },
            ParserState {
                name: "next".into(),
                block: Block::default(),
                transition: Transition::Accept,
            },
        ];
        let parser = m.block_types.append(
            BlockType {
                name: "P".into(),
                kind: BlockKind::Parser,
                apply_params: 1,
                ctor_params: 0,
                body,
                states,
                annotations: Vec::new(),
            },
            Span::default(),
        );

        // A top-level action and a function.
        let noop = m
            .actions
            .append(action("noop", None, Body::default()), Span::default());
        let mut body = Body::default();
        let a = local(&mut body, "a", bit8, LocalKind::In);
        let f0 = expr(&mut body, ExprKind::Local(a), bit8);
        let f1 = expr(&mut body, ExprKind::Literal(int(1)), bit8);
        let f2 = expr(
            &mut body,
            ExprKind::Binary {
                op: BinaryOp::Add,
                lhs: f0,
                rhs: f1,
            },
            bit8,
        );
        body.block.stmts.push(Stmt::Return(Some(f2)));
        let function = m.functions.append(
            Function {
                name: "f".into(),
                return_type: bit8,
                body,
                params: 1,
            },
            Span::default(),
        );

        // The control.
        let control = m.block_types.append(
            BlockType {
                name: "C".into(),
                kind: BlockKind::Control,
                apply_params: 1,
                ctor_params: 0,
                body: Body::default(),
                states: Vec::new(),
                annotations: Vec::new(),
            },
            Span::default(),
        );
        let mut body = Body::default();
        let hdr = local(&mut body, "hdr", headers_ty, LocalKind::InOut);
        let x_local = local(&mut body, "x", bit8, LocalKind::Var);
        let v = local(&mut body, "v", bit8, LocalKind::Directionless);
        let c0 = expr(&mut body, ExprKind::Local(hdr), headers_ty);
        let hdr_h = expr(&mut body, ExprKind::Field { base: c0, index: 0 }, h_ty);
        let hdr_h_a = expr(
            &mut body,
            ExprKind::Field {
                base: hdr_h,
                index: 0,
            },
            bit8,
        );
        let v_expr = expr(&mut body, ExprKind::Local(v), bit8);
        let literal = expr(&mut body, ExprKind::Literal(int(3)), bit4);
        let concat = expr(
            &mut body,
            ExprKind::Binary {
                op: BinaryOp::Concat,
                lhs: hdr_h_a,
                rhs: literal,
            },
            bit12,
        );
        let slice = expr(
            &mut body,
            ExprKind::Slice {
                base: concat,
                hi: 11,
                lo: 4,
            },
            bit8,
        );
        let sum = expr(
            &mut body,
            ExprKind::Binary {
                op: BinaryOp::Add,
                lhs: slice,
                rhs: v_expr,
            },
            bit8,
        );
        let x = expr(&mut body, ExprKind::Local(x_local), bit8);
        let mut set_a_action = action("set_a", Some(control), Body::default());
        set_a_action.params = vec![v];
        set_a_action.body.block.stmts.push(Stmt::Assign {
            lhs: hdr_h_a,
            rhs: sum,
        });
        let set_a = m.actions.append(set_a_action, Span::default());
        let table = m.tables.append(
            Table {
                name: "t".into(),
                control,
                keys: vec![TableKey {
                    name: "hdr.h.a".into(),
                    expr: hdr_h_a,
                    match_kind: 0,
                    annotations: Vec::new(),
                }],
                actions: [set_a, noop]
                    .map(|action| TableAction {
                        action,
                        scope: ActionScope::TableAndDefault,
                        bound_args: Vec::new(),
                        annotations: Vec::new(),
                    })
                    .to_vec(),
                default_action: Some(ActionCall {
                    action: noop,
                    args: Vec::new(),
                }),
                default_action_const: false,
                size: None,
                entries: vec![TableEntry {
                    keys: vec![KeysetValue::Exact(int(5))],
                    action: ActionCall {
                        action: set_a,
                        args: vec![ActionArg::Value(int(7))],
                    },
                    priority: None,
                    is_const: true,
                }],
                entries_const: true,
                properties: Vec::new(),
                annotations: Vec::new(),
            },
            Span::default(),
        );
        let apply = expr(
            &mut body,
            ExprKind::Call {
                callee: Callee::TableApply(table),
                args: Vec::new(),
            },
            void,
        );
        let hit = expr(&mut body, ExprKind::TableHit { table, hit: true }, bool_ty);
        let eq = expr(
            &mut body,
            ExprKind::Binary {
                op: BinaryOp::Eq,
                lhs: x,
                rhs: hdr_h_a,
            },
            bool_ty,
        );
        let and = expr(
            &mut body,
            ExprKind::Binary {
                op: BinaryOp::And,
                lhs: hit,
                rhs: eq,
            },
            bool_ty,
        );
        let valid = expr(
            &mut body,
            ExprKind::Call {
                callee: Callee::Builtin(Builtin::IsValid),
                args: vec![hdr_h],
            },
            bool_ty,
        );
        let cond = expr(
            &mut body,
            ExprKind::Binary {
                op: BinaryOp::And,
                lhs: and,
                rhs: valid,
            },
            bool_ty,
        );
        let call_f = expr(
            &mut body,
            ExprKind::Call {
                callee: Callee::Function(function),
                args: vec![x],
            },
            bit8,
        );
        body.block.stmts = vec![
            Stmt::Declare {
                local: x_local,
                init: Some(hdr_h_a),
            },
            Stmt::Call(apply),
            Stmt::If {
                cond,
                then: Block {
                    stmts: vec![Stmt::Assign {
                        lhs: x,
                        rhs: call_f,
                    }],
                },
                otherwise: Block::default(),
            },
        ];
        if let Some(c) = m.block_types.get_mut(control) {
            c.body = body;
        }
        m.pipeline = Some(Pipeline {
            package: "PNA_NIC".into(),
            name: "main".into(),
            blocks: vec![(Role::MainParser, parser), (Role::MainControl, control)],
        });
        Fixture {
            module: m,
            bit4,
            bit8,
            parser,
            control,
            function,
            table,
            set_a,
            noop,
            hdr_h,
            hdr_h_a,
            literal,
            concat,
            slice,
            sum,
            x,
        }
    }

    fn control_body(f: &mut Fixture) -> &mut Body {
        &mut f.module.block_types[f.control].body
    }

    fn errors(module: &Module) -> Vec<ValidationError> {
        validate(module).err().unwrap_or_default()
    }

    /// Asserts that validation fails with an error of `kind` whose message contains `text`.
    #[track_caller]
    fn assert_caught(module: &Module, kind: ValidationErrorKind, text: &str) -> ValidationError {
        let errors = errors(module);
        match errors
            .iter()
            .find(|e| e.kind == kind && e.message.contains(text))
        {
            Some(e) => e.clone(),
            None => panic!(
                "expected a {kind:?} error mentioning {text:?}, got:\n{}",
                errors
                    .iter()
                    .map(|e| format!("  [{:?}] {e}\n", e.kind))
                    .collect::<String>()
            ),
        }
    }

    #[test]
    fn a_valid_module_passes() {
        let f = fixture();
        let errors = errors(&f.module);
        assert!(
            errors.is_empty(),
            "{}",
            errors.iter().map(|e| format!("{e}\n")).collect::<String>()
        );
        assert!(validate(&Module::default()).is_ok());
    }

    #[test]
    fn out_of_range_handles_are_caught() {
        let mut f = fixture();
        // An operand, a local, a type, a table key, an action in a table and a pipeline block.
        let far_expr = dangling(
            || Expr {
                kind: ExprKind::Literal(Value::Bool(true)),
                ty: f.bit8,
            },
            99,
        );
        let far_type = dangling(|| Type::Bool, 99);
        let sum = f.sum;
        if let ExprKind::Binary { rhs, .. } = &mut control_body(&mut f).exprs[sum].kind {
            *rhs = far_expr;
        }
        let x = f.x;
        control_body(&mut f).exprs[x].ty = far_type;
        f.module.tables[f.table].keys[0].expr = far_expr;
        f.module.tables[f.table].actions[1].action =
            dangling(|| action("a", None, Body::default()), 50);
        if let Some(p) = &mut f.module.pipeline {
            p.blocks[0].1 = dangling(
                || BlockType {
                    name: String::new(),
                    kind: BlockKind::Parser,
                    apply_params: 0,
                    ctor_params: 0,
                    body: Body::default(),
                    states: Vec::new(),
                    annotations: Vec::new(),
                },
                7,
            );
        }
        let e = assert_caught(&f.module, ValidationErrorKind::Handle, "operand Expr#99");
        assert_eq!(
            e.item,
            ValidationItem::Block(BlockKind::Control, "C".into())
        );
        assert_eq!(e.expr, Some(sum));
        assert!(e.span.is_some());
        assert_caught(&f.module, ValidationErrorKind::Handle, "Type#99");
        let e = assert_caught(&f.module, ValidationErrorKind::Handle, "key `hdr.h.a`");
        assert_eq!(e.item, ValidationItem::Table("t".into()));
        assert_caught(&f.module, ValidationErrorKind::Handle, "Action#50");
        let e = assert_caught(&f.module, ValidationErrorKind::Handle, "BlockType#7");
        assert_eq!(e.item, ValidationItem::Pipeline);
        // Every violation is reported, not only the first.
        assert!(errors(&f.module).len() >= 5);
    }

    #[test]
    fn control_local_action_params_index_the_controls_body() {
        let mut f = fixture();
        // Parameter `v` is local 2 of the control; the action's own body has no locals.
        f.module.actions[f.set_a].params = vec![dangling(
            || Local {
                name: String::new(),
                ty: f.bit8,
                kind: LocalKind::In,
                annotations: Vec::new(),
            },
            3,
        )];
        let e = assert_caught(
            &f.module,
            ValidationErrorKind::Handle,
            "parameter 0 is local Local#3",
        );
        assert_eq!(e.item, ValidationItem::Action("C.set_a".into()));
        // A top-level action's statements index its own (empty) body.
        let mut f = fixture();
        let x = f.x;
        f.module.actions[f.noop]
            .body
            .block
            .stmts
            .push(Stmt::Call(x));
        assert_caught(
            &f.module,
            ValidationErrorKind::Handle,
            "a call statement is expression",
        );
    }

    #[test]
    fn an_operand_after_its_user_is_caught() {
        let mut f = fixture();
        let (sum, x) = (f.sum, f.x);
        if let ExprKind::Binary { rhs, .. } = &mut control_body(&mut f).exprs[sum].kind {
            *rhs = x;
        }
        let e = assert_caught(&f.module, ValidationErrorKind::Order, "comes after");
        assert_eq!(e.expr, Some(sum));
        // An expression that is its own operand.
        let mut f = fixture();
        let slice = f.slice;
        if let ExprKind::Slice { base, .. } = &mut control_body(&mut f).exprs[slice].kind {
            *base = slice;
        }
        assert_caught(&f.module, ValidationErrorKind::Order, "its own operand");
    }

    #[test]
    fn mismatched_binary_operands_are_caught() {
        let mut f = fixture();
        let (sum, literal) = (f.sum, f.literal);
        if let ExprKind::Binary { rhs, .. } = &mut control_body(&mut f).exprs[sum].kind {
            *rhs = literal;
        }
        let e = assert_caught(
            &f.module,
            ValidationErrorKind::Type,
            "`bit<8>` and `bit<4>`",
        );
        assert_eq!(e.expr, Some(sum));
        // A comparison must be `bool`.
        let mut f = fixture();
        let bit8 = f.bit8;
        let eq = control_body(&mut f)
            .exprs
            .iter()
            .find(|(_, e)| {
                matches!(
                    e.kind,
                    ExprKind::Binary {
                        op: BinaryOp::Eq,
                        ..
                    }
                )
            })
            .map(|(h, _)| h);
        if let Some(eq) = eq {
            control_body(&mut f).exprs[eq].ty = bit8;
        }
        assert_caught(&f.module, ValidationErrorKind::Type, "the result of `==`");
        // `++` is as wide as both operands together.
        let mut f = fixture();
        let (concat, bit8) = (f.concat, f.bit8);
        control_body(&mut f).exprs[concat].ty = bit8;
        assert_caught(&f.module, ValidationErrorKind::Type, "is 12-bit");
    }

    #[test]
    fn a_slice_out_of_range_is_caught() {
        let mut f = fixture();
        let slice = f.slice;
        if let ExprKind::Slice { hi, .. } = &mut control_body(&mut f).exprs[slice].kind {
            *hi = 12;
        }
        assert_caught(
            &f.module,
            ValidationErrorKind::Slice,
            "goes past the 12 bits",
        );
        let mut f = fixture();
        if let ExprKind::Slice { hi, lo, .. } = &mut control_body(&mut f).exprs[slice].kind {
            (*hi, *lo) = (2, 5);
        }
        assert_caught(&f.module, ValidationErrorKind::Slice, "reversed");
        // The result's width follows the bounds.
        let mut f = fixture();
        let bit4 = f.bit4;
        control_body(&mut f).exprs[slice].ty = bit4;
        assert_caught(&f.module, ValidationErrorKind::Type, "is `bit<8>`");
    }

    #[test]
    fn a_field_index_out_of_range_is_caught() {
        let mut f = fixture();
        let hdr_h_a = f.hdr_h_a;
        if let ExprKind::Field { index, .. } = &mut control_body(&mut f).exprs[hdr_h_a].kind {
            *index = 2;
        }
        let e = assert_caught(
            &f.module,
            ValidationErrorKind::Field,
            "field 2 of `h_t`, which has 2",
        );
        assert_eq!(e.expr, Some(hdr_h_a));
        // The right index with the wrong type.
        let mut f = fixture();
        if let ExprKind::Field { index, .. } = &mut control_body(&mut f).exprs[hdr_h_a].kind {
            *index = 1;
        }
        assert_caught(
            &f.module,
            ValidationErrorKind::Type,
            "field 1 of `h_t` is `bit<16>`, but the expression is `bit<8>`",
        );
    }

    #[test]
    fn table_violations_are_caught() {
        // An entry naming an action that is not in the table.
        let mut f = fixture();
        let other = f
            .module
            .actions
            .append(action("other", None, Body::default()), Span::default());
        f.module.tables[f.table].entries[0].action = ActionCall {
            action: other,
            args: Vec::new(),
        };
        let e = assert_caught(
            &f.module,
            ValidationErrorKind::Table,
            "runs `other`, which is not in the table's actions",
        );
        assert_eq!(e.item, ValidationItem::Table("t".into()));
        // Wrong argument count, keyset count and match kind; a value that does not fit.
        let mut f = fixture();
        let t = &mut f.module.tables[f.table];
        t.default_action = Some(ActionCall {
            action: f.set_a,
            args: Vec::new(),
        });
        t.entries[0].keys.push(KeysetValue::Any);
        t.keys[0].match_kind = 9;
        t.entries.push(TableEntry {
            keys: vec![KeysetValue::Exact(int(256))],
            action: ActionCall {
                action: f.set_a,
                args: vec![ActionArg::Value(int(-1))],
            },
            priority: None,
            is_const: true,
        });
        assert_caught(
            &f.module,
            ValidationErrorKind::Table,
            "gives 0 argument(s) to `C.set_a`, which has 1",
        );
        assert_caught(
            &f.module,
            ValidationErrorKind::Table,
            "2 keyset(s) for 1 key(s)",
        );
        assert_caught(&f.module, ValidationErrorKind::Table, "match kind #9");
        assert_caught(
            &f.module,
            ValidationErrorKind::Value,
            "256 does not fit in `bit<8>`",
        );
        assert_caught(
            &f.module,
            ValidationErrorKind::Value,
            "-1 does not fit in `bit<8>`",
        );
        // `@tableonly` actions cannot be the default.
        let mut f = fixture();
        f.module.tables[f.table].actions[1].scope = ActionScope::TableOnly;
        assert_caught(&f.module, ValidationErrorKind::Table, "@tableonly");
        // Action data must be a value, not an expression.
        let mut f = fixture();
        f.module.tables[f.table].entries[0].action.args = vec![ActionArg::Expr(f.x)];
        assert_caught(
            &f.module,
            ValidationErrorKind::Table,
            "is an expression, but its parameter is action data",
        );
    }

    #[test]
    fn a_transition_to_a_missing_state_is_caught() {
        let mut f = fixture();
        f.module.block_types[f.parser].states[1].transition = Transition::State(5);
        let e = assert_caught(
            &f.module,
            ValidationErrorKind::Parser,
            "goes to state #5, but the parser has 2",
        );
        assert_eq!(e.item, ValidationItem::Block(BlockKind::Parser, "P".into()));
        // A select case with the wrong number of keysets, and a keyset value that does not fit.
        let mut f = fixture();
        if let Transition::Select { cases, .. } =
            &mut f.module.block_types[f.parser].states[0].transition
        {
            cases[0].keysets = vec![KeysetValue::Exact(int(300))];
            cases[1].keysets.push(KeysetValue::Any);
        }
        assert_caught(
            &f.module,
            ValidationErrorKind::Parser,
            "2 keyset(s) for 1 key(s)",
        );
        assert_caught(&f.module, ValidationErrorKind::Value, "300 does not fit");
    }

    #[test]
    fn a_literal_that_does_not_fit_is_caught() {
        let mut f = fixture();
        let literal = f.literal;
        control_body(&mut f).exprs[literal].kind = ExprKind::Literal(int(16));
        let e = assert_caught(
            &f.module,
            ValidationErrorKind::Value,
            "16 does not fit in `bit<4>`",
        );
        assert_eq!(e.expr, Some(literal));
        let mut f = fixture();
        control_body(&mut f).exprs[literal].kind = ExprKind::Literal(Value::Bool(true));
        assert_caught(
            &f.module,
            ValidationErrorKind::Value,
            "`true` is not a value of type `bit<4>`",
        );
        let mut f = fixture();
        control_body(&mut f).exprs[literal].kind = ExprKind::Literal(Value::Error(3));
        assert_caught(&f.module, ValidationErrorKind::Value, "error #3");
    }

    #[test]
    fn integer_ranges() {
        let fits = |v: i64, w, s| int_fits(&BigInt::from(v), w, s);
        assert!(fits(15, 4, false) && !fits(16, 4, false) && !fits(-1, 4, false));
        assert!(fits(7, 4, true) && !fits(8, 4, true));
        assert!(fits(-8, 4, true) && !fits(-9, 4, true));
        assert!(fits(0, 0, false) && !fits(1, 0, false) && fits(0, 0, true));
        assert!(fits(-1, 1, true) && !fits(1, 1, true));
        assert!(fits(i64::MAX, 64, false) && fits(i64::MIN, 64, true) && !fits(i64::MIN, 63, true));
        assert!(int_fits(&BigInt::from(u64::MAX), u32::MAX, false));
    }

    #[test]
    fn call_and_statement_violations_are_caught() {
        // A function called with two arguments for one parameter.
        let mut f = fixture();
        let x = f.x;
        let call = control_body(&mut f)
            .exprs
            .iter()
            .find(|(_, e)| {
                matches!(
                    e.kind,
                    ExprKind::Call {
                        callee: Callee::Function(_),
                        ..
                    }
                )
            })
            .map(|(h, _)| h);
        if let Some(call) = call {
            if let ExprKind::Call { args, .. } = &mut control_body(&mut f).exprs[call].kind {
                args.push(x);
            }
        }
        assert_caught(
            &f.module,
            ValidationErrorKind::Call,
            "`f` takes 1 argument(s), but 2 are given",
        );
        // `break` outside a loop, and an `if` on a `bit<8>`.
        let mut f = fixture();
        let x = f.x;
        control_body(&mut f).block.stmts.push(Stmt::Break);
        control_body(&mut f).block.stmts.push(Stmt::If {
            cond: x,
            then: Block::default(),
            otherwise: Block::default(),
        });
        assert_caught(
            &f.module,
            ValidationErrorKind::Statement,
            "`break` outside a loop",
        );
        assert_caught(
            &f.module,
            ValidationErrorKind::Type,
            "the condition of an `if` is `bit<8>`",
        );
        // Assigning a `bit<4>` to a `bit<8>`; assigning to a literal.
        let mut f = fixture();
        let (literal, x) = (f.literal, f.x);
        control_body(&mut f).block.stmts.push(Stmt::Assign {
            lhs: x,
            rhs: literal,
        });
        control_body(&mut f).block.stmts.push(Stmt::Assign {
            lhs: literal,
            rhs: literal,
        });
        assert_caught(
            &f.module,
            ValidationErrorKind::Type,
            "an assigned value is `bit<4>`, but must be `bit<8>`",
        );
        assert_caught(&f.module, ValidationErrorKind::Statement, "not a variable");
        // A function returning the wrong type.
        let mut f = fixture();
        let bit4 = f.bit4;
        f.module.functions[f.function].return_type = bit4;
        let e = assert_caught(
            &f.module,
            ValidationErrorKind::Type,
            "the returned value is `bit<8>`",
        );
        assert_eq!(e.item, ValidationItem::Function("f".into()));
        // A table applied from a function, and a control-local action called from a function.
        let mut f = fixture();
        let (table, set_a, void) = (f.table, f.set_a, f.module.types.insert(Type::Void));
        let body = &mut f.module.functions[f.function].body;
        let apply = expr(
            body,
            ExprKind::Call {
                callee: Callee::TableApply(table),
                args: Vec::new(),
            },
            void,
        );
        let a = body.locals.iter().next().map(|(h, _)| h);
        let arg = a.map(|a| expr(body, ExprKind::Local(a), f.bit8));
        let call = expr(
            body,
            ExprKind::Call {
                callee: Callee::Action(set_a),
                args: arg.into_iter().collect(),
            },
            void,
        );
        body.block.stmts.push(Stmt::Call(apply));
        body.block.stmts.push(Stmt::Call(call));
        assert_caught(
            &f.module,
            ValidationErrorKind::Scope,
            "table `t`, which belongs to another control",
        );
        assert_caught(
            &f.module,
            ValidationErrorKind::Scope,
            "`C.set_a`, an action local to another control",
        );
    }

    #[test]
    fn builtins_and_element_bases_are_checked() {
        let mut f = fixture();
        let (hdr_h, hdr_h_a, bit8) = (f.hdr_h, f.hdr_h_a, f.bit8);
        // `hdr.h.a.isValid()` and `hdr.h[hdr.h.a]`.
        let bool_ty = f.module.types.find(&Type::Bool).unwrap_or(bit8);
        let body = &mut f.module.block_types[f.control].body;
        expr(
            body,
            ExprKind::Call {
                callee: Callee::Builtin(Builtin::IsValid),
                args: vec![hdr_h_a],
            },
            bool_ty,
        );
        expr(
            body,
            ExprKind::Element {
                base: hdr_h,
                index: hdr_h_a,
            },
            bit8,
        );
        assert_caught(
            &f.module,
            ValidationErrorKind::Type,
            "`isValid` is called on a `bit<8>`",
        );
        assert_caught(&f.module, ValidationErrorKind::Type, "not a stack or list");
    }

    #[test]
    fn broken_types_never_loop_or_panic() {
        let mut m = Module::default();
        // Type 0 is `type T0 T0` and type 1 is `tuple<T1>`: both contain themselves.
        let t0 = dangling(|| Type::Bool, 0);
        let t1 = dangling(|| Type::Bool, 1);
        m.types.insert(Type::NewType {
            name: "T0".into(),
            underlying: t0,
        });
        m.types.insert(Type::Tuple(vec![t1]));
        m.types.insert(Type::Stack {
            element: dangling(|| Type::Bool, 40),
            size: 4,
        });
        m.types.insert(Type::Bits {
            width: u32::MAX,
            signed: true,
        });
        let mut body = Body::default();
        expr(&mut body, ExprKind::Literal(int(1)), t0);
        expr(
            &mut body,
            ExprKind::Literal(Value::Tuple(vec![Value::Tuple(vec![])])),
            t1,
        );
        let huge = m.types.insert(Type::Bits {
            width: u32::MAX,
            signed: false,
        });
        let s = expr(&mut body, ExprKind::Literal(int(1)), huge);
        let c = expr(
            &mut body,
            ExprKind::Binary {
                op: BinaryOp::Concat,
                lhs: s,
                rhs: s,
            },
            huge,
        );
        expr(
            &mut body,
            ExprKind::Slice {
                base: c,
                hi: u32::MAX,
                lo: 0,
            },
            huge,
        );
        expr(
            &mut body,
            ExprKind::DynamicSlice {
                base: c,
                lo: c,
                width: u32::MAX,
            },
            huge,
        );
        body.block.stmts.push(Stmt::Return(Some(dangling(
            || Expr {
                kind: ExprKind::Literal(Value::Bool(true)),
                ty: t0,
            },
            77,
        ))));
        m.functions.append(
            Function {
                name: "g".into(),
                return_type: t1,
                body,
                params: 5,
            },
            Span::default(),
        );
        let errors = errors(&m);
        let kinds: Vec<_> = errors.iter().map(|e| e.kind).collect();
        assert!(kinds.contains(&ValidationErrorKind::Order), "{kinds:?}");
        assert!(kinds.contains(&ValidationErrorKind::Handle), "{kinds:?}");
        assert!(kinds.contains(&ValidationErrorKind::Structure), "{kinds:?}");
        assert!(kinds.contains(&ValidationErrorKind::Type), "{kinds:?}");
        for e in &errors {
            assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn a_run_time_int_is_caught() {
        // `(x == hdr.h.a) ? 1 : 2` left as an `int`: only literals (and constructor
        // parameters) may be `int`.
        let mut f = fixture();
        let integer = f.module.types.insert(Type::Integer);
        let bool_ty = f.module.types.insert(Type::Bool);
        let (x, hdr_h_a) = (f.x, f.hdr_h_a);
        let body = control_body(&mut f);
        let cond = expr(
            body,
            ExprKind::Binary {
                op: BinaryOp::Eq,
                lhs: x,
                rhs: hdr_h_a,
            },
            bool_ty,
        );
        let one = expr(body, ExprKind::Literal(int(1)), integer);
        let two = expr(body, ExprKind::Literal(int(2)), integer);
        let select = expr(
            body,
            ExprKind::Select {
                cond,
                then: one,
                otherwise: two,
            },
            integer,
        );
        let e = assert_caught(
            &f.module,
            ValidationErrorKind::Type,
            "`int` computed at run time",
        );
        assert_eq!(e.expr, Some(select));
        assert_eq!(errors(&f.module).len(), 1);
    }

    #[test]
    fn errors_name_their_place() {
        let mut f = fixture();
        let literal = f.literal;
        control_body(&mut f).exprs[literal].kind = ExprKind::Literal(int(99));
        let e = assert_caught(&f.module, ValidationErrorKind::Value, "99");
        assert_eq!(
            e.to_string(),
            format!("control `C`, expression {literal:?}: literal: 99 does not fit in `bit<4>`")
        );
    }
}
