//! Continuous mode's latency against moto: `parapet watch` follows a queue
//! while buckets are made public one by one, each change's CloudTrail event
//! sent to the queue as it is made (20 a second, or
//! `PARAPET_BENCH_RATE`). For each, the time from
//! the message being sent to the queue to the finding being committed (its
//! `first_seen`), and to a webhook on 127.0.0.1 receiving its notification;
//! prints p50, p95 and p99 of each.
//!
//! Run with `cargo bench -p parapet --bench watch_latency` (needs the venv
//! of `scripts/moto-venv`); `PARAPET_BENCH_EVENTS` sets how many (200).

mod common;
#[path = "../tests/it/moto.rs"]
#[allow(dead_code)]
mod moto;

#[path = "../../parapet-notify/tests/it/receiver.rs"]
#[allow(dead_code)]
mod receiver;

use parapet_testkit::report_latencies;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn main() {
    let (events, rate) = common::load();
    let (count, rate) = (events.to_string(), rate.to_string());
    let moto = moto::Moto::start();
    let script = fixture("aws-event.py");
    let ids: BTreeMap<String, String> =
        serde_json::from_slice(&moto.python(&script, &["setup", "--buckets", &count]).stdout)
            .expect("ids");
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("parapet.db");
    let scan = moto.scan(&db, ("testing", "testing"), &["--regions", "eu-west-1"]);
    assert!(scan.status.success());
    let queue = &ids["queue"];
    let rule = "aws-s3-bucket-policy-not-public";
    let webhook = receiver::Receiver::start(200);
    let config = dir.path().join("parapet.toml");
    std::fs::write(
        &config,
        format!(
            "[notifications]\ndefault = [\"hook\"]\n[[notifications.channels]]\ntype = \"webhook\"\nname = \"hook\"\nurl = \"{}/hook\"\n",
            webhook.url
        ),
    )
    .expect("write the configuration");
    let mut watch = moto
        .watch(&db, dir.path(), queue)
        .args(["--config", config.to_str().expect("utf-8")])
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("parapet watch starts");
    let sent = moto.python(
        &fixture("aws-sent-times.py"),
        &["--queue", queue, "--rate", &rate, "--count", &count],
    );
    let sent: BTreeMap<String, i64> = serde_json::from_slice(&sent.stdout).expect("sent times");
    let committed = common::committed(&db, rule, &sent, |id| {
        id.trim_start_matches("arn:aws:s3:::").to_owned()
    });
    // The webhook's notifications follow the commit.
    let deadline = Instant::now() + Duration::from_secs(60);
    let heard = loop {
        let heard: BTreeMap<String, i64> = webhook
            .received()
            .iter()
            .filter_map(|r| {
                let body: serde_json::Value = serde_json::from_str(&r.body).ok()?;
                (body["finding"]["rule_id"] == rule && body["event"] == "finding_opened").then(
                    || {
                        let id = body["asset"]["id"].as_str()?;
                        Some((id.trim_start_matches("arn:aws:s3:::").to_owned(), r.at_ms))
                    },
                )?
            })
            .collect();
        if sent.keys().all(|b| heard.contains_key(b)) || Instant::now() > deadline {
            break heard;
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    watch.kill().ok();
    watch.wait().ok();
    report_latencies("from the queue to the committed finding", &sent, &committed);
    report_latencies("from the queue to the webhook", &sent, &heard);
}
