//! `webhook_load`: `kyvm serve` under load, against a trivial server on the same stack
//! (the *floor*), over HTTP/1.1 keep-alive and TLS on loopback.
//!
//! One binary, three roles, chosen by the `KYVM_LOAD_ROLE` environment variable:
//!
//! - unset: the load generator. It starts the two servers by re-executing itself, so that
//!   each server is a process of its own (its own RSS, allocator and tokio runtime, and
//!   none of the generator's work counted in it), then drives them from a tokio runtime
//!   with a single worker thread, leaving the other core of a 2-core machine to the
//!   server under test.
//! - `kyvm`: `kyvm serve` with the arguments given, exactly as the `kyvm` binary runs it.
//! - `floor`: axum + hyper-util's auto builder + tokio-rustls (ring) with an rcgen
//!   certificate, answering every POST with a constant allowed review without looking at
//!   it: what the stack costs before any policy work.
//!
//! For each number of concurrent connections (1, 10, 50) and each server: a warm-up,
//! then a closed loop for a fixed time, each connection sending data/pod-review.json to
//! `/validate/fail` and waiting for the answer. Every answer must be a 200; anything else
//! is counted, printed and makes the run exit non-zero. Then kyvm's RSS, optionally over
//! a million requests (`--million`), and kyvm's RSS with every classic policy folder of
//! the conformance data loaded.
//!
//! ```sh
//! cargo bench -p kyvm-benches --bench webhook_load                 # 10 s per point
//! cargo bench -p kyvm-benches --bench webhook_load -- --quick      # 3 s per point
//! cargo bench -p kyvm-benches --bench webhook_load -- --million    # + RSS flatness
//! ```
//!
//! Options: `--quick` (1 s warm-up, 3 s measured), `--duration S`, `--warmup S`,
//! `--connections 1,10,50`, `--runs N` (each point N times, medians reported),
//! `--million` (the RSS flatness step: 1,000,000 requests at 10 connections) or
//! `--requests N` (the same step with N requests). Other arguments (cargo's `--bench`, a
//! filter) are ignored. Without `--bench`, as under `cargo test`, nothing runs.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderValue, CONTENT_TYPE, HOST};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use kyvm_benches::{classic_policy_folders, mib, thousands, Memory};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// The environment variable that makes the re-executed binary a server.
const ROLE_VAR: &str = "KYVM_LOAD_ROLE";
/// The admission route every request goes to.
const ROUTE: &str = "/validate/fail";
/// The review sent: a 3.4 KB Pod CREATE.
const PAYLOAD: &[u8] = include_bytes!("../data/pod-review.json");
/// What the floor answers, whatever it is sent.
const FLOOR_ANSWER: &str = r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"00000000-0000-0000-0000-000000000000","allowed":true}}"#;
/// The floor's ready line, in the shape of kyvm's (a JSON object with a `listen` field).
const FLOOR_READY: &str = "floor ready";
const KYVM_READY: &str = "kyvm serve ready";
/// kyvm's log filter: its start-up lines (the ready line, the compiled set) at info, but
/// not the info line it logs for every denied review, whose cost is not what this
/// benchmark measures; warnings (policy diagnostics) and errors everywhere.
const KYVM_LOG_FILTER: &str = "warn,kyvm::serve=info,kyvm::serve::admission=warn";
/// Time a server has to compile its policies and bind.
const READY_TIMEOUT: Duration = Duration::from_secs(180);
/// Connections of the RSS flatness step and of the all-classic-policies point.
const RSS_CONNECTIONS: usize = 10;
/// Generous request rate used to size the latency buffers up front, so that the load
/// loop does not reallocate them while it is being timed.
const PREALLOCATED_RATE: f64 = 60_000.0;
/// Clock ticks per second of /proc/<pid>/stat: USER_HZ, 100 on every Linux ABI.
const USER_HZ: f64 = 100.0;

fn main() -> ExitCode {
    match std::env::var_os(ROLE_VAR) {
        Some(role) if role == "kyvm" => return kyvm_role(),
        Some(role) if role == "floor" => return floor_role(),
        Some(role) => {
            eprintln!("webhook_load: unknown {ROLE_VAR}={}", role.to_string_lossy());
            return ExitCode::from(2);
        }
        None => {}
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo bench` passes `--bench`; `cargo test` (which runs benches without it) must
    // not start a minute-long load test.
    if !args.iter().any(|a| a == "--bench") {
        println!("webhook_load: a load test, run by `cargo bench -p kyvm-benches --bench webhook_load`; nothing to do without --bench");
        return ExitCode::SUCCESS;
    }
    let options = match Options::parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("webhook_load: {e}");
            return ExitCode::from(2);
        }
    };
    match load_test(&options) {
        Ok(report) => report.finish(),
        Err(e) => {
            eprintln!("\nwebhook_load: ERROR: {e}");
            ExitCode::FAILURE
        }
    }
}

// ---------------------------------------------------------------------------------------
// The server roles (child processes)
// ---------------------------------------------------------------------------------------

/// Exits the process when the parent closes our stdin, which it holds open for our whole
/// life: if the load generator dies (even by SIGKILL) the server does not linger holding
/// a core and a port.
fn exit_with_parent() {
    std::thread::spawn(|| {
        let mut stdin = std::io::stdin();
        let mut sink = [0u8; 64];
        loop {
            match stdin.read(&mut sink) {
                Ok(0) | Err(_) => std::process::exit(0),
                Ok(_) => {}
            }
        }
    });
}

/// `kyvm serve` with our arguments, as server/src/main.rs runs it.
fn kyvm_role() -> ExitCode {
    use clap::Parser;
    exit_with_parent();
    let argv = std::iter::once(OsString::from("kyvm")).chain(std::env::args_os().skip(1));
    let cli = match kyvm::cli::Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => {
            eprintln!("webhook_load (kyvm role): {e}");
            return ExitCode::from(2);
        }
    };
    let code = kyvm::commands::run(cli);
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// The floor server; its one argument is where to write its CA certificate (PEM).
fn floor_role() -> ExitCode {
    exit_with_parent();
    let Some(ca_out) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("webhook_load (floor role): expected the path to write the CA to");
        return ExitCode::from(2);
    };
    // The same runtime as kyvm's: multi-threaded, one worker per CPU.
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().thread_name("floor-worker").build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("webhook_load (floor role): cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(floor::serve(&ca_out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("webhook_load (floor role): {e}");
            ExitCode::FAILURE
        }
    }
}

/// The trivial server: kyvm's connection stack (server/src/serve/http.rs and tls.rs)
/// without the admission work.
mod floor {
    use std::path::Path;
    use std::sync::Arc;
    use std::time::Duration;

    use axum::body::Bytes;
    use axum::http::header::CONTENT_TYPE;
    use axum::response::IntoResponse;
    use axum::routing::post;
    use axum::Router;
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto;
    use hyper_util::service::TowerToHyperService;
    use rustls::crypto::ring as provider;
    use rustls::ServerConfig;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    use tokio::net::TcpListener;
    use tokio_rustls::TlsAcceptor;

    use super::{FLOOR_ANSWER, FLOOR_READY, ROUTE};

    /// kyvm's `--header-timeout` default, armed per request as kyvm does.
    const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

    pub async fn serve(ca_out: &Path) -> Result<(), String> {
        let (chain, key, ca_pem) = self_signed()?;
        std::fs::write(ca_out, ca_pem).map_err(|e| format!("cannot write the CA to {}: {e}", ca_out.display()))?;
        let mut config = ServerConfig::builder_with_provider(Arc::new(provider::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS setup: {e}"))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| format!("TLS certificate: {e}"))?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let acceptor = TlsAcceptor::from(Arc::new(config));

        let listener = TcpListener::bind("127.0.0.1:0").await.map_err(|e| format!("cannot listen: {e}"))?;
        let addr = listener.local_addr().map_err(|e| format!("no local address: {e}"))?;
        eprintln!("{}", serde_json::json!({ "message": FLOOR_READY, "listen": addr.to_string() }));

        let app = Router::new().route(ROUTE, post(answer));
        loop {
            let tcp = match listener.accept().await {
                Ok((tcp, _)) => tcp,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let _ = tcp.set_nodelay(true);
            let (acceptor, app) = (acceptor.clone(), app.clone());
            tokio::spawn(async move {
                let Ok(Ok(stream)) = tokio::time::timeout(HEADER_TIMEOUT, acceptor.accept(tcp)).await else { return };
                let mut builder = auto::Builder::new(TokioExecutor::new());
                builder.http1().timer(TokioTimer::new()).header_read_timeout(HEADER_TIMEOUT).keep_alive(true);
                let _ = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app)).await;
            });
        }
    }

    /// Reads the whole body (the `Bytes` extractor) and ignores it.
    async fn answer(_body: Bytes) -> impl IntoResponse {
        ([(CONTENT_TYPE, "application/json")], FLOOR_ANSWER)
    }

    /// A CA (ECDSA P-256) and a `localhost` certificate it signed, as kyvm generates them;
    /// returns the chain, the key and the CA's PEM.
    fn self_signed() -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>, String), String> {
        use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};
        let err = |e: rcgen::Error| format!("generating a certificate: {e}");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
        ca_params.distinguished_name.push(DnType::CommonName, "webhook_load floor CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().map_err(err)?).map_err(err)?;
        let mut leaf = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).map_err(err)?;
        leaf.distinguished_name.push(DnType::CommonName, "webhook_load floor");
        let leaf_key = KeyPair::generate().map_err(err)?;
        let leaf_cert = leaf.signed_by(&leaf_key, &ca).map_err(err)?;
        let key = PrivateKeyDer::try_from(leaf_key.serialize_der()).map_err(|e| format!("generated key: {e}"))?;
        Ok((vec![leaf_cert.der().clone(), ca.der().clone()], key, ca.pem()))
    }
}

// ---------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct Options {
    warmup: Duration,
    measure: Duration,
    connections: Vec<usize>,
    runs: usize,
    /// Requests of the RSS flatness step; `None`: the step is skipped.
    flatness_requests: Option<u64>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options, String> {
        let mut options = Options {
            warmup: Duration::from_secs(2),
            measure: Duration::from_secs(10),
            connections: vec![1, 10, 50],
            runs: 1,
            flatness_requests: None,
        };
        let (mut warmup, mut measure) = (None, None);
        let mut quick = false;
        let mut rest = args.iter();
        while let Some(arg) = rest.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((name, value)) if name.starts_with("--") => (name, Some(value.to_string())),
                _ => (arg.as_str(), None),
            };
            let mut value = || inline.clone().or_else(|| rest.next().cloned()).ok_or_else(|| format!("{name} needs a value"));
            match name {
                "--quick" => quick = true,
                "--million" => options.flatness_requests = Some(1_000_000),
                "--requests" => options.flatness_requests = Some(parse_positive(name, &value()?)?),
                "--duration" => measure = Some(parse_seconds(name, &value()?)?),
                "--warmup" => warmup = Some(parse_seconds(name, &value()?)?),
                "--runs" => options.runs = parse_positive(name, &value()?)? as usize,
                "--connections" => {
                    options.connections =
                        value()?.split(',').map(|c| parse_positive(name, c.trim()).map(|n| n as usize)).collect::<Result<_, _>>()?
                }
                // cargo's `--bench`, a name filter, options meant for other harnesses.
                _ => {}
            }
        }
        if quick {
            options.warmup = Duration::from_secs(1);
            options.measure = Duration::from_secs(3);
        }
        options.warmup = warmup.unwrap_or(options.warmup);
        options.measure = measure.unwrap_or(options.measure);
        Ok(options)
    }
}

fn parse_positive(name: &str, text: &str) -> Result<u64, String> {
    let cleaned: String = text.chars().filter(|c| *c != '_' && *c != ',').collect();
    match cleaned.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{name}: expected a positive whole number, got {text:?}")),
    }
}

fn parse_seconds(name: &str, text: &str) -> Result<Duration, String> {
    match text.trim_end_matches('s').parse::<f64>() {
        Ok(s) if s.is_finite() && s >= 0.0 => Ok(Duration::from_secs_f64(s)),
        _ => Err(format!("{name}: expected seconds, got {text:?}")),
    }
}

// ---------------------------------------------------------------------------------------
// Server processes
// ---------------------------------------------------------------------------------------

/// A server started from this binary, killed on drop.
struct ServerProcess {
    label: String,
    child: Child,
    /// Held open: the child exits when it reads end-of-file (see [`exit_with_parent`]).
    _stdin: Option<ChildStdin>,
    addr: String,
    ca_pem: String,
    log: Arc<Mutex<Vec<String>>>,
}

/// Why a server did not start, with what it logged.
struct StartFailure {
    message: String,
    log: Vec<String>,
}

/// Lines of a child's stderr kept in memory (the rest are read and dropped).
const LOG_KEEP: usize = 2000;

impl ServerProcess {
    /// Re-executes this binary in `role` with `args`, waits for its ready line (which
    /// contains `ready_marker`) and reads the CA it wrote to `ca_path`.
    fn start(
        label: &str,
        role: &str,
        args: &[OsString],
        ready_marker: &'static str,
        ca_path: &Path,
    ) -> Result<ServerProcess, StartFailure> {
        let fail = |message: String| StartFailure { message, log: Vec::new() };
        let exe = std::env::current_exe().map_err(|e| fail(format!("cannot find the bench binary: {e}")))?;
        let mut cmd = Command::new(exe);
        // kyvm reads KYVM_* variables as defaults of its flags: keep the caller's
        // environment from changing what is measured.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("KYVM_") {
                cmd.env_remove(name);
            }
        }
        cmd.env(ROLE_VAR, role).args(args).stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| fail(format!("cannot start the {label} process: {e}")))?;
        let stdin = child.stdin.take();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (ready_tx, ready_rx) = mpsc::channel();
        if let Some(stderr) = child.stderr.take() {
            let log = log.clone();
            std::thread::spawn(move || drain_log(stderr, &log, ready_marker, ready_tx));
        }
        let mut process = ServerProcess { label: label.to_string(), child, _stdin: stdin, addr: String::new(), ca_pem: String::new(), log };
        let ready = match ready_rx.recv_timeout(READY_TIMEOUT) {
            Ok(line) => line,
            Err(RecvTimeoutError::Disconnected) => {
                // Its stderr closed before the ready line: it exited.
                let status = process.child.wait().map(|s| s.to_string()).unwrap_or_else(|e| e.to_string());
                return Err(StartFailure {
                    message: format!("the {label} process exited before it was ready ({status})"),
                    log: process.log_lines(),
                });
            }
            Err(RecvTimeoutError::Timeout) => {
                return Err(StartFailure {
                    message: format!("the {label} process was not ready within {} s", READY_TIMEOUT.as_secs()),
                    log: process.log_lines(),
                })
            }
        };
        process.addr = json_field(&ready, "listen").ok_or_else(|| StartFailure {
            message: format!("no `listen` address in the ready line of {label}: {ready}"),
            log: Vec::new(),
        })?;
        process.ca_pem = std::fs::read_to_string(ca_path).map_err(|e| StartFailure {
            message: format!("cannot read the CA {label} wrote to {}: {e}", ca_path.display()),
            log: Vec::new(),
        })?;
        Ok(process)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn log_lines(&self) -> Vec<String> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn memory(&self) -> Result<Memory, String> {
        Memory::of(self.pid()).map_err(|e| format!("{}: {e}", self.label))
    }

    fn cpu(&self) -> Option<Duration> {
        cpu_time(&format!("/proc/{}/stat", self.pid()))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // Our own child, by its handle.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads a child's stderr to its end, so that the child never blocks on a full pipe;
/// sends the first line containing `marker` to `ready`.
fn drain_log(stderr: impl Read, log: &Mutex<Vec<String>>, marker: &str, ready: mpsc::Sender<String>) {
    let mut ready = Some(ready);
    for line in BufReader::new(stderr).lines() {
        let Ok(line) = line else { break };
        if line.contains(marker) {
            if let Some(tx) = ready.take() {
                let _ = tx.send(line.clone());
            }
        }
        let mut log = log.lock().unwrap_or_else(PoisonError::into_inner);
        if log.len() < LOG_KEEP {
            log.push(line);
        }
    }
}

/// A string or number field of a JSON log line.
fn json_field(line: &str, name: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(line.trim()).ok()?;
    match &value[name] {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The error messages kyvm logged (its JSON lines at level ERROR), one per line: for a
/// policy set that does not compile, the summary then each diagnostic.
fn logged_errors(log: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for line in log {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        if value["level"].as_str() != Some("ERROR") {
            continue;
        }
        let text = value["error"].as_str().or(value["diagnostic"].as_str()).or(value["message"].as_str()).unwrap_or(line);
        out.extend(text.lines().filter(|l| !l.trim().is_empty()).map(str::to_string));
    }
    out
}

/// What kyvm said about its compiled set: "N policies, M rules, K compile warnings".
fn describe_policy_set(log: &[String]) -> String {
    let compiled = log.iter().find(|l| l.contains("policy set compiled"));
    let field = |name| compiled.and_then(|l| json_field(l, name)).unwrap_or_else(|| "?".into());
    let warnings = log.iter().filter(|l| l.contains("policy diagnostic")).count();
    format!("{} policies, {} rules, {warnings} compile warnings", field("policies"), field("rules"))
}

/// A scratch folder for the generated CAs, removed on drop.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new() -> Result<ScratchDir, String> {
        let dir = std::env::temp_dir().join(format!("kyvm-webhook-load-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        Ok(ScratchDir(dir))
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn start_kyvm(label: &str, policy_dirs: &[PathBuf], scratch: &ScratchDir) -> Result<ServerProcess, StartFailure> {
    let ca = scratch.0.join(format!("{label}-ca.pem"));
    let mut args: Vec<OsString> = ["serve", "--listen", "127.0.0.1:0", "--metrics-listen", "off", "--log-level", KYVM_LOG_FILTER]
        .iter()
        .map(OsString::from)
        .collect();
    args.extend([OsString::from("--generated-ca"), ca.clone().into_os_string()]);
    for dir in policy_dirs {
        args.extend([OsString::from("--policies"), dir.clone().into_os_string()]);
    }
    ServerProcess::start(label, "kyvm", &args, KYVM_READY, &ca)
}

fn start_floor(scratch: &ScratchDir) -> Result<ServerProcess, StartFailure> {
    let ca = scratch.0.join("floor-ca.pem");
    ServerProcess::start("floor", "floor", &[ca.clone().into_os_string()], FLOOR_READY, &ca)
}

// ---------------------------------------------------------------------------------------
// /proc
// ---------------------------------------------------------------------------------------

/// User + system CPU time of a process (every thread), from a `stat` file.
fn cpu_time(stat_path: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(stat_path).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count fields
    // from the last `)`. Field 3 (state) is then index 0; utime (14) index 11, stime 12.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_secs_f64(ticks as f64 / USER_HZ))
}

fn self_cpu() -> Option<Duration> {
    cpu_time("/proc/self/stat")
}

// ---------------------------------------------------------------------------------------
// The load generator
// ---------------------------------------------------------------------------------------

/// Where requests go and how.
struct Target {
    addr: String,
    connector: TlsConnector,
    server_name: ServerName<'static>,
    body: Bytes,
}

impl Target {
    fn new(server: &ServerProcess) -> Result<Target, String> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(server.ca_pem.as_bytes()) {
            let cert = cert.map_err(|e| format!("the CA of {}: {e}", server.label))?;
            roots.add(cert).map_err(|e| format!("the CA of {}: {e}", server.label))?;
        }
        let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS client setup: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        // HTTP/1.1 only: one request at a time per connection, as the API server's
        // HTTP/1.1 webhook client does.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let server_name = ServerName::try_from("localhost").map_err(|e| format!("server name: {e}"))?;
        Ok(Target {
            addr: server.addr.clone(),
            connector: TlsConnector::from(Arc::new(config)),
            server_name,
            body: Bytes::from_static(PAYLOAD),
        })
    }

    /// A keep-alive HTTP/1.1 connection over TLS.
    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, String> {
        let tcp = TcpStream::connect(&self.addr).await.map_err(|e| format!("connect to {}: {e}", self.addr))?;
        // As the server does: no Nagle delay between a request's TLS records.
        tcp.set_nodelay(true).map_err(|e| format!("TCP_NODELAY: {e}"))?;
        let tls = self.connector.connect(self.server_name.clone(), tcp).await.map_err(|e| format!("TLS handshake: {e}"))?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(tls)).await.map_err(|e| format!("HTTP handshake: {}", error_chain(&e)))?;
        // Its errors reach the sender as failed requests.
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(sender)
    }

    /// The review request (infallible: every part is a constant).
    fn request(&self) -> Request<Full<Bytes>> {
        let mut request = Request::new(Full::new(self.body.clone()));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = Uri::from_static(ROUTE);
        request.headers_mut().insert(HOST, HeaderValue::from_static("localhost"));
        request.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        request
    }
}

/// One request and its whole answer.
async fn exchange(sender: &mut SendRequest<Full<Bytes>>, request: Request<Full<Bytes>>) -> Result<(StatusCode, Bytes), hyper::Error> {
    sender.ready().await?;
    let response = sender.send_request(request).await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, body))
}

/// Requests that did not get a 200.
#[derive(Debug, Default)]
struct Failures {
    /// Connection, TLS or HTTP errors.
    errors: u64,
    /// Answers other than 200.
    bad_status: u64,
    first: Option<String>,
}

impl Failures {
    fn error(&mut self, what: impl std::fmt::Display) {
        self.errors += 1;
        self.first.get_or_insert_with(|| what.to_string());
    }

    fn status(&mut self, status: StatusCode, body: &[u8]) {
        self.bad_status += 1;
        self.first.get_or_insert_with(|| format!("HTTP {status}: {}", String::from_utf8_lossy(&body[..body.len().min(300)])));
    }

    fn merge(&mut self, other: Failures) {
        self.errors += other.errors;
        self.bad_status += other.bad_status;
        if self.first.is_none() {
            self.first = other.first;
        }
    }

    fn total(&self) -> u64 {
        self.errors + self.bad_status
    }
}

/// One connection's closed loop: its connection, its latencies (µs), its failures.
struct Worker {
    sender: Option<SendRequest<Full<Bytes>>>,
    latencies: Vec<u32>,
    failures: Failures,
}

/// When a phase of the closed loop ends.
enum Stop {
    At(Instant),
    /// After this many requests, shared by the workers.
    Budget(AtomicU64),
}

impl Stop {
    /// Whether to send another request.
    fn another(&self) -> bool {
        match self {
            Stop::At(deadline) => Instant::now() < *deadline,
            Stop::Budget(left) => left.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1)).is_ok(),
        }
    }
}

fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

async fn run_worker(target: Arc<Target>, mut worker: Worker, stop: Arc<Stop>) -> Worker {
    while stop.another() {
        let sender = match worker.sender.as_mut() {
            Some(sender) => sender,
            None => match target.connect().await {
                Ok(sender) => worker.sender.insert(sender),
                Err(e) => {
                    worker.failures.error(e);
                    // The server is gone or refusing: do not spin on it.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let started = Instant::now();
        match exchange(sender, target.request()).await {
            Ok((StatusCode::OK, _)) => worker.latencies.push(micros(started.elapsed())),
            Ok((status, body)) => worker.failures.status(status, &body),
            Err(e) => {
                worker.failures.error(format!("request: {}", error_chain(&e)));
                // The connection is unusable after an error: open another.
                worker.sender = None;
            }
        }
    }
    worker
}

/// An error and its sources: hyper's own message is often just "connection error".
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let _ = write!(text, ": {s}");
        source = s.source();
    }
    text
}

/// Opens `n` connections (a connection that fails is counted and retried by its worker).
async fn open_workers(target: &Target, n: usize) -> Vec<Worker> {
    let mut workers = Vec::with_capacity(n);
    for _ in 0..n {
        let mut failures = Failures::default();
        let sender = target.connect().await.map_err(|e| failures.error(e)).ok();
        workers.push(Worker { sender, latencies: Vec::new(), failures });
    }
    workers
}

/// Runs every worker on the runtime until `stop`; gives them back.
async fn drive(target: &Arc<Target>, workers: Vec<Worker>, stop: Stop) -> Vec<Worker> {
    let stop = Arc::new(stop);
    let handles: Vec<_> = workers.into_iter().map(|w| tokio::spawn(run_worker(target.clone(), w, stop.clone()))).collect();
    let mut out = Vec::with_capacity(handles.len());
    for handle in handles {
        match handle.await {
            Ok(worker) => out.push(worker),
            Err(e) => {
                // A bug in this file, not in the server; counted so that it is seen.
                let mut failures = Failures::default();
                failures.error(format!("load task failed: {e}"));
                out.push(Worker { sender: None, latencies: Vec::new(), failures });
            }
        }
    }
    out
}

/// Latency percentiles, in µs.
#[derive(Clone, Copy, Debug, Default)]
struct Latency {
    p50: u32,
    p99: u32,
    p999: u32,
}

impl Latency {
    /// Exact (nearest-rank) percentiles of every latency recorded.
    fn of(mut latencies: Vec<u32>) -> Latency {
        latencies.sort_unstable();
        let rank = |q: f64| -> u32 {
            let n = latencies.len();
            if n == 0 {
                return 0;
            }
            let rank = (q * n as f64).ceil() as usize;
            latencies[rank.clamp(1, n) - 1]
        };
        Latency { p50: rank(0.50), p99: rank(0.99), p999: rank(0.999) }
    }
}

/// One measured point: a server at a number of connections.
#[derive(Debug)]
struct Point {
    server: &'static str,
    connections: usize,
    /// Requests answered 200 within the measured time.
    requests: u64,
    elapsed: Duration,
    latency: Latency,
    /// Failures during the warm-up and the measured time.
    failures: Failures,
    server_cpu: Option<Duration>,
    client_cpu: Option<Duration>,
}

impl Point {
    fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Server CPU time per request, µs.
    fn server_us_per_request(&self) -> Option<f64> {
        Some(self.server_cpu?.as_secs_f64() * 1e6 / (self.requests.max(1) as f64))
    }

    /// The load generator's CPU use, in percent of one core.
    fn client_load(&self) -> Option<f64> {
        Some(self.client_cpu?.as_secs_f64() * 100.0 / self.elapsed.as_secs_f64().max(1e-9))
    }
}

fn cpu_delta(before: Option<Duration>, after: Option<Duration>) -> Option<Duration> {
    after?.checked_sub(before?)
}

/// Warm-up, then `measure` of closed-loop load on `connections` fresh connections.
async fn measure_point(
    server: &'static str,
    process: &ServerProcess,
    target: &Arc<Target>,
    connections: usize,
    warmup: Duration,
    measure: Duration,
) -> Point {
    let workers = open_workers(target, connections).await;
    let mut workers = drive(target, workers, Stop::At(Instant::now() + warmup)).await;
    let expected = (PREALLOCATED_RATE * measure.as_secs_f64() / connections as f64) as usize;
    for w in &mut workers {
        w.latencies.clear();
        w.latencies.reserve(expected.max(1024));
    }
    let (server_before, client_before) = (process.cpu(), self_cpu());
    let started = Instant::now();
    let workers = drive(target, workers, Stop::At(started + measure)).await;
    let elapsed = started.elapsed();
    let (server_after, client_after) = (process.cpu(), self_cpu());
    let (latencies, failures) = collect(workers);
    Point {
        server,
        connections,
        requests: latencies.len() as u64,
        elapsed,
        latency: Latency::of(latencies),
        failures,
        server_cpu: cpu_delta(server_before, server_after),
        client_cpu: cpu_delta(client_before, client_after),
    }
}

/// Every worker's latencies in one vector, and their failures.
fn collect(workers: Vec<Worker>) -> (Vec<u32>, Failures) {
    let mut latencies = Vec::with_capacity(workers.iter().map(|w| w.latencies.len()).sum());
    let mut failures = Failures::default();
    for w in workers {
        latencies.extend_from_slice(&w.latencies);
        failures.merge(w.failures);
    }
    (latencies, failures)
}

/// One review to a server before any load: it must answer 200 with a review carrying
/// `response.allowed`. Returns what it answered.
async fn check_answer(label: &str, target: &Target) -> Result<String, String> {
    let mut sender = target.connect().await.map_err(|e| format!("{label}: {e}"))?;
    let (status, body) =
        exchange(&mut sender, target.request()).await.map_err(|e| format!("{label}: the check request failed: {}", error_chain(&e)))?;
    let text = String::from_utf8_lossy(&body);
    if status != StatusCode::OK {
        return Err(format!("{label} answered the review with HTTP {status}: {text}"));
    }
    let review: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| format!("{label} answered something that is not JSON ({e}): {text}"))?;
    let allowed =
        review["response"]["allowed"].as_bool().ok_or_else(|| format!("{label} answered a review without response.allowed: {text}"))?;
    Ok(format!("HTTP 200, response.allowed = {allowed}, {} bytes", body.len()))
}

// ---------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------

/// What happened to the configuration with every classic policy folder.
enum Classic {
    Measured { folders: usize, policies: String, start: Memory, after: Memory, point: Point },
    Rejected { folders: usize, message: String, errors: Vec<String> },
    Failed(String),
}

struct Report {
    options: Options,
    policies: String,
    points: Vec<Point>,
    /// kyvm's memory at moments of the run.
    memory: Vec<(String, Memory)>,
    /// (requests so far, memory, rate of the last chunk, latency of the last chunk).
    flatness: Vec<(u64, Memory, f64, Latency)>,
    flatness_failures: Failures,
    classic: Option<Classic>,
}

fn load_test(options: &Options) -> Result<Report, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .thread_name("load-generator")
        .build()
        .map_err(|e| format!("cannot start the load generator's runtime: {e}"))?;
    let scratch = ScratchDir::new()?;
    let kyverno_policies = kyvm_benches::conformance_dir().join("kyverno-policies");
    let main_dirs = vec![kyverno_policies.join("pod-security"), kyverno_policies.join("best-practices")];
    for dir in &main_dirs {
        if !dir.is_dir() {
            return Err(format!("no policy folder {}", dir.display()));
        }
    }

    print_setup(options);
    let kyvm = start_kyvm("kyvm", &main_dirs, &scratch).map_err(|f| start_failure_text("kyvm", &f))?;
    let policies = describe_policy_set(&kyvm.log_lines());
    println!("kyvm (pid {}): pod-security + best-practices, {policies}; listening on {}", kyvm.pid(), kyvm.addr);
    let floor = start_floor(&scratch).map_err(|f| start_failure_text("floor", &f))?;
    println!("floor (pid {}): listening on {}", floor.pid(), floor.addr);

    let mut report = Report {
        options: options.clone(),
        policies,
        points: Vec::new(),
        memory: Vec::new(),
        flatness: Vec::new(),
        flatness_failures: Failures::default(),
        classic: None,
    };
    report.memory.push(("after start (policies compiled)".into(), kyvm.memory()?));

    let kyvm_target = Arc::new(Target::new(&kyvm)?);
    let floor_target = Arc::new(Target::new(&floor)?);
    println!("check: kyvm: {}", runtime.block_on(check_answer("kyvm", &kyvm_target))?);
    println!("check: floor: {}", runtime.block_on(check_answer("floor", &floor_target))?);
    print_memory("kyvm", &report.memory[0].1);

    for &connections in &options.connections {
        for run in 1..=options.runs {
            // kyvm then the floor at each step, so that a noisy stretch of the shared
            // machine hits both rather than one configuration.
            for (name, process, target) in [("kyvm", &kyvm, &kyvm_target), ("floor", &floor, &floor_target)] {
                let point = runtime.block_on(measure_point(name, process, target, connections, options.warmup, options.measure));
                print_point(&point, run, options.runs);
                report.points.push(point);
            }
        }
        let memory = kyvm.memory()?;
        print_memory("kyvm", &memory);
        report.memory.push((format!("after the {connections}-connection points"), memory));
    }

    if let Some(total) = options.flatness_requests {
        runtime.block_on(flatness(&kyvm, &kyvm_target, total, &mut report))?;
    }
    drop((kyvm, floor));

    report.classic = Some(classic(&runtime, &kyverno_policies, &scratch, options));
    Ok(report)
}

fn start_failure_text(label: &str, failure: &StartFailure) -> String {
    let mut text = format!("{label} did not start: {}", failure.message);
    let errors = logged_errors(&failure.log);
    let lines = if errors.is_empty() { failure.log.iter().rev().take(30).rev().cloned().collect() } else { errors };
    for line in lines.iter().take(30) {
        let _ = write!(text, "\n    {line}");
    }
    text
}

/// `total` requests to kyvm at [`RSS_CONNECTIONS`] connections, in ten chunks with its
/// RSS read after each: the RSS should be flat.
async fn flatness(kyvm: &ServerProcess, target: &Arc<Target>, total: u64, report: &mut Report) -> Result<(), String> {
    const CHUNKS: u64 = 10;
    println!(
        "\nRSS flatness: {} requests to kyvm at {RSS_CONNECTIONS} connections, RSS read every {}",
        thousands(total),
        thousands(total / CHUNKS)
    );
    let mut workers = open_workers(target, RSS_CONNECTIONS).await;
    let mut done = 0;
    for chunk in 0..CHUNKS {
        let size = if chunk + 1 == CHUNKS { total - done } else { total / CHUNKS };
        for w in &mut workers {
            w.latencies.clear();
            w.latencies.reserve(size as usize / RSS_CONNECTIONS + 1);
        }
        let started = Instant::now();
        workers = drive(target, workers, Stop::Budget(AtomicU64::new(size))).await;
        let elapsed = started.elapsed();
        done += size;
        let latencies = take_latencies(&mut workers);
        let rate = latencies.len() as f64 / elapsed.as_secs_f64().max(1e-9);
        let latency = Latency::of(latencies);
        let memory = kyvm.memory()?;
        println!(
            "  after {:>9}: VmRSS {:>9}, VmHWM {:>9}   ({:.0} req/s, p99 {})",
            thousands(done),
            mib(memory.rss_kib),
            mib(memory.hwm_kib),
            rate,
            fmt_ms(latency.p99)
        );
        report.flatness.push((done, memory, rate, latency));
    }
    for w in workers {
        report.flatness_failures.merge(w.failures);
    }
    report.memory.push((format!("after the {} requests of the flatness step", thousands(total)), kyvm.memory()?));
    Ok(())
}

/// The latencies of every worker, leaving the workers their (emptied) buffers.
fn take_latencies(workers: &mut [Worker]) -> Vec<u32> {
    let mut all = Vec::with_capacity(workers.iter().map(|w| w.latencies.len()).sum());
    for w in workers.iter_mut() {
        all.extend_from_slice(&w.latencies);
        w.latencies.clear();
    }
    all
}

/// kyvm with every classic policy folder: RSS after start and after load at
/// [`RSS_CONNECTIONS`] connections.
fn classic(runtime: &tokio::runtime::Runtime, root: &Path, scratch: &ScratchDir, options: &Options) -> Classic {
    let folders = match classic_policy_folders(root) {
        Ok(f) => f,
        Err(e) => return Classic::Failed(e),
    };
    let names: Vec<_> = folders.iter().filter_map(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned()).collect();
    println!("\nall classic policies: {} folders ({})", folders.len(), names.join(", "));
    let kyvm = match start_kyvm("kyvm-all", &folders, scratch) {
        Ok(k) => k,
        Err(failure) => {
            let errors = logged_errors(&failure.log);
            println!("!! kyvm REFUSED the set of all classic policies: {}", failure.message);
            for line in errors.iter().take(20) {
                println!("!!   {line}");
            }
            return Classic::Rejected { folders: folders.len(), message: failure.message, errors };
        }
    };
    let policies = describe_policy_set(&kyvm.log_lines());
    println!("kyvm-all (pid {}): {policies}", kyvm.pid());
    let start = match kyvm.memory() {
        Ok(m) => m,
        Err(e) => return Classic::Failed(e),
    };
    print_memory("kyvm-all after start", &start);
    let target = match Target::new(&kyvm) {
        Ok(t) => Arc::new(t),
        Err(e) => return Classic::Failed(e),
    };
    match runtime.block_on(check_answer("kyvm-all", &target)) {
        Ok(answer) => println!("check: kyvm-all: {answer}"),
        Err(e) => return Classic::Failed(e),
    }
    let point = runtime.block_on(measure_point("kyvm-all", &kyvm, &target, RSS_CONNECTIONS, options.warmup, options.measure));
    print_point(&point, 1, 1);
    let after = match kyvm.memory() {
        Ok(m) => m,
        Err(e) => return Classic::Failed(e),
    };
    print_memory("kyvm-all after load", &after);
    Classic::Measured { folders: folders.len(), policies, start, after, point }
}

// ---------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------

fn print_setup(options: &Options) {
    let cpus = std::thread::available_parallelism().map(|n| n.get().to_string()).unwrap_or_else(|_| "?".into());
    println!("webhook_load: kyvm serve against a trivial TLS server (the floor), HTTP/1.1 keep-alive over TLS 1.3 on loopback");
    println!("  machine: {cpus} CPUs, shared by the servers and the load generator");
    println!("  load generator: this process, a tokio runtime with 1 worker thread (the server under test gets the other core)");
    println!("  servers: their own processes (this binary re-executed), tokio's default of one worker thread per CPU");
    println!("  request: POST {ROUTE}, data/pod-review.json ({} bytes), closed loop per connection", thousands(PAYLOAD.len() as u64));
    println!(
        "  points: {:?} connections, {} run(s) each, {:.0} s warm-up + {:.0} s measured",
        options.connections,
        options.runs,
        options.warmup.as_secs_f64(),
        options.measure.as_secs_f64()
    );
}

fn print_point(p: &Point, run: usize, runs: usize) {
    let run = if runs > 1 { format!(" run {run}/{runs}") } else { String::new() };
    println!(
        "[{:>2} conn{run}] {:<8} {:>9} req/s  p50 {:>8}  p99 {:>8}  p99.9 {:>8}  server CPU {:>7}/req  generator CPU {:>4}",
        p.connections,
        p.server,
        format!("{:.0}", p.rate()),
        fmt_ms(p.latency.p50),
        fmt_ms(p.latency.p99),
        fmt_ms(p.latency.p999),
        p.server_us_per_request().map(|us| format!("{us:.1} µs")).unwrap_or_else(|| "?".into()),
        p.client_load().map(|l| format!("{l:.0}%")).unwrap_or_else(|| "?".into()),
    );
    if p.failures.total() > 0 {
        eprintln!(
            "!! {} FAILED REQUESTS on {} at {} connections ({} errors, {} non-200); first: {}",
            p.failures.total(),
            p.server,
            p.connections,
            p.failures.errors,
            p.failures.bad_status,
            p.failures.first.as_deref().unwrap_or("?")
        );
    }
}

fn print_memory(label: &str, m: &Memory) {
    println!("{label}: VmRSS {}, VmHWM {}", mib(m.rss_kib), mib(m.hwm_kib));
}

fn fmt_ms(us: u32) -> String {
    format!("{:.2} ms", f64::from(us) / 1000.0)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// The medians over the runs of one server at one number of connections.
struct Summary {
    rate: f64,
    p50: f64,
    p99: f64,
    p999: f64,
    server_us: Option<f64>,
    client_load: Option<f64>,
    failures: u64,
}

impl Summary {
    fn of(points: &[&Point]) -> Summary {
        let med = |f: &dyn Fn(&Point) -> f64| median(points.iter().map(|p| f(p)).collect());
        let optional = |f: &dyn Fn(&Point) -> Option<f64>| {
            let values: Vec<f64> = points.iter().filter_map(|p| f(p)).collect();
            (!values.is_empty()).then(|| median(values))
        };
        Summary {
            rate: med(&Point::rate),
            p50: med(&|p| f64::from(p.latency.p50)),
            p99: med(&|p| f64::from(p.latency.p99)),
            p999: med(&|p| f64::from(p.latency.p999)),
            server_us: optional(&Point::server_us_per_request),
            client_load: optional(&Point::client_load),
            failures: points.iter().map(|p| p.failures.total()).sum(),
        }
    }
}

impl Report {
    fn summary(&self, server: &str, connections: usize) -> Option<Summary> {
        let points: Vec<&Point> = self.points.iter().filter(|p| p.server == server && p.connections == connections).collect();
        (!points.is_empty()).then(|| Summary::of(&points))
    }

    fn failures(&self) -> u64 {
        let classic = match &self.classic {
            Some(Classic::Measured { point, .. }) => point.failures.total(),
            _ => 0,
        };
        self.points.iter().map(|p| p.failures.total()).sum::<u64>() + self.flatness_failures.total() + classic
    }

    /// The markdown tables for README.md.
    fn markdown(&self) -> String {
        let o = &self.options;
        let mut md = String::new();
        let _ = writeln!(
            md,
            "Throughput and latency ({} run(s) per point{}, {:.0} s warm-up + {:.0} s measured; kyvm: {}):\n",
            o.runs,
            if o.runs > 1 { ", medians" } else { "" },
            o.warmup.as_secs_f64(),
            o.measure.as_secs_f64(),
            self.policies
        );
        md.push_str("| connections | server | requests/s | p50 | p99 | p99.9 | server CPU per request | generator CPU | kyvm / floor |\n");
        md.push_str("|---:|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for &c in &o.connections {
            let (Some(kyvm), Some(floor)) = (self.summary("kyvm", c), self.summary("floor", c)) else { continue };
            for (name, s) in [("kyvm", &kyvm), ("floor", &floor)] {
                let ratio = if name == "kyvm" { format!("{:.0}%", 100.0 * kyvm.rate / floor.rate) } else { String::new() };
                let name = if s.failures > 0 { format!("{name} (**{} failed**)", thousands(s.failures)) } else { name.to_string() };
                let _ = writeln!(
                    md,
                    "| {c} | {name} | {} | {} | {} | {} | {} | {} | {ratio} |",
                    thousands(s.rate.round() as u64),
                    fmt_ms(s.p50 as u32),
                    fmt_ms(s.p99 as u32),
                    fmt_ms(s.p999 as u32),
                    s.server_us.map(|us| format!("{us:.1} µs")).unwrap_or_else(|| "?".into()),
                    s.client_load.map(|l| format!("{l:.0}%")).unwrap_or_else(|| "?".into()),
                );
            }
        }
        md.push_str("\nkyvm's memory (`/proc/<pid>/status`):\n\n| kyvm process | VmRSS | VmHWM |\n|---|---:|---:|\n");
        for (when, m) in &self.memory {
            let _ = writeln!(md, "| pod-security + best-practices, {when} | {} | {} |", mib(m.rss_kib), mib(m.hwm_kib));
        }
        match &self.classic {
            Some(Classic::Measured { folders, policies, start, after, point }) => {
                let _ = writeln!(
                    md,
                    "| all {folders} classic folders ({policies}), after start | {} | {} |",
                    mib(start.rss_kib),
                    mib(start.hwm_kib)
                );
                let _ = writeln!(
                    md,
                    "| all {folders} classic folders, after {:.0} s at {RSS_CONNECTIONS} connections ({} req/s, p99 {}{}) | {} | {} |",
                    point.elapsed.as_secs_f64(),
                    thousands(point.rate().round() as u64),
                    fmt_ms(point.latency.p99),
                    match point.failures.total() {
                        0 => String::new(),
                        n => format!(", **{} failed**", thousands(n)),
                    },
                    mib(after.rss_kib),
                    mib(after.hwm_kib)
                );
            }
            Some(Classic::Rejected { folders, message, errors }) => {
                let first = errors.iter().take(3).cloned().collect::<Vec<_>>().join("; ");
                let _ = writeln!(md, "| all {folders} classic folders: **refused** ({message}): {first} | – | – |");
            }
            Some(Classic::Failed(e)) => {
                let _ = writeln!(md, "| all classic folders: **not measured** ({e}) | – | – |");
            }
            None => {}
        }
        if let (Some(first), Some(last)) = (self.flatness.first(), self.flatness.last()) {
            let min = self.flatness.iter().map(|f| f.1.rss_kib).min().unwrap_or(0);
            let max = self.flatness.iter().map(|f| f.1.rss_kib).max().unwrap_or(0);
            let _ = writeln!(
                md,
                "\nRSS flatness, {} requests at {RSS_CONNECTIONS} connections: VmRSS {} after {}, {} after {} (min {}, max {} over the {} readings).",
                thousands(last.0),
                mib(first.1.rss_kib),
                thousands(first.0),
                mib(last.1.rss_kib),
                thousands(last.0),
                mib(min),
                mib(max),
                self.flatness.len()
            );
        }
        md
    }

    /// Prints the tables and the verdict; the exit code.
    fn finish(self) -> ExitCode {
        println!("\n{}", self.markdown());
        let failures = self.failures();
        if failures > 0 {
            eprintln!("!! webhook_load: {failures} REQUESTS FAILED OR WERE NOT ANSWERED 200 (see the lines marked !! above)");
            return ExitCode::FAILURE;
        }
        println!("every request was answered 200");
        ExitCode::SUCCESS
    }
}
