//! Parapet's store: the one place state over time lives. Current assets and
//! their versions (history), findings with their lifecycle, the event
//! timeline, mutes, incidents, the notification outbox, scan runs, API
//! tokens and the vulnerability scans attached to assets, behind role
//! traits that take and return domain types only ([`roles`]), and the job
//! queue that workers on many machines share ([`jobs`]). The findings
//! lifecycle is logic apart from any database ([`lifecycle`]): a backend
//! offers it plain reads and writes in one transaction. One body of SQL
//! ([`sql`]) serves two backends: SQLite ([`SqliteStore`]), the embedded
//! default, and PostgreSQL ([`PostgresStore`]), which many processes on
//! many machines share; SQL never leaves those modules.
//!
//! # Layout
//!
//! - [`roles`]: the store's roles ([`Scans`], [`Inventory`], [`Findings`],
//!   [`Timeline`], [`Outbox`], [`Incidents`], [`Tokens`]) and [`Store`],
//!   all of them.
//! - [`jobs`]: units of work spread over workers, and their leases.
//! - [`lifecycle`]: what a scan, a mute or a hand on an incident changes,
//!   worked out over a backend's [`lifecycle::Ledger`].
//! - [`query`]: what callers ask for and get back (queries, records).
//! - [`sql`]: the roles over any SQL database, and what a backend offers.
//! - [`sqlite`]: the SQLite backend and its embedded, versioned migrations.
//! - [`postgres`]: the PostgreSQL backend: connecting, and its migrations.
//! - [`error`]: store errors.

pub mod error;
pub mod jobs;
pub mod lifecycle;
pub mod postgres;
pub mod query;
pub mod roles;
pub mod sql;
pub mod sqlite;

pub use error::StoreError;
pub use jobs::{JobRecord, JobStatus, Lease, NewJob, QueueCounts};
pub use lifecycle::scan::contents;
pub use lifecycle::{EvaluatedAsset, EvaluatedRef, Policy};
pub use postgres::PostgresStore;
pub use query::{
    AccountPosture, ApiToken, AssetQuery, AssetSummary, AssetVersion, EventQuery, Facets,
    FindingChange, FindingCursor, FindingQuery, Grouping, Incident, IncidentEvent, IncidentInfo,
    IncidentPolicy, IncidentStatus, Notification, OutboxStatus, Overview, Pruned, ResultCount,
    Router, ScanOutput, StoredEvent, TokenScope, TrendDay, WebSession,
};
pub use roles::{
    Content, Evaluated, Findings, Incidents, Inventory, JobScan, Jobs, Outbox, Resyncs, Retention,
    RuleFacts, Scans, Store, Timeline, Tokens, WebSessions,
};
pub use sql::SqlStore;
pub use sql::ahead::{KeptAccount, ReadAhead};
pub use sqlite::SqliteStore;

use std::path::PathBuf;

/// The environment variable that names the database file.
pub const DB_ENV: &str = "PARAPET_DB";

/// The default database file: `parapet/parapet.db` in the platform's data
/// folder (`~/.local/share` on Linux).
pub fn default_path() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("parapet")
        .join("parapet.db")
}
