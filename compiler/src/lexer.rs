//! The pattern-string lexer: `"k8s.gcr.io/* | >=1Gi & <4Gi"` → [`StringPattern`].
//!
//! Kyverno reads a pattern string by splitting it on every `|` (alternatives), then on
//! every `&` (conjunctions), trimming spaces, and reading each term's operator prefix
//! (`>=`, `<=`, `>`, `<`, `!`) or range form (`a-b`, `a!-b`). A `logos` lexer does the
//! split in one pass; the engine's `classify_term` reads each term (the engine also reads
//! pattern strings known only at run time, so the term grammar lives there once). Each
//! operand is pre-parsed as a duration, a quantity and a glob, so nothing is parsed again
//! at evaluation time.

use kyvm_engine::matcher::{classify_term, StringPattern, Term, ValuePattern};
use logos::Logos;

#[derive(Logos, Debug, PartialEq, Clone, Copy)]
enum Token<'s> {
    #[token("|")]
    Or,
    #[token("&")]
    And,
    #[regex(r"[^|&]+")]
    Text(&'s str),
}

/// Lexes and parses a pattern string.
pub fn string_pattern(raw: &str) -> StringPattern {
    let mut alternatives: Vec<Vec<Term>> = Vec::new();
    let mut terms: Vec<Term> = Vec::new();
    let mut text = "";
    // `a||b` and a trailing `|` give empty terms, as Go's strings.Split does.
    for tok in Token::lexer(raw) {
        match tok {
            Ok(Token::Text(t)) => text = t,
            Ok(Token::And) => {
                terms.push(term(text));
                text = "";
            }
            Ok(Token::Or) => {
                terms.push(term(text));
                alternatives.push(core::mem::take(&mut terms));
                text = "";
            }
            // The lexer's rules cover every input; keep the text as a term regardless.
            Err(()) => {}
        }
    }
    terms.push(term(text));
    alternatives.push(terms);
    StringPattern { raw: raw.into(), alternatives }
}

/// A whole scalar pattern from a string.
pub fn value_pattern(raw: &str) -> ValuePattern {
    ValuePattern::Str(string_pattern(raw))
}

/// One term, read by the engine's [`classify_term`] (Kyverno's operator and range rules).
fn term(text: &str) -> Term {
    Term::from_text(classify_term(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kyvm_engine::Value;

    fn m(pattern: &str, value: Value<'_>) -> bool {
        value_pattern(pattern).matches(&value)
    }

    #[test]
    fn alternatives_and_conjunctions() {
        assert!(m("k8s.gcr.io/* | gallery.ecr.aws/*", Value::Str("gallery.ecr.aws/nginx/nginx:latest")));
        assert!(!m("k8s.gcr.io/* | gallery.ecr.aws/*", Value::Str("docker.io/redis:7")));
        assert!(m(">=1000 & <65536", Value::Int(8080)));
        assert!(!m(">=1000 & <65536", Value::Int(80)));
        assert!(m("baseline | restricted", Value::Str("restricted")));
        assert!(!m("baseline | restricted", Value::Str("privileged")));
    }

    #[test]
    fn presence_patterns() {
        assert!(m("?*", Value::Str("x")));
        assert!(!m("?*", Value::Str("")));
        assert!(!m("?*", Value::Null));
        assert!(m("*", Value::Str("")));
        assert!(!m("*", Value::Null));
    }

    #[test]
    fn negation_and_ranges() {
        assert!(m("!*:latest", Value::Str("nginx:1.2")));
        assert!(!m("!*:latest", Value::Str("nginx:latest")));
        assert!(m("1-1024", Value::Int(80)));
        assert!(!m("1-1024", Value::Int(8080)));
        assert!(m("1!-1024", Value::Int(8080)));
        assert!(m("!1-5", Value::Str("x")));
    }

    #[test]
    fn runtime_reading_agrees_with_compiled() {
        use kyvm_engine::matcher::matches_text;
        for (p, v) in [
            ("x* | y", Value::Str("xa")),
            (">=1 & <3", Value::Int(2)),
            ("1-3", Value::Int(5)),
            ("!a*", Value::Str("b")),
            ("?*", Value::Null),
        ] {
            assert_eq!(m(p, v), matches_text(&v, p), "{p}");
        }
    }

    #[test]
    fn classifies_terms() {
        let p = string_pattern(" >=10Mi & 5-10 | !foo* ");
        assert_eq!(p.alternatives.len(), 2);
        use kyvm_engine::matcher::Op;
        assert!(matches!(p.alternatives[0][0], Term::Compare { op: Op::GreaterEqual, .. }));
        assert!(matches!(p.alternatives[0][1], Term::InRange { .. }));
        assert!(matches!(p.alternatives[1][0], Term::Compare { op: Op::NotEqual, .. }));
        // A lone operator character is an equality with itself.
        assert!(matches!(string_pattern(">").alternatives[0][0], Term::Compare { op: Op::Equal, .. }));
        assert!(m("-5", Value::Str("-5")));
    }
}
