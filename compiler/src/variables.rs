//! Lowering of the rule parts that read the JSON context: `{{ }}` templates,
//! `preconditions` and `deny` conditions, `context` entries and `foreach` lists.
//!
//! Every template and JMESPath is parsed here, once; a syntax error is a diagnostic with
//! the YAML path of the string that holds it, and the rule reports `error`. The engine
//! types built here ([`Template`], [`ConditionSet`], [`ContextEntry`]) go into the
//! program unchanged.

use kyvm_engine::conditions::Operator;
use kyvm_engine::jmespath::{Expression, ParseLimits};
use kyvm_engine::rule::{Condition, ConditionSet, ContextEntry, ContextSource, Query, Variable};
use kyvm_engine::template::{has_variables, Template, ValueTemplate};
use serde_yaml::Value;

use crate::diag::Diagnostic;
use crate::source::{SourceDoc, YamlPath};

/// Lowers the context-reading parts of one rule, collecting diagnostics.
pub struct VariableLowering<'d> {
    pub doc: &'d SourceDoc,
    pub diags: &'d mut Vec<Diagnostic>,
    /// Set when something could not be compiled; the rule then reports `error` with
    /// this message.
    pub failed: Option<String>,
    /// Some expression reads the `images` variable.
    pub reads_images: bool,
}

impl VariableLowering<'_> {
    fn error(&mut self, d: Diagnostic, path: &YamlPath) {
        let d = self.doc.locate(d, path);
        if self.failed.is_none() {
            self.failed = Some(format!("{} at {}", d.message, d.path));
        }
        self.diags.push(d);
    }

    /// A string that may hold variables.
    pub fn template(&mut self, text: &str, path: &YamlPath) -> Option<Template> {
        match Template::compile(text, &ParseLimits::default()) {
            Ok(t) => {
                if t.expressions().iter().any(|e| mentions_images(e.source())) || mentions_images_nested(text) {
                    self.reads_images = true;
                }
                Some(t)
            }
            Err(e) => {
                let d = Diagnostic::error("K0140", format!("invalid JMESPath in variable: {}", e.error))
                    .expected("a valid JMESPath expression between `{{` and `}}`")
                    .found(e.expression.clone());
                self.error(d, path);
                None
            }
        }
    }

    /// A JMESPath expression that may hold variables (`foreach.list`,
    /// `variable.jmesPath`): parsed now when it has none, else substituted and parsed
    /// when it runs.
    pub fn query(&mut self, text: &str, path: &YamlPath) -> Option<Query> {
        let text = text.trim();
        if has_variables(text) {
            return self.template(text, path).map(Query::Templated);
        }
        match Expression::parse(text, &ParseLimits::default()) {
            Ok(e) => {
                if mentions_images(text) {
                    self.reads_images = true;
                }
                Some(Query::Static(e))
            }
            Err(e) => {
                let d = Diagnostic::error("K0140", format!("invalid JMESPath: {e}"))
                    .expected("a valid JMESPath expression")
                    .found(text.to_string());
                self.error(d, path);
                None
            }
        }
    }

    /// A YAML value whose strings may hold variables.
    pub fn value(&mut self, v: &Value, path: &YamlPath) -> ValueTemplate {
        match v {
            Value::Null => ValueTemplate::Null,
            Value::Bool(b) => ValueTemplate::Bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => ValueTemplate::Int(i),
                None => ValueTemplate::Float(n.as_f64().unwrap_or(0.0)),
            },
            Value::String(s) => match self.template(s, path) {
                Some(t) => ValueTemplate::Str(t),
                None => ValueTemplate::Null,
            },
            Value::Sequence(items) => {
                ValueTemplate::Array(items.iter().enumerate().map(|(i, item)| self.value(item, &path.index(i))).collect())
            }
            Value::Mapping(m) => {
                let mut members = Vec::with_capacity(m.len());
                for (k, item) in m {
                    let key = match k {
                        Value::String(s) => s.clone(),
                        Value::Number(n) => n.to_string(),
                        Value::Bool(b) => b.to_string(),
                        _ => "null".to_string(),
                    };
                    let child = path.key(&key);
                    if let Some(t) = self.template(&key, &child) {
                        members.push((t, self.value(item, &child)));
                    }
                }
                ValueTemplate::Object(members)
            }
            Value::Tagged(t) => self.value(&t.value, path),
        }
    }

    /// `preconditions` or `deny.conditions`: `{any, all}` or the legacy list.
    pub fn conditions(&mut self, v: &Value, path: &YamlPath) -> Option<ConditionSet> {
        match v {
            Value::Sequence(items) => Some(ConditionSet { any: None, all: self.condition_list(items, path)? }),
            Value::Mapping(m) => {
                for (k, _) in m {
                    if !matches!(k.as_str(), Some("any" | "all")) {
                        let d = Diagnostic::error("K0141", "unknown field in conditions")
                            .expected("`any` and/or `all`")
                            .found(format!("{k:?}"));
                        self.error(d, path);
                        return None;
                    }
                }
                let block = |this: &mut Self, key: &str| -> Option<Option<Vec<Condition>>> {
                    match m.get(key) {
                        None | Some(Value::Null) => Some(None),
                        Some(Value::Sequence(items)) => this.condition_list(items, &path.key(key)).map(Some),
                        Some(other) => {
                            let d = Diagnostic::error("K0141", format!("`{key}` must be a list of conditions")).found(describe(other));
                            this.error(d, &path.key(key));
                            None
                        }
                    }
                };
                let any = block(self, "any")?;
                let all = block(self, "all")?.unwrap_or_default();
                Some(ConditionSet { any, all })
            }
            Value::Null => Some(ConditionSet { any: None, all: Vec::new() }),
            other => {
                let d = Diagnostic::error("K0141", "conditions must be `{any, all}` or a list").found(describe(other));
                self.error(d, path);
                None
            }
        }
    }

    fn condition_list(&mut self, items: &[Value], path: &YamlPath) -> Option<Vec<Condition>> {
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            out.push(self.condition(item, &path.index(i))?);
        }
        Some(out)
    }

    fn condition(&mut self, v: &Value, path: &YamlPath) -> Option<Condition> {
        let Value::Mapping(m) = v else {
            let d = Diagnostic::error("K0141", "a condition must be a map").expected("{key, operator, value}").found(describe(v));
            self.error(d, path);
            return None;
        };
        let op_text = m.get("operator").and_then(Value::as_str).unwrap_or("");
        let Some(operator) = Operator::parse(op_text) else {
            let d = Diagnostic::error("K0141", format!("unknown condition operator `{op_text}`"))
                .expected("Equals, NotEquals, AnyIn, AllIn, AnyNotIn, AllNotIn, GreaterThan, ... (see kyverno.io)")
                .found(op_text.to_string());
            self.error(d, &path.key("operator"));
            return None;
        };
        let key = self.value(m.get("key").unwrap_or(&Value::Null), &path.key("key"));
        let value = self.value(m.get("value").unwrap_or(&Value::Null), &path.key("value"));
        let message = match m.get("message").and_then(Value::as_str).filter(|s| !s.is_empty()) {
            Some(text) => Some(self.template(text, &path.key("message"))?),
            None => None,
        };
        Some(Condition { key, operator, value, message })
    }

    /// `context`: a list of entries.
    pub fn context(&mut self, v: &Value, path: &YamlPath) -> Vec<ContextEntry> {
        let Value::Sequence(items) = v else {
            if !v.is_null() {
                let d = Diagnostic::error("K0143", "`context` must be a list of entries").found(describe(v));
                self.error(d, path);
            }
            return Vec::new();
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let ipath = path.index(i);
            let name = item.get("name").and_then(Value::as_str).unwrap_or("").to_string();
            if name.is_empty() {
                let d = Diagnostic::error("K0143", "context entry has no name").expected("name");
                self.error(d, &ipath);
                continue;
            }
            let source = if let Some(var) = item.get("variable") {
                let vpath = ipath.key("variable");
                let value = var.get("value").map(|v| self.value(v, &vpath.key("value")));
                let jmes_path = match var.get("jmesPath").and_then(Value::as_str).filter(|s| !s.trim().is_empty()) {
                    None => None,
                    Some(text) => self.query(text, &vpath.key("jmesPath")),
                };
                let default = var.get("default").map(|v| self.value(v, &vpath.key("default")));
                if value.is_none() && jmes_path.is_none() && default.is_none() {
                    let d = Diagnostic::error("K0143", format!("context variable `{name}` has no value, jmesPath or default"));
                    self.error(d, &vpath);
                }
                ContextSource::Variable(Box::new(Variable { value, jmes_path, default }))
            } else if let Some(kind) =
                ["configMap", "apiCall", "imageRegistry", "globalReference"].into_iter().find(|k| item.get(*k).is_some())
            {
                let d =
                    Diagnostic::warning("K0901", format!("context entry `{name}` ({kind}) reads the cluster, which kyvm does not do yet"))
                        .help("`kyvm apply` and `kyvm test` take its value from the values file; elsewhere the rule reports `error`");
                self.diags.push(self.doc.locate(d, &ipath.key(kind)));
                ContextSource::Supplied { kind }
            } else {
                let d = Diagnostic::error("K0143", format!("context entry `{name}` has no source"))
                    .expected("variable, configMap, apiCall, imageRegistry or globalReference");
                self.error(d, &ipath);
                continue;
            };
            out.push(ContextEntry { name: name.into(), source });
        }
        out
    }
}

/// Does an expression read the top-level `images` variable?
fn mentions_images(text: &str) -> bool {
    text.match_indices("images").any(|(i, _)| {
        let before = text.get(..i).and_then(|s| s.chars().next_back());
        !matches!(before, Some(c) if c == '.' || c.is_alphanumeric() || c == '_')
    })
}

fn mentions_images_nested(text: &str) -> bool {
    has_variables(text) && text.contains("images")
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(_) => "a boolean".into(),
        Value::Number(_) => "a number".into(),
        Value::String(_) => "a string".into(),
        Value::Sequence(_) => "a list".into(),
        Value::Mapping(_) => "a map".into(),
        Value::Tagged(_) => "a tagged value".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_images_reads() {
        assert!(mentions_images("images.containers.*.tag"));
        assert!(mentions_images("values(images.containers)"));
        assert!(!mentions_images("request.object.images"));
        assert!(!mentions_images("myimages"));
    }
}
