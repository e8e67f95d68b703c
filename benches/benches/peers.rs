//! `peers`: kyvm against other policy engines on the same five rule sets
//! (disallow-privileged-containers, require-run-as-nonroot, disallow-host-namespaces,
//! restrict-image-registries, require-labels) and six AdmissionReviews (`data/peers/`).
//! The rule sets and engines are in `src/peers.rs`; `tests/peers.rs` checks that every
//! engine gives kyvm's verdict on every payload.
//!
//! For each payload and engine (`kyvm`, `regorus` (interpreter), `regorus_rvm`, `cel`,
//! `floor` (hand-written Rust over typed serde)):
//!
//! - `peers/end_to_end/<engine>/<payload>`: AdmissionReview bytes in, verdict out, the
//!   engine's own JSON → input conversion included.
//! - `peers/eval_only/<engine>/<payload>`: the evaluation over an input prepared once.
//!
//! Run: `cargo bench -p kyvm-benches --bench peers` (numbers in README.md).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use kyvm_benches::peers::{self, Cel, Kyvm, RegoInterpreter, RegoRvm, PAYLOADS};
use kyvm_engine::{Limits, Request, Scratch};

fn bench(c: &mut Criterion) {
    let kyvm = Kyvm::load().expect("kyvm compiles the five policies");
    let mut interpreter = RegoInterpreter::load().expect("regorus loads the Rego rule sets");
    let mut rvm = RegoRvm::load().expect("regorus compiles the Rego rule sets to RVM");
    let cel = Cel::load().expect("cel compiles the expressions");
    let mut scratch = Scratch::new(Limits::default());

    // The verdicts must be the expected ones (tests/peers.rs checks more).
    for p in PAYLOADS {
        assert_eq!(kyvm.end_to_end(&mut scratch, p.bytes).unwrap(), p.expected, "{}: kyvm", p.name);
        assert_eq!(interpreter.end_to_end(p.bytes).unwrap(), p.expected, "{}: regorus", p.name);
        assert_eq!(rvm.end_to_end(p.bytes).unwrap(), p.expected, "{}: regorus_rvm", p.name);
        assert_eq!(cel.end_to_end(p.bytes).unwrap(), p.expected, "{}: cel", p.name);
        assert_eq!(peers::floor_end_to_end(p.bytes).unwrap(), p.expected, "{}: floor", p.name);
    }

    let mut group = c.benchmark_group("peers");
    group.sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(2));

    for p in PAYLOADS {
        let bytes = p.bytes;
        group.bench_function(BenchmarkId::new("end_to_end/kyvm", p.name), |b| {
            b.iter(|| kyvm.end_to_end(&mut scratch, black_box(bytes)).unwrap())
        });
        group.bench_function(BenchmarkId::new("end_to_end/regorus", p.name), |b| {
            b.iter(|| interpreter.end_to_end(black_box(bytes)).unwrap())
        });
        group.bench_function(BenchmarkId::new("end_to_end/regorus_rvm", p.name), |b| b.iter(|| rvm.end_to_end(black_box(bytes)).unwrap()));
        group.bench_function(BenchmarkId::new("end_to_end/cel", p.name), |b| b.iter(|| cel.end_to_end(black_box(bytes)).unwrap()));
        group.bench_function(BenchmarkId::new("end_to_end/floor", p.name), |b| {
            b.iter(|| peers::floor_end_to_end(black_box(bytes)).unwrap())
        });

        let doc = Scratch::new(Limits::default());
        let req = Request::from_admission_review(doc.decode_json(bytes).unwrap()).unwrap();
        group.bench_function(BenchmarkId::new("eval_only/kyvm", p.name), |b| {
            b.iter(|| kyvm.eval_only(&mut scratch, black_box(&req)).unwrap())
        });
        let rego_input = peers::rego_input(bytes).unwrap();
        group.bench_function(BenchmarkId::new("eval_only/regorus", p.name), |b| {
            b.iter(|| interpreter.eval_only(black_box(rego_input.clone())).unwrap())
        });
        group.bench_function(BenchmarkId::new("eval_only/regorus_rvm", p.name), |b| {
            b.iter(|| rvm.eval_only(black_box(rego_input.clone())).unwrap())
        });
        let cel_input = Cel::input(bytes).unwrap();
        group.bench_function(BenchmarkId::new("eval_only/cel", p.name), |b| b.iter(|| cel.eval_only(black_box(&cel_input)).unwrap()));
        let review = peers::floor_decode(bytes).unwrap();
        group.bench_function(BenchmarkId::new("eval_only/floor", p.name), |b| b.iter(|| peers::floor_eval(black_box(&review))));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
