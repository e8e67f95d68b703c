//! Lowering `mutate`: `patchStrategicMerge` into an overlay with parsed anchors,
//! `patchesJson6902` into operation templates (the YAML string read once, here), and
//! `foreach` declarations with their context, preconditions and bodies. Also
//! `generate` (`data` or `clone`), whose resource is a template too.
//!
//! The parts that need program tables (context entries, condition sets) stay in the
//! plan until code generation registers them.

use kyvm_engine::generate::{Generate, GenerateSource};
use kyvm_engine::mutate::jsonpatch::OpKind;
use kyvm_engine::mutate::{Anchor, JsonPatch, OpTemplate, Overlay, OverlayField};
use kyvm_engine::rule::{ConditionSet, ContextEntry, Query};
use kyvm_engine::template::has_variables;
use serde_yaml::Value;

use crate::diag::Diagnostic;
use crate::source::YamlPath;
use crate::variables::VariableLowering;

/// A lowered mutation, before its tables are assigned.
#[derive(Debug)]
pub enum MutationPlan {
    StrategicMerge(Overlay),
    JsonPatch(JsonPatch),
    ForEach(Vec<MutateForEachPlan>),
}

/// One `mutate.foreach` declaration.
#[derive(Debug)]
pub struct MutateForEachPlan {
    pub list: Query,
    pub descending: bool,
    pub nesting: u32,
    pub context: Vec<ContextEntry>,
    pub preconditions: Option<ConditionSet>,
    pub body: MutationPlan,
}

/// Lowers a `mutate` block (or a `foreach` declaration's patch). `None` after a
/// diagnostic.
pub fn lower(vars: &mut VariableLowering<'_>, block: &Value, path: &YamlPath, nesting: u32) -> Option<MutationPlan> {
    if let Some(patch) = block.get("patchStrategicMerge") {
        return Some(MutationPlan::StrategicMerge(overlay(vars, patch, &path.key("patchStrategicMerge"))));
    }
    if let Some(text) = block.get("patchesJson6902") {
        let jpath = path.key("patchesJson6902");
        let Some(text) = text.as_str() else {
            fail(vars, Diagnostic::error("K0160", "`patchesJson6902` must be a string of YAML operations").expected("a string"), &jpath);
            return None;
        };
        return json_patch(vars, text, &jpath).map(MutationPlan::JsonPatch);
    }
    if let Some(list) = block.get("foreach") {
        return foreach(vars, list, &path.key("foreach"), nesting).map(MutationPlan::ForEach);
    }
    for unsupported in ["targets", "mutateExistingOnPolicyUpdate"] {
        if block.get(unsupported).is_some() {
            let d = Diagnostic::error("K0161", format!("mutate `{unsupported}` (mutating existing resources) is not supported by kyvm"))
                .help("kyvm mutates the resource under admission only");
            fail(vars, d, &path.key(unsupported));
            return None;
        }
    }
    let d = Diagnostic::error("K0160", "mutate has nothing to apply").expected("patchStrategicMerge, patchesJson6902 or foreach");
    fail(vars, d, path);
    None
}

fn fail(vars: &mut VariableLowering<'_>, d: Diagnostic, path: &YamlPath) {
    let d = vars.doc.locate(d, path);
    vars.failed.get_or_insert_with(|| format!("{} at {}", d.message, d.path));
    vars.diags.push(d);
}

/// The overlay, with each map key's anchor parsed.
fn overlay(vars: &mut VariableLowering<'_>, v: &Value, path: &YamlPath) -> Overlay {
    match v {
        Value::Mapping(m) => {
            let mut fields = Vec::with_capacity(m.len());
            for (k, value) in m {
                let raw = match k {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => "null".to_string(),
                };
                let child = path.key(&raw);
                let (anchor, name) = Anchor::parse(&raw);
                if let Some(key) = vars.template(name, &child) {
                    fields.push(OverlayField { anchor, key, value: overlay(vars, value, &child) });
                }
            }
            Overlay::Map(fields)
        }
        Value::Sequence(items) => Overlay::List(items.iter().enumerate().map(|(i, item)| overlay(vars, item, &path.index(i))).collect()),
        Value::Tagged(t) => overlay(vars, &t.value, path),
        scalar => Overlay::Leaf(vars.value(scalar, path)),
    }
}

/// `patchesJson6902`: parsed now; kept as text when it only parses after substitution.
fn json_patch(vars: &mut VariableLowering<'_>, text: &str, path: &YamlPath) -> Option<JsonPatch> {
    let parsed: Result<Value, _> = serde_yaml::from_str(text);
    let ops = match parsed {
        Ok(Value::Sequence(ops)) => ops,
        Ok(_) => {
            fail(vars, Diagnostic::error("K0160", "`patchesJson6902` must be a list of operations").expected("a YAML list"), path);
            return None;
        }
        Err(_) if has_variables(text) => return vars.template(text, path).map(JsonPatch::Text),
        Err(e) => {
            fail(vars, Diagnostic::error("K0160", format!("`patchesJson6902` is not valid YAML: {e}")), path);
            return None;
        }
    };
    let mut out = Vec::with_capacity(ops.len());
    for (i, op) in ops.iter().enumerate() {
        let opath = path.index(i);
        let text = |key: &str| op.get(key).and_then(Value::as_str);
        let Some(kind) = text("op").and_then(OpKind::parse) else {
            let d = Diagnostic::error("K0160", "invalid JSON patch operation")
                .expected("op: add, remove, replace, move, copy or test")
                .found(format!("{:?}", op.get("op")));
            fail(vars, d, &opath);
            return None;
        };
        let Some(p) = text("path") else {
            fail(vars, Diagnostic::error("K0160", "JSON patch operation without a path").expected("path: a JSON pointer"), &opath);
            return None;
        };
        let needs_value = matches!(kind, OpKind::Add | OpKind::Replace | OpKind::Test);
        let needs_from = matches!(kind, OpKind::Move | OpKind::Copy);
        if needs_value && op.get("value").is_none() {
            fail(vars, Diagnostic::error("K0160", "JSON patch operation without a value").expected("value"), &opath);
            return None;
        }
        if needs_from && text("from").is_none() {
            fail(vars, Diagnostic::error("K0160", "JSON patch operation without from").expected("from: a JSON pointer"), &opath);
            return None;
        }
        let path_t = vars.template(p, &opath.key("path"))?;
        let from = match text("from") {
            Some(f) => Some(vars.template(f, &opath.key("from"))?),
            None => None,
        };
        let value = op.get("value").map(|v| vars.value(v, &opath.key("value")));
        out.push(OpTemplate { op: kind, path: path_t, from, value });
    }
    Some(JsonPatch::Ops(out))
}

/// `mutate.foreach` declarations at `nesting`.
fn foreach(vars: &mut VariableLowering<'_>, list: &Value, path: &YamlPath, nesting: u32) -> Option<Vec<MutateForEachPlan>> {
    let Value::Sequence(items) = list else {
        fail(vars, Diagnostic::error("K0144", "`foreach` must be a list of declarations").expected("a list"), path);
        return None;
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let fpath = path.index(i);
        let list_text = item.get("list").and_then(Value::as_str).unwrap_or("");
        if list_text.trim().is_empty() {
            fail(vars, Diagnostic::error("K0144", "`foreach` declaration has no list").expected("list: a JMESPath expression"), &fpath);
            return None;
        }
        let list = vars.query(list_text, &fpath.key("list"))?;
        let is_merge = item.get("patchStrategicMerge").is_some();
        let descending = match item.get("order").and_then(Value::as_str) {
            None => is_merge,
            Some("Descending") => true,
            Some("Ascending") => false,
            Some(other) => {
                let d =
                    Diagnostic::error("K0120", "invalid value for `order`").expected("Ascending or Descending").found(other.to_string());
                fail(vars, d, &fpath.key("order"));
                return None;
            }
        };
        let context = item.get("context").map(|c| vars.context(c, &fpath.key("context"))).unwrap_or_default();
        let preconditions = item.get("preconditions").and_then(|p| vars.conditions(p, &fpath.key("preconditions")));
        let body = lower(vars, item, &fpath, nesting + 1)?;
        out.push(MutateForEachPlan { list, descending, nesting, context, preconditions, body });
    }
    Some(out)
}

/// Does the mutation read the JSON context (so its rule must load it)?
pub fn uses_context(plan: &MutationPlan) -> bool {
    match plan {
        MutationPlan::StrategicMerge(o) => overlay_uses_context(o),
        MutationPlan::JsonPatch(JsonPatch::Ops(ops)) => ops.iter().any(|op| {
            !op.path.is_literal()
                || op.from.as_ref().is_some_and(|f| !f.is_literal())
                || op.value.as_ref().is_some_and(|v| !v.is_constant())
        }),
        MutationPlan::JsonPatch(JsonPatch::Text(_)) | MutationPlan::ForEach(_) => true,
    }
}

fn overlay_uses_context(o: &Overlay) -> bool {
    match o {
        Overlay::Leaf(v) => !v.is_constant(),
        Overlay::Map(fields) => fields.iter().any(|f| !f.key.is_literal() || overlay_uses_context(&f.value)),
        Overlay::List(items) => items.iter().any(overlay_uses_context),
    }
}

/// Lowers a `generate` block: `data` or `clone` (`cloneList` is not supported).
pub fn lower_generate(vars: &mut VariableLowering<'_>, block: &Value, path: &YamlPath) -> Option<Generate> {
    let text = |key: &str| block.get(key).and_then(Value::as_str).unwrap_or("");
    if block.get("cloneList").is_some() {
        let d = Diagnostic::error("K0162", "generate `cloneList` is not supported by kyvm").help("use `clone` or `data`");
        fail(vars, d, &path.key("cloneList"));
        return None;
    }
    let (kind, name) = (text("kind"), text("name"));
    if kind.is_empty() || name.is_empty() {
        let d = Diagnostic::error("K0162", "generate needs the kind and name of the resource").expected("kind and name");
        fail(vars, d, path);
        return None;
    }
    let source = if let Some(data) = block.get("data") {
        GenerateSource::Data(vars.value(data, &path.key("data")))
    } else if let Some(clone) = block.get("clone") {
        let cpath = path.key("clone");
        let field = |key: &str| clone.get(key).and_then(Value::as_str).unwrap_or("");
        GenerateSource::Clone {
            namespace: vars.template(field("namespace"), &cpath.key("namespace"))?,
            name: vars.template(field("name"), &cpath.key("name"))?,
        }
    } else {
        let d = Diagnostic::error("K0162", "generate has nothing to create").expected("data or clone");
        fail(vars, d, path);
        return None;
    };
    let namespace = match text("namespace") {
        "" => None,
        ns => Some(vars.template(ns, &path.key("namespace"))?),
    };
    Some(Generate {
        api_version: vars.template(text("apiVersion"), &path.key("apiVersion"))?,
        kind: vars.template(kind, &path.key("kind"))?,
        name: vars.template(name, &path.key("name"))?,
        namespace,
        synchronize: block.get("synchronize").and_then(Value::as_bool).unwrap_or(false),
        source,
    })
}
