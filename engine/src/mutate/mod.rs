//! Mutation: Kyverno's `mutate` rules, compiled, applied to arena documents.
//!
//! A mutate rule is compiled into a [`Mutation`]: a `patchStrategicMerge` overlay whose
//! anchors were parsed at compile time ([`Overlay`]), a `patchesJson6902` list of
//! operation templates ([`JsonPatch`]), or `foreach` declarations ([`MutateForEach`])
//! whose bodies are again one of the three. At run time the VM substitutes variables,
//! resolves anchors against the resource and merges; every change rebuilds only the
//! containers on its path (see [`crate::patch`]) so the original document stays intact
//! and the JSON Patch from original to mutated is a cheap [`crate::patch::diff`].
//!
//! Stages, in module order:
//! - [`overlay`]: the compiled overlay, its instantiation into a mutable tree, and
//!   Kyverno's anchor preprocessing (`+()` add-if-not-present, `()` conditions, `<()`
//!   global conditions, list elements matched per resource element and renamed after
//!   it, anchor-only nodes deleted).
//! - [`pattern`]: the validate-style match a condition anchor runs.
//! - [`merge`]: Kubernetes strategic merge of the prepared patch into the resource
//!   (lists merged by their merge key, `$patch: delete|replace`, `null` deletes).
//! - [`jsonpatch`]: `patchesJson6902` with Kyverno's options (negative indices, missing
//!   paths created on `add`, removing a missing path is a no-op).

pub mod jsonpatch;
pub mod merge;
pub mod overlay;
pub mod pattern;

pub use jsonpatch::{JsonPatch, OpTemplate};
pub use overlay::{Anchor, Overlay, OverlayField};

use crate::ids::{CondId, ContextId};
use crate::rule::Query;

/// One compiled mutation: what a `mutate` block (or a `foreach` body) does.
#[derive(Debug)]
pub enum Mutation {
    StrategicMerge(Overlay),
    JsonPatch(JsonPatch),
    ForEach(Vec<MutateForEach>),
}

/// One `mutate.foreach` declaration.
#[derive(Debug)]
pub struct MutateForEach {
    /// `list`: a JMESPath over the context; a result that is not a list is one element.
    pub list: Query,
    /// Elements run last to first. Kyverno's default: descending for a strategic merge
    /// body, ascending otherwise; `order` overrides it.
    pub descending: bool,
    /// Nesting depth, for `element0`, `elementIndex0`, ...
    pub nesting: u32,
    /// The declaration's `context` entries: `count` entries from `first`.
    pub context: (ContextId, u32),
    pub preconditions: Option<CondId>,
    pub body: Mutation,
}
