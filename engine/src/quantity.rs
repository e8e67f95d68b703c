//! Kubernetes resource quantities (`100Mi`, `0.5`, `250m`, `1e3`), parsed exactly as
//! `k8s.io/apimachinery/pkg/api/resource.ParseQuantity` accepts them and compared exactly.
//!
//! Kyverno compares pattern values such as `<=4Gi` or `>100m` as quantities whenever both
//! sides parse as one. Kubernetes rounds every non-zero quantity up (away from zero) to a
//! whole number of nano-units and caps its magnitude at 2^63-1 units, so a quantity is
//! exactly an `i128` count of nano-units: comparisons are integer comparisons.

use core::cmp::Ordering;

/// A parsed quantity: an exact, signed count of nano-units (10^-9 of the base unit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quantity {
    nanos: i128,
}

/// Largest magnitude Kubernetes keeps: 2^63-1 units, in nanos.
const MAX_NANOS: i128 = (i64::MAX as i128) * 1_000_000_000;

impl Quantity {
    /// Parses `s` with Kubernetes' grammar: an optional sign, digits with an optional
    /// fraction, and an optional suffix (`n u m k M G T P E`, `Ki Mi Gi Ti Pi Ei`, or a
    /// decimal exponent `e3` / `E-3`). Returns `None` where Kubernetes returns an error.
    pub fn parse(s: &str) -> Option<Quantity> {
        if s.is_empty() {
            return None;
        }
        let b = s.as_bytes();
        let end = b.len();
        let mut pos = 0;
        let mut negative = false;
        match b.first() {
            Some(b'-') => {
                negative = true;
                pos += 1;
            }
            Some(b'+') => pos += 1,
            _ => {}
        }
        // Leading zeros; input that is only a sign and zeros is zero.
        while pos < end && b.get(pos) == Some(&b'0') {
            pos += 1;
        }
        if pos >= end {
            return Some(Quantity { nanos: 0 });
        }
        let num_start = pos;
        while pos < end && b.get(pos).is_some_and(u8::is_ascii_digit) {
            pos += 1;
        }
        let num = s.get(num_start..pos)?;
        let mut denom = "";
        if pos < end && b.get(pos) == Some(&b'.') {
            pos += 1;
            let denom_start = pos;
            while pos < end && b.get(pos).is_some_and(u8::is_ascii_digit) {
                pos += 1;
            }
            denom = s.get(denom_start..pos)?;
        }
        // Suffix: letters from the suffix alphabet, then an optional signed integer.
        let suffix_start = pos;
        while pos < end && b.get(pos).is_some_and(|c| b"eEinumkKMGTP".contains(c)) {
            pos += 1;
        }
        if pos < end && matches!(b.get(pos), Some(b'-' | b'+')) {
            pos += 1;
        }
        while pos < end && b.get(pos).is_some_and(u8::is_ascii_digit) {
            pos += 1;
        }
        if pos != end {
            return None;
        }
        let suffix = s.get(suffix_start..)?;
        let (base2_exp, base10_exp) = interpret_suffix(suffix)?;

        // value = digits × 10^(base10_exp - len(denom)) × 2^base2_exp; in nanos add 9.
        let digits = num.bytes().chain(denom.bytes());
        let scale = i64::from(base10_exp) - denom.len() as i64 + 9;
        let magnitude = scaled_ceil(digits, num.len() + denom.len(), scale, base2_exp);
        let nanos = magnitude.min(MAX_NANOS);
        Some(Quantity { nanos: if negative { -nanos } else { nanos } })
    }

    /// The exact value in nano-units.
    pub fn nanos(self) -> i128 {
        self.nanos
    }

    pub fn compare(self, other: Quantity) -> Ordering {
        self.nanos.cmp(&other.nanos)
    }
}

/// Maps a suffix to (power of two, power of ten), or `None` for an unknown suffix.
fn interpret_suffix(suffix: &str) -> Option<(u32, i32)> {
    let decimal = |e: i32| Some((0, e));
    match suffix {
        "" => decimal(0),
        "n" => decimal(-9),
        "u" => decimal(-6),
        "m" => decimal(-3),
        "k" => decimal(3),
        "M" => decimal(6),
        "G" => decimal(9),
        "T" => decimal(12),
        "P" => decimal(15),
        "E" => decimal(18),
        "Ki" => Some((10, 0)),
        "Mi" => Some((20, 0)),
        "Gi" => Some((30, 0)),
        "Ti" => Some((40, 0)),
        "Pi" => Some((50, 0)),
        "Ei" => Some((60, 0)),
        _ => {
            let rest = suffix.strip_prefix(['e', 'E'])?;
            // Go's strconv.ParseInt(rest, 10, 32): optional sign, then digits.
            let exp: i32 = rest.parse().ok()?;
            decimal(exp)
        }
    }
}

/// `ceil(digits × 2^pow2 × 10^scale)`, saturating just above [`MAX_NANOS`].
fn scaled_ceil(digits: impl Iterator<Item = u8> + Clone, count: usize, scale: i64, pow2: u32) -> i128 {
    const SATURATED: i128 = MAX_NANOS + 1;
    // Exact path: the digits and the binary factor fit in an i128.
    let exact = digits
        .clone()
        .try_fold(0i128, |acc, d| acc.checked_mul(10)?.checked_add(i128::from(d.wrapping_sub(b'0'))))
        .and_then(|n| n.checked_mul(1i128 << pow2));
    if let Some(n) = exact {
        if n == 0 {
            return 0;
        }
        if scale >= 0 {
            let mut v = n;
            for _ in 0..scale {
                v = match v.checked_mul(10) {
                    Some(x) if x <= SATURATED => x,
                    _ => return SATURATED,
                };
            }
            return v.min(SATURATED);
        }
        let mut divisor: i128 = 1;
        for _ in 0..(-scale) {
            divisor = match divisor.checked_mul(10) {
                Some(x) => x,
                // Dividing by more than 10^38 leaves less than one nano: rounds up to one.
                None => return 1,
            };
        }
        let q = n / divisor + i128::from(n % divisor != 0);
        return q.min(SATURATED);
    }
    // More than ~38 significant digits: keep the integer part of the scaled decimal,
    // round up if anything non-zero was dropped, then apply the binary factor.
    let keep = count as i64 + scale.min(0);
    let mut value: i128 = 0;
    let mut round_up = false;
    for (i, d) in digits.enumerate() {
        let d = i128::from(d.wrapping_sub(b'0'));
        if (i as i64) < keep {
            value = match value.checked_mul(10).and_then(|v| v.checked_add(d)) {
                Some(v) if v <= SATURATED => v,
                _ => return SATURATED,
            };
        } else if d != 0 {
            round_up = true;
        }
    }
    for _ in 0..scale.max(0) {
        value = match value.checked_mul(10) {
            Some(v) if v <= SATURATED => v,
            _ => return SATURATED,
        };
    }
    value += i128::from(round_up);
    match value.checked_mul(1i128 << pow2) {
        Some(v) if v <= SATURATED => v,
        _ => SATURATED,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Option<i128> {
        Quantity::parse(s).map(Quantity::nanos)
    }

    #[test]
    fn parses_kubernetes_forms() {
        assert_eq!(q("0"), Some(0));
        assert_eq!(q("1"), Some(1_000_000_000));
        assert_eq!(q("100m"), Some(100_000_000));
        assert_eq!(q("0.5"), Some(500_000_000));
        assert_eq!(q(".5"), Some(500_000_000));
        assert_eq!(q("1Ki"), Some(1024 * 1_000_000_000));
        assert_eq!(q("1.5Gi"), Some(1_610_612_736 * 1_000_000_000));
        assert_eq!(q("1e3"), Some(1_000_000_000_000));
        assert_eq!(q("1E-3"), Some(1_000_000));
        assert_eq!(q("2E"), Some(2_000_000_000_000_000_000 * 1_000_000_000));
        assert_eq!(q("-1k"), Some(-1_000_000_000_000));
        assert_eq!(q("+5"), Some(5_000_000_000));
        assert_eq!(q("1n"), Some(1));
        assert_eq!(q("1.G"), Some(1_000_000_000_000_000_000));
        assert_eq!(q("m"), Some(0));
        assert_eq!(q("-"), Some(0));
    }

    #[test]
    fn rounds_up_to_nanos_and_caps() {
        assert_eq!(q("0.1n"), Some(1));
        assert_eq!(q("-0.1n"), Some(-1));
        assert_eq!(q("1.0000000001"), Some(1_000_000_001));
        assert_eq!(q("99999999999999999999999"), Some(MAX_NANOS));
        assert_eq!(q("1e100"), Some(MAX_NANOS));
        assert_eq!(q("0.0000000001Ki"), Some(103));
    }

    #[test]
    fn rejects_what_kubernetes_rejects() {
        for bad in ["", "abc", "1h", "nginx", "e", "1x", "1 ", " 1", "1Kib", "1.2.3", "?*", "*", "true", "1e", "Always", "1-5"] {
            assert_eq!(q(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn equal_values_compare_equal() {
        assert_eq!(Quantity::parse("1Gi"), Quantity::parse("1024Mi"));
        assert_eq!(Quantity::parse("0.1"), Quantity::parse("100m"));
        assert!(Quantity::parse("1k") < Quantity::parse("1Ki"));
    }
}
