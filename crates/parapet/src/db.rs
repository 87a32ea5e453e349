//! Opening the database the options name. Commands that record (scans, the
//! daemon, the server, a hand on an incident) open it with the recording
//! policy that `main` builds from the configuration: where finding changes
//! are notified, and how findings group into incidents.

use crate::cli::GlobalArgs;
use anyhow::{Context, Result};
use parapet_store::{Policy, SqliteStore};

/// `--db`, `PARAPET_DB`, or the default database.
pub fn path(global: &GlobalArgs) -> std::path::PathBuf {
    global
        .db
        .clone()
        .unwrap_or_else(parapet_store::default_path)
}

/// Opens `--db`, `PARAPET_DB`, or the default database, to read it or to
/// write what notifies no one.
pub fn open(global: &GlobalArgs) -> Result<SqliteStore> {
    open_with(global, &Policy::default())
}

/// Opens the database recording with `policy`.
pub fn open_with(global: &GlobalArgs, policy: &Policy) -> Result<SqliteStore> {
    let path = path(global);
    SqliteStore::open_with(&path, policy.clone())
        .with_context(|| format!("cannot open the database {}", path.display()))
}
