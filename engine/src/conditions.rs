//! Kyverno's condition operators: what `deny.conditions` and `preconditions` entries
//! `{key, operator, value}` mean once their variables are substituted.
//!
//! A value check, like [`crate::matcher`]: the VM evaluates a condition by handing the
//! substituted key and value to [`evaluate`], which answers exactly what Kyverno's
//! `operator.CreateOperatorHandler(op).Evaluate(key, value)` answers
//! (`pkg/engine/variables/operator/`). The operand values arrive in Kyverno JSON-decoded,
//! so every number is a Go `float64`; a [`Value::Int`] here is read as that `float64`.
//! Where Kyverno turns a value into a string (`fmt.Sprint`, JSON-string lists, Go number
//! parsing) the text is built on the stack, so string, number and list comparisons do not
//! touch the global heap; only texts longer than [`INLINE`] bytes that must be built (not
//! borrowed) spill to a heap buffer.
//!
//! Kyverno's quirks are kept on purpose, each noted where it is implemented: `In`/`NotIn`
//! treat a one-element key list equal to the value string as "in" for both operators,
//! `AnyNotIn` with a range replaces the first `-` of the value with `!-`, numeric
//! operators fall back to semantic versions, and so on. Where Kyverno would panic (a
//! non-string element in an `In`/`NotIn` key list) the condition is false.

use core::cmp::Ordering;
use core::fmt::{self, Write};

use crate::document::{Member, Value};
use crate::duration;
use crate::quantity::Quantity;
use crate::wildcard;

/// A condition operator, as named in a policy's `operator:` field.
///
/// Each variant's doc says what [`evaluate`] answers for it. "Go text" of a value is
/// Go's `fmt.Sprint` of the value Kyverno holds: strings as they are, numbers as Go
/// prints a `float64` (`8080`, `1.5`, `1e+06`), `true`/`false`, `<nil>`, `[a b]`,
/// `map[k:v]`. "Matches" between two texts means Kyverno's wildcard match in either
/// direction (`*`, `?` in either side).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operator {
    /// `Equals` (also `Equal`): booleans by value; numbers as `float64`, a string value
    /// parsed with `ParseFloat`; a string key compares first as durations (when either
    /// side is a Go duration string, a number meaning seconds), then as quantities (both
    /// strings), then as numbers (numeric value, key parses as a float), then by wildcard
    /// with the value as the pattern; lists and maps by deep equality.
    Equals,
    /// `NotEquals` (also `NotEqual`): the negation of [`Operator::Equals`], except that a
    /// `null` key is false for both.
    NotEquals,
    /// `AnyIn`: some key (a scalar key is a one-element list) is in the value: a list
    /// (matches), a range string `lo-hi` (numbers, quantities or durations), a JSON
    /// string list, or a plain string.
    AnyIn,
    /// `AllIn`: every element of a key list is in the value (as for `AnyIn`); a scalar
    /// key answers as `AnyIn`.
    AllIn,
    /// `AnyNotIn`: some element of a key list is not in the value; a scalar key is "not
    /// in". Boolean keys are unsupported (false).
    AnyNotIn,
    /// `AllNotIn`: no element of a key list is in the value; a scalar key is "not in".
    /// Boolean keys are unsupported (false).
    AllNotIn,
    /// `GreaterThan`: durations (either side a duration string, numbers as seconds),
    /// then quantities (both strings), then numbers (`ParseFloat`), then semantic
    /// versions (both strings).
    GreaterThan,
    /// `GreaterThanOrEquals`: as [`Operator::GreaterThan`], with `>=`.
    GreaterThanOrEquals,
    /// `LessThan`: as [`Operator::GreaterThan`], with `<`.
    LessThan,
    /// `LessThanOrEquals`: as [`Operator::GreaterThan`], with `<=`.
    LessThanOrEquals,
    /// `DurationGreaterThan` (deprecated in Kyverno): both sides as durations, a number
    /// meaning whole seconds (truncated), a string parsed with Go's `ParseDuration`.
    DurationGreaterThan,
    /// `DurationGreaterThanOrEquals`: as [`Operator::DurationGreaterThan`], with `>=`.
    DurationGreaterThanOrEquals,
    /// `DurationLessThan`: as [`Operator::DurationGreaterThan`], with `<`.
    DurationLessThan,
    /// `DurationLessThanOrEquals`: as [`Operator::DurationGreaterThan`], with `<=`.
    DurationLessThanOrEquals,
    /// `In` (deprecated): a scalar key's text is in the value list (matches), matches the
    /// value string, or equals an element of a JSON string list in it; a key list of
    /// strings is a subset (exact strings) of the value's strings.
    In,
    /// `NotIn` (deprecated): the negation of [`Operator::In`] for scalar keys; for a key
    /// list, some key is not among the value's strings. Invalid values are false for
    /// both, and a one-element key list equal to the value string is true for both.
    NotIn,
}

impl Operator {
    /// Every operator, in the order of this enum.
    pub const ALL: [Operator; 16] = [
        Operator::Equals,
        Operator::NotEquals,
        Operator::AnyIn,
        Operator::AllIn,
        Operator::AnyNotIn,
        Operator::AllNotIn,
        Operator::GreaterThan,
        Operator::GreaterThanOrEquals,
        Operator::LessThan,
        Operator::LessThanOrEquals,
        Operator::DurationGreaterThan,
        Operator::DurationGreaterThanOrEquals,
        Operator::DurationLessThan,
        Operator::DurationLessThanOrEquals,
        Operator::In,
        Operator::NotIn,
    ];

    /// Kyverno's `CreateOperatorHandler`: the operator named `s`, compared after
    /// lower-casing (Go's `strings.ToLower`), with `Equal`/`NotEqual` as spellings of
    /// `Equals`/`NotEquals`. `None` where Kyverno has no handler.
    ///
    /// Kyverno's numeric and duration handlers then compare the operator's *original*
    /// spelling case-sensitively, so a policy saying `greaterthan` gets a handler that
    /// always answers false; Kyverno's policy validation (`IsOperatorValid`) rejects such
    /// spellings. [`Operator::parse_canonical`] is that validation.
    pub fn parse(s: &str) -> Option<Operator> {
        Operator::ALL.into_iter().find(|op| op.spellings().iter().any(|name| go_lower_equals(s, name)))
    }

    /// Kyverno's `IsOperatorValid`: the operator spelled exactly as one of Kyverno's
    /// `ConditionOperators` (including `Equal`, `NotEqual`, `In` and `NotIn`).
    pub fn parse_canonical(s: &str) -> Option<Operator> {
        Operator::ALL.into_iter().find(|op| op.spellings().contains(&s))
    }

    /// The canonical spelling.
    pub fn as_str(self) -> &'static str {
        self.spellings().first().copied().unwrap_or("")
    }

    /// `In` and `NotIn`: Kyverno warns about them (use `AnyIn`/`AllIn`,
    /// `AnyNotIn`/`AllNotIn`).
    pub fn is_deprecated(self) -> bool {
        matches!(self, Operator::In | Operator::NotIn)
    }

    fn spellings(self) -> &'static [&'static str] {
        match self {
            Operator::Equals => &["Equals", "Equal"],
            Operator::NotEquals => &["NotEquals", "NotEqual"],
            Operator::AnyIn => &["AnyIn"],
            Operator::AllIn => &["AllIn"],
            Operator::AnyNotIn => &["AnyNotIn"],
            Operator::AllNotIn => &["AllNotIn"],
            Operator::GreaterThan => &["GreaterThan"],
            Operator::GreaterThanOrEquals => &["GreaterThanOrEquals"],
            Operator::LessThan => &["LessThan"],
            Operator::LessThanOrEquals => &["LessThanOrEquals"],
            Operator::DurationGreaterThan => &["DurationGreaterThan"],
            Operator::DurationGreaterThanOrEquals => &["DurationGreaterThanOrEquals"],
            Operator::DurationLessThan => &["DurationLessThan"],
            Operator::DurationLessThanOrEquals => &["DurationLessThanOrEquals"],
            Operator::In => &["In"],
            Operator::NotIn => &["NotIn"],
        }
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `strings.ToLower(s) == strings.ToLower(name)` for an ASCII `name`. The only non-ASCII
/// characters Go lower-cases into ASCII letters are U+0130 (`İ` → `i`) and U+212A
/// (Kelvin sign → `k`).
fn go_lower_equals(s: &str, name: &str) -> bool {
    let lower = |c: char| match c {
        '\u{130}' => 'i',
        '\u{212a}' => 'k',
        c => c.to_ascii_lowercase(),
    };
    s.chars().map(lower).eq(name.chars().map(|c| c.to_ascii_lowercase()))
}

/// Kyverno's `handler.Evaluate(key, value)` for a substituted condition.
pub fn evaluate(op: Operator, key: &Value<'_>, value: &Value<'_>) -> bool {
    match op {
        Operator::Equals => equals(key, value),
        // notequal.go answers "not equal" wherever equal.go answers "not equal", except
        // for an unsupported key type (here only `null`), where both answer false.
        Operator::NotEquals => !key.is_null() && !equals(key, value),
        Operator::In => legacy_in(key, value, false),
        Operator::NotIn => legacy_in(key, value, true),
        Operator::AnyIn => any_in(key, value, false),
        Operator::AnyNotIn => any_in(key, value, true),
        Operator::AllIn => all_in(key, value, false),
        Operator::AllNotIn => all_in(key, value, true),
        Operator::GreaterThan => numeric(key, value, Cmp::Gt),
        Operator::GreaterThanOrEquals => numeric(key, value, Cmp::Ge),
        Operator::LessThan => numeric(key, value, Cmp::Lt),
        Operator::LessThanOrEquals => numeric(key, value, Cmp::Le),
        Operator::DurationGreaterThan => durations(key, value, Cmp::Gt),
        Operator::DurationGreaterThanOrEquals => durations(key, value, Cmp::Ge),
        Operator::DurationLessThan => durations(key, value, Cmp::Lt),
        Operator::DurationLessThanOrEquals => durations(key, value, Cmp::Le),
    }
}

/// The ordering operators of the numeric and duration handlers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cmp {
    Gt,
    Ge,
    Lt,
    Le,
}

impl Cmp {
    fn holds(self, ord: Ordering) -> bool {
        match self {
            Cmp::Gt => ord == Ordering::Greater,
            Cmp::Ge => ord != Ordering::Less,
            Cmp::Lt => ord == Ordering::Less,
            Cmp::Le => ord != Ordering::Greater,
        }
    }

    /// `compareByCondition` on `float64`s: a NaN on either side is false.
    fn floats(self, key: f64, value: f64) -> bool {
        key.partial_cmp(&value).is_some_and(|ord| self.holds(ord))
    }
}

/// A number as the `float64` Kyverno holds.
fn number(v: &Value<'_>) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Equals (equal.go)
// ---------------------------------------------------------------------------------------

/// `EqualHandler.Evaluate`.
fn equals(key: &Value<'_>, value: &Value<'_>) -> bool {
    match key {
        Value::Bool(k) => matches!(value, Value::Bool(v) if v == k),
        Value::Int(_) | Value::Float(_) => number(key).is_some_and(|k| float_equals(k, value)),
        Value::Str(k) => string_equals(k, value),
        // A list or map equals only a list or map with the same content.
        Value::Array(_) | Value::Object(_) => deep_equal(key, value, 0),
        Value::Null => false,
    }
}

/// `validateValueWithFloatPattern`: a number, or a string that `ParseFloat` reads.
fn float_equals(key: f64, value: &Value<'_>) -> bool {
    match value {
        Value::Int(_) | Value::Float(_) => number(value) == Some(key),
        Value::Str(s) => go_parse_float(s) == Some(key),
        _ => false,
    }
}

/// `validateValueWithStringPattern`: durations, quantities, numbers, then wildcard.
fn string_equals(key: &str, value: &Value<'_>) -> bool {
    if let Some((k, v)) = duration_pair(&Value::Str(key), value) {
        return go_seconds(k) == go_seconds(v);
    }
    if let Some(k) = Quantity::parse(key) {
        if let Value::Str(v) = value {
            // A quantity key with a string value that is not a quantity is unequal
            // outright: no wildcard comparison follows.
            return Quantity::parse(v) == Some(k);
        }
    }
    // A numeric value with a key that parses as a float compares as numbers (Kyverno
    // #16358), e.g. `"5"` equals `5`.
    if let Some(v) = number(value) {
        if let Some(k) = go_parse_float(key) {
            return k == v;
        }
    }
    match value {
        Value::Str(pattern) => wildcard::matches(pattern, key),
        _ => false,
    }
}

/// Deepest nesting [`deep_equal`] and [`write_go_text`] follow; documents are bounded
/// far below this by [`crate::Limits::max_depth`] anyway.
const MAX_DEPTH: usize = 256;

/// `reflect.DeepEqual` of the Go values: numbers as `float64`, maps with Go's
/// last-duplicate-wins keys, lists in order.
fn deep_equal(a: &Value<'_>, b: &Value<'_>, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => number(a) == number(b),
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| deep_equal(p, q, depth + 1)),
        (Value::Object(x), Value::Object(y)) => {
            let distinct = |members: &[Member<'_>]| members.iter().enumerate().filter(|(i, m)| is_last_of_key(members, *i, m.key)).count();
            distinct(x) == distinct(y)
                && x.iter()
                    .enumerate()
                    .filter(|(i, m)| is_last_of_key(x, *i, m.key))
                    .all(|(_, m)| y.iter().rev().find(|n| n.key == m.key).is_some_and(|n| deep_equal(&m.value, &n.value, depth + 1)))
        }
        _ => false,
    }
}

/// True when `members[index]` is the last member named `key` (the one a Go map keeps).
fn is_last_of_key(members: &[Member<'_>], index: usize, key: &str) -> bool {
    members.get(index + 1..).is_none_or(|rest| rest.iter().all(|m| m.key != key))
}

// ---------------------------------------------------------------------------------------
// Durations (operator.go parseDuration, duration.go)
// ---------------------------------------------------------------------------------------

/// Kyverno's `parseDuration(key, value)`: at least one side must be a Go duration
/// string other than `"0"`; the other side is then a duration string too, or a number of
/// seconds. Returns nanoseconds.
fn duration_pair(key: &Value<'_>, value: &Value<'_>) -> Option<(i64, i64)> {
    let as_duration = |v: &Value<'_>| match v {
        Value::Str(s) if *s != "0" => duration::parse(s),
        _ => None,
    };
    let (k, v) = (as_duration(key), as_duration(value));
    if k.is_none() && v.is_none() {
        return None;
    }
    let k = k.or_else(|| number(key).map(go_seconds_to_duration))?;
    let v = v.or_else(|| number(value).map(go_seconds_to_duration))?;
    Some((k, v))
}

/// `time.Duration(f) * time.Second` on amd64: the conversion truncates toward zero, and a
/// NaN or out-of-range float becomes `math.MinInt64`; the multiplication wraps.
fn go_seconds_to_duration(f: f64) -> i64 {
    go_float_to_int(f).wrapping_mul(1_000_000_000)
}

/// Go's `int64(f)` on amd64 (`CVTTSD2SQ`).
fn go_float_to_int(f: f64) -> i64 {
    // 2^63 as a float; anything at or beyond it (or NaN) is the "integer indefinite".
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if f.is_nan() || !(-LIMIT..LIMIT).contains(&f) {
        i64::MIN
    } else {
        f as i64
    }
}

/// `time.Duration.Seconds()`: whole seconds plus the fraction, as Go computes it.
fn go_seconds(d: i64) -> f64 {
    let (sec, nsec) = (d / 1_000_000_000, d % 1_000_000_000);
    sec as f64 + nsec as f64 / 1e9
}

/// `DurationOperatorHandler.Evaluate`: both sides as durations; a numeric key or value
/// is whole seconds, a string must parse with `time.ParseDuration` (here `"0"` is fine).
fn durations(key: &Value<'_>, value: &Value<'_>, cmp: Cmp) -> bool {
    let side = |v: &Value<'_>| match v {
        Value::Int(_) | Value::Float(_) => number(v).map(go_seconds_to_duration),
        Value::Str(s) => duration::parse(s),
        _ => None,
    };
    match (key, side(key), side(value)) {
        (Value::Int(_) | Value::Float(_) | Value::Str(_), Some(k), Some(v)) => cmp.holds(k.cmp(&v)),
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------
// GreaterThan, LessThan, ... (numeric.go)
// ---------------------------------------------------------------------------------------

/// `NumericOperatorHandler.Evaluate`.
fn numeric(key: &Value<'_>, value: &Value<'_>, cmp: Cmp) -> bool {
    match key {
        Value::Int(_) | Value::Float(_) => number(key).is_some_and(|k| numeric_float_key(k, value, cmp)),
        Value::Str(k) => numeric_string_key(k, value, cmp),
        _ => false,
    }
}

/// `validateValueWithFloatPattern`: a number; or a string read as a duration (the key
/// then counts seconds), else with `ParseFloat`.
fn numeric_float_key(key: f64, value: &Value<'_>, cmp: Cmp) -> bool {
    match value {
        Value::Int(_) | Value::Float(_) => number(value).is_some_and(|v| cmp.floats(key, v)),
        Value::Str(s) => {
            if let Some((k, v)) = duration_pair(&Value::Float(key), value) {
                return cmp.floats(go_seconds(k), go_seconds(v));
            }
            // numeric.go tries ParseInt after ParseFloat; every string ParseInt reads,
            // ParseFloat reads too.
            go_parse_float(s).is_some_and(|v| cmp.floats(key, v))
        }
        _ => false,
    }
}

/// `validateValueWithStringPattern`: durations, then quantities (both strings), then the
/// key as a float, then both as semantic versions.
fn numeric_string_key(key: &str, value: &Value<'_>, cmp: Cmp) -> bool {
    if let Some((k, v)) = duration_pair(&Value::Str(key), value) {
        return cmp.floats(go_seconds(k), go_seconds(v));
    }
    if let Value::Str(v) = value {
        if let (Some(k), Some(v)) = (Quantity::parse(key), Quantity::parse(v)) {
            return cmp.holds(k.compare(v));
        }
    }
    if let Some(k) = go_parse_float(key) {
        return numeric_float_key(k, value, cmp);
    }
    if let Some(k) = Semver::parse(key) {
        return match value {
            Value::Str(v) => Semver::parse(v).is_some_and(|v| cmp.holds(k.compare(&v))),
            _ => false,
        };
    }
    false
}

/// A semantic version as `github.com/blang/semver/v4` parses it: `MAJOR.MINOR.PATCH`
/// with optional `-prerelease` and `+build`, no leading zeros, no `v` prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Semver<'s> {
    major: u64,
    minor: u64,
    patch: u64,
    /// The dot-separated pre-release identifiers, validated; `None` when absent.
    pre: Option<&'s str>,
}

impl<'s> Semver<'s> {
    fn parse(s: &'s str) -> Option<Semver<'s>> {
        let mut parts = s.splitn(3, '.');
        let (major, minor, rest) = (parts.next()?, parts.next()?, parts.next()?);
        let (rest, build) = match rest.split_once('+') {
            Some((r, b)) => (r, Some(b)),
            None => (rest, None),
        };
        let (patch, pre) = match rest.split_once('-') {
            Some((p, pre)) => (p, Some(pre)),
            None => (rest, None),
        };
        let number = |part: &str| {
            let digits = part.bytes().all(|b| b.is_ascii_digit());
            let leading_zero = part.len() > 1 && part.starts_with('0');
            if digits && !leading_zero {
                part.parse::<u64>().ok()
            } else {
                None
            }
        };
        let alphanumeric = |part: &str| part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        let version = Semver { major: number(major)?, minor: number(minor)?, patch: number(patch)?, pre };
        if let Some(pre) = pre {
            for id in pre.split('.') {
                let valid = if id.bytes().all(|b| b.is_ascii_digit()) { number(id).is_some() } else { alphanumeric(id) };
                if id.is_empty() || !valid {
                    return None;
                }
            }
        }
        if let Some(build) = build {
            if build.split('.').any(|id| id.is_empty() || !alphanumeric(id)) {
                return None;
            }
        }
        Some(version)
    }

    /// `Version.Compare`: numbers, then pre-release identifiers (a version without one is
    /// greater; numeric identifiers are less than alphanumeric ones); build is ignored.
    fn compare(&self, other: &Semver<'_>) -> Ordering {
        let core = (self.major, self.minor, self.patch).cmp(&(other.major, other.minor, other.patch));
        if core != Ordering::Equal {
            return core;
        }
        match (self.pre, other.pre) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(a), Some(b)) => {
                let mut a = a.split('.');
                let mut b = b.split('.');
                loop {
                    match (a.next(), b.next()) {
                        (None, None) => return Ordering::Equal,
                        (None, Some(_)) => return Ordering::Less,
                        (Some(_), None) => return Ordering::Greater,
                        (Some(x), Some(y)) => {
                            let ord = match (numeric_identifier(x), numeric_identifier(y)) {
                                (Some(p), Some(q)) => p.cmp(&q),
                                (Some(_), None) => Ordering::Less,
                                (None, Some(_)) => Ordering::Greater,
                                (None, None) => x.cmp(y),
                            };
                            if ord != Ordering::Equal {
                                return ord;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A pre-release identifier made only of digits, as a number (validated by
/// [`Semver::parse`]).
fn numeric_identifier(id: &str) -> Option<u64> {
    if id.bytes().all(|b| b.is_ascii_digit()) {
        id.parse().ok()
    } else {
        None
    }
}

// ---------------------------------------------------------------------------------------
// In, NotIn (in.go, notin.go; deprecated)
// ---------------------------------------------------------------------------------------

/// Why a value list could not be read: Kyverno's `invalidType`, which makes every set
/// operator answer false.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct InvalidType;

/// `InHandler.Evaluate` / `NotInHandler.Evaluate`.
fn legacy_in(key: &Value<'_>, value: &Value<'_>, negate: bool) -> bool {
    match key {
        Value::Str(_) | Value::Int(_) | Value::Float(_) => {
            // A scalar key: found-or-not, negated for NotIn; an invalid value is false.
            with_text(key, |k| legacy_key_in(k, value)).is_ok_and(|found| found != negate)
        }
        Value::Array(keys) => {
            // Kyverno asserts `v.(string)` on every key element and panics otherwise.
            if !keys.iter().all(|k| matches!(k, Value::Str(_))) {
                return false;
            }
            legacy_set_in(keys, value, negate).unwrap_or(false)
        }
        _ => false,
    }
}

/// `keyExistsInArray`: a list of values (matches either way), a string (the value as the
/// pattern), or a JSON string list in a string (exact elements).
fn legacy_key_in(key: &str, value: &Value<'_>) -> Result<bool, InvalidType> {
    match value {
        Value::Array(values) => Ok(values.iter().any(|v| with_text(v, |v| matches_either_way(key, v)))),
        Value::Str(s) => {
            if wildcard::matches(s, key) {
                return Ok(true);
            }
            // `json.Unmarshal` into `[]string` with no validity check first: text that is
            // not a JSON string list is an invalid value.
            match json_strings(s) {
                JsonStrings::Null => Ok(false),
                JsonStrings::List(list) => Ok(list.any(|v| v == key)),
                JsonStrings::NotJson | JsonStrings::NotStrings => Err(InvalidType),
            }
        }
        _ => Err(InvalidType),
    }
}

/// `setExistsInArray` for `In` (`is subset`) and `NotIn` (`some key missing`), on exact
/// strings. The value must be a list of strings or a JSON string list; a one-element key
/// list equal to the value string answers true for both operators (Kyverno's quirk).
fn legacy_set_in(keys: &[Value<'_>], value: &Value<'_>, not_in: bool) -> Result<bool, InvalidType> {
    let key_strs = || keys.iter().filter_map(Value::as_str);
    let candidates = match value {
        Value::Array(values) => {
            if !values.iter().all(|v| matches!(v, Value::Str(_))) {
                return Err(InvalidType);
            }
            Candidates::Values(values)
        }
        Value::Str(s) => {
            if keys.len() == 1 && key_strs().eq(core::iter::once(*s)) {
                return Ok(true);
            }
            match json_strings(s) {
                JsonStrings::Null => Candidates::None,
                JsonStrings::List(list) => Candidates::Json(list),
                JsonStrings::NotJson | JsonStrings::NotStrings => return Err(InvalidType),
            }
        }
        _ => return Err(InvalidType),
    };
    let contains = |k: &str| candidates.any(|v| v == k);
    Ok(if not_in { key_strs().any(|k| !contains(k)) } else { key_strs().all(contains) })
}

// ---------------------------------------------------------------------------------------
// AnyIn, AnyNotIn, AllIn, AllNotIn (anyin.go, anynotin.go, allin.go, allnotin.go)
// ---------------------------------------------------------------------------------------

/// `AnyInHandler.Evaluate` / `AnyNotInHandler.Evaluate`.
fn any_in(key: &Value<'_>, value: &Value<'_>, not_in: bool) -> bool {
    match key {
        // AnyIn reads a boolean key as its text; AnyNotIn has no case for booleans.
        Value::Str(_) | Value::Int(_) | Value::Float(_) => with_text(key, |k| key_in(k, value)).is_ok_and(|found| found != not_in),
        Value::Bool(_) if !not_in => with_text(key, |k| key_in(k, value)).unwrap_or(false),
        Value::Array(keys) => any_set_in(keys, value, not_in).unwrap_or(false),
        _ => false,
    }
}

/// `AllInHandler.Evaluate` / `AllNotInHandler.Evaluate`. A scalar key answers exactly as
/// for `AnyIn` / `AnyNotIn` (`allKeyExistsInArray` is `anyKeyExistsInArray`).
fn all_in(key: &Value<'_>, value: &Value<'_>, not_in: bool) -> bool {
    match key {
        Value::Str(_) | Value::Int(_) | Value::Float(_) => with_text(key, |k| key_in(k, value)).is_ok_and(|found| found != not_in),
        Value::Bool(_) if !not_in => with_text(key, |k| key_in(k, value)).unwrap_or(false),
        Value::Array(keys) => all_set_in(keys, value, not_in).unwrap_or(false),
        _ => false,
    }
}

/// `anyKeyExistsInArray` (and its copy `allKeyExistsInArray`): is one key text in the
/// value? A list: some element's text matches either way. A string: it matches as a
/// pattern, or it is a range the key falls in, or it is a JSON string list with the key
/// as an element, or (not JSON at all) it equals the key.
fn key_in(key: &str, value: &Value<'_>) -> Result<bool, InvalidType> {
    match value {
        Value::Array(values) => Ok(values.iter().any(|v| with_text(v, |v| matches_either_way(key, v)))),
        Value::Str(s) => {
            if wildcard::matches(s, key) {
                return Ok(true);
            }
            if is_range(s) {
                return Ok(pattern_holds(key, s));
            }
            Ok(string_candidates(s)?.any(|v| v == key))
        }
        _ => Err(InvalidType),
    }
}

/// `anySetExistsInArray`: for `AnyIn`, some key is in the value; for `AnyNotIn`, some key
/// is not. Keys and values compare as texts, matching either way.
fn any_set_in(keys: &[Value<'_>], value: &Value<'_>, not_in: bool) -> Result<bool, InvalidType> {
    let candidates = match value {
        Value::Array(values) => Candidates::Values(values),
        Value::Int(_) | Value::Float(_) | Value::Bool(_) => Candidates::Scalar(value),
        Value::Str(s) => {
            if single_key_equals(keys, s) {
                return Ok(!not_in);
            }
            if is_range(s) {
                if not_in {
                    // Kyverno turns `lo-hi` into `lo!-hi` by replacing the first `-`,
                    // whatever that does to a range with a negative bound.
                    return Ok(with_first_dash_negated(s, |outside| keys.iter().any(|k| with_text(k, |k| pattern_holds(k, outside)))));
                }
                return Ok(keys.iter().any(|k| with_text(k, |k| pattern_holds(k, s))));
            }
            string_candidates(s)?
        }
        _ => return Err(InvalidType),
    };
    let found = |k: &Value<'_>| with_text(k, |k| candidates.any(|v| matches_either_way(k, v)));
    Ok(if not_in { keys.iter().any(|k| !found(k)) } else { keys.iter().any(found) })
}

/// `allSetExistsInArray`: for `AllIn`, every key is in the value; for `AllNotIn`, no key
/// is. Numbers and booleans are not valid values here (unlike `AnyIn`).
fn all_set_in(keys: &[Value<'_>], value: &Value<'_>, not_in: bool) -> Result<bool, InvalidType> {
    let candidates = match value {
        Value::Array(values) => Candidates::Values(values),
        Value::Str(s) => {
            if single_key_equals(keys, s) {
                return Ok(!not_in);
            }
            if is_range(s) {
                let in_range = |k: &Value<'_>| with_text(k, |k| pattern_holds(k, s));
                return Ok(if not_in { !keys.iter().any(in_range) } else { keys.iter().all(in_range) });
            }
            string_candidates(s)?
        }
        _ => return Err(InvalidType),
    };
    let found = |k: &Value<'_>| with_text(k, |k| candidates.any(|v| matches_either_way(k, v)));
    Ok(if not_in { !keys.iter().any(found) } else { keys.iter().all(found) })
}

/// `len(key) == 1 && key[0] == value` on the keys' texts.
fn single_key_equals(keys: &[Value<'_>], value: &str) -> bool {
    match keys {
        [only] => with_text(only, |k| k == value),
        _ => false,
    }
}

/// Kyverno's `wildcard.Match(a, b) || wildcard.Match(b, a)`.
fn matches_either_way(a: &str, b: &str) -> bool {
    wildcard::matches(b, a) || wildcard::matches(a, b)
}

/// The value side of a set operator.
#[derive(Clone, Copy, Debug)]
enum Candidates<'v, 'a> {
    /// No candidates (a JSON `null`).
    None,
    /// A list: each element's Go text.
    Values(&'v [Value<'a>]),
    /// A number or boolean: its Go text, the only candidate.
    Scalar(&'v Value<'a>),
    /// A plain string, the only candidate.
    One(&'v str),
    /// The elements of a JSON string list.
    Json(JsonList<'v>),
}

impl Candidates<'_, '_> {
    fn any(&self, mut f: impl FnMut(&str) -> bool) -> bool {
        match self {
            Candidates::None => false,
            Candidates::Values(values) => values.iter().any(|v| with_text(v, &mut f)),
            Candidates::Scalar(v) => with_text(v, f),
            Candidates::One(s) => f(s),
            Candidates::Json(list) => list.any(f),
        }
    }
}

/// A value string that is not a range, read as Kyverno reads it: a valid JSON text must
/// be a string list (or `null`); any other text is a one-element list.
fn string_candidates(s: &str) -> Result<Candidates<'_, '_>, InvalidType> {
    match json_strings(s) {
        JsonStrings::NotJson => Ok(Candidates::One(s)),
        JsonStrings::Null => Ok(Candidates::None),
        JsonStrings::List(list) => Ok(Candidates::Json(list)),
        JsonStrings::NotStrings => Err(InvalidType),
    }
}

/// Calls `f` with `s` after `strings.Replace(s, "-", "!-", 1)`.
fn with_first_dash_negated<R>(s: &str, f: impl FnOnce(&str) -> R) -> R {
    match s.split_once('-') {
        Some((before, after)) => {
            let mut buf = TextBuf::new();
            // Writing to a TextBuf cannot fail.
            let _ = write!(buf, "{before}!-{after}");
            f(buf.as_str())
        }
        None => f(s),
    }
}

// ---------------------------------------------------------------------------------------
// Ranges in set values (pkg/engine/operator, pkg/engine/pattern)
// ---------------------------------------------------------------------------------------

/// Pattern-term operators (`pkg/engine/operator.Operator`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TermOp {
    Equal,
    NotEqual,
    More,
    MoreEqual,
    Less,
    LessEqual,
    InRange,
    NotInRange,
}

/// `GetOperatorFromStringPattern`: a prefix operator, else a range, else equality.
/// Returns the operator and the length of its prefix.
fn term_operator(term: &str) -> (TermOp, usize) {
    if term.len() < 2 {
        return (TermOp::Equal, 0);
    }
    for (prefix, op) in
        [(">=", TermOp::MoreEqual), ("<=", TermOp::LessEqual), (">", TermOp::More), ("<", TermOp::Less), ("!", TermOp::NotEqual)]
    {
        if term.starts_with(prefix) {
            return (op, prefix.len());
        }
    }
    if range_bounds(term, "!-").is_some() {
        return (TermOp::NotInRange, 0);
    }
    if range_bounds(term, "-").is_some() {
        return (TermOp::InRange, 0);
    }
    (TermOp::Equal, 0)
}

/// True when a set value is a range (`GetOperatorFromStringPattern(value) == InRange`).
fn is_range(s: &str) -> bool {
    term_operator(s).0 == TermOp::InRange
}

/// Kyverno's `InRangeRegex` / `NotInRangeRegex`,
/// `^([-|\+]?\d+(?:\.\d+)?[A-Za-z]*)<sep>([-|\+]?\d+(?:\.\d+)?[A-Za-z]*)$`: the two bounds.
fn range_bounds<'s>(term: &'s str, separator: &str) -> Option<(&'s str, &'s str)> {
    let left_len = range_bound_len(term)?;
    let (left, rest) = term.split_at_checked(left_len)?;
    let right = rest.strip_prefix(separator)?;
    (range_bound_len(right)? == right.len()).then_some((left, right))
}

/// The length of the longest range bound at the start of `s` (`[-|+]?`, digits, an
/// optional `.digits`, letters); the bound grammar leaves no room for backtracking.
fn range_bound_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'-' | b'|' | b'+')));
    let digits = |from: usize| b.get(from..).map_or(0, |rest| rest.iter().take_while(|c| c.is_ascii_digit()).count());
    let whole = digits(i);
    if whole == 0 {
        return None;
    }
    i += whole;
    if b.get(i) == Some(&b'.') {
        let fraction = digits(i + 1);
        if fraction > 0 {
            i += 1 + fraction;
        }
    }
    i += b.get(i..).map_or(0, |rest| rest.iter().take_while(|c| c.is_ascii_alphabetic()).count());
    Some(i)
}

/// `pattern.Validate(log, value, pattern)` for a string value and a string pattern: the
/// whole pattern equals the value, or some `|` alternative has every `&` term hold.
fn pattern_holds(value: &str, pattern: &str) -> bool {
    value == pattern
        || pattern
            .split('|')
            .any(|alternative| alternative.trim_matches(' ').split('&').all(|term| term_holds(value, term.trim_matches(' '))))
}

/// `validateStringPattern`: one term.
fn term_holds(value: &str, term: &str) -> bool {
    match term_operator(term) {
        (TermOp::InRange, _) => range_bounds(term, "-")
            .is_some_and(|(lo, hi)| compare_term(value, lo, TermOp::MoreEqual) && compare_term(value, hi, TermOp::LessEqual)),
        (TermOp::NotInRange, _) => {
            range_bounds(term, "!-").is_some_and(|(lo, hi)| compare_term(value, lo, TermOp::Less) || compare_term(value, hi, TermOp::More))
        }
        (op, prefix) => compare_term(value, term.get(prefix..).unwrap_or("").trim(), op),
    }
}

/// `validateString`: a duration comparison when both sides are durations, else a quantity
/// comparison when both are quantities, else (for `=` and `!`) a wildcard match.
fn compare_term(value: &str, operand: &str, op: TermOp) -> bool {
    let holds = |ord: Ordering| match op {
        TermOp::Equal => ord == Ordering::Equal,
        TermOp::NotEqual => ord != Ordering::Equal,
        TermOp::More => ord == Ordering::Greater,
        TermOp::MoreEqual => ord != Ordering::Less,
        TermOp::Less => ord == Ordering::Less,
        TermOp::LessEqual => ord != Ordering::Greater,
        TermOp::InRange | TermOp::NotInRange => false,
    };
    if let (Some(want), Some(have)) = (duration::parse(operand), duration::parse(value)) {
        return holds(have.cmp(&want));
    }
    if let (Some(want), Some(have)) = (Quantity::parse(operand), Quantity::parse(value)) {
        return holds(have.compare(want));
    }
    match op {
        TermOp::Equal => wildcard::matches(operand, value),
        TermOp::NotEqual => !wildcard::matches(operand, value),
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------
// Go text of values (fmt.Sprint) and Go number parsing (strconv.ParseFloat)
// ---------------------------------------------------------------------------------------

/// Bytes of text built on the stack before [`TextBuf`] moves to the heap.
pub const INLINE: usize = 96;

/// A string buffer that lives on the stack up to [`INLINE`] bytes and moves to the heap
/// past that, so short texts never allocate and long ones still work.
#[derive(Debug)]
struct TextBuf {
    inline: [u8; INLINE],
    len: usize,
    heap: Option<String>,
}

impl TextBuf {
    fn new() -> Self {
        TextBuf { inline: [0; INLINE], len: 0, heap: None }
    }

    fn as_str(&self) -> &str {
        match &self.heap {
            Some(s) => s,
            // Only whole `&str`s are ever copied in, so the bytes are UTF-8.
            None => self.inline.get(..self.len).and_then(|b| core::str::from_utf8(b).ok()).unwrap_or(""),
        }
    }
}

impl Write for TextBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if let Some(heap) = &mut self.heap {
            heap.push_str(s);
            return Ok(());
        }
        let end = self.len + s.len();
        match self.inline.get_mut(self.len..end) {
            Some(dst) => {
                dst.copy_from_slice(s.as_bytes());
                self.len = end;
            }
            None => {
                let mut heap = String::with_capacity(end.max(2 * INLINE));
                heap.push_str(self.as_str());
                heap.push_str(s);
                self.heap = Some(heap);
            }
        }
        Ok(())
    }
}

/// Calls `f` with the Go text of `v` (`fmt.Sprint`): strings are borrowed, anything else
/// is formatted into a [`TextBuf`].
fn with_text<R>(v: &Value<'_>, f: impl FnOnce(&str) -> R) -> R {
    if let Value::Str(s) = v {
        return f(s);
    }
    let mut buf = TextBuf::new();
    // A TextBuf never fails; only nesting past MAX_DEPTH stops the text short.
    let _ = write_go_text(&mut buf, v, 0);
    f(buf.as_str())
}

/// `fmt.Sprint` of the Go value Kyverno holds for `v`: `<nil>`, `true`, numbers as
/// `float64` `%v`, strings bare, lists as `[a b]`, maps as `map[k:v]` in key order.
fn write_go_text(out: &mut impl Write, v: &Value<'_>, depth: usize) -> fmt::Result {
    if depth > MAX_DEPTH {
        return Err(fmt::Error);
    }
    match v {
        Value::Null => out.write_str("<nil>"),
        Value::Bool(b) => out.write_str(if *b { "true" } else { "false" }),
        Value::Int(_) | Value::Float(_) => write_go_float(out, number(v).unwrap_or(0.0)),
        Value::Str(s) => out.write_str(s),
        Value::Array(items) => {
            out.write_char('[')?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.write_char(' ')?;
                }
                write_go_text(out, item, depth + 1)?;
            }
            out.write_char(']')
        }
        Value::Object(members) => {
            // Go prints a map's keys sorted; a duplicated key keeps its last value.
            out.write_str("map[")?;
            let mut previous: Option<&str> = None;
            let mut first = true;
            loop {
                let next = members
                    .iter()
                    .enumerate()
                    .filter(|(i, m)| previous.is_none_or(|p| m.key > p) && is_last_of_key(members, *i, m.key))
                    .min_by(|(_, a), (_, b)| a.key.cmp(b.key));
                let Some((_, m)) = next else { break };
                if !first {
                    out.write_char(' ')?;
                }
                first = false;
                out.write_str(m.key)?;
                out.write_char(':')?;
                write_go_text(out, &m.value, depth + 1)?;
                previous = Some(m.key);
            }
            out.write_char(']')
        }
    }
}

/// Go's `%v` of a `float64` (`strconv.FormatFloat(f, 'g', -1, 64)`): the shortest
/// digits that round-trip, in exponent form (`1e+06`, `1.5e-05`, at least two exponent
/// digits) when the decimal exponent is below -4 or at least 6, plain (`123456.7`)
/// otherwise.
fn write_go_float(out: &mut impl Write, f: f64) -> fmt::Result {
    if f.is_nan() {
        return out.write_str("NaN");
    }
    if f.is_infinite() {
        return out.write_str(if f > 0.0 { "+Inf" } else { "-Inf" });
    }
    let mut sci = TextBuf::new();
    write!(sci, "{f:e}")?;
    let text = sci.as_str();
    let (mantissa, exp) = text.split_once('e').unwrap_or((text, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..6).contains(&exp) {
        // Rust's Display prints the same shortest digits without an exponent.
        return write!(out, "{f}");
    }
    let sign = if exp < 0 { '-' } else { '+' };
    write!(out, "{mantissa}e{sign}{:02}", exp.unsigned_abs())
}

/// Go's `strconv.ParseFloat(s, 64)`: decimal or hexadecimal (`0x1.8p3`) literals with an
/// optional sign and `_` digit separators, `inf`/`infinity`/`nan` in any case. `None`
/// where Go returns an error, including overflow (underflow is zero, as in Go).
pub(crate) fn go_parse_float(s: &str) -> Option<f64> {
    let (negative, body) = match s.as_bytes().first() {
        Some(b'-') => (true, s.get(1..)?),
        Some(b'+') => (false, s.get(1..)?),
        _ => (false, s),
    };
    if body.eq_ignore_ascii_case("inf") || body.eq_ignore_ascii_case("infinity") {
        return Some(if negative { f64::NEG_INFINITY } else { f64::INFINITY });
    }
    if s.eq_ignore_ascii_case("nan") {
        return Some(f64::NAN);
    }
    let magnitude = match body.get(..2) {
        Some("0x" | "0X") => parse_hex_float(body.get(2..)?)?,
        _ => parse_decimal_float(body)?,
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// Go's `underscoreOK` for a literal without its sign (and, when `hex`, without its
/// `0x`, which counts as a digit): each `_` sits between digits.
fn underscores_ok(s: &str, hex: bool) -> bool {
    let mut saw = if hex { b'0' } else { b'^' };
    for c in s.bytes() {
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else if saw == b'_' {
            return false;
        } else {
            saw = b'!';
        }
    }
    saw != b'_'
}

/// A decimal literal: digits with at most one `.`, at least one digit, then an optional
/// exponent `e[+-]digits`; `_` separators allowed where Go allows them.
fn parse_decimal_float(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = 0;
    let (mut digits, mut dot, mut underscores) = (false, false, false);
    while let Some(&c) = b.get(i) {
        match c {
            b'0'..=b'9' => digits = true,
            b'_' => underscores = true,
            b'.' if !dot => dot = true,
            _ => break,
        }
        i += 1;
    }
    if !digits {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !b.get(i).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        while let Some(&c) = b.get(i) {
            match c {
                b'0'..=b'9' => {}
                b'_' => underscores = true,
                _ => break,
            }
            i += 1;
        }
    }
    if i != b.len() || (underscores && !underscores_ok(s, false)) {
        return None;
    }
    let value = if underscores {
        let mut buf = TextBuf::new();
        for part in s.split('_') {
            buf.write_str(part).ok()?;
        }
        buf.as_str().parse::<f64>().ok()?
    } else {
        s.parse::<f64>().ok()?
    };
    value.is_finite().then_some(value)
}

/// The part of a hexadecimal literal after `0x`: hex digits with at most one `.`, then a
/// mandatory binary exponent `p[+-]digits`; rounded to nearest-even like Go's `atofHex`.
fn parse_hex_float(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = 0;
    let (mut mantissa, mut exp, mut sticky) = (0u64, 0i64, false);
    let (mut digits, mut dot, mut underscores) = (false, false, false);
    while let Some(&c) = b.get(i) {
        match c {
            b'_' => underscores = true,
            b'.' if !dot => dot = true,
            c if c.is_ascii_hexdigit() => {
                digits = true;
                let d = u64::from(char::from(c).to_digit(16).unwrap_or(0));
                if mantissa >> 60 == 0 {
                    mantissa = mantissa << 4 | d;
                    if dot {
                        exp -= 4;
                    }
                } else {
                    sticky |= d != 0;
                    if !dot {
                        exp += 4;
                    }
                }
            }
            _ => break,
        }
        i += 1;
    }
    if !digits || !matches!(b.get(i), Some(b'p' | b'P')) {
        return None;
    }
    i += 1;
    let negative_exp = match b.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    if !b.get(i).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let mut e: i64 = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'0'..=b'9' => e = (e * 10 + i64::from(c - b'0')).min(1 << 30),
            b'_' => underscores = true,
            _ => break,
        }
        i += 1;
    }
    if i != b.len() || (underscores && !underscores_ok(s, true)) {
        return None;
    }
    exp += if negative_exp { -e } else { e };
    hex_to_f64(mantissa, exp, sticky)
}

/// `mantissa × 2^exp` (plus a nonzero tail when `sticky`), rounded to the nearest `f64`,
/// ties to even; `None` on overflow.
fn hex_to_f64(mantissa: u64, exp: i64, sticky: bool) -> Option<f64> {
    if mantissa == 0 {
        return Some(0.0);
    }
    // Normalise so bit 63 is the leading one: value = m × 2^(e - 63).
    let shift = mantissa.leading_zeros();
    let m = mantissa << shift;
    let top = exp + 63 - i64::from(shift); // exponent of the leading bit
    if top > 1023 {
        return None;
    }
    // Bits kept: 53 for normal numbers, fewer below 2^-1022.
    let keep = if top >= -1022 { 53 } else { 53 - (-1022 - top) };
    if keep <= 0 {
        // Below half the smallest subnormal, or exactly half with nothing after: zero.
        let half = keep == 0 && (m << 1 != 0 || sticky);
        return Some(if half { f64::from_bits(1) } else { 0.0 });
    }
    // 11 <= drop <= 63: at least the 11 bits an f64 cannot hold are dropped.
    let drop = 64 - keep as u32;
    let mut kept = m >> drop;
    let rest = m << (64 - drop);
    let half = 1u64 << 63;
    if rest > half || (rest == half && (sticky || kept & 1 == 1)) {
        kept += 1;
    }
    let mut top = top;
    if keep == 53 && kept >> 53 == 1 {
        // Rounding carried into a new leading bit. (A subnormal that carries becomes the
        // next subnormal, or the smallest normal number, with no adjustment.)
        kept >>= 1;
        top += 1;
        if top > 1023 {
            return None;
        }
    }
    let bits = if top >= -1022 && kept >> 52 == 1 {
        let biased = u64::try_from(top + 1023).ok()?;
        biased << 52 | (kept & ((1 << 52) - 1))
    } else {
        kept
    };
    Some(f64::from_bits(bits))
}

// ---------------------------------------------------------------------------------------
// JSON string lists in strings (encoding/json)
// ---------------------------------------------------------------------------------------

/// A string read as `json.Unmarshal(s, &[]string)` would read it.
#[derive(Clone, Copy, Debug)]
enum JsonStrings<'s> {
    /// Not valid JSON (`json.Valid` is false).
    NotJson,
    /// Valid JSON, but `Unmarshal` into `[]string` fails.
    NotStrings,
    /// `null`: no error and no elements.
    Null,
    /// A list whose elements are strings or `null` (read as `""`).
    List(JsonList<'s>),
}

fn json_strings(s: &str) -> JsonStrings<'_> {
    if !json_valid(s) {
        return JsonStrings::NotJson;
    }
    let text = s.trim_matches(is_json_space);
    if text == "null" {
        return JsonStrings::Null;
    }
    let Some(inner) = text.strip_prefix('[') else { return JsonStrings::NotStrings };
    let list = JsonList { elements: inner };
    // `Unmarshal` fails if any element is neither a string nor null.
    if list.elements().all(|e| e.is_some()) {
        JsonStrings::List(list)
    } else {
        JsonStrings::NotStrings
    }
}

fn is_json_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// A validated JSON list, starting after its `[`.
#[derive(Clone, Copy, Debug)]
struct JsonList<'s> {
    elements: &'s str,
}

impl<'s> JsonList<'s> {
    /// The raw elements: `Some(body)` for a string (between its quotes, escapes intact),
    /// `Some("")` for `null`, `None` for anything else.
    fn elements(&self) -> impl Iterator<Item = Option<&'s str>> + 's {
        let mut rest = self.elements;
        core::iter::from_fn(move || {
            rest = rest.trim_start_matches(is_json_space);
            let first = rest.chars().next()?;
            let element = match first {
                ']' => return None,
                '"' => {
                    let end = string_end(rest)?;
                    let body = rest.get(1..end);
                    rest = rest.get(end + 1..).unwrap_or("");
                    body
                }
                'n' => {
                    rest = rest.get(4..).unwrap_or("");
                    Some("")
                }
                _ => {
                    // Not a string: report it, then stop.
                    rest = "";
                    return Some(None);
                }
            };
            rest = rest.trim_start_matches(is_json_space);
            rest = rest.strip_prefix(',').unwrap_or(rest);
            Some(element)
        })
    }

    /// Does `f` hold for some decoded element?
    fn any(&self, mut f: impl FnMut(&str) -> bool) -> bool {
        self.elements().flatten().any(|raw| {
            if !raw.contains('\\') {
                return f(raw);
            }
            let mut buf = TextBuf::new();
            let _ = unescape_json(raw, &mut buf);
            f(buf.as_str())
        })
    }
}

/// The byte offset of the quote closing the JSON string that starts `s`.
fn string_end(s: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices().skip(1) {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Some(i),
            _ => {}
        }
    }
    None
}

/// Decodes a validated JSON string body as Go does: a `\u` surrogate that does not form
/// a pair becomes U+FFFD.
fn unescape_json(raw: &str, out: &mut impl Write) -> fmt::Result {
    let mut chars = raw.chars();
    let hex4 = |chars: &mut core::str::Chars<'_>| -> Option<u32> {
        let mut v = 0;
        for _ in 0..4 {
            v = v * 16 + chars.next()?.to_digit(16)?;
        }
        Some(v)
    };
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.write_char(c)?;
            continue;
        }
        let decoded = match chars.next() {
            Some('b') => '\u{8}',
            Some('f') => '\u{c}',
            Some('n') => '\n',
            Some('r') => '\r',
            Some('t') => '\t',
            Some('u') => {
                let first = hex4(&mut chars).unwrap_or(0xfffd);
                if (0xd800..0xe000).contains(&first) {
                    // A high surrogate followed by `\u` + low surrogate is one character;
                    // anything else leaves the first as U+FFFD and is read on its own.
                    let mut ahead = chars.clone();
                    let pair = if ahead.next() == Some('\\') && ahead.next() == Some('u') { hex4(&mut ahead) } else { None };
                    match pair {
                        Some(low) if (0xd800..0xdc00).contains(&first) && (0xdc00..0xe000).contains(&low) => {
                            chars = ahead;
                            char::from_u32(0x10000 + ((first - 0xd800) << 10) + (low - 0xdc00)).unwrap_or('\u{fffd}')
                        }
                        _ => '\u{fffd}',
                    }
                } else {
                    char::from_u32(first).unwrap_or('\u{fffd}')
                }
            }
            Some(other) => other,
            None => break,
        };
        out.write_char(decoded)?;
    }
    Ok(())
}

/// Go's `json.Valid`: RFC 8259 JSON with surrounding whitespace, nesting at most 10000
/// deep (Go's `maxNestingDepth`).
fn json_valid(s: &str) -> bool {
    const MAX_NESTING: usize = 10_000;
    let b = s.as_bytes();
    let ws = |i: &mut usize| {
        while matches!(b.get(*i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            *i += 1;
        }
    };
    // One bit per open container: 1 for an object, 0 for a list.
    let mut stack = [0u64; MAX_NESTING.div_ceil(64)];
    let mut depth = 0usize;
    let mut i = 0usize;
    ws(&mut i);
    'value: loop {
        // A value at `i`.
        match b.get(i) {
            // Go counts every container, empty ones too, against the nesting limit.
            Some(b'{' | b'[') if depth >= MAX_NESTING => return false,
            Some(b'{') => {
                i += 1;
                ws(&mut i);
                if b.get(i) == Some(&b'}') {
                    i += 1;
                } else {
                    if !push(&mut stack, &mut depth, true, MAX_NESTING) || !json_member_key(b, &mut i) {
                        return false;
                    }
                    continue 'value;
                }
            }
            Some(b'[') => {
                i += 1;
                ws(&mut i);
                if b.get(i) == Some(&b']') {
                    i += 1;
                } else {
                    if !push(&mut stack, &mut depth, false, MAX_NESTING) {
                        return false;
                    }
                    continue 'value;
                }
            }
            Some(b'"') => {
                if !json_string(b, &mut i) {
                    return false;
                }
            }
            Some(b't') => i = if b.get(i..i + 4) == Some(b"true") { i + 4 } else { return false },
            Some(b'f') => i = if b.get(i..i + 5) == Some(b"false") { i + 5 } else { return false },
            Some(b'n') => i = if b.get(i..i + 4) == Some(b"null") { i + 4 } else { return false },
            Some(b'-' | b'0'..=b'9') => {
                if !json_number(b, &mut i) {
                    return false;
                }
            }
            _ => return false,
        }
        // After a value: close containers or move to the next element.
        loop {
            ws(&mut i);
            if depth == 0 {
                return i == b.len();
            }
            let in_object = stack.get((depth - 1) / 64).is_some_and(|w| w >> ((depth - 1) % 64) & 1 == 1);
            match (b.get(i), in_object) {
                (Some(b','), true) => {
                    i += 1;
                    ws(&mut i);
                    if !json_member_key(b, &mut i) {
                        return false;
                    }
                    continue 'value;
                }
                (Some(b','), false) => {
                    i += 1;
                    ws(&mut i);
                    continue 'value;
                }
                (Some(b'}'), true) | (Some(b']'), false) => {
                    i += 1;
                    depth -= 1;
                }
                _ => return false,
            }
        }
    }
}

fn push(stack: &mut [u64], depth: &mut usize, object: bool, max: usize) -> bool {
    if *depth >= max {
        return false;
    }
    let (word, bit) = (*depth / 64, *depth % 64);
    if let Some(w) = stack.get_mut(word) {
        if object {
            *w |= 1 << bit;
        } else {
            *w &= !(1 << bit);
        }
    }
    *depth += 1;
    true
}

/// `"key" :` with whitespace, leaving `i` at the member's value.
fn json_member_key(b: &[u8], i: &mut usize) -> bool {
    if b.get(*i) != Some(&b'"') || !json_string(b, i) {
        return false;
    }
    while matches!(b.get(*i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        *i += 1;
    }
    if b.get(*i) != Some(&b':') {
        return false;
    }
    *i += 1;
    while matches!(b.get(*i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        *i += 1;
    }
    true
}

/// A JSON string starting at `b[*i] == b'"'`: no raw control characters, only JSON's
/// escapes.
fn json_string(b: &[u8], i: &mut usize) -> bool {
    *i += 1;
    loop {
        match b.get(*i) {
            Some(b'"') => {
                *i += 1;
                return true;
            }
            Some(b'\\') => {
                *i += 1;
                match b.get(*i) {
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => *i += 1,
                    Some(b'u') => {
                        if !b.get(*i + 1..*i + 5).is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                            return false;
                        }
                        *i += 5;
                    }
                    _ => return false,
                }
            }
            Some(&c) if c < 0x20 => return false,
            Some(_) => *i += 1,
            None => return false,
        }
    }
}

/// A JSON number: `-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?`.
fn json_number(b: &[u8], i: &mut usize) -> bool {
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > start
    };
    if b.get(*i) == Some(&b'-') {
        *i += 1;
    }
    match b.get(*i) {
        Some(b'0') => *i += 1,
        Some(b'1'..=b'9') => {
            digits(i);
        }
        _ => return false,
    }
    if b.get(*i) == Some(&b'.') {
        *i += 1;
        if !digits(i) {
            return false;
        }
    }
    if matches!(b.get(*i), Some(b'e' | b'E')) {
        *i += 1;
        if matches!(b.get(*i), Some(b'+' | b'-')) {
            *i += 1;
        }
        if !digits(i) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Limits;
    use bumpalo::Bump;

    /// A document value from JSON text, leaked for the test's lifetime.
    fn v(json: &str) -> Value<'static> {
        let arena: &'static Bump = Box::leak(Box::new(Bump::new()));
        let input: &'static str = Box::leak(json.to_owned().into_boxed_str());
        crate::json::decode(input.as_bytes(), arena, &Limits::default()).unwrap_or_else(|e| panic!("bad test JSON {json}: {e}"))
    }

    /// Runs a table of `Operator | key JSON | value JSON | expected` lines (blank lines
    /// and `#` comments skipped) and reports every failing line at once.
    fn run_table(source: &str, table: &str) {
        let mut failures = Vec::new();
        let mut count = 0;
        for line in table.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            let cols: Vec<&str> = line.split(" | ").map(str::trim).collect();
            let [op, key, value, want] = cols.as_slice() else { panic!("malformed line {line:?}") };
            let op = Operator::parse(op).unwrap_or_else(|| panic!("unknown operator in {line:?}"));
            let want: bool = want.parse().unwrap_or_else(|_| panic!("bad expectation in {line:?}"));
            count += 1;
            let got = evaluate(op, &v(key), &v(value));
            if got != want {
                failures.push(format!("  {line}  => got {got}"));
            }
        }
        assert!(failures.is_empty(), "{source}: {} of {count} cases failed:\n{}", failures.len(), failures.join("\n"));
    }

    /// kyverno/kyverno pkg/engine/variables/evaluate_test.go, TestEvaluate: conditions
    /// whose key and value went through `kyverno.ToJSON`, so numbers are `float64` as in
    /// production (Go's `int64(1)`, `1` and `1.0` all become JSON `1`).
    const KYVERNO_EVALUATE_TEST: &str = r#"
        # Equals
        Equals | "string" | "string" | true
        Equals | 1 | 1 | true
        Equals | 1 | 1.0 | true
        Equals | true | true | true
        Equals | false | false | true
        Equals | "1024" | "1Ki" | true
        Equals | "1Ki" | "1024" | true
        Equals | "1Gi" | "1Gi" | true
        Equals | "1Gi" | "1024Mi" | true
        Equals | "1h" | "1h" | true
        Equals | "1h" | "60m" | true
        Equals | {"foo":"bar"} | {"foo":"bar"} | true
        Equals | ["foo","bar"] | ["foo","bar"] | true
        Equals | [{"foo":"bar"}] | [{"foo":"bar"}] | true
        Equals | "string" | "not string" | false
        Equals | 1 | 2 | false
        Equals | 1.0 | 2.0 | false
        Equals | true | false | false
        Equals | false | true | false
        Equals | "1Gi" | "10Gi" | false
        Equals | "10Gi" | "1024Mi" | false
        Equals | "1h" | "5h" | false
        Equals | "1h" | "30m" | false
        Equals | "string" | 1 | false
        Equals | 1 | "2" | false
        Equals | 1.0 | "2.0" | false
        Equals | true | "false" | false
        Equals | false | "true" | false
        Equals | {"foo":"bar"} | {"bar":"foo"} | false
        Equals | ["foo","bar"] | ["bar","foo"] | false
        Equals | [{"foo":"bar"}] | [{"bar":"foo"}] | false
        Equals | "1h" | 3600 | true
        Equals | "2h" | 3600 | false
        Equals | "1.5.2" | "1.5.2" | true
        Equals | "1.5.2" | "1.5.*" | true
        Equals | "1.5.0" | "1.5.5" | false
        # Not Equals
        NotEquals | "string" | "string" | false
        NotEquals | 1 | 1 | false
        NotEquals | 1.0 | 1.0 | false
        NotEquals | true | false | true
        NotEquals | false | false | false
        NotEquals | "1024" | "1Ki" | false
        NotEquals | "1Ki" | "1024" | false
        NotEquals | "1023" | "1Ki" | true
        NotEquals | "1Ki" | "1023" | true
        NotEquals | "1Gi" | "1Gi" | false
        NotEquals | "10Gi" | "1024Mi" | true
        NotEquals | "1h" | "1h" | false
        NotEquals | "1h" | "60m" | false
        NotEquals | {"foo":"bar"} | {"foo":"bar"} | false
        NotEquals | ["foo","bar"] | ["foo","bar"] | false
        NotEquals | [{"foo":"bar"}] | [{"foo":"bar"}] | false
        NotEquals | "string" | "not string" | true
        NotEquals | 1 | 2 | true
        NotEquals | 1.0 | 2.0 | true
        NotEquals | true | true | false
        NotEquals | false | true | true
        NotEquals | "1Gi" | "10Gi" | true
        NotEquals | "1Gi" | "1024Mi" | false
        NotEquals | "1h" | "5h" | true
        NotEquals | "1h" | "30m" | true
        NotEquals | "string" | 1 | true
        NotEquals | 1 | "2" | true
        NotEquals | 1.0 | "2.0" | true
        NotEquals | true | "false" | true
        NotEquals | false | "true" | true
        NotEquals | {"foo":"bar"} | {"bar":"foo"} | true
        NotEquals | ["foo","bar"] | ["bar","foo"] | true
        NotEquals | [{"foo":"bar"}] | [{"bar":"foo"}] | true
        NotEquals | "1h" | 3600 | false
        NotEquals | "2h" | 3600 | true
        NotEquals | "1.5.2" | "1.5.5" | true
        NotEquals | "1.5.2" | "1.5.*" | false
        NotEquals | "1.5.0" | "1.5.0" | false
        # Greater Than
        GreaterThan | 10 | 1 | true
        GreaterThan | 1.5 | 1.0 | true
        GreaterThan | 1.5 | 1 | true
        GreaterThan | 1 | 10 | false
        GreaterThan | 1.0 | 1.5 | false
        GreaterThan | 1 | 1.5 | false
        GreaterThan | 1 | 1 | false
        GreaterThan | 1.0 | 1.0 | false
        GreaterThan | "1025" | "1Ki" | true
        GreaterThan | "1Ki" | "1023" | true
        GreaterThan | "10Gi" | "1Gi" | true
        GreaterThan | "1Gi" | "1Mi" | true
        GreaterThan | "1Gi" | "10Gi" | false
        GreaterThan | "10Mi" | "10Mi" | false
        GreaterThan | "10h" | "1h" | true
        GreaterThan | "1h" | "30m" | true
        GreaterThan | "1h" | "1h" | false
        GreaterThan | "1Gi" | "1Gi" | false
        GreaterThan | "10" | 1 | true
        GreaterThan | 100 | "10" | true
        GreaterThan | "100" | "10" | true
        GreaterThan | "10" | "10" | false
        GreaterThan | "1" | "10" | false
        GreaterThan | "1" | 10 | false
        GreaterThan | 1 | "10" | false
        GreaterThan | "1h" | 3600 | false
        GreaterThan | "2h" | 3600 | true
        GreaterThan | 3600 | "1h" | false
        GreaterThan | 3600 | "30m" | true
        GreaterThan | 10 | 1 | true
        GreaterThan | 1 | 10 | false
        GreaterThan | -5 | 1 | false
        GreaterThan | -5 | -10 | true
        GreaterThan | 1 | -10 | true
        GreaterThan | "1.5.5" | "1.5.0" | true
        GreaterThan | "1.5.0" | "1.5.5" | false
        # Less Than
        LessThan | 10 | 1 | false
        LessThan | 1.5 | 1.0 | false
        LessThan | 1.5 | 1 | false
        LessThan | 1 | 10 | true
        LessThan | 1.0 | 1.5 | true
        LessThan | 1 | 1.5 | true
        LessThan | 1 | 1 | false
        LessThan | 1.0 | 1.0 | false
        LessThan | "1023" | "1Ki" | true
        LessThan | "1Ki" | "1025" | true
        LessThan | "10Gi" | "1Gi" | false
        LessThan | "1Gi" | "10Gi" | true
        LessThan | "1Gi" | "1Mi" | false
        LessThan | "1Mi" | "1Gi" | true
        LessThan | "10h" | "1h" | false
        LessThan | "1h" | "30m" | false
        LessThan | "1h" | "1h" | false
        LessThan | "1Gi" | "1Gi" | false
        LessThan | "10" | 1 | false
        LessThan | 100 | "10" | false
        LessThan | "100" | "10" | false
        LessThan | "10" | "10" | false
        LessThan | "1" | "10" | true
        LessThan | "1" | 10 | true
        LessThan | 1 | "10" | true
        LessThan | "1h" | 3600 | false
        LessThan | "30m" | 3600 | true
        LessThan | 3600 | "1h" | false
        LessThan | 3600 | "30m" | false
        LessThan | -5 | 1 | true
        LessThan | -5 | -10 | false
        LessThan | 1 | -10 | false
        LessThan | "1.5.5" | "1.5.0" | false
        LessThan | "1.5.0" | "1.5.5" | true
        # Greater Than or Equal
        GreaterThanOrEquals | 10 | 1 | true
        GreaterThanOrEquals | 1.5 | 1.0 | true
        GreaterThanOrEquals | 1.5 | 1 | true
        GreaterThanOrEquals | 1 | 10 | false
        GreaterThanOrEquals | 1.0 | 1.5 | false
        GreaterThanOrEquals | 1 | 1.5 | false
        GreaterThanOrEquals | 1 | 1 | true
        GreaterThanOrEquals | 1.0 | 1.0 | true
        GreaterThanOrEquals | 1.0 | 1 | true
        GreaterThanOrEquals | "1025" | "1Ki" | true
        GreaterThanOrEquals | "1024" | "1Ki" | true
        GreaterThanOrEquals | "1Ki" | "1023" | true
        GreaterThanOrEquals | "1Ki" | "1024" | true
        GreaterThanOrEquals | "10Gi" | "1Gi" | true
        GreaterThanOrEquals | "1Gi" | "1Mi" | true
        GreaterThanOrEquals | "1Gi" | "10Gi" | false
        GreaterThanOrEquals | "10h" | "1h" | true
        GreaterThanOrEquals | "1h" | "30m" | true
        GreaterThanOrEquals | "1h" | "1h" | true
        GreaterThanOrEquals | "1Gi" | "1Gi" | true
        GreaterThanOrEquals | "10" | 1 | true
        GreaterThanOrEquals | 100 | "10" | true
        GreaterThanOrEquals | "100" | "10" | true
        GreaterThanOrEquals | "10" | "10" | true
        GreaterThanOrEquals | "1" | "10" | false
        GreaterThanOrEquals | "1" | 10 | false
        GreaterThanOrEquals | 1 | "10" | false
        GreaterThanOrEquals | "1h" | 3600 | true
        GreaterThanOrEquals | "2h" | 3600 | true
        GreaterThanOrEquals | "1.5.5" | "1.5.5" | true
        GreaterThanOrEquals | "1.5.5" | "1.5.0" | true
        GreaterThanOrEquals | "1.5.0" | "1.5.5" | false
        # Less Than or Equal
        LessThanOrEquals | 10 | 1 | false
        LessThanOrEquals | 1.5 | 1.0 | false
        LessThanOrEquals | 1.5 | 1 | false
        LessThanOrEquals | 1 | 10 | true
        LessThanOrEquals | 1.0 | 1.5 | true
        LessThanOrEquals | 1 | 1.5 | true
        LessThanOrEquals | 1 | 1 | true
        LessThanOrEquals | 1.0 | 1.0 | true
        LessThanOrEquals | "1Ki" | "1024" | true
        LessThanOrEquals | "1024" | "1Ki" | true
        LessThanOrEquals | "1Ki" | "1025" | true
        LessThanOrEquals | "1023" | "1Ki" | true
        LessThanOrEquals | "10Gi" | "1Gi" | false
        LessThanOrEquals | "1Gi" | "10Gi" | true
        LessThanOrEquals | "1Gi" | "1Mi" | false
        LessThanOrEquals | "1Mi" | "1Gi" | true
        LessThanOrEquals | "10h" | "1h" | false
        LessThanOrEquals | "1h" | "30m" | false
        LessThanOrEquals | "1h" | "1h" | true
        LessThanOrEquals | "1Gi" | "1Gi" | true
        LessThanOrEquals | "10" | 1 | false
        LessThanOrEquals | 100 | "10" | false
        LessThanOrEquals | "100" | "10" | false
        LessThanOrEquals | "10" | "10" | true
        LessThanOrEquals | "1" | "10" | true
        LessThanOrEquals | "1" | 10 | true
        LessThanOrEquals | 1 | "10" | true
        LessThanOrEquals | "1h" | 3600 | true
        LessThanOrEquals | "2h" | 3600 | false
        LessThanOrEquals | "1.5.5" | "1.5.5" | true
        LessThanOrEquals | "1.5.0" | "1.5.5" | true
        LessThanOrEquals | "1.5.5" | "1.5.0" | false
        # In
        In | 1 | [1, 2, 3] | true
        In | 1.5 | [1, 1.5, 2, 3] | true
        In | "1" | ["1", "2", "3"] | true
        In | ["1.1.1.1", "2.2.2.2"] | ["1.1.1.1", "2.2.2.2", "3.3.3.3"] | true
        In | 5 | [1, 2, 3] | false
        In | 5.5 | [1, 1.5, 2, 3] | false
        In | "5" | ["1", "2", "3"] | false
        In | "1.1.1.1" | ["1*"] | true
        In | ["1.1.1.1", "4.4.4.4"] | ["1.1.1.1", "2.2.2.2", "3.3.3.3"] | false
        # Not In
        NotIn | 1 | [1, 2, 3] | false
        NotIn | 1.5 | [1, 1.5, 2, 3] | false
        NotIn | "1" | ["1", "2", "3"] | false
        NotIn | ["1.1.1.1", "2.2.2.2"] | ["1.1.1.1", "2.2.2.2", "3.3.3.3"] | false
        NotIn | 5 | [1, 2, 3] | true
        NotIn | 5.5 | [1, 1.5, 2, 3] | true
        NotIn | "5" | ["1", "2", "3"] | true
        NotIn | ["1.1.1.1", "4.4.4.4"] | ["1.1.1.1", "2.2.2.2", "3.3.3.3"] | true
        # Any In
        AnyIn | ["1.1.1.1", "5.5.5.5"] | ["1.1.1.1", "2.2.2.2", "3.3.3.3"] | true
        AnyIn | ["1.1.1.1", "5.5.5.5"] | "1.1.1.1" | true
        AnyIn | ["4.4.4.4", "5.5.5.5"] | ["1.1.1.1", "2.2.2.2", "3.3.3.3"] | false
        AnyIn | ["1.1.1.1", "5.5.5.5"] | ["1.1.1.1"] | true
        AnyIn | [1, 2] | [1, 2, 3, 4] | true
        AnyIn | [1, 5] | [1, 2, 3, 4] | true
        AnyIn | [5] | [1, 2, 3, 4] | false
        AnyIn | ["1*"] | ["1.1.1.1", "2.2.2.2", "3.3.3.3"] | true
        AnyIn | ["5*"] | ["1.1.1.1", "2.2.2.2", "3.3.3.3"] | false
        AnyIn | ["1.1.1.1", "2.2.2.2", "5.5.5.5"] | ["2*"] | true
        AnyIn | ["1.1.1.1", "2.2.2.2", "5.5.5.5"] | ["4*"] | false
        AnyIn | ["5"] | "1-3" | false
        AnyIn | "1.1.1.1" | ["1*"] | true
        AnyIn | "5" | "1-10" | true
        AnyIn | 5 | "1-10" | true
        AnyIn | [1, 5] | "7-10" | false
        AnyIn | [1, 5] | "0-10" | true
        AnyIn | [1.002, 1.222] | "1.001-10" | true
        # All In
        AllIn | ["1.1.1.1", "2.2.2.2"] | ["1.1.1.1", "2.2.2.2", "3.3.3.3"] | true
        AllIn | ["1.1.1.1", "5.5.5.5"] | ["1.1.1.1", "2.2.2.2", "3.3.3.3"] | false
        AllIn | ["4.4.4.4", "5.5.5.5"] | ["1.1.1.1", "2.2.2.2", "3.3.3.3"] | false
        AllIn | ["1.1.1.1", "5.5.5.5"] | ["1.1.1.1"] | false
        AllIn | [1, 2] | [1, 2, 3, 4] | true
        AllIn | [1, 5] | [1, 2, 3, 4] | false
        AllIn | [5] | [1, 2, 3, 4] | false
        AllIn | ["1*"] | ["1.1.1.1", "2.2.2.2", "3.3.3.3"] | true
        AllIn | ["5*"] | ["1.1.1.1", "2.2.2.2", "3.3.3.3"] | false
        AllIn | ["2.1.1.1", "2.2.2.2", "2.5.5.5"] | ["2*"] | true
        AllIn | ["1.1.1.1", "2.2.2.2", "5.5.5.5"] | ["4*"] | false
        AllIn | ["1.1.1.1", "5.5.5.5"] | "5.5.5.5" | false
        AllIn | 5 | "1-10" | true
        AllIn | [3, 2] | "1-10" | true
        AllIn | [3, 2] | "5-10" | false
        # All Not In
        AllNotIn | 1 | [1, 2, 3] | false
        AllNotIn | 1.5 | [1, 1.5, 2, 3] | false
        AllNotIn | "1" | ["1", "2", "3"] | false
        AllNotIn | ["1.1.1.1", "2.2.2.2"] | ["1.1.1.1", "2.2.2.2", "3.3.3.3"] | false
        AllNotIn | 5 | [1, 2, 3] | true
        AllNotIn | 5.5 | [1, 1.5, 2, 3] | true
        AllNotIn | "5" | ["1", "2", "3"] | true
        AllNotIn | ["1.1.1.1", "4.4.4.4"] | ["1.1.1.1", "2.2.2.2", "3.3.3.3"] | false
        AllNotIn | ["1.1.1.1", "4.4.4.4"] | ["1.1.1.1", "2.2.2.2", "3.3.3.3", "1.1.1.1"] | false
        AllNotIn | ["1.1.1.1", "4.4.4.4", "1.1.1.1"] | ["1.1.1.1", "2.2.2.2", "3.3.3.3", "1.1.1.1", "4.4.4.4"] | false
        AllNotIn | ["5.5.5.5", "4.4.4.4"] | ["1.1.1.1", "2.2.2.2", "3.3.3.3"] | true
        AllNotIn | ["7*", "6*", "5*"] | ["1.1.1.1", "2.2.2.2", "3.3.3.3"] | true
        AllNotIn | ["1*", "2*"] | ["1.1.1.1", "2.2.2.2", "3.3.3.3"] | false
        AllNotIn | ["1.1.1.1", "3.3.3.3", "5.5.5.5"] | ["2*"] | true
        AllNotIn | ["4.1.1.1", "4.2.2.2", "4.5.5.5"] | ["4*"] | false
        AllNotIn | ["1.1.1.1", "4.4.4.4"] | "2.2.2.2" | true
        AllNotIn | 5.5 | "6-10" | true
        AllNotIn | "5" | "1-6" | false
        AllNotIn | [3, 2] | "5-10" | true
        AllNotIn | [2, 6] | "5-10" | false
        # Any Not In
        AnyNotIn | 1 | [1, 2, 3] | false
        AnyNotIn | 1.5 | [1, 1.5, 2, 3] | false
        AnyNotIn | "1" | ["1", "2", "3"] | false
        AnyNotIn | ["1.1.1.1", "2.2.2.2"] | ["1.1.1.1", "2.2.2.2", "3.3.3.3"] | false
        AnyNotIn | 5 | [1, 2, 3] | true
        AnyNotIn | 5.5 | [1, 1.5, 2, 3] | true
        AnyNotIn | "5" | ["1", "2", "3"] | true
        AnyNotIn | ["1.1.1.1", "4.4.4.4"] | ["1.1.1.1", "2.2.2.2", "3.3.3.3"] | true
        AnyNotIn | ["5.5.5.5", "4.4.4.4"] | "4.4.4.4" | true
        AnyNotIn | ["5.5.5.5", "4.4.4.4"] | ["1.1.1.1", "2.2.2.2", "3.3.3.3"] | true
        AnyNotIn | ["1*", "3*", "5*"] | ["1.1.1.1", "2.2.2.2", "3.3.3.3"] | true
        AnyNotIn | ["1.1.1.1", "2.2.2.2", "5.5.5.5"] | ["2*"] | true
        AnyNotIn | ["2.2*"] | ["2.2.2.2"] | false
        AnyNotIn | "5" | "1-3" | true
        AnyNotIn | [1, 5, 11] | "0-10" | true
        AnyNotIn | [1, 5, 7] | "0-10" | false
    "#;

    #[test]
    fn kyverno_evaluate_test() {
        run_table("evaluate_test.go TestEvaluate", KYVERNO_EVALUATE_TEST);
    }

    /// equal_test.go (TestEqualHandler_Evaluate and the validateValueWith*Pattern
    /// tables, including the #16358 string-vs-number symmetry cases).
    #[test]
    fn kyverno_equal_test() {
        run_table(
            "equal_test.go",
            r#"
            Equals | true | true | true
            Equals | false | false | true
            Equals | true | false | false
            Equals | true | "true" | false
            Equals | 42 | 42 | true
            Equals | 42 | 43 | false
            Equals | 100 | 100 | true
            Equals | 42 | 42.0 | true
            Equals | 42 | 42.5 | false
            Equals | 42 | "42" | true
            Equals | 42 | "invalid" | false
            Equals | 3.14 | 3.14 | true
            Equals | 3.14 | 2.71 | false
            Equals | 42.0 | 42 | true
            Equals | 3.14 | "3.14" | true
            Equals | 3.14 | "invalid" | false
            Equals | 10.5 | 10 | false
            Equals | 3.14 | true | false
            Equals | 10 | "abc" | false
            Equals | 10 | true | false
            Equals | "hello" | "hello" | true
            Equals | "hello" | "world" | false
            Equals | "hello-world" | "hello-*" | true
            Equals | "goodbye-world" | "hello-*" | false
            Equals | "hello" | 123 | false
            Equals | "5" | 5 | true
            Equals | "5" | 5.0 | true
            Equals | "5.5" | 5.5 | true
            Equals | "5" | 6 | false
            Equals | "abc" | 5 | false
            Equals | "100Mi" | "100Mi" | true
            Equals | "1Gi" | "1024Mi" | true
            Equals | "100Mi" | "200Mi" | false
            Equals | "1h" | "60m" | true
            Equals | "1h" | "30m" | false
            Equals | {"foo": "bar"} | {"foo": "bar"} | true
            Equals | {"foo": "bar"} | {"foo": "baz"} | false
            Equals | {"foo": "bar"} | "not a map" | false
            Equals | ["a", "b", "c"] | ["a", "b", "c"] | true
            Equals | ["a", "b", "c"] | ["a", "b", "d"] | false
            Equals | ["a", "b", "c"] | ["a", "b"] | false
            Equals | ["a", "b", "c"] | "not a slice" | false
            "#,
        );
    }

    /// notequal_test.go, both stored versions (the #16276 mismatch fixes and the #16358
    /// symmetry cases).
    #[test]
    fn kyverno_notequal_test() {
        run_table(
            "notequal_test.go",
            r#"
            NotEquals | true | false | true
            NotEquals | 42 | 43 | true
            NotEquals | 5 | 5.5 | true
            NotEquals | 3.14 | 2.71 | true
            NotEquals | "hello" | "world" | true
            NotEquals | "5" | 5 | false
            NotEquals | "5" | 5.0 | false
            NotEquals | "5" | 6 | true
            NotEquals | "abc" | 5 | true
            NotEquals | "100Mi" | "not-a-quantity" | true
            NotEquals | "1h" | "30m" | true
            NotEquals | {"foo": "bar"} | {"foo": "baz"} | true
            NotEquals | ["a", "b"] | ["a", "c"] | true
            "#,
        );
    }

    /// equal_test.go TestEqualNotEqual_TypeSymmetry: Equals and NotEquals do not depend
    /// on operand order, and NotEquals negates Equals.
    #[test]
    fn kyverno_equal_notequal_symmetry() {
        for (a, b) in [(r#""5""#, "5"), (r#""5""#, "5.0"), (r#""5.5""#, "5.5"), (r#""5""#, "6"), (r#""abc""#, "5")] {
            let (a, b) = (v(a), v(b));
            let eq = |x: &Value<'_>, y: &Value<'_>| evaluate(Operator::Equals, x, y);
            let ne = |x: &Value<'_>, y: &Value<'_>| evaluate(Operator::NotEquals, x, y);
            assert_eq!(eq(&a, &b), eq(&b, &a), "Equals symmetric for {a} and {b}");
            assert_eq!(ne(&a, &b), ne(&b, &a), "NotEquals symmetric for {a} and {b}");
            assert_eq!(eq(&a, &b), !ne(&a, &b), "NotEquals negates Equals for {a} and {b}");
            assert_eq!(eq(&b, &a), !ne(&b, &a), "NotEquals negates Equals for {b} and {a}");
        }
    }

    /// numeric_test.go: Evaluate-level cases (ints, floats, strings, quantities,
    /// semantic versions, unsupported types).
    #[test]
    fn kyverno_numeric_test() {
        run_table(
            "numeric_test.go",
            r#"
            GreaterThan | 10 | 5 | true
            GreaterThan | 100 | 50 | true
            GreaterThan | 25 | 20.5 | true
            GreaterThan | 30 | "25" | true
            GreaterThan | 10 | "5.5" | true
            LessThan | 5 | 10 | true
            LessThan | 20 | 30 | true
            LessThan | 100 | 50 | false
            GreaterThanOrEquals | 10.5 | 10 | true
            GreaterThanOrEquals | 3.14 | 3.14 | true
            GreaterThanOrEquals | 5.5 | "4.5" | true
            GreaterThanOrEquals | 2.5 | 5.0 | false
            GreaterThan | "10.5" | 10 | true
            GreaterThan | "100" | 50 | true
            GreaterThan | "25.5" | "20.0" | true
            GreaterThan | "200m" | "100m" | true
            GreaterThan | "100m" | "200m" | false
            GreaterThan | "1Gi" | "500Mi" | true
            LessThan | "256Mi" | "1Gi" | true
            GreaterThanOrEquals | "500m" | "500m" | true
            LessThanOrEquals | "2Gi" | "2Gi" | true
            GreaterThan | "1.2.0" | "1.1.0" | true
            LessThan | "1.0.0" | "2.0.0" | true
            GreaterThanOrEquals | "1.5.0" | "1.5.0" | true
            LessThan | "2.0.0" | "1.9.0" | false
            LessThanOrEquals | "0.9.0" | "1.0.0" | true
            GreaterThan | "1.2.3" | "1.2.2" | true
            LessThan | "1.1.0" | "1.2.0" | true
            GreaterThanOrEquals | "2.0.0" | "2.0.0" | true
            LessThan | "1.0.0-alpha" | "1.0.0" | true
            GreaterThan | true | false | false
            GreaterThan | {"foo": "bar"} | "100" | false
            GreaterThan | ["a", "b"] | "100" | false
            GreaterThan | null | "100" | false
            GreaterThan | 10 | true | false
            GreaterThan | 10 | "not-a-number" | false
            GreaterThan | 10.5 | true | false
            GreaterThan | 10.5 | "not-a-number" | false
            "#,
        );
    }

    /// duration_test.go: the four deprecated Duration* operators.
    #[test]
    fn kyverno_duration_test() {
        run_table(
            "duration_test.go",
            r#"
            DurationGreaterThan | "2h" | "1h" | true
            DurationGreaterThan | "1h" | "2h" | false
            DurationGreaterThan | "1h" | "1h" | false
            DurationGreaterThan | "60m" | "1h" | false
            DurationGreaterThan | "61m" | "1h" | true
            DurationGreaterThan | 120 | 60 | true
            DurationGreaterThan | 60 | 120 | false
            DurationGreaterThan | 3600 | 1800 | true
            DurationGreaterThan | 120 | "1m" | true
            DurationGreaterThan | 120.5 | 60.5 | true
            DurationGreaterThan | 120.5 | 60 | true
            DurationGreaterThan | 120.0 | "1m" | true
            DurationGreaterThan | true | false | false
            DurationGreaterThanOrEquals | "2h" | "1h" | true
            DurationGreaterThanOrEquals | "1h" | "60m" | true
            DurationGreaterThanOrEquals | "30m" | "1h" | false
            DurationGreaterThanOrEquals | 60 | 60 | true
            DurationLessThan | "30m" | "1h" | true
            DurationLessThan | "2h" | "1h" | false
            DurationLessThan | "1h" | "60m" | false
            DurationLessThan | 30 | 60 | true
            DurationLessThanOrEquals | "30m" | "1h" | true
            DurationLessThanOrEquals | "1h" | "60m" | true
            DurationLessThanOrEquals | "2h" | "1h" | false
            DurationLessThanOrEquals | 60 | 60 | true
            DurationGreaterThan | 120 | 60.0 | true
            DurationGreaterThan | 120 | "invalid" | false
            DurationGreaterThan | 120 | true | false
            DurationGreaterThan | 120.0 | "invalid" | false
            DurationGreaterThan | 120.0 | true | false
            DurationGreaterThan | "2m" | 60 | true
            DurationGreaterThan | "2m" | 60.0 | true
            DurationGreaterThan | "invalid" | 60 | false
            DurationGreaterThan | "1h" | "invalid" | false
            DurationGreaterThan | "1h" | true | false
            "#,
        );
    }

    /// anyin_test.go TestAnyInHandler_Evaluate.
    #[test]
    fn kyverno_anyin_test() {
        run_table(
            "anyin_test.go",
            r#"
            AnyIn | "kyverno" | "kyverno" | true
            AnyIn | "kube-system" | ["default", "kube-*"] | true
            AnyIn | "kyverno" | "default" | false
            AnyIn | 64 | "64" | true
            AnyIn | 1 | [1, 2, 3] | true
            AnyIn | 64 | "default" | false
            AnyIn | 3.14 | "3.14" | true
            AnyIn | 2.2 | [1.1, 2.2, 3.3] | true
            AnyIn | 3.14 | "default" | false
            AnyIn | true | "true" | true
            AnyIn | ["kube-system", "kube-public"] | "kube-*" | true
            AnyIn | ["kube-system", "default"] | "kube-system" | true
            AnyIn | ["default", "kyverno"] | "kube-*" | false
            AnyIn | ["default", "kyverno"] | ["kube-*", "ky*"] | true
            AnyIn | ["default", "kyverno"] | ["kube-*", "kube-system"] | false
            AnyIn | [] | ["default", "kyverno"] | false
            AnyIn | "" | ["default", "kyverno"] | false
            AnyIn | {"foo": "bar"} | "test" | false
            AnyIn | "5" | "1-10" | true
            AnyIn | "0" | "1-10" | false
            AnyIn | ["0", "5"] | "1-10" | true
            AnyIn | ["0", "20"] | "1-10" | false
            AnyIn | "apple" | "[\"apple\", \"banana\"]" | true
            AnyIn | "cherry" | "[\"apple\", \"banana\"]" | false
            AnyIn | ["apple", "cherry"] | "[\"apple\", \"banana\"]" | true
            AnyIn | ["cherry", "date"] | "[\"apple\", \"banana\"]" | false
            "#,
        );
    }

    /// anynotin_test.go TestAnyNotInHandler_Evaluate.
    #[test]
    fn kyverno_anynotin_test() {
        run_table(
            "anynotin_test.go",
            r#"
            AnyNotIn | "kyverno" | "kyverno" | false
            AnyNotIn | "kube-system" | ["default", "kube-*"] | false
            AnyNotIn | "kyverno" | "default" | true
            AnyNotIn | 64 | "64" | false
            AnyNotIn | 1 | [1, 2, 3] | false
            AnyNotIn | 64 | "default" | true
            AnyNotIn | 3.14 | "3.14" | false
            AnyNotIn | 2.2 | [1.1, 2.2, 3.3] | false
            AnyNotIn | 3.14 | "default" | true
            AnyNotIn | true | true | false
            AnyNotIn | ["kube-system", "kube-public"] | "kube-*" | false
            AnyNotIn | ["kube-system", "default"] | "kube-system" | true
            AnyNotIn | ["default", "kyverno"] | "kube-*" | true
            AnyNotIn | [1, 2, 3] | 2 | true
            AnyNotIn | [1, 2, 3] | 4 | true
            AnyNotIn | [1.1, 2.2, 3.3] | 1.1 | true
            AnyNotIn | [1.1, 2.2, 3.3] | 4.4 | true
            AnyNotIn | [true, false] | true | true
            AnyNotIn | [true] | false | true
            AnyNotIn | ["default", "kyverno"] | ["kube-*", "kube-system"] | true
            AnyNotIn | ["default", "kyverno"] | ["kube-*", "ky*"] | true
            AnyNotIn | [] | ["default", "kyverno"] | false
            AnyNotIn | "" | ["default", "kyverno"] | true
            "#,
        );
    }

    /// allnotin_test.go TestAllNotInHandler_Evaluate.
    #[test]
    fn kyverno_allnotin_test() {
        run_table(
            "allnotin_test.go",
            r#"
            AllNotIn | "kyverno" | "kyverno" | false
            AllNotIn | "kube-system" | ["default", "kube-*"] | false
            AllNotIn | "kyverno" | "default" | true
            AllNotIn | 64 | "64" | false
            AllNotIn | 64 | "default" | true
            AllNotIn | ["kube-system", "kube-public"] | "kube-*" | false
            AllNotIn | ["kube-system", "default"] | "kube-system" | false
            AllNotIn | ["default", "kyverno"] | "kube-*" | true
            AllNotIn | ["default", "kyverno"] | ["kube-*", "kube-system"] | true
            AllNotIn | ["default", "kyverno"] | ["kube-*", "ky*"] | false
            "#,
        );
    }

    /// operator_test.go (CreateOperatorHandler, case-insensitive) and utils_test.go
    /// (IsOperatorValid, IsOperatorDeprecated).
    #[test]
    fn kyverno_operator_names() {
        for (name, want) in [
            ("Equal", Some(Operator::Equals)),
            ("Equals", Some(Operator::Equals)),
            ("NotEqual", Some(Operator::NotEquals)),
            ("NotEquals", Some(Operator::NotEquals)),
            ("In", Some(Operator::In)),
            ("AnyIn", Some(Operator::AnyIn)),
            ("AllIn", Some(Operator::AllIn)),
            ("NotIn", Some(Operator::NotIn)),
            ("AnyNotIn", Some(Operator::AnyNotIn)),
            ("AllNotIn", Some(Operator::AllNotIn)),
            ("GreaterThanOrEquals", Some(Operator::GreaterThanOrEquals)),
            ("GreaterThan", Some(Operator::GreaterThan)),
            ("LessThanOrEquals", Some(Operator::LessThanOrEquals)),
            ("LessThan", Some(Operator::LessThan)),
            ("DurationGreaterThanOrEquals", Some(Operator::DurationGreaterThanOrEquals)),
            ("DurationGreaterThan", Some(Operator::DurationGreaterThan)),
            ("DurationLessThanOrEquals", Some(Operator::DurationLessThanOrEquals)),
            ("DurationLessThan", Some(Operator::DurationLessThan)),
            ("InvalidOp", None),
            ("EQUALS", Some(Operator::Equals)),
            ("equals", Some(Operator::Equals)),
            ("anynotin", Some(Operator::AnyNotIn)),
            // Go's strings.ToLower maps U+0130 to `i`.
            ("\u{130}n", Some(Operator::In)),
            ("", None),
            ("Equals ", None),
        ] {
            assert_eq!(Operator::parse(name), want, "parse({name:?})");
        }
        for (name, want) in [
            ("Equals", Some(Operator::Equals)),
            ("NotEquals", Some(Operator::NotEquals)),
            ("GreaterThan", Some(Operator::GreaterThan)),
            ("GreaterThanOrEquals", Some(Operator::GreaterThanOrEquals)),
            ("LessThan", Some(Operator::LessThan)),
            ("LessThanOrEquals", Some(Operator::LessThanOrEquals)),
            ("AllIn", Some(Operator::AllIn)),
            ("AnyIn", Some(Operator::AnyIn)),
            ("AllNotIn", Some(Operator::AllNotIn)),
            ("AnyNotIn", Some(Operator::AnyNotIn)),
            ("Equal", Some(Operator::Equals)),
            ("InvalidOperator", None),
            ("", None),
            ("equals", None),
        ] {
            assert_eq!(Operator::parse_canonical(name), want, "parse_canonical({name:?})");
        }
        assert!(Operator::In.is_deprecated() && Operator::NotIn.is_deprecated());
        assert!(Operator::ALL.iter().filter(|op| op.is_deprecated()).count() == 2);
        for op in Operator::ALL {
            assert_eq!(Operator::parse(op.as_str()), Some(op));
            assert_eq!(Operator::parse_canonical(&op.to_string()), Some(op));
        }
    }

    /// operator_test.go parseDuration cases, through the operators that use it.
    #[test]
    fn kyverno_parse_duration_cases() {
        assert_eq!(duration_pair(&v(r#""2h""#), &v(r#""1h""#)), Some((7_200_000_000_000, 3_600_000_000_000)));
        assert_eq!(duration_pair(&v(r#""90m""#), &v(r#""1h30m""#)), Some((5_400_000_000_000, 5_400_000_000_000)));
        assert_eq!(duration_pair(&v(r#""0s""#), &v(r#""1h""#)), Some((0, 3_600_000_000_000)));
        assert_eq!(duration_pair(&v(r#""2m""#), &v("60")), Some((120_000_000_000, 60_000_000_000)));
        assert_eq!(duration_pair(&v(r#""30s""#), &v("10.0")), Some((30_000_000_000, 10_000_000_000)));
        assert_eq!(duration_pair(&v("120"), &v(r#""2m""#)), Some((120_000_000_000, 120_000_000_000)));
        assert_eq!(duration_pair(&v("60.0"), &v(r#""1m""#)), Some((60_000_000_000, 60_000_000_000)));
        // Neither is a duration; "0" does not count as one.
        assert_eq!(duration_pair(&v(r#""hello""#), &v(r#""world""#)), None);
        assert_eq!(duration_pair(&v("100"), &v("200")), None);
        assert_eq!(duration_pair(&v(r#""0""#), &v(r#""0""#)), None);
        // A duration with something that is not a number of seconds.
        assert_eq!(duration_pair(&v(r#""1h""#), &v("true")), None);
        assert_eq!(duration_pair(&v("true"), &v(r#""1h""#)), None);
        assert_eq!(duration_pair(&v(r#""1h""#), &v("{}")), None);
    }

    // ----- kyvm's own cases: the corners behind Kyverno's tables ------------------------

    fn go_text(json: &str) -> String {
        let mut out = String::new();
        write_go_text(&mut out, &v(json), 0).unwrap();
        out
    }

    /// Expectations printed by Go 1.19's `fmt.Sprint` on the JSON-decoded values.
    #[test]
    fn go_text_matches_fmt_sprint() {
        for (json, want) in [
            ("0", "0"),
            ("1", "1"),
            ("-1", "-1"),
            ("1.5", "1.5"),
            ("100000", "100000"),
            ("123456", "123456"),
            ("999999", "999999"),
            ("1000000", "1e+06"),
            ("1234567", "1.234567e+06"),
            ("9999999", "9.999999e+06"),
            ("1234567.5", "1.2345675e+06"),
            ("123456.7", "123456.7"),
            ("110000", "110000"),
            ("1200000", "1.2e+06"),
            ("1e20", "1e+20"),
            ("1e21", "1e+21"),
            ("12345678901234567890", "1.2345678901234567e+19"),
            ("123456789012", "1.23456789012e+11"),
            ("0.0001", "0.0001"),
            ("0.0001234", "0.0001234"),
            ("0.00001", "1e-05"),
            ("0.00001234", "1.234e-05"),
            ("1e-7", "1e-07"),
            ("5e-324", "5e-324"),
            ("1.7976931348623157e308", "1.7976931348623157e+308"),
            ("-0.0", "-0"),
            ("8080", "8080"),
            ("3.14", "3.14"),
            ("1.002", "1.002"),
            ("null", "<nil>"),
            ("true", "true"),
            ("false", "false"),
            (r#""text""#, "text"),
            (r#"["a", 1, null, true, {"b": 2, "a": []}]"#, "[a 1 <nil> true map[a:[] b:2]]"),
            ("{}", "map[]"),
            ("[]", "[]"),
            (r#"{"z": 1, "a": 2, "z": 3}"#, "map[a:2 z:3]"),
        ] {
            assert_eq!(go_text(json), want, "fmt.Sprint of {json}");
        }
    }

    /// Expectations printed by Go 1.19's `strconv.ParseFloat(s, 64)`.
    #[test]
    fn go_parse_float_matches_strconv() {
        let cases: &[(&str, Option<f64>)] = &[
            ("1", Some(1.0)),
            ("+5", Some(5.0)),
            ("-0", Some(-0.0)),
            (".5", Some(0.5)),
            ("5.", Some(5.0)),
            ("1e5", Some(1e5)),
            ("1E5", Some(1e5)),
            ("0.e1", Some(0.0)),
            ("00012", Some(12.0)),
            ("1_000", Some(1000.0)),
            ("1_0.5", Some(10.5)),
            ("1_0e1_0", Some(1e11)),
            ("1e-400", Some(0.0)),
            ("2e-324", Some(0.0)),
            ("4.9e-324", Some(5e-324)),
            ("inf", Some(f64::INFINITY)),
            ("Inf", Some(f64::INFINITY)),
            ("+Inf", Some(f64::INFINITY)),
            ("-inf", Some(f64::NEG_INFINITY)),
            ("infinity", Some(f64::INFINITY)),
            ("+infinity", Some(f64::INFINITY)),
            ("INFINITY", Some(f64::INFINITY)),
            ("iNf", Some(f64::INFINITY)),
            ("0x1p4", Some(16.0)),
            ("0x1.8p1", Some(3.0)),
            ("0x_1p0", Some(1.0)),
            ("0X1P-2", Some(0.25)),
            ("0x.8p1", Some(1.0)),
            ("0x1p-1074", Some(5e-324)),
            ("0x1p-1075", Some(0.0)),
            ("0x1.00000000000008p0", Some(1.0)),
            ("0x1.000000000000081p0", Some(1.0000000000000002)),
            ("0x1.fffffffffffffp1023", Some(f64::MAX)),
            ("0x1p-1022", Some(f64::MIN_POSITIVE)),
            ("0x1.ffffffffffffffp-1023", Some(f64::MIN_POSITIVE)),
            ("", None),
            ("+", None),
            ("abc", None),
            ("0x10", None),
            ("0x1", None),
            ("0x1p", None),
            ("0x", None),
            ("1e400", None),
            ("-1e400", None),
            ("0x1p1024", None),
            ("  1", None),
            ("1 ", None),
            ("_10", None),
            ("10_", None),
            ("1._5", None),
            ("1__0", None),
            ("1e", None),
            ("1e+", None),
            ("e5", None),
            (".", None),
            ("+.", None),
            (".e1", None),
            ("0b101", None),
            ("0o17", None),
            ("1ee5", None),
            ("infx", None),
            ("in", None),
            ("infin", None),
            ("+nan", None),
            ("-nan", None),
            ("1.2.3", None),
            ("1,5", None),
        ];
        for (s, want) in cases {
            let got = go_parse_float(s);
            assert_eq!(got.map(f64::to_bits), want.map(f64::to_bits), "ParseFloat({s:?}) = {got:?}");
        }
        assert!(go_parse_float("nan").is_some_and(f64::is_nan));
        assert!(go_parse_float("NaN").is_some_and(f64::is_nan));
    }

    /// `time.Duration(f) * time.Second` as amd64 Go computes it (checked with Go 1.19).
    #[test]
    fn float_seconds_convert_like_go() {
        assert_eq!(go_seconds_to_duration(1.5), 1_000_000_000);
        assert_eq!(go_seconds_to_duration(-1.5), -1_000_000_000);
        for out_of_range in [1e19, -1e19, 9.3e18, f64::NAN, f64::INFINITY] {
            assert_eq!(go_seconds_to_duration(out_of_range), 0, "{out_of_range}");
        }
        // In range, but the multiplication wraps.
        assert_eq!(go_seconds_to_duration(1e10), 10_000_000_000i64.wrapping_mul(1_000_000_000));
        assert_eq!(go_seconds(duration::parse("2562047h").unwrap()), 9_223_369_200.0);
    }

    /// `json.Valid` plus `json.Unmarshal(s, &[]string)` (checked with Go 1.19).
    #[test]
    fn json_string_lists_read_like_encoding_json() {
        fn elements(s: &str) -> Option<Vec<String>> {
            match json_strings(s) {
                JsonStrings::List(list) => {
                    let mut out = Vec::new();
                    list.any(|e| {
                        out.push(e.to_owned());
                        false
                    });
                    Some(out)
                }
                _ => None,
            }
        }
        assert_eq!(elements(r#"["a","b"]"#), Some(vec!["a".into(), "b".into()]));
        assert_eq!(elements(r#" [ "a" ] "#), Some(vec!["a".into()]));
        assert_eq!(elements(r#"["a",null]"#), Some(vec!["a".into(), String::new()]));
        assert_eq!(elements("[]"), Some(vec![]));
        assert_eq!(elements(r#"["\ud800x"]"#), Some(vec!["\u{fffd}x".into()]));
        assert_eq!(elements(r#"["\u00e9\n\"\\\/"]"#), Some(vec!["\u{e9}\n\"\\/".into()]));
        assert_eq!(
            elements(r#"["\ud83d\ude00", "\udc00\ud800\ud83d\ude00"]"#),
            Some(vec!["\u{1f600}".into(), "\u{fffd}\u{fffd}\u{1f600}".into()])
        );
        assert!(matches!(json_strings("null"), JsonStrings::Null));
        for not_strings in [r#"["a",1]"#, r#""x""#, "{}", "1", "true", r#"[["a"]]"#, r#"[{"a":"b"}]"#] {
            assert!(matches!(json_strings(not_strings), JsonStrings::NotStrings), "{not_strings}");
        }
        for not_json in ["[1", "nul", "", "[\"a\",]", "['a']", "[\"a\" \"b\"]", "01", "1.", "-", "[\"\t\"]", "{\"a\"}", "[1e]", "tru"] {
            assert!(matches!(json_strings(not_json), JsonStrings::NotJson), "{not_json:?}");
        }
        assert!(json_valid(r#"{"a": [1, -0.5e+3, true, false, null, {"b": "\u1234"}], "c": {}}"#));
        // Go's scanner allows 10000 levels of nesting and no more.
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(json_valid(&deep(10_000)));
        assert!(!json_valid(&deep(10_001)));
    }

    #[test]
    fn semantic_versions_follow_blang_semver() {
        let ord = |a: &str, b: &str| Semver::parse(a).unwrap().compare(&Semver::parse(b).unwrap());
        assert_eq!(ord("1.0.0-alpha", "1.0.0-alpha.1"), Ordering::Less);
        assert_eq!(ord("1.0.0-alpha.1", "1.0.0-alpha.beta"), Ordering::Less);
        assert_eq!(ord("1.0.0-alpha.beta", "1.0.0-beta"), Ordering::Less);
        assert_eq!(ord("1.0.0-beta.2", "1.0.0-beta.11"), Ordering::Less);
        assert_eq!(ord("1.0.0-rc.1", "1.0.0"), Ordering::Less);
        assert_eq!(ord("1.0.0+build.1", "1.0.0+build.2"), Ordering::Equal);
        assert_eq!(ord("1.10.0", "1.9.0"), Ordering::Greater);
        for bad in [
            "",
            "1",
            "1.2",
            "v1.2.3",
            "01.2.3",
            "1.02.3",
            "1.2.03",
            "1.2.3-",
            "1.2.3+",
            "1.2.3-01",
            "1.2.3-a..b",
            "1.2.3-a_b",
            "1.2.x",
            "1.2.3.4",
        ] {
            assert_eq!(Semver::parse(bad), None, "{bad:?}");
        }
        for good in ["0.0.0", "1.2.3-0", "1.2.3-0a", "1.2.3-a-b.c+d-e.f", "1.2.3+001"] {
            assert!(Semver::parse(good).is_some(), "{good:?}");
        }
    }

    /// Ranges in set values: Kyverno's `InRangeRegex` takes signed, fractional and
    /// suffixed bounds; bounds compare as durations, then quantities.
    #[test]
    fn ranges() {
        run_table(
            "range values",
            r#"
            AnyIn | 8080 | "8000-9000" | true
            AnyIn | 7999 | "8000-9000" | false
            AnyIn | "1.5Gi" | "1Gi-2Gi" | true
            AnyIn | "3Gi" | "1Gi-2Gi" | false
            AnyIn | -3 | "-5-5" | true
            # Bounds with letters are allowed, and compare as durations when both sides are.
            AnyIn | "2h" | "1h-3h" | true
            AnyIn | "2h" | "1-3h" | false
            AnyIn | 5 | "1 - 10" | false
            AnyIn | 5 | "1-10-20" | false
            AnyIn | 1.5 | "1.001-10" | true
            AllIn | [8080, 8443] | "8000-9000" | true
            AllIn | [8080, 80] | "8000-9000" | false
            AllIn | [] | "8000-9000" | true
            AllNotIn | [] | "8000-9000" | true
            AnyNotIn | [80] | "8000-9000" | true
            AnyNotIn | [8080] | "8000-9000" | false
            AnyNotIn | 80 | "8000-9000" | true
            AnyNotIn | 8080 | "8000-9000" | false
            # `strings.Replace(value, "-", "!-", 1)` on a negative lower bound gives
            # "!--5-5", a `!` (not equal) term: every other key is "not in".
            AnyNotIn | [3] | "-5-5" | true
            AnyNotIn | ["-5-5"] | "-5-5" | false
            "#,
        );
        assert_eq!(range_bounds("8000-9000", "-"), Some(("8000", "9000")));
        assert_eq!(range_bounds("-5--1", "-"), Some(("-5", "-1")));
        assert_eq!(range_bounds("|5-+6", "-"), Some(("|5", "+6")));
        assert_eq!(range_bounds("1.5Gi-2.5Gi", "-"), Some(("1.5Gi", "2.5Gi")));
        assert_eq!(range_bounds("1!-5", "!-"), Some(("1", "5")));
        assert_eq!(range_bounds("1.-5", "-"), None);
        assert_eq!(range_bounds("1e5-6", "-"), None);
        assert_eq!(term_operator("1!-5"), (TermOp::NotInRange, 0));
        assert_eq!(term_operator(">=5"), (TermOp::MoreEqual, 2));
        assert_eq!(term_operator("5"), (TermOp::Equal, 0));
        assert!(pattern_holds("7", ">5 & <10"));
        assert!(pattern_holds("3", "1-5 | 10-20"));
        assert!(!pattern_holds("7", "1-5 | 10-20"));
    }

    /// Strings in set values: wildcards, JSON lists, and text that is neither.
    #[test]
    fn set_values_as_strings() {
        run_table(
            "string set values",
            r#"
            AnyIn | "a" | "[\"a\", \"b\"]" | true
            AnyIn | "a*" | "[\"ab\"]" | false
            AnyIn | ["a*"] | "[\"ab\"]" | true
            AnyIn | "x" | "[\"a\", 1]" | false
            AnyNotIn | "x" | "[\"a\", 1]" | false
            AnyIn | "x" | "{\"a\": 1}" | false
            AnyNotIn | "x" | "{bad json" | true
            AnyIn | "{bad json" | "{bad json" | true
            AnyIn | "x" | "null" | false
            AnyNotIn | "x" | "null" | true
            AnyIn | ["x"] | "null" | false
            AllIn | ["x"] | "null" | false
            AllNotIn | ["x"] | "null" | true
            AnyIn | "kube-system" | "kube-*" | true
            AllIn | "kube-system" | "kube-*" | true
            AllNotIn | "kube-system" | "kube-*" | false
            AnyIn | "*" | "anything" | false
            AnyIn | ["*"] | "anything" | true
            AnyIn | ["a", "b"] | "[\"b\"]" | true
            AllIn | ["a", "b"] | "[\"a\", \"b\"]" | true
            AllIn | ["a", "c"] | "[\"a\", \"b\"]" | false
            AnyIn | ["é"] | "[\"\\u00e9\"]" | true
            "#,
        );
    }

    /// Scalars and lists of other types on either side.
    #[test]
    fn key_and_value_types() {
        run_table(
            "types",
            r#"
            AnyIn | true | [true] | true
            AnyIn | true | true | false
            AllIn | true | [true] | true
            AnyNotIn | true | [false] | false
            AllNotIn | true | [false] | false
            AnyIn | null | [null] | false
            AnyIn | [null] | [null] | true
            AnyIn | [null] | "<nil>" | true
            AnyIn | [{"a": 1}] | ["map[a:1]"] | true
            AnyIn | [[1, 2]] | ["[1 2]"] | true
            AnyIn | 1000000 | ["1e+06"] | true
            AnyIn | 1000000 | ["1000000"] | false
            AnyIn | [1000000] | [1e6] | true
            AnyIn | ["a"] | 1 | false
            AnyIn | [1] | 1 | true
            AllIn | [1] | 1 | false
            AnyIn | [1] | {"a": 1} | false
            AnyIn | "a" | 1 | false
            AnyIn | "a" | null | false
            AnyNotIn | "a" | null | false
            AllIn | ["a"] | "a" | true
            AllNotIn | ["a"] | "a" | false
            AnyNotIn | ["a"] | "a" | false
            In | true | [true] | false
            In | ["a", 1] | ["a"] | false
            NotIn | ["a", 1] | ["b"] | false
            In | ["a"] | ["a", 1] | false
            In | ["a"] | "a" | true
            NotIn | ["a"] | "a" | true
            In | ["a", "b"] | "[\"a\", \"b\"]" | true
            NotIn | ["a", "c"] | "[\"a\", \"b\"]" | true
            In | ["a"] | "not json" | false
            NotIn | ["a"] | "not json" | false
            In | "a*" | ["abc"] | true
            In | "abc" | "a*" | true
            In | "abc" | "[\"abc\"]" | true
            In | "a*" | "[\"abc\"]" | false
            In | "x" | "plain" | false
            NotIn | "x" | "plain" | false
            In | ["a*"] | ["abc"] | false
            In | [] | ["a"] | true
            NotIn | [] | ["a"] | false
            Equals | null | null | false
            NotEquals | null | null | false
            NotEquals | null | 1 | false
            Equals | "x" | null | false
            NotEquals | "x" | null | true
            Equals | {"a": 1, "a": 2} | {"a": 2} | true
            Equals | {"a": 1, "b": [1.0]} | {"b": [1], "a": 1} | true
            Equals | {"a": 1} | {"a": 1, "b": 1} | false
            Equals | [1, "1"] | [1, "1"] | true
            Equals | [1] | ["1"] | false
            Equals | "1k" | 1000 | false
            Equals | "1e3" | 1000 | true
            Equals | "0x10" | 16 | false
            Equals | "1_000" | 1000 | true
            Equals | 1000 | "1_000" | true
            Equals | 16 | "0x1p4" | true
            Equals | "100Mi" | "100M*" | false
            NotEquals | "100Mi" | "100M*" | true
            Equals | "nginx:1.2" | "nginx:*" | true
            Equals | "a" | "" | false
            Equals | "" | "" | true
            Equals | "" | "*" | true
            # "0" is not a duration to parseDuration, and "0s" is not a quantity.
            Equals | "0" | "0s" | false
            Equals | "0" | "0" | true
            Equals | "1s" | 1.9 | true
            Equals | 1.5 | "1.5s" | false
            "#,
        );
    }

    /// Durations against numbers and each other, across the numeric operators.
    #[test]
    fn durations_in_numeric_operators() {
        run_table(
            "durations",
            r#"
            GreaterThan | "1h" | "59m" | true
            GreaterThan | 0 | "1s" | false
            LessThan | "0" | "1h" | true
            GreaterThan | "-1h" | -3601 | true
            GreaterThan | "1h" | "" | false
            LessThan | "" | "1h" | false
            GreaterThan | "" | "" | false
            GreaterThan | "1m" | 59.9 | true
            GreaterThan | 60.9 | "1m" | false
            LessThan | "1ms" | 1 | true
            GreaterThan | 1.5 | "1.5s" | false
            DurationGreaterThan | "0" | "-1s" | true
            DurationLessThan | 0 | "0" | false
            DurationLessThanOrEquals | 0 | "0" | true
            DurationGreaterThan | 1.9 | 1 | false
            DurationGreaterThan | "1h" | null | false
            DurationGreaterThan | null | "1h" | false
            # A quantity key against a number: no duration, no quantity (the value is not a
            # string), no float, no version.
            GreaterThan | "2Gi" | 1 | false
            GreaterThan | "1.2.3" | 1 | false
            LessThan | "1.2.3" | "1.2.4-rc.1" | true
            LessThan | "1.2.3-rc.1" | "1.2.3" | true
            GreaterThan | "v1.2.3" | "v1.2.2" | false
            GreaterThan | "NaN" | 1 | false
            LessThan | "NaN" | 1 | false
            GreaterThan | "inf" | 1e308 | true
            "#,
        );
    }

    /// A buffer that outgrows the stack moves to the heap and keeps every byte.
    #[test]
    fn text_buffer_spills_to_the_heap() {
        let mut buf = TextBuf::new();
        let long = "x".repeat(INLINE - 1);
        buf.write_str(&long).unwrap();
        assert!(buf.heap.is_none());
        buf.write_str("é").unwrap();
        assert!(buf.heap.is_some());
        buf.write_str("y").unwrap();
        assert_eq!(buf.as_str(), format!("{long}éy"));
        let big = format!("[{}]", (0..100).map(|i| format!("\"item-{i}\"")).collect::<Vec<_>>().join(","));
        let text = go_text(&big);
        assert!(text.starts_with("[item-0 item-1") && text.ends_with("item-99]"));
        assert!(evaluate(Operator::AnyIn, &v(&big), &v(r#"["item-9?"]"#)));
    }
}
