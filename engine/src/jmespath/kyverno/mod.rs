//! Kyverno's JMESPath functions, with Kyverno's semantics.
//!
//! Kyverno extends JMESPath with functions for strings, regular expressions, arithmetic
//! over numbers, Kubernetes quantities and Go durations, time, semantic versions,
//! encodings, X.509 certificates, images and objects. Each is reproduced from Kyverno's
//! Go implementation (`pkg/engine/jmespath`): the same signatures (which types each
//! argument admits), the same result types (a Go `float64` result is a
//! [`Value::Float`], a Go `int` a [`Value::Int`], a quantity or duration a string in
//! Kubernetes' or Go's canonical form) and the same error cases. Where Kyverno leans on
//! Go's standard library (`strings`, `regexp`, `time`, `strconv`, `encoding/base64`,
//! `path/filepath`, `crypto/x509`), the Go behaviour is ported, not approximated by the
//! nearest Rust equivalent.
//!
//! The registry ([`super::functions::registry`]) appends these after the standard
//! functions. Arguments arrive type-checked against each [`Function::params`]; the
//! functions still reject bad values with [`ErrorKind::InvalidValue`], with messages
//! that name the function and never echo input content. Results are allocated in the
//! evaluation's arena and bounded ([`MAX_RESULT_BYTES`]).
//!
//! Modules by theme: [`strings`], [`regex`], [`arithmetic`], [`time`], [`semver`],
//! [`encoding`], [`x509`], [`objects`], [`images`], [`urls`], [`random`].

use bumpalo::collections::{String as BumpString, Vec as BumpVec};
use bumpalo::Bump;

use super::{Arg, Error, ErrorKind, Function, Interp, Types};
use crate::document::{Member, Value};

pub mod arithmetic;
pub mod encoding;
pub mod images;
pub mod objects;
pub mod random;
pub mod regex;
pub mod semver;
pub mod strings;
pub mod time;
pub mod urls;
pub mod x509;

/// Largest string or collection a Kyverno function builds, in bytes (or elements):
/// bounds `replace` with an empty pattern, `random('a{1000}...')` and friends.
pub const MAX_RESULT_BYTES: usize = 16 << 20;

/// Kyverno's functions, to be registered after the standard ones.
pub fn functions() -> Vec<Function> {
    let mut all = Vec::new();
    all.extend_from_slice(strings::FUNCTIONS);
    all.extend_from_slice(regex::FUNCTIONS);
    all.extend_from_slice(arithmetic::FUNCTIONS);
    all.extend_from_slice(encoding::FUNCTIONS);
    all.extend_from_slice(time::FUNCTIONS);
    all.extend_from_slice(semver::FUNCTIONS);
    all.extend_from_slice(objects::FUNCTIONS);
    all.extend_from_slice(images::FUNCTIONS);
    all.extend_from_slice(urls::FUNCTIONS);
    all.extend_from_slice(random::FUNCTIONS);
    all.extend_from_slice(x509::FUNCTIONS);
    all
}

// Signature shorthands.
pub(crate) const S: Types = Types::STRING;
pub(crate) const N: Types = Types::NUMBER;
pub(crate) const ANY: Types = Types::ANY;
pub(crate) const O: Types = Types::OBJECT;
pub(crate) const A: Types = Types::ARRAY;

/// An `invalid-value` error: "`name`: `what`".
pub(crate) fn invalid(name: &str, what: impl core::fmt::Display) -> Error {
    Error::new(ErrorKind::InvalidValue, format!("{name}: {what}"))
}

/// An `invalid-type` error for an argument whose accepted type depends on another one
/// (Kyverno checks those inside the function).
pub(crate) fn wrong_type(name: &str, position: usize, expected: &str) -> Error {
    Error::new(ErrorKind::InvalidType, format!("{name}: argument #{position} must be {expected}"))
}

/// A `limit` error: the result would exceed [`MAX_RESULT_BYTES`].
pub(crate) fn too_large(name: &str) -> Error {
    Error::new(ErrorKind::Limit, format!("{name}: result larger than {MAX_RESULT_BYTES} bytes"))
}

/// Charges the step budget for scanning `bytes` of input (one step per 64 bytes), work
/// the evaluator does not see in a function's result.
pub(crate) fn charge_scan(interp: &mut dyn Interp<'_>, bytes: usize) -> Result<(), Error> {
    interp.charge((bytes / 64) as u64)
}

/// Argument `i` (null when absent: the evaluator checked arity).
pub(crate) fn arg<'a>(args: &[Arg<'a>], i: usize) -> Value<'a> {
    args.get(i).map(Arg::value).unwrap_or(Value::Null)
}

/// Argument `i` as a string.
pub(crate) fn str_arg<'a>(name: &str, args: &[Arg<'a>], i: usize) -> Result<&'a str, Error> {
    match arg(args, i) {
        Value::Str(s) => Ok(s),
        _ => Err(wrong_type(name, i + 1, "a string")),
    }
}

/// Argument `i` as a number (Kyverno's numbers are all `float64`).
pub(crate) fn num_arg(name: &str, args: &[Arg<'_>], i: usize) -> Result<f64, Error> {
    as_f64(&arg(args, i)).ok_or_else(|| wrong_type(name, i + 1, "a number"))
}

pub(crate) fn as_f64(v: &Value<'_>) -> Option<f64> {
    match *v {
        Value::Int(i) => Some(i as f64),
        Value::Float(f) => Some(f),
        _ => None,
    }
}

/// Copies `s` into the arena, checking the size bound.
pub(crate) fn alloc_str<'a>(arena: &'a Bump, name: &str, s: &str) -> Result<Value<'a>, Error> {
    if s.len() > MAX_RESULT_BYTES {
        return Err(too_large(name));
    }
    Ok(Value::Str(arena.alloc_str(s)))
}

/// An arena string builder that refuses to grow past [`MAX_RESULT_BYTES`].
pub(crate) struct Out<'a> {
    pub(crate) buf: BumpString<'a>,
    name: &'static str,
}

impl<'a> Out<'a> {
    pub(crate) fn new(arena: &'a Bump, name: &'static str) -> Self {
        Out { buf: BumpString::new_in(arena), name }
    }

    pub(crate) fn push_str(&mut self, s: &str) -> Result<(), Error> {
        if self.buf.len() + s.len() > MAX_RESULT_BYTES {
            return Err(too_large(self.name));
        }
        self.buf.push_str(s);
        Ok(())
    }

    pub(crate) fn push(&mut self, c: char) -> Result<(), Error> {
        if self.buf.len() + c.len_utf8() > MAX_RESULT_BYTES {
            return Err(too_large(self.name));
        }
        self.buf.push(c);
        Ok(())
    }

    pub(crate) fn finish(self) -> Value<'a> {
        Value::Str(self.buf.into_bump_str())
    }
}

/// Builds an arena object from `(key, value)` pairs.
pub(crate) fn object<'a>(arena: &'a Bump, members: &[(&'a str, Value<'a>)]) -> Value<'a> {
    let mut v = BumpVec::with_capacity_in(members.len(), arena);
    v.extend(members.iter().map(|&(key, value)| Member { key, value }));
    Value::Object(v.into_bump_slice())
}

/// Go's `float64` → `int64` conversion as amd64 performs it: truncation toward zero,
/// and `math.MinInt64` for NaN and values out of range.
pub(crate) fn go_f64_to_i64(f: f64) -> i64 {
    if f.is_nan() || !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f) {
        i64::MIN
    } else {
        f as i64
    }
}

/// Kyverno's `ifaceToString`: a string as is, a number as
/// `strconv.FormatFloat(f, 'f', -1, 32)` (shortest digits of the value rounded to
/// `float32`, never an exponent), a boolean as `true`/`false`.
pub(crate) fn iface_to_string<'a>(arena: &'a Bump, v: &Value<'a>) -> Option<&'a str> {
    match *v {
        Value::Str(s) => Some(s),
        Value::Bool(b) => Some(if b { "true" } else { "false" }),
        Value::Int(_) | Value::Float(_) => {
            let f = as_f64(v)? as f32;
            let s = if f.is_nan() {
                "NaN"
            } else if f.is_infinite() {
                if f > 0.0 {
                    "+Inf"
                } else {
                    "-Inf"
                }
            } else {
                return Some(bumpalo::format!(in arena, "{}", f).into_bump_str());
            };
            Some(s)
        }
        _ => None,
    }
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)`, which `fmt.Sprintf("%v", f)` prints:
/// shortest digits, an exponent (`e+06`, `e-05`) when it is below -4 or at least 6.
pub(crate) fn go_format_g(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    // Rust's `{:e}` gives the same shortest digits: `d.ddde±x`.
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (neg, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    // strconv's 'g' with the shortest precision switches to %e at exponent 6.
    if !(-4..6).contains(&exp) {
        let (first, rest) = digits.split_at(1.min(digits.len()));
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let a = exp.unsigned_abs();
        if a < 10 {
            out.push('0');
        }
        out.push_str(&a.to_string());
        return out;
    }
    let nd = digits.len() as i32;
    let dp = exp + 1; // digits before the decimal point
    if dp <= 0 {
        out.push_str("0.");
        for _ in 0..(-dp) {
            out.push('0');
        }
        out.push_str(&digits);
    } else if dp >= nd {
        out.push_str(&digits);
        for _ in 0..(dp - nd) {
            out.push('0');
        }
    } else {
        let (int, frac) = digits.split_at(dp as usize);
        out.push_str(int);
        out.push('.');
        out.push_str(frac);
    }
    out
}

#[cfg(test)]
pub(crate) mod testing {
    //! A minimal [`Interp`] for calling function implementations directly.

    use bumpalo::Bump;

    use super::super::{Arg, Error, ErrorKind, Interp, NodeId};
    use crate::document::Value;
    use crate::jmespath::Function;

    /// 2021-01-02T15:04:05Z, in nanoseconds since the epoch.
    pub const FIXED_NOW: i128 = 1_609_599_845_000_000_000;

    pub struct TestInterp<'a> {
        pub arena: &'a Bump,
        pub now: i128,
    }

    impl<'a> Interp<'a> for TestInterp<'a> {
        fn arena(&self) -> &'a Bump {
            self.arena
        }
        fn apply(&mut self, _expr: NodeId, _input: Value<'a>) -> Result<Value<'a>, Error> {
            Err(Error::new(ErrorKind::Syntax, "no expressions in unit tests"))
        }
        fn now_unix_nanos(&self) -> i128 {
            self.now
        }
    }

    /// The registered function `name`.
    pub fn function(name: &str) -> Function {
        match super::functions().into_iter().find(|f| f.name == name) {
            Some(f) => f,
            None => panic!("no function {name}"),
        }
    }

    /// Calls `name` with `args` (type-checked as the evaluator would) on a fixed clock.
    pub fn call<'a>(arena: &'a Bump, name: &str, args: &[Value<'a>]) -> Result<Value<'a>, Error> {
        let f = function(name);
        assert!(f.accepts_arity(args.len()), "{name}: arity {}", args.len());
        let args: Vec<Arg<'a>> = args.iter().map(|v| Arg::Value(*v)).collect();
        for (i, a) in args.iter().enumerate() {
            let t = f.param(i).unwrap_or_else(|| panic!("{name}: no parameter {i}"));
            if !t.admits(a) {
                return Err(Error::new(ErrorKind::InvalidType, format!("{name}: argument {i} has the wrong type")));
            }
        }
        let mut interp = TestInterp { arena, now: FIXED_NOW };
        (f.call)(&mut interp, &args)
    }

    /// Decodes JSON test input into the arena.
    pub fn json<'a>(arena: &'a Bump, text: &str) -> Value<'a> {
        let bytes = arena.alloc_slice_copy(text.as_bytes());
        crate::json::decode(bytes, arena, &crate::Limits::default()).unwrap_or_else(|e| panic!("bad test JSON {text:?}: {e}"))
    }

    /// Calls `name` with string arguments and returns the result as JSON text, or
    /// `error: <kind>` on error.
    pub fn run(name: &str, args: &[&str]) -> String {
        let arena = Bump::new();
        let values: Vec<Value<'_>> = args.iter().map(|s| json(&arena, s)).collect();
        match call(&arena, name, &values) {
            Ok(v) => v.to_string(),
            Err(e) => format!("error: {}", e.kind.as_str()),
        }
    }

    /// Shorthand for a JSON string literal argument.
    pub fn q(s: &str) -> String {
        let mut out = String::new();
        crate::document::write_json_string(&mut out, s).unwrap();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Evaluates a whole expression through the parser and evaluator.
    fn eval(expr: &str, input: &str) -> String {
        let arena = Bump::new();
        let doc = testing::json(&arena, input);
        let parsed = match crate::jmespath::Expression::parse(expr, &crate::jmespath::ParseLimits::default()) {
            Ok(p) => p,
            Err(e) => return format!("parse error: {e}"),
        };
        let mut env = crate::jmespath::Env::new(&arena);
        env.now_unix_nanos = Some(testing::FIXED_NOW);
        match parsed.evaluate(doc, &mut env) {
            Ok(v) => v.to_string(),
            Err(e) => format!("error: {}", e.kind.as_str()),
        }
    }

    #[test]
    fn end_to_end_kyverno_expressions() {
        // Expressions from Kyverno's functions_test.go, arithmetic_test.go and time_test.go.
        let cases = [
            ("compare('a', 'b')", "null", "-1"),
            ("equal_fold('Go', 'go')", "null", "true"),
            (
                "replace('Lorem ipsum ipsum ipsum dolor sit amet', 'ipsum', 'muspi', `1`)",
                "null",
                r#""Lorem muspi ipsum ipsum dolor sit amet""#,
            ),
            ("split('Hello, Gophers', ', ')", "null", r#"["Hello","Gophers"]"#),
            ("regex_match('12.*', foo)", r#"{"foo": "hgf'b1a2r'b12g"}"#, "true"),
            ("regex_match('12.*', abs(foo))", r#"{"foo": -12.0}"#, "true"),
            ("pattern_match('12*', abs(foo))", r#"{"foo": -12.0}"#, "true"),
            (
                "regex_replace_all('([Hh]e|G)l', spec.field, '${2}G')",
                r#"{"spec": {"field": "Hello world, helworldlo"}}"#,
                r#""Glo world, Gworldlo""#,
            ),
            (
                "label_match(`{\"app\": \"test-app\"}`, metadata.labels)",
                r#"{"metadata": {"labels": {"app": "test-app", "x": "y"}}}"#,
                "true",
            ),
            ("base64_decode(data.example1)", r#"{"data": {"example1": "SGVsbG8sIHdvcmxkIQ=="}}"#, r#""Hello, world!""#),
            ("truncate('Lorem ipsum', `2.6`)", "null", r#""Lo""#),
            ("semver_compare('4.1.3','>=4.1.x')", "null", "true"),
            ("lookup(`[\"item0\", \"item1\"]`, `1`)", "null", r#""item1""#),
            ("parse_json('{\"a\": [1, 2, 3, 4]}').a[0]", "null", "1"),
            ("parse_yaml('a: b').a", "null", r#""b""#),
            ("add('12Ki', '13Ki')", "null", r#""25Ki""#),
            ("add(`12`, '13Ki')", "null", "error: invalid-type"),
            // Kyverno's tests search "" (a multi-select list over null would be null).
            ("sum(['12s', '13s', '1s', '4s'])", r#""""#, r#""30s""#),
            ("multiply(`2.5`, '40s')", "null", r#""1m40s""#),
            ("divide('12Ki', '200')", "null", "61.44"),
            ("divide(`14`, `0`)", "null", "error: invalid-value"),
            ("modulo('12Ki', '5Ki')", "null", r#""2Ki""#),
            ("round(`9.414675`, `2`)", "null", "9.41"),
            ("time_to_cron(time_utc('2023-02-02T15:04:05-07:00'))", "null", r#""4 22 2 2 4""#),
            (
                "time_add(time_parse('Mon Jan 02 15:04:05 MST 2006', 'Sat Jan 02 15:04:05 MST 2021'), '5h30m40s')",
                "null",
                r#""2021-01-02T20:34:45Z""#,
            ),
            ("time_now_utc()", "null", r#""2021-01-02T15:04:05Z""#),
            ("image_normalize('nginx')", "null", r#""docker.io/nginx:latest""#),
            ("to_boolean(`1`)", "null", "error: invalid-type"),
        ];
        for (expr, input, want) in cases {
            assert_eq!(eval(expr, input), want, "{expr}");
        }
    }

    #[test]
    fn every_function_is_registered_once_with_docs() {
        let fns = functions();
        let mut names: Vec<&str> = fns.iter().map(|f| f.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "duplicate function names");
        for f in &fns {
            assert!(!f.doc.is_empty(), "{} has no doc", f.name);
            assert!(!f.returns.is_empty(), "{} has no return type", f.name);
        }
        for expected in [
            "compare",
            "equal_fold",
            "replace",
            "replace_all",
            "to_upper",
            "to_lower",
            "trim",
            "trim_prefix",
            "split",
            "truncate",
            "path_canonicalize",
            "pattern_match",
            "label_match",
            "to_boolean",
            "regex_match",
            "regex_replace_all",
            "regex_replace_all_literal",
            "add",
            "sum",
            "subtract",
            "multiply",
            "divide",
            "modulo",
            "round",
            "base64_decode",
            "base64_encode",
            "parse_json",
            "parse_yaml",
            "x509_decode",
            "lookup",
            "items",
            "object_from_lists",
            "image_normalize",
            "is_external_url",
            "semver_compare",
            "random",
            "time_since",
            "time_now",
            "time_now_utc",
            "time_add",
            "time_parse",
            "time_to_cron",
            "time_utc",
            "time_diff",
            "time_before",
            "time_after",
            "time_between",
            "time_truncate",
        ] {
            assert!(names.contains(&expected), "{expected} missing");
        }
        assert_eq!(names.len(), 48);
    }

    #[test]
    fn go_float_formats() {
        assert_eq!(go_format_g(2.5), "2.5");
        assert_eq!(go_format_g(3.0), "3");
        assert_eq!(go_format_g(-0.5), "-0.5");
        assert_eq!(go_format_g(100000.0), "100000");
        assert_eq!(go_format_g(1e6), "1e+06");
        assert_eq!(go_format_g(1e21), "1e+21");
        assert_eq!(go_format_g(0.0001), "0.0001");
        assert_eq!(go_format_g(0.00001), "1e-05");
        assert_eq!(go_format_g(1.5e-7), "1.5e-07");
        assert_eq!(go_format_g(123456789.0), "1.23456789e+08");
        let arena = Bump::new();
        assert_eq!(iface_to_string(&arena, &Value::Float(12.0)), Some("12"));
        assert_eq!(iface_to_string(&arena, &Value::Int(123_456_789)), Some("123456790"));
        assert_eq!(iface_to_string(&arena, &Value::Float(0.1)), Some("0.1"));
        assert_eq!(iface_to_string(&arena, &Value::Float(1e300)), Some("+Inf"));
        assert_eq!(iface_to_string(&arena, &Value::Null), None);
    }

    #[test]
    fn go_float_to_int_conversion() {
        assert_eq!(go_f64_to_i64(2.9), 2);
        assert_eq!(go_f64_to_i64(-2.9), -2);
        assert_eq!(go_f64_to_i64(f64::NAN), i64::MIN);
        assert_eq!(go_f64_to_i64(1e19), i64::MIN);
    }
}
