//! `#if` / `#elif` expressions: C integer constant expressions over 64-bit integers.
//!
//! The line is first macro-expanded (except the operand of `defined`, which [`prepare`]
//! protects); what is left is evaluated here with C's operators, precedences and conversions:
//! values are `intmax_t` unless an operand is unsigned (a literal too large for `intmax_t`),
//! names that are not macros are 0, `&&`, `||` and `?:` evaluate only what they must (so
//! `0 && 1/0` is fine). Nesting is bounded so no expression can exhaust the stack.

use num_traits::ToPrimitive;
use p4tc_ir::{Diagnostic, Span};

use super::ident_name;
use super::macros::{MacroTable, PTok};
use crate::token::{IntLit, Punct, Token, TokenKind};

/// How deeply parentheses, unary and conditional operators may nest (C promises 63 levels of
/// parentheses; each level costs stack, as the parser is recursive).
const MAX_DEPTH: usize = 64;

/// Turns a directive's tokens into expansion input, protecting the operand of `defined` (in
/// `defined X` and `defined ( X )`) from being expanded.
pub(super) fn prepare(tokens: &[Token]) -> Vec<PTok> {
    let mut out: Vec<PTok> = Vec::with_capacity(tokens.len());
    // 0: nothing pending; 1: just saw `defined`; 2: saw `defined (`.
    let mut after_defined = 0;
    for t in tokens {
        let mut p = PTok::new(t.clone());
        let is_name = ident_name(&t.kind).is_some();
        match after_defined {
            1 if t.is(Punct::LParen) => after_defined = 2,
            1 | 2 if is_name => {
                p.no_expand = true;
                after_defined = 0;
            }
            _ => after_defined = 0,
        }
        if matches!(&t.kind, TokenKind::Ident(n) if &**n == "defined") {
            after_defined = 1;
        }
        out.push(p);
    }
    out
}

/// Evaluates the expanded expression `tokens` of directive `#directive`; `end` is the end of
/// the directive line (where a missing operand is reported). Errors are reported and count as
/// false.
pub(super) fn evaluate(
    tokens: &[PTok],
    macros: &MacroTable,
    end: Span,
    directive: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> bool {
    if tokens.is_empty() {
        diagnostics.push(Diagnostic::error(
            end,
            format!("`#{directive}` with no expression"),
        ));
        return false;
    }
    let mut eval = Eval {
        tokens,
        pos: 0,
        macros,
        end,
        depth: 0,
    };
    match eval.comma(true) {
        Ok(value) if eval.pos >= tokens.len() => value.truthy(),
        Ok(_) => {
            let message = format!(
                "expected an operator or the end of the `#if` expression, found {}",
                eval.found()
            );
            diagnostics.push(Diagnostic::error(eval.here(), message));
            false
        }
        Err(d) => {
            diagnostics.push(*d);
            false
        }
    }
}

/// A value: the bits of an `intmax_t` or `uintmax_t`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Val {
    bits: i64,
    unsigned: bool,
}

impl Val {
    fn signed(bits: i64) -> Val {
        Val {
            bits,
            unsigned: false,
        }
    }

    fn boolean(b: bool) -> Val {
        Val::signed(b as i64)
    }

    fn truthy(self) -> bool {
        self.bits != 0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BinOp {
    Mul,
    Div,
    Rem,
    Add,
    Sub,
    Shl,
    Shr,
    Lt,
    Gt,
    Le,
    Ge,
    Eq,
    Ne,
    BitAnd,
    BitXor,
    BitOr,
    And,
    Or,
}

// Boxed so that the `Result`s in every frame of the recursive descent stay small.
type Result<T> = std::result::Result<T, Box<Diagnostic>>;

struct Eval<'a> {
    tokens: &'a [PTok],
    pos: usize,
    macros: &'a MacroTable,
    end: Span,
    depth: usize,
}

impl Eval<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos).map(|p| &p.tok)
    }

    fn peek_is(&self, p: Punct) -> bool {
        self.peek().is_some_and(|t| t.is(p))
    }

    /// What is found where something else was expected, for messages.
    fn found(&self) -> String {
        match self.peek() {
            Some(t) => t.kind.to_string(),
            None => "end of line".to_string(),
        }
    }

    /// Where the next token is (or the end of the line).
    fn here(&self) -> Span {
        self.peek().map_or(self.end, |t| t.span)
    }

    #[cold]
    #[inline(never)]
    fn expected(&self, what: &str) -> Box<Diagnostic> {
        error(
            self.here(),
            format!("expected {what} in `#if`, found {}", self.found()),
        )
    }

    #[cold]
    #[inline(never)]
    fn unclosed(&self, open: Span) -> Box<Diagnostic> {
        let d = self.expected("`)`");
        Box::new(d.with_secondary(open, "to close this `(`"))
    }

    /// `a, b`: C allows the comma operator in `#if`; the value is the last one.
    fn comma(&mut self, eval: bool) -> Result<Val> {
        let mut value = self.conditional(eval)?;
        while self.peek_is(Punct::Comma) {
            self.pos += 1;
            value = self.conditional(eval)?;
        }
        Ok(value)
    }

    /// `c ? a : b`, right-associative; only the chosen side is evaluated.
    fn conditional(&mut self, eval: bool) -> Result<Val> {
        let cond = self.binary(1, eval)?;
        if !self.peek_is(Punct::Question) {
            return Ok(cond);
        }
        self.enter()?;
        self.pos += 1;
        let take = cond.truthy();
        let a = self.comma(eval && take)?;
        if !self.peek_is(Punct::Colon) {
            return Err(self.expected("`:`"));
        }
        self.pos += 1;
        let b = self.conditional(eval && !take)?;
        self.depth -= 1;
        let chosen = if take { a } else { b };
        Ok(Val {
            bits: chosen.bits,
            unsigned: a.unsigned || b.unsigned,
        })
    }

    /// The binary operator at the cursor: operator, precedence (higher binds tighter), and how
    /// many tokens it takes (`>>` comes as two touching `>`).
    fn binop(&self) -> Option<(BinOp, u8, usize)> {
        let TokenKind::Punct(p) = self.peek()?.kind else {
            return None;
        };
        Some(match p {
            Punct::Star => (BinOp::Mul, 10, 1),
            Punct::Slash => (BinOp::Div, 10, 1),
            Punct::Percent => (BinOp::Rem, 10, 1),
            Punct::Plus => (BinOp::Add, 9, 1),
            Punct::Minus => (BinOp::Sub, 9, 1),
            Punct::Shl => (BinOp::Shl, 8, 1),
            Punct::Gt => {
                let next = self.tokens.get(self.pos + 1).map(|p| &p.tok);
                if next.is_some_and(|t| t.is(Punct::Gt) && !t.space_before) {
                    (BinOp::Shr, 8, 2)
                } else {
                    (BinOp::Gt, 7, 1)
                }
            }
            Punct::Lt => (BinOp::Lt, 7, 1),
            Punct::Le => (BinOp::Le, 7, 1),
            Punct::Ge => (BinOp::Ge, 7, 1),
            Punct::EqEq => (BinOp::Eq, 6, 1),
            Punct::NotEq => (BinOp::Ne, 6, 1),
            Punct::Amp => (BinOp::BitAnd, 5, 1),
            Punct::Caret => (BinOp::BitXor, 4, 1),
            Punct::Pipe => (BinOp::BitOr, 3, 1),
            Punct::AndAnd => (BinOp::And, 2, 1),
            Punct::OrOr => (BinOp::Or, 1, 1),
            _ => return None,
        })
    }

    /// Binary operators of precedence `min` and up, by precedence climbing. The recursion
    /// only goes to higher precedences, so its depth is bounded by the number of levels.
    fn binary(&mut self, min: u8, eval: bool) -> Result<Val> {
        let mut lhs = self.unary(eval)?;
        while let Some((op, prec, width)) = self.binop() {
            if prec < min {
                break;
            }
            let op_span = self.here();
            self.pos += width;
            lhs = match op {
                BinOp::And => {
                    let rhs = self.binary(prec + 1, eval && lhs.truthy())?;
                    Val::boolean(lhs.truthy() && rhs.truthy())
                }
                BinOp::Or => {
                    let rhs = self.binary(prec + 1, eval && !lhs.truthy())?;
                    Val::boolean(lhs.truthy() || rhs.truthy())
                }
                _ => {
                    let rhs = self.binary(prec + 1, eval)?;
                    apply(op, lhs, rhs, eval, op_span)?
                }
            };
        }
        Ok(lhs)
    }

    /// Counts one level of nesting, failing past [`MAX_DEPTH`].
    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(error(
                self.here(),
                format!("#if expression nested too deeply (more than {MAX_DEPTH} levels)"),
            ));
        }
        Ok(())
    }

    fn unary(&mut self, eval: bool) -> Result<Val> {
        self.enter()?;
        let value = match self.peek().map(|t| &t.kind) {
            Some(TokenKind::Punct(Punct::Plus)) => {
                self.pos += 1;
                self.unary(eval)?
            }
            Some(TokenKind::Punct(Punct::Minus)) => {
                self.pos += 1;
                let v = self.unary(eval)?;
                Val {
                    bits: v.bits.wrapping_neg(),
                    unsigned: v.unsigned,
                }
            }
            Some(TokenKind::Punct(Punct::Tilde)) => {
                self.pos += 1;
                let v = self.unary(eval)?;
                Val {
                    bits: !v.bits,
                    unsigned: v.unsigned,
                }
            }
            Some(TokenKind::Punct(Punct::Bang)) => {
                self.pos += 1;
                Val::boolean(!self.unary(eval)?.truthy())
            }
            _ => self.primary(eval)?,
        };
        self.depth -= 1;
        Ok(value)
    }

    fn primary(&mut self, eval: bool) -> Result<Val> {
        let Some(t) = self.peek() else {
            return Err(self.expected("an expression"));
        };
        match &t.kind {
            TokenKind::Punct(Punct::LParen) => {
                let open = t.span;
                self.pos += 1;
                let v = self.comma(eval)?;
                if !self.peek_is(Punct::RParen) {
                    return Err(self.unclosed(open));
                }
                self.pos += 1;
                Ok(v)
            }
            TokenKind::Int(lit) => {
                let v = int_value(lit, t.span)?;
                self.pos += 1;
                Ok(v)
            }
            TokenKind::Ident(name) if &**name == "defined" => {
                self.pos += 1;
                self.defined()
            }
            kind if ident_name(kind).is_some() => {
                // A name that is not a macro (any more) is 0.
                self.pos += 1;
                Ok(Val::signed(0))
            }
            _ => Err(self.expected("an expression")),
        }
    }

    /// After `defined`: `NAME` or `( NAME )`.
    fn defined(&mut self) -> Result<Val> {
        let paren = self.peek_is(Punct::LParen);
        if paren {
            self.pos += 1;
        }
        let Some(name) = self.peek().and_then(|t| ident_name(&t.kind)) else {
            return Err(self.expected("a macro name after `defined`"));
        };
        let value = Val::boolean(self.macros.contains_key(name));
        self.pos += 1;
        if paren {
            if !self.peek_is(Punct::RParen) {
                return Err(self.expected("`)` after `defined(NAME`"));
            }
            self.pos += 1;
        }
        Ok(value)
    }
}

/// A boxed error; out of line so the recursive functions' frames do not hold its temporaries.
#[cold]
#[inline(never)]
fn error(span: Span, message: String) -> Box<Diagnostic> {
    Box::new(Diagnostic::error(span, message))
}

/// A literal's value: signed if it fits `intmax_t`, else unsigned if it fits 64 bits.
fn int_value(lit: &IntLit, span: Span) -> Result<Val> {
    let Some(magnitude) = lit.value.to_u64() else {
        return Err(error(
            span,
            "integer literal is too large for #if (more than 64 bits)".into(),
        ));
    };
    if lit.negative {
        return Ok(Val::signed((magnitude as i64).wrapping_neg()));
    }
    Ok(Val {
        bits: magnitude as i64,
        unsigned: magnitude > i64::MAX as u64,
    })
}

/// One arithmetic, comparison or bitwise operator, with C's usual arithmetic conversions.
fn apply(op: BinOp, a: Val, b: Val, eval: bool, at: Span) -> Result<Val> {
    let unsigned = a.unsigned || b.unsigned;
    let (ua, ub) = (a.bits as u64, b.bits as u64);
    let arith = |bits: i64| Val { bits, unsigned };
    Ok(match op {
        BinOp::Mul => arith(a.bits.wrapping_mul(b.bits)),
        BinOp::Add => arith(a.bits.wrapping_add(b.bits)),
        BinOp::Sub => arith(a.bits.wrapping_sub(b.bits)),
        BinOp::Div | BinOp::Rem => {
            if b.bits == 0 {
                if eval {
                    return Err(error(at, "division by zero in #if expression".into()));
                }
                return Ok(arith(0));
            }
            let bits = match (op, unsigned) {
                (BinOp::Div, true) => (ua / ub) as i64,
                (BinOp::Div, false) => a.bits.wrapping_div(b.bits),
                (_, true) => (ua % ub) as i64,
                (_, false) => a.bits.wrapping_rem(b.bits),
            };
            arith(bits)
        }
        BinOp::Shl => shift(a, b, true),
        BinOp::Shr => shift(a, b, false),
        BinOp::Lt | BinOp::Gt | BinOp::Le | BinOp::Ge => {
            let ord = if unsigned {
                ua.cmp(&ub)
            } else {
                a.bits.cmp(&b.bits)
            };
            Val::boolean(match op {
                BinOp::Lt => ord.is_lt(),
                BinOp::Gt => ord.is_gt(),
                BinOp::Le => ord.is_le(),
                _ => ord.is_ge(),
            })
        }
        BinOp::Eq => Val::boolean(a.bits == b.bits),
        BinOp::Ne => Val::boolean(a.bits != b.bits),
        BinOp::BitAnd => arith(a.bits & b.bits),
        BinOp::BitXor => arith(a.bits ^ b.bits),
        BinOp::BitOr => arith(a.bits | b.bits),
        // Handled by the caller, which must not evaluate the right side.
        BinOp::And => Val::boolean(a.truthy() && b.truthy()),
        BinOp::Or => Val::boolean(a.truthy() || b.truthy()),
    })
}

/// `a << b` / `a >> b`. C leaves shifts by a negative or too large amount undefined; here a
/// negative amount shifts the other way and shifting out every bit gives 0 (or -1 for a
/// negative signed value shifted right), which is what such code usually expects.
fn shift(a: Val, b: Val, left: bool) -> Val {
    let (left, amount) = if !b.unsigned && b.bits < 0 {
        (!left, b.bits.unsigned_abs())
    } else {
        (left, b.bits as u64)
    };
    let bits = if left {
        if amount >= 64 {
            0
        } else {
            ((a.bits as u64) << amount) as i64
        }
    } else if a.unsigned {
        if amount >= 64 {
            0
        } else {
            ((a.bits as u64) >> amount) as i64
        }
    } else if amount >= 64 {
        if a.bits < 0 {
            -1
        } else {
            0
        }
    } else {
        a.bits >> amount
    };
    Val {
        bits,
        unsigned: a.unsigned,
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{pp, Run};

    /// Runs `prelude` then `#if EXPR`; returns whether the group was taken, and the run.
    fn check(prelude: &str, expr: &str) -> (bool, Run) {
        let r = pp(&format!("{prelude}#if {expr}\ntaken\n#endif\n"));
        (r.text() == "taken", r)
    }

    fn holds(expr: &str) {
        let (taken, r) = check("", expr);
        assert!(r.diags.is_empty(), "{expr}: {:#?}", r.diags);
        assert!(taken, "`{expr}` should hold");
    }

    fn fails(expr: &str) {
        let (taken, r) = check("", expr);
        assert!(r.diags.is_empty(), "{expr}: {:#?}", r.diags);
        assert!(!taken, "`{expr}` should not hold");
    }

    #[test]
    fn arithmetic_and_precedence() {
        holds("1 + 2 * 3 == 7");
        holds("(1 + 2) * 3 == 9");
        holds("10 / 3 == 3 && 10 % 3 == 1");
        holds("-7 / 2 == -3 && -7 % 2 == -1");
        holds("1 << 4 == 16 && 256 >> 4 == 16 && -16 >> 2 == -4");
        holds("~0 == -1 && !0 && !5 == 0 && +3 == 3 && - -3 == 3");
        fails("5 & 3 == 1"); // `==` binds tighter than `&`
        holds("(5 & 3) == 1 && (5 | 2) == 7 && (5 ^ 1) == 4");
        holds("3 > 2 && 2 >= 2 && 1 < 2 && 2 <= 2 && 1 != 2");
        holds("1 || 0 && 0"); // `&&` binds tighter than `||`
        holds("2 + 3 << 1 == 10");
        fails("0");
        fails("(0, 0)");
        holds("(0, 1)");
    }

    #[test]
    fn conditional_operator() {
        holds("1 ? 2 : 0");
        holds("0 ? 0 : 3");
        holds("(1 ? 0 : 1 ? 0 : 1) == 0"); // right-associative
        holds("(0 ? 5 : 0 ? 6 : 7) == 7");
    }

    #[test]
    fn unsigned_values_follow_c_conversions() {
        holds("-1 < 0");
        holds("0xFFFFFFFFFFFFFFFF > 0");
        // -1 converts to the largest unsigned value.
        fails("-1 < 0xFFFFFFFFFFFFFFFF");
        holds("0x8000000000000000 / 2 == 0x4000000000000000");
        holds("0x7FFFFFFFFFFFFFFF + 1 < 0"); // signed overflow wraps
    }

    #[test]
    fn p4_literals_and_names() {
        holds("8w5 == 5 && 0b101 == 5 && 16s-3 == -3 && 0x10 == 16 && 0o17 == 15");
        holds("NOT_A_MACRO == 0");
        holds("true == 0"); // a keyword is just a name to the preprocessor
        let (taken, r) = check("", "0x1_0000_0000_0000_0000");
        assert!(!taken);
        assert_eq!(
            r.errors(),
            ["integer literal is too large for #if (more than 64 bits)"]
        );
    }

    #[test]
    fn defined_and_macros() {
        let prelude = "#define X\n#define W 16\n#define SQ(x) ((x) * (x))\n";
        for expr in [
            "defined X && defined(X) && !defined(Y) && !defined Y",
            "W * 2 == 32",
            "SQ(3) == 9",
            "SQ(W) == 256",
            "X + 1 == 1",
        ] {
            let (taken, r) = check(prelude, expr);
            assert!(r.diags.is_empty(), "{expr}: {:#?}", r.diags);
            assert!(taken, "{expr}");
        }
        // The operand of `defined` is not expanded even when it is a macro.
        let (taken, r) = check("#define A B\n", "defined(A) && !defined(B)");
        assert!(taken && r.diags.is_empty());
    }

    #[test]
    fn only_what_is_needed_is_evaluated() {
        holds("1 || 1 / 0");
        fails("0 && 1 / 0");
        holds("0 ? 1 / 0 : 1");
        holds("1 ? 1 : 1 % 0");
    }

    #[test]
    fn division_by_zero_is_reported_at_the_operator() {
        let (taken, r) = check("x\n", "2 / 0");
        assert!(!taken);
        let d = r.diag("division by zero in #if expression");
        assert_eq!(r.at(d.primary.span), ("main.p4".to_string(), 2, 7));
        assert_eq!(r.snippet(d.primary.span), "/");
        assert_eq!(
            check("", "1 % (2 - 2)").1.errors(),
            ["division by zero in #if expression"]
        );
    }

    #[test]
    fn malformed_expressions_say_what_was_expected() {
        let cases = [
            ("", "`#if` with no expression"),
            ("1 +", "expected an expression in `#if`, found end of line"),
            ("(1", "expected `)` in `#if`, found end of line"),
            (
                "1 2",
                "expected an operator or the end of the `#if` expression, found integer literal",
            ),
            ("1 ? 2", "expected `:` in `#if`, found end of line"),
            (
                "defined",
                "expected a macro name after `defined` in `#if`, found end of line",
            ),
            (
                "defined(X",
                "expected `)` after `defined(NAME` in `#if`, found end of line",
            ),
            (
                "\"s\"",
                "expected an expression in `#if`, found string literal",
            ),
            ("1 > > 2", "expected an expression in `#if`, found `>`"),
            (
                "1 = 1",
                "expected an operator or the end of the `#if` expression, found `=`",
            ),
        ];
        for (expr, message) in cases {
            let (taken, r) = check("", expr);
            assert!(!taken, "{expr}");
            assert_eq!(r.errors(), [message], "{expr}");
        }
        // The place: the offending token, or the end of the line.
        let r = pp("#if (1 + 2\n#endif");
        let d = r.diag("expected `)`");
        assert_eq!(r.at(d.primary.span), ("main.p4".to_string(), 1, 11));
        assert_eq!(r.at(d.secondary[0].span).2, 5);
        let r = pp("#if 0\n#elif\n#endif");
        assert_eq!(r.errors(), ["`#elif` with no expression"]);
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
        let (taken, r) = check("", &deep);
        assert!(!taken);
        assert_eq!(
            r.errors(),
            ["#if expression nested too deeply (more than 64 levels)"]
        );
        let (taken, r) = check("", &"!".repeat(10_000));
        assert!(!taken);
        assert_eq!(r.errors().len(), 1);
        let (taken, r) = check("", &format!("{}1", "1 ? 1 : ".repeat(10_000)));
        assert!(!taken);
        assert_eq!(r.errors().len(), 1);
        holds(&format!("{}1{}", "(".repeat(60), ")".repeat(60)));
    }
}
