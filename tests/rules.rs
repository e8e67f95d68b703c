//! Data-driven rule cases (`tests/cases/rules.yaml`): variables, `deny`,
//! `preconditions`, `context` and `foreach`, each with the outcome Kyverno gives and,
//! where it matters, a piece of the message. Every failing case is reported at once;
//! `KYVM_CASE=substring` runs only matching cases.

use kyvm_engine::{Operation, RuleStatus};
use kyvm_tests::eval;
use serde::Deserialize;
use serde_yaml::{Mapping, Value};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    why: String,
    /// The rule without `name` and `match` (added: kind of the resource).
    rule: Value,
    resource: Value,
    #[serde(default)]
    operation: Option<String>,
    expect: String,
    /// A substring the rule's message must contain.
    #[serde(default)]
    message: Option<String>,
}

fn policy(rule: &Value, kind: &str) -> String {
    let mut r = Mapping::new();
    r.insert("name".into(), "r".into());
    let m: Value = serde_yaml::from_str(&format!("{{any: [{{resources: {{kinds: [{kind}]}}}}]}}")).expect("match");
    r.insert("match".into(), m);
    if let Value::Mapping(body) = rule {
        for (k, v) in body {
            r.insert(k.clone(), v.clone());
        }
    }
    let mut doc: Mapping =
        serde_yaml::from_str("apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\nspec: {}\n").expect("template");
    if let Some(Value::Mapping(spec)) = doc.get_mut("spec") {
        spec.insert("rules".into(), Value::Sequence(vec![Value::Mapping(r)]));
    }
    serde_yaml::to_string(&doc).expect("yaml")
}

#[test]
fn rule_cases() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/cases/rules.yaml")).expect("cases");
    let cases: Vec<Case> = serde_yaml::from_str(&text).expect("case schema");
    let filter = std::env::var("KYVM_CASE").unwrap_or_default();
    let mut failures = Vec::new();
    for case in cases.iter().filter(|c| c.name.contains(&filter)) {
        let kind = case.resource.get("kind").and_then(Value::as_str).unwrap_or("Thing").to_string();
        let mut resource = case.resource.clone();
        if let Value::Mapping(m) = &mut resource {
            m.entry("apiVersion".into()).or_insert_with(|| "v1".into());
            m.entry("kind".into()).or_insert_with(|| "Thing".into());
        }
        let operation = case.operation.as_deref().map_or(Operation::Create, |o| Operation::parse(o).expect("operation"));
        let results = eval::run_with(&policy(&case.rule, &kind), &serde_yaml::to_string(&resource).expect("yaml"), operation);
        let (status, message) = match results.as_slice() {
            [] => ("none".to_string(), String::new()),
            [r] => (
                match r.status {
                    RuleStatus::Pass => "pass",
                    RuleStatus::Fail => "fail",
                    RuleStatus::Skip => "skip",
                    RuleStatus::Error => "error",
                    RuleStatus::Warn => "warn",
                }
                .to_string(),
                r.message.clone(),
            ),
            other => {
                failures.push(format!("{}: expected one result, got {other:?}", case.name));
                continue;
            }
        };
        if status != case.expect {
            failures.push(format!("{} ({}): got {status} ({message:?}), want {}", case.name, case.why, case.expect));
        } else if let Some(want) = &case.message {
            if !message.contains(want.as_str()) {
                failures.push(format!("{} ({}): message {message:?} lacks {want:?}", case.name, case.why));
            }
        }
    }
    assert!(failures.is_empty(), "{} rule case(s) failed:\n{}", failures.len(), failures.join("\n"));
}
