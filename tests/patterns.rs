//! Data-driven pattern cases (`tests/cases/patterns.yaml`): each case's expected outcome
//! is checked against the compiled VM and the reference evaluator. Every failing case is
//! reported at once; `KYVM_CASE=substring` runs only matching cases.

use kyvm_engine::RuleStatus;
use kyvm_tests::eval;
use kyvm_tests::reference::{self, Outcome};
use serde::Deserialize;
use serde_yaml::{Mapping, Value};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    why: String,
    pattern: Value,
    resource: Value,
    expect: String,
    #[serde(default)]
    path: Option<String>,
}

fn policy(pattern: &Value) -> String {
    let mut doc: Mapping = serde_yaml::from_str(
        "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\nspec:\n  rules:\n  - name: r\n    match: {any: [{resources: {kinds: [Thing]}}]}\n    validate: {}\n",
    )
    .expect("template");
    let rule = doc.get_mut("spec").and_then(|s| s.get_mut("rules")).and_then(|r| r.get_mut(0)).expect("rule");
    if let Some(Value::Mapping(v)) = rule.get_mut("validate") {
        v.insert("pattern".into(), pattern.clone());
    }
    serde_yaml::to_string(&doc).expect("yaml")
}

#[test]
fn pattern_cases() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/cases/patterns.yaml")).expect("cases");
    let cases: Vec<Case> = serde_yaml::from_str(&text).expect("case schema");
    let filter = std::env::var("KYVM_CASE").unwrap_or_default();
    let mut failures = Vec::new();
    for case in cases.iter().filter(|c| c.name.contains(&filter)) {
        let mut resource = case.resource.clone();
        if let Value::Mapping(m) = &mut resource {
            m.insert("apiVersion".into(), "v1".into());
            m.insert("kind".into(), "Thing".into());
        }
        let want = match case.expect.as_str() {
            "pass" => Outcome::Pass,
            "skip" => Outcome::Skip,
            "error" => Outcome::Error,
            "fail" => Outcome::Fail(case.path.clone().unwrap_or_default()),
            other => panic!("{}: unknown expectation {other}", case.name),
        };
        let results = eval::run(&policy(&case.pattern), &serde_yaml::to_string(&resource).expect("yaml"));
        let got = match results.as_slice() {
            [r] => match r.status {
                RuleStatus::Pass => Outcome::Pass,
                RuleStatus::Skip => Outcome::Skip,
                RuleStatus::Error => Outcome::Error,
                RuleStatus::Fail => Outcome::Fail(r.message.rsplit_once("failed at path ").map(|(_, p)| p.to_string()).unwrap_or_default()),
                RuleStatus::Warn => Outcome::Error,
            },
            other => {
                failures.push(format!("{}: expected one result, got {other:?}", case.name));
                continue;
            }
        };
        if got != want {
            failures.push(format!("{} ({}): VM gave {got:?}, want {want:?}", case.name, case.why));
        }
        let reference = reference::validate(&resource, &case.pattern);
        if reference != want {
            failures.push(format!("{} ({}): reference gave {reference:?}, want {want:?}", case.name, case.why));
        }
    }
    assert!(failures.is_empty(), "{} pattern case(s) failed:\n{}", failures.len(), failures.join("\n"));
}
