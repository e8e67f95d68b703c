//! A naive tree-walking reference for Kyverno's `validate.pattern`, for differential
//! testing against the compiled VM.
//!
//! Written straight from Kyverno's recursive algorithm (`validateResourceElement`,
//! `validateMap`, `validateArray`, the anchor handlers, `MatchPattern`'s error
//! classification and `pattern.Validate` for leaves), over `serde_yaml` values, with no
//! precompilation at all: pattern strings are split and their operators read on every
//! comparison. It shares only the leaf parsers (wildcards, quantities, durations, Go
//! float formatting) with the engine, each of which is tested on its own.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use kyvm_engine::{duration, gofmt, quantity::Quantity, wildcard};
use serde_yaml::{Mapping, Value};

/// What `validate.pattern` decides for a resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    /// Failed at this path (`/spec/containers/0/image/`).
    Fail(String),
    Skip,
    Error,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Plain,
    Conditional,
    Global,
    Negation,
    /// All elements of a list skipped.
    ListSkip,
    /// An error Kyverno reports without a path.
    NoPath,
}

#[derive(Clone, Debug)]
struct Err {
    kind: Kind,
    path: String,
}

fn err(kind: Kind, path: &str) -> Err {
    Err { kind, path: path.to_string() }
}

fn is_skip(e: &Err) -> bool {
    matches!(e.kind, Kind::Conditional | Kind::Global | Kind::ListSkip)
}

/// Kyverno's anchor bookkeeping: anchor key as written → seen present somewhere.
#[derive(Default)]
struct AnchorMap(BTreeMap<String, bool>);

impl AnchorMap {
    fn check(&mut self, pattern: &Mapping, resource: &Mapping) {
        for key in pattern.keys().filter_map(Value::as_str) {
            if let Some((m, k)) = anchor(key) {
                if matches!(m, '(' | '^' | 'X') {
                    let entry = self.0.entry(key.to_string()).or_insert(false);
                    if !*entry && resource.contains_key(k) {
                        *entry = true;
                    }
                }
            }
        }
    }

    fn keys_missing(&self) -> bool {
        self.0.values().any(|v| !v)
    }
}

/// `(key)`, `^(key)`, `=(key)`, `X(key)`, `<(key)`, `+(key)` → (modifier, key).
fn anchor(raw: &str) -> Option<(char, &str)> {
    let t = raw.trim();
    let inner = |s: &'_ str| -> Option<String> { s.strip_prefix('(')?.strip_suffix(')').filter(|k| !k.is_empty()).map(String::from) };
    if inner(t).is_some() {
        let k = t.strip_prefix('(')?.strip_suffix(')')?;
        return Some(('(', k));
    }
    let m = t.chars().next()?;
    if matches!(m, '+' | '<' | '=' | 'X' | '^') {
        let rest = t.get(1..)?;
        if inner(rest).is_some() {
            return Some((m, rest.strip_prefix('(')?.strip_suffix(')')?));
        }
    }
    None
}

/// Kyverno's `MatchPattern` and `validatePatterns` for `validate.pattern`.
pub fn validate(resource: &Value, pattern: &Value) -> Outcome {
    let mut ac = AnchorMap::default();
    match element(Some(resource), pattern, "/", &mut ac) {
        Ok(()) => Outcome::Pass,
        Err(e) if is_skip(&e) => Outcome::Skip,
        Err(e) if e.kind == Kind::Negation => Outcome::Fail(e.path),
        Err(_) if ac.keys_missing() => Outcome::Error,
        Err(e) if e.kind == Kind::NoPath || e.path.is_empty() => Outcome::Error,
        Err(e) => Outcome::Fail(e.path),
    }
}

/// `validate.anyPattern`: pass on the first pattern that passes; skip when all skipped;
/// fail when any failed.
pub fn validate_any(resource: &Value, patterns: &[Value]) -> Outcome {
    let mut failed = false;
    let mut skipped = false;
    for p in patterns {
        match validate(resource, p) {
            Outcome::Pass => return Outcome::Pass,
            Outcome::Skip => skipped = true,
            Outcome::Fail(_) | Outcome::Error => failed = true,
        }
    }
    if failed {
        Outcome::Fail(String::new())
    } else if skipped {
        Outcome::Skip
    } else {
        Outcome::Pass
    }
}

fn element(resource: Option<&Value>, pattern: &Value, path: &str, ac: &mut AnchorMap) -> Result<(), Err> {
    let resource = resource.filter(|v| !v.is_null());
    match pattern {
        Value::Mapping(p) => {
            let Some(Value::Mapping(r)) = resource else {
                return Err(err(Kind::Plain, path));
            };
            ac.check(p, r);
            validate_map(r, p, path, ac)
        }
        Value::Sequence(p) => {
            let Some(Value::Sequence(r)) = resource else {
                return Err(err(Kind::Plain, path));
            };
            validate_array(r, p, path, ac)
        }
        scalar => match resource {
            Some(Value::Sequence(items)) => {
                if items.iter().all(|i| leaf(Some(i), scalar)) {
                    Ok(())
                } else {
                    Err(err(Kind::Plain, path))
                }
            }
            other => {
                if leaf(other, scalar) {
                    Ok(())
                } else {
                    Err(err(Kind::Plain, path))
                }
            }
        },
    }
}

fn validate_map(resource: &Mapping, pattern: &Mapping, path: &str, ac: &mut AnchorMap) -> Result<(), Err> {
    let pattern = expand_in_metadata(pattern, resource);
    let mut anchors: Vec<(&str, &Value)> = Vec::new();
    let mut rest: Vec<(&str, &Value)> = Vec::new();
    for (k, v) in &pattern {
        let Some(k) = k.as_str() else { continue };
        match anchor(k) {
            Some(('(' | '^' | '=' | 'X', _)) => anchors.push((k, v)),
            _ => rest.push((k, v)),
        }
    }
    anchors.sort_by(|a, b| a.0.cmp(b.0));
    for (k, v) in anchors {
        handle(k, v, resource, path, ac)?;
    }
    rest.sort_by(|a, b| a.0.cmp(b.0));
    let mut ordered: std::collections::VecDeque<(&str, &Value)> = std::collections::VecDeque::new();
    for (k, v) in rest {
        let global = matches!(anchor(k), Some(('<', _)));
        if global || has_nested_anchors(v) {
            ordered.push_front((k, v));
        } else {
            ordered.push_back((k, v));
        }
    }
    for (k, v) in ordered {
        handle(k, v, resource, path, ac)?;
    }
    Ok(())
}

fn has_nested_anchors(v: &Value) -> bool {
    match v {
        Value::Mapping(m) => m.iter().any(|(k, v)| k.as_str().and_then(anchor).is_some_and(|(m, _)| m != '+') || has_nested_anchors(v)),
        Value::Sequence(items) => items.iter().any(has_nested_anchors),
        _ => false,
    }
}

fn handle(key: &str, pattern: &Value, resource: &Mapping, path: &str, ac: &mut AnchorMap) -> Result<(), Err> {
    match anchor(key) {
        Some(('(', k)) => {
            let current = format!("{path}{k}/");
            match resource.get(k) {
                Some(v) => element(Some(v), pattern, &current, ac).map_err(|e| err(Kind::Conditional, &e.path)),
                None => Err(err(Kind::Conditional, &current)),
            }
        }
        Some(('<', k)) => {
            let current = format!("{path}{k}/");
            match resource.get(k) {
                Some(v) => element(Some(v), pattern, &current, ac).map_err(|e| err(Kind::Global, &e.path)),
                None => Ok(()),
            }
        }
        Some(('=', k)) => match resource.get(k) {
            Some(v) => element(Some(v), pattern, &format!("{path}{k}/"), ac),
            None => Ok(()),
        },
        Some(('X', k)) => {
            if resource.contains_key(k) {
                Err(err(Kind::Negation, &format!("{path}{k}/")))
            } else {
                Ok(())
            }
        }
        Some(('^', k)) => {
            let current = format!("{path}{k}/");
            let Some(v) = resource.get(k) else { return Ok(()) };
            let Value::Sequence(items) = v else { return Err(err(Kind::Plain, &current)) };
            let Value::Sequence(patterns) = pattern else { return Err(err(Kind::Plain, &current)) };
            for p in patterns {
                if !p.is_mapping() {
                    return Err(err(Kind::Plain, &current));
                }
                let found = items.iter().enumerate().any(|(i, item)| element(Some(item), p, &format!("{current}{i}/"), ac).is_ok());
                if !found {
                    return Err(err(Kind::Plain, &current));
                }
            }
            Ok(())
        }
        _ => {
            if pattern.as_str() == Some("*") {
                return match resource.get(key) {
                    Some(v) if !v.is_null() => Ok(()),
                    _ => Err(err(Kind::Plain, path)),
                };
            }
            element(resource.get(key), pattern, &format!("{path}{key}/"), ac)
        }
    }
}

fn validate_array(resource: &[Value], pattern: &[Value], path: &str, ac: &mut AnchorMap) -> Result<(), Err> {
    let Some(first) = pattern.first() else {
        return Err(err(Kind::Plain, path));
    };
    match first {
        Value::Mapping(_) => {
            let mut applied = 0;
            let mut skipped = 0;
            for (i, item) in resource.iter().enumerate() {
                match element(Some(item), first, &format!("{path}{i}/"), ac) {
                    Ok(()) => applied += 1,
                    Err(e) if is_skip(&e) => skipped += 1,
                    Err(e) => return Err(e),
                }
            }
            if applied == 0 && skipped > 0 {
                return Err(err(Kind::ListSkip, path));
            }
            Ok(())
        }
        Value::Sequence(_) => {
            if resource.len() < pattern.len() {
                return Err(err(Kind::NoPath, ""));
            }
            let mut applied = 0;
            let mut skipped = 0;
            for (i, p) in pattern.iter().enumerate() {
                match element(resource.get(i), p, &format!("{path}{i}/"), ac) {
                    Ok(()) => applied += 1,
                    Err(e) if is_skip(&e) => skipped += 1,
                    Err(e) => return Err(e),
                }
            }
            if applied == 0 && skipped > 0 {
                return Err(err(Kind::ListSkip, path));
            }
            Ok(())
        }
        scalar => {
            let seq = Value::Sequence(resource.to_vec());
            element(Some(&seq), scalar, path, ac)
        }
    }
}

/// Kyverno's `ExpandInMetadata`: wildcard keys of `metadata.labels`/`annotations`
/// become the first matching resource key.
fn expand_in_metadata(pattern: &Mapping, resource: &Mapping) -> Mapping {
    let find = |m: &Mapping, tag: &str| -> Option<Value> {
        m.iter().find(|(k, _)| k.as_str().is_some_and(|k| k == tag || anchor(k).is_some_and(|(_, a)| a == tag))).map(|(k, _)| k.clone())
    };
    let mut out = pattern.clone();
    let Some(meta_key) = find(pattern, "metadata") else { return out };
    let Some(Value::Mapping(res_meta)) = resource.get("metadata") else { return out };
    let Some(Value::Mapping(pat_meta)) = pattern.get(&meta_key) else { return out };
    let mut new_meta = pat_meta.clone();
    for tag in ["labels", "annotations"] {
        let Some(tag_key) = find(pat_meta, tag) else { continue };
        let Some(Value::Mapping(pat_tag)) = pat_meta.get(&tag_key) else { continue };
        let Some(Value::Mapping(res_tag)) = res_meta.get(tag) else { continue };
        let mut expanded = Mapping::new();
        for (k, v) in pat_tag {
            let Some(ks) = k.as_str() else { continue };
            let (prefix, bare) = match anchor(ks) {
                Some((m, b)) => (if m == '(' { "(".to_string() } else { format!("{m}(") }, b),
                None => (String::new(), ks),
            };
            let new_key = if wildcard::contains_wildcard(bare) {
                let hit = res_tag.keys().filter_map(Value::as_str).find(|rk| wildcard::matches(bare, rk));
                match hit {
                    Some(rk) if prefix.is_empty() => rk.to_string(),
                    Some(rk) => format!("{prefix}{rk})"),
                    None => ks.to_string(),
                }
            } else {
                ks.to_string()
            };
            expanded.insert(Value::String(new_key), v.clone());
        }
        new_meta.insert(tag_key, Value::Mapping(expanded));
    }
    out.insert(meta_key, Value::Mapping(new_meta));
    out
}

// ------------------------------------------------------------------------ leaves

fn leaf(value: Option<&Value>, pattern: &Value) -> bool {
    let value = value.filter(|v| !v.is_null());
    match pattern {
        Value::Bool(p) => matches!(value, Some(Value::Bool(b)) if b == p),
        Value::Number(n) => {
            let p = n.as_f64().unwrap_or(0.0);
            match value {
                Some(Value::Number(v)) => match v.as_i64() {
                    Some(i) => p.fract() == 0.0 && p as i64 == i,
                    None => v.as_f64() == Some(p),
                },
                Some(Value::String(s)) => s.parse::<f64>().ok().filter(|_| looks_like_float(s)) == Some(p),
                _ => false,
            }
        }
        Value::Null => match value {
            None => true,
            Some(Value::Bool(b)) => !b,
            Some(Value::Number(n)) => n.as_f64() == Some(0.0),
            Some(Value::String(s)) => s.is_empty(),
            _ => false,
        },
        Value::String(p) => string_patterns(value, p),
        _ => false,
    }
}

fn looks_like_float(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    !body.is_empty()
        && (body.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
            || matches!(body.to_ascii_lowercase().as_str(), "inf" | "infinity" | "nan"))
}

fn string_patterns(value: Option<&Value>, pattern: &str) -> bool {
    if let Some(Value::String(s)) = value {
        if s == pattern {
            return true;
        }
    }
    pattern.split('|').any(|alt| alt.trim_matches(' ').split('&').all(|c| string_pattern(value, c.trim_matches(' '))))
}

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

fn string_pattern(value: Option<&Value>, p: &str) -> bool {
    let (op, len) = if p.len() < 2 {
        (Op::Eq, 0)
    } else if p.starts_with(">=") {
        (Op::Ge, 2)
    } else if p.starts_with("<=") {
        (Op::Le, 2)
    } else if p.starts_with('>') {
        (Op::Gt, 1)
    } else if p.starts_with('<') {
        (Op::Lt, 1)
    } else if p.starts_with('!') {
        (Op::Ne, 1)
    } else {
        (Op::Eq, 0)
    };
    if op == Op::Eq {
        if let Some((a, b)) = range(p, "!-") {
            return string_pattern(value, &format!("< {a}")) || string_pattern(value, &format!("> {b}"));
        }
        if let Some((a, b)) = range(p, "-") {
            return string_pattern(value, &format!(">= {a}")) && string_pattern(value, &format!("<= {b}"));
        }
    }
    let rest = p[len..].trim();
    compare_duration(value, rest, op) || compare_quantity(value, rest, op) || compare_string(value, rest, op)
}

/// `^(\d+(\.\d+)?)([^-]*)SEP(\d+(\.\d+)?)([^-]*)$`, by hand.
fn range<'p>(p: &'p str, sep: &str) -> Option<(&'p str, &'p str)> {
    if p.matches('-').count() != 1 {
        return None;
    }
    let (a, b) = p.split_once(sep)?;
    let numeric_start = |s: &str| s.chars().next().is_some_and(|c| c.is_ascii_digit());
    (numeric_start(a) && numeric_start(b)).then_some((a, b))
}

fn holds(op: Op, ord: Ordering) -> bool {
    match op {
        Op::Eq => ord == Ordering::Equal,
        Op::Ne => ord != Ordering::Equal,
        Op::Gt => ord == Ordering::Greater,
        Op::Ge => ord != Ordering::Less,
        Op::Lt => ord == Ordering::Less,
        Op::Le => ord != Ordering::Greater,
    }
}

fn number_to_string(value: Option<&Value>) -> Option<String> {
    match value {
        None => Some("0".into()),
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(i) => Some(i.to_string()),
            None => {
                let mut s = String::new();
                gofmt::format_float_f(n.as_f64().unwrap_or(0.0), &mut s).ok()?;
                Some(s)
            }
        },
        _ => None,
    }
}

fn compare_duration(value: Option<&Value>, pattern: &str, op: Op) -> bool {
    let (Some(want), Some(text)) = (duration::parse(pattern), number_to_string(value)) else { return false };
    duration::parse(&text).is_some_and(|have| holds(op, have.cmp(&want)))
}

fn compare_quantity(value: Option<&Value>, pattern: &str, op: Op) -> bool {
    let (Some(want), Some(text)) = (Quantity::parse(pattern), number_to_string(value)) else { return false };
    Quantity::parse(&text).is_some_and(|have| holds(op, have.cmp(&want)))
}

fn compare_string(value: Option<&Value>, pattern: &str, op: Op) -> bool {
    if !matches!(op, Op::Eq | Op::Ne) {
        return false;
    }
    let text = match value {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(i) => i.to_string(),
            None => {
                let mut s = String::new();
                if gofmt::format_float_e(n.as_f64().unwrap_or(0.0), &mut s).is_err() {
                    return false;
                }
                s
            }
        },
        _ => return false,
    };
    let m = wildcard::matches(pattern, &text);
    if op == Op::Eq {
        m
    } else {
        !m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Value {
        serde_yaml::from_str(s).unwrap()
    }

    #[test]
    fn reference_matches_known_kyverno_outcomes() {
        let pod = v("spec: {containers: [{name: a, image: 'nginx:latest'}, {name: b, image: 'nginx:1'}]}");
        assert_eq!(validate(&pod, &v("spec: {containers: [{image: '!*:latest'}]}")), Outcome::Fail("/spec/containers/0/image/".into()));
        assert_eq!(validate(&pod, &v("spec: {containers: [{(image): '*:2', name: x}]}")), Outcome::Skip);
        assert_eq!(validate(&pod, &v("spec: {containers: [{(image): '*:latest', name: a}]}")), Outcome::Pass);
        assert_eq!(validate(&pod, &v("spec: {X(hostNetwork): null}")), Outcome::Pass);
        assert_eq!(validate(&pod, &v("spec: {^(containers): [{name: b}]}")), Outcome::Pass);
        assert_eq!(validate(&pod, &v("spec: {^(containers): [{name: c}]}")), Outcome::Fail("/spec/containers/".into()));
    }
}
