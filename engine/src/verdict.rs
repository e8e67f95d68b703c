//! Verdicts: what an evaluation produces.
//!
//! A failed rule is a normal result ([`RuleStatus::Fail`]), not an error. An
//! [`EngineError`] means the engine could not decide at all (a limit was exhausted or the
//! program is malformed); the webhook maps it through its failure policy. Engine errors
//! carry a program counter and a kind, never request content: Secrets pass through
//! admission and errors end up in logs.

use bumpalo::collections::Vec as BumpVec;

use crate::ids::{Addr, RuleId};

/// The outcome of one rule for one request, as Kyverno reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RuleStatus {
    Pass,
    Fail,
    Warn,
    Error,
    Skip,
}

impl RuleStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleStatus::Pass => "pass",
            RuleStatus::Fail => "fail",
            RuleStatus::Warn => "warn",
            RuleStatus::Error => "error",
            RuleStatus::Skip => "skip",
        }
    }

    /// Kyverno counts a rule as applied when it passed or failed (`applyRules: One`).
    pub fn is_applied(self) -> bool {
        matches!(self, RuleStatus::Pass | RuleStatus::Fail)
    }
}

/// One rule's result. The message lives in the evaluation arena or the program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleResult<'a> {
    pub rule: RuleId,
    pub status: RuleStatus,
    pub message: &'a str,
}

/// All rule results for one request, in policy and rule order.
#[derive(Debug)]
pub struct Evaluation<'a> {
    pub results: BumpVec<'a, RuleResult<'a>>,
    /// The resources `generate` rules built, with the rule (each rule also has a
    /// `pass` result).
    pub generated: BumpVec<'a, (RuleId, crate::document::Value<'a>)>,
    /// Instructions executed (for benchmarks and limits).
    pub steps: u64,
}

/// The engine could not decide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EngineError {
    pub kind: EngineErrorKind,
    /// Instruction being executed when the error occurred.
    pub pc: Addr,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineErrorKind {
    /// [`Limits::max_steps`](crate::limits::Limits::max_steps) exhausted.
    StepLimit,
    /// An address or table index out of range, or a frame underflow: the program is
    /// malformed.
    BadProgram,
}

impl core::fmt::Display for EngineError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.kind {
            EngineErrorKind::StepLimit => write!(f, "evaluation step limit exceeded at instruction {}", self.pc),
            EngineErrorKind::BadProgram => {
                write!(f, "malformed program at instruction {}", self.pc)
            }
        }
    }
}

impl std::error::Error for EngineError {}
