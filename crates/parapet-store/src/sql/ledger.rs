//! The lifecycle's reads and writes in one transaction of the database.

use super::ahead::KeptRead;
use super::findings::{mute_candidates, read_mutes};
use super::{
    Arg, Database, SCAN_COLUMNS, arg_row, args, encode, first, for_each_row_in, json, ms, name_of,
    read_scan, rows, severity_from, severity_number, take_kept,
};
use crate::error::StoreError;
use crate::lifecycle::{
    AssetWrite, FindingRow, KnownAsset, KnownAssets, Ledger, MuteCandidate, NewEvent, OpenFinding,
    PlaceSeen, PreviousFinding, StoredResult,
};
use crate::query::{FindingChange, IncidentInfo, IncidentStatus};
use chrono::{DateTime, Utc};
use parapet_core::{FindingStatus, Mute, MuteSelector, Provider, ScanRun, Severity};
use rustc_hash::FxHashSet;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Arc;

/// One transaction of the store, as the lifecycle's ledger: rolled back
/// unless committed. Inside a transaction already open (a batch of scans)
/// it leaves committing to the batch, and a failure rolls back the whole
/// transaction: a savepoint would have been cheaper to undo, but SQLite
/// then walks its page cache at the end of every statement, which made a
/// scan thirty times slower.
pub(crate) struct SqlLedger<'d, D: Database> {
    db: &'d D,
    open: bool,
    held: bool,
    /// The store's kept reads of accounts' assets, if it keeps any.
    kept: Option<&'d RefCell<Vec<KeptRead>>>,
}

impl<'d, D: Database> SqlLedger<'d, D> {
    /// Starts a transaction on `db`.
    pub(crate) fn begin(db: &'d D) -> Result<SqlLedger<'d, D>, StoreError> {
        db.begin()?;
        Ok(SqlLedger {
            db,
            open: true,
            held: false,
            kept: None,
        })
    }

    /// Works inside the transaction open on `db`.
    pub(crate) fn within(db: &'d D) -> SqlLedger<'d, D> {
        SqlLedger {
            db,
            open: true,
            held: true,
            kept: None,
        }
    }

    /// Reads an account's assets from `kept` when a read of them is kept
    /// there and still holds (and takes it: the ledger writes them).
    pub(crate) fn keeping(mut self, kept: &'d RefCell<Vec<KeptRead>>) -> SqlLedger<'d, D> {
        self.kept = Some(kept);
        self
    }

    /// Commits everything written (inside a transaction already open,
    /// leaves it to be committed with the rest).
    pub(crate) fn commit(mut self) -> Result<(), StoreError> {
        self.open = false;
        if self.held {
            return Ok(());
        }
        if let Err(e) = self.db.commit() {
            self.db.rollback();
            return Err(e);
        }
        self.db.committed();
        Ok(())
    }

    fn execute(&self, sql: &str, args: &[Arg<'_>]) -> Result<(), StoreError> {
        self.db.execute(sql, args).map(|_| ())
    }

    /// Runs an INSERT that ends `RETURNING id`; returns the id.
    fn insert(&self, sql: &str, args: &[Arg<'_>]) -> Result<i64, StoreError> {
        first(self.db, sql, args, |r| r.int(0))?
            .ok_or_else(|| StoreError::Invalid(format!("{}: an insert gave no id", self.db.name())))
    }
}

/// What the store knows of each asset of `account`, deleted or not, by id
/// (the map made on the thread that reads).
pub(crate) fn known_assets<D: Database>(
    db: &D,
    provider: Provider,
    account: &str,
) -> Result<KnownAssets, StoreError> {
    let mut known = KnownAssets::default();
    // The account, and each region and resource type, once for all.
    let owner: Arc<str> = account.into();
    let mut names: FxHashSet<Arc<str>> = FxHashSet::default();
    let mut shared = |name: String| match names.get(name.as_str()) {
        Some(shared) => Arc::clone(shared),
        None => {
            let shared: Arc<str> = name.into();
            names.insert(Arc::clone(&shared));
            shared
        }
    };
    db.for_each_row(
        "SELECT id, content_hash, version, deleted_at, region, resource_type, evaluated FROM assets WHERE provider = ?1 AND account = ?2",
        args![provider.as_str(), account],
        &mut |r| {
            known.insert(
                r.text(0)?,
                KnownAsset {
                    content_hash: r.text(1)?,
                    version: r.int(2)?,
                    deleted_at: r.opt_time(3)?,
                    account: Arc::clone(&owner),
                    region: shared(r.text(4)?),
                    resource_type: shared(r.text(5)?),
                    evaluated: r.opt_text(6)?,
                },
            );
            Ok(())
        },
    )?;
    Ok(known)
}

impl<D: Database> Drop for SqlLedger<'_, D> {
    fn drop(&mut self) {
        if self.open {
            self.db.rollback();
        }
    }
}

impl<D: Database> Ledger for SqlLedger<'_, D> {
    fn lock(&mut self, key: &str, exclusive: bool) -> Result<(), StoreError> {
        self.db.lock(key, exclusive)
    }

    fn scan(&mut self, id: i64) -> Result<Option<ScanRun>, StoreError> {
        first(
            self.db,
            &format!("SELECT {SCAN_COLUMNS} FROM scans WHERE id = ?1"),
            args![id],
            read_scan,
        )
    }

    fn close_scan(&mut self, scan: &ScanRun) -> Result<(), StoreError> {
        self.execute(
            "UPDATE scans SET finished_at = ?1, status = ?2, counts = ?3, errors = ?4 WHERE id = ?5",
            args![
                scan.finished_at.map(ms),
                scan.status.as_str(),
                encode(&scan.counts),
                encode(&scan.errors),
                scan.id
            ],
        )
    }

    fn known_assets(
        &mut self,
        provider: Provider,
        account: &str,
    ) -> Result<KnownAssets, StoreError> {
        if let Some(kept) = self.kept
            && let Some(known) = take_kept(self.db, kept, provider, account)?
        {
            return Ok(known);
        }
        known_assets(self.db, provider, account)
    }

    fn owners(&mut self, ids: &[&str]) -> Result<Vec<(String, String)>, StoreError> {
        let mut owners = Vec::new();
        for_each_row_in(
            self.db,
            ids,
            |marks| format!("SELECT id, account FROM assets WHERE id IN ({marks})"),
            &mut |r| {
                owners.push((r.text(0)?, r.text(1)?));
                Ok(())
            },
        )?;
        Ok(owners)
    }

    fn write_assets(&mut self, writes: &[AssetWrite<'_>]) -> Result<(), StoreError> {
        const INSERT_ASSET: &str = "INSERT INTO assets (id, provider, account, region, resource_type, name, tags, content_hash, version, first_seen, last_seen, evaluated) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?9, ?9, ?10)";
        const TOUCH_ASSET: &str = "UPDATE assets SET last_seen = ?1, evaluated = ?2 WHERE id = ?3";
        const UPDATE_ASSET: &str = "UPDATE assets SET name = ?1, tags = ?2, content_hash = ?3, version = ?4, last_seen = ?5, evaluated = ?6 WHERE id = ?7";
        const RECREATE_ASSET: &str = "UPDATE assets SET name = ?1, tags = ?2, content_hash = ?3, version = ?4, last_seen = ?5, deleted_at = NULL, evaluated = ?6 WHERE id = ?7";
        const INSERT_VERSION: &str = "INSERT INTO asset_versions (asset_id, version, content_hash, observed_at, document) VALUES (?1, ?2, ?3, ?4, ?5)";
        let db = self.db;
        db.execute_all(
            INSERT_ASSET,
            &mut writes.iter().filter_map(|write| match *write {
                AssetWrite::Insert {
                    asset,
                    hash,
                    evaluated,
                    ..
                } => Some(arg_row![
                    asset.id.as_str(),
                    asset.provider.as_str(),
                    asset.account.as_str(),
                    asset.region.as_str(),
                    asset.resource_type.as_str(),
                    asset.name.as_str(),
                    encode(&asset.tags),
                    hash,
                    ms(asset.observed_at),
                    evaluated
                ]),
                _ => None,
            }),
        )?;
        db.execute_all(
            INSERT_VERSION,
            &mut writes.iter().filter_map(|write| match *write {
                AssetWrite::Insert {
                    asset,
                    hash,
                    document,
                    ..
                } => Some(arg_row![
                    asset.id.as_str(),
                    1,
                    hash,
                    ms(asset.observed_at),
                    document
                ]),
                AssetWrite::Update {
                    asset,
                    hash,
                    version,
                    document: Some(document),
                    ..
                } => Some(arg_row![
                    asset.id.as_str(),
                    version,
                    hash,
                    ms(asset.observed_at),
                    document
                ]),
                _ => None,
            }),
        )?;
        db.execute_all(
            TOUCH_ASSET,
            &mut writes.iter().filter_map(|write| match *write {
                AssetWrite::Touch { asset, evaluated } => Some(arg_row![
                    ms(asset.observed_at),
                    evaluated,
                    asset.id.as_str()
                ]),
                _ => None,
            }),
        )?;
        // An asset that was not deleted keeps its deletion time (NULL)
        // untouched, and with it the indexes that hold it.
        for (sql, recreating) in [(UPDATE_ASSET, false), (RECREATE_ASSET, true)] {
            db.execute_all(
                sql,
                &mut writes.iter().filter_map(|write| match *write {
                    AssetWrite::Update {
                        asset,
                        hash,
                        version,
                        evaluated,
                        recreated,
                        ..
                    } if recreated == recreating => Some(arg_row![
                        asset.name.as_str(),
                        encode(&asset.tags),
                        hash,
                        version,
                        ms(asset.observed_at),
                        evaluated,
                        asset.id.as_str()
                    ]),
                    _ => None,
                }),
            )?;
        }
        Ok(())
    }

    fn mark_deleted(&mut self, asset_id: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.execute(
            &format!(
                "UPDATE assets SET deleted_at = ?1, last_seen = {} WHERE id = ?2",
                super::last_seen_of("assets")
            ),
            args![ms(at), asset_id],
        )
    }

    fn mark_places_seen(&mut self, places: &[PlaceSeen<'_>]) -> Result<(), StoreError> {
        self.db.execute_all(
            "INSERT INTO place_seen (provider, account, region, resource_type, seen_at) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (provider, account, region, resource_type) DO UPDATE SET seen_at = \
             CASE WHEN excluded.seen_at > place_seen.seen_at THEN excluded.seen_at ELSE place_seen.seen_at END",
            &mut places.iter().map(|p| {
                arg_row![
                    p.provider.as_str(),
                    p.account,
                    p.region,
                    p.resource_type,
                    ms(p.at)
                ]
            }),
        )?;
        Ok(())
    }

    fn asset_label(
        &mut self,
        asset_id: &str,
    ) -> Result<(String, BTreeMap<String, String>), StoreError> {
        first(
            self.db,
            "SELECT name, tags FROM assets WHERE id = ?1",
            args![asset_id],
            |r| Ok((r.text(0)?, json(r, 1, "asset tags")?)),
        )?
        .ok_or_else(|| StoreError::NotFound(format!("no asset {asset_id}")))
    }

    fn stored_results(
        &mut self,
        asset_ids: &[&str],
    ) -> Result<Vec<(String, String, StoredResult)>, StoreError> {
        let mut stored = Vec::new();
        for_each_row_in(
            self.db,
            asset_ids,
            |marks| {
                format!(
                    "SELECT rule_id, asset_id, status, first_seen, resolved_at, muted_by, account, region, \
                     resource_type, severity, result, message, evidence FROM findings WHERE asset_id IN ({marks})"
                )
            },
            &mut |r| {
                let previous = match r.opt_text(2)? {
                    Some(status) => Some(PreviousFinding {
                        status: super::named(r.database(), &status, "finding status")?,
                        first_seen: r.opt_time(3)?,
                        resolved_at: r.opt_time(4)?,
                        muted_by: r.opt_int(5)?,
                    }),
                    None => None,
                };
                stored.push((
                    r.text(0)?,
                    r.text(1)?,
                    StoredResult {
                        previous,
                        place: (r.text(6)?, r.text(7)?, r.text(8)?),
                        severity: severity_from(r.int(9)?),
                        result: name_of(r, 10, "result")?,
                        message: r.text(11)?,
                        evidence: r.text(12)?,
                    },
                ));
                Ok(())
            },
        )?;
        Ok(stored)
    }

    fn open_findings(&mut self, asset_id: &str) -> Result<Vec<OpenFinding>, StoreError> {
        rows(
            self.db,
            "SELECT rule_id, message, muted_by FROM findings WHERE asset_id = ?1 AND status IN ('open', 'reopened')",
            args![asset_id],
            |r| {
                Ok(OpenFinding {
                    rule_id: r.text(0)?,
                    message: r.text(1)?,
                    muted_by: r.opt_int(2)?,
                })
            },
        )
    }

    fn resolve_finding(
        &mut self,
        rule_id: &str,
        asset_id: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.execute(
            "UPDATE findings SET status = 'resolved', resolved_at = ?1 WHERE rule_id = ?2 AND asset_id = ?3",
            args![ms(at), rule_id, asset_id],
        )
    }

    fn remove_results(&mut self, pairs: &[(&str, &str)]) -> Result<(), StoreError> {
        self.db.execute_all(
            "DELETE FROM findings WHERE rule_id = ?1 AND asset_id = ?2",
            &mut pairs.iter().map(|(rule, asset)| arg_row![*rule, *asset]),
        )?;
        Ok(())
    }

    fn write_findings(&mut self, rows: &[FindingRow<'_>]) -> Result<(), StoreError> {
        const UPSERT: &str = "INSERT INTO findings (rule_id, asset_id, account, region, resource_type, severity, status, first_seen, last_seen, resolved_at, result, message, evidence, muted_by) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) \
             ON CONFLICT (rule_id, asset_id) DO UPDATE SET account = excluded.account, region = excluded.region, \
             resource_type = excluded.resource_type, severity = excluded.severity, status = excluded.status, \
             first_seen = excluded.first_seen, last_seen = excluded.last_seen, resolved_at = excluded.resolved_at, \
             result = excluded.result, message = excluded.message, evidence = excluded.evidence, muted_by = excluded.muted_by";
        self.db.execute_all(
            UPSERT,
            &mut rows.iter().map(|row| {
                arg_row![
                    row.rule_id,
                    row.asset.id.as_str(),
                    row.asset.account.as_str(),
                    row.asset.region.as_str(),
                    row.asset.resource_type.as_str(),
                    severity_number(row.severity),
                    row.status.map(FindingStatus::as_str),
                    row.first_seen.map(ms),
                    ms(row.last_seen),
                    row.resolved_at.map(ms),
                    row.result.as_str(),
                    row.message,
                    encode(row.evidence),
                    row.muted_by
                ]
            }),
        )?;
        Ok(())
    }

    fn append_events(&mut self, events: &[NewEvent<'_>]) -> Result<Vec<i64>, StoreError> {
        self.db.insert_all(
            "INSERT INTO events (at, kind, asset_id, account, rule_id, scan_id, detail) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
            &mut events.iter().map(|event| {
                arg_row![
                    ms(event.at),
                    event.kind.as_str(),
                    event.asset_id,
                    event.account,
                    event.rule_id,
                    event.scan_id,
                    event.detail.to_string()
                ]
            }),
        )
    }

    fn mutes(&mut self, include_lifted: bool) -> Result<Vec<Mute>, StoreError> {
        read_mutes(self.db, include_lifted)
    }

    fn insert_mute(
        &mut self,
        selector: &MuteSelector,
        reason: &str,
        author: &str,
        created_at: DateTime<Utc>,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<i64, StoreError> {
        self.insert(
            "INSERT INTO mutes (selector, reason, author, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
            args![
                encode(selector),
                reason,
                author,
                ms(created_at),
                expires_at.map(ms)
            ],
        )
    }

    fn end_mute(&mut self, id: i64, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.execute(
            "UPDATE mutes SET lifted_at = ?1 WHERE id = ?2",
            args![ms(at), id],
        )
    }

    fn mute_candidates(
        &mut self,
        muted_by: Option<i64>,
        selector: Option<&MuteSelector>,
    ) -> Result<Vec<MuteCandidate>, StoreError> {
        mute_candidates(self.db, muted_by, selector)
    }

    fn set_muted_by(
        &mut self,
        rule_id: &str,
        asset_id: &str,
        mute: Option<i64>,
    ) -> Result<(), StoreError> {
        self.execute(
            "UPDATE findings SET muted_by = ?1 WHERE rule_id = ?2 AND asset_id = ?3",
            args![mute, rule_id, asset_id],
        )
    }

    fn incident_of(
        &mut self,
        rule_id: &str,
        asset_id: &str,
    ) -> Result<Option<IncidentInfo>, StoreError> {
        first(
            self.db,
            "SELECT i.id, i.title, i.status FROM incident_findings f JOIN incidents i ON i.id = f.incident_id \
             WHERE f.rule_id = ?1 AND f.asset_id = ?2",
            args![rule_id, asset_id],
            |r| {
                Ok(IncidentInfo {
                    id: r.int(0)?,
                    title: r.text(1)?,
                    status: name_of(r, 2, "incident status")?,
                    by: None,
                })
            },
        )
    }

    fn open_findings_in(&mut self, incident: i64) -> Result<i64, StoreError> {
        Ok(first(
            self.db,
            "SELECT count(*) FROM incident_findings i JOIN findings f ON f.rule_id = i.rule_id AND f.asset_id = i.asset_id \
             WHERE i.incident_id = ?1 AND f.status IN ('open', 'reopened')",
            args![incident],
            |r| r.int(0),
        )?
        .unwrap_or(0))
    }

    fn unresolved_incident(&mut self, group_key: &str) -> Result<Option<i64>, StoreError> {
        first(
            self.db,
            "SELECT id FROM incidents WHERE group_key = ?1 AND status <> 'resolved' ORDER BY id DESC LIMIT 1",
            args![group_key],
            |r| r.int(0),
        )
    }

    fn open_incident(
        &mut self,
        group_key: &str,
        title: &str,
        severity: Severity,
        at: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        self.insert(
            "INSERT INTO incidents (group_key, title, severity, status, opened_at) VALUES (?1, ?2, ?3, 'open', ?4) RETURNING id",
            args![group_key, title, severity_number(severity), ms(at)],
        )
    }

    fn set_incident_status(
        &mut self,
        id: i64,
        status: IncidentStatus,
        owner: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        match status {
            IncidentStatus::Open => self.execute(
                "UPDATE incidents SET status = 'open', resolved_at = NULL, acknowledged_at = NULL, opened_at = ?1 WHERE id = ?2",
                args![ms(at), id],
            ),
            IncidentStatus::Acknowledged => self.execute(
                "UPDATE incidents SET status = 'acknowledged', owner = ?1, acknowledged_at = ?2 WHERE id = ?3",
                args![owner, ms(at), id],
            ),
            IncidentStatus::Resolved => self.execute(
                "UPDATE incidents SET status = 'resolved', resolved_at = ?1 WHERE id = ?2",
                args![ms(at), id],
            ),
        }
    }

    fn join_incident(
        &mut self,
        rule_id: &str,
        asset_id: &str,
        incident: i64,
        severity: Severity,
    ) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO incident_findings (rule_id, asset_id, incident_id) VALUES (?1, ?2, ?3) \
             ON CONFLICT (rule_id, asset_id) DO UPDATE SET incident_id = excluded.incident_id",
            args![rule_id, asset_id, incident],
        )?;
        self.execute(
            "UPDATE incidents SET severity = CASE WHEN severity < ?1 THEN severity ELSE ?1 END WHERE id = ?2",
            args![severity_number(severity), incident],
        )
    }

    fn incident_event(
        &mut self,
        incident: i64,
        at: DateTime<Utc>,
        kind: &str,
        detail: serde_json::Value,
    ) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO incident_events (incident_id, at, kind, detail) VALUES (?1, ?2, ?3, ?4)",
            args![incident, ms(at), kind, detail.to_string()],
        )
    }

    fn latest_finding_in(
        &mut self,
        incident: i64,
    ) -> Result<Option<(String, String, String)>, StoreError> {
        first(
            self.db,
            "SELECT f.rule_id, f.asset_id, f.account FROM incident_findings i \
             JOIN findings f ON f.rule_id = i.rule_id AND f.asset_id = i.asset_id \
             WHERE i.incident_id = ?1 ORDER BY f.last_seen DESC, f.rule_id, f.asset_id LIMIT 1",
            args![incident],
            |r| Ok((r.text(0)?, r.text(1)?, r.text(2)?)),
        )
    }

    fn incident_messages(
        &mut self,
        incident: i64,
    ) -> Result<Vec<(String, FindingChange)>, StoreError> {
        rows(
            self.db,
            "SELECT channel, change FROM outbox WHERE incident_id = ?1 ORDER BY id DESC",
            args![incident],
            |r| Ok((r.text(0)?, json(r, 1, "outbox change")?)),
        )
    }

    fn enqueue(
        &mut self,
        event_id: i64,
        channel: &str,
        idempotency_key: &str,
        change: &FindingChange,
    ) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO outbox (event_id, channel, idempotency_key, change, status, next_attempt_at, created_at, incident_id) \
             VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?5, ?6)",
            args![
                event_id,
                channel,
                idempotency_key,
                encode(change),
                ms(change.at),
                change.incident.as_ref().map(|i| i.id)
            ],
        )
    }
}
