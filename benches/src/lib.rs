//! # kyvm-benches
//!
//! Shared setup for the Criterion benchmarks in `benches/`: where the conformance data
//! lives, and the policy set the benchmarks evaluate. See README.md for the commands and
//! the numbers measured.

pub mod peers;
pub mod scaling;

use std::path::{Path, PathBuf};

use kyvm_compiler::Compilation;
use kyvm_engine::{vm, Program, Request, Scratch};

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

/// Policy folders of kyverno/policies that hold the CEL-based variants
/// (ValidatingPolicy, ImageValidatingPolicy, GeneratingPolicy, MutatingPolicy,
/// DeletingPolicy, CEL expressions in ClusterPolicy): not the classic policies.
pub const VARIANT_SUFFIXES: &[&str] = &["-cel", "-vpol", "-ivpol", "-gpol", "-mpol", "-dpol"];

/// Every subfolder of kyverno-policies (`root`) holding classic policies: not hidden, and
/// not one of the [`VARIANT_SUFFIXES`] folders. Sorted.
pub fn classic_policy_folders(root: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(root).map_err(|e| format!("cannot list {}: {e}", root.display()))?;
    let mut folders: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or(".");
            !name.starts_with('.') && !VARIANT_SUFFIXES.iter().any(|s| name.ends_with(s))
        })
        .collect();
    folders.sort();
    Ok(folders)
}

/// Resident memory of a process, from `/proc/<pid>/status`, in KiB.
#[derive(Clone, Copy, Debug)]
pub struct Memory {
    /// `VmRSS`: resident now.
    pub rss_kib: u64,
    /// `VmHWM`: the peak resident set so far.
    pub hwm_kib: u64,
}

impl Memory {
    /// VmRSS and VmHWM of a process.
    pub fn of(pid: u32) -> Result<Memory, String> {
        Memory::read(&format!("/proc/{pid}/status"))
    }

    /// VmRSS and VmHWM of this process.
    pub fn own() -> Result<Memory, String> {
        Memory::read("/proc/self/status")
    }

    fn read(path: &str) -> Result<Memory, String> {
        let status = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
        let field = |name: &str| -> Result<u64, String> {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
                .ok_or_else(|| format!("no {name} in {path}"))
        };
        Ok(Memory { rss_kib: field("VmRSS:")?, hwm_kib: field("VmHWM:")? })
    }
}

/// What the webhook does per request: reset the scratch, decode the AdmissionReview,
/// build the request, evaluate. Returns the number of rule results; panics on a review
/// the engine cannot take (benchmark and test inputs are known good).
pub fn evaluate_review(program: &Program, scratch: &mut Scratch, bytes: &[u8]) -> usize {
    scratch.reset();
    let value = scratch.decode_json(bytes).expect("the review decodes");
    let req = Request::from_admission_review(value).expect("an AdmissionReview with a request");
    vm::evaluate(program, &req, scratch.arena(), &scratch.limits).expect("the program evaluates").results.len()
}

/// KiB as MiB with one decimal: `15.7 MiB`.
pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// A count with thousands separators: `1,000,000`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
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
