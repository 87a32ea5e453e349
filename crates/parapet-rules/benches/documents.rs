//! The built-in rules over real documents: the assets the AWS collector
//! produced from an emulated account seeded with one resource of every
//! collected type in each posture (`fixtures/aws-account.jsonl`), cloned to
//! 1,000,000 assets (`PARAPET_BENCH_ASSETS` sets another count) and
//! evaluated in batches of 10,000, on all cores and then (a tenth of them,
//! three times) on one core. Prints evaluations per second, per core, and the peak
//! resident memory. Run with `cargo bench -p parapet-rules --bench
//! documents`.

use chrono::Utc;
use parapet_core::Asset;
use parapet_rules::{Engine, Facts, RuleSources, load};
use std::time::{Duration, Instant};

/// The allocator the `parapet` binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The collected documents, one asset per line.
const FIXTURE: &str = include_str!("fixtures/aws-account.jsonl");

/// Assets cloned and evaluated at a time.
const BATCH: usize = 10_000;

/// Times the one-core run is repeated: a run of a tenth of the assets is
/// short enough for another process to sway it.
const ONE_CORE_ROUNDS: usize = 3;

fn main() {
    let total: usize = std::env::var("PARAPET_BENCH_ASSETS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let documents: Vec<Asset> = FIXTURE
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).expect("a collected asset"))
        .collect();
    let report = load(&RuleSources {
        builtin: true,
        folders: Vec::new(),
    });
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let engine = Engine::new(report.rules);
    let facts = Facts::at(Utc::now());
    println!(
        "{} collected documents ({} KB, {} resource types), cloned to {total} assets",
        documents.len(),
        FIXTURE.len() / 1024,
        documents
            .iter()
            .map(|a| a.resource_type.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    );
    let (evaluations, time) = run(&documents, total, |batch| {
        engine.evaluate_all(&facts, batch).len()
    });
    print_rate(
        "all cores",
        total,
        evaluations,
        time,
        rayon::current_num_threads(),
    );
    for round in 1..=ONE_CORE_ROUNDS {
        let (evaluations, time) = run(&documents, total / 10, |batch| {
            let mut results = Vec::new();
            for asset in batch {
                engine.evaluate_into(&facts, asset, &mut results);
            }
            results.len()
        });
        print_rate(
            &format!("one core, round {round}"),
            total / 10,
            evaluations,
            time,
            1,
        );
    }
    println!(
        "peak resident memory: {} MB",
        parapet_testkit::peak_resident_mb()
    );
}

/// Clones `count` assets from `documents`, a batch at a time, and times
/// `evaluate` over each batch (its results kept until it returns, as a
/// scan keeps them to record); returns the evaluations and the time spent
/// evaluating.
fn run(
    documents: &[Asset],
    count: usize,
    evaluate: impl Fn(&[Asset]) -> usize,
) -> (usize, Duration) {
    let mut evaluations = 0;
    let mut time = Duration::ZERO;
    for start in (0..count).step_by(BATCH) {
        let batch: Vec<Asset> = (start..count.min(start + BATCH))
            .map(|i| {
                let mut asset = documents[i % documents.len()].clone();
                asset.id = format!("{}#{i}", asset.id);
                asset
            })
            .collect();
        let started = Instant::now();
        evaluations += evaluate(&batch);
        time += started.elapsed();
    }
    (evaluations, time)
}

fn print_rate(label: &str, assets: usize, evaluations: usize, time: Duration, cores: usize) {
    let rate = evaluations as f64 / time.as_secs_f64();
    println!(
        "{label}: {assets} assets, {evaluations} evaluations in {:.2} s: {:.0} evaluations/s, {:.0} per core",
        time.as_secs_f64(),
        rate,
        rate / cores as f64
    );
}
