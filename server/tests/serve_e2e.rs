//! End to end: the real `kyvm serve` binary over HTTPS on loopback — validate and mutate
//! answers in the exact AdmissionReview shape, warnings, every operation, health and
//! metrics.

mod support;

use base64::Engine as _;
use serde_json::{json, Value};
use support::{hardened_pod, metric_value, pod, review, Server, TempDir, TestCerts};

const MUTATE_POLICY: &str = r#"apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: add-team-label
spec:
  rules:
  - name: add-team
    match:
      any:
      - resources:
          kinds: [Pod]
    mutate:
      patchStrategicMerge:
        metadata:
          labels:
            +(team): platform
"#;

const REQUIRE_LABEL_POLICY: &str = r#"apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: require-app-label
spec:
  validationFailureAction: Enforce
  rules:
  - name: check-app
    match:
      any:
      - resources:
          kinds: [Pod]
    validate:
      message: "label app is required"
      pattern:
        metadata:
          labels:
            app: "?*"
"#;

/// With the embedded default set: a privileged Pod is denied by the enforced baseline
/// profile, with Kyverno's message and the restricted profile's audit failure as a
/// warning; a hardened Pod is allowed with nothing else in the response.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_answers_in_kyvernos_shape() {
    let dir = TempDir::new("shape");
    let server = Server::start(&[], None, dir.path());
    let mut client = server.connect().await;

    let answer = client.post("/validate/fail", &review("uid-hardened", "CREATE", hardened_pod("web"))).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.content_type, "application/json");
    assert_eq!(
        answer.json(),
        json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": {"uid": "uid-hardened", "allowed": true}})
    );

    let answer = client.post("/validate/fail", &review("uid-privileged", "CREATE", pod("bad", true))).await;
    assert_eq!(answer.status, 200);
    let v = answer.json();
    assert_eq!(v["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(v["kind"], "AdmissionReview");
    let response = &v["response"];
    assert_eq!(response["uid"], "uid-privileged");
    assert_eq!(response["allowed"], false);
    assert_eq!(response["status"]["code"], 403);
    assert_eq!(response["status"]["status"], "Failure");
    let message = response["status"]["message"].as_str().expect("message");
    assert!(
        message
            .starts_with("\n\nresource Pod/default/bad was blocked due to the following policies \n\npod-security-baseline:\n  baseline: "),
        "{message:?}"
    );
    assert!(message.contains("privileged"), "{message}");
    assert!(!message.contains("pod-security-restricted"), "audit policies do not block: {message}");
    let warnings = response["warnings"].as_array().expect("warnings");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].as_str().expect("warning").starts_with("policy pod-security-restricted.restricted: "), "{warnings:?}");
    assert!(response.get("patch").is_none() && response.get("patchType").is_none());

    // Not privileged but not hardened: allowed, with the audit warning.
    let answer = client.post("/validate/fail", &review("uid-plain", "CREATE", pod("plain", false))).await;
    let response = &answer.json()["response"];
    assert_eq!(response["allowed"], true);
    assert!(response.get("status").is_none());
    assert_eq!(response["warnings"].as_array().map(Vec::len), Some(1));

    // The default policies have failurePolicy Fail: the ignore route does not serve them.
    let answer = client.post("/validate/ignore", &review("uid-ignore", "CREATE", pod("bad", true))).await;
    assert_eq!(answer.json()["response"], json!({"uid": "uid-ignore", "allowed": true}));
    // The plain route serves every policy.
    let answer = client.post("/validate", &review("uid-plain-route", "CREATE", pod("bad", true))).await;
    assert_eq!(answer.json()["response"]["allowed"], false);
}

/// UPDATE (with oldObject), DELETE (object null), CONNECT on a subresource, dry runs and
/// kinds no rule matches all get a review echoing their uid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_gets_a_review() {
    let dir = TempDir::new("operations");
    std::fs::create_dir_all(dir.path().join("policies")).unwrap();
    std::fs::write(dir.path().join("policies/require-app-label.yaml"), REQUIRE_LABEL_POLICY).unwrap();
    let policies = dir.path().join("policies");
    let server = Server::start(&["--policies", policies.to_str().unwrap()], None, dir.path());
    let mut client = server.connect().await;

    let mut unlabelled = pod("nolabel", false);
    unlabelled["metadata"]["labels"] = json!({});

    // UPDATE carries the old object; the new one is checked.
    let mut body: Value = serde_json::from_slice(&review("u1", "UPDATE", unlabelled.clone())).unwrap();
    body["request"]["oldObject"] = pod("nolabel", false);
    let answer = client.post("/validate/fail", &serde_json::to_vec(&body).unwrap()).await;
    let response = &answer.json()["response"];
    assert_eq!((response["uid"].as_str(), response["allowed"].as_bool()), (Some("u1"), Some(false)), "{response}");
    let message = response["status"]["message"].as_str().unwrap();
    assert!(message.contains("require-app-label:\n  check-app: 'validation error: label app is required."), "{message}");

    // A labelled Pod in a dry run: allowed.
    let mut body: Value = serde_json::from_slice(&review("u2", "CREATE", pod("labelled", false))).unwrap();
    body["request"]["dryRun"] = json!(true);
    let answer = client.post("/validate/fail", &serde_json::to_vec(&body).unwrap()).await;
    assert_eq!(answer.json()["response"], json!({"uid": "u2", "allowed": true}));

    // DELETE: object null, oldObject set. Kyverno does not validate deletions by default.
    let answer = client.post("/validate/fail", &review("u3", "DELETE", unlabelled.clone())).await;
    let response = &answer.json()["response"];
    assert_eq!(response["uid"], "u3");
    assert_eq!(response["allowed"], true, "{response}");

    // CONNECT on pods/exec: the API server sends the options object's kind.
    let mut body: Value =
        serde_json::from_slice(&review("u4", "CONNECT", json!({"apiVersion": "v1", "kind": "PodExecOptions", "command": ["sh"]}))).unwrap();
    body["request"]["resource"] = json!({"group": "", "version": "v1", "resource": "pods"});
    body["request"]["subResource"] = json!("exec");
    body["request"]["name"] = json!("web");
    body["request"]["namespace"] = json!("default");
    let answer = client.post("/validate/fail", &serde_json::to_vec(&body).unwrap()).await;
    assert_eq!(answer.json()["response"]["uid"], "u4");
    assert_eq!(answer.json()["response"]["allowed"], true);

    // A kind no rule matches.
    let widget =
        json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "default"}, "spec": {"size": 3}});
    let answer = client.post("/validate/fail", &review("u5", "CREATE", widget)).await;
    assert_eq!(answer.json()["response"], json!({"uid": "u5", "allowed": true}));
}

/// The mutate route answers with a base64 JSON Patch that turns the object into the
/// mutated one, and with neither field when nothing changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutate_answers_with_a_json_patch() {
    let dir = TempDir::new("mutate");
    let certs = TestCerts::generate("kyvm-e2e");
    certs.write(&dir.path().join("tls"));
    std::fs::create_dir_all(dir.path().join("policies")).unwrap();
    std::fs::write(dir.path().join("policies/add-team-label.yaml"), MUTATE_POLICY).unwrap();
    let (cert, key, policies) = (dir.path().join("tls/tls.crt"), dir.path().join("tls/tls.key"), dir.path().join("policies"));
    let server = Server::start(
        &["--policies", policies.to_str().unwrap(), "--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()],
        Some(&certs.ca_pem),
        dir.path(),
    );
    let mut client = server.connect().await;

    let original = pod("web", false);
    let answer = client.post("/mutate/fail", &review("m1", "CREATE", original.clone())).await;
    assert_eq!(answer.status, 200);
    let response = answer.json()["response"].clone();
    assert_eq!(response["uid"], "m1");
    assert_eq!(response["allowed"], true);
    assert_eq!(response["patchType"], "JSONPatch");
    let patch = base64::engine::general_purpose::STANDARD.decode(response["patch"].as_str().expect("patch")).expect("standard base64");
    let patch: Value = serde_json::from_slice(&patch).expect("the patch is JSON");
    assert_eq!(patch, json!([{"op": "add", "path": "/metadata/labels/team", "value": "platform"}]));

    let mut mutated = original;
    mutated["metadata"]["labels"]["team"] = json!("platform");
    let answer = client.post("/mutate/fail", &review("m2", "CREATE", mutated)).await;
    assert_eq!(answer.json()["response"], json!({"uid": "m2", "allowed": true}));

    // Deletions are not mutated.
    let answer = client.post("/mutate/fail", &review("m3", "DELETE", pod("web", false))).await;
    assert_eq!(answer.json()["response"], json!({"uid": "m3", "allowed": true}));
}

/// Health probes answer on both listeners; the metrics count every review sent, with
/// Kyverno's names and labels.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_metrics() {
    let dir = TempDir::new("metrics");
    let server = Server::start(&[], None, dir.path());
    let mut client = server.connect().await;
    assert_eq!(client.get("/health/liveness").await.status, 200);
    let ready = client.get("/health/readiness").await;
    assert_eq!((ready.status.as_u16(), ready.text().trim()), (200, "ready"));

    for i in 0..7 {
        client.post("/validate/fail", &review(&format!("a{i}"), "CREATE", hardened_pod("ok"))).await;
    }
    for i in 0..3 {
        client.post("/validate/fail", &review(&format!("d{i}"), "CREATE", pod("bad", true))).await;
    }
    client.post("/validate/fail", b"not json").await;

    let metrics = client.get("/metrics").await;
    assert_eq!(metrics.status, 200);
    assert!(metrics.content_type.starts_with("application/openmetrics-text"), "{}", metrics.content_type);
    let text = metrics.text();
    let requests = "kyverno_admission_requests_total";
    assert_eq!(metric_value(&text, requests, &[]), 10.0, "{text}");
    assert_eq!(metric_value(&text, requests, &[("request_allowed", "true"), ("resource_kind", "Pod")]), 7.0);
    assert_eq!(
        metric_value(
            &text,
            requests,
            &[("request_allowed", "false"), ("resource_namespace", "default"), ("resource_request_operation", "create")]
        ),
        3.0
    );
    assert_eq!(metric_value(&text, "kyverno_admission_review_duration_seconds_count", &[]), 10.0);
    let results = "kyverno_policy_results_total";
    assert_eq!(
        metric_value(
            &text,
            results,
            &[
                ("policy_name", "pod-security-baseline"),
                ("rule_name", "baseline"),
                ("rule_result", "fail"),
                ("policy_validation_mode", "enforce")
            ]
        ),
        3.0
    );
    assert_eq!(metric_value(&text, results, &[("policy_name", "pod-security-baseline"), ("rule_result", "pass")]), 7.0);
    assert_eq!(metric_value(&text, results, &[("rule_execution_cause", "admission_request"), ("rule_type", "validate")]), 20.0);
    assert_eq!(metric_value(&text, "kyverno_policy_execution_duration_seconds_count", &[("policy_name", "pod-security-restricted")]), 10.0);
    assert_eq!(metric_value(&text, "kyvm_rejected_requests_total", &[("code", "400")]), 1.0);
    assert_eq!(metric_value(&text, "kyvm_policies_loaded", &[]), 2.0);

    // The plain-HTTP metrics listener serves the same registry and the probes.
    let (status, body) = plain_get(&server.metrics_addr, "/metrics").await;
    assert_eq!(status, 200);
    assert_eq!(metric_value(&body, requests, &[]), 10.0);
    assert_eq!(plain_get(&server.metrics_addr, "/health/readiness").await.0, 200);
}

/// A GET over plain HTTP/1.1.
async fn plain_get(addr: &str, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes()).await.expect("write");
    let mut out = String::new();
    tcp.read_to_string(&mut out).await.expect("read");
    let status = out.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}
