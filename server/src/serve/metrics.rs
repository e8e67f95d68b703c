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
//! `kyverno_policy_execution_duration_seconds` is observed per policy, without
//! Kyverno's per-rule labels (`rule_name`, `rule_result`, `rule_type`).
//!
//! **Recording is per thread.** A review records a dozen label sets of twelve labels
//! each; hashing those into a shared map on every request cost more than evaluating
//! the policies. Instead each worker thread keeps a [`Tally`]: per resource (kind,
//! namespace, operation), plain arrays indexed by rule id and policy id of the policy
//! set in use. Recording locks the thread's own tally (never contended but by a scrape)
//! and adds to array slots. A scrape drains every thread's tally into the
//! label-keyed totals and prints those; so does a thread whose policy set changed,
//! since its ids meant the old set.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use kyvm_engine::ids::{PolicyId, RuleId};
use kyvm_engine::{Operation, RuleStatus};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use super::policies::PolicySet;

/// Kyverno's `rule_execution_cause` for admission requests.
const ADMISSION_REQUEST: &str = "admission_request";

/// Histogram bucket bounds, from 10 µs to 10 s: a review takes microseconds, the API
/// server gives up at its timeout (at most 30 s).
const BUCKETS: [f64; 19] = [
    0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
    10.0,
];

/// `RuleStatus` as an array index.
const STATUSES: [RuleStatus; 5] = [RuleStatus::Pass, RuleStatus::Fail, RuleStatus::Warn, RuleStatus::Error, RuleStatus::Skip];

fn status_index(s: RuleStatus) -> usize {
    match s {
        RuleStatus::Pass => 0,
        RuleStatus::Fail => 1,
        RuleStatus::Warn => 2,
        RuleStatus::Error => 3,
        RuleStatus::Skip => 4,
    }
}

/// Every metric the server records, and the registry that prints them.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    tallies: Arc<Tallies>,
    pub policy_reloads: Counter,
    pub policy_reload_failures: Counter,
    pub certificate_reloads: Counter,
    pub certificate_reload_failures: Counter,
    pub policies_loaded: Gauge,
    pub rules_loaded: Gauge,
    rejected: Family<CodeLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        static IDS: AtomicUsize = AtomicUsize::new(0);
        let mut registry = Registry::default();
        let tallies = Arc::new(Tallies { id: IDS.fetch_add(1, Ordering::Relaxed), threads: Mutex::default(), totals: Mutex::default() });
        registry.register_collector(Box::new(tallies.clone()));
        let policy_reloads = register(&mut registry, "kyvm_policy_reloads", "Policy sets compiled and swapped in after a change");
        let policy_reload_failures = register(
            &mut registry,
            "kyvm_policy_reload_failures",
            "Changed policy sets that did not compile (the last good set keeps serving)",
        );
        let certificate_reloads = register(&mut registry, "kyvm_certificate_reloads", "Serving certificates loaded after a change");
        let certificate_reload_failures = register(
            &mut registry,
            "kyvm_certificate_reload_failures",
            "Changed certificate files that could not be loaded (the last good certificate keeps serving)",
        );
        let policies_loaded = register(&mut registry, "kyvm_policies_loaded", "Policies in the serving set");
        let rules_loaded = register(&mut registry, "kyvm_rules_loaded", "Rules in the serving set, autogenerated rules included");
        let rejected = register(
            &mut registry,
            "kyvm_rejected_requests",
            "Requests answered with an HTTP error instead of a review (bad body, too large, timeout, ...)",
        );
        Metrics {
            registry,
            tallies,
            policy_reloads,
            policy_reload_failures,
            certificate_reloads,
            certificate_reload_failures,
            policies_loaded,
            rules_loaded,
            rejected,
        }
    }

    /// Runs `f` with a recorder for one review of a resource under `set`, holding this
    /// thread's tally for that long.
    pub fn record<R>(
        &self,
        set: &Arc<PolicySet>,
        kind: &str,
        namespace: &str,
        operation: Operation,
        f: impl FnOnce(&mut Recorder<'_>) -> R,
    ) -> R {
        let tally = self.tallies.for_this_thread();
        let mut guard = lock(&tally);
        if !guard.set.as_ref().is_some_and(|s| Arc::ptr_eq(s, set)) {
            guard.drain_into(&mut lock(&self.tallies.totals));
            guard.set = Some(set.clone());
        }
        let resource = guard.resource(kind, namespace, operation, set);
        f(&mut Recorder { tally: &mut guard, resource })
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

/// A new metric of type `M`, registered under `name`.
fn register<M: Default + Clone + prometheus_client::registry::Metric>(registry: &mut Registry, name: &str, help: &str) -> M {
    let metric = M::default();
    registry.register(name, help, metric.clone());
    metric
}

/// The content type of [`Metrics::render`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Records one review into the thread's tally.
#[derive(Debug)]
pub struct Recorder<'t> {
    tally: &'t mut Tally,
    resource: usize,
}

impl Recorder<'_> {
    pub fn rule_result(&mut self, rule: RuleId, status: RuleStatus) {
        let r = self.resource;
        if let Some(slot) =
            self.tally.resources.get_mut(r).and_then(|t| t.rule_results.get_mut(rule.0 as usize * STATUSES.len() + status_index(status)))
        {
            *slot += 1;
        }
    }

    pub fn policy_duration(&mut self, policy: PolicyId, elapsed: Duration) {
        let r = self.resource;
        if let Some(h) = self.tally.resources.get_mut(r).and_then(|t| t.policy_durations.get_mut(policy.0 as usize)) {
            h.observe(elapsed);
        }
    }

    pub fn review(&mut self, allowed: bool, elapsed: Duration) {
        let r = self.resource;
        if let Some(t) = self.tally.resources.get_mut(r) {
            t.reviews[usize::from(allowed)].observe(elapsed);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while recording leaves counts that are still counts.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Every thread's tally and the totals drained from them.
#[derive(Debug)]
struct Tallies {
    /// Distinguishes `Metrics` instances in the thread-local map (tests make several).
    id: usize,
    threads: Mutex<Vec<Arc<Mutex<Tally>>>>,
    totals: Mutex<Totals>,
}

thread_local! {
    /// This thread's tally, per `Metrics` instance.
    static THREAD_TALLIES: std::cell::RefCell<Vec<(usize, Arc<Mutex<Tally>>)>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Tallies {
    /// This thread's tally, made and registered on first use.
    fn for_this_thread(&self) -> Arc<Mutex<Tally>> {
        THREAD_TALLIES.with(|cell| {
            let mut mine = cell.borrow_mut();
            if let Some((_, t)) = mine.iter().find(|(id, _)| *id == self.id) {
                return t.clone();
            }
            let t = Arc::new(Mutex::new(Tally::default()));
            mine.push((self.id, t.clone()));
            lock(&self.threads).push(t.clone());
            t
        })
    }
}

/// One thread's counts since the last drain, for one policy set.
#[derive(Debug, Default)]
struct Tally {
    set: Option<Arc<PolicySet>>,
    /// Resource → index into `resources`, by a hash of (kind, namespace, operation).
    index: HashMap<u64, Vec<usize>>,
    resources: Vec<ResourceTally>,
    hasher: ahash::RandomState,
}

#[derive(Debug)]
struct ResourceTally {
    kind: Box<str>,
    namespace: Box<str>,
    operation: Operation,
    /// Denied, allowed.
    reviews: [HistogramTally; 2],
    /// `rules × STATUSES`, by rule id then status.
    rule_results: Vec<u64>,
    /// By policy id.
    policy_durations: Vec<HistogramTally>,
}

impl Tally {
    fn resource(&mut self, kind: &str, namespace: &str, operation: Operation, set: &PolicySet) -> usize {
        let key = self.hasher.hash_one((kind, namespace, operation));
        let slots = self.index.entry(key).or_default();
        if let Some(&i) = slots
            .iter()
            .find(|&&i| self.resources.get(i).is_some_and(|r| &*r.kind == kind && &*r.namespace == namespace && r.operation == operation))
        {
            return i;
        }
        let i = self.resources.len();
        slots.push(i);
        self.resources.push(ResourceTally {
            kind: kind.into(),
            namespace: namespace.into(),
            operation,
            reviews: Default::default(),
            rule_results: vec![0; set.rules.len() * STATUSES.len()],
            policy_durations: vec![HistogramTally::default(); set.policies.len()],
        });
        i
    }

    /// Adds the counts to `totals` under their labels and empties the tally.
    fn drain_into(&mut self, totals: &mut Totals) {
        self.index.clear();
        let resources = std::mem::take(&mut self.resources);
        let Some(set) = self.set.as_ref() else { return };
        for r in resources {
            let resource = ResourcePart {
                resource_kind: Arc::from(r.kind),
                resource_namespace: Arc::from(r.namespace),
                resource_request_operation: operation_label(r.operation),
            };
            for (allowed, h) in r.reviews.iter().enumerate() {
                if h.count > 0 {
                    let labels = RequestLabels { resource: resource.clone(), request_allowed: allowed == 1 };
                    totals.reviews.entry(labels).or_default().add(h);
                }
            }
            for (slot, &n) in r.rule_results.iter().enumerate() {
                let (rule, status) = (slot / STATUSES.len(), STATUSES[slot % STATUSES.len()]);
                let (Some(rule_info), Some(meta)) = (set.rules.get(rule), set.program.rules.get(rule)) else { continue };
                let Some(policy) = set.policy(meta.policy).filter(|_| n > 0) else { continue };
                let labels = RuleResultLabels {
                    policy: PolicyPart::of(policy),
                    resource: resource.clone(),
                    rule_name: rule_info.name.clone(),
                    rule_result: status.as_str(),
                    rule_type: rule_info.rule_type,
                    rule_execution_cause: ADMISSION_REQUEST,
                };
                *totals.rule_results.entry(labels).or_default() += n;
            }
            for (policy, h) in r.policy_durations.iter().enumerate() {
                let Some(policy) = set.policies.get(policy).filter(|_| h.count > 0) else { continue };
                let labels =
                    PolicyLabels { policy: PolicyPart::of(policy), resource: resource.clone(), rule_execution_cause: ADMISSION_REQUEST };
                totals.policy_durations.entry(labels).or_default().add(h);
            }
        }
    }
}

/// A histogram's counts: per bucket (not cumulative; the encoder accumulates), the
/// observations above the last bound, the count and the sum.
#[derive(Clone, Debug, Default)]
struct HistogramTally {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl HistogramTally {
    fn observe(&mut self, elapsed: Duration) {
        let v = elapsed.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|&bound| v <= bound) {
            self.buckets[i] += 1;
        }
        self.count += 1;
        self.sum += v;
    }

    fn add(&mut self, other: &HistogramTally) {
        for (a, b) in self.buckets.iter_mut().zip(other.buckets) {
            *a += b;
        }
        self.count += other.count;
        self.sum += other.sum;
    }

    fn encode(&self, encoder: &mut prometheus_client::encoding::MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
        let mut buckets: Vec<(f64, u64)> = BUCKETS.iter().copied().zip(self.buckets).collect();
        // Observations above the last bound count only in +Inf.
        let above = self.count - self.buckets.iter().sum::<u64>();
        buckets.push((f64::MAX, above));
        encoder.encode_histogram::<prometheus_client::encoding::NoLabelSet>(self.sum, self.count, &buckets, None)
    }
}

/// Counts drained from the threads, by label set.
#[derive(Debug, Default)]
struct Totals {
    reviews: BTreeMap<RequestLabels, HistogramTally>,
    rule_results: BTreeMap<RuleResultLabels, u64>,
    policy_durations: BTreeMap<PolicyLabels, HistogramTally>,
}

impl Totals {
    fn merge(&mut self, other: Totals) {
        for (labels, h) in other.reviews {
            self.reviews.entry(labels).or_default().add(&h);
        }
        for (labels, n) in other.rule_results {
            *self.rule_results.entry(labels).or_default() += n;
        }
        for (labels, h) in other.policy_durations {
            self.policy_durations.entry(labels).or_default().add(&h);
        }
    }
}

impl Collector for Tallies {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let threads: Vec<_> = lock(&self.threads).clone();
        // Each tally is drained into a scratch total before the shared totals are locked:
        // `Metrics::record` locks a tally and then the totals, so holding the totals
        // while waiting for a tally could deadlock with it.
        let mut drained = Totals::default();
        for t in threads {
            lock(&t).drain_into(&mut drained);
        }
        let mut totals = lock(&self.totals);
        totals.merge(drained);
        let mut requests =
            encoder.encode_descriptor("kyverno_admission_requests", "Admission requests reviewed", None, MetricType::Counter)?;
        for (labels, h) in &totals.reviews {
            ConstCounter::new(h.count).encode(requests.encode_family(labels)?)?;
        }
        let mut durations = encoder.encode_descriptor(
            "kyverno_admission_review_duration_seconds",
            "Time to answer an admission review, from the first byte of the body to the response",
            None,
            MetricType::Histogram,
        )?;
        for (labels, h) in &totals.reviews {
            h.encode(&mut durations.encode_family(labels)?)?;
        }
        let mut results =
            encoder.encode_descriptor("kyverno_policy_results", "Rule results of admission reviews", None, MetricType::Counter)?;
        for (labels, &n) in &totals.rule_results {
            ConstCounter::new(n).encode(results.encode_family(labels)?)?;
        }
        let mut policies = encoder.encode_descriptor(
            "kyverno_policy_execution_duration_seconds",
            "Time to apply one policy's rules to an admission request",
            None,
            MetricType::Histogram,
        )?;
        for (labels, h) in &totals.policy_durations {
            h.encode(&mut policies.encode_family(labels)?)?;
        }
        Ok(())
    }
}

/// The labels naming a policy.
#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, EncodeLabelSet)]
struct PolicyPart {
    policy_validation_mode: &'static str,
    policy_type: &'static str,
    policy_background_mode: &'static str,
    policy_name: Arc<str>,
    policy_namespace: Arc<str>,
}

impl PolicyPart {
    fn of(policy: &super::policies::PolicyInfo) -> PolicyPart {
        PolicyPart {
            policy_validation_mode: policy.validation_mode,
            policy_type: policy.policy_type,
            policy_background_mode: policy.background,
            policy_name: policy.name.clone(),
            policy_namespace: policy.namespace.clone(),
        }
    }
}

/// The labels naming the resource and operation under review.
#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, EncodeLabelSet)]
struct ResourcePart {
    resource_kind: Arc<str>,
    resource_namespace: Arc<str>,
    resource_request_operation: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, EncodeLabelSet)]
struct RequestLabels {
    #[prometheus(flatten)]
    resource: ResourcePart,
    request_allowed: bool,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, EncodeLabelSet)]
struct RuleResultLabels {
    #[prometheus(flatten)]
    policy: PolicyPart,
    #[prometheus(flatten)]
    resource: ResourcePart,
    rule_name: Arc<str>,
    rule_result: &'static str,
    rule_type: &'static str,
    rule_execution_cause: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, EncodeLabelSet)]
struct PolicyLabels {
    #[prometheus(flatten)]
    policy: PolicyPart,
    #[prometheus(flatten)]
    resource: ResourcePart,
    rule_execution_cause: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabels {
    code: u16,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::policies::PolicySources;

    fn set() -> Arc<PolicySet> {
        Arc::new(PolicySet::compile(&PolicySources::Embedded.read()).expect("the embedded set compiles"))
    }

    fn value(text: &str, line_start: &str) -> f64 {
        text.lines().filter(|l| l.starts_with(line_start)).filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok()).sum()
    }

    /// Counts recorded under one policy set survive the switch to the next (the tally is
    /// drained with the ids of the set they meant), and every scrape adds only what is new.
    #[test]
    fn counts_survive_scrapes_and_policy_set_changes() {
        let metrics = Metrics::new();
        let (old, new) = (set(), set());
        let record = |set: &Arc<PolicySet>, allowed: bool| {
            metrics.record(set, "Pod", "default", Operation::Create, |r| {
                r.rule_result(RuleId(0), RuleStatus::Pass);
                r.policy_duration(PolicyId(0), Duration::from_micros(20));
                r.review(allowed, Duration::from_micros(50));
            })
        };
        record(&old, true);
        record(&old, false);
        let text = metrics.render();
        assert_eq!(value(&text, "kyverno_admission_requests_total{"), 2.0, "{text}");
        record(&new, true);
        let text = metrics.render();
        assert_eq!(value(&text, "kyverno_admission_requests_total{"), 3.0, "{text}");
        assert_eq!(value(&text, "kyverno_policy_results_total{"), 3.0, "{text}");
        assert_eq!(value(&text, "kyverno_policy_execution_duration_seconds_count{"), 3.0, "{text}");
        assert!(text.contains(r#"rule_name="baseline""#), "{text}");
        // A second scrape with nothing new shows the same totals.
        assert_eq!(value(&metrics.render(), "kyverno_admission_requests_total{"), 3.0);
    }
}
