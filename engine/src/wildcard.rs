//! Kyverno's wildcards: `*` matches any run of characters (also empty), `?` exactly one
//! character, everything else itself. No escapes, no classes, and a pattern can never be
//! malformed. Used by value patterns, names, namespaces, kinds, annotations and subjects.
//!
//! [`matches`] is the general matcher (linear backtracking on the last star, no
//! allocation, O(pattern × name) worst case). [`Glob`] is the compiled form: the compiler
//! classifies each pattern once, so the common shapes (`exact`, `prefix*`, `*suffix`,
//! `*infix*`, `*`) cost one comparison at evaluation time.

/// True when `s` contains a wildcard character.
#[inline]
pub fn contains_wildcard(s: &str) -> bool {
    s.bytes().any(|b| b == b'*' || b == b'?')
}

/// Reports whether `name` matches the wildcard `pattern`, character by character.
pub fn matches(pattern: &str, name: &str) -> bool {
    let p: &[u8] = pattern.as_bytes();
    let mut px = 0usize; // next byte of the pattern to match
    let mut nx = 0usize; // next byte of the name to match
                         // Where to resume after the last star: pattern offset after it, name offset it covers up to.
    let mut star: Option<(usize, usize)> = None;
    while nx < name.len() {
        if px < p.len() {
            if p.get(px) == Some(&b'*') {
                px += 1;
                if px == p.len() {
                    return true;
                }
                star = Some((px, nx));
                continue;
            }
            let pc = next_char(pattern, px);
            let nc = next_char(name, nx);
            if let (Some((pch, pw)), Some((nch, nw))) = (pc, nc) {
                if pch == '?' || pch == nch {
                    px += pw;
                    nx += nw;
                    continue;
                }
            }
        }
        match star {
            None => return false,
            Some((spx, snx)) => {
                let w = next_char(name, snx).map_or(1, |(_, w)| w);
                star = Some((spx, snx + w));
                px = spx;
                nx = snx + w;
            }
        }
    }
    pattern.get(px..).is_some_and(|rest| rest.bytes().all(|b| b == b'*'))
}

#[inline]
fn next_char(s: &str, at: usize) -> Option<(char, usize)> {
    s.get(at..).and_then(|rest| rest.chars().next()).map(|c| (c, c.len_utf8()))
}

/// A wildcard pattern compiled to its cheapest matching strategy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Glob {
    /// No wildcard: plain equality.
    Exact(Box<str>),
    /// `*`, or any run of stars: matches everything.
    Any,
    /// `abc*`
    Prefix(Box<str>),
    /// `*abc`
    Suffix(Box<str>),
    /// `*abc*`
    Contains(Box<str>),
    /// `abc*xyz`
    PrefixSuffix(Box<str>, Box<str>),
    /// Anything else, including every pattern with `?`.
    General(Box<str>),
}

impl Glob {
    pub fn new(pattern: &str) -> Glob {
        if !contains_wildcard(pattern) {
            return Glob::Exact(pattern.into());
        }
        if pattern.contains('?') {
            return Glob::General(pattern.into());
        }
        if pattern.bytes().all(|b| b == b'*') {
            return Glob::Any;
        }
        let stars = pattern.bytes().filter(|&b| b == b'*').count();
        let starts = pattern.starts_with('*');
        let ends = pattern.ends_with('*');
        let inner = pattern.trim_matches('*');
        if inner.contains('*') {
            // A star inside the literal part: only `abc*xyz` has a cheap form.
            if stars == 1 {
                if let Some((a, b)) = pattern.split_once('*') {
                    return Glob::PrefixSuffix(a.into(), b.into());
                }
            }
            return Glob::General(pattern.into());
        }
        match (starts, ends) {
            (false, true) => Glob::Prefix(inner.into()),
            (true, false) => Glob::Suffix(inner.into()),
            (true, true) => Glob::Contains(inner.into()),
            (false, false) => Glob::General(pattern.into()),
        }
    }

    #[inline]
    pub fn is_match(&self, name: &str) -> bool {
        match self {
            Glob::Exact(s) => **s == *name,
            Glob::Any => true,
            Glob::Prefix(p) => name.starts_with(&**p),
            Glob::Suffix(s) => name.ends_with(&**s),
            Glob::Contains(s) => name.contains(&**s),
            Glob::PrefixSuffix(p, s) => name.len() >= p.len() + s.len() && name.starts_with(&**p) && name.ends_with(&**s),
            Glob::General(p) => matches(p, name),
        }
    }

    /// The strategy's name, for `--emit asm`.
    pub fn strategy(&self) -> &'static str {
        match self {
            Glob::Exact(_) => "exact",
            Glob::Any => "any",
            Glob::Prefix(_) => "prefix",
            Glob::Suffix(_) => "suffix",
            Glob::Contains(_) => "contains",
            Glob::PrefixSuffix(..) => "prefix-suffix",
            Glob::General(_) => "glob",
        }
    }
}

impl core::fmt::Display for Glob {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Glob::Exact(s) => write!(f, "{s:?}"),
            Glob::Any => f.write_str("\"*\""),
            Glob::Prefix(p) => write!(f, "\"{p}*\""),
            Glob::Suffix(s) => write!(f, "\"*{s}\""),
            Glob::Contains(s) => write!(f, "\"*{s}*\""),
            Glob::PrefixSuffix(p, s) => write!(f, "\"{p}*{s}\""),
            Glob::General(p) => write!(f, "{p:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn matches_like_kyverno() {
        let cases = [
            ("*", "", true),
            ("*", "abc", true),
            ("?", "", false),
            ("?", "é", true),
            ("a*c", "abbbc", true),
            ("a*c", "abbb", false),
            ("*:latest", "nginx:latest", true),
            ("*:latest", "nginx:1.2", false),
            ("k8s.gcr.io/*", "k8s.gcr.io/pause:3.9", true),
            ("?*", "", false),
            ("?*", "x", true),
            ("a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac", false),
            ("", "", true),
            ("", "a", false),
            ("a**", "a", true),
        ];
        for (p, n, want) in cases {
            assert_eq!(matches(p, n), want, "matches({p:?}, {n:?})");
            assert_eq!(Glob::new(p).is_match(n), want, "Glob::new({p:?}).is_match({n:?})");
        }
    }

    #[test]
    fn classifies_cheap_shapes() {
        assert_eq!(Glob::new("abc").strategy(), "exact");
        assert_eq!(Glob::new("abc*").strategy(), "prefix");
        assert_eq!(Glob::new("*abc").strategy(), "suffix");
        assert_eq!(Glob::new("*abc*").strategy(), "contains");
        assert_eq!(Glob::new("a*c").strategy(), "prefix-suffix");
        assert_eq!(Glob::new("**").strategy(), "any");
        assert_eq!(Glob::new("a?c").strategy(), "glob");
        assert_eq!(Glob::new("*a*c*").strategy(), "glob");
    }

    /// Naive exponential reference: the definition of the language, directly.
    fn reference(p: &[char], n: &[char]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (None, Some(_)) => false,
            (Some('*'), _) => reference(&p[1..], n) || (!n.is_empty() && reference(p, &n[1..])),
            (Some(_), None) => false,
            (Some(&pc), Some(&nc)) => (pc == '?' || pc == nc) && reference(&p[1..], &n[1..]),
        }
    }

    proptest! {
        #[test]
        fn glob_agrees_with_reference(p in "[ab*?é]{0,7}", n in "[abé]{0,8}") {
            let pc: Vec<char> = p.chars().collect();
            let nc: Vec<char> = n.chars().collect();
            let want = reference(&pc, &nc);
            prop_assert_eq!(matches(&p, &n), want);
            prop_assert_eq!(Glob::new(&p).is_match(&n), want);
        }
    }
}
