//! The commands that read and act on what scans recorded, run as a user
//! runs them: one finding in full, every latest result in any format, the
//! frameworks, an incident resolved by hand, the outbox, and a test message
//! to a channel.

use super::receiver::Receiver;
use super::{parapet_with_db, stderr, stdout};
use serde_json::Value;
use std::path::{Path, PathBuf};

const RULE: &str = "aws-s3-bucket-versioning-enabled";

/// A database with two buckets scanned (versioning suspended on both) and
/// a configuration that groups findings into incidents and sends every
/// change to a webhook at `hook`.
fn recorded(dir: &Path, hook: &str) -> (PathBuf, String) {
    let file = dir.join("estate.jsonl");
    let lines: String = ["logs", "site"]
        .iter()
        .map(|name| {
            serde_json::json!({
                "id": format!("arn:aws:s3:::{name}"), "provider": "aws",
                "account": "123456789012", "region": "eu-west-1",
                "resource_type": "AWS::S3::Bucket", "name": name,
                "config": {"Name": name, "Versioning": {"Status": "Suspended"}},
                "observed_at": "2026-11-29T10:00:00Z",
            })
            .to_string()
                + "\n"
        })
        .collect();
    std::fs::write(&file, lines).expect("write");
    let config = dir.join("parapet.toml");
    std::fs::write(
        &config,
        format!(
            "[incidents]\ngroup_by = \"rule-and-account\"\nmin_severity = \"medium\"\n\
             [notifications]\ndefault = [\"hook\"]\n[[notifications.channels]]\ntype = \"webhook\"\n\
             name = \"hook\"\nurl = \"{hook}/hook\"\n"
        ),
    )
    .expect("write");
    let db = dir.join("parapet.db");
    let config = config.display().to_string();
    let scan = parapet_with_db(
        &db,
        &[
            "--config",
            &config,
            "scan",
            "file",
            file.to_str().expect("utf-8"),
        ],
    );
    assert!(stdout(&scan).contains("Recorded scan"), "{}", stderr(&scan));
    (db, config)
}

fn json(output: &std::process::Output) -> Value {
    assert!(output.status.success(), "{}", stderr(output));
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(output)))
}

#[test]
fn findings_show_gives_one_finding_in_full_and_names_a_missing_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let hook = Receiver::start(200);
    let (db, _) = recorded(dir.path(), &hook.url);
    let shown = json(&parapet_with_db(
        &db,
        &[
            "findings",
            "show",
            RULE,
            "arn:aws:s3:::logs",
            "--format",
            "json",
        ],
    ));
    assert_eq!(shown["status"], "open");
    assert_eq!(shown["result"], "fail");
    assert_eq!(shown["evidence"]["config.Versioning.Status"], "Suspended");
    assert!(
        shown["message"]
            .as_str()
            .is_some_and(|m| m.contains("`logs`")),
        "{shown}"
    );
    let table = parapet_with_db(&db, &["findings", "show", RULE, "arn:aws:s3:::logs"]);
    let text = stdout(&table);
    for field in [
        "severity",
        "medium",
        "evidence",
        "config.Versioning.Status = \"Suspended\"",
    ] {
        assert!(text.contains(field), "{field}: {text}");
    }
    let missing = parapet_with_db(
        &db,
        &["findings", "show", "no-such-rule", "arn:aws:s3:::logs"],
    );
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("`no-such-rule` has not been evaluated on `arn:aws:s3:::logs`"),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn report_results_prints_every_latest_result_writes_files_and_fails_on_severity() {
    let dir = tempfile::tempdir().expect("temp dir");
    let hook = Receiver::start(200);
    let (db, _) = recorded(dir.path(), &hook.url);
    let sarif = dir.path().join("results.sarif");
    let output = parapet_with_db(
        &db,
        &[
            "report",
            "results",
            "--format",
            "json",
            "--output",
            &format!("sarif={}", sarif.display()),
        ],
    );
    let report = json(&output);
    assert_eq!(report["assets"], 2);
    let failing: Vec<&str> = report["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|r| r["rule_id"] == RULE && r["status"] == "fail")
        .filter_map(|r| r["asset_id"].as_str())
        .collect();
    assert_eq!(failing, ["arn:aws:s3:::logs", "arn:aws:s3:::site"]);
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif).expect("the SARIF file"))
            .expect("SARIF is JSON");
    assert_eq!(written["version"], "2.1.0");
    let gate = parapet_with_db(&db, &["report", "results", "--fail-on", "medium"]);
    assert_eq!(
        gate.status.code(),
        Some(1),
        "a medium failure fails the gate"
    );
    let lenient = parapet_with_db(&db, &["report", "results", "--fail-on", "critical"]);
    assert_eq!(lenient.status.code(), Some(0), "{}", stderr(&lenient));
    let other = json(&parapet_with_db(
        &db,
        &[
            "report",
            "results",
            "--account",
            "999999999999",
            "--format",
            "json",
        ],
    ));
    assert_eq!(other["assets"], 0, "another account has none");
}

#[test]
fn report_frameworks_lists_each_framework_with_its_controls() {
    let dir = tempfile::tempdir().expect("temp dir");
    let table = parapet_with_db(&dir.path().join("parapet.db"), &["report", "frameworks"]);
    assert!(table.status.success(), "{}", stderr(&table));
    let text = stdout(&table);
    let row = |id: &str| {
        text.lines()
            .find(|l| l.contains(&format!(" {id} ")))
            .unwrap_or_else(|| panic!("{id}: {text}"))
            .split('┆')
            .map(|c| {
                c.trim_matches(|ch: char| ch == '│' || ch.is_whitespace())
                    .to_owned()
            })
            .collect::<Vec<String>>()
    };
    let cis = row("cis-aws-foundations-7.0");
    assert_eq!(
        (cis[1].as_str(), cis[3].as_str()),
        ("CIS AWS Foundations Benchmark", "70")
    );
    let fsbp = row("aws-foundational-security-best-practices");
    let (controls, covered): (u32, u32) = (
        fsbp[3].parse().expect("a count"),
        fsbp[4].parse().expect("a count"),
    );
    assert!(covered > 100 && covered <= controls, "{fsbp:?}");
}

#[test]
fn an_incident_resolved_by_hand_is_closed_notified_and_names_who() {
    let dir = tempfile::tempdir().expect("temp dir");
    let hook = Receiver::start(200);
    let (db, config) = recorded(dir.path(), &hook.url);
    let incidents = json(&parapet_with_db(
        &db,
        &["incidents", "list", "--format", "json"],
    ));
    let id = incidents[0]["id"].to_string();
    let before = hook.received().len();
    let resolved = parapet_with_db(&db, &["--config", &config, "incidents", "resolve", &id]);
    assert!(resolved.status.success(), "{}", stderr(&resolved));
    assert!(stdout(&resolved).contains(&format!("Incident {id} resolved")));
    let shown = json(&parapet_with_db(
        &db,
        &["incidents", "show", &id, "--format", "json"],
    ));
    assert_eq!(shown["incident"]["status"], "resolved");
    let sent = hook.received();
    assert!(sent.len() > before, "the webhook heard of it");
    let last: Value = serde_json::from_str(&sent[sent.len() - 1].body).expect("JSON");
    assert_eq!(last["event"], "incident_resolved", "{last}");
    let events = json(&parapet_with_db(
        &db,
        &["events", "--kind", "incident_resolved", "--format", "json"],
    ));
    assert_eq!(events.as_array().map(Vec::len), Some(1), "{events}");
    assert!(
        events[0]["detail"]["by"]
            .as_str()
            .is_some_and(|by| !by.is_empty())
    );
    let missing = parapet_with_db(&db, &["--config", &config, "incidents", "resolve", "999"]);
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn the_outbox_lists_by_status_and_a_test_message_reaches_the_channel() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Nothing listens on the hook at first: the scan's notifications wait.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let url = format!("http://{}", closed.local_addr().expect("address"));
    drop(closed);
    let (db, config) = recorded(dir.path(), &url);
    let pending = json(&parapet_with_db(
        &db,
        &[
            "notify", "outbox", "--status", "pending", "--format", "json",
        ],
    ));
    let pending = pending.as_array().expect("a list");
    assert_eq!(pending.len(), 2, "{pending:?}");
    assert!(
        pending
            .iter()
            .all(|n| n["attempts"] == 1 && n["channel"] == "hook")
    );
    let delivered = json(&parapet_with_db(
        &db,
        &[
            "notify",
            "outbox",
            "--status",
            "delivered",
            "--format",
            "json",
        ],
    ));
    assert_eq!(delivered.as_array().map(Vec::len), Some(0));
    let table = stdout(&parapet_with_db(&db, &["notify", "outbox"]));
    assert!(
        table.contains("pending") && table.contains("2 notification(s)"),
        "{table}"
    );
    let down = parapet_with_db(&db, &["--config", &config, "notify", "test", "hook"]);
    assert_eq!(
        down.status.code(),
        Some(2),
        "a channel that cannot be reached"
    );
    assert!(
        stderr(&down).contains("notification channel hook"),
        "{}",
        stderr(&down)
    );
    let unknown = parapet_with_db(&db, &["--config", &config, "notify", "test", "nope"]);
    assert!(stderr(&unknown).contains("no channel is named `nope`"));
    let hook = Receiver::start(200);
    let second = dir.path().join("second");
    std::fs::create_dir_all(&second).expect("mkdir");
    let (db, config) = recorded(&second, &hook.url);
    let before = hook.received().len();
    let test = parapet_with_db(&db, &["--config", &config, "notify", "test", "hook"]);
    assert!(test.status.success(), "{}", stderr(&test));
    assert_eq!(hook.received().len(), before + 1, "one test message");
}
