//! # kyvm
//!
//! The `kyvm` binary's library: the CLI (`apply`, `test`, `compile`, `jp`) and the
//! admission webhook (`serve`) over the compiler and engine crates. Thin by design:
//! argument parsing, file I/O, output formats, HTTP, TLS, metrics, reload.
//!
//! - [`cli`]: flags, parsed into plain structs before anything expensive is built.
//! - [`resources`], [`values`]: resource files, values and user-info files.
//! - [`run`]: the evaluation driver shared by `apply` and `test`.
//! - [`apply`], [`report`]: `kyvm apply` and its policy report.
//! - [`testsuite`]: `kyvm test` over `kyverno-test.yaml` suites.
//! - [`jp`]: `kyvm jp query` and `kyvm jp function`.
//! - [`serve`]: `kyvm serve`, the webhook (routes, review answers, TLS, reload, metrics).
//! - [`commands`]: each subcommand, returning its exit code.
//!
//! ## Dependencies
//! - `clap`: argument parsing and help.
//! - `serde`, `serde_yaml`, `serde_json`: test files, values files, JSON and YAML output.
//! - `bumpalo`: the arena the CLI builds request facts in.
//! - `tokio`: the webhook's runtime (one worker per core, timers, signals).
//! - `axum`: routing and extractors; `hyper`, `hyper-util`: HTTP/1.1 and HTTP/2
//!   connections (header timeout, graceful drain), served over `tokio-rustls`.
//! - `http-body-util`, `bytes`: reading bodies frame by frame under a limit
//!   (hyper-util adapts the axum router into a hyper service).
//! - `rustls` (ring provider), `rustls-pki-types`: TLS and PEM parsing; `rcgen`: the
//!   self-signed certificate generated when none is given.
//! - `arc-swap`: the policy set and the certificate, replaced without locks on reload.
//! - `notify`: inotify watches on policy and certificate folders.
//! - `prometheus-client`: the metrics registry and its text format; `ahash`: the
//!   per-thread metric tallies' resource index (hashed on every review).
//! - `tracing`, `tracing-subscriber`: structured JSON logs.
//! - `base64`: the JSON Patch in mutate answers (standard alphabet, as Kubernetes reads it).

pub mod apply;
pub mod cli;
pub mod commands;
pub mod jp;
pub mod report;
pub mod resources;
pub mod run;
pub mod serve;
pub mod testsuite;
pub mod values;
