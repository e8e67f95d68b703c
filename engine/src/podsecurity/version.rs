//! Levels and policy versions, and how a requested version picks a check's definition.
//!
//! Upstream keeps, for every check, a list of definitions each with a minimum policy
//! version. A request for `level:version` runs, for every check of the level, the newest
//! definition whose minimum version is at or below the requested one. Versions newer than
//! the newest minimum version of any check (and `latest`) are clamped down to it first,
//! which is what upstream's registry does with its `maxVersion`: so `latest` means
//! [`Version::NEWEST_DEFINED`], today `v1.37`.

use core::fmt;

/// A Pod Security Standards level. `Privileged` runs no checks; `Restricted` includes
/// every `Baseline` check that a restricted check does not override.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    Privileged,
    Baseline,
    Restricted,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Privileged, Level::Baseline, Level::Restricted];

    /// `privileged`, `baseline` or `restricted`, spelled exactly (as upstream's
    /// `api.ParseLevel`).
    pub fn parse(s: &str) -> Result<Level, ParseError> {
        match s {
            "privileged" => Ok(Level::Privileged),
            "baseline" => Ok(Level::Baseline),
            "restricted" => Ok(Level::Restricted),
            _ => Err(ParseError::Level),
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Privileged => "privileged",
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A policy version: `v1.N` or `latest`. Ordered by minor version, `latest` above all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Version(u32);

/// Minor versions are stored saturated below this sentinel, which stands for `latest`.
const LATEST_MINOR: u32 = u32::MAX;

impl Version {
    /// `latest`.
    pub const LATEST: Version = Version(LATEST_MINOR);

    /// The newest minimum version of any check definition (upstream's registry
    /// `maxVersion`): `latest` and every newer version behave as this one.
    pub const NEWEST_DEFINED: Version = Version::v1(37);

    /// `v1.minor`. A minor version too large to represent saturates (it behaves as
    /// [`Version::NEWEST_DEFINED`] anyway).
    pub const fn v1(minor: u32) -> Version {
        if minor == LATEST_MINOR {
            Version(LATEST_MINOR - 1)
        } else {
            Version(minor)
        }
    }

    /// `latest`, or `v1.N` where `N` is `0` or a decimal number without a leading zero
    /// that fits Go's `int` (upstream's `api.ParseVersion`: `^v1\.([0-9]|[1-9][0-9]*)$`).
    pub fn parse(s: &str) -> Result<Version, ParseError> {
        if s == "latest" {
            return Ok(Version::LATEST);
        }
        let digits = s.strip_prefix("v1.").ok_or(ParseError::Version)?;
        let bytes = digits.as_bytes();
        let well_formed = !bytes.is_empty() && bytes.iter().all(u8::is_ascii_digit) && (bytes.len() == 1 || !digits.starts_with('0'));
        if !well_formed {
            return Err(ParseError::Version);
        }
        // strconv.Atoi: a value beyond int64 is an error.
        let mut n: u64 = 0;
        for b in bytes {
            n = n.checked_mul(10).and_then(|n| n.checked_add(u64::from(b - b'0'))).ok_or(ParseError::Version)?;
        }
        if n > i64::MAX as u64 {
            return Err(ParseError::Version);
        }
        Ok(Version::v1(u32::try_from(n).unwrap_or(LATEST_MINOR)))
    }

    pub const fn is_latest(self) -> bool {
        self.0 == LATEST_MINOR
    }

    /// The minor version, `None` for `latest`.
    pub const fn minor(self) -> Option<u32> {
        if self.is_latest() {
            None
        } else {
            Some(self.0)
        }
    }

    /// The version the checks actually run at: `latest` and anything newer than
    /// [`Version::NEWEST_DEFINED`] become it.
    pub fn resolve(self) -> Version {
        self.min(Version::NEWEST_DEFINED)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.minor() {
            Some(minor) => write!(f, "v1.{minor}"),
            None => f.write_str("latest"),
        }
    }
}

/// A level or version that does not parse; the message is upstream's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    Level,
    Version,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Level => f.write_str("must be one of privileged, baseline, restricted"),
            ParseError::Version => f.write_str(r#"must be "latest" or "v1.x""#),
        }
    }
}

impl std::error::Error for ParseError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_upstream() {
        assert_eq!(Version::parse("latest"), Ok(Version::LATEST));
        assert_eq!(Version::parse("v1.0"), Ok(Version::v1(0)));
        assert_eq!(Version::parse("v1.25"), Ok(Version::v1(25)));
        assert_eq!(Version::parse("v1.1000"), Ok(Version::v1(1000)));
        for bad in ["", "v1", "v1.", "v1.01", "v2.0", "1.25", "v1.2a", "v1.-1", "Latest", " v1.2", "v1.99999999999999999999"] {
            assert_eq!(Version::parse(bad), Err(ParseError::Version), "{bad:?}");
        }
        assert_eq!(Level::parse("restricted"), Ok(Level::Restricted));
        assert_eq!(Level::parse("Restricted"), Err(ParseError::Level));
    }

    #[test]
    fn latest_and_future_versions_clamp_to_the_newest_definition() {
        assert_eq!(Version::LATEST.resolve(), Version::NEWEST_DEFINED);
        assert_eq!(Version::v1(99).resolve(), Version::NEWEST_DEFINED);
        assert_eq!(Version::v1(25).resolve(), Version::v1(25));
        assert!(Version::v1(36) < Version::LATEST);
        assert_eq!(Version::v1(u32::MAX).minor(), Some(u32::MAX - 1));
        assert_eq!(Version::v1(7).to_string(), "v1.7");
        assert_eq!(Version::LATEST.to_string(), "latest");
    }
}
