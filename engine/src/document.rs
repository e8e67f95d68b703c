//! The document: an admission payload decoded once into a read-only tree that lives in
//! the per-request arena.
//!
//! First stage of evaluation: JSON bytes (see [`crate::json`]) or, in the CLI, YAML
//! converted by the compiler crate, become a [`Value`] whose strings borrow from the
//! input where they have no escapes and whose arrays and objects are arena slices.
//! Objects keep their members in input order: Kubernetes objects are small, and a
//! linear scan over a handful of keys beats hashing them.
//!
//! Numbers keep the distinction JSON made: `80` is [`Value::Int`], `80.0` and `8e1` are
//! [`Value::Float`]. Kyverno's pattern semantics depend on it (an integer resource value
//! formats as `80`, a float as `80.000000`).

use core::fmt;

/// One node of a decoded document. `Copy`: it is a tag and a pointer or two.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value<'a> {
    Null,
    Bool(bool),
    /// An integer as JSON wrote it (no fraction, no exponent) that fits in `i64`.
    Int(i64),
    /// Any other number.
    Float(f64),
    Str(&'a str),
    Array(&'a [Value<'a>]),
    Object(&'a [Member<'a>]),
}

/// One `key: value` pair of an object.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Member<'a> {
    pub key: &'a str,
    pub value: Value<'a>,
}

impl<'a> Value<'a> {
    /// The member `key` of an object, or `None` when `self` is not an object or has no
    /// such member. An explicit `null` member is `Some(Value::Null)`.
    #[inline]
    pub fn get(&self, key: &str) -> Option<Value<'a>> {
        match self {
            Value::Object(members) => members.iter().find(|m| m.key == key).map(|m| m.value),
            _ => None,
        }
    }

    /// Like [`Value::get`], but a missing member reads as `null`, the way a Go map of
    /// `interface{}` answers a lookup of an absent key.
    #[inline]
    pub fn get_or_null(&self, key: &str) -> Value<'a> {
        self.get(key).unwrap_or(Value::Null)
    }

    /// Follows a path of object keys; `None` as soon as one is missing.
    pub fn pointer(&self, keys: &[&str]) -> Option<Value<'a>> {
        let mut cur = *self;
        for key in keys {
            cur = cur.get(key)?;
        }
        Some(cur)
    }

    pub fn as_str(&self) -> Option<&'a str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&'a [Member<'a>]> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&'a [Value<'a>]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The number, as a float.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// A short name of the value's type, for messages that must not carry content.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }
}

/// Compact JSON, for diagnostics and tests. Keys and strings are escaped as JSON requires.
impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => {
                if x.is_finite() {
                    write!(f, "{x:?}")
                } else {
                    f.write_str("null")
                }
            }
            Value::Str(s) => write_json_string(f, s),
            Value::Array(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Value::Object(members) => {
                f.write_str("{")?;
                for (i, m) in members.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write_json_string(f, m.key)?;
                    write!(f, ":{}", m.value)?;
                }
                f.write_str("}")
            }
        }
    }
}

/// Writes `s` as a JSON string literal.
pub fn write_json_string(out: &mut impl fmt::Write, s: &str) -> fmt::Result {
    out.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => out.write_str("\\\"")?,
            '\\' => out.write_str("\\\\")?,
            '\n' => out.write_str("\\n")?,
            '\r' => out.write_str("\\r")?,
            '\t' => out.write_str("\\t")?,
            c if (c as u32) < 0x20 => write!(out, "\\u{:04x}", c as u32)?,
            c => out.write_char(c)?,
        }
    }
    out.write_char('"')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_distinguishes_null_member_from_absent() {
        let members = [Member { key: "a", value: Value::Null }];
        let v = Value::Object(&members);
        assert_eq!(v.get("a"), Some(Value::Null));
        assert_eq!(v.get("b"), None);
        assert_eq!(v.get_or_null("b"), Value::Null);
        assert_eq!(Value::Int(1).get("a"), None);
    }

    #[test]
    fn display_is_json() {
        let items = [Value::Int(1), Value::Float(0.5), Value::Str("a\"b")];
        let members = [Member { key: "k", value: Value::Array(&items) }];
        assert_eq!(Value::Object(&members).to_string(), r#"{"k":[1,0.5,"a\"b"]}"#);
    }
}
