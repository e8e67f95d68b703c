//! Diagnostics: plain data in the compiler, rendered at the edge.
//!
//! Every problem the compiler finds becomes a [`Diagnostic`] with a stable code, the file,
//! the YAML path (`spec.rules[1].validate.pattern.spec.containers`), the line and column
//! where the YAML parser gives one, what was expected and what was found, and a help
//! line. The compiler collects all of them in one run instead of stopping at the first.
//!
//! Codes:
//!
//! | code  | severity | meaning |
//! |-------|----------|---------|
//! | K0001 | error    | the file is not valid YAML |
//! | K0002 | error    | the file or folder cannot be read |
//! | K0003 | note     | a document that is not a Kubernetes object was skipped |
//! | K0010 | note     | a document of another kind was skipped |
//! | K0100 | error    | a field has the wrong type or shape |
//! | K0101 | warning  | an unknown field was ignored |
//! | K0102 | error    | a required field is missing |
//! | K0103 | error    | two rules of a policy share a name |
//! | K0104 | error    | two policies share a name |
//! | K0110 | error    | a rule has no `validate`, `mutate`, `generate` or `verifyImages` |
//! | K0111 | error    | a `validate` rule has nothing to check |
//! | K0120 | error    | an invalid value of an enumerated field |
//! | K0121 | error    | an invalid label selector |
//! | K0130 | error    | an existence anchor `^()` whose value is not a list of maps |
//! | K0131 | warning  | an add anchor `+()` in a validate pattern (it has no effect there) |
//! | K0140 | error    | an invalid JMESPath expression in a variable |
//! | K0141 | error    | invalid `preconditions` or `deny` conditions |
//! | K0143 | error    | an invalid `context` entry |
//! | K0144 | error    | an invalid `foreach` declaration |
//! | K0150 | error    | an invalid `validate.podSecurity` (level, version, `exclude` entry) |
//! | K0160 | error    | an invalid `mutate`: nothing to apply, `patchesJson6902` not a list of operations, an operation without its path, value or from |
//! | K0161 | error    | `mutate.targets` (mutating existing resources), which kyvm does not do |
//! | K0162 | error    | an invalid `generate`: no kind or name, neither `data` nor `clone`, or `cloneList` (not supported) |
//! | K0900 | warning  | a Kyverno feature kyvm does not compile yet: the rule reports `error` |
//! | K0901 | warning  | a context source that reads the cluster (`configMap`, `apiCall`, ...): the CLI takes it from the values file, elsewhere the rule reports `error` |

use core::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Note,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One problem found in the policy sources.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable code, `K` and four digits.
    pub code: &'static str,
    pub message: String,
    pub file: String,
    /// YAML path inside the document; empty for file-level problems.
    pub path: String,
    /// 1-based; 0 when unknown.
    pub line: u32,
    pub column: u32,
    pub expected: Option<String>,
    pub found: Option<String>,
    pub help: Option<String>,
    /// `policy/rule` the diagnostic is about, when there is one.
    pub rule: Option<String>,
}

impl Diagnostic {
    pub fn new(severity: Severity, code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity,
            code,
            message: message.into(),
            file: String::new(),
            path: String::new(),
            line: 0,
            column: 0,
            expected: None,
            found: None,
            help: None,
            rule: None,
        }
    }

    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, code, message)
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, code, message)
    }

    pub fn note(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Note, code, message)
    }

    pub fn expected(mut self, s: impl Into<String>) -> Self {
        self.expected = Some(s.into());
        self
    }

    pub fn found(mut self, s: impl Into<String>) -> Self {
        self.found = Some(s.into());
        self
    }

    pub fn help(mut self, s: impl Into<String>) -> Self {
        self.help = Some(s.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Renders in the familiar compiler form:
///
/// ```text
/// error[K0100]: invalid type for `kinds`
///   --> policies/foo.yaml:12:9
///    = at: spec.rules[0].match.any[0].resources.kinds
///    = expected: a list of strings
///    = found: a string
///    = help: ...
/// ```
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]: {}", self.severity.as_str(), self.code, self.message)?;
        if !self.file.is_empty() {
            write!(f, "\n  --> {}", self.file)?;
            if self.line > 0 {
                write!(f, ":{}:{}", self.line, self.column)?;
            }
        }
        if let Some(rule) = &self.rule {
            write!(f, "\n   = rule: {rule}")?;
        }
        if !self.path.is_empty() {
            write!(f, "\n   = at: {}", self.path)?;
        }
        if let Some(e) = &self.expected {
            write!(f, "\n   = expected: {e}")?;
        }
        if let Some(found) = &self.found {
            write!(f, "\n   = found: {found}")?;
        }
        if let Some(h) = &self.help {
            write!(f, "\n   = help: {h}")?;
        }
        Ok(())
    }
}
