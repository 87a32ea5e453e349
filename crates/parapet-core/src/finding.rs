//! A finding: the lasting record that a rule fails on an asset, kept across
//! scans with its lifecycle (open, resolved, reopened).

use crate::evaluation::Status;
use crate::severity::Severity;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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

/// One finding per (rule, asset): the lifecycle of the pair and its latest
/// evaluation. A pair that has never failed has no lifecycle status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The rule.
    pub rule_id: String,
    /// The asset.
    pub asset_id: String,
    /// The asset's account.
    pub account: String,
    /// The asset's region.
    pub region: String,
    /// The asset's resource type.
    pub resource_type: String,
    /// The rule's severity when last evaluated.
    pub severity: Severity,
    /// Where the finding is in its lifecycle; `None` for a pair that has
    /// never failed.
    pub status: Option<FindingStatus>,
    /// When the rule first failed on the asset.
    pub first_seen: Option<DateTime<Utc>>,
    /// When the pair was last evaluated.
    pub last_seen: DateTime<Utc>,
    /// When the finding was resolved, if it is.
    pub resolved_at: Option<DateTime<Utc>>,
    /// The latest evaluation's result.
    pub result: Status,
    /// The latest evaluation's message.
    pub message: String,
    /// The latest evaluation's evidence.
    pub evidence: BTreeMap<String, serde_json::Value>,
    /// The mute in force, if any.
    pub muted_by: Option<i64>,
}

impl From<Finding> for crate::evaluation::Evaluation {
    /// The latest result a finding holds, as an evaluation.
    fn from(finding: Finding) -> Self {
        crate::evaluation::Evaluation {
            rule_id: finding.rule_id.into(),
            asset_id: finding.asset_id.into(),
            status: finding.result,
            message: finding.message.into(),
            evidence: finding.evidence.into(),
        }
    }
}
