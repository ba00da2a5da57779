//! P4TC's own rules: what P4TC's compiler rejects in a program that is valid P4-16.
//!
//! This pass runs after lowering. It walks the syntax tree, which has the spans of annotations,
//! strings and match kinds, and looks at the IR [`Module`] for what lowering worked out: types
//! and widths, which action a table's default action is, property values. Lowering may have
//! stopped short on some construct (its error is already reported); every rule that needs the
//! IR then skips that construct, so one mistake is reported once.
//!
//! The rules (the facts come from `docs/p4tc-model.md` and P4TC's compiler):
//! - **Annotations in their place.** `@tc_acl` goes on tables and extern types, `@tc_type` on
//!   header and struct fields, table keys and action parameters, `@nummask` on tables,
//!   `@default_hit` / `@default_hit_const` on an action in a table's `actions` list,
//!   `@tc_may_override` on `default_action` or on a default hit action. Anywhere else the
//!   author meant something P4TC will not do, so it is an error.
//! - **`@tc_acl("CP:DP")`**: a CRUDXPS permission string, read by the IR's own parser
//!   ([`Permissions::parse_acl`]). P4TC takes the letters in any order; out of order is a
//!   warning. An `add_on_miss` table whose datapath part lacks `C` gets a warning: every
//!   `add_entry` would fail.
//! - **`@tc_type("T")`**: one of P4TC's types ([`ValueType::TC_TYPES`]), on a value of that
//!   type's width (`macaddr` 48 bits, `ipv4` 32, `ipv6` 128, `dev` 32, `beN` N).
//! - **`@nummask(N)`**: a positive integer, on a table that has a key with masks (not all
//!   exact).
//! - **Action scopes and default hit actions**: not both `@tableonly` and `@defaultonly`; a
//!   default hit action neither `@tableonly` nor marked both ways; one per table.
//!   `@tc_may_override` without a default hit action, or on an action without parameters, is
//!   a warning, as in P4TC.
//! - **`add_on_miss = true`**: a boolean; such a table's keys are all `exact` (the datapath
//!   inserts the key that missed, which has no mask or prefix).
//! - **`add_entry` / `add_entry_if`**: only in an action that is the default action of a table
//!   with `add_on_miss = true`; the action named must be a hit action of that table (listed,
//!   not `@defaultonly`) whose parameters are all directionless, and `action_params` a struct
//!   with one field per parameter, same names, order and types.
//! - **`set_entry_expire_time` and the other aging functions** act on the entry that matched:
//!   only in an action that a table runs.
//! - **Sizes**: `size` fits P4TC's 32-bit entry count; `pna_direct_counter` and
//!   `pna_direct_meter` name a `DirectCounter` / `DirectMeter` instance used by that table
//!   only; and whatever the IR's [`layout`] module refuses (keys of at most 512 bits with
//!   supported match kinds, at most 16 action-data parameters in at most 124 bytes, digests of
//!   at most 128 bytes, ...), reported at the table, action or instance at fault.

use std::collections::{HashMap, HashSet};

use num_bigint::BigUint;
use p4tc_ir::arena::Handle;
use p4tc_ir::introspection::{AclError, Permissions, ValueType};
use p4tc_ir::ir::{self, ActionScope, CompositeKind, Module, PropertyValue, Stmt, Type, Value};
use p4tc_ir::layout::{self, LayoutError, NoWidth};
use p4tc_ir::{Diagnostic, Span};

use crate::ast;
use crate::token::TokenKind;

/// Checks P4TC's rules on `program`, lowered (wholly, or partly when lowering found errors)
/// into `module`, and adds what it finds to `diagnostics`.
pub(super) fn check(program: &ast::Program, module: &Module, diagnostics: &mut Vec<Diagnostic>) {
    let mut checker = Checker::new(program, module, diagnostics);
    for decl in &program.declarations {
        checker.declaration(decl);
    }
}

/// The annotations this pass knows, with where each belongs.
const TC_ANNOTATIONS: [(&str, &[Place], &str); 6] = [
    (
        "tc_acl",
        &[Place::Table, Place::ExternType],
        "applies only to tables and extern types",
    ),
    (
        "tc_type",
        &[Place::Field, Place::Key, Place::ActionParam],
        "applies only to header and struct fields, table keys and action parameters",
    ),
    ("nummask", &[Place::Table], "applies only to tables"),
    (
        "default_hit",
        &[Place::ActionRef],
        "marks an action in a table's `actions` list; it has no effect here",
    ),
    (
        "default_hit_const",
        &[Place::ActionRef],
        "marks an action in a table's `actions` list; it has no effect here",
    ),
    (
        "tc_may_override",
        &[Place::DefaultAction, Place::ActionRef],
        "applies only to `default_action` and to a default hit action in `actions`",
    ),
];

/// Where an annotation was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    Table,
    ExternType,
    Field,
    Key,
    ActionParam,
    ActionRef,
    DefaultAction,
    Elsewhere,
}

/// The PNA functions that create or age table entries, which P4TC allows only in actions.
const ADD_ENTRY: [&str; 2] = ["add_entry", "add_entry_if"];
const AGING: [&str; 4] = [
    "set_entry_expire_time",
    "restart_expire_timer",
    "update_expire_info",
    "set_entry_expire_time_if",
];

/// One annotation argument as written.
#[derive(Clone, Copy)]
enum ArgValue<'a> {
    Str(&'a str),
    Int(&'a BigUint),
    Other,
}

#[derive(Clone, Copy)]
struct Arg<'a> {
    value: ArgValue<'a>,
    span: Span,
}

/// The arguments of an annotation with their spans: `@a(x, y)` and `@a[x, y]` alike.
fn annotation_args(a: &ast::Annotation) -> Vec<Arg<'_>> {
    match &a.body {
        ast::AnnotationBody::None => Vec::new(),
        ast::AnnotationBody::Unstructured(tokens) => tokens
            .split(|t| matches!(t.kind, TokenKind::Punct(crate::token::Punct::Comma)))
            .filter_map(|group| {
                let (first, last) = (group.first()?, group.last()?);
                let value = match group {
                    [one] => match &one.kind {
                        TokenKind::Str(s) => ArgValue::Str(s),
                        TokenKind::Int(lit) if !lit.negative => ArgValue::Int(&lit.value),
                        _ => ArgValue::Other,
                    },
                    _ => ArgValue::Other,
                };
                Some(Arg {
                    value,
                    span: first.span.to(last.span),
                })
            })
            .collect(),
        ast::AnnotationBody::Expressions(exprs) => exprs
            .iter()
            .map(|e| Arg {
                value: match &e.kind {
                    ast::ExprKind::String(s) => ArgValue::Str(s),
                    ast::ExprKind::Int(lit) if !lit.negative => ArgValue::Int(&lit.value),
                    _ => ArgValue::Other,
                },
                span: e.span,
            })
            .collect(),
        ast::AnnotationBody::KeyValues(pairs) => pairs
            .iter()
            .map(|kv| Arg {
                value: ArgValue::Other,
                span: kv.key.span.to(kv.value.span),
            })
            .collect(),
    }
}

/// The single string argument of `a`, with its span.
fn string_arg(a: &ast::Annotation) -> Option<(&str, Span)> {
    match annotation_args(a).as_slice() {
        [Arg {
            value: ArgValue::Str(s),
            span,
        }] => Some((s, *span)),
        _ => None,
    }
}

/// Where to point when an annotation's arguments are wrong: the argument when there is one.
fn args_span(a: &ast::Annotation) -> Span {
    match annotation_args(a).as_slice() {
        [one] => one.span,
        _ => a.span,
    }
}

fn find<'a>(annotations: &'a [ast::Annotation], name: &str) -> Option<&'a ast::Annotation> {
    annotations.iter().find(|a| a.name.name == name)
}

/// The span of byte `offset` of the contents of the string literal at `literal`, when the
/// literal is written out in the source (not produced by a macro).
fn char_span(literal: Span, text: &str, offset: usize, len: usize) -> Span {
    let written = literal.len() as usize == text.len() + 2;
    match (written, u32::try_from(offset + 1), u32::try_from(len)) {
        (true, Ok(at), Ok(len)) => Span::new(literal.file, literal.lo + at, literal.lo + at + len),
        _ => literal,
    }
}

/// The width of `ty`, or a description of it when it has none.
fn width(module: &Module, ty: Handle<Type>) -> Result<u32, String> {
    layout::type_width(module, ty).map_err(|NoWidth(described)| described)
}

/// What a `@tc_type` annotates: a name for messages and the IR type, when known.
struct Typed {
    what: String,
    ty: Option<Handle<Type>>,
}

impl Typed {
    fn new(what: String, ty: Option<Handle<Type>>) -> Typed {
        Typed { what, ty }
    }
}

/// What the code being walked belongs to.
#[derive(Clone, Copy)]
enum Context<'a> {
    /// An action, with its IR handle when it lowered.
    Action(&'a str, Option<Handle<ir::Action>>),
    /// Anything else, described for messages ("the apply block of control `c`").
    Other,
}

/// The module's items by name, so that each declaration is found in constant time (programs
/// may have thousands of tables and actions).
#[derive(Default)]
struct Index<'m> {
    blocks: HashMap<&'m str, Handle<ir::BlockType>>,
    actions: HashMap<(Option<Handle<ir::BlockType>>, &'m str), Handle<ir::Action>>,
    tables: HashMap<(Handle<ir::BlockType>, &'m str), Handle<ir::Table>>,
    instances: HashMap<(Option<Handle<ir::BlockType>>, &'m str), Handle<ir::Instance>>,
    composites: HashMap<(CompositeKind, &'m str), Handle<ir::Composite>>,
}

impl<'m> Index<'m> {
    fn new(module: &'m Module) -> Index<'m> {
        let mut index = Index::default();
        // The first item of a name wins, as the first declaration does in lowering.
        for (h, b) in module.block_types.iter() {
            index.blocks.entry(b.name.as_str()).or_insert(h);
        }
        for (h, a) in module.actions.iter() {
            index
                .actions
                .entry((a.control, a.name.as_str()))
                .or_insert(h);
        }
        for (h, t) in module.tables.iter() {
            index
                .tables
                .entry((t.control, t.name.as_str()))
                .or_insert(h);
        }
        for (h, i) in module.instances.iter() {
            index
                .instances
                .entry((i.owner, i.name.as_str()))
                .or_insert(h);
        }
        for (h, c) in module.composites.iter() {
            index
                .composites
                .entry((c.kind, c.name.as_str()))
                .or_insert(h);
        }
        index
    }
}

struct Checker<'m, 'd> {
    module: &'m Module,
    index: Index<'m>,
    diagnostics: &'d mut Vec<Diagnostic>,
    /// Extern functions declared at top level: a call to `add_entry` means PNA's only when
    /// the program declares it.
    extern_functions: Vec<&'m str>,
    /// For each action, the tables that have it as their default action.
    default_of: HashMap<Handle<ir::Action>, Vec<Handle<ir::Table>>>,
    /// For each action, the tables that list it.
    listed_in: HashMap<Handle<ir::Action>, Vec<Handle<ir::Table>>>,
    /// Direct counters and meters already bound to a table, with where.
    direct_users: HashMap<Handle<ir::Instance>, (String, Span)>,
    /// Where each table's name is written (the IR keeps the span of the whole declaration).
    table_names: HashMap<Handle<ir::Table>, Span>,
    /// Tables that write an `add_on_miss` property, whatever its value.
    add_on_miss_written: HashSet<Handle<ir::Table>>,
}

impl<'m, 'd> Checker<'m, 'd> {
    fn new(
        program: &'m ast::Program,
        module: &'m Module,
        diagnostics: &'d mut Vec<Diagnostic>,
    ) -> Self {
        let extern_functions = program
            .declarations
            .iter()
            .filter_map(|d| match &d.kind {
                ast::DeclKind::ExternFunction { prototype, .. } => {
                    Some(prototype.name.name.as_str())
                }
                _ => None,
            })
            .collect();
        let mut default_of: HashMap<_, Vec<_>> = HashMap::new();
        let mut listed_in: HashMap<_, Vec<_>> = HashMap::new();
        for (handle, table) in module.tables.iter() {
            if let Some(call) = &table.default_action {
                default_of.entry(call.action).or_default().push(handle);
            }
            for a in &table.actions {
                listed_in.entry(a.action).or_default().push(handle);
            }
        }
        let mut checker = Checker {
            module,
            index: Index::new(module),
            diagnostics,
            extern_functions,
            default_of,
            listed_in,
            direct_users: HashMap::new(),
            table_names: HashMap::new(),
            add_on_miss_written: HashSet::new(),
        };
        for decl in &program.declarations {
            let ast::DeclKind::Control(c) = &decl.kind else {
                continue;
            };
            for local in &c.locals {
                if let ast::LocalDecl::Table(t, _) = local {
                    if let Some(h) = checker.ir_table(&c.signature.name.name, &t.name.name) {
                        checker.table_names.insert(h, t.name.span);
                        let written = t.properties.iter().any(|p| {
                            matches!(&p.kind, ast::TablePropertyKind::Other { name, .. } if name.name == "add_on_miss")
                        });
                        if written {
                            checker.add_on_miss_written.insert(h);
                        }
                    }
                }
            }
        }
        checker
    }

    /// Where table `table`'s name is written.
    fn table_span(&self, table: Handle<ir::Table>) -> Span {
        self.table_names
            .get(&table)
            .copied()
            .unwrap_or_else(|| self.module.tables.span(table))
    }

    fn error(&mut self, span: Span, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic::error(span, message));
    }

    fn report(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    // -- Finding what lowering made of a declaration ---------------------------------------

    fn block_named(&self, name: &str) -> Option<Handle<ir::BlockType>> {
        self.index.blocks.get(name).copied()
    }

    fn ir_action(&self, control: Option<&str>, name: &str) -> Option<Handle<ir::Action>> {
        let control = match control {
            Some(c) => Some(self.block_named(c)?),
            None => None,
        };
        self.index.actions.get(&(control, name)).copied()
    }

    fn ir_table(&self, control: &str, name: &str) -> Option<Handle<ir::Table>> {
        let control = self.block_named(control)?;
        self.index.tables.get(&(control, name)).copied()
    }

    fn ir_instance(&self, owner: Option<&str>, name: &str) -> Option<Handle<ir::Instance>> {
        let owner = match owner {
            Some(c) => Some(self.block_named(c)?),
            None => None,
        };
        self.index.instances.get(&(owner, name)).copied()
    }

    /// The body an action's parameters and expressions live in: its control's for a
    /// control-local action, its own otherwise.
    fn action_body(&self, action: Handle<ir::Action>) -> Option<&'m ir::Body> {
        let a = self.module.actions.get(action)?;
        match a.control {
            Some(c) => self.module.block_types.get(c).map(|b| &b.body),
            None => Some(&a.body),
        }
    }

    /// An action's parameters: name, type and direction.
    fn action_params(
        &self,
        action: Handle<ir::Action>,
    ) -> Vec<(&'m str, Handle<Type>, ir::LocalKind)> {
        let (Some(a), Some(body)) = (self.module.actions.get(action), self.action_body(action))
        else {
            return Vec::new();
        };
        a.params
            .iter()
            .filter_map(|&p| body.locals.get(p))
            .map(|l| (l.name.as_str(), l.ty, l.kind))
            .collect()
    }

    fn table_name(&self, table: Handle<ir::Table>) -> String {
        self.module
            .tables
            .get(table)
            .map_or_else(String::new, |t| t.name.clone())
    }

    fn describe(&self, ty: Handle<Type>) -> String {
        layout::describe_type(self.module, ty)
    }

    // -- Declarations --------------------------------------------------------------------

    fn declaration(&mut self, decl: &'m ast::Declaration) {
        match &decl.kind {
            ast::DeclKind::Header(s) => self.struct_decl(s, CompositeKind::Header),
            ast::DeclKind::HeaderUnion(s) => self.struct_decl(s, CompositeKind::HeaderUnion),
            ast::DeclKind::Struct(s) => self.struct_decl(s, CompositeKind::Struct),
            ast::DeclKind::Typedef(t) => {
                self.placement(&t.annotations, Place::Elsewhere);
                if let ast::TypedefTarget::Declaration(inner) = &t.target {
                    self.declaration(inner);
                }
            }
            ast::DeclKind::ExternObject(e) => {
                self.placement(&e.annotations, Place::ExternType);
                if let Some(acl) = find(&e.annotations, "tc_acl") {
                    self.acl(acl, Permissions::EXTERN, None);
                }
                for method in &e.methods {
                    self.placement(&method.annotations, Place::Elsewhere);
                }
            }
            ast::DeclKind::Action(a) => self.action(a, None),
            ast::DeclKind::Control(c) => self.control(c),
            ast::DeclKind::Parser(p) => {
                self.signature(&p.signature);
                for local in &p.locals {
                    self.local_other(local);
                }
                let mut calls = Vec::new();
                for state in &p.states {
                    self.placement(&state.annotations, Place::Elsewhere);
                    for stmt in &state.stmts {
                        stmt_calls(stmt, &mut calls);
                    }
                    if let Some(ast::Transition::Select { exprs, .. }) = &state.transition {
                        for e in exprs {
                            expr_calls(e, &mut calls);
                        }
                    }
                }
                self.calls(&calls, Context::Other, &[]);
            }
            ast::DeclKind::Function(f) => {
                self.placement(&f.annotations, Place::Elsewhere);
                self.params(&f.prototype.params);
                let mut calls = Vec::new();
                block_calls(&f.body, &mut calls);
                self.calls(&calls, Context::Other, &[]);
            }
            ast::DeclKind::Instantiation(i) => self.instance(i, None),
            ast::DeclKind::Const(c) => self.placement(&c.annotations, Place::Elsewhere),
            ast::DeclKind::ExternFunction { annotations, .. } => {
                self.placement(annotations, Place::Elsewhere)
            }
            ast::DeclKind::Enum(e) => self.placement(&e.annotations, Place::Elsewhere),
            ast::DeclKind::ParserType(s)
            | ast::DeclKind::ControlType(s)
            | ast::DeclKind::Package(s) => self.signature(s),
            ast::DeclKind::Error(_) | ast::DeclKind::MatchKind(_) | ast::DeclKind::Empty => {}
        }
    }

    fn signature(&mut self, s: &ast::TypeSignature) {
        self.placement(&s.annotations, Place::Elsewhere);
        self.params(&s.params);
    }

    /// Parameters of anything but an action: no P4TC annotation applies to them.
    fn params(&mut self, params: &[ast::Param]) {
        for p in params {
            self.placement(&p.annotations, Place::Elsewhere);
        }
    }

    fn struct_decl(&mut self, s: &ast::StructDecl, kind: CompositeKind) {
        self.placement(&s.annotations, Place::Elsewhere);
        // Generic structs are specialised under other names; their fields' widths vary.
        let composite = if s.type_params.is_empty() {
            self.index
                .composites
                .get(&(kind, s.name.name.as_str()))
                .and_then(|&c| self.module.composites.get(c))
        } else {
            None
        };
        for field in &s.fields {
            self.placement(&field.annotations, Place::Field);
            let Some(tc_type) = find(&field.annotations, "tc_type") else {
                continue;
            };
            let ty = composite
                .and_then(|c| c.fields.iter().find(|f| f.name == field.name.name))
                .map(|f| f.ty);
            let generic = !s.type_params.is_empty();
            let typed = Typed::new(format!("field `{}`", field.name.name), ty);
            self.tc_type(tc_type, &typed, generic);
        }
    }

    fn control(&mut self, c: &'m ast::ControlDecl) {
        self.signature(&c.signature);
        let control = c.signature.name.name.as_str();
        for local in &c.locals {
            match local {
                ast::LocalDecl::Action(a, _) => self.action(a, Some(control)),
                ast::LocalDecl::Table(t, _) => self.table(control, t),
                ast::LocalDecl::Instantiation(i, _) => self.instance(i, Some(control)),
                other => self.local_other(other),
            }
        }
        let mut calls = Vec::new();
        block_calls(&c.apply, &mut calls);
        self.calls(&calls, Context::Other, &[]);
    }

    /// Constants, variables, value sets and instances of parsers.
    fn local_other(&mut self, local: &'m ast::LocalDecl) {
        match local {
            ast::LocalDecl::Const(c, _) => self.placement(&c.annotations, Place::Elsewhere),
            ast::LocalDecl::Var(v, _) => self.placement(&v.annotations, Place::Elsewhere),
            ast::LocalDecl::ValueSet(v, _) => self.placement(&v.annotations, Place::Elsewhere),
            ast::LocalDecl::Instantiation(i, _) => self.instance(i, None),
            // Parsers have neither; controls handle them.
            ast::LocalDecl::Action(..) | ast::LocalDecl::Table(..) => {}
        }
    }

    fn instance(&mut self, i: &ast::Instantiation, owner: Option<&str>) {
        self.placement(&i.annotations, Place::Elsewhere);
        let Some(handle) = self.ir_instance(owner, &i.name.name) else {
            return;
        };
        if let Err(e) = layout::extern_layout(self.module, handle) {
            self.layout_error(&e, i.name.span, &i.name.name);
        }
    }

    // -- Annotations -----------------------------------------------------------------------

    /// Reports P4TC annotations written where they do nothing.
    fn placement(&mut self, annotations: &[ast::Annotation], place: Place) {
        for a in annotations {
            let Some((name, allowed, why)) = TC_ANNOTATIONS
                .iter()
                .find(|(name, _, _)| *name == a.name.name)
            else {
                continue;
            };
            if !allowed.contains(&place) {
                self.error(a.span, format!("`@{name}` {why}"));
            }
        }
    }

    /// `@tc_acl("CP:DP")`; `add_on_miss` names the table when it has `add_on_miss = true`.
    fn acl(
        &mut self,
        a: &ast::Annotation,
        defaults: Permissions,
        add_on_miss: Option<(&str, Span)>,
    ) {
        let Some((text, span)) = string_arg(a) else {
            self.report(
                Diagnostic::error(args_span(a), "`@tc_acl` takes one string, such as \"CRUDPS:RX\"")
                    .with_note("the control plane's permissions, `:`, then the datapath's; letters C R U D X P S"),
            );
            return;
        };
        let permissions = match Permissions::parse_acl(text, defaults) {
            Ok(p) => p,
            Err(e) => {
                let at = match &e {
                    AclError::MissingColon => span,
                    AclError::BadLetter { letter, side } | AclError::Duplicate { letter, side } => {
                        let start = match side {
                            p4tc_ir::introspection::Side::Control => 0,
                            p4tc_ir::introspection::Side::Data => {
                                text.find(':').map_or(0, |i| i + 1)
                            }
                        };
                        let part = &text[start..];
                        let index = match &e {
                            // The second occurrence is the one at fault.
                            AclError::Duplicate { .. } => part
                                .char_indices()
                                .filter(|(_, c)| c == letter)
                                .nth(1)
                                .map(|(i, _)| i),
                            _ => part.find(*letter),
                        };
                        match index {
                            Some(i) => char_span(span, text, start + i, letter.len_utf8()),
                            None => span,
                        }
                    }
                };
                self.report(
                    Diagnostic::error(at, format!("invalid `@tc_acl(\"{text}\")`: {e}"))
                        .with_note("the format is \"CONTROL:DATA\", each part a set of the letters C R U D X P S, e.g. \"CRUDPS:RX\""),
                );
                return;
            }
        };
        for part in text.split(':') {
            let order = |c: char| "CRUDXPS".find(c);
            let letters: Vec<_> = part.chars().filter_map(order).collect();
            if letters.windows(2).any(|w| w[0] > w[1]) {
                let canonical = format!(
                    "{}:{}",
                    letters_of(permissions.control()),
                    letters_of(permissions.data())
                );
                self.report(
                    Diagnostic::warning(
                        span,
                        format!("the letters of `@tc_acl(\"{text}\")` are not in CRUDXPS order"),
                    )
                    .with_label(format!("P4TC writes these permissions as \"{canonical}\"")),
                );
                break;
            }
        }
        if let Some((table, property)) = add_on_miss {
            // Bit 6 of the datapath's side is its Create.
            if permissions.data() & 0x40 == 0 {
                self.report(
                    Diagnostic::warning(
                        span,
                        format!("`@tc_acl(\"{text}\")` does not let the datapath create entries in table `{table}`, so every `add_entry` on it will fail"),
                    )
                    .with_label("no `C` after the `:`")
                    .with_secondary(property, "the table adds entries on a miss"),
                );
            }
        }
    }

    /// `@tc_type("T")` on `typed`. `generic`: the type depends on type arguments, so only the
    /// name is checked.
    fn tc_type(&mut self, a: &ast::Annotation, typed: &Typed, generic: bool) {
        let Some((name, span)) = string_arg(a) else {
            self.error(
                args_span(a),
                "`@tc_type` takes one string naming a P4TC type: dev, macaddr, ipv4, ipv6, be16, be32 or be64",
            );
            return;
        };
        let Some(tc_type) = ValueType::parse(name).filter(|t| ValueType::TC_TYPES.contains(t))
        else {
            let mut d = Diagnostic::error(span, format!("`{name}` is not a P4TC type"))
                .with_label("expected dev, macaddr, ipv4, ipv6, be16, be32 or be64");
            if matches!(ValueType::parse(name), Some(ValueType::Bit(_))) {
                d = d.with_note("a field without `@tc_type` is already shown as `bitN`");
            }
            self.report(d);
            return;
        };
        let (Some(ty), false) = (typed.ty, generic) else {
            return;
        };
        let Some(expected) = tc_type.width() else {
            return;
        };
        match width(self.module, ty) {
            Ok(w) if w == expected => {}
            Ok(_) => {
                let described = self.describe(ty);
                self.report(
                    Diagnostic::error(
                        span,
                        format!("`@tc_type(\"{name}\")` needs a {expected}-bit value, but {} is {described}", typed.what),
                    )
                    .with_label(format!("{name} is {expected} bits wide")),
                );
            }
            Err(described) => self.error(
                span,
                format!(
                    "`@tc_type(\"{name}\")` needs a {expected}-bit value, but {} is {described}, which has no fixed width",
                    typed.what
                ),
            ),
        }
    }

    // -- Actions ---------------------------------------------------------------------------

    fn action(&mut self, a: &'m ast::ActionDecl, control: Option<&str>) {
        self.placement(&a.annotations, Place::Elsewhere);
        self.scope_conflict(&a.annotations, &a.name.name);
        let handle = self.ir_action(control, &a.name.name);
        let params = handle.map(|h| self.action_params(h)).unwrap_or_default();
        for (i, p) in a.params.iter().enumerate() {
            self.placement(&p.annotations, Place::ActionParam);
            if let Some(tc_type) = find(&p.annotations, "tc_type") {
                // Parameters are lowered one per declared parameter, or not at all.
                let ty = (params.len() == a.params.len()).then(|| params[i].1);
                let typed = Typed::new(format!("parameter `{}`", p.name.name), ty);
                self.tc_type(tc_type, &typed, false);
            }
        }
        if let Some(h) = handle {
            if let Err(e) = layout::action_param_layout(self.module, h) {
                self.layout_error(&e, a.name.span, &a.name.name);
            }
        }
        let mut calls = Vec::new();
        block_calls(&a.body, &mut calls);
        let ir_calls = handle.map(|h| self.ir_add_entries(h)).unwrap_or_default();
        self.calls(&calls, Context::Action(&a.name.name, handle), &ir_calls);
    }

    /// `@tableonly` together with `@defaultonly`.
    fn scope_conflict(&mut self, annotations: &[ast::Annotation], action: &str) {
        if let (Some(table_only), Some(default_only)) = (
            find(annotations, "tableonly"),
            find(annotations, "defaultonly"),
        ) {
            let (first, second) = if table_only.span.lo <= default_only.span.lo {
                (table_only, default_only)
            } else {
                (default_only, table_only)
            };
            self.report(
                Diagnostic::error(
                    second.span,
                    format!("action `{action}` cannot be both `@tableonly` and `@defaultonly`"),
                )
                .with_secondary(first.span, "the other one is here"),
            );
        }
    }

    /// The `add_entry` / `add_entry_if` calls in an action's IR, in source order.
    fn ir_add_entries(&self, action: Handle<ir::Action>) -> Vec<(&'m ir::Body, Handle<ir::Expr>)> {
        let (Some(a), Some(body)) = (self.module.actions.get(action), self.action_body(action))
        else {
            return Vec::new();
        };
        let mut out = Vec::new();
        ir_block_calls(body, &a.body.block, &mut out);
        out.into_iter().map(|e| (body, e)).collect()
    }

    // -- Calls of PNA's entry functions --------------------------------------------------

    /// Checks the calls of PNA's entry-creating and aging functions among `calls`. `ir_calls`
    /// are the `add_entry` calls of the same code in the IR, when it lowered.
    fn calls(
        &mut self,
        calls: &[&ast::Expr],
        context: Context<'_>,
        ir_calls: &[(&'m ir::Body, Handle<ir::Expr>)],
    ) {
        let mut add_entries = 0usize;
        let ast_add_entries = calls
            .iter()
            .filter(|e| callee_name(e).is_some_and(|n| ADD_ENTRY.contains(&n)))
            .count();
        for call in calls {
            let Some(name) = callee_name(call) else {
                continue;
            };
            if !self.extern_functions.contains(&name) {
                continue;
            }
            let ast::ExprKind::Call { callee, args, .. } = &call.kind else {
                continue;
            };
            if ADD_ENTRY.contains(&name) {
                // The IR call of the same source call, when lowering kept them all.
                let ir_call = (ir_calls.len() == ast_add_entries)
                    .then(|| ir_calls.get(add_entries))
                    .flatten()
                    .copied();
                add_entries += 1;
                self.add_entry(name, callee.span, args, context, ir_call);
            } else if AGING.contains(&name) {
                match context {
                    Context::Other => self.report(
                        Diagnostic::error(
                            callee.span,
                            format!("`{name}` can only be called in an action that a table runs"),
                        )
                        .with_label("not in an action")
                        .with_note("it acts on the table entry that matched"),
                    ),
                    Context::Action(action, Some(h)) if !self.listed_in.contains_key(&h) => {
                        self.report(
                            Diagnostic::error(
                                callee.span,
                                format!("`{name}` acts on the table entry that matched, but action `{action}` is not in any table's `actions`"),
                            ),
                        );
                    }
                    Context::Action(..) => {}
                }
            }
        }
    }

    fn add_entry(
        &mut self,
        name: &str,
        span: Span,
        args: &[ast::Argument],
        context: Context<'_>,
        ir_call: Option<(&'m ir::Body, Handle<ir::Expr>)>,
    ) {
        let rule = "P4TC allows it only in the default action of a table with `add_on_miss = true`";
        let (action, handle) = match context {
            Context::Other => {
                self.report(
                    Diagnostic::error(span, format!("`{name}` can only be called in an action"))
                        .with_label("not in an action")
                        .with_note(rule),
                );
                return;
            }
            Context::Action(_, None) => return,
            Context::Action(action, Some(h)) => (action, h),
        };
        let tables = self.default_of.get(&handle).cloned().unwrap_or_default();
        let add_on_miss: Vec<_> = tables
            .iter()
            .copied()
            .filter(|&t| self.module.tables.get(t).is_some_and(is_add_on_miss))
            .collect();
        if tables.is_empty() {
            self.report(
                Diagnostic::error(
                    span,
                    format!("`{name}` is called in action `{action}`, which is not the default action of any table"),
                )
                .with_note(rule),
            );
            return;
        }
        // An `add_on_miss` that is neither `true` nor `false` is reported where it is written.
        let unsure = tables.iter().any(|t| {
            self.add_on_miss_written.contains(t)
                && self.module.tables.get(*t).is_some_and(|t| {
                    !t.properties.iter().any(|(n, v)| {
                        n == "add_on_miss" && matches!(v, PropertyValue::Value(Value::Bool(_)))
                    })
                })
        });
        if add_on_miss.is_empty() && unsure {
            return;
        }
        if add_on_miss.is_empty() {
            let table = tables[0];
            let table_name = self.table_name(table);
            let table_span = self.table_span(table);
            self.report(
                Diagnostic::error(
                    span,
                    format!("`{name}` is called in action `{action}`, the default action of table `{table_name}`, which does not have `add_on_miss = true`"),
                )
                .with_secondary(table_span, format!("table `{table_name}` is declared here"))
                .with_note(rule),
            );
            return;
        }
        // Where the arguments are: by parameter name, else by position.
        let offset = usize::from(name == "add_entry_if");
        let param_names = ["action_name", "action_params", "expire_time_profile_id"];
        let arg = |index: usize| -> Option<&ast::Expr> {
            if args.iter().any(|a| a.name.is_some()) {
                args.iter()
                    .find(|a| {
                        a.name
                            .as_ref()
                            .is_some_and(|n| n.name == param_names[index])
                    })
                    .map(|a| &a.value)
            } else {
                args.get(index + offset).map(|a| &a.value)
            }
        };
        let Some(name_arg) = arg(0) else {
            return;
        };
        // The action's name: the literal, or the IR's folded constant.
        let ir_args = ir_call.and_then(|(body, e)| match body.exprs.get(e).map(|e| &e.kind) {
            Some(ir::ExprKind::Call { args, .. }) => Some((body, args.clone())),
            _ => None,
        });
        let hit_name = match &name_arg.kind {
            ast::ExprKind::String(s) => Some(s.clone()),
            _ => ir_args.as_ref().and_then(|(body, args)| {
                match args
                    .get(offset)
                    .and_then(|&e| body.exprs.get(e))
                    .map(|e| &e.kind)
                {
                    Some(ir::ExprKind::Literal(Value::String(s))) => Some(s.clone()),
                    _ => None,
                }
            }),
        };
        let Some(hit_name) = hit_name else {
            self.error(
                name_arg.span,
                "`action_name` must be a string naming the action of the new entry",
            );
            return;
        };
        let params_type = ir_args.as_ref().and_then(|(body, args)| {
            args.get(offset + 1)
                .and_then(|&e| body.exprs.get(e))
                .map(|e| e.ty)
        });
        for table in add_on_miss {
            if !self.hit_action(table, &hit_name, name_arg.span, params_type, arg(1)) {
                break;
            }
        }
    }

    /// Checks that `hit_name` is a hit action of `table` that `add_entry` can add, with
    /// `params_type` its parameters. False when an error was reported.
    fn hit_action(
        &mut self,
        table: Handle<ir::Table>,
        hit_name: &str,
        name_span: Span,
        params_type: Option<Handle<Type>>,
        params_arg: Option<&ast::Expr>,
    ) -> bool {
        let Some(t) = self.module.tables.get(table) else {
            return true;
        };
        let table_span = self.table_span(table);
        let listed = t.actions.iter().find(|a| {
            self.module
                .actions
                .get(a.action)
                .is_some_and(|x| x.name == hit_name)
        });
        let Some(listed) = listed else {
            self.report(
                Diagnostic::error(
                    name_span,
                    format!(
                        "action `{hit_name}` is not in the `actions` of table `{}`",
                        t.name
                    ),
                )
                .with_secondary(
                    table_span,
                    format!("the entry would be added to table `{}`", t.name),
                ),
            );
            return false;
        };
        if listed.scope == ActionScope::DefaultOnly {
            self.report(
                Diagnostic::error(
                    name_span,
                    format!("action `{hit_name}` is `@defaultonly` in table `{}`, so no entry can run it", t.name),
                )
                .with_secondary(table_span, format!("table `{}` is declared here", t.name)),
            );
            return false;
        }
        let params = self.action_params(listed.action);
        if let Some((p, _, _)) = params
            .iter()
            .find(|(_, _, kind)| *kind != ir::LocalKind::Directionless)
        {
            self.error(
                name_span,
                format!("action `{hit_name}` has a parameter with a direction (`{p}`); an entry added by `add_entry` only gives action data (directionless parameters)"),
            );
            return false;
        }
        let (Some(ty), Some(arg)) = (params_type, params_arg) else {
            return true;
        };
        let fields: Option<Vec<(&str, Handle<Type>)>> = match self.module.types.get(ty) {
            Some(Type::Composite(c)) => self
                .module
                .composites
                .get(*c)
                .filter(|c| c.kind == CompositeKind::Struct)
                .map(|c| c.fields.iter().map(|f| (f.name.as_str(), f.ty)).collect()),
            // `{}` for an action without parameters.
            Some(Type::Tuple(items)) if items.is_empty() => Some(Vec::new()),
            _ => None,
        };
        let wanted: Vec<String> = params.iter().map(|(n, _, _)| format!("`{n}`")).collect();
        let wanted = if wanted.is_empty() {
            "no fields".to_string()
        } else {
            wanted.join(", ")
        };
        let Some(fields) = fields else {
            let described = self.describe(ty);
            self.report(
                Diagnostic::error(
                    arg.span,
                    format!("`action_params` must be a struct with one field per parameter of action `{hit_name}`, not {described}"),
                )
                .with_note(format!("action `{hit_name}` needs {wanted}")),
            );
            return false;
        };
        let names_match = fields.len() == params.len()
            && fields.iter().zip(&params).all(|((f, _), (p, _, _))| f == p);
        if !names_match {
            let have: Vec<String> = fields.iter().map(|(n, _)| format!("`{n}`")).collect();
            let have = if have.is_empty() {
                "no fields".to_string()
            } else {
                have.join(", ")
            };
            self.report(
                Diagnostic::error(
                    arg.span,
                    format!("the fields of `action_params` must be the parameters of action `{hit_name}`, in order"),
                )
                .with_label(format!("this has {have}"))
                .with_note(format!("action `{hit_name}` needs {wanted}")),
            );
            return false;
        }
        for ((field, field_ty), (_, param_ty, _)) in fields.iter().zip(&params) {
            if field_ty != param_ty {
                let (have, want) = (self.describe(*field_ty), self.describe(*param_ty));
                self.report(
                    Diagnostic::error(
                        arg.span,
                        format!("field `{field}` of `action_params` is {have}, but parameter `{field}` of action `{hit_name}` is {want}"),
                    ),
                );
                return false;
            }
        }
        true
    }

    // -- Tables ----------------------------------------------------------------------------

    fn table(&mut self, control: &str, t: &ast::TableDecl) {
        let handle = self.ir_table(control, &t.name.name);
        let ir_table = handle.and_then(|h| self.module.tables.get(h));
        let table = t.name.name.as_str();

        let mut add_on_miss_at = None;
        let mut keys: &[ast::KeyElement] = &[];
        for property in &t.properties {
            match &property.kind {
                ast::TablePropertyKind::Key(k) => keys = k,
                ast::TablePropertyKind::Other { name, value, .. } if name.name == "add_on_miss" => {
                    let ir_value = ir_table.and_then(|t| {
                        t.properties
                            .iter()
                            .find(|(n, _)| n == "add_on_miss")
                            .map(|(_, v)| v)
                    });
                    match ir_value {
                        Some(PropertyValue::Value(Value::Bool(true))) => {
                            add_on_miss_at = Some(property.span);
                        }
                        Some(PropertyValue::Value(Value::Bool(false))) | None => {}
                        Some(_) => {
                            self.error(value.span, "`add_on_miss` must be `true` or `false`")
                        }
                    }
                }
                _ => {}
            }
        }

        self.placement(&t.annotations, Place::Table);
        for a in &t.annotations {
            match a.name.name.as_str() {
                "tc_acl" => {
                    let defaults = if add_on_miss_at.is_some() {
                        Permissions::TABLE_ADD_ON_MISS
                    } else {
                        Permissions::TABLE
                    };
                    self.acl(a, defaults, add_on_miss_at.map(|s| (table, s)));
                }
                "nummask" => self.nummask(a, table, keys),
                _ => {}
            }
        }

        // Keys: annotations and, with add_on_miss, exact matches only.
        let ir_keys = ir_table
            .map(|t| t.keys.as_slice())
            .filter(|k| k.len() == keys.len());
        let body = ir_table
            .and_then(|t| self.module.block_types.get(t.control))
            .map(|b| &b.body);
        for (i, element) in keys.iter().enumerate() {
            self.placement(&element.annotations, Place::Key);
            if let Some(tc_type) = find(&element.annotations, "tc_type") {
                let ty = ir_keys
                    .and_then(|k| k.get(i))
                    .and_then(|k| body?.exprs.get(k.expr))
                    .map(|e| e.ty);
                let typed = Typed::new(
                    format!("key `{}`", crate::printer::print_expr(&element.expr)),
                    ty,
                );
                self.tc_type(tc_type, &typed, false);
            }
            if let Some(at) = add_on_miss_at {
                let kind = &element.match_kind.name;
                if kind != "exact" {
                    self.report(
                        Diagnostic::error(
                            element.match_kind.span,
                            format!("table `{table}` adds entries on a miss, so its keys must all be `exact`, not `{kind}`"),
                        )
                        .with_secondary(at, "`add_on_miss` is set here"),
                    );
                }
            }
        }

        // Actions: scopes and default hit actions.
        let mut default_hit: Option<Span> = None;
        for property in &t.properties {
            match &property.kind {
                ast::TablePropertyKind::Actions(refs) => {
                    for r in refs {
                        self.action_ref(table, r, ir_table, &mut default_hit);
                    }
                }
                ast::TablePropertyKind::Entries {
                    annotations,
                    entries,
                    ..
                } => {
                    self.placement(annotations, Place::Elsewhere);
                    for e in entries {
                        self.placement(&e.annotations, Place::Elsewhere);
                        self.placement(&e.action.annotations, Place::Elsewhere);
                    }
                }
                ast::TablePropertyKind::Other {
                    annotations,
                    name,
                    value,
                    ..
                } => {
                    let place = if name.name == "default_action" {
                        Place::DefaultAction
                    } else {
                        Place::Elsewhere
                    };
                    self.placement(annotations, place);
                    self.property(table, handle, name, value, annotations);
                }
                ast::TablePropertyKind::Key(_) => {}
            }
        }

        if let Some(h) = handle {
            if let Err(e) = layout::table_key_layout(self.module, h) {
                let span = match &e {
                    LayoutError::MatchKind { key, .. } => ir_keys
                        .and_then(|k| k.iter().position(|k| k.name == *key))
                        .map_or(e.span(), |i| keys[i].match_kind.span),
                    LayoutError::KeyTooWide { .. } => t.name.span,
                    _ => e.span(),
                };
                self.layout_error(&e, span, table);
            }
        }
    }

    /// `@nummask(N)` on table `table` with key `keys`.
    fn nummask(&mut self, a: &ast::Annotation, table: &str, keys: &[ast::KeyElement]) {
        let args = annotation_args(a);
        let valid = match args.as_slice() {
            [Arg {
                value: ArgValue::Int(n),
                ..
            }] => u32::try_from(*n).is_ok_and(|n| n > 0),
            _ => false,
        };
        if !valid {
            let span = match args.as_slice() {
                [one] => one.span,
                _ => a.span,
            };
            self.error(
                span,
                "`@nummask` takes one positive integer: how many masks the table can hold",
            );
            return;
        }
        let masked = keys.iter().any(|k| {
            matches!(
                k.match_kind.name.as_str(),
                "lpm" | "ternary" | "range" | "optional"
            )
        });
        if !masked {
            let why = if keys.is_empty() {
                "has no key".to_string()
            } else {
                "matches only `exact` keys".to_string()
            };
            self.report(
                Diagnostic::error(
                    a.span,
                    format!("`@nummask` counts the masks of `lpm` and `ternary` keys, but table `{table}` {why}"),
                ),
            );
        }
    }

    /// One action in a table's `actions` list.
    fn action_ref(
        &mut self,
        table: &str,
        r: &ast::ActionRef,
        ir_table: Option<&ir::Table>,
        default_hit: &mut Option<Span>,
    ) {
        let action = r.name.name.name.as_str();
        self.placement(&r.annotations, Place::ActionRef);
        self.scope_conflict(&r.annotations, action);
        let listed = ir_table.and_then(|t| {
            t.actions.iter().find(|a| {
                self.module
                    .actions
                    .get(a.action)
                    .is_some_and(|x| x.name == action)
            })
        });
        let hit = find(&r.annotations, "default_hit");
        let hit_const = find(&r.annotations, "default_hit_const");
        if let (Some(h), Some(c)) = (hit, hit_const) {
            let (first, second) = if h.span.lo <= c.span.lo {
                (h, c)
            } else {
                (c, h)
            };
            self.report(
                Diagnostic::error(
                    second.span,
                    format!(
                        "action `{action}` cannot be both `@default_hit` and `@default_hit_const`"
                    ),
                )
                .with_secondary(first.span, "the other one is here"),
            );
        }
        let marked = hit.or(hit_const);
        if let Some(mark) = marked {
            let mark_name = &mark.name.name;
            let table_only = listed.map_or_else(
                || find(&r.annotations, "tableonly").is_some(),
                |l| l.scope == ActionScope::TableOnly,
            );
            if table_only && find(&r.annotations, "defaultonly").is_none() {
                self.error(
                    mark.span,
                    format!("action `{action}` is `@tableonly`, so it cannot be the default hit action (`@{mark_name}`)"),
                );
            }
            match default_hit {
                Some(first) => {
                    let first = *first;
                    self.report(
                        Diagnostic::error(
                            mark.span,
                            format!("table `{table}` already has a default hit action"),
                        )
                        .with_secondary(first, "the first one is marked here"),
                    );
                }
                None => *default_hit = Some(mark.span),
            }
        }
        if let Some(may) = find(&r.annotations, "tc_may_override") {
            if marked.is_none() {
                self.report(Diagnostic::warning(
                    may.span,
                    format!("`@tc_may_override` on action `{action}` has no effect: it is not the default hit action (`@default_hit` or `@default_hit_const`)"),
                ));
            } else if let Some(l) = listed {
                self.may_override(may, action, l.action);
            }
        }
    }

    /// `@tc_may_override` on a default action `action`: P4TC ignores it when the action has
    /// no action data to override.
    fn may_override(&mut self, may: &ast::Annotation, name: &str, action: Handle<ir::Action>) {
        let params = self.action_params(action);
        if params.is_empty() {
            self.report(Diagnostic::warning(
                may.span,
                format!("`@tc_may_override` has no effect: action `{name}` has no parameters to override"),
            ));
        } else if params
            .iter()
            .any(|(_, _, k)| *k != ir::LocalKind::Directionless)
        {
            self.report(Diagnostic::warning(
                may.span,
                format!("`@tc_may_override` has no effect: action `{name}` has parameters with a direction"),
            ));
        }
    }

    /// A property other than `key`, `actions` and `entries`.
    fn property(
        &mut self,
        table: &str,
        handle: Option<Handle<ir::Table>>,
        name: &ast::Ident,
        value: &ast::Expr,
        annotations: &[ast::Annotation],
    ) {
        let Some(t) = handle.and_then(|h| self.module.tables.get(h)) else {
            return;
        };
        match name.name.as_str() {
            "default_action" => {
                if let (Some(may), Some(call)) =
                    (find(annotations, "tc_may_override"), &t.default_action)
                {
                    let action = self
                        .module
                        .actions
                        .get(call.action)
                        .map_or_else(String::new, |a| a.name.clone());
                    self.may_override(may, &action, call.action);
                }
            }
            "size" => {
                if let Some(size) = t.size.filter(|&s| s > u64::from(u32::MAX)) {
                    self.error(
                        value.span,
                        format!(
                            "table `{table}` has size {size}; P4TC tables hold at most {} entries",
                            u32::MAX
                        ),
                    );
                }
            }
            kind @ ("pna_direct_counter" | "pna_direct_meter") => {
                let wanted = if kind == "pna_direct_counter" {
                    "DirectCounter"
                } else {
                    "DirectMeter"
                };
                let instance = match t.properties.iter().find(|(n, _)| n == kind) {
                    Some((_, PropertyValue::Instance(i))) => Some(*i),
                    Some(_) => None,
                    // Lowering reported why it has no value.
                    None => return,
                };
                let extern_name = instance
                    .and_then(|i| self.module.instances.get(i))
                    .and_then(|i| match self.module.types.get(i.ty) {
                        Some(Type::Extern { def, .. }) => self.module.externs.get(*def),
                        _ => None,
                    })
                    .map(|e| e.name.as_str());
                let (Some(instance), Some(wanted_name)) =
                    (instance, extern_name.filter(|n| *n == wanted))
                else {
                    let found = match extern_name {
                        Some(e) => format!("this is a `{e}`"),
                        None => "this is not an extern instance".to_string(),
                    };
                    self.report(
                        Diagnostic::error(
                            value.span,
                            format!("`{kind}` must be a `{wanted}` instance"),
                        )
                        .with_label(found),
                    );
                    return;
                };
                match self.direct_users.get(&instance) {
                    Some((other, at)) if other != table => {
                        let at = *at;
                        self.report(
                            Diagnostic::error(
                                value.span,
                                format!("this `{wanted_name}` is already bound to table `{other}`; a direct extern belongs to one table"),
                            )
                            .with_secondary(at, format!("bound to `{other}` here")),
                        );
                    }
                    Some(_) => {}
                    None => {
                        self.direct_users
                            .insert(instance, (table.to_string(), value.span));
                    }
                }
            }
            _ => {}
        }
    }

    /// A layout error as a diagnostic at `span`; `name` is the table, action or instance as
    /// written (the layout module names them `control.name`).
    fn layout_error(&mut self, e: &LayoutError, span: Span, name: &str) {
        let message = match e {
            // An internal inconsistency that lowering reports in its own way.
            LayoutError::Dangling { .. } => return,
            LayoutError::KeyType { key, ty, .. } => format!(
                "key `{key}` has type {ty}, which P4TC cannot match on: keys must have a fixed bit width"
            ),
            LayoutError::MatchKind { key, match_kind, .. } => format!(
                "key `{key}` uses match kind `{match_kind}`, which P4TC tables do not support (exact, lpm, ternary, range, optional)"
            ),
            LayoutError::KeyTooWide { bits, max, .. } => format!(
                "the key of table `{name}` is {bits} bits wide; P4TC keys are at most {max} bits"
            ),
            LayoutError::ParamType { param, ty, .. } => format!(
                "action data parameter `{param}` has type {ty}; P4TC action data must have a fixed bit width"
            ),
            LayoutError::TooManyParams { count, max, .. } => format!(
                "action `{name}` has {count} action data parameters; P4TC actions take at most {max}"
            ),
            LayoutError::ParamsTooLarge { bytes, max, .. } => format!(
                "the action data of action `{name}` takes {bytes} bytes; P4TC allows at most {max}"
            ),
            LayoutError::Extern { reason, .. } => format!("extern instance `{name}`: {reason}"),
            LayoutError::DigestTooLarge { bytes, max, .. } => format!(
                "the payload of digest `{name}` takes {bytes} bytes; P4TC digests carry at most {max}"
            ),
        };
        self.error(span, message);
    }
}

/// Does `table` have `add_on_miss = true`?
fn is_add_on_miss(table: &ir::Table) -> bool {
    table
        .properties
        .iter()
        .any(|(n, v)| n == "add_on_miss" && *v == PropertyValue::Value(Value::Bool(true)))
}

/// The letters of one side's seven permission bits, in CRUDXPS order.
fn letters_of(bits: u8) -> String {
    "CRUDXPS"
        .chars()
        .enumerate()
        .filter(|(i, _)| bits & (0x40 >> i) != 0)
        .map(|(_, c)| c)
        .collect()
}

/// The name a call calls, when it calls a plain name.
fn callee_name(call: &ast::Expr) -> Option<&str> {
    match &call.kind {
        ast::ExprKind::Call { callee, .. } => match &callee.kind {
            ast::ExprKind::Name(path) => Some(path.name.name.as_str()),
            _ => None,
        },
        _ => None,
    }
}

// -- Walking code for calls -----------------------------------------------------------------

fn block_calls<'a>(block: &'a ast::Block, out: &mut Vec<&'a ast::Expr>) {
    for stmt in &block.stmts {
        stmt_calls(stmt, out);
    }
}

/// Every call in `stmt`, in source order (a call before the calls in its arguments).
fn stmt_calls<'a>(stmt: &'a ast::Stmt, out: &mut Vec<&'a ast::Expr>) {
    match &stmt.kind {
        ast::StmtKind::Assign { lhs, rhs, .. } => {
            expr_calls(lhs, out);
            expr_calls(rhs, out);
        }
        ast::StmtKind::Call(e) => expr_calls(e, out),
        ast::StmtKind::DirectApply { args, .. } => {
            for a in args {
                expr_calls(&a.value, out);
            }
        }
        ast::StmtKind::If {
            cond,
            then,
            otherwise,
        } => {
            expr_calls(cond, out);
            stmt_calls(then, out);
            if let Some(o) = otherwise {
                stmt_calls(o, out);
            }
        }
        ast::StmtKind::Block(b) => block_calls(b, out),
        ast::StmtKind::Return(Some(e)) => expr_calls(e, out),
        ast::StmtKind::Switch { expr, cases } => {
            expr_calls(expr, out);
            for case in cases {
                if let Some(b) = &case.body {
                    block_calls(b, out);
                }
            }
        }
        ast::StmtKind::For(f) => match f.as_ref() {
            ast::ForLoop::Classic {
                init,
                cond,
                update,
                body,
                ..
            } => {
                for s in init {
                    stmt_calls(s, out);
                }
                expr_calls(cond, out);
                stmt_calls(body, out);
                for s in update {
                    stmt_calls(s, out);
                }
            }
            ast::ForLoop::In {
                collection,
                range_end,
                body,
                ..
            } => {
                expr_calls(collection, out);
                if let Some(e) = range_end {
                    expr_calls(e, out);
                }
                stmt_calls(body, out);
            }
        },
        ast::StmtKind::Var(v) => {
            if let Some(e) = &v.init {
                expr_calls(e, out);
            }
        }
        ast::StmtKind::Const(c) => expr_calls(&c.value, out),
        ast::StmtKind::Return(None)
        | ast::StmtKind::Empty
        | ast::StmtKind::Exit
        | ast::StmtKind::Break
        | ast::StmtKind::Continue => {}
    }
}

fn expr_calls<'a>(e: &'a ast::Expr, out: &mut Vec<&'a ast::Expr>) {
    match &e.kind {
        ast::ExprKind::Call { callee, args, .. } => {
            out.push(e);
            expr_calls(callee, out);
            for a in args {
                expr_calls(&a.value, out);
            }
        }
        ast::ExprKind::Construct { args, .. } => {
            for a in args {
                expr_calls(&a.value, out);
            }
        }
        ast::ExprKind::Member { base, .. } => expr_calls(base, out),
        ast::ExprKind::Index { base, index } => {
            expr_calls(base, out);
            expr_calls(index, out);
        }
        ast::ExprKind::Slice { base, hi, lo } => {
            expr_calls(base, out);
            expr_calls(hi, out);
            expr_calls(lo, out);
        }
        ast::ExprKind::IndexedSlice { base, lo, width } => {
            expr_calls(base, out);
            expr_calls(lo, out);
            expr_calls(width, out);
        }
        ast::ExprKind::List(items) => {
            for i in items {
                expr_calls(i, out);
            }
        }
        ast::ExprKind::StructInit { fields, .. } => {
            for f in fields {
                expr_calls(&f.value, out);
            }
        }
        ast::ExprKind::Unary { operand, .. } => expr_calls(operand, out),
        ast::ExprKind::Binary { lhs, rhs, .. } => {
            expr_calls(lhs, out);
            expr_calls(rhs, out);
        }
        ast::ExprKind::Conditional {
            cond,
            then,
            otherwise,
        } => {
            expr_calls(cond, out);
            expr_calls(then, out);
            expr_calls(otherwise, out);
        }
        ast::ExprKind::Cast { expr, .. } => expr_calls(expr, out),
        ast::ExprKind::Int(_)
        | ast::ExprKind::Bool(_)
        | ast::ExprKind::String(_)
        | ast::ExprKind::Name(_)
        | ast::ExprKind::This
        | ast::ExprKind::DontCare
        | ast::ExprKind::Dots
        | ast::ExprKind::ErrorMember(_)
        | ast::ExprKind::InvalidHeader => {}
    }
}

/// The `add_entry` / `add_entry_if` calls of an IR block, in the order [`stmt_calls`] finds
/// them in the source.
fn ir_block_calls(body: &ir::Body, block: &ir::Block, out: &mut Vec<Handle<ir::Expr>>) {
    for stmt in &block.stmts {
        match stmt {
            Stmt::Assign { lhs, rhs } => {
                ir_expr_calls(body, *lhs, out);
                ir_expr_calls(body, *rhs, out);
            }
            Stmt::Call(e) | Stmt::Return(Some(e)) => ir_expr_calls(body, *e, out),
            Stmt::Declare { init, .. } => {
                if let Some(e) = init {
                    ir_expr_calls(body, *e, out);
                }
            }
            Stmt::If {
                cond,
                then,
                otherwise,
            } => {
                ir_expr_calls(body, *cond, out);
                ir_block_calls(body, then, out);
                ir_block_calls(body, otherwise, out);
            }
            Stmt::Switch {
                selector,
                cases,
                default,
            } => {
                ir_expr_calls(body, *selector, out);
                for (_, b) in cases {
                    ir_block_calls(body, b, out);
                }
                if let Some(b) = default {
                    ir_block_calls(body, b, out);
                }
            }
            Stmt::SwitchAction { cases, default, .. } => {
                for (_, b) in cases {
                    ir_block_calls(body, b, out);
                }
                if let Some(b) = default {
                    ir_block_calls(body, b, out);
                }
            }
            Stmt::Block(b) => ir_block_calls(body, b, out),
            Stmt::Loop {
                cond,
                body: inner,
                update,
            } => {
                ir_expr_calls(body, *cond, out);
                ir_block_calls(body, inner, out);
                ir_block_calls(body, update, out);
            }
            Stmt::Return(None) | Stmt::Exit | Stmt::Break | Stmt::Continue => {}
        }
    }
}

fn ir_expr_calls(body: &ir::Body, e: Handle<ir::Expr>, out: &mut Vec<Handle<ir::Expr>>) {
    let Some(expr) = body.exprs.get(e) else {
        return;
    };
    let mut children: Vec<Handle<ir::Expr>> = Vec::new();
    match &expr.kind {
        ir::ExprKind::Call { callee, args } => {
            if let ir::Callee::ExternFunction { name, .. } = callee {
                if ADD_ENTRY.contains(&name.as_str()) {
                    out.push(e);
                }
            }
            children.extend(args);
        }
        ir::ExprKind::Field { base, .. }
        | ir::ExprKind::Slice { base, .. }
        | ir::ExprKind::StackMember { base, .. }
        | ir::ExprKind::Cast(base)
        | ir::ExprKind::Unary { operand: base, .. } => children.push(*base),
        ir::ExprKind::Element { base, index } => children.extend([*base, *index]),
        ir::ExprKind::DynamicSlice { base, lo, .. } => children.extend([*base, *lo]),
        ir::ExprKind::Binary { lhs, rhs, .. } => children.extend([*lhs, *rhs]),
        ir::ExprKind::Select {
            cond,
            then,
            otherwise,
        } => children.extend([*cond, *then, *otherwise]),
        ir::ExprKind::Compose(items) => children.extend(items),
        ir::ExprKind::Literal(_)
        | ir::ExprKind::Local(_)
        | ir::ExprKind::Instance(_)
        | ir::ExprKind::TableHit { .. } => {}
    }
    for child in children {
        ir_expr_calls(body, child, out);
    }
}
