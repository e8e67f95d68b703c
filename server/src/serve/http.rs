//! HTTP: the routes, what each bad request gets, and the connection loop.
//!
//! | request | answer |
//! |---|---|
//! | a well-formed AdmissionReview on an admission route | 200 and a review |
//! | `Content-Type` other than `application/json` | 415 |
//! | body over `--max-request-bytes` (by `Content-Length` or as read) | 413 |
//! | empty body, not JSON (invalid UTF-8, lone surrogates, nested deeper than 128), not an AdmissionReview | 400 with the reason |
//! | body not read within the deadline (`?timeout=` of the API server, else 10 s, at most 30 s) | 408 |
//! | no admission slot free within the deadline | 503 |
//! | headers (or the TLS handshake) not received within `--header-timeout` | connection closed |
//! | another path | 404; another method on an admission route, 405 |

use std::cell::RefCell;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use bytes::BytesMut;
use http_body_util::BodyExt;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use kyvm_engine::{Limits, Scratch};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use super::admission::{self, Route};
use super::{metrics, AppState, Shutdown};

/// A worker's arena is replaced after a review that grew it past this, so that one huge
/// request does not pin its memory for the life of the thread.
const ARENA_KEEP_BYTES: usize = 4 << 20;

/// How much of an oversized body is read and discarded before answering 413.
const DISCARD_BYTES: usize = 64 << 20;

thread_local! {
    /// Each worker thread's evaluation arena, reset per review.
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::new(Limits::default()));
}

/// The routes of the TLS listener.
pub fn router(state: Arc<AppState>) -> Router {
    let mut router = Router::new();
    for (path, route) in Route::PATHS {
        router = router.route(
            path,
            post(move |State(state): State<Arc<AppState>>, uri: Uri, headers: HeaderMap, body: Body| {
                admission_request(state, route, uri, headers, body)
            }),
        );
    }
    router.merge(probes()).with_state(state)
}

/// Health and metrics (also served alone on the metrics listener).
fn probes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/health/liveness", get(|| async { "ok" }))
        .route("/health/readiness", get(readiness))
        .route("/metrics", get(render_metrics))
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found\n") })
}

async fn readiness(State(state): State<Arc<AppState>>) -> Response {
    if state.ready.load(Ordering::SeqCst) {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready\n").into_response()
    }
}

async fn render_metrics(State(state): State<Arc<AppState>>) -> Response {
    ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], state.metrics.render()).into_response()
}

/// An HTTP error answer, counted.
fn reject(state: &AppState, code: StatusCode, message: impl Into<String>) -> Response {
    state.metrics.rejected(code.as_u16());
    let mut text = message.into();
    text.push('\n');
    (code, text).into_response()
}

async fn admission_request(state: Arc<AppState>, route: Route, uri: Uri, headers: HeaderMap, body: Body) -> Response {
    let started = Instant::now();
    let deadline = deadline(uri.query(), &state);
    match tokio::time::timeout(deadline, answer(&state, route, &headers, body, started)).await {
        Ok(response) => response,
        Err(_) => reject(&state, StatusCode::REQUEST_TIMEOUT, "the request was not read within its deadline"),
    }
}

async fn answer(state: &AppState, route: Route, headers: &HeaderMap, body: Body, started: Instant) -> Response {
    let Ok(_slot) = state.slots.acquire().await else {
        return reject(state, StatusCode::SERVICE_UNAVAILABLE, "shutting down");
    };
    if !is_json(headers) {
        return reject(state, StatusCode::UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/json");
    }
    let max = state.limits.max_body_bytes;
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let bytes = match read_body(body, max, declared).await {
        Ok(bytes) => bytes,
        Err(BodyError::TooLarge) => {
            return reject(state, StatusCode::PAYLOAD_TOO_LARGE, format!("the body is larger than {max} bytes"));
        }
        Err(BodyError::Broken(e)) => return reject(state, StatusCode::BAD_REQUEST, format!("cannot read the body: {e}")),
    };
    if bytes.is_empty() {
        return reject(state, StatusCode::BAD_REQUEST, "empty body");
    }
    let set = state.policies.load();
    let limits = Limits { max_document_bytes: max.max(Limits::default().max_document_bytes), ..Limits::default() };
    let result = SCRATCH.with(|cell| {
        let mut fresh;
        let mut borrowed = cell.try_borrow_mut();
        let scratch = match borrowed.as_deref_mut() {
            Ok(s) => s,
            Err(_) => {
                fresh = Scratch::new(limits);
                &mut fresh
            }
        };
        scratch.limits = limits;
        let result = admission::review(&set, route, &bytes, scratch, &state.metrics, started);
        if scratch.allocated_bytes() > ARENA_KEEP_BYTES {
            *scratch = Scratch::new(limits);
        }
        result
    });
    match result {
        Ok(reviewed) => ([(header::CONTENT_TYPE, "application/json")], reviewed.body).into_response(),
        Err(bad) => reject(state, StatusCode::BAD_REQUEST, bad.to_string()),
    }
}

enum BodyError {
    TooLarge,
    Broken(axum::Error),
}

/// Reads a body of at most `max` bytes. A larger one is read on and thrown away (up to
/// [`DISCARD_BYTES`] more) before the 413 goes out: answering while the client is still
/// sending makes the kernel reset the connection, and the client would see a broken
/// pipe instead of the answer.
async fn read_body(mut body: Body, max: usize, declared: Option<u64>) -> Result<Bytes, BodyError> {
    // Most bodies arrive as one frame: keep it as it is. Only a body in several frames
    // is copied into one buffer (its capacity trusts a declared length only so far: a
    // client can declare more than it sends).
    let mut first: Option<Bytes> = None;
    let mut joined: Option<BytesMut> = None;
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(BodyError::Broken)?;
        let Ok(data) = frame.into_data() else { continue };
        seen = seen.saturating_add(data.len());
        if seen > max {
            if seen > max.saturating_add(DISCARD_BYTES) {
                break;
            }
            continue;
        }
        match (&mut joined, first.take()) {
            (Some(buf), _) => buf.extend_from_slice(&data),
            (None, None) => first = Some(data),
            (None, Some(head)) => {
                let capacity = declared.map_or(0, |n| n.min(max.min(1 << 20) as u64) as usize).max(head.len() + data.len());
                let mut buf = BytesMut::with_capacity(capacity);
                buf.extend_from_slice(&head);
                buf.extend_from_slice(&data);
                joined = Some(buf);
            }
        }
    }
    if seen > max || declared.is_some_and(|n| n > max as u64) {
        return Err(BodyError::TooLarge);
    }
    Ok(match joined {
        Some(buf) => buf.freeze(),
        None => first.unwrap_or_default(),
    })
}

/// `application/json`, with or without parameters.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

/// The review's deadline: the API server's `?timeout=` (a Go duration such as `10s`),
/// else its default of 10 s; never more than 30 s.
fn deadline(query: Option<&str>, state: &AppState) -> Duration {
    let asked = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|kv| kv.strip_prefix("timeout="))
        .and_then(kyvm_engine::duration::parse)
        .filter(|nanos| *nanos > 0)
        .map(|nanos| Duration::from_nanos(nanos as u64));
    asked.unwrap_or(state.limits.default_deadline).min(state.limits.max_deadline)
}

/// Serves the TLS listener until shutdown, then lets open connections finish (closing
/// idle keep-alive connections) for at most `drain`.
pub async fn serve_tls(listener: TcpListener, tls: Arc<rustls::ServerConfig>, state: Arc<AppState>, shutdown: Shutdown, drain: Duration) {
    let acceptor = TlsAcceptor::from(tls);
    let app = router(state.clone());
    let graceful = GracefulShutdown::new();
    let header_timeout = state.limits.header_timeout;
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors, typically: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.triggered() => break,
        };
        let _ = tcp.set_nodelay(true);
        let (acceptor, app, watcher) = (acceptor.clone(), app.clone(), graceful.watcher());
        tokio::spawn(async move {
            let stream = match tokio::time::timeout(header_timeout, acceptor.accept(tcp)).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake timed out");
                    return;
                }
            };
            let mut builder = auto::Builder::new(TokioExecutor::new());
            builder.http1().timer(TokioTimer::new()).header_read_timeout(header_timeout).keep_alive(true);
            builder.http2().timer(TokioTimer::new()).max_concurrent_streams(256).keep_alive_interval(Duration::from_secs(30));
            let connection = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app)).into_owned();
            if let Err(e) = watcher.watch(connection).await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tracing::info!(connections = graceful.count(), "stopped accepting; draining open connections");
    if tokio::time::timeout(drain, graceful.shutdown()).await.is_err() {
        tracing::warn!(seconds = drain.as_secs_f64(), "connections still open after the shutdown timeout; closing them");
    }
}

/// Serves health and metrics over plain HTTP until shutdown.
pub async fn serve_metrics(listener: TcpListener, state: Arc<AppState>, shutdown: Shutdown) {
    let app = probes().with_state(state);
    if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(async move { shutdown.triggered().await }).await {
        tracing::error!(error = %e, "metrics listener failed");
    }
}
