//! Value matchers: the scalar half of Kyverno's pattern language, compiled.
//!
//! A pattern leaf such as `"k8s.gcr.io/* | gallery.ecr.aws/*"`, `">=1000 & <65536"`,
//! `"1-1024"`, `true`, `80` or `null` becomes one [`ValuePattern`] in the program's
//! constant pool. The compiler lexes the string once (into alternatives of conjunctions
//! of [`Term`]s) and pre-parses every operand as a duration, a quantity and a
//! [`Glob`], so evaluation never re-parses the pattern side.
//!
//! The semantics are Kyverno's `pkg/engine/pattern`, including its typing rules:
//! numbers in patterns are floats (Kyverno reads patterns through `encoding/json`), a
//! string value is compared with a number pattern after `ParseFloat`, a `null` pattern
//! accepts every zero value, and for each operator term a duration comparison is tried
//! first, then a quantity comparison, then (for `=` and `!`) a wildcard comparison of the
//! value formatted the way Go formats it.

use core::cmp::Ordering;
use core::fmt::Write;

use crate::document::Value;
use crate::duration;
use crate::gofmt::{self, StackStr};
use crate::quantity::Quantity;
use crate::wildcard::Glob;

/// A compiled scalar pattern.
#[derive(Clone, Debug, PartialEq)]
pub enum ValuePattern {
    /// `null` (or `~`): matches `null`, `0`, `0.0`, `""` and `false`.
    Null,
    Bool(bool),
    /// Any number; Kyverno compares it as a float.
    Number(f64),
    Str(StringPattern),
}

/// A pattern string: alternatives separated by `|`, each a conjunction of terms
/// separated by `&`.
#[derive(Clone, Debug, PartialEq)]
pub struct StringPattern {
    /// The string as written; a string value equal to it matches outright.
    pub raw: Box<str>,
    pub alternatives: Vec<Vec<Term>>,
}

/// Comparison operators of pattern terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Equal,
    NotEqual,
    Greater,
    GreaterEqual,
    Less,
    LessEqual,
}

impl Op {
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Equal => "",
            Op::NotEqual => "!",
            Op::Greater => ">",
            Op::GreaterEqual => ">=",
            Op::Less => "<",
            Op::LessEqual => "<=",
        }
    }

    fn holds(self, ord: Ordering) -> bool {
        match self {
            Op::Equal => ord == Ordering::Equal,
            Op::NotEqual => ord != Ordering::Equal,
            Op::Greater => ord == Ordering::Greater,
            Op::GreaterEqual => ord != Ordering::Less,
            Op::Less => ord == Ordering::Less,
            Op::LessEqual => ord != Ordering::Greater,
        }
    }
}

/// One `&`-separated term of a pattern string.
#[derive(Clone, Debug, PartialEq)]
pub enum Term {
    /// `op operand`, where `op` may be empty (equality).
    Compare { op: Op, operand: Operand },
    /// `lo-hi`: `>= lo` and `<= hi`.
    InRange { lo: Operand, hi: Operand },
    /// `lo!-hi`: `< lo` or `> hi`.
    NotInRange { lo: Operand, hi: Operand },
}

/// The right-hand side of a comparison, pre-parsed every way Kyverno may read it.
#[derive(Clone, Debug, PartialEq)]
pub struct Operand {
    pub text: Box<str>,
    pub duration: Option<i64>,
    pub quantity: Option<Quantity>,
    pub glob: Glob,
}

impl Operand {
    pub fn new(text: &str) -> Operand {
        Operand { text: text.into(), duration: duration::parse(text), quantity: Quantity::parse(text), glob: Glob::new(text) }
    }
}

/// A pattern term as text: what [`classify_term`] reads from one `&`-separated part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TermText<'s> {
    Compare { op: Op, operand: &'s str },
    InRange { lo: &'s str, hi: &'s str },
    NotInRange { lo: &'s str, hi: &'s str },
}

/// Reads one term the way Kyverno does: trim spaces, then a prefix operator (`>=`, `<=`,
/// `>`, `<`, `!`, only on terms of two or more bytes), else a range `a!-b` or `a-b`
/// (exactly one `-`, numbers on both sides), else equality.
pub fn classify_term(text: &str) -> TermText<'_> {
    let t = text.trim_matches(' ');
    let op = if t.len() < 2 {
        Op::Equal
    } else if t.starts_with(">=") {
        Op::GreaterEqual
    } else if t.starts_with("<=") {
        Op::LessEqual
    } else if t.starts_with('>') {
        Op::Greater
    } else if t.starts_with('<') {
        Op::Less
    } else if t.starts_with('!') {
        Op::NotEqual
    } else {
        Op::Equal
    };
    if op == Op::Equal {
        if let Some((lo, hi)) = range(t, true) {
            return TermText::NotInRange { lo: lo.trim(), hi: hi.trim() };
        }
        if let Some((lo, hi)) = range(t, false) {
            return TermText::InRange { lo: lo.trim(), hi: hi.trim() };
        }
    }
    TermText::Compare { op, operand: t.get(op.symbol().len()..).unwrap_or("").trim() }
}

/// Kyverno's range forms `^(\d+(\.\d+)?)([^-]*)-(\d+(\.\d+)?)([^-]*)$` and its `!-`
/// variant: exactly one `-`, a number at the start of both sides.
fn range(t: &str, negated: bool) -> Option<(&str, &str)> {
    if t.bytes().filter(|&b| b == b'-').count() != 1 {
        return None;
    }
    let dash = t.find('-')?;
    let (left, right) = (t.get(..dash)?, t.get(dash + 1..)?);
    let left = if negated { left.strip_suffix('!')? } else { left };
    let numeric = |s: &str| s.bytes().next().is_some_and(|b| b.is_ascii_digit());
    (numeric(left) && numeric(right)).then_some((left, right))
}

impl Term {
    /// The compiled form of a term read by [`classify_term`].
    pub fn from_text(t: TermText<'_>) -> Term {
        match t {
            TermText::Compare { op, operand } => Term::Compare { op, operand: Operand::new(operand) },
            TermText::InRange { lo, hi } => Term::InRange { lo: Operand::new(lo), hi: Operand::new(hi) },
            TermText::NotInRange { lo, hi } => Term::NotInRange { lo: Operand::new(lo), hi: Operand::new(hi) },
        }
    }
}

/// Matches `value` against a pattern string known only at run time (a pattern leaf that
/// held a variable), reading the string as it goes, without allocating.
pub fn matches_text(value: &Value<'_>, pattern: &str) -> bool {
    if let Value::Str(s) = value {
        if *s == pattern {
            return true;
        }
    }
    pattern.split('|').any(|alt| {
        alt.trim_matches(' ').split('&').all(|term| match classify_term(term) {
            TermText::Compare { op, operand } => compare_text(value, op, operand),
            TermText::InRange { lo, hi } => compare_text(value, Op::GreaterEqual, lo) && compare_text(value, Op::LessEqual, hi),
            TermText::NotInRange { lo, hi } => compare_text(value, Op::Less, lo) || compare_text(value, Op::Greater, hi),
        })
    })
}

/// [`compare`] with the operand parsed on the spot.
fn compare_text(value: &Value<'_>, op: Op, operand: &str) -> bool {
    let mut buf = StackStr::<48>::new();
    let number_text = number_to_string(value, &mut buf);
    if let (Some(want), Some(text)) = (duration::parse(operand), number_text) {
        if duration::parse(text).is_some_and(|have| op.holds(have.cmp(&want))) {
            return true;
        }
    }
    if let (Some(want), Some(text)) = (Quantity::parse(operand), number_text) {
        if Quantity::parse(text).is_some_and(|have| op.holds(have.compare(want))) {
            return true;
        }
    }
    match op {
        Op::Equal | Op::NotEqual => {
            let mut buf = StackStr::<48>::new();
            let Some(text) = value_to_string(value, &mut buf) else {
                return false;
            };
            crate::wildcard::matches(operand, text) == (op == Op::Equal)
        }
        _ => false,
    }
}

impl ValuePattern {
    /// Does `value` match? (Kyverno's `pattern.Validate`.)
    pub fn matches(&self, value: &Value<'_>) -> bool {
        match self {
            ValuePattern::Null => match value {
                Value::Null => true,
                Value::Bool(b) => !b,
                Value::Int(i) => *i == 0,
                Value::Float(f) => *f == 0.0,
                Value::Str(s) => s.is_empty(),
                Value::Array(_) | Value::Object(_) => false,
            },
            ValuePattern::Bool(p) => matches!(value, Value::Bool(b) if b == p),
            ValuePattern::Number(p) => match value {
                Value::Int(i) => p.fract() == 0.0 && (*p as i64) == *i,
                Value::Float(f) => f == p,
                Value::Str(s) => parse_go_float(s).is_some_and(|f| f == *p),
                _ => false,
            },
            ValuePattern::Str(sp) => sp.matches(value),
        }
    }
}

impl StringPattern {
    pub fn matches(&self, value: &Value<'_>) -> bool {
        if let Value::Str(s) = value {
            if *s == &*self.raw {
                return true;
            }
        }
        self.alternatives.iter().any(|all| all.iter().all(|t| t.matches(value)))
    }
}

impl Term {
    pub fn matches(&self, value: &Value<'_>) -> bool {
        match self {
            Term::Compare { op, operand } => compare(value, *op, operand),
            Term::InRange { lo, hi } => compare(value, Op::GreaterEqual, lo) && compare(value, Op::LessEqual, hi),
            Term::NotInRange { lo, hi } => compare(value, Op::Less, lo) || compare(value, Op::Greater, hi),
        }
    }
}

/// Kyverno's `validateString`: duration, else quantity, else wildcard string comparison.
fn compare(value: &Value<'_>, op: Op, operand: &Operand) -> bool {
    let mut buf = StackStr::<48>::new();
    let number_text = number_to_string(value, &mut buf);
    if let (Some(want), Some(text)) = (operand.duration, number_text) {
        if let Some(have) = duration::parse(text) {
            if op.holds(have.cmp(&want)) {
                return true;
            }
        }
    }
    if let (Some(want), Some(text)) = (operand.quantity, number_text) {
        if let Some(have) = Quantity::parse(text) {
            if op.holds(have.compare(want)) {
                return true;
            }
        }
    }
    match op {
        Op::Equal | Op::NotEqual => {
            let mut buf = StackStr::<48>::new();
            let Some(text) = value_to_string(value, &mut buf) else {
                return false;
            };
            let matched = operand.glob.is_match(text);
            if op == Op::Equal {
                matched
            } else {
                !matched
            }
        }
        _ => false,
    }
}

/// Kyverno's `convertNumberToString`: how a value is read as a duration or quantity.
/// `null` reads as `"0"`; floats print with six decimals.
fn number_to_string<'r, 'a: 'r, const N: usize>(value: &Value<'a>, buf: &'r mut StackStr<N>) -> Option<&'r str> {
    match value {
        Value::Null => Some("0"),
        Value::Str(s) => Some(s),
        Value::Int(i) => {
            write!(buf, "{i}").ok()?;
            Some(buf.as_str())
        }
        Value::Float(f) => {
            gofmt::format_float_f(*f, buf).ok()?;
            Some(buf.as_str())
        }
        Value::Bool(_) | Value::Array(_) | Value::Object(_) => None,
    }
}

/// How Kyverno formats a value for a wildcard comparison: floats in `%E` form, booleans
/// as `true`/`false`; `null`, arrays and objects do not compare.
fn value_to_string<'r, 'a: 'r, const N: usize>(value: &Value<'a>, buf: &'r mut StackStr<N>) -> Option<&'r str> {
    match value {
        Value::Str(s) => Some(s),
        Value::Int(i) => {
            write!(buf, "{i}").ok()?;
            Some(buf.as_str())
        }
        Value::Float(f) => {
            gofmt::format_float_e(*f, buf).ok()?;
            Some(buf.as_str())
        }
        Value::Bool(b) => Some(if *b { "true" } else { "false" }),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// Go's `strconv.ParseFloat(s, 64)` for the forms that occur in manifests.
fn parse_go_float(s: &str) -> Option<f64> {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let ok = !body.is_empty()
        && (body.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
            || matches!(body.to_ascii_lowercase().as_str(), "inf" | "infinity" | "nan"));
    if !ok {
        return None;
    }
    s.parse::<f64>().ok()
}

impl core::fmt::Display for ValuePattern {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ValuePattern::Null => f.write_str("null"),
            ValuePattern::Bool(b) => write!(f, "{b}"),
            ValuePattern::Number(n) => write!(f, "{n}"),
            ValuePattern::Str(sp) => {
                write!(f, "{:?} [", sp.raw)?;
                for (i, alt) in sp.alternatives.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" | ")?;
                    }
                    for (j, t) in alt.iter().enumerate() {
                        if j > 0 {
                            f.write_str(" & ")?;
                        }
                        match t {
                            Term::Compare { op, operand } => {
                                write!(f, "{}{}", op.symbol(), operand.glob.strategy())?;
                                if operand.quantity.is_some() {
                                    f.write_str("/quantity")?;
                                }
                                if operand.duration.is_some() {
                                    f.write_str("/duration")?;
                                }
                                write!(f, " {}", operand.glob)?;
                            }
                            Term::InRange { lo, hi } => write!(f, "range {}..={}", lo.text, hi.text)?,
                            Term::NotInRange { lo, hi } => write!(f, "outside {}..={}", lo.text, hi.text)?,
                        }
                    }
                }
                f.write_str("]")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(op: Op, text: &str) -> Term {
        Term::Compare { op, operand: Operand::new(text) }
    }

    fn single(t: Term, raw: &str) -> ValuePattern {
        ValuePattern::Str(StringPattern { raw: raw.into(), alternatives: vec![vec![t]] })
    }

    #[test]
    fn null_pattern_accepts_zero_values() {
        for v in [Value::Null, Value::Bool(false), Value::Int(0), Value::Float(0.0), Value::Str("")] {
            assert!(ValuePattern::Null.matches(&v), "{v}");
        }
        for v in [Value::Bool(true), Value::Int(1), Value::Str("x"), Value::Array(&[])] {
            assert!(!ValuePattern::Null.matches(&v), "{v}");
        }
    }

    #[test]
    fn number_pattern_uses_float_semantics() {
        let p = ValuePattern::Number(80.0);
        assert!(p.matches(&Value::Int(80)));
        assert!(p.matches(&Value::Float(80.0)));
        assert!(p.matches(&Value::Str("80")));
        assert!(p.matches(&Value::Str("8e1")));
        assert!(!p.matches(&Value::Str("eighty")));
        assert!(!ValuePattern::Number(0.5).matches(&Value::Int(0)));
    }

    #[test]
    fn quantities_compare_exactly() {
        let p = single(cmp(Op::LessEqual, "4Gi"), "<=4Gi");
        assert!(p.matches(&Value::Str("4096Mi")));
        assert!(!p.matches(&Value::Str("5Gi")));
        // A missing value reads as "0".
        assert!(p.matches(&Value::Null));
    }

    #[test]
    fn durations_come_first() {
        let p = single(cmp(Op::Less, "1h"), "<1h");
        assert!(p.matches(&Value::Str("30m")));
        assert!(!p.matches(&Value::Str("2h")));
    }

    #[test]
    fn not_equal_is_the_or_of_the_three_readings() {
        // "!1h" against "60m": equal as durations, but the string comparison says "not equal".
        let p = single(cmp(Op::NotEqual, "1h"), "!1h");
        assert!(p.matches(&Value::Str("60m")));
        assert!(!p.matches(&Value::Str("1h")));
    }

    #[test]
    fn floats_format_like_go() {
        let p = single(cmp(Op::Equal, "5E-01"), "5E-01");
        assert!(p.matches(&Value::Float(0.5)));
        let p = single(cmp(Op::Equal, "true"), "true");
        assert!(p.matches(&Value::Bool(true)));
    }

    #[test]
    fn ranges() {
        let p = single(Term::InRange { lo: Operand::new("1"), hi: Operand::new("10") }, "1-10");
        assert!(p.matches(&Value::Int(1)) && p.matches(&Value::Int(10)) && !p.matches(&Value::Int(11)));
        let p = single(Term::NotInRange { lo: Operand::new("1"), hi: Operand::new("10") }, "1!-10");
        assert!(!p.matches(&Value::Int(5)) && p.matches(&Value::Int(0)) && p.matches(&Value::Int(11)));
    }
}
