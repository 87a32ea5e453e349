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
    /// Only these severities (all when empty).
    pub severities: Vec<Severity>,
    /// Only these rules (all when empty).
    pub rule_ids: Vec<String>,
    /// Only this asset.
    pub asset_id: Option<String>,
    /// Only this account.
    pub account: Option<String>,
    /// Only this region.
    pub region: Option<String>,
    /// Only this resource type.
    pub resource_type: Option<String>,
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
            severities: Vec::new(),
            rule_ids: Vec::new(),
            asset_id: None,
            account: None,
            region: None,
            resource_type: None,
            include_muted: false,
            limit: 100,
            offset: 0,
            after: None,
        }
    }
}

/// Which assets to list, in id order. Every filter given must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetQuery {
    /// Only this provider (`aws`).
    pub provider: Option<String>,
    /// Only this account.
    pub account: Option<String>,
    /// Only this region.
    pub region: Option<String>,
    /// Only this resource type (`AWS::S3::Bucket`).
    pub resource_type: Option<String>,
    /// Only assets carrying this tag key, with this value when one is given.
    pub tag: Option<(String, Option<String>)>,
    /// Only assets whose id or name contains this text, in any case.
    pub text: Option<String>,
    /// Deleted assets too (hidden by default).
    pub include_deleted: bool,
    /// Only assets whose id sorts after this one: the last of the previous
    /// page.
    pub after: Option<String>,
    /// How many to return.
    pub limit: usize,
}

impl AssetQuery {
    /// The tag filter `KEY` or `KEY=VALUE`, as the API and the command line
    /// take it.
    pub fn tag_filter(text: &str) -> (String, Option<String>) {
        match text.split_once('=') {
            Some((key, value)) => (key.to_owned(), Some(value.to_owned())),
            None => (text.to_owned(), None),
        }
    }
}

impl Default for AssetQuery {
    fn default() -> Self {
        AssetQuery {
            provider: None,
            account: None,
            region: None,
            resource_type: None,
            tag: None,
            text: None,
            include_deleted: false,
            after: None,
            limit: 100,
        }
    }
}

/// An asset as the inventory lists it: where it is and what it is, without
/// its configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssetSummary {
    /// The asset id.
    pub id: String,
    /// The provider.
    pub provider: String,
    /// The account.
    pub account: String,
    /// The region.
    pub region: String,
    /// The resource type.
    pub resource_type: String,
    /// The name.
    pub name: String,
    /// The tags.
    pub tags: BTreeMap<String, String>,
    /// The current version.
    pub version: i64,
    /// When it was first seen.
    pub first_seen: DateTime<Utc>,
    /// When it was last seen.
    pub last_seen: DateTime<Utc>,
    /// When it was deleted, if it was.
    pub deleted_at: Option<DateTime<Utc>>,
    /// How many of its findings are open and not muted.
    pub open_findings: i64,
}

/// The estate at a glance: what the overview page shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overview {
    /// How many assets exist now.
    pub assets: i64,
    /// Latest results of every rule on every current asset, by status
    /// (`pass`, `fail`, `unknown`, `error`).
    pub results: BTreeMap<String, i64>,
    /// The share of decided results (pass or fail) that pass, in percent;
    /// `None` before anything was evaluated.
    pub posture_score: Option<f64>,
    /// Open findings that are not muted, by severity.
    pub open_by_severity: BTreeMap<Severity, i64>,
    /// Muted open findings.
    pub muted: i64,
    /// Each account: its assets, open findings by severity and score.
    pub accounts: Vec<AccountPosture>,
    /// Findings opened and resolved per day, oldest day first.
    pub trend: Vec<TrendDay>,
}

/// The values the inventory's filters can take, with how many current
/// assets have each.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Facets {
    /// Providers.
    pub providers: BTreeMap<String, i64>,
    /// Accounts.
    pub accounts: BTreeMap<String, i64>,
    /// Regions.
    pub regions: BTreeMap<String, i64>,
    /// Resource types.
    pub resource_types: BTreeMap<String, i64>,
}

/// One account on the overview.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountPosture {
    /// The account.
    pub account: String,
    /// How many assets exist now in it.
    pub assets: i64,
    /// Open findings that are not muted, by severity.
    pub open_by_severity: BTreeMap<Severity, i64>,
    /// The share of its decided results that pass, in percent.
    pub posture_score: Option<f64>,
}

/// How many latest results of one rule in one account have one status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResultCount {
    /// The account.
    pub account: String,
    /// The rule.
    pub rule_id: String,
    /// The status.
    pub result: parapet_core::Status,
    /// How many.
    pub count: i64,
}

/// One day of the findings trend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrendDay {
    /// The day (UTC), as `YYYY-MM-DD`.
    pub day: String,
    /// Findings opened or reopened that day.
    pub opened: i64,
    /// Findings resolved that day.
    pub resolved: i64,
}

/// What an API token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenScope {
    /// Read everything.
    ReadOnly,
    /// Read everything, mute and unmute findings, take and resolve incidents.
    ReadWrite,
}

impl TokenScope {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::ReadOnly => "read-only",
            TokenScope::ReadWrite => "read-write",
        }
    }

    /// The scope named `name`.
    pub fn parse(name: &str) -> Option<TokenScope> {
        match name {
            "read-only" => Some(TokenScope::ReadOnly),
            "read-write" => Some(TokenScope::ReadWrite),
            _ => None,
        }
    }
}

/// An API token, without its secret (only a hash of it is stored).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiToken {
    /// Its number.
    pub id: i64,
    /// What it is for (`ci`, `alice's laptop`).
    pub name: String,
    /// What it may do.
    pub scope: TokenScope,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was last used, if it was.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiToken {
    /// Whether it may be used at `now`.
    pub fn is_valid(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| e > now)
    }
}

/// Which events to list, newest first (oldest first with `after_id`).
/// Every filter given must match.
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
    /// Only events newer than this event id, listed oldest first: what a
    /// follower of the timeline has not seen yet.
    pub after_id: Option<i64>,
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
            after_id: None,
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
    /// The rule's title (its id where it was not known).
    #[serde(default)]
    pub rule_title: String,
    /// The rule's severity.
    pub severity: Severity,
    /// The evaluation's message: what is wrong with the asset, or why it
    /// now passes.
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

/// What a prune removed: rows by table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Pruned {
    /// How many rows each table lost.
    pub rows: BTreeMap<String, u64>,
}

impl Pruned {
    /// How many rows in all.
    pub fn total(&self) -> u64 {
        self.rows.values().sum()
    }
}

/// A browser session of the web UI, as the store keeps it (by the hash of
/// its cookie).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSession {
    /// Who.
    pub name: String,
    /// What they may do.
    pub scope: TokenScope,
    /// The hash of the API token it was made from (it ends with the
    /// token); none for a login through the OpenID Connect provider.
    pub token_hash: Option<String>,
    /// When it ends.
    pub expires_at: DateTime<Utc>,
}
