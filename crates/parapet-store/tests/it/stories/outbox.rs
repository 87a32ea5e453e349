use crate::{Backend, at, bucket, evaluation, scan};
use parapet_core::{EventKind, MuteSelector, Status};
use parapet_store::Policy;
use parapet_store::roles::*;
use parapet_store::{FindingChange, OutboxStatus, Router};
use serde_json::json;
use std::sync::Arc;

const RULE: &str = "aws-s3-bucket-versioning-enabled";

/// Production buckets to `pager`, everything to `webhook`.
struct ByTag;

impl Router for ByTag {
    fn channels(&self, change: &FindingChange) -> Vec<String> {
        let mut channels = vec!["webhook".to_owned()];
        if change.tags.get("env").map(String::as_str) == Some("prod") {
            channels.push("pager".to_owned());
        }
        channels
    }
}

pub fn each_change_of_state_is_routed_once_in_the_scans_transaction(backend: &impl Backend) {
    let (_dir, mut store) = backend.open(Policy {
        router: Some(Arc::new(ByTag)),
        ..Policy::default()
    });
    let run = |store: &mut dyn Store, hour: i64, status: Status| {
        let prod = bucket("data", json!({}), at(hour));
        let dev = bucket("dev-data", json!({}), at(hour));
        let evaluations = [
            evaluation(RULE, &prod, status),
            evaluation(RULE, &dev, status),
        ];
        scan(store, at(hour), &[prod, dev], &evaluations, &[]);
    };
    run(&mut store, 0, Status::Fail);
    // Still failing: no new change, nothing more to send.
    run(&mut store, 1, Status::Fail);
    let outbox = store.notifications(None, 100).expect("outbox");
    assert!(
        outbox
            .iter()
            .all(|n| n.change.kind == EventKind::FindingOpened)
    );
    let mut sent: Vec<String> = outbox
        .iter()
        .map(|n| format!("{} {}", n.change.asset_name, n.channel))
        .collect();
    sent.sort();
    assert_eq!(sent, ["data pager", "data webhook", "dev-data webhook"]);
    let first = &outbox[0];
    assert_eq!(first.status, OutboxStatus::Pending);
    assert_eq!(
        first.idempotency_key,
        format!("parapet-{}-{}", first.event_id, first.channel)
    );
    assert_eq!(first.change.severity, parapet_core::Severity::High);
    assert_eq!(first.change.message, format!("{RULE} is fail"));

    // A muted finding's changes are not sent.
    store
        .add_mute(
            &MuteSelector {
                asset: Some("arn:aws:s3:::dev-*".into()),
                ..Default::default()
            },
            "sandbox",
            "test",
            None,
            at(2),
        )
        .expect("mute");
    run(&mut store, 3, Status::Pass);
    let resolved: Vec<String> = store
        .notifications(None, 100)
        .expect("outbox")
        .into_iter()
        .filter(|n| n.change.kind == EventKind::FindingResolved)
        .map(|n| format!("{} {}", n.change.asset_name, n.channel))
        .collect();
    assert_eq!(resolved, ["data pager", "data webhook"], "newest first");

    // Deleting an asset resolves its open findings, and says so.
    run(&mut store, 4, Status::Fail);
    scan(&mut store, at(5), &[], &[], &[]);
    let deleted = store.notifications(None, 2).expect("outbox");
    assert!(
        deleted
            .iter()
            .all(|n| n.change.kind == EventKind::FindingResolved
                && n.change.asset_name == "data"
                && n.change.region == "eu-west-1")
    );
}

pub fn delivery_attempts_retry_then_fail_and_stay_visible(backend: &impl Backend) {
    let (_dir, mut store) = backend.open(Policy {
        router: Some(Arc::new(ByTag)),
        ..Policy::default()
    });
    let prod = bucket("data", json!({}), at(0));
    let evaluations = [evaluation(RULE, &prod, Status::Fail)];
    scan(&mut store, at(0), &[prod], &evaluations, &[]);
    let due = store.due_notifications(at(0), 10).expect("due");
    assert_eq!(due.len(), 2);
    let (webhook, pager) = (&due[0], &due[1]);
    assert!(
        store.due_notifications(at(-1), 10).expect("due").is_empty(),
        "not yet due"
    );

    store
        .notification_delivered(webhook.id, at(1))
        .expect("delivered");
    store
        .notification_failed(pager.id, "503 from the receiver", Some(at(2)))
        .expect("retry");
    let due = store.due_notifications(at(1), 10).expect("due");
    assert!(due.is_empty(), "the retry is later: {due:?}");
    let due = store.due_notifications(at(2), 10).expect("due");
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].attempts, 1);
    assert_eq!(due[0].last_error.as_deref(), Some("503 from the receiver"));
    assert_eq!(due[0].idempotency_key, pager.idempotency_key);
    store
        .notification_failed(pager.id, "connection refused", None)
        .expect("failed");
    assert!(
        store
            .due_notifications(at(100), 10)
            .expect("due")
            .is_empty()
    );
    let failed = store
        .notifications(Some(OutboxStatus::Failed), 10)
        .expect("failed ones");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].attempts, 2);
    let delivered = store
        .notifications(Some(OutboxStatus::Delivered), 10)
        .expect("delivered ones");
    assert_eq!(delivered[0].delivered_at, Some(at(1)));
}

pub fn without_a_router_nothing_is_queued(backend: &impl Backend) {
    let (_dir, mut store) = backend.open(Policy::default());
    let prod = bucket("data", json!({}), at(0));
    let evaluations = [evaluation(RULE, &prod, Status::Fail)];
    scan(&mut store, at(0), &[prod], &evaluations, &[]);
    assert!(store.notifications(None, 10).expect("outbox").is_empty());
}
