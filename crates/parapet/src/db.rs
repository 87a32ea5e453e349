//! Opening the database the options name: a SQLite file, or a PostgreSQL
//! database when the name is a `postgres://` URL. Commands that record
//! (scans, the daemon, the server, a hand on an incident) open it with the
//! recording policy that `main` builds from the configuration: where
//! finding changes are notified, and how findings group into incidents.

use crate::cli::GlobalArgs;
use anyhow::{Context, Result};
use parapet_store::postgres::{Target, is_url};
use parapet_store::{Policy, PostgresStore, SqliteStore, Store, StoreError};
use std::path::PathBuf;

/// Where the database is.
#[derive(Debug, Clone)]
pub enum Database {
    /// A SQLite file.
    File(PathBuf),
    /// A PostgreSQL database.
    Postgres(Box<Target>),
}

impl Database {
    /// Opens it recording with `policy`.
    pub fn open_with(&self, policy: &Policy) -> Result<Box<dyn Store>, StoreError> {
        Ok(match self {
            Database::File(path) => Box::new(SqliteStore::open_with(path, policy.clone())?),
            Database::Postgres(target) => {
                Box::new(PostgresStore::connect_with(target, policy.clone())?)
            }
        })
    }

    /// What messages call it (never with a password).
    pub fn name(&self) -> String {
        match self {
            Database::File(path) => path.display().to_string(),
            Database::Postgres(target) => target.name().to_owned(),
        }
    }
}

/// `--db`, `PARAPET_DB`, the configuration's `database`, or the default
/// file.
pub fn database(global: &GlobalArgs) -> Result<Database> {
    let named = global
        .db
        .clone()
        .unwrap_or_else(parapet_store::default_path);
    match named.to_str().filter(|text| is_url(text)) {
        Some(url) => Ok(Database::Postgres(Box::new(
            Target::from_env(url).context("the database option")?,
        ))),
        None => Ok(Database::File(named)),
    }
}

/// Opens the database to read it or to write what notifies no one.
pub fn open(global: &GlobalArgs) -> Result<Box<dyn Store>> {
    open_with(global, &Policy::default())
}

/// Opens the database recording with `policy`.
pub fn open_with(global: &GlobalArgs, policy: &Policy) -> Result<Box<dyn Store>> {
    let database = database(global)?;
    database
        .open_with(policy)
        .with_context(|| format!("cannot open the database {}", database.name()))
}
