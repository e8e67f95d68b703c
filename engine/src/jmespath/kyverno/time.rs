//! Time functions: `time_since`, `time_now`, `time_now_utc`, `time_add`, `time_parse`,
//! `time_to_cron`, `time_utc`, `time_diff`, `time_before`, `time_after`,
//! `time_between`, `time_truncate`.
//!
//! Kyverno parses with Go's `time.Parse` (RFC 3339 unless a layout is given) and prints
//! with `Format(time.RFC3339)` and `Duration.String()`. This module ports Go's layout
//! parser ([`parse`]: the reference-time layouts `2006-01-02T15:04:05Z07:00`,
//! `Mon Jan _2 15:04:05 MST 2006`, fractional seconds, zone names and offsets, day of
//! year, AM/PM) and its RFC 3339 formatter, so every accepted input, rejected input and
//! printed string matches. Kyverno runs with the local zone set to UTC, which this
//! module assumes: an offset of zero prints as `Z`, and a zone abbreviation other than
//! `UTC` or `GMT±h` is read as a zero offset, as Go does when it does not know the
//! name. The clock is [`Interp::now_unix_nanos`].

use super::{invalid, str_arg, Out, S};
use crate::document::Value;
use crate::duration;
use crate::jmespath::{Arg, Error, Function, Interp};

pub(super) const FUNCTIONS: &[Function] = &[
    Function {
        name: "time_since",
        params: &[S, S, S],
        variadic: false,
        returns: "string",
        doc: "duration from the second time to the third (now when empty), parsed with a Go layout (RFC 3339 when empty)",
        call: time_since,
    },
    Function { name: "time_now", params: &[], variadic: false, returns: "string", doc: "the current time in RFC 3339", call: time_now },
    Function {
        name: "time_now_utc",
        params: &[],
        variadic: false,
        returns: "string",
        doc: "the current UTC time in RFC 3339",
        call: time_now_utc,
    },
    Function {
        name: "time_add",
        params: &[S, S],
        variadic: false,
        returns: "string",
        doc: "adds a Go duration to an RFC 3339 time",
        call: time_add,
    },
    Function {
        name: "time_parse",
        params: &[S, S],
        variadic: false,
        returns: "string",
        doc: "parses a time with a Go layout (or Unix seconds when the layout is a number) into RFC 3339",
        call: time_parse,
    },
    Function {
        name: "time_to_cron",
        params: &[S],
        variadic: false,
        returns: "string",
        doc: "an RFC 3339 time as a cron expression: minute hour day month weekday",
        call: time_to_cron,
    },
    Function {
        name: "time_utc",
        params: &[S],
        variadic: false,
        returns: "string",
        doc: "an RFC 3339 time converted to UTC",
        call: time_utc,
    },
    Function {
        name: "time_diff",
        params: &[S, S],
        variadic: false,
        returns: "string",
        doc: "the duration from the first RFC 3339 time to the second",
        call: time_diff,
    },
    Function {
        name: "time_before",
        params: &[S, S],
        variadic: false,
        returns: "boolean",
        doc: "whether the first RFC 3339 time is before the second",
        call: time_before,
    },
    Function {
        name: "time_after",
        params: &[S, S],
        variadic: false,
        returns: "boolean",
        doc: "whether the first RFC 3339 time is after the second",
        call: time_after,
    },
    Function {
        name: "time_between",
        params: &[S, S, S],
        variadic: false,
        returns: "boolean",
        doc: "whether an RFC 3339 time is strictly between a start and an end",
        call: time_between,
    },
    Function {
        name: "time_truncate",
        params: &[S, S],
        variadic: false,
        returns: "string",
        doc: "rounds an RFC 3339 time down to a multiple of a Go duration since year 1",
        call: time_truncate,
    },
];

/// Go's `time.RFC3339`.
pub const RFC3339: &str = "2006-01-02T15:04:05Z07:00";
const NANOS_PER_SEC: i128 = 1_000_000_000;
/// Seconds from 0001-01-01 (Go's zero time) to the Unix epoch.
const ZERO_TO_UNIX: i128 = 62_135_596_800;

/// An instant and the zone offset it is shown in (Go's `time.Time` with a fixed zone).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GoTime {
    /// Nanoseconds since the Unix epoch.
    pub unix_nanos: i128,
    /// Seconds east of UTC.
    pub offset: i32,
}

impl GoTime {
    pub fn utc(self) -> GoTime {
        GoTime { offset: 0, ..self }
    }

    pub fn plus(self, nanos: i64) -> GoTime {
        GoTime { unix_nanos: self.unix_nanos + i128::from(nanos), ..self }
    }

    /// Go's `t.Sub(u)`, saturating at the `Duration` range.
    pub fn since(self, u: GoTime) -> i64 {
        let d = self.unix_nanos - u.unix_nanos;
        i64::try_from(d).unwrap_or(if d < 0 { i64::MIN } else { i64::MAX })
    }

    /// Go's `t.Truncate(d)`: rounds down to a multiple of `d` since the zero time.
    pub fn truncate(self, d: i64) -> GoTime {
        if d <= 0 {
            return self;
        }
        let since_zero = self.unix_nanos + ZERO_TO_UNIX * NANOS_PER_SEC;
        GoTime { unix_nanos: self.unix_nanos - since_zero.rem_euclid(i128::from(d)), ..self }
    }

    /// The wall clock in the time's own zone.
    fn civil(self) -> Civil {
        let local = self.unix_nanos.div_euclid(NANOS_PER_SEC) + i128::from(self.offset);
        let days = local.div_euclid(86_400);
        let secs = local.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            hour: (secs / 3600) as u32,
            minute: (secs % 3600 / 60) as u32,
            second: (secs % 60) as u32,
            weekday: (days + 4).rem_euclid(7) as u32,
        }
    }

    /// Go's `Format(time.RFC3339)`: no fraction, `Z` for a zero offset.
    pub fn write_rfc3339(self, out: &mut impl core::fmt::Write) -> core::fmt::Result {
        let c = self.civil();
        if c.year < 0 {
            write!(out, "-{:04}", -c.year)?;
        } else {
            write!(out, "{:04}", c.year)?;
        }
        write!(out, "-{:02}-{:02}T{:02}:{:02}:{:02}", c.month, c.day, c.hour, c.minute, c.second)?;
        if self.offset == 0 {
            return out.write_char('Z');
        }
        let mut zone = self.offset / 60;
        if zone < 0 {
            out.write_char('-')?;
            zone = -zone;
        } else {
            out.write_char('+')?;
        }
        write!(out, "{:02}:{:02}", zone / 60, zone % 60)
    }
}

struct Civil {
    year: i128,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    /// Sunday = 0, as Go's `time.Weekday`.
    weekday: u32,
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i128) -> (i128, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i128::from(month <= 2);
    (year, month, day)
}

/// (year, month, day) → days since 1970-01-01.
fn days_from_civil(year: i128, month: u32, day: u32) -> i128 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i128::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i128::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Days before each month (Go's `daysBefore`).
const DAYS_BEFORE: [i64; 13] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];

fn days_in(month: i64, year: i64) -> i64 {
    if month == 2 && is_leap(year) {
        return 29;
    }
    let m = month.clamp(1, 12) as usize;
    DAYS_BEFORE.get(m).copied().unwrap_or(0) - DAYS_BEFORE.get(m - 1).copied().unwrap_or(0)
}

// ---------------------------------------------------------------------------------
// Go's layout parser (src/time/format.go), ported.

/// A layout element (Go's `std*` constants).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Std {
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    PM,
    Pm,
    TZ,
    ISO8601TZ,
    ISO8601SecondsTZ,
    ISO8601ShortTZ,
    ISO8601ColonTZ,
    ISO8601ColonSecondsTZ,
    NumTZ,
    NumSecondsTz,
    NumShortTZ,
    NumColonTZ,
    NumColonSecondsTZ,
    /// `.000`: exactly this many digits.
    FracSecond0(usize),
    /// `.999`: optional, any number of digits.
    FracSecond9,
}

fn starts(b: &[u8], i: usize, lit: &[u8]) -> bool {
    b.get(i..i + lit.len()) == Some(lit)
}

fn is_digit(b: &[u8], i: usize) -> bool {
    b.get(i).is_some_and(u8::is_ascii_digit)
}

/// Go's `nextStdChunk`: (text before, element, text after).
fn next_std_chunk(layout: &[u8]) -> (&[u8], Option<Std>, &[u8]) {
    let at = |i: usize| layout.get(i).copied();
    let cut = |i: usize, std: Std, len: usize| (layout.get(..i).unwrap_or(&[]), Some(std), layout.get(i + len..).unwrap_or(&[]));
    for i in 0..layout.len() {
        match at(i) {
            Some(b'J') if starts(layout, i, b"Jan") => {
                if starts(layout, i, b"January") {
                    return cut(i, Std::LongMonth, 7);
                }
                if !at(i + 3).is_some_and(|c| c.is_ascii_lowercase()) {
                    return cut(i, Std::Month, 3);
                }
            }
            Some(b'M') => {
                if starts(layout, i, b"Mon") {
                    if starts(layout, i, b"Monday") {
                        return cut(i, Std::LongWeekDay, 6);
                    }
                    if !at(i + 3).is_some_and(|c| c.is_ascii_lowercase()) {
                        return cut(i, Std::WeekDay, 3);
                    }
                }
                if starts(layout, i, b"MST") {
                    return cut(i, Std::TZ, 3);
                }
            }
            Some(b'0') => {
                if let Some(c @ b'1'..=b'6') = at(i + 1) {
                    let std = [Std::ZeroMonth, Std::ZeroDay, Std::ZeroHour12, Std::ZeroMinute, Std::ZeroSecond, Std::Year];
                    return cut(i, std.get(usize::from(c - b'1')).copied().unwrap_or(Std::ZeroMonth), 2);
                }
                if at(i + 1) == Some(b'0') && at(i + 2) == Some(b'2') {
                    return cut(i, Std::ZeroYearDay, 3);
                }
            }
            Some(b'1') => {
                if at(i + 1) == Some(b'5') {
                    return cut(i, Std::Hour, 2);
                }
                return cut(i, Std::NumMonth, 1);
            }
            Some(b'2') => {
                if starts(layout, i, b"2006") {
                    return cut(i, Std::LongYear, 4);
                }
                return cut(i, Std::Day, 1);
            }
            Some(b'_') => {
                if at(i + 1) == Some(b'2') {
                    // `_2006` is a literal `_` then the year.
                    if starts(layout, i + 1, b"2006") {
                        return (layout.get(..i + 1).unwrap_or(&[]), Some(Std::LongYear), layout.get(i + 5..).unwrap_or(&[]));
                    }
                    return cut(i, Std::UnderDay, 2);
                }
                if at(i + 1) == Some(b'_') && at(i + 2) == Some(b'2') {
                    return cut(i, Std::UnderYearDay, 3);
                }
            }
            Some(b'3') => return cut(i, Std::Hour12, 1),
            Some(b'4') => return cut(i, Std::Minute, 1),
            Some(b'5') => return cut(i, Std::Second, 1),
            Some(b'P') if at(i + 1) == Some(b'M') => return cut(i, Std::PM, 2),
            Some(b'p') if at(i + 1) == Some(b'm') => return cut(i, Std::Pm, 2),
            Some(b'-') => {
                for (lit, std) in [
                    (&b"-070000"[..], Std::NumSecondsTz),
                    (b"-07:00:00", Std::NumColonSecondsTZ),
                    (b"-0700", Std::NumTZ),
                    (b"-07:00", Std::NumColonTZ),
                    (b"-07", Std::NumShortTZ),
                ] {
                    if starts(layout, i, lit) {
                        return cut(i, std, lit.len());
                    }
                }
            }
            Some(b'Z') => {
                for (lit, std) in [
                    (&b"Z070000"[..], Std::ISO8601SecondsTZ),
                    (b"Z07:00:00", Std::ISO8601ColonSecondsTZ),
                    (b"Z0700", Std::ISO8601TZ),
                    (b"Z07:00", Std::ISO8601ColonTZ),
                    (b"Z07", Std::ISO8601ShortTZ),
                ] {
                    if starts(layout, i, lit) {
                        return cut(i, std, lit.len());
                    }
                }
            }
            Some(b'.' | b',') => {
                if let Some(ch @ (b'0' | b'9')) = at(i + 1) {
                    let mut j = i + 1;
                    while at(j) == Some(ch) {
                        j += 1;
                    }
                    if !is_digit(layout, j) {
                        let std = if ch == b'9' { Std::FracSecond9 } else { Std::FracSecond0((j - (i + 1)) & 0xfff) };
                        return (layout.get(..i).unwrap_or(&[]), Some(std), layout.get(j..).unwrap_or(&[]));
                    }
                }
            }
            _ => {}
        }
    }
    (layout, None, &[])
}

/// Go's `leadingInt`: the leading digits, `None` on overflow past 2^63.
fn leading_int(s: &[u8]) -> Option<(u64, &[u8])> {
    let mut x: u64 = 0;
    let mut i = 0;
    while let Some(&c) = s.get(i) {
        if !c.is_ascii_digit() {
            break;
        }
        if x > (1 << 63) / 10 {
            return None;
        }
        x = x * 10 + u64::from(c - b'0');
        if x > 1 << 63 {
            return None;
        }
        i += 1;
    }
    Some((x, s.get(i..).unwrap_or(&[])))
}

/// Go's `atoi`: optional sign, digits, nothing else.
fn atoi(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, s.get(1..).unwrap_or(&[])),
        Some(b'+') => (false, s.get(1..).unwrap_or(&[])),
        _ => (false, s),
    };
    let (q, rem) = leading_int(digits)?;
    if !rem.is_empty() {
        return None;
    }
    let x = q as i64;
    Some(if neg { x.wrapping_neg() } else { x })
}

/// Go's `getnum`: one or two digits (`fixed` requires two).
fn getnum(s: &[u8], fixed: bool) -> Option<(i64, &[u8])> {
    let d0 = i64::from(*s.first().filter(|c| c.is_ascii_digit())? - b'0');
    match s.get(1).filter(|c| c.is_ascii_digit()) {
        None if fixed => None,
        None => Some((d0, s.get(1..).unwrap_or(&[]))),
        Some(&d1) => Some((d0 * 10 + i64::from(d1 - b'0'), s.get(2..).unwrap_or(&[]))),
    }
}

/// Go's `getnum3`: one to three digits (`fixed` requires three).
fn getnum3(s: &[u8], fixed: bool) -> Option<(i64, &[u8])> {
    let mut n = 0i64;
    let mut i = 0;
    while i < 3 && is_digit(s, i) {
        n = n * 10 + i64::from(s.get(i).copied().unwrap_or(b'0') - b'0');
        i += 1;
    }
    if i == 0 || (fixed && i != 3) {
        return None;
    }
    Some((n, s.get(i..).unwrap_or(&[])))
}

fn cutspace(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&c| c == b' ').count();
    s.get(n..).unwrap_or(&[])
}

/// Go's `skip`: removes the literal `prefix` from `value`, runs of spaces matching.
fn skip<'v>(mut value: &'v [u8], mut prefix: &[u8]) -> Option<&'v [u8]> {
    while let Some(&p) = prefix.first() {
        if p == b' ' {
            if value.first().is_some_and(|&c| c != b' ') {
                return None;
            }
            prefix = cutspace(prefix);
            value = cutspace(value);
            continue;
        }
        if value.first() != Some(&p) {
            return None;
        }
        prefix = prefix.get(1..).unwrap_or(&[]);
        value = value.get(1..).unwrap_or(&[]);
    }
    Some(value)
}

const LONG_DAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const SHORT_DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const SHORT_MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const LONG_MONTHS: [&str; 12] =
    ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

/// Go's `lookup`: the first table entry the value starts with, ASCII case-insensitively.
fn lookup<'v>(table: &[&str], value: &'v [u8]) -> Option<(i64, &'v [u8])> {
    for (i, name) in table.iter().enumerate() {
        let n = name.len();
        if let Some(head) = value.get(..n) {
            let same = head.iter().zip(name.bytes()).all(|(&a, b)| {
                a == b || {
                    let (la, lb) = (a | 0x20, b | 0x20);
                    la == lb && la.is_ascii_lowercase()
                }
            });
            if same {
                return Some((i as i64, value.get(n..).unwrap_or(&[])));
            }
        }
    }
    None
}

/// Go's `parseNanoseconds`: `value` starts with `.` or `,`; `nbytes` includes it.
fn parse_nanoseconds(value: &[u8], nbytes: usize) -> Option<i64> {
    if !matches!(value.first(), Some(b'.' | b',')) {
        return None;
    }
    let nbytes = nbytes.min(10);
    let mut ns = atoi(value.get(1..nbytes)?)?;
    if ns < 0 {
        return None;
    }
    for _ in 0..(10 - nbytes) {
        ns *= 10;
    }
    Some(ns)
}

/// Go's `parseTimeZone`: the length of a zone abbreviation at the start of `value`.
fn parse_time_zone(value: &[u8]) -> Option<usize> {
    if value.len() < 3 {
        return None;
    }
    if starts(value, 0, b"ChST") || starts(value, 0, b"MeST") {
        return Some(4);
    }
    if starts(value, 0, b"GMT") {
        let rest = value.get(3..).unwrap_or(&[]);
        return Some(if rest.is_empty() { 3 } else { 3 + parse_signed_offset(rest) });
    }
    if matches!(value.first(), Some(b'+' | b'-')) {
        let n = parse_signed_offset(value);
        return (n > 0).then_some(n);
    }
    let upper = value.iter().take(6).take_while(|c| c.is_ascii_uppercase()).count();
    match upper {
        5 if value.get(4) == Some(&b'T') => Some(5),
        4 if value.get(3) == Some(&b'T') || starts(value, 0, b"WITA") => Some(4),
        3 => Some(3),
        _ => None,
    }
}

/// Go's `parseSignedOffset`: `+03`/`-4` within ±23, its length, or 0.
fn parse_signed_offset(value: &[u8]) -> usize {
    if !matches!(value.first(), Some(b'+' | b'-')) {
        return 0;
    }
    let digits = value.get(1..).unwrap_or(&[]);
    match leading_int(digits) {
        Some((x, rem)) if rem.len() != digits.len() && x <= 23 => value.len() - rem.len(),
        _ => 0,
    }
}

/// Go's `time.Parse(layout, value)` with `Local` = UTC. `None` where Go errors.
pub fn parse(layout: &str, value: &str) -> Option<GoTime> {
    let mut layout = layout.as_bytes();
    let mut value = value.as_bytes();
    let (mut am, mut pm) = (false, false);
    let (mut year, mut month, mut day, mut yday) = (0i64, -1i64, -1i64, -1i64);
    let (mut hour, mut min, mut sec, mut nsec) = (0i64, 0i64, 0i64, 0i64);
    let mut utc = false;
    let mut zone_offset: i64 = -1;
    let mut zone_name: &[u8] = &[];

    loop {
        let (prefix, std, suffix) = next_std_chunk(layout);
        value = skip(value, prefix)?;
        let Some(std) = std else {
            if !value.is_empty() {
                return None;
            }
            break;
        };
        layout = suffix;
        let mut range_err = false;
        match std {
            Std::Year => {
                let p = value.get(..2)?;
                value = value.get(2..)?;
                year = atoi(p)?;
                year += if year >= 69 { 1900 } else { 2000 };
            }
            Std::LongYear => {
                if value.len() < 4 || !is_digit(value, 0) {
                    return None;
                }
                year = atoi(value.get(..4)?)?;
                value = value.get(4..)?;
            }
            Std::Month => {
                let (m, v) = lookup(&SHORT_MONTHS, value)?;
                month = m + 1;
                value = v;
            }
            Std::LongMonth => {
                let (m, v) = lookup(&LONG_MONTHS, value)?;
                month = m + 1;
                value = v;
            }
            Std::NumMonth | Std::ZeroMonth => {
                let (m, v) = getnum(value, std == Std::ZeroMonth)?;
                month = m;
                value = v;
                range_err = !(1..=12).contains(&month);
            }
            Std::WeekDay => value = lookup(&SHORT_DAYS, value)?.1,
            Std::LongWeekDay => value = lookup(&LONG_DAYS, value)?.1,
            Std::Day | Std::UnderDay | Std::ZeroDay => {
                if std == Std::UnderDay && value.first() == Some(&b' ') {
                    value = value.get(1..)?;
                }
                let (d, v) = getnum(value, std == Std::ZeroDay)?;
                day = d;
                value = v;
            }
            Std::UnderYearDay | Std::ZeroYearDay => {
                for _ in 0..2 {
                    if std == Std::UnderYearDay && value.first() == Some(&b' ') {
                        value = value.get(1..)?;
                    }
                }
                let (d, v) = getnum3(value, std == Std::ZeroYearDay)?;
                yday = d;
                value = v;
            }
            Std::Hour => {
                let (h, v) = getnum(value, false)?;
                hour = h;
                value = v;
                range_err = !(0..24).contains(&hour);
            }
            Std::Hour12 | Std::ZeroHour12 => {
                let (h, v) = getnum(value, std == Std::ZeroHour12)?;
                hour = h;
                value = v;
                range_err = !(0..=12).contains(&hour);
            }
            Std::Minute | Std::ZeroMinute => {
                let (m, v) = getnum(value, std == Std::ZeroMinute)?;
                min = m;
                value = v;
                range_err = !(0..60).contains(&min);
            }
            Std::Second | Std::ZeroSecond => {
                let (s, v) = getnum(value, std == Std::ZeroSecond)?;
                sec = s;
                value = v;
                if !(0..60).contains(&sec) {
                    return None;
                }
                // A fraction in the value that the layout does not spell out.
                if value.len() >= 2 && matches!(value.first(), Some(b'.' | b',')) && is_digit(value, 1) {
                    let (_, next, _) = next_std_chunk(layout);
                    if !matches!(next, Some(Std::FracSecond0(_) | Std::FracSecond9)) {
                        let mut n = 2;
                        while is_digit(value, n) {
                            n += 1;
                        }
                        nsec = parse_nanoseconds(value, n)?;
                        value = value.get(n..)?;
                    }
                }
            }
            Std::PM | Std::Pm => {
                let p = value.get(..2)?;
                value = value.get(2..)?;
                let (up, low) = if std == Std::PM { (b"PM", b"AM") } else { (b"pm", b"am") };
                if p == up {
                    pm = true;
                } else if p == low {
                    am = true;
                } else {
                    return None;
                }
            }
            Std::ISO8601TZ
            | Std::ISO8601ColonTZ
            | Std::ISO8601SecondsTZ
            | Std::ISO8601ShortTZ
            | Std::ISO8601ColonSecondsTZ
            | Std::NumTZ
            | Std::NumShortTZ
            | Std::NumColonTZ
            | Std::NumSecondsTz
            | Std::NumColonSecondsTZ => {
                if matches!(std, Std::ISO8601TZ | Std::ISO8601ShortTZ | Std::ISO8601ColonTZ) && value.first() == Some(&b'Z') {
                    value = value.get(1..)?;
                    utc = true;
                } else {
                    let g = |a: usize, b: usize| value.get(a..b);
                    let (sign, hh, mm, ss, rest) = match std {
                        Std::ISO8601ColonTZ | Std::NumColonTZ => {
                            if value.len() < 6 || value.get(3) != Some(&b':') {
                                return None;
                            }
                            (g(0, 1)?, g(1, 3)?, g(4, 6)?, &b"00"[..], g(6, value.len())?)
                        }
                        Std::NumShortTZ | Std::ISO8601ShortTZ => {
                            if value.len() < 3 {
                                return None;
                            }
                            (g(0, 1)?, g(1, 3)?, &b"00"[..], &b"00"[..], g(3, value.len())?)
                        }
                        Std::ISO8601ColonSecondsTZ | Std::NumColonSecondsTZ => {
                            if value.len() < 9 || value.get(3) != Some(&b':') || value.get(6) != Some(&b':') {
                                return None;
                            }
                            (g(0, 1)?, g(1, 3)?, g(4, 6)?, g(7, 9)?, g(9, value.len())?)
                        }
                        Std::ISO8601SecondsTZ | Std::NumSecondsTz => {
                            if value.len() < 7 {
                                return None;
                            }
                            (g(0, 1)?, g(1, 3)?, g(3, 5)?, g(5, 7)?, g(7, value.len())?)
                        }
                        _ => {
                            if value.len() < 5 {
                                return None;
                            }
                            (g(0, 1)?, g(1, 3)?, g(3, 5)?, &b"00"[..], g(5, value.len())?)
                        }
                    };
                    value = rest;
                    let hr = getnum(hh, true)?.0;
                    let mm = getnum(mm, true)?.0;
                    let ss = getnum(ss, true)?.0;
                    // Go allows 24 hours and 60 minutes or seconds in an offset.
                    if hr > 24 || mm > 60 || ss > 60 {
                        return None;
                    }
                    zone_offset = (hr * 60 + mm) * 60 + ss;
                    match sign.first() {
                        Some(b'+') => {}
                        Some(b'-') => zone_offset = -zone_offset,
                        _ => return None,
                    }
                }
            }
            Std::TZ => {
                if starts(value, 0, b"UTC") {
                    utc = true;
                    value = value.get(3..)?;
                } else {
                    let n = parse_time_zone(value)?;
                    zone_name = value.get(..n)?;
                    value = value.get(n..)?;
                }
            }
            Std::FracSecond0(digits) => {
                let ndigit = 1 + digits;
                if value.len() < ndigit {
                    return None;
                }
                nsec = parse_nanoseconds(value, ndigit)?;
                value = value.get(ndigit..)?;
            }
            Std::FracSecond9 => {
                if value.len() >= 2 && matches!(value.first(), Some(b'.' | b',')) && is_digit(value, 1) {
                    let mut i = 0;
                    while is_digit(value, i + 1) {
                        i += 1;
                    }
                    nsec = parse_nanoseconds(value, 1 + i)?;
                    value = value.get(1 + i..)?;
                }
            }
        }
        if range_err {
            return None;
        }
    }
    if pm && hour < 12 {
        hour += 12;
    } else if am && hour == 12 {
        hour = 0;
    }
    if yday >= 0 {
        let (mut m, mut d) = (0i64, 0i64);
        if is_leap(year) {
            if yday == 31 + 29 {
                m = 2;
                d = 29;
            } else if yday > 31 + 29 {
                yday -= 1;
            }
        }
        if !(1..=365).contains(&yday) {
            return None;
        }
        if m == 0 {
            m = (yday - 1) / 31 + 1;
            if DAYS_BEFORE.get(m as usize).copied().unwrap_or(0) < yday {
                m += 1;
            }
            d = yday - DAYS_BEFORE.get(m as usize - 1).copied().unwrap_or(0);
        }
        if month >= 0 && month != m {
            return None;
        }
        month = m;
        if day >= 0 && day != d {
            return None;
        }
        day = d;
    } else {
        if month < 0 {
            month = 1;
        }
        if day < 0 {
            day = 1;
        }
    }
    if day < 1 || day > days_in(month, year) {
        return None;
    }
    let days = days_from_civil(i128::from(year), month as u32, day as u32);
    let local = days * 86_400 + i128::from(hour * 3600 + min * 60 + sec);
    let offset = if utc {
        0
    } else if zone_offset != -1 {
        zone_offset
    } else if !zone_name.is_empty() {
        // An unknown abbreviation: zero offset, except GMT+h / GMT-h.
        match zone_name.strip_prefix(b"GMT") {
            Some(rest) if !rest.is_empty() => atoi(rest).unwrap_or(0) * 3600,
            _ => 0,
        }
    } else {
        0
    };
    Some(GoTime { unix_nanos: (local - i128::from(offset)) * NANOS_PER_SEC + i128::from(nsec), offset: offset as i32 })
}

// ---------------------------------------------------------------------------------
// The functions.

fn rfc3339_arg(name: &str, args: &[Arg<'_>], i: usize) -> Result<GoTime, Error> {
    let s = str_arg(name, args, i)?;
    parse(RFC3339, s).ok_or_else(|| invalid(name, "time is not in RFC 3339 format"))
}

fn duration_arg(name: &str, args: &[Arg<'_>], i: usize) -> Result<i64, Error> {
    let s = str_arg(name, args, i)?;
    duration::parse(s).ok_or_else(|| invalid(name, "invalid duration"))
}

fn time_value<'a>(interp: &mut dyn Interp<'a>, name: &'static str, t: GoTime) -> Result<Value<'a>, Error> {
    let mut out = Out::new(interp.arena(), name);
    let _ = t.write_rfc3339(&mut out.buf);
    Ok(out.finish())
}

fn duration_value<'a>(interp: &mut dyn Interp<'a>, nanos: i64) -> Value<'a> {
    let mut s = bumpalo::collections::String::new_in(interp.arena());
    let _ = duration::format(nanos, &mut s);
    Value::Str(s.into_bump_str())
}

fn now(interp: &mut dyn Interp<'_>) -> GoTime {
    GoTime { unix_nanos: interp.now_unix_nanos(), offset: 0 }
}

fn time_since<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let name = "time_since";
    let layout = str_arg(name, args, 0)?;
    let layout = if layout.is_empty() { RFC3339 } else { layout };
    let t1 = parse(layout, str_arg(name, args, 1)?).ok_or_else(|| invalid(name, "time does not match the layout"))?;
    let ts2 = str_arg(name, args, 2)?;
    let t2 =
        if ts2.is_empty() { now(interp) } else { parse(layout, ts2).ok_or_else(|| invalid(name, "time does not match the layout"))? };
    Ok(duration_value(interp, t2.since(t1)))
}

fn time_now<'a>(interp: &mut dyn Interp<'a>, _: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    // Kyverno's local zone is UTC, so time_now and time_now_utc agree.
    let t = now(interp);
    time_value(interp, "time_now", t)
}

fn time_now_utc<'a>(interp: &mut dyn Interp<'a>, _: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let t = now(interp);
    time_value(interp, "time_now_utc", t)
}

fn time_add<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let t = rfc3339_arg("time_add", args, 0)?;
    let d = duration_arg("time_add", args, 1)?;
    time_value(interp, "time_add", t.plus(d))
}

fn time_parse<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let name = "time_parse";
    let layout = str_arg(name, args, 0)?;
    let ts = str_arg(name, args, 1)?;
    // A layout that is an integer (strconv.ParseInt) means Unix seconds.
    if layout.parse::<i64>().is_ok() {
        let epoch: i64 = ts.parse().map_err(|_| invalid(name, "time is not a number of seconds"))?;
        let t = GoTime { unix_nanos: i128::from(epoch) * NANOS_PER_SEC, offset: 0 };
        return time_value(interp, name, t);
    }
    let t = parse(layout, ts).ok_or_else(|| invalid(name, "time does not match the layout"))?;
    time_value(interp, name, t)
}

fn time_to_cron<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let c = rfc3339_arg("time_to_cron", args, 0)?.civil();
    let s = bumpalo::format!(in interp.arena(), "{} {} {} {} {}", c.minute, c.hour, c.day, c.month, c.weekday);
    Ok(Value::Str(s.into_bump_str()))
}

fn time_utc<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let t = rfc3339_arg("time_utc", args, 0)?;
    time_value(interp, "time_utc", t.utc())
}

fn time_diff<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let t1 = rfc3339_arg("time_diff", args, 0)?;
    let t2 = rfc3339_arg("time_diff", args, 1)?;
    Ok(duration_value(interp, t2.since(t1)))
}

fn time_before<'a>(_: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let t1 = rfc3339_arg("time_before", args, 0)?;
    let t2 = rfc3339_arg("time_before", args, 1)?;
    Ok(Value::Bool(t1.unix_nanos < t2.unix_nanos))
}

fn time_after<'a>(_: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let t1 = rfc3339_arg("time_after", args, 0)?;
    let t2 = rfc3339_arg("time_after", args, 1)?;
    Ok(Value::Bool(t1.unix_nanos > t2.unix_nanos))
}

fn time_between<'a>(_: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let t = rfc3339_arg("time_between", args, 0)?;
    let start = rfc3339_arg("time_between", args, 1)?;
    let end = rfc3339_arg("time_between", args, 2)?;
    Ok(Value::Bool(t.unix_nanos > start.unix_nanos && t.unix_nanos < end.unix_nanos))
}

fn time_truncate<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let t = rfc3339_arg("time_truncate", args, 0)?;
    let d = duration_arg("time_truncate", args, 1)?;
    time_value(interp, "time_truncate", t.truncate(d))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{q, run};
    use super::*;

    fn fmt(t: GoTime) -> String {
        let mut s = String::new();
        t.write_rfc3339(&mut s).unwrap();
        s
    }

    fn p(layout: &str, value: &str) -> Option<String> {
        parse(layout, value).map(fmt)
    }

    // Cases from Kyverno's pkg/engine/jmespath/time_test.go unless noted.

    #[test]
    fn time_since_with_layouts() {
        assert_eq!(run("time_since", &[&q(""), &q("2021-01-02T15:04:05-07:00"), &q("2021-01-10T03:14:05-07:00")]), q("180h10m0s"));
        assert_eq!(
            run(
                "time_since",
                &[&q("Mon Jan _2 15:04:05 MST 2006"), &q("Mon Jan 02 15:04:05 MST 2021"), &q("Mon Jan 10 03:14:16 MST 2021")]
            ),
            q("180h10m11s")
        );
        // The fixed test clock is 2021-01-02T15:04:05Z.
        assert_eq!(run("time_since", &[&q(""), &q("2021-01-02T14:04:05Z"), &q("")]), q("1h0m0s"));
        assert_eq!(run("time_since", &[&q(""), &q("nope"), &q("")]), "error: invalid-value");
    }

    #[test]
    fn time_to_cron_fields() {
        assert_eq!(run("time_to_cron", &[&q("2023-02-02T15:04:05Z")]), q("4 15 2 2 4"));
        assert_eq!(run("time_to_cron", &[&q("2023-02-02T22:04:05Z")]), q("4 22 2 2 4"));
        // The zone's own wall clock, as Go reads it.
        assert_eq!(run("time_to_cron", &[&q("2023-02-02T15:04:05-07:00")]), q("4 15 2 2 4"));
    }

    #[test]
    fn time_add_keeps_the_offset() {
        assert_eq!(run("time_add", &[&q("2021-01-02T15:04:05-07:00"), &q("3h")]), q("2021-01-02T18:04:05-07:00"));
        assert_eq!(run("time_add", &[&q("2021-01-02T15:04:05Z"), &q("5h30m40s")]), q("2021-01-02T20:34:45Z"));
        assert_eq!(run("time_add", &[&q("2021-01-02T15:04:05Z"), &q("-24h")]), q("2021-01-01T15:04:05Z"));
        assert_eq!(run("time_add", &[&q("2021-01-02T15:04:05Z"), &q("1d")]), "error: invalid-value");
    }

    #[test]
    fn time_parse_layouts_and_epochs() {
        assert_eq!(run("time_parse", &[&q("2006-01-02T15:04:05Z07:00"), &q("2021-01-02T15:04:05-07:00")]), q("2021-01-02T15:04:05-07:00"));
        assert_eq!(run("time_parse", &[&q("Mon Jan 02 15:04:05 MST 2006"), &q("Sat Jan 02 15:04:05 MST 2021")]), q("2021-01-02T15:04:05Z"));
        assert_eq!(run("time_parse", &[&q("1"), &q("1609599845")]), q("2021-01-02T15:04:05Z"));
        assert_eq!(run("time_parse", &[&q("0"), &q("-1")]), q("1969-12-31T23:59:59Z"));
        assert_eq!(run("time_parse", &[&q("1"), &q("x")]), "error: invalid-value");
        assert_eq!(run("time_parse", &[&q("2006-01-02"), &q("2021-13-01")]), "error: invalid-value");
        assert_eq!(run("time_parse", &[&q("2006-01-02"), &q("2021-02-29")]), "error: invalid-value");
        assert_eq!(run("time_parse", &[&q("2006-01-02"), &q("2020-02-29")]), q("2020-02-29T00:00:00Z"));
        assert_eq!(run("time_parse", &[&q("15:04"), &q("10:30")]), q("0000-01-01T10:30:00Z"));
    }

    #[test]
    fn time_utc_and_diff() {
        assert_eq!(run("time_utc", &[&q("2023-02-02T15:04:05Z")]), q("2023-02-02T15:04:05Z"));
        assert_eq!(run("time_utc", &[&q("2023-02-02T15:04:05-07:00")]), q("2023-02-02T22:04:05Z"));
        assert_eq!(run("time_diff", &[&q("2021-01-02T15:04:05-07:00"), &q("2021-01-10T03:14:05-07:00")]), q("180h10m0s"));
        assert_eq!(run("time_diff", &[&q("2021-01-10T03:14:05Z"), &q("2021-01-02T15:04:05Z")]), q("-180h10m0s"));
        assert_eq!(run("time_diff", &[&q("0001-01-01T00:00:00Z"), &q("9999-01-01T00:00:00Z")]), q("2562047h47m16.854775807s"));
    }

    #[test]
    fn comparisons() {
        let (a, b) = (q("2021-01-02T15:04:05-07:00"), q("2021-01-02T16:04:05-07:00"));
        assert_eq!(run("time_before", &[&a, &b]), "true");
        assert_eq!(run("time_before", &[&a, &a]), "false");
        assert_eq!(run("time_before", &[&b, &a]), "false");
        assert_eq!(run("time_before", &["1", &a]), "error: invalid-type");
        assert_eq!(run("time_after", &[&a, &b]), "false");
        assert_eq!(run("time_after", &[&a, &a]), "false");
        assert_eq!(run("time_after", &[&b, &a]), "true");
        let (t, start, end) = (q("2021-01-02T17:04:05-07:00"), q("2021-01-02T15:04:05-07:00"), q("2021-01-02T18:04:05-07:00"));
        assert_eq!(run("time_between", &[&t, &start, &end]), "true");
        assert_eq!(run("time_between", &[&start, &start, &end]), "false");
        assert_eq!(run("time_between", &[&end, &start, &end]), "false");
        assert_eq!(run("time_between", &[&t, "1", &end]), "error: invalid-type");
        // Same instant, different offsets.
        assert_eq!(run("time_before", &[&q("2021-01-02T15:00:00+01:00"), &q("2021-01-02T14:00:01Z")]), "true");
        assert_eq!(run("time_before", &[&q(""), &a]), "error: invalid-value");
    }

    #[test]
    fn time_truncate_since_year_one() {
        assert_eq!(run("time_truncate", &[&q("2021-01-02T15:04:05Z"), &q("1h")]), q("2021-01-02T15:00:00Z"));
        assert_eq!(run("time_truncate", &[&q("2021-01-02T15:04:05Z"), &q("24h")]), q("2021-01-02T00:00:00Z"));
        // Truncation is on absolute time (UTC days), shown in the time's own zone.
        assert_eq!(run("time_truncate", &[&q("2021-01-02T15:04:05-07:00"), &q("24h")]), q("2021-01-01T17:00:00-07:00"));
        assert_eq!(run("time_truncate", &[&q("2021-01-02T15:04:05Z"), &q("0s")]), q("2021-01-02T15:04:05Z"));
        assert_eq!(run("time_truncate", &[&q("2021-01-02T15:04:05Z"), &q("-1h")]), q("2021-01-02T15:04:05Z"));
    }

    #[test]
    fn now_uses_the_interpreter_clock() {
        assert_eq!(run("time_now", &[]), q("2021-01-02T15:04:05Z"));
        assert_eq!(run("time_now_utc", &[]), q("2021-01-02T15:04:05Z"));
    }

    #[test]
    fn go_parse_details() {
        // RFC 3339 variants Go accepts: fractions, lowercase is not one of them.
        assert_eq!(p(RFC3339, "2021-01-02T15:04:05.123456789Z"), Some("2021-01-02T15:04:05Z".into()));
        assert_eq!(p(RFC3339, "2021-01-02T15:04:05,5+01:00"), Some("2021-01-02T15:04:05+01:00".into()));
        assert_eq!(p(RFC3339, "2021-01-02t15:04:05Z"), None);
        assert_eq!(p(RFC3339, "2021-01-02T15:04:05"), None);
        assert_eq!(p(RFC3339, "2021-01-02T24:00:00Z"), None);
        assert_eq!(p(RFC3339, "2021-01-02T15:04:60Z"), None);
        assert_eq!(p(RFC3339, "21-01-02T15:04:05Z"), None);
        assert_eq!(p(RFC3339, "2021-01-02T15:04:05+24:00"), Some("2021-01-02T15:04:05+24:00".into()));
        assert_eq!(p(RFC3339, "2021-01-02T15:04:05+25:00"), None);
        assert_eq!(p(RFC3339, "2021-01-02T15:04:05Zjunk"), None);
        // Other reference layouts.
        assert_eq!(p("Jan _2 2006 3:04PM", "Feb  3 2021 1:05PM"), Some("2021-02-03T13:05:00Z".into()));
        assert_eq!(p("Jan _2 2006 3:04pm", "feb 3 2021 12:05am"), Some("2021-02-03T00:05:00Z".into()));
        assert_eq!(p("January 2, 06", "March 9, 70"), Some("1970-03-09T00:00:00Z".into()));
        assert_eq!(p("January 2, 06", "March 9, 68"), Some("2068-03-09T00:00:00Z".into()));
        assert_eq!(p("Monday 2006-01-02", "Friday 2021-01-01"), Some("2021-01-01T00:00:00Z".into()));
        assert_eq!(p("2006 002", "2020 060"), Some("2020-02-29T00:00:00Z".into()));
        assert_eq!(p("2006 __2", "2021  60"), Some("2021-03-01T00:00:00Z".into()));
        assert_eq!(p("2006 002", "2021 366"), None);
        assert_eq!(p("2006-01-02 15:04:05.000", "2021-01-02 15:04:05.12"), None);
        assert_eq!(p("2006-01-02 15:04:05 -0700", "2021-01-02 15:04:05 +0530"), Some("2021-01-02T15:04:05+05:30".into()));
        assert_eq!(p("2006-01-02 15:04:05 -07", "2021-01-02 15:04:05 -03"), Some("2021-01-02T15:04:05-03:00".into()));
        assert_eq!(p("2006-01-02 MST", "2021-01-02 PST"), Some("2021-01-02T00:00:00Z".into()), "unknown zone: zero offset");
        assert_eq!(p("2006-01-02 MST", "2021-01-02 GMT+3"), Some("2021-01-02T00:00:00+03:00".into()));
        assert_eq!(p("2006-01-02 MST", "2021-01-02 UTC"), Some("2021-01-02T00:00:00Z".into()));
        assert_eq!(p("2006-01-02 MST", "2021-01-02 X"), None);
        assert_eq!(p("2006-01-02  15", "2021-01-02 15"), Some("2021-01-02T15:00:00Z".into()), "spaces match runs of spaces");
    }

    #[test]
    fn rfc3339_formatting_of_extreme_years() {
        let t = GoTime { unix_nanos: -62_135_596_800 * NANOS_PER_SEC - NANOS_PER_SEC * 86_400 * 366, offset: 0 };
        assert_eq!(fmt(t), "0000-01-01T00:00:00Z");
        let t = GoTime { unix_nanos: 253_402_300_800 * NANOS_PER_SEC, offset: -3600 };
        assert_eq!(fmt(t), "9999-12-31T23:00:00-01:00");
        let t = GoTime { unix_nanos: 253_402_300_800 * NANOS_PER_SEC, offset: 0 };
        assert_eq!(fmt(t), "10000-01-01T00:00:00Z");
    }
}
