//! A small builder of IR modules for unit tests: just enough of a program (types, controls,
//! actions, tables, extern instances) for the layout and introspection passes to read.

use num_bigint::BigInt;

use crate::arena::Handle;
use crate::ir::{
    Action, ActionCall, ActionScope, Annotation, AnnotationArg, BlockKind, BlockType, Body,
    Composite, CompositeKind, EnumDef, Expr, ExprKind, ExternDef, Field, Instance, Local,
    LocalKind, Module, PropertyValue, Table, TableAction, TableKey, Type, Value,
};
use crate::Span;

/// `@name`
pub(crate) fn ann(name: &str) -> Annotation {
    Annotation {
        name: name.into(),
        args: Vec::new(),
    }
}

/// `@name("value")`
pub(crate) fn ann_str(name: &str, value: &str) -> Annotation {
    Annotation {
        name: name.into(),
        args: vec![AnnotationArg::String(value.into())],
    }
}

/// `@name(value)`
pub(crate) fn ann_int(name: &str, value: i64) -> Annotation {
    Annotation {
        name: name.into(),
        args: vec![AnnotationArg::Int(BigInt::from(value))],
    }
}

/// Builds a [`Module`] step by step.
pub(crate) struct ModuleBuilder {
    pub(crate) module: Module,
}

impl ModuleBuilder {
    /// An empty module with core.p4's and PNA's match kinds.
    pub(crate) fn new() -> ModuleBuilder {
        let module = Module {
            match_kinds: ["exact", "ternary", "lpm", "range", "optional", "selector"]
                .map(String::from)
                .to_vec(),
            ..Module::default()
        };
        ModuleBuilder { module }
    }

    pub(crate) fn ty(&mut self, ty: Type) -> Handle<Type> {
        self.module.types.insert(ty)
    }

    pub(crate) fn bits(&mut self, width: u32) -> Handle<Type> {
        self.ty(Type::Bits {
            width,
            signed: false,
        })
    }

    pub(crate) fn int(&mut self, width: u32) -> Handle<Type> {
        self.ty(Type::Bits {
            width,
            signed: true,
        })
    }

    pub(crate) fn bool(&mut self) -> Handle<Type> {
        self.ty(Type::Bool)
    }

    /// `type <underlying> name`
    pub(crate) fn newtype(&mut self, name: &str, underlying: Handle<Type>) -> Handle<Type> {
        self.ty(Type::NewType {
            name: name.into(),
            underlying,
        })
    }

    /// An enum; serializable when `underlying` is given.
    pub(crate) fn enumeration(
        &mut self,
        name: &str,
        underlying: Option<Handle<Type>>,
        members: &[&str],
    ) -> Handle<Type> {
        let def = self.module.enums.insert(EnumDef {
            name: name.into(),
            underlying,
            members: members.iter().map(|m| (m.to_string(), None)).collect(),
        });
        self.ty(Type::Enum(def))
    }

    /// A struct type; fields may carry annotations such as `@tc_type`.
    pub(crate) fn structure(
        &mut self,
        name: &str,
        fields: &[(&str, Handle<Type>, Vec<Annotation>)],
    ) -> Handle<Type> {
        let composite = self.module.composites.insert(Composite {
            kind: CompositeKind::Struct,
            name: name.into(),
            fields: fields
                .iter()
                .map(|(n, ty, annotations)| Field {
                    name: n.to_string(),
                    ty: *ty,
                    annotations: annotations.clone(),
                })
                .collect(),
        });
        self.ty(Type::Composite(composite))
    }

    /// A control with an empty body.
    pub(crate) fn control(&mut self, name: &str) -> Handle<BlockType> {
        self.module.block_types.append(
            BlockType {
                name: name.into(),
                kind: BlockKind::Control,
                apply_params: 0,
                ctor_params: 0,
                body: Body::default(),
                states: Vec::new(),
                annotations: Vec::new(),
            },
            Span::default(),
        )
    }

    /// An action whose parameters are all directionless (action data).
    pub(crate) fn action(
        &mut self,
        control: Option<Handle<BlockType>>,
        name: &str,
        params: &[(&str, Handle<Type>)],
    ) -> Handle<Action> {
        let params: Vec<_> = params
            .iter()
            .map(|(n, ty)| (*n, *ty, LocalKind::Directionless))
            .collect();
        self.action_with(control, name, &params, Vec::new())
    }

    /// An action with parameters of any direction, and annotations.
    pub(crate) fn action_with(
        &mut self,
        control: Option<Handle<BlockType>>,
        name: &str,
        params: &[(&str, Handle<Type>, LocalKind)],
        annotations: Vec<Annotation>,
    ) -> Handle<Action> {
        // A control-local action's parameters live in the control's body (see `ir::Action`).
        let mut own = Body::default();
        let body = match control {
            Some(c) => &mut self.module.block_types[c].body,
            None => &mut own,
        };
        let params = params
            .iter()
            .map(|(n, ty, kind)| {
                body.locals.append(
                    Local {
                        name: n.to_string(),
                        ty: *ty,
                        kind: *kind,
                        annotations: Vec::new(),
                    },
                    Span::default(),
                )
            })
            .collect();
        self.module.actions.append(
            Action {
                name: name.into(),
                control,
                body: own,
                params,
                annotations,
            },
            Span::default(),
        )
    }

    /// Starts a table of `control`.
    pub(crate) fn table(&mut self, control: Handle<BlockType>, name: &str) -> TableBuilder<'_> {
        let table = Table {
            name: name.into(),
            control,
            keys: Vec::new(),
            actions: Vec::new(),
            default_action: None,
            default_action_const: false,
            size: None,
            entries: Vec::new(),
            entries_const: false,
            properties: Vec::new(),
            annotations: Vec::new(),
        };
        TableBuilder {
            builder: self,
            table,
        }
    }

    /// An extern object type.
    pub(crate) fn extern_def(
        &mut self,
        name: &str,
        annotations: Vec<Annotation>,
    ) -> Handle<ExternDef> {
        self.module.externs.insert(ExternDef {
            name: name.into(),
            type_params: Vec::new(),
            annotations,
        })
    }

    /// An instance of an extern, with its type arguments and constructor arguments.
    pub(crate) fn instance(
        &mut self,
        owner: Option<Handle<BlockType>>,
        name: &str,
        def: Handle<ExternDef>,
        type_args: Vec<Handle<Type>>,
        args: Vec<Value>,
    ) -> Handle<Instance> {
        let ty = self.ty(Type::Extern {
            def,
            args: type_args,
        });
        self.module.instances.append(
            Instance {
                name: name.into(),
                ty,
                owner,
                args: args
                    .into_iter()
                    .map(crate::ir::InstanceArg::Value)
                    .collect(),
                annotations: Vec::new(),
                methods: Vec::new(),
            },
            Span::default(),
        )
    }
}

/// Builds one table; [`TableBuilder::build`] adds it to the module.
pub(crate) struct TableBuilder<'m> {
    builder: &'m mut ModuleBuilder,
    table: Table,
}

impl TableBuilder<'_> {
    /// A key field of type `ty` matched by `match_kind`.
    pub(crate) fn key(self, name: &str, ty: Handle<Type>, match_kind: &str) -> Self {
        self.key_with(name, ty, match_kind, Vec::new())
    }

    /// A key field with annotations (`@tc_type`, ...).
    pub(crate) fn key_with(
        mut self,
        name: &str,
        ty: Handle<Type>,
        match_kind: &str,
        annotations: Vec<Annotation>,
    ) -> Self {
        let module = &mut self.builder.module;
        // The key's expression only needs a type here; a literal is the simplest expression.
        let expr = module.block_types[self.table.control].body.exprs.append(
            Expr {
                kind: ExprKind::Literal(Value::Int(BigInt::from(0))),
                ty,
            },
            Span::default(),
        );
        let match_kind = module
            .match_kinds
            .iter()
            .position(|m| m == match_kind)
            .unwrap_or(module.match_kinds.len()) as u32;
        self.table.keys.push(TableKey {
            name: name.into(),
            expr,
            match_kind,
            annotations,
        });
        self
    }

    /// An action usable in entries and as the default.
    pub(crate) fn action(self, action: Handle<Action>) -> Self {
        self.action_with(action, ActionScope::TableAndDefault, Vec::new())
    }

    /// An action reference with a scope and annotations.
    pub(crate) fn action_with(
        mut self,
        action: Handle<Action>,
        scope: ActionScope,
        annotations: Vec<Annotation>,
    ) -> Self {
        self.table.actions.push(TableAction {
            action,
            scope,
            bound_args: Vec::new(),
            annotations,
        });
        self
    }

    /// `default_action = action()`; arguments do not matter to layouts or introspection.
    pub(crate) fn default_action(mut self, action: Handle<Action>) -> Self {
        self.table.default_action = Some(ActionCall {
            action,
            args: Vec::new(),
        });
        self
    }

    /// `size = n`
    pub(crate) fn size(mut self, n: u64) -> Self {
        self.table.size = Some(n);
        self
    }

    /// An annotation on the table.
    pub(crate) fn annotation(mut self, annotation: Annotation) -> Self {
        self.table.annotations.push(annotation);
        self
    }

    /// A property such as `add_on_miss = true`.
    pub(crate) fn property(mut self, name: &str, value: Value) -> Self {
        self.table
            .properties
            .push((name.into(), PropertyValue::Value(value)));
        self
    }

    /// Adds the table to the module.
    pub(crate) fn build(self) -> Handle<Table> {
        self.builder
            .module
            .tables
            .append(self.table, Span::default())
    }
}
