//! Regular expressions with Go's RE2 syntax and semantics: `regex_match`,
//! `regex_replace_all`, `regex_replace_all_literal`.
//!
//! Kyverno compiles patterns with Go's `regexp`. The `regex` crate implements the same
//! leftmost-first RE2 semantics, but its syntax differs: `\d \w \s \b` are Unicode-aware,
//! `\Q...\E` is missing, classes have set operations (`&&`, `--`, `~~`) and nesting,
//! `(?x)` and more flags are accepted, `a**` is allowed, and repetition counts have no
//! 1000 cap. [`translate`] therefore parses a pattern with Go's grammar, rejecting what
//! Go rejects, and re-emits it in an unambiguous form of the `regex` crate's syntax
//! (every literal escaped, Go's ASCII-only classes spelled out). Replacement templates
//! (`$1`, `${name}`, `$$`) are expanded by Go's rules, not the crate's (`$01` is a group
//! *named* `01` in Go), and the replace loop is Go's, so empty matches behave alike.
//!
//! Compiled programs are cached per thread in a small LRU ([`CACHE_CAPACITY`] entries,
//! patterns up to [`MAX_CACHED_PATTERN`] bytes); compile size is capped
//! ([`SIZE_LIMIT`]), so a hostile pattern costs bounded memory.

use std::cell::RefCell;

use regex::{Regex, RegexBuilder};

use super::{arg, iface_to_string, invalid, str_arg, wrong_type, Out, S};
use crate::document::Value;
use crate::jmespath::{Arg, Error, Function, Interp, Types};

const SN: Types = Types::STRING.or(Types::NUMBER);

pub(super) const FUNCTIONS: &[Function] = &[
    Function {
        name: "regex_match",
        params: &[S, SN],
        variadic: false,
        returns: "boolean",
        doc: "whether a Go (RE2) regular expression matches anywhere in a string or number",
        call: regex_match,
    },
    Function {
        name: "regex_replace_all",
        params: &[S, SN, SN],
        variadic: false,
        returns: "string",
        doc: "replaces every match of a Go regular expression, expanding `$1` and `${name}`",
        call: regex_replace_all,
    },
    Function {
        name: "regex_replace_all_literal",
        params: &[S, SN, SN],
        variadic: false,
        returns: "string",
        doc: "replaces every match of a Go regular expression with a literal string",
        call: regex_replace_all_literal,
    },
];

/// Compiled-program size cap for one pattern (the `regex` crate's `size_limit`).
pub const SIZE_LIMIT: usize = 2 << 20;
/// Lazy DFA cache cap for one pattern.
pub const DFA_SIZE_LIMIT: usize = 1 << 20;
/// Compiled patterns kept per thread.
pub const CACHE_CAPACITY: usize = 32;
/// Longer patterns are compiled every time rather than cached.
pub const MAX_CACHED_PATTERN: usize = 4 << 10;
/// Go's limit on `{n,m}` counts and on their nested products.
const MAX_REPEAT: u32 = 1000;

/// A cache entry: the Go pattern and its compiled form (or why it failed).
type Cached = (Box<str>, Result<Regex, &'static str>);

thread_local! {
    static CACHE: RefCell<Vec<Cached>> = const { RefCell::new(Vec::new()) };
}

/// Compiles a Go pattern, through the per-thread cache. The error is a fixed message
/// (never the pattern).
pub(crate) fn compile(pattern: &str) -> Result<Regex, &'static str> {
    if pattern.len() > MAX_CACHED_PATTERN {
        return compile_uncached(pattern);
    }
    let hit = CACHE.with(|c| {
        let mut c = c.borrow_mut();
        let i = c.iter().position(|(p, _)| &**p == pattern)?;
        let entry = c.remove(i);
        let result = entry.1.clone();
        c.push(entry);
        Some(result)
    });
    if let Some(r) = hit {
        return r;
    }
    let result = compile_uncached(pattern);
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= CACHE_CAPACITY {
            drop(c.remove(0));
        }
        c.push((pattern.into(), result.clone()));
    });
    result
}

fn compile_uncached(pattern: &str) -> Result<Regex, &'static str> {
    let translated = translate(pattern)?;
    RegexBuilder::new(&translated).size_limit(SIZE_LIMIT).dfa_size_limit(DFA_SIZE_LIMIT).build().map_err(|e| match e {
        regex::Error::CompiledTooBig(_) => "expression too large",
        _ => "invalid regular expression",
    })
}

fn regex_match<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let pattern = str_arg("regex_match", args, 0)?;
    let subject = iface_to_string(interp.arena(), &arg(args, 1)).ok_or_else(|| wrong_type("regex_match", 2, "a string or a number"))?;
    let re = compile(pattern).map_err(|e| invalid("regex_match", e))?;
    super::charge_scan(interp, subject.len() + pattern.len())?;
    Ok(Value::Bool(re.is_match(subject)))
}

fn regex_replace_all<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    replace(interp, args, "regex_replace_all", false)
}

fn regex_replace_all_literal<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    replace(interp, args, "regex_replace_all_literal", true)
}

fn replace<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>], name: &'static str, literal: bool) -> Result<Value<'a>, Error> {
    let pattern = str_arg(name, args, 0)?;
    let arena = interp.arena();
    let src = iface_to_string(arena, &arg(args, 1)).ok_or_else(|| wrong_type(name, 2, "a string or a number"))?;
    let repl = iface_to_string(arena, &arg(args, 2)).ok_or_else(|| wrong_type(name, 3, "a string or a number"))?;
    let re = compile(pattern).map_err(|e| invalid(name, e))?;
    super::charge_scan(interp, src.len() + pattern.len())?;
    let mut out = Out::new(arena, name);
    go_replace_all(&re, src, &mut out, |out, caps| if literal { out.push_str(repl) } else { expand(&re, repl, src, caps, out) })?;
    Ok(out.finish())
}

/// Go's `Regexp.replaceAll` loop: an empty match right after a previous match is not
/// replaced, and the search always advances by at least one character.
fn go_replace_all<'t>(
    re: &Regex,
    src: &'t str,
    out: &mut Out<'_>,
    mut repl: impl FnMut(&mut Out<'_>, &regex::Captures<'t>) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut last_match_end = 0;
    let mut search_pos = 0;
    while search_pos <= src.len() {
        let Some(caps) = re.captures_at(src, search_pos) else { break };
        let Some(m) = caps.get(0) else { break };
        out.push_str(src.get(last_match_end..m.start()).unwrap_or(""))?;
        if m.end() > last_match_end || m.start() == 0 {
            repl(out, &caps)?;
        }
        last_match_end = m.end();
        let width = src.get(search_pos..).and_then(|r| r.chars().next()).map_or(0, char::len_utf8);
        if search_pos + width > m.end() {
            search_pos += width;
        } else if search_pos + 1 > m.end() {
            search_pos += 1;
        } else {
            search_pos = m.end();
        }
    }
    out.push_str(src.get(last_match_end..).unwrap_or(""))
}

/// Go's `Regexp.expand`: `$$` is `$`; `$name` takes the longest run of letters, digits
/// and `_`; `${name}` is braced; a number without leading zeros is a group index; an
/// unknown or unmatched group expands to nothing; a malformed `$` stays literal.
fn expand(re: &Regex, template: &str, src: &str, caps: &regex::Captures<'_>, out: &mut Out<'_>) -> Result<(), Error> {
    let mut t = template;
    while let Some(i) = t.find('$') {
        out.push_str(t.get(..i).unwrap_or(""))?;
        t = t.get(i + 1..).unwrap_or("");
        if let Some(rest) = t.strip_prefix('$') {
            out.push('$')?;
            t = rest;
            continue;
        }
        let Some((name, rest)) = extract_name(t) else {
            out.push('$')?;
            continue;
        };
        t = rest;
        let group = match parse_group_number(name) {
            Some(n) => caps.get(n),
            None => re.capture_names().position(|n| n == Some(name)).and_then(|i| caps.get(i)),
        };
        if let Some(m) = group {
            out.push_str(src.get(m.start()..m.end()).unwrap_or(""))?;
        }
    }
    out.push_str(t)
}

/// Go's `extract`: the name after a `$` (braced or not) and the rest of the template.
fn extract_name(s: &str) -> Option<(&str, &str)> {
    let (brace, s) = match s.strip_prefix('{') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let len = s.char_indices().find(|&(_, c)| !(c.is_alphabetic() || c.is_numeric() || c == '_')).map_or(s.len(), |(i, _)| i);
    if len == 0 {
        return None;
    }
    let name = s.get(..len)?;
    let mut rest = s.get(len..)?;
    if brace {
        rest = rest.strip_prefix('}')?;
    }
    Some((name, rest))
}

/// A group index as Go reads one: ASCII digits, no leading zero, below 10^8.
fn parse_group_number(name: &str) -> Option<usize> {
    if !name.bytes().all(|b| b.is_ascii_digit()) || (name.len() > 1 && name.starts_with('0')) || name.len() > 8 {
        return None;
    }
    name.parse().ok()
}

// ---------------------------------------------------------------------------------
// Go RE2 syntax → `regex` crate syntax.

/// What the last parsed item can take a repetition operator.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Operand {
    /// Nothing to repeat (start, after `(`, `|` or a flag group).
    None,
    /// An atom or group, with the largest product of counted repetitions inside it.
    Atom(u32),
    /// A repetition: another operator right after it is an error in Go.
    Repeated(u32),
}

struct Translator {
    out: String,
    operand: Operand,
    /// Per open group (the whole pattern first): the largest repetition product of the
    /// group's finished operands.
    levels: Vec<u32>,
}

impl Translator {
    fn finish_operand(&mut self) {
        if let Operand::Atom(p) | Operand::Repeated(p) = self.operand {
            if let Some(level) = self.levels.last_mut() {
                *level = (*level).max(p);
            }
        }
        self.operand = Operand::None;
    }

    fn atom(&mut self, text: &str) {
        self.finish_operand();
        self.out.push_str(text);
        self.operand = Operand::Atom(1);
    }

    fn literal(&mut self, c: char) {
        self.finish_operand();
        push_char(&mut self.out, c);
        self.operand = Operand::Atom(1);
    }

    /// Applies a repetition: `min`/`max` for counted ones (`max` -1 when unbounded).
    fn repeat(&mut self, op: &str, counted: Option<(u32, i64)>, non_greedy: bool) -> Result<(), &'static str> {
        let inner = match self.operand {
            Operand::None => return Err("missing argument to repetition operator"),
            Operand::Repeated(_) => return Err("invalid nested repetition operator"),
            Operand::Atom(p) => p,
        };
        let product = match counted {
            None => inner,
            Some((_, 0)) => 1,
            Some((min, max)) => {
                let m = if max < 0 { min } else { max as u32 }.max(1);
                let product = inner.saturating_mul(m);
                if (min >= 2 || max >= 2) && product > MAX_REPEAT {
                    return Err("invalid repeat count");
                }
                product
            }
        };
        self.out.push_str(op);
        if non_greedy {
            self.out.push('?');
        }
        self.operand = Operand::Repeated(product);
        Ok(())
    }
}

/// Appends `c` so that the `regex` crate reads it as that literal character.
fn push_char(out: &mut String, c: char) {
    if c.is_ascii_alphanumeric() {
        out.push(c);
    } else {
        out.push_str(&format!("\\x{{{:X}}}", c as u32));
    }
}

const DIGIT: &str = "0-9";
const WORD: &str = "0-9A-Za-z_";
const SPACE: &str = "\\t\\n\\x{C}\\r ";
const POSIX: &[&str] =
    &["alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct", "space", "upper", "word", "xdigit"];

/// Go's Perl classes, ASCII-only: (class letter, class body, negated).
fn perl_class(c: char) -> Option<(&'static str, bool)> {
    match c {
        'd' => Some((DIGIT, false)),
        'D' => Some((DIGIT, true)),
        'w' => Some((WORD, false)),
        'W' => Some((WORD, true)),
        's' => Some((SPACE, false)),
        'S' => Some((SPACE, true)),
        _ => None,
    }
}

/// Translates a Go regular expression to the `regex` crate's syntax, with Go's errors.
pub(crate) fn translate(pattern: &str) -> Result<String, &'static str> {
    let mut t = Translator { out: String::with_capacity(pattern.len() * 2), operand: Operand::None, levels: vec![1] };
    let mut rest = pattern;
    while let Some(c) = rest.chars().next() {
        let after = rest.get(c.len_utf8()..).unwrap_or("");
        match c {
            '(' => {
                if let Some(flags) = after.strip_prefix('?') {
                    rest = t_perl_group(&mut t, flags)?;
                    continue;
                }
                if t.levels.len() > 1000 {
                    return Err("expression nests too deeply");
                }
                t.finish_operand();
                t.out.push('(');
                t.levels.push(1);
                rest = after;
            }
            '|' => {
                t.finish_operand();
                t.out.push('|');
                rest = after;
            }
            ')' => {
                t.finish_operand();
                if t.levels.len() <= 1 {
                    return Err("unexpected )");
                }
                let product = t.levels.pop().unwrap_or(1);
                t.out.push(')');
                t.operand = Operand::Atom(product);
                rest = after;
            }
            '^' => {
                t.atom("^");
                rest = after;
            }
            '$' => {
                t.atom("$");
                rest = after;
            }
            '.' => {
                t.atom(".");
                rest = after;
            }
            '[' => {
                let (class, r) = parse_class(after)?;
                t.atom(&class);
                rest = r;
            }
            '*' | '+' | '?' => {
                let (non_greedy, r) = match after.strip_prefix('?') {
                    Some(r) => (true, r),
                    None => (false, after),
                };
                t.repeat(&c.to_string(), None, non_greedy)?;
                rest = r;
            }
            '{' => match parse_repeat(after) {
                None => {
                    t.literal('{');
                    rest = after;
                }
                Some((min, max, r)) => {
                    if min > i64::from(MAX_REPEAT) || max > i64::from(MAX_REPEAT) || (max >= 0 && min > max) {
                        return Err("invalid repeat count");
                    }
                    let op = if max < 0 {
                        format!("{{{min},}}")
                    } else if max == min {
                        format!("{{{min}}}")
                    } else {
                        format!("{{{min},{max}}}")
                    };
                    let (non_greedy, r) = match r.strip_prefix('?') {
                        Some(r2) => (true, r2),
                        None => (false, r),
                    };
                    t.repeat(&op, Some((min as u32, max)), non_greedy)?;
                    rest = r;
                }
            },
            '\\' => {
                rest = t_escape(&mut t, after)?;
            }
            _ => {
                t.literal(c);
                rest = after;
            }
        }
    }
    if t.levels.len() > 1 {
        return Err("missing closing )");
    }
    Ok(t.out)
}

/// `(?` constructs: named groups, flag groups, flag settings.
fn t_perl_group<'p>(t: &mut Translator, s: &'p str) -> Result<&'p str, &'static str> {
    let named = s.strip_prefix("P<").or_else(|| s.strip_prefix('<'));
    if let Some(r) = named {
        let end = r.find('>').ok_or("invalid named capture")?;
        let name = r.get(..end).unwrap_or("");
        if name.is_empty() || !name.bytes().all(|b| b == b'_' || b.is_ascii_alphanumeric()) {
            return Err("invalid named capture");
        }
        if t.levels.len() > 1000 {
            return Err("expression nests too deeply");
        }
        t.finish_operand();
        t.out.push_str("(?P<");
        t.out.push_str(name);
        t.out.push('>');
        t.levels.push(1);
        return Ok(r.get(end + 1..).unwrap_or(""));
    }
    // Flags: [imsU]* optionally followed by - and more, then ')' or ':'.
    let mut negated = false;
    let mut saw_flag = false;
    let mut flags = String::new();
    for (i, c) in s.char_indices() {
        match c {
            'i' | 'm' | 's' | 'U' => {
                flags.push(c);
                saw_flag = true;
            }
            '-' => {
                if negated {
                    return Err("invalid or unsupported Perl syntax");
                }
                negated = true;
                saw_flag = false;
                flags.push('-');
            }
            ':' | ')' => {
                if negated && !saw_flag {
                    return Err("invalid or unsupported Perl syntax");
                }
                let rest = s.get(i + 1..).unwrap_or("");
                t.finish_operand();
                if c == ':' {
                    if t.levels.len() > 1000 {
                        return Err("expression nests too deeply");
                    }
                    t.out.push_str("(?");
                    t.out.push_str(&flags);
                    t.out.push(':');
                    t.levels.push(1);
                } else if !flags.is_empty() {
                    t.out.push_str("(?");
                    t.out.push_str(&flags);
                    t.out.push(')');
                }
                return Ok(rest);
            }
            _ => return Err("invalid or unsupported Perl syntax"),
        }
    }
    Err("missing closing )")
}

/// Go's `parseRepeat` on the text after `{`: `(min, max, rest)` with `max` -1 for
/// `{n,}`; `None` when the braces do not form a repetition (then `{` is literal).
fn parse_repeat(s: &str) -> Option<(i64, i64, &str)> {
    let (min, s) = parse_int(s)?;
    let (max, s) = match s.strip_prefix(',') {
        None => (min, s),
        Some(s) if s.starts_with('}') => (-1, s),
        Some(s) => {
            let (max, s) = parse_int(s)?;
            // Go marks an oversized max by making min invalid.
            (max, s)
        }
    };
    let rest = s.strip_prefix('}')?;
    Some((min, max, rest))
}

/// Go's `parser.parseInt`: digits without a leading zero; values past 10^8 become a
/// number that fails the repeat-count check.
fn parse_int(s: &str) -> Option<(i64, &str)> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || (digits >= 2 && s.starts_with('0')) {
        return None;
    }
    let text = s.get(..digits)?;
    let n = if digits > 9 { i64::MAX } else { text.parse().ok()? };
    Some((n, s.get(digits..)?))
}

/// Escapes outside a class. `s` is the text after the backslash.
fn t_escape<'p>(t: &mut Translator, s: &'p str) -> Result<&'p str, &'static str> {
    let c = s.chars().next().ok_or("trailing backslash at end of expression")?;
    let after = s.get(c.len_utf8()..).unwrap_or("");
    match c {
        'A' => t.atom("\\A"),
        'z' => t.atom("\\z"),
        'b' => t.atom("(?-u:\\b)"),
        'B' => t.atom("(?-u:\\B)"),
        'C' => return Err("invalid escape sequence"),
        'Q' => {
            let (lit, rest) = match after.find("\\E") {
                Some(i) => (after.get(..i).unwrap_or(""), after.get(i + 2..).unwrap_or("")),
                None => (after, ""),
            };
            for ch in lit.chars() {
                t.literal(ch);
            }
            return Ok(rest);
        }
        'p' | 'P' => {
            let (class, rest) = unicode_class(c, after)?;
            t.atom(&class);
            return Ok(rest);
        }
        _ => {
            if let Some((body, negated)) = perl_class(c) {
                t.atom(&format!("[{}{body}]", if negated { "^" } else { "" }));
            } else {
                let (ch, rest) = parse_escape(c, after)?;
                t.literal(ch);
                return Ok(rest);
            }
        }
    }
    Ok(after)
}

/// `\pL`, `\p{Greek}`, `\P{^Greek}`: `sign` is `p` or `P`, `s` the text after it.
fn unicode_class(sign: char, s: &str) -> Result<(String, &str), &'static str> {
    let mut negated = sign == 'P';
    let (name, rest) = if let Some(r) = s.strip_prefix('{') {
        let end = r.find('}').ok_or("invalid character class range")?;
        (r.get(..end).unwrap_or(""), r.get(end + 1..).unwrap_or(""))
    } else {
        let c = s.chars().next().ok_or("invalid character class range")?;
        (s.get(..c.len_utf8()).unwrap_or(""), s.get(c.len_utf8()..).unwrap_or(""))
    };
    let name = match name.strip_prefix('^') {
        Some(n) => {
            negated = !negated;
            n
        }
        None => name,
    };
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err("invalid character class range");
    }
    Ok((format!("\\{}{{{name}}}", if negated { 'P' } else { 'p' }), rest))
}

/// Go's `parseEscape` for one literal character: octal, `\x`, control letters and
/// escaped punctuation. `c` is the character after the backslash, `s` the text after it.
fn parse_escape(c: char, s: &str) -> Result<(char, &str), &'static str> {
    const BAD: &str = "invalid escape sequence";
    let octal = |b: Option<u8>| b.is_some_and(|b| (b'0'..=b'7').contains(&b));
    match c {
        '1'..='7' if !octal(s.bytes().next()) => Err(BAD),
        '0'..='7' => {
            let mut r = c as u32 - '0' as u32;
            let mut rest = s;
            for _ in 1..3 {
                match rest.bytes().next() {
                    Some(b) if octal(Some(b)) => {
                        r = r * 8 + u32::from(b - b'0');
                        rest = rest.get(1..).unwrap_or("");
                    }
                    _ => break,
                }
            }
            Ok((char::from_u32(r).ok_or(BAD)?, rest))
        }
        'x' => {
            if let Some(r) = s.strip_prefix('{') {
                let end = r.find('}').ok_or(BAD)?;
                let hex = r.get(..end).unwrap_or("");
                if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(BAD);
                }
                let v = u32::from_str_radix(hex.get(..hex.len().min(8)).unwrap_or(""), 16).map_err(|_| BAD)?;
                if hex.len() > 8 || v > 0x10FFFF {
                    return Err(BAD);
                }
                return Ok((char::from_u32(v).ok_or(BAD)?, r.get(end + 1..).unwrap_or("")));
            }
            let hex = s.get(..2).ok_or(BAD)?;
            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(BAD);
            }
            let v = u32::from_str_radix(hex, 16).map_err(|_| BAD)?;
            Ok((char::from_u32(v).ok_or(BAD)?, s.get(2..).unwrap_or("")))
        }
        'a' => Ok(('\u{7}', s)),
        'f' => Ok(('\u{c}', s)),
        'n' => Ok(('\n', s)),
        'r' => Ok(('\r', s)),
        't' => Ok(('\t', s)),
        'v' => Ok(('\u{b}', s)),
        _ if c.is_ascii() && !c.is_ascii_alphanumeric() => Ok((c, s)),
        _ => Err(BAD),
    }
}

/// Go's `parseClass` on the text after `[`: the class in `regex` syntax and the rest.
fn parse_class(s: &str) -> Result<(String, &str), &'static str> {
    const MISSING: &str = "missing closing ]";
    let mut out = String::from("[");
    let mut t = s;
    if let Some(r) = t.strip_prefix('^') {
        out.push('^');
        t = r;
    }
    let mut first = true;
    loop {
        if t.is_empty() {
            return Err(MISSING);
        }
        if t.starts_with(']') && !first {
            break;
        }
        first = false;
        // POSIX [:alpha:] (searched the way Go does: the first ":]" anywhere after).
        if t.len() > 2 && t.starts_with("[:") {
            if let Some(i) = t.get(2..).and_then(|r| r.find(":]")) {
                let name = t.get(2..2 + i).unwrap_or("");
                let bare = name.strip_prefix('^').unwrap_or(name);
                if !POSIX.contains(&bare) {
                    return Err("invalid character class range");
                }
                out.push_str("[:");
                out.push_str(name);
                out.push_str(":]");
                t = t.get(2 + i + 2..).unwrap_or("");
                continue;
            }
        }
        if let Some(r) = t.strip_prefix("\\p").or_else(|| t.strip_prefix("\\P")) {
            let sign = if t.starts_with("\\p") { 'p' } else { 'P' };
            let (class, rest) = unicode_class(sign, r)?;
            out.push_str(&class);
            t = rest;
            continue;
        }
        if let Some(r) = t.strip_prefix('\\') {
            if let Some((body, negated)) = r.chars().next().and_then(perl_class) {
                if negated {
                    out.push_str("[^");
                    out.push_str(body);
                    out.push(']');
                } else {
                    out.push_str(body);
                }
                t = r.get(1..).unwrap_or("");
                continue;
            }
        }
        let (lo, r) = class_char(t)?;
        t = r;
        let mut hi = lo;
        if t.len() >= 2 && t.starts_with('-') && !t.get(1..).unwrap_or("").starts_with(']') {
            let (h, r) = class_char(t.get(1..).unwrap_or(""))?;
            if h < lo {
                return Err("invalid character class range");
            }
            hi = h;
            t = r;
        }
        push_char(&mut out, lo);
        if hi != lo {
            out.push('-');
            push_char(&mut out, hi);
        }
    }
    out.push(']');
    Ok((out, t.get(1..).unwrap_or("")))
}

/// One class character, escaped or not.
fn class_char(s: &str) -> Result<(char, &str), &'static str> {
    let c = s.chars().next().ok_or("missing closing ]")?;
    let after = s.get(c.len_utf8()..).unwrap_or("");
    if c == '\\' {
        let e = after.chars().next().ok_or("missing closing ]")?;
        return parse_escape(e, after.get(e.len_utf8()..).unwrap_or(""));
    }
    Ok((c, after))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{q, run};
    use super::*;

    fn is_match(p: &str, s: &str) -> bool {
        compile(p).unwrap_or_else(|e| panic!("{p:?}: {e}")).is_match(s)
    }

    #[test]
    fn kyverno_regex_examples() {
        // Test_RegexMatch / Test_RegexMatchWithNumber.
        assert_eq!(run("regex_match", &[&q("12.*"), &q("hgf'b1a2r'b12g")]), "true");
        assert_eq!(run("regex_match", &[&q("12.*"), "12.0"]), "true");
        assert_eq!(run("regex_match", &[&q("^12$"), "12.0"]), "true");
        assert_eq!(run("regex_match", &[&q("x"), "true"]), "error: invalid-type");
        // Test_RegexReplaceAll: `${2}` names a group that does not exist: empty.
        assert_eq!(run("regex_replace_all", &[&q("([Hh]e|G)l"), &q("Hello world, helworldlo"), &q("${2}G")]), q("Glo world, Gworldlo"));
        // Test_RegexReplaceAllLiteral.
        assert_eq!(run("regex_replace_all_literal", &[&q("[Hh]el?"), &q("Hello world, helworldlo"), &q("G")]), q("Glo world, Gworldlo"));
        assert_eq!(run("regex_match", &[&q("("), &q("x")]), "error: invalid-value");
    }

    #[test]
    fn replacement_templates_follow_go() {
        let r = |p: &str, s: &str, t: &str| run("regex_replace_all", &[&q(p), &q(s), &q(t)]);
        assert_eq!(r("(a)(b)", "ab", "$2$1"), q("ba"));
        assert_eq!(r("(?P<x>a)", "a", "[${x}]"), q("[a]"));
        assert_eq!(r("(?P<x>a)", "a", "[$x]"), q("[a]"));
        assert_eq!(r("(a)", "a", "$1x"), q(""), "`$1x` names group `1x`");
        assert_eq!(r("(a)", "a", "${1}x"), q("ax"));
        assert_eq!(r("(a)", "a", "$$1"), q("$1"));
        assert_eq!(r("(a)", "a", "$01"), q(""), "Go: leading zero means a name");
        assert_eq!(r("(a)", "a", "$"), q("$"));
        assert_eq!(r("(a)", "a", "${1"), q("${1"));
        assert_eq!(r("(a)", "a", "$!"), q("$!"));
        assert_eq!(run("regex_replace_all_literal", &[&q("(a)"), &q("a"), &q("$1")]), q("$1"));
        // Numbers as subject and replacement.
        assert_eq!(run("regex_replace_all", &[&q("1"), "121", "3"]), q("323"));
    }

    #[test]
    fn empty_matches_replace_like_go() {
        let r = |p: &str, s: &str, t: &str| run("regex_replace_all", &[&q(p), &q(s), &q(t)]);
        assert_eq!(r("a*", "baaac", "X"), q("XbXcX"));
        assert_eq!(r("", "abc", "-"), q("-a-b-c-"));
        assert_eq!(r("x*", "", "-"), q("-"));
        assert_eq!(r("b*", "abc", "X"), q("XaXcX"));
        assert_eq!(r("", "é", "-"), q("-é-"));
    }

    #[test]
    fn perl_classes_are_ascii_like_go() {
        assert!(is_match(r"^\d$", "7"));
        assert!(!is_match(r"^\d$", "٣"), "Arabic-Indic digit is not \\d in Go");
        assert!(!is_match(r"^\w$", "é"));
        assert!(is_match(r"^\w+$", "a_Z9"));
        assert!(!is_match(r"^\s$", "\u{b}"), "Go's \\s has no \\v");
        assert!(is_match(r"^\s$", "\u{c}"));
        assert!(is_match(r"^[\d\s]+$", "1 2"));
        assert!(is_match(r"^[^\D]$", "5"));
        assert!(!is_match(r"^[\W]$", "a"));
        assert!(is_match(r"\bfoo\b", "a foo b"));
        assert!(is_match(r"\bfoo\b", "éfooé"), "ASCII word boundary: é is not a word char");
        assert!(is_match(r"(?i)\w", "\u{212A}"), "Go folds \\w under (?i)");
    }

    #[test]
    fn go_syntax_extensions_and_literals() {
        assert!(is_match(r"^\Qa.b*\E$", "a.b*"));
        assert!(!is_match(r"^\Qa.b\E$", "axb"));
        assert!(is_match(r"^\Qa.b", "a.b"));
        assert!(is_match(r"^a{,5}$", "a{,5}"), "not a repeat in Go: literal braces");
        assert!(is_match(r"^a{01}$", "a{01}"));
        assert!(is_match(r"^x{$", "x{"));
        assert!(is_match(r"^[a&&b]+$", "a&&b"), "no class intersection in Go");
        assert!(compile(r"^[a--b]$").is_err(), "Go reads a range from a to -");
        assert!(is_match(r"^[[]$", "["));
        assert!(is_match(r"^[]a]+$", "]a"));
        assert!(is_match(r"^[a-]+$", "a-"));
        assert!(is_match(r"^\101\x41\x{41}$", "AAA"));
        assert!(is_match(r"^\0$", "\0"));
        assert!(is_match(r"^[[:alpha:]]+$", "abc"));
        assert!(is_match(r"^[[:^alpha:]]$", "1"));
        assert!(is_match(r"^\pL\p{Greek}\PL$", "aα1"));
        assert!(is_match(r"^\p{^Greek}$", "a"));
        assert!(is_match(r"(?i)^ABC$", "abc"));
        assert!(is_match(r"(?i:a)b", "Ab"));
        assert!(is_match(r"(?s)a.b", "a\nb"));
        assert!(is_match(r"(?)ab", "ab"), "Go accepts an empty flag group");
        assert!(is_match(r"(?U)a+", "a"));
        assert!(is_match(r"^a#b c$", "a#b c"));
        assert!(is_match(r"(?P<n>x)(?<m>y)", "xy"));
        assert!(is_match(r"\.\*\[\]", ".*[]"));
        assert!(is_match(r"a*?b+?c??d{2}?", "bcdd"));
    }

    #[test]
    fn rejects_what_go_rejects() {
        for bad in [
            r"a**",
            r"a*+",
            r"a{2}{3}",
            r"a{2}*",
            r"a*?*",
            r"*a",
            r"(|*)",
            r"a{1001}",
            r"a{2,1}",
            r"(a{100}){11}",
            r"((a{10}){10}){11}",
            r"(?x)a",
            r"(?-)a",
            r"(?i-)a",
            r"(?P=n)",
            r"(?#c)",
            r"\1",
            r"\8",
            r"\C",
            r"\Z",
            r"\u0041",
            r"\é",
            r"[\b]",
            r"[a",
            r"[z-a]",
            r"[[:foo:]]",
            r"(a",
            r"a)",
            r"\",
            r"\x{110000}",
            r"\xG0",
            r"\p{}",
        ] {
            assert!(compile(bad).is_err(), "{bad:?} should not compile");
        }
        // Nested counted repetitions are fine while their product stays within 1000.
        assert!(compile(r"(a{10}){100}").is_ok());
        assert!(compile(r"((a{100}){0}){11}").is_ok());
        assert!(compile(r"(a{500})*").is_ok());
        assert!(compile(r"((a{500})*){3}").is_err());
    }

    #[test]
    fn compile_size_is_bounded_and_cached() {
        assert!(matches!(compile(r"\pL{1000}"), Ok(_) | Err("expression too large")));
        assert_eq!(compile(r"((((a{1000})))").err(), Some("missing closing )"));
        let deep = "(".repeat(300) + &")".repeat(300);
        assert!(compile(&deep).is_err(), "nesting beyond the regex crate's limit is refused, not a stack overflow");
        for i in 0..(CACHE_CAPACITY * 2) {
            assert!(compile(&format!("x{i}")).is_ok());
        }
        CACHE.with(|c| assert!(c.borrow().len() <= CACHE_CAPACITY));
    }
}
