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
    fn rejects_what_go_rejects() {
        for bad in ["", "1", "10", "h", "1d", "1 h", "s1", ".s", "-", "9223372036854775808ns", "1e3s", "1.5"] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
