//! kyvm asks nothing of the global heap per review once its scratch arena has grown:
//! decode, request, evaluation and verdict all live in the arena. Counted (not timed)
//! with the counting allocator of the test-support crate (`kyvm_tests::counting`), on every payload of the `peers` bench
//! (passing and failing), on the broad policy set of the `eval` bench, and on the largest
//! sets of the `scaling` bench.
//!

use kyvm_benches::peers::{Kyvm, PAYLOADS};
use kyvm_benches::{evaluate_review, scaling};
use kyvm_engine::{Limits, Scratch};
use kyvm_tests::counting::{self, Allocations, Counting};

#[global_allocator]
static ALLOC: Counting = Counting;

/// Reviews before counting: the arena reaches the size the review needs.
const WARM_UP: u64 = 3;
const COUNTED: u64 = 10;

fn per_review(review: impl FnMut()) -> Allocations {
    counting::after_warm_up(WARM_UP, COUNTED, review)
}

#[test]
fn reviews_allocate_nothing_on_the_global_heap() {
    assert!(counting::installed(), "the counting allocator counts");
    let mut scratch = Scratch::new(Limits::default());

    let kyvm = Kyvm::load().expect("the peers' policies compile");
    for p in PAYLOADS {
        let a = per_review(|| assert_eq!(kyvm.end_to_end(&mut scratch, p.bytes).unwrap(), p.expected));
        assert_eq!(a, Allocations::default(), "peers' policies on {}: {COUNTED} reviews", p.name);
    }

    let root = kyvm_benches::conformance_dir().join("kyverno-policies");
    let set = kyvm_benches::fully_compiled_policies(&[root.join("pod-security"), root.join("best-practices")]);
    let bytes = include_bytes!("../data/pod-review.json");
    let mut results = 0;
    let a = per_review(|| results = evaluate_review(&set.compilation.program, &mut scratch, bytes));
    assert!(results > 20, "{results} rule results");
    assert_eq!(a, Allocations::default(), "pod-security + best-practices on data/pod-review.json");

    let review = PAYLOADS[0].bytes;
    let matching = scaling::matching_policies().unwrap();
    let others = scaling::non_matching_policies("Pod").unwrap();
    for (what, text) in [
        ("1,000 loaded policies", scaling::loaded_set(1000, &matching, &others)),
        ("1,000 matching rules", scaling::matching_rules_set(1000, &matching)),
    ] {
        let program = kyvm_compiler::compile_str("scaling.yaml", &text).program;
        let a = per_review(|| {
            evaluate_review(&program, &mut scratch, review);
        });
        assert_eq!(a, Allocations::default(), "{what}");
    }
}
