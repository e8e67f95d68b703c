//! `semver_compare(version, range)`, with blang/semver v4's range language.
//!
//! Not Cargo's semantics: a bare version means *exactly* that version, comparators are
//! `=`/`==`, `!`/`!=`, `>`, `>=`, `<`, `<=`, space-separated comparators must all hold,
//! `||` separates alternatives, and `x` wildcards expand by blang's rules (`1.2.x`,
//! `>1.x`, `!4.x.x`). The quirks are blang's too: ranges split only on single spaces,
//! a space after an operator is ignored, parts shorter than two characters are
//! dropped. Kyverno ignores an unparsable version (it compares as `0.0.0`) but reports
//! an unparsable range.

use super::{invalid, str_arg, S};
use crate::document::Value;
use crate::jmespath::{Arg, Error, Function, Interp};

pub(super) const FUNCTIONS: &[Function] = &[Function {
    name: "semver_compare",
    params: &[S, S],
    variadic: false,
    returns: "boolean",
    doc: "whether a semantic version satisfies a range (`>=1.2.0 <2.0.0 || 3.x`)",
    call: semver_compare,
}];

fn semver_compare<'a>(_: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let version = Version::parse(str_arg("semver_compare", args, 0)?).unwrap_or_default();
    let range = Range::parse(str_arg("semver_compare", args, 1)?).ok_or_else(|| invalid("semver_compare", "invalid range"))?;
    Ok(Value::Bool(range.matches(&version)))
}

/// A prerelease identifier.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Pre {
    Num(u64),
    Str(String),
}

/// A blang `Version` (build metadata is parsed and ignored in comparisons).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    pre: Vec<Pre>,
}

fn only(s: &str, set: impl Fn(char) -> bool) -> bool {
    s.chars().all(set)
}

fn numeric(s: &str) -> Option<u64> {
    if !only(s, |c| c.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0')) {
        return None;
    }
    s.parse().ok()
}

fn alphanum(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-'
}

impl Version {
    /// blang's `semver.Parse`.
    pub fn parse(s: &str) -> Option<Version> {
        let mut parts = s.splitn(3, '.');
        let (major, minor, rest) = (parts.next()?, parts.next()?, parts.next()?);
        let major = numeric(major)?;
        let minor = numeric(minor)?;
        let mut patch = rest;
        if let Some((p, build)) = patch.split_once('+') {
            if build.split('.').any(|b| b.is_empty() || !only(b, alphanum)) {
                return None;
            }
            patch = p;
        }
        let mut pre = Vec::new();
        if let Some((p, prerelease)) = patch.split_once('-') {
            for id in prerelease.split('.') {
                if id.is_empty() {
                    return None;
                }
                if only(id, |c| c.is_ascii_digit()) {
                    pre.push(Pre::Num(numeric(id)?));
                } else if only(id, alphanum) {
                    pre.push(Pre::Str(id.to_string()));
                } else {
                    return None;
                }
            }
            patch = p;
        }
        Some(Version { major, minor, patch: numeric(patch)?, pre })
    }

    fn compare(&self, o: &Version) -> core::cmp::Ordering {
        use core::cmp::Ordering::*;
        let head = (self.major, self.minor, self.patch).cmp(&(o.major, o.minor, o.patch));
        if head != Equal {
            return head;
        }
        match (self.pre.is_empty(), o.pre.is_empty()) {
            (true, true) => return Equal,
            (true, false) => return Greater,
            (false, true) => return Less,
            _ => {}
        }
        for (a, b) in self.pre.iter().zip(&o.pre) {
            let c = match (a, b) {
                (Pre::Num(x), Pre::Num(y)) => x.cmp(y),
                (Pre::Num(_), Pre::Str(_)) => Less,
                (Pre::Str(_), Pre::Num(_)) => Greater,
                (Pre::Str(x), Pre::Str(y)) => x.cmp(y),
            };
            if c != Equal {
                return c;
            }
        }
        self.pre.len().cmp(&o.pre.len())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

/// Alternatives (`||`) of conjunctions (spaces) of comparisons.
#[derive(Clone, Debug)]
pub struct Range {
    any: Vec<Vec<(Op, Version)>>,
}

impl Range {
    /// blang's `semver.ParseRange`.
    pub fn parse(s: &str) -> Option<Range> {
        let parts = split_and_trim(s);
        // Split on `||`; it may not come first or last.
        let mut or_parts: Vec<Vec<String>> = Vec::new();
        let mut last = 0;
        for (i, p) in parts.iter().enumerate() {
            if p == "||" {
                if i == 0 {
                    return None;
                }
                or_parts.push(parts.get(last..i)?.to_vec());
                last = i + 1;
            }
        }
        if last == parts.len() {
            return None;
        }
        or_parts.push(parts.get(last..)?.to_vec());
        let mut any = Vec::new();
        for p in expand_wildcards(or_parts)? {
            let mut all = Vec::new();
            for ap in p {
                let (op, v) = split_comparator(&ap)?;
                let op = match op {
                    "" | "=" | "==" => Op::Eq,
                    "!" | "!=" => Op::Ne,
                    ">" => Op::Gt,
                    ">=" => Op::Ge,
                    "<" => Op::Lt,
                    "<=" => Op::Le,
                    _ => return None,
                };
                all.push((op, Version::parse(v)?));
            }
            any.push(all);
        }
        Some(Range { any })
    }

    pub fn matches(&self, v: &Version) -> bool {
        use core::cmp::Ordering::*;
        self.any.iter().any(|all| {
            all.iter().all(|(op, c)| {
                let o = v.compare(c);
                match op {
                    Op::Eq => o == Equal,
                    Op::Ne => o != Equal,
                    Op::Gt => o == Greater,
                    Op::Ge => o != Less,
                    Op::Lt => o == Less,
                    Op::Le => o != Greater,
                }
            })
        })
    }
}

/// blang's `splitAndTrim`: split on single spaces not preceded by `>`, `<` or `=`,
/// drop parts shorter than two characters, remove the spaces left inside.
fn split_and_trim(s: &str) -> Vec<String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut last = 0usize;
    let mut last_char = 0u8;
    for (i, &c) in b.iter().enumerate() {
        if c == b' ' && !matches!(last_char, b'>' | b'<' | b'=') {
            if last + 1 < i {
                out.push(s.get(last..i).unwrap_or("").to_string());
            }
            last = i + 1;
        } else if c != b' ' {
            last_char = c;
        }
    }
    if last + 1 < b.len() {
        out.push(s.get(last..).unwrap_or("").to_string());
    }
    out.into_iter().map(|p| p.replace(' ', "")).collect()
}

/// blang's `splitComparatorVersion`: the operator is everything before the first digit.
fn split_comparator(s: &str) -> Option<(&str, &str)> {
    let i = s.find(|c: char| c.is_ascii_digit())?;
    Some((s.get(..i)?.trim(), s.get(i..)?))
}

/// Go's `strconv.Atoi` then `Itoa(i + 1)` on one dot-separated part.
fn increment(v: &str, index: usize) -> Option<String> {
    let mut parts: Vec<String> = v.split('.').map(str::to_string).collect();
    let n: i64 = parts.get(index)?.parse().ok()?;
    *parts.get_mut(index)? = n.wrapping_add(1).to_string();
    Some(parts.join("."))
}

/// blang's `expandWildcardVersion`: `x` parts become comparisons on `0` versions.
fn expand_wildcards(parts: Vec<Vec<String>>) -> Option<Vec<Vec<String>>> {
    let mut expanded = Vec::new();
    for p in parts {
        let mut new_parts = Vec::new();
        for ap in p {
            if !ap.contains('x') {
                new_parts.push(ap);
                continue;
            }
            let (op, v) = split_comparator(&ap)?;
            let segments: Vec<&str> = v.split('.').collect();
            // The type is decided by how many parts there are, if the last is `x`.
            let kind = if segments.last() == Some(&"x") { segments.len() } else { 0 };
            let flat = {
                let f = v.replacen(".x.x", ".x", 1).replacen(".x", ".0", 1);
                if f.split('.').count() == 2 {
                    f + ".0"
                } else {
                    f
                }
            };
            let (result_op, bump) = match op {
                ">" => (">=", true),
                ">=" => (">=", false),
                "<" => ("<", false),
                "<=" => ("<", true),
                "" | "=" | "==" => {
                    new_parts.push(format!(">={flat}"));
                    ("<", true)
                }
                "!=" | "!" => {
                    new_parts.push(format!("<{flat}"));
                    (">=", true)
                }
                _ => ("", false),
            };
            let version = if bump {
                match kind {
                    3 => increment(&flat, 1).unwrap_or_default(),
                    2 => increment(&flat, 0).unwrap_or_default(),
                    _ => String::new(),
                }
            } else {
                flat
            };
            new_parts.push(format!("{result_op}{version}"));
        }
        expanded.push(new_parts);
    }
    Some(expanded)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{q, run};

    fn check(v: &str, r: &str) -> String {
        run("semver_compare", &[&q(v), &q(r)])
    }

    #[test]
    fn kyverno_semver_examples() {
        // Test_SemverCompare.
        assert_eq!(check("4.1.3", ">=4.1.x"), "true");
        assert_eq!(check("4.1.3", "!4.x.x"), "false");
        assert_eq!(check("1.8.6", ">1.0.0 <2.0.0"), "true");
        assert_eq!(check("2.1.5", "<2.0.0 || >=3.0.0"), "false");
    }

    #[test]
    fn blang_range_semantics() {
        assert_eq!(check("1.2.3", "1.2.3"), "true", "a bare version is exact, not caret");
        assert_eq!(check("1.2.4", "1.2.3"), "false");
        assert_eq!(check("1.2.4", "=1.2.3"), "false");
        assert_eq!(check("1.2.4", "!=1.2.3"), "true");
        assert_eq!(check("1.2.4", ">= 1.2.3"), "true", "a space after an operator is allowed");
        assert_eq!(check("1.2.9", "1.2.x"), "true");
        assert_eq!(check("1.3.0", "1.2.x"), "false");
        assert_eq!(check("1.9.0", "1.x"), "true");
        assert_eq!(check("2.0.0", "1.x"), "false");
        assert_eq!(check("2.0.0", ">1.x"), "true");
        assert_eq!(check("1.9.9", ">1.x"), "false");
        assert_eq!(check("1.3.0", "<=1.2.x"), "false");
        // blang expands `!4.x.x` to `<4.0.0 >=4.1.0` (both must hold): nothing matches.
        assert_eq!(check("4.0.5", "!4.x.x"), "false");
        assert_eq!(check("3.0.0", "!4.x.x"), "false");
        assert_eq!(check("5.0.0", "!4.x.x"), "false");
        assert_eq!(check("3.0.0", "!4.x"), "false");
        assert_eq!(check("1.0.0-alpha", "<1.0.0"), "true");
        assert_eq!(check("1.0.0-alpha.1", ">1.0.0-alpha"), "true");
        assert_eq!(check("1.0.0-alpha.beta", ">1.0.0-alpha.1"), "true");
        assert_eq!(check("1.0.0+build", "1.0.0"), "true");
        assert_eq!(check("not-a-version", "<1.0.0"), "true", "Kyverno compares an invalid version as 0.0.0");
        assert_eq!(check("1.0.0", "0.0.0 || 1.0.0"), "true");
    }

    #[test]
    fn invalid_ranges() {
        for r in ["", "|| 1.0.0", "1.0.0 ||", "~1.0.0", "^1.0.0", ">=1.0", "abc", "1.0.0-xyz", "1", ">=01.0.0"] {
            assert_eq!(check("1.0.0", r), "error: invalid-value", "{r:?}");
        }
    }
}
