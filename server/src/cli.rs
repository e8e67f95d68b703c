//! Command-line definitions: parsed into plain structs first, then run.

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
