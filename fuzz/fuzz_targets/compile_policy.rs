//! Compiler stage: arbitrary text → `compile_str`. Whatever the YAML, the compiler must
//! answer with a program and diagnostics, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let compilation = kyvm_compiler::compile_str("fuzz.yaml", text);
        // Touch the results so nothing is optimised away.
        std::hint::black_box((compilation.program.code.len(), compilation.diagnostics.len(), compilation.policies.len()));
    }
});
