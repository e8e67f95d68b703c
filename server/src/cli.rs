//! Command-line definitions: parsed into plain structs first, then run.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// kyvm: Kyverno policies, compiled.
#[derive(Debug, Parser)]
#[command(name = "kyvm", version, about = "Kyverno policies, compiled: apply, test and compile Kyverno policies", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply policies to resource files and report the results.
    Apply(ApplyArgs),
    /// Run Kyverno CLI test suites (kyverno-test.yaml) found under the paths.
    Test(TestArgs),
    /// Compile policies and print diagnostics or a compiled form.
    Compile(CompileArgs),
    /// Kyverno's JMESPath dialect: evaluate expressions, list functions.
    #[command(subcommand)]
    Jp(JpCommand),
    /// Run the admission webhook (HTTPS): Kyverno's /validate and /mutate routes.
    Serve(ServeArgs),
}

#[derive(Debug, Subcommand)]
pub enum JpCommand {
    /// Evaluate JMESPath expressions over a JSON or YAML document; print JSON.
    Query(JpQueryArgs),
    /// List the functions (standard and Kyverno's) with their signatures.
    Function(JpFunctionArgs),
}

#[derive(Debug, Args)]
pub struct JpQueryArgs {
    /// Expressions to evaluate, each printed in turn.
    pub expressions: Vec<String>,
    /// The input document (JSON or YAML); stdin when absent.
    #[arg(short = 'i', long = "input")]
    pub input: Option<PathBuf>,
    /// Read the expression from a file.
    #[arg(short = 'q', long = "query")]
    pub query_file: Option<PathBuf>,
    /// Print string results without quotes.
    #[arg(short = 'u', long = "unquoted")]
    pub unquoted: bool,
}

#[derive(Debug, Args)]
pub struct JpFunctionArgs {
    /// Only these functions.
    pub names: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Policy files or folders.
    #[arg(required = true)]
    pub policies: Vec<PathBuf>,
    /// Resource files or folders.
    #[arg(short = 'r', long = "resource", required = true)]
    pub resources: Vec<PathBuf>,
    /// A values file (`kind: Values`): operations, namespace labels, variables.
    #[arg(short = 'f', long = "values-file")]
    pub values_file: Option<PathBuf>,
    /// A user-info file (`kind: UserInfo`).
    #[arg(short = 'u', long = "userinfo")]
    pub userinfo: Option<PathBuf>,
    /// Print a wgpolicyk8s.io/v1alpha2 ClusterPolicyReport instead of the summary.
    #[arg(long = "policy-report")]
    pub policy_report: bool,
    /// Format of the policy report.
    #[arg(long = "output-format", value_enum, default_value = "yaml")]
    pub output_format: ReportFormat,
    /// Report failures of Audit rules as warnings.
    #[arg(long = "audit-warn")]
    pub audit_warn: bool,
    /// Write the mutated resources as YAML: into this file, or one file per resource
    /// when it is an existing folder.
    #[arg(short = 'o', long = "output")]
    pub output: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Yaml,
    Json,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Folders (searched recursively) or kyverno-test.yaml files.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value = "table")]
    pub output: TestOutput,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TestOutput {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct CompileArgs {
    /// Policy files or folders.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// What to print besides diagnostics.
    #[arg(long = "emit", value_enum)]
    pub emit: Option<Emit>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Emit {
    /// The policy model as loaded (YAML).
    Model,
    /// The compiled instructions.
    Asm,
}

/// `kyvm serve`. Every flag can also be set through its environment variable (the
/// Deployment in deploy/ uses both).
#[derive(Clone, Debug, Args)]
pub struct ServeArgs {
    /// Policy files or folders (watched and reloaded on change). Without any, the embedded
    /// default set: Pod Security Standards baseline enforced, restricted audited.
    #[arg(long = "policies", env = "KYVM_POLICIES", value_delimiter = ',', num_args = 1..)]
    pub policies: Vec<PathBuf>,
    /// Address of the HTTPS listener (admission routes, health, metrics).
    #[arg(long, env = "KYVM_LISTEN", default_value = "0.0.0.0:9443")]
    pub listen: SocketAddr,
    /// PEM certificate chain of the serving certificate (reloaded on change).
    #[arg(long = "tls-cert", env = "KYVM_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of the serving certificate (PKCS#8, SEC1 or PKCS#1).
    #[arg(long = "tls-key", env = "KYVM_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Without --tls-cert: where the generated self-signed certificate is written (PEM),
    /// to be trusted by clients (the webhook configurations' caBundle).
    #[arg(long = "generated-ca", env = "KYVM_GENERATED_CA")]
    pub generated_ca: Option<PathBuf>,
    /// Address of the plain-HTTP metrics listener (`/metrics`); `off` disables it.
    #[arg(long = "metrics-listen", env = "KYVM_METRICS_LISTEN", default_value = "0.0.0.0:8000")]
    pub metrics_listen: String,
    /// Largest request body accepted, in bytes (413 beyond). The default fits an UPDATE
    /// of a 3 MiB object with its old copy.
    #[arg(long = "max-request-bytes", env = "KYVM_MAX_REQUEST_BYTES", default_value_t = 8 << 20)]
    pub max_request_bytes: usize,
    /// Seconds a client has to send a request's headers before the connection is closed.
    #[arg(long = "header-timeout", env = "KYVM_HEADER_TIMEOUT", default_value_t = 10)]
    pub header_timeout: u64,
    /// Admission requests being read or evaluated at once; more wait (within their
    /// deadline) for a slot.
    #[arg(long = "max-concurrent-requests", env = "KYVM_MAX_CONCURRENT_REQUESTS", default_value_t = 1024)]
    pub max_concurrent_requests: usize,
    /// On SIGTERM: seconds to keep serving with readiness false, while the endpoint is
    /// taken out of the Service, before draining.
    #[arg(long = "shutdown-delay", env = "KYVM_SHUTDOWN_DELAY", default_value_t = 5)]
    pub shutdown_delay: u64,
    /// On SIGTERM, after the delay: seconds in-flight requests have to finish.
    #[arg(long = "shutdown-timeout", env = "KYVM_SHUTDOWN_TIMEOUT", default_value_t = 20)]
    pub shutdown_timeout: u64,
    /// Worker threads (default: one per CPU).
    #[arg(long = "workers", env = "KYVM_WORKERS")]
    pub workers: Option<usize>,
    /// Log format.
    #[arg(long = "log-format", env = "KYVM_LOG_FORMAT", value_enum, default_value = "json")]
    pub log_format: LogFormat,
    /// Log filter (tracing's syntax: `info`, `kyvm=debug`, ...).
    #[arg(long = "log-level", env = "KYVM_LOG", default_value = "info")]
    pub log_level: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Json,
    Text,
}
