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
    let mut parser = Parser { text, bytes: input, pos: 0, arena, max_depth: limits.max_depth };
    parser.skip_ws();
    let value = parser.value(0)?;
    parser.skip_ws();
    if parser.pos != input.len() {
        return Err(parser.error(DecodeErrorKind::TrailingData));
    }
    Ok(value)
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    arena: &'a Bump,
    max_depth: usize,
}

impl<'a> Parser<'a> {
    fn error(&self, kind: DecodeErrorKind) -> DecodeError {
        DecodeError { kind, offset: self.pos }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    #[inline]
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.pos += 1;
        }
    }

    fn expect_literal(&mut self, literal: &[u8]) -> Result<(), DecodeError> {
        match self.bytes.get(self.pos..self.pos + literal.len()) {
            Some(s) if s == literal => {
                self.pos += literal.len();
                Ok(())
            }
            Some(_) => Err(self.error(DecodeErrorKind::UnexpectedByte)),
            None => Err(self.error(DecodeErrorKind::UnexpectedEnd)),
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value<'a>, DecodeError> {
        match self.peek() {
            None => Err(self.error(DecodeErrorKind::UnexpectedEnd)),
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => Ok(Value::Str(self.string()?)),
            Some(b't') => self.expect_literal(b"true").map(|()| Value::Bool(true)),
            Some(b'f') => self.expect_literal(b"false").map(|()| Value::Bool(false)),
            Some(b'n') => self.expect_literal(b"null").map(|()| Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error(DecodeErrorKind::UnexpectedByte)),
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value<'a>, DecodeError> {
        if depth > self.max_depth {
            return Err(self.error(DecodeErrorKind::TooDeep));
        }
        self.pos += 1; // '['
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::Array(&[]));
        }
        let mut items: BumpVec<'a, Value<'a>> = BumpVec::new_in(self.arena);
        loop {
            self.skip_ws();
            items.push(self.value(depth)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items.into_bump_slice()));
                }
                Some(_) => return Err(self.error(DecodeErrorKind::UnexpectedByte)),
                None => return Err(self.error(DecodeErrorKind::UnexpectedEnd)),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value<'a>, DecodeError> {
        if depth > self.max_depth {
            return Err(self.error(DecodeErrorKind::TooDeep));
        }
        self.pos += 1; // '{'
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Object(&[]));
        }
        let mut members: BumpVec<'a, Member<'a>> = BumpVec::new_in(self.arena);
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b'"') => {}
                Some(_) => return Err(self.error(DecodeErrorKind::UnexpectedByte)),
                None => return Err(self.error(DecodeErrorKind::UnexpectedEnd)),
            }
            let key = self.string()?;
            self.skip_ws();
            match self.peek() {
                Some(b':') => self.pos += 1,
                Some(_) => return Err(self.error(DecodeErrorKind::UnexpectedByte)),
                None => return Err(self.error(DecodeErrorKind::UnexpectedEnd)),
            }
            self.skip_ws();
            let value = self.value(depth)?;
            // Duplicate keys: the last one wins, as in Go's encoding/json.
            if let Some(existing) = members.iter_mut().find(|m| m.key == key) {
                existing.value = value;
            } else {
                members.push(Member { key, value });
            }
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Object(members.into_bump_slice()));
                }
                Some(_) => return Err(self.error(DecodeErrorKind::UnexpectedByte)),
                None => return Err(self.error(DecodeErrorKind::UnexpectedEnd)),
            }
        }
    }

    /// Parses a string starting at the opening quote.
    fn string(&mut self) -> Result<&'a str, DecodeError> {
        self.pos += 1; // '"'
        let start = self.pos;
        // Fast path: no escapes, borrow from the input.
        loop {
            match self.peek() {
                None => return Err(self.error(DecodeErrorKind::UnexpectedEnd)),
                Some(b'"') => {
                    let s = self.text.get(start..self.pos).ok_or_else(|| self.error(DecodeErrorKind::InvalidUtf8))?;
                    self.pos += 1;
                    return Ok(s);
                }
                Some(b'\\') => break,
                Some(b) if b < 0x20 => return Err(self.error(DecodeErrorKind::ControlCharacter)),
                Some(_) => self.pos += 1,
            }
        }
        // Slow path: copy into the arena, unescaping.
        let mut out = bumpalo::collections::String::new_in(self.arena);
        out.push_str(self.text.get(start..self.pos).unwrap_or_default());
        loop {
            let run_start = self.pos;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
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

    fn number(&mut self) -> Result<Value<'a>, DecodeError> {
        let start = self.pos;
        let mut integral = true;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                while let Some(b'0'..=b'9') = self.peek() {
                    self.pos += 1;
                }
            }
            _ => return Err(self.error(DecodeErrorKind::InvalidNumber)),
        }
        if self.peek() == Some(b'.') {
            integral = false;
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error(DecodeErrorKind::InvalidNumber));
            }
            while let Some(b'0'..=b'9') = self.peek() {
                self.pos += 1;
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            integral = false;
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
        if integral {
            if let Ok(i) = text.parse::<i64>() {
                return Ok(Value::Int(i));
            }
        }
        text.parse::<f64>().map(Value::Float).map_err(|_| DecodeError { kind: DecodeErrorKind::InvalidNumber, offset: start })
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
