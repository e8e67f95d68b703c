//! The `kyvm` binary end to end: exit codes, output formats, diagnostics for bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn kyvm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kyvm")).args(args).current_dir(env!("CARGO_MANIFEST_DIR")).output().expect("run kyvm")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn seeds() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/examples/seed-scenarios")
}

#[test]
fn seed_scenarios_of_validation_and_pod_security_pass() {
    for seed in
        ["1-disallow-privileged", "2-image-registry", "3-namespace-pss-labels", "4-pod-security-restricted", "5-pod-security-exemption"]
    {
        let path = seeds().join(seed);
        let o = kyvm(&["test", path.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{seed}:\n{}{}", stdout(&o), stderr(&o));
        assert!(stdout(&o).contains("tests failed"), "{}", stdout(&o));
        assert!(stdout(&o).ends_with("and 0 tests failed\n"), "{}", stdout(&o));
    }
}

#[test]
fn test_json_output_is_one_document_with_every_row() {
    let path = seeds().join("1-disallow-privileged");
    let o = kyvm(&["test", path.to_str().unwrap(), "--output", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("one JSON document");
    let tests = doc["tests"].as_array().expect("tests");
    assert_eq!(tests.len(), 1);
    assert!(tests[0]["error"].is_null());
    let rows = tests[0]["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 10);
    for row in rows {
        for field in ["policy", "rule", "kind", "resource", "expected", "actual", "ok", "reason"] {
            assert!(row.get(field).is_some(), "row lacks {field}: {row}");
        }
        assert_eq!(row["ok"], true, "{row}");
    }
    let deployment = rows.iter().find(|r| r["kind"] == "Deployment" && r["rule"] == "validate-privileged").expect("autogen row");
    assert_eq!(deployment["actual"], "fail");
}

/// A suite whose `patchedResources` file does not match what the policy produces.
fn mismatching_mutation_suite() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kyvm-cli-mutate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let write = |name: &str, text: &str| std::fs::write(dir.join(name), text).expect("write");
    write(
        "policy.yaml",
        "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: add-team}\nspec:\n  rules:\n  - name: add-team\n    match: {any: [{resources: {kinds: [Pod]}}]}\n    mutate:\n      patchStrategicMerge: {metadata: {labels: {team: blue}}}\n",
    );
    write("pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec: {containers: [{name: c, image: nginx}]}\n");
    write(
        "patched.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web, labels: {team: red}}\nspec: {containers: [{name: c, image: nginx}]}\n",
    );
    write(
        "kyverno-test.yaml",
        "apiVersion: cli.kyverno.io/v1alpha1\nkind: Test\nmetadata: {name: t}\npolicies: [policy.yaml]\nresources: [pod.yaml]\nresults:\n- {policy: add-team, rule: add-team, kind: Pod, resources: [web], patchedResources: patched.yaml, result: pass}\n",
    );
    dir
}

#[test]
fn a_patched_resource_mismatch_fails_the_row_with_a_diff() {
    let dir = mismatching_mutation_suite();
    let o = kyvm(&["test", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("/metadata/labels/team: want \"red\", got \"blue\""), "{}", stdout(&o));
    let o = kyvm(&["test", dir.to_str().unwrap(), "--output", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json output");
    let row = &json["tests"][0]["rows"][0];
    assert_eq!(row["ok"], false, "{row}");
    assert_eq!(row["actual"], "pass", "{row}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn malformed_policy_gives_positioned_diagnostics_and_exit_3() {
    let o = kyvm(&["compile", "tests/fixtures/bad-policy.yaml"]);
    assert_eq!(o.status.code(), Some(3));
    let err = stderr(&o);
    // A type error (kinds must be a list) stops serde at its YAML path, with a position.
    assert!(err.contains("error[K0100]"), "{err}");
    assert!(err.contains("tests/fixtures/bad-policy.yaml:12:"), "{err}");
    assert!(err.contains("spec.rules[0].match.any[0].resources.kinds"), "{err}");
}

#[test]
fn every_problem_of_a_valid_shape_policy_is_reported_in_one_run() {
    let dir = std::env::temp_dir().join(format!("kyvm-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("two-problems.yaml");
    std::fs::write(
        &file,
        "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\nspec:\n  validationFailureAction: Sometimes\n  rules:\n  - name: r\n    match: {any: [{resources: {kinds: [Pod]}}]}\n    validate:\n      pattern:\n        spec:\n          ^(containers): notalist\n",
    )
    .unwrap();
    let o = kyvm(&["compile", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3));
    let err = stderr(&o);
    assert!(err.contains("error[K0120]: invalid value for `validationFailureAction`"), "{err}");
    assert!(err.contains("two-problems.yaml:5:"), "{err}");
    assert!(err.contains("error[K0130]"), "{err}");
    assert!(err.contains("two-problems.yaml:12:"), "{err}");
    assert!(err.contains("= at: spec.rules[0].validate.pattern.spec.^(containers)"), "{err}");
    assert!(err.contains("= expected: a list whose elements are maps"), "{err}");
}

#[test]
fn yaml_syntax_errors_are_positioned() {
    let o = kyvm(&["compile", "tests/fixtures/syntax-error.yaml"]);
    assert_eq!(o.status.code(), Some(3));
    let err = stderr(&o);
    assert!(err.contains("error[K0001]"), "{err}");
    assert!(err.contains("tests/fixtures/syntax-error.yaml:"), "{err}");
}

#[test]
fn other_kinds_are_skipped_with_a_note() {
    let o = kyvm(&["compile", "tests/fixtures/policy.yaml"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("note[K0010]: skipped ConfigMap `not-a-policy`"), "{}", stderr(&o));
}

#[test]
fn emit_asm_shows_the_program() {
    let o = kyvm(&["compile", "tests/fixtures/policy.yaml", "--emit", "asm"]);
    assert_eq!(o.status.code(), Some(0));
    let asm = stdout(&o);
    assert!(asm.contains("; policy require-labels"), "{asm}");
    assert!(asm.contains("check_match"), "{asm}");
    assert!(asm.contains("check_field"), "{asm}");
    assert!(asm.contains("autogen-check-for-labels"), "{asm}");
}

#[test]
fn apply_prints_kyverno_style_results() {
    let o = kyvm(&["apply", "tests/fixtures/policy.yaml", "--resource", "tests/fixtures/pods.yaml"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("Applying 3 policy rule(s) to 2 resource(s)..."), "{out}");
    assert!(out.contains("policy require-labels -> resource team-a/Pod/unlabelled failed:"), "{out}");
    assert!(
        out.contains(
            "1. check-for-labels: validation error: The label `app` is required. rule check-for-labels failed at path /metadata/labels/"
        ),
        "{out}"
    );
    assert!(out.contains("pass: 1, fail: 1, warn: 0, error: 0, skip: 0"), "{out}");
}

#[test]
fn apply_policy_report() {
    let o = kyvm(&["apply", "tests/fixtures/policy.yaml", "-r", "tests/fixtures/pods.yaml", "--policy-report", "--output-format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON report");
    assert_eq!(report["apiVersion"], "wgpolicyk8s.io/v1alpha2");
    assert_eq!(report["kind"], "ClusterPolicyReport");
    assert_eq!(report["summary"]["pass"], 1);
    assert_eq!(report["summary"]["fail"], 1);
    let results = report["results"].as_array().unwrap();
    assert_eq!(results[0]["source"], "kyverno");
    assert_eq!(results[0]["category"], "Best Practices");
}

#[test]
fn malformed_resource_file_is_named() {
    let o = kyvm(&["apply", "tests/fixtures/policy.yaml", "-r", "tests/fixtures/bad-resource.yaml"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("tests/fixtures/bad-resource.yaml: invalid YAML"), "{err}");
}

#[test]
fn bundled_examples_pass() {
    let o = kyvm(&["test", "../examples"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("Test Summary: 28 tests passed and 0 tests failed"), "{}", stdout(&o));
}

#[test]
fn emit_asm_lists_the_checks_of_a_pod_security_rule() {
    let policy = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/conformance/kyverno-policies/pod-security/subrule/restricted/restricted-exclude-capabilities/restricted-exclude-capabilities.yaml");
    let o = kyvm(&["compile", "--emit", "asm", policy.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let asm = stdout(&o);
    assert!(asm.contains("pod_security        restricted:latest (19 checks, 1 exclusions)"), "{asm}");
    for line in ["check capabilities_restricted", "check seccompProfile_restricted", "check runAsNonRoot", "check hostPathVolumes"] {
        assert!(asm.contains(line), "{line} missing:\n{asm}");
    }
    assert!(
        asm.contains(
            r#"exclude "Capabilities" [capabilities_baseline, capabilities_restricted] images=["ghcr.io/kyverno/test-nginx*", "redis*"]"#
        ),
        "{asm}"
    );
    assert!(asm.contains("; rule autogen-cronjob-restricted-exempt-capabilities"), "{asm}");
}

#[test]
fn generate_clone_copies_the_clone_source_and_apply_writes_mutated_resources() {
    let dir = std::env::temp_dir().join(format!("kyvm-cli-generate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let write = |name: &str, text: &str| std::fs::write(dir.join(name), text).expect("write");
    write(
        "policy.yaml",
        "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: sync-secret}\nspec:\n  rules:\n  - name: clone-secret\n    match: {any: [{resources: {kinds: [Namespace]}}]}\n    generate:\n      apiVersion: v1\n      kind: Secret\n      name: regcred\n      namespace: '{{request.object.metadata.name}}'\n      synchronize: true\n      clone: {namespace: default, name: regcred}\n  - name: label\n    match: {any: [{resources: {kinds: [Namespace]}}]}\n    mutate:\n      patchStrategicMerge: {metadata: {labels: {+(team): none}}}\n",
    );
    write("ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: team-a}\n");
    write("source.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: regcred, namespace: default, uid: x}\ndata: {token: YQ==}\n");
    write("generated.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: regcred, namespace: team-a}\ndata: {token: YQ==}\n");
    write(
        "kyverno-test.yaml",
        "apiVersion: cli.kyverno.io/v1alpha1\nkind: Test\nmetadata: {name: t}\npolicies: [policy.yaml]\nresources: [ns.yaml]\nresults:\n- {policy: sync-secret, rule: clone-secret, kind: Namespace, resources: [team-a], generatedResource: generated.yaml, cloneSourceResource: source.yaml, result: pass}\n",
    );
    let o = kyvm(&["test", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));

    let out = dir.join("mutated.yaml");
    let o = kyvm(&[
        "apply",
        dir.join("policy.yaml").to_str().unwrap(),
        "-r",
        dir.join("ns.yaml").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    let written = std::fs::read_to_string(&out).expect("mutated resources written");
    assert!(written.contains("team: none"), "{}\n{}", written, stdout(&o));
    let _ = std::fs::remove_dir_all(&dir);
}
