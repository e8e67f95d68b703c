//! `generate` rules: the resource a rule creates when it applies.
//!
//! kyvm does not write to a cluster: the VM builds the resource and reports it with the
//! rule's `pass` ([`crate::verdict::Evaluation::generated`]); the CLI compares it with a
//! test's `generatedResource`. A `data` rule's resource is its data with `apiVersion`,
//! `kind`, `metadata.name` and `metadata.namespace` set from the rule (all substituted);
//! a `clone` rule copies a source resource that comes with the request
//! ([`crate::request::Request::clone_sources`], the test's `cloneSourceResource`), under
//! the new name and namespace. `synchronize` is recorded, not acted on.

use bumpalo::collections::Vec as BumpVec;
use bumpalo::Bump;

use crate::document::{Member, Value};
use crate::jmespath::{Env, Error, ErrorKind};
use crate::template::{OnError, Template, ValueTemplate};

/// A compiled `generate` block.
#[derive(Debug)]
pub struct Generate {
    pub api_version: Template,
    pub kind: Template,
    pub name: Template,
    /// Empty for a cluster-scoped resource.
    pub namespace: Option<Template>,
    pub synchronize: bool,
    pub source: GenerateSource,
}

#[derive(Debug)]
pub enum GenerateSource {
    /// `data`: the resource's content.
    Data(ValueTemplate),
    /// `clone`: copy the resource `namespace/name` of the generated kind.
    Clone { namespace: Template, name: Template },
}

impl Generate {
    /// The resource this rule generates. `clone_sources` are the resources a `clone`
    /// may copy.
    pub fn build<'a>(&self, root: Value<'a>, env: &mut Env<'a>, clone_sources: &[Value<'a>]) -> Result<Value<'a>, Error> {
        let arena = env.arena;
        let api_version = self.api_version.evaluate_string(root, env)?;
        let kind = self.kind.evaluate_string(root, env)?;
        let name = self.name.evaluate_string(root, env)?;
        let namespace = match &self.namespace {
            Some(ns) => ns.evaluate_string(root, env)?,
            None => "",
        };
        let content = match &self.source {
            GenerateSource::Data(data) => data.evaluate(root, env, OnError::Fail)?,
            GenerateSource::Clone { namespace: source_ns, name: source_name } => {
                let source_ns = source_ns.evaluate_string(root, env)?;
                let source_name = source_name.evaluate_string(root, env)?;
                let text = |v: &Value<'a>, path: &[&str]| v.pointer(path).and_then(|v| v.as_str()).unwrap_or("");
                let found = clone_sources.iter().find(|s| {
                    text(s, &["kind"]) == kind && text(s, &["metadata", "name"]) == source_name && {
                        let ns = text(s, &["metadata", "namespace"]);
                        ns == source_ns || (source_ns.is_empty() && ns == "default")
                    }
                });
                match found {
                    Some(source) => without_server_fields(arena, *source),
                    None => {
                        return Err(Error::new(
                            ErrorKind::InvalidValue,
                            format!("clone source {kind} {source_ns}/{source_name} not found (kyvm reads clone sources from the test's cloneSourceResource)"),
                        ))
                    }
                }
            }
        };
        if !matches!(content, Value::Object(_) | Value::Null) {
            return Err(Error::new(ErrorKind::InvalidValue, "generate data must be an object"));
        }
        let mut metadata: BumpVec<'a, Member<'a>> = BumpVec::new_in(arena);
        if let Some(Value::Object(existing)) = content.get("metadata") {
            metadata.extend(existing.iter().copied().filter(|m| !matches!(m.key, "name" | "namespace")));
        }
        metadata.push(Member { key: "name", value: Value::Str(name) });
        if !namespace.is_empty() {
            metadata.push(Member { key: "namespace", value: Value::Str(namespace) });
        }
        let mut out: BumpVec<'a, Member<'a>> = BumpVec::new_in(arena);
        out.push(Member { key: "apiVersion", value: Value::Str(api_version) });
        out.push(Member { key: "kind", value: Value::Str(kind) });
        out.push(Member { key: "metadata", value: Value::Object(metadata.into_bump_slice()) });
        if let Value::Object(members) = content {
            out.extend(members.iter().copied().filter(|m| !matches!(m.key, "apiVersion" | "kind" | "metadata")));
        }
        Ok(Value::Object(out.into_bump_slice()))
    }
}

/// A clone source without the fields the API server owns.
fn without_server_fields<'a>(arena: &'a Bump, source: Value<'a>) -> Value<'a> {
    let Value::Object(members) = source else { return source };
    let mut out = BumpVec::with_capacity_in(members.len(), arena);
    for m in members.iter().filter(|m| m.key != "status") {
        let value = match (m.key, m.value) {
            ("metadata", Value::Object(meta)) => {
                let mut kept = BumpVec::with_capacity_in(meta.len(), arena);
                kept.extend(meta.iter().copied().filter(|f| {
                    !matches!(
                        f.key,
                        "uid" | "resourceVersion" | "creationTimestamp" | "managedFields" | "generation" | "selfLink" | "ownerReferences"
                    )
                }));
                Value::Object(kept.into_bump_slice())
            }
            (_, v) => v,
        };
        out.push(Member { key: m.key, value });
    }
    Value::Object(out.into_bump_slice())
}
