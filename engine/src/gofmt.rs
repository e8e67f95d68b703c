//! Go's number formatting, where Kyverno's verdicts depend on it.
//!
//! Kyverno compares a resource value against a wildcard pattern after turning it into a
//! string with Go's `strconv`; a float `0.5` becomes `5E-01` there, and `80.000000` when
//! it is compared as a quantity. Matching those strings exactly is what makes a pattern
//! like `"0*"` give the same verdict here as in Kyverno.

use core::fmt::Write;

/// `strconv.FormatFloat(v, 'E', -1, 64)`: the shortest digits that round-trip, as
/// `d.dddE±dd`.
pub fn format_float_e(v: f64, out: &mut impl Write) -> core::fmt::Result {
    if v.is_nan() {
        return out.write_str("NaN");
    }
    if v.is_infinite() {
        return out.write_str(if v > 0.0 { "+Inf" } else { "-Inf" });
    }
    // Rust's `{:E}` gives the same shortest digits with a bare exponent (`1.5E-1`).
    let mut buf = StackStr::<40>::new();
    write!(buf, "{v:E}")?;
    let text = buf.as_str();
    let (mantissa, exp) = text.split_once('E').unwrap_or((text, "0"));
    let (sign, digits) = match exp.strip_prefix('-') {
        Some(d) => ('-', d),
        None => ('+', exp),
    };
    write!(out, "{mantissa}E{sign}")?;
    if digits.len() < 2 {
        out.write_char('0')?;
    }
    out.write_str(digits)
}

/// How Go's `encoding/json` writes a float64: shortest digits, fixed notation unless the
/// magnitude is below 1e-6 or at least 1e21, where it uses `1e+21` / `1e-7`.
pub fn format_json_float(v: f64, out: &mut impl Write) -> core::fmt::Result {
    if !v.is_finite() {
        // encoding/json refuses these; Kyverno never holds them.
        return out.write_str("null");
    }
    let abs = v.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let mut buf = StackStr::<40>::new();
        write!(buf, "{v:e}")?;
        let text = buf.as_str();
        let (mantissa, exp) = text.split_once('e').unwrap_or((text, "0"));
        out.write_str(mantissa)?;
        out.write_char('e')?;
        if !exp.starts_with('-') {
            out.write_char('+')?;
        }
        return out.write_str(exp);
    }
    write!(out, "{v}")
}

/// `fmt.Sprintf("%f", v)`: fixed notation with six decimals.
pub fn format_float_f(v: f64, out: &mut impl Write) -> core::fmt::Result {
    if v.is_nan() {
        return out.write_str("NaN");
    }
    if v.is_infinite() {
        return out.write_str(if v > 0.0 { "+Inf" } else { "-Inf" });
    }
    write!(out, "{v:.6}")
}

/// A fixed-capacity string on the stack, so formatting a number for a comparison does not
/// touch the heap. Writing past the capacity is a `fmt::Error`.
#[derive(Debug)]
pub struct StackStr<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> StackStr<N> {
    pub fn new() -> Self {
        StackStr { buf: [0; N], len: 0 }
    }

    pub fn as_str(&self) -> &str {
        self.buf.get(..self.len).and_then(|b| core::str::from_utf8(b).ok()).unwrap_or("")
    }
}

impl<const N: usize> Default for StackStr<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Write for StackStr<N> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.len + s.len();
        let dst = self.buf.get_mut(self.len..end).ok_or(core::fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(v: f64) -> String {
        let mut s = String::new();
        format_float_e(v, &mut s).unwrap();
        s
    }

    #[test]
    fn e_format_matches_go() {
        assert_eq!(e(0.5), "5E-01");
        assert_eq!(e(1.5), "1.5E+00");
        assert_eq!(e(100.0), "1E+02");
        assert_eq!(e(0.0), "0E+00");
        assert_eq!(e(-2.25e-300), "-2.25E-300");
        assert_eq!(e(f64::INFINITY), "+Inf");
    }

    #[test]
    fn json_format_matches_go() {
        let j = |v: f64| {
            let mut s = String::new();
            format_json_float(v, &mut s).unwrap();
            s
        };
        assert_eq!(j(1.5), "1.5");
        assert_eq!(j(100.0), "100");
        assert_eq!(j(1e21), "1e+21");
        assert_eq!(j(1e-7), "1e-7");
        assert_eq!(j(0.0), "0");
        assert_eq!(j(-2.5e-9), "-2.5e-9");
    }

    #[test]
    fn f_format_matches_go() {
        let mut s = String::new();
        format_float_f(80.0, &mut s).unwrap();
        assert_eq!(s, "80.000000");
    }
}
