//! Lowering: a parsed program to the typed IR, checking it on the way.
//!
//! One pass over the declarations in order (P4 declares before use): names are resolved in
//! the spec's scopes, types are computed and checked, compile-time values folded, and each
//! construct is written into the [`Module`]. Errors are reported with spans and the pass goes
//! on, so one run shows every independent mistake; a module is returned only when there were
//! none.
//!
//! Modules: [`types`] (type expressions and the assignability rules), [`expr`] (expressions,
//! constant folding), [`call`] (calls and their arguments), [`stmt`] (statements), [`decl`]
//! (declarations, tables, parsers, controls, instances, the package), [`tc_rules`] (P4TC's
//! own rules).

mod call;
mod decl;
mod expr;
mod stmt;
mod tc_rules;
mod types;

use std::collections::HashMap;

use p4tc_ir::arena::Handle;
use p4tc_ir::ir::{self, Body, Local, LocalKind, Module, Type, Value};
use p4tc_ir::{Diagnostic, Span};

use crate::ast;

/// Lowers `program` into the IR. Errors and warnings go to `diagnostics`; `None` when any
/// error was found.
pub fn lower(program: &ast::Program, diagnostics: &mut Vec<Diagnostic>) -> Option<Module> {
    let errors_before = diagnostics.iter().filter(|d| d.is_error()).count();
    let mut lowerer = Lowerer::new(diagnostics);
    for decl in &program.declarations {
        lowerer.declaration(decl);
    }
    lowerer.finish();
    tc_rules::check(program, &lowerer.module, lowerer.diagnostics);
    let failed = lowerer.diagnostics.iter().filter(|d| d.is_error()).count() > errors_before;
    if failed {
        None
    } else {
        Some(lowerer.module)
    }
}

/// What a name stands for.
#[derive(Clone)]
enum Symbol<'a> {
    /// A type.
    Type(Handle<Type>),
    /// A generic struct, header or union, specialised where used.
    GenericStruct(&'a ast::StructDecl, ir::CompositeKind),
    /// An extern object type (generic or not).
    Extern(Handle<ir::ExternDef>, &'a ast::ExternObject),
    /// A parser or control type declaration (`parser P(...);`), possibly generic.
    BlockSignature(ir::BlockKind),
    /// A parser or control with a body.
    Block(Handle<ir::BlockType>),
    /// A package type.
    Package(&'a ast::TypeSignature),
    /// A package instance other than `main`, with the blocks it binds (for a package that
    /// takes it as an argument).
    PackageInstance(Vec<(ir::Role, Handle<ir::BlockType>)>),
    /// A compile-time constant.
    Const(Handle<Type>, Value),
    /// A parameter or variable of the body being lowered.
    Local(Handle<Local>),
    /// An action.
    Action(Handle<ir::Action>),
    /// A function, with its prototype for default arguments.
    Function(Handle<ir::Function>, &'a ast::FunctionPrototype),
    /// A generic function: specialised for each combination of type arguments it is called
    /// with.
    GenericFunction(&'a ast::FunctionDecl),
    /// Extern functions with this name (overloads allowed).
    ExternFunction(Vec<&'a ast::FunctionPrototype>),
    /// An instance of an extern, parser or control, or a value set.
    Instance(Handle<ir::Instance>),
    /// A table.
    Table(Handle<ir::Table>),
    /// A declaration that failed to lower (its error is reported): uses of the name are
    /// silently errors too, so one mistake is reported once, not at every use.
    Poisoned,
}

/// The lowering pass's state.
pub(crate) struct Lowerer<'a, 'd> {
    module: Module,
    diagnostics: &'d mut Vec<Diagnostic>,
    /// Top-level names.
    globals: HashMap<String, (Symbol<'a>, Span)>,
    /// Names local to the block, body and nested blocks being lowered, innermost last.
    scopes: Vec<HashMap<String, (Symbol<'a>, Span)>>,
    /// Type variables bound to types while lowering a generic construct.
    type_vars: Vec<HashMap<String, Handle<Type>>>,
    /// The body expressions and locals are being added to.
    body: Body,
    /// The control or parser being lowered.
    block: Option<Handle<ir::BlockType>>,
    /// Return type of the function being lowered (`None` in actions, controls, parsers).
    return_type: Option<Handle<Type>>,
    /// Inside a loop (for `break` and `continue`).
    loop_depth: u32,
    /// Inside an action body (where `exit`, `return` mean the action's end).
    in_action: bool,
    /// Specialisations of generic functions, by declaration and type arguments.
    specializations: HashMap<(usize, Vec<Handle<Type>>), Handle<ir::Function>>,
    /// Which generic declaration and type arguments each specialised composite came from.
    composite_origins: HashMap<Handle<ir::Composite>, (String, Vec<Handle<Type>>)>,
    /// Constructor parameters of parsers and controls, for their default values.
    block_ctor_params: HashMap<Handle<ir::BlockType>, &'a [ast::Param]>,
}

impl<'a, 'd> Lowerer<'a, 'd> {
    fn new(diagnostics: &'d mut Vec<Diagnostic>) -> Self {
        Lowerer {
            module: Module::default(),
            diagnostics,
            globals: HashMap::new(),
            scopes: Vec::new(),
            type_vars: Vec::new(),
            body: Body::default(),
            block: None,
            return_type: None,
            loop_depth: 0,
            in_action: false,
            specializations: HashMap::new(),
            composite_origins: HashMap::new(),
            block_ctor_params: HashMap::new(),
        }
    }

    fn finish(&mut self) {
        if self.module.pipeline.is_none() && !self.diagnostics.iter().any(|d| d.is_error()) {
            // A library of declarations with no `main` is fine to check, but nothing can run it.
        }
    }

    // -- Diagnostics ---------------------------------------------------------------------

    fn error(&mut self, span: Span, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic::error(span, message));
    }

    fn report(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    // -- Names -----------------------------------------------------------------------------

    /// Declares `name` in the innermost scope (top level when no scope is open). A name
    /// declared twice in one scope is an error pointing at both places.
    fn declare(&mut self, name: &ast::Ident, symbol: Symbol<'a>) {
        let scope = match self.scopes.last_mut() {
            Some(scope) => scope,
            None => &mut self.globals,
        };
        if let Some((previous, previous_span)) = scope.get(&name.name) {
            // Extern functions may be overloaded.
            if let (Symbol::ExternFunction(existing), Symbol::ExternFunction(new)) =
                (previous, &symbol)
            {
                let mut all = existing.clone();
                all.extend(new.iter().copied());
                scope.insert(name.name.clone(), (Symbol::ExternFunction(all), name.span));
                return;
            }
            let previous_span = *previous_span;
            self.report(
                Diagnostic::error(
                    name.span,
                    format!("`{}` is already declared in this scope", name.name),
                )
                .with_secondary(previous_span, "first declared here"),
            );
            return;
        }
        scope.insert(name.name.clone(), (symbol, name.span));
    }

    /// What `name` means here: innermost scope first, then top level. A leading `.` (in
    /// `path`) skips to top level.
    fn lookup(&self, name: &str, top_level: bool) -> Option<&Symbol<'a>> {
        if !top_level {
            for scope in self.scopes.iter().rev() {
                if let Some((symbol, _)) = scope.get(name) {
                    return Some(symbol);
                }
            }
        }
        self.globals.get(name).map(|(symbol, _)| symbol)
    }

    fn type_var(&self, name: &str) -> Option<Handle<Type>> {
        self.type_vars
            .iter()
            .rev()
            .find_map(|vars| vars.get(name).copied())
    }

    /// Runs `f` in a new innermost scope.
    fn scoped<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        self.scopes.push(HashMap::new());
        let result = f(self);
        self.scopes.pop();
        result
    }

    // -- Bodies ----------------------------------------------------------------------------

    /// Starts a new body, returning the one being built so it can be restored.
    fn begin_body(&mut self) -> Body {
        std::mem::take(&mut self.body)
    }

    /// Ends the current body and restores `saved`.
    fn end_body(&mut self, saved: Body) -> Body {
        std::mem::replace(&mut self.body, saved)
    }

    fn add_local(&mut self, name: &ast::Ident, ty: Handle<Type>, kind: LocalKind) -> Handle<Local> {
        let local = self.body.locals.append(
            Local {
                name: name.name.clone(),
                ty,
                kind,
                annotations: Vec::new(),
            },
            name.span,
        );
        self.declare(name, Symbol::Local(local));
        local
    }

    /// Runs `f` as if at top level: no local scopes, no enclosing block, body or loop. For
    /// lowering a generic function's specialisation from inside the body that calls it.
    fn at_top_level<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        let scopes = std::mem::take(&mut self.scopes);
        let block = self.block.take();
        let return_type = self.return_type.take();
        let loop_depth = std::mem::replace(&mut self.loop_depth, 0);
        let in_action = std::mem::replace(&mut self.in_action, false);
        let result = f(self);
        self.scopes = scopes;
        self.block = block;
        self.return_type = return_type;
        self.loop_depth = loop_depth;
        self.in_action = in_action;
        result
    }

    /// Marks `name` as declared but broken (see [`Symbol::Poisoned`]).
    fn poison(&mut self, name: &ast::Ident) {
        let scope = match self.scopes.last_mut() {
            Some(scope) => scope,
            None => &mut self.globals,
        };
        scope
            .entry(name.name.clone())
            .or_insert((Symbol::Poisoned, name.span));
    }

    fn intern(&mut self, ty: Type) -> Handle<Type> {
        self.module.types.insert(ty)
    }
}
