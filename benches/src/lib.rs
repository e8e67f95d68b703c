//! # kyvm-benches
//!
//! Shared setup for the Criterion benchmarks in `benches/`: where the conformance data
//! lives, and the policy set the benchmarks evaluate. See README.md for the commands and
//! the numbers measured.

pub mod peers;

use std::path::{Path, PathBuf};

use kyvm_compiler::Compilation;

/// The shared conformance data (`../shared/conformance` from the repository root).
pub fn conformance_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance")
}

/// Policy YAML files under `dir`, sorted, skipping every file inside a folder whose name
/// starts with `.` (the `.kyverno-test/` and `.chainsaw-test/` suites hold resources and
/// test files, not policies).
pub fn policy_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    walk(dir, &mut out);
    out.sort();
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let hidden = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'));
        if path.is_dir() {
            if !hidden {
                walk(&path, out);
            }
        } else if matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
            out.push(path);
        }
    }
}

/// A compiled policy set and what was left out of it.
#[derive(Debug)]
pub struct PolicySet {
    pub compilation: Compilation,
    /// Policy files compiled into the set.
    pub kept: Vec<PathBuf>,
    /// Policy files left out: a rule uses a feature not compiled yet (`K0900`), or the
    /// file does not compile cleanly.
    pub skipped: Vec<PathBuf>,
}

/// Compiles the policy files of `dirs`, keeping only the files whose compilation gives no
/// `K0900` diagnostic and no error: policies whose every rule kyvm compiles (patterns,
/// `anyPattern`, `deny`, `foreach`, variables), so the benchmark measures the VM and not
/// `error` stubs.
pub fn fully_compiled_policies(dirs: &[PathBuf]) -> PolicySet {
    let mut kept = Vec::new();
    let mut skipped = Vec::new();
    for file in dirs.iter().flat_map(|d| policy_files(d)) {
        let alone = kyvm_compiler::compile_paths(std::slice::from_ref(&file));
        let clean = !alone.has_errors() && !alone.diagnostics.iter().any(|d| d.code == "K0900");
        if clean && !alone.policies.is_empty() {
            kept.push(file);
        } else {
            skipped.push(file);
        }
    }
    let compilation = kyvm_compiler::compile_paths(&kept);
    PolicySet { compilation, kept, skipped }
}
