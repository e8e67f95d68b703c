//! The validate-style match a mutate condition anchor runs (Kyverno's `MatchPattern`,
//! called from `checkCondition`): the condition's value is a pattern, known only after
//! substitution, read straight from the document.
//!
//! Scalars match as pattern strings (wildcards, operators, alternatives, quantities,
//! durations) or typed values; a map needs every plain key present and matching, with
//! the validate anchors honoured (`()` and `=()` only when present, `X()` absent, `^()`
//! some element matches); a list pattern whose first element is a map must match every
//! resource element, one of scalars is matched element by element.

use crate::document::Value;
use crate::matcher::{self, ValuePattern};

use super::overlay::Anchor;

/// Does `resource` match `pattern`?
pub fn matches(resource: Value<'_>, pattern: Value<'_>) -> bool {
    match pattern {
        Value::Object(members) => {
            let Value::Object(_) = resource else { return false };
            members.iter().all(|m| {
                let (anchor, key) = Anchor::parse(m.key);
                let found = resource.get(key);
                match anchor {
                    Anchor::None | Anchor::Global => found.is_some_and(|v| matches(v, m.value)),
                    Anchor::Condition | Anchor::Equality | Anchor::AddIfNotPresent => found.is_none_or(|v| matches(v, m.value)),
                    Anchor::Negation => found.is_none(),
                    Anchor::Existence => found.and_then(|v| v.as_array()).is_some_and(|items| {
                        items.iter().any(|i| m.value.as_array().and_then(|p| p.first()).is_none_or(|p| matches(*i, *p)))
                    }),
                }
            })
        }
        Value::Array(patterns) => {
            let Some(items) = resource.as_array() else { return false };
            match patterns.first() {
                None => items.is_empty(),
                Some(first @ Value::Object(_)) => items.iter().all(|i| matches(*i, *first)),
                Some(_) => patterns.len() <= items.len() && patterns.iter().zip(items).all(|(p, i)| matches(*i, *p)),
            }
        }
        scalar => scalar_matches(resource, scalar),
    }
}

/// A scalar pattern: a list resource must match in every element (Kyverno applies a
/// scalar pattern to each element of a list value).
fn scalar_matches(resource: Value<'_>, pattern: Value<'_>) -> bool {
    let one = |value: &Value<'_>| match pattern {
        Value::Str(text) => matcher::matches_text(value, text),
        Value::Int(i) => ValuePattern::Number(i as f64).matches(value),
        Value::Float(f) => ValuePattern::Number(f).matches(value),
        Value::Bool(b) => ValuePattern::Bool(b).matches(value),
        Value::Null => ValuePattern::Null.matches(value),
        Value::Array(_) | Value::Object(_) => false,
    };
    match resource {
        Value::Array(items) => items.iter().all(one),
        other => one(&other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Member;

    #[test]
    fn wildcard_names() {
        assert!(matches(Value::Str("nginx"), Value::Str("?*")));
        assert!(!matches(Value::Str(""), Value::Str("?*")));
        assert!(matches(Value::Str("corp.reg.com/app:1"), Value::Str("corp.reg.com/*")));
    }

    #[test]
    fn maps_need_their_keys() {
        let pattern = [Member { key: "a", value: Value::Str("x*") }];
        let good = [Member { key: "a", value: Value::Str("xy") }];
        assert!(matches(Value::Object(&good), Value::Object(&pattern)));
        assert!(!matches(Value::Object(&[]), Value::Object(&pattern)));
        let optional = [Member { key: "=(a)", value: Value::Str("x*") }];
        assert!(matches(Value::Object(&[]), Value::Object(&optional)));
    }
}
