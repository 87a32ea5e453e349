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
//! - [`facts`]: what rules know of an asset from the estate around it:
//!   its internet exposure and its known vulnerabilities.
//! - [`vulnerability`]: known vulnerabilities a scan attached to an asset.
//! - [`error`]: what can be wrong with an asset read from outside.

pub mod asset;
pub mod diff;
pub mod error;
pub mod evaluation;
pub mod event;
pub mod facts;
pub mod finding;
pub mod jsonl;
pub mod mute;
pub mod scan;
pub mod secret;
pub mod severity;
pub mod vulnerability;

pub use asset::{Asset, ContentHash, Provider, Relationship, ResourceType};
pub use error::{AssetError, JsonlError};
pub use evaluation::{Evaluation, Evidence, Status};
pub use event::{Event, EventKind};
pub use facts::{
    ExposureFact, ExposureFacts, PermissionFacts, Permissions, VulnerabilityFact,
    VulnerabilityFacts,
};
pub use finding::{Finding, FindingStatus};
pub use mute::{Mute, MuteSelector, MuteTarget};
pub use scan::{CollectionError, Provenance, ScanCounts, ScanRun, ScanStatus, Scope};
pub use secret::{Secret, SecretError};
pub use severity::Severity;
pub use vulnerability::{Vulnerability, VulnerabilityScan};

/// Reads one of the model's enums (`open`, `asset_created`, `fail`, ...)
/// from the name it is written with, as stored and typed on the command line.
pub fn parse_name<T: serde::de::DeserializeOwned>(name: &str) -> Option<T> {
    use serde::de::IntoDeserializer;
    let deserializer: serde::de::value::StrDeserializer<'_, serde::de::value::Error> =
        name.into_deserializer();
    T::deserialize(deserializer).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back_into_enums() {
        assert_eq!(
            parse_name::<EventKind>("finding_reopened"),
            Some(EventKind::FindingReopened)
        );
        assert_eq!(
            parse_name::<FindingStatus>("resolved"),
            Some(FindingStatus::Resolved)
        );
        assert_eq!(parse_name::<Status>("unknown"), Some(Status::Unknown));
        assert_eq!(parse_name::<EventKind>("finding_closed"), None);
    }
}
