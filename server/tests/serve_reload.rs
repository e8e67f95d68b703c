//! Reloads of the real `kyvm serve` under traffic: the policy folder swapped through a
//! symlink, a broken policy file, and a certificate rotated the way the kubelet updates
//! a mounted Secret (a `..data` symlink swapped). No request may fail.

mod support;

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::{metric_value, review, swap_symlink, Client, Server, TempDir, TestCerts};

/// Requires a label on Pods (Enforce).
fn require_label(label: &str) -> String {
    format!(
        r#"apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: require-label
spec:
  validationFailureAction: Enforce
  rules:
  - name: check-{label}
    match:
      any:
      - resources:
          kinds: [Pod]
    validate:
      message: "label {label} is required"
      pattern:
        metadata:
          labels:
            {label}: "?*"
"#
    )
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A Pod labelled `app` only.
fn app_pod() -> serde_json::Value {
    support::pod("web", false)
}

/// Sends reviews of `app_pod` in a loop on one keep-alive connection until `stop`;
/// counts answers and failures and records whether any was a denial.
struct Traffic {
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicUsize>,
    denied: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<Vec<String>>,
}

impl Traffic {
    fn start(server: &Server) -> Traffic {
        let (stop, sent, denied) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (addr, ca) = (server.addr.clone(), server.ca_pem.clone());
        let task = {
            let (stop, sent, denied) = (stop.clone(), sent.clone(), denied.clone());
            tokio::spawn(async move {
                let mut failures = Vec::new();
                let mut client = Client::connect(&addr, &ca).await.expect("connect");
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    i += 1;
                    let uid = format!("t{i}");
                    match client.request("POST", "/validate/fail", Some("application/json"), review(&uid, "CREATE", app_pod())).await {
                        Ok(a) if a.status == 200 && a.json()["response"]["uid"] == uid.as_str() => {
                            if a.json()["response"]["allowed"] == false {
                                denied.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                        Ok(a) => failures.push(format!("{uid}: {} {}", a.status, a.text())),
                        Err(e) => failures.push(format!("{uid}: {e}")),
                    }
                    sent.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                failures
            })
        };
        Traffic { stop, sent, denied, task }
    }

    /// Waits until `cond` holds of the denial count, up to `timeout`.
    async fn wait_denied(&self, cond: impl Fn(usize) -> bool, timeout: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if cond(self.denied.load(Ordering::SeqCst)) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }

    async fn finish(self) -> (usize, Vec<String>) {
        self.stop.store(true, Ordering::SeqCst);
        let failures = self.task.await.expect("traffic task");
        (self.sent.load(Ordering::SeqCst), failures)
    }
}

/// `--policies DIR/current`, a symlink to `v1/` (requires `app`); swapping it to `v2/`
/// (requires `team`) changes the verdict for an `app`-only Pod while a client keeps
/// sending, and no request fails. Then a broken file in the new folder is refused and the
/// last good set keeps serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_folder_swapped_under_traffic() {
    let dir = TempDir::new("reload");
    let root = dir.path();
    write(&root.join("v1/policy.yaml"), &require_label("app"));
    write(&root.join("v2/policy.yaml"), &require_label("team"));
    std::os::unix::fs::symlink(root.join("v1"), root.join("current")).unwrap();
    let current = root.join("current");
    let server = Server::start(&["--policies", current.to_str().unwrap()], None, root);

    let traffic = Traffic::start(&server);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(traffic.denied.load(Ordering::SeqCst), 0, "v1 allows a Pod labelled app");
    swap_symlink(&current, &root.join("v2"));
    assert!(traffic.wait_denied(|d| d > 0, Duration::from_secs(20)).await, "the swapped policy set must take effect:\n{}", server.log());
    let (sent, failures) = traffic.finish().await;
    assert!(failures.is_empty(), "{} of {sent} requests failed: {failures:?}", failures.len());
    assert!(sent > 50, "traffic ran ({sent} requests)");

    // A broken file: refused, counted, the v2 set keeps serving.
    write(
        &root.join("v2/broken.yaml"),
        "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: broken}\nspec:\n  rules: [oops\n",
    );
    assert!(server.wait_for_log("do not compile", Duration::from_secs(20)), "{}", server.log());
    let mut client = server.connect().await;
    let answer = client.post("/validate/fail", &review("after-broken", "CREATE", app_pod())).await;
    assert_eq!(answer.json()["response"]["allowed"], false, "the last good set (v2) still serves");
    let metrics = client.get("/metrics").await.text();
    assert_eq!(metric_value(&metrics, "kyvm_policy_reload_failures_total", &[]), 1.0, "{metrics}");
    assert_eq!(metric_value(&metrics, "kyvm_policy_reloads_total", &[]), 1.0, "{metrics}");

    // Fixed: the set reloads again (and the fixed file adds nothing that blocks).
    std::fs::remove_file(root.join("v2/broken.yaml")).unwrap();
    write(&root.join("v2/policy.yaml"), &require_label("app"));
    let start = Instant::now();
    loop {
        let answer = client.post("/validate/fail", &review("fixed", "CREATE", app_pod())).await;
        if answer.json()["response"]["allowed"] == true {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "the fixed set must load:\n{}", server.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The certificate files are symlinks through `..data`, as in a mounted Secret; swapping
/// `..data` to a new certificate makes new connections get it, while the connection
/// opened before keeps working.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_rotated_through_a_symlink_swap() {
    let dir = TempDir::new("rotate");
    let tls = dir.path().join("tls");
    let (old, new) = (TestCerts::generate("kyvm-old"), TestCerts::generate("kyvm-new"));
    old.write(&tls.join("..2026_11_22_old"));
    new.write(&tls.join("..2026_11_22_new"));
    std::os::unix::fs::symlink("..2026_11_22_old", tls.join("..data")).unwrap();
    std::os::unix::fs::symlink("..data/tls.crt", tls.join("tls.crt")).unwrap();
    std::os::unix::fs::symlink("..data/tls.key", tls.join("tls.key")).unwrap();
    let (cert, key) = (tls.join("tls.crt"), tls.join("tls.key"));
    let server = Server::start(&["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()], Some(&old.ca_pem), dir.path());

    let mut before = Client::connect(&server.addr, &old.ca_pem).await.expect("old certificate");
    assert_eq!(before.get("/health/readiness").await.status, 200);
    assert!(Client::connect(&server.addr, &new.ca_pem).await.is_err(), "the new CA does not verify the old certificate");

    swap_symlink(&tls.join("..data"), Path::new("..2026_11_22_new"));
    let start = Instant::now();
    let mut after = loop {
        if let Ok(client) = Client::connect(&server.addr, &new.ca_pem).await {
            break client;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "new connections must get the new certificate:\n{}", server.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_ne!(after.peer_certificate, before.peer_certificate);
    assert_eq!(after.get("/health/readiness").await.status, 200);
    assert_eq!(before.get("/health/readiness").await.status, 200, "the connection made before the rotation keeps working");
    assert!(Client::connect(&server.addr, &old.ca_pem).await.is_err(), "new connections no longer get the old certificate");
    let metrics = after.get("/metrics").await.text();
    assert_eq!(metric_value(&metrics, "kyvm_certificate_reloads_total", &[]), 1.0, "{metrics}");

    // A half-written rotation (key of another certificate) is refused; the current
    // certificate keeps serving.
    std::fs::write(tls.join("..2026_11_22_new/tls.key"), TestCerts::generate("other").key_pem).unwrap();
    assert!(server.wait_for_log("cannot be loaded", Duration::from_secs(20)), "{}", server.log());
    assert!(Client::connect(&server.addr, &new.ca_pem).await.is_ok());
}
