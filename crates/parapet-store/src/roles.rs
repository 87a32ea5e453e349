//! The store's roles, one trait each, taking and returning domain types
//! only: what a scan records ([`Scans`]), the [`Inventory`], [`Findings`]
//! with their mutes, the [`Timeline`], the notification [`Outbox`],
//! [`Incidents`], API [`Tokens`] and the [`Jobs`] workers share. [`Store`]
//! is all of them: what a backend implements. Callers name the roles they
//! use.

use crate::error::StoreError;
use crate::jobs::{JobRecord, Lease, NewJob, QueueCounts};
use crate::lifecycle::EvaluatedAsset;
use crate::query::WebSession;
use crate::query::{
    ApiToken, AssetQuery, AssetSummary, AssetVersion, EventQuery, Facets, FindingQuery, Incident,
    IncidentEvent, IncidentStatus, Notification, OutboxStatus, Overview, Pruned, ResultCount,
    ScanOutput, StoredEvent, TokenScope,
};
use crate::sql::ahead::{KeptAccount, ReadAhead};
use chrono::{DateTime, Utc};
use parapet_core::{
    Asset, CollectionError, Evaluation, Finding, Mute, MuteSelector, Provenance, ScanRun, Scope,
    Severity,
};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// What recording needs to know of the rules behind the evaluations.
pub trait RuleFacts {
    /// The rule's severity.
    fn severity(&self, rule_id: &str) -> Severity;
    /// The rule's title, which names an incident grouping its findings
    /// (without one, the incident is named by the first finding's message).
    fn title(&self, rule_id: &str) -> Option<&str>;
}

/// A function from rule id to severity, for callers that know no titles.
impl<F: Fn(&str) -> Severity> RuleFacts for F {
    fn severity(&self, rule_id: &str) -> Severity {
        self(rule_id)
    }

    fn title(&self, _rule_id: &str) -> Option<&str> {
        None
    }
}

/// Scan runs: begun, recorded as one transaction, listed.
pub trait Scans {
    /// The database, as messages name it: a file, or a server and
    /// database (never a credential).
    fn database(&self) -> &str;

    /// Records the start of a scan of `scope` from `source`, produced as
    /// `provenance` says; committed at once (inside a batch, with the
    /// batch's transaction when one is open), so that a scan that never
    /// finishes is visible as `running`.
    fn begin_scan(
        &mut self,
        scope: &Scope,
        source: &str,
        provenance: &Provenance,
        started_at: DateTime<Utc>,
    ) -> Result<i64, StoreError>;

    /// Writes everything a scan found, as one transaction: assets and their
    /// versions, deletions of unseen assets of the scope (except where
    /// `errors` cover them), evaluations and the findings lifecycle, events,
    /// and the scan's end. `rules` gives each rule's severity and title.
    fn finish_scan(
        &mut self,
        scan_id: i64,
        assets: &[Asset],
        evaluated: Evaluated<'_>,
        rules: &dyn RuleFacts,
        errors: &[CollectionError],
        finished_at: DateTime<Utc>,
    ) -> Result<ScanOutput, StoreError>;

    /// Lets the scans finished from now on share transactions: each is
    /// committed with the others once they hold enough assets or have
    /// waited long enough, and at [`Scans::end_batch`]. A process killed
    /// meanwhile, or a scan that fails to be written, loses the scans not
    /// yet committed, whole.
    fn begin_batch(&mut self);

    /// Commits the scans finished since [`Scans::begin_batch`] and ends
    /// the batch.
    fn end_batch(&mut self) -> Result<(), StoreError>;

    /// What incremental evaluation needs of these assets, where they exist
    /// now: each one's content hash and the stamp its results were worked
    /// out with (assets without one are left out).
    fn evaluated_assets(&self, ids: &[&str]) -> Result<Vec<EvaluatedAsset>, StoreError>;

    /// The same of every live asset of `account`: cheaper than by id when
    /// most of the account's assets are asked for (read along the account's
    /// index rather than looked up one by one). A store may keep what it
    /// read for recording the account's scan that follows, as long as
    /// nothing has changed those assets since.
    fn evaluated_assets_of(
        &self,
        provider: parapet_core::Provider,
        account: &str,
    ) -> Result<Vec<EvaluatedAsset>, StoreError>;

    /// The same as [`Scans::evaluated_assets_of`], to be read on another
    /// thread while this store records other accounts: `None` where the
    /// backend cannot (it has no second connection, or the account has
    /// writes not yet committed, which another connection would not see),
    /// and the caller reads here instead. Hand what was read back with
    /// [`Scans::keep_read`] before recording the account's scan.
    fn read_ahead(
        &self,
        provider: parapet_core::Provider,
        account: &str,
    ) -> Result<Option<ReadAhead>, StoreError> {
        let _ = (provider, account);
        Ok(None)
    }

    /// Keeps an account's assets read ahead for recording its scan, as
    /// [`Scans::evaluated_assets_of`] keeps what it reads, as long as
    /// nothing has changed them since the read was granted.
    fn keep_read(&self, kept: KeptAccount) {
        let _ = kept;
    }

    /// The digest of each rule of the pack `id`, if it was kept.
    fn rule_pack(&self, id: &str) -> Result<Option<BTreeMap<String, String>>, StoreError>;

    /// Keeps the digest of each rule of the pack `id` (once: a pack's id
    /// is a digest of its rules' digests).
    fn keep_rule_pack(
        &mut self,
        id: &str,
        rules: &BTreeMap<String, String>,
    ) -> Result<(), StoreError>;

    /// The most recent scan runs, newest first.
    fn scans(&self, limit: usize) -> Result<Vec<ScanRun>, StoreError> {
        self.scans_page(None, limit)
    }

    /// Scan runs older than scan `before` when given (for paging), newest
    /// first; at most `limit`.
    fn scans_page(&self, before: Option<i64>, limit: usize) -> Result<Vec<ScanRun>, StoreError>;
}

/// The inventory: assets as they are and were, and the vulnerability scans attached to them.
pub trait Inventory {
    /// Every version of an asset, oldest first.
    fn asset_history(&self, asset_id: &str) -> Result<Vec<AssetVersion>, StoreError>;

    /// The version of an asset that was current at `at` (or now), if it
    /// existed then.
    fn asset_at(
        &self,
        asset_id: &str,
        at: Option<DateTime<Utc>>,
    ) -> Result<Option<AssetVersion>, StoreError>;

    /// Assets matching `query`, in id order.
    fn assets(&self, query: &AssetQuery) -> Result<Vec<AssetSummary>, StoreError>;

    /// How many assets match `query`, its paging aside.
    fn count_assets(&self, query: &AssetQuery) -> Result<i64, StoreError>;

    /// The providers, accounts, regions and resource types of the assets
    /// that exist now, with how many assets have each.
    fn facets(&self) -> Result<Facets, StoreError>;

    /// The latest version of every asset that exists now (not deleted), in
    /// one account or all; for the topology.
    fn current_assets(&self, account: Option<&str>) -> Result<Vec<Asset>, StoreError>;

    /// The names of the assets that exist now, by id, in one account or all.
    fn asset_names(
        &self,
        account: Option<&str>,
    ) -> Result<std::collections::HashMap<String, String>, StoreError>;

    /// Attaches a vulnerability scan to an asset, replacing its last one.
    fn attach_vulnerabilities(
        &mut self,
        asset_id: &str,
        scan: &parapet_core::VulnerabilityScan,
    ) -> Result<(), StoreError>;

    /// The vulnerability scan attached to each asset.
    fn vulnerability_scans(
        &self,
    ) -> Result<std::collections::HashMap<String, parapet_core::VulnerabilityScan>, StoreError>;
}

/// Findings and their results, the posture they add up to, and the mutes that hide them.
pub trait Findings {
    /// Findings matching `query`, most severe first.
    fn findings(&self, query: &FindingQuery) -> Result<Vec<Finding>, StoreError>;

    /// The latest result of every rule on every asset that exists now (not
    /// deleted), passes included, in one account or all; for reports.
    fn results(&self, account: Option<&str>) -> Result<Vec<Finding>, StoreError>;

    /// The same of these assets alone, those that exist now: read by
    /// asset, so its cost follows how many are asked for, not the estate.
    fn results_of(&self, asset_ids: &[&str]) -> Result<Vec<Finding>, StoreError>;

    /// One finding.
    fn finding(&self, rule_id: &str, asset_id: &str) -> Result<Option<Finding>, StoreError>;

    /// The latest results of each rule in each account, on the assets that
    /// exist now, counted by status: what compliance is computed from.
    fn result_counts(&self) -> Result<Vec<ResultCount>, StoreError>;

    /// The estate at a glance, with the findings trend of the `days` days
    /// up to `now`.
    fn overview(&self, now: DateTime<Utc>, days: u32) -> Result<Overview, StoreError>;

    /// Adds a mute and mutes the findings it covers, with events; returns
    /// the mute and how many findings it muted.
    fn add_mute(
        &mut self,
        selector: &MuteSelector,
        reason: &str,
        author: &str,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<(Mute, usize), StoreError>;

    /// Lifts a mute and unmutes its findings, with events.
    fn lift_mute(&mut self, mute_id: i64, now: DateTime<Utc>) -> Result<Mute, StoreError>;

    /// Ends the mutes whose expiry has passed, with events; returns them.
    fn expire_mutes(&mut self, now: DateTime<Utc>) -> Result<Vec<Mute>, StoreError>;

    /// Every mute, lifted ones too when asked.
    fn mutes(&self, include_lifted: bool) -> Result<Vec<Mute>, StoreError>;
}

/// The timeline of events.
pub trait Timeline {
    /// Events matching `query`, newest first (oldest first when it asks
    /// for events after one).
    fn events(&self, query: &EventQuery) -> Result<Vec<StoredEvent>, StoreError>;
}

/// The notification outbox, and what channels call the subjects they carry.
pub trait Outbox {
    /// Pending notifications due at `now`, oldest first, at most `limit`.
    fn due_notifications(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Notification>, StoreError>;

    /// Records that a notification was delivered.
    fn notification_delivered(&mut self, id: i64, now: DateTime<Utc>) -> Result<(), StoreError>;

    /// Puts a pending notification off until `until` without counting an
    /// attempt (its channel's rate limit is reached).
    fn notification_deferred(&mut self, id: i64, until: DateTime<Utc>) -> Result<(), StoreError>;

    /// Records a failed attempt: tried again at `retry_at`, or marked failed
    /// when there is none.
    fn notification_failed(
        &mut self,
        id: i64,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError>;

    /// The outbox, newest first, of one status or all; at most `limit`.
    fn notifications(
        &self,
        status: Option<OutboxStatus>,
        limit: usize,
    ) -> Result<Vec<Notification>, StoreError>;

    /// What `channel` calls `subject` (the Jira issue of a finding).
    fn channel_ref(&self, channel: &str, subject: &str) -> Result<Option<String>, StoreError>;

    /// Records what `channel` calls `subject`.
    fn set_channel_ref(
        &mut self,
        channel: &str,
        subject: &str,
        reference: &str,
    ) -> Result<(), StoreError>;
}

/// Incidents: findings grouped, taken and resolved.
pub trait Incidents {
    /// Incidents, newest first, of one status or all, older than incident
    /// `before` when given (for paging); at most `limit`.
    fn incidents(
        &self,
        status: Option<IncidentStatus>,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<Incident>, StoreError>;

    /// One incident with its timeline, oldest first.
    fn incident(&self, id: i64) -> Result<Option<(Incident, Vec<IncidentEvent>)>, StoreError>;

    /// Someone takes an open incident.
    fn acknowledge_incident(
        &mut self,
        id: i64,
        owner: &str,
        now: DateTime<Utc>,
    ) -> Result<Incident, StoreError>;

    /// Resolves an incident by hand (a finding of it that opens again
    /// reopens it).
    fn resolve_incident(
        &mut self,
        id: i64,
        who: &str,
        now: DateTime<Utc>,
    ) -> Result<Incident, StoreError>;
}

/// API tokens, kept by the hash of their secret.
pub trait Tokens {
    /// Records a new API token by the hash of its secret.
    fn create_token(
        &mut self,
        name: &str,
        scope: TokenScope,
        hash: &str,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<ApiToken, StoreError>;

    /// Every API token, revoked ones too, oldest first.
    fn tokens(&self) -> Result<Vec<ApiToken>, StoreError>;

    /// The token whose secret hashes to `hash`, valid or not.
    fn token_by_hash(&self, hash: &str) -> Result<Option<ApiToken>, StoreError>;

    /// Records that a token was used at `now`.
    fn token_used(&mut self, id: i64, now: DateTime<Utc>) -> Result<(), StoreError>;

    /// Revokes a token: it stops working at once.
    fn revoke_token(&mut self, id: i64, now: DateTime<Utc>) -> Result<ApiToken, StoreError>;
}

/// An asset's content as evaluation found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// The content stored with the asset: its hash is the one stored (and
    /// neither copied nor compared again).
    AsStored,
    /// Its content hash, with its content text where a new version needs
    /// it (empty where the hash looked the same as stored).
    Hashed {
        /// The content text, as versions keep it.
        text: String,
        /// The content hash.
        hash: String,
    },
}

/// What evaluation made of a scan's assets.
#[derive(Debug, Clone, Copy)]
pub struct Evaluated<'a> {
    /// The results worked out this time. Those of an asset's rules not
    /// worked out again stand as stored.
    pub evaluations: &'a [Evaluation],
    /// What each asset's results were worked out with (parapet-rules'
    /// `Stamp` as text), in the assets' order: `None` where it is the stamp
    /// stored with the asset (which is neither copied nor compared again);
    /// empty when unknown, and then every rule is evaluated again next
    /// time.
    pub stamps: &'a [Option<String>],
    /// Each asset's content, in the assets' order, where evaluation worked
    /// it out already; empty: worked out as recorded.
    pub contents: &'a [Content],
    /// How many results stood as stored, not worked out again.
    pub kept: u64,
    /// The (rule id, asset id) pairs worked out whose rule no longer
    /// applies to the asset: a stored result of them is removed (its
    /// finding resolved first, when open).
    pub inapplicable: &'a [(Arc<str>, Arc<str>)],
}

impl<'a> Evaluated<'a> {
    /// Every result worked out, with nothing to keep for next time.
    pub fn all(evaluations: &'a [Evaluation]) -> Evaluated<'a> {
        Evaluated {
            evaluations,
            stamps: &[],
            contents: &[],
            kept: 0,
            inapplicable: &[],
        }
    }
}

/// What a scan recorded by a worker found, recorded with its job.
pub struct JobScan<'a> {
    /// What it covered.
    pub scope: &'a Scope,
    /// What produced it: `aws`, or the file read.
    pub source: &'a str,
    /// Parapet's, the collector's and the rule pack's versions.
    pub provenance: &'a Provenance,
    /// When its collection began.
    pub started_at: DateTime<Utc>,
    /// Every asset collected.
    pub assets: &'a [Asset],
    /// What evaluation made of them.
    pub evaluated: Evaluated<'a>,
    /// Each rule's severity and title.
    pub rules: &'a dyn RuleFacts,
    /// The parts of the scope that were denied or failed.
    pub errors: &'a [CollectionError],
    /// When it finished.
    pub finished_at: DateTime<Utc>,
}

/// The job queue workers share: units of work claimed under leases.
pub trait Jobs {
    /// Queues jobs; returns their numbers, in order.
    fn enqueue_jobs(&mut self, jobs: &[NewJob], now: DateTime<Utc>)
    -> Result<Vec<i64>, StoreError>;

    /// Claims the oldest job of `kinds` (every kind when empty) that is
    /// ready: queued and due, or running with a lease that has passed (a
    /// job whose attempts are spent then fails instead); holds it for
    /// `lease` from `now`. Two workers never hold one job at once.
    fn claim_job(
        &mut self,
        worker: &str,
        kinds: &[&str],
        lease: std::time::Duration,
        now: DateTime<Utc>,
    ) -> Result<Option<Lease>, StoreError>;

    /// Extends a lease to `until`; `false` when it no longer holds (another
    /// worker claimed the job again).
    fn renew_lease(&mut self, lease: &Lease, until: DateTime<Utc>) -> Result<bool, StoreError>;

    /// Marks a job done with its `result` and queues the jobs it leads to,
    /// in one transaction; `false` (and nothing written) when the lease no
    /// longer holds.
    fn complete_job(
        &mut self,
        lease: &Lease,
        result: &serde_json::Value,
        then: &[NewJob],
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Records an attempt that failed: tried again from `retry_at` when
    /// attempts remain, failed for good otherwise; `false` when the lease
    /// no longer holds.
    fn fail_job(
        &mut self,
        lease: &Lease,
        error: &str,
        retry_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Records a scan and marks its job done, in one transaction (a scan
    /// whose job was claimed again by another worker is not recorded:
    /// `None`).
    fn record_job_scan(
        &mut self,
        lease: &Lease,
        scan: &JobScan<'_>,
    ) -> Result<Option<ScanOutput>, StoreError>;

    /// The jobs of a group, oldest first.
    fn group_jobs(&self, group: &str) -> Result<Vec<JobRecord>, StoreError>;

    /// The jobs of a run (the planning job and every job it led to),
    /// oldest first.
    fn run_jobs(&self, run_id: i64) -> Result<Vec<JobRecord>, StoreError>;

    /// The queue's jobs counted by kind and status.
    fn queue_counts(&self) -> Result<QueueCounts, StoreError>;
}

/// Browser sessions and OpenID Connect logins in progress, shared by every
/// replica of the server; kept by hashes only.
pub trait WebSessions {
    /// Starts a session whose cookie hashes to `id_hash`.
    fn start_session(
        &mut self,
        id_hash: &str,
        session: &WebSession,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// The session whose cookie hashes to `id_hash`, unless it has ended.
    fn session(&self, id_hash: &str, now: DateTime<Utc>) -> Result<Option<WebSession>, StoreError>;

    /// Ends a session.
    fn end_session(&mut self, id_hash: &str) -> Result<(), StoreError>;

    /// Records a login begun with the state that hashes to `state_hash`,
    /// bound to the browser cookie that hashes to `binding_hash`.
    fn start_login(
        &mut self,
        state_hash: &str,
        binding_hash: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Takes (once: no replica can take it again) the login begun with the
    /// state that hashes to `state_hash`, unless it expired; returns the
    /// hash of its browser binding.
    fn take_login(
        &mut self,
        state_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, StoreError>;
}

/// Retention: history older than a cutoff removed.
pub trait Retention {
    /// Removes, in one transaction, what is older than `before` and no
    /// longer current: superseded asset versions (each asset keeps its
    /// current version and the one current at `before`), assets deleted
    /// before it with their findings and versions, events, delivered or
    /// failed notifications, resolved incidents, lifted mutes, finished
    /// scans and jobs. Current assets, open findings, open incidents,
    /// pending notifications and active mutes stay whatever their age.
    fn prune(&mut self, before: DateTime<Utc>) -> Result<Pruned, StoreError>;
}

/// The continuous mode's schedule of whole collections: when each account
/// of a source is next collected whole, shared by every process over one
/// database. `None` stands for a whole collection, before any account is
/// known.
pub trait Resyncs {
    /// Schedules the accounts of `source` not yet scheduled, spread evenly
    /// over `every` from `now`, so that they do not all run at once. Once
    /// accounts are known they replace the whole collection; with none
    /// known, one whole collection is due after `every`.
    fn plan_resyncs(
        &mut self,
        source: &str,
        accounts: &BTreeSet<String>,
        every: std::time::Duration,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Claims the resync of `source` due first at `now`, if any: it is
    /// moved `hold` later, so that no other process takes it meanwhile and
    /// it falls due again if this one stops before it is done.
    fn claim_resync(
        &mut self,
        source: &str,
        hold: std::time::Duration,
        now: DateTime<Utc>,
    ) -> Result<Option<Option<String>>, StoreError>;

    /// The resync of `account` finished at `now`: due again after `every`.
    fn resynced(
        &mut self,
        source: &str,
        account: Option<&str>,
        every: std::time::Duration,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}

/// Every role: what a backend implements, and what a caller that needs
/// several roles holds.
pub trait Store:
    Scans
    + Inventory
    + Findings
    + Timeline
    + Outbox
    + Incidents
    + Tokens
    + Jobs
    + Retention
    + WebSessions
    + Resyncs
    + Send
{
}

impl<T> Store for T where
    T: Scans
        + Inventory
        + Findings
        + Timeline
        + Outbox
        + Incidents
        + Tokens
        + Jobs
        + Retention
        + WebSessions
        + Resyncs
        + Send
{
}
