//! The store over SQL, one body of queries for every backend: a backend
//! ([`Database`]) offers statements with bound arguments, rows read by
//! column, transactions and the few phrases its dialect spells its own way;
//! [`SqlStore`] implements every role over it. SQLite and PostgreSQL run the
//! same statements, so the two cannot drift apart.
//!
//! # Layout
//!
//! - this module: the backend's interface, the store, scans and the helpers
//!   the others share.
//! - `ledger`: the lifecycle's reads and writes in one transaction.
//! - `ahead`: an account's assets read ahead on a second connection.
//! - `history`: assets as they are and were, and the timeline.
//! - `findings`: findings, results and mutes.
//! - `incidents`: incidents and the outbox.
//! - `inventory`: the inventory's listings, facets and the overview.
//! - `tokens`: API tokens.
//! - `jobs`: the job queue workers share.
//! - `resyncs`: when each account is next collected whole.
//! - `retention`: history older than a cutoff removed.
//! - `sessions`: browser sessions and logins in progress.

pub(crate) mod ahead;
mod findings;
mod history;
mod incidents;
mod inventory;
mod jobs;
mod ledger;
mod resyncs;
mod retention;
mod sessions;
mod tokens;

use crate::error::StoreError;
use crate::lifecycle::{self, EvaluatedAsset, KnownAssets, Policy};
use crate::query::ScanOutput;
use crate::roles::{Evaluated, RuleFacts, Scans};
use ahead::{KeptAccount, KeptRead, ReadAhead};
use chrono::{DateTime, TimeZone, Utc};
use ledger::SqlLedger;
use parapet_core::{
    Asset, CollectionError, Provenance, Provider, ScanCounts, ScanRun, ScanStatus, Scope, Severity,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A value bound to a statement's placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg<'a> {
    /// SQL NULL.
    Null,
    /// A 64-bit integer.
    Int(i64),
    /// Text.
    Text(Cow<'a, str>),
}

impl From<i64> for Arg<'_> {
    fn from(value: i64) -> Self {
        Arg::Int(value)
    }
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(value: &'a str) -> Self {
        Arg::Text(Cow::Borrowed(value))
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(value: &'a String) -> Self {
        Arg::Text(Cow::Borrowed(value))
    }
}

impl From<String> for Arg<'_> {
    fn from(value: String) -> Self {
        Arg::Text(Cow::Owned(value))
    }
}

impl<'a, T: Into<Arg<'a>>> From<Option<T>> for Arg<'a> {
    fn from(value: Option<T>) -> Self {
        value.map_or(Arg::Null, Into::into)
    }
}

/// The arguments of a statement, in placeholder order.
macro_rules! args {
    ($($value:expr),* $(,)?) => {
        &[$($crate::sql::Arg::from($value)),*][..]
    };
}
pub(crate) use args;

/// The arguments of one run of a statement that runs many times.
macro_rules! arg_row {
    ($($value:expr),* $(,)?) => {
        vec![$($crate::sql::Arg::from($value)),*]
    };
}
pub(crate) use arg_row;

/// A row of a result, read by column number.
pub trait Row {
    /// An integer (a boolean reads as 0 or 1).
    fn opt_int(&self, column: usize) -> Result<Option<i64>, StoreError>;
    /// Text.
    fn opt_text(&self, column: usize) -> Result<Option<String>, StoreError>;
    /// The database, for errors.
    fn database(&self) -> &str;

    /// An integer that is never NULL.
    fn int(&self, column: usize) -> Result<i64, StoreError> {
        self.opt_int(column)?.ok_or_else(|| self.null(column))
    }

    /// Text that is never NULL.
    fn text(&self, column: usize) -> Result<String, StoreError> {
        self.opt_text(column)?.ok_or_else(|| self.null(column))
    }

    /// A time stored as milliseconds since the epoch.
    fn time(&self, column: usize) -> Result<DateTime<Utc>, StoreError> {
        self.int(column).map(time)
    }

    /// A time that may be NULL.
    fn opt_time(&self, column: usize) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(self.opt_int(column)?.map(time))
    }

    /// The error of a NULL where the schema has none.
    fn null(&self, column: usize) -> StoreError {
        StoreError::Invalid(format!(
            "{}: column {column} of a result is NULL where a value is required",
            self.database()
        ))
    }
}

/// How a backend spells what SQL does not standardise.
#[derive(Debug, Clone, Copy)]
pub struct Dialect {
    /// A condition that an asset (`assets`) has the tag whose key is the
    /// first argument and, unless the second argument is NULL, whose value
    /// is the third.
    pub has_tag: &'static str,
    /// The function that finds text in text: `F(haystack, needle) > 0`.
    pub position: &'static str,
    /// What a `SELECT` of rows to claim ends with so that concurrent
    /// claimers pass over each other's rows (SQLite has one writer at a
    /// time and needs nothing).
    pub skip_locked: &'static str,
    /// What prune runs first, where history is kept in parts that can be
    /// dropped whole: a query taking the cutoff as `?1` that drops them and
    /// returns each table with the rows it lost.
    pub drop_history: Option<&'static str>,
}

/// A SQL database the store runs on: statements with bound arguments,
/// transactions, and its dialect. Statements are written with numbered
/// (`?1`) or plain (`?`) placeholders; a backend that numbers them
/// otherwise rewrites them.
pub trait Database: Send + 'static {
    /// How it spells what SQL does not standardise.
    const DIALECT: Dialect;

    /// What errors call it: a file, or a server and database (never a
    /// credential).
    fn name(&self) -> &str;

    /// Runs a statement; returns how many rows it changed.
    fn execute(&self, sql: &str, args: &[Arg<'_>]) -> Result<u64, StoreError>;

    /// Runs one statement once for each set of arguments, prepared once;
    /// returns how many rows they changed.
    fn execute_all(
        &self,
        sql: &str,
        each: &mut dyn Iterator<Item = Vec<Arg<'_>>>,
    ) -> Result<u64, StoreError>;

    /// Runs one `INSERT ... RETURNING id` once for each set of arguments,
    /// prepared once; returns the ids, in order.
    fn insert_all(
        &self,
        sql: &str,
        each: &mut dyn Iterator<Item = Vec<Arg<'_>>>,
    ) -> Result<Vec<i64>, StoreError>;

    /// Runs a query and hands each row to `each`, in order.
    fn for_each_row(
        &self,
        sql: &str,
        args: &[Arg<'_>],
        each: &mut dyn FnMut(&dyn Row) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;

    /// Starts a transaction.
    fn begin(&self) -> Result<(), StoreError>;

    /// Commits the transaction.
    fn commit(&self) -> Result<(), StoreError>;

    /// Rolls the transaction back (nothing to report: what it wrote is gone
    /// either way).
    fn rollback(&self);

    /// Waits until no other transaction holds `key` (exclusively, or at
    /// all when `exclusive`) and holds it until this one ends. A database
    /// with one writer at a time needs nothing.
    fn lock(&self, key: &str, exclusive: bool) -> Result<(), StoreError> {
        let _ = (key, exclusive);
        Ok(())
    }

    /// Told after each commit (SQLite copies its log into the file).
    fn committed(&self) {}

    /// A number that changes whenever another connection commits, where
    /// the backend can tell (SQLite's `data_version`): what was read stays
    /// true while it does not change and this connection writes nothing
    /// over it. `None` where it cannot tell.
    fn data_version(&self) -> Result<Option<i64>, StoreError> {
        Ok(None)
    }

    /// A second connection to the same database, for reads on other
    /// threads while this one writes; it sees only what has been
    /// committed. `None` where the backend has none.
    fn reader(&self) -> Result<Option<Arc<Mutex<Self>>>, StoreError>
    where
        Self: Sized,
    {
        Ok(None)
    }
}

/// A store over a SQL database.
pub struct SqlStore<D: Database> {
    pub(crate) db: D,
    pub(crate) policy: Policy,
    /// The batch that scans' parts are recorded in, while one is open.
    batch: Option<Batch>,
    /// Accounts' assets read for incremental evaluation, kept for the
    /// recording of each account's scan.
    kept: RefCell<Vec<KeptRead>>,
}

/// The most reads kept: the pipeline reads up to two accounts ahead of
/// the one it records.
const KEPT_READS: usize = 3;

/// The kept read of `account`, taken from `kept`, if it still holds.
pub(crate) fn take_kept<D: Database>(
    db: &D,
    kept: &RefCell<Vec<KeptRead>>,
    provider: Provider,
    account: &str,
) -> Result<Option<KnownAssets>, StoreError> {
    let mut kept = kept.borrow_mut();
    let Some(at) = kept
        .iter()
        .position(|k| k.provider == provider && k.account == account)
    else {
        return Ok(None);
    };
    let read = kept.remove(at);
    Ok((db.data_version()? == Some(read.version)).then_some(read.known))
}

/// Parts of a scan recorded into one transaction, committed once
/// [`BATCH_ASSETS`] assets were new, changed or deleted in it or it has
/// been open [`BATCH_TIME`], and when the batch ends. Each commit writes
/// every page it changed into SQLite's log, and a part's results land in
/// every rule's stretch of each index: one commit per part of a thousand
/// assets rewrote 27 MB of pages, and the first recorded scan of 100,000
/// assets wrote 4.1 GB rather than 1.3 GB. A rescan that changes few
/// assets commits by time: its commits write the pages it shares across
/// parts (the scans, the places seen, the counters, the end of each index)
/// a few times rather than once per ten parts.
struct Batch {
    /// When its open transaction began, if one is open.
    began: Option<Instant>,
    /// Assets new, changed or deleted in the open transaction.
    assets: usize,
    /// The accounts recorded in the open transaction, which another
    /// connection does not see yet.
    written: HashSet<(Provider, String)>,
}

/// Assets new, changed or deleted before a batch's transaction is
/// committed.
const BATCH_ASSETS: usize = 10_000;

/// The longest a batch's transaction stays open, so that other writers
/// (a watch daemon, a worker) wait no longer than this.
const BATCH_TIME: Duration = Duration::from_secs(2);

impl<D: Database> SqlStore<D> {
    /// A store over `db`, recording with `policy`.
    pub(crate) fn new(db: D, policy: Policy) -> SqlStore<D> {
        SqlStore {
            db,
            policy,
            batch: None,
            kept: RefCell::default(),
        }
    }

    /// Commits the batch's open transaction, if any.
    fn commit_batch(&mut self) -> Result<(), StoreError> {
        let Some(batch) = &mut self.batch else {
            return Ok(());
        };
        if batch.began.take().is_none() {
            return Ok(());
        }
        batch.assets = 0;
        batch.written.clear();
        if let Err(e) = self.db.commit() {
            self.db.rollback();
            return Err(e);
        }
        self.db.committed();
        Ok(())
    }

    /// Keeps an account's assets as read for recording its scan, in place
    /// of any read of the account kept before.
    fn keep(&self, read: KeptRead) {
        let mut kept = self.kept.borrow_mut();
        kept.retain(|k| k.provider != read.provider || k.account != read.account);
        if kept.len() == KEPT_READS {
            kept.remove(0);
        }
        kept.push(read);
    }

    /// Sets the recording policy: the routes of finding changes to
    /// notification channels, and the grouping of findings into incidents.
    pub fn set_policy(&mut self, policy: Policy) {
        self.policy = policy;
    }

    /// Runs a statement on its own, committed at once.
    fn write(&self, sql: &str, args: &[Arg<'_>]) -> Result<u64, StoreError> {
        let changed = self.db.execute(sql, args)?;
        self.db.committed();
        Ok(changed)
    }

    /// Runs `work` on the lifecycle's ledger in one transaction, committed
    /// when it succeeds and rolled back when it fails. Inside a batch, the
    /// work joins the batch's transaction, and its failure rolls back the
    /// batch's work not yet committed.
    fn in_ledger<T>(
        &mut self,
        work: impl FnOnce(&mut SqlLedger<'_, D>, &Policy) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut ledger = match &mut self.batch {
            Some(batch) => {
                if batch.began.is_none() {
                    self.db.begin()?;
                    batch.began = Some(Instant::now());
                }
                SqlLedger::within(&self.db)
            }
            None => SqlLedger::begin(&self.db)?,
        }
        .keeping(&self.kept);
        let out = work(&mut ledger, &self.policy).and_then(|out| ledger.commit().map(|()| out));
        if out.is_err()
            && let Some(batch) = &mut self.batch
        {
            batch.began = None;
            batch.assets = 0;
            batch.written.clear();
        }
        out
    }
}

/// When the asset of the row `asset` (a table or its alias) was last seen:
/// its own `last_seen`, or, while it lives, when its place was last
/// collected whole if that is later (an asset seen again unchanged is not
/// written again).
pub(crate) fn last_seen_of(asset: &str) -> String {
    format!(
        "CASE WHEN {asset}.deleted_at IS NULL THEN COALESCE((SELECT p.seen_at FROM place_seen p \
         WHERE p.provider = {asset}.provider AND p.account = {asset}.account AND p.region = {asset}.region \
         AND p.resource_type = {asset}.resource_type AND p.seen_at > {asset}.last_seen), {asset}.last_seen) \
         ELSE {asset}.last_seen END"
    )
}

/// A live asset with a stamp from a row of id, content hash, stamp and
/// deletion time; `None` for any other.
fn evaluated_row(r: &dyn Row) -> Result<Option<EvaluatedAsset>, StoreError> {
    let stamp = r.opt_text(2)?.unwrap_or_default();
    if r.opt_int(3)?.is_some() || stamp.is_empty() {
        return Ok(None);
    }
    Ok(Some(EvaluatedAsset {
        id: r.text(0)?,
        content_hash: r.text(1)?,
        stamp,
    }))
}

/// Rows of a query, each read by `read`.
pub(crate) fn rows<D: Database + ?Sized, T>(
    db: &D,
    sql: &str,
    args: &[Arg<'_>],
    mut read: impl FnMut(&dyn Row) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut out = Vec::new();
    db.for_each_row(sql, args, &mut |row| {
        out.push(read(row)?);
        Ok(())
    })?;
    Ok(out)
}

/// Hands each row of a query over many ids to `each`, asking for 500
/// ids at a time: `sql` makes the query from one batch's placeholders
/// (`?, ?, ...`).
pub(crate) fn for_each_row_in<D: Database + ?Sized>(
    db: &D,
    ids: &[&str],
    sql: impl Fn(&str) -> String,
    each: &mut dyn FnMut(&dyn Row) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    for chunk in ids.chunks(500) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let values: Vec<Arg<'_>> = chunk.iter().map(|id| Arg::from(*id)).collect();
        db.for_each_row(&sql(&marks), &values, each)?;
    }
    Ok(())
}

/// The first row of a query, if any, read by `read`.
pub(crate) fn first<D: Database + ?Sized, T>(
    db: &D,
    sql: &str,
    args: &[Arg<'_>],
    mut read: impl FnMut(&dyn Row) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    let mut out = None;
    db.for_each_row(sql, args, &mut |row| {
        if out.is_none() {
            out = Some(read(row)?);
        }
        Ok(())
    })?;
    Ok(out)
}

/// A row's JSON document read from text.
pub(crate) fn json<T: DeserializeOwned>(
    row: &dyn Row,
    column: usize,
    what: &'static str,
) -> Result<T, StoreError> {
    decode(row.database(), &row.text(column)?, what)
}

/// A row's enum read from the name it is stored as.
pub(crate) fn name_of<T: DeserializeOwned>(
    row: &dyn Row,
    column: usize,
    what: &'static str,
) -> Result<T, StoreError> {
    named(row.database(), &row.text(column)?, what)
}

pub(crate) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn time(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// A severity's rank as stored: 0 for critical up to 4 for informational,
/// so that report order (most severe first) is ascending.
pub(crate) fn severity_number(severity: Severity) -> i64 {
    match severity {
        Severity::Critical => 0,
        Severity::High => 1,
        Severity::Medium => 2,
        Severity::Low => 3,
        Severity::Informational => 4,
    }
}

pub(crate) fn severity_from(rank: i64) -> Severity {
    match rank {
        0 => Severity::Critical,
        1 => Severity::High,
        2 => Severity::Medium,
        3 => Severity::Low,
        _ => Severity::Informational,
    }
}

pub(crate) fn decode<T: DeserializeOwned>(
    database: &str,
    text: &str,
    what: &'static str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|source| StoreError::Corrupt {
        database: database.to_owned(),
        what,
        source,
    })
}

/// One of the model's enums from the name it is stored as.
pub(crate) fn named<T: DeserializeOwned>(
    database: &str,
    name: &str,
    what: &'static str,
) -> Result<T, StoreError> {
    parapet_core::parse_name(name).ok_or_else(|| StoreError::UnknownName {
        database: database.to_owned(),
        what,
        name: name.to_owned(),
    })
}

pub(crate) fn encode<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

/// A query's WHERE clause, built from the filters a caller gave; values are
/// always bound, never spliced into the SQL.
pub(crate) struct Filter<'a> {
    pub(crate) sql: String,
    pub(crate) args: Vec<Arg<'a>>,
}

impl<'a> Filter<'a> {
    pub(crate) fn new(select: &str) -> Filter<'a> {
        Filter {
            sql: select.to_owned(),
            args: Vec::new(),
        }
    }

    /// `AND column = value`, when a value is given.
    pub(crate) fn equal(&mut self, column: &str, value: Option<&'a str>) {
        if let Some(value) = value {
            self.sql.push_str(&format!(" AND {column} = ?"));
            self.args.push(value.into());
        }
    }

    /// An asset's place: `AND provider = value` and `AND account = value`
    /// (each column after `prefix`), for each value given. An account
    /// without a provider is looked for under every provider, because the
    /// assets' indexes by account lead with the provider (`assets_place`
    /// after `deleted_at`, `assets_known` first): without it, one account's
    /// assets are found by reading every asset of the estate.
    pub(crate) fn place(
        &mut self,
        prefix: &str,
        provider: Option<&'a str>,
        account: Option<&'a str>,
    ) {
        let column = |name: &str| format!("{prefix}{name}");
        match (provider, account) {
            (None, Some(_)) => self.any_of(
                &column("provider"),
                Provider::ALL.iter().map(|p| p.as_str().into()).collect(),
            ),
            _ => self.equal(&column("provider"), provider),
        }
        self.equal(&column("account"), account);
    }

    /// `AND column IN (values)`, when there are values.
    pub(crate) fn any_of(&mut self, column: &str, values: Vec<Arg<'a>>) {
        if values.is_empty() {
            return;
        }
        let marks = vec!["?"; values.len()].join(", ");
        self.sql.push_str(&format!(" AND {column} IN ({marks})"));
        self.args.extend(values);
    }

    /// A condition with one bound value, when the value is given.
    pub(crate) fn condition(&mut self, sql: &str, value: Option<Arg<'a>>) {
        if let Some(value) = value {
            self.sql.push_str(sql);
            self.args.push(value);
        }
    }

    /// Appends SQL and its arguments.
    pub(crate) fn push(&mut self, sql: &str, args: impl IntoIterator<Item = Arg<'a>>) {
        self.sql.push_str(sql);
        self.args.extend(args);
    }
}

pub(crate) const SCAN_COLUMNS: &str =
    "id, scope, source, started_at, finished_at, status, counts, errors, provenance";

pub(crate) fn read_scan(row: &dyn Row) -> Result<ScanRun, StoreError> {
    Ok(ScanRun {
        id: row.int(0)?,
        scope: json(row, 1, "scan scope")?,
        source: row.text(2)?,
        started_at: row.time(3)?,
        finished_at: row.opt_time(4)?,
        status: name_of(row, 5, "scan status")?,
        counts: json(row, 6, "scan counts")?,
        errors: json(row, 7, "scan errors")?,
        provenance: row
            .opt_text(8)?
            .map(|p| decode(row.database(), &p, "scan provenance"))
            .transpose()?,
    })
}

/// Records the start of a scan (inside the caller's transaction, if any);
/// returns its id.
pub(crate) fn insert_scan<D: Database>(
    db: &D,
    scope: &Scope,
    source: &str,
    provenance: &Provenance,
    started_at: DateTime<Utc>,
) -> Result<i64, StoreError> {
    first(
        db,
        "INSERT INTO scans (scope, source, started_at, status, counts, errors, provenance) \
         VALUES (?1, ?2, ?3, ?4, ?5, '[]', ?6) RETURNING id",
        args![
            encode(scope),
            source,
            ms(started_at),
            ScanStatus::Running.as_str(),
            encode(&ScanCounts::default()),
            encode(provenance)
        ],
        |r| r.int(0),
    )?
    .ok_or_else(|| StoreError::Invalid(format!("{}: no scan id", db.name())))
}

impl<D: Database> Scans for SqlStore<D> {
    fn database(&self) -> &str {
        self.db.name()
    }

    fn begin_scan(
        &mut self,
        scope: &Scope,
        source: &str,
        provenance: &Provenance,
        started_at: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let id = insert_scan(&self.db, scope, source, provenance, started_at)?;
        self.db.committed();
        Ok(id)
    }

    fn finish_scan(
        &mut self,
        scan_id: i64,
        assets: &[Asset],
        evaluated: Evaluated<'_>,
        rules: &dyn RuleFacts,
        errors: &[CollectionError],
        finished_at: DateTime<Utc>,
    ) -> Result<ScanOutput, StoreError> {
        let input = lifecycle::scan::ScanInput {
            scan_id,
            assets,
            evaluated,
            rules,
            errors,
            finished_at,
        };
        let output =
            self.in_ledger(|ledger, policy| lifecycle::scan::record(ledger, policy, &input))?;
        if let Some(batch) = &mut self.batch {
            let counts = &output.scan.counts;
            batch.assets += (counts.created + counts.changed + counts.deleted) as usize;
            let provider = output.scan.scope.provider;
            batch.written.extend(
                output
                    .scan
                    .scope
                    .accounts
                    .iter()
                    .map(|account| (provider, account.clone())),
            );
            let due = batch.assets >= BATCH_ASSETS
                || batch
                    .began
                    .is_some_and(|began| began.elapsed() >= BATCH_TIME);
            if due {
                self.commit_batch()?;
            }
        }
        Ok(output)
    }

    fn begin_batch(&mut self) {
        if self.batch.is_none() {
            self.batch = Some(Batch {
                began: None,
                assets: 0,
                written: HashSet::new(),
            });
        }
    }

    fn end_batch(&mut self) -> Result<(), StoreError> {
        let committed = self.commit_batch();
        self.batch = None;
        self.kept.borrow_mut().clear();
        committed
    }

    fn evaluated_assets(&self, ids: &[&str]) -> Result<Vec<EvaluatedAsset>, StoreError> {
        let mut found = Vec::with_capacity(ids.len());
        // Only the key in the condition: with `deleted_at` there too,
        // SQLite reads every live asset through `assets_place`.
        for_each_row_in(
            &self.db,
            ids,
            |marks| {
                format!(
                    "SELECT id, content_hash, evaluated, deleted_at FROM assets WHERE id IN ({marks})"
                )
            },
            &mut |r| {
                found.extend(evaluated_row(r)?);
                Ok(())
            },
        )?;
        Ok(found)
    }

    fn evaluated_assets_of(
        &self,
        provider: Provider,
        account: &str,
    ) -> Result<Vec<EvaluatedAsset>, StoreError> {
        let version = self.db.data_version()?;
        let known = ledger::known_assets(&self.db, provider, account)?;
        let found = ahead::evaluated_of(&known)
            .map(|a| EvaluatedAsset {
                id: a.id.to_owned(),
                content_hash: a.content_hash.to_owned(),
                stamp: a.stamp.to_owned(),
            })
            .collect();
        if let Some(version) = version {
            self.keep(KeptRead {
                provider,
                account: account.to_owned(),
                version,
                known,
            });
        }
        Ok(found)
    }

    fn read_ahead(
        &self,
        provider: Provider,
        account: &str,
    ) -> Result<Option<ReadAhead>, StoreError> {
        let unseen = self
            .batch
            .as_ref()
            .is_some_and(|b| b.written.contains(&(provider, account.to_owned())));
        if unseen {
            return Ok(None);
        }
        let Some(version) = self.db.data_version()? else {
            return Ok(None);
        };
        let Some(reader) = self.db.reader()? else {
            return Ok(None);
        };
        Ok(Some(ReadAhead {
            reads: reader,
            provider,
            account: account.to_owned(),
            version,
        }))
    }

    fn keep_read(&self, kept: KeptAccount) {
        self.keep(kept.0);
    }

    fn rule_pack(&self, id: &str) -> Result<Option<BTreeMap<String, String>>, StoreError> {
        ahead::rule_pack(&self.db, id)
    }

    fn keep_rule_pack(
        &mut self,
        id: &str,
        rules: &BTreeMap<String, String>,
    ) -> Result<(), StoreError> {
        self.write(
            "INSERT INTO rule_packs (id, rules) VALUES (?1, ?2) ON CONFLICT (id) DO NOTHING",
            args![id, encode(rules)],
        )?;
        Ok(())
    }

    fn scans_page(&self, before: Option<i64>, limit: usize) -> Result<Vec<ScanRun>, StoreError> {
        rows(
            &self.db,
            &format!("SELECT {SCAN_COLUMNS} FROM scans WHERE id < ?1 ORDER BY id DESC LIMIT ?2"),
            args![before.unwrap_or(i64::MAX), limit as i64],
            read_scan,
        )
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
