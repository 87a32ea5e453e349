//! The job queue workers share: jobs queued, claimed under leases (rows
//! another claimer holds are passed over), renewed, done with their results
//! in one transaction, failed and tried again.

use super::ledger::SqlLedger;
use super::{Arg, Database, SqlStore, arg_row, args, first, json, ms, name_of, rows};
use crate::error::StoreError;
use crate::jobs::{JobRecord, JobStatus, Lease, NewJob, QueueCounts};
use crate::lifecycle;
use crate::query::ScanOutput;
use crate::roles::{JobScan, Jobs};
use chrono::{DateTime, Utc};

const RECORD_COLUMNS: &str = "id, kind, run_id, grp, stage, payload, status, attempts, owner, result, error, created_at, finished_at";

fn read_record(r: &dyn super::Row) -> Result<JobRecord, StoreError> {
    Ok(JobRecord {
        id: r.int(0)?,
        kind: r.text(1)?,
        run_id: r.opt_int(2)?,
        group: r.text(3)?,
        stage: r.int(4)?,
        payload: json(r, 5, "job payload")?,
        status: name_of(r, 6, "job status")?,
        attempts: r.int(7)?,
        worker: r.opt_text(8)?,
        result: r
            .opt_text(9)?
            .map(|t| super::decode(r.database(), &t, "job result"))
            .transpose()?,
        error: r.opt_text(10)?,
        created_at: r.time(11)?,
        finished_at: r.opt_time(12)?,
    })
}

/// The condition that `lease` still holds on its job (its placeholders
/// follow the statement's numbered ones).
const HELD: &str = "id = ? AND owner = ? AND attempts = ? AND status = 'running'";

fn held(lease: &Lease) -> [Arg<'_>; 3] {
    [
        lease.id.into(),
        (&lease.worker).into(),
        lease.attempt.into(),
    ]
}

/// Queues `jobs` through `db` (inside the caller's transaction, if any).
fn enqueue<D: Database>(
    db: &D,
    jobs: &[NewJob],
    now: DateTime<Utc>,
) -> Result<Vec<i64>, StoreError> {
    db.insert_all(
        "INSERT INTO jobs (kind, run_id, grp, stage, payload, status, max_attempts, not_before, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, 'queued', ?6, ?7, ?7) RETURNING id",
        &mut jobs.iter().map(|job| {
            arg_row![
                job.kind.as_str(),
                job.run_id,
                job.group.as_str(),
                job.stage,
                job.payload.to_string(),
                job.max_attempts.max(1),
                ms(now)
            ]
        }),
    )
}

/// Marks the job `lease` holds done with `result`; whether the lease held.
fn complete<D: Database>(
    db: &D,
    lease: &Lease,
    result: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut values = vec![Arg::from(result.to_string()), ms(now).into()];
    values.extend(held(lease));
    Ok(db.execute(
        &format!("UPDATE jobs SET status = 'done', result = ?, finished_at = ? WHERE {HELD}"),
        &values,
    )? == 1)
}

impl<D: Database> Jobs for SqlStore<D> {
    fn enqueue_jobs(
        &mut self,
        jobs: &[NewJob],
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>, StoreError> {
        let ids = enqueue(&self.db, jobs, now)?;
        self.db.committed();
        Ok(ids)
    }

    fn claim_job(
        &mut self,
        worker: &str,
        kinds: &[&str],
        lease: std::time::Duration,
        now: DateTime<Utc>,
    ) -> Result<Option<Lease>, StoreError> {
        let now_ms = ms(now);
        // A job whose attempts are spent and whose last lease passed fails
        // rather than being tried again.
        self.write(
            "UPDATE jobs SET status = 'failed', finished_at = ?1, \
             error = coalesce(error, 'its worker stopped answering on each attempt') \
             WHERE status = 'running' AND lease_until < ?1 AND attempts >= max_attempts",
            args![now_ms],
        )?;
        let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
        let mut values: Vec<Arg<'_>> = vec![worker.into(), ms(until).into(), now_ms.into()];
        let kind_filter = if kinds.is_empty() {
            String::new()
        } else {
            values.extend(kinds.iter().map(|k| Arg::from(*k)));
            format!(
                " AND j.kind IN ({})",
                (0..kinds.len())
                    .map(|i| format!("?{}", i + 4))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let claimed = first(
            &self.db,
            &format!(
                "UPDATE jobs SET status = 'running', owner = ?1, lease_until = ?2, attempts = attempts + 1, \
                 reclaims = reclaims + CASE WHEN status = 'running' THEN 1 ELSE 0 END \
                 WHERE id = (SELECT j.id FROM jobs j \
                   WHERE ((j.status = 'queued' AND j.not_before <= ?3) OR (j.status = 'running' AND j.lease_until < ?3)){kind_filter} \
                   AND NOT EXISTS (SELECT 1 FROM jobs e WHERE e.grp = j.grp AND e.stage < j.stage AND e.status IN ('queued', 'running')) \
                   ORDER BY j.id LIMIT 1{}) \
                 RETURNING id, kind, run_id, grp, payload, attempts, max_attempts, reclaims",
                D::DIALECT.skip_locked
            ),
            &values,
            |r| {
                Ok(Lease {
                    id: r.int(0)?,
                    kind: r.text(1)?,
                    run_id: r.opt_int(2)?,
                    group: r.text(3)?,
                    payload: json(r, 4, "job payload")?,
                    attempt: r.int(5)?,
                    max_attempts: r.int(6)?,
                    worker: worker.to_owned(),
                    until,
                    lease_lost_before: r.int(7)? > 0,
                })
            },
        )?;
        self.db.committed();
        Ok(claimed)
    }

    fn renew_lease(&mut self, lease: &Lease, until: DateTime<Utc>) -> Result<bool, StoreError> {
        let mut values = vec![Arg::from(ms(until))];
        values.extend(held(lease));
        Ok(self.write(
            &format!("UPDATE jobs SET lease_until = ? WHERE {HELD}"),
            &values,
        )? == 1)
    }

    fn complete_job(
        &mut self,
        lease: &Lease,
        result: &serde_json::Value,
        then: &[NewJob],
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let ledger = SqlLedger::begin(&self.db)?;
        if !complete(&self.db, lease, result, now)? {
            return Ok(false);
        }
        enqueue(&self.db, then, now)?;
        ledger.commit()?;
        Ok(true)
    }

    fn fail_job(
        &mut self,
        lease: &Lease,
        error: &str,
        retry_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut values = vec![Arg::from(ms(now)), error.into(), ms(retry_at).into()];
        values.extend(held(lease));
        Ok(self.write(
            &format!(
                "UPDATE jobs SET status = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END, \
                 finished_at = CASE WHEN attempts >= max_attempts THEN CAST(?1 AS BIGINT) ELSE NULL END, \
                 error = ?2, not_before = ?3, lease_until = NULL WHERE {HELD}"
            ),
            &values,
        )? == 1)
    }

    fn record_job_scan(
        &mut self,
        lease: &Lease,
        scan: &JobScan<'_>,
    ) -> Result<Option<ScanOutput>, StoreError> {
        self.kept.borrow_mut().clear();
        let mut ledger = SqlLedger::begin(&self.db)?;
        let result = serde_json::json!({"assets": scan.assets.len()});
        if !complete(&self.db, lease, &result, scan.finished_at)? {
            return Ok(None);
        }
        let scan_id = super::insert_scan(
            &self.db,
            scan.scope,
            scan.source,
            scan.provenance,
            scan.started_at,
        )?;
        let input = lifecycle::scan::ScanInput {
            scan_id,
            assets: scan.assets,
            evaluated: scan.evaluated,
            rules: scan.rules,
            errors: scan.errors,
            finished_at: scan.finished_at,
        };
        let output = lifecycle::scan::record(&mut ledger, &self.policy, &input)?;
        ledger.commit()?;
        Ok(Some(output))
    }

    fn group_jobs(&self, group: &str) -> Result<Vec<JobRecord>, StoreError> {
        rows(
            &self.db,
            &format!("SELECT {RECORD_COLUMNS} FROM jobs WHERE grp = ?1 ORDER BY id"),
            args![group],
            read_record,
        )
    }

    fn run_jobs(&self, run_id: i64) -> Result<Vec<JobRecord>, StoreError> {
        rows(
            &self.db,
            &format!("SELECT {RECORD_COLUMNS} FROM jobs WHERE id = ?1 OR run_id = ?1 ORDER BY id"),
            args![run_id],
            read_record,
        )
    }

    fn queue_counts(&self) -> Result<QueueCounts, StoreError> {
        Ok(QueueCounts {
            counts: rows(
                &self.db,
                "SELECT kind, status, count(*) FROM jobs GROUP BY kind, status ORDER BY kind, status",
                &[],
                |r| {
                    Ok((
                        r.text(0)?,
                        name_of::<JobStatus>(r, 1, "job status")?,
                        r.int(2)?,
                    ))
                },
            )?,
        })
    }
}
