//! Prometheus metrics, with Kyverno's metric and label names where Kyverno has them, so
//! that existing dashboards and alerts keep working.
//!
//! | metric | labels |
//! |---|---|
//! | `kyverno_admission_requests_total` | `resource_kind`, `resource_namespace`, `resource_request_operation`, `request_allowed` |
//! | `kyverno_admission_review_duration_seconds` (histogram) | the same |
//! | `kyverno_policy_results_total` | `policy_validation_mode`, `policy_type`, `policy_background_mode`, `policy_name`, `policy_namespace`, `resource_kind`, `resource_namespace`, `resource_request_operation`, `rule_name`, `rule_result`, `rule_type`, `rule_execution_cause` |
//! | `kyverno_policy_execution_duration_seconds` (histogram) | the policy and resource labels above and `rule_execution_cause` |
//! | `kyvm_policy_reloads_total`, `kyvm_policy_reload_failures_total` | |
//! | `kyvm_certificate_reloads_total`, `kyvm_certificate_reload_failures_total` | |
//! | `kyvm_policies_loaded`, `kyvm_rules_loaded` (gauges) | |
//! | `kyvm_rejected_requests_total` | `code` (the HTTP status of a request answered without a review) |
//!
//! One difference: kyvm's VM runs a policy's rules as one unit, so
//! `kyverno_policy_execution_duration_seconds` is observed per policy, without Kyverno's
//! per-rule labels (`rule_name`, `rule_result`, `rule_type`).
//!
//! Recording takes a read lock and a hash lookup per label set; label values come from
//! the policy set (shared `Arc<str>`s) and the request (kind and namespace).

use std::sync::Arc;
use std::time::Duration;

use kyvm_engine::{Operation, RuleStatus};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::policies::{PolicyInfo, RuleInfo};

/// Kyverno's `rule_execution_cause` for admission requests.
const ADMISSION_REQUEST: &str = "admission_request";

/// The resource facts every admission metric is labelled with.
#[derive(Clone, Copy, Debug)]
pub struct ResourceFacts<'a> {
    pub kind: &'a str,
    pub namespace: &'a str,
    pub operation: Operation,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    resource_kind: String,
    resource_namespace: String,
    resource_request_operation: &'static str,
    request_allowed: bool,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RuleResultLabels {
    policy_validation_mode: &'static str,
    policy_type: &'static str,
    policy_background_mode: &'static str,
    policy_name: Arc<str>,
    policy_namespace: Arc<str>,
    resource_kind: String,
    resource_namespace: String,
    resource_request_operation: &'static str,
    rule_name: Arc<str>,
    rule_result: &'static str,
    rule_type: &'static str,
    rule_execution_cause: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PolicyLabels {
    policy_validation_mode: &'static str,
    policy_type: &'static str,
    policy_background_mode: &'static str,
    policy_name: Arc<str>,
    policy_namespace: Arc<str>,
    resource_kind: String,
    resource_namespace: String,
    resource_request_operation: &'static str,
    rule_execution_cause: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabels {
    code: u16,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// Every metric the server records, and the registry that prints them.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    review_duration: HistogramFamily<RequestLabels>,
    rule_results: Family<RuleResultLabels, Counter>,
    policy_duration: HistogramFamily<PolicyLabels>,
    pub policy_reloads: Counter,
    pub policy_reload_failures: Counter,
    pub certificate_reloads: Counter,
    pub certificate_reload_failures: Counter,
    pub policies_loaded: Gauge,
    pub rules_loaded: Gauge,
    rejected: Family<CodeLabels, Counter>,
}

/// Buckets from 10 µs to 10 s: a review takes microseconds, the API server gives up at
/// its timeout (at most 30 s).
fn latency_histogram() -> Histogram {
    Histogram::new([
        0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
        10.0,
    ])
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("kyverno_admission_requests", "Admission requests reviewed", requests.clone());
        let review_duration: HistogramFamily<RequestLabels> = Family::new_with_constructor(latency_histogram);
        registry.register(
            "kyverno_admission_review_duration_seconds",
            "Time to answer an admission review, from the first byte of the body to the response",
            review_duration.clone(),
        );
        let rule_results = Family::<RuleResultLabels, Counter>::default();
        registry.register("kyverno_policy_results", "Rule results of admission reviews", rule_results.clone());
        let policy_duration: HistogramFamily<PolicyLabels> = Family::new_with_constructor(latency_histogram);
        registry.register(
            "kyverno_policy_execution_duration_seconds",
            "Time to apply one policy's rules to an admission request",
            policy_duration.clone(),
        );
        let policy_reloads = Counter::default();
        registry.register("kyvm_policy_reloads", "Policy sets compiled and swapped in after a change", policy_reloads.clone());
        let policy_reload_failures = Counter::default();
        registry.register(
            "kyvm_policy_reload_failures",
            "Changed policy sets that did not compile (the last good set keeps serving)",
            policy_reload_failures.clone(),
        );
        let certificate_reloads = Counter::default();
        registry.register("kyvm_certificate_reloads", "Serving certificates loaded after a change", certificate_reloads.clone());
        let certificate_reload_failures = Counter::default();
        registry.register(
            "kyvm_certificate_reload_failures",
            "Changed certificate files that could not be loaded (the last good certificate keeps serving)",
            certificate_reload_failures.clone(),
        );
        let policies_loaded = Gauge::default();
        registry.register("kyvm_policies_loaded", "Policies in the serving set", policies_loaded.clone());
        let rules_loaded = Gauge::default();
        registry.register("kyvm_rules_loaded", "Rules in the serving set, autogenerated rules included", rules_loaded.clone());
        let rejected = Family::<CodeLabels, Counter>::default();
        registry.register(
            "kyvm_rejected_requests",
            "Requests answered with an HTTP error instead of a review (bad body, too large, timeout, ...)",
            rejected.clone(),
        );
        Metrics {
            registry,
            requests,
            review_duration,
            rule_results,
            policy_duration,
            policy_reloads,
            policy_reload_failures,
            certificate_reloads,
            certificate_reload_failures,
            policies_loaded,
            rules_loaded,
            rejected,
        }
    }

    /// One review answered.
    pub fn review(&self, res: ResourceFacts<'_>, allowed: bool, elapsed: Duration) {
        let labels = RequestLabels {
            resource_kind: res.kind.to_owned(),
            resource_namespace: res.namespace.to_owned(),
            resource_request_operation: operation_label(res.operation),
            request_allowed: allowed,
        };
        self.requests.get_or_create(&labels).inc();
        self.review_duration.get_or_create(&labels).observe(elapsed.as_secs_f64());
    }

    /// One rule's result.
    pub fn rule_result(&self, policy: &PolicyInfo, rule: &RuleInfo, status: RuleStatus, res: ResourceFacts<'_>) {
        let labels = RuleResultLabels {
            policy_validation_mode: policy.validation_mode,
            policy_type: policy.policy_type,
            policy_background_mode: policy.background,
            policy_name: policy.name.clone(),
            policy_namespace: policy.namespace.clone(),
            resource_kind: res.kind.to_owned(),
            resource_namespace: res.namespace.to_owned(),
            resource_request_operation: operation_label(res.operation),
            rule_name: rule.name.clone(),
            rule_result: status.as_str(),
            rule_type: rule.rule_type,
            rule_execution_cause: ADMISSION_REQUEST,
        };
        self.rule_results.get_or_create(&labels).inc();
    }

    /// The time one policy's rules took on one request.
    pub fn policy_duration(&self, policy: &PolicyInfo, res: ResourceFacts<'_>, elapsed: Duration) {
        let labels = PolicyLabels {
            policy_validation_mode: policy.validation_mode,
            policy_type: policy.policy_type,
            policy_background_mode: policy.background,
            policy_name: policy.name.clone(),
            policy_namespace: policy.namespace.clone(),
            resource_kind: res.kind.to_owned(),
            resource_namespace: res.namespace.to_owned(),
            resource_request_operation: operation_label(res.operation),
            rule_execution_cause: ADMISSION_REQUEST,
        };
        self.policy_duration.get_or_create(&labels).observe(elapsed.as_secs_f64());
    }

    /// A request answered with an HTTP error status instead of a review.
    pub fn rejected(&self, code: u16) {
        self.rejected.get_or_create(&CodeLabels { code }).inc();
    }

    /// The Prometheus text exposition (OpenMetrics).
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(16 << 10);
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// Kyverno's `resource_request_operation` values.
fn operation_label(op: Operation) -> &'static str {
    match op {
        Operation::Create => "create",
        Operation::Update => "update",
        Operation::Delete => "delete",
        Operation::Connect => "connect",
    }
}

/// The content type of [`Metrics::render`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
