//! JMESPath stage: arbitrary bytes → an expression and a document, split at the first NUL
//! byte (no NUL: the whole input is the expression and there is no second document).
//! The expression is parsed with the default limits and evaluated, with a step budget and
//! a fixed clock, against a fixed AdmissionReview-like document and against the
//! input's own document when it decodes. Syntax, type and limit errors are fine; panics,
//! stack overflows and hangs are not.
#![no_main]

use kyvm_engine::jmespath::{Env, Expression, ParseLimits};
use kyvm_engine::{Limits, Scratch, Value};
use libfuzzer_sys::fuzz_target;

const FIXED: &str = r#"{
  "request": {
    "operation": "CREATE", "uid": "u-1",
    "userInfo": {"username": "alice", "groups": ["system:authenticated", "dev"]},
    "object": {
      "apiVersion": "v1", "kind": "Pod",
      "metadata": {"name": "web", "namespace": "team-a", "labels": {"app": "web", "tier": "frontend"}, "annotations": {}},
      "spec": {
        "replicas": 3, "ratio": 0.5, "big": 1e300, "neg": -7, "empty": "", "nothing": null,
        "containers": [
          {"name": "app", "image": "registry.example.com/web:1.2.3", "ports": [{"containerPort": 8080}, {"containerPort": 9090}],
           "securityContext": {"privileged": false, "runAsUser": 1000}, "args": ["--a", "--b"]},
          {"name": "sidecar", "image": "docker.io/proxy:latest", "ports": [], "securityContext": {"privileged": true}}
        ],
        "nested": [[1, 2, [3, [4]]], [], [[["deep"]]], {"k": [true, false, null]}]
      }
    }
  }
}"#;

fn run<'a>(expr: &Expression, input: Value<'a>, scratch: &'a Scratch) {
    let mut env = Env::new(scratch.arena());
    env.steps_left = 50_000;
    env.now_unix_nanos = Some(1_700_000_000_000_000_000);
    let out = expr.evaluate(input, &mut env);
    let summary = out.map(|v| v.is_null()).map_err(|e| e.kind);
    let _ = std::hint::black_box((summary, env.steps_left));
}

fuzz_target!(|data: &[u8]| {
    let (expr, doc) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], Some(&data[at + 1..])),
        None => (data, None),
    };
    let Ok(src) = std::str::from_utf8(expr) else {
        return;
    };
    let Ok(expr) = Expression::parse(src, &ParseLimits::default()) else {
        return;
    };
    std::hint::black_box((expr.as_field_path(), expr.source().len()));
    let scratch = Scratch::new(Limits::default());
    if let Ok(fixed) = scratch.decode_json(FIXED.as_bytes()) {
        run(&expr, fixed, &scratch);
    }
    if let Some(doc) = doc {
        if let Ok(value) = scratch.decode_json(doc) {
            run(&expr, value, &scratch);
        }
    }
});
