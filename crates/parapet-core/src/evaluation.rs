//! The result of evaluating one rule against one asset.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// The outcome of one rule on one asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The asset complies with the rule.
    Pass,
    /// The asset violates the rule.
    Fail,
    /// The data the rule needs is missing or could not be collected, so
    /// compliance cannot be decided. Never counted as a pass.
    Unknown,
    /// The rule itself could not be evaluated (a type error in its condition,
    /// for example); the message says why.
    Error,
}

impl Status {
    /// Every status, in report order.
    pub const ALL: [Status; 4] = [Status::Fail, Status::Unknown, Status::Error, Status::Pass];

    /// The lowercase name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Unknown => "unknown",
            Status::Error => "error",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One rule evaluated against one asset. The ids and message are shared
/// (`Arc<str>`): one scan produces millions of evaluations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// The rule's id.
    pub rule_id: Arc<str>,
    /// The asset's id.
    pub asset_id: Arc<str>,
    /// The outcome.
    pub status: Status,
    /// Why: for `fail`, what is wrong with the asset (the rule's
    /// `message.fail`, naming the asset and the offending detail, or its
    /// title where it has none); for `pass`, why it passes (`message.pass`,
    /// or the title); for `unknown`, which field was missing and, where the
    /// collector recorded it, which call was denied or failed; for `error`,
    /// the evaluation error.
    pub message: Arc<str>,
    /// The values of the asset's fields that the rule read, by path from the
    /// asset (`config.PublicAccessBlock.BlockPublicAcls`). A field that was
    /// absent is left out.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub evidence: BTreeMap<String, serde_json::Value>,
}
