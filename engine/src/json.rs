//! JSON decoder: request bytes → arena [`Value`].
//!
//! The first thing the engine does with an AdmissionReview. A small recursive-descent
//! parser over RFC 8259 JSON that allocates only in the caller's arena: strings without
//! escapes are borrowed from the input, arrays and objects are arena slices, and the
//! temporary child lists live in arena vectors too, so decoding a document touches the
//! global heap not at all. Nesting depth and document size are bounded by [`Limits`], so
//! no input can overflow the stack or exhaust memory.

use bumpalo::collections::Vec as BumpVec;
use bumpalo::Bump;

use crate::document::{Member, Value};
use crate::limits::Limits;

/// Why a document could not be decoded. Carries a byte offset, never input content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    pub kind: DecodeErrorKind,
    /// Byte offset in the input where the problem was found.
    pub offset: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeErrorKind {
    /// The input is not UTF-8.
    InvalidUtf8,
    /// Input ended inside a value.
    UnexpectedEnd,
    /// A byte that cannot start or continue a value here.
    UnexpectedByte,
    /// A malformed number.
    InvalidNumber,
    /// A bad `\` escape or a lone surrogate.
    InvalidEscape,
    /// A raw control character inside a string.
    ControlCharacter,
    /// Bytes after the top-level value.
    TrailingData,
    /// Arrays and objects nested deeper than [`Limits::max_depth`].
    TooDeep,
    /// Input larger than [`Limits::max_document_bytes`].
    TooLarge,
}

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let what = match self.kind {
            DecodeErrorKind::InvalidUtf8 => "input is not valid UTF-8",
            DecodeErrorKind::UnexpectedEnd => "unexpected end of input",
            DecodeErrorKind::UnexpectedByte => "unexpected character",
            DecodeErrorKind::InvalidNumber => "invalid number",
            DecodeErrorKind::InvalidEscape => "invalid escape sequence in string",
            DecodeErrorKind::ControlCharacter => "control character in string",
            DecodeErrorKind::TrailingData => "trailing data after the JSON value",
            DecodeErrorKind::TooDeep => "JSON nested too deeply",
            DecodeErrorKind::TooLarge => "JSON document too large",
        };
        write!(f, "{what} at byte {}", self.offset)
    }
}

impl std::error::Error for DecodeError {}

/// Decodes one JSON document into `arena`.
pub fn decode<'a>(input: &'a [u8], arena: &'a Bump, limits: &Limits) -> Result<Value<'a>, DecodeError> {
    if input.len() > limits.max_document_bytes {
        return Err(DecodeError { kind: DecodeErrorKind::TooLarge, offset: limits.max_document_bytes });
    }
    let text = match core::str::from_utf8(input) {
        Ok(t) => t,
        Err(e) => return Err(DecodeError { kind: DecodeErrorKind::InvalidUtf8, offset: e.valid_up_to() }),
    };
    let mut parser = Parser {
        text,
        bytes: input,
        pos: 0,
        arena,
        max_depth: limits.max_depth,
        items: BumpVec::new_in(arena),
        keys: BumpVec::new_in(arena),
        values: BumpVec::new_in(arena),
    };
    parser.skip_ws();
    let mut value = Value::Null;
    parser.value(0, |_, v| value = v)?;
    parser.skip_ws();
    if parser.pos != input.len() {
        return Err(parser.error(DecodeErrorKind::TrailingData));
    }
    Ok(value)
}

/// `0x0101…01`: one in every byte of a word, for the word-at-a-time string scan.
const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
/// `0x8080…80`: the high bit of every byte.
const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);

/// High bit set in the bytes of `w` (little-endian order) that end a run of plain string
/// content: `"`, `\` or a control character below 0x20. Only the lowest set bit is exact
/// (a borrow can flag bytes above a real hit), which is all [`Parser::scan_plain`] uses.
#[inline(always)]
fn special_bytes(w: u64) -> u64 {
    // The classic word tests "has a zero byte" and "has a byte below n": subtracting
    // `ONES` (`0x20 * ONES`) borrows into the high bit of a byte that is zero (below
    // 0x20), and `!w` keeps that bit only for bytes below 0x80. `"` and `\` are found as
    // the zero bytes of `w ^ "…"` and `w ^ \…`; both are ASCII, so those words have the
    // high bits of `w` and one `!w` serves all three tests.
    let quote = (w ^ u64::from_ne_bytes([b'"'; 8])).wrapping_sub(ONES);
    let backslash = (w ^ u64::from_ne_bytes([b'\\'; 8])).wrapping_sub(ONES);
    let control = w.wrapping_sub(ONES.wrapping_mul(0x20));
    (quote | backslash | control) & !w & HIGHS
}

/// One of 64 bits, from a key's length and its first and last bytes: equal keys have
/// the same bit, so a clear bit proves a key new to its object.
#[inline(always)]
fn key_fingerprint(key: &str) -> u64 {
    let b = key.as_bytes();
    let first = b.first().copied().unwrap_or(0) as u32;
    let last = b.last().copied().unwrap_or(0) as u32;
    let h = (b.len() as u32).wrapping_mul(31).wrapping_add(first.wrapping_mul(7)).wrapping_add(last);
    1u64 << (h % 64)
}

/// Key equality for the duplicate check, cheapest tests first: most sibling keys differ
/// in length or first byte, which settles it without a call to `memcmp`.
#[inline(always)]
fn same_key(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.as_bytes().first() == b.as_bytes().first() && a == b
}

/// The float a number's text denotes. One beyond f64's range (`1e310`) is an error, as in
/// Go's `encoding/json` and serde_json: infinity is not a JSON value.
fn finite_float<'a>(text: &str, start: usize) -> Result<Value<'a>, DecodeError> {
    match text.parse::<f64>() {
        Ok(f) if f.is_finite() => Ok(Value::Float(f)),
        _ => Err(DecodeError { kind: DecodeErrorKind::InvalidNumber, offset: start }),
    }
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    arena: &'a Bump,
    max_depth: usize,
    /// Items of the arrays being decoded, innermost last. An array pushes its items here
    /// and, at its `]`, copies them into one arena slice of the exact length and pops
    /// them: one growing buffer for the whole document instead of one per array.
    items: BumpVec<'a, Value<'a>>,
    /// Keys and values of the members of the objects being decoded, innermost last, in
    /// two stacks: the `Member` slice is assembled from both at the `}`, so it is built by
    /// a loop of plain stores rather than copied with `memcpy` (whose wide loads of just
    /// written members stall store-to-load forwarding).
    keys: BumpVec<'a, &'a str>,
    values: BumpVec<'a, Value<'a>>,
}

impl<'a> Parser<'a> {
    #[cold]
    #[inline(never)]
    fn error(&self, kind: DecodeErrorKind) -> DecodeError {
        DecodeError { kind, offset: self.pos }
    }

    /// `UnexpectedEnd` at the end of input, else `UnexpectedByte`.
    #[cold]
    #[inline(never)]
    fn unexpected(&self) -> DecodeError {
        let kind = if self.pos < self.bytes.len() { DecodeErrorKind::UnexpectedByte } else { DecodeErrorKind::UnexpectedEnd };
        self.error(kind)
    }

    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    #[inline(always)]
    fn skip_ws(&mut self) {
        // Compact JSON has no whitespace at all: one test for the common case.
        if let Some(b) = self.peek() {
            if b <= b' ' {
                self.skip_ws_slow();
            }
        }
    }

    fn skip_ws_slow(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.pos += 1;
        }
    }

    #[inline(always)]
    fn literal<const N: usize>(&mut self, literal: &[u8; N]) -> Result<(), DecodeError> {
        match self.bytes.get(self.pos..).and_then(|rest| rest.first_chunk::<N>()) {
            Some(s) if s == literal => {
                self.pos += N;
                Ok(())
            }
            Some(_) => Err(self.error(DecodeErrorKind::UnexpectedByte)),
            None => Err(self.error(DecodeErrorKind::UnexpectedEnd)),
        }
    }

    /// Decodes the value at `self.pos` (whitespace already skipped) and hands it to
    /// `put`. `depth` is the nesting depth of the enclosing container.
    ///
    /// Inlined into the array and object loops, with `put` called in every arm, so each
    /// arm stores a value of a known variant straight from registers: only containers
    /// recurse, and they return plain slices. (A `Value` returned through `Result` is
    /// copied in odd-sized pieces that stall store-to-load forwarding.)
    #[inline(always)]
    fn value(&mut self, depth: usize, put: impl FnOnce(&mut Self, Value<'a>)) -> Result<(), DecodeError> {
        match self.peek() {
            Some(b'"') => {
                let s = self.string()?;
                put(self, Value::Str(s));
            }
            Some(b'{') => {
                let members = self.object(depth + 1)?;
                put(self, Value::Object(members));
            }
            Some(b'[') => {
                let items = self.array(depth + 1)?;
                put(self, Value::Array(items));
            }
            Some(b'-' | b'0'..=b'9') => {
                let n = self.number()?;
                put(self, n);
            }
            Some(b't') => {
                self.literal(b"true")?;
                put(self, Value::Bool(true));
            }
            Some(b'f') => {
                self.literal(b"false")?;
                put(self, Value::Bool(false));
            }
            Some(b'n') => {
                self.literal(b"null")?;
                put(self, Value::Null);
            }
            _ => return Err(self.unexpected()),
        }
        Ok(())
    }

    /// Adds a member to the object whose members start at `base` in `keys` and `values`.
    /// Duplicate keys: the last one wins, as in Go's encoding/json; the member keeps the
    /// place of the first. `seen` holds a fingerprint bit of every key of the object so
    /// far: a key whose bit is clear cannot be a repeat, and skips the scan of its
    /// siblings (almost every key of a real object).
    #[inline(always)]
    fn put_member(&mut self, base: usize, seen: &mut u64, key: &'a str, value: Value<'a>) {
        let bit = key_fingerprint(key);
        if *seen & bit == 0 {
            *seen |= bit;
            self.keys.push(key);
            self.values.push(value);
            return;
        }
        let siblings = self.keys.get(base..).unwrap_or_default();
        match siblings.iter().position(|k| same_key(k, key)) {
            None => {
                self.keys.push(key);
                self.values.push(value);
            }
            Some(i) => {
                if let Some(earlier) = self.values.get_mut(base + i) {
                    *earlier = value;
                }
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<&'a [Value<'a>], DecodeError> {
        if depth > self.max_depth {
            return Err(self.error(DecodeErrorKind::TooDeep));
        }
        self.pos += 1; // '['
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(&[]);
        }
        let base = self.items.len();
        loop {
            self.skip_ws();
            self.value(
                depth,
                #[inline(always)]
                |p, item| p.items.push(item),
            )?;
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(self.unexpected()),
            }
        }
        let items = self.arena.alloc_slice_copy(self.items.get(base..).unwrap_or_default());
        self.items.truncate(base);
        Ok(items)
    }

    fn object(&mut self, depth: usize) -> Result<&'a [Member<'a>], DecodeError> {
        if depth > self.max_depth {
            return Err(self.error(DecodeErrorKind::TooDeep));
        }
        self.pos += 1; // '{'
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(&[]);
        }
        let base = self.keys.len();
        let mut seen = 0u64;
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.unexpected());
            }
            let key = self.string()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.unexpected());
            }
            self.pos += 1;
            self.skip_ws();
            self.value(
                depth,
                #[inline(always)]
                |p, value| p.put_member(base, &mut seen, key, value),
            )?;
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(self.unexpected()),
            }
        }
        let keys = self.keys.get(base..).unwrap_or_default();
        let values = self.values.get(base..).unwrap_or_default();
        let members = self.arena.alloc_slice_fill_copy(keys.len(), Member { key: "", value: Value::Null });
        for (member, (&key, &value)) in members.iter_mut().zip(keys.iter().zip(values)) {
            *member = Member { key, value };
        }
        self.keys.truncate(base);
        self.values.truncate(base);
        Ok(members)
    }

    /// The index of the first byte at or after `i` that is `"`, `\` or a control
    /// character, or the input length when there is none. Eight bytes at a time.
    #[inline(always)]
    fn scan_plain(&self, mut i: usize) -> usize {
        while let Some(chunk) = self.bytes.get(i..).and_then(|rest| rest.first_chunk::<8>()) {
            let hits = special_bytes(u64::from_le_bytes(*chunk));
            if hits != 0 {
                return i + (hits.trailing_zeros() / 8) as usize;
            }
            i += 8;
        }
        while let Some(&b) = self.bytes.get(i) {
            if b == b'"' || b == b'\\' || b < 0x20 {
                break;
            }
            i += 1;
        }
        i
    }

    /// Parses a string starting at the opening quote.
    #[inline(always)]
    fn string(&mut self) -> Result<&'a str, DecodeError> {
        let start = self.pos + 1; // after '"'
        let end = self.scan_plain(start);
        if self.bytes.get(end) == Some(&b'"') {
            // Fast path: no escapes, borrow from the input. `start` and `end` sit next to
            // ASCII quotes, so they are character boundaries of the validated text.
            self.pos = end;
            let s = self.text.get(start..end).ok_or_else(|| self.error(DecodeErrorKind::InvalidUtf8))?;
            self.pos = end + 1;
            return Ok(s);
        }
        self.pos = end;
        self.string_slow(start)
    }

    /// The rest of a string from the first byte that is not plain content: an escape
    /// (copied into the arena, unescaped), a control character, or the end of input.
    #[inline(never)]
    fn string_slow(&mut self, start: usize) -> Result<&'a str, DecodeError> {
        match self.peek() {
            None => return Err(self.error(DecodeErrorKind::UnexpectedEnd)),
            Some(b'\\') => {}
            Some(_) => return Err(self.error(DecodeErrorKind::ControlCharacter)),
        }
        let mut out = bumpalo::collections::String::new_in(self.arena);
        out.push_str(self.text.get(start..self.pos).unwrap_or_default());
        loop {
            let run_start = self.pos;
            self.pos = self.scan_plain(run_start);
            out.push_str(self.text.get(run_start..self.pos).unwrap_or_default());
            match self.peek() {
                None => return Err(self.error(DecodeErrorKind::UnexpectedEnd)),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out.into_bump_str());
                }
                Some(b'\\') => {
                    self.pos += 1;
                    self.escape(&mut out)?;
                }
                Some(_) => return Err(self.error(DecodeErrorKind::ControlCharacter)),
            }
        }
    }

    fn escape(&mut self, out: &mut bumpalo::collections::String<'a>) -> Result<(), DecodeError> {
        let Some(b) = self.peek() else {
            return Err(self.error(DecodeErrorKind::UnexpectedEnd));
        };
        self.pos += 1;
        let c = match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let first = self.hex4()?;
                if (0xD800..0xDC00).contains(&first) {
                    // A high surrogate must be followed by `\u` and a low surrogate.
                    if self.bytes.get(self.pos..self.pos + 2) != Some(b"\\u") {
                        return Err(self.error(DecodeErrorKind::InvalidEscape));
                    }
                    self.pos += 2;
                    let second = self.hex4()?;
                    if !(0xDC00..0xE000).contains(&second) {
                        return Err(self.error(DecodeErrorKind::InvalidEscape));
                    }
                    let code = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                    char::from_u32(code).ok_or_else(|| self.error(DecodeErrorKind::InvalidEscape))?
                } else if (0xDC00..0xE000).contains(&first) {
                    return Err(self.error(DecodeErrorKind::InvalidEscape));
                } else {
                    char::from_u32(first).ok_or_else(|| self.error(DecodeErrorKind::InvalidEscape))?
                }
            }
            _ => return Err(self.error(DecodeErrorKind::InvalidEscape)),
        };
        out.push(c);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, DecodeError> {
        let digits = self.bytes.get(self.pos..self.pos + 4).ok_or_else(|| self.error(DecodeErrorKind::UnexpectedEnd))?;
        let mut v = 0u32;
        for &d in digits {
            let n = match d {
                b'0'..=b'9' => d - b'0',
                b'a'..=b'f' => d - b'a' + 10,
                b'A'..=b'F' => d - b'A' + 10,
                _ => return Err(self.error(DecodeErrorKind::InvalidEscape)),
            };
            v = v * 16 + u32::from(n);
        }
        self.pos += 4;
        Ok(v)
    }

    #[inline(always)]
    fn number(&mut self) -> Result<Value<'a>, DecodeError> {
        let start = self.pos;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.pos += 1;
        }
        let digits_start = self.pos;
        // The integer part's value, exact while it has at most 18 digits (below 10^18,
        // well inside i64); JSON allows no leading zeros, so every digit counts.
        let mut magnitude: u64 = 0;
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                while let Some(d @ b'0'..=b'9') = self.peek() {
                    magnitude = magnitude.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
                    self.pos += 1;
                }
            }
            _ => return Err(self.error(DecodeErrorKind::InvalidNumber)),
        }
        if let Some(b'.' | b'e' | b'E') = self.peek() {
            return self.float(start);
        }
        if self.pos - digits_start <= 18 {
            if let Ok(i) = i64::try_from(magnitude) {
                return Ok(Value::Int(if negative { -i } else { i }));
            }
        }
        // 19 digits or more: i64 if it fits (down to i64::MIN), else the nearest float.
        let text = self.text.get(start..self.pos).unwrap_or_default();
        if let Ok(i) = text.parse::<i64>() {
            return Ok(Value::Int(i));
        }
        finite_float(text, start)
    }

    /// The fraction and exponent of a number whose integer part ends at `self.pos`.
    #[inline(never)]
    fn float(&mut self, start: usize) -> Result<Value<'a>, DecodeError> {
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error(DecodeErrorKind::InvalidNumber));
            }
            while let Some(b'0'..=b'9') = self.peek() {
                self.pos += 1;
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error(DecodeErrorKind::InvalidNumber));
            }
            while let Some(b'0'..=b'9') = self.peek() {
                self.pos += 1;
            }
        }
        let text = self.text.get(start..self.pos).unwrap_or_default();
        finite_float(text, start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(input: &str) -> String {
        let arena = Bump::new();
        decode(input.as_bytes(), &arena, &Limits::default()).map(|v| v.to_string()).unwrap_or_else(|e| format!("error: {e}"))
    }

    #[test]
    fn decodes_scalars_and_containers() {
        assert_eq!(
            roundtrip(r#" {"a": [1, -2, 3.5, 1e3, true, false, null, "x"], "b": {}} "#),
            r#"{"a":[1,-2,3.5,1000.0,true,false,null,"x"],"b":{}}"#
        );
    }

    #[test]
    fn keeps_integer_versus_float() {
        let arena = Bump::new();
        let v = decode(b"[80, 80.0, 8e1]", &arena, &Limits::default()).unwrap();
        assert_eq!(v, Value::Array(&[Value::Int(80), Value::Float(80.0), Value::Float(80.0)]));
    }

    #[test]
    fn unescapes_strings() {
        assert_eq!(roundtrip(r#""a\"b\\c\u00e9\ud83d\ude00\n""#), "\"a\\\"b\\\\cé😀\\n\"");
    }

    #[test]
    fn big_integers_become_floats() {
        assert_eq!(roundtrip("18446744073709551616"), "1.8446744073709552e19");
    }

    #[test]
    fn duplicate_keys_keep_the_last() {
        assert_eq!(roundtrip(r#"{"a":1,"a":2}"#), r#"{"a":2}"#);
        assert_eq!(roundtrip(r#"{"a":1,"b":2,"a":3}"#), r#"{"a":3,"b":2}"#);
        // Same length, first and last byte (same fingerprint), different keys.
        assert_eq!(roundtrip(r#"{"axb":1,"ayb":2,"axb":3}"#), r#"{"axb":3,"ayb":2}"#);
        // Nested objects keep their own fingerprints.
        assert_eq!(roundtrip(r#"{"a":{"a":1,"b":{"a":2},"a":3},"b":1}"#), r#"{"a":{"a":3,"b":{"a":2}},"b":1}"#);
    }

    #[test]
    fn rejects_malformed_input() {
        for bad in ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "-", "\"\\x\"", "\"\\ud800\"", "[1] x", "tru", "\"a\u{1}\""] {
            assert!(roundtrip(bad).starts_with("error"), "{bad:?} should not decode");
        }
    }

    #[test]
    fn depth_is_bounded() {
        let deep = "[".repeat(10_000);
        let arena = Bump::new();
        let err = decode(deep.as_bytes(), &arena, &Limits::default()).unwrap_err();
        assert_eq!(err.kind, DecodeErrorKind::TooDeep);
    }
}
