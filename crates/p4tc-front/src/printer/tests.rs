//! Printer tests: hand-built trees, and round trips through the parser.

use num_bigint::BigUint;
use p4tc_ir::{FileId, Span};
use proptest::prelude::*;

use super::expr::annotation_tokens;
use super::{
    print_annotation, print_declaration, print_expr, print_keyset, print_program, print_stmt,
    print_type,
};
use crate::ast::*;
use crate::token::{Keyword, Punct};

// -- Building trees by hand ------------------------------------------------------------

fn sp() -> Span {
    Span::default()
}

fn id(name: &str) -> Ident {
    Ident {
        name: name.to_string(),
        span: sp(),
    }
}

fn path(name: &str) -> Path {
    Path {
        top_level: false,
        name: id(name),
    }
}

fn e(kind: ExprKind) -> Expr {
    Expr { kind, span: sp() }
}

fn n(name: &str) -> Expr {
    e(ExprKind::Name(path(name)))
}

fn lit(width: Option<(u32, bool)>, value: u64, negative: bool, base: Base) -> IntLit {
    IntLit {
        width,
        value: BigUint::from(value),
        negative,
        base,
    }
}

fn int(value: u64) -> Expr {
    e(ExprKind::Int(lit(None, value, false, Base::Decimal)))
}

fn bin(op: BinaryOp, lhs: Expr, rhs: Expr) -> Expr {
    e(ExprKind::Binary {
        op,
        lhs: Box::new(lhs),
        rhs: Box::new(rhs),
    })
}

fn un(op: UnaryOp, operand: Expr) -> Expr {
    e(ExprKind::Unary {
        op,
        operand: Box::new(operand),
    })
}

fn cond(c: Expr, t: Expr, o: Expr) -> Expr {
    e(ExprKind::Conditional {
        cond: Box::new(c),
        then: Box::new(t),
        otherwise: Box::new(o),
    })
}

fn ty(kind: TypeKind) -> Type {
    Type { kind, span: sp() }
}

fn bits(w: u64) -> Type {
    ty(TypeKind::Bits(Box::new(int(w))))
}

fn named(name: &str) -> Type {
    ty(TypeKind::Named(path(name)))
}

fn cast(t: Type, x: Expr) -> Expr {
    e(ExprKind::Cast {
        ty: Box::new(t),
        expr: Box::new(x),
    })
}

fn member(base: Expr, name: &str) -> Expr {
    e(ExprKind::Member {
        base: Box::new(base),
        member: id(name),
    })
}

fn arg(value: Expr) -> Argument {
    Argument { name: None, value }
}

fn call(callee: Expr, args: Vec<Expr>) -> Expr {
    e(ExprKind::Call {
        callee: Box::new(callee),
        type_args: Vec::new(),
        args: args.into_iter().map(arg).collect(),
    })
}

fn st(kind: StmtKind) -> Stmt {
    Stmt { kind, span: sp() }
}

fn assign(lhs: Expr, rhs: Expr) -> Stmt {
    st(StmtKind::Assign { lhs, op: None, rhs })
}

fn block(stmts: Vec<Stmt>) -> Block {
    Block {
        annotations: Vec::new(),
        stmts,
        span: sp(),
    }
}

fn ann(name: &str, body: AnnotationBody) -> Annotation {
    Annotation {
        name: id(name),
        body,
        span: sp(),
    }
}

fn tok(kind: TokenKind) -> AnnotationToken {
    AnnotationToken { kind, span: sp() }
}

fn decl(kind: DeclKind) -> Declaration {
    Declaration { kind, span: sp() }
}

fn param(direction: Direction, t: Type, name: &str) -> Param {
    Param {
        annotations: Vec::new(),
        direction,
        ty: t,
        name: id(name),
        default: None,
        span: sp(),
    }
}

fn sig(name: &str, params: Vec<Param>) -> TypeSignature {
    TypeSignature {
        annotations: Vec::new(),
        name: id(name),
        type_params: Vec::new(),
        params,
    }
}

use BinaryOp::*;

// -- Parsing, for round trips -----------------------------------------------------------

/// Lexes and parses `text` (no preprocessing), failing on any diagnostic.
fn parse(text: &str) -> Program {
    let mut diagnostics = Vec::new();
    let tokens = crate::lexer::lex(FileId(0), text, &mut diagnostics);
    let program = crate::parser::parse(&tokens, &mut diagnostics);
    assert!(
        diagnostics.is_empty(),
        "diagnostics {diagnostics:?} for:\n{text}"
    );
    program
}

/// Parses, prints, parses again: the trees must be equal and printing stable.
fn round_trip(text: &str) -> String {
    let first = parse(text);
    let printed = print_program(&first);
    let second = parse(&printed);
    assert_eq!(first, second, "tree changed; printed:\n{printed}");
    assert_eq!(printed, print_program(&second), "printing is not stable");
    printed
}

/// Prints `expr` as a constant's value, parses that, and returns the value parsed.
fn reparse_expr(expr: &Expr) -> Expr {
    let text = format!(
        "typedef bit<8> T;\nconst bit<8> k = {};\n",
        print_expr(expr)
    );
    let program = parse(&text);
    match &program.declarations[1].kind {
        DeclKind::Const(c) => c.value.clone(),
        other => panic!("not a constant: {other:?}"),
    }
}

fn assert_expr(expr: Expr, expected: &str) {
    assert_eq!(print_expr(&expr), expected);
    assert_eq!(reparse_expr(&expr), expr, "{expected} does not parse back");
}

// -- Expressions --------------------------------------------------------------------------

#[test]
fn binary_operators_parenthesise_by_precedence_and_associativity() {
    let (a, b, c) = (n("a"), n("b"), n("c"));
    assert_expr(
        bin(Mul, bin(Add, a.clone(), b.clone()), c.clone()),
        "(a + b) * c",
    );
    assert_expr(
        bin(Add, a.clone(), bin(Mul, b.clone(), c.clone())),
        "a + b * c",
    );
    assert_expr(
        bin(Sub, a.clone(), bin(Sub, b.clone(), c.clone())),
        "a - (b - c)",
    );
    assert_expr(
        bin(Sub, bin(Sub, a.clone(), b.clone()), c.clone()),
        "a - b - c",
    );
    assert_expr(
        bin(Or, bin(And, a.clone(), b.clone()), c.clone()),
        "a && b || c",
    );
    assert_expr(
        bin(And, a.clone(), bin(Or, b.clone(), c.clone())),
        "a && (b || c)",
    );
    assert_expr(
        bin(Eq, bin(BitAnd, a.clone(), b.clone()), c.clone()),
        "a & b == c",
    );
    assert_expr(
        bin(BitAnd, a.clone(), bin(Eq, b.clone(), c.clone())),
        "a & (b == c)",
    );
    assert_expr(
        bin(Shl, a.clone(), bin(Concat, b.clone(), c.clone())),
        "a << b ++ c",
    );
    assert_expr(
        bin(Concat, bin(Shr, a.clone(), b.clone()), c.clone()),
        "(a >> b) ++ c",
    );
    assert_expr(
        bin(SatAdd, a.clone(), bin(SatSub, b.clone(), c.clone())),
        "a |+| (b |-| c)",
    );
    assert_expr(
        bin(Div, a.clone(), bin(Mod, b.clone(), c.clone())),
        "a / (b % c)",
    );
    assert_expr(bin(Shr, a.clone(), b.clone()), "a >> b");
}

#[test]
fn comparisons_that_could_read_as_type_arguments_get_parentheses() {
    let (a, b, c) = (n("a"), n("b"), n("c"));
    assert_expr(
        bin(Gt, bin(Lt, a.clone(), b.clone()), c.clone()),
        "(a < b) > c",
    );
    assert_expr(
        bin(Lt, a.clone(), bin(Shr, b.clone(), c.clone())),
        "a < b >> c",
    );
    // `f(a < b, c > (d == e))` would be `f<b, c>(d == e)` called with `a`.
    let d_eq_e = bin(Eq, n("d"), n("e"));
    let f = call(
        n("f"),
        vec![
            bin(Lt, a.clone(), b.clone()),
            bin(Gt, c.clone(), d_eq_e.clone()),
        ],
    );
    assert_expr(f, "f((a < b), c > (d == e))");
    let list = e(ExprKind::List(vec![
        bin(Lt, a.clone(), b.clone()),
        bin(Gt, c, d_eq_e),
    ]));
    assert_expr(list, "{(a < b), c > (d == e)}");
    assert_expr(call(n("f"), vec![a.clone(), bin(Lt, a, b)]), "f(a, a < b)");
}

#[test]
fn unary_operators() {
    let (a, b) = (n("a"), n("b"));
    assert_expr(
        un(UnaryOp::Not, bin(And, a.clone(), b.clone())),
        "!(a && b)",
    );
    assert_expr(bin(And, un(UnaryOp::Not, a.clone()), b.clone()), "!a && b");
    assert_expr(un(UnaryOp::Neg, un(UnaryOp::Neg, a.clone())), "-(-a)");
    assert_expr(un(UnaryOp::Plus, un(UnaryOp::Plus, a.clone())), "+(+a)");
    assert_expr(un(UnaryOp::Neg, un(UnaryOp::Plus, a.clone())), "-(+a)");
    assert_expr(un(UnaryOp::BitNot, un(UnaryOp::BitNot, a.clone())), "~~a");
    assert_expr(un(UnaryOp::Not, un(UnaryOp::Not, a.clone())), "!!a");
    assert_expr(un(UnaryOp::Neg, int(3)), "-3");
    let negative = e(ExprKind::Int(lit(Some((16, true)), 3, true, Base::Decimal)));
    assert_expr(un(UnaryOp::Neg, negative.clone()), "-(16s-3)");
    assert_expr(bin(Sub, a.clone(), un(UnaryOp::Neg, b.clone())), "a - -b");
    assert_expr(bin(Add, a.clone(), un(UnaryOp::Plus, b.clone())), "a + +b");
    assert_expr(bin(Sub, a.clone(), negative), "a - 16s-3");
    assert_expr(member(un(UnaryOp::Neg, a), "f"), "(-a).f");
}

#[test]
fn casts_take_a_prefix_level_operand() {
    let (a, b) = (n("a"), n("b"));
    assert_expr(
        cast(bits(8), bin(Add, a.clone(), b.clone())),
        "(bit<8>) (a + b)",
    );
    assert_expr(
        bin(Add, cast(bits(8), a.clone()), b.clone()),
        "(bit<8>) a + b",
    );
    assert_expr(cast(named("T"), un(UnaryOp::Neg, a.clone())), "(T) -a");
    assert_expr(cast(named("T"), cast(bits(8), a.clone())), "(T) (bit<8>) a");
    assert_expr(cast(bits(8), member(a.clone(), "f")), "(bit<8>) a.f");
    assert_expr(member(cast(named("T"), a.clone()), "f"), "((T) a).f");
    assert_expr(un(UnaryOp::Neg, cast(named("T"), a.clone())), "-(T) a");
    assert_expr(
        cast(bits(8), cond(a.clone(), b.clone(), int(1))),
        "(bit<8>) (a ? b : 1)",
    );
}

#[test]
fn conditionals_nest_on_the_right() {
    let (a, b, c, d, x) = (n("a"), n("b"), n("c"), n("d"), n("x"));
    assert_expr(
        cond(a.clone(), b.clone(), cond(c.clone(), d.clone(), x.clone())),
        "a ? b : c ? d : x",
    );
    assert_expr(
        cond(cond(a.clone(), b.clone(), c.clone()), d.clone(), x.clone()),
        "(a ? b : c) ? d : x",
    );
    assert_expr(
        cond(a.clone(), cond(b.clone(), c.clone(), d.clone()), x.clone()),
        "a ? (b ? c : d) : x",
    );
    assert_expr(
        bin(Add, cond(a.clone(), b.clone(), c.clone()), d.clone()),
        "(a ? b : c) + d",
    );
    assert_expr(cond(bin(Or, a, b), c, bin(Add, d, x)), "a || b ? c : d + x");
}

#[test]
fn postfix_forms() {
    let (a, b, i) = (n("a"), n("b"), n("i"));
    let slice = e(ExprKind::Slice {
        base: Box::new(a.clone()),
        hi: Box::new(int(7)),
        lo: Box::new(int(0)),
    });
    assert_expr(slice, "a[7:0]");
    let cond_slice = e(ExprKind::Slice {
        base: Box::new(a.clone()),
        hi: Box::new(cond(b.clone(), int(7), int(3))),
        lo: Box::new(int(0)),
    });
    assert_expr(cond_slice, "a[(b ? 7 : 3):0]");
    let indexed = e(ExprKind::IndexedSlice {
        base: Box::new(a.clone()),
        lo: Box::new(bin(Mul, i.clone(), int(8))),
        width: Box::new(int(8)),
    });
    assert_expr(indexed, "a[(i * 8) +: 8]");
    let indexed = e(ExprKind::IndexedSlice {
        base: Box::new(a.clone()),
        lo: Box::new(i.clone()),
        width: Box::new(int(8)),
    });
    assert_expr(indexed, "a[i +: 8]");
    let index = e(ExprKind::Index {
        base: Box::new(bin(Add, a.clone(), b.clone())),
        index: Box::new(i.clone()),
    });
    assert_expr(index, "(a + b)[i]");
    assert_expr(member(member(a.clone(), "b"), "c"), "a.b.c");
    let top = e(ExprKind::Name(Path {
        top_level: true,
        name: id("x"),
    }));
    assert_expr(member(top, "y"), ".x.y");
    assert_expr(e(ExprKind::ErrorMember(id("NoMatch"))), "error.NoMatch");
    let generic = e(ExprKind::Call {
        callee: Box::new(member(n("pkt"), "lookahead")),
        type_args: vec![
            bits(8),
            ty(TypeKind::Tuple(vec![bits(4), ty(TypeKind::Bool)])),
        ],
        args: Vec::new(),
    });
    assert_expr(generic, "pkt.lookahead<bit<8>, tuple<bit<4>, bool>>()");
    let named_args = e(ExprKind::Call {
        callee: Box::new(n("f")),
        type_args: Vec::new(),
        args: vec![
            Argument {
                name: Some(id("x")),
                value: int(1),
            },
            Argument {
                name: Some(id("y")),
                value: e(ExprKind::DontCare),
            },
        ],
    });
    assert_expr(named_args, "f(x = 1, y = _)");
    let construct = e(ExprKind::Construct {
        ty: Box::new(named("T")),
        args: vec![arg(int(1))],
    });
    assert_expr(construct, "T(1)");
}

#[test]
fn literals_and_brace_expressions() {
    let forms = [
        (lit(Some((8, false)), 5, false, Base::Decimal), "8w5"),
        (lit(Some((16, true)), 3, true, Base::Decimal), "16s-3"),
        (lit(None, 0xab, false, Base::Hex), "0xab"),
        (
            lit(Some((8, false)), 0b1010, false, Base::Binary),
            "8w0b1010",
        ),
        (lit(None, 0o17, false, Base::Octal), "0o17"),
        (lit(Some((32, true)), 0xff, false, Base::Hex), "32s0xff"),
        (lit(None, 0, false, Base::Decimal), "0"),
    ];
    for (l, text) in forms {
        assert_expr(e(ExprKind::Int(l)), text);
    }
    assert_expr(e(ExprKind::Bool(true)), "true");
    assert_expr(e(ExprKind::String("a \\\" b".into())), "\"a \\\" b\"");
    assert_expr(
        e(ExprKind::List(vec![int(1), n("a"), e(ExprKind::Dots)])),
        "{1, a, ...}",
    );
    assert_expr(e(ExprKind::List(Vec::new())), "{}");
    let fields = vec![
        KeyValue {
            key: id("a"),
            value: int(1),
        },
        KeyValue {
            key: id("b"),
            value: n("x"),
        },
    ];
    assert_expr(
        e(ExprKind::StructInit {
            fields: fields.clone(),
            dots: false,
        }),
        "{a = 1, b = x}",
    );
    assert_expr(
        e(ExprKind::StructInit { fields, dots: true }),
        "{a = 1, b = x, ...}",
    );
    assert_expr(e(ExprKind::InvalidHeader), "{#}");
    assert_expr(e(ExprKind::DontCare), "_");
    assert_expr(e(ExprKind::This), "this");
}

#[test]
fn types() {
    assert_eq!(print_type(&bits(8)), "bit<8>");
    let wide = ty(TypeKind::Bits(Box::new(bin(Add, n("W"), int(1)))));
    assert_eq!(print_type(&wide), "bit<(W + 1)>");
    let prefixed = ty(TypeKind::SignedBits(Box::new(e(ExprKind::Int(lit(
        Some((8, false)),
        8,
        false,
        Base::Decimal,
    ))))));
    assert_eq!(print_type(&prefixed), "int<(8w8)>");
    assert_eq!(
        print_type(&ty(TypeKind::Varbit(Box::new(int(32))))),
        "varbit<32>"
    );
    let stack = ty(TypeKind::Array {
        element: Box::new(named("H")),
        size: Box::new(int(4)),
    });
    assert_eq!(print_type(&stack), "H[4]");
    let nested = ty(TypeKind::Array {
        element: Box::new(stack),
        size: Box::new(int(2)),
    });
    assert_eq!(print_type(&nested), "H[4][2]");
    let special = ty(TypeKind::Specialized {
        base: Path {
            top_level: true,
            name: id("R"),
        },
        args: vec![bits(8), ty(TypeKind::DontCare), ty(TypeKind::Void)],
    });
    assert_eq!(print_type(&special), ".R<bit<8>, _, void>");
    assert_eq!(
        print_type(&ty(TypeKind::List(Box::new(bits(8))))),
        "list<bit<8>>"
    );
    let simple = [
        (TypeKind::Bool, "bool"),
        (TypeKind::Error, "error"),
        (TypeKind::MatchKind, "match_kind"),
        (TypeKind::String, "string"),
        (TypeKind::Integer, "int"),
        (TypeKind::Bit, "bit"),
    ];
    for (kind, text) in simple {
        assert_eq!(print_type(&ty(kind)), text);
    }
}

// -- Annotations ----------------------------------------------------------------------------

#[test]
fn unstructured_annotation_tokens_lex_back_the_same() {
    use Punct::*;
    let kinds = vec![
        TokenKind::Ident("a".into()),
        TokenKind::Punct(Amp),
        TokenKind::Punct(Amp),
        TokenKind::Punct(Pipe),
        TokenKind::Punct(Plus),
        TokenKind::Punct(Plus),
        TokenKind::Punct(Lt),
        TokenKind::Punct(Lt),
        TokenKind::Punct(Gt),
        TokenKind::Punct(Gt),
        TokenKind::Punct(Dot),
        TokenKind::Punct(Dot),
        TokenKind::Punct(LBrace),
        TokenKind::Punct(Hash),
        TokenKind::Punct(RBrace),
        TokenKind::Punct(Minus),
        TokenKind::Punct(Minus),
        TokenKind::Keyword(Keyword::Key),
        TokenKind::Ident("x".into()),
        TokenKind::Int(lit(Some((8, false)), 5, false, Base::Decimal).into()),
        TokenKind::Int(lit(None, 3, false, Base::Hex).into()),
        TokenKind::DontCare,
        TokenKind::Ident("y".into()),
        TokenKind::Punct(Dot),
        TokenKind::Ident("z".into()),
        TokenKind::Punct(LParen),
        TokenKind::Str("s \\\" t".into()),
        TokenKind::Punct(Comma),
        TokenKind::Int(lit(Some((16, true)), 3, true, Base::Decimal).into()),
        TokenKind::Punct(RParen),
        TokenKind::Punct(At),
        TokenKind::Ident("n".into()),
        TokenKind::Punct(Assign),
        TokenKind::Punct(Assign),
        TokenKind::Punct(Bang),
        TokenKind::Punct(Assign),
        TokenKind::Unexpected('$'),
        TokenKind::Unexpected('$'),
        TokenKind::Punct(Semi),
    ];
    let tokens: Vec<AnnotationToken> = kinds.iter().cloned().map(tok).collect();
    let text = annotation_tokens(&tokens);
    let mut diagnostics = Vec::new();
    let lexed: Vec<TokenKind> = crate::lexer::lex(FileId(0), &text, &mut diagnostics)
        .into_iter()
        .map(|t| t.kind)
        .filter(|k| *k != TokenKind::Eof)
        .collect();
    assert_eq!(lexed, kinds, "{text}");
    assert!(text.contains("y.z(\"s \\\" t\", 16s-3)"), "{text}");
    let annotation = ann(
        "name",
        AnnotationBody::Unstructured(vec![tok(TokenKind::Str("x".into()))]),
    );
    assert_eq!(print_annotation(&annotation), "@name(\"x\")");
}

#[test]
fn annotation_forms() {
    assert_eq!(
        print_annotation(&ann("hidden", AnnotationBody::None)),
        "@hidden"
    );
    assert_eq!(
        print_annotation(&ann("e", AnnotationBody::Unstructured(Vec::new()))),
        "@e()"
    );
    let exprs = AnnotationBody::Expressions(vec![int(1), n("a")]);
    assert_eq!(print_annotation(&ann("s", exprs)), "@s[1, a]");
    let kvs = AnnotationBody::KeyValues(vec![KeyValue {
        key: id("k"),
        value: int(1),
    }]);
    assert_eq!(print_annotation(&ann("s", kvs)), "@s[k = 1]");
}

// -- Statements -----------------------------------------------------------------------------

#[test]
fn compound_assignments_use_op_equals() {
    let expected = [
        (Mul, "*="),
        (Div, "/="),
        (Mod, "%="),
        (Add, "+="),
        (Sub, "-="),
        (SatAdd, "|+|="),
        (SatSub, "|-|="),
        (Shl, "<<="),
        (Shr, ">>="),
        (BitAnd, "&="),
        (BitOr, "|="),
        (BitXor, "^="),
    ];
    for (op, text) in expected {
        let s = st(StmtKind::Assign {
            lhs: n("x"),
            op: Some(op),
            rhs: n("y"),
        });
        assert_eq!(print_stmt(&s), format!("x {text} y;\n"));
    }
    // No `++=`: written out in full.
    let s = st(StmtKind::Assign {
        lhs: n("x"),
        op: Some(Concat),
        rhs: bin(Add, n("y"), n("z")),
    });
    assert_eq!(print_stmt(&s), "x = x ++ (y + z);\n");
}

#[test]
fn if_else_chains_and_dangling_else() {
    let s = st(StmtKind::If {
        cond: n("a"),
        then: Box::new(st(StmtKind::Block(block(vec![assign(n("x"), int(1))])))),
        otherwise: Some(Box::new(st(StmtKind::If {
            cond: n("b"),
            then: Box::new(st(StmtKind::Block(block(vec![assign(n("x"), int(2))])))),
            otherwise: Some(Box::new(st(StmtKind::Block(block(vec![assign(
                n("x"),
                int(3),
            )]))))),
        }))),
    });
    assert_eq!(
        print_stmt(&s),
        "if (a) {\n    x = 1;\n} else if (b) {\n    x = 2;\n} else {\n    x = 3;\n}\n"
    );
    let s = st(StmtKind::If {
        cond: n("a"),
        then: Box::new(assign(n("x"), int(1))),
        otherwise: Some(Box::new(st(StmtKind::Exit))),
    });
    assert_eq!(print_stmt(&s), "if (a)\n    x = 1;\nelse\n    exit;\n");
    // The inner `if` has no `else`: braces keep the outer one's `else` where it belongs.
    let s = st(StmtKind::If {
        cond: n("a"),
        then: Box::new(st(StmtKind::If {
            cond: n("b"),
            then: Box::new(st(StmtKind::Return(None))),
            otherwise: None,
        })),
        otherwise: Some(Box::new(st(StmtKind::Exit))),
    });
    assert_eq!(
        print_stmt(&s),
        "if (a) {\n    if (b)\n        return;\n} else\n    exit;\n"
    );
}

#[test]
fn loops_switches_and_declarations() {
    let classic = ForLoop::Classic {
        annotations: Vec::new(),
        init: vec![
            st(StmtKind::Var(Box::new(VarDecl {
                annotations: Vec::new(),
                ty: bits(8),
                name: id("i"),
                init: Some(int(0)),
            }))),
            assign(n("j"), int(1)),
        ],
        cond: bin(Lt, n("i"), int(4)),
        update: vec![
            st(StmtKind::Assign {
                lhs: n("i"),
                op: Some(Add),
                rhs: int(1),
            }),
            st(StmtKind::Call(call(n("f"), Vec::new()))),
        ],
        body: st(StmtKind::Block(block(vec![st(StmtKind::Continue)]))),
    };
    assert_eq!(
        print_stmt(&st(StmtKind::For(Box::new(classic)))),
        "for (bit<8> i = 0, j = 1; i < 4; i += 1, f()) {\n    continue;\n}\n"
    );
    let empty = ForLoop::Classic {
        annotations: Vec::new(),
        init: Vec::new(),
        cond: e(ExprKind::Bool(true)),
        update: Vec::new(),
        body: st(StmtKind::Break),
    };
    assert_eq!(
        print_stmt(&st(StmtKind::For(Box::new(empty)))),
        "for (; true;)\n    break;\n"
    );
    let range = ForLoop::In {
        annotations: vec![ann("unroll", AnnotationBody::None)],
        var_annotations: vec![ann("v", AnnotationBody::None)],
        ty: bits(8),
        name: id("i"),
        collection: int(0),
        range_end: Some(int(7)),
        body: st(StmtKind::Block(block(Vec::new()))),
    };
    assert_eq!(
        print_stmt(&st(StmtKind::For(Box::new(range)))),
        "@unroll\nfor (@v bit<8> i in 0 .. 7) {}\n"
    );
    let switch = StmtKind::Switch {
        expr: member(call(member(n("t"), "apply"), Vec::new()), "action_run"),
        cases: vec![
            SwitchCase {
                label: SwitchLabel::Expr(n("a")),
                body: None,
                span: sp(),
            },
            SwitchCase {
                label: SwitchLabel::Expr(n("b")),
                body: Some(block(vec![st(StmtKind::Exit)])),
                span: sp(),
            },
            SwitchCase {
                label: SwitchLabel::Expr(e(ExprKind::List(vec![int(1)]))),
                body: Some(block(Vec::new())),
                span: sp(),
            },
            SwitchCase {
                label: SwitchLabel::Default(sp()),
                body: Some(block(Vec::new())),
                span: sp(),
            },
        ],
    };
    assert_eq!(
        print_stmt(&st(switch)),
        "switch (t.apply().action_run) {\n    a:\n    b: {\n        exit;\n    }\n    ({1}): {}\n    default: {}\n}\n"
    );
    let direct = StmtKind::DirectApply {
        ty: named("P"),
        args: vec![arg(n("h"))],
    };
    assert_eq!(print_stmt(&st(direct)), "P.apply(h);\n");
    let var = VarDecl {
        annotations: vec![ann("a", AnnotationBody::None)],
        ty: bits(8),
        name: id("v"),
        init: None,
    };
    assert_eq!(
        print_stmt(&st(StmtKind::Var(Box::new(var)))),
        "@a\nbit<8> v;\n"
    );
    let c = ConstDecl {
        annotations: Vec::new(),
        ty: bits(8),
        name: id("c"),
        value: int(1),
    };
    assert_eq!(
        print_stmt(&st(StmtKind::Const(Box::new(c)))),
        "const bit<8> c = 1;\n"
    );
    let annotated = Block {
        annotations: vec![ann("atomic", AnnotationBody::None)],
        stmts: vec![st(StmtKind::Empty)],
        span: sp(),
    };
    assert_eq!(
        print_stmt(&st(StmtKind::Block(annotated))),
        "@atomic {\n    ;\n}\n"
    );
    assert_eq!(
        print_stmt(&st(StmtKind::Return(Some(int(1))))),
        "return 1;\n"
    );
}

// -- Declarations ---------------------------------------------------------------------------

#[test]
fn tables() {
    let key = TablePropertyKind::Key(vec![
        KeyElement {
            expr: member(n("h"), "f"),
            match_kind: id("exact"),
            annotations: vec![ann(
                "name",
                AnnotationBody::Unstructured(vec![tok(TokenKind::Str("f".into()))]),
            )],
            span: sp(),
        },
        KeyElement {
            expr: cond(n("a"), n("b"), n("c")),
            match_kind: id("lpm"),
            annotations: Vec::new(),
            span: sp(),
        },
    ]);
    let actions = TablePropertyKind::Actions(vec![
        ActionRef {
            annotations: vec![ann("tableonly", AnnotationBody::None)],
            name: path("a"),
            args: None,
            span: sp(),
        },
        ActionRef {
            annotations: Vec::new(),
            name: Path {
                top_level: true,
                name: id("b"),
            },
            args: Some(vec![arg(int(1))]),
            span: sp(),
        },
    ]);
    let entry = |priority: Option<Expr>, keyset: Keyset| Entry {
        is_const: priority.is_some(),
        priority,
        keyset,
        action: ActionRef {
            annotations: Vec::new(),
            name: path("a"),
            args: Some(Vec::new()),
            span: sp(),
        },
        annotations: Vec::new(),
        span: sp(),
    };
    let entries = TablePropertyKind::Entries {
        annotations: Vec::new(),
        is_const: true,
        entries: vec![
            entry(
                Some(int(10)),
                Keyset::Tuple(
                    vec![Keyset::Mask(int(1), int(0xf)), Keyset::DontCare(sp())],
                    sp(),
                ),
            ),
            entry(
                Some(bin(Add, n("p"), int(1))),
                Keyset::Range(int(1), int(5)),
            ),
            entry(None, Keyset::Default(sp())),
        ],
    };
    let default_action = TablePropertyKind::Other {
        annotations: Vec::new(),
        is_const: true,
        name: id("default_action"),
        value: call(n("a"), vec![int(1)]),
    };
    let size = TablePropertyKind::Other {
        annotations: Vec::new(),
        is_const: false,
        name: id("size"),
        value: int(1024),
    };
    let table = TableDecl {
        annotations: vec![ann("noWarn", AnnotationBody::None)],
        name: id("t"),
        properties: [key, actions, entries, default_action, size]
            .into_iter()
            .map(|kind| TableProperty { kind, span: sp() })
            .collect(),
    };
    let control = ControlDecl {
        signature: sig("C", Vec::new()),
        ctor_params: None,
        locals: vec![LocalDecl::Table(table, sp())],
        apply: block(Vec::new()),
    };
    let expected = "\
control C() {
    @noWarn
    table t {
        key = {
            h.f: exact @name(\"f\");
            (a ? b : c): lpm;
        }
        actions = {
            @tableonly a;
            .b(1);
        }
        const entries = {
            const priority = 10: (1 &&& 15, _): a();
            const priority = (p + 1): 1 .. 5: a();
            default: a();
        }
        const default_action = a(1);
        size = 1024;
    }

    apply {}
}
";
    assert_eq!(
        print_declaration(&decl(DeclKind::Control(control))),
        expected
    );
}

#[test]
fn parsers_and_select() {
    let parser = ParserDecl {
        signature: sig(
            "P",
            vec![
                param(Direction::None, named("packet_in"), "pkt"),
                param(Direction::Out, named("H"), "h"),
            ],
        ),
        ctor_params: Some(Vec::new()),
        locals: vec![LocalDecl::ValueSet(
            ValueSetDecl {
                annotations: Vec::new(),
                element: bits(16),
                size: int(4),
                name: id("vs"),
            },
            sp(),
        )],
        states: vec![
            ParserState {
                annotations: vec![ann("name", AnnotationBody::None)],
                name: id("start"),
                stmts: vec![st(StmtKind::Call(call(
                    member(n("pkt"), "extract"),
                    vec![member(n("h"), "e")],
                )))],
                transition: Some(Transition::Select {
                    exprs: vec![member(member(n("h"), "e"), "t"), n("x")],
                    cases: vec![
                        SelectCase {
                            keyset: Keyset::Tuple(
                                vec![Keyset::Expr(int(1)), Keyset::Expr(n("vs"))],
                                sp(),
                            ),
                            state: id("next"),
                            span: sp(),
                        },
                        SelectCase {
                            keyset: Keyset::Expr(e(ExprKind::List(vec![int(1), int(2)]))),
                            state: id("next"),
                            span: sp(),
                        },
                        SelectCase {
                            keyset: Keyset::Default(sp()),
                            state: id("accept"),
                            span: sp(),
                        },
                    ],
                    span: sp(),
                }),
                span: sp(),
            },
            ParserState {
                annotations: Vec::new(),
                name: id("next"),
                stmts: Vec::new(),
                transition: Some(Transition::Direct(id("accept"))),
                span: sp(),
            },
        ],
    };
    let expected = "\
parser P(packet_in pkt, out H h)() {
    value_set<bit<16>>(4) vs;

    @name
    state start {
        pkt.extract(h.e);
        transition select(h.e.t, x) {
            (1, vs): next;
            {1, 2}: next;
            default: accept;
        }
    }

    state next {
        transition accept;
    }
}
";
    assert_eq!(print_declaration(&decl(DeclKind::Parser(parser))), expected);
}

#[test]
fn type_declarations() {
    let field = |t: Type, name: &str| StructField {
        annotations: Vec::new(),
        ty: t,
        name: id(name),
        span: sp(),
    };
    let header = StructDecl {
        annotations: vec![ann("a", AnnotationBody::None)],
        name: id("H"),
        type_params: Vec::new(),
        fields: vec![
            field(bits(8), "f"),
            StructField {
                annotations: vec![ann("b", AnnotationBody::None)],
                ..field(bits(4), "g")
            },
        ],
    };
    assert_eq!(
        print_declaration(&decl(DeclKind::Header(header.clone()))),
        "@a\nheader H {\n    bit<8> f;\n    @b bit<4> g;\n}\n"
    );
    let typedef = TypedefDecl {
        annotations: Vec::new(),
        is_new_type: false,
        target: TypedefTarget::Declaration(Box::new(decl(DeclKind::Struct(header)))),
        name: id("T"),
    };
    assert_eq!(
        print_declaration(&decl(DeclKind::Typedef(typedef))),
        "typedef @a struct H {\n    bit<8> f;\n    @b bit<4> g;\n} T;\n"
    );
    let new_type = TypedefDecl {
        annotations: Vec::new(),
        is_new_type: true,
        target: TypedefTarget::Type(bits(32)),
        name: id("P"),
    };
    assert_eq!(
        print_declaration(&decl(DeclKind::Typedef(new_type))),
        "type bit<32> P;\n"
    );
    let en = EnumDecl {
        annotations: Vec::new(),
        underlying: Some(bits(8)),
        name: id("E"),
        members: vec![
            EnumMember {
                name: id("A"),
                value: Some(int(1)),
            },
            EnumMember {
                name: id("B"),
                value: Some(int(2)),
            },
        ],
    };
    assert_eq!(
        print_declaration(&decl(DeclKind::Enum(en))),
        "enum bit<8> E {\n    A = 1,\n    B = 2\n}\n"
    );
    assert_eq!(
        print_declaration(&decl(DeclKind::Error(vec![id("A"), id("B")]))),
        "error { A, B }\n"
    );
    assert_eq!(
        print_declaration(&decl(DeclKind::MatchKind(vec![id("exact")]))),
        "match_kind { exact }\n"
    );
    let mut generic = sig("Pkg", vec![param(Direction::In, named("T"), "t")]);
    generic.type_params = vec![id("T")];
    assert_eq!(
        print_declaration(&decl(DeclKind::Package(generic.clone()))),
        "package Pkg<T>(in T t);\n"
    );
    assert_eq!(
        print_declaration(&decl(DeclKind::ParserType(generic.clone()))),
        "parser Pkg<T>(in T t);\n"
    );
    assert_eq!(
        print_declaration(&decl(DeclKind::ControlType(generic))),
        "control Pkg<T>(in T t);\n"
    );
    assert_eq!(print_declaration(&decl(DeclKind::Empty)), ";\n");
}

#[test]
fn externs_and_instances() {
    let proto = |name: &str, params: Vec<Param>| FunctionPrototype {
        return_type: ty(TypeKind::Void),
        name: id(name),
        type_params: Vec::new(),
        params,
    };
    let object = crate::ast::ExternObject {
        annotations: Vec::new(),
        name: id("R"),
        type_params: vec![id("T")],
        methods: vec![
            Method {
                annotations: Vec::new(),
                kind: MethodKind::Constructor {
                    name: id("R"),
                    params: vec![param(Direction::None, bits(32), "size")],
                },
                span: sp(),
            },
            Method {
                annotations: vec![ann("a", AnnotationBody::None)],
                kind: MethodKind::Method {
                    is_abstract: true,
                    prototype: proto("m", Vec::new()),
                },
                span: sp(),
            },
            Method {
                annotations: Vec::new(),
                kind: MethodKind::Method {
                    is_abstract: false,
                    prototype: FunctionPrototype {
                        type_params: vec![id("U")],
                        ..proto("g", vec![param(Direction::In, named("U"), "u")])
                    },
                },
                span: sp(),
            },
        ],
    };
    assert_eq!(
        print_declaration(&decl(DeclKind::ExternObject(object))),
        "extern R<T> {\n    R(bit<32> size);\n    @a\n    abstract void m();\n    void g<U>(in U u);\n}\n"
    );
    let function = FunctionDecl {
        annotations: Vec::new(),
        prototype: proto("m", Vec::new()),
        body: block(vec![st(StmtKind::Return(None))]),
    };
    let inst = Instantiation {
        annotations: Vec::new(),
        ty: ty(TypeKind::Specialized {
            base: path("R"),
            args: vec![bits(8)],
        }),
        args: vec![arg(int(4))],
        name: id("r"),
        initializer: Some(vec![ObjectMember::Function(function)]),
    };
    assert_eq!(
        print_declaration(&decl(DeclKind::Instantiation(inst))),
        "R<bit<8>>(4) r = {\n    void m() {\n        return;\n    }\n};\n"
    );
    let ext = DeclKind::ExternFunction {
        annotations: Vec::new(),
        prototype: proto("f", vec![param(Direction::InOut, bits(8), "x")]),
    };
    assert_eq!(
        print_declaration(&decl(ext)),
        "extern void f(inout bit<8> x);\n"
    );
}

// -- Round trips through the parser -------------------------------------------------------

#[test]
fn a_program_using_most_of_the_grammar_round_trips() {
    let printed = round_trip(
        r#"
error { NoError, Bad }
match_kind { exact, ternary, lpm }
extern packet_in { void extract<T>(out T hdr); T lookahead<T>(); }
extern Register<T, I> { Register(bit<32> n); T read(in I i); @a abstract void cb(in T v); }
extern void mark(in bit<8> x);
typedef bit<48> mac_t;
type bit<32> port_t;
typedef @x struct Inner { bit<8> a; } inner_t;
enum Color { Red, Green }
enum bit<8> Op { Add = 1, Sub = 0x2 }
@name("eth") header eth_t { mac_t dst; @k mac_t src; bit<16> type; }
header_union U { eth_t e; }
struct H { eth_t eth; eth_t[2] stack; }
const bit<8> K = 8w3 + (bit<8>) (16w1 - 1);
parser Prs(packet_in pkt, out H h);
control Ctl<T>(inout H h, in T t);
package Pkg(Prs p, Ctl<bit<8>> c);
bit<8> add(in bit<8> a, bit<8> b) { return a + b; }
parser MyP(packet_in pkt, out H h)(bit<8> depth) {
    value_set<bit<16>>(4) pvs;
    bit<8> n = 0;
    @entry state start {
        pkt.extract(h.eth);
        transition select(h.eth.type, pkt.lookahead<bit<8>>()) {
            (0x800 &&& 0xf00, 1 .. 4): next;
            (pvs, _): next;
            (default): accept;
            16w5: next;
            default: reject;
        }
    }
    state next { h.stack[0].type = 1; transition accept; }
}
control MyC(inout H h)() {
    Register<bit<8>, bit<32>>(1024) r = { void cb(in bit<8> v) { mark(v); } };
    action a(bit<8> x, in bit<8> y) { h.eth.type[7:0] = x; h.eth.type[8 +: 8] = y; }
    action b() { exit; }
    table t {
        key = { h.eth.dst: exact @name("d"); h.eth.src & 0xff: ternary; }
        actions = { a; @defaultonly b; }
        @c const entries = {
            const priority = 10: (1, _): a(1, 2);
            priority = (1 + 2): (2, 3 &&& 4): b() @e;
        }
        const default_action = b();
        size = 1024;
        @x pna_idle_timeout = true;
    }
    apply {
        bit<8> i;
        const bit<8> j = 3;
        for (bit<8> k = 0, i = 1; k < 4; k = k + 1, mark(k)) { if (k == 2) { continue; } else break; }
        for (bit<8> v in 1 .. 3) mark(v);
        for (@u bit<8> v in {1, 2}) {}
        switch (t.apply().action_run) { a: b: { i = 1; } default: {} }
        switch (i) { 1: {} 2: @x {} }
        if (h.eth.isValid()) t.apply(); else if (!h.eth.isValid()) { i >>= 1; i <<= 2; i |+|= 1; i |-|= 1; i ^= 3; }
        i = i == 1 ? 2 : i > 3 ? 4 : 5;
        h.eth = {dst = 1, src = 2, type = 3};
        h.eth = {dst = 1, ...};
        h.eth = {#};
        mark(i ++ 8w1 |+| -i);
        MyP.apply(pkt = _, h);
        return;
    }
}
Pkg(MyP(1), MyC()) main;
;
"#,
    );
    assert!(
        printed.contains("\n\nparser MyP(packet_in pkt, out H h)(bit<8> depth) {\n"),
        "{printed}"
    );
    assert!(
        printed.contains("\n        else if (!h.eth.isValid()) {\n"),
        "{printed}"
    );
}

fn leaf() -> impl Strategy<Value = Expr> {
    prop_oneof![
        prop::sample::select(vec!["a", "b", "c", "apply"]).prop_map(n),
        (
            0u64..300,
            prop::sample::select(vec![Base::Decimal, Base::Hex, Base::Binary, Base::Octal])
        )
            .prop_map(|(v, base)| e(ExprKind::Int(lit(None, v, false, base)))),
        (1u32..64, 0u64..100, any::<bool>(), any::<bool>()).prop_map(|(w, v, signed, neg)| {
            e(ExprKind::Int(lit(
                Some((w, signed)),
                v,
                signed && neg,
                Base::Decimal,
            )))
        }),
        any::<bool>().prop_map(|b| e(ExprKind::Bool(b))),
        Just(e(ExprKind::ErrorMember(id("NoError")))),
        Just(e(ExprKind::InvalidHeader)),
    ]
}

fn arb_expr() -> impl Strategy<Value = Expr> {
    leaf().prop_recursive(5, 40, 3, |inner| {
        prop_oneof![
            (
                prop::sample::select(BinaryOp::ALL.to_vec()),
                inner.clone(),
                inner.clone()
            )
                .prop_map(|(op, l, r)| bin(op, l, r)),
            (
                prop::sample::select(vec![
                    UnaryOp::Not,
                    UnaryOp::BitNot,
                    UnaryOp::Neg,
                    UnaryOp::Plus
                ]),
                inner.clone()
            )
                .prop_map(|(op, x)| un(op, x)),
            (inner.clone(), inner.clone(), inner.clone()).prop_map(|(c, t, o)| cond(c, t, o)),
            (
                prop::sample::select(vec![bits(8), named("T")]),
                inner.clone()
            )
                .prop_map(|(t, x)| cast(t, x)),
            inner.clone().prop_map(|x| member(x, "f")),
            (inner.clone(), inner.clone()).prop_map(|(b, i)| e(ExprKind::Index {
                base: Box::new(b),
                index: Box::new(i)
            })),
            (inner.clone(), inner.clone(), inner.clone()).prop_map(|(b, h, l)| e(
                ExprKind::Slice {
                    base: Box::new(b),
                    hi: Box::new(h),
                    lo: Box::new(l)
                }
            )),
            (inner.clone(), inner.clone(), inner.clone()).prop_map(|(b, l, w)| e(
                ExprKind::IndexedSlice {
                    base: Box::new(b),
                    lo: Box::new(l),
                    width: Box::new(w)
                }
            )),
            prop::collection::vec(inner.clone(), 0..4).prop_map(|args| call(n("f"), args)),
            prop::collection::vec(inner.clone(), 0..4)
                .prop_map(|args| call(member(n("a"), "g"), args)),
            prop::collection::vec(inner.clone(), 0..4).prop_map(|xs| e(ExprKind::List(xs))),
            (inner.clone(), inner).prop_map(|(x, y)| e(ExprKind::StructInit {
                fields: vec![
                    KeyValue {
                        key: id("x"),
                        value: x
                    },
                    KeyValue {
                        key: id("y"),
                        value: y
                    }
                ],
                dots: false,
            })),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_expression_parses_back_to_itself(expr in arb_expr()) {
        prop_assert_eq!(reparse_expr(&expr), expr);
    }

    #[test]
    fn any_keyset_parses_back_to_itself(a in arb_expr(), b in arb_expr(), c in arb_expr()) {
        let keysets = vec![
            Keyset::Expr(a.clone()),
            Keyset::Mask(a.clone(), b.clone()),
            Keyset::Range(b.clone(), c.clone()),
            Keyset::Tuple(vec![Keyset::Expr(a), Keyset::Mask(b, c.clone()), Keyset::Expr(c)], sp()),
        ];
        for keyset in keysets {
            let text = format!(
                "typedef bit<8> T;\nparser P() {{ state start {{ transition select(x) {{ {}: accept; }} }} }}\n",
                print_keyset(&keyset)
            );
            let program = parse(&text);
            let DeclKind::Parser(parser) = &program.declarations[1].kind else { panic!("not a parser") };
            let Some(Transition::Select { cases, .. }) = &parser.states[0].transition else { panic!("no select") };
            prop_assert_eq!(&cases[0].keyset, &keyset);
        }
    }
}
