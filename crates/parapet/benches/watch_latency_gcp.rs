//! Continuous mode's latency on Google Cloud: `parapet watch --cloud gcp`
//! pulls a Pub/Sub subscription of the fake of Cloud Asset Inventory while
//! buckets of an organisation are switched, one by one, from uniform
//! bucket-level access to object ACLs, each change's feed message (the
//! bucket as it is now, as a `RESOURCE` feed publishes it) delivered as it
//! is made (20 a second, or `PARAPET_BENCH_RATE`). For each, the time from
//! the message being published to the finding being committed (its
//! `first_seen`); prints p50, p95 and p99.
//!
//! Run with `cargo bench -p parapet --bench watch_latency_gcp`;
//! `PARAPET_BENCH_EVENTS` sets how many (200).

mod common;

use parapet_gcp_fake::{Fake, ORGANIZATION, compliant_estate};
use parapet_testkit::report_latencies;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const SUBSCRIPTION: &str = "projects/parapet-prod/subscriptions/asset-feed";
const RULE: &str = "gcp-storage-uniform-bucket-level-access";
const TEMPLATE: &str = "//storage.googleapis.com/parapet-prod-access-logs";

fn main() {
    let (events, rate) = common::load();
    let mut estate = compliant_estate();
    estate.page_size = Some(1000);
    let template = estate
        .assets
        .iter()
        .find(|a| a.name == TEMPLATE)
        .cloned()
        .expect("the bucket");
    let names: Vec<String> = (0..events)
        .map(|i| format!("//storage.googleapis.com/parapet-bench-{i:05}"))
        .collect();
    for name in &names {
        let mut bucket = template.clone();
        bucket.name = name.clone();
        estate.put(bucket);
    }
    let fake = Fake::start(estate);
    fake.pubsub.lock().expect("Pub/Sub").subscribe(SUBSCRIPTION);
    let dir = tempfile::tempdir().expect("a folder");
    let db = dir.path().join("parapet.db");
    let mut watch = std::process::Command::new(env!("CARGO_BIN_EXE_parapet"))
        .args(["watch", "--cloud", "gcp", "--organization", ORGANIZATION])
        .args(["--queue-url", SUBSCRIPTION])
        .env_remove("PARAPET_RULES")
        .env("PARAPET_DB", &db)
        .envs(fake.settings())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("parapet watch starts");
    let took = common::first_collection(&db);
    println!(
        "first collection of an organisation with {} buckets: {:?}",
        events + 2,
        took
    );

    let mut sent = BTreeMap::new();
    let every = Duration::from_secs_f64(1.0 / rate);
    for name in &names {
        let at = Instant::now();
        let message = {
            let mut estate = fake.estate.lock().expect("the estate");
            if let Some(bucket) = estate.assets.iter_mut().find(|a| &a.name == name) {
                bucket.data["iamConfiguration"]["uniformBucketLevelAccess"]["enabled"] =
                    json!(false);
            }
            estate.feed_message(name, false).expect("the bucket")
        };
        fake.pubsub
            .lock()
            .expect("Pub/Sub")
            .deliver(SUBSCRIPTION, message.to_string().as_bytes());
        sent.insert(name.clone(), chrono::Utc::now().timestamp_millis());
        std::thread::sleep(every.saturating_sub(at.elapsed()));
    }
    let committed = common::committed(&db, RULE, &sent, str::to_owned);
    watch.kill().ok();
    watch.wait().ok();
    report_latencies("from Pub/Sub to the committed finding", &sent, &committed);
}
