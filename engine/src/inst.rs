//! The instruction set.
//!
//! A rule compiles to a straight run of [`Inst`]s that the [`vm`](crate::vm) executes
//! over a stack of *frames*: frame 0 is the object under review, and each `Enter*`
//! instruction pushes the node at one more path segment (so the frame stack *is* the
//! current path, `/spec/containers/0/...`). Patterns become navigation, type checks and
//! value checks; Kyverno's anchors become control flow.
//!
//! **Faults.** A mismatch does not return a value: it raises a *fault* — a kind
//! ([`FaultKind`]), the path depth where it happened and a [`Reason`] — and jumps to the
//! instruction's `on_fault` address, the nearest enclosing handler. Handlers are ordinary
//! code that the compiler places exactly where Kyverno's recursive validator would catch
//! the error: a conditional anchor turns any fault into a skip, an array of maps counts
//! skipped elements, an existence anchor tries the next element, and the rule's handler
//! turns the fault into the rule's result. Handlers that pass a fault outward leave the
//! frames in place, so the rule handler still sees the path where it happened; handlers
//! that recover restore the frame depth, which the compiler knows statically.
//!
//! Every variant's doc line says what it does and which Kyverno construct emits it.

use crate::ids::{
    Addr, AnchorSlot, CondId, ContextId, ForEachId, GenerateId, KeyId, MatchId, MutationId, PatternId, PodSecurityId, RuleId, StrId,
    TemplateId,
};

/// One VM instruction. `Copy`, with named operands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inst {
    // ---------------------------------------------------------------- rules
    /// Evaluates the rule's `match`/`exclude` against the request; when it does not apply
    /// the rule ends with no result. First instruction of every rule.
    CheckMatch { spec: MatchId },
    /// Starts a pattern (the `pattern`, or one `anyPattern` entry): frames reset to the
    /// object under review, anchor bookkeeping cleared.
    BeginPattern,
    /// The pattern matched: the rule passes. Emitted after `validate.pattern`.
    PatternPassed { rule: RuleId },
    /// Rule-level fault handler of `validate.pattern`: the pending fault becomes the
    /// rule's `skip`, `fail` or `error` result, with Kyverno's message.
    PatternFailed { rule: RuleId },
    /// `anyPattern[index]` matched: the rule passes.
    AnyPatternPassed { rule: RuleId, index: u32 },
    /// Fault handler of `anyPattern[index]`: records the alternative's skip or failure and
    /// falls through to the next alternative.
    AnyPatternFailed { index: u32 },
    /// After the last `anyPattern` entry failed: the rule's `skip` or `fail` result from
    /// the recorded outcomes.
    AnyPatternDone { rule: RuleId },
    /// The rule reports `error` with a fixed message. Emitted for rules that use a Kyverno
    /// feature not compiled yet, and for rules whose policy failed to compile.
    RuleError { rule: RuleId, message: StrId },
    /// Ends the rule with no result.
    End,

    // ------------------------------------------------------------ variables
    /// Loads `count` context entries from `first`, in order, into the JSON context, after
    /// the variables the request supplies for this rule (the CLI's per-rule values).
    /// Emitted at the start of every rule and `foreach` body that uses variables. An
    /// entry that fails to load ends the block with `error`.
    LoadContext { first: ContextId, count: u32 },
    /// `preconditions`: when they do not hold, the block ends with `skip`.
    Preconditions { set: CondId },
    /// `validate.deny`: the block ends with `fail` (the conditions hold) or `pass`.
    Deny { set: CondId },
    /// Substitutes the variables of a pattern (templates `first..first+count`) before it
    /// is checked, as Kyverno substitutes a whole pattern first. A variable that fails to
    /// resolve ends the block with `error`. Emitted after `BeginPattern`.
    ResolveTemplates { first: TemplateId, count: u32 },
    /// Like `CheckValue`, with the substituted value of template `value` as the pattern.
    /// Emitted for pattern leaves that hold variables.
    CheckDynamic { value: TemplateId, on_fault: Addr },
    /// Like `CheckField`, with the substituted value of template `value` as the pattern.
    CheckFieldDynamic { key: KeyId, value: TemplateId, on_fault: Addr },
    /// `validate.foreach[i]`: runs the body for each element of the list. A `fail` or
    /// `error` element ends the block; elements that pass are counted.
    ForEachList { spec: ForEachId },
    /// After the last `foreach` declaration: `skip` when no element applied, else `pass`.
    ForEachVerdict,

    // --------------------------------------------------------- pod security
    /// `validate.podSecurity`: runs the rule's Pod Security checks over the pod of the
    /// resource (a Pod, or the pod template of a controller) and ends the block with
    /// `pass`, `fail` (Kyverno's `violates PodSecurity` message) or `error` (no pod in
    /// the resource, or a pod Go could not decode). No result for a DELETE.
    /// `pass` is Kyverno's pass message (`Validation rule 'R' passed.`), made once.
    PodSecurity { check: PodSecurityId, pass: StrId },

    // -------------------------------------------------------------- mutation
    /// `mutate`: applies the mutation to the resource as the previous rules left it and
    /// ends the block with `pass` (the resource changed), `skip` (it did not) or `error`.
    /// The changed resource is what later rules, and `request.object`, see.
    Mutate { mutation: MutationId },
    /// `generate`: builds the resource the rule generates, reports it with `pass`
    /// (or ends with `error` when a variable or the clone source is missing). No result
    /// for a DELETE.
    Generate { generate: GenerateId },

    // ----------------------------------------------------------- navigation
    /// Pushes the member `key` of the current node (`null` when absent or the node is not
    /// an object). Emitted for plain and anchored map keys of a pattern. A key with
    /// wildcards under `metadata.labels`/`annotations` resolves to the first member it
    /// matches (Kyverno's `ExpandInMetadata`); see [`KeyRef`](crate::program::KeyRef).
    EnterField { key: KeyId },
    /// Pushes element `index` of the current array (`null` when out of range). Emitted
    /// for nested array patterns (`[[...]]`), which Kyverno checks element by element.
    EnterIndex { index: u32 },
    /// Pops the current frame.
    Leave,

    // ---------------------------------------------------------------- checks
    /// Faults (`Fail`, type mismatch) unless the current node is an object. Emitted for
    /// every map in a pattern.
    ExpectObject { on_fault: Addr },
    /// Faults (`Fail`, type mismatch) unless the current node is an array. Emitted for
    /// every list in a pattern.
    ExpectArray { on_fault: Addr },
    /// Faults (`Invalid`) unless the current array has at least `len` elements. Emitted
    /// for nested array patterns.
    ExpectMinLen { len: u32, on_fault: Addr },
    /// Faults (`Fail`) unless the current node matches the value pattern; an array node
    /// must match in every element. Emitted for scalar pattern leaves.
    CheckValue { pattern: PatternId, on_fault: Addr },
    /// `EnterField key; CheckValue; Leave` in one step, faulting at the member's path.
    /// Emitted for a plain map key whose pattern is a scalar (the common case).
    CheckField { key: KeyId, pattern: PatternId, on_fault: Addr },
    /// Faults (`Fail`, at the current path) unless member `key` is present and not null.
    /// Emitted for `key: "*"`.
    RequireField { key: KeyId, on_fault: Addr },

    // --------------------------------------------------------------- anchors
    /// Records whether member `key` exists, for Kyverno's rule that a mismatch in a pattern
    /// whose conditional, existence or negation anchor key was missing is an `error`.
    /// Wildcard metadata keys are looked up after expansion, as Kyverno sees them.
    NoteAnchor { slot: AnchorSlot, key: KeyId },
    /// Jumps when member `key` is absent. Emitted for equality `=()`, existence `^()` and
    /// global `<()` anchors, which only check keys that are present.
    JumpIfAbsent { key: KeyId, target: Addr },
    /// Faults (`ConditionalSkip`) when member `key` is absent. Emitted for conditional
    /// anchors `()`.
    SkipIfAbsent { key: KeyId, on_fault: Addr },
    /// Faults (`NegationFail`) when member `key` is present. Emitted for negation `X()`.
    FailIfPresent { key: KeyId, on_fault: Addr },
    /// Raises a fault unconditionally. Emitted for patterns Kyverno rejects when it meets
    /// them at run time (an empty list pattern, an existence anchor over a non-list).
    Raise { kind: FaultKind, reason: Reason, on_fault: Addr },
    /// Handler: re-raises the pending fault as `kind` and jumps on. Emitted after the body
    /// of a conditional anchor (`ConditionalSkip`) and a global anchor (`GlobalSkip`).
    Convert { kind: FaultKind, on_fault: Addr },
    /// Handler: drops the pending fault, restores the frame depth and jumps to `target`.
    /// Emitted for existence anchors, to try the next element.
    Retry { depth: u32, target: Addr },
    /// Jumps unconditionally.
    Jump { target: Addr },

    // ----------------------------------------------------------------- loops
    /// Starts iterating the current array (resets its counters). Emitted for lists of
    /// maps, existence anchors and nested list patterns.
    ForEachStart,
    /// Pushes the next element of the current array, or jumps to `done` at the end.
    ForEachNext { done: Addr },
    /// Pops the element and counts it as applied.
    ForEachApplied,
    /// Handler inside a loop: a skip fault is dropped (frames restored to `depth`, the
    /// element counted as skipped, jump to `next`); any other fault goes on to `on_fault`.
    ForEachCatch { depth: u32, next: Addr, on_fault: Addr },
    /// After a loop: faults (`ArraySkip`) when no element applied and some were skipped,
    /// which is how conditional anchors inside list elements skip the whole rule.
    ForEachEnd { on_fault: Addr },
}

/// What a fault means for the rule, following Kyverno's anchor errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// A plain mismatch: the rule fails at the fault's path.
    Fail,
    /// A negation anchor found its key: the rule fails.
    NegationFail,
    /// A conditional anchor did not hold: the rule is skipped.
    ConditionalSkip,
    /// A global anchor did not hold: the rule is skipped.
    GlobalSkip,
    /// Every element of a list was skipped: the rule is skipped.
    ArraySkip,
    /// The pattern cannot be applied (Kyverno reports a fault without a path): `error`.
    Invalid,
}

impl FaultKind {
    pub fn is_skip(self) -> bool {
        matches!(self, FaultKind::ConditionalSkip | FaultKind::GlobalSkip | FaultKind::ArraySkip)
    }

    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Fail => "fail",
            FaultKind::NegationFail => "negation-fail",
            FaultKind::ConditionalSkip => "conditional-skip",
            FaultKind::GlobalSkip => "global-skip",
            FaultKind::ArraySkip => "array-skip",
            FaultKind::Invalid => "invalid",
        }
    }
}

/// Why a fault was raised, for messages. Never carries request content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    ExpectedObject,
    ExpectedArray,
    ValueMismatch,
    FieldMissing,
    NegatedFieldPresent,
    ConditionalFieldMissing,
    ExistenceNotFound,
    ExistenceNotList,
    EmptyListPattern,
    ListTooShort,
    AllElementsSkipped,
}

impl Reason {
    pub fn describe(self) -> &'static str {
        match self {
            Reason::ExpectedObject => "pattern and resource have different structures: expected an object",
            Reason::ExpectedArray => "pattern and resource have different structures: expected a list",
            Reason::ValueMismatch => "resource value does not match the pattern",
            Reason::FieldMissing => "field is not present",
            Reason::NegatedFieldPresent => "negation anchor matched in resource: field is not allowed",
            Reason::ConditionalFieldMissing => "conditional anchor key doesn't exist in the resource",
            Reason::ExistenceNotFound => "existence anchor validation failed",
            Reason::ExistenceNotList => "existence anchor ^() can be used only on a list",
            Reason::EmptyListPattern => "pattern list is empty",
            Reason::ListTooShort => "resource list is shorter than the pattern list",
            Reason::AllElementsSkipped => "no element satisfied the conditional anchors",
        }
    }
}

impl Inst {
    /// The mnemonic, for the disassembler.
    pub fn mnemonic(&self) -> &'static str {
        match self {
            Inst::CheckMatch { .. } => "check_match",
            Inst::BeginPattern => "begin_pattern",
            Inst::PatternPassed { .. } => "pattern_passed",
            Inst::PatternFailed { .. } => "pattern_failed",
            Inst::AnyPatternPassed { .. } => "any_pattern_passed",
            Inst::AnyPatternFailed { .. } => "any_pattern_failed",
            Inst::AnyPatternDone { .. } => "any_pattern_done",
            Inst::RuleError { .. } => "rule_error",
            Inst::End => "end",
            Inst::LoadContext { .. } => "load_context",
            Inst::Preconditions { .. } => "preconditions",
            Inst::Deny { .. } => "deny",
            Inst::ResolveTemplates { .. } => "resolve_templates",
            Inst::CheckDynamic { .. } => "check_dynamic",
            Inst::CheckFieldDynamic { .. } => "check_field_dynamic",
            Inst::ForEachList { .. } => "foreach_list",
            Inst::ForEachVerdict => "foreach_verdict",
            Inst::PodSecurity { .. } => "pod_security",
            Inst::Mutate { .. } => "mutate",
            Inst::Generate { .. } => "generate",
            Inst::EnterField { .. } => "enter_field",
            Inst::EnterIndex { .. } => "enter_index",
            Inst::Leave => "leave",
            Inst::ExpectObject { .. } => "expect_object",
            Inst::ExpectArray { .. } => "expect_array",
            Inst::ExpectMinLen { .. } => "expect_min_len",
            Inst::CheckValue { .. } => "check_value",
            Inst::CheckField { .. } => "check_field",
            Inst::RequireField { .. } => "require_field",
            Inst::NoteAnchor { .. } => "note_anchor",
            Inst::JumpIfAbsent { .. } => "jump_if_absent",
            Inst::SkipIfAbsent { .. } => "skip_if_absent",
            Inst::FailIfPresent { .. } => "fail_if_present",
            Inst::Raise { .. } => "raise",
            Inst::Convert { .. } => "convert",
            Inst::Retry { .. } => "retry",
            Inst::Jump { .. } => "jump",
            Inst::ForEachStart => "for_each_start",
            Inst::ForEachNext { .. } => "for_each_next",
            Inst::ForEachApplied => "for_each_applied",
            Inst::ForEachCatch { .. } => "for_each_catch",
            Inst::ForEachEnd { .. } => "for_each_end",
        }
    }
}

// Instructions stay small: four fit in a cache line.
const _: () = assert!(core::mem::size_of::<Inst>() <= 16);
