//! One admission review: request body bytes in, AdmissionReview response bytes out.
//!
//! No HTTP and no I/O here, so that the fuzz target, the tests and the server run the
//! same code. The body is decoded into the caller's per-thread [`Scratch`] arena; the
//! review's facts are checked ([`BadReview`] for anything that is not an
//! `admission.k8s.io` AdmissionReview with a request); then:
//!
//! - **validate** routes run the validation rules of the policies the route serves and
//!   deny (`allowed: false`, `status.code` 403, Kyverno's message) when a rule of an
//!   Enforce policy fails or a rule of a `failurePolicy: Fail` policy errors; failures of
//!   Audit rules (and errors of `Ignore` policies) become `warnings`
//!   (`policy NAME.RULE: message`, as Kyverno words them);
//! - **mutate** routes run the mutate rules and answer with the JSON Patch from the
//!   original object to the mutated one (`patchType: JSONPatch`, base64), or with
//!   neither field when nothing changed. Generate rules are not run by the webhook:
//!   kyvm does not write to the cluster.
//!
//! An [`EngineError`](kyvm_engine::EngineError) (a limit exhausted) denies through the
//! `Fail` routes and allows with a warning through the `Ignore` ones.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use base64::Engine as _;
use bumpalo::collections::Vec as BumpVec;
use kyvm_engine::document::Value;
use kyvm_engine::json::DecodeError;
use kyvm_engine::patch::{diff, write_patch, Op};
use kyvm_engine::program::{FailureAction, FailurePolicy, Program};
use kyvm_engine::{vm, EngineError, Operation, Request, RuleResult, RuleStatus, Scratch};
use serde::Serialize;

use super::metrics::{Metrics, Recorder};
use super::policies::PolicySet;

/// Which webhook a review came through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    pub phase: Phase,
    /// `Some` for the `/fail` and `/ignore` routes: only policies with that
    /// `failurePolicy`.
    pub only: Option<FailurePolicy>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Validate,
    Mutate,
}

impl Route {
    /// Kyverno's webhook paths.
    pub const PATHS: [(&'static str, Route); 6] = [
        ("/validate", Route { phase: Phase::Validate, only: None }),
        ("/validate/fail", Route { phase: Phase::Validate, only: Some(FailurePolicy::Fail) }),
        ("/validate/ignore", Route { phase: Phase::Validate, only: Some(FailurePolicy::Ignore) }),
        ("/mutate", Route { phase: Phase::Mutate, only: None }),
        ("/mutate/fail", Route { phase: Phase::Mutate, only: Some(FailurePolicy::Fail) }),
        ("/mutate/ignore", Route { phase: Phase::Mutate, only: Some(FailurePolicy::Ignore) }),
    ];

    /// Whether an error blocks the request on this route.
    fn errors_block(self, set: &PolicySet) -> bool {
        match self.only {
            Some(f) => f == FailurePolicy::Fail,
            None => set.policies.iter().any(|p| p.admission && p.failure_policy == FailurePolicy::Fail),
        }
    }
}

/// A body that is not a review kyvm can answer: HTTP 400 with this text.
#[derive(Debug)]
pub enum BadReview {
    Json(DecodeError),
    Shape(&'static str),
}

impl std::fmt::Display for BadReview {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BadReview::Json(e) => write!(f, "the body is not valid JSON: {e}"),
            BadReview::Shape(what) => write!(f, "the body is not an AdmissionReview: {what}"),
        }
    }
}

/// A review answered.
#[derive(Debug)]
pub struct Reviewed {
    /// The AdmissionReview response, JSON.
    pub body: Vec<u8>,
    pub allowed: bool,
}

/// Answers one AdmissionReview. `started` is when the request began (for the duration
/// metric).
pub fn review(
    set: &Arc<PolicySet>,
    route: Route,
    body: &[u8],
    scratch: &mut Scratch,
    metrics: &Metrics,
    started: Instant,
) -> Result<Reviewed, BadReview> {
    scratch.reset();
    let limits = scratch.limits;
    let arena = scratch.arena();
    let document = scratch.decode_json(body).map_err(BadReview::Json)?;
    let envelope = Envelope::read(document)?;
    let req = Request::from_admission_review(document).ok_or(BadReview::Shape("request.kind or request.operation is missing"))?;
    let resource = ResourceName::of(&req);
    let program = &set.program;
    let wanted = |rule: &kyvm_engine::program::RuleMeta| set.serves(rule.policy, route.only);
    let (verdict, patch) = metrics.record(set, req.kind, req.namespace, req.operation, |recorder| {
        let mut verdict = Verdict::default();
        let mut patch = None;
        let mut last = Instant::now();
        let mut policy_done = |policy| {
            let now = Instant::now();
            recorder.policy_duration(policy, now - last);
            last = now;
        };
        match route.phase {
            Phase::Validate => match vm::evaluate_observed(program, &req, arena, &limits, wanted, &mut policy_done) {
                Ok(eval) => verdict.add_results(set, &eval.results, recorder),
                Err(e) => verdict.engine_error(e, route.errors_block(set)),
            },
            Phase::Mutate => match vm::mutate_observed(program, &req, arena, &limits, wanted, &mut policy_done) {
                Ok(mutated) => {
                    verdict.add_results(set, &mutated.results, recorder);
                    let mut ops: BumpVec<'_, Op<'_>> = BumpVec::new_in(arena);
                    diff(arena, req.object, mutated.object, &mut ops);
                    if !ops.is_empty() {
                        let mut text = String::with_capacity(256);
                        // Writing into a String cannot fail.
                        let _ = write_patch(&mut text, &ops);
                        patch = Some(base64::engine::general_purpose::STANDARD.encode(text));
                    }
                }
                Err(e) => verdict.engine_error(e, route.errors_block(set)),
            },
        }
        recorder.review(verdict.blocked.is_empty(), started.elapsed());
        (verdict, patch)
    });

    let allowed = verdict.blocked.is_empty();
    let status = (!allowed).then(|| Status { status: "Failure", message: verdict.blocked_message(&resource), code: 403 });
    let response = ReviewResponse {
        api_version: envelope.api_version,
        kind: "AdmissionReview",
        response: Response {
            uid: envelope.uid,
            allowed,
            status,
            warnings: verdict.warnings,
            patch_type: patch.as_ref().filter(|_| allowed).map(|_| "JSONPatch"),
            patch: patch.filter(|_| allowed),
        },
    };
    let body = serde_json::to_vec(&response).unwrap_or_default();
    if allowed {
        tracing::debug!(
            uid = envelope.uid,
            kind = req.kind,
            namespace = req.namespace,
            name = req.name,
            operation = req.operation.as_str(),
            "allowed"
        );
    } else {
        tracing::info!(
            uid = envelope.uid,
            kind = req.kind,
            namespace = req.namespace,
            name = req.name,
            operation = req.operation.as_str(),
            policies = ?verdict.blocked.keys().collect::<Vec<_>>(),
            "denied"
        );
    }
    Ok(Reviewed { body, allowed })
}

/// The review's envelope: what the response echoes.
struct Envelope<'a> {
    api_version: &'a str,
    uid: &'a str,
}

impl<'a> Envelope<'a> {
    fn read(document: Value<'a>) -> Result<Envelope<'a>, BadReview> {
        let Value::Object(_) = document else {
            return Err(BadReview::Shape("not a JSON object"));
        };
        let text = |v: Option<Value<'a>>| v.and_then(|v| v.as_str());
        let api_version = match document.get("apiVersion") {
            None | Some(Value::Null) => "admission.k8s.io/v1",
            Some(v) => {
                v.as_str().filter(|s| s.starts_with("admission.k8s.io/")).ok_or(BadReview::Shape("apiVersion is not admission.k8s.io/*"))?
            }
        };
        if let Some(kind) = document.get("kind").filter(|k| !k.is_null()) {
            if kind.as_str() != Some("AdmissionReview") {
                return Err(BadReview::Shape("kind is not AdmissionReview"));
            }
        }
        let request = match document.get("request") {
            Some(r @ Value::Object(_)) => r,
            None | Some(Value::Null) => return Err(BadReview::Shape("request is missing or null")),
            Some(_) => return Err(BadReview::Shape("request is not an object")),
        };
        let uid = text(request.get("uid")).filter(|u| !u.is_empty()).ok_or(BadReview::Shape("request.uid is missing"))?;
        if !matches!(request.get("kind"), Some(Value::Object(_))) {
            return Err(BadReview::Shape("request.kind is missing"));
        }
        if text(request.get("operation")).and_then(Operation::parse).is_none() {
            return Err(BadReview::Shape("request.operation is not CREATE, UPDATE, DELETE or CONNECT"));
        }
        Ok(Envelope { api_version, uid })
    }
}

/// `KIND/NAMESPACE/NAME` of the object, as Kyverno names it in messages.
struct ResourceName<'a> {
    kind: &'a str,
    namespace: &'a str,
    name: &'a str,
}

impl<'a> ResourceName<'a> {
    fn of(req: &Request<'a>) -> ResourceName<'a> {
        let metadata = req.object.get_or_null("metadata");
        let field = |v: Value<'a>, key: &str, fallback: &'a str| v.get(key).and_then(|v| v.as_str()).unwrap_or(fallback);
        ResourceName {
            kind: field(req.object, "kind", req.kind),
            namespace: field(metadata, "namespace", req.namespace),
            name: field(metadata, "name", req.name),
        }
    }
}

/// What the rule results add up to.
#[derive(Default)]
struct Verdict {
    /// policy → rule → message, for the rules that block (sorted, as Kyverno prints them).
    blocked: BTreeMap<String, BTreeMap<String, String>>,
    warnings: Vec<String>,
}

impl Verdict {
    fn add_results(&mut self, set: &PolicySet, results: &[RuleResult<'_>], recorder: &mut Recorder<'_>) {
        let program: &Program = &set.program;
        for r in results {
            let (Some(rule), Some(rule_info)) = (program.rule(r.rule), set.rules.get(r.rule.0 as usize)) else { continue };
            let Some(policy) = set.policy(rule.policy) else { continue };
            recorder.rule_result(r.rule, r.status);
            let blocks = match r.status {
                RuleStatus::Fail => rule.action == FailureAction::Enforce,
                RuleStatus::Error => policy.failure_policy == FailurePolicy::Fail,
                RuleStatus::Warn => false,
                RuleStatus::Pass | RuleStatus::Skip => continue,
            };
            if blocks {
                self.blocked.entry(policy.name.to_string()).or_default().insert(rule_info.name.to_string(), r.message.to_string());
            } else {
                self.warnings.push(format!("policy {}.{}: {}", policy.name, rule_info.name, r.message));
            }
        }
    }

    fn engine_error(&mut self, e: EngineError, blocks: bool) {
        let message = format!("kyvm could not evaluate the request: {e}");
        tracing::warn!(error = %e, blocks, "engine error");
        if blocks {
            self.blocked.entry("kyvm".into()).or_default().insert("evaluation".into(), message);
        } else {
            self.warnings.push(message);
        }
    }

    /// Kyverno's deny message: the resource, then policy → rule → message as YAML.
    fn blocked_message(&self, resource: &ResourceName<'_>) -> String {
        let listing = serde_yaml::to_string(&self.blocked).unwrap_or_default();
        format!(
            "\n\nresource {}/{}/{} was blocked due to the following policies \n\n{listing}",
            resource.kind, resource.namespace, resource.name
        )
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReviewResponse<'a> {
    api_version: &'a str,
    kind: &'static str,
    response: Response<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Response<'a> {
    uid: &'a str,
    allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<Status>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    patch_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    patch: Option<String>,
}

#[derive(Serialize)]
struct Status {
    status: &'static str,
    message: String,
    code: u16,
}
