use super::{parapet_with_db, stderr, stdout};
use serde_json::{Value, json};
use std::path::Path;

/// Writes an estate of buckets: (name, versioning status, observed hour).
fn estate(dir: &Path, file: &str, buckets: &[(&str, &str, u32)]) -> String {
    let lines: Vec<String> = buckets
        .iter()
        .map(|(name, versioning, hour)| {
            json!({
                "id": format!("arn:aws:s3:::{name}"), "provider": "aws", "account": "111111111111",
                "region": "eu-west-1", "resource_type": "AWS::S3::Bucket", "name": name,
                "tags": {"env": "prod"},
                "config": {"Name": name, "Versioning": {"Status": versioning}},
                "observed_at": format!("2026-11-01T{hour:02}:00:00Z")
            })
            .to_string()
        })
        .collect();
    let path = dir.join(file);
    std::fs::write(&path, lines.join("\n") + "\n").expect("write estate");
    path.display().to_string()
}

fn json_of(db: &Path, args: &[&str]) -> Value {
    let output = parapet_with_db(db, args);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{args:?}: {}",
        stderr(&output)
    );
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", stdout(&output)))
}

fn scan(db: &Path, file: &str) {
    let output = parapet_with_db(
        db,
        &[
            "scan",
            "file",
            file,
            "--no-builtin-rules",
            "--rules",
            &rules_dir(),
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("Recorded scan"),
        "{}",
        stdout(&output)
    );
}

/// A folder with only the versioning rule, so the counts stay small.
fn rules_dir() -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules/aws/s3");
    let only = std::env::temp_dir().join(format!("parapet-versioning-rule-{}", std::process::id()));
    std::fs::create_dir_all(&only).expect("rules folder");
    std::fs::copy(
        dir.join("bucket-versioning-enabled.yaml"),
        only.join("rule.yaml"),
    )
    .expect("copy rule");
    only.display().to_string()
}

fn event_kinds(db: &Path, asset: &str) -> Vec<String> {
    let events = json_of(db, &["events", "--asset", asset, "--format", "json"]);
    let mut kinds: Vec<String> = events
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["kind"].as_str().expect("kind").to_owned())
        .collect();
    kinds.reverse();
    kinds
}

#[test]
fn scans_of_changed_files_produce_the_timeline() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("parapet.db");
    // v1: a fails versioning, b passes, c exists.
    let v1 = estate(
        dir.path(),
        "v1.jsonl",
        &[
            ("a", "Suspended", 1),
            ("b", "Enabled", 1),
            ("c", "Enabled", 1),
        ],
    );
    // v2: a fixed (resolved), b broken (opened), c deleted.
    let v2 = estate(
        dir.path(),
        "v2.jsonl",
        &[("a", "Enabled", 2), ("b", "Suspended", 2)],
    );
    // v3: a broken again (reopened).
    let v3 = estate(
        dir.path(),
        "v3.jsonl",
        &[("a", "Suspended", 3), ("b", "Suspended", 3)],
    );
    for file in [&v1, &v2, &v3] {
        scan(&db, file);
    }
    assert_eq!(
        event_kinds(&db, "arn:aws:s3:::a"),
        vec![
            "asset_created",
            "finding_opened",
            "asset_changed",
            "finding_resolved",
            "asset_changed",
            "finding_reopened"
        ]
    );
    assert_eq!(
        event_kinds(&db, "arn:aws:s3:::b"),
        vec!["asset_created", "asset_changed", "finding_opened"],
        "v3 repeats b unchanged: no event"
    );
    assert_eq!(
        event_kinds(&db, "arn:aws:s3:::c"),
        vec!["asset_created", "asset_deleted"]
    );

    let history = json_of(
        &db,
        &["assets", "history", "arn:aws:s3:::a", "--format", "json"],
    );
    assert_eq!(history.as_array().expect("versions").len(), 3);
    let changes = json_of(
        &db,
        &["assets", "diff", "arn:aws:s3:::a", "--format", "json"],
    );
    assert_eq!(
        changes,
        json!([{"path": "config.Versioning.Status", "kind": "changed", "old": "Enabled", "new": "Suspended"}])
    );
    let then = json_of(
        &db,
        &[
            "assets",
            "show",
            "arn:aws:s3:::a",
            "--at",
            "2026-11-01T02:30:00Z",
        ],
    );
    assert_eq!(then["version"], 2);
    assert_eq!(then["asset"]["config"]["Versioning"]["Status"], "Enabled");

    let open = json_of(&db, &["findings", "list", "--format", "json"]);
    let open: Vec<&str> = open
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["asset_id"].as_str().expect("id"))
        .collect();
    assert_eq!(open, vec!["arn:aws:s3:::a", "arn:aws:s3:::b"]);
    let scans = json_of(&db, &["scans", "--format", "json"]);
    assert_eq!(scans.as_array().expect("scans").len(), 3);
    assert_eq!(scans[0]["status"], "complete");
}

#[test]
fn mute_and_unmute_from_the_command_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("parapet.db");
    let file = estate(
        dir.path(),
        "e.jsonl",
        &[("a", "Suspended", 1), ("b", "Suspended", 1)],
    );
    scan(&db, &file);
    let output = parapet_with_db(
        &db,
        &[
            "findings",
            "mute",
            "--asset",
            "arn:aws:s3:::a",
            "--reason",
            "legacy bucket, retiring",
            "--author",
            "alice",
            "--expires",
            "30d",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("1 findings muted"),
        "{}",
        stdout(&output)
    );
    let visible = json_of(&db, &["findings", "list", "--format", "json"]);
    assert_eq!(visible.as_array().expect("findings").len(), 1);
    let all = json_of(
        &db,
        &["findings", "list", "--include-muted", "--format", "json"],
    );
    assert_eq!(all.as_array().expect("findings").len(), 2);
    let mutes = json_of(&db, &["findings", "mutes", "--format", "json"]);
    let id = mutes[0]["id"].as_i64().expect("id").to_string();
    assert_eq!(mutes[0]["author"], "alice");
    let output = parapet_with_db(&db, &["findings", "unmute", &id]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let visible = json_of(&db, &["findings", "list", "--format", "json"]);
    assert_eq!(visible.as_array().expect("findings").len(), 2);
    let kinds: Vec<String> = json_of(
        &db,
        &[
            "events",
            "--kind",
            "finding_muted,finding_unmuted",
            "--format",
            "json",
        ],
    )
    .as_array()
    .expect("events")
    .iter()
    .map(|e| e["kind"].as_str().expect("kind").to_owned())
    .collect();
    assert_eq!(kinds, vec!["finding_unmuted", "finding_muted"]);
    let bad = parapet_with_db(&db, &["findings", "mute", "--reason", "nothing selected"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("at least one of"), "{}", stderr(&bad));
}

#[test]
fn a_database_from_a_newer_parapet_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("future.db");
    let output = parapet_with_db(&db, &["findings", "list"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // Pretend a newer Parapet wrote it: SQLite keeps user_version, our schema
    // version, as a big-endian integer at offset 60 of the file header.
    let mut bytes = std::fs::read(&db).expect("read database");
    bytes[60..64].copy_from_slice(&99u32.to_be_bytes());
    std::fs::write(&db, bytes).expect("write database");
    let output = parapet_with_db(&db, &["findings", "list"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("schema version 99, newer than this Parapet supports"),
        "{message}"
    );
    assert!(message.contains("future.db"), "{message}");
}
