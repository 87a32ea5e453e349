//! Notifications end to end: scans write them to the outbox, `parapet
//! notify send` delivers them, and nothing is lost when the receiver is down
//! or the sender is killed.

use super::receiver::Receiver;
use super::{parapet_with_db, stderr, stdout};
use parapet_store::roles::*;
use parapet_store::{OutboxStatus, SqliteStore};
use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const RULE: &str = "aws-s3-bucket-versioning-enabled";

/// `count` buckets with versioning suspended, as JSON Lines.
fn estate(count: usize) -> String {
    (0..count)
        .map(|n| {
            serde_json::json!({
                "id": format!("arn:aws:s3:::bucket-{n:03}"), "provider": "aws",
                "account": "123456789012", "region": "eu-west-1",
                "resource_type": "AWS::S3::Bucket", "name": format!("bucket-{n:03}"),
                "config": {"Name": format!("bucket-{n:03}"), "Versioning": {"Status": "Suspended"}},
                "observed_at": "2026-11-29T10:00:00Z",
            })
            .to_string()
                + "\n"
        })
        .collect()
}

/// `parapet scan file` of `file` with the configuration `config`.
fn scan_with(db: &std::path::Path, config: &str, file: &std::path::Path) -> std::process::Output {
    parapet_with_db(
        db,
        &[
            "--config",
            config,
            "scan",
            "file",
            file.to_str().expect("utf-8"),
            "--format",
            "json",
        ],
    )
}

/// How many times the sender is killed, each at another moment.
const KILLS: usize = 24;

#[test]
fn every_change_arrives_once_the_receiver_is_back_even_when_the_sender_is_killed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("parapet.db");
    // The receiver is down (it answers 503) until told otherwise, then
    // slow; it binds a port of its own.
    let up = Arc::new(AtomicBool::new(false));
    let receiver = {
        let up = Arc::clone(&up);
        Receiver::answering("127.0.0.1:0", move |_| {
            if up.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(20));
                (200, String::new())
            } else {
                (503, String::new())
            }
        })
    };
    let config = dir.path().join("parapet.toml");
    std::fs::write(
        &config,
        format!(
            "[notifications]\nmax_attempts = 60\n\
             [[notifications.channels]]\ntype = \"webhook\"\nname = \"hook\"\nurl = \"{}/hook\"\n\
             [[notifications.routes]]\nchannels = [\"hook\"]\nrules = [\"{RULE}\"]\n",
            receiver.url
        ),
    )
    .expect("write");
    let config = config.to_str().expect("utf-8");
    let file = dir.path().join("estate.jsonl");
    std::fs::write(&file, estate(100)).expect("write");

    // The receiver is down: the scan records 100 changes, and their
    // notifications wait in the outbox.
    let scan = scan_with(&db, config, &file);
    assert!(
        stderr(&scan).contains("100 could not be delivered"),
        "{}",
        stderr(&scan)
    );
    let outbox = SqliteStore::open(&db)
        .expect("open")
        .notifications(None, 1000)
        .expect("outbox");
    assert_eq!(outbox.len(), 100);
    assert!(
        outbox
            .iter()
            .all(|n| n.status == OutboxStatus::Pending && n.attempts == 1)
    );

    // The receiver comes back; the sender is killed again and again, at
    // another moment each time: before it sends anything, after one
    // delivery, after a few.
    let refused = receiver.received().len();
    up.store(true, Ordering::SeqCst);
    let accepted = || receiver.received().split_off(refused);
    std::thread::sleep(Duration::from_millis(1200));
    let send = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_parapet"));
        command
            .args(["--config", config, "notify", "send"])
            .env("PARAPET_DB", &db)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    };
    let mut kills = 0;
    for round in 0..KILLS {
        let before = receiver.received().len();
        let mut sender = send().spawn().expect("parapet notify send starts");
        match round % 4 {
            // At once, or a few milliseconds in: while it opens the outbox.
            0 => {}
            1 => std::thread::sleep(Duration::from_millis(5 + round as u64)),
            // After one more delivery, or a few more.
            _ => {
                let wanted = before + 1 + round % 3;
                let deadline = Instant::now() + Duration::from_secs(30);
                while receiver.received().len() < wanted
                    && Instant::now() < deadline
                    && matches!(sender.try_wait(), Ok(None))
                {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
        if matches!(sender.try_wait(), Ok(None)) {
            kills += 1;
        }
        sender.kill().ok();
        sender.wait().expect("reaped");
    }
    let midway = accepted().len();
    assert!(
        kills >= 20,
        "only {kills} senders were killed while running"
    );
    assert!(
        midway < 100,
        "everything was delivered before the last kill"
    );

    let finished = send().output().expect("parapet notify send runs");
    assert!(finished.status.success(), "{}", stderr(&finished));
    assert!(
        stdout(&finished).contains("0 failed for good"),
        "{}",
        stdout(&finished)
    );

    let got = accepted();
    let keys: Vec<&str> = got
        .iter()
        .map(|r| r.header("Idempotency-Key").expect("a key"))
        .collect();
    let distinct: BTreeSet<&str> = keys.iter().copied().collect();
    let outbox = SqliteStore::open(&db)
        .expect("open")
        .notifications(None, 1000)
        .expect("outbox");
    let expected: BTreeSet<&str> = outbox.iter().map(|n| n.idempotency_key.as_str()).collect();
    assert_eq!(
        distinct, expected,
        "every notification arrived, and nothing else"
    );
    assert!(outbox.iter().all(|n| n.status == OutboxStatus::Delivered));
    // A delivery the receiver took just before a kill, not yet recorded,
    // is sent again with the same key: one at most per kill.
    assert!(
        got.len() <= 100 + kills,
        "{} requests for 100 notifications and {kills} kills",
        got.len()
    );
    let assets: BTreeSet<String> = got
        .iter()
        .filter_map(|r| serde_json::from_str::<serde_json::Value>(&r.body).ok())
        .filter_map(|b| b["asset"]["id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(assets.len(), 100);
}

#[test]
fn incidents_group_a_scans_findings_and_follow_them_from_the_command_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("parapet.db");
    let config = dir.path().join("parapet.toml");
    let pagerduty = Receiver::start(202);
    std::fs::write(dir.path().join("routing-key"), "R0UT1NG").expect("write");
    std::fs::write(
        &config,
        format!(
            "[incidents]\ngroup_by = \"rule-and-account\"\nmin_severity = \"medium\"\n\
             [notifications]\ndefault = [\"pager\"]\n[[notifications.channels]]\ntype = \"pagerduty\"\n\
             name = \"pager\"\nrouting_key = {{ file = \"routing-key\" }}\nurl = \"{}/v2/enqueue\"\n",
            pagerduty.url
        ),
    )
    .expect("write");
    let config = config.to_str().expect("utf-8");
    let file = dir.path().join("estate.jsonl");
    std::fs::write(&file, estate(3)).expect("write");
    let scan = |db: &std::path::Path| scan_with(db, config, &file);
    scan(&db);
    let list = parapet_with_db(&db, &["incidents", "list", "--format", "json"]);
    let incidents: serde_json::Value = serde_json::from_slice(&list.stdout).expect("JSON");
    let versioning: Vec<&serde_json::Value> = incidents
        .as_array()
        .expect("a list")
        .iter()
        .filter(|i| i["group_key"] == format!("rule:{RULE}/account:123456789012"))
        .collect();
    assert_eq!(versioning.len(), 1, "{incidents}");
    assert_eq!(versioning[0]["findings"].as_array().map(Vec::len), Some(3));
    assert_eq!(versioning[0]["status"], "open");
    let id = versioning[0]["id"].to_string();

    let ack = parapet_with_db(
        &db,
        &[
            "--config",
            config,
            "incidents",
            "ack",
            &id,
            "--owner",
            "alice",
        ],
    );
    assert!(ack.status.success(), "{}", stderr(&ack));
    // Acknowledged by hand: PagerDuty hears it before the command ends.
    let key = format!("parapet/incident/{id}");
    let actions = || -> Vec<String> {
        pagerduty
            .received()
            .iter()
            .filter_map(|r| serde_json::from_str::<serde_json::Value>(&r.body).ok())
            .filter(|b| b["dedup_key"] == key.as_str())
            .filter_map(|b| b["event_action"].as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(actions(), ["trigger", "trigger", "trigger", "acknowledge"]);
    // The buckets are fixed: the incident resolves by itself.
    std::fs::write(&file, estate(3).replace("Suspended", "Enabled")).expect("write");
    scan(&db);
    let show = parapet_with_db(&db, &["incidents", "show", &id, "--format", "json"]);
    let shown: serde_json::Value = serde_json::from_slice(&show.stdout).expect("JSON");
    assert_eq!(shown["incident"]["status"], "resolved");
    assert_eq!(shown["incident"]["owner"], "alice");
    let timeline: Vec<&str> = shown["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert_eq!(
        timeline,
        [
            "opened",
            "finding_added",
            "finding_added",
            "finding_added",
            "acknowledged",
            "resolved"
        ]
    );
    assert_eq!(
        actions()[4..],
        ["resolve", "resolve", "resolve"],
        "the incident resolves with its findings"
    );
    let events = parapet_with_db(
        &db,
        &[
            "events",
            "--kind",
            "incident_acknowledged",
            "--format",
            "json",
        ],
    );
    let events: serde_json::Value = serde_json::from_slice(&events.stdout).expect("JSON");
    assert_eq!(events.as_array().map(Vec::len), Some(1), "{events}");
    assert_eq!(events[0]["detail"]["by"], "alice");
    let missing = parapet_with_db(&db, &["incidents", "show", "999"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("no incident 999"));
}
