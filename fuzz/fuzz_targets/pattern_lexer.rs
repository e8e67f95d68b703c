//! Pattern stage: arbitrary bytes → a pattern string and a value, split at the first NUL
//! byte (no NUL: the whole input is the pattern, the value is empty). The value is
//! checked as a string and as an integer and a float derived from it, so operators,
//! ranges, quantities, durations and globs all see both strings and numbers.
#![no_main]

use kyvm_compiler::lexer::{string_pattern, value_pattern};
use kyvm_engine::Value;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (pattern, value) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &data[data.len()..]),
    };
    let pattern = String::from_utf8_lossy(pattern);
    let value = String::from_utf8_lossy(value);

    // Numbers: the value parsed the way a JSON decoder would, else its raw bytes.
    let mut raw = [0u8; 8];
    for (dst, src) in raw.iter_mut().zip(value.as_bytes()) {
        *dst = *src;
    }
    let int = value.trim().parse::<i64>().unwrap_or_else(|_| i64::from_le_bytes(raw));
    let float = value.trim().parse::<f64>().unwrap_or_else(|_| f64::from_bits(u64::from_le_bytes(raw)));

    let p = value_pattern(&pattern);
    let mut hits = 0u32;
    for v in [
        Value::Str(&value),
        Value::Str(&pattern),
        Value::Int(int),
        Value::Float(float),
        Value::Float(int as f64),
        Value::Null,
        Value::Bool(int & 1 == 1),
    ] {
        hits += u32::from(p.matches(&v));
    }
    let sp = string_pattern(&pattern);
    std::hint::black_box((hits, sp.alternatives.len()));
});
