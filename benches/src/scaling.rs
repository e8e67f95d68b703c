//! The policy sets of the `scaling` benchmarks: how the cost of a review grows with the
//! number of loaded policies, and with the number of rules that apply.
//!
//! - **Loaded policies** ([`loaded_set`]): 1, 10, 100 or 1,000 policies of which the same
//!   ones match the Pod: the ten baseline Pod Security policies of the corpus
//!   (`pod-security/baseline/`, [`matching_policies`]), the rest taken from the classic
//!   policies of the corpus that have no rule about Pods ([`non_matching_policies`]:
//!   Services, Ingresses, Namespaces, ...), copied under new names as often as needed.
//! - **Matching rules** ([`matching_rules_set`]): 10, 100 or 1,000 rules that all apply
//!   to the Pod: the rules of the ten baseline policies, copied under new names, ten
//!   per policy, with autogen off (so each rule is one Pod rule).
//! - **Compile time**: every classic policy file of the corpus ([`classic_sources`]).
//!
//! Copies are made on the YAML document (a renamed `metadata.name`, renamed rules) and
//! compiled from text with `kyvm_compiler::compile_str`, as a user's files would be.

use std::path::PathBuf;

use serde::Deserialize;
use serde_yaml::{Mapping, Value};

use crate::{classic_policy_folders, conformance_dir, policy_files};

/// A policy document of the corpus.
#[derive(Clone, Debug)]
pub struct PolicyDoc {
    pub file: PathBuf,
    pub doc: Value,
}

impl PolicyDoc {
    pub fn name(&self) -> &str {
        self.doc.get("metadata").and_then(|m| m.get("name")).and_then(Value::as_str).unwrap_or("")
    }

    /// The document under another `metadata.name`.
    fn renamed(&self, name: &str) -> Value {
        let mut doc = self.doc.clone();
        if let Some(meta) = doc.get_mut("metadata").and_then(Value::as_mapping_mut) {
            meta.insert("name".into(), name.into());
        }
        doc
    }
}

/// The policy documents (`ClusterPolicy`, `Policy`) of a file.
fn read_policies(file: &PathBuf) -> Result<Vec<PolicyDoc>, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut out = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(&text) {
        let doc = Value::deserialize(doc).map_err(|e| format!("{}: {e}", file.display()))?;
        if matches!(doc.get("kind").and_then(Value::as_str), Some("ClusterPolicy" | "Policy")) {
            out.push(PolicyDoc { file: file.clone(), doc });
        }
    }
    Ok(out)
}

/// Whether a policy text compiles alone with no error and no rule left as an `error`
/// stub (`K0900`).
fn compiles_cleanly(text: &str) -> bool {
    let c = kyvm_compiler::compile_str("policy.yaml", text);
    !c.has_errors() && !c.diagnostics.iter().any(|d| d.code == "K0900") && !c.program.rules.is_empty()
}

fn to_yaml(doc: &Value) -> String {
    serde_yaml::to_string(doc).expect("a YAML value serializes")
}

/// Whether no rule of the policy `text` is about `kind`: none is among the engine's
/// candidates for it (rules list their kinds, or match every kind), of any rule type.
fn leaves_kind_alone(text: &str, kind: &str) -> bool {
    let c = kyvm_compiler::compile_str("policy.yaml", text);
    c.program.dispatch.candidates(kind).next().is_none()
}

/// The ten baseline Pod Security policies (`pod-security/baseline/`), each of which
/// compiles cleanly and applies to a Pod.
pub fn matching_policies() -> Result<Vec<PolicyDoc>, String> {
    let dir = conformance_dir().join("kyverno-policies/pod-security/baseline");
    let mut out = Vec::new();
    for file in policy_files(&dir) {
        for p in read_policies(&file)? {
            if !compiles_cleanly(&to_yaml(&p.doc)) {
                return Err(format!("{}: does not compile cleanly", file.display()));
            }
            out.push(p);
        }
    }
    if out.len() != 10 {
        return Err(format!("expected the 10 baseline policies in {}, found {}", dir.display(), out.len()));
    }
    Ok(out)
}

/// Every classic policy of the corpus that compiles cleanly and has no rule about `kind`
/// (validate, mutate or generate): the policies a review of that kind has nothing to do
/// with.
pub fn non_matching_policies(kind: &str) -> Result<Vec<PolicyDoc>, String> {
    let root = conformance_dir().join("kyverno-policies");
    let mut out = Vec::new();
    for folder in classic_policy_folders(&root)? {
        for file in policy_files(&folder) {
            // Files the corpus holds that are not valid YAML policies are simply not used.
            let Ok(policies) = read_policies(&file) else { continue };
            for p in policies {
                let text = to_yaml(&p.doc);
                if compiles_cleanly(&text) && leaves_kind_alone(&text, kind) {
                    out.push(p);
                }
            }
        }
    }
    // One document per name: the corpus defines a few policies twice.
    out.sort_by(|a, b| a.name().cmp(b.name()).then(a.file.cmp(&b.file)));
    out.dedup_by(|a, b| a.name() == b.name());
    if out.is_empty() {
        return Err(format!("every classic policy of the corpus has a rule about {kind}"));
    }
    Ok(out)
}

/// `loaded` policies as one multi-document YAML text: the first `min(loaded, 10)` of
/// `matching`, then copies of `others` (renamed `<name>-<copy>`) up to `loaded`.
pub fn loaded_set(loaded: usize, matching: &[PolicyDoc], others: &[PolicyDoc]) -> String {
    let mut docs: Vec<Value> = matching.iter().take(loaded).map(|p| p.doc.clone()).collect();
    let mut i = 0;
    while docs.len() < loaded {
        let p = &others[i % others.len()];
        docs.push(p.renamed(&format!("{}-{}", p.name(), i / others.len())));
        i += 1;
    }
    join(&docs)
}

/// Annotation that turns Kyverno's autogen (pod-controller rules) off for a policy.
const AUTOGEN_OFF: (&str, &str) = ("pod-policies.kyverno.io/autogen-controllers", "none");

/// `rules` rules that all apply to a Pod, as one multi-document YAML text: the rules of
/// `matching` taken in turn and renamed `<rule>-<copy>`, ten per policy, autogen off.
pub fn matching_rules_set(rules: usize, matching: &[PolicyDoc]) -> String {
    let pool: Vec<&Value> = matching
        .iter()
        .flat_map(|p| p.doc.get("spec").and_then(|s| s.get("rules")).and_then(Value::as_sequence).into_iter().flatten())
        .collect();
    let mut docs = Vec::new();
    let mut current: Vec<Value> = Vec::new();
    for i in 0..rules {
        let mut rule = pool[i % pool.len()].clone();
        let name = rule.get("name").and_then(Value::as_str).unwrap_or("rule").to_string();
        if let Some(m) = rule.as_mapping_mut() {
            m.insert("name".into(), format!("{name}-{}", i / pool.len()).into());
        }
        current.push(rule);
        if current.len() == 10 || i + 1 == rules {
            docs.push(rules_policy(docs.len(), std::mem::take(&mut current)));
        }
    }
    join(&docs)
}

fn rules_policy(index: usize, rules: Vec<Value>) -> Value {
    let mut annotations = Mapping::new();
    annotations.insert(AUTOGEN_OFF.0.into(), AUTOGEN_OFF.1.into());
    let mut metadata = Mapping::new();
    metadata.insert("name".into(), format!("matching-rules-{index}").into());
    metadata.insert("annotations".into(), annotations.into());
    let mut spec = Mapping::new();
    spec.insert("validationFailureAction".into(), "Audit".into());
    spec.insert("background".into(), true.into());
    spec.insert("rules".into(), rules.into());
    let mut doc = Mapping::new();
    doc.insert("apiVersion".into(), "kyverno.io/v1".into());
    doc.insert("kind".into(), "ClusterPolicy".into());
    doc.insert("metadata".into(), metadata.into());
    doc.insert("spec".into(), spec.into());
    doc.into()
}

fn join(docs: &[Value]) -> String {
    docs.iter().map(to_yaml).collect::<Vec<_>>().join("---\n")
}

/// Every policy file of the classic folders of the corpus, as (file name, text): the
/// input of the compile-time benchmark.
pub fn classic_sources() -> Result<Vec<(String, String)>, String> {
    let root = conformance_dir().join("kyverno-policies");
    let mut out = Vec::new();
    for folder in classic_policy_folders(&root)? {
        for file in policy_files(&folder) {
            let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            out.push((file.display().to_string(), text));
        }
    }
    Ok(out)
}

/// Compiles (file, text) pairs as one set, like `kyvm_compiler::compile_paths` over the
/// files.
pub fn compile_sources(sources: &[(String, String)]) -> kyvm_compiler::Compilation {
    let mut diags = Vec::new();
    let mut docs = Vec::new();
    for (file, text) in sources {
        docs.extend(kyvm_compiler::source::parse_documents(file, text, &mut diags));
    }
    kyvm_compiler::compile_documents(docs, diags)
}
