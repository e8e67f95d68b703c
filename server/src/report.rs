//! Policy reports: `kyvm apply --policy-report` prints the results as a
//! `wgpolicyk8s.io/v1alpha2` ClusterPolicyReport, as Kyverno's CLI does.

use std::time::{SystemTime, UNIX_EPOCH};

use kyvm_compiler::Compilation;
use kyvm_engine::RuleStatus;
use serde::Serialize;

use crate::apply::ApplyResult;
use crate::resources::Resource;

/// `NAMESPACE/KIND/NAME` as Kyverno prints a resource.
pub fn resource_path(res: &Resource) -> String {
    format!("{}/{}/{}", res.display_namespace(), res.kind, res.name)
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterPolicyReport {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: Metadata,
    pub results: Vec<ReportResult>,
    pub summary: Summary,
}

#[derive(Debug, Serialize)]
pub struct Metadata {
    pub name: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportResult {
    pub policy: String,
    pub rule: String,
    pub result: &'static str,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
    pub resources: Vec<ObjectReference>,
    pub source: &'static str,
    pub scored: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    pub timestamp: Timestamp,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectReference {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub namespace: String,
}

#[derive(Debug, Serialize)]
pub struct Timestamp {
    pub seconds: u64,
    pub nanos: u32,
}

#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub pass: usize,
    pub fail: usize,
    pub warn: usize,
    pub error: usize,
    pub skip: usize,
}

/// Builds the report from `apply`'s results.
pub fn build(comp: &Compilation, result: &ApplyResult) -> ClusterPolicyReport {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let mut summary = Summary::default();
    let mut results = Vec::new();
    for (res, run) in &result.per_resource {
        for o in &run.outcomes {
            let status = match o.status {
                RuleStatus::Pass => {
                    summary.pass += 1;
                    "pass"
                }
                RuleStatus::Fail => {
                    summary.fail += 1;
                    "fail"
                }
                RuleStatus::Warn => {
                    summary.warn += 1;
                    "warn"
                }
                RuleStatus::Error => {
                    summary.error += 1;
                    "error"
                }
                RuleStatus::Skip => {
                    summary.skip += 1;
                    "skip"
                }
            };
            let annotations = comp.policies.iter().find(|p| p.policy.metadata.name == o.policy).map(|p| &p.policy.metadata.annotations);
            let annotation = |k: &str| annotations.and_then(|a| a.get(k)).cloned();
            results.push(ReportResult {
                policy: o.policy.clone(),
                rule: o.rule.clone(),
                result: status,
                message: o.message.clone(),
                resources: vec![ObjectReference {
                    api_version: res.api_version.clone(),
                    kind: res.kind.clone(),
                    name: res.name.clone(),
                    namespace: res.namespace.clone(),
                }],
                source: "kyverno",
                scored: annotation("policies.kyverno.io/scored").is_none_or(|v| v != "false"),
                category: annotation("policies.kyverno.io/category"),
                severity: annotation("policies.kyverno.io/severity"),
                timestamp: Timestamp { seconds: now.as_secs(), nanos: 0 },
            });
        }
    }
    ClusterPolicyReport {
        api_version: "wgpolicyk8s.io/v1alpha2",
        kind: "ClusterPolicyReport",
        metadata: Metadata { name: "merged".into() },
        results,
        summary,
    }
}
