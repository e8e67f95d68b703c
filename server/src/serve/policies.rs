//! The policy set the webhook serves: compiled once per change, shared read-only by
//! every worker, replaced atomically.
//!
//! A [`PolicySet`] is a compiled [`Program`] plus what the admission path needs beside
//! it, computed once here rather than per request: per policy, which routes serve it
//! and its metric labels. [`PolicySources`] says where policies come from (files and
//! folders, or the embedded default set) and reads them into a [`Snapshot`] whose digest
//! tells whether anything changed since the last compile.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::Arc;

use kyvm_compiler::{source, Diagnostic, Severity};
use kyvm_engine::ids::PolicyId;
use kyvm_engine::program::{FailureAction, FailurePolicy};
use kyvm_engine::Program;

/// The embedded default set: Pod Security Standards baseline enforced, restricted
/// audited (server/policies/).
pub const DEFAULT_POLICIES: &[(&str, &str)] = &[
    ("embedded:pod-security-baseline.yaml", include_str!("../../policies/pod-security-baseline.yaml")),
    ("embedded:pod-security-restricted.yaml", include_str!("../../policies/pod-security-restricted.yaml")),
];

/// Where the policies come from.
#[derive(Clone, Debug)]
pub enum PolicySources {
    /// Files and folders (folders recursively, hidden entries skipped: a mounted
    /// ConfigMap's `..data` and `..<timestamp>` folders are not read twice).
    Paths(Vec<PathBuf>),
    /// [`DEFAULT_POLICIES`].
    Embedded,
}

/// The policy files as read at one moment.
#[derive(Debug)]
pub struct Snapshot {
    /// (file name, text), in the order they are compiled.
    pub files: Vec<(String, String)>,
    /// Files or folders that could not be read.
    pub unreadable: Vec<Diagnostic>,
    /// Digest of names and texts: equal digests, same policy set.
    pub digest: u64,
}

impl PolicySources {
    pub fn read(&self) -> Snapshot {
        let mut unreadable = Vec::new();
        let files: Vec<(String, String)> = match self {
            PolicySources::Embedded => DEFAULT_POLICIES.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect(),
            PolicySources::Paths(paths) => source::expand_paths(paths, &mut unreadable)
                .into_iter()
                .filter_map(|p| match std::fs::read_to_string(&p) {
                    Ok(text) => Some((p.display().to_string(), text)),
                    Err(e) => {
                        let mut d = Diagnostic::error("K0002", format!("cannot read file: {e}"));
                        d.file = p.display().to_string();
                        unreadable.push(d);
                        None
                    }
                })
                .collect(),
        };
        let mut h = DefaultHasher::new();
        files.hash(&mut h);
        unreadable.len().hash(&mut h);
        Snapshot { files, unreadable, digest: h.finish() }
    }

    pub fn describe(&self) -> String {
        match self {
            PolicySources::Embedded => "the embedded default set (Pod Security Standards: baseline enforced, restricted audited)".into(),
            PolicySources::Paths(p) => p.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
        }
    }
}

/// A policy set that failed to compile: the diagnostics at error level.
#[derive(Debug)]
pub struct Rejected {
    pub errors: Vec<Diagnostic>,
}

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} error(s)", self.errors.len())?;
        for d in &self.errors {
            write!(f, "\n{d}")?;
        }
        Ok(())
    }
}

/// Per policy: what the admission path asks of it, once.
#[derive(Clone, Debug)]
pub struct PolicyInfo {
    pub name: Arc<str>,
    /// `-` for a ClusterPolicy (Kyverno's metric label).
    pub namespace: Arc<str>,
    /// `spec.admission` is not false.
    pub admission: bool,
    pub failure_policy: FailurePolicy,
    /// Kyverno's `policy_validation_mode` label: `enforce` when any rule enforces.
    pub validation_mode: &'static str,
    /// `cluster` or `namespaced`.
    pub policy_type: &'static str,
    pub background: &'static str,
}

/// Per rule: its metric labels.
#[derive(Clone, Debug)]
pub struct RuleInfo {
    pub name: Arc<str>,
    pub rule_type: &'static str,
}

/// A compiled policy set and its per-policy facts.
#[derive(Debug)]
pub struct PolicySet {
    pub program: Program,
    pub policies: Vec<PolicyInfo>,
    pub rules: Vec<RuleInfo>,
    /// Digest of the sources it was compiled from.
    pub digest: u64,
    /// Warnings and notes of the compile (logged once).
    pub warnings: Vec<Diagnostic>,
}

impl PolicySet {
    /// Compiles a snapshot. Any error-level diagnostic rejects the whole set: the
    /// webhook keeps serving its last good set rather than a partial one.
    pub fn compile(snapshot: &Snapshot) -> Result<PolicySet, Rejected> {
        let mut diags = Vec::new();
        let mut docs = Vec::new();
        for (name, text) in &snapshot.files {
            docs.extend(source::parse_documents(name, text, &mut diags));
        }
        let comp = kyvm_compiler::compile_documents(docs, diags);
        let mut diagnostics = snapshot.unreadable.clone();
        diagnostics.extend(comp.diagnostics);
        let (errors, warnings): (Vec<_>, Vec<_>) = diagnostics.into_iter().partition(|d| d.is_error());
        if !errors.is_empty() {
            return Err(Rejected { errors });
        }
        let program = comp.program;
        let policies = program
            .policies
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let rules = program.rules.iter().filter(|r| r.policy == PolicyId(i as u32));
                let enforces = rules.clone().any(|r| r.action == FailureAction::Enforce);
                PolicyInfo {
                    name: Arc::from(&*p.name),
                    namespace: Arc::from(p.namespace.as_deref().unwrap_or("-")),
                    admission: p.admission,
                    failure_policy: p.failure_policy,
                    validation_mode: if enforces { "enforce" } else { "audit" },
                    policy_type: if p.namespace.is_some() { "namespaced" } else { "cluster" },
                    background: if p.background { "true" } else { "false" },
                }
            })
            .collect();
        let rules = program.rules.iter().map(|r| RuleInfo { name: Arc::from(&*r.name), rule_type: r.kind.as_str() }).collect();
        Ok(PolicySet { program, policies, rules, digest: snapshot.digest, warnings })
    }

    pub fn policy(&self, id: PolicyId) -> Option<&PolicyInfo> {
        self.policies.get(id.0 as usize)
    }

    /// Whether the route's webhook serves this policy: Kyverno registers policies with
    /// `failurePolicy: Ignore` under `/…/ignore` and the others under `/…/fail`; the
    /// plain routes serve all. Policies with `admission: false` are never served.
    pub fn serves(&self, id: PolicyId, only: Option<FailurePolicy>) -> bool {
        self.policy(id).is_some_and(|p| p.admission && only.is_none_or(|f| f == p.failure_policy))
    }

    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// Notes worth a log line at start and reload: warnings (notes are for `kyvm compile`).
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.warnings.iter().filter(|d| d.severity >= Severity::Warning)
    }
}
