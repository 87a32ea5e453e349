//! Opening the database the options name.

use crate::cli::GlobalArgs;
use anyhow::{Context, Result};
use parapet_store::SqliteStore;

/// Opens `--db`, `PARAPET_DB`, or the default database.
pub fn open(global: &GlobalArgs) -> Result<SqliteStore> {
    let path = global
        .db
        .clone()
        .unwrap_or_else(parapet_store::default_path);
    SqliteStore::open(&path).with_context(|| format!("cannot open the database {}", path.display()))
}
