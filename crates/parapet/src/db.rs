//! Opening the database the options name, with the configuration's
//! notification routes and incident policy: a store opened here writes a
//! notification to the outbox, and follows the incidents, with each finding
//! change a scan records.

use crate::cli::GlobalArgs;
use anyhow::{Context, Result};
use parapet_store::{IncidentPolicy, Policy, Router, SqliteStore};
use std::sync::{Arc, OnceLock};

/// The configuration's routes, set once at start when it has channels.
static ROUTES: OnceLock<Arc<dyn Router>> = OnceLock::new();

/// The configuration's incident policy, set once at start when it has one.
static INCIDENTS: OnceLock<IncidentPolicy> = OnceLock::new();

/// Groups the findings of every store opened from now on into incidents.
pub fn incidents_by(policy: IncidentPolicy) {
    // Set once, by `main`; a second call changes nothing.
    let _ = INCIDENTS.set(policy);
}

/// Routes the finding changes of every store opened from now on.
pub fn route_with(router: Arc<dyn Router>) {
    // Set once, by `main`; a second call changes nothing.
    let _ = ROUTES.set(router);
}

/// `--db`, `PARAPET_DB`, or the default database.
pub fn path(global: &GlobalArgs) -> std::path::PathBuf {
    global
        .db
        .clone()
        .unwrap_or_else(parapet_store::default_path)
}

/// The configuration's routes and incident policy.
pub fn policy() -> Policy {
    Policy {
        router: ROUTES.get().cloned(),
        incidents: INCIDENTS.get().copied(),
    }
}

/// Opens `--db`, `PARAPET_DB`, or the default database.
pub fn open(global: &GlobalArgs) -> Result<SqliteStore> {
    let path = path(global);
    SqliteStore::open_with(&path, policy())
        .with_context(|| format!("cannot open the database {}", path.display()))
}
