//! The pure decisions of the lifecycle, one asset or one finding at a time:
//! no store, no clock.

use super::{KnownAsset, PreviousFinding};
use chrono::{DateTime, Utc};
use parapet_core::{CollectionError, EventKind, FindingStatus, Scope, Status};

/// What a scan's sighting of an asset means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssetStep {
    /// Never seen before: version 1.
    New,
    /// Seen again, unchanged and not deleted.
    Seen,
    /// Changed, or seen again after a deletion, or both.
    Updated {
        /// Its version now.
        version: i64,
        /// The version before, when the content changed.
        previous: Option<i64>,
        /// Whether it had been deleted.
        recreated: bool,
    },
}

impl AssetStep {
    /// The event the sighting puts on the timeline, with its detail; none
    /// when nothing changed.
    pub fn event(self) -> Option<(EventKind, serde_json::Value)> {
        match self {
            AssetStep::New => Some((EventKind::AssetCreated, serde_json::json!({"version": 1}))),
            AssetStep::Seen => None,
            AssetStep::Updated {
                version,
                previous,
                recreated,
            } => {
                let mut detail = serde_json::json!({"version": version});
                if let Some(previous) = previous {
                    // The changed paths are computed from the two versions
                    // when the event is read, which keeps scans fast.
                    detail["previous_version"] = previous.into();
                }
                if recreated {
                    detail["recreated"] = true.into();
                    Some((EventKind::AssetCreated, detail))
                } else {
                    Some((EventKind::AssetChanged, detail))
                }
            }
        }
    }
}

/// What a sighting of an asset whose content hashes to `hash` means, given
/// what the store knew of it.
pub fn asset_step(known: Option<&KnownAsset>, hash: &str) -> AssetStep {
    match known {
        None => AssetStep::New,
        Some(k) if k.deleted_at.is_none() && k.content_hash == hash => AssetStep::Seen,
        Some(k) => {
            let changed = k.content_hash != hash;
            AssetStep::Updated {
                version: if changed { k.version + 1 } else { k.version },
                previous: changed.then_some(k.version),
                recreated: k.deleted_at.is_some(),
            }
        }
    }
}

/// Whether a known asset that a scan did not see has been deleted: it
/// existed, lies in the scope the scan covered whole, and no collection
/// error covers the part it lives in.
pub fn is_deleted(id: &str, known: &KnownAsset, scope: &Scope, errors: &[CollectionError]) -> bool {
    known.deleted_at.is_none()
        && scope.contains_parts(
            scope.provider,
            &known.account,
            &known.region,
            &known.resource_type,
            id,
        )
        && !errors
            .iter()
            .any(|e| e.covers(&known.account, &known.region, &known.resource_type))
}

/// A finding after one evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FindingStep {
    /// Where its lifecycle stands; `None` while it has never failed.
    pub status: Option<FindingStatus>,
    /// When it first failed.
    pub first_seen: Option<DateTime<Utc>>,
    /// When it last resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// The mute in force.
    pub muted_by: Option<i64>,
    /// The change of state, when there is one.
    pub change: Option<EventKind>,
}

/// The transition an evaluation makes: a first failure opens a finding, a
/// pass resolves an open one, a failure reopens a resolved one; unknown and
/// error results change nothing.
pub fn transition(
    previous: Option<FindingStatus>,
    result: Status,
) -> Option<(FindingStatus, EventKind)> {
    match (previous, result) {
        (None, Status::Fail) => Some((FindingStatus::Open, EventKind::FindingOpened)),
        (Some(FindingStatus::Open | FindingStatus::Reopened), Status::Pass) => {
            Some((FindingStatus::Resolved, EventKind::FindingResolved))
        }
        (Some(FindingStatus::Resolved), Status::Fail) => {
            Some((FindingStatus::Reopened, EventKind::FindingReopened))
        }
        _ => None,
    }
}

/// A finding after an evaluation with `result` at `now`. A change of state
/// of a finding no mute covers yet asks `mute` for an active mute that
/// covers it.
pub fn finding_step(
    previous: Option<&PreviousFinding>,
    result: Status,
    now: DateTime<Utc>,
    mute: impl FnOnce() -> Option<i64>,
) -> FindingStep {
    let mut step = FindingStep {
        status: previous.map(|p| p.status),
        first_seen: previous.and_then(|p| p.first_seen),
        resolved_at: previous.and_then(|p| p.resolved_at),
        muted_by: previous.and_then(|p| p.muted_by),
        change: None,
    };
    let Some((status, kind)) = transition(step.status, result) else {
        return step;
    };
    match status {
        FindingStatus::Open => step.first_seen = Some(now),
        FindingStatus::Reopened => step.resolved_at = None,
        FindingStatus::Resolved => step.resolved_at = Some(now),
    }
    if step.muted_by.is_none() {
        step.muted_by = mute();
    }
    step.status = Some(status);
    step.change = Some(kind);
    step
}

#[cfg(test)]
mod tests {
    use super::*;
    use parapet_core::Provider;

    fn known(hash: &str, deleted: bool) -> KnownAsset {
        KnownAsset {
            content_hash: hash.to_owned(),
            version: 3,
            deleted_at: deleted.then(Utc::now),
            account: "1".into(),
            region: "eu-west-1".into(),
            resource_type: "AWS::S3::Bucket".into(),
            evaluated: None,
        }
    }

    #[test]
    fn sightings_create_touch_change_and_recreate() {
        assert_eq!(asset_step(None, "a"), AssetStep::New);
        assert_eq!(asset_step(Some(&known("a", false)), "a"), AssetStep::Seen);
        let changed = asset_step(Some(&known("a", false)), "b");
        assert_eq!(
            changed,
            AssetStep::Updated {
                version: 4,
                previous: Some(3),
                recreated: false
            }
        );
        assert_eq!(
            changed.event(),
            Some((
                EventKind::AssetChanged,
                serde_json::json!({"version": 4, "previous_version": 3})
            ))
        );
        let back = asset_step(Some(&known("a", true)), "a");
        assert_eq!(
            back.event(),
            Some((
                EventKind::AssetCreated,
                serde_json::json!({"version": 3, "recreated": true})
            ))
        );
    }

    #[test]
    fn unseen_assets_are_deleted_only_inside_the_scope_and_outside_errors() {
        let scope = Scope {
            provider: Provider::Aws,
            accounts: vec!["1".to_owned()],
            regions: Some(vec!["eu-west-1".to_owned()]),
            resource_types: None,
            assets: Default::default(),
        };
        let k = known("a", false);
        assert!(is_deleted("arn:b", &k, &scope, &[]));
        assert!(!is_deleted("arn:b", &known("a", true), &scope, &[]));
        let elsewhere = KnownAsset {
            region: "us-east-1".into(),
            ..k.clone()
        };
        assert!(!is_deleted("arn:b", &elsewhere, &scope, &[]));
        let denied = CollectionError {
            account: Some("1".to_owned()),
            region: None,
            resource_type: Some("AWS::S3::Bucket".to_owned()),
            message: "AccessDenied".to_owned(),
        };
        assert!(!is_deleted("arn:b", &k, &scope, &[denied]));
    }

    #[test]
    fn every_transition_of_a_finding() {
        use FindingStatus::{Open, Reopened, Resolved};
        use Status::{Error, Fail, Pass, Unknown};
        assert_eq!(transition(None, Pass), None);
        assert_eq!(transition(None, Unknown), None);
        assert_eq!(
            transition(None, Fail),
            Some((Open, EventKind::FindingOpened))
        );
        assert_eq!(transition(Some(Open), Fail), None);
        assert_eq!(
            transition(Some(Open), Pass),
            Some((Resolved, EventKind::FindingResolved))
        );
        assert_eq!(
            transition(Some(Reopened), Pass),
            Some((Resolved, EventKind::FindingResolved))
        );
        assert_eq!(
            transition(Some(Resolved), Fail),
            Some((Reopened, EventKind::FindingReopened))
        );
        assert_eq!(transition(Some(Resolved), Pass), None);
        assert_eq!(transition(Some(Open), Error), None);
        assert_eq!(transition(Some(Resolved), Unknown), None);
    }

    #[test]
    fn a_step_keeps_the_lifecycle_and_asks_for_a_mute_only_on_a_change() {
        let t0 = Utc::now();
        let t1 = t0 + chrono::Duration::hours(1);
        let opened = finding_step(None, Status::Fail, t0, || Some(7));
        assert_eq!(opened.status, Some(FindingStatus::Open));
        assert_eq!(opened.first_seen, Some(t0));
        assert_eq!(opened.muted_by, Some(7));
        assert_eq!(opened.change, Some(EventKind::FindingOpened));
        let previous = PreviousFinding {
            status: FindingStatus::Open,
            first_seen: Some(t0),
            resolved_at: None,
            muted_by: None,
        };
        let still = finding_step(Some(&previous), Status::Fail, t1, || {
            panic!("no change: no mute asked")
        });
        assert_eq!(still.change, None);
        assert_eq!(still.first_seen, Some(t0));
        let resolved = finding_step(Some(&previous), Status::Pass, t1, || None);
        assert_eq!(resolved.status, Some(FindingStatus::Resolved));
        assert_eq!(resolved.resolved_at, Some(t1));
        assert_eq!(resolved.first_seen, Some(t0));
        let reopened = finding_step(
            Some(&PreviousFinding {
                status: FindingStatus::Resolved,
                resolved_at: Some(t1),
                muted_by: Some(2),
                ..previous
            }),
            Status::Fail,
            t1,
            || panic!("already muted"),
        );
        assert_eq!(reopened.status, Some(FindingStatus::Reopened));
        assert_eq!(reopened.resolved_at, None);
        assert_eq!(reopened.muted_by, Some(2));
    }
}
