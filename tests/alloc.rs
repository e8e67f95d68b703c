//! Zero global-heap allocations per evaluation on the pass path.
//!
//! A counting global allocator wraps the system allocator. After a few warm-up requests
//! (the per-thread arena grows to its working size), decoding a Pod AdmissionReview and
//! evaluating the Pod Security policies of the shared corpus that kyvm compiles fully
//! (patterns, `deny` conditions with variables, which build the JSON context and
//! evaluate JMESPath, and `podSecurity` rules) must not allocate at all: documents, the context,
//! frames and results live in the reset arena.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use kyvm_engine::{vm, Limits, Request, RuleStatus, Scratch};

struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: delegates every call to `System`, only counting.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const REVIEW: &str = r#"{
  "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
  "request": {
    "uid": "0df28fbd-5f5f-4fb6-9b3b-1d0b6b8e9a6e",
    "kind": {"group": "", "version": "v1", "kind": "Pod"},
    "resource": {"group": "", "version": "v1", "resource": "pods"},
    "name": "web", "namespace": "team-a", "operation": "CREATE",
    "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
    "object": {
      "apiVersion": "v1", "kind": "Pod",
      "metadata": {"name": "web", "namespace": "team-a", "labels": {"app.kubernetes.io/name": "web"}},
      "spec": {
        "securityContext": {"runAsNonRoot": true, "runAsUser": 1000, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [
          {"name": "app", "image": "registry.example.com/web:1.2.3",
           "ports": [{"containerPort": 8080}],
           "securityContext": {"allowPrivilegeEscalation": false, "runAsNonRoot": true, "capabilities": {"drop": ["ALL"]}},
           "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}}},
          {"name": "sidecar", "image": "registry.example.com/proxy:2",
           "securityContext": {"allowPrivilegeEscalation": false, "runAsNonRoot": true, "capabilities": {"drop": ["ALL"]}}}
        ]
      }
    }
  }
}"#;

fn pod_security_policies() -> Vec<PathBuf> {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/conformance/kyverno-policies/pod-security"));
    let mut out = Vec::new();
    for level in ["baseline", "restricted"] {
        let dir = root.join(level);
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir).expect("corpus").filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        for policy_dir in entries {
            let name = policy_dir.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
            let file = policy_dir.join(format!("{name}.yaml"));
            if file.exists() {
                out.push(file);
            }
        }
    }
    // The `validate.podSecurity` policies: the Pod Security checks read the arena too.
    for sub in ["subrule/podsecurity-subrule-baseline", "subrule/restricted/restricted-exclude-capabilities"] {
        let dir = root.join(sub);
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        out.push(dir.join(format!("{name}.yaml")));
    }
    out
}

#[test]
fn pass_path_allocates_nothing() {
    let comp = kyvm_compiler::compile_paths(&pod_security_policies());
    assert!(!comp.has_errors());
    // Drop policies that use features not compiled yet (they would report `error`).
    let unsupported: Vec<&str> = comp.diagnostics.iter().filter(|d| d.code == "K0900").filter_map(|d| d.rule.as_deref()).collect();
    let kept: Vec<PathBuf> = pod_security_policies()
        .into_iter()
        .filter(|f| {
            let stem = f.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
            !unsupported.iter().any(|r| r.starts_with(&format!("{stem}/")))
        })
        .collect();
    let comp = kyvm_compiler::compile_paths(&kept);
    assert!(comp.program.rules.len() >= 20, "expected the corpus's rules, got {}", comp.program.rules.len());
    assert!(!comp.program.condition_sets.is_empty(), "rules with deny conditions are covered");
    assert_eq!(comp.program.pod_security.len(), 6, "two podSecurity rules, each with its two autogen rules, are covered");

    let mut scratch = Scratch::new(Limits::default());
    let run = |scratch: &mut Scratch| -> usize {
        scratch.reset();
        let doc = scratch.decode_json(REVIEW.as_bytes()).expect("decode");
        let req = Request::from_admission_review(doc).expect("request");
        let eval = vm::evaluate(&comp.program, &req, scratch.arena(), &scratch.limits).expect("evaluate");
        for r in eval.results.iter() {
            assert_eq!(r.status, RuleStatus::Pass, "{}: {}", comp.program.rule(r.rule).map(|m| &*m.name).unwrap_or("?"), r.message);
        }
        eval.results.len()
    };
    let evaluated = run(&mut scratch);
    assert!(evaluated >= 10, "only {evaluated} rules applied to the Pod");
    for _ in 0..5 {
        run(&mut scratch);
    }
    ALLOCATIONS.store(0, Ordering::SeqCst);
    COUNTING.store(true, Ordering::SeqCst);
    for _ in 0..100 {
        run(&mut scratch);
    }
    COUNTING.store(false, Ordering::SeqCst);
    assert_eq!(ALLOCATIONS.load(Ordering::SeqCst), 0, "global-heap allocations in 100 evaluations");

    // The instrument itself: an allocation while counting is seen.
    COUNTING.store(true, Ordering::SeqCst);
    let probe: Vec<u8> = Vec::with_capacity(std::hint::black_box(64));
    COUNTING.store(false, Ordering::SeqCst);
    drop(probe);
    assert_eq!(ALLOCATIONS.load(Ordering::SeqCst), 1, "the counting allocator must see allocations");
}
