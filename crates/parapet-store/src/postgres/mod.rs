//! The PostgreSQL backend: one database that any number of Parapet
//! processes on any number of machines share. The statements are the
//! store's own ([`crate::sql`]); this module connects (the URL, a password
//! from the environment or a file, TLS when the URL asks), brings the schema
//! up to date under an advisory lock, so that processes starting together
//! migrate once, and runs statements, each prepared once per connection,
//! over tokio-postgres on a runtime of the connection's own; the rows of a
//! batch are pipelined, so that a scan of many assets costs few round trips.
//!
//! # Layout
//!
//! - this module: the database, statements and rows, migrations.
//! - `connect`: what the URL says, the password, TLS.

mod connect;

pub use connect::{PASSWORD_ENV, PASSWORD_FILE_ENV, Target, is_url};

use crate::error::StoreError;
use crate::lifecycle::Policy;
use crate::sql::{Arg, Database, Dialect, Row, SqlStore};
use bytes::BytesMut;
use connect::Session;
use futures_util::future::try_join_all;
use std::cell::RefCell;
use std::collections::HashMap;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};

/// The migrations, each with the schema version it brings the database to.
/// The versions are SQLite's: a PostgreSQL database of version N has the
/// tables, columns and meaning of a SQLite database of version N.
const MIGRATIONS: &[(i64, &str)] = &[
    (10, include_str!("migrations/0010_initial.sql")),
    (11, include_str!("migrations/0011_jobs.sql")),
    (12, include_str!("migrations/0012_web_sessions.sql")),
    (13, include_str!("migrations/0013_folded_counts.sql")),
    (14, include_str!("migrations/0014_monthly_partitions.sql")),
    (15, include_str!("migrations/0015_resyncs.sql")),
    (16, include_str!("migrations/0016_evaluation_stamps.sql")),
    (17, include_str!("migrations/0017_place_seen.sql")),
    (18, include_str!("migrations/0018_assets_known.sql")),
    (19, include_str!("migrations/0019_findings_by_asset.sql")),
];

/// The schema version this build writes (SQLite's too).
pub const SCHEMA_VERSION: i64 = crate::sqlite::SCHEMA_VERSION;

/// The key of the advisory lock held while migrating.
const MIGRATION_LOCK: i64 = 0x7061_7261_7065_7401;

/// How many statements of one batch are sent before their answers are
/// read: one round trip for many, within a bound on what waits in memory.
const PIPELINE: usize = 512;

/// One PostgreSQL database, over one connection, as the store's database.
/// The statements of a batch (`execute_all`, `insert_all`) are pipelined:
/// sent together, their answers read together.
pub struct Postgres {
    session: Session,
    statements: RefCell<HashMap<String, tokio_postgres::Statement>>,
    name: String,
}

/// A store in a PostgreSQL database.
pub type PostgresStore = SqlStore<Postgres>;

impl Postgres {
    fn fail(&self, source: tokio_postgres::Error) -> StoreError {
        backend(&self.name, source)
    }

    /// Waits for `work` on the connection.
    fn wait<T>(
        &self,
        work: impl Future<Output = Result<T, tokio_postgres::Error>>,
    ) -> Result<T, StoreError> {
        self.session
            .runtime
            .block_on(work)
            .map_err(|e| self.fail(e))
    }

    /// Runs `sql` once for each row of arguments `each` gives, pipelined;
    /// returns the answers in order.
    fn pipelined<T>(
        &self,
        sql: &str,
        each: &mut dyn Iterator<Item = Vec<Arg<'_>>>,
        run: impl AsyncFn(
            &tokio_postgres::Statement,
            &[&(dyn ToSql + Sync)],
        ) -> Result<T, tokio_postgres::Error>,
    ) -> Result<Vec<T>, StoreError> {
        let mut statement = None;
        let mut answers = Vec::new();
        loop {
            let batch: Vec<Vec<Arg<'_>>> = (&mut *each).take(PIPELINE).collect();
            if batch.is_empty() {
                return Ok(answers);
            }
            let statement = match &statement {
                Some(s) => s,
                None => statement.insert(self.statement(sql)?),
            };
            let bound: Vec<Vec<&(dyn ToSql + Sync)>> = batch.iter().map(|a| params(a)).collect();
            answers.extend(self.wait(try_join_all(
                bound.iter().map(|params| run(statement, params)),
            ))?);
        }
    }

    /// The statement for `sql`, prepared on first use.
    fn statement(&self, sql: &str) -> Result<tokio_postgres::Statement, StoreError> {
        if let Some(statement) = self.statements.borrow().get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.wait(self.session.client.prepare(&numbered(sql)))?;
        self.statements
            .borrow_mut()
            .insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}

/// The error of `name`: the server's own message when the server refused
/// (the client's says only `db error`), else the client's with its causes
/// (a TLS handshake's says why it failed only there).
fn backend(name: &str, error: tokio_postgres::Error) -> StoreError {
    let source = if error.as_db_error().is_some() {
        error
            .into_source()
            .unwrap_or_else(|| "the server refused".into())
    } else {
        parapet_core::error::chain(&error).into()
    };
    StoreError::Backend {
        database: name.to_owned(),
        source,
    }
}

/// `sql` with SQLite's placeholders (`?NNN`, and `?` for one more than the
/// largest so far) as PostgreSQL's (`$NNN`). Quoted text and identifiers
/// are left alone.
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    let mut largest = 0u32;
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                out.push(c);
            }
            (Some(_), c) => out.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                out.push(c);
            }
            (None, '?') => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                let n = digits.parse().unwrap_or(largest + 1);
                largest = largest.max(n);
                out.push('$');
                out.push_str(&n.to_string());
            }
            (None, c) => out.push(c),
        }
    }
    out
}

impl ToSql for Arg<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Arg::Null => Ok(IsNull::Yes),
            Arg::Int(value) => match *ty {
                Type::INT8 => value.to_sql(ty, out),
                Type::INT4 => i32::try_from(*value)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*value)?.to_sql(ty, out),
                Type::BOOL => (*value != 0).to_sql(ty, out),
                _ => Err(format!("an integer was given where {ty} is expected").into()),
            },
            Arg::Text(text) => text.as_ref().to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// A row of PostgreSQL's, read by column.
struct PostgresRow<'r> {
    row: &'r tokio_postgres::Row,
    name: &'r str,
}

impl Row for PostgresRow<'_> {
    fn opt_int(&self, column: usize) -> Result<Option<i64>, StoreError> {
        let ty = self
            .row
            .columns()
            .get(column)
            .map(|c| c.type_().clone())
            .unwrap_or(Type::INT8);
        let read = match ty {
            Type::INT4 => self
                .row
                .try_get::<_, Option<i32>>(column)
                .map(|v| v.map(i64::from)),
            Type::INT2 => self
                .row
                .try_get::<_, Option<i16>>(column)
                .map(|v| v.map(i64::from)),
            Type::BOOL => self
                .row
                .try_get::<_, Option<bool>>(column)
                .map(|v| v.map(i64::from)),
            _ => self.row.try_get::<_, Option<i64>>(column),
        };
        read.map_err(|e| backend(self.name, e))
    }

    fn opt_text(&self, column: usize) -> Result<Option<String>, StoreError> {
        self.row.try_get(column).map_err(|e| backend(self.name, e))
    }

    fn database(&self) -> &str {
        self.name
    }
}

fn params<'a>(args: &'a [Arg<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    args.iter().map(|a| a as &(dyn ToSql + Sync)).collect()
}

impl Database for Postgres {
    const DIALECT: Dialect = Dialect {
        has_tag: "EXISTS (SELECT 1 FROM jsonb_each_text(assets.tags::jsonb) t \
                  WHERE t.key = CAST(? AS TEXT) AND (CAST(? AS TEXT) IS NULL OR t.value = CAST(? AS TEXT)))",
        position: "strpos",
        skip_locked: " FOR UPDATE SKIP LOCKED",
        drop_history: Some("SELECT parent, removed FROM parapet_drop_months(?1)"),
    };

    fn name(&self) -> &str {
        &self.name
    }

    fn execute(&self, sql: &str, args: &[Arg<'_>]) -> Result<u64, StoreError> {
        let statement = self.statement(sql)?;
        self.wait(self.session.client.execute(&statement, &params(args)))
    }

    fn execute_all(
        &self,
        sql: &str,
        each: &mut dyn Iterator<Item = Vec<Arg<'_>>>,
    ) -> Result<u64, StoreError> {
        let client = &self.session.client;
        let changed = self.pipelined(sql, each, async |statement, params| {
            client.execute(statement, params).await
        })?;
        Ok(changed.iter().sum())
    }

    fn insert_all(
        &self,
        sql: &str,
        each: &mut dyn Iterator<Item = Vec<Arg<'_>>>,
    ) -> Result<Vec<i64>, StoreError> {
        let client = &self.session.client;
        self.pipelined(sql, each, async |statement, params| {
            client.query_one(statement, params).await?.try_get(0)
        })
    }

    fn for_each_row(
        &self,
        sql: &str,
        args: &[Arg<'_>],
        each: &mut dyn FnMut(&dyn Row) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let statement = self.statement(sql)?;
        let rows = self.wait(self.session.client.query(&statement, &params(args)))?;
        for row in &rows {
            each(&PostgresRow {
                row,
                name: &self.name,
            })?;
        }
        Ok(())
    }

    fn lock(&self, key: &str, exclusive: bool) -> Result<(), StoreError> {
        let sql = if exclusive {
            "SELECT pg_advisory_xact_lock(hashtextextended(?1, 0))"
        } else {
            "SELECT pg_advisory_xact_lock_shared(hashtextextended(?1, 0))"
        };
        self.for_each_row(sql, &[Arg::from(key)], &mut |_| Ok(()))
    }

    fn begin(&self) -> Result<(), StoreError> {
        self.wait(self.session.client.batch_execute("BEGIN"))
    }

    fn commit(&self) -> Result<(), StoreError> {
        // The overview's counters take the transaction's deltas at once
        // (migration 0013).
        self.wait(
            self.session
                .client
                .batch_execute("SELECT parapet_fold(); COMMIT"),
        )
    }

    fn rollback(&self) {
        let _ = self.wait(self.session.client.batch_execute("ROLLBACK"));
    }
}

impl SqlStore<Postgres> {
    /// Connects to the database `target` names and brings its schema up to
    /// date. A database written by a newer Parapet is refused.
    pub fn connect(target: &Target) -> Result<PostgresStore, StoreError> {
        let db = Postgres {
            session: target.connect()?,
            statements: RefCell::new(HashMap::new()),
            name: target.name().to_owned(),
        };
        migrate(&db)?;
        Ok(SqlStore::new(db, Policy::default()))
    }

    /// Connects as [`SqlStore::connect`] does, recording with `policy`.
    pub fn connect_with(target: &Target, policy: Policy) -> Result<PostgresStore, StoreError> {
        let mut store = PostgresStore::connect(target)?;
        store.set_policy(policy);
        Ok(store)
    }

    /// The schema version of the database.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.db.schema_version()
    }
}

impl Postgres {
    /// The schema version the database records.
    fn schema_version(&self) -> Result<i64, StoreError> {
        let client = &self.session.client;
        self.wait(async {
            client
                .query_one("SELECT max(version) FROM parapet_schema", &[])
                .await?
                .try_get(0)
        })
    }
}

/// Brings the schema up to date, all of it in one transaction that holds an
/// advisory lock: a second process waits, then finds nothing to do.
fn migrate(db: &Postgres) -> Result<(), StoreError> {
    let client = &db.session.client;
    db.wait(client.batch_execute("BEGIN"))?;
    match migrate_within(db) {
        Ok(()) => db.wait(client.batch_execute("COMMIT")),
        Err(error) => {
            db.rollback();
            Err(error)
        }
    }
}

/// The migrations, within the transaction `migrate` began.
fn migrate_within(db: &Postgres) -> Result<(), StoreError> {
    let client = &db.session.client;
    db.wait(client.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]))?;
    db.wait(client.batch_execute(
        "CREATE TABLE IF NOT EXISTS parapet_schema (version BIGINT NOT NULL); \
         INSERT INTO parapet_schema (version) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM parapet_schema)",
    ))?;
    let found = db.schema_version()?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            database: db.name.clone(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > found) {
        db.wait(client.batch_execute(sql))?;
        db.wait(client.execute("UPDATE parapet_schema SET version = $1", &[version]))?;
    }
    // This month's history and the next two months' have their partitions,
    // and rows written where none was are moved to theirs.
    db.wait(
        client
            .batch_execute("SELECT parapet_partitions((extract(epoch FROM now()) * 1000)::BIGINT)"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_as_sqlite_numbers_them() {
        assert_eq!(
            numbered("SELECT a FROM t WHERE b = ?1 AND c = ?2 AND d = ?1"),
            "SELECT a FROM t WHERE b = $1 AND c = $2 AND d = $1"
        );
        assert_eq!(
            numbered("WHERE a = ? AND b IN (?, ?) LIMIT ?"),
            "WHERE a = $1 AND b IN ($2, $3) LIMIT $4"
        );
        assert_eq!(
            numbered("WHERE a = ?3 AND b = ?"),
            "WHERE a = $3 AND b = $4"
        );
        assert_eq!(
            numbered("WHERE a = '?' AND \"b?\" = ?"),
            "WHERE a = '?' AND \"b?\" = $1"
        );
    }
}
