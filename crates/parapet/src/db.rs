//! Opening the database the options name, with the configuration's
//! notification routes and incident policy: a store opened here writes a
//! notification to the outbox, and follows the incidents, with each finding
//! change a scan records.

use crate::cli::GlobalArgs;
use anyhow::{Context, Result};
use parapet_store::{IncidentPolicy, Router, SqliteStore};
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

/// Gives a store the configuration's routes and incident policy.
pub fn configure(store: &mut SqliteStore) {
    if let Some(router) = ROUTES.get() {
        store.set_router(Arc::clone(router));
    }
    if let Some(policy) = INCIDENTS.get() {
        store.set_incident_policy(*policy);
    }
}

/// Opens `--db`, `PARAPET_DB`, or the default database.
pub fn open(global: &GlobalArgs) -> Result<SqliteStore> {
    let path = path(global);
    let mut store = SqliteStore::open(&path)
        .with_context(|| format!("cannot open the database {}", path.display()))?;
    configure(&mut store);
    Ok(store)
}
