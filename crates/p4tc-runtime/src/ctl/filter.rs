//! Filters of dumps and flushes (`get ... filter EXPR`, `delete ... filter EXPR`): comparisons
//! of an entry's key fields, action parameters, priority and idle time, joined by `and`, `or`,
//! `not` and parentheses. Values are parsed by the field's type when the filter is parsed, so
//! a bad value is an error before anything runs.

use std::time::Duration;

use num_bigint::BigUint;
use p4tc_ir::arena::Handle;
use p4tc_ir::ir;

use super::lexer::{filter_tokens, FilterToken, FilterTokenKind, Word};
use super::values::{parse_key_match, parse_number, parse_value};
use super::{CtlError, DevResolver, Pos};
use crate::entry::{EntryInfo, KeyMatch};
use crate::model::TableModel;

/// How deeply `not` and parentheses may nest: deep enough for any hand-written filter, and a
/// bound that keeps parsing and evaluation off the end of the stack.
const MAX_DEPTH: usize = 64;

/// How many comparisons a filter may hold: `and`/`or` chains nest to the left, and this bound
/// keeps evaluating (and dropping) them shallow.
const MAX_COMPARISONS: usize = 1024;

/// A filter expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Filter {
    /// Both hold.
    And(Box<Filter>, Box<Filter>),
    /// Either holds.
    Or(Box<Filter>, Box<Filter>),
    /// It does not hold.
    Not(Box<Filter>),
    /// A comparison.
    Compare {
        /// What is compared.
        field: FilterField,
        /// How.
        op: CmpOp,
        /// With what.
        value: FilterValue,
    },
}

/// What a comparison reads from an entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FilterField {
    /// `key.NAME`: the key field with this index.
    Key(usize),
    /// `param.NAME`: the action parameter with this name.
    Param(String),
    /// `prio`
    Prio,
    /// `msecs_since`: milliseconds since the entry was last used.
    MsecsSince,
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `>`
    Gt,
    /// `<=`
    Le,
    /// `>=`
    Ge,
}

impl CmpOp {
    fn parse(text: &str) -> Option<CmpOp> {
        Some(match text {
            "==" => CmpOp::Eq,
            "!=" => CmpOp::Ne,
            "<" => CmpOp::Lt,
            ">" => CmpOp::Gt,
            "<=" => CmpOp::Le,
            ">=" => CmpOp::Ge,
            _ => return None,
        })
    }

    fn holds<T: Ord>(self, left: &T, right: &T) -> bool {
        match self {
            CmpOp::Eq => left == right,
            CmpOp::Ne => left != right,
            CmpOp::Lt => left < right,
            CmpOp::Gt => left > right,
            CmpOp::Le => left <= right,
            CmpOp::Ge => left >= right,
        }
    }

    fn is_equality(self) -> bool {
        matches!(self, CmpOp::Eq | CmpOp::Ne)
    }
}

/// The right-hand side of a comparison, parsed by the field's type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FilterValue {
    /// A whole key match (`==`, `!=` on a key field).
    KeyMatch(KeyMatch),
    /// A key value (ordered comparisons on a key field).
    KeyValue(BigUint),
    /// A parameter's value, per action that has a parameter of that name: the action, the
    /// parameter's index, the value parsed by that parameter's type.
    Param(Vec<(Handle<ir::Action>, usize, BigUint)>),
    /// A number (`prio`, `msecs_since`).
    Number(u64),
}

impl Filter {
    /// Whether `entry` passes, `now` being the backend clock's time (for `msecs_since`).
    pub fn matches(&self, entry: &EntryInfo, now: Duration) -> bool {
        match self {
            Filter::And(a, b) => a.matches(entry, now) && b.matches(entry, now),
            Filter::Or(a, b) => a.matches(entry, now) || b.matches(entry, now),
            Filter::Not(a) => !a.matches(entry, now),
            Filter::Compare { field, op, value } => compare(entry, now, field, *op, value),
        }
    }
}

/// The value part of a key match (none for a wildcard).
fn key_value(m: &KeyMatch) -> Option<&BigUint> {
    match m {
        KeyMatch::Exact(v) => Some(v),
        KeyMatch::Lpm { value, .. } | KeyMatch::Ternary { value, .. } => Some(value),
        KeyMatch::Range { low, .. } => Some(low),
        KeyMatch::Any => None,
    }
}

fn compare(
    entry: &EntryInfo,
    now: Duration,
    field: &FilterField,
    op: CmpOp,
    value: &FilterValue,
) -> bool {
    match (field, value) {
        (FilterField::Key(index), FilterValue::KeyMatch(want)) => {
            entry.spec.key.get(*index).is_some_and(|m| match op {
                CmpOp::Ne => m != want,
                _ => m == want,
            })
        }
        (FilterField::Key(index), FilterValue::KeyValue(want)) => entry
            .spec
            .key
            .get(*index)
            .and_then(key_value)
            .is_some_and(|v| op.holds(v, want)),
        (FilterField::Param(_), FilterValue::Param(choices)) => {
            let Some(call) = &entry.spec.action else {
                return false;
            };
            choices
                .iter()
                .find(|(action, _, _)| *action == call.action)
                .and_then(|(_, index, want)| call.params.get(*index).map(|v| op.holds(v, want)))
                .unwrap_or(false)
        }
        (FilterField::Prio, FilterValue::Number(want)) => entry
            .spec
            .priority
            .is_some_and(|p| op.holds(&u64::from(p.0), want)),
        (FilterField::MsecsSince, FilterValue::Number(want)) => {
            let idle = now.saturating_sub(entry.last_used).as_millis();
            op.holds(&idle, &u128::from(*want))
        }
        _ => false,
    }
}

/// Parses the words after `filter`.
pub(crate) fn parse_filter(
    words: &[Word],
    table: &TableModel,
    resolver: DevResolver<'_>,
) -> Result<Filter, CtlError> {
    let tokens = filter_tokens(words);
    let end = words
        .last()
        .map(|w| Pos {
            column: w.at.column + w.text.chars().count(),
            ..w.at
        })
        .unwrap_or_default();
    let mut parser = FilterParser {
        tokens,
        next: 0,
        table,
        resolver,
        end,
        comparisons: 0,
    };
    let filter = parser.or(0)?;
    if let Some(t) = parser.tokens.get(parser.next) {
        return Err(CtlError::new(
            t.at,
            format!(
                "unexpected `{}` in the filter: expected `and`, `or` or the end",
                t.text
            ),
        ));
    }
    Ok(filter)
}

struct FilterParser<'a> {
    tokens: Vec<FilterToken>,
    next: usize,
    table: &'a TableModel,
    resolver: DevResolver<'a>,
    end: Pos,
    comparisons: usize,
}

impl FilterParser<'_> {
    fn peek(&self) -> Option<&FilterToken> {
        self.tokens.get(self.next)
    }

    fn peek_word(&self, word: &str) -> bool {
        self.peek()
            .is_some_and(|t| t.kind == FilterTokenKind::Word && t.text == word)
    }

    fn take(&mut self, what: &str) -> Result<FilterToken, CtlError> {
        match self.tokens.get(self.next) {
            Some(t) => {
                self.next += 1;
                Ok(t.clone())
            }
            None => Err(CtlError::new(
                self.end,
                format!("the filter ends where {what} was expected"),
            )),
        }
    }

    fn or(&mut self, depth: usize) -> Result<Filter, CtlError> {
        let mut left = self.and(depth)?;
        while self.peek_word("or") {
            self.next += 1;
            let right = self.and(depth)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self, depth: usize) -> Result<Filter, CtlError> {
        let mut left = self.unary(depth)?;
        while self.peek_word("and") {
            self.next += 1;
            let right = self.unary(depth)?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self, depth: usize) -> Result<Filter, CtlError> {
        if depth >= MAX_DEPTH {
            let at = self.peek().map(|t| t.at).unwrap_or(self.end);
            return Err(CtlError::new(
                at,
                format!("the filter nests `not` and parentheses more than {MAX_DEPTH} deep"),
            ));
        }
        if self.peek_word("not") {
            self.next += 1;
            return Ok(Filter::Not(Box::new(self.unary(depth + 1)?)));
        }
        if self.peek().is_some_and(|t| t.kind == FilterTokenKind::Open) {
            let open = self.take("`(`")?;
            let inner = self.or(depth + 1)?;
            match self.peek() {
                Some(t) if t.kind == FilterTokenKind::Close => {
                    self.next += 1;
                    Ok(inner)
                }
                Some(t) => Err(CtlError::new(
                    t.at,
                    format!(
                        "expected `)` (closing the `(` at column {}), found `{}`",
                        open.at.column, t.text
                    ),
                )),
                None => Err(CtlError::new(open.at, "this `(` is never closed")),
            }
        } else {
            self.comparison()
        }
    }

    fn comparison(&mut self) -> Result<Filter, CtlError> {
        let field_token = self.take("a comparison (key.FIELD == VALUE)")?;
        self.comparisons += 1;
        if self.comparisons > MAX_COMPARISONS {
            return Err(CtlError::new(
                field_token.at,
                format!("the filter has more than {MAX_COMPARISONS} comparisons"),
            ));
        }
        if field_token.kind != FilterTokenKind::Word {
            return Err(CtlError::new(
                field_token.at,
                format!(
                    "expected a comparison such as `prio < 10`, found `{}`",
                    field_token.text
                ),
            ));
        }
        let op_token = self.take("a comparison operator (== != < > <= >=)")?;
        let op = CmpOp::parse(&op_token.text)
            .filter(|_| op_token.kind == FilterTokenKind::Operator)
            .ok_or_else(|| {
                CtlError::new(
                    op_token.at,
                    format!(
                        "expected a comparison operator (== != < > <= >=) after `{}`, found `{}`",
                        field_token.text, op_token.text
                    ),
                )
            })?;
        let value_token = self.take("a value")?;
        if value_token.kind != FilterTokenKind::Word {
            return Err(CtlError::new(
                value_token.at,
                format!(
                    "expected a value after `{}`, found `{}`",
                    op_token.text, value_token.text
                ),
            ));
        }
        let (field, value) = self.operand(&field_token, op, &value_token)?;
        Ok(Filter::Compare { field, op, value })
    }

    fn operand(
        &self,
        field: &FilterToken,
        op: CmpOp,
        value: &FilterToken,
    ) -> Result<(FilterField, FilterValue), CtlError> {
        let table = self.table;
        let at_value = |m: String| CtlError::new(value.at, m);
        let name = field.text.as_str();
        if let Some(key) = name.strip_prefix("key.") {
            let Some((index, kf)) = table.key_by_name(key) else {
                let keys: Vec<&str> = table.keys.iter().map(|k| k.name.as_str()).collect();
                return Err(CtlError::new(
                    field.at,
                    format!(
                        "table {} has no key field `{key}`; its keys are: {}",
                        table.name,
                        if keys.is_empty() {
                            "(none)".to_string()
                        } else {
                            keys.join(", ")
                        }
                    ),
                ));
            };
            let parsed = if op.is_equality() {
                FilterValue::KeyMatch(
                    parse_key_match(&value.text, kf, self.resolver).map_err(at_value)?,
                )
            } else {
                FilterValue::KeyValue(
                    parse_value(
                        &value.text,
                        kf.ty,
                        kf.width,
                        &format!("key field `{key}`"),
                        self.resolver,
                    )
                    .map_err(at_value)?,
                )
            };
            return Ok((FilterField::Key(index), parsed));
        }
        if let Some(param) = name.strip_prefix("param.") {
            let mut choices = Vec::new();
            let mut first_error = None;
            for action in &table.actions {
                let Some(index) = action.params.iter().position(|p| p.name == param) else {
                    continue;
                };
                let p = &action.params[index];
                match parse_value(
                    &value.text,
                    p.ty,
                    p.width,
                    &format!("param `{param}`"),
                    self.resolver,
                ) {
                    Ok(v) => choices.push((action.handle, index, v)),
                    Err(e) => {
                        first_error.get_or_insert(e);
                    }
                }
            }
            if choices.is_empty() {
                return Err(match first_error {
                    Some(e) => at_value(e),
                    None => {
                        let mut names: Vec<&str> = table
                            .actions
                            .iter()
                            .flat_map(|a| a.params.iter().map(|p| p.name.as_str()))
                            .collect();
                        names.sort_unstable();
                        names.dedup();
                        CtlError::new(
                            field.at,
                            format!(
                                "no action of table {} has a param `{param}`; their params \
                                 are: {}",
                                table.name,
                                if names.is_empty() {
                                    "(none)".to_string()
                                } else {
                                    names.join(", ")
                                }
                            ),
                        )
                    }
                });
            }
            return Ok((
                FilterField::Param(param.to_string()),
                FilterValue::Param(choices),
            ));
        }
        let field = match name {
            "prio" => FilterField::Prio,
            "msecs_since" => FilterField::MsecsSince,
            _ => {
                return Err(CtlError::new(
                    field.at,
                    format!(
                        "unknown filter field `{name}`: use key.FIELD, param.NAME, prio or \
                         msecs_since"
                    ),
                ))
            }
        };
        let number = parse_number(&value.text)
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| at_value(format!("`{}` is not a number", value.text)))?;
        Ok((field, FilterValue::Number(number)))
    }
}
