use crate::stories::inventory::{RULE, estate};
use crate::{at, bucket, evaluation, provenance, scan, scope};
use parapet_core::{MuteSelector, Status};
use parapet_store::roles::*;
use parapet_store::{Policy, SqliteStore, StoreError};
use serde_json::json;

#[test]
fn a_new_database_gets_the_current_schema_and_reopens() {
    let (dir, store) = crate::sqlite_store(Policy::default());
    assert_eq!(
        store.schema_version().expect("version"),
        parapet_store::sqlite::SCHEMA_VERSION
    );
    drop(store);
    let again = SqliteStore::open(&dir.path().join("parapet.db")).expect("reopen");
    assert_eq!(again.scans(10).expect("scans").len(), 0);
    assert_eq!(again.integrity_check().expect("check"), "ok");
}

#[test]
fn scans_of_a_batch_are_committed_when_it_ends_and_a_failure_loses_those_not_committed_whole() {
    let (dir, mut store) = crate::sqlite_store(Policy::default());
    let other = SqliteStore::open(&dir.path().join("parapet.db")).expect("a second connection");
    let ids = |s: &SqliteStore| -> Vec<String> {
        let mut ids: Vec<String> = s
            .current_assets(None)
            .expect("assets")
            .into_iter()
            .map(|a| a.id)
            .collect();
        ids.sort();
        ids
    };
    let a = bucket("a", json!({}), at(0));
    let b = bucket("b", json!({}), at(1));
    store.begin_batch();
    scan(&mut store, at(0), std::slice::from_ref(&a), &[], &[]);
    assert!(
        ids(&other).is_empty(),
        "seen before the batch was committed"
    );
    assert_eq!(ids(&store), [a.id.as_str()]);
    store.end_batch().expect("the batch commits");
    assert_eq!(ids(&other), [a.id.as_str()]);

    store.begin_batch();
    scan(&mut store, at(1), &[a.clone(), b.clone()], &[], &[]);
    let id = store
        .begin_scan(&scope(), "test", &provenance(), at(2))
        .expect("begin scan");
    let failed = store.finish_scan(
        id,
        std::slice::from_ref(&a),
        parapet_store::Evaluated::all(&[evaluation(RULE, &b, Status::Fail)]),
        &|_: &str| parapet_core::Severity::High,
        &[],
        at(2),
    );
    assert!(matches!(failed, Err(StoreError::Invalid(_))), "{failed:?}");
    store.end_batch().expect("nothing is left to commit");
    assert_eq!(ids(&store), [a.id.as_str()]);
    assert_eq!(ids(&other), [a.id.as_str()]);
    assert_eq!(store.integrity_check().expect("check"), "ok");
}

#[test]
fn a_batch_commits_once_ten_thousand_assets_changed_in_it_and_assets_seen_again_do_not_count() {
    let (dir, mut store) = crate::sqlite_store(Policy::default());
    let other = SqliteStore::open(&dir.path().join("parapet.db")).expect("a second connection");
    // How many scans the other connection sees finished.
    let finished = || {
        other
            .scans(10)
            .expect("scans")
            .iter()
            .filter(|s| s.finished_at.is_some())
            .count()
    };
    let assets: Vec<_> = (0..10_000)
        .map(|i| bucket(&format!("b{i}"), json!({}), at(0)))
        .collect();
    store.begin_batch();
    scan(&mut store, at(0), &assets, &[], &[]);
    assert_eq!(finished(), 1, "10,000 new assets commit the batch");
    // The same assets seen again change nothing: the batch stays open
    // (unless it has been open for its longest).
    let began = std::time::Instant::now();
    scan(&mut store, at(1), &assets, &[], &[]);
    if began.elapsed() < std::time::Duration::from_secs(2) {
        assert_eq!(finished(), 1, "assets seen again do not count");
    }
    store.end_batch().expect("the batch commits");
    assert_eq!(finished(), 2);
}

#[test]
fn a_checkpoint_right_after_a_commit_waits_for_the_one_the_commit_started_and_empties_the_log() {
    let (dir, mut store) = crate::sqlite_store(Policy::default());
    let log = dir.path().join("parapet.db-wal");
    for round in 0..20 {
        let assets: Vec<_> = (0..2_000)
            .map(|i| bucket(&format!("b{i}"), json!({ "round": round }), at(round)))
            .collect();
        scan(&mut store, at(round), &assets, &[], &[]);
        // The commit's own checkpoint has started, or is under way.
        std::thread::sleep(std::time::Duration::from_millis(round as u64));
        store.checkpoint().expect("the log emptied");
        let length = std::fs::metadata(&log).map_or(0, |m| m.len());
        assert_eq!(length, 0, "round {round}: the log holds {length} bytes");
    }
}

/// The versions of `asset` kept, oldest first, by content hash.
fn versions(store: &SqliteStore, asset: &str) -> Vec<String> {
    store
        .asset_history(asset)
        .expect("history")
        .into_iter()
        .map(|v| v.content_hash.to_string())
        .collect()
}

#[test]
fn an_accounts_assets_read_for_evaluation_serve_its_recording_only_while_nothing_changed_them() {
    let (dir, mut store) = crate::sqlite_store(Policy::default());
    let mut other = SqliteStore::open(&dir.path().join("parapet.db")).expect("a second connection");
    let first = bucket("a", json!({"v": 1}), at(0));
    let second = bucket("a", json!({"v": 2}), at(1));
    let hash = |a: &parapet_core::Asset| a.content_hash().to_string();
    scan(&mut store, at(0), std::slice::from_ref(&first), &[], &[]);

    // Another connection changes the asset after this one read the
    // account: the read no longer holds, and recording the first content
    // again is a change back.
    store
        .evaluated_assets_of(parapet_core::Provider::Aws, &first.account)
        .expect("read");
    scan(&mut other, at(1), std::slice::from_ref(&second), &[], &[]);
    scan(&mut store, at(2), std::slice::from_ref(&first), &[], &[]);
    assert_eq!(
        versions(&store, &first.id),
        [hash(&first), hash(&second), hash(&first)]
    );

    // This connection's own recording takes the read: the next scan reads
    // what that recording wrote.
    store
        .evaluated_assets_of(parapet_core::Provider::Aws, &first.account)
        .expect("read");
    scan(&mut store, at(3), std::slice::from_ref(&second), &[], &[]);
    scan(&mut store, at(4), std::slice::from_ref(&first), &[], &[]);
    assert_eq!(
        versions(&store, &first.id),
        [
            hash(&first),
            hash(&second),
            hash(&first),
            hash(&second),
            hash(&first)
        ]
    );
    assert_eq!(store.integrity_check().expect("check"), "ok");
}

/// Records `asset` as evaluated with a stamp, so that incremental
/// evaluation's reads name it.
fn stamped(
    store: &mut SqliteStore,
    when: chrono::DateTime<chrono::Utc>,
    asset: &parapet_core::Asset,
) {
    let id = store
        .begin_scan(&scope(), "test", &provenance(), when)
        .expect("begin scan");
    let stamps = [Some("sha256:1/0/0/0".to_owned())];
    store
        .finish_scan(
            id,
            std::slice::from_ref(asset),
            parapet_store::Evaluated {
                evaluations: &[],
                stamps: &stamps,
                contents: &[],
                kept: 0,
                inapplicable: &[],
            },
            &|_: &str| parapet_core::Severity::High,
            &[],
            when,
        )
        .expect("finish scan");
}

#[test]
fn an_account_is_read_ahead_on_another_thread_once_what_was_written_of_it_is_committed() {
    let (dir, mut store) = crate::sqlite_store(Policy::default());
    let mut other = SqliteStore::open(&dir.path().join("parapet.db")).expect("a second connection");
    let first = bucket("a", json!({"v": 1}), at(0));
    let second = bucket("a", json!({"v": 2}), at(1));
    let hash = |a: &parapet_core::Asset| a.content_hash().to_string();
    let aws = parapet_core::Provider::Aws;
    let read_ahead = |store: &SqliteStore| {
        let ahead = store.read_ahead(aws, &first.account).expect("asked")?;
        let read = std::thread::spawn(move || ahead.read())
            .join()
            .expect("the reading thread")
            .expect("read");
        Some(read)
    };
    stamped(&mut store, at(0), &first);

    // Read on another thread, the account is what this connection reads.
    let read = read_ahead(&store).expect("SQLite reads ahead");
    let here = store
        .evaluated_assets_of(aws, &first.account)
        .expect("read");
    assert_eq!(
        read.evaluated().collect::<Vec<_>>(),
        here.iter()
            .map(parapet_store::EvaluatedAsset::borrowed)
            .collect::<Vec<_>>()
    );
    assert_eq!(
        read.evaluated().next().map(|a| a.content_hash),
        Some(hash(&first).as_str())
    );

    // Another connection changes the asset after the read was granted: the
    // read no longer holds, and recording the first content again is a
    // change back.
    store.keep_read(read);
    stamped(&mut other, at(1), &second);
    stamped(&mut store, at(2), &first);
    assert_eq!(
        versions(&store, &first.id),
        [hash(&first), hash(&second), hash(&first)]
    );

    // Recorded in a batch and not yet committed, the account cannot be read
    // on another connection; once committed, it can.
    store.begin_batch();
    stamped(&mut store, at(3), &second);
    assert!(read_ahead(&store).is_none(), "read before it was committed");
    store.end_batch().expect("the batch commits");
    let read = read_ahead(&store).expect("read once committed");
    assert_eq!(
        read.evaluated().next().map(|a| a.content_hash),
        Some(hash(&second).as_str())
    );
    assert_eq!(store.integrity_check().expect("check"), "ok");
}

#[test]
fn a_new_database_its_log_and_its_folder_are_for_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let folder = dir.path().join("state/parapet");
    let path = folder.join("parapet.db");
    let mut store = SqliteStore::open(&path).expect("open");
    estate(&mut store);
    let mode = |p: &std::path::Path| {
        std::fs::metadata(p)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&folder.join("parapet.db-wal")), 0o600);
    assert_eq!(mode(&folder.join("parapet.db-shm")), 0o600);
    assert_eq!(mode(&folder), 0o700);
    drop(store);
    // An existing file keeps the mode its owner gave it.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    SqliteStore::open(&path).expect("reopen");
    assert_eq!(mode(&path), 0o640);
}

#[test]
fn a_database_from_a_newer_parapet_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("future.db");
    {
        let conn = rusqlite::Connection::open(&path).expect("sqlite");
        conn.pragma_update(None, "user_version", 99)
            .expect("set version");
    }
    let error = match SqliteStore::open(&path) {
        Err(e) => e,
        Ok(_) => panic!("a newer schema must be refused"),
    };
    assert!(
        matches!(error, StoreError::NewerSchema { found: 99, .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("future.db"), "{message}");
    assert!(message.contains("upgrade Parapet"), "{message}");
}

#[test]
fn the_folder_of_the_database_is_created() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("a/b/parapet.db");
    SqliteStore::open(&path).expect("open in new folders");
    assert!(path.exists());
}

#[test]
fn a_version_1_database_is_migrated_with_its_history() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("v1.db");
    {
        let conn = rusqlite::Connection::open(&path).expect("sqlite");
        conn.execute_batch(include_str!("../../src/sqlite/migrations/0001_initial.sql"))
            .expect("schema 1");
        conn.pragma_update(None, "user_version", 1)
            .expect("set version");
        let document = |n: u32| {
            format!(
                r#"{{"id":"arn:aws:s3:::old","provider":"aws","account":"111111111111","region":"eu-west-1","resource_type":"AWS::S3::Bucket","name":"old","config":{{"Versioning":{{"Status":"S{n}"}}}},"observed_at":"2026-01-0{n}T00:00:00Z"}}"#
            )
        };
        for n in 1..=2 {
            conn.execute(
                "INSERT INTO asset_versions (asset_id, version, content_hash, observed_at, document) VALUES ('arn:aws:s3:::old', ?1, ?2, ?3, ?4)",
                rusqlite::params![n, format!("{n:064}"), 1_767_225_600_000_i64 + i64::from(n - 1) * 86_400_000, document(n)],
            )
            .expect("version");
        }
    }
    let store = SqliteStore::open(&path).expect("migrate");
    assert_eq!(
        store.schema_version().expect("version"),
        parapet_store::sqlite::SCHEMA_VERSION
    );
    let history = store.asset_history("arn:aws:s3:::old").expect("history");
    assert_eq!(
        history.iter().map(|v| v.version).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(history[1].asset.config["Versioning"]["Status"], "S2");
    assert_eq!(store.integrity_check().expect("check"), "ok");
}

/// Findings counted by account, severity, result, open and muted.
type Counts = Vec<(String, i64, String, i64, i64, i64)>;

/// The overview's counters, and the same counted from the findings.
fn counted(path: &std::path::Path) -> (Counts, Counts) {
    let conn = rusqlite::Connection::open(path).expect("open");
    let rows = |sql: &str| -> Counts {
        let mut stmt = conn.prepare(sql).expect("prepare");
        stmt.query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
    };
    (
        rows(
            "SELECT account, severity, result, open, muted, n FROM finding_counts WHERE live = 1 AND n > 0 ORDER BY 1, 2, 3, 4, 5",
        ),
        rows(
            "SELECT account, severity, result, coalesce(status IN ('open', 'reopened'), 0), muted_by IS NOT NULL, count(*) \
             FROM findings WHERE asset_id IN (SELECT id FROM assets WHERE deleted_at IS NULL) GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5",
        ),
    )
}

#[test]
fn the_overview_counters_follow_every_write() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("parapet.db");
    let mut store = parapet_store::SqliteStore::open(&path).expect("open");
    let check = |step: &str| {
        let (counters, direct) = counted(&path);
        assert_eq!(counters, direct, "after {step}");
    };
    estate(&mut store);
    check("the first scan");
    let (mute, _) = store
        .add_mute(
            &MuteSelector {
                rule_id: Some(RULE.into()),
                ..MuteSelector::default()
            },
            "r",
            "a",
            Some(at(5)),
            at(1),
        )
        .expect("mute");
    check("a mute");
    store.expire_mutes(at(6)).expect("expire");
    check("an expiry");
    store
        .add_mute(
            &MuteSelector {
                asset: Some("arn:aws:s3:::dev-0".into()),
                ..MuteSelector::default()
            },
            "r",
            "a",
            None,
            at(7),
        )
        .expect("mute");
    assert!(store.lift_mute(mute.id, at(8)).is_err(), "already ended");
    // prod-4 is gone from a complete scan; prod-2 now passes.
    let assets: Vec<_> = ["dev-0", "dev-1", "prod-2", "prod-3"]
        .iter()
        .map(|n| bucket(n, json!({"v": 2}), at(9)))
        .collect();
    let evaluations: Vec<_> = assets
        .iter()
        .map(|a| {
            evaluation(
                RULE,
                a,
                if a.name == "dev-0" {
                    Status::Fail
                } else {
                    Status::Pass
                },
            )
        })
        .collect();
    scan(&mut store, at(9), &assets, &evaluations, &[]);
    check("a deletion and a resolution");
    let overview = store.overview(at(9), 1).expect("overview");
    assert_eq!(overview.assets, 4);
    // prod-4 is back, failing again.
    let mut back = assets.clone();
    back.push(bucket("prod-4", json!({}), at(10)));
    let evaluations: Vec<_> = back
        .iter()
        .map(|a| {
            evaluation(
                RULE,
                a,
                if a.name == "prod-4" {
                    Status::Fail
                } else {
                    Status::Pass
                },
            )
        })
        .collect();
    scan(&mut store, at(10), &back, &evaluations, &[]);
    check("an asset seen again");
    assert_eq!(store.overview(at(10), 1).expect("overview").assets, 5);
}
