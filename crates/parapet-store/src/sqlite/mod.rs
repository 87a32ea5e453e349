//! The SQLite backend: one file, WAL mode so that readers never wait for a
//! scan, migrations embedded and applied on open, and every scan written as
//! one transaction.

use crate::Store;
use crate::error::StoreError;
use crate::query::{
    ApiToken, AssetQuery, AssetSummary, AssetVersion, EventQuery, Facets, FindingChange,
    FindingQuery, Grouping, Incident, IncidentEvent, IncidentInfo, IncidentPolicy, IncidentStatus,
    Notification, OutboxStatus, Overview, ResultCount, Router, ScanOutput, StoredEvent, TokenScope,
};
use checkpoint::Checkpointer;

mod checkpoint;
mod inventory;
mod tokens;
use chrono::{DateTime, TimeZone, Utc};
use parapet_core::diff::diff;
use parapet_core::{
    Asset, CollectionError, ContentHash, Evaluation, Event, EventKind, Finding, FindingStatus,
    Mute, MuteSelector, MuteTarget, ScanCounts, ScanRun, ScanStatus, Scope, Severity, Status,
};
use rayon::prelude::*;
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, Statement, Transaction, params, params_from_iter};
use rustc_hash::FxHashMap;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The migrations, in order; the schema version is how many have run.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_initial.sql"),
    include_str!("migrations/0002_versions_by_asset.sql"),
    include_str!("migrations/0003_outbox.sql"),
    include_str!("migrations/0004_incidents.sql"),
    include_str!("migrations/0005_channel_refs.sql"),
    include_str!("migrations/0006_vulnerability_scans.sql"),
    include_str!("migrations/0007_api_tokens.sql"),
    include_str!("migrations/0008_overview_counts.sql"),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// A store in one SQLite file.
pub struct SqliteStore {
    // Declared first so that it is dropped (its last checkpoint done)
    // before the writer's connection closes.
    checkpointer: Option<Checkpointer>,
    conn: Connection,
    path: PathBuf,
    router: Option<std::sync::Arc<dyn Router>>,
    incidents: Option<IncidentPolicy>,
}

/// Attaches the database path to SQLite errors.
trait AtPath<T> {
    fn at(self, path: &Path) -> Result<T, StoreError>;
}

impl<T> AtPath<T> for rusqlite::Result<T> {
    fn at(self, path: &Path) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::Sqlite {
            path: path.to_owned(),
            source,
        })
    }
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn time(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// A severity's rank as stored: 0 for critical up to 4 for informational,
/// so that report order (most severe first) is ascending.
fn severity_number(severity: Severity) -> i64 {
    match severity {
        Severity::Critical => 0,
        Severity::High => 1,
        Severity::Medium => 2,
        Severity::Low => 3,
        Severity::Informational => 4,
    }
}

fn severity_from(rank: i64) -> Severity {
    match rank {
        0 => Severity::Critical,
        1 => Severity::High,
        2 => Severity::Medium,
        3 => Severity::Low,
        _ => Severity::Informational,
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, and brings its
    /// schema up to date. A database written by a newer Parapet is refused.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        if let Some(parent) = path.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::Folder {
                path: parent.to_owned(),
                source,
            })?;
        }
        let conn = Connection::open(path).at(path)?;
        conn.busy_timeout(Duration::from_secs(10)).at(path)?;
        conn.pragma_update(None, "page_size", 16384).at(path)?;
        conn.pragma_update(None, "journal_mode", "WAL").at(path)?;
        // In WAL mode NORMAL loses no committed transaction when the process
        // dies (only, at worst, the last ones on power loss).
        conn.pragma_update(None, "synchronous", "NORMAL").at(path)?;
        // A scan of a large account writes far more than the default 2 MB
        // page cache holds.
        conn.pragma_update(None, "cache_size", -262144).at(path)?;
        conn.pragma_update(None, "temp_store", "MEMORY").at(path)?;
        let checkpointer = Checkpointer::start(path);
        if checkpointer.is_some() {
            conn.pragma_update(None, "wal_autocheckpoint", 0).at(path)?;
        }
        let mut store = SqliteStore {
            checkpointer,
            conn,
            path: path.to_owned(),
            router: None,
            incidents: None,
        };
        store.migrate()?;
        Ok(store)
    }

    fn committed(&self) {
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.after_commit();
        }
    }

    /// Routes the finding changes that scans record to notification
    /// channels, each written to the outbox with its change.
    pub fn set_router(&mut self, router: std::sync::Arc<dyn Router>) {
        self.router = Some(router);
    }

    /// Groups the findings that scans open into incidents by `policy`.
    pub fn set_incident_policy(&mut self, policy: IncidentPolicy) {
        self.incidents = Some(policy);
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .at(&self.path)
    }

    /// Copies the write-ahead log into the database file and empties it.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .at(&self.path)
    }

    /// Runs SQLite's integrity check; `ok` when the file is sound.
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        self.conn
            .query_row("PRAGMA integrity_check", [], |row| row.get(0))
            .at(&self.path)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let found = self.schema_version()?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                path: self.path.clone(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            let tx = self.conn.transaction().at(&self.path)?;
            tx.execute_batch(sql).at(&self.path)?;
            tx.pragma_update(None, "user_version", index as i64 + 1)
                .at(&self.path)?;
            tx.commit().at(&self.path)?;
            self.committed();
        }
        Ok(())
    }

    fn decode<T: DeserializeOwned>(&self, text: &str, what: &'static str) -> Result<T, StoreError> {
        decode(&self.path, text, what)
    }
}

fn decode<T: DeserializeOwned>(
    path: &Path,
    text: &str,
    what: &'static str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|source| StoreError::Corrupt {
        path: path.to_owned(),
        what,
        source,
    })
}

/// One of the model's enums from the name it is stored as.
fn named<T: DeserializeOwned>(
    path: &Path,
    name: &str,
    what: &'static str,
) -> Result<T, StoreError> {
    parapet_core::parse_name(name).ok_or_else(|| StoreError::UnknownName {
        path: path.to_owned(),
        what,
        name: name.to_owned(),
    })
}

fn encode<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

/// An event to append within a transaction.
struct NewEvent<'a> {
    at: DateTime<Utc>,
    kind: EventKind,
    asset_id: &'a str,
    account: &'a str,
    rule_id: Option<&'a str>,
    scan_id: Option<i64>,
    detail: serde_json::Value,
}

const INSERT_EVENT: &str = "INSERT INTO events (at, kind, asset_id, account, rule_id, scan_id, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

fn append_event(tx: &Transaction<'_>, path: &Path, event: NewEvent<'_>) -> Result<(), StoreError> {
    let mut stmt = tx.prepare_cached(INSERT_EVENT).at(path)?;
    write_event(&mut stmt, path, event)
}

/// The incident a finding belongs to, as it stands.
fn incident_of(
    tx: &Transaction<'_>,
    path: &Path,
    rule_id: &str,
    asset_id: &str,
) -> Result<Option<IncidentInfo>, StoreError> {
    let found: Option<(i64, String, String)> = tx
        .query_row(
            "SELECT i.id, i.title, i.status FROM incident_findings f JOIN incidents i ON i.id = f.incident_id \
             WHERE f.rule_id = ?1 AND f.asset_id = ?2",
            params![rule_id, asset_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .at(path)?;
    found
        .map(|(id, title, status)| {
            Ok(IncidentInfo {
                id,
                title,
                status: named(path, &status, "incident status")?,
                by: None,
            })
        })
        .transpose()
}

/// A finding's change of state, as incidents follow it.
struct Transition {
    kind: EventKind,
    rule_id: String,
    asset_id: String,
    account: String,
    severity: Severity,
    message: String,
}

fn incident_event(
    tx: &Transaction<'_>,
    path: &Path,
    incident: i64,
    at: DateTime<Utc>,
    kind: &str,
    detail: serde_json::Value,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO incident_events (incident_id, at, kind, detail) VALUES (?1, ?2, ?3, ?4)",
    )
    .and_then(|mut s| s.execute(params![incident, ms(at), kind, detail.to_string()]))
    .at(path)?;
    Ok(())
}

/// Follows one finding change in the incidents: an opened finding joins
/// its group's incident (opened if there is none, reopened if the finding's
/// own had resolved); a resolved one resolves its incident once none of
/// the incident's findings is open.
fn incident_step(
    tx: &Transaction<'_>,
    path: &Path,
    policy: IncidentPolicy,
    t: &Transition,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let finding = serde_json::json!({"rule_id": t.rule_id, "asset_id": t.asset_id});
    let previous: Option<(i64, String)> = tx
        .query_row(
            "SELECT i.id, i.status FROM incident_findings f JOIN incidents i ON i.id = f.incident_id \
             WHERE f.rule_id = ?1 AND f.asset_id = ?2",
            params![t.rule_id, t.asset_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .at(path)?;
    if t.kind == EventKind::FindingResolved {
        let Some((id, status)) = previous else {
            return Ok(());
        };
        if status == IncidentStatus::Resolved.as_str() {
            return Ok(());
        }
        let open: i64 = tx
            .query_row(
                "SELECT COUNT(*) FROM incident_findings i JOIN findings f ON f.rule_id = i.rule_id AND f.asset_id = i.asset_id \
                 WHERE i.incident_id = ?1 AND f.status IN ('open', 'reopened')",
                params![id],
                |r| r.get(0),
            )
            .at(path)?;
        if open == 0 {
            tx.execute(
                "UPDATE incidents SET status = 'resolved', resolved_at = ?1 WHERE id = ?2",
                params![ms(now), id],
            )
            .at(path)?;
            let detail = serde_json::json!({"why": "every finding resolved", "last": finding});
            incident_event(tx, path, id, now, "resolved", detail)?;
        }
        return Ok(());
    }
    if t.severity < policy.min_severity {
        return Ok(());
    }
    let id = match previous {
        Some((id, status)) if status == IncidentStatus::Resolved.as_str() => {
            tx.execute(
                "UPDATE incidents SET status = 'open', resolved_at = NULL, acknowledged_at = NULL, opened_at = ?1 WHERE id = ?2",
                params![ms(now), id],
            )
            .at(path)?;
            incident_event(tx, path, id, now, "reopened", finding.clone())?;
            id
        }
        Some((id, _)) => id,
        None => {
            let key = match policy.grouping {
                Grouping::RuleAndAccount => format!("rule:{}/account:{}", t.rule_id, t.account),
                Grouping::Asset => format!("asset:{}", t.asset_id),
            };
            let current: Option<i64> = tx
                .query_row(
                    "SELECT id FROM incidents WHERE group_key = ?1 AND status != 'resolved' ORDER BY id DESC LIMIT 1",
                    params![key],
                    |r| r.get(0),
                )
                .optional()
                .at(path)?;
            match current {
                Some(id) => id,
                None => {
                    let title = match policy.grouping {
                        Grouping::RuleAndAccount => format!("{} in {}", t.message, t.account),
                        Grouping::Asset => format!("Findings on {}", t.asset_id),
                    };
                    tx.execute(
                        "INSERT INTO incidents (group_key, title, severity, status, opened_at) VALUES (?1, ?2, ?3, 'open', ?4)",
                        params![key, title, severity_number(t.severity), ms(now)],
                    )
                    .at(path)?;
                    let id = tx.last_insert_rowid();
                    incident_event(
                        tx,
                        path,
                        id,
                        now,
                        "opened",
                        serde_json::json!({"group": key}),
                    )?;
                    id
                }
            }
        }
    };
    tx.execute(
        "INSERT INTO incident_findings (rule_id, asset_id, incident_id) VALUES (?1, ?2, ?3) \
         ON CONFLICT (rule_id, asset_id) DO UPDATE SET incident_id = ?3",
        params![t.rule_id, t.asset_id, id],
    )
    .at(path)?;
    tx.execute(
        "UPDATE incidents SET severity = MIN(severity, ?1) WHERE id = ?2",
        params![severity_number(t.severity), id],
    )
    .at(path)?;
    incident_event(tx, path, id, now, "finding_added", finding)?;
    Ok(())
}

const INSERT_OUTBOX: &str = "INSERT INTO outbox (event_id, channel, idempotency_key, change, status, next_attempt_at, created_at) VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?5)";

/// Writes the outbox entries of the change just recorded as event
/// `event_id`, one per channel the router names.
fn route(
    tx: &Transaction<'_>,
    path: &Path,
    router: &dyn Router,
    event_id: i64,
    change: &FindingChange,
) -> Result<(), StoreError> {
    enqueue(tx, path, event_id, router.channels(change), change)
}

/// Writes one outbox entry of `change` (recorded as event `event_id`) per
/// channel.
fn enqueue(
    tx: &Transaction<'_>,
    path: &Path,
    event_id: i64,
    channels: Vec<String>,
    change: &FindingChange,
) -> Result<(), StoreError> {
    if channels.is_empty() {
        return Ok(());
    }
    let text = encode(change);
    let mut stmt = tx.prepare_cached(INSERT_OUTBOX).at(path)?;
    for channel in channels {
        let key = format!("parapet-{event_id}-{channel}");
        stmt.execute(params![event_id, channel, key, text, ms(change.at)])
            .at(path)?;
    }
    Ok(())
}

/// Records that `by` acknowledged or resolved `incident` by hand (`kind`),
/// leaving it `status`: an event on the timeline of its most recently
/// evaluated finding and, when notifications are routed, one message to
/// each channel that carried the incident before (so that its PagerDuty
/// alert is acknowledged or resolved and its Jira issue commented on or
/// closed), with the finding of the last message it got.
fn incident_by_hand(
    tx: &Transaction<'_>,
    path: &Path,
    notify: bool,
    incident: &Incident,
    (kind, status): (EventKind, IncidentStatus),
    by: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let finding: Option<(String, String, String)> = tx
        .query_row(
            "SELECT f.rule_id, f.asset_id, f.account FROM incident_findings i \
             JOIN findings f ON f.rule_id = i.rule_id AND f.asset_id = i.asset_id \
             WHERE i.incident_id = ?1 ORDER BY f.last_seen DESC, f.rule_id, f.asset_id LIMIT 1",
            params![incident.id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .at(path)?;
    let Some((rule_id, asset_id, account)) = finding else {
        return Ok(());
    };
    append_event(
        tx,
        path,
        NewEvent {
            at: now,
            kind,
            asset_id: &asset_id,
            account: &account,
            rule_id: Some(&rule_id),
            scan_id: None,
            detail: serde_json::json!({"incident": incident.id, "title": incident.title, "by": by}),
        },
    )?;
    if !notify {
        return Ok(());
    }
    let event_id = tx.last_insert_rowid();
    let mut channels: Vec<String> = Vec::new();
    let mut last: Option<String> = None;
    {
        let mut stmt = tx
            .prepare(
                "SELECT channel, change FROM outbox WHERE json_extract(change, '$.incident.id') = ?1 ORDER BY id DESC",
            )
            .at(path)?;
        let rows = stmt
            .query_map(params![incident.id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .at(path)?;
        for row in rows {
            let (channel, change) = row.at(path)?;
            last.get_or_insert(change);
            if !channels.contains(&channel) {
                channels.push(channel);
            }
        }
    }
    let Some(last) = last else {
        return Ok(());
    };
    let mut change: FindingChange = decode(path, &last, "outbox change")?;
    change.kind = kind;
    change.at = now;
    change.incident = Some(IncidentInfo {
        id: incident.id,
        title: incident.title.clone(),
        status,
        by: Some(by.to_owned()),
    });
    channels.sort();
    enqueue(tx, path, event_id, channels, &change)
}

fn write_event(
    stmt: &mut Statement<'_>,
    path: &Path,
    event: NewEvent<'_>,
) -> Result<(), StoreError> {
    stmt.execute(params![
        ms(event.at),
        event.kind.as_str(),
        event.asset_id,
        event.account,
        event.rule_id,
        event.scan_id,
        event.detail.to_string()
    ])
    .at(path)?;
    Ok(())
}

fn read_mutes(
    conn: &Connection,
    path: &Path,
    include_lifted: bool,
) -> Result<Vec<Mute>, StoreError> {
    let sql = if include_lifted {
        "SELECT id, selector, reason, author, created_at, expires_at, lifted_at FROM mutes ORDER BY id"
    } else {
        "SELECT id, selector, reason, author, created_at, expires_at, lifted_at FROM mutes WHERE lifted_at IS NULL ORDER BY id"
    };
    let mut stmt = conn.prepare_cached(sql).at(path)?;
    let rows = stmt
        .query_map([], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, i64>(4)?,
                row.get::<_, Option<i64>>(5)?,
                row.get::<_, Option<i64>>(6)?,
            ))
        })
        .at(path)?
        .collect::<Result<Vec<_>, _>>()
        .at(path)?;
    rows.into_iter()
        .map(|(id, selector, reason, author, created, expires, lifted)| {
            Ok(Mute {
                id,
                selector: decode::<MuteSelector>(path, &selector, "mute selector")?,
                reason,
                author,
                created_at: time(created),
                expires_at: expires.map(time),
                lifted_at: lifted.map(time),
            })
        })
        .collect()
}

/// A finding with the facts mutes match on.
struct MuteCandidate {
    rule_id: String,
    asset_id: String,
    account: String,
    region: String,
    tags: BTreeMap<String, String>,
}

impl MuteCandidate {
    fn target(&self) -> MuteTarget<'_> {
        MuteTarget {
            rule_id: &self.rule_id,
            asset_id: &self.asset_id,
            account: &self.account,
            region: &self.region,
            tags: &self.tags,
        }
    }
}

/// Findings (pairs that have failed at least once) muted by `muted_by`
/// (`None`: not muted), with their assets' tags; narrowed in SQL by the
/// exact criteria of `selector`, where given, and matched in full by the
/// caller.
fn mute_candidates(
    tx: &Transaction<'_>,
    path: &Path,
    muted_by: Option<i64>,
    selector: Option<&MuteSelector>,
) -> Result<Vec<MuteCandidate>, StoreError> {
    let mut filter = Filter::new(
        "SELECT f.rule_id, f.asset_id, f.account, f.region, a.tags FROM findings f \
         JOIN assets a ON a.id = f.asset_id \
         WHERE f.status IS NOT NULL AND f.muted_by IS ?",
    );
    filter
        .args
        .push(muted_by.map_or(SqlValue::Null, SqlValue::Integer));
    if let Some(selector) = selector {
        filter.equal("f.rule_id", selector.rule_id.as_deref());
        filter.equal("f.account", selector.account.as_deref());
        filter.equal("f.region", selector.region.as_deref());
        filter.equal(
            "f.asset_id",
            selector
                .asset
                .as_deref()
                .filter(|a| !a.contains(['*', '?'])),
        );
    }
    let (sql, args) = (filter.sql, filter.args);
    let mut stmt = tx.prepare_cached(&sql).at(path)?;
    let rows = stmt
        .query_map(params_from_iter(args), |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, String>(4)?,
            ))
        })
        .at(path)?
        .collect::<Result<Vec<_>, _>>()
        .at(path)?;
    rows.into_iter()
        .map(|(rule_id, asset_id, account, region, tags)| {
            Ok(MuteCandidate {
                rule_id,
                asset_id,
                account,
                region,
                tags: decode(path, &tags, "asset tags")?,
            })
        })
        .collect()
}

fn set_muted_by(
    tx: &Transaction<'_>,
    path: &Path,
    c: &MuteCandidate,
    mute: Option<i64>,
) -> Result<(), StoreError> {
    tx.prepare_cached("UPDATE findings SET muted_by = ?1 WHERE rule_id = ?2 AND asset_id = ?3")
        .and_then(|mut stmt| stmt.execute(params![mute, c.rule_id, c.asset_id]))
        .at(path)?;
    Ok(())
}

/// Releases the findings `mute` covered: each goes to another active mute
/// that covers it, or is unmuted with an event.
fn release(
    tx: &Transaction<'_>,
    path: &Path,
    mute: &Mute,
    why: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let others: Vec<Mute> = read_mutes(tx, path, false)?
        .into_iter()
        .filter(|m| m.id != mute.id && m.is_active(now))
        .collect();
    for candidate in mute_candidates(tx, path, Some(mute.id), None)? {
        let target = candidate.target();
        match others.iter().find(|m| m.selector.matches(&target)) {
            Some(other) => set_muted_by(tx, path, &candidate, Some(other.id))?,
            None => {
                set_muted_by(tx, path, &candidate, None)?;
                append_event(
                    tx,
                    path,
                    NewEvent {
                        at: now,
                        kind: EventKind::FindingUnmuted,
                        asset_id: &candidate.asset_id,
                        account: &candidate.account,
                        rule_id: Some(&candidate.rule_id),
                        scan_id: None,
                        detail: serde_json::json!({"mute_id": mute.id, "why": why}),
                    },
                )?;
            }
        }
    }
    Ok(())
}

fn expire(tx: &Transaction<'_>, path: &Path, now: DateTime<Utc>) -> Result<Vec<Mute>, StoreError> {
    let expired: Vec<Mute> = read_mutes(tx, path, false)?
        .into_iter()
        .filter(|m| m.expires_at.is_some_and(|e| e <= now))
        .collect();
    let mut ended = Vec::new();
    for mut mute in expired {
        let at = mute.expires_at.unwrap_or(now);
        tx.execute(
            "UPDATE mutes SET lifted_at = ?1 WHERE id = ?2",
            params![ms(at), mute.id],
        )
        .at(path)?;
        mute.lifted_at = Some(at);
        release(tx, path, &mute, "expired", now)?;
        ended.push(mute);
    }
    Ok(ended)
}

/// A query's WHERE clause, built from the filters a caller gave; values are
/// always bound, never spliced into the SQL.
struct Filter {
    sql: String,
    args: Vec<SqlValue>,
}

impl Filter {
    fn new(select: &str) -> Filter {
        Filter {
            sql: select.to_owned(),
            args: Vec::new(),
        }
    }

    /// `AND column = value`, when a value is given.
    fn equal(&mut self, column: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.sql.push_str(&format!(" AND {column} = ?"));
            self.args.push(SqlValue::Text(value.to_owned()));
        }
    }

    /// `AND column IN (values)`, when there are values.
    fn any_of<'a>(&mut self, column: &str, values: impl Iterator<Item = &'a str>) {
        self.any_of_values(
            column,
            values.map(|v| SqlValue::Text(v.to_owned())).collect(),
        );
    }

    /// `AND column IN (values)`, when there are values.
    fn any_of_values(&mut self, column: &str, values: Vec<SqlValue>) {
        if values.is_empty() {
            return;
        }
        let marks = vec!["?"; values.len()].join(", ");
        self.sql.push_str(&format!(" AND {column} IN ({marks})"));
        self.args.extend(values);
    }

    /// A condition with one bound value, when the value is given.
    fn condition(&mut self, sql: &str, value: Option<SqlValue>) {
        if let Some(value) = value {
            self.sql.push_str(sql);
            self.args.push(value);
        }
    }
}

/// What the store knows of an asset when a scan starts.
struct Known {
    content_hash: String,
    version: i64,
    deleted_at: Option<i64>,
    account: String,
    region: String,
    resource_type: String,
}

/// The previous state of a finding.
struct PreviousFinding {
    status: Option<FindingStatus>,
    first_seen: Option<i64>,
    resolved_at: Option<i64>,
    muted_by: Option<i64>,
}

fn read_scan(
    path: &Path,
    row: &rusqlite::Row<'_>,
) -> rusqlite::Result<Result<ScanRun, StoreError>> {
    let id: i64 = row.get(0)?;
    let scope: String = row.get(1)?;
    let source: String = row.get(2)?;
    let started: i64 = row.get(3)?;
    let finished: Option<i64> = row.get(4)?;
    let status: String = row.get(5)?;
    let counts: String = row.get(6)?;
    let errors: String = row.get(7)?;
    Ok((|| {
        Ok(ScanRun {
            id,
            scope: decode(path, &scope, "scan scope")?,
            source,
            started_at: time(started),
            finished_at: finished.map(time),
            status: named(path, &status, "scan status")?,
            counts: decode(path, &counts, "scan counts")?,
            errors: decode(path, &errors, "scan errors")?,
        })
    })())
}

impl Store for SqliteStore {
    fn begin_scan(
        &mut self,
        scope: &Scope,
        source: &str,
        started_at: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        self.conn
            .execute(
                "INSERT INTO scans (scope, source, started_at, status, counts, errors) VALUES (?1, ?2, ?3, ?4, ?5, '[]')",
                params![
                    encode(scope),
                    source,
                    ms(started_at),
                    ScanStatus::Running.as_str(),
                    encode(&ScanCounts::default())
                ],
            )
            .at(&self.path)?;
        Ok(self.conn.last_insert_rowid())
    }

    fn finish_scan(
        &mut self,
        scan_id: i64,
        assets: &[Asset],
        evaluations: &[Evaluation],
        severity: &dyn Fn(&str) -> Severity,
        errors: &[CollectionError],
        finished_at: DateTime<Utc>,
    ) -> Result<ScanOutput, StoreError> {
        let path = self.path.clone();
        let path = path.as_path();
        let router = self.router.clone();
        let router = router.as_deref();
        let incident_policy = self.incidents;
        // Finding changes, for incidents once every finding is written, and
        // for the outbox once incidents are.
        let mut transitions: Vec<Transition> = Vec::new();
        let mut routed: Vec<(i64, FindingChange)> = Vec::new();
        // One serialisation serves the hash and the stored version; done on
        // every core before the transaction.
        let contents: Vec<(String, String)> = assets
            .par_iter()
            .map(|asset| {
                let text = asset.content_text();
                let hash = ContentHash::of(text.as_bytes()).to_string();
                (text, hash)
            })
            .collect();
        let tx = self.conn.transaction().at(path)?;
        let scan = tx
            .query_row(
                "SELECT id, scope, source, started_at, finished_at, status, counts, errors FROM scans WHERE id = ?1",
                params![scan_id],
                |row| read_scan(path, row),
            )
            .optional()
            .at(path)?
            .ok_or_else(|| StoreError::NotFound(format!("no scan {scan_id}")))??;
        if scan.status != ScanStatus::Running {
            return Err(StoreError::Invalid(format!(
                "scan {scan_id} has already finished"
            )));
        }
        let now = finished_at;
        expire(&tx, path, now)?;
        let mutes: Vec<Mute> = read_mutes(&tx, path, false)?
            .into_iter()
            .filter(|m| m.is_active(now))
            .collect();
        let mut counts = ScanCounts::default();
        let event_count_before: i64 = tx
            .query_row("SELECT COALESCE(MAX(id), 0) FROM events", [], |r| r.get(0))
            .at(path)?;

        // What the store knows of the scope's accounts, read in one pass
        // rather than asset by asset.
        let mut known: FxHashMap<String, Known> = FxHashMap::default();
        for account in &scan.scope.accounts {
            let mut stmt = tx
                .prepare_cached(
                    "SELECT id, content_hash, version, deleted_at, region, resource_type FROM assets WHERE provider = ?1 AND account = ?2",
                )
                .at(path)?;
            let rows = stmt
                .query_map(params![scan.scope.provider.as_str(), account], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        Known {
                            content_hash: r.get(1)?,
                            version: r.get(2)?,
                            deleted_at: r.get(3)?,
                            account: account.clone(),
                            region: r.get(4)?,
                            resource_type: r.get(5)?,
                        },
                    ))
                })
                .at(path)?;
            for row in rows {
                let (id, k) = row.at(path)?;
                known.insert(id, k);
            }
        }

        // Assets: new, changed, recreated, or only seen again. The
        // statements are prepared once for the whole loop.
        let mut insert_asset = tx
            .prepare(
                "INSERT INTO assets (id, provider, account, region, resource_type, name, tags, content_hash, version, first_seen, last_seen) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?9, ?9)",
            )
            .at(path)?;
        let mut touch_asset = tx
            .prepare("UPDATE assets SET last_seen = ?1 WHERE id = ?2")
            .at(path)?;
        let mut update_asset = tx
            .prepare(
                "UPDATE assets SET name = ?1, tags = ?2, content_hash = ?3, version = ?4, last_seen = ?5, deleted_at = NULL WHERE id = ?6",
            )
            .at(path)?;
        let mut insert_version = tx
            .prepare(
                "INSERT OR REPLACE INTO asset_versions (asset_id, version, content_hash, observed_at, document) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .at(path)?;
        let mut insert_event = tx.prepare(INSERT_EVENT).at(path)?;
        let mut by_id: FxHashMap<&str, &Asset> = FxHashMap::default();
        by_id.reserve(assets.len());
        for (asset, (text, hash)) in assets.iter().zip(&contents) {
            if !scan.scope.contains(asset) {
                return Err(StoreError::Invalid(format!(
                    "asset {} ({} {} {}) is outside the scan's scope",
                    asset.id, asset.account, asset.region, asset.resource_type
                )));
            }
            by_id.insert(&asset.id, asset);
            counts.assets += 1;
            let current = known
                .get(asset.id.as_str())
                .map(|k| (k.content_hash.as_str(), k.version, k.deleted_at));
            let observed = ms(asset.observed_at);
            let event = |kind: EventKind, detail: serde_json::Value| NewEvent {
                at: asset.observed_at,
                kind,
                asset_id: &asset.id,
                account: &asset.account,
                rule_id: None,
                scan_id: Some(scan_id),
                detail,
            };
            match current {
                None => {
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
                        .execute(params![asset.id, 1, hash, observed, text])
                        .at(path)?;
                    write_event(
                        &mut insert_event,
                        path,
                        event(EventKind::AssetCreated, serde_json::json!({"version": 1})),
                    )?;
                    counts.created += 1;
                }
                Some((old_hash, _, None)) if old_hash == hash => {
                    touch_asset.execute(params![observed, asset.id]).at(path)?;
                }
                Some((old_hash, version, deleted_at)) => {
                    let changed = old_hash != hash;
                    let new_version = if changed { version + 1 } else { version };
                    let mut detail = serde_json::json!({"version": new_version});
                    if changed {
                        // The changed paths are computed from the two versions
                        // when the event is read, which keeps scans fast.
                        detail["previous_version"] = version.into();
                        insert_version
                            .execute(params![asset.id, new_version, hash, observed, text])
                            .at(path)?;
                    }
                    update_asset
                        .execute(params![
                            asset.name,
                            encode(&asset.tags),
                            hash,
                            new_version,
                            observed,
                            asset.id
                        ])
                        .at(path)?;
                    if deleted_at.is_some() {
                        detail["recreated"] = serde_json::Value::Bool(true);
                        write_event(
                            &mut insert_event,
                            path,
                            event(EventKind::AssetCreated, detail),
                        )?;
                        counts.created += 1;
                    } else {
                        write_event(
                            &mut insert_event,
                            path,
                            event(EventKind::AssetChanged, detail),
                        )?;
                        counts.changed += 1;
                    }
                }
            }
        }
        drop((
            insert_asset,
            touch_asset,
            update_asset,
            insert_version,
            insert_event,
        ));

        // Deletions: assets of the scope this complete collection did not see,
        // except where a collection error covers them.
        let mut unseen: Vec<(String, &Known)> = known
            .iter()
            .filter(|(id, k)| {
                k.deleted_at.is_none()
                    && !by_id.contains_key(id.as_str())
                    && scan.scope.contains_parts(
                        scan.scope.provider,
                        &k.account,
                        &k.region,
                        &k.resource_type,
                        id,
                    )
                    && !errors
                        .iter()
                        .any(|e| e.covers(&k.account, &k.region, &k.resource_type))
            })
            .map(|(id, k)| (id.clone(), k))
            .collect();
        unseen.sort_by(|a, b| a.0.cmp(&b.0));
        for (id, k) in &unseen {
            let account = &k.account;
            tx.execute(
                "UPDATE assets SET deleted_at = ?1 WHERE id = ?2",
                params![ms(now), id],
            )
            .at(path)?;
            append_event(
                &tx,
                path,
                NewEvent {
                    at: now,
                    kind: EventKind::AssetDeleted,
                    asset_id: id,
                    account,
                    rule_id: None,
                    scan_id: Some(scan_id),
                    detail: serde_json::json!({}),
                },
            )?;
            counts.deleted += 1;
            let open: Vec<(String, String, Option<i64>)> = tx
                .prepare_cached("SELECT rule_id, message, muted_by FROM findings WHERE asset_id = ?1 AND status IN ('open', 'reopened')")
                .and_then(|mut s| {
                    s.query_map(params![id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                        .collect::<Result<Vec<_>, _>>()
                })
                .at(path)?;
            for (rule_id, message, muted_by) in open {
                tx.execute(
                    "UPDATE findings SET status = 'resolved', resolved_at = ?1 WHERE rule_id = ?2 AND asset_id = ?3",
                    params![ms(now), rule_id, id],
                )
                .at(path)?;
                append_event(
                    &tx,
                    path,
                    NewEvent {
                        at: now,
                        kind: EventKind::FindingResolved,
                        asset_id: id,
                        account,
                        rule_id: Some(&rule_id),
                        scan_id: Some(scan_id),
                        detail: serde_json::json!({"why": "asset deleted"}),
                    },
                )?;
                counts.resolved += 1;
                if muted_by.is_none() {
                    transitions.push(Transition {
                        kind: EventKind::FindingResolved,
                        rule_id: rule_id.clone(),
                        asset_id: id.clone(),
                        account: account.clone(),
                        severity: severity(&rule_id),
                        message: message.clone(),
                    });
                    let event_id = tx.last_insert_rowid();
                    let (name, tags): (String, String) = tx
                        .query_row(
                            "SELECT name, tags FROM assets WHERE id = ?1",
                            params![id],
                            |r| Ok((r.get(0)?, r.get(1)?)),
                        )
                        .at(path)?;
                    let tags = decode(path, &tags, "asset tags")?;
                    routed.push((
                        event_id,
                        FindingChange {
                            kind: EventKind::FindingResolved,
                            at: now,
                            rule_id: rule_id.clone(),
                            severity: severity(&rule_id),
                            message,
                            asset_id: id.clone(),
                            asset_name: name,
                            account: account.clone(),
                            region: k.region.clone(),
                            resource_type: k.resource_type.clone(),
                            tags,
                            incident: None,
                        },
                    ));
                }
            }
        }

        // Findings that have ever failed in the scope's accounts, read in
        // one pass: only they have a lifecycle to continue.
        let mut failed_before: FxHashMap<String, FxHashMap<String, PreviousFinding>> =
            FxHashMap::default();
        for account in &scan.scope.accounts {
            let mut stmt = tx
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
            for row in rows {
                let (rule_id, asset_id, status, first_seen, resolved_at, muted_by) =
                    row.at(path)?;
                let status: FindingStatus = named(path, &status, "finding status")?;
                failed_before.entry(asset_id).or_default().insert(
                    rule_id,
                    PreviousFinding {
                        status: Some(status),
                        first_seen,
                        resolved_at,
                        muted_by,
                    },
                );
            }
        }

        // Evaluations and the findings lifecycle.
        let mut upsert_finding = tx
            .prepare(
                "INSERT INTO findings (rule_id, asset_id, account, region, resource_type, severity, status, first_seen, last_seen, resolved_at, result, message, evidence, muted_by) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) \
                 ON CONFLICT (rule_id, asset_id) DO UPDATE SET account = ?3, region = ?4, resource_type = ?5, severity = ?6, status = ?7, \
                 first_seen = ?8, last_seen = ?9, resolved_at = ?10, result = ?11, message = ?12, evidence = ?13, muted_by = ?14",
            )
            .at(path)?;
        let mut insert_event = tx.prepare(INSERT_EVENT).at(path)?;
        for evaluation in evaluations {
            let asset = by_id.get(&*evaluation.asset_id).ok_or_else(|| {
                StoreError::Invalid(format!(
                    "evaluation of rule {} names asset {}, which is not in the scan",
                    evaluation.rule_id, evaluation.asset_id
                ))
            })?;
            counts.evaluations += 1;
            // A pair absent from the preload has never failed: nothing of
            // its lifecycle is set.
            let previous = failed_before
                .get(&*evaluation.asset_id)
                .and_then(|rules| rules.get(&*evaluation.rule_id));
            let prev_status = previous.as_ref().and_then(|p| p.status);
            let mut first_seen = previous.as_ref().and_then(|p| p.first_seen);
            let mut resolved_at = previous.as_ref().and_then(|p| p.resolved_at);
            let mut muted_by = previous.as_ref().and_then(|p| p.muted_by);
            let transition = match (prev_status, evaluation.status) {
                (None, Status::Fail) => Some((FindingStatus::Open, EventKind::FindingOpened)),
                (Some(FindingStatus::Open | FindingStatus::Reopened), Status::Pass) => {
                    Some((FindingStatus::Resolved, EventKind::FindingResolved))
                }
                (Some(FindingStatus::Resolved), Status::Fail) => {
                    Some((FindingStatus::Reopened, EventKind::FindingReopened))
                }
                _ => None,
            };
            let status = transition.map(|(s, _)| s).or(prev_status);
            let rule_severity = severity(&evaluation.rule_id);
            if let Some((new_status, kind)) = transition {
                match new_status {
                    FindingStatus::Open => {
                        first_seen = Some(ms(now));
                        counts.opened += 1;
                    }
                    FindingStatus::Reopened => {
                        resolved_at = None;
                        counts.reopened += 1;
                    }
                    FindingStatus::Resolved => {
                        resolved_at = Some(ms(now));
                        counts.resolved += 1;
                    }
                }
                if muted_by.is_none() {
                    let target = MuteTarget {
                        rule_id: &evaluation.rule_id,
                        asset_id: &asset.id,
                        account: &asset.account,
                        region: &asset.region,
                        tags: &asset.tags,
                    };
                    muted_by = mutes
                        .iter()
                        .find(|m| m.selector.matches(&target))
                        .map(|m| m.id);
                }
                let mut detail =
                    serde_json::json!({"severity": rule_severity, "message": &*evaluation.message});
                if let Some(mute) = muted_by {
                    detail["muted_by"] = mute.into();
                }
                write_event(
                    &mut insert_event,
                    path,
                    NewEvent {
                        at: now,
                        kind,
                        asset_id: &asset.id,
                        account: &asset.account,
                        rule_id: Some(&evaluation.rule_id),
                        scan_id: Some(scan_id),
                        detail,
                    },
                )?;
                if muted_by.is_none() {
                    transitions.push(Transition {
                        kind,
                        rule_id: evaluation.rule_id.to_string(),
                        asset_id: asset.id.clone(),
                        account: asset.account.clone(),
                        severity: rule_severity,
                        message: evaluation.message.to_string(),
                    });
                    if router.is_some() {
                        routed.push((
                            tx.last_insert_rowid(),
                            FindingChange {
                                kind,
                                at: now,
                                rule_id: evaluation.rule_id.to_string(),
                                severity: rule_severity,
                                message: evaluation.message.to_string(),
                                asset_id: asset.id.clone(),
                                asset_name: asset.name.clone(),
                                account: asset.account.clone(),
                                region: asset.region.clone(),
                                resource_type: asset.resource_type.as_str().to_owned(),
                                tags: asset.tags.clone(),
                                incident: None,
                            },
                        ));
                    }
                }
            }
            upsert_finding
                .execute(params![
                    &*evaluation.rule_id,
                    &*evaluation.asset_id,
                    asset.account,
                    asset.region,
                    asset.resource_type.as_str(),
                    severity_number(rule_severity),
                    status.map(FindingStatus::as_str),
                    first_seen,
                    ms(now),
                    resolved_at,
                    evaluation.status.as_str(),
                    &*evaluation.message,
                    encode(&evaluation.evidence),
                    muted_by
                ])
                .at(path)?;
        }
        drop((upsert_finding, insert_event));
        if let Some(policy) = incident_policy {
            for transition in &transitions {
                incident_step(&tx, path, policy, transition, now)?;
            }
        }
        if let Some(router) = router {
            for (event_id, mut change) in routed {
                if incident_policy.is_some() {
                    change.incident = incident_of(&tx, path, &change.rule_id, &change.asset_id)?;
                }
                route(&tx, path, router, event_id, &change)?;
            }
        }

        let event_count_after: i64 = tx
            .query_row("SELECT COALESCE(MAX(id), 0) FROM events", [], |r| r.get(0))
            .at(path)?;
        let events = (event_count_after - event_count_before).max(0) as u64;
        let status = if errors.is_empty() {
            ScanStatus::Complete
        } else {
            ScanStatus::Partial
        };
        tx.execute(
            "UPDATE scans SET finished_at = ?1, status = ?2, counts = ?3, errors = ?4 WHERE id = ?5",
            params![ms(now), status.as_str(), encode(&counts), encode(&errors), scan_id],
        )
        .at(path)?;
        tx.commit().at(path)?;
        self.committed();
        Ok(ScanOutput {
            scan: ScanRun {
                finished_at: Some(now),
                status,
                counts,
                errors: errors.to_vec(),
                ..scan
            },
            events,
        })
    }

    fn scans(&self, limit: usize) -> Result<Vec<ScanRun>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, scope, source, started_at, finished_at, status, counts, errors FROM scans ORDER BY id DESC LIMIT ?1",
            )
            .at(&self.path)?;
        let rows = stmt
            .query_map(params![limit as i64], |row| read_scan(&self.path, row))
            .at(&self.path)?
            .collect::<Result<Vec<_>, _>>()
            .at(&self.path)?;
        rows.into_iter().collect()
    }

    fn asset_history(&self, asset_id: &str) -> Result<Vec<AssetVersion>, StoreError> {
        let deleted_at: Option<i64> = self
            .conn
            .query_row(
                "SELECT deleted_at FROM assets WHERE id = ?1",
                params![asset_id],
                |r| r.get(0),
            )
            .optional()
            .at(&self.path)?
            .flatten();
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT version, content_hash, observed_at, document FROM asset_versions WHERE asset_id = ?1 ORDER BY version",
            )
            .at(&self.path)?;
        let rows = stmt
            .query_map(params![asset_id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .at(&self.path)?
            .collect::<Result<Vec<_>, _>>()
            .at(&self.path)?;
        let last = rows.len();
        rows.into_iter()
            .enumerate()
            .map(|(i, (version, hash, observed, document))| {
                let asset = read_version(&self.path, &document, observed)?;
                Ok(AssetVersion {
                    version,
                    content_hash: parse_hash(&hash).unwrap_or_else(|| asset.content_hash()),
                    observed_at: time(observed),
                    deleted_at: if i + 1 == last {
                        deleted_at.map(time)
                    } else {
                        None
                    },
                    asset,
                })
            })
            .collect()
    }

    fn asset_at(
        &self,
        asset_id: &str,
        at: Option<DateTime<Utc>>,
    ) -> Result<Option<AssetVersion>, StoreError> {
        let at_ms = at.map_or(i64::MAX, ms);
        let row: Option<(i64, String, i64, String)> = self
            .conn
            .query_row(
                "SELECT version, content_hash, observed_at, document FROM asset_versions \
                 WHERE asset_id = ?1 AND observed_at <= ?2 ORDER BY version DESC LIMIT 1",
                params![asset_id, at_ms],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()
            .at(&self.path)?;
        let Some((version, hash, observed, document)) = row else {
            return Ok(None);
        };
        let deleted_at: Option<i64> = self
            .conn
            .query_row(
                "SELECT deleted_at FROM assets WHERE id = ?1 AND version = ?2",
                params![asset_id, version],
                |r| r.get(0),
            )
            .optional()
            .at(&self.path)?
            .flatten()
            .filter(|d| *d <= at_ms);
        let asset = read_version(&self.path, &document, observed)?;
        Ok(Some(AssetVersion {
            version,
            content_hash: parse_hash(&hash).unwrap_or_else(|| asset.content_hash()),
            observed_at: time(observed),
            deleted_at: deleted_at.map(time),
            asset,
        }))
    }

    fn assets(&self, query: &AssetQuery) -> Result<Vec<AssetSummary>, StoreError> {
        inventory::assets(&self.conn, &self.path, query)
    }

    fn count_assets(&self, query: &AssetQuery) -> Result<i64, StoreError> {
        inventory::count_assets(&self.conn, &self.path, query)
    }

    fn facets(&self) -> Result<Facets, StoreError> {
        inventory::facets(&self.conn, &self.path)
    }

    fn overview(&self, now: DateTime<Utc>, days: u32) -> Result<Overview, StoreError> {
        inventory::overview(&self.conn, &self.path, now, days)
    }

    fn result_counts(&self) -> Result<Vec<ResultCount>, StoreError> {
        inventory::result_counts(&self.conn, &self.path)
    }

    fn create_token(
        &mut self,
        name: &str,
        scope: TokenScope,
        hash: &str,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<ApiToken, StoreError> {
        let token = tokens::create(&self.conn, &self.path, name, scope, hash, expires_at, now)?;
        self.committed();
        Ok(token)
    }

    fn tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        tokens::list(&self.conn, &self.path, None)
    }

    fn token_by_hash(&self, hash: &str) -> Result<Option<ApiToken>, StoreError> {
        Ok(tokens::list(&self.conn, &self.path, Some(hash))?.pop())
    }

    fn token_used(&mut self, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        tokens::used(&self.conn, &self.path, id, now)?;
        self.committed();
        Ok(())
    }

    fn revoke_token(&mut self, id: i64, now: DateTime<Utc>) -> Result<ApiToken, StoreError> {
        let token = tokens::revoke(&self.conn, &self.path, id, now)?;
        self.committed();
        Ok(token)
    }

    fn findings(&self, query: &FindingQuery) -> Result<Vec<Finding>, StoreError> {
        let mut filter = Filter::new(
            "SELECT rule_id, asset_id, account, region, resource_type, severity, status, first_seen, last_seen, resolved_at, result, message, evidence, muted_by \
             FROM findings WHERE status IS NOT NULL",
        );
        filter.any_of("status", query.statuses.iter().map(|s| s.as_str()));
        filter.condition(
            " AND severity <= ?",
            query
                .min_severity
                .map(|min| SqlValue::Integer(severity_number(min))),
        );
        filter.any_of_values(
            "severity",
            query
                .severities
                .iter()
                .map(|s| SqlValue::Integer(severity_number(*s)))
                .collect(),
        );
        filter.any_of("rule_id", query.rule_ids.iter().map(String::as_str));
        filter.equal("asset_id", query.asset_id.as_deref());
        filter.equal("account", query.account.as_deref());
        filter.equal("region", query.region.as_deref());
        filter.equal("resource_type", query.resource_type.as_deref());
        let (mut sql, mut args) = (filter.sql, filter.args);
        if !query.include_muted {
            sql.push_str(" AND muted_by IS NULL");
        }
        if let Some(after) = &query.after {
            sql.push_str(" AND (severity, rule_id, asset_id) > (?, ?, ?)");
            args.extend([
                SqlValue::Integer(severity_number(after.severity)),
                SqlValue::Text(after.rule_id.clone()),
                SqlValue::Text(after.asset_id.clone()),
            ]);
        }
        sql.push_str(" ORDER BY severity, rule_id, asset_id LIMIT ? OFFSET ?");
        args.push(SqlValue::Integer(query.limit as i64));
        args.push(SqlValue::Integer(query.offset as i64));
        self.query_findings(&sql, args)
    }

    fn results(&self, account: Option<&str>) -> Result<Vec<Finding>, StoreError> {
        let mut filter = Filter::new(
            "SELECT rule_id, asset_id, account, region, resource_type, severity, status, first_seen, last_seen, resolved_at, result, message, evidence, muted_by \
             FROM findings WHERE asset_id IN (SELECT id FROM assets WHERE deleted_at IS NULL)",
        );
        filter.equal("account", account);
        let (mut sql, args) = (filter.sql, filter.args);
        sql.push_str(" ORDER BY severity, rule_id, asset_id");
        self.query_findings(&sql, args)
    }

    fn current_assets(&self, account: Option<&str>) -> Result<Vec<Asset>, StoreError> {
        let mut filter = Filter::new(
            "SELECT v.document, v.observed_at FROM assets a \
             JOIN asset_versions v ON v.asset_id = a.id AND v.version = a.version \
             WHERE a.deleted_at IS NULL",
        );
        filter.equal("a.account", account);
        let mut stmt = self.conn.prepare(&filter.sql).at(&self.path)?;
        let rows: Vec<(String, i64)> = stmt
            .query_map(params_from_iter(filter.args), |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .at(&self.path)?
            .collect::<Result<_, _>>()
            .at(&self.path)?;
        rows.iter()
            .map(|(document, observed)| read_version(&self.path, document, *observed))
            .collect()
    }

    fn asset_names(
        &self,
        account: Option<&str>,
    ) -> Result<std::collections::HashMap<String, String>, StoreError> {
        let mut filter = Filter::new("SELECT id, name FROM assets WHERE deleted_at IS NULL");
        filter.equal("account", account);
        let mut stmt = self.conn.prepare(&filter.sql).at(&self.path)?;
        let rows = stmt
            .query_map(params_from_iter(filter.args), |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .at(&self.path)?
            .collect::<Result<_, _>>()
            .at(&self.path)?;
        Ok(rows)
    }

    fn finding(&self, rule_id: &str, asset_id: &str) -> Result<Option<Finding>, StoreError> {
        let sql = "SELECT rule_id, asset_id, account, region, resource_type, severity, status, first_seen, last_seen, resolved_at, result, message, evidence, muted_by \
                   FROM findings WHERE rule_id = ? AND asset_id = ?";
        Ok(self
            .query_findings(
                sql,
                vec![
                    SqlValue::Text(rule_id.to_owned()),
                    SqlValue::Text(asset_id.to_owned()),
                ],
            )?
            .into_iter()
            .next())
    }

    fn events(&self, query: &EventQuery) -> Result<Vec<StoredEvent>, StoreError> {
        let mut filter = Filter::new(
            "SELECT id, at, kind, asset_id, account, rule_id, scan_id, detail FROM events WHERE 1 = 1",
        );
        filter.equal("asset_id", query.asset_id.as_deref());
        filter.equal("account", query.account.as_deref());
        filter.equal("rule_id", query.rule_id.as_deref());
        filter.any_of("kind", query.kinds.iter().map(|k| k.as_str()));
        filter.condition(
            " AND at >= ?",
            query.since.map(|t| SqlValue::Integer(ms(t))),
        );
        filter.condition(" AND at < ?", query.until.map(|t| SqlValue::Integer(ms(t))));
        filter.condition(" AND id < ?", query.before_id.map(SqlValue::Integer));
        filter.condition(" AND id > ?", query.after_id.map(SqlValue::Integer));
        let (mut sql, mut args) = (filter.sql, filter.args);
        sql.push_str(if query.after_id.is_some() {
            " ORDER BY id LIMIT ?"
        } else {
            " ORDER BY id DESC LIMIT ?"
        });
        args.push(SqlValue::Integer(query.limit as i64));
        let mut stmt = self.conn.prepare_cached(&sql).at(&self.path)?;
        let rows = stmt
            .query_map(params_from_iter(args), |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<i64>>(6)?,
                    r.get::<_, String>(7)?,
                ))
            })
            .at(&self.path)?
            .collect::<Result<Vec<_>, _>>()
            .at(&self.path)?;
        rows.into_iter()
            .map(
                |(id, at, kind, asset_id, account, rule_id, scan_id, detail)| {
                    let kind: EventKind = named(&self.path, &kind, "event kind")?;
                    let mut detail: serde_json::Value = self.decode(&detail, "event detail")?;
                    if kind == EventKind::AssetChanged {
                        self.add_changes(&asset_id, &mut detail)?;
                    }
                    Ok(StoredEvent {
                        id,
                        scan_id,
                        event: Event {
                            at: time(at),
                            kind,
                            asset_id,
                            account,
                            rule_id,
                            detail,
                        },
                    })
                },
            )
            .collect()
    }

    fn add_mute(
        &mut self,
        selector: &MuteSelector,
        reason: &str,
        author: &str,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<(Mute, usize), StoreError> {
        if selector.is_empty() {
            return Err(StoreError::Invalid(
                "a mute needs at least one of: rule, asset, account, region, tag".to_owned(),
            ));
        }
        if reason.trim().is_empty() {
            return Err(StoreError::Invalid("a mute needs a reason".to_owned()));
        }
        if expires_at.is_some_and(|e| e <= now) {
            return Err(StoreError::Invalid("the expiry is in the past".to_owned()));
        }
        let path = self.path.clone();
        let path = path.as_path();
        let tx = self.conn.transaction().at(path)?;
        tx.execute(
            "INSERT INTO mutes (selector, reason, author, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![encode(selector), reason, author, ms(now), expires_at.map(ms)],
        )
        .at(path)?;
        let mute = Mute {
            id: tx.last_insert_rowid(),
            selector: selector.clone(),
            reason: reason.to_owned(),
            author: author.to_owned(),
            created_at: now,
            expires_at,
            lifted_at: None,
        };
        let mut muted = 0;
        for candidate in mute_candidates(&tx, path, None, Some(&mute.selector))? {
            if !mute.selector.matches(&candidate.target()) {
                continue;
            }
            muted += 1;
            set_muted_by(&tx, path, &candidate, Some(mute.id))?;
            append_event(
                &tx,
                path,
                NewEvent {
                    at: now,
                    kind: EventKind::FindingMuted,
                    asset_id: &candidate.asset_id,
                    account: &candidate.account,
                    rule_id: Some(&candidate.rule_id),
                    scan_id: None,
                    detail: serde_json::json!({"mute_id": mute.id, "reason": reason, "author": author, "expires_at": expires_at}),
                },
            )?;
        }
        tx.commit().at(path)?;
        self.committed();
        Ok((mute, muted))
    }

    fn lift_mute(&mut self, mute_id: i64, now: DateTime<Utc>) -> Result<Mute, StoreError> {
        let path = self.path.clone();
        let path = path.as_path();
        let tx = self.conn.transaction().at(path)?;
        let mut mute = read_mutes(&tx, path, true)?
            .into_iter()
            .find(|m| m.id == mute_id)
            .ok_or_else(|| StoreError::NotFound(format!("no mute {mute_id}")))?;
        if mute.lifted_at.is_some() {
            return Err(StoreError::Invalid(format!(
                "mute {mute_id} has already ended"
            )));
        }
        tx.execute(
            "UPDATE mutes SET lifted_at = ?1 WHERE id = ?2",
            params![ms(now), mute_id],
        )
        .at(path)?;
        mute.lifted_at = Some(now);
        release(&tx, path, &mute, "lifted", now)?;
        tx.commit().at(path)?;
        self.committed();
        Ok(mute)
    }

    fn expire_mutes(&mut self, now: DateTime<Utc>) -> Result<Vec<Mute>, StoreError> {
        let path = self.path.clone();
        let tx = self.conn.transaction().at(&path)?;
        let ended = expire(&tx, &path, now)?;
        tx.commit().at(&path)?;
        self.committed();
        Ok(ended)
    }

    fn mutes(&self, include_lifted: bool) -> Result<Vec<Mute>, StoreError> {
        read_mutes(&self.conn, &self.path, include_lifted)
    }

    fn due_notifications(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Notification>, StoreError> {
        self.read_outbox(
            "WHERE status = 'pending' AND next_attempt_at <= ?1 ORDER BY next_attempt_at, id LIMIT ?2",
            params![ms(now), limit as i64],
        )
    }

    fn notification_delivered(&mut self, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE outbox SET status = 'delivered', attempts = attempts + 1, delivered_at = ?1, last_error = NULL WHERE id = ?2",
                params![ms(now), id],
            )
            .at(&self.path)?;
        self.committed();
        Ok(())
    }

    fn notification_deferred(&mut self, id: i64, until: DateTime<Utc>) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE outbox SET next_attempt_at = ?1 WHERE id = ?2 AND status = 'pending'",
                params![ms(until), id],
            )
            .at(&self.path)?;
        self.committed();
        Ok(())
    }

    fn notification_failed(
        &mut self,
        id: i64,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let status = if retry_at.is_some() {
            OutboxStatus::Pending
        } else {
            OutboxStatus::Failed
        };
        self.conn
            .execute(
                "UPDATE outbox SET status = ?1, attempts = attempts + 1, last_error = ?2, next_attempt_at = COALESCE(?3, next_attempt_at) WHERE id = ?4",
                params![status.as_str(), error, retry_at.map(ms), id],
            )
            .at(&self.path)?;
        self.committed();
        Ok(())
    }

    fn incidents(
        &self,
        status: Option<IncidentStatus>,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<Incident>, StoreError> {
        self.read_incidents(
            "WHERE (?1 IS NULL OR status = ?1) AND id < ?2 ORDER BY id DESC LIMIT ?3",
            params![
                status.map(IncidentStatus::as_str),
                before.unwrap_or(i64::MAX),
                limit as i64
            ],
        )
    }

    fn incident(&self, id: i64) -> Result<Option<(Incident, Vec<IncidentEvent>)>, StoreError> {
        let Some(incident) = self.read_incidents("WHERE id = ?1", params![id])?.pop() else {
            return Ok(None);
        };
        let path = &self.path;
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT at, kind, detail FROM incident_events WHERE incident_id = ?1 ORDER BY id",
            )
            .at(path)?;
        let mut events = Vec::new();
        for row in stmt
            .query_map(params![id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .at(path)?
        {
            let (at, kind, detail) = row.at(path)?;
            events.push(IncidentEvent {
                at: time(at),
                kind,
                detail: decode(path, &detail, "incident event")?,
            });
        }
        Ok(Some((incident, events)))
    }

    fn acknowledge_incident(
        &mut self,
        id: i64,
        owner: &str,
        now: DateTime<Utc>,
    ) -> Result<Incident, StoreError> {
        let current = self.one_incident(id)?;
        if current.status == IncidentStatus::Resolved {
            return Err(StoreError::Invalid(format!("incident {id} is resolved")));
        }
        let path = self.path.clone();
        let tx = self.conn.transaction().at(&path)?;
        tx.execute(
            "UPDATE incidents SET status = 'acknowledged', owner = ?1, acknowledged_at = ?2 WHERE id = ?3",
            params![owner, ms(now), id],
        )
        .at(&path)?;
        incident_event(
            &tx,
            &path,
            id,
            now,
            "acknowledged",
            serde_json::json!({"owner": owner}),
        )?;
        incident_by_hand(
            &tx,
            &path,
            self.router.is_some(),
            &current,
            (
                EventKind::IncidentAcknowledged,
                IncidentStatus::Acknowledged,
            ),
            owner,
            now,
        )?;
        tx.commit().at(&path)?;
        self.committed();
        self.one_incident(id)
    }

    fn resolve_incident(
        &mut self,
        id: i64,
        who: &str,
        now: DateTime<Utc>,
    ) -> Result<Incident, StoreError> {
        let current = self.one_incident(id)?;
        if current.status == IncidentStatus::Resolved {
            return Ok(current);
        }
        let path = self.path.clone();
        let tx = self.conn.transaction().at(&path)?;
        tx.execute(
            "UPDATE incidents SET status = 'resolved', resolved_at = ?1 WHERE id = ?2",
            params![ms(now), id],
        )
        .at(&path)?;
        incident_event(
            &tx,
            &path,
            id,
            now,
            "resolved",
            serde_json::json!({"by": who}),
        )?;
        incident_by_hand(
            &tx,
            &path,
            self.router.is_some(),
            &current,
            (EventKind::IncidentResolved, IncidentStatus::Resolved),
            who,
            now,
        )?;
        tx.commit().at(&path)?;
        self.committed();
        self.one_incident(id)
    }

    fn channel_ref(&self, channel: &str, subject: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row(
                "SELECT reference FROM channel_refs WHERE channel = ?1 AND subject = ?2",
                params![channel, subject],
                |r| r.get(0),
            )
            .optional()
            .at(&self.path)
    }

    fn set_channel_ref(
        &mut self,
        channel: &str,
        subject: &str,
        reference: &str,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO channel_refs (channel, subject, reference) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (channel, subject) DO UPDATE SET reference = ?3",
                params![channel, subject, reference],
            )
            .at(&self.path)?;
        self.committed();
        Ok(())
    }

    fn attach_vulnerabilities(
        &mut self,
        asset_id: &str,
        scan: &parapet_core::VulnerabilityScan,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO vulnerability_scans (asset_id, scanned_at, scan) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (asset_id) DO UPDATE SET scanned_at = ?2, scan = ?3",
                params![asset_id, ms(scan.scanned_at), encode(scan)],
            )
            .at(&self.path)?;
        self.committed();
        Ok(())
    }

    fn vulnerability_scans(
        &self,
    ) -> Result<std::collections::HashMap<String, parapet_core::VulnerabilityScan>, StoreError>
    {
        let mut stmt = self
            .conn
            .prepare("SELECT asset_id, scan FROM vulnerability_scans")
            .at(&self.path)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .at(&self.path)?;
        let mut scans = std::collections::HashMap::new();
        for row in rows {
            let (asset_id, scan) = row.at(&self.path)?;
            scans.insert(asset_id, decode(&self.path, &scan, "vulnerability scan")?);
        }
        Ok(scans)
    }

    fn notifications(
        &self,
        status: Option<OutboxStatus>,
        limit: usize,
    ) -> Result<Vec<Notification>, StoreError> {
        match status {
            Some(status) => self.read_outbox(
                "WHERE status = ?1 ORDER BY id DESC LIMIT ?2",
                params![status.as_str(), limit as i64],
            ),
            None => self.read_outbox("ORDER BY id DESC LIMIT ?1", params![limit as i64]),
        }
    }
}

impl SqliteStore {
    /// Incidents, selected and ordered by `tail`, with their findings.
    fn read_incidents(
        &self,
        tail: &str,
        values: impl rusqlite::Params,
    ) -> Result<Vec<Incident>, StoreError> {
        let path = &self.path;
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT id, group_key, title, severity, status, owner, opened_at, acknowledged_at, resolved_at FROM incidents {tail}"
            ))
            .at(path)?;
        let rows = stmt
            .query_map(values, |r| {
                Ok((
                    (
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ),
                    (
                        r.get::<_, i64>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, Option<String>>(5)?,
                    ),
                    (
                        r.get::<_, i64>(6)?,
                        r.get::<_, Option<i64>>(7)?,
                        r.get::<_, Option<i64>>(8)?,
                    ),
                ))
            })
            .at(path)?;
        let mut out = Vec::new();
        for row in rows {
            let ((id, group_key, title), (severity, status, owner), (opened, acked, resolved)) =
                row.at(path)?;
            let mut findings_stmt = self
                .conn
                .prepare_cached(
                    "SELECT i.rule_id, i.asset_id, f.status FROM incident_findings i \
                     LEFT JOIN findings f ON f.rule_id = i.rule_id AND f.asset_id = i.asset_id \
                     WHERE i.incident_id = ?1 ORDER BY i.rule_id, i.asset_id",
                )
                .at(path)?;
            let mut findings = Vec::new();
            let mut open_findings = 0;
            for found in findings_stmt
                .query_map(params![id], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<String>>(2)?,
                    ))
                })
                .at(path)?
            {
                let (rule, asset, status) = found.at(path)?;
                if matches!(status.as_deref(), Some("open" | "reopened")) {
                    open_findings += 1;
                }
                findings.push((rule, asset));
            }
            out.push(Incident {
                id,
                group_key,
                title,
                severity: severity_from(severity),
                status: named(path, &status, "incident status")?,
                owner,
                opened_at: time(opened),
                acknowledged_at: acked.map(time),
                resolved_at: resolved.map(time),
                findings,
                open_findings,
            });
        }
        Ok(out)
    }

    fn one_incident(&self, id: i64) -> Result<Incident, StoreError> {
        self.read_incidents("WHERE id = ?1", params![id])?
            .pop()
            .ok_or_else(|| StoreError::NotFound(format!("no incident {id}")))
    }

    /// Outbox entries, selected and ordered by `tail`.
    fn read_outbox(
        &self,
        tail: &str,
        values: impl rusqlite::Params,
    ) -> Result<Vec<Notification>, StoreError> {
        let path = &self.path;
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT id, event_id, channel, idempotency_key, change, status, attempts, next_attempt_at, last_error, created_at, delivered_at FROM outbox {tail}"
            ))
            .at(path)?;
        let rows = stmt
            .query_map(values, |r| {
                Ok((
                    (
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, String>(2)?,
                    ),
                    (
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                    ),
                    (
                        r.get::<_, i64>(6)?,
                        r.get::<_, i64>(7)?,
                        r.get::<_, Option<String>>(8)?,
                    ),
                    (r.get::<_, i64>(9)?, r.get::<_, Option<i64>>(10)?),
                ))
            })
            .at(path)?;
        let mut out = Vec::new();
        for row in rows {
            let (
                (id, event_id, channel),
                (idempotency_key, change, status),
                (attempts, next, last_error),
                (created, delivered),
            ) = row.at(path)?;
            out.push(Notification {
                id,
                event_id,
                channel,
                idempotency_key,
                change: decode(path, &change, "outbox change")?,
                status: named(path, &status, "outbox status")?,
                attempts,
                next_attempt_at: time(next),
                last_error,
                created_at: time(created),
                delivered_at: delivered.map(time),
            });
        }
        Ok(out)
    }
}

/// An asset from a stored version: its content document and the time it
/// was observed.
fn read_version(path: &Path, document: &str, observed: i64) -> Result<Asset, StoreError> {
    let mut doc: serde_json::Value = decode(path, document, "asset version")?;
    if let Some(map) = doc.as_object_mut() {
        map.insert(
            "observed_at".to_owned(),
            serde_json::to_value(time(observed)).unwrap_or_default(),
        );
    }
    serde_json::from_value(doc).map_err(|source| StoreError::Corrupt {
        path: path.to_owned(),
        what: "asset version",
        source,
    })
}

fn parse_hash(text: &str) -> Option<ContentHash> {
    let bytes: Vec<u8> = (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()?;
    bytes.try_into().ok().map(ContentHash)
}

impl SqliteStore {
    /// Adds to an `asset_changed` event's detail the fields that changed
    /// between its `previous_version` and `version`, by JSON path.
    fn add_changes(
        &self,
        asset_id: &str,
        detail: &mut serde_json::Value,
    ) -> Result<(), StoreError> {
        let (Some(previous), Some(version)) = (
            detail
                .get("previous_version")
                .and_then(serde_json::Value::as_i64),
            detail.get("version").and_then(serde_json::Value::as_i64),
        ) else {
            return Ok(());
        };
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT document FROM asset_versions WHERE asset_id = ?1 AND version = ?2",
            )
            .at(&self.path)?;
        let mut document = |v: i64| -> Result<Option<serde_json::Value>, StoreError> {
            let text: Option<String> = stmt
                .query_row(params![asset_id, v], |r| r.get(0))
                .optional()
                .at(&self.path)?;
            text.map(|t| decode(&self.path, &t, "asset version"))
                .transpose()
        };
        if let (Some(old), Some(new)) = (document(previous)?, document(version)?) {
            let changes: Vec<serde_json::Value> = diff(&old, &new)
                .into_iter()
                .map(|c| serde_json::json!({"path": c.path, "kind": c.kind}))
                .collect();
            detail["changes"] = serde_json::Value::Array(changes);
        }
        Ok(())
    }

    fn query_findings(&self, sql: &str, args: Vec<SqlValue>) -> Result<Vec<Finding>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql).at(&self.path)?;
        let rows = stmt
            .query_map(params_from_iter(args), |r| {
                Ok((
                    (
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, i64>(5)?,
                        r.get::<_, Option<String>>(6)?,
                    ),
                    (
                        r.get::<_, Option<i64>>(7)?,
                        r.get::<_, i64>(8)?,
                        r.get::<_, Option<i64>>(9)?,
                        r.get::<_, String>(10)?,
                        r.get::<_, String>(11)?,
                        r.get::<_, String>(12)?,
                        r.get::<_, Option<i64>>(13)?,
                    ),
                ))
            })
            .at(&self.path)?
            .collect::<Result<Vec<_>, _>>()
            .at(&self.path)?;
        rows.into_iter()
            .map(
                |(
                    (rule_id, asset_id, account, region, resource_type, severity, status),
                    (first_seen, last_seen, resolved_at, result, message, evidence, muted_by),
                )| {
                    Ok(Finding {
                        rule_id,
                        asset_id,
                        account,
                        region,
                        resource_type,
                        severity: severity_from(severity),
                        status: status
                            .map(|s| named(&self.path, &s, "finding status"))
                            .transpose()?,
                        first_seen: first_seen.map(time),
                        last_seen: time(last_seen),
                        resolved_at: resolved_at.map(time),
                        result: named(&self.path, &result, "evaluation status")?,
                        message,
                        evidence: self.decode(&evidence, "evidence")?,
                        muted_by,
                    })
                },
            )
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_round_trip_through_text() {
        let hash = ContentHash([7; 32]);
        assert_eq!(parse_hash(&hash.to_string()), Some(hash));
        assert_eq!(parse_hash("zz"), None);
    }

    #[test]
    fn severities_are_ordered_numbers() {
        for s in Severity::ALL {
            assert_eq!(severity_from(severity_number(s)), s);
        }
        assert!(severity_number(Severity::Critical) < severity_number(Severity::Low));
    }
}
