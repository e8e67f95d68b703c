//! JSON Patch over arena documents (`kyvm_engine::patch`): properties of `diff` and
//! `apply` on generated documents.
//!
//! - Applying `diff(a, b)` to `a` gives `b` (as JSON data), and the diff of a document
//!   with itself is empty: the two properties the mutation webhook's patches rest on.
//! - The patch survives its JSON text: printed with `write_patch`, read back by
//!   serde_json, it has the same operations.
//! - Arbitrary operations never panic: they apply or give a `PatchError`.

use bumpalo::collections::Vec as BumpVec;
use bumpalo::Bump;
use kyvm_engine::json::decode;
use kyvm_engine::patch::{apply, diff, same_data, write_patch, Op, Pointer};
use kyvm_engine::{Limits, Value};
use proptest::prelude::*;
use serde_json::Value as J;

/// Few keys and small arrays, so that two generated documents overlap and their diff
/// mixes adds, removes, replaces and recursion.
fn document() -> impl Strategy<Value = J> {
    let leaf = prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        (-3i64..4).prop_map(J::from),
        prop::sample::select(vec![0.5f64, 2.0]).prop_map(J::from),
        prop::sample::select(vec!["", "a", "b/c", "~x"]).prop_map(J::from),
    ];
    leaf.prop_recursive(4, 48, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(J::Array),
            prop::collection::btree_map(prop::sample::select(vec!["a", "b", "c", "d/e", "f~g"]), inner, 0..5)
                .prop_map(|m| J::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
}

fn arena_doc<'a>(bump: &'a Bump, v: &J) -> Value<'a> {
    let text = bump.alloc_str(&v.to_string());
    decode(text.as_bytes(), bump, &Limits::default()).expect("serde_json output decodes")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn applying_the_diff_gives_the_target(a in document(), b in document()) {
        let bump = Bump::new();
        let (x, y) = (arena_doc(&bump, &a), arena_doc(&bump, &b));
        let mut ops = BumpVec::new_in(&bump);
        diff(&bump, x, y, &mut ops);
        let patched = apply(&bump, x, &ops);
        prop_assert!(patched.is_ok(), "{a} -> {b}: {:?}", patched.err());
        let patched = patched.unwrap();
        prop_assert!(same_data(patched, y), "{a} -> {b} gave {patched}");

        let mut none = BumpVec::new_in(&bump);
        diff(&bump, y, y, &mut none);
        prop_assert!(none.is_empty());

        // The JSON text is a valid JSON Patch with the same operations.
        let mut text = String::new();
        write_patch(&mut text, &ops).unwrap();
        let parsed: J = serde_json::from_str(&text).expect("the patch is JSON");
        let items = parsed.as_array().expect("a list");
        prop_assert_eq!(items.len(), ops.len());
        for (item, op) in items.iter().zip(ops.iter()) {
            prop_assert_eq!(item["op"].as_str(), Some(op.name()));
            let path = item["path"].as_str().expect("path");
            let round = Pointer::parse(&bump, bump.alloc_str(path)).expect("a pointer");
            let original = match op { Op::Add { path, .. } | Op::Remove { path } | Op::Replace { path, .. } => *path, _ => unreachable!() };
            prop_assert_eq!(round, original);
        }
    }

    #[test]
    fn arbitrary_operations_never_panic(a in document(), v in document(), path in "(/(a|b|c|d~1e|f~0g|0|1|2|-|x~|01)){0,4}", from in "(/(a|b|0|1)){0,3}", kind in 0u8..6) {
        let bump = Bump::new();
        let (x, value) = (arena_doc(&bump, &a), arena_doc(&bump, &v));
        let Ok(path) = Pointer::parse(&bump, bump.alloc_str(&path)) else { return Ok(()) };
        let from = Pointer::parse(&bump, bump.alloc_str(&from)).expect("pointer");
        let op = match kind {
            0 => Op::Add { path, value },
            1 => Op::Remove { path },
            2 => Op::Replace { path, value },
            3 => Op::Move { from, path },
            4 => Op::Copy { from, path },
            _ => Op::Test { path, value },
        };
        let _ = apply(&bump, x, &[op]);
    }
}
