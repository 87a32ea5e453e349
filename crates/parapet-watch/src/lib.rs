//! Continuous mode (`parapet watch`): change events arrive from a provider's
//! queue and from an HTTP endpoint; each batch's resources are described
//! again with what depends on them, evaluated with rules compiled once, and
//! recorded before its messages are deleted or its requests answered; each
//! account is collected whole on a schedule; the outbox is sent as changes
//! are committed.
//!
//! # Layout
//!
//! - [`daemon`]: the loop, its batches and resyncs, and the notifier thread.
//! - [`endpoint`]: `/health`, `/metrics` and `/events`, on axum.
//! - [`metrics`]: what the daemon has done, for `/metrics`.
//! - [`log`]: one line per event, readable or JSON.

pub mod daemon;
pub mod endpoint;
pub mod log;
pub mod metrics;

pub use daemon::Daemon;
pub use log::{Log, LogFormat};

use std::time::Duration;
use thiserror::Error;

/// How the daemon runs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long to wait after a first message for others to join its batch.
    pub delay: Duration,
    /// How long a queue receive waits for messages, in seconds (0 to 20).
    pub wait: i32,
    /// The log's format.
    pub log: Log,
    /// The endpoint's address, if it serves one (port 0: any free port,
    /// which the `watching` log line names).
    pub listen: Option<String>,
    /// Where the API and the web UI are served beside the daemon, for the
    /// `watching` log line.
    pub serving: Option<String>,
    /// How often each account is collected whole; never when `None`.
    pub resync: Option<Duration>,
    /// The secret `/events` requests must prove; no `/events` without one.
    pub event_secret: Option<String>,
}

/// What stops the daemon from starting.
#[derive(Debug, Error)]
pub enum WatchError {
    /// The endpoint could not listen.
    #[error("cannot listen on {address}")]
    Listen {
        /// The address.
        address: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] parapet_store::StoreError),
}
