//! `podsecurity`: a Pod AdmissionReview against a single `validate.podSecurity` rule at
//! the restricted level, latest version (19 checks, Kyverno's set: the restricted checks
//! and every baseline check), for two reviews: `large` (data/pod-review.json, 3.5 KB, two
//! containers with probes, env, resources) and `small` (data/pod-review-small.json,
//! 1.5 KB, one container). Per review:
//!
//! - `podsecurity/<review>/decode_and_evaluate`: what the webhook pays per review — reset the
//!   scratch arena, decode the JSON, build the `Request`, run the VM (match, then the
//!   Pod Security checks over the arena document).
//! - `podsecurity/<review>/decode_only`: reset + JSON decode, the baseline of the same run.
//! - `podsecurity/<review>/evaluate_only`: the VM alone over a review decoded once.
//! - `podsecurity/<review>/checks_only`: the rule's checks alone (`PodSecurityRule::evaluate`),
//!   the work the in-tree Go implementation's 2.8–3.3 µs per pod is quoted for.
//!
//! Run: `cargo bench -p kyvm-benches --bench podsecurity` (numbers in README.md).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use kyvm_engine::{vm, Limits, Program, Request, RuleStatus, Scratch};

/// The reviews: the 3.5 KB two-container Pod the `eval` bench uses, and a 1.5 KB
/// one-container Pod as the API server sends it after defaulting.
const REVIEWS: [(&str, &[u8]); 2] =
    [("large", include_bytes!("../data/pod-review.json")), ("small", include_bytes!("../data/pod-review-small.json"))];

const POLICY: &str = "apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: pod-security
spec:
  validationFailureAction: Enforce
  rules:
  - name: restricted
    match:
      any:
      - resources:
          kinds: [Pod]
    validate:
      podSecurity:
        level: restricted
        version: latest
";

fn program() -> Program {
    let comp = kyvm_compiler::compile_str("pod-security.yaml", POLICY);
    assert!(comp.diagnostics.is_empty(), "{:?}", comp.diagnostics);
    comp.program
}

fn podsecurity(c: &mut Criterion) {
    let program = program();
    let check = program.pod_security.first().expect("one podSecurity rule").clone();
    let mut group = c.benchmark_group("podsecurity");
    for (name, review) in REVIEWS {
        // Check once that the rule runs on the review, and say what it decided.
        {
            let scratch = Scratch::new(Limits::default());
            let value = scratch.decode_json(review).expect("review decodes");
            let req = Request::from_admission_review(value).expect("an AdmissionReview with a request");
            let eval = vm::evaluate(&program, &req, scratch.arena(), &scratch.limits).expect("evaluation succeeds");
            assert_eq!(eval.results.len(), 1, "the restricted rule applies to the Pod");
            let r = &eval.results[0];
            eprintln!(
                "podsecurity/{name}: {} bytes of review, restricted:latest ({} checks) -> {:?}",
                review.len(),
                check.controls.len(),
                r.status
            );
            assert_eq!(r.status, RuleStatus::Pass, "the review's Pod meets the restricted profile: {}", r.message);
        }

        let mut scratch = Scratch::new(Limits::default());
        group.bench_function(format!("{name}/decode_and_evaluate"), |b| {
            b.iter(|| {
                scratch.reset();
                let value = scratch.decode_json(black_box(review)).expect("decode");
                let req = Request::from_admission_review(value).expect("request");
                let eval = vm::evaluate(&program, &req, scratch.arena(), &scratch.limits).expect("evaluate");
                black_box(eval.results.len())
            })
        });

        let mut scratch = Scratch::new(Limits::default());
        group.bench_function(format!("{name}/decode_only"), |b| {
            b.iter(|| {
                scratch.reset();
                let value = scratch.decode_json(black_box(review)).expect("decode");
                black_box(value.is_null())
            })
        });

        let decoded = Scratch::new(Limits::default());
        let value = decoded.decode_json(review).expect("decode");
        let req = Request::from_admission_review(value).expect("request");
        let mut scratch = Scratch::new(Limits::default());
        group.bench_function(format!("{name}/evaluate_only"), |b| {
            b.iter(|| {
                scratch.reset();
                let eval = vm::evaluate(&program, black_box(&req), scratch.arena(), &scratch.limits).expect("evaluate");
                black_box(eval.results.len())
            })
        });

        let mut scratch = Scratch::new(Limits::default());
        group.bench_function(format!("{name}/checks_only"), |b| {
            b.iter(|| {
                scratch.reset();
                let report = check.evaluate(scratch.arena(), black_box(req.object)).expect("a pod");
                black_box(report.allowed())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, podsecurity);
criterion_main!(benches);
