//! Webhook stage: arbitrary bytes → `kyvm::serve::admission::review`, the function the
//! server runs for every request body (decode, envelope checks, validate or mutate,
//! response). The first byte picks the route. Oracle: a body is either refused with a
//! reason (HTTP 400) or answered with an AdmissionReview that is JSON, echoes a non-empty
//! uid, says `allowed`, carries a `status` with code 403 exactly when denied, and whose
//! `patch`, when present, is standard base64 of a JSON array.
#![no_main]

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use base64::Engine as _;
use kyvm::serve::admission::{review, Route};
use kyvm::serve::metrics::Metrics;
use kyvm::serve::policies::{PolicySet, PolicySources, Snapshot};
use kyvm_engine::{Limits, Scratch};
use libfuzzer_sys::fuzz_target;

const EXTRA: &[(&str, &str)] = &[
    ("evaluate_review.yaml", include_str!("../policies/evaluate_review.yaml")),
    ("mutate_review.yaml", include_str!("../policies/mutate_review.yaml")),
];

fn setup() -> &'static (Arc<PolicySet>, Metrics) {
    static SET: OnceLock<(Arc<PolicySet>, Metrics)> = OnceLock::new();
    SET.get_or_init(|| {
        let mut snapshot = PolicySources::Embedded.read();
        snapshot.files.extend(EXTRA.iter().map(|(n, t)| (n.to_string(), t.to_string())));
        let snapshot = Snapshot { digest: 0, ..snapshot };
        let set = PolicySet::compile(&snapshot).unwrap_or_else(|e| panic!("the fuzz policy set must compile: {e}"));
        (Arc::new(set), Metrics::new())
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    let (set, metrics) = setup();
    let route = Route::PATHS[selector as usize % Route::PATHS.len()].1;
    let mut scratch = Scratch::new(Limits::default());
    let reviewed = match review(set, route, body, &mut scratch, metrics, Instant::now()) {
        Ok(r) => r,
        Err(bad) => {
            assert!(!bad.to_string().is_empty());
            return;
        }
    };
    let answer: serde_json::Value = serde_json::from_slice(&reviewed.body).expect("the answer is JSON");
    let response = &answer["response"];
    assert!(response["uid"].as_str().is_some_and(|u| !u.is_empty()), "uid echoed: {answer}");
    assert_eq!(response["allowed"].as_bool(), Some(reviewed.allowed));
    assert_eq!(response["status"]["code"].as_u64() == Some(403), !reviewed.allowed, "{answer}");
    if let Some(patch) = response.get("patch") {
        assert_eq!(response["patchType"], "JSONPatch");
        let bytes = base64::engine::general_purpose::STANDARD.decode(patch.as_str().expect("patch is a string")).expect("standard base64");
        let ops: serde_json::Value = serde_json::from_slice(&bytes).expect("the patch is JSON");
        assert!(ops.as_array().is_some_and(|a| !a.is_empty()), "a patch has operations: {ops}");
    }
});
