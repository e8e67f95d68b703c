//! `kyvm test`: runs Kyverno CLI test suites (`kyverno-test.yaml`).
//!
//! A suite names policies, resources, an optional values file and user-info file, and the
//! expected result of each (policy, rule, resource). kyvm compiles the policies, evaluates
//! every resource, and scores each row strictly: the engine's result must equal the
//! expected one, except that an expected `skip` is also met when the rule did not apply
//! at all. A row `rule: X` for a pod controller is answered by `autogen-X`, for a CronJob
//! by `autogen-cronjob-X`.
//!
//! A row with `patchedResources` also compares the resource as the row's policy left it
//! (after every mutation up to that policy) with the file, as data: Kyverno's tidying
//! (nulls, empty maps and lists ignored), the `default` namespace on both sides when
//! missing. A mismatch fails the row with the first difference in `reason`. As in
//! Kyverno, a `fail` row with a resource file holds when the resources differ.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use kyvm_compiler::{compile_paths, Compilation};
use kyvm_engine::{Limits, Scratch};
use serde::{Deserialize, Serialize};

use crate::resources::{self, Resource};
use crate::run::{self, Inputs, Outcome, ResourceRun};
use crate::values::{self, UserInfoFile, ValuesFile};

/// The test file's name.
pub const TEST_FILE_NAME: &str = "kyverno-test.yaml";

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestFile {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub policies: Vec<String>,
    #[serde(default)]
    pub resources: Vec<String>,
    /// Path of the values file (`variables:` in the test file).
    #[serde(default)]
    pub variables: Option<String>,
    #[serde(default)]
    pub userinfo: Option<String>,
    #[serde(default)]
    pub results: Vec<ExpectedResult>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpectedResult {
    #[serde(default)]
    pub policy: String,
    #[serde(default)]
    pub rule: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub resources: Vec<String>,
    /// Deprecated single-resource form.
    #[serde(default)]
    pub resource: Option<String>,
    #[serde(default)]
    pub result: String,
    #[serde(default)]
    pub patched_resources: Option<String>,
    #[serde(default)]
    pub generated_resource: Option<String>,
    /// The resource a `generate.clone` rule copies.
    #[serde(default)]
    pub clone_source_resource: Option<String>,
}

/// One scored row: one resource name under one `results` entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    pub policy: String,
    pub rule: String,
    pub kind: String,
    /// Exactly as written in the test file.
    pub resource: String,
    pub expected: String,
    /// `pass|fail|warn|error|skip`, or `none` when the rule gave no result.
    pub actual: String,
    pub ok: bool,
    pub reason: String,
    /// The rule's message, when it gave a result.
    #[serde(default)]
    pub message: String,
    /// `apiVersion/Kind/namespace/name` of the resource the row was answered from, for
    /// the table.
    #[serde(skip)]
    pub display: Option<String>,
}

/// One suite's outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuiteReport {
    /// The folder of the `kyverno-test.yaml`.
    pub path: String,
    /// Why the suite could not run, if it could not.
    pub error: Option<String>,
    pub rows: Vec<Row>,
}

impl SuiteReport {
    pub fn passed(&self) -> bool {
        self.error.is_none() && self.rows.iter().all(|r| r.ok)
    }
}

/// Finds every `kyverno-test.yaml` under the paths (hidden folders included: suites live
/// in `.kyverno-test/`).
pub fn discover(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_file() {
            out.push(p.clone());
        } else {
            walk(p, &mut out);
        }
    }
    out.sort();
    out.dedup();
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out);
        } else if p.file_name().and_then(|n| n.to_str()) == Some(TEST_FILE_NAME) {
            out.push(p);
        }
    }
}

/// Runs one suite.
pub fn run_suite(test_file: &Path) -> SuiteReport {
    let dir = test_file.parent().unwrap_or(Path::new("."));
    let mut report = SuiteReport { path: dir.display().to_string(), error: None, rows: Vec::new() };
    let test: TestFile = match values::read_yaml(test_file) {
        Ok(t) => t,
        Err(e) => {
            report.error = Some(format!("invalid test file: {e}"));
            return report;
        }
    };
    let outcome =
        prepare(dir, &test).and_then(|(comp, resources, inputs)| evaluate_all(&comp, &resources, &inputs).map(|o| (resources, o)));
    match outcome {
        Ok((resources, outcomes)) => report.rows = score(&test, dir, &resources, &outcomes),
        Err(e) => {
            report.error = Some(e.clone());
            report.rows = unscored_rows(&test, &e);
        }
    }
    report
}

struct LoadedInputs {
    values: Option<ValuesFile>,
    user: Option<UserInfoFile>,
    clone_sources: Vec<serde_yaml::Value>,
}

fn prepare(dir: &Path, test: &TestFile) -> Result<(Compilation, Vec<Resource>, LoadedInputs), String> {
    let policy_paths: Vec<PathBuf> = test.policies.iter().map(|p| dir.join(p)).collect();
    for p in &policy_paths {
        if !p.exists() {
            return Err(format!("policy file not found: {}", p.display()));
        }
    }
    let comp = compile_paths(&policy_paths);
    let resource_paths: Vec<PathBuf> = test.resources.iter().map(|p| dir.join(p)).collect();
    let resources = resources::load(&resource_paths).map_err(|e| e.to_string())?;
    let values = match &test.variables {
        Some(v) => Some(values::read_yaml::<ValuesFile>(&dir.join(v))?),
        None => None,
    };
    let user = match &test.userinfo {
        Some(u) => Some(values::read_yaml::<UserInfoFile>(&dir.join(u))?),
        None => None,
    };
    let mut clone_sources = Vec::new();
    for file in test.results.iter().filter_map(|r| r.clone_source_resource.as_ref()) {
        let loaded = resources::load_file(&dir.join(file)).map_err(|e| e.to_string())?;
        clone_sources.extend(loaded.into_iter().map(|r| r.value));
    }
    Ok((comp, resources, LoadedInputs { values, user, clone_sources }))
}

/// What happened to each resource, by index.
fn evaluate_all(comp: &Compilation, resources: &[Resource], inputs: &LoadedInputs) -> Result<Vec<ResourceRun>, String> {
    let mut scratch = Scratch::new(Limits::default());
    let inputs = Inputs { values: inputs.values.as_ref(), user: inputs.user.as_ref(), clone_sources: &inputs.clone_sources };
    resources.iter().map(|r| run::evaluate_resource(comp, r, inputs, &mut scratch).map_err(|e| format!("{}: {e}", r.name))).collect()
}

const POD_CONTROLLERS: [&str; 6] = ["DaemonSet", "Deployment", "Job", "StatefulSet", "ReplicaSet", "ReplicationController"];

/// Every row of the test file with the engine's answer.
fn score(test: &TestFile, dir: &Path, resources: &[Resource], runs: &[ResourceRun]) -> Vec<Row> {
    let mut rows = Vec::new();
    for expected in &test.results {
        for written in row_resources(expected) {
            let (namespace, name) = match written.split_once('/') {
                Some((ns, n)) => (Some(ns), n),
                None => (None, written.as_str()),
            };
            let named = |kind_must_match: bool| -> Vec<usize> {
                resources
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| r.name == name && (!kind_must_match || expected.kind.is_empty() || r.kind == expected.kind))
                    .filter(|(_, r)| namespace.is_none_or(|ns| r.display_namespace() == ns))
                    .map(|(i, _)| i)
                    .collect()
            };
            // Rows name the kind; Kyverno's recent CLI ignores it, so fall back to the name.
            let mut candidates = named(true);
            if candidates.is_empty() {
                candidates = named(false);
            }
            let actual = if candidates.is_empty() {
                None
            } else {
                candidates.iter().find_map(|&i| find_outcome(&runs[i].outcomes, &expected.policy, &expected.rule, &expected.kind))
            };
            // The row also checks the mutated resource, when it names one.
            let resource_check = match (&expected.patched_resources, &expected.generated_resource, candidates.first()) {
                (Some(file), _, Some(&i)) => {
                    let actual = runs[i].patched.iter().find(|(p, _)| *p == expected.policy).map_or(&resources[i].value, |(_, v)| v);
                    compare_with_file(actual, &dir.join(file), &resources[i].kind, &resources[i].name)
                }
                (None, Some(file), Some(&i)) => {
                    let rule = actual.map_or(expected.rule.as_str(), |o| o.rule.as_str());
                    match runs[i].generated.iter().find(|(p, r, _)| *p == expected.policy && r == rule) {
                        Some((_, _, generated)) => {
                            let text = |k: &str| generated.get(k).and_then(serde_yaml::Value::as_str).unwrap_or("").to_string();
                            let name =
                                generated.get("metadata").and_then(|m| m.get("name")).and_then(serde_yaml::Value::as_str).unwrap_or("");
                            compare_with_file(generated, &dir.join(file), &text("kind"), name)
                        }
                        None => Err("Resource diff: the rule generated nothing".to_string()),
                    }
                }
                _ => Ok(()),
            };
            let actual_status = actual.map_or("none", |o| o.status.as_str());
            let want = expected.result.to_ascii_lowercase();
            let status_ok = actual_status == want || (want == "skip" && actual_status == "none");
            // Kyverno reads a `fail` row with a resource file as "the policies must not
            // produce this resource": the row holds when the resources differ.
            let negated = want == "fail" && expected.patched_resources.is_some() && actual.is_some();
            let ok = if negated { resource_check.is_err() } else { status_ok && resource_check.is_ok() };
            let reason = if candidates.is_empty() {
                format!("resource {} of kind {} not found in the test's resources", written, expected.kind)
            } else if negated && !ok {
                "Resource matched, but the row expects it not to".to_string()
            } else if let (false, Err(diff)) = (negated, &resource_check) {
                diff.clone()
            } else if ok {
                "Ok".to_string()
            } else if actual.is_none() {
                "Not found".to_string()
            } else {
                format!("Want {want}, got {actual_status}")
            };
            let display = candidates.first().map(|&i| {
                let r = &resources[i];
                format!("{}/{}/{}/{}", r.api_version, r.kind, r.display_namespace(), r.name)
            });
            rows.push(Row {
                policy: expected.policy.clone(),
                rule: expected.rule.clone(),
                kind: expected.kind.clone(),
                resource: written.clone(),
                display,
                expected: want,
                actual: actual_status.to_string(),
                ok,
                reason,
                message: actual.map(|o| o.message.clone()).unwrap_or_default(),
            });
        }
    }
    rows
}

/// Compares a resource with the expected one in `file` (the object of that kind and name, or
/// the file's only object) as data, after Kyverno's tidying: nulls, empty maps and empty
/// lists do not count, and both sides get the `default` namespace when they have none.
fn compare_with_file(actual: &serde_yaml::Value, file: &Path, kind: &str, name: &str) -> Result<(), String> {
    let expected = resources::load_file(file).map_err(|e| format!("Resource error: {e}"))?;
    let wanted = expected
        .iter()
        .find(|r| r.kind == kind && r.name == name)
        .or_else(|| (expected.len() == 1).then(|| &expected[0]))
        .ok_or_else(|| format!("Resource error: {} has no {kind} {name}", file.display()))?;
    let actual = Resource::from_value(file, actual.clone()).map(|r| r.value).unwrap_or_else(|_| actual.clone());
    match first_difference(&tidy(&actual), &tidy(&wanted.value), String::new()) {
        None => Ok(()),
        Some(diff) => Err(format!("Resource diff: {diff}")),
    }
}

/// Kyverno's `Tidy`: drops nulls, empty maps and empty lists, recursively.
fn tidy(v: &serde_yaml::Value) -> serde_yaml::Value {
    use serde_yaml::Value as Y;
    fn go(v: &Y) -> Option<Y> {
        match v {
            Y::Null => None,
            Y::Mapping(m) => {
                let out: serde_yaml::Mapping = m.iter().filter_map(|(k, v)| go(v).map(|v| (k.clone(), v))).collect();
                (!out.is_empty()).then_some(Y::Mapping(out))
            }
            Y::Sequence(items) => {
                let out: Vec<Y> = items.iter().filter_map(go).collect();
                (!out.is_empty()).then_some(Y::Sequence(out))
            }
            Y::Tagged(t) => go(&t.value),
            other => Some(other.clone()),
        }
    }
    go(v).unwrap_or(Y::Null)
}

/// The first place where two documents differ, as `PATH: want X, got Y`.
fn first_difference(actual: &serde_yaml::Value, expected: &serde_yaml::Value, path: String) -> Option<String> {
    use serde_yaml::Value as Y;
    let show = |v: &Y| serde_json::to_string(v).unwrap_or_default();
    match (actual, expected) {
        (Y::Mapping(a), Y::Mapping(e)) => {
            for (k, ev) in e {
                let key = k.as_str().map_or_else(|| show(k), str::to_string);
                match a.get(k) {
                    None => return Some(format!("{path}/{key}: want {}, got nothing", show(ev))),
                    Some(av) => {
                        if let Some(d) = first_difference(av, ev, format!("{path}/{key}")) {
                            return Some(d);
                        }
                    }
                }
            }
            a.iter().find(|(k, _)| !e.contains_key(*k)).map(|(k, av)| {
                let key = k.as_str().map_or_else(|| show(k), str::to_string);
                format!("{path}/{key}: want nothing, got {}", show(av))
            })
        }
        (Y::Sequence(a), Y::Sequence(e)) => {
            for (i, (av, ev)) in a.iter().zip(e).enumerate() {
                if let Some(d) = first_difference(av, ev, format!("{path}/{i}")) {
                    return Some(d);
                }
            }
            (a.len() != e.len()).then(|| format!("{path}: want {} elements, got {}", e.len(), a.len()))
        }
        (Y::Number(a), Y::Number(e)) if a.as_f64() == e.as_f64() => None,
        (a, e) if a == e => None,
        (a, e) => Some(format!("{}: want {}, got {}", if path.is_empty() { "/" } else { &path }, show(e), show(a))),
    }
}

fn row_resources(expected: &ExpectedResult) -> Vec<String> {
    let mut names = expected.resources.clone();
    if let Some(r) = &expected.resource {
        names.push(r.clone());
    }
    names
}

/// The outcome answering a row: the rule itself, or the autogen rule for controllers.
fn find_outcome<'o>(outcomes: &'o [Outcome], policy: &str, rule: &str, kind: &str) -> Option<&'o Outcome> {
    let by_name = |name: &str| outcomes.iter().find(|o| o.policy == policy && o.rule == name);
    by_name(rule).or_else(|| {
        if POD_CONTROLLERS.contains(&kind) {
            by_name(&autogen_name("autogen", rule))
        } else if kind == "CronJob" {
            by_name(&autogen_name("autogen-cronjob", rule))
        } else {
            None
        }
    })
}

fn autogen_name(prefix: &str, rule: &str) -> String {
    let mut n = format!("{prefix}-{rule}");
    if n.len() > 63 {
        let mut cut = 63;
        while !n.is_char_boundary(cut) {
            cut -= 1;
        }
        n.truncate(cut);
    }
    n
}

fn unscored_rows(test: &TestFile, error: &str) -> Vec<Row> {
    let mut rows = Vec::new();
    for expected in &test.results {
        for written in row_resources(expected) {
            rows.push(Row {
                policy: expected.policy.clone(),
                rule: expected.rule.clone(),
                kind: expected.kind.clone(),
                resource: written,
                expected: expected.result.to_ascii_lowercase(),
                actual: "none".into(),
                ok: false,
                reason: format!("suite could not run: {error}"),
                message: String::new(),
                display: None,
            });
        }
    }
    rows
}

/// Renders suites as Kyverno's CLI does: a table per suite and a summary.
pub fn render_human(reports: &[SuiteReport]) -> String {
    let mut out = String::new();
    let mut passed = 0usize;
    let mut failed = 0usize;
    for report in reports {
        out.push_str(&format!("Loading test  ( {}/{} ) ...\n", report.path, TEST_FILE_NAME));
        match &report.error {
            Some(e) => out.push_str(&format!("  Error: {e}\n")),
            None => {
                out.push_str("  Loading values/variables ...\n  Loading policies ...\n  Loading resources ...\n  Checking results ...\n\n")
            }
        }
        let mut table = vec![vec!["ID".to_string(), "POLICY".into(), "RULE".into(), "RESOURCE".into(), "RESULT".into(), "REASON".into()]];
        for (i, row) in report.rows.iter().enumerate() {
            if row.ok {
                passed += 1;
            } else {
                failed += 1;
            }
            table.push(vec![
                (i + 1).to_string(),
                row.policy.clone(),
                row.rule.clone(),
                row.display.clone().unwrap_or_else(|| format!("{}/{}", row.kind, row.resource)),
                if row.ok { "Pass".into() } else { "Fail".into() },
                row.reason.clone(),
            ]);
        }
        if report.rows.is_empty() && report.error.is_none() {
            out.push_str("  (no results in this test)\n");
        } else {
            out.push_str(&render_table(&table));
        }
        out.push('\n');
    }
    out.push_str(&format!("Test Summary: {passed} tests passed and {failed} tests failed\n"));
    out
}

fn render_table(rows: &[Vec<String>]) -> String {
    let cols = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..cols).map(|c| rows.iter().map(|r| r.get(c).map_or(0, |s| s.chars().count())).max().unwrap_or(0)).collect();
    let rule: String = {
        let mut s = String::from("│");
        for w in &widths {
            s.push_str(&"─".repeat(w + 2));
            s.push('│');
        }
        s.push('\n');
        s
    };
    let mut out = rule.clone();
    for (i, row) in rows.iter().enumerate() {
        out.push('│');
        for (c, w) in widths.iter().enumerate() {
            let cell = row.get(c).map_or("", String::as_str);
            out.push(' ');
            out.push_str(cell);
            out.push_str(&" ".repeat(w - cell.chars().count() + 1));
            out.push('│');
        }
        out.push('\n');
        if i == 0 {
            out.push_str(&rule);
        }
    }
    out.push_str(&rule);
    out
}

/// The `--output json` document.
#[derive(Debug, Serialize, Deserialize)]
pub struct JsonOutput {
    pub tests: Vec<SuiteReport>,
}

/// Summary counts of rows, for callers that want them.
pub fn count(reports: &[SuiteReport]) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::new();
    for r in reports {
        for row in &r.rows {
            *m.entry(if row.ok { "passed" } else { "failed" }).or_insert(0) += 1;
        }
        if r.error.is_some() {
            *m.entry("errors").or_insert(0) += 1;
        }
    }
    m
}
