//! Bounds on everything the engine does with untrusted input.
//!
//! The engine never panics and never runs away: decoding stops at [`Limits::max_depth`]
//! levels of nesting and [`Limits::max_document_bytes`] bytes, and the VM stops after
//! [`Limits::max_steps`] instructions for one request, reporting an engine error that the
//! caller maps through the webhook's failure policy.

/// Evaluation bounds. `Default` gives values that fit every real Kubernetes object with a
/// wide margin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Deepest nesting of arrays and objects accepted in a document. Kubernetes objects
    /// rarely pass 20; CRDs with deep schemas stay well under 64. Default 128.
    pub max_depth: usize,
    /// Largest JSON document accepted, in bytes. Default 16 MiB (an UPDATE review carries
    /// two copies of an object of at most ~3 MiB, plus the envelope).
    pub max_document_bytes: usize,
    /// Most VM instructions executed for one request, over all rules. Default 10 million:
    /// microseconds of work for ordinary policies, a hard stop for pathological ones.
    pub max_steps: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_depth: 128, max_document_bytes: 16 << 20, max_steps: 10_000_000 }
    }
}
