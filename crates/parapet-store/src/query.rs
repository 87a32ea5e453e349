//! What callers ask the store for and what they get back.

use chrono::{DateTime, Utc};
use parapet_core::{
    Asset, ContentHash, Event, EventKind, FindingStatus, ScanRun, Severity, Status,
};
use serde::Serialize;
use std::collections::BTreeMap;

/// One version of an asset.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssetVersion {
    /// 1 for the first version seen, then increasing.
    pub version: i64,
    /// The content hash of this version.
    #[serde(serialize_with = "hash_text")]
    pub content_hash: ContentHash,
    /// When this version was first observed.
    pub observed_at: DateTime<Utc>,
    /// When the asset was deleted, if this is its last version and it was.
    pub deleted_at: Option<DateTime<Utc>>,
    /// The asset as it was.
    pub asset: Asset,
}

fn hash_text<S: serde::Serializer>(hash: &ContentHash, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hash.to_string())
}

/// A finding as stored: the lifecycle of one (rule, asset) pair and its
/// latest evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingRecord {
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
    /// The rule's severity.
    pub severity: Severity,
    /// The lifecycle status; `None` for a pair that has never failed.
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

/// Which findings to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingQuery {
    /// Lifecycle statuses to include (default: open and reopened).
    pub statuses: Vec<FindingStatus>,
    /// Only this severity or worse.
    pub min_severity: Option<Severity>,
    /// Only this rule.
    pub rule_id: Option<String>,
    /// Only this asset.
    pub asset_id: Option<String>,
    /// Only this account.
    pub account: Option<String>,
    /// Include muted findings (hidden by default).
    pub include_muted: bool,
    /// How many to return.
    pub limit: usize,
    /// How many to skip, for paging; prefer `after` for deep pages.
    pub offset: usize,
    /// Only findings after this one in listing order (most severe first,
    /// then by rule and asset): the last of the previous page.
    pub after: Option<FindingCursor>,
}

/// A position in the findings listing order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingCursor {
    /// The severity of the last finding seen.
    pub severity: Severity,
    /// Its rule.
    pub rule_id: String,
    /// Its asset.
    pub asset_id: String,
}

impl FindingRecord {
    /// The cursor that continues a listing after this finding.
    pub fn cursor(&self) -> FindingCursor {
        FindingCursor {
            severity: self.severity,
            rule_id: self.rule_id.clone(),
            asset_id: self.asset_id.clone(),
        }
    }
}

impl Default for FindingQuery {
    fn default() -> Self {
        FindingQuery {
            statuses: vec![FindingStatus::Open, FindingStatus::Reopened],
            min_severity: None,
            rule_id: None,
            asset_id: None,
            account: None,
            include_muted: false,
            limit: 100,
            offset: 0,
            after: None,
        }
    }
}

/// Which events to list. Every filter given must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventQuery {
    /// Only events of this asset.
    pub asset_id: Option<String>,
    /// Only events of this account.
    pub account: Option<String>,
    /// Only events of this rule.
    pub rule_id: Option<String>,
    /// Only these kinds (all when empty).
    pub kinds: Vec<EventKind>,
    /// Only events at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only events before this time.
    pub until: Option<DateTime<Utc>>,
    /// Only events older than this event id, for paging.
    pub before_id: Option<i64>,
    /// How many to return.
    pub limit: usize,
}

impl Default for EventQuery {
    fn default() -> Self {
        EventQuery {
            asset_id: None,
            account: None,
            rule_id: None,
            kinds: Vec::new(),
            since: None,
            until: None,
            before_id: None,
            limit: 100,
        }
    }
}

/// An event with its id on the timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredEvent {
    /// Its position on the timeline, increasing.
    pub id: i64,
    /// The scan that produced it, if one did.
    pub scan_id: Option<i64>,
    /// The event.
    #[serde(flatten)]
    pub event: Event,
}

/// What `finish_scan` wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanOutput {
    /// The finished scan run.
    pub scan: ScanRun,
    /// How many events it added.
    pub events: u64,
}
