//! A counting global allocator: how many times, and how many bytes, the global heap is
//! asked for while a piece of code runs.
//!
//! A binary that wants the counts installs it:
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOC: kyvm_benches::alloc::Counting = kyvm_benches::alloc::Counting;
//! ```
//!
//! and measures with [`count`]. Counting is off until [`count`] turns it on, so the rest
//! of the binary (Criterion's timing loops in particular) pays one relaxed load per
//! allocation and nothing else: the timed engines are not slowed by the counter.
//! Counts are process-wide: [`count`] is meant for a single-threaded measurement.
//!
//! To find where counted allocations come from, set `KYVM_ALLOC_TRACE=1`: each one then
//! prints a backtrace on stderr (slowly; for a test, not for a benchmark).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

/// The system allocator, counting while [`count`] runs.
pub struct Counting;

static ON: AtomicBool = AtomicBool::new(false);
static CALLS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);
static TRACE: AtomicBool = AtomicBool::new(false);

#[inline]
fn tally(bytes: usize) {
    if ON.load(Relaxed) {
        if TRACE.load(Relaxed) {
            ON.store(false, Relaxed);
            // Capturing and printing allocate: not counted.
            eprintln!("counted allocation of {bytes} bytes at\n{}", std::backtrace::Backtrace::force_capture());
            ON.store(true, Relaxed);
        }
        CALLS.fetch_add(1, Relaxed);
        BYTES.fetch_add(bytes as u64, Relaxed);
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the
// counters are plain atomics and never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        tally(layout.size());
        // SAFETY: forwarded as received.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        tally(layout.size());
        // SAFETY: forwarded as received.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // A reallocation is one more request to the heap, for the new size.
        tally(new_size);
        // SAFETY: forwarded as received.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as received.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Heap requests (`alloc`, `alloc_zeroed`, `realloc`) and the bytes they asked for.
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

/// Runs `f` with counting on and returns what it asked of the heap. Only meaningful in a
/// binary whose global allocator is [`Counting`] (otherwise it returns zero), and while
/// no other thread allocates.
pub fn count<R>(f: impl FnOnce() -> R) -> (R, Allocations) {
    CALLS.store(0, Relaxed);
    BYTES.store(0, Relaxed);
    TRACE.store(std::env::var_os("KYVM_ALLOC_TRACE").is_some(), Relaxed);
    ON.store(true, Relaxed);
    let out = f();
    ON.store(false, Relaxed);
    (out, Allocations { calls: CALLS.load(Relaxed), bytes: BYTES.load(Relaxed) })
}

/// Whether this binary's global allocator is [`Counting`]: one boxed byte, counted.
pub fn installed() -> bool {
    let (_, a) = count(|| std::hint::black_box(Box::new(0u8)));
    a.calls > 0
}
