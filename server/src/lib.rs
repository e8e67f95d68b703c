//! # kyvm
//!
//! The `kyvm` binary's library: the CLI (`apply`, `test`, `compile`, `jp`) over the compiler
//! and engine crates. Thin by design: argument parsing, file I/O, output formats.
//!
//! - [`cli`]: flags, parsed into plain structs before anything expensive is built.
//! - [`resources`], [`values`]: resource files, values and user-info files.
//! - [`run`]: the evaluation driver shared by `apply` and `test`.
//! - [`apply`], [`report`]: `kyvm apply` and its policy report.
//! - [`testsuite`]: `kyvm test` over `kyverno-test.yaml` suites.
//! - [`jp`]: `kyvm jp query` and `kyvm jp function`.
//! - [`commands`]: each subcommand, returning its exit code.
//!
//! ## Dependencies
//! - `clap`: argument parsing and help.
//! - `serde`, `serde_yaml`, `serde_json`: test files, values files, JSON and YAML output.
//! - `bumpalo`: the arena the CLI builds request facts in.

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
