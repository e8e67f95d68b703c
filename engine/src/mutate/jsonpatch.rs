//! `patchesJson6902`: RFC 6902 operations written as a YAML string, with variables.
//!
//! The compiler parses the YAML once: each operation becomes an [`OpTemplate`] whose
//! `path`, `from` and `value` are templates. Kyverno substitutes variables into the text
//! before it reads it, so a variable inside a quoted value yields a string; the
//! templates keep that (a whole-variable string leaf is written as text). A patch whose
//! text only parses once substituted (a variable standing for a whole YAML node) is kept
//! as [`JsonPatch::Text`] and read after substitution.
//!
//! Operations run with Kyverno's JSON Patch options ([`ApplyOptions::KYVERNO`]).

use bumpalo::collections::Vec as BumpVec;
use bumpalo::Bump;

use crate::document::{Member, Value};
use crate::jmespath::{Env, Error, ErrorKind};
use crate::patch::{self, ApplyOptions, Op, Pointer};
use crate::template::{splice, Template, ValueTemplate};

/// A compiled `patchesJson6902`.
#[derive(Debug)]
pub enum JsonPatch {
    Ops(Vec<OpTemplate>),
    /// The YAML text, read after substitution.
    Text(Template),
}

/// The six operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpKind {
    Add,
    Remove,
    Replace,
    Move,
    Copy,
    Test,
}

impl OpKind {
    pub fn parse(s: &str) -> Option<OpKind> {
        Some(match s {
            "add" => OpKind::Add,
            "remove" => OpKind::Remove,
            "replace" => OpKind::Replace,
            "move" => OpKind::Move,
            "copy" => OpKind::Copy,
            "test" => OpKind::Test,
            _ => return None,
        })
    }
}

/// One operation, with its variables still to substitute.
#[derive(Debug)]
pub struct OpTemplate {
    pub op: OpKind,
    pub path: Template,
    pub from: Option<Template>,
    pub value: Option<ValueTemplate>,
}

impl JsonPatch {
    /// Substitutes and applies the patch to `resource`.
    pub fn apply<'a>(&self, root: Value<'a>, env: &mut Env<'a>, resource: Value<'a>) -> Result<Value<'a>, Error> {
        let arena = env.arena;
        let mut ops: BumpVec<'a, Op<'a>> = BumpVec::new_in(arena);
        match self {
            JsonPatch::Ops(templates) => {
                for t in templates {
                    let path = t.path.evaluate_string(root, env)?;
                    let from = match &t.from {
                        Some(f) => Some(f.evaluate_string(root, env)?),
                        None => None,
                    };
                    let value = match &t.value {
                        Some(v) => Some(text_value(arena, v, root, env)?),
                        None => None,
                    };
                    ops.push(build(arena, t.op, path, from, value)?);
                }
            }
            JsonPatch::Text(text) => {
                let text = text.evaluate_string(root, env)?;
                let parsed = crate::jmespath::kyverno::encoding::yaml_text_to_value(arena, text)?;
                let Some(items) = parsed.as_array() else {
                    return Err(invalid("a JSON patch must be a list of operations"));
                };
                for item in items {
                    let op = item.get("op").and_then(|v| v.as_str()).and_then(OpKind::parse).ok_or_else(|| invalid("unknown operation"))?;
                    let path = item.get("path").and_then(|v| v.as_str()).ok_or_else(|| invalid("operation without a path"))?;
                    let from = item.get("from").and_then(|v| v.as_str());
                    ops.push(build(arena, op, path, from, item.get("value"))?);
                }
            }
        }
        patch::apply_with(arena, resource, &ops, ApplyOptions::KYVERNO)
            .map_err(|e| Error::new(ErrorKind::InvalidValue, format!("failed to apply JSON patch: {e}")))
    }
}

fn build<'a>(arena: &'a Bump, op: OpKind, path: &'a str, from: Option<&'a str>, value: Option<Value<'a>>) -> Result<Op<'a>, Error> {
    let pointer = |text: &'a str| Pointer::parse(arena, text).map_err(|e| invalid_owned(format!("{e}: {text:?}")));
    let path = pointer(path)?;
    let need_value = || value.ok_or_else(|| invalid("operation without a value"));
    let need_from = || from.ok_or_else(|| invalid("operation without from")).and_then(pointer);
    Ok(match op {
        OpKind::Add => Op::Add { path, value: need_value()? },
        OpKind::Remove => Op::Remove { path },
        OpKind::Replace => Op::Replace { path, value: need_value()? },
        OpKind::Move => Op::Move { from: need_from()?, path },
        OpKind::Copy => Op::Copy { from: need_from()?, path },
        OpKind::Test => Op::Test { path, value: need_value()? },
    })
}

/// A value template substituted as text substitution would have it: string leaves stay
/// strings whatever their variables hold.
fn text_value<'a>(arena: &'a Bump, t: &ValueTemplate, root: Value<'a>, env: &mut Env<'a>) -> Result<Value<'a>, Error> {
    Ok(match t {
        ValueTemplate::Str(s) => Value::Str(s.evaluate_string(root, env)?),
        ValueTemplate::Array(items) => {
            let mut out = BumpVec::with_capacity_in(items.len(), arena);
            for i in items {
                out.push(text_value(arena, i, root, env)?);
            }
            Value::Array(out.into_bump_slice())
        }
        ValueTemplate::Object(members) => {
            let mut out = BumpVec::with_capacity_in(members.len(), arena);
            for (k, v) in members {
                let key = match k.evaluate(root, env)? {
                    Value::Str(s) => s,
                    other => {
                        let mut s = bumpalo::collections::String::new_in(arena);
                        splice(&mut s, &other);
                        s.into_bump_str()
                    }
                };
                out.push(Member { key, value: text_value(arena, v, root, env)? });
            }
            Value::Object(out.into_bump_slice())
        }
        scalar => scalar.evaluate(root, env, crate::template::OnError::Fail)?,
    })
}

fn invalid(message: &str) -> Error {
    Error::new(ErrorKind::InvalidValue, message)
}

fn invalid_owned(message: String) -> Error {
    Error::new(ErrorKind::InvalidValue, message)
}
