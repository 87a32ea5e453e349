//! What the continuous-mode latency benches of the clouds with a fake
//! share: waiting for the daemon's first collection, and reading when each
//! finding was committed.

use parapet_store::roles::*;
use parapet_store::{FindingQuery, SqliteStore};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// How many events (`PARAPET_BENCH_EVENTS`, 200) and how many a second
/// (`PARAPET_BENCH_RATE`, 20) a bench sends.
pub fn load() -> (usize, f64) {
    let setting = |name: &str| std::env::var(name).ok();
    (
        setting("PARAPET_BENCH_EVENTS")
            .and_then(|v| v.parse().ok())
            .unwrap_or(200),
        setting("PARAPET_BENCH_RATE")
            .and_then(|v| v.parse().ok())
            .unwrap_or(20.0),
    )
}

/// Waits until the database at `db` records a scan (the AWS bench records
/// its own first scan before it starts the daemon) (at most two minutes);
/// gives how long that took.
#[allow(dead_code)]
pub fn first_collection(db: &Path) -> Duration {
    let started = Instant::now();
    while SqliteStore::open(db)
        .ok()
        .and_then(|s| s.scans(1).ok())
        .is_none_or(|s| s.is_empty())
    {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no first collection"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    started.elapsed()
}

/// When the finding of `rule` of each key of `sent` was first seen
/// (milliseconds since the epoch), once all are (or ten minutes passed);
/// `key` gives an asset id's key in `sent` (the id itself, a bucket's
/// name).
pub fn committed(
    db: &Path,
    rule: &str,
    sent: &BTreeMap<String, i64>,
    key: impl Fn(&str) -> String,
) -> BTreeMap<String, i64> {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let findings = SqliteStore::open(db)
            .expect("open")
            .findings(&FindingQuery {
                rule_ids: vec![rule.to_owned()],
                limit: 100_000,
                ..Default::default()
            })
            .expect("findings");
        let times: BTreeMap<String, i64> = findings
            .into_iter()
            .filter_map(|f| Some((key(&f.asset_id), f.first_seen?.timestamp_millis())))
            .collect();
        if sent.keys().all(|a| times.contains_key(a)) || Instant::now() > deadline {
            return times;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}
