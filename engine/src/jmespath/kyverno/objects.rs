//! Object and array functions: `lookup`, `items`, `object_from_lists`.

use ahash::AHashMap;
use bumpalo::collections::Vec as BumpVec;

use super::{arg, iface_to_string, invalid, object, str_arg, wrong_type, A};
use crate::document::{Member, Value};
use crate::jmespath::{Arg, Error, Function, Interp, Types};

const OA: Types = Types::OBJECT.or(Types::ARRAY);

pub(super) const FUNCTIONS: &[Function] = &[
    Function {
        name: "lookup",
        params: &[OA, Types::STRING.or(Types::NUMBER)],
        variadic: false,
        returns: "any",
        doc: "the value at a key of an object or an index of an array, null when absent",
        call: lookup,
    },
    Function {
        name: "items",
        params: &[OA, Types::STRING, Types::STRING],
        variadic: false,
        returns: "array",
        doc: "an object's entries (sorted by key) or an array's elements as objects with the given key and value names",
        call: items,
    },
    Function {
        name: "object_from_lists",
        params: &[A, A],
        variadic: false,
        returns: "object",
        doc: "an object from a list of keys and a list of values (missing values are null)",
        call: object_from_lists,
    },
];

fn lookup<'a>(_: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    match (arg(args, 0), arg(args, 1)) {
        (Value::Object(members), key) => {
            let Value::Str(key) = key else {
                return Err(wrong_type("lookup", 2, "a string for an object"));
            };
            Ok(members.iter().rev().find(|m| m.key == key).map_or(Value::Null, |m| m.value))
        }
        (Value::Array(items), key) => {
            let index = super::as_f64(&key).ok_or_else(|| wrong_type("lookup", 2, "a number for an array"))?;
            // Kyverno's intNumber: a finite whole number within int64.
            if !index.is_finite() || index.trunc() != index {
                return Err(invalid("lookup", "argument #2: expected an integer number"));
            }
            let i = super::go_f64_to_i64(index);
            if i as f64 != index {
                return Err(invalid("lookup", "argument #2: number is outside the range of integer numbers"));
            }
            Ok(usize::try_from(i).ok().and_then(|i| items.get(i)).copied().unwrap_or(Value::Null))
        }
        _ => Err(wrong_type("lookup", 1, "an object or an array")),
    }
}

fn items<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let key_name = str_arg("items", args, 1)?;
    let value_name = str_arg("items", args, 2)?;
    let arena = interp.arena();
    let entry = |k: Value<'a>, v: Value<'a>| {
        // A Go map literal: with equal names the value wins.
        if key_name == value_name {
            object(arena, &[(value_name, v)])
        } else {
            object(arena, &[(key_name, k), (value_name, v)])
        }
    };
    let mut out = BumpVec::new_in(arena);
    match arg(args, 0) {
        Value::Object(members) => {
            let mut sorted: Vec<&Member<'a>> = members.iter().collect();
            sorted.sort_by(|a, b| a.key.cmp(b.key));
            for m in sorted {
                out.push(entry(Value::Str(m.key), m.value));
            }
        }
        Value::Array(values) => {
            for (i, v) in values.iter().enumerate() {
                // Kyverno's index is a float64.
                out.push(entry(Value::Float(i as f64), *v));
            }
        }
        _ => return Err(wrong_type("items", 1, "an object or an array")),
    }
    Ok(Value::Array(out.into_bump_slice()))
}

fn object_from_lists<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let (Value::Array(keys), Value::Array(values)) = (arg(args, 0), arg(args, 1)) else {
        return Err(wrong_type("object_from_lists", 1, "an array"));
    };
    let arena = interp.arena();
    let mut out: BumpVec<'a, Member<'a>> = BumpVec::with_capacity_in(keys.len(), arena);
    let mut seen: AHashMap<&'a str, usize> = AHashMap::with_capacity(keys.len());
    for (i, k) in keys.iter().enumerate() {
        let key = iface_to_string(arena, k).ok_or_else(|| wrong_type("object_from_lists", 1, "an array of strings or numbers"))?;
        let value = values.get(i).copied().unwrap_or(Value::Null);
        // A Go map: a repeated key keeps the last value.
        match seen.get(key).and_then(|&at| out.get_mut(at)) {
            Some(existing) => existing.value = value,
            None => {
                seen.insert(key, out.len());
                out.push(Member { key, value });
            }
        }
    }
    Ok(Value::Object(out.into_bump_slice()))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{q, run};

    // Cases from Kyverno's pkg/engine/jmespath/functions_test.go unless noted.

    #[test]
    fn lookup_objects_and_arrays() {
        for (collection, key, want) in [
            ("{}", r#""key1""#, "null"),
            (r#"{"key1": "value1"}"#, r#""key2""#, "null"),
            (r#"{"key1": "value1"}"#, r#""key1""#, r#""value1""#),
            (r#"{"": "value1"}"#, r#""""#, r#""value1""#),
            (r#"{"k": 123}"#, r#""k""#, "123"),
            (r#"{"k": 12.34}"#, r#""k""#, "12.34"),
            (r#"{"k": true}"#, r#""k""#, "true"),
            (r#"{"k": false}"#, r#""k""#, "false"),
            (r#"{"k": null}"#, r#""k""#, "null"),
            (r#"{"k":  [7, "x", true] }"#, r#""k""#, r#"[7,"x",true]"#),
            (r#"{"k": {"key1":true}}"#, r#""k""#, r#"{"key1":true}"#),
            ("[]", "0", "null"),
            (r#"["item0"]"#, "-1", "null"),
            (r#"["item0"]"#, "1", "null"),
            (r#"["item0"]"#, "0", r#""item0""#),
            (r#"["item0", "item1", "item2", "item3"]"#, "2", r#""item2""#),
            (r#"["item0", "item1"]"#, "0.99999999999999999999999999999999999999999999", r#""item1""#),
            ("[123]", "0", "123"),
            ("[12.34]", "0", "12.34"),
            ("[true]", "0", "true"),
            ("[null]", "0", "null"),
            (r#"[ [7, "x", true] ]"#, "0", r#"[7,"x",true]"#),
            (r#"[{"key1":true}]"#, "0", r#"{"key1":true}"#),
        ] {
            assert_eq!(run("lookup", &[collection, key]), want, "lookup({collection}, {key})");
        }
        // Test_Lookup_InvalidArgs.
        assert_eq!(run("lookup", &["{}", "123"]), "error: invalid-type");
        assert_eq!(run("lookup", &["[]", r#""abc""#]), "error: invalid-type");
        assert_eq!(run("lookup", &["[]", "1.5"]), "error: invalid-value");
        assert_eq!(run("lookup", &["[]", "1e300"]), "error: invalid-value");
        assert_eq!(run("lookup", &[r#""x""#, "0"]), "error: invalid-type");
    }

    #[test]
    fn items_of_objects_and_arrays() {
        assert_eq!(run("items", &[r#"{ "key1": "value1" }"#, &q("key"), &q("value")]), r#"[{"key":"key1","value":"value1"}]"#);
        assert_eq!(
            run("items", &[r#"{ "key2": "value2", "key1": "value1" }"#, &q("key"), &q("value")]),
            r#"[{"key":"key1","value":"value1"},{"key":"key2","value":"value2"}]"#
        );
        assert_eq!(
            run("items", &[r#"{ "key1": "value1", "key2": "value2" }"#, &q("myKey"), &q("myValue")]),
            r#"[{"myKey":"key1","myValue":"value1"},{"myKey":"key2","myValue":"value2"}]"#
        );
        assert_eq!(
            run("items", &[r#"["A", "B", "C"]"#, &q("myKey"), &q("myValue")]),
            r#"[{"myKey":0.0,"myValue":"A"},{"myKey":1.0,"myValue":"B"},{"myKey":2.0,"myValue":"C"}]"#
        );
        assert_eq!(run("items", &[r#"{"a": 1}"#, &q("k"), &q("k")]), r#"[{"k":1}]"#);
        assert_eq!(run("items", &["{}", &q("k"), &q("v")]), "[]");
        assert_eq!(run("items", &["{}", "1", &q("v")]), "error: invalid-type");
    }

    #[test]
    fn object_from_lists_pairs_keys_and_values() {
        assert_eq!(run("object_from_lists", &[r#"["key1", "key2"]"#, r#"["1", "2"]"#]), r#"{"key1":"1","key2":"2"}"#);
        assert_eq!(run("object_from_lists", &[r#"["key1", "key2"]"#, r#"[1, "2"]"#]), r#"{"key1":1,"key2":"2"}"#);
        assert_eq!(run("object_from_lists", &[r#"["key1", "key2"]"#, "[1]"]), r#"{"key1":1,"key2":null}"#);
        assert_eq!(run("object_from_lists", &[r#"[1, true, "a", "a"]"#, "[1, 2, 3, 4]"]), r#"{"1":1,"true":2,"a":4}"#);
        assert_eq!(run("object_from_lists", &["[null]", "[1]"]), "error: invalid-type");
        assert_eq!(run("object_from_lists", &["[]", "[1]"]), "{}");
    }
}
