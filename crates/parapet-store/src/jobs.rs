//! Units of work spread over workers: what a job is, the lease a worker
//! holds on one, and the queue's counts. Jobs of one group run stage after
//! stage (a record step after the collections it records); a job is claimed
//! under a lease that its worker renews, and a job whose worker died is
//! claimed again once its lease has passed. A job is done only by the
//! worker that holds its lease, in the transaction that writes its results,
//! so that a job done twice changes nothing twice.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A job to queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewJob {
    /// What kind of work: its handler's name (`plan`, `collect`, `record`).
    pub kind: String,
    /// The run it belongs to, if any: the id of the job that planned it.
    pub run_id: Option<i64>,
    /// Jobs of one group run stage after stage: a job is claimed only when
    /// no job of its group with a lower stage is queued or running.
    pub group: String,
    /// Its stage in its group.
    pub stage: i64,
    /// What the handler needs, as JSON.
    pub payload: serde_json::Value,
    /// How many times it may be tried before it fails for good.
    pub max_attempts: i64,
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Waiting for a worker (or for its group's earlier stages).
    Queued,
    /// Claimed by a worker whose lease has not passed (or has, and no other
    /// worker has claimed it again yet).
    Running,
    /// Done, its results recorded.
    Done,
    /// Tried as many times as it may be, and failed.
    Failed,
}

impl JobStatus {
    /// The lowercase name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
        }
    }
}

/// A job claimed by a worker: the job, and the lease that lets the worker
/// renew, complete or fail it. The lease is the worker's name and the
/// attempt's number: once another worker claims the job again, the first
/// one's lease no longer holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lease {
    /// The job's number.
    pub id: i64,
    /// Its kind.
    pub kind: String,
    /// Its run.
    pub run_id: Option<i64>,
    /// Its group.
    pub group: String,
    /// What its handler needs.
    pub payload: serde_json::Value,
    /// The attempt this is, from 1.
    pub attempt: i64,
    /// How many attempts it may have.
    pub max_attempts: i64,
    /// The worker holding it.
    pub worker: String,
    /// Until when, unless renewed.
    pub until: DateTime<Utc>,
    /// Whether an earlier attempt's lease passed without the job being
    /// done or failed: its worker died or lost touch.
    pub lease_lost_before: bool,
}

/// A job as it stands, for listings and for the step that gathers a group's
/// results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    /// Its number.
    pub id: i64,
    /// Its kind.
    pub kind: String,
    /// Its run.
    pub run_id: Option<i64>,
    /// Its group.
    pub group: String,
    /// Its stage.
    pub stage: i64,
    /// What its handler needs.
    pub payload: serde_json::Value,
    /// Where it stands.
    pub status: JobStatus,
    /// Attempts made.
    pub attempts: i64,
    /// The worker that holds or last held it.
    pub worker: Option<String>,
    /// What it produced, once done.
    pub result: Option<serde_json::Value>,
    /// Why its last failed attempt failed (kept once it is done).
    pub error: Option<String>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When it was done or failed for good.
    pub finished_at: Option<DateTime<Utc>>,
}

/// The queue's jobs counted by kind and status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueCounts {
    /// (kind, status, how many).
    pub counts: Vec<(String, JobStatus, i64)>,
}

impl QueueCounts {
    /// How many jobs of any kind have `status`.
    pub fn with_status(&self, status: JobStatus) -> i64 {
        self.counts
            .iter()
            .filter(|(_, s, _)| *s == status)
            .map(|(_, _, n)| n)
            .sum()
    }
}
