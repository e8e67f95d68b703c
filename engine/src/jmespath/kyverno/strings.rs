//! String functions: Go's `strings` package as Kyverno exposes it, plus Kyverno's
//! wildcard and label matching.
//!
//! Case mapping is per character with Unicode's *simple* mappings, as Go's
//! `unicode.ToUpper`/`ToLower` do (`ß` stays `ß`; Rust's `to_uppercase` would give `SS`),
//! and `equal_fold` compares by simple case folding orbits, as `strings.EqualFold` does.

use ahash::AHashMap;
use bumpalo::collections::Vec as BumpVec;
use regex_syntax::hir::{ClassUnicode, ClassUnicodeRange};

use super::{arg, go_f64_to_i64, iface_to_string, invalid, num_arg, str_arg, wrong_type, Out, MAX_RESULT_BYTES, N, O, S};
use crate::document::Value;
use crate::jmespath::{Arg, Error, Function, Interp, Types};

pub(super) const FUNCTIONS: &[Function] = &[
    Function {
        name: "compare",
        params: &[S, S],
        variadic: false,
        returns: "number",
        doc: "compares two strings lexicographically: -1, 0 or 1",
        call: compare,
    },
    Function {
        name: "equal_fold",
        params: &[S, S],
        variadic: false,
        returns: "boolean",
        doc: "whether two strings are equal under Unicode case folding",
        call: equal_fold,
    },
    Function {
        name: "replace",
        params: &[S, S, S, N],
        variadic: false,
        returns: "string",
        doc: "replaces the first n occurrences of a substring (all when n is negative)",
        call: replace,
    },
    Function {
        name: "replace_all",
        params: &[S, S, S],
        variadic: false,
        returns: "string",
        doc: "replaces every occurrence of a substring",
        call: replace_all,
    },
    Function { name: "to_upper", params: &[S], variadic: false, returns: "string", doc: "upper-cases a string", call: to_upper },
    Function { name: "to_lower", params: &[S], variadic: false, returns: "string", doc: "lower-cases a string", call: to_lower },
    Function {
        name: "trim",
        params: &[S, S],
        variadic: false,
        returns: "string",
        doc: "removes leading and trailing characters found in the second string",
        call: trim,
    },
    Function {
        name: "trim_prefix",
        params: &[S, S],
        variadic: false,
        returns: "string",
        doc: "removes a prefix when the string starts with it",
        call: trim_prefix,
    },
    Function {
        name: "split",
        params: &[S, S],
        variadic: false,
        returns: "array[string]",
        doc: "splits a string at every occurrence of a separator",
        call: split,
    },
    Function {
        name: "truncate",
        params: &[S, N],
        variadic: false,
        returns: "string",
        doc: "keeps at most the given number of characters",
        call: truncate,
    },
    Function {
        name: "path_canonicalize",
        params: &[S],
        variadic: false,
        returns: "string",
        doc: "cleans a file path: removes repeated slashes, `.` and `..` elements",
        call: path_canonicalize,
    },
    Function {
        name: "pattern_match",
        params: &[S, Types::STRING.or(Types::NUMBER)],
        variadic: false,
        returns: "boolean",
        doc: "matches a string or number against a Kyverno wildcard (`*`, `?`)",
        call: pattern_match,
    },
    Function {
        name: "label_match",
        params: &[O, O],
        variadic: false,
        returns: "boolean",
        doc: "whether every label of the first object is in the second with the same value",
        call: label_match,
    },
    Function {
        name: "to_boolean",
        params: &[S],
        variadic: false,
        returns: "boolean",
        doc: "`true` or `false` in any letter case to a boolean",
        call: to_boolean,
    },
];

/// Most elements `split` returns.
const MAX_ITEMS: usize = 1 << 20;

fn compare<'a>(_: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let a = str_arg("compare", args, 0)?;
    let b = str_arg("compare", args, 1)?;
    Ok(Value::Int(match a.cmp(b) {
        core::cmp::Ordering::Less => -1,
        core::cmp::Ordering::Equal => 0,
        core::cmp::Ordering::Greater => 1,
    }))
}

fn equal_fold<'a>(_: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let a = str_arg("equal_fold", args, 0)?;
    let b = str_arg("equal_fold", args, 1)?;
    Ok(Value::Bool(go_equal_fold(a, b)))
}

/// Go's `strings.EqualFold`: equal rune by rune under simple case folding.
pub(crate) fn go_equal_fold(a: &str, b: &str) -> bool {
    let mut bi = b.chars();
    for ca in a.chars() {
        let Some(cb) = bi.next() else { return false };
        if ca == cb {
            continue;
        }
        if ca.is_ascii() && cb.is_ascii() {
            if ca.eq_ignore_ascii_case(&cb) {
                continue;
            }
            return false;
        }
        // Same simple case folding orbit (`k`, `K`, `K` KELVIN SIGN; `ß`, `ẞ`; ...).
        let mut class = ClassUnicode::new([ClassUnicodeRange::new(ca, ca)]);
        class.case_fold_simple();
        if !class.ranges().iter().any(|r| r.start() <= cb && cb <= r.end()) {
            return false;
        }
    }
    bi.next().is_none()
}

/// Go's `unicode.ToUpper`: the simple uppercase mapping of one character.
pub(crate) fn simple_upper(c: char) -> char {
    let mut up = c.to_uppercase();
    match (up.next(), up.next()) {
        (Some(u), None) => u,
        // Full mappings longer than one character: Go keeps the simple mapping, which
        // exists only for the Greek letters with ypogegrammeni.
        _ => match c as u32 {
            0x1F80..=0x1F87 | 0x1F90..=0x1F97 | 0x1FA0..=0x1FA7 => char::from_u32(c as u32 + 8).unwrap_or(c),
            0x1FB3 => '\u{1FBC}',
            0x1FC3 => '\u{1FCC}',
            0x1FF3 => '\u{1FFC}',
            _ => c,
        },
    }
}

/// Go's `unicode.ToLower`: the simple lowercase mapping of one character.
pub(crate) fn simple_lower(c: char) -> char {
    let mut low = c.to_lowercase();
    match (low.next(), low.next()) {
        (Some(l), None) => l,
        // Only U+0130 (İ) has a longer full mapping; its simple one is `i`.
        _ if c == '\u{130}' => 'i',
        _ => c,
    }
}

pub(crate) fn go_to_lower(s: &str) -> String {
    s.chars().map(simple_lower).collect()
}

fn map_chars<'a>(interp: &mut dyn Interp<'a>, name: &'static str, s: &str, f: fn(char) -> char) -> Result<Value<'a>, Error> {
    let mut out = Out::new(interp.arena(), name);
    for c in s.chars() {
        out.push(f(c))?;
    }
    Ok(out.finish())
}

fn to_upper<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let s = str_arg("to_upper", args, 0)?;
    if s.is_ascii() {
        return map_ascii(interp, "to_upper", s, u8::is_ascii_lowercase, str::make_ascii_uppercase);
    }
    map_chars(interp, "to_upper", s, simple_upper)
}

fn to_lower<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let s = str_arg("to_lower", args, 0)?;
    if s.is_ascii() {
        return map_ascii(interp, "to_lower", s, u8::is_ascii_uppercase, str::make_ascii_lowercase);
    }
    map_chars(interp, "to_lower", s, simple_lower)
}

/// Case mapping of an ASCII string (where the simple mappings are ASCII's): the string
/// itself when no byte `changes`, else a copy mapped in place.
fn map_ascii<'a>(
    interp: &mut dyn Interp<'a>,
    name: &'static str,
    s: &'a str,
    changes: fn(&u8) -> bool,
    map: fn(&mut str),
) -> Result<Value<'a>, Error> {
    if !s.as_bytes().iter().any(changes) {
        return Ok(Value::Str(s));
    }
    if s.len() > MAX_RESULT_BYTES {
        return Err(super::too_large(name));
    }
    let out = interp.arena().alloc_str(s);
    map(out);
    Ok(Value::Str(out))
}

fn replace<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let s = str_arg("replace", args, 0)?;
    let old = str_arg("replace", args, 1)?;
    let new = str_arg("replace", args, 2)?;
    let n = go_f64_to_i64(num_arg("replace", args, 3)?);
    go_replace(interp, "replace", s, old, new, n)
}

fn replace_all<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let s = str_arg("replace_all", args, 0)?;
    let old = str_arg("replace_all", args, 1)?;
    let new = str_arg("replace_all", args, 2)?;
    go_replace(interp, "replace_all", s, old, new, -1)
}

/// Go's `strings.Replace`: the first `n` non-overlapping occurrences (all when `n < 0`);
/// an empty `old` matches before every character and at the end.
fn go_replace<'a>(interp: &mut dyn Interp<'a>, name: &'static str, s: &'a str, old: &str, new: &str, n: i64) -> Result<Value<'a>, Error> {
    if old == new || n == 0 {
        return Ok(Value::Str(s));
    }
    let count = if old.is_empty() { s.chars().count() + 1 } else { s.matches(old).count() };
    super::charge_scan(interp, s.len())?;
    if count == 0 {
        return Ok(Value::Str(s));
    }
    let n = if n < 0 || (count as u64) < n as u64 { count } else { n as usize };
    let estimate = s.len().saturating_add(n.saturating_mul(new.len()));
    if estimate.saturating_sub(n.saturating_mul(old.len())) > MAX_RESULT_BYTES {
        return Err(super::too_large(name));
    }
    let mut out = Out::new(interp.arena(), name);
    let mut start = 0;
    for i in 0..n {
        let rest = s.get(start..).unwrap_or("");
        let j = if old.is_empty() {
            if i > 0 {
                start + rest.chars().next().map_or(0, char::len_utf8)
            } else {
                start
            }
        } else {
            start + rest.find(old).unwrap_or(rest.len())
        };
        out.push_str(s.get(start..j).unwrap_or(""))?;
        out.push_str(new)?;
        start = j + old.len();
    }
    out.push_str(s.get(start..).unwrap_or(""))?;
    Ok(out.finish())
}

fn trim<'a>(_: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let s = str_arg("trim", args, 0)?;
    let cutset = str_arg("trim", args, 1)?;
    Ok(Value::Str(s.trim_matches(|c| cutset.contains(c))))
}

fn trim_prefix<'a>(_: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let s = str_arg("trim_prefix", args, 0)?;
    let prefix = str_arg("trim_prefix", args, 1)?;
    Ok(Value::Str(s.strip_prefix(prefix).unwrap_or(s)))
}

fn split<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let s = str_arg("split", args, 0)?;
    let sep = str_arg("split", args, 1)?;
    if let &[byte] = sep.as_bytes() {
        // A one-byte separator (`:`, `/`, `,`), the usual case: searched eight bytes at
        // a time. An ASCII byte never occurs inside a multi-byte character, so every
        // piece is a whole string.
        let mut items = BumpVec::with_capacity_in(4, interp.arena());
        let mut rest = s;
        loop {
            if items.len() >= MAX_ITEMS {
                return Err(super::too_large("split"));
            }
            match find_byte(rest.as_bytes(), byte) {
                Some(at) => {
                    items.push(Value::Str(rest.get(..at).unwrap_or("")));
                    rest = rest.get(at + 1..).unwrap_or("");
                }
                None => {
                    items.push(Value::Str(rest));
                    break;
                }
            }
        }
        return Ok(Value::Array(items.into_bump_slice()));
    }
    let mut items = BumpVec::new_in(interp.arena());
    let mut push = |piece: &'a str| {
        if items.len() >= MAX_ITEMS {
            return Err(super::too_large("split"));
        }
        items.push(Value::Str(piece));
        Ok(())
    };
    if sep.is_empty() {
        // Go splits into characters; an empty string gives no elements at all.
        for (i, c) in s.char_indices() {
            push(s.get(i..i + c.len_utf8()).unwrap_or(""))?;
        }
    } else {
        for piece in s.split(sep) {
            push(piece)?;
        }
    }
    Ok(Value::Array(items.into_bump_slice()))
}

/// The index of the first `byte` in `hay`, eight bytes at a time.
fn find_byte(hay: &[u8], byte: u8) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let pattern = ONES * u64::from(byte);
    let mut chunks = hay.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(<[u8; 8]>::try_from(chunk).unwrap_or([!byte; 8])) ^ pattern;
        // The lowest high bit set marks the first zero byte of `word` exactly (borrows
        // can only mark bytes after it).
        let zero = word.wrapping_sub(ONES) & !word & HIGHS;
        if zero != 0 {
            return Some(at + (zero.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    chunks.remainder().iter().position(|b| *b == byte).map(|i| at + i)
}

fn truncate<'a>(_: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let s = str_arg("truncate", args, 0)?;
    let length = num_arg("truncate", args, 1)?;
    let length = if length < 0.0 { 0.0 } else { length };
    // Go converts with int(): NaN and values past 2^63 would make Kyverno panic.
    if length.is_nan() || length >= 9_223_372_036_854_775_808.0 {
        return Err(invalid("truncate", "length out of range"));
    }
    let keep = length as u64;
    let end = s.char_indices().nth(usize::try_from(keep).unwrap_or(usize::MAX)).map_or(s.len(), |(i, _)| i);
    Ok(Value::Str(s.get(..end).unwrap_or(s)))
}

fn path_canonicalize<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let s = str_arg("path_canonicalize", args, 0)?;
    // filepath.Join of one element: "" stays "", anything else is Clean'ed.
    if s.is_empty() {
        return Ok(Value::Str(""));
    }
    let cleaned = go_clean_path(s);
    super::alloc_str(interp.arena(), "path_canonicalize", &cleaned)
}

/// Go's `path.Clean` (and `filepath.Clean` on Unix).
pub(crate) fn go_clean_path(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let p = path.as_bytes();
    let n = p.len();
    let rooted = p.first() == Some(&b'/');
    let mut out: Vec<u8> = Vec::with_capacity(n);
    let (mut r, mut dotdot) = (0, 0);
    if rooted {
        out.push(b'/');
        r = 1;
        dotdot = 1;
    }
    let at = |i: usize| p.get(i).copied();
    while r < n {
        if at(r) == Some(b'/') || (at(r) == Some(b'.') && (r + 1 == n || at(r + 1) == Some(b'/'))) {
            // An empty or `.` element.
            r += 1;
        } else if at(r) == Some(b'.') && at(r + 1) == Some(b'.') && (r + 2 == n || at(r + 2) == Some(b'/')) {
            r += 2;
            if out.len() > dotdot {
                // Back up to the previous slash (Go checks the byte at the new end).
                let mut w = out.len() - 1;
                while w > dotdot && out.get(w) != Some(&b'/') {
                    w -= 1;
                }
                out.truncate(w);
            } else if !rooted {
                if !out.is_empty() {
                    out.push(b'/');
                }
                out.extend_from_slice(b"..");
                dotdot = out.len();
            }
        } else {
            if (rooted && out.len() != 1) || (!rooted && !out.is_empty()) {
                out.push(b'/');
            }
            while r < n && at(r) != Some(b'/') {
                if let Some(b) = at(r) {
                    out.push(b);
                }
                r += 1;
            }
        }
    }
    if out.is_empty() {
        return ".".into();
    }
    // Only whole elements were dropped, so the bytes are still UTF-8.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn pattern_match<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let pattern = str_arg("pattern_match", args, 0)?;
    let subject = iface_to_string(interp.arena(), &arg(args, 1)).ok_or_else(|| wrong_type("pattern_match", 2, "a string or a number"))?;
    Ok(Value::Bool(crate::wildcard::matches(pattern, subject)))
}

fn label_match<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let (Value::Object(labels), Value::Object(target)) = (arg(args, 0), arg(args, 1)) else {
        return Err(wrong_type("label_match", 1, "an object"));
    };
    interp.charge((labels.len() + target.len()) as u64)?;
    // Go's map lookup: the last duplicate key wins (the decoder already keeps one).
    let target: AHashMap<&str, Value<'a>> = target.iter().map(|m| (m.key, m.value)).collect();
    for label in labels {
        let Some(found) = target.get(label.key) else {
            return Ok(Value::Bool(false));
        };
        match go_interface_equal(found, &label.value) {
            Some(true) => {}
            Some(false) => return Ok(Value::Bool(false)),
            None => return Err(invalid("label_match", "label values of the same type must be comparable (not arrays or objects)")),
        }
    }
    Ok(Value::Bool(true))
}

/// Go's `==` on two `interface{}` values decoded from JSON: `None` where Go panics
/// (both values maps, or both slices).
fn go_interface_equal(a: &Value<'_>, b: &Value<'_>) -> Option<bool> {
    Some(match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => super::as_f64(a) == super::as_f64(b),
        (Value::Array(_), Value::Array(_)) | (Value::Object(_), Value::Object(_)) => return None,
        _ => false,
    })
}

fn to_boolean<'a>(_: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let s = str_arg("to_boolean", args, 0)?;
    match go_to_lower(s).as_str() {
        "true" => Ok(Value::Bool(true)),
        "false" => Ok(Value::Bool(false)),
        _ => Err(invalid("to_boolean", "lowercase argument must be 'true' or 'false'")),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{q, run};
    use super::*;

    // Cases from Kyverno's pkg/engine/jmespath/functions_test.go unless noted.

    #[test]
    fn find_byte_agrees_with_a_scan() {
        let hay = b"registry.example.com/shop/checkout-api:2.14.3\x80\xff::";
        for byte in [b':', b'/', b'.', b'r', b'3', 0x80, 0xff, b'z', 0] {
            for start in 0..hay.len() {
                let h = &hay[start..];
                assert_eq!(find_byte(h, byte), h.iter().position(|b| *b == byte), "{byte} from {start}");
            }
        }
        assert_eq!(find_byte(b"", b':'), None);
    }

    #[test]
    fn split_and_case_mapping_fast_paths_match_the_general_ones() {
        for (s, sep) in [
            ("a:b:c", ":"),
            ("", ":"),
            (":", ":"),
            ("::a::", ":"),
            ("no separator here at all, none", ":"),
            ("é:ü:😀:", ":"),
            ("x/y/z/0123456789/0123456789/", "/"),
        ] {
            let expected: Vec<String> = s.split(sep).map(q).collect();
            assert_eq!(run("split", &[&q(s), &q(sep)]), format!("[{}]", expected.join(",")), "{s:?}");
        }
        assert_eq!(run("to_upper", &[&q("shop-A1")]), q("SHOP-A1"));
        assert_eq!(run("to_upper", &[&q("SHOP")]), q("SHOP"));
        assert_eq!(run("to_lower", &[&q("Shop-A1")]), q("shop-a1"));
        assert_eq!(run("to_lower", &[&q("")]), q(""));
        assert_eq!(run("to_upper", &[&q("straße")]), q("STRAßE"));
    }

    #[test]
    fn compare_is_go_strings_compare() {
        assert_eq!(run("compare", &[&q("a"), &q("a")]), "0");
        assert_eq!(run("compare", &[&q("a"), &q("b")]), "-1");
        assert_eq!(run("compare", &[&q("b"), &q("a")]), "1");
        assert_eq!(run("compare", &[&q("a"), "1"]), "error: invalid-type");
    }

    #[test]
    fn equal_fold_uses_case_folding_orbits() {
        assert_eq!(run("equal_fold", &[&q("Go"), &q("go")]), "true");
        assert_eq!(run("equal_fold", &[&q("a"), &q("b")]), "false");
        assert_eq!(run("equal_fold", &[&q("1"), &q("b")]), "false");
        // Go folds through non-ASCII orbit members.
        assert!(go_equal_fold("k", "\u{212A}"));
        assert!(go_equal_fold("ſ", "S"));
        assert!(go_equal_fold("ß", "ẞ"));
        assert!(go_equal_fold("Σ", "ς"));
        assert!(!go_equal_fold("ı", "I"));
        assert!(!go_equal_fold("İ", "i"));
        assert!(!go_equal_fold("ab", "a"));
        assert!(!go_equal_fold("a", "ab"));
    }

    #[test]
    fn replace_counts_like_go() {
        let s = q("Lorem ipsum ipsum ipsum dolor sit amet");
        assert_eq!(run("replace", &[&q("Lorem ipsum dolor sit amet"), &q("ipsum"), &q("muspi"), "-1"]), q("Lorem muspi dolor sit amet"));
        assert_eq!(run("replace", &[&s, &q("ipsum"), &q("muspi"), "-1"]), q("Lorem muspi muspi muspi dolor sit amet"));
        assert_eq!(run("replace", &[&s, &q("ipsum"), &q("muspi"), "1"]), q("Lorem muspi ipsum ipsum dolor sit amet"));
        assert_eq!(run("replace", &[&s, &q("ipsum"), &q("muspi"), "0"]), s);
        assert_eq!(run("replace", &[&s, &q("ipsum"), &q("muspi"), "1.9"]), q("Lorem muspi ipsum ipsum dolor sit amet"));
        // Go: an empty `old` matches before each character and at the end.
        assert_eq!(run("replace", &[&q("aé"), &q(""), &q("-"), "-1"]), q("-a-é-"));
        assert_eq!(run("replace", &[&q("abc"), &q(""), &q("-"), "2"]), q("-a-bc"));
        assert_eq!(run("replace", &[&q("x"), &q("x"), &q("y"), "true"]), "error: invalid-type");
        assert_eq!(run("replace_all", &[&q("Lorem ipsum dolor sit amet"), &q("ipsum"), &q("muspi")]), q("Lorem muspi dolor sit amet"));
        assert_eq!(run("replace_all", &[&s, &q("ipsum"), &q("muspi")]), q("Lorem muspi muspi muspi dolor sit amet"));
        assert_eq!(run("replace_all", &[&q("aaa"), &q("aa"), &q("b")]), q("ba"));
    }

    #[test]
    fn replace_output_is_bounded() {
        let big = q(&"x".repeat(1 << 16));
        assert_eq!(run("replace_all", &[&big, &q(""), &q(&"y".repeat(1 << 10))]), "error: limit");
    }

    #[test]
    fn case_mapping_is_simple_per_character() {
        assert_eq!(run("to_upper", &[&q("abc")]), q("ABC"));
        assert_eq!(run("to_upper", &[&q("123")]), q("123"));
        assert_eq!(run("to_upper", &[&q("a#%&123Bc")]), q("A#%&123BC"));
        assert_eq!(run("to_lower", &[&q("ABC")]), q("abc"));
        assert_eq!(run("to_lower", &[&q("a#%&123Bc")]), q("a#%&123bc"));
        assert_eq!(run("to_upper", &["32"]), "error: invalid-type");
        // Go keeps ß (no simple uppercase); Rust's full mapping would give "SS".
        assert_eq!(run("to_upper", &[&q("straße")]), q("STRAßE"));
        assert_eq!(run("to_upper", &[&q("ᾳ")]), q("ᾼ"));
        assert_eq!(run("to_lower", &[&q("İ")]), q("i"));
        // No final-sigma context rule in Go.
        assert_eq!(run("to_lower", &[&q("ΟΔΟΣ")]), q("οδοσ"));
    }

    #[test]
    fn trim_and_trim_prefix() {
        assert_eq!(run("trim", &[&q("¡¡¡Hello, Gophers!!!"), &q("!¡")]), q("Hello, Gophers"));
        assert_eq!(run("trim", &[&q("  x "), &q("")]), q("  x "));
        assert_eq!(run("trim_prefix", &[&q("¡¡¡Hello, Gophers!!!"), &q("¡¡¡Hello, ")]), q("Gophers!!!"));
        assert_eq!(run("trim_prefix", &[&q("¡¡¡Hello, Gophers!!!"), &q("¡¡¡Hola, ")]), q("¡¡¡Hello, Gophers!!!"));
        assert_eq!(run("trim_prefix", &["1", &q("¡¡¡Hello, ")]), "error: invalid-type");
        assert_eq!(run("trim_prefix", &[&q("x"), "1"]), "error: invalid-type");
    }

    #[test]
    fn split_like_go() {
        assert_eq!(run("split", &[&q("Hello, Gophers"), &q(", ")]), r#"["Hello","Gophers"]"#);
        assert_eq!(run("split", &[&q("a,b,"), &q(",")]), r#"["a","b",""]"#);
        assert_eq!(run("split", &[&q(""), &q(",")]), r#"[""]"#);
        assert_eq!(run("split", &[&q("aé"), &q("")]), r#"["a","é"]"#);
        assert_eq!(run("split", &[&q(""), &q("")]), "[]");
    }

    #[test]
    fn truncate_counts_characters() {
        assert_eq!(run("truncate", &[&q("Lorem ipsum dolor sit amet"), "5"]), q("Lorem"));
        assert_eq!(run("truncate", &[&q("Lorem ipsum ipsum ipsum dolor sit amet"), "11"]), q("Lorem ipsum"));
        assert_eq!(run("truncate", &[&q("Lorem ipsum ipsum ipsum dolor sit amet"), "40"]), q("Lorem ipsum ipsum ipsum dolor sit amet"));
        assert_eq!(run("truncate", &[&q("Lorem ipsum"), "2.6"]), q("Lo"));
        assert_eq!(run("truncate", &[&q("Lorem ipsum"), "0"]), q(""));
        assert_eq!(run("truncate", &[&q("Lorem ipsum"), "-1"]), q(""));
        assert_eq!(run("truncate", &[&q("héllo"), "2"]), q("hé"));
        assert_eq!(run("truncate", &[&q("x"), "1e300"]), "error: invalid-value");
    }

    #[test]
    fn path_canonicalize_is_filepath_join() {
        for (input, want) in [
            ("///", "/"),
            ("///var/run/containerd/containerd.sock", "/var/run/containerd/containerd.sock"),
            ("/var/run///containerd/containerd.sock", "/var/run/containerd/containerd.sock"),
            ("/var/run///containerd////", "/var/run/containerd"),
            ("/run///", "/run"),
            ("/run/../etc", "/etc"),
            ("///etc*", "/etc*"),
            ("/../../", "/"),
            // Go's path.Clean on relative paths (not in Kyverno's tests).
            ("", ""),
            (".", "."),
            ("a/../..", ".."),
            ("../a/./b/", "../a/b"),
            ("a//b/../c", "a/c"),
        ] {
            assert_eq!(run("path_canonicalize", &[&q(input)]), q(want), "{input:?}");
        }
    }

    #[test]
    fn pattern_match_accepts_numbers() {
        assert_eq!(run("pattern_match", &[&q("prefix-*"), &q("prefix-foo")]), "true");
        // Test_PatternMatchWithNumber: pattern_match('12*', abs(`-12`)).
        assert_eq!(run("pattern_match", &[&q("12*"), "12"]), "true");
        assert_eq!(run("pattern_match", &[&q("1?.5"), "12.5"]), "true");
        assert_eq!(run("pattern_match", &[&q("a?c"), &q("abbc")]), "false");
        assert_eq!(run("pattern_match", &[&q("*"), "true"]), "error: invalid-type");
    }

    #[test]
    fn label_match_requires_every_label() {
        let labels = r#"{"app": "test-app", "controller-name": "test-controller"}"#;
        assert_eq!(run("label_match", &[r#"{"app": "test-app"}"#, labels]), "true");
        assert_eq!(run("label_match", &[r#"{"app": "test-app", "controller-name": "test-controller"}"#, labels]), "true");
        assert_eq!(run("label_match", &[r#"{"app": "test-app2"}"#, labels]), "false");
        assert_eq!(run("label_match", &[r#"{"app.kubernetes.io/name": "test-app"}"#, labels]), "false");
        assert_eq!(run("label_match", &["{}", labels]), "true");
        assert_eq!(run("label_match", &[r#"{"n": 1}"#, r#"{"n": 1.0}"#]), "true");
        assert_eq!(run("label_match", &[r#"{"n": "1"}"#, r#"{"n": 1}"#]), "false");
        assert_eq!(run("label_match", &[r#"{"n": {}}"#, r#"{"n": {}}"#]), "error: invalid-value");
        assert_eq!(run("label_match", &[r#"{"n": {}}"#, r#"{"n": "x"}"#]), "false");
    }

    #[test]
    fn to_boolean_like_kyverno() {
        // Test_JpToBoolean.
        assert_eq!(run("to_boolean", &[&q("true")]), "true");
        assert_eq!(run("to_boolean", &[&q("TRue")]), "true");
        assert_eq!(run("to_boolean", &[&q("FaLse")]), "false");
        assert_eq!(run("to_boolean", &[&q("false")]), "false");
        assert_eq!(run("to_boolean", &[&q("FaLsee")]), "error: invalid-value");
        assert_eq!(run("to_boolean", &[&q("foo")]), "error: invalid-value");
        assert_eq!(run("to_boolean", &["1"]), "error: invalid-type");
        assert_eq!(run("to_boolean", &["null"]), "error: invalid-type");
    }
}
