//! Loading: YAML documents → typed [`Policy`] models.
//!
//! Only `ClusterPolicy` and `Policy` of `kyverno.io/v1`, `v2beta1` and `v2` are policies
//! to kyvm; any other document is skipped with a note, never an error that hides the
//! rest. A type error is reported at the YAML path serde stopped at, with the position of
//! that node. Fields the model does not know are warned about, not rejected.

use serde_yaml::Value;

use crate::diag::Diagnostic;
use crate::model::{MatchResources, Policy, Unknown};
use crate::source::{PathSeg, SourceDoc, YamlPath};

const POLICY_API_VERSIONS: [&str; 3] = ["kyverno.io/v1", "kyverno.io/v2beta1", "kyverno.io/v2"];

/// Reads one document as a Kyverno policy. `None` when it is not one (a note or an error
/// says why).
pub fn load_policy(doc: &SourceDoc, diags: &mut Vec<Diagnostic>) -> Option<Policy> {
    let root = YamlPath::root();
    let Value::Mapping(map) = &doc.value else {
        let d = Diagnostic::note("K0003", "skipped a document that is not a Kubernetes object")
            .expected("a mapping with `apiVersion` and `kind`")
            .found(kind_of(&doc.value));
        diags.push(doc.locate(d, &root));
        return None;
    };
    let field = |k: &str| map.get(k).and_then(Value::as_str);
    let (Some(api_version), Some(kind)) = (field("apiVersion"), field("kind")) else {
        let d = Diagnostic::note("K0003", "skipped a document without `apiVersion` and `kind`").expected("a Kubernetes object");
        diags.push(doc.locate(d, &root));
        return None;
    };
    let is_policy_kind = kind == "ClusterPolicy" || kind == "Policy";
    if !is_policy_kind || !POLICY_API_VERSIONS.contains(&api_version) {
        let name = doc.value.get("metadata").and_then(|m| m.get("name")).and_then(Value::as_str).unwrap_or("");
        diags.push(doc.locate(
            Diagnostic::note("K0010", format!("skipped {kind} `{name}` ({api_version}): not a Kyverno ClusterPolicy or Policy")),
            &root,
        ));
        return None;
    }
    let policy: Policy = match serde_path_to_error::deserialize(doc.value.clone()) {
        Ok(p) => p,
        Err(e) => {
            let path = convert_path(e.path());
            let message = e.into_inner().to_string();
            diags.push(doc.locate(Diagnostic::error("K0100", format!("invalid policy: {message}")), &path));
            return None;
        }
    };
    warn_unknown(doc, &policy, diags);
    Some(policy)
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

fn convert_path(p: &serde_path_to_error::Path) -> YamlPath {
    let mut out = YamlPath::root();
    for seg in p.iter() {
        match seg {
            serde_path_to_error::Segment::Seq { index } => out.0.push(PathSeg::Index(*index)),
            serde_path_to_error::Segment::Map { key } => out.0.push(PathSeg::Key(key.clone())),
            serde_path_to_error::Segment::Enum { variant } => out.0.push(PathSeg::Key(variant.clone())),
            serde_path_to_error::Segment::Unknown => {}
        }
    }
    out
}

fn warn_unknown(doc: &SourceDoc, policy: &Policy, diags: &mut Vec<Diagnostic>) {
    let mut warn = |unknown: &Unknown, path: &YamlPath| {
        for key in unknown.keys() {
            let p = path.key(key);
            diags.push(doc.locate(Diagnostic::warning("K0101", format!("unknown field `{key}` ignored")), &p));
        }
    };
    let spec = YamlPath::root().key("spec");
    warn(&policy.spec.unknown, &spec);
    for (i, rule) in policy.spec.rules.iter().enumerate() {
        let rp = spec.key("rules").index(i);
        warn(&rule.unknown, &rp);
        if let Some(v) = &rule.validate {
            warn(&v.unknown, &rp.key("validate"));
        }
        let mut blocks: Vec<(&MatchResources, YamlPath)> = vec![(&rule.match_resources, rp.key("match"))];
        if let Some(e) = &rule.exclude {
            blocks.push((e, rp.key("exclude")));
        }
        for (block, bp) in blocks {
            warn(&block.unknown, &bp);
            if let Some(d) = &block.resources {
                warn(&d.unknown, &bp.key("resources"));
            }
            for (name, filters) in [("any", &block.any), ("all", &block.all)] {
                for (j, f) in filters.iter().flatten().enumerate() {
                    let fp = bp.key(name).index(j);
                    warn(&f.unknown, &fp);
                    if let Some(d) = &f.resources {
                        warn(&d.unknown, &fp.key("resources"));
                    }
                }
            }
        }
    }
}
