//! The SQLite backend: one file, WAL mode so that readers never wait for a
//! scan, migrations embedded and applied on open, and every scan written as
//! one transaction.
//!
//! # Layout
//!
//! - this module: opening, migrations, scans, and the helpers the others
//!   share.
//! - `ledger`: the lifecycle's reads and writes in one transaction.
//! - `history`: assets as they are and were, and the timeline.
//! - `findings`: findings, results and mutes.
//! - `incidents`: incidents and the outbox.
//! - `inventory`: the inventory's listings, facets and the overview.
//! - `tokens`: API tokens.
//! - `checkpoint`: WAL checkpoints on a thread of their own.

mod checkpoint;
mod findings;
mod history;
mod incidents;
mod inventory;
mod ledger;
mod tokens;

use crate::error::StoreError;
use crate::lifecycle::{self, Policy};
use crate::query::ScanOutput;
use crate::roles::{RuleFacts, Scans};
use checkpoint::Checkpointer;
use chrono::{DateTime, TimeZone, Utc};
use ledger::SqliteLedger;
use parapet_core::{
    Asset, CollectionError, Evaluation, Provenance, ScanCounts, ScanRun, ScanStatus, Scope,
    Severity,
};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, params};
use serde::Serialize;
use serde::de::DeserializeOwned;
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
    include_str!("migrations/0009_scan_provenance.sql"),
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
    policy: Policy,
}

/// Attaches the database path to SQLite errors.
trait AtPath<T> {
    fn at(self, path: &Path) -> Result<T, StoreError>;
}

impl<T> AtPath<T> for rusqlite::Result<T> {
    fn at(self, path: &Path) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::Backend {
            database: path.display().to_string(),
            source: Box::new(source),
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

/// Creates the database file at `path` (and its folder) for its owner only,
/// unless it exists.
fn create_private(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)
            .map_err(|source| StoreError::Folder {
                path: parent.to_owned(),
                source,
            })?;
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(StoreError::Folder {
            path: path.to_owned(),
            source,
        }),
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, and brings its
    /// schema up to date. A database written by a newer Parapet is refused.
    /// A new database is readable by its owner only (0600, and so are its
    /// write-ahead log and shared memory, which SQLite creates with the
    /// database's mode), in a new folder only its owner may enter (0700):
    /// it holds the inventory of every account and the tokens' hashes.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        create_private(path)?;
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
            policy: Policy::default(),
        };
        store.migrate()?;
        Ok(store)
    }

    /// Opens the database at `path` with a recording policy: the routes of
    /// finding changes to notification channels, and the grouping of
    /// findings into incidents.
    pub fn open_with(path: &Path, policy: Policy) -> Result<SqliteStore, StoreError> {
        let mut store = SqliteStore::open(path)?;
        store.policy = policy;
        Ok(store)
    }

    fn committed(&self) {
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.after_commit();
        }
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

    /// Runs `work` on the lifecycle's ledger in one transaction, committed
    /// when it succeeds.
    fn in_ledger<T>(
        &mut self,
        work: impl FnOnce(&mut SqliteLedger<'_>, &Policy) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let tx = self.conn.transaction().at(&self.path)?;
        let mut ledger = SqliteLedger::new(tx, &self.path);
        let out = work(&mut ledger, &self.policy)?;
        ledger.commit()?;
        self.committed();
        Ok(out)
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

const SCAN_COLUMNS: &str =
    "id, scope, source, started_at, finished_at, status, counts, errors, provenance";

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
    let provenance: Option<String> = row.get(8)?;
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
            provenance: provenance
                .map(|p| decode(path, &p, "scan provenance"))
                .transpose()?,
        })
    })())
}

impl Scans for SqliteStore {
    fn begin_scan(
        &mut self,
        scope: &Scope,
        source: &str,
        provenance: &Provenance,
        started_at: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        self.conn
            .execute(
                "INSERT INTO scans (scope, source, started_at, status, counts, errors, provenance) VALUES (?1, ?2, ?3, ?4, ?5, '[]', ?6)",
                params![
                    encode(scope),
                    source,
                    ms(started_at),
                    ScanStatus::Running.as_str(),
                    encode(&ScanCounts::default()),
                    encode(provenance)
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
        rules: &dyn RuleFacts,
        errors: &[CollectionError],
        finished_at: DateTime<Utc>,
    ) -> Result<ScanOutput, StoreError> {
        let input = lifecycle::scan::ScanInput {
            scan_id,
            assets,
            evaluations,
            rules,
            errors,
            finished_at,
        };
        self.in_ledger(|ledger, policy| lifecycle::scan::record(ledger, policy, &input))
    }

    fn scans_page(&self, before: Option<i64>, limit: usize) -> Result<Vec<ScanRun>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {SCAN_COLUMNS} FROM scans WHERE id < ?1 ORDER BY id DESC LIMIT ?2"
            ))
            .at(&self.path)?;
        let rows = stmt
            .query_map(params![before.unwrap_or(i64::MAX), limit as i64], |row| {
                read_scan(&self.path, row)
            })
            .at(&self.path)?
            .collect::<Result<Vec<_>, _>>()
            .at(&self.path)?;
        rows.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_are_ordered_numbers() {
        for s in Severity::ALL {
            assert_eq!(severity_from(severity_number(s)), s);
        }
        assert!(severity_number(Severity::Critical) < severity_number(Severity::Low));
    }
}
