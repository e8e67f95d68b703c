//! Upstream's message helpers (`pluralize`, `joinQuote`, `strings.Join`) and Go's `%q`,
//! writing into arena strings.

use core::fmt::{self, Write};
use std::sync::OnceLock;

use bumpalo::collections::String as BumpString;

/// `pluralize(singular, plural, count)`.
pub(super) fn plural(count: usize, singular: &'static str, plural: &'static str) -> &'static str {
    if count == 1 {
        singular
    } else {
        plural
    }
}

/// `joinQuote(items)`: `"a", "b"`, nothing for an empty list.
pub(super) fn push_join_quote(out: &mut BumpString<'_>, items: &[&str]) {
    for (i, item) in items.iter().enumerate() {
        out.push_str(if i == 0 { "\"" } else { "\", \"" });
        out.push_str(item);
    }
    if !items.is_empty() {
        out.push('"');
    }
}

/// `strings.Join(items, sep)`.
pub(super) fn push_join(out: &mut BumpString<'_>, items: &[&str], sep: &str) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(item);
    }
}

/// `container "a"` / `containers "a", "b"`: how upstream names a list of containers.
pub(super) fn push_containers(out: &mut BumpString<'_>, names: &[&str]) {
    out.push_str(plural(names.len(), "container", "containers"));
    out.push(' ');
    push_join_quote(out, names);
}

/// Writes items separated by `sep`, remembering whether anything was written yet.
pub(super) struct Joiner {
    sep: &'static str,
    started: bool,
}

impl Joiner {
    pub(super) fn new(sep: &'static str) -> Joiner {
        Joiner { sep, started: false }
    }

    /// Writes the separator unless this is the first item.
    pub(super) fn next(&mut self, out: &mut BumpString<'_>) {
        if self.started {
            out.push_str(self.sep);
        }
        self.started = true;
    }
}

/// Sorts and deduplicates, as collecting into a `sets.String` and calling `List()` does
/// (Go sorts strings byte-wise, as `str`'s `Ord` does).
pub(super) fn sort_unique(items: &mut bumpalo::collections::Vec<'_, &str>) {
    items.sort_unstable();
    items.dedup();
}

/// Go's `strconv.Quote` (the `%q` verb on a string): printable runes as they are, `\"` and
/// `\\`, the C escapes, `\xNN` for other control bytes, `\uNNNN` / `\UNNNNNNNN` for other
/// non-printable runes.
pub(super) fn write_go_quoted(out: &mut impl Write, s: &str) -> fmt::Result {
    out.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => out.write_str("\\\"")?,
            '\\' => out.write_str("\\\\")?,
            c if is_go_printable(c) => out.write_char(c)?,
            '\u{7}' => out.write_str("\\a")?,
            '\u{8}' => out.write_str("\\b")?,
            '\u{c}' => out.write_str("\\f")?,
            '\n' => out.write_str("\\n")?,
            '\r' => out.write_str("\\r")?,
            '\t' => out.write_str("\\t")?,
            '\u{b}' => out.write_str("\\v")?,
            c if (c as u32) < 0x20 || c == '\u{7f}' => write!(out, "\\x{:02x}", c as u32)?,
            c if (c as u32) < 0x10000 => write!(out, "\\u{:04x}", c as u32)?,
            c => write!(out, "\\U{:08x}", c as u32)?,
        }
    }
    out.write_char('"')
}

/// Go's `unicode.IsPrint`: letters, marks, numbers, punctuation, symbols and the ASCII
/// space. Non-ASCII runes are classified with the `regex` crate's Unicode tables (the
/// matcher is built once, on the first non-ASCII rune ever quoted).
fn is_go_printable(c: char) -> bool {
    if c.is_ascii() {
        return (' '..='~').contains(&c);
    }
    static GRAPHIC: OnceLock<Option<regex::Regex>> = OnceLock::new();
    let graphic = GRAPHIC.get_or_init(|| regex::Regex::new(r"\A[\p{L}\p{M}\p{N}\p{P}\p{S}]\z").ok());
    let mut buf = [0u8; 4];
    match graphic {
        Some(re) => re.is_match(c.encode_utf8(&mut buf)),
        // Unreachable in practice (the pattern is fixed); err on the side of escaping.
        None => !c.is_control() && !c.is_whitespace(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quoted(s: &str) -> String {
        let mut out = String::new();
        write_go_quoted(&mut out, s).unwrap();
        out
    }

    #[test]
    fn quotes_like_go() {
        assert_eq!(quoted("unconfined"), r#""unconfined""#);
        assert_eq!(quoted(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(quoted("\n\t\u{7}\u{0}\u{7f}"), r#""\n\t\a\x00\x7f""#);
        assert_eq!(quoted("héllo ünïcode ✓"), "\"héllo ünïcode ✓\"");
        // A non-ASCII space, a format character and a private-use rune are escaped.
        assert_eq!(quoted("\u{a0}\u{200b}\u{f0000}"), r#""\u00a0\u200b\U000f0000""#);
    }

    #[test]
    fn joins_like_upstream() {
        let bump = bumpalo::Bump::new();
        let mut s = BumpString::new_in(&bump);
        push_join_quote(&mut s, &[]);
        assert_eq!(s, "");
        push_containers(&mut s, &["a"]);
        s.push('|');
        push_containers(&mut s, &["a", "b"]);
        assert_eq!(s, r#"container "a"|containers "a", "b""#);
    }
}
