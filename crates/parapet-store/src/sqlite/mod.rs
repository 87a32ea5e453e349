//! The SQLite backend: one file, WAL mode so that readers never wait for a
//! scan, migrations embedded and applied on open, and every scan written as
//! one transaction. The statements are the store's own ([`crate::sql`]);
//! this module opens the file and runs them.
//!
//! # Layout
//!
//! - this module: opening, migrations, statements and rows.
//! - `checkpoint`: WAL checkpoints on a thread of their own.

mod checkpoint;
mod rows;

use crate::error::StoreError;
use crate::lifecycle::Policy;
use crate::sql::{Arg, Database, Dialect, Row, SqlStore};
use checkpoint::Checkpointer;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags};
use std::cell::OnceCell;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
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
    include_str!("migrations/0010_outbox_incident.sql"),
    include_str!("migrations/0011_jobs.sql"),
    include_str!("migrations/0012_web_sessions.sql"),
    include_str!("migrations/0013_folded_counts.sql"),
    include_str!("migrations/0014_monthly_partitions.sql"),
    include_str!("migrations/0015_resyncs.sql"),
    include_str!("migrations/0016_evaluation_stamps.sql"),
    include_str!("migrations/0017_place_seen.sql"),
    include_str!("migrations/0018_assets_known.sql"),
    include_str!("migrations/0019_findings_by_asset.sql"),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// One SQLite file, as the store's database.
pub struct Sqlite {
    // Declared first so that it is dropped (its last checkpoint done)
    // before the writer's connection closes.
    checkpointer: Option<Checkpointer>,
    conn: Connection,
    path: PathBuf,
    name: String,
    /// A read-only connection for other threads, opened when first asked
    /// for.
    reader: OnceCell<Arc<Mutex<Sqlite>>>,
}

/// A store in one SQLite file.
pub type SqliteStore = SqlStore<Sqlite>;

/// Executes one statement with its arguments.
type RunStatement<'r, 'a> =
    dyn FnMut(&mut rusqlite::CachedStatement<'_>, &[Arg<'a>]) -> Result<(), StoreError> + 'r;

impl Sqlite {
    /// Runs `sql` for each row of `each`: an `INSERT … VALUES (…)` as one
    /// statement per chunk of rows ([`rows`]), any other statement once
    /// per row. `run` executes each statement with its arguments.
    fn in_chunks<'a>(
        &self,
        sql: &str,
        each: &mut dyn Iterator<Item = Vec<Arg<'a>>>,
        run: &mut RunStatement<'_, 'a>,
    ) -> Result<(), StoreError> {
        let Some(values) = rows::Values::of(sql) else {
            let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.fail(e))?;
            for args in each {
                run(&mut stmt, &args)?;
            }
            return Ok(());
        };
        let all: Vec<Vec<Arg<'a>>> = each.collect();
        let mut left = all.len();
        let mut rows = all.into_iter();
        let mut args = Vec::new();
        while left > 0 {
            let n = rows::chunk(left, values.most_rows());
            let mut stmt = match n {
                1 => self.conn.prepare_cached(sql),
                _ => self.conn.prepare_cached(&values.repeated(n)),
            }
            .map_err(|e| self.fail(e))?;
            args.clear();
            for row in rows.by_ref().take(n) {
                if row.len() != values.parameters {
                    return Err(StoreError::Invalid(format!(
                        "{} arguments for a statement of {}: {sql}",
                        row.len(),
                        values.parameters
                    )));
                }
                args.extend(row);
            }
            run(&mut stmt, &args)?;
            left -= n;
        }
        Ok(())
    }

    fn fail(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Backend {
            database: self.name.clone(),
            source: Box::new(source),
        }
    }
}

impl rusqlite::ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Arg::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Arg::Int(value) => ToSqlOutput::Borrowed(ValueRef::Integer(*value)),
            Arg::Text(text) => ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes())),
        })
    }
}

/// A row of SQLite's, read by column.
struct SqliteRow<'r, 's> {
    row: &'r rusqlite::Row<'s>,
    db: &'r Sqlite,
}

impl Row for SqliteRow<'_, '_> {
    fn opt_int(&self, column: usize) -> Result<Option<i64>, StoreError> {
        self.row.get(column).map_err(|e| self.db.fail(e))
    }

    fn opt_text(&self, column: usize) -> Result<Option<String>, StoreError> {
        self.row.get(column).map_err(|e| self.db.fail(e))
    }

    fn database(&self) -> &str {
        &self.db.name
    }
}

impl Database for Sqlite {
    const DIALECT: Dialect = Dialect {
        has_tag: "EXISTS (SELECT 1 FROM json_each(assets.tags) t WHERE t.key = ? AND (? IS NULL OR t.value = ?))",
        position: "instr",
        skip_locked: "",
        drop_history: None,
    };

    fn name(&self) -> &str {
        &self.name
    }

    fn execute(&self, sql: &str, args: &[Arg<'_>]) -> Result<u64, StoreError> {
        self.conn
            .prepare_cached(sql)
            .and_then(|mut stmt| stmt.execute(rusqlite::params_from_iter(args)))
            .map(|n| n as u64)
            .map_err(|e| self.fail(e))
    }

    fn execute_all(
        &self,
        sql: &str,
        each: &mut dyn Iterator<Item = Vec<Arg<'_>>>,
    ) -> Result<u64, StoreError> {
        let mut changed = 0;
        self.in_chunks(sql, each, &mut |stmt, args| {
            changed += stmt
                .execute(rusqlite::params_from_iter(args))
                .map_err(|e| self.fail(e))? as u64;
            Ok(())
        })?;
        Ok(changed)
    }

    fn insert_all(
        &self,
        sql: &str,
        each: &mut dyn Iterator<Item = Vec<Arg<'_>>>,
    ) -> Result<Vec<i64>, StoreError> {
        let mut ids = Vec::new();
        self.in_chunks(sql, each, &mut |stmt, args| {
            let mut rows = stmt
                .query(rusqlite::params_from_iter(args))
                .map_err(|e| self.fail(e))?;
            let first = ids.len();
            while let Some(row) = rows.next().map_err(|e| self.fail(e))? {
                ids.push(row.get(0).map_err(|e| self.fail(e))?);
            }
            // A statement returns its rows in no set order; a rowid table
            // gives its new rows ids above the largest, row after row.
            ids[first..].sort_unstable();
            Ok(())
        })?;
        Ok(ids)
    }

    fn for_each_row(
        &self,
        sql: &str,
        args: &[Arg<'_>],
        each: &mut dyn FnMut(&dyn Row) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.fail(e))?;
        let mut rows = stmt
            .query(rusqlite::params_from_iter(args))
            .map_err(|e| self.fail(e))?;
        while let Some(row) = rows.next().map_err(|e| self.fail(e))? {
            each(&SqliteRow { row, db: self })?;
        }
        Ok(())
    }

    fn begin(&self) -> Result<(), StoreError> {
        // Every transaction writes: take the write lock first (waiting for
        // it), rather than failing at the first write after reading.
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| self.fail(e))
    }

    fn commit(&self) -> Result<(), StoreError> {
        self.conn.execute_batch("COMMIT").map_err(|e| self.fail(e))
    }

    fn rollback(&self) {
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }

    fn data_version(&self) -> Result<Option<i64>, StoreError> {
        self.conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))
            .map(Some)
            .map_err(|e| self.fail(e))
    }

    fn committed(&self) {
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.after_commit();
        }
    }

    fn reader(&self) -> Result<Option<Arc<Mutex<Sqlite>>>, StoreError> {
        if let Some(reader) = self.reader.get() {
            return Ok(Some(Arc::clone(reader)));
        }
        let reader = Arc::new(Mutex::new(self.open_reader()?));
        Ok(Some(Arc::clone(self.reader.get_or_init(|| reader))))
    }
}

impl Sqlite {
    /// A read-only connection to the same file. Its page cache is small
    /// and its own: it walks each account's assets once a scan, and the
    /// writer's cache keeps what the writer changes.
    fn open_reader(&self) -> Result<Sqlite, StoreError> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| self.fail(e))?;
        let reader = Sqlite {
            checkpointer: None,
            conn,
            path: self.path.clone(),
            name: self.name.clone(),
            reader: OnceCell::new(),
        };
        reader
            .conn
            .busy_timeout(Duration::from_secs(10))
            .map_err(|e| reader.fail(e))?;
        reader
            .conn
            .pragma_update(None, "cache_size", -16384)
            .map_err(|e| reader.fail(e))?;
        Ok(reader)
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

impl SqlStore<Sqlite> {
    /// Opens (creating if needed) the database at `path`, and brings its
    /// schema up to date. A database written by a newer Parapet is refused.
    /// A new database is readable by its owner only (0600, and so are its
    /// write-ahead log and shared memory, which SQLite creates with the
    /// database's mode), in a new folder only its owner may enter (0700):
    /// it holds the inventory of every account and the tokens' hashes.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        create_private(path)?;
        let name = path.display().to_string();
        let fail = |source| StoreError::Backend {
            database: name.clone(),
            source: Box::new(source),
        };
        let conn = Connection::open(path).map_err(fail)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(fail)?;
        conn.set_prepared_statement_cache_capacity(128);
        // Each statement of a scan copies every page it changes into its
        // statement journal (the overview's triggers make each insert a
        // multi-row write), and each commit writes every page it changed
        // into the log: with 4 KiB pages rather than 16 KiB the first
        // recorded scan of 100,000 assets took 20 s rather than 27.5 s
        // (reads of one page of results stay well under a millisecond). A
        // database keeps the page size it was created with.
        conn.pragma_update(None, "page_size", 4096).map_err(fail)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(fail)?;
        // In WAL mode NORMAL loses no committed transaction when the process
        // dies (only, at worst, the last ones on power loss).
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(fail)?;
        // A scan of a large account writes far more than the default 2 MB
        // page cache holds.
        conn.pragma_update(None, "cache_size", -262144)
            .map_err(fail)?;
        conn.pragma_update(None, "temp_store", "MEMORY")
            .map_err(fail)?;
        let checkpointer = Checkpointer::start(path);
        if checkpointer.is_some() {
            conn.pragma_update(None, "wal_autocheckpoint", 0)
                .map_err(fail)?;
        }
        let db = Sqlite {
            checkpointer,
            conn,
            path: path.to_owned(),
            name,
            reader: OnceCell::new(),
        };
        migrate(&db)?;
        Ok(SqlStore::new(db, Policy::default()))
    }

    /// Opens the database at `path` with a recording policy: the routes of
    /// finding changes to notification channels, and the grouping of
    /// findings into incidents.
    pub fn open_with(path: &Path, policy: Policy) -> Result<SqliteStore, StoreError> {
        let mut store = SqliteStore::open(path)?;
        store.set_policy(policy);
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.db.path
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        schema_version(&self.db)
    }

    /// Copies the write-ahead log into the database file and empties it,
    /// once the checkpoint that runs after each commit, if one runs, is
    /// done; an error when another connection kept it from emptying the
    /// log.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        let _alone = self.db.checkpointer.as_ref().map(Checkpointer::alone);
        let busy: i64 = self
            .db
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))
            .map_err(|e| self.db.fail(e))?;
        match busy {
            0 => Ok(()),
            _ => Err(StoreError::Backend {
                database: self.db.name.clone(),
                source: "the write-ahead log could not be emptied: another connection was reading or writing it".into(),
            }),
        }
    }

    /// Runs SQLite's integrity check; `ok` when the file is sound.
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        self.db
            .conn
            .query_row("PRAGMA integrity_check", [], |row| row.get(0))
            .map_err(|e| self.db.fail(e))
    }
}

fn schema_version(db: &Sqlite) -> Result<i64, StoreError> {
    db.conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(|e| db.fail(e))
}

/// Brings the schema up to date, one migration a transaction.
fn migrate(db: &Sqlite) -> Result<(), StoreError> {
    let found = schema_version(db)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            database: db.name.clone(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        db.begin()?;
        let applied = db
            .conn
            .execute_batch(sql)
            .and_then(|()| {
                db.conn
                    .pragma_update(None, "user_version", index as i64 + 1)
            })
            .map_err(|e| db.fail(e))
            .and_then(|()| db.commit());
        if let Err(e) = applied {
            db.rollback();
            return Err(e);
        }
        db.committed();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory() -> Sqlite {
        let conn = Connection::open_in_memory().expect("an in-memory database");
        conn.execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT UNIQUE NOT NULL, v INTEGER NOT NULL);
             CREATE TABLE seen (k TEXT NOT NULL);
             CREATE TRIGGER t_seen AFTER INSERT ON t BEGIN INSERT INTO seen (k) VALUES (NEW.k); END;",
        )
        .expect("a schema");
        Sqlite {
            checkpointer: None,
            conn,
            path: PathBuf::from(":memory:"),
            name: "memory".to_owned(),
            reader: OnceCell::new(),
        }
    }

    #[test]
    fn rows_written_in_chunks_return_their_ids_in_order_and_upsert_one_by_one() {
        let db = memory();
        db.begin().expect("a transaction");
        // 100 rows: chunks of 64, 32 and 4, each row's id read back by its key.
        let keys: Vec<String> = (0..100).map(|i| format!("k{i:03}")).collect();
        let ids = db
            .insert_all(
                "INSERT INTO t (k, v) VALUES (?1, ?2) RETURNING id",
                &mut keys
                    .iter()
                    .map(|k| vec![Arg::from(k.as_str()), Arg::Int(1)]),
            )
            .expect("inserted");
        assert_eq!(ids.len(), 100);
        for (id, key) in ids.iter().zip(&keys) {
            let stored: String = db
                .conn
                .query_row("SELECT k FROM t WHERE id = ?1", [id], |r| r.get(0))
                .expect("the row");
            assert_eq!(&stored, key);
        }
        // A key twice in one chunk: the second row updates the first.
        let changed = db
            .execute_all(
                "INSERT INTO t (k, v) VALUES (?1, ?2) ON CONFLICT (k) DO UPDATE SET v = t.v + excluded.v",
                &mut ["k000", "new", "k000", "k099"]
                    .into_iter()
                    .map(|k| vec![Arg::from(k), Arg::Int(10)]),
            )
            .expect("upserted");
        assert_eq!(changed, 4);
        db.commit().expect("committed");
        let v = |k: &str| -> i64 {
            db.conn
                .query_row("SELECT v FROM t WHERE k = ?1", [k], |r| r.get(0))
                .expect("a value")
        };
        assert_eq!((v("k000"), v("k099"), v("new"), v("k050")), (21, 11, 10, 1));
        let seen: i64 = db
            .conn
            .query_row("SELECT count(*) FROM seen", [], |r| r.get(0))
            .expect("a count");
        assert_eq!(seen, 101, "the trigger fires once per row inserted");
    }

    #[test]
    fn a_failing_row_fails_its_chunk_and_names_the_database() {
        let db = memory();
        db.begin().expect("a transaction");
        let error = db
            .execute_all(
                "INSERT INTO t (k, v) VALUES (?1, ?2)",
                &mut [Arg::Int(1), Arg::Null]
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| vec![Arg::Int(i as i64), v]),
            )
            .expect_err("v may not be NULL");
        assert!(error.to_string().contains("memory"), "{error}");
    }

    #[test]
    fn one_accounts_assets_are_read_without_reading_the_estates() {
        use crate::query::AssetQuery;
        use crate::roles::{Findings, Inventory, Scans};
        use parapet_core::{Asset, Provider, Scope, Severity};
        use rusqlite::StatementStatus;
        use rusqlite::trace::{TraceEvent, TraceEventCodes};

        let dir = tempfile::tempdir().expect("a temporary folder");
        let mut store = SqliteStore::open(&dir.path().join("parapet.db")).expect("a database");
        let now = chrono::Utc::now();
        // 400 assets in one account, 2 in another.
        for (account, count) in [("111111111111", 400), ("222222222222", 2)] {
            let assets: Vec<Asset> = (0..count)
                .map(|i| {
                    serde_json::from_value(serde_json::json!({
                        "id": format!("arn:aws:s3:::{account}-{i}"), "provider": "aws",
                        "account": account, "region": "eu-west-1",
                        "resource_type": "AWS::S3::Bucket", "name": format!("{account}-{i}"),
                        "config": {}, "observed_at": now.to_rfc3339()
                    }))
                    .expect("an asset")
                })
                .collect();
            let scope = Scope::whole(Provider::Aws, vec![account.to_owned()]);
            let provenance = parapet_core::Provenance::new("test 1", "sha256:0");
            let id = store
                .begin_scan(&scope, "test", &provenance, now)
                .expect("a scan");
            store
                .finish_scan(
                    id,
                    &assets,
                    crate::Evaluated::all(&[]),
                    &|_: &str| Severity::High,
                    &[],
                    now,
                )
                .expect("recorded");
        }
        // The virtual machine's steps of every statement run, by its text.
        let steps = Arc::new(Mutex::new(Vec::<(String, i32)>::new()));
        let traced = Arc::clone(&steps);
        store
            .db
            .conn
            .trace_v2(
                TraceEventCodes::SQLITE_TRACE_PROFILE,
                Some(move |event: TraceEvent<'_>| {
                    if let TraceEvent::Profile(statement, _) = event {
                        let steps = statement.get_status(StatementStatus::VmStep);
                        if let Ok(mut all) = traced.lock() {
                            all.push((statement.sql().into_owned(), steps));
                        }
                    }
                }),
            )
            .expect("traced");
        let small = Some("222222222222");
        assert_eq!(store.current_assets(small).expect("assets").len(), 2);
        assert_eq!(store.asset_names(small).expect("names").len(), 2);
        assert!(store.results(small).expect("results").is_empty());
        let query = AssetQuery {
            account: small.map(str::to_owned),
            ..AssetQuery::default()
        };
        assert_eq!(store.assets(&query).expect("a page").len(), 2);
        assert_eq!(store.count_assets(&query).expect("a count"), 2);
        let steps = steps.lock().expect("the steps").clone();
        assert_eq!(steps.len(), 5, "{steps:?}");
        for (sql, steps) in steps {
            // Reading 400 rows takes several steps each.
            assert!(steps < 400, "{steps} steps: {sql}");
        }
    }
}
