//! Store throughput and query latency.
//!
//! First prints asset upserts per second for new, unchanged and changed
//! assets (one scan of 100,000 assets each) on SQLite and on PostgreSQL
//! (a cluster the bench starts, as the tests do), then builds a SQLite
//! database of 1,000,000 assets with findings and events
//! (`PARAPET_BENCH_ASSETS` overrides the size) and lets divan time the
//! queries the CLI makes, each for one page of results. Run with
//! `cargo bench -p parapet-store --bench store`.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::{RULE, evaluations, scan};
use parapet_core::{Asset, FindingStatus, Severity};
use parapet_store::roles::*;
use parapet_store::{EventQuery, FindingQuery, SqliteStore};
use serde_json::json;
use std::sync::{LazyLock, Mutex};
use std::time::Instant;

const UPSERT_BATCH: usize = 100_000;

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z")
        .expect("fixed time")
        .with_timezone(&Utc)
}

fn asset(n: usize, generation: usize, observed: DateTime<Utc>) -> Asset {
    in_account(n, generation, observed, "111111111111")
}

fn in_account(n: usize, generation: usize, observed: DateTime<Utc>, account: &str) -> Asset {
    serde_json::from_value(json!({
        "id": format!("arn:aws:s3:::bucket-{account}-{n:07}"), "provider": "aws", "account": account,
        "region": "eu-west-1", "resource_type": "AWS::S3::Bucket", "name": format!("bucket-{n:07}"),
        "tags": {"owner": "team-a", "env": "prod"},
        "config": {
            "Name": format!("bucket-{n:07}"),
            "Versioning": {"Status": if (n + generation).is_multiple_of(2) { "Enabled" } else { "Suspended" }},
            "Logging": null, "Policy": null,
            "PublicAccessBlock": {"BlockPublicAcls": true, "IgnorePublicAcls": true, "BlockPublicPolicy": true, "RestrictPublicBuckets": true},
            "Acl": {"Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": "abc"}, "Permission": "FULL_CONTROL"}]}
        },
        "observed_at": observed.to_rfc3339()
    }))
    .expect("valid asset")
}

fn estate(size: usize, generation: usize, observed: DateTime<Utc>) -> Vec<Asset> {
    (0..size).map(|n| asset(n, generation, observed)).collect()
}

/// Upserts on SQLite, then on PostgreSQL (a cluster of the bench's own, as
/// the tests start one, or `PARAPET_TEST_POSTGRES_URL`'s server).
fn report_upserts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut sqlite = SqliteStore::open(&dir.path().join("upserts.db")).expect("open");
    report_upserts_on("SQLite", &mut sqlite);
    let url = parapet_testkit::postgres::database();
    let target = parapet_store::postgres::Target::new(&url, None).expect("URL");
    let mut postgres = parapet_store::PostgresStore::connect(&target).expect("connect");
    report_upserts_on("PostgreSQL", &mut postgres);
}

fn report_upserts_on(backend: &str, store: &mut dyn Store) {
    let n = UPSERT_BATCH;
    // A first account gives the database some size; the new assets of a
    // second account are what is measured.
    let first = estate(n, 0, t0());
    scan(store, &first, &[], t0());
    let second: Vec<Asset> = (0..n)
        .map(|i| in_account(i, 0, t0(), "222222222222"))
        .collect();
    let new = scan(store, &second, &[], t0());
    let same = estate(n, 0, t0() + Duration::hours(1));
    let unchanged = scan(store, &same, &[], t0() + Duration::hours(1));
    let changed_assets = estate(n, 1, t0() + Duration::hours(2));
    let changed = scan(store, &changed_assets, &[], t0() + Duration::hours(2));
    let with_findings = estate(n, 0, t0() + Duration::hours(3));
    let evals = evaluations(&with_findings);
    let evaluated = scan(store, &with_findings, &evals, t0() + Duration::hours(3));
    println!("{backend}: asset upserts per second, one scan of {n} assets each (one transaction):");
    println!("  new:       {:>9.0}/s", n as f64 / new);
    println!("  unchanged: {:>9.0}/s", n as f64 / unchanged);
    println!(
        "  changed:   {:>9.0}/s (a new version and an event each)",
        n as f64 / changed
    );
    println!(
        "  changed, with one evaluation each: {:>9.0} assets/s",
        n as f64 / evaluated
    );
}

/// A database of many assets with three scans of history, findings and
/// events, built once.
static BIG: LazyLock<Mutex<(tempfile::TempDir, SqliteStore)>> = LazyLock::new(|| {
    let size: usize = std::env::var("PARAPET_BENCH_ASSETS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = SqliteStore::open(&dir.path().join("big.db")).expect("open");
    let started = Instant::now();
    for generation in 0..3 {
        let when = t0() + Duration::days(generation as i64);
        let assets = estate(size, generation, when);
        let evals = evaluations(&assets);
        scan(&mut store, &assets, &evals, when);
    }
    let events = store
        .events(&EventQuery {
            limit: 1,
            ..Default::default()
        })
        .expect("events")
        .first()
        .map_or(0, |e| e.id);
    println!(
        "built a database of {size} assets, 3 scans, {events} events in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Mutex::new((dir, store))
});

fn main() {
    report_upserts();
    LazyLock::force(&BIG);
    divan::main();
}

#[divan::bench(sample_count = 50)]
fn assets_history() -> usize {
    let big = BIG.lock().expect("lock");
    big.1
        .asset_history("arn:aws:s3:::bucket-111111111111-0123456")
        .expect("history")
        .len()
}

#[divan::bench(sample_count = 50)]
fn assets_show_at() -> bool {
    let big = BIG.lock().expect("lock");
    big.1
        .asset_at(
            "arn:aws:s3:::bucket-111111111111-0123456",
            Some(t0() + Duration::hours(36)),
        )
        .expect("asset")
        .is_some()
}

#[divan::bench(sample_count = 50)]
fn findings_list_first_page() -> usize {
    let big = BIG.lock().expect("lock");
    big.1
        .findings(&FindingQuery::default())
        .expect("findings")
        .len()
}

#[divan::bench(sample_count = 50)]
fn findings_list_deep_page_by_cursor() -> usize {
    let big = BIG.lock().expect("lock");
    let after = parapet_store::FindingCursor {
        severity: Severity::Medium,
        rule_id: RULE.into(),
        asset_id: "arn:aws:s3:::bucket-111111111111-0500000".into(),
    };
    big.1
        .findings(&FindingQuery {
            statuses: vec![
                FindingStatus::Open,
                FindingStatus::Reopened,
                FindingStatus::Resolved,
            ],
            after: Some(after),
            ..Default::default()
        })
        .expect("findings")
        .len()
}

#[divan::bench(sample_count = 50)]
fn findings_of_one_rule_and_severity() -> usize {
    let big = BIG.lock().expect("lock");
    big.1
        .findings(&FindingQuery {
            rule_ids: vec![RULE.into()],
            min_severity: Some(Severity::Medium),
            ..Default::default()
        })
        .expect("findings")
        .len()
}

#[divan::bench(sample_count = 50)]
fn events_first_page() -> usize {
    let big = BIG.lock().expect("lock");
    big.1.events(&EventQuery::default()).expect("events").len()
}

#[divan::bench(sample_count = 50)]
fn events_of_one_asset() -> usize {
    let big = BIG.lock().expect("lock");
    big.1
        .events(&EventQuery {
            asset_id: Some("arn:aws:s3:::bucket-111111111111-0123456".into()),
            ..Default::default()
        })
        .expect("events")
        .len()
}

#[divan::bench(sample_count = 50)]
fn events_of_one_kind_in_a_day() -> usize {
    let big = BIG.lock().expect("lock");
    big.1
        .events(&EventQuery {
            kinds: vec![parapet_core::EventKind::FindingOpened],
            since: Some(t0() + Duration::days(1)),
            until: Some(t0() + Duration::days(2)),
            ..Default::default()
        })
        .expect("events")
        .len()
}
