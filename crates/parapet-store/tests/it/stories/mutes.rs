use crate::{Backend, at, bucket, evaluation, scan};
use chrono::Duration;
use parapet_core::{EventKind, MuteSelector, Status};
use parapet_store::Policy;
use parapet_store::roles::*;
use parapet_store::{EventQuery, FindingQuery};
use serde_json::json;

const RULE: &str = "aws-s3-bucket-versioning-enabled";

fn failing_estate(store: &mut dyn Store) {
    let prod = bucket("prod-data", json!({}), at(0));
    let dev = bucket("dev-data", json!({}), at(0));
    let evaluations = [
        evaluation(RULE, &prod, Status::Fail),
        evaluation(RULE, &dev, Status::Fail),
    ];
    scan(store, at(0), &[prod, dev], &evaluations, &[]);
}

fn visible(store: &dyn Store) -> Vec<String> {
    store
        .findings(&FindingQuery::default())
        .expect("findings")
        .into_iter()
        .map(|f| f.asset_id)
        .collect()
}

fn count(store: &dyn Store, kind: EventKind) -> usize {
    store
        .events(&EventQuery {
            kinds: vec![kind],
            ..Default::default()
        })
        .expect("events")
        .len()
}

pub fn a_mute_by_tag_hides_matching_findings_which_are_still_kept_and_evaluated(
    backend: &impl Backend,
) {
    let (_dir, mut store) = backend.open(Policy::default());
    failing_estate(&mut store);
    let selector = MuteSelector {
        tag: Some(("env".into(), "dev".into())),
        ..Default::default()
    };
    let (mute, muted) = store
        .add_mute(
            &selector,
            "dev buckets are scratch space",
            "alice",
            None,
            at(1),
        )
        .expect("mute");
    assert_eq!(muted, 1);
    assert_eq!(visible(&store), vec!["arn:aws:s3:::prod-data"]);
    let all = store
        .findings(&FindingQuery {
            include_muted: true,
            ..Default::default()
        })
        .expect("findings");
    assert_eq!(all.len(), 2);
    assert_eq!(
        all.iter()
            .find(|f| f.asset_id.contains("dev"))
            .expect("dev")
            .muted_by,
        Some(mute.id)
    );
    assert_eq!(count(&store, EventKind::FindingMuted), 1);
    // Evaluated again while muted: kept up to date, still hidden.
    let dev = bucket("dev-data", json!({}), at(2));
    let prod = bucket("prod-data", json!({}), at(2));
    let evaluations = [
        evaluation(RULE, &prod, Status::Fail),
        evaluation(RULE, &dev, Status::Fail),
    ];
    scan(&mut store, at(2), &[prod, dev], &evaluations, &[]);
    let dev_finding = store
        .finding(RULE, "arn:aws:s3:::dev-data")
        .expect("query")
        .expect("kept");
    assert_eq!(dev_finding.last_seen, at(2));
    assert_eq!(visible(&store).len(), 1);
    // Lifted: visible again, with an event.
    store.lift_mute(mute.id, at(3)).expect("lift");
    assert_eq!(visible(&store).len(), 2);
    assert_eq!(count(&store, EventKind::FindingUnmuted), 1);
}

pub fn expiry_unmutes_with_an_event(backend: &impl Backend) {
    let (_dir, mut store) = backend.open(Policy::default());
    failing_estate(&mut store);
    let selector = MuteSelector {
        rule_id: Some(RULE.into()),
        asset: Some("arn:aws:s3:::prod-*".into()),
        ..Default::default()
    };
    store
        .add_mute(
            &selector,
            "accepted until the migration",
            "bob",
            Some(at(1) + Duration::days(7)),
            at(1),
        )
        .expect("mute");
    assert_eq!(visible(&store), vec!["arn:aws:s3:::dev-data"]);
    assert!(
        store
            .expire_mutes(at(1) + Duration::days(6))
            .expect("expire")
            .is_empty()
    );
    let ended = store
        .expire_mutes(at(1) + Duration::days(8))
        .expect("expire");
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].lifted_at, Some(at(1) + Duration::days(7)));
    assert_eq!(visible(&store).len(), 2);
    let unmuted = store
        .events(&EventQuery {
            kinds: vec![EventKind::FindingUnmuted],
            ..Default::default()
        })
        .expect("events");
    assert_eq!(unmuted[0].event.detail["why"], "expired");
    assert!(store.mutes(false).expect("mutes").is_empty());
    assert_eq!(store.mutes(true).expect("mutes").len(), 1);
}

pub fn a_finding_opened_under_an_active_mute_is_muted_at_once(backend: &impl Backend) {
    let (_dir, mut store) = backend.open(Policy::default());
    let selector = MuteSelector {
        account: Some("111111111111".into()),
        ..Default::default()
    };
    store
        .add_mute(&selector, "sandbox account", "carol", None, at(0))
        .expect("mute");
    failing_estate(&mut store);
    assert!(visible(&store).is_empty());
}

pub fn a_mute_must_select_something_and_say_why(backend: &impl Backend) {
    let (_dir, mut store) = backend.open(Policy::default());
    assert!(
        store
            .add_mute(&MuteSelector::default(), "why", "a", None, at(0))
            .is_err()
    );
    let selector = MuteSelector {
        rule_id: Some(RULE.into()),
        ..Default::default()
    };
    assert!(store.add_mute(&selector, " ", "a", None, at(0)).is_err());
    assert!(
        store
            .add_mute(&selector, "why", "a", Some(at(-1)), at(0))
            .is_err()
    );
    assert!(store.lift_mute(42, at(0)).is_err());
}
