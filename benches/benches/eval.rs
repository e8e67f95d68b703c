//! `eval`: one ~3.4 KB Pod AdmissionReview (data/pod-review.json) against the policies of
//! kyverno/policies' `pod-security/` and `best-practices/` folders that kyvm compiles fully.
//!
//! - `eval/decode_and_evaluate`: what the webhook does per request — reset the scratch
//!   arena, decode the JSON, build the `Request`, run the VM.
//! - `eval/decode_only`: the JSON decode alone.
//! - `eval/evaluate_only`: the VM alone, over a review decoded once up front.
//!
//! Run: `cargo bench -p kyvm-benches --bench eval` (numbers in README.md).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use kyvm_benches::{conformance_dir, fully_compiled_policies};
use kyvm_engine::{vm, Limits, Program, Request, RuleStatus, Scratch};

const REVIEW: &[u8] = include_bytes!("../data/pod-review.json");

fn policies() -> Program {
    let root = conformance_dir().join("kyverno-policies");
    let dirs = [root.join("pod-security"), root.join("best-practices")];
    for d in &dirs {
        assert!(d.is_dir(), "{} not found: the shared conformance data must sit beside the repository", d.display());
    }
    let set = fully_compiled_policies(&dirs);
    let program = set.compilation.program;
    eprintln!(
        "eval: kept {} of {} policy files without K0900: {} policies, {} rules (autogen included)",
        set.kept.len(),
        set.kept.len() + set.skipped.len(),
        set.compilation.policies.len(),
        program.rules.len(),
    );
    assert!(!program.rules.is_empty(), "no fully compiled policies found");
    program
}

fn eval(c: &mut Criterion) {
    let program = policies();

    // Check once that the review decodes and that the rules really run on it.
    {
        let scratch = Scratch::new(Limits::default());
        let value = scratch.decode_json(REVIEW).expect("review decodes");
        let req = Request::from_admission_review(value).expect("an AdmissionReview with a request");
        let eval = vm::evaluate(&program, &req, scratch.arena(), &scratch.limits).expect("evaluation succeeds");
        let count = |s: RuleStatus| eval.results.iter().filter(|r| r.status == s).count();
        eprintln!(
            "eval: {} bytes of review, {} rule results (pass {}, fail {}, skip {}, error {}), {} VM steps",
            REVIEW.len(),
            eval.results.len(),
            count(RuleStatus::Pass),
            count(RuleStatus::Fail),
            count(RuleStatus::Skip),
            count(RuleStatus::Error),
            eval.steps,
        );
        assert!(!eval.results.is_empty(), "no rule applied to the review");
    }

    let mut group = c.benchmark_group("eval");

    let mut scratch = Scratch::new(Limits::default());
    group.bench_function("decode_and_evaluate", |b| {
        b.iter(|| {
            scratch.reset();
            let value = scratch.decode_json(black_box(REVIEW)).expect("review decodes");
            let req = Request::from_admission_review(value).expect("a request");
            let eval = vm::evaluate(&program, &req, scratch.arena(), &scratch.limits).expect("evaluation succeeds");
            eval.results.len()
        })
    });

    group.bench_function("decode_only", |b| {
        b.iter(|| {
            scratch.reset();
            let value = scratch.decode_json(black_box(REVIEW)).expect("review decodes");
            value.get("request").is_some()
        })
    });

    let document = Scratch::new(Limits::default());
    let value = document.decode_json(REVIEW).expect("review decodes");
    let req = Request::from_admission_review(value).expect("a request");
    group.bench_function("evaluate_only", |b| {
        b.iter(|| {
            scratch.reset();
            let eval = vm::evaluate(&program, black_box(&req), scratch.arena(), &scratch.limits).expect("evaluation succeeds");
            eval.results.len()
        })
    });

    group.finish();
}

criterion_group!(benches, eval);
criterion_main!(benches);
