//! Declarations: top level, parsers, controls, tables, externs and types.

use std::fmt::Write as _;

use super::expr::{
    annotations_after, annotations_inline, arguments, expr_at, expr_list, ident_list, int_literal,
    no_leading_brace, print_path, type_params,
};
use super::{
    print_expr, print_keyset, print_type, Printer, INDENT, LEVEL_NO_CONDITIONAL, MAX_LINE,
};
use crate::ast::{
    ActionDecl, ActionRef, ControlDecl, DeclKind, Declaration, Direction, EnumDecl, ExprKind,
    FunctionDecl, FunctionPrototype, Ident, Instantiation, LocalDecl, MethodKind, ObjectMember,
    Param, ParserDecl, ParserState, StructDecl, TableDecl, TablePropertyKind, Transition,
    TypeSignature, TypedefTarget,
};

pub(super) fn param(param: &Param) -> String {
    let direction = match param.direction {
        Direction::None => "",
        Direction::In => "in ",
        Direction::Out => "out ",
        Direction::InOut => "inout ",
    };
    let mut out = format!(
        "{}{direction}{} {}",
        annotations_inline(&param.annotations),
        print_type(&param.ty),
        param.name.name
    );
    if let Some(default) = &param.default {
        let _ = write!(out, " = {}", print_expr(default));
    }
    out
}

pub(super) fn params(params: &[Param]) -> String {
    let parts: Vec<String> = params.iter().map(param).collect();
    parts.join(", ")
}

/// `R name<T>(params)`
pub(super) fn prototype(proto: &FunctionPrototype) -> String {
    format!(
        "{} {}{}({})",
        print_type(&proto.return_type),
        proto.name.name,
        type_params(&proto.type_params),
        params(&proto.params)
    )
}

/// `keyword name<T>(params)`, without annotations.
pub(super) fn signature(keyword: &str, sig: &TypeSignature) -> String {
    format!(
        "{keyword} {}{}({})",
        sig.name.name,
        type_params(&sig.type_params),
        params(&sig.params)
    )
}

/// `@annotations name` or `@annotations name(args)`.
pub(super) fn action_ref(action: &ActionRef) -> String {
    let mut out = format!(
        "{}{}",
        annotations_inline(&action.annotations),
        print_path(&action.name)
    );
    if let Some(args) = &action.args {
        let _ = write!(out, "({})", arguments(args));
    }
    out
}

impl Printer {
    // -- Declarations ---------------------------------------------------------------------------

    pub(super) fn declaration(&mut self, decl: &Declaration) {
        match &decl.kind {
            DeclKind::Const(c) => self.const_decl(c),
            DeclKind::ExternObject(object) => {
                self.annotation_lines(&object.annotations);
                let header = format!(
                    "extern {}{} {{",
                    object.name.name,
                    type_params(&object.type_params)
                );
                if object.methods.is_empty() {
                    self.line(&format!("{header}}}"));
                    return;
                }
                self.line(&header);
                self.indent += 1;
                for method in &object.methods {
                    self.annotation_lines(&method.annotations);
                    match &method.kind {
                        MethodKind::Constructor { name, params: ps } => {
                            self.line(&format!("{}({});", name.name, params(ps)));
                        }
                        MethodKind::Method {
                            is_abstract,
                            prototype: proto,
                        } => {
                            let keyword = if *is_abstract { "abstract " } else { "" };
                            self.line(&format!("{keyword}{};", prototype(proto)));
                        }
                    }
                }
                self.indent -= 1;
                self.line("}");
            }
            DeclKind::ExternFunction {
                annotations,
                prototype: proto,
            } => {
                self.annotation_lines(annotations);
                self.line(&format!("extern {};", prototype(proto)));
            }
            DeclKind::Action(action) => self.action(action),
            DeclKind::Parser(parser) => self.parser(parser),
            DeclKind::Control(control) => self.control(control),
            DeclKind::Instantiation(inst) => self.instantiation(inst),
            DeclKind::Error(names) => self.name_list("error", names),
            DeclKind::MatchKind(names) => self.name_list("match_kind", names),
            DeclKind::Function(function) => self.function(function),
            DeclKind::Header(s) => self.struct_like("header", s, false),
            DeclKind::HeaderUnion(s) => self.struct_like("header_union", s, false),
            DeclKind::Struct(s) => self.struct_like("struct", s, false),
            DeclKind::Enum(e) => self.enum_decl(e, false),
            DeclKind::Typedef(typedef) => {
                self.annotation_lines(&typedef.annotations);
                let keyword = if typedef.is_new_type {
                    "type"
                } else {
                    "typedef"
                };
                match &typedef.target {
                    TypedefTarget::Type(ty) => {
                        self.line(&format!(
                            "{keyword} {} {};",
                            print_type(ty),
                            typedef.name.name
                        ));
                    }
                    TypedefTarget::Declaration(inner) => {
                        // `typedef struct S { ... } T;`: the declaration in place, its
                        // annotations on its first line.
                        let mut nested = Printer {
                            out: String::new(),
                            indent: self.indent,
                        };
                        nested.inline_declaration(inner);
                        let text = nested.out;
                        let body = text.trim_start_matches(' ');
                        self.line(&format!("{keyword} {}", body.trim_end_matches('\n')));
                        self.append(&format!(" {};", typedef.name.name));
                    }
                }
            }
            DeclKind::ParserType(sig) => {
                self.annotation_lines(&sig.annotations);
                self.line(&format!("{};", signature("parser", sig)));
            }
            DeclKind::ControlType(sig) => {
                self.annotation_lines(&sig.annotations);
                self.line(&format!("{};", signature("control", sig)));
            }
            DeclKind::Package(sig) => {
                self.annotation_lines(&sig.annotations);
                self.line(&format!("{};", signature("package", sig)));
            }
            DeclKind::Empty => self.line(";"),
        }
    }

    /// `error { A, B }` or `match_kind { a, b }`: on one line when short, else one name a
    /// line.
    pub(super) fn name_list(&mut self, keyword: &str, names: &[Ident]) {
        let one_line = format!("{keyword} {{ {} }}", ident_list(names));
        if names.is_empty() {
            self.line(&format!("{keyword} {{}}"));
        } else if one_line.len() + self.indent * INDENT.len() <= MAX_LINE {
            self.line(&one_line);
        } else {
            let last = names.len() - 1;
            let lines: Vec<String> = names
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    if i < last {
                        format!("{},", n.name)
                    } else {
                        n.name.clone()
                    }
                })
                .collect();
            self.braced_lines(&format!("{keyword} {{"), &lines, "}");
        }
    }

    /// A declaration inside a typedef: derived types keep their annotations on the first
    /// line; anything else prints as usual.
    pub(super) fn inline_declaration(&mut self, decl: &Declaration) {
        match &decl.kind {
            DeclKind::Header(s) => self.struct_like("header", s, true),
            DeclKind::HeaderUnion(s) => self.struct_like("header_union", s, true),
            DeclKind::Struct(s) => self.struct_like("struct", s, true),
            DeclKind::Enum(e) => self.enum_decl(e, true),
            DeclKind::Const(_)
            | DeclKind::ExternObject(_)
            | DeclKind::ExternFunction { .. }
            | DeclKind::Action(_)
            | DeclKind::Parser(_)
            | DeclKind::Control(_)
            | DeclKind::Instantiation(_)
            | DeclKind::Error(_)
            | DeclKind::MatchKind(_)
            | DeclKind::Function(_)
            | DeclKind::Typedef(_)
            | DeclKind::ParserType(_)
            | DeclKind::ControlType(_)
            | DeclKind::Package(_)
            | DeclKind::Empty => self.declaration(decl),
        }
    }

    pub(super) fn struct_like(
        &mut self,
        keyword: &str,
        decl: &StructDecl,
        inline_annotations: bool,
    ) {
        let mut header = String::new();
        if inline_annotations {
            header.push_str(&annotations_inline(&decl.annotations));
        } else {
            self.annotation_lines(&decl.annotations);
        }
        let _ = write!(
            header,
            "{keyword} {}{} {{",
            decl.name.name,
            type_params(&decl.type_params)
        );
        if decl.fields.is_empty() {
            header.push('}');
            self.line(&header);
            return;
        }
        self.line(&header);
        self.indent += 1;
        for field in &decl.fields {
            self.line(&format!(
                "{}{} {};",
                annotations_inline(&field.annotations),
                print_type(&field.ty),
                field.name.name
            ));
        }
        self.indent -= 1;
        self.line("}");
    }

    pub(super) fn enum_decl(&mut self, decl: &EnumDecl, inline_annotations: bool) {
        let mut header = String::new();
        if inline_annotations {
            header.push_str(&annotations_inline(&decl.annotations));
        } else {
            self.annotation_lines(&decl.annotations);
        }
        header.push_str("enum ");
        if let Some(underlying) = &decl.underlying {
            header.push_str(&print_type(underlying));
            header.push(' ');
        }
        let _ = write!(header, "{} {{", decl.name.name);
        if decl.members.is_empty() {
            header.push('}');
            self.line(&header);
            return;
        }
        self.line(&header);
        self.indent += 1;
        let last = decl.members.len() - 1;
        for (i, member) in decl.members.iter().enumerate() {
            let mut text = member.name.name.clone();
            if let Some(value) = &member.value {
                let _ = write!(text, " = {}", print_expr(value));
            }
            if i < last {
                text.push(',');
            }
            self.line(&text);
        }
        self.indent -= 1;
        self.line("}");
    }

    pub(super) fn action(&mut self, action: &ActionDecl) {
        self.annotation_lines(&action.annotations);
        let header = format!("action {}({})", action.name.name, params(&action.params));
        self.block(&header, false, &action.body);
    }

    pub(super) fn function(&mut self, function: &FunctionDecl) {
        self.annotation_lines(&function.annotations);
        self.block(&prototype(&function.prototype), false, &function.body);
    }

    pub(super) fn instantiation(&mut self, inst: &Instantiation) {
        self.annotation_lines(&inst.annotations);
        let text = format!(
            "{}({}) {}",
            print_type(&inst.ty),
            arguments(&inst.args),
            inst.name.name
        );
        let Some(members) = &inst.initializer else {
            self.line(&format!("{text};"));
            return;
        };
        if members.is_empty() {
            self.line(&format!("{text} = {{}};"));
            return;
        }
        self.line(&format!("{text} = {{"));
        self.indent += 1;
        for (i, member) in members.iter().enumerate() {
            if i > 0 {
                self.blank();
            }
            match member {
                ObjectMember::Function(function) => self.function(function),
                ObjectMember::Instantiation(inner) => self.instantiation(inner),
            }
        }
        self.indent -= 1;
        self.line("};");
    }

    /// `parser P(...)` / `control C(...)` and the constructor parameters, without `{`.
    pub(super) fn type_header(
        keyword: &str,
        sig: &TypeSignature,
        ctor_params: Option<&Vec<Param>>,
    ) -> String {
        let mut header = signature(keyword, sig);
        if let Some(ctor) = ctor_params {
            let _ = write!(header, "({})", params(ctor));
        }
        header
    }

    pub(super) fn parser(&mut self, parser: &ParserDecl) {
        self.annotation_lines(&parser.signature.annotations);
        let header = Self::type_header("parser", &parser.signature, parser.ctor_params.as_ref());
        self.line(&format!("{header} {{"));
        self.indent += 1;
        self.locals(&parser.locals);
        for (i, state) in parser.states.iter().enumerate() {
            if i > 0 || !parser.locals.is_empty() {
                self.blank();
            }
            self.state(state);
        }
        self.indent -= 1;
        self.line("}");
    }

    pub(super) fn state(&mut self, state: &ParserState) {
        self.annotation_lines(&state.annotations);
        if state.stmts.is_empty() && state.transition.is_none() {
            self.line(&format!("state {} {{}}", state.name.name));
            return;
        }
        self.line(&format!("state {} {{", state.name.name));
        self.indent += 1;
        for stmt in &state.stmts {
            self.stmt(stmt);
        }
        match &state.transition {
            None => {}
            Some(Transition::Direct(next)) => self.line(&format!("transition {};", next.name)),
            Some(Transition::Select {
                exprs,
                cases,
                span: _,
            }) => {
                let header = format!("transition select({}) {{", expr_list(exprs));
                if cases.is_empty() {
                    self.line(&format!("{header}}}"));
                } else {
                    self.line(&header);
                    self.indent += 1;
                    for case in cases {
                        self.line(&format!(
                            "{}: {};",
                            print_keyset(&case.keyset),
                            case.state.name
                        ));
                    }
                    self.indent -= 1;
                    self.line("}");
                }
            }
        }
        self.indent -= 1;
        self.line("}");
    }

    pub(super) fn control(&mut self, control: &ControlDecl) {
        self.annotation_lines(&control.signature.annotations);
        let header = Self::type_header("control", &control.signature, control.ctor_params.as_ref());
        self.line(&format!("{header} {{"));
        self.indent += 1;
        self.locals(&control.locals);
        if !control.locals.is_empty() {
            self.blank();
        }
        self.block("apply", false, &control.apply);
        self.indent -= 1;
        self.line("}");
    }

    /// Local declarations of a parser or control; multi-line ones (actions, tables,
    /// instances with initializers) are set apart by blank lines.
    pub(super) fn locals(&mut self, locals: &[LocalDecl]) {
        let mut prev_big = false;
        for (i, local) in locals.iter().enumerate() {
            let big = match local {
                LocalDecl::Const(..) | LocalDecl::Var(..) | LocalDecl::ValueSet(..) => false,
                LocalDecl::Instantiation(inst, _) => inst.initializer.is_some(),
                LocalDecl::Action(..) | LocalDecl::Table(..) => true,
            };
            if i > 0 && (big || prev_big) {
                self.blank();
            }
            prev_big = big;
            match local {
                LocalDecl::Const(decl, _) => self.const_decl(decl),
                LocalDecl::Var(decl, _) => self.var_decl(decl),
                LocalDecl::Instantiation(inst, _) => self.instantiation(inst),
                LocalDecl::ValueSet(set, _) => {
                    self.annotation_lines(&set.annotations);
                    self.line(&format!(
                        "value_set<{}>({}) {};",
                        print_type(&set.element),
                        print_expr(&set.size),
                        set.name.name
                    ));
                }
                LocalDecl::Action(action, _) => self.action(action),
                LocalDecl::Table(table, _) => self.table(table),
            }
        }
    }

    pub(super) fn table(&mut self, table: &TableDecl) {
        self.annotation_lines(&table.annotations);
        self.line(&format!("table {} {{", table.name.name));
        self.indent += 1;
        for property in &table.properties {
            match &property.kind {
                TablePropertyKind::Key(elements) => {
                    let lines: Vec<String> = elements
                        .iter()
                        .map(|element| {
                            format!(
                                "{}: {}{};",
                                no_leading_brace(expr_at(&element.expr, LEVEL_NO_CONDITIONAL)),
                                element.match_kind.name,
                                annotations_after(&element.annotations)
                            )
                        })
                        .collect();
                    self.braced_lines("key = {", &lines, "}");
                }
                TablePropertyKind::Actions(actions) => {
                    let lines: Vec<String> = actions
                        .iter()
                        .map(|a| format!("{};", action_ref(a)))
                        .collect();
                    self.braced_lines("actions = {", &lines, "}");
                }
                TablePropertyKind::Entries {
                    annotations,
                    is_const,
                    entries,
                } => {
                    let header = format!(
                        "{}{}entries = {{",
                        annotations_inline(annotations),
                        if *is_const { "const " } else { "" }
                    );
                    let lines: Vec<String> = entries
                        .iter()
                        .map(|entry| {
                            let mut text = String::new();
                            if entry.is_const {
                                text.push_str("const ");
                            }
                            if let Some(priority) = &entry.priority {
                                let value = match &priority.kind {
                                    ExprKind::Int(lit) => int_literal(lit),
                                    _ => format!("({})", print_expr(priority)),
                                };
                                let _ = write!(text, "priority = {value}: ");
                            }
                            let _ = write!(
                                text,
                                "{}: {}{};",
                                print_keyset(&entry.keyset),
                                action_ref(&entry.action),
                                annotations_after(&entry.annotations)
                            );
                            text
                        })
                        .collect();
                    self.braced_lines(&header, &lines, "}");
                }
                TablePropertyKind::Other {
                    annotations,
                    is_const,
                    name,
                    value,
                } => {
                    self.line(&format!(
                        "{}{}{} = {};",
                        annotations_inline(annotations),
                        if *is_const { "const " } else { "" },
                        name.name,
                        print_expr(value)
                    ));
                }
            }
        }
        self.indent -= 1;
        self.line("}");
    }
}
