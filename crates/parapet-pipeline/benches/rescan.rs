//! A rescan that costs what changed: real documents (the assets the AWS
//! collector produced from an emulated account, the rules crate's
//! `aws-account.jsonl`) cloned to 1,000,000 assets in accounts of 1,000
//! (`PARAPET_BENCH_ASSETS` and `PARAPET_BENCH_ACCOUNT_ASSETS` set other
//! counts), recorded in a SQLite file
//! by the whole pipeline (facts, evaluation, recording). Times, end to end
//! from collected assets to committed findings (and beside each, the time
//! less the cloning, which stands for the collection and here holds up
//! the pipeline's thread): the first recorded scan of
//! 100,000 assets in a fresh database, the first recorded scan of the whole
//! estate, a rescan in which 1 % of the assets changed, and a rescan in
//! which nothing did; prints what each kept and worked out, its processor
//! time (every thread) beside the time spent cloning, and the peak resident
//! memory. Run with `cargo bench -p parapet-pipeline --bench
//! rescan`.
//!
//! `PARAPET_BENCH_DATABASE` names a database file to keep: the first time,
//! the whole estate is recorded there; each time after, only rescans run
//! over it (`PARAPET_BENCH_RESCANS` of them, 6 unless it says), each
//! undoing the change of the one before (so each changes 1 %), which lets
//! two builds be compared over one database; the time to read one
//! account's stored assets (what a refresh of it reads) is printed first.

use parapet_core::{Asset, Provider as Cloud, Scope};
use parapet_pipeline::{Pipeline, Request};
use parapet_provider::ResourceTypeInfo;
use parapet_provider::{
    Action, Collection, Narrowing, Part, Progress, Provider, ProviderError, Quiet, Target,
};
use parapet_rules::{IdentityPolicy, RuleSources, TagPolicy, load};
use parapet_store::{Inventory, SqliteStore, Store};
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

/// The allocator the `parapet` binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The collected documents, one asset per line.
const FIXTURE: &str = include_str!("../../parapet-rules/benches/fixtures/aws-account.jsonl");

/// Assets per account, unless `PARAPET_BENCH_ACCOUNT_ASSETS` says.
const PER_ACCOUNT: usize = 1_000;

/// An estate collected account after account: each part is cloned from
/// the documents when the pipeline asks for it, so the benchmark holds no
/// more of the estate than the pipeline does (the time spent cloning is
/// noted: it stands for the collection, which the pipeline's time is
/// counted from). Once `changed` is set, every
/// hundredth asset carries a tag it did not have.
struct Cloned<'a> {
    documents: &'a [Asset],
    total: usize,
    changed: AtomicBool,
    /// Nanoseconds spent cloning since the last run began.
    cloning: AtomicU64,
}

impl Provider for Cloned<'_> {
    fn source(&self) -> String {
        "bench".to_owned()
    }

    fn version(&self) -> String {
        "bench 1".to_owned()
    }

    fn resource_types(&self) -> Vec<ResourceTypeInfo> {
        Vec::new()
    }

    fn collect(
        &self,
        narrowing: Option<&Narrowing>,
        progress: &dyn Progress,
    ) -> Result<Collection, ProviderError> {
        Collection::of_parts(self, narrowing, progress)
    }

    fn collect_parts(
        &self,
        narrowing: Option<&Narrowing>,
        _: &dyn Progress,
        each: &mut dyn FnMut(Part, bool) -> ControlFlow<()>,
    ) -> Result<Collection, ProviderError> {
        let per_account: usize = std::env::var("PARAPET_BENCH_ACCOUNT_ASSETS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(PER_ACCOUNT);
        let changed = self.changed.load(Ordering::Relaxed);
        let observed_at = chrono::Utc::now();
        for first in (0..self.total).step_by(per_account) {
            let range = first..self.total.min(first + per_account);
            if narrowing.is_some_and(|n| !n.accounts.contains(&account_of(first))) {
                continue;
            }
            let started = Instant::now();
            let part = part(self.documents, range, changed, observed_at);
            self.cloning
                .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
            if each(part, false).is_break() {
                break;
            }
        }
        Ok(Collection::default())
    }
}

fn main() {
    let total: usize = std::env::var("PARAPET_BENCH_ASSETS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let documents: Vec<Asset> = FIXTURE
        .lines()
        .map(|line| serde_json::from_str(line).expect("a collected asset"))
        .collect();
    let report = load(&RuleSources {
        builtin: true,
        folders: Vec::new(),
    });
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let pipeline = Pipeline::new(
        report.rules,
        &TagPolicy::default(),
        &IdentityPolicy::default(),
    );
    if let Ok(kept) = std::env::var("PARAPET_BENCH_DATABASE") {
        let kept = std::path::Path::new(&kept);
        if kept.exists() {
            rescan_kept(&pipeline, &documents, total, kept);
            return;
        }
    }
    let dir = tempfile::tempdir().expect("a temporary folder");

    let first = total.min(100_000);
    let mut fresh = SqliteStore::open(&dir.path().join("first.db")).expect("a database");
    let estate = Cloned {
        documents: &documents,
        total: first,
        changed: AtomicBool::new(false),
        cloning: AtomicU64::new(0),
    };
    scan(
        &pipeline,
        &estate,
        &mut fresh,
        &format!("first scan of {first}"),
    );
    drop(fresh);
    for file in ["first.db", "first.db-wal", "first.db-shm"] {
        let _ = std::fs::remove_file(dir.path().join(file));
    }

    let database = std::env::var("PARAPET_BENCH_DATABASE")
        .map_or_else(|_| dir.path().join("estate.db"), std::path::PathBuf::from);
    let mut store = SqliteStore::open(&database).expect("a database");
    let estate = Cloned {
        documents: &documents,
        total,
        changed: AtomicBool::new(false),
        cloning: AtomicU64::new(0),
    };
    scan(
        &pipeline,
        &estate,
        &mut store,
        &format!("first scan of {total}"),
    );
    estate.changed.store(true, Ordering::Relaxed);
    scan(
        &pipeline,
        &estate,
        &mut store,
        &format!("rescan, {} assets changed", total.div_ceil(100)),
    );
    scan(&pipeline, &estate, &mut store, "rescan, nothing changed");
    refreshes(&pipeline, &estate, &mut store);
    let size: u64 = ["", "-wal", "-shm"]
        .iter()
        .filter_map(|end| {
            let mut file = database.clone().into_os_string();
            file.push(end);
            std::fs::metadata(file).ok()
        })
        .map(|m| m.len())
        .sum();
    println!(
        "database: {} MB; peak resident memory: {} MB",
        size / 1_000_000,
        parapet_testkit::peak_resident_mb()
    );
}

/// Rescans of the estate kept in `database`, each changing what the one
/// before changed back (whether the estate stands changed is read from the
/// first account's first asset), then one in which nothing changed.
fn rescan_kept(pipeline: &Pipeline, documents: &[Asset], total: usize, database: &std::path::Path) {
    let rescans: usize = std::env::var("PARAPET_BENCH_RESCANS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6);
    let mut store = SqliteStore::open(database).expect("the kept database");
    let first = part(documents, 0..1, false, chrono::Utc::now());
    let started = Instant::now();
    let stored = store
        .current_assets(first.scope.accounts.first().map(String::as_str))
        .expect("the first account's assets");
    println!(
        "one account's {} stored assets read in {:.1} ms (what a refresh of the account reads)",
        stored.len(),
        started.elapsed().as_secs_f64() * 1e3
    );
    let changed = stored
        .iter()
        .find(|a| a.id == first.assets[0].id)
        .expect("the kept database holds the estate")
        .tags
        .contains_key("bench");
    let estate = Cloned {
        documents,
        total,
        changed: AtomicBool::new(changed),
        cloning: AtomicU64::new(0),
    };
    for _ in 0..rescans {
        let changed = !estate.changed.load(Ordering::Relaxed);
        estate.changed.store(changed, Ordering::Relaxed);
        let label = match changed {
            true => "rescan, 1 % changed",
            false => "rescan, 1 % changed back",
        };
        scan(pipeline, &estate, &mut store, label);
    }
    scan(pipeline, &estate, &mut store, "rescan, nothing changed");
    refreshes(pipeline, &estate, &mut store);
}

/// The assets `range` numbers, cloned from `documents` into one account's
/// part; each clone carries its account's number in its ARN, as the assets
/// of a real account do (so an account's rows sit together in the store's
/// indexes, as they would), and the time of its collection, as the AWS
/// collector gives every asset of a collection; with `changed`, every
/// hundredth carries a tag.
fn part(
    documents: &[Asset],
    range: std::ops::Range<usize>,
    changed: bool,
    observed_at: chrono::DateTime<chrono::Utc>,
) -> Part {
    let account = account_of(range.start);
    let assets = range
        .map(|i| {
            let mut asset = documents[i % documents.len()].clone();
            asset.id = format!("{}#{i}", asset.id.replace(&asset.account, &account));
            asset.account.clone_from(&account);
            asset.observed_at = observed_at;
            if changed && i % 100 == 0 {
                asset.tags.insert("bench".to_owned(), "changed".to_owned());
            }
            asset
        })
        .collect();
    Part {
        scope: Scope::whole(Cloud::Aws, vec![account]),
        assets,
        errors: Vec::new(),
    }
}

/// The account whose part begins with the asset numbered `first`.
fn account_of(first: usize) -> String {
    format!("{:012}", 100_000_000_000 + first)
}

/// Refreshes of one account each, as `parapet watch` runs one for a
/// change event (the provider's plan for it is the whole account), spread
/// over the estate: their times, fastest, median and slowest.
fn refreshes(pipeline: &Pipeline, estate: &Cloned<'_>, store: &mut SqliteStore) {
    let per_account = estate.total.min(PER_ACCOUNT);
    let mut times: Vec<f64> = (0..REFRESHES)
        .map(|i| {
            let first = (i * estate.total / REFRESHES) / per_account * per_account;
            let target = Target {
                resource_type: "AWS::S3::Bucket".to_owned(),
                account: account_of(first),
                region: "us-east-1".to_owned(),
                key: "bench".to_owned(),
                names_resource: true,
                action: Action::Change,
            };
            let started = Instant::now();
            let run = pipeline
                .run_each(
                    estate,
                    Some(store as &mut dyn Store),
                    Request::Refresh(std::slice::from_ref(&target)),
                    &Quiet,
                    &mut |_| Ok(()),
                )
                .expect("a refresh");
            assert_eq!(run.recorded.len(), 1, "one account refreshed");
            started.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!(
        "refresh of one account of {per_account} assets ({REFRESHES} accounts): fastest {:.1} ms, median {:.1} ms, slowest {:.1} ms",
        times[0],
        times[times.len() / 2],
        times[times.len() - 1]
    );
}

/// How many refreshes [`refreshes`] times.
const REFRESHES: usize = 20;

/// One run of the pipeline, timed, with what it kept and worked out and
/// the peak resident memory so far. The log the runs before it left is
/// copied into the database first, untimed, as it is in the time between
/// two scans.
fn scan(pipeline: &Pipeline, estate: &Cloned<'_>, store: &mut SqliteStore, label: &str) {
    store.checkpoint().expect("a checkpoint");
    estate.cloning.store(0, Ordering::Relaxed);
    let processor = parapet_testkit::processor_seconds();
    let started = Instant::now();
    let run = pipeline
        .run_each(
            estate,
            Some(store as &mut dyn Store),
            Request::Whole,
            &Quiet,
            &mut |_| Ok(()),
        )
        .expect("a run");
    let time = started.elapsed().as_secs_f64();
    let processor = parapet_testkit::processor_seconds() - processor;
    let cloning = estate.cloning.load(Ordering::Relaxed) as f64 / 1e9;
    let assets: u64 = run.recorded.iter().map(|s| s.counts.assets).sum();
    let changed: u64 = run
        .recorded
        .iter()
        .map(|s| s.counts.created + s.counts.changed)
        .sum();
    println!(
        "{label}: {assets} assets ({changed} new or changed) in {time:.2} s ({:.0} assets/s), {:.2} s without cloning the documents (the collection); processor time {processor:.1} s, {:.1} s of it not cloning; rules kept {}, worked out {} {:?}; peak resident memory so far {} MB",
        assets as f64 / time,
        time - cloning,
        processor - cloning,
        run.reuse.kept,
        run.reuse.worked_out(),
        run.reuse.worked_out,
        parapet_testkit::peak_resident_mb()
    );
}
