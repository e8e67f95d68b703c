//! Kyverno's `{{ }}` variables, compiled.
//!
//! Kyverno substitutes variables by scanning a string for the innermost `{{ ... }}` (not
//! preceded by `\`), evaluating its JMESPath against the JSON context, splicing the
//! result into the string, and scanning again until none is left; a string that is
//! exactly one variable takes the variable's value with its type. kyvm does that work at
//! policy-compile time: a [`Template`] is the string split into literal text and
//! pre-parsed expressions. Only a variable whose expression itself contains a variable
//! (`{{ lookup(x, '{{ element.name }}') }}`) must be parsed when it runs, because its text
//! is not known before; those go through a small per-thread cache.
//!
//! [`ValueTemplate`] extends this to whole YAML values (condition keys and values,
//! context-variable values): a tree whose string leaves are templates.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use bumpalo::collections::{String as BumpString, Vec as BumpVec};
use bumpalo::Bump;

use crate::document::{Member, Value};
use crate::gofmt;
use crate::jmespath::{Env, Error, ErrorKind, Expression, ParseLimits};

/// A string that may contain variables.
#[derive(Debug)]
pub struct Template {
    /// The string as written.
    pub source: Box<str>,
    pub kind: TemplateKind,
}

#[derive(Debug)]
pub enum TemplateKind {
    /// No variables: the text, with `\{{` escapes removed.
    Literal(Box<str>),
    /// Exactly one variable and nothing else: the result keeps its type.
    Whole(Variable),
    /// Text and variables: the result is a string.
    Interpolated(Vec<Part>),
}

#[derive(Debug)]
pub enum Part {
    Text(Box<str>),
    Var(Variable),
}

/// One `{{ ... }}`.
#[derive(Debug)]
pub enum Variable {
    /// The expression, parsed once.
    Expr(Box<Expression>),
    /// An expression whose text contains variables: its text is a template, evaluated
    /// and parsed at run time.
    Nested(Box<Template>),
}

/// Why a template could not be compiled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateError {
    /// The variable's expression text.
    pub expression: String,
    pub error: Error,
}

impl core::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "invalid JMESPath `{}`: {}", self.expression, self.error)
    }
}

/// Does `s` contain a variable Kyverno would substitute?
pub fn has_variables(s: &str) -> bool {
    find_innermost(s, 0).is_some()
}

/// The span of the first innermost `{{ ... }}` at or after `from` that is not escaped,
/// in Kyverno's sense (`(^|[^\\])\{\{(?:\{[^{}]*\}|[^{}])*\}\}`): the body may hold
/// single braces pairs without braces inside, but no `{{`.
fn find_innermost(s: &str, from: usize) -> Option<(usize, usize)> {
    let b = s.as_bytes();
    let mut i = from;
    while i + 1 < b.len() {
        if b.get(i) == Some(&b'{') && b.get(i + 1) == Some(&b'{') && (i == 0 || b.get(i - 1) != Some(&b'\\')) {
            if let Some(end) = match_body(b, i + 2) {
                return Some((i, end));
            }
        }
        i += 1;
    }
    None
}

/// Matches `(?:\{[^{}]*\}|[^{}])*\}\}` from `start`; returns the end (exclusive).
fn match_body(b: &[u8], start: usize) -> Option<usize> {
    let mut j = start;
    loop {
        match b.get(j) {
            None => return None,
            Some(b'}') => {
                if b.get(j + 1) == Some(&b'}') {
                    return Some(j + 2);
                }
                return None;
            }
            Some(b'{') => {
                // `{[^{}]*}`
                let mut k = j + 1;
                loop {
                    match b.get(k) {
                        Some(b'}') => break,
                        Some(b'{') | None => return None,
                        Some(_) => k += 1,
                    }
                }
                j = k + 1;
            }
            Some(_) => j += 1,
        }
    }
}

impl Template {
    /// Compiles a string. Variables are parsed with `limits`.
    pub fn compile(source: &str, limits: &ParseLimits) -> Result<Template, TemplateError> {
        let kind = compile_kind(source, limits)?;
        Ok(Template { source: source.into(), kind })
    }

    pub fn is_literal(&self) -> bool {
        matches!(self.kind, TemplateKind::Literal(_))
    }

    /// Every expression compiled into the template (for dependency analysis).
    pub fn expressions(&self) -> Vec<&Expression> {
        let mut out = Vec::new();
        collect_exprs(self, &mut out);
        out
    }

    /// The text of a template without variables.
    pub fn literal(&self) -> Option<&str> {
        match &self.kind {
            TemplateKind::Literal(text) => Some(text),
            _ => None,
        }
    }

    /// Evaluates the template against `root` (the JSON context); a variable that fails
    /// to resolve fails the whole template.
    pub fn evaluate<'a>(&self, root: Value<'a>, env: &mut Env<'a>) -> Result<Value<'a>, Error> {
        self.evaluate_with(root, env, OnError::Fail)
    }

    /// Evaluates the template, handling a variable that fails to resolve as `on_error`
    /// says.
    pub fn evaluate_with<'a>(&self, root: Value<'a>, env: &mut Env<'a>, on_error: OnError) -> Result<Value<'a>, Error> {
        match &self.kind {
            TemplateKind::Literal(text) => Ok(Value::Str(env.arena.alloc_str(text))),
            TemplateKind::Whole(var) => var.evaluate(root, env, on_error),
            TemplateKind::Interpolated(parts) => {
                let mut out = BumpString::new_in(env.arena);
                for part in parts {
                    match part {
                        Part::Text(t) => out.push_str(t),
                        Part::Var(v) => {
                            let value = v.evaluate(root, env, on_error)?;
                            splice(&mut out, &value);
                        }
                    }
                }
                Ok(Value::Str(out.into_bump_str()))
            }
        }
    }

    /// Evaluates to a string (messages): non-string whole-variable results are written as
    /// Kyverno splices them.
    pub fn evaluate_string<'a>(&self, root: Value<'a>, env: &mut Env<'a>) -> Result<&'a str, Error> {
        if let TemplateKind::Literal(text) = &self.kind {
            return Ok(env.arena.alloc_str(text));
        }
        match self.evaluate(root, env)? {
            Value::Str(s) => Ok(s),
            other => {
                let mut out = BumpString::new_in(env.arena);
                splice(&mut out, &other);
                Ok(out.into_bump_str())
            }
        }
    }
}

/// What a variable that fails to resolve does to its template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnError {
    /// The template fails (patterns, messages, context entries).
    Fail,
    /// The variable becomes `""` (conditions: Kyverno's preconditions resolver).
    EmptyString,
}

fn collect_exprs<'t>(t: &'t Template, out: &mut Vec<&'t Expression>) {
    let var = |v: &'t Variable, out: &mut Vec<&'t Expression>| match v {
        Variable::Expr(e) => out.push(e),
        Variable::Nested(inner) => collect_exprs(inner, out),
    };
    match &t.kind {
        TemplateKind::Literal(_) => {}
        TemplateKind::Whole(v) => var(v, out),
        TemplateKind::Interpolated(parts) => {
            for p in parts {
                if let Part::Var(v) = p {
                    var(v, out);
                }
            }
        }
    }
}

/// Splits `source` into text and variables. A variable's body may itself contain
/// variables (Kyverno substitutes inner ones first); such a body becomes a nested
/// template.
fn compile_kind(source: &str, limits: &ParseLimits) -> Result<TemplateKind, TemplateError> {
    let spans = outer_spans(source);
    if spans.is_empty() {
        return Ok(TemplateKind::Literal(unescape(source).into()));
    }
    let mut parts = Vec::new();
    let mut last = 0;
    for &(start, end) in &spans {
        if start > last {
            parts.push(Part::Text(unescape(source.get(last..start).unwrap_or("")).into()));
        }
        let body = source.get(start + 2..end - 2).unwrap_or("");
        parts.push(Part::Var(compile_variable(body, limits)?));
        last = end;
    }
    if last < source.len() {
        parts.push(Part::Text(unescape(source.get(last..).unwrap_or("")).into()));
    }
    if let [Part::Var(_)] = parts.as_slice() {
        if let Some(Part::Var(v)) = parts.pop() {
            return Ok(TemplateKind::Whole(v));
        }
    }
    Ok(TemplateKind::Interpolated(parts))
}

fn compile_variable(body: &str, limits: &ParseLimits) -> Result<Variable, TemplateError> {
    if has_variables(body) {
        return Ok(Variable::Nested(Box::new(Template { source: body.into(), kind: compile_kind(body, limits)? })));
    }
    Expression::parse(body.trim(), limits)
        .map(|e| Variable::Expr(Box::new(e)))
        .map_err(|error| TemplateError { expression: body.trim().to_string(), error })
}

/// The outermost variable spans, found the way Kyverno's innermost-first rewriting
/// would eventually see them: each `{{` opens a level, `}}` closes one.
fn outer_spans(s: &str) -> Vec<(usize, usize)> {
    let b = s.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i + 1 < b.len() {
        let opens = b.get(i) == Some(&b'{') && b.get(i + 1) == Some(&b'{') && (i == 0 || b.get(i - 1) != Some(&b'\\'));
        if !opens {
            i += 1;
            continue;
        }
        // Find the matching close, counting nested unescaped `{{` and `}}`.
        let mut depth = 0usize;
        let mut j = i;
        let mut end = None;
        while j + 1 < b.len() {
            if b.get(j) == Some(&b'{') && b.get(j + 1) == Some(&b'{') && (j == 0 || b.get(j - 1) != Some(&b'\\')) {
                depth += 1;
                j += 2;
            } else if b.get(j) == Some(&b'}') && b.get(j + 1) == Some(&b'}') {
                depth -= 1;
                j += 2;
                if depth == 0 {
                    end = Some(j);
                    break;
                }
            } else {
                j += 1;
            }
        }
        match end {
            // Only a real variable if Kyverno's innermost scan accepts its innermost part.
            Some(e) if find_innermost(s.get(..e).unwrap_or(""), i).is_some() => {
                spans.push((i, e));
                i = e;
            }
            _ => i += 2,
        }
    }
    spans
}

/// Removes the `\` of escaped variables (`\{{...}}` → `{{...}}`), as Kyverno does last.
fn unescape(text: &str) -> String {
    if !text.contains("\\{{") {
        return text.to_string();
    }
    text.replace("\\{{", "{{")
}

impl Variable {
    fn evaluate<'a>(&self, root: Value<'a>, env: &mut Env<'a>, on_error: OnError) -> Result<Value<'a>, Error> {
        let result = match self {
            Variable::Expr(e) => e.evaluate(root, env),
            Variable::Nested(t) => t.evaluate_with(root, env, on_error).and_then(|text| {
                let text = match text {
                    Value::Str(s) => s,
                    other => {
                        let mut out = BumpString::new_in(env.arena);
                        splice(&mut out, &other);
                        out.into_bump_str()
                    }
                };
                cached_parse(text.trim())?.evaluate(root, env)
            }),
        };
        match (result, on_error) {
            // Running out of budget is never papered over.
            (Err(e), OnError::EmptyString) if e.kind != ErrorKind::Limit => Ok(Value::Str("")),
            (result, _) => result,
        }
    }
}

thread_local! {
    /// Expressions parsed at run time, by text. Bounded: cleared when full.
    static RUNTIME_EXPRESSIONS: RefCell<HashMap<String, Arc<Expression>>> = RefCell::new(HashMap::new());
}

const RUNTIME_CACHE_CAPACITY: usize = 1024;

pub(crate) fn cached_parse(text: &str) -> Result<Arc<Expression>, Error> {
    if let Some(e) = RUNTIME_EXPRESSIONS.with(|c| c.borrow().get(text).cloned()) {
        return Ok(e);
    }
    let expr = Arc::new(Expression::parse(text, &ParseLimits::default())?);
    RUNTIME_EXPRESSIONS.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= RUNTIME_CACHE_CAPACITY {
            c.clear();
        }
        c.insert(text.to_string(), expr.clone());
    });
    Ok(expr)
}

/// Writes a value into a string the way Kyverno splices a non-string variable result:
/// JSON, as Go's `encoding/json` writes it (sorted keys, HTML-safe escapes).
pub fn splice(out: &mut BumpString<'_>, value: &Value<'_>) {
    match value {
        Value::Str(s) => out.push_str(s),
        other => write_go_json(out, other),
    }
}

/// Go's `json.Marshal` of a decoded JSON value.
pub fn write_go_json(out: &mut BumpString<'_>, value: &Value<'_>) {
    use core::fmt::Write;
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => {
            let _ = gofmt::format_json_float(*f, out);
        }
        Value::Str(s) => write_go_json_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_json(out, item);
            }
            out.push(']');
        }
        Value::Object(members) => {
            let mut sorted: Vec<&Member<'_>> = members.iter().collect();
            sorted.sort_by(|a, b| a.key.cmp(b.key));
            out.push('{');
            for (i, m) in sorted.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_json_string(out, m.key);
                out.push(':');
                write_go_json(out, &m.value);
            }
            out.push('}');
        }
    }
}

/// Writes `s` as a JSON string with Go's `encoding/json` escapes (`<`, `>`, `&` as
/// `\u003c`, `\u003e`, `\u0026`; U+2028 and U+2029 escaped), as Kyverno prints values.
pub fn write_go_json_string(out: &mut impl core::fmt::Write, s: &str) {
    let _ = out.write_char('"');
    for c in s.chars() {
        let _ = match c {
            '"' => out.write_str("\\\""),
            '\\' => out.write_str("\\\\"),
            '\n' => out.write_str("\\n"),
            '\r' => out.write_str("\\r"),
            '\t' => out.write_str("\\t"),
            '<' => out.write_str("\\u003c"),
            '>' => out.write_str("\\u003e"),
            '&' => out.write_str("\\u0026"),
            '\u{2028}' => out.write_str("\\u2028"),
            '\u{2029}' => out.write_str("\\u2029"),
            c if (c as u32) < 0x20 => write!(out, "\\u{:04x}", c as u32),
            c => out.write_char(c),
        };
    }
    let _ = out.write_char('"');
}

/// A YAML value whose string leaves (and keys) may be templates: condition keys and
/// values, context-variable values and defaults.
#[derive(Debug)]
pub enum ValueTemplate {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Template),
    Array(Vec<ValueTemplate>),
    Object(Vec<(Template, ValueTemplate)>),
}

impl ValueTemplate {
    /// True when nothing in the value needs the context.
    pub fn is_constant(&self) -> bool {
        match self {
            ValueTemplate::Str(t) => t.is_literal(),
            ValueTemplate::Array(items) => items.iter().all(ValueTemplate::is_constant),
            ValueTemplate::Object(members) => members.iter().all(|(k, v)| k.is_literal() && v.is_constant()),
            _ => true,
        }
    }

    pub fn evaluate<'a>(&self, root: Value<'a>, env: &mut Env<'a>, on_error: OnError) -> Result<Value<'a>, Error> {
        Ok(match self {
            ValueTemplate::Null => Value::Null,
            ValueTemplate::Bool(b) => Value::Bool(*b),
            ValueTemplate::Int(i) => Value::Int(*i),
            ValueTemplate::Float(f) => Value::Float(*f),
            ValueTemplate::Str(t) => t.evaluate_with(root, env, on_error)?,
            ValueTemplate::Array(items) => {
                let mut out = BumpVec::with_capacity_in(items.len(), env.arena);
                for item in items {
                    out.push(item.evaluate(root, env, on_error)?);
                }
                Value::Array(out.into_bump_slice())
            }
            ValueTemplate::Object(members) => {
                let mut out = BumpVec::with_capacity_in(members.len(), env.arena);
                for (k, v) in members {
                    let key = match k.evaluate_with(root, env, on_error)? {
                        Value::Str(s) => s,
                        other => {
                            let mut s = BumpString::new_in(env.arena);
                            splice(&mut s, &other);
                            s.into_bump_str()
                        }
                    };
                    out.push(Member { key, value: v.evaluate(root, env, on_error)? });
                }
                Value::Object(out.into_bump_slice())
            }
        })
    }

    /// Every expression in the value.
    pub fn expressions(&self) -> Vec<&Expression> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect<'t>(&'t self, out: &mut Vec<&'t Expression>) {
        match self {
            ValueTemplate::Str(t) => collect_exprs(t, out),
            ValueTemplate::Array(items) => items.iter().for_each(|i| i.collect(out)),
            ValueTemplate::Object(members) => {
                for (k, v) in members {
                    collect_exprs(k, out);
                    v.collect(out);
                }
            }
            _ => {}
        }
    }
}

/// The error a failed substitution reports, in Kyverno's words.
pub fn substitution_error(variable: &str, path: &str, cause: &Error) -> Error {
    Error::new(ErrorKind::InvalidValue, format!("failed to resolve {variable} at path {path}: {}", cause.message))
}

/// Copies `value` into `arena` (results built from program constants must live there).
pub fn alloc_value<'a>(arena: &'a Bump, value: Value<'_>) -> Value<'a> {
    match value {
        Value::Null => Value::Null,
        Value::Bool(b) => Value::Bool(b),
        Value::Int(i) => Value::Int(i),
        Value::Float(f) => Value::Float(f),
        Value::Str(s) => Value::Str(arena.alloc_str(s)),
        Value::Array(items) => {
            let mut out = BumpVec::with_capacity_in(items.len(), arena);
            out.extend(items.iter().map(|i| alloc_value(arena, *i)));
            Value::Array(out.into_bump_slice())
        }
        Value::Object(members) => {
            let mut out = BumpVec::with_capacity_in(members.len(), arena);
            out.extend(members.iter().map(|m| Member { key: arena.alloc_str(m.key), value: alloc_value(arena, m.value) }));
            Value::Object(out.into_bump_slice())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_kyverno_variables() {
        assert!(has_variables("{{ request.object.metadata.name }}"));
        assert!(has_variables("x-{{a}}-y"));
        assert!(!has_variables("\\{{a}}"));
        assert!(!has_variables("{ {a} }"));
        assert!(has_variables("{{ {a: b} }}"));
        assert!(!has_variables("{{ {{a}"));
    }

    #[test]
    fn outer_spans_cover_nesting() {
        let s = "a {{ f('{{x}}') }} b {{y}}";
        assert_eq!(outer_spans(s), vec![(2, 18), (21, 26)]);
        assert_eq!(outer_spans("\\{{x}}"), vec![]);
    }

    #[test]
    fn splices_like_go_json() {
        let arena = Bump::new();
        let members = [Member { key: "b", value: Value::Int(1) }, Member { key: "a", value: Value::Str("<&>") }];
        let mut out = BumpString::new_in(&arena);
        splice(&mut out, &Value::Object(&members));
        assert_eq!(out.as_str(), r#"{"a":"\u003c\u0026\u003e","b":1}"#);
    }
}
