//! Which grammar productions a program uses.
//!
//! [`productions`] walks a syntax tree and lists every [`Production`] it contains. The corpus
//! test asserts that the corpus as a whole uses each one, so a construct the parser accepts
//! but no test program exercises is caught. The walk matches every AST enum exhaustively: a new
//! kind of node cannot be added without naming its production here.

use std::collections::BTreeSet;

use crate::ast::*;

macro_rules! productions {
    ($($variant:ident,)*) => {
        /// A grammar production, or a lexical form worth exercising on its own.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[allow(missing_docs)]
        pub enum Production { $($variant,)* }

        impl Production {
            /// Every production.
            pub const ALL: &'static [Production] = &[$(Production::$variant,)*];
        }
    };
}

productions! {
    // Declarations
    DeclConst, DeclExternObject, DeclExternFunction, DeclAction, DeclParser, DeclControl,
    DeclInstantiation, DeclInstantiationWithInitializer, DeclError, DeclMatchKind, DeclFunction,
    DeclHeader, DeclHeaderUnion, DeclStruct, DeclGenericStruct, DeclEnum, DeclSerializableEnum,
    DeclTypedef, DeclTypedefOfDeclaration, DeclNewType, DeclParserType, DeclControlType,
    DeclPackage, DeclGenericPackage, DeclEmpty, ParserConstructorParams, ControlConstructorParams,
    ExternConstructor, ExternMethod, ExternAbstractMethod, ExternGenericMethod, ExternGeneric,
    GenericFunction, ObjectMemberFunction, ObjectMemberInstantiation,
    ParamIn, ParamOut, ParamInOut, ParamDirectionless, ParamDefault, ParamAnnotated,
    // Parser and control locals
    LocalConst, LocalVar, LocalInstantiation, LocalValueSet, LocalAction, LocalTable,
    StateAnnotated, TransitionDirect, TransitionSelect, StateWithoutTransition,
    KeysetExpr, KeysetMask, KeysetRange, KeysetDefault, KeysetDontCare, KeysetTuple,
    // Tables
    TableKey, TableKeyAnnotated, TableActions, TableActionAnnotated, TableActionWithArgs,
    TableEntries, TableConstEntries, EntryConst, EntryPriority, EntryAnnotated,
    TableProperty, TableConstProperty, TablePropertyAnnotated,
    // Statements
    StmtAssign, StmtCompoundAssign, StmtCall, StmtGenericCall, StmtDirectApply, StmtIf, StmtIfElse,
    StmtBlock, StmtBlockAnnotated, StmtEmpty, StmtReturn, StmtReturnValue, StmtExit, StmtBreak,
    StmtContinue, StmtSwitch, SwitchFallThrough, SwitchDefault, StmtForClassic, StmtForIn,
    StmtForInRange, StmtVar, StmtVarInit, StmtConst,
    // Expressions
    ExprIntPlain, ExprIntWidth, ExprIntSigned, ExprIntNegative, ExprIntHex, ExprIntBinary,
    ExprIntOctal, ExprIntWide, ExprBool, ExprString, ExprName, ExprTopLevelName, ExprThis,
    ExprDontCare, ExprDots, ExprErrorMember, ExprMember, ExprIndex, ExprSlice, ExprIndexedSlice,
    ExprList, ExprStructInit, ExprStructInitDots, ExprInvalidHeader, ExprNot, ExprBitNot,
    ExprNeg, ExprPlus, ExprMul, ExprDiv, ExprMod, ExprAdd, ExprSub, ExprSatAdd, ExprSatSub,
    ExprConcat, ExprShl, ExprShr, ExprBitAnd, ExprBitXor, ExprBitOr, ExprLt, ExprGt, ExprLe,
    ExprGe, ExprEq, ExprNe, ExprAnd, ExprOr, ExprConditional, ExprCast, ExprCall,
    ExprGenericCall, ExprConstruct, ExprNamedArgument,
    // Types
    TypeBool, TypeError, TypeMatchKind, TypeString, TypeInteger, TypeBit, TypeBits,
    TypeBitsExpr, TypeSignedBits, TypeVarbit, TypeVoid, TypeDontCare, TypeNamed,
    TypeTopLevelNamed, TypeSpecialized, TypeArray, TypeList, TypeTuple,
    // Annotations
    AnnotationPlain, AnnotationUnstructured, AnnotationExpressions, AnnotationKeyValues,
}

/// The productions `program` uses.
pub fn productions(program: &Program) -> BTreeSet<Production> {
    let mut walker = Walker {
        used: BTreeSet::new(),
    };
    for decl in &program.declarations {
        walker.declaration(decl);
    }
    walker.used
}

struct Walker {
    used: BTreeSet<Production>,
}

impl Walker {
    fn mark(&mut self, p: Production) {
        self.used.insert(p);
    }

    fn annotations(&mut self, annotations: &[Annotation]) {
        for a in annotations {
            match &a.body {
                AnnotationBody::None => self.mark(Production::AnnotationPlain),
                AnnotationBody::Unstructured(_) => self.mark(Production::AnnotationUnstructured),
                AnnotationBody::Expressions(exprs) => {
                    self.mark(Production::AnnotationExpressions);
                    exprs.iter().for_each(|e| self.expr(e));
                }
                AnnotationBody::KeyValues(pairs) => {
                    self.mark(Production::AnnotationKeyValues);
                    pairs.iter().for_each(|kv| self.expr(&kv.value));
                }
            }
        }
    }

    fn declaration(&mut self, decl: &Declaration) {
        use Production as P;
        match &decl.kind {
            DeclKind::Const(c) => {
                self.mark(P::DeclConst);
                self.const_decl(c);
            }
            DeclKind::ExternObject(e) => {
                self.mark(P::DeclExternObject);
                self.annotations(&e.annotations);
                if !e.type_params.is_empty() {
                    self.mark(P::ExternGeneric);
                }
                for m in &e.methods {
                    self.annotations(&m.annotations);
                    match &m.kind {
                        MethodKind::Constructor { params, .. } => {
                            self.mark(P::ExternConstructor);
                            self.params(params);
                        }
                        MethodKind::Method {
                            is_abstract,
                            prototype,
                        } => {
                            self.mark(if *is_abstract {
                                P::ExternAbstractMethod
                            } else {
                                P::ExternMethod
                            });
                            if !prototype.type_params.is_empty() {
                                self.mark(P::ExternGenericMethod);
                            }
                            self.prototype(prototype);
                        }
                    }
                }
            }
            DeclKind::ExternFunction {
                annotations,
                prototype,
            } => {
                self.mark(P::DeclExternFunction);
                self.annotations(annotations);
                self.prototype(prototype);
            }
            DeclKind::Action(a) => {
                self.mark(P::DeclAction);
                self.action(a);
            }
            DeclKind::Parser(p) => {
                self.mark(P::DeclParser);
                self.signature(&p.signature);
                if let Some(params) = &p.ctor_params {
                    self.mark(P::ParserConstructorParams);
                    self.params(params);
                }
                p.locals.iter().for_each(|l| self.local(l));
                for state in &p.states {
                    if !state.annotations.is_empty() {
                        self.mark(P::StateAnnotated);
                    }
                    self.annotations(&state.annotations);
                    state.stmts.iter().for_each(|s| self.stmt(s));
                    match &state.transition {
                        None => self.mark(P::StateWithoutTransition),
                        Some(Transition::Direct(_)) => self.mark(P::TransitionDirect),
                        Some(Transition::Select { exprs, cases, .. }) => {
                            self.mark(P::TransitionSelect);
                            exprs.iter().for_each(|e| self.expr(e));
                            cases.iter().for_each(|c| self.keyset(&c.keyset));
                        }
                    }
                }
            }
            DeclKind::Control(c) => {
                self.mark(P::DeclControl);
                self.signature(&c.signature);
                if let Some(params) = &c.ctor_params {
                    self.mark(P::ControlConstructorParams);
                    self.params(params);
                }
                c.locals.iter().for_each(|l| self.local(l));
                self.block(&c.apply);
            }
            DeclKind::Instantiation(i) => {
                self.mark(P::DeclInstantiation);
                self.instantiation(i);
            }
            DeclKind::Error(_) => self.mark(P::DeclError),
            DeclKind::MatchKind(_) => self.mark(P::DeclMatchKind),
            DeclKind::Function(f) => {
                self.mark(P::DeclFunction);
                self.function(f);
            }
            DeclKind::Header(s) => {
                self.mark(P::DeclHeader);
                self.struct_decl(s);
            }
            DeclKind::HeaderUnion(s) => {
                self.mark(P::DeclHeaderUnion);
                self.struct_decl(s);
            }
            DeclKind::Struct(s) => {
                self.mark(P::DeclStruct);
                self.struct_decl(s);
            }
            DeclKind::Enum(e) => {
                self.annotations(&e.annotations);
                match &e.underlying {
                    Some(ty) => {
                        self.mark(P::DeclSerializableEnum);
                        self.ty(ty);
                    }
                    None => self.mark(P::DeclEnum),
                }
                e.members
                    .iter()
                    .filter_map(|m| m.value.as_ref())
                    .for_each(|v| self.expr(v));
            }
            DeclKind::Typedef(t) => {
                self.annotations(&t.annotations);
                self.mark(if t.is_new_type {
                    P::DeclNewType
                } else {
                    P::DeclTypedef
                });
                match &t.target {
                    TypedefTarget::Type(ty) => self.ty(ty),
                    TypedefTarget::Declaration(d) => {
                        self.mark(P::DeclTypedefOfDeclaration);
                        self.declaration(d);
                    }
                }
            }
            DeclKind::ParserType(s) => {
                self.mark(P::DeclParserType);
                self.signature(s);
            }
            DeclKind::ControlType(s) => {
                self.mark(P::DeclControlType);
                self.signature(s);
            }
            DeclKind::Package(s) => {
                self.mark(P::DeclPackage);
                if !s.type_params.is_empty() {
                    self.mark(P::DeclGenericPackage);
                }
                self.signature(s);
            }
            DeclKind::Empty => self.mark(P::DeclEmpty),
        }
    }

    fn signature(&mut self, s: &TypeSignature) {
        self.annotations(&s.annotations);
        self.params(&s.params);
    }

    fn struct_decl(&mut self, s: &StructDecl) {
        self.annotations(&s.annotations);
        if !s.type_params.is_empty() {
            self.mark(Production::DeclGenericStruct);
        }
        for f in &s.fields {
            self.annotations(&f.annotations);
            self.ty(&f.ty);
        }
    }

    fn params(&mut self, params: &[Param]) {
        for p in params {
            self.mark(match p.direction {
                Direction::None => Production::ParamDirectionless,
                Direction::In => Production::ParamIn,
                Direction::Out => Production::ParamOut,
                Direction::InOut => Production::ParamInOut,
            });
            if !p.annotations.is_empty() {
                self.mark(Production::ParamAnnotated);
            }
            self.annotations(&p.annotations);
            self.ty(&p.ty);
            if let Some(d) = &p.default {
                self.mark(Production::ParamDefault);
                self.expr(d);
            }
        }
    }

    fn prototype(&mut self, p: &FunctionPrototype) {
        self.ty(&p.return_type);
        self.params(&p.params);
    }

    fn function(&mut self, f: &FunctionDecl) {
        self.annotations(&f.annotations);
        if !f.prototype.type_params.is_empty() {
            self.mark(Production::GenericFunction);
        }
        self.prototype(&f.prototype);
        self.block(&f.body);
    }

    fn action(&mut self, a: &ActionDecl) {
        self.annotations(&a.annotations);
        self.params(&a.params);
        self.block(&a.body);
    }

    fn instantiation(&mut self, i: &Instantiation) {
        self.annotations(&i.annotations);
        self.ty(&i.ty);
        self.args(&i.args);
        if let Some(members) = &i.initializer {
            self.mark(Production::DeclInstantiationWithInitializer);
            for m in members {
                match m {
                    ObjectMember::Function(f) => {
                        self.mark(Production::ObjectMemberFunction);
                        self.function(f);
                    }
                    ObjectMember::Instantiation(i) => {
                        self.mark(Production::ObjectMemberInstantiation);
                        self.instantiation(i);
                    }
                }
            }
        }
    }

    fn local(&mut self, local: &LocalDecl) {
        use Production as P;
        match local {
            LocalDecl::Const(c, _) => {
                self.mark(P::LocalConst);
                self.const_decl(c);
            }
            LocalDecl::Var(v, _) => {
                self.mark(P::LocalVar);
                self.var(v);
            }
            LocalDecl::Instantiation(i, _) => {
                self.mark(P::LocalInstantiation);
                self.instantiation(i);
            }
            LocalDecl::ValueSet(v, _) => {
                self.mark(P::LocalValueSet);
                self.annotations(&v.annotations);
                self.ty(&v.element);
                self.expr(&v.size);
            }
            LocalDecl::Action(a, _) => {
                self.mark(P::LocalAction);
                self.action(a);
            }
            LocalDecl::Table(t, _) => {
                self.mark(P::LocalTable);
                self.annotations(&t.annotations);
                for prop in &t.properties {
                    self.table_property(prop);
                }
            }
        }
    }

    fn table_property(&mut self, prop: &TableProperty) {
        use Production as P;
        match &prop.kind {
            TablePropertyKind::Key(elements) => {
                self.mark(P::TableKey);
                for e in elements {
                    if !e.annotations.is_empty() {
                        self.mark(P::TableKeyAnnotated);
                    }
                    self.annotations(&e.annotations);
                    self.expr(&e.expr);
                }
            }
            TablePropertyKind::Actions(actions) => {
                self.mark(P::TableActions);
                actions.iter().for_each(|a| self.action_ref(a));
            }
            TablePropertyKind::Entries {
                annotations,
                is_const,
                entries,
            } => {
                self.mark(if *is_const {
                    P::TableConstEntries
                } else {
                    P::TableEntries
                });
                self.annotations(annotations);
                for e in entries {
                    if e.is_const {
                        self.mark(P::EntryConst);
                    }
                    if let Some(p) = &e.priority {
                        self.mark(P::EntryPriority);
                        self.expr(p);
                    }
                    if !e.annotations.is_empty() {
                        self.mark(P::EntryAnnotated);
                    }
                    self.annotations(&e.annotations);
                    self.keyset(&e.keyset);
                    self.action_ref(&e.action);
                }
            }
            TablePropertyKind::Other {
                annotations,
                is_const,
                value,
                ..
            } => {
                self.mark(if *is_const {
                    P::TableConstProperty
                } else {
                    P::TableProperty
                });
                if !annotations.is_empty() {
                    self.mark(P::TablePropertyAnnotated);
                }
                self.annotations(annotations);
                self.expr(value);
            }
        }
    }

    fn action_ref(&mut self, a: &ActionRef) {
        if !a.annotations.is_empty() {
            self.mark(Production::TableActionAnnotated);
        }
        self.annotations(&a.annotations);
        if let Some(args) = &a.args {
            self.mark(Production::TableActionWithArgs);
            self.args(args);
        }
    }

    fn keyset(&mut self, k: &Keyset) {
        use Production as P;
        match k {
            Keyset::Expr(e) => {
                self.mark(P::KeysetExpr);
                self.expr(e);
            }
            Keyset::Mask(a, b) => {
                self.mark(P::KeysetMask);
                self.expr(a);
                self.expr(b);
            }
            Keyset::Range(a, b) => {
                self.mark(P::KeysetRange);
                self.expr(a);
                self.expr(b);
            }
            Keyset::Default(_) => self.mark(P::KeysetDefault),
            Keyset::DontCare(_) => self.mark(P::KeysetDontCare),
            Keyset::Tuple(items, _) => {
                self.mark(P::KeysetTuple);
                items.iter().for_each(|k| self.keyset(k));
            }
        }
    }

    fn const_decl(&mut self, c: &ConstDecl) {
        self.annotations(&c.annotations);
        self.ty(&c.ty);
        self.expr(&c.value);
    }

    fn var(&mut self, v: &VarDecl) {
        self.annotations(&v.annotations);
        self.ty(&v.ty);
        if let Some(init) = &v.init {
            self.expr(init);
        }
    }

    fn block(&mut self, b: &Block) {
        self.annotations(&b.annotations);
        b.stmts.iter().for_each(|s| self.stmt(s));
    }

    fn stmt(&mut self, s: &Stmt) {
        use Production as P;
        match &s.kind {
            StmtKind::Assign { lhs, op, rhs } => {
                self.mark(if op.is_some() {
                    P::StmtCompoundAssign
                } else {
                    P::StmtAssign
                });
                if let Some(op) = op {
                    self.mark(binary_production(*op));
                }
                self.expr(lhs);
                self.expr(rhs);
            }
            StmtKind::Call(e) => {
                self.mark(P::StmtCall);
                if matches!(&e.kind, ExprKind::Call { type_args, .. } if !type_args.is_empty()) {
                    self.mark(P::StmtGenericCall);
                }
                self.expr(e);
            }
            StmtKind::DirectApply { ty, args } => {
                self.mark(P::StmtDirectApply);
                self.ty(ty);
                self.args(args);
            }
            StmtKind::If {
                cond,
                then,
                otherwise,
            } => {
                self.mark(if otherwise.is_some() {
                    P::StmtIfElse
                } else {
                    P::StmtIf
                });
                self.expr(cond);
                self.stmt(then);
                if let Some(o) = otherwise {
                    self.stmt(o);
                }
            }
            StmtKind::Block(b) => {
                self.mark(if b.annotations.is_empty() {
                    P::StmtBlock
                } else {
                    P::StmtBlockAnnotated
                });
                self.block(b);
            }
            StmtKind::Empty => self.mark(P::StmtEmpty),
            StmtKind::Return(None) => self.mark(P::StmtReturn),
            StmtKind::Return(Some(e)) => {
                self.mark(P::StmtReturnValue);
                self.expr(e);
            }
            StmtKind::Exit => self.mark(P::StmtExit),
            StmtKind::Break => self.mark(P::StmtBreak),
            StmtKind::Continue => self.mark(P::StmtContinue),
            StmtKind::Switch { expr, cases } => {
                self.mark(P::StmtSwitch);
                self.expr(expr);
                for c in cases {
                    match &c.label {
                        SwitchLabel::Default(_) => self.mark(P::SwitchDefault),
                        SwitchLabel::Expr(e) => self.expr(e),
                    }
                    match &c.body {
                        Some(b) => self.block(b),
                        None => self.mark(P::SwitchFallThrough),
                    }
                }
            }
            StmtKind::For(f) => match f.as_ref() {
                ForLoop::Classic {
                    annotations,
                    init,
                    cond,
                    update,
                    body,
                } => {
                    self.mark(P::StmtForClassic);
                    self.annotations(annotations);
                    init.iter().chain(update).for_each(|s| self.stmt(s));
                    self.expr(cond);
                    self.stmt(body);
                }
                ForLoop::In {
                    annotations,
                    var_annotations,
                    ty,
                    collection,
                    range_end,
                    body,
                    ..
                } => {
                    self.mark(if range_end.is_some() {
                        P::StmtForInRange
                    } else {
                        P::StmtForIn
                    });
                    self.annotations(annotations);
                    self.annotations(var_annotations);
                    self.ty(ty);
                    self.expr(collection);
                    if let Some(e) = range_end {
                        self.expr(e);
                    }
                    self.stmt(body);
                }
            },
            StmtKind::Var(v) => {
                self.mark(if v.init.is_some() {
                    P::StmtVarInit
                } else {
                    P::StmtVar
                });
                self.var(v);
            }
            StmtKind::Const(c) => {
                self.mark(P::StmtConst);
                self.const_decl(c);
            }
        }
    }

    fn args(&mut self, args: &[Argument]) {
        for a in args {
            if a.name.is_some() {
                self.mark(Production::ExprNamedArgument);
            }
            self.expr(&a.value);
        }
    }

    fn expr(&mut self, e: &Expr) {
        use Production as P;
        match &e.kind {
            ExprKind::Int(lit) => {
                self.mark(match lit.width {
                    None => P::ExprIntPlain,
                    Some((_, false)) => P::ExprIntWidth,
                    Some((_, true)) => P::ExprIntSigned,
                });
                if lit.negative {
                    self.mark(P::ExprIntNegative);
                }
                if lit.width.is_some_and(|(w, _)| w > 64) {
                    self.mark(P::ExprIntWide);
                }
                match lit.base {
                    Base::Hex => self.mark(P::ExprIntHex),
                    Base::Binary => self.mark(P::ExprIntBinary),
                    Base::Octal => self.mark(P::ExprIntOctal),
                    Base::Decimal => {}
                }
            }
            ExprKind::Bool(_) => self.mark(P::ExprBool),
            ExprKind::String(_) => self.mark(P::ExprString),
            ExprKind::Name(path) => self.mark(if path.top_level {
                P::ExprTopLevelName
            } else {
                P::ExprName
            }),
            ExprKind::This => self.mark(P::ExprThis),
            ExprKind::DontCare => self.mark(P::ExprDontCare),
            ExprKind::Dots => self.mark(P::ExprDots),
            ExprKind::ErrorMember(_) => self.mark(P::ExprErrorMember),
            ExprKind::Member { base, .. } => {
                self.mark(P::ExprMember);
                self.expr(base);
            }
            ExprKind::Index { base, index } => {
                self.mark(P::ExprIndex);
                self.expr(base);
                self.expr(index);
            }
            ExprKind::Slice { base, hi, lo } => {
                self.mark(P::ExprSlice);
                self.expr(base);
                self.expr(hi);
                self.expr(lo);
            }
            ExprKind::IndexedSlice { base, lo, width } => {
                self.mark(P::ExprIndexedSlice);
                self.expr(base);
                self.expr(lo);
                self.expr(width);
            }
            ExprKind::List(items) => {
                self.mark(P::ExprList);
                items.iter().for_each(|i| self.expr(i));
            }
            ExprKind::StructInit { fields, dots } => {
                self.mark(if *dots {
                    P::ExprStructInitDots
                } else {
                    P::ExprStructInit
                });
                fields.iter().for_each(|f| self.expr(&f.value));
            }
            ExprKind::InvalidHeader => self.mark(P::ExprInvalidHeader),
            ExprKind::Unary { op, operand } => {
                self.mark(match op {
                    UnaryOp::Not => P::ExprNot,
                    UnaryOp::BitNot => P::ExprBitNot,
                    UnaryOp::Neg => P::ExprNeg,
                    UnaryOp::Plus => P::ExprPlus,
                });
                self.expr(operand);
            }
            ExprKind::Binary { op, lhs, rhs } => {
                self.mark(binary_production(*op));
                self.expr(lhs);
                self.expr(rhs);
            }
            ExprKind::Conditional {
                cond,
                then,
                otherwise,
            } => {
                self.mark(P::ExprConditional);
                self.expr(cond);
                self.expr(then);
                self.expr(otherwise);
            }
            ExprKind::Cast { ty, expr } => {
                self.mark(P::ExprCast);
                self.ty(ty);
                self.expr(expr);
            }
            ExprKind::Call {
                callee,
                type_args,
                args,
            } => {
                self.mark(if type_args.is_empty() {
                    P::ExprCall
                } else {
                    P::ExprGenericCall
                });
                self.expr(callee);
                type_args.iter().for_each(|t| self.ty(t));
                self.args(args);
            }
            ExprKind::Construct { ty, args } => {
                self.mark(P::ExprConstruct);
                self.ty(ty);
                self.args(args);
            }
        }
    }

    fn ty(&mut self, t: &Type) {
        use Production as P;
        match &t.kind {
            TypeKind::Bool => self.mark(P::TypeBool),
            TypeKind::Error => self.mark(P::TypeError),
            TypeKind::MatchKind => self.mark(P::TypeMatchKind),
            TypeKind::String => self.mark(P::TypeString),
            TypeKind::Integer => self.mark(P::TypeInteger),
            TypeKind::Bit => self.mark(P::TypeBit),
            TypeKind::Bits(w) => {
                self.mark(if matches!(w.kind, ExprKind::Int(_)) {
                    P::TypeBits
                } else {
                    P::TypeBitsExpr
                });
                self.expr(w);
            }
            TypeKind::SignedBits(w) => {
                self.mark(P::TypeSignedBits);
                self.expr(w);
            }
            TypeKind::Varbit(w) => {
                self.mark(P::TypeVarbit);
                self.expr(w);
            }
            TypeKind::Void => self.mark(P::TypeVoid),
            TypeKind::DontCare => self.mark(P::TypeDontCare),
            TypeKind::Named(path) => self.mark(if path.top_level {
                P::TypeTopLevelNamed
            } else {
                P::TypeNamed
            }),
            TypeKind::Specialized { args, .. } => {
                self.mark(P::TypeSpecialized);
                args.iter().for_each(|a| self.ty(a));
            }
            TypeKind::Array { element, size } => {
                self.mark(P::TypeArray);
                self.ty(element);
                self.expr(size);
            }
            TypeKind::List(element) => {
                self.mark(P::TypeList);
                self.ty(element);
            }
            TypeKind::Tuple(items) => {
                self.mark(P::TypeTuple);
                items.iter().for_each(|i| self.ty(i));
            }
        }
    }
}

fn binary_production(op: BinaryOp) -> Production {
    use Production as P;
    match op {
        BinaryOp::Mul => P::ExprMul,
        BinaryOp::Div => P::ExprDiv,
        BinaryOp::Mod => P::ExprMod,
        BinaryOp::Add => P::ExprAdd,
        BinaryOp::Sub => P::ExprSub,
        BinaryOp::SatAdd => P::ExprSatAdd,
        BinaryOp::SatSub => P::ExprSatSub,
        BinaryOp::Concat => P::ExprConcat,
        BinaryOp::Shl => P::ExprShl,
        BinaryOp::Shr => P::ExprShr,
        BinaryOp::BitAnd => P::ExprBitAnd,
        BinaryOp::BitXor => P::ExprBitXor,
        BinaryOp::BitOr => P::ExprBitOr,
        BinaryOp::Lt => P::ExprLt,
        BinaryOp::Gt => P::ExprGt,
        BinaryOp::Le => P::ExprLe,
        BinaryOp::Ge => P::ExprGe,
        BinaryOp::Eq => P::ExprEq,
        BinaryOp::Ne => P::ExprNe,
        BinaryOp::And => P::ExprAnd,
        BinaryOp::Or => P::ExprOr,
    }
}
