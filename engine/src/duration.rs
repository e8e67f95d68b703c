//! Go durations (`1h30m`, `300ms`, `-1.5h`), parsed exactly as Go's `time.ParseDuration`
//! accepts them, as a signed count of nanoseconds.
//!
//! Kyverno tries a duration comparison before a quantity comparison whenever a pattern
//! value such as `<=1h` parses as a duration, and the `Duration*` condition operators
//! compare durations too.

/// Parses a Go duration: an optional sign, then one or more `number unit` pairs where the
/// number may have a fraction and the unit is `ns`, `us`, `µs`, `μs`, `ms`, `s`, `m` or
/// `h`. The lone string `0` is zero. Returns nanoseconds, or `None` where Go returns an
/// error (including overflow of `i64`).
pub fn parse(s: &str) -> Option<i64> {
    let mut rest = s;
    let mut negative = false;
    if let Some(r) = rest.strip_prefix('-') {
        negative = true;
        rest = r;
    } else if let Some(r) = rest.strip_prefix('+') {
        rest = r;
    }
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let first = rest.as_bytes().first().copied()?;
        if !(first == b'.' || first.is_ascii_digit()) {
            return None;
        }
        // Integer part.
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (int_digits, after) = rest.split_at(int_len);
        let mut v: u64 = 0;
        for d in int_digits.bytes() {
            if v > (1 << 63) / 10 {
                return None;
            }
            v = v * 10 + u64::from(d - b'0');
            if v > 1 << 63 {
                return None;
            }
        }
        rest = after;
        // Fraction: digits past the point where they overflow are ignored, as in Go.
        let mut frac: u64 = 0;
        let mut scale: f64 = 1.0;
        let mut has_frac = false;
        if let Some(r) = rest.strip_prefix('.') {
            let frac_len = r.bytes().take_while(u8::is_ascii_digit).count();
            let (frac_digits, after) = r.split_at(frac_len);
            has_frac = frac_len > 0;
            let mut overflow = false;
            for d in frac_digits.bytes() {
                if overflow {
                    continue;
                }
                if frac > (1 << 63) / 10 {
                    overflow = true;
                    continue;
                }
                let y = frac * 10 + u64::from(d - b'0');
                if y > 1 << 63 {
                    overflow = true;
                    continue;
                }
                frac = y;
                scale *= 10.0;
            }
            rest = after;
        }
        if int_len == 0 && !has_frac {
            return None;
        }
        // Unit: everything up to the next digit or point.
        let unit_len = rest.bytes().take_while(|&c| !(c == b'.' || c.is_ascii_digit())).count();
        if unit_len == 0 {
            return None;
        }
        let (unit, after) = rest.split_at(unit_len);
        rest = after;
        let unit: u64 = match unit {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        if v > (1 << 63) / unit {
            return None;
        }
        v *= unit;
        if frac > 0 {
            v += (frac as f64 * (unit as f64 / scale)) as u64;
            if v > 1 << 63 {
                return None;
            }
        }
        total = total.checked_add(v)?;
        if total > 1 << 63 {
            return None;
        }
    }
    if negative {
        return Some((total as i128).wrapping_neg() as i64);
    }
    i64::try_from(total).ok()
}

/// Go's `time.Duration.String()`: `1h30m0s`, `1.5s`, `300ms`, `1µs`, `0s`, `-2m3s`.
/// Whole hours never roll into days, as in Go.
pub fn format(nanos: i64, out: &mut impl core::fmt::Write) -> core::fmt::Result {
    // Right-to-left into a fixed buffer, as Go does; the longest is
    // "-2562047h47m16.854775808s" (25 bytes).
    let mut buf = [0u8; 32];
    let mut w = buf.len();
    let mut put = |w: &mut usize, b: u8| {
        *w -= 1;
        if let Some(slot) = buf.get_mut(*w) {
            *slot = b;
        }
    };
    let neg = nanos < 0;
    let mut u = nanos.unsigned_abs();
    if u < 1_000_000_000 {
        // Under a second: the largest unit below it, with a fraction.
        let prec;
        put(&mut w, b's');
        if u == 0 {
            put(&mut w, b'0');
            return out.write_str(core::str::from_utf8(buf.get(w..).unwrap_or_default()).unwrap_or("0s"));
        } else if u < 1_000 {
            prec = 0;
            put(&mut w, b'n');
        } else if u < 1_000_000 {
            prec = 3;
            // U+00B5 MICRO SIGN, two bytes.
            put(&mut w, 0xB5);
            put(&mut w, 0xC2);
        } else {
            prec = 6;
            put(&mut w, b'm');
        }
        u = fmt_frac(&mut put, &mut w, u, prec);
        fmt_int(&mut put, &mut w, u);
    } else {
        put(&mut w, b's');
        u = fmt_frac(&mut put, &mut w, u, 9);
        fmt_int(&mut put, &mut w, u % 60);
        u /= 60;
        if u > 0 {
            put(&mut w, b'm');
            fmt_int(&mut put, &mut w, u % 60);
            u /= 60;
            if u > 0 {
                put(&mut w, b'h');
                fmt_int(&mut put, &mut w, u);
            }
        }
    }
    if neg {
        put(&mut w, b'-');
    }
    out.write_str(core::str::from_utf8(buf.get(w..).unwrap_or_default()).map_err(|_| core::fmt::Error)?)
}

/// Go's `fmtFrac`: writes `v / 10^prec`'s fraction without trailing zeros (and without
/// the point when it is zero); returns the integer part.
fn fmt_frac(put: &mut impl FnMut(&mut usize, u8), w: &mut usize, mut v: u64, prec: u32) -> u64 {
    let mut print = false;
    for _ in 0..prec {
        let digit = (v % 10) as u8;
        print = print || digit != 0;
        if print {
            put(w, b'0' + digit);
        }
        v /= 10;
    }
    if print {
        put(w, b'.');
    }
    v
}

/// Go's `fmtInt`: writes `v` in decimal.
fn fmt_int(put: &mut impl FnMut(&mut usize, u8), w: &mut usize, mut v: u64) {
    if v == 0 {
        put(w, b'0');
        return;
    }
    while v > 0 {
        put(w, b'0' + (v % 10) as u8);
        v /= 10;
    }
}

/// [`format`] into a `String`.
pub fn to_go_string(nanos: i64) -> String {
    let mut s = String::new();
    let _ = format(nanos, &mut s);
    s
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn parses_go_durations() {
        assert_eq!(parse("0"), Some(0));
        assert_eq!(parse("1h30m"), Some(5_400_000_000_000));
        assert_eq!(parse("300ms"), Some(300_000_000));
        assert_eq!(parse("-1.5h"), Some(-5_400_000_000_000));
        assert_eq!(parse("1.5s"), Some(1_500_000_000));
        assert_eq!(parse(".5s"), Some(500_000_000));
        assert_eq!(parse("1us"), Some(1_000));
        assert_eq!(parse("1µs"), Some(1_000));
        assert_eq!(parse("2h45m0.5s"), Some(9_900_500_000_000));
        assert_eq!(parse("+10s"), Some(10_000_000_000));
        assert_eq!(parse("-9223372036854775808ns"), Some(i64::MIN));
    }

    #[test]
    fn formats_like_go_duration_string() {
        use super::to_go_string as f;
        assert_eq!(f(0), "0s");
        assert_eq!(f(1), "1ns");
        assert_eq!(f(1_100), "1.1µs");
        assert_eq!(f(2_200_000), "2.2ms");
        assert_eq!(f(3_300_000_000), "3.3s");
        assert_eq!(f(100_000_000_000), "1m40s");
        assert_eq!(f(3_600_000_000_000), "1h0m0s");
        assert_eq!(f(648_600_000_000_000), "180h10m0s");
        assert_eq!(f(-1_000_000_000), "-1s");
        assert_eq!(f(i64::MIN), "-2562047h47m16.854775808s");
        assert_eq!(f(i64::MAX), "2562047h47m16.854775807s");
    }

    #[test]
    fn rejects_what_go_rejects() {
        for bad in ["", "1", "10", "h", "1d", "1 h", "s1", ".s", "-", "9223372036854775808ns", "1e3s", "1.5"] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
