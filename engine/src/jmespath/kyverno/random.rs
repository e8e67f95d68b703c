//! `random(pattern)`: a random string matching a Go regular expression, as Kyverno's
//! regex-driven generator (goregen) makes one.
//!
//! The pattern is read with Go's syntax (see [`super::regex::translate`]) and walked:
//! a class yields a uniformly chosen member, an alternation a random branch, a
//! repetition a random count between its bounds — unbounded ones (`*`, `+`, `{n,}`) at
//! most [`MAX_UNBOUNDED_EXTRA`] past their minimum — and anchors nothing. The output is
//! capped at [`MAX_RANDOM_BYTES`].

use rand::Rng;
use regex_syntax::hir::{Class, Hir, HirKind};

use super::{invalid, str_arg, Out, S};
use crate::document::Value;
use crate::jmespath::{Arg, Error, Function, Interp};

pub(super) const FUNCTIONS: &[Function] = &[Function {
    name: "random",
    params: &[S],
    variadic: false,
    returns: "string",
    doc: "a random string matching a Go regular expression (`[a-z0-9]{6}`)",
    call: random,
}];

/// How far past its minimum an unbounded repetition may go.
pub const MAX_UNBOUNDED_EXTRA: u32 = 10;
/// Longest string `random` produces.
pub const MAX_RANDOM_BYTES: usize = 1 << 20;

fn random<'a>(interp: &mut dyn Interp<'a>, args: &[Arg<'a>]) -> Result<Value<'a>, Error> {
    let pattern = str_arg("random", args, 0)?;
    if pattern.is_empty() {
        return Err(invalid("random", "no pattern provided"));
    }
    let translated = super::regex::translate(pattern).map_err(|e| invalid("random", e))?;
    let hir = regex_syntax::ParserBuilder::new().build().parse(&translated).map_err(|_| invalid("random", "invalid regular expression"))?;
    let mut text = String::new();
    generate(&hir, &mut rand::rng(), &mut text)?;
    let mut out = Out::new(interp.arena(), "random");
    out.push_str(&text)?;
    Ok(out.finish())
}

fn generate(hir: &Hir, rng: &mut impl Rng, out: &mut String) -> Result<(), Error> {
    if out.len() > MAX_RANDOM_BYTES {
        return Err(super::too_large("random"));
    }
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => {}
        HirKind::Literal(lit) => out.push_str(&String::from_utf8_lossy(&lit.0)),
        HirKind::Class(Class::Unicode(class)) => {
            let total: u64 = class.ranges().iter().map(|r| u64::from(r.end() as u32 - r.start() as u32) + 1).sum();
            if total == 0 {
                return Err(invalid("random", "pattern matches nothing"));
            }
            let mut pick = rng.random_range(0..total);
            for r in class.ranges() {
                let size = u64::from(r.end() as u32 - r.start() as u32) + 1;
                if pick < size {
                    let c = char::from_u32(r.start() as u32 + pick as u32).unwrap_or(r.start());
                    out.push(c);
                    break;
                }
                pick -= size;
            }
        }
        HirKind::Class(Class::Bytes(class)) => {
            let ascii: Vec<u8> = class.iter().flat_map(|r| r.start()..=r.end()).filter(u8::is_ascii).collect();
            let i = rng.random_range(0..ascii.len().max(1));
            match ascii.get(i) {
                Some(&b) => out.push(char::from(b)),
                None => return Err(invalid("random", "pattern matches nothing")),
            }
        }
        HirKind::Repetition(rep) => {
            let max = rep.max.unwrap_or(rep.min.saturating_add(MAX_UNBOUNDED_EXTRA));
            let count = rng.random_range(rep.min..=max.max(rep.min));
            for _ in 0..count {
                generate(&rep.sub, rng, out)?;
            }
        }
        HirKind::Capture(cap) => generate(&cap.sub, rng, out)?,
        HirKind::Concat(items) => {
            for item in items {
                generate(item, rng, out)?;
            }
        }
        HirKind::Alternation(branches) => {
            let i = rng.random_range(0..branches.len().max(1));
            if let Some(b) = branches.get(i) {
                generate(b, rng, out)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use bumpalo::Bump;

    use super::super::testing::{call, q, run};
    use crate::document::Value;

    fn sample(pattern: &str) -> String {
        let arena = Bump::new();
        match call(&arena, "random", &[Value::Str(arena.alloc_str(pattern))]) {
            Ok(Value::Str(s)) => s.to_string(),
            other => panic!("random({pattern:?}) gave {other:?}"),
        }
    }

    #[test]
    fn output_matches_the_pattern() {
        for pattern in
            [r"[0-9]{1,6}", r"[a-z]{8}", r"\d\w\s", r"(foo|bar)-[A-F0-9]{4}", r"x*y+z?", r"^ab$", r"\Q.*\E", "[^a-z]{3}", r"(?i)abc"]
        {
            let re = crate::jmespath::kyverno::regex::compile(&format!("^(?:{pattern})$")).unwrap();
            for _ in 0..20 {
                let s = sample(pattern);
                assert!(re.is_match(&s), "random({pattern:?}) = {s:?}");
            }
        }
    }

    #[test]
    fn errors_and_bounds() {
        assert_eq!(run("random", &[&q("")]), "error: invalid-value");
        assert_eq!(run("random", &[&q("(")]), "error: invalid-value");
        assert_eq!(run("random", &[&q("a**")]), "error: invalid-value");
        assert!(sample("a*").len() <= super::MAX_UNBOUNDED_EXTRA as usize);
        assert!(run("random", &[&q("((a{1000}){1}x{1000}){1}")]).len() > 2000);
    }
}
