//! The upstream Pod Security fixtures (`../shared/conformance/pod-security`, read in
//! place) as Kyverno test suites, run through the binary the way a user runs them.
//!
//! For each `LEVEL/vX.Y` folder the test writes a suite to a scratch directory: one
//! `ClusterPolicy` with `podSecurity: {level: LEVEL, version: vX.Y}`, every fixture Pod
//! renamed to a unique name (`restricted-v1-25-fail-runasuser0`), and a
//! `kyverno-test.yaml` expecting `pass` for `pass/` and `fail` for `fail/`. Then
//! `kyvm test DIR --output json` must report every row `ok`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const FIXTURES: usize = 4537;

fn fixture_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/conformance/pod-security"))
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    entries
}

fn file_name(p: &Path) -> String {
    p.file_name().and_then(|f| f.to_str()).unwrap_or_default().to_string()
}

/// Writes the suite of one level/version folder into `out`; returns its fixture count.
fn write_suite(level: &str, version: &str, version_dir: &Path, out: &Path) -> usize {
    std::fs::create_dir_all(out).expect("suite dir");
    let policy_name = format!("pss-{level}-{}", version.replace('.', "-"));
    let policy = format!(
        "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: {policy_name}\nspec:\n  validationFailureAction: Enforce\n  rules:\n  - name: check\n    match:\n      any:\n      - resources:\n          kinds: [Pod]\n    validate:\n      podSecurity:\n        level: {level}\n        version: {version}\n"
    );
    std::fs::write(out.join("policy.yaml"), policy).expect("policy");

    let mut resources = String::new();
    let mut results = String::new();
    let mut count = 0;
    for (outcome, expect) in [("pass", "pass"), ("fail", "fail")] {
        let dir = version_dir.join(outcome);
        if !dir.is_dir() {
            continue;
        }
        let mut names = Vec::new();
        for path in sorted_entries(&dir) {
            let text = std::fs::read_to_string(&path).expect("fixture");
            let mut pod: serde_yaml::Value = serde_yaml::from_str(&text).expect("fixture YAML");
            let stem = file_name(&path).trim_end_matches(".yaml").replace('_', "-");
            let name = format!("{level}-{}-{outcome}-{stem}", version.replace('.', "-"));
            let metadata = pod.get_mut("metadata").and_then(serde_yaml::Value::as_mapping_mut).expect("fixture metadata");
            metadata.insert("name".into(), name.clone().into());
            resources.push_str("---\n");
            resources.push_str(&serde_yaml::to_string(&pod).expect("yaml"));
            names.push(name);
            count += 1;
        }
        if !names.is_empty() {
            results.push_str(&format!("- policy: {policy_name}\n  rule: check\n  kind: Pod\n  result: {expect}\n  resources:\n"));
            for n in names {
                results.push_str(&format!("  - {n}\n"));
            }
        }
    }
    std::fs::write(out.join("resources.yaml"), resources).expect("resources");
    let test = format!(
        "apiVersion: cli.kyverno.io/v1alpha1\nkind: Test\nmetadata:\n  name: {policy_name}\npolicies:\n- policy.yaml\nresources:\n- resources.yaml\nresults:\n{results}"
    );
    std::fs::write(out.join("kyverno-test.yaml"), test).expect("test");
    count
}

#[test]
fn fixtures_pass_through_kyvm_test() {
    let root = fixture_dir();
    let scratch = std::env::temp_dir().join(format!("kyvm-pss-suite-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let mut fixtures = 0;
    for level_dir in sorted_entries(&root) {
        let level = file_name(&level_dir);
        for version_dir in sorted_entries(&level_dir) {
            let version = file_name(&version_dir);
            fixtures += write_suite(&level, &version, &version_dir, &scratch.join(format!("{level}-{version}")));
        }
    }
    assert_eq!(fixtures, FIXTURES, "the pinned fixtures hold {FIXTURES} Pods");

    let output = Command::new(env!("CARGO_BIN_EXE_kyvm")).arg("test").arg(&scratch).args(["--output", "json"]).output().expect("run kyvm");
    let report: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("kyvm test --output json: {e}\nstderr: {}", String::from_utf8_lossy(&output.stderr)));
    let tests = report["tests"].as_array().expect("tests");
    let mut rows = 0;
    let mut bad = Vec::new();
    for t in tests {
        if let Some(e) = t["error"].as_str() {
            bad.push(format!("{}: {e}", t["path"]));
        }
        for row in t["rows"].as_array().into_iter().flatten() {
            rows += 1;
            if row["ok"] != Value::Bool(true) {
                bad.push(format!(
                    "{} {}: expected {}, got {} ({})",
                    row["policy"], row["resource"], row["expected"], row["actual"], row["message"]
                ));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    assert!(bad.is_empty(), "{} of {rows} rows failed:\n{}", bad.len(), bad.join("\n"));
    assert_eq!(rows, FIXTURES, "one row per fixture");
    assert!(output.status.success(), "kyvm test exits 0 when every row passes");
}
