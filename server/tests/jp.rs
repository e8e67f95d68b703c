//! `kyvm jp`: the JMESPath compliance suite (`../shared/conformance/jmespath`, read in
//! place) through the binary, the way a user runs it: `kyvm jp query -i given.json EXPR`
//! prints the expected result as JSON and exits 0, or exits non-zero with a one-line
//! error naming the expected error kind.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn kyvm() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kyvm"))
}

fn suite_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/conformance/jmespath"))
}

/// JSON equality with numbers compared by value (`1 == 1.0`).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q)),
        (Value::Object(x), Value::Object(y)) => x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w))),
        _ => a == b,
    }
}

struct Case {
    file: String,
    given: PathBuf,
    expression: String,
    result: Option<Value>,
    error: Option<String>,
}

fn cases(scratch: &Path) -> Vec<Case> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(suite_dir())
        .expect("the conformance data sits beside the repository")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let groups: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        for (g, group) in groups.iter().enumerate() {
            let given = scratch.join(format!("{name}-{g}.json"));
            std::fs::write(&given, serde_json::to_string(&group["given"]).unwrap()).unwrap();
            for case in group["cases"].as_array().unwrap() {
                out.push(Case {
                    file: name.clone(),
                    given: given.clone(),
                    expression: case["expression"].as_str().unwrap().to_string(),
                    result: case.get("result").cloned(),
                    error: case.get("error").and_then(Value::as_str).map(String::from),
                });
            }
        }
    }
    out
}

/// Runs one case; `None` when it behaves as the suite says.
fn check(case: &Case) -> Option<String> {
    let out = kyvm().args(["jp", "query", "-i"]).arg(&case.given).arg("--").arg(&case.expression).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let what = format!("{} `{}`", case.file, case.expression);
    if let Some(kind) = &case.error {
        if out.status.success() {
            return Some(format!("{what}: expected error {kind}, got {}", stdout.trim()));
        }
        if stderr.trim().lines().count() != 1 || !stderr.contains(kind.as_str()) {
            return Some(format!("{what}: expected a one-line {kind} error, got {stderr:?}"));
        }
        return None;
    }
    if !out.status.success() {
        return Some(format!("{what}: unexpected error {}", stderr.trim()));
    }
    // Benchmark cases carry no result: evaluating without error is the check.
    let Some(expected) = &case.result else { return None };
    match serde_json::from_str::<Value>(stdout.trim()) {
        Ok(actual) if same(&actual, expected) => None,
        Ok(actual) => Some(format!("{what}: expected {expected}, got {actual}")),
        Err(e) => Some(format!("{what}: output is not JSON ({e}): {stdout:?}")),
    }
}

#[test]
fn compliance_suite_through_the_cli() {
    let scratch = std::env::temp_dir().join(format!("kyvm-jp-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    let cases = cases(&scratch);
    assert!(cases.len() >= 900, "the suite has {} cases", cases.len());
    // Spawning is the cost: spread the cases over a few threads.
    let chunks: Vec<&[Case]> = cases.chunks(cases.len().div_ceil(4)).collect();
    let failures: Vec<String> = std::thread::scope(|s| {
        chunks
            .iter()
            .map(|chunk| s.spawn(|| chunk.iter().filter_map(check).collect::<Vec<_>>()))
            .collect::<Vec<_>>()
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let _ = std::fs::remove_dir_all(&scratch);
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn query_reads_yaml_and_prints_json() {
    let dir = std::env::temp_dir().join(format!("kyvm-jp-yaml-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("pod.yaml");
    std::fs::write(&input, "spec:\n  containers:\n  - name: a\n    image: nginx:1.25\n  - name: b\n    image: redis\n").unwrap();
    let out = kyvm().args(["jp", "query", "-i"]).arg(&input).arg("spec.containers[].image").output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "[\n  \"nginx:1.25\",\n  \"redis\"\n]\n");
    let out = kyvm().args(["jp", "query", "-i"]).arg(&input).arg("split(spec.containers[0].image, ':')[1]").arg("-u").output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "1.25\n");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn errors_are_one_line_and_non_zero() {
    let dir = std::env::temp_dir().join(format!("kyvm-jp-err-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("in.json");
    std::fs::write(&input, r#"{"a": 1}"#).unwrap();
    for (expr, kind) in [("a.[", "syntax"), ("length(a)", "invalid-type"), ("nope(a)", "unknown-function"), ("abs(a, a)", "invalid-arity")]
    {
        let out = kyvm().args(["jp", "query", "-i"]).arg(&input).arg(expr).output().unwrap();
        assert!(!out.status.success(), "{expr}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{expr}: {stderr}");
        assert!(stderr.contains(kind), "{expr}: {stderr}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn function_lists_kyverno_functions_with_signatures() {
    let out = kyvm().args(["jp", "function"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for name in ["to_upper", "regex_match", "time_since", "semver_compare", "x509_decode", "abs", "sort_by"] {
        assert!(text.contains(&format!("Name: {name}\n")), "{name} is listed");
    }
    assert!(text.contains("Signature: abs(number) -> number"));
    let out = kyvm().args(["jp", "function", "no_such_function"]).output().unwrap();
    assert!(!out.status.success());
}
