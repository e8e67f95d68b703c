//! Conformance: every classic suite of `../shared/conformance/kyverno-policies`, run in
//! place through `kyvm test`'s own runner, scored strictly.
//!
//! The committed list `tests/conformance/ratchet.txt` names the suites that must pass in
//! full: one that fails breaks the build, with every failing row printed at once. A suite
//! that passes but is not on the list is printed so it can be added
//! (`KYVM_RATCHET_UPDATE=1 cargo test -p kyvm-tests --test conformance` rewrites the list).
//! `KYVM_CONFORMANCE_FILTER=substring` runs only matching suites. A full run also checks
//! that the share of passing rows stays above [`ROW_FLOOR`].

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use kyvm::testsuite::{self, SuiteReport};

/// Share of classic rows that must pass (strict scoring), checked on a full run. The rows
/// still failing: 5 istio rows name a rule the policy does not have.
const ROW_FLOOR: f64 = 0.99;

/// Top-level folders that hold the newer policy kinds or CEL rules: not classic.
const NON_CLASSIC_SUFFIXES: [&str; 4] = ["-cel", "-vpol", "-mpol", "-gpol"];

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance/kyverno-policies")
}

fn ratchet_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/ratchet.txt")
}

/// `best-practices/require-labels` for `.../kyverno-policies/best-practices/require-labels/.kyverno-test/kyverno-test.yaml`.
fn suite_name(root: &Path, test_file: &Path) -> String {
    let dir = test_file.parent().and_then(Path::parent).unwrap_or(test_file);
    dir.strip_prefix(root).unwrap_or(dir).display().to_string()
}

#[test]
fn classic_suites_conform() {
    let root = corpus();
    assert!(root.is_dir(), "conformance data not found at {} (the shared folder must sit beside the repository)", root.display());
    let filter = std::env::var("KYVM_CONFORMANCE_FILTER").unwrap_or_default();
    let mut top: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("read corpus")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            !NON_CLASSIC_SUFFIXES.iter().any(|s| name.ends_with(s))
        })
        .collect();
    top.sort();
    let files = testsuite::discover(&top);
    let ratchet: BTreeSet<String> = std::fs::read_to_string(ratchet_file())
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect();

    let mut passing = BTreeSet::new();
    let mut regressions = Vec::new();
    let mut newly_passing = Vec::new();
    let (mut rows, mut rows_ok, mut rows_none) = (0usize, 0usize, 0usize);
    for f in &files {
        let name = suite_name(&root, f);
        if !name.contains(&filter) {
            continue;
        }
        let report: SuiteReport = testsuite::run_suite(f);
        rows += report.rows.len();
        rows_ok += report.rows.iter().filter(|r| r.ok).count();
        rows_none += report.rows.iter().filter(|r| r.actual == "none").count();
        if report.passed() {
            passing.insert(name.clone());
            if !ratchet.contains(&name) {
                newly_passing.push(name);
            }
        } else if ratchet.contains(&name) {
            let mut detail = format!("{name}: {}\n", report.error.as_deref().unwrap_or("rows failed"));
            for r in report.rows.iter().filter(|r| !r.ok) {
                detail.push_str(&format!(
                    "    {} / {} {} {}: want {}, got {} ({})\n",
                    r.policy, r.rule, r.kind, r.resource, r.expected, r.actual, r.reason
                ));
            }
            regressions.push(detail);
        }
    }
    println!(
        "conformance: {} suites, {} passing in full; rows {rows_ok}/{rows} ({:.1}%), {rows_none} rows without a result",
        files.len(),
        passing.len(),
        if rows == 0 { 0.0 } else { 100.0 * rows_ok as f64 / rows as f64 }
    );
    for n in &newly_passing {
        println!("newly passing (add to tests/conformance/ratchet.txt): {n}");
    }
    if std::env::var("KYVM_RATCHET_UPDATE").is_ok() && filter.is_empty() {
        let mut text = String::from("# Classic conformance suites that must pass in full (strict scoring).\n");
        text.push_str("# Regenerate: KYVM_RATCHET_UPDATE=1 cargo test -p kyvm-tests --test conformance\n");
        for n in &passing {
            text.push_str(n);
            text.push('\n');
        }
        std::fs::write(ratchet_file(), text).expect("write ratchet");
    }
    assert!(regressions.is_empty(), "{} suite(s) on the ratchet list fail:\n{}", regressions.len(), regressions.join("\n"));
    if filter.is_empty() {
        let share = rows_ok as f64 / rows.max(1) as f64;
        assert!(share >= ROW_FLOOR, "{rows_ok} of {rows} rows pass ({:.1}%), below the floor of {:.0}%", 100.0 * share, 100.0 * ROW_FLOOR);
    }
}
