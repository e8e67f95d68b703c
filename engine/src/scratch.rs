//! Per-thread working memory for evaluations.
//!
//! A [`Scratch`] owns the arena that one request's document, frames and messages live in.
//! Callers keep one per worker thread and call [`Scratch::reset`] between requests; the
//! arena keeps its largest chunk, so after the first few requests an evaluation
//! allocates nothing on the global heap.

use bumpalo::Bump;

use crate::document::Value;
use crate::json::{self, DecodeError};
use crate::limits::Limits;

/// Caller-owned, reusable evaluation state (the regex crate's "cache" idea).
#[derive(Debug, Default)]
pub struct Scratch {
    arena: Bump,
    pub limits: Limits,
}

impl Scratch {
    pub fn new(limits: Limits) -> Self {
        Scratch { arena: Bump::new(), limits }
    }

    /// Frees everything allocated since the last reset, keeping the memory for reuse.
    pub fn reset(&mut self) {
        self.arena.reset();
    }

    /// The arena evaluations allocate in.
    pub fn arena(&self) -> &Bump {
        &self.arena
    }

    /// Decodes a JSON document (an AdmissionReview or a bare object) into the arena.
    pub fn decode_json<'a>(&'a self, input: &'a [u8]) -> Result<Value<'a>, DecodeError> {
        json::decode(input, &self.arena, &self.limits)
    }

    /// Bytes currently held by the arena (for tests and metrics).
    pub fn allocated_bytes(&self) -> usize {
        self.arena.allocated_bytes()
    }
}
