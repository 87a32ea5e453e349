//! An organisation on PostgreSQL: 10,000 accounts of 500 assets each
//! (5,000,000 assets, one rule evaluated on each) recorded account by
//! account, as `parapet worker` processes record them, first by one worker,
//! then two, then four, each over its own connection; then the pages the
//! web UI and the API serve, timed; the database's size; a month later,
//! changes on a tenth of the accounts; and a prune of what came before them.
//!
//! `PARAPET_BENCH_ACCOUNTS` and `PARAPET_BENCH_ASSETS_PER_ACCOUNT` change
//! the size; `PARAPET_TEST_POSTGRES_URL` names a server to use instead of a
//! cluster of the bench's own. Run with
//! `cargo bench -p parapet-store --bench organisation`.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::{evaluations, scan};
use parapet_core::{Asset, Evaluation};
use parapet_store::roles::*;
use parapet_store::{AssetQuery, FindingQuery, PostgresStore};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

const REGIONS: [&str; 4] = ["eu-west-1", "eu-central-1", "us-east-1", "us-west-2"];

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn account_id(n: usize) -> String {
    format!("{:012}", 100_000_000_000 + n)
}

/// The assets of account `n`, in `generation` (a new generation changes
/// every asset's versioning) and their evaluations.
fn account(
    n: usize,
    size: usize,
    generation: usize,
    when: DateTime<Utc>,
) -> (Vec<Asset>, Vec<Evaluation>) {
    let id = account_id(n);
    let assets: Vec<Asset> = (0..size)
        .map(|i| {
            let region = REGIONS[i % REGIONS.len()];
            let enabled = (i + n + generation).is_multiple_of(2);
            serde_json::from_value(json!({
                "id": format!("arn:aws:s3:::bucket-{id}-{i:05}"), "provider": "aws", "account": id,
                "region": region, "resource_type": "AWS::S3::Bucket", "name": format!("bucket-{id}-{i:05}"),
                "tags": {"owner": format!("team-{}", n % 20), "env": if i % 3 == 0 { "dev" } else { "prod" }},
                "config": {
                    "Name": format!("bucket-{id}-{i:05}"),
                    "Versioning": {"Status": if enabled { "Enabled" } else { "Suspended" }},
                    "Logging": null, "Policy": null,
                    "PublicAccessBlock": {"BlockPublicAcls": true, "IgnorePublicAcls": true, "BlockPublicPolicy": true, "RestrictPublicBuckets": true}
                },
                "observed_at": when.to_rfc3339()
            }))
            .expect("valid asset")
        })
        .collect();
    let evaluations = evaluations(&assets);
    (assets, evaluations)
}

/// Records accounts `range` with `workers` threads, each over its own
/// connection taking the next account; returns assets per second.
fn record_with(
    target: &parapet_store::postgres::Target,
    workers: usize,
    range: std::ops::Range<usize>,
    size: usize,
    generation: usize,
    when: DateTime<Utc>,
) -> f64 {
    let next = AtomicUsize::new(range.start);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                let mut store = PostgresStore::connect(target).expect("connect");
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= range.end {
                        break;
                    }
                    let (assets, evaluations) = account(n, size, generation, when);
                    scan(&mut store, &assets, &evaluations, when);
                }
            });
        }
    });
    (range.len() * size) as f64 / started.elapsed().as_secs_f64()
}

/// The median of five runs of `query`, in milliseconds, with what it
/// returned last.
fn timed<T>(query: impl Fn() -> T) -> (f64, T) {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..5 {
        let started = Instant::now();
        last = Some(query());
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    (times[2], last.expect("ran"))
}

fn main() {
    let accounts = setting("PARAPET_BENCH_ACCOUNTS", 10_000);
    let size = setting("PARAPET_BENCH_ASSETS_PER_ACCOUNT", 500);
    let url = parapet_testkit::postgres::database();
    let target = parapet_store::postgres::Target::new(&url, None).expect("URL");
    let mut store = PostgresStore::connect(&target).expect("connect");
    let now = Utc::now();
    println!(
        "{accounts} accounts x {size} assets = {} assets",
        accounts * size
    );

    // Recording: a tenth of the accounts by one worker, two tenths by two,
    // the rest by four.
    let (one, two) = (accounts / 10, accounts * 3 / 10);
    for (workers, range) in [(1, 0..one), (2, one..two), (4, two..accounts)] {
        let (first, last) = (range.start, range.end);
        let rate = record_with(&target, workers, range, size, 0, now);
        println!("recorded accounts {first}..{last} with {workers} worker(s): {rate:.0} assets/s");
    }

    let mut sql = parapet_testkit::postgres::connect(&url);
    let size_of = |sql: &mut postgres::Client, what: &str| -> i64 {
        sql.query_one(what, &[]).expect("size").get(0)
    };
    sql.batch_execute("VACUUM ANALYZE").expect("analyze");
    report_pages(&store, now, &account_id(accounts / 2));
    let database = size_of(&mut sql, "SELECT pg_database_size(current_database())");
    println!("database: {:.2} GB", database as f64 / 1e9);
    report_versions(&mut sql);

    // A month later, a tenth of the accounts changed every asset.
    let later = now + Duration::days(35);
    let changed = accounts / 10;
    let rate = record_with(&target, 4, 0..changed, size, 1, later);
    println!(
        "a month later, {changed} accounts changed, recorded by 4 workers: {rate:.0} assets/s"
    );
    report_versions(&mut sql);

    // Retention up to five days after the changes: the versions they
    // superseded go, and every event before.
    let cutoff = later + Duration::days(5);
    let started = Instant::now();
    let pruned = store.prune(cutoff).expect("prune");
    println!(
        "prune of what came before five days after the changes: {:.1} s, removed {:?}",
        started.elapsed().as_secs_f64(),
        pruned.rows
    );
    sql.batch_execute("VACUUM ANALYZE").expect("analyze");
    let database = size_of(&mut sql, "SELECT pg_database_size(current_database())");
    println!("database after prune: {:.2} GB", database as f64 / 1e9);
    report_pages(&store, later, &account_id(accounts / 2));
}

/// The asset versions, their disk use (with indexes) and per million.
fn report_versions(sql: &mut postgres::Client) {
    let row = sql
        .query_one(
            "SELECT count(*), (SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits \
             WHERE inhparent = 'asset_versions'::regclass)::BIGINT FROM asset_versions",
            &[],
        )
        .expect("versions");
    let (count, bytes): (i64, i64) = (row.get(0), row.get(1));
    println!(
        "asset versions: {count}, {:.2} GB, {:.2} GB per million",
        bytes as f64 / 1e9,
        bytes as f64 / 1e9 / (count as f64 / 1e6)
    );
}

/// Times what the overview, the inventory and the findings pages ask of
/// the store.
fn report_pages(store: &PostgresStore, now: DateTime<Utc>, one: &str) {
    let page = |account: Option<&str>| AssetQuery {
        account: account.map(str::to_owned),
        limit: 50,
        ..AssetQuery::default()
    };
    let findings = |account: Option<&str>| FindingQuery {
        account: account.map(str::to_owned),
        limit: 50,
        ..FindingQuery::default()
    };
    let (ms, overview) = timed(|| store.overview(now, 30).expect("overview"));
    println!("  overview: {ms:.1} ms ({} assets)", overview.assets);
    let (ms, total) = timed(|| {
        store.assets(&page(None)).expect("assets");
        store.count_assets(&page(None)).expect("count")
    });
    println!("  inventory page with its total: {ms:.1} ms ({total} assets)");
    let (ms, total) = timed(|| {
        store.assets(&page(Some(one))).expect("assets");
        store.count_assets(&page(Some(one))).expect("count")
    });
    println!("  inventory page of one account with its total: {ms:.1} ms ({total} assets)");
    let (ms, facets) = timed(|| store.facets().expect("facets"));
    println!("  facets: {ms:.1} ms ({} accounts)", facets.accounts.len());
    let (ms, found) = timed(|| store.findings(&findings(None)).expect("findings"));
    println!("  findings page: {ms:.1} ms ({} findings)", found.len());
    let (ms, found) = timed(|| store.findings(&findings(Some(one))).expect("findings"));
    println!(
        "  findings page of one account: {ms:.1} ms ({} findings)",
        found.len()
    );
}
