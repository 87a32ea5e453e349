use super::stderr;
use parapet_core::FindingStatus;
use parapet_store::roles::*;
use parapet_store::{EventQuery, FindingQuery, SqliteStore};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const ASSETS: usize = 6000;
const TRIALS: u32 = 24;

/// An estate of buckets and volumes; `variant` flips some settings, drops
/// some assets and adds others, so that each scan has writes to make.
fn estate(dir: &Path, variant: usize) -> PathBuf {
    let mut lines = Vec::with_capacity(ASSETS);
    for n in 0..ASSETS {
        if (n + variant).is_multiple_of(13) {
            continue;
        }
        let flip = (n + variant).is_multiple_of(5);
        let doc = if n % 2 == 0 {
            json!({
                "id": format!("arn:aws:s3:::bucket-{n}"), "provider": "aws", "account": "111111111111",
                "region": "eu-west-1", "resource_type": "AWS::S3::Bucket", "name": format!("bucket-{n}"),
                "config": {"Name": format!("bucket-{n}"), "Versioning": {"Status": if flip { "Suspended" } else { "Enabled" }},
                           "Logging": null, "Policy": null, "Acl": {"Grants": []}, "PublicAccessBlock": null},
                "observed_at": format!("2026-11-01T{:02}:00:00Z", variant % 24)
            })
        } else {
            json!({
                "id": format!("arn:aws:ec2:eu-west-1:111111111111:volume/vol-{n}"), "provider": "aws",
                "account": "111111111111", "region": "eu-west-1", "resource_type": "AWS::EC2::Volume",
                "name": format!("vol-{n}"), "config": {"VolumeId": format!("vol-{n}"), "Encrypted": !flip},
                "observed_at": format!("2026-11-01T{:02}:00:00Z", variant % 24)
            })
        };
        lines.push(doc.to_string());
    }
    let path = dir.join(format!("estate-{variant}.jsonl"));
    std::fs::write(&path, lines.join("\n") + "\n").expect("write estate");
    path
}

fn scan_command(db: &Path, file: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_parapet"));
    command
        .args([
            "scan",
            "file",
            file.to_str().expect("utf-8"),
            "--format",
            "json",
        ])
        .env("PARAPET_DB", db)
        .env_remove("PARAPET_RULES")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    command
}

fn scan_to_completion(db: &Path, file: &Path) -> Duration {
    let started = Instant::now();
    let output = scan_command(db, file).output().expect("parapet runs");
    assert!(output.status.success(), "{}", stderr(&output));
    started.elapsed()
}

/// The ids of every asset the estate files give, read once.
fn estate_ids(files: &[PathBuf]) -> BTreeSet<String> {
    files
        .iter()
        .flat_map(|file| {
            std::fs::read_to_string(file)
                .expect("estate")
                .lines()
                .map(|line| {
                    serde_json::from_str::<serde_json::Value>(line).expect("json")["id"]
                        .as_str()
                        .expect("id")
                        .to_owned()
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Current assets (id to content hash, `None` when deleted or unknown) and
/// the (rule, asset) pairs that fail now.
type CurrentState = (BTreeMap<String, Option<String>>, BTreeSet<(String, String)>);

/// What must be the same after the same last complete scan: current
/// assets and the findings that fail now.
fn current_state(store: &SqliteStore, ids: &BTreeSet<String>) -> CurrentState {
    let mut assets = BTreeMap::new();
    for id in ids {
        let current = store.asset_at(id, None).expect("asset");
        let state = current
            .filter(|v| v.deleted_at.is_none())
            .map(|v| v.content_hash.to_string());
        assets.insert(id.clone(), state);
    }
    let failing = store
        .findings(&FindingQuery {
            statuses: vec![FindingStatus::Open, FindingStatus::Reopened],
            include_muted: true,
            limit: 1_000_000,
            ..Default::default()
        })
        .expect("findings")
        .into_iter()
        .map(|f| (f.rule_id, f.asset_id))
        .collect();
    (assets, failing)
}

/// Everything a scan writes, as it stands: each asset's latest version
/// (number, content hash, deleted or not) and how many versions its history
/// holds, and every finding with its status. After a kill it is either the
/// state before the scan or the state after it, never a part of each.
type Snapshot = (
    BTreeMap<String, (i64, String, bool, usize)>,
    BTreeSet<(String, String, String)>,
);

fn snapshot(store: &SqliteStore, ids: &BTreeSet<String>) -> Snapshot {
    let mut assets = BTreeMap::new();
    for id in ids {
        if let Some(latest) = store.asset_at(id, None).expect("asset") {
            let history = store.asset_history(id).expect("history").len();
            let state = (
                latest.version,
                latest.content_hash.to_string(),
                latest.deleted_at.is_some(),
                history,
            );
            assets.insert(id.clone(), state);
        }
    }
    let findings = store
        .findings(&FindingQuery {
            statuses: Vec::new(),
            include_muted: true,
            limit: 1_000_000,
            ..Default::default()
        })
        .expect("findings")
        .into_iter()
        .map(|f| (f.rule_id, f.asset_id, format!("{:?}", f.status)))
        .collect();
    (assets, findings)
}

#[test]
fn a_scan_killed_at_any_point_leaves_a_consistent_database_and_the_next_scan_completes_the_work() {
    let dir = tempfile::tempdir().expect("temp dir");
    let files = [estate(dir.path(), 0), estate(dir.path(), 1)];
    let ids = estate_ids(&files);
    let db = dir.path().join("killed.db");
    let reference = dir.path().join("reference.db");
    scan_to_completion(&reference, &files[0]);
    let full = scan_to_completion(&reference, &files[1]);

    scan_to_completion(&db, &files[0]);
    let mut committed: Vec<parapet_store::StoredEvent> = Vec::new();
    let mut interrupted = 0;
    let mut mid_write = 0;
    let wal = db.with_extension("db-wal");
    let wal_size = || std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    let shadow = dir.path().join("shadow.db");
    let mut committed_scans = 0;
    for trial in 0..TRIALS {
        let file = &files[(trial as usize + 1) % 2];
        // The database as the scan finds it (its log is empty: checkpointed
        // after the previous trial), kept to work out what the scan would
        // have made of it.
        let (before, last_before) = {
            let store = SqliteStore::open(&db).expect("open");
            store.checkpoint().expect("checkpoint");
            let last = store.scans(1).expect("scans").first().map(|s| s.id);
            (snapshot(&store, &ids), last)
        };
        std::fs::copy(&db, &shadow).expect("copy the database");
        // Writes come last in a scan: most kills aim at the second half.
        let delay = full.mul_f64(0.2 + 1.0 * f64::from(trial) / f64::from(TRIALS));
        let wal_before = wal_size();
        let mut child = scan_command(&db, file).spawn().expect("spawn parapet");
        if trial % 2 == 1 {
            // Every other kill waits until the scan writes in bulk (the log
            // grows past the first pages), then lands a little later each
            // time: evaluation dominates a scan, so timed kills alone rarely
            // hit the writes.
            let deadline = Instant::now() + full * 3;
            while wal_size() < wal_before + 64 * 1024
                && Instant::now() < deadline
                && matches!(child.try_wait(), Ok(None))
            {
                std::thread::sleep(Duration::from_millis(1));
            }
            std::thread::sleep(Duration::from_millis(u64::from(trial)));
        } else {
            std::thread::sleep(delay);
        }
        // Child::kill sends SIGKILL on Unix: no chance to clean up.
        child.kill().ok();
        let wal_grew = wal_size() > wal_before;
        let status = child.wait().expect("wait");
        if !status.success() {
            interrupted += 1;
        }

        let store = SqliteStore::open(&db).expect("reopen after kill");
        assert_eq!(
            store.integrity_check().expect("integrity check"),
            "ok",
            "trial {trial}"
        );
        let events = store
            .events(&EventQuery {
                limit: 10_000_000,
                ..Default::default()
            })
            .expect("events");
        let by_id: BTreeMap<i64, &parapet_store::StoredEvent> =
            events.iter().map(|e| (e.id, e)).collect();
        for old in &committed {
            assert_eq!(
                by_id.get(&old.id),
                Some(&old),
                "trial {trial}: committed event {} lost",
                old.id
            );
        }
        let last = store.scans(1).expect("scans");
        // The killed scan committed if it got as far as a scan of its own
        // that is no longer running.
        let finished = last.first().is_some_and(|s| {
            Some(s.id) != last_before && s.status != parapet_core::ScanStatus::Running
        });
        let expected = if finished {
            committed_scans += 1;
            scan_to_completion(&shadow, file);
            snapshot(&SqliteStore::open(&shadow).expect("open"), &ids)
        } else {
            before
        };
        assert!(
            snapshot(&store, &ids) == expected,
            "trial {trial}: the assets, versions and findings are neither the state before the scan nor after it (finished: {finished})"
        );
        if wal_grew
            && last
                .first()
                .is_some_and(|s| s.status == parapet_core::ScanStatus::Running)
        {
            // Pages were written but the scan never committed: killed mid-write.
            mid_write += 1;
        }
        for scan in store.scans(1000).expect("scans") {
            let written = events.iter().filter(|e| e.scan_id == Some(scan.id)).count();
            match scan.status {
                parapet_core::ScanStatus::Running => {
                    assert_eq!(
                        written, 0,
                        "trial {trial}: scan {} was killed but left events",
                        scan.id
                    )
                }
                _ => assert_eq!(
                    scan.counts.created
                        + scan.counts.changed
                        + scan.counts.deleted
                        + scan.counts.opened
                        + scan.counts.resolved
                        + scan.counts.reopened,
                    written as u64,
                    "trial {trial}: scan {} is complete but its events do not match its counts",
                    scan.id
                ),
            }
        }
        committed = events;
        // An empty log before the next trial: any growth is that scan writing.
        store.checkpoint().expect("checkpoint");
    }
    eprintln!(
        "{interrupted} of {TRIALS} scans interrupted, {mid_write} of them while writing; {committed_scans} committed"
    );
    assert!(
        interrupted >= TRIALS / 2,
        "only {interrupted} of {TRIALS} scans were interrupted"
    );
    assert!(
        mid_write >= 3,
        "only {mid_write} of {TRIALS} kills landed while a scan was writing"
    );

    // The next scan completes the work: the state equals an uninterrupted run's.
    scan_to_completion(&db, &files[1]);
    let killed = SqliteStore::open(&db).expect("open");
    let clean = SqliteStore::open(&reference).expect("open");
    assert_eq!(current_state(&killed, &ids), current_state(&clean, &ids));
}
