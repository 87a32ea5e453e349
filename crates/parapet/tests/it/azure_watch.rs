//! `parapet watch --cloud azure`: Event Grid's events of a subscription
//! emulated by the fake of Azure Resource Manager, arriving through a
//! Storage queue on Azurite and through the `/events` endpoint with Event
//! Grid's validation handshakes.

use super::azure_queue::{block, deliver, queue_client, trusted};
use super::events::{LogTail, eventually, post, request, status};
use parapet_azure_fake::azurite::Azurite;
use parapet_azure_fake::{Fake, SECRET, TENANT, compliant_estate};
use parapet_core::FindingStatus;
use parapet_store::SqliteStore;
use parapet_store::roles::*;
use serde_json::{Value, json};

const SUBSCRIPTION: &str = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";
const RULE: &str = "azure-storage-blob-anonymous-access-disabled";
const EVENT_SECRET: &str = "event-grid-delivery-secret-7d2a";

/// One Event Grid event (its own schema) of `operation` on `uri`.
fn event(kind: &str, operation: &str, uri: &str) -> Value {
    json!({
        "subject": uri, "eventType": kind, "id": uri, "eventTime": "2026-12-06T10:00:00Z",
        "dataVersion": "2", "metadataVersion": "1", "topic": format!("/subscriptions/{SUBSCRIPTION}"),
        "data": {"operationName": operation, "resourceUri": uri, "subscriptionId": SUBSCRIPTION,
            "tenantId": TENANT, "status": "Succeeded"},
    })
}

/// Sets the storage account's `allowBlobPublicAccess`, as a user would:
/// its document put again through ARM.
fn allow_public_access(fake: &Fake, account: &str, allowed: bool) {
    let mut resource = fake
        .estate
        .lock()
        .expect("the estate")
        .resources
        .get(&account.to_lowercase())
        .cloned()
        .expect("the account");
    resource["properties"]["allowBlobPublicAccess"] = json!(allowed);
    let (status, answer) = fake.put(account, &resource);
    assert_eq!(status, 200, "{answer}");
}

#[test]
fn watch_follows_event_grid_through_a_storage_queue_and_the_endpoint() {
    let fake = Fake::start();
    {
        let mut estate = fake.estate.lock().expect("the estate");
        for resource in compliant_estate(SUBSCRIPTION) {
            estate.seed(resource);
        }
    }
    let azurite = Azurite::start();
    let dir = tempfile::tempdir().expect("a folder");
    let (db, pem) = (
        dir.path().join("parapet.db"),
        trusted(&fake, &azurite, dir.path()),
    );
    let secret_file = dir.path().join("event-secret");
    std::fs::write(&secret_file, EVENT_SECRET).expect("the secret");
    let (url, dead_url) = (
        azurite.queue_url("parapet-events"),
        azurite.queue_url("parapet-dead"),
    );
    let (queue, dead) = (
        queue_client(&url, &fake, &pem),
        queue_client(&dead_url, &fake, &pem),
    );
    block(queue.create(None)).expect("the queue");
    block(dead.create(None)).expect("the dead-letter queue");

    let webhook = super::receiver::Receiver::start(200);
    let config = super::events::webhook_config(dir.path(), &webhook.url);
    let mut watch = std::process::Command::new(env!("CARGO_BIN_EXE_parapet"))
        .arg("--config")
        .arg(&config)
        .args(["watch", "--cloud", "azure", "--subscriptions", SUBSCRIPTION])
        .args(["--queue-url", &url, "--dead-letter-queue-url", &dead_url])
        .args(["--log-format", "json", "--listen", "127.0.0.1:0"])
        .arg("--event-secret-file")
        .arg(&secret_file)
        .env_remove("PARAPET_RULES")
        .env("PARAPET_DB", &db)
        .envs(fake.settings(&pem))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("parapet watch starts");
    let tail = LogTail::follow(&mut watch);
    let listen = tail.listening();
    let account = format!(
        "/subscriptions/{SUBSCRIPTION}/resourceGroups/posture/providers/Microsoft.Storage/storageAccounts/postureaudit"
    );
    // The inventory starts whole.
    assert!(
        eventually(60, || SqliteStore::open(&db)
            .ok()
            .and_then(|s| s.current_assets(Some(SUBSCRIPTION)).ok())
            .is_some_and(|a| a.iter().any(|a| a.id == account))),
        "the first collection was not recorded: {}",
        tail.so_far()
    );
    assert_eq!(status(&db, RULE, &account), None, "compliant");

    // Through the queue: the change Event Grid reports (by the id in its
    // lowercase form) opens the finding.
    allow_public_access(&fake, &account, true);
    let write = event(
        "Microsoft.Resources.ResourceWriteSuccess",
        "Microsoft.Storage/storageAccounts/write",
        &account.replace("resourceGroups", "resourcegroups"),
    );
    deliver(&queue, &write.to_string());
    assert!(
        eventually(60, || status(&db, RULE, &account)
            == Some(FindingStatus::Open)),
        "the public account's finding was not opened: {}",
        tail.so_far()
    );
    // Its notification reaches the webhook.
    let notified = |event: &str| {
        webhook.received().iter().any(|r| {
            serde_json::from_str::<Value>(&r.body).is_ok_and(|body| {
                body["event"] == event
                    && body["finding"]["rule_id"] == RULE
                    && body["asset"]["id"] == account.as_str()
            })
        })
    };
    assert!(
        eventually(30, || notified("finding_opened")),
        "no notification: {:?}",
        webhook.received()
    );
    // What is not an event is kept in the dead-letter queue.
    deliver(&queue, "not an event");
    let kept = || {
        block(async { dead.peek_messages(None).await?.into_model() })
            .ok()
            .and_then(|m| m.items)
            .unwrap_or_default()
    };
    assert!(
        eventually(60, || !kept().is_empty()),
        "nothing set aside: {}",
        tail.so_far()
    );

    // The endpoint: Event Grid's handshakes, once the secret is proved.
    let validation = json!([{
        "id": "2d1781af-3a4c-4d7c-bd0c-e34b19da4e66", "topic": format!("/subscriptions/{SUBSCRIPTION}"),
        "subject": "", "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
        "eventTime": "2026-12-06T10:00:00Z", "metadataVersion": "1", "dataVersion": "1",
        "data": {"validationCode": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6",
            "validationUrl": "https://rp-westeurope.eventgrid.azure.net:553/eventsubscriptions/parapet/validate?id=1&t=2026-12-06T10:00:00Z&apiVersion=2025-02-15&token=abc"},
    }])
    .to_string();
    let handshake = [("aeg-event-type", "SubscriptionValidation")];
    assert_eq!(post(&listen, validation.as_bytes(), &handshake).0, 401);
    let (code, body) = post(
        &listen,
        validation.as_bytes(),
        &[handshake[0], ("X-Parapet-Secret", EVENT_SECRET)],
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).expect("JSON"),
        json!({"validationResponse": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"})
    );
    let origin = [("WebHook-Request-Origin", "eventgrid.azure.net")];
    assert_eq!(request(&listen, "OPTIONS", b"", &origin).0, 401);
    let (code, head, _) = request(
        &listen,
        "OPTIONS",
        b"",
        &[origin[0], ("X-Parapet-Secret", EVENT_SECRET)],
    );
    assert_eq!(code, 200);
    assert!(
        head.to_lowercase()
            .contains("webhook-allowed-origin: eventgrid.azure.net"),
        "{head}"
    );
    // A batch delivered to the endpoint is answered once committed.
    allow_public_access(&fake, &account, false);
    let batch = json!([write]).to_string();
    let notification = [
        ("aeg-event-type", "Notification"),
        ("X-Parapet-Secret", EVENT_SECRET),
    ];
    let (code, body) = post(&listen, batch.as_bytes(), &notification);
    assert_eq!(code, 200, "{body}");
    assert_eq!(status(&db, RULE, &account), Some(FindingStatus::Resolved));
    assert!(eventually(30, || notified("finding_resolved")));

    // A deletion marks the account deleted, its finding with it.
    fake.estate
        .lock()
        .expect("the estate")
        .resources
        .retain(|id, _| !id.starts_with(&account.to_lowercase()));
    let deleted = json!([event(
        "Microsoft.Resources.ResourceDeleteSuccess",
        "Microsoft.Storage/storageAccounts/delete",
        &account
    )])
    .to_string();
    assert_eq!(post(&listen, deleted.as_bytes(), &notification).0, 200);
    let store = SqliteStore::open(&db).expect("open");
    assert!(
        store
            .current_assets(Some(SUBSCRIPTION))
            .expect("assets")
            .iter()
            .all(|a| a.id != account),
        "the account is deleted"
    );
    assert!(
        store
            .current_assets(Some(SUBSCRIPTION))
            .expect("assets")
            .iter()
            .any(|a| a.resource_type.as_str() == "Microsoft.KeyVault/vaults"),
        "what the events did not name is kept"
    );

    terminate(&watch);
    let status = watch.wait().expect("the daemon stops");
    let log = tail.finish();
    assert!(status.success(), "{log}");
    assert!(!log.contains(SECRET) && !log.contains(EVENT_SECRET));
    assert!(log.contains("event subscription validated"), "{log}");
    assert!(log.contains("message set aside"), "{log}");
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
}

/// Sends SIGTERM to `child`.
fn terminate(child: &std::process::Child) {
    let pid = child.id().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(sent.success());
}
