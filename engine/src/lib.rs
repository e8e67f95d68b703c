//! # kyvm-engine
//!
//! The evaluation half of kyvm: the document model, the instruction set, the immutable
//! [`Program`], the [`vm`] that runs it, and the built-in checks Kyverno policies need
//! (wildcards, operators, quantities, durations). No YAML, no HTTP, no CLI: the compiler
//! crate turns policies into a `Program`, the server crate feeds requests in.
//!
//! ```text
//!  JSON bytes ──json──► Value (arena) ──Request──► vm::evaluate(Program) ──► Evaluation
//! ```
//!
//! Pipeline stages, in module order:
//! - [`document`], [`json`]: the arena document and its decoder.
//! - [`request`]: the admission facts rules match on.
//! - [`wildcard`], [`quantity`], [`duration`], [`gofmt`], [`matcher`]: value checks.
//! - [`matching`]: `match`/`exclude` and the kind dispatch table.
//! - [`patch`]: JSON Pointer and JSON Patch over arena documents (apply, diff), the
//!   ground mutation builds on.
//! - [`mutate`], [`generate`]: `mutate` rules (strategic merge with anchors, JSON
//!   patches, `foreach`) and `generate` rules (the resource a rule creates).
//! - [`podsecurity`]: the Pod Security Standards checks (`validate.podSecurity`), every
//!   upstream check and version, read straight from the document.
//! - [`jmespath`], [`template`], [`conditions`], [`rule`], [`context`]: Kyverno's
//!   variables — JMESPath compiled once, `{{ }}` templates, condition operators,
//!   context entries and `foreach`, and the per-request JSON context they read.
//! - [`ids`], [`inst`], [`program`]: the compiled form; [`disasm`] prints it.
//! - [`vm`], [`scratch`], [`verdict`]: evaluation and its results.
//!
//! The engine must not panic on any input. The lint wall below forbids the usual ways to
//! panic in non-test code; every loop over input is bounded by [`Limits`].
//!
//! ## Dependencies
//! - `bumpalo`: the per-request arena (documents, frames and messages are bump-allocated
//!   and freed together, so the pass path never touches the global heap).
//! - `ahash`: the kind dispatch table's hash map (fast, DoS-resistant hashing).
//! - `logos`: the JMESPath lexer (a compiled DFA; the compiler crate uses it for pattern
//!   strings too).
//! - `regex`: Kyverno's `regex_*` JMESPath functions and image references (RE2
//!   semantics, linear time, size-limited compilation); Go syntax is translated first.
//! - `regex-syntax`: `random()` walks a parsed pattern to generate a match, and
//!   `equal_fold` uses its Unicode simple case folding tables (already under `regex`).
//! - `rand`: `random()`'s randomness (thread-local generator).
//! - `serde`, `serde_yaml`: `parse_yaml` (the same YAML reader the compiler uses).

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, clippy::unreachable))]
#![warn(missing_debug_implementations)]

pub mod conditions;
pub mod context;
pub mod disasm;
pub mod document;
pub mod duration;
pub mod generate;
pub mod gofmt;
pub mod ids;
pub mod inst;
pub mod jmespath;
pub mod json;
pub mod limits;
pub mod matcher;
pub mod matching;
pub mod mutate;
pub mod patch;
pub mod podsecurity;
pub mod program;
pub mod quantity;
pub mod request;
pub mod rule;
pub mod scratch;
pub mod template;
pub mod verdict;
pub mod vm;
pub mod wildcard;

pub use document::{Member, Value};
pub use limits::Limits;
pub use program::Program;
pub use request::{Operation, Request};
pub use scratch::Scratch;
pub use verdict::{EngineError, Evaluation, RuleResult, RuleStatus};

#[cfg(test)]
mod send_sync {
    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn program_is_shareable_across_threads() {
        assert_send_sync::<crate::Program>();
    }
}
