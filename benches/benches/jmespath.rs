//! `jmespath`: the same expressions over the same AdmissionReview (data/pod-review.json),
//! evaluated by kyvm's compiled JMESPath and by the `jmespath` crate (0.5), in one run.
//!
//! Both sides parse every expression once and hold the document in their own form, built
//! once: kyvm's arena `Value`, the crate's `Rcvar`. What is measured is evaluation only,
//! which is what an admission request pays. (The crate's `Expression::search` converts
//! its input through serde on stable Rust, a deep copy of the document per call; the
//! bench calls the crate's `interpret` on the shared `Rcvar` instead, so the crate is
//! measured at its best.) kyvm allocates results in an arena that is
//! reset before each evaluation; the crate allocates `Rc` values on the heap. Kyverno's
//! `to_upper` and `split`, which two expressions use, are registered with the crate as
//! custom functions.
//!
//! Per expression `jmespath/<name>/{kyvm,crate}`, and `jmespath/all/{kyvm,crate}` for
//! the whole set. `jmespath/request/{kyvm,crate}` is what one admission request pays
//! for the whole set starting from the review's bytes: kyvm decodes into its arena, the
//! crate builds its `Variable` (`Variable::from_json`), then both evaluate every
//! expression. Run: `cargo bench -p kyvm-benches --bench jmespath`.

use std::hint::black_box;
use std::rc::Rc;

use bumpalo::Bump;
use criterion::{criterion_group, criterion_main, Criterion};
use jmespath::functions::{ArgumentType, CustomFunction, Signature};
use jmespath::{Rcvar, Runtime, Variable};
use kyvm_engine::jmespath::{Env, Expression, ParseLimits};
use kyvm_engine::{json, Limits, Value};

const REVIEW: &str = include_str!("../data/pod-review.json");

/// Expressions as Kyverno policies write them, against the review.
const EXPRESSIONS: &[(&str, &str)] = &[
    ("field", "request.object.metadata.name"),
    ("images", "request.object.spec.containers[].image"),
    ("filter", "request.object.spec.containers[?securityContext.privileged == `true`].name"),
    ("not_filter_length", "length(request.object.spec.containers[?!securityContext.runAsNonRoot])"),
    ("or_default", "request.object.metadata.labels.team || 'none'"),
    ("multiselect_flatten", "request.object.spec.[containers, initContainers, ephemeralContainers][][].ports[].containerPort"),
    ("contains", "contains(request.object.spec.containers[].image, 'registry.example.com/shop/checkout-api:2.14.3')"),
    ("sort_by", "sort_by(request.object.spec.containers, &name)[0].name"),
    ("sort_keys", "sort(keys(request.object.metadata.labels))"),
    ("starts_with_all", "request.object.spec.containers[?starts_with(image, 'registry.example.com/')] | length(@)"),
    ("kyverno_to_upper", "to_upper(request.object.metadata.namespace)"),
    ("kyverno_split", "split(request.object.spec.containers[0].image, ':')[1]"),
];

/// The crate's runtime with the builtins and the two Kyverno functions the set uses.
fn crate_runtime() -> Runtime {
    let mut rt = Runtime::new();
    rt.register_builtin_functions();
    rt.register_function(
        "to_upper",
        Box::new(CustomFunction::new(
            Signature::new(vec![ArgumentType::String], None),
            Box::new(|args: &[Rcvar], _ctx: &mut jmespath::Context<'_>| {
                let s = args.first().and_then(|a| a.as_string().cloned()).unwrap_or_default();
                Ok(Rc::new(Variable::String(s.to_uppercase())))
            }),
        )),
    );
    rt.register_function(
        "split",
        Box::new(CustomFunction::new(
            Signature::new(vec![ArgumentType::String, ArgumentType::String], None),
            Box::new(|args: &[Rcvar], _ctx: &mut jmespath::Context<'_>| {
                let s = args.first().and_then(|a| a.as_string().cloned()).unwrap_or_default();
                let sep = args.get(1).and_then(|a| a.as_string().cloned()).unwrap_or_default();
                let parts = s.split(sep.as_str()).map(|p| Rc::new(Variable::String(p.to_string()))).collect();
                Ok(Rc::new(Variable::Array(parts)))
            }),
        )),
    );
    rt
}

fn bench(c: &mut Criterion) {
    let doc_arena = Bump::new();
    let doc = json::decode(REVIEW.as_bytes(), &doc_arena, &Limits::default()).expect("review decodes");
    let crate_doc: Rcvar = Rc::new(Variable::from_json(REVIEW).expect("review parses"));
    let runtime = crate_runtime();

    let ours: Vec<Expression> =
        EXPRESSIONS.iter().map(|(_, e)| Expression::parse(e, &ParseLimits::default()).expect("kyvm parses")).collect();
    let theirs: Vec<jmespath::Expression<'_>> = EXPRESSIONS.iter().map(|(_, e)| runtime.compile(e).expect("crate parses")).collect();

    // Both sides must agree before their speed is compared.
    let mut scratch = Bump::new();
    for (((name, _), ours), theirs) in EXPRESSIONS.iter().zip(&ours).zip(&theirs) {
        let mut env = Env::new(&scratch);
        let a = ours.evaluate(doc, &mut env).expect("kyvm evaluates");
        let b = search(theirs, &crate_doc, &runtime);
        let b: serde_json::Value = serde_json::to_value(&*b).expect("crate result serialises");
        let a: serde_json::Value = serde_json::from_str(&a.to_string()).expect("kyvm result is JSON");
        assert_eq!(normalise(&a), normalise(&b), "{name}: kyvm and the crate disagree");
        scratch.reset();
    }

    let mut group = c.benchmark_group("jmespath");
    for (((name, _), ours), theirs) in EXPRESSIONS.iter().zip(&ours).zip(&theirs) {
        group.bench_function(format!("{name}/kyvm"), |b| {
            b.iter(|| {
                scratch.reset();
                let mut env = Env::new(&scratch);
                let v = ours.evaluate(black_box(doc), &mut env).expect("evaluates");
                matches!(v, Value::Null)
            })
        });
        group.bench_function(format!("{name}/crate"), |b| {
            b.iter(|| {
                let v = search(theirs, black_box(&crate_doc), &runtime);
                v.is_null()
            })
        });
    }
    group.bench_function("all/kyvm", |b| {
        b.iter(|| {
            scratch.reset();
            let mut env = Env::new(&scratch);
            ours.iter().filter(|e| !matches!(e.evaluate(black_box(doc), &mut env), Ok(Value::Null))).count()
        })
    });
    group.bench_function("all/crate", |b| {
        b.iter(|| theirs.iter().filter(|e| !search(e, black_box(&crate_doc), &runtime).is_null()).count())
    });
    let mut doc_scratch = Bump::new();
    group.bench_function("request/kyvm", |b| {
        b.iter(|| {
            doc_scratch.reset();
            let doc = json::decode(black_box(REVIEW).as_bytes(), &doc_scratch, &Limits::default()).expect("review decodes");
            let mut env = Env::new(&doc_scratch);
            ours.iter().filter(|e| !matches!(e.evaluate(doc, &mut env), Ok(Value::Null))).count()
        })
    });
    group.bench_function("request/crate", |b| {
        b.iter(|| {
            let doc: Rcvar = Rc::new(Variable::from_json(black_box(REVIEW)).expect("review parses"));
            theirs.iter().filter(|e| !search(e, &doc, &runtime).is_null()).count()
        })
    });
    group.finish();
}

/// The crate's evaluation without its per-call conversion of the input.
fn search(expr: &jmespath::Expression<'_>, doc: &Rcvar, runtime: &Runtime) -> Rcvar {
    let mut ctx = jmespath::Context::new(expr.as_str(), runtime);
    jmespath::interpret(doc, expr.as_ast(), &mut ctx).expect("crate evaluates")
}

/// Integers and floats compare by value.
fn normalise(v: &serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Number(n) => serde_json::json!(n.as_f64()),
        serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(normalise).collect()),
        serde_json::Value::Object(o) => serde_json::Value::Object(o.iter().map(|(k, v)| (k.clone(), normalise(v))).collect()),
        other => other.clone(),
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
