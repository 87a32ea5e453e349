//! Workers: processes that share the job queue the store keeps and do its
//! units of work, on any number of machines at once. A collection is queued
//! as one plan; the worker that claims it lists the accounts and regions and
//! queues one unit per account, region and service, and one record step
//! per account that waits for that account's units. A unit is claimed
//! under a lease its worker renews while it works; a unit whose worker died
//! is claimed again once the lease has passed, and a worker that lost its
//! lease cannot finish the unit. A record step evaluates the account's part
//! and records it in the transaction that marks the step done, so that a
//! step done twice records once.
//!
//! # Layout
//!
//! - this module: the [`Worker`] loop, leases and their renewal, counters.
//! - [`work`]: what each kind of job does, and queueing a collection.
//! - [`endpoint`]: `/health` and `/metrics`.

pub mod endpoint;
pub mod work;

use chrono::Utc;
use parapet_pipeline::Pipeline;
use parapet_provider::Provider;
use parapet_store::{JobStatus, Lease, Store, StoreError};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

pub use work::{ProviderSpec, enqueue_collection};

/// What can stop a worker (a job that fails does not: it is tried again).
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The store could not be reached or answered.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Opens a store on the shared database: each worker thread, and each
/// lease's renewal, holds its own connection.
pub type OpenStore = dyn Fn() -> Result<Box<dyn Store>, StoreError> + Send + Sync;

/// Makes the provider a job names.
pub type MakeProvider = dyn Fn(&ProviderSpec) -> Result<Box<dyn Provider>, String> + Send + Sync;

/// How a worker works.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Its name in the queue: which worker holds which job.
    pub name: String,
    /// How long a claim holds before another worker may take the job; the
    /// worker renews it every third of that while it works.
    pub lease: Duration,
    /// How long to wait before asking again when no job is ready.
    pub poll: Duration,
    /// Stop once no job is queued or running (rather than wait for more).
    pub until_idle: bool,
    /// The kinds of job it takes (every kind when empty).
    pub kinds: Vec<String>,
}

/// What a worker has done, for its metrics.
#[derive(Debug, Default)]
pub struct Counters {
    /// Jobs claimed.
    pub claimed: AtomicU64,
    /// Jobs done.
    pub done: AtomicU64,
    /// Attempts that failed (tried again later, or failed for good).
    pub failed: AtomicU64,
    /// Jobs whose lease this worker lost before finishing them.
    pub lease_losses: AtomicU64,
    /// Jobs this worker claimed after another worker's lease on them had
    /// passed.
    pub reclaimed: AtomicU64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// A worker: claims jobs and does them until told to stop (or, with
/// `until_idle`, until the queue is empty).
pub struct Worker<'a> {
    /// The rules, compiled once, that record steps evaluate.
    pub pipeline: &'a Pipeline,
    /// Makes the provider of a job.
    pub providers: &'a MakeProvider,
    /// Opens a store on the shared database.
    pub open: &'a OpenStore,
    /// How it works.
    pub settings: Settings,
    /// Set to stop after the job in hand.
    pub stop: &'a AtomicBool,
    /// What it has done.
    pub counters: &'a Counters,
}

/// How an attempt ended.
pub(crate) enum Outcome {
    /// Done and recorded with the lease held.
    Done,
    /// The lease passed to another worker before the attempt finished.
    LeaseLost,
}

impl Worker<'_> {
    /// Claims and does jobs until told to stop, or until the queue is idle
    /// when `until_idle`.
    pub fn run(&self) -> Result<(), WorkerError> {
        let mut store = (self.open)()?;
        let kinds: Vec<&str> = self.settings.kinds.iter().map(String::as_str).collect();
        while !self.stop.load(Ordering::Relaxed) {
            let claimed =
                store.claim_job(&self.settings.name, &kinds, self.settings.lease, Utc::now())?;
            let Some(lease) = claimed else {
                if self.settings.until_idle {
                    let counts = store.queue_counts()?;
                    if counts.with_status(JobStatus::Queued)
                        + counts.with_status(JobStatus::Running)
                        == 0
                    {
                        return Ok(());
                    }
                }
                std::thread::sleep(self.settings.poll);
                continue;
            };
            Counters::add(&self.counters.claimed);
            if lease.lease_lost_before {
                Counters::add(&self.counters.reclaimed);
            }
            self.attempt(store.as_mut(), &lease)?;
        }
        Ok(())
    }

    /// Does one job while a second connection renews its lease.
    fn attempt(&self, store: &mut dyn Store, lease: &Lease) -> Result<(), WorkerError> {
        let (finished, wait) = mpsc::channel::<()>();
        let lost = AtomicBool::new(false);
        let outcome = std::thread::scope(|scope| {
            let lost = &lost;
            scope.spawn(move || self.renew(lease, &wait, lost));
            let outcome = work::perform(self, store, lease);
            drop(finished);
            outcome
        });
        let held = match outcome {
            Ok(Outcome::Done) => {
                Counters::add(&self.counters.done);
                true
            }
            Ok(Outcome::LeaseLost) => false,
            Err(why) => {
                let backoff = Duration::from_secs(5 * (lease.attempt.clamp(1, 12) as u64).pow(2));
                let now = Utc::now();
                let retry_at = now + chrono::Duration::from_std(backoff).unwrap_or_default();
                let recorded = store.fail_job(lease, &why, retry_at, now);
                // Counted once the queue says so, so that the metrics never
                // show a failure whose job still reads as running.
                Counters::add(&self.counters.failed);
                recorded?
            }
        };
        if !held || lost.load(Ordering::Relaxed) {
            Counters::add(&self.counters.lease_losses);
        }
        Ok(())
    }

    /// Renews `lease` every third of its length until `finished` closes;
    /// sets `lost` when it no longer holds.
    fn renew(&self, lease: &Lease, finished: &mpsc::Receiver<()>, lost: &AtomicBool) {
        let every = self.settings.lease / 3;
        let Ok(mut store) = (self.open)() else {
            return;
        };
        while let Err(mpsc::RecvTimeoutError::Timeout) = finished.recv_timeout(every) {
            let until =
                Utc::now() + chrono::Duration::from_std(self.settings.lease).unwrap_or_default();
            match store.renew_lease(lease, until) {
                Ok(true) => {}
                Ok(false) => {
                    lost.store(true, Ordering::Relaxed);
                    return;
                }
                // The database is away for a moment: the lease may still
                // hold at the next try.
                Err(_) => {}
            }
        }
    }
}
