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

/// A folder with only the versioning rule, so the counts stay small. It is
/// written once per test process: tests run at once, and rewriting the file
/// while another test's parapet reads it would hand that one an empty rule.
fn rules_dir() -> String {
    static ONLY: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    let only = ONLY.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules/aws/s3");
        let only = tempfile::tempdir().expect("rules folder");
        std::fs::copy(
            dir.join("bucket-versioning-enabled.yaml"),
            only.path().join("rule.yaml"),
        )
        .expect("copy rule");
        only
    });
    only.path().display().to_string()
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

/// The database a test of both backends runs on: a file in `dir`, or a
/// new database on the test PostgreSQL server.
fn database(dir: &Path, postgres: bool) -> std::path::PathBuf {
    if postgres {
        parapet_testkit::postgres::database().into()
    } else {
        dir.join("parapet.db")
    }
}

#[test]
fn scans_of_changed_files_produce_the_timeline() {
    the_timeline_of_changed_files(false);
}

#[test]
fn scans_of_changed_files_produce_the_timeline_on_postgres() {
    the_timeline_of_changed_files(true);
}

fn the_timeline_of_changed_files(postgres: bool) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = database(dir.path(), postgres);
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

    // Everything older than now goes but what is current.
    let pruned = json_of(&db, &["prune", "--older-than", "0s", "--format", "json"]);
    assert_eq!(
        pruned["rows"]["asset_versions"], 4,
        "a's first two versions, b's first and c's only one"
    );
    assert_eq!(pruned["rows"]["assets"], 1, "c");
    assert_eq!(pruned["rows"]["scans"], 3);
    let history = json_of(
        &db,
        &["assets", "history", "arn:aws:s3:::a", "--format", "json"],
    );
    assert_eq!(history.as_array().expect("versions").len(), 1);
    let open = json_of(&db, &["findings", "list", "--format", "json"]);
    assert_eq!(
        open.as_array().expect("findings").len(),
        2,
        "open findings stay"
    );
    let refused = parapet_with_db(&db, &["prune"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("--older-than"),
        "{}",
        stderr(&refused)
    );
}

#[test]
fn mute_and_unmute_from_the_command_line() {
    mute_and_unmute(false);
}

#[test]
fn mute_and_unmute_from_the_command_line_on_postgres() {
    mute_and_unmute(true);
}

fn mute_and_unmute(postgres: bool) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = database(dir.path(), postgres);
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

/// The assets of an interchange file, by id, with the fields a line may
/// leave out at their defaults.
fn assets_of(text: &str) -> std::collections::BTreeMap<String, Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut asset: Value = serde_json::from_str(l).expect("an asset line");
            let fields = asset.as_object_mut().expect("an object");
            for (field, default) in [
                ("region", json!("")),
                ("name", json!("")),
                ("tags", json!({})),
                ("relationships", json!([])),
                ("unknown", json!({})),
            ] {
                fields.entry(field).or_insert(default);
            }
            (asset["id"].as_str().expect("an id").to_owned(), asset)
        })
        .collect()
}

/// The ids a `parapet assets list --format json` prints.
fn listed(db: &Path, filters: &[&str]) -> Vec<String> {
    let args: Vec<&str> = ["assets", "list", "--format", "json"]
        .iter()
        .chain(filters)
        .copied()
        .collect();
    json_of(db, &args)
        .as_array()
        .expect("a list")
        .iter()
        .map(|a| a["id"].as_str().expect("an id").to_owned())
        .collect()
}

#[test]
fn the_inventory_is_listed_by_filter_and_exported_as_scan_file_reads_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("parapet.db");
    let example = super::example_estate();
    let original = assets_of(&std::fs::read_to_string(&example).expect("the example estate"));
    let output = parapet_with_db(&db, &["scan", "file", example.to_str().expect("a path")]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    let ids: Vec<String> = original.keys().cloned().collect();
    assert_eq!(listed(&db, &[]), ids, "every asset, in id order");
    let expect = |keep: &dyn Fn(&Value) -> bool| -> Vec<String> {
        original
            .iter()
            .filter(|(_, a)| keep(a))
            .map(|(id, _)| id.clone())
            .collect()
    };
    let buckets = expect(&|a| a["resource_type"] == "AWS::S3::Bucket");
    assert!(!buckets.is_empty() && buckets.len() < ids.len());
    assert_eq!(listed(&db, &["--type", "AWS::S3::Bucket"]), buckets);
    assert_eq!(
        listed(&db, &["--tag", "owner=security"]),
        expect(&|a| a["tags"]["owner"] == "security")
    );
    assert_eq!(
        listed(&db, &["--tag", "owner"]),
        expect(&|a| a["tags"].get("owner").is_some())
    );
    assert_eq!(
        listed(&db, &["-q", "AUDIT"]),
        expect(&|a| a["id"].as_str().is_some_and(|id| id.contains("audit"))
            || a["name"].as_str().is_some_and(|n| n.contains("audit")))
    );
    assert_eq!(listed(&db, &["--region", "nowhere"]), Vec::<String>::new());
    assert_eq!(listed(&db, &["--limit", "2"]), ids[..2].to_vec());

    // The export is the interchange format: the same assets, which a scan
    // of the file reads back with the same results.
    let exported = parapet_with_db(&db, &["assets", "list", "--format", "jsonl"]);
    assert_eq!(exported.status.code(), Some(0), "{}", stderr(&exported));
    let export = stdout(&exported);
    assert_eq!(assets_of(&export), original);
    let file = dir.path().join("export.jsonl");
    std::fs::write(&file, &export).expect("write the export");
    let rescan = |path: &Path| -> Value {
        let fresh = tempfile::tempdir().expect("temp dir");
        let output = parapet_with_db(
            &fresh.path().join("parapet.db"),
            &[
                "scan",
                "file",
                path.to_str().expect("a path"),
                "--format",
                "json",
            ],
        );
        serde_json::from_slice(&output.stdout).expect("a JSON report")
    };
    let (again, before) = (rescan(&file), rescan(&example));
    assert_eq!(again["assets"], before["assets"]);
    assert_eq!(again["summary"], before["summary"]);
    assert_eq!(again["results"], before["results"]);

    // A deleted asset is listed only when asked for, as last seen.
    let gone = &ids[0];
    let rest: String = export
        .lines()
        .filter(|l| !l.contains(&format!("\"id\":\"{gone}\"")))
        .map(|l| format!("{l}\n"))
        .collect();
    let smaller = dir.path().join("smaller.jsonl");
    std::fs::write(&smaller, rest).expect("write");
    let output = parapet_with_db(&db, &["scan", "file", smaller.to_str().expect("a path")]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(listed(&db, &[]), ids[1..].to_vec());
    assert_eq!(listed(&db, &["--include-deleted"]), ids);
    let table = parapet_with_db(&db, &["assets", "list", "--include-deleted"]);
    let text = stdout(&table);
    assert!(
        text.contains(gone.as_str()) && text.contains("deleted"),
        "{text}"
    );
    assert!(text.contains(&format!("{} asset(s).", ids.len())), "{text}");
}

#[test]
fn completions_manual_pages_and_the_version_come_from_the_command_line() {
    let bash = super::parapet(&["completions", "bash"]);
    assert_eq!(bash.status.code(), Some(0), "{}", stderr(&bash));
    let script = stdout(&bash);
    assert!(
        script.contains("complete -F") && script.contains("permissions"),
        "{script}"
    );
    // The script is bash that bash accepts.
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("parapet.bash");
    std::fs::write(&file, &script).expect("write the script");
    let checked = std::process::Command::new("bash")
        .arg("-n")
        .arg(&file)
        .output()
        .expect("bash runs");
    assert!(checked.status.success(), "{}", stderr(&checked));

    let man = super::parapet(&["man"]);
    assert_eq!(man.status.code(), Some(0), "{}", stderr(&man));
    let page = stdout(&man);
    assert!(
        page.starts_with(".ie") || page.contains(".TH parapet"),
        "{page}"
    );
    assert!(page.contains("permissions"), "{page}");
    let pages = dir.path().join("man1");
    let written = super::parapet(&["man", "--dir", pages.to_str().expect("a path")]);
    assert_eq!(written.status.code(), Some(0), "{}", stderr(&written));
    for page in ["parapet.1", "parapet-scan-aws.1", "parapet-assets-list.1"] {
        let text = std::fs::read_to_string(pages.join(page)).expect(page);
        assert!(text.contains(".TH"), "{page}: {text}");
    }

    let version = super::parapet(&["--version"]);
    assert_eq!(version.status.code(), Some(0), "{}", stderr(&version));
    let line = stdout(&version);
    let rules = super::parapet(&["rules", "list", "--format", "json"]);
    let count = serde_json::from_slice::<Value>(&rules.stdout)
        .expect("rules as JSON")
        .as_array()
        .map(Vec::len)
        .expect("a list");
    // The digest is the one every scan records with its results.
    let example = super::example_estate();
    let db = dir.path().join("parapet.db");
    let scan = parapet_with_db(&db, &["scan", "file", example.to_str().expect("a path")]);
    assert_eq!(scan.status.code(), Some(0), "{}", stderr(&scan));
    let scans = json_of(&db, &["scans", "--format", "json"]);
    let digest = scans[0]["provenance"]["rules"].as_str().expect("a digest");
    assert!(
        line.starts_with(&format!("parapet {} (commit ", env!("CARGO_PKG_VERSION")))
            && line.contains(&format!("built-in rules {digest}, {count} rules)")),
        "{line}"
    );
}

#[test]
fn the_policy_in_the_docs_is_the_one_parapet_prints() {
    let printed = super::parapet(&["permissions", "aws"]);
    assert_eq!(printed.status.code(), Some(0), "{}", stderr(&printed));
    let documented = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/aws-policy.json"),
    )
    .expect("docs/aws-policy.json");
    assert_eq!(
        stdout(&printed),
        documented,
        "regenerate it: parapet permissions aws > docs/aws-policy.json"
    );
}

#[test]
fn an_estate_with_one_id_twice_names_both_lines_and_records_the_rest() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("parapet.db");
    let file = estate(
        dir.path(),
        "twice.jsonl",
        &[
            ("logs", "Enabled", 1),
            ("site", "Suspended", 1),
            ("logs", "Suspended", 2),
        ],
    );
    let output = parapet_with_db(
        &db,
        &[
            "scan",
            "file",
            &file,
            "--no-builtin-rules",
            "--rules",
            &rules_dir(),
        ],
    );
    let said = stderr(&output);
    assert!(
        said.contains("twice.jsonl:3: asset `arn:aws:s3:::logs` is also on line 1"),
        "{said}"
    );
    assert!(!said.contains("UNIQUE"), "{said}");
    assert_ne!(output.status.code(), Some(0), "a bad line fails the run");
    assert!(
        stdout(&output).contains("Recorded scan"),
        "{}",
        stdout(&output)
    );
    assert_eq!(
        listed(&db, &[]),
        ["arn:aws:s3:::logs", "arn:aws:s3:::site"],
        "the first line of the two is kept"
    );
    let all = json_of(&db, &["assets", "list", "--format", "json"]);
    assert_eq!(
        (
            all[0]["open_findings"].as_u64(),
            all[0]["last_seen"].as_str()
        ),
        (Some(0), Some("2026-11-01T01:00:00Z")),
        "the first line's bucket, versioned: {all}"
    );
}

#[test]
fn a_rescan_keeps_what_did_not_change_and_reports_every_result() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("parapet.db");
    let file = estate(
        dir.path(),
        "estate.jsonl",
        &[("data", "Suspended", 1), ("logs", "Enabled", 1)],
    );
    let rules = rules_dir();
    let scan_json = |extra: &[&str]| {
        let mut args = vec![
            "scan",
            "file",
            file.as_str(),
            "--no-builtin-rules",
            "--rules",
            rules.as_str(),
            "--format",
            "json",
        ];
        args.extend(extra);
        json_of(&db, &args)
    };
    let first = scan_json(&[]);
    assert_eq!(first["recorded"][0]["counts"]["evaluations"], 2);
    assert_eq!(first["recorded"][0]["counts"]["kept"], 0);
    // Nothing changed: both results kept, and reported as before.
    let again = scan_json(&[]);
    let counts = &again["recorded"][0]["counts"];
    assert_eq!(
        (&counts["evaluations"], &counts["kept"]),
        (&json!(0), &json!(2))
    );
    assert_eq!(again["summary"], first["summary"]);
    assert_eq!(again["results"], first["results"]);
    // Everything again, when asked.
    let full = scan_json(&["--full"]);
    let counts = &full["recorded"][0]["counts"];
    assert_eq!(
        (&counts["evaluations"], &counts["kept"]),
        (&json!(2), &json!(0))
    );
    // One bucket changed: only its result is worked out.
    estate(
        dir.path(),
        "estate.jsonl",
        &[("data", "Enabled", 2), ("logs", "Enabled", 2)],
    );
    let changed = scan_json(&[]);
    let counts = &changed["recorded"][0]["counts"];
    assert_eq!(
        (&counts["evaluations"], &counts["kept"]),
        (&json!(1), &json!(1))
    );
    assert_eq!(counts["resolved"], 1);
    assert_eq!(changed["results"], json!([]), "nothing fails any more");
}
