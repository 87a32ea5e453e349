use super::Receiver;
use chrono::Utc;
use parapet_core::{Asset, Evaluation, Provider, Scope, Severity, Status};
use parapet_notify::{Notifier, NotifyConfig, Routes};
use parapet_store::{IncidentPolicy, Outbox, OutboxStatus, Policy, Scans, SqliteStore};
use std::collections::BTreeMap;
use std::sync::Arc;

const RULE: &str = "aws-s3-bucket-policy-not-public";

pub fn bucket(name: &str) -> Asset {
    serde_json::from_value(serde_json::json!({
        "id": format!("arn:aws:s3:::{name}"), "provider": "aws", "account": "111111111111",
        "region": "eu-west-1", "resource_type": "AWS::S3::Bucket", "name": name,
        "tags": {"env": "prod"}, "config": {}, "observed_at": Utc::now().to_rfc3339(),
    }))
    .expect("an asset")
}

/// Records one scan of `assets`, each failing or passing the rule.
pub fn scan(store: &mut SqliteStore, assets: &[(Asset, Status)]) {
    let scope = Scope::whole(Provider::Aws, vec!["111111111111".into()]);
    let id = store
        .begin_scan(
            &scope,
            "test",
            &parapet_core::Provenance::new("test", "test"),
            Utc::now(),
        )
        .expect("begin");
    let evaluations: Vec<Evaluation> = assets
        .iter()
        .map(|(a, status)| Evaluation {
            rule_id: RULE.into(),
            asset_id: a.id.as_str().into(),
            status: *status,
            message: "S3 bucket policies do not grant access to everyone".into(),
            evidence: Default::default(),
        })
        .collect();
    let only: Vec<Asset> = assets.iter().map(|(a, _)| a.clone()).collect();
    store
        .finish_scan(
            id,
            &only,
            parapet_store::Evaluated::all(&evaluations),
            &|_: &str| Severity::Critical,
            &[],
            Utc::now(),
        )
        .expect("finish");
}

pub fn setup(config: &str) -> (tempfile::TempDir, SqliteStore, Notifier) {
    setup_grouped(config, None)
}

/// `setup`, with findings grouped into incidents by `incidents`.
pub fn setup_grouped(
    config: &str,
    incidents: Option<IncidentPolicy>,
) -> (tempfile::TempDir, SqliteStore, Notifier) {
    let config: NotifyConfig = toml::from_str(config).expect("valid configuration");
    let dir = tempfile::tempdir().expect("temp dir");
    let policy = Policy {
        router: Some(Arc::new(
            Routes::new(&config, BTreeMap::new()).expect("routes"),
        )),
        incidents,
    };
    let store = SqliteStore::open_with(&dir.path().join("parapet.db"), policy).expect("open");
    let notifier = Notifier::new(&config).expect("notifier");
    (dir, store, notifier)
}

#[test]
fn a_webhook_gets_the_change_signed_with_its_key_and_headers() {
    let receiver = Receiver::start(204);
    let secret_file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(secret_file.path(), "hook-secret\n").expect("write");
    let (_dir, mut store, notifier) = setup(&format!(
        "base_url = \"https://parapet.example.com\"\ndefault = [\"hook\"]\n\
         [[channels]]\ntype = \"webhook\"\nname = \"hook\"\nurl = \"{}/parapet\"\n\
         secret = {{ file = \"{}\" }}\nheaders = {{ \"X-Team\" = \"security\" }}\n",
        receiver.url,
        secret_file.path().display()
    ));
    scan(&mut store, &[(bucket("data"), Status::Fail)]);
    let done = notifier
        .deliver_due(&mut store, Utc::now())
        .expect("delivered");
    assert_eq!((done.delivered, done.retrying, done.failed), (1, 0, 0));
    // Still failing: no second notification.
    scan(&mut store, &[(bucket("data"), Status::Fail)]);
    assert_eq!(
        notifier
            .deliver_due(&mut store, Utc::now())
            .expect("pass")
            .delivered,
        0
    );

    let got = receiver.received();
    assert_eq!(got.len(), 1);
    let request = &got[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/parapet")
    );
    assert_eq!(request.header("Content-Type"), Some("application/json"));
    assert_eq!(request.header("X-Team"), Some("security"));
    assert_eq!(request.header("X-Parapet-Event"), Some("finding_opened"));
    let body: serde_json::Value = serde_json::from_str(&request.body).expect("JSON");
    assert_eq!(body["event"], "finding_opened");
    assert_eq!(body["finding"]["rule_id"], RULE);
    assert_eq!(body["finding"]["severity"], "critical");
    assert_eq!(body["asset"]["id"], "arn:aws:s3:::data");
    assert_eq!(body["asset"]["tags"]["env"], "prod");
    assert_eq!(
        body["finding"]["url"],
        "https://parapet.example.com/findings?rule=aws-s3-bucket-policy-not-public&asset=arn%3Aaws%3As3%3A%3A%3Adata"
    );
    let key = request.header("Idempotency-Key").expect("a key");
    assert_eq!(body["idempotency_key"], key);
    assert_eq!(
        request.header("X-Parapet-Signature"),
        Some(parapet_notify::channel::signature("hook-secret", request.body.as_bytes()).as_str())
    );
    let outbox = store.notifications(None, 10).expect("outbox");
    assert_eq!(outbox[0].status, OutboxStatus::Delivered);
    assert_eq!(outbox[0].idempotency_key, key);

    // Resolved: a second notification, with its own key.
    scan(&mut store, &[(bucket("data"), Status::Pass)]);
    notifier
        .deliver_due(&mut store, Utc::now())
        .expect("delivered");
    let got = receiver.received();
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].header("X-Parapet-Event"), Some("finding_resolved"));
    assert_ne!(got[1].header("Idempotency-Key"), Some(key));
}

#[test]
fn a_receiver_that_refuses_gets_retries_then_the_notification_is_marked_failed() {
    let receiver = Receiver::start(503);
    let (_dir, mut store, notifier) = setup(&format!(
        "max_attempts = 3\ndefault = [\"hook\"]\n\
         [[channels]]\ntype = \"webhook\"\nname = \"hook\"\nurl = \"{}/parapet?token=s3cr3t\"\n",
        receiver.url
    ));
    scan(&mut store, &[(bucket("data"), Status::Fail)]);
    let mut now = Utc::now();
    let mut passes = Vec::new();
    for _ in 0..3 {
        passes.push(notifier.deliver_due(&mut store, now).expect("pass"));
        // Past any backoff.
        now += chrono::Duration::hours(1);
    }
    assert_eq!(
        passes
            .iter()
            .map(|d| (d.retrying, d.failed))
            .collect::<Vec<_>>(),
        [(1, 0), (1, 0), (0, 1)]
    );
    assert_eq!(receiver.received().len(), 3);
    let keys: Vec<String> = receiver
        .received()
        .iter()
        .filter_map(|r| r.header("Idempotency-Key").map(str::to_owned))
        .collect();
    assert!(
        keys.iter().all(|k| *k == keys[0]),
        "every attempt carries one key"
    );
    let failed = store
        .notifications(Some(OutboxStatus::Failed), 10)
        .expect("failed");
    assert_eq!(failed.len(), 1);
    let error = failed[0].last_error.clone().unwrap_or_default();
    assert!(error.contains("HTTP 503"), "{error}");
    assert!(
        !error.contains("s3cr3t"),
        "the address is in the error: {error}"
    );

    // A receiver that is not there at all.
    drop(receiver);
    let (_dir, mut store, notifier) = setup(
        "default = [\"hook\"]\n[[channels]]\ntype = \"webhook\"\nname = \"hook\"\nurl = \"http://127.0.0.1:9/down?token=s3cr3t\"\n",
    );
    scan(&mut store, &[(bucket("data"), Status::Fail)]);
    let done = notifier.deliver_due(&mut store, Utc::now()).expect("pass");
    assert_eq!(done.retrying, 1);
    let pending = store.notifications(None, 1).expect("outbox");
    let error = pending[0].last_error.clone().unwrap_or_default();
    assert!(!error.is_empty() && !error.contains("s3cr3t"), "{error}");
}

#[test]
fn a_test_message_reaches_the_named_channel() {
    let receiver = Receiver::start(200);
    let (_dir, _store, notifier) = setup(&format!(
        "[[channels]]\ntype = \"webhook\"\nname = \"hook\"\nurl = \"{}/t\"\n",
        receiver.url
    ));
    notifier.test("hook").expect("sent");
    assert!(notifier.test("other").is_err());
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    assert!(got[0].body.contains("this channel works"));
}

#[test]
fn a_rate_limited_channel_gets_so_many_a_minute_and_the_rest_wait_without_spending_attempts() {
    let receiver = Receiver::start(200);
    let (_dir, mut store, notifier) = setup(&format!(
        "default = [\"hook\"]\n[[channels]]\ntype = \"webhook\"\nname = \"hook\"\nurl = \"{}/h\"\n\
         [limits.hook]\nper_minute = 3\n",
        receiver.url
    ));
    let assets: Vec<(Asset, Status)> = (0..5)
        .map(|n| (bucket(&format!("b{n}")), Status::Fail))
        .collect();
    scan(&mut store, &assets);
    let now = Utc::now();
    let done = notifier.deliver_due(&mut store, now).expect("pass");
    assert_eq!((done.delivered, done.deferred), (3, 2));
    assert_eq!(receiver.received().len(), 3);
    let waiting = store
        .notifications(Some(OutboxStatus::Pending), 10)
        .expect("pending");
    assert_eq!(waiting.len(), 2);
    assert!(
        waiting
            .iter()
            .all(|n| n.attempts == 0 && n.next_attempt_at > now + chrono::Duration::seconds(50))
    );
    assert!(store.due_notifications(now, 10).expect("due").is_empty());
}

#[test]
fn a_digest_channel_gets_one_message_per_window_with_every_change_in_it() {
    let receiver = Receiver::start(200);
    let (_dir, mut store, notifier) = setup(&format!(
        "default = [\"hook\"]\n[[channels]]\ntype = \"webhook\"\nname = \"hook\"\nurl = \"{}/h\"\n\
         [limits.hook]\ndigest = \"5m\"\n",
        receiver.url
    ));
    let assets: Vec<(Asset, Status)> = (0..4)
        .map(|n| (bucket(&format!("b{n}")), Status::Fail))
        .collect();
    scan(&mut store, &assets);
    let now = Utc::now();
    let held = notifier.deliver_due(&mut store, now).expect("pass");
    assert_eq!(
        (held.delivered, held.deferred),
        (0, 4),
        "the window is open"
    );
    assert!(receiver.received().is_empty());
    // The window closes: one message with the four changes.
    let later = now + chrono::Duration::minutes(5) + chrono::Duration::seconds(1);
    let sent = notifier.deliver_due(&mut store, later).expect("pass");
    assert_eq!(sent.delivered, 4);
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].header("X-Parapet-Event"), Some("digest"));
    let body: serde_json::Value = serde_json::from_str(&got[0].body).expect("JSON");
    assert_eq!(body["digest"], true);
    assert_eq!(body["count"], 4);
    let assets: Vec<&str> = body["notifications"]
        .as_array()
        .expect("notifications")
        .iter()
        .filter_map(|n| n["asset"]["id"].as_str())
        .collect();
    assert_eq!(
        assets,
        [
            "arn:aws:s3:::b0",
            "arn:aws:s3:::b1",
            "arn:aws:s3:::b2",
            "arn:aws:s3:::b3"
        ]
    );
    assert_eq!(
        Some(body["idempotency_key"].as_str().unwrap_or_default()),
        got[0].header("Idempotency-Key")
    );
    assert!(
        store
            .notifications(None, 10)
            .expect("outbox")
            .iter()
            .all(|n| n.status == OutboxStatus::Delivered)
    );

    // PagerDuty takes no digest.
    let config: NotifyConfig = toml::from_str(
        "[[channels]]\ntype = \"pagerduty\"\nname = \"p\"\nrouting_key = { env = \"HOME\" }\n[limits.p]\ndigest = \"5m\"\n",
    )
    .expect("valid TOML");
    assert!(Notifier::new(&config).is_err());
}

#[test]
fn a_webhook_hears_the_incident_of_each_change() {
    let receiver = Receiver::start(200);
    let (_dir, mut store, notifier) = setup_grouped(
        &format!(
            "default = [\"hook\"]\n[[channels]]\ntype = \"webhook\"\nname = \"hook\"\nurl = \"{}/h\"\n",
            receiver.url
        ),
        Some(IncidentPolicy {
            grouping: parapet_store::Grouping::Asset,
            min_severity: Severity::High,
        }),
    );
    scan(&mut store, &[(bucket("data"), Status::Fail)]);
    scan(&mut store, &[(bucket("data"), Status::Pass)]);
    notifier.deliver_due(&mut store, Utc::now()).expect("pass");
    let incidents: Vec<serde_json::Value> = receiver
        .received()
        .iter()
        .map(|r| {
            serde_json::from_str::<serde_json::Value>(&r.body).expect("JSON")["incident"].clone()
        })
        .collect();
    assert_eq!(incidents.len(), 2);
    assert_eq!(incidents[0]["title"], "Findings on arn:aws:s3:::data");
    assert_eq!(incidents[0]["status"], "open");
    assert_eq!(incidents[1]["status"], "resolved");
    assert_eq!(incidents[0]["id"], incidents[1]["id"]);
}
