//! Differential testing: the compiled VM against the naive reference evaluator
//! (`kyvm_tests::reference`), on generated patterns and documents.
//!
//! Patterns use every anchor, wildcard and operator form over a small key alphabet, so
//! generated resources often line up with them; both sides must give the same status,
//! and for failures the same path.

use kyvm_engine::RuleStatus;
use kyvm_tests::eval;
use kyvm_tests::reference::{self, Outcome};
use proptest::prelude::*;
use serde_yaml::{Mapping, Value};

const KEYS: [&str; 4] = ["a", "b", "c", "name"];

fn scalar_pattern() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::sample::select(vec![
            "*", "?*", "x*", "!x", "x | y", "!x*", ">1", "<=2", "1-3", "1!-3", "x & ?*", "", "0", "true", "1Gi", "<1h", "!*", "*y",
            ">=1 & <3", "null", "-1",
        ])
        .prop_map(|s| Value::String(s.to_string())),
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (0i64..3).prop_map(|i| Value::Number(i.into())),
        Just(Value::Number(1.5f64.into())),
    ]
}

fn resource_scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::sample::select(vec!["x", "y", "xy", "", "1", "2", "1Gi", "30m", "true", "2h"]).prop_map(|s| Value::String(s.to_string())),
        (0i64..4).prop_map(|i| Value::Number(i.into())),
        Just(Value::Number(1.5f64.into())),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
    ]
}

fn anchored_key() -> impl Strategy<Value = (String, bool)> {
    (prop::sample::select(vec!["", "(", "=(", "X(", "^(", "<("]), prop::sample::select(KEYS.to_vec())).prop_map(|(a, k)| {
        if a.is_empty() {
            (k.to_string(), false)
        } else {
            (format!("{a}{k})"), a == "^(")
        }
    })
}

fn pattern(depth: u32) -> BoxedStrategy<Value> {
    let leaf = scalar_pattern().boxed();
    if depth == 0 {
        return leaf;
    }
    prop_oneof![
        3 => leaf,
        3 => pattern_map(depth),
        1 => pattern_map(depth - 1).prop_map(|m| Value::Sequence(vec![m])),
        1 => scalar_pattern().prop_map(|s| Value::Sequence(vec![s])),
        1 => prop::collection::vec(pattern(depth - 1), 1..3).prop_map(|items| Value::Sequence(vec![Value::Sequence(items)])),
    ]
    .boxed()
}

fn pattern_map(depth: u32) -> BoxedStrategy<Value> {
    // Lists under existence anchors hold maps one level down (plain maps at the bottom).
    let existence_maps = if depth == 0 {
        prop::collection::vec(
            scalar_pattern().prop_map(|v| {
                let mut m = Mapping::new();
                m.insert("a".into(), v);
                Value::Mapping(m)
            }),
            0..2,
        )
        .boxed()
    } else {
        prop::collection::vec(pattern_map(depth - 1), 0..2).boxed()
    };
    prop::collection::vec((anchored_key(), pattern(depth.saturating_sub(1)), existence_maps), 1..4)
        .prop_map(|entries| {
            let mut m = Mapping::new();
            for ((key, existence), value, maps) in entries {
                // An existence anchor needs a list of maps.
                let value = if existence { Value::Sequence(maps) } else { value };
                m.insert(Value::String(key), value);
            }
            Value::Mapping(m)
        })
        .boxed()
}

fn resource(depth: u32) -> BoxedStrategy<Value> {
    let leaf = resource_scalar().boxed();
    if depth == 0 {
        return leaf;
    }
    prop_oneof![
        2 => leaf,
        3 => prop::collection::vec((prop::sample::select(KEYS.to_vec()), resource(depth - 1)), 0..4).prop_map(|entries| {
            let mut m = Mapping::new();
            for (k, v) in entries {
                m.insert(Value::String(k.to_string()), v);
            }
            Value::Mapping(m)
        }),
        2 => prop::collection::vec(resource(depth - 1), 0..3).prop_map(Value::Sequence),
    ]
    .boxed()
}

fn labels() -> impl Strategy<Value = Value> {
    prop::collection::vec((prop::sample::select(vec!["app.a", "app.b", "other"]), prop::sample::select(vec!["x", "y", "xy"])), 0..3)
        .prop_map(|e| {
            let mut m = Mapping::new();
            for (k, v) in e {
                m.insert(Value::String(k.into()), Value::String(v.into()));
            }
            Value::Mapping(m)
        })
}

fn label_pattern() -> impl Strategy<Value = Option<Value>> {
    prop::option::of((prop::sample::select(vec!["app.*", "X(app.*)", "=(other)", "(app.?)", "app.a"]), scalar_pattern()).prop_map(
        |(k, v)| {
            let mut labels = Mapping::new();
            labels.insert(Value::String(k.into()), v);
            let mut meta = Mapping::new();
            meta.insert("labels".into(), Value::Mapping(labels));
            Value::Mapping(meta)
        },
    ))
}

fn policy(patterns: &[Value], any: bool) -> String {
    let mut validate = Mapping::new();
    if any {
        validate.insert("anyPattern".into(), Value::Sequence(patterns.to_vec()));
    } else {
        validate.insert("pattern".into(), patterns.first().cloned().unwrap_or(Value::Null));
    }
    let rule = serde_yaml::from_str::<Value>("name: r\nmatch: {any: [{resources: {kinds: [Thing]}}]}").unwrap();
    let mut rule = rule.as_mapping().unwrap().clone();
    rule.insert("validate".into(), Value::Mapping(validate));
    let mut doc: Mapping = serde_yaml::from_str("apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}").unwrap();
    let mut spec = Mapping::new();
    spec.insert("rules".into(), Value::Sequence(vec![Value::Mapping(rule)]));
    doc.insert("spec".into(), Value::Mapping(spec));
    serde_yaml::to_string(&doc).unwrap()
}

fn with_root(body: Value, extra_meta: Option<Value>, root_fields: &Mapping) -> Value {
    let mut m = match body {
        Value::Mapping(m) => m,
        other => {
            let mut m = Mapping::new();
            m.insert("a".into(), other);
            m
        }
    };
    for (k, v) in root_fields {
        m.insert(k.clone(), v.clone());
    }
    if let Some(meta) = extra_meta {
        m.insert("metadata".into(), meta);
    }
    Value::Mapping(m)
}

fn vm_outcome(results: &[eval::Result]) -> Outcome {
    match results {
        [] => panic!("the rule produced no result"),
        [r] => match r.status {
            RuleStatus::Pass => Outcome::Pass,
            RuleStatus::Skip => Outcome::Skip,
            RuleStatus::Error => Outcome::Error,
            RuleStatus::Fail => Outcome::Fail(r.message.rsplit_once("failed at path ").map(|(_, p)| p.to_string()).unwrap_or_default()),
            RuleStatus::Warn => panic!("unexpected warn"),
        },
        more => panic!("one rule gave {} results", more.len()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn vm_agrees_with_reference_on_pattern(p in pattern_map(3), meta_pattern in label_pattern(), r in resource(3), l in labels()) {
        let pattern = with_root(p, meta_pattern, &Mapping::new());
        let mut root = Mapping::new();
        root.insert("apiVersion".into(), "v1".into());
        root.insert("kind".into(), "Thing".into());
        let mut meta = Mapping::new();
        meta.insert("name".into(), "t".into());
        meta.insert("labels".into(), l);
        let resource = with_root(r, Some(Value::Mapping(meta)), &root);
        let want = reference::validate(&resource, &pattern);
        let got = vm_outcome(&eval::run(&policy(std::slice::from_ref(&pattern), false), &serde_yaml::to_string(&resource).unwrap()));
        prop_assert_eq!(got, want, "pattern:\n{}\nresource:\n{}", serde_yaml::to_string(&pattern).unwrap(), serde_yaml::to_string(&resource).unwrap());
    }

    #[test]
    fn vm_agrees_with_reference_on_any_pattern(ps in prop::collection::vec(pattern_map(2), 1..3), r in resource(3)) {
        let mut root = Mapping::new();
        root.insert("apiVersion".into(), "v1".into());
        root.insert("kind".into(), "Thing".into());
        let resource = with_root(r, None, &root);
        let want = reference::validate_any(&resource, &ps);
        let got = match vm_outcome(&eval::run(&policy(&ps, true), &serde_yaml::to_string(&resource).unwrap())) {
            Outcome::Fail(_) => Outcome::Fail(String::new()),
            other => other,
        };
        prop_assert_eq!(got, want, "patterns:\n{}\nresource:\n{}", serde_yaml::to_string(&ps).unwrap(), serde_yaml::to_string(&resource).unwrap());
    }
}
