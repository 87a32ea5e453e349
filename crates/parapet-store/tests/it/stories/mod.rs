//! The stories of the store: what every backend must record and answer
//! alike. Each is a function of the backend it runs on; `main.rs` runs
//! each on every backend.

/// Assets: versions, history, diffs, `--at`, deletions.
pub mod assets;
/// Findings: every lifecycle transition, events.
pub mod findings;
/// Incidents: grouping, resolving and reopening with their findings, by hand.
pub mod incidents;
/// The inventory, the overview and API tokens.
pub mod inventory;
/// The job queue: stages, leases, retries, recording with a job.
pub mod jobs;
/// Mutes: matching, lifting, expiry.
pub mod mutes;
/// The notification outbox: routing with the change, retries, failures.
pub mod outbox;
/// The continuous mode's schedule of whole collections.
pub mod resyncs;
/// Retention: old history pruned, what is current kept.
pub mod retention;
/// Browser sessions and logins in progress, shared by replicas.
pub mod sessions;
