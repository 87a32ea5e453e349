//! Events on the timeline of an asset or account.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[cfg(test)]
mod tests {
    use super::EventKind;

    #[test]
    fn names_match_the_serialised_form() {
        for kind in [
            EventKind::AssetCreated,
            EventKind::AssetChanged,
            EventKind::AssetDeleted,
            EventKind::FindingOpened,
            EventKind::FindingResolved,
            EventKind::FindingReopened,
            EventKind::FindingMuted,
            EventKind::FindingUnmuted,
            EventKind::IncidentAcknowledged,
            EventKind::IncidentResolved,
        ] {
            assert_eq!(
                serde_json::to_value(kind).expect("serialises"),
                kind.as_str()
            );
        }
    }
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// An asset was seen for the first time.
    AssetCreated,
    /// An asset's content hash changed.
    AssetChanged,
    /// An asset was absent from a complete collection of its scope.
    AssetDeleted,
    /// A rule failed on an asset for the first time.
    FindingOpened,
    /// A failing rule passed.
    FindingResolved,
    /// A resolved finding failed again.
    FindingReopened,
    /// A finding was muted.
    FindingMuted,
    /// A mute was lifted or expired.
    FindingUnmuted,
    /// Someone took the incident a finding belongs to (the event names one
    /// of its findings; its detail, the incident and the owner).
    IncidentAcknowledged,
    /// Someone resolved by hand the incident a finding belongs to.
    IncidentResolved,
}

impl EventKind {
    /// The snake_case name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::AssetCreated => "asset_created",
            EventKind::AssetChanged => "asset_changed",
            EventKind::AssetDeleted => "asset_deleted",
            EventKind::FindingOpened => "finding_opened",
            EventKind::FindingResolved => "finding_resolved",
            EventKind::FindingReopened => "finding_reopened",
            EventKind::FindingMuted => "finding_muted",
            EventKind::FindingUnmuted => "finding_unmuted",
            EventKind::IncidentAcknowledged => "incident_acknowledged",
            EventKind::IncidentResolved => "incident_resolved",
        }
    }
}

/// One entry on the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// When it happened (or was observed).
    pub at: DateTime<Utc>,
    /// What happened.
    pub kind: EventKind,
    /// The asset concerned.
    pub asset_id: String,
    /// The account the asset lives in.
    pub account: String,
    /// The rule concerned, for finding events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_id: Option<String>,
    /// Kind-specific detail, such as the changed paths of `asset_changed`.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub detail: serde_json::Value,
}
