//! One run of Parapet, the same for `scan`, `scan --event`, the continuous
//! mode and workers: collect a provider's scope (or refresh what change
//! events touched), derive the facts rules read from the estate around each
//! asset, evaluate every rule with an engine compiled once, and record the
//! result, which hands finding changes to the outbox in the same
//! transaction.
//!
//! # Layout
//!
//! - [`run`]: the [`Pipeline`] and one [`Run`].
//! - `incremental`: only the rules whose inputs changed evaluated again,
//!   over the store.
//! - [`facts`]: exposure, vulnerabilities and permissions, derived from the
//!   estate.
//! - [`permissions`]: each principal's effective permissions, joined through
//!   its relationships.
//! - [`error`]: what can stop a run.

pub mod error;
pub mod facts;
mod incremental;
pub mod permissions;
pub mod run;

pub use error::PipelineError;
pub use run::{Clock, Done, Pipeline, Request, Run};
