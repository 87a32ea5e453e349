use super::{Server, all_pages, escape, t0};
use chrono::Duration;
use parapet_core::MuteSelector;
use parapet_server::Access;
use parapet_store::roles::*;
use std::io::{BufRead, BufReader};

const LOGS: &str = "arn:aws:s3:::prod-logs";

#[test]
fn events_filter_by_asset_kind_rule_and_time_and_page() {
    let server = Server::start(Access::OpenOnLoopback);
    let kinds = |query: &str| {
        let answer = server.get(&format!("/api/v1/events{query}"), &[]);
        assert_eq!(answer.status, 200, "{query}: {}", answer.text);
        answer.items("kind")
    };
    // Newest first: prod-logs changed, its versioning finding resolved.
    let logs = kinds(&format!(
        "?asset={}&kind=asset_changed,finding_resolved",
        escape(LOGS)
    ));
    assert_eq!(logs, ["finding_resolved", "asset_changed"]);
    let created = kinds("?kind=asset_created&limit=500");
    assert_eq!(created.len(), 16);
    let second = escape(&(t0() + Duration::minutes(30)).to_rfc3339());
    let later = kinds(&format!("?since={second}&limit=500"));
    assert_eq!(later.len(), 2, "{later:?}");
    let earlier = kinds(&format!("?until={second}&kind=finding_resolved"));
    assert!(earlier.is_empty());
    let account = kinds("?account=222222222222&kind=asset_created");
    assert_eq!(account.len(), 2);
    let rule = kinds("?rule=aws-s3-bucket-versioning-enabled&limit=500");
    assert_eq!(rule.len(), 4, "three opened, one resolved: {rule:?}");
    let (ids, _) = all_pages(&server, "/api/v1/events?limit=7", "id", &[]);
    let mut sorted: Vec<i64> = ids.iter().filter_map(|i| i.parse().ok()).collect();
    assert_eq!(sorted.len(), ids.len());
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!(sorted.len(), ids.len(), "each event once, newest first");
    let bad = server.get("/api/v1/events?kind=exploded", &[]);
    assert_eq!(bad.status, 400);
    assert!(
        bad.text.contains("`exploded` is not one of"),
        "{}",
        bad.text
    );
    let bad = server.get("/api/v1/events?since=monday", &[]);
    assert_eq!(bad.status, 400);
}

#[test]
fn incidents_are_listed_shown_taken_and_resolved() {
    let server = Server::start(Access::OpenOnLoopback);
    let csrf = server.get("/api/v1/session", &[]).json["csrf_token"]
        .as_str()
        .expect("csrf")
        .to_owned();
    let headers = [("x-csrf-token", csrf.as_str())];
    let (ids, _) = all_pages(&server, "/api/v1/incidents?limit=1", "id", &[]);
    assert!(ids.len() >= 2, "{ids:?}");
    let open = server.get("/api/v1/incidents?status=open", &[]);
    assert_eq!(open.items("id").len(), ids.len());
    let id = &ids[0];
    let shown = server.get(&format!("/api/v1/incidents/{id}"), &[]);
    assert_eq!(shown.status, 200, "{}", shown.text);
    assert_eq!(shown.json["timeline"][0]["kind"], "opened");
    let taken = server.send(
        "POST",
        &format!("/api/v1/incidents/{id}/acknowledge"),
        r#"{"owner": "alice"}"#,
        &headers,
    );
    assert_eq!(taken.status, 200, "{}", taken.text);
    assert_eq!(
        (&taken.json["status"], &taken.json["owner"]),
        (&"acknowledged".into(), &"alice".into())
    );
    let resolved = server.send(
        "POST",
        &format!("/api/v1/incidents/{id}/resolve"),
        "{}",
        &headers,
    );
    assert_eq!(resolved.json["status"], "resolved");
    let listed = server.get("/api/v1/incidents?status=resolved", &[]);
    assert_eq!(listed.items("id"), std::slice::from_ref(id));
    assert_eq!(server.get("/api/v1/incidents/9999", &[]).status, 404);
    assert_eq!(
        server.get("/api/v1/incidents?status=closed", &[]).status,
        400
    );
}

#[test]
fn the_stream_sends_new_events_as_they_are_committed() {
    let server = Server::start(Access::OpenOnLoopback);
    let response = super::agent()
        .get(format!("{}/api/v1/stream", server.base))
        .call()
        .expect("stream");
    assert_eq!(response.status(), 200);
    let kind = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(kind.starts_with("text/event-stream"), "{kind}");
    let mut lines = BufReader::new(response.into_body().into_reader()).lines();
    // Another process (here, the test) mutes a finding: two events.
    let mut store = server.store();
    store
        .add_mute(
            &MuteSelector {
                asset: Some(LOGS.into()),
                ..MuteSelector::default()
            },
            "streamed",
            "bob",
            None,
            chrono::Utc::now(),
        )
        .expect("mute");
    let store_events = store
        .events(&parapet_store::EventQuery {
            kinds: vec![parapet_core::EventKind::FindingMuted],
            ..Default::default()
        })
        .expect("events");
    let mut seen = Vec::new();
    while seen.len() < store_events.len() {
        let line = lines.next().expect("a line").expect("readable");
        if let Some(data) = line.strip_prefix("data: ") {
            let event: serde_json::Value = serde_json::from_str(data).expect("JSON event");
            seen.push(event["kind"].as_str().unwrap_or("").to_owned());
        }
    }
    assert!(seen.iter().all(|k| k == "finding_muted"), "{seen:?}");
}

#[test]
fn scans_are_listed_newest_first_with_what_produced_them() {
    let server = Server::start(Access::OpenOnLoopback);
    let answer = server.get("/api/v1/scans?limit=1", &[]);
    assert_eq!(answer.status, 200, "{}", answer.text);
    let page: serde_json::Value = serde_json::from_str(&answer.text).expect("JSON");
    let newest = &page["items"][0];
    assert_eq!(newest["provenance"]["collector"], "test");
    assert_eq!(newest["provenance"]["rules"], "builtin");
    assert_eq!(
        newest["provenance"]["parapet"],
        env!("CARGO_PKG_VERSION"),
        "{newest}"
    );
    let (ids, _) = all_pages(&server, "/api/v1/scans?limit=1", "id", &[]);
    assert_eq!(
        ids.len(),
        2,
        "the two scans of the seed, one page each: {ids:?}"
    );
    assert!(ids[0] > ids[1], "newest first: {ids:?}");
}
