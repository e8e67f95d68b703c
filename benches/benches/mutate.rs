//! `mutate`: a typical mutation webhook request. One `ClusterPolicy` with two
//! `patchStrategicMerge` rules — add a label, and default the Pod's and every
//! container's `securityContext` with add-if-not-present anchors (`+(runAsNonRoot)`,
//! `+(runAsUser)`, ... and, per container, `(name): "?*"` with
//! `+(allowPrivilegeEscalation)`, ...) — against data/pod-review-unhardened.json: the
//! 3.0 KB two-container Pod review of the other benchmarks (data/pod-review.json)
//! without its security contexts, so that both rules change it (that Pod already sets
//! every field the second rule defaults).
//!
//! - `mutate/decode_mutate_patch`: what the webhook pays per review — reset the scratch
//!   arena, decode the JSON, build the `Request`, run `vm::mutate`, `patch::diff` the
//!   original and mutated objects, and write the JSON Patch into a reused `String`.
//! - `mutate/decode_only`: reset + JSON decode, the baseline of the same run.
//! - `mutate/mutate_only`: `vm::mutate` alone over a review decoded once.
//! - `mutate/patch_only`: `patch::diff` and `write_patch` alone, for a mutation made once.
//! - `mutate/noop`: the whole path of `decode_mutate_patch` on the review of the
//!   already-mutated Pod: the steady state in which every rule skips and the patch is
//!   `[]`.
//!
//! Run: `cargo bench -p kyvm-benches --bench mutate` (numbers in README.md).

use std::hint::black_box;

use bumpalo::collections::Vec as BumpVec;
use criterion::{criterion_group, criterion_main, Criterion};
use kyvm_engine::patch::{diff, write_patch, Op};
use kyvm_engine::{vm, Limits, Program, Request, RuleStatus, Scratch};

/// The Pod of data/pod-review.json without its pod and container security contexts.
const REVIEW: &[u8] = include_bytes!("../data/pod-review-unhardened.json");

const POLICY: &str = r#"apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: pod-defaults
spec:
  rules:
  - name: add-labels
    match:
      any:
      - resources:
          kinds: [Pod]
    mutate:
      patchStrategicMerge:
        metadata:
          labels:
            policy.example.com/mutated: "true"
  - name: default-security-context
    match:
      any:
      - resources:
          kinds: [Pod]
    mutate:
      patchStrategicMerge:
        spec:
          securityContext:
            +(runAsNonRoot): true
            +(runAsUser): 1000
            +(runAsGroup): 3000
            +(fsGroup): 2000
          containers:
          - (name): "?*"
            securityContext:
              +(allowPrivilegeEscalation): false
              +(privileged): false
"#;

fn program() -> Program {
    let comp = kyvm_compiler::compile_str("pod-defaults.yaml", POLICY);
    assert!(comp.diagnostics.is_empty(), "{:?}", comp.diagnostics);
    comp.program
}

/// Decode, mutate, diff and print the patch: the webhook's work for one review. Returns
/// the number of operations and the number of rules that changed the Pod.
fn decode_mutate_patch(program: &Program, scratch: &mut Scratch, review: &[u8], out: &mut String) -> (usize, usize) {
    scratch.reset();
    out.clear();
    let value = scratch.decode_json(review).expect("decode");
    let req = Request::from_admission_review(value).expect("request");
    let mutated = vm::mutate(program, &req, scratch.arena(), &scratch.limits).expect("mutate");
    let mut ops: BumpVec<'_, Op<'_>> = BumpVec::new_in(scratch.arena());
    diff(scratch.arena(), req.object, mutated.object, &mut ops);
    write_patch(out, &ops).expect("write to a String");
    (ops.len(), mutated.results.iter().filter(|r| r.status == RuleStatus::Pass).count())
}

/// The review with `request.object` replaced by the Pod after the policy.
fn mutated_review(program: &Program) -> Vec<u8> {
    let scratch = Scratch::new(Limits::default());
    let value = scratch.decode_json(REVIEW).expect("decode");
    let req = Request::from_admission_review(value).expect("request");
    let mutated = vm::mutate(program, &req, scratch.arena(), &scratch.limits).expect("mutate");
    let mut review: serde_json::Value = serde_json::from_slice(REVIEW).expect("the review is JSON");
    review["request"]["object"] = serde_json::from_str(&mutated.object.to_string()).expect("the mutated Pod prints as JSON");
    serde_json::to_vec(&review).expect("serialize")
}

fn mutate(c: &mut Criterion) {
    let program = program();
    let noop_review = mutated_review(&program);

    // Check once what the benchmark measures, and say it.
    let mut out = String::with_capacity(4096);
    let mut scratch = Scratch::new(Limits::default());
    let (ops, changed) = decode_mutate_patch(&program, &mut scratch, REVIEW, &mut out);
    eprintln!(
        "mutate: {} bytes of review -> {changed} rules changed the Pod, {ops} operations, {} bytes of patch",
        REVIEW.len(),
        out.len()
    );
    eprintln!("mutate: {out}");
    assert_eq!(changed, 2, "both rules change the Pod (their autogen rules do not apply to it)");
    let (ops, changed) = decode_mutate_patch(&program, &mut scratch, &noop_review, &mut out);
    eprintln!("mutate/noop: {} bytes of review -> {changed} rules changed the Pod, patch {out}", noop_review.len());
    assert_eq!((ops, changed, out.as_str()), (0, 0, "[]"), "the mutated Pod is a fixed point");

    let mut group = c.benchmark_group("mutate");

    let mut scratch = Scratch::new(Limits::default());
    let mut out = String::with_capacity(4096);
    group.bench_function("decode_mutate_patch", |b| {
        b.iter(|| black_box(decode_mutate_patch(&program, &mut scratch, black_box(REVIEW), &mut out)))
    });

    let mut scratch = Scratch::new(Limits::default());
    group.bench_function("decode_only", |b| {
        b.iter(|| {
            scratch.reset();
            let value = scratch.decode_json(black_box(REVIEW)).expect("decode");
            black_box(value.is_null())
        })
    });

    let decoded = Scratch::new(Limits::default());
    let value = decoded.decode_json(REVIEW).expect("decode");
    let req = Request::from_admission_review(value).expect("request");
    let mut scratch = Scratch::new(Limits::default());
    group.bench_function("mutate_only", |b| {
        b.iter(|| {
            scratch.reset();
            let mutated = vm::mutate(&program, black_box(&req), scratch.arena(), &scratch.limits).expect("mutate");
            black_box(mutated.results.len())
        })
    });

    let mutated = vm::mutate(&program, &req, decoded.arena(), &decoded.limits).expect("mutate");
    let mut scratch = Scratch::new(Limits::default());
    let mut out = String::with_capacity(4096);
    group.bench_function("patch_only", |b| {
        b.iter(|| {
            scratch.reset();
            out.clear();
            let mut ops: BumpVec<'_, Op<'_>> = BumpVec::new_in(scratch.arena());
            diff(scratch.arena(), black_box(req.object), black_box(mutated.object), &mut ops);
            write_patch(&mut out, &ops).expect("write to a String");
            black_box(out.len())
        })
    });

    let mut scratch = Scratch::new(Limits::default());
    let mut out = String::with_capacity(4096);
    group.bench_function("noop", |b| b.iter(|| black_box(decode_mutate_patch(&program, &mut scratch, black_box(&noop_review), &mut out))));

    group.finish();
}

criterion_group!(benches, mutate);
criterion_main!(benches);
