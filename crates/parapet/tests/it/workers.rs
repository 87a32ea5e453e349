use super::moto::Moto;
use super::stderr;
use parapet_store::postgres::Target;
use parapet_store::{JobStatus, Jobs, PostgresStore, SqliteStore, Store};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const ROLE: &str = "OrganizationAccountAccessRole";
const REGIONS: &str = "us-east-1,eu-west-1";

/// Every type but the two whose moto backends answer a member account with
/// the management account's analyzer and hub (ARNs and all): the account
/// that records such an asset first keeps it, which a comparison of
/// workers that record in any order cannot use.
fn types() -> String {
    parapet_aws::catalog()
        .iter()
        .map(|t| t.name)
        .filter(|t| {
            !matches!(
                *t,
                "AWS::AccessAnalyzer::Analyzer" | "AWS::SecurityHub::Hub"
            )
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// A document without the times an API reports as of the moment it is
/// asked (a trail's `LatestDeliveryTime`), which two collections a few
/// seconds apart do not share.
fn steady(config: &serde_json::Value) -> serde_json::Value {
    match config {
        serde_json::Value::Object(fields) => fields
            .iter()
            .filter(|(k, _)| !(k.starts_with("Latest") && k.ends_with("Time")))
            .map(|(k, v)| (k.clone(), steady(v)))
            .collect(),
        serde_json::Value::Array(items) => items.iter().map(steady).collect(),
        other => other.clone(),
    }
}

/// What a scan leaves that must not depend on who collected it: each
/// current asset's type, place and content, and each result with its
/// lifecycle and message.
#[derive(Debug, PartialEq)]
struct Recorded {
    assets: BTreeMap<String, (String, String, String, String)>,
    results: BTreeMap<(String, String), (String, Option<String>, String)>,
    scans_by_account: BTreeMap<String, usize>,
}

fn recorded(store: &dyn Store) -> Recorded {
    let assets = store
        .current_assets(None)
        .expect("assets")
        .into_iter()
        .map(|a| {
            (
                a.id.clone(),
                (
                    a.resource_type.as_str().to_owned(),
                    a.account.clone(),
                    a.region.clone(),
                    steady(&a.config).to_string(),
                ),
            )
        })
        .collect();
    let results = store
        .results(None)
        .expect("results")
        .into_iter()
        .map(|f| {
            (
                (f.rule_id, f.asset_id),
                (
                    f.result.as_str().to_owned(),
                    f.status.map(|s| s.as_str().to_owned()),
                    f.message,
                ),
            )
        })
        .collect();
    let mut scans_by_account = BTreeMap::new();
    for scan in store.scans(100).expect("scans") {
        *scans_by_account
            .entry(scan.scope.accounts.join(","))
            .or_default() += 1;
    }
    Recorded {
        assets,
        results,
        scans_by_account,
    }
}

/// What differs between two maps: each key with its value on either side.
fn differences<K: Ord + std::fmt::Debug, V: PartialEq + std::fmt::Debug>(
    got: &BTreeMap<K, V>,
    expected: &BTreeMap<K, V>,
) -> Vec<String> {
    got.keys()
        .chain(expected.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter(|k| got.get(*k) != expected.get(*k))
        .map(|k| {
            format!(
                "{k:?}: {:?} here, {:?} by one process",
                got.get(k),
                expected.get(k)
            )
        })
        .collect()
}

fn postgres(url: &str) -> PostgresStore {
    PostgresStore::connect(&Target::new(url, None).expect("URL")).expect("connect")
}

/// `parapet scan aws` of the organisation's two regions, with `more`.
fn organisation_scan(moto: &Moto, db: &Path, more: &[&str]) -> std::process::Output {
    let types = types();
    let mut args = vec![
        "--regions",
        REGIONS,
        "--resource-types",
        &types,
        "--organization-role",
        ROLE,
    ];
    args.extend(more);
    moto.scan(db, ("testing", "testing"), &args)
}

/// Queues the organisation's collection in `db` and runs `workers`
/// workers until the queue is empty; returns the run's number.
fn by_workers(moto: &Moto, db: &Path, workers: usize) -> i64 {
    let queued = organisation_scan(moto, db, &["--enqueue"]);
    assert!(queued.status.success(), "{}", stderr(&queued));
    let said = String::from_utf8_lossy(&queued.stdout).into_owned();
    let run: i64 = said
        .split_whitespace()
        .nth(2)
        .and_then(|n| n.trim_end_matches(':').parse().ok())
        .unwrap_or_else(|| panic!("the run's number: {said}"));
    let home = tempfile::tempdir().expect("home");
    let started: Vec<_> = (0..workers)
        .map(|i| {
            moto.parapet(db, ("testing", "testing"), home.path())
                .args(["worker", "--until-idle", "--poll", "100ms", "--name"])
                .arg(format!("w{i}"))
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("a worker starts")
        })
        .collect();
    for worker in started {
        let output = worker.wait_with_output().expect("a worker ends");
        assert!(
            output.status.success(),
            "a worker failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    run
}

#[test]
fn an_organisation_collected_by_one_two_and_four_workers_is_recorded_as_by_one_process() {
    let moto = Moto::start();
    let seeded = moto.python(&super::fixture("aws-organization.py"), &[]);
    let member = String::from_utf8_lossy(&seeded.stdout).trim().to_owned();
    moto.seed_demo(1);
    let dir = tempfile::tempdir().expect("temp dir");
    let alone = dir.path().join("alone.db");
    let output = organisation_scan(&moto, &alone, &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let expected = recorded(&SqliteStore::open(&alone).expect("open"));
    assert!(
        expected.assets.len() > 50,
        "{} assets",
        expected.assets.len()
    );
    assert!(
        expected
            .assets
            .values()
            .any(|(_, account, _, _)| *account == member)
    );
    assert!(
        expected.results.len() > 100,
        "{} results",
        expected.results.len()
    );
    for workers in [1, 2, 4] {
        let url = parapet_testkit::postgres::database();
        let db = PathBuf::from(&url);
        let run = by_workers(&moto, &db, workers);
        let store = postgres(&url);
        let jobs = store.run_jobs(run).expect("jobs");
        assert!(
            jobs.iter().all(|j| j.status == JobStatus::Done),
            "{workers} workers: {:?}",
            jobs.iter()
                .filter(|j| j.status != JobStatus::Done)
                .collect::<Vec<_>>()
        );
        let collected = jobs.iter().filter(|j| j.kind == "collect").count();
        assert!(
            collected > 20,
            "one unit per account, region and service: {collected}"
        );
        if workers > 1 {
            let hands: std::collections::BTreeSet<_> =
                jobs.iter().filter_map(|j| j.worker.clone()).collect();
            assert!(
                hands.len() > 1,
                "{workers} workers shared the units: {hands:?}"
            );
        }
        let got = recorded(&store);
        assert_eq!(
            differences(&got.assets, &expected.assets),
            Vec::<String>::new(),
            "{workers} workers: the inventory"
        );
        assert_eq!(
            differences(&got.results, &expected.results),
            Vec::<String>::new(),
            "{workers} workers: the results"
        );
        assert_eq!(
            got.scans_by_account, expected.scans_by_account,
            "{workers} workers: one scan per account"
        );
    }
}
