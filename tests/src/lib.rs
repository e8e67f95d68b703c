//! Shared helpers for kyvm's cross-crate test suites.
//!
//! - [`reference`]: a naive tree-walking evaluator of Kyverno's `validate.pattern`, the
//!   other side of the differential tests against the compiled VM.
//! - [`eval`]: compile a policy and evaluate one resource, the way the CLI does.
//! - [`counting`]: a per-thread counting allocator for zero-allocation tests (and the
//!   allocation counts of the benchmarks).

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
    //! Counts the global-heap requests (`alloc`, `alloc_zeroed`, `realloc`) and the bytes
    //! they ask for, made by the current thread while its counter is armed, so parallel
    //! tests do not disturb each other. A binary installs it with
    //! `#[global_allocator] static GLOBAL: Counting = Counting;` and measures with
    //! [`count`]. Disarmed, it costs a thread-local read per allocation: the benchmarks
    //! install it too, and time engines with it disarmed.
    //!
    //! To find where counted allocations come from, set `KYVM_ALLOC_TRACE=1`: each one
    //! then prints a backtrace on stderr (slowly; for a test, not for a benchmark).

    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    pub struct Counting;

    thread_local! {
        static ARMED: Cell<bool> = const { Cell::new(false) };
        static TRACE: Cell<bool> = const { Cell::new(false) };
        static COUNTED: Cell<Allocations> = const { Cell::new(Allocations { calls: 0, bytes: 0 }) };
    }

    fn note_allocation(bytes: usize) {
        if !ARMED.try_with(Cell::get).unwrap_or(false) {
            return;
        }
        let _ = COUNTED.try_with(|c| {
            let a = c.get();
            c.set(Allocations { calls: a.calls + 1, bytes: a.bytes + bytes as u64 });
        });
        if TRACE.try_with(Cell::get).unwrap_or(false) {
            // Capturing and printing allocate: not counted.
            ARMED.set(false);
            eprintln!("counted allocation of {bytes} bytes at\n{}", std::backtrace::Backtrace::force_capture());
            ARMED.set(true);
        }
    }

    // SAFETY: delegates every call to `System` with its arguments unchanged, only
    // counting in thread-locals that never allocate.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            note_allocation(layout.size());
            unsafe { System.alloc(layout) }
        }

        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            note_allocation(layout.size());
            unsafe { System.alloc_zeroed(layout) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            unsafe { System.dealloc(ptr, layout) }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            // One more request to the heap, for the new size.
            note_allocation(new_size);
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    /// Heap requests and the bytes they asked for.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct Allocations {
        pub calls: u64,
        pub bytes: u64,
    }

    impl Allocations {
        /// Per run, when `self` counts `runs` runs (rounded to the nearest whole number).
        pub fn per(self, runs: u64) -> Allocations {
            let runs = runs.max(1);
            Allocations { calls: (self.calls + runs / 2) / runs, bytes: (self.bytes + runs / 2) / runs }
        }
    }

    /// What `f` asked of the global heap on this thread (zero unless [`Counting`] is the
    /// binary's global allocator: see [`installed`]).
    pub fn count<T>(f: impl FnOnce() -> T) -> (T, Allocations) {
        COUNTED.set(Allocations::default());
        TRACE.set(std::env::var_os("KYVM_ALLOC_TRACE").is_some());
        ARMED.set(true);
        let out = f();
        ARMED.set(false);
        (out, COUNTED.get())
    }

    /// What `runs` calls of `run` ask of the heap in all, after `warm_up` uncounted calls
    /// (buffers and arenas reach the size the work needs).
    pub fn after_warm_up(warm_up: u64, runs: u64, mut run: impl FnMut()) -> Allocations {
        for _ in 0..warm_up {
            run();
        }
        count(|| {
            for _ in 0..runs {
                run();
            }
        })
        .1
    }

    /// Whether this binary's global allocator is [`Counting`]: one boxed byte, counted.
    pub fn installed() -> bool {
        let (_, a) = count(|| std::hint::black_box(Box::new(0u8)));
        a.calls > 0
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
