//! `kyvm serve`: the admission webhook.
//!
//! ```text
//!  TCP ─► TLS (rustls, CertStore) ─► HTTP/1.1 or HTTP/2 (hyper) ─► axum routes
//!     /validate[/fail|/ignore], /mutate[/fail|/ignore] ─► body (limit, deadline)
//!        ─► admission::review on the worker thread, with its thread's Scratch arena
//!           over the current PolicySet (an Arc swapped on reload) ─► AdmissionReview
//!     /health/liveness, /health/readiness, /metrics
//! ```
//!
//! - [`policies`]: the compiled policy set and where it comes from.
//! - [`admission`]: one review, bytes to bytes, no HTTP.
//! - [`http`]: routes, limits and the connection loop.
//! - [`tls`]: the serving certificate (files or generated) and its rotation.
//! - [`watch`]: change detection for mounted folders; [`metrics`]: Prometheus.
//!
//! Reloads compile on a blocking thread and swap the new set in with one atomic store;
//! a set that does not compile is logged and counted, and the last good one keeps
//! serving. On SIGTERM readiness turns false, the server keeps serving for the shutdown
//! delay (while the endpoint leaves the Service), then stops accepting, lets open
//! connections finish their requests (within the shutdown timeout) and exits 0.

pub mod admission;
pub mod http;
pub mod metrics;
pub mod policies;
pub mod tls;
pub mod watch;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;

use crate::cli::{LogFormat, ServeArgs};
use metrics::Metrics;
use policies::{PolicySet, PolicySources};
use tls::{CertSource, CertStore};

/// How often watched files are re-read even without change events.
const POLL: Duration = Duration::from_secs(10);

/// Everything the request path shares.
#[derive(Debug)]
pub struct AppState {
    pub policies: ArcSwap<PolicySet>,
    pub metrics: Metrics,
    /// True once policies and certificate are loaded, false again on shutdown.
    pub ready: AtomicBool,
    pub limits: RequestLimits,
    /// Admission requests being read or evaluated.
    pub slots: tokio::sync::Semaphore,
}

/// Limits on one request (see the flags of [`ServeArgs`]).
#[derive(Clone, Copy, Debug)]
pub struct RequestLimits {
    pub max_body_bytes: usize,
    pub header_timeout: Duration,
    /// Deadline of a review when the API server sends no `?timeout=` (its default).
    pub default_deadline: Duration,
    /// Longest deadline honoured (the API server allows at most 30 s).
    pub max_deadline: Duration,
}

/// Runs the server until SIGTERM or SIGINT; returns the exit code.
pub fn run(args: ServeArgs) -> i32 {
    init_logging(&args);
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all().thread_name("kyvm-worker");
    if let Some(n) = args.workers {
        builder.worker_threads(n.max(1));
    }
    let runtime = match builder.build() {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the runtime");
            return 1;
        }
    };
    match runtime.block_on(serve(args)) {
        Ok(()) => 0,
        Err(e) => {
            tracing::error!(error = %e, "kyvm serve stopped");
            1
        }
    }
}

fn init_logging(args: &ServeArgs) {
    let filter = tracing_subscriber::EnvFilter::try_new(&args.log_level).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match args.log_format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    let sources = if args.policies.is_empty() { PolicySources::Embedded } else { PolicySources::Paths(args.policies.clone()) };
    let snapshot = sources.read();
    let set = PolicySet::compile(&snapshot).map_err(|e| format!("the policies in {} do not compile: {e}", sources.describe()))?;
    log_set(&set, &sources);

    let cert_source = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => CertSource::Files { cert: cert.clone(), key: key.clone() },
        _ => CertSource::SelfSigned { ca_out: args.generated_ca.clone().unwrap_or_else(|| std::env::temp_dir().join("kyvm-ca.pem")) },
    };
    let certified = match &cert_source {
        CertSource::Files { cert, key } => tls::load_files(cert, key)?,
        CertSource::SelfSigned { ca_out } => {
            let (key, ca_pem) = tls::self_signed(&hostnames())?;
            std::fs::write(ca_out, ca_pem).map_err(|e| format!("cannot write the generated CA to {}: {e}", ca_out.display()))?;
            tracing::info!(ca = %ca_out.display(), "serving a generated self-signed certificate; its CA is written to {}", ca_out.display());
            key
        }
    };
    let certs = Arc::new(CertStore::new(certified));
    let tls_config = tls::server_config(certs.clone())?;

    let state = Arc::new(AppState {
        metrics: Metrics::new(),
        policies: ArcSwap::from_pointee(set),
        ready: AtomicBool::new(false),
        limits: RequestLimits {
            max_body_bytes: args.max_request_bytes,
            header_timeout: Duration::from_secs(args.header_timeout.max(1)),
            default_deadline: Duration::from_secs(10),
            max_deadline: Duration::from_secs(30),
        },
        slots: tokio::sync::Semaphore::new(args.max_concurrent_requests.max(1)),
    });
    state.metrics.policies_loaded.set(state.policies.load().program.policies.len() as i64);
    state.metrics.rules_loaded.set(state.policies.load().rule_count() as i64);

    if let PolicySources::Paths(paths) = &sources {
        let state = state.clone();
        let sources = sources.clone();
        watch::spawn("policies", paths.clone(), POLL, Arc::new(move || reload_policies(&state, &sources)));
    }
    if let CertSource::Files { cert, key } = &cert_source {
        let (state, certs, cert, key) = (state.clone(), certs.clone(), cert.clone(), key.clone());
        let last = std::sync::Mutex::new(digest_files(&[&cert, &key]));
        watch::spawn(
            "certificate",
            vec![cert.clone(), key.clone()],
            POLL,
            Arc::new(move || reload_certificate(&state, &certs, &cert, &key, &last)),
        );
    }

    let listener = tokio::net::TcpListener::bind(args.listen).await.map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let metrics_listener = match args.metrics_listen.as_str() {
        "off" | "" => None,
        addr => Some(tokio::net::TcpListener::bind(addr).await.map_err(|e| format!("cannot listen on {addr} for metrics: {e}"))?),
    };
    let local = |l: &tokio::net::TcpListener| l.local_addr().map(|a| a.to_string()).unwrap_or_default();
    tracing::info!(
        listen = %local(&listener),
        metrics = %metrics_listener.as_ref().map(local).unwrap_or_else(|| "off".into()),
        "kyvm serve ready: /validate[/fail|/ignore], /mutate[/fail|/ignore], /health/liveness, /health/readiness, /metrics"
    );
    state.ready.store(true, Ordering::SeqCst);

    let shutdown = Shutdown::new();
    tokio::spawn(watch_signals(state.clone(), shutdown.clone(), Duration::from_secs(args.shutdown_delay)));
    if let Some(l) = metrics_listener {
        tokio::spawn(http::serve_metrics(l, state.clone(), shutdown.clone()));
    }
    http::serve_tls(listener, Arc::new(tls_config), state, shutdown, Duration::from_secs(args.shutdown_timeout)).await;
    tracing::info!("kyvm serve stopped");
    Ok(())
}

fn log_set(set: &PolicySet, sources: &PolicySources) {
    for d in set.warnings() {
        tracing::warn!(diagnostic = %d, "policy diagnostic");
    }
    let generate = set.program.rules.iter().filter(|r| r.kind == kyvm_engine::program::RuleKind::Generate).count();
    if generate > 0 {
        tracing::warn!(rules = generate, "generate rules are compiled but not run by the webhook: kyvm does not write to the cluster");
    }
    tracing::info!(policies = set.program.policies.len(), rules = set.rule_count(), from = %sources.describe(), "policy set compiled");
}

/// Recompiles the policies when their files changed; swaps in the new set or keeps the
/// old one.
fn reload_policies(state: &AppState, sources: &PolicySources) {
    let snapshot = sources.read();
    if snapshot.digest == state.policies.load().digest {
        return;
    }
    match PolicySet::compile(&snapshot) {
        Ok(set) => {
            log_set(&set, sources);
            state.metrics.policies_loaded.set(set.program.policies.len() as i64);
            state.metrics.rules_loaded.set(set.rule_count() as i64);
            state.policies.store(Arc::new(set));
            state.metrics.policy_reloads.inc();
            tracing::info!("policy set reloaded");
        }
        Err(rejected) => {
            state.metrics.policy_reload_failures.inc();
            for d in &rejected.errors {
                tracing::error!(diagnostic = %d, "policy diagnostic");
            }
            tracing::error!(errors = rejected.errors.len(), "the changed policies do not compile; the last good set keeps serving");
        }
    }
}

fn reload_certificate(
    state: &AppState,
    certs: &CertStore,
    cert: &std::path::Path,
    key: &std::path::Path,
    last: &std::sync::Mutex<Option<u64>>,
) {
    let digest = digest_files(&[cert, key]);
    let Ok(mut last) = last.lock() else { return };
    if digest == *last {
        return;
    }
    match tls::load_files(cert, key) {
        Ok(k) => {
            certs.replace(k);
            *last = digest;
            state.metrics.certificate_reloads.inc();
            tracing::info!(cert = %cert.display(), "serving certificate reloaded");
        }
        Err(e) => {
            // A rotation writes the two files one after the other: a mismatch now may be
            // whole on the next round, so the digest is not recorded.
            state.metrics.certificate_reload_failures.inc();
            tracing::error!(error = %e, "the changed certificate cannot be loaded; the last good one keeps serving");
        }
    }
}

fn digest_files(paths: &[&std::path::Path]) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for p in paths {
        std::fs::read(p).ok()?.hash(&mut h);
    }
    Some(h.finish())
}

/// Names the generated certificate is valid for besides localhost.
fn hostnames() -> Vec<String> {
    let mut names = Vec::new();
    if let Ok(h) = std::fs::read_to_string("/etc/hostname") {
        names.push(h.trim().to_string());
    }
    if let Ok(h) = std::env::var("HOSTNAME") {
        names.push(h);
    }
    names.sort();
    names.dedup();
    names.retain(|n| !n.is_empty());
    names
}

/// The shutdown signal, as a cloneable flag and wake-up.
#[derive(Clone, Debug)]
pub struct Shutdown {
    tx: Arc<tokio::sync::watch::Sender<bool>>,
}

impl Shutdown {
    fn new() -> Shutdown {
        Shutdown { tx: Arc::new(tokio::sync::watch::channel(false).0) }
    }

    fn trigger(&self) {
        self.tx.send_replace(true);
    }

    /// Resolves once shutdown has been triggered.
    pub async fn triggered(&self) {
        let mut rx = self.tx.subscribe();
        let _ = rx.wait_for(|stop| *stop).await;
    }
}

/// SIGTERM: readiness false, serve on for `delay`, then stop. SIGINT: stop now.
async fn watch_signals(state: Arc<AppState>, shutdown: Shutdown, delay: Duration) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
        tracing::error!("cannot install signal handlers");
        return;
    };
    let delay = tokio::select! {
        _ = term.recv() => delay,
        _ = int.recv() => Duration::ZERO,
    };
    state.ready.store(false, Ordering::SeqCst);
    tracing::info!(delay_seconds = delay.as_secs_f64(), "shutting down: readiness is false; serving on for the delay, then draining");
    tokio::time::sleep(delay).await;
    shutdown.trigger();
}
