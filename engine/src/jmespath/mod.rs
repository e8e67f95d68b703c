//! JMESPath, compiled: Kyverno's `{{ }}` expressions, conditions, foreach lists and
//! context entries.
//!
//! An expression is lexed (`logos`) and parsed once, at policy-compile time, into an
//! [`Expression`]: a flat table of nodes addressed by [`NodeId`], immutable and
//! `Send + Sync`. Evaluation walks that table directly over arena documents
//! ([`Value`]); new values (projections, multi-selects, function results) are allocated
//! in the caller's arena, never on the global heap. Parsing is bounded (expression length
//! and nesting depth), evaluation by a step budget, so no input can overflow the stack or
//! run away.
//!
//! Functions: the JMESPath standard library and Kyverno's extensions share one static
//! [`registry`]. A function declares its parameter types ([`Types`]); the evaluator
//! checks arity at parse time and types at call time, reporting JMESPath's error kinds
//! (`invalid-arity`, `invalid-type`, `invalid-value`, `unknown-function`).
//!
//! Modules:
//! - [`lexer`], [`parser`], [`ast`]: source → [`Expression`].
//! - [`eval`]: [`Expression::evaluate`], JMESPath's comparison and truthiness rules.
//! - [`functions`]: the registry and the standard functions.
//! - [`kyverno`]: Kyverno's functions (strings, regex, arithmetic over quantities and
//!   durations, time, semver, encoding, images, x509, ...).

use bumpalo::Bump;

use crate::document::Value;

pub mod ast;
pub mod eval;
pub mod functions;
pub mod kyverno;
pub mod lexer;
pub mod parser;

pub use ast::{Expression, NodeId};
pub use eval::{compare_numbers, is_truthy, system_now_unix_nanos, values_equal};
pub use functions::{expr_arg, json_text, registry, value_arg, Function, FunctionId, Registry};

/// Bounds on parsing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseLimits {
    /// Longest expression accepted, in bytes. Default 64 KiB.
    pub max_length: usize,
    /// Deepest nesting of sub-expressions accepted. Default 128.
    pub max_depth: usize,
}

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits { max_length: 64 << 10, max_depth: 128 }
    }
}

/// JMESPath's error kinds (the compliance suite names them), plus kyvm's limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The expression is not valid JMESPath (`syntax`).
    Syntax,
    /// A function got an argument of the wrong type (`invalid-type`).
    InvalidType,
    /// A function got an argument of the right type but a bad value (`invalid-value`).
    InvalidValue,
    /// A function got the wrong number of arguments (`invalid-arity`).
    InvalidArity,
    /// No function of that name (`unknown-function`).
    UnknownFunction,
    /// A parse or evaluation limit was exceeded.
    Limit,
}

impl ErrorKind {
    /// The compliance suite's name for the kind.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Syntax => "syntax",
            ErrorKind::InvalidType => "invalid-type",
            ErrorKind::InvalidValue => "invalid-value",
            ErrorKind::InvalidArity => "invalid-arity",
            ErrorKind::UnknownFunction => "unknown-function",
            ErrorKind::Limit => "limit",
        }
    }
}

/// An error from parsing or evaluating an expression. The message names the construct
/// or function, never input content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    /// Byte offset in the expression, when the error is tied to one.
    pub offset: Option<usize>,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into(), offset: None }
    }

    pub fn at(kind: ErrorKind, offset: usize, message: impl Into<String>) -> Self {
        Error { kind, message: message.into(), offset: Some(offset) }
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}: {}", self.kind.as_str(), self.message)?;
        if let Some(o) = self.offset {
            write!(f, " (at byte {o})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// Per-evaluation environment: the arena new values go to, the step budget, the clock.
#[derive(Debug)]
pub struct Env<'a> {
    pub arena: &'a Bump,
    /// Steps left before [`ErrorKind::Limit`].
    pub steps_left: u64,
    /// Fixed "now" in nanoseconds since the Unix epoch (tests, reproducible runs);
    /// `None` reads the system clock.
    pub now_unix_nanos: Option<i128>,
}

impl<'a> Env<'a> {
    pub fn new(arena: &'a Bump) -> Self {
        Env { arena, steps_left: 1_000_000, now_unix_nanos: None }
    }
}

/// What functions see of the evaluator: the arena, the clock, and a way to apply an
/// expression reference (`&expr`) to a value.
pub trait Interp<'a> {
    fn arena(&self) -> &'a Bump;
    /// Applies the expression reference `expr` to `input`.
    fn apply(&mut self, expr: NodeId, input: Value<'a>) -> Result<Value<'a>, Error>;
    /// Now, in nanoseconds since the Unix epoch.
    fn now_unix_nanos(&self) -> i128;
    /// Pays `steps` of the evaluation's step budget, for work a function does beyond
    /// its result's size (scans, sorts, serialising nested values); `limit` once the
    /// budget is spent. The evaluator already charges each call for the elements of
    /// its result, and [`Interp::apply`] charges the nodes it visits.
    fn charge(&mut self, steps: u64) -> Result<(), Error> {
        let _ = steps;
        Ok(())
    }
}

/// A function argument: a value, or an expression reference (`&expr`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Arg<'a> {
    Value(Value<'a>),
    Expr(NodeId),
}

impl<'a> Arg<'a> {
    /// The value, or `null` for an expression reference.
    pub fn value(&self) -> Value<'a> {
        match self {
            Arg::Value(v) => *v,
            Arg::Expr(_) => Value::Null,
        }
    }
}

/// A set of JMESPath types, for function signatures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Types(pub u16);

impl Types {
    pub const NULL: Types = Types(1);
    pub const BOOLEAN: Types = Types(1 << 1);
    pub const NUMBER: Types = Types(1 << 2);
    pub const STRING: Types = Types(1 << 3);
    pub const ARRAY: Types = Types(1 << 4);
    pub const OBJECT: Types = Types(1 << 5);
    /// An expression reference (`&expr`).
    pub const EXPREF: Types = Types(1 << 6);
    /// An array whose elements are all numbers.
    pub const ARRAY_NUMBER: Types = Types(1 << 7);
    /// An array whose elements are all strings.
    pub const ARRAY_STRING: Types = Types(1 << 8);
    /// Any JSON value (not an expression reference).
    pub const ANY: Types = Types(0b11_1111);

    pub const fn or(self, other: Types) -> Types {
        Types(self.0 | other.0)
    }

    pub fn contains(self, other: Types) -> bool {
        self.0 & other.0 == other.0
    }

    /// Does `arg` have one of these types?
    pub fn admits(self, arg: &Arg<'_>) -> bool {
        let v = match arg {
            Arg::Expr(_) => return self.0 & Types::EXPREF.0 != 0,
            Arg::Value(v) => v,
        };
        let bit = match v {
            Value::Null => Types::NULL,
            Value::Bool(_) => Types::BOOLEAN,
            Value::Int(_) | Value::Float(_) => Types::NUMBER,
            Value::Str(_) => Types::STRING,
            Value::Object(_) => Types::OBJECT,
            Value::Array(items) => {
                if self.0 & Types::ARRAY.0 != 0 {
                    return true;
                }
                let numbers = items.iter().all(|i| matches!(i, Value::Int(_) | Value::Float(_)));
                let strings = items.iter().all(|i| matches!(i, Value::Str(_)));
                return (numbers && self.0 & Types::ARRAY_NUMBER.0 != 0) || (strings && self.0 & Types::ARRAY_STRING.0 != 0);
            }
        };
        self.0 & bit.0 != 0
    }

    /// JMESPath's spelling, for signatures: `string|array[number]`.
    pub fn describe(self) -> String {
        let names = [
            (Types::NULL, "null"),
            (Types::BOOLEAN, "boolean"),
            (Types::NUMBER, "number"),
            (Types::STRING, "string"),
            (Types::ARRAY, "array"),
            (Types::OBJECT, "object"),
            (Types::EXPREF, "expression"),
            (Types::ARRAY_NUMBER, "array[number]"),
            (Types::ARRAY_STRING, "array[string]"),
        ];
        if self.contains(Types::ANY) {
            return "any".into();
        }
        names.iter().filter(|(t, _)| self.0 & t.0 != 0).map(|(_, n)| *n).collect::<Vec<_>>().join("|")
    }
}

/// JMESPath's name of a value's type.
pub fn type_name(v: &Value<'_>) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Int(_) | Value::Float(_) => "number",
        Value::Str(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
