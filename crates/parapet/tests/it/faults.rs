//! Faults between Parapet and AWS, injected by a proxy in front of moto at
//! set rates (throttling in each protocol's shape, 503s, resets, slow and
//! cut answers): a scan completes, its retries are counted, what could not
//! be read is unknown and never pass, nothing is marked deleted, and an
//! unreachable member account never stops the others. Prints each rate's
//! time and outcome.

use super::moto::Moto;
use super::{fixture, stderr, stdout};
use parapet_core::EventKind;
use parapet_store::roles::*;
use parapet_store::{EventQuery, SqliteStore};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::Instant;

/// The fault proxy in front of `upstream`, stopped when dropped.
struct Proxy {
    child: Child,
    url: String,
    rate: PathBuf,
    _dir: tempfile::TempDir,
}

impl Proxy {
    fn start(upstream: &str, extra: &[&str]) -> Proxy {
        let dir = tempfile::tempdir().expect("temp dir");
        let rate = dir.path().join("rate");
        std::fs::write(&rate, "0").expect("write");
        let mut args: Vec<&std::ffi::OsStr> =
            vec![upstream.as_ref(), rate.as_os_str(), "7".as_ref()];
        args.extend(extra.iter().map(|a| std::ffi::OsStr::new(*a)));
        let (child, port) = parapet_testkit::start_python(&fixture("fault-proxy.py"), &args, false);
        Proxy {
            child,
            url: format!("http://127.0.0.1:{port}"),
            rate,
            _dir: dir,
        }
    }

    fn set(&self, rate: f64) {
        std::fs::write(&self.rate, rate.to_string()).expect("write");
    }

    /// The faults injected so far, by kind.
    fn faults(&self) -> BTreeMap<String, u64> {
        let body = ureq::get(format!("{}/__faults", self.url))
            .call()
            .expect("the proxy answers")
            .into_body()
            .read_to_string()
            .expect("a body");
        serde_json::from_str(&body).expect("JSON")
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `parapet scan aws` through `proxy`, as JSON.
fn scan(moto: &Moto, proxy: &Proxy, db: &Path, args: &[&str]) -> std::process::Output {
    let home = tempfile::tempdir().expect("temp home");
    moto.parapet(db, ("testing", "testing"), home.path())
        .args([
            "scan",
            "aws",
            "--endpoint-url",
            &proxy.url,
            "--format",
            "json",
        ])
        .args(args)
        .output()
        .expect("parapet runs")
}

/// Every latest result: (rule, asset) to status.
fn results(db: &Path) -> BTreeMap<(String, String), String> {
    let output = super::parapet_with_db(db, &["report", "results", "--format", "json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    report["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            let text = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
            ((text("rule_id"), text("asset_id")), text("status"))
        })
        .collect()
}

#[test]
fn scans_through_faults_complete_count_retries_and_never_turn_what_was_not_read_into_pass() {
    let moto = Moto::start();
    moto.seed_demo(3);
    let proxy = Proxy::start(&moto.endpoint, &[]);
    let regions = ["--regions", "eu-west-1,us-east-1"];
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("parapet.db");
    let started = Instant::now();
    let clean = scan(&moto, &proxy, &db, &regions);
    assert!(clean.status.success(), "{}", stderr(&clean));
    let baseline = results(&db);
    let assets = SqliteStore::open(&db)
        .expect("open")
        .count_assets(&Default::default())
        .expect("count");
    let calls = serde_json::from_str::<Value>(&stdout(&clean)).expect("JSON report")["collection"]
        ["api_calls"]
        .as_u64()
        .unwrap_or(0);
    eprintln!(
        "faults: rate 0: {:.1} s, {assets} assets, {calls} calls, {} results",
        started.elapsed().as_secs_f64(),
        baseline.len()
    );
    for rate in [0.01, 0.10, 0.30] {
        let before = proxy.faults();
        proxy.set(rate);
        let started = Instant::now();
        let output = scan(&moto, &proxy, &db, &regions);
        let took = started.elapsed();
        proxy.set(0.0);
        assert!(output.status.success(), "rate {rate}: {}", stderr(&output));
        let report: Value = serde_json::from_str(&stdout(&output)).expect("JSON report");
        let collection = &report["collection"];
        let count = |name: &str| collection[name].as_u64().unwrap_or(0);
        let after = proxy.faults();
        let injected: u64 = after
            .iter()
            .filter(|(kind, _)| *kind != "requests")
            .map(|(kind, n)| n - before.get(kind).copied().unwrap_or(0))
            .sum();
        let errors: usize = collection["accounts"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| a["errors"].as_array().map_or(0, Vec::len))
            .sum();
        assert!(injected > 0, "rate {rate}: no fault was injected");
        assert!(
            count("api_retries") > 0,
            "rate {rate}: no retry was counted"
        );
        let now = results(&db);
        let mut unknown = 0;
        for (key, status) in &now {
            let was = baseline.get(key).map(String::as_str);
            if was != Some(status.as_str()) {
                assert_eq!(
                    status, "unknown",
                    "rate {rate}: {key:?} was {was:?}, is {status}: a fault may only make a result unknown"
                );
                unknown += 1;
            }
        }
        for key in baseline.keys() {
            assert!(
                now.contains_key(key),
                "rate {rate}: {key:?} has no result any more"
            );
        }
        eprintln!(
            "faults: rate {rate}: {:.1} s, {injected} faults injected, {} calls, {} retries, {errors} collection errors, {unknown} results unknown instead of decided",
            took.as_secs_f64(),
            count("api_calls"),
            count("api_retries"),
        );
    }
    let store = SqliteStore::open(&db).expect("open");
    let deleted = store
        .events(&EventQuery {
            kinds: vec![EventKind::AssetDeleted],
            limit: 100_000,
            ..Default::default()
        })
        .expect("events");
    assert!(
        deleted.is_empty(),
        "faults marked assets deleted: {deleted:?}"
    );
    assert_eq!(
        store.count_assets(&Default::default()).expect("count"),
        assets
    );
}

#[test]
fn an_unreachable_member_account_never_stops_the_others() {
    let moto = Moto::start();
    let seeded = moto.python(&fixture("aws-organization.py"), &[]);
    let member = String::from_utf8_lossy(&seeded.stdout).trim().to_owned();
    let open = Proxy::start(&moto.endpoint, &[]);
    let blocking = Proxy::start(&moto.endpoint, &["--unreachable-account", &member]);
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("parapet.db");
    let args = [
        "--regions",
        "us-east-1",
        "--resource-types",
        "AWS::S3::Bucket",
        "--organization-role",
        "OrganizationAccountAccessRole",
    ];
    let first = scan(&moto, &open, &db, &args);
    assert!(first.status.success(), "{}", stderr(&first));
    // Then the member account cannot be reached at all.
    let output = scan(&moto, &blocking, &db, &args);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(blocking.faults().get("unreachable").copied().unwrap_or(0) > 0);
    let report: Value = serde_json::from_str(&stdout(&output)).expect("JSON report");
    let accounts = report["collection"]["accounts"]
        .as_array()
        .expect("accounts");
    let theirs = accounts
        .iter()
        .find(|a| a["account"] == member.as_str())
        .expect("the member account is reported");
    assert_eq!(theirs["assets"], 0);
    assert!(
        theirs["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("Unreachable")),
        "{theirs}"
    );
    let others: Vec<&Value> = accounts
        .iter()
        .filter(|a| a["account"] != member.as_str())
        .collect();
    assert!(
        !others.is_empty() && others.iter().all(|a| a["assets"].as_u64() > Some(0)),
        "the reachable account was collected: {accounts:?}"
    );
    let store = SqliteStore::open(&db).expect("open");
    for bucket in [
        "arn:aws:s3:::management-bucket",
        "arn:aws:s3:::member-bucket",
    ] {
        let current = store.asset_at(bucket, None).expect("read").expect("kept");
        assert!(
            current.deleted_at.is_none(),
            "{bucket} was marked deleted because its account could not be reached"
        );
    }
}
