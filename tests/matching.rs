//! Data-driven `match`/`exclude` cases (`tests/cases/match.yaml`), compiled from YAML
//! and evaluated on a resource with the given request facts. Every failing case is
//! reported at once; `KYVM_CASE=substring` filters.

use std::collections::BTreeMap;

use bumpalo::collections::Vec as BumpVec;
use kyvm_engine::document::{Member, Value};
use kyvm_engine::request::UserInfo;
use kyvm_engine::{vm, Limits, Operation, Request, Scratch};
use serde::Deserialize;
use serde_yaml::{Mapping, Value as Yaml};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Case {
    name: String,
    #[serde(default)]
    why: Option<String>,
    #[serde(rename = "match")]
    matching: Yaml,
    #[serde(default)]
    exclude: Option<Yaml>,
    resource: Yaml,
    #[serde(default)]
    operation: Option<String>,
    #[serde(default)]
    namespace_labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    user: Option<User>,
    applies: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct User {
    #[serde(default)]
    username: String,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    cluster_roles: Vec<String>,
}

fn policy(case: &Case) -> String {
    let mut rule = Mapping::new();
    rule.insert("name".into(), "r".into());
    rule.insert("match".into(), case.matching.clone());
    if let Some(e) = &case.exclude {
        rule.insert("exclude".into(), e.clone());
    }
    let validate: Yaml = serde_yaml::from_str("pattern: {kind: \"*\"}").unwrap();
    rule.insert("validate".into(), validate);
    let mut doc: Mapping = serde_yaml::from_str("apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p, annotations: {pod-policies.kyverno.io/autogen-controllers: none}}").unwrap();
    let mut spec = Mapping::new();
    spec.insert("rules".into(), Yaml::Sequence(vec![Yaml::Mapping(rule)]));
    doc.insert("spec".into(), Yaml::Mapping(spec));
    serde_yaml::to_string(&doc).unwrap()
}

#[test]
fn match_cases() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/cases/match.yaml")).expect("cases");
    let cases: Vec<Case> = serde_yaml::from_str(&text).expect("case schema");
    let filter = std::env::var("KYVM_CASE").unwrap_or_default();
    let mut failures = Vec::new();
    for case in cases.iter().filter(|c| c.name.contains(&filter)) {
        let comp = kyvm_compiler::compile_str("p.yaml", &policy(case));
        if comp.has_errors() {
            failures.push(format!("{}: does not compile: {:?}", case.name, comp.diagnostics));
            continue;
        }
        let scratch = Scratch::new(Limits::default());
        let arena = scratch.arena();
        let object = kyvm_compiler::resource::to_arena(&case.resource, arena);
        let operation = case.operation.as_deref().and_then(Operation::parse).unwrap_or(Operation::Create);
        let mut req = Request::for_object(object, operation);
        if let Some(labels) = &case.namespace_labels {
            let mut members = BumpVec::new_in(arena);
            for (k, v) in labels {
                members.push(Member { key: arena.alloc_str(k), value: Value::Str(arena.alloc_str(v)) });
            }
            req.namespace_labels = Value::Object(members.into_bump_slice());
        }
        if let Some(u) = &case.user {
            let list = |items: &[String]| -> &[Value<'_>] {
                let mut v = BumpVec::new_in(arena);
                v.extend(items.iter().map(|s| Value::Str(arena.alloc_str(s))));
                v.into_bump_slice()
            };
            req.user = UserInfo {
                username: arena.alloc_str(&u.username),
                groups: list(&u.groups),
                roles: list(&u.roles),
                cluster_roles: list(&u.cluster_roles),
            };
        }
        let eval = vm::evaluate(&comp.program, &req, arena, &scratch.limits).expect("evaluate");
        let applied = !eval.results.is_empty();
        if applied != case.applies {
            failures.push(format!("{}: applies = {applied}, want {} {}", case.name, case.applies, case.why.as_deref().unwrap_or("")));
        }
    }
    assert!(failures.is_empty(), "{} match case(s) failed:\n{}", failures.len(), failures.join("\n"));
}
