//! What each kind of job does: `plan` lists a collection's units and queues
//! them with one record step per account; `collect` collects one unit and
//! keeps its output with the job; `record` assembles one account's part
//! from its units' outputs (a unit that failed for good leaves its place
//! unknown, never deleted), evaluates it and records it with the job.

use crate::{Outcome, Worker};
use chrono::{DateTime, Utc};
use parapet_core::error::chain as error_chain;
use parapet_provider::{AccountUnits, Narrowing, Part, Unit, UnitOutput};
use parapet_store::{JobStatus, Lease, NewJob, Store, StoreError};
use serde::{Deserialize, Serialize};

/// The provider a job collects from: its kind (`aws`) and options, which
/// hold no credential (each worker has its own).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderSpec {
    /// The provider: `aws`.
    pub provider: String,
    /// Its options, as the provider reads them.
    pub options: serde_json::Value,
}

/// How many times a unit is tried before it fails for good.
const ATTEMPTS: i64 = 3;

#[derive(Serialize, Deserialize)]
struct PlanJob {
    provider: ProviderSpec,
    narrowing: Option<NarrowingSpec>,
}

/// A narrowing, as jobs carry it.
#[derive(Serialize, Deserialize)]
struct NarrowingSpec {
    accounts: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct CollectJob {
    provider: ProviderSpec,
    unit: Unit,
}

#[derive(Serialize, Deserialize)]
struct RecordJob {
    provider: ProviderSpec,
    account: AccountUnits,
    partial: bool,
    /// When the run was planned: the scan's start.
    started_at: DateTime<Utc>,
}

#[derive(Serialize, Deserialize)]
struct UnreachableJob {
    provider: ProviderSpec,
    part: Part,
    started_at: DateTime<Utc>,
}

/// Queues a collection of `provider` (only `accounts` when given) as one
/// plan; returns the run's number (the plan's), which every job it leads
/// to carries.
pub fn enqueue_collection(
    store: &mut dyn Store,
    provider: &ProviderSpec,
    accounts: Option<Vec<String>>,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let plan = PlanJob {
        provider: provider.clone(),
        narrowing: accounts.map(|accounts| NarrowingSpec { accounts }),
    };
    let ids = store.enqueue_jobs(
        &[NewJob {
            kind: "plan".into(),
            run_id: None,
            group: format!("plan/{}", now.timestamp_nanos_opt().unwrap_or_default()),
            stage: 0,
            payload: serde_json::to_value(&plan).unwrap_or_default(),
            max_attempts: ATTEMPTS,
        }],
        now,
    )?;
    ids.first()
        .copied()
        .ok_or_else(|| StoreError::Invalid("the plan was not queued".into()))
}

fn payload<T: for<'de> Deserialize<'de>>(lease: &Lease) -> Result<T, String> {
    serde_json::from_value(lease.payload.clone()).map_err(|e| {
        format!(
            "job {} ({}): its payload is not valid: {e}",
            lease.id, lease.kind
        )
    })
}

/// Does the job `lease` holds.
pub(crate) fn perform(
    worker: &Worker<'_>,
    store: &mut dyn Store,
    lease: &Lease,
) -> Result<Outcome, String> {
    let held = match lease.kind.as_str() {
        "plan" => plan(worker, store, lease)?,
        "collect" => collect(worker, store, lease)?,
        "record" => record(worker, store, lease)?,
        "unreachable" => unreachable(worker, store, lease)?,
        other => return Err(format!("job {}: no worker does `{other}` jobs", lease.id)),
    };
    Ok(if held {
        Outcome::Done
    } else {
        Outcome::LeaseLost
    })
}

fn provider(
    worker: &Worker<'_>,
    spec: &ProviderSpec,
) -> Result<Box<dyn parapet_provider::Provider>, String> {
    (worker.providers)(spec)
}

fn stored<T>(result: Result<T, StoreError>) -> Result<T, String> {
    result.map_err(|e| e.to_string())
}

/// Lists the units and queues them, with one record step per account.
fn plan(worker: &Worker<'_>, store: &mut dyn Store, lease: &Lease) -> Result<bool, String> {
    let job: PlanJob = payload(lease)?;
    let provider = provider(worker, &job.provider)?;
    let narrowing = job
        .narrowing
        .map(|n| Narrowing::accounts(n.accounts.into_iter().collect()));
    let plan = provider
        .plan_units(narrowing.as_ref())
        .map_err(|e| error_chain(&e))?;
    let started_at = Utc::now();
    let run = lease.id;
    let mut jobs = Vec::new();
    let mut units = 0;
    for account in &plan.accounts {
        let group = format!("run/{run}/{}", account.account);
        for unit in &account.units {
            units += 1;
            jobs.push(NewJob {
                kind: "collect".into(),
                run_id: Some(run),
                group: group.clone(),
                stage: 0,
                payload: to_json(&CollectJob {
                    provider: job.provider.clone(),
                    unit: unit.clone(),
                })?,
                max_attempts: ATTEMPTS,
            });
        }
        jobs.push(NewJob {
            kind: "record".into(),
            run_id: Some(run),
            group,
            stage: 1,
            payload: to_json(&RecordJob {
                provider: job.provider.clone(),
                account: account.clone(),
                partial: plan.partial,
                started_at,
            })?,
            max_attempts: ATTEMPTS,
        });
    }
    for part in &plan.unreachable {
        let account = part.scope.accounts.join(",");
        jobs.push(NewJob {
            kind: "unreachable".into(),
            run_id: Some(run),
            group: format!("run/{run}/{account}"),
            stage: 1,
            payload: to_json(&UnreachableJob {
                provider: job.provider.clone(),
                part: part.clone(),
                started_at,
            })?,
            max_attempts: ATTEMPTS,
        });
    }
    let result = serde_json::json!({
        "accounts": plan.accounts.len(),
        "unreachable": plan.unreachable.len(),
        "units": units,
    });
    stored(store.complete_job(lease, &result, &jobs, Utc::now()))
}

/// Collects one unit and keeps its output with the job.
fn collect(worker: &Worker<'_>, store: &mut dyn Store, lease: &Lease) -> Result<bool, String> {
    let job: CollectJob = payload(lease)?;
    let provider = provider(worker, &job.provider)?;
    let output = provider
        .collect_unit(&job.unit)
        .map_err(|e| format!("{}: {}", job.unit.label, error_chain(&e)))?;
    stored(store.complete_job(lease, &to_json(&output)?, &[], Utc::now()))
}

/// Assembles one account's part from its units' outputs, evaluates it and
/// records it with the job.
fn record(worker: &Worker<'_>, store: &mut dyn Store, lease: &Lease) -> Result<bool, String> {
    let job: RecordJob = payload(lease)?;
    let provider = provider(worker, &job.provider)?;
    let mut outputs: Vec<(Unit, Result<UnitOutput, String>)> = Vec::new();
    for done in stored(store.group_jobs(&lease.group))?
        .into_iter()
        .filter(|j| j.kind == "collect")
    {
        let unit: CollectJob = serde_json::from_value(done.payload)
            .map_err(|e| format!("job {}: its payload is not valid: {e}", done.id))?;
        let output = match (done.status, done.result) {
            (JobStatus::Done, Some(result)) => serde_json::from_value(result)
                .map_err(|e| format!("job {}: its output is not valid: {e}", done.id)),
            _ => Err(format!(
                "{} was not collected: {}",
                unit.unit.label,
                done.error.as_deref().unwrap_or("its attempts ran out")
            )),
        };
        outputs.push((unit.unit, output));
    }
    let part = provider.assemble(&job.account, &outputs);
    let recorded = worker
        .pipeline
        .record_part(
            provider.as_ref(),
            &part,
            job.partial,
            job.started_at,
            store,
            lease,
        )
        .map_err(|e| error_chain(&e))?;
    Ok(recorded.is_some())
}

/// Records the part of an account that could not be reached: its error
/// alone, so that its rules report unknown and nothing of it is deleted.
fn unreachable(worker: &Worker<'_>, store: &mut dyn Store, lease: &Lease) -> Result<bool, String> {
    let job: UnreachableJob = payload(lease)?;
    let provider = provider(worker, &job.provider)?;
    let recorded = worker
        .pipeline
        .record_part(
            provider.as_ref(),
            &job.part,
            true,
            job.started_at,
            store,
            lease,
        )
        .map_err(|e| error_chain(&e))?;
    Ok(recorded.is_some())
}

fn to_json<T: Serialize>(value: &T) -> Result<serde_json::Value, String> {
    serde_json::to_value(value).map_err(|e| e.to_string())
}
