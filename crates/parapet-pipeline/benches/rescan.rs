//! A rescan that costs what changed: real documents (the assets the AWS
//! collector produced from an emulated account, the rules crate's
//! `aws-account.jsonl`) cloned to 1,000,000 assets in accounts of 1,000
//! (`PARAPET_BENCH_ASSETS` and `PARAPET_BENCH_ACCOUNT_ASSETS` set other
//! counts), recorded in a SQLite file
//! by the whole pipeline (facts, evaluation, recording). Times, end to end
//! from collected assets to committed findings: the first recorded scan of
//! 100,000 assets in a fresh database, the first recorded scan of the whole
//! estate, a rescan in which 1 % of the assets changed, and a rescan in
//! which nothing did; prints what each kept and worked out, and the peak
//! resident memory. Run with `cargo bench -p parapet-pipeline --bench
//! rescan`.

use parapet_core::{Asset, Provider as Cloud, Scope};
use parapet_pipeline::{Pipeline, Request, Run};
use parapet_provider::ResourceTypeInfo;
use parapet_provider::{Collection, Narrowing, Part, Progress, Provider, ProviderError, Quiet};
use parapet_rules::{IdentityPolicy, RuleSources, TagPolicy, load};
use parapet_store::{SqliteStore, Store};
use std::sync::Mutex;
use std::time::Instant;

/// The allocator the `parapet` binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The collected documents, one asset per line.
const FIXTURE: &str = include_str!("../../parapet-rules/benches/fixtures/aws-account.jsonl");

/// Assets per account, unless `PARAPET_BENCH_ACCOUNT_ASSETS` says.
const PER_ACCOUNT: usize = 1_000;

/// An estate already collected: each run hands its parts out, and the
/// benchmark puts them back (changed or not) for the next.
struct Collected(Mutex<Vec<Part>>);

impl Provider for Collected {
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
        _: Option<&Narrowing>,
        _: &dyn Progress,
    ) -> Result<Collection, ProviderError> {
        let parts = std::mem::take(&mut *self.0.lock().expect("the estate"));
        Ok(Collection {
            parts,
            ..Collection::default()
        })
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
    let dir = tempfile::tempdir().expect("a temporary folder");

    let first = total.min(100_000);
    let mut fresh = SqliteStore::open(&dir.path().join("first.db")).expect("a database");
    let estate = Collected(Mutex::new(parts(&documents, first)));
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

    let mut store = SqliteStore::open(&dir.path().join("estate.db")).expect("a database");
    let estate = Collected(Mutex::new(parts(&documents, total)));
    let run = scan(
        &pipeline,
        &estate,
        &mut store,
        &format!("first scan of {total}"),
    );
    let mut collected = run.collection.parts;
    let mut changed = 0;
    for (index, asset) in collected.iter_mut().flat_map(|p| &mut p.assets).enumerate() {
        if index % 100 == 0 {
            asset.tags.insert("bench".to_owned(), "changed".to_owned());
            changed += 1;
        }
    }
    *estate.0.lock().expect("the estate") = collected;
    let run = scan(
        &pipeline,
        &estate,
        &mut store,
        &format!("rescan, {changed} assets changed"),
    );
    *estate.0.lock().expect("the estate") = run.collection.parts;
    scan(&pipeline, &estate, &mut store, "rescan, nothing changed");
    let size: u64 = std::fs::read_dir(dir.path())
        .expect("the folder")
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    println!(
        "database: {} MB; peak resident memory: {} MB",
        size / 1_000_000,
        parapet_testkit::peak_resident_mb()
    );
}

/// `total` assets cloned from `documents`, in parts of one account each;
/// each clone carries its account's number in its ARN, as the assets of a
/// real account do (so an account's rows sit together in the store's
/// indexes, as they would).
fn parts(documents: &[Asset], total: usize) -> Vec<Part> {
    let per_account: usize = std::env::var("PARAPET_BENCH_ACCOUNT_ASSETS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(PER_ACCOUNT);
    let mut parts: Vec<Part> = Vec::new();
    for i in 0..total {
        let account = format!("{:012}", 100_000_000_000 + i / per_account);
        if i % per_account == 0 {
            parts.push(Part {
                scope: Scope {
                    provider: Cloud::Aws,
                    accounts: vec![account.clone()],
                    regions: None,
                    resource_types: None,
                    assets: Default::default(),
                },
                assets: Vec::with_capacity(per_account),
                errors: Vec::new(),
            });
        }
        let mut asset = documents[i % documents.len()].clone();
        asset.id = format!("{}#{i}", asset.id.replace(&asset.account, &account));
        asset.account = account;
        if let Some(part) = parts.last_mut() {
            part.assets.push(asset);
        }
    }
    parts
}

/// One run of the pipeline, timed, with what it kept and worked out.
fn scan(pipeline: &Pipeline, estate: &Collected, store: &mut SqliteStore, label: &str) -> Run {
    let started = Instant::now();
    let run = pipeline
        .run(
            estate,
            Some(store as &mut dyn Store),
            Request::Whole,
            &Quiet,
        )
        .expect("a run");
    let time = started.elapsed().as_secs_f64();
    let assets: u64 = run.recorded.iter().map(|s| s.counts.assets).sum();
    let changed: u64 = run
        .recorded
        .iter()
        .map(|s| s.counts.created + s.counts.changed)
        .sum();
    println!(
        "{label}: {assets} assets ({changed} new or changed) in {time:.2} s ({:.0} assets/s); rules kept {}, worked out {} {:?}",
        assets as f64 / time,
        run.reuse.kept,
        run.reuse.worked_out(),
        run.reuse.worked_out,
    );
    run
}
