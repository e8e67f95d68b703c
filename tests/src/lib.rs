//! Shared helpers for kyvm's cross-crate test suites.
//!
//! - [`reference`]: a naive tree-walking evaluator of Kyverno's `validate.pattern`, the
//!   other side of the differential tests against the compiled VM.
//! - [`eval`]: compile a policy and evaluate one resource, the way the CLI does.
//! - [`counting`]: a per-thread counting allocator for zero-allocation tests.

pub mod reference;

pub mod eval {
    use kyvm_compiler::compile_str;
    use kyvm_engine::{vm, Limits, Operation, Request, RuleStatus, Scratch};

    /// One rule result, owned.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Result {
        pub rule: String,
        pub status: RuleStatus,
        pub message: String,
    }

    /// Compiles `policy_yaml` (which must compile without errors) and evaluates
    /// `resource_yaml` with operation CREATE.
    pub fn run(policy_yaml: &str, resource_yaml: &str) -> Vec<Result> {
        run_with(policy_yaml, resource_yaml, Operation::Create)
    }

    /// Like [`run`], with another operation; as in the CLI, the resource is also the
    /// old object of an UPDATE or DELETE.
    pub fn run_with(policy_yaml: &str, resource_yaml: &str, operation: Operation) -> Vec<Result> {
        let comp = compile_str("policy.yaml", policy_yaml);
        assert!(!comp.has_errors(), "policy does not compile: {:#?}", comp.diagnostics);
        let resource: serde_yaml::Value = serde_yaml::from_str(resource_yaml).expect("resource YAML");
        let scratch = Scratch::new(Limits::default());
        let object = kyvm_compiler::resource::to_arena(&resource, scratch.arena());
        let mut req = Request::for_object(object, operation);
        if operation != Operation::Create {
            req.old_object = object;
        }
        let eval = vm::evaluate(&comp.program, &req, scratch.arena(), &scratch.limits).expect("evaluation");
        eval.results
            .iter()
            .map(|r| Result {
                rule: comp.program.rule(r.rule).map(|m| m.name.to_string()).unwrap_or_default(),
                status: r.status,
                message: r.message.to_string(),
            })
            .collect()
    }
}

pub mod counting {
    //! Counts the global-heap allocations the current thread makes while its counter is
    //! armed, so parallel tests do not disturb each other. A test binary installs it with
    //! `#[global_allocator] static GLOBAL: Counting = Counting;` and measures with
    //! [`count_allocations`].

    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    pub struct Counting;

    thread_local! {
        static ARMED: Cell<bool> = const { Cell::new(false) };
        static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    }

    fn note_allocation() {
        if ARMED.try_with(Cell::get).unwrap_or(false) {
            let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        }
    }

    // SAFETY: delegates every call to `System`, only counting.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            note_allocation();
            unsafe { System.alloc(layout) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            unsafe { System.dealloc(ptr, layout) }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            note_allocation();
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    /// Global-heap allocations made by `f` on this thread (when [`Counting`] is the
    /// binary's global allocator).
    pub fn count_allocations<T>(f: impl FnOnce() -> T) -> (T, usize) {
        ALLOCATIONS.with(|c| c.set(0));
        ARMED.with(|a| a.set(true));
        let out = f();
        ARMED.with(|a| a.set(false));
        (out, ALLOCATIONS.with(Cell::get))
    }
}

/// Reading the shared corpora in place.
pub mod corpus {
    use std::path::{Path, PathBuf};

    /// The entries of `dir`, sorted (stable test order across file systems).
    pub fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
            .map(|e| e.expect("directory entry").path())
            .collect();
        entries.sort();
        entries
    }

    /// The last component of `path`, `""` when it has none.
    pub fn file_name(path: &Path) -> &str {
        path.file_name().and_then(|n| n.to_str()).unwrap_or_default()
    }
}
