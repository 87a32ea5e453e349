//! The continuous mode's schedule of whole collections, one row per account
//! of a source with when it is next due; `''` stands for a whole collection
//! before any account is known. A claim moves the row it takes, in the
//! statement that takes it, so two processes never take one resync.

use super::ledger::SqlLedger;
use super::{Database, SqlStore, args, first, ms, rows};
use crate::error::StoreError;
use crate::roles::Resyncs;
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;
use std::time::Duration;

/// The row that stands for a whole collection.
const WHOLE: &str = "";

/// `now` plus `span`, in milliseconds since the epoch.
fn after(now: DateTime<Utc>, span: Duration) -> i64 {
    ms(now).saturating_add(i64::try_from(span.as_millis()).unwrap_or(i64::MAX))
}

impl<D: Database> Resyncs for SqlStore<D> {
    fn plan_resyncs(
        &mut self,
        source: &str,
        accounts: &BTreeSet<String>,
        every: Duration,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let ledger = SqlLedger::begin(&self.db)?;
        let planned: BTreeSet<String> = rows(
            &self.db,
            "SELECT account FROM resyncs WHERE source = ?1",
            args![source],
            |r| r.text(0),
        )?
        .into_iter()
        .collect();
        const INSERT: &str = "INSERT INTO resyncs (source, account, due_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (source, account) DO NOTHING";
        if accounts.is_empty() {
            if planned.is_empty() {
                self.db
                    .execute(INSERT, args![source, WHOLE, after(now, every)])?;
            }
        } else {
            self.db.execute(
                "DELETE FROM resyncs WHERE source = ?1 AND account = ?2",
                args![source, WHOLE],
            )?;
            let new: Vec<&String> = accounts.iter().filter(|a| !planned.contains(*a)).collect();
            let count = u32::try_from(new.len()).unwrap_or(u32::MAX);
            for (i, account) in (1..=count).zip(new) {
                let due = after(now, every * i / count);
                self.db
                    .execute(INSERT, args![source, account.as_str(), due])?;
            }
        }
        ledger.commit()
    }

    fn claim_resync(
        &mut self,
        source: &str,
        hold: Duration,
        now: DateTime<Utc>,
    ) -> Result<Option<Option<String>>, StoreError> {
        let claimed = first(
            &self.db,
            &format!(
                "UPDATE resyncs SET due_at = ?3 WHERE source = ?1 AND account = \
                 (SELECT r.account FROM resyncs r WHERE r.source = ?1 AND r.due_at <= ?2 \
                  ORDER BY r.due_at, r.account LIMIT 1{}) \
                 RETURNING account",
                D::DIALECT.skip_locked
            ),
            args![source, ms(now), after(now, hold)],
            |r| r.text(0),
        )?;
        self.db.committed();
        Ok(claimed.map(|account| Some(account).filter(|a| a != WHOLE)))
    }

    fn resynced(
        &mut self,
        source: &str,
        account: Option<&str>,
        every: Duration,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.write(
            "UPDATE resyncs SET due_at = ?3 WHERE source = ?1 AND account = ?2",
            args![source, account.unwrap_or(WHOLE), after(now, every)],
        )?;
        Ok(())
    }
}
