//! VM stage: arbitrary bytes → JSON decoder → `Request` → `vm::evaluate` over a fixed
//! policy set (../policies/evaluate_review.yaml, compiled once). The input is read as an
//! AdmissionReview when it is one, else as a bare object created with `CREATE`.
//! Decoding errors and engine errors (step limit) are fine; panics are not.
#![no_main]

use std::sync::OnceLock;

use kyvm_engine::{vm, Limits, Operation, Program, Request, Scratch};
use libfuzzer_sys::fuzz_target;

const POLICIES: &str = include_str!("../policies/evaluate_review.yaml");

fn program() -> &'static Program {
    static PROGRAM: OnceLock<Program> = OnceLock::new();
    PROGRAM.get_or_init(|| {
        let compilation = kyvm_compiler::compile_str("evaluate_review.yaml", POLICIES);
        // A policy that stopped compiling would quietly shrink what this target covers:
        // refuse to start instead.
        let bad: Vec<String> = compilation
            .diagnostics
            .iter()
            .filter(|d| d.is_error() || d.code == "K0900")
            .map(|d| format!("{} {}: {}", d.code, d.path, d.message))
            .collect();
        assert!(bad.is_empty(), "fuzz/policies/evaluate_review.yaml no longer compiles cleanly:\n{}", bad.join("\n"));
        assert!(!compilation.program.rules.is_empty(), "no rules compiled");
        compilation.program
    })
}

fuzz_target!(|data: &[u8]| {
    let program = program();
    let scratch = Scratch::new(Limits::default());
    let Ok(value) = scratch.decode_json(data) else {
        return;
    };
    let req = Request::from_admission_review(value).unwrap_or_else(|| Request::for_object(value, Operation::Create));
    let evaluation = vm::evaluate(program, &req, scratch.arena(), &scratch.limits);
    if let Ok(eval) = &evaluation {
        let failed = eval.results.iter().filter(|r| !r.status.is_applied() || r.message.is_empty()).count();
        std::hint::black_box((eval.steps, failed));
    }
});
