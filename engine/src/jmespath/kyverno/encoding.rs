//! Encodings: `base64_decode`, `base64_encode`, `parse_json`, `parse_yaml`.
//!
//! Base64 is Go's `base64.StdEncoding`: padding required, `\r` and `\n` skipped
//! anywhere, non-zero trailing bits tolerated. A Go string may hold any bytes; ours are
//! UTF-8, so decoded bytes that are not valid UTF-8 become U+FFFD, one per byte, which
//! is what Kyverno's JSON encoder prints for them. `parse_json` decodes with
//! [`crate::json::decode`] (integers stay integers); `parse_yaml` reads the first YAML
//! document with `serde_yaml`, with YAMLToJSON's rules for keys and non-finite numbers.

use ahash::AHashMap;
use bumpalo::collections::Vec as BumpVec;
use bumpalo::Bump;
use serde::Deserialize;

use super::{invalid, str_arg, too_large, Out, MAX_RESULT_BYTES, S};
use crate::document::{Member, Value};
use crate::jmespath::{Arg, Error, ErrorKind, Function, Interp};

pub(super) const FUNCTIONS: &[Function] = &[
    Function {
        name: "base64_decode",
        params: &[S],
        variadic: false,
        returns: "string",
        doc: "decodes standard, padded base64",
        call: base64_decode,
    },
    Function {
        name: "base64_encode",
        params: &[S],
        variadic: false,
        returns: "string",
        doc: "encodes a string as standard, padded base64",
        call: base64_encode,
    },
    Function {
        name: "parse_json",
        params: &[S],
        variadic: false,
        returns: "any",
        doc: "decodes a JSON document; the inverse of `to_string`",
        call: parse_json,
    },
    Function {
        name: "parse_yaml",
        params: &[S],
        variadic: false,
        returns: "any",
        doc: "decodes the first YAML document into JSON values",
        call: parse_yaml,
    },
];

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn decode_char(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Go's `base64.StdEncoding.DecodeString`. `None` where Go reports corrupt input.
pub(crate) fn go_base64_decode(src: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(src.len() / 4 * 3 + 3);
    let mut si = 0;
    let newline = |b: u8| b == b'\n' || b == b'\r';
    loop {
        // One quantum: up to four characters, newlines skipped.
        let mut buf = [0u8; 4];
        let mut len = 4;
        let mut j = 0;
        let mut end = false;
        while j < 4 {
            let Some(&c) = src.get(si) else {
                match j {
                    0 => return Some(out),
                    // A partial quantum without padding is corrupt (padding is required).
                    _ => return None,
                }
            };
            si += 1;
            if let Some(v) = decode_char(c) {
                if let Some(slot) = buf.get_mut(j) {
                    *slot = v;
                }
                j += 1;
                continue;
            }
            if newline(c) {
                continue;
            }
            if c != b'=' {
                return None;
            }
            // Padding: "xx==" or "xxx=".
            match j {
                0 | 1 => return None,
                2 => {
                    while src.get(si).is_some_and(|&b| newline(b)) {
                        si += 1;
                    }
                    if src.get(si) != Some(&b'=') {
                        return None;
                    }
                    si += 1;
                }
                _ => {}
            }
            while src.get(si).is_some_and(|&b| newline(b)) {
                si += 1;
            }
            if si < src.len() {
                return None;
            }
            len = j;
            end = true;
            break;
        }
        let [a, b, c, d] = buf;
        let val = u32::from(a) << 18 | u32::from(b) << 12 | u32::from(c) << 6 | u32::from(d);
        let bytes = [(val >> 16) as u8, (val >> 8) as u8, val as u8];
        out.extend_from_slice(bytes.get(..len - 1).unwrap_or(&[]));
        if end {
            return Some(out);
        }
    }
}

/// Standard padded base64.
pub(crate) fn base64_encode_into(src: &[u8], out: &mut impl FnMut(u8)) {
    let enc = |v: u32| ALPHABET.get((v & 63) as usize).copied().unwrap_or(b'=');
    for chunk in src.chunks(3) {
        let b = [chunk.first().copied().unwrap_or(0), chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let v = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        out(enc(v >> 18));
        out(enc(v >> 12));
        out(if chunk.len() > 1 { enc(v >> 6) } else { b'=' });
        out(if chunk.len() > 2 { enc(v) } else { b'=' });
    }
}

/// Appends `bytes` as UTF-8, each byte of an invalid sequence as one U+FFFD (what Go's
/// `utf8.DecodeRune`, and so its JSON encoder, makes of them).
pub(crate) fn push_lossy(out: &mut Out<'_>, mut bytes: &[u8]) -> Result<(), Error> {
    loop {
        match core::str::from_utf8(bytes) {
            Ok(s) => return out.push_str(s),
            Err(e) => {
                let (good, bad) = bytes.split_at(e.valid_up_to());
                out.push_str(core::str::from_utf8(good).unwrap_or(""))?;
                let n = e.error_len().unwrap_or(bad.len());
                for _ in 0..n {
                    out.push('\u{FFFD}')?;
                }
                bytes = bad.get(n..).unwrap_or(&[]);
            }
        }
    }
}

fn base64_decode<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let s = str_arg("base64_decode", args, 0)?;
    let bytes = go_base64_decode(s.as_bytes()).ok_or_else(|| invalid("base64_decode", "illegal base64 data"))?;
    let mut out = Out::new(interp.arena(), "base64_decode");
    push_lossy(&mut out, &bytes)?;
    Ok(out.finish())
}

fn base64_encode<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let s = str_arg("base64_encode", args, 0)?;
    if s.len() / 3 * 4 + 4 > MAX_RESULT_BYTES {
        return Err(too_large("base64_encode"));
    }
    let mut buf = bumpalo::collections::String::with_capacity_in(s.len().div_ceil(3) * 4, interp.arena());
    base64_encode_into(s.as_bytes(), &mut |b| buf.push(char::from(b)));
    Ok(Value::Str(buf.into_bump_str()))
}

fn parse_json<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let s = str_arg("parse_json", args, 0)?;
    super::charge_scan(interp, s.len())?;
    let v =
        crate::json::decode(s.as_bytes(), interp.arena(), &crate::Limits::default()).map_err(|_| invalid("parse_json", "invalid JSON"))?;
    // Go's decoder rejects numbers beyond float64's range (`1e400`).
    if !all_finite(&v) {
        return Err(invalid("parse_json", "number out of range"));
    }
    Ok(v)
}

fn all_finite(v: &Value<'_>) -> bool {
    let mut stack = vec![*v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Float(f) if !f.is_finite() => return false,
            Value::Array(items) => stack.extend_from_slice(items),
            Value::Object(members) => stack.extend(members.iter().map(|m| m.value)),
            _ => {}
        }
    }
    true
}

fn parse_yaml<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let s = str_arg("parse_yaml", args, 0)?;
    super::charge_scan(interp, s.len())?;
    // YAMLToJSON reads the first document only.
    let doc = match serde_yaml::Deserializer::from_str(s).next() {
        None => return Ok(Value::Null),
        Some(doc) => serde_yaml::Value::deserialize(doc).map_err(|_| invalid("parse_yaml", "invalid YAML"))?,
    };
    let mut budget = MAX_RESULT_BYTES;
    yaml_to_value(interp.arena(), &doc, &mut budget, 0)
}

/// The first YAML document of `text` as an arena value (what `parse_yaml` returns), for
/// texts the engine itself must read after substitution (`patchesJson6902`).
pub(crate) fn yaml_text_to_value<'a>(arena: &'a Bump, text: &str) -> Result<Value<'a>, Error> {
    let doc = match serde_yaml::Deserializer::from_str(text).next() {
        None => return Ok(Value::Null),
        Some(doc) => serde_yaml::Value::deserialize(doc).map_err(|e| Error::new(ErrorKind::InvalidValue, format!("invalid YAML: {e}")))?,
    };
    let mut budget = MAX_RESULT_BYTES;
    yaml_to_value(arena, &doc, &mut budget, 0)
}

/// serde_yaml's tree → arena values, as YAMLToJSON would have it: keys become strings,
/// NaN and infinities are errors, integers past `i64` become floats.
fn yaml_to_value<'a>(arena: &'a Bump, v: &serde_yaml::Value, budget: &mut usize, depth: usize) -> Result<Value<'a>, Error> {
    use serde_yaml::Value as Y;
    *budget = budget.checked_sub(1).ok_or_else(|| too_large("parse_yaml"))?;
    if depth > 128 {
        return Err(invalid("parse_yaml", "YAML nested too deeply"));
    }
    Ok(match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(*b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Int(i)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                if !f.is_finite() {
                    return Err(invalid("parse_yaml", "unsupported value: NaN or infinity"));
                }
                Value::Float(f)
            }
        }
        Y::String(s) => {
            *budget = budget.checked_sub(s.len()).ok_or_else(|| too_large("parse_yaml"))?;
            Value::Str(arena.alloc_str(s))
        }
        Y::Sequence(items) => {
            let mut out = BumpVec::with_capacity_in(items.len(), arena);
            for item in items {
                out.push(yaml_to_value(arena, item, budget, depth + 1)?);
            }
            Value::Array(out.into_bump_slice())
        }
        Y::Mapping(map) => {
            let mut out: BumpVec<'a, Member<'a>> = BumpVec::with_capacity_in(map.len(), arena);
            let mut seen: AHashMap<&'a str, usize> = AHashMap::with_capacity(map.len());
            for (k, v) in map {
                let key: &'a str = match k {
                    Y::String(s) => arena.alloc_str(s),
                    Y::Bool(b) => {
                        if *b {
                            "true"
                        } else {
                            "false"
                        }
                    }
                    Y::Null => "null",
                    Y::Number(n) => {
                        if let Some(i) = n.as_i64() {
                            bumpalo::format!(in arena, "{}", i).into_bump_str()
                        } else if let Some(u) = n.as_u64() {
                            bumpalo::format!(in arena, "{}", u).into_bump_str()
                        } else {
                            // go-yaml's float key spelling: FormatFloat(f, 'g', -1, 32).
                            let f = n.as_f64().unwrap_or(0.0);
                            let s = if f.is_nan() {
                                ".nan".to_string()
                            } else if f.is_infinite() {
                                if f > 0.0 { ".inf" } else { "-.inf" }.to_string()
                            } else {
                                super::go_format_g(f64::from(f as f32))
                            };
                            arena.alloc_str(&s)
                        }
                    }
                    _ => return Err(invalid("parse_yaml", "unsupported map key type")),
                };
                let value = yaml_to_value(arena, v, budget, depth + 1)?;
                // Keys that stringify alike (`1` and "1"): the last one wins, as in a Go map.
                match seen.get(key).and_then(|&at| out.get_mut(at)) {
                    Some(existing) => existing.value = value,
                    None => {
                        seen.insert(key, out.len());
                        out.push(Member { key, value });
                    }
                }
            }
            Value::Object(out.into_bump_slice())
        }
        Y::Tagged(t) => yaml_to_value(arena, &t.value, budget, depth + 1)?,
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::{q, run};
    use super::*;

    // Cases from Kyverno's pkg/engine/jmespath/functions_test.go unless noted.

    #[test]
    fn base64_round_trips() {
        assert_eq!(run("base64_decode", &[&q("SGVsbG8sIHdvcmxkIQ==")]), q("Hello, world!"));
        assert_eq!(run("base64_encode", &[&q("Hello, world!")]), q("SGVsbG8sIHdvcmxkIQ=="));
        assert_eq!(run("base64_decode", &[&q("Rm9vQmFy")]), q("FooBar"));
        assert_eq!(run("base64_encode", &[&q("")]), q(""));
        assert_eq!(run("base64_encode", &[&q("a")]), q("YQ=="));
        assert_eq!(run("base64_encode", &[&q("ab")]), q("YWI="));
        assert_eq!(run("base64_encode", &[&q("é")]), q("w6k="));
    }

    #[test]
    fn base64_decoding_follows_go() {
        assert_eq!(go_base64_decode(b"").unwrap(), b"");
        assert_eq!(go_base64_decode(b"YQ==").unwrap(), b"a");
        assert_eq!(go_base64_decode(b"YWI=").unwrap(), b"ab");
        assert_eq!(go_base64_decode(b"Y\nQ\r\n=\n=\n").unwrap(), b"a", "newlines are skipped");
        assert_eq!(go_base64_decode(b"YR==").unwrap(), b"a", "non-zero trailing bits are tolerated");
        assert!(go_base64_decode(b"YQ").is_none(), "padding is required");
        assert!(go_base64_decode(b"Y").is_none());
        assert!(go_base64_decode(b"YQ=").is_none());
        assert!(go_base64_decode(b"YQ==YQ==").is_none(), "nothing after padding");
        assert!(go_base64_decode(b"Y===").is_none());
        assert!(go_base64_decode(b"YQ== ").is_none());
        assert!(go_base64_decode(b"Y-Q=").is_none(), "URL alphabet is not standard");
        assert_eq!(run("base64_decode", &[&q("!!")]), "error: invalid-value");
        // Invalid UTF-8: one replacement character per byte, as Go's JSON encoder.
        assert_eq!(run("base64_decode", &[&q("/w==")]), q("\u{FFFD}"));
        assert_eq!(run("base64_decode", &[&q("4oJB")]), q("\u{FFFD}\u{FFFD}A"));
    }

    #[test]
    fn parse_json_round_trips() {
        // Test_ParseJsonSerde: to_string(parse_json(x)) == x.
        for tc in [r#"{"a":"b"}"#, "true", r#"[1,2,3,{"a":"b"}]"#, "null", "[]", "{}", "0", "1.2", r#"[1.2,true,{"a":{"a":"b"}}]"#] {
            assert_eq!(run("parse_json", &[&q(tc)]), tc);
        }
        assert_eq!(run("parse_json", &[&q(r#"{"a": [1, 2, 3, 4]}"#)]), r#"{"a":[1,2,3,4]}"#);
        assert_eq!(run("parse_json", &[&q("{")]), "error: invalid-value");
        assert_eq!(run("parse_json", &[&q("1e400")]), "error: invalid-value");
        assert_eq!(run("parse_json", &[&q("1 2")]), "error: invalid-value");
    }

    #[test]
    fn parse_yaml_documents() {
        assert_eq!(run("parse_yaml", &[&q("a: b")]), r#"{"a":"b"}"#);
        assert_eq!(run("parse_yaml", &[&q("\n- 1\n- 2\n- 3\n- a: b")]), r#"[1,2,3,{"a":"b"}]"#);
        assert_eq!(run("parse_yaml", &[&q("\nspec:\n  test: 1\n  test2:\n    - 2\n    - 3\n")]), r#"{"spec":{"test":1,"test2":[2,3]}}"#);
        assert_eq!(
            run("parse_yaml", &[&q("\nbar: >\n  this is not a normal string it\n  spans more than\n  one line\n  see?")]),
            r#"{"bar":"this is not a normal string it spans more than one line see?"}"#
        );
        assert_eq!(run("parse_yaml", &[&q("\n---\nfoo: ~\nbar: null\n")]), r#"{"foo":null,"bar":null}"#);
        // Not in Kyverno's tests.
        assert_eq!(run("parse_yaml", &[&q("a: 1\n---\nb: 2\n")]), r#"{"a":1}"#, "first document only");
        assert_eq!(run("parse_yaml", &[&q("1: a\ntrue: b\n1.5: c")]), r#"{"1":"a","true":"b","1.5":"c"}"#);
        assert_eq!(run("parse_yaml", &[&q("x: 1.5\ny: 18446744073709551615")]), r#"{"x":1.5,"y":1.8446744073709552e19}"#);
        assert_eq!(run("parse_yaml", &[&q("x: .nan")]), "error: invalid-value");
        assert_eq!(run("parse_yaml", &[&q("[a]: 1")]), "error: invalid-value");
        assert_eq!(run("parse_yaml", &[&q("a: [")]), "error: invalid-value");
        assert_eq!(run("parse_yaml", &[&q("")]), "null");
        assert_eq!(run("parse_yaml", &[&q("a: &x [1, 2]\nb: *x")]), r#"{"a":[1,2],"b":[1,2]}"#);
    }

    #[test]
    fn parse_yaml_alias_bombs_are_bounded() {
        let mut doc = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let prev = format!("*a{}", i - 1);
            doc.push_str(&format!("a{i}: &a{i} [{p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}]\n", p = prev));
        }
        assert!(run("parse_yaml", &[&q(&doc)]).starts_with("error"));
    }
}
