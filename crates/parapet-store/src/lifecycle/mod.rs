//! The findings lifecycle as logic apart from any database: what a scan's
//! assets and evaluations change (new, changed, recreated and deleted
//! assets; findings opened, resolved and reopened), which mute covers a
//! finding, how findings group into incidents, and which channels hear of
//! each change. The logic reads and writes through a [`Ledger`]: one
//! backend transaction offering plain reads and writes, so that every
//! backend records the same story.
//!
//! # Layout
//!
//! - [`steps`]: the pure decisions, one asset or finding at a time.
//! - [`scan`]: one scan recorded, phase by phase.
//! - [`mutes`]: mutes added, lifted and expired, and the findings they cover.
//! - [`incidents`]: findings grouped into incidents, and incidents taken or
//!   resolved by hand.
//! - [`outbox`]: finding changes routed to notification channels.

pub mod incidents;
pub mod mutes;
pub mod outbox;
pub mod scan;
pub mod steps;

use crate::error::StoreError;
use crate::query::{FindingChange, IncidentInfo, IncidentPolicy, IncidentStatus, Router};
use chrono::{DateTime, Utc};
use parapet_core::{
    Asset, EventKind, Evidence, FindingStatus, Mute, MuteSelector, MuteTarget, Provider, ScanRun,
    Severity, Status,
};
use std::collections::BTreeMap;
use std::sync::Arc;

/// What recording does beyond the findings themselves: where finding
/// changes are notified, and how findings group into incidents. Neither by
/// default.
#[derive(Clone, Default)]
pub struct Policy {
    /// The channels each finding change goes to.
    pub router: Option<Arc<dyn Router>>,
    /// How findings group into incidents.
    pub incidents: Option<IncidentPolicy>,
}

/// What the store knows of each asset of an account, by id.
pub type KnownAssets = rustc_hash::FxHashMap<String, KnownAsset>;

/// What the store knows of an asset when a scan starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownAsset {
    /// The content hash of its current version.
    pub content_hash: String,
    /// Its current version.
    pub version: i64,
    /// When it was deleted, if it was.
    pub deleted_at: Option<DateTime<Utc>>,
    /// Its account (shared by the account's assets as read).
    pub account: Arc<str>,
    /// Its region (shared likewise).
    pub region: Arc<str>,
    /// Its resource type (shared likewise).
    pub resource_type: Arc<str>,
    /// What its results were last worked out with (parapet-rules' `Stamp`
    /// as text), if known.
    pub evaluated: Option<String>,
}

/// A place (an account's resource type in one region) that a scan
/// collected whole, and the time its assets were observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlaceSeen<'a> {
    /// The cloud.
    pub provider: Provider,
    /// The account.
    pub account: &'a str,
    /// The region.
    pub region: &'a str,
    /// The resource type.
    pub resource_type: &'a str,
    /// When its assets were observed (the earliest of them, where they
    /// differ).
    pub at: DateTime<Utc>,
}

/// What incremental evaluation needs of a live asset: the content hash and
/// the stamp its results were last worked out with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvaluatedAsset {
    /// Its id.
    pub id: String,
    /// The content hash of its current version.
    pub content_hash: String,
    /// The stamp its results were worked out with (parapet-rules' `Stamp`
    /// as text).
    pub stamp: String,
}

/// An [`EvaluatedAsset`] borrowed from what the store read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvaluatedRef<'a> {
    /// Its id.
    pub id: &'a str,
    /// The content hash of its current version.
    pub content_hash: &'a str,
    /// The stamp its results were worked out with.
    pub stamp: &'a str,
}

impl EvaluatedAsset {
    /// The asset, borrowed.
    pub fn borrowed(&self) -> EvaluatedRef<'_> {
        EvaluatedRef {
            id: &self.id,
            content_hash: &self.content_hash,
            stamp: &self.stamp,
        }
    }
}

/// The lifecycle of a finding that has failed at least once, as it stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreviousFinding {
    /// Where it stands.
    pub status: FindingStatus,
    /// When it first failed.
    pub first_seen: Option<DateTime<Utc>>,
    /// When it last resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// The mute in force.
    pub muted_by: Option<i64>,
}

/// A result as stored: its finding's lifecycle, once it has failed, and
/// what its row says besides, which recording compares a new result with
/// so that a row that would not change is not written again.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResult {
    /// The lifecycle; `None` while it has never failed.
    pub previous: Option<PreviousFinding>,
    /// The asset's account, region and resource type, as the row has them.
    pub place: (String, String, String),
    /// The rule's severity then.
    pub severity: Severity,
    /// The result.
    pub result: Status,
    /// Its message.
    pub message: String,
    /// Its evidence, as JSON text.
    pub evidence: String,
}

/// An open finding of an asset, as its deletion resolves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenFinding {
    /// The rule.
    pub rule_id: String,
    /// The message of its latest evaluation.
    pub message: String,
    /// The mute in force.
    pub muted_by: Option<i64>,
}

/// One asset written by a scan.
#[derive(Debug)]
pub enum AssetWrite<'a> {
    /// Seen for the first time: its row, and version 1.
    Insert {
        /// The asset.
        asset: &'a Asset,
        /// Its content hash.
        hash: &'a str,
        /// Its content document, as versions keep it.
        document: &'a str,
        /// What its results were worked out with, if known.
        evaluated: Option<&'a str>,
    },
    /// Seen again, unchanged: only when it was seen, and what its results
    /// were worked out with, move.
    Touch {
        /// The asset.
        asset: &'a Asset,
        /// What its results were worked out with, if known.
        evaluated: Option<&'a str>,
    },
    /// Changed, recreated after a deletion, or both: its row, and a new
    /// version when its content changed.
    Update {
        /// The asset.
        asset: &'a Asset,
        /// Its content hash.
        hash: &'a str,
        /// Its version now.
        version: i64,
        /// The new version's document, when the content changed.
        document: Option<&'a str>,
        /// What its results were worked out with, if known.
        evaluated: Option<&'a str>,
        /// Whether it had been deleted (only then does its deletion time,
        /// and the indexes that hold it, change).
        recreated: bool,
    },
}

/// A finding's row after one evaluation.
#[derive(Debug)]
pub struct FindingRow<'a> {
    /// The rule.
    pub rule_id: &'a str,
    /// The asset evaluated.
    pub asset: &'a Asset,
    /// The rule's severity.
    pub severity: Severity,
    /// Where its lifecycle stands; `None` until it first fails.
    pub status: Option<FindingStatus>,
    /// When it first failed.
    pub first_seen: Option<DateTime<Utc>>,
    /// When it was evaluated.
    pub last_seen: DateTime<Utc>,
    /// When it last resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// The evaluation's result.
    pub result: Status,
    /// The evaluation's message.
    pub message: &'a str,
    /// The evaluation's evidence.
    pub evidence: &'a Evidence,
    /// The mute in force.
    pub muted_by: Option<i64>,
}

impl FindingRow<'_> {
    /// Whether writing the row would change nothing of `stored` but when
    /// the result was last seen.
    pub fn restates(&self, stored: &StoredResult) -> bool {
        let lifecycle = self.status.map(|status| PreviousFinding {
            status,
            first_seen: self.first_seen,
            resolved_at: self.resolved_at,
            muted_by: self.muted_by,
        });
        stored.previous == lifecycle
            && stored.severity == self.severity
            && stored.result == self.result
            && stored.message == self.message
            && stored.place.0 == self.asset.account
            && stored.place.1 == self.asset.region
            && stored.place.2 == self.asset.resource_type.as_str()
            && self.evidence.json() == stored.evidence
    }
}

/// An event to append to the timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent<'a> {
    /// When.
    pub at: DateTime<Utc>,
    /// What happened.
    pub kind: EventKind,
    /// The asset.
    pub asset_id: &'a str,
    /// Its account.
    pub account: &'a str,
    /// The rule, for finding events.
    pub rule_id: Option<&'a str>,
    /// The scan that caused it.
    pub scan_id: Option<i64>,
    /// What else there is to say.
    pub detail: serde_json::Value,
}

/// A finding with the facts mutes match on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MuteCandidate {
    /// The rule.
    pub rule_id: String,
    /// The asset.
    pub asset_id: String,
    /// Its account.
    pub account: String,
    /// Its region.
    pub region: String,
    /// Its asset's tags.
    pub tags: BTreeMap<String, String>,
}

impl MuteCandidate {
    /// What a mute selector matches this finding on.
    pub fn target(&self) -> MuteTarget<'_> {
        MuteTarget {
            rule_id: &self.rule_id,
            asset_id: &self.asset_id,
            account: &self.account,
            region: &self.region,
            tags: &self.tags,
        }
    }
}

/// One backend transaction: the plain reads and writes the lifecycle is
/// told in. Nothing is visible to others until the backend commits.
pub trait Ledger {
    /// Waits until no other transaction holds `key` (exclusively, or at
    /// all when `exclusive`), and holds it until this one ends: what keeps
    /// two workers from recording one account, or a mute from changing
    /// under a scan, at once. A backend with one writer at a time needs
    /// nothing.
    fn lock(&mut self, key: &str, exclusive: bool) -> Result<(), StoreError>;

    /// A scan run.
    fn scan(&mut self, id: i64) -> Result<Option<ScanRun>, StoreError>;
    /// Writes a scan's end: finished time, status, counts and errors.
    fn close_scan(&mut self, scan: &ScanRun) -> Result<(), StoreError>;

    /// Every asset of one account the store knows, deleted ones too, by id.
    fn known_assets(
        &mut self,
        provider: Provider,
        account: &str,
    ) -> Result<KnownAssets, StoreError>;
    /// The accounts of those of `ids` the store keeps, with any provider:
    /// (id, account).
    fn owners(&mut self, ids: &[&str]) -> Result<Vec<(String, String)>, StoreError>;
    /// Writes assets, in order.
    fn write_assets(&mut self, writes: &[AssetWrite<'_>]) -> Result<(), StoreError>;
    /// Marks an asset deleted; it was last seen when its place was, if
    /// that is later than its own last sighting.
    fn mark_deleted(&mut self, asset_id: &str, at: DateTime<Utc>) -> Result<(), StoreError>;
    /// Notes the places a scan collected whole (a later time only).
    fn mark_places_seen(&mut self, places: &[PlaceSeen<'_>]) -> Result<(), StoreError>;
    /// An asset's name and tags.
    fn asset_label(
        &mut self,
        asset_id: &str,
    ) -> Result<(String, BTreeMap<String, String>), StoreError>;

    /// Every stored result of these assets: rule, asset and result.
    fn stored_results(
        &mut self,
        asset_ids: &[&str],
    ) -> Result<Vec<(String, String, StoredResult)>, StoreError>;
    /// The open findings of an asset.
    fn open_findings(&mut self, asset_id: &str) -> Result<Vec<OpenFinding>, StoreError>;
    /// Resolves one finding.
    fn resolve_finding(
        &mut self,
        rule_id: &str,
        asset_id: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Writes findings' rows, in order.
    fn write_findings(&mut self, rows: &[FindingRow<'_>]) -> Result<(), StoreError>;
    /// Removes the results of (rule id, asset id) pairs, where stored.
    fn remove_results(&mut self, pairs: &[(&str, &str)]) -> Result<(), StoreError>;

    /// Appends events, in order; returns their ids.
    fn append_events(&mut self, events: &[NewEvent<'_>]) -> Result<Vec<i64>, StoreError>;

    /// Every mute, lifted ones too when asked.
    fn mutes(&mut self, include_lifted: bool) -> Result<Vec<Mute>, StoreError>;
    /// Records a mute; returns its id.
    fn insert_mute(
        &mut self,
        selector: &MuteSelector,
        reason: &str,
        author: &str,
        created_at: DateTime<Utc>,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<i64, StoreError>;
    /// Records that a mute ended.
    fn end_mute(&mut self, id: i64, at: DateTime<Utc>) -> Result<(), StoreError>;
    /// Findings that have failed at least once and are muted by `muted_by`
    /// (`None`: not muted), narrowed by `selector`'s exact criteria where
    /// given (the caller matches in full).
    fn mute_candidates(
        &mut self,
        muted_by: Option<i64>,
        selector: Option<&MuteSelector>,
    ) -> Result<Vec<MuteCandidate>, StoreError>;
    /// Sets the mute in force on one finding.
    fn set_muted_by(
        &mut self,
        rule_id: &str,
        asset_id: &str,
        mute: Option<i64>,
    ) -> Result<(), StoreError>;

    /// The incident a finding belongs to.
    fn incident_of(
        &mut self,
        rule_id: &str,
        asset_id: &str,
    ) -> Result<Option<IncidentInfo>, StoreError>;
    /// How many findings of an incident are open.
    fn open_findings_in(&mut self, incident: i64) -> Result<i64, StoreError>;
    /// The newest incident of a group that is not resolved.
    fn unresolved_incident(&mut self, group_key: &str) -> Result<Option<i64>, StoreError>;
    /// Opens an incident; returns its id.
    fn open_incident(
        &mut self,
        group_key: &str,
        title: &str,
        severity: Severity,
        at: DateTime<Utc>,
    ) -> Result<i64, StoreError>;
    /// Moves an incident to `status` at `at`: open again (acknowledgement
    /// and resolution cleared, opened at `at`), acknowledged by `owner`, or
    /// resolved.
    fn set_incident_status(
        &mut self,
        id: i64,
        status: IncidentStatus,
        owner: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Makes a finding a member of an incident, whose severity becomes the
    /// worse of its own and `severity`.
    fn join_incident(
        &mut self,
        rule_id: &str,
        asset_id: &str,
        incident: i64,
        severity: Severity,
    ) -> Result<(), StoreError>;
    /// Appends to an incident's own timeline.
    fn incident_event(
        &mut self,
        incident: i64,
        at: DateTime<Utc>,
        kind: &str,
        detail: serde_json::Value,
    ) -> Result<(), StoreError>;
    /// The incident's most recently evaluated finding: rule, asset, account.
    fn latest_finding_in(
        &mut self,
        incident: i64,
    ) -> Result<Option<(String, String, String)>, StoreError>;
    /// The messages written about an incident: channel and change, newest
    /// first.
    fn incident_messages(
        &mut self,
        incident: i64,
    ) -> Result<Vec<(String, FindingChange)>, StoreError>;

    /// Writes one notification of a change, recorded as event `event_id`,
    /// to one channel, pending at once.
    fn enqueue(
        &mut self,
        event_id: i64,
        channel: &str,
        idempotency_key: &str,
        change: &FindingChange,
    ) -> Result<(), StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_row_restates_a_stored_result_only_when_all_but_its_time_is_the_same() {
        let asset: Asset = serde_json::from_value(json!({
            "id": "arn:aws:s3:::data", "provider": "aws", "account": "1", "region": "eu-west-1",
            "resource_type": "AWS::S3::Bucket", "name": "data", "config": {},
            "observed_at": "2026-12-01T10:00:00Z",
        }))
        .expect("an asset");
        let evidence = Evidence::of([("config.Versioning", &json!("Off"))]);
        let first = Utc::now();
        let row = FindingRow {
            rule_id: "aws-s3-bucket-versioning-enabled",
            asset: &asset,
            severity: Severity::Medium,
            status: Some(FindingStatus::Open),
            first_seen: Some(first),
            last_seen: Utc::now(),
            resolved_at: None,
            result: Status::Fail,
            message: "versioning is off",
            evidence: &evidence,
            muted_by: None,
        };
        let stored = StoredResult {
            previous: Some(PreviousFinding {
                status: FindingStatus::Open,
                first_seen: Some(first),
                resolved_at: None,
                muted_by: None,
            }),
            place: ("1".into(), "eu-west-1".into(), "AWS::S3::Bucket".into()),
            severity: Severity::Medium,
            result: Status::Fail,
            message: "versioning is off".into(),
            evidence: evidence.json().to_owned(),
        };
        assert!(row.restates(&stored));
        let changed = [
            StoredResult {
                message: "versioning is suspended".into(),
                ..stored.clone()
            },
            StoredResult {
                evidence: r#"{"config.Versioning":"Suspended"}"#.into(),
                ..stored.clone()
            },
            StoredResult {
                previous: None,
                ..stored.clone()
            },
            StoredResult {
                severity: Severity::High,
                ..stored.clone()
            },
            StoredResult {
                result: Status::Unknown,
                ..stored.clone()
            },
            StoredResult {
                place: ("1".into(), "us-east-1".into(), "AWS::S3::Bucket".into()),
                ..stored.clone()
            },
        ];
        for stored in changed {
            assert!(!row.restates(&stored), "{stored:?}");
        }
        let muted = FindingRow {
            muted_by: Some(7),
            ..row
        };
        assert!(!muted.restates(&stored));
    }
}
