//! End-to-end test support: the real `kyvm serve` binary as a child process on
//! loopback, certificates made with rcgen, and a small HTTPS client (hyper over rustls)
//! that trusts only the test's CA.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::StatusCode;
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// A scratch folder removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("kyvm-e2e-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A CA and a serving certificate it signed for localhost, as PEM.
pub struct TestCerts {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
}

impl TestCerts {
    pub fn generate(common_name: &str) -> TestCerts {
        use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca.distinguished_name.push(DnType::CommonName, format!("{common_name} CA"));
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().expect("CA key")).expect("CA certificate");
        let mut leaf = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).expect("leaf params");
        leaf.distinguished_name.push(DnType::CommonName, common_name);
        let key = KeyPair::generate().expect("leaf key");
        let cert = leaf.signed_by(&key, &ca).expect("leaf certificate");
        TestCerts { ca_pem: ca.pem(), cert_pem: cert.pem(), key_pem: key.serialize_pem() }
    }

    /// Writes `tls.crt` and `tls.key` into `dir`.
    pub fn write(&self, dir: &Path) {
        std::fs::create_dir_all(dir).expect("cert dir");
        std::fs::write(dir.join("tls.crt"), &self.cert_pem).expect("write cert");
        std::fs::write(dir.join("tls.key"), &self.key_pem).expect("write key");
    }
}

/// A running `kyvm serve`.
pub struct Server {
    child: Child,
    pub addr: String,
    pub metrics_addr: String,
    pub ca_pem: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts `kyvm serve` on loopback ports chosen by the kernel with `args` added, and
    /// waits for its ready line. `ca_pem` is what clients trust (None: read the
    /// generated CA from `--generated-ca`).
    pub fn start(args: &[&str], ca_pem: Option<&str>, dir: &Path) -> Server {
        let generated_ca = dir.join("generated-ca.pem");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kyvm"));
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0", "--log-level", "debug"]);
        cmd.arg("--generated-ca").arg(&generated_ca);
        cmd.args(args);
        cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start kyvm serve");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    if line.contains("kyvm serve ready") {
                        let _ = tx.send(line.clone());
                    }
                    log.lock().expect("log").push(line);
                }
            });
        }
        let ready = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                panic!("kyvm serve did not become ready:\n{}", log.lock().expect("log").join("\n"));
            }
        };
        let field = |name: &str| -> String {
            let v: serde_json::Value = serde_json::from_str(&ready).expect("JSON log line");
            v[name].as_str().unwrap_or_else(|| panic!("no {name} in {ready}")).to_string()
        };
        let ca_pem = match ca_pem {
            Some(p) => p.to_string(),
            None => std::fs::read_to_string(&generated_ca).expect("generated CA"),
        };
        Server { addr: field("listen"), metrics_addr: field("metrics"), ca_pem, child, log }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn log(&self) -> String {
        self.log.lock().expect("log").join("\n")
    }

    /// Waits until a log line contains `needle`.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if self.log.lock().expect("log").iter().any(|l| l.contains(needle)) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    pub fn count_log(&self, needle: &str) -> usize {
        self.log.lock().expect("log").iter().filter(|l| l.contains(needle)).count()
    }

    pub fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on our own child's pid.
        let rc = unsafe { libc::kill(self.pid(), signal) };
        assert_eq!(rc, 0, "kill failed");
    }

    /// Waits for the process to exit; returns its exit code.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    pub async fn connect(&self) -> Client {
        Client::connect(&self.addr, &self.ca_pem).await.expect("connect")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// TLS client configuration trusting only `ca_pem`.
pub fn tls_connector(ca_pem: &str) -> TlsConnector {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.expect("CA PEM")).expect("add CA");
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("protocols")
        .with_root_certificates(roots)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

/// One HTTP/1.1 keep-alive connection over TLS.
pub struct Client {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    /// The server's certificate as presented on this connection (DER).
    pub peer_certificate: Vec<u8>,
}

/// A response: status, content type, body.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Bytes,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl Client {
    pub async fn connect(addr: &str, ca_pem: &str) -> std::io::Result<Client> {
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        let tls = tls_connector(ca_pem).connect(ServerName::try_from("localhost").expect("name"), tcp).await?;
        let peer_certificate = tls.get_ref().1.peer_certificates().and_then(|c| c.first()).map(|c| c.to_vec()).unwrap_or_default();
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await.map_err(std::io::Error::other)?;
        tokio::spawn(connection);
        Ok(Client { sender, peer_certificate })
    }

    pub async fn request(&mut self, method: &str, path: &str, content_type: Option<&str>, body: Vec<u8>) -> Result<Answer, hyper::Error> {
        let mut req = hyper::Request::builder().method(method).uri(path).header("host", "localhost");
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let req = req.body(Full::new(Bytes::from(body))).expect("request");
        self.sender.ready().await?;
        let res = self.sender.send_request(req).await?;
        let status = res.status();
        let content_type = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let body = res.into_body().collect().await?.to_bytes();
        Ok(Answer { status, content_type, body })
    }

    /// POSTs a JSON body.
    pub async fn post(&mut self, path: &str, body: &[u8]) -> Answer {
        self.request("POST", path, Some("application/json"), body.to_vec()).await.expect("request failed")
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        self.request("GET", path, None, Vec::new()).await.expect("request failed")
    }
}

/// An AdmissionReview for `object` (its kind, name and namespace from the object).
pub fn review(uid: &str, operation: &str, object: serde_json::Value) -> Vec<u8> {
    let kind = object["kind"].as_str().unwrap_or("Pod").to_string();
    let api_version = object["apiVersion"].as_str().unwrap_or("v1").to_string();
    let (group, version) =
        api_version.rsplit_once('/').map(|(g, v)| (g.to_string(), v.to_string())).unwrap_or((String::new(), api_version));
    let name = object["metadata"]["name"].as_str().unwrap_or("").to_string();
    let namespace = object["metadata"]["namespace"].as_str().unwrap_or("").to_string();
    let (object, old_object) = if operation == "DELETE" { (serde_json::Value::Null, object) } else { (object, serde_json::Value::Null) };
    serde_json::to_vec(&serde_json::json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": group, "version": version, "kind": kind},
            "resource": {"group": group, "version": version, "resource": format!("{}s", kind.to_lowercase())},
            "name": name,
            "namespace": namespace,
            "operation": operation,
            "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
            "object": object,
            "oldObject": old_object,
            "dryRun": false
        }
    }))
    .expect("review JSON")
}

/// A Pod with one container; `privileged` sets its securityContext.privileged.
pub fn pod(name: &str, privileged: bool) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": name}},
        "spec": {"containers": [{"name": "app", "image": "nginx:1.27", "securityContext": {"privileged": privileged}}]}
    })
}

/// A Pod that passes the restricted Pod Security profile.
pub fn hardened_pod(name: &str) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "app",
                "image": "nginx:1.27",
                "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}
            }]
        }
    })
}

/// Reads a counter or histogram count from Prometheus text: the sum over the lines of
/// `metric` whose labels contain every `label="value"` given.
pub fn metric_value(text: &str, metric: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(metric) && l[metric.len()..].starts_with(['{', ' ']))
        .filter(|l| labels.iter().all(|(k, v)| l.contains(&format!("{k}=\"{v}\""))))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Replaces `link` by a symlink to `target` atomically (a new link renamed over the old),
/// as the kubelet swaps a mounted volume's `..data`.
pub fn swap_symlink(link: &Path, target: &Path) {
    let name = link.file_name().expect("link name").to_string_lossy();
    let tmp = link.with_file_name(format!("{name}_tmp"));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp).expect("symlink");
    std::fs::rename(&tmp, link).expect("rename symlink");
}

/// A raw TLS stream to the server, for requests written by hand (slow clients, odd
/// bytes).
pub async fn raw_tls(addr: &str, ca_pem: &str) -> tokio_rustls::client::TlsStream<TcpStream> {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    tls_connector(ca_pem).connect(ServerName::try_from("localhost").expect("name"), tcp).await.expect("TLS handshake")
}

/// Reads one HTTP/1.1 response (headers and a Content-Length body) from `stream`;
/// returns the status code and the body text.
pub async fn read_response(stream: &mut (impl tokio::io::AsyncRead + Unpin)) -> std::io::Result<(u16, String)> {
    use tokio::io::AsyncReadExt;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
            let length = head
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap_or(0)))
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                return Ok((status, String::from_utf8_lossy(&buf[end + 4..end + 4 + length]).to_string()));
            }
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed before a whole response"));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}
