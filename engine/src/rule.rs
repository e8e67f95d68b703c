//! Rule parts beyond patterns, compiled: condition sets (`preconditions`,
//! `validate.deny`), context entries (`context`) and `foreach` declarations.
//!
//! They live in the [`Program`](crate::program::Program)'s tables and are referenced by
//! id from instructions; the VM evaluates them natively against the JSON context
//! ([`crate::context`]) with the semantics of Kyverno's engine, written down on each
//! `evaluate` below.

use bumpalo::collections::String as BumpString;

use crate::conditions::{self, Operator};
use crate::document::Value;
use crate::ids::Addr;
use crate::jmespath::{Env, Error, ErrorKind, Expression};
use crate::template::{OnError, Template, ValueTemplate};

/// `any` / `all` conditions, or the legacy list (every condition must hold).
#[derive(Debug)]
pub struct ConditionSet {
    /// `any`: at least one must hold (`None` when absent; an empty list never holds).
    pub any: Option<Vec<Condition>>,
    /// `all`, or the legacy list form.
    pub all: Vec<Condition>,
}

/// One `{key, operator, value}`. Key and value are substituted just before the
/// condition is evaluated, in order, so a later condition's variables are not touched
/// when an earlier one decides its block.
#[derive(Debug)]
pub struct Condition {
    pub key: ValueTemplate,
    pub operator: Operator,
    pub value: ValueTemplate,
    pub message: Option<Template>,
}

/// What a condition set decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConditionsOutcome<'a> {
    pub holds: bool,
    /// The messages of the conditions that decided, joined with `; ` (empty when none
    /// has a message).
    pub message: &'a str,
}

impl Condition {
    /// Kyverno substitutes conditions with its preconditions resolver: a variable that
    /// fails to resolve reads as `""`, so a condition never errors on its variables.
    pub fn evaluate<'a>(&self, root: Value<'a>, env: &mut Env<'a>) -> Result<bool, Error> {
        let key = self.key.evaluate(root, env, OnError::EmptyString)?;
        let value = self.value.evaluate(root, env, OnError::EmptyString)?;
        Ok(conditions::evaluate(self.operator, &key, &value))
    }
}

impl ConditionSet {
    /// Kyverno's `evaluateAnyAllConditions`: `any` stops at its first condition that
    /// holds, then `all` stops at its first that does not. The set holds when both
    /// blocks hold. The message is that of the conditions that held (when the set holds)
    /// or of those that did not.
    pub fn evaluate<'a>(&self, root: Value<'a>, env: &mut Env<'a>) -> Result<ConditionsOutcome<'a>, Error> {
        let mut held: BumpString<'a> = BumpString::new_in(env.arena);
        let mut failed: BumpString<'a> = BumpString::new_in(env.arena);
        let note = |out: &mut BumpString<'a>, c: &Condition, env: &mut Env<'a>| -> Result<(), Error> {
            if let Some(m) = &c.message {
                let text = m.evaluate_string(root, env)?;
                if !text.is_empty() {
                    if !out.is_empty() {
                        out.push_str("; ");
                    }
                    out.push_str(text);
                }
            }
            Ok(())
        };
        let mut any_holds = true;
        if let Some(any) = &self.any {
            any_holds = false;
            for c in any {
                if c.evaluate(root, env)? {
                    any_holds = true;
                    note(&mut held, c, env)?;
                    break;
                }
                note(&mut failed, c, env)?;
            }
        }
        let mut all_hold = true;
        for c in &self.all {
            if !c.evaluate(root, env)? {
                all_hold = false;
                note(&mut failed, c, env)?;
                break;
            }
            note(&mut held, c, env)?;
        }
        let holds = any_holds && all_hold;
        let message = if holds { held } else { failed };
        Ok(ConditionsOutcome { holds, message: message.into_bump_str() })
    }
}

/// A `context` entry.
#[derive(Debug)]
pub struct ContextEntry {
    pub name: Box<str>,
    pub source: ContextSource,
}

#[derive(Debug)]
pub enum ContextSource {
    /// `variable`: a value (templated), a JMESPath applied to it or to the context, and a
    /// default.
    Variable(Box<Variable>),
    /// `configMap`, `apiCall`, `imageRegistry`, `globalReference`: kyvm does not call the
    /// cluster; the value must come with the request (the CLI's values file), and when
    /// it does not the entry is simply absent, as in Kyverno's CLI.
    Supplied { kind: &'static str },
}

/// A `variable` context entry.
#[derive(Debug)]
pub struct Variable {
    pub value: Option<ValueTemplate>,
    pub jmes_path: Option<Query>,
    pub default: Option<ValueTemplate>,
}

impl ContextEntry {
    /// Kyverno's variable loader. Returns `None` for entries whose value is supplied
    /// from outside.
    ///
    /// - `jmesPath` and `default` are substituted first;
    /// - with a `value`: the substituted value, with `jmesPath` applied to it when given
    ///   (an error falls back to the default, or fails without one);
    /// - without: `jmesPath` queried against the context (an error or `null` falls back
    ///   to the default);
    /// - a `null` result is an error.
    pub fn load<'a>(&self, root: Value<'a>, env: &mut Env<'a>) -> Result<Option<Value<'a>>, Error> {
        let ContextSource::Variable(var) = &self.source else {
            return Ok(None);
        };
        let Variable { value, jmes_path, default } = &**var;
        let name = &*self.name;
        let path = match jmes_path {
            None => None,
            Some(Query::Static(e)) => Some(Path::Parsed(e)),
            Some(Query::Templated(t)) => {
                let text = t.evaluate_string(root, env).map_err(|e| context_error(name, "failed to substitute variables", &e))?;
                Some(Path::Text(text.trim())).filter(|p| !matches!(p, Path::Text("")))
            }
        };
        let default = match default {
            None => None,
            Some(d) => Some(d.evaluate(root, env, OnError::Fail).map_err(|e| context_error(name, "failed to substitute variables", &e))?),
        };
        let mut output = default;
        match (value, path) {
            (Some(v), path) => {
                let v = v.evaluate(root, env, OnError::Fail).map_err(|e| context_error(name, "failed to substitute variables", &e))?;
                match path {
                    None => output = Some(v),
                    Some(p) => match p.evaluate(v, env) {
                        Ok(result) => output = Some(result),
                        Err(e) if e.kind == ErrorKind::Limit => return Err(e),
                        Err(e) if output.is_none() => return Err(context_error(name, "failed to apply jmespath", &e)),
                        Err(_) => {}
                    },
                }
            }
            (None, Some(p)) => match p.evaluate(root, env) {
                Ok(Value::Null) => {}
                Ok(result) => output = Some(result),
                Err(e) if e.kind == ErrorKind::Limit => return Err(e),
                Err(e) if output.is_none() => return Err(context_error(name, "failed to apply jmespath", &e)),
                Err(_) => {}
            },
            (None, None) => {}
        }
        match output {
            None | Some(Value::Null) => Err(Error::new(
                ErrorKind::InvalidValue,
                format!("failed to add context entry for variable {name} since it evaluated to nil"),
            )),
            Some(v) => Ok(Some(v)),
        }
    }
}

/// A JMESPath that Kyverno substitutes before it parses it (`variable.jmesPath`).
#[derive(Debug)]
pub enum Query {
    /// No variables: parsed once.
    Static(Expression),
    /// Its text holds variables: substituted and parsed at run time (cached).
    Templated(Template),
}

impl Query {
    /// Evaluates the query against the context `root`. A templated query is substituted
    /// first; when it is one variable whose value is not a string, that value is the
    /// result (`list: "{{ request.object.spec.containers }}"`), else the text is parsed
    /// and evaluated.
    pub fn evaluate<'a>(&self, root: Value<'a>, env: &mut Env<'a>) -> Result<Value<'a>, Error> {
        match self {
            Query::Static(e) => e.evaluate(root, env),
            Query::Templated(t) => match t.evaluate(root, env)? {
                Value::Str(text) => crate::template::cached_parse(text.trim())?.evaluate(root, env),
                value => Ok(value),
            },
        }
    }

    /// The query as written.
    pub fn source(&self) -> &str {
        match self {
            Query::Static(e) => e.source(),
            Query::Templated(t) => &t.source,
        }
    }
}

/// A `jmesPath` ready to run.
enum Path<'e, 'a> {
    Parsed(&'e Expression),
    Text(&'a str),
}

impl<'a> Path<'_, 'a> {
    fn evaluate(&self, input: Value<'a>, env: &mut Env<'a>) -> Result<Value<'a>, Error> {
        match self {
            Path::Parsed(e) => e.evaluate(input, env),
            Path::Text(text) => crate::template::cached_parse(text)?.evaluate(input, env),
        }
    }
}

fn context_error(name: &str, what: &str, cause: &Error) -> Error {
    Error::new(cause.kind, format!("{what} in context entry {name}: {cause}"))
}

/// One `foreach` declaration.
#[derive(Debug)]
pub struct ForEach {
    /// `list`: a JMESPath query over the context; a result that is not a list is one
    /// element.
    pub list: Query,
    /// `elementScope`: check patterns against the element (default: when it is a map).
    pub element_scope: Option<bool>,
    /// Nesting depth, for `element0`, `elementIndex0`, ...
    pub nesting: u32,
    /// The per-element code (context, preconditions, then deny, pattern, anyPattern or a
    /// nested foreach); it ends with an outcome.
    pub body: Addr,
}
