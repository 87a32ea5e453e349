//! How fast the overview page of a large estate loads.
//!
//! Builds a database of 100,000 assets in 10 accounts with 500,000 rule
//! results (five rules on every asset, a third failing: about 167,000
//! open findings, some muted) and their events (`PARAPET_BENCH_ASSETS`
//! overrides the size), serves it on 127.0.0.1, and lets divan time what a
//! browser fetches to show the overview: the session, the page, its script
//! and style sheet, and `/api/v1/overview`; then the inventory's first page
//! and the findings' first page. `PARAPET_BENCH_DB` keeps the database at
//! that path and reuses it when it exists. Run with
//! `cargo bench -p parapet-server --bench overview`.

use chrono::{DateTime, Duration, Utc};
use parapet_core::{Asset, Evaluation, MuteSelector, Provider, Scope, Severity, Status};
use parapet_server::{Access, App, Settings};
use parapet_store::SqliteStore;
use parapet_store::roles::*;
use serde_json::json;
use std::sync::{Arc, LazyLock};
use std::time::Instant;

const RULES: [(&str, Severity); 5] = [
    ("aws-s3-bucket-versioning-enabled", Severity::Medium),
    ("aws-s3-bucket-public-access-blocked", Severity::Critical),
    ("aws-s3-bucket-default-encryption", Severity::High),
    ("aws-s3-bucket-access-logging-enabled", Severity::Low),
    ("aws-s3-bucket-ssl-requests-only", Severity::Medium),
];

fn t0() -> DateTime<Utc> {
    Utc::now() - Duration::days(3)
}

fn asset(n: usize, observed: DateTime<Utc>) -> Asset {
    let account = format!("{:012}", 100_000_000_000u64 + (n % 10) as u64);
    let region = ["eu-west-1", "us-east-1", "ap-south-1"][n % 3];
    serde_json::from_value(json!({
        "id": format!("arn:aws:s3:::bucket-{n:07}"), "provider": "aws", "account": account,
        "region": region, "resource_type": "AWS::S3::Bucket",
        "name": format!("bucket-{n:07}"), "tags": {"env": if n.is_multiple_of(4) { "dev" } else { "prod" }},
        "config": {"Name": format!("bucket-{n:07}"), "Versioning": {"Status": "Enabled"}},
        "observed_at": observed.to_rfc3339()
    }))
    .expect("valid asset")
}

/// The server over a freshly built large estate, and its base URL.
struct Served {
    base: String,
    _dir: tempfile::TempDir,
    _runtime: tokio::runtime::Runtime,
}

static SERVED: LazyLock<Served> = LazyLock::new(|| {
    let size: usize = std::env::var("PARAPET_BENCH_ASSETS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = std::env::var_os("PARAPET_BENCH_DB")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dir.path().join("parapet.db"));
    if !path.exists() {
        build(&path, size);
    }
    let rules = parapet_rules::load(&parapet_rules::RuleSources {
        builtin: true,
        folders: Vec::new(),
    })
    .rules;
    let open_path = path.clone();
    let app = App::new(
        Arc::new(move || Ok(Box::new(SqliteStore::open(&open_path)?))),
        rules,
        parapet_rules::framework::builtin(),
        Settings {
            access: Access::OpenOnLoopback,
            secure_cookies: false,
            poll_interval: std::time::Duration::from_millis(500),
            oidc: None,
        },
    )
    .expect("app");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    runtime.spawn(parapet_server::serve(listener, app, std::future::pending()));
    Served {
        base,
        _dir: dir,
        _runtime: runtime,
    }
});

/// Writes the estate: three scans a day apart, so that the trend has days.
fn build(path: &std::path::Path, size: usize) {
    let mut store = SqliteStore::open(path).expect("open");
    let started = Instant::now();
    let accounts: Vec<String> = (0..10)
        .map(|i| format!("{:012}", 100_000_000_000u64 + i))
        .collect();
    for day in 0..3 {
        let when = t0() + Duration::days(day);
        let assets: Vec<Asset> = (0..size).map(|n| asset(n, when)).collect();
        let evaluations: Vec<Evaluation> = assets
            .iter()
            .enumerate()
            .flat_map(|(n, a)| {
                RULES
                    .iter()
                    .enumerate()
                    .map(move |(r, (rule, _))| Evaluation {
                        rule_id: (*rule).into(),
                        asset_id: a.id.as_str().into(),
                        status: if (n + r + day as usize).is_multiple_of(3) {
                            Status::Fail
                        } else {
                            Status::Pass
                        },
                        message: "".into(),
                        evidence: Default::default(),
                    })
            })
            .collect();
        let scope = Scope::whole(Provider::Aws, accounts.clone());
        let id = store
            .begin_scan(
                &scope,
                "bench",
                &parapet_core::Provenance::new("bench", "bench"),
                when,
            )
            .expect("begin");
        let severity = |rule: &str| {
            RULES
                .iter()
                .find(|(r, _)| *r == rule)
                .map_or(Severity::Low, |(_, s)| *s)
        };
        store
            .finish_scan(
                id,
                &assets,
                parapet_store::Evaluated::all(&evaluations),
                &severity,
                &[],
                when,
            )
            .expect("finish");
    }
    store
        .add_mute(
            &MuteSelector {
                account: Some(accounts[0].clone()),
                rule_id: Some(RULES[3].0.into()),
                ..MuteSelector::default()
            },
            "bench",
            "bench",
            None,
            Utc::now(),
        )
        .expect("mute");
    eprintln!(
        "built {size} assets, {} results in {:.1} s",
        size * RULES.len(),
        started.elapsed().as_secs_f64()
    );
}

fn get(path: &str) -> usize {
    let mut response = ureq::get(format!("{}{path}", SERVED.base))
        .call()
        .expect("request");
    response.body_mut().read_to_string().expect("body").len()
}

fn main() {
    let open = get("/api/v1/overview");
    eprintln!("overview answer: {open} bytes");
    divan::main();
}

/// Everything a browser fetches to show the overview.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn overview_page() -> usize {
    get("/")
        + get("/ui/app.js")
        + get("/ui/app.css")
        + get("/api/v1/session")
        + get("/api/v1/overview")
}

/// The overview's data alone.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn overview_api() -> usize {
    get("/api/v1/overview")
}

/// The inventory's first page with its facets.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn inventory_first_page() -> usize {
    get("/api/v1/facets") + get("/api/v1/assets?limit=50")
}

/// The findings' first page, most severe first.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn findings_first_page() -> usize {
    get("/api/v1/findings?limit=100")
}

/// The compliance summary of every framework and account.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn compliance_summary() -> usize {
    get("/api/v1/compliance")
}
