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

/// Kubernetes' `resource.Format`: the suffix family a quantity prints in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// `12e6`, `1E-3`.
    DecimalExponent,
    /// `12Mi` (powers of 1024).
    BinarySI,
    /// `12M`, `100m` (powers of 1000), and plain numbers.
    DecimalSI,
}

/// Why [`Exact::parse`] or an [`Exact`] operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExactError {
    /// Not a quantity: Kubernetes' `ParseQuantity` rejects it.
    Invalid,
    /// A quantity, but its exact value does not fit our 128-bit representation
    /// (Kubernetes keeps arbitrary precision there).
    OutOfRange,
}

/// A quantity held the way `resource.Quantity` holds it, for Kyverno's arithmetic:
/// exactly `unscaled × 10^-scale` (an `inf.Dec`), plus the [`Format`] it prints in.
///
/// Unlike [`Quantity`], which only compares, this keeps what arithmetic and printing
/// need: the format (`1Gi + 1Mi` prints as `1025Mi`, `1G + 1M` as `1001M`) and the
/// scale Kubernetes' parser chose (Kyverno's `divide(quantity, number)` rounds at it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exact {
    pub unscaled: i128,
    /// Decimal places (`inf.Dec`'s scale): the value is `unscaled × 10^-scale`.
    pub scale: i32,
    pub format: Format,
}

/// 2^63-1 units: the cap `ParseQuantity` applies to binary-suffixed quantities.
const MAX_INT64_UNITS: i128 = i64::MAX as i128;

impl Exact {
    /// Parses `s` exactly as `resource.ParseQuantity` does, fast path and slow path alike
    /// (the representation it picks decides the scale later rounding uses).
    pub fn parse(s: &str) -> Result<Exact, ExactError> {
        if s.is_empty() {
            return Err(ExactError::Invalid);
        }
        if s == "0" {
            return Ok(Exact { unscaled: 0, scale: 0, format: Format::DecimalSI });
        }
        let parts = split_quantity(s).ok_or(ExactError::Invalid)?;
        let (base2, exponent, format) = interpret_suffix_exact(parts.suffix).ok_or(ExactError::Invalid)?;
        let num_len = parts.num.len() as i64;
        let denom_len = parts.denom.len() as i64;

        // Fast path: the value fits an int64 mantissa with a decimal scale of at least -9.
        let mut precision: i64 = -1;
        let mut scale: i64 = 0;
        let mut mantissa: i64 = 1;
        match format {
            Format::DecimalExponent | Format::DecimalSI => {
                scale = i64::from(exponent);
                precision = 18 - (num_len + denom_len);
            }
            Format::BinarySI => {
                if exponent >= 0 && denom_len == 0 {
                    mantissa = 1i64 << exponent.clamp(0, 62);
                    precision = 15 - num_len - ((exponent as f32) * 3.0 / 10.0) as i64 - 1;
                }
            }
        }
        if precision >= 0 {
            scale -= denom_len;
            if scale >= -9 {
                let mut value: i64 = 0;
                for d in parts.num.bytes().chain(parts.denom.bytes()) {
                    value = value.checked_mul(10).and_then(|v| v.checked_add(i64::from(d - b'0'))).ok_or(ExactError::Invalid)?;
                }
                if let Some(result) = value.checked_mul(mantissa) {
                    let result = if parts.positive { result } else { -result };
                    return Ok(Exact { unscaled: i128::from(result), scale: -(scale as i32), format });
                }
            }
        }

        // Slow path (inf.Dec): the digits times the suffix, rounded up (away from zero) to
        // nano-units, binary quantities capped at 2^63-1.
        if !parts.had_digits {
            return Err(ExactError::Invalid);
        }
        let (pow2, scale10) = if base2 { (exponent as u32, denom_len) } else { (0, denom_len - i64::from(exponent)) };
        let scale10 = i32::try_from(scale10).map_err(|_| ExactError::OutOfRange)?;
        let digits = parts.num.bytes().chain(parts.denom.bytes());
        let mut format = format;
        let (unscaled, scale) = match ceil_scaled(digits, 9 - i64::from(scale10), pow2) {
            Ok(0) => (0, scale10),
            Ok(n) if format == Format::BinarySI && n > MAX_INT64_UNITS * 1_000_000_000 => (MAX_INT64_UNITS, 0),
            Ok(n) => (n, 9),
            Err(Scaled::TooBig) if format == Format::BinarySI => (MAX_INT64_UNITS, 0),
            Err(_) => return Err(ExactError::OutOfRange),
        };
        if format == Format::BinarySI && scale == 9 && unscaled > 0 && unscaled < 1_000_000_000 {
            format = Format::DecimalSI;
        }
        Ok(Exact { unscaled: if parts.positive { unscaled } else { -unscaled }, scale, format })
    }

    /// A whole number of units in the given format (`resource.NewQuantity`).
    pub fn from_int(value: i64, format: Format) -> Exact {
        Exact { unscaled: i128::from(value), scale: 0, format }
    }

    pub fn is_zero(&self) -> bool {
        self.unscaled == 0
    }

    /// `Quantity.Add`: the sum keeps `self`'s format, or `other`'s when `self` is zero.
    pub fn checked_add(self, other: Exact) -> Result<Exact, ExactError> {
        let format = if self.is_zero() { other.format } else { self.format };
        let scale = self.scale.max(other.scale);
        let a = rescale(self.unscaled, scale - self.scale)?;
        let b = rescale(other.unscaled, scale - other.scale)?;
        Ok(Exact { unscaled: a.checked_add(b).ok_or(ExactError::OutOfRange)?, scale, format })
    }

    /// `Quantity.Sub`, with `Add`'s format rule.
    pub fn checked_sub(self, other: Exact) -> Result<Exact, ExactError> {
        self.checked_add(Exact { unscaled: other.unscaled.checked_neg().ok_or(ExactError::OutOfRange)?, ..other })
    }

    /// `inf.Dec.Mul`: exact product, scales add; keeps `self`'s format.
    pub fn checked_mul(self, other: Exact) -> Result<Exact, ExactError> {
        Ok(Exact {
            unscaled: self.unscaled.checked_mul(other.unscaled).ok_or(ExactError::OutOfRange)?,
            scale: self.scale.checked_add(other.scale).ok_or(ExactError::OutOfRange)?,
            format: self.format,
        })
    }

    /// `inf.Dec.QuoRound(self, other, scale, RoundDown)`: the quotient truncated toward
    /// zero at `scale` decimal places; keeps `self`'s format. `None` divisor zero.
    pub fn quo_round_down(self, other: Exact, scale: i32) -> Result<Exact, ExactError> {
        if other.unscaled == 0 {
            return Err(ExactError::Invalid);
        }
        let shift = i64::from(scale) - i64::from(self.scale) + i64::from(other.scale);
        let (num, den) = if shift >= 0 {
            (rescale(self.unscaled, i32::try_from(shift).map_err(|_| ExactError::OutOfRange)?)?, other.unscaled)
        } else {
            match rescale(other.unscaled, i32::try_from(-shift).map_err(|_| ExactError::OutOfRange)?) {
                Ok(den) => (self.unscaled, den),
                // A divisor beyond 10^38 leaves a quotient that truncates to zero.
                Err(_) => (0, 1),
            }
        };
        Ok(Exact { unscaled: num / den, scale, format: self.format })
    }

    /// `Quantity.AsApproximateFloat64`: the unscaled value as a float times `10^-scale`
    /// (Go's `math.Pow10`, so results match Kyverno to the last bit).
    pub fn as_approximate_f64(&self) -> f64 {
        let base = self.unscaled as f64;
        let exponent = -i64::from(self.scale);
        if exponent == 0 {
            return base;
        }
        base * go_pow10(exponent)
    }

    /// `Quantity.String()`: Kubernetes' canonical form in the quantity's format (`1536Mi`,
    /// `1500m`, `1e3`). Like Kubernetes, a decimal exponent outside `n`..`E` prints
    /// without a suffix.
    pub fn write_canonical(&self, out: &mut impl core::fmt::Write) -> Result<(), ExactError> {
        if self.unscaled == 0 {
            return out.write_str("0").map_err(|_| ExactError::OutOfRange);
        }
        let mut format = self.format;
        if format == Format::BinarySI {
            let integral = self.scale <= 0 || self.unscaled % pow10_i128(self.scale as u32).ok_or(ExactError::OutOfRange)? == 0;
            let small = self.cmp_int(-1024) == core::cmp::Ordering::Greater && self.cmp_int(1024) == core::cmp::Ordering::Less;
            if small || !integral {
                format = Format::DecimalSI;
            }
        }
        let w = |r: core::fmt::Result| r.map_err(|_| ExactError::OutOfRange);
        match format {
            Format::BinarySI => {
                let mut value = if self.scale <= 0 {
                    rescale(self.unscaled, -self.scale)?
                } else {
                    self.unscaled / pow10_i128(self.scale as u32).ok_or(ExactError::OutOfRange)?
                };
                let mut exponent = 0;
                while value != 0 && value % 1024 == 0 {
                    value /= 1024;
                    exponent += 1;
                }
                w(write!(out, "{value}"))?;
                let suffix = match exponent {
                    0 => "",
                    1 => "Ki",
                    2 => "Mi",
                    3 => "Gi",
                    4 => "Ti",
                    5 => "Pi",
                    6 => "Ei",
                    _ => "",
                };
                w(out.write_str(suffix))
            }
            Format::DecimalSI | Format::DecimalExponent => {
                let mut amount = self.unscaled;
                let mut exponent = -i64::from(self.scale);
                while amount % 10 == 0 {
                    amount /= 10;
                    exponent += 1;
                }
                while exponent % 3 != 0 {
                    amount = amount.checked_mul(10).ok_or(ExactError::OutOfRange)?;
                    exponent -= 1;
                }
                w(write!(out, "{amount}"))?;
                if format == Format::DecimalExponent {
                    if exponent != 0 {
                        w(write!(out, "e{exponent}"))?;
                    }
                    return Ok(());
                }
                let suffix = match exponent {
                    -9 => "n",
                    -6 => "u",
                    -3 => "m",
                    3 => "k",
                    6 => "M",
                    9 => "G",
                    12 => "T",
                    15 => "P",
                    18 => "E",
                    _ => "",
                };
                w(out.write_str(suffix))
            }
        }
    }

    /// The canonical form as a `String` (see [`Exact::write_canonical`]).
    pub fn to_canonical_string(&self) -> Result<String, ExactError> {
        let mut s = String::new();
        self.write_canonical(&mut s)?;
        Ok(s)
    }

    fn cmp_int(&self, v: i64) -> core::cmp::Ordering {
        match Exact::from_int(v, Format::DecimalSI).checked_sub(*self) {
            Ok(d) => 0.cmp(&d.unscaled),
            // Only huge magnitudes overflow: they compare by sign.
            Err(_) => self.unscaled.cmp(&0),
        }
    }
}

/// The pieces `parseQuantityString` finds: sign, digits before and after the point,
/// and the suffix.
struct QuantityParts<'s> {
    positive: bool,
    /// The number part had at least one digit (`.` alone has none).
    had_digits: bool,
    num: &'s str,
    denom: &'s str,
    suffix: &'s str,
}

/// Go's `parseQuantityString`, byte for byte.
fn split_quantity(s: &str) -> Option<QuantityParts<'_>> {
    let b = s.as_bytes();
    let end = b.len();
    let mut pos = 0;
    let mut positive = true;
    match b.first() {
        Some(b'-') => {
            positive = false;
            pos = 1;
        }
        Some(b'+') => pos = 1,
        _ => {}
    }
    let zeros_start = pos;
    while pos < end && b.get(pos) == Some(&b'0') {
        pos += 1;
    }
    if pos >= end {
        return Some(QuantityParts { positive, had_digits: true, num: "0", denom: "", suffix: "" });
    }
    let had_zeros = pos > zeros_start;
    let num_start = pos;
    while pos < end && b.get(pos).is_some_and(u8::is_ascii_digit) {
        pos += 1;
    }
    let mut num = s.get(num_start..pos)?;
    let mut had_digits = had_zeros || !num.is_empty();
    if num.is_empty() {
        num = "0";
    }
    let mut denom = "";
    if pos < end && b.get(pos) == Some(&b'.') {
        pos += 1;
        let denom_start = pos;
        while pos < end && b.get(pos).is_some_and(u8::is_ascii_digit) {
            pos += 1;
        }
        denom = s.get(denom_start..pos)?;
        had_digits |= !denom.is_empty();
        if pos >= end {
            return Some(QuantityParts { positive, had_digits, num, denom, suffix: "" });
        }
    }
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
    Some(QuantityParts { positive, had_digits, num, denom, suffix: s.get(suffix_start..)? })
}

/// Go's `quantitySuffixer.interpret`: (is base 2, exponent, format).
fn interpret_suffix_exact(suffix: &str) -> Option<(bool, i32, Format)> {
    let dec = |e| Some((false, e, Format::DecimalSI));
    let bin = |e| Some((true, e, Format::BinarySI));
    match suffix {
        "" => dec(0),
        "n" => dec(-9),
        "u" => dec(-6),
        "m" => dec(-3),
        "k" => dec(3),
        "M" => dec(6),
        "G" => dec(9),
        "T" => dec(12),
        "P" => dec(15),
        "E" => dec(18),
        "Ki" => bin(10),
        "Mi" => bin(20),
        "Gi" => bin(30),
        "Ti" => bin(40),
        "Pi" => bin(50),
        "Ei" => bin(60),
        _ if suffix.len() > 1 => {
            let rest = suffix.strip_prefix(['e', 'E'])?;
            // strconv.ParseInt(rest, 10, 64), then int32(...) truncation.
            let exp: i64 = rest.parse().ok()?;
            Some((false, exp as i32, Format::DecimalExponent))
        }
        _ => None,
    }
}

/// Why [`ceil_scaled`] gave up.
enum Scaled {
    /// The result exceeds an `i128`.
    TooBig,
    /// A binary suffix with more than 20 digits below the nano-unit: Kubernetes handles
    /// it (arbitrary precision), we do not.
    TooPrecise,
}

/// `ceil(digits × 2^pow2 × 10^scale)`, the slow path's `Round(9, RoundUp)`.
fn ceil_scaled(digits: impl Iterator<Item = u8> + Clone, scale: i64, pow2: u32) -> Result<i128, Scaled> {
    fn parse(it: impl Iterator<Item = u8>) -> Result<i128, Scaled> {
        let mut acc: i128 = 0;
        for d in it {
            acc = acc.checked_mul(10).and_then(|a| a.checked_add(i128::from(d.wrapping_sub(b'0')))).ok_or(Scaled::TooBig)?;
        }
        Ok(acc)
    }
    let times_pow2 = |v: i128| v.checked_mul(1i128 << pow2.min(100)).ok_or(Scaled::TooBig);
    if scale >= 0 {
        let mut v = times_pow2(parse(digits.clone())?)?;
        for _ in 0..scale {
            if v == 0 {
                break;
            }
            v = v.checked_mul(10).ok_or(Scaled::TooBig)?;
        }
        return Ok(v);
    }
    let k = -scale;
    let count = digits.clone().count() as i64;
    if pow2 == 0 {
        // Keep the leading digits, round up if any dropped digit is non-zero.
        let keep = (count - k).max(0) as usize;
        let q = parse(digits.clone().take(keep))?;
        let round_up = digits.skip(keep).any(|d| d != b'0');
        return q.checked_add(i128::from(round_up)).ok_or(Scaled::TooBig);
    }
    if k > 20 {
        return Err(Scaled::TooPrecise);
    }
    let n = times_pow2(parse(digits.clone())?)?;
    let div = 10i128.pow(k as u32);
    Ok(n / div + i128::from(n % div != 0))
}

/// `v × 10^places`, checked.
fn rescale(v: i128, places: i32) -> Result<i128, ExactError> {
    if places <= 0 {
        return Ok(v);
    }
    let p = pow10_i128(places as u32).ok_or(ExactError::OutOfRange)?;
    v.checked_mul(p).ok_or(ExactError::OutOfRange)
}

fn pow10_i128(n: u32) -> Option<i128> {
    10i128.checked_pow(n)
}

/// Go's `math.Pow10`: exact table products, so values match Go bit for bit.
pub fn go_pow10(n: i64) -> f64 {
    const TAB: [f64; 32] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
        1e23, 1e24, 1e25, 1e26, 1e27, 1e28, 1e29, 1e30, 1e31,
    ];
    const POS32: [f64; 10] = [1e0, 1e32, 1e64, 1e96, 1e128, 1e160, 1e192, 1e224, 1e256, 1e288];
    const NEG32: [f64; 11] = [1e-0, 1e-32, 1e-64, 1e-96, 1e-128, 1e-160, 1e-192, 1e-224, 1e-256, 1e-288, 1e-320];
    let idx = |k: i64| (k / 32) as usize;
    let rem = |k: i64| (k % 32) as usize;
    if (0..=308).contains(&n) {
        return POS32.get(idx(n)).copied().unwrap_or(f64::INFINITY) * TAB.get(rem(n)).copied().unwrap_or(1.0);
    }
    if (-323..=0).contains(&n) {
        let m = -n;
        return NEG32.get(idx(m)).copied().unwrap_or(0.0) / TAB.get(rem(m)).copied().unwrap_or(1.0);
    }
    if n > 0 {
        f64::INFINITY
    } else {
        0.0
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

    fn canonical(s: &str) -> String {
        Exact::parse(s).and_then(|q| q.to_canonical_string()).unwrap_or_else(|e| format!("{e:?}"))
    }

    #[test]
    fn exact_parse_keeps_kubernetes_representation() {
        // Fast path: int64 mantissa at the written scale.
        assert_eq!(Exact::parse("1.5"), Ok(Exact { unscaled: 15, scale: 1, format: Format::DecimalSI }));
        assert_eq!(Exact::parse("1k"), Ok(Exact { unscaled: 1, scale: -3, format: Format::DecimalSI }));
        assert_eq!(Exact::parse("12Ki"), Ok(Exact { unscaled: 12288, scale: 0, format: Format::BinarySI }));
        assert_eq!(Exact::parse("1e3"), Ok(Exact { unscaled: 1, scale: -3, format: Format::DecimalExponent }));
        assert_eq!(Exact::parse("-100m"), Ok(Exact { unscaled: -100, scale: 3, format: Format::DecimalSI }));
        // Slow path: rounded up to nano-units (scale 9).
        assert_eq!(Exact::parse("1.5Gi"), Ok(Exact { unscaled: 1_610_612_736_000_000_000, scale: 9, format: Format::BinarySI }));
        assert_eq!(Exact::parse("0.1n"), Ok(Exact { unscaled: 1, scale: 9, format: Format::DecimalSI }));
        assert_eq!(Exact::parse("0.0000000001Ki"), Ok(Exact { unscaled: 103, scale: 9, format: Format::DecimalSI }));
        // Binary quantities are capped at 2^63-1; decimal ones are not.
        assert_eq!(Exact::parse("99999999999999999999Ki"), Ok(Exact { unscaled: i64::MAX as i128, scale: 0, format: Format::BinarySI }));
        assert_eq!(Exact::parse("1e30").map(|q| q.scale), Ok(-30));
        assert_eq!(Exact::parse(&"9".repeat(40)), Err(ExactError::OutOfRange));
        for bad in ["", "abc", "1h", "1Kib", ".e-10", "-"] {
            assert!(Exact::parse(bad) != Ok(Exact::from_int(1, Format::DecimalSI)), "{bad:?}");
        }
        assert_eq!(Exact::parse(".e-10"), Err(ExactError::Invalid), "no digits on the slow path");
        assert_eq!(Exact::parse("-"), Ok(Exact { unscaled: 0, scale: 0, format: Format::DecimalSI }));
    }

    #[test]
    fn canonical_strings_match_kubernetes() {
        for (input, want) in [
            ("0", "0"),
            ("1.5", "1500m"),
            ("1.5Gi", "1536Mi"),
            ("1024", "1024"),
            ("1024Ki", "1Mi"),
            ("1000Ki", "1000Ki"),
            ("0.5Ki", "512"),
            ("1000", "1k"),
            ("1000000", "1M"),
            ("100m", "100m"),
            ("0.1", "100m"),
            ("1e3", "1e3"),
            ("1.5e3", "1500"),
            ("12e6", "12e6"),
            ("1E-3", "1e-3"),
            ("-1.5", "-1500m"),
            ("1000E", "1"),
            ("123456789", "123456789"),
            ("1n", "1n"),
        ] {
            assert_eq!(canonical(input), want, "{input}");
        }
    }

    #[test]
    fn exact_arithmetic_formats() {
        let q = |s: &str| Exact::parse(s).unwrap();
        let c = |r: Result<Exact, ExactError>| r.and_then(|q| q.to_canonical_string()).unwrap();
        assert_eq!(c(q("12Ki").checked_add(q("13Ki"))), "25Ki");
        assert_eq!(c(q("12Ki").checked_add(q("13"))), "12301");
        assert_eq!(c(q("0").checked_add(q("1Mi"))), "1Mi");
        assert_eq!(c(q("1").checked_sub(q("1.5"))), "-500m");
        assert_eq!(c(q("12Ki").checked_mul(q("2.5"))), "30Ki");
        assert_eq!(c(q("1n").checked_mul(q("0.5"))), "500", "Kubernetes has no suffix below n");
        assert_eq!(c(q("12Ki").quo_round_down(q("5"), 0)), "2457");
        assert_eq!(c(q("1.0").quo_round_down(q("3"), 1)), "300m");
        assert_eq!(q("12Ki").as_approximate_f64() / q("200").as_approximate_f64(), 61.44);
        assert_eq!(q("1.5Gi").as_approximate_f64(), 1_610_612_736.0);
    }

    #[test]
    fn go_pow10_table() {
        assert_eq!(go_pow10(0), 1.0);
        assert_eq!(go_pow10(-9), 1.0 / 1e9);
        assert_eq!(go_pow10(308), 1e308);
        assert_eq!(go_pow10(309), f64::INFINITY);
        assert_eq!(go_pow10(-324), 0.0);
    }

    #[test]
    fn equal_values_compare_equal() {
        assert_eq!(Quantity::parse("1Gi"), Quantity::parse("1024Mi"));
        assert_eq!(Quantity::parse("0.1"), Quantity::parse("100m"));
        assert!(Quantity::parse("1k") < Quantity::parse("1Ki"));
    }
}
