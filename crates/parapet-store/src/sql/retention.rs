//! Retention: history older than a cutoff removed, in one transaction,
//! without touching what is current. Kept whatever their age: every
//! asset's current version and the version that was current at the cutoff
//! (so that an asset can still be shown as it was at any time since), the
//! assets that exist and their findings, open incidents, pending
//! notifications and the events they carry, active mutes, and jobs not yet
//! finished. Where the backend keeps history by month (PostgreSQL), the
//! months with nothing to keep are dropped whole first.

use super::ledger::SqlLedger;
use super::{Database, SqlStore, args, ms};
use crate::error::StoreError;
use crate::query::Pruned;
use crate::roles::Retention;
use chrono::{DateTime, Utc};

/// The statements of a prune, in order (each removes what nothing later
/// needs), with what each counts. Every one takes the cutoff as `?1`.
const STEPS: &[(&str, &str)] = &[
    (
        "asset_versions",
        "DELETE FROM asset_versions WHERE observed_at < ?1 AND EXISTS (SELECT 1 FROM asset_versions w \
         WHERE w.asset_id = asset_versions.asset_id AND w.version > asset_versions.version AND w.observed_at <= ?1)",
    ),
    (
        "findings",
        "DELETE FROM findings WHERE asset_id IN (SELECT id FROM assets WHERE deleted_at < ?1)",
    ),
    (
        "asset_versions",
        "DELETE FROM asset_versions WHERE asset_id IN (SELECT id FROM assets WHERE deleted_at < ?1)",
    ),
    (
        "vulnerability_scans",
        "DELETE FROM vulnerability_scans WHERE asset_id IN (SELECT id FROM assets WHERE deleted_at < ?1)",
    ),
    ("assets", "DELETE FROM assets WHERE deleted_at < ?1"),
    (
        "outbox",
        "DELETE FROM outbox WHERE created_at < ?1 AND status <> 'pending'",
    ),
    (
        "events",
        "DELETE FROM events WHERE at < ?1 AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.event_id = events.id)",
    ),
    (
        "incident_events",
        "DELETE FROM incident_events WHERE incident_id IN (SELECT id FROM incidents WHERE status = 'resolved' AND resolved_at < ?1)",
    ),
    (
        "incident_findings",
        "DELETE FROM incident_findings WHERE incident_id IN (SELECT id FROM incidents WHERE status = 'resolved' AND resolved_at < ?1)",
    ),
    (
        "incidents",
        "DELETE FROM incidents WHERE status = 'resolved' AND resolved_at < ?1",
    ),
    (
        "mutes",
        "DELETE FROM mutes WHERE lifted_at < ?1 AND NOT EXISTS (SELECT 1 FROM findings f WHERE f.muted_by = mutes.id)",
    ),
    ("scans", "DELETE FROM scans WHERE finished_at < ?1"),
    (
        "jobs",
        "DELETE FROM jobs WHERE finished_at < ?1 AND status IN ('done', 'failed')",
    ),
];

impl<D: Database> Retention for SqlStore<D> {
    fn prune(&mut self, before: DateTime<Utc>) -> Result<Pruned, StoreError> {
        self.kept.borrow_mut().clear();
        let ledger = SqlLedger::begin(&self.db)?;
        let mut pruned = Pruned::default();
        if let Some(sql) = D::DIALECT.drop_history {
            self.db.for_each_row(sql, args![ms(before)], &mut |r| {
                let removed = u64::try_from(r.int(1)?).unwrap_or_default();
                *pruned.rows.entry(r.text(0)?).or_default() += removed;
                Ok(())
            })?;
        }
        for (table, sql) in STEPS {
            let removed = self.db.execute(sql, args![ms(before)])?;
            *pruned.rows.entry((*table).to_owned()).or_default() += removed;
        }
        ledger.commit()?;
        Ok(pruned)
    }
}
