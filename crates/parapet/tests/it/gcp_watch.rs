//! `parapet watch --cloud gcp`: a Cloud Asset Inventory feed's messages
//! through a Pub/Sub subscription of the fake, each described from the
//! asset it carries (the inventory asked only for what it lacks),
//! acknowledged once committed.

use super::events::{LogTail, eventually, status};
use parapet_core::FindingStatus;
use parapet_gcp_fake::{Fake, ORGANIZATION, compliant_estate};
use parapet_store::SqliteStore;
use parapet_store::roles::*;
use serde_json::{Value, json};

const SUBSCRIPTION: &str = "projects/parapet-prod/subscriptions/asset-feed";
const DEAD_LETTER: &str = "projects/parapet-prod/topics/parapet-dead";
const BUCKET: &str = "//storage.googleapis.com/parapet-prod-access-logs";
const RULE: &str = "gcp-storage-uniform-bucket-level-access";

/// A resource feed's message of the bucket with uniform bucket-level
/// access as `uniform` says (or of its deletion), the change made in the
/// estate first.
fn feed_message(fake: &Fake, uniform: bool, deleted: bool) -> Value {
    let mut estate = fake.estate.lock().expect("the estate");
    if let Some(bucket) = estate.assets.iter_mut().find(|a| a.name == BUCKET) {
        bucket.data["iamConfiguration"]["uniformBucketLevelAccess"]["enabled"] = json!(uniform);
    }
    estate.feed_message(BUCKET, deleted).expect("the bucket")
}

#[test]
fn watch_follows_a_cloud_asset_inventory_feed_through_pub_sub() {
    let fake = Fake::start(compliant_estate());
    fake.pubsub.lock().expect("Pub/Sub").subscribe(SUBSCRIPTION);
    let dir = tempfile::tempdir().expect("a folder");
    let db = dir.path().join("parapet.db");
    let webhook = super::receiver::Receiver::start(200);
    let config = super::events::webhook_config(dir.path(), &webhook.url);
    let mut watch = std::process::Command::new(env!("CARGO_BIN_EXE_parapet"))
        .arg("--config")
        .arg(&config)
        .args(["watch", "--cloud", "gcp", "--organization", ORGANIZATION])
        .args([
            "--queue-url",
            SUBSCRIPTION,
            "--dead-letter-queue-url",
            DEAD_LETTER,
        ])
        .args(["--log-format", "json"])
        .env_remove("PARAPET_RULES")
        .env("PARAPET_DB", &db)
        .envs(fake.settings())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("parapet watch starts");
    let tail = LogTail::follow(&mut watch);
    let current = |id: &str| {
        SqliteStore::open(&db)
            .ok()
            .and_then(|s| s.current_assets(Some("parapet-prod")).ok())
            .is_some_and(|a| a.iter().any(|a| a.id == id))
    };
    assert!(
        eventually(60, || current(BUCKET)),
        "the first collection was not recorded: {}",
        tail.so_far()
    );
    assert_eq!(status(&db, RULE, BUCKET), None, "compliant");

    // The feed's message carries the bucket as it is now: its resource is
    // described from the message; only its IAM policy, which a resource
    // feed does not carry, is read from the inventory.
    let deliver = |message: &str| {
        fake.pubsub
            .lock()
            .expect("Pub/Sub")
            .deliver(SUBSCRIPTION, message.as_bytes());
    };
    let message = feed_message(&fake, false, false);
    let before = fake.calls().len();
    deliver(&message.to_string());
    assert!(
        eventually(60, || status(&db, RULE, BUCKET)
            == Some(FindingStatus::Open)),
        "the finding was not opened: {}",
        tail.so_far()
    );
    let asked: Vec<String> = fake.calls()[before..].to_vec();
    assert!(
        asked.iter().any(
            |c| c.starts_with("cloudasset.batchGetAssetsHistory IAM_POLICY") && c.ends_with(BUCKET)
        ),
        "{asked:?}"
    );
    assert!(
        !asked
            .iter()
            .any(|c| c.starts_with("cloudasset.batchGetAssetsHistory RESOURCE")),
        "the resource came from the message: {asked:?}"
    );
    let notified = || {
        webhook.received().iter().any(|r| {
            serde_json::from_str::<Value>(&r.body).is_ok_and(|body| {
                body["event"] == "finding_opened"
                    && body["finding"]["rule_id"] == RULE
                    && body["asset"]["id"] == BUCKET
            })
        })
    };
    assert!(
        eventually(30, notified),
        "no notification: {:?}",
        webhook.received()
    );
    // Acknowledged once committed.
    assert!(
        eventually(30, || fake
            .pubsub
            .lock()
            .expect("Pub/Sub")
            .counts(SUBSCRIPTION)
            == (1, 0)),
        "{:?}",
        fake.pubsub.lock().expect("Pub/Sub").counts(SUBSCRIPTION)
    );

    // What is not a feed message goes to the dead-letter topic.
    deliver("{\"Records\": []}");
    assert!(
        eventually(30, || !fake
            .pubsub
            .lock()
            .expect("Pub/Sub")
            .published(DEAD_LETTER)
            .is_empty()),
        "nothing set aside: {}",
        tail.so_far()
    );

    // The bucket's deletion: gone from the inventory, the rest kept.
    let gone = feed_message(&fake, false, true);
    fake.estate.lock().expect("the estate").delete(BUCKET);
    deliver(&gone.to_string());
    assert!(
        eventually(60, || !current(BUCKET)),
        "the deleted bucket is still current: {}",
        tail.so_far()
    );
    assert!(current("//storage.googleapis.com/parapet-prod-audit-logs"));
    let _ = watch.kill();
    let _ = watch.wait();
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
    assert!(!tail.so_far().contains("PRIVATE KEY"));
}
