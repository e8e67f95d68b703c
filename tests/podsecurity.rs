//! Pod Security Standards: upstream's fixtures, and properties of the checks.
//!
//! - `upstream_fixtures`: every Pod of `../shared/conformance/pod-security/LEVEL/vX.Y/`
//!   (kubernetes/pod-security-admission's test data, read in place): those under `pass/`
//!   must be allowed and those under `fail/` denied, at that level and version. A denied
//!   fixture must also be denied by the check it is named after (or, at the restricted
//!   level, by the restricted check that overrides it). All mismatches
//!   are reported at once; `KYVM_PSS_FILTER=substring` runs only the fixtures whose path
//!   (`restricted/v1.25/fail/runasuser0.yaml`) contains the substring.
//! - `upstream_fixtures_through_compiled_rules`: the same fixtures through the product's
//!   path: a `ClusterPolicy` with `podSecurity: {level, version}` per folder, compiled by
//!   kyvm's compiler and run by the VM, for the Pod and for the Pod wrapped in a
//!   Deployment (the `autogen-` rule): `pass` for `pass/`, `fail` for `fail/`.
//! - proptests: arbitrary documents never panic any level or version, and the pass path
//!   allocates nothing on the global heap.

use std::path::{Path, PathBuf};

use bumpalo::Bump;
use kyvm_compiler::resource::to_arena;
use kyvm_engine::podsecurity::{controls, evaluate, Control, Level, Report, Version};
use kyvm_engine::{Member, Value};
use kyvm_tests::corpus::{file_name, sorted_entries};
use kyvm_tests::counting::{self, Counting};
use proptest::prelude::*;

#[global_allocator]
static GLOBAL: Counting = Counting;

// ---------------------------------------------------------------------------------------
// The fixtures.

const FIXTURES: usize = 4537;

fn fixture_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/conformance/pod-security"))
}

/// The control a fixture is named after: `capabilities_baseline3.yaml` → `capabilities_baseline`.
fn named_control(file: &str) -> Option<Control> {
    let stem = file.strip_suffix(".yaml")?.trim_end_matches(|c: char| c.is_ascii_digit());
    Control::ALL.into_iter().find(|c| c.id().eq_ignore_ascii_case(stem))
}

/// The control expected to deny a `fail/` fixture named after `named`: itself, or the
/// restricted check that replaces it at this level and version.
fn expected_control(named: Control, level: Level, version: Version) -> Option<Control> {
    let set = controls(level, version);
    if set.contains(named) {
        return Some(named);
    }
    set.iter().find(|c| c.overrides() == Some(named))
}

fn failing_ids(report: &Report<'_>) -> Vec<&'static str> {
    report.failures.iter().map(|f| f.control.id()).collect()
}

/// Checks one fixture; `Err` says what is wrong.
fn run_fixture(path: &Path, level: Level, version: Version, expect_allowed: bool) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("read: {e}"))?;
    let yaml: serde_yaml::Value = serde_yaml::from_str(&text).map_err(|e| format!("yaml: {e}"))?;
    let arena = Bump::new();
    let pod = to_arena(&yaml, &arena);
    if pod.get("kind").and_then(|k| k.as_str()) != Some("Pod") {
        return Err("not a Pod".into());
    }
    let metadata = pod.get_or_null("metadata");
    let spec = pod.get_or_null("spec");
    let report = evaluate(&arena, level, version, metadata, spec).map_err(|e| format!("malformed: {e}"))?;
    for f in report.failures {
        if f.reason.is_empty() || f.violations.is_empty() {
            return Err(format!("{} failed without a reason or a violation", f.control.id()));
        }
    }
    if expect_allowed {
        if report.allowed() {
            return Ok(());
        }
        let mut details = String::new();
        report.write_details(&mut details).map_err(|e| e.to_string())?;
        return Err(format!("denied, expected allowed: {details}"));
    }
    if report.allowed() {
        return Err("allowed, expected denied".into());
    }
    let file = file_name(path);
    let named = named_control(file).ok_or_else(|| format!("no check is named like {file}"))?;
    let expected = expected_control(named, level, version).ok_or_else(|| format!("{} does not run at {level}:{version}", named.id()))?;
    // Some fixtures break more than one rule (a Windows HostProcess pod needs
    // hostNetwork; a privileged container may escalate privileges): the named check must
    // be among those that deny it, as upstream's fixture test requires.
    let got = failing_ids(&report);
    if !got.contains(&expected.id()) {
        return Err(format!("denied by {got:?}, expected by {:?}", expected.id()));
    }
    Ok(())
}

#[test]
fn upstream_fixtures() {
    let root = fixture_dir();
    assert!(root.is_dir(), "Pod Security fixtures not found at {} (the shared folder must sit beside the repository)", root.display());
    let filter = std::env::var("KYVM_PSS_FILTER").unwrap_or_default();
    let (mut total, mut passed) = (0usize, 0usize);
    let mut failures = Vec::new();
    for level_dir in sorted_entries(&root) {
        let level_name = file_name(&level_dir).to_string();
        let level = Level::parse(&level_name).unwrap_or_else(|e| panic!("{level_name}: {e}"));
        for version_dir in sorted_entries(&level_dir) {
            let version_name = file_name(&version_dir).to_string();
            let version = Version::parse(&version_name).unwrap_or_else(|e| panic!("{version_name}: {e}"));
            for (outcome, expect_allowed) in [("pass", true), ("fail", false)] {
                let dir = version_dir.join(outcome);
                if !dir.is_dir() {
                    continue;
                }
                for path in sorted_entries(&dir) {
                    let file = file_name(&path);
                    let name = format!("{level_name}/{version_name}/{outcome}/{file}");
                    if !filter.is_empty() && !name.contains(&filter) {
                        continue;
                    }
                    total += 1;
                    match run_fixture(&path, level, version, expect_allowed) {
                        Ok(()) => passed += 1,
                        Err(why) => failures.push(format!("{name}: {why}")),
                    }
                }
            }
        }
    }
    println!("Pod Security fixtures: {passed}/{total} as upstream expects");
    assert!(failures.is_empty(), "{} of {total} Pod Security fixtures disagree with upstream:\n{}", failures.len(), failures.join("\n"));
    if filter.is_empty() {
        assert_eq!(total, FIXTURES, "the pinned fixtures hold {FIXTURES} Pods");
    }
}

/// The fixtures of one level and version: (path, expect allowed).
fn fixtures_of(version_dir: &Path) -> Vec<(PathBuf, bool)> {
    let mut out = Vec::new();
    for (outcome, allowed) in [("pass", true), ("fail", false)] {
        let dir = version_dir.join(outcome);
        if dir.is_dir() {
            out.extend(sorted_entries(&dir).into_iter().map(|p| (p, allowed)));
        }
    }
    out
}

/// A Deployment whose pod template is `pod`'s metadata and spec.
fn deployment_of(pod: &serde_yaml::Value) -> serde_yaml::Value {
    let template = serde_yaml::to_string(&serde_yaml::Mapping::from_iter([
        ("metadata".into(), pod.get("metadata").cloned().unwrap_or_default()),
        ("spec".into(), pod.get("spec").cloned().unwrap_or_default()),
    ]))
    .expect("yaml");
    let text = format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: d, namespace: default}}\nspec:\n  template:\n{}",
        indent(&template, 4)
    );
    serde_yaml::from_str(&text).expect("deployment")
}

fn indent(text: &str, by: usize) -> String {
    text.lines().map(|l| format!("{:by$}{l}\n", "")).collect()
}

#[test]
fn upstream_fixtures_through_compiled_rules() {
    use kyvm_engine::{vm, Operation, Request, RuleStatus};

    let root = fixture_dir();
    let filter = std::env::var("KYVM_PSS_FILTER").unwrap_or_default();
    let (mut total, mut failures) = (0usize, Vec::new());
    for level_dir in sorted_entries(&root) {
        let level = file_name(&level_dir).to_string();
        for version_dir in sorted_entries(&level_dir) {
            let version = file_name(&version_dir).to_string();
            let policy = format!(
                "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {{name: pss}}\nspec:\n  rules:\n  - name: check\n    match: {{any: [{{resources: {{kinds: [Pod]}}}}]}}\n    validate:\n      podSecurity: {{level: {level}, version: {version}}}\n"
            );
            let comp = kyvm_compiler::compile_str("pss.yaml", &policy);
            assert!(comp.diagnostics.is_empty(), "{level}:{version}: {:?}", comp.diagnostics);
            for (path, allowed) in fixtures_of(&version_dir) {
                let file = file_name(&path);
                let name = format!("{level}/{version}/{}/{file}", if allowed { "pass" } else { "fail" });
                if !filter.is_empty() && !name.contains(&filter) {
                    continue;
                }
                total += 1;
                let text = std::fs::read_to_string(&path).expect("fixture");
                let pod: serde_yaml::Value = serde_yaml::from_str(&text).expect("fixture YAML");
                let want = if allowed { RuleStatus::Pass } else { RuleStatus::Fail };
                for (resource, rule) in [(pod.clone(), "check"), (deployment_of(&pod), "autogen-check")] {
                    let arena = Bump::new();
                    let object = to_arena(&resource, &arena);
                    let req = Request::for_object(object, Operation::Create);
                    let eval = vm::evaluate(&comp.program, &req, &arena, &kyvm_engine::Limits::default()).expect("evaluation");
                    let got: Vec<(String, RuleStatus)> = eval
                        .results
                        .iter()
                        .map(|r| (comp.program.rule(r.rule).map(|m| m.name.to_string()).unwrap_or_default(), r.status))
                        .collect();
                    if got != [(rule.to_string(), want)] {
                        let messages: Vec<&str> = eval.results.iter().map(|r| r.message).collect();
                        failures.push(format!("{name} as {rule}: got {got:?}, want {want:?} {messages:?}"));
                    }
                }
            }
        }
    }
    println!("Pod Security fixtures through compiled rules: {}/{total} (Pod and Deployment)", total - failures.len());
    assert!(failures.is_empty(), "{} disagreements:\n{}", failures.len(), failures.join("\n"));
    if filter.is_empty() {
        assert_eq!(total, FIXTURES);
    }
}

// ---------------------------------------------------------------------------------------
// Properties.

const KEYS: &[&str] = &[
    "metadata",
    "spec",
    "annotations",
    "container.apparmor.security.beta.kubernetes.io/c",
    "seccomp.security.alpha.kubernetes.io/pod",
    "container.seccomp.security.alpha.kubernetes.io/c",
    "containers",
    "initContainers",
    "ephemeralContainers",
    "name",
    "image",
    "securityContext",
    "privileged",
    "capabilities",
    "add",
    "drop",
    "ports",
    "hostPort",
    "procMount",
    "seLinuxOptions",
    "type",
    "user",
    "role",
    "seccompProfile",
    "appArmorProfile",
    "windowsOptions",
    "hostProcess",
    "allowPrivilegeEscalation",
    "runAsNonRoot",
    "runAsUser",
    "sysctls",
    "volumes",
    "hostPath",
    "nfs",
    "emptyDir",
    "hostNetwork",
    "hostPID",
    "hostIPC",
    "hostUsers",
    "os",
    "livenessProbe",
    "lifecycle",
    "postStart",
    "httpGet",
    "tcpSocket",
    "host",
];

const STRINGS: &[&str] = &[
    "",
    "c",
    "ALL",
    "NET_RAW",
    "Unmasked",
    "Default",
    "RuntimeDefault",
    "Unconfined",
    "windows",
    "unconfined",
    "localhost/x",
    "spc_t",
    "é\u{0}\"",
];

/// A JSON-like tree whose keys are mostly the ones the checks read.
#[derive(Clone, Debug)]
enum Doc {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Array(Vec<Doc>),
    Object(Vec<(String, Doc)>),
}

fn doc_strategy() -> impl Strategy<Value = Doc> {
    let leaf = prop_oneof![
        Just(Doc::Null),
        any::<bool>().prop_map(Doc::Bool),
        prop_oneof![Just(0i64), Just(-1), Just(80), Just(i64::MAX), any::<i64>()].prop_map(Doc::Int),
        prop_oneof![Just(0.0f64), Just(8080.0), Just(0.5), Just(f64::NAN), Just(1e300)].prop_map(Doc::Float),
        prop::sample::select(STRINGS).prop_map(|s| Doc::Str(s.to_string())),
    ];
    let key = prop_oneof![4 => prop::sample::select(KEYS).prop_map(str::to_string), 1 => "[a-z]{1,3}"];
    leaf.prop_recursive(6, 96, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Doc::Array),
            prop::collection::vec((key.clone(), inner), 0..6).prop_map(Doc::Object),
        ]
    })
}

fn to_value<'a>(doc: &Doc, arena: &'a Bump) -> Value<'a> {
    match doc {
        Doc::Null => Value::Null,
        Doc::Bool(b) => Value::Bool(*b),
        Doc::Int(i) => Value::Int(*i),
        Doc::Float(f) => Value::Float(*f),
        Doc::Str(s) => Value::Str(arena.alloc_str(s)),
        Doc::Array(items) => Value::Array(arena.alloc_slice_fill_iter(items.iter().map(|d| to_value(d, arena)))),
        Doc::Object(members) => Value::Object(
            arena.alloc_slice_fill_iter(members.iter().map(|(k, v)| Member { key: arena.alloc_str(k), value: to_value(v, arena) })),
        ),
    }
}

fn version_strategy() -> impl Strategy<Value = Version> {
    prop_oneof![Just(Version::LATEST), (0u32..40).prop_map(Version::v1)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_documents_never_panic(metadata in doc_strategy(), spec in doc_strategy(), version in version_strategy()) {
        let arena = Bump::new();
        let metadata = to_value(&metadata, &arena);
        let spec = to_value(&spec, &arena);
        for level in Level::ALL {
            if let Ok(report) = evaluate(&arena, level, version, metadata, spec) {
                let mut text = String::new();
                report.write_details(&mut text).unwrap();
                for f in report.failures {
                    prop_assert!(!f.reason.is_empty());
                    for v in f.violations {
                        v.write_path(&mut text, false).unwrap();
                        v.write_path(&mut text, true).unwrap();
                    }
                }
            }
        }
    }

    #[test]
    fn arbitrary_pods_under_spec_never_panic(spec in doc_strategy(), version in version_strategy()) {
        // The generator rarely nests the right keys on its own: put the tree where the
        // checks look (a container, its security context, a volume).
        let arena = Bump::new();
        let inner = to_value(&spec, &arena);
        let sc = arena.alloc([Member { key: "securityContext", value: inner }, Member { key: "name", value: Value::Str("c") }]);
        let containers = arena.alloc([Value::Object(sc), inner]);
        let members = arena.alloc([
            Member { key: "containers", value: Value::Array(containers) },
            Member { key: "initContainers", value: Value::Array(containers) },
            Member { key: "securityContext", value: inner },
            Member { key: "volumes", value: Value::Array(core::slice::from_ref(arena.alloc(inner))) },
        ]);
        let spec = Value::Object(members);
        for level in Level::ALL {
            let _ = evaluate(&arena, level, version, Value::Null, spec);
        }
    }
}

#[test]
fn passing_pods_do_not_allocate() {
    let yaml: serde_yaml::Value = serde_yaml::from_str(
        r#"
metadata:
  annotations:
    container.apparmor.security.beta.kubernetes.io/app: runtime/default
spec:
  securityContext:
    runAsNonRoot: true
    seccompProfile: {type: RuntimeDefault}
    sysctls: [{name: net.ipv4.tcp_syncookies, value: "1"}]
  initContainers:
  - name: init
    image: busybox
    securityContext:
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
  containers:
  - name: app
    image: nginx
    ports: [{containerPort: 8080}]
    readinessProbe: {httpGet: {path: /, port: 8080}}
    securityContext:
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}
  volumes:
  - name: data
    emptyDir: {}
"#,
    )
    .expect("yaml");
    let doc_arena = Bump::new();
    let pod = to_arena(&yaml, &doc_arena);
    let (metadata, spec) = (pod.get_or_null("metadata"), pod.get_or_null("spec"));
    // As in the webhook, the arena is reused: a passing pod takes a little of it (the
    // container list the checks share) and nothing from the global heap.
    let mut arena = Bump::with_capacity(16 * 1024);
    for level in Level::ALL {
        for version in [Version::v1(0), Version::v1(25), Version::LATEST] {
            arena.reset();
            let (allowed, allocations) = counting::count(|| evaluate(&arena, level, version, metadata, spec).map(|r| r.allowed()));
            assert_eq!(allowed, Ok(true), "{level}:{version}");
            assert_eq!(allocations.calls, 0, "{level}:{version} allocated on the global heap");
        }
    }
}
