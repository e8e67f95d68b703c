//! Arithmetic over numbers, Kubernetes quantities and Go durations: `add`, `sum`,
//! `subtract`, `multiply`, `divide`, `modulo`, `round`.
//!
//! Kyverno's rules (`arithmetic.go`): a number argument is a *scalar*; a string is a
//! quantity if `resource.ParseQuantity` accepts it and a duration if
//! `time.ParseDuration` does. A string that is both (`"0"`, `"5m"`) is a duration when
//! the other operand is unambiguously a duration, a quantity otherwise. Then:
//!
//! | op        | Q,Q      | D,D      | S,S    | Q,S        | S,Q      | D,S      | S,D      |
//! |-----------|----------|----------|--------|------------|----------|----------|----------|
//! | + -       | quantity | duration | number | error      | error    | error    | error    |
//! | *         | error    | error    | number | quantity   | quantity | duration | duration |
//! | /         | number   | number   | number | quantity   | error    | duration | error    |
//! | %         | quantity | duration | number | error      | error    | error    | error    |
//!
//! Quantities print in Kubernetes' canonical form keeping the first operand's format
//! (`add('1Gi', '1Mi')` is `1025Mi`), durations as Go's `Duration.String()`, numbers
//! are floats. Division and modulo by zero are errors, modulo needs whole numbers.

use super::{arg, as_f64, go_f64_to_i64, go_format_g, invalid, num_arg, wrong_type, A, ANY, N};
use crate::document::Value;
use crate::duration;
use crate::jmespath::{Arg, Error, ErrorKind, Function, Interp};
use crate::quantity::{Exact, ExactError};

pub(super) const FUNCTIONS: &[Function] = &[
    Function {
        name: "add",
        params: &[ANY, ANY],
        variadic: false,
        returns: "any",
        doc: "adds two numbers, quantities or durations",
        call: add,
    },
    Function {
        name: "sum",
        params: &[A],
        variadic: false,
        returns: "any",
        doc: "adds up a non-empty array of numbers, quantities or durations",
        call: sum,
    },
    Function {
        name: "subtract",
        params: &[ANY, ANY],
        variadic: false,
        returns: "any",
        doc: "subtracts numbers, quantities or durations",
        call: subtract,
    },
    Function {
        name: "multiply",
        params: &[ANY, ANY],
        variadic: false,
        returns: "any",
        doc: "multiplies numbers, or a quantity or duration by a number",
        call: multiply,
    },
    Function {
        name: "divide",
        params: &[ANY, ANY],
        variadic: false,
        returns: "any",
        doc: "divides numbers, quantities or durations; the divisor must be non-zero",
        call: divide,
    },
    Function {
        name: "modulo",
        params: &[ANY, ANY],
        variadic: false,
        returns: "any",
        doc: "remainder of whole numbers, quantities or durations; the divisor must be non-zero",
        call: modulo,
    },
    Function {
        name: "round",
        params: &[N, N],
        variadic: false,
        returns: "number",
        doc: "rounds a number to the given number of decimal places",
        call: round,
    },
];

/// One operand, resolved.
#[derive(Clone, Copy, Debug)]
enum Operand {
    Scalar(f64),
    Quantity(Exact),
    /// Nanoseconds.
    Duration(i64),
}

/// What an argument can be read as (Kyverno's `candidate`).
struct Candidate {
    scalar: Option<f64>,
    quantity: Option<Exact>,
    duration: Option<i64>,
}

fn candidate(name: &str, v: &Value<'_>, position: usize) -> Result<Candidate, Error> {
    if let Some(f) = as_f64(v) {
        return Ok(Candidate { scalar: Some(f), quantity: None, duration: None });
    }
    let Value::Str(s) = v else {
        return Err(wrong_type(name, position, "a number, a quantity or a duration"));
    };
    let quantity = match Exact::parse(s) {
        Ok(q) => Some(q),
        Err(ExactError::Invalid) => None,
        Err(ExactError::OutOfRange) => return Err(invalid(name, "quantity out of range")),
    };
    let duration = duration::parse(s);
    if quantity.is_none() && duration.is_none() {
        return Err(invalid(name, "invalid operand"));
    }
    Ok(Candidate { scalar: None, quantity, duration })
}

fn resolve(c: &Candidate, duration_context: bool) -> Option<Operand> {
    if let Some(s) = c.scalar {
        return Some(Operand::Scalar(s));
    }
    match (c.quantity, c.duration) {
        (Some(q), None) => Some(Operand::Quantity(q)),
        (None, Some(d)) => Some(Operand::Duration(d)),
        (Some(_), Some(d)) if duration_context => Some(Operand::Duration(d)),
        (Some(q), Some(_)) => Some(Operand::Quantity(q)),
        (None, None) => None,
    }
}

fn operands(name: &str, a: &Value<'_>, b: &Value<'_>) -> Result<(Operand, Operand), Error> {
    let c1 = candidate(name, a, 1)?;
    let c2 = candidate(name, b, 2)?;
    let only_duration = |c: &Candidate| c.duration.is_some() && c.quantity.is_none();
    let ctx = only_duration(&c1) || only_duration(&c2);
    match (resolve(&c1, ctx), resolve(&c2, ctx)) {
        (Some(x), Some(y)) => Ok((x, y)),
        _ => Err(invalid(name, "invalid operands")),
    }
}

fn mismatch(name: &str) -> Error {
    Error::new(ErrorKind::InvalidType, format!("{name}: Types mismatch"))
}

fn zero_division(name: &str) -> Error {
    invalid(name, "Zero divisor passed")
}

fn quantity_error(name: &str, e: ExactError) -> Error {
    match e {
        ExactError::Invalid => invalid(name, "invalid quantity"),
        ExactError::OutOfRange => invalid(name, "quantity out of range"),
    }
}

fn quantity_value<'a>(interp: &mut dyn Interp<'a>, name: &str, q: Exact) -> Result<Value<'a>, Error> {
    let s = q.to_canonical_string().map_err(|e| quantity_error(name, e))?;
    Ok(Value::Str(interp.arena().alloc_str(&s)))
}

fn duration_value<'a>(interp: &mut dyn Interp<'a>, nanos: i64) -> Value<'a> {
    let mut s = bumpalo::collections::String::new_in(interp.arena());
    let _ = duration::format(nanos, &mut s);
    Value::Str(s.into_bump_str())
}

/// Go's `Duration.Seconds()`.
fn seconds(d: i64) -> f64 {
    (d / 1_000_000_000) as f64 + (d % 1_000_000_000) as f64 / 1e9
}

/// `time.Duration(seconds * float64(time.Second))`.
fn from_seconds(s: f64) -> i64 {
    go_f64_to_i64(s * 1e9)
}

/// A number as a quantity, the way Kyverno makes one: `ParseQuantity(fmt.Sprintf("%v", f))`.
fn scalar_quantity(name: &str, f: f64) -> Result<Exact, Error> {
    Exact::parse(&go_format_g(f)).map_err(|e| quantity_error(name, e))
}

fn add_values<'a>(interp: &mut dyn Interp<'a>, name: &str, a: &Value<'a>, b: &Value<'a>) -> Result<Value<'a>, Error> {
    match operands(name, a, b)? {
        (Operand::Quantity(x), Operand::Quantity(y)) => {
            let q = x.checked_add(y).map_err(|e| quantity_error(name, e))?;
            quantity_value(interp, name, q)
        }
        (Operand::Duration(x), Operand::Duration(y)) => Ok(duration_value(interp, x.wrapping_add(y))),
        (Operand::Scalar(x), Operand::Scalar(y)) => Ok(Value::Float(x + y)),
        _ => Err(mismatch(name)),
    }
}

fn add<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    add_values(interp, "add", &arg(args, 0), &arg(args, 1))
}

fn sum<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let Value::Array(items) = arg(args, 0) else {
        return Err(wrong_type("sum", 1, "an array"));
    };
    // Kyverno's `sum` replaces JMESPath's. Where the two disagree kyvm keeps the
    // specification's answers, which its compliance suite checks: an empty array sums
    // to 0 (Kyverno: an error), and mixed operand types are `invalid-type`.
    let Some((first, rest)) = items.split_first() else {
        return Ok(Value::Int(0));
    };
    // Kyverno folds with `add`, feeding each result (a string for quantities and
    // durations) back in, so a lone element comes back unchecked.
    let mut result = *first;
    for item in rest {
        result = add_values(interp, "sum", &result, item).map_err(|e| match e.kind {
            ErrorKind::InvalidValue => Error::new(ErrorKind::InvalidType, e.message),
            _ => e,
        })?;
    }
    Ok(result)
}

fn subtract<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let name = "subtract";
    match operands(name, &arg(args, 0), &arg(args, 1))? {
        (Operand::Quantity(x), Operand::Quantity(y)) => {
            let q = x.checked_sub(y).map_err(|e| quantity_error(name, e))?;
            quantity_value(interp, name, q)
        }
        (Operand::Duration(x), Operand::Duration(y)) => Ok(duration_value(interp, x.wrapping_sub(y))),
        (Operand::Scalar(x), Operand::Scalar(y)) => Ok(Value::Float(x - y)),
        _ => Err(mismatch(name)),
    }
}

fn multiply<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let name = "multiply";
    let (x, y) = operands(name, &arg(args, 0), &arg(args, 1))?;
    let (x, y) = match (x, y) {
        (Operand::Scalar(s), other @ (Operand::Quantity(_) | Operand::Duration(_))) => (other, Operand::Scalar(s)),
        pair => pair,
    };
    match (x, y) {
        (Operand::Scalar(a), Operand::Scalar(b)) => Ok(Value::Float(a * b)),
        (Operand::Quantity(q), Operand::Scalar(s)) => {
            let factor = scalar_quantity(name, s)?;
            let product = q.checked_mul(factor).map_err(|e| quantity_error(name, e))?;
            quantity_value(interp, name, product)
        }
        (Operand::Duration(d), Operand::Scalar(s)) => Ok(duration_value(interp, from_seconds(seconds(d) * s))),
        _ => Err(mismatch(name)),
    }
}

fn divide<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let name = "divide";
    match operands(name, &arg(args, 0), &arg(args, 1))? {
        (Operand::Quantity(x), Operand::Quantity(y)) => {
            let divisor = y.as_approximate_f64();
            if divisor == 0.0 {
                return Err(zero_division(name));
            }
            Ok(Value::Float(x.as_approximate_f64() / divisor))
        }
        (Operand::Quantity(x), Operand::Scalar(s)) => {
            if s == 0.0 {
                return Err(zero_division(name));
            }
            let divisor = scalar_quantity(name, s)?;
            let quotient = x.quo_round_down(divisor, x.scale.max(divisor.scale)).map_err(|e| quantity_error(name, e))?;
            quantity_value(interp, name, quotient)
        }
        (Operand::Duration(x), Operand::Duration(y)) => {
            if seconds(y) == 0.0 {
                return Err(zero_division(name));
            }
            Ok(Value::Float(seconds(x) / seconds(y)))
        }
        (Operand::Duration(x), Operand::Scalar(s)) => {
            if s == 0.0 {
                return Err(zero_division(name));
            }
            Ok(duration_value(interp, from_seconds(seconds(x) / s)))
        }
        (Operand::Scalar(a), Operand::Scalar(b)) => {
            if b == 0.0 {
                return Err(zero_division(name));
            }
            Ok(Value::Float(a / b))
        }
        _ => Err(mismatch(name)),
    }
}

/// Go's `int64(f)` plus Kyverno's check that nothing was lost.
fn whole(name: &str, f: f64) -> Result<i64, Error> {
    let i = go_f64_to_i64(f);
    if f != i as f64 {
        return Err(invalid(name, "Non-integer argument(s) passed for modulo"));
    }
    Ok(i)
}

fn modulo<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let name = "modulo";
    match operands(name, &arg(args, 0), &arg(args, 1))? {
        (Operand::Quantity(x), Operand::Quantity(y)) => {
            let a = whole(name, x.as_approximate_f64())?;
            let b = whole(name, y.as_approximate_f64())?;
            if b == 0 {
                return Err(zero_division(name));
            }
            quantity_value(interp, name, Exact::from_int(a.wrapping_rem(b), x.format))
        }
        (Operand::Duration(x), Operand::Duration(y)) => {
            if y == 0 {
                return Err(zero_division(name));
            }
            Ok(duration_value(interp, x.wrapping_rem(y)))
        }
        (Operand::Scalar(x), Operand::Scalar(y)) => {
            let a = whole(name, x)?;
            let b = whole(name, y)?;
            if b == 0 {
                return Err(zero_division(name));
            }
            Ok(Value::Float(a.wrapping_rem(b) as f64))
        }
        _ => Err(mismatch(name)),
    }
}

fn round<'a>(_: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let value = num_arg("round", args, 0)?;
    let digits = num_arg("round", args, 1)?;
    // Kyverno's intNumber: finite, integral, within int64.
    if !digits.is_finite() || digits.trunc() != digits || go_f64_to_i64(digits) as f64 != digits {
        return Err(invalid("round", "Non-integer argument(s) passed for round off"));
    }
    let digits = go_f64_to_i64(digits);
    if digits < 0 {
        return Err(invalid("round", "2 argument is out of bounds"));
    }
    let shift = go_pow10_int(digits);
    Ok(Value::Float((value * shift).round() / shift))
}

/// Go's `math.Pow(10, n)` for a whole `n >= 0`: repeated squaring on the frexp'd
/// mantissa, then `Ldexp`, so large powers round exactly as in Go.
fn go_pow10_int(n: i64) -> f64 {
    match n {
        0 => return 1.0,
        1 => return 10.0,
        _ => {}
    }
    let (mut a1, mut ae) = (1.0f64, 0i64);
    let (mut x1, mut xe) = (0.625f64, 4i64); // frexp(10) = 0.625 × 2^4
    let mut i = n;
    while i != 0 {
        if !(-(1 << 12)..=(1 << 12)).contains(&xe) {
            ae += xe;
            break;
        }
        if i & 1 == 1 {
            a1 *= x1;
            ae += xe;
        }
        x1 *= x1;
        xe <<= 1;
        if x1 < 0.5 {
            x1 += x1;
            xe -= 1;
        }
        i >>= 1;
    }
    go_ldexp(a1, ae)
}

/// Go's `math.Ldexp` for a positive normal `frac`.
fn go_ldexp(frac: f64, exp: i64) -> f64 {
    if frac == 0.0 || !frac.is_finite() {
        return frac;
    }
    let bits = frac.to_bits();
    let exp = exp + ((bits >> 52) & 0x7FF) as i64 - 1023;
    if exp < -1075 {
        return 0.0;
    }
    if exp > 1023 {
        return f64::INFINITY;
    }
    let (exp, m) = if exp < -1022 { (exp + 53, 1.0 / (1u64 << 53) as f64) } else { (exp, 1.0) };
    let bits = (bits & !(0x7FFu64 << 52)) | (((exp + 1023) as u64) << 52);
    m * f64::from_bits(bits)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{q, run};
    use super::*;

    fn ok(name: &str, a: &str, b: &str) -> String {
        run(name, &[a, b])
    }

    // Cases from Kyverno's pkg/engine/jmespath/arithmetic_test.go unless noted.

    #[test]
    fn add_by_operand_kind() {
        assert_eq!(ok("add", "12", "13"), "25.0");
        assert_eq!(ok("add", &q("12"), &q("13s")), "error: invalid-type");
        assert_eq!(ok("add", "12", &q("13Ki")), "error: invalid-type");
        assert_eq!(ok("add", "12", &q("13")), "error: invalid-type");
        assert_eq!(ok("add", &q("12Ki"), &q("13Ki")), q("25Ki"));
        assert_eq!(ok("add", &q("12Ki"), &q("13")), q("12301"));
        assert_eq!(ok("add", &q("12Ki"), &q("13s")), "error: invalid-type");
        assert_eq!(ok("add", &q("12Ki"), "13"), "error: invalid-type");
        assert_eq!(ok("add", &q("12s"), &q("13s")), q("25s"));
        assert_eq!(ok("add", &q("12s"), "13"), "error: invalid-type");
        assert_eq!(ok("add", &q("12s"), &q("13Ki")), "error: invalid-type");
        assert_eq!(ok("add", &q("12s"), &q("13")), "error: invalid-type");
        // Not in Kyverno's tests: formats and ambiguous strings.
        assert_eq!(ok("add", &q("1Gi"), &q("1Mi")), q("1025Mi"));
        assert_eq!(ok("add", &q("1G"), &q("1M")), q("1001M"));
        assert_eq!(ok("add", &q("1.5"), &q("1")), q("2500m"));
        assert_eq!(ok("add", &q("0"), &q("1Ki")), q("1Ki"), "a zero first operand takes the second's format");
        assert_eq!(ok("add", &q("1e3"), &q("1")), q("1001"));
        assert_eq!(ok("add", &q("1e3"), &q("1e3")), q("2e3"));
        assert_eq!(ok("add", &q("1h"), &q("5m")), q("1h5m0s"), "5m is a duration next to a duration");
        assert_eq!(ok("add", &q("5m"), &q("5m")), q("10m"), "5m is a quantity (milli) otherwise");
        assert_eq!(ok("add", &q("1h30m"), &q("0")), q("1h30m0s"));
        assert_eq!(ok("add", &q("abc"), "1"), "error: invalid-value");
        assert_eq!(ok("add", "true", "1"), "error: invalid-type");
    }

    #[test]
    fn sum_folds_with_add() {
        assert_eq!(run("sum", &["[]"]), "0");
        assert_eq!(run("sum", &["[12]"]), "12");
        assert_eq!(run("sum", &["[12, 13, 1, 4]"]), "30.0");
        assert_eq!(run("sum", &["[12, 13]"]), "25.0");
        assert_eq!(run("sum", &[r#"["12", "13s"]"#]), "error: invalid-type");
        assert_eq!(run("sum", &[r#"[12, "13Ki"]"#]), "error: invalid-type");
        assert_eq!(run("sum", &[r#"[12, "13"]"#]), "error: invalid-type");
        assert_eq!(run("sum", &[r#"["12Ki"]"#]), q("12Ki"));
        assert_eq!(run("sum", &[r#"["12Ki", "13Ki", "1Ki", "4Ki"]"#]), q("30Ki"));
        assert_eq!(run("sum", &[r#"["12Ki", "13Ki"]"#]), q("25Ki"));
        assert_eq!(run("sum", &[r#"["12Ki", "13"]"#]), q("12301"));
        assert_eq!(run("sum", &[r#"["12Ki", "13s"]"#]), "error: invalid-type");
        assert_eq!(run("sum", &[r#"["12Ki", 13]"#]), "error: invalid-type");
        assert_eq!(run("sum", &[r#"["12s"]"#]), q("12s"));
        assert_eq!(run("sum", &[r#"["12s", "13s", "1s", "4s"]"#]), q("30s"));
        assert_eq!(run("sum", &[r#"["12s", 13]"#]), "error: invalid-type");
        assert_eq!(run("sum", &[r#"["12s", "13Ki"]"#]), "error: invalid-type");
        assert_eq!(run("sum", &[r#"["12s", "13"]"#]), "error: invalid-type");
        // Intermediate results are re-parsed: "12301" is a plain decimal afterwards.
        assert_eq!(run("sum", &[r#"["12Ki", "13", "1Ki"]"#]), q("13325"));
        assert_eq!(run("sum", &[r#"[true]"#]), "true", "Kyverno returns a lone element unchecked");
    }

    #[test]
    fn subtract_by_operand_kind() {
        assert_eq!(ok("subtract", "12", "13"), "-1.0");
        assert_eq!(ok("subtract", &q("12"), &q("13s")), "error: invalid-type");
        assert_eq!(ok("subtract", "12", &q("13Ki")), "error: invalid-type");
        assert_eq!(ok("subtract", "12", &q("13")), "error: invalid-type");
        assert_eq!(ok("subtract", &q("12Ki"), &q("13Ki")), q("-1Ki"));
        assert_eq!(ok("subtract", &q("12Ki"), &q("13")), q("12275"));
        assert_eq!(ok("subtract", &q("12Ki"), &q("13s")), "error: invalid-type");
        assert_eq!(ok("subtract", &q("12Ki"), "13"), "error: invalid-type");
        assert_eq!(ok("subtract", &q("12s"), &q("13s")), q("-1s"));
        assert_eq!(ok("subtract", &q("12s"), "13"), "error: invalid-type");
        assert_eq!(ok("subtract", &q("12s"), &q("13Ki")), "error: invalid-type");
        assert_eq!(ok("subtract", &q("12s"), &q("13")), "error: invalid-type");
        assert_eq!(ok("subtract", &q("1"), &q("1")), q("0"));
        assert_eq!(ok("subtract", &q("1Gi"), &q("512Mi")), q("512Mi"));
    }

    #[test]
    fn multiply_by_operand_kind() {
        assert_eq!(ok("multiply", &q("12Ki"), "2"), q("24Ki"));
        assert_eq!(ok("multiply", &q("12Ki"), &q("12Ki")), "error: invalid-type");
        assert_eq!(ok("multiply", &q("12Ki"), &q("12")), "error: invalid-type");
        assert_eq!(ok("multiply", &q("12Ki"), &q("12s")), "error: invalid-type");
        assert_eq!(ok("multiply", &q("12s"), "2"), q("24s"));
        assert_eq!(ok("multiply", &q("12s"), &q("12Ki")), "error: invalid-type");
        assert_eq!(ok("multiply", &q("12s"), &q("12")), "error: invalid-type");
        assert_eq!(ok("multiply", &q("12s"), &q("12s")), "error: invalid-type");
        assert_eq!(ok("multiply", "2.5", "2.5"), "6.25");
        assert_eq!(ok("multiply", "2.5", &q("12Ki")), q("30Ki"));
        assert_eq!(ok("multiply", "2.5", &q("12")), q("30"));
        assert_eq!(ok("multiply", "2.5", &q("40s")), q("1m40s"));
        // Not in Kyverno's tests.
        assert_eq!(ok("multiply", &q("100m"), "3"), q("300m"));
        assert_eq!(ok("multiply", &q("1Gi"), "0.5"), q("512Mi"));
        assert_eq!(ok("multiply", &q("1"), "0.0001"), q("100u"));
        assert_eq!(ok("multiply", &q("1k"), "1000000"), q("1G"), "the factor goes through %v as 1e+06");
    }

    #[test]
    fn divide_by_operand_kind() {
        assert_eq!(ok("divide", &q("256M"), &q("256M")), "1.0");
        assert_eq!(ok("divide", &q("512M"), &q("256M")), "2.0");
        assert_eq!(ok("divide", &q("8"), &q("3")), format!("{:?}", 8.0f64 / 3.0));
        assert_eq!(ok("divide", &q("128M"), &q("256M")), "0.5");
        assert_eq!(ok("divide", &q("12Ki"), "3"), q("4Ki"));
        assert_eq!(ok("divide", &q("12Ki"), &q("2Ki")), "6.0");
        assert_eq!(ok("divide", &q("12Ki"), &q("200")), "61.44");
        assert_eq!(ok("divide", &q("12Ki"), &q("2s")), "error: invalid-type");
        assert_eq!(ok("divide", &q("12s"), "3"), q("4s"));
        assert_eq!(ok("divide", &q("12s"), &q("5s")), "2.4");
        assert_eq!(ok("divide", &q("12s"), &q("4Ki")), "error: invalid-type");
        assert_eq!(ok("divide", &q("12s"), &q("4")), "error: invalid-type");
        assert_eq!(ok("divide", "14", "3"), "4.666666666666667");
        assert_eq!(ok("divide", "14", &q("5s")), "error: invalid-type");
        assert_eq!(ok("divide", "14", &q("5Ki")), "error: invalid-type");
        assert_eq!(ok("divide", "14", &q("5")), "error: invalid-type");
        for (a, b) in [
            ("14", "0"),
            (&q("4Ki") as &str, "0"),
            (&q("4Ki"), &q("0Ki")),
            (&q("4"), "0"),
            (&q("4"), &q("0")),
            (&q("4s"), "0"),
            (&q("4s"), &q("0s")),
        ] {
            assert_eq!(ok("divide", a, b), "error: invalid-value", "divide({a}, {b})");
        }
        // Not in Kyverno's tests: rounding down at the operands' scale.
        assert_eq!(ok("divide", &q("12Ki"), "5"), q("2457"));
        assert_eq!(ok("divide", &q("1"), "3"), q("0"));
        assert_eq!(ok("divide", &q("1.0"), "3"), q("300m"));
        assert_eq!(ok("divide", &q("1.5Gi"), "2"), q("768Mi"));
        assert_eq!(ok("divide", &q("1h"), "3"), q("20m0s"));
    }

    #[test]
    fn modulo_by_operand_kind() {
        assert_eq!(ok("modulo", &q("12"), &q("13s")), "error: invalid-type");
        assert_eq!(ok("modulo", &q("12Ki"), &q("13s")), "error: invalid-type");
        assert_eq!(ok("modulo", &q("12Ki"), "13"), "error: invalid-type");
        assert_eq!(ok("modulo", &q("12Ki"), &q("5Ki")), q("2Ki"));
        assert_eq!(ok("modulo", &q("13s"), &q("12")), "error: invalid-type");
        assert_eq!(ok("modulo", &q("13s"), &q("12Ki")), "error: invalid-type");
        assert_eq!(ok("modulo", &q("13s"), &q("2s")), q("1s"));
        assert_eq!(ok("modulo", &q("13s"), "2"), "error: invalid-type");
        assert_eq!(ok("modulo", "13", &q("12")), "error: invalid-type");
        assert_eq!(ok("modulo", "13", &q("12Ki")), "error: invalid-type");
        assert_eq!(ok("modulo", "13", &q("5s")), "error: invalid-type");
        assert_eq!(ok("modulo", "13", "5"), "3.0");
        assert_eq!(ok("modulo", "14", "0"), "error: invalid-value");
        assert_eq!(ok("modulo", &q("4Ki"), "0"), "error: invalid-type");
        assert_eq!(ok("modulo", &q("4Ki"), &q("0Ki")), "error: invalid-value");
        assert_eq!(ok("modulo", &q("4"), "0"), "error: invalid-type");
        assert_eq!(ok("modulo", &q("4"), &q("0")), "error: invalid-value");
        assert_eq!(ok("modulo", &q("4s"), "0"), "error: invalid-type");
        assert_eq!(ok("modulo", &q("4s"), &q("0s")), "error: invalid-value");
        assert_eq!(ok("modulo", &q("4"), &q("1.5")), "error: invalid-value");
        assert_eq!(ok("modulo", &q("4.5"), &q("1")), "error: invalid-value");
        assert_eq!(ok("modulo", "14", "1.5"), "error: invalid-value");
        assert_eq!(ok("modulo", "14.5", "2"), "error: invalid-value");
        assert_eq!(ok("modulo", "-7", "2"), "-1.0", "Go's % truncates");
    }

    #[test]
    fn round_to_digits() {
        assert_eq!(ok("round", "23", &q("12Ki")), "error: invalid-type");
        assert_eq!(ok("round", "21", &q("5s")), "error: invalid-type");
        assert_eq!(ok("round", "9.414675", "2"), "9.41");
        assert_eq!(ok("round", "14.123", "6"), "14.123");
        assert_eq!(ok("round", "14", "1.5"), "error: invalid-value");
        assert_eq!(ok("round", "14", "-2"), "error: invalid-value");
        assert_eq!(ok("round", "2.5", "0"), "3.0", "half away from zero");
        assert_eq!(ok("round", "-2.5", "0"), "-3.0");
    }

    #[test]
    fn go_pow_matches_exact_powers() {
        for n in 0..=22 {
            assert_eq!(go_pow10_int(n), format!("1e{n}").parse::<f64>().unwrap(), "10^{n}");
        }
        assert_eq!(go_pow10_int(400), f64::INFINITY);
    }
}
