//! Type expressions to IR types, type names for messages, and the rules for when a value of
//! one type may stand where another is expected.

use std::collections::HashMap;

use num_traits::ToPrimitive;
use p4tc_ir::arena::Handle;
use p4tc_ir::ir::{Composite, CompositeKind, Field, Type, Value};

use super::{Lowerer, Symbol};
use crate::ast;

/// The widest `bit<W>` we accept; P4 sets no limit, but a table key cannot exceed 512 bits and
/// nothing useful is wider than this.
pub(super) const MAX_WIDTH: u32 = 1 << 16;

impl<'a> Lowerer<'a, '_> {
    /// The IR type `ty` denotes, or `None` after reporting why it denotes none.
    pub(super) fn resolve_type(&mut self, ty: &'a ast::Type) -> Option<Handle<Type>> {
        let resolved = match &ty.kind {
            ast::TypeKind::Bool => Type::Bool,
            ast::TypeKind::Error => Type::Error,
            ast::TypeKind::MatchKind => Type::MatchKind,
            ast::TypeKind::String => Type::String,
            ast::TypeKind::Integer => Type::Integer,
            ast::TypeKind::Void => Type::Void,
            ast::TypeKind::Bit => Type::Bits {
                width: 1,
                signed: false,
            },
            ast::TypeKind::Bits(width) => Type::Bits {
                width: self.width(width, "bit")?,
                signed: false,
            },
            ast::TypeKind::SignedBits(width) => {
                let width = self.width(width, "int")?;
                if width == 0 {
                    self.error(
                        ty.span,
                        "`int<0>` has no values: a signed integer needs at least one bit",
                    );
                    return None;
                }
                Type::Bits {
                    width,
                    signed: true,
                }
            }
            ast::TypeKind::Varbit(width) => Type::Varbit {
                max_width: self.width(width, "varbit")?,
            },
            ast::TypeKind::DontCare => {
                self.error(ty.span, "`_` cannot be used as a type here");
                return None;
            }
            ast::TypeKind::Named(path) => return self.named_type(path, &[], ty),
            ast::TypeKind::Specialized { base, args } => return self.named_type(base, args, ty),
            ast::TypeKind::Array { element, size } => {
                let element = self.resolve_type(element)?;
                let size = self.const_u32(size, "the size of a stack or array")?;
                Type::Stack { element, size }
            }
            ast::TypeKind::List(element) => {
                // `list<T>` values are compile-time lists; they are only iterated and passed.
                let element = self.resolve_type(element)?;
                Type::List(element)
            }
            ast::TypeKind::Tuple(items) => {
                let mut types = Vec::new();
                for item in items {
                    types.push(self.resolve_type(item)?);
                }
                Type::Tuple(types)
            }
        };
        Some(self.intern(resolved))
    }

    fn width(&mut self, width: &'a ast::Expr, what: &str) -> Option<u32> {
        let bits = self.const_u32(width, &format!("the width of `{what}`"))?;
        if bits > MAX_WIDTH {
            self.error(
                width.span,
                format!("`{what}<{bits}>` is too wide (at most {MAX_WIDTH} bits)"),
            );
            return None;
        }
        Some(bits)
    }

    /// A compile-time-known non-negative integer that fits in 32 bits.
    pub(super) fn const_u32(&mut self, expr: &'a ast::Expr, what: &str) -> Option<u32> {
        let value = self.const_value(expr)?;
        match value {
            (_, Value::Int(v)) => match v.to_u32() {
                Some(n) => Some(n),
                None => {
                    self.error(
                        expr.span,
                        format!("{what} must be between 0 and {}, not {v}", u32::MAX),
                    );
                    None
                }
            },
            _ => {
                self.error(expr.span, format!("{what} must be an integer"));
                None
            }
        }
    }

    /// A named type, possibly with type arguments.
    fn named_type(
        &mut self,
        path: &'a ast::Path,
        args: &'a [ast::Type],
        ty: &'a ast::Type,
    ) -> Option<Handle<Type>> {
        let name = &path.name.name;
        if !path.top_level {
            if let Some(var) = self.type_var(name) {
                return Some(var);
            }
        }
        let Some(symbol) = self.lookup(name, path.top_level).cloned() else {
            self.error(path.name.span, format!("unknown type `{name}`"));
            return None;
        };
        match symbol {
            Symbol::Poisoned => None,
            Symbol::Type(handle) => {
                if !args.is_empty() {
                    self.error(
                        ty.span,
                        format!("`{name}` is not generic: it takes no type arguments"),
                    );
                    return None;
                }
                Some(handle)
            }
            Symbol::GenericStruct(decl, kind) => self.specialize_struct(decl, kind, args, ty),
            Symbol::Extern(def, decl) => {
                if args.len() != decl.type_params.len() {
                    self.error(
                        ty.span,
                        format!(
                            "extern `{name}` takes {} type argument(s), found {}",
                            decl.type_params.len(),
                            args.len()
                        ),
                    );
                    return None;
                }
                let mut resolved = Vec::new();
                for arg in args {
                    resolved.push(self.resolve_type(arg)?);
                }
                Some(self.intern(Type::Extern {
                    def,
                    args: resolved,
                }))
            }
            Symbol::Block(block) => Some(self.intern(Type::Block(block))),
            Symbol::BlockSignature(..) | Symbol::Package(_) => {
                // Parser, control and package types are only used as parameter types of
                // packages and are checked structurally there.
                Some(self.intern(Type::Void))
            }
            _ => {
                self.error(path.name.span, format!("`{name}` is not a type"));
                None
            }
        }
    }

    /// `S<T1, T2>` for a generic struct or header `S`: a new composite with the fields'
    /// types substituted.
    fn specialize_struct(
        &mut self,
        decl: &'a ast::StructDecl,
        kind: CompositeKind,
        args: &'a [ast::Type],
        ty: &'a ast::Type,
    ) -> Option<Handle<Type>> {
        if args.len() != decl.type_params.len() {
            self.error(
                ty.span,
                format!(
                    "`{}` takes {} type argument(s), found {}",
                    decl.name.name,
                    decl.type_params.len(),
                    args.len()
                ),
            );
            return None;
        }
        let mut vars = HashMap::new();
        let mut names = Vec::new();
        let mut arg_handles = Vec::new();
        for (param, arg) in decl.type_params.iter().zip(args) {
            let arg = self.resolve_type(arg)?;
            names.push(self.type_name(arg));
            arg_handles.push(arg);
            vars.insert(param.name.clone(), arg);
        }
        self.type_vars.push(vars);
        let fields = self.fields(&decl.fields);
        self.type_vars.pop();
        let name = format!("{}<{}>", decl.name.name, names.join(", "));
        let composite = self.module.composites.insert(Composite {
            kind,
            name,
            fields: fields?,
        });
        self.composite_origins
            .insert(composite, (decl.name.name.clone(), arg_handles));
        Some(self.intern(Type::Composite(composite)))
    }

    /// The fields of a struct-like declaration, with annotations kept.
    pub(super) fn fields(&mut self, fields: &'a [ast::StructField]) -> Option<Vec<Field>> {
        let mut out: Vec<Field> = Vec::new();
        let mut ok = true;
        for field in fields {
            if let Some(previous) = out.iter().position(|f| f.name == field.name.name) {
                let _ = previous;
                self.error(
                    field.name.span,
                    format!("field `{}` is declared twice", field.name.name),
                );
                ok = false;
                continue;
            }
            match self.resolve_type(&field.ty) {
                Some(ty) => {
                    let annotations = self.annotations(&field.annotations);
                    out.push(Field {
                        name: field.name.name.clone(),
                        ty,
                        annotations,
                    });
                }
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    /// Binds the type variables in `pattern` (a declared parameter type mentioning `vars`) so
    /// that it matches `actual`. Bindings already made are kept; a mismatch binds nothing.
    pub(super) fn unify(
        &self,
        pattern: &ast::Type,
        actual: Handle<Type>,
        vars: &[ast::Ident],
        bound: &mut HashMap<String, Handle<Type>>,
    ) {
        match (&pattern.kind, &self.module.types[actual]) {
            (ast::TypeKind::Named(p), _) if vars.iter().any(|v| v.name == p.name.name) => {
                bound.entry(p.name.name.clone()).or_insert(actual);
            }
            (ast::TypeKind::Specialized { base, args }, Type::Composite(c)) => {
                if let Some((name, actual_args)) = self.composite_origins.get(c) {
                    if *name == base.name.name && actual_args.len() == args.len() {
                        for (a, t) in args.iter().zip(actual_args) {
                            self.unify(a, *t, vars, bound);
                        }
                    }
                }
            }
            (
                ast::TypeKind::Specialized { base, args },
                Type::Extern {
                    def,
                    args: actual_args,
                },
            ) if self.module.externs[*def].name == base.name.name
                && actual_args.len() == args.len() =>
            {
                for (a, t) in args.iter().zip(actual_args) {
                    self.unify(a, *t, vars, bound);
                }
            }
            (ast::TypeKind::Array { element, .. }, Type::Stack { element: e, .. })
            | (ast::TypeKind::List(element), Type::List(e)) => self.unify(element, *e, vars, bound),
            (ast::TypeKind::Tuple(items), Type::Tuple(actual_items))
                if items.len() == actual_items.len() =>
            {
                for (a, t) in items.iter().zip(actual_items) {
                    self.unify(a, *t, vars, bound);
                }
            }
            _ => {}
        }
    }

    /// True when `ty` mentions a variable of `vars` not yet in `bound`.
    pub(super) fn mentions_unbound(
        ty: &ast::Type,
        vars: &[ast::Ident],
        bound: &HashMap<String, Handle<Type>>,
    ) -> bool {
        match &ty.kind {
            ast::TypeKind::Named(p) => {
                vars.iter().any(|v| v.name == p.name.name) && !bound.contains_key(&p.name.name)
            }
            ast::TypeKind::Specialized { args, .. } | ast::TypeKind::Tuple(args) => {
                args.iter().any(|a| Self::mentions_unbound(a, vars, bound))
            }
            ast::TypeKind::Array { element, .. } | ast::TypeKind::List(element) => {
                Self::mentions_unbound(element, vars, bound)
            }
            _ => false,
        }
    }

    /// How a type is written, for messages.
    pub(super) fn type_name(&self, ty: Handle<Type>) -> String {
        self.module.type_name(ty)
    }

    /// The width of a fixed-width bit-string type (`bit<W>`, `int<W>`, a serializable enum or
    /// a new type over one, `bool` as one bit).
    pub(super) fn bit_width(&self, ty: Handle<Type>) -> Option<(u32, bool)> {
        match &self.module.types[ty] {
            Type::Bits { width, signed } => Some((*width, *signed)),
            Type::Bool => Some((1, false)),
            Type::NewType { underlying, .. } => self.bit_width(*underlying),
            Type::Enum(e) => self.module.enums[*e]
                .underlying
                .and_then(|u| self.bit_width(u)),
            _ => None,
        }
    }

    /// True for `bit<W>` and `int<W>` (not new types or enums).
    pub(super) fn is_bits(&self, ty: Handle<Type>) -> bool {
        matches!(self.module.types[ty], Type::Bits { .. })
    }

    pub(super) fn is_integer(&self, ty: Handle<Type>) -> bool {
        matches!(self.module.types[ty], Type::Integer)
    }

    pub(super) fn bool_type(&mut self) -> Handle<Type> {
        self.intern(Type::Bool)
    }

    pub(super) fn void_type(&mut self) -> Handle<Type> {
        self.intern(Type::Void)
    }

    pub(super) fn integer_type(&mut self) -> Handle<Type> {
        self.intern(Type::Integer)
    }

    pub(super) fn bits_type(&mut self, width: u32, signed: bool) -> Handle<Type> {
        self.intern(Type::Bits { width, signed })
    }

    /// The composite a type is, if it is one.
    pub(super) fn composite(&self, ty: Handle<Type>) -> Option<&Composite> {
        match &self.module.types[ty] {
            Type::Composite(c) => Some(&self.module.composites[*c]),
            _ => None,
        }
    }

    /// True when the type is a header (validity bit and all).
    pub(super) fn is_header(&self, ty: Handle<Type>) -> bool {
        self.composite(ty)
            .is_some_and(|c| c.kind == CompositeKind::Header)
    }
}
