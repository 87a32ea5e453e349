//! The lifecycle's reads and writes in one SQLite transaction. Statements
//! that run once per asset or finding are prepared once per batch.

use super::findings::{mute_candidates, read_mutes};
use super::{AtPath, SCAN_COLUMNS, decode, encode, ms, named, read_scan, severity_number, time};
use crate::error::StoreError;
use crate::lifecycle::{
    AssetWrite, FindingRow, KnownAsset, Ledger, MuteCandidate, NewEvent, OpenFinding,
    PreviousFinding,
};
use crate::query::{FindingChange, IncidentInfo, IncidentStatus};
use chrono::{DateTime, Utc};
use parapet_core::{FindingStatus, Mute, MuteSelector, Provider, ScanRun, Severity};
use rusqlite::{OptionalExtension, Transaction, params};
use std::collections::BTreeMap;
use std::path::Path;

/// One transaction of the store, as the lifecycle's ledger.
pub(super) struct SqliteLedger<'c> {
    tx: Transaction<'c>,
    path: &'c Path,
}

const INSERT_EVENT: &str = "INSERT INTO events (at, kind, asset_id, account, rule_id, scan_id, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

impl<'c> SqliteLedger<'c> {
    pub(super) fn new(tx: Transaction<'c>, path: &'c Path) -> SqliteLedger<'c> {
        SqliteLedger { tx, path }
    }

    /// Commits everything written.
    pub(super) fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().at(self.path)
    }

    fn execute(&self, sql: &str, values: impl rusqlite::Params) -> Result<usize, StoreError> {
        self.tx
            .prepare_cached(sql)
            .and_then(|mut s| s.execute(values))
            .at(self.path)
    }
}

impl Ledger for SqliteLedger<'_> {
    fn scan(&mut self, id: i64) -> Result<Option<ScanRun>, StoreError> {
        self.tx
            .query_row(
                &format!("SELECT {SCAN_COLUMNS} FROM scans WHERE id = ?1"),
                params![id],
                |row| read_scan(self.path, row),
            )
            .optional()
            .at(self.path)?
            .transpose()
    }

    fn close_scan(&mut self, scan: &ScanRun) -> Result<(), StoreError> {
        self.execute(
            "UPDATE scans SET finished_at = ?1, status = ?2, counts = ?3, errors = ?4 WHERE id = ?5",
            params![
                scan.finished_at.map(ms),
                scan.status.as_str(),
                encode(&scan.counts),
                encode(&scan.errors),
                scan.id
            ],
        )?;
        Ok(())
    }

    fn known_assets(
        &mut self,
        provider: Provider,
        account: &str,
    ) -> Result<Vec<(String, KnownAsset)>, StoreError> {
        let mut stmt = self
            .tx
            .prepare_cached(
                "SELECT id, content_hash, version, deleted_at, region, resource_type FROM assets WHERE provider = ?1 AND account = ?2",
            )
            .at(self.path)?;
        let rows = stmt
            .query_map(params![provider.as_str(), account], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    KnownAsset {
                        content_hash: r.get(1)?,
                        version: r.get(2)?,
                        deleted_at: r.get::<_, Option<i64>>(3)?.map(time),
                        account: account.to_owned(),
                        region: r.get(4)?,
                        resource_type: r.get(5)?,
                    },
                ))
            })
            .at(self.path)?;
        rows.collect::<Result<_, _>>().at(self.path)
    }

    fn write_assets(&mut self, writes: &[AssetWrite<'_>]) -> Result<(), StoreError> {
        let path = self.path;
        let mut insert_asset = self
            .tx
            .prepare(
                "INSERT INTO assets (id, provider, account, region, resource_type, name, tags, content_hash, version, first_seen, last_seen) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?9, ?9)",
            )
            .at(path)?;
        let mut touch_asset = self
            .tx
            .prepare("UPDATE assets SET last_seen = ?1 WHERE id = ?2")
            .at(path)?;
        let mut update_asset = self
            .tx
            .prepare(
                "UPDATE assets SET name = ?1, tags = ?2, content_hash = ?3, version = ?4, last_seen = ?5, deleted_at = NULL WHERE id = ?6",
            )
            .at(path)?;
        let mut insert_version = self
            .tx
            .prepare(
                "INSERT OR REPLACE INTO asset_versions (asset_id, version, content_hash, observed_at, document) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .at(path)?;
        for write in writes {
            match *write {
                AssetWrite::Insert {
                    asset,
                    hash,
                    document,
                } => {
                    let observed = ms(asset.observed_at);
                    insert_asset
                        .execute(params![
                            asset.id,
                            asset.provider.as_str(),
                            asset.account,
                            asset.region,
                            asset.resource_type.as_str(),
                            asset.name,
                            encode(&asset.tags),
                            hash,
                            observed
                        ])
                        .at(path)?;
                    insert_version
                        .execute(params![asset.id, 1, hash, observed, document])
                        .at(path)?;
                }
                AssetWrite::Touch { asset } => {
                    touch_asset
                        .execute(params![ms(asset.observed_at), asset.id])
                        .at(path)?;
                }
                AssetWrite::Update {
                    asset,
                    hash,
                    version,
                    document,
                } => {
                    let observed = ms(asset.observed_at);
                    if let Some(document) = document {
                        insert_version
                            .execute(params![asset.id, version, hash, observed, document])
                            .at(path)?;
                    }
                    update_asset
                        .execute(params![
                            asset.name,
                            encode(&asset.tags),
                            hash,
                            version,
                            observed,
                            asset.id
                        ])
                        .at(path)?;
                }
            }
        }
        Ok(())
    }

    fn mark_deleted(&mut self, asset_id: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.execute(
            "UPDATE assets SET deleted_at = ?1 WHERE id = ?2",
            params![ms(at), asset_id],
        )?;
        Ok(())
    }

    fn asset_label(
        &mut self,
        asset_id: &str,
    ) -> Result<(String, BTreeMap<String, String>), StoreError> {
        let (name, tags): (String, String) = self
            .tx
            .query_row(
                "SELECT name, tags FROM assets WHERE id = ?1",
                params![asset_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .at(self.path)?;
        Ok((name, decode(self.path, &tags, "asset tags")?))
    }

    fn failed_findings(
        &mut self,
        account: &str,
    ) -> Result<Vec<(String, String, PreviousFinding)>, StoreError> {
        let path = self.path;
        let mut stmt = self
            .tx
            .prepare_cached(
                "SELECT rule_id, asset_id, status, first_seen, resolved_at, muted_by FROM findings \
                 WHERE account = ?1 AND status IS NOT NULL",
            )
            .at(path)?;
        let rows = stmt
            .query_map(params![account], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                    r.get::<_, Option<i64>>(5)?,
                ))
            })
            .at(path)?;
        let mut out = Vec::new();
        for row in rows {
            let (rule_id, asset_id, status, first_seen, resolved_at, muted_by) = row.at(path)?;
            let status: FindingStatus = named(path, &status, "finding status")?;
            out.push((
                rule_id,
                asset_id,
                PreviousFinding {
                    status,
                    first_seen: first_seen.map(time),
                    resolved_at: resolved_at.map(time),
                    muted_by,
                },
            ));
        }
        Ok(out)
    }

    fn open_findings(&mut self, asset_id: &str) -> Result<Vec<OpenFinding>, StoreError> {
        self.tx
            .prepare_cached(
                "SELECT rule_id, message, muted_by FROM findings WHERE asset_id = ?1 AND status IN ('open', 'reopened')",
            )
            .and_then(|mut s| {
                s.query_map(params![asset_id], |r| {
                    Ok(OpenFinding {
                        rule_id: r.get(0)?,
                        message: r.get(1)?,
                        muted_by: r.get(2)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()
            })
            .at(self.path)
    }

    fn resolve_finding(
        &mut self,
        rule_id: &str,
        asset_id: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.execute(
            "UPDATE findings SET status = 'resolved', resolved_at = ?1 WHERE rule_id = ?2 AND asset_id = ?3",
            params![ms(at), rule_id, asset_id],
        )?;
        Ok(())
    }

    fn write_findings(&mut self, rows: &[FindingRow<'_>]) -> Result<(), StoreError> {
        let mut upsert = self
            .tx
            .prepare(
                "INSERT INTO findings (rule_id, asset_id, account, region, resource_type, severity, status, first_seen, last_seen, resolved_at, result, message, evidence, muted_by) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) \
                 ON CONFLICT (rule_id, asset_id) DO UPDATE SET account = ?3, region = ?4, resource_type = ?5, severity = ?6, status = ?7, \
                 first_seen = ?8, last_seen = ?9, resolved_at = ?10, result = ?11, message = ?12, evidence = ?13, muted_by = ?14",
            )
            .at(self.path)?;
        for row in rows {
            upsert
                .execute(params![
                    row.rule_id,
                    row.asset.id,
                    row.asset.account,
                    row.asset.region,
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
                ])
                .at(self.path)?;
        }
        Ok(())
    }

    fn append_events(&mut self, events: &[NewEvent<'_>]) -> Result<Vec<i64>, StoreError> {
        let mut stmt = self.tx.prepare_cached(INSERT_EVENT).at(self.path)?;
        let mut ids = Vec::with_capacity(events.len());
        for event in events {
            stmt.execute(params![
                ms(event.at),
                event.kind.as_str(),
                event.asset_id,
                event.account,
                event.rule_id,
                event.scan_id,
                event.detail.to_string()
            ])
            .at(self.path)?;
            ids.push(self.tx.last_insert_rowid());
        }
        Ok(ids)
    }

    fn mutes(&mut self, include_lifted: bool) -> Result<Vec<Mute>, StoreError> {
        read_mutes(&self.tx, self.path, include_lifted)
    }

    fn insert_mute(
        &mut self,
        selector: &MuteSelector,
        reason: &str,
        author: &str,
        created_at: DateTime<Utc>,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<i64, StoreError> {
        self.execute(
            "INSERT INTO mutes (selector, reason, author, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![encode(selector), reason, author, ms(created_at), expires_at.map(ms)],
        )?;
        Ok(self.tx.last_insert_rowid())
    }

    fn end_mute(&mut self, id: i64, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.execute(
            "UPDATE mutes SET lifted_at = ?1 WHERE id = ?2",
            params![ms(at), id],
        )?;
        Ok(())
    }

    fn mute_candidates(
        &mut self,
        muted_by: Option<i64>,
        selector: Option<&MuteSelector>,
    ) -> Result<Vec<MuteCandidate>, StoreError> {
        mute_candidates(&self.tx, self.path, muted_by, selector)
    }

    fn set_muted_by(
        &mut self,
        rule_id: &str,
        asset_id: &str,
        mute: Option<i64>,
    ) -> Result<(), StoreError> {
        self.execute(
            "UPDATE findings SET muted_by = ?1 WHERE rule_id = ?2 AND asset_id = ?3",
            params![mute, rule_id, asset_id],
        )?;
        Ok(())
    }

    fn incident_of(
        &mut self,
        rule_id: &str,
        asset_id: &str,
    ) -> Result<Option<IncidentInfo>, StoreError> {
        let found: Option<(i64, String, String)> = self
            .tx
            .query_row(
                "SELECT i.id, i.title, i.status FROM incident_findings f JOIN incidents i ON i.id = f.incident_id \
                 WHERE f.rule_id = ?1 AND f.asset_id = ?2",
                params![rule_id, asset_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .at(self.path)?;
        found
            .map(|(id, title, status)| {
                Ok(IncidentInfo {
                    id,
                    title,
                    status: named(self.path, &status, "incident status")?,
                    by: None,
                })
            })
            .transpose()
    }

    fn open_findings_in(&mut self, incident: i64) -> Result<i64, StoreError> {
        self.tx
            .query_row(
                "SELECT COUNT(*) FROM incident_findings i JOIN findings f ON f.rule_id = i.rule_id AND f.asset_id = i.asset_id \
                 WHERE i.incident_id = ?1 AND f.status IN ('open', 'reopened')",
                params![incident],
                |r| r.get(0),
            )
            .at(self.path)
    }

    fn unresolved_incident(&mut self, group_key: &str) -> Result<Option<i64>, StoreError> {
        self.tx
            .query_row(
                "SELECT id FROM incidents WHERE group_key = ?1 AND status != 'resolved' ORDER BY id DESC LIMIT 1",
                params![group_key],
                |r| r.get(0),
            )
            .optional()
            .at(self.path)
    }

    fn open_incident(
        &mut self,
        group_key: &str,
        title: &str,
        severity: Severity,
        at: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        self.execute(
            "INSERT INTO incidents (group_key, title, severity, status, opened_at) VALUES (?1, ?2, ?3, 'open', ?4)",
            params![group_key, title, severity_number(severity), ms(at)],
        )?;
        Ok(self.tx.last_insert_rowid())
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
                params![ms(at), id],
            ),
            IncidentStatus::Acknowledged => self.execute(
                "UPDATE incidents SET status = 'acknowledged', owner = ?1, acknowledged_at = ?2 WHERE id = ?3",
                params![owner, ms(at), id],
            ),
            IncidentStatus::Resolved => self.execute(
                "UPDATE incidents SET status = 'resolved', resolved_at = ?1 WHERE id = ?2",
                params![ms(at), id],
            ),
        }?;
        Ok(())
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
             ON CONFLICT (rule_id, asset_id) DO UPDATE SET incident_id = ?3",
            params![rule_id, asset_id, incident],
        )?;
        self.execute(
            "UPDATE incidents SET severity = MIN(severity, ?1) WHERE id = ?2",
            params![severity_number(severity), incident],
        )?;
        Ok(())
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
            params![incident, ms(at), kind, detail.to_string()],
        )?;
        Ok(())
    }

    fn latest_finding_in(
        &mut self,
        incident: i64,
    ) -> Result<Option<(String, String, String)>, StoreError> {
        self.tx
            .query_row(
                "SELECT f.rule_id, f.asset_id, f.account FROM incident_findings i \
                 JOIN findings f ON f.rule_id = i.rule_id AND f.asset_id = i.asset_id \
                 WHERE i.incident_id = ?1 ORDER BY f.last_seen DESC, f.rule_id, f.asset_id LIMIT 1",
                params![incident],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .at(self.path)
    }

    fn incident_messages(
        &mut self,
        incident: i64,
    ) -> Result<Vec<(String, FindingChange)>, StoreError> {
        let rows: Vec<(String, String)> = self
            .tx
            .prepare(
                "SELECT channel, change FROM outbox WHERE json_extract(change, '$.incident.id') = ?1 ORDER BY id DESC",
            )
            .and_then(|mut s| {
                s.query_map(params![incident], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect()
            })
            .at(self.path)?;
        rows.into_iter()
            .map(|(channel, change)| Ok((channel, decode(self.path, &change, "outbox change")?)))
            .collect()
    }

    fn enqueue(
        &mut self,
        event_id: i64,
        channel: &str,
        idempotency_key: &str,
        change: &FindingChange,
    ) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO outbox (event_id, channel, idempotency_key, change, status, next_attempt_at, created_at) VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?5)",
            params![event_id, channel, idempotency_key, encode(change), ms(change.at)],
        )?;
        Ok(())
    }
}
