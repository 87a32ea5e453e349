//! Integration tests of the SQLite store, on real database files.

/// Assets: versions, history, diffs, `--at`, deletions.
mod assets;
/// Findings: every lifecycle transition, events.
mod findings;
/// Incidents: grouping, resolving and reopening with their findings, by hand.
mod incidents;
/// The inventory, the overview and API tokens.
mod inventory;
/// Mutes: matching, lifting, expiry.
mod mutes;
/// The notification outbox: routing with the change, retries, failures.
mod outbox;
/// Opening: migrations, the refusal of a newer schema.
mod schema;

use chrono::{DateTime, Duration, Utc};
use parapet_core::{Asset, CollectionError, Evaluation, Provider, Scope, Severity, Status};
use parapet_store::{ScanOutput, SqliteStore, Store};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// A fresh database in a temporary folder.
pub fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("parapet.db")).expect("open store");
    (dir, store)
}

/// A fixed starting time.
pub fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z")
        .expect("fixed time")
        .with_timezone(&Utc)
}

/// `t0` plus `hours`.
pub fn at(hours: i64) -> DateTime<Utc> {
    t0() + Duration::hours(hours)
}

/// A bucket in account 111111111111, eu-west-1.
pub fn bucket(name: &str, config: Value, observed: DateTime<Utc>) -> Asset {
    serde_json::from_value(json!({
        "id": format!("arn:aws:s3:::{name}"), "provider": "aws", "account": "111111111111",
        "region": "eu-west-1", "resource_type": "AWS::S3::Bucket", "name": name,
        "tags": {"env": if name.starts_with("dev") { "dev" } else { "prod" }},
        "config": config, "observed_at": observed.to_rfc3339()
    }))
    .expect("valid asset")
}

/// The scope of account 111111111111, every region and type.
pub fn scope() -> Scope {
    Scope {
        provider: Provider::Aws,
        accounts: vec!["111111111111".into()],
        regions: None,
        resource_types: None,
        assets: Default::default(),
    }
}

/// An evaluation of `rule` on `asset`.
pub fn evaluation(rule: &str, asset: &Asset, status: Status) -> Evaluation {
    Evaluation {
        rule_id: rule.into(),
        asset_id: asset.id.as_str().into(),
        status,
        message: format!("{rule} is {status}").into(),
        evidence: BTreeMap::from([("config.Versioning.Status".to_owned(), json!("x"))]),
    }
}

/// Runs one whole scan.
pub fn scan(
    store: &mut SqliteStore,
    when: DateTime<Utc>,
    assets: &[Asset],
    evaluations: &[Evaluation],
    errors: &[CollectionError],
) -> ScanOutput {
    let id = store
        .begin_scan(&scope(), "test", when)
        .expect("begin scan");
    store
        .finish_scan(id, assets, evaluations, &|_| Severity::High, errors, when)
        .expect("finish scan")
}
