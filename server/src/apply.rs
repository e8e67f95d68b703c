//! `kyvm apply`: applies policies to resource files and prints Kyverno's report.
//!
//! ```text
//! Applying 3 policy rule(s) to 2 resource(s)...
//!
//! policy disallow-privileged -> resource default/Pod/nginx failed:
//! 1. validate-privileged: validation error: ... rule validate-privileged failed at path /spec/...
//!
//! pass: 3, fail: 1, warn: 0, error: 0, skip: 0
//! ```

use kyvm_compiler::Compilation;
use kyvm_engine::{Limits, RuleStatus, Scratch};

use crate::report;
use crate::resources::Resource;
use crate::run::{self, Inputs, Outcome, ResourceRun};

/// Counts of rule results.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub pass: usize,
    pub fail: usize,
    pub warn: usize,
    pub error: usize,
    pub skip: usize,
}

impl Counts {
    fn add(&mut self, status: RuleStatus) {
        match status {
            RuleStatus::Pass => self.pass += 1,
            RuleStatus::Fail => self.fail += 1,
            RuleStatus::Warn => self.warn += 1,
            RuleStatus::Error => self.error += 1,
            RuleStatus::Skip => self.skip += 1,
        }
    }
}

/// Everything `apply` computed, for printing.
#[derive(Debug)]
pub struct ApplyResult {
    pub per_resource: Vec<(Resource, ResourceRun)>,
    pub counts: Counts,
    pub rule_count: usize,
}

/// Evaluates every resource. A failure counts as `warn` when the policy is not scored
/// (`policies.kyverno.io/scored: "false"`) or, with `audit_warn`, when its rule audits.
pub fn apply(comp: &Compilation, resources: Vec<Resource>, inputs: Inputs<'_>, audit_warn: bool) -> Result<ApplyResult, String> {
    let mut scratch = Scratch::new(Limits::default());
    let mut counts = Counts::default();
    let mut per_resource = Vec::new();
    for res in resources {
        let mut outcome = run::evaluate_resource(comp, &res, inputs, &mut scratch).map_err(|e| format!("{}: {e}", res.name))?;
        for o in &mut outcome.outcomes {
            let unscored = comp.policies.iter().any(|p| {
                p.policy.metadata.name == o.policy
                    && p.policy.metadata.annotations.get("policies.kyverno.io/scored").is_some_and(|v| v == "false")
            });
            let audit = audit_warn && o.action == kyvm_engine::program::FailureAction::Audit;
            if o.status == RuleStatus::Fail && (unscored || audit) {
                o.status = RuleStatus::Warn;
            }
            counts.add(o.status);
        }
        per_resource.push((res, outcome));
    }
    let rule_count = comp.program.rules.len();
    Ok(ApplyResult { per_resource, counts, rule_count })
}

/// Writes every mutated resource as YAML: one multi-document file, or one file per
/// resource (`KIND-NAMESPACE-NAME.yaml`) when `path` is a folder.
pub fn write_mutated(result: &ApplyResult, path: &std::path::Path) -> std::io::Result<()> {
    let mutated = result.per_resource.iter().filter_map(|(res, run)| run.mutated.as_ref().map(|m| (res, m)));
    let yaml = |v: &serde_yaml::Value| serde_yaml::to_string(v).map_err(std::io::Error::other);
    if path.is_dir() {
        for (res, object) in mutated {
            let file = format!("{}-{}-{}.yaml", res.kind, res.namespace, res.name).to_ascii_lowercase();
            std::fs::write(path.join(file), yaml(object)?)?;
        }
        return Ok(());
    }
    let mut out = String::new();
    for (_, object) in mutated {
        out.push_str("---\n");
        out.push_str(&yaml(object)?);
    }
    std::fs::write(path, out)
}

/// Kyverno's human output.
pub fn render(result: &ApplyResult) -> String {
    let mut out = format!("\nApplying {} policy rule(s) to {} resource(s)...\n", result.rule_count, result.per_resource.len());
    for (res, run) in &result.per_resource {
        let outcomes = &run.outcomes;
        let mut policies: Vec<&str> = Vec::new();
        for o in outcomes {
            if !policies.contains(&o.policy.as_str()) {
                policies.push(&o.policy);
            }
        }
        for policy in policies {
            let failed: Vec<&Outcome> =
                outcomes.iter().filter(|o| o.policy == policy && matches!(o.status, RuleStatus::Fail | RuleStatus::Error)).collect();
            if failed.is_empty() {
                continue;
            }
            out.push_str(&format!("\npolicy {policy} -> resource {} failed:\n", report::resource_path(res)));
            for (i, o) in failed.iter().enumerate() {
                out.push_str(&format!("{}. {}: {}\n", i + 1, o.rule, o.message));
            }
        }
    }
    let c = result.counts;
    out.push_str(&format!("\npass: {}, fail: {}, warn: {}, error: {}, skip: {}\n", c.pass, c.fail, c.warn, c.error, c.skip));
    out
}
