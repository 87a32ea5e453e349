//! Continuous mode's latency on Azure: `parapet watch --cloud azure`
//! follows a Storage queue on Azurite while storage accounts of the fake of
//! Azure Resource Manager are opened to anonymous blob access one by one,
//! each change's Event Grid event delivered to the queue as it is made (20
//! a second, or `PARAPET_BENCH_RATE`). For each, the time from the message
//! being sent to the queue to the finding being committed (its
//! `first_seen`); prints p50, p95 and p99. The fake answers lists a
//! thousand resources a page, as ARM does (its tests' two would make each
//! refresh's list of the accounts a hundred calls).
//!
//! Run with `cargo bench -p parapet --bench watch_latency_azure` (needs
//! Azurite from `scripts/azurite`); `PARAPET_BENCH_EVENTS` sets how many
//! (200).

mod common;

#[path = "../../parapet-azure/tests/it/queue_client.rs"]
#[allow(dead_code)]
mod azure_queue;

use azure_queue::{block, deliver, queue_client, trusted};
use parapet_azure_fake::azurite::Azurite;
use parapet_azure_fake::{Fake, compliant_estate};
use parapet_testkit::report_latencies;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const SUBSCRIPTION: &str = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";
const RULE: &str = "azure-storage-blob-anonymous-access-disabled";

fn main() {
    let (events, rate) = common::load();
    let fake = Fake::start();
    let names: Vec<String> = (0..events).map(|i| format!("bench{i:05}")).collect();
    {
        let mut estate = fake.estate.lock().expect("the estate");
        // A page as ARM's: up to a thousand resources.
        estate.page_size = Some(1000);
        let compliant = compliant_estate(SUBSCRIPTION);
        // Each account as the compliant one is, with its blob and file
        // services and containers.
        let template: Vec<String> = compliant
            .iter()
            .filter(|r| {
                r["id"]
                    .as_str()
                    .is_some_and(|id| id.contains("/storageAccounts/postureaudit"))
            })
            .map(|r| r.to_string())
            .collect();
        for resource in compliant {
            estate.seed(resource);
        }
        for name in &names {
            for resource in &template {
                let renamed = resource.replace("postureaudit", name);
                estate.seed(serde_json::from_str(&renamed).expect("a resource"));
            }
        }
    }
    let azurite = Azurite::start();
    let dir = tempfile::tempdir().expect("a folder");
    let (db, pem) = (
        dir.path().join("parapet.db"),
        trusted(&fake, &azurite, dir.path()),
    );
    let url = azurite.queue_url("parapet-events");
    let queue = queue_client(&url, &fake, &pem);
    block(queue.create(None)).expect("the queue");
    let mut watch = std::process::Command::new(env!("CARGO_BIN_EXE_parapet"))
        .args(["watch", "--cloud", "azure", "--queue-url", &url])
        .args(["--subscriptions", SUBSCRIPTION])
        .env_remove("PARAPET_RULES")
        .env("PARAPET_DB", &db)
        .envs(fake.settings(&pem))
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("parapet watch starts");
    let id = |name: &str| {
        format!(
            "/subscriptions/{SUBSCRIPTION}/resourceGroups/posture/providers/Microsoft.Storage/storageAccounts/{name}"
        )
    };
    let took = common::first_collection(&db);
    println!("first collection of {} accounts: {:?}", events + 1, took);

    let mut sent = BTreeMap::new();
    let every = Duration::from_secs_f64(1.0 / rate);
    for name in &names {
        let at = Instant::now();
        let account = id(name);
        fake.estate
            .lock()
            .expect("the estate")
            .resources
            .get_mut(&account.to_lowercase())
            .expect("the account")["properties"]["allowBlobPublicAccess"] = json!(true);
        let event = json!([{
            "subject": account, "eventType": "Microsoft.Resources.ResourceWriteSuccess",
            "id": name, "eventTime": chrono::Utc::now().to_rfc3339(), "dataVersion": "2",
            "metadataVersion": "1", "topic": format!("/subscriptions/{SUBSCRIPTION}"),
            "data": {"operationName": "Microsoft.Storage/storageAccounts/write",
                "resourceUri": account.to_lowercase(), "subscriptionId": SUBSCRIPTION},
        }]);
        deliver(&queue, &event.to_string());
        sent.insert(account, chrono::Utc::now().timestamp_millis());
        std::thread::sleep(every.saturating_sub(at.elapsed()));
    }
    let committed = common::committed(&db, RULE, &sent, str::to_owned);
    watch.kill().ok();
    watch.wait().ok();
    report_latencies("from the queue to the committed finding", &sent, &committed);
}
