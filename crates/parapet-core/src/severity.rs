//! Severity of a rule: how urgently a failure needs attention.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How bad a failing rule is. Ordered from least to most severe, so that
/// `severity >= Severity::High` reads as "high or worse".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; no action expected.
    Informational,
    /// A hardening gap with little direct exposure.
    Low,
    /// A weakness that raises risk, fix in the normal course of work.
    Medium,
    /// A serious weakness, fix soon.
    High,
    /// Direct exposure of data or control, fix now.
    Critical,
}

impl Severity {
    /// Every severity, from most to least severe: the order reports use.
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Informational,
    ];

    /// The lowercase name used in rule files and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Informational => "informational",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was not a severity name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown severity `{0}` (expected critical, high, medium, low or informational)")]
pub struct ParseSeverityError(pub String);

impl FromStr for Severity {
    type Err = ParseSeverityError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "critical" => Ok(Severity::Critical),
            "high" => Ok(Severity::High),
            "medium" => Ok(Severity::Medium),
            "low" => Ok(Severity::Low),
            "informational" | "info" => Ok(Severity::Informational),
            _ => Err(ParseSeverityError(s.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordered_from_informational_to_critical() {
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::High > Severity::Medium);
        assert!(Severity::Medium > Severity::Low);
        assert!(Severity::Low > Severity::Informational);
    }

    #[test]
    fn parses_names_case_insensitively_and_rejects_others() {
        assert_eq!("HIGH".parse::<Severity>(), Ok(Severity::High));
        assert_eq!("info".parse::<Severity>(), Ok(Severity::Informational));
        assert!("severe".parse::<Severity>().is_err());
        for s in Severity::ALL {
            assert_eq!(s.as_str().parse::<Severity>(), Ok(s));
        }
    }
}
