//! Resources for the CLI: YAML documents → arena [`Value`]s.
//!
//! The CLI reads resource files as YAML; the engine evaluates arena documents. This is
//! the conversion, with Kubernetes' YAML-to-JSON rules: integers stay integers, other
//! numbers become floats, non-string keys become their string form, tags are dropped.

use bumpalo::collections::Vec as BumpVec;
use bumpalo::Bump;
use kyvm_engine::document::{Member, Value};
use serde_yaml::Value as Yaml;

/// Copies a YAML value into `arena`.
pub fn to_arena<'a>(v: &Yaml, arena: &'a Bump) -> Value<'a> {
    match v {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(*b),
        Yaml::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(0.0)),
        },
        Yaml::String(s) => Value::Str(arena.alloc_str(s)),
        Yaml::Sequence(items) => {
            let mut out = BumpVec::with_capacity_in(items.len(), arena);
            out.extend(items.iter().map(|i| to_arena(i, arena)));
            Value::Array(out.into_bump_slice())
        }
        Yaml::Mapping(m) => {
            let mut out: BumpVec<'a, Member<'a>> = BumpVec::with_capacity_in(m.len(), arena);
            for (k, val) in m {
                let key: &'a str = match k {
                    Yaml::String(s) => arena.alloc_str(s),
                    Yaml::Number(n) => arena.alloc_str(&n.to_string()),
                    Yaml::Bool(b) => arena.alloc_str(if *b { "true" } else { "false" }),
                    Yaml::Null => "null",
                    other => arena.alloc_str(&serde_yaml::to_string(other).unwrap_or_default()),
                };
                out.push(Member { key, value: to_arena(val, arena) });
            }
            Value::Object(out.into_bump_slice())
        }
        Yaml::Tagged(t) => to_arena(&t.value, arena),
    }
}

/// Copies an arena value out as YAML (mutated resources, for comparison and output).
pub fn from_arena(v: &Value<'_>) -> Yaml {
    match v {
        Value::Null => Yaml::Null,
        Value::Bool(b) => Yaml::Bool(*b),
        Value::Int(i) => Yaml::Number((*i).into()),
        Value::Float(f) => Yaml::Number((*f).into()),
        Value::Str(s) => Yaml::String((*s).to_string()),
        Value::Array(items) => Yaml::Sequence(items.iter().map(from_arena).collect()),
        Value::Object(members) => {
            let mut m = serde_yaml::Mapping::with_capacity(members.len());
            for member in members.iter() {
                m.insert(Yaml::String(member.key.to_string()), from_arena(&member.value));
            }
            Yaml::Mapping(m)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_like_yaml_to_json() {
        let y: Yaml = serde_yaml::from_str("a: 1\nb: 1.5\nc: [x, null, true]\n5: k\n").unwrap();
        let arena = Bump::new();
        assert_eq!(to_arena(&y, &arena).to_string(), r#"{"a":1,"b":1.5,"c":["x",null,true],"5":"k"}"#);
    }
}
