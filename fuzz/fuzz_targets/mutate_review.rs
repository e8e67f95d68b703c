//! Mutation stage: arbitrary bytes → JSON decoder → `Request` → `vm::mutate` over a fixed
//! policy set (../policies/mutate_review.yaml, compiled once) → the JSON Patch from the
//! original object to the mutated one, as the webhook computes it. The input is read as
//! an AdmissionReview when it is one, else as a bare object created with `CREATE`.
//!
//! Decoding errors and engine errors (step limit) are fine; panics are not, and neither
//! is a wrong patch. When the mutation succeeds:
//! - `patch::diff(original, mutated)` applied to the original gives data equal to the
//!   mutated object (the API server applies exactly that patch);
//! - the patch printed by `write_patch` decodes as a JSON array with one element per
//!   operation;
//! - the mutated object has no object with a repeated key;
//! - when no rule reports `pass` or `error`, the object is unchanged. (After an `error`
//!   the engine currently keeps the changes of the `foreach` elements that ran before the
//!   failing one, which Kyverno discards: tests/mutation.rs, `a_rule_that_errors_changes_nothing`.)
#![no_main]

use std::sync::OnceLock;

use bumpalo::collections::Vec as BumpVec;
use kyvm_engine::patch::{apply, diff, same_data, write_patch};
use kyvm_engine::{vm, Limits, Operation, Program, Request, RuleStatus, Scratch, Value};
use libfuzzer_sys::fuzz_target;

const POLICIES: &str = include_str!("../policies/mutate_review.yaml");

fn program() -> &'static Program {
    static PROGRAM: OnceLock<Program> = OnceLock::new();
    PROGRAM.get_or_init(|| {
        let compilation = kyvm_compiler::compile_str("mutate_review.yaml", POLICIES);
        // A policy that stopped compiling would quietly shrink what this target covers:
        // refuse to start instead.
        let bad: Vec<String> = compilation
            .diagnostics
            .iter()
            .filter(|d| d.is_error() || d.code == "K0900")
            .map(|d| format!("{} {}: {}", d.code, d.path, d.message))
            .collect();
        assert!(bad.is_empty(), "fuzz/policies/mutate_review.yaml no longer compiles cleanly:\n{}", bad.join("\n"));
        assert!(!compilation.program.mutations.is_empty(), "no mutate rules compiled");
        compilation.program
    })
}

/// An object somewhere in `v` with two members of the same key.
fn repeated_key(v: Value<'_>) -> Option<String> {
    match v {
        Value::Object(members) => {
            for (i, m) in members.iter().enumerate() {
                if members[..i].iter().any(|n| n.key == m.key) {
                    return Some(m.key.to_string());
                }
            }
            members.iter().find_map(|m| repeated_key(m.value))
        }
        Value::Array(items) => items.iter().find_map(|i| repeated_key(*i)),
        _ => None,
    }
}

fuzz_target!(|data: &[u8]| {
    let program = program();
    let scratch = Scratch::new(Limits::default());
    let Ok(value) = scratch.decode_json(data) else {
        return;
    };
    let req = Request::from_admission_review(value).unwrap_or_else(|| Request::for_object(value, Operation::Create));
    let Ok(mutated) = vm::mutate(program, &req, scratch.arena(), &scratch.limits) else {
        return;
    };
    let (original, object) = (req.object, mutated.object);
    let bump = scratch.arena();

    let mut ops = BumpVec::new_in(bump);
    diff(bump, original, object, &mut ops);
    match apply(bump, original, &ops) {
        Ok(patched) => assert!(same_data(patched, object), "the diff applied gives\n{patched}\nnot the mutated object\n{object}"),
        Err(e) => panic!("the diff does not apply to the original: {e}\noriginal {original}\nmutated {object}"),
    }

    let mut text = String::new();
    write_patch(&mut text, &ops).expect("write to a String");
    // One level more than the object's own nesting: the patch wraps values in an op.
    let limits = Limits { max_depth: scratch.limits.max_depth + 4, max_document_bytes: usize::MAX, ..scratch.limits };
    match kyvm_engine::json::decode(text.as_bytes(), bump, &limits) {
        Ok(Value::Array(items)) => assert_eq!(items.len(), ops.len(), "the printed patch has another number of operations: {text}"),
        Ok(other) => panic!("the printed patch is not a list: {other}"),
        Err(e) => panic!("the printed patch is not JSON ({e:?}): {text}"),
    }

    if let Some(key) = repeated_key(object) {
        panic!("the mutated object repeats the key {key:?}: {object}");
    }

    // Only a rule that passes changes the object (one that errors changes nothing).
    let acted = mutated.results.iter().any(|r| r.status == RuleStatus::Pass);
    if !acted {
        assert!(ops.is_empty(), "no rule passed, yet the object changed: {text}");
    }
    std::hint::black_box(mutated.steps);
});
