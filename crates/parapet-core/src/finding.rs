//! A finding: the lasting record that a rule fails on an asset, kept across
//! scans with its lifecycle (open, resolved, reopened).

use crate::evaluation::Evaluation;
use crate::severity::Severity;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a finding is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingStatus {
    /// The rule fails on the asset and has not passed since it first failed.
    Open,
    /// The rule passed after failing.
    Resolved,
    /// The rule failed again after it had been resolved.
    Reopened,
}

impl FindingStatus {
    /// The lowercase name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingStatus::Open => "open",
            FindingStatus::Resolved => "resolved",
            FindingStatus::Reopened => "reopened",
        }
    }
}

/// One finding per (rule, asset).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The rule that fails.
    pub rule_id: String,
    /// The asset it fails on.
    pub asset_id: String,
    /// The rule's severity when last evaluated.
    pub severity: Severity,
    /// Where the finding is in its lifecycle.
    pub status: FindingStatus,
    /// When the rule first failed on the asset.
    pub first_seen: DateTime<Utc>,
    /// When the rule was last evaluated on the asset.
    pub last_seen: DateTime<Utc>,
    /// When the finding was last resolved, if it is resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// The latest evaluation.
    pub evaluation: Evaluation,
}
