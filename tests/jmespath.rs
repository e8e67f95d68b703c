//! JMESPath: the compliance suite, properties of the evaluator, and its allocation
//! behaviour.
//!
//! - `compliance_suite`: every case of `../shared/conformance/jmespath/*.json` (the
//!   jmespath.test suite, read in place), parsed and evaluated by
//!   `kyvm_engine::jmespath`, results compared as JSON data (`1 == 1.0`), errors by kind.
//!   All failures are reported at once; `KYVM_JMESPATH_FILTER=substring` runs only the
//!   cases whose file name or expression contains the substring.
//! - proptests: generated expressions over generated documents never panic, a step
//!   budget is a hard stop, and random text never panics the parser.
//! - `evaluation_does_not_touch_the_global_heap`: a counting allocator (per thread) checks
//!   that evaluation allocates only in the arena.

use std::path::PathBuf;

use bumpalo::Bump;
use kyvm_engine::jmespath::{registry, Env, ErrorKind, Expression, ParseLimits, Types};
use kyvm_engine::{Limits, Value};
use kyvm_tests::counting::{self, Counting};
use proptest::prelude::*;
use serde::Deserialize;

#[global_allocator]
static GLOBAL: Counting = Counting;

// ---------------------------------------------------------------------------------------
// The compliance suite.

fn suite_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/conformance/jmespath"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Group {
    given: serde_json::Value,
    cases: Vec<Case>,
    #[serde(default)]
    #[allow(dead_code)]
    comment: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    expression: String,
    /// Present (possibly `null`) when the case names a result.
    #[serde(default, deserialize_with = "present")]
    result: Option<serde_json::Value>,
    error: Option<String>,
    #[allow(dead_code)]
    comment: Option<String>,
    /// Benchmark cases carry no result: they must evaluate without error.
    #[allow(dead_code)]
    bench: Option<String>,
}

/// Distinguishes `"result": null` (Some(Null)) from no `result` at all (None).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(d).map(Some)
}

/// JSON data equality with numbers compared by value.
fn same(got: &Value<'_>, want: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (got, want) {
        (Value::Null, J::Null) => true,
        (Value::Bool(a), J::Bool(b)) => a == b,
        (Value::Int(a), J::Number(b)) => match (b.as_i64(), b.as_f64()) {
            (Some(b), _) => *a == b,
            (None, Some(b)) => *a as f64 == b,
            _ => false,
        },
        (Value::Float(a), J::Number(b)) => b.as_f64() == Some(*a),
        (Value::Str(a), J::String(b)) => a == b,
        (Value::Array(a), J::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y)),
        (Value::Object(a), J::Object(b)) => a.len() == b.len() && a.iter().all(|m| b.get(m.key).is_some_and(|w| same(&m.value, w))),
        _ => false,
    }
}

fn error_kind(name: &str) -> Option<ErrorKind> {
    Some(match name {
        "syntax" => ErrorKind::Syntax,
        "invalid-type" => ErrorKind::InvalidType,
        "invalid-value" => ErrorKind::InvalidValue,
        "invalid-arity" => ErrorKind::InvalidArity,
        "unknown-function" => ErrorKind::UnknownFunction,
        _ => return None,
    })
}

/// Runs one case; `Err` describes the failure.
fn run_case(given: &str, case: &Case) -> Result<(), String> {
    let arena = Bump::new();
    let input = kyvm_engine::json::decode(given.as_bytes(), &arena, &Limits::default()).map_err(|e| format!("given: {e}"))?;
    let outcome = Expression::parse(&case.expression, &ParseLimits::default()).and_then(|e| e.evaluate(input, &mut Env::new(&arena)));
    match (&case.error, &case.result, outcome) {
        (Some(want), _, Err(e)) => {
            let kind = error_kind(want).ok_or_else(|| format!("unknown error kind {want:?} in the suite"))?;
            if e.kind == kind {
                Ok(())
            } else {
                Err(format!("expected error {want}, got error {e}"))
            }
        }
        (Some(want), _, Ok(v)) => Err(format!("expected error {want}, got {v}")),
        (None, Some(want), Ok(v)) => {
            if same(&v, want) {
                Ok(())
            } else {
                Err(format!("expected {want}, got {v}"))
            }
        }
        (None, _, Err(e)) => Err(format!("expected a result, got error {e}")),
        (None, None, Ok(_)) => Ok(()),
    }
}

#[test]
fn compliance_suite() {
    let dir = suite_dir();
    assert!(dir.is_dir(), "JMESPath suite not found at {} (the shared folder must sit beside the repository)", dir.display());
    let filter = std::env::var("KYVM_JMESPATH_FILTER").unwrap_or_default();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read suite")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let (mut total, mut passed) = (0usize, 0usize);
    let mut failures = Vec::new();
    for file in &files {
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        let text = std::fs::read_to_string(file).expect("read suite file");
        let groups: Vec<Group> = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        for group in &groups {
            let given = group.given.to_string();
            for case in &group.cases {
                if !filter.is_empty() && !name.contains(&filter) && !case.expression.contains(&filter) {
                    continue;
                }
                total += 1;
                match run_case(&given, case) {
                    Ok(()) => passed += 1,
                    Err(why) => failures.push(format!("{name}: {:?}: {why}", case.expression)),
                }
            }
        }
    }
    println!("JMESPath compliance: {passed}/{total} cases pass");
    assert!(failures.is_empty(), "{} of {total} JMESPath cases fail:\n{}", failures.len(), failures.join("\n"));
    if filter.is_empty() {
        assert_eq!(total, 908, "the pinned suite has 908 cases");
    }
}

// ---------------------------------------------------------------------------------------
// Regressions and behaviours the suite does not pin.

fn eval_text(expr: &str, doc: &str) -> Result<String, ErrorKind> {
    let arena = Bump::new();
    let input = kyvm_engine::json::decode(doc.as_bytes(), &arena, &Limits::default()).expect("doc");
    Expression::parse(expr, &ParseLimits::default())
        .and_then(|e| e.evaluate(input, &mut Env::new(&arena)))
        .map(|v| v.to_string())
        .map_err(|e| e.kind)
}

#[test]
fn to_string_writes_json_like_go() {
    // Kyverno is Go: `to_string` is `encoding/json`'s text (sorted keys, Go numbers).
    assert_eq!(
        eval_text("to_string(@)", r#"{"b":1.0,"a":[1e21,0.5,"<&>"]}"#).unwrap(),
        r#""{\"a\":[1e+21,0.5,\"\\u003c\\u0026\\u003e\"],\"b\":1}""#
    );
    assert_eq!(eval_text("to_string(`1.0`)", "null").unwrap(), r#""1""#);
}

#[test]
fn subexpressions_do_not_short_circuit_on_null() {
    // go-jmespath (Kyverno) applies the right-hand side to null; so do we.
    assert_eq!(eval_text("missing.not_null(@, 'x')", "{}").unwrap(), r#""x""#);
    assert_eq!(eval_text("missing | length(@)", "{}"), Err(ErrorKind::InvalidType));
}

#[test]
fn functions_check_types_at_call_time() {
    assert_eq!(eval_text("sort_by(@, &a)", r#"[{"a":1},{"a":"x"}]"#), Err(ErrorKind::InvalidType));
    assert_eq!(eval_text("min_by(@, &a)", r#"[{"a":true}]"#), Err(ErrorKind::InvalidType));
    assert_eq!(eval_text("map(&a, @)", "{}"), Err(ErrorKind::InvalidType));
    assert_eq!(eval_text("abs(@)", "-9223372036854775808").unwrap(), "9.223372036854776e18");
    assert_eq!(eval_text("ceil(@)", "1.5").unwrap(), "2");
    assert_eq!(eval_text("sum(@)", "[1, 2.5]").unwrap(), "3.5");
    assert_eq!(eval_text("merge(`{\"a\":1,\"b\":2}`, `{\"a\":3}`)", "null").unwrap(), r#"{"a":3,"b":2}"#);
    assert_eq!(eval_text("{a: `1`, a: `2`}", "{}").unwrap(), r#"{"a":2}"#);
    assert_eq!(eval_text("reverse('ab✓')", "null").unwrap(), r#""✓ba""#);
}

#[test]
fn every_standard_function_is_in_the_registry() {
    for name in [
        "abs",
        "avg",
        "ceil",
        "contains",
        "ends_with",
        "floor",
        "join",
        "keys",
        "length",
        "map",
        "max",
        "max_by",
        "merge",
        "min",
        "min_by",
        "not_null",
        "reverse",
        "sort",
        "sort_by",
        "starts_with",
        "sum",
        "to_array",
        "to_number",
        "to_string",
        "type",
        "values",
    ] {
        assert!(registry().lookup(name).is_some(), "{name}");
    }
}

const POD: &str = r#"{
  "request": {
    "operation": "CREATE",
    "object": {
      "metadata": {"name": "web", "namespace": "team-a", "labels": {"app": "web", "tier": "frontend"}},
      "spec": {
        "containers": [
          {"name": "app", "image": "registry.example.com/web:1.2.3", "ports": [{"containerPort": 8080}],
           "securityContext": {"privileged": false, "runAsUser": 1000}},
          {"name": "sidecar", "image": "docker.io/proxy:latest", "ports": [],
           "securityContext": {"privileged": true}}
        ]
      }
    }
  }
}"#;

#[test]
fn evaluation_does_not_touch_the_global_heap() {
    let exprs = [
        "request.object.metadata.name",
        "request.object.spec.containers[*].image",
        "request.object.spec.containers[?securityContext.privileged == `true`].name",
        "request.object.spec.containers[?starts_with(image, 'docker.io/')] | length(@)",
        "request.object.spec.containers[].ports[].containerPort",
        "request.object.metadata.labels.app == 'web' && request.operation != 'DELETE'",
        "{n: request.object.metadata.name, c: length(request.object.spec.containers), l: keys(request.object.metadata.labels)}",
        "sort_by(request.object.spec.containers, &name)[*].name",
        "to_string(request.object.metadata)",
        "join(',', request.object.spec.containers[*].name)",
        "max_by(request.object.spec.containers, &name).image",
        "contains(keys(request.object.metadata.labels), 'tier')",
        "request.object.spec.containers[::-1] | [0].name",
        "not_null(request.object.metadata.annotations, `{}`)",
        "merge(request.object.metadata.labels, {extra: 'x'})",
    ];
    let parsed: Vec<Expression> = exprs.iter().map(|e| Expression::parse(e, &ParseLimits::default()).expect(e)).collect();
    // Warm up: the arena grows to its working size (a reset keeps the largest chunk).
    let mut arena = Bump::with_capacity(64 << 10);
    for e in &parsed {
        arena.reset();
        let ((), allocations) = counting::count(|| {
            let doc = kyvm_engine::json::decode(POD.as_bytes(), &arena, &Limits::default()).expect("doc");
            let mut env = Env::new(&arena);
            let out = e.evaluate(doc, &mut env);
            assert!(out.is_ok(), "{}: {:?}", e.source(), out.err());
        });
        assert_eq!(allocations.calls, 0, "{}: evaluation allocated on the global heap", e.source());
    }
}

// ---------------------------------------------------------------------------------------
// Properties.

/// Identifiers the generated documents use, so that generated paths hit something.
const KEYS: [&str; 5] = ["a", "b", "c", "foo", "bar"];

fn json_doc() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value as J;
    let leaf = prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        (-5i64..20).prop_map(J::from),
        (-100.0f64..100.0).prop_map(J::from),
        prop::sample::select(vec!["", "a", "foo", "x y", "✓"]).prop_map(J::from),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(J::Array),
            prop::collection::vec((prop::sample::select(KEYS.to_vec()), inner), 0..6)
                .prop_map(|kv| J::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
}

/// Every deterministic function (the properties compare two runs) with its arity and
/// which parameters take `&expr`.
fn functions() -> Vec<(&'static str, usize, bool, Vec<bool>)> {
    registry()
        .all()
        .into_iter()
        .filter(|f| f.name != "random")
        .map(|f| (f.name, f.params.len(), f.variadic, f.params.iter().map(|t| t.contains(Types::EXPREF)).collect()))
        .collect()
}

fn expression() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        prop::sample::select(KEYS.to_vec()).prop_map(String::from),
        Just("@".to_string()),
        Just("\"foo\"".to_string()),
        Just("*".to_string()),
        Just("[]".to_string()),
        prop::sample::select(vec!["`1`", "`-2.5`", "`\"a\"`", "`[1, 2]`", "`{\"a\": 1}`", "`null`", "`true`", "'raw'", "`[]`"])
            .prop_map(String::from),
    ];
    leaf.prop_recursive(6, 48, 4, |inner| {
        let function = prop::sample::select(functions());
        prop_oneof![
            (inner.clone(), prop::sample::select(KEYS.to_vec())).prop_map(|(e, k)| format!("{e}.{k}")),
            (inner.clone(), -3i64..4).prop_map(|(e, i)| format!("{e}[{i}]")),
            (inner.clone(), prop::option::of(-3i64..4), prop::option::of(-3i64..4), prop::option::of(-2i64..3)).prop_map(|(e, a, b, c)| {
                let f = |x: Option<i64>| x.map(|v| v.to_string()).unwrap_or_default();
                format!("{e}[{}:{}:{}]", f(a), f(b), f(c))
            }),
            inner.clone().prop_map(|e| format!("{e}[*]")),
            inner.clone().prop_map(|e| format!("{e}[]")),
            inner.clone().prop_map(|e| format!("{e}.*")),
            (inner.clone(), inner.clone()).prop_map(|(e, c)| format!("{e}[?{c}]")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("[{a}, {b}]")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{{k: {a}, \"j\": {b}}}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} | {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} || {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} && {b}")),
            inner.clone().prop_map(|e| format!("!{e}")),
            inner.clone().prop_map(|e| format!("({e})")),
            (inner.clone(), inner.clone(), prop::sample::select(vec!["==", "!=", "<", "<=", ">", ">="]))
                .prop_map(|(a, b, op)| format!("{a} {op} {b}")),
            // Mostly the right arity and `&` where the signature wants an expression;
            // sometimes not, for the error paths.
            (function, prop::collection::vec((inner.clone(), 0u8..16), 0..5), 0u8..8).prop_map(
                |((name, arity, variadic, exprefs), args, wild)| {
                    let count = match wild {
                        0 => args.len(),
                        1 if variadic => (arity + 2).min(args.len()),
                        _ => arity.min(args.len()),
                    };
                    let args: Vec<String> = args
                        .into_iter()
                        .take(count)
                        .enumerate()
                        .map(|(i, (a, r))| {
                            let wants = exprefs.get(i).copied().unwrap_or(false);
                            if (wants && r != 0) || (!wants && r == 0) {
                                format!("&{a}")
                            } else {
                                a
                            }
                        })
                        .collect();
                    format!("{name}({})", args.join(", "))
                }
            ),
        ]
    })
}

/// Deep nesting and long chains of the generated constructs.
fn deep_expression() -> impl Strategy<Value = String> {
    prop_oneof![
        (1usize..400).prop_map(|n| format!("{}a{}", "(".repeat(n), ")".repeat(n))),
        (1usize..400).prop_map(|n| format!("{}@{}", "[".repeat(n), "]".repeat(n))),
        (1usize..300).prop_map(|n| format!("{}a{}", "{k: ".repeat(n), "}".repeat(n))),
        (1usize..300).prop_map(|n| format!("{}@{}", "to_array(".repeat(n), ")".repeat(n))),
        (1usize..300).prop_map(|n| format!("{}a{}", "!".repeat(n), "")),
        (1usize..2000).prop_map(|n| format!("a{}", ".b".repeat(n))),
        (1usize..2000).prop_map(|n| format!("@{}", " | [@, @][]".repeat(n))),
        (1usize..300).prop_map(|n| format!("a{}", "[*].b".repeat(n))),
        (1usize..300).prop_map(|n| format!("a{}", ".*.b".repeat(n))),
        (1usize..300).prop_map(|n| format!("@{}", "[?a]".repeat(n))),
        (1usize..300).prop_map(|n| format!("@{}", " | sort_by(@, &to_string(@))".repeat(n))),
        (1usize..300).prop_map(|n| format!("@{}", " == @".repeat(n))),
    ]
}

/// Evaluates with a step budget; the result as JSON text, or the error kind.
fn run(expr: &Expression, doc: &str, steps: u64) -> Result<String, ErrorKind> {
    let arena = Bump::new();
    let input = kyvm_engine::json::decode(doc.as_bytes(), &arena, &Limits::default()).expect("generated doc decodes");
    let mut env = Env::new(&arena);
    env.steps_left = steps;
    env.now_unix_nanos = Some(1_700_000_000_000_000_000);
    let out = expr.evaluate(input, &mut env).map(|v| v.to_string()).map_err(|e| e.kind);
    assert!(env.steps_left <= steps);
    out
}

/// The generator must exercise evaluation, not just the parser's error paths.
#[test]
fn generated_expressions_mostly_parse_and_evaluate() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut parsed, mut evaluated, total) = (0, 0, 500);
    for _ in 0..total {
        let src = expression().new_tree(&mut runner).expect("tree").current();
        let doc = json_doc().new_tree(&mut runner).expect("tree").current().to_string();
        if let Ok(expr) = Expression::parse(&src, &ParseLimits::default()) {
            parsed += 1;
            if run(&expr, &doc, 100_000).is_ok() {
                evaluated += 1;
            }
        }
    }
    assert!(parsed * 10 >= total * 8, "only {parsed} of {total} generated expressions parse");
    assert!(evaluated * 2 >= total, "only {evaluated} of {total} generated expressions evaluate");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Generated expressions parse (or fail to) and evaluate without panicking; a smaller
    /// step budget gives the same outcome or a `limit` error, never anything else.
    #[test]
    fn generated_expressions_evaluate_within_the_budget(src in expression(), doc in json_doc(), small in 0u64..200) {
        let doc = doc.to_string();
        if let Ok(expr) = Expression::parse(&src, &ParseLimits::default()) {
            let full = run(&expr, &doc, 200_000);
            let cut = run(&expr, &doc, small);
            prop_assert!(cut == full || cut == Err(ErrorKind::Limit), "{src} on {doc}: {cut:?} vs {full:?}");
        }
    }

    /// Deep nesting is a `limit` (or `syntax`) error or a bounded evaluation — never a stack
    /// overflow or a hang.
    #[test]
    fn deep_expressions_are_bounded(src in deep_expression(), doc in json_doc()) {
        let doc = doc.to_string();
        match Expression::parse(&src, &ParseLimits::default()) {
            Ok(expr) => {
                let _ = run(&expr, &doc, 100_000);
            }
            Err(e) => prop_assert!(matches!(e.kind, ErrorKind::Limit | ErrorKind::Syntax), "{e}"),
        }
    }

    /// Random text never panics the parser.
    #[test]
    fn garbage_never_panics_the_parser(src in "\\PC{0,64}", jmes in "[a-z@*.\\[\\]{}()?!&|,:'`\"<>=0-9 -]{0,64}") {
        for text in [&src, &jmes] {
            if let Ok(expr) = Expression::parse(text, &ParseLimits::default()) {
                let _ = run(&expr, r#"{"a": [1, {"b": "c"}], "foo": {"bar": [true, null]}}"#, 10_000);
            }
        }
    }
}

#[test]
fn a_small_budget_stops_exponential_expressions() {
    for src in [
        format!("`[1]`{}", " | [@, @][]".repeat(64)),
        format!("`\"ab\"`{}", " | join('', [@, @])".repeat(64)),
        format!("`1`{} | to_string(@)", " | [@, @]".repeat(64)),
        format!("(`1`{d}) == (`1.0`{d})", d = " | [@, @]".repeat(64)),
        format!("[(`1`{d}), (`1.0`{d})] | contains([@[0]], @[1])", d = " | [@, @]".repeat(64)),
    ] {
        let expr = Expression::parse(&src, &ParseLimits::default()).expect("parses");
        assert_eq!(run(&expr, "{}", 100_000), Err(ErrorKind::Limit), "{src}");
    }
    let deep = Expression::parse(&format!("{}@{}", "[".repeat(100), "]".repeat(100)), &ParseLimits::default()).expect("parses");
    assert_eq!(run(&deep, "1", 10), Err(ErrorKind::Limit));
}

/// The deepest expression of each shape that the default limits accept still evaluates
/// on a test thread's 2 MiB stack (in debug builds too).
#[test]
fn deepest_accepted_expressions_evaluate() {
    type Shape = fn(usize) -> String;
    let shapes: [Shape; 8] = [
        |n| format!("{}@{}", "map(&".repeat(n), ", @)".repeat(n)),
        |n| format!("{}@{}", "[".repeat(n), "]".repeat(n)),
        |n| format!("{}@{}", "{k: ".repeat(n), "}".repeat(n)),
        |n| format!("{}@{}", "sort_by(@, &".repeat(n), ")".repeat(n)),
        |n| format!("@{}", "[?!@]".repeat(n)),
        |n| format!("a{}", ".*.a".repeat(n)),
        |n| format!("{}@{}", "not_null(".repeat(n), ", `1`) == `1`".repeat(n)),
        |n| format!("{}`1`{}", "(".repeat(n), " || a)".repeat(n)),
    ];
    let doc = "[[[[[[[[[[1]]]]]]]]]]";
    for shape in shapes {
        let deepest =
            (1..400).take_while(|n| Expression::parse(&shape(*n), &ParseLimits::default()).is_ok()).last().expect("depth 1 parses");
        let src = shape(deepest);
        let expr = Expression::parse(&src, &ParseLimits::default()).expect("parses");
        let out = run(&expr, doc, 1_000_000);
        assert!(!matches!(out, Err(ErrorKind::Syntax)), "{src}: {out:?}");
    }
}

#[test]
fn huge_inputs_do_not_overflow_the_stack() {
    let limits = ParseLimits::default();
    for src in ["(".repeat(100_000), "[".repeat(100_000), "!".repeat(60_000), "{a:".repeat(20_000), "&".repeat(60_000)] {
        let err = Expression::parse(&src, &ParseLimits { max_length: 1 << 20, ..limits }).err().map(|e| e.kind);
        assert!(matches!(err, Some(ErrorKind::Limit | ErrorKind::Syntax)), "{err:?}");
    }
}
