//! Parapet's model: the shapes every other part of Parapet speaks in. No I/O.
//!
//! # Layout
//!
//! - [`asset`]: an asset (one cloud component) with its configuration document,
//!   tags, relationships, what could not be collected, and its content hash.
//! - [`severity`]: how bad a failing rule is, from informational to critical.
//! - [`evaluation`]: the result of one rule on one asset (pass, fail, unknown,
//!   error) with the evidence that decided it.
//! - [`finding`]: the lasting record of a rule failing on an asset.
//! - [`event`]: the kinds of event on the timeline.
//! - [`scan`]: a collection's scope, its failures, and the record of a scan.
//! - [`mute`]: accepted risks that hide findings until lifted or expired.
//! - [`diff`]: field-level differences between two versions of a document.
//! - [`jsonl`]: the JSON Lines interchange format for assets.
//! - [`error`]: what can be wrong with an asset read from outside.

pub mod asset;
pub mod diff;
pub mod error;
pub mod evaluation;
pub mod event;
pub mod finding;
pub mod jsonl;
pub mod mute;
pub mod scan;
pub mod severity;

pub use asset::{Asset, ContentHash, Provider, Relationship, ResourceType};
pub use error::{AssetError, JsonlError};
pub use evaluation::{Evaluation, Status};
pub use event::{Event, EventKind};
pub use finding::{Finding, FindingStatus};
pub use mute::{Mute, MuteSelector, MuteTarget};
pub use scan::{CollectionError, ScanCounts, ScanRun, ScanStatus, Scope};
pub use severity::Severity;
