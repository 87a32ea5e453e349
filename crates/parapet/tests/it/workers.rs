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

/// moto, its certificates issued at once: by default it issues them a minute
/// after they are requested, which a comparison with a scan made earlier
/// would take for a change.
fn steady_moto() -> Moto {
    Moto::start_with(&[("MOTO_ACM_VALIDATION_WAIT", "0")])
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
    let moto = steady_moto();
    let seeded = moto.python(&super::fixture("aws-organization.py"), &[]);
    let member = String::from_utf8_lossy(&seeded.stdout).trim().to_owned();
    moto.seed_demo(1);
    let dir = tempfile::tempdir().expect("temp dir");
    let alone = dir.path().join("alone.db");
    let started = std::time::Instant::now();
    let output = organisation_scan(&moto, &alone, &[]);
    eprintln!(
        "one process: the organisation collected and recorded in {:.1} s",
        started.elapsed().as_secs_f64()
    );
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
        let started = std::time::Instant::now();
        let run = by_workers(&moto, &db, workers);
        // A figure for the record (never asserted): the run's wall time.
        eprintln!(
            "{workers} worker(s): the organisation queued, collected and recorded in {:.1} s",
            started.elapsed().as_secs_f64()
        );
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

/// Routes every finding change to a webhook (that nobody answers: the
/// outbox keeps what would be sent) and groups findings into incidents.
const NOTIFYING: &str = r#"
[notifications]
default = ["hook"]

[[notifications.channels]]
type = "webhook"
name = "hook"
url = "http://127.0.0.1:9/parapet"

[incidents]
group_by = "rule-and-account"
min_severity = "high"
"#;

/// What was queued to be sent, as (channel, change, rule, asset), each
/// with how many times; and each incident's group.
type Sent = (
    BTreeMap<(String, String, String, String), usize>,
    Vec<String>,
);

fn sent(store: &dyn Store) -> Sent {
    let mut outbox = BTreeMap::new();
    for n in store.notifications(None, 1_000_000).expect("outbox") {
        *outbox
            .entry((
                n.channel,
                n.change.kind.as_str().to_owned(),
                n.change.rule_id,
                n.change.asset_id,
            ))
            .or_default() += 1;
    }
    let mut groups: Vec<String> = store
        .incidents(None, None, 100_000)
        .expect("incidents")
        .into_iter()
        .map(|i| i.group_key)
        .collect();
    groups.sort();
    (outbox, groups)
}

/// Each asset's events, oldest first, as kinds with their rules.
fn timeline(store: &dyn Store) -> BTreeMap<String, Vec<String>> {
    let mut events: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut all = store
        .events(&parapet_store::EventQuery {
            limit: 1_000_000,
            ..Default::default()
        })
        .expect("events");
    all.reverse();
    for stored in all {
        events
            .entry(stored.event.asset_id)
            .or_default()
            .push(format!(
                "{} {}",
                stored.event.kind.as_str(),
                stored.event.rule_id.unwrap_or_default()
            ));
    }
    events
}

/// Counts by a key that names their account, rule, severity, result,
/// openness and mute.
type Counted = Vec<(String, i64)>;

/// The overview's counters, and the same counted from the findings.
fn counters_and_recount(url: &str) -> (Counted, Counted) {
    let mut client = parapet_testkit::postgres::connect(url);
    let rows = |client: &mut postgres::Client, sql: &str| -> Counted {
        client
            .query(sql, &[])
            .expect("counts")
            .into_iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect()
    };
    (
        rows(
            &mut client,
            "SELECT account || ' ' || rule_id || ' ' || severity || ' ' || result || ' ' || open || ' ' || muted, \
             sum(n)::bigint FROM finding_counts WHERE live = 1 GROUP BY 1 HAVING sum(n) > 0 ORDER BY 1",
        ),
        rows(
            &mut client,
            "SELECT account || ' ' || rule_id || ' ' || severity || ' ' || result || ' ' \
             || CASE WHEN status IN ('open', 'reopened') THEN 1 ELSE 0 END || ' ' \
             || CASE WHEN muted_by IS NULL THEN 0 ELSE 1 END, count(*) FROM findings \
             WHERE asset_id IN (SELECT id FROM assets WHERE deleted_at IS NULL) GROUP BY 1 ORDER BY 1",
        ),
    )
}

#[test]
fn workers_killed_at_any_moment_leave_every_unit_done_once_in_effect() {
    let moto = steady_moto();
    moto.python(&super::fixture("aws-organization.py"), &[]);
    moto.seed_demo(1);
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("parapet.toml");
    std::fs::write(&config, NOTIFYING).expect("write the configuration");
    let config = config.display().to_string();
    let alone = dir.path().join("alone.db");
    let output = organisation_scan(&moto, &alone, &["--config", &config]);
    assert!(output.status.success(), "{}", stderr(&output));
    let reference = SqliteStore::open(&alone).expect("open");
    let (expected, expected_sent, expected_timeline) =
        (recorded(&reference), sent(&reference), timeline(&reference));
    assert!(!expected_sent.0.is_empty() && !expected_sent.1.is_empty());
    let home = tempfile::tempdir().expect("home");
    let worker = |db: &Path, name: &str| {
        moto.parapet(db, ("testing", "testing"), home.path())
            .args([
                "worker", "--lease", "3s", "--poll", "50ms", "--config", &config, "--name", name,
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("a worker starts")
    };
    let mut reclaimed = 0;
    for trial in 0..20u64 {
        let url = parapet_testkit::postgres::database();
        let db = PathBuf::from(&url);
        let queued = organisation_scan(&moto, &db, &["--enqueue", "--config", &config]);
        assert!(queued.status.success(), "{}", stderr(&queued));
        // One or two workers killed after varied moments: while planning,
        // while collecting, while recording.
        for kill in 0..(1 + trial % 2) {
            let mut doomed = worker(&db, &format!("doomed-{trial}-{kill}"));
            std::thread::sleep(std::time::Duration::from_millis(
                150 + (trial * 397 + kill * 911) % 4500,
            ));
            doomed.kill().expect("SIGKILL");
            doomed.wait().expect("reaped");
        }
        let survivor = moto
            .parapet(&db, ("testing", "testing"), home.path())
            .args([
                "worker",
                "--until-idle",
                "--lease",
                "3s",
                "--poll",
                "50ms",
                "--config",
                &config,
            ])
            .output()
            .expect("the last worker runs");
        assert!(survivor.status.success(), "{}", stderr(&survivor));
        let store = postgres(&url);
        let jobs = store.queue_counts().expect("counts");
        assert_eq!(
            jobs.with_status(JobStatus::Done),
            jobs.counts.iter().map(|(_, _, n)| n).sum::<i64>(),
            "trial {trial}: every job done: {jobs:?}"
        );
        reclaimed += store
            .run_jobs(1)
            .expect("jobs")
            .iter()
            .filter(|j| j.attempts > 1)
            .count();
        let got = recorded(&store);
        assert_eq!(
            differences(&got.assets, &expected.assets),
            Vec::<String>::new(),
            "trial {trial}"
        );
        assert_eq!(
            differences(&got.results, &expected.results),
            Vec::<String>::new(),
            "trial {trial}"
        );
        assert_eq!(
            got.scans_by_account, expected.scans_by_account,
            "trial {trial}: one scan per account"
        );
        assert_eq!(
            sent(&store),
            expected_sent,
            "trial {trial}: each notification and incident once"
        );
        assert_eq!(
            timeline(&store),
            expected_timeline,
            "trial {trial}: each event once"
        );
        let (counters, recount) = counters_and_recount(&url);
        assert_eq!(counters, recount, "trial {trial}: the overview's counters");
    }
    assert!(reclaimed > 0, "some kills left a job to be claimed again");
}

#[test]
fn a_worker_reports_its_health_and_metrics_and_stops_on_sigterm() {
    use std::io::{BufRead, BufReader};
    let url = parapet_testkit::postgres::database();
    let db = PathBuf::from(&url);
    let home = tempfile::tempdir().expect("home");
    let moto = steady_moto();
    // A run whose plan cannot reach AWS (nothing listens on port 9): it
    // fails, and waits to be tried again.
    let mut queued = moto.parapet(&db, ("testing", "testing"), home.path());
    queued.args([
        "scan",
        "aws",
        "--endpoint-url",
        "http://127.0.0.1:9",
        "--enqueue",
    ]);
    let queued = queued.output().expect("parapet runs");
    assert!(queued.status.success(), "{}", stderr(&queued));
    let mut worker = moto
        .parapet(&db, ("testing", "testing"), home.path())
        .args([
            "worker",
            "--listen",
            "127.0.0.1:0",
            "--poll",
            "50ms",
            "--name",
            "probe",
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("a worker starts");
    let mut lines = BufReader::new(worker.stderr.take().expect("stderr")).lines();
    let address = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| line.split("/metrics on http://").nth(1).map(str::to_owned))
        .expect("the worker says where it listens");
    let get = |path: &str| {
        let mut answer = ureq::get(&format!("http://{address}{path}"))
            .config()
            .http_status_as_error(false)
            .build()
            .call()
            .expect("the worker answers");
        (
            answer.status().as_u16(),
            answer.body_mut().read_to_string().expect("text"),
        )
    };
    assert_eq!(get("/health"), (200, "ok\n".to_owned()));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let metrics = loop {
        let (status, text) = get("/metrics");
        assert_eq!(status, 200);
        if text.contains("parapet_worker_jobs_failed_total{worker=\"probe\"} 1") {
            break text;
        }
        assert!(std::time::Instant::now() < deadline, "{text}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert!(
        metrics.contains("parapet_worker_jobs_claimed_total{worker=\"probe\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("parapet_jobs{kind=\"plan\",status=\"queued\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("parapet_worker_up{worker=\"probe\"} 1"),
        "{metrics}"
    );
    assert_eq!(get("/nothing").0, 404);
    let terminated = std::process::Command::new("kill")
        .args(["-TERM", &worker.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(terminated.success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = worker.wait().expect("the worker ends");
    assert!(status.success(), "{rest:?}");
    assert!(
        rest.iter()
            .any(|l| l.contains("1 job(s) claimed, 0 done, 1 attempt(s) failed")),
        "{rest:?}"
    );
    let store = postgres(&url);
    let jobs = store.run_jobs(1).expect("jobs");
    assert_eq!(jobs[0].status, JobStatus::Queued, "tried again later");
    assert!(jobs[0].error.as_deref().is_some_and(|e| !e.is_empty()));
}
