//! What callers ask the store for and what they get back.

use chrono::{DateTime, Utc};
use parapet_core::{
    Asset, ContentHash, Event, EventKind, Finding, FindingStatus, ScanRun, Severity,
};
use serde::{Deserialize, Serialize};
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

impl FindingCursor {
    /// The cursor that continues a listing after `finding`.
    pub fn after(finding: &Finding) -> FindingCursor {
        FindingCursor {
            severity: finding.severity,
            rule_id: finding.rule_id.clone(),
            asset_id: finding.asset_id.clone(),
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

/// A finding's change of state, as a notification carries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingChange {
    /// Opened, reopened or resolved.
    pub kind: EventKind,
    /// When.
    pub at: DateTime<Utc>,
    /// The rule.
    pub rule_id: String,
    /// The rule's severity.
    pub severity: Severity,
    /// The rule's message.
    pub message: String,
    /// The asset.
    pub asset_id: String,
    /// Its name.
    pub asset_name: String,
    /// Its account.
    pub account: String,
    /// Its region.
    pub region: String,
    /// Its resource type.
    pub resource_type: String,
    /// Its tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// The incident the finding belongs to after the change, when findings
    /// are grouped into incidents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<IncidentInfo>,
}

/// An incident, as a notification names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentInfo {
    /// Its number.
    pub id: i64,
    /// Its title.
    pub title: String,
    /// Its status after the change.
    pub status: IncidentStatus,
    /// Who acknowledged or resolved it by hand, when that is the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

/// Where a finding change's notifications go: set on a store, it is asked
/// for each change a scan records (muted findings are never asked about),
/// and one outbox entry per channel it names is written with the change.
pub trait Router: Send + Sync {
    /// The channels `change` goes to; none to send nothing.
    fn channels(&self, change: &FindingChange) -> Vec<String>;
}

/// Where an outbox entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutboxStatus {
    /// Not delivered yet; tried again at `next_attempt_at`.
    Pending,
    /// The channel accepted it.
    Delivered,
    /// Every attempt failed.
    Failed,
}

impl OutboxStatus {
    /// The lowercase name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Delivered => "delivered",
            OutboxStatus::Failed => "failed",
        }
    }
}

/// One notification of the outbox.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notification {
    /// Its number.
    pub id: i64,
    /// The event of the change.
    pub event_id: i64,
    /// The channel it goes to.
    pub channel: String,
    /// The same for every attempt: receivers drop duplicates by it.
    pub idempotency_key: String,
    /// What changed.
    pub change: FindingChange,
    /// Where it stands.
    pub status: OutboxStatus,
    /// Attempts made.
    pub attempts: i64,
    /// When it is tried next (pending).
    pub next_attempt_at: DateTime<Utc>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// When the channel accepted it.
    pub delivered_at: Option<DateTime<Utc>>,
}

/// How findings are grouped into incidents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Grouping {
    /// One incident per rule and account.
    RuleAndAccount,
    /// One incident per asset.
    Asset,
}

/// Which findings become incidents, and how they are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IncidentPolicy {
    /// How findings are grouped.
    pub grouping: Grouping,
    /// Only findings of this severity or worse.
    pub min_severity: Severity,
}

/// Where an incident stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IncidentStatus {
    /// Needs someone.
    Open,
    /// Someone has it.
    Acknowledged,
    /// Every finding resolved, or resolved by hand.
    Resolved,
}

impl IncidentStatus {
    /// The lowercase name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentStatus::Open => "open",
            IncidentStatus::Acknowledged => "acknowledged",
            IncidentStatus::Resolved => "resolved",
        }
    }
}

/// An incident.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Incident {
    /// Its number.
    pub id: i64,
    /// What groups its findings (`rule:R/account:A` or `asset:ID`).
    pub group_key: String,
    /// A title: the rule's message and the account, or the asset.
    pub title: String,
    /// The worst severity of its findings.
    pub severity: Severity,
    /// Where it stands.
    pub status: IncidentStatus,
    /// Who has it.
    pub owner: Option<String>,
    /// When it opened (or last reopened).
    pub opened_at: DateTime<Utc>,
    /// When it was acknowledged.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// When it resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Its findings, rule and asset, and how many are still open.
    pub findings: Vec<(String, String)>,
    /// How many of its findings are open.
    pub open_findings: usize,
}

/// One entry of an incident's timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentEvent {
    /// When.
    pub at: DateTime<Utc>,
    /// `opened`, `finding_added`, `acknowledged`, `resolved` or `reopened`.
    pub kind: String,
    /// What else there is to say (the finding, who).
    pub detail: serde_json::Value,
}
